/* tcp_cc.h — TCP congestion control behind a small ops table (RFC 5681, 6582,
 * 6928, 3465, 9438).
 *
 * struct skiff_tcp_cc is embedded in the connection. It holds what every
 * algorithm shares (cwnd, ssthresh, SMSS, the byte-counting accumulator) and a
 * fixed-size union of per-algorithm state; cc->ops says which algorithm runs.
 * Nothing here allocates, reads a clock or keeps globals: time (`now`, ns) and
 * RTT estimates come in as arguments, every quantity is in bytes, all
 * arithmetic is integer.
 *
 * Division of labour with the connection:
 *   - The connection owns loss detection and recovery state (dupacks, recover,
 *     the SACK scoreboard, pipe). It tells the algorithm about events:
 *       ops->init             once the SMSS is known (connection established);
 *       ops->on_ack           an ACK acknowledged new data, not in recovery;
 *       ops->on_congestion    loss detected by dupacks/SACK, or an ECN echo: once
 *                             per recovery episode (RFC 6582 3.2 step 2 decides);
 *       ops->on_recovery_exit the full ACK ending that episode;
 *       ops->on_rto           the first retransmission timeout of an episode;
 *       ops->on_idle_restart  sending new data with nothing in flight;
 *       ops->set_mss          the SMSS changed (PMTU).
 *   - on_congestion leaves cwnd = ssthresh, which is what SACK-based recovery
 *     (RFC 6675 5 step 4.2) and ECN (RFC 3168 6.1.2) want. A connection doing
 *     NewReno recovery without SACK (RFC 6582) adds the window inflation and
 *     partial-ACK deflation with skiff_tcp_cc_inflate() and
 *     skiff_tcp_cc_partial_ack(); those are algorithm-independent.
 *   - Repeated RTOs for the same data: RFC 5681 3.1 holds ssthresh constant, so
 *     call on_rto only for the first one and just set cwnd = SMSS after later
 *     ones (calling it again would also make CUBIC's W_max shrink to ~1 SMSS).
 *
 * cwnd never exceeds SKIFF_TCP_CC_CWND_MAX, never falls below 2*SMSS after a
 * congestion event (1*SMSS after an RTO or a lost SYN), and no sum or product
 * of these quantities wraps a uint32_t.
 */
#ifndef SKIFF_TCP_CC_H
#define SKIFF_TCP_CC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest window TCP can use: 65535 << 14 (RFC 7323 2.3) is just below
 * 2^30, so a larger cwnd would never be usable; capping here keeps cwnd + any
 * increment far from UINT32_MAX and below 2^31 for sequence-space arithmetic. */
#define SKIFF_TCP_CC_CWND_MAX (1u << 30)
/* "Arbitrarily high" initial ssthresh (RFC 5681 3.1). */
#define SKIFF_TCP_CC_SSTHRESH_INF UINT32_MAX
/* SMSS bounds accepted by init/set_mss (values outside are clamped by the ops
 * and rejected with -EINVAL by skiff_tcp_cc_init/skiff_tcp_cc_set_mss). The
 * lower bound keeps CUBIC's K under 350 s, well inside the range where its
 * cube is computed exactly (see tcp_cc_cubic.c). */
#define SKIFF_TCP_CC_MSS_MIN 64u
#define SKIFF_TCP_CC_MSS_MAX 65535u
/* TCP_CONGESTION names are at most 15 characters (Linux TCP_CA_NAME_MAX 16). */
#define SKIFF_TCP_CC_NAME_MAX 16

struct skiff_tcp_cc;

/* CUBIC state (RFC 9438 4.1.2 names). Byte quantities, times in ns except k. */
struct skiff_tcp_cc_cubic {
	uint64_t epoch_start;   /* t_epoch (ns), valid when in_epoch; moved forward past
				 * application-limited and idle periods (RFC 9438 4.2, 5.8) */
	uint64_t limited_since; /* first application-limited CA ACK (ns), valid when limited */
	uint64_t cwnd_frac;     /* remainder of (target - cwnd) * acked / cwnd, < cwnd */
	uint64_t est_frac;      /* remainder of the W_est increment, < cwnd * 17 */
	uint32_t w_max;         /* bytes; 0 = undefined (no loss yet, or after an RTO) */
	uint32_t cwnd_prior;    /* cwnd when ssthresh was last set (4.3 alpha switch) */
	uint32_t cwnd_epoch;    /* cwnd at the start of the CA stage */
	uint32_t w_est;         /* Reno-friendly estimate, bytes (4.3) */
	uint32_t k;             /* K in units of 2^-10 s */
	bool in_epoch;          /* a CA stage is running (t_epoch, K, W_est valid) */
	bool limited;           /* application-limited since limited_since */
};

