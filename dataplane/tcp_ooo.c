/* tcp_ooo.c — the TCP out-of-order queue (RFC 9293 3.10.7.4, RFC 2018 4).
 *
 * insert: free held segments already delivered → clip the new segment to
 *         [rcv_nxt, rcv_nxt + wnd) → skip over held data covering its front
 *         (first data wins) → clip its tail at the next held segment → trim the
 *         frames → make room (drop higher segments, highest first) or refuse →
 *         place it in the sorted array → remember it for the SACK order.
 * pop:    take the leading segments that start at or before rcv_nxt, trim their
 *         front, link them through next, advance rcv_nxt.
 * sack_blocks: the merged block of each recent segment, newest first, then the
 *         other blocks lowest first.
 *
 * Sequence comparisons are made as offsets from rcv_nxt: every held byte lies in
 * [rcv_nxt, rcv_nxt + 2^30) once stale segments are gone, so offsets order them.
 */
#include "tcp_ooo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"
#include "tcp_seq.h"

void skiff_tcp_ooo_init(struct skiff_tcp_ooo *q)
{
	memset(q, 0, sizeof(*q));
}

static uint32_t chain_truesize(const struct skiff_pkt *p)
{
	uint32_t t = 0;
	for (; p; p = p->chain)
		t += p->cap;
	return t;
}

/* Drop n bytes from the front of a chain (n < chain length). Frames emptied
 * entirely are freed while more follow; the new head inherits the old head's
 * per-packet metadata. O(frames freed). */
static struct skiff_pkt *chain_pull(struct skiff_pkt *p, uint32_t n)
{
	while (n && p->chain && n >= p->len) {
		struct skiff_pkt *nx = p->chain;
		n -= p->len;
		memcpy(&nx->cb, &p->cb, sizeof(nx->cb));
		nx->ts = p->ts;
		nx->flags = p->flags;
		nx->ifindex = p->ifindex;
		nx->next = NULL;
		p->chain = NULL;
		skiff_pkt_free(p);
		p = nx;
	}
	if (n) {
		/* n < p->len here: the caller never pulls the whole chain */
		p->off += n;
		p->len -= n;
	}
	return p;
}

/* Keep the first n bytes of a chain (0 < n <= chain length); free the frames past them. */
static void chain_cut(struct skiff_pkt *p, uint32_t n)
{
	for (; p; p = p->chain) {
		if (n <= p->len) {
			struct skiff_pkt *rest = p->chain;
			p->len = n;
			p->chain = NULL;
			if (rest)
				skiff_pkt_free(rest);
			return;
		}
		n -= p->len;
	}
}

/* Free a run: its segments through ->next, each with its chain. */
static void list_free(struct skiff_pkt *p)
{
	while (p) {
		struct skiff_pkt *nx = p->next;
		p->next = NULL;
		skiff_pkt_free(p);
		p = nx;
	}
}

/* Drop n bytes (< the run's length) from the front of run s: whole segments
 * first, then the front of the next one. */
static void run_pull(struct skiff_tcp_ooo_seg *s, uint32_t n)
{
	while (n) {
		struct skiff_pkt *p = s->pkt;
		uint32_t l = skiff_pkt_chain_len(p);
		if (n < l) {
			struct skiff_pkt *nx = p->next;
			p->next = NULL;
			p = chain_pull(p, n);
			p->next = nx;
			if (s->tail == s->pkt)
				s->tail = p;
			s->pkt = p;
			return;
		}
		s->pkt = p->next;
		p->next = NULL;
		s->truesize -= chain_truesize(p);
		skiff_pkt_free(p);
		n -= l;
	}
}

/* Remove seg[i, j) from the array (no freeing). */
static void seg_remove(struct skiff_tcp_ooo *q, unsigned i, unsigned j)
{
	if (j < q->n)
		memmove(&q->seg[i], &q->seg[j], (q->n - j) * sizeof(q->seg[0]));
	q->n -= j - i;
}

static void seg_free(struct skiff_tcp_ooo *q, unsigned i)
{
	q->bytes -= q->seg[i].len;
	q->truesize -= q->seg[i].truesize;
	list_free(q->seg[i].pkt);
	q->seg[i].pkt = q->seg[i].tail = NULL;
}

