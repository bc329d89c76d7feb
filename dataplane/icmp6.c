/* icmp6.c — ICMPv6 in the stack (RFC 4443), around icmp6_msg.c's messages.
 *
 * Input: checksum over the pseudo-header (2.3; skipped when the driver or the
 *   loopback vouched) → errors (type < 128): find the transport header in the
 *   quote (ip6_ext_walk), Packet Too Big lowers the path MTU (RFC 8201 4) and
 *   tells TCP, then the errno (Linux's icmpv6_err_convert) goes to the UDP/TCP
 *   socket that sent the quoted packet, and to raw / ping6 sockets (raw6.c)
 *   → echo request: a reply from the address it was sent to (from a unicast
 *   address of ours for a multicast request, as Linux) → echo reply: the ping6
 *   socket of its id (raw6.c) → ND types: nd.c → MLD (130-132, 143): mld.c
 *   (hosts' side of RFC 3810) → other informational types: dropped silently
 *   (2.4 (b)). Raw ICMPv6 sockets got their copies in ip6_input, before all this.
 * Errors out: the never-send rules of 2.4 (e), then the token bucket (2.4 (f)),
 *   a quote of as much as fits the minimum MTU (2.4 (c)), from the address the
 *   invoking packet was sent to when it is ours, else the best source for its
 *   sender.
 */
#include "ip6.h"

#include <errno.h>
#include <string.h>

#include "icmp6_msg.h"
#include "mld.h"
#include "nd.h"
#include "raw.h"
#include "route6.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"

static void deliver_error(struct skiff_stack *st, struct skiff_iface *ifc, const struct icmp6_error *e,
			  const struct ip6_repr *ip, uint64_t now)
{
	struct ip6_ext_info x;
	const uint8_t *l4;
	size_t l4_len;
	bool fatal = false;
	int err;

	/* the walk needs the quoted header's payload length to match what came:
	 * cut a copy of the view to what is there */
	if (ip6_ext_walk(e->quote, NULL, &x) || x.frag) {
		if (!(x.frag && x.first_frag)) {
			skiff_count_drop(st, SKIFF_DROP_ICMP6_ERR_NO_OWNER);
			return;
		}
	}
	if (x.l4_off >= e->quote.len) {
		skiff_count_drop(st, SKIFF_DROP_ICMP6_ERR_NO_OWNER);
		return;
	}
	l4 = e->quote.p + x.l4_off;
	l4_len = e->quote.len - x.l4_off;
	err = icmp6_error_errno(e->type, e->code, &fatal);
	if (e->type == ICMP6_PKT_TOO_BIG) {
		skiff_pmtu6_update(st, e->inner.dst.v6, e->param, now);
		fatal = false;
	}
	/* raw and ping6 sockets (raw6.c; Linux raw6_icmp_error before the protocol's handler) */
	if (raw6_err(st, ifc->index, ip->src.v6, e->type, e->code, e->param, e->quote.p, e->quote.len, x.l4_off,
		     x.proto, err, fatal, now) &&
	    x.proto != IP6_NH_UDP && x.proto != IP6_NH_TCP)
		return;
	if (x.proto == IP6_NH_UDP)
		udp6_err(st, ifc->index, &e->inner, l4, l4_len, err, fatal);
	else if (x.proto == IP6_NH_TCP)
		tcp6_err(st, ifc->index, &e->inner, l4, l4_len, err, fatal,
			 e->type == ICMP6_PKT_TOO_BIG ? skiff_pmtu6_get(st, e->inner.dst.v6, ifc->mtu, now) : 0);
	else
		skiff_count_drop(st, SKIFF_DROP_ICMP6_ERR_NO_OWNER);
}

static uint32_t chain_csum(const struct skiff_pkt *p, uint32_t sum);

/* RFC 4443 4.2: the reply carries the request's identifier, sequence and data,
 * from the address the request went to (a unicast of ours for a multicast
 * request, as Linux). Copied into fresh frames cut to the path MTU: a
 * reassembled request is a chain, and its reply is fragmented on the way back
 * (RFC 8200 4.5) when it does not fit. */
