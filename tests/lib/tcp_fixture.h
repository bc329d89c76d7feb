/* tcp_fixture.h — the segment-level TCP test fixture shared by test_tcp.c and
 * test_tcp_rack_conn.c: one stack (tests/lib/harness) and a scripted peer that
 * builds segments (tests/lib/tcp_seg) and reads what the stack sent, on a fake
 * clock. cmocka setup/teardown give each test a fresh stack in T. Include it
 * after <cmocka.h> (its helpers assert).
 */
#ifndef SKIFF_TESTS_TCP_FIXTURE_H
#define SKIFF_TESTS_TCP_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "tests/lib/harness.h"
#include "tests/lib/tcp_seg.h"

#define LPORT 80
#define PPORT 40000
#define PISN 1000000u          /* the peer's ISN */
#define MS 1000000ull
#define SEC 1000000000ull

struct t {
	struct harness h;
	struct skiff_tcp_sock *lsk;  /* listener on LPORT (NULL until listen_on) */
	struct skiff_tcp_sock *sk;   /* the connection under test */
	uint16_t lport, pport;
	uint32_t iss;                /* the stack's ISS */
	uint32_t pseq;               /* the peer's next sequence number */
	uint32_t pack;               /* what the peer acknowledges */
	uint16_t pwnd;               /* window field the peer sends */
	bool ts;                     /* timestamps negotiated: the peer sends them */
	uint32_t ptsval;             /* the peer's timestamp clock */
	uint32_t last_tsval;         /* last TSval the stack sent (the peer echoes it) */
	uint32_t pisn;               /* the peer's ISN for open_passive/open_active */
	uint16_t synack_wnd;         /* the window field of the stack's SYN-ACK (when a test records it) */
};

static struct t T;

/* What the peer offers in its SYN. */
struct popt {
	bool ts, sack, ws, no_mss;
	uint8_t ws_val;
	uint16_t mss;                /* 0: 1460 (unless no_mss) */
	uint16_t wnd;                /* 0: 65535 */
	bool zero_wnd;               /* window 0 in the SYN and the ACK */
};

static const struct popt P_FULL = { .ts = true, .sack = true, .ws = true, .ws_val = 7 };
static const struct popt P_PLAIN = { 0 };             /* no options but MSS 1460 */
static const struct popt P_SACK = { .sack = true };  /* SACK, no timestamps, no scaling */

static inline void cfg_defaults(struct skiff_stack_config *c)
{
	skiff_stack_config_defaults(c);
	/* the peer stays REACHABLE through clock jumps of many minutes */
	c->neigh_reachable_ns = 1000000ull * SEC;
	c->neigh_gc_ns = 1000000ull * SEC;
}

static inline void t_init(struct t *t, const struct skiff_stack_config *c)
{
	struct skiff_stack_config d;
	memset(t, 0, sizeof(*t));
	if (!c) {
		cfg_defaults(&d);
		c = &d;
	}
	assert_int_equal(h_init(&t->h, c), 0);
	ts_peer_reachable(&t->h);
	t->lport = LPORT;
	t->pport = PPORT;
	t->pwnd = 65535;
	t->ptsval = 5000;
	t->pisn = PISN;
}

static inline int setup(void **state)
{
	t_init(&T, NULL);
	*state = &T;
	return 0;
}

static inline int teardown(void **state)
{
	struct t *t = *state;
	h_fini(&t->h);
	return 0;
}

static inline struct ts_out seg(struct t *t, uint8_t flags)
{
	struct ts_out o;
	memset(&o, 0, sizeof(o));
	o.sport = t->pport;
	o.dport = t->lport;
	o.seq = t->pseq;
	o.ack = (flags & TCP_ACK) ? t->pack : 0;
	o.flags = flags;
	o.wnd = t->pwnd;
	if (t->ts) {
		o.ts = true;
		o.tsval = ++t->ptsval;
		o.tsecr = t->last_tsval;
	}
	return o;
}

static inline void tx(struct t *t, const struct ts_out *o) { ts_send(&t->h, o); }

/* Next segment the stack sent; fails the test when there is none. */
static inline void pop(struct t *t, struct ts_seg *s)
{
	if (!ts_pop(&t->h, s))
		fail_msg("expected a segment from the stack, none queued");
	assert_true(s->csum_ok);
	assert_int_equal(s->src, H_LOCAL_IP);
	assert_int_equal(s->dst, H_PEER_IP);
	assert_memory_equal(s->eth_dst, h_peer_mac, 6);
	if (s->ts)
		t->last_tsval = s->tsval;
}

static inline void expect_none(struct t *t)
{
	struct ts_seg s;
	if (ts_pop(&t->h, &s))
		fail_msg("unexpected segment from the stack: %s", ts_str(&s));
}

static inline void adv(struct t *t, uint64_t ns) { h_advance(&t->h, ns); }

/* Advance by ns, stopping at every timer deadline on the way (as an event loop
 * polling at skiff_stack_next_deadline would), so re-armed timers fire again. */
static inline void adv_steps(struct t *t, uint64_t ns)
{
	uint64_t end = t->h.now + ns;
	for (;;) {
		uint64_t next = skiff_stack_next_deadline(t->h.st);
		if (next > end || next == UINT64_MAX)
			break;
		adv(t, next > t->h.now ? next - t->h.now : 0);
	}
	adv(t, end - t->h.now);
}

static inline uint8_t pat(uint32_t i) { return (uint8_t)(i * 31u + 7u); }

#endif
