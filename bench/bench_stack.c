/* bench_stack.c — see bench_stack.h. Plain C11 so it can include the dataplane
 * headers; the C++ benchmarks time calls into it.
 *
 * bench_rx: create → mempool, stack, interface, 198.18.0.1/24, socket *:5000, then
 *   every pool buffer is pre-filled with the test frame, so a run only sets each
 *   frame's length (a driver hands over frames in place; no copy is timed).
 *   run → pool alloc → skiff_stack_input (one burst) → skiff_udp_recv × batch.
 * bench_pair: create → loop pair, two stacks, sockets, one warm-up datagram so A
 *   has resolved B (ARP) before timing. run → skiff_udp_send × batch on A →
 *   pump (A tx_drain → loop tx_burst → loop rx_burst on B → B input) → recv on B.
 * All loops are bounded by the batch size or a fixed number of pump rounds.
 */
#include "bench_stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "dataplane/csum.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"
#include "drivers/driver.h"

#define IP_A 0xc6120001u /* 198.18.0.1 */
#define IP_B 0xc6120002u /* 198.18.0.2 */
#define PORT_RX 5000
#define RX_NBUFS 256u
#define RX_BUF_SIZE (2048u + SKIFF_HEADROOM)
#define PUMP_ROUNDS 8u
#define T0_NS 1000000000ull

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0x02 };

size_t bench_udp4_frame(uint8_t *buf, size_t payload)
{
	struct eth_repr e;
	struct ip4_repr ip;
	struct udp_repr u;
	uint8_t *uh = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	uint16_t c;

	memcpy(e.dst, mac_a, 6);
	memcpy(e.src, mac_b, 6);
	e.type = ETH_TYPE_IP4;
	e.has_vlan = false;
	e.vlan_tci = 0;
	e.hdr_len = ETH_HDR_LEN;
	eth_emit(buf, &e);
	memset(&ip, 0, sizeof(ip));
	ip.total_len = (uint16_t)(IP4_HDR_LEN + UDP_HDR_LEN + payload);
	ip.id = 0x1234;
	ip.ttl = 64;
	ip.proto = IPPROTO_UDP_;
	ip.src = IP_B;
	ip.dst = IP_A;
	ip4_emit(buf + ETH_HDR_LEN, &ip);
	u.sport = 1234;
	u.dport = PORT_RX;
	u.len = (uint16_t)(UDP_HDR_LEN + payload);
	u.csum = 0;
	udp_emit(uh, &u);
	for (size_t i = 0; i < payload; i++)
		uh[UDP_HDR_LEN + i] = (uint8_t)(i * 7 + 1);
	c = csum_fold(csum_partial(uh, u.len, csum_pseudo4(IP_B, IP_A, IPPROTO_UDP_, u.len)));
	st16(uh + 6, c ? c : 0xffff);
	return ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN + payload;
}

/* ---- one stack, frames injected directly ---------------------------------- */

struct bench_rx {
	struct skiff_mempool *mp;
	struct skiff_stack *st;
	int ifindex;
	struct skiff_udp_sock *sk;
	uint32_t frame_len, flags;
	uint64_t now;
	uint8_t rbuf[2048];
};

static void drain_tx_free(struct skiff_stack *st, int ifindex)
{
	struct skiff_pkt *p[32];
	unsigned n;
	for (unsigned i = 0; i < 64 && (n = skiff_stack_tx_drain(st, ifindex, p, 32)) > 0; i++)
		skiff_pkt_free_burst(p, n);
}

void bench_rx_destroy(struct bench_rx *b)
{
	if (!b)
		return;
	skiff_stack_destroy(b->st);
	skiff_mempool_destroy(b->mp);
	free(b);
}

struct bench_rx *bench_rx_create(size_t frame_len, int csum_offload)
{
	struct skiff_stack_config cfg;
	struct skiff_addr any = skiff_addr_v4(0);
	struct skiff_pkt *all[RX_NBUFS];
	uint8_t frame[2048];
	struct bench_rx *b;
	unsigned n;
	int err;

