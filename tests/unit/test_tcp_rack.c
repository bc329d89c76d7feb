/* test_tcp_rack.c — the transmit log and RACK loss detection (RFC 8985 6) on
 * their own: no stack, no clock (times are plain numbers given to each call).
 *
 * Directed cases: records appended in order and popped by the cumulative ACK
 * (a partial ACK trims a record); SACK blocks mark records and move RACK.xmit_ts /
 * end_seq / rtt; detection marks lost only what was sent before the newest
 * delivered segment once RACK.rtt + reo_wnd has passed, and otherwise returns
 * the time left; the reo_wnd rules (6.2 step 4) with D-SACK widening once per
 * round and the decay after 16 recoveries; reordering detection (step 3); a
 * retransmission acknowledged faster than min_rtt leaves RACK alone (step 2);
 * a lost-marked record delivered before it was retransmitted is spurious and
 * widens; next_lost and retransmission (which moves a record to the end of the
 * time order so older deliveries cannot mark it again, while newer ones can:
 * a lost retransmission); RTO; the full ring; wrap-around at 2^32; detection
 * consulting the scoreboard (skiff_tcp_sack_covers).
 *
 * Every operation is followed by check(): the byte counters, flags, the time
 * order (exactly the in-flight records, oldest transmission first, links
 * consistent) and lost_hint recomputed from the records. A random run (fixed
 * seeds) drives sent/ack/detect/next_lost/rto/recovery_done with random valid
 * input against an array model written from the header's contract and
 * compares the whole state after every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/tcp_rack.h"
#include "dataplane/tcp_sack.h"
#include "dataplane/tcp_seq.h"

#define L 1000u   /* record length used by the directed cases */
#define MS 1000000ull

/* Regression check for a bug found here (RACK_PARTIAL_LOST_DELIVERED), fixed:
 * enforced (1). Search for "KNOWN BUG". */
#define KB_PARTIAL_LOST_DELIVERED 1

static struct skiff_tcp_rack Q;

static int setup(void **state)
{
	(void)state;
	skiff_tcp_rack_init(&Q);
	assert_int_equal(skiff_tcp_rack_alloc(&Q, 0), 0); /* the smallest ring: 64 records */
	assert_int_equal(Q.cap, SKIFF_TCP_RACK_MIN);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	skiff_tcp_rack_free(&Q);
	return 0;
}

/* ---- helpers ---- */

static const struct skiff_tcp_txrec *rec(const struct skiff_tcp_rack *q, unsigned i)
{
	assert_true(i < q->n);
	return &q->r[(q->head + i) & (q->cap - 1u)];
}

static unsigned off_of_slot(const struct skiff_tcp_rack *q, uint16_t s) { return (unsigned)((s - q->head) & (q->cap - 1u)); }

/* Everything the log must keep consistent, recomputed from the records. una and
 * smax are the sender's snd_una and snd_max (every record lies in [una, smax)). */
static void check(const struct skiff_tcp_rack *q, uint32_t una, uint32_t smax)
{
	uint32_t sacked = 0, lost = 0;
	unsigned inflight = 0, listed = 0;
	uint16_t s, prev = SKIFF_TCP_RACK_NIL;
	uint64_t prev_x = 0;
	uint32_t prev_end = 0;
	bool first = true;

	if (!q->r) {
		assert_int_equal(q->n, 0);
		return;
	}
	assert_true(q->n <= q->cap);
	assert_true(q->cap >= SKIFF_TCP_RACK_MIN && q->cap <= SKIFF_TCP_RACK_MAX && (q->cap & (q->cap - 1u)) == 0);
	for (unsigned i = 0; i < q->n; i++) {
		const struct skiff_tcp_txrec *r = rec(q, i);
		if (!SEQ_LT(r->seq, r->end))
			fail_msg("record %u empty [%u, %u)", i, r->seq, r->end);
		if (SEQ_LT(r->seq, una) || SEQ_GT(r->end, smax))
			fail_msg("record %u [%u, %u) outside [una %u, smax %u)", i, r->seq, r->end, una, smax);
		if (i && SEQ_LT(r->seq, prev_end))
			fail_msg("record %u [%u, %u) overlaps the one before (end %u)", i, r->seq, r->end, prev_end);
		prev_end = r->end;
		if ((r->flags & SKIFF_TCP_TXR_SACKED) && (r->flags & SKIFF_TCP_TXR_LOST))
			fail_msg("record %u both SACKED and LOST", i);
		if (r->flags & ~(SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST | SKIFF_TCP_TXR_RETRANS | SKIFF_TCP_TXR_RTO))
			fail_msg("record %u has unknown flags %#x", i, r->flags);
		if (r->flags & SKIFF_TCP_TXR_SACKED)
			sacked += r->end - r->seq;
		else if (r->flags & SKIFF_TCP_TXR_LOST)
			lost += r->end - r->seq;
		else
			inflight++;
		if ((r->flags & SKIFF_TCP_TXR_LOST) && i < q->lost_hint)
			fail_msg("LOST record at offset %u below lost_hint %u", i, q->lost_hint);
		assert_true(r->xmit <= q->last_xmit);
	}
	assert_int_equal(q->sacked_bytes, sacked);
	assert_int_equal(q->lost_bytes, lost);
	/* the time order: exactly the in-flight records, oldest first, links both ways */
	for (s = q->thead; s != SKIFF_TCP_RACK_NIL; s = q->r[s].tnext) {
		const struct skiff_tcp_txrec *r = &q->r[s];
		assert_true(s < q->cap);
		if (off_of_slot(q, s) >= q->n)
			fail_msg("slot %u on the time order is not a live record", s);
		if (r->flags & (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST))
			fail_msg("record [%u, %u) on the time order is %s", r->seq, r->end,
				 (r->flags & SKIFF_TCP_TXR_SACKED) ? "SACKED" : "LOST");
		assert_int_equal(r->tprev, prev);
		if (!first && (r->xmit < prev_x))
			fail_msg("time order not by transmission: %llu after %llu", (unsigned long long)r->xmit,
				 (unsigned long long)prev_x);
		first = false;
		prev_x = r->xmit;
		prev = s;
		if (++listed > q->n)
			fail_msg("time order loops");
	}
	assert_int_equal(q->ttail, prev);
	assert_int_equal(listed, inflight);
	{
		uint32_t out = smax - una, gone = sacked + lost;
		assert_int_equal(skiff_tcp_rack_pipe(q, una, smax), out > gone ? out - gone : 0);
	}
}

/* Offset of the record starting at seq (fails when none). */
static unsigned find(const struct skiff_tcp_rack *q, uint32_t seq)
{
	for (unsigned i = 0; i < q->n; i++)
		if (rec(q, i)->seq == seq)
			return i;
	fail_msg("no record starts at %u", seq);
	return 0;
}

static uint8_t flags_at(const struct skiff_tcp_rack *q, uint32_t seq) { return rec(q, find(q, seq))->flags; }

/* Offsets of the time order, oldest first, into out; returns how many. */
static unsigned time_order(const struct skiff_tcp_rack *q, unsigned *out, unsigned max)
{
	unsigned k = 0;
	for (uint16_t s = q->thead; s != SKIFF_TCP_RACK_NIL && k < max; s = q->r[s].tnext)
		out[k++] = off_of_slot(q, s);
	return k;
}

/* n records of L bytes from base, record i sent at t0 + i * dt. */
static void send_n(struct skiff_tcp_rack *q, uint32_t base, unsigned n, uint64_t t0, uint64_t dt)
{
	for (unsigned i = 0; i < n; i++)
		skiff_tcp_rack_sent(q, base + i * L, base + (i + 1) * L, base + i * L, t0 + i * dt);
}

static uint32_t ack_blocks(struct skiff_tcp_rack *q, uint32_t una, uint32_t smax, const uint32_t (*b)[2], unsigned n,
			   bool dsack, uint64_t min_rtt, uint64_t now, uint64_t *rtt)
{
	uint64_t dummy;
	return skiff_tcp_rack_ack(q, una, smax, b, n, dsack, min_rtt, now, rtt ? rtt : &dummy);
}

static uint32_t ack1(struct skiff_tcp_rack *q, uint32_t una, uint32_t smax, uint32_t a, uint32_t b, uint64_t now,
		     uint64_t *rtt)
{
	const uint32_t blk[1][2] = { { a, b } };
	return ack_blocks(q, una, smax, blk, 1, false, 0, now, rtt);
}

