/* test_wire.c — wire views: parse/emit round trips against scapy-made vectors
 * (tests/data/frames.h) for Ethernet (untagged and 802.1Q), ARP, IPv4 (with and
 * without options, fragments), ICMPv4 and UDP; every short input rejected
 * without moving the view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"
#include "tests/data/frames.h"

static const uint8_t L_MAC[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t P_MAC[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO[6] = { 0 };
#define LOCAL 0xc6120001u
#define PEER 0xc6120002u

static void test_view_pull(void **state)
{
	uint8_t b[4] = { 1, 2, 3, 4 };
	struct view v = view_make(b, sizeof(b));
	(void)state;
	assert_ptr_equal(view_pull(&v, 1), b);
	assert_int_equal(v.len, 3);
	assert_null(view_pull(&v, 4));
	assert_ptr_equal(v.p, b + 1); /* unchanged on failure */
	assert_int_equal(v.len, 3);
	assert_ptr_equal(view_pull(&v, 3), b + 1);
	assert_int_equal(v.len, 0);
	assert_non_null(view_pull(&v, 0));
	assert_int_equal(ld16((const uint8_t[]){ 0xab, 0xcd }), 0xabcd);
	assert_int_equal(ld32((const uint8_t[]){ 0xde, 0xad, 0xbe, 0xef }), 0xdeadbeefu);
	st16(b, 0x1234);
	st32(b, 0x89abcdefu);
	assert_memory_equal(b, ((const uint8_t[]){ 0x89, 0xab, 0xcd, 0xef }), 4);
}

static void test_eth_untagged(void **state)
{
	struct view v = view_make(frame_udp_basic, sizeof(frame_udp_basic));
	struct eth_repr e;
	uint8_t out[ETH_VLAN_HDR_LEN];
	(void)state;
	assert_int_equal(eth_parse(&v, &e), 0);
	assert_memory_equal(e.dst, L_MAC, 6);
	assert_memory_equal(e.src, P_MAC, 6);
	assert_int_equal(e.type, ETH_TYPE_IP4);
	assert_false(e.has_vlan);
	assert_int_equal(e.vlan_tci, 0);
	assert_int_equal(e.hdr_len, ETH_HDR_LEN);
	assert_ptr_equal(v.p, frame_udp_basic + ETH_HDR_LEN);
	assert_int_equal(v.len, sizeof(frame_udp_basic) - ETH_HDR_LEN);
	memset(out, 0xee, sizeof(out));
	eth_emit(out, &e);
	assert_memory_equal(out, frame_udp_basic, ETH_HDR_LEN);
	assert_int_equal(out[ETH_HDR_LEN], 0xee); /* wrote exactly 14 bytes */
	assert_false(eth_is_bcast(e.dst));
	assert_false(eth_is_mcast(e.dst));
	assert_true(eth_is_bcast(BCAST));
	assert_true(eth_is_mcast(BCAST));
	assert_true(eth_is_mcast((const uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }));
	assert_true(eth_is_zero(ZERO));
	assert_false(eth_is_zero(L_MAC));
}

static void test_eth_tagged(void **state)
{
	struct view v = view_make(frame_udp_vlan, sizeof(frame_udp_vlan));
	struct eth_repr e;
	uint8_t out[ETH_VLAN_HDR_LEN + 1];
	(void)state;
	assert_int_equal(eth_parse(&v, &e), 0);
	assert_memory_equal(e.dst, L_MAC, 6);
	assert_memory_equal(e.src, P_MAC, 6);
	assert_true(e.has_vlan);
	assert_int_equal(e.vlan_tci, (5 << 13) | 100);
	assert_int_equal(e.type, ETH_TYPE_IP4);
	assert_int_equal(e.hdr_len, ETH_VLAN_HDR_LEN);
	assert_ptr_equal(v.p, frame_udp_vlan + ETH_VLAN_HDR_LEN);
	assert_int_equal(v.len, sizeof(frame_udp_vlan) - ETH_VLAN_HDR_LEN);
	memset(out, 0xee, sizeof(out));
	eth_emit(out, &e);
	assert_memory_equal(out, frame_udp_vlan, ETH_VLAN_HDR_LEN);
	assert_int_equal(out[ETH_VLAN_HDR_LEN], 0xee);
	/* the IPv4 header behind the tag is the same kind of thing as untagged */
	{
		struct ip4_repr ip;
		assert_int_equal(ip4_parse(v.p, v.len, &ip), 0);
		assert_int_equal(ip.id, 0x1235);
		assert_int_equal(csum_buf(v.p, ip.ihl), 0);
	}
}

