/* stack.c — instance lifecycle, interfaces and addresses, the input/poll/tx entry
 * points, and small shared helpers (RNG, token buckets, transmit ring).
 *
 * input: for each frame of the burst → eth_input (→ arp | ip4 → icmp | udp).
 * poll: frames looped back (to our own addresses; 127/8 with loopback on, see
 *   loopback.c) → ip4_input, in rounds while they answer each other (bounded),
 *   then the timer wheel (ARP, reassembly, TCP timers), then what the timers
 *   looped back.
 * tx: protocol output → eth_output → iface tx ring → tx_drain by the caller.
 */
#include "stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eth.h"
#include "igmp.h"
#include "ip4.h"
#include "ip6.h"
#include "neigh.h"
#include "packet.h"
#include "nd.h"
#include "route.h"
#include "route6.h"
#include "tcp.h"
#include "raw.h"
#include "udp.h"

static const char *const drop_names[] = {
#define DROP_NAME(n, d) #n,
#define DROP_NAME_ICMP6(n, d) "ICMP6_" #n,
	SKIFF_DROP_REASONS(DROP_NAME)
	ICMP6_FAILS(DROP_NAME_ICMP6)
#undef DROP_NAME
#undef DROP_NAME_ICMP6
};
static const char *const drop_descs[] = {
#define DROP_DESC(n, d) d,
	SKIFF_DROP_REASONS(DROP_DESC)
	ICMP6_FAILS(DROP_DESC)
#undef DROP_DESC
};

const char *skiff_drop_name(enum skiff_drop_reason r) { return r < SKIFF_DROP_MAX ? drop_names[r] : "?"; }
const char *skiff_drop_desc(enum skiff_drop_reason r) { return r < SKIFF_DROP_MAX ? drop_descs[r] : "?"; }

void skiff_stack_config_defaults(struct skiff_stack_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 0x5eed5eed12345678ull;
	c->neigh_entries = 1024;
	c->neigh_hold_per_entry = 8;
	c->neigh_hold_total = 512;
	c->arp_retries = 3;
	c->arp_retrans_ns = 1000000000ull;
	c->neigh_reachable_ns = 30000000000ull;
	c->neigh_gc_ns = 60000000000ull;
	c->arp_reply_rate = 0; /* Linux answers every request; a global cap would let a flood starve real peers */
	c->icmp_rate = 1000;
	c->routes = 256;
	c->reasm_slots = 64;
	c->reasm_mem = 4u << 20;
	c->reasm_timeout_ns = 30000000000ull;
	c->reasm_max_frags = 128;
	c->nd_dad_transmits = 1;
	c->nd_optimistic_dad = true;
	c->mld_join_solicited = false; /* mld.c; the socket layer turns it on (a real link) */
	c->nd_rtr_solicits = 3;
	c->nd_rtr_solicit_ns = 4000000000ull;
	c->nd_delay_first_probe_ns = 5000000000ull;
	c->nd_accept_ra = true;
	c->nd_autoconf = true;
	c->nd_accept_redirects = false;
	c->default_hop_limit = 64;
	c->pmtu6_entries = 256;
	c->pmtu_expire_ns = 600000000000ull;
	c->udp_sockets = 1024;
	c->txq = 1024;
	c->rcvbuf_default = 212992;
	c->rcvbuf_max = 212992; /* Linux net.core.rmem_max default */
	c->sndbuf_max = 212992;
	c->sndbuf_default = 212992;
	c->ephemeral_lo = 32768;
	c->ephemeral_hi = 60999;
	c->default_ttl = 64;
	c->tcp_sockets = 4096;
	c->tcp_rcvbuf = 131072;
	c->tcp_sndbuf = 262144;
	c->tcp_rcvbuf_max = 524288;
	c->tcp_rx_mem_max = 8u << 20;
	c->tcp_somaxconn = 4096;
	c->tcp_challenge_rate = 1000;
	c->tcp_syncookies = true;
	c->tcp_rack = true;
}

