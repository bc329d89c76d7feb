/* fuzz_frame.c — libFuzzer target over the frame input path (eth → arp | ip4 →
 * reassembly → icmp | udp), with pool-accounting invariants checked after each input.
 *
 * Setup (once per instance, static — a fuzz target, not dataplane code): two stack
 * instances, each on its own mempool-backed interface "fuzz0" (MAC
 * 02:00:00:00:00:01, MTU 1500) holding 198.18.0.1/24, a default route via
 * 198.18.0.254, and three UDP sockets: two on *:5000 (SO_REUSEADDR+SO_REUSEPORT,
 * so unicast is spread and broadcasts are cloned; the second has the minimum
 * SO_RCVBUF) and one bound to *:5001 and connected to 198.18.0.2:6000.
 *   roomy: default limits, 4096 frames — long fragment trains complete.
 *   tight: small limits (8 reassembly slots, 16 fragments, 16 frames of reassembly
 *          memory, 16 neighbours, 4 held per neighbour, 64 tx slots, ARP replies
 *          burst 11) and 128 frames — eviction, table-full and out-of-buffer paths
 *          are reachable within one input.
 *
 * Per input:
 *   1. make sure 198.18.0.2 (02:00:00:00:00:02) is a REACHABLE neighbour: send one
 *      datagram on the connected socket and answer the ARP request it causes.
 *   2. byte 0 is the mode:
 *        bit 0     mark every frame SKIFF_PKT_RX_IP_CSUM_GOOD|SKIFF_PKT_RX_L4_CSUM_GOOD
 *                  (checksums skipped, so mutated frames reach deeper code)
 *        bit 1     the rest is several frames, each `len_hi len_lo bytes...`
 *                  (a short last frame takes what is left), at most FZ_MAX_FRAMES;
 *                  otherwise the rest is one frame
 *        bits 2-3  after input, advance the clock by 0 / 1 ms / 1 s / 60 s and poll
 *        bit 4     inject the frames one per skiff_stack_input call, 1 ms apart,
 *                  instead of one burst
 *        bit 5     use the tight instance instead of the roomy one
 *        bit 6     before input, rewrite the IPv4 header checksum and the ICMP/UDP
 *                  checksum of each unfragmented frame, so mutated frames pass the
 *                  stack's own verification (ICMP has no offload flag)
 *   3. drain tx (frames freed), drain the sockets with skiff_udp_recv (bounded),
 *      check: queues empty, what recv reports matches the queue, no datagram longer
 *      than IPv4 allows, and every pool frame is free, held by reassembly, or held
 *      for ARP resolution.
 *   4. advance the clock 120 s in 10 s steps (draining as in 3 after each), then
 *      check that nothing is held: skiff_reasm_usage() == 0, skiff_neigh_held() == 0,
 *      skiff_mempool_avail() == skiff_mempool_count(). Any violation: abort().
 * The clock only moves forward; an instance is rebuilt when it nears overflow.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/route.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_LOCAL_IP 0xc6120001u  /* 198.18.0.1 */
#define FZ_PEER_IP 0xc6120002u   /* 198.18.0.2 */
#define FZ_GW_IP 0xc61200feu     /* 198.18.0.254 */
#define FZ_PORT_BOUND 5000
#define FZ_PORT_CONN 5001
#define FZ_PEER_PORT 6000
#define FZ_BUF_SIZE (2048u + SKIFF_HEADROOM)
#define FZ_MAX_FRAMES 64u
#define FZ_DRAIN_MAX 8192u        /* bound on tx frames / datagrams drained per pass */
#define FZ_RELEASE_STEP_NS 10000000000ull
#define FZ_RELEASE_STEPS 12u     /* 120 s: ARP retries, reasm timeout, neighbour GC */
#define FZ_NOW_LIMIT (1ull << 62) /* rebuild the instance before the clock could wrap */

#define MODE_CSUM_GOOD 0x01u
#define MODE_SPLIT 0x02u
#define MODE_ADV_SHIFT 2
#define MODE_ONE_BY_ONE 0x10u
#define MODE_TIGHT 0x20u
#define MODE_FIX_CSUM 0x40u

static const uint8_t fz_local_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t fz_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint64_t fz_advance_ns[4] = { 0, 1000000ull, 1000000000ull, 60000000000ull };

struct fz_ctx {
	bool tight;
	struct skiff_stack *st;
	struct skiff_mempool *mp;
	int ifindex;
	struct skiff_udp_sock *socks[3]; /* *:5000, *:5000 (small rcvbuf), *:5001 connected */
	uint64_t now;
};

