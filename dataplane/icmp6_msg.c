/* icmp6_msg.c — ICMPv6 messages (RFC 4443), no stack state.
 *
 * In (the caller has the message as a view, ip6_ext_walk's l4_off to the end,
 * and has verified the checksum with icmp6_csum_ok, 2.3):
 *   type >= 128 informational (2.1):
 *     128/129 echo  icmp6_echo_parse: 8-byte header, id, seq, the data (4.1, 4.2)
 *     133-137 ND    nd_parse (nd_msg.c)
 *     unknown       the caller discards it silently (2.4 (a))
 *   type < 128 error (2.1), known or not (2.4 (b)):
 *                   icmp6_error_parse: 8-byte header, param, at least a fixed
 *                   header quoted with version 6 (3.1-3.4); the caller walks the
 *                   quote to the transport and maps type/code with
 *                   icmp6_error_errno (Linux's icmpv6_err_convert)
 * Out:
 *   echo reply      icmp6_echo_build(ICMP6_ECHO_REPLY) with the request's id, seq
 *                   and data, entire and unmodified (4.2), even over the request
 *   error           decide: icmp6_error_forbidden (2.4 (e.1)-(e.6) with the
 *                   Packet Too Big / Parameter Problem code 2 exceptions), then
 *                   icmp6_ratelimit_allow (2.4 (f)); build: icmp6_error_build,
 *                   quoting as much as fits 1280 bytes (2.4 (c))
 * Source address choice (2.2) and the route are the caller's.
 */
#include "icmp6_msg.h"

#include <errno.h>
#include <string.h>

#define NS_PER_S 1000000000ull

static const char *const fail_names[ICMP6_FAIL_MAX] = {
	[ICMP6_FAIL_NONE] = "NONE",
#define NAME_(n, d) [ICMP6_FAIL_##n] = #n,
	ICMP6_FAILS(NAME_)
#undef NAME_
};

static const char *const fail_descs[ICMP6_FAIL_MAX] = {
	[ICMP6_FAIL_NONE] = "no failure",
#define DESC_(n, d) [ICMP6_FAIL_##n] = d,
	ICMP6_FAILS(DESC_)
#undef DESC_
};

const char *icmp6_fail_name(enum icmp6_fail f)
{
	return (unsigned)f < ICMP6_FAIL_MAX ? fail_names[f] : "?";
}

const char *icmp6_fail_desc(enum icmp6_fail f)
{
	return (unsigned)f < ICMP6_FAIL_MAX ? fail_descs[f] : "?";
}

/* The fixed header of a packet of plen payload bytes built by us. */
static void emit_ip(uint8_t *pkt, const struct ip6_repr *ip, size_t plen)
{
	struct ip6_repr r = *ip;
	r.next_hdr = IP6_NH_ICMP6;
	r.payload_len = (uint16_t)plen;
	ip6_emit(pkt, &r);
}

/* ---- echo ---- */

int icmp6_echo_parse(struct view msg, struct icmp6_echo *e)
{
	struct icmp6_repr h;

	memset(e, 0, sizeof(*e));
	if (icmp6_parse(&msg, &h)) {
		e->fail = ICMP6_FAIL_SHORT;
		return -EBADMSG;
	}
	e->type = h.type;
	e->code = h.code;
	if (h.type != ICMP6_ECHO_REQUEST && h.type != ICMP6_ECHO_REPLY) {
		e->fail = ICMP6_FAIL_NOT_ECHO;
		return -EBADMSG;
	}
	e->id = (uint16_t)(h.rest >> 16);
	e->seq = (uint16_t)h.rest;
	e->data = msg;
	return 0;
}

