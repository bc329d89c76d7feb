/* neigh.c — the neighbour cache for both families: ARP (IPv4) and the
 * Neighbour Discovery cache (IPv6, RFC 4861 7.3), one table, one state machine.
 *
 * Output: neigh_output4/6 → (broadcast/multicast: direct MAC) → lookup entry →
 *   REACHABLE/DELAY/PROBE: frame and send; STALE: send, and start a unicast
 *   probe (IPv4, RFC 1122 2.3.2.1) or enter DELAY (IPv6, RFC 4861 7.3.3) →
 *   INCOMPLETE: hold (bounded per entry and in total) → none: create, request
 *   (ARP request, or NS to the solicited-node group).
 * Input: arp_input validates (RFC 826 packet reception algorithm, in its order),
 *   merges the sender into an existing entry, answers requests for our addresses
 *   (rate limited), and releases held packets once an entry resolves. IPv6
 *   messages are parsed by nd.c, which calls skiff_neigh_nd_update with what
 *   RFC 4861 7.2.3 / 7.2.5 / 6.3.4 let it learn.
 * Timers: one per entry; what it does depends on the state (retry, age, delay,
 *   collect).
 */
#include "neigh.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "eth.h"
#include "icmp4.h"
#include "ip6.h"
#include "nd.h"
#include "nd_msg.h"
#include "route6.h"
#include "stack.h"
#include "wire_arp.h"
#include "wire_eth.h"

struct neigh_entry {
	uint8_t key[16];               /* IPv4: its 4 bytes (network order) then zeros; IPv6: the address */
	uint8_t family;                /* SKIFF_AF_INET / SKIFF_AF_INET6 */
	int32_t hnext;                 /* bucket chain (index), -1 ends */
	uint8_t ifindex;
	uint8_t state;
	uint8_t probes;
	uint8_t mac[6];
	uint64_t used;                 /* last time output used it */
	struct skiff_timer timer;
	struct skiff_pkt *hold_head, *hold_tail;
	unsigned hold_n;               /* datagrams held */
	unsigned hold_frames;          /* frames they take from the pool */
};

struct skiff_neigh_table {
	unsigned cap, mask, live;
	unsigned hold_total;           /* frames held over all entries */
	int32_t free_head;
	int32_t *bucket;
	struct neigh_entry *e;
};

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void neigh_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now);

int skiff_neigh_table_create(struct skiff_stack *st)
{
	struct skiff_neigh_table *t = calloc(1, sizeof(*t));
	unsigned cap = st->cfg.neigh_entries, nb = 1;
	if (!t)
		return -ENOMEM;
	while (nb < cap)
		nb <<= 1;
	t->cap = cap;
	t->mask = nb - 1;
	t->bucket = malloc(nb * sizeof(*t->bucket));
	t->e = calloc(cap, sizeof(*t->e));
	if (!t->bucket || !t->e) {
		free(t->bucket);
		free(t->e);
		free(t);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < nb; i++)
		t->bucket[i] = -1;
	for (unsigned i = 0; i < cap; i++) {
		t->e[i].hnext = (int32_t)i + 1 < (int32_t)cap ? (int32_t)i + 1 : -1;
		skiff_timer_init(&t->e[i].timer, neigh_timer_fn);
	}
	t->free_head = 0;
	st->neigh = t;
	return 0;
}

void skiff_neigh_table_destroy(struct skiff_stack *st)
{
	struct skiff_neigh_table *t = st->neigh;
	if (!t)
		return;
	for (unsigned i = 0; i < t->cap; i++)
		skiff_pkt_free_list(t->e[i].hold_head);
	free(t->bucket);
	free(t->e);
	free(t);
	st->neigh = NULL;
}

static void key4(uint32_t ip, uint8_t key[16])
{
	memset(key, 0, 16);
	st32(key, ip);
}

static unsigned bucket_of(const struct skiff_neigh_table *t, const uint8_t *key, int ifindex)
{
	uint32_t h = ld32(key) ^ ld32(key + 4) * 0x85ebca6bu ^ ld32(key + 8) * 0xc2b2ae35u ^ ld32(key + 12);
	h = (h ^ ((uint32_t)ifindex << 24)) * 0x9e3779b1u;
	return (h >> 16) & t->mask;
}

