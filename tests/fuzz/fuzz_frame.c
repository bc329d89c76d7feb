/* fuzz_frame.c — libFuzzer target over the frame input path (eth → arp | ip4 →
 * reassembly → icmp | igmp | udp | tcp; eth → ip6 → extension headers →
 * reassembly → icmp6 (echo, errors, ND, MLD) | udp | tcp), with pool-accounting,
 * datagram and TCP-state invariants checked after each input.
 *
 * Setup (static — a fuzz target, not dataplane code): two stack instances, each
 * on its own mempool-backed interface "fuzz0" (MAC 02:00:00:00:00:01, MTU 1500)
 * holding 198.18.0.1/24, a default route via 198.18.0.254, and three UDP
 * sockets: two on *:5000 (SO_REUSEADDR+SO_REUSEPORT, so unicast is spread and
 * broadcasts are cloned; the second has the minimum SO_RCVBUF) and one bound to
 * *:5001 and connected to 198.18.0.2:6000. IPv6 is on (nd_dad_transmits 0, no
 * router solicitations): the RFC 7217 link-local, fe80::1/64 and 2001:2::1/64, a
 * default route via fe80::2, and two AF_INET6 UDP sockets: [::]:5002 (dual stack:
 * IPv4 arrives v4-mapped) and [::]:5003 connected to [2001:2::2]:6000. Groups
 * joined (IGMP/MLD engines): 239.1.1.1 and 232.1.1.1 from 198.18.0.2 only on the
 * first *:5000 socket, ff15::1 on [::]:5002.
 *   roomy: default limits, 4096 frames — long fragment trains complete.
 *   tight: small limits (8 reassembly slots, 16 fragments, 16 frames of reassembly
 *          memory, 16 neighbours, 4 held per neighbour, 64 tx slots, ARP replies
 *          burst 11, 9 TCBs (one for the IPv6 listener), TCP backlog 2) and 128
 *          frames — eviction, table-full, SYN-cookie and out-of-buffer paths are
 *          reachable within one input; it also accepts ICMPv6 redirects
 *          (nd_accept_redirects; the roomy one keeps the default, off).
 * An input that changes the configuration (st->route_gen moved: routes, path
 * MTUs, addresses; or the RA link parameters: MTU, hop limit, reachable and
 * retransmit times; or the multicast engines took IGMP or still have a timer
 * running) has its instance rebuilt before the next input, so every input
 * starts from the same configuration and a finding replays alone.
 *
 * Per input:
 *   1. make sure 198.18.0.2 (02:00:00:00:00:02) is a REACHABLE neighbour: send one
 *      datagram on the connected socket and answer the ARP request it causes;
 *      the same for 2001:2::2 (same MAC): a datagram on [::]:5003, answered by a
 *      solicited NA with Override and the target link-layer option.
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
 *        bit 6     before input, rewrite the IPv4 header checksum and the
 *                  ICMP/UDP/TCP checksum of each unfragmented frame, and for
 *                  IPv6 the ICMPv6/UDP/TCP checksum (pseudo-header of RFC 8200
 *                  8.1) of each unfragmented packet, the upper layer found by
 *                  the stack's own extension-header walk, so mutated frames pass
 *                  the stack's own verification
 *        bit 7     TCP mode (below)
 *   TCP mode: before input, a TCP world is built by driving real (IPv4)
 *   handshakes with fixed peer ports and ISNs: a listener on *:80 (backlog 16,
 *   tight 2) and, when the stack opens TCP over IPv6, one on [::]:80
 *   (IPV6_V6ONLY, same backlog; its connections are made by the input itself,
 *   selector bit 6); an
 *   ESTABLISHED connection from 198.18.0.2:7000 (MSS, SACK, timestamps, window
 *   scale 7) with 3000 bytes of ours in flight; a SYN-RECEIVED child from
 *   198.18.0.2:7001; and an active open to 198.18.0.2:7002 in SYN-SENT.
 *   The byte after the mode is the user byte: what the application does once
 *   the world is built — shutdown(SHUT_WR) (FIN: FIN-WAIT/CLOSING/TIME-WAIT
 *   paths), shutdown(SHUT_RD), TCP_NODELAY, TCP_CORK, minimum SO_RCVBUF
 *   (zero windows), keepalive with short timers, TCP_USER_TIMEOUT 5 s, 20000
 *   more bytes to send (USR_* below). Every frame then starts with a selector
 *   byte (consumed) that steers it:
 *        bits 0-2  target: 0 as is; 1 the listener (dport 80); 2 the established
 *                  4-tuple; 3 the SYN-RECEIVED one; 4 the SYN-SENT one; 5 the
 *                  listener, SEG.ACK an offset from the valid SYN cookie + 1 (so
 *                  the cookie path can complete); 6-7 a closed port. For 1-7
 *                  the Ethernet/IPv4 header is forced to
 *                  peer → us (version, protocol, addresses, no fragmentation,
 *                  total length clamped), and for 2-4 SEG.SEQ and SEG.ACK are
 *                  offsets from that connection's RCV.NXT and SND.UNA, so small
 *                  numbers land in (or near) the window
 *        bit 3     fix the IPv4 and TCP checksums after the rewrite
 *        bit 4     timestamps relative: TSval += TS.Recent, TSecr = our clock - TSecr
 *        bit 5     SACK blocks relative: every edge += SND.UNA
 *        bit 6     IPv6 (when the [::]:80 listener exists; tcp_steer6): the
 *                  frame is forced to [2001:2::2] → [2001:2::1], to the listener;
 *                  targets 2-4 are then the connection from the frame's own
 *                  source port (found by 4-tuple), 5 the cookie as above; with
 *                  mode bit 4 such frames are steered (and checksummed) right
 *                  before their own input, so an earlier frame's SYN made the
 *                  connection they find
 *   After input (and after every release step) the user side runs: new
 *   connections are accepted, everything readable is read (recv must agree with
 *   what the socket reported readable), a write is attempted on the established
 *   connection, and every TCB is checked (states, send/receive sequence
 *   relations, send ring and receive queue bookkeeping, listener queues, armed
 *   timer for every pending deadline, 4-tuple hash membership, live count).
 *   3. drain tx (frames freed), drain the sockets with skiff_udp_recv (bounded),
 *      check: queues empty, what recv reports matches the queue, no datagram longer
 *      than IPv4 allows (over IPv6: 65527 bytes, RFC 8200 3, no jumbograms), the
 *      source recv reports is the header's (v4-mapped on an AF_INET6 socket for
 *      IPv4; never multicast, ::1 or v4-mapped from an IPv6 header; only the peer
 *      on a connected socket), and every pool frame is free, held by reassembly
 *      (both families), held for ARP/ND resolution, or held by a TCP
 *      receive/reassembly queue.
 *   4. advance the clock 120 s in 10 s steps, polling at every timer deadline on
 *      the way (draining as in 3 after each step; in TCP
 *      mode every socket the user holds is aborted, SO_LINGER 0, half way, and
 *      the SYN-RECEIVED children die after their 5 SYN-ACK retries in 63 s),
 *      then in TCP mode close the listeners and check no TCB is left; then check
 *      that nothing is held:
 *      skiff_reasm_usage() == 0, skiff_neigh_held() == 0,
 *      skiff_mempool_avail() == skiff_mempool_count(); and that the IPv6
 *      address table is well-formed with the configured addresses still
 *      PREFERRED (check_addrs). Any violation: abort().
 * The clock only moves forward; an instance is rebuilt when it nears overflow.
 * Also required: the listener's SYN-queue count returns to 0, and SND.NXT =<
 * SND.MAX (both were bugs the fuzzer reached; see test_tcp.c).
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
#include "dataplane/igmp.h"
#include "dataplane/ip4.h"
#include "dataplane/ip6.h"
#include "dataplane/ip6_exthdr.h"
#include "dataplane/nd_msg.h"
#include "dataplane/neigh.h"
#include "dataplane/route.h"
#include "dataplane/route6.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/tcp_internal.h"
#include "dataplane/tcp_seq.h"
#include "dataplane/udp.h"
#include "dataplane/udp_mcast.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_icmp6.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_ip6.h"
#include "dataplane/wire_tcp.h"
#include "dataplane/wire_udp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_LOCAL_IP 0xc6120001u  /* 198.18.0.1 */
#define FZ_PEER_IP 0xc6120002u   /* 198.18.0.2 */
#define FZ_GW_IP 0xc61200feu     /* 198.18.0.254 */
#define FZ_PORT_BOUND 5000
#define FZ_PORT_CONN 5001
#define FZ_PEER_PORT 6000
#define FZ_PORT6_BOUND 5002      /* [::]:5002, dual stack */
#define FZ_PORT6_CONN 5003       /* [::]:5003 connected to [2001:2::2]:6000 */
#define FZ_NSOCKS 5
#define FZ_SK_CONN4 2
#define FZ_SK_BOUND6 3
#define FZ_SK_CONN6 4
#define FZ_UDP6_MAX (65535u - UDP_HDR_LEN) /* RFC 8200 payload length, no jumbograms */
#define FZ_MCAST4_GROUP 0xef010101u   /* 239.1.1.1, joined by the first *:5000 socket */
#define FZ_SSM4_GROUP 0xe8010101u     /* 232.1.1.1, source-specific from 198.18.0.2 */
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
#define MODE_TCP 0x80u

