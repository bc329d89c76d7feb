/* route6.c — IPv6 route table, source selection, path MTU cache (route6.h).
 *
 * lookup: own address → local; ::1 → loopback; multicast → oif or the first
 *   device; link-local → oif (scope); else longest prefix (then lowest metric)
 *   among unexpired routes, restricted to oif when given → source selection
 *   on the chosen interface → the path MTU.
 * The table is kept sorted by prefix length, longest first, so the first match
 * wins; the MTU cache is a fixed array replaced least-recently-learnt first.
 */
#include "route6.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

struct route6 {
	bool used;
	uint8_t prefix[16];
	uint8_t plen;
	uint8_t gw[16];       /* :: on-link */
	int ifindex;
	uint32_t metric;
	uint64_t expires;
	bool learnt;          /* from an RA or a redirect: RA lifetimes manage it, never a configured route */
};

struct pmtu6 {
	uint8_t dst[16];
	uint32_t mtu;         /* 0: free */
	uint64_t learnt;
};

struct skiff_route6_table {
	unsigned cap, n;
	struct route6 *r;
	unsigned pcap;
	struct pmtu6 *pm;
};

static const uint8_t zero16[16];

int skiff_route6_table_create(struct skiff_stack *st)
{
	struct skiff_route6_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cap = st->cfg.routes;
	t->pcap = st->cfg.pmtu6_entries ? st->cfg.pmtu6_entries : 1;
	t->r = calloc(t->cap, sizeof(*t->r));
	t->pm = calloc(t->pcap, sizeof(*t->pm));
	if (!t->r || !t->pm) {
		free(t->r);
		free(t->pm);
		free(t);
		return -ENOMEM;
	}
	st->routes6 = t;
	return 0;
}

void skiff_route6_table_destroy(struct skiff_stack *st)
{
	if (!st->routes6)
		return;
	free(st->routes6->r);
	free(st->routes6->pm);
	free(st->routes6);
	st->routes6 = NULL;
}

static void mask_prefix(uint8_t *a, unsigned plen)
{
	for (unsigned i = 0; i < 16; i++) {
		if (plen >= 8) {
			plen -= 8;
			continue;
		}
		a[i] &= (uint8_t)(0xff << (8 - plen));
		plen = 0;
	}
}

static bool prefix_match(const uint8_t *a, const uint8_t *prefix, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;
	if (memcmp(a, prefix, bytes) != 0)
		return false;
	return bits == 0 || ((a[bytes] ^ prefix[bytes]) & (0xff << (8 - bits))) == 0;
}

static unsigned common_prefix(const uint8_t *a, const uint8_t *b)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a[i] ^ b[i];
		if (!x) {
			n += 8;
			continue;
		}
		while (!(x & 0x80)) {
			x <<= 1;
			n++;
		}
		break;
	}
	return n;
}

static int route_add(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex,
		     uint32_t metric, uint64_t expires, bool learnt)
{
	struct skiff_route6_table *t = st->routes6;
	uint8_t pfx[16];
	unsigned i;

	if (plen > 128 || !skiff_stack_iface(st, ifindex) || (gw && ip6_is_multicast(gw)))
		return -EINVAL;
	memcpy(pfx, prefix, 16);
	mask_prefix(pfx, plen);
	if (!gw)
		gw = zero16;
	for (i = 0; i < t->n; i++) {
		struct route6 *r = &t->r[i];
		if (r->plen == plen && r->ifindex == ifindex && !memcmp(r->prefix, pfx, 16) && !memcmp(r->gw, gw, 16) &&
		    r->learnt == learnt) {
			r->expires = expires;
			r->metric = metric;
			st->route_gen++;
			return 0;
		}
	}
	if (t->n == t->cap)
		return -ENOSPC;
	/* keep longest prefix first, then lowest metric */
	for (i = 0; i < t->n && (t->r[i].plen > plen || (t->r[i].plen == plen && t->r[i].metric <= metric)); i++)
		;
	memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(t->r[0]));
	t->r[i].used = true;
	memcpy(t->r[i].prefix, pfx, 16);
	t->r[i].plen = (uint8_t)plen;
	memcpy(t->r[i].gw, gw, 16);
	t->r[i].ifindex = ifindex;
	t->r[i].metric = metric;
	t->r[i].expires = expires;
	t->r[i].learnt = learnt;
	t->n++;
	st->route_gen++;
	return 0;
}

int skiff_route6_add(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex,
		     uint32_t metric, uint64_t expires)
{
	return route_add(st, prefix, plen, gw, ifindex, metric, expires, false);
}

