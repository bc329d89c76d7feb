/* tcp_rack.c — the transmit log and RACK loss detection (RFC 8985 6).
 *
 * sent: new part → append a record at the ring's tail and the time order's tail;
 * retransmitted part → its records (binary search) leave LOST, get RETRANS and a
 * new time, and move to the time order's tail.
 * ack: records below snd_una are delivered and leave; records fully inside one
 * of this ACK's SACK blocks are delivered and become SACKed (off the time
 * order). Every delivery runs rack_update (6.2 steps 2-3).
 * detect: walk the time order from the oldest while the record was sent before
 * RACK.xmit_ts; expired ones become LOST (off the time order), the others give
 * the reordering timeout (step 5).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_rack.h"
#include "tcp_seq.h"

static inline uint16_t slot(const struct skiff_tcp_rack *q, uint32_t i) { return (uint16_t)((q->head + i) & (q->cap - 1)); }
static inline uint32_t rec_len(const struct skiff_tcp_txrec *r) { return r->end - r->seq; }

void skiff_tcp_rack_init(struct skiff_tcp_rack *q)
{
	memset(q, 0, sizeof(*q));
	q->thead = q->ttail = SKIFF_TCP_RACK_NIL;
	q->reo_wnd_mult = 1;
}

int skiff_tcp_rack_alloc(struct skiff_tcp_rack *q, uint32_t sndbuf)
{
	uint32_t want = sndbuf / 512, cap = SKIFF_TCP_RACK_MIN;
	if (q->r)
		return 0;
	while (cap < want && cap < SKIFF_TCP_RACK_MAX)
		cap <<= 1;
	q->r = calloc(cap, sizeof(*q->r));
	if (!q->r)
		return -ENOMEM;
	q->cap = (uint16_t)cap;
	q->head = q->n = 0;
	q->thead = q->ttail = SKIFF_TCP_RACK_NIL;
	return 0;
}

void skiff_tcp_rack_free(struct skiff_tcp_rack *q)
{
	free(q->r);
	q->r = NULL;
	q->cap = q->n = q->head = 0;
	q->thead = q->ttail = SKIFF_TCP_RACK_NIL;
	q->sacked_bytes = q->lost_bytes = 0;
}

/* ---- time order ---- */

static void t_unlink(struct skiff_tcp_rack *q, uint16_t s)
{
	struct skiff_tcp_txrec *r = &q->r[s];
	if (r->tprev != SKIFF_TCP_RACK_NIL)
		q->r[r->tprev].tnext = r->tnext;
	else if (q->thead == s)
		q->thead = r->tnext;
	if (r->tnext != SKIFF_TCP_RACK_NIL)
		q->r[r->tnext].tprev = r->tprev;
	else if (q->ttail == s)
		q->ttail = r->tprev;
	r->tprev = r->tnext = SKIFF_TCP_RACK_NIL;
}

static void t_append(struct skiff_tcp_rack *q, uint16_t s)
{
	struct skiff_tcp_txrec *r = &q->r[s];
	r->tnext = SKIFF_TCP_RACK_NIL;
	r->tprev = q->ttail;
	if (q->ttail != SKIFF_TCP_RACK_NIL)
		q->r[q->ttail].tnext = s;
	else
		q->thead = s;
	q->ttail = s;
}

/* ---- lookup ---- */

