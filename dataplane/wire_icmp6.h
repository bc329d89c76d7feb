/* wire_icmp6.h — the ICMPv6 header (RFC 4443 2.1), its checksum over the IPv6
 * pseudo-header (RFC 4443 2.3, RFC 8200 8.1), type and code numbers (RFC 4443 3,
 * 4; RFC 4861 4), and the reasons an ICMPv6 or Neighbour Discovery message is
 * refused.
 *
 *   0       8      16              31
 *   | type | code |    checksum    |   every message (2.1)
 *   |   rest: id/seq, MTU, pointer  |   the first 4 body bytes of every type used here
 *
 * icmp6_parse() needs the 8 bytes (Linux's icmpv6_rcv pulls sizeof(struct
 * icmp6hdr) too); type < 128 is an error message, >= 128 informational (2.1).
 * The checksum covers the pseudo-header (source, destination, the ICMPv6 length
 * as a 32-bit word, next header 58) and the whole message (2.3): when the packet
 * has a Routing header the destination is the final one, which for a host that
 * processes no Routing header with Segments Left > 0 (ip6_exthdr.c) is the IPv6
 * destination.
 *
 * Failures: ICMP6_FAILS is an X-macro list F(NAME, "description") of every reason
 * icmp6_msg.c and nd_msg.c refuse a message (or decline to send an error).
 * Each is meant to become SKIFF_DROP_ICMP6_<NAME> in drop.h when ICMPv6 input is
 * wired in; until then parsers report them as enum icmp6_fail (ICMP6_FAIL_<NAME>).
 */
#ifndef SKIFF_WIRE_ICMP6_H
#define SKIFF_WIRE_ICMP6_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csum.h"
#include "view.h"
#include "wire_ip6.h"

#define ICMP6_HDR_LEN 8

/* Error messages (RFC 4443 3; type < 128). */
#define ICMP6_DST_UNREACH 1
#define ICMP6_PKT_TOO_BIG 2
#define ICMP6_TIME_EXCEEDED 3
#define ICMP6_PARAM_PROBLEM 4
/* Informational messages (RFC 4443 4, RFC 4861 4, RFC 2710/3810). */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ICMP6_MLD_QUERY 130
#define ICMP6_MLD_REPORT 131
#define ICMP6_MLD_DONE 132
#define ICMP6_ND_RS 133
#define ICMP6_ND_RA 134
#define ICMP6_ND_NS 135
#define ICMP6_ND_NA 136
#define ICMP6_ND_REDIRECT 137
#define ICMP6_MLD2_REPORT 143

/* Destination Unreachable codes (RFC 4443 3.1, RFC 6554 6, RFC 8883 3). */
#define ICMP6_DU_NO_ROUTE 0
#define ICMP6_DU_ADMIN 1
#define ICMP6_DU_BEYOND_SCOPE 2
#define ICMP6_DU_ADDR 3
#define ICMP6_DU_PORT 4
#define ICMP6_DU_POLICY 5
#define ICMP6_DU_REJECT_ROUTE 6
#define ICMP6_DU_SRH 7
#define ICMP6_DU_HDRS_TOO_LONG 8
/* Time Exceeded codes (RFC 4443 3.3). */
#define ICMP6_TE_HOP_LIMIT 0
#define ICMP6_TE_REASSEMBLY 1
/* Parameter Problem codes (RFC 4443 3.4, RFC 7112); ip6_exthdr.h's IP6_PP_* are the same. */
#define ICMP6_PP_HEADER 0
#define ICMP6_PP_NEXTHDR 1
#define ICMP6_PP_OPTION 2
#define ICMP6_PP_INCOMPLETE 3

/* An error message may carry at most this much of the invoking packet: the whole
 * error must fit the minimum MTU (RFC 4443 2.4 (c), RFC 8200 5). */
#define ICMP6_ERR_QUOTE_MAX (IP6_MIN_MTU - IP6_HDR_LEN - ICMP6_HDR_LEN)

