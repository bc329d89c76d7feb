/* test_tcp_cc.c — congestion control on its own (no stack): initial windows,
 * slow start doubling per RTT, NewReno's +1 SMSS per RTT, reductions on
 * congestion and RTO, NewReno recovery (inflation, partial and full ACKs), the
 * CUBIC curve against the real-valued RFC 9438 formula, its concave and convex
 * halves, the Reno-friendly region, fast convergence, application-limited and
 * idle time kept out of t, restart windows, SMSS changes, name lookup, the
 * integer cube root and saturation with absurd inputs.
 *
 * The sender is simulated one RTT at a time: it keeps the window full (inflight
 * = cwnd on every ACK) and the ACKs for one window arrive evenly spread over
 * the RTT, one per `per` segments. Reference curves are computed here in double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/tcp_cc.h"

#define MSS 1460u
#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (5 * SEC)

/* algos(0): NewReno, algos(1): CUBIC */
static const struct skiff_tcp_cc_ops *algos(int a) { return a ? skiff_tcp_cc_cubic() : skiff_tcp_cc_newreno(); }

static void setup_cc(struct skiff_tcp_cc *cc, const struct skiff_tcp_cc_ops *ops, uint32_t mss)
{
	memset(cc, 0xa5, sizeof(*cc)); /* init must not depend on prior contents */
	assert_int_equal(skiff_tcp_cc_init(cc, ops, mss, T0), 0);
}

/* One RTT of a sender that keeps its window full (what an ACK acknowledges was
 * part of a full window: FlightSize after it is cwnd - acked), with the RTT
 * estimates the connection would pass. An ACK never shrinks cwnd. */
static void round_trip_est(struct skiff_tcp_cc *cc, uint64_t *now, uint64_t rtt, unsigned per, uint64_t srtt,
			   uint64_t min_rtt)
{
	uint32_t left = cc->cwnd;
	uint32_t nseg = (left + cc->mss - 1) / cc->mss;
	uint32_t nack = (nseg + per - 1) / per;
	uint64_t t0 = *now;
	for (uint32_t i = 0; i < nack; i++) {
		uint32_t a = per * cc->mss < left ? per * cc->mss : left;
		uint32_t before = cc->cwnd;
		left -= a;
		cc->ops->on_ack(cc, a, before > a ? before - a : 0, srtt, min_rtt, t0 + rtt * (i + 1) / nack);
		if (cc->cwnd < before)
			fail_msg("ACK shrank cwnd %u -> %u", before, cc->cwnd);
	}
	*now = t0 + rtt;
}

/* min_rtt differs from srtt so that using the wrong one shows (RFC 9438 4.2
 * uses the smoothed RTT in W_cubic(t + RTT)) */
static void round_trip(struct skiff_tcp_cc *cc, uint64_t *now, uint64_t rtt, unsigned per)
{
	round_trip_est(cc, now, rtt, per, rtt, rtt / 2);
}

static double dabs(double x) { return x < 0 ? -x : x; }

static double dcbrt(double x)
{
	double y = x > 1 ? x / 3 : 1;
	if (x <= 0)
		return 0;
	for (int i = 0; i < 200; i++)
		y -= (y * y * y - x) / (3 * y * y);
	return y;
}

/* RFC 9438 Figure 1/2 in bytes, t and K in seconds. */
static double w_ref(double t, double k, double wmax, double mss)
{
	return 0.4 * (t - k) * (t - k) * (t - k) * mss + wmax;
}

/* ---- initial window, slow start, NewReno congestion avoidance ---- */

static void test_initial_window(void **state)
{
	struct skiff_tcp_cc cc;
	(void)state;
	/* RFC 6928 2: min(10*MSS, max(2*MSS, 14600)) */
	assert_int_equal(skiff_tcp_cc_iw(536), 5360);
	assert_int_equal(skiff_tcp_cc_iw(1460), 14600);
	assert_int_equal(skiff_tcp_cc_iw(8960), 17920);
	assert_int_equal(skiff_tcp_cc_iw(1000), 10000);
	assert_int_equal(skiff_tcp_cc_iw(4000), 14600);
	for (int a = 0; a < 2; a++) {
		static const uint32_t mss[3] = { 536, 1460, 8960 };
		static const uint32_t iw[3] = { 5360, 14600, 17920 };
		for (int i = 0; i < 3; i++) {
			setup_cc(&cc, algos(a), mss[i]);
			assert_ptr_equal(cc.ops, algos(a));
			assert_int_equal(cc.mss, mss[i]);
			assert_int_equal(cc.cwnd, iw[i]);
			assert_int_equal(cc.ssthresh, UINT32_MAX);
			assert_int_equal(cc.bytes_acked, 0);
			assert_true(skiff_tcp_cc_in_slow_start(&cc));
		}
		/* the SYN was retransmitted: one segment (RFC 5681 3.1) */
		skiff_tcp_cc_syn_lost(&cc);
		assert_int_equal(cc.cwnd, 8960);
	}
	/* bad arguments */
	assert_int_equal(skiff_tcp_cc_init(&cc, skiff_tcp_cc_cubic(), 0, T0), -EINVAL);
	assert_int_equal(skiff_tcp_cc_init(&cc, skiff_tcp_cc_cubic(), SKIFF_TCP_CC_MSS_MIN - 1, T0), -EINVAL);
	assert_int_equal(skiff_tcp_cc_init(&cc, skiff_tcp_cc_cubic(), 65536, T0), -EINVAL);
	assert_int_equal(skiff_tcp_cc_init(&cc, NULL, 1460, T0), -EINVAL);
	assert_int_equal(skiff_tcp_cc_init(NULL, skiff_tcp_cc_cubic(), 1460, T0), -EINVAL);
	assert_int_equal(skiff_tcp_cc_init(&cc, skiff_tcp_cc_cubic(), SKIFF_TCP_CC_MSS_MIN, T0), 0);
	assert_int_equal(cc.cwnd, 640); /* 64-byte segments: 10*MSS < 14600 */
}

