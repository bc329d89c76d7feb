/* udp_mcast6.c — UDP's IPv6 multicast rules: per-socket receive filter, the
 * IPV6_MULTICAST_IF interface, IPV6_MULTICAST_LOOP copies (udp_mcast6.h).
 *
 * The loop copy is one IPv6 packet per piece of the datagram (a Fragment header
 * on each when there are several, RFC 8200 4.5, one identification for the
 * copy) queued with skiff_stack_loop_local, so the stack's poll feeds it to
 * ip6_input like any looped packet: the group check, reassembly and the UDP
 * fan-out are the receive path's own.
 */
#include "udp_mcast6.h"

#include <string.h>

#include "igmp.h"
#include "mld.h"
#include "stack.h"
#include "udp.h"
#include "udp_mcast.h"

bool udp_mcast_sock_accepts6(struct skiff_stack *st, const struct skiff_udp_sock *sk, const uint8_t src[16],
			     const uint8_t dst[16], int ifindex)
{
	struct mcast_member *m;
	struct skiff_addr g, s;

	if (!ip6_is_multicast(dst))
		return true;
	g = ip6_addr_make(dst);
	m = skiff_mcast_engine(st, SKIFF_AF_INET6, ifindex, false, NULL);
	if (!m || !skiff_mcast_owner_has(st, ifindex, udp_mcast_owner(sk), &g)) /* IPV6_MULTICAST_ALL */
		return !sk->mc6_noall && skiff_mld_accepts(st, ifindex, dst, src);
	s = ip6_addr_make(src);
	return mcast_member_owner_accepts(m, udp_mcast_owner(sk), &g, &s);
}

int udp_mcast_oif6(const struct skiff_udp_sock *sk, const uint8_t dst[16])
{
	return ip6_is_multicast(dst) && sk->mc6_if ? sk->mc6_if - 1 : -1;
}

void udp_mcast_loop6(struct skiff_stack *st, const struct skiff_udp_sock *sk, const struct skiff_route_res6 *rt,
		     const struct skiff_ip6_tx *tx, const struct skiff_pkt *chain)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	struct skiff_pkt *copies = NULL, **tail = &copies;
	bool frag = chain && chain->chain;
	uint32_t off = 0, id = (uint32_t)skiff_rand64(st), hdr = IP6_HDR_LEN + (frag ? 8u : 0u);
	struct ip6_repr ip;

	if (sk->mc6_noloop || !ifc || rt->local || !ip6_is_multicast(tx->dst) ||
	    !skiff_mld_accepts(st, rt->ifindex, tx->dst, tx->src))
		return;
	memset(&ip, 0, sizeof(ip));
	ip.version = 6;
	ip.tclass = tx->tclass;
	ip.flow = tx->flow;
	ip.next_hdr = frag ? IP6_NH_FRAGMENT : tx->proto;
	ip.hop_limit = tx->hop_limit;
	ip.src = ip6_addr_make(tx->src);
	ip.dst = ip6_addr_make(tx->dst);
	for (const struct skiff_pkt *s = chain; s; s = s->chain) {
		struct skiff_pkt *c = skiff_iface_alloc(ifc);
		uint8_t *h;
		if (!c || skiff_pkt_tailroom(c) < s->len || skiff_pkt_headroom(c) < hdr) {
			if (c)
				skiff_pkt_free(c);
			skiff_pkt_free(copies);
			skiff_count_drop(st, SKIFF_DROP_IP6_NO_BUF);
			return;
		}
		memcpy(skiff_pkt_put(c, s->len), skiff_pkt_data(s), s->len);
		if (frag) { /* RFC 8200 4.5: Next Header, reserved, offset | M, identification */
			h = skiff_pkt_push(c, 8);
			h[0] = tx->proto;
			h[1] = 0;
			st16(h + 2, (uint16_t)(off | (s->chain ? 1u : 0u)));
			st32(h + 4, id);
		}
		ip.payload_len = (uint16_t)c->len;
		ip6_emit(skiff_pkt_push(c, IP6_HDR_LEN), &ip);
		off += s->len;
		c->flags = SKIFF_PKT_RX_L4_CSUM_GOOD | SKIFF_PKT_MCAST;
		*tail = c;
		tail = &c->chain;
	}
	st->ctr.ip6_local += skiff_stack_loop_local(st, rt->ifindex, copies, 0);
}
