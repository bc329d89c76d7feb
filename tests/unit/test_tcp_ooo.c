/* test_tcp_ooo.c — the TCP out-of-order queue on its own (no stack): holes that
 * fill and pop in order, overlaps on either side, fully covered and duplicate
 * segments (first data wins, checked byte by byte), segments straddling rcv_nxt
 * and the window edge, wrap-around at 2^32, chains, the memory bound with
 * pruning of the highest data, SACK block order and merging, purge, and a random
 * run against a byte-level model. Frames come from a mempool; every test checks
 * that the pool is full again at the end (nothing leaked, nothing freed twice). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/pkt.h"
#include "dataplane/tcp_ooo.h"
#include "dataplane/tcp_seq.h"

#define NBUF 256
#define BUFSZ 2048 /* truesize of one frame */
#define BIG (1u << 30)

static struct skiff_mempool *MP;
static struct skiff_tcp_ooo Q;

static int setup(void **state)
{
	(void)state;
	assert_int_equal(skiff_mempool_create(NBUF, BUFSZ, &MP), 0);
	skiff_tcp_ooo_init(&Q);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	skiff_tcp_ooo_purge(&Q);
	assert_int_equal(skiff_mempool_avail(MP), NBUF);
	skiff_mempool_destroy(MP);
	return 0;
}

/* Byte value of copy `tag` of sequence number s: tells copies apart. */
static uint8_t pat(uint32_t s, uint8_t tag) { return (uint8_t)(s * 7u + tag * 131u); }

/* One frame holding [seq, seq + len) of copy `tag`. */
static struct skiff_pkt *seg(uint32_t seq, uint32_t len, uint8_t tag)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(MP));
	uint8_t *d;
	assert_non_null(p);
	assert_true(len <= BUFSZ - SKIFF_HEADROOM);
	d = skiff_pkt_put(p, len);
	assert_non_null(d);
	for (uint32_t i = 0; i < len; i++)
		d[i] = pat(seq + i, tag);
	return p;
}

/* A chain of nfrag frames of fraglen bytes each. */
static struct skiff_pkt *chain(uint32_t seq, unsigned nfrag, uint32_t fraglen, uint8_t tag)
{
	struct skiff_pkt *h = seg(seq, fraglen, tag), *t = h;
	for (unsigned i = 1; i < nfrag; i++) {
		t->chain = seg(seq + i * fraglen, fraglen, tag);
		t = t->chain;
	}
	return h;
}

static int ins(uint32_t seq, uint32_t len, uint8_t tag, uint32_t rcv_nxt, uint32_t wnd)
{
	return skiff_tcp_ooo_insert(&Q, seq, seg(seq, len, tag), rcv_nxt, wnd, BIG);
}

/* Bytes in a run: its segments (through ->next), each with its chain. */
static uint32_t run_len(const struct skiff_pkt *p)
{
	uint32_t n = 0;
	for (; p; p = p->next)
		n += skiff_pkt_chain_len(p);
	return n;
}

/* Check what is held exactly: the n ranges (seq, len) given, where ranges that
 * touch are held as one run (the queue coalesces contiguous segments). */
static void expect_held(const uint32_t (*want)[2], unsigned n)
{
	uint32_t runs[SKIFF_TCP_OOO_MAX + 8][2], bytes = 0;
	unsigned nr = 0;
	for (unsigned i = 0; i < n; i++) {
		if (nr && runs[nr - 1][0] + runs[nr - 1][1] == want[i][0])
			runs[nr - 1][1] += want[i][1];
		else {
			runs[nr][0] = want[i][0];
			runs[nr][1] = want[i][1];
			nr++;
		}
		bytes += want[i][1];
	}
	if (Q.n != nr) {
		for (unsigned i = 0; i < Q.n; i++)
			print_message("held[%u] = [%u, +%u)\n", i, Q.seg[i].seq, Q.seg[i].len);
		fail_msg("held %u runs, want %u", Q.n, nr);
	}
	for (unsigned i = 0; i < nr; i++) {
		assert_int_equal(Q.seg[i].seq, runs[i][0]);
		assert_int_equal(Q.seg[i].len, runs[i][1]);
		assert_int_equal(run_len(Q.seg[i].pkt), runs[i][1]);
		assert_null(Q.seg[i].tail->next);
		if (i)
			assert_true(SEQ_LT(Q.seg[i - 1].seq + Q.seg[i - 1].len, Q.seg[i].seq)); /* a gap between runs */
	}
	assert_int_equal(skiff_tcp_ooo_bytes(&Q), bytes);
}

