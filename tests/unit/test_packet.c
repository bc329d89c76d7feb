/* test_packet.c — AF_PACKET sockets in the dataplane (dataplane/packet.c) and the
 * TPACKET_V3 ring writer (dataplane/packet_ring.c), on the one-stack harness:
 * pkttypes and the device filter (PROMISC, ALLMULTI, one group), ethertype
 * binding, SOCK_RAW vs SOCK_DGRAM views, a classic BPF filter and its snap
 * length, receive-buffer drops and PACKET_STATISTICS, the outgoing tap (byte for
 * byte what the driver gets), sending RAW and DGRAM frames (the sender does not
 * see its own), a VLAN tag moved to metadata, the ring's blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dataplane/packet.h"
#include "dataplane/packet_ring.h"
#include "dataplane/udp.h"
#include "dataplane/wire_eth.h"
#include "tests/lib/harness.h"

#define ETH_P_ALL 0x0003 /* <linux/if_ether.h> values */
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int setup(void **state)
{
	static struct harness h;
	static const uint16_t ports[] = { 4999, 5000, 6000, 6001, 6002, 6003, 6004 };
	assert_int_equal(h_init(&h, NULL), 0);
	/* listeners on the ports the test frames use: no port unreachable goes out */
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int err;
		struct skiff_udp_sock *u = skiff_udp_open(h.st, SKIFF_AF_INET, &err);
		struct skiff_addr any = skiff_addr_v4(0);
		assert_non_null(u);
		assert_int_equal(skiff_udp_bind(h.st, u, &any, ports[i]), 0);
		u->rcvbuf = 0; /* frames are dropped at once, never held */
	}
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	h_fini(*state);
	return 0;
}

static struct skiff_packet_sock *open_pk(struct harness *h, int type, uint16_t proto)
{
	int err = 0;
	struct skiff_packet_sock *pk = skiff_packet_open(h->st, type, htons(proto), &err);
	assert_non_null(pk);
	assert_int_equal(skiff_packet_bind(h->st, pk, h->ifindex, htons(proto)), 0);
	return pk;
}

static long take(struct harness *h, struct skiff_packet_sock *pk, uint8_t *buf, size_t len,
		 struct skiff_packet_info *info)
{
	struct iovec iov = { buf, len };
	return skiff_packet_recv(h->st, pk, &iov, 1, false, info);
}

/* A UDP frame with dst MAC `dst`. */
static size_t udp_to(uint8_t *f, const uint8_t dst[6], uint16_t dport)
{
	size_t n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, dport, "payload!", 8);
	memcpy(f, dst, 6);
	return n;
}