static void test_slow_start_doubles(void **state)
{
	struct skiff_tcp_cc cc;
	uint64_t now;
	(void)state;
	for (int a = 0; a < 2; a++) {
		for (unsigned per = 1; per <= 2; per++) {
			setup_cc(&cc, algos(a), MSS);
			now = T0;
			uint32_t w = cc.cwnd;
			for (int r = 0; r < 8; r++) {
				round_trip(&cc, &now, 100 * MS, per);
				w *= 2;
				assert_int_equal(cc.cwnd, w); /* exactly doubled, per-segment or delayed ACKs */
			}
			assert_int_equal(cc.cwnd, 14600u << 8);
		}
		/* L = 2*SMSS: one ACK for 3 segments adds 2 segments (RFC 3465 2.2) */
		setup_cc(&cc, algos(a), MSS);
		cc.ops->on_ack(&cc, 3 * MSS, cc.cwnd - (3 * MSS), 0, 0, T0 + MS);
		assert_int_equal(cc.cwnd, 14600 + 2 * MSS);
		/* a sub-MSS ACK adds what it acknowledged */
		cc.ops->on_ack(&cc, 100, cc.cwnd - 100, 0, 0, T0 + 2 * MS);
		assert_int_equal(cc.cwnd, 14600 + 2 * MSS + 100);
		/* crossing ssthresh: cwnd stops at ssthresh, the rest is counted in CA */
		setup_cc(&cc, algos(a), MSS);
		cc.ssthresh = cc.cwnd + 1000;
		cc.ops->on_ack(&cc, 2 * MSS, cc.cwnd - (2 * MSS), 100 * MS, 100 * MS, T0 + MS);
		if (algos(a) == skiff_tcp_cc_newreno()) {
			assert_int_equal(cc.cwnd, 15600);
			assert_int_equal(cc.bytes_acked, 2 * MSS - 1000);
		} else {
			assert_true(cc.cwnd >= 15600 && cc.cwnd < 15600 + MSS);
			assert_true(cc.u.cubic.in_epoch); /* the leftover started the CA stage */
			/* slow start left without loss: cwnd_prior = cwnd, K = 0 (4.10) */
			assert_int_equal(cc.u.cubic.cwnd_prior, 15600);
			assert_int_equal(cc.u.cubic.w_max, 15600);
			assert_int_equal(cc.u.cubic.k, 0);
		}
		assert_false(skiff_tcp_cc_in_slow_start(&cc));
		/* reaching ssthresh exactly: what the L cap left over still counts */
		setup_cc(&cc, algos(a), MSS);
		cc.ssthresh = cc.cwnd + 2 * MSS;
		cc.ops->on_ack(&cc, 3 * MSS, cc.cwnd - (3 * MSS), 100 * MS, 100 * MS, T0 + MS);
		if (algos(a) == skiff_tcp_cc_newreno()) {
			assert_int_equal(cc.cwnd, 14600 + 2 * MSS);
			assert_int_equal(cc.bytes_acked, MSS);
		} else {
			assert_true(cc.u.cubic.in_epoch);
		}
	}
}

static void test_newreno_ca_linear(void **state)
{
	struct skiff_tcp_cc cc;
	uint64_t now = T0;
	(void)state;
	for (unsigned per = 1; per <= 2; per++) {
		setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
		cc.cwnd = 20 * MSS;
		cc.ssthresh = 20 * MSS;
		for (unsigned r = 1; r <= 30; r++) {
			round_trip(&cc, &now, 50 * MS, per);
			assert_int_equal(cc.cwnd, (20 + r) * MSS); /* +1 SMSS per RTT, exactly */
		}
	}
	/* per-ACK view: the SMSS comes when a full cwnd of bytes has been acked */
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 10 * MSS;
	cc.ssthresh = 5 * MSS;
	for (int i = 0; i < 9; i++) {
		cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, 0, 0, now);
		assert_int_equal(cc.cwnd, 10 * MSS);
	}
	cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, 0, 0, now);
	assert_int_equal(cc.cwnd, 11 * MSS);
	assert_int_equal(cc.bytes_acked, 0);
}

static void test_app_limited_no_growth(void **state)
{
	struct skiff_tcp_cc cc;
	(void)state;
	for (int a = 0; a < 2; a++) {
		/* slow start: less than half the window was in flight (4 of 10 SMSS:
		 * the acknowledged one and 3 left) */
		setup_cc(&cc, algos(a), MSS);
		cc.ops->on_ack(&cc, MSS, 3 * MSS, 0, 0, T0 + MS);
		assert_int_equal(cc.cwnd, 14600);
		cc.ops->on_ack(&cc, MSS, 4 * MSS, 0, 0, T0 + 2 * MS); /* half: validated */
		assert_int_equal(cc.cwnd, 14600 + MSS);
		/* congestion avoidance: all but less than one SMSS must be in flight */
		cc.cwnd = 40 * MSS;
		cc.ssthresh = 20 * MSS;
		for (int i = 0; i < 200; i++) /* 38 of 40 SMSS were outstanding */
			cc.ops->on_ack(&cc, MSS, 37 * MSS, 10 * MS, 10 * MS, T0 + (3 + (uint64_t)i) * MS);
		assert_int_equal(cc.cwnd, 40 * MSS);
		cc.ops->on_ack(&cc, 0, 40 * MSS, 10 * MS, 10 * MS, T0 + 300 * MS); /* nothing acked */
		assert_int_equal(cc.cwnd, 40 * MSS);
		/* a sender cannot fill the last partial segment: that counts as used */
		cc.cwnd = 40 * MSS + 500;
		for (int i = 0; i < 200; i++)
			cc.ops->on_ack(&cc, MSS, 39 * MSS, 10 * MS, 10 * MS, T0 + (301 + (uint64_t)i) * MS);
		assert_true(cc.cwnd > 40 * MSS + 500);
	}
}

/* ---- congestion, recovery, RTO ---- */

static void test_congestion_reduction(void **state)
{
	struct skiff_tcp_cc cc;
	(void)state;
	/* NewReno: RFC 5681 (4) ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh */
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 24 * MSS;
	cc.ops->on_congestion(&cc, 20 * MSS, T0);
	assert_int_equal(cc.ssthresh, 10 * MSS);
	assert_int_equal(cc.cwnd, 10 * MSS);
	cc.ops->on_congestion(&cc, 3 * MSS, T0);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, 2 * MSS);
	cc.ops->on_congestion(&cc, 21 * MSS + 1, T0);
	assert_int_equal(cc.ssthresh, (21 * MSS + 1) / 2);

	/* CUBIC: RFC 9438 4.6 ssthresh = max(FlightSize*0.7, 2*SMSS); W_max = cwnd */
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.cwnd = 24 * MSS;
	cc.ops->on_congestion(&cc, 20 * MSS, T0);
	assert_int_equal(cc.ssthresh, 14 * MSS);
	assert_int_equal(cc.cwnd, 14 * MSS);
	assert_int_equal(cc.u.cubic.w_max, 24 * MSS);
	assert_int_equal(cc.u.cubic.cwnd_prior, 24 * MSS);
	assert_false(cc.u.cubic.in_epoch);
	cc.ops->on_congestion(&cc, 2 * MSS, T0);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, 2 * MSS);
	cc.ops->on_congestion(&cc, 0, T0);
	assert_int_equal(cc.cwnd, 2 * MSS);
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.ops->on_congestion(&cc, 1000 * MSS, T0);
	assert_int_equal(cc.ssthresh, 700 * MSS);
}