/* Check a popped list: contiguous from `from`, total `len` bytes, each byte
 * carrying the tag tags[(seq - from) / granule] (granule 0: one tag for all). */
static uint32_t check_list(struct skiff_pkt *l, uint32_t from, const uint8_t *tags, uint32_t granule, uint32_t len)
{
	uint32_t s = from;
	for (struct skiff_pkt *p = l; p; p = p->next) {
		for (struct skiff_pkt *f = p; f; f = f->chain) {
			const uint8_t *d = skiff_pkt_data(f);
			for (uint32_t i = 0; i < f->len; i++, s++) {
				uint8_t tag = granule ? tags[(s - from) / granule] : tags[0];
				if (d[i] != pat(s, tag))
					fail_msg("byte %u: %u, want copy %u", s, d[i], tag);
			}
		}
	}
	assert_int_equal(s - from, len);
	return s;
}

static unsigned list_count(const struct skiff_pkt *l)
{
	unsigned n = 0;
	for (; l; l = l->next)
		n++;
	return n;
}

static void test_hole_fills_pop_in_order(void **state)
{
	uint32_t nxt = 1000;
	static const uint8_t t1[] = { 1 };
	struct skiff_pkt *l;
	(void)state;

	assert_int_equal(ins(1300, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(1100, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(1200, 100, 1, nxt, 65535), 100);
	static const uint32_t h1[][2] = { { 1100, 100 }, { 1200, 100 }, { 1300, 100 } };
	expect_held(h1, 3);
	/* Nothing in order yet: rcv_nxt does not move. */
	assert_null(skiff_tcp_ooo_pop(&Q, &nxt));
	assert_int_equal(nxt, 1000);
	/* The hole [1000, 1100) arrives in order and is delivered by the caller. */
	nxt = 1100;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 1400);
	assert_int_equal(list_count(l), 3);
	check_list(l, 1100, t1, 0, 300);
	assert_int_equal(Q.n, 0);
	assert_int_equal(skiff_tcp_ooo_bytes(&Q), 0);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 0);
	skiff_pkt_free_list(l);

	/* Two islands: only the first becomes in order. */
	assert_int_equal(ins(1500, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(1700, 100, 1, nxt, 65535), 100);
	nxt = 1499;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 1499);
	assert_null(l);
	nxt = 1500;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 1600);
	check_list(l, 1500, t1, 0, 100);
	skiff_pkt_free_list(l);
	static const uint32_t h2[][2] = { { 1700, 100 } };
	expect_held(h2, 1);
}

