/* mld.h — MLD (RFC 3810, MLDv1 RFC 2710) glue: the IPv6 side of the per-interface
 * membership engines igmp.c keeps (family SKIFF_AF_INET6), MLD in and out, the
 * per-group receive checks of the IPv6 and Ethernet layers, and the
 * solicited-node groups of the interface's own addresses.
 *
 *   icmp6_input: types 130/131/132/143 ──→ skiff_mld_input: ext headers re-walked
 *                for the Router Alert, mld_parse (link-local source, hop limit 1,
 *                Router Alert, checksum, length: named drops MLD_*) → the engine
 *                of the interface (query / v1 report / done / v2 report)
 *   ip6_input dst_ours ──→ skiff_nd_group_joined ──→ skiff_mld_group_joined
 *   eth_input 33:33 MAC ──→ skiff_nd_group_mac_joined ──→ skiff_mld_mac_joined
 *   udp delivery ──→ skiff_mld_accepts (interface source filter, RFC 3810 4.2)
 *   igmp.c poll ──→ skiff_mld_emit: IPv6 header (hop limit 1, source the
 *                link-local address or :: before one is usable, RFC 3810 5.2.13)
 *                + Hop-by-Hop header with Router Alert value 0 (RFC 2711) + the
 *                message with its checksum, to its destination (ff02::16 for
 *                v2 reports, the group for v1 reports, ff02::2 for Done)
 *   nd timer ──→ skiff_mld_nd_sync: the solicited-node group of every address
 *                not DUPLICATE joined under owner SKIFF_MLD_OWNER_ND (RFC 4861
 *                7.2.1, RFC 4862 5.4.2), gone ones left
 * An interface with SKIFF_IFCAP_KERNEL_MCAST sends nothing (the kernel speaks MLD).
 */
#ifndef SKIFF_MLD_H
#define SKIFF_MLD_H

#include <stdbool.h>
#include <stdint.h>

#include "mcast_member.h"
#include "pkt.h"
#include "wire_ip6.h"

struct skiff_stack;
struct skiff_iface;

/* The owner id of the stack's own solicited-node memberships (sockets are pointers). */
#define SKIFF_MLD_OWNER_ND 1ull

/* An MLD message, data at the ICMPv6 header (checksum already verified by
 * icmp6.c), l3_off at the fixed header. Takes ownership. */
void skiff_mld_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		     uint64_t now);
/* Has ifindex reception state for group (any source)? */
bool skiff_mld_group_joined(struct skiff_stack *st, int ifindex, const uint8_t group[16]);
/* Is the 33:33 MAC that of a group with reception state on ifindex? */
bool skiff_mld_mac_joined(struct skiff_stack *st, int ifindex, const uint8_t mac[6]);
/* Does the interface state of ifindex accept src → group (RFC 3810 4.2)? */
bool skiff_mld_accepts(struct skiff_stack *st, int ifindex, const uint8_t group[16], const uint8_t src[16]);
/* Send one message of the engine of ifc (igmp.c's poll). */
void skiff_mld_emit(struct skiff_stack *st, struct skiff_iface *ifc, const struct mcast_out *o, uint64_t now);
/* Join the solicited-node groups of ifc's addresses, leave the ones no address maps to. */
void skiff_mld_nd_sync(struct skiff_stack *st, struct skiff_iface *ifc, uint64_t now);

#endif
