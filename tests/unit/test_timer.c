/* test_timer.c — the hashed timer wheel on its own (no stack): arm, cancel,
 * re-arm, firing order, exact firing times, timers more than one revolution
 * (512 ms) out, big jumps, callbacks that re-arm themselves or others, exact
 * timer_next, and a long random run against a model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dataplane/timer.h"

#define MS 1000000ull
#define T0 (1000 * MS) /* the wheel starts at 1 s */

struct tt {
	struct skiff_timer t;
	int id;
	unsigned fired;
	uint64_t fired_at;     /* `now` passed to the last callback */
	uint64_t period;       /* re-arm by this much when nonzero */
	unsigned max_fires;    /* stop re-arming after this many (0: forever) */
	struct tt *arm_other;  /* arm this one at now + other_delay when fired */
	uint64_t other_delay;
};

static int log_ids[256];
static uint64_t log_when[256];
static unsigned nlog;
static struct skiff_timer_wheel W;

static void cb(struct skiff_stack *st, struct skiff_timer *t, uint64_t now)
{
	struct tt *x = (struct tt *)((char *)t - offsetof(struct tt, t));
	assert_null(st);
	assert_false(skiff_timer_armed(t)); /* unlinked before the callback */
	assert_true(t->expires <= now);
	x->fired++;
	x->fired_at = now;
	if (nlog < 256) {
		log_ids[nlog] = x->id;
		log_when[nlog] = t->expires;
		nlog++;
	}
	if (x->period && (!x->max_fires || x->fired < x->max_fires))
		skiff_timer_arm(&W, t, t->expires + x->period);
	if (x->arm_other)
		skiff_timer_arm(&W, &x->arm_other->t, now + x->other_delay);
}

static void tt_init(struct tt *x, int id)
{
	memset(x, 0, sizeof(*x));
	skiff_timer_init(&x->t, cb);
	x->id = id;
}

static int setup(void **state)
{
	(void)state;
	skiff_timer_wheel_init(&W, T0);
	nlog = 0;
	return 0;
}

/* Run in 1 ms steps up to `until`, as a poll loop would. */
static unsigned run_steps(uint64_t from, uint64_t until, uint64_t step)
{
	unsigned n = 0;
	for (uint64_t now = from; now <= until; now += step)
		n += skiff_timer_run(NULL, &W, now);
	return n;
}

static void test_arm_fire_exact(void **state)
{
	struct tt a;
	(void)state;
	tt_init(&a, 1);
	assert_false(skiff_timer_armed(&a.t));
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
	skiff_timer_arm(&W, &a.t, T0 + 5 * MS + 300);
	assert_true(skiff_timer_armed(&a.t));
	assert_int_equal(skiff_timer_next(&W), T0 + 5 * MS + 300);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 5 * MS), 0);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 5 * MS + 299), 0); /* same tick, not yet */
	assert_int_equal(a.fired, 0);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 5 * MS + 300), 1);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, T0 + 5 * MS + 300);
	assert_false(skiff_timer_armed(&a.t));
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
	/* fires once only */
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 100 * MS), 0);
	assert_int_equal(a.fired, 1);
}

static void test_cancel_and_rearm(void **state)
{
	struct tt a, b;
	(void)state;
	tt_init(&a, 1);
	tt_init(&b, 2);
	skiff_timer_arm(&W, &a.t, T0 + 10 * MS);
	skiff_timer_arm(&W, &b.t, T0 + 10 * MS);
	skiff_timer_cancel(&W, &a.t);
	assert_false(skiff_timer_armed(&a.t));
	skiff_timer_cancel(&W, &a.t); /* cancelling twice is harmless */
	assert_int_equal(run_steps(T0, T0 + 20 * MS, MS), 1);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);

	/* re-arm moves an armed timer: only the new time counts */
	skiff_timer_arm(&W, &a.t, T0 + 30 * MS);
	skiff_timer_arm(&W, &a.t, T0 + 50 * MS);
	assert_int_equal(run_steps(T0 + 21 * MS, T0 + 49 * MS, MS), 0);
	assert_int_equal(run_steps(T0 + 50 * MS, T0 + 60 * MS, MS), 1);
	assert_int_equal(a.fired, 1);
	assert_int_equal(a.fired_at, T0 + 50 * MS);
	/* and earlier */
	skiff_timer_arm(&W, &a.t, T0 + 90 * MS);
	skiff_timer_arm(&W, &a.t, T0 + 70 * MS);
	assert_int_equal(run_steps(T0 + 61 * MS, T0 + 100 * MS, MS), 1);
	assert_int_equal(a.fired_at, T0 + 70 * MS);
	/* cancelling the only timer resets timer_next */
	skiff_timer_arm(&W, &a.t, T0 + 200 * MS);
	assert_int_equal(skiff_timer_next(&W), T0 + 200 * MS);
	skiff_timer_cancel(&W, &a.t);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 300 * MS), 0);
}

