/* mcast_kernel.h — skiff's multicast groups on an interface the kernel owns
 * (AF_XDP): the kernel joins them too, and the XDP program steers their
 * datagrams to skiff.
 *
 * Why the kernel joins (the design for AF_XDP): XDP cannot clone a frame, and
 * both the kernel (for its own groups) and skiff need IGMP/MLD queries. So every
 * IGMP frame stays with the kernel (ebpf/steer.bpf.c passes protocol 2 whatever
 * its destination), and each group skiff joins is also joined by the kernel on
 * the same interface, with a kernel UDP socket per group (IP_ADD_MEMBERSHIP /
 * IPV6_JOIN_GROUP with the interface index; the socket is never bound, so it
 * receives nothing). The kernel then does what a host must: it programs the
 * NIC's multicast MAC filter (ip_mc_filter_add → dev_mc_add, so no separate
 * PACKET_ADD_MEMBERSHIP / SIOCADDMULTI is needed), sends the State-Change
 * Reports, answers General and Group-Specific queries and keeps IGMPv2/v1
 * compatibility, and leaves when skiff's last member leaves (the socket closes).
 * skiff's own engine keeps the per-socket state (delivery and source filters)
 * and stays silent on such an interface (SKIFF_DEV_CAP_KERNEL_MCAST). The
 * kernel-side join is any-source (EXCLUDE{}): the router is asked for every
 * source and skiff filters per socket; a source-specific join is therefore not
 * source-specific on the wire on AF_XDP (it is on DPDK, where skiff speaks).
 * The groups' datagrams go to skiff through the steering map (ip4_addrs /
 * ip6_addrs); the kernel's own groups on the interface are not in it and stay
 * with the kernel.
 */
#ifndef SKIFF_MCAST_KERNEL_H
#define SKIFF_MCAST_KERNEL_H

#include "driver.h"

struct skiff_mcast_kernel;
struct skiff_xdp_steer;

/* Make the kernel's joins and the steering map match groups[0..n) on ifname.
 * *mk is created on first use. 0, or the first -errno (what could be done is
 * done). */
int skiff_mcast_kernel_set(struct skiff_mcast_kernel **mk, const char *ifname, struct skiff_xdp_steer *steer,
			   const struct skiff_dev_mcast *groups, unsigned n);
/* Leave everything (closes the sockets) and free; steer may be NULL (already closed). */
void skiff_mcast_kernel_close(struct skiff_mcast_kernel *mk, struct skiff_xdp_steer *steer);

#endif