#define FZ_TCP_LPORT 80
#define FZ_TCP_PORT_EST 7000
#define FZ_TCP_PORT_SYNRCVD 7001
#define FZ_TCP_PORT_SYNSENT 7002
#define FZ_TCP_ISN_EST 0x10000000u
#define FZ_TCP_ISN_SYNRCVD 0x20000000u
#define FZ_TCP_MAX_ACCEPT 16u
#define FZ_TCP_BULK 3000u

/* TCP-mode user byte (what the application does before the frames arrive) */
#define USR_SHUT_WR 0x01u     /* shutdown(SHUT_WR) on the established connection: FIN */
#define USR_SHUT_RD 0x02u     /* shutdown(SHUT_RD) on it */
#define USR_NODELAY 0x04u     /* TCP_NODELAY on it */
#define USR_CORK 0x08u        /* TCP_CORK on it */
#define USR_SMALL_RCVBUF 0x10u /* SO_RCVBUF minimum on the listener (children inherit) */
#define USR_KEEPALIVE 0x20u   /* SO_KEEPALIVE, idle 2 s, interval 1 s, 3 probes (inherited) */
#define USR_USER_TIMEOUT 0x40u /* TCP_USER_TIMEOUT 5 s (inherited) */
#define USR_MORE 0x80u        /* write another 20000 bytes (MSG_MORE on the first half) */

/* TCP-mode selector byte */
#define SEL_TARGET 0x07u
enum { TGT_RAW, TGT_LISTEN, TGT_EST, TGT_SYNRCVD, TGT_SYNSENT, TGT_COOKIE };
#define SEL_FIX_CSUM 0x08u
#define SEL_TS_REL 0x10u
#define SEL_SACK_REL 0x20u
#define SEL_IP6 0x40u

static const uint8_t fz_local_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t fz_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
#define FZ_IP6(last) { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last }
static const uint8_t fz_local6[16] = FZ_IP6(0x01);  /* 2001:2::1/64 */
static const uint8_t fz_peer6[16] = FZ_IP6(0x02);   /* 2001:2::2 */
static const uint8_t fz_ll6[16] = { 0xfe, 0x80, [15] = 0x01 }; /* fe80::1/64, beside the RFC 7217 one */
static const uint8_t fz_gw6[16] = { 0xfe, 0x80, [15] = 0x02 }; /* the default router */
static const uint8_t fz_mcast6[16] = { 0xff, 0x15, [15] = 0x01 }; /* ff15::1, joined by [::]:5002 */
static const uint64_t fz_advance_ns[4] = { 0, 1000000ull, 1000000000ull, 60000000000ull };

/* A socket the user (this harness) holds; gen detects a TCB freed behind its back. */
struct fz_handle {
	struct skiff_tcp_sock *sk;
	uint32_t gen;
};