static void test_eth_short(void **state)
{
	struct eth_repr e;
	(void)state;
	for (size_t n = 0; n < ETH_HDR_LEN; n++) {
		struct view v = view_make(frame_udp_basic, n);
		assert_int_equal(eth_parse(&v, &e), -EBADMSG);
		assert_ptr_equal(v.p, frame_udp_basic);
		assert_int_equal(v.len, n);
	}
	/* a tag announced but cut short */
	for (size_t n = 0; n < ETH_VLAN_HDR_LEN; n++) {
		struct view v = view_make(frame_udp_vlan, n);
		assert_int_equal(eth_parse(&v, &e), -EBADMSG);
		assert_ptr_equal(v.p, frame_udp_vlan);
		assert_int_equal(v.len, n);
	}
	/* exactly the header is enough */
	{
		struct view v = view_make(frame_udp_vlan, ETH_VLAN_HDR_LEN);
		assert_int_equal(eth_parse(&v, &e), 0);
		assert_int_equal(v.len, 0);
	}
}

static void check_arp_roundtrip(const uint8_t *frame, size_t len, uint16_t op, const uint8_t *sha, uint32_t spa,
				const uint8_t *tha, uint32_t tpa)
{
	struct view v = view_make(frame + ETH_HDR_LEN, len - ETH_HDR_LEN);
	struct arp_repr a;
	uint8_t out[ARP_LEN + 1];

	assert_int_equal(len, ETH_HDR_LEN + ARP_LEN);
	assert_int_equal(ld16(frame + 12), ETH_TYPE_ARP);
	assert_int_equal(arp_parse(&v, &a), 0);
	assert_int_equal(v.len, 0);
	assert_int_equal(a.op, op);
	assert_memory_equal(a.sha, sha, 6);
	assert_int_equal(a.spa, spa);
	assert_memory_equal(a.tha, tha, 6);
	assert_int_equal(a.tpa, tpa);
	memset(out, 0xee, sizeof(out));
	arp_emit(out, &a);
	assert_memory_equal(out, frame + ETH_HDR_LEN, ARP_LEN);
	assert_int_equal(out[ARP_LEN], 0xee);
}

static void test_arp(void **state)
{
	(void)state;
	check_arp_roundtrip(frame_arp_request, sizeof(frame_arp_request), ARP_OP_REQUEST, P_MAC, PEER, ZERO, LOCAL);
	check_arp_roundtrip(frame_arp_reply_expected, sizeof(frame_arp_reply_expected), ARP_OP_REPLY, L_MAC, LOCAL,
			    P_MAC, PEER);
	check_arp_roundtrip(frame_arp_garp_expected, sizeof(frame_arp_garp_expected), ARP_OP_REQUEST, L_MAC,
			    0xc6120009u, ZERO, 0xc6120009u);
}

static void test_arp_bad(void **state)
{
	const uint8_t *a0 = frame_arp_request + ETH_HDR_LEN;
	struct arp_repr a;
	uint8_t b[ARP_LEN];
	(void)state;
	for (size_t n = 0; n < ARP_LEN; n++) {
		struct view v = view_make(a0, n);
		assert_int_equal(arp_parse(&v, &a), -EBADMSG);
		assert_int_equal(v.len, n);
	}
	/* each of htype, ptype, hlen, plen wrong → unsupported */
	static const struct {
		size_t off;
		uint8_t val;
	} bad[] = { { 1, 6 }, { 0, 1 }, { 2, 0x86 }, { 3, 0xdd }, { 4, 8 }, { 5, 16 } };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct view v;
		memcpy(b, a0, ARP_LEN);
		b[bad[i].off] = bad[i].val;
		v = view_make(b, ARP_LEN);
		assert_int_equal(arp_parse(&v, &a), -EPROTONOSUPPORT);
	}
	/* the opcode is not the parser's business */
	memcpy(b, a0, ARP_LEN);
	st16(b + 6, 3);
	{
		struct view v = view_make(b, ARP_LEN);
		assert_int_equal(arp_parse(&v, &a), 0);
		assert_int_equal(a.op, 3);
	}
}

static void check_ip4_roundtrip(const uint8_t *h, size_t len, struct ip4_repr *ip)
{
	uint8_t out[IP4_HDR_LEN + 1];
	assert_int_equal(ip4_parse(h, len, ip), 0);
	assert_int_equal(ip->version, 4);
	assert_int_equal(csum_buf(h, ip->ihl), 0);
	if (ip->ihl == IP4_HDR_LEN) {
		memset(out, 0xee, sizeof(out));
		ip4_emit(out, ip); /* recomputes the checksum: must equal scapy's */
		assert_memory_equal(out, h, IP4_HDR_LEN);
		assert_int_equal(out[IP4_HDR_LEN], 0xee);
	}
}

