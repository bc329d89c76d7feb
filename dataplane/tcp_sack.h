/* tcp_sack.h — TCP send side: the SACK scoreboard and RFC 6675 loss recovery
 * bookkeeping (RFC 2018, RFC 2883, RFC 6675).
 *
 * The scoreboard is a fixed table of disjoint SACKed ranges [start, end), sorted,
 * all inside (snd_una, snd_max]. On each ACK the caller passes the cumulative ACK
 * and the SACK blocks (skiff_tcp_sack_update); blocks are validated, D-SACKs are
 * reported, the rest is merged. The RFC 6675 routines (IsLost, SetPipe, NextSeg)
 * are computed from the ranges, never per byte or per segment.
 *
 * Sequence variables use half-open ranges, where RFC 6675 names inclusive
 * octets: snd_una = HighACK + 1, snd_nxt (pass snd_max, the highest sequence
 * ever sent) = HighData + 1, high_rxt = HighRxt + 1, recovery_point = RecoveryPoint
 * + 1 (snd_max when recovery started), rescue_rxt = RescueRxt + 1.
 *
 * Caller's loop (RFC 6675 5): on each ACK, skiff_tcp_sack_update(); on entering
 * recovery (step 4), skiff_tcp_sack_enter_recovery() gives the first segment to
 * retransmit; then while cwnd - pipe >= SMSS, skiff_tcp_sack_next_seg() gives the
 * next range and records it as sent (C.1-C.2); the caller advances snd_nxt for
 * new data (C.3) and adds what it sent to its pipe (C.4), or recomputes pipe with
 * skiff_tcp_sack_pipe(). On RTO, skiff_tcp_sack_clear() (RFC 2018 8: the receiver
 * may have reneged).
 *
 * Table full: the lowest ranges are kept (they decide what is retransmitted
 * first); a higher range is forgotten, i.e. treated as not SACKed, which only
 * makes the sender more conservative. `discarded` counts such ranges.
 *
 * Bounds: SKIFF_TCP_SACK_MAX ranges. update is O(SKIFF_TCP_SACK_BLOCKS *
 * SKIFF_TCP_SACK_MAX) (extra blocks are ignored); advance, is_lost, pipe and
 * next_seg are O(SKIFF_TCP_SACK_MAX). No allocation, no clock.
 */
#ifndef SKIFF_TCP_SACK_H
#define SKIFF_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#define SKIFF_TCP_SACK_MAX 32       /* disjoint SACKed ranges tracked */
#define SKIFF_TCP_SACK_BLOCKS 4     /* blocks per ACK looked at (a TCP option holds 4) */
#define SKIFF_TCP_DUPTHRESH 3       /* RFC 6675 2: DupThresh */

struct skiff_tcp_sack_range {
	uint32_t start, end;        /* [start, end) */
};

struct skiff_tcp_sack {
	struct skiff_tcp_sack_range r[SKIFF_TCP_SACK_MAX]; /* [0, n) sorted, disjoint, not adjacent */
	unsigned n;
	uint32_t una;               /* snd_una the ranges are relative to, valid when una_valid */
	uint32_t sacked;            /* bytes in the ranges */
	uint32_t high_rxt;          /* HighRxt + 1, valid when rxt_valid; else snd_una */
	uint32_t rescue_rxt;        /* RescueRxt + 1, valid when rescue_valid ("undefined" otherwise) */
	bool una_valid, rxt_valid, rescue_valid;
	/* counters */
	uint64_t discarded;         /* ranges forgotten because the table was full */
	uint64_t invalid_blocks;    /* blocks ignored: empty, outside (snd_una, snd_max], bogus D-SACK */
	uint64_t dsacks;            /* D-SACK blocks seen */
};

/* NextSeg() outcomes (RFC 6675 4), > 0; -ENOENT for rule (5). */
enum {
	SKIFF_TCP_SACK_RXT_LOST = 1,   /* (1) retransmit a lost hole */
	SKIFF_TCP_SACK_NEW_DATA = 2,   /* (2) send new data at snd_nxt */
	SKIFF_TCP_SACK_RXT_HOLE = 3,   /* (3) retransmit a hole not yet deemed lost */
	SKIFF_TCP_SACK_RXT_RESCUE = 4, /* (4) rescue retransmission of the highest unSACKed data */
};

