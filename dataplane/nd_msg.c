/* nd_msg.c — Neighbour Discovery messages (RFC 4861 4), parsed and built.
 *
 * nd_parse(ip, msg): every check of RFC 4861's "Message Validation" sections,
 * in the order they are listed there; the first that fails names the refusal
 * (ICMP6_FAIL_*, future SKIFF_DROP_ICMP6_*). No Authentication Header is
 * supported, so the "if AH, it authenticates" line of each list has no check.
 *
 *   ICMPv6 header present (8 bytes)                      SHORT
 *   type 133..137                                        ND_NOT_ND
 *   source not multicast (RFC 4291 2.7; the IPv6 layer
 *     should have dropped it, ND must not learn it)      ND_SRC_MULTICAST
 *   RA, Redirect: source link-local (6.1.2, 8.1)         ND_SRC_NOT_LL
 *   hop limit 255 (6.1.1, 6.1.2, 7.1.1, 7.1.2, 8.1)      ND_HOP_LIMIT
 *   checksum (unless ND_PARSE_CSUM_DONE)                 BAD_CSUM
 *   code 0                                               ND_BAD_CODE
 *   ICMPv6 length >= RS 8, RA 16, NS 24, NA 24,
 *     Redirect 40                                        ND_SHORT
 *   NS, NA: target not multicast (7.1.1, 7.1.2)          ND_TARGET_MULTICAST
 *   NA: destination multicast → Solicited clear (7.1.2)  ND_NA_SOLICITED_MCAST
 *   Redirect: Destination Address not multicast (8.1)    ND_REDIR_DST_MULTICAST
 *   Redirect: target link-local (to a router) or equal
 *     to the Destination (on-link) (8.1)                 ND_REDIR_TARGET
 *   options (4.6), each: length > 0                      ND_OPT_ZERO_LEN
 *                        within the message              ND_OPT_OVERRUN
 *     a link-layer address option the type uses
 *       (SLLAO: RS, RA, NS; TLLAO: NA, Redirect) is 8
 *       bytes, Ethernet's (RFC 2464 6; Linux drops the
 *       message too: ndisc_opt_addr_data)                ND_BAD_LLAO
 *     the first of each kind is kept, a repeat skipped (Linux's
 *     ndisc_parse_options); Prefix Information counted, walked later by
 *     nd_prefix_next; MTU (RA) of length 1 taken; Redirected Header
 *     (Redirect) kept as a view; anything else, or an option the type does
 *     not use, skipped (4.6: "silently ignore", 6.1.1 ... 8.1: "MUST be
 *     ignored and the packet processed as normal")
 *   NS from ::: destination a solicited-node group (7.1.1) ND_UNSPEC_SRC_DST
 *   RS, NS from ::: no SLLAO (6.1.1, 7.1.1)              ND_UNSPEC_SRC_SLLAO
 *
 * Checks that need state are the caller's (see nd_msg.h). Prefix Information
 * (4.6.2) is judged per option, not per message: a bad one is ignored, the RA
 * still counts (6.3.4, RFC 4862 5.5.3).
 *
 * Builders (RS 4.1, NS 4.3, NA 4.4): hop limit 255, the fixed fields with the
 * reserved ones zero, the Ethernet link-layer option, the checksum (RFC 4443 2.3).
 */
#include "nd_msg.h"

#include <errno.h>
#include <string.h>

static int refuse(struct nd_msg *m, enum icmp6_fail f)
{
	m->fail = f;
	return -EBADMSG;
}

static size_t min_len(uint8_t type)
{
	switch (type) {
	case ICMP6_ND_RS:
		return ND_RS_LEN;
	case ICMP6_ND_RA:
		return ND_RA_LEN;
	case ICMP6_ND_NS:
		return ND_NS_LEN;
	case ICMP6_ND_NA:
		return ND_NA_LEN;
	default:
		return ND_REDIRECT_LEN;
	}
}