/* Index of the held segment containing byte x, or -1. O(n). */
static int seg_find(const struct skiff_tcp_ooo *q, uint32_t x)
{
	for (unsigned i = 0; i < q->n; i++) {
		if (x - q->seg[i].seq < q->seg[i].len)
			return (int)i;
	}
	return -1;
}

/* The merged block around seg[i]: contiguous neighbours joined. */
static void block_of(const struct skiff_tcp_ooo *q, unsigned i, uint32_t *start, uint32_t *end)
{
	unsigned lo = i, hi = i;
	while (lo > 0 && q->seg[lo - 1].seq + q->seg[lo - 1].len == q->seg[lo].seq)
		lo--;
	while (hi + 1 < q->n && q->seg[hi].seq + q->seg[hi].len == q->seg[hi + 1].seq)
		hi++;
	*start = q->seg[lo].seq;
	*end = q->seg[hi].seq + q->seg[hi].len;
}

/* Forget recent entries no longer held (popped, pruned). O(SACK_MAX * n). */
static void recent_clean(struct skiff_tcp_ooo *q)
{
	unsigned k = 0;
	for (unsigned i = 0; i < q->nrecent; i++) {
		if (seg_find(q, q->recent[i]) >= 0)
			q->recent[k++] = q->recent[i];
	}
	q->nrecent = k;
}

/* Byte x (held in seg[i]) was just received: its block goes first (RFC 2018 4). */
static void recent_touch(struct skiff_tcp_ooo *q, unsigned i, uint32_t x)
{
	uint32_t bs, be;
	unsigned k = 0;
	recent_clean(q);
	block_of(q, i, &bs, &be);
	for (unsigned r = 0; r < q->nrecent; r++) {
		if (q->recent[r] - bs >= be - bs) /* outside the new block: keep */
			q->recent[k++] = q->recent[r];
	}
	if (k == SKIFF_TCP_OOO_SACK_MAX)
		k--;
	memmove(&q->recent[1], &q->recent[0], k * sizeof(q->recent[0]));
	q->recent[0] = x;
	q->nrecent = k + 1;
}

/* Free held segments that end at or before rcv_nxt: the caller delivered their
 * bytes in order already. They are at the front of the array. */
static void drop_stale(struct skiff_tcp_ooo *q, uint32_t rcv_nxt)
{
	unsigned i = 0;
	while (i < q->n && SEQ_LEQ(q->seg[i].seq + q->seg[i].len, rcv_nxt)) {
		q->dup_bytes += q->seg[i].len;
		seg_free(q, i);
		i++;
	}
	if (i) {
		seg_remove(q, 0, i);
		recent_clean(q);
	}
}

/* Offset of held seg[i]'s start and end from rcv_nxt (a start below rcv_nxt,
 * possible for a segment straddling it that was not popped yet, counts as 0). */
static uint32_t rel_start(const struct skiff_tcp_ooo *q, unsigned i, uint32_t rcv_nxt)
{
	return SEQ_LT(q->seg[i].seq, rcv_nxt) ? 0 : q->seg[i].seq - rcv_nxt;
}

static uint32_t rel_end(const struct skiff_tcp_ooo *q, unsigned i, uint32_t rcv_nxt)
{
	return q->seg[i].seq + q->seg[i].len - rcv_nxt;
}

