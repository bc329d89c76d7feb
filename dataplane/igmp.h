/* igmp.h — the stack's multicast membership glue: one host membership engine
 * (mcast_member.h) per interface and family, IGMP in and out, the per-group
 * receive checks the IP and Ethernet layers ask, and the timers.
 *
 *   socket layer ── skiff_mcast_join/leave/source/drop_owner ──→ engine of (family, ifindex)
 *                                                                 (created at the first join)
 *   ip4_input: proto 2 ──→ skiff_igmp_input: igmp_parse (named drops) → query / report
 *   ip4_input: multicast dst ──→ skiff_igmp_rcv4: 224.0.0.1, or the interface state
 *                                accepts (group, source) (RFC 3376 3.2); IGMP itself
 *                                for any joined group (as Linux ip_check_mc_rcu)
 *   eth_input: 01:00:5e MAC ──→ skiff_igmp_mac_ok: a joined group maps to it (RFC 1112 6.4)
 *   stack poll ──→ skiff_mcast_poll: every engine's due messages → IPv4 header with
 *                  TTL 1, TOS 0xc0 and a Router Alert option (RFC 3376 4, RFC 2113),
 *                  from the interface address (or 0.0.0.0, RFC 3376 4.2.13), to the
 *                  engine's destination on its multicast MAC (neigh_output4)
 *   stack next_deadline ──→ skiff_mcast_next_deadline (cached after every engine call)
 *
 * An interface whose driver has SKIFF_IFCAP_KERNEL_MCAST (AF_XDP: the kernel owns
 * the interface, keeps IGMP queries and joins skiff's groups itself, see
 * drivers/mcast_kernel.c) keeps its state but sends nothing: the kernel speaks
 * IGMP for it. MLD (family SKIFF_AF_INET6) engines are created the same way; MLD
 * in and out, and the IPv6 group checks, are mld.c's (mld.h).
 * Owners are opaque 64-bit ids (the UDP layer uses the socket's address).
 */
#ifndef SKIFF_IGMP_H
#define SKIFF_IGMP_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ip4.h"
#include "mcast_member.h"
#include "pkt.h"

struct skiff_stack;
struct skiff_iface;

/* Interface capability (same bit as drivers' SKIFF_DEV_CAP_KERNEL_MCAST): the
 * kernel answers IGMP/MLD for this interface, the stack stays silent. */
#define SKIFF_IFCAP_KERNEL_MCAST (1u << 3)

struct skiff_mcast_counters {
	uint64_t igmp_in, queries_in, reports_in, leaves_in, v3_reports_in;
	uint64_t igmp_out, igmp_silenced;   /* built; not sent because the kernel speaks for the interface */
	/* MLD (mld.c) */
	uint64_t mld_in, mld_queries_in, mld_reports_in, mld_dones_in, mld_v2_reports_in;
	uint64_t mld_out, mld_silenced;
};

/* ---- owners (socket layer) ---- */
/* The engine of (family, ifindex), created on demand (create true). NULL:
 * no such interface, or (create false) none yet, or create failed (*err). */
struct mcast_member *skiff_mcast_engine(struct skiff_stack *st, uint8_t family, int ifindex, bool create, int *err);
int skiff_mcast_join(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
		     uint64_t now);
int skiff_mcast_leave(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
		      uint64_t now);
/* MCAST_SRC_* (mcast_member.h). */
int skiff_mcast_source(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group, int op,
		       const struct skiff_addr *src, uint64_t now);
/* Owner's whole filter (mcast_member_set_filter; INCLUDE{} leaves). */
int skiff_mcast_set_filter(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
			   int mode, const struct skiff_addr *src, unsigned n, uint64_t now);
/* Owner's filter at ifindex: mode and up to max sources (*n the full count); -EADDRNOTAVAIL if none. */
int skiff_mcast_get_filter(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
			   int *mode, struct skiff_addr *src, unsigned max, unsigned *n);
/* Has owner a filter on group at ifindex? */
bool skiff_mcast_owner_has(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group);
/* Socket close: leave everything owner joined, on every interface. */
void skiff_mcast_drop_owner(struct skiff_stack *st, uint64_t owner, uint64_t now);

/* ---- the driver's filter (socket layer syncs it) ---- */
/* Groups of (family, ifindex) with reception state, up to max; returns how many there are. */
unsigned skiff_mcast_groups(struct skiff_stack *st, uint8_t family, int ifindex, struct skiff_addr *out, unsigned max);
/* Has the group set of ifindex (both families) changed since skiff_mcast_synced()? */
bool skiff_mcast_dirty(struct skiff_stack *st, int ifindex);
void skiff_mcast_synced(struct skiff_stack *st, int ifindex);

/* ---- input / lookups (IP and Ethernet layers) ---- */
void skiff_igmp_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		      uint64_t now);
/* A multicast datagram (data at its IPv4 header) for this host on ifc? Sets SKIFF_PKT_MCAST. */
bool skiff_igmp_rcv4(struct skiff_stack *st, const struct skiff_iface *ifc, struct skiff_pkt *p);
/* Does the 01:00:5e MAC dst belong to a group joined on ifindex (or 224.0.0.1)? */
bool skiff_igmp_mac_ok(struct skiff_stack *st, int ifindex, const uint8_t *dst);
/* Does the interface state of ifindex accept src → group (IPv4, host order)? 224.0.0.1 always. */
bool skiff_igmp_accepts(struct skiff_stack *st, int ifindex, uint32_t group, uint32_t src);

/* ---- time ---- */
void skiff_mcast_poll(struct skiff_stack *st, uint64_t now);
uint64_t skiff_mcast_next_deadline(const struct skiff_stack *st);

void skiff_mcast_get_counters(const struct skiff_stack *st, struct skiff_mcast_counters *out);

/* ---- for mld.c (MLD glue) ---- */
/* The counters to bump, NULL before the first join. */
struct skiff_mcast_counters *skiff_mcast_ctr(struct skiff_stack *st);
/* The cached groups with reception state of (family, ifindex); NULL (*n 0) if no engine. */
const struct skiff_addr *skiff_mcast_cached(struct skiff_stack *st, uint8_t family, int ifindex, unsigned *n);
/* After an engine call outside this file (a query): recompute the cached deadline. */
void skiff_mcast_refresh(struct skiff_stack *st);
void skiff_mcast_destroy(struct skiff_stack *st);

#endif
