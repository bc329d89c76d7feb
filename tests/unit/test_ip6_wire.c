/* test_ip6_wire.c — the IPv6 wire layer: the fixed header (wire_ip6.h: parse,
 * emit into headroom, every refusal, link padding trimmed), the address helpers
 * (RFC 4291, RFC 2464 7; checked against scapy's in6_getnsma/in6_getnsmac), the
 * pseudo-header checksum through extension headers, and the extension-header walk
 * (ip6_exthdr.c): every header type, each RFC refusal with its ICMPv6 code and
 * pointer, the four option action bits, Hop-by-Hop not first, RFC 7112 chains cut
 * by the first fragment, atomic fragments, the limits at and one past them, a
 * sweep that reaches every IP6_* reason in dataplane/drop.h, and 100k seeded
 * random inputs through parse + walk (each in a heap buffer of its exact size, so
 * ASan sees any read past it).
 *
 * The v6_* vectors were made by scapy (IPv6()/IPv6ExtHdr*()/UDP(), fragment6())
 * with the expression in each comment; addresses from the benchmarking range
 * 2001:2::/48 (PEER 2001:2::2 → LOCAL 2001:2::1). Hand-built packets use pb_*.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/ip6_exthdr.h"
#include "dataplane/pkt.h"
#include "dataplane/view.h"
#include "dataplane/wire_ip6.h"

static const uint8_t LOCAL[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t ALL_NODES[16] = IP6_ADDR_ALL_NODES;

/* ---- scapy vectors ---- */

/* udp6: IPv6(src=PEER, dst=LOCAL, tc=0xb8, fl=0x12345, hlim=64)/UDP(sport=4000, dport=5000)/b"hello" */
static const uint8_t v6_udp6[53] = {
	0x6b, 0x81, 0x23, 0x45, 0x00, 0x0d, 0x11, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x58, 0xd1,
	0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* hbh_ra: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)])/UDP(sport=4000, dport=5000)/b"ra" */
static const uint8_t v6_hbh_ra[58] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x12, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0a, 0x2a, 0x48, 0x72, 0x61,
};

/* chain: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:2::9"])/IPv6ExtHdrFragment(offset=0, m=0, id=0x1234)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/b"every header" */
static const uint8_t v6_chain[116] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x02, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x3c, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x12, 0x34, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x14, 0x29, 0x50, 0x65, 0x76, 0x65, 0x72,
	0x79, 0x20, 0x68, 0x65, 0x61, 0x64, 0x65, 0x72,
};

/* atomic: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrFragment(offset=0, m=0, id=0xa70a1c)/UDP(sport=4000, dport=5000)/b"atomic" */
static const uint8_t v6_atomic[62] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x16, 0x2c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x00, 0x00, 0xa7, 0x0a, 0x1c,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0e, 0x62, 0x5c, 0x61, 0x74, 0x6f, 0x6d,
	0x69, 0x63,
};

/* rh0_sl2: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrRouting(type=0, segleft=2, addresses=["2001:2::8", "2001:2::9"])/UDP(sport=4000, dport=5000)/b"rh0" */
static const uint8_t v6_rh0_sl2[91] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x33, 0x2b, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x08, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x0f, 0xa0, 0x13, 0x88,
	0x00, 0x0b, 0xfa, 0x36, 0x72, 0x68, 0x30,
};

/* opt_skip: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"ab")])/UDP(sport=4000, dport=5000)/b"x" */
static const uint8_t v6_opt_skip[57] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x11, 0x3c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x1e, 0x02, 0x61, 0x62, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x09, 0x24, 0xab, 0x78,
};

/* opt_discard: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x5e, optdata=b"ab")])/UDP(sport=4000, dport=5000)/b"x" */
static const uint8_t v6_opt_discard[57] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x11, 0x3c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x5e, 0x02, 0x61, 0x62, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x09, 0x24, 0xab, 0x78,
};

/* opt_icmp: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9e, optdata=b"ab")])/UDP(sport=4000, dport=5000)/b"x" */
static const uint8_t v6_opt_icmp[57] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x11, 0x3c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x9e, 0x02, 0x61, 0x62, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x09, 0x24, 0xab, 0x78,
};

/* opt_icmp_ucast: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=0xde, optdata=b"ab")])/UDP(sport=4000, dport=5000)/b"x" */
static const uint8_t v6_opt_icmp_ucast[57] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0xde, 0x02, 0x61, 0x62, 0x01, 0x00,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x09, 0x24, 0xab, 0x78,
};

/* frag0: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrFragment(id=0xbeef)/UDP(sport=4000, dport=5000)/(b"0123456789abcdef" * 8), 96)[0] */
static const uint8_t v6_frag0[96] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x2c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0xbe, 0xef,
	0x0f, 0xa0, 0x13, 0x88, 0x00, 0x88, 0x21, 0xf4, 0x30, 0x31, 0x32, 0x33,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62,
	0x63, 0x64, 0x65, 0x66, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

/* frag1: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrFragment(id=0xbeef)/UDP(sport=4000, dport=5000)/(b"0123456789abcdef" * 8), 96)[1] */
static const uint8_t v6_frag1[96] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x2c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x31, 0x00, 0x00, 0xbe, 0xef,
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x30, 0x31, 0x32, 0x33,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62,
	0x63, 0x64, 0x65, 0x66, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};

/* frag2: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrFragment(id=0xbeef)/UDP(sport=4000, dport=5000)/(b"0123456789abcdef" * 8), 96)[2] */
static const uint8_t v6_frag2[88] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x30, 0x2c, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00, 0x60, 0x00, 0x00, 0xbe, 0xef,
	0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x30, 0x31, 0x32, 0x33,
	0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62,
	0x63, 0x64, 0x65, 0x66,
};

/* ---- helpers ---- */

/* Parse p (must succeed) and walk it; the packet is copied into a heap buffer of
 * exactly len bytes so ASan catches any read past the end. */
static int walk_lim(const uint8_t *p, size_t len, const struct ip6_ext_limits *lim, struct ip6_ext_info *o)
{
	uint8_t *c = malloc(len ? len : 1);
	struct view v;
	struct ip6_repr ip;
	int rc;
	assert_non_null(c);
	memcpy(c, p, len);
	memset(&ip, 0, sizeof(ip));
	v = view_make(c, len);
	assert_int_equal(ip6_parse(&v, &ip), 0);
	rc = ip6_ext_walk(view_make(c, IP6_HDR_LEN + ip.payload_len), lim, o);
	free(c);
	return rc;
}

static int walk(const uint8_t *p, size_t len, struct ip6_ext_info *o) { return walk_lim(p, len, NULL, o); }

static void expect_ok(int rc, const struct ip6_ext_info *o, uint8_t proto, uint32_t l4_off, uint16_t n_hdrs)
{
	if (rc)
		fail_msg("walk failed: %s", skiff_drop_name(o->drop));
	assert_int_equal(o->proto, proto);
	assert_int_equal(o->l4_off, l4_off);
	assert_int_equal(o->n_hdrs, n_hdrs);
}

/* A drop without ICMP. */
static void expect_drop(int rc, const struct ip6_ext_info *o, enum skiff_drop_reason r)
{
	assert_int_equal(rc, -EBADMSG);
	if (o->drop != r)
		fail_msg("drop %s, want %s", skiff_drop_name(o->drop), skiff_drop_name(r));
	assert_false(o->icmp);
}

