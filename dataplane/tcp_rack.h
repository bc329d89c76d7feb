/* tcp_rack.h — TCP send side: the transmit log and RACK-TLP loss detection
 * (RFC 8985).
 *
 * The log keeps one record per segment sent and not yet cumulatively acknowledged:
 * its sequence range, when it was last (re)transmitted, and whether it is SACKed,
 * deemed lost, or was retransmitted. Records sit in a ring in sequence order
 * (found by binary search); the ones still "in flight" (neither SACKed nor lost)
 * are also on a list in transmission-time order, so loss detection walks only the
 * oldest transmissions and stops at the first one sent after the most recently
 * delivered segment (RFC 8985 6.2 step 5).
 *
 * Flow on each ACK (the caller): update the SACK scoreboard → skiff_tcp_rack_ack()
 * (cumulatively acknowledged records leave, records inside this ACK's SACK blocks
 * become SACKed; each delivered record advances RACK.xmit_ts/end_seq/rtt and the
 * reordering state, steps 2-3; a D-SACK, or a record marked lost delivered
 * before it was retransmitted, widens the reordering window) →
 * skiff_tcp_rack_reo_wnd() (step 4) →
 * skiff_tcp_rack_detect() marks lost every in-flight record sent before the
 * newest delivered one by more than RACK.rtt + reo_wnd and returns when the
 * reordering timer must fire for the rest (step 5). Retransmissions pick the
 * lowest lost record (skiff_tcp_rack_next_lost). skiff_tcp_rack_sent() is told
 * of every data segment sent, new or retransmitted.
 *
 * TLP (RFC 8985 7) state lives here too; the probe itself is sent by the caller.
 *
 * Bounds: the ring holds cap records (power of two, 64..4096, sized from the send
 * buffer at allocation); when it is full no new segment may be sent until ACKs
 * free records (skiff_tcp_rack_full). Per ACK: O(log n) per SACK block to find
 * its records plus the records inside it (at most 4 blocks); detection visits
 * the records it marks plus those still inside their reordering window.
 * Times are ns from the caller's clock; no clock is read here.
 */
#ifndef SKIFF_TCP_RACK_H
#define SKIFF_TCP_RACK_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp_sack.h"

#define SKIFF_TCP_RACK_MIN 64u
#define SKIFF_TCP_RACK_MAX 4096u
#define SKIFF_TCP_RACK_NIL 0xffffu
#define SKIFF_TCP_RACK_PERSIST 16 /* recoveries a DSACK-widened window lasts (RFC 8985 6.2 step 4) */

enum {
	SKIFF_TCP_TXR_SACKED = 1u << 0,
	SKIFF_TCP_TXR_LOST = 1u << 1,   /* deemed lost, not retransmitted since */
	SKIFF_TCP_TXR_RETRANS = 1u << 2, /* retransmitted at least once */
	SKIFF_TCP_TXR_RTO = 1u << 3,     /* deemed lost by a timeout, not by RACK */
};

struct skiff_tcp_txrec {
	uint32_t seq, end;          /* [seq, end) */
	uint64_t xmit;              /* last transmission */
	uint16_t tprev, tnext;      /* time-order links (slot indexes), while in flight */
	uint8_t flags;
};

struct skiff_tcp_rack {
	struct skiff_tcp_txrec *r;  /* NULL until the connection first sends */
	uint16_t cap, head, n;      /* records [head, head + n) in ring order */
	uint16_t thead, ttail;      /* in-flight records, oldest transmission first */
	uint16_t lost_hint;         /* no LOST record at ring offsets below this */
	uint64_t last_xmit;         /* latest transmission time given out (strictly increasing) */
	uint32_t sacked_bytes, lost_bytes;
	/* RFC 8985 6.1 */
	uint64_t xmit_ts;           /* RACK.xmit_ts, valid when have_ts */
	uint32_t end_seq;           /* RACK.end_seq */
	uint64_t rtt;               /* RACK.rtt */
	uint32_t fack;              /* highest end delivered, valid when have_ts */
	bool have_ts, reord;
	uint8_t reo_wnd_mult, reo_wnd_persist;
	bool dsack_round;           /* a DSACK widened the window this round */
	uint32_t dsack_round_end;
	/* RFC 8985 7 */
	bool tlp_out;               /* a probe is outstanding (TLPRxtOut / episode) */
	bool tlp_rxt;               /* ... and it was a retransmission */
	uint32_t tlp_high;          /* TLPHighRxt: snd_max when the probe went */
	/* counters */
	uint64_t marked_lost, spurious, untracked; /* records marked lost, spurious marks, sends the full log missed */
};