static void test_overlaps_first_data_wins(void **state)
{
	uint32_t nxt = 0;
	struct skiff_pkt *l;
	(void)state;

	assert_int_equal(ins(100, 100, 1, nxt, 65535), 100);   /* [100,200) copy 1 */
	/* Overlaps the front of the held one: keeps only [50,100). */
	assert_int_equal(ins(50, 100, 2, nxt, 65535), 50);
	/* Overlaps the tail: keeps only [200,250). */
	assert_int_equal(ins(150, 100, 3, nxt, 65535), 50);
	/* Fully covered by held data (across two held segments): nothing. */
	assert_int_equal(ins(60, 180, 4, nxt, 65535), 0);
	/* Exact duplicate. */
	assert_int_equal(ins(100, 100, 5, nxt, 65535), 0);
	static const uint32_t h1[][2] = { { 50, 50 }, { 100, 100 }, { 200, 50 } };
	expect_held(h1, 3);

	/* A segment spanning held data with gaps on both sides: [300,400) held, new
	 * [280,420) keeps only its first gap [280,300); [400,420) is dropped. */
	assert_int_equal(ins(300, 100, 6, nxt, 65535), 100);
	assert_int_equal(ins(280, 140, 7, nxt, 65535), 20);
	assert_int_equal(Q.span_bytes, 20);
	/* And one covering a held segment from its start: front skipped, tail to the gap. */
	assert_int_equal(ins(250, 60, 8, nxt, 65535), 30); /* [250,280) */
	static const uint32_t h2[][2] = { { 50, 50 }, { 100, 100 }, { 200, 50 }, { 250, 30 }, { 280, 20 }, { 300, 100 } };
	expect_held(h2, 6);
	/* held data met: 50 + 50 + 180 + 100, [300,400) under the spanning one, 30 */
	assert_int_equal(Q.dup_bytes, 50 + 50 + 180 + 100 + 100 + 30);

	nxt = 50;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 400);
	/* Byte by byte, the copy that arrived first:
	 * [50,100)=2 [100,200)=1 [200,250)=3 [250,280)=8 [280,300)=7 [300,400)=6 */
	uint32_t s = 50;
	for (struct skiff_pkt *p = l; p; p = p->next) {
		const uint8_t *d = skiff_pkt_data(p);
		for (uint32_t i = 0; i < p->len; i++, s++) {
			uint8_t tag = s < 100 ? 2 : s < 200 ? 1 : s < 250 ? 3 : s < 280 ? 8 : s < 300 ? 7 : 6;
			if (d[i] != pat(s, tag))
				fail_msg("byte %u: want copy %u", s, tag);
		}
	}
	assert_int_equal(s, 400);
	assert_int_equal(list_count(l), 6);
	skiff_pkt_free_list(l);
}

static void test_straddle_rcv_nxt_and_window(void **state)
{
	uint32_t nxt = 5000;
	struct skiff_pkt *l;
	static const uint8_t t1[] = { 1 };
	(void)state;

	/* Entirely old: dropped. */
	assert_int_equal(ins(4000, 1000, 1, nxt, 1000), 0);
	/* Straddles rcv_nxt: the old part goes; held from rcv_nxt. */
	assert_int_equal(ins(4900, 200, 1, nxt, 1000), 100);
	/* Straddles the window edge 6000: trimmed to it. */
	assert_int_equal(ins(5900, 300, 1, nxt, 1000), 100);
	/* Starts at the edge: outside. */
	assert_int_equal(ins(6000, 10, 1, nxt, 1000), 0);
	/* Far beyond, and "behind" by more than 2^31 (both outside). */
	assert_int_equal(ins(5000 + 0x90000000u, 10, 1, nxt, 1000), 0);
	assert_int_equal(ins(5000 + 0x70000000u, 10, 1, nxt, 1000), 0);
	/* Zero window: nothing is acceptable. */
	assert_int_equal(ins(5500, 10, 1, nxt, 0), 0);
	/* Empty segment. */
	assert_int_equal(ins(5500, 0, 1, nxt, 1000), 0);
	static const uint32_t h[][2] = { { 5000, 100 }, { 5900, 100 } };
	expect_held(h, 2);
	assert_int_equal(Q.dup_bytes, 1000 + 100);
	assert_int_equal(Q.oow_bytes, 200 + 10 + 10 + 10 + 10);

	/* In order at once. */
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 5100);
	check_list(l, 5000, t1, 0, 100);
	skiff_pkt_free_list(l);

	/* The caller delivered [5100, 5950) itself: the held [5900,6000) pops trimmed. */
	nxt = 5950;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 6000);
	check_list(l, 5950, t1, 0, 50);
	skiff_pkt_free_list(l);

	/* Held data wholly below rcv_nxt is freed, not returned. */
	assert_int_equal(ins(6100, 100, 1, nxt, 1000), 100);
	nxt = 6300;
	assert_null(skiff_tcp_ooo_pop(&Q, &nxt));
	assert_int_equal(nxt, 6300);
	assert_int_equal(Q.n, 0);
	/* ... and insert drops such stale data first too. */
	assert_int_equal(ins(6400, 100, 1, nxt, 1000), 100);
	assert_int_equal(ins(6600, 100, 1, 6500, 1000), 100);
	static const uint32_t h2[][2] = { { 6600, 100 } };
	expect_held(h2, 1);
}