/* A drop with a Parameter Problem code/pointer to send. */
static void expect_pp(int rc, const struct ip6_ext_info *o, enum skiff_drop_reason r, uint8_t code, uint32_t ptr)
{
	assert_int_equal(rc, -EBADMSG);
	if (o->drop != r)
		fail_msg("drop %s, want %s", skiff_drop_name(o->drop), skiff_drop_name(r));
	assert_true(o->icmp);
	assert_int_equal(o->icmp_code, code);
	assert_int_equal(o->icmp_ptr, ptr);
}

/* Packet builder: a fixed header PEER → dst, then headers appended in order,
 * each linked from the previous Next Header field. */
struct pb {
	uint8_t b[4096];
	size_t len;
	size_t nh_at; /* the Next Header field the next header is named in */
};

static void pb_init(struct pb *p, const uint8_t *dst)
{
	struct ip6_repr r;
	memset(p, 0, sizeof(*p));
	memset(&r, 0, sizeof(r));
	r.hop_limit = 64;
	r.src = ip6_addr_make(PEER);
	r.dst = ip6_addr_make(dst ? dst : LOCAL);
	ip6_emit(p->b, &r);
	p->len = IP6_HDR_LEN;
	p->nh_at = 6;
}

static uint8_t *pb_hdr(struct pb *p, uint8_t type, size_t hlen)
{
	uint8_t *h = p->b + p->len;
	assert_true(p->len + hlen <= sizeof(p->b));
	p->b[p->nh_at] = type;
	p->nh_at = p->len;
	memset(h, 0, hlen);
	p->len += hlen;
	return h;
}

/* Hop-by-Hop (0) or Destination Options (60) with the given option bytes
 * (2 + n must be a multiple of 8). */
static void pb_opts(struct pb *p, uint8_t type, const uint8_t *opts, size_t n)
{
	uint8_t *h;
	assert_int_equal((2 + n) % 8, 0);
	h = pb_hdr(p, type, 2 + n);
	h[1] = (uint8_t)((2 + n) / 8 - 1);
	memcpy(h + 2, opts, n);
}

/* An options header of hlen bytes filled with skip-type (00) options of up to
 * 255 data bytes, as few as fit (at most 8 for hlen <= 2048). */
static void pb_opts_fill(struct pb *p, uint8_t type, size_t hlen)
{
	uint8_t *h = pb_hdr(p, type, hlen);
	size_t at = 2, left = hlen - 2;
	h[1] = (uint8_t)(hlen / 8 - 1);
	while (left >= 2) {
		size_t d = left - 2 > 255 ? 255 : left - 2;
		if (left - 2 - d == 1)
			d--;
		h[at] = 0x1e;
		h[at + 1] = (uint8_t)d;
		at += 2 + d;
		left -= 2 + d;
	}
	if (left == 1)
		h[at] = IP6_OPT_PAD1;
}

/* The smallest Destination Options header: PadN of 4 zero bytes. */
static void pb_do8(struct pb *p)
{
	static const uint8_t padn4[6] = { IP6_OPT_PADN, 4, 0, 0, 0, 0 };
	pb_opts(p, IP6_NH_DSTOPTS, padn4, sizeof(padn4));
}

static void pb_rh(struct pb *p, uint8_t rtype, uint8_t segleft, size_t hlen)
{
	uint8_t *h = pb_hdr(p, IP6_NH_ROUTING, hlen);
	h[1] = (uint8_t)(hlen / 8 - 1);
	h[2] = rtype;
	h[3] = segleft;
}

static void pb_frag(struct pb *p, uint16_t off_bytes, bool more, uint32_t id)
{
	uint8_t *h = pb_hdr(p, IP6_NH_FRAGMENT, IP6_FRAG_HDR_LEN);
	st16(h + 2, (uint16_t)(off_bytes | (more ? IP6_FRAG_M : 0)));
	st32(h + 4, id);
}

/* Name the upper layer, append its bytes, set the payload length. */
static void pb_end(struct pb *p, uint8_t proto, const void *data, size_t n)
{
	p->b[p->nh_at] = proto;
	assert_true(p->len + n <= sizeof(p->b));
	if (n)
		memcpy(p->b + p->len, data, n);
	p->len += n;
	st16(p->b + 4, (uint16_t)(p->len - IP6_HDR_LEN));
}

/* Bytes of zeros for payloads. */
static const uint8_t Z[2048];

/* ---- the fixed header ---- */

static void test_parse_good(void **state)
{
	struct view v = view_make(v6_udp6, sizeof(v6_udp6));
	struct ip6_repr ip;
	uint8_t out[IP6_HDR_LEN + 1];
	(void)state;
	assert_int_equal(ip6_parse(&v, &ip), 0);
	assert_int_equal(ip.version, 6);
	assert_int_equal(ip.tclass, 0xb8);
	assert_int_equal(ip.flow, 0x12345);
	assert_int_equal(ip.payload_len, 13);
	assert_int_equal(ip.next_hdr, IP6_NH_UDP);
	assert_int_equal(ip.hop_limit, 64);
	assert_int_equal(ip.src.family, SKIFF_AF_INET6);
	assert_int_equal(ip.dst.family, SKIFF_AF_INET6);
	assert_memory_equal(ip.src.v6, PEER, 16);
	assert_memory_equal(ip.dst.v6, LOCAL, 16);
	assert_ptr_equal(v.p, v6_udp6 + IP6_HDR_LEN);
	assert_int_equal(v.len, 13);
	/* emit gives back scapy's bytes, exactly 40 of them */
	memset(out, 0xee, sizeof(out));
	ip.version = 0; /* ignored: emit always writes 6 */
	ip6_emit(out, &ip);
	assert_memory_equal(out, v6_udp6, IP6_HDR_LEN);
	assert_int_equal(out[IP6_HDR_LEN], 0xee);
	/* a flow label wider than 20 bits is cut, not spilled into the traffic class */
	ip.flow = 0xfff12345u;
	ip6_emit(out, &ip);
	assert_memory_equal(out, v6_udp6, IP6_HDR_LEN);
}

static void test_parse_short(void **state)
{
	struct ip6_repr ip;
	(void)state;
	for (size_t n = 0; n < IP6_HDR_LEN; n++) {
		struct view v = view_make(v6_udp6, n);
		assert_int_equal(ip6_parse(&v, &ip), -EBADMSG);
		assert_ptr_equal(v.p, v6_udp6);
		assert_int_equal(v.len, n);
		assert_int_equal(ip6_parse_drop(-EBADMSG), SKIFF_DROP_IP6_SHORT);
	}
	/* the fixed header alone, payload length 0: an empty payload */
	{
		uint8_t h[IP6_HDR_LEN];
		struct view v = view_make(h, sizeof(h));
		memcpy(h, v6_udp6, sizeof(h));
		st16(h + 4, 0);
		assert_int_equal(ip6_parse(&v, &ip), 0);
		assert_int_equal(v.len, 0);
		assert_ptr_equal(v.p, h + IP6_HDR_LEN);
	}
}

static void test_parse_bad_version(void **state)
{
	static const uint8_t versions[] = { 0, 4, 5, 7, 15 };
	uint8_t f[sizeof(v6_udp6)];
	struct ip6_repr ip;
	(void)state;
	for (size_t i = 0; i < sizeof(versions); i++) {
		struct view v = view_make(f, sizeof(f));
		memcpy(f, v6_udp6, sizeof(f));
		f[0] = (uint8_t)((versions[i] << 4) | (f[0] & 0x0f));
		assert_int_equal(ip6_parse(&v, &ip), -EPROTONOSUPPORT);
		assert_int_equal(ip.version, versions[i]);
		assert_ptr_equal(v.p, f);
		assert_int_equal(v.len, sizeof(f));
	}
	assert_int_equal(ip6_parse_drop(-EPROTONOSUPPORT), SKIFF_DROP_IP6_BAD_VERSION);
}