static uint64_t detect(struct skiff_tcp_rack *q, const struct skiff_tcp_sack *sb, uint64_t reo, uint64_t now,
		       uint32_t *newly)
{
	uint32_t dummy;
	return skiff_tcp_rack_detect(q, sb, reo, now, newly ? newly : &dummy);
}

/* ---- allocation ---- */

static void test_alloc_sizes_and_unallocated(void **state)
{
	struct skiff_tcp_rack q;
	uint32_t a, b, newly = 7;
	uint64_t rtt = 7;
	(void)state;

	/* nothing allocated: every call is harmless */
	skiff_tcp_rack_init(&q);
	assert_null(q.r);
	assert_false(skiff_tcp_rack_full(&q));
	skiff_tcp_rack_sent(&q, 1, 100, 1, 5);
	assert_int_equal(q.n, 0);
	assert_int_equal(skiff_tcp_rack_ack(&q, 50, 100, NULL, 0, false, 0, 9, &rtt), 0);
	assert_int_equal(rtt, 0);
	assert_int_equal(skiff_tcp_rack_detect(&q, NULL, 0, 100, &newly), 0);
	assert_int_equal(newly, 0);
	assert_int_equal(skiff_tcp_rack_next_lost(&q, &a, &b), -ENOENT);
	assert_int_equal(skiff_tcp_rack_last(&q, &a, &b), -ENOENT);
	skiff_tcp_rack_rto(&q);
	check(&q, 0, 0);
	/* sizes: sndbuf / 512 records, a power of two in [64, 4096] */
	assert_int_equal(skiff_tcp_rack_alloc(&q, 0), 0);
	assert_int_equal(q.cap, 64);
	assert_int_equal(skiff_tcp_rack_alloc(&q, 1u << 30), 0); /* already there: kept */
	assert_int_equal(q.cap, 64);
	skiff_tcp_rack_free(&q);
	assert_null(q.r);
	assert_int_equal(skiff_tcp_rack_alloc(&q, 262144), 0);
	assert_int_equal(q.cap, 512);
	skiff_tcp_rack_free(&q);
	assert_int_equal(skiff_tcp_rack_alloc(&q, 262144 + 512), 0);
	assert_int_equal(q.cap, 1024);
	skiff_tcp_rack_free(&q);
	assert_int_equal(skiff_tcp_rack_alloc(&q, 1u << 30), 0);
	assert_int_equal(q.cap, SKIFF_TCP_RACK_MAX);
	skiff_tcp_rack_free(&q);
	skiff_tcp_rack_free(&q); /* twice is fine */
	assert_int_equal(q.n, 0);
	assert_int_equal(q.sacked_bytes + q.lost_bytes, 0);
}

/* ---- append, cumulative ACK ---- */

static void test_append_and_cumulative_ack(void **state)
{
	const uint32_t base = 5000, smax = base + 5 * L;
	uint64_t rtt;
	unsigned ord[8];
	uint32_t a, b;
	(void)state;

	send_n(&Q, base, 5, 100, 10);
	check(&Q, base, smax);
	assert_int_equal(Q.n, 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(rec(&Q, i)->seq, base + i * L);
		assert_int_equal(rec(&Q, i)->end, base + (i + 1) * L);
		assert_int_equal(rec(&Q, i)->xmit, 100 + i * 10);
		assert_int_equal(rec(&Q, i)->flags, 0);
	}
	assert_int_equal(time_order(&Q, ord, 8), 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(ord[i], i);
	assert_int_equal(skiff_tcp_rack_pipe(&Q, base, smax), 5 * L);
	assert_int_equal(skiff_tcp_rack_last(&Q, &a, &b), 0);
	assert_int_equal(a, base + 4 * L);
	assert_int_equal(b, smax);

	/* the ACK covers the first two: they leave; the RTT sample is the oldest one's */
	assert_int_equal(ack_blocks(&Q, base + 2 * L, smax, NULL, 0, false, 0, 1000, &rtt), 2 * L);
	check(&Q, base + 2 * L, smax);
	assert_int_equal(Q.n, 3);
	assert_int_equal(rtt, 1000 - 100);
	assert_true(Q.have_ts);
	assert_int_equal(Q.xmit_ts, 110); /* the newest delivered transmission */
	assert_int_equal(Q.end_seq, base + 2 * L);
	assert_int_equal(Q.rtt, 1000 - 110);
	assert_int_equal(Q.fack, base + 2 * L);

	/* a partial ACK trims the third record; no RTT sample from a part */
	assert_int_equal(ack_blocks(&Q, base + 2 * L + 300, smax, NULL, 0, false, 0, 1100, &rtt), 300);
	check(&Q, base + 2 * L + 300, smax);
	assert_int_equal(Q.n, 3);
	assert_int_equal(rtt, 0);
	assert_int_equal(rec(&Q, 0)->seq, base + 2 * L + 300);
	assert_int_equal(rec(&Q, 0)->end, base + 3 * L);
	assert_int_equal(Q.xmit_ts, 110);

	/* an old ACK changes nothing */
	assert_int_equal(ack_blocks(&Q, base + 2 * L + 300, smax, NULL, 0, false, 0, 1200, &rtt), 0);
	check(&Q, base + 2 * L + 300, smax);
	assert_int_equal(Q.n, 3);

	/* everything acknowledged: the log is empty */
	assert_int_equal(ack_blocks(&Q, smax, smax, NULL, 0, false, 0, 1300, &rtt), 700 + 2 * L);
	assert_int_equal(rtt, 1300 - 120);
	check(&Q, smax, smax);
	assert_int_equal(Q.n, 0);
	assert_int_equal(Q.thead, SKIFF_TCP_RACK_NIL);
	assert_int_equal(Q.ttail, SKIFF_TCP_RACK_NIL);
	assert_int_equal(skiff_tcp_rack_last(&Q, &a, &b), -ENOENT);
	/* the clock given out only moves forward, even when the caller's does not */
	skiff_tcp_rack_sent(&Q, smax, smax + L, smax, 50);
	check(&Q, smax, smax + L);
	assert_int_equal(rec(&Q, 0)->xmit, 141); /* last_xmit (140) + 1 */
}

static void test_partial_acks_of_sacked_and_lost_records(void **state)
{
	const uint32_t base = 1, smax = base + 4 * L;
	uint32_t newly, d_lost;
	(void)state;

	send_n(&Q, base, 4, 0, 1);
	/* record 1 SACKed, record 3 delivered too: record 0 and 2 lost */
	{
		const uint32_t blk[2][2] = { { base + L, base + 2 * L }, { base + 3 * L, base + 4 * L } };
		ack_blocks(&Q, base, smax, blk, 2, false, 0, 100, NULL);
	}
	check(&Q, base, smax);
	detect(&Q, NULL, 0, 1000, &newly);
	assert_int_equal(newly, 2 * L);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_LOST);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_SACKED);
	/* a partial ACK inside the lost record: its rest stays lost */
	d_lost = ack_blocks(&Q, base + 400, smax, NULL, 0, false, 0, 1100, NULL);
	check(&Q, base + 400, smax);
	assert_int_equal(Q.lost_bytes, 2 * L - 400);
	assert_int_equal(rec(&Q, 0)->flags, SKIFF_TCP_TXR_LOST);
	/* a partial ACK inside the SACKed record: its rest stays SACKed; the
	 * 600 bytes of record 0 are delivered now, the SACKed 250 were before */
	assert_int_equal(ack_blocks(&Q, base + L + 250, smax, NULL, 0, false, 0, 1200, NULL), 600);
	check(&Q, base + L + 250, smax);
	assert_int_equal(Q.sacked_bytes, 2 * L - 250);
	assert_int_equal(rec(&Q, 0)->seq, base + L + 250);
	assert_int_equal(rec(&Q, 0)->flags, SKIFF_TCP_TXR_SACKED);
	assert_int_equal(Q.lost_bytes, L);
	/* KNOWN BUG (RACK_PARTIAL_LOST_DELIVERED): skiff_tcp_rack_ack returns the
	 * bytes newly delivered (the header: "acked or SACKed"), and since PRR
	 * (RFC 6937, commit 3bcf228) that is DeliveredData. A
	 * cumulative ACK that ends inside a record counts the acknowledged part
	 * only when the record is in flight: for a LOST record it counts 0,
	 * although SND.UNA moved over those bytes (a LOST record acknowledged
	 * whole counts in full). PRR then undercounts DeliveredData.
	 * Input: record [1, 1001) LOST, ACK 401. Expected 400, observed 0. */
	if (d_lost != 400) {
		print_message("KNOWN BUG RACK_PARTIAL_LOST_DELIVERED: a partial ACK of a lost record delivered %u, "
			      "want 400\n",
			      d_lost);
		if (KB_PARTIAL_LOST_DELIVERED)
			fail_msg("expected 400 delivered");
		skip();
	}
}