static void test_order(void **state)
{
	struct tt t[6];
	static const uint64_t at[6] = { 9 * MS, 3 * MS, 5 * MS + 500, 40 * MS, 1 * MS, 17 * MS };
	static const int want[6] = { 4, 1, 2, 0, 5, 3 };
	(void)state;
	for (int i = 0; i < 6; i++) {
		tt_init(&t[i], i);
		skiff_timer_arm(&W, &t[i].t, T0 + at[i]);
	}
	/* one run covering all of them: fired in expiry order (within one revolution) */
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 50 * MS), 6);
	assert_int_equal(nlog, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(log_ids[i], want[i]);
	/* the same with a 1 ms poll loop: each fires in its own tick, never early */
	nlog = 0;
	for (int i = 0; i < 6; i++)
		skiff_timer_arm(&W, &t[i].t, T0 + 100 * MS + at[i]);
	assert_int_equal(run_steps(T0 + 51 * MS, T0 + 150 * MS, MS), 6);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(log_ids[i], want[i]);
		assert_true(t[log_ids[i]].fired_at >= T0 + 100 * MS + at[log_ids[i]]);
		assert_true(t[log_ids[i]].fired_at < T0 + 100 * MS + at[log_ids[i]] + MS);
	}
}

static void test_far_future(void **state)
{
	struct tt a, b, c;
	(void)state;
	tt_init(&a, 1);
	tt_init(&b, 2);
	tt_init(&c, 3);
	/* 2.5 revolutions, 30 s (ARP/reassembly scale), and a near one in the same slot as a */
	skiff_timer_arm(&W, &a.t, T0 + 1300 * MS);
	skiff_timer_arm(&W, &b.t, T0 + 30000 * MS);
	skiff_timer_arm(&W, &c.t, T0 + (1300 - 1024) * MS); /* same slot as a, two revolutions earlier */
	assert_int_equal(run_steps(T0, T0 + 275 * MS, MS), 0);
	assert_int_equal(run_steps(T0 + 276 * MS, T0 + 276 * MS, MS), 1);
	assert_int_equal(c.fired, 1);
	/* a passes its slot twice without firing */
	assert_int_equal(run_steps(T0 + 277 * MS, T0 + 1299 * MS, MS), 0);
	assert_int_equal(a.fired, 0);
	assert_int_equal(run_steps(T0 + 1300 * MS, T0 + 1300 * MS, MS), 1);
	assert_int_equal(a.fired, 1);
	/* b with coarse polling (every 7 ms, not a divisor of the slot count) */
	assert_int_equal(run_steps(T0 + 1301 * MS, T0 + 29999 * MS, 7 * MS), 0);
	assert_int_equal(b.fired, 0);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 30000 * MS), 1);
	assert_int_equal(b.fired, 1);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
}

