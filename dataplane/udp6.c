/* udp6.c — UDP over IPv6 (RFC 768 with RFC 8200 8.1), on udp.c's socket table.
 *
 * Input: header, length (the UDP length must fit the payload; RFC 2675's
 *   jumbograms are not supported), checksum — mandatory over IPv6 (RFC 8200
 *   8.1: a zero checksum is dropped) → delivery shared with IPv4 (udp.c's
 *   udp_deliver: dual-stack sockets, groups, SO_REUSEPORT) → no socket: ICMPv6
 *   port unreachable (RFC 4443 3.1 code 4).
 * Output: route (scope_id or the bound device for link-local and link-scope
 *   groups) → source: the bound address or RFC 6724's pick → the message cut
 *   to the path MTU as it is copied → checksum (a computed 0 is sent as all
 *   ones) → ip6_output, which adds a Fragment header per piece when needed.
 * Errors: ICMPv6 errors quoting our datagrams reach the sending socket as
 *   udp4_err does for IPv4 (connected sockets, hard errors).
 */
#include <errno.h>
#include <string.h>

#include "ip6.h"
#include "route6.h"
#include "stack.h"
#include "udp.h"
#include "udp_mcast6.h"
#include "wire_icmp6.h"
#include "wire_udp.h"

void udp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	uint32_t l4len = skiff_pkt_chain_len(p);
	struct udp_repr u;

	st->ctr.udp_in++;
	if (udp_parse(&v, &u)) {
		skiff_drop(st, SKIFF_DROP_UDP_SHORT, p);
		return;
	}
	if (u.len < UDP_HDR_LEN || u.len > l4len) {
		skiff_drop(st, SKIFF_DROP_UDP_BAD_LEN, p);
		return;
	}
	if (u.len < l4len) /* bytes past the UDP length are not the datagram's */
		udp_trim_chain(p, u.len);
	if (!(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD) &&
	    (u.csum == 0 ||
	     csum_fold(udp_chain_sum(p, csum_pseudo6(ip->src.v6, ip->dst.v6, IP6_NH_UDP, u.len))) != 0)) {
		skiff_drop(st, SKIFF_DROP_UDP_BAD_CSUM, p);
		return;
	}
	if (u.dport == 0) {
		skiff_drop(st, SKIFF_DROP_UDP_ZERO_PORT, p);
		return;
	}
	skiff_pkt_pull(p, UDP_HDR_LEN);
	if (udp_deliver(st, ifc, p, &ip->src, u.sport, &ip->dst, u.dport, ip6_is_multicast(ip->dst.v6)))
		return;
	skiff_icmp6_send_error(st, p, ICMP6_DST_UNREACH, ICMP6_DU_PORT, 0, now);
	skiff_drop(st, SKIFF_DROP_UDP_NO_PORT, p);
}

void udp6_err(struct skiff_stack *st, int ifindex, const struct ip6_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal)
{
	struct skiff_udp_sock *sk;

	if (ql4_len < 4) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	/* we sent qip->src:sport → qip->dst:dport: find it as if receiving */
	sk = udp_lookup(st, &qip->dst, ld16(ql4 + 2), &qip->src, ld16(ql4), ifindex);
	if (!sk) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_NO_SOCKET);
		return;
	}
	/* Linux __udp6_lib_err without IPV6_RECVERR: hard errors on connected sockets */
	if (!fatal || !sk->connected)
		return;
	sk->err = err;
	udp_mark_ready(st, sk);
}

int udp6_route(struct skiff_stack *st, const struct skiff_udp_sock *sk, const uint8_t dst[16], int scope,
	       struct skiff_route_res6 *rt)
{
	int oif = sk->tx_oif >= 0 ? sk->tx_oif : sk->bound_ifindex; /* IPV6_PKTINFO's interface first */

	if (scope == SKIFF_SCOPE_NONE && (ip6_is_link_local(dst) || ip6_is_multicast(dst)))
		return -ENODEV; /* the scope_id names no interface of this stack */

