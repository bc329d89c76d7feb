/* nd_msg.h — Neighbour Discovery messages (RFC 4861 4) for Ethernet: parse with
 * every validity check of RFC 4861 6.1.1 (RS), 6.1.2 (RA), 7.1.1 (NS), 7.1.2 (NA)
 * and 8.1 (Redirect); the options (4.6: link-layer addresses, Prefix Information,
 * Redirected Header, MTU; unknown ones skipped); builders for RS, NS (multicast,
 * unicast, DAD) and NA; the modified EUI-64 link-local address (RFC 4291 App. A,
 * RFC 4862 5.3). No neighbour cache or router list here: those are the state
 * machine's. The order of the checks is in nd_msg.c's header comment.
 *
 * Builders write the whole IPv6 packet (fixed header with hop limit 255, next
 * header 58, then the message with its checksum) into caller space and return its
 * length, or -ENOSPC (cap too small) / -EINVAL (a message the receiver would
 * refuse). Link-layer addresses are Ethernet MACs (6 bytes, option length 1,
 * RFC 2464 6). Addresses are the 16 wire bytes.
 */
#ifndef SKIFF_ND_MSG_H
#define SKIFF_ND_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "view.h"
#include "wire_icmp6.h"
#include "wire_ip6.h"

#define ND_HOP_LIMIT 255 /* RFC 4861 6.1, 7.1, 8.1: a packet no router forwarded */

/* Minimum ICMPv6 lengths: header and fixed fields (RFC 4861 4.1-4.5). */
#define ND_RS_LEN 8
#define ND_RA_LEN 16
#define ND_NS_LEN 24
#define ND_NA_LEN 24
#define ND_REDIRECT_LEN 40

/* Option types (RFC 4861 4.6). */
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_OPT_PREFIX 3
#define ND_OPT_REDIR_HDR 4
#define ND_OPT_MTU 5
#define ND_OPT_UNIT 8        /* the option length field counts 8-byte units */
#define ND_LLAO_LEN 8        /* Ethernet: type, length 1, 6-byte MAC (RFC 2464 6) */
#define ND_PREFIX_OPT_LEN 32 /* 4.6.2: length 4 */
#define ND_MTU_OPT_LEN 8     /* 4.6.4: length 1 */
#define ND_REDIR_HDR_OFF 8   /* 4.6.3: the quoted packet starts after 8 bytes */

/* NA flags: byte 4 of the message (4.4). */
#define ND_NA_ROUTER 0x80
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE 0x20
/* RA flags: byte 5 (4.2; the others are RFC 4191 Prf, RFC 3775 H, RFC 5175 ...). */
#define ND_RA_MANAGED 0x80
#define ND_RA_OTHER 0x40
/* Prefix Information flags (4.6.2). */
#define ND_PREFIX_ONLINK 0x80
#define ND_PREFIX_AUTO 0x40
#define ND_LIFETIME_INFINITE 0xffffffffu

/* Interface identifier bits on Ethernet (RFC 2464 4, RFC 4291 2.5.1). */
#define ND_IID_BITS 64

/* nd_parse flags */
#define ND_PARSE_CSUM_DONE 1u /* the checksum was verified already (icmp6_csum_ok or offload) */

struct nd_msg {
	uint8_t type;           /* ICMP6_ND_RS .. ICMP6_ND_REDIRECT */
	uint8_t target[16];     /* NS, NA, Redirect */
	uint8_t dest[16];       /* Redirect: the Destination Address */
	uint8_t na_flags;       /* NA: ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE */
	/* RA */
	uint8_t cur_hop_limit;  /* 0: unspecified */
	uint8_t ra_flags;       /* the whole byte: ND_RA_MANAGED, ND_RA_OTHER, ... */
	uint16_t router_lifetime; /* seconds; 0: not a default router */
	uint32_t reachable_time;  /* ms; 0: unspecified */
	uint32_t retrans_timer;   /* ms; 0: unspecified */
	/* options the message type uses (4.6; the first of each kind counts) */
	bool has_sllao, has_tllao, has_mtu;
	uint8_t sllao[6];       /* RS, RA, NS */
	uint8_t tllao[6];       /* NA, Redirect */
	uint32_t mtu;           /* RA: as sent; nd_mtu_usable() says whether to take it */
	uint16_t n_prefix;      /* RA: Prefix Information options, walk them with nd_prefix_next */
	struct view redir;      /* Redirect: the Redirected Header's quoted packet (p NULL: none) */
	struct view opts;       /* all the options, checked well-formed */
	uint16_t n_opts;        /* options in the message */
	uint16_t n_ignored;     /* ... skipped: unknown, not for this type, a repeat, a bad MTU length */
	enum icmp6_fail fail;   /* why nd_parse refused it */
};

/* Parse and validate the ND message msg (the ICMPv6 message, l4_off to the end of
 * the payload) carried by the packet whose fixed header is ip (src, dst,
 * hop_limit). flags: ND_PARSE_*. 0, or -EBADMSG with m->fail set. The checks
 * that need state stay with the caller: 8.1's "source is the current first-hop
 * router for the Destination", 7.2.3's "target is one of ours", and the maximum
 * link MTU of 6.3.4. */
int nd_parse(const struct ip6_repr *ip, struct view msg, unsigned flags, struct nd_msg *m);