static void test_parse_payload_len(void **state)
{
	uint8_t f[sizeof(v6_udp6) + 7];
	struct ip6_repr ip;
	struct view v;
	(void)state;
	/* one byte more than the frame holds */
	memcpy(f, v6_udp6, sizeof(v6_udp6));
	st16(f + 4, 14);
	v = view_make(f, sizeof(v6_udp6));
	assert_int_equal(ip6_parse(&v, &ip), -EMSGSIZE);
	assert_int_equal(ip.payload_len, 14);
	assert_ptr_equal(v.p, f);
	assert_int_equal(v.len, sizeof(v6_udp6));
	assert_int_equal(ip6_parse_drop(-EMSGSIZE), SKIFF_DROP_IP6_BAD_PLEN);
	st16(f + 4, 0xffff);
	assert_int_equal(ip6_parse(&v, &ip), -EMSGSIZE);
	/* link padding after the payload is trimmed */
	memcpy(f, v6_udp6, sizeof(v6_udp6));
	memset(f + sizeof(v6_udp6), 0, 7);
	v = view_make(f, sizeof(f));
	assert_int_equal(ip6_parse(&v, &ip), 0);
	assert_int_equal(v.len, 13);
	assert_memory_equal(v.p, v6_udp6 + IP6_HDR_LEN, 13);
	/* a shorter payload length than the frame: the rest is padding too */
	st16(f + 4, 8);
	v = view_make(f, sizeof(f));
	assert_int_equal(ip6_parse(&v, &ip), 0);
	assert_int_equal(v.len, 8);
}

/* Emit into a packet's headroom, the way output will: push 40, emit. */
static void test_emit_into_headroom(void **state)
{
	struct skiff_mempool *mp;
	struct skiff_pkt *p;
	struct ip6_repr ip;
	struct view v = view_make(v6_udp6, sizeof(v6_udp6));
	uint8_t *h;
	(void)state;
	assert_int_equal(ip6_parse(&v, &ip), 0);
	assert_int_equal(skiff_mempool_create(4, 2048 + SKIFF_HEADROOM, &mp), 0);
	p = skiff_pool_get(skiff_mempool_pool(mp));
	assert_non_null(p);
	memcpy(skiff_pkt_put(p, (uint32_t)v.len), v.p, v.len);
	h = skiff_pkt_push(p, IP6_HDR_LEN);
	assert_non_null(h);
	ip6_emit(h, &ip);
	assert_int_equal(p->len, sizeof(v6_udp6));
	assert_memory_equal(skiff_pkt_data(p), v6_udp6, sizeof(v6_udp6));
	assert_int_equal(skiff_pkt_headroom(p), SKIFF_HEADROOM - IP6_HDR_LEN);
	skiff_pkt_free(p);
	skiff_mempool_destroy(mp);
}

/* ---- addresses ---- */

static void test_addr_helpers(void **state)
{
	static const uint8_t any[16] = { 0 };
	static const uint8_t lo[16] = { [15] = 1 };
	static const uint8_t ll[16] = { 0xfe, 0x80, [15] = 1 };
	static const uint8_t ll_top[16] = { 0xfe, 0xbf, [15] = 1 };
	static const uint8_t site[16] = { 0xfe, 0xc0, [15] = 1 }; /* deprecated site-local: not fe80::/10 */
	static const uint8_t fe7f[16] = { 0xfe, 0x7f, [15] = 1 };
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 };
	static const uint8_t compat[16] = { [12] = 198, 18, 0, 1 }; /* v4-compatible: not mapped */
	static const uint8_t mapped_bad[16] = { [9] = 1, [10] = 0xff, [11] = 0xff, 198, 18, 0, 1 };
	static const uint8_t target[16] = { 0x20, 0x01, 0, 0x02, [10] = 0, 0x01, 0x23, 0x45, 0x67, 0x89 };
	/* scapy: in6_getnsma(2001:2::1:2345:6789) */
	static const uint8_t nsma[16] = { 0xff, 0x02, [11] = 0x01, 0xff, 0x45, 0x67, 0x89 };
	static const uint8_t mcast_site[16] = { 0xff, 0x05, [15] = 2 };
	static const uint8_t mcast_glob_t[16] = { 0xff, 0x1e, [15] = 0x42 };
	uint8_t out[16], mac[6];
	struct skiff_addr a;
	(void)state;

	assert_true(ip6_is_unspecified(any));
	assert_false(ip6_is_unspecified(lo));
	assert_true(ip6_is_loopback(lo));
	assert_false(ip6_is_loopback(any));
	assert_false(ip6_is_loopback(ll));
	assert_false(ip6_is_loopback(mapped));

	assert_true(ip6_is_multicast(ALL_NODES));
	assert_false(ip6_is_multicast(LOCAL));
	assert_int_equal(ip6_mcast_scope(ALL_NODES), IP6_SCOPE_LINK);
	assert_int_equal(ip6_mcast_flags(ALL_NODES), 0);
	assert_int_equal(ip6_mcast_scope(mcast_site), IP6_SCOPE_SITE);
	assert_int_equal(ip6_mcast_scope(mcast_glob_t), IP6_SCOPE_GLOBAL);
	assert_int_equal(ip6_mcast_flags(mcast_glob_t), 1); /* T: transient */
	{
		static const uint8_t iface[16] = { 0xff, 0x01, [15] = 1 };
		assert_int_equal(ip6_mcast_scope(iface), IP6_SCOPE_IFACE);
	}

	assert_true(ip6_is_link_local(ll));
	assert_true(ip6_is_link_local(ll_top));
	assert_false(ip6_is_link_local(site));
	assert_false(ip6_is_link_local(fe7f));
	assert_false(ip6_is_link_local(ALL_NODES));
	assert_false(ip6_is_link_local(LOCAL));

	assert_true(ip6_is_v4mapped(mapped));
	assert_false(ip6_is_v4mapped(compat));
	assert_false(ip6_is_v4mapped(mapped_bad));
	assert_false(ip6_is_v4mapped(any));
	assert_int_equal(ip6_v4mapped_addr(mapped), 0xc6120001u);
	ip6_make_v4mapped(0xc6120001u, out);
	assert_memory_equal(out, mapped, 16);

	ip6_solicited_node(target, out);
	assert_memory_equal(out, nsma, 16);
	assert_true(ip6_is_solicited_node(out));
	assert_true(ip6_is_multicast(out));
	assert_int_equal(ip6_mcast_scope(out), IP6_SCOPE_LINK);
	assert_false(ip6_is_solicited_node(ALL_NODES));
	assert_false(ip6_is_solicited_node(target));
	ip6_solicited_node(LOCAL, out); /* ff02::1:ff00:1 */
	assert_int_equal(out[12], 0xff);
	assert_int_equal(out[15], 0x01);
	assert_int_equal(out[13] | out[14], 0);

	/* scapy: in6_getnsmac */
	ip6_mcast_mac(nsma, mac);
	assert_memory_equal(mac, ((const uint8_t[]){ 0x33, 0x33, 0xff, 0x45, 0x67, 0x89 }), 6);
	ip6_mcast_mac(ALL_NODES, mac);
	assert_memory_equal(mac, ((const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 0x01 }), 6);

	a = ip6_addr_make(LOCAL);
	assert_int_equal(a.family, SKIFF_AF_INET6);
	assert_memory_equal(a.v6, LOCAL, 16);
	assert_false(skiff_addr_is_any(&a));
	{
		struct skiff_addr b = ip6_addr_make(LOCAL);
		assert_true(skiff_addr_eq(&a, &b));
	}
}

/* ---- the walk: accepted packets ---- */

