/* icmp6_msg.h — ICMPv6 messages (RFC 4443) without the stack around them: echo
 * parse and build (4.1, 4.2), error parse and build (3.1-3.4, 2.4 (c)), the rules
 * on when an error must not be sent (2.4 (e)), a token bucket for error rate
 * limiting (2.4 (f)), and the errno an error means to a socket. The flow and the
 * rules are in icmp6_msg.c's header comment.
 *
 * Builders write a whole IPv6 packet into caller space: the 40-byte fixed header
 * (from the caller's struct ip6_repr: src, dst, hop_limit, tclass, flow; the
 * builder sets next_hdr 58 and payload_len), then the ICMPv6 message with its
 * checksum. They return the packet length or -ENOSPC (cap too small), -EINVAL
 * (bad arguments), -EMSGSIZE (over 65535 bytes of payload). The output path can
 * send the bytes as they are, or take the message from pkt + IP6_HDR_LEN and
 * emit its own header with the same addresses (the checksum depends on them).
 */
#ifndef SKIFF_ICMP6_MSG_H
#define SKIFF_ICMP6_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view.h"
#include "wire_icmp6.h"
#include "wire_ip6.h"

/* The name ("ND_HOP_LIMIT") and description of a failure. */
const char *icmp6_fail_name(enum icmp6_fail f);
const char *icmp6_fail_desc(enum icmp6_fail f);

/* ---- echo (RFC 4443 4.1, 4.2) ---- */

struct icmp6_echo {
	uint8_t type; /* ICMP6_ECHO_REQUEST or ICMP6_ECHO_REPLY */
	uint8_t code; /* 0 from a conforming sender; not checked (Linux answers any) */
	uint16_t id;
	uint16_t seq;
	struct view data; /* the bytes after the 8-byte header, all of them */
	enum icmp6_fail fail;
};

/* msg: the whole ICMPv6 message (checksum already verified by the caller with
 * icmp6_csum_ok or offload). 0, or -EBADMSG with e->fail SHORT or NOT_ECHO. */
int icmp6_echo_parse(struct view msg, struct icmp6_echo *e);

/* An echo request or reply (type) with id, seq and dlen bytes of data. data may
 * overlap pkt (a reply built over its request): it is moved before the headers
 * are written. */
int icmp6_echo_build(uint8_t *pkt, size_t cap, const struct ip6_repr *ip, uint8_t type, uint16_t id,
		     uint16_t seq, const void *data, size_t dlen);

/* ---- errors (RFC 4443 3) ---- */

struct icmp6_error {
	uint8_t type;       /* < 128; types this stack does not know are still errors (2.4 (b)) */
	uint8_t code;
	uint32_t param;     /* MTU (Packet Too Big), pointer (Parameter Problem), else unused */
	struct view quote;  /* the invoking packet from its fixed header, as much as came */
	struct ip6_repr inner; /* its fixed header (payload_len as sent, not as quoted) */
	enum icmp6_fail fail;
};

/* msg: the whole ICMPv6 message, checksum verified. 0, or -EBADMSG with e->fail
 * SHORT, NOT_ERROR, ERR_QUOTE_SHORT or ERR_QUOTE_VERSION. Finding the transport
 * header in the quote (ip6_ext_walk over it) is the caller's. */
int icmp6_error_parse(struct view msg, struct icmp6_error *e);

/* An error of type/code about the packet orig (orig_len bytes from its fixed
 * header). param goes into the 4 bytes after the checksum for Packet Too Big
 * (the MTU) and Parameter Problem (the pointer, RFC 4443 3.4: it may point past
 * the quote); Destination Unreachable and Time Exceeded write 0 there whatever
 * param is (3.1, 3.3: "must be initialized to zero"). The quote is as much of
 * orig as fits both the minimum MTU (ICMP6_ERR_QUOTE_MAX, 2.4 (c)) and cap - 48.
 * orig may overlap pkt. -EINVAL if type >= 128, -ENOSPC if cap < 48. */
int icmp6_error_build(uint8_t *pkt, size_t cap, const struct ip6_repr *ip, uint8_t type, uint8_t code,
		      uint32_t param, const void *orig, size_t orig_len);

/* What the caller knows about the invoking packet, for the 2.4 (e) rules. */
struct icmp6_err_about {
	bool is_icmp6_error;   /* (e.1) it is an ICMPv6 error (upper layer 58, type < 128) */
	bool is_redirect;      /* (e.2) it is an ICMPv6 Redirect (type 137) */
	bool dst_multicast;    /* (e.3) its IPv6 destination is multicast */
	bool ll_multicast;     /* (e.4) it came as a link-layer multicast (SKIFF_PKT_MCAST) */
	bool ll_broadcast;     /* (e.5) it came as a link-layer broadcast (SKIFF_PKT_BCAST) */
	bool src_unspecified;  /* (e.6) its source is :: */
	bool src_multicast;    /* (e.6) ... multicast */
	bool src_anycast;      /* (e.6) ... an address the caller knows to be anycast */
	bool opt_action_10;    /* Parameter Problem code 2 only: the unrecognized option's two
	                        * high bits are 10 (ip6_ext_info.icmp_mcast_ok; RFC 8200 4.2) */
};

/* ICMP6_FAIL_NONE when an error type/code about the packet a may be sent, else
 * the first rule of 2.4 (e) that forbids it (NOERR_*). The exceptions to (e.3),
 * (e.4) and (e.5): Packet Too Big always, Parameter Problem code 2 when
 * a->opt_action_10. (e.1), (e.2) and (e.6) have none. */
enum icmp6_fail icmp6_error_forbidden(uint8_t type, uint8_t code, const struct icmp6_err_about *a);

static inline bool icmp6_error_allowed(uint8_t type, uint8_t code, const struct icmp6_err_about *a)
{
	return icmp6_error_forbidden(type, code, a) == ICMP6_FAIL_NONE;
}

/* The errno an error means to the socket that sent the quoted packet and whether
 * it is fatal (a hard error that ends a connection attempt), as Linux's
 * icmpv6_err_convert: unreachable codes 0 ENETUNREACH, 1 EACCES*, 2 and 3
 * EHOSTUNREACH, 4 ECONNREFUSED*, 5 and 6 EACCES*, others EPROTO*; Packet Too Big
 * EMSGSIZE; Time Exceeded EHOSTUNREACH; Parameter Problem EPROTO*; anything else
 * EPROTO (* fatal). Returns the positive errno. */
int icmp6_error_errno(uint8_t type, uint8_t code, bool *fatal);

/* ---- rate limit (RFC 4443 2.4 (f)) ---- */

/* A token bucket: `rate` tokens a second, at most `burst` saved; one token per
 * error. Exact over any interval (the part-token carries over in ns·rate units,
 * no drift from rounding 1e9 / rate). State is the caller's: one bucket for the
 * stack, or one per destination. */
struct icmp6_ratelimit {
	uint64_t last;   /* ns: when tokens were last added */
	uint32_t rate;   /* tokens per second; 0: unlimited */
	uint32_t burst;  /* bucket size, >= 1 */
	uint32_t tokens;
	uint32_t frac;   /* part of the next token, in units of 1e-9 token (< 1e9) */
};

/* rate 0 means no limit; burst 0 is taken as 1. The bucket starts full. */
void icmp6_ratelimit_init(struct icmp6_ratelimit *rl, uint32_t rate, uint32_t burst, uint64_t now);
/* Take a token at `now` (ns, the caller's clock): true if the error may be sent.
 * A clock that goes backwards adds nothing. */
bool icmp6_ratelimit_allow(struct icmp6_ratelimit *rl, uint64_t now);

#endif