/* RFC 6582 recovery driven by the connection: 10 segments in flight, the 1st
 * and the 5th lost. */
static void test_newreno_partial_full_ack(void **state)
{
	struct skiff_tcp_cc cc;
	(void)state;
	for (int a = 0; a < 2; a++) {
		setup_cc(&cc, algos(a), MSS);
		cc.cwnd = 10 * MSS;
		cc.ssthresh = 64 * MSS;
		/* third dupack: enter recovery, cwnd = ssthresh + 3*SMSS (RFC 5681 3.2 step 3) */
		cc.ops->on_congestion(&cc, 10 * MSS, T0);
		uint32_t ss = algos(a) == skiff_tcp_cc_newreno() ? 5 * MSS : 7 * MSS;
		assert_int_equal(cc.ssthresh, ss);
		assert_int_equal(cc.cwnd, ss);
		skiff_tcp_cc_inflate(&cc, 3);
		assert_int_equal(cc.cwnd, ss + 3 * MSS);
		/* segments 6..10 arrive: 5 more dupacks, +1 SMSS each (step 4) */
		for (int i = 0; i < 5; i++)
			skiff_tcp_cc_inflate(&cc, 1);
		assert_int_equal(cc.cwnd, ss + 8 * MSS);
		/* the retransmitted 1st fills up to the 5th: partial ACK of 4 segments;
		 * deflate by 4, add back one (RFC 6582 3.2 step 3) */
		skiff_tcp_cc_partial_ack(&cc, 4 * MSS);
		assert_int_equal(cc.cwnd, ss + 5 * MSS);
		/* a partial ACK below one SMSS adds nothing back */
		skiff_tcp_cc_partial_ack(&cc, 500);
		assert_int_equal(cc.cwnd, ss + 5 * MSS - 500);
		/* full ACK, option (1): min(ssthresh, max(FlightSize, SMSS) + SMSS) */
		cc.bytes_acked = MSS;
		cc.ops->on_recovery_exit(&cc, 2 * MSS, T0 + 100 * MS);
		assert_int_equal(cc.cwnd, 3 * MSS);
		assert_int_equal(cc.bytes_acked, 0); /* CA counting starts afresh */
		cc.ops->on_recovery_exit(&cc, 9 * MSS, T0 + 100 * MS);
		assert_int_equal(cc.cwnd, ss);
		cc.ops->on_recovery_exit(&cc, 0, T0 + 100 * MS);
		assert_int_equal(cc.cwnd, 2 * MSS);
		assert_int_equal(cc.ssthresh, ss); /* untouched by the exit */
		/* deflation never goes below 2*SMSS */
		cc.cwnd = 3 * MSS;
		skiff_tcp_cc_partial_ack(&cc, 50 * MSS);
		assert_int_equal(cc.cwnd, 2 * MSS);
	}
}

static void test_rto(void **state)
{
	struct skiff_tcp_cc cc;
	uint64_t now = T0;
	(void)state;
	/* NewReno: ssthresh by (4), cwnd = LW = 1 SMSS, slow start back */
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 20 * MSS;
	cc.bytes_acked = 5 * MSS;
	cc.ops->on_rto(&cc, 20 * MSS, now);
	assert_int_equal(cc.ssthresh, 10 * MSS);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.bytes_acked, 0);
	static const uint32_t want[6] = { 2, 4, 8, 10, 11, 12 };
	for (int r = 0; r < 6; r++) {
		round_trip(&cc, &now, 50 * MS, 1);
		assert_int_equal(cc.cwnd, want[r] * MSS);
	}
	cc.ops->on_rto(&cc, 3 * MSS, now);
	assert_int_equal(cc.ssthresh, 2 * MSS);
	assert_int_equal(cc.cwnd, MSS);

	/* CUBIC: ssthresh by 4.6, cwnd 1 SMSS, then CA with K = 0, W_max = cwnd_epoch (4.8) */
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.cwnd = 20 * MSS;
	cc.ops->on_congestion(&cc, 20 * MSS, now); /* a W_max to forget */
	assert_int_equal(cc.u.cubic.w_max, 20 * MSS);
	cc.cwnd = 30 * MSS;
	cc.ops->on_rto(&cc, 30 * MSS, now);
	assert_int_equal(cc.ssthresh, 21 * MSS);
	assert_int_equal(cc.cwnd, MSS);
	assert_int_equal(cc.u.cubic.w_max, 0);
	assert_false(cc.u.cubic.in_epoch);
	for (int r = 0; r < 4; r++)
		round_trip(&cc, &now, 50 * MS, 1);
	assert_int_equal(cc.cwnd, 16 * MSS); /* 1, 2, 4, 8, 16 */
	assert_false(cc.u.cubic.in_epoch);
	round_trip(&cc, &now, 50 * MS, 1); /* reaches ssthresh after 5 ACKs: CA from the 6th */
	assert_true(cc.u.cubic.in_epoch);
	assert_int_equal(cc.u.cubic.k, 0);
	assert_int_equal(cc.u.cubic.w_max, 21 * MSS);
	assert_int_equal(cc.u.cubic.cwnd_epoch, 21 * MSS);
	assert_true(cc.cwnd >= 21 * MSS);

	/* a CA stage starting above the last W_max: K = 0, W_max = cwnd_epoch
	 * (the curve is convex from the start, 4.8/4.10's rule) */
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.cwnd = 100 * MSS;
	cc.ssthresh = 50 * MSS;
	cc.u.cubic.w_max = 60 * MSS;
	cc.u.cubic.cwnd_prior = 80 * MSS;
	cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, 50 * MS, 50 * MS, now);
	assert_true(cc.u.cubic.in_epoch);
	assert_int_equal(cc.u.cubic.k, 0);
	assert_int_equal(cc.u.cubic.w_max, 100 * MSS);
	assert_int_equal(cc.u.cubic.cwnd_prior, 80 * MSS);
	assert_true(cc.cwnd >= 100 * MSS && cc.cwnd < 101 * MSS);
}

