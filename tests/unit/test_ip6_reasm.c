/* test_ip6_reasm.c — IPv6 reassembly (dataplane/ip_reasm.c, skiff_ip6_reasm),
 * driven directly: each fragment is copied into a pool frame, walked with
 * ip6_ext_walk and handed to skiff_ip6_reasm as ip6_input hands it. The stack
 * has 2001:2::1/64 and knows the peer's MAC, so ICMPv6 errors are checked as
 * the frames they become on the interface.
 *
 *  - scapy's fragment6() of a datagram with a Hop-by-Hop header (per-fragment)
 *    and a Destination Options header (fragmentable part), in all 120 orders,
 *    byte-exact against scapy's unfragmented packet (RFC 8200 4.5 "Reassembly":
 *    Fragment header gone, Next Header and Payload Length rewritten);
 *  - built datagrams of random sizes shuffled, per-fragment headers that differ
 *    between fragments, Fragment headers whose Next Header differs (offset 0's
 *    counts), the UDP checksum over the chain;
 *  - RFC 5722: an overlap anywhere drops the whole datagram, after which another
 *    datagram still reassembles; exact duplicates are dropped alone (RFC 8200 4.5);
 *  - tiny 8-byte fragments up to reasm_max_frags, one more drops the datagram;
 *  - M set and not a multiple of 8, and past 65535 (RFC 8200 4.5: Parameter
 *    Problem code 0), the 65535-byte boundary, a first fragment whose longer
 *    per-fragment headers push the datagram past it;
 *  - timeout with and without the first fragment (Time Exceeded code 1 only with);
 *  - link-local destinations keyed by interface;
 *  - 100k random fragments: memory and slots stay within the limits, legit
 *    datagrams keep getting through, nothing leaks;
 *  - IPv4 and IPv6 sharing one table and one memory bound;
 *  - once through the stack (Ethernet frames, ip6_input): the Port Unreachable
 *    for the reassembled datagram quotes its reassembled header.
 * After every test nothing is left in reassembly and every frame is back in the pool.
 *
 * The v6f_* vectors were made by scapy with the expression in each comment
 * (/usr/bin/python3, scapy 2.5.0); addresses 2001:2::2 (PEER) → 2001:2::1 (LOCAL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/ip6.h"
#include "dataplane/ip6_exthdr.h"
#include "dataplane/neigh.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp6.h"
#include "dataplane/wire_ip6.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define FRAME_CAP (2048u + SKIFF_HEADROOM) /* the harness's buffer size */
#define RX_OFF (SKIFF_HEADROOM + 14)        /* where a received IPv6 header sits */

static const uint8_t LOCAL[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t PEER[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t LL_LOCAL[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t LL_PEER[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };

/* ---- scapy vectors ---- */

/* v6f_0: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=0xc0ffee01)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200], 104)[0] */
static const uint8_t v6f_0[104] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x00, 0x01, 0xc0, 0xff, 0xee, 0x01, 0x11, 0x00, 0x01, 0x04,
	0x00, 0x00, 0x00, 0x00, 0x0f, 0xa0, 0x13, 0x88, 0x00, 0xd0, 0xc7, 0xe6,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* v6f_1: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=0xc0ffee01)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200], 104)[1] */
static const uint8_t v6f_1[104] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x00, 0x31, 0xc0, 0xff, 0xee, 0x01, 0x20, 0x21, 0x22, 0x23,
	0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
	0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b,
	0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
};

/* v6f_2: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=0xc0ffee01)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200], 104)[2] */
static const uint8_t v6f_2[104] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x00, 0x61, 0xc0, 0xff, 0xee, 0x01, 0x50, 0x51, 0x52, 0x53,
	0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
	0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
	0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
};

/* v6f_3: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=0xc0ffee01)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200], 104)[3] */
static const uint8_t v6f_3[104] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x00, 0x91, 0xc0, 0xff, 0xee, 0x01, 0x80, 0x81, 0x82, 0x83,
	0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
	0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
};

/* v6f_4: fragment6(IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(id=0xc0ffee01)/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200], 104)[4] */
static const uint8_t v6f_4[80] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x3c, 0x00, 0x00, 0xc0, 0xc0, 0xff, 0xee, 0x01, 0xb0, 0xb1, 0xb2, 0xb3,
	0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
};

/* v6f_whole: IPv6(src=PEER, dst=LOCAL)/IPv6ExtHdrHopByHop()/IPv6ExtHdrDestOpt()/UDP(sport=4000, dport=5000)/bytes(range(256))[:200] (what reassembly must give back) */
static const uint8_t v6f_whole[264] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x40, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
	0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x0f, 0xa0, 0x13, 0x88,
	0x00, 0xd0, 0xc7, 0xe6, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b,
	0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
	0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f,
	0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b,
	0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
	0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73,
	0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
	0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3,
	0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
	0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
	0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
};

#define V6F_N 5

static struct harness H;

static void usage(struct harness *h, unsigned *d, unsigned *b) { skiff_reasm_usage(h->st, d, b); }

static void assert_empty(struct harness *h)
{
	unsigned d, b;
	usage(h, &d, &b);
	assert_int_equal(d, 0);
	assert_int_equal(b, 0);
}

static void assert_held(struct harness *h, unsigned datagrams, unsigned frames)
{
	unsigned d, b;
	usage(h, &d, &b);
	assert_int_equal(d, datagrams);
	assert_int_equal(b, frames * FRAME_CAP);
}

/* The harness's stack plus 2001:2::1/64 on its interface (usable at once: no
 * DAD, no router solicitations) and the peer 2001:2::2's MAC known, so ICMPv6
 * errors go straight out. */
static int setup_cfg(void **state, const struct skiff_stack_config *c)
{
	struct skiff_stack_config cfg;
	if (c)
		cfg = *c;
	else
		skiff_stack_config_defaults(&cfg);
	cfg.nd_dad_transmits = 0;
	cfg.nd_rtr_solicits = 0;
	assert_int_equal(h_init(&H, &cfg), 0);
	h_learn_peer(&H);
	assert_int_equal(skiff_stack_add_addr6(H.st, H.ifindex, LOCAL, 64, H.now), 0);
	h_advance(&H, 0); /* the ND timer makes it PREFERRED */
	/* as an NS from the peer (a STALE entry, RFC 4861 7.2.3), then its solicited NA */
	skiff_neigh_nd_update(H.st, skiff_stack_iface(H.st, H.ifindex), PEER, h_peer_mac, 0, H.now);
	skiff_neigh_nd_update(H.st, skiff_stack_iface(H.st, H.ifindex), PEER, h_peer_mac,
			      SKIFF_ND_ADVERT | SKIFF_ND_SOLICITED | SKIFF_ND_OVERRIDE, H.now);
	{
		uint8_t mac[6];
		assert_int_equal(skiff_neigh_lookup6(H.st, H.ifindex, PEER, mac), SKIFF_NEIGH_REACHABLE);
		assert_memory_equal(mac, h_peer_mac, 6);
	}
	assert_int_equal(skiff_stack_local6(H.st, LOCAL, H.ifindex, true), H.ifindex);
	h_tx_flush(&H);
	*state = &H;
	return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

/* No leaks: nothing in reassembly and, once the transmit queue is flushed,
 * every frame back in the pool. */
static int teardown(void **state)
{
	struct harness *h = *state;
	assert_empty(h);
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), skiff_mempool_count(h->mp));
	h_fini(h);
	return 0;
}