static struct fz_ctx fz_roomy = { .tight = false }, fz_tight = { .tight = true };
static uint8_t fz_rxbuf[65536];

#define FZ_CHECK(cond)                                                                          \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_frame: invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                                      \
			abort();                                                                \
		}                                                                               \
	} while (0)

static void drain_tx(struct fz_ctx *c)
{
	struct skiff_pkt *burst[32];
	for (unsigned i = 0; i < FZ_DRAIN_MAX / 32; i++) {
		unsigned n = skiff_stack_tx_drain(c->st, c->ifindex, burst, 32);
		if (n == 0)
			return;
		skiff_pkt_free_burst(burst, n);
	}
	FZ_CHECK(skiff_stack_iface(c->st, c->ifindex)->tx_count == 0);
}

/* Read everything queued on sk, checking what recv reports against the queue. */
static void drain_sock(struct fz_ctx *c, struct skiff_udp_sock *sk)
{
	for (unsigned i = 0; i < FZ_DRAIN_MAX; i++) {
		struct iovec iov = { fz_rxbuf, sizeof(fz_rxbuf) };
		struct skiff_addr src;
		uint16_t sport = 0;
		size_t dlen = 0, next = skiff_udp_next_len(sk);
		long n;

		if (sk->rq_head) {
			/* RFC 791: header + UDP header + payload fit the 16-bit total length */
			const struct skiff_pkt *h = sk->rq_head;
			size_t ihl = (size_t)(h->head[h->l3_off] & 0x0f) * 4;
			FZ_CHECK(h->l4_off >= h->l3_off && ihl == (size_t)(h->l4_off - h->l3_off));
			FZ_CHECK(ihl + UDP_HDR_LEN + next <= 65535);
		}
		if (i & 1) { /* every other datagram: peek first, then the real read must agree */
			n = skiff_udp_recv(c->st, sk, &iov, 1, SKIFF_MSG_PEEK, NULL, NULL, &dlen);
			if (n >= 0)
				FZ_CHECK((size_t)n == dlen && dlen == next);
		}
		n = skiff_udp_recv(c->st, sk, &iov, 1, 0, &src, &sport, &dlen);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			continue; /* a pending ICMP-reported error, taken and cleared */
		FZ_CHECK((size_t)n == dlen && dlen == next);
	}
	FZ_CHECK(sk->rq_head == NULL && sk->rq_tail == NULL && sk->rq_count == 0 && sk->rcv_bytes == 0);
}

static void drain_all(struct fz_ctx *c)
{
	drain_tx(c);
	for (unsigned i = 0; i < 3; i++)
		drain_sock(c, c->socks[i]);
	for (unsigned i = 0; i < 16 && skiff_udp_ready_pop(c->st); i++)
		;
}

static void advance(struct fz_ctx *c, uint64_t ns)
{
	c->now += ns;
	skiff_stack_poll(c->st, c->now);
}

/* Every frame of the pool is free, or held by reassembly, or held for ARP. */
static void check_accounting(struct fz_ctx *c)
{
	unsigned dgrams, bytes, held = skiff_neigh_held(c->st);
	unsigned avail = skiff_mempool_avail(c->mp), count = skiff_mempool_count(c->mp);

	skiff_reasm_usage(c->st, &dgrams, &bytes);
	FZ_CHECK(bytes % FZ_BUF_SIZE == 0); /* reasm counts whole frames (truesize = cap) */
	FZ_CHECK((dgrams == 0) == (bytes == 0));
	/* A held packet may be a chain of fragments, so it accounts for at least one frame. */
	if (held == 0)
		FZ_CHECK(avail + bytes / FZ_BUF_SIZE == count);
	else
		FZ_CHECK(avail + bytes / FZ_BUF_SIZE + held <= count);
}

static void check_released(struct fz_ctx *c)
{
	unsigned dgrams, bytes;
	skiff_reasm_usage(c->st, &dgrams, &bytes);
	FZ_CHECK(dgrams == 0 && bytes == 0);
	FZ_CHECK(skiff_neigh_held(c->st) == 0);
	FZ_CHECK(skiff_mempool_avail(c->mp) == skiff_mempool_count(c->mp));
}

/* Mode bit 6: make a frame's checksums right (IPv4 header; ICMP or UDP when the
 * frame is a whole datagram and the UDP checksum is not 0 = "none"). */
