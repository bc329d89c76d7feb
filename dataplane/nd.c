/* nd.c — IPv6 Neighbour Discovery (RFC 4861) and stateless address
 * autoconfiguration (RFC 4862) on the stack's interfaces.
 *
 * Addresses: add_addr6 → TENTATIVE → DAD (RFC 4862 5.4: dad_transmits NS from
 *   ::, one RetransTimer apart, the first after a random delay up to
 *   MAX_RTR_SOLICITATION_DELAY) → PREFERRED, or DUPLICATE when an NS from ::
 *   or an NA for it arrives first (5.4.3, 5.4.4). enable_ip6 adds the EUI-64
 *   link-local (5.3); once it is PREFERRED, router solicitations go out
 *   (RFC 4861 6.3.7) until an RA answers.
 * Input (nd_parse has checked each message, RFC 4861 6.1, 7.1, 8.1):
 *   NS → target ours? tentative: DAD conflict (from ::) or ignore; else learn the
 *     source's link-layer address (7.2.3) and answer an NA (7.2.4).
 *   NA → target ours? tentative: DAD failed; usable: dropped (spoofing, not
 *     merged); else the cache update of 7.2.5 (neigh.c).
 *   RA → (nd_accept_ra) hop limit, reachable/retrans time, MTU, default router
 *     with its lifetime, on-link prefixes, SLAAC addresses (RFC 4862 5.5.3).
 *   RS → a host ignores it (6.2.6 is a router's), after learning nothing.
 *   Redirect → ignored unless nd_accept_redirects, then only from the current
 *     first-hop router for the destination (8.1): a host route.
 * Timer: one per interface; each run does what is due and re-arms for the next.
 */
#include "nd.h"

#include <errno.h>
#include <string.h>

#include "ip6.h"
#include "mld.h" /* MLD glue */
#include "nd_msg.h"
#include "neigh.h"
#include "route6.h"
#include "siphash.h"
#include "stack.h"
#include "timer.h"
#include "wire_icmp6.h"

#define ND_RTR_SOLICIT_DELAY_NS 1000000000ull /* MAX_RTR_SOLICITATION_DELAY (RFC 4861 10) */
#define ND_REDIRECT_TTL_NS (600ull * 1000000000ull)
#define NS_PER_S 1000000000ull

static uint64_t retrans(const struct skiff_stack *st, const struct skiff_iface *ifc)
{
	return ifc->nd_retrans_ns ? ifc->nd_retrans_ns : st->cfg.arp_retrans_ns;
}

static uint64_t lifetime_to(uint64_t now, uint32_t secs)
{
	return secs == ND_LIFETIME_INFINITE ? UINT64_MAX : now + (uint64_t)secs * NS_PER_S;
}

/* ---- sending ---- */

static struct skiff_if_addr6 *addr_find(struct skiff_iface *ifc, const uint8_t *addr)
{
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (!memcmp(ifc->v6[k].addr, addr, 16))
			return &ifc->v6[k];
	return NULL;
}


static struct skiff_pkt *nd_frame(struct skiff_stack *st, struct skiff_iface *ifc)
{
	struct skiff_pkt *p = skiff_iface_alloc(ifc);
	if (!p)
		skiff_count_drop(st, SKIFF_DROP_IP6_NO_BUF);
	return p;
}

static void nd_send(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, int len,
		    const uint8_t *dst, uint64_t now)
{
	struct skiff_route_res6 rt;
	if (len < 0) {
		skiff_pkt_free(p);
		return;
	}
	skiff_pkt_put(p, (uint32_t)len);
	memset(&rt, 0, sizeof(rt));
	rt.ifindex = ifc->index;
	memcpy(rt.nexthop, dst, 16);
	rt.mtu = ifc->mtu;
	st->ctr.icmp6_out++;
	skiff_ip6_output_packet(st, &rt, p, now);
}

static void send_dad_ns(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t *target, uint64_t now)
{
	uint8_t group[16];
	struct skiff_pkt *p = nd_frame(st, ifc);
	if (!p)
		return;
	ip6_solicited_node(target, group);
	st->ctr.nd_ns_out++;
	nd_send(st, ifc, p, nd_build_ns(skiff_pkt_data(p), skiff_pkt_tailroom(p), ND_NS_DAD, NULL, target, NULL), group,
		now);
}