struct fz_ctx {
	bool tight;
	struct skiff_stack *st;
	struct skiff_mempool *mp;
	int ifindex;
	/* *:5000, *:5000 (small rcvbuf), *:5001 connected, [::]:5002, [::]:5003 connected */
	struct skiff_udp_sock *socks[FZ_NSOCKS];
	uint64_t now;
	uint64_t route_gen;   /* after setup: a change (RA, PMTU, redirect ...) rebuilds the instance */
	struct skiff_if_addr6 v6_base[SKIFF_MAX_IF_ADDRS]; /* the IPv6 configuration after setup */
	unsigned n_v6_base;
	uint32_t mtu6_base;
	uint8_t hop_limit6_base;
	uint64_t reachable_base, retrans_base;
	uint64_t igmp_in_base;  /* IGMP messages taken by the membership engines after setup */
	/* TCP mode (per input) */
	bool tcp_on;
	struct fz_handle lsn, lsn6, est, synsent; /* lsn6: [::]:80 V6ONLY, when TCP over IPv6 opens */
	struct fz_handle acc[FZ_TCP_MAX_ACCEPT];
	unsigned nacc;
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

/* The source recv reported for a datagram whose IP header said hsrc (version
 * ver): the socket's family (IPv4 as v4-mapped on an AF_INET6 socket), never
 * multicast, loopback or v4-mapped from an IPv6 header (RFC 4291 2.5.3, 2.5.5.2,
 * 2.7), and on a connected socket only the peer (RFC 1122 4.1.3.4 as Linux). */
static void check_src(struct fz_ctx *c, unsigned idx, unsigned ver, const uint8_t *hsrc,
		      const struct skiff_addr *src, uint16_t sport)
{
	struct skiff_udp_sock *sk = c->socks[idx];
	if (ver == 6) {
		FZ_CHECK(sk->family == SKIFF_AF_INET6 && src->family == SKIFF_AF_INET6);
		FZ_CHECK(!memcmp(src->v6, hsrc, 16));
		FZ_CHECK(!ip6_is_multicast(src->v6) && !ip6_is_loopback(src->v6) && !ip6_is_v4mapped(src->v6));
	} else if (sk->family == SKIFF_AF_INET6) {
		FZ_CHECK(src->family == SKIFF_AF_INET6 && ip6_is_v4mapped(src->v6));
		FZ_CHECK(ip6_v4mapped_addr(src->v6) == ld32(hsrc));
	} else {
		FZ_CHECK(src->family == SKIFF_AF_INET && src->v4 == ld32(hsrc));
	}
	if (idx == FZ_SK_CONN4)
		FZ_CHECK(ver == 4 && src->v4 == FZ_PEER_IP && sport == FZ_PEER_PORT);
	if (idx == FZ_SK_CONN6)
		FZ_CHECK(ver == 6 && !memcmp(src->v6, fz_peer6, 16) && sport == FZ_PEER_PORT);
}

/* Read everything queued on socket idx, checking what recv reports against the queue. */
static void drain_sock(struct fz_ctx *c, unsigned idx)
{
	struct skiff_udp_sock *sk = c->socks[idx];
	for (unsigned i = 0; i < FZ_DRAIN_MAX; i++) {
		struct iovec iov = { fz_rxbuf, sizeof(fz_rxbuf) };
		struct skiff_addr src;
		uint16_t sport = 0;
		size_t dlen = 0, next = skiff_udp_next_len(sk);
		uint8_t hsrc[16] = { 0 };
		unsigned ver = 0;
		long n;

		if (sk->rq_head) {
			const struct skiff_pkt *h = sk->rq_head;
			const uint8_t *ih = h->head + h->l3_off;
			ver = ih[0] >> 4;
			FZ_CHECK(ver == 4 || ver == 6);
			if (ver == 4) {
				/* RFC 791: header + UDP header + payload fit the 16-bit total length */
				size_t ihl = (size_t)(ih[0] & 0x0f) * 4;
				FZ_CHECK(h->l4_off >= h->l3_off && ihl == (size_t)(h->l4_off - h->l3_off));
				FZ_CHECK(ihl + UDP_HDR_LEN + next <= 65535);
				memcpy(hsrc, ih + 12, 4);
			} else {
				/* RFC 8200 3: the payload length is 16 bits (no jumbograms, RFC 2675) */
				FZ_CHECK(sk->family == SKIFF_AF_INET6);
				FZ_CHECK(h->l4_off >= h->l3_off + IP6_HDR_LEN);
				FZ_CHECK(next <= FZ_UDP6_MAX);
				memcpy(hsrc, ih + 8, 16);
			}
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
		check_src(c, idx, ver, hsrc, &src, sport);
	}
	FZ_CHECK(sk->rq_head == NULL && sk->rq_tail == NULL && sk->rq_count == 0 && sk->rcv_bytes == 0);
}

static void tcp_user(struct fz_ctx *c);
static void tcp_check(struct fz_ctx *c);
static unsigned tcp_frames_held(struct fz_ctx *c);

static void drain_all(struct fz_ctx *c)
{
	drain_tx(c);
	for (unsigned i = 0; i < FZ_NSOCKS; i++)
		drain_sock(c, i);
	for (unsigned i = 0; i < 16 && skiff_udp_ready_pop(c->st); i++)
		;
	if (c->tcp_on) {
		tcp_user(c);
		drain_tx(c);
		tcp_check(c);
	}
	for (unsigned i = 0; i < 4096 && skiff_tcp_ready_pop(c->st); i++)
		;
}

static void advance(struct fz_ctx *c, uint64_t ns)
{
	c->now += ns;
	skiff_stack_poll(c->st, c->now);
}

/* Advance by ns polling at every timer deadline on the way, as an event loop
 * would (a timer re-armed while a poll runs fires at the next poll), draining
 * tx meanwhile; bounded. */
static void advance_stepwise(struct fz_ctx *c, uint64_t ns)
{
	uint64_t end = c->now + ns;
	for (unsigned i = 0; i < 4096; i++) {
		uint64_t next = skiff_stack_next_deadline(c->st);
		if (next > end)
			break;
		advance(c, next > c->now ? next - c->now : 0);
		drain_tx(c);
	}
	advance(c, end - c->now);
}

/* Every frame of the pool is free, or held by reassembly, or held for ARP, or
 * held by a TCP receive or reassembly queue. */
static void check_accounting(struct fz_ctx *c)
{
	unsigned dgrams, bytes, held = skiff_neigh_held(c->st), tcp = tcp_frames_held(c);
	unsigned avail = skiff_mempool_avail(c->mp), count = skiff_mempool_count(c->mp);

	skiff_reasm_usage(c->st, &dgrams, &bytes);
	FZ_CHECK(bytes % FZ_BUF_SIZE == 0); /* reasm counts whole frames (truesize = cap) */
	FZ_CHECK((dgrams == 0) == (bytes == 0));
	/* A held packet may be a chain of fragments, so it accounts for at least one frame. */
	if (held == 0)
		FZ_CHECK(avail + bytes / FZ_BUF_SIZE + tcp == count);
	else
		FZ_CHECK(avail + bytes / FZ_BUF_SIZE + tcp + held <= count);
}

static void check_released(struct fz_ctx *c)
{
	unsigned dgrams, bytes;
	skiff_reasm_usage(c->st, &dgrams, &bytes);
	FZ_CHECK(dgrams == 0 && bytes == 0);
	FZ_CHECK(skiff_neigh_held(c->st) == 0);
	FZ_CHECK(skiff_mempool_avail(c->mp) == skiff_mempool_count(c->mp));
}

/* The IPv6 part of fix_csums: ip is the fixed header, len the bytes after it in
 * the frame. The upper layer is where the extension-header walk finds it (the
 * stack's own walk, default limits); fragments are left alone. The checksum
 * covers the pseudo-header of RFC 8200 8.1 (ICMPv6: RFC 4443 2.3; a UDP
 * checksum of 0 becomes 0xffff, 0 is not allowed over IPv6). */
static void fix_csums6(uint8_t *ip, size_t len)
{
	struct ip6_ext_info x;
	size_t end, l4len;
	uint8_t *l4;

	if (len < IP6_HDR_LEN || (ip[0] >> 4) != 6)
		return;
	end = IP6_HDR_LEN + (size_t)ld16(ip + 4);
	if (end > len || ip6_ext_walk(view_make(ip, end), NULL, &x) != 0 || x.frag || x.l4_off > end)
		return;
	l4 = ip + x.l4_off;
	l4len = end - x.l4_off;
	if (x.proto == IP6_NH_ICMP6 && l4len >= 4) {
		st16(l4 + 2, 0);
		st16(l4 + 2, csum_fold(csum_partial(l4, l4len, csum_pseudo6(ip + 8, ip + 24, IP6_NH_ICMP6,
									     (uint32_t)l4len))));
	} else if (x.proto == IP6_NH_UDP && l4len >= UDP_HDR_LEN) {
		uint16_t ulen = ld16(l4 + 4), c;
		if (ulen < UDP_HDR_LEN || ulen > l4len)
			return;
		st16(l4 + 6, 0);
		c = csum_fold(csum_partial(l4, ulen, csum_pseudo6(ip + 8, ip + 24, IP6_NH_UDP, ulen)));
		st16(l4 + 6, c ? c : 0xffff);
	} else if (x.proto == IP6_NH_TCP && l4len >= TCP_HDR_LEN) {
		st16(l4 + 16, 0);
		st16(l4 + 16, csum_fold(csum_partial(l4, l4len, csum_pseudo6(ip + 8, ip + 24, IP6_NH_TCP,
									     (uint32_t)l4len))));
	}
}

/* Mode bit 6: make a frame's checksums right (IPv4 header; ICMP, UDP or TCP when
 * the frame is a whole datagram and the UDP checksum is not 0 = "none"; IPv6:
 * ICMPv6, UDP or TCP of a whole datagram, fix_csums6). */
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
	if (type == ETH_TYPE_IP6) {
		fix_csums6(f + off, len - off);
		return;
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
	} else if (ip[9] == IPPROTO_TCP_ && l4len >= TCP_HDR_LEN) {
		st16(l4 + 16, 0);
		st16(l4 + 16, csum_fold(csum_partial(l4, l4len, csum_pseudo4(ld32(ip + 12), ld32(ip + 16), IPPROTO_TCP_,
										 (uint32_t)l4len))));
	}
}

static void tcp_steer(struct fz_ctx *c, uint8_t sel, uint8_t *f, size_t len);

/* A pool frame holding a copy of the bytes; NULL when the pool is empty (tight).
 * In TCP mode the first byte is the selector (consumed) that steers the frame.
 * defer (NULL: never): an IPv6-steered frame (SEL_IP6) is left as it is and its
 * selector stored there, to be steered right before its own input (one-by-one
 * mode: its connection may be made by an earlier frame); else 0 is stored. */
static struct skiff_pkt *frame_copy(struct fz_ctx *c, const uint8_t *frame, size_t len, uint32_t flags,
				     bool fix, uint8_t *defer)
{
	struct skiff_pkt *p;
	uint8_t sel = 0;
	if (defer)
		*defer = 0;
	if (c->tcp_on && len) {
		sel = frame[0];
		frame++;
		len--;
	}
	p = skiff_pool_get(skiff_mempool_pool(c->mp));
	if (!p)
		return NULL;
	if (len > skiff_pkt_tailroom(p))
		len = skiff_pkt_tailroom(p);
	if (len)
		memcpy(skiff_pkt_put(p, (uint32_t)len), frame, len);
	p->flags = flags;
	if (c->tcp_on && defer && (sel & SEL_IP6)) {
		*defer = sel;
		return p;
	}
	if (c->tcp_on)
		tcp_steer(c, sel, skiff_pkt_data(p), p->len);
	if (fix)
		fix_csums(skiff_pkt_data(p), p->len);
	return p;
}

/* ---- TCP mode ---- */

static struct skiff_tcp_sock *hget(struct fz_handle *h)
{
	if (!h->sk)
		return NULL;
	/* the stack must never free a socket the user holds (only close() may) */
	FZ_CHECK(h->sk->in_use && h->sk->gen == h->gen);
	return h->sk;
}

static void hset(struct fz_ctx *c, struct fz_handle *h, struct skiff_tcp_sock *sk)
{
	h->sk = sk;
	h->gen = sk ? sk->gen : 0;
	if (sk)
		sk->user = c; /* as the socket layer would: a user holds it */
}

/* Abortive close (SO_LINGER 0): the TCB is freed at once. */
static void habort(struct fz_ctx *c, struct fz_handle *h)
{
	struct skiff_tcp_sock *sk = hget(h);
	if (!sk)
		return;
	sk->linger_on = true;
	sk->linger_s = 0;
	skiff_tcp_close(c->st, sk, c->now);
	h->sk = NULL;
}

/* Inject one TCP segment from the peer, built here (not steered). */
static void tcp_inject(struct fz_ctx *c, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		       uint16_t wnd, const uint8_t *opt, unsigned olen, const uint8_t *data, unsigned dlen)
{
	uint8_t f[ETH_HDR_LEN + IP4_HDR_LEN + TCP_MAX_HDR_LEN + 64];
	struct eth_repr e;
	struct ip4_repr ip;
	struct tcp_repr th;
	struct skiff_pkt *p;
	uint8_t *t = f + ETH_HDR_LEN + IP4_HDR_LEN;
	unsigned l4 = TCP_HDR_LEN + olen + dlen;

	FZ_CHECK(olen <= TCP_MAX_OPT_LEN && olen % 4 == 0 && dlen <= 64);
	memcpy(e.dst, fz_local_mac, 6);
	memcpy(e.src, fz_peer_mac, 6);
	e.type = ETH_TYPE_IP4;
	e.has_vlan = false;
	e.vlan_tci = 0;
	e.hdr_len = ETH_HDR_LEN;
	eth_emit(f, &e);
	memset(&ip, 0, sizeof(ip));
	ip.total_len = (uint16_t)(IP4_HDR_LEN + l4);
	ip.id = 0x7777;
	ip.frag = IP4_FLAG_DF;
	ip.ttl = 64;
	ip.proto = IPPROTO_TCP_;
	ip.src = FZ_PEER_IP;
	ip.dst = FZ_LOCAL_IP;
	ip4_emit(f + ETH_HDR_LEN, &ip);
	th.sport = sport;
	th.dport = dport;
	th.seq = seq;
	th.ack = ack;
	th.doff = (uint8_t)(TCP_HDR_LEN + olen);
	th.flags = flags;
	th.wnd = wnd;
	th.csum = 0;
	th.urp = 0;
	tcp_emit(t, &th);
	if (olen)
		memcpy(t + TCP_HDR_LEN, opt, olen);
	if (dlen)
		memcpy(t + TCP_HDR_LEN + olen, data, dlen);
	st16(t + 16, csum_fold(csum_partial(t, l4, csum_pseudo4(FZ_PEER_IP, FZ_LOCAL_IP, IPPROTO_TCP_, l4))));
	p = frame_copy(c, f, ETH_HDR_LEN + IP4_HDR_LEN + l4, 0, false, NULL);
	FZ_CHECK(p != NULL); /* everything was released at the end of the last input */
	skiff_stack_input(c->st, c->ifindex, &p, 1, c->now);
}

/* SYN options as Linux sends them: MSS 1460, SACK_PERM + TS, NOP + WS 7. */
static unsigned syn_opts(uint8_t o[20], uint32_t tsval)
{
	static const uint8_t tmpl[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 7 };
	memcpy(o, tmpl, sizeof(tmpl));
	st32(o + 8, tsval);
	return sizeof(tmpl);
}

static unsigned ts_opts(uint8_t o[12], uint32_t tsval, uint32_t tsecr)
{
	o[0] = 1;
	o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	st32(o + 4, tsval);
	st32(o + 8, tsecr);
	return 12;
}

/* The IPv6 listener on [::]:80 (IPV6_V6ONLY, beside the IPv4 one), with the
 * same user options; skipped while the stack refuses TCP over IPv6. */
static void tcp_listen6(struct fz_ctx *c, uint8_t usr)
{
	struct skiff_addr any6;
	struct skiff_tcp_sock *sk;
	int err;

	c->lsn6.sk = NULL;
	sk = skiff_tcp_open(c->st, SKIFF_AF_INET6, &err);
	if (!sk)
		return;
	memset(&any6, 0, sizeof(any6));
	any6.family = SKIFF_AF_INET6;
	sk->v6only = true; /* as setsockopt would */
	if (skiff_tcp_bind(c->st, sk, &any6, FZ_TCP_LPORT) != 0 || skiff_tcp_listen(c->st, sk, c->tight ? 2 : 16) != 0) {
		skiff_tcp_close(c->st, sk, c->now);
		return;
	}
	hset(c, &c->lsn6, sk);
	if (usr & USR_SMALL_RCVBUF)
		FZ_CHECK(skiff_tcp_set_rcvbuf(c->st, sk, 1) == 0);
	if (usr & USR_KEEPALIVE) {
		sk->keepalive = true;
		sk->keep_idle_ns = 2000000000ull;
		sk->keep_intvl_ns = 1000000000ull;
		sk->keep_cnt = 3;
	}
	if (usr & USR_USER_TIMEOUT)
		sk->user_timeout_ns = 5000000000ull;
}

/* Build the TCP world for this input (see the header comment). */
static void tcp_begin(struct fz_ctx *c, uint8_t usr)
{
	struct skiff_addr any = skiff_addr_v4(0), peer = skiff_addr_v4(FZ_PEER_IP);
	struct skiff_tcp_sock *sk, *child;
	static uint8_t bulk[FZ_TCP_BULK];
	struct iovec iov = { bulk, sizeof(bulk) };
	uint8_t o[20];
	unsigned olen;
	int err;

	FZ_CHECK(tcp_tab(c->st)->live == 0);
	c->nacc = 0;
	/* listener */
	sk = skiff_tcp_open(c->st, SKIFF_AF_INET, &err);
	FZ_CHECK(sk != NULL);
	FZ_CHECK(skiff_tcp_bind(c->st, sk, &any, FZ_TCP_LPORT) == 0);
	FZ_CHECK(skiff_tcp_listen(c->st, sk, c->tight ? 2 : 16) == 0);
	hset(c, &c->lsn, sk);
	if (usr & USR_SMALL_RCVBUF)
		FZ_CHECK(skiff_tcp_set_rcvbuf(c->st, sk, 1) == 0);
	if (usr & USR_KEEPALIVE) { /* as setsockopt would */
		sk->keepalive = true;
		sk->keep_idle_ns = 2000000000ull;
		sk->keep_intvl_ns = 1000000000ull;
		sk->keep_cnt = 3;
	}
	if (usr & USR_USER_TIMEOUT)
		sk->user_timeout_ns = 5000000000ull;
	tcp_listen6(c, usr);
	/* ESTABLISHED from 198.18.0.2:7000 */
	olen = syn_opts(o, 1);
	tcp_inject(c, FZ_TCP_PORT_EST, FZ_TCP_LPORT, FZ_TCP_ISN_EST, 0, TCP_SYN, 65535, o, olen, NULL, 0);
	child = tcp_lookup_established(c->st, FZ_LOCAL_IP, FZ_TCP_LPORT, FZ_PEER_IP, FZ_TCP_PORT_EST);
	FZ_CHECK(child && child->state == SKIFF_TCP_SYN_RECEIVED);
	olen = ts_opts(o, 2, tcp_tsval(child, c->now));
	tcp_inject(c, FZ_TCP_PORT_EST, FZ_TCP_LPORT, FZ_TCP_ISN_EST + 1, child->iss + 1, TCP_ACK, 1024, o, olen, NULL,
		   0);
	FZ_CHECK(skiff_tcp_accept(c->st, sk, &err) == child && child->state == SKIFF_TCP_ESTABLISHED);
	hset(c, &c->est, child);
	memset(bulk, 0x5a, sizeof(bulk));
	if (usr & USR_NODELAY)
		FZ_CHECK(skiff_tcp_set_nodelay(c->st, child, true, c->now) == 0);
	if (usr & USR_CORK)
		FZ_CHECK(skiff_tcp_set_cork(c->st, child, true, c->now) == 0);
	FZ_CHECK(skiff_tcp_send(c->st, child, &iov, 1, 0, c->now) == (long)sizeof(bulk));
	if (usr & USR_MORE) {
		static uint8_t more[20000];
		struct iovec m1 = { more, 10000 }, m2 = { more + 10000, 10000 };
		FZ_CHECK(skiff_tcp_send(c->st, child, &m1, 1, SKIFF_TCP_MSG_MORE, c->now) == 10000);
		FZ_CHECK(skiff_tcp_send(c->st, child, &m2, 1, 0, c->now) == 10000);
	}
	if (usr & USR_SHUT_RD)
		FZ_CHECK(skiff_tcp_shutdown(c->st, child, 0, c->now) == 0);
	if (usr & USR_SHUT_WR)
		FZ_CHECK(skiff_tcp_shutdown(c->st, child, 1, c->now) == 0);
	/* SYN-RECEIVED from 198.18.0.2:7001 */
	olen = syn_opts(o, 1);
	tcp_inject(c, FZ_TCP_PORT_SYNRCVD, FZ_TCP_LPORT, FZ_TCP_ISN_SYNRCVD, 0, TCP_SYN, 65535, o, olen, NULL, 0);
	child = tcp_lookup_established(c->st, FZ_LOCAL_IP, FZ_TCP_LPORT, FZ_PEER_IP, FZ_TCP_PORT_SYNRCVD);
	FZ_CHECK(child && child->state == SKIFF_TCP_SYN_RECEIVED);
	/* SYN-SENT to 198.18.0.2:7002 */
	sk = skiff_tcp_open(c->st, SKIFF_AF_INET, &err);
	FZ_CHECK(sk != NULL);
	FZ_CHECK(skiff_tcp_connect(c->st, sk, &peer, FZ_TCP_PORT_SYNSENT, c->now) == 0);
	hset(c, &c->synsent, sk);
	drain_tx(c);
	c->tcp_on = true;
}

/* Mid-release: everything the user holds is aborted (its RSTs leave while the
 * peer's address is still known, so ARP settles before the end). */
static void tcp_abort_users(struct fz_ctx *c)
{
	habort(c, &c->est);
	habort(c, &c->synsent);
	for (unsigned i = 0; i < c->nacc; i++)
		habort(c, &c->acc[i]);
	c->nacc = 0;
}

/* End of the input: only the listener may be left (its SYN-RECEIVED children
 * died of their SYN-ACK retries during release); close it. */
static void tcp_end(struct fz_ctx *c)
{
	struct skiff_tcp_sock *l;
	tcp_abort_users(c);
	FZ_CHECK(tcp_tab(c->st)->live == (c->lsn6.sk ? 2u : 1u));
	for (int k = 0; k < 2; k++) {
		struct fz_handle *h = k ? &c->lsn6 : &c->lsn;
		if (!h->sk)
			continue;
		l = hget(h);
		FZ_CHECK(l != NULL && l->state == SKIFF_TCP_LISTEN);
		FZ_CHECK(l->aq_len == 0 && l->aq_head == NULL);
		FZ_CHECK(l->synq_len == 0);
		skiff_tcp_close(c->st, l, c->now);
		h->sk = NULL;
	}
	FZ_CHECK(tcp_tab(c->st)->live == 0);
	c->tcp_on = false;
	drain_tx(c);
}

/* Offsets of the TCP header and its end in a frame steered to us, or 0. */
static size_t tcp_hdr_at(uint8_t *f, size_t len, size_t *optend)
{
	size_t ihl = (size_t)(f[ETH_HDR_LEN] & 0x0f) * 4, th, doff;
	th = ETH_HDR_LEN + ihl;
	if (len < th + TCP_HDR_LEN)
		return 0;
	doff = (size_t)(f[th + 12] >> 4) * 4;
	if (doff < TCP_HDR_LEN || th + doff > len)
		doff = TCP_HDR_LEN;
	*optend = th + doff;
	return th;
}

/* Rewrite option fields relative to the connection (selector bits 4-5). */
static void rel_opts(struct fz_ctx *c, struct skiff_tcp_sock *sk, uint8_t sel, uint8_t *f, size_t th, size_t end)
{
	size_t i = th + TCP_HDR_LEN;
	while (i < end) {
		uint8_t kind = f[i], olen;
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= end || f[i + 1] < 2 || i + f[i + 1] > end)
			break;
		olen = f[i + 1];
		if (kind == TCPOPT_TS && olen == 10 && (sel & SEL_TS_REL)) {
			st32(f + i + 2, ld32(f + i + 2) + sk->ts_recent);
			st32(f + i + 6, tcp_tsval(sk, c->now) - ld32(f + i + 6));
		} else if (kind == TCPOPT_SACK && (sel & SEL_SACK_REL)) {
			for (size_t k = i + 2; k + 4 <= i + olen; k += 4)
				st32(f + k, ld32(f + k) + sk->snd_una);
		}
		i += olen;
	}
}

