/* test_ip4.c — Ethernet and IPv4 input (every drop, in RFC 1812 5.2.2 order),
 * padding and options, protocol unreachable (byte-exact against scapy), output
 * fragmentation, no route / no buffer / transmit queue full; and a sweep that
 * reaches every reason in dataplane/drop.h from a fresh stack, so a reason added
 * to drop.h without a test fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define SEC 1000000000ull
#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO[6] = { 0 };

static struct harness H;

/* ---- helpers ---- */

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

/* The peer's MAC confirmed (REACHABLE), so output goes straight to the wire. */
static void peer_reachable(struct harness *h)
{
	h_learn_peer(h);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
}

static void fix_ip_csum(uint8_t *frame)
{
	uint8_t *ip = frame + ETH_HDR_LEN;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	st16(ip + 10, 0);
	st16(ip + 10, csum_buf(ip, ihl));
}

static struct skiff_udp_sock *sock_bound(struct harness *h, uint32_t addr, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr a = skiff_addr_v4(addr);
	assert_non_null(sk);
	assert_int_equal(skiff_udp_bind(h->st, sk, &a, port), 0);
	return sk;
}

/* IPv4 fragment from the peer: data is the fragment's payload. */
static size_t frag_frame(uint8_t *buf, uint8_t proto, uint16_t id, uint32_t off, bool mf, const void *data,
			 size_t len)
{
	fb_eth(buf, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	if (len)
		memcpy(buf + 34, data, len);
	return fb_ip4(buf, H_PEER_IP, H_LOCAL_IP, proto, id, (uint16_t)((off / 8) | (mf ? IP4_FLAG_MF : 0)), len);
}

static int setup_cfg(void **state, const struct skiff_stack_config *c)
{
	assert_int_equal(h_init(&H, c), 0);
	peer_reachable(&H);
	*state = &H;
	return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int setup_txq2(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.txq = 2;
	return setup_cfg(state, &c);
}

/* Every test closes its sockets; with the peer resolved nothing is held, so all
 * frames must be back in the pool. */
static int teardown(void **state)
{
	struct harness *h = *state;
	unsigned d, b;
	h_tx_flush(h);
	skiff_reasm_usage(h->st, &d, &b);
	assert_int_equal(d, 0);
	assert_int_equal(b, 0);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), skiff_mempool_count(h->mp));
	h_fini(h);
	return 0;
}

/* A valid UDP frame from the peer to us, port 5000, payload "data". */
static size_t good_udp(uint8_t *f) { return fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "data", 4); }

/* ---- Ethernet ---- */

static void test_eth_short(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	size_t n = good_udp(f);
	(void)n;
	h_inject(h, f, 13);
	h_inject(h, f, 0);
	st16(f + 12, ETH_TYPE_VLAN); /* a tag announced, cut short */
	h_inject(h, f, 17);
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_SHORT), 3);
	assert_int_equal(total_drops(h), 3);
}

static void test_eth_not_for_us(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t f[128];
	size_t n = good_udp(f);
	static const uint8_t not_ours[][6] = {
		{ 0x02, 0, 0, 0, 0, 0x99 },             /* another unicast */
		{ 0x33, 0x33, 0, 0, 0, 0x99 },          /* IPv6 multicast of a group not joined */
		{ 0x01, 0x00, 0x5e, 0x80, 0x00, 0x01 }, /* outside the IPv4 multicast /25 */
		{ 0x01, 0x80, 0xc2, 0, 0, 0x0e },       /* LLDP */
	};
	for (size_t i = 0; i < 4; i++) {
		memcpy(f, not_ours[i], 6);
		h_inject(h, f, n);
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_NOT_FOR_US), 4);
	assert_int_equal(total_drops(h), 4);
	assert_int_equal(skiff_udp_next_len(sk), 0);
	/* ours, broadcast, and the all-hosts group's MAC with 224.0.0.1 are accepted */
	memcpy(f, h_local_mac, 6);
	h_inject(h, f, n);
	memcpy(f, BCAST, 6);
	h_inject(h, f, n);
	n = fb_udp4(f, H_PEER_IP, 0xe0000001u, 4000, 5000, "data", 4);
	memcpy(f, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, 6);
	h_inject(h, f, n);
	assert_int_equal(sk->rq_count, 3);
	assert_int_equal(total_drops(h), 4);
	skiff_udp_close(h->st, sk);
}

static void test_eth_bad_src(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n = good_udp(f);
	memcpy(f + 6, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
	h_inject(h, f, n);
	memcpy(f + 6, BCAST, 6);
	h_inject(h, f, n);
	memcpy(f + 6, (const uint8_t[]){ 0x03, 0, 0, 0, 0, 2 }, 6); /* group bit set */
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_BAD_SRC), 3);
	assert_int_equal(total_drops(h), 3);
}

static void test_eth_unknown_type(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n = good_udp(f);
	st16(f + 12, 0x88b5); /* IEEE 802 local experimental */
	h_inject(h, f, n);
	st16(f + 12, 0x88cc);
	h_inject(h, f, n);
	st16(f + 12, 0x0060); /* an 802.3 length field */
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_UNKNOWN_TYPE), 3);
	assert_int_equal(total_drops(h), 3);
}

static void test_eth_vlan(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *s1 = sock_bound(h, 0, 5001), *s0 = sock_bound(h, 0, 5000);
	struct skiff_iface *ifc = skiff_stack_iface(h->st, h->ifindex);
	uint8_t f[128], buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_pkt *p;

	/* a tagged frame on an untagged interface */
	h_inject(h, frame_udp_vlan, sizeof(frame_udp_vlan));
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_VLAN_MISMATCH), 1);
	/* a priority tag (VID 0) is untagged as far as the VLAN goes */
	memcpy(f, frame_udp_vlan, sizeof(frame_udp_vlan));
	st16(f + 14, 5 << 13);
	h_inject(h, f, sizeof(frame_udp_vlan));
	assert_int_equal(skiff_udp_recv(h->st, s1, &iov, 1, 0, NULL, NULL, NULL), 6);
	assert_memory_equal(buf, "tagged", 6);

	/* interface on VLAN 100 */
	ifc->vlan_id = 100;
	h_inject(h, frame_udp_vlan, sizeof(frame_udp_vlan));
	assert_int_equal(skiff_udp_recv(h->st, s1, &iov, 1, 0, NULL, NULL, NULL), 6);
	h_inject(h, frame_udp_basic, sizeof(frame_udp_basic)); /* untagged */
	st16(f + 14, (5 << 13) | 101);                          /* another VLAN */
	h_inject(h, f, sizeof(frame_udp_vlan));
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_VLAN_MISMATCH), 3);
	assert_int_equal(skiff_udp_next_len(s0), 0);
	assert_int_equal(total_drops(h), 3);
	/* and output is tagged */
	{
		struct skiff_addr d = skiff_addr_v4(H_PEER_IP);
		assert_int_equal(skiff_udp_send(h->st, s1, &(struct iovec){ "re", 2 }, 1, &d, 4001, 0, h->now), 2);
	}
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, 18 + 20 + 8 + 2);
	assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_VLAN);
	assert_int_equal(ld16(skiff_pkt_data(p) + 14), 100);
	assert_int_equal(ld16(skiff_pkt_data(p) + 16), ETH_TYPE_IP4);
	assert_int_equal(skiff_pkt_data(p)[18], 0x45);
	skiff_pkt_free(p);
	ifc->vlan_id = 0;
	skiff_udp_close(h->st, s0);
	skiff_udp_close(h->st, s1);
}