/* ---- SACK ---- */

static void test_sack_marks_records_and_rack_state(void **state)
{
	const uint32_t base = 70000, smax = base + 6 * L;
	uint64_t rtt;
	(void)state;

	send_n(&Q, base, 6, 1000, 100); /* xmit 1000, 1100, ... 1500 */
	/* one block over records 2..3 and half of 4 */
	assert_int_equal(ack1(&Q, base, smax, base + 2 * L, base + 4 * L + 500, 5000, &rtt), 2 * L);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base + 2 * L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base + 3 * L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base + 4 * L), 0); /* only partly inside: not SACKed */
	assert_int_equal(Q.sacked_bytes, 2 * L);
	assert_int_equal(rtt, 5000 - 1300); /* the newest SACKed one */
	assert_int_equal(Q.xmit_ts, 1300);
	assert_int_equal(Q.end_seq, base + 4 * L);
	assert_int_equal(Q.rtt, 5000 - 1300);
	assert_int_equal(Q.fack, base + 4 * L);
	assert_false(Q.reord);
	/* the same block again: nothing new */
	assert_int_equal(ack1(&Q, base, smax, base + 2 * L, base + 4 * L, 6000, &rtt), 0);
	assert_int_equal(Q.rtt, 5000 - 1300);
	check(&Q, base, smax);
	/* invalid blocks are ignored: empty, reversed, beyond snd_max, at or below snd_una */
	{
		const uint32_t bad[4][2] = { { base + 5 * L, base + 5 * L },
					     { base + 6 * L, base + 5 * L },
					     { base + 5 * L, smax + 1 },
					     { base - 2 * L, base } };
		assert_int_equal(ack_blocks(&Q, base, smax, bad, 4, false, 0, 7000, &rtt), 0);
		assert_int_equal(rtt, 0);
		check(&Q, base, smax);
	}
	/* a D-SACK first block adds nothing even when it covers unSACKed records;
	 * the block after it counts */
	{
		const uint32_t blk[2][2] = { { base + 5 * L, base + 6 * L }, { base + 4 * L, base + 6 * L } };
		assert_int_equal(ack_blocks(&Q, base, smax, blk, 2, true, 0, 8000, &rtt), 2 * L);
		check(&Q, base, smax);
		assert_int_equal(Q.sacked_bytes, 4 * L);
		assert_int_equal(Q.xmit_ts, 1500);
	}
	/* more than SKIFF_TCP_SACK_BLOCKS blocks: the extra ones are not looked at */
	{
		const uint32_t blk[5][2] = { { base + 2 * L, base + 3 * L }, { base + 2 * L, base + 3 * L },
					     { base + 2 * L, base + 3 * L }, { base + 2 * L, base + 3 * L },
					     { base + L, base + 2 * L } };
		ack_blocks(&Q, base, smax, blk, 5, false, 0, 9000, &rtt);
		check(&Q, base, smax);
		assert_int_equal(flags_at(&Q, base + L), 0);
	}
	/* a block starting below snd_una is clipped to it: the cumulative ACK takes
	 * 500 bytes of record 0, the block the rest of it and record 1 */
	assert_int_equal(ack1(&Q, base + 500, smax, base, base + 2 * L, 9500, &rtt), 500 + 500 + L);
	check(&Q, base + 500, smax);
	assert_int_equal(flags_at(&Q, base + 500), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(Q.sacked_bytes, 5 * L + 500);
	assert_true(Q.reord); /* records 0 and 1 (never retransmitted) delivered below fack */
}

/* ---- detection (step 5) ---- */

static void test_detect_marks_only_older_after_rtt_reo(void **state)
{
	const uint32_t base = 100, smax = base + 5 * L;
	uint32_t newly;
	uint64_t t;
	(void)state;

	send_n(&Q, base, 5, 1 * MS, MS); /* xmit 1, 2, 3, 4, 5 ms */
	/* nothing delivered yet: nothing can be judged */
	assert_int_equal(detect(&Q, NULL, 0, 100 * MS, &newly), 0);
	assert_int_equal(newly, 0);
	/* record 2 (sent at 3 ms) SACKed at 11 ms: RACK.rtt = 8 ms */
	ack1(&Q, base, smax, base + 2 * L, base + 3 * L, 11 * MS, NULL);
	check(&Q, base, smax);
	assert_int_equal(Q.rtt, 8 * MS);
	assert_int_equal(Q.xmit_ts, 3 * MS);
	/* reo_wnd 5 ms: record 0 due at 1 + 8 + 5 = 14 ms, record 1 at 15 ms; 3, 4 sent later: never */
	t = detect(&Q, NULL, 5 * MS, 11 * MS, &newly);
	assert_int_equal(newly, 0);
	assert_int_equal(t, 4 * MS); /* the latest of the waiting ones */
	check(&Q, base, smax);
	t = detect(&Q, NULL, 5 * MS, 14 * MS - 1, &newly);
	assert_int_equal(newly, 0);
	assert_int_equal(t, 1 * MS + 1);
	t = detect(&Q, NULL, 5 * MS, 14 * MS, &newly);
	assert_int_equal(newly, L);
	assert_int_equal(t, 1 * MS);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_LOST);
	assert_int_equal(flags_at(&Q, base + L), 0);
	assert_int_equal(Q.marked_lost, 1);
	check(&Q, base, smax);
	t = detect(&Q, NULL, 5 * MS, 15 * MS, &newly);
	assert_int_equal(newly, L);
	assert_int_equal(t, 0);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_LOST);
	/* records sent after the newest delivered one stay, however late it is */
	t = detect(&Q, NULL, 0, 1000 * MS, &newly);
	assert_int_equal(newly, 0);
	assert_int_equal(t, 0);
	assert_int_equal(flags_at(&Q, base + 3 * L), 0);
	assert_int_equal(flags_at(&Q, base + 4 * L), 0);
	assert_int_equal(Q.lost_bytes, 2 * L);
	assert_int_equal(skiff_tcp_rack_pipe(&Q, base, smax), 2 * L);
	check(&Q, base, smax);
}

static void test_detect_reo_zero_marks_at_once(void **state)
{
	const uint32_t base = 100, smax = base + 4 * L;
	uint32_t newly;
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	ack1(&Q, base, smax, base + 3 * L, base + 4 * L, 5 * MS, NULL);
	/* RACK.rtt = 5 ms - 30 ns: records 0..2 sent 30, 20, 10 ns earlier are overdue */
	assert_int_equal(detect(&Q, NULL, 0, 5 * MS, &newly), 0);
	assert_int_equal(newly, 3 * L);
	check(&Q, base, smax);
}

static void test_detect_consults_scoreboard(void **state)
{
	const uint32_t base = 4000, smax = base + 4 * L;
	struct skiff_tcp_sack sb;
	uint32_t newly;
	bool dsack;
	(void)state;

	skiff_tcp_sack_init(&sb);
	send_n(&Q, base, 4, 0, 10);
	/* an ACK SACKing record 1 was lost on the way: only the scoreboard knows
	 * (it stays in the receiver's later blocks, merged with record 3) */
	{
		const uint32_t b1[1][2] = { { base + L, base + 2 * L } };
		skiff_tcp_sack_update(&sb, base, smax, b1, 1, &dsack);
	}
	ack1(&Q, base, smax, base + 3 * L, base + 4 * L, 1 * MS, NULL);
	{
		const uint32_t b2[1][2] = { { base + 3 * L, base + 4 * L } };
		skiff_tcp_sack_update(&sb, base, smax, b2, 1, &dsack);
	}
	check(&Q, base, smax);
	assert_true(skiff_tcp_sack_covers(&sb, base + L, base + 2 * L));
	assert_int_equal(detect(&Q, &sb, 0, 1 * MS, &newly), 0);
	/* record 1 becomes SACKed, not lost; 0 and 2 are lost */
	assert_int_equal(newly, 2 * L);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_LOST);
	assert_int_equal(flags_at(&Q, base + 2 * L), SKIFF_TCP_TXR_LOST);
	assert_int_equal(Q.sacked_bytes, 2 * L);
	check(&Q, base, smax);
}