/* ---- CUBIC ---- */

/* A CUBIC sender in CA that had a loss at cwnd = w_max segments; recovery
 * lasts one RTT and exits with the whole ssthresh outstanding. Returns the
 * time of the first ACK of the CA stage (t = 0). */
static uint64_t cubic_after_loss(struct skiff_tcp_cc *cc, uint32_t w_max_segs, uint64_t *now, uint64_t rtt)
{
	setup_cc(cc, skiff_tcp_cc_cubic(), MSS);
	cc->cwnd = w_max_segs * MSS;
	cc->ssthresh = w_max_segs * MSS / 2;
	cc->ops->on_congestion(cc, cc->cwnd, *now);
	*now += rtt;
	cc->ops->on_recovery_exit(cc, cc->ssthresh, *now);
	assert_int_equal(cc->cwnd, cc->ssthresh);
	/* the next ACK is the first of the CA stage */
	return *now + rtt / (cc->cwnd / MSS);
}

static void test_cubic_follows_curve(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0, t_start;
	const double wmax = 1000.0 * MSS, w0 = 700.0 * MSS;
	const double k = dcbrt((wmax - w0) / MSS / 0.4); /* 9.0856 s */
	double worst = 0, at_k = -1;
	(void)state;
	t_start = cubic_after_loss(&cc, 1000, &now, rtt);
	assert_int_equal(cc.cwnd, 700 * MSS);
	/* K: exact floor of the integer cube root, within 2^-10 s of the real K */
	round_trip(&cc, &now, rtt, 1);
	assert_true(cc.u.cubic.in_epoch);
	assert_int_equal(cc.u.cubic.epoch_start, t_start);
	assert_true(dabs(cc.u.cubic.k / 1024.0 - k) < 1.0 / 1024);
	assert_true(cc.u.cubic.k / 1024.0 <= k);
	/* then every RTT for 15 s: cwnd(t) stays on W_cubic(t), the real-valued
	 * formula, within 1 SMSS (0.1% of W_max; measured worst: 0.15 SMSS). For
	 * scale: the curve moves by 12 SMSS per RTT at t = 0, so following
	 * W_cubic(t) instead of aiming at W_cubic(t + RTT) would miss by ~8. */
	while (now < t_start + 15 * SEC) {
		round_trip(&cc, &now, rtt, 1);
		double t = (double)(now - t_start) / SEC;
		double err = dabs(cc.cwnd - w_ref(t, k, wmax, MSS));
		if (err > worst)
			worst = err;
		if (err > MSS)
			fail_msg("t=%.3f cwnd %u want %.0f", t, cc.cwnd, w_ref(t, k, wmax, MSS));
		if (at_k < 0 && t >= k)
			at_k = cc.cwnd;
	}
	print_message("cubic curve: worst |cwnd - W_cubic(t)| = %.0f bytes (%.2f SMSS)\n", worst, worst / MSS);
	/* at t = K the window is back at W_max (within one RTT of growth there: ~0) */
	assert_true(dabs(at_k - wmax) <= 2.0 * MSS);
	/* nothing since the first ACK was Reno-friendly: W_est is far below */
	assert_true(cc.u.cubic.w_est < cc.cwnd / 2 + cc.cwnd / 4);
}

static void test_cubic_concave_convex(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0, t_start;
	uint32_t at[16]; /* cwnd at whole seconds 0..15 */
	int n = 0;
	(void)state;
	t_start = cubic_after_loss(&cc, 1000, &now, rtt);
	at[n++] = cc.cwnd;
	while (n < 16) {
		round_trip(&cc, &now, rtt, 1);
		if (now >= t_start + (uint64_t)n * SEC)
			at[n++] = cc.cwnd;
		/* below W_max before K (9.09 s), above after it */
		if (now < t_start + 8 * SEC)
			assert_true(cc.cwnd < 1000 * MSS);
		if (now > t_start + 10 * SEC)
			assert_true(cc.cwnd > 1000 * MSS);
	}
	/* concave: growth per second shrinks as K approaches ... */
	for (int s = 0; s + 2 <= 9; s++)
		if (!(at[s + 1] - at[s] > at[s + 2] - at[s + 1]))
			fail_msg("concave at %d s: %u then %u", s, at[s + 1] - at[s], at[s + 2] - at[s + 1]);
	/* ... nearly flat around K ... */
	assert_true(at[10] - at[9] < 2 * MSS);
	assert_true(at[1] - at[0] > 50 * MSS);
	/* ... convex: growth per second increases after K */
	for (int s = 10; s + 2 <= 15; s++)
		if (!(at[s + 1] - at[s] < at[s + 2] - at[s + 1]))
			fail_msg("convex at %d s: %u then %u", s, at[s + 1] - at[s], at[s + 2] - at[s + 1]);
	assert_true(at[15] - at[14] > 20 * MSS);
}

static void test_cubic_reno_friendly(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 1 * MS; /* small RTT * W: Reno is faster than the curve */
	uint64_t now = T0, t_start;
	double k = dcbrt(6.0 / 0.4); /* W_max 20, cwnd_epoch 14 segments: 2.47 s */
	(void)state;
	t_start = cubic_after_loss(&cc, 20, &now, rtt);
	assert_int_equal(cc.cwnd, 14 * MSS);
	/* while W_est < cwnd_prior (20 SMSS): alpha = 9/17 SMSS per RTT */
	for (int r = 0; r < 10; r++)
		round_trip(&cc, &now, rtt, 1);
	double segs = (double)cc.cwnd / MSS;
	if (dabs(segs - (14 + 10 * 9.0 / 17)) > 0.5)
		fail_msg("after 10 RTTs: %.2f segments, want %.2f", segs, 14 + 10 * 9.0 / 17);
	assert_true(cc.cwnd == cc.u.cubic.w_est);
	/* then alpha = 1: +1 SMSS per RTT, as Reno */
	for (int r = 10; r < 200; r++)
		round_trip(&cc, &now, rtt, 1);
	double t = (double)(now - t_start) / SEC;
	segs = (double)cc.cwnd / MSS;
	double reno = 20 + (200 - 6 / (9.0 / 17)); /* 208.7 */
	if (dabs(segs - reno) > 3)
		fail_msg("after 200 RTTs: %.2f segments, want ~%.1f", segs, reno);
	/* far above the cubic curve, which is still below W_max */
	assert_true(w_ref(t, k, 20.0 * MSS, MSS) < 20.0 * MSS);
	assert_true(cc.cwnd > 8 * w_ref(t, k, 20.0 * MSS, MSS));
	/* one more RTT: exactly one segment more (give or take the denominator) */
	uint32_t before = cc.cwnd;
	round_trip(&cc, &now, rtt, 1);
	assert_true(cc.cwnd - before >= MSS - 10 && cc.cwnd - before <= MSS);
}