struct skiff_tcp_cc {
	const struct skiff_tcp_cc_ops *ops;
	uint32_t cwnd;          /* bytes */
	uint32_t ssthresh;      /* bytes */
	uint32_t mss;           /* SMSS, bytes */
	uint32_t bytes_acked;   /* RFC 3465 2.1 accumulator for congestion avoidance */
	union {
		struct skiff_tcp_cc_cubic cubic;
		uint64_t reserve[8]; /* room for other algorithms; the size is fixed */
	} u;
};

struct skiff_tcp_cc_ops {
	/* TCP_CONGESTION name: "reno" (NewReno, as Linux calls it) or "cubic". */
	const char *name;
	/* Reset everything but ops: SMSS = mss (clamped to the bounds above),
	 * cwnd = IW (RFC 6928 2: min(10*MSS, max(2*MSS, 14600))), ssthresh
	 * "arbitrarily high" (RFC 5681 3.1). */
	void (*init)(struct skiff_tcp_cc *cc, uint32_t mss, uint64_t now);
	/* `acked` new bytes were cumulatively acknowledged outside recovery.
	 * `inflight`: FlightSize after this ACK (snd_max - snd_una, snd_una already
	 * advanced); inflight + acked is what was outstanding when it arrived. The
	 * window only grows when the sender was using it (RFC 7661 4.1, RFC 9438
	 * 5.8). srtt_ns: RFC 6298 SRTT, CUBIC's RTT in W_cubic(t + RTT) (RFC 9438
	 * 4.2); min_rtt_ns stands in while srtt_ns is 0. Either may be 0. */
	void (*on_ack)(struct skiff_tcp_cc *cc, uint32_t acked, uint32_t inflight, uint64_t srtt_ns,
		       uint64_t min_rtt_ns, uint64_t now);
	/* Loss found by dupacks/SACK or ECN-Echo, once per episode: sets ssthresh
	 * (NewReno: RFC 5681 (4) max(FlightSize/2, 2*SMSS); CUBIC: RFC 9438 4.6
	 * max(FlightSize*0.7, 2*SMSS) and W_max with fast convergence, 4.7) and
	 * cwnd = ssthresh. `inflight` is FlightSize at that moment. */
	void (*on_congestion)(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now);
	/* Full ACK ends recovery (RFC 6582 3.2 step 3, option 1):
	 * cwnd = min(ssthresh, max(inflight, SMSS) + SMSS), inflight being
	 * FlightSize after the full ACK. Never below 2*SMSS. */
	void (*on_recovery_exit)(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now);
	/* First RTO of an episode: ssthresh as on_congestion (RFC 5681 (4); RFC
	 * 9438 4.8), cwnd = LW = 1 SMSS (RFC 5681 3.1). */
	void (*on_rto)(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now);
	/* New data goes out with nothing in flight after `idle_ns` without sending.
	 * If idle_ns > rto_ns: ssthresh = max(ssthresh, 3/4 cwnd) (RFC 2861 3, as
	 * Linux), cwnd = min(cwnd, RW), RW = min(IW, cwnd) (RFC 5681 4.1). CUBIC
	 * also keeps the idle time out of t (RFC 9438 5.8; Linux shifts its
	 * epoch_start on CA_EVENT_TX_START the same way). */
	void (*on_idle_restart)(struct skiff_tcp_cc *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now);
	/* SMSS changed (PMTU): cwnd, ssthresh and the algorithm's windows keep
	 * their size in segments (Linux counts cwnd in segments). mss clamped. */
	void (*set_mss)(struct skiff_tcp_cc *cc, uint32_t mss);
};

/* The algorithms' ops tables (read-only, file-local in their .c files). */
const struct skiff_tcp_cc_ops *skiff_tcp_cc_newreno(void); /* "reno" */
const struct skiff_tcp_cc_ops *skiff_tcp_cc_cubic(void);   /* "cubic" */

/* Registry, by TCP_CONGESTION name: "reno" (alias "newreno") and "cubic".
 * 0 and *out set, -ENOENT for an unknown name, -EINVAL for NULL arguments. */
int skiff_tcp_cc_find(const char *name, const struct skiff_tcp_cc_ops **out);
/* The same for a buffer that need not be NUL-terminated (setsockopt's optval):
 * the name ends at the first NUL or after len bytes, whichever comes first. */
int skiff_tcp_cc_find_n(const char *name, size_t len, const struct skiff_tcp_cc_ops **out);
/* CUBIC, as Linux's default. */
const struct skiff_tcp_cc_ops *skiff_tcp_cc_default(void);