static void test_pkttypes_and_device_filter(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk = open_pk(h, SOCK_RAW, ETH_P_ALL);
	struct skiff_packet_info info;
	uint8_t f[256], buf[256];
	const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	const uint8_t mdns[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
	const uint8_t lldp[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e };
	size_t n;

	h_inject(h, f, n = udp_to(f, h_local_mac, 5000));
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), (long)n);
	assert_memory_equal(buf, f, n);
	assert_int_equal(info.pkttype, SKIFF_PACKET_HOST);
	assert_int_equal(info.proto_be, htons(ETH_P_IP));
	assert_memory_equal(info.addr, h_peer_mac, 6);
	assert_int_equal(info.origlen, n);
	assert_int_equal(info.net_off, 14);

	h_inject(h, f, udp_to(f, bcast, 5000));
	assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
	assert_int_equal(info.pkttype, SKIFF_PACKET_BROADCAST);
	h_inject(h, f, udp_to(f, mdns, 5000));
	assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
	assert_int_equal(info.pkttype, SKIFF_PACKET_MULTICAST);

	/* another host's frame, a multicast group nobody joined: the "NIC" filters them */
	h_inject(h, f, udp_to(f, other, 5000));
	h_inject(h, f, udp_to(f, lldp, 5000));
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);

	/* PACKET_MR_PROMISC: OTHERHOST frames show; dropping it hides them again */
	assert_int_equal(skiff_packet_membership(h->st, pk, true, h->ifindex, SKIFF_PACKET_MR_PROMISC, NULL, 0), 0);
	h_inject(h, f, udp_to(f, other, 5000));
	assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
	assert_int_equal(info.pkttype, SKIFF_PACKET_OTHERHOST);
	assert_int_equal(skiff_packet_membership(h->st, pk, false, h->ifindex, SKIFF_PACKET_MR_PROMISC, NULL, 0), 0);
	assert_int_equal(skiff_packet_membership(h->st, pk, false, h->ifindex, SKIFF_PACKET_MR_PROMISC, NULL, 0),
			 -EADDRNOTAVAIL);
	h_inject(h, f, udp_to(f, other, 5000));
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);

	/* PACKET_MR_MULTICAST for one group, PACKET_MR_ALLMULTI for all */
	assert_int_equal(skiff_packet_membership(h->st, pk, true, h->ifindex, SKIFF_PACKET_MR_MULTICAST, lldp, 5), -EINVAL);
	assert_int_equal(skiff_packet_membership(h->st, pk, true, h->ifindex, SKIFF_PACKET_MR_MULTICAST, lldp, 6), 0);
	h_inject(h, f, udp_to(f, lldp, 5000));
	assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
	assert_int_equal(info.pkttype, SKIFF_PACKET_MULTICAST);
	assert_int_equal(skiff_packet_membership(h->st, pk, false, h->ifindex, SKIFF_PACKET_MR_MULTICAST, lldp, 6), 0);
	h_inject(h, f, udp_to(f, lldp, 5000));
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);
	assert_int_equal(skiff_packet_membership(h->st, pk, true, h->ifindex, SKIFF_PACKET_MR_ALLMULTI, NULL, 0), 0);
	h_inject(h, f, udp_to(f, lldp, 5000));
	assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
	skiff_packet_close(h->st, pk); /* drops its memberships */
	pk = open_pk(h, SOCK_RAW, ETH_P_ALL);
	h_inject(h, f, udp_to(f, lldp, 5000));
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);
	skiff_packet_close(h->st, pk);
}

static void test_ethertype_binding(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *arp = open_pk(h, SOCK_RAW, ETH_P_ARP), *none;
	struct skiff_packet_info info;
	uint8_t f[256], buf[256];
	int err;

	h_inject(h, f, udp_to(f, h_local_mac, 5000));
	assert_int_equal(take(h, arp, buf, sizeof(buf), &info), -EAGAIN);
	h_inject(h, f, fb_arp(f, 1, h_peer_mac, H_PEER_IP, (const uint8_t[6]){ 0 }, H_LOCAL_IP, bcast));
	assert_int_equal(take(h, arp, buf, sizeof(buf), &info), 42);
	assert_int_equal(info.proto_be, htons(ETH_P_ARP));
	assert_int_equal(info.pkttype, SKIFF_PACKET_BROADCAST);
	h_tx_flush(h); /* our ARP reply */
	/* protocol 0: bound but receiving nothing (Linux: no hook registered) */
	none = skiff_packet_open(h->st, SOCK_RAW, 0, &err);
	assert_non_null(none);
	h_inject(h, f, udp_to(f, h_local_mac, 5000));
	assert_int_equal(take(h, none, buf, sizeof(buf), &info), -EAGAIN);
	assert_int_equal(skiff_packet_open(h->st, 5, 0, &err), NULL);
	assert_int_equal(err, -EINVAL);
	skiff_packet_close(h->st, none);
	skiff_packet_close(h->st, arp);
}

static void test_dgram_view(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk = open_pk(h, SOCK_DGRAM, ETH_P_IP);
	struct skiff_packet_info info;
	uint8_t f[256], buf[256];
	size_t n = udp_to(f, h_local_mac, 5000);

	h_inject(h, f, n);
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), (long)(n - 14));
	assert_memory_equal(buf, f + 14, n - 14);
	assert_int_equal(info.origlen, n - 14);
	assert_int_equal(info.net_off, 0);
	assert_memory_equal(info.addr, h_peer_mac, 6);
	/* a short buffer takes what fits; the record is gone (datagram semantics) */
	h_inject(h, f, n);
	assert_int_equal(take(h, pk, buf, 10, &info), 10);
	assert_int_equal(info.caplen, n - 14);
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);
	skiff_packet_close(h->st, pk);
}