/* The caller may sleep for a long time: one run far past several expiries fires all. */
static void test_big_jump(void **state)
{
	struct tt t[4];
	(void)state;
	for (int i = 0; i < 4; i++) {
		tt_init(&t[i], i);
		skiff_timer_arm(&W, &t[i].t, T0 + (uint64_t)(i + 1) * 700 * MS);
	}
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 2000 * MS), 2);
	assert_int_equal(t[0].fired + t[1].fired, 2);
	assert_int_equal(t[2].fired + t[3].fired, 0);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 100000 * MS), 2);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].fired, 1);
	/* jumps of one revolution and more: a timer in any slot of the window fires,
	 * the window's first slot included */
	{
		static const uint64_t jumps[] = { 512, 513, 600, 1023, 1024, 1025, 3000 };
		uint64_t base = T0 + 200000 * MS;
		assert_int_equal(skiff_timer_run(NULL, &W, base), 0);
		for (size_t j = 0; j < sizeof(jumps) / sizeof(jumps[0]); j++) {
			const uint64_t J = jumps[j];
			const uint64_t xs[] = { 1, 5, J - 512, J - 511, J - 510, J - 1, J };
			for (size_t k = 0; k < sizeof(xs) / sizeof(xs[0]); k++) {
				struct tt x;
				if (xs[k] == 0)
					continue;
				tt_init(&x, 99);
				skiff_timer_arm(&W, &x.t, base + xs[k] * MS);
				assert_int_equal(skiff_timer_run(NULL, &W, base + J * MS), 1);
				assert_int_equal(x.fired, 1);
				base += J * MS;
			}
		}
	}
	/* arming in the past fires on the next run */
	skiff_timer_arm(&W, &t[0].t, T0);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 100000 * MS), 1);
	assert_int_equal(t[0].fired, 2);
}

static void test_periodic_rearm(void **state)
{
	struct tt p, q, r;
	(void)state;
	tt_init(&p, 1);
	tt_init(&q, 2);
	tt_init(&r, 3);
	p.period = 7 * MS;
	skiff_timer_arm(&W, &p.t, T0 + 7 * MS);
	q.period = 3 * MS;
	q.max_fires = 5;
	skiff_timer_arm(&W, &q.t, T0 + 3 * MS);
	/* 1 ms poll loop for 100 ms: p at 7,14,...,98 → 14 times; q 5 times */
	run_steps(T0 + MS, T0 + 100 * MS, MS);
	assert_int_equal(p.fired, 14);
	assert_int_equal(q.fired, 5);
	assert_false(skiff_timer_armed(&q.t));
	assert_true(skiff_timer_armed(&p.t));
	assert_int_equal(p.t.expires, T0 + 105 * MS);
	/* a re-arm within the same run: a 1-tick period caught up in one jump fires
	 * once per run (the re-armed expiry is after now), not in a loop */
	skiff_timer_cancel(&W, &p.t);
	r.period = 1 * MS;
	skiff_timer_arm(&W, &r.t, T0 + 101 * MS);
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 101 * MS), 1);
	assert_int_equal(r.t.expires, T0 + 102 * MS);
	skiff_timer_cancel(&W, &r.t);
	/* a callback arming another timer that is already due fires it in the same run */
	tt_init(&p, 4);
	tt_init(&q, 5);
	p.arm_other = &q;
	p.other_delay = 0;
	skiff_timer_arm(&W, &p.t, T0 + 200 * MS);
	nlog = 0;
	assert_int_equal(skiff_timer_run(NULL, &W, T0 + 200 * MS), 2);
	assert_int_equal(nlog, 2);
	assert_int_equal(log_ids[0], 4);
	assert_int_equal(log_ids[1], 5);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
}

static void test_timer_next(void **state)
{
	struct tt a, b;
	uint64_t n;
	(void)state;
	tt_init(&a, 1);
	tt_init(&b, 2);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
	skiff_timer_arm(&W, &a.t, T0 + 50 * MS);
	skiff_timer_arm(&W, &b.t, T0 + 20 * MS);
	assert_int_equal(skiff_timer_next(&W), T0 + 20 * MS);
	skiff_timer_run(NULL, &W, T0 + 20 * MS);
	assert_int_equal(b.fired, 1);
	/* exact after a run (timer.h: the exact earliest expiry) */
	n = skiff_timer_next(&W);
	assert_int_equal(n, T0 + 50 * MS);
	/* sleeping exactly until then fires it */
	assert_int_equal(skiff_timer_run(NULL, &W, n - 1), 0);
	assert_int_equal(skiff_timer_run(NULL, &W, n), 1);
	assert_int_equal(a.fired, 1);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
	/* an earlier arm lowers it; cancelling the earliest raises it again */
	skiff_timer_arm(&W, &a.t, T0 + 900 * MS + 7);
	skiff_timer_arm(&W, &b.t, T0 + 800 * MS + 3);
	assert_int_equal(skiff_timer_next(&W), T0 + 800 * MS + 3);
	skiff_timer_cancel(&W, &b.t);
	assert_int_equal(skiff_timer_next(&W), T0 + 900 * MS + 7);
	/* re-arming the earliest later: the next one takes over */
	skiff_timer_arm(&W, &b.t, T0 + 850 * MS);
	skiff_timer_arm(&W, &b.t, T0 + 5000 * MS);
	assert_int_equal(skiff_timer_next(&W), T0 + 900 * MS + 7);
	/* only timers more than one revolution out */
	skiff_timer_cancel(&W, &a.t);
	assert_int_equal(skiff_timer_next(&W), T0 + 5000 * MS);
	skiff_timer_cancel(&W, &b.t);
	assert_int_equal(skiff_timer_next(&W), UINT64_MAX);
}