static struct neigh_entry *find(struct skiff_neigh_table *t, uint8_t family, const uint8_t *key, int ifindex)
{
	for (int32_t i = t->bucket[bucket_of(t, key, ifindex)]; i >= 0; i = t->e[i].hnext) {
		struct neigh_entry *e = &t->e[i];
		if (e->family == family && e->ifindex == ifindex && !memcmp(e->key, key, 16))
			return e;
	}
	return NULL;
}

static struct neigh_entry *find4(struct skiff_neigh_table *t, uint32_t ip, int ifindex)
{
	uint8_t key[16];
	key4(ip, key);
	return find(t, SKIFF_AF_INET, key, ifindex);
}

static void entry_free(struct skiff_stack *st, struct neigh_entry *e)
{
	struct skiff_neigh_table *t = st->neigh;
	int32_t idx = (int32_t)(e - t->e);
	int32_t *pp = &t->bucket[bucket_of(t, e->key, e->ifindex)];

	while (*pp >= 0 && *pp != idx)
		pp = &t->e[*pp].hnext;
	if (*pp == idx)
		*pp = e->hnext;
	skiff_timer_cancel(&st->timers, &e->timer);
	t->hold_total -= e->hold_frames;
	st->ctr.drop[SKIFF_DROP_ARP_TABLE_FULL] += e->hold_n;
	skiff_pkt_free_list(e->hold_head);
	e->hold_head = e->hold_tail = NULL;
	e->hold_n = e->hold_frames = 0;
	e->state = SKIFF_NEIGH_NONE;
	e->hnext = t->free_head;
	t->free_head = idx;
	t->live--;
}

/* Entry to recycle when the table is full: the least recently used STALE one,
 * else the oldest INCOMPLETE one (Linux's forced gc takes unresolved entries too,
 * so a flood of packets to unanswered addresses cannot lock the table; its held
 * datagrams count as ARP_TABLE_FULL drops). REACHABLE and PROBE entries stay. */
static struct neigh_entry *victim(struct skiff_neigh_table *t)
{
	struct neigh_entry *stale = NULL, *inc = NULL;
	for (unsigned i = 0; i < t->cap; i++) {
		struct neigh_entry *e = &t->e[i];
		if (e->state == SKIFF_NEIGH_STALE && (!stale || e->used < stale->used))
			stale = e;
		else if (e->state == SKIFF_NEIGH_INCOMPLETE && (!inc || e->used < inc->used))
			inc = e;
	}
	return stale ? stale : inc;
}

static struct neigh_entry *entry_new(struct skiff_stack *st, uint8_t family, const uint8_t *key, int ifindex,
				     uint8_t state)
{
	struct skiff_neigh_table *t = st->neigh;
	struct neigh_entry *e;
	unsigned b;

	if (t->free_head < 0) {
		struct neigh_entry *v = victim(t);
		if (!v)
			return NULL;
		entry_free(st, v);
	}
	e = &t->e[t->free_head];
	t->free_head = e->hnext;
	memcpy(e->key, key, 16);
	e->family = family;
	e->ifindex = (uint8_t)ifindex;
	e->state = state;
	e->probes = 0;
	memset(e->mac, 0, 6);
	e->used = st->now;
	e->hold_head = e->hold_tail = NULL;
	e->hold_n = e->hold_frames = 0;
	b = bucket_of(t, key, ifindex);
	e->hnext = t->bucket[b];
	t->bucket[b] = (int32_t)(e - t->e);
	t->live++;
	return e;
}

static void arp_send(struct skiff_stack *st, struct skiff_iface *ifc, uint16_t op, const uint8_t *eth_dst,
		     const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
	struct skiff_pkt *p = skiff_iface_alloc(ifc);
	struct arp_repr a;
	uint8_t *h;

	if (!p) {
		skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
		return;
	}
	h = skiff_pkt_put(p, ARP_LEN);
	a.op = op;
	memcpy(a.sha, ifc->mac, 6);
	a.spa = spa;
	memcpy(a.tha, tha, 6);
	a.tpa = tpa;
	arp_emit(h, &a);
	if (op == ARP_OP_REQUEST)
		st->ctr.arp_req_out++;
	else
		st->ctr.arp_reply_out++;
	skiff_eth_output(st, ifc, eth_dst, ETH_TYPE_ARP, p);
}