int icmp6_echo_build(uint8_t *pkt, size_t cap, const struct ip6_repr *ip, uint8_t type, uint16_t id,
		     uint16_t seq, const void *data, size_t dlen)
{
	struct icmp6_repr h = { type, 0, 0, ((uint32_t)id << 16) | seq };
	size_t mlen = ICMP6_HDR_LEN + dlen;
	uint8_t *m = pkt + IP6_HDR_LEN;

	if (type != ICMP6_ECHO_REQUEST && type != ICMP6_ECHO_REPLY)
		return -EINVAL;
	if (dlen > 0xffff - ICMP6_HDR_LEN)
		return -EMSGSIZE;
	if (cap < IP6_HDR_LEN + mlen)
		return -ENOSPC;
	if (dlen)
		memmove(m + ICMP6_HDR_LEN, data, dlen);
	emit_ip(pkt, ip, mlen);
	icmp6_emit(m, &h);
	icmp6_csum_fill(ip->src.v6, ip->dst.v6, m, mlen);
	return (int)(IP6_HDR_LEN + mlen);
}

/* ---- errors ---- */

int icmp6_error_parse(struct view msg, struct icmp6_error *e)
{
	struct icmp6_repr h;
	const uint8_t *q;

	memset(e, 0, sizeof(*e));
	if (icmp6_parse(&msg, &h)) {
		e->fail = ICMP6_FAIL_SHORT;
		return -EBADMSG;
	}
	e->type = h.type;
	e->code = h.code;
	e->param = h.rest;
	if (!icmp6_is_error(h.type)) {
		e->fail = ICMP6_FAIL_NOT_ERROR;
		return -EBADMSG;
	}
	e->quote = msg;
	q = msg.p;
	if (msg.len < IP6_HDR_LEN) {
		e->fail = ICMP6_FAIL_ERR_QUOTE_SHORT;
		return -EBADMSG;
	}
	/* The quote is cut, so ip6_parse's payload-length check does not apply. */
	e->inner.version = q[0] >> 4;
	e->inner.tclass = (uint8_t)(ld32(q) >> 20);
	e->inner.flow = ld32(q) & IP6_FLOW_MASK;
	e->inner.payload_len = ld16(q + 4);
	e->inner.next_hdr = q[6];
	e->inner.hop_limit = q[7];
	e->inner.src = ip6_addr_make(q + 8);
	e->inner.dst = ip6_addr_make(q + 24);
	if (e->inner.version != 6) {
		e->fail = ICMP6_FAIL_ERR_QUOTE_VERSION;
		return -EBADMSG;
	}
	return 0;
}

int icmp6_error_build(uint8_t *pkt, size_t cap, const struct ip6_repr *ip, uint8_t type, uint8_t code,
		      uint32_t param, const void *orig, size_t orig_len)
{
	struct icmp6_repr h = { type, code, 0, param };
	uint8_t *m = pkt + IP6_HDR_LEN;
	size_t qlen = orig_len, mlen;

	if (!icmp6_is_error(type))
		return -EINVAL;
	if (cap < IP6_HDR_LEN + ICMP6_HDR_LEN)
		return -ENOSPC;
	if (type == ICMP6_DST_UNREACH || type == ICMP6_TIME_EXCEEDED)
		h.rest = 0; /* 3.1, 3.3: unused, zero */
	if (qlen > ICMP6_ERR_QUOTE_MAX)
		qlen = ICMP6_ERR_QUOTE_MAX; /* 2.4 (c) */
	if (qlen > cap - IP6_HDR_LEN - ICMP6_HDR_LEN)
		qlen = cap - IP6_HDR_LEN - ICMP6_HDR_LEN;
	mlen = ICMP6_HDR_LEN + qlen;
	if (qlen)
		memmove(m + ICMP6_HDR_LEN, orig, qlen); /* first: orig may lie where the headers go */
	emit_ip(pkt, ip, mlen);
	icmp6_emit(m, &h);
	icmp6_csum_fill(ip->src.v6, ip->dst.v6, m, mlen);
	return (int)(IP6_HDR_LEN + mlen);
}