static void test_ip4(void **state)
{
	struct ip4_repr ip;
	(void)state;
	check_ip4_roundtrip(frame_udp_basic + 14, sizeof(frame_udp_basic) - 14, &ip);
	assert_int_equal(ip.ihl, 20);
	assert_int_equal(ip.tos, 0);
	assert_int_equal(ip.total_len, 20 + 8 + 5);
	assert_int_equal(ip.id, 0x1234);
	assert_int_equal(ip.frag, 0);
	assert_int_equal(ip.ttl, 64);
	assert_int_equal(ip.proto, IPPROTO_UDP_);
	assert_int_equal(ip.csum, ld16(frame_udp_basic + 14 + 10));
	assert_int_equal(ip.src, PEER);
	assert_int_equal(ip.dst, LOCAL);
	assert_false(ip4_is_fragment(&ip));

	/* options: IHL 6 */
	check_ip4_roundtrip(frame_udp_ip_opts + 14, sizeof(frame_udp_ip_opts) - 14, &ip);
	assert_int_equal(ip.ihl, 24);
	assert_int_equal(ip.total_len, 24 + 8 + 7);
	assert_int_equal(ip.id, 0x1236);

	/* fragments: 48 + 48 + 12 bytes */
	check_ip4_roundtrip(frame_udp_frag_0 + 14, sizeof(frame_udp_frag_0) - 14, &ip);
	assert_int_equal(ip.frag, IP4_FLAG_MF);
	assert_int_equal(ip4_frag_off_bytes(&ip), 0);
	assert_true(ip4_is_fragment(&ip));
	assert_int_equal(ip.total_len, 68);
	check_ip4_roundtrip(frame_udp_frag_1 + 14, sizeof(frame_udp_frag_1) - 14, &ip);
	assert_int_equal(ip.frag, IP4_FLAG_MF | 6);
	assert_int_equal(ip4_frag_off_bytes(&ip), 48);
	assert_true(ip4_is_fragment(&ip));
	check_ip4_roundtrip(frame_udp_frag_2 + 14, sizeof(frame_udp_frag_2) - 14, &ip);
	assert_int_equal(ip.frag, 12);
	assert_int_equal(ip4_frag_off_bytes(&ip), 96);
	assert_true(ip4_is_fragment(&ip));
	assert_int_equal(ip.total_len, 32);

	/* ICMP and an unknown protocol */
	check_ip4_roundtrip(frame_icmp_echo_request + 14, sizeof(frame_icmp_echo_request) - 14, &ip);
	assert_int_equal(ip.proto, IPPROTO_ICMP_);
	check_ip4_roundtrip(frame_ip_unknown_proto + 14, sizeof(frame_ip_unknown_proto) - 14, &ip);
	assert_int_equal(ip.proto, 253);

	/* DF alone is not a fragment */
	ip.frag = IP4_FLAG_DF;
	assert_false(ip4_is_fragment(&ip));
}

static void test_ip4_short(void **state)
{
	struct ip4_repr ip;
	(void)state;
	for (size_t n = 0; n < IP4_HDR_LEN; n++)
		assert_int_equal(ip4_parse(frame_udp_basic + 14, n, &ip), -EBADMSG);
	assert_int_equal(ip4_parse(frame_udp_basic + 14, IP4_HDR_LEN, &ip), 0);
}

static void test_icmp4(void **state)
{
	const uint8_t *h = frame_icmp_echo_request + 34;
	size_t l4 = sizeof(frame_icmp_echo_request) - 34;
	struct view v = view_make(h, l4);
	struct icmp4_repr ic;
	uint8_t out[ICMP4_HDR_LEN + 1];
	(void)state;
	assert_int_equal(icmp4_parse(&v, &ic), 0);
	assert_int_equal(ic.type, ICMP4_ECHO_REQUEST);
	assert_int_equal(ic.code, 0);
	assert_int_equal(ic.rest, 0x00770003u);
	assert_int_equal(ic.csum, ld16(h + 2));
	assert_int_equal(v.len, l4 - ICMP4_HDR_LEN);
	assert_memory_equal(v.p, "skiff echo payload 0123456789", 29);
	assert_int_equal(csum_buf(h, l4), 0); /* scapy's checksum verifies with ours */
	memset(out, 0xee, sizeof(out));
	icmp4_emit(out, &ic);
	assert_memory_equal(out, h, ICMP4_HDR_LEN);
	assert_int_equal(out[ICMP4_HDR_LEN], 0xee);

	/* the error vectors: type/code, and our checksum of them equals scapy's */
	v = view_make(frame_icmp_port_unreach_l4, sizeof(frame_icmp_port_unreach_l4));
	assert_int_equal(icmp4_parse(&v, &ic), 0);
	assert_int_equal(ic.type, ICMP4_DEST_UNREACH);
	assert_int_equal(ic.code, ICMP4_PORT_UNREACH);
	assert_int_equal(ic.rest, 0);
	assert_int_equal(csum_buf(frame_icmp_port_unreach_l4, sizeof(frame_icmp_port_unreach_l4)), 0);
	assert_memory_equal(v.p, frame_udp_closed_port + 14, sizeof(frame_udp_closed_port) - 14);

	assert_true(icmp4_is_error(ICMP4_DEST_UNREACH));
	assert_true(icmp4_is_error(ICMP4_SOURCE_QUENCH));
	assert_true(icmp4_is_error(ICMP4_REDIRECT));
	assert_true(icmp4_is_error(ICMP4_TIME_EXCEEDED));
	assert_true(icmp4_is_error(ICMP4_PARAM_PROBLEM));
	assert_false(icmp4_is_error(ICMP4_ECHO_REQUEST));
	assert_false(icmp4_is_error(ICMP4_ECHO_REPLY));
	assert_false(icmp4_is_error(ICMP4_TIMESTAMP));

	for (size_t n = 0; n < ICMP4_HDR_LEN; n++) {
		struct view s = view_make(h, n);
		assert_int_equal(icmp4_parse(&s, &ic), -EBADMSG);
		assert_int_equal(s.len, n);
	}
}