/* Allocate the ring for a send buffer of sndbuf bytes; 0 or -ENOMEM. */
int skiff_tcp_rack_alloc(struct skiff_tcp_rack *q, uint32_t sndbuf);
void skiff_tcp_rack_free(struct skiff_tcp_rack *q);
/* Zero the state (no allocation); used on a fresh TCB. */
void skiff_tcp_rack_init(struct skiff_tcp_rack *q);

static inline bool skiff_tcp_rack_full(const struct skiff_tcp_rack *q) { return q->r && q->n == q->cap; }

/* A data segment [seq, end) was sent at now; snd_max is the highest sequence
 * sent before it. The part at or above snd_max is new (appended; untracked and
 * counted when the ring is full); the part below is a retransmission: its
 * records leave the lost state, are flagged retransmitted and move to the end
 * of the time order. SACKed records are left alone. */
void skiff_tcp_rack_sent(struct skiff_tcp_rack *q, uint32_t seq, uint32_t end, uint32_t snd_max, uint64_t now);

/* An ACK: cumulative acknowledgment snd_una, and this ACK's SACK blocks (those
 * the scoreboard accepted: snd_una < start < end <= snd_max; others are
 * ignored here too). min_rtt: the connection's minimum RTT (RFC 8985 6.2 step 2
 * ignores a retransmitted segment acknowledged faster than that: the ACK may be
 * for the original). dsack: the ACK carried a D-SACK. *rtt: an RTT sample in ns
 * from the transmission times (the oldest newly acknowledged record never
 * retransmitted, else the newest such SACKed one; Karn), 0 when none.
 * Returns bytes newly delivered (acked or SACKed) that the log tracked. */
uint32_t skiff_tcp_rack_ack(struct skiff_tcp_rack *q, uint32_t snd_una, uint32_t snd_max,
			    const uint32_t (*blocks)[2], unsigned nblocks, bool dsack, uint64_t min_rtt, uint64_t now,
			    uint64_t *rtt);

/* RFC 8985 6.2 step 4: the reordering window. sacked_segs: SACKed segments
 * (DupThresh test); srtt and min_rtt in ns. */
uint64_t skiff_tcp_rack_reo_wnd(const struct skiff_tcp_rack *q, bool in_recovery, unsigned sacked_segs,
				uint64_t min_rtt, uint64_t srtt);

/* RFC 8985 6.2 step 5: mark lost the in-flight records sent before RACK.xmit_ts
 * whose RACK.rtt + reo_wnd has passed. A candidate the scoreboard sb (may be
 * NULL) shows SACKed is marked SACKed instead: its blocks came in ACKs that were
 * lost, or fell off the receiver's list of blocks. *newly: bytes marked lost
 * now. Returns the time left until the next record could be marked (arm the
 * reordering timer), 0 when none waits. */
uint64_t skiff_tcp_rack_detect(struct skiff_tcp_rack *q, const struct skiff_tcp_sack *sb, uint64_t reo_wnd,
			       uint64_t now, uint32_t *newly);

/* Lowest lost record not retransmitted since: 0 and [*seq, *end), or -ENOENT. */
int skiff_tcp_rack_next_lost(struct skiff_tcp_rack *q, uint32_t *seq, uint32_t *end);

/* Was any of [start, end) retransmitted (a record overlapping it flagged)? */
bool skiff_tcp_rack_retransmitted(const struct skiff_tcp_rack *q, uint32_t start, uint32_t end);

/* Last record (highest sequence): TLP's retransmission probe. 0 or -ENOENT. */
int skiff_tcp_rack_last(const struct skiff_tcp_rack *q, uint32_t *seq, uint32_t *end);

/* Retransmission timeout: the SACK scoreboard is forgotten (RFC 6675 5.1), so
 * every record not yet acknowledged is unSACKed and deemed lost (as Linux's
 * tcp_timeout_mark_lost); the time order empties and refills as they are resent. */
void skiff_tcp_rack_rto(struct skiff_tcp_rack *q);

/* Loss recovery ended: the DSACK-widened window decays (step 4). */
void skiff_tcp_rack_recovery_done(struct skiff_tcp_rack *q);

/* Bytes in flight: outstanding minus SACKed minus lost-not-retransmitted
 * (RFC 6675 SetPipe's meaning with RACK's notion of lost). */
static inline uint32_t skiff_tcp_rack_pipe(const struct skiff_tcp_rack *q, uint32_t snd_una, uint32_t snd_max)
{
	uint32_t out = snd_max - snd_una, gone = q->sacked_bytes + q->lost_bytes;
	return out > gone ? out - gone : 0;
}

#endif
