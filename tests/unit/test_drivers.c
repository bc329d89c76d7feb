/* test_drivers.c — cmocka tests for the software drivers: loop, fault, pcap.
 *
 * Frames are valid Ethernet + IPv4 + UDP built by hand (build_frame), with a
 * 32-bit sequence number at the start of the UDP payload so a receiver can tell
 * which frame it got. Checksums come from a byte-at-a-time RFC 1071 reference
 * here, independent of dataplane/csum.c. Pool occupancy is measured from the
 * outside (pool_avail: allocate until empty, free again). A stub device
 * (stub_*) that accepts a limited budget of frames and scribbles over what it
 * accepts checks the wrappers' backpressure and ownership handling.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/driver.h"

#define BURST 32u
#define TSHARK "/usr/bin/tshark"
#define FRAME_MAX 2048u
#define HDRS_LEN 42u /* Ethernet 14 + IPv4 20 + UDP 8 */

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* ---- frames ------------------------------------------------------------------ */

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint16_t payload_len_for(uint32_t seq) { return (uint16_t)(18 + seq % 200); }

/* Ethernet + IPv4 + UDP to `dst`, payload = seq (BE) + pattern; returns frame length. */
static size_t build_frame_to(uint8_t *f, const uint8_t *dst, uint32_t seq, uint16_t plen)
{
	uint8_t *ip = f + 14, *udp = f + 34, *pl = f + 42;
	uint16_t udp_len = (uint16_t)(8 + plen);
	uint32_t sum;
	memcpy(f, dst, 6);
	memcpy(f + 6, MAC_A, 6);
	wr16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)(20 + udp_len));
	wr16(ip + 4, (uint16_t)seq);
	wr16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, (const uint8_t[4]){ 10, 0, 0, 1 }, 4);
	memcpy(ip + 16, (const uint8_t[4]){ 10, 0, 0, 2 }, 4);
	wr16(ip + 10, ref_fold(ref_sum(ip, 20, 0)));
	wr16(udp, 40000);
	wr16(udp + 2, 40001);
	wr16(udp + 4, udp_len);
	wr16(udp + 6, 0);
	pl[0] = (uint8_t)(seq >> 24);
	pl[1] = (uint8_t)(seq >> 16);
	pl[2] = (uint8_t)(seq >> 8);
	pl[3] = (uint8_t)seq;
	for (uint16_t i = 4; i < plen; i++)
		pl[i] = (uint8_t)(seq * 7u + i);
	sum = ref_sum(ip + 12, 8, 17u + udp_len); /* pseudo-header */
	sum = ref_sum(udp, udp_len, sum);
	wr16(udp + 6, ref_fold(sum) ? ref_fold(sum) : 0xffff);
	return HDRS_LEN + plen;
}

static size_t build_frame(uint8_t *f, uint32_t seq) { return build_frame_to(f, MAC_B, seq, payload_len_for(seq)); }

static struct skiff_pkt *make_pkt(struct skiff_dev *dev, uint32_t seq)
{
	uint8_t f[FRAME_MAX];
	size_t len = build_frame(f, seq);
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(dev));
	assert_non_null(p);
	memcpy(skiff_pkt_put(p, (uint32_t)len), f, len);
	return p;
}

static void make_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint32_t first_seq)
{
	for (unsigned i = 0; i < n; i++)
		pkts[i] = make_pkt(dev, first_seq + i);
}

static uint32_t pkt_seq(const struct skiff_pkt *p) { return rd32(skiff_pkt_data(p) + HDRS_LEN); }

static void assert_frame(const struct skiff_pkt *p, uint32_t seq)
{
	uint8_t f[FRAME_MAX];
	size_t len = build_frame(f, seq);
	assert_int_equal(p->len, len);
	assert_memory_equal(skiff_pkt_data(p), f, len);
}

/* Frames a pool can still hand out: take them all, give them back. */
static unsigned pool_avail(struct skiff_pool *pool)
{
	struct skiff_pkt *batch[64];
	struct skiff_pkt *all = NULL;
	unsigned total = 0, got;
	do {
		got = skiff_pool_alloc(pool, batch, 64);
		for (unsigned i = 0; i < got; i++) {
			batch[i]->next = all;
			all = batch[i];
		}
		total += got;
	} while (got == 64);
	skiff_pkt_free_list(all);
	return total;
}

