/* route.c — IPv4 longest-prefix-match table (RFC 1812 5.2.4.3 route selection:
 * longest match, then best metric). add keeps the array sorted; lookup answers
 * 127/8 (loopback) and our own addresses first, as Linux's local table, then
 * scans from the longest prefix and returns the first usable (interface up)
 * entry.
 */
#include "route.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stack.h"

struct skiff_route_table {
	unsigned cap, n;
	struct skiff_route4 r[];
};

int skiff_route_table_create(struct skiff_stack *st)
{
	unsigned cap = st->cfg.routes;
	struct skiff_route_table *t = calloc(1, sizeof(*t) + cap * sizeof(t->r[0]));
	if (!t)
		return -ENOMEM;
	t->cap = cap;
	st->routes = t;
	return 0;
}

void skiff_route_table_destroy(struct skiff_stack *st)
{
	free(st->routes);
	st->routes = NULL;
}

static int route_before(const struct skiff_route4 *a, const struct skiff_route4 *b)
{
	if (a->plen != b->plen)
		return a->plen > b->plen;
	return a->metric < b->metric;
}

int skiff_route_add4(struct skiff_stack *st, uint32_t prefix, unsigned plen, uint32_t gw, int ifindex, uint32_t metric)
{
	struct skiff_route_table *t = st->routes;
	struct skiff_route4 nr;
	unsigned i;

	if (plen > 32 || !skiff_stack_iface(st, ifindex))
		return -EINVAL;
	st->route_gen++;
	nr.prefix = prefix & ip4_prefix_mask(plen);
	nr.plen = (uint8_t)plen;
	nr.gw = gw;
	nr.ifindex = ifindex;
	nr.metric = metric;
	nr.src = 0;
	for (i = 0; i < t->n; i++) {
		const struct skiff_route4 *r = &t->r[i];
		if (r->prefix == nr.prefix && r->plen == nr.plen && r->gw == gw && r->ifindex == ifindex)
			return -EEXIST;
	}
	if (t->n == t->cap)
		return -ENOSPC;
	for (i = 0; i < t->n && !route_before(&nr, &t->r[i]); i++)
		;
	memmove(&t->r[i + 1], &t->r[i], (t->n - i) * sizeof(t->r[0]));
	t->r[i] = nr;
	t->n++;
	return 0;
}

int skiff_route_del4(struct skiff_stack *st, uint32_t prefix, unsigned plen, uint32_t gw, int ifindex)
{
	struct skiff_route_table *t = st->routes;
	st->route_gen++;
	prefix &= ip4_prefix_mask(plen);
	for (unsigned i = 0; i < t->n; i++) {
		struct skiff_route4 *r = &t->r[i];
		if (r->prefix == prefix && r->plen == plen && r->gw == gw && r->ifindex == ifindex) {
			memmove(r, r + 1, (t->n - i - 1) * sizeof(*r));
			t->n--;
			return 0;
		}
	}
	return -ESRCH;
}

void skiff_route_flush_if4(struct skiff_stack *st, int ifindex, uint32_t prefix, unsigned plen)
{
	struct skiff_route_table *t = st->routes;
	st->route_gen++;
	prefix &= ip4_prefix_mask(plen);
	for (unsigned i = 0; i < t->n;) {
		struct skiff_route4 *r = &t->r[i];
		if (r->ifindex == ifindex && r->prefix == prefix && r->plen == plen && r->gw == 0) {
			memmove(r, r + 1, (t->n - i - 1) * sizeof(*r));
			t->n--;
		} else {
			i++;
		}
	}
}

/* Source address: the interface address whose subnet holds the next hop, else the first. */
static uint32_t pick_src(const struct skiff_iface *ifc, uint32_t nexthop)
{
	for (unsigned i = 0; i < ifc->n_v4; i++) {
		uint32_t m = ip4_prefix_mask(ifc->v4[i].plen);
		if ((ifc->v4[i].addr & m) == (nexthop & m))
			return ifc->v4[i].addr;
	}
	return ifc->n_v4 ? ifc->v4[0].addr : 0;
}

static int first_up_iface(struct skiff_stack *st)
{
	for (int i = 0; i < SKIFF_MAX_IFACES; i++)
		if (st->ifaces[i].used && st->ifaces[i].up && st->ifaces[i].n_v4 && !st->ifaces[i].loopback)
			return i;
	return -1;
}

int skiff_route_lookup4(struct skiff_stack *st, uint32_t dst, int oif, struct skiff_route_res4 *res)
{
	struct skiff_route_table *t = st->routes;
	struct skiff_iface *ifc;
	int local;

	/* 127/8: the in-stack loopback when it is on (loopback.c), from 127.0.0.1
	 * (Linux "local 127.0.0.0/8 dev lo src 127.0.0.1"), else the host's, which
	 * this stack does not serve. 0/8 is "this network", class E reserved. */
	if (ip4_is_loopback(dst)) {
		ifc = skiff_stack_iface(st, st->lo_ifindex);
		if (!ifc || !ifc->up)
			return -ENETUNREACH;
		res->ifindex = st->lo_ifindex;
		res->nexthop = dst;
		res->src = pick_src(ifc, dst);
		return 0;
	}
	if (ip4_is_zeronet(dst) || ip4_is_class_e(dst))
		return -ENETUNREACH;
	/* One of our own addresses: looped back, from itself (Linux's local table). */
	local = skiff_stack_local4(st, dst);
	if (local >= 0) {
		res->ifindex = local;
		res->nexthop = dst;
		res->src = dst;
		return 0;
	}
	if (ip4_is_limited_bcast(dst) || ip4_is_multicast(dst)) {
		int i = oif >= 0 ? oif : first_up_iface(st);
		ifc = skiff_stack_iface(st, i);
		if (!ifc || !ifc->up)
			return -ENETUNREACH;
		res->ifindex = i;
		res->nexthop = dst;
		res->src = pick_src(ifc, dst);
		return 0;
	}
	for (unsigned i = 0; i < t->n; i++) {
		const struct skiff_route4 *r = &t->r[i];
		if ((dst & ip4_prefix_mask(r->plen)) != r->prefix)
			continue;
		if (oif >= 0 && r->ifindex != oif)
			continue;
		ifc = skiff_stack_iface(st, r->ifindex);
		if (!ifc || !ifc->up)
			continue;
		res->ifindex = r->ifindex;
		res->nexthop = r->gw ? r->gw : dst;
		res->src = r->src ? r->src : pick_src(ifc, res->nexthop);
		return 0;
	}
	return -ENETUNREACH;
}

bool skiff_route_is_local4(const struct skiff_stack *st, const struct skiff_route_res4 *rt, uint32_t dst)
{
	/* own addresses resolve to themselves as the source (lookup above); all of
	 * the loopback's traffic stays inside */
	return rt->src == dst || (st->lo_ifindex >= 0 && rt->ifindex == st->lo_ifindex);
}

int skiff_route_check_src4(const struct skiff_stack *st, const struct skiff_route_res4 *rt, uint32_t src, uint32_t dst)
{
	/* RFC 1122 3.2.1.3 (g): 127/8 must not appear outside the host */
	if (ip4_is_loopback(src) && !skiff_route_is_local4(st, rt, dst))
		return -EINVAL; /* Linux __mkroute_output */
	return 0;
}
