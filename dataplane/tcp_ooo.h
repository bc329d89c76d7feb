/* tcp_ooo.h — TCP receive side: the out-of-order (reassembly) queue.
 *
 * Segments that arrive beyond rcv_nxt (RFC 9293 3.10.7.4, "segments with higher
 * beginning sequence numbers SHOULD be held for later processing") wait here as
 * the frames they arrived in, in a fixed array of runs sorted by sequence
 * number: a run is a list (through p->next) of segments that follow each other
 * without a gap, so the array bounds the holes, not the segments, and a window
 * of hundreds of segments with a few losses fits (as Linux coalesces its
 * out-of-order queue). Held ranges never overlap: a new segment is trimmed against rcv_nxt, the window's
 * right edge and the data already held, so every byte is held at most once.
 *
 * Overlap rule ("first data wins"): RFC 9293 3.10.7.4 lets a receiver keep either
 * copy of bytes that arrive twice; this queue always keeps the copy it already
 * holds and never replaces held bytes with newer ones, so the result does not
 * depend on which copy happens to be bigger. A frame cannot be split without
 * a copy, so a new segment that spans held data keeps only its part in the first
 * gap it covers; the rest is dropped (the SACK blocks tell the sender what to
 * resend). This only happens with repacketized retransmissions.
 *
 * A segment is one `struct skiff_pkt` with its `chain` (a reassembled IP
 * datagram counts as one segment of skiff_pkt_chain_len bytes). Trimming adjusts
 * off/len of the first frame (front) or the last kept frame (tail) and frees
 * frames that end up empty; the head's cb, ts, flags and ifindex survive when
 * the head frame itself is freed. `next` is reset on insert and used to link
 * the list that skiff_tcp_ooo_pop returns.
 *
 * The queue holds payload only: a FIN that arrives out of order is the caller's
 * to remember (its sequence number is seq + len of that segment).
 *
 * Bounds: at most SKIFF_TCP_OOO_MAX segments and a caller-given truesize (frame
 * capacity) limit. Every call does at most O(SKIFF_TCP_OOO_SACK_MAX *
 * SKIFF_TCP_OOO_MAX) = 256 array steps (the SACK recency bookkeeping; the rest
 * is O(SKIFF_TCP_OOO_MAX)) plus O(frames) for the chains it trims or frees;
 * purge is O(frames held). Nothing depends on the input's history beyond the
 * fixed array, so hostile segment patterns cannot make a call quadratic.
 * One allocation per connection (the run array, at its first out-of-order
 * segment, freed by purge); no clock, no globals.
 */
#ifndef SKIFF_TCP_OOO_H
#define SKIFF_TCP_OOO_H

#include <stdint.h>

struct skiff_pkt;

#define SKIFF_TCP_OOO_MAX 64      /* runs (contiguous stretches) held at most */
#define SKIFF_TCP_OOO_SACK_MAX 4  /* SACK blocks that fit in a TCP option (RFC 2018 3) */

struct skiff_tcp_ooo_seg {
	uint32_t seq;             /* first byte held */
	uint32_t len;             /* payload bytes of the run, > 0 */
	uint32_t truesize;        /* sum of frame capacities of its segments */
	struct skiff_pkt *pkt;    /* first segment; the rest follow through ->next */
	struct skiff_pkt *tail;   /* last segment (->next NULL) */
};

struct skiff_tcp_ooo {
	struct skiff_tcp_ooo_seg *seg; /* [0, n) sorted by seq, disjoint; SKIFF_TCP_OOO_MAX
					* entries allocated at the first out-of-order
					* segment (an idle connection carries none) */
	unsigned n;
	uint32_t bytes;           /* sum of seg[].len */
	uint32_t truesize;        /* sum of seg[].truesize */
	/* RFC 2018 4: a byte of the most recently received segments, newest first,
	 * one per SACK block (never two in the same merged block). */
	uint32_t recent[SKIFF_TCP_OOO_SACK_MAX];
	unsigned nrecent;
	/* counters, for the caller's drop statistics */
	uint64_t dup_bytes;       /* bytes dropped: below rcv_nxt or already held */
	uint64_t span_bytes;      /* bytes dropped: past the first gap of a segment spanning held data */
	uint64_t oow_bytes;       /* bytes dropped: beyond the receive window */
	uint64_t pruned_segs;     /* held segments dropped to make room for lower data */
	uint64_t refused_segs;    /* segments refused with -ENOBUFS */
};

void skiff_tcp_ooo_init(struct skiff_tcp_ooo *q);

/* Queue the segment p whose payload [seq, seq + chain_len) is at p's data.
 * rcv_nxt and rcv_wnd give the acceptable range [rcv_nxt, rcv_nxt + rcv_wnd)
 * (rcv_wnd is clamped to 2^30); data outside it or already held is trimmed off.
 * max_bytes limits the truesize held, p included. When p does not fit (by
 * segments or by max_bytes), held segments above it are dropped, highest first,
 * if that makes it fit (Linux tcp_prune_ofo_queue); otherwise p is refused and
 * nothing held is dropped.
 * Takes ownership of p in every case. Returns the payload bytes newly queued
 * (0 when nothing of p was new or acceptable: p freed), -ENOBUFS when refused
 * (p freed), -EINVAL when p is NULL. Segments held at or below rcv_nxt (already
 * delivered by the caller) are freed first. */
int skiff_tcp_ooo_insert(struct skiff_tcp_ooo *q, uint32_t seq, struct skiff_pkt *p, uint32_t rcv_nxt,
			 uint32_t rcv_wnd, uint32_t max_bytes);

/* After rcv_nxt advanced: remove the segments that are now in order (those that
 * start at or before *rcv_nxt, with their overlap with *rcv_nxt trimmed off; ones
 * wholly below it are freed), return them linked through p->next in order, and
 * advance *rcv_nxt past them. NULL when nothing is in order. */
struct skiff_pkt *skiff_tcp_ooo_pop(struct skiff_tcp_ooo *q, uint32_t *rcv_nxt);

/* SACK blocks [start, end) to advertise, contiguous held segments merged
 * (RFC 2018 4): the first covers the most recently received segment, then the
 * blocks of the most recent other segments, then the remaining blocks lowest
 * first. n is clamped to SKIFF_TCP_OOO_SACK_MAX (pass 3 when timestamps are on).
 * Call after skiff_tcp_ooo_pop so every block is above rcv_nxt. Returns the
 * number of blocks written. */
unsigned skiff_tcp_ooo_sack_blocks(const struct skiff_tcp_ooo *q, uint32_t blocks[][2], unsigned n);

/* Free everything held and the run array (connection closed or reset). */
void skiff_tcp_ooo_purge(struct skiff_tcp_ooo *q);

static inline unsigned skiff_tcp_ooo_bytes(const struct skiff_tcp_ooo *q) { return q->bytes; }
static inline unsigned skiff_tcp_ooo_truesize(const struct skiff_tcp_ooo *q) { return q->truesize; }
static inline unsigned skiff_tcp_ooo_count(const struct skiff_tcp_ooo *q) { return q->n; }

#endif