static uint32_t lcg = 1;
static uint32_t rnd(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return lcg >> 8;
}

static void shuffle(unsigned *v, unsigned n)
{
	for (unsigned i = n; i > 1; i--) {
		unsigned j = rnd() % i, t = v[i - 1];
		v[i - 1] = v[j];
		v[j] = t;
	}
}

/* ---- builders ---- */

/* A Hop-by-Hop or Destination Options header of hlen bytes (a multiple of 8,
 * <= 2048) at h, filled with options of an unknown type whose action bits say
 * skip (RFC 8200 4.2: 00), at most 8 of them (ip6_exthdr.h's max_opts). */
static void opts_hdr(uint8_t *h, uint8_t nh, size_t hlen)
{
	size_t area = hlen - 2, n = (area + 256) / 257, at = 2;
	h[0] = nh;
	h[1] = (uint8_t)(hlen / 8 - 1);
	for (size_t i = 0; i < n; i++) {
		size_t d = (area - 2 * n) / n + (i < (area - 2 * n) % n);
		h[at] = 0x1e;
		h[at + 1] = (uint8_t)d;
		memset(h + at + 2, (int)i, d);
		at += 2 + d;
	}
	assert_int_equal(at, hlen);
}

/* The fragmentable part of a datagram from src to dst: a Destination Options
 * header of do_len bytes (0: none), then UDP 4000 → 5000 with plen bytes of
 * pattern and its checksum (RFC 8200 8.1). Returns its length. */
static size_t make_fp(uint8_t *fp, const uint8_t *src, const uint8_t *dst, size_t do_len, size_t plen, uint8_t seed)
{
	uint8_t *u = fp + do_len;
	size_t n = 8 + plen;
	uint16_t c;
	if (do_len)
		opts_hdr(fp, IP6_NH_UDP, do_len);
	st16(u, 4000);
	st16(u + 2, 5000);
	st16(u + 4, (uint16_t)n);
	st16(u + 6, 0);
	for (size_t i = 0; i < plen; i++)
		u[8 + i] = (uint8_t)(i * 7 + seed + (i >> 8));
	c = csum_fold(csum_partial(u, n, csum_pseudo6(src, dst, IP6_NH_UDP, (uint32_t)n)));
	st16(u + 6, c ? c : 0xffff);
	return do_len + n;
}

struct fb6 {
	const uint8_t *src, *dst;
	uint32_t id;
	uint8_t nh;    /* the Fragment header's Next Header */
	size_t unfrag; /* bytes of a Hop-by-Hop header before the Fragment header (0: none) */
};

/* A fragment carrying fp[off, off + len) (frag true), or the unfragmented
 * packet as RFC 8200 4.5 reassembles it from such fragments (frag false: no
 * Fragment header, fp whole). Returns the packet's length. */
static size_t build6(uint8_t *b, const struct fb6 *f, const uint8_t *fp, size_t off, size_t len, bool more, bool frag)
{
	size_t at = IP6_HDR_LEN;
	uint8_t next = frag ? IP6_NH_FRAGMENT : f->nh;
	memset(b, 0, IP6_HDR_LEN);
	b[0] = 0x60;
	b[6] = f->unfrag ? IP6_NH_HOPOPTS : next;
	b[7] = 64;
	memcpy(b + 8, f->src, 16);
	memcpy(b + 24, f->dst, 16);
	if (f->unfrag) {
		opts_hdr(b + at, next, f->unfrag);
		at += f->unfrag;
	}
	if (frag) {
		b[at] = f->nh;
		b[at + 1] = 0;
		st16(b + at + 2, (uint16_t)(off | (more ? IP6_FRAG_M : 0)));
		st32(b + at + 4, f->id);
		at += IP6_FRAG_HDR_LEN;
	}
	memcpy(b + at, fp + off, len);
	at += len;
	st16(b + 4, (uint16_t)(at - IP6_HDR_LEN));
	return at;
}

/* ---- driving reassembly as ip6_input does ---- */

static struct skiff_pkt *frame(struct harness *h, const uint8_t *b, size_t n, uint16_t ifindex)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
	assert_non_null(p);
	assert_true(RX_OFF + n <= p->cap);
	p->off = RX_OFF;
	p->len = (uint32_t)n;
	memcpy(p->head + p->off, b, n);
	p->l3_off = (uint16_t)p->off;
	p->ifindex = ifindex;
	return p;
}

/* Walk the packet; 0 and the walk's result, or the walk's error with p dropped
 * under its reason (what ip6_input does). */
static int walk(struct harness *h, struct skiff_pkt *p, struct ip6_ext_info *x)
{
	const uint8_t *ih = p->head + p->l3_off;
	int rc = ip6_ext_walk(view_make(ih, IP6_HDR_LEN + ld16(ih + 4)), NULL, x);
	if (rc)
		skiff_drop(h->st, x->drop, p);
	return rc;
}

/* One fragment through the walk and reassembly on interface ifindex. */
static struct skiff_pkt *feed_if(struct harness *h, const uint8_t *b, size_t n, uint16_t ifindex, uint8_t *proto)
{
	struct skiff_pkt *p = frame(h, b, n, ifindex);
	struct ip6_ext_info x;
	assert_int_equal(walk(h, p, &x), 0);
	assert_true(x.frag);
	*proto = 0xee;
	return skiff_ip6_reasm(h->st, p, &x, proto, h->now);
}

static struct skiff_pkt *feed(struct harness *h, const uint8_t *b, size_t n, uint8_t *proto)
{
	return feed_if(h, b, n, (uint16_t)h->ifindex, proto);
}

static void feed_none(struct harness *h, const uint8_t *b, size_t n)
{
	uint8_t proto;
	assert_null(feed(h, b, n, &proto));
}

/* Fragment k of a datagram cut in pieces of `piece` bytes. */
static size_t piece_of(uint8_t *b, const struct fb6 *f, const uint8_t *fp, size_t fplen, size_t piece, unsigned k)
{
	size_t off = (size_t)k * piece, len = fplen - off < piece ? fplen - off : piece;
	return build6(b, f, fp, off, len, off + len < fplen, true);
}