/* Source address for a request about `ip`: ours on the same subnet, else the first. */
static uint32_t request_src(const struct skiff_iface *ifc, uint32_t ip)
{
	for (unsigned i = 0; i < ifc->n_v4; i++) {
		uint32_t m = ip4_prefix_mask(ifc->v4[i].plen);
		if ((ifc->v4[i].addr & m) == (ip & m))
			return ifc->v4[i].addr;
	}
	return ifc->n_v4 ? ifc->v4[0].addr : 0;
}

/* RFC 4861 7.2.2: a solicitation for the entry's address, multicast to its
 * solicited-node group while resolving, unicast to the cached MAC when probing;
 * the source is an address of ours on the link, preferring the one the held
 * packet uses (any usable one here), with our MAC as the source link-layer
 * option. No usable address yet (DAD running): nothing is sent, the retry
 * timer still runs. */
static void send_ns(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t *target, const uint8_t *mac)
{
	uint8_t src[16], dmac[6], group[16];
	struct skiff_pkt *p;
	int n;

	if (skiff_ip6_select_src(st, ifc->index, target, src))
		return;
	p = skiff_iface_alloc(ifc);
	if (!p) {
		skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
		return;
	}
	/* RFC 4429 3.3: no source link-layer option from an optimistic address
	 * (it would override the cache entry of the address's real owner) */
	n = nd_build_ns(skiff_pkt_data(p), skiff_pkt_tailroom(p), mac ? ND_NS_UNICAST : ND_NS_MULTICAST, src, target,
			skiff_nd_addr_optimistic(st, ifc->index, src) ? NULL : ifc->mac);
	if (n < 0) {
		skiff_pkt_free(p);
		return;
	}
	skiff_pkt_put(p, (uint32_t)n);
	p->l3_off = (uint16_t)p->off;
	if (mac) {
		memcpy(dmac, mac, 6);
	} else {
		ip6_solicited_node(target, group);
		ip6_mcast_mac(group, dmac);
	}
	st->ctr.nd_ns_out++;
	st->ctr.ip6_out++;
	skiff_eth_output(st, ifc, dmac, ETH_TYPE_IP6, p);
}

static void send_request(struct skiff_stack *st, struct neigh_entry *e, bool unicast)
{
	static const uint8_t zero[6];
	struct skiff_iface *ifc = &st->ifaces[e->ifindex];
	uint32_t ip = ld32(e->key);
	if (e->family == SKIFF_AF_INET6)
		send_ns(st, ifc, e->key, unicast ? e->mac : NULL);
	else
		arp_send(st, ifc, ARP_OP_REQUEST, unicast ? e->mac : bcast_mac, zero, request_src(ifc, ip), ip);
}

static void frame_and_send(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t *mac, uint16_t type,
			   struct skiff_pkt *p)
{
	while (p) {
		struct skiff_pkt *nx = p->chain;
		p->chain = NULL;
		p->next = NULL;
		skiff_eth_output(st, ifc, mac, type, p);
		p = nx;
	}
}

static uint16_t ethertype(const struct neigh_entry *e)
{
	return e->family == SKIFF_AF_INET6 ? ETH_TYPE_IP6 : ETH_TYPE_IP4;
}

static void flush_hold(struct skiff_stack *st, struct neigh_entry *e)
{
	struct skiff_pkt *p = e->hold_head;
	struct skiff_iface *ifc = &st->ifaces[e->ifindex];
	st->neigh->hold_total -= e->hold_frames;
	e->hold_head = e->hold_tail = NULL;
	e->hold_n = e->hold_frames = 0;
	while (p) {
		struct skiff_pkt *nx = p->next;
		p->next = NULL;
		frame_and_send(st, ifc, e->mac, ethertype(e), p);
		p = nx;
	}
}

/* RFC 1122 2.3.2.2 / RFC 4861 7.2.2: resolution failed — tell each held
 * packet's sender (ICMP host unreachable, ICMPv6 address unreachable). */
