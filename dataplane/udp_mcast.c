/* udp_mcast.c — UDP's multicast rules: per-socket receive filter, output
 * interface and source, IP_MULTICAST_LOOP copies, leave on close (udp_mcast.h).
 *
 * The loop copy is built as the wire copy will be (one IPv4 header per piece,
 * same ID, offsets and MF) and queued on the stack's local queue, so
 * skiff_stack_poll feeds it to ip4_input like any looped datagram: the group
 * check, reassembly and the UDP fan-out are the receive path's own.
 */
#include "udp_mcast.h"

#include <string.h>

#include "igmp.h"
#include "stack.h"
#include "udp.h"

bool udp_mcast_sock_accepts4(struct skiff_stack *st, const struct skiff_udp_sock *sk, uint32_t src, uint32_t dst,
			     int ifindex)
{
	struct mcast_member *m;
	struct skiff_addr g, s;

	if (!ip4_is_multicast(dst))
		return true;
	if ((dst & 0xffffff00u) == 0xe0000000u) /* 224.0.0.0/24: Linux ipv4_is_local_multicast */
		return !sk->mc_noall;
	m = skiff_mcast_engine(st, SKIFF_AF_INET, ifindex, false, NULL);
	g = skiff_addr_v4(dst);
	if (!m || !skiff_mcast_owner_has(st, ifindex, udp_mcast_owner(sk), &g))
		return !sk->mc_noall; /* IP_MULTICAST_ALL: any group the host joined */
	s = skiff_addr_v4(src);
	return mcast_member_owner_accepts(m, udp_mcast_owner(sk), &g, &s);
}

int udp_mcast_route4(struct skiff_stack *st, const struct skiff_udp_sock *sk, uint32_t dst,
		     struct skiff_route_res4 *rt)
{
	/* Linux udp_sendmsg: oif = the bound device, else mc_index; saddr = the bound
	 * address, else mc_addr */
	int oif = sk->bound_ifindex >= 0 ? sk->bound_ifindex : sk->mc_if ? sk->mc_if - 1 : -1;
	int rc = skiff_route_lookup4(st, dst, oif, rt);
	if (rc == 0 && sk->mc_addr)
		rt->src = sk->mc_addr;
	return rc;
}

/* Append a finished datagram piece to the stack's local queue (as ip4_output's loopback). */
static void local_queue(struct skiff_stack *st, struct skiff_pkt *p)
{
	p->next = NULL;
	if (st->local_tail)
		st->local_tail->next = p;
	else
		st->local_head = p;
	st->local_tail = p;
	st->ctr.ip4_local++;
}

void udp_mcast_loop4(struct skiff_stack *st, const struct skiff_udp_sock *sk, const struct skiff_route_res4 *rt,
		     const struct skiff_ip4_tx *tx, const struct skiff_pkt *chain)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	struct skiff_pkt *copies = NULL, **tail = &copies;
	struct ip4_repr ip;
	uint32_t off = 0;

	if (sk->mc_noloop || !ifc || !ip4_is_multicast(tx->dst) || !skiff_igmp_accepts(st, rt->ifindex, tx->dst, tx->src))
		return;
	memset(&ip, 0, sizeof(ip));
	ip.version = 4;
	ip.ihl = IP4_HDR_LEN;
	ip.tos = tx->tos;
	ip.id = skiff_ip4_id_peek(st, tx->dst, tx->proto); /* the ID the wire copy gets */
	ip.ttl = tx->ttl;
	ip.proto = tx->proto;
	ip.src = tx->src;
	ip.dst = tx->dst;
	for (const struct skiff_pkt *s = chain; s; s = s->chain) {
		struct skiff_pkt *c = skiff_iface_alloc(ifc);
		uint8_t *h;
		if (!c || skiff_pkt_tailroom(c) < s->len || skiff_pkt_headroom(c) < IP4_HDR_LEN) {
			if (c)
				skiff_pkt_free(c);
			skiff_pkt_free(copies);
			skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
			return;
		}
		memcpy(skiff_pkt_put(c, s->len), skiff_pkt_data(s), s->len);
		h = skiff_pkt_push(c, IP4_HDR_LEN);
		ip.total_len = (uint16_t)c->len;
		ip.frag = (uint16_t)((off >> 3) | (s->chain ? IP4_FLAG_MF : 0));
		ip4_emit(h, &ip);
		off += s->len;
		c->ifindex = (uint16_t)rt->ifindex;
		c->flags = SKIFF_PKT_LOCAL | SKIFF_PKT_RX_IP_CSUM_GOOD | SKIFF_PKT_RX_L4_CSUM_GOOD | SKIFF_PKT_MCAST;
		*tail = c;
		tail = &c->chain; /* held as a chain until complete, queued one by one below */
	}
	while (copies) {
		struct skiff_pkt *p = copies;
		copies = p->chain;
		p->chain = NULL;
		local_queue(st, p);
	}
}

void udp_mcast_close(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	skiff_mcast_drop_owner(st, udp_mcast_owner(sk), st->now);
}
