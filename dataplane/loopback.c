/* loopback.c — 127.0.0.0/8 served inside the stack (in-process loopback, as
 * Onload's loopback acceleration): a program that talks to itself over
 * 127.0.0.1 never reaches a device or the kernel.
 *
 * RFC 1122 3.2.1.3 (g): 127/8 is internal to the host and must never appear
 * outside it. The loopback is an interface like Linux's lo with 127.0.0.1/8:
 * no device, no link layer, every 127/8 address local. Off by default; once
 * enabled:
 *   route:     skiff_route_lookup4(127.x) → the loopback, source 127.0.0.1
 *              (Linux "local 127.0.0.0/8 dev lo src 127.0.0.1")
 *   addresses: skiff_stack_local4(127.x) → the loopback (bind to any of 127/8)
 *   output:    ip4_output sends everything routed to it to the stack's local
 *              queue (as datagrams to our own addresses), checksums never
 *              computed (TX_L4_CSUM → RX_L4_CSUM_GOOD, nothing crosses a wire)
 *   input:     skiff_stack_poll → ip4_input on the loopback; frames carry
 *              SKIFF_PKT_LOCAL, which alone exempts them from the 127/8
 *              source and destination drops. Device frames keep those drops,
 *              and skiff_stack_input refuses the loopback's index.
 *   leaving:   a 127/8 source routed to a device is refused (-EINVAL, as
 *              Linux's __mkroute_output) and counted (IP4_OUT_LOOPBACK_SRC).
 *   peers:     skiff_stack_loopback_peer4 tells the socket layer whether a
 *              listener / bound UDP socket for a 127/8 address:port is in this
 *              stack; if not, the peer can only be the kernel's.
 * Frames: from the pool given (the caller owns it and frees it after the
 * stack), or the first interface's pool. MTU: given, or that interface's, or
 * 1500; TCP's MSS follows it (mtu - 40) as on any interface.
 */
#include "stack.h"

#include <errno.h>

#include "tcp_internal.h"
#include "udp.h"

#define LO_ADDR 0x7f000001u /* 127.0.0.1 */
#define LO_PLEN 8
#define LO_MTU_DEFAULT 1500

int skiff_stack_enable_loopback(struct skiff_stack *st, struct skiff_pool *pool, uint16_t mtu)
{
	/* add_iface wants a unicast MAC; the loopback's is all zeros as Linux's lo,
	 * set after (nothing frames on it) */
	static const uint8_t placeholder_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	struct skiff_iface *ifc;
	int ifx;

	if (st->lo_ifindex >= 0)
		return -EEXIST;
	if (!pool) {
		const struct skiff_iface *first = NULL;
		for (int i = 0; i < SKIFF_MAX_IFACES && !first; i++)
			if (st->ifaces[i].used)
				first = &st->ifaces[i];
		if (!first)
			return -ENODEV;
		pool = first->pool;
		if (!mtu)
			mtu = first->mtu;
	}
	if (!mtu)
		mtu = LO_MTU_DEFAULT;
	ifx = skiff_stack_add_iface(st, "lo", placeholder_mac, mtu, SKIFF_IFCAP_TX_L4_CSUM, pool);
	if (ifx < 0)
		return ifx;
	ifc = &st->ifaces[ifx];
	for (unsigned i = 0; i < 6; i++)
		ifc->mac[i] = 0;
	ifc->loopback = true;
	ifc->v4[0].addr = LO_ADDR;
	ifc->v4[0].plen = LO_PLEN;
	ifc->n_v4 = 1;
	st->lo_ifindex = ifx;
	st->route_gen++; /* cached routes to 127/8 (none yet) and local lookups change */
	return ifx;
}

bool skiff_stack_loopback_peer4(struct skiff_stack *st, uint8_t proto, uint32_t addr, uint16_t port)
{
	if (st->lo_ifindex < 0 || !ip4_is_loopback(addr))
		return false;
	if (proto == IPPROTO_TCP_)
		return tcp_lookup_listener(st, addr, port, st->lo_ifindex) != NULL;
	if (proto == IPPROTO_UDP_)
		return skiff_udp_port_open4(st, addr, port, st->lo_ifindex);
	return false;
}