/* The reassembled datagram as one buffer: the head's bytes from its fixed
 * header to the end of its data, then each later fragment's data. */
static size_t flatten(const struct skiff_pkt *d, uint8_t *out)
{
	size_t n = d->off + d->len - d->l3_off;
	memcpy(out, d->head + d->l3_off, n);
	for (const struct skiff_pkt *q = d->chain; q; q = q->chain) {
		memcpy(out + n, q->head + q->off, q->len);
		n += q->len;
	}
	return n;
}

/* d is exactly `want` (wlen bytes) with the data at the upper layer, l4_at bytes
 * after the fixed header, and the UDP checksum verifies over the chain. */
static void expect_dgram(struct skiff_pkt *d, uint8_t proto, const uint8_t *want, size_t wlen, size_t l4_at)
{
	static uint8_t buf[70000];
	const uint8_t *ih;
	uint32_t sum;
	assert_non_null(d);
	assert_int_equal(proto, IP6_NH_UDP);
	assert_int_equal(d->off - d->l3_off, l4_at);
	assert_int_equal(d->l4_off, d->off);
	assert_int_equal(flatten(d, buf), wlen);
	assert_memory_equal(buf, want, wlen);
	ih = d->head + d->l3_off;
	assert_int_equal(ld16(ih + 4), wlen - IP6_HDR_LEN);
	assert_int_equal(skiff_pkt_chain_len(d), wlen - l4_at);
	sum = csum_pseudo6(ih + 8, ih + 24, IP6_NH_UDP, skiff_pkt_chain_len(d));
	for (const struct skiff_pkt *q = d; q; q = q->chain) {
		assert_true(q == d || (q->len & 7) == 0 || !q->chain);
		sum = csum_partial(q->head + q->off, q->len, sum);
	}
	assert_int_equal(csum_fold(sum), 0);
	for (const struct skiff_pkt *q = d; q; q = q->chain)
		assert_null(q->next);
}

/* ---- the ICMPv6 errors on the interface ---- */

/* Among the frames transmitted since the last flush, exactly one is an ICMPv6
 * error; it has type/code/param, goes from the address the offending packet
 * was sent to back to its source, quotes the packet's start, and its checksum
 * verifies (RFC 4443 2.3). The other frames (none expected) are freed. */
static void expect_icmp6_error_q(struct harness *h, uint8_t type, uint8_t code, uint32_t param, const uint8_t *orig,
				 size_t olen, size_t min_q)
{
	struct skiff_pkt *t;
	unsigned found = 0;
	while ((t = h_tx_pop(h))) {
		const uint8_t *e = t->head + t->off, *ip = e + 14, *ic = ip + IP6_HDR_LEN;
		size_t q;
		if (t->len < 14 + IP6_HDR_LEN + ICMP6_HDR_LEN || ld16(e + 12) != 0x86dd || ip[6] != IP6_NH_ICMP6 ||
		    !icmp6_is_error(ic[0])) {
			skiff_pkt_free(t);
			continue;
		}
		found++;
		assert_memory_equal(e, h_peer_mac, 6);
		assert_memory_equal(ip + 24, orig + 8, 16); /* to the offender's source */
		assert_memory_equal(ip + 8, orig + 24, 16); /* from the address it was sent to */
		assert_int_equal(ic[0], type);
		assert_int_equal(ic[1], code);
		assert_int_equal(ld32(ic + 4), param);
		q = ld16(ip + 4);
		assert_int_equal(t->len, 14 + IP6_HDR_LEN + q);
		assert_int_equal(csum_fold(csum_partial(ic, q, csum_pseudo6(ip + 8, ip + 24, IP6_NH_ICMP6, (uint32_t)q))),
				 0);
		q -= ICMP6_HDR_LEN;
		assert_true(q >= min_q && q <= olen && q <= IP6_MIN_MTU - IP6_HDR_LEN - ICMP6_HDR_LEN);
		assert_memory_equal(ic + ICMP6_HDR_LEN, orig, q);
		skiff_pkt_free(t);
	}
	assert_int_equal(found, 1);
}

/* ... quoting the whole offending packet (RFC 4443 3: as much as fits in 1280). */
static void expect_icmp6_error(struct harness *h, uint8_t type, uint8_t code, uint32_t param, const uint8_t *orig,
			       size_t olen)
{
	size_t max = IP6_MIN_MTU - IP6_HDR_LEN - ICMP6_HDR_LEN;
	expect_icmp6_error_q(h, type, code, param, orig, olen, olen < max ? olen : max);
}

static void expect_param_problem(struct harness *h, const uint8_t *orig, size_t olen, uint32_t ptr)
{
	expect_icmp6_error(h, ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, ptr, orig, olen);
}

static void expect_time_exceeded(struct harness *h, const uint8_t *orig, size_t olen)
{
	expect_icmp6_error(h, ICMP6_TIME_EXCEEDED, ICMP6_TE_REASSEMBLY, 0, orig, olen);
}

/* ---- success ---- */

/* scapy's five fragments in all 120 orders give back scapy's unfragmented packet. */
static void test_scapy_every_order(void **state)
{
	struct harness *h = *state;
	const uint8_t *fr[V6F_N] = { v6f_0, v6f_1, v6f_2, v6f_3, v6f_4 };
	const size_t fl[V6F_N] = { sizeof(v6f_0), sizeof(v6f_1), sizeof(v6f_2), sizeof(v6f_3), sizeof(v6f_4) };
	unsigned perm[V6F_N] = { 0, 1, 2, 3, 4 }, count = 0;

	for (;;) {
		struct skiff_pkt *d = NULL;
		uint8_t proto;
		for (unsigned i = 0; i < V6F_N; i++) {
			d = feed(h, fr[perm[i]], fl[perm[i]], &proto);
			if (i < V6F_N - 1) {
				assert_null(d);
				assert_held(h, 1, i + 1);
			}
		}
		assert_empty(h);
		/* fixed header, Hop-by-Hop (per-fragment), Destination Options skipped */
		expect_dgram(d, proto, v6f_whole, sizeof(v6f_whole), IP6_HDR_LEN + 8 + 8);
		skiff_pkt_free(d);
		count++;
		/* next permutation (lexicographic) */
		{
			int i = V6F_N - 2, j = V6F_N - 1;
			while (i >= 0 && perm[i] > perm[i + 1])
				i--;
			if (i < 0)
				break;
			while (perm[j] < perm[i])
				j--;
			unsigned t = perm[i];
			perm[i] = perm[j];
			perm[j] = t;
			for (int a = i + 1, b = V6F_N - 1; a < b; a++, b--) {
				t = perm[a];
				perm[a] = perm[b];
				perm[b] = t;
			}
		}
	}
	assert_int_equal(count, 120);

	/* the short last fragment padded to the Ethernet minimum: padding is not data */
	{
		static uint8_t padded[sizeof(v6f_4) + 64];
		uint8_t proto;
		memset(padded, 0xee, sizeof(padded));
		memcpy(padded, v6f_4, sizeof(v6f_4));
		feed_none(h, v6f_0, sizeof(v6f_0));
		feed_none(h, padded, sizeof(padded));
		feed_none(h, v6f_2, sizeof(v6f_2));
		feed_none(h, v6f_1, sizeof(v6f_1));
		struct skiff_pkt *d = feed(h, v6f_3, sizeof(v6f_3), &proto);
		expect_dgram(d, proto, v6f_whole, sizeof(v6f_whole), IP6_HDR_LEN + 16);
		skiff_pkt_free(d);
	}
}