static void test_detect_without_scoreboard_marks_lost(void **state)
{
	const uint32_t base = 4000, smax = base + 4 * L;
	uint32_t newly;
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	ack1(&Q, base, smax, base + 3 * L, base + 4 * L, 1 * MS, NULL);
	detect(&Q, NULL, 0, 1 * MS, &newly);
	assert_int_equal(newly, 3 * L);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_LOST);
	check(&Q, base, smax);
}

/* ---- reo_wnd (step 4) ---- */

static void test_reo_wnd_rules(void **state)
{
	const uint64_t min_rtt = 40 * MS, srtt = 100 * MS;
	(void)state;

	/* no reordering seen: 0 in recovery, 0 once DupThresh segments are SACKed */
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, true, 0, min_rtt, srtt), 0);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, SKIFF_TCP_DUPTHRESH, min_rtt, srtt), 0);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 7, min_rtt, srtt), 0);
	/* otherwise min_rtt / 4 */
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, srtt), 10 * MS);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, SKIFF_TCP_DUPTHRESH - 1, min_rtt, srtt), 10 * MS);
	/* capped at SRTT (no cap while SRTT is unknown) */
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, 3 * MS), 3 * MS);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, 0), 10 * MS);
	/* reordering seen: min_rtt / 4 even in recovery or with many SACKed */
	Q.reord = true;
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, true, 0, min_rtt, srtt), 10 * MS);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 50, min_rtt, srtt), 10 * MS);
	/* the multiplier */
	Q.reo_wnd_mult = 3;
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, true, 0, min_rtt, srtt), 30 * MS);
	Q.reo_wnd_mult = 20;
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, true, 0, min_rtt, srtt), srtt);
}

static void test_dsack_widens_once_per_round_and_decays(void **state)
{
	const uint32_t base = 1000, smax = base + 10 * L;
	const uint64_t min_rtt = 40 * MS;
	const uint32_t d[2][2] = { { base - L, base } }; /* a D-SACK below snd_una */
	(void)state;

	send_n(&Q, base, 10, 0, 1);
	assert_int_equal(Q.reo_wnd_mult, 1);
	ack_blocks(&Q, base, smax, d, 1, true, min_rtt, 1 * MS, NULL);
	check(&Q, base, smax);
	assert_int_equal(Q.reo_wnd_mult, 2);
	assert_int_equal(Q.reo_wnd_persist, SKIFF_TCP_RACK_PERSIST);
	assert_true(Q.dsack_round);
	assert_int_equal(Q.dsack_round_end, smax);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, 0), 20 * MS);
	/* a second D-SACK in the same round (snd_una below the round's end): no change */
	ack_blocks(&Q, base + 3 * L, smax, d, 1, true, min_rtt, 2 * MS, NULL);
	check(&Q, base + 3 * L, smax);
	assert_int_equal(Q.reo_wnd_mult, 2);
	/* the round is over once snd_una reaches its end: the next D-SACK widens again */
	skiff_tcp_rack_sent(&Q, smax, smax + L, smax, 3 * MS);
	ack_blocks(&Q, smax, smax + L, d, 1, true, min_rtt, 4 * MS, NULL);
	check(&Q, smax, smax + L);
	assert_int_equal(Q.reo_wnd_mult, 3);
	assert_int_equal(Q.dsack_round_end, smax + L);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, 0), 30 * MS);
	/* the end of a recovery also closes the round */
	skiff_tcp_rack_recovery_done(&Q);
	assert_false(Q.dsack_round);
	assert_int_equal(Q.reo_wnd_persist, SKIFF_TCP_RACK_PERSIST - 1);
	ack_blocks(&Q, smax, smax + L, d, 1, true, min_rtt, 5 * MS, NULL);
	assert_int_equal(Q.reo_wnd_mult, 4);
	assert_int_equal(Q.reo_wnd_persist, SKIFF_TCP_RACK_PERSIST); /* renewed */
	/* 16 recoveries without a new D-SACK: back to 1 */
	for (unsigned i = 0; i < SKIFF_TCP_RACK_PERSIST - 1; i++) {
		skiff_tcp_rack_recovery_done(&Q);
		assert_int_equal(Q.reo_wnd_mult, 4);
	}
	skiff_tcp_rack_recovery_done(&Q);
	assert_int_equal(Q.reo_wnd_mult, 1);
	assert_int_equal(Q.reo_wnd_persist, 0);
	skiff_tcp_rack_recovery_done(&Q); /* and it stays there */
	assert_int_equal(Q.reo_wnd_mult, 1);
	assert_int_equal(skiff_tcp_rack_reo_wnd(&Q, false, 0, min_rtt, 0), 10 * MS);
}

/* ---- reordering (step 3), retransmissions (step 2) ---- */

static void test_reordering_detected(void **state)
{
	const uint32_t base = 10, smax = base + 4 * L;
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	/* record 2 SACKed, then the cumulative ACK brings 0 and 1: 1 (never
	 * retransmitted) was delivered below RACK.fack */
	ack1(&Q, base, smax, base + 2 * L, base + 3 * L, 1 * MS, NULL);
	assert_false(Q.reord);
	assert_int_equal(Q.fack, base + 3 * L);
	ack_blocks(&Q, base + 3 * L, smax, NULL, 0, false, 0, 2 * MS, NULL);
	check(&Q, base + 3 * L, smax);
	assert_true(Q.reord);
	/* RACK.xmit_ts stays at the newest transmission delivered (record 2) */
	assert_int_equal(Q.xmit_ts, 20);
	assert_int_equal(Q.end_seq, base + 3 * L);
	assert_int_equal(Q.fack, base + 3 * L);
}

static void test_retransmitted_delivered_below_fack_is_not_reordering(void **state)
{
	const uint32_t base = 10, smax = base + 4 * L;
	uint32_t newly, a, b;
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	ack1(&Q, base, smax, base + 2 * L, base + 4 * L, 1 * MS, NULL);
	detect(&Q, NULL, 0, 1 * MS, &newly);
	assert_int_equal(newly, 2 * L);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	skiff_tcp_rack_sent(&Q, a, b, smax, 2 * MS);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	skiff_tcp_rack_sent(&Q, a, b, smax, 2 * MS);
	check(&Q, base, smax);
	ack_blocks(&Q, smax, smax, NULL, 0, false, 1 * MS, 3 * MS + 1, NULL);
	check(&Q, smax, smax);
	assert_false(Q.reord);
	assert_int_equal(Q.spurious, 0);
}

static void test_fast_ack_of_retransmission_ignored(void **state)
{
	const uint32_t base = 10, smax = base + 3 * L;
	const uint64_t min_rtt = 10 * MS;
	uint32_t newly, a, b;
	uint64_t rtt;
	(void)state;

	send_n(&Q, base, 3, 0, 10);
	ack1(&Q, base, smax, base + 2 * L, base + 3 * L, 20 * MS, NULL);
	detect(&Q, NULL, 0, 20 * MS, &newly);
	assert_int_equal(newly, 2 * L);
	assert_int_equal(Q.xmit_ts, 20);
	/* record 0 retransmitted at 30 ms */
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base);
	skiff_tcp_rack_sent(&Q, a, b, smax, 30 * MS);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_RETRANS);
	/* ... and acknowledged 1 ms later, under min_rtt: that ACK may be for the
	 * original; RACK is not moved to the retransmission, and (Karn) no RTT sample */
	ack_blocks(&Q, base + L, smax, NULL, 0, false, min_rtt, 31 * MS, &rtt);
	check(&Q, base + L, smax);
	assert_int_equal(rtt, 0);
	assert_int_equal(Q.xmit_ts, 20);
	assert_int_equal(Q.rtt, 20 * MS - 20);
	/* record 1 retransmitted at 40 ms, acknowledged at 55 ms (>= min_rtt): RACK moves */
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base + L);
	skiff_tcp_rack_sent(&Q, a, b, smax, 40 * MS);
	ack_blocks(&Q, base + 2 * L, smax, NULL, 0, false, min_rtt, 55 * MS, &rtt);
	check(&Q, base + 2 * L, smax);
	assert_int_equal(rtt, 0); /* still no RTT sample from a retransmission */
	assert_int_equal(Q.xmit_ts, 40 * MS);
	assert_int_equal(Q.rtt, 15 * MS);
	assert_int_equal(Q.end_seq, base + 2 * L);
}