static void test_cubic_fast_convergence(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0, t_start;
	uint32_t c2;
	(void)state;
	t_start = cubic_after_loss(&cc, 1000, &now, rtt);
	while (now < t_start + 3 * SEC)
		round_trip(&cc, &now, rtt, 1);
	c2 = cc.cwnd;
	assert_true(c2 > 900 * MSS && c2 < 1000 * MSS); /* concave, below the old W_max */
	/* second loss before reaching W_max: W_max = cwnd * (1 + 0.7)/2 (4.7) */
	cc.ops->on_congestion(&cc, c2, now);
	assert_int_equal(cc.u.cubic.w_max, (uint64_t)c2 * 17 / 20);
	assert_int_equal(cc.u.cubic.cwnd_prior, c2);
	assert_int_equal(cc.ssthresh, (uint64_t)c2 * 7 / 10);
	now += rtt;
	cc.ops->on_recovery_exit(&cc, cc.ssthresh, now);
	uint64_t t2 = now + rtt / (cc.cwnd / MSS);
	round_trip(&cc, &now, rtt, 1);
	/* the new plateau is the lowered W_max: K from (0.85 - 0.7) * cwnd */
	double wmax2 = (double)((uint64_t)c2 * 17 / 20), w0 = (double)((uint64_t)c2 * 7 / 10);
	double k2 = dcbrt((wmax2 - w0) / MSS / 0.4);
	assert_true(dabs(cc.u.cubic.k / 1024.0 - k2) < 1.0 / 1024);
	uint32_t at_k = 0;
	while (now < t2 + (uint64_t)(k2 * SEC) + 2 * SEC) {
		round_trip(&cc, &now, rtt, 1);
		double t = (double)(now - t2) / SEC;
		if (dabs(cc.cwnd - w_ref(t, k2, wmax2, MSS)) > MSS)
			fail_msg("t=%.3f cwnd %u want %.0f", t, cc.cwnd, w_ref(t, k2, wmax2, MSS));
		if (!at_k && t >= k2)
			at_k = cc.cwnd;
	}
	assert_true(dabs(at_k - wmax2) <= 2.0 * MSS);
	assert_true(at_k < c2); /* the flow gave bandwidth away */
	/* a loss above W_max: no reduction of the plateau */
	uint32_t c3 = cc.cwnd;
	assert_true(c3 > cc.u.cubic.w_max);
	cc.ops->on_congestion(&cc, c3, now);
	assert_int_equal(cc.u.cubic.w_max, c3);
}

/* 4.2: the target is at most 1.5 * cwnd, so growth stays below slow start's
 * even far below W_max. */
static void test_cubic_target_cap(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0;
	(void)state;
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.cwnd = 1000 * MSS;
	cc.ssthresh = 500 * MSS;
	cc.ops->on_congestion(&cc, 10 * MSS, now); /* little in flight: cwnd 7 SMSS, W_max 1000 */
	assert_int_equal(cc.cwnd, 7 * MSS);
	now += rtt;
	cc.ops->on_recovery_exit(&cc, 7 * MSS, now);
	/* the first ACK of a stage is Reno-friendly (W_est = cwnd_epoch + a bit >
	 * W_cubic(0) = cwnd_epoch); after it, every ACK aims at 1.5 * cwnd */
	round_trip(&cc, &now, rtt, 1);
	assert_true(cc.cwnd > 10 * MSS && cc.cwnd < 7 * MSS * 3 / 2);
	uint32_t w = cc.cwnd;
	for (int r = 0; r < 4; r++) {
		round_trip(&cc, &now, rtt, 1);
		/* one window of ACKs adds exactly half a window */
		if (dabs(cc.cwnd - 1.5 * w) > 2)
			fail_msg("round %d: %u, want %.0f", r, cc.cwnd, 1.5 * w);
		w = cc.cwnd;
	}
	assert_true(cc.u.cubic.k > 13 * 1024 && cc.u.cubic.k < 14 * 1024);
	/* one ACK for several windows (a stretch ACK) is still held to the target */
	w = cc.cwnd;
	cc.ops->on_ack(&cc, 4 * w, w, rtt, rtt, now + MS);
	assert_true(cc.cwnd > w && cc.cwnd <= w + w / 2);
}

/* The Reno-friendly region sets cwnd to W_est, but an ACK never lowers it. */
static void test_cubic_ack_never_shrinks(void **state)
{
	struct skiff_tcp_cc cc;
	uint64_t now = T0;
	(void)state;
	cubic_after_loss(&cc, 20, &now, MS);
	for (int r = 0; r < 50; r++)
		round_trip(&cc, &now, MS, 1);
	assert_int_equal(cc.cwnd, cc.u.cubic.w_est); /* Reno-friendly */
	cc.cwnd = cc.u.cubic.w_est + 10 * MSS;    /* e.g. after the curve led for a while */
	uint32_t w = cc.cwnd;
	cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, MS, MS, now + 1);
	assert_true(cc.cwnd >= w);
	assert_true(cc.u.cubic.w_est < w);
}

/* Without a smoothed RTT yet, the minimum RTT stands in (srtt_ns = 0). */
static void test_cubic_rtt_fallback(void **state)
{
	struct skiff_tcp_cc a, b, c;
	const uint64_t rtt = 100 * MS;
	uint64_t na = T0, nb = T0, nc = T0;
	(void)state;
	cubic_after_loss(&a, 1000, &na, rtt);
	cubic_after_loss(&b, 1000, &nb, rtt);
	cubic_after_loss(&c, 1000, &nc, rtt);
	for (int r = 0; r < 10; r++) {
		round_trip_est(&a, &na, rtt, 1, rtt, 0);
		round_trip_est(&b, &nb, rtt, 1, 0, rtt);
		round_trip_est(&c, &nc, rtt, 1, 0, 0); /* no estimate at all: target W_cubic(t) */
	}
	assert_int_equal(a.cwnd, b.cwnd);
	assert_true(c.cwnd + 5 * MSS < a.cwnd);
}