static void send_rs(struct skiff_stack *st, struct skiff_iface *ifc, uint64_t now)
{
	static const uint8_t all_routers[16] = IP6_ADDR_ALL_ROUTERS;
	uint8_t src[16];
	struct skiff_pkt *p;
	bool have = skiff_ip6_select_src(st, ifc->index, all_routers, src) == 0;

	p = nd_frame(st, ifc);
	if (!p)
		return;
	st->ctr.nd_rs_out++;
	nd_send(st, ifc, p,
		nd_build_rs(skiff_pkt_data(p), skiff_pkt_tailroom(p), have ? src : NULL, have ? ifc->mac : NULL),
		all_routers, now);
}

/* RFC 4861 7.2.4: answer an NS for our `target`. */
static void send_na(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t *ns_src, const uint8_t *target,
		    uint64_t now)
{
	uint8_t dst[16];
	const struct skiff_if_addr6 *a = addr_find(ifc, target);
	/* RFC 4429 3.3: an optimistic address never overrides another's cache entry */
	uint8_t flags = (uint8_t)(nd_na_reply_to(ns_src, dst) |
				  (a && a->state == SKIFF_ADDR6_OPTIMISTIC ? 0 : ND_NA_OVERRIDE));
	struct skiff_pkt *p = nd_frame(st, ifc);
	if (!p)
		return;
	st->ctr.nd_na_out++;
	nd_send(st, ifc, p, nd_build_na(skiff_pkt_data(p), skiff_pkt_tailroom(p), target, dst, target, flags, ifc->mac),
		dst, now);
}

/* ---- the interface timer ---- */

static bool dad_running(const struct skiff_if_addr6 *a)
{
	return a->state == SKIFF_ADDR6_TENTATIVE || a->state == SKIFF_ADDR6_OPTIMISTIC;
}

static void rearm(struct skiff_stack *st, struct skiff_iface *ifc)
{
	uint64_t next = UINT64_MAX;
	for (unsigned k = 0; k < ifc->n_v6; k++) {
		const struct skiff_if_addr6 *a = &ifc->v6[k];
		if (dad_running(a) && a->dad_at < next)
			next = a->dad_at;
		if (a->autoconf && a->state == SKIFF_ADDR6_PREFERRED && a->preferred_until < next)
			next = a->preferred_until;
		if (a->autoconf && a->valid_until < next)
			next = a->valid_until;
	}
	if (ifc->rs_left && ifc->rs_at < next)
		next = ifc->rs_at;
	/* routes with lifetimes are expired lazily by lookups; collect them now and then */
	if (next == UINT64_MAX)
		next = st->now + 60 * NS_PER_S;
	skiff_timer_arm(&st->timers, &ifc->nd_timer, next);
}

/* Remove address k and the on-link route it brought (add_addr6). */
static void addr_remove_at(struct skiff_stack *st, struct skiff_iface *ifc, unsigned k)
{
	const struct skiff_if_addr6 *a = &ifc->v6[k];
	if (a->plen < 128 && !ip6_is_link_local(a->addr))
		(void)skiff_route6_del(st, a->addr, a->plen, NULL, ifc->index);
	ifc->v6[k] = ifc->v6[--ifc->n_v6];
	st->route_gen++;
}

