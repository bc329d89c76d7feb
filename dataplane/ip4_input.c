/* ip4_input.c — IPv4 receive path, checks in RFC 1812 5.2.2 / RFC 1122 3.2.1 order:
 *   length ≥ 20 → version 4 → IHL ≥ 20 and within the frame → header checksum →
 *   total length within [IHL, frame] (trim link padding) → source address sane
 *   (RFC 1812 5.3.7) → destination not martian → destination is ours (no
 *   forwarding: RFC 1122 3.3.4.2) → reassemble fragments → demux by protocol.
 * 127/8 as source or destination passes only on frames the stack looped back
 * itself (SKIFF_PKT_LOCAL: the in-stack loopback, loopback.c), never from a
 * device (RFC 1122 3.2.1.3 (g)).
 * Each failed check is a named drop. Options are accepted and skipped (RFC 1122
 * 3.2.1.8: a host must pass unknown options silently).
 */
#include "ip4.h"

#include "icmp4.h"
#include "raw.h"
#include "igmp.h"
#include "stack.h"
#include "tcp.h"
#include "udp.h"
#include "wire_icmp4.h"

/* Is dst addressed to this host on ifc? Unicast ours, broadcast, all-hosts. */
static bool dst_is_local(struct skiff_stack *st, const struct skiff_iface *ifc, uint32_t dst, struct skiff_pkt *p)
{
	for (unsigned k = 0; k < ifc->n_v4; k++)
		if (ifc->v4[k].addr == dst)
			return true;
	if (skiff_stack_is_bcast4(st, dst)) {
		p->flags |= SKIFF_PKT_BCAST;
		return true;
	}
	if (ip4_is_multicast(dst)) /* 224.0.0.1, or a group joined here (igmp.c, RFC 1112 4, RFC 3376 3.2) */
		return skiff_igmp_rcv4(st, ifc, p);
	/* RFC 1122 3.3.4.2 weak host model: an address of another interface is ours too */
	return skiff_stack_local4(st, dst) >= 0;
}

void skiff_ip4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now)
{
	const uint8_t *h = skiff_pkt_data(p);
	struct ip4_repr ip;
	bool local;

	st->ctr.ip4_in++;
	if (ip4_parse(h, p->len, &ip)) {
		skiff_drop(st, SKIFF_DROP_IP4_SHORT, p);
		return;
	}
	if (ip.version != 4) {
		skiff_drop(st, SKIFF_DROP_IP4_BAD_VERSION, p);
		return;
	}
	if (ip.ihl < IP4_HDR_LEN || ip.ihl > p->len) {
		skiff_drop(st, SKIFF_DROP_IP4_BAD_IHL, p);
		return;
	}
	if (!(p->flags & SKIFF_PKT_RX_IP_CSUM_GOOD) && csum_buf(h, ip.ihl) != 0) {
		skiff_drop(st, SKIFF_DROP_IP4_BAD_CSUM, p);
		return;
	}
	if (ip.total_len < ip.ihl || ip.total_len > p->len) {
		skiff_drop(st, SKIFF_DROP_IP4_BAD_TOTLEN, p);
		return;
	}
	skiff_pkt_trim(p, ip.total_len); /* Ethernet minimum-size padding */
	/* RFC 1122 3.2.1.3 (a): 0.0.0.0 only as the source of a host that does not
	 * know its address yet, so only towards the limited broadcast; (g) 127/8
	 * and our own addresses only on datagrams we looped back ourselves (the
	 * loopback, loopback.c): never from a device. */
	local = (p->flags & SKIFF_PKT_LOCAL) != 0;
	if (ip4_is_multicast(ip.src) || ip4_is_limited_bcast(ip.src) || (ip4_is_loopback(ip.src) && !local) ||
	    ip4_is_class_e(ip.src) || (ip4_is_zeronet(ip.src) && (ip.src != 0 || !ip4_is_limited_bcast(ip.dst))) ||
	    skiff_stack_is_bcast4(st, ip.src) || (!local && skiff_stack_local4(st, ip.src) >= 0)) {
		skiff_drop(st, SKIFF_DROP_IP4_BAD_SRC, p);
		return;
	}
	if ((ip4_is_loopback(ip.dst) && !local) || ip4_is_zeronet(ip.dst) || ip4_is_class_e(ip.dst)) {
		skiff_drop(st, SKIFF_DROP_IP4_MARTIAN_DST, p);
		return;
	}
	if (!dst_is_local(st, ifc, ip.dst, p)) {
		skiff_drop(st, SKIFF_DROP_IP4_NOT_FOR_US, p);
		return;
	}
	p->l3_off = (uint16_t)p->off;
	skiff_pkt_pull(p, ip.ihl);
	p->l4_off = (uint16_t)p->off;
	if (ip4_is_fragment(&ip)) {
		p = skiff_ip4_reasm(st, p, &ip, now);
		if (!p)
			return;
		st->ctr.ip4_reasm_ok++;
	}
	/* raw sockets (raw.c, Linux raw_v4_input): a copy with the header to each of
	 * the protocol's; with no handler below, the frame itself (and no protocol
	 * unreachable) — keep `last` in step with the cases of the switch */
	raw4_input(st, ifc, &p, &ip,
		   ip.proto != IPPROTO_UDP_ && ip.proto != IPPROTO_TCP_ && ip.proto != IPPROTO_ICMP_ &&
			   ip.proto != IPPROTO_IGMP_,
		   now);
	if (!p)
		return;
	switch (ip.proto) {
	case IPPROTO_UDP_:
		udp4_input(st, ifc, p, &ip, now);
		break;
	case IPPROTO_TCP_:
		tcp4_input(st, ifc, p, &ip, now);
		break;
	case IPPROTO_ICMP_:
		skiff_icmp4_input(st, ifc, p, &ip, now);
		break;
	case IPPROTO_IGMP_:
		skiff_igmp_input(st, ifc, p, &ip, now);
		break;
	default:
		/* RFC 1122 3.2.2.1: protocol unreachable (send_error skips broadcasts). */
		skiff_icmp4_send_error(st, p, ICMP4_DEST_UNREACH, ICMP4_PROTO_UNREACH, 0, now);
		skiff_drop(st, SKIFF_DROP_IP4_UNKNOWN_PROTO, p);
		break;
	}
}
