/* wire_icmp4.h — ICMPv4 (RFC 792): type/code/checksum and the 4-byte rest field.
 *
 * Errors quote the offending IP header plus 8 bytes (RFC 792; RFC 1812 4.3.2.3
 * allows more, we quote up to 548 bytes total so the error fits 576).
 */
#ifndef SKIFF_WIRE_ICMP4_H
#define SKIFF_WIRE_ICMP4_H

#include <errno.h>

#include "view.h"

#define ICMP4_HDR_LEN 8
#define ICMP4_ECHO_REPLY 0
#define ICMP4_DEST_UNREACH 3
#define ICMP4_SOURCE_QUENCH 4
#define ICMP4_REDIRECT 5
#define ICMP4_ECHO_REQUEST 8
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAM_PROBLEM 12
#define ICMP4_TIMESTAMP 13

#define ICMP4_NET_UNREACH 0
#define ICMP4_HOST_UNREACH 1
#define ICMP4_PROTO_UNREACH 2
#define ICMP4_PORT_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_EXC_TTL 0
#define ICMP4_EXC_FRAGTIME 1

struct icmp4_repr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	uint32_t rest; /* id/seq for echo, next-hop MTU for frag-needed, pointer for param problem */
};

static inline int icmp4_parse(struct view *v, struct icmp4_repr *r)
{
	const uint8_t *h = view_pull(v, ICMP4_HDR_LEN);
	if (!h)
		return -EBADMSG;
	r->type = h[0];
	r->code = h[1];
	r->csum = ld16(h + 2);
	r->rest = ld32(h + 4);
	return 0;
}

static inline void icmp4_emit(uint8_t *h, const struct icmp4_repr *r)
{
	h[0] = r->type;
	h[1] = r->code;
	st16(h + 2, r->csum);
	st32(h + 4, r->rest);
}

static inline int icmp4_is_error(uint8_t type)
{
	return type == ICMP4_DEST_UNREACH || type == ICMP4_SOURCE_QUENCH || type == ICMP4_REDIRECT ||
	       type == ICMP4_TIME_EXCEEDED || type == ICMP4_PARAM_PROBLEM;
}

#endif