static void test_eth_no_iface(void **state)
{
	struct harness *h = *state;
	struct skiff_pkt *p[3];
	unsigned before = skiff_mempool_avail(h->mp);
	assert_int_equal(skiff_pool_alloc(skiff_mempool_pool(h->mp), p, 3), 3);
	for (int i = 0; i < 3; i++)
		memcpy(skiff_pkt_put(p[i], sizeof(frame_udp_basic)), frame_udp_basic, sizeof(frame_udp_basic));
	skiff_stack_input(h->st, 5, p, 2, h->now);      /* never added */
	skiff_stack_input(h->st, -1, p + 2, 1, h->now); /* nonsense */
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_NO_IFACE), 3);
	assert_int_equal(skiff_mempool_avail(h->mp), before); /* the frames were freed */
	/* a down interface counts the same */
	skiff_stack_iface(h->st, h->ifindex)->up = false;
	h_inject(h, frame_udp_basic, sizeof(frame_udp_basic));
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_NO_IFACE), 4);
	skiff_stack_iface(h->st, h->ifindex)->up = true;
	assert_int_equal(total_drops(h), 4);
}

/* ---- IPv4 header checks, in order ---- */

static void test_ip4_short(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	good_udp(f);
	h_inject(h, f, ETH_HDR_LEN + 19);
	h_inject(h, f, ETH_HDR_LEN);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_SHORT), 2);
	assert_int_equal(total_drops(h), 2);
}

static void test_ip4_bad_version(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n = good_udp(f);
	f[14] = 0x65; /* IPv6 in an IPv4 ethertype */
	fix_ip_csum(f);
	h_inject(h, f, n);
	f[14] = 0x05;
	fix_ip_csum(f);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_VERSION), 2);
	assert_int_equal(total_drops(h), 2);
}

static void test_ip4_bad_ihl(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n = good_udp(f);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		f[14] = (uint8_t)(0x40 | ihl);
		h_inject(h, f, n);
	}
	f[14] = 0x4f; /* 60 bytes, frame has 20 + 12 */
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_IHL), 6);
	assert_int_equal(total_drops(h), 6);
}

static void test_ip4_bad_csum(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t f[128];
	size_t n = good_udp(f);
	struct skiff_pkt *p;
	f[14 + 10] ^= 0x01;
	h_inject(h, f, n);
	f[14 + 10] ^= 0x01;
	f[14 + 8] = 63; /* TTL changed, checksum not */
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_CSUM), 2);
	assert_int_equal(total_drops(h), 2);
	assert_int_equal(sk->rq_count, 0);
	/* a driver that verified the checksum in hardware: not checked again */
	p = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(p, (uint32_t)n), f, n);
	p->flags = SKIFF_PKT_RX_IP_CSUM_GOOD;
	skiff_stack_input(h->st, h->ifindex, &p, 1, h->now);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_CSUM), 2);
	assert_int_equal(sk->rq_count, 1);
	skiff_udp_close(h->st, sk);
}

static void test_ip4_bad_totlen(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n = good_udp(f);
	st16(f + 14 + 2, 19); /* < IHL */
	fix_ip_csum(f);
	h_inject(h, f, n);
	st16(f + 14 + 2, (uint16_t)(n - 14 + 1)); /* one past the frame */
	fix_ip_csum(f);
	h_inject(h, f, n);
	st16(f + 14 + 2, 0xffff);
	fix_ip_csum(f);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_TOTLEN), 3);
	assert_int_equal(total_drops(h), 3);
}

static void test_ip4_bad_src(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t f[128], buf[8];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	static const uint32_t bad[] = {
		IP(224, 0, 0, 5),    /* multicast */
		IP(239, 1, 2, 3),    /* multicast */
		IP(255, 255, 255, 255), /* limited broadcast */
		H_BCAST_IP,          /* our subnet's directed broadcast */
		IP(127, 0, 0, 1),    /* loopback */
		IP(127, 9, 9, 9),
		IP(0, 1, 2, 3),      /* 0/8 (this network, not 0.0.0.0) */
		IP(240, 0, 0, 1),    /* class E */
		IP(254, 255, 255, 255),
		H_LOCAL_IP,          /* our own address */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_inject(h, f, fb_udp4(f, bad[i], H_LOCAL_IP, 4000, 5000, "data", 4));
		assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_SRC), i + 1);
	}
	assert_int_equal(total_drops(h), sizeof(bad) / sizeof(bad[0]));
	assert_int_equal(sk->rq_count, 0);
	assert_int_equal(h_tx_count(h), 0); /* and no ICMP for any of them */
	/* 0.0.0.0 is a legal source only towards the limited broadcast (a host that
	 * does not know its address yet, RFC 1122 3.2.1.3 (a); Linux's
	 * ip_route_input_slow likewise) */
	h_inject(h, f, fb_udp4(f, 0, H_LOCAL_IP, 68, 5000, "dhcp", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_SRC), sizeof(bad) / sizeof(bad[0]) + 1);
	h_inject(h, f, fb_udp4(f, 0, 0xffffffffu, 68, 5000, "dhcp", 4));
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, NULL, NULL), 4);
	assert_int_equal(src.v4, 0);
	skiff_udp_close(h->st, sk);
}

