/* tcp_cc_newreno.c — NewReno (RFC 5681, RFC 6582), TCP_CONGESTION "reno".
 *
 * Flow: init → IW (RFC 6928), ssthresh arbitrarily high (RFC 5681 3.1).
 * on_ack (new data, outside recovery, only while the window is used):
 *   cwnd < ssthresh → slow start, cwnd += min(acked, 2*SMSS) (RFC 3465 2.2);
 *   the bytes past ssthresh, and every ACK after, → congestion avoidance by
 *   byte counting, +1 SMSS per cwnd of bytes acknowledged (RFC 3465 2.1).
 * on_congestion → ssthresh = max(FlightSize/2, 2*SMSS) (RFC 5681 (4)), cwnd =
 *   ssthresh; the connection inflates/deflates during recovery (tcp_cc.h).
 * on_recovery_exit → cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
 *   (RFC 6582 3.2 step 3).
 * on_rto → ssthresh by (4), cwnd = 1 SMSS (RFC 5681 3.1).
 * on_idle_restart → restart window (RFC 5681 4.1).
 * set_mss → windows keep their size in segments.
 */
#include "tcp_cc.h"

static void reno_init(struct skiff_tcp_cc *cc, uint32_t mss, uint64_t now)
{
	(void)now;
	skiff_tcp_cc_init_common(cc, mss);
}

static void reno_on_ack(struct skiff_tcp_cc *cc, uint32_t acked, uint32_t inflight, uint64_t srtt_ns,
			uint64_t min_rtt_ns, uint64_t now)
{
	(void)srtt_ns;
	(void)min_rtt_ns;
	(void)now;
	if (!acked || !skiff_tcp_cc_cwnd_limited(cc, acked, inflight))
		return;
	if (skiff_tcp_cc_in_slow_start(cc)) {
		acked = skiff_tcp_cc_slow_start(cc, acked);
		if (!acked)
			return;
	}
	skiff_tcp_cc_reno_ca(cc, acked);
}

static void reno_on_congestion(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	(void)now;
	cc->ssthresh = skiff_tcp_cc_reduced(cc, inflight, 1, 2); /* RFC 5681 (4) */
	cc->cwnd = cc->ssthresh;
	cc->bytes_acked = 0;
}

static void reno_on_recovery_exit(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	(void)now;
	skiff_tcp_cc_recovery_exit_common(cc, inflight);
}

static void reno_on_rto(struct skiff_tcp_cc *cc, uint32_t inflight, uint64_t now)
{
	(void)now;
	cc->ssthresh = skiff_tcp_cc_reduced(cc, inflight, 1, 2); /* RFC 5681 (4) */
	cc->cwnd = cc->mss;                                       /* LW, RFC 5681 3.1 */
	cc->bytes_acked = 0;
}

static void reno_on_idle_restart(struct skiff_tcp_cc *cc, uint64_t idle_ns, uint64_t rto_ns, uint64_t now)
{
	(void)now;
	skiff_tcp_cc_restart_common(cc, idle_ns, rto_ns);
}

static void reno_set_mss(struct skiff_tcp_cc *cc, uint32_t mss)
{
	skiff_tcp_cc_set_mss_common(cc, mss);
}

static const struct skiff_tcp_cc_ops newreno_ops = {
	.name = "reno",
	.init = reno_init,
	.on_ack = reno_on_ack,
	.on_congestion = reno_on_congestion,
	.on_recovery_exit = reno_on_recovery_exit,
	.on_rto = reno_on_rto,
	.on_idle_restart = reno_on_idle_restart,
	.set_mss = reno_set_mss,
};

const struct skiff_tcp_cc_ops *skiff_tcp_cc_newreno(void) { return &newreno_ops; }