/* The fixed fields after the 4-byte ICMPv6 header (msg holds min_len bytes). */
static int fixed_fields(const struct ip6_repr *ip, const uint8_t *h, struct nd_msg *m)
{
	switch (m->type) {
	case ICMP6_ND_RA:
		m->cur_hop_limit = h[4];
		m->ra_flags = h[5];
		m->router_lifetime = ld16(h + 6);
		m->reachable_time = ld32(h + 8);
		m->retrans_timer = ld32(h + 12);
		return 0;
	case ICMP6_ND_NS:
		memcpy(m->target, h + 8, 16);
		if (ip6_is_multicast(m->target))
			return refuse(m, ICMP6_FAIL_ND_TARGET_MULTICAST);
		return 0;
	case ICMP6_ND_NA:
		m->na_flags = h[4] & (ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE);
		memcpy(m->target, h + 8, 16);
		if (ip6_is_multicast(m->target))
			return refuse(m, ICMP6_FAIL_ND_TARGET_MULTICAST);
		if (ip6_is_multicast(ip->dst.v6) && (m->na_flags & ND_NA_SOLICITED))
			return refuse(m, ICMP6_FAIL_ND_NA_SOLICITED_MCAST);
		return 0;
	case ICMP6_ND_REDIRECT:
		memcpy(m->target, h + 8, 16);
		memcpy(m->dest, h + 24, 16);
		if (ip6_is_multicast(m->dest))
			return refuse(m, ICMP6_FAIL_ND_REDIR_DST_MULTICAST);
		if (!ip6_is_link_local(m->target) && memcmp(m->target, m->dest, 16) != 0)
			return refuse(m, ICMP6_FAIL_ND_REDIR_TARGET);
		return 0;
	default: /* RS: 4 reserved bytes */
		return 0;
	}
}

/* Keep a link-layer address option o (olen bytes) in mac, the first one only. */
static int take_llao(struct nd_msg *m, const uint8_t *o, size_t olen, bool *has, uint8_t *mac)
{
	if (olen != ND_LLAO_LEN)
		return refuse(m, ICMP6_FAIL_ND_BAD_LLAO);
	if (*has) {
		m->n_ignored++;
		return 0;
	}
	*has = true;
	memcpy(mac, o + 2, 6);
	return 0;
}

/* One option the message type may use, or not. */
static int take_option(struct nd_msg *m, const uint8_t *o, size_t olen)
{
	uint8_t t = m->type;

	switch (o[0]) {
	case ND_OPT_SLLA:
		if (t == ICMP6_ND_RS || t == ICMP6_ND_RA || t == ICMP6_ND_NS)
			return take_llao(m, o, olen, &m->has_sllao, m->sllao);
		break;
	case ND_OPT_TLLA:
		if (t == ICMP6_ND_NA || t == ICMP6_ND_REDIRECT)
			return take_llao(m, o, olen, &m->has_tllao, m->tllao);
		break;
	case ND_OPT_PREFIX:
		if (t == ICMP6_ND_RA) {
			m->n_prefix++;
			return 0;
		}
		break;
	case ND_OPT_MTU:
		if (t == ICMP6_ND_RA && olen == ND_MTU_OPT_LEN && !m->has_mtu) {
			m->has_mtu = true;
			m->mtu = ld32(o + 4);
			return 0;
		}
		break;
	case ND_OPT_REDIR_HDR:
		if (t == ICMP6_ND_REDIRECT && !m->redir.p) {
			m->redir = view_make(o + ND_REDIR_HDR_OFF, olen - ND_REDIR_HDR_OFF);
			return 0;
		}
		break;
	default:
		break;
	}
	m->n_ignored++;
	return 0;
}

/* The options after the fixed fields (4.6). */
static int walk_options(struct nd_msg *m, struct view v)
{
	int rc;

	m->opts = v;
	while (v.len) {
		const uint8_t *o;
		size_t olen;

		if (v.len < 2)
			return refuse(m, ICMP6_FAIL_ND_OPT_OVERRUN);
		if (v.p[1] == 0)
			return refuse(m, ICMP6_FAIL_ND_OPT_ZERO_LEN);
		olen = (size_t)v.p[1] * ND_OPT_UNIT;
		o = view_pull(&v, olen);
		if (!o)
			return refuse(m, ICMP6_FAIL_ND_OPT_OVERRUN);
		m->n_opts++;
		if ((rc = take_option(m, o, olen)))
			return rc;
	}
	return 0;
}