/* ---- spurious marks ---- */

static void test_lost_delivered_before_retransmission_is_spurious(void **state)
{
	const uint32_t base = 10, smax = base + 4 * L;
	uint32_t newly;
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	ack1(&Q, base, smax, base + 3 * L, base + 4 * L, 1 * MS, NULL);
	detect(&Q, NULL, 0, 1 * MS, &newly);
	assert_int_equal(newly, 3 * L);
	assert_int_equal(Q.reo_wnd_mult, 1);
	/* record 1 is SACKed although never retransmitted: the mark was wrong */
	ack1(&Q, base, smax, base + L, base + 2 * L, 2 * MS, NULL);
	check(&Q, base, smax);
	assert_int_equal(Q.spurious, 1);
	assert_int_equal(Q.reo_wnd_mult, 2);
	assert_int_equal(Q.reo_wnd_persist, SKIFF_TCP_RACK_PERSIST);
	assert_int_equal(Q.lost_bytes, 2 * L);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_SACKED);
	/* record 0 cumulatively acknowledged without a retransmission: spurious too,
	 * but the window widens once per round */
	ack_blocks(&Q, base + L, smax, NULL, 0, false, 0, 3 * MS, NULL);
	check(&Q, base + L, smax);
	assert_int_equal(Q.spurious, 2);
	assert_int_equal(Q.reo_wnd_mult, 2);
	assert_int_equal(Q.lost_bytes, L);
}

/* ---- next_lost, retransmission, lost retransmissions ---- */

static void test_next_lost_and_retransmission_order(void **state)
{
	const uint32_t base = 0, smax = base + 8 * L;
	unsigned ord[16], k;
	uint32_t newly, a, b;
	(void)state;

	send_n(&Q, base, 8, 0, 10); /* xmit 0, 10, ... 70 */
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), -ENOENT);
	/* records 2 and 5 SACKed (5 sent at 50): 0, 1, 3, 4 lost */
	{
		const uint32_t blk[2][2] = { { base + 5 * L, base + 6 * L }, { base + 2 * L, base + 3 * L } };
		ack_blocks(&Q, base, smax, blk, 2, false, 0, 10 * MS, NULL);
	}
	detect(&Q, NULL, 0, 10 * MS, &newly);
	assert_int_equal(newly, 4 * L);
	check(&Q, base, smax);
	/* next_lost: the lowest, without consuming it */
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base);
	assert_int_equal(b, base + L);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base);
	/* retransmitting it: not lost any more, RETRANS, last in the time order */
	skiff_tcp_rack_sent(&Q, a, b, smax, 11 * MS);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_RETRANS);
	k = time_order(&Q, ord, 16);
	assert_int_equal(k, 3); /* 6, 7, then the retransmitted 0 */
	assert_int_equal(ord[0], 6);
	assert_int_equal(ord[1], 7);
	assert_int_equal(ord[2], 0);
	assert_int_equal(rec(&Q, 0)->xmit, 11 * MS);
	assert_int_equal(skiff_tcp_rack_pipe(&Q, base, smax), 3 * L);
	/* the next ones in order */
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base + L);
	skiff_tcp_rack_sent(&Q, a, b, smax, 11 * MS + 1);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base + 3 * L);
	skiff_tcp_rack_sent(&Q, a, b, smax, 11 * MS + 2);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base + 4 * L);
	skiff_tcp_rack_sent(&Q, a, b, smax, 11 * MS + 3);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), -ENOENT);
	check(&Q, base, smax);
	k = time_order(&Q, ord, 16);
	assert_int_equal(k, 6);
	assert_int_equal(ord[2], 0);
	assert_int_equal(ord[3], 1);
	assert_int_equal(ord[4], 3);
	assert_int_equal(ord[5], 4);

	/* record 7 (sent at 70 ns, before every retransmission) SACKed late: it
	 * cannot make the retransmissions lost again */
	ack1(&Q, base, smax, base + 7 * L, base + 8 * L, 30 * MS, NULL);
	detect(&Q, NULL, 0, 30 * MS, &newly);
	check(&Q, base, smax);
	assert_int_equal(newly, L); /* record 6 only (sent at 60, before 70) */
	assert_int_equal(flags_at(&Q, base + 6 * L), SKIFF_TCP_TXR_LOST);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_RETRANS);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_RETRANS);
	/* new data sent after the retransmissions is SACKed a round trip later: the
	 * retransmissions (older) are lost again: lost retransmissions */
	skiff_tcp_rack_sent(&Q, smax, smax + L, smax, 31 * MS);
	{
		const uint32_t blk[1][2] = { { smax, smax + L } };
		ack_blocks(&Q, base, smax + L, blk, 1, false, 1 * MS, 41 * MS, NULL);
	}
	check(&Q, base, smax + L);
	assert_int_equal(Q.xmit_ts, 31 * MS);
	assert_int_equal(Q.rtt, 10 * MS);
	detect(&Q, NULL, 0, 41 * MS, &newly);
	check(&Q, base, smax + L);
	assert_int_equal(newly, 4 * L); /* 0, 1, 3, 4 again (sent 11 ms + 0..3 ns, due 21 ms) */
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_RETRANS | SKIFF_TCP_TXR_LOST);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base);
	assert_int_equal(Q.spurious, 0);
}

static void test_retransmission_spanning_records(void **state)
{
	const uint32_t base = 300, smax = base + 4 * L;
	unsigned ord[8];
	(void)state;

	send_n(&Q, base, 4, 0, 10);
	ack1(&Q, base, smax, base + 2 * L, base + 3 * L, 1 * MS, NULL);
	/* one retransmission over [0.5, 3.5) records: 0 (partly), 1, 3 (partly);
	 * 2 is SACKed and stays as it is */
	skiff_tcp_rack_sent(&Q, base + 500, base + 3 * L + 500, smax, 2 * MS);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base), SKIFF_TCP_TXR_RETRANS);
	assert_int_equal(flags_at(&Q, base + L), SKIFF_TCP_TXR_RETRANS);
	assert_int_equal(flags_at(&Q, base + 2 * L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base + 3 * L), SKIFF_TCP_TXR_RETRANS);
	assert_int_equal(time_order(&Q, ord, 8), 3);
	assert_int_equal(ord[0], 0);
	assert_int_equal(ord[1], 1);
	assert_int_equal(ord[2], 3);
	/* a retransmission that runs past snd_max: the old part is marked, the new part appended */
	skiff_tcp_rack_sent(&Q, base + 3 * L, smax + L, smax, 3 * MS);
	check(&Q, base, smax + L);
	assert_int_equal(Q.n, 5);
	assert_int_equal(rec(&Q, 4)->seq, smax);
	assert_int_equal(rec(&Q, 4)->end, smax + L);
	assert_int_equal(rec(&Q, 4)->flags, 0);
	assert_int_equal(rec(&Q, 3)->xmit, rec(&Q, 4)->xmit);
	/* the same time for both: the ring order breaks the tie (step 2: by end) */
	assert_int_equal(time_order(&Q, ord, 8), 4);
	assert_int_equal(ord[2], 3);
	assert_int_equal(ord[3], 4);
}

/* ---- RTO ---- */

static void test_rto_marks_everything_lost(void **state)
{
	const uint32_t base = 900, smax = base + 6 * L;
	uint32_t newly, a, b;
	unsigned ord[8];
	(void)state;

	send_n(&Q, base, 6, 0, 10);
	ack1(&Q, base, smax, base + 2 * L, base + 3 * L, 1 * MS, NULL);
	detect(&Q, NULL, 0, 1 * MS, &newly); /* 0, 1 lost; 3..5 in flight */
	assert_int_equal(newly, 2 * L);
	Q.tlp_out = true;
	skiff_tcp_rack_rto(&Q);
	check(&Q, base, smax);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(rec(&Q, i)->flags & (SKIFF_TCP_TXR_LOST | SKIFF_TCP_TXR_SACKED), SKIFF_TCP_TXR_LOST);
	assert_int_equal(Q.sacked_bytes, 0);
	assert_int_equal(Q.lost_bytes, 6 * L);
	assert_int_equal(Q.thead, SKIFF_TCP_RACK_NIL);
	assert_int_equal(skiff_tcp_rack_pipe(&Q, base, smax), 0);
	assert_false(Q.tlp_out);
	/* go-back-N refills the time order */
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
		assert_int_equal(a, base + i * L);
		skiff_tcp_rack_sent(&Q, a, b, smax, 2 * MS + i);
		check(&Q, base, smax);
	}
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), -ENOENT);
	assert_int_equal(time_order(&Q, ord, 8), 6);
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(ord[i], i);
	assert_int_equal(skiff_tcp_rack_pipe(&Q, base, smax), 6 * L);
	/* a second RTO before anything was delivered */
	skiff_tcp_rack_rto(&Q);
	check(&Q, base, smax);
	assert_int_equal(Q.lost_bytes, 6 * L);
}

