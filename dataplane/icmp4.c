/* icmp4.c — ICMPv4.
 *
 * Input: length and checksum (RFC 792) → echo request: reply in place, reusing the
 * request's frames (RFC 1122 3.2.2.6; requests to broadcast/multicast ignored as
 * Linux's icmp_echo_ignore_broadcasts does) → errors (unreachable, time
 * exceeded, parameter problem): check the quote, map the code to an errno as
 * Linux's icmp_err_convert does, and hand it to the transport that sent the
 * quoted datagram → anything else: silently discarded (RFC 1122 3.2.2).
 * Errors out: RFC 1122 3.2.2 / RFC 1812 4.3.2.7 suppression, a token bucket
 * (RFC 1812 4.3.2.8), quote as much as fits in 576 bytes (RFC 1812 4.3.2.3).
 */
#include "icmp4.h"

#include <errno.h>
#include <string.h>

#include "ip4.h"
#include "raw.h"
#include "route.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"

#define ICMP4_ERR_MAX 576

struct err_map {
	int err;
	bool fatal;
};

/* RFC 1122 3.2.2.1 code meanings; errno choices as Linux (net/ipv4/icmp.c). */
static const struct err_map unreach_map[16] = {
	{ ENETUNREACH, true },  { EHOSTUNREACH, true }, { ENOPROTOOPT, true },  { ECONNREFUSED, true },
	{ EMSGSIZE, false },    { EOPNOTSUPP, false },  { ENETUNREACH, true },  { EHOSTDOWN, true },
	{ ENONET, true },       { ENETUNREACH, true },  { EHOSTUNREACH, true }, { ENETUNREACH, false },
	{ EHOSTUNREACH, false },{ EHOSTUNREACH, true }, { EHOSTUNREACH, true }, { EHOSTUNREACH, true },
};

/* Deliver an error whose quote starts at q (IP header of a datagram we sent). */
static void deliver_error(struct skiff_stack *st, int ifindex, uint8_t type, uint8_t code, uint32_t rest,
			  const uint8_t *q, size_t qlen, uint32_t from, uint64_t now)
{
	bool raw_took;

	struct ip4_repr qip;
	int err;
	bool fatal;

	if (ip4_parse(q, qlen, &qip) || qip.version != 4 || qip.ihl < IP4_HDR_LEN || qlen < (size_t)qip.ihl + 8) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	switch (type) {
	case ICMP4_DEST_UNREACH:
		if (code > 15) {
			skiff_count_drop(st, SKIFF_DROP_ICMP_UNHANDLED);
			return;
		}
		err = unreach_map[code].err;
		fatal = unreach_map[code].fatal;
		break;
	case ICMP4_TIME_EXCEEDED:
		err = EHOSTUNREACH;
		fatal = false;
		break;
	case ICMP4_PARAM_PROBLEM:
		err = EPROTO;
		fatal = true;
		break;
	default:
		skiff_count_drop(st, SKIFF_DROP_ICMP_UNHANDLED);
		return;
	}
	/* raw and ping sockets (raw.c: Linux raw_icmp_error, ping_err) */
	raw_took = raw4_err(st, ifindex, from, type, code, rest, q, qlen, err, fatal, now);
	if (qip.proto == IPPROTO_UDP_)
		udp4_err(st, ifindex, &qip, q + qip.ihl, qlen - qip.ihl, err, fatal);
	else if (qip.proto == IPPROTO_TCP_)
		tcp4_err(st, ifindex, &qip, q + qip.ihl, qlen - qip.ihl, err, fatal,
			 /* RFC 1191 4: the next-hop MTU of "fragmentation needed" */
			 type == ICMP4_DEST_UNREACH && code == 4 ? (uint16_t)(rest & 0xffff) : 0);
	else if (!raw_took)
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_NO_SOCKET);
}

static uint32_t chain_csum(const struct skiff_pkt *p)
{
	uint32_t sum = 0;
	size_t off = 0;
	for (; p; p = p->chain) {
		sum = csum_partial_at(skiff_pkt_data(p), p->len, sum, off);
		off += p->len;
	}
	return sum;
}

static void echo_reply(struct skiff_stack *st, struct skiff_pkt *p, const struct ip4_repr *ip, uint64_t now)
{
	uint8_t *h = skiff_pkt_data(p);
	struct skiff_route_res4 rt;
	struct skiff_ip4_tx tx;
	uint16_t ck = ld16(h + 2);

	if (skiff_route_lookup4(st, ip->src, -1, &rt)) {
		skiff_drop(st, SKIFF_DROP_IP4_NO_ROUTE, p);
		return;
	}
	h[0] = ICMP4_ECHO_REPLY;
	st16(h + 2, csum_update16(ck, ICMP4_ECHO_REQUEST << 8, ICMP4_ECHO_REPLY << 8));
	tx.src = ip->dst;
	tx.dst = ip->src;
	tx.proto = IPPROTO_ICMP_;
	tx.ttl = st->cfg.default_ttl;
	tx.tos = ip->tos;
	tx.df = false;
	p->flags = 0;
	st->ctr.icmp_echo_replies++;
	st->ctr.icmp_out++;
	skiff_ip4_output(st, &rt, &tx, p, now);
}