static void test_wraparound(void **state)
{
	uint32_t nxt = 0xffffff00u;
	struct skiff_pkt *l;
	static const uint8_t t1[] = { 1 };
	(void)state;

	/* Across 2^32: [0xffffffc0, +0x80) spans the wrap; [0x40, +0x40) above it. */
	assert_int_equal(ins(0x40u, 0x40, 1, nxt, 65535), 0x40);
	assert_int_equal(ins(0xffffffc0u, 0x80, 1, nxt, 65535), 0x80);
	assert_int_equal(ins(0xffffff80u, 0x40, 1, nxt, 65535), 0x40);
	/* Overlap across the wrap: [0xfffffff0, +0x60) → only [0x40 ... no: [0x40,0x80)
	 * is held, so the new one keeps nothing below 0x40 and stops at 0x40. */
	assert_int_equal(ins(0xfffffff0u, 0x60, 2, nxt, 65535), 0);
	static const uint32_t h[][2] = { { 0xffffff80u, 0x40 }, { 0xffffffc0u, 0x80 }, { 0x40u, 0x40 } };
	expect_held(h, 3);
	uint32_t b[4][2];
	assert_int_equal(skiff_tcp_ooo_sack_blocks(&Q, b, 4), 1);
	assert_int_equal(b[0][0], 0xffffff80u);
	assert_int_equal(b[0][1], 0x80u);

	/* Straddling rcv_nxt across the wrap. */
	assert_int_equal(ins(0xfffffe00u, 0x180, 1, nxt, 65535), 0x80);
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 0x80u);
	assert_int_equal(list_count(l), 4);
	check_list(l, 0xffffff00u, t1, 0, 0x180);
	skiff_pkt_free_list(l);

	/* Window edge across the wrap. */
	nxt = 0xfffffff0u;
	assert_int_equal(ins(0xfffffff8u, 0x100, 1, nxt, 0x20), 0x18);
	static const uint32_t h2[][2] = { { 0xfffffff8u, 0x18 } };
	expect_held(h2, 1);
}