static void test_bpf_filter(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *raw = open_pk(h, SOCK_RAW, ETH_P_ALL), *dg = open_pk(h, SOCK_DGRAM, ETH_P_ALL);
	/* "udp dst port 5000", snap 40, as tcpdump -dd writes it (IPv4 only) */
	struct sock_filter raw_prog[] = {
		{ 0x28, 0, 0, 12 }, { 0x15, 0, 7, 0x0800 }, { 0x30, 0, 0, 23 }, { 0x15, 0, 5, 17 },
		{ 0x28, 0, 0, 20 }, { 0x45, 3, 0, 0x1fff }, { 0xb1, 0, 0, 14 }, { 0x48, 0, 0, 16 },
		{ 0x15, 1, 0, 5000 }, { 0x6, 0, 0, 0 }, { 0x6, 0, 0, 40 },
	};
	/* the same for SOCK_DGRAM: offset 0 is the IP header; the ethertype via SKF_AD_PROTOCOL */
	struct sock_filter dg_prog[] = {
		{ 0x28, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_PROTOCOL) }, { 0x15, 0, 7, 0x0800 }, { 0x30, 0, 0, 9 },
		{ 0x15, 0, 5, 17 }, { 0x28, 0, 0, 6 }, { 0x45, 3, 0, 0x1fff }, { 0xb1, 0, 0, 0 },
		{ 0x48, 0, 0, 2 }, { 0x15, 1, 0, 5000 }, { 0x6, 0, 0, 0 }, { 0x6, 0, 0, 0xffff },
	};
	struct sock_filter bad[] = { { 0x6, 0, 0, 0 }, { 0x28, 0, 0, 12 } }; /* last insn not RET */
	struct skiff_packet_info info;
	uint8_t f[256], buf[256];
	size_t n;
	uint32_t pkts, drops;

	assert_int_equal(skiff_packet_set_filter(h->st, raw, bad, 2), -EINVAL);
	assert_int_equal(skiff_packet_set_filter(h->st, raw, NULL, 0), -ENOENT);
	assert_int_equal(skiff_packet_set_filter(h->st, raw, raw_prog, 11), 0);
	assert_int_equal(skiff_packet_set_filter(h->st, dg, dg_prog, 11), 0);
	h_inject(h, f, udp_to(f, h_local_mac, 4999));
	h_inject(h, f, fb_arp(f, 2, h_peer_mac, H_PEER_IP, h_local_mac, H_LOCAL_IP, h_local_mac));
	assert_int_equal(take(h, raw, buf, sizeof(buf), &info), -EAGAIN);
	assert_int_equal(take(h, dg, buf, sizeof(buf), &info), -EAGAIN);
	h_inject(h, f, n = udp_to(f, h_local_mac, 5000));
	assert_int_equal(take(h, raw, buf, sizeof(buf), &info), 40); /* the filter's snap length */
	assert_memory_equal(buf, f, 40);
	assert_int_equal(info.origlen, n);
	assert_int_equal(take(h, dg, buf, sizeof(buf), &info), (long)(n - 14));
	skiff_packet_stats(raw, &pkts, &drops); /* filtered frames are not counted */
	assert_int_equal(pkts, 1);
	assert_int_equal(drops, 0);
	/* SO_LOCK_FILTER */
	raw->filter_locked = true;
	assert_int_equal(skiff_packet_set_filter(h->st, raw, NULL, 0), -EPERM);
	raw->filter_locked = false;
	assert_int_equal(skiff_packet_set_filter(h->st, raw, NULL, 0), 0);
	skiff_packet_close(h->st, raw);
	skiff_packet_close(h->st, dg);
}

