/* test_tcp_sack.c — the SACK scoreboard and RFC 6675 routines on their own:
 * Update() merging, IsLost() with DupThresh SACKed segments above, SetPipe(),
 * NextSeg() rules (1)-(5) including the rescue retransmission, entering
 * recovery, D-SACK detection (RFC 2883 4), wrap-around at 2^32, invalid and
 * hostile blocks, the full table, advance, and a random run against a
 * byte-level model of the RFC's per-octet definitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dataplane/tcp_sack.h"
#include "dataplane/tcp_seq.h"

#define MSS 1000u

static struct skiff_tcp_sack S;

static int setup(void **state)
{
	(void)state;
	skiff_tcp_sack_init(&S);
	return 0;
}

/* Table invariants: sorted, disjoint, not touching, inside (una, ...), sum = sacked. */
static void check_inv(uint32_t una)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < S.n; i++) {
		assert_true(SEQ_LT(S.r[i].start, S.r[i].end));
		assert_true(SEQ_GEQ(S.r[i].start, una));
		if (i)
			assert_true(SEQ_LT(S.r[i - 1].end, S.r[i].start));
		sum += S.r[i].end - S.r[i].start;
	}
	assert_int_equal(sum, skiff_tcp_sack_bytes(&S));
}

static void expect_ranges(const uint32_t (*want)[2], unsigned n)
{
	if (S.n != n) {
		for (unsigned i = 0; i < S.n; i++)
			print_message("range[%u] = [%u, %u)\n", i, S.r[i].start, S.r[i].end);
		fail_msg("%u ranges, want %u", S.n, n);
	}
	for (unsigned i = 0; i < n; i++) {
		if (S.r[i].start != want[i][0] || S.r[i].end != want[i][1])
			fail_msg("range %u: [%u, %u), want [%u, %u)", i, S.r[i].start, S.r[i].end, want[i][0], want[i][1]);
	}
}

static uint32_t upd1(uint32_t una, uint32_t nxt, uint32_t a, uint32_t b, bool *dsack)
{
	const uint32_t blk[1][2] = { { a, b } };
	return skiff_tcp_sack_update(&S, una, nxt, blk, 1, dsack);
}

/* RFC 6675 worked through: 10 segments [1000, 11000) sent, the first lost;
 * duplicate ACKs SACK the second, third, fourth. */
static void test_islost_pipe_dupthresh(void **state)
{
	const uint32_t una = 1000, nxt = 11000;
	bool d;
	(void)state;

	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 10000);
	assert_int_equal(upd1(una, nxt, 2000, 3000, &d), 1000);
	assert_false(d);
	assert_false(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 9000);
	assert_int_equal(upd1(una, nxt, 2000, 4000, &d), 1000);
	assert_false(skiff_tcp_sack_is_lost(&S, 1000, MSS)); /* 2 segments above: not yet */
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 8000);
	assert_int_equal(upd1(una, nxt, 2000, 5000, &d), 1000);
	/* DupThresh (3) segments SACKed above: lost, and out of the pipe. */
	assert_true(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	assert_true(skiff_tcp_sack_is_lost(&S, 1999, MSS));
	assert_false(skiff_tcp_sack_is_lost(&S, 5000, MSS));
	assert_true(skiff_tcp_sack_is_lost(&S, 1500, MSS));
	/* Inside a SACKed range only the octets strictly above count. */
	assert_true(skiff_tcp_sack_is_lost(&S, 2998, MSS));  /* 2001 bytes above */
	assert_false(skiff_tcp_sack_is_lost(&S, 2999, MSS)); /* 2000 bytes above */
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 6000);
	static const uint32_t w[][2] = { { 2000, 5000 } };
	expect_ranges(w, 1);
	check_inv(una);

	/* "More than (DupThresh - 1) * SMSS bytes": 2001 bytes is 3 segments' worth. */
	skiff_tcp_sack_init(&S);
	assert_int_equal(upd1(una, nxt, 3000, 5000, NULL), 2000);
	assert_false(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	assert_int_equal(upd1(una, nxt, 5000, 5001, NULL), 1);
	assert_true(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	/* Three discontiguous small SACKed segments above are DupThresh too. */
	skiff_tcp_sack_init(&S);
	const uint32_t three[3][2] = { { 3000, 3100 }, { 5000, 5100 }, { 7000, 7100 } };
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, three, 3, NULL), 300);
	assert_true(skiff_tcp_sack_is_lost(&S, 2999, MSS));
	assert_false(skiff_tcp_sack_is_lost(&S, 3100, MSS));
	assert_false(skiff_tcp_sack_is_lost(&S, 4000, MSS));
	/* pipe: lost [1000,3000) out; [3100,5000) [5100,7000) [7100,11000) in. */
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 1900 + 1900 + 3900);
}