static void fail_hold(struct skiff_stack *st, struct neigh_entry *e, uint64_t now)
{
	struct skiff_pkt *p = e->hold_head;
	st->neigh->hold_total -= e->hold_frames;
	e->hold_head = e->hold_tail = NULL;
	e->hold_n = e->hold_frames = 0;
	while (p) {
		struct skiff_pkt *nx = p->next;
		p->next = NULL;
		st->ctr.drop[SKIFF_DROP_ARP_UNRESOLVED]++;
		if (e->family == SKIFF_AF_INET6)
			skiff_icmp6_send_error(st, p, ICMP6_DST_UNREACH, ICMP6_DU_ADDR, 0, now);
		else
			skiff_icmp4_send_error(st, p, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 0, now);
		skiff_pkt_free(p);
		p = nx;
	}
}

static unsigned chain_frames(const struct skiff_pkt *p)
{
	unsigned n = 0;
	for (; p; p = p->chain)
		n++;
	return n;
}

/* Hold a datagram (a chain of fragment frames) until the entry resolves. Bounds:
 * neigh_hold_per_entry datagrams per entry (Linux unres_qlen) and neigh_hold_total
 * frames over the table, so unresolvable destinations can pin only that much of the
 * pool. Over a bound the oldest datagrams of this entry go first (RFC 1122 2.3.2.2
 * SHOULD keep the latest); a datagram that cannot fit even then is dropped. */
static void hold(struct skiff_stack *st, struct neigh_entry *e, struct skiff_pkt *p)
{
	struct skiff_neigh_table *t = st->neigh;
	unsigned nf = chain_frames(p);

	if (nf > st->cfg.neigh_hold_total || st->cfg.neigh_hold_per_entry == 0) {
		skiff_drop(st, SKIFF_DROP_ARP_HOLD_FULL, p);
		return;
	}
	while (e->hold_n >= st->cfg.neigh_hold_per_entry || t->hold_total + nf > st->cfg.neigh_hold_total) {
		struct skiff_pkt *old = e->hold_head;
		unsigned of;
		if (!old) {
			skiff_drop(st, SKIFF_DROP_ARP_HOLD_FULL, p);
			return;
		}
		of = chain_frames(old);
		e->hold_head = old->next;
		if (!e->hold_head)
			e->hold_tail = NULL;
		e->hold_n--;
		e->hold_frames -= of;
		t->hold_total -= of;
		old->next = NULL;
		skiff_drop(st, SKIFF_DROP_ARP_HOLD_FULL, old);
	}
	p->next = NULL;
	if (e->hold_tail)
		e->hold_tail->next = p;
	else
		e->hold_head = p;
	e->hold_tail = p;
	e->hold_n++;
	e->hold_frames += nf;
	t->hold_total += nf;
}

/* RetransTimer and ReachableTime: an RA's values on IPv6 links (RFC 4861 6.3.4), else the stack's. */
static uint64_t retrans_ns(const struct skiff_stack *st, const struct neigh_entry *e)
{
	const struct skiff_iface *ifc = &st->ifaces[e->ifindex];
	return e->family == SKIFF_AF_INET6 && ifc->nd_retrans_ns ? ifc->nd_retrans_ns : st->cfg.arp_retrans_ns;
}

static uint64_t reachable_ns(const struct skiff_stack *st, const struct neigh_entry *e)
{
	const struct skiff_iface *ifc = &st->ifaces[e->ifindex];
	return e->family == SKIFF_AF_INET6 && ifc->nd_reachable_ns ? ifc->nd_reachable_ns : st->cfg.neigh_reachable_ns;
}

