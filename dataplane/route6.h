/* route6.h — IPv6 routes, source address selection and the path MTU cache.
 *
 * Routes: on-link prefixes (from interface addresses and RA Prefix Information,
 * RFC 4861 6.3.4), default routers (RA router lifetime, RFC 4861 6.3.4) and
 * static routes; longest prefix first, then lowest metric, entries with an
 * expiry time vanish when it passes. Path MTU (RFC 8201): a small cache of
 * per-destination MTUs learnt from Packet Too Big, forgotten after
 * pmtu_expire_ns. Tables are preallocated arrays: a host has tens of routes.
 */
#ifndef SKIFF_ROUTE6_H
#define SKIFF_ROUTE6_H

#include <stdbool.h>
#include <stdint.h>

#include "ip6.h"

struct skiff_stack;

int skiff_route6_table_create(struct skiff_stack *st);
void skiff_route6_table_destroy(struct skiff_stack *st);

/* gw NULL (or ::): on-link. expires: absolute ns, UINT64_MAX for never. Adding
 * an existing prefix/plen/gw/ifindex refreshes its expiry and metric. -ENOSPC,
 * -EINVAL. */
int skiff_route6_add(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex,
		     uint32_t metric, uint64_t expires);
int skiff_route6_del(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw, int ifindex);
/* The same for routes learnt from RAs and redirects: kept apart from configured
 * ones (an RA withdrawing a prefix or router never removes, or puts a lifetime
 * on, a route the configuration made; Linux's RTF_ADDRCONF). */
int skiff_route6_learn(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw,
		       int ifindex, uint32_t metric, uint64_t expires);
int skiff_route6_unlearn(struct skiff_stack *st, const uint8_t prefix[16], unsigned plen, const uint8_t *gw,
			 int ifindex);
/* Remove every route through ifindex (gw NULL: any) — e.g. a router whose lifetime ended. */
void skiff_route6_flush(struct skiff_stack *st, int ifindex, const uint8_t *gw);

/* Resolve dst. oif >= 0 restricts the lookup to that interface (SO_BINDTODEVICE,
 * IPV6_MULTICAST_IF, a scope_id); a link-local or link-scope multicast
 * destination needs one unless only one device interface exists (Linux asks for
 * the scope: -EINVAL). Our own addresses resolve to their interface with
 * res->local; ::1 to the loopback when on. 0, -ENETUNREACH, -EINVAL,
 * -EADDRNOTAVAIL (no usable source address on the interface yet, e.g. DAD). */
int skiff_route6_lookup(struct skiff_stack *st, const uint8_t dst[16], int oif, struct skiff_route_res6 *res);

/* RFC 6724 source selection, the rules a host with a few addresses needs: the
 * same address as dst, then appropriate scope (link-local for link-local and
 * link-scope multicast), then preferred over deprecated, then the longest
 * matching prefix. Tentative and duplicate addresses never. 0 or -EADDRNOTAVAIL. */
int skiff_ip6_select_src(const struct skiff_stack *st, int ifindex, const uint8_t dst[16], uint8_t out[16]);

/* Path MTU (RFC 8201 4): take mtu for dst (clamped to at least 1280, never above
 * the link's); returns true when it lowered what was known. */
bool skiff_pmtu6_update(struct skiff_stack *st, const uint8_t dst[16], uint32_t mtu, uint64_t now);
/* The path MTU for dst: the cached one, or link_mtu. */
uint32_t skiff_pmtu6_get(struct skiff_stack *st, const uint8_t dst[16], uint32_t link_mtu, uint64_t now);

/* Expire routes whose time has passed (called from the ND timer). */
void skiff_route6_expire(struct skiff_stack *st, uint64_t now);

#endif