static void test_rcvbuf_and_statistics(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk = open_pk(h, SOCK_RAW, ETH_P_IP);
	struct skiff_packet_info info;
	uint8_t f[256], buf[256];
	uint32_t pkts, drops;
	unsigned got = 0;

	skiff_packet_set_rcvbuf(h->st, pk, 1920); /* three 640-byte truesizes (50-byte frames) */
	for (int i = 0; i < 10; i++)
		h_inject(h, f, udp_to(f, h_local_mac, 5000));
	while (take(h, pk, buf, sizeof(buf), &info) > 0)
		got++;
	assert_int_equal(got, 3);
	skiff_packet_stats(pk, &pkts, &drops);
	assert_int_equal(pkts, 10); /* tp_packets includes the drops, as Linux */
	assert_int_equal(drops, 7);
	assert_int_equal(h_drops(h, SKIFF_DROP_PACKET_RCVBUF_FULL), 7);
	skiff_packet_stats(pk, &pkts, &drops); /* reset on read */
	assert_int_equal(pkts, 0);
	assert_int_equal(drops, 0);
	/* the byte ring wraps around many times without losing order */
	skiff_packet_set_rcvbuf(h->st, pk, 212992);
	for (int round = 0; round < 400; round++) {
		for (int i = 0; i < 5; i++) {
			size_t n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, (uint16_t)(6000 + i), buf, (size_t)(round % 150));
			h_inject(h, f, n);
		}
		for (int i = 0; i < 5; i++) {
			assert_true(take(h, pk, buf, sizeof(buf), &info) > 0);
			assert_int_equal(((unsigned)buf[36] << 8) | buf[37], 6000 + i);
		}
	}
	skiff_packet_close(h->st, pk);
}

static void test_outgoing_tap(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk;
	int err;
	struct skiff_udp_sock *u = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr any = skiff_addr_v4(0), dst = skiff_addr_v4(H_PEER_IP);
	struct iovec iov = { "out!", 4 };
	struct skiff_packet_info info;
	struct skiff_pkt *p;
	uint8_t buf[256];
	long n;

	h_learn_peer(h);
	pk = open_pk(h, SOCK_RAW, ETH_P_ALL);
	assert_int_equal(skiff_udp_bind(h->st, u, &any, 0), 0);
	assert_int_equal(skiff_udp_send(h->st, u, &iov, 1, &dst, 7, 0, h->now), 4);
	p = h_tx_pop(h);
	assert_non_null(p);
	n = take(h, pk, buf, sizeof(buf), &info);
	assert_int_equal(n, (long)p->len);
	assert_memory_equal(buf, skiff_pkt_data(p), p->len);
	assert_int_equal(info.pkttype, SKIFF_PACKET_OUTGOING);
	assert_memory_equal(info.addr, h_local_mac, 6);
	skiff_pkt_free(p);
	/* PACKET_IGNORE_OUTGOING (whatever else the stack sent is read first) */
	h_tx_flush(h);
	while (take(h, pk, buf, sizeof(buf), &info) > 0)
		;
	pk->ignore_outgoing = true;
	assert_int_equal(skiff_udp_send(h->st, u, &iov, 1, &dst, 7, 0, h->now), 4);
	p = h_tx_pop(h);
	assert_non_null(p);
	skiff_pkt_free(p);
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), -EAGAIN);
	skiff_udp_close(h->st, u);
	skiff_packet_close(h->st, pk);
}