static void fix_csums(uint8_t *f, size_t len)
{
	size_t off = ETH_HDR_LEN, ihl, tot, l4len;
	uint16_t type;
	uint8_t *ip, *l4;

	if (len < ETH_HDR_LEN)
		return;
	type = ld16(f + 12);
	if (type == ETH_TYPE_VLAN) {
		if (len < ETH_VLAN_HDR_LEN)
			return;
		type = ld16(f + 16);
		off = ETH_VLAN_HDR_LEN;
	}
	if (type != ETH_TYPE_IP4 || len < off + IP4_HDR_LEN)
		return;
	ip = f + off;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < IP4_HDR_LEN || off + ihl > len)
		return;
	st16(ip + 10, 0);
	st16(ip + 10, csum_buf(ip, ihl));
	tot = ld16(ip + 2);
	if (tot < ihl || off + tot > len || (ld16(ip + 6) & (IP4_FLAG_MF | IP4_OFF_MASK)))
		return;
	l4 = ip + ihl;
	l4len = tot - ihl;
	if (ip[9] == IPPROTO_ICMP_ && l4len >= ICMP4_HDR_LEN) {
		st16(l4 + 2, 0);
		st16(l4 + 2, csum_buf(l4, l4len));
	} else if (ip[9] == IPPROTO_UDP_ && l4len >= UDP_HDR_LEN && ld16(l4 + 6) != 0) {
		uint16_t ulen = ld16(l4 + 4), c;
		if (ulen < UDP_HDR_LEN || ulen > l4len)
			return;
		st16(l4 + 6, 0);
		c = csum_fold(csum_partial(l4, ulen, csum_pseudo4(ld32(ip + 12), ld32(ip + 16), IPPROTO_UDP_, ulen)));
		st16(l4 + 6, c ? c : 0xffff);
	}
}

/* A pool frame holding a copy of the bytes; NULL when the pool is empty (tight). */
static struct skiff_pkt *frame_copy(struct fz_ctx *c, const uint8_t *frame, size_t len, uint32_t flags,
				     bool fix)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(c->mp));
	if (!p)
		return NULL;
	if (len > skiff_pkt_tailroom(p))
		len = skiff_pkt_tailroom(p);
	if (len)
		memcpy(skiff_pkt_put(p, (uint32_t)len), frame, len);
	if (fix)
		fix_csums(skiff_pkt_data(p), p->len);
	p->flags = flags;
	return p;
}

static void teardown(struct fz_ctx *c)
{
	bool tight = c->tight;
	skiff_stack_destroy(c->st);
	skiff_mempool_destroy(c->mp);
	memset(c, 0, sizeof(*c));
	c->tight = tight;
}

static void setup(struct fz_ctx *c)
{
	struct skiff_stack_config cfg;
	struct skiff_addr any = skiff_addr_v4(0), peer = skiff_addr_v4(FZ_PEER_IP);
	unsigned nbufs = 4096;
	int err;

	c->now = 1000000000ull;
	skiff_stack_config_defaults(&cfg);
	if (c->tight) {
		nbufs = 128;
		cfg.neigh_entries = 16;
		cfg.neigh_hold_per_entry = 4;
		cfg.neigh_hold_total = 12;
		cfg.arp_reply_rate = 100;
		cfg.reasm_slots = 8;
		cfg.reasm_max_frags = 16;
		cfg.reasm_mem = 16 * FZ_BUF_SIZE;
		cfg.txq = 64;
		cfg.udp_sockets = 4;
	}
	FZ_CHECK(skiff_mempool_create(nbufs, FZ_BUF_SIZE, &c->mp) == 0);
	FZ_CHECK(skiff_stack_create(&cfg, c->now, &c->st) == 0);
	c->ifindex = skiff_stack_add_iface(c->st, "fuzz0", fz_local_mac, 1500, 0, skiff_mempool_pool(c->mp));
	FZ_CHECK(c->ifindex >= 0);
	FZ_CHECK(skiff_stack_add_addr4(c->st, c->ifindex, FZ_LOCAL_IP, 24, c->now) == 0);
	FZ_CHECK(skiff_route_add4(c->st, 0, 0, FZ_GW_IP, c->ifindex, 0) == 0);
	for (unsigned i = 0; i < 2; i++) {
		struct skiff_udp_sock *sk = skiff_udp_open(c->st, SKIFF_AF_INET, &err);
		FZ_CHECK(sk != NULL);
		sk->reuseaddr = sk->reuseport = true; /* as setsockopt would */
		FZ_CHECK(skiff_udp_bind(c->st, sk, &any, FZ_PORT_BOUND) == 0);
		c->socks[i] = sk;
	}
	FZ_CHECK(skiff_udp_set_rcvbuf(c->st, c->socks[1], 0) == 0);
	c->socks[2] = skiff_udp_open(c->st, SKIFF_AF_INET, &err);
	FZ_CHECK(c->socks[2] && skiff_udp_bind(c->st, c->socks[2], &any, FZ_PORT_CONN) == 0);
	FZ_CHECK(skiff_udp_connect(c->st, c->socks[2], &peer, FZ_PEER_PORT, c->now) == 0);
	drain_tx(c);
}