static void test_chains(void **state)
{
	uint32_t nxt = 0;
	struct skiff_pkt *l;
	(void)state;

	/* A 4-frame chain [1000, 1400), 100 per frame. */
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 1000, chain(1000, 4, 100, 1), nxt, 65535, BIG), 400);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 4 * BUFSZ);
	/* A chain [850, 1550) over it: keeps [850,1000) only: 2 of its 7 frames
	 * survive (the second trimmed at the tail), the other 5 are freed. */
	unsigned before = skiff_mempool_avail(MP);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 850, chain(850, 7, 100, 2), nxt, 65535, BIG), 150);
	assert_int_equal(skiff_mempool_avail(MP), before - 2);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 6 * BUFSZ);
	/* A chain [500, 900) straddling rcv_nxt 720 and running into [850, ...):
	 * the two front frames are freed, the head's cb kept, the last frame cut. */
	struct skiff_pkt *c = chain(500, 4, 100, 1);
	c->cb.u64[0] = 0xfeedu;
	c->ts = 77;
	nxt = 720;
	before = skiff_mempool_avail(MP);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 500, c, nxt, 65535, BIG), 130);
	assert_int_equal(skiff_mempool_avail(MP), before + 2);
	static const uint32_t h[][2] = { { 720, 130 }, { 850, 150 }, { 1000, 400 } };
	expect_held(h, 3);
	assert_int_equal(Q.seg[0].pkt->cb.u64[0], 0xfeedu);
	assert_int_equal(Q.seg[0].pkt->ts, 77);
	assert_int_equal(Q.seg[0].pkt->len, 80);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 8 * BUFSZ);

	/* Pop from 800: the first chain is trimmed by 80, i.e. its first frame goes. */
	nxt = 800;
	before = skiff_mempool_avail(MP);
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(skiff_mempool_avail(MP), before + 1);
	assert_int_equal(nxt, 1400);
	assert_int_equal(list_count(l), 3);
	assert_int_equal(l->cb.u64[0], 0xfeedu);
	/* [800,850) copy 1, [850,1000) copy 2, [1000,1400) copy 1: granule 50 from 800. */
	static const uint8_t tg[] = { 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1 };
	check_list(l, 800, tg, 50, 600);
	skiff_pkt_free_list(l);

	/* Cuts exactly at frame boundaries free whole frames, front and tail:
	 * [5200, 5300) held, chain [4900, 5400) at rcv_nxt 5000 keeps [5000, 5200). */
	assert_int_equal(nxt, 1400);
	nxt = 5000;
	assert_int_equal(ins(5200, 100, 1, nxt, 65535), 100);
	before = skiff_mempool_avail(MP);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 4900, chain(4900, 5, 100, 3), nxt, 65535, BIG), 200);
	assert_int_equal(skiff_mempool_avail(MP), before - 2);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 3 * BUFSZ);
	assert_int_equal(Q.seg[0].pkt->len, 100);
	assert_int_equal(Q.seg[0].pkt->chain->len, 100);
	assert_null(Q.seg[0].pkt->chain->chain);
}

static void test_memory_bound_prunes_highest(void **state)
{
	uint32_t nxt = 0;
	const uint32_t lim = 4 * BUFSZ;
	(void)state;

	for (uint32_t k = 0; k < 4; k++)
		assert_int_equal(skiff_tcp_ooo_insert(&Q, 1000 + k * 1000, seg(1000 + k * 1000, 100, 1), nxt, 65535, lim), 100);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), lim);
	/* Higher than everything held: refused, nothing held is dropped. */
	unsigned before = skiff_mempool_avail(MP);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 9000, seg(9000, 100, 1), nxt, 65535, lim), -ENOBUFS);
	assert_int_equal(skiff_mempool_avail(MP), before);
	assert_int_equal(Q.refused_segs, 1);
	/* Lower data: the highest segment is pruned to make room. */
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 500, seg(500, 100, 1), nxt, 65535, lim), 100);
	assert_int_equal(Q.pruned_segs, 1);
	static const uint32_t h[][2] = { { 500, 100 }, { 1000, 100 }, { 2000, 100 }, { 3000, 100 } };
	expect_held(h, 4);
	/* A 2-frame chain at 1500 needs both segments above it to go. */
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 1500, chain(1500, 2, 100, 1), nxt, 65535, lim), 200);
	assert_int_equal(Q.pruned_segs, 3);
	static const uint32_t h2[][2] = { { 500, 100 }, { 1000, 100 }, { 1500, 200 } };
	expect_held(h2, 3);
	/* A chain bigger than what dropping everything above it frees: refused,
	 * nothing dropped. */
	before = skiff_mempool_avail(MP);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 1200, chain(1200, 3, 100, 1), nxt, 65535, lim), -ENOBUFS);
	assert_int_equal(skiff_mempool_avail(MP), before);
	assert_int_equal(Q.pruned_segs, 3);
	expect_held(h2, 3);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 4 * BUFSZ);

	/* The segment count bound. */
	skiff_tcp_ooo_purge(&Q);
	for (uint32_t k = 0; k < SKIFF_TCP_OOO_MAX; k++)
		assert_int_equal(ins(10 + 20 * k, 10, 1, nxt, 65535), 10);
	assert_int_equal(ins(10 + 20 * SKIFF_TCP_OOO_MAX, 10, 1, nxt, 65535), -ENOBUFS);
	assert_int_equal(Q.n, SKIFF_TCP_OOO_MAX);
	assert_int_equal(ins(0, 5, 1, nxt, 65535), 5);
	assert_int_equal(Q.n, SKIFF_TCP_OOO_MAX);
	assert_int_equal(Q.seg[0].seq, 0);
	assert_int_equal(Q.seg[SKIFF_TCP_OOO_MAX - 1].seq, 10 + 20 * (SKIFF_TCP_OOO_MAX - 2));
	/* Filling a hole between held runs exactly joins them: no slot needed, the
	 * top stays, one run fewer. */
	assert_int_equal(ins(20, 10, 1, nxt, 65535), 10);
	assert_int_equal(Q.n, SKIFF_TCP_OOO_MAX - 1);
	assert_int_equal(Q.seg[SKIFF_TCP_OOO_MAX - 2].seq, 10 + 20 * (SKIFF_TCP_OOO_MAX - 2));
	assert_int_equal(Q.seg[1].seq, 10);
	assert_int_equal(Q.seg[1].len, 30);
	/* The freed slot takes a new run at the top; with all slots used again, a
	 * lower segment touching no run prunes the top run. */
	assert_int_equal(ins(10 + 20 * (SKIFF_TCP_OOO_MAX - 1), 5, 1, nxt, 65535), 5);
	assert_int_equal(Q.n, SKIFF_TCP_OOO_MAX);
	assert_int_equal(ins(42, 5, 1, nxt, 65535), 5);
	assert_int_equal(Q.n, SKIFF_TCP_OOO_MAX);
	assert_int_equal(Q.seg[2].seq, 42);
	assert_int_equal(Q.seg[SKIFF_TCP_OOO_MAX - 1].seq, 10 + 20 * (SKIFF_TCP_OOO_MAX - 2));
}