static void test_ip4_martian_dst(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	static const uint32_t bad[] = { IP(127, 0, 0, 1), IP(0, 0, 0, 0), IP(0, 1, 2, 3), IP(240, 0, 0, 1),
					IP(254, 1, 1, 1) };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		h_inject(h, f, fb_udp4(f, H_PEER_IP, bad[i], 4000, 5000, "data", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_MARTIAN_DST), 5);
	assert_int_equal(total_drops(h), 5);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_ip4_not_for_us(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t f[128];
	static const uint32_t other[] = { H_OTHER_IP, IP(10, 1, 1, 1), IP(198, 19, 0, 1), IP(224, 0, 0, 251),
					  IP(198, 18, 1, 255) };
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		h_inject(h, f, fb_udp4(f, H_PEER_IP, other[i], 4000, 5000, "data", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_NOT_FOR_US), 5);
	assert_int_equal(total_drops(h), 5);
	assert_int_equal(h_tx_count(h), 0); /* a host does not forward nor complain */
	/* accepted: ours, directed and limited broadcast, all-hosts */
	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "data", 4));
	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_BCAST_IP, 4000, 5000, "data", 4));
	h_inject(h, f, fb_udp4(f, H_PEER_IP, 0xffffffffu, 4000, 5000, "data", 4));
	h_inject(h, f, fb_udp4(f, H_PEER_IP, 0xe0000001u, 4000, 5000, "data", 4));
	assert_int_equal(sk->rq_count, 4);
	assert_int_equal(total_drops(h), 5);
	skiff_udp_close(h->st, sk);
}

static void test_ip4_unknown_proto(void **state)
{
	struct harness *h = *state;
	uint16_t id = skiff_ip4_id_peek(h->st, H_PEER_IP, IPPROTO_ICMP_);
	struct skiff_pkt *p;
	const uint8_t *d, *ip;
	uint8_t f[128];
	size_t n;

	h_inject(h, frame_ip_unknown_proto, sizeof(frame_ip_unknown_proto));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_UNKNOWN_PROTO), 1);
	assert_int_equal(total_drops(h), 1);
	/* protocol unreachable (RFC 1122 3.2.2.1) to the sender */
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_null(h_tx_pop(h));
	d = skiff_pkt_data(p);
	ip = d + 14;
	assert_int_equal(p->len, 14 + 20 + sizeof(frame_icmp_proto_unreach_l4));
	assert_memory_equal(d, h_peer_mac, 6);
	assert_memory_equal(d + 6, h_local_mac, 6);
	assert_int_equal(ld16(d + 12), ETH_TYPE_IP4);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], 0xc0); /* RFC 1812 4.3.2.5 */
	assert_int_equal(ld16(ip + 2), 20 + sizeof(frame_icmp_proto_unreach_l4));
	assert_int_equal(ld16(ip + 4), id);
	assert_int_equal(ld16(ip + 6), 0);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_int_equal(ld32(ip + 12), H_LOCAL_IP);
	assert_int_equal(ld32(ip + 16), H_PEER_IP);
	assert_int_equal(csum_buf(ip, 20), 0);
	/* type 3 code 2, checksum and the quote exactly as scapy makes them */
	assert_memory_equal(ip + 20, frame_icmp_proto_unreach_l4, sizeof(frame_icmp_proto_unreach_l4));
	assert_int_equal(ip[20], 3);
	assert_int_equal(ip[21], 2);
	skiff_pkt_free(p);
	assert_int_equal(h->st->ctr.icmp_out, 1);

	/* TCP is demultiplexed to TCP (here: 20 bytes that are no valid segment) */
	n = frag_frame(f, IPPROTO_TCP_, 7, 0, false, "twenty bytes of tcp.", 20);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_UNKNOWN_PROTO), 1);
	assert_int_equal(h->st->ctr.tcp_in, 1);
	assert_null(h_tx_pop(h));

	/* to a broadcast: dropped the same, but no ICMP */
	memcpy(f, frame_ip_unknown_proto, sizeof(frame_ip_unknown_proto));
	st32(f + 14 + 16, H_BCAST_IP);
	fix_ip_csum(f);
	h_inject(h, f, sizeof(frame_ip_unknown_proto));
	memcpy(f, BCAST, 6);
	st32(f + 14 + 16, 0xffffffffu);
	fix_ip_csum(f);
	h_inject(h, f, sizeof(frame_ip_unknown_proto));
	/* to our unicast address but in a link-layer broadcast: no ICMP either */
	memcpy(f, frame_ip_unknown_proto, sizeof(frame_ip_unknown_proto));
	memcpy(f, BCAST, 6);
	h_inject(h, f, sizeof(frame_ip_unknown_proto));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_UNKNOWN_PROTO), 4);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(total_drops(h), 5); /* + the TCP segment's own drop */
}

/* ---- accepted input variations ---- */

static void test_padding_trimmed(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t f[60], buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	size_t n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "ab", 2), dlen = 0;
	assert_int_equal(n, 44);
	memset(f + n, 0xee, sizeof(f) - n); /* the NIC's padding is junk */
	h_inject(h, f, sizeof(f));
	assert_int_equal(skiff_udp_next_len(sk), 2);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, &dlen), 2);
	assert_int_equal(dlen, 2);
	assert_memory_equal(buf, "ab", 2);
	/* an empty datagram padded out */
	n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, NULL, 0);
	memset(f + n, 0x55, sizeof(f) - n);
	h_inject(h, f, sizeof(f));
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, &dlen), 0);
	assert_int_equal(dlen, 0);
	assert_int_equal(total_drops(h), 0);
	skiff_udp_close(h->st, sk);
}

static void test_ip_options_accepted(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	uint8_t buf[64], f[128];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	uint16_t sport;
	assert_int_equal(frame_udp_ip_opts[14], 0x46);
	h_inject(h, frame_udp_ip_opts, sizeof(frame_udp_ip_opts));
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, &sport, NULL), 7);
	assert_memory_equal(buf, "options", 7);
	assert_int_equal(src.v4, H_PEER_IP);
	assert_int_equal(sport, 4000);
	/* IHL 15: 40 bytes of NOPs then EOL (an unknown option would be skipped the same) */
	{
		uint8_t *ip = f + 14;
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(ip, frame_udp_ip_opts + 14, 20);
		ip[0] = 0x4f;
		memset(ip + 20, 0x01, 39);
		ip[59] = 0x00;
		memcpy(ip + 60, frame_udp_ip_opts + 38, 15); /* UDP header + "options" */
		st16(ip + 2, 60 + 15);
		fix_ip_csum(f);
		h_inject(h, f, 14 + 60 + 15);
	}
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, &sport, NULL), 7);
	assert_memory_equal(buf, "options", 7);
	assert_int_equal(sport, 4000);
	assert_int_equal(total_drops(h), 0);
	skiff_udp_close(h->st, sk);
}

/* ---- output ---- */