/* ---- ring full ---- */

static void test_ring_full(void **state)
{
	const uint32_t base = 77;
	uint32_t smax, newly;
	(void)state;

	send_n(&Q, base, Q.cap, 0, 1);
	smax = base + Q.cap * L;
	check(&Q, base, smax);
	assert_true(skiff_tcp_rack_full(&Q));
	/* one more: not tracked, counted */
	skiff_tcp_rack_sent(&Q, smax, smax + L, smax, 100);
	assert_int_equal(Q.untracked, 1);
	assert_int_equal(Q.n, Q.cap);
	smax += L;
	check(&Q, base, smax);
	/* retransmissions still work on a full ring */
	ack1(&Q, base, smax, base + 5 * L, base + 6 * L, 1 * MS, NULL);
	detect(&Q, NULL, 0, 1 * MS, &newly);
	assert_int_equal(newly, 5 * L);
	skiff_tcp_rack_sent(&Q, base, base + L, smax, 2 * MS);
	check(&Q, base, smax);
	assert_int_equal(Q.untracked, 1);
	/* ACKs free records: new ones are tracked again, after the untracked gap */
	ack_blocks(&Q, base + 2 * L, smax, NULL, 0, false, 0, 3 * MS, NULL);
	check(&Q, base + 2 * L, smax);
	assert_false(skiff_tcp_rack_full(&Q));
	skiff_tcp_rack_sent(&Q, smax, smax + L, smax, 4 * MS);
	check(&Q, base + 2 * L, smax + L);
	assert_int_equal(rec(&Q, Q.n - 1)->seq, smax);
	assert_int_equal(rec(&Q, Q.n - 2)->end, smax - L); /* the gap */
	/* an ACK over the gap and beyond */
	ack_blocks(&Q, smax + L, smax + L, NULL, 0, false, 0, 5 * MS, NULL);
	check(&Q, smax + L, smax + L);
	assert_int_equal(Q.n, 0);
	assert_int_equal(Q.lost_bytes + Q.sacked_bytes, 0);
}

/* ---- wrap-around ---- */

static void test_sequence_wraparound(void **state)
{
	const uint32_t base = 0xffffffffu - 2500u; /* records 2 and 3 straddle / follow 2^32 */
	const uint32_t smax = base + 6 * L;
	uint32_t newly, a, b;
	uint64_t rtt;
	(void)state;

	send_n(&Q, base, 6, 0, 10);
	check(&Q, base, smax);
	assert_true(rec(&Q, 3)->seq < 1000); /* wrapped */
	/* SACK of 3..4 across the wrap */
	ack1(&Q, base, smax, base + 3 * L, base + 5 * L, 1 * MS, &rtt);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base + 3 * L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(flags_at(&Q, base + 4 * L), SKIFF_TCP_TXR_SACKED);
	assert_int_equal(Q.end_seq, base + 5 * L);
	assert_int_equal(Q.fack, base + 5 * L);
	detect(&Q, NULL, 0, 1 * MS, &newly);
	assert_int_equal(newly, 3 * L);
	assert_int_equal(skiff_tcp_rack_next_lost(&Q, &a, &b), 0);
	assert_int_equal(a, base);
	/* retransmit the one that straddles 2^32 */
	skiff_tcp_rack_sent(&Q, base + 2 * L, base + 3 * L, smax, 2 * MS);
	check(&Q, base, smax);
	assert_int_equal(flags_at(&Q, base + 2 * L), SKIFF_TCP_TXR_RETRANS);
	/* cumulative ACK across the wrap */
	ack_blocks(&Q, base + 2 * L + 700, smax, NULL, 0, false, 0, 3 * MS, NULL);
	check(&Q, base + 2 * L + 700, smax);
	assert_int_equal(rec(&Q, 0)->seq, base + 2 * L + 700);
	ack_blocks(&Q, base + 5 * L, smax, NULL, 0, false, 0, 4 * MS, NULL);
	check(&Q, base + 5 * L, smax);
	assert_int_equal(Q.n, 1);
	assert_int_equal(Q.sacked_bytes, 0);
	assert_int_equal(Q.lost_bytes, 0);
}

/* ---- a random run against an array model ---- */

struct mrec {
	uint32_t seq, end;
	uint64_t xmit;
	uint8_t flags;
};

/* The model: the header's contract, written as plainly as possible. */
struct model {
	struct mrec r[SKIFF_TCP_RACK_MAX];
	unsigned n, cap;
	uint64_t last_xmit;
	uint64_t xmit_ts, rtt;
	uint32_t end_seq, fack;
	bool have_ts, reord, dsack_round, tlp_out;
	uint32_t dsack_round_end;
	unsigned mult, persist;
	uint64_t marked_lost, spurious, untracked;
};

static struct model M;
static uint32_t M_lost_cut; /* the last ACK's part of a LOST record (RACK_PARTIAL_LOST_DELIVERED) */

/* What the random runs went through (each must happen, or the run proves little). */
static struct {
	uint64_t lost, lost_rexmit, sb_sacked, spurious, untracked, widen, rto, partial, fast_rexmit_ack, reord;
	uint64_t kb_partial_lost;
} COV;

static uint64_t rng_state;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}
static uint32_t rndn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }

static bool m_after(uint64_t t1, uint32_t e1, uint64_t t2, uint32_t e2)
{
	return t1 > t2 || (t1 == t2 && SEQ_GT(e1, e2));
}

static void m_sent(uint32_t seq, uint32_t end, uint32_t smax, uint64_t now)
{
	if (!SEQ_LT(seq, end))
		return;
	if (now <= M.last_xmit)
		now = M.last_xmit + 1;
	M.last_xmit = now;
	if (SEQ_LT(seq, smax)) {
		uint32_t stop = SEQ_LT(end, smax) ? end : smax;
		for (unsigned i = 0; i < M.n; i++) {
			struct mrec *r = &M.r[i];
			if (SEQ_LEQ(r->end, seq) || SEQ_GEQ(r->seq, stop) || (r->flags & SKIFF_TCP_TXR_SACKED))
				continue;
			r->flags = (uint8_t)((r->flags & ~SKIFF_TCP_TXR_LOST) | SKIFF_TCP_TXR_RETRANS);
			r->xmit = now;
		}
		seq = stop;
	}
	if (!SEQ_LT(seq, end))
		return;
	if (M.n == M.cap) {
		M.untracked++;
		COV.untracked++;
		return;
	}
	M.r[M.n++] = (struct mrec){ seq, end, now, 0 };
}

static void m_update(const struct mrec *r, uint64_t min_rtt, uint64_t now)
{
	uint64_t rtt = now > r->xmit ? now - r->xmit : 0;
	if ((r->flags & SKIFF_TCP_TXR_RETRANS) && rtt < min_rtt) {
		COV.fast_rexmit_ack++;
		return;
	}
	if (!M.have_ts || m_after(r->xmit, r->end, M.xmit_ts, M.end_seq)) {
		M.rtt = rtt;
		M.xmit_ts = r->xmit;
		M.end_seq = r->end;
	}
	if (!M.have_ts || !SEQ_LT(r->end, M.fack))
		M.fack = r->end;
	else if (!(r->flags & SKIFF_TCP_TXR_RETRANS))
		M.reord = true, COV.reord++;
	M.have_ts = true;
}

static bool m_spurious(const struct mrec *r)
{
	if ((r->flags & (SKIFF_TCP_TXR_LOST | SKIFF_TCP_TXR_RETRANS | SKIFF_TCP_TXR_RTO)) != SKIFF_TCP_TXR_LOST)
		return false;
	M.spurious++;
	COV.spurious++;
	return true;
}

