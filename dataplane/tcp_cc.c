/* tcp_cc.c — the congestion-control registry and what all algorithms share.
 *
 * Flow: the connection picks ops by name (skiff_tcp_cc_find, the TCP_CONGESTION
 * names) or takes skiff_tcp_cc_default(); skiff_tcp_cc_init() validates the SMSS
 * and runs ops->init, which starts from skiff_tcp_cc_init_common() (IW, RFC 6928;
 * ssthresh, RFC 5681 3.1). The algorithm files build their ops from the helpers
 * below: the cwnd-limited test, slow start with RFC 3465 byte counting, Reno
 * congestion avoidance, the RFC 5681 (4) reduction, the RFC 6582 full-ACK exit,
 * the RFC 5681 4.1 restart window and window rescaling on an SMSS change. The
 * NewReno inflation/deflation for recovery without SACK (RFC 5681 3.2, RFC 6582
 * 3.2) is here too: it does not depend on the algorithm.
 *
 * All arithmetic is in uint32_t bytes with uint64_t intermediates; every result
 * is clamped to SKIFF_TCP_CC_CWND_MAX.
 */
#include "tcp_cc.h"

#include <errno.h>
#include <string.h>

/* the per-algorithm union has a fixed size: a new algorithm must fit in it */
_Static_assert(sizeof(((struct skiff_tcp_cc *)0)->u) == 8 * sizeof(uint64_t), "tcp_cc union grew");

static const struct {
	const char *name;
	const struct skiff_tcp_cc_ops *(*ops)(void);
} cc_registry[] = {
	{ "reno", skiff_tcp_cc_newreno },
	{ "newreno", skiff_tcp_cc_newreno },
	{ "cubic", skiff_tcp_cc_cubic },
};

static uint32_t clamp_wnd(uint64_t v)
{
	return v > SKIFF_TCP_CC_CWND_MAX ? SKIFF_TCP_CC_CWND_MAX : (uint32_t)v;
}

static uint32_t clamp_mss(uint32_t mss)
{
	if (mss < SKIFF_TCP_CC_MSS_MIN)
		return SKIFF_TCP_CC_MSS_MIN;
	if (mss > SKIFF_TCP_CC_MSS_MAX)
		return SKIFF_TCP_CC_MSS_MAX;
	return mss;
}

static bool mss_ok(uint32_t mss)
{
	return mss >= SKIFF_TCP_CC_MSS_MIN && mss <= SKIFF_TCP_CC_MSS_MAX;
}

int skiff_tcp_cc_find_n(const char *name, size_t len, const struct skiff_tcp_cc_ops **out)
{
	size_t n = 0;
	if (!name || !out)
		return -EINVAL;
	while (n < len && name[n])
		n++;
	for (size_t i = 0; i < sizeof(cc_registry) / sizeof(cc_registry[0]); i++) {
		if (strlen(cc_registry[i].name) == n && memcmp(cc_registry[i].name, name, n) == 0) {
			*out = cc_registry[i].ops();
			return 0;
		}
	}
	return -ENOENT;
}

int skiff_tcp_cc_find(const char *name, const struct skiff_tcp_cc_ops **out)
{
	if (!name)
		return -EINVAL;
	/* a NUL-terminated name: read at most one byte past the longest valid name */
	return skiff_tcp_cc_find_n(name, SKIFF_TCP_CC_NAME_MAX, out);
}

const struct skiff_tcp_cc_ops *skiff_tcp_cc_default(void)
{
	return skiff_tcp_cc_cubic();
}

uint32_t skiff_tcp_cc_iw(uint32_t mss)
{
	/* RFC 6928 2: min(10*MSS, max(2*MSS, 14600)) */
	uint64_t lo = 2ull * mss > 14600 ? 2ull * mss : 14600;
	uint64_t hi = 10ull * mss;
	return clamp_wnd(hi < lo ? hi : lo);
}