/* A Prefix Information option (4.6.2) and what may be done with it. */
struct nd_prefix {
	uint8_t plen;
	uint8_t flags;           /* ND_PREFIX_ONLINK | ND_PREFIX_AUTO | reserved */
	uint32_t valid_lft;      /* seconds; ND_LIFETIME_INFINITE */
	uint32_t preferred_lft;
	uint8_t prefix[16];      /* as sent: bits past plen are not cleared */
	enum nd_prefix_use {
		ND_PREFIX_OK = 0,
		ND_PREFIX_SHORT,     /* option shorter than 32 bytes: ignored (4.6.2; Linux) */
		ND_PREFIX_BAD_PLEN,  /* prefix length > 128: ignored */
		ND_PREFIX_LINK_LOCAL, /* fe80::/10: ignored (RFC 4861 6.3.4, RFC 4862 5.5.3 (b)) */
		ND_PREFIX_MULTICAST, /* ff00::/8: ignored (Linux's addrconf_prefix_rcv) */
		ND_PREFIX_LIFETIMES, /* preferred > valid: ignored (RFC 4862 5.5.3 (c); Linux
		                      * ignores the whole option, on-link part included) */
	} bad;                   /* ND_PREFIX_OK or why the whole option is ignored */
	bool onlink;             /* usable for on-link determination (6.3.4): L set, !bad */
	bool slaac;              /* usable for autoconfiguration (RFC 4862 5.5.3): A set,
	                          * !bad, plen + ND_IID_BITS == 128 (5.5.3 (d)) */
};

/* Walk the Prefix Information options: *it starts as m->opts (from a successful
 * nd_parse); each call returns true with the next one in *p, false at the end. */
bool nd_prefix_next(struct view *it, struct nd_prefix *p);

/* Take an RA's MTU option (6.3.4): present, at least the IPv6 minimum and at most
 * what the link allows. */
static inline bool nd_mtu_usable(const struct nd_msg *m, uint32_t link_max)
{
	return m->has_mtu && m->mtu >= IP6_MIN_MTU && m->mtu <= link_max;
}

/* ---- builders ---- */

enum nd_ns_kind {
	ND_NS_MULTICAST, /* address resolution: to the target's solicited-node group (7.2.2) */
	ND_NS_UNICAST,   /* reachability confirmation: to the target itself (7.3.1) */
	ND_NS_DAD,       /* duplicate address detection: from ::, to the solicited-node
	                  * group, no source link-layer option (RFC 4862 5.4.2) */
};

/* A Neighbor Solicitation for target from src (ignored for DAD; otherwise unicast,
 * not ::) carrying sll_mac as the source link-layer option (NULL: none; must be
 * NULL for DAD). -EINVAL for a multicast target. */
int nd_build_ns(uint8_t *pkt, size_t cap, enum nd_ns_kind kind, const uint8_t *src, const uint8_t *target,
		const uint8_t *sll_mac);

/* A Neighbor Advertisement src → dst for target with flags ND_NA_* (other bits
 * dropped) and tll_mac as the target link-layer option (NULL: none). -EINVAL for
 * a multicast source or target, or the Solicited flag to a multicast destination. */
int nd_build_na(uint8_t *pkt, size_t cap, const uint8_t *src, const uint8_t *dst, const uint8_t *target,
		uint8_t flags, const uint8_t *tll_mac);

/* Where and how to answer an NS from ns_src (7.2.4): from :: (DAD) to all-nodes
 * with Solicited clear, else back to ns_src with Solicited set. Writes dst and
 * returns the Solicited flag (ND_NA_SOLICITED or 0) to OR into the flags. */
static inline uint8_t nd_na_reply_to(const uint8_t *ns_src, uint8_t *dst)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	if (ip6_is_unspecified(ns_src)) {
		memcpy(dst, all_nodes, 16);
		return 0;
	}
	memcpy(dst, ns_src, 16);
	return ND_NA_SOLICITED;
}

/* A Router Solicitation to all-routers (ff02::2) from src (NULL or :: before an
 * address is usable, 6.3.7) with sll_mac as the source link-layer option (NULL:
 * none; must be NULL from ::, 4.1). */
int nd_build_rs(uint8_t *pkt, size_t cap, const uint8_t *src, const uint8_t *sll_mac);

/* ---- addresses from a MAC ---- */

/* The modified EUI-64 interface identifier of a 48-bit MAC: ff:fe in the middle
 * and the universal/local bit inverted (RFC 4291 2.5.1, App. A; RFC 2464 4). */
static inline void ip6_eui64_iid(const uint8_t mac[6], uint8_t iid[8])
{
	iid[0] = mac[0] ^ 0x02;
	iid[1] = mac[1];
	iid[2] = mac[2];
	iid[3] = 0xff;
	iid[4] = 0xfe;
	iid[5] = mac[3];
	iid[6] = mac[4];
	iid[7] = mac[5];
}

/* fe80::/64 + the modified EUI-64 of mac: the link-local address an interface
 * forms first (RFC 4862 5.3, RFC 2464 5). */
static inline void ip6_eui64_link_local(const uint8_t mac[6], uint8_t out[16])
{
	out[0] = 0xfe;
	out[1] = 0x80;
	memset(out + 2, 0, 6);
	ip6_eui64_iid(mac, out + 8);
}

/* A /64 prefix + the modified EUI-64 of mac (RFC 4862 5.5.3 (d)). RFC 8064
 * recommends stable opaque identifiers (RFC 7217) for global addresses instead;
 * that choice is the address configuration's. */
static inline void ip6_eui64_addr(const uint8_t prefix[16], const uint8_t mac[6], uint8_t out[16])
{
	memcpy(out, prefix, 8);
	ip6_eui64_iid(mac, out + 8);
}

#endif