static void neigh_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now)
{
	struct neigh_entry *e = (struct neigh_entry *)((char *)t - offsetof(struct neigh_entry, timer));

	switch (e->state) {
	case SKIFF_NEIGH_INCOMPLETE:
		if (e->probes < st->cfg.arp_retries) {
			e->probes++;
			send_request(st, e, false);
			skiff_timer_arm(&st->timers, &e->timer, now + retrans_ns(st, e));
		} else {
			fail_hold(st, e, now);
			entry_free(st, e);
		}
		break;
	case SKIFF_NEIGH_PROBE:
		if (e->probes < st->cfg.arp_retries) {
			e->probes++;
			send_request(st, e, true);
			skiff_timer_arm(&st->timers, &e->timer, now + retrans_ns(st, e));
		} else {
			entry_free(st, e);
		}
		break;
	case SKIFF_NEIGH_DELAY: /* RFC 4861 7.3.3: no confirmation came: probe */
		e->state = SKIFF_NEIGH_PROBE;
		e->probes = 1;
		send_request(st, e, true);
		skiff_timer_arm(&st->timers, &e->timer, now + retrans_ns(st, e));
		break;
	case SKIFF_NEIGH_REACHABLE:
		e->state = SKIFF_NEIGH_STALE;
		skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
		break;
	case SKIFF_NEIGH_STALE:
		if (e->used + st->cfg.neigh_gc_ns > now)
			skiff_timer_arm(&st->timers, &e->timer, e->used + st->cfg.neigh_gc_ns);
		else
			entry_free(st, e);
		break;
	default:
		break;
	}
}

static void make_reachable(struct skiff_stack *st, struct neigh_entry *e, const uint8_t *mac, uint64_t now)
{
	memcpy(e->mac, mac, 6);
	e->state = SKIFF_NEIGH_REACHABLE;
	e->probes = 0;
	skiff_timer_arm(&st->timers, &e->timer, now + reachable_ns(st, e));
	if (e->hold_head)
		flush_hold(st, e);
}

void skiff_eth_mcast_mac4(uint32_t group, uint8_t mac[6])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((group >> 16) & 0x7f);
	mac[4] = (uint8_t)(group >> 8);
	mac[5] = (uint8_t)group;
}

static void output(struct skiff_stack *st, struct skiff_iface *ifc, uint8_t family, const uint8_t *key,
		   struct skiff_pkt *p, uint64_t now);

void skiff_neigh_output4(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t nexthop, struct skiff_pkt *p,
			 uint64_t now)
{
	uint8_t mac[6], key[16];

	if (ip4_is_limited_bcast(nexthop) || skiff_stack_is_bcast4(st, nexthop)) {
		frame_and_send(st, ifc, bcast_mac, ETH_TYPE_IP4, p);
		return;
	}
	if (ip4_is_multicast(nexthop)) {
		skiff_eth_mcast_mac4(nexthop, mac);
		frame_and_send(st, ifc, mac, ETH_TYPE_IP4, p);
		return;
	}
	key4(nexthop, key);
	output(st, ifc, SKIFF_AF_INET, key, p, now);
}

void skiff_neigh_output6(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t nexthop[16],
			 struct skiff_pkt *p, uint64_t now)
{
	uint8_t mac[6];

	if (ip6_is_multicast(nexthop)) { /* RFC 2464 7 */
		ip6_mcast_mac(nexthop, mac);
		frame_and_send(st, ifc, mac, ETH_TYPE_IP6, p);
		return;
	}
	output(st, ifc, SKIFF_AF_INET6, nexthop, p, now);
}

static void output(struct skiff_stack *st, struct skiff_iface *ifc, uint8_t family, const uint8_t *key,
		   struct skiff_pkt *p, uint64_t now)
{
	struct neigh_entry *e = find(st->neigh, family, key, ifc->index);

	if (!e) {
		e = entry_new(st, family, key, ifc->index, SKIFF_NEIGH_INCOMPLETE);
		if (!e) {
			skiff_drop(st, SKIFF_DROP_ARP_TABLE_FULL, p);
			return;
		}
		hold(st, e, p);
		/* the first request counts: arp_retries requests in all, as in PROBE
		 * (and as Linux's mcast_solicit) */
		e->probes = 1;
		send_request(st, e, false);
		skiff_timer_arm(&st->timers, &e->timer, now + retrans_ns(st, e));
		return;
	}
	e->used = now;
	switch (e->state) {
	case SKIFF_NEIGH_INCOMPLETE:
		hold(st, e, p);
		return;
	case SKIFF_NEIGH_STALE:
		if (family == SKIFF_AF_INET6) {
			/* RFC 4861 7.3.3: send, wait DELAY_FIRST_PROBE_TIME for an
			 * upper-layer or NA confirmation, then probe */
			e->state = SKIFF_NEIGH_DELAY;
			skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.nd_delay_first_probe_ns);
			break;
		}
		/* RFC 1122 2.3.2.1: revalidate a stale entry by unicast probes. */
		e->state = SKIFF_NEIGH_PROBE;
		e->probes = 1;
		send_request(st, e, true);
		skiff_timer_arm(&st->timers, &e->timer, now + retrans_ns(st, e));
		break;
	default:
		break;
	}
	frame_and_send(st, ifc, e->mac, ethertype(e), p);
}