void skiff_nd_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now)
{
	struct skiff_iface *ifc = (struct skiff_iface *)((char *)t - offsetof(struct skiff_iface, nd_timer));

	skiff_mld_nd_sync(st, ifc, now); /* solicited-node groups joined before DAD's NS (RFC 4862 5.4.2; mld.c) */
	for (unsigned k = ifc->n_v6; k-- > 0;) {
		struct skiff_if_addr6 *a = &ifc->v6[k];
		if (a->autoconf && a->valid_until <= now) { /* RFC 4862 5.5.4: invalid, removed */
			addr_remove_at(st, ifc, k);
			continue;
		}
		if (a->autoconf && a->state == SKIFF_ADDR6_PREFERRED && a->preferred_until <= now) {
			a->state = SKIFF_ADDR6_DEPRECATED;
			st->route_gen++;
		}
		if (!dad_running(a) || a->dad_at > now)
			continue;
		if (a->dad_left) {
			a->dad_left--;
			send_dad_ns(st, ifc, a->addr, now);
			a->dad_at = now + retrans(st, ifc);
			continue;
		}
		/* RFC 4862 5.4.5 not reached: the address is unique */
		a->state = SKIFF_ADDR6_PREFERRED;
		st->route_gen++;
		if (ip6_is_link_local(a->addr) && st->cfg.nd_rtr_solicits && !ifc->rs_left) {
			ifc->rs_left = (uint8_t)st->cfg.nd_rtr_solicits;
			ifc->rs_at = now + skiff_rand64(st) % ND_RTR_SOLICIT_DELAY_NS;
		}
	}
	if (ifc->rs_left && ifc->rs_at <= now) {
		ifc->rs_left--;
		send_rs(st, ifc, now);
		ifc->rs_at = now + st->cfg.nd_rtr_solicit_ns;
	}
	skiff_route6_expire(st, now);
	skiff_mld_nd_sync(st, ifc, now); /* ... and left with addresses that expired above (mld.c) */
	rearm(st, ifc);
}

/* ---- addresses ---- */

int skiff_stack_local6(const struct skiff_stack *st, const uint8_t addr[16], int ifindex, bool usable)
{
	bool ll = ip6_is_link_local(addr);
	if (ip6_is_loopback(addr))
		return st->lo_ifindex;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		const struct skiff_iface *ifc = &st->ifaces[i];
		if (!ifc->used || (ll && ifindex >= 0 && i != ifindex))
			continue;
		for (unsigned k = 0; k < ifc->n_v6; k++) {
			const struct skiff_if_addr6 *a = &ifc->v6[k];
			if (memcmp(a->addr, addr, 16))
				continue;
			if (!usable || a->state == SKIFF_ADDR6_PREFERRED || a->state == SKIFF_ADDR6_DEPRECATED ||
			    a->state == SKIFF_ADDR6_OPTIMISTIC)
				return i;
		}
	}
	return -1;
}


static int addr_add(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t addr[16], unsigned plen,
		    bool autoconf, uint64_t now)
{
	struct skiff_if_addr6 *a;

	if (ip6_is_multicast(addr) || ip6_is_unspecified(addr) || ip6_is_loopback(addr) || ip6_is_v4mapped(addr) ||
	    plen == 0 || plen > 128)
		return -EINVAL;
	if (skiff_stack_local6(st, addr, ifc->index, false) >= 0)
		return -EEXIST;
	if (ifc->n_v6 == SKIFF_MAX_IF_ADDRS)
		return -ENOSPC;
	if (plen < 128 && !ip6_is_link_local(addr)) {
		int rc = skiff_route6_add(st, addr, plen, NULL, ifc->index, 256, UINT64_MAX);
		if (rc)
			return rc;
	}
	a = &ifc->v6[ifc->n_v6++];
	memset(a, 0, sizeof(*a));
	memcpy(a->addr, addr, 16);
	a->plen = (uint8_t)plen;
	a->autoconf = autoconf;
	a->preferred_until = a->valid_until = UINT64_MAX;
	st->now = now > st->now ? now : st->now;
	st->route_gen++;
	if (st->cfg.nd_dad_transmits == 0) {
		a->state = SKIFF_ADDR6_TENTATIVE; /* made PREFERRED by the timer at once */
		a->dad_left = 0;
		a->dad_at = now;
	} else {
		a->state = st->cfg.nd_optimistic_dad ? SKIFF_ADDR6_OPTIMISTIC : SKIFF_ADDR6_TENTATIVE;
		a->dad_left = (uint8_t)st->cfg.nd_dad_transmits;
		a->dad_at = now + skiff_rand64(st) % ND_RTR_SOLICIT_DELAY_NS;
	}
	rearm(st, ifc);
	return 0;
}