static void expect_blocks(unsigned max, const uint32_t (*want)[2], unsigned n)
{
	uint32_t b[SKIFF_TCP_OOO_SACK_MAX + 1][2];
	unsigned got = skiff_tcp_ooo_sack_blocks(&Q, b, max);
	if (got != n) {
		for (unsigned i = 0; i < got; i++)
			print_message("block[%u] = [%u, %u)\n", i, b[i][0], b[i][1]);
		fail_msg("%u blocks, want %u", got, n);
	}
	for (unsigned i = 0; i < n; i++) {
		if (b[i][0] != want[i][0] || b[i][1] != want[i][1])
			fail_msg("block %u: [%u, %u), want [%u, %u)", i, b[i][0], b[i][1], want[i][0], want[i][1]);
	}
}

static void test_sack_blocks_order_and_merge(void **state)
{
	uint32_t nxt = 0;
	struct skiff_pkt *l;
	(void)state;

	expect_blocks(4, NULL, 0);
	assert_int_equal(ins(100, 100, 1, nxt, 65535), 100);
	static const uint32_t w1[][2] = { { 100, 200 } };
	expect_blocks(4, w1, 1);
	assert_int_equal(ins(500, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(300, 100, 1, nxt, 65535), 100);
	static const uint32_t w2[][2] = { { 300, 400 }, { 500, 600 }, { 100, 200 } };
	expect_blocks(4, w2, 3);
	/* [200,300) joins [100,200) and [300,400) into one block, reported first;
	 * the older entry for [300,400) is not repeated. */
	assert_int_equal(ins(200, 100, 1, nxt, 65535), 100);
	static const uint32_t w3[][2] = { { 100, 400 }, { 500, 600 } };
	expect_blocks(4, w3, 2);
	/* More blocks than fit: newest first, then the rest lowest first. */
	assert_int_equal(ins(700, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(900, 100, 1, nxt, 65535), 100);
	assert_int_equal(ins(1100, 100, 1, nxt, 65535), 100);
	static const uint32_t w4[][2] = { { 1100, 1200 }, { 900, 1000 }, { 700, 800 } };
	expect_blocks(3, w4, 3);
	static const uint32_t w5[][2] = { { 1100, 1200 }, { 900, 1000 }, { 700, 800 }, { 100, 400 } };
	expect_blocks(4, w5, 4);
	expect_blocks(9, w5, 4); /* clamped to 4 */
	/* A duplicate of held data: its block moves to the front (it triggered the ACK). */
	assert_int_equal(ins(520, 50, 2, nxt, 65535), 0);
	static const uint32_t w6[][2] = { { 500, 600 }, { 1100, 1200 }, { 900, 1000 }, { 700, 800 } };
	expect_blocks(4, w6, 4);
	/* After the front block is delivered it is no longer reported. */
	nxt = 100;
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 400);
	skiff_pkt_free_list(l);
	static const uint32_t w7[][2] = { { 500, 600 }, { 1100, 1200 }, { 900, 1000 }, { 700, 800 } };
	expect_blocks(4, w7, 4);
	nxt = 400;
	assert_int_equal(ins(400, 100, 1, nxt, 65535), 100);
	l = skiff_tcp_ooo_pop(&Q, &nxt);
	assert_int_equal(nxt, 600);
	skiff_pkt_free_list(l);
	static const uint32_t w8[][2] = { { 1100, 1200 }, { 900, 1000 }, { 700, 800 } };
	expect_blocks(4, w8, 3);
	/* Pruned data is not reported. */
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 650, seg(650, 10, 1), nxt, 65535, 3 * BUFSZ), 10);
	static const uint32_t w9[][2] = { { 650, 660 }, { 900, 1000 }, { 700, 800 } };
	expect_blocks(4, w9, 3);
}