void skiff_tcp_cc_init_common(struct skiff_tcp_cc *cc, uint32_t mss)
{
	const struct skiff_tcp_cc_ops *ops = cc->ops;
	memset(cc, 0, sizeof(*cc));
	cc->ops = ops;
	cc->mss = clamp_mss(mss);
	cc->cwnd = skiff_tcp_cc_iw(cc->mss);
	cc->ssthresh = SKIFF_TCP_CC_SSTHRESH_INF; /* RFC 5681 3.1 */
}

int skiff_tcp_cc_init(struct skiff_tcp_cc *cc, const struct skiff_tcp_cc_ops *ops, uint32_t mss, uint64_t now)
{
	if (!cc || !ops || !ops->init || !mss_ok(mss))
		return -EINVAL;
	cc->ops = ops;
	ops->init(cc, mss, now);
	return 0;
}

int skiff_tcp_cc_switch(struct skiff_tcp_cc *cc, const struct skiff_tcp_cc_ops *ops)
{
	uint32_t cwnd, ssthresh, mss;
	if (!cc || !ops || !ops->init)
		return -EINVAL;
	cwnd = cc->cwnd;
	ssthresh = cc->ssthresh;
	mss = cc->mss;
	cc->ops = ops;
	ops->init(cc, mss, 0);
	if (cwnd) { /* a connection that had been initialised keeps its windows */
		cc->cwnd = cwnd;
		cc->ssthresh = ssthresh;
	}
	return 0;
}

int skiff_tcp_cc_set_mss(struct skiff_tcp_cc *cc, uint32_t mss)
{
	if (!cc || !cc->ops || !cc->ops->set_mss || !mss_ok(mss))
		return -EINVAL;
	cc->ops->set_mss(cc, mss);
	return 0;
}

void skiff_tcp_cc_syn_lost(struct skiff_tcp_cc *cc)
{
	cc->cwnd = cc->mss;
}

void skiff_tcp_cc_inflate(struct skiff_tcp_cc *cc, uint32_t segs)
{
	cc->cwnd = clamp_wnd((uint64_t)cc->cwnd + (uint64_t)segs * cc->mss);
}

void skiff_tcp_cc_partial_ack(struct skiff_tcp_cc *cc, uint32_t acked)
{
	/* RFC 6582 3.2 step 3: deflate by the new data acknowledged, add back one
	 * SMSS when at least one SMSS was acknowledged (a segment left the network) */
	uint64_t w = cc->cwnd;
	uint64_t floor = 2ull * cc->mss;
	w = acked >= w ? 0 : w - acked;
	if (acked >= cc->mss)
		w += cc->mss;
	cc->cwnd = clamp_wnd(w < floor ? floor : w);
}

bool skiff_tcp_cc_cwnd_limited(const struct skiff_tcp_cc *cc, uint32_t acked, uint32_t inflight)
{
	uint64_t flight = (uint64_t)inflight + acked; /* outstanding when the ACK arrived */
	if (skiff_tcp_cc_in_slow_start(cc))
		return 2 * flight >= cc->cwnd;
	return flight + cc->mss > cc->cwnd;
}

uint32_t skiff_tcp_cc_slow_start(struct skiff_tcp_cc *cc, uint32_t acked)
{
	/* RFC 3465 2.2: increase by the bytes acknowledged, at most L = 2*SMSS per
	 * ACK (RFC 5681 3.1 allows min(N, SMSS); L = 2 keeps doubling per RTT with
	 * delayed ACKs). Stop at ssthresh; the rest goes to congestion avoidance. */
	uint32_t l = 2 * cc->mss;
	uint32_t inc = acked < l ? acked : l;
	uint64_t room;
	if (cc->cwnd >= cc->ssthresh)
		return acked;
	room = (uint64_t)cc->ssthresh - cc->cwnd;
	if (inc >= room) {
		cc->cwnd = clamp_wnd(cc->ssthresh);
		return acked - (uint32_t)room;
	}
	cc->cwnd = clamp_wnd((uint64_t)cc->cwnd + inc);
	return 0;
}

