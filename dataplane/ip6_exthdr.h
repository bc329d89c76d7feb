/* ip6_exthdr.h — the IPv6 extension-header walk (RFC 8200 4).
 *
 * ip6_ext_walk() follows the Next Header chain of one packet, from the fixed
 * header to the upper-layer header, and either returns where that header is
 * (with the fragment and option facts found on the way) or a named drop reason
 * plus, where an RFC asks for one, the ICMPv6 Parameter Problem code and pointer
 * to send. It reads through a bounds-checked view, allocates nothing and writes
 * only *out. The flow and the rules are in ip6_exthdr.c's header comment.
 *
 * Limits (struct ip6_ext_limits; NULL means the defaults below). RFC 8200 puts
 * no bound on the chain, so a 64 KiB packet could make a receiver walk ~8000
 * 8-byte headers; RFC 8504 5.3 lets a host bound it and drop silently:
 *  - max_hdrs = 12 extension headers. Linux's IP6_MAX_EXT_HDRS_CNT (commit
 *    3744b0964d52, include/net/ipv6.h) is 12: RFC 8200 4.1's occurrence rules
 *    give a practical bound of 8, and Linux added room for quirky setups.
 *    FreeBSD's ip6_hdrnestlimit is 15 (counting the upper layer too).
 *  - max_chain = 1240 bytes of extension headers (fixed header to upper layer).
 *    A chain longer than a minimum-MTU packet's payload (1280 - 40, RFC 8200 5)
 *    cannot be carried in the first fragment on every path (RFC 7112), so no
 *    sender can rely on it; it also bounds the bytes each packet makes us read.
 *  - max_opts = 8 non-padding options per Hop-by-Hop / Destination Options
 *    header: RFC 8504 5.3's default, and Linux's net.ipv6.max_hbh_opts_number /
 *    max_dst_opts_number (IP6_DEFAULT_MAX_{HBH,DST}_OPTS_CNT, commit 47d3d7ac656a).
 *  - padding: at most 7 consecutive pad bytes (Pad1 or PadN), PadN data zero
 *    (RFC 8504 5.3, RFC 4942 2.1.9.5; Linux's ip6_parse_tlv does the same). Fixed.
 * Limit drops are silent (RFC 8504 5.3 says so for options; Linux is silent for
 * all of them). RFC 8883 defines Parameter Problem codes 6-10 for them, which a
 * sender MAY use; this walk does not ask for them.
 */
#ifndef SKIFF_IP6_EXTHDR_H
#define SKIFF_IP6_EXTHDR_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "drop.h"
#include "view.h"
#include "wire_ip6.h"

#define IP6_EXT_MAX_HDRS_DEFAULT 12
#define IP6_EXT_MAX_CHAIN_DEFAULT (IP6_MIN_MTU - IP6_HDR_LEN)
#define IP6_EXT_MAX_OPTS_DEFAULT 8
#define IP6_EXT_MAX_PAD 7

/* Option types (RFC 8200 4.2, RFC 2711). */
#define IP6_OPT_PAD1 0x00
#define IP6_OPT_PADN 0x01
#define IP6_OPT_ROUTER_ALERT 0x05
#define IP6_OPT_JUMBO 0xc2 /* RFC 2675: not supported, handled as unknown */
/* The two high bits of an option type: what to do when it is not recognized. */
#define IP6_OPT_ACT(t) ((uint8_t)(t) >> 6)
#define IP6_OPT_ACT_SKIP 0         /* skip over it */
#define IP6_OPT_ACT_DISCARD 1      /* discard silently */
#define IP6_OPT_ACT_ICMP 2         /* discard, Parameter Problem code 2, even to multicast */
#define IP6_OPT_ACT_ICMP_UCAST 3   /* discard, Parameter Problem code 2 unless dst is multicast */

/* ICMPv6 Parameter Problem (type 4) codes this walk reports (RFC 4443 3.4, RFC 7112). */
#define IP6_PP_HEADER 0      /* erroneous header field encountered */
#define IP6_PP_NEXTHDR 1     /* unrecognized Next Header type encountered */
#define IP6_PP_OPTION 2      /* unrecognized IPv6 option encountered */
#define IP6_PP_INCOMPLETE 3  /* first fragment has an incomplete header chain (RFC 7112) */

