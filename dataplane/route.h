/* route.h — IPv4 route table: longest prefix match, then lowest metric.
 *
 * Connected routes are added with each interface address; a default route is
 * 0.0.0.0/0 via a gateway. The table is a preallocated array kept sorted by
 * prefix length (longest first) so lookup stops at the first match; tables are
 * tens of entries on a host stack. A DIR-24-8 trie replaces it if that changes.
 */
#ifndef SKIFF_ROUTE_H
#define SKIFF_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

struct skiff_stack;

struct skiff_route4 {
	uint32_t prefix;   /* host order, masked */
	uint8_t plen;
	uint32_t gw;       /* 0: directly connected */
	int ifindex;
	uint32_t metric;
	uint32_t src;      /* preferred source, 0: the interface's first address */
};

struct skiff_route_res4 {
	int ifindex;
	uint32_t nexthop;  /* gateway, or the destination itself when connected */
	uint32_t src;      /* source address to use */
};

int skiff_route_table_create(struct skiff_stack *st);
void skiff_route_table_destroy(struct skiff_stack *st);
/* -EEXIST for an identical prefix/plen/gw/ifindex, -ENOSPC when full, -EINVAL for bad args. */
int skiff_route_add4(struct skiff_stack *st, uint32_t prefix, unsigned plen, uint32_t gw, int ifindex,
		     uint32_t metric);
int skiff_route_del4(struct skiff_stack *st, uint32_t prefix, unsigned plen, uint32_t gw, int ifindex);
/* Remove every route through an interface that used `src_addr`'s connected prefix. */
void skiff_route_flush_if4(struct skiff_stack *st, int ifindex, uint32_t prefix, unsigned plen);
/* 0 and *res filled, or -ENETUNREACH. Limited broadcast and multicast resolve to the
 * first up device interface (or `oif` when >= 0). One of our own addresses resolves
 * to its interface with src == dst, and only such a destination does (besides the
 * loopback's); ip4_output loops those back. 127/8 resolves to the loopback interface
 * from 127.0.0.1 when loopback is on (stack.h skiff_stack_enable_loopback), and is
 * unreachable when it is off; 0/8 and class E are unreachable. `oif` does not
 * apply to local destinations (own addresses, 127/8). */
int skiff_route_lookup4(struct skiff_stack *st, uint32_t dst, int oif, struct skiff_route_res4 *res);
/* Does a route from lookup4(dst) stay inside the stack (own address or loopback)? */
bool skiff_route_is_local4(const struct skiff_stack *st, const struct skiff_route_res4 *rt, uint32_t dst);
/* May a datagram from src use this route? -EINVAL for a 127/8 source on a route
 * that leaves through a device (RFC 1122 3.2.1.3 (g), Linux's errno), else 0. */
int skiff_route_check_src4(const struct skiff_stack *st, const struct skiff_route_res4 *rt, uint32_t src, uint32_t dst);

#endif