static void test_fragmentation_out(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 4444);
	struct skiff_addr dst = skiff_addr_v4(H_PEER_IP);
	static uint8_t msg[4000], dgram[4008];
	struct iovec iov = { msg, sizeof(msg) };
	static const uint16_t want_tot[3] = { 1500, 1500, 1068 };
	static const uint16_t want_frag[3] = { IP4_FLAG_MF | 0, IP4_FLAG_MF | 185, 370 };
	uint16_t id = skiff_ip4_id_peek(h->st, H_PEER_IP, IPPROTO_UDP_);
	size_t off = 0;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 9999, 0, h->now), 4000);
	assert_int_equal(h_tx_count(h), 3);
	for (int i = 0; i < 3; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		const uint8_t *d = skiff_pkt_data(p), *ip = d + 14;
		assert_int_equal(p->len, 14u + want_tot[i]);
		assert_memory_equal(d, h_peer_mac, 6);
		assert_int_equal(ip[0], 0x45);
		assert_int_equal(ld16(ip + 2), want_tot[i]);
		assert_int_equal(ld16(ip + 4), id); /* one identification for all pieces */
		assert_int_equal(ld16(ip + 6), want_frag[i]);
		assert_int_equal((ld16(ip + 6) & IP4_OFF_MASK) * 8, off);
		assert_int_equal(ip[9], IPPROTO_UDP_);
		assert_int_equal(ld32(ip + 12), H_LOCAL_IP);
		assert_int_equal(ld32(ip + 16), H_PEER_IP);
		assert_int_equal(csum_buf(ip, 20), 0);
		memcpy(dgram + off, ip + 20, want_tot[i] - 20u);
		off += want_tot[i] - 20u;
		skiff_pkt_free(p);
	}
	assert_int_equal(off, sizeof(dgram));
	assert_int_equal(ld16(dgram), 4444);
	assert_int_equal(ld16(dgram + 2), 9999);
	assert_int_equal(ld16(dgram + 4), 4008);
	assert_int_equal(csum_fold(csum_partial(dgram, sizeof(dgram), csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 4008))),
			 0);
	assert_memory_equal(dgram + 8, msg, sizeof(msg));
	assert_int_equal(h->st->ctr.ip4_frag_out, 1);
	/* 1472 bytes is the largest that is not fragmented */
	iov.iov_len = 1472;
	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 9999, 0, h->now), 1472);
	assert_int_equal(h_tx_count(h), 1);
	h_tx_flush(h);
	iov.iov_len = 1473;
	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 9999, 0, h->now), 1473);
	assert_int_equal(h_tx_count(h), 2);
	h_tx_flush(h);
	/* every datagram gets its own identification (else a receiver mixes up fragments) */
	{
		uint16_t ids[8];
		iov.iov_len = 10;
		for (int i = 0; i < 8; i++) {
			struct skiff_pkt *p;
			assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 9999, 0, h->now), 10);
			p = h_tx_pop(h);
			ids[i] = ld16(skiff_pkt_data(p) + 14 + 4);
			skiff_pkt_free(p);
			for (int j = 0; j < i; j++)
				assert_int_not_equal(ids[i], ids[j]);
		}
	}
	skiff_udp_close(h->st, sk);
}

/* A chain that breaks the piece rules is re-cut; DF refuses to fragment. */
static void test_ip4_output_recut_and_df(void **state)
{
	struct harness *h = *state;
	struct skiff_route_res4 rt;
	struct skiff_ip4_tx tx = { H_LOCAL_IP, H_PEER_IP, 253, 64, 0, false };
	struct skiff_pkt *a, *b;
	static uint8_t data[3000];
	uint8_t out[3000];
	size_t got = 0;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	assert_int_equal(skiff_route_lookup4(h->st, H_PEER_IP, -1, &rt), 0);
	/* pieces of 1001 (not a multiple of 8) and 1999 (over the MTU's 1480) */
	a = skiff_pool_get(skiff_mempool_pool(h->mp));
	b = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(a, 1001), data, 1001);
	memcpy(skiff_pkt_put(b, 1999), data + 1001, 1999);
	a->chain = b;
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, a, h->now), 0);
	assert_int_equal(h_tx_count(h), 3); /* 1480 + 1480 + 40 */
	for (int i = 0; i < 3; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		const uint8_t *ip = skiff_pkt_data(p) + 14;
		size_t n = ld16(ip + 2) - 20u;
		assert_int_equal(n, i < 2 ? 1480 : 40);
		assert_int_equal((ld16(ip + 6) & IP4_OFF_MASK) * 8, got);
		assert_int_equal(!!(ld16(ip + 6) & IP4_FLAG_MF), i < 2);
		memcpy(out + got, ip + 20, n);
		got += n;
		skiff_pkt_free(p);
	}
	assert_memory_equal(out, data, sizeof(data));
	/* pieces within the MTU but the first not a multiple of 8 (1001 + 500): re-cut to 1480 + 21 */
	a = skiff_pool_get(skiff_mempool_pool(h->mp));
	b = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(a, 1001), data, 1001);
	memcpy(skiff_pkt_put(b, 500), data + 1001, 500);
	a->chain = b;
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, a, h->now), 0);
	assert_int_equal(h_tx_count(h), 2);
	got = 0;
	for (int i = 0; i < 2; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		const uint8_t *ip = skiff_pkt_data(p) + 14;
		size_t n = ld16(ip + 2) - 20u;
		assert_int_equal(n, i == 0 ? 1480 : 21);
		assert_int_equal((ld16(ip + 6) & IP4_OFF_MASK) * 8, got);
		memcpy(out + got, ip + 20, n);
		got += n;
		skiff_pkt_free(p);
	}
	assert_memory_equal(out, data, 1501);
	/* DF on something that needs fragments: -EMSGSIZE, chain freed */
	a = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(a, 1481), data, 1481);
	tx.df = true;
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, a, h->now), -EMSGSIZE);
	assert_int_equal(h_tx_count(h), 0);
	/* DF that fits: sent with DF set */
	a = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(a, 1480), data, 1480);
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, a, h->now), 0);
	a = h_tx_pop(h);
	assert_int_equal(ld16(skiff_pkt_data(a) + 14 + 6), IP4_FLAG_DF);
	skiff_pkt_free(a);
	assert_int_equal(total_drops(h), 0);
}