int skiff_tcp_ooo_insert(struct skiff_tcp_ooo *q, uint32_t seq, struct skiff_pkt *p, uint32_t rcv_nxt,
			 uint32_t rcv_wnd, uint32_t max_bytes)
{
	uint32_t len, lead, so, eo, avail, want_so, front, ts;
	unsigned i;

	if (!p)
		return -EINVAL;
	p->next = NULL;
	drop_stale(q, rcv_nxt);
	if (rcv_wnd > SKIFF_TCP_MAX_WIN)
		rcv_wnd = SKIFF_TCP_MAX_WIN;
	if (!q->seg) {
		q->seg = calloc(SKIFF_TCP_OOO_MAX, sizeof(*q->seg));
		if (!q->seg) {
			q->refused_segs++;
			skiff_pkt_free(p);
			return -ENOBUFS;
		}
	}
	len = skiff_pkt_chain_len(p);
	if (len == 0) {
		skiff_pkt_free(p);
		return 0;
	}

	/* RFC 9293 3.10.7.4: only the part in [rcv_nxt, rcv_nxt + RCV.WND) is acceptable;
	 * "If a segment's contents straddle the boundary between old and new, only the
	 * new parts are processed." */
	lead = SEQ_LT(seq, rcv_nxt) ? rcv_nxt - seq : 0;
	if (lead >= len) {
		if (lead > SKIFF_TCP_MAX_WIN)
			q->oow_bytes += len; /* not an old duplicate: nowhere near the window */
		else
			q->dup_bytes += len;
		skiff_pkt_free(p);
		return 0;
	}
	so = lead ? 0 : seq - rcv_nxt;
	if (so >= rcv_wnd) {
		q->oow_bytes += len;
		skiff_pkt_free(p);
		return 0;
	}
	q->dup_bytes += lead;
	avail = len - lead;
	if (avail > rcv_wnd - so) {
		q->oow_bytes += avail - (rcv_wnd - so);
		avail = rcv_wnd - so;
	}
	eo = so + avail;
	/* [so, eo) are offsets from rcv_nxt, eo <= rcv_wnd <= 2^30. */
	want_so = so;

	/* First data wins: skip held data covering the front. */
	for (i = 0; i < q->n && rel_end(q, i, rcv_nxt) <= so; i++)
		;
	while (i < q->n && rel_start(q, i, rcv_nxt) <= so) {
		uint32_t he = rel_end(q, i, rcv_nxt);
		if (he > so)
			so = he;
		i++;
	}
	if (so >= eo) {
		/* All of it is held already: the ACK it triggers reports its block first. */
		int h = seg_find(q, rcv_nxt + want_so);
		q->dup_bytes += avail;
		if (h >= 0)
			recent_touch(q, (unsigned)h, rcv_nxt + want_so);
		skiff_pkt_free(p);
		return 0;
	}
	q->dup_bytes += so - want_so;
	if (i < q->n && rel_start(q, i, rcv_nxt) < eo) {
		/* The tail runs into held data: cut at it. What is cut is partly held
		 * already (duplicate) and partly new data lost to the split. */
		uint32_t cut = rel_start(q, i, rcv_nxt), held = 0;
		for (unsigned k = i; k < q->n && rel_start(q, k, rcv_nxt) < eo; k++) {
			uint32_t he = rel_end(q, k, rcv_nxt);
			held += (he < eo ? he : eo) - rel_start(q, k, rcv_nxt);
		}
		q->dup_bytes += held;
		q->span_bytes += eo - cut - held;
		eo = cut;
	}

	/* Trim the frames to [so, eo): byte rcv_nxt + so is at offset `front` in p. */
	front = rcv_nxt + so - seq;
	if (front)
		p = chain_pull(p, front);
	if (eo - so < len - front)
		chain_cut(p, eo - so);
	len = eo - so;
	ts = chain_truesize(p);

	/* Contiguous with the run before it, or the one after: it joins (them). */
	{
		bool join_prev = i > 0 && rel_end(q, i - 1, rcv_nxt) == so;
		bool join_next = i < q->n && rel_start(q, i, rcv_nxt) == eo;
		unsigned keep = join_next ? i + 1 : i; /* runs below this are never pruned for it */

		/* Memory bound: drop held runs above this one, highest first, if that
		 * is enough; otherwise refuse and keep what is held (lower data is
		 * worth more). */
		if ((!join_prev && !join_next && q->n + 1 > SKIFF_TCP_OOO_MAX) ||
		    (uint64_t)q->truesize + ts > max_bytes) {
			uint64_t mem = (uint64_t)q->truesize + ts;
			unsigned n = q->n, cut = q->n;
			bool slot = join_prev || join_next;
			while (cut > keep && ((!slot && n + 1 > SKIFF_TCP_OOO_MAX) || mem > max_bytes)) {
				cut--;
				n--;
				mem -= q->seg[cut].truesize;
			}
			if ((!slot && n + 1 > SKIFF_TCP_OOO_MAX) || mem > max_bytes) {
				q->refused_segs++;
				skiff_pkt_free(p);
				return -ENOBUFS;
			}
			for (unsigned k = cut; k < q->n; k++) {
				q->pruned_segs++;
				seg_free(q, k);
			}
			q->n = cut;
		}

		p->next = NULL;
		q->bytes += len;
		q->truesize += ts;
		if (join_prev) {
			struct skiff_tcp_ooo_seg *r = &q->seg[i - 1];
			r->tail->next = p;
			r->tail = p;
			r->len += len;
			r->truesize += ts;
			if (join_next && i < q->n) {
				/* the gap between two runs filled: one run */
				struct skiff_tcp_ooo_seg *nx = &q->seg[i];
				r->tail->next = nx->pkt;
				r->tail = nx->tail;
				r->len += nx->len;
				r->truesize += nx->truesize;
				seg_remove(q, i, i + 1);
			}
			recent_touch(q, i - 1, rcv_nxt + so);
		} else if (join_next && i < q->n) {
			struct skiff_tcp_ooo_seg *r = &q->seg[i];
			p->next = r->pkt;
			r->pkt = p;
			r->seq = rcv_nxt + so;
			r->len += len;
			r->truesize += ts;
			recent_touch(q, i, rcv_nxt + so);
		} else {
			memmove(&q->seg[i + 1], &q->seg[i], (q->n - i) * sizeof(q->seg[0]));
			q->seg[i].seq = rcv_nxt + so;
			q->seg[i].len = len;
			q->seg[i].truesize = ts;
			q->seg[i].pkt = p;
			q->seg[i].tail = p;
			q->n++;
			recent_touch(q, i, rcv_nxt + so);
		}
	}
	return (int)len;
}

