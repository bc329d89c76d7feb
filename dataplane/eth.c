/* eth.c — Ethernet input: parse (with 802.1Q), check the VLAN, accept frames for
 * our MAC, broadcast, or the all-hosts group, reject multicast sources, then demux
 * by ethertype to ARP or IPv4. Output: prepend the header in headroom and queue.
 */
#include "eth.h"

#include <string.h>

#include "igmp.h"
#include "ip4.h"
#include "ip6.h"
#include "nd.h"
#include "neigh.h"
#include "packet.h"
#include "stack.h"
#include "wire_eth.h"

/* Does ifc listen to the IPv6 multicast MAC 33:33:xx:xx:xx:xx (the group's low 32 bits)? */
static bool ip6_mac_wanted(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t *mac)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	uint8_t m[6], g[16];
	ip6_mcast_mac(all_nodes, m);
	if (!memcmp(m, mac, 6))
		return true;
	for (unsigned k = 0; k < ifc->n_v6; k++) {
		ip6_solicited_node(ifc->v6[k].addr, g);
		ip6_mcast_mac(g, m);
		if (!memcmp(m, mac, 6))
			return true;
	}
	return skiff_nd_group_mac_joined(st, ifc, mac);
}

static bool mac_accepted(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t *dst,
			 struct skiff_pkt *p)
{
	if (memcmp(dst, ifc->mac, 6) == 0)
		return true;
	if (eth_is_bcast(dst)) {
		p->flags |= SKIFF_PKT_BCAST;
		return true;
	}
	if (eth_is_mcast(dst)) {
		/* IPv4 multicast MACs (01:00:5e/25): the IP layer decides per group
		 * (RFC 1112 6.4). Other multicast is not ours until issue "IPv6,
		 * multicast" programs a filter. */
		/* IPv6 multicast MACs (33:33/16, RFC 2464 7): all-nodes, the
		 * solicited-node groups of our addresses, joined groups; the IPv6
		 * layer checks the group itself */
		if (dst[0] == 0x33 && dst[1] == 0x33) {
			p->flags |= SKIFF_PKT_MCAST;
			return ip6_mac_wanted(st, ifc, dst);
		}
		if (dst[0] == 0x01 && dst[1] == 0x00 && dst[2] == 0x5e && !(dst[3] & 0x80)) {
			p->flags |= SKIFF_PKT_MCAST;
			return skiff_igmp_mac_ok(st, ifc->index, dst); /* a joined group's MAC (igmp.c) */
		}
	}
	return false;
}

void skiff_eth_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	struct eth_repr e;

	if (skiff_packet_tapping(st->packet)) /* packet sockets see every frame first (packet.c) */
		skiff_packet_tap(st, ifc, p, false);
	if (eth_parse(&v, &e)) {
		skiff_drop(st, SKIFF_DROP_ETH_SHORT, p);
		return;
	}
	if ((e.has_vlan ? (e.vlan_tci & 0x0fff) : 0) != ifc->vlan_id) {
		skiff_drop(st, SKIFF_DROP_ETH_VLAN_MISMATCH, p);
		return;
	}
	if (eth_is_mcast(e.src)) {
		skiff_drop(st, SKIFF_DROP_ETH_BAD_SRC, p);
		return;
	}
	if (!mac_accepted(st, ifc, e.dst, p)) {
		skiff_drop(st, SKIFF_DROP_ETH_NOT_FOR_US, p);
		return;
	}
	if (e.has_vlan) {
		p->vlan_tci = e.vlan_tci;
		p->flags |= SKIFF_PKT_RX_VLAN;
	}
	skiff_pkt_pull(p, e.hdr_len);
	p->l3_off = (uint16_t)p->off;
	switch (e.type) {
	case ETH_TYPE_IP4:
		skiff_ip4_input(st, ifc, p, now);
		break;
	case ETH_TYPE_ARP:
		skiff_arp_input(st, ifc, p, now);
		break;
	case ETH_TYPE_IP6:
		skiff_ip6_input(st, ifc, p, now);
		break;
	default:
		skiff_drop(st, SKIFF_DROP_ETH_UNKNOWN_TYPE, p);
		break;
	}
}

void skiff_eth_output(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t dst[6], uint16_t type,
		      struct skiff_pkt *p)
{
	struct eth_repr e;
	uint8_t *h;

	e.has_vlan = ifc->vlan_id != 0;
	e.hdr_len = e.has_vlan ? ETH_VLAN_HDR_LEN : ETH_HDR_LEN;
	h = skiff_pkt_push(p, e.hdr_len);
	if (!h) {
		skiff_drop(st, SKIFF_DROP_IP4_NO_BUF, p);
		return;
	}
	memcpy(e.dst, dst, 6);
	memcpy(e.src, ifc->mac, 6);
	e.type = type;
	e.vlan_tci = ifc->vlan_id;
	eth_emit(h, &e);
	p->ifindex = ifc->index;
	skiff_iface_tx(st, ifc, p);
}