/* Enter recovery, then NextSeg over two holes. */
static void test_nextseg_rule1_and_pipe(void **state)
{
	const uint32_t una = 1000, nxt = 11000;
	uint32_t seq, len;
	const uint32_t blk[2][2] = { { 5000, 8000 }, { 2000, 4000 } };
	(void)state;

	/* Segments 1 and 4 lost: [1000,2000) and [4000,5000). */
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, blk, 2, NULL), 5000);
	assert_true(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	assert_true(skiff_tcp_sack_is_lost(&S, 4000, MSS));
	assert_false(skiff_tcp_sack_is_lost(&S, 8000, MSS));
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 3000);

	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, una, nxt, MSS, &seq, &len), 0);
	assert_int_equal(seq, 1000);
	assert_int_equal(len, 1000);
	assert_int_equal(S.high_rxt, 2000);
	assert_int_equal(S.rescue_rxt, 2000);
	/* (b): the retransmitted octets are in the pipe again. */
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 4000);

	/* Rule (1): the next lost hole above HighRxt, even with new data available. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 5000, &seq, &len), SKIFF_TCP_SACK_RXT_LOST);
	assert_int_equal(seq, 4000);
	assert_int_equal(len, 1000);
	assert_int_equal(S.high_rxt, 5000);
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 5000);
	/* Rule (2): nothing lost left below the highest SACK → new data. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 300, &seq, &len), SKIFF_TCP_SACK_NEW_DATA);
	assert_int_equal(seq, 11000);
	assert_int_equal(len, 300);
	assert_int_equal(S.high_rxt, 5000); /* unchanged */
	/* No new data; (3) fails (no unSACKed byte in [HighRxt, 8000)); (4) is
	 * blocked: RescueRxt is set and HighACK has not passed it. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 0, &seq, &len), -ENOENT);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, 0, 0, &seq, &len), -EINVAL);

	/* The first retransmission is acked: cumulative ACK to 4000 (HighACK 3999 > RescueRxt 1999). */
	bool d;
	assert_int_equal(upd1(4000, nxt, 5000, 8000, &d), 0);
	assert_false(d);
	assert_int_equal(skiff_tcp_sack_pipe(&S, 4000, nxt, MSS), 1000 + 3000);
	/* Rule (4): rescue the highest unSACKed segment [10000, 11000). */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 4000, nxt, nxt, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_RESCUE);
	assert_int_equal(seq, 10000);
	assert_int_equal(len, 1000);
	assert_int_equal(S.high_rxt, 5000); /* HighRxt MUST NOT be updated */
	assert_int_equal(S.rescue_rxt, nxt);
	/* Only one rescue per recovery. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 4000, nxt, nxt, MSS, 0, &seq, &len), -ENOENT);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 10999, nxt, nxt, MSS, 0, &seq, &len), -ENOENT);
	/* Everything acked: nothing outstanding, nothing to send. */
	skiff_tcp_sack_advance(&S, nxt);
	assert_int_equal(S.n, 0);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 0);
	assert_int_equal(skiff_tcp_sack_pipe(&S, nxt, nxt, MSS), 0);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, nxt, nxt, nxt, MSS, 0, &seq, &len), -ENOENT);
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, nxt, nxt, MSS, &seq, &len), -ENOENT);
}

/* Rule (3) before a loss is certain, rule (2) taking precedence, and the rescue
 * of a tail loss (RFC 6675 4 rule (4)). */
