/* wire_ip6.h — IPv6 fixed header (RFC 8200 3) and address classification
 * (RFC 4291 2.4, 2.5.5.2, 2.7, 2.7.1; RFC 2464 7).
 *
 * ip6_parse() checks, in this order, what a receiver checks before anything
 * else: 40 bytes present (-EBADMSG → SKIFF_DROP_IP6_SHORT), version 6
 * (-EPROTONOSUPPORT → IP6_BAD_VERSION), payload length within the frame
 * (-EMSGSIZE → IP6_BAD_PLEN). On success the view is advanced past the fixed
 * header and cut to exactly the payload length, so trailing link padding
 * (Ethernet minimum frame) is trimmed as ip4_input trims it. A payload length of
 * 0 is taken literally: jumbograms (RFC 2675) are not supported, so a Jumbo
 * Payload option is an unknown option to ip6_exthdr.c (action bits 11, which is
 * what RFC 2675 3 chose its type for).
 *
 * The extension headers behind the fixed header are walked by ip6_exthdr.h.
 * ip6_emit() writes the 40 bytes into headroom (h = skiff_pkt_push(p, 40)).
 * Addresses live in struct skiff_addr (addr.h) as their 16 wire bytes; the
 * classification helpers take those 16 bytes (a.v6), like ip4_is_*() take the
 * host-order word.
 */
#ifndef SKIFF_WIRE_IP6_H
#define SKIFF_WIRE_IP6_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "addr.h"
#include "view.h"

#define IP6_HDR_LEN 40
#define IP6_ADDR_LEN 16
#define IP6_MIN_MTU 1280          /* RFC 8200 5 */
#define IP6_FLOW_MASK 0x000fffffu /* 20-bit flow label (RFC 6437) */

/* Next Header values the IPv6 layer itself knows (IANA protocol numbers). */
#define IP6_NH_HOPOPTS 0   /* RFC 8200 4.3 */
#define IP6_NH_TCP 6
#define IP6_NH_UDP 17
#define IP6_NH_ROUTING 43  /* RFC 8200 4.4 */
#define IP6_NH_FRAGMENT 44 /* RFC 8200 4.5 */
#define IP6_NH_ICMP6 58    /* RFC 4443 */
#define IP6_NH_NONE 59     /* RFC 8200 4.7 */
#define IP6_NH_DSTOPTS 60  /* RFC 8200 4.6 */

/* Multicast scopes (RFC 4291 2.7, RFC 7346). */
#define IP6_SCOPE_IFACE 0x1
#define IP6_SCOPE_LINK 0x2
#define IP6_SCOPE_REALM 0x3
#define IP6_SCOPE_ADMIN 0x4
#define IP6_SCOPE_SITE 0x5
#define IP6_SCOPE_ORG 0x8
#define IP6_SCOPE_GLOBAL 0xe

/* Initializers for well-known addresses (RFC 4291 2.7.1). */
#define IP6_ADDR_ALL_NODES { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }
#define IP6_ADDR_ALL_ROUTERS { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 }

struct ip6_repr {
	uint8_t version;
	uint8_t tclass;       /* traffic class: DSCP << 2 | ECN (RFC 8200 7, RFC 2474, RFC 3168) */
	uint32_t flow;        /* flow label, low 20 bits */
	uint16_t payload_len; /* bytes after the fixed header, extension headers included */
	uint8_t next_hdr;
	uint8_t hop_limit;
	struct skiff_addr src; /* family SKIFF_AF_INET6, v6 = wire bytes */
	struct skiff_addr dst;
};

static inline struct skiff_addr ip6_addr_make(const uint8_t *b16)
{
	struct skiff_addr a;
	memset(&a, 0, sizeof(a));
	a.family = SKIFF_AF_INET6;
	memcpy(a.v6, b16, IP6_ADDR_LEN);
	return a;
}

/* Parse the fixed header at v (see the top of the file for the checks and their
 * errors). On success *v is the payload, exactly payload_len bytes; on error *v
 * is unchanged. r is filled as far as the header could be read. */