static int check_config(const struct skiff_stack_config *c)
{
	if (!c->neigh_entries || !c->routes || !c->reasm_slots || !c->udp_sockets || !c->reasm_max_frags ||
	    !c->tcp_sockets || c->tcp_rcvbuf < 2304 || c->tcp_sndbuf < 4608 || !c->tcp_somaxconn)
		return -EINVAL;
	if (!c->txq || (c->txq & (c->txq - 1)))
		return -EINVAL;
	if (c->ephemeral_lo == 0 || c->ephemeral_lo > c->ephemeral_hi)
		return -EINVAL;
	if (!c->default_ttl || !c->arp_retrans_ns || !c->reasm_timeout_ns)
		return -EINVAL;
	return 0;
}

uint64_t skiff_rand64(struct skiff_stack *st)
{
	/* xorshift128+ */
	uint64_t s1 = st->rng[0];
	const uint64_t s0 = st->rng[1];
	st->rng[0] = s0;
	s1 ^= s1 << 23;
	st->rng[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return st->rng[1] + s0;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void skiff_tokens_init(struct skiff_tokens *tb, uint32_t rate, uint32_t burst, uint64_t now)
{
	tb->rate = rate;
	tb->burst = burst ? burst : 1;
	tb->tokens = tb->burst;
	tb->last_ns = now;
}

bool skiff_tokens_take(struct skiff_tokens *tb, uint64_t now)
{
	if (tb->rate == 0)
		return true; /* unlimited */
	if (now > tb->last_ns) {
		uint64_t add = (now - tb->last_ns) * tb->rate / 1000000000ull;
		if (add) {
			uint64_t t = tb->tokens + add;
			tb->tokens = t > tb->burst ? tb->burst : (uint32_t)t;
			/* advance by the time the added tokens represent, so fractions carry over */
			tb->last_ns = t > tb->burst ? now : tb->last_ns + add * 1000000000ull / tb->rate;
		}
	}
	if (tb->tokens == 0)
		return false;
	tb->tokens--;
	return true;
}

int skiff_stack_create(const struct skiff_stack_config *cfg, uint64_t now, struct skiff_stack **out)
{
	struct skiff_stack *st;
	uint64_t seed;
	int rc;

	if (!cfg || !out)
		return -EINVAL;
	rc = check_config(cfg);
	if (rc)
		return rc;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = *cfg;
	st->now = now;
	st->lo_ifindex = -1;
	seed = cfg->seed;
	st->rng[0] = splitmix(&seed);
	st->rng[1] = splitmix(&seed);
	st->ip_id_key = skiff_rand64(st);
	for (unsigned i = 0; i < SKIFF_IP_ID_BUCKETS; i++)
		st->ip_ids[i] = (uint16_t)skiff_rand64(st);
	skiff_timer_wheel_init(&st->timers, now);
	skiff_tokens_init(&st->arp_reply_tb, cfg->arp_reply_rate, cfg->arp_reply_rate / 10 + 1, now);
	skiff_tokens_init(&st->icmp_tb, cfg->icmp_rate, 50, now);
	skiff_tokens_init(&st->tcp_challenge_tb, cfg->tcp_challenge_rate, cfg->tcp_challenge_rate / 10 + 1, now);
	skiff_tokens_init(&st->icmp6_tb, cfg->icmp_rate, 50, now);
	if ((rc = skiff_neigh_table_create(st)) || (rc = skiff_route_table_create(st)) ||
	    (rc = skiff_route6_table_create(st)) ||
	    (rc = skiff_reasm_create(st)) || (rc = skiff_udp_table_create(st)) || (rc = skiff_tcp_table_create(st)) ||
	    (rc = skiff_raw_table_create(st)) /* raw.c */ || (rc = skiff_packet_table_create(st)) /* packet.c */) {
		skiff_stack_destroy(st);
		return rc;
	}
	*out = st;
	return 0;
}

void skiff_stack_destroy(struct skiff_stack *st)
{
	if (!st)
		return;
	skiff_pkt_free_list(st->local_head);
	skiff_tcp_table_destroy(st);
	skiff_udp_table_destroy(st);
	skiff_raw_table_destroy(st); /* raw.c */
	skiff_packet_table_destroy(st); /* packet.c */
	skiff_mcast_destroy(st); /* igmp.c: after the sockets */
	skiff_reasm_destroy(st);
	skiff_neigh_table_destroy(st);
	skiff_route_table_destroy(st);
	skiff_route6_table_destroy(st);
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		struct skiff_iface *ifc = &st->ifaces[i];
		if (!ifc->used)
			continue;
		while (ifc->tx_count) {
			skiff_pkt_free(ifc->txq[ifc->tx_head]);
			ifc->tx_head = (ifc->tx_head + 1) & ifc->tx_mask;
			ifc->tx_count--;
		}
		free(ifc->txq);
	}
	free(st);
}

struct skiff_iface *skiff_stack_iface(struct skiff_stack *st, int ifindex)
{
	if (ifindex < 0 || ifindex >= SKIFF_MAX_IFACES || !st->ifaces[ifindex].used)
		return NULL;
	return &st->ifaces[ifindex];
}

int skiff_stack_add_iface(struct skiff_stack *st, const char *name, const uint8_t mac[6], uint16_t mtu, uint32_t caps,
			  struct skiff_pool *pool)
{
	if (!name || !mac || !pool || mtu < 576 || strlen(name) >= SKIFF_IFNAMSIZ)
		return -EINVAL;
	if ((mac[0] & 1) || (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		struct skiff_iface *ifc = &st->ifaces[i];
		if (ifc->used)
			continue;
		/* every output frame must hold an MTU-sized packet behind room for
		 * Ethernet, an 802.1Q tag and the IPv4 header */
		struct skiff_pkt *probe = skiff_pool_get(pool);
		if (probe) {
			bool fits = skiff_pkt_headroom(probe) >= 14 + 4 + 60 && skiff_pkt_tailroom(probe) >= mtu;
			skiff_pkt_free(probe);
			if (!fits)
				return -EINVAL;
		}
		memset(ifc, 0, sizeof(*ifc));
		ifc->txq = calloc(st->cfg.txq, sizeof(*ifc->txq));
		if (!ifc->txq)
			return -ENOMEM;
		ifc->tx_mask = st->cfg.txq - 1;
		ifc->used = true;
		ifc->up = true;
		ifc->index = (uint16_t)i;
		strcpy(ifc->name, name);
		memcpy(ifc->mac, mac, 6);
		ifc->mtu = mtu;
		ifc->caps = caps;
		ifc->pool = pool;
		skiff_timer_init(&ifc->nd_timer, skiff_nd_timer_fn);
		return i;
	}
	return -ENOSPC;
}

int skiff_stack_local4(const struct skiff_stack *st, uint32_t addr)
{
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		const struct skiff_iface *ifc = &st->ifaces[i];
		if (!ifc->used)
			continue;
		for (unsigned k = 0; k < ifc->n_v4; k++)
			if (ifc->v4[k].addr == addr)
				return i;
	}
	/* as Linux's "local 127.0.0.0/8 dev lo": the whole prefix, not just 127.0.0.1 */
	if (st->lo_ifindex >= 0 && ip4_is_loopback(addr))
		return st->lo_ifindex;
	return -1;
}

bool skiff_stack_is_bcast4(const struct skiff_stack *st, uint32_t addr)
{
	if (ip4_is_limited_bcast(addr))
		return true;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		const struct skiff_iface *ifc = &st->ifaces[i];
		if (!ifc->used)
			continue;
		for (unsigned k = 0; k < ifc->n_v4; k++) {
			uint32_t m = ip4_prefix_mask(ifc->v4[k].plen);
			if (ifc->v4[k].plen < 31 && addr == ((ifc->v4[k].addr & m) | ~m))
				return true;
		}
	}
	return false;
}