static void test_walk_plain(void **state)
{
	struct ip6_ext_info o;
	(void)state;
	expect_ok(walk(v6_udp6, sizeof(v6_udp6), &o), &o, IP6_NH_UDP, 40, 0);
	assert_int_equal(o.proto_ptr, 6);
	assert_false(o.frag);
	assert_false(o.atomic);
	assert_false(o.router_alert);
	/* the walk itself refuses less than a fixed header */
	assert_int_equal(ip6_ext_walk(view_make(v6_udp6, 39), NULL, &o), -EBADMSG);
	assert_int_equal(o.drop, SKIFF_DROP_IP6_SHORT);
}

/* scapy: HBH, DO, RH0 with Segments Left 0 (ignored, RFC 5095), an atomic
 * fragment, DO, UDP — and the UDP checksum verifies with the upper-layer length. */
static void test_walk_every_header(void **state)
{
	struct ip6_ext_info o;
	(void)state;
	expect_ok(walk(v6_chain, sizeof(v6_chain), &o), &o, IP6_NH_UDP, 96, 5);
	assert_int_equal(o.proto_ptr, 88);
	assert_true(o.atomic);
	assert_false(o.frag);
	assert_int_equal(o.fi.id, 0x1234);
	assert_int_equal(o.fi.hdr_off, 80);
	assert_int_equal(o.fi.next_hdr, IP6_NH_DSTOPTS);
	assert_int_equal(csum_fold(csum_partial(v6_chain + o.l4_off, sizeof(v6_chain) - o.l4_off,
						csum_pseudo6(PEER, LOCAL, IP6_NH_UDP, (uint32_t)(sizeof(v6_chain) - o.l4_off)))),
			 0);
}

static void test_walk_router_alert(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	expect_ok(walk(v6_hbh_ra, sizeof(v6_hbh_ra), &o), &o, IP6_NH_UDP, 48, 1);
	assert_true(o.router_alert);
	assert_int_equal(o.ra_value, 0); /* MLD (RFC 2711) */
	/* a Router Alert in Destination Options is not one: type 5 is skipped (00) */
	pb_init(&p, NULL);
	pb_opts(&p, IP6_NH_DSTOPTS, (const uint8_t[]){ 0x05, 0x02, 0x00, 0x01, 0x01, 0x00 }, 6);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 48, 1);
	assert_false(o.router_alert);
	/* value carried */
	pb_init(&p, NULL);
	pb_opts(&p, IP6_NH_HOPOPTS, (const uint8_t[]){ 0x05, 0x02, 0x00, 0x02, 0x01, 0x00 }, 6);
	pb_end(&p, IP6_NH_ICMP6, Z, 8);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_ICMP6, 48, 1);
	assert_true(o.router_alert);
	assert_int_equal(o.ra_value, 2);
	/* wrong length (RFC 2711: 2) */
	pb_init(&p, NULL);
	pb_opts(&p, IP6_NH_HOPOPTS, (const uint8_t[]){ 0x05, 0x03, 0x00, 0x00, 0x00, 0x00 }, 6);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_OPT_MALFORMED);
}

/* RFC 8200 4.7: nothing follows No Next Header, whatever the payload length says. */
static void test_walk_no_next_header(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	pb_init(&p, NULL);
	pb_end(&p, IP6_NH_NONE, "ignored", 7);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_NONE, 40, 0);
	pb_init(&p, NULL);
	pb_do8(&p);
	pb_end(&p, IP6_NH_NONE, NULL, 0);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_NONE, 48, 1);
	assert_int_equal(o.proto_ptr, 40);
}

/* Anything not an extension header this walk knows is the upper layer; the
 * caller sends code 1 at proto_ptr if it has no handler (RFC 8200 4). AH (51)
 * and ESP (50) are upper layers to a host without IPsec (RFC 7045). */
static void test_walk_upper_layers(void **state)
{
	static const uint8_t protos[] = { IP6_NH_TCP, IP6_NH_UDP, IP6_NH_ICMP6, 50, 51, 135, 253, 255 };
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	for (size_t i = 0; i < sizeof(protos); i++) {
		pb_init(&p, NULL);
		pb_end(&p, protos[i], Z, 24);
		expect_ok(walk(p.b, p.len, &o), &o, protos[i], 40, 0);
		assert_int_equal(o.proto_ptr, 6);
		pb_init(&p, NULL);
		pb_do8(&p);
		pb_do8(&p);
		pb_end(&p, protos[i], Z, 24);
		expect_ok(walk(p.b, p.len, &o), &o, protos[i], 56, 2);
		assert_int_equal(o.proto_ptr, 48);
	}
}

/* ---- the walk: refusals ---- */

/* RFC 8200 4 / 4.3: Hop-by-Hop anywhere but first is an unrecognized Next Header. */
static void test_walk_hbh_not_first(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	pb_init(&p, NULL);
	pb_do8(&p);
	pb_do8(&p);
	p.b[p.nh_at] = IP6_NH_HOPOPTS;
	pb_hdr(&p, IP6_NH_HOPOPTS, 8)[1] = 0;
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_HBH_NOT_FIRST, IP6_PP_NEXTHDR, 48);
	/* twice in a row: the second is not first */
	pb_init(&p, NULL);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_HBH_NOT_FIRST, IP6_PP_NEXTHDR, 40);
	/* after the Fragment header of a first fragment */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8);
	pb_end(&p, IP6_NH_UDP, Z, 16);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_HBH_NOT_FIRST, IP6_PP_NEXTHDR, 40);
}

/* The four action bit patterns of an unrecognized option (RFC 8200 4.2), to a
 * unicast and to a multicast destination (RFC 4443 2.4 (e.3)). */
static void check_action(const uint8_t *vec, size_t len, int act)
{
	uint8_t f[64];
	struct ip6_ext_info o;
	int rc;
	assert_true(len <= sizeof(f));
	assert_int_equal(IP6_OPT_ACT(vec[42]), act);
	for (int mc = 0; mc < 2; mc++) {
		memcpy(f, vec, len);
		if (mc)
			memcpy(f + 24, ALL_NODES, 16);
		rc = walk(f, len, &o);
		switch (act) {
		case IP6_OPT_ACT_SKIP:
			expect_ok(rc, &o, IP6_NH_UDP, 48, 1);
			break;
		case IP6_OPT_ACT_DISCARD:
			expect_drop(rc, &o, SKIFF_DROP_IP6_OPT_UNKNOWN);
			break;
		case IP6_OPT_ACT_ICMP:
			expect_pp(rc, &o, SKIFF_DROP_IP6_OPT_UNKNOWN, IP6_PP_OPTION, 42);
			assert_true(o.icmp_mcast_ok);
			break;
		default:
			if (mc) {
				expect_drop(rc, &o, SKIFF_DROP_IP6_OPT_UNKNOWN);
			} else {
				expect_pp(rc, &o, SKIFF_DROP_IP6_OPT_UNKNOWN, IP6_PP_OPTION, 42);
				assert_false(o.icmp_mcast_ok);
			}
			break;
		}
	}
}