static bool fd_readable(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Receive everything pending on `dev`; seqs[] gets the sequence numbers in order. */
static unsigned drain_seqs(struct skiff_dev *dev, uint32_t *seqs, unsigned cap, uint64_t now)
{
	struct skiff_pkt *pkts[BURST];
	unsigned total = 0, got;
	do {
		got = skiff_dev_rx(dev, pkts, BURST, now);
		for (unsigned i = 0; i < got; i++) {
			if (seqs && total < cap)
				seqs[total] = pkt_seq(pkts[i]);
			total++;
		}
		skiff_pkt_free_burst(pkts, got);
	} while (got);
	return total;
}

/* Send `count` frames (seq first..) from tx in bursts, draining rx after each. */
static unsigned pump(struct skiff_dev *tx, struct skiff_dev *rx, uint32_t first, unsigned count, uint32_t *seqs,
		     unsigned cap)
{
	struct skiff_pkt *pkts[BURST];
	unsigned sent = 0, received = 0;
	uint64_t now = 1000;
	while (sent < count) {
		unsigned n = count - sent < BURST ? count - sent : BURST;
		make_burst(tx, pkts, n, first + sent);
		assert_int_equal(skiff_dev_tx(tx, pkts, n, now), n);
		sent += n;
		received += drain_seqs(rx, seqs ? seqs + received : NULL, cap > received ? cap - received : 0, now);
		now += 1000;
	}
	return received;
}

/* ---- stub device: accepts `budget` frames, scribbles over them, frees them ---- */

struct stub_dev {
	struct skiff_dev dev;
	struct skiff_mempool *mp;
	unsigned budget;
	uint32_t seqs[1024];
	unsigned nsent;
	bool closed;
};

static unsigned stub_tx(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct stub_dev *s = (struct stub_dev *)(void *)dev;
	unsigned k = n < s->budget ? n : s->budget;
	(void)now;
	for (unsigned i = 0; i < k; i++) {
		if (s->nsent < 1024)
			s->seqs[s->nsent] = pkt_seq(pkts[i]);
		s->nsent++;
		memset(skiff_pkt_data(pkts[i]), 0xee, pkts[i]->len); /* the frame is ours now */
	}
	skiff_pkt_free_burst(pkts, k);
	s->budget -= k;
	return k;
}

static unsigned stub_rx(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	(void)dev, (void)pkts, (void)n, (void)now;
	return 0;
}

static struct skiff_pool *stub_pool(struct skiff_dev *dev)
{
	return skiff_mempool_pool(((struct stub_dev *)(void *)dev)->mp);
}

static void stub_close(struct skiff_dev *dev) { ((struct stub_dev *)(void *)dev)->closed = true; }

static const struct skiff_dev_ops stub_ops = {
	.rx_burst = stub_rx, .tx_burst = stub_tx, .pool = stub_pool, .close = stub_close,
};

static void stub_init(struct stub_dev *s, unsigned budget)
{
	memset(s, 0, sizeof(*s));
	s->dev.ops = &stub_ops;
	snprintf(s->dev.name, sizeof(s->dev.name), "stub");
	s->dev.mtu = 1500;
	s->budget = budget;
	assert_int_equal(skiff_mempool_create(256, 2048 + SKIFF_HEADROOM, &s->mp), 0);
}

/* ---- loop ------------------------------------------------------------------- */

static void send_and_check(struct skiff_dev *tx, struct skiff_dev *rx, uint32_t first, unsigned n, uint64_t now)
{
	struct skiff_pkt *pkts[BURST];
	unsigned got;
	make_burst(tx, pkts, n, first);
	assert_int_equal(skiff_dev_tx(tx, pkts, n, now), n);
	got = skiff_dev_rx(rx, pkts, BURST, now + 1);
	assert_int_equal(got, n);
	for (unsigned i = 0; i < got; i++) {
		assert_frame(pkts[i], first + i);
		assert_ptr_equal(pkts[i]->pool, skiff_dev_pool(tx));
		assert_int_equal(pkts[i]->ifindex, 0);
		assert_null(pkts[i]->next);
		assert_null(pkts[i]->chain);
		assert_int_equal(pkts[i]->ts, now + 1);
	}
	skiff_pkt_free_burst(pkts, got);
}

static void test_loop_delivers_both_ways(void **state)
{
	struct skiff_dev *a, *b;
	struct skiff_loop_stats st;
	(void)state;
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	assert_string_equal(a->name, "loop0");
	assert_string_equal(b->name, "loop1");
	assert_memory_equal(a->mac, MAC_A, 6);
	assert_memory_equal(b->mac, MAC_B, 6);
	assert_int_equal(a->mtu, 1500);
	assert_int_equal(a->caps, 0);
	assert_true(skiff_dev_wakeup_fd(a) >= 0 && skiff_dev_wakeup_fd(b) >= 0);
	assert_int_not_equal(skiff_dev_wakeup_fd(a), skiff_dev_wakeup_fd(b));
	assert_ptr_not_equal(skiff_dev_pool(a), skiff_dev_pool(b));
	assert_true(skiff_dev_next_event(a) == UINT64_MAX);
	for (unsigned r = 0; r < 4; r++) {
		send_and_check(a, b, r * BURST, BURST, 100 * r);
		send_and_check(b, a, 1000 + r * BURST, BURST - r, 100 * r);
	}
	skiff_loop_stats(a, &st);
	assert_int_equal(st.tx, 4 * BURST);
	assert_int_equal(st.rx, 4 * BURST - 6);
	assert_int_equal(st.ring_full_drops, 0);
	skiff_loop_stats(b, &st);
	assert_int_equal(st.rx, 4 * BURST);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 4096);
	assert_int_equal(pool_avail(skiff_dev_pool(b)), 4096);
	skiff_dev_close(a);
	skiff_dev_close(b);
}

