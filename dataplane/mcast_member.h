/* mcast_member.h — host-side multicast membership for one interface: IGMPv3
 * (RFC 3376) with IGMPv1/v2 compatibility, and MLDv2 (RFC 3810) with MLDv1
 * compatibility, as one protocol-neutral engine (the two RFCs share their host
 * rules section for section: RFC 3376 3/5/7/8 ↔ RFC 3810 4/6/8/9).
 *
 *   owners (sockets) ── set_filter / join / leave / source ──┐
 *     per (owner, group): mode INCLUDE|EXCLUDE + sources      │ RFC 3376 3.1
 *                                                             ▼
 *   interface state per group, merged over its owners        RFC 3376 3.2
 *     any EXCLUDE: EXCLUDE(∩ EXCLUDE lists − ∪ INCLUDE lists)
 *     else:        INCLUDE(∪ INCLUDE lists)
 *     a change     → State-Change Report now, then robustness − 1 more at
 *                    random in [0, Unsolicited Report Interval]; changes before
 *                    they are done merge into the pending ones (5.1)
 *   input_query  ──→ General: one report of all state after random [0, Max Resp]
 *                    Group / Group-and-Source: per-group pending response with
 *                    the merge rules (5.2); older-version queries start the Older
 *                    Version Querier Present timers (7.2.1, RFC 3810 8.2.1)
 *   input_report ──→ v1/v2 / MLDv1 mode: another member reported, stop ours
 *                    (RFC 2236 3)
 *   poll(now, emit) → every message due, built (mcast_msg.h) and handed to emit
 *   next_deadline() → when poll is needed next
 *
 * Compatibility (RFC 3376 7.2.1, RFC 3810 8.2.1): the mode is v1 while an IGMPv1
 * querier was heard within the Older Version Querier Present Timeout, else v2
 * while an IGMPv2 / MLDv1 querier was, else v3 (versions on the scale of
 * mcast_msg.h: MCAST_V2 is IGMPv2 and MLDv1, MCAST_V3 IGMPv3 and MLDv2). The
 * timeout is Robustness × Query Interval + the older query's Max Resp Time
 * (RFC 3376 8.12, RFC 3810 9.12; Robustness and Query Interval learned from v3
 * queries, 4.1.6 / 4.1.7, else 2 and 125 s). Every mode change cancels all
 * pending responses and retransmissions. In v1/v2 mode a group with reception
 * state is reported as a whole with v1/v2 reports (join: now, then robustness
 * − 1 repeats at random in [0, 10 s]; queries: random in [0, Max Resp Time],
 * restarted only if sooner, RFC 2236 3); leaving sends a v2 Leave / MLDv1 Done
 * only if this host sent the last report (RFC 2236 6, RFC 2710 4), v1 none.
 * A v3 query heard in v2 mode is answered as v2 (Max Resp decoded as v3, its
 * sources ignored); in v1 mode as a v1 General Query (10 s). Linux does the same.
 *
 * Never reported (but kept, for filtering and the MAC filter): 224.0.0.1 (RFC
 * 3376 5), ff02::1 and multicast scopes 0 and 1 (RFC 3810 6).
 *
 * Group-and-Source-Specific queries mark the queried sources on the interface
 * list instead of storing them (as Linux): INCLUDE(A) answers IS_IN(A∩marked);
 * EXCLUDE(A) answers nothing if every queried source is in A, else the full
 * IS_EX(A) (which tells the router all IS_IN(B−A) would, and more). So a query
 * never allocates and a storm of them cannot grow state.
 *
 * Bounds (all fixed at create, nothing allocated after it):
 *  - max_groups, default 256 groups per interface. Linux has no per-interface
 *    cap, only 20 groups per socket; a market-data receiver joins tens to
 *    hundreds of groups on one interface (raise it in the config for more).
 *    A group whose owners all left keeps its slot while its State-Change
 *    Reports retransmit; a join that finds the table full takes such a slot
 *    (what it had left to retransmit is dropped).
 *  - max_per_owner, default 20 groups per owner: Linux's igmp_max_memberships
 *    (a socket's 21st IP_ADD_MEMBERSHIP gets ENOBUFS there too). 0: no cap.
 *  - max_memberships, default 1024 (owner, group) filters.
 *  - max_owner_sources, default 10 (IGMP, Linux igmp_max_msf) / 64 (MLD, Linux
 *    mld_max_msf) sources per owner filter; more is ENOBUFS as in Linux.
 *  - max_group_sources, default 64 sources in a group's interface list (the
 *    union of its owners' INCLUDE lists is held to it, so EXCLUDE lists, which
 *    are intersections, are too) and in its retransmission list. 64 sources make
 *    a record that fits one minimum-MTU report (IPv4 576: 24 + 8 + 8 + 256 bytes;
 *    IPv6 1280: 48 + 8 + 20 + 1024), so no record is ever split or truncated
 *    (RFC 3376 4.2.16); create refuses an MTU too small for it.
 *  - max_sources, default 1024 source entries over all owner filters. The
 *    interface lists never hold more than the owner lists (each is a union or
 *    intersection of them), so a pool of 3 × max_sources (owners, interface lists,
 *    removed sources still being reported) never runs dry; removed sources past
 *    max_sources (or max_group_sources in one group) turn the group's pending
 *    change into a filter-mode-change record, which carries the whole state.
 *  Work: a query costs a scan of max_groups plus O(sources in the query ×
 *  max_group_sources); it only moves timers earlier and sets marks, so 100k
 *  queries leave at most one pending General response and one pending response
 *  per group, and a poll sends at most one message per group (v1/v2) or each
 *  group's current-state and state-change records once, packed (v3). A socket
 *  call costs O(memberships of the group × sources); poll and next_deadline a
 *  scan of max_groups.
 *
 * Output: emit gets each message with its IP destination (v3: 224.0.0.22 /
 * ff02::16; v1/v2 report: the group; Leave: 224.0.0.2; Done: ff02::2). The
 * caller sends it with TTL / hop limit 1 and a Router Alert (RFC 3376 4, RFC
 * 2236 2, RFC 3810 5: IPv4 option 148, IPv6 Hop-by-Hop option 5 value 0), IGMP
 * from the interface address (or 0.0.0.0, RFC 3376 4.2.13), MLD from its
 * link-local address (or :: before it has one, RFC 3810 5.2.13), writing the MLD
 * checksum with mld_set_csum() once the source is chosen. Timing: only `now`
 * from the caller; randomness only from cfg.rand.
 */