int nd_parse(const struct ip6_repr *ip, struct view msg, unsigned flags, struct nd_msg *m)
{
	const uint8_t *h = msg.p;
	size_t min;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg.len < ICMP6_HDR_LEN)
		return refuse(m, ICMP6_FAIL_SHORT);
	m->type = h[0];
	if (h[0] < ICMP6_ND_RS || h[0] > ICMP6_ND_REDIRECT)
		return refuse(m, ICMP6_FAIL_ND_NOT_ND);
	if (ip6_is_multicast(ip->src.v6))
		return refuse(m, ICMP6_FAIL_ND_SRC_MULTICAST);
	if ((m->type == ICMP6_ND_RA || m->type == ICMP6_ND_REDIRECT) && !ip6_is_link_local(ip->src.v6))
		return refuse(m, ICMP6_FAIL_ND_SRC_NOT_LL);
	if (ip->hop_limit != ND_HOP_LIMIT)
		return refuse(m, ICMP6_FAIL_ND_HOP_LIMIT);
	if (!(flags & ND_PARSE_CSUM_DONE) && !icmp6_csum_ok(ip->src.v6, ip->dst.v6, msg.p, msg.len))
		return refuse(m, ICMP6_FAIL_BAD_CSUM);
	if (h[1] != 0)
		return refuse(m, ICMP6_FAIL_ND_BAD_CODE);
	min = min_len(m->type);
	if (msg.len < min)
		return refuse(m, ICMP6_FAIL_ND_SHORT);
	if ((rc = fixed_fields(ip, h, m)))
		return rc;
	view_pull(&msg, min);
	if ((rc = walk_options(m, msg)))
		return rc;
	if (ip6_is_unspecified(ip->src.v6)) {
		if (m->type == ICMP6_ND_NS && !ip6_is_solicited_node(ip->dst.v6))
			return refuse(m, ICMP6_FAIL_ND_UNSPEC_SRC_DST);
		if (m->has_sllao) /* only RS and NS keep one from :: (RA's source is link-local) */
			return refuse(m, ICMP6_FAIL_ND_UNSPEC_SRC_SLLAO);
	}
	return 0;
}

bool nd_prefix_next(struct view *it, struct nd_prefix *p)
{
	while (it->len >= 2 && it->p[1] != 0) {
		size_t olen = (size_t)it->p[1] * ND_OPT_UNIT;
		const uint8_t *o = view_pull(it, olen);
		if (!o)
			break;
		if (o[0] != ND_OPT_PREFIX)
			continue;
		memset(p, 0, sizeof(*p));
		if (olen < ND_PREFIX_OPT_LEN) {
			p->bad = ND_PREFIX_SHORT;
			return true;
		}
		p->plen = o[2];
		p->flags = o[3];
		p->valid_lft = ld32(o + 4);
		p->preferred_lft = ld32(o + 8);
		memcpy(p->prefix, o + 16, 16);
		if (p->plen > 128)
			p->bad = ND_PREFIX_BAD_PLEN;
		else if (ip6_is_link_local(p->prefix))
			p->bad = ND_PREFIX_LINK_LOCAL;
		else if (ip6_is_multicast(p->prefix))
			p->bad = ND_PREFIX_MULTICAST;
		else if (p->preferred_lft > p->valid_lft)
			p->bad = ND_PREFIX_LIFETIMES;
		p->onlink = p->bad == ND_PREFIX_OK && (p->flags & ND_PREFIX_ONLINK);
		p->slaac = p->bad == ND_PREFIX_OK && (p->flags & ND_PREFIX_AUTO) && p->plen + ND_IID_BITS == 128;
		return true;
	}
	it->len = 0;
	return false;
}

/* ---- builders ---- */