static void test_ip4_no_route(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 0);
	struct skiff_addr far = skiff_addr_v4(IP(10, 1, 2, 3));
	struct skiff_route_res4 rt = { 6, H_PEER_IP, H_LOCAL_IP }; /* interface 6 does not exist */
	struct skiff_ip4_tx tx = { H_LOCAL_IP, H_PEER_IP, IPPROTO_UDP_, 64, 0, false };
	unsigned avail = skiff_mempool_avail(h->mp);
	struct skiff_pkt *p;
	uint8_t f[128];

	/* sockets: no route is an error to the caller, nothing queued or counted */
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &far, 9, 0, h->now), -ENETUNREACH);
	assert_int_equal(skiff_udp_connect(h->st, sk, &far, 9, h->now), -ENETUNREACH);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), avail);
	/* ip4_output with a route to a missing interface: counted drop, chain freed */
	p = skiff_pool_get(skiff_mempool_pool(h->mp));
	memcpy(skiff_pkt_put(p, 8), "8 bytes!", 8);
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, p, h->now), -ENETUNREACH);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_NO_ROUTE), 1);
	assert_int_equal(skiff_mempool_avail(h->mp), avail);
	/* input side: an echo request from an address we have no route back to */
	h_inject(h, f, fb_icmp4(f, IP(198, 19, 0, 9), H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 0x00010001u, "ping", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_NO_ROUTE), 2);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(total_drops(h), 2);
	/* with a default route all of these go */
	assert_int_equal(skiff_route_add4(h->st, 0, 0, H_PEER_IP, h->ifindex, 0), 0);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &far, 9, 0, h->now), 1);
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_memory_equal(skiff_pkt_data(p), h_peer_mac, 6); /* to the gateway's MAC */
	assert_int_equal(ld32(skiff_pkt_data(p) + 14 + 16), IP(10, 1, 2, 3));
	skiff_pkt_free(p);
	skiff_udp_close(h->st, sk);
}

/* A stack whose interface pool is tiny; input frames come from a separate pool. */
static void test_ip4_no_buf(void **state)
{
	struct skiff_mempool *tiny, *in;
	struct skiff_stack_config c;
	struct skiff_stack *st;
	struct skiff_udp_sock *sk;
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), any = skiff_addr_v4(0);
	struct skiff_pkt *p;
	uint64_t now = SEC;
	uint8_t f[128];
	int ifx, err;
	(void)state;

	assert_int_equal(skiff_mempool_create(1, 2048 + SKIFF_HEADROOM, &tiny), 0);
	assert_int_equal(skiff_mempool_create(64, 2048 + SKIFF_HEADROOM, &in), 0);
	skiff_stack_config_defaults(&c);
	assert_int_equal(skiff_stack_create(&c, now, &st), 0);
	ifx = skiff_stack_add_iface(st, "tiny0", h_local_mac, 1500, 0, skiff_mempool_pool(tiny));
	assert_true(ifx >= 0);
	/* the gratuitous ARP takes the only frame and sits in the tx queue */
	assert_int_equal(skiff_stack_add_addr4(st, ifx, H_LOCAL_IP, 24, now), 0);
	assert_int_equal(skiff_mempool_avail(tiny), 0);

#define INJECT(buf, len)                                                          \
	do {                                                                      \
		struct skiff_pkt *q_ = skiff_pool_get(skiff_mempool_pool(in));    \
		memcpy(skiff_pkt_put(q_, (uint32_t)(len)), (buf), (len));         \
		skiff_stack_input(st, ifx, &q_, 1, now);                          \
	} while (0)

	/* an ARP reply cannot be built */
	INJECT(frame_arp_request, sizeof(frame_arp_request));
	assert_int_equal(st->ctr.drop[SKIFF_DROP_IP4_NO_BUF], 1);
	/* a port unreachable cannot be built */
	INJECT(frame_udp_closed_port, sizeof(frame_udp_closed_port));
	assert_int_equal(st->ctr.drop[SKIFF_DROP_IP4_NO_BUF], 2);
	assert_int_equal(st->ctr.drop[SKIFF_DROP_UDP_NO_PORT], 1);
	/* a broadcast copy for a second socket cannot be made: the last socket still gets it */
	{
		struct skiff_udp_sock *b1 = skiff_udp_open(st, SKIFF_AF_INET, &err), *b2 = skiff_udp_open(st, SKIFF_AF_INET, &err);
		b1->reuseaddr = b2->reuseaddr = true;
		assert_int_equal(skiff_udp_bind(st, b1, &any, 5000), 0);
		assert_int_equal(skiff_udp_bind(st, b2, &any, 5000), 0);
		size_t n = fb_udp4(f, H_PEER_IP, H_BCAST_IP, 4000, 5000, "bc", 2);
		memcpy(f, BCAST, 6);
		INJECT(f, n);
		assert_int_equal(st->ctr.drop[SKIFF_DROP_IP4_NO_BUF], 3);
		assert_int_equal(b1->rq_count + b2->rq_count, 1);
		skiff_udp_close(st, b1);
		skiff_udp_close(st, b2);
	}
	/* a socket send reports the shortage as -EAGAIN (retry after tx completes) */
	sk = skiff_udp_open(st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_udp_bind(st, sk, &any, 0), 0);
	assert_int_equal(skiff_udp_send(st, sk, &(struct iovec){ "x", 1 }, 1, &peer, 9, 0, now), -EAGAIN);
	/* the driver sends the gratuitous ARP: the frame comes back, replies work again */
	assert_int_equal(skiff_stack_tx_drain(st, ifx, &p, 1), 1);
	skiff_pkt_free(p);
	INJECT(frame_arp_request, sizeof(frame_arp_request));
	assert_int_equal(skiff_stack_tx_drain(st, ifx, &p, 1), 1);
	assert_memory_equal(skiff_pkt_data(p), frame_arp_reply_expected, sizeof(frame_arp_reply_expected));
	skiff_pkt_free(p);
	assert_int_equal(st->ctr.drop[SKIFF_DROP_IP4_NO_BUF], 3);
#undef INJECT
	skiff_udp_close(st, sk);
	skiff_stack_destroy(st);
	assert_int_equal(skiff_mempool_avail(tiny), 1);
	assert_int_equal(skiff_mempool_avail(in), 64);
	skiff_mempool_destroy(tiny);
	skiff_mempool_destroy(in);
}