static void echo_reply(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p,
		       const struct ip6_repr *ip, uint64_t now)
{
	struct skiff_route_res6 rt;
	struct skiff_ip6_tx tx;
	struct skiff_pkt *r;
	uint32_t len = skiff_pkt_chain_len(p), piece;
	uint8_t *h;

	if (skiff_route6_lookup(st, ip->src.v6, ip6_is_link_local(ip->src.v6) ? ifc->index : -1, &rt)) {
		skiff_drop(st, SKIFF_DROP_IP6_NO_ROUTE, p);
		return;
	}
	piece = len <= rt.mtu - IP6_HDR_LEN ? len : skiff_ip6_frag_payload(rt.mtu);
	r = skiff_pkt_recut(st->ifaces[rt.ifindex].pool, p, piece);
	skiff_pkt_free(p);
	if (!r) {
		skiff_count_drop(st, SKIFF_DROP_IP6_NO_BUF);
		return;
	}
	memset(&tx, 0, sizeof(tx));
	memcpy(tx.src, ip6_is_multicast(ip->dst.v6) ? rt.src : ip->dst.v6, 16);
	memcpy(tx.dst, ip->src.v6, 16);
	tx.proto = IP6_NH_ICMP6;
	tx.hop_limit = ifc->hop_limit6 ? ifc->hop_limit6 : st->cfg.default_hop_limit;
	tx.tclass = ip->tclass; /* Linux reflects the traffic class */
	h = skiff_pkt_data(r);
	h[0] = ICMP6_ECHO_REPLY;
	h[1] = 0;
	st16(h + 2, 0);
	st16(h + 2, csum_fold(chain_csum(r, csum_pseudo6(tx.src, tx.dst, IP6_NH_ICMP6, len))));
	st->ctr.icmp6_echo_replies++;
	st->ctr.icmp6_out++;
	skiff_ip6_output(st, &rt, &tx, r, now);
}

static uint32_t chain_csum(const struct skiff_pkt *p, uint32_t sum)
{
	size_t off = 0;
	for (; p; p = p->chain) {
		sum = csum_partial_at(skiff_pkt_data(p), p->len, sum, off);
		off += p->len;
	}
	return sum;
}

void skiff_icmp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p,
		       const struct ip6_repr *ip, uint64_t now)
{
	uint32_t len = skiff_pkt_chain_len(p);
	const uint8_t *h = skiff_pkt_data(p);
	uint8_t type;

	st->ctr.icmp6_in++;
	if (p->len < ICMP6_HDR_LEN) {
		skiff_drop(st, SKIFF_DROP_ICMP6_SHORT, p);
		return;
	}
	if (!(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD) &&
	    csum_fold(chain_csum(p, csum_pseudo6(ip->src.v6, ip->dst.v6, IP6_NH_ICMP6, len))) != 0) {
		skiff_drop(st, SKIFF_DROP_ICMP6_BAD_CSUM, p);
		return;
	}
	type = h[0];
	if (icmp6_is_error(type)) {
		struct icmp6_error e;
		st->ctr.icmp6_errors_in++;
		if (icmp6_error_parse(view_make(h, p->len), &e)) {
			skiff_drop(st, skiff_drop_icmp6(e.fail), p);
			return;
		}
		deliver_error(st, ifc, &e, ip, now);
		skiff_pkt_free(p);
		return;
	}
	switch (type) {
	case ICMP6_ECHO_REQUEST:
		echo_reply(st, ifc, p, ip, now);
		return;
	case ICMP6_ND_RS:
	case ICMP6_ND_RA:
	case ICMP6_ND_NS:
	case ICMP6_ND_NA:
	case ICMP6_ND_REDIRECT:
		if (p->chain) { /* ND is never fragmented (RFC 6980 5) */
			skiff_drop(st, SKIFF_DROP_ICMP6_INFO_UNKNOWN, p);
			return;
		}
		skiff_nd_input(st, ifc, p, ip, now);
		return;
	case ICMP6_ECHO_REPLY: /* to the ping6 socket of its identifier (raw6.c) */
		ping6_input(st, ifc, p, ip, now);
		return;
	case 130: /* MLD query, v1 report, v1 done, v2 report (RFC 2710 3, RFC 3810 5): mld.c */
	case 131:
	case 132:
	case 143:
		skiff_mld_input(st, ifc, p, ip, now);
		return;
	default: /* the rest */
		skiff_drop(st, SKIFF_DROP_ICMP6_INFO_UNKNOWN, p);
		return;
	}
}

