/* ip4_output.c — IPv4 transmit: one header per piece of the L4 chain.
 *
 * The L4 layer cuts its message into fragment-sized pieces as it builds it, so
 * fragmentation (RFC 791 3.2, "Fragmentation") is writing a header per piece with
 * its offset and MF flag — no copy. A chain that does not fit the rules (a piece
 * too long for the MTU, a middle piece not a multiple of 8) is re-cut by copying
 * into fresh frames first. Then the neighbour layer frames and sends the pieces —
 * or, for a datagram to one of our own addresses or through the loopback
 * interface (127/8, loopback.c), the pieces join the stack's local queue and
 * skiff_stack_poll() feeds them to input (as Linux's loopback). A 127/8 source
 * never goes towards a device (RFC 1122 3.2.1.3 (g)).
 * IDs: one counter per destination hash bucket (as Linux's ip_idents), so the ID
 * sequence one peer sees tells it nothing about traffic to others.
 */
#include "ip4.h"

#include <errno.h>
#include <string.h>

#include "neigh.h"
#include "stack.h"

static unsigned id_bucket(const struct skiff_stack *st, uint32_t dst, uint8_t proto)
{
	uint64_t h = (((uint64_t)dst << 8) | proto) ^ st->ip_id_key;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (unsigned)(h & (SKIFF_IP_ID_BUCKETS - 1));
}

uint16_t skiff_ip4_id_peek(const struct skiff_stack *st, uint32_t dst, uint8_t proto)
{
	return st->ip_ids[id_bucket(st, dst, proto)];
}

static bool chain_fits(const struct skiff_pkt *c, uint16_t mtu)
{
	uint32_t maxp = skiff_ip4_frag_payload(mtu);
	if (!c->chain)
		return c->len <= (uint32_t)mtu - IP4_HDR_LEN;
	for (; c; c = c->chain) {
		if (c->len > maxp)
			return false;
		if (c->chain && (c->len & 7))
			return false;
	}
	return true;
}

int skiff_ip4_output(struct skiff_stack *st, const struct skiff_route_res4 *rt, const struct skiff_ip4_tx *tx,
		     struct skiff_pkt *chain, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	uint32_t total = skiff_pkt_chain_len(chain), off = 0;
	struct ip4_repr ip;
	struct skiff_pkt *p;
	bool local;

	if (!ifc) {
		skiff_drop(st, SKIFF_DROP_IP4_NO_ROUTE, chain);
		return -ENETUNREACH;
	}
	local = skiff_route_is_local4(st, rt, tx->dst);
	if (!local && ip4_is_loopback(tx->src)) { /* RFC 1122 3.2.1.3 (g): 127/8 stays inside */
		skiff_drop(st, SKIFF_DROP_IP4_OUT_LOOPBACK_SRC, chain);
		return -EINVAL;
	}
	if (total + IP4_HDR_LEN > 65535) {
		skiff_pkt_free(chain);
		return -EMSGSIZE;
	}
	if (!chain_fits(chain, ifc->mtu)) {
		struct skiff_pkt *n;
		if (tx->df) {
			skiff_pkt_free(chain);
			return -EMSGSIZE;
		}
		n = skiff_pkt_recut(ifc->pool, chain, skiff_ip4_frag_payload(ifc->mtu));
		skiff_pkt_free(chain);
		if (!n) {
			skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
			return -ENOBUFS;
		}
		chain = n;
	}
	if (chain->chain && tx->df) {
		skiff_pkt_free(chain);
		return -EMSGSIZE;
	}
	ip.version = 4;
	ip.ihl = IP4_HDR_LEN;
	ip.tos = tx->tos;
	ip.id = st->ip_ids[id_bucket(st, tx->dst, tx->proto)]++;
	ip.ttl = tx->ttl;
	ip.proto = tx->proto;
	ip.src = tx->src;
	ip.dst = tx->dst;
	for (p = chain; p; p = p->chain) {
		uint8_t *h = skiff_pkt_push(p, IP4_HDR_LEN);
		if (!h) {
			skiff_drop(st, SKIFF_DROP_IP4_NO_BUF, chain);
			return -ENOBUFS;
		}
		ip.total_len = (uint16_t)p->len;
		ip.frag = (uint16_t)((off >> 3) | (p->chain ? IP4_FLAG_MF : 0) | (tx->df ? IP4_FLAG_DF : 0));
		ip4_emit(h, &ip);
		p->l3_off = (uint16_t)p->off;
		p->l4_off = (uint16_t)(p->off + IP4_HDR_LEN);
		off += p->len - IP4_HDR_LEN;
	}
	st->ctr.ip4_out++;
	if (chain->chain)
		st->ctr.ip4_frag_out++;
	/* the route lookup marks a local destination by answering it as its own
	 * source, or by the loopback interface (route.c): no second scan of the
	 * addresses per packet */
	if (local) {
		st->ctr.ip4_local += skiff_stack_loop_local(st, rt->ifindex, chain, SKIFF_PKT_RX_IP_CSUM_GOOD);
		return 0;
	}
	skiff_neigh_output4(st, ifc, rt->nexthop, chain, now);
	return 0;
}