static void test_walk_unknown_option_actions(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	check_action(v6_opt_skip, sizeof(v6_opt_skip), IP6_OPT_ACT_SKIP);
	check_action(v6_opt_discard, sizeof(v6_opt_discard), IP6_OPT_ACT_DISCARD);
	check_action(v6_opt_icmp, sizeof(v6_opt_icmp), IP6_OPT_ACT_ICMP);
	check_action(v6_opt_icmp_ucast, sizeof(v6_opt_icmp_ucast), IP6_OPT_ACT_ICMP_UCAST);
	/* the pointer names the option's own type byte, here the second option of
	 * the second header; and a Jumbo Payload option is unknown (11, RFC 2675) */
	pb_init(&p, NULL);
	pb_do8(&p);
	pb_opts(&p, IP6_NH_DSTOPTS, (const uint8_t[]){ 0x1e, 0x00, IP6_OPT_JUMBO, 0x04, 0, 1, 0, 0, IP6_OPT_PAD1, 0, 0, 0, 0, 0 }, 14);
	p.b[48 + 2 + 9] = IP6_OPT_PADN; /* PadN of 3 zero bytes closes the header */
	p.b[48 + 2 + 10] = 3;
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_OPT_UNKNOWN, IP6_PP_OPTION, 48 + 4);
}

/* Padding: runs of at most 7 bytes, PadN data zero (RFC 8504 5.3, RFC 4942
 * 2.1.9.5); TLVs that overrun the header. */
static void test_walk_padding_and_overrun(void **state)
{
	static const struct {
		uint8_t opts[14];
		size_t n;
		bool ok;
	} cases[] = {
		{ { 0, 0, 0, 0, 0, 0 }, 6, true },                                          /* 6 x Pad1 */
		{ { 1, 4, 0, 0, 0, 0 }, 6, true },                                          /* PadN 4 */
		{ { 0, 0, 0, 0, 0, 0, 0, 0x1e, 3, 0, 0, 0, 0, 0 }, 14, true },              /* 7 x Pad1, option, 2 x Pad1 */
		{ { 0, 0, 0, 0, 0, 0, 0, 0, 0x1e, 4, 0, 0, 0, 0 }, 14, false },             /* 8 x Pad1 */
		{ { 1, 6, 0, 0, 0, 0, 0, 0, 0x1e, 4, 0, 0, 0, 0 }, 14, false },             /* PadN of 8 bytes */
		{ { 0, 0, 0, 1, 3, 0, 0, 0, 0x1e, 4, 0, 0, 0, 0 }, 14, false },             /* Pad1 x 3 + PadN 5: run of 8 */
		{ { 1, 4, 0, 0, 1, 0 }, 6, false },                                         /* PadN data not zero */
		{ { 0x1e, 5, 0, 0, 0, 0 }, 6, false },                                      /* option data past the header */
		{ { 0, 0, 0, 0, 0, 0x1e }, 6, false },                                      /* type byte without length */
		{ { 0x1e, 0, 0x1e, 0, 0x1e, 0 }, 6, true },                                 /* three empty skip options */
	};
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int hbh = 0; hbh < 2; hbh++) {
			int rc;
			pb_init(&p, NULL);
			pb_opts(&p, hbh ? IP6_NH_HOPOPTS : IP6_NH_DSTOPTS, cases[i].opts, cases[i].n);
			pb_end(&p, IP6_NH_UDP, Z, 8);
			rc = walk(p.b, p.len, &o);
			if (cases[i].ok)
				expect_ok(rc, &o, IP6_NH_UDP, (uint32_t)(40 + 2 + cases[i].n), 1);
			else
				expect_drop(rc, &o, SKIFF_DROP_IP6_OPT_MALFORMED);
		}
	}
}

/* RFC 8504 5.3: at most 8 non-padding options per header by default, silently. */
static void test_walk_option_count(void **state)
{
	uint8_t opts[22];
	struct ip6_ext_limits lim = ip6_ext_limits_default();
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	for (unsigned k = 1; k <= 9; k++) {
		size_t n = 2 * k, total;
		memset(opts, 0, sizeof(opts));
		for (unsigned i = 0; i < k; i++)
			opts[2 * i] = 0x1e;
		total = (2 + n + 7) / 8 * 8 - 2; /* pad to a multiple of 8 */
		if (total - n == 1) {
			opts[n] = IP6_OPT_PAD1;
		} else if (total > n) {
			opts[n] = IP6_OPT_PADN;
			opts[n + 1] = (uint8_t)(total - n - 2);
		}
		pb_init(&p, NULL);
		pb_opts(&p, IP6_NH_DSTOPTS, opts, total);
		pb_end(&p, IP6_NH_UDP, Z, 8);
		if (k <= IP6_EXT_MAX_OPTS_DEFAULT)
			expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, (uint32_t)(40 + 2 + total), 1);
		else
			expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_OPT_TOO_MANY);
		lim.max_opts = 2;
		if (k <= 2)
			expect_ok(walk_lim(p.b, p.len, &lim, &o), &o, IP6_NH_UDP, (uint32_t)(40 + 2 + total), 1);
		else
			expect_drop(walk_lim(p.b, p.len, &lim, &o), &o, SKIFF_DROP_IP6_OPT_TOO_MANY);
	}
}

/* RFC 8200 4.4 and RFC 5095 3. */
static void test_walk_routing(void **state)
{
	static const uint8_t types[] = { 0, 2, 3, 4, 253, 255 };
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	/* scapy: RH0 with two addresses and Segments Left 2 */
	expect_pp(walk(v6_rh0_sl2, sizeof(v6_rh0_sl2), &o), &o, SKIFF_DROP_IP6_RH0, IP6_PP_HEADER, 42);
	for (size_t i = 0; i < sizeof(types); i++) {
		/* Segments Left 0: ignored, whatever the type */
		pb_init(&p, NULL);
		pb_rh(&p, types[i], 0, 24);
		pb_end(&p, IP6_NH_UDP, Z, 8);
		expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 64, 1);
		/* Segments Left 1, after a Hop-by-Hop header: code 0 at the Routing Type */
		pb_init(&p, NULL);
		pb_do8(&p);
		p.b[6] = IP6_NH_HOPOPTS;
		pb_rh(&p, types[i], 1, 24);
		pb_end(&p, IP6_NH_UDP, Z, 8);
		expect_pp(walk(p.b, p.len, &o), &o, types[i] == 0 ? SKIFF_DROP_IP6_RH0 : SKIFF_DROP_IP6_RH_UNKNOWN,
			  IP6_PP_HEADER, 50);
	}
}

/* scapy fragment6(): a first, a middle and a last fragment; the UDP datagram
 * they carry verifies once put back together. */
static void test_walk_fragments(void **state)
{
	struct ip6_ext_info o;
	uint8_t dgram[136];
	(void)state;
	expect_ok(walk(v6_frag0, sizeof(v6_frag0), &o), &o, IP6_NH_UDP, 48, 1);
	assert_true(o.frag);
	assert_true(o.first_frag);
	assert_false(o.atomic);
	assert_int_equal(o.proto_ptr, 40);
	assert_int_equal(o.fi.id, 0xbeef);
	assert_int_equal(o.fi.offset, 0);
	assert_true(o.fi.more);
	assert_int_equal(o.fi.next_hdr, IP6_NH_UDP);
	assert_int_equal(o.fi.hdr_off, 40);
	assert_int_equal(o.fi.data_off, 48);
	assert_int_equal(o.fi.data_len, 48);
	memcpy(dgram, v6_frag0 + 48, 48);

	expect_ok(walk(v6_frag1, sizeof(v6_frag1), &o), &o, IP6_NH_UDP, 48, 1);
	assert_true(o.frag);
	assert_false(o.first_frag);
	assert_int_equal(o.fi.offset, 48);
	assert_true(o.fi.more);
	assert_int_equal(o.fi.data_len, 48);
	memcpy(dgram + 48, v6_frag1 + 48, 48);

	expect_ok(walk(v6_frag2, sizeof(v6_frag2), &o), &o, IP6_NH_UDP, 48, 1);
	assert_true(o.frag);
	assert_false(o.first_frag);
	assert_int_equal(o.fi.offset, 96);
	assert_false(o.fi.more);
	assert_int_equal(o.fi.data_len, 40);
	memcpy(dgram + 96, v6_frag2 + 48, 40);

	assert_int_equal(ld16(dgram + 4), sizeof(dgram));
	assert_int_equal(csum_fold(csum_partial(dgram, sizeof(dgram), csum_pseudo6(PEER, LOCAL, IP6_NH_UDP, sizeof(dgram)))), 0);
}