static void test_udp(void **state)
{
	const uint8_t *h = frame_udp_basic + 34;
	size_t l4 = sizeof(frame_udp_basic) - 34;
	struct view v = view_make(h, l4);
	struct udp_repr u;
	uint8_t out[UDP_HDR_LEN + 1], copy[64];
	uint16_t c;
	(void)state;
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(u.sport, 4000);
	assert_int_equal(u.dport, 5000);
	assert_int_equal(u.len, 13);
	assert_int_equal(u.csum, ld16(h + 6));
	assert_int_equal(v.len, 5);
	assert_memory_equal(v.p, "hello", 5);
	memset(out, 0xee, sizeof(out));
	udp_emit(out, &u);
	assert_memory_equal(out, h, UDP_HDR_LEN);
	assert_int_equal(out[UDP_HDR_LEN], 0xee);
	/* verifies over the pseudo-header, and recomputing gives scapy's value */
	assert_int_equal(csum_fold(csum_partial(h, l4, csum_pseudo4(PEER, LOCAL, 17, (uint32_t)l4))), 0);
	memcpy(copy, h, l4);
	st16(copy + 6, 0);
	c = csum_fold(csum_partial(copy, l4, csum_pseudo4(PEER, LOCAL, 17, (uint32_t)l4)));
	assert_int_equal(c, u.csum);

	/* the tagged, options and zero-checksum vectors */
	v = view_make(frame_udp_vlan + 38, sizeof(frame_udp_vlan) - 38);
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(u.sport, 4001);
	assert_int_equal(u.dport, 5001);
	assert_int_equal(csum_fold(csum_partial(frame_udp_vlan + 38, sizeof(frame_udp_vlan) - 38,
						csum_pseudo4(PEER, LOCAL, 17, u.len))), 0);
	v = view_make(frame_udp_ip_opts + 38, sizeof(frame_udp_ip_opts) - 38);
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(u.len, 15);
	assert_int_equal(csum_fold(csum_partial(frame_udp_ip_opts + 38, 15, csum_pseudo4(PEER, LOCAL, 17, 15))), 0);
	v = view_make(frame_udp_zero_csum + 34, sizeof(frame_udp_zero_csum) - 34);
	assert_int_equal(udp_parse(&v, &u), 0);
	assert_int_equal(u.csum, 0);
	assert_int_equal(u.len, 14);

	for (size_t n = 0; n < UDP_HDR_LEN; n++) {
		struct view s = view_make(h, n);
		assert_int_equal(udp_parse(&s, &u), -EBADMSG);
		assert_int_equal(s.len, n);
	}
}

/* The scapy fragments, put back together by hand, are one UDP datagram whose
 * checksum verifies: the vectors are what test_reasm relies on. */
static void test_fragment_vectors(void **state)
{
	uint8_t dgram[108];
	(void)state;
	memcpy(dgram, frame_udp_frag_0 + 34, 48);
	memcpy(dgram + 48, frame_udp_frag_1 + 34, 48);
	memcpy(dgram + 96, frame_udp_frag_2 + 34, 12);
	assert_int_equal(ld16(dgram + 4), 108);
	assert_int_equal(csum_fold(csum_partial(dgram, 108, csum_pseudo4(PEER, LOCAL, 17, 108))), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dgram[8 + i], i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_pull),
		cmocka_unit_test(test_eth_untagged),
		cmocka_unit_test(test_eth_tagged),
		cmocka_unit_test(test_eth_short),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_arp_bad),
		cmocka_unit_test(test_ip4),
		cmocka_unit_test(test_ip4_short),
		cmocka_unit_test(test_icmp4),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_fragment_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