static void test_nextseg_rule3_rescue(void **state)
{
	const uint32_t una = 1000, nxt = 11000;
	uint32_t seq, len;
	const uint32_t blk[2][2] = { { 3000, 4000 }, { 5000, 6000 } };
	(void)state;

	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, blk, 2, NULL), 2000);
	assert_false(skiff_tcp_sack_is_lost(&S, 1000, MSS));
	/* New data first when nothing is lost ((2) before (3)). */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 5000, &seq, &len), SKIFF_TCP_SACK_NEW_DATA);
	assert_int_equal(seq, 11000);
	assert_int_equal(len, MSS);
	/* (3): holes below the highest SACK, in order, at most SMSS, never SACKed bytes. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_HOLE);
	assert_int_equal(seq, 1000);
	assert_int_equal(len, 1000);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_HOLE);
	assert_int_equal(seq, 2000);
	assert_int_equal(len, 1000);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, 1500, 0, &seq, &len), SKIFF_TCP_SACK_RXT_HOLE);
	assert_int_equal(seq, 4000);
	assert_int_equal(len, 1000); /* the hole is 1000 long even with SMSS 1500 */
	assert_int_equal(S.high_rxt, 5000);
	/* pipe: not lost [1000,3000) [4000,5000) [6000,11000) + retransmitted 3000 */
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, MSS), 8000 + 3000);
	/* (4): rescue with RescueRxt undefined: the highest unSACKed segment. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, 9000, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_RESCUE);
	assert_int_equal(seq, 10000);
	assert_int_equal(len, 1000);
	assert_int_equal(S.rescue_rxt, 9000);
	assert_int_equal(S.high_rxt, 5000);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, 9000, MSS, 0, &seq, &len), -ENOENT);
	/* HighACK > RescueRxt (ACK beyond 9000) allows a rescue again. */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 9000, nxt, nxt, MSS, 0, &seq, &len), -ENOENT);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 9001, nxt, nxt, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_RESCUE);
	assert_int_equal(seq, 10000);

	/* Tail loss: the highest unSACKed data is below the top range. */
	skiff_tcp_sack_init(&S);
	assert_int_equal(upd1(una, 5000, 4500, 5000, NULL), 500);
	assert_int_equal(upd1(una, 5000, 2000, 3000, NULL), 1000);
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, una, 5000, MSS, &seq, &len), 0);
	assert_int_equal(seq, 1000);
	/* (3) for [3000, 4500) */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, 5000, 5000, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_HOLE);
	assert_int_equal(seq, 3000);
	assert_int_equal(len, 1000);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, 5000, 5000, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_HOLE);
	assert_int_equal(seq, 4000);
	assert_int_equal(len, 500);
	/* RescueRxt = 2000 from entering recovery: an ACK of 2001 allows the rescue,
	 * whose segment ends at the top of the highest hole [3000, 4500). */
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, 5000, 5000, MSS, 0, &seq, &len), -ENOENT);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 2001, 5000, 5000, MSS, 0, &seq, &len), SKIFF_TCP_SACK_RXT_RESCUE);
	assert_int_equal(seq, 3500);
	assert_int_equal(len, 1000);
	/* Everything outstanding SACKed but the (retransmitted) front: nothing to rescue
	 * above HighRxt; the rescue takes the highest unSACKed bytes wherever they are. */
	skiff_tcp_sack_init(&S);
	assert_int_equal(upd1(una, 5000, 1200, 5000, NULL), 3800);
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, una, 5000, MSS, &seq, &len), 0);
	assert_int_equal(len, 200);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, 1201, 5000, 5000, MSS, 0, &seq, &len), -ENOENT);
}