/* Application-limited time is not part of t (RFC 9438 5.8, 4.2). */
static void test_cubic_app_limited_time(void **state)
{
	struct skiff_tcp_cc a, b, c;
	const uint64_t rtt = 100 * MS;
	uint64_t na = T0, nb = T0, nc = T0, ta;
	(void)state;
	cubic_after_loss(&a, 1000, &na, rtt);
	cubic_after_loss(&b, 1000, &nb, rtt);
	cubic_after_loss(&c, 1000, &nc, rtt);
	for (int r = 0; r < 10; r++) {
		round_trip(&a, &na, rtt, 1);
		round_trip(&b, &nb, rtt, 1);
		round_trip(&c, &nc, rtt, 1);
	}
	assert_int_equal(a.cwnd, b.cwnd);
	/* a: 2 s of ACKs while sending little, right after its last full window;
	 * c: 2 s of silence */
	ta = na;
	for (int i = 0; i < 20; i++) {
		uint32_t w = a.cwnd;
		a.ops->on_ack(&a, MSS, 10 * MSS, rtt, rtt, ta + 1 + (uint64_t)i * rtt);
		assert_int_equal(a.cwnd, w);
	}
	na += 2 * SEC;
	nc += 2 * SEC;
	for (int r = 0; r < 20; r++) {
		round_trip(&a, &na, rtt, 1);
		round_trip(&b, &nb, rtt, 1);
		round_trip(&c, &nc, rtt, 1);
	}
	/* a continues as if the pause had not happened (b); the time between its
	 * last window-filling ACK and the first limited one (1 ns) and that between
	 * the first window-filling ACK after the pause and b's is all that differs */
	if (dabs((double)a.cwnd - b.cwnd) > 0.5 * MSS)
		fail_msg("app-limited: %u vs %u uninterrupted", a.cwnd, b.cwnd);
	/* c counted the silence as CA time and grew much faster */
	assert_true(c.cwnd > b.cwnd + 40 * MSS);
}

static void test_idle_restart(void **state)
{
	struct skiff_tcp_cc cc, a, b, c;
	const uint64_t rtt = 100 * MS;
	uint64_t now = T0, na = T0, nb = T0, nc = T0;
	(void)state;
	/* NewReno: longer than the RTO → cwnd = RW = min(IW, cwnd) (RFC 5681 4.1),
	 * ssthresh remembers 3/4 of the old cwnd */
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 40 * MSS;
	cc.ssthresh = 20 * MSS;
	cc.ops->on_idle_restart(&cc, 200 * MS, 300 * MS, now); /* shorter: nothing */
	assert_int_equal(cc.cwnd, 40 * MSS);
	assert_int_equal(cc.ssthresh, 20 * MSS);
	cc.ops->on_idle_restart(&cc, 300 * MS, 300 * MS, now); /* "exceeding" the RTO */
	assert_int_equal(cc.cwnd, 40 * MSS);
	cc.bytes_acked = 7 * MSS;
	cc.ops->on_idle_restart(&cc, 301 * MS, 300 * MS, now);
	assert_int_equal(cc.cwnd, 14600);
	assert_int_equal(cc.bytes_acked, 0);
	assert_int_equal(cc.ssthresh, 30 * MSS);
	cc.cwnd = 4 * MSS; /* below IW: RW = cwnd */
	cc.ops->on_idle_restart(&cc, 10 * SEC, 300 * MS, now);
	assert_int_equal(cc.cwnd, 4 * MSS);
	assert_int_equal(cc.ssthresh, 30 * MSS);

	/* CUBIC, idle shorter than the RTO: the curve resumes where it stopped */
	cubic_after_loss(&a, 1000, &na, rtt);
	cubic_after_loss(&b, 1000, &nb, rtt);
	cubic_after_loss(&c, 1000, &nc, rtt);
	for (int r = 0; r < 20; r++) {
		round_trip(&a, &na, rtt, 1);
		round_trip(&b, &nb, rtt, 1);
		round_trip(&c, &nc, rtt, 1);
	}
	na += 2 * SEC;
	nc += 2 * SEC;
	a.ops->on_idle_restart(&a, 2 * SEC, 3 * SEC, na);
	assert_true(a.u.cubic.in_epoch);
	for (int r = 0; r < 20; r++) {
		round_trip(&a, &na, rtt, 1);
		round_trip(&b, &nb, rtt, 1);
		round_trip(&c, &nc, rtt, 1);
	}
	assert_int_equal(a.cwnd, b.cwnd); /* shifted by exactly the idle time */
	assert_true(c.cwnd > b.cwnd + 20 * MSS); /* without the call: a jump */
	/* an idle time longer than the epoch cannot move t_epoch past now */
	c.ops->on_idle_restart(&c, 1000 * SEC, 2000 * SEC, nc);
	assert_true(c.u.cubic.in_epoch);
	assert_int_equal(c.u.cubic.epoch_start, nc);

	/* CUBIC, idle longer than the RTO: restart window, then slow start to 3/4
	 * of the old cwnd, then a new CA stage climbing back towards W_max */
	uint32_t old = a.cwnd;
	na += 5 * SEC;
	a.ops->on_idle_restart(&a, 5 * SEC, 3 * SEC, na);
	assert_int_equal(a.cwnd, 14600);
	assert_int_equal(a.ssthresh, (uint64_t)old * 3 / 4);
	assert_false(a.u.cubic.in_epoch);
	while (skiff_tcp_cc_in_slow_start(&a))
		round_trip(&a, &na, rtt, 1);
	round_trip(&a, &na, rtt, 1);
	assert_true(a.u.cubic.in_epoch);
	assert_int_equal(a.u.cubic.cwnd_epoch, (uint64_t)old * 3 / 4);
	assert_int_equal(a.u.cubic.w_max, 1000 * MSS);
	assert_true(a.u.cubic.k > 0); /* concave again towards W_max */
	assert_true(a.cwnd < 1000 * MSS);
}