void skiff_arp_announce(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t addr, uint64_t now)
{
	static const uint8_t zero[6];
	(void)now;
	arp_send(st, ifc, ARP_OP_REQUEST, bcast_mac, zero, addr, addr);
}

static bool is_our_addr_on(const struct skiff_iface *ifc, uint32_t a)
{
	for (unsigned i = 0; i < ifc->n_v4; i++)
		if (ifc->v4[i].addr == a)
			return true;
	return false;
}

void skiff_arp_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	struct arp_repr a;
	struct neigh_entry *e;
	bool merged = false, for_us;
	int rc = arp_parse(&v, &a);

	st->ctr.arp_in++;
	/* RFC 826 reception: hardware type, protocol type, lengths. */
	if (rc == -EBADMSG) {
		skiff_drop(st, SKIFF_DROP_ARP_SHORT, p);
		return;
	}
	if (rc) {
		skiff_drop(st, SKIFF_DROP_ARP_UNSUPPORTED, p);
		return;
	}
	if (a.op != ARP_OP_REQUEST && a.op != ARP_OP_REPLY) {
		skiff_drop(st, SKIFF_DROP_ARP_BAD_OP, p);
		return;
	}
	/* Sanity: a sender MAC that is multicast/broadcast/zero, or a sender claiming one
	 * of our addresses (conflict), or a multicast/broadcast sender IP, is not merged. */
	if (eth_is_mcast(a.sha) || eth_is_zero(a.sha) || ip4_is_multicast(a.spa) || ip4_is_limited_bcast(a.spa) ||
	    (a.spa != 0 && is_our_addr_on(ifc, a.spa))) {
		skiff_drop(st, SKIFF_DROP_ARP_BAD_SENDER, p);
		return;
	}
	for_us = is_our_addr_on(ifc, a.tpa);
	/* Merge: update an existing entry for the sender. */
	if (a.spa != 0) {
		e = find4(st->neigh, a.spa, ifc->index);
		if (e) {
			merged = true;
			if (for_us && a.op == ARP_OP_REPLY) {
				make_reachable(st, e, a.sha, now);
			} else if (e->state == SKIFF_NEIGH_INCOMPLETE) {
				/* learnt from a request or a broadcast, not confirmed: STALE
				 * (as Linux's neigh_update), and the held packets can go */
				memcpy(e->mac, a.sha, 6);
				e->state = SKIFF_NEIGH_STALE;
				e->probes = 0;
				e->used = now;
				skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
				flush_hold(st, e);
			} else if (memcmp(e->mac, a.sha, 6) != 0) {
				memcpy(e->mac, a.sha, 6);
				e->state = SKIFF_NEIGH_STALE;
				skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
			}
		}
	}
	if (!for_us) {
		skiff_drop(st, SKIFF_DROP_ARP_NOT_FOR_US, p);
		return;
	}
	/* We are the target: add the sender if it was new (as STALE: not confirmed by
	 * our own request), then answer requests. */
	if (!merged && a.spa != 0) {
		uint8_t key[16];
		key4(a.spa, key);
		e = entry_new(st, SKIFF_AF_INET, key, ifc->index, SKIFF_NEIGH_STALE);
		if (e) {
			memcpy(e->mac, a.sha, 6);
			skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
		}
	}
	if (a.op == ARP_OP_REQUEST) {
		if (!skiff_tokens_take(&st->arp_reply_tb, now)) {
			skiff_drop(st, SKIFF_DROP_ARP_REPLY_LIMITED, p);
			return;
		}
		arp_send(st, ifc, ARP_OP_REPLY, a.sha, a.sha, a.tpa, a.spa);
	}
	skiff_pkt_free(p);
}