/* RFC 2883 4: D-SACK as the first block. */
static void test_dsack(void **state)
{
	const uint32_t una = 10000, nxt = 20000;
	bool d;
	(void)state;

	/* Below the cumulative ACK. */
	assert_int_equal(upd1(una, nxt, 9000, 10000, &d), 0);
	assert_true(d);
	assert_int_equal(S.n, 0);
	/* Straddling it (start below): a D-SACK, and its upper part is not SACKed. */
	assert_int_equal(upd1(una, nxt, 9500, 10500, &d), 0);
	assert_true(d);
	assert_int_equal(S.n, 0);
	/* Inside the second block: D-SACK, and the second block is used. */
	const uint32_t in2[2][2] = { { 12000, 12500 }, { 11000, 13000 } };
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, in2, 2, &d), 2000);
	assert_true(d);
	static const uint32_t w[][2] = { { 11000, 13000 } };
	expect_ranges(w, 1);
	/* A later block below snd_una is not a D-SACK, just invalid. */
	const uint32_t later[2][2] = { { 14000, 15000 }, { 9000, 10000 } };
	uint64_t inv = S.invalid_blocks;
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, later, 2, &d), 1000);
	assert_false(d);
	assert_int_equal(S.invalid_blocks, inv + 1);
	/* A "D-SACK" more than 2^30 below, or empty, or reversed: invalid. */
	assert_int_equal(upd1(una, nxt, una - 0x50000000u, una - 0x4fff0000u, &d), 0);
	assert_false(d);
	assert_int_equal(upd1(una, nxt, 9000, 9000, &d), 0);
	assert_false(d);
	assert_int_equal(upd1(una, nxt, 9500, 9000, &d), 0);
	assert_false(d);
	assert_int_equal(S.dsacks, 3);
	/* A first block equal to the second one is inside it. */
	const uint32_t same[2][2] = { { 16000, 17000 }, { 16000, 17000 } };
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, same, 2, &d), 1000);
	assert_true(d);
	/* NULL dsack is allowed. */
	assert_int_equal(upd1(una, nxt, 9000, 10000, NULL), 0);
	check_inv(una);
}

/* Merging: overlapping, touching, bridging, duplicates; bytes newly SACKed. */
static void test_merge(void **state)
{
	const uint32_t una = 0, nxt = 100000;
	(void)state;
	assert_int_equal(upd1(una, nxt, 1000, 2000, NULL), 1000);
	assert_int_equal(upd1(una, nxt, 3000, 4000, NULL), 1000);
	assert_int_equal(upd1(una, nxt, 5000, 6000, NULL), 1000);
	assert_int_equal(upd1(una, nxt, 1000, 2000, NULL), 0);     /* duplicate */
	assert_int_equal(upd1(una, nxt, 1500, 1800, NULL), 0);     /* inside */
	assert_int_equal(upd1(una, nxt, 2000, 2500, NULL), 500);   /* touching above */
	assert_int_equal(upd1(una, nxt, 2800, 3000, NULL), 200);   /* touching below */
	static const uint32_t w1[][2] = { { 1000, 2500 }, { 2800, 4000 }, { 5000, 6000 } };
	expect_ranges(w1, 3);
	assert_int_equal(upd1(una, nxt, 2400, 5500, NULL), 300 + 1000); /* bridges all three */
	static const uint32_t w2[][2] = { { 1000, 6000 } };
	expect_ranges(w2, 1);
	assert_int_equal(upd1(una, nxt, 500, 7000, NULL), 500 + 1000);  /* covers */
	assert_int_equal(skiff_tcp_sack_bytes(&S), 6500);
	const uint32_t four[4][2] = { { 8000, 9000 }, { 8500, 9500 }, { 10000, 11000 }, { 9500, 10000 } };
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, four, 4, NULL), 3000);
	static const uint32_t w3[][2] = { { 500, 7000 }, { 8000, 11000 } };
	expect_ranges(w3, 2);
	check_inv(una);
}