#ifndef SKIFF_MCAST_MEMBER_H
#define SKIFF_MCAST_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "mcast_msg.h"

/* Filter modes (RFC 3376 3.1). Linux's MCAST_INCLUDE / MCAST_EXCLUDE are 1 / 0. */
enum { MCAST_MODE_INCLUDE = 1, MCAST_MODE_EXCLUDE = 2 };

/* Source operations of the socket API (RFC 3678 4.1.2 / Linux IP_*_SOURCE_*). */
enum {
	MCAST_SRC_ADD = 1,   /* IP_ADD_SOURCE_MEMBERSHIP: INCLUDE one more source (joins if needed) */
	MCAST_SRC_DROP,      /* IP_DROP_SOURCE_MEMBERSHIP: INCLUDE one less (the last one leaves) */
	MCAST_SRC_BLOCK,     /* IP_BLOCK_SOURCE: EXCLUDE one more */
	MCAST_SRC_UNBLOCK,   /* IP_UNBLOCK_SOURCE: EXCLUDE one less */
};

struct mcast_member_config {
	uint8_t family;              /* SKIFF_AF_INET: IGMP; SKIFF_AF_INET6: MLD */
	uint8_t force_version;       /* 0: follow the queriers; MCAST_V1..V3: stay there, older
				      * queries answered in that version (Linux force_igmp_version /
				      * force_mld_version); MLD: V2 or V3 only */
	uint8_t robustness;          /* until a v3 query brings its QRV; default 2 (RFC 3376 8.1) */
	unsigned max_groups;         /* default 256 */
	unsigned max_memberships;    /* default 1024 */
	unsigned max_per_owner;      /* default 20; 0: no cap */
	unsigned max_owner_sources;  /* default 10 (IGMP) / 64 (MLD) */
	unsigned max_group_sources;  /* default 64, >= max_owner_sources */
	unsigned max_sources;        /* default 1024 */
	unsigned mtu;                /* IP MTU of the link, default 1500 */
	uint64_t unsolicited_ns;     /* v3 / MLDv2 Unsolicited Report Interval, default 1 s (RFC 3376 8.11, RFC 3810 9.11) */
	uint64_t unsolicited_old_ns; /* v1/v2 / MLDv1, default 10 s (RFC 2236 8.10, RFC 2710 7.10) */
	uint64_t query_interval_ns;  /* until a v3 query brings its QQIC; default 125 s (RFC 3376 8.2) */
	uint64_t (*rand)(void *ctx); /* required: uniform 64-bit values (the stack's skiff_rand64) */
	void *rand_ctx;
};

/* One message to send. msg is valid during the callback only. */
struct mcast_out {
	uint8_t type;                /* IGMP_V3_REPORT, IGMP_V2_REPORT, IGMP_V1_REPORT, IGMP_V2_LEAVE,
				      * MLD_V2_REPORT, MLD_V1_REPORT, MLD_V1_DONE */
	struct skiff_addr dst;
	const uint8_t *msg;          /* IGMP with its checksum; MLD with checksum 0 */
	size_t len;
};
typedef void (*mcast_emit_fn)(void *ctx, const struct mcast_out *o);