#define ICMP6_FAILS(F) \
	F(SHORT,               "icmp6: shorter than the 8-byte header (RFC 4443 2.1)") \
	F(BAD_CSUM,            "icmp6: checksum over the pseudo-header wrong (RFC 4443 2.3)") \
	F(NOT_ECHO,            "icmp6: echo parse of a type that is not echo request/reply (RFC 4443 4)") \
	F(NOT_ERROR,           "icmp6: error parse of an informational type (RFC 4443 2.1)") \
	F(ERR_QUOTE_SHORT,     "icmp6: error quotes less than an IPv6 header (RFC 4443 3)") \
	F(ERR_QUOTE_VERSION,   "icmp6: error quotes a packet whose version is not 6 (RFC 4443 3)") \
	F(NOERR_ABOUT_ERROR,   "icmp6: no error sent about an ICMPv6 error (RFC 4443 2.4 (e.1))") \
	F(NOERR_ABOUT_REDIRECT, "icmp6: no error sent about a Redirect (RFC 4443 2.4 (e.2))") \
	F(NOERR_MCAST_DST,     "icmp6: no error sent about a packet to a multicast address (RFC 4443 2.4 (e.3))") \
	F(NOERR_LL_MCAST,      "icmp6: no error sent about a link-layer multicast (RFC 4443 2.4 (e.4))") \
	F(NOERR_LL_BCAST,      "icmp6: no error sent about a link-layer broadcast (RFC 4443 2.4 (e.5))") \
	F(NOERR_SRC,           "icmp6: no error sent to an unspecified, multicast or anycast source (RFC 4443 2.4 (e.6))") \
	F(NOERR_RATE,          "icmp6: error suppressed by the rate limit (RFC 4443 2.4 (f))") \
	F(ND_NOT_ND,           "nd: parse of a type that is not RS/RA/NS/NA/Redirect (RFC 4861 4)") \
	F(ND_SRC_MULTICAST,    "nd: source address is multicast (RFC 4291 2.7)") \
	F(ND_SRC_NOT_LL,       "nd: RA or Redirect source is not link-local (RFC 4861 6.1.2, 8.1)") \
	F(ND_HOP_LIMIT,        "nd: IPv6 hop limit is not 255, sent from off-link (RFC 4861 6.1, 7.1, 8.1)") \
	F(ND_BAD_CODE,         "nd: ICMPv6 code is not 0 (RFC 4861 6.1, 7.1, 8.1)") \
	F(ND_SHORT,            "nd: ICMPv6 length below the message minimum: RS 8, RA 16, NS/NA 24, Redirect 40 (RFC 4861 6.1, 7.1, 8.1)") \
	F(ND_TARGET_MULTICAST, "nd: NS/NA target address is multicast (RFC 4861 7.1.1, 7.1.2)") \
	F(ND_NA_SOLICITED_MCAST, "nd: NA to a multicast destination with the Solicited flag (RFC 4861 7.1.2)") \
	F(ND_REDIR_DST_MULTICAST, "nd: Redirect Destination Address is multicast (RFC 4861 8.1)") \
	F(ND_REDIR_TARGET,     "nd: Redirect target neither link-local nor the destination (RFC 4861 8.1)") \
	F(ND_OPT_ZERO_LEN,     "nd: option with length 0 (RFC 4861 4.6, 6.1, 7.1, 8.1)") \
	F(ND_OPT_OVERRUN,      "nd: option runs past the end of the message (RFC 4861 4.6)") \
	F(ND_BAD_LLAO,         "nd: link-layer address option not 8 bytes as Ethernet's (RFC 2464 6; Linux ndisc_opt_addr_data)") \
	F(ND_UNSPEC_SRC_SLLAO, "nd: RS/NS from the unspecified address carries a source link-layer option (RFC 4861 6.1.1, 7.1.1)") \
	F(ND_UNSPEC_SRC_DST,   "nd: NS from the unspecified address not sent to a solicited-node group (RFC 4861 7.1.1)")

enum icmp6_fail {
	ICMP6_FAIL_NONE = 0,
#define ICMP6_FAIL_ENUM_(n, d) ICMP6_FAIL_##n,
	ICMP6_FAILS(ICMP6_FAIL_ENUM_)
#undef ICMP6_FAIL_ENUM_
	ICMP6_FAIL_MAX
};

struct icmp6_repr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest; /* id << 16 | seq for echo, MTU for Packet Too Big, pointer for Parameter Problem */
};

/* Read the 8-byte header at v and advance past it; -EBADMSG (view unchanged) when short. */
static inline int icmp6_parse(struct view *v, struct icmp6_repr *r)
{
	const uint8_t *h = view_pull(v, ICMP6_HDR_LEN);
	if (!h)
		return -EBADMSG;
	r->type = h[0];
	r->code = h[1];
	r->csum = ld16(h + 2);
	r->rest = ld32(h + 4);
	return 0;
}

static inline void icmp6_emit(uint8_t *h, const struct icmp6_repr *r)
{
	h[0] = r->type;
	h[1] = r->code;
	st16(h + 2, r->csum);
	st32(h + 4, r->rest);
}

/* Error messages have the high bit of the type clear (RFC 4443 2.1). */
static inline bool icmp6_is_error(uint8_t type) { return type < 128; }

/* The folded checksum over the pseudo-header and len bytes of message msg, taking
 * the checksum field as it is: 0 when a received message verifies. */
static inline uint16_t icmp6_csum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	return csum_fold(csum_partial(msg, len, csum_pseudo6(src, dst, IP6_NH_ICMP6, (uint32_t)len)));
}

static inline bool icmp6_csum_ok(const uint8_t *src, const uint8_t *dst, const uint8_t *msg, size_t len)
{
	return len >= 4 && icmp6_csum(src, dst, msg, len) == 0;
}

/* Compute and store the checksum of msg (len >= 4 bytes). */
static inline void icmp6_csum_fill(const uint8_t *src, const uint8_t *dst, uint8_t *msg, size_t len)
{
	st16(msg + 2, 0);
	st16(msg + 2, icmp6_csum(src, dst, msg, len));
}

#endif
