/* neigh.h — IPv4 neighbour cache and ARP (RFC 826, RFC 1122 2.3.2).
 *
 * States follow Linux's NUD machine, reduced to what ARP needs:
 *   INCOMPLETE  resolving: broadcast requests every arp_retrans_ns, packets held
 *   REACHABLE   confirmed by a reply within neigh_reachable_ns
 *   STALE       usable, not recently confirmed; first use moves it to PROBE
 *   PROBE       unicast requests to the cached MAC; a reply makes it REACHABLE
 * Running out of retries in INCOMPLETE frees the entry and answers each held
 * packet with ICMP host unreachable to its sender (RFC 1122 2.3.2.2); in PROBE it
 * frees the entry so the next packet resolves afresh. Unused STALE entries are
 * collected after neigh_gc_ns. The table is preallocated; a full table recycles
 * the least recently used STALE entry.
 */
#ifndef SKIFF_NEIGH_H
#define SKIFF_NEIGH_H

#include <stdint.h>

#include "pkt.h"

struct skiff_stack;
struct skiff_iface;

enum skiff_neigh_state {
	SKIFF_NEIGH_NONE = 0,
	SKIFF_NEIGH_INCOMPLETE,
	SKIFF_NEIGH_REACHABLE,
	SKIFF_NEIGH_STALE,
	SKIFF_NEIGH_PROBE,
};

int skiff_neigh_table_create(struct skiff_stack *st);
void skiff_neigh_table_destroy(struct skiff_stack *st);

/* Send an IPv4 packet (data at the IP header; a `chain` of fragments each with its
 * own IP header) to nexthop on ifc: adds Ethernet headers and queues it, or holds
 * it while ARP resolves. Takes ownership. */
void skiff_neigh_output4(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t nexthop, struct skiff_pkt *p,
			 uint64_t now);
/* ARP input, data at the ARP header. Takes ownership. */
void skiff_arp_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now);
/* Gratuitous ARP announcing addr on ifc (RFC 5227 2.3). */
void skiff_arp_announce(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t addr, uint64_t now);
/* Inspection for tests and tools: state (and MAC when known), or SKIFF_NEIGH_NONE. */
enum skiff_neigh_state skiff_neigh_lookup4(struct skiff_stack *st, int ifindex, uint32_t ip, uint8_t mac[6]);
/* Packets currently held for resolution, over all entries. */
unsigned skiff_neigh_held(const struct skiff_stack *st);

#endif
