/* tcp_cc_cubic.c — CUBIC (RFC 9438), TCP_CONGESTION "cubic", in integers.
 *
 * Flow:
 *   init → as NewReno (IW, ssthresh high), W_max undefined.
 *   on_ack (only while the sender uses its window, 5.8):
 *     cwnd < ssthresh → slow start as Reno (4.10; no HyStart++);
 *     congestion avoidance → the first CA ACK starts an epoch: t_epoch = now,
 *       cwnd_epoch = W_est = cwnd, K = cbrt((W_max - cwnd_epoch)/C) (4.2), or
 *       K = 0 and W_max = cwnd_epoch when W_max is undefined or already passed
 *       (4.8, 4.10). Then per ACK:
 *         W_est += alpha * segments_acked / cwnd, alpha = 9/17 until W_est
 *           reaches cwnd_prior, then 1 (4.3);
 *         W_cubic(t) < W_est → Reno-friendly: cwnd = max(cwnd, W_est) (4.3);
 *         else target = W_cubic(t + RTT) clamped to [cwnd, 1.5*cwnd] and
 *           cwnd += (target - cwnd) / cwnd per SMSS acknowledged (4.2, 4.4, 4.5).
 *     ACKs while application-limited do not grow cwnd, and the time until the
 *     window is used again is cut out of t (5.8, 4.2) by moving t_epoch.
 *   on_congestion → W_max = cwnd, or cwnd * (1 + beta)/2 when below the old
 *     W_max (fast convergence, 4.7); cwnd_prior = cwnd; ssthresh = cwnd =
 *     max(FlightSize * beta, 2*SMSS) (4.6); the epoch ends.
 *   on_recovery_exit → RFC 6582 full-ACK exit (as NewReno).
 *   on_rto → ssthresh as 4.6, cwnd = 1 SMSS, W_max undefined so the next CA
 *     stage uses K = 0 and W_max = cwnd_epoch (4.8).
 *   on_idle_restart → RFC 5681 4.1 restart window; a collapsed window ends the
 *     epoch (a new CA stage follows slow start), otherwise t_epoch moves by the
 *     idle time, as Linux's cubictcp_cwnd_event(CA_EVENT_TX_START) does.
 *   set_mss → every window keeps its size in segments; K is unchanged.
 *
 * Constants: C = 0.4 = 2/5, beta_cubic = 0.7 = 7/10, alpha_cubic = 3(1-beta)/
 * (1+beta) = 9/17, fast convergence factor (1+beta)/2 = 17/20, all exact.
 *
 * Units and precision (no floating point anywhere):
 *   windows in bytes; a segment count is bytes/SMSS, so C*(t-K)^3 segments is
 *   C*(t-K)^3*SMSS bytes. Time inside W_cubic is in units of 2^-10 s (as
 *   Linux's BICTCP_HZ), truncated: t and K each within 0.98 ms below the real
 *   value. K is the exact floor of the integer cube root. (t-K)^3 is exact in
 *   64 bits (|t-K| capped at 2^20 units = 1024 s, far beyond any K: with SMSS
 *   >= 64 and cwnd <= 2^30, K <= cbrt(2^24 / 0.4) s < 350 s); only its low 13
 *   bits (< 2^-17 s^3) are dropped before scaling by C*SMSS. So W_cubic at a
 *   given quantized time is within 2 bytes of the real-valued formula, and the
 *   time quantization adds at most |W'(t)| * 0.98 ms = 3C(t-K)^2 * 0.98 ms
 *   segments (0.12 SMSS at |t-K| = 10 s). W_est and the per-ACK increments
 *   carry their remainders (cwnd_frac, est_frac), so they never drift.
 */
#include "tcp_cc.h"

#define TQ_SHIFT 10                 /* time unit inside W_cubic: 2^-10 s */
#define OFFS_MAX (1ull << 20)       /* cap on |t - K|: 1024 s */
#define NS_MAX (1ull << 53)         /* cap on durations: ns << TQ_SHIFT fits */
#define NS_PER_S 1000000000ull

static uint32_t clamp_wnd(uint64_t v)
{
	return v > SKIFF_TCP_CC_CWND_MAX ? SKIFF_TCP_CC_CWND_MAX : (uint32_t)v;
}

static uint64_t ns_to_tq(uint64_t ns)
{
	if (ns > NS_MAX)
		ns = NS_MAX;
	return (ns << TQ_SHIFT) / NS_PER_S;
}