/* Random sizes, random piece sizes, shuffled; the per-fragment headers differ
 * between fragments (only the first's are kept) and so does the Fragment
 * header's Next Header (only offset 0's counts, RFC 8200 4.5). */
static void test_built_shuffled(void **state)
{
	struct harness *h = *state;
	static uint8_t fp[20000], want[21000], b[2100];
	lcg = 7;
	for (unsigned round = 0; round < 60; round++) {
		size_t do_len = (round % 3) * 8 + (round % 7 == 0 ? 256 : 0);
		size_t plen = 600 + rnd() % 12000, fplen = make_fp(fp, PEER, LOCAL, do_len, plen, (uint8_t)round);
		size_t first_unfrag = (round & 1) ? 8 * (1 + rnd() % 16) : 0;
		size_t piece = 8 * (((do_len + 8 + 7) / 8) + rnd() % 200);
		unsigned n = (unsigned)((fplen + piece - 1) / piece), order[200];
		struct fb6 f0 = { PEER, LOCAL, 0x80000000u + round, do_len ? IP6_NH_DSTOPTS : IP6_NH_UDP, first_unfrag };
		struct skiff_pkt *d = NULL;
		uint8_t proto;
		size_t wlen;

		if (piece > 1900 - first_unfrag - 128)
			piece = 8 * ((1900 - first_unfrag - 128) / 8);
		if (piece >= fplen) /* at least two fragments: one would be atomic */
			piece = 8 * ((fplen / 2 + 7) / 8);
		n = (unsigned)((fplen + piece - 1) / piece);
		if (n > 128) { /* stay within reasm_max_frags */
			piece = 8 * ((fplen / 128 + 8) / 8);
			n = (unsigned)((fplen + piece - 1) / piece);
		}
		assert_true(n <= 128 && n <= 200);
		for (unsigned i = 0; i < n; i++)
			order[i] = i;
		shuffle(order, n);
		for (unsigned i = 0; i < n; i++) {
			struct fb6 f = f0;
			size_t len;
			if (order[i] != 0) {
				f.nh = (uint8_t)(rnd() % 256);          /* ignored: not offset 0 */
				f.unfrag = (rnd() & 1) ? 8 * (1 + rnd() % 8) : 0;
			}
			len = piece_of(b, &f, fp, fplen, piece, order[i]);
			d = feed(h, b, len, &proto);
			if (i < n - 1)
				assert_null(d);
		}
		assert_empty(h);
		wlen = build6(want, &f0, fp, 0, fplen, false, false);
		expect_dgram(d, proto, want, wlen, IP6_HDR_LEN + first_unfrag + do_len);
		skiff_pkt_free(d);
	}
}

/* A packet that is not a fragment (an atomic fragment, processed whole) comes
 * back as it is, data at the upper layer. */
static void test_not_a_fragment(void **state)
{
	struct harness *h = *state;
	uint8_t fp[64], b[128], proto = 0;
	struct fb6 f = { PEER, LOCAL, 9, IP6_NH_UDP, 0 };
	size_t fplen = make_fp(fp, PEER, LOCAL, 0, 20, 1), n = build6(b, &f, fp, 0, fplen, false, true);
	struct skiff_pkt *p = frame(h, b, n, (uint16_t)h->ifindex), *d;
	struct ip6_ext_info x;
	assert_int_equal(walk(h, p, &x), 0);
	assert_true(x.atomic);
	assert_false(x.frag);
	d = skiff_ip6_reasm(h->st, p, &x, &proto, h->now);
	assert_ptr_equal(d, p);
	assert_int_equal(proto, IP6_NH_UDP);
	assert_int_equal(d->off - d->l3_off, IP6_HDR_LEN + 8);
	assert_int_equal(d->len, fplen);
	assert_memory_equal(d->head + d->off, fp, fplen);
	skiff_pkt_free(d);
	assert_empty(h);
}

/* ---- RFC 5722: overlaps ---- */

/* 256 bytes in four 64-byte pieces; some of them present, then one more
 * fragment [off, off + len) that overlaps one of them: the whole datagram goes,
 * the offending fragment with it; a datagram with another id still works. */