void skiff_icmp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		       uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	struct icmp4_repr ic;

	(void)ifc;
	st->ctr.icmp_in++;
	if (icmp4_parse(&v, &ic)) {
		skiff_drop(st, SKIFF_DROP_ICMP_SHORT, p);
		return;
	}
	if (csum_fold(chain_csum(p)) != 0) {
		skiff_drop(st, SKIFF_DROP_ICMP_BAD_CSUM, p);
		return;
	}
	switch (ic.type) {
	case ICMP4_ECHO_REPLY: /* for a ping socket (raw.c, Linux ping_rcv) */
		ping4_input(st, ifc, p, ip, now);
		return;
	case ICMP4_ECHO_REQUEST:
		if (p->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST)) {
			skiff_drop(st, SKIFF_DROP_ICMP_BCAST_ECHO, p);
			return;
		}
		echo_reply(st, p, ip, now);
		return;
	case ICMP4_DEST_UNREACH:
	case ICMP4_TIME_EXCEEDED:
	case ICMP4_PARAM_PROBLEM:
		deliver_error(st, ifc->index, ic.type, ic.code, ic.rest, skiff_pkt_data(p) + ICMP4_HDR_LEN, p->len - ICMP4_HDR_LEN,
			      ip->src, now);
		skiff_pkt_free(p);
		return;
	default:
		skiff_drop(st, SKIFF_DROP_ICMP_UNHANDLED, p);
		return;
	}
}

/* RFC 1122 3.2.2: never answer errors, broadcasts, non-first fragments or bogus sources. */
static bool may_send_error(struct skiff_stack *st, const struct skiff_pkt *orig, const struct ip4_repr *oip)
{
	if (orig->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST))
		return false;
	if (ip4_is_multicast(oip->dst) || skiff_stack_is_bcast4(st, oip->dst))
		return false;
	if (oip->frag & IP4_OFF_MASK)
		return false;
	if (oip->src == 0 || ip4_is_multicast(oip->src) || skiff_stack_is_bcast4(st, oip->src) ||
	    (ip4_is_loopback(oip->src) && !(orig->flags & SKIFF_PKT_LOCAL)) || ip4_is_class_e(oip->src))
		return false; /* 127/8: only about what the in-stack loopback carried (loopback.c) */
	if (oip->proto == IPPROTO_ICMP_) {
		size_t avail = (size_t)(orig->off + orig->len) - orig->l3_off;
		const uint8_t *ic = orig->head + orig->l3_off + oip->ihl;
		if (avail < (size_t)oip->ihl + 1 || icmp4_is_error(ic[0]))
			return false;
	}
	return true;
}

void skiff_icmp4_send_error(struct skiff_stack *st, const struct skiff_pkt *orig, uint8_t type, uint8_t code,
			    uint32_t rest, uint64_t now)
{
	const uint8_t *oh = orig->head + orig->l3_off;
	size_t avail = (size_t)(orig->off + orig->len) - orig->l3_off, qlen;
	struct skiff_route_res4 rt;
	struct skiff_iface *ifc;
	struct skiff_pkt *p;
	struct icmp4_repr ic;
	struct skiff_ip4_tx tx;
	struct ip4_repr oip;
	uint8_t *h;

	if (orig->l3_off > orig->off + orig->len || avail < IP4_HDR_LEN || ip4_parse(oh, avail, &oip))
		return;
	if (oip.ihl < IP4_HDR_LEN || oip.ihl > avail || !may_send_error(st, orig, &oip))
		return;
	qlen = oip.total_len < avail ? oip.total_len : avail;
	if (qlen > ICMP4_ERR_MAX - IP4_HDR_LEN - ICMP4_HDR_LEN)
		qlen = ICMP4_ERR_MAX - IP4_HDR_LEN - ICMP4_HDR_LEN;
	/* A datagram we originated (e.g. held for ARP): report to the socket directly. */
	if (skiff_stack_local4(st, oip.src) >= 0) {
		deliver_error(st, orig->ifindex, type, code, rest, oh, qlen, oip.src, now);
		return;
	}
	if (!skiff_tokens_take(&st->icmp_tb, now)) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_OUT_LIMITED);
		return;
	}
	if (skiff_route_lookup4(st, oip.src, -1, &rt))
		return;
	ifc = skiff_stack_iface(st, rt.ifindex);
	p = skiff_iface_alloc(ifc);
	if (!p) {
		skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
		return;
	}
	h = skiff_pkt_put(p, (uint32_t)(ICMP4_HDR_LEN + qlen));
	if (!h) {
		skiff_pkt_free(p);
		return;
	}
	ic.type = type;
	ic.code = code;
	ic.csum = 0;
	ic.rest = rest;
	icmp4_emit(h, &ic);
	memcpy(h + ICMP4_HDR_LEN, oh, qlen);
	st16(h + 2, csum_buf(h, ICMP4_HDR_LEN + qlen));
	/* Source: the address the offending datagram was sent to, when it is ours. */
	tx.src = skiff_stack_local4(st, oip.dst) >= 0 ? oip.dst : rt.src;
	tx.dst = oip.src;
	tx.proto = IPPROTO_ICMP_;
	tx.ttl = st->cfg.default_ttl;
	tx.tos = 0xc0; /* RFC 1812 4.3.2.5: internetwork control precedence */
	tx.df = false;
	st->ctr.icmp_out++;
	skiff_ip4_output(st, &rt, &tx, p, now);
}