/* K = cbrt((W_max - cwnd_epoch) / C) seconds (4.2 Figure 2), in 2^-10 s:
 * cbrt(diff/SMSS * 2^30 / C). diff < 2^30, so diff << 30 < 2^60 and the
 * radicand stays below 2^57 for SMSS >= 64. */
static uint32_t cubic_k(uint32_t diff, uint32_t mss)
{
	uint64_t x = ((uint64_t)diff << (3 * TQ_SHIFT)) / mss;
	x = x * 5 / 2;
	return skiff_tcp_cc_icbrt64(x);
}

/* W_cubic(t) = C*(t - K)^3 + W_max (4.2 Figure 1), bytes, t in 2^-10 s. */
static uint32_t w_cubic(const struct skiff_tcp_cc *cc, uint64_t t)
{
	const struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	bool before = t < c->k;
	uint64_t offs = before ? c->k - t : t - c->k;
	uint64_t d;
	if (offs > OFFS_MAX)
		offs = OFFS_MAX;
	d = offs * offs * offs; /* 2^-30 s^3, <= 2^60 */
	/* * C * SMSS / 2^30: (d >> 13) < 2^47 and 2*SMSS < 2^17, so no overflow */
	d = ((d >> 13) * 2 * cc->mss / 5) >> 17;
	if (before)
		return d >= c->w_max ? 0 : c->w_max - (uint32_t)d;
	return clamp_wnd(d + c->w_max);
}

static void epoch_begin(struct skiff_tcp_cc *cc, uint64_t now)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	c->in_epoch = true;
	c->limited = false;
	c->epoch_start = now;
	c->cwnd_epoch = cc->cwnd;
	c->w_est = cc->cwnd; /* 4.3: W_est = cwnd_epoch */
	c->cwnd_frac = 0;
	c->est_frac = 0;
	if (!c->cwnd_prior)
		c->cwnd_prior = cc->cwnd; /* 4.10: first slow start left without loss */
	if (c->w_max <= cc->cwnd) {
		/* no loss yet, after an RTO, or already above W_max (4.8, 4.10) */
		c->w_max = cc->cwnd;
		c->k = 0;
	} else {
		c->k = cubic_k(c->w_max - cc->cwnd, cc->mss);
	}
}

/* Cut `gap` ns out of t (application-limited or idle time, 5.8). */
static void epoch_shift(struct skiff_tcp_cc_cubic *c, uint64_t gap, uint64_t now)
{
	if (gap > NS_MAX)
		gap = NS_MAX;
	c->epoch_start += gap;
	if (c->epoch_start > now)
		c->epoch_start = now;
}

static void cubic_init(struct skiff_tcp_cc *cc, uint32_t mss, uint64_t now)
{
	(void)now;
	skiff_tcp_cc_init_common(cc, mss); /* zeroes u.cubic: W_max undefined, no epoch */
}

static void cubic_on_ack(struct skiff_tcp_cc *cc, uint32_t acked, uint32_t inflight, uint64_t srtt_ns,
			 uint64_t min_rtt_ns, uint64_t now)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	uint64_t t, rtt, inc, den, target, cw;
	uint32_t wc;

	if (!acked || !skiff_tcp_cc_cwnd_limited(cc, acked, inflight)) {
		/* 5.8: no growth while application-limited; remember since when */
		if (c->in_epoch && !c->limited) {
			c->limited = true;
			c->limited_since = now;
		}
		return;
	}
	if (skiff_tcp_cc_in_slow_start(cc)) {
		acked = skiff_tcp_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}
	if (acked > cc->cwnd)
		acked = cc->cwnd;
	if (!c->in_epoch) {
		epoch_begin(cc, now);
	} else if (c->limited) {
		epoch_shift(c, now > c->limited_since ? now - c->limited_since : 0, now);
		c->limited = false;
	}
	t = now > c->epoch_start ? now - c->epoch_start : 0;
	if (t > NS_MAX)
		t = NS_MAX;
	rtt = srtt_ns ? srtt_ns : min_rtt_ns;
	if (rtt > NS_MAX)
		rtt = NS_MAX;

	/* 4.3 Figure 4, in bytes: W_est += alpha * acked * SMSS / cwnd. alpha is
	 * 9/17, or 17/17 once W_est has reached cwnd_prior. */
	den = (uint64_t)cc->cwnd * 17;
	c->est_frac += (uint64_t)acked * cc->mss * (c->w_est >= c->cwnd_prior ? 17 : 9);
	inc = c->est_frac / den;
	c->est_frac -= inc * den;
	c->w_est = clamp_wnd(c->w_est + inc);

	wc = w_cubic(cc, ns_to_tq(t));
	if (wc < c->w_est) {
		/* Reno-friendly region: follow W_est, never shrink */
		if (c->w_est > cc->cwnd)
			cc->cwnd = c->w_est;
		c->cwnd_frac = 0;
		return;
	}

	/* 4.2: target = W_cubic(t + RTT) within [cwnd, 1.5*cwnd]; 4.4/4.5: cwnd
	 * grows by (target - cwnd)/cwnd segments per segment acknowledged, i.e.
	 * (target - cwnd) * acked / cwnd bytes, remainder carried. Counting per
	 * SMSS acknowledged rather than per ACK (as Linux; RFC 9438 erratum 9186)
	 * keeps delayed ACKs from halving the growth: one RTT of ACKs moves cwnd
	 * most of the way to the target. */
	target = w_cubic(cc, ns_to_tq(t + rtt));
	cw = cc->cwnd;
	if (target < cw)
		target = cw;
	if (target > cw + cw / 2)
		target = cw + cw / 2;
	c->cwnd_frac += (target - cw) * acked;
	inc = c->cwnd_frac / cw;
	c->cwnd_frac -= inc * cw;
	cc->cwnd = clamp_wnd(cw + inc);
}