	/* Linux: a scope_id names the interface for link-local and link-scope
	 * destinations, and must agree with a bound device */
	if (scope > 0 && (ip6_is_link_local(dst) || (ip6_is_multicast(dst) && ip6_mcast_scope(dst) <= IP6_SCOPE_LINK))) {
		if (oif >= 0 && oif != scope)
			return -EINVAL;
		oif = scope;
	}
	if (oif < 0)
		oif = udp_mcast_oif6(sk, dst); /* IPV6_MULTICAST_IF (udp_mcast6.c) */
	if (oif < 0 && !skiff_addr_is_any(&sk->laddr) && ip6_is_link_local(sk->laddr.v6))
		oif = skiff_stack_local6(st, sk->laddr.v6, -1, false);
	return skiff_route6_lookup(st, dst, oif, rt);
}

long udp6_send(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt, size_t len,
	       const uint8_t dst[16], uint16_t dport, int scope, uint64_t now)
{
	struct skiff_route_res6 rt;
	struct skiff_ip6_tx tx;
	struct skiff_iface *ifc;
	struct skiff_pkt *first;
	uint32_t sum, left, piece;
	uint16_t c;
	int rc;

	if (sk->family != SKIFF_AF_INET6)
		return -EAFNOSUPPORT;
	if (!skiff_addr_is_any(&sk->laddr) && ip6_is_v4mapped(sk->laddr.v6))
		return -ENETUNREACH; /* bound to an IPv4 address */
	if (len > 65535 - UDP_HDR_LEN)
		return -EMSGSIZE;
	rc = udp6_route(st, sk, dst, scope, &rt);
	if (rc)
		return rc;
	rc = udp_autobind(st, sk);
	if (rc)
		return rc;
	memset(&tx, 0, sizeof(tx));
	memcpy(tx.src, skiff_addr_is_any(&sk->laddr) || ip6_is_multicast(sk->laddr.v6) ? rt.src : sk->laddr.v6, 16);
	if (sk->tx_src.family == SKIFF_AF_INET6 && !ip6_is_unspecified(sk->tx_src.v6))
		memcpy(tx.src, sk->tx_src.v6, 16); /* IPV6_PKTINFO (RFC 3542 6.1), checked ours by the caller */
	memcpy(tx.dst, dst, 16);
	ifc = skiff_stack_iface(st, rt.ifindex);
	left = (uint32_t)len + UDP_HDR_LEN;
	piece = left <= rt.mtu - IP6_HDR_LEN ? left : skiff_ip6_frag_payload(rt.mtu);
	if (sk->dontfrag && left > rt.mtu - IP6_HDR_LEN)
		return -EMSGSIZE;
	rc = udp_build(st, sk, ifc, iov, iovcnt, len, dport, piece, &first, &sum);
	if (rc)
		return rc;
	c = csum_fold(csum_add(sum, csum_pseudo6(tx.src, tx.dst, IP6_NH_UDP, left)));
	st16(skiff_pkt_data(first) + 6, c ? c : 0xffff); /* never 0 over IPv6 (RFC 8200 8.1) */
	tx.proto = IP6_NH_UDP;
	if (ip6_is_multicast(dst))
		tx.hop_limit = (uint8_t)sk->mcast_hops;
	else if (sk->hop_limit >= 0)
		tx.hop_limit = (uint8_t)sk->hop_limit;
	else
		tx.hop_limit = ifc->hop_limit6 ? ifc->hop_limit6 : st->cfg.default_hop_limit;
	tx.tclass = sk->tclass;
	tx.dontfrag = sk->dontfrag;
	st->ctr.udp_out++;
	if (ip6_is_multicast(dst))
		udp_mcast_loop6(st, sk, &rt, &tx, first); /* IPV6_MULTICAST_LOOP (udp_mcast6.c) */
	rc = skiff_ip6_output(st, &rt, &tx, first, now);
	return rc ? rc : (long)len;
}