static void test_overlap_anywhere(void **state)
{
	struct harness *h = *state;
	static const struct {
		unsigned have;   /* bit k: piece k (64 bytes at 64k) already there */
		unsigned off, len;
		bool more;
	} c[] = {
		{ 0x1, 0, 8, true },      /* same start as the first, shorter */
		{ 0x1, 0, 72, true },     /* same start, longer */
		{ 0x1, 8, 8, true },      /* inside the first */
		{ 0x1, 56, 16, true },    /* across the first's end */
		{ 0x2, 56, 16, true },    /* across the second's start */
		{ 0x2, 0, 128, true },    /* covers the second */
		{ 0x5, 64, 72, true },    /* fills the hole and runs into the third */
		{ 0x5, 120, 16, true },   /* straddles hole and third */
		{ 0x8, 192, 8, true },    /* inside the last (M set) */
		{ 0x8, 200, 56, false },  /* a second last fragment ending at the same place */
		{ 0x8, 184, 8, false },   /* a last fragment ending before data we have */
		{ 0x8, 256, 8, true },    /* data past the known end */
		{ 0x8, 192, 72, false },  /* a last fragment ending elsewhere */
		{ 0x6, 64, 128, true },   /* covers the second and the third exactly */
		{ 0xf & ~0x4, 128, 64, false }, /* the hole filled, but as a last fragment */
	};
	static uint8_t fp[256 + 64], b[600];
	size_t fplen = make_fp(fp, PEER, LOCAL, 0, 248, 3);
	uint64_t ov = 0;

	assert_int_equal(fplen, 256);
	memset(fp + 256, 0x55, 64);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* the pieces, then the offender: all of them go */
		struct fb6 f = { PEER, LOCAL, 100 + 2 * i, IP6_NH_UDP, 0 };
		unsigned nhave = 0;
		uint64_t before;
		size_t n;
		for (unsigned k = 0; k < 4; k++)
			if (c[i].have & (1u << k)) {
				n = piece_of(b, &f, fp, fplen, 64, k);
				feed_none(h, b, n);
				nhave++;
			}
		assert_held(h, 1, nhave);
		n = build6(b, &f, fp, c[i].off, c[i].len, c[i].more, true);
		feed_none(h, b, n);
		ov += nhave + 1;
		assert_empty(h);
		assert_int_equal(h_drops(h, SKIFF_DROP_REASM_OVERLAP), ov);

		/* the offender first, then the pieces: the first piece that overlaps
		 * it drops what was there (>= 2 fragments); pieces after it start a
		 * datagram of their own, which times out. (Unless offender and
		 * pieces make a consistent datagram at the time: the last case's
		 * offender is a last fragment at 192, and pieces 0 and 1 complete
		 * a 192-byte datagram before piece 3 comes.) */
		f.id++;
		before = h_drops(h, SKIFF_DROP_REASM_OVERLAP);
		n = build6(b, &f, fp, c[i].off, c[i].len, c[i].more, true);
		feed_none(h, b, n);
		{
			bool completed = false;
			for (unsigned k = 0; k < 4; k++)
				if (c[i].have & (1u << k)) {
					struct skiff_pkt *d;
					uint8_t proto;
					n = piece_of(b, &f, fp, fplen, 64, k);
					d = feed(h, b, n, &proto);
					completed |= d != NULL;
					skiff_pkt_free(d);
				}
			assert_true(completed == (i == sizeof(c) / sizeof(c[0]) - 1));
			if (!completed)
				assert_true(h_drops(h, SKIFF_DROP_REASM_OVERLAP) >= before + 2);
		}
		h_advance(h, h->st->cfg.reasm_timeout_ns);
		h_tx_flush(h);
		assert_empty(h);
		ov = h_drops(h, SKIFF_DROP_REASM_OVERLAP);
	}
	/* a clean datagram still reassembles */
	{
		static uint8_t want[400];
		struct fb6 f = { PEER, LOCAL, 7777, IP6_NH_UDP, 0 };
		struct skiff_pkt *d = NULL;
		uint8_t proto;
		size_t n, wlen;
		for (unsigned k = 4; k-- > 0;) {
			n = piece_of(b, &f, fp, fplen, 64, k);
			d = feed(h, b, n, &proto);
		}
		wlen = build6(want, &f, fp, 0, fplen, false, false);
		expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
		skiff_pkt_free(d);
	}
}

/* RFC 8200 4.5: an exact duplicate is dropped alone; the datagram completes. */
static void test_exact_duplicate(void **state)
{
	struct harness *h = *state;
	uint8_t proto;
	struct skiff_pkt *d;
	feed_none(h, v6f_2, sizeof(v6f_2));
	feed_none(h, v6f_2, sizeof(v6f_2));
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_DUP), 1);
	feed_none(h, v6f_0, sizeof(v6f_0));
	feed_none(h, v6f_0, sizeof(v6f_0));
	feed_none(h, v6f_4, sizeof(v6f_4));
	feed_none(h, v6f_4, sizeof(v6f_4));
	feed_none(h, v6f_1, sizeof(v6f_1));
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_DUP), 3);
	assert_held(h, 1, 4);
	d = feed(h, v6f_3, sizeof(v6f_3), &proto);
	expect_dgram(d, proto, v6f_whole, sizeof(v6f_whole), IP6_HDR_LEN + 16);
	skiff_pkt_free(d);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_OVERLAP), 0);
}

/* ---- tiny fragments ---- */

/* reasm_max_frags (default 128) pieces of 8 bytes reassemble; one more piece
 * drops the datagram; a normal datagram gets through afterwards. */
static void test_tiny_fragments(void **state)
{
	struct harness *h = *state;
	static uint8_t fp[2048], want[2200];
	uint8_t b[128], proto;
	unsigned max = h->st->cfg.reasm_max_frags, order[256];
	size_t fplen = make_fp(fp, PEER, LOCAL, 0, max * 8 - 8, 11), n, wlen;
	struct fb6 f = { PEER, LOCAL, 42, IP6_NH_UDP, 0 };
	struct skiff_pkt *d = NULL;

	assert_int_equal(max, 128);
	lcg = 99;
	for (unsigned i = 0; i < max; i++)
		order[i] = i;
	shuffle(order, max);
	for (unsigned i = 0; i < max; i++) {
		n = piece_of(b, &f, fp, fplen, 8, order[i]);
		d = feed(h, b, n, &proto);
		if (i < max - 1)
			assert_null(d);
	}
	wlen = build6(want, &f, fp, 0, fplen, false, false);
	expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
	skiff_pkt_free(d);

	/* max + 1 pieces: the one over the limit drops the lot */
	f.id = 43;
	fplen = make_fp(fp, PEER, LOCAL, 0, max * 8, 12);
	for (unsigned i = 0; i < max; i++) {
		n = piece_of(b, &f, fp, fplen, 8, i);
		feed_none(h, b, n);
	}
	assert_held(h, 1, max);
	n = piece_of(b, &f, fp, fplen, 8, max);
	feed_none(h, b, n);
	assert_empty(h);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_MANY), max + 1);

	/* a first fragment holding only the Destination Options header, not the
	 * upper layer's: refused by the walk (RFC 7112 5), never queued */
	{
		struct fb6 g = { PEER, LOCAL, 44, IP6_NH_DSTOPTS, 0 };
		struct ip6_ext_info x;
		struct skiff_pkt *p;
		fplen = make_fp(fp, PEER, LOCAL, 8, 64, 13);
		n = build6(b, &g, fp, 0, 8, true, true);
		p = frame(h, b, n, (uint16_t)h->ifindex);
		assert_int_equal(walk(h, p, &x), -EBADMSG);
		assert_int_equal(x.drop, SKIFF_DROP_IP6_FRAG_INCOMPLETE);
		assert_true(x.icmp);
		assert_int_equal(x.icmp_code, ICMP6_PP_INCOMPLETE);
		assert_empty(h);
	}

	/* a normal datagram still reassembles */
	f.id = 45;
	fplen = make_fp(fp, PEER, LOCAL, 0, 1000, 14);
	{
		static uint8_t bb[1200];
		for (unsigned k = 3; k-- > 0;) {
			n = piece_of(bb, &f, fp, fplen, 400, k);
			d = feed(h, bb, n, &proto);
		}
		wlen = build6(want, &f, fp, 0, fplen, false, false);
		expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
		skiff_pkt_free(d);
	}
}