/* Selector bit 6: the frame is forced to IPv6 instead, [2001:2::2] → [2001:2::1]
 * (fixed header only: next header TCP, payload length the rest of the frame), to
 * the [::]:80 listener; targets 2-4 are the connection of the frame's own source
 * port to it, found by 4-tuple (a child the listener made in this input), and 5
 * the listener with SEG.ACK an offset from the valid SYN cookie + 1 (MSS 1440);
 * 6-7 a closed port. */
static void tcp_steer6(struct fz_ctx *c, uint8_t sel, uint8_t *f, size_t len)
{
	unsigned tgt = sel & SEL_TARGET;
	struct skiff_addr l6 = ip6_addr_make(fz_local6), r6 = ip6_addr_make(fz_peer6);
	struct skiff_tcp_sock *sk = NULL;
	const size_t th = ETH_HDR_LEN + IP6_HDR_LEN;
	uint8_t *ip = f + ETH_HDR_LEN;
	size_t end, doff, plen = len - th;
	uint16_t sport, dport = FZ_TCP_LPORT;

	if (tgt == TGT_RAW || len < th + TCP_HDR_LEN)
		return;
	memcpy(f, fz_local_mac, 6);
	memcpy(f + 6, fz_peer_mac, 6);
	st16(f + 12, ETH_TYPE_IP6);
	ip[0] = (uint8_t)(0x60 | (ip[0] & 0x0f));
	st16(ip + 4, (uint16_t)(plen > 65535 ? 65535 : plen));
	ip[6] = IP6_NH_TCP;
	memcpy(ip + 8, fz_peer6, 16);
	memcpy(ip + 24, fz_local6, 16);
	doff = (size_t)(f[th + 12] >> 4) * 4;
	end = th + (doff < TCP_HDR_LEN || th + doff > len ? TCP_HDR_LEN : doff);
	sport = ld16(f + th);
	switch (tgt) {
	case TGT_LISTEN:
		break;
	case TGT_EST:
	case TGT_SYNRCVD:
	case TGT_SYNSENT:
		sk = tcp_lookup_est(c->st, &l6, FZ_TCP_LPORT, &r6, sport);
		break;
	case TGT_COOKIE:
		st32(f + th + 8, ld32(f + th + 8) + 1u +
				     tcp_cookie_make_a(c->st, &l6, FZ_TCP_LPORT, &r6, sport, ld32(f + th + 4) - 1u, 1440,
						       c->now));
		break;
	default:
		dport = (uint16_t)(81 + ld16(f + th + 2) % 1000);
		break;
	}
	st16(f + th + 2, dport);
	if (sk) {
		st32(f + th + 4, ld32(f + th + 4) + sk->rcv_nxt);
		st32(f + th + 8, ld32(f + th + 8) + sk->snd_una);
		rel_opts(c, sk, sel, f, th, end);
	}
}