static void test_loop_full_size_frame(void **state)
{
	struct skiff_dev *a, *b;
	struct skiff_pkt *p, *big;
	uint8_t f[FRAME_MAX];
	size_t len = build_frame_to(f, MAC_B, 7, 1472); /* 1514: mtu 1500 + 14 */
	struct skiff_loop_stats st;
	(void)state;
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	p = skiff_pool_get(skiff_dev_pool(a));
	memcpy(skiff_pkt_put(p, (uint32_t)len), f, len);
	big = skiff_pool_get(skiff_dev_pool(a));
	assert_non_null(skiff_pkt_put(big, 1500 + 18 + 1)); /* beyond mtu + Ethernet + VLAN tag */
	assert_int_equal(skiff_dev_tx(a, &p, 1, 0), 1);
	assert_int_equal(skiff_dev_tx(a, &big, 1, 0), 1);
	assert_int_equal(skiff_dev_rx(b, &p, 1, 0), 1);
	assert_int_equal(p->len, len);
	assert_memory_equal(skiff_pkt_data(p), f, len);
	skiff_pkt_free(p);
	assert_int_equal(skiff_dev_rx(b, &p, 1, 0), 0);
	skiff_loop_stats(a, &st);
	assert_int_equal(st.tx, 1);
	assert_int_equal(st.ring_full_drops, 1);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 4096);
	skiff_dev_close(b);
	skiff_dev_close(a);
}

static void test_loop_ring_full_drops(void **state)
{
	struct skiff_loop_config cfg = { .nbufs = 64, .ring = 8 };
	struct skiff_dev *a, *b;
	struct skiff_pkt *pkts[20];
	uint32_t seqs[20];
	struct skiff_loop_stats st;
	(void)state;
	assert_int_equal(skiff_loop_pair(&cfg, &a, &b), 0);
	make_burst(a, pkts, 20, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 20, 0), 20); /* a NIC drops, it does not refuse */
	skiff_loop_stats(a, &st);
	assert_int_equal(st.tx, 8);
	assert_int_equal(st.ring_full_drops, 12);
	assert_int_equal(drain_seqs(b, seqs, 20, 0), 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(seqs[i], i);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 64);
	/* the ring is usable again once drained */
	make_burst(a, pkts, 8, 100);
	assert_int_equal(skiff_dev_tx(a, pkts, 8, 0), 8);
	assert_int_equal(drain_seqs(b, NULL, 0, 0), 8);
	skiff_loop_stats(a, &st);
	assert_int_equal(st.ring_full_drops, 12);
	skiff_dev_close(a);
	skiff_dev_close(b);
}

static void test_loop_frames_return_to_sender_pool(void **state)
{
	struct skiff_loop_config cfg = { .nbufs = 64 };
	struct skiff_dev *a, *b;
	struct skiff_pkt *pkts[10];
	struct skiff_loop_stats st;
	(void)state;
	assert_int_equal(skiff_loop_pair(&cfg, &a, &b), 0);
	make_burst(a, pkts, 10, 0);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 54);
	assert_int_equal(skiff_dev_tx(a, pkts, 10, 0), 10);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 54); /* in the ring, no copy */
	assert_int_equal(pool_avail(skiff_dev_pool(b)), 64);
	assert_int_equal(skiff_dev_rx(b, pkts, 10, 0), 10);
	assert_int_equal(pool_avail(skiff_dev_pool(b)), 64);
	skiff_pkt_free_burst(pkts, 10);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 64);

	/* Closing b frees what was queued toward it; a stays usable. */
	make_burst(a, pkts, 10, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 10, 0), 10);
	skiff_dev_close(b);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 64);
	make_burst(a, pkts, 4, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 4, 0), 4);
	skiff_loop_stats(a, &st);
	assert_int_equal(st.ring_full_drops, 4);
	assert_int_equal(pool_avail(skiff_dev_pool(a)), 64);
	assert_int_equal(skiff_dev_rx(a, pkts, 10, 0), 0);
	skiff_dev_close(a);
}

static void test_loop_peer_frames_outlive_sender_close(void **state)
{
	struct skiff_loop_config cfg = { .nbufs = 16 };
	struct skiff_dev *a, *b;
	struct skiff_pkt *pkts[4];
	(void)state;
	assert_int_equal(skiff_loop_pair(&cfg, &a, &b), 0);
	make_burst(a, pkts, 4, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 4, 0), 4);
	assert_int_equal(skiff_dev_rx(b, pkts, 2, 0), 2);
	skiff_dev_close(a); /* b holds 2 of a's frames, 2 more are queued */
	assert_frame(pkts[0], 0);
	skiff_pkt_free_burst(pkts, 2);
	assert_int_equal(skiff_dev_rx(b, pkts, 4, 0), 2);
	assert_frame(pkts[1], 3);
	skiff_pkt_free_burst(pkts, 2);
	skiff_dev_close(b); /* ASan reports any use after free or leak */
}

static void test_loop_wakeup_fd(void **state)
{
	struct skiff_dev *a, *b;
	struct skiff_pkt *pkts[3];
	int fa, fb;
	(void)state;
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	fa = skiff_dev_wakeup_fd(a);
	fb = skiff_dev_wakeup_fd(b);
	assert_false(fd_readable(fa));
	assert_false(fd_readable(fb));
	make_burst(a, pkts, 3, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 3, 0), 3);
	assert_true(fd_readable(fb));
	assert_false(fd_readable(fa));
	assert_int_equal(skiff_dev_rx(b, pkts, 2, 0), 2);
	skiff_pkt_free_burst(pkts, 2);
	assert_true(fd_readable(fb)); /* one still queued */
	assert_int_equal(skiff_dev_rx(b, pkts, 2, 0), 1);
	skiff_pkt_free_burst(pkts, 1);
	assert_false(fd_readable(fb));
	make_burst(a, pkts, 1, 0);
	assert_int_equal(skiff_dev_tx(a, pkts, 1, 0), 1);
	assert_true(fd_readable(fb));
	assert_int_equal(skiff_dev_rx(b, pkts, 3, 0), 1);
	skiff_pkt_free(pkts[0]);
	assert_false(fd_readable(fb));
	skiff_dev_close(a);
	skiff_dev_close(b);
}