static void test_set_mss(void **state)
{
	struct skiff_tcp_cc cc;
	const uint64_t rtt = 20 * MS;
	uint64_t now = T0;
	(void)state;
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 20 * MSS;
	assert_int_equal(skiff_tcp_cc_set_mss(&cc, 1400), 0);
	assert_int_equal(cc.mss, 1400);
	assert_int_equal(cc.cwnd, 20 * 1400);
	assert_int_equal(cc.ssthresh, UINT32_MAX);
	assert_int_equal(skiff_tcp_cc_set_mss(&cc, 10), -EINVAL);
	assert_int_equal(skiff_tcp_cc_set_mss(&cc, 70000), -EINVAL);
	assert_int_equal(cc.mss, 1400);

	/* CUBIC: the curve keeps its shape in segments */
	cubic_after_loss(&cc, 1000, &now, rtt);
	for (int r = 0; r < 50; r++)
		round_trip(&cc, &now, rtt, 1);
	uint32_t k = cc.u.cubic.k, segs = cc.cwnd / MSS;
	assert_int_equal(skiff_tcp_cc_set_mss(&cc, 1000), 0);
	assert_int_equal(cc.u.cubic.k, k);
	assert_int_equal(cc.u.cubic.w_max, 1000 * 1000);
	assert_int_equal(cc.ssthresh, 700 * 1000);
	assert_int_equal(cc.u.cubic.cwnd_epoch, 700 * 1000);
	assert_int_equal(cc.cwnd / 1000, segs);
	round_trip(&cc, &now, rtt, 1);
	assert_true(cc.cwnd / 1000 >= segs && cc.cwnd / 1000 <= segs + 10);
}

static void test_switch_algorithm(void **state)
{
	struct skiff_tcp_cc cc;
	uint64_t now = T0;
	(void)state;
	setup_cc(&cc, skiff_tcp_cc_newreno(), MSS);
	cc.cwnd = 50 * MSS;
	cc.ssthresh = 40 * MSS;
	assert_int_equal(skiff_tcp_cc_switch(&cc, skiff_tcp_cc_cubic()), 0);
	assert_ptr_equal(cc.ops, skiff_tcp_cc_cubic());
	assert_int_equal(cc.cwnd, 50 * MSS);
	assert_int_equal(cc.ssthresh, 40 * MSS);
	assert_int_equal(cc.mss, MSS);
	assert_false(cc.u.cubic.in_epoch);
	round_trip(&cc, &now, 20 * MS, 1);
	assert_true(cc.u.cubic.in_epoch);
	assert_true(cc.cwnd > 50 * MSS);
	assert_int_equal(skiff_tcp_cc_switch(&cc, NULL), -EINVAL);
}