static void tcp_steer(struct fz_ctx *c, uint8_t sel, uint8_t *f, size_t len)
{
	unsigned tgt = sel & SEL_TARGET;
	struct skiff_tcp_sock *sk = NULL;
	size_t th, end, tot;
	uint8_t *ip = f + ETH_HDR_LEN;

	if (sel & SEL_IP6) {
		if (c->lsn6.sk)
			tcp_steer6(c, sel, f, len);
	} else if (tgt != TGT_RAW && len >= ETH_HDR_LEN + IP4_HDR_LEN + TCP_HDR_LEN) {
		memcpy(f, fz_local_mac, 6);
		memcpy(f + 6, fz_peer_mac, 6);
		st16(f + 12, ETH_TYPE_IP4);
		if ((ip[0] & 0x0f) < 5 || ETH_HDR_LEN + (size_t)(ip[0] & 0x0f) * 4 + TCP_HDR_LEN > len)
			ip[0] = 0x45;
		ip[0] = (uint8_t)(0x40 | (ip[0] & 0x0f));
		tot = ld16(ip + 2);
		if (tot < (size_t)(ip[0] & 0x0f) * 4 + TCP_HDR_LEN || ETH_HDR_LEN + tot > len)
			st16(ip + 2, (uint16_t)(len - ETH_HDR_LEN > 65535 ? 65535 : len - ETH_HDR_LEN));
		st16(ip + 6, ld16(ip + 6) & IP4_FLAG_DF);
		ip[9] = IPPROTO_TCP_;
		st32(ip + 12, FZ_PEER_IP);
		st32(ip + 16, FZ_LOCAL_IP);
		th = tcp_hdr_at(f, len, &end);
		if (th) {
			uint16_t dport = FZ_TCP_LPORT, sport = ld16(f + th);
			switch (tgt) {
			case TGT_LISTEN:
				break;
			case TGT_EST:
				sk = c->est.sk ? hget(&c->est) : NULL;
				sport = FZ_TCP_PORT_EST;
				break;
			case TGT_SYNRCVD:
				sk = tcp_lookup_established(c->st, FZ_LOCAL_IP, FZ_TCP_LPORT, FZ_PEER_IP,
							    FZ_TCP_PORT_SYNRCVD);
				sport = FZ_TCP_PORT_SYNRCVD;
				break;
			case TGT_SYNSENT:
				sk = c->synsent.sk ? hget(&c->synsent) : NULL;
				sport = FZ_TCP_PORT_SYNSENT;
				if (sk)
					dport = sk->lport;
				break;
			case TGT_COOKIE:
				/* to the listener, SEG.ACK an offset from the SYN cookie this
				 * 4-tuple and SEG.SEQ - 1 would get (MSS 1460), + 1 */
				st32(f + th + 8, ld32(f + th + 8) + 1u +
						     tcp_cookie_make(c->st, FZ_LOCAL_IP, FZ_TCP_LPORT, FZ_PEER_IP, sport,
								     ld32(f + th + 4) - 1u, 1460, c->now));
				break;
			default:
				dport = (uint16_t)(81 + ld16(f + th + 2) % 1000); /* nobody listens there */
				break;
			}
			st16(f + th, sport);
			st16(f + th + 2, dport);
			if (sk) {
				st32(f + th + 4, ld32(f + th + 4) + sk->rcv_nxt);
				st32(f + th + 8, ld32(f + th + 8) + sk->snd_una);
				rel_opts(c, sk, sel, f, th, end);
			}
		}
	}
	if (sel & SEL_FIX_CSUM)
		fix_csums(f, len);
}

