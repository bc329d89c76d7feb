/* neigh.h — neighbour cache: ARP (RFC 826, RFC 1122 2.3.2) and IPv6 Neighbour
 * Discovery's cache (RFC 4861 7.3; the messages are nd.c's).
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
	SKIFF_NEIGH_DELAY,          /* IPv6 (RFC 4861 7.3.2): STALE used, waiting before probing */
};

/* How an ND message lets skiff_neigh_nd_update learn (RFC 4861 7.2.3, 7.2.5). */
enum {
	SKIFF_ND_ADVERT = 1u << 0,     /* an NA (else an NS/RS/RA source link-layer option) */
	SKIFF_ND_SOLICITED = 1u << 1,  /* NA S flag */
	SKIFF_ND_OVERRIDE = 1u << 2,   /* NA O flag */
};

int skiff_neigh_table_create(struct skiff_stack *st);
void skiff_neigh_table_destroy(struct skiff_stack *st);

/* Send an IPv4 packet (data at the IP header; a `chain` of fragments each with its
 * own IP header) to nexthop on ifc: adds Ethernet headers and queues it, or holds
 * it while ARP resolves. Takes ownership. */
void skiff_neigh_output4(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t nexthop, struct skiff_pkt *p,
			 uint64_t now);
/* IPv6: the same for an IPv6 packet (data at the fixed header) to nexthop; a
 * multicast nexthop maps to 33:33:xx (RFC 2464 7). */
void skiff_neigh_output6(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t nexthop[16],
			 struct skiff_pkt *p, uint64_t now);
/* What an ND message says about ip's link-layer address `mac` (NULL: the message
 * had no such option), `how`: SKIFF_ND_*. */
void skiff_neigh_nd_update(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t ip[16], const uint8_t *mac,
			   unsigned how, uint64_t now);
/* Upper-layer reachability confirmation (RFC 4861 7.3.1: new TCP data or ACKs
 * from ip): the entry becomes REACHABLE without a probe. */
void skiff_neigh_confirm6(struct skiff_stack *st, int ifindex, const uint8_t ip[16], uint64_t now);
enum skiff_neigh_state skiff_neigh_lookup6(struct skiff_stack *st, int ifindex, const uint8_t ip[16], uint8_t mac[6]);
/* ARP input, data at the ARP header. Takes ownership. */
void skiff_arp_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now);
/* Gratuitous ARP announcing addr on ifc (RFC 5227 2.3). */
void skiff_arp_announce(struct skiff_stack *st, struct skiff_iface *ifc, uint32_t addr, uint64_t now);
/* Inspection for tests and tools: state (and MAC when known), or SKIFF_NEIGH_NONE. */
enum skiff_neigh_state skiff_neigh_lookup4(struct skiff_stack *st, int ifindex, uint32_t ip, uint8_t mac[6]);
/* Packets currently held for resolution, over all entries. */
unsigned skiff_neigh_held(const struct skiff_stack *st);

#endif