static uint32_t m_ack(uint32_t una, uint32_t smax, const uint32_t (*b)[2], unsigned nb, bool dsack, uint64_t min_rtt,
		      uint64_t now, uint64_t *rtt)
{
	uint32_t delivered = 0;
	uint64_t sack_rtt = 0;
	bool spur = false;
	unsigned k = 0;
	*rtt = 0;
	while (k < M.n && SEQ_LEQ(M.r[k].end, una)) {
		struct mrec *r = &M.r[k++];
		spur |= m_spurious(r);
		if (!(r->flags & SKIFF_TCP_TXR_SACKED)) {
			m_update(r, min_rtt, now);
			delivered += r->end - r->seq;
			if (!*rtt && !(r->flags & SKIFF_TCP_TXR_RETRANS) && now > r->xmit)
				*rtt = now - r->xmit;
		}
	}
	memmove(&M.r[0], &M.r[k], (M.n - k) * sizeof(M.r[0]));
	M.n -= k;
	M_lost_cut = 0;
	if (M.n && SEQ_LT(M.r[0].seq, una)) {
		/* SND.UNA moved over these bytes: delivered now unless SACKed before */
		if (!(M.r[0].flags & SKIFF_TCP_TXR_SACKED))
			delivered += una - M.r[0].seq;
		if (M.r[0].flags & SKIFF_TCP_TXR_LOST)
			M_lost_cut = una - M.r[0].seq;
		COV.partial++;
		M.r[0].seq = una;
	}
	for (unsigned bi = dsack ? 1u : 0u; bi < nb && bi < SKIFF_TCP_SACK_BLOCKS; bi++) {
		uint32_t s = b[bi][0], e = b[bi][1];
		if (!(SEQ_LT(una, e) && SEQ_LT(s, e) && SEQ_LEQ(e, smax)))
			continue;
		if (SEQ_LT(s, una))
			s = una;
		for (unsigned i = 0; i < M.n; i++) {
			struct mrec *r = &M.r[i];
			if (SEQ_LT(r->seq, s) || SEQ_GT(r->end, e) || (r->flags & SKIFF_TCP_TXR_SACKED))
				continue;
			spur |= m_spurious(r);
			r->flags = (uint8_t)((r->flags & ~SKIFF_TCP_TXR_LOST) | SKIFF_TCP_TXR_SACKED);
			delivered += r->end - r->seq;
			m_update(r, min_rtt, now);
			if (!(r->flags & SKIFF_TCP_TXR_RETRANS) && now > r->xmit)
				sack_rtt = now - r->xmit;
		}
	}
	if ((dsack || spur) && !(M.dsack_round && SEQ_LT(una, M.dsack_round_end))) {
		COV.widen++;
		if (M.mult < 255)
			M.mult++;
		M.persist = SKIFF_TCP_RACK_PERSIST;
		M.dsack_round = true;
		M.dsack_round_end = smax;
	}
	if (!*rtt)
		*rtt = sack_rtt;
	return delivered;
}

static uint64_t m_detect(const struct skiff_tcp_sack *sb, uint64_t reo, uint64_t now, uint32_t *newly)
{
	uint64_t timeout = 0;
	*newly = 0;
	if (!M.have_ts)
		return 0;
	for (unsigned i = 0; i < M.n; i++) {
		struct mrec *r = &M.r[i];
		uint64_t dl;
		if ((r->flags & (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST)) ||
		    !m_after(M.xmit_ts, M.end_seq, r->xmit, r->end))
			continue;
		if (sb && skiff_tcp_sack_covers(sb, r->seq, r->end)) {
			r->flags |= SKIFF_TCP_TXR_SACKED;
			COV.sb_sacked++;
			continue;
		}
		dl = r->xmit + M.rtt + reo;
		if (dl <= now) {
			COV.lost++;
			COV.lost_rexmit += (r->flags & SKIFF_TCP_TXR_RETRANS) != 0;
			r->flags |= SKIFF_TCP_TXR_LOST;
			*newly += r->end - r->seq;
			M.marked_lost++;
		} else if (dl - now > timeout) {
			timeout = dl - now;
		}
	}
	return timeout;
}

static int m_next_lost(uint32_t *a, uint32_t *b)
{
	for (unsigned i = 0; i < M.n; i++)
		if (M.r[i].flags & SKIFF_TCP_TXR_LOST) {
			*a = M.r[i].seq;
			*b = M.r[i].end;
			return 0;
		}
	return -ENOENT;
}

static void m_rto(void)
{
	COV.rto++;
	for (unsigned i = 0; i < M.n; i++)
		if (!(M.r[i].flags & SKIFF_TCP_TXR_LOST))
			M.r[i].flags = (uint8_t)((M.r[i].flags & ~SKIFF_TCP_TXR_SACKED) | SKIFF_TCP_TXR_LOST |
						 SKIFF_TCP_TXR_RTO);
	M.tlp_out = false;
}

static void m_recovery_done(void)
{
	if (M.persist && --M.persist == 0)
		M.mult = 1;
	M.dsack_round = false;
}

/* The log equals the model: records, time order, RACK state, counters. */
static void compare(const struct skiff_tcp_rack *q, uint32_t una, uint32_t smax, unsigned step)
{
	unsigned ord[SKIFF_TCP_RACK_MAX], nord, want = 0;
	check(q, una, smax);
	if (q->n != M.n)
		fail_msg("step %u: %u records, model %u", step, q->n, M.n);
	for (unsigned i = 0; i < M.n; i++) {
		const struct skiff_tcp_txrec *r = rec(q, i);
		if (r->seq != M.r[i].seq || r->end != M.r[i].end || r->xmit != M.r[i].xmit || r->flags != M.r[i].flags)
			fail_msg("step %u: record %u [%u, %u) x%llu f%u, model [%u, %u) x%llu f%u", step, i, r->seq, r->end,
				 (unsigned long long)r->xmit, r->flags, M.r[i].seq, M.r[i].end,
				 (unsigned long long)M.r[i].xmit, M.r[i].flags);
	}
	/* time order: the in-flight ones by (xmit, end) */
	nord = time_order(q, ord, SKIFF_TCP_RACK_MAX);
	for (unsigned i = 0; i < nord; i++) {
		const struct mrec *a = &M.r[ord[i]];
		if (i) {
			const struct mrec *p = &M.r[ord[i - 1]];
			if (!m_after(a->xmit, a->end, p->xmit, p->end))
				fail_msg("step %u: time order position %u not after the previous", step, i);
		}
	}
	for (unsigned i = 0; i < M.n; i++)
		want += !(M.r[i].flags & (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST));
	assert_int_equal(nord, want);
	assert_int_equal(q->last_xmit, M.last_xmit);
	assert_int_equal(q->have_ts, M.have_ts);
	if (M.have_ts) {
		assert_int_equal(q->xmit_ts, M.xmit_ts);
		assert_int_equal(q->end_seq, M.end_seq);
		assert_int_equal(q->rtt, M.rtt);
		assert_int_equal(q->fack, M.fack);
	}
	assert_int_equal(q->reord, M.reord);
	assert_int_equal(q->reo_wnd_mult, M.mult);
	assert_int_equal(q->reo_wnd_persist, M.persist);
	assert_int_equal(q->dsack_round, M.dsack_round);
	if (M.dsack_round)
		assert_int_equal(q->dsack_round_end, M.dsack_round_end);
	assert_int_equal(q->tlp_out, M.tlp_out);
	assert_int_equal(q->marked_lost, M.marked_lost);
	assert_int_equal(q->spurious, M.spurious);
	assert_int_equal(q->untracked, M.untracked);
}

static uint32_t rnd_seq_in(uint32_t lo, uint32_t hi) /* [lo, hi] */
{
	return lo + rndn(hi - lo + 1);
}