/* The user side: accept, read everything readable, write a little. */
static void tcp_user(struct fz_ctx *c)
{
	struct skiff_tcp_sock *l, *sk;
	struct fz_handle *hs[2 + FZ_TCP_MAX_ACCEPT];
	unsigned n = 0;
	int err;

	for (int k = 0; k < 2; k++) {
		l = hget(k ? &c->lsn6 : &c->lsn);
		err = -EAGAIN;
		while (l && (sk = skiff_tcp_accept(c->st, l, &err)) != NULL) {
			FZ_CHECK(err == 0 && sk->accepted && sk->parent == NULL);
			/* each listener's children are of its family (the IPv6 one is V6ONLY) */
			FZ_CHECK(sk->laddr.family == (k ? SKIFF_AF_INET6 : SKIFF_AF_INET));
			if (c->nacc < FZ_TCP_MAX_ACCEPT) {
				hset(c, &c->acc[c->nacc++], sk);
			} else {
				struct fz_handle tmp;
				hset(c, &tmp, sk);
				habort(c, &tmp);
			}
		}
		FZ_CHECK(err == -EAGAIN);
	}
	hs[n++] = &c->est;
	hs[n++] = &c->synsent;
	for (unsigned i = 0; i < c->nacc; i++)
		hs[n++] = &c->acc[i];
	for (unsigned i = 0; i < n; i++) {
		sk = hget(hs[i]);
		if (!sk)
			continue;
		(void)skiff_tcp_events(sk);
		for (unsigned k = 0; k < 64; k++) {
			struct iovec iov = { fz_rxbuf, sizeof(fz_rxbuf) };
			uint32_t readable = skiff_tcp_readable(sk);
			long r;
			if (k & 1) { /* peek first: the real read must see the same */
				long pk = skiff_tcp_recv(c->st, sk, &iov, 1, SKIFF_TCP_MSG_PEEK, c->now);
				FZ_CHECK(pk < 0 || (uint32_t)pk == (readable < sizeof(fz_rxbuf) ? readable : sizeof(fz_rxbuf)));
			}
			r = skiff_tcp_recv(c->st, sk, &iov, 1, 0, c->now);
			if (r > 0) {
				FZ_CHECK((uint32_t)r == (readable < sizeof(fz_rxbuf) ? readable : sizeof(fz_rxbuf)));
				continue;
			}
			FZ_CHECK(r == 0 || r < 0);
			if (r == 0 || r == -EAGAIN)
				FZ_CHECK(readable == 0);
			if (r != -ECONNRESET && r != -ETIMEDOUT && r != -ECONNREFUSED && r != -EPIPE &&
			    r != -EHOSTUNREACH && r != -ENETUNREACH && r != -EPROTO && r != -ENOPROTOOPT &&
			    r != -EHOSTDOWN && r != -ENONET)
				break; /* EAGAIN, 0, ENOTCONN: nothing more now */
		}
		FZ_CHECK(skiff_tcp_readable(sk) == 0 || sk->err);
	}
	/* the established connection writes a little more when it can */
	sk = c->est.sk ? hget(&c->est) : NULL;
	if (sk && skiff_tcp_writable(sk) >= 700) {
		static const uint8_t more[700];
		struct iovec iov = { (void *)more, sizeof(more) };
		long w = skiff_tcp_send(c->st, sk, &iov, 1, 0, c->now);
		FZ_CHECK(w == (long)sizeof(more) || w < 0);
	}
}

/* Pool frames held by TCP receive and reassembly queues. */
static unsigned tcp_frames_held(struct fz_ctx *c)
{
	struct skiff_tcp_table *t = tcp_tab(c->st);
	uint64_t bytes = 0;
	for (unsigned i = 0; i < t->cap; i++) {
		const struct skiff_tcp_sock *sk = &t->socks[i];
		if (!sk->in_use)
			continue;
		FZ_CHECK(sk->rq_truesize % FZ_BUF_SIZE == 0);
		FZ_CHECK(skiff_tcp_ooo_truesize(&sk->ooo) % FZ_BUF_SIZE == 0);
		bytes += sk->rq_truesize + skiff_tcp_ooo_truesize(&sk->ooo);
	}
	return (unsigned)(bytes / FZ_BUF_SIZE);
}