int skiff_stack_add_addr6(struct skiff_stack *st, int ifindex, const uint8_t addr[16], unsigned plen, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	if (!ifc || ifc->loopback || !addr)
		return -EINVAL;
	return addr_add(st, ifc, addr, plen, false, now);
}

int skiff_stack_del_addr6(struct skiff_stack *st, int ifindex, const uint8_t addr[16])
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	if (!ifc || !addr)
		return -EINVAL;
	for (unsigned k = 0; k < ifc->n_v6; k++) {
		if (memcmp(ifc->v6[k].addr, addr, 16))
			continue;
		addr_remove_at(st, ifc, k);
		skiff_mld_nd_sync(st, ifc, st->now); /* its solicited-node group left (mld.c) */
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/* RFC 7217 stable opaque interface identifier for prefix on ifc: a keyed hash
 * of (prefix, interface MAC, DAD counter), recommended over EUI-64 by RFC 8064.
 * It also keeps skiff's addresses apart from the kernel's own EUI-64 ones on an
 * AF_XDP interface, which shares the MAC. The key is fixed (stable across
 * restarts, as 5 asks); its secrecy is not what keeps the two apart. */
static void opaque_iid(const struct skiff_iface *ifc, const uint8_t prefix[16], unsigned dad_counter, uint8_t out[8])
{
	static const uint64_t key[2] = { 0x736b696666373231ull, 0x3737206f70617175ull }; /* "skiff7217 opaqu" */
	uint64_t w[3], h;
	memcpy(&w[0], prefix, 8);
	w[1] = ((uint64_t)ifc->mac[0] << 40) | ((uint64_t)ifc->mac[1] << 32) | ((uint64_t)ifc->mac[2] << 24) |
	       ((uint64_t)ifc->mac[3] << 16) | ((uint64_t)ifc->mac[4] << 8) | ifc->mac[5];
	w[2] = dad_counter;
	h = siphash_words(key, w, 3);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(h >> (56 - 8 * i));
	out[0] &= ~0x02; /* the u bit clear: not a universal (EUI-64) identifier */
}

int skiff_stack_enable_ip6(struct skiff_stack *st, int ifindex, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	uint8_t ll[16] = { 0xfe, 0x80 };
	if (!ifc || ifc->loopback)
		return -EINVAL;
	opaque_iid(ifc, ll, 0, ll + 8);
	return addr_add(st, ifc, ll, 64, false, now);
}

int skiff_stack_link_local6(const struct skiff_stack *st, int ifindex, uint8_t out[16])
{
	const struct skiff_iface *ifc = (ifindex >= 0 && ifindex < SKIFF_MAX_IFACES) ? &st->ifaces[ifindex] : NULL;
	if (!ifc || !ifc->used)
		return -EINVAL;
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (ip6_is_link_local(ifc->v6[k].addr)) {
			memcpy(out, ifc->v6[k].addr, 16);
			return 0;
		}
	return -EADDRNOTAVAIL;
}

bool skiff_nd_group_joined(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t group[16])
{
	return skiff_mld_group_joined(st, ifc->index, group); /* sockets' groups: the multicast layer (mld.c) */
}

bool skiff_nd_addr_optimistic(struct skiff_stack *st, int ifindex, const uint8_t addr[16])
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	const struct skiff_if_addr6 *a = ifc ? addr_find(ifc, addr) : NULL;
	return a && a->state == SKIFF_ADDR6_OPTIMISTIC;
}

bool skiff_nd_group_mac_joined(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t mac[6])
{
	return skiff_mld_mac_joined(st, ifc->index, mac); /* sockets' groups: the multicast layer (mld.c) */
}

/* ---- input ---- */

/* RFC 4862 5.4.5: another node has our tentative address. */
static void dad_failed(struct skiff_stack *st, struct skiff_if_addr6 *a)
{
	a->state = SKIFF_ADDR6_DUPLICATE;
	st->ctr.nd_dad_failed++;
	st->route_gen++;
}