static void random_run(uint64_t seed, uint32_t base, uint32_t sndbuf, unsigned steps)
{
	struct skiff_tcp_rack q;
	struct skiff_tcp_sack sb;
	uint32_t una = base, smax = base;
	uint64_t now = 1000;
	uint64_t min_rtt = 0;

	rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
	skiff_tcp_rack_init(&q);
	assert_int_equal(skiff_tcp_rack_alloc(&q, sndbuf), 0);
	skiff_tcp_sack_init(&sb);
	memset(&M, 0, sizeof(M));
	M.cap = q.cap;
	M.mult = 1;

	for (unsigned step = 0; step < steps; step++) {
		unsigned op = rndn(100);
		now += rndn(4) == 0 ? 0 : rndn(3 * MS);
		if (op < 35) {
			/* new data (refused by the caller when the ring is full, except
			 * now and then, to exercise the untracked path) */
			uint32_t len = 1 + rndn(1500);
			if (smax - una > (1u << 24) || (skiff_tcp_rack_full(&q) && rndn(8)))
				continue;
			skiff_tcp_rack_sent(&q, smax, smax + len, smax, now);
			m_sent(smax, smax + len, smax, now);
			smax += len;
		} else if (op < 43 && smax != una) {
			/* a retransmission of any range, sometimes running past snd_max */
			uint32_t a = rnd_seq_in(una, smax - 1), len = 1 + rndn(3000), nsm;
			skiff_tcp_rack_sent(&q, a, a + len, smax, now);
			m_sent(a, a + len, smax, now);
			nsm = SEQ_GT(a + len, smax) ? a + len : smax;
			smax = nsm;
		} else if (op < 53) {
			/* retransmit the lowest lost */
			uint32_t a1, b1, a2, b2;
			int r1 = skiff_tcp_rack_next_lost(&q, &a1, &b1), r2 = m_next_lost(&a2, &b2);
			assert_int_equal(r1, r2);
			if (r1 == 0) {
				assert_int_equal(a1, a2);
				assert_int_equal(b1, b2);
				skiff_tcp_rack_sent(&q, a1, b1, smax, now);
				m_sent(a1, b1, smax, now);
			}
		} else if (op < 80) {
			/* an ACK: maybe a new cumulative ACK, 0..4 blocks (mostly valid) */
			uint32_t blk[5][2], nu = una, d1, d2;
			uint64_t r1, r2, mr = min_rtt;
			unsigned nb = rndn(6);
			bool dsack = false;
			if (rndn(3) == 0 && smax != una) {
				/* mostly on a record boundary, sometimes inside one */
				if (M.n && rndn(4)) {
					unsigned k = rndn(M.n < 3 ? M.n : 3); /* a few records at a time: the ring fills */
					nu = rndn(3) ? M.r[k].end : M.r[k].seq;
				} else {
					nu = rnd_seq_in(una, smax);
				}
			}
			for (unsigned i = 0; i < nb; i++) {
				uint32_t s, e;
				if (M.n && rndn(3)) {
					unsigned k1 = rndn(M.n), k2 = k1 + rndn(M.n - k1);
					s = M.r[k1].seq + (rndn(5) ? 0 : rndn(100));
					e = M.r[k2].end - (rndn(5) ? 0 : rndn(100));
				} else if (rndn(4)) {
					s = rnd_seq_in(una - 2000, smax);
					e = s + rndn(5000);
				} else {
					s = (uint32_t)rnd();
					e = (uint32_t)rnd();
				}
				blk[i][0] = s;
				blk[i][1] = e;
			}
			if (rndn(3) == 0)
				mr = rndn(5 * MS);
			/* the scoreboard first, as the connection does, and its D-SACK verdict */
			if (SEQ_GT(nu, una))
				skiff_tcp_sack_advance(&sb, nu);
			if (nb)
				skiff_tcp_sack_update(&sb, nu, smax, (const uint32_t(*)[2])blk, nb, &dsack);
			d1 = skiff_tcp_rack_ack(&q, nu, smax, (const uint32_t(*)[2])blk, nb, dsack, mr, now, &r1);
			d2 = m_ack(nu, smax, (const uint32_t(*)[2])blk, nb, dsack, mr, now, &r2);
			if (d1 != d2) {
				if (!KB_PARTIAL_LOST_DELIVERED && M_lost_cut && d1 == d2 - M_lost_cut)
					COV.kb_partial_lost++; /* the known bug, nothing else */
				else
					fail_msg("step %u: ack delivered %u, model %u", step, d1, d2);
			}
			if (r1 != r2)
				fail_msg("step %u: ack rtt %llu, model %llu", step, (unsigned long long)r1,
					 (unsigned long long)r2);
			una = nu;
			if (r1 && (!min_rtt || r1 < min_rtt))
				min_rtt = r1;
		} else if (op < 92) {
			uint32_t n1, n2;
			uint64_t reo = rndn(3) == 0 ? 0 : rndn(4 * MS), t1, t2;
			const struct skiff_tcp_sack *s = rndn(4) ? &sb : NULL;
			t1 = skiff_tcp_rack_detect(&q, s, reo, now, &n1);
			t2 = m_detect(s, reo, now, &n2);
			if (n1 != n2 || t1 != t2)
				fail_msg("step %u: detect newly %u timeout %llu, model %u %llu", step, n1,
					 (unsigned long long)t1, n2, (unsigned long long)t2);
		} else if (op < 93) {
			skiff_tcp_rack_rto(&q);
			m_rto();
			skiff_tcp_sack_init(&sb);
		} else if (op < 96) {
			skiff_tcp_rack_recovery_done(&q);
			m_recovery_done();
		} else if (op < 98 && M.n) {
			/* blocks the scoreboard merged from ACKs whose own blocks split
			 * records (the log marks a record only inside one block) */
			unsigned k = rndn(M.n);
			uint32_t mid = M.r[k].seq + rndn(M.r[k].end - M.r[k].seq);
			const uint32_t b1[1][2] = { { M.r[k].seq, mid + 1 } }, b2[1][2] = { { mid, M.r[k].end } };
			bool d;
			skiff_tcp_sack_update(&sb, una, smax, b1, 1, &d);
			skiff_tcp_sack_update(&sb, una, smax, b2, 1, &d);
		} else {
			uint32_t a, b;
			int rc = skiff_tcp_rack_last(&q, &a, &b);
			if (M.n) {
				assert_int_equal(rc, 0);
				assert_int_equal(a, M.r[M.n - 1].seq);
				assert_int_equal(b, M.r[M.n - 1].end);
			} else {
				assert_int_equal(rc, -ENOENT);
			}
			q.tlp_out = M.tlp_out = rndn(2);
		}
		compare(&q, una, smax, step);
	}
	skiff_tcp_rack_free(&q);
}

static void test_random_against_model(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 24; seed++)
		random_run(seed, (uint32_t)(seed * 0x1234567u), 0, 4000); /* 64 records: the full ring is frequent */
	for (uint64_t seed = 100; seed <= 107; seed++)
		random_run(seed, 0xffffffffu - (uint32_t)(seed * 10000u), 131072, 4000); /* across 2^32 */
	random_run(7777, 0x7ffff000u, 1u << 22, 8000);
	print_message("lost %llu (of retransmissions %llu), SACKed from the scoreboard %llu, spurious %llu, "
		      "widened %llu, untracked %llu, rto %llu, partial %llu, fast rexmit ACKs %llu, reordering %llu, "
		      "known bug RACK_PARTIAL_LOST_DELIVERED seen %llu times\n",
		      (unsigned long long)COV.lost, (unsigned long long)COV.lost_rexmit,
		      (unsigned long long)COV.sb_sacked, (unsigned long long)COV.spurious, (unsigned long long)COV.widen,
		      (unsigned long long)COV.untracked, (unsigned long long)COV.rto, (unsigned long long)COV.partial,
		      (unsigned long long)COV.fast_rexmit_ack, (unsigned long long)COV.reord,
		      (unsigned long long)COV.kb_partial_lost);
	assert_true(COV.lost > 100 && COV.lost_rexmit > 10 && COV.sb_sacked > 10 && COV.spurious > 10);
	assert_true(COV.widen > 10 && COV.untracked > 10 && COV.rto > 10 && COV.partial > 10);
	assert_true(COV.fast_rexmit_ack > 10 && COV.reord > 10);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_alloc_sizes_and_unallocated),
		T_(test_append_and_cumulative_ack),
		T_(test_partial_acks_of_sacked_and_lost_records),
		T_(test_sack_marks_records_and_rack_state),
		T_(test_detect_marks_only_older_after_rtt_reo),
		T_(test_detect_reo_zero_marks_at_once),
		T_(test_detect_consults_scoreboard),
		T_(test_detect_without_scoreboard_marks_lost),
		T_(test_reo_wnd_rules),
		T_(test_dsack_widens_once_per_round_and_decays),
		T_(test_reordering_detected),
		T_(test_retransmitted_delivered_below_fack_is_not_reordering),
		T_(test_fast_ack_of_retransmission_ignored),
		T_(test_lost_delivered_before_retransmission_is_spurious),
		T_(test_next_lost_and_retransmission_order),
		T_(test_retransmission_spanning_records),
		T_(test_rto_marks_everything_lost),
		T_(test_ring_full),
		T_(test_sequence_wraparound),
		T_(test_random_against_model),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