/* RFC 8200 4.5, RFC 6946, RFC 8021: an atomic fragment is a whole packet. */
static void test_walk_atomic_fragment(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	expect_ok(walk(v6_atomic, sizeof(v6_atomic), &o), &o, IP6_NH_UDP, 48, 1);
	assert_true(o.atomic);
	assert_false(o.frag);
	assert_false(o.first_frag);
	assert_int_equal(o.fi.id, 0xa70a1c);
	assert_int_equal(o.fi.data_len, 14);
	/* an atomic fragment, then a real (last) fragment: the atomic one is no reason to refuse */
	pb_init(&p, NULL);
	pb_frag(&p, 0, false, 5);
	pb_frag(&p, 64, false, 6);
	pb_end(&p, IP6_NH_UDP, Z, 12);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 56, 2);
	assert_true(o.atomic);
	assert_true(o.frag);
	assert_int_equal(o.fi.id, 6);
	assert_int_equal(o.fi.offset, 64);
	/* an atomic fragment whose chain runs short is merely truncated: no code 3 */
	pb_init(&p, NULL);
	pb_frag(&p, 0, false, 5);
	pb_hdr(&p, IP6_NH_DSTOPTS, 8)[1] = 1;
	pb_end(&p, IP6_NH_UDP, NULL, 0);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TRUNCATED);
}

/* RFC 8200 4.5: the per-fragment length rules, with their pointers. */
static void test_walk_fragment_lengths(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	/* M set, 12 bytes: not a multiple of 8 → code 0 at the Payload Length */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 12);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_BAD_LEN, IP6_PP_HEADER, 4);
	pb_init(&p, NULL);
	pb_frag(&p, 8, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 12);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_BAD_LEN, IP6_PP_HEADER, 4);
	/* the last fragment may be any length */
	pb_init(&p, NULL);
	pb_frag(&p, 8, false, 1);
	pb_end(&p, IP6_NH_UDP, Z, 13);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 48, 1);
	/* ending exactly at 65535 bytes of payload is fine, one past is not: code 0
	 * at the Fragment Offset field */
	pb_init(&p, NULL);
	pb_frag(&p, 65520, false, 1);
	pb_end(&p, IP6_NH_UDP, Z, 15);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 48, 1);
	pb_init(&p, NULL);
	pb_frag(&p, 65528, false, 1);
	pb_end(&p, IP6_NH_UDP, Z, 16);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_TOO_BIG, IP6_PP_HEADER, 42);
	/* the per-fragment headers count in the reassembled length */
	pb_init(&p, NULL);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8)[2] = IP6_OPT_PADN;
	p.b[40 + 3] = 4;
	pb_frag(&p, 65520, false, 1);
	pb_end(&p, IP6_NH_UDP, Z, 7);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 56, 2);
	st16(p.b + 4, (uint16_t)(ld16(p.b + 4) + 1));
	p.b[p.len] = 0;
	expect_pp(walk(p.b, p.len + 1, &o), &o, SKIFF_DROP_IP6_FRAG_TOO_BIG, IP6_PP_HEADER, 50);
}

/* RFC 7112 5 / RFC 8200 4.5: a first fragment must hold the whole header chain,
 * through the upper-layer header: code 3, pointer 0. */
static void test_walk_rfc7112(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	/* a Destination Options header announced as 16 bytes with 8 in the fragment */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_do8(&p);
	p.b[49] = 1;
	pb_end(&p, IP6_NH_UDP, NULL, 0);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	/* one byte of the next extension header */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_end(&p, IP6_NH_DSTOPTS, Z, 1);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	/* half a UDP header (incomplete wins over the length rule) */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 4);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	/* 16 bytes of a 20-byte TCP header */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_do8(&p);
	pb_end(&p, IP6_NH_TCP, Z, 16);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	/* ... and with the whole TCP header (24 bytes: a multiple of 8) it is fine */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_do8(&p);
	pb_end(&p, IP6_NH_TCP, Z, 24);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_TCP, 56, 2);
	assert_true(o.first_frag);
	assert_int_equal(o.fi.data_len, 32);
	/* an ICMPv6 header is 8 bytes for this rule (as Linux) */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_end(&p, IP6_NH_ICMP6, Z, 0);
	expect_pp(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	/* a non-first fragment carries no chain: nothing to check */
	pb_init(&p, NULL);
	pb_frag(&p, 8, true, 1);
	pb_end(&p, IP6_NH_DSTOPTS, Z, 8);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_DSTOPTS, 48, 1);
	/* a chain cut before any Fragment header is plain truncation, silent */
	pb_init(&p, NULL);
	pb_do8(&p);
	p.b[41] = 1;
	pb_end(&p, IP6_NH_FRAGMENT, NULL, 0);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TRUNCATED);
}

static void test_walk_nested_fragment(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_frag(&p, 0, true, 2);
	pb_end(&p, IP6_NH_UDP, Z, 16);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_NESTED);
	/* even an atomic one inside a first fragment */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_frag(&p, 0, false, 2);
	pb_end(&p, IP6_NH_UDP, Z, 16);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_FRAG_NESTED);
}

static void test_walk_truncated(void **state)
{
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	/* 24-byte Hop-by-Hop announced, 8 present */
	pb_init(&p, NULL);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8)[1] = 2;
	pb_end(&p, IP6_NH_UDP, NULL, 0);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TRUNCATED);
	/* every cut of the scapy chain inside its headers */
	for (size_t n = 0; n < 96 - 40; n++) {
		uint8_t f[sizeof(v6_chain)];
		memcpy(f, v6_chain, sizeof(f));
		st16(f + 4, (uint16_t)n);
		expect_drop(walk(f, 40 + n, &o), &o, SKIFF_DROP_IP6_EXT_TRUNCATED);
	}
	/* a Fragment header cut short */
	pb_init(&p, NULL);
	pb_end(&p, IP6_NH_FRAGMENT, Z, 7);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TRUNCATED);
}

/* ---- the limits ---- */

static void test_walk_header_count_limit(void **state)
{
	struct ip6_ext_limits lim = ip6_ext_limits_default();
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	assert_int_equal(lim.max_hdrs, 12);
	for (unsigned n = 0; n <= 13; n++) {
		pb_init(&p, NULL);
		for (unsigned i = 0; i < n; i++)
			pb_do8(&p);
		pb_end(&p, IP6_NH_UDP, Z, 8);
		if (n <= IP6_EXT_MAX_HDRS_DEFAULT)
			expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 40 + 8 * n, (uint16_t)n);
		else
			expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TOO_MANY);
		/* atomic fragment headers count too */
		pb_init(&p, NULL);
		for (unsigned i = 0; i < n; i++)
			pb_frag(&p, 0, false, i);
		pb_end(&p, IP6_NH_UDP, Z, 8);
		if (n <= IP6_EXT_MAX_HDRS_DEFAULT)
			expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 40 + 8 * n, (uint16_t)n);
		else
			expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TOO_MANY);
	}
	/* a configured limit: 3 and 4 */
	lim.max_hdrs = 3;
	pb_init(&p, NULL);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8);
	pb_rh(&p, 253, 0, 8);
	pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_ok(walk_lim(p.b, p.len, &lim, &o), &o, IP6_NH_UDP, 64, 3);
	p.len -= 8;
	pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_drop(walk_lim(p.b, p.len, &lim, &o), &o, SKIFF_DROP_IP6_EXT_TOO_MANY);
	/* 0: no extension header at all */
	lim.max_hdrs = 0;
	expect_ok(walk_lim(v6_udp6, sizeof(v6_udp6), &lim, &o), &o, IP6_NH_UDP, 40, 0);
	expect_drop(walk_lim(v6_atomic, sizeof(v6_atomic), &lim, &o), &o, SKIFF_DROP_IP6_EXT_TOO_MANY);
}

