/* ip4.h — IPv4 input, output, fragmentation and reassembly (RFC 791, 1122, 1812). */
#ifndef SKIFF_IP4_H
#define SKIFF_IP4_H

#include <stdbool.h>
#include <stdint.h>

#include "pkt.h"
#include "route.h"
#include "wire_ip4.h"

struct skiff_stack;
struct skiff_iface;

struct skiff_ip4_tx {
	uint32_t src, dst;   /* host order */
	uint8_t proto, ttl, tos;
	bool df;
};

/* Input: data at the IP header. Takes ownership. */
void skiff_ip4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now);

/* Largest L4 bytes one fragment can carry on ifc (multiple of 8), and the largest
 * unfragmented L4 payload (mtu - 20). */
static inline uint32_t skiff_ip4_frag_payload(uint16_t mtu) { return (uint32_t)(mtu - IP4_HDR_LEN) & ~7u; }

/* Output an L4 message already split into fragment-sized pieces: `chain` links
 * the pieces (p->chain), the first holding the L4 header. Every piece but the
 * last must be a multiple of 8 bytes and at most skiff_ip4_frag_payload(mtu);
 * pieces that break this are re-cut (copied) into fresh frames. A single piece no
 * larger than mtu - 20 goes out unfragmented. Takes ownership; returns 0 or
 * -EMSGSIZE (DF and too big), -ENOBUFS, -ENETUNREACH. */
int skiff_ip4_output(struct skiff_stack *st, const struct skiff_route_res4 *rt, const struct skiff_ip4_tx *tx,
		     struct skiff_pkt *chain, uint64_t now);

/* The identification the next datagram to dst with proto will carry (tests). */
uint16_t skiff_ip4_id_peek(const struct skiff_stack *st, uint32_t dst, uint8_t proto);

/* Reassembly (ip_reasm.c, one table with IPv6). Takes a fragment (data at its payload, IP header at
 * l3_off). Returns the complete datagram as a chain (head = offset 0, data at its
 * payload) with ip->total_len updated, or NULL while incomplete or dropped. */
struct skiff_pkt *skiff_ip4_reasm(struct skiff_stack *st, struct skiff_pkt *p, struct ip4_repr *ip, uint64_t now);
int skiff_reasm_create(struct skiff_stack *st);
void skiff_reasm_destroy(struct skiff_stack *st);
/* Datagrams and bytes currently held, for tests. */
void skiff_reasm_usage(const struct skiff_stack *st, unsigned *datagrams, unsigned *bytes);

#endif