int skiff_stack_add_addr4(struct skiff_stack *st, int ifindex, uint32_t addr, unsigned plen, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	int rc;

	if (!ifc || ifc->loopback || plen == 0 || plen > 32)
		return -EINVAL; /* the loopback holds 127.0.0.1/8 and nothing else */
	if (addr == 0 || ip4_is_multicast(addr) || ip4_is_limited_bcast(addr) || ip4_is_class_e(addr) ||
	    ip4_is_zeronet(addr))
		return -EINVAL;
	if (skiff_stack_local4(st, addr) >= 0)
		return -EEXIST;
	if (ifc->n_v4 == SKIFF_MAX_IF_ADDRS)
		return -ENOSPC;
	rc = skiff_route_add4(st, addr, plen, 0, ifindex, 0);
	if (rc && rc != -EEXIST)
		return rc;
	st->route_gen++; /* local addresses decide lookups too */
	ifc->v4[ifc->n_v4].addr = addr;
	ifc->v4[ifc->n_v4].plen = (uint8_t)plen;
	ifc->n_v4++;
	st->now = now;
	skiff_arp_announce(st, ifc, addr, now);
	return 0;
}

int skiff_stack_del_addr4(struct skiff_stack *st, int ifindex, uint32_t addr)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	if (!ifc || ifc->loopback)
		return -EINVAL;
	for (unsigned k = 0; k < ifc->n_v4; k++) {
		if (ifc->v4[k].addr != addr)
			continue;
		unsigned plen = ifc->v4[k].plen;
		st->route_gen++;
		ifc->v4[k] = ifc->v4[--ifc->n_v4];
		/* keep the connected route while another address shares the prefix */
		for (unsigned j = 0; j < ifc->n_v4; j++)
			if (ifc->v4[j].plen == plen &&
			    (ifc->v4[j].addr & ip4_prefix_mask(plen)) == (addr & ip4_prefix_mask(plen)))
				return 0;
		skiff_route_flush_if4(st, ifindex, addr, plen);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

void skiff_stack_input(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);

	if (now > st->now)
		st->now = now;
	if (!ifc || !ifc->up || ifc->loopback) { /* the loopback has no device: it only loops */
		for (unsigned i = 0; i < n; i++)
			skiff_drop(st, SKIFF_DROP_ETH_NO_IFACE, pkts[i]);
		return;
	}
	st->ctr.rx_frames += n;
	for (unsigned i = 0; i < n; i++) {
		struct skiff_pkt *p = pkts[i];
		p->ifindex = (uint16_t)ifindex;
		p->next = NULL;
		p->chain = NULL;
		p->ts = now;
		p->flags &= ~(uint32_t)SKIFF_PKT_LOCAL;
		skiff_eth_input(st, ifc, p, now);
	}
}

