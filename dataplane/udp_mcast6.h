/* udp_mcast6.h — UDP's IPv6 multicast rules (the twins of udp_mcast.h's IPv4 ones).
 *
 *   receive: udp_deliver's fan-out asks udp_mcast_sock_accepts6 per socket, as
 *            Linux inet6_mc_check: a socket with a membership on (group,
 *            receiving interface) takes what its filter accepts (RFC 3810 4.1);
 *            one without takes it only with IPV6_MULTICAST_ALL on (the default)
 *            and when the interface state accepts the source (RFC 3810 4.2).
 *   send:    udp6_route takes IPV6_MULTICAST_IF (sk->mc6_if) for a multicast
 *            destination when neither the bound device, IPV6_PKTINFO nor the
 *            scope_id named one (Linux udpv6_sendmsg: flowi6_oif = mcast_oif);
 *            udp_mcast_loop6 loops a copy of what is sent back to input when
 *            IPV6_MULTICAST_LOOP is on (the default) and the interface has
 *            reception state accepting it (Linux ip6_finish_output2's
 *            ipv6_chk_mcast_addr), so local members receive our own sends.
 * Leaving on close is udp_mcast_close's (one owner id for both families).
 */
#ifndef SKIFF_UDP_MCAST6_H
#define SKIFF_UDP_MCAST6_H

#include <stdbool.h>
#include <stdint.h>

#include "ip6.h"

struct skiff_stack;
struct skiff_udp_sock;

bool udp_mcast_sock_accepts6(struct skiff_stack *st, const struct skiff_udp_sock *sk, const uint8_t src[16],
			     const uint8_t dst[16], int ifindex);
/* The output interface IPV6_MULTICAST_IF names for dst, or -1. */
int udp_mcast_oif6(const struct skiff_udp_sock *sk, const uint8_t dst[16]);
/* chain: the UDP datagram as it goes to skiff_ip6_output (not consumed). */
void udp_mcast_loop6(struct skiff_stack *st, const struct skiff_udp_sock *sk, const struct skiff_route_res6 *rt,
		     const struct skiff_ip6_tx *tx, const struct skiff_pkt *chain);

#endif