static void test_names(void **state)
{
	const struct skiff_tcp_cc_ops *o = NULL;
	(void)state;
	assert_int_equal(skiff_tcp_cc_find("reno", &o), 0);
	assert_ptr_equal(o, skiff_tcp_cc_newreno());
	assert_string_equal(o->name, "reno");
	o = NULL;
	assert_int_equal(skiff_tcp_cc_find("newreno", &o), 0);
	assert_ptr_equal(o, skiff_tcp_cc_newreno());
	assert_int_equal(skiff_tcp_cc_find("cubic", &o), 0);
	assert_ptr_equal(o, skiff_tcp_cc_cubic());
	assert_string_equal(o->name, "cubic");
	assert_ptr_equal(skiff_tcp_cc_default(), skiff_tcp_cc_cubic());
	o = skiff_tcp_cc_cubic();
	assert_int_equal(skiff_tcp_cc_find("bbr", &o), -ENOENT);
	assert_ptr_equal(o, skiff_tcp_cc_cubic()); /* untouched on failure */
	assert_int_equal(skiff_tcp_cc_find("", &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find("CUBIC", &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find("cubic ", &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find("cubi", &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find("a-name-far-longer-than-fifteen", &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find(NULL, &o), -EINVAL);
	assert_int_equal(skiff_tcp_cc_find("cubic", NULL), -EINVAL);
	/* setsockopt buffers: length-bounded, NUL ends early */
	assert_int_equal(skiff_tcp_cc_find_n("renoXYZ", 4, &o), 0);
	assert_ptr_equal(o, skiff_tcp_cc_newreno());
	assert_int_equal(skiff_tcp_cc_find_n("cubic\0junk", 10, &o), 0);
	assert_ptr_equal(o, skiff_tcp_cc_cubic());
	assert_int_equal(skiff_tcp_cc_find_n("cubic", 3, &o), -ENOENT);
	assert_int_equal(skiff_tcp_cc_find_n("cubic", 0, &o), -ENOENT);
}

static void test_icbrt(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	(void)state;
	assert_int_equal(skiff_tcp_cc_icbrt64(0), 0);
	assert_int_equal(skiff_tcp_cc_icbrt64(1), 1);
	assert_int_equal(skiff_tcp_cc_icbrt64(7), 1);
	assert_int_equal(skiff_tcp_cc_icbrt64(8), 2);
	assert_int_equal(skiff_tcp_cc_icbrt64(26), 2);
	assert_int_equal(skiff_tcp_cc_icbrt64(27), 3);
	assert_int_equal(skiff_tcp_cc_icbrt64(UINT64_MAX), 2642245); /* 2642245^3 < 2^64 < 2642246^3 */
	for (uint64_t y = 1; y < 2642245; y += 997) {
		assert_int_equal(skiff_tcp_cc_icbrt64(y * y * y), y);
		assert_int_equal(skiff_tcp_cc_icbrt64(y * y * y - 1), y - 1);
		assert_int_equal(skiff_tcp_cc_icbrt64(y * y * y + 3 * y * y), y);
	}
	for (int i = 0; i < 100000; i++) {
		uint64_t y;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = x >> (i % 64);
		y = skiff_tcp_cc_icbrt64(v);
		/* y^3 <= v < (y+1)^3, without overflow */
		if (y && !(y <= v / y / y))
			fail_msg("icbrt(%llu) = %llu too big", (unsigned long long)v, (unsigned long long)y);
		if (!((y + 1) > v / (y + 1) / (y + 1)))
			fail_msg("icbrt(%llu) = %llu too small", (unsigned long long)v, (unsigned long long)y);
	}
}

/* Absurd inputs: huge acked, inflight, RTT, time jumps, windows at the cap. */
static void test_no_overflow(void **state)
{
	struct skiff_tcp_cc cc;
	const uint32_t max = SKIFF_TCP_CC_CWND_MAX;
	uint64_t x = 12345;
	(void)state;
	assert_int_equal(skiff_tcp_cc_iw(65535), 131070);
	for (int a = 0; a < 2; a++) {
		/* slow start at the cap */
		setup_cc(&cc, algos(a), 65535);
		cc.cwnd = max - 100;
		cc.ops->on_ack(&cc, UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX, T0);
		assert_int_equal(cc.cwnd, max);
		/* congestion avoidance at the cap */
		cc.ssthresh = 1000000;
		for (int i = 0; i < 10; i++) {
			cc.ops->on_ack(&cc, UINT32_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX, T0 + (uint64_t)i * SEC);
			assert_int_equal(cc.cwnd, max);
			assert_true(cc.bytes_acked <= cc.cwnd);
		}
		cc.ops->on_ack(&cc, UINT32_MAX, UINT32_MAX, UINT64_MAX, 0, UINT64_MAX);
		assert_int_equal(cc.cwnd, max);
		/* reductions from absurd flights stay within the cap */
		cc.ops->on_congestion(&cc, UINT32_MAX, T0);
		assert_int_equal(cc.ssthresh, max);
		assert_int_equal(cc.cwnd, max);
		cc.ops->on_recovery_exit(&cc, UINT32_MAX, T0);
		assert_int_equal(cc.cwnd, max);
		skiff_tcp_cc_inflate(&cc, UINT32_MAX);
		assert_int_equal(cc.cwnd, max);
		skiff_tcp_cc_partial_ack(&cc, UINT32_MAX);
		assert_int_equal(cc.cwnd, 2 * 65535);
		cc.ops->on_rto(&cc, UINT32_MAX, T0);
		assert_int_equal(cc.ssthresh, max);
		assert_int_equal(cc.cwnd, 65535);
		cc.ops->on_idle_restart(&cc, UINT64_MAX, 0, T0);
		assert_int_equal(cc.cwnd, 65535);
		/* the smallest SMSS with a window at the cap: most segments, largest K */
		setup_cc(&cc, algos(a), SKIFF_TCP_CC_MSS_MIN);
		cc.cwnd = max;
		cc.ssthresh = max / 2;
		cc.ops->on_congestion(&cc, max, T0);
		assert_int_equal(cc.cwnd, (uint64_t)max * (a ? 7 : 5) / 10);
		cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, 100 * MS, 0, T0 + SEC);
		if (a) /* K = cbrt(0.3 * 2^30 / 64 / 0.4) = 232.6 s */
			assert_true(cc.u.cubic.k > 232 * 1024 && cc.u.cubic.k < 233 * 1024);
		/* a long random walk: cwnd never shrinks on an ACK, never leaves bounds */
		uint64_t now = T0 + SEC;
		for (int i = 0; i < 200000; i++) {
			uint32_t before = cc.cwnd;
			x = x * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t acked = (x >> 33) % 8 == 0 ? (uint32_t)(x >> 20) : (uint32_t)(x >> 40) % (4 * 65535);
			now += (x >> 50) * ((x & 1) ? 1000 : 1);
			cc.ops->on_ack(&cc, acked, cc.cwnd, (x >> 24) % (10 * SEC), 0, now);
			if (cc.cwnd < before || cc.cwnd > max)
				fail_msg("step %d: cwnd %u after %u", i, cc.cwnd, before);
		}
		if (a)
			assert_int_equal(cc.cwnd, max); /* the convex side reaches the cap */
	}
	/* far beyond the curve's time range (|t - K| > 1024 s, t > 2^53 ns): the
	 * target saturates high, it does not wrap to something small */
	uint64_t now = T0;
	cubic_after_loss(&cc, 1000, &now, 100 * MS);
	round_trip(&cc, &now, 100 * MS, 1);
	static const uint64_t later[3] = { 100000 * SEC, 1ull << 60, UINT64_MAX };
	for (int i = 0; i < 3; i++) {
		uint32_t w = cc.cwnd;
		cc.ops->on_ack(&cc, w, 0, 100 * MS, 100 * MS, later[i]);
		if (dabs(cc.cwnd - 1.5 * w) > 2)
			fail_msg("t %llu: %u, want %.0f", (unsigned long long)later[i], cc.cwnd, 1.5 * w);
	}
	/* |t - K| of exactly 2^22 units (4096 s): the cube is 2^66, which a uint64
	 * would wrap to 0, i.e. W_cubic = W_max and no growth */
	setup_cc(&cc, skiff_tcp_cc_cubic(), MSS);
	cc.cwnd = 100 * MSS;
	cc.ssthresh = 50 * MSS;
	now = T0;
	cc.ops->on_ack(&cc, MSS, cc.cwnd - MSS, 100 * MS, 100 * MS, now); /* epoch: K = 0 */
	assert_int_equal(cc.u.cubic.k, 0);
	uint32_t w = cc.cwnd;
	cc.ops->on_ack(&cc, w, 0, 100 * MS, 100 * MS, now + 4096 * SEC - 100 * MS);
	assert_true(dabs(cc.cwnd - 1.5 * w) <= 2);
	/* SMSS change with windows at the cap */
	setup_cc(&cc, skiff_tcp_cc_cubic(), 64);
	cc.cwnd = max;
	cc.ops->on_congestion(&cc, max, T0);
	assert_int_equal(skiff_tcp_cc_set_mss(&cc, 65535), 0);
	assert_int_equal(cc.cwnd, max);
	assert_int_equal(cc.u.cubic.w_max, max);
	assert_int_equal(skiff_tcp_cc_rescale(UINT32_MAX, 64, 65535), UINT32_MAX);
	assert_int_equal(skiff_tcp_cc_rescale(1000, 1000, 1460), 1460);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_window),
		cmocka_unit_test(test_slow_start_doubles),
		cmocka_unit_test(test_newreno_ca_linear),
		cmocka_unit_test(test_app_limited_no_growth),
		cmocka_unit_test(test_congestion_reduction),
		cmocka_unit_test(test_newreno_partial_full_ack),
		cmocka_unit_test(test_rto),
		cmocka_unit_test(test_cubic_follows_curve),
		cmocka_unit_test(test_cubic_concave_convex),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_fast_convergence),
		cmocka_unit_test(test_cubic_target_cap),
		cmocka_unit_test(test_cubic_ack_never_shrinks),
		cmocka_unit_test(test_cubic_rtt_fallback),
		cmocka_unit_test(test_cubic_app_limited_time),
		cmocka_unit_test(test_idle_restart),
		cmocka_unit_test(test_set_mss),
		cmocka_unit_test(test_switch_algorithm),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_icbrt),
		cmocka_unit_test(test_no_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