/* txq = 2. */
static void test_tx_queue_full(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 0);
	struct skiff_addr dst = skiff_addr_v4(H_PEER_IP);
	struct skiff_pkt *p[2];
	static uint8_t big[2000];
	struct iovec iov = { big, sizeof(big) };

	for (int i = 0; i < 3; i++)
		h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
	assert_int_equal(h_tx_count(h), 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_TX_QUEUE_FULL), 1);
	/* the driver takes both, gives both back: requeue onto a queue that filled meanwhile */
	assert_int_equal(skiff_stack_tx_drain(h->st, h->ifindex, p, 2), 2);
	h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
	assert_int_equal(h_tx_count(h), 1);
	skiff_stack_tx_requeue(h->st, h->ifindex, p, 2);
	assert_int_equal(h_tx_count(h), 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_TX_QUEUE_FULL), 2);
	/* a socket is told to retry instead of losing its datagram */
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &dst, 9, 0, h->now), -EAGAIN);
	h_tx_flush(h);
	/* two fragments fit exactly, three would not */
	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 9, 0, h->now), 2000);
	assert_int_equal(h_tx_count(h), 2);
	h_tx_flush(h);
	assert_int_equal(h_drops(h, SKIFF_DROP_TX_QUEUE_FULL), 2);
	assert_int_equal(total_drops(h), 2);
	skiff_udp_close(h->st, sk);
}

/* ---- every reason in drop.h, from a fresh stack each ---- */

struct trigger {
	void (*cfg)(struct skiff_stack_config *c);
	void (*fn)(struct harness *h);
};

static void inj_udp_to(struct harness *h, uint32_t src, uint32_t dst, uint16_t dport)
{
	uint8_t f[128];
	h_inject(h, f, fb_udp4(f, src, dst, 4000, dport, "data", 4));
}

static void inj_arp(struct harness *h, uint16_t op, const uint8_t *sha, uint32_t spa, uint32_t tpa, size_t cut)
{
	uint8_t f[64];
	size_t n = fb_arp(f, op, sha, spa, ZERO, tpa, BCAST);
	h_inject(h, f, n - cut);
}

static void send_to(struct harness *h, uint32_t dst, int n)
{
	struct skiff_udp_sock *sk = sock_bound(h, 0, 0);
	struct skiff_addr d = skiff_addr_v4(dst);
	for (int i = 0; i < n; i++)
		skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &d, 9, 0, h->now);
	skiff_udp_close(h->st, sk);
}

static void frag(struct harness *h, uint16_t id, uint32_t off, bool mf, size_t len)
{
	static uint8_t data[1480], f[1600];
	h_inject(h, f, frag_frame(f, IPPROTO_UDP_, id, off, mf, data, len));
}

