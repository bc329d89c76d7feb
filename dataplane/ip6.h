/* ip6.h — IPv6 input, output, fragmentation and reassembly (RFC 8200), the
 * ICMPv6 layer (RFC 4443) and Neighbour Discovery (RFC 4861, 4862) entry points.
 *
 * Input:  eth → skiff_ip6_input (ip6_input.c): fixed header, addresses, the
 *   extension-header walk (ip6_exthdr.c), reassembly (skiff_ip6_reasm), then
 *   UDP / TCP / ICMPv6 (icmp6.c: echo, errors, ND in nd.c, MLD).
 * Output: L4 → skiff_ip6_output (ip6_output.c): route (route6.c), header, a
 *   Fragment header per piece when the message is larger than the path MTU,
 *   then the neighbour layer (neigh.c with ND probes) or the local queue.
 */
#ifndef SKIFF_IP6_H
#define SKIFF_IP6_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ip6_exthdr.h"
#include "pkt.h"
#include "wire_ip6.h"

struct skiff_stack;
struct skiff_iface;

/* A resolved IPv6 route (route6.c). */
struct skiff_route_res6 {
	int ifindex;
	uint8_t nexthop[16]; /* gateway, or the destination itself when on-link */
	uint8_t src[16];     /* source address to use (RFC 6724 rule subset) */
	uint32_t mtu;        /* path MTU known for the destination (RFC 8201), else the link's */
	bool local;          /* the destination is one of our own addresses */
};

struct skiff_ip6_tx {
	uint8_t src[16], dst[16];
	uint8_t proto, hop_limit, tclass;
	uint32_t flow;       /* flow label (20 bits) */
	bool dontfrag;       /* IPV6_DONTFRAG: -EMSGSIZE instead of fragmenting */
};

/* Input: data at the IPv6 fixed header. Takes ownership. */
void skiff_ip6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now);

/* Largest L4 bytes one fragment can carry for a path MTU (multiple of 8, after
 * the fixed header and an 8-byte Fragment header), and the largest unfragmented
 * L4 payload (mtu - 40). */
static inline uint32_t skiff_ip6_frag_payload(uint32_t mtu) { return (mtu - IP6_HDR_LEN - 8) & ~7u; }

/* Output an L4 message already split into pieces (`chain` through p->chain, the
 * first holding the L4 header), as skiff_ip4_output: pieces that break the
 * fragment rules are re-cut. A single piece of at most rt->mtu - 40 bytes goes out
 * whole; otherwise every piece gets a Fragment header (RFC 8200 4.5, one random
 * identification per datagram, never atomic fragments: RFC 8021). Takes
 * ownership; 0 or -EMSGSIZE (dontfrag), -ENOBUFS, -ENETUNREACH. */
int skiff_ip6_output(struct skiff_stack *st, const struct skiff_route_res6 *rt, const struct skiff_ip6_tx *tx,
		     struct skiff_pkt *chain, uint64_t now);

/* Send a packet built whole (data at its fixed header: ICMPv6 and ND messages
 * from their builders) on rt: the neighbour layer, or the local queue. */
int skiff_ip6_output_packet(struct skiff_stack *st, const struct skiff_route_res6 *rt, struct skiff_pkt *p,
			    uint64_t now);

/* Reassembly (ip_reasm.c, shared with IPv4). p: a fragment, data at its fixed
 * header (l3_off == off), x: ip6_ext_walk's result for it (x->frag set).
 * Returns the whole datagram when this fragment completes it: a chain whose head
 * is the first fragment, data at the upper-layer header (the fragmentable part's
 * extension headers already skipped: the walk of the first fragment found them),
 * l3_off at its fixed header (payload length rewritten to the whole datagram and
 * the Fragment header's Next Header field copied into the header before it, so an
 * error quoting it quotes what Linux quotes), *proto the upper-layer protocol.
 * NULL while incomplete or dropped (named drops; ICMPv6 Parameter Problem for a
 * non-final fragment not a multiple of 8 bytes or one past 65535 (RFC 8200 4.5),
 * Time Exceeded code 1 on timeout when the first fragment came). RFC 5722: any
 * overlap drops the whole datagram. Limits are IPv4's (reasm_slots, reasm_mem,
 * reasm_max_frags, reasm_timeout_ns), shared by both families. */
struct skiff_pkt *skiff_ip6_reasm(struct skiff_stack *st, struct skiff_pkt *p, const struct ip6_ext_info *x,
				  uint8_t *proto, uint64_t now);

/* ICMPv6 (icmp6.c). Input: data at the ICMPv6 header, l3_off at the fixed header. */
void skiff_icmp6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p,
		       const struct ip6_repr *ip, uint64_t now);
/* Send an error about p (l3_off at its fixed header; p is not consumed) if RFC
 * 4443 2.4 (e) allows it and the rate limiter has a token. */
void skiff_icmp6_send_error(struct skiff_stack *st, const struct skiff_pkt *p, uint8_t type, uint8_t code,
			    uint32_t param, uint64_t now);

#endif