static void test_send_frames(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *tx = open_pk(h, SOCK_RAW, ETH_P_ALL), *watch = open_pk(h, SOCK_RAW, ETH_P_ALL);
	struct skiff_packet_sock *dg = open_pk(h, SOCK_DGRAM, 0x88b5);
	struct skiff_packet_info info;
	uint8_t f[2000], buf[256];
	struct iovec iov = { f, 0 };
	struct skiff_pkt *p;
	size_t n = fb_udp4(f, H_LOCAL_IP, H_PEER_IP, 4000, 5000, "raw", 3);

	memcpy(f, h_peer_mac, 6);
	memcpy(f + 6, h_local_mac, 6);
	iov.iov_len = n;
	assert_int_equal(skiff_packet_send(h->st, tx, h->ifindex, &iov, 1, NULL, 0), (long)n);
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, n);
	assert_memory_equal(skiff_pkt_data(p), f, n);
	skiff_pkt_free(p);
	assert_int_equal(take(h, tx, buf, sizeof(buf), &info), -EAGAIN); /* not its own */
	assert_int_equal(take(h, watch, buf, sizeof(buf), &info), (long)n);
	assert_int_equal(info.pkttype, SKIFF_PACKET_OUTGOING);
	/* sizes: shorter than a link header, longer than mtu + header */
	iov.iov_len = 13;
	assert_int_equal(skiff_packet_send(h->st, tx, h->ifindex, &iov, 1, NULL, 0), -EINVAL);
	iov.iov_len = 1515;
	assert_int_equal(skiff_packet_send(h->st, tx, h->ifindex, &iov, 1, NULL, 0), -EMSGSIZE);
	iov.iov_len = 14;
	assert_int_equal(skiff_packet_send(h->st, tx, 7, &iov, 1, NULL, 0), -ENXIO);
	/* SOCK_DGRAM: the header from the address and protocol */
	iov.iov_base = "hello";
	iov.iov_len = 5;
	assert_int_equal(skiff_packet_send(h->st, dg, h->ifindex, &iov, 1, h_peer_mac, htons(0x88b5)), 5);
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, 19);
	assert_memory_equal(skiff_pkt_data(p), h_peer_mac, 6);
	assert_memory_equal(skiff_pkt_data(p) + 6, h_local_mac, 6);
	assert_int_equal(skiff_pkt_data(p)[12], 0x88);
	assert_int_equal(skiff_pkt_data(p)[13], 0xb5);
	assert_memory_equal(skiff_pkt_data(p) + 14, "hello", 5);
	skiff_pkt_free(p);
	assert_int_equal(take(h, watch, buf, sizeof(buf), &info), 19);
	iov.iov_len = 1501;
	iov.iov_base = f;
	assert_int_equal(skiff_packet_send(h->st, dg, h->ifindex, &iov, 1, h_peer_mac, 0), -EMSGSIZE);
	skiff_packet_close(h->st, tx);
	skiff_packet_close(h->st, watch);
	skiff_packet_close(h->st, dg);
}

static void test_vlan_tag_is_metadata(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk = open_pk(h, SOCK_RAW, ETH_P_IP);
	struct skiff_packet_info info;
	uint8_t f[256], t[260], buf[256];
	size_t n = udp_to(f, h_local_mac, 5000);

	memcpy(t, f, 12);
	t[12] = 0x81, t[13] = 0x00, t[14] = 0x20, t[15] = 0x07; /* PCP 1, VID 7 */
	memcpy(t + 16, f + 12, n - 12);
	h_inject(h, t, n + 4);
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), (long)n);
	assert_memory_equal(buf, f, n); /* untagged, as skb_vlan_untag leaves it */
	assert_true(info.vlan_valid);
	assert_int_equal(info.vlan_tci, 0x2007);
	assert_int_equal(info.vlan_tpid, 0x8100);
	assert_int_equal(info.proto_be, htons(ETH_P_IP));
	/* a tag the driver stripped (SKIFF_PKT_RX_VLAN): the same report */
	{
		struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
		assert_non_null(p);
		memcpy(skiff_pkt_put(p, (uint32_t)n), f, n);
		p->flags |= SKIFF_PKT_RX_VLAN;
		p->vlan_tci = 0x6005;
		skiff_stack_input(h->st, h->ifindex, &p, 1, h->now);
	}
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), (long)n);
	assert_memory_equal(buf, f, n);
	assert_true(info.vlan_valid);
	assert_int_equal(info.vlan_tci, 0x6005);
	assert_int_equal(info.vlan_tpid, 0x8100);
	/* no tag: no VLAN report */
	h_inject(h, f, n);
	assert_int_equal(take(h, pk, buf, sizeof(buf), &info), (long)n);
	assert_false(info.vlan_valid);
	skiff_packet_close(h->st, pk);
}