/* Rounds of looped-back delivery per poll: a reply to a looped frame loops too
 * (a TCP handshake is 3 rounds, data and its ACK 2), and is delivered in the same
 * poll up to this bound, so an exchange inside the stack does not wait for
 * another poll that may not come soon (a runtime's threads asleep); the bound
 * keeps two sockets feeding each other from holding the poll forever. */
#define LOCAL_ROUNDS 8

static void deliver_local(struct skiff_stack *st, uint64_t now)
{
	for (unsigned r = 0; r < LOCAL_ROUNDS && st->local_head; r++) {
		/* a round is what is queued now; what it sends back is the next round */
		struct skiff_pkt *p = st->local_head;
		st->local_head = st->local_tail = NULL;
		while (p) {
			struct skiff_pkt *nx = p->next;
			struct skiff_iface *ifc = skiff_stack_iface(st, p->ifindex);
			p->next = NULL;
			p->ts = now;
			if (ifc && ifc->up && (skiff_pkt_data(p)[0] >> 4) == 6)
				skiff_ip6_input(st, ifc, p, now);
			else if (ifc && ifc->up)
				skiff_ip4_input(st, ifc, p, now);
			else
				skiff_drop(st, SKIFF_DROP_ETH_NO_IFACE, p);
			p = nx;
		}
	}
}

