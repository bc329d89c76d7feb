/* nd.h — IPv6 Neighbour Discovery and address configuration (RFC 4861, 4862):
 * the messages' effects (NS/NA/RS/RA/Redirect), duplicate address detection,
 * SLAAC, and the per-interface ND timer. The neighbour cache itself is
 * neigh.c's; the message formats nd_msg.c's.
 */
#ifndef SKIFF_ND_H
#define SKIFF_ND_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "wire_ip6.h"

struct skiff_stack;
struct skiff_iface;
struct skiff_timer;

/* An ND message (ICMPv6 type 133..137), data at the ICMPv6 header, checksum
 * verified. Takes ownership. */
void skiff_nd_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		    uint64_t now);
/* The interface timer: DAD steps, router solicitations, address and route lifetimes. */
void skiff_nd_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now);
/* Has a socket joined group on ifc (MLD, multicast delivery)? */
bool skiff_nd_group_joined(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t group[16]);

/* Is addr an optimistic address of ours on ifindex (RFC 4429)? */
bool skiff_nd_addr_optimistic(struct skiff_stack *st, int ifindex, const uint8_t addr[16]);
/* ... or a group whose MAC (33:33 + its low 32 bits) is mac? */
bool skiff_nd_group_mac_joined(struct skiff_stack *st, const struct skiff_iface *ifc, const uint8_t mac[6]);

#endif