	if (frame_len < ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN || frame_len > 1514)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->now = T0_NS;
	b->frame_len = (uint32_t)bench_udp4_frame(frame, frame_len - ETH_HDR_LEN - IP4_HDR_LEN - UDP_HDR_LEN);
	b->flags = csum_offload ? (SKIFF_PKT_RX_IP_CSUM_GOOD | SKIFF_PKT_RX_L4_CSUM_GOOD) : 0;
	skiff_stack_config_defaults(&cfg);
	if (skiff_mempool_create(RX_NBUFS, RX_BUF_SIZE, &b->mp) || skiff_stack_create(&cfg, b->now, &b->st))
		goto fail;
	b->ifindex = skiff_stack_add_iface(b->st, "bench0", mac_a, 1500, 0, skiff_mempool_pool(b->mp));
	if (b->ifindex < 0 || skiff_stack_add_addr4(b->st, b->ifindex, IP_A, 24, b->now))
		goto fail;
	drain_tx_free(b->st, b->ifindex); /* the gratuitous ARP */
	b->sk = skiff_udp_open(b->st, SKIFF_AF_INET, &err);
	if (!b->sk || skiff_udp_bind(b->st, b->sk, &any, PORT_RX))
		goto fail;
	/* Pre-fill every buffer: the stack never writes into a received UDP frame. */
	n = skiff_pool_alloc(skiff_mempool_pool(b->mp), all, RX_NBUFS);
	for (unsigned i = 0; i < n; i++)
		memcpy(skiff_pkt_data(all[i]), frame, b->frame_len);
	skiff_pkt_free_burst(all, n);
	if (n != RX_NBUFS || bench_rx_run(b, 1) != 1)
		goto fail;
	return b;
fail:
	bench_rx_destroy(b);
	return NULL;
}

unsigned bench_rx_run(struct bench_rx *b, unsigned batch)
{
	struct skiff_pkt *pkts[BENCH_MAX_BATCH];
	struct iovec iov = { b->rbuf, sizeof(b->rbuf) };
	unsigned n, got = 0;

	if (batch > BENCH_MAX_BATCH)
		batch = BENCH_MAX_BATCH;
	n = skiff_pool_alloc(skiff_mempool_pool(b->mp), pkts, batch);
	for (unsigned i = 0; i < n; i++) {
		pkts[i]->len = b->frame_len;
		pkts[i]->flags = b->flags;
	}
	skiff_stack_input(b->st, b->ifindex, pkts, n, b->now);
	for (unsigned i = 0; i < n; i++) {
		if (skiff_udp_recv(b->st, b->sk, &iov, 1, 0, NULL, NULL, NULL) < 0)
			break;
		got++;
	}
	while (skiff_udp_ready_pop(b->st))
		;
	return got;
}

/* ---- two stacks over the loop driver ---------------------------------------- */

struct bench_pair {
	struct skiff_dev *da, *db;
	struct skiff_stack *a, *b;
	int ia, ib;
	struct skiff_udp_sock *tx, *rx;
	size_t payload;
	uint64_t now;
	uint8_t pbuf[1472];
	uint8_t rbuf[2048];
};

/* Move everything queued on st's interface through dev to the peer stack. */
static void move(struct skiff_stack *from, int ifrom, struct skiff_dev *dfrom, struct skiff_dev *dto,
		 struct skiff_stack *to, int ito, uint64_t now)
{
	struct skiff_pkt *p[32];
	unsigned n;
	for (unsigned r = 0; r < BENCH_MAX_BATCH / 32 + 1; r++) {
		n = skiff_stack_tx_drain(from, ifrom, p, 32);
		if (n == 0)
			break;
		skiff_dev_tx(dfrom, p, n, now); /* loop accepts all (drops are freed and counted) */
	}
	for (unsigned r = 0; r < BENCH_MAX_BATCH / 32 + 1; r++) {
		n = skiff_dev_rx(dto, p, 32, now);
		if (n == 0)
			break;
		skiff_stack_input(to, ito, p, n, now);
	}
}