/* Invariants of every TCB. */
static void tcp_check(struct fz_ctx *c)
{
	struct skiff_tcp_table *t = tcp_tab(c->st);
	unsigned live = 0;

	for (unsigned i = 0; i < t->cap; i++) {
		struct skiff_tcp_sock *sk = &t->socks[i];
		bool any_due = false;
		uint32_t rq = 0;
		if (!sk->in_use)
			continue;
		live++;
		FZ_CHECK(sk->state <= SKIFF_TCP_TIME_WAIT);
		for (int k = 0; k < TCP_T_N; k++)
			any_due |= sk->due[k] != 0;
		/* a pending deadline with no timer armed would stall the connection for ever */
		if (any_due)
			FZ_CHECK(skiff_timer_armed(&sk->timer));
		if (sk->state == SKIFF_TCP_LISTEN) {
			unsigned q = 0;
			for (struct skiff_tcp_sock *x = sk->aq_head; x && q <= t->cap; x = x->qnext, q++)
				FZ_CHECK(x->in_use && x->parent == sk && tcp_synced(x) &&
					 !x->accepted);
			FZ_CHECK(q == sk->aq_len);
			FZ_CHECK(sk->aq_len <= (unsigned)sk->backlog + 1u);
			FZ_CHECK(sk->synq_len <= (unsigned)sk->backlog + 1u);
			FZ_CHECK(!sk->in_ehash);
			continue;
		}
		if (sk->parent) {
			FZ_CHECK(sk->parent->in_use && sk->parent->state == SKIFF_TCP_LISTEN);
			FZ_CHECK(!sk->accepted);
		}
		/* on the 4-tuple hash exactly while not CLOSED, and found there */
		if (sk->state == SKIFF_TCP_CLOSED) {
			FZ_CHECK(!sk->in_ehash);
		} else {
			FZ_CHECK(sk->in_ehash);
			FZ_CHECK(sk->laddr.family == sk->raddr.family);
			FZ_CHECK(tcp_lookup_est(c->st, &sk->laddr, sk->lport, &sk->raddr, sk->rport) == sk);
		}
		if (sk->state != SKIFF_TCP_CLOSED) {
			/* send sequence space: SND.UNA =< SND.NXT =< SND.MAX, and what is in
			 * flight is what the ring holds plus SYN and FIN */
			FZ_CHECK(SEQ_LEQ(sk->snd_una, sk->snd_nxt) && SEQ_LEQ(sk->snd_una, sk->snd_max));
			FZ_CHECK(sk->snd_max - sk->snd_una <= sk->sbuf_len + 2u);
			/* fails today: a retransmission from SND.UNA that takes never-sent
			 * bytes along moves SND.NXT past SND.MAX (see test_tcp.c) */
			FZ_CHECK(SEQ_LEQ(sk->snd_nxt, sk->snd_max));
		}
		if (tcp_synced(sk) && sk->state != SKIFF_TCP_CLOSED) {
			FZ_CHECK(sk->mss >= 64 && sk->mss <= 65535);
			FZ_CHECK(sk->cc.cwnd > 0);
			FZ_CHECK(sk->snd_wscale <= TCP_MAX_WSCALE && sk->rcv_wscale <= TCP_MAX_WSCALE);
		}
		if (sk->sbuf)
			FZ_CHECK(sk->sbuf_len <= sk->sbuf_cap && sk->sbuf_head < sk->sbuf_cap);
		else
			FZ_CHECK(sk->sbuf_len == 0);
		for (const struct skiff_pkt *p = sk->rq_head; p; p = p->next)
			rq += skiff_pkt_chain_len(p);
		FZ_CHECK(rq == sk->rq_bytes);
		FZ_CHECK(sk->rq_off <= sk->rq_bytes);
		FZ_CHECK((sk->rq_head == NULL) == (sk->rq_tail == NULL));
		if (sk->rq_head)
			FZ_CHECK(sk->rq_off < skiff_pkt_chain_len(sk->rq_head));
		FZ_CHECK(skiff_tcp_ooo_count(&sk->ooo) <= SKIFF_TCP_OOO_MAX);
		if (sk->rack.r) {
			/* transmit log: records in sequence order inside [SND.UNA, SND.MAX],
			 * byte counts equal to what the flags say, the time list holding
			 * exactly the in-flight records, oldest first */
			const struct skiff_tcp_rack *q = &sk->rack;
			uint32_t sacked = 0, lost = 0, inflight = 0, listed = 0, prev_end = sk->snd_una;
			uint64_t prev_x = 0;
			FZ_CHECK(q->n <= q->cap);
			for (uint32_t i = 0; i < q->n; i++) {
				const struct skiff_tcp_txrec *r = &q->r[(q->head + i) & (q->cap - 1u)];
				FZ_CHECK(SEQ_LT(r->seq, r->end) && SEQ_LEQ(prev_end, r->seq) && SEQ_LEQ(r->end, sk->snd_max));
				FZ_CHECK((r->flags & (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST)) !=
					 (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST));
				if (r->flags & SKIFF_TCP_TXR_SACKED)
					sacked += r->end - r->seq;
				else if (r->flags & SKIFF_TCP_TXR_LOST)
					lost += r->end - r->seq;
				else
					inflight++;
				prev_end = r->end;
			}
			FZ_CHECK(sacked == q->sacked_bytes && lost == q->lost_bytes);
			for (uint16_t s = q->thead; s != SKIFF_TCP_RACK_NIL && listed <= q->cap; s = q->r[s].tnext) {
				FZ_CHECK(!(q->r[s].flags & (SKIFF_TCP_TXR_SACKED | SKIFF_TCP_TXR_LOST)));
				FZ_CHECK(q->r[s].xmit >= prev_x);
				prev_x = q->r[s].xmit;
				listed++;
			}
			FZ_CHECK(listed == inflight);
		}
	}
	FZ_CHECK(live == t->live);
	/* the stack-wide receive memory is exactly what the queues hold */
	{
		uint64_t held = 0;
		for (unsigned i = 0; i < t->cap; i++)
			if (t->socks[i].in_use)
				held += t->socks[i].rq_truesize + skiff_tcp_ooo_truesize(&t->socks[i].ooo);
		FZ_CHECK(held == t->rx_mem);
	}
}

static void teardown(struct fz_ctx *c)
{
	bool tight = c->tight;
	skiff_stack_destroy(c->st);
	skiff_mempool_destroy(c->mp);
	memset(c, 0, sizeof(*c));
	c->tight = tight;
}

/* IPv6 on fuzz0: the RFC 7217 link-local, fe80::1/64 and 2001:2::1/64, a default
 * route via fe80::2, and two AF_INET6 UDP sockets: [::]:5002 (dual stack) and
 * [::]:5003 connected to [2001:2::2]:6000. */
static void setup6(struct fz_ctx *c)
{
	struct skiff_addr any6, peer6;
	struct skiff_iface *ifc;
	static const uint8_t zero[16];
	int err;

	memset(&any6, 0, sizeof(any6));
	any6.family = SKIFF_AF_INET6;
	peer6 = ip6_addr_make(fz_peer6);
	FZ_CHECK(skiff_stack_enable_ip6(c->st, c->ifindex, c->now) == 0);
	FZ_CHECK(skiff_stack_add_addr6(c->st, c->ifindex, fz_ll6, 64, c->now) == 0);
	FZ_CHECK(skiff_stack_add_addr6(c->st, c->ifindex, fz_local6, 64, c->now) == 0);
	FZ_CHECK(skiff_route6_add(c->st, zero, 0, fz_gw6, c->ifindex, 1024, UINT64_MAX) == 0);
	advance(c, 0); /* nd_dad_transmits 0: the ND timer makes them PREFERRED at once */
	ifc = skiff_stack_iface(c->st, c->ifindex);
	for (unsigned k = 0; k < ifc->n_v6; k++)
		FZ_CHECK(ifc->v6[k].state == SKIFF_ADDR6_PREFERRED);
	c->socks[FZ_SK_BOUND6] = skiff_udp_open(c->st, SKIFF_AF_INET6, &err);
	FZ_CHECK(c->socks[FZ_SK_BOUND6] != NULL);
	FZ_CHECK(skiff_udp_bind(c->st, c->socks[FZ_SK_BOUND6], &any6, FZ_PORT6_BOUND) == 0);
	c->socks[FZ_SK_CONN6] = skiff_udp_open(c->st, SKIFF_AF_INET6, &err);
	FZ_CHECK(c->socks[FZ_SK_CONN6] != NULL);
	FZ_CHECK(skiff_udp_bind(c->st, c->socks[FZ_SK_CONN6], &any6, FZ_PORT6_CONN) == 0);
	FZ_CHECK(skiff_udp_connect(c->st, c->socks[FZ_SK_CONN6], &peer6, FZ_PEER_PORT, c->now) == 0);
	c->n_v6_base = ifc->n_v6;
	c->mtu6_base = ifc->mtu6;
	c->hop_limit6_base = ifc->hop_limit6;
	c->reachable_base = ifc->nd_reachable_ns;
	c->retrans_base = ifc->nd_retrans_ns;
	memcpy(c->v6_base, ifc->v6, sizeof(c->v6_base));
}

/* Group memberships, so IGMP and MLD queries have something to answer: the first
 * *:5000 socket joins 239.1.1.1 and 232.1.1.1 from 198.18.0.2 only, [::]:5002
 * joins ff15::1. The engines may still be being wired: a failure is reported
 * once, not fatal. */
static void setup_mcast(struct fz_ctx *c)
{
	struct skiff_addr g4 = skiff_addr_v4(FZ_MCAST4_GROUP), ssm = skiff_addr_v4(FZ_SSM4_GROUP);
	struct skiff_addr peer = skiff_addr_v4(FZ_PEER_IP), g6 = ip6_addr_make(fz_mcast6);
	static bool warned;
	int rc = skiff_mcast_join(c->st, c->ifindex, udp_mcast_owner(c->socks[0]), &g4, c->now);
	if (!rc)
		rc = skiff_mcast_source(c->st, c->ifindex, udp_mcast_owner(c->socks[0]), &ssm, MCAST_SRC_ADD, &peer,
					c->now);
	if (!rc)
		rc = skiff_mcast_join(c->st, c->ifindex, udp_mcast_owner(c->socks[FZ_SK_BOUND6]), &g6, c->now);
	if (rc && !warned) {
		fprintf(stderr, "fuzz_frame: multicast join failed (%d): IGMP/MLD membership paths not covered\n", rc);
		warned = true;
	}
}