enum skiff_neigh_state skiff_neigh_lookup4(struct skiff_stack *st, int ifindex, uint32_t ip, uint8_t mac[6])
{
	struct neigh_entry *e = find4(st->neigh, ip, ifindex);
	if (!e)
		return SKIFF_NEIGH_NONE;
	if (mac)
		memcpy(mac, e->mac, 6);
	return (enum skiff_neigh_state)e->state;
}

unsigned skiff_neigh_held(const struct skiff_stack *st)
{
	return st->neigh->hold_total;
}

enum skiff_neigh_state skiff_neigh_lookup6(struct skiff_stack *st, int ifindex, const uint8_t ip[16], uint8_t mac[6])
{
	struct neigh_entry *e = find(st->neigh, SKIFF_AF_INET6, ip, ifindex);
	if (!e)
		return SKIFF_NEIGH_NONE;
	if (mac)
		memcpy(mac, e->mac, 6);
	return (enum skiff_neigh_state)e->state;
}

/* Learn `mac` for ip from a message that does not confirm reachability: an NS's
 * or RS's source link-layer option, an RA's (RFC 4861 7.2.3, 6.3.4): create as
 * STALE, or move to STALE when the address changed; an INCOMPLETE entry's held
 * packets go. */
static void learn_unconfirmed(struct skiff_stack *st, struct skiff_iface *ifc, struct neigh_entry *e,
			      const uint8_t ip[16], const uint8_t mac[6], uint64_t now)
{
	if (!e) {
		e = entry_new(st, SKIFF_AF_INET6, ip, ifc->index, SKIFF_NEIGH_STALE);
		if (!e)
			return;
		memcpy(e->mac, mac, 6);
		skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
		return;
	}
	if (e->state != SKIFF_NEIGH_INCOMPLETE && !memcmp(e->mac, mac, 6))
		return;
	memcpy(e->mac, mac, 6);
	e->state = SKIFF_NEIGH_STALE;
	e->probes = 0;
	e->used = now;
	skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
	if (e->hold_head)
		flush_hold(st, e);
}

void skiff_neigh_nd_update(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t ip[16], const uint8_t *mac,
			   unsigned how, uint64_t now)
{
	struct neigh_entry *e = find(st->neigh, SKIFF_AF_INET6, ip, ifc->index);
	bool solicited = how & SKIFF_ND_SOLICITED, override = how & SKIFF_ND_OVERRIDE;

	if (!(how & SKIFF_ND_ADVERT)) {
		if (mac)
			learn_unconfirmed(st, ifc, e, ip, mac, now);
		return;
	}
	/* RFC 4861 7.2.5: an NA for an address without an entry is dropped */
	if (!e)
		return;
	if (e->state == SKIFF_NEIGH_INCOMPLETE) {
		if (!mac)
			return;
		if (solicited) {
			make_reachable(st, e, mac, now);
		} else {
			learn_unconfirmed(st, ifc, e, ip, mac, now);
		}
		return;
	}
	if (!override && mac && memcmp(mac, e->mac, 6)) {
		/* a different address without Override: only downgrade a REACHABLE entry */
		if (e->state == SKIFF_NEIGH_REACHABLE) {
			e->state = SKIFF_NEIGH_STALE;
			skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
		}
		return;
	}
	if (solicited) {
		make_reachable(st, e, mac ? mac : e->mac, now);
	} else if (mac && memcmp(mac, e->mac, 6)) {
		memcpy(e->mac, mac, 6);
		e->state = SKIFF_NEIGH_STALE;
		skiff_timer_arm(&st->timers, &e->timer, now + st->cfg.neigh_gc_ns);
	}
}

void skiff_neigh_confirm6(struct skiff_stack *st, int ifindex, const uint8_t ip[16], uint64_t now)
{
	struct neigh_entry *e = find(st->neigh, SKIFF_AF_INET6, ip, ifindex);
	if (e && (e->state == SKIFF_NEIGH_STALE || e->state == SKIFF_NEIGH_DELAY || e->state == SKIFF_NEIGH_PROBE))
		make_reachable(st, e, e->mac, now);
	else if (e && e->state == SKIFF_NEIGH_REACHABLE)
		skiff_timer_arm(&st->timers, &e->timer, now + reachable_ns(st, e));
}