static void tr_eth_short(struct harness *h) { h_inject(h, frame_udp_basic, 10); }
static void tr_eth_not_for_us(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[5] = 0x77;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_eth_bad_src(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[6] = 0x01;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_eth_unknown_type(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st16(f + 12, 0x88b5);
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_eth_vlan_mismatch(struct harness *h) { h_inject(h, frame_udp_vlan, sizeof(frame_udp_vlan)); }
static void tr_eth_no_iface(struct harness *h)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
	skiff_stack_input(h->st, 3, &p, 1, h->now);
}
static void tr_arp_short(struct harness *h) { inj_arp(h, 1, h_peer_mac, H_PEER_IP, H_LOCAL_IP, 1); }
static void tr_arp_unsupported(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_arp_request, sizeof(frame_arp_request));
	f[14 + 5] = 16;
	h_inject(h, f, sizeof(frame_arp_request));
}
static void tr_arp_bad_op(struct harness *h) { inj_arp(h, 9, h_peer_mac, H_PEER_IP, H_LOCAL_IP, 0); }
static void tr_arp_bad_sender(struct harness *h) { inj_arp(h, 1, h_peer_mac, H_LOCAL_IP, H_LOCAL_IP, 0); }
static void tr_arp_not_for_us(struct harness *h) { inj_arp(h, 1, h_peer_mac, H_PEER_IP, H_OTHER_IP, 0); }
static void cf_arp_rate(struct skiff_stack_config *c) { c->arp_reply_rate = 1; }
static void tr_arp_reply_limited(struct harness *h)
{
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
}
static void tr_arp_hold_full(struct harness *h) { send_to(h, H_OTHER_IP, 9); }
static void tr_arp_unresolved(struct harness *h)
{
	send_to(h, H_OTHER_IP, 1);
	for (int i = 0; i < 5; i++)
		h_advance(h, SEC);
}
static void cf_neigh1(struct skiff_stack_config *c) { c->neigh_entries = 1; }
static void tr_arp_table_full(struct harness *h)
{
	send_to(h, H_OTHER_IP, 1); /* the peer's entry (REACHABLE) fills the table */
}
static void tr_ip4_short(struct harness *h) { h_inject(h, frame_udp_basic, 14 + 10); }
static void tr_ip4_bad_version(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[14] = 0x55;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_ip4_bad_ihl(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[14] = 0x43;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_ip4_bad_csum(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[14 + 11] ^= 0xff;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_ip4_bad_totlen(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st16(f + 16, 200);
	fix_ip_csum(f);
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_ip4_bad_src(struct harness *h) { inj_udp_to(h, IP(127, 0, 0, 1), H_LOCAL_IP, 5000); }
static void tr_ip4_martian_dst(struct harness *h) { inj_udp_to(h, H_PEER_IP, IP(240, 0, 0, 1), 5000); }
static void tr_ip4_not_for_us(struct harness *h) { inj_udp_to(h, H_PEER_IP, H_OTHER_IP, 5000); }
static void tr_ip4_unknown_proto(struct harness *h) { h_inject(h, frame_ip_unknown_proto, sizeof(frame_ip_unknown_proto)); }
static void tr_ip4_no_route(struct harness *h)
{
	uint8_t f[128];
	h_inject(h, f, fb_icmp4(f, IP(198, 19, 0, 9), H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 0, "p", 1));
}
static void tr_ip4_no_buf(struct harness *h)
{
	/* swap the interface's output pool for an empty one */
	struct skiff_iface *ifc = skiff_stack_iface(h->st, h->ifindex);
	struct skiff_pool *saved = ifc->pool;
	struct skiff_mempool *mp;
	struct skiff_pkt *only;
	assert_int_equal(skiff_mempool_create(1, 256, &mp), 0);
	only = skiff_pool_get(skiff_mempool_pool(mp));
	ifc->pool = skiff_mempool_pool(mp);
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	ifc->pool = saved;
	skiff_pkt_free(only);
	skiff_mempool_destroy(mp);
}
static void tr_ip4_out_loopback_src(struct harness *h)
{
	/* UDP and TCP refuse a 127/8 source towards a device first (-EINVAL);
	 * ip4_output is the backstop, e.g. for a connection whose route moved */
	struct skiff_route_res4 rt;
	struct skiff_ip4_tx tx = { IP(127, 0, 0, 1), H_PEER_IP, 253, 64, 0, false };
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
	assert_true(skiff_stack_enable_loopback(h->st, NULL, 0) >= 0);
	assert_int_equal(skiff_route_lookup4(h->st, H_PEER_IP, -1, &rt), 0);
	memcpy(skiff_pkt_put(p, 8), "8 bytes!", 8);
	assert_int_equal(skiff_ip4_output(h->st, &rt, &tx, p, h->now), -EINVAL);
	assert_int_equal(h_tx_count(h), 0);
}
static void tr_reasm_bad_frag(struct harness *h) { frag(h, 1, 0, true, 12); }
static void tr_reasm_too_big(struct harness *h) { frag(h, 1, 65528, false, 16); }
static void tr_reasm_overlap(struct harness *h)
{
	frag(h, 1, 0, true, 64);
	frag(h, 1, 32, true, 64);
}
static void tr_reasm_timeout(struct harness *h)
{
	frag(h, 1, 0, true, 64);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
}
static void cf_reasm_mem(struct skiff_stack_config *c) { c->reasm_mem = 4000; }
static void tr_reasm_mem(struct harness *h)
{
	frag(h, 1, 0, true, 64);
	frag(h, 2, 0, true, 64);
}
static void cf_reasm_slots(struct skiff_stack_config *c) { c->reasm_slots = 1; }
static void tr_reasm_table_full(struct harness *h)
{
	frag(h, 1, 0, true, 64);
	frag(h, 2, 0, true, 64);
}
static void tr_reasm_dup(struct harness *h)
{
	frag(h, 1, 0, true, 64);
	frag(h, 1, 0, true, 64);
}
static void cf_reasm_frags(struct skiff_stack_config *c) { c->reasm_max_frags = 2; }
static void tr_reasm_too_many(struct harness *h)
{
	frag(h, 1, 0, true, 8);
	frag(h, 1, 8, true, 8);
	frag(h, 1, 16, true, 8);
}
static void tr_icmp_short(struct harness *h)
{
	uint8_t f[64];
	h_inject(h, f, frag_frame(f, IPPROTO_ICMP_, 1, 0, false, "\x08\0\0\0", 4));
}
static void tr_icmp_bad_csum(struct harness *h)
{
	uint8_t f[128];
	size_t n = fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, 8, 0, 0, "abcd", 4);
	f[n - 1] ^= 1;
	h_inject(h, f, n);
}
static void tr_icmp_unhandled(struct harness *h)
{
	uint8_t f[128];
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_TIMESTAMP, 0, 0, "twelve bytes", 12));
}
static void tr_icmp_bcast_echo(struct harness *h)
{
	uint8_t f[128];
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_BCAST_IP, ICMP4_ECHO_REQUEST, 0, 0, "x", 1));
}
static void tr_icmp_err_bad_quote(struct harness *h)
{
	uint8_t f[128];
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, 3, 3, 0, frame_udp_basic + 14, 27));
}
static void tr_icmp_err_no_socket(struct harness *h)
{
	uint8_t f[128], q[28];
	memcpy(q, frame_udp_basic + 14, 28);
	st32(q + 12, H_LOCAL_IP); /* a datagram "we" sent from a port nobody has */
	st32(q + 16, H_PEER_IP);
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, 3, 3, 0, q, sizeof(q)));
}
static void cf_icmp_rate(struct skiff_stack_config *c) { c->icmp_rate = 1; }
static void tr_icmp_out_limited(struct harness *h)
{
	for (int i = 0; i < 51; i++)
		h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
}
static void tr_udp_short(struct harness *h)
{
	uint8_t f[64];
	h_inject(h, f, frag_frame(f, IPPROTO_UDP_, 1, 0, false, "abcd", 4));
}
static void tr_udp_bad_len(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st16(f + 34 + 4, 7);
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_udp_bad_csum(struct harness *h)
{
	uint8_t f[64];
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[sizeof(frame_udp_basic) - 1] ^= 0x20;
	h_inject(h, f, sizeof(frame_udp_basic));
}
static void tr_udp_no_port(struct harness *h) { h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port)); }
static void tr_udp_rcvbuf_full(struct harness *h)
{
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5000);
	skiff_udp_set_rcvbuf(h->st, sk, 0);
	for (int i = 0; i < 4; i++)
		h_inject(h, frame_udp_basic, sizeof(frame_udp_basic));
	skiff_udp_close(h->st, sk);
}
static void tr_udp_zero_port(struct harness *h) { inj_udp_to(h, H_PEER_IP, H_LOCAL_IP, 0); }
static void cf_txq1(struct skiff_stack_config *c) { c->txq = 1; }
static void tr_tx_queue_full(struct harness *h)
{
	h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
	h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
}

