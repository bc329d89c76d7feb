/* icmp4.h — ICMPv4 input and error generation (RFC 792, RFC 1122 3.2.2). */
#ifndef SKIFF_ICMP4_H
#define SKIFF_ICMP4_H

#include <stdint.h>

#include "pkt.h"
#include "wire_icmp4.h"
#include "wire_ip4.h"

struct skiff_stack;
struct skiff_iface;

/* Input: data at the ICMP header (a chain when reassembled). Takes ownership. */
void skiff_icmp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p,
		       const struct ip4_repr *ip, uint64_t now);
/* Send an ICMP error about `orig` (its IP header at head + l3_off). Does not take
 * ownership of orig. Applies RFC 1122 3.2.2 suppression rules and the rate limit.
 * When orig came from this stack, the error is delivered locally to the socket. */
void skiff_icmp4_send_error(struct skiff_stack *st, const struct skiff_pkt *orig, uint8_t type, uint8_t code,
			    uint32_t rest, uint64_t now);

#endif