/* The fixed header and room for an mlen-byte message; returns the message. */
static uint8_t *nd_begin(uint8_t *pkt, size_t cap, const uint8_t *src, const uint8_t *dst, size_t mlen)
{
	struct ip6_repr r;

	if (cap < IP6_HDR_LEN + mlen)
		return NULL;
	memset(&r, 0, sizeof(r));
	r.payload_len = (uint16_t)mlen;
	r.next_hdr = IP6_NH_ICMP6;
	r.hop_limit = ND_HOP_LIMIT;
	r.src = ip6_addr_make(src);
	r.dst = ip6_addr_make(dst);
	ip6_emit(pkt, &r);
	memset(pkt + IP6_HDR_LEN, 0, mlen);
	return pkt + IP6_HDR_LEN;
}

static void put_llao(uint8_t *o, uint8_t type, const uint8_t *mac)
{
	o[0] = type;
	o[1] = ND_LLAO_LEN / ND_OPT_UNIT;
	memcpy(o + 2, mac, 6);
}

static int nd_finish(uint8_t *pkt, size_t mlen)
{
	icmp6_csum_fill(pkt + 8, pkt + 24, pkt + IP6_HDR_LEN, mlen);
	return (int)(IP6_HDR_LEN + mlen);
}

int nd_build_ns(uint8_t *pkt, size_t cap, enum nd_ns_kind kind, const uint8_t *src, const uint8_t *target,
		const uint8_t *sll_mac)
{
	static const uint8_t unspec[16] = { 0 };
	uint8_t dst[16];
	size_t mlen = ND_NS_LEN + (sll_mac ? ND_LLAO_LEN : 0);
	uint8_t *m;

	if (ip6_is_multicast(target))
		return -EINVAL;
	if (kind == ND_NS_DAD) {
		if (sll_mac) /* RFC 4861 7.1.1, RFC 4862 5.4.2 */
			return -EINVAL;
		src = unspec;
	} else if (!src || ip6_is_unspecified(src) || ip6_is_multicast(src)) {
		return -EINVAL;
	}
	if (kind == ND_NS_UNICAST)
		memcpy(dst, target, 16);
	else
		ip6_solicited_node(target, dst);
	m = nd_begin(pkt, cap, src, dst, mlen);
	if (!m)
		return -ENOSPC;
	m[0] = ICMP6_ND_NS;
	memcpy(m + 8, target, 16);
	if (sll_mac)
		put_llao(m + ND_NS_LEN, ND_OPT_SLLA, sll_mac);
	return nd_finish(pkt, mlen);
}

int nd_build_na(uint8_t *pkt, size_t cap, const uint8_t *src, const uint8_t *dst, const uint8_t *target,
		uint8_t flags, const uint8_t *tll_mac)
{
	size_t mlen = ND_NA_LEN + (tll_mac ? ND_LLAO_LEN : 0);
	uint8_t *m;

	if (ip6_is_multicast(src) || ip6_is_multicast(target) || (ip6_is_multicast(dst) && (flags & ND_NA_SOLICITED)))
		return -EINVAL;
	m = nd_begin(pkt, cap, src, dst, mlen);
	if (!m)
		return -ENOSPC;
	m[0] = ICMP6_ND_NA;
	m[4] = flags & (ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE);
	memcpy(m + 8, target, 16);
	if (tll_mac)
		put_llao(m + ND_NA_LEN, ND_OPT_TLLA, tll_mac);
	return nd_finish(pkt, mlen);
}

int nd_build_rs(uint8_t *pkt, size_t cap, const uint8_t *src, const uint8_t *sll_mac)
{
	static const uint8_t unspec[16] = { 0 };
	static const uint8_t all_routers[16] = IP6_ADDR_ALL_ROUTERS;
	size_t mlen = ND_RS_LEN + (sll_mac ? ND_LLAO_LEN : 0);
	uint8_t *m;

	if (!src)
		src = unspec;
	if (ip6_is_multicast(src) || (sll_mac && ip6_is_unspecified(src)))
		return -EINVAL;
	m = nd_begin(pkt, cap, src, all_routers, mlen);
	if (!m)
		return -ENOSPC;
	m[0] = ICMP6_ND_RS;
	if (sll_mac)
		put_llao(m + ND_RS_LEN, ND_OPT_SLLA, sll_mac);
	return nd_finish(pkt, mlen);
}