static void test_wraparound(void **state)
{
	const uint32_t una = 0xfffff000u, nxt = 0x00002000u; /* 12 KB across 2^32 */
	uint32_t seq, len;
	bool d;
	(void)state;

	assert_int_equal(upd1(una, nxt, 0xfffffc00u, 0x00000400u, &d), 0x800);
	assert_false(d);
	assert_int_equal(upd1(una, nxt, 0x00000800u, 0x00000c00u, &d), 0x400);
	assert_int_equal(upd1(una, nxt, 0x00000400u, 0x00000800u, &d), 0x400); /* bridges across 0 */
	static const uint32_t w[][2] = { { 0xfffffc00u, 0x00000c00u } };
	expect_ranges(w, 1);
	check_inv(una);
	/* 0x1000 bytes above = more than 2 SMSS of 0x400: what is below is lost. */
	assert_true(skiff_tcp_sack_is_lost(&S, 0xfffff000u, 0x400));
	assert_false(skiff_tcp_sack_is_lost(&S, 0x00000c00u, 0x400));
	assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, 0x400), 0x3000 - 0x1000 - 0xc00);
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, una, nxt, 0x400, &seq, &len), 0);
	assert_int_equal(seq, 0xfffff000u);
	assert_int_equal(len, 0x400);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, 0x400, 0, &seq, &len), SKIFF_TCP_SACK_RXT_LOST);
	assert_int_equal(seq, 0xfffff400u);
	assert_int_equal(skiff_tcp_sack_next_seg(&S, una, nxt, nxt, 0x400, 0, &seq, &len), SKIFF_TCP_SACK_RXT_LOST);
	assert_int_equal(seq, 0xfffff800u);
	assert_int_equal(S.high_rxt, 0xfffffc00u);
	/* A D-SACK below snd_una across the wrap. */
	assert_int_equal(skiff_tcp_sack_update(&S, 0x00000100u, nxt, (const uint32_t[][2]){ { 0xffffff00u, 0x00000100u } }, 1, &d), 0);
	assert_true(d);
	/* The ACK moved into the range: trimmed. */
	static const uint32_t w2[][2] = { { 0x00000100u, 0x00000c00u } };
	expect_ranges(w2, 1);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 0xb00);
	assert_false(S.rxt_valid); /* HighRxt passed */
}

static void test_invalid_and_hostile_blocks(void **state)
{
	const uint32_t una = 5000, nxt = 15000;
	uint32_t blk[100][2];
	bool d;
	(void)state;

	static const uint32_t bad[][2] = {
		{ 6000, 6000 },             /* empty */
		{ 7000, 6000 },             /* reversed */
		{ 5000, 6000 },             /* starts at snd_una: it would have been acked */
		{ 14000, 15001 },           /* beyond snd_nxt */
		{ 15000, 16000 },           /* wholly beyond */
		{ 0x80001388u, 0x80001390u }, /* 2^31 away */
		{ 0xc0000000u, 0xc0000100u }, /* more than 2^30 below: not even a D-SACK */
		{ 6000, 0x80000000u },       /* huge */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* each as a second block behind a valid-but-unusual first one */
		const uint32_t two[2][2] = { { 14500, 15000 }, { bad[i][0], bad[i][1] } };
		skiff_tcp_sack_init(&S);
		assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, two, 2, &d), 500);
		assert_false(d);
		assert_int_equal(S.invalid_blocks, 1);
		static const uint32_t w[][2] = { { 14500, 15000 } };
		expect_ranges(w, 1);
		/* and as the first block */
		assert_int_equal(upd1(una, nxt, bad[i][0], bad[i][1], &d), 0);
		assert_false(d);
		expect_ranges(w, 1);
	}
	/* Nothing outstanding: every block is invalid. */
	skiff_tcp_sack_init(&S);
	assert_int_equal(upd1(una, una, 5000, 5001, &d), 0);
	assert_int_equal(upd1(una, una - 10, 4000, 4001, &d), 0); /* snd_nxt behind snd_una */
	assert_int_equal(S.n, 0);
	/* Many blocks: only SKIFF_TCP_SACK_BLOCKS looked at; the rest counted. */
	for (unsigned i = 0; i < 100; i++) {
		blk[i][0] = 6000 + 100 * i;
		blk[i][1] = 6050 + 100 * i;
	}
	skiff_tcp_sack_init(&S);
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, (const uint32_t(*)[2])blk, 100, &d), 4 * 50);
	assert_int_equal(S.n, 4);
	assert_int_equal(S.invalid_blocks, 96);
	assert_int_equal(skiff_tcp_sack_update(&S, una, nxt, NULL, 3, &d), 0);
	check_inv(una);
}