static void test_loop_invalid_config(void **state)
{
	struct skiff_dev *a = NULL, *b = NULL;
	struct skiff_loop_config ring = { .ring = 1000 };
	struct skiff_loop_config mtu_big = { .mtu = 2048 - 18 + 1 };
	struct skiff_loop_config mtu_max = { .mtu = 2048 - 18, .nbufs = 8 };
	struct skiff_loop_config tiny_buf = { .buf_size = SKIFF_HEADROOM + 18 };
	(void)state;
	assert_int_equal(skiff_loop_pair(&ring, &a, &b), -EINVAL);
	assert_int_equal(skiff_loop_pair(&mtu_big, &a, &b), -EINVAL);
	assert_int_equal(skiff_loop_pair(&tiny_buf, &a, &b), -EINVAL);
	assert_int_equal(skiff_loop_pair(NULL, NULL, &b), -EINVAL);
	assert_null(a);
	assert_null(b);
	assert_int_equal(skiff_loop_pair(&mtu_max, &a, &b), 0);
	assert_int_equal(a->mtu, 2030);
	skiff_dev_close(a);
	skiff_dev_close(b);
}

static struct skiff_pkt *pkt_from(struct skiff_dev *dev, const uint8_t *f, size_t len, uint32_t flags)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(dev));
	assert_non_null(p);
	memcpy(skiff_pkt_put(p, (uint32_t)len), f, len);
	p->flags = flags;
	return p;
}

static struct skiff_pkt *loop_once(struct skiff_dev *a, struct skiff_dev *b, struct skiff_pkt *p)
{
	assert_int_equal(skiff_dev_tx(a, &p, 1, 0), 1);
	assert_int_equal(skiff_dev_rx(b, &p, 1, 0), 1);
	return p;
}

static void test_loop_checksum_offload(void **state)
{
	struct skiff_loop_config cfg = {
		.caps = SKIFF_DEV_CAP_RX_L4_CSUM | SKIFF_DEV_CAP_RX_IP_CSUM | SKIFF_DEV_CAP_TX_L4_CSUM,
	};
	const uint32_t good = SKIFF_PKT_RX_IP_CSUM_GOOD | SKIFF_PKT_RX_L4_CSUM_GOOD;
	struct skiff_dev *a, *b;
	struct skiff_pkt *p;
	uint8_t ref[FRAME_MAX], f[FRAME_MAX];
	size_t len = build_frame(ref, 5);
	(void)state;
	assert_int_equal(skiff_loop_pair(&cfg, &a, &b), 0);

	/* TX offload fills the UDP checksum the stack left empty. */
	memcpy(f, ref, len);
	wr16(f + 40, 0);
	p = loop_once(a, b, pkt_from(a, f, len, SKIFF_PKT_TX_L4_CSUM));
	assert_memory_equal(skiff_pkt_data(p), ref, len);
	assert_int_equal(p->flags, good);
	skiff_pkt_free(p);

	/* RX reports only what verifies. */
	memcpy(f, ref, len);
	f[len - 1] ^= 0x10;
	p = loop_once(a, b, pkt_from(a, f, len, 0));
	assert_int_equal(p->flags, SKIFF_PKT_RX_IP_CSUM_GOOD);
	skiff_pkt_free(p);
	memcpy(f, ref, len);
	f[14 + 8] ^= 0x01; /* TTL: breaks the IPv4 header checksum only */
	p = loop_once(a, b, pkt_from(a, f, len, 0));
	assert_int_equal(p->flags, SKIFF_PKT_RX_L4_CSUM_GOOD);
	skiff_pkt_free(p);

	/* Link-layer flags. */
	len = build_frame_to(f, MAC_BCAST, 6, 30);
	p = loop_once(a, b, pkt_from(a, f, len, 0));
	assert_int_equal(p->flags, good | SKIFF_PKT_BCAST);
	skiff_pkt_free(p);
	f[0] = 0x01, f[1] = 0x00, f[2] = 0x5e; /* IPv4 multicast MAC */
	p = loop_once(a, b, pkt_from(a, f, len, 0));
	assert_int_equal(p->flags, good | SKIFF_PKT_MCAST);
	skiff_pkt_free(p);
	skiff_dev_close(a);
	skiff_dev_close(b);

	/* Without the caps: nothing filled, nothing claimed. */
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	len = build_frame(ref, 5);
	memcpy(f, ref, len);
	wr16(f + 40, 0);
	p = loop_once(a, b, pkt_from(a, f, len, SKIFF_PKT_TX_L4_CSUM));
	assert_int_equal(rd16(skiff_pkt_data(p) + 40), 0);
	assert_int_equal(p->flags, 0);
	skiff_pkt_free(p);
	skiff_dev_close(a);
	skiff_dev_close(b);
}

/* ---- fault ------------------------------------------------------------------ */

static void fault_over_loop(const struct skiff_fault_config *cfg, struct skiff_dev **f, struct skiff_dev **b)
{
	struct skiff_dev *a;
	assert_int_equal(skiff_loop_pair(NULL, &a, b), 0);
	assert_int_equal(skiff_fault_wrap(a, cfg, f), 0);
}