struct skiff_pkt *skiff_tcp_ooo_pop(struct skiff_tcp_ooo *q, uint32_t *rcv_nxt)
{
	struct skiff_pkt *head = NULL, **tail = &head;
	uint32_t nxt = *rcv_nxt;
	unsigned i;

	for (i = 0; i < q->n && SEQ_LEQ(q->seg[i].seq, nxt); i++) {
		struct skiff_tcp_ooo_seg *s = &q->seg[i];
		uint32_t end = s->seq + s->len;
		if (SEQ_LEQ(end, nxt)) {
			q->dup_bytes += s->len;
			seg_free(q, i);
			continue;
		}
		q->bytes -= s->len;
		q->truesize -= s->truesize;
		if (s->seq != nxt) {
			q->dup_bytes += nxt - s->seq;
			run_pull(s, nxt - s->seq);
		}
		*tail = s->pkt;
		tail = &s->tail->next;
		s->pkt = s->tail = NULL;
		nxt = end;
	}
	if (i) {
		seg_remove(q, 0, i);
		recent_clean(q);
	}
	*rcv_nxt = nxt;
	return head;
}

unsigned skiff_tcp_ooo_sack_blocks(const struct skiff_tcp_ooo *q, uint32_t blocks[][2], unsigned n)
{
	unsigned out = 0;

	if (n > SKIFF_TCP_OOO_SACK_MAX)
		n = SKIFF_TCP_OOO_SACK_MAX;
	/* RFC 2018 4: the block of the segment that triggered this ACK, then the
	 * most recently reported blocks. recent[] never has two entries in one block. */
	for (unsigned r = 0; r < q->nrecent && out < n; r++) {
		int h = seg_find(q, q->recent[r]);
		bool seen = false;
		uint32_t bs, be;
		if (h < 0)
			continue;
		block_of(q, (unsigned)h, &bs, &be);
		for (unsigned k = 0; k < out; k++)
			seen = seen || blocks[k][0] == bs;
		if (seen)
			continue;
		blocks[out][0] = bs;
		blocks[out][1] = be;
		out++;
	}
	/* Then whatever else is held, lowest first. */
	for (unsigned i = 0; i < q->n && out < n; i++) {
		bool seen = false;
		uint32_t bs, be;
		if (i > 0 && q->seg[i - 1].seq + q->seg[i - 1].len == q->seg[i].seq)
			continue; /* not the first segment of its block */
		block_of(q, i, &bs, &be);
		for (unsigned k = 0; k < out; k++)
			seen = seen || blocks[k][0] == bs;
		if (seen)
			continue;
		blocks[out][0] = bs;
		blocks[out][1] = be;
		out++;
	}
	return out;
}

void skiff_tcp_ooo_purge(struct skiff_tcp_ooo *q)
{
	for (unsigned i = 0; i < q->n; i++)
		list_free(q->seg[i].pkt);
	free(q->seg);
	q->seg = NULL;
	q->n = 0;
	q->bytes = 0;
	q->truesize = 0;
	q->nrecent = 0;
}