/* Leave the peer REACHABLE: a datagram to it starts resolution (or a probe), and
 * the peer's ARP reply confirms it. */
static void learn_peer(struct fz_ctx *c)
{
	static const uint8_t one = 0x42;
	struct iovec iov = { (void *)&one, 1 };
	struct arp_repr a;
	struct eth_repr e;
	uint8_t f[ETH_HDR_LEN + ARP_LEN];
	struct skiff_pkt *p;

	if (skiff_neigh_lookup4(c->st, c->ifindex, FZ_PEER_IP, NULL) == SKIFF_NEIGH_REACHABLE)
		return;
	FZ_CHECK(skiff_udp_send(c->st, c->socks[2], &iov, 1, NULL, 0, 0, c->now) == 1);
	memcpy(e.dst, fz_local_mac, 6);
	memcpy(e.src, fz_peer_mac, 6);
	e.type = ETH_TYPE_ARP;
	e.has_vlan = false;
	e.vlan_tci = 0;
	e.hdr_len = ETH_HDR_LEN;
	eth_emit(f, &e);
	a.op = ARP_OP_REPLY;
	memcpy(a.sha, fz_peer_mac, 6);
	a.spa = FZ_PEER_IP;
	memcpy(a.tha, fz_local_mac, 6);
	a.tpa = FZ_LOCAL_IP;
	arp_emit(f + ETH_HDR_LEN, &a);
	p = frame_copy(c, f, sizeof(f), 0, false);
	FZ_CHECK(p != NULL); /* everything was released at the end of the last input */
	skiff_stack_input(c->st, c->ifindex, &p, 1, c->now);
	drain_all(c);
	FZ_CHECK(skiff_neigh_lookup4(c->st, c->ifindex, FZ_PEER_IP, NULL) == SKIFF_NEIGH_REACHABLE);
	check_released(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_pkt *pkts[FZ_MAX_FRAMES];
	unsigned n = 0, mode;
	uint32_t flags;
	struct fz_ctx *c;
	bool fix;

	if (size < 1)
		return 0;
	mode = data[0];
	c = (mode & MODE_TIGHT) ? &fz_tight : &fz_roomy;
	if (c->st && c->now > FZ_NOW_LIMIT)
		teardown(c);
	if (!c->st)
		setup(c);
	learn_peer(c);

	flags = (mode & MODE_CSUM_GOOD) ? (SKIFF_PKT_RX_IP_CSUM_GOOD | SKIFF_PKT_RX_L4_CSUM_GOOD) : 0;
	fix = (mode & MODE_FIX_CSUM) != 0;
	data++;
	size--;
	/* Frames the pool cannot hold (tight instance) are not received, as a NIC would drop them. */
	if (mode & MODE_SPLIT) {
		while (size > 0 && n < FZ_MAX_FRAMES) {
			size_t len = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
			size_t hdr = size >= 2 ? 2 : size;
			struct skiff_pkt *p;
			data += hdr;
			size -= hdr;
			if (len > size)
				len = size;
			p = frame_copy(c, data, len, flags, fix);
			if (p)
				pkts[n++] = p;
			data += len;
			size -= len;
		}
	} else {
		struct skiff_pkt *p = frame_copy(c, data, size, flags, fix);
		if (p)
			pkts[n++] = p;
	}

	if (mode & MODE_ONE_BY_ONE) {
		for (unsigned i = 0; i < n; i++) {
			skiff_stack_input(c->st, c->ifindex, &pkts[i], 1, c->now);
			advance(c, 1000000ull);
		}
	} else {
		skiff_stack_input(c->st, c->ifindex, pkts, n, c->now);
	}
	advance(c, fz_advance_ns[(mode >> MODE_ADV_SHIFT) & 3]);
	drain_all(c);
	check_accounting(c);

	for (unsigned i = 0; i < FZ_RELEASE_STEPS; i++) {
		advance(c, FZ_RELEASE_STEP_NS);
		drain_all(c);
		check_accounting(c);
	}
	check_released(c);
	return 0;
}