int skiff_route6_learn(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw,
		       int ifindex, uint32_t metric, uint64_t expires)
{
	return route_add(st, prefix, plen, gw, ifindex, metric, expires, true);
}

static void remove_at(struct skiff_stack *st, unsigned i)
{
	struct skiff_route6_table *t = st->routes6;
	memmove(&t->r[i], &t->r[i + 1], (t->n - i - 1) * sizeof(t->r[0]));
	t->n--;
	st->route_gen++;
}

static int route_del(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex,
		     bool learnt)
{
	struct skiff_route6_table *t = st->routes6;
	uint8_t pfx[16];

	if (plen > 128)
		return -EINVAL;
	memcpy(pfx, prefix, 16);
	mask_prefix(pfx, plen);
	if (!gw)
		gw = zero16;
	for (unsigned i = 0; i < t->n; i++) {
		struct route6 *r = &t->r[i];
		if (r->plen == plen && r->ifindex == ifindex && !memcmp(r->prefix, pfx, 16) && !memcmp(r->gw, gw, 16) &&
		    r->learnt == learnt) {
			remove_at(st, i);
			return 0;
		}
	}
	return -ESRCH;
}

int skiff_route6_del(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex)
{
	return route_del(st, prefix, plen, gw, ifindex, false);
}

int skiff_route6_unlearn(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw,
			 int ifindex)
{
	return route_del(st, prefix, plen, gw, ifindex, true);
}

void skiff_route6_flush(struct skiff_stack *st, int ifindex, const uint8_t *gw)
{
	struct skiff_route6_table *t = st->routes6;
	for (unsigned i = t->n; i-- > 0;)
		if (t->r[i].ifindex == ifindex && (!gw || !memcmp(t->r[i].gw, gw, 16)))
			remove_at(st, i);
}

void skiff_route6_expire(struct skiff_stack *st, uint64_t now)
{
	struct skiff_route6_table *t = st->routes6;
	for (unsigned i = t->n; i-- > 0;)
		if (t->r[i].expires <= now)
			remove_at(st, i);
}

int skiff_ip6_select_src(const struct skiff_stack *st, int ifindex, const uint8_t dst[16], uint8_t out[16])
{
	const struct skiff_iface *ifc = (ifindex >= 0 && ifindex < SKIFF_MAX_IFACES) ? &st->ifaces[ifindex] : NULL;
	bool want_ll = ip6_is_link_local(dst) || (ip6_is_multicast(dst) && ip6_mcast_scope(dst) <= IP6_SCOPE_LINK);
	const struct skiff_if_addr6 *best = NULL;
	int best_score = -1;

	if (!ifc || !ifc->used)
		return -EADDRNOTAVAIL;
	for (unsigned k = 0; k < ifc->n_v6; k++) {
		const struct skiff_if_addr6 *a = &ifc->v6[k];
		int score;
		if (a->state != SKIFF_ADDR6_PREFERRED && a->state != SKIFF_ADDR6_DEPRECATED &&
		    a->state != SKIFF_ADDR6_OPTIMISTIC)
			continue;
		if (!memcmp(a->addr, dst, 16)) { /* RFC 6724 5 rule 1 */
			best = a;
			break;
		}
		/* rule 2 (scope), rule 3 (avoid deprecated; RFC 4429 3.2: optimistic
		 * ranks as deprecated), rule 8 (longest match) */
		score = (ip6_is_link_local(a->addr) == want_ll ? 1 << 10 : 0) +
			(a->state == SKIFF_ADDR6_PREFERRED ? 1 << 9 : 0) + (int)common_prefix(a->addr, dst);
		if (score > best_score) {
			best_score = score;
			best = a;
		}
	}
	if (!best)
		return -EADDRNOTAVAIL;
	memcpy(out, best->addr, 16);
	return 0;
}

static int first_device(const struct skiff_stack *st)
{
	for (int i = 0; i < SKIFF_MAX_IFACES; i++)
		if (st->ifaces[i].used && st->ifaces[i].up && !st->ifaces[i].loopback)
			return i;
	return -1;
}

static int n_devices(const struct skiff_stack *st)
{
	int n = 0;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++)
		n += st->ifaces[i].used && !st->ifaces[i].loopback;
	return n;
}

static uint32_t link_mtu6(const struct skiff_stack *st, int ifindex)
{
	const struct skiff_iface *ifc = &st->ifaces[ifindex];
	return ifc->mtu6 && ifc->mtu6 < ifc->mtu ? ifc->mtu6 : ifc->mtu;
}

