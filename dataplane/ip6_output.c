/* ip6_output.c — IPv6 transmit (RFC 8200): one fixed header per piece of the
 * L4 chain, and a Fragment header per piece when the message does not fit.
 *
 * As IPv4 (ip4_output.c), the L4 layer cuts its message into fragment-sized
 * pieces as it builds it; a chain that breaks the rules is re-cut by copying.
 * Fragmentation (RFC 8200 4.5) happens only here, at the source, to the path
 * MTU (rt->mtu: the link's, or what a Packet Too Big taught, RFC 8201); each
 * datagram takes a fresh random 32-bit identification (RFC 7739 3.1: not
 * predictable); no atomic fragments are ever sent (RFC 8021). Then the neighbour
 * layer resolves and frames, or a datagram to one of our own addresses joins
 * the stack's local queue for skiff_stack_poll to feed back to input.
 * skiff_ip6_output_packet sends a packet already complete (ICMPv6 and ND
 * messages built whole by their builders).
 */
#include "ip6.h"

#include <errno.h>
#include <string.h>

#include "neigh.h"
#include "stack.h"

static bool chain_fits(const struct skiff_pkt *c, uint32_t mtu)
{
	uint32_t maxp = skiff_ip6_frag_payload(mtu);
	if (!c->chain)
		return c->len <= mtu - IP6_HDR_LEN;
	for (; c; c = c->chain) {
		if (c->len > maxp)
			return false;
		if (c->chain && (c->len & 7))
			return false;
	}
	return true;
}

static void send_chain(struct skiff_stack *st, const struct skiff_route_res6 *rt, struct skiff_iface *ifc,
		       struct skiff_pkt *chain, uint64_t now)
{
	if (rt->local)
		st->ctr.ip6_local += skiff_stack_loop_local(st, rt->ifindex, chain, 0);
	else
		skiff_neigh_output6(st, ifc, rt->nexthop, chain, now);
}

int skiff_ip6_output(struct skiff_stack *st, const struct skiff_route_res6 *rt, const struct skiff_ip6_tx *tx,
		     struct skiff_pkt *chain, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	uint32_t total = skiff_pkt_chain_len(chain), off = 0, id = 0, mtu;
	struct ip6_repr ip;
	struct skiff_pkt *p;
	bool frag;

	if (!ifc) {
		skiff_drop(st, SKIFF_DROP_IP6_NO_ROUTE, chain);
		return -ENETUNREACH;
	}
	mtu = rt->mtu >= IP6_MIN_MTU ? rt->mtu : IP6_MIN_MTU;
	if (total > 65535) {
		skiff_pkt_free(chain);
		return -EMSGSIZE;
	}
	frag = !(chain->chain == NULL && chain->len <= mtu - IP6_HDR_LEN);
	if (frag && tx->dontfrag) {
		skiff_pkt_free(chain);
		return -EMSGSIZE;
	}
	if (frag && !chain_fits(chain, mtu)) {
		struct skiff_pkt *n = skiff_pkt_recut(ifc->pool, chain, skiff_ip6_frag_payload(mtu));
		skiff_pkt_free(chain);
		if (!n) {
			skiff_count_drop(st, SKIFF_DROP_IP6_NO_BUF);
			return -ENOBUFS;
		}
		chain = n;
	}
	if (frag)
		id = (uint32_t)skiff_rand64(st);
	memset(&ip, 0, sizeof(ip));
	ip.version = 6;
	ip.tclass = tx->tclass;
	ip.flow = tx->flow & IP6_FLOW_MASK;
	ip.hop_limit = tx->hop_limit;
	ip.src = ip6_addr_make(tx->src);
	ip.dst = ip6_addr_make(tx->dst);
	for (p = chain; p; p = p->chain) {
		uint32_t hl = IP6_HDR_LEN + (frag ? IP6_FRAG_HDR_LEN : 0);
		uint8_t *h = skiff_pkt_push(p, hl);
		if (!h) {
			skiff_drop(st, SKIFF_DROP_IP6_NO_BUF, chain);
			return -ENOBUFS;
		}
		ip.payload_len = (uint16_t)(p->len - IP6_HDR_LEN);
		ip.next_hdr = frag ? IP6_NH_FRAGMENT : tx->proto;
		ip6_emit(h, &ip);
		if (frag) {
			uint8_t *f = h + IP6_HDR_LEN;
			f[0] = tx->proto;
			f[1] = 0;
			st16(f + 2, (uint16_t)(off | (p->chain ? IP6_FRAG_M : 0)));
			st32(f + 4, id);
			off += p->len - hl;
		}
		p->l3_off = (uint16_t)p->off;
		p->l4_off = (uint16_t)(p->off + hl);
	}
	st->ctr.ip6_out++;
	if (frag)
		st->ctr.ip6_frag_out++;
	send_chain(st, rt, ifc, chain, now);
	return 0;
}

int skiff_ip6_output_packet(struct skiff_stack *st, const struct skiff_route_res6 *rt, struct skiff_pkt *p,
			    uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	if (!ifc) {
		skiff_drop(st, SKIFF_DROP_IP6_NO_ROUTE, p);
		return -ENETUNREACH;
	}
	p->l3_off = (uint16_t)p->off;
	p->l4_off = (uint16_t)(p->off + IP6_HDR_LEN);
	st->ctr.ip6_out++;
	send_chain(st, rt, ifc, p, now);
	return 0;
}