#define IP6_FRAG_HDR_LEN 8
#define IP6_FRAG_OFF_MASK 0xfff8 /* offset field in 8-octet units, already << 3 */
#define IP6_FRAG_M 0x0001

struct ip6_ext_limits {
	uint16_t max_hdrs;  /* extension headers walked (atomic fragment headers count) */
	uint16_t max_chain; /* bytes of extension headers, fixed header to upper layer */
	uint16_t max_opts;  /* non-padding options in one Hop-by-Hop / Destination Options header */
};

static inline struct ip6_ext_limits ip6_ext_limits_default(void)
{
	struct ip6_ext_limits l = { IP6_EXT_MAX_HDRS_DEFAULT, IP6_EXT_MAX_CHAIN_DEFAULT, IP6_EXT_MAX_OPTS_DEFAULT };
	return l;
}

/* A Fragment header (RFC 8200 4.5). Offsets count from the start of the fixed header. */
struct ip6_frag_info {
	uint32_t id;       /* Identification */
	uint16_t offset;   /* Fragment Offset, in bytes */
	bool more;         /* M flag */
	uint8_t next_hdr;  /* the Fragment header's Next Header (only offset 0's counts, 4.5) */
	uint32_t hdr_off;  /* where the Fragment header is; the per-fragment headers end here */
	uint32_t data_off; /* where the fragment's data (the fragmentable part) starts */
	uint32_t data_len; /* bytes of it in this packet */
};

struct ip6_ext_info {
	/* result (return 0) */
	uint8_t proto;      /* upper-layer protocol or IP6_NH_NONE; for a non-first fragment
	                     * the Fragment header's Next Header */
	uint32_t l4_off;    /* where it starts (the fragment data for a non-first fragment) */
	uint32_t proto_ptr; /* offset of the Next Header field that named proto: the pointer of
	                     * the Parameter Problem code 1 to send if proto has no handler (RFC 8200 4) */
	uint16_t n_hdrs;    /* extension headers walked */
	bool frag;          /* a real fragment (not atomic): fi is valid, reassemble first */
	bool first_frag;    /* ... with offset 0: the whole chain was walked (RFC 7112) and
	                     * proto/l4_off name the upper layer inside this fragment */
	bool atomic;        /* an atomic fragment (offset 0, M 0) was skipped, fi describes it:
	                     * processed as a whole packet (RFC 8200 4.5, RFC 6946, RFC 8021) */
	bool router_alert;  /* the Hop-by-Hop header holds a Router Alert (RFC 2711) */
	uint16_t ra_value;
	struct ip6_frag_info fi;
	/* failure (return -EBADMSG) */
	enum skiff_drop_reason drop;
	bool icmp;          /* send ICMPv6 Parameter Problem icmp_code / icmp_ptr */
	bool icmp_mcast_ok; /* ... even if the destination is multicast: the RFC 4443 2.4 (e.3)
	                     * exception for an option whose action bits are 10 */
	uint8_t icmp_code;
	uint32_t icmp_ptr;  /* offset from the start of the fixed header (RFC 4443 3.4) */
};

/* Walk pkt: the packet from its fixed header on, cut to 40 + payload length (as
 * ip6_parse leaves it: view_make(h, IP6_HDR_LEN + r.payload_len)). lim may be
 * NULL for the defaults. Returns 0 with the result in out, or -EBADMSG with
 * out->drop (and out->icmp*) set. */
int ip6_ext_walk(struct view pkt, const struct ip6_ext_limits *lim, struct ip6_ext_info *out);

/* The drop reason for an ip6_parse() error. */
static inline enum skiff_drop_reason ip6_parse_drop(int err)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		return SKIFF_DROP_IP6_BAD_VERSION;
	case -EMSGSIZE:
		return SKIFF_DROP_IP6_BAD_PLEN;
	default:
		return SKIFF_DROP_IP6_SHORT;
	}
}

#endif
