/* ip6_input.c — IPv6 receive path (RFC 8200), checks in this order:
 *   fixed header (≥ 40 bytes, version 6, payload length within the frame; link
 *   padding trimmed) → source sane (not multicast, RFC 4291 2.7; not v4-mapped,
 *   RFC 4291 2.5.5.2, as Linux's ip6_rcv_core: a dual-stack socket would take it
 *   for an IPv4 peer; ::1 only on frames the stack looped itself) → destination not martian (::, ::1
 *   from a device, v4-mapped on the wire: RFC 4291 2.5.5.2, RFC 6890) →
 *   destination ours: a usable address (weak host, as Linux), a tentative one
 *   (only ND may use it: RFC 4862 5.4), all-nodes, a solicited-node group of an
 *   address of ours, or a group a socket joined → extension headers walked with
 *   bounds (ip6_exthdr.c; Parameter Problem where RFC 8200 asks, subject to RFC
 *   4443 2.4 (e)) → fragments reassembled (ip_reasm.c) → demux by upper layer:
 *   raw sockets' copies first (raw6.c), then UDP, TCP, ICMPv6; 59 (no next
 *   header) is dropped silently; anything no raw socket holds answers Parameter
 *   Problem code 1 (RFC 8200 4) pointing at the Next Header
 *   field that named it.
 * No forwarding (RFC 8200 4: a host). Every failed check is a named drop.
 */
#include "ip6.h"

#include "nd.h"
#include "raw.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "wire_icmp6.h"

/* Is the destination ours on ifc? *tentative: only ND may use it. */
static bool dst_ours(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t *dst, struct skiff_pkt *p,
		     bool *tentative)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;

	*tentative = false;
	if (ip6_is_multicast(dst)) {
		p->flags |= SKIFF_PKT_MCAST;
		if (!memcmp(dst, all_nodes, 16))
			return true;
		if (ip6_is_solicited_node(dst)) {
			for (unsigned k = 0; k < ifc->n_v6; k++)
				if (!memcmp(ifc->v6[k].addr + 13, dst + 13, 3) && ifc->v6[k].state != SKIFF_ADDR6_DUPLICATE)
					return true;
			return false;
		}
		return skiff_nd_group_joined(st, ifc, dst);
	}
	if (skiff_stack_local6(st, dst, ifc->index, true) >= 0)
		return true;
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (!memcmp(ifc->v6[k].addr, dst, 16) && ifc->v6[k].state == SKIFF_ADDR6_TENTATIVE) {
			*tentative = true;
			return true;
		}
	return false;
}

void skiff_ip6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	struct ip6_ext_info x;
	struct ip6_repr ip;
	uint8_t proto;
	bool local, tentative = false;
	int rc;

	st->ctr.ip6_in++;
	rc = ip6_parse(&v, &ip);
	if (rc) {
		skiff_drop(st, ip6_parse_drop(rc), p);
		return;
	}
	skiff_pkt_trim(p, IP6_HDR_LEN + ip.payload_len); /* Ethernet minimum-size padding */
	local = (p->flags & SKIFF_PKT_LOCAL) != 0;
	/* v4-mapped source: dropped as Linux ip6_rcv_core (a dual-stack socket would
	 * take it for an IPv4 peer, e.g. ::ffff:127.0.0.1; RFC 4291 2.5.5.2) */
	if (ip6_is_multicast(ip.src.v6) || (!local && ip6_is_loopback(ip.src.v6)) || ip6_is_v4mapped(ip.src.v6)) {
		skiff_drop(st, SKIFF_DROP_IP6_BAD_SRC, p);
		return;
	}
	if (ip6_is_unspecified(ip.dst.v6) || (!local && ip6_is_loopback(ip.dst.v6)) || ip6_is_v4mapped(ip.dst.v6)) {
		skiff_drop(st, SKIFF_DROP_IP6_MARTIAN_DST, p);
		return;
	}
	if (!(local && ip6_is_loopback(ip.dst.v6)) && !dst_ours(st, ifc, ip.dst.v6, p, &tentative)) {
		skiff_drop(st, SKIFF_DROP_IP6_NOT_FOR_US, p);
		return;
	}
	p->l3_off = (uint16_t)p->off;
	if (ip6_ext_walk(view_make(skiff_pkt_data(p), p->len), NULL, &x)) {
		if (x.icmp && !tentative)
			skiff_icmp6_send_error(st, p, ICMP6_PARAM_PROBLEM, x.icmp_code, x.icmp_ptr, now);
		skiff_drop(st, x.drop, p);
		return;
	}
	if (tentative && x.proto != IP6_NH_ICMP6) { /* RFC 4862 5.4: only ND until DAD ends */
		skiff_drop(st, SKIFF_DROP_IP6_NOT_FOR_US, p);
		return;
	}
	proto = x.proto;
	if (x.frag) {
		p = skiff_ip6_reasm(st, p, &x, &proto, now);
		if (!p)
			return;
		st->ctr.ip6_reasm_ok++;
		/* the head's fixed header now describes the whole datagram */
		ip.payload_len = ld16(p->head + p->l3_off + 4);
	} else {
		skiff_pkt_pull(p, x.l4_off);
	}
	p->l4_off = (uint16_t)p->off;
	{ /* raw sockets: a copy before the demux (raw6.c; Linux raw6_local_deliver); a
	   * protocol with no handler but a raw socket gets no Parameter Problem */
		bool known = proto == IP6_NH_UDP || proto == IP6_NH_TCP || proto == IP6_NH_ICMP6 ||
			     proto == IP6_NH_NONE;
		if (raw6_input(st, ifc, &p, &ip, proto, !known, now) && !known)
			return;
	}
	switch (proto) {
	case IP6_NH_UDP:
		udp6_input(st, ifc, p, &ip, now);
		break;
	case IP6_NH_TCP:
		tcp6_input(st, ifc, p, &ip, now);
		break;
	case IP6_NH_ICMP6:
		skiff_icmp6_input(st, ifc, p, &ip, now);
		break;
	case IP6_NH_NONE:
		skiff_drop(st, SKIFF_DROP_IP6_NONE, p);
		break;
	default:
		if (x.frag) {
			/* the pointer of the walk over the reassembled head, not of the
			 * fragment that completed it */
			struct ip6_ext_info xh;
			if (ip6_ext_walk(view_make(p->head + p->l3_off, p->off + p->len - p->l3_off), NULL, &xh) == 0)
				x.proto_ptr = xh.proto_ptr;
		}
		skiff_icmp6_send_error(st, p, ICMP6_PARAM_PROBLEM, ICMP6_PP_NEXTHDR, x.proto_ptr, now);
		skiff_drop(st, SKIFF_DROP_IP6_UNKNOWN_PROTO, p);
		break;
	}
}