/* Random arm/cancel/run against a model: after every step, each timer fired
 * exactly when due, and timer_next is the minimum armed expiry. */
#define NMODEL 64
static struct tt mt[NMODEL];
static bool m_armed[NMODEL];
static uint64_t m_exp[NMODEL];

static uint64_t model_next(void)
{
	uint64_t m = UINT64_MAX;
	for (int i = 0; i < NMODEL; i++)
		if (m_armed[i] && m_exp[i] < m)
			m = m_exp[i];
	return m;
}

static void test_random_against_model(void **state)
{
	uint64_t now = T0, seed = 0x12345678abcdefull;
	(void)state;
	for (int i = 0; i < NMODEL; i++) {
		tt_init(&mt[i], i);
		m_armed[i] = false;
	}
	for (int step = 0; step < 200000; step++) {
		uint64_t r;
		int i;
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		r = seed;
		i = (int)(r % NMODEL);
		switch ((r >> 8) % 8) {
		case 0:
		case 1:
		case 2: { /* arm: near, far, or in the past */
			uint64_t kind = (r >> 16) % 10, e;
			if (kind < 6)
				e = now + ((r >> 24) % (600 * MS));
			else if (kind < 9)
				e = now + ((r >> 24) % (5000 * MS));
			else
				e = now - ((r >> 24) % (3 * MS)) - 1;
			skiff_timer_arm(&W, &mt[i].t, e);
			m_armed[i] = true;
			m_exp[i] = e;
			break;
		}
		case 3:
			skiff_timer_cancel(&W, &mt[i].t);
			m_armed[i] = false;
			break;
		default: { /* run after a step of time: small, a few ms, or a long sleep */
			uint64_t kind = (r >> 16) % 16, adv;
			unsigned before[NMODEL], want = 0, got;
			adv = kind < 10 ? (r >> 24) % (2 * MS) : kind < 15 ? (r >> 24) % (80 * MS) : (r >> 24) % (3000 * MS);
			now += adv;
			for (int k = 0; k < NMODEL; k++) {
				before[k] = mt[k].fired;
				if (m_armed[k] && m_exp[k] <= now)
					want++;
			}
			got = skiff_timer_run(NULL, &W, now);
			if (got != want)
				fail_msg("step %d: fired %u want %u", step, got, want);
			for (int k = 0; k < NMODEL; k++) {
				bool due = m_armed[k] && m_exp[k] <= now;
				if (mt[k].fired != before[k] + (due ? 1u : 0u))
					fail_msg("step %d: timer %d fired %u→%u, due %d", step, k, before[k], mt[k].fired, due);
				if (due)
					m_armed[k] = false;
				assert_int_equal(skiff_timer_armed(&mt[k].t), m_armed[k]);
			}
			break;
		}
		}
		if (skiff_timer_next(&W) != model_next())
			fail_msg("step %d: next %llu want %llu", step, (unsigned long long)skiff_timer_next(&W),
				 (unsigned long long)model_next());
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_arm_fire_exact, setup),
		cmocka_unit_test_setup(test_cancel_and_rearm, setup),
		cmocka_unit_test_setup(test_order, setup),
		cmocka_unit_test_setup(test_far_future, setup),
		cmocka_unit_test_setup(test_big_jump, setup),
		cmocka_unit_test_setup(test_periodic_rearm, setup),
		cmocka_unit_test_setup(test_timer_next, setup),
		cmocka_unit_test_setup(test_random_against_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