/* Through the stack: scapy's fragments as Ethernet frames reach ip6_input,
 * are reassembled, and (no socket on port 5000) the Port Unreachable quotes
 * the reassembled packet: the Fragment header gone, the Hop-by-Hop header
 * naming the Destination Options header, the whole payload length (what
 * Linux quotes). */
static void test_through_input(void **state)
{
	struct harness *h = *state;
	const uint8_t *fr[V6F_N] = { v6f_0, v6f_1, v6f_2, v6f_3, v6f_4 };
	const size_t fl[V6F_N] = { sizeof(v6f_0), sizeof(v6f_1), sizeof(v6f_2), sizeof(v6f_3), sizeof(v6f_4) };
	static const unsigned order[V6F_N] = { 3, 1, 4, 0, 2 };
	uint8_t f[256];

	for (unsigned i = 0; i < V6F_N; i++) {
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP6);
		memcpy(f + 14, fr[order[i]], fl[order[i]]);
		h_inject(h, f, 14 + fl[order[i]]);
	}
	assert_empty(h);
	assert_int_equal(h->st->ctr.ip6_reasm_ok, 1);
	/* at least the headers and the UDP header */
	expect_icmp6_error_q(h, ICMP6_DST_UNREACH, ICMP6_DU_PORT, 0, v6f_whole, sizeof(v6f_whole),
			     IP6_HDR_LEN + 8 + 8 + 8);
}

/* ---- RFC 8200 4.5 per-fragment rules ---- */

/* Walk p again with the Fragment header's checks out of the way: the result
 * ip6_ext_walk gives for a fragment that passes them, with the real values put
 * back, so skiff_ip6_reasm's own guard is what decides. */
static void walk_unchecked(struct harness *h, const struct fb6 *f, const uint8_t *fp, size_t off, size_t len,
			   bool more, struct ip6_ext_info *x)
{
	uint8_t b[2100];
	struct skiff_pkt *p;
	size_t n = build6(b, f, fp, 0, 16, true, true);
	p = frame(h, b, n, (uint16_t)h->ifindex);
	assert_int_equal(walk(h, p, x), 0);
	skiff_pkt_free(p);
	x->fi.offset = (uint16_t)off;
	x->fi.more = more;
	x->fi.data_len = (uint32_t)len;
	x->first_frag = off == 0;
	if (off) {
		x->proto = f->nh;
		x->l4_off = x->fi.data_off;
	}
}

/* M set and a length not a multiple of 8: Parameter Problem code 0 pointing at
 * the Payload Length (offset 4), fragment dropped. The walk refuses it (that is
 * what ip6_input sees); skiff_ip6_reasm refuses it too when handed one. */
static void test_not_multiple_of_8(void **state)
{
	struct harness *h = *state;
	uint8_t fp[128], b[256], proto;
	struct fb6 f = { PEER, LOCAL, 5, IP6_NH_UDP, 8 };
	struct ip6_ext_info x;
	struct skiff_pkt *p;
	size_t n;

	make_fp(fp, PEER, LOCAL, 0, 100, 1);
	n = build6(b, &f, fp, 8, 12, true, true);
	p = frame(h, b, n, (uint16_t)h->ifindex);
	assert_int_equal(walk(h, p, &x), -EBADMSG);
	assert_int_equal(x.drop, SKIFF_DROP_IP6_FRAG_BAD_LEN);
	assert_true(x.icmp);
	assert_int_equal(x.icmp_code, ICMP6_PP_HEADER);
	assert_int_equal(x.icmp_ptr, 4);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP6_FRAG_BAD_LEN), 1);

	walk_unchecked(h, &f, fp, 8, 12, true, &x);
	p = frame(h, b, n, (uint16_t)h->ifindex);
	assert_null(skiff_ip6_reasm(h->st, p, &x, &proto, h->now));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP6_FRAG_BAD_LEN), 2);
	expect_param_problem(h, b, n, 4);
	assert_empty(h);

	/* the same length without M (a last fragment) is fine */
	n = build6(b, &f, fp, 8, 12, false, true);
	feed_none(h, b, n);
	assert_held(h, 1, 1);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	assert_int_equal(h_tx_count(h), 0); /* no first fragment: no Time Exceeded */
}

/* Offset + length past 65535 bytes of payload: Parameter Problem code 0
 * pointing at the Fragment Offset (the Fragment header's offset + 2). */
static void test_past_65535(void **state)
{
	struct harness *h = *state;
	static uint8_t fp[65536 + 2048];
	uint8_t b[256], proto;
	struct fb6 f = { PEER, LOCAL, 6, IP6_NH_UDP, 8 };
	struct ip6_ext_info x;
	struct skiff_pkt *p;
	size_t n;

	/* 8 per-fragment bytes + 65520 + 16 = 65544 > 65535 */
	n = build6(b, &f, fp, 65520, 16, false, true);
	p = frame(h, b, n, (uint16_t)h->ifindex);
	assert_int_equal(walk(h, p, &x), -EBADMSG);
	assert_int_equal(x.drop, SKIFF_DROP_IP6_FRAG_TOO_BIG);
	assert_true(x.icmp);
	assert_int_equal(x.icmp_code, ICMP6_PP_HEADER);
	assert_int_equal(x.icmp_ptr, IP6_HDR_LEN + 8 + 2);

	walk_unchecked(h, &f, fp, 65520, 16, false, &x);
	p = frame(h, b, n, (uint16_t)h->ifindex);
	assert_null(skiff_ip6_reasm(h->st, p, &x, &proto, h->now));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP6_FRAG_TOO_BIG), 2);
	expect_param_problem(h, b, n, IP6_HDR_LEN + 8 + 2);
	assert_empty(h);

	/* exactly 65535: a UDP datagram of 65535 bytes in 1952-byte pieces */
	{
		size_t fplen = make_fp(fp, PEER, LOCAL, 0, 65535 - 8, 21), wlen;
		static uint8_t want[65536 + 64], bb[2100];
		struct fb6 g = { PEER, LOCAL, 7, IP6_NH_UDP, 0 };
		unsigned np = (unsigned)((fplen + 1951) / 1952), order[64];
		struct skiff_pkt *d = NULL;
		assert_int_equal(fplen, 65535);
		for (unsigned i = 0; i < np; i++)
			order[i] = i;
		lcg = 5;
		shuffle(order, np);
		for (unsigned i = 0; i < np; i++) {
			n = piece_of(bb, &g, fp, fplen, 1952, order[i]);
			d = feed(h, bb, n, &proto);
			if (i < np - 1)
				assert_null(d);
		}
		wlen = build6(want, &g, fp, 0, fplen, false, false);
		expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
		skiff_pkt_free(d);

		/* the same fragments, the first with 8 bytes of Hop-by-Hop: each
		 * fragment fits, the datagram would be 65543 bytes: dropped whole,
		 * silently (as Linux's ip6_frag_reasm) */
		g.id = 8;
		for (unsigned i = 0; i < np; i++) {
			struct fb6 gi = g;
			gi.unfrag = order[i] == 0 ? 8 : 0;
			n = piece_of(bb, &gi, fp, fplen, 1952, order[i]);
			feed_none(h, bb, n);
		}
		assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_BIG), np);
		assert_int_equal(h_tx_count(h), 0);
		assert_empty(h);
	}
}