enum icmp6_fail icmp6_error_forbidden(uint8_t type, uint8_t code, const struct icmp6_err_about *a)
{
	/* The (e.3) exceptions, which (e.4) and (e.5) share: Path MTU discovery for
	 * multicast, and an option whose action bits ask for an error even then. */
	bool mcast_ok = type == ICMP6_PKT_TOO_BIG ||
			(type == ICMP6_PARAM_PROBLEM && code == ICMP6_PP_OPTION && a->opt_action_10);

	if (a->is_icmp6_error)
		return ICMP6_FAIL_NOERR_ABOUT_ERROR; /* (e.1) */
	if (a->is_redirect)
		return ICMP6_FAIL_NOERR_ABOUT_REDIRECT; /* (e.2) */
	if (a->dst_multicast && !mcast_ok)
		return ICMP6_FAIL_NOERR_MCAST_DST; /* (e.3) */
	if (a->ll_multicast && !mcast_ok)
		return ICMP6_FAIL_NOERR_LL_MCAST; /* (e.4) */
	if (a->ll_broadcast && !mcast_ok)
		return ICMP6_FAIL_NOERR_LL_BCAST; /* (e.5) */
	if (a->src_unspecified || a->src_multicast || a->src_anycast)
		return ICMP6_FAIL_NOERR_SRC; /* (e.6) */
	return ICMP6_FAIL_NONE;
}

int icmp6_error_errno(uint8_t type, uint8_t code, bool *fatal)
{
	static const struct {
		int err;
		bool fatal;
	} unreach[] = {
		{ ENETUNREACH, false },  /* 0 no route */
		{ EACCES, true },        /* 1 administratively prohibited */
		{ EHOSTUNREACH, false }, /* 2 beyond scope of source address */
		{ EHOSTUNREACH, false }, /* 3 address unreachable */
		{ ECONNREFUSED, true },  /* 4 port unreachable */
		{ EACCES, true },        /* 5 source address failed policy */
		{ EACCES, true },        /* 6 reject route */
	};

	switch (type) {
	case ICMP6_DST_UNREACH:
		if (code < sizeof(unreach) / sizeof(unreach[0])) {
			*fatal = unreach[code].fatal;
			return unreach[code].err;
		}
		*fatal = true;
		return EPROTO;
	case ICMP6_PKT_TOO_BIG:
		*fatal = false;
		return EMSGSIZE;
	case ICMP6_TIME_EXCEEDED:
		*fatal = false;
		return EHOSTUNREACH;
	case ICMP6_PARAM_PROBLEM:
		*fatal = true;
		return EPROTO;
	default:
		*fatal = false;
		return EPROTO;
	}
}

/* ---- rate limit ---- */

void icmp6_ratelimit_init(struct icmp6_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now)
{
	rl->last = now;
	rl->rate = rate;
	rl->burst = burst ? burst : 1;
	rl->tokens = rl->burst;
	rl->frac = 0;
}

bool icmp6_ratelimit_allow(struct icmp6_ratelimit *rl, uint64_t now)
{
	if (rl->rate == 0)
		return true;
	if (now > rl->last) {
		uint64_t elapsed = now - rl->last;
		/* Time to fill the bucket from empty; burst * 1e9 < 2^63, no overflow. */
		uint64_t fill = ((uint64_t)rl->burst * NS_PER_S + rl->rate - 1) / rl->rate;
		rl->last = now;
		if (elapsed >= fill) {
			rl->tokens = rl->burst;
			rl->frac = 0;
		} else {
			/* elapsed < fill, so elapsed * rate < burst * 1e9 + rate: fits */
			uint64_t units = elapsed * rl->rate + rl->frac;
			uint64_t t = rl->tokens + units / NS_PER_S;
			if (t >= rl->burst) {
				rl->tokens = rl->burst;
				rl->frac = 0; /* a full bucket saves nothing more */
			} else {
				rl->tokens = (uint32_t)t;
				rl->frac = (uint32_t)(units % NS_PER_S);
			}
		}
	}
	if (rl->tokens == 0)
		return false;
	rl->tokens--;
	return true;
}
