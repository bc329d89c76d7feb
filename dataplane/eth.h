/* eth.h — Ethernet input demux and output framing. */
#ifndef SKIFF_ETH_H
#define SKIFF_ETH_H

#include <stdint.h>

#include "pkt.h"

struct skiff_stack;
struct skiff_iface;

/* Input: data at the Ethernet header. Takes ownership. */
void skiff_eth_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, uint64_t now);
/* Output: prepend an Ethernet header (tagged when the interface has a VLAN) and
 * queue for transmit. Takes ownership; a short headroom is a counted drop. */
void skiff_eth_output(struct skiff_stack *st, struct skiff_iface *ifc, const uint8_t dst[6], uint16_t type,
		      struct skiff_pkt *p);
/* 01:00:5e + low 23 bits of the group (RFC 1112 6.4). */
void skiff_eth_mcast_mac4(uint32_t group, uint8_t mac[6]);

#endif