static void ns_input(struct skiff_stack *st, struct skiff_iface *ifc, const struct ip6_repr *ip,
		     const struct nd_msg *m, struct skiff_pkt *p, uint64_t now)
{
	struct skiff_if_addr6 *a = addr_find(ifc, m->target);
	bool from_unspec = ip6_is_unspecified(ip->src.v6);

	st->ctr.nd_ns_in++;
	if (!a || a->state == SKIFF_ADDR6_DUPLICATE) {
		skiff_drop(st, SKIFF_DROP_ND_NS_NOT_OURS, p);
		return;
	}
	if (a->state == SKIFF_ADDR6_OPTIMISTIC && from_unspec) {
		dad_failed(st, a); /* RFC 4429 3.3 as 5.4.3: another node's DAD */
		skiff_drop(st, SKIFF_DROP_ND_DAD_CONFLICT, p);
		return;
	}
	if (a->state == SKIFF_ADDR6_TENTATIVE) {
		/* 5.4.3: from :: another node is doing DAD for it; from a unicast
		 * source it is address resolution by someone who has it: ignore */
		if (from_unspec) {
			dad_failed(st, a);
			skiff_drop(st, SKIFF_DROP_ND_DAD_CONFLICT, p);
		} else {
			skiff_drop(st, SKIFF_DROP_ND_NS_NOT_OURS, p);
		}
		return;
	}
	if (!from_unspec && m->has_sllao)
		skiff_neigh_nd_update(st, ifc, ip->src.v6, m->sllao, 0, now);
	send_na(st, ifc, ip->src.v6, m->target, now);
	skiff_pkt_free(p);
}

static void na_input(struct skiff_stack *st, struct skiff_iface *ifc, const struct nd_msg *m, struct skiff_pkt *p,
		     uint64_t now)
{
	struct skiff_if_addr6 *a = addr_find(ifc, m->target);
	unsigned how = SKIFF_ND_ADVERT;

	st->ctr.nd_na_in++;
	if (a && dad_running(a)) {
		dad_failed(st, a);
		skiff_drop(st, SKIFF_DROP_ND_DAD_CONFLICT, p);
		return;
	}
	if (a || skiff_stack_local6(st, m->target, ifc->index, false) >= 0) {
		/* 5.4.4: someone claims an address we hold; never let it into the cache */
		skiff_drop(st, SKIFF_DROP_ND_NA_FOR_OURS, p);
		return;
	}
	if (m->na_flags & ND_NA_SOLICITED)
		how |= SKIFF_ND_SOLICITED;
	if (m->na_flags & ND_NA_OVERRIDE)
		how |= SKIFF_ND_OVERRIDE;
	skiff_neigh_nd_update(st, ifc, m->target, m->has_tllao ? m->tllao : NULL, how, now);
	skiff_pkt_free(p);
}

/* RFC 4862 5.5.3: a Prefix Information option with the A flag. */
static void slaac(struct skiff_stack *st, struct skiff_iface *ifc, const struct nd_prefix *px, uint64_t now)
{
	uint8_t addr[16];
	struct skiff_if_addr6 *a;
	uint64_t valid = lifetime_to(now, px->valid_lft), pref = lifetime_to(now, px->preferred_lft);

	memcpy(addr, px->prefix, 8);
	opaque_iid(ifc, px->prefix, 0, addr + 8);
	a = addr_find(ifc, addr);
	if (!a) {
		if (px->valid_lft == 0 || addr_add(st, ifc, addr, px->plen, true, now))
			return;
		a = addr_find(ifc, addr);
		a->valid_until = valid;
		a->preferred_until = pref;
		return;
	}
	if (!a->autoconf)
		return;
	/* (e): the preferred lifetime is reset; the valid one follows the
	 * two-hour rule against a forged short lifetime */
	a->preferred_until = pref;
	if (a->state == SKIFF_ADDR6_DEPRECATED && px->preferred_lft)
		a->state = SKIFF_ADDR6_PREFERRED;
	if (px->valid_lft > 7200 || valid > a->valid_until)
		a->valid_until = valid;
	else if (a->valid_until - (now < a->valid_until ? now : a->valid_until) > 7200 * NS_PER_S)
		a->valid_until = now + 7200 * NS_PER_S;
	rearm(st, ifc);
}