static unsigned recv_all(struct bench_pair *b, unsigned max)
{
	struct iovec iov = { b->rbuf, sizeof(b->rbuf) };
	unsigned got = 0;
	while (got < max && skiff_udp_recv(b->b, b->rx, &iov, 1, 0, NULL, NULL, NULL) >= 0)
		got++;
	while (skiff_udp_ready_pop(b->b))
		;
	return got;
}

void bench_pair_destroy(struct bench_pair *b)
{
	if (!b)
		return;
	/* stacks first: they hold frames of the loop pools */
	skiff_stack_destroy(b->a);
	skiff_stack_destroy(b->b);
	skiff_dev_close(b->da);
	skiff_dev_close(b->db);
	free(b);
}

struct bench_pair *bench_pair_create(size_t payload)
{
	struct skiff_stack_config cfg;
	struct skiff_addr any = skiff_addr_v4(0), dst = skiff_addr_v4(IP_B);
	struct iovec iov;
	struct bench_pair *b;
	unsigned got = 0;
	int err;

	if (payload == 0 || payload > sizeof(b->pbuf))
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->payload = payload;
	b->now = T0_NS;
	for (size_t i = 0; i < payload; i++)
		b->pbuf[i] = (uint8_t)(i * 13 + 5);
	skiff_stack_config_defaults(&cfg);
	if (skiff_loop_pair(NULL, &b->da, &b->db) || skiff_stack_create(&cfg, b->now, &b->a) ||
	    skiff_stack_create(&cfg, b->now, &b->b))
		goto fail;
	b->ia = skiff_stack_add_iface(b->a, "loopA", b->da->mac, b->da->mtu, b->da->caps, skiff_dev_pool(b->da));
	b->ib = skiff_stack_add_iface(b->b, "loopB", b->db->mac, b->db->mtu, b->db->caps, skiff_dev_pool(b->db));
	if (b->ia < 0 || b->ib < 0 || skiff_stack_add_addr4(b->a, b->ia, IP_A, 24, b->now) ||
	    skiff_stack_add_addr4(b->b, b->ib, IP_B, 24, b->now))
		goto fail;
	b->rx = skiff_udp_open(b->b, SKIFF_AF_INET, &err);
	b->tx = skiff_udp_open(b->a, SKIFF_AF_INET, &err);
	if (!b->rx || !b->tx || skiff_udp_bind(b->b, b->rx, &any, PORT_RX) ||
	    skiff_udp_connect(b->a, b->tx, &dst, PORT_RX, b->now))
		goto fail;
	/* Warm-up: the first datagram waits for ARP; pump both ways until it lands. */
	iov.iov_base = b->pbuf;
	iov.iov_len = payload;
	if (skiff_udp_send(b->a, b->tx, &iov, 1, NULL, 0, 0, b->now) != (long)payload)
		goto fail;
	for (unsigned r = 0; r < PUMP_ROUNDS && got == 0; r++) {
		move(b->a, b->ia, b->da, b->db, b->b, b->ib, b->now);
		move(b->b, b->ib, b->db, b->da, b->a, b->ia, b->now);
		got = recv_all(b, 1);
	}
	if (got != 1 || memcmp(b->rbuf, b->pbuf, payload) != 0)
		goto fail;
	return b;
fail:
	bench_pair_destroy(b);
	return NULL;
}

unsigned bench_pair_run(struct bench_pair *b, unsigned batch)
{
	struct iovec iov = { b->pbuf, b->payload };

	if (batch > BENCH_MAX_BATCH)
		batch = BENCH_MAX_BATCH;
	b->now += 1000; /* 1 µs per batch: neighbour entries stay REACHABLE for the whole run */
	for (unsigned i = 0; i < batch; i++)
		if (skiff_udp_send(b->a, b->tx, &iov, 1, NULL, 0, 0, b->now) < 0)
			break;
	move(b->a, b->ia, b->da, b->db, b->b, b->ib, b->now);
	return recv_all(b, batch);
}