/* ---- timeout ---- */

static void test_timeout_without_first(void **state)
{
	struct harness *h = *state;
	const uint64_t to = h->st->cfg.reasm_timeout_ns;
	feed_none(h, v6f_1, sizeof(v6f_1));
	feed_none(h, v6f_3, sizeof(v6f_3));
	feed_none(h, v6f_4, sizeof(v6f_4));
	h_advance(h, to - 1);
	assert_held(h, 1, 3);
	h_advance(h, 1);
	assert_empty(h);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 3);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_timeout_with_first(void **state)
{
	struct harness *h = *state;
	const uint64_t to = h->st->cfg.reasm_timeout_ns;
	feed_none(h, v6f_2, sizeof(v6f_2));
	h_advance(h, to / 2);
	feed_none(h, v6f_0, sizeof(v6f_0)); /* the timer runs from the first arrival */
	h_advance(h, to / 2 - 1);
	assert_held(h, 1, 2);
	h_advance(h, 1);
	assert_empty(h);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 2);
	expect_time_exceeded(h, v6f_0, sizeof(v6f_0));
}

/* ---- keys ---- */

/* RFC 8200 4.5 keys on source, destination and identification; a link-local
 * (or multicast) destination only names a zone, so the receiving interface
 * counts too (RFC 4007; Linux fq_find). */
static void test_link_local_keyed_by_interface(void **state)
{
	struct harness *h = *state;
	static uint8_t fp[512], b[600], want[600];
	struct fb6 ll = { LL_PEER, LL_LOCAL, 0x1234, IP6_NH_UDP, 0 }, gl = { PEER, LOCAL, 0x1234, IP6_NH_UDP, 0 };
	size_t fplen = make_fp(fp, LL_PEER, LL_LOCAL, 0, 248, 31), n, wlen;
	struct skiff_pkt *d;
	uint8_t proto;

	n = piece_of(b, &ll, fp, fplen, 128, 0);
	assert_null(feed_if(h, b, n, 0, &proto));
	n = piece_of(b, &ll, fp, fplen, 128, 1);
	assert_null(feed_if(h, b, n, 1, &proto));
	assert_held(h, 2, 2);
	d = feed_if(h, b, n, 0, &proto);
	wlen = build6(want, &ll, fp, 0, fplen, false, false);
	expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
	skiff_pkt_free(d);
	assert_held(h, 1, 1);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	h_tx_flush(h);
	assert_empty(h);

	/* global addresses: the interface is not part of the key */
	fplen = make_fp(fp, PEER, LOCAL, 0, 248, 32);
	n = piece_of(b, &gl, fp, fplen, 128, 1);
	assert_null(feed_if(h, b, n, 1, &proto));
	n = piece_of(b, &gl, fp, fplen, 128, 0);
	d = feed_if(h, b, n, 0, &proto);
	wlen = build6(want, &gl, fp, 0, fplen, false, false);
	expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
	skiff_pkt_free(d);

	/* the same id from another source, or to another destination, is another datagram */
	{
		static const uint8_t OTHER[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03 };
		struct fb6 o1 = { OTHER, LOCAL, 0x1234, IP6_NH_UDP, 0 }, o2 = { PEER, OTHER, 0x1234, IP6_NH_UDP, 0 };
		n = piece_of(b, &gl, fp, fplen, 128, 0);
		feed_none(h, b, n);
		n = piece_of(b, &o1, fp, fplen, 128, 1);
		feed_none(h, b, n);
		n = piece_of(b, &o2, fp, fplen, 128, 1);
		feed_none(h, b, n);
		assert_held(h, 3, 3);
		h_advance(h, h->st->cfg.reasm_timeout_ns);
		h_tx_flush(h);
	}
}

/* ---- IPv4 and IPv6 in one table ---- */

static int setup_slots2(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_slots = 2;
	return setup_cfg(state, &c);
}

static int setup_mem3(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_mem = 3 * FRAME_CAP;
	return setup_cfg(state, &c);
}

/* Two slots: an IPv4 and an IPv6 datagram fill them; a third (IPv6) evicts the
 * oldest, the IPv4 one; IPv4 reassembly still works beside IPv6. */
static void test_share_slots(void **state)
{
	struct harness *h = *state;
	uint8_t b[300], fp[300];
	struct fb6 f = { PEER, LOCAL, 0x55, IP6_NH_UDP, 0 };
	size_t fplen = make_fp(fp, PEER, LOCAL, 0, 200, 41), n;

	h_inject(h, frame_udp_frag_0, sizeof(frame_udp_frag_0));
	assert_held(h, 1, 1);
	h_advance(h, 1000);
	feed_none(h, v6f_1, sizeof(v6f_1));
	assert_held(h, 2, 2);
	h_advance(h, 1000);
	n = piece_of(b, &f, fp, fplen, 64, 1);
	feed_none(h, b, n);
	assert_held(h, 2, 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TABLE_FULL), 1);
	/* the IPv4 datagram is gone: its other fragments start over and time out */
	h_inject(h, frame_udp_frag_1, sizeof(frame_udp_frag_1));
	h_inject(h, frame_udp_frag_2, sizeof(frame_udp_frag_2));
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TABLE_FULL), 2); /* and then the older IPv6 one */
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	h_tx_flush(h);
	assert_empty(h);

	/* IPv4 completes while an IPv6 datagram is held */
	feed_none(h, v6f_1, sizeof(v6f_1));
	h_inject(h, frame_udp_frag_0, sizeof(frame_udp_frag_0));
	h_inject(h, frame_udp_frag_2, sizeof(frame_udp_frag_2));
	h_inject(h, frame_udp_frag_1, sizeof(frame_udp_frag_1));
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 1);
	assert_held(h, 1, 1);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	h_tx_flush(h);
}

/* Three frames of memory for both families: an IPv6 fragment that does not fit
 * evicts the oldest datagram, which is IPv4's; and the other way round. */