static unsigned run_loss(uint64_t seed)
{
	struct skiff_fault_config cfg = { .seed = seed, .loss_ppm = 100000 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	unsigned received, lost;
	fault_over_loop(&cfg, &f, &b);
	received = pump(f, b, 0, 10000, NULL, 0);
	skiff_fault_stats(f, &st);
	lost = 10000 - received;
	assert_int_equal(st.lost, lost);
	assert_int_equal(st.passed, received);
	assert_int_equal(pool_avail(skiff_dev_pool(f)), 4096);
	skiff_dev_close(f);
	skiff_dev_close(b);
	return lost;
}

static void test_fault_loss_rate_deterministic(void **state)
{
	unsigned first = run_loss(42);
	(void)state;
	assert_in_range(first, 800, 1200);
	assert_int_equal(run_loss(42), first);
	assert_in_range(run_loss(7), 800, 1200);
}

static void test_fault_mirrors_inner(void **state)
{
	struct skiff_fault_config cfg = { .seed = 1, .corrupt_ppm = 1 };
	struct skiff_fault_config bad = { .loss_ppm = 1000001 };
	struct skiff_loop_config lc = { .caps = SKIFF_DEV_CAP_TX_L4_CSUM | SKIFF_DEV_CAP_RX_L4_CSUM, .mtu = 1400 };
	struct skiff_dev *a, *b, *f;
	(void)state;
	assert_int_equal(skiff_loop_pair(&lc, &a, &b), 0);
	assert_int_equal(skiff_fault_wrap(a, &bad, &f), -EINVAL);
	assert_int_equal(skiff_fault_wrap(NULL, &cfg, &f), -EINVAL);
	assert_int_equal(skiff_fault_wrap(a, &cfg, &f), 0);
	assert_string_equal(f->name, "fault(loop0)");
	assert_memory_equal(f->mac, a->mac, 6);
	assert_int_equal(f->mtu, 1400);
	/* corruption must not be hidden by a checksum the inner dev fills later */
	assert_int_equal(f->caps, SKIFF_DEV_CAP_RX_L4_CSUM);
	assert_ptr_equal(skiff_dev_pool(f), skiff_dev_pool(a));
	assert_int_equal(skiff_dev_wakeup_fd(f), skiff_dev_wakeup_fd(a));
	assert_true(skiff_dev_next_event(f) == UINT64_MAX);
	skiff_dev_close(f);
	skiff_dev_close(b);
}

static void test_fault_duplicates(void **state)
{
	struct skiff_fault_config cfg = { .seed = 3, .dup_ppm = 1000000 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	uint32_t seqs[200];
	(void)state;
	fault_over_loop(&cfg, &f, &b);
	assert_int_equal(pump(f, b, 0, 50, seqs, 200), 100);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(seqs[i], i / 2);
	skiff_fault_stats(f, &st);
	assert_int_equal(st.duplicated, 50);
	assert_int_equal(st.passed, 100);
	assert_int_equal(pool_avail(skiff_dev_pool(f)), 4096);
	skiff_dev_close(f);
	skiff_dev_close(b);

	/* A partial rate duplicates some frames only. */
	cfg.dup_ppm = 250000;
	fault_over_loop(&cfg, &f, &b);
	assert_in_range(pump(f, b, 0, 1000, NULL, 0), 1150, 1350);
	skiff_fault_stats(f, &st);
	assert_int_equal(st.passed, 1000 + st.duplicated);
	skiff_dev_close(f);
	skiff_dev_close(b);
}

static unsigned bits_differing(const uint8_t *x, const uint8_t *y, size_t len)
{
	unsigned bits = 0;
	for (size_t i = 0; i < len; i++)
		bits += (unsigned)__builtin_popcount((unsigned)(x[i] ^ y[i]));
	return bits;
}

static void test_fault_corrupts_one_bit(void **state)
{
	struct skiff_fault_config cfg = { .seed = 11, .corrupt_ppm = 1000000 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	struct skiff_pkt *pkts[BURST];
	uint8_t ref[FRAME_MAX];
	(void)state;
	fault_over_loop(&cfg, &f, &b);
	for (uint32_t r = 0; r < 8; r++) {
		make_burst(f, pkts, BURST, r * BURST);
		assert_int_equal(skiff_dev_tx(f, pkts, BURST, 0), BURST);
		assert_int_equal(skiff_dev_rx(b, pkts, BURST, 0), BURST);
		for (uint32_t i = 0; i < BURST; i++) {
			size_t len = build_frame(ref, r * BURST + i);
			assert_int_equal(pkts[i]->len, len);
			assert_int_equal(bits_differing(skiff_pkt_data(pkts[i]), ref, len), 1);
		}
		skiff_pkt_free_burst(pkts, BURST);
	}
	skiff_fault_stats(f, &st);
	assert_int_equal(st.corrupted, 8 * BURST);
	skiff_dev_close(f);
	skiff_dev_close(b);
}

/* Every seq in [0, want) appears exactly once among seqs[0..n). */
static bool all_first_seen(const uint32_t *seqs, unsigned n, unsigned want)
{
	unsigned hits = 0;
	for (unsigned i = 0; i < n; i++) {
		if (seqs[i] >= want)
			continue;
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(seqs[j], seqs[i]); /* no duplicates */
		hits++;
	}
	return hits == want;
}

static void test_fault_reorders_without_loss(void **state)
{
	struct skiff_fault_config cfg = { .seed = 5, .reorder_ppm = 200000 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	static uint32_t seqs[1100];
	unsigned got, inversions = 0, flush = 0;
	(void)state;
	fault_over_loop(&cfg, &f, &b);
	got = pump(f, b, 0, 1000, seqs, 1100);
	/* A reordered frame waits for a successor: the last one may need a flush frame. */
	while (!all_first_seen(seqs, got, 1000) && flush < 10) {
		got += pump(f, b, 5000 + flush, 1, seqs + got, 1100 - got);
		flush++;
	}
	assert_true(all_first_seen(seqs, got, 1000));
	assert_true(flush <= 1);
	for (unsigned i = 0; i + 1 < got; i++)
		inversions += seqs[i] > seqs[i + 1];
	skiff_fault_stats(f, &st);
	assert_int_equal(st.lost + st.held_drops, 0);
	assert_in_range(st.reordered, 100, 250);
	assert_int_equal(inversions, st.reordered); /* each reorder is one adjacent swap */
	skiff_dev_close(f);
	skiff_dev_close(b);
}

static void test_fault_delay(void **state)
{
	struct skiff_fault_config cfg = { .seed = 9, .delay_ns = 1000 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	struct skiff_pkt *pkts[BURST];
	uint32_t seqs[BURST];
	(void)state;
	fault_over_loop(&cfg, &f, &b);
	make_burst(f, pkts, 5, 0);
	assert_int_equal(skiff_dev_tx(f, pkts, 5, 100), 5);
	assert_int_equal(skiff_dev_rx(b, pkts, BURST, 100), 0);
	assert_int_equal(skiff_dev_next_event(f), 1100);
	assert_int_equal(skiff_dev_rx(f, pkts, BURST, 1099), 0);
	assert_int_equal(skiff_dev_rx(b, pkts, BURST, 1099), 0);
	assert_false(fd_readable(skiff_dev_wakeup_fd(b)));
	/* a later frame is due later */
	make_burst(f, pkts, 1, 5);
	assert_int_equal(skiff_dev_tx(f, pkts, 1, 500), 1);
	assert_int_equal(skiff_dev_next_event(f), 1100);
	assert_int_equal(skiff_dev_rx(f, pkts, BURST, 1100), 0); /* releases the first five */
	assert_true(fd_readable(skiff_dev_wakeup_fd(b)));
	assert_int_equal(drain_seqs(b, seqs, BURST, 1100), 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(seqs[i], i);
	assert_int_equal(skiff_dev_next_event(f), 1500);
	make_burst(f, pkts, 1, 6);
	assert_int_equal(skiff_dev_tx(f, pkts, 1, 1600), 1); /* tx also releases what is due */
	assert_int_equal(drain_seqs(b, seqs, BURST, 1600), 1);
	assert_int_equal(seqs[0], 5);
	assert_int_equal(skiff_dev_next_event(f), 2600);
	skiff_fault_stats(f, &st);
	assert_int_equal(st.delayed, 7);
	assert_int_equal(st.passed, 6);
	skiff_dev_close(f); /* frees the held frame */
	skiff_dev_close(b);
}

static void test_fault_jitter_and_overflow(void **state)
{
	struct skiff_fault_config cfg = { .seed = 13, .jitter_ns = 500 };
	struct skiff_fault_stats st;
	struct skiff_dev *f, *b;
	struct skiff_pkt *pkts[BURST];
	bool seen[20] = { false };
	uint32_t seqs[BURST];
	uint64_t ev;
	(void)state;
	fault_over_loop(&cfg, &f, &b);
	make_burst(f, pkts, 20, 0);
	assert_int_equal(skiff_dev_tx(f, pkts, 20, 1000), 20);
	ev = skiff_dev_next_event(f);
	assert_true(ev >= 1000 && ev <= 1500);
	assert_int_equal(skiff_dev_rx(f, pkts, BURST, 1500), 0);
	assert_int_equal(drain_seqs(b, seqs, BURST, 1500), 20);
	for (unsigned i = 0; i < 20; i++) {
		assert_false(seen[seqs[i]]);
		seen[seqs[i]] = true;
	}
	assert_true(skiff_dev_next_event(f) == UINT64_MAX);
	skiff_dev_close(f);
	skiff_dev_close(b);

	struct skiff_fault_config small = { .seed = 13, .delay_ns = 1000, .max_held = 4 };
	fault_over_loop(&small, &f, &b);
	make_burst(f, pkts, 6, 0);
	assert_int_equal(skiff_dev_tx(f, pkts, 6, 0), 6);
	skiff_fault_stats(f, &st);
	assert_int_equal(st.held_drops, 2);
	assert_int_equal(skiff_dev_rx(f, pkts, BURST, 1000), 0);
	assert_int_equal(drain_seqs(b, seqs, BURST, 1000), 4);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(seqs[i], i);
	assert_int_equal(pool_avail(skiff_dev_pool(f)), 4096);
	skiff_dev_close(f);
	skiff_dev_close(b);
}

static void test_fault_backpressure_and_close(void **state)
{
	struct skiff_fault_config cfg = { .seed = 1 };
	struct skiff_fault_stats st;
	struct stub_dev stub;
	struct skiff_dev *f;
	struct skiff_pkt *pkts[8];
	(void)state;
	stub_init(&stub, 2);
	assert_int_equal(skiff_fault_wrap(&stub.dev, &cfg, &f), 0);
	make_burst(f, pkts, 5, 0);
	assert_int_equal(skiff_dev_tx(f, pkts, 5, 100), 5); /* the wrapper keeps the rest */
	skiff_fault_stats(f, &st);
	assert_int_equal(st.passed, 2);
	assert_true(skiff_dev_next_event(f) <= 100); /* retry is due now */
	stub.budget = 10;
	assert_int_equal(skiff_dev_rx(f, pkts, 8, 200), 0);
	skiff_fault_stats(f, &st);
	assert_int_equal(st.passed, 5);
	assert_int_equal(stub.nsent, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(stub.seqs[i], i);
	stub.budget = 0;
	make_burst(f, pkts, 3, 10);
	assert_int_equal(skiff_dev_tx(f, pkts, 3, 300), 3);
	assert_int_equal(skiff_mempool_avail(stub.mp), 253);
	skiff_dev_close(f);
	assert_true(stub.closed);
	assert_int_equal(skiff_mempool_avail(stub.mp), 256); /* held frames freed */
	skiff_mempool_destroy(stub.mp);
}

/* ---- pcap ------------------------------------------------------------------- */

struct capture {
	uint8_t *buf;
	size_t len;
};

static struct capture read_file(const char *path)
{
	struct capture c = { 0 };
	FILE *fp = fopen(path, "rb");
	long sz;
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	sz = ftell(fp);
	assert_true(sz >= 24);
	rewind(fp);
	c.buf = malloc((size_t)sz);
	assert_non_null(c.buf);
	assert_int_equal(fread(c.buf, 1, (size_t)sz, fp), (size_t)sz);
	c.len = (size_t)sz;
	fclose(fp);
	return c;
}

static uint32_t host32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t host16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static void assert_global_header(const struct capture *c)
{
	assert_int_equal(host32(c->buf), 0xa1b23c4du);
	assert_int_equal(host16(c->buf + 4), 2);
	assert_int_equal(host16(c->buf + 6), 4);
	assert_int_equal(host32(c->buf + 8), 0);
	assert_int_equal(host32(c->buf + 12), 0);
	assert_int_equal(host32(c->buf + 16), 65535);
	assert_int_equal(host32(c->buf + 20), 1);
}

/* Check the record at *off holds frame `seq` stamped `ts`; advance *off. */
static void assert_record(const struct capture *c, size_t *off, uint32_t seq, uint64_t ts)
{
	uint8_t ref[FRAME_MAX];
	size_t len = build_frame(ref, seq);
	const uint8_t *r = c->buf + *off;
	assert_true(*off + 16 + len <= c->len);
	assert_int_equal(host32(r), ts / 1000000000u);
	assert_int_equal(host32(r + 4), ts % 1000000000u);
	assert_int_equal(host32(r + 8), len);
	assert_int_equal(host32(r + 12), len);
	assert_memory_equal(r + 16, ref, len);
	*off += 16 + len;
}

static void make_capture_path(char *dir, size_t dsz, char *path, size_t psz)
{
	snprintf(dir, dsz, "/tmp/skiff-test-drivers-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, psz, "%s/cap.pcap", dir);
}

static void remove_capture(const char *dir, const char *path)
{
	unlink(path);
	rmdir(dir);
}

/* Number of lines a shell command prints, or -1 if it failed. */
static int command_lines(const char *cmd)
{
	char line[512];
	int lines = 0;
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p))
		lines++;
	return pclose(p) == 0 ? lines : -1;
}

static void tshark_check(const char *path, int frames)
{
	char cmd[512];
	if (access(TSHARK, X_OK) != 0) {
		print_message("tshark not found at " TSHARK ": skipping the reader check\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), TSHARK " -r '%s' >/dev/null 2>&1", path);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), TSHARK " -r '%s' -T fields -e frame.number 2>/dev/null", path);
	assert_int_equal(command_lines(cmd), frames);
	snprintf(cmd, sizeof(cmd), TSHARK " -r '%s' -Y '_ws.malformed || _ws.expert.severity >= error' 2>/dev/null",
		 path);
	assert_int_equal(command_lines(cmd), 0);
}

static void test_pcap_records_rx_and_tx(void **state)
{
	const uint64_t t_tx = 1500000123ull, t_rx = 2000000007ull;
	char dir[64], path[128];
	struct skiff_dev *a, *b, *p;
	struct skiff_pkt *pkts[BURST];
	struct capture c;
	size_t off = 24;
	(void)state;
	make_capture_path(dir, sizeof(dir), path, sizeof(path));
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	assert_int_equal(skiff_pcap_wrap(a, path, &p), 0);
	assert_string_equal(p->name, "pcap(loop0)");
	assert_memory_equal(p->mac, a->mac, 6);
	assert_ptr_equal(skiff_dev_pool(p), skiff_dev_pool(a));
	assert_int_equal(skiff_dev_wakeup_fd(p), skiff_dev_wakeup_fd(a));

	make_burst(p, pkts, 3, 0);
	assert_int_equal(skiff_dev_tx(p, pkts, 3, t_tx), 3);
	assert_int_equal(drain_seqs(b, NULL, 0, t_tx), 3);
	make_burst(b, pkts, 2, 10);
	assert_int_equal(skiff_dev_tx(b, pkts, 2, t_rx), 2);
	assert_int_equal(skiff_dev_rx(p, pkts, BURST, t_rx), 2);
	skiff_pkt_free_burst(pkts, 2);
	skiff_dev_close(p); /* flushes, closes a */
	skiff_dev_close(b);

	c = read_file(path);
	assert_global_header(&c);
	for (uint32_t i = 0; i < 3; i++)
		assert_record(&c, &off, i, t_tx);
	for (uint32_t i = 0; i < 2; i++)
		assert_record(&c, &off, 10 + i, t_rx);
	assert_int_equal(off, c.len);
	free(c.buf);
	tshark_check(path, 5);
	remove_capture(dir, path);
}

static void test_pcap_tx_records_each_transmission_once(void **state)
{
	char dir[64], path[128];
	struct stub_dev stub;
	struct skiff_dev *p;
	struct skiff_pkt *pkts[150];
	struct capture c;
	size_t off = 24;
	unsigned done = 0;
	(void)state;
	make_capture_path(dir, sizeof(dir), path, sizeof(path));
	stub_init(&stub, 2);
	assert_int_equal(skiff_pcap_wrap(&stub.dev, path, &p), 0);
	make_burst(p, pkts, 5, 0);
	assert_int_equal(skiff_dev_tx(p, pkts, 5, 1000), 2);
	stub.budget = 10;
	assert_int_equal(skiff_dev_tx(p, pkts + 2, 3, 2000), 3); /* the caller retries the rest */
	/* more than one internal chunk, refused part-way through the second */
	make_burst(p, pkts, 150, 100);
	stub.budget = 100;
	while (done < 150) {
		unsigned k = skiff_dev_tx(p, pkts + done, 150 - done, 3000);
		assert_int_equal(k, done == 0 ? 100 : 50);
		done += k;
		stub.budget = 1000;
	}
	assert_int_equal(stub.nsent, 155);
	skiff_dev_close(p);
	assert_true(stub.closed);
	assert_int_equal(skiff_mempool_avail(stub.mp), 256);
	skiff_mempool_destroy(stub.mp);

	c = read_file(path);
	assert_global_header(&c);
	assert_record(&c, &off, 0, 1000);
	assert_record(&c, &off, 1, 1000);
	for (uint32_t i = 2; i < 5; i++)
		assert_record(&c, &off, i, 2000);
	for (uint32_t i = 0; i < 150; i++)
		assert_record(&c, &off, 100 + i, 3000);
	assert_int_equal(off, c.len);
	free(c.buf);
	tshark_check(path, 155);
	remove_capture(dir, path);
}

static void test_pcap_open_failure(void **state)
{
	struct skiff_dev *a, *b, *p = NULL;
	(void)state;
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	assert_int_equal(skiff_pcap_wrap(a, "/nonexistent-skiff-dir/x.pcap", &p), -ENOENT);
	assert_null(p);
	assert_int_equal(skiff_pcap_wrap(a, NULL, &p), -EINVAL);
	skiff_dev_close(a); /* still the caller's */
	skiff_dev_close(b);
}

static void test_stack_of_wrappers(void **state)
{
	struct skiff_fault_config cfg = { .seed = 2, .loss_ppm = 500000 };
	char dir[64], path[128];
	struct skiff_dev *a, *b, *f, *p;
	struct skiff_fault_stats st;
	struct capture c;
	size_t off = 24;
	unsigned received, records = 0;
	(void)state;
	make_capture_path(dir, sizeof(dir), path, sizeof(path));
	assert_int_equal(skiff_loop_pair(NULL, &a, &b), 0);
	assert_int_equal(skiff_fault_wrap(a, &cfg, &f), 0);
	assert_int_equal(skiff_pcap_wrap(f, path, &p), 0);
	assert_string_equal(p->name, "pcap(fault(loop0))");
	received = pump(p, b, 0, 64, NULL, 0);
	skiff_fault_stats(f, &st);
	assert_int_equal(received + st.lost, 64);
	skiff_dev_close(p); /* closes f, then a */
	skiff_dev_close(b);
	c = read_file(path);
	while (off < c.len) { /* the capture is above the fault: it sees every frame */
		off += 16 + host32(c.buf + off + 8);
		records++;
	}
	assert_int_equal(records, 64);
	free(c.buf);
	remove_capture(dir, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_delivers_both_ways),
		cmocka_unit_test(test_loop_full_size_frame),
		cmocka_unit_test(test_loop_ring_full_drops),
		cmocka_unit_test(test_loop_frames_return_to_sender_pool),
		cmocka_unit_test(test_loop_peer_frames_outlive_sender_close),
		cmocka_unit_test(test_loop_wakeup_fd),
		cmocka_unit_test(test_loop_invalid_config),
		cmocka_unit_test(test_loop_checksum_offload),
		cmocka_unit_test(test_fault_loss_rate_deterministic),
		cmocka_unit_test(test_fault_mirrors_inner),
		cmocka_unit_test(test_fault_duplicates),
		cmocka_unit_test(test_fault_corrupts_one_bit),
		cmocka_unit_test(test_fault_reorders_without_loss),
		cmocka_unit_test(test_fault_delay),
		cmocka_unit_test(test_fault_jitter_and_overflow),
		cmocka_unit_test(test_fault_backpressure_and_close),
		cmocka_unit_test(test_pcap_records_rx_and_tx),
		cmocka_unit_test(test_pcap_tx_records_each_transmission_once),
		cmocka_unit_test(test_pcap_open_failure),
		cmocka_unit_test(test_stack_of_wrappers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