struct mcast_member_stats {
	uint64_t queries;            /* queries taken */
	uint64_t queries_ignored;    /* ... that asked about nothing we have */
	uint64_t reports_heard;      /* other members' v1/v2 reports that stopped one of ours */
	uint64_t msgs_out, records_out;
	uint64_t compat_changes;     /* mode switches (each cancels everything pending) */
	uint64_t evictions;          /* leaving groups whose retransmissions a join cut short */
	uint64_t escalations;        /* source changes that became a filter-mode-change record */
	/* occupancy now */
	unsigned groups, memberships, owner_sources, group_sources, removed_sources;
	unsigned pending;            /* timers running: General response + per group */
};

struct mcast_member;

void mcast_member_config_defaults(struct mcast_member_config *cfg, uint8_t family);
/* -EINVAL: bad family / limits / no rand / MTU too small for a full record; -ENOMEM. */
int mcast_member_create(const struct mcast_member_config *cfg, uint64_t now, struct mcast_member **out);
void mcast_member_destroy(struct mcast_member *m);

/* ---- owners (the socket layer; group and sources of cfg.family) ---- */
/* Set owner's filter on group (RFC 3376 2 IPMulticastListen): INCLUDE with no
 * source removes it. Sources are deduplicated. Errors, nothing changed:
 * -EINVAL (group not multicast, wrong family, bad mode), -ENOBUFS (more than
 * max_owner_sources, the owner at max_per_owner, tables full, or the group's
 * INCLUDE union past max_group_sources). */
int mcast_member_set_filter(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int mode,
			    const struct skiff_addr *src, unsigned n, uint64_t now);
/* IP_ADD_MEMBERSHIP: EXCLUDE{}; -EADDRINUSE if owner already has a filter on group. */
int mcast_member_join(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, uint64_t now);
/* IP_DROP_MEMBERSHIP; -EADDRNOTAVAIL if owner has no filter on group. */
int mcast_member_leave(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, uint64_t now);
/* MCAST_SRC_*: -EINVAL if the filter is in the other mode; -EADDRNOTAVAIL for
 * DROP/UNBLOCK of a source not there, or BLOCK/UNBLOCK/DROP without a filter;
 * ADD of a source already there and BLOCK of one already blocked are no-ops. */
int mcast_member_source(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int op,
			const struct skiff_addr *src, uint64_t now);
/* Owner's filter: mode and up to max sources (*n gets the full count).
 * -EADDRNOTAVAIL if it has none. */
int mcast_member_get_filter(const struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int *mode,
			    struct skiff_addr *src, unsigned max, unsigned *n);
/* Socket close: drop every filter of owner. Returns how many. */
unsigned mcast_member_drop_owner(struct mcast_member *m, uint64_t owner, uint64_t now);

/* ---- protocol input (parsed by mcast_msg.c, validity checked there) ---- */
/* A query heard on the interface. 0, or -EINVAL for a query of the other family. */
int mcast_member_input_query(struct mcast_member *m, const struct mcast_query *q, uint64_t now);
/* Another host's IGMPv1/v2 report or MLDv1 report for group. */
void mcast_member_input_report(struct mcast_member *m, const struct skiff_addr *group, uint64_t now);

/* ---- time ---- */
/* Earliest time poll() has something to do; UINT64_MAX when nothing is pending. */
uint64_t mcast_member_next_deadline(struct mcast_member *m);
/* Send everything due at now through emit. Returns the number of messages. */
unsigned mcast_member_poll(struct mcast_member *m, uint64_t now, mcast_emit_fn emit, void *ctx);

/* ---- lookups for input and the MAC / steering filter ---- */
/* Does the interface state accept src → group (RFC 3376 3.2)? */
bool mcast_member_accepts(const struct mcast_member *m, const struct skiff_addr *group, const struct skiff_addr *src);
/* Does owner's filter accept it (socket-level delivery, RFC 3376 3.1)? */
bool mcast_member_owner_accepts(const struct mcast_member *m, uint64_t owner, const struct skiff_addr *group,
				const struct skiff_addr *src);
/* Groups with reception state (not INCLUDE{}), up to max into out; returns how many there are. */
unsigned mcast_member_groups(const struct mcast_member *m, struct skiff_addr *out, unsigned max);
/* Bumped whenever the set of groups with reception state or any interface source list changes. */
uint32_t mcast_member_generation(const struct mcast_member *m);
/* The compatibility mode at now (MCAST_V1..V3); switches (and cancels) like every entry point. */
uint8_t mcast_member_version(struct mcast_member *m, uint64_t now);
void mcast_member_get_stats(const struct mcast_member *m, struct mcast_member_stats *out);

#endif