static inline int ip6_parse(struct view *v, struct ip6_repr *r)
{
	struct view s = *v;
	const uint8_t *h = view_pull(&s, IP6_HDR_LEN);
	uint32_t w;
	if (!h)
		return -EBADMSG;
	w = ld32(h);
	r->version = (uint8_t)(w >> 28);
	r->tclass = (uint8_t)(w >> 20);
	r->flow = w & IP6_FLOW_MASK;
	r->payload_len = ld16(h + 4);
	r->next_hdr = h[6];
	r->hop_limit = h[7];
	r->src = ip6_addr_make(h + 8);
	r->dst = ip6_addr_make(h + 24);
	if (r->version != 6)
		return -EPROTONOSUPPORT;
	if (r->payload_len > s.len)
		return -EMSGSIZE;
	s.len = r->payload_len; /* link padding after the payload is not ours */
	*v = s;
	return 0;
}

/* Write the 40-byte fixed header at h (version 6; r->version is ignored). */
static inline void ip6_emit(uint8_t *h, const struct ip6_repr *r)
{
	st32(h, (6u << 28) | ((uint32_t)r->tclass << 20) | (r->flow & IP6_FLOW_MASK));
	st16(h + 4, r->payload_len);
	h[6] = r->next_hdr;
	h[7] = r->hop_limit;
	memcpy(h + 8, r->src.v6, IP6_ADDR_LEN);
	memcpy(h + 24, r->dst.v6, IP6_ADDR_LEN);
}

/* ---- address classification; a points at the 16 wire bytes ---- */

/* :: (RFC 4291 2.5.2) */
static inline bool ip6_is_unspecified(const uint8_t *a)
{
	uint8_t o = 0;
	for (int i = 0; i < IP6_ADDR_LEN; i++)
		o |= a[i];
	return o == 0;
}

/* ::1 (RFC 4291 2.5.3) */
static inline bool ip6_is_loopback(const uint8_t *a)
{
	uint8_t o = 0;
	for (int i = 0; i < IP6_ADDR_LEN - 1; i++)
		o |= a[i];
	return o == 0 && a[15] == 1;
}

/* ff00::/8 (RFC 4291 2.7) */
static inline bool ip6_is_multicast(const uint8_t *a) { return a[0] == 0xff; }

/* The scope field of a multicast address (IP6_SCOPE_*; RFC 4291 2.7). */
static inline uint8_t ip6_mcast_scope(const uint8_t *a) { return a[1] & 0x0f; }

/* The flags field (0RPT) of a multicast address (RFC 4291 2.7, RFC 3306, RFC 3956). */
static inline uint8_t ip6_mcast_flags(const uint8_t *a) { return a[1] >> 4; }

/* fe80::/10 link-local unicast (RFC 4291 2.5.6) */
static inline bool ip6_is_link_local(const uint8_t *a) { return a[0] == 0xfe && (a[1] & 0xc0) == 0x80; }

/* ::ffff:0:0/96 IPv4-mapped (RFC 4291 2.5.5.2) */
static inline bool ip6_is_v4mapped(const uint8_t *a)
{
	uint8_t o = 0;
	for (int i = 0; i < 10; i++)
		o |= a[i];
	return o == 0 && a[10] == 0xff && a[11] == 0xff;
}

/* The IPv4 address (host order) inside a v4-mapped address. */
static inline uint32_t ip6_v4mapped_addr(const uint8_t *a) { return ld32(a + 12); }

/* ::ffff:a.b.c.d for an IPv4 address in host order. */
static inline void ip6_make_v4mapped(uint32_t v4, uint8_t *out)
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	st32(out + 12, v4);
}

/* The solicited-node multicast group of a unicast or anycast address:
 * ff02::1:ff00:0/104 with the address's low 24 bits (RFC 4291 2.7.1). */
static inline void ip6_solicited_node(const uint8_t *a, uint8_t *out)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	memcpy(out, prefix, sizeof(prefix));
	out[13] = a[13];
	out[14] = a[14];
	out[15] = a[15];
}

/* Is a in ff02::1:ff00:0/104? */
static inline bool ip6_is_solicited_node(const uint8_t *a)
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

/* The Ethernet destination for an IPv6 multicast group: 33:33 followed by the
 * group's last 32 bits (RFC 2464 7). */
static inline void ip6_mcast_mac(const uint8_t *group, uint8_t *mac)
{
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

#endif