int skiff_route6_lookup(struct skiff_stack *st, const uint8_t dst[16], int oif, struct skiff_route_res6 *res)
{
	struct skiff_route6_table *t = st->routes6;
	int local;

	memset(res, 0, sizeof(*res));
	if (ip6_is_unspecified(dst) || ip6_is_v4mapped(dst))
		return -ENETUNREACH;
	if (ip6_is_loopback(dst)) {
		if (st->lo_ifindex < 0)
			return -ENETUNREACH;
		res->ifindex = st->lo_ifindex;
		memcpy(res->nexthop, dst, 16);
		memcpy(res->src, dst, 16);
		res->mtu = st->ifaces[st->lo_ifindex].mtu;
		res->local = true;
		return 0;
	}
	local = skiff_stack_local6(st, dst, oif, true);
	if (local >= 0) {
		res->ifindex = local;
		memcpy(res->nexthop, dst, 16);
		memcpy(res->src, dst, 16);
		res->mtu = st->ifaces[local].mtu;
		res->local = true;
		return 0;
	}
	if (ip6_is_multicast(dst) || ip6_is_link_local(dst)) {
		int ifx = oif;
		if (ifx < 0) {
			/* global-scope multicast may take the first device; link scope needs
			 * a scope unless there is only one link to mean */
			bool scoped = ip6_is_link_local(dst) || ip6_mcast_scope(dst) <= IP6_SCOPE_LINK;
			if (scoped && n_devices(st) != 1)
				return -EINVAL;
			ifx = first_device(st);
		}
		if (ifx < 0 || !skiff_stack_iface(st, ifx))
			return -ENETUNREACH;
		res->ifindex = ifx;
		memcpy(res->nexthop, dst, 16);
		res->mtu = link_mtu6(st, ifx);
		return skiff_ip6_select_src(st, ifx, dst, res->src);
	}
	for (unsigned i = 0; i < t->n; i++) {
		const struct route6 *r = &t->r[i];
		if (r->expires <= st->now || (oif >= 0 && r->ifindex != oif) || !prefix_match(dst, r->prefix, r->plen))
			continue;
		if (!skiff_stack_iface(st, r->ifindex) || !st->ifaces[r->ifindex].up)
			continue;
		res->ifindex = r->ifindex;
		memcpy(res->nexthop, ip6_is_unspecified(r->gw) ? dst : r->gw, 16);
		res->mtu = skiff_pmtu6_get(st, dst, link_mtu6(st, r->ifindex), st->now);
		return skiff_ip6_select_src(st, r->ifindex, dst, res->src);
	}
	return -ENETUNREACH;
}

bool skiff_pmtu6_update(struct skiff_stack *st, const uint8_t dst[16], uint32_t mtu, uint64_t now)
{
	struct skiff_route6_table *t = st->routes6;
	struct pmtu6 *slot = NULL, *old = NULL;

	if (mtu < IP6_MIN_MTU) /* RFC 8201 4: never below the minimum link MTU */
		mtu = IP6_MIN_MTU;
	for (unsigned i = 0; i < t->pcap; i++) {
		struct pmtu6 *m = &t->pm[i];
		if (m->mtu && !memcmp(m->dst, dst, 16)) {
			slot = m;
			break;
		}
		if (!m->mtu || m->learnt + st->cfg.pmtu_expire_ns <= now) {
			if (!old || old->mtu)
				old = m;
		} else if (!old || (old->mtu && m->learnt < old->learnt)) {
			old = m;
		}
	}
	if (slot) {
		bool live = slot->learnt + st->cfg.pmtu_expire_ns > now;
		if (live && mtu >= slot->mtu)
			return false; /* RFC 8201 4: a PTB never raises the estimate */
		slot->mtu = mtu;
		slot->learnt = now;
		st->ctr.pmtu6_updates++;
		st->route_gen++;
		return true;
	}
	memcpy(old->dst, dst, 16);
	old->mtu = mtu;
	old->learnt = now;
	st->ctr.pmtu6_updates++;
	st->route_gen++;
	return true;
}

uint32_t skiff_pmtu6_get(struct skiff_stack *st, const uint8_t dst[16], uint32_t link_mtu, uint64_t now)
{
	struct skiff_route6_table *t = st->routes6;
	for (unsigned i = 0; i < t->pcap; i++) {
		const struct pmtu6 *m = &t->pm[i];
		if (m->mtu && !memcmp(m->dst, dst, 16)) {
			if (m->learnt + st->cfg.pmtu_expire_ns <= now)
				return link_mtu; /* RFC 8201 4: try the link MTU again after the timeout */
			return m->mtu < link_mtu ? m->mtu : link_mtu;
		}
	}
	return link_mtu;
}
