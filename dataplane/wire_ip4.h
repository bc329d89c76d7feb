/* wire_ip4.h — IPv4 header (RFC 791).
 *
 * ip4_parse() reads the fixed header and reports the option length; it checks
 * only what is needed to read safely (length >= 20, IHL fits). Semantic checks
 * (version, checksum, total length vs frame, addresses) are ip4_input's, each
 * with its own drop reason, in RFC 1812 5.2.2 order.
 */
#ifndef SKIFF_WIRE_IP4_H
#define SKIFF_WIRE_IP4_H

#include <errno.h>

#include "csum.h"
#include "view.h"

#define IP4_HDR_LEN 20
#define IP4_MAX_HDR_LEN 60
#define IP4_FLAG_DF 0x4000
#define IP4_FLAG_MF 0x2000
#define IP4_OFF_MASK 0x1fff

#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

struct ip4_repr {
	uint8_t version;
	uint8_t ihl;        /* header length in bytes */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag;      /* flags + offset field as on the wire */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src;       /* host order */
	uint32_t dst;
};

static inline int ip4_parse(const uint8_t *h, size_t len, struct ip4_repr *r)
{
	if (len < IP4_HDR_LEN)
		return -EBADMSG;
	r->version = h[0] >> 4;
	r->ihl = (uint8_t)((h[0] & 0x0f) * 4);
	r->tos = h[1];
	r->total_len = ld16(h + 2);
	r->id = ld16(h + 4);
	r->frag = ld16(h + 6);
	r->ttl = h[8];
	r->proto = h[9];
	r->csum = ld16(h + 10);
	r->src = ld32(h + 12);
	r->dst = ld32(h + 16);
	return 0;
}

static inline uint16_t ip4_frag_off_bytes(const struct ip4_repr *r) { return (uint16_t)((r->frag & IP4_OFF_MASK) * 8); }
static inline int ip4_is_fragment(const struct ip4_repr *r) { return (r->frag & (IP4_FLAG_MF | IP4_OFF_MASK)) != 0; }

/* Write a 20-byte header (no options) with its checksum. */
static inline void ip4_emit(uint8_t *h, const struct ip4_repr *r)
{
	h[0] = 0x45;
	h[1] = r->tos;
	st16(h + 2, r->total_len);
	st16(h + 4, r->id);
	st16(h + 6, r->frag);
	h[8] = r->ttl;
	h[9] = r->proto;
	st16(h + 10, 0);
	st32(h + 12, r->src);
	st32(h + 16, r->dst);
	st16(h + 10, csum_buf(h, IP4_HDR_LEN));
}

#endif