static const struct trigger triggers[SKIFF_DROP_MAX] = {
	[SKIFF_DROP_ETH_SHORT] = { NULL, tr_eth_short },
	[SKIFF_DROP_ETH_NOT_FOR_US] = { NULL, tr_eth_not_for_us },
	[SKIFF_DROP_ETH_BAD_SRC] = { NULL, tr_eth_bad_src },
	[SKIFF_DROP_ETH_UNKNOWN_TYPE] = { NULL, tr_eth_unknown_type },
	[SKIFF_DROP_ETH_VLAN_MISMATCH] = { NULL, tr_eth_vlan_mismatch },
	[SKIFF_DROP_ETH_NO_IFACE] = { NULL, tr_eth_no_iface },
	[SKIFF_DROP_ARP_SHORT] = { NULL, tr_arp_short },
	[SKIFF_DROP_ARP_UNSUPPORTED] = { NULL, tr_arp_unsupported },
	[SKIFF_DROP_ARP_BAD_OP] = { NULL, tr_arp_bad_op },
	[SKIFF_DROP_ARP_BAD_SENDER] = { NULL, tr_arp_bad_sender },
	[SKIFF_DROP_ARP_NOT_FOR_US] = { NULL, tr_arp_not_for_us },
	[SKIFF_DROP_ARP_REPLY_LIMITED] = { cf_arp_rate, tr_arp_reply_limited },
	[SKIFF_DROP_ARP_HOLD_FULL] = { NULL, tr_arp_hold_full },
	[SKIFF_DROP_ARP_UNRESOLVED] = { NULL, tr_arp_unresolved },
	[SKIFF_DROP_ARP_TABLE_FULL] = { cf_neigh1, tr_arp_table_full },
	[SKIFF_DROP_IP4_SHORT] = { NULL, tr_ip4_short },
	[SKIFF_DROP_IP4_BAD_VERSION] = { NULL, tr_ip4_bad_version },
	[SKIFF_DROP_IP4_BAD_IHL] = { NULL, tr_ip4_bad_ihl },
	[SKIFF_DROP_IP4_BAD_CSUM] = { NULL, tr_ip4_bad_csum },
	[SKIFF_DROP_IP4_BAD_TOTLEN] = { NULL, tr_ip4_bad_totlen },
	[SKIFF_DROP_IP4_BAD_SRC] = { NULL, tr_ip4_bad_src },
	[SKIFF_DROP_IP4_MARTIAN_DST] = { NULL, tr_ip4_martian_dst },
	[SKIFF_DROP_IP4_NOT_FOR_US] = { NULL, tr_ip4_not_for_us },
	[SKIFF_DROP_IP4_UNKNOWN_PROTO] = { NULL, tr_ip4_unknown_proto },
	[SKIFF_DROP_IP4_NO_ROUTE] = { NULL, tr_ip4_no_route },
	[SKIFF_DROP_IP4_NO_BUF] = { NULL, tr_ip4_no_buf },
	[SKIFF_DROP_IP4_OUT_LOOPBACK_SRC] = { NULL, tr_ip4_out_loopback_src },
	[SKIFF_DROP_REASM_BAD_FRAG] = { NULL, tr_reasm_bad_frag },
	[SKIFF_DROP_REASM_TOO_BIG] = { NULL, tr_reasm_too_big },
	[SKIFF_DROP_REASM_OVERLAP] = { NULL, tr_reasm_overlap },
	[SKIFF_DROP_REASM_TIMEOUT] = { NULL, tr_reasm_timeout },
	[SKIFF_DROP_REASM_MEM] = { cf_reasm_mem, tr_reasm_mem },
	[SKIFF_DROP_REASM_TABLE_FULL] = { cf_reasm_slots, tr_reasm_table_full },
	[SKIFF_DROP_REASM_DUP] = { NULL, tr_reasm_dup },
	[SKIFF_DROP_REASM_TOO_MANY] = { cf_reasm_frags, tr_reasm_too_many },
	[SKIFF_DROP_ICMP_SHORT] = { NULL, tr_icmp_short },
	[SKIFF_DROP_ICMP_BAD_CSUM] = { NULL, tr_icmp_bad_csum },
	[SKIFF_DROP_ICMP_UNHANDLED] = { NULL, tr_icmp_unhandled },
	[SKIFF_DROP_ICMP_BCAST_ECHO] = { NULL, tr_icmp_bcast_echo },
	[SKIFF_DROP_ICMP_ERR_BAD_QUOTE] = { NULL, tr_icmp_err_bad_quote },
	[SKIFF_DROP_ICMP_ERR_NO_SOCKET] = { NULL, tr_icmp_err_no_socket },
	[SKIFF_DROP_ICMP_OUT_LIMITED] = { cf_icmp_rate, tr_icmp_out_limited },
	[SKIFF_DROP_UDP_SHORT] = { NULL, tr_udp_short },
	[SKIFF_DROP_UDP_BAD_LEN] = { NULL, tr_udp_bad_len },
	[SKIFF_DROP_UDP_BAD_CSUM] = { NULL, tr_udp_bad_csum },
	[SKIFF_DROP_UDP_NO_PORT] = { NULL, tr_udp_no_port },
	[SKIFF_DROP_UDP_RCVBUF_FULL] = { NULL, tr_udp_rcvbuf_full },
	[SKIFF_DROP_UDP_ZERO_PORT] = { NULL, tr_udp_zero_port },
	[SKIFF_DROP_TX_QUEUE_FULL] = { cf_txq1, tr_tx_queue_full },
};

static void test_every_drop_reason_reachable(void **state)
{
	unsigned missing = 0;
	(void)state;
	for (int r = 0; r < SKIFF_DROP_MAX; r++) {
		struct skiff_stack_config c;
		struct harness h;
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "TCP_", 4))
			continue; /* TCP's reasons are swept in test_tcp.c */
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "IP6_", 4) ||
		    !strncmp(skiff_drop_name((enum skiff_drop_reason)r), "ICMP6_", 6) ||
		    !strncmp(skiff_drop_name((enum skiff_drop_reason)r), "ND_", 3))
			continue; /* IPv6's are swept in test_ip6_wire.c and test_ip6.c */
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "IGMP_", 5))
			continue; /* IGMP's are swept in test_igmp.c (every_igmp_drop) */
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "MLD_", 4))
			continue; /* MLD's are swept in test_mld.c (every_mld_drop) */
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "RAW_", 4))
			continue; /* raw sockets' are swept in test_raw.c (test_raw_drops) */
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "PACKET_", 7))
			continue; /* packet sockets' in test_packet.c (test_rcvbuf_and_statistics, the ring) */
		if (!triggers[r].fn) {
			print_error("drop reason %s has no trigger in test_ip4.c\n", skiff_drop_name((enum skiff_drop_reason)r));
			missing++;
			continue;
		}
		skiff_stack_config_defaults(&c);
		if (triggers[r].cfg)
			triggers[r].cfg(&c);
		assert_int_equal(h_init(&h, &c), 0);
		peer_reachable(&h);
		triggers[r].fn(&h);
		if (h_drops(&h, (enum skiff_drop_reason)r) == 0) {
			print_error("drop reason %s not reached by its trigger\n", skiff_drop_name((enum skiff_drop_reason)r));
			missing++;
		}
		h_fini(&h);
	}
	assert_int_equal(missing, 0);
	/* names and descriptions exist for all, and out of range is "?" */
	for (int r = 0; r < SKIFF_DROP_MAX; r++) {
		assert_true(strlen(skiff_drop_name((enum skiff_drop_reason)r)) > 0);
		assert_true(strlen(skiff_drop_desc((enum skiff_drop_reason)r)) > 10);
	}
	assert_string_equal(skiff_drop_name(SKIFF_DROP_ETH_SHORT), "ETH_SHORT");
	assert_string_equal(skiff_drop_name(SKIFF_DROP_MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eth_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eth_not_for_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eth_bad_src, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eth_unknown_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eth_vlan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eth_no_iface, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_bad_ihl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_bad_csum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_bad_totlen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_bad_src, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_martian_dst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_not_for_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_unknown_proto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_padding_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip_options_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragmentation_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_output_recut_and_df, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ip4_no_route, setup, teardown),
		cmocka_unit_test(test_ip4_no_buf),
		cmocka_unit_test_setup_teardown(test_tx_queue_full, setup_txq2, teardown),
		cmocka_unit_test(test_every_drop_reason_reachable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