/* cc->ops = ops, then ops->init. -EINVAL for NULL or an SMSS out of bounds. */
int skiff_tcp_cc_init(struct skiff_tcp_cc *cc, const struct skiff_tcp_cc_ops *ops, uint32_t mss, uint64_t now);
/* Switch algorithm on a live connection (setsockopt TCP_CONGESTION): cwnd,
 * ssthresh and SMSS are kept, the new algorithm's state starts fresh. */
int skiff_tcp_cc_switch(struct skiff_tcp_cc *cc, const struct skiff_tcp_cc_ops *ops);
/* ops->set_mss after checking the bounds: 0 or -EINVAL. */
int skiff_tcp_cc_set_mss(struct skiff_tcp_cc *cc, uint32_t mss);

/* RFC 6928 2: min(10*MSS, max(2*MSS, 14600)). */
uint32_t skiff_tcp_cc_iw(uint32_t mss);
static inline bool skiff_tcp_cc_in_slow_start(const struct skiff_tcp_cc *cc) { return cc->cwnd < cc->ssthresh; }

/* The SYN or SYN-ACK was retransmitted: the initial window is one segment
 * (RFC 5681 3.1, RFC 6928 2). Call after init. */
void skiff_tcp_cc_syn_lost(struct skiff_tcp_cc *cc);

/* NewReno recovery without SACK (the connection's bookkeeping, any algorithm):
 * inflate: cwnd += segs * SMSS — 3 on entering (RFC 5681 3.2 step 3:
 *   cwnd = ssthresh + 3*SMSS, after on_congestion), 1 per further dupack (step 4).
 * partial_ack: RFC 6582 3.2 step 3 "partial acknowledgments": deflate cwnd by
 *   the `acked` new bytes, add back SMSS if acked >= SMSS; not below 2*SMSS. */
void skiff_tcp_cc_inflate(struct skiff_tcp_cc *cc, uint32_t segs);
void skiff_tcp_cc_partial_ack(struct skiff_tcp_cc *cc, uint32_t acked);

/* ---- Shared by the algorithm files (and unit tests); not for the connection. */

/* Everything common to init; keeps cc->ops. */
void skiff_tcp_cc_init_common(struct skiff_tcp_cc *cc, uint32_t mss);
/* Was the sender using its window when this ACK arrived (inflight + acked
 * outstanding)? In slow start at least half of it (RFC 7661 4.1's "validated"
 * test, Linux's tcp_is_cwnd_limited); in congestion avoidance all of it but
 * less than one SMSS (a sender cannot fill a partial segment). */
bool skiff_tcp_cc_cwnd_limited(const struct skiff_tcp_cc *cc, uint32_t acked, uint32_t inflight);
/* Slow start (RFC 5681 3.1, RFC 3465 2.2 with L = 2*SMSS): cwnd += min(acked,
 * 2*SMSS), not past ssthresh. Returns the part of `acked` left for congestion
 * avoidance when cwnd reached ssthresh (0 otherwise). */
uint32_t skiff_tcp_cc_slow_start(struct skiff_tcp_cc *cc, uint32_t acked);
/* Congestion avoidance by byte counting (RFC 5681 3.1, RFC 3465 2.1): once
 * bytes_acked reaches cwnd, bytes_acked -= cwnd and cwnd += SMSS. */
void skiff_tcp_cc_reno_ca(struct skiff_tcp_cc *cc, uint32_t acked);
/* RFC 5681 (4)-style reduction with factor num/den: max(inflight*num/den, 2*SMSS). */
uint32_t skiff_tcp_cc_reduced(const struct skiff_tcp_cc *cc, uint32_t inflight, uint32_t num, uint32_t den);
/* The common parts of on_recovery_exit and on_idle_restart (see the ops);
 * restart returns true when cwnd was cut to the restart window. */
void skiff_tcp_cc_recovery_exit_common(struct skiff_tcp_cc *cc, uint32_t inflight);
bool skiff_tcp_cc_restart_common(struct skiff_tcp_cc *cc, uint64_t idle_ns, uint64_t rto_ns);
/* Common part of set_mss: clamps and sets cc->mss, rescales cwnd, ssthresh and
 * bytes_acked (cwnd >= 1 SMSS, ssthresh >= 2 SMSS after). Returns the old SMSS. */
uint32_t skiff_tcp_cc_set_mss_common(struct skiff_tcp_cc *cc, uint32_t mss);
/* Scale a byte window from old_mss to new_mss segments (saturating at
 * SKIFF_TCP_CC_CWND_MAX; UINT32_MAX stays UINT32_MAX). */
uint32_t skiff_tcp_cc_rescale(uint32_t bytes, uint32_t old_mss, uint32_t new_mss);
/* Exact floor of the cube root of x. */
uint32_t skiff_tcp_cc_icbrt64(uint64_t x);

#endif