static void cubic_on_congestion(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	(void)now;
	/* 4.7 fast convergence: a loss below the previous W_max means another flow
	 * took bandwidth; release more by lowering the plateau */
	if (cc->cwnd < c->w_max) /* W_max 0 (undefined): never */
		c->w_max = (uint32_t)((uint64_t)cc->cwnd * 17 / 20);
	else
		c->w_max = cc->cwnd;
	c->cwnd_prior = cc->cwnd;
	/* 4.6: ssthresh = FlightSize * beta_cubic, at least 2 segments */
	cc->ssthresh = skiff_tcp_cc_reduced(cc, inflight, 7, 10);
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
	c->in_epoch = false;
	c->limited = false;
}

static void cubic_on_recovery_exit(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	(void)now;
	skiff_tcp_cc_recovery_exit_common(cc, inflight);
}

static void cubic_on_rto(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	(void)now;
	/* 4.8: ssthresh as 4.6, cwnd as Reno (1 SMSS, RFC 5681 3.1); the first CA
	 * stage afterwards starts with K = 0 and W_max = cwnd_epoch */
	c->cwnd_prior = cc->cwnd;
	c->w_max = 0;
	cc->ssthresh = skiff_tcp_cc_reduced(cc, inflight, 7, 10);
	cc->cwnd = cc->mss;
	cc->bytes_acked = 0;
	c->in_epoch = false;
	c->limited = false;
}

static void cubic_on_idle_restart(struct skiff_tcp_cc *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	bool cut = skiff_tcp_cc_restart_common(cc, idle_ns, rto_ns);
	if (!c->in_epoch)
		return;
	if (cut) {
		/* slow start back to ssthresh, then a new CA stage (K from W_max) */
		c->in_epoch = false;
		c->limited = false;
		return;
	}
	if (c->limited) {
		/* the application-limited stretch before the idle covers it */
		epoch_shift(c, now > c->limited_since ? now - c->limited_since : 0, now);
		c->limited = false;
	} else {
		epoch_shift(c, idle_ns, now);
	}
}

static void cubic_set_mss(struct skiff_tcp_cc *cc, uint32_t mss)
{
	struct skiff_tcp_cc_cubic *c = &cc->u.cubic;
	uint32_t old = skiff_tcp_cc_set_mss_common(cc, mss);
	/* same segment counts: (W_max - cwnd_epoch)/SMSS, hence K, is unchanged */
	c->w_max = skiff_tcp_cc_rescale(c->w_max, old, cc->mss);
	c->cwnd_prior = skiff_tcp_cc_rescale(c->cwnd_prior, old, cc->mss);
	c->cwnd_epoch = skiff_tcp_cc_rescale(c->cwnd_epoch, old, cc->mss);
	c->w_est = skiff_tcp_cc_rescale(c->w_est, old, cc->mss);
	c->cwnd_frac = 0;
	c->est_frac = 0;
}

static const struct skiff_tcp_cc_ops cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_congestion = cubic_on_congestion,
	.on_recovery_exit = cubic_on_recovery_exit,
	.on_rto = cubic_on_rto,
	.on_idle_restart = cubic_on_idle_restart,
	.set_mss = cubic_set_mss,
};

const struct skiff_tcp_cc_ops *skiff_tcp_cc_cubic(void) { return &cubic_ops; }
