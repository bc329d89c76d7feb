/* steer_maps.h — the one header the XDP steering program and its user-space
 * loader share (xdp-tools common_kern_user.h style): map sizes, key/value
 * layouts and the verdict counter indices.
 *
 * Maps (names are the skeleton's field names):
 *   xsks        XSKMAP, rx queue index → AF_XDP socket
 *   ip4_addrs   HASH, IPv4 address (network order) → SKIFF_STEER_ADDR_*
 *               skiff's unicast addresses and the broadcast/multicast ones it
 *               receives; also what ARP targets are matched against
 *   ip6_addrs   HASH, struct skiff_steer_ip6 → SKIFF_STEER_ADDR_*
 *               unicast, multicast groups; also what ND targets are matched against
 *   mac_addrs   HASH, struct skiff_steer_mac → SKIFF_STEER_ADDR_*
 *               link-layer multicast groups: every frame to one of them is skiff's
 *   counters    PERCPU_ARRAY, enum skiff_steer_counter → struct skiff_steer_count
 * Only fixed-width types: the same bytes are read by both sides.
 */
#ifndef SKIFF_STEER_MAPS_H
#define SKIFF_STEER_MAPS_H

#include <linux/types.h>

#define SKIFF_STEER_PROG_NAME "skiff_steer"  /* how a stale program is recognised */
#define SKIFF_STEER_MAX_QUEUES 256
#define SKIFF_STEER_MAX_IP4 1024
#define SKIFF_STEER_MAX_IP6 1024
#define SKIFF_STEER_MAX_MAC 256

/* Map values: why an address is in a map (informational; any entry matches). */
enum {
	SKIFF_STEER_ADDR_UNICAST = 1,
	SKIFF_STEER_ADDR_MULTICAST = 2,
	SKIFF_STEER_ADDR_BROADCAST = 3,
};

struct skiff_steer_ip6 {
	__u8 addr[16];
};

struct skiff_steer_mac {
	__u8 addr[6];
	__u8 pad[2];  /* always zero: part of the hash key */
};

/* One counter slot per verdict or match reason. A redirected frame counts in
 * REDIRECTED and in the MATCH_* slot that selected it; every frame counts in
 * exactly one of PASSED, REDIRECTED, NO_XSK, PARSE_ERROR. */
enum skiff_steer_counter {
	SKIFF_STEER_PASSED = 0,     /* not skiff's: left to the kernel */
	SKIFF_STEER_REDIRECTED,     /* handed to the XSK of the receiving queue */
	SKIFF_STEER_NO_XSK,         /* skiff's, but no socket on that queue: passed (redirect_failed) */
	SKIFF_STEER_PARSE_ERROR,    /* truncated or malformed header: passed to the kernel */
	SKIFF_STEER_MATCH_IP4,      /* IPv4 destination in ip4_addrs */
	SKIFF_STEER_MATCH_ARP,      /* ARP target protocol address in ip4_addrs */
	SKIFF_STEER_MATCH_IP6,      /* IPv6 destination in ip6_addrs */
	SKIFF_STEER_MATCH_ND,       /* ICMPv6 NS/NA whose target is in ip6_addrs */
	SKIFF_STEER_MATCH_MAC,      /* destination MAC in mac_addrs */
	SKIFF_STEER_NCOUNTERS
};

#define SKIFF_STEER_COUNTER_NAMES \
	{ "passed", "redirected", "redirect_failed", "parse_error", \
	  "match_ip4", "match_arp", "match_ip6", "match_nd", "match_mac" }

struct skiff_steer_count {
	__u64 packets;
	__u64 bytes;
};

#endif