void skiff_icmp6_send_error(struct skiff_stack *st, const struct skiff_pkt *p, uint8_t type, uint8_t code,
			    uint32_t param, uint64_t now)
{
	const uint8_t *oh = p->head + p->l3_off;
	uint32_t olen = p->off + p->len - p->l3_off; /* this frame, from its fixed header */
	struct icmp6_err_about ab;
	struct skiff_route_res6 rt;
	struct ip6_repr ip, rip;
	struct view v = view_make(oh, olen);
	struct skiff_pkt *r;
	int n, ifx;

	if (ip6_parse(&v, &ip)) {
		v = view_make(oh, olen);
		if (olen < IP6_HDR_LEN)
			return;
		/* a header whose payload length overruns still parses its addresses */
		ip.src = ip6_addr_make(oh + 8);
		ip.dst = ip6_addr_make(oh + 24);
	}
	memset(&ab, 0, sizeof(ab));
	ab.dst_multicast = ip6_is_multicast(ip.dst.v6);
	ab.ll_multicast = (p->flags & SKIFF_PKT_MCAST) != 0;
	ab.ll_broadcast = (p->flags & SKIFF_PKT_BCAST) != 0;
	ab.src_unspecified = ip6_is_unspecified(ip.src.v6);
	ab.src_multicast = ip6_is_multicast(ip.src.v6);
	ab.opt_action_10 = type == ICMP6_PARAM_PROBLEM && code == ICMP6_PP_OPTION && ab.dst_multicast;
	if (oh[6] == IP6_NH_ICMP6 && olen > IP6_HDR_LEN) {
		uint8_t t = oh[IP6_HDR_LEN];
		ab.is_icmp6_error = icmp6_is_error(t);
		ab.is_redirect = t == ICMP6_ND_REDIRECT;
	}
	if (!icmp6_error_allowed(type, code, &ab))
		return;
	if (!skiff_tokens_take(&st->icmp6_tb, now)) {
		skiff_count_drop(st, SKIFF_DROP_ICMP6_NOERR_RATE);
		return;
	}
	ifx = ip6_is_link_local(ip.src.v6) ? p->ifindex : -1;
	if (skiff_route6_lookup(st, ip.src.v6, ifx, &rt))
		return;
	memset(&rip, 0, sizeof(rip));
	rip.hop_limit = st->cfg.default_hop_limit;
	rip.dst = ip.src;
	rip.src = skiff_stack_local6(st, ip.dst.v6, p->ifindex, true) >= 0 ? ip.dst : ip6_addr_make(rt.src);
	r = skiff_iface_alloc(&st->ifaces[rt.ifindex]);
	if (!r) {
		skiff_count_drop(st, SKIFF_DROP_IP6_NO_BUF);
		return;
	}
	n = icmp6_error_build(skiff_pkt_data(r), skiff_pkt_tailroom(r) < rt.mtu ? skiff_pkt_tailroom(r) : rt.mtu, &rip,
			      type, code, param, oh, olen);
	if (n < 0) {
		skiff_pkt_free(r);
		return;
	}
	skiff_pkt_put(r, (uint32_t)n);
	st->ctr.icmp6_out++;
	skiff_ip6_output_packet(st, &rt, r, now);
}