void skiff_stack_poll(struct skiff_stack *st, uint64_t now)
{
	if (now > st->now)
		st->now = now;
	deliver_local(st, now);
	skiff_timer_run(st, &st->timers, now);
	skiff_mcast_poll(st, now); /* IGMP/MLD reports due (igmp.c) */
	deliver_local(st, now); /* what the timers sent ourselves (delayed ACKs, retransmissions) */
}

uint64_t skiff_stack_next_deadline(struct skiff_stack *st)
{
	uint64_t t, m;
	if (st->local_head)
		return st->now;
	t = skiff_timer_next(&st->timers);
	m = skiff_mcast_next_deadline(st); /* igmp.c */
	return m < t ? m : t;
}

unsigned skiff_stack_loop_local(struct skiff_stack *st, int ifindex, struct skiff_pkt *chain, uint32_t flags)
{
	unsigned n = 0;
	for (; chain; n++) {
		struct skiff_pkt *p = chain;
		chain = p->chain;
		p->chain = NULL;
		p->next = NULL;
		p->ifindex = (uint16_t)ifindex;
		p->flags |= SKIFF_PKT_LOCAL | flags;
		if (p->flags & SKIFF_PKT_TX_L4_CSUM) /* never computed: nothing crossed a wire */
			p->flags = (p->flags & ~(uint32_t)SKIFF_PKT_TX_L4_CSUM) | SKIFF_PKT_RX_L4_CSUM_GOOD;
		if (st->local_tail)
			st->local_tail->next = p;
		else
			st->local_head = p;
		st->local_tail = p;
	}
	return n;
}

void skiff_iface_tx(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p)
{
	if (ifc->tx_count > ifc->tx_mask) {
		skiff_drop(st, SKIFF_DROP_TX_QUEUE_FULL, p);
		return;
	}
	if (skiff_packet_tapping(st->packet)) /* packet sockets see it outgoing (packet.c) */
		skiff_packet_tap(st, ifc, p, true);
	ifc->txq[(ifc->tx_head + ifc->tx_count) & ifc->tx_mask] = p;
	ifc->tx_count++;
	st->ctr.tx_frames++;
}

struct skiff_pkt *skiff_iface_alloc(struct skiff_iface *ifc)
{
	struct skiff_pkt *p = skiff_pool_get(ifc->pool);
	if (p)
		p->ifindex = ifc->index;
	return p;
}

unsigned skiff_stack_tx_drain(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	unsigned k = 0;
	if (!ifc)
		return 0;
	while (k < n && ifc->tx_count) {
		pkts[k++] = ifc->txq[ifc->tx_head];
		ifc->tx_head = (ifc->tx_head + 1) & ifc->tx_mask;
		ifc->tx_count--;
	}
	return k;
}

void skiff_stack_tx_requeue(struct skiff_stack *st, int ifindex, struct skiff_pkt **pkts, unsigned n)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	if (!ifc) {
		skiff_pkt_free_burst(pkts, n);
		return;
	}
	/* Put back in front, last first, so order is kept. */
	for (unsigned i = n; i-- > 0;) {
		if (ifc->tx_count > ifc->tx_mask) {
			skiff_drop(st, SKIFF_DROP_TX_QUEUE_FULL, pkts[i]);
			continue;
		}
		ifc->tx_head = (ifc->tx_head - 1) & ifc->tx_mask;
		ifc->txq[ifc->tx_head] = pkts[i];
		ifc->tx_count++;
	}
}