static void test_walk_chain_length_limit(void **state)
{
	struct ip6_ext_limits lim = ip6_ext_limits_default();
	struct ip6_ext_info o;
	struct pb p;
	(void)state;
	assert_int_equal(lim.max_chain, 1240);
	/* one Destination Options header of exactly 1240 bytes */
	pb_init(&p, NULL);
	pb_opts_fill(&p, IP6_NH_DSTOPTS, 1240);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 40 + 1240, 1);
	/* 1232 + 8: at the limit; 1240 + 8: past it */
	pb_init(&p, NULL);
	pb_opts_fill(&p, IP6_NH_DSTOPTS, 1232);
	pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_ok(walk(p.b, p.len, &o), &o, IP6_NH_UDP, 40 + 1240, 2);
	pb_init(&p, NULL);
	pb_opts_fill(&p, IP6_NH_DSTOPTS, 1240);
	pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TOO_LONG);
	/* the largest header (2048 bytes) alone is past the default */
	pb_init(&p, NULL);
	pb_opts_fill(&p, IP6_NH_HOPOPTS, 2048);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_drop(walk(p.b, p.len, &o), &o, SKIFF_DROP_IP6_EXT_TOO_LONG);
	lim.max_chain = 2048;
	expect_ok(walk_lim(p.b, p.len, &lim, &o), &o, IP6_NH_UDP, 40 + 2048, 1);
	/* a configured 64: eight 8-byte headers fit, nine do not (count allows 12) */
	lim.max_chain = 64;
	pb_init(&p, NULL);
	for (int i = 0; i < 8; i++)
		pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_ok(walk_lim(p.b, p.len, &lim, &o), &o, IP6_NH_UDP, 104, 8);
	p.len -= 8;
	pb_do8(&p);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	expect_drop(walk_lim(p.b, p.len, &lim, &o), &o, SKIFF_DROP_IP6_EXT_TOO_LONG);
	/* a non-first fragment's chain ends at its Fragment header */
	pb_init(&p, NULL);
	for (int i = 0; i < 7; i++)
		pb_do8(&p);
	pb_frag(&p, 8, false, 1);
	pb_end(&p, IP6_NH_DSTOPTS, Z, 200);
	expect_ok(walk_lim(p.b, p.len, &lim, &o), &o, IP6_NH_DSTOPTS, 104, 8);
}

/* ---- every IP6_* reason in drop.h is produced by parse or walk ---- */

static enum skiff_drop_reason drop_of(const uint8_t *f, size_t len, const struct ip6_ext_limits *lim)
{
	struct view v = view_make(f, len);
	struct ip6_repr ip;
	struct ip6_ext_info o;
	int err = ip6_parse(&v, &ip);
	if (err)
		return ip6_parse_drop(err);
	if (ip6_ext_walk(view_make(f, IP6_HDR_LEN + ip.payload_len), lim, &o) == 0)
		return SKIFF_DROP_MAX;
	return o.drop;
}

static void test_every_ip6_drop_reason(void **state)
{
	struct ip6_ext_limits one = { 1, IP6_EXT_MAX_CHAIN_DEFAULT, IP6_EXT_MAX_OPTS_DEFAULT };
	struct ip6_ext_limits short_chain = { IP6_EXT_MAX_HDRS_DEFAULT, 8, IP6_EXT_MAX_OPTS_DEFAULT };
	struct ip6_ext_limits no_opts = { IP6_EXT_MAX_HDRS_DEFAULT, IP6_EXT_MAX_CHAIN_DEFAULT, 0 };
	bool seen[SKIFF_DROP_MAX + 1] = { false }; /* [SKIFF_DROP_MAX]: accepted */
	uint8_t f[128];
	struct pb p;
	unsigned n_ip6 = 0;
	(void)state;

	seen[drop_of(v6_udp6, 39, NULL)] = true;
	memcpy(f, v6_udp6, sizeof(v6_udp6));
	f[0] = 0x45;
	seen[drop_of(f, sizeof(v6_udp6), NULL)] = true;
	seen[drop_of(v6_udp6, sizeof(v6_udp6) - 1, NULL)] = true;
	seen[drop_of(v6_chain, 60, NULL)] = true; /* payload length past a cut frame */
	seen[drop_of(v6_chain, sizeof(v6_chain), &one)] = true;
	seen[drop_of(v6_chain, sizeof(v6_chain), &short_chain)] = true;
	seen[drop_of(v6_hbh_ra, sizeof(v6_hbh_ra), &no_opts)] = true;
	seen[drop_of(v6_opt_discard, sizeof(v6_opt_discard), NULL)] = true;
	seen[drop_of(v6_rh0_sl2, sizeof(v6_rh0_sl2), NULL)] = true;
	pb_init(&p, NULL);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8)[1] = 1;
	pb_end(&p, IP6_NH_UDP, NULL, 0);
	seen[drop_of(p.b, p.len, NULL)] = true; /* truncated */
	pb_init(&p, NULL);
	pb_do8(&p);
	pb_hdr(&p, IP6_NH_HOPOPTS, 8);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	seen[drop_of(p.b, p.len, NULL)] = true; /* hbh not first */
	pb_init(&p, NULL);
	pb_opts(&p, IP6_NH_DSTOPTS, (const uint8_t[]){ 1, 4, 0, 0, 0, 1 }, 6);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	seen[drop_of(p.b, p.len, NULL)] = true; /* malformed */
	pb_init(&p, NULL);
	pb_rh(&p, 4, 1, 24);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	seen[drop_of(p.b, p.len, NULL)] = true; /* rh unknown */
	pb_init(&p, NULL);
	pb_frag(&p, 8, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 9);
	seen[drop_of(p.b, p.len, NULL)] = true; /* frag bad len */
	pb_init(&p, NULL);
	pb_frag(&p, 65528, false, 1);
	pb_end(&p, IP6_NH_UDP, Z, 9);
	seen[drop_of(p.b, p.len, NULL)] = true; /* frag too big */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 4);
	seen[drop_of(p.b, p.len, NULL)] = true; /* incomplete */
	pb_init(&p, NULL);
	pb_frag(&p, 0, true, 1);
	pb_frag(&p, 8, true, 1);
	pb_end(&p, IP6_NH_UDP, Z, 8);
	seen[drop_of(p.b, p.len, NULL)] = true; /* nested */

	/* the parse and walk reasons: IP6_SHORT .. IP6_FRAG_NESTED (the input
	 * path's own IP6_ reasons follow them, swept in test_ip6.c) */
	for (int r = SKIFF_DROP_IP6_SHORT; r <= SKIFF_DROP_IP6_FRAG_NESTED; r++) {
		const char *name = skiff_drop_name((enum skiff_drop_reason)r);
		n_ip6++;
		if (!seen[r])
			fail_msg("drop reason %s not reached by parse or walk", name);
		assert_true(strlen(skiff_drop_desc((enum skiff_drop_reason)r)) > 10);
	}
	assert_int_equal(n_ip6, 16);
}

/* ---- randomized robustness ---- */