static void test_purge_frees_all(void **state)
{
	uint32_t nxt = 0;
	(void)state;
	for (uint32_t k = 0; k < 20; k++)
		assert_int_equal(ins(100 + 300 * k, 200, 1, nxt, 65535), 200);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 50000, chain(50000, 5, 100, 1), nxt, 65535, BIG), 500);
	assert_int_equal(skiff_mempool_avail(MP), NBUF - 25);
	skiff_tcp_ooo_purge(&Q);
	assert_int_equal(skiff_mempool_avail(MP), NBUF);
	assert_int_equal(skiff_tcp_ooo_bytes(&Q), 0);
	assert_int_equal(skiff_tcp_ooo_truesize(&Q), 0);
	assert_int_equal(skiff_tcp_ooo_count(&Q), 0);
	uint32_t b[4][2];
	assert_int_equal(skiff_tcp_ooo_sack_blocks(&Q, b, 4), 0);
	assert_int_equal(skiff_tcp_ooo_insert(&Q, 1, NULL, 0, 100, BIG), -EINVAL);
}

/* Random segments against a byte model: each byte remembers the copy held
 * (first data wins); every step checks the queue byte by byte against it, and
 * the popped stream must match it. Runs across the 2^32 wrap. */
static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define MWIN 4096

static void test_random_against_model(void **state)
{
	static int16_t model[MWIN], now[MWIN]; /* copy held for rcv_nxt + i, -1: none */
	uint32_t nxt = 0xfffff000u, delivered = 0, pruned = 0, refused = 0;
	(void)state;

	for (int i = 0; i < MWIN; i++)
		model[i] = -1;
	for (int step = 0; step < 20000; step++) {
		uint32_t off = rnd() % (MWIN + 200), len = 1 + rnd() % 300;
		uint32_t seq = rnd() % 8 == 0 ? nxt : nxt + off - 100; /* some old, some beyond the window */
		uint8_t tag = (uint8_t)(step & 0xff);
		uint32_t lo = MWIN, hi = 0, gained = 0, bytes = 0;
		int r = skiff_tcp_ooo_insert(&Q, seq, seg(seq, len, tag), nxt, MWIN, 40 * BUFSZ);

		assert_true(r >= 0 || r == -ENOBUFS);
		refused += r < 0;
		for (int i = 0; i < MWIN; i++)
			now[i] = -1;
		for (unsigned i = 0; i < Q.n; i++) {
			uint32_t k = Q.seg[i].seq - nxt;
			assert_true(k < MWIN && Q.seg[i].len <= MWIN - k);
			if (i)
				assert_true(SEQ_LEQ(Q.seg[i - 1].seq + Q.seg[i - 1].len, Q.seg[i].seq));
			for (struct skiff_pkt *sg = Q.seg[i].pkt; sg; sg = sg->next)
			for (struct skiff_pkt *f = sg; f; f = f->chain) {
				const uint8_t *d = skiff_pkt_data(f);
				for (uint32_t j = 0; j < f->len; j++, k++) {
					int16_t want = model[k] >= 0 ? model[k] : (int16_t)tag;
					if (d[j] != pat(nxt + k, (uint8_t)want))
						fail_msg("step %d: byte %u is not copy %d", step, nxt + k, want);
					now[k] = want;
					if (model[k] < 0) {
						gained++;
						lo = k < lo ? k : lo;
						hi = k + 1;
					}
				}
			}
			bytes += Q.seg[i].len;
		}
		assert_int_equal(bytes, skiff_tcp_ooo_bytes(&Q));
		/* New bytes: one piece, inside the segment, as many as returned. */
		assert_int_equal(gained, r > 0 ? (uint32_t)r : 0);
		if (gained) {
			assert_int_equal(hi - lo, gained);
			assert_true(lo - (seq - nxt) < len && hi - (seq - nxt) <= len);
		}
		/* Held bytes vanish only when pruned for lower new data. */
		for (uint32_t i = 0; i < MWIN; i++) {
			if (model[i] >= 0 && now[i] < 0) {
				if (r <= 0 || i < hi)
					fail_msg("step %d: held byte %u dropped (r %d, new [%u, %u))", step, nxt + i, r,
						 nxt + lo, nxt + hi);
				pruned++;
			}
		}
		memcpy(model, now, sizeof(model));

		if (model[0] >= 0 && rnd() % 3 == 0) {
			uint32_t old = nxt, s = old;
			struct skiff_pkt *l = skiff_tcp_ooo_pop(&Q, &nxt);
			for (struct skiff_pkt *p = l; p; p = p->next)
				for (struct skiff_pkt *f = p; f; f = f->chain) {
					const uint8_t *d = skiff_pkt_data(f);
					for (uint32_t j = 0; j < f->len; j++, s++)
						if (d[j] != pat(s, (uint8_t)model[s - old]))
							fail_msg("step %d: popped byte %u wrong", step, s);
				}
			assert_int_equal(s, nxt);
			uint32_t moved = nxt - old;
			assert_true(moved > 0);
			for (uint32_t i = 0; i < moved; i++)
				assert_true(model[i] >= 0);
			assert_true(moved == MWIN || model[moved] < 0);
			memmove(model, model + moved, (MWIN - moved) * sizeof(model[0]));
			for (uint32_t i = MWIN - moved; i < MWIN; i++)
				model[i] = -1;
			delivered += moved;
			skiff_pkt_free_list(l);
		}
		assert_true(skiff_tcp_ooo_truesize(&Q) <= 40 * BUFSZ);
		assert_true(Q.n <= SKIFF_TCP_OOO_MAX);
	}
	print_message("delivered %u, pruned %u bytes, refused %u\n", delivered, pruned, refused);
	assert_true(delivered > 0x10000); /* wrapped past 2^32 */
	assert_true(pruned > 0 && refused > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hole_fills_pop_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlaps_first_data_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_straddle_rcv_nxt_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wraparound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memory_bound_prunes_highest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_order_and_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_purge_frees_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