static void test_tpacket_v3_ring(void **state)
{
	struct harness *h = *state;
	struct skiff_packet_sock *pk = open_pk(h, SOCK_RAW, ETH_P_ALL);
	const uint32_t bs = 1024, nb = 3;
	uint8_t *mem = calloc(nb, bs), f[256];
	struct skiff_pkt_ring ring;
	struct tpacket_block_desc *b0 = (struct tpacket_block_desc *)mem, *b1 = (struct tpacket_block_desc *)(mem + bs);
	struct tpacket3_hdr *ph;
	struct sockaddr_ll *sll;
	size_t n = udp_to(f, h_local_mac, 5000); /* 50 bytes: records of 82 + 50 → 136 */
	uint32_t pkts, drops;

	memset(&ring, 0, sizeof(ring));
	ring.kifindex[h->ifindex] = 42;
	assert_int_equal(skiff_pkt_ring_init(&ring, mem, bs, nb, 0, 10, 0, false, h->now), 0);
	skiff_packet_set_ring(h->st, pk, &ring);
	assert_int_equal(b0->version, TPACKET_V3);
	assert_int_equal(b0->hdr.bh1.offset_to_first_pkt, 48);
	assert_int_equal(b0->hdr.bh1.seq_num, 1);
	for (int i = 0; i < 7; i++) /* (1024 - 48) / 136 = 7 fit: 48 + 7 * 136 = 1000 < 1024 */
		h_inject(h, f, n);
	assert_int_equal(b0->hdr.bh1.block_status, TP_STATUS_KERNEL);
	assert_false(skiff_packet_events(pk) & SKIFF_EV_IN);
	h_inject(h, f, n); /* does not fit: block 0 goes to the user */
	assert_int_equal(b0->hdr.bh1.block_status, TP_STATUS_USER);
	assert_int_equal(b0->hdr.bh1.num_pkts, 7);
	assert_int_equal(b0->hdr.bh1.blk_len, 48 + 7 * 136);
	assert_true(skiff_packet_events(pk) & SKIFF_EV_IN);
	ph = (struct tpacket3_hdr *)(mem + 48);
	assert_int_equal(ph->tp_next_offset, 136);
	assert_int_equal(ph->tp_len, n);
	assert_int_equal(ph->tp_snaplen, n);
	assert_int_equal(ph->tp_mac, 82);
	assert_int_equal(ph->tp_net, 96);
	assert_int_equal(ph->tp_status, TP_STATUS_USER | TP_STATUS_TS_SOFTWARE);
	assert_memory_equal((uint8_t *)ph + 82, f, n);
	sll = (struct sockaddr_ll *)((uint8_t *)ph + 48);
	assert_int_equal(sll->sll_family, AF_PACKET);
	assert_int_equal(sll->sll_ifindex, 42);
	assert_int_equal(sll->sll_protocol, htons(ETH_P_IP));
	assert_int_equal(sll->sll_pkttype, PACKET_HOST);
	assert_memory_equal(sll->sll_addr, h_peer_mac, 6);
	ph = (struct tpacket3_hdr *)(mem + 48 + 6 * 136);
	assert_int_equal(ph->tp_next_offset, 0); /* the last record */
	/* block 1 holds one frame; the retire timeout hands it over */
	assert_int_equal(b1->hdr.bh1.num_pkts, 1);
	assert_int_equal(b1->hdr.bh1.seq_num, 2);
	h_advance(h, 11000000);
	assert_int_equal(b1->hdr.bh1.block_status, TP_STATUS_USER | TP_STATUS_BLK_TMO);
	/* blocks 0 and 1 are the user's; block 2 fills, then the ring freezes */
	for (int i = 0; i < 8; i++)
		h_inject(h, f, n);
	skiff_packet_stats(pk, &pkts, &drops);
	assert_int_equal(drops, 1);
	assert_int_equal(pkts, 7 + 1 + 8); /* every frame offered, the dropped one included */
	/* the user gives block 0 back: the next frame opens it */
	b0->hdr.bh1.block_status = TP_STATUS_KERNEL;
	h_inject(h, f, n);
	assert_int_equal(b0->hdr.bh1.num_pkts, 1);
	assert_int_equal(b0->hdr.bh1.seq_num, 4);
	skiff_packet_close(h->st, pk);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pkttypes_and_device_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ethertype_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dgram_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bpf_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rcvbuf_and_statistics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outgoing_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_frames, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vlan_tag_is_metadata, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tpacket_v3_ring, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
