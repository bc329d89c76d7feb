/* udp_mcast.h — UDP's multicast rules (udp.c calls these at a few hook points).
 *
 *   receive: the fan-out in udp4_input gives every socket bound to the port (and
 *            to the group or the wildcard) a copy; udp_mcast_sock_accepts4 then
 *            filters per socket as Linux ip_mc_sf_allow: a socket with a
 *            membership on (group, receiving interface) takes what its filter
 *            accepts (RFC 3376 3.1); one without takes it only with
 *            IP_MULTICAST_ALL on (the default); 224.0.0.0/24 follows
 *            IP_MULTICAST_ALL alone.
 *   send:    udp_mcast_route4 picks the interface (SO_BINDTODEVICE, else
 *            IP_MULTICAST_IF, else the route) and the source (the
 *            IP_MULTICAST_IF address when the socket is not bound to one);
 *            udp_mcast_loop4 loops a copy back to input when IP_MULTICAST_LOOP is
 *            on (the default) and the interface has joined the group (Linux
 *            ip_mc_output: RTCF_LOCAL), so local members, the sender included,
 *            receive our own sends as on Linux.
 *   close:   udp_mcast_close leaves every group the socket joined.
 * A socket's owner id for the membership engines is its address (the table is
 * preallocated, and close drops the memberships before reuse).
 */
#ifndef SKIFF_UDP_MCAST_H
#define SKIFF_UDP_MCAST_H

#include <stdbool.h>
#include <stdint.h>

#include "ip4.h"
#include "route.h"

struct skiff_stack;
struct skiff_udp_sock;

static inline uint64_t udp_mcast_owner(const struct skiff_udp_sock *sk) { return (uint64_t)(uintptr_t)sk; }

bool udp_mcast_sock_accepts4(struct skiff_stack *st, const struct skiff_udp_sock *sk, uint32_t src, uint32_t dst,
			     int ifindex);
int udp_mcast_route4(struct skiff_stack *st, const struct skiff_udp_sock *sk, uint32_t dst,
		     struct skiff_route_res4 *rt);
/* chain: the UDP datagram as it goes to skiff_ip4_output (not consumed). */
void udp_mcast_loop4(struct skiff_stack *st, const struct skiff_udp_sock *sk, const struct skiff_route_res4 *rt,
		     const struct skiff_ip4_tx *tx, const struct skiff_pkt *chain);
void udp_mcast_close(struct skiff_stack *st, struct skiff_udp_sock *sk);

#endif