void skiff_tcp_cc_reno_ca(struct skiff_tcp_cc *cc, uint32_t acked)
{
	/* RFC 3465 2.1: one SMSS per cwnd of bytes acknowledged; at most one
	 * increase per ACK, the rest (up to one cwnd) carried over to the next. */
	uint64_t b = (uint64_t)cc->bytes_acked + acked;
	if (b >= cc->cwnd) {
		b -= cc->cwnd;
		cc->cwnd = clamp_wnd((uint64_t)cc->cwnd + cc->mss);
	}
	cc->bytes_acked = (uint32_t)(b > cc->cwnd ? cc->cwnd : b);
}

uint32_t skiff_tcp_cc_reduced(const struct skiff_tcp_cc *cc, uint32_t inflight, uint32_t num, uint32_t den)
{
	uint64_t v = (uint64_t)inflight * num / den;
	uint64_t floor = 2ull * cc->mss;
	return clamp_wnd(v < floor ? floor : v);
}

void skiff_tcp_cc_recovery_exit_common(struct skiff_tcp_cc *cc, uint32_t inflight)
{
	/* RFC 6582 3.2 step 3 "full acknowledgments", option (1):
	 * cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS) — no burst when little
	 * is outstanding. ssthresh >= 2*SMSS, so cwnd >= 2*SMSS. */
	uint64_t f = inflight > cc->mss ? inflight : cc->mss;
	uint64_t w = f + cc->mss;
	if (w > cc->ssthresh)
		w = cc->ssthresh;
	if (w < 2ull * cc->mss)
		w = 2ull * cc->mss;
	cc->cwnd = clamp_wnd(w);
	cc->bytes_acked = 0;
}

bool skiff_tcp_cc_restart_common(struct skiff_tcp_cc *cc, uint64_t idle_ns, uint64_t rto_ns)
{
	/* RFC 5681 4.1: after an idle period longer than the RTO, cwnd is at most
	 * RW = min(IW, cwnd). ssthresh first remembers 3/4 of the old cwnd (RFC 2861
	 * 3, Linux tcp_cwnd_restart), so slow start climbs back quickly. */
	uint32_t rw = skiff_tcp_cc_iw(cc->mss);
	uint64_t three_q;
	if (idle_ns <= rto_ns)
		return false;
	three_q = (uint64_t)cc->cwnd * 3 / 4;
	if (cc->ssthresh < three_q)
		cc->ssthresh = (uint32_t)three_q;
	if (rw > cc->cwnd)
		rw = cc->cwnd;
	cc->cwnd = rw;
	cc->bytes_acked = 0;
	return true;
}

uint32_t skiff_tcp_cc_rescale(uint32_t bytes, uint32_t old_mss, uint32_t new_mss)
{
	if (bytes == UINT32_MAX || old_mss == 0)
		return bytes;
	return clamp_wnd((uint64_t)bytes * new_mss / old_mss);
}

uint32_t skiff_tcp_cc_set_mss_common(struct skiff_tcp_cc *cc, uint32_t mss)
{
	uint32_t old = cc->mss;
	cc->mss = clamp_mss(mss);
	cc->cwnd = skiff_tcp_cc_rescale(cc->cwnd, old, cc->mss);
	cc->ssthresh = skiff_tcp_cc_rescale(cc->ssthresh, old, cc->mss);
	cc->bytes_acked = skiff_tcp_cc_rescale(cc->bytes_acked, old, cc->mss);
	if (cc->cwnd < cc->mss)
		cc->cwnd = cc->mss;
	if (cc->ssthresh < 2 * cc->mss)
		cc->ssthresh = 2 * cc->mss;
	return old;
}

uint32_t skiff_tcp_cc_icbrt64(uint64_t x)
{
	/* Binary digit-by-digit cube root: one root bit per 3 radicand bits, from
	 * the top. y is the root so far; (y+1)^3 - y^3 = 3y(y+1) + 1 is compared
	 * with the remaining radicand shifted down, so nothing overflows. Exact. */
	uint64_t y = 0;
	for (int s = 63; s >= 0; s -= 3) {
		uint64_t b;
		y <<= 1;
		b = 3 * y * (y + 1) + 1;
		if ((x >> s) >= b) {
			x -= b << s;
			y++;
		}
	}
	return (uint32_t)y;
}