void skiff_tcp_sack_init(struct skiff_tcp_sack *s);
/* Forget every SACKed range and end any recovery state (RTO, RFC 2018 8). */
void skiff_tcp_sack_clear(struct skiff_tcp_sack *s);

/* Apply the SACK blocks of one ACK whose cumulative ACK is snd_una (advances the
 * scoreboard to it first); snd_nxt is the highest sequence sent (snd_max).
 * At most SKIFF_TCP_SACK_BLOCKS blocks are looked at. A block is used when
 * snd_una < start < end <= snd_nxt. The first block is a D-SACK (RFC 2883 4)
 * when it starts below snd_una (start < end <= snd_nxt, start no more than 2^30
 * back) or lies inside the second (valid) block; *dsack (may be NULL) tells the
 * caller, and a D-SACK adds nothing to the scoreboard. Anything else is ignored
 * and counted. Returns the bytes newly SACKed. */
uint32_t skiff_tcp_sack_update(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt,
			       const uint32_t (*blocks)[2], unsigned n, bool *dsack);

/* The cumulative ACK moved to snd_una: drop (or trim) ranges below it. Call it
 * (or update) on every ACK that moves snd_una. An older value (up to 2^30 back)
 * is ignored; a jump of more than 2^30 forward clears the scoreboard. */
void skiff_tcp_sack_advance(struct skiff_tcp_sack *s, uint32_t snd_una);

/* RFC 6675 4 IsLost(seq): true when at least DupThresh SACKed segments lie above
 * seq, a range of L bytes counting as ceil(L / smss) segments (no segment is
 * larger than SMSS). This includes "more than (DupThresh - 1) * SMSS bytes
 * SACKed above seq". */
bool skiff_tcp_sack_is_lost(const struct skiff_tcp_sack *s, uint32_t seq, uint32_t smss);

/* Is [start, end) wholly inside one SACKed range? O(log n). */
bool skiff_tcp_sack_covers(const struct skiff_tcp_sack *s, uint32_t start, uint32_t end);

/* RFC 6675 4 SetPipe(): over every unSACKed byte in [snd_una, snd_nxt), one
 * for each that is not lost, plus one for each below HighRxt. */
uint32_t skiff_tcp_sack_pipe(const struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss);

/* RFC 6675 5 step (4.3) on entering loss recovery: the first segment to
 * retransmit, [snd_una, up to SMSS or the first SACKed byte); sets HighRxt and
 * RescueRxt to its end. Returns 0, or -ENOENT when nothing is outstanding,
 * -EINVAL when smss is 0. */
int skiff_tcp_sack_enter_recovery(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss,
				  uint32_t *seq, uint32_t *len);

/* RFC 6675 4 NextSeg(): the next range to send, [*seq, *seq + *len), len <= smss.
 * new_avail: bytes of unsent data the receiver window allows at snd_nxt (rule 2).
 * The returned range is taken as sent: HighRxt moves for rules (1) and (3)
 * (RFC 6675 5 C.2), RescueRxt = recovery_point for rule (4); rule (2) changes
 * nothing here (the caller advances snd_nxt). Returns the rule
 * (SKIFF_TCP_SACK_RXT_LOST ... SKIFF_TCP_SACK_RXT_RESCUE), -ENOENT when there is
 * nothing to send (rule 5), -EINVAL when smss is 0. */
int skiff_tcp_sack_next_seg(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t recovery_point,
			    uint32_t smss, uint32_t new_avail, uint32_t *seq, uint32_t *len);

static inline uint32_t skiff_tcp_sack_bytes(const struct skiff_tcp_sack *s) { return s->sacked; }
static inline unsigned skiff_tcp_sack_count(const struct skiff_tcp_sack *s) { return s->n; }
/* End of the highest SACKed range (snd_una when none): RFC 6675 rule (1.b). */
static inline uint32_t skiff_tcp_sack_high(const struct skiff_tcp_sack *s, uint32_t snd_una)
{
	return s->n ? s->r[s->n - 1].end : snd_una;
}

#endif