/* Ring offset of the first record whose end is above seq (n when none). */
static uint32_t find_end_above(const struct skiff_tcp_rack *q, uint32_t seq)
{
	uint32_t lo = 0, hi = q->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (SEQ_LEQ(q->r[slot(q, mid)].end, seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- sent ---- */

void skiff_tcp_rack_sent(struct skiff_tcp_rack *q, uint32_t seq, uint32_t end, uint32_t snd_max, uint64_t now)
{
	if (!q->r || !SEQ_LT(seq, end))
		return;
	/* transmission times strictly increase, so time alone orders transmissions
	 * even when the clock has not moved between two of them */
	if (now <= q->last_xmit)
		now = q->last_xmit + 1;
	q->last_xmit = now;
	if (SEQ_LT(seq, snd_max)) {
		uint32_t stop = SEQ_LT(end, snd_max) ? end : snd_max;
		for (uint32_t i = find_end_above(q, seq); i < q->n; i++) {
			uint16_t s = slot(q, i);
			struct skiff_tcp_txrec *r = &q->r[s];
			if (!SEQ_LT(r->seq, stop))
				break;
			if (r->flags & SKIFF_TCP_TXR_SACKED)
				continue;
			if (r->flags & SKIFF_TCP_TXR_LOST) {
				r->flags &= (uint8_t)~SKIFF_TCP_TXR_LOST;
				q->lost_bytes -= rec_len(r);
			} else {
				t_unlink(q, s);
			}
			r->flags |= SKIFF_TCP_TXR_RETRANS;
			r->xmit = now;
			t_append(q, s);
		}
		seq = stop;
	}
	if (!SEQ_LT(seq, end))
		return;
	if (q->n == q->cap) {
		q->untracked++;
		return;
	}
	{
		uint16_t s = slot(q, q->n);
		struct skiff_tcp_txrec *r = &q->r[s];
		r->seq = seq;
		r->end = end;
		r->xmit = now;
		r->flags = 0;
		q->n++;
		t_append(q, s);
	}
}

/* ---- delivery (RFC 8985 6.2 steps 2-3) ---- */

/* Was (t1, e1) sent after (t2, e2)? Ties in time go by sequence (6.2 step 2). */
static inline bool sent_after(uint64_t t1, uint32_t e1, uint64_t t2, uint32_t e2)
{
	return t1 > t2 || (t1 == t2 && SEQ_GT(e1, e2));
}

static void rack_update(struct skiff_tcp_rack *q, const struct skiff_tcp_txrec *r, uint64_t min_rtt, uint64_t now)
{
	uint64_t rtt = now > r->xmit ? now - r->xmit : 0;
	/* step 2: a retransmitted segment acknowledged faster than the minimum RTT
	 * may have been acknowledged for its original transmission */
	if ((r->flags & SKIFF_TCP_TXR_RETRANS) && rtt < min_rtt)
		return;
	if (!q->have_ts || sent_after(r->xmit, r->end, q->xmit_ts, q->end_seq)) {
		q->rtt = rtt;
		q->xmit_ts = r->xmit;
		q->end_seq = r->end;
	}
	/* step 3: a never-retransmitted segment delivered below the highest one
	 * delivered so far arrived out of order */
	if (!q->have_ts) {
		q->fack = r->end;
	} else if (SEQ_LT(r->end, q->fack)) {
		if (!(r->flags & SKIFF_TCP_TXR_RETRANS))
			q->reord = true;
	} else {
		q->fack = r->end;
	}
	q->have_ts = true;
}

/* Step 4's adaptation: a spurious loss marking widens the reordering window by
 * min_rtt/4, once per round trip, for the next SKIFF_TCP_RACK_PERSIST
 * recoveries. The signal is a D-SACK (RFC 8985) or, better, a segment we had
 * marked lost being delivered before we retransmitted it (no D-SACK can follow:
 * nothing was sent twice). */
static void widen(struct skiff_tcp_rack *q, uint32_t snd_una, uint32_t snd_max)
{
	if (q->dsack_round && SEQ_LT(snd_una, q->dsack_round_end))
		return;
	if (q->reo_wnd_mult < 255)
		q->reo_wnd_mult++;
	q->reo_wnd_persist = SKIFF_TCP_RACK_PERSIST;
	q->dsack_round = true;
	q->dsack_round_end = snd_max;
}

/* A record leaves the lost state by being delivered: if it was never
 * retransmitted, the marking was spurious. */
static bool spurious(struct skiff_tcp_rack *q, const struct skiff_tcp_txrec *r)
{
	/* (a timeout's marking is no RACK verdict: the receiver may SACK again
	 * what it had SACKed before the scoreboard was dropped) */
	if ((r->flags & (SKIFF_TCP_TXR_LOST | SKIFF_TCP_TXR_RETRANS | SKIFF_TCP_TXR_RTO)) != SKIFF_TCP_TXR_LOST)
		return false;
	q->spurious++;
	return true;
}

/* Record at ring offset 0 leaves the log. */
static void pop_head(struct skiff_tcp_rack *q)
{
	uint16_t s = q->head;
	struct skiff_tcp_txrec *r = &q->r[s];
	if (r->flags & SKIFF_TCP_TXR_SACKED)
		q->sacked_bytes -= rec_len(r);
	else if (r->flags & SKIFF_TCP_TXR_LOST)
		q->lost_bytes -= rec_len(r);
	else
		t_unlink(q, s);
	q->head = (uint16_t)((q->head + 1) & (q->cap - 1));
	q->n--;
	q->lost_hint = q->lost_hint ? (uint16_t)(q->lost_hint - 1) : 0;
}

uint32_t skiff_tcp_rack_ack(struct skiff_tcp_rack *q, uint32_t snd_una, uint32_t snd_max,
			    const uint32_t (*blocks)[2], unsigned nblocks, bool dsack, uint64_t min_rtt, uint64_t now,
			    uint64_t *rtt)
{
	uint32_t delivered = 0;
	uint64_t sack_rtt = 0;
	bool spur = false;
	*rtt = 0;
	if (!q->r)
		return 0;
	/* cumulatively acknowledged */
	while (q->n) {
		struct skiff_tcp_txrec *r = &q->r[q->head];
		if (SEQ_LEQ(r->end, snd_una)) {
			spur |= spurious(q, r);
			if (!(r->flags & SKIFF_TCP_TXR_SACKED)) {
				rack_update(q, r, min_rtt, now);
				delivered += rec_len(r);
				/* Karn: only never-retransmitted data times the path; the
				 * oldest newly acknowledged one, as Linux's seq_rtt */
				if (!*rtt && !(r->flags & SKIFF_TCP_TXR_RETRANS) && now > r->xmit)
					*rtt = now - r->xmit;
			}
			pop_head(q);
			continue;
		}
		if (SEQ_LT(r->seq, snd_una)) {
			/* partly acknowledged: the rest stays, in whatever state it was */
			uint32_t cut = snd_una - r->seq;
			if (r->flags & SKIFF_TCP_TXR_SACKED) {
				q->sacked_bytes -= cut;
			} else {
				if (r->flags & SKIFF_TCP_TXR_LOST)
					q->lost_bytes -= cut;
				delivered += cut; /* SND.UNA moved over it: delivered either way */
			}
			r->seq = snd_una;
		}
		break;
	}
	/* SACKed by this ACK (a D-SACK block, the first when present, adds nothing) */
	for (unsigned b = dsack ? 1u : 0u; b < nblocks && b < SKIFF_TCP_SACK_BLOCKS; b++) {
		uint32_t start = blocks[b][0], end = blocks[b][1];
		if (!(SEQ_LT(snd_una, end) && SEQ_LT(start, end) && SEQ_LEQ(end, snd_max)))
			continue;
		if (SEQ_LT(start, snd_una))
			start = snd_una;
		for (uint32_t i = find_end_above(q, start); i < q->n; i++) {
			uint16_t s = slot(q, i);
			struct skiff_tcp_txrec *r = &q->r[s];
			if (SEQ_GT(r->end, end))
				break;
			if (SEQ_LT(r->seq, start) || (r->flags & SKIFF_TCP_TXR_SACKED))
				continue;
			spur |= spurious(q, r);
			if (r->flags & SKIFF_TCP_TXR_LOST) {
				r->flags &= (uint8_t)~SKIFF_TCP_TXR_LOST;
				q->lost_bytes -= rec_len(r);
			} else {
				t_unlink(q, s);
			}
			r->flags |= SKIFF_TCP_TXR_SACKED;
			q->sacked_bytes += rec_len(r);
			delivered += rec_len(r);
			rack_update(q, r, min_rtt, now);
			if (!(r->flags & SKIFF_TCP_TXR_RETRANS) && now > r->xmit)
				sack_rtt = now - r->xmit; /* the newest SACKed (Linux's sack_rtt) */
		}
	}
	if (dsack || spur)
		widen(q, snd_una, snd_max);
	if (!*rtt)
		*rtt = sack_rtt;
	return delivered;
}

uint64_t skiff_tcp_rack_reo_wnd(const struct skiff_tcp_rack *q, bool in_recovery, unsigned sacked_segs,
				uint64_t min_rtt, uint64_t srtt)
{
	uint64_t w;
	if (!q->reord && (in_recovery || sacked_segs >= SKIFF_TCP_DUPTHRESH))
		return 0;
	w = (uint64_t)q->reo_wnd_mult * (min_rtt / 4);
	return srtt && w > srtt ? srtt : w;
}

void skiff_tcp_rack_recovery_done(struct skiff_tcp_rack *q)
{
	if (q->reo_wnd_persist && --q->reo_wnd_persist == 0)
		q->reo_wnd_mult = 1;
	q->dsack_round = false;
}

/* ---- detection (step 5) ---- */

uint64_t skiff_tcp_rack_detect(struct skiff_tcp_rack *q, const struct skiff_tcp_sack *sb, uint64_t reo_wnd,
			       uint64_t now, uint32_t *newly)
{
	uint64_t timeout = 0;
	uint16_t s;
	*newly = 0;
	if (!q->r || !q->have_ts)
		return 0;
	s = q->thead;
	while (s != SKIFF_TCP_RACK_NIL) {
		struct skiff_tcp_txrec *r = &q->r[s];
		uint16_t next = r->tnext;
		uint64_t deadline;
		if (!sent_after(q->xmit_ts, q->end_seq, r->xmit, r->end))
			break; /* this and every later transmission: not yet */
		if (sb && skiff_tcp_sack_covers(sb, r->seq, r->end)) {
			t_unlink(q, s);
			r->flags |= SKIFF_TCP_TXR_SACKED;
			q->sacked_bytes += rec_len(r);
			s = next;
			continue;
		}
		deadline = r->xmit + q->rtt + reo_wnd;
		if (deadline <= now) {
			uint32_t off = (uint32_t)((s - q->head) & (q->cap - 1));
			t_unlink(q, s);
			r->flags |= SKIFF_TCP_TXR_LOST;
			q->lost_bytes += rec_len(r);
			*newly += rec_len(r);
			q->marked_lost++;
			if (off < q->lost_hint)
				q->lost_hint = (uint16_t)off;
		} else if (deadline - now > timeout) {
			timeout = deadline - now;
		}
		s = next;
	}
	return timeout;
}

int skiff_tcp_rack_next_lost(struct skiff_tcp_rack *q, uint32_t *seq, uint32_t *end)
{
	if (!q->r || !q->lost_bytes)
		return -ENOENT;
	for (uint32_t i = q->lost_hint; i < q->n; i++) {
		const struct skiff_tcp_txrec *r = &q->r[slot(q, i)];
		if (r->flags & SKIFF_TCP_TXR_LOST) {
			q->lost_hint = (uint16_t)i;
			*seq = r->seq;
			*end = r->end;
			return 0;
		}
	}
	q->lost_hint = q->n;
	return -ENOENT;
}

bool skiff_tcp_rack_retransmitted(const struct skiff_tcp_rack *q, uint32_t start, uint32_t end)
{
	if (!q->r)
		return false;
	for (uint32_t i = find_end_above(q, start); i < q->n; i++) {
		const struct skiff_tcp_txrec *r = &q->r[slot(q, i)];
		if (!SEQ_LT(r->seq, end))
			break;
		if (r->flags & SKIFF_TCP_TXR_RETRANS)
			return true;
	}
	return false;
}

int skiff_tcp_rack_last(const struct skiff_tcp_rack *q, uint32_t *seq, uint32_t *end)
{
	const struct skiff_tcp_txrec *r;
	if (!q->r || !q->n)
		return -ENOENT;
	r = &q->r[slot(q, q->n - 1u)];
	*seq = r->seq;
	*end = r->end;
	return 0;
}

void skiff_tcp_rack_rto(struct skiff_tcp_rack *q)
{
	if (!q->r)
		return;
	for (uint32_t i = 0; i < q->n; i++) {
		struct skiff_tcp_txrec *r = &q->r[slot(q, i)];
		if (r->flags & SKIFF_TCP_TXR_LOST)
			continue;
		if (r->flags & SKIFF_TCP_TXR_SACKED) {
			r->flags &= (uint8_t)~SKIFF_TCP_TXR_SACKED;
			q->sacked_bytes -= rec_len(r);
		}
		r->flags |= SKIFF_TCP_TXR_LOST | SKIFF_TCP_TXR_RTO;
		r->tprev = r->tnext = SKIFF_TCP_RACK_NIL;
		q->lost_bytes += rec_len(r);
	}
	q->thead = q->ttail = SKIFF_TCP_RACK_NIL;
	q->lost_hint = 0;
	q->tlp_out = false;
}