static void test_table_full(void **state)
{
	const uint32_t una = 0, nxt = 1000000;
	(void)state;

	for (uint32_t i = 0; i < SKIFF_TCP_SACK_MAX; i++)
		assert_int_equal(upd1(una, nxt, 1000 + 1000 * i, 1500 + 1000 * i, NULL), 500);
	assert_int_equal(S.n, SKIFF_TCP_SACK_MAX);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 500 * SKIFF_TCP_SACK_MAX);
	/* A new range above all: forgotten. */
	uint32_t top = 1000 + 1000 * SKIFF_TCP_SACK_MAX;
	assert_int_equal(upd1(una, nxt, top, top + 500, NULL), 0);
	assert_int_equal(S.discarded, 1);
	assert_int_equal(S.r[SKIFF_TCP_SACK_MAX - 1].end, top - 500);
	/* A new range below: kept, the highest is forgotten. */
	assert_int_equal(upd1(una, nxt, 100, 200, NULL), 100);
	assert_int_equal(S.discarded, 2);
	assert_int_equal(S.n, SKIFF_TCP_SACK_MAX);
	assert_int_equal(S.r[0].start, 100);
	assert_int_equal(S.r[SKIFF_TCP_SACK_MAX - 1].end, top - 1500);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 500 * (SKIFF_TCP_SACK_MAX - 1) + 100);
	/* Extending or bridging needs no slot: nothing lost. */
	assert_int_equal(upd1(una, nxt, 1500, 2000, NULL), 500); /* touches two ranges: merges them */
	assert_int_equal(S.n, SKIFF_TCP_SACK_MAX - 1);
	assert_int_equal(S.discarded, 2);
	assert_int_equal(upd1(una, nxt, top + 2000, top + 2100, NULL), 100); /* room again */
	assert_int_equal(S.n, SKIFF_TCP_SACK_MAX);
	check_inv(una);
	/* Hostile: thousands of disjoint 1-byte blocks stay bounded and consistent. */
	for (uint32_t i = 0; i < 5000; i++) {
		const uint32_t b[4][2] = { { 7 * i + 1, 7 * i + 2 }, { 999000 - 3 * i, 999001 - 3 * i },
					   { 500000 + 2 * i, 500001 + 2 * i }, { i, i } };
		skiff_tcp_sack_update(&S, una, nxt, b, 4, NULL);
		assert_true(S.n <= SKIFF_TCP_SACK_MAX);
	}
	check_inv(una);
	/* The lowest ranges are the ones kept. */
	assert_int_equal(S.r[0].start, 1);
}

static void test_advance(void **state)
{
	const uint32_t nxt = 20000;
	uint32_t seq, len;
	(void)state;

	const uint32_t b[3][2] = { { 2000, 3000 }, { 4000, 5000 }, { 6000, 7000 } };
	assert_int_equal(skiff_tcp_sack_update(&S, 1000, nxt, b, 3, NULL), 3000);
	skiff_tcp_sack_advance(&S, 3000);
	static const uint32_t w1[][2] = { { 4000, 5000 }, { 6000, 7000 } };
	expect_ranges(w1, 2);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 2000);
	/* Older ACK: ignored. */
	skiff_tcp_sack_advance(&S, 2500);
	expect_ranges(w1, 2);
	assert_int_equal(S.una, 3000);
	/* Its blocks are judged against the newer snd_una. */
	assert_int_equal(upd1(2500, nxt, 2600, 2700, NULL), 0);
	expect_ranges(w1, 2);
	/* Into a range: trimmed. */
	skiff_tcp_sack_advance(&S, 4500);
	static const uint32_t w2[][2] = { { 4500, 5000 }, { 6000, 7000 } };
	expect_ranges(w2, 2);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 1500);
	check_inv(4500);
	/* HighRxt stops counting once acked. */
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, 4500, nxt, MSS, &seq, &len), 0);
	assert_int_equal(seq, 5000);
	assert_int_equal(len, 1000);
	assert_true(S.rxt_valid);
	skiff_tcp_sack_advance(&S, 5999);
	assert_true(S.rxt_valid);
	skiff_tcp_sack_advance(&S, 6000);
	assert_false(S.rxt_valid);
	/* RescueRxt 6000 (5999 inclusive): a rescue is allowed once HighACK > it. */
	assert_true(S.rescue_valid);
	skiff_tcp_sack_advance(&S, 6001);
	assert_false(S.rescue_valid);
	/* Jumps no ACK can make (> 2^30, the caller skipped ACKs): cleared, even
	 * past 2^31 where sequence comparisons turn around. */
	assert_int_equal(S.n, 1);
	skiff_tcp_sack_advance(&S, 6000 + 0x90000000u);
	assert_int_equal(S.n, 0);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 0);
	assert_int_equal(S.una, 6000 + 0x90000000u);
	assert_int_equal(upd1(S.una, S.una + 5000, S.una + 1000, S.una + 2000, NULL), 1000);
	assert_int_equal(skiff_tcp_sack_enter_recovery(&S, S.una, S.una + 5000, MSS, &seq, &len), 0);
	skiff_tcp_sack_advance(&S, S.una + 0x50000000u);
	assert_int_equal(S.n, 0);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 0);
	assert_false(S.rxt_valid);
	assert_false(S.rescue_valid);
	/* clear() forgets everything (RTO, RFC 2018 8). */
	assert_int_equal(upd1(S.una, S.una + 5000, S.una + 1000, S.una + 2000, NULL), 1000);
	skiff_tcp_sack_clear(&S);
	assert_int_equal(S.n, 0);
	assert_int_equal(skiff_tcp_sack_bytes(&S), 0);
	assert_int_equal(skiff_tcp_sack_pipe(&S, S.una, S.una + 5000, MSS), 5000);
}