static void test_share_memory(void **state)
{
	struct harness *h = *state;
	h_inject(h, frame_udp_frag_0, sizeof(frame_udp_frag_0));
	h_inject(h, frame_udp_frag_1, sizeof(frame_udp_frag_1));
	h_advance(h, 1000);
	feed_none(h, v6f_0, sizeof(v6f_0));
	assert_held(h, 2, 3);
	feed_none(h, v6f_1, sizeof(v6f_1));
	assert_held(h, 1, 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_MEM), 2);
	feed_none(h, v6f_2, sizeof(v6f_2));
	assert_held(h, 1, 3);
	/* now IPv4 needs room: the IPv6 datagram is the oldest */
	h_inject(h, frame_udp_frag_2, sizeof(frame_udp_frag_2));
	assert_held(h, 1, 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_MEM), 5);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	h_tx_flush(h);
}

/* ---- flood ---- */

static int setup_flood(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_mem = 40 * FRAME_CAP;
	c.reasm_slots = 16;
	c.reasm_timeout_ns = 5000000ull; /* 5 ms: the flood sees timeouts too */
	return setup_cfg(state, &c);
}

/* 100k random fragments (random sources, ids, offsets, lengths, M flags, some
 * refused by the walk): after each one reassembly holds at most reasm_mem bytes
 * and reasm_slots datagrams; every 1000, a legit datagram in three fragments
 * still comes through byte-exact. At the end the timeout empties the table and
 * every frame returns to the pool (teardown). */
static void test_flood_bounded(void **state)
{
	struct harness *h = *state;
	static uint8_t fp[70000], b[2100], want[4200];
	static const uint8_t srcs[4][16] = {
		{ 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 },
		{ 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03 },
		{ 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x04 },
		{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 },
	};
	unsigned maxd = 0, maxb = 0, legit = 0, refused = 0;
	uint8_t proto;

	lcg = 2026;
	for (unsigned i = 0; i < sizeof(fp); i++)
		fp[i] = (uint8_t)rnd();
	for (unsigned i = 1; i <= 100000; i++) {
		/* phases of 1000: 0 many datagrams, offsets anywhere (the table
		 * fills, overlaps); 1 few datagrams, offsets on a 1 KiB grid (they
		 * grow: the memory fills); 2 the same arriving slowly (timeouts) */
		unsigned phase = (i / 1000) % 3;
		struct fb6 f = { srcs[rnd() % 4], LOCAL, rnd() % (phase ? 2 : 64), (uint8_t)(rnd() % 3 ? IP6_NH_UDP : rnd()),
				 0 };
		size_t off = phase ? 1024 * (rnd() % 64) : 8 * (rnd() % 320), len = 8 + rnd() % 1400, n;
		bool more = rnd() % 4 != 0;
		struct skiff_pkt *p, *d;
		struct ip6_ext_info x;
		unsigned dg, by;

		if (phase)
			len = 8 + rnd() % 1016;
		if (rnd() % 8 == 0)
			off = 0;
		if (rnd() % 3)
			len &= ~(size_t)7;
		if (rnd() % 5 == 0)
			f.unfrag = 8 * (1 + rnd() % 4);
		n = build6(b, &f, fp, off, len, more, true);
		p = frame(h, b, n, (uint16_t)h->ifindex);
		if (walk(h, p, &x) == 0) {
			d = skiff_ip6_reasm(h->st, p, &x, &proto, h->now);
			skiff_pkt_free(d); /* a random datagram may complete */
		} else {
			refused++;
		}
		usage(h, &dg, &by);
		assert_true(by <= h->st->cfg.reasm_mem);
		assert_true(dg <= h->st->cfg.reasm_slots);
		maxd = dg > maxd ? dg : maxd;
		maxb = by > maxb ? by : maxb;
		if (i % (phase == 2 ? 2 : 100) == 0)
			h_advance(h, 1000000); /* 1 ms */
		if (i % 1000 == 0) {
			struct fb6 g = { PEER, LOCAL, 0x10000000u + i, IP6_NH_UDP, 0 };
			uint8_t dgm[3000];
			size_t fplen = make_fp(dgm, PEER, LOCAL, 0, 2500, (uint8_t)i), wlen;
			d = NULL;
			for (unsigned k = 0; k < 3; k++) {
				n = piece_of(b, &g, dgm, fplen, 1000, (k + i / 1000) % 3);
				d = feed(h, b, n, &proto);
			}
			wlen = build6(want, &g, dgm, 0, fplen, false, false);
			expect_dgram(d, proto, want, wlen, IP6_HDR_LEN);
			skiff_pkt_free(d);
			legit++;
		}
		h_tx_flush(h);
	}
	print_message("flood: max %u datagrams, %u bytes (limit %u); %u refused by the walk; drops: mem %lu "
		      "overlap %lu timeout %lu table %lu dup %lu\n",
		      maxd, maxb, h->st->cfg.reasm_mem, refused, (unsigned long)h_drops(h, SKIFF_DROP_REASM_MEM),
		      (unsigned long)h_drops(h, SKIFF_DROP_REASM_OVERLAP), (unsigned long)h_drops(h, SKIFF_DROP_REASM_TIMEOUT),
		      (unsigned long)h_drops(h, SKIFF_DROP_REASM_TABLE_FULL), (unsigned long)h_drops(h, SKIFF_DROP_REASM_DUP));
	assert_int_equal(legit, 100);
	assert_true(refused > 1000);                  /* the walk's refusals were exercised */
	assert_int_equal(maxd, h->st->cfg.reasm_slots); /* the table did fill */
	assert_true(maxb > h->st->cfg.reasm_mem - 2 * FRAME_CAP); /* and the memory */
	assert_true(h_drops(h, SKIFF_DROP_REASM_MEM) > 0);
	assert_true(h_drops(h, SKIFF_DROP_REASM_OVERLAP) > 0);
	assert_true(h_drops(h, SKIFF_DROP_REASM_TIMEOUT) > 0);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	h_tx_flush(h);
	assert_empty(h);
	/* Time Exceeded errors to the sources nobody answers ND for wait in the
	 * neighbour cache until resolution fails (RFC 4861 7.2.2) */
	for (unsigned k = 0; k < 10; k++) {
		h_advance(h, 1000000000ull);
		h_tx_flush(h);
	}
	assert_int_equal(skiff_neigh_held(h->st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scapy_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_built_shuffled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_fragment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_through_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_anywhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tiny_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_multiple_of_8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_past_65535, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_without_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_with_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_link_local_keyed_by_interface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_share_slots, setup_slots2, teardown),
		cmocka_unit_test_setup_teardown(test_share_memory, setup_mem3, teardown),
		cmocka_unit_test_setup_teardown(test_flood_bounded, setup_flood, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