static uint64_t rng = 0x1f2e3d4c5b6a7988ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* A plausible-looking chain: a fixed header, then headers of the kinds the walk
 * knows (Hop-by-Hop mostly first) with mostly-valid random contents, ending in a
 * random protocol, then a few mutations, a wrong payload length or a cut. */
static size_t gen_structured(uint8_t *b, size_t cap)
{
	static const uint8_t kinds[] = { 60, 43, 44, 60, 43, 44, 60, 0, 59, 6, 17, 58, 51 };
	static const uint8_t otypes[] = { 0, 1, 5, 0x5e, 0x9e, 0xde, 0xc2 };
	size_t len = IP6_HDR_LEN, nh_at = 6;
	unsigned n = rnd() % 16;
	for (size_t i = 0; i < IP6_HDR_LEN; i++)
		b[i] = (uint8_t)rnd();
	b[0] = (uint8_t)(0x60 | (b[0] & 0x0f));
	if ((rnd() & 7) == 0)
		memcpy(b + 24, ALL_NODES, 16);
	for (unsigned i = 0; i < n; i++) {
		uint8_t k = i == 0 && (rnd() & 1) ? 0 : kinds[rnd() % sizeof(kinds)];
		size_t hlen = k == 44 ? 8 : ((size_t)(rnd() % 4) + 1) * 8;
		if (len + hlen > cap)
			break;
		b[nh_at] = k;
		if (k != 0 && k != 60 && k != 43 && k != 44)
			break;
		for (size_t j = 0; j < hlen; j++)
			b[len + j] = (uint8_t)((rnd() & 7) ? 0 : rnd());
		if (k == 44) {
			uint32_t r = rnd() % 4;
			st16(b + len + 2, (uint16_t)(r < 2 ? 0 : r == 2 ? IP6_FRAG_M : rnd()));
		} else {
			b[len + 1] = (uint8_t)(hlen / 8 - 1);
			if (k == 43 && (rnd() & 3))
				b[len + 3] = 0;
			if (k == 0 || k == 60) { /* options, mostly skippable ones */
				size_t at = 2;
				while (at + 2 <= hlen) {
					size_t d = rnd() % (hlen - at - 1);
					b[len + at] = (rnd() & 15) ? 0x1e : otypes[rnd() % sizeof(otypes)];
					b[len + at + 1] = (uint8_t)d;
					at += 2 + d;
				}
			}
		}
		nh_at = len;
		len += hlen;
	}
	if ((rnd() & 7) == 0)
		b[nh_at] = (uint8_t)rnd();
	{
		size_t tail = rnd() % 40;
		if (len + tail > cap)
			tail = cap - len;
		for (size_t j = 0; j < tail; j++)
			b[len + j] = (uint8_t)rnd();
		len += tail;
	}
	if ((rnd() & 3) == 0) /* a mutation */
		b[rnd() % len] = (uint8_t)rnd();
	st16(b + 4, (uint16_t)(len - IP6_HDR_LEN));
	if ((rnd() & 15) == 0)
		st16(b + 4, (uint16_t)rnd());
	if ((rnd() & 15) == 0) /* cut the frame */
		len = rnd() % (len + 1);
	return len;
}

static void test_random_robustness(void **state)
{
	static uint8_t gen[2200];
	unsigned ok = 0, deep = 0, reasons = 0;
	unsigned hist[SKIFF_DROP_MAX] = { 0 };
	struct ip6_ext_limits tiny = { 2, 16, 1 };
	(void)state;
	for (int t = 0; t < 100000; t++) {
		size_t len;
		uint8_t *c;
		struct view v;
		struct ip6_repr ip;
		struct ip6_ext_info o;
		int err;

		if (t % 4 == 0) {
			len = rnd() % 200;
			for (size_t i = 0; i < len; i++)
				gen[i] = (uint8_t)rnd();
			if (len && (rnd() & 1))
				gen[0] = (uint8_t)(0x60 | (gen[0] & 0x0f));
		} else {
			len = gen_structured(gen, (t % 64) == 1 ? sizeof(gen) : 300);
		}
		c = malloc(len ? len : 1);
		assert_non_null(c);
		memcpy(c, gen, len);
		v = view_make(c, len);
		err = ip6_parse(&v, &ip);
		if (err) {
			assert_true(err == -EBADMSG || err == -EPROTONOSUPPORT || err == -EMSGSIZE);
			assert_int_equal(v.len, len);
			hist[ip6_parse_drop(err)]++;
			free(c);
			continue;
		}
		assert_true(v.len == ip.payload_len && v.p == c + IP6_HDR_LEN);
		for (int pass = 0; pass < 2; pass++) {
			const struct ip6_ext_limits *lim = pass ? &tiny : NULL;
			struct ip6_ext_limits eff = pass ? tiny : ip6_ext_limits_default();
			size_t plen = IP6_HDR_LEN + ip.payload_len;
			if (ip6_ext_walk(view_make(c, plen), lim, &o) == 0) {
				assert_true(o.l4_off >= IP6_HDR_LEN && o.l4_off <= plen);
				assert_true(o.l4_off - IP6_HDR_LEN <= eff.max_chain);
				assert_true(o.n_hdrs <= eff.max_hdrs);
				assert_true(o.proto_ptr < o.l4_off);
				assert_true(o.proto_ptr == 6 || o.proto_ptr >= IP6_HDR_LEN);
				assert_true((o.n_hdrs == 0) == (o.l4_off == IP6_HDR_LEN));
				if (o.frag || o.atomic)
					assert_int_equal(o.fi.data_off + o.fi.data_len, plen);
				if (o.first_frag)
					assert_true(o.frag && o.fi.offset == 0 && o.fi.more);
				if (!pass) {
					ok++;
					if (o.n_hdrs >= 3)
						deep++;
				}
			} else {
				const char *name = skiff_drop_name(o.drop);
				if (strncmp(name, "IP6_", 4))
					fail_msg("walk dropped with %s", name);
				if (o.icmp)
					assert_true(o.icmp_ptr < plen);
				assert_true(!o.icmp_mcast_ok || o.icmp);
				if (!pass)
					hist[o.drop]++;
			}
		}
		free(c);
	}
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		reasons += hist[r] != 0;
	/* the generator reaches deep into the walk, not just the first checks */
	assert_true(ok > 20000);
	assert_true(deep > 2000);
	assert_true(reasons >= 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_bad_version),
		cmocka_unit_test(test_parse_payload_len),
		cmocka_unit_test(test_emit_into_headroom),
		cmocka_unit_test(test_addr_helpers),
		cmocka_unit_test(test_walk_plain),
		cmocka_unit_test(test_walk_every_header),
		cmocka_unit_test(test_walk_router_alert),
		cmocka_unit_test(test_walk_no_next_header),
		cmocka_unit_test(test_walk_upper_layers),
		cmocka_unit_test(test_walk_hbh_not_first),
		cmocka_unit_test(test_walk_unknown_option_actions),
		cmocka_unit_test(test_walk_padding_and_overrun),
		cmocka_unit_test(test_walk_option_count),
		cmocka_unit_test(test_walk_routing),
		cmocka_unit_test(test_walk_fragments),
		cmocka_unit_test(test_walk_atomic_fragment),
		cmocka_unit_test(test_walk_fragment_lengths),
		cmocka_unit_test(test_walk_rfc7112),
		cmocka_unit_test(test_walk_nested_fragment),
		cmocka_unit_test(test_walk_truncated),
		cmocka_unit_test(test_walk_header_count_limit),
		cmocka_unit_test(test_walk_chain_length_limit),
		cmocka_unit_test(test_every_ip6_drop_reason),
		cmocka_unit_test(test_random_robustness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