/* The interface's IPv6 addresses: well-formed (RFC 4291: not multicast,
 * unspecified, loopback or v4-mapped), and the configured ones still there and
 * PREFERRED — no input takes an address we own (a spoofed NA for it is not DAD,
 * RFC 4862 5.4.4: DAD is off here). */
static void check_addrs(struct fz_ctx *c)
{
	struct skiff_iface *ifc = skiff_stack_iface(c->st, c->ifindex);
	FZ_CHECK(ifc->n_v6 <= SKIFF_MAX_IF_ADDRS);
	for (unsigned k = 0; k < ifc->n_v6; k++) {
		const struct skiff_if_addr6 *a = &ifc->v6[k];
		FZ_CHECK(!ip6_is_multicast(a->addr) && !ip6_is_unspecified(a->addr) && !ip6_is_loopback(a->addr) &&
			 !ip6_is_v4mapped(a->addr));
		FZ_CHECK(a->plen >= 1 && a->plen <= 128);
		FZ_CHECK(a->state >= SKIFF_ADDR6_TENTATIVE && a->state <= SKIFF_ADDR6_OPTIMISTIC);
	}
	for (unsigned b = 0; b < c->n_v6_base; b++) {
		bool found = false;
		for (unsigned k = 0; k < ifc->n_v6; k++)
			if (!memcmp(ifc->v6[k].addr, c->v6_base[b].addr, 16)) {
				FZ_CHECK(ifc->v6[k].state == SKIFF_ADDR6_PREFERRED);
				found = true;
			}
		FZ_CHECK(found);
	}
}

/* Has the input changed the instance's configuration (routes, path MTUs,
 * addresses, RA link parameters)? Then it is rebuilt before the next input, so
 * every input starts from the same configuration and a crash reproduces. */
static bool config_drifted(struct fz_ctx *c)
{
	struct skiff_iface *ifc = skiff_stack_iface(c->st, c->ifindex);
	struct skiff_mcast_counters mc;

	/* IGMP input moves the engines' state (compatibility modes, response timers
	 * longer than the release) */
	skiff_mcast_get_counters(c->st, &mc);
	if (mc.igmp_in != c->igmp_in_base || skiff_mcast_next_deadline(c->st) != UINT64_MAX)
		return true;
	if (c->st->route_gen != c->route_gen || ifc->n_v6 != c->n_v6_base || ifc->mtu6 != c->mtu6_base ||
	    ifc->hop_limit6 != c->hop_limit6_base || ifc->nd_reachable_ns != c->reachable_base ||
	    ifc->nd_retrans_ns != c->retrans_base)
		return true;
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (memcmp(ifc->v6[k].addr, c->v6_base[k].addr, 16) || ifc->v6[k].state != c->v6_base[k].state)
			return true;
	return false;
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
		cfg.udp_sockets = FZ_NSOCKS + 1;
		cfg.tcp_sockets = 9;
		cfg.nd_accept_redirects = true; /* RFC 4861 8.3 reachable (off by default) */
	}
	cfg.nd_dad_transmits = 0; /* addresses usable at once */
	cfg.nd_rtr_solicits = 0;
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
	setup6(c);
	setup_mcast(c);
	drain_tx(c);
	c->route_gen = c->st->route_gen;
	{
		struct skiff_mcast_counters mc;
		skiff_mcast_get_counters(c->st, &mc);
		c->igmp_in_base = mc.igmp_in;
	}
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
	p = frame_copy(c, f, sizeof(f), 0, false, NULL);
	FZ_CHECK(p != NULL); /* everything was released at the end of the last input */
	skiff_stack_input(c->st, c->ifindex, &p, 1, c->now);
	drain_all(c);
	FZ_CHECK(skiff_neigh_lookup4(c->st, c->ifindex, FZ_PEER_IP, NULL) == SKIFF_NEIGH_REACHABLE);
	check_released(c);
}

/* The same for 2001:2::2: a datagram on the connected AF_INET6 socket starts
 * resolution (NS, RFC 4861 7.2.2) or moves a STALE entry to DELAY, and the peer's
 * solicited NA with Override and its link-layer address (7.2.5) confirms it. */
static void learn_peer6(struct fz_ctx *c)
{
	static const uint8_t one = 0x43;
	struct iovec iov = { (void *)&one, 1 };
	struct eth_repr e;
	uint8_t f[ETH_HDR_LEN + IP6_HDR_LEN + ND_NA_LEN + ND_LLAO_LEN];
	struct skiff_pkt *p;
	int n;

	if (skiff_neigh_lookup6(c->st, c->ifindex, fz_peer6, NULL) == SKIFF_NEIGH_REACHABLE)
		return;
	FZ_CHECK(skiff_udp_send(c->st, c->socks[FZ_SK_CONN6], &iov, 1, NULL, 0, 0, c->now) == 1);
	memcpy(e.dst, fz_local_mac, 6);
	memcpy(e.src, fz_peer_mac, 6);
	e.type = ETH_TYPE_IP6;
	e.has_vlan = false;
	e.vlan_tci = 0;
	e.hdr_len = ETH_HDR_LEN;
	eth_emit(f, &e);
	n = nd_build_na(f + ETH_HDR_LEN, sizeof(f) - ETH_HDR_LEN, fz_peer6, fz_local6, fz_peer6,
			ND_NA_SOLICITED | ND_NA_OVERRIDE, fz_peer_mac);
	FZ_CHECK(n > 0);
	p = frame_copy(c, f, ETH_HDR_LEN + (size_t)n, 0, false, NULL);
	FZ_CHECK(p != NULL);
	skiff_stack_input(c->st, c->ifindex, &p, 1, c->now);
	drain_all(c);
	FZ_CHECK(skiff_neigh_lookup6(c->st, c->ifindex, fz_peer6, NULL) == SKIFF_NEIGH_REACHABLE);
	check_released(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct skiff_pkt *pkts[FZ_MAX_FRAMES];
	uint8_t dsel[FZ_MAX_FRAMES];
	unsigned n = 0, mode;
	uint32_t flags;
	struct fz_ctx *c;
	bool fix, defer;

	if (size < 1)
		return 0;
	mode = data[0];
	c = (mode & MODE_TIGHT) ? &fz_tight : &fz_roomy;
	if (c->st && c->now > FZ_NOW_LIMIT)
		teardown(c);
	if (!c->st)
		setup(c);
	learn_peer(c);
	learn_peer6(c);

	flags = (mode & MODE_CSUM_GOOD) ? (SKIFF_PKT_RX_IP_CSUM_GOOD | SKIFF_PKT_RX_L4_CSUM_GOOD) : 0;
	fix = (mode & MODE_FIX_CSUM) != 0;
	defer = (mode & MODE_TCP) && (mode & MODE_ONE_BY_ONE);
	data++;
	size--;
	if (mode & MODE_TCP) {
		tcp_begin(c, size ? data[0] : 0);
		if (size) {
			data++;
			size--;
		}
	}
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
			p = frame_copy(c, data, len, flags, fix, defer ? &dsel[n] : NULL);
			if (p)
				pkts[n++] = p;
			data += len;
			size -= len;
		}
	} else {
		struct skiff_pkt *p = frame_copy(c, data, size, flags, fix, defer ? &dsel[n] : NULL);
		if (p)
			pkts[n++] = p;
	}

	if (mode & MODE_ONE_BY_ONE) {
		for (unsigned i = 0; i < n; i++) {
			if (defer && dsel[i]) {
				tcp_steer(c, dsel[i], skiff_pkt_data(pkts[i]), pkts[i]->len);
				if (fix)
					fix_csums(skiff_pkt_data(pkts[i]), pkts[i]->len);
			}
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
		if (c->tcp_on && i == FZ_RELEASE_STEPS / 2)
			tcp_abort_users(c);
		advance_stepwise(c, FZ_RELEASE_STEP_NS);
		drain_all(c);
		check_accounting(c);
	}
	if (c->tcp_on)
		tcp_end(c);
	check_released(c);
	check_addrs(c);
	if (config_drifted(c))
		teardown(c);
	return 0;
}