/* Random ACKs against a byte model of the RFC's per-octet definitions. */
static uint32_t rng_state = 777;
static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define FL 4000u   /* flight, bytes */
#define GR 100u    /* blocks on 100-byte slots: at most 20 disjoint ranges */
#define SM 300u    /* SMSS */

static bool m_sacked[FL], m_lost[FL], t_sacked[FL];

/* IsLost per octet, scanning down: SACKed segments strictly above i, each
 * maximal run of L SACKed bytes above i counting ceil(L / SMSS). */
static void m_compute_lost(void)
{
	uint32_t completed = 0, cur = 0;
	for (uint32_t i = FL; i-- > 0;) {
		if (i + 1 < FL) {
			if (m_sacked[i + 1]) {
				cur++;
			} else if (cur) {
				completed += (cur + SM - 1) / SM;
				cur = 0;
			}
		}
		m_lost[i] = completed + (cur + SM - 1) / SM >= SKIFF_TCP_DUPTHRESH;
	}
}

static void test_random_against_model(void **state)
{
	uint32_t una = 0xffffe000u; /* the base wraps during the run */
	uint32_t high_rxt = 0;      /* offset, 0: none */
	unsigned nrules[5] = { 0 };
	(void)state;

	memset(m_sacked, 0, sizeof(m_sacked));
	for (int step = 0; step < 20000; step++) {
		uint32_t nxt = una + FL, blk[4][2], nb = 1 + rnd() % 4, want_new = 0;
		bool d, valid[4];
		for (uint32_t k = 0; k < nb; k++) {
			uint32_t a = (rnd() % (FL / GR + 4)) * GR, l = (1 + rnd() % 5) * GR;
			blk[k][0] = una + a - 2 * GR; /* some below snd_una, some beyond snd_nxt */
			blk[k][1] = blk[k][0] + l;
			if (rnd() % 4 == 0 && k == 1) { /* first inside second */
				blk[0][0] = blk[1][0] + GR / 2;
				blk[0][1] = blk[1][1];
			}
		}
		/* Model Update(). */
		for (uint32_t k = 0; k < nb; k++) {
			uint32_t ao = blk[k][0] - una, bo = blk[k][1] - una;
			valid[k] = ao > 0 && ao < bo && bo <= FL;
		}
		bool first_dsack = SEQ_LT(blk[0][0], una) ||
				   (nb > 1 && valid[0] && valid[1] && SEQ_GEQ(blk[0][0], blk[1][0]) &&
				    SEQ_LEQ(blk[0][1], blk[1][1]));
		for (uint32_t k = first_dsack ? 1 : 0; k < nb; k++) {
			if (!valid[k])
				continue;
			for (uint32_t i = blk[k][0] - una; i < blk[k][1] - una; i++)
				if (!m_sacked[i]) {
					m_sacked[i] = true;
					want_new++;
				}
		}
		uint32_t got = skiff_tcp_sack_update(&S, una, nxt, (const uint32_t(*)[2])blk, nb, &d);
		if (got != want_new)
			fail_msg("step %d: newly SACKed %u, want %u", step, got, want_new);
		assert_int_equal(d, first_dsack);
		check_inv(una);
		memset(t_sacked, 0, sizeof(t_sacked));
		for (unsigned r = 0; r < S.n; r++)
			for (uint32_t x = S.r[r].start; x != S.r[r].end; x++)
				t_sacked[x - una] = true;
		if (memcmp(t_sacked, m_sacked, sizeof(t_sacked)) != 0)
			fail_msg("step %d: scoreboard differs from the model", step);

		/* IsLost() and SetPipe() per octet. */
		uint32_t pipe = 0;
		m_compute_lost();
		for (uint32_t i = 0; i < FL; i++) {
			if (i % 13 == 0 && m_lost[i] != skiff_tcp_sack_is_lost(&S, una + i, SM))
				fail_msg("step %d: IsLost(%u) %d", step, i, !m_lost[i]);
			if (m_sacked[i])
				continue;
			pipe += !m_lost[i];
			pipe += i < high_rxt;
		}
		assert_int_equal(skiff_tcp_sack_pipe(&S, una, nxt, SM), pipe);

		/* NextSeg() rules (1)/(3) against the model. */
		uint32_t hi = 0, s2 = FL, seq, len;
		for (uint32_t i = 0; i < FL; i++)
			if (m_sacked[i])
				hi = i + 1;
		for (uint32_t i = high_rxt; i < hi; i++)
			if (!m_sacked[i]) {
				s2 = i;
				break;
			}
		if (rnd() % 2) {
			int rule = skiff_tcp_sack_next_seg(&S, una, nxt, nxt, SM, 0, &seq, &len);
			if (s2 < FL) {
				uint32_t l = 0;
				while (s2 + l < FL && !m_sacked[s2 + l] && l < SM)
					l++;
				assert_int_equal(rule, m_lost[s2] ? SKIFF_TCP_SACK_RXT_LOST : SKIFF_TCP_SACK_RXT_HOLE);
				assert_int_equal(seq, una + s2);
				assert_int_equal(len, l);
				high_rxt = s2 + l;
			} else {
				assert_true(rule == SKIFF_TCP_SACK_RXT_RESCUE || rule == -ENOENT);
			}
			nrules[rule > 0 ? rule : 0]++;
		}
		assert_int_equal(S.rxt_valid, high_rxt > 0);

		/* Sometimes the cumulative ACK moves; keep the model aligned to snd_una. */
		if (rnd() % 5 == 0) {
			uint32_t adv = (rnd() % 8) * GR;
			while (adv < FL && m_sacked[adv])
				adv++;
			if (rnd() % 3 == 0 && adv > 50)
				adv -= 50; /* an ACK inside SACKed data (reneging-like) */
			memmove(m_sacked, m_sacked + adv, (FL - adv) * sizeof(m_sacked[0]));
			memset(m_sacked + FL - adv, 0, adv * sizeof(m_sacked[0]));
			high_rxt = high_rxt > adv ? high_rxt - adv : 0;
			una += adv;
			skiff_tcp_sack_advance(&S, una);
			assert_int_equal(S.rxt_valid, high_rxt > 0);
			if (rnd() % 10 == 0) {
				skiff_tcp_sack_clear(&S);
				memset(m_sacked, 0, sizeof(m_sacked));
				high_rxt = 0;
			}
		}
	}
	print_message("una %#x; next_seg none %u, lost %u, hole %u, rescue %u\n", una, nrules[0], nrules[1],
		      nrules[3], nrules[4]);
	assert_true(nrules[1] > 100 && nrules[SKIFF_TCP_SACK_RXT_HOLE] > 100 && nrules[4] > 10);
	assert_true(una < 0xffffe000u); /* wrapped */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_islost_pipe_dupthresh, setup),
		cmocka_unit_test_setup(test_nextseg_rule1_and_pipe, setup),
		cmocka_unit_test_setup(test_nextseg_rule3_rescue, setup),
		cmocka_unit_test_setup(test_dsack, setup),
		cmocka_unit_test_setup(test_merge, setup),
		cmocka_unit_test_setup(test_wraparound, setup),
		cmocka_unit_test_setup(test_invalid_and_hostile_blocks, setup),
		cmocka_unit_test_setup(test_table_full, setup),
		cmocka_unit_test_setup(test_advance, setup),
		cmocka_unit_test_setup(test_random_against_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