static void ra_input(struct skiff_stack *st, struct skiff_iface *ifc, const struct ip6_repr *ip,
		     const struct nd_msg *m, struct skiff_pkt *p, uint64_t now)
{
	static const uint8_t any[16];
	struct view it = m->opts;
	struct nd_prefix px;

	st->ctr.nd_ra_in++;
	if (!st->cfg.nd_accept_ra) {
		skiff_drop(st, SKIFF_DROP_ND_RA_IGNORED, p);
		return;
	}
	ifc->rs_left = 0; /* 6.3.7: answered */
	if (m->cur_hop_limit)
		ifc->hop_limit6 = m->cur_hop_limit;
	if (m->reachable_time) /* 6.3.4: randomised around the base, 0.5 to 1.5 times */
		ifc->nd_reachable_ns = (uint64_t)m->reachable_time * 1000000ull / 2 +
				       skiff_rand64(st) % ((uint64_t)m->reachable_time * 1000000ull + 1);
	if (m->retrans_timer)
		ifc->nd_retrans_ns = (uint64_t)m->retrans_timer * 1000000ull;
	if (nd_mtu_usable(m, ifc->mtu))
		ifc->mtu6 = m->mtu;
	if (m->has_sllao)
		skiff_neigh_nd_update(st, ifc, ip->src.v6, m->sllao, 0, now);
	if (m->router_lifetime)
		(void)skiff_route6_learn(st, any, 0, ip->src.v6, ifc->index, 1024,
				       now + (uint64_t)m->router_lifetime * NS_PER_S);
	else
		(void)skiff_route6_unlearn(st, any, 0, ip->src.v6, ifc->index);
	while (nd_prefix_next(&it, &px)) {
		if (px.onlink) {
			if (px.valid_lft)
				(void)skiff_route6_learn(st, px.prefix, px.plen, NULL, ifc->index, 256,
						       lifetime_to(now, px.valid_lft));
			else
				(void)skiff_route6_unlearn(st, px.prefix, px.plen, NULL, ifc->index);
		}
		if (px.slaac && st->cfg.nd_autoconf)
			slaac(st, ifc, &px, now);
	}
	st->route_gen++;
	skiff_pkt_free(p);
}

static void redirect_input(struct skiff_stack *st, struct skiff_iface *ifc, const struct ip6_repr *ip,
			   const struct nd_msg *m, struct skiff_pkt *p, uint64_t now)
{
	struct skiff_route_res6 rt;
	bool onlink = !memcmp(m->target, m->dest, 16);

	if (!st->cfg.nd_accept_redirects || skiff_route6_lookup(st, m->dest, ifc->index, &rt) ||
	    memcmp(rt.nexthop, ip->src.v6, 16)) {
		st->ctr.nd_redirects_ignored++;
		skiff_drop(st, SKIFF_DROP_ND_REDIRECT_IGNORED, p);
		return;
	}
	(void)skiff_route6_learn(st, m->dest, 128, onlink ? NULL : m->target, ifc->index, 0, now + ND_REDIRECT_TTL_NS);
	if (m->has_tllao) /* 8.3: STALE, as an unconfirmed link-layer address */
		skiff_neigh_nd_update(st, ifc, m->target, m->tllao, 0, now);
	skiff_pkt_free(p);
}

void skiff_nd_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		    uint64_t now)
{
	struct nd_msg m;

	if (nd_parse(ip, view_make(skiff_pkt_data(p), p->len), ND_PARSE_CSUM_DONE, &m)) {
		skiff_drop(st, skiff_drop_icmp6(m.fail), p);
		return;
	}
	switch (m.type) {
	case ICMP6_ND_NS:
		ns_input(st, ifc, ip, &m, p, now);
		break;
	case ICMP6_ND_NA:
		na_input(st, ifc, &m, p, now);
		break;
	case ICMP6_ND_RA:
		ra_input(st, ifc, ip, &m, p, now);
		break;
	case ICMP6_ND_REDIRECT:
		redirect_input(st, ifc, ip, &m, p, now);
		break;
	default: /* RS: a router's business (6.2.6) */
		skiff_drop(st, SKIFF_DROP_ICMP6_INFO_UNKNOWN, p);
		break;
	}
}
