/* test_udp.c — UDP sockets in the dataplane: bind rules (Linux's), ephemeral
 * ports, connect/disconnect, unicast/broadcast/SO_REUSEPORT delivery, checksums
 * and length checks on input, receive-buffer limit, MSG_PEEK/MSG_TRUNC and
 * scatter, send errors, the largest datagram (45 fragments), gather with odd
 * pieces, SO_NO_CHECK and the 0 → 0xffff checksum rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/neigh.h"
#include "dataplane/ip4.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

static int setup(void **state)
{
	static struct harness h;
	assert_int_equal(h_init(&h, NULL), 0);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	h_fini(*state);
	return 0;
}

static struct skiff_udp_sock *open_bound(struct harness *h, uint32_t addr, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr a = skiff_addr_v4(addr);
	assert_non_null(sk);
	assert_int_equal(skiff_udp_bind(h->st, sk, &a, port), 0);
	return sk;
}

static void test_receive_unicast(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_bound(h, 0, 5000);
	uint8_t f[256], buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	uint16_t sport;
	size_t dlen;
	long n;

	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "hello", 5));
	n = skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, &sport, &dlen);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(src.v4, H_PEER_IP);
	assert_int_equal(sport, 4000);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	skiff_udp_close(h->st, sk);
}

static void test_send_resolves_then_transmits(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_bound(h, 0, 0);
	struct skiff_addr dst = skiff_addr_v4(H_PEER_IP);
	struct iovec iov = { "ping", 4 };
	struct skiff_pkt *p;
	uint8_t f[128];

	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 7, 0, h->now), 4);
	/* first an ARP request, the datagram held */
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_ARP);
	skiff_pkt_free(p);
	assert_null(h_tx_pop(h));
	assert_int_equal(skiff_neigh_held(h->st), 1);
	/* the reply releases it */
	h_inject(h, f, fb_arp(f, 2, h_peer_mac, H_PEER_IP, h_local_mac, H_LOCAL_IP, h_local_mac));
	p = h_tx_pop(h);
	assert_non_null(p);
	{
		const uint8_t *d = skiff_pkt_data(p);
		assert_memory_equal(d, h_peer_mac, 6);
		assert_int_equal(ld16(d + 12), ETH_TYPE_IP4);
		assert_int_equal(d[14 + 9], 17);
		assert_int_equal(ld32(d + 14 + 16), H_PEER_IP);
		assert_int_equal(ld16(d + 34 + 2), 7);
		assert_memory_equal(d + 42, "ping", 4);
		/* UDP checksum verifies */
		assert_int_equal(csum_fold(csum_partial(d + 34, 12, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 12))), 0);
	}
	skiff_pkt_free(p);
	skiff_udp_close(h->st, sk);
}

/* ---- helpers for the tests below ---- */

#define FRAME_CAP (2048u + SKIFF_HEADROOM) /* the harness's buffer size */

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

/* The peer's MAC confirmed, so sends go straight to the wire. */
static void peer_reachable(struct harness *h)
{
	h_learn_peer(h);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
}

static int setup_reachable(void **state)
{
	setup(state);
	peer_reachable(*state);
	return 0;
}

static int setup_small_range(void **state)
{
	static struct harness h;
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.ephemeral_lo = 40000;
	c.ephemeral_hi = 40009;
	assert_int_equal(h_init(&h, &c), 0);
	*state = &h;
	return 0;
}

/* Sockets closed by the test, transmit queue flushed: every frame is back. */
static int teardown_check(void **state)
{
	struct harness *h = *state;
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), skiff_mempool_count(h->mp));
	h_fini(h);
	return 0;
}

static struct skiff_udp_sock *open_sock(struct harness *h)
{
	int err = 1;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	assert_non_null(sk);
	assert_int_equal(err, 0);
	return sk;
}

static int bind_to(struct harness *h, struct skiff_udp_sock *sk, uint32_t addr, uint16_t port)
{
	struct skiff_addr a = skiff_addr_v4(addr);
	return skiff_udp_bind(h->st, sk, &a, port);
}

/* A UDP datagram from src:sport to dst:dport; link-layer broadcast when dst is one. */
static void inject_udp(struct harness *h, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const char *s)
{
	uint8_t f[256];
	size_t n = fb_udp4(f, src, dst, sport, dport, s, strlen(s));
	if (skiff_stack_is_bcast4(h->st, dst))
		memset(f, 0xff, 6);
	h_inject(h, f, n);
}

static long recv_str(struct harness *h, struct skiff_udp_sock *sk, char *buf, size_t cap, uint16_t *sport)
{
	struct iovec iov = { buf, cap - 1 };
	long n = skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, sport, NULL);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static long send_to(struct harness *h, struct skiff_udp_sock *sk, uint32_t dst, uint16_t dport, const void *d,
		    size_t n)
{
	struct iovec iov = { (void *)d, n };
	struct skiff_addr a = skiff_addr_v4(dst);
	return skiff_udp_send(h->st, sk, &iov, 1, &a, dport, 0, h->now);
}

/* Pop a transmitted UDP frame (untagged) and return a pointer to its UDP header. */
static struct skiff_pkt *pop_udp(struct harness *h, const uint8_t **udp)
{
	struct skiff_pkt *p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_IP4);
	assert_int_equal(skiff_pkt_data(p)[14 + 9], IPPROTO_UDP_);
	*udp = skiff_pkt_data(p) + 34;
	return p;
}

/* ---- sends to our own address, loopback, multicast TTL, reconnect ---- */

/* A datagram to one of our own addresses is looped back inside the stack (no
 * frame leaves, no ARP), from that address; fragmented ones are reassembled. */
static void test_send_to_self(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *srv = open_sock(h), *cli = open_sock(h);
	static uint8_t big[20000], in[20000];
	struct iovec iov = { in, sizeof(in) };
	struct skiff_addr src;
	uint16_t sport;
	char buf[32];

	assert_int_equal(bind_to(h, srv, 0, 7000), 0);
	assert_int_equal(send_to(h, cli, H_LOCAL_IP, 7000, "self", 4), 4);
	assert_int_equal(h_tx_count(h), 0);
	assert_true(skiff_stack_next_deadline(h->st) <= h->now); /* poll me now */
	assert_int_equal(recv_str(h, srv, buf, sizeof(buf), &sport), -EAGAIN);
	skiff_stack_poll(h->st, h->now);
	assert_int_equal(skiff_udp_recv(h->st, srv, &iov, 1, 0, &src, &sport, NULL), 4);
	assert_int_equal(src.v4, H_LOCAL_IP);
	assert_int_equal(sport, cli->lport);
	assert_int_equal(cli->laddr.v4, 0); /* unconnected sends do not fix the source */
	/* the reply goes back the same way */
	assert_int_equal(send_to(h, srv, H_LOCAL_IP, sport, "back", 4), 4);
	skiff_stack_poll(h->st, h->now);
	assert_int_equal(recv_str(h, cli, buf, sizeof(buf), NULL), 4);
	assert_string_equal(buf, "back");
	/* 20000 bytes: 14 fragments, reassembled */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(send_to(h, cli, H_LOCAL_IP, 7000, big, sizeof(big)), (long)sizeof(big));
	skiff_stack_poll(h->st, h->now);
	assert_int_equal(skiff_udp_recv(h->st, srv, &iov, 1, 0, NULL, NULL, NULL), (long)sizeof(big));
	assert_memory_equal(in, big, sizeof(big));
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 1);
	/* a closed port: the ICMP error reaches a connected sender directly */
	assert_int_equal(skiff_udp_connect(h->st, cli, &(struct skiff_addr){ .family = SKIFF_AF_INET, .v4 = H_LOCAL_IP },
					   7001, h->now), 0);
	assert_int_equal(cli->laddr.v4, H_LOCAL_IP);
	assert_int_equal(skiff_udp_send(h->st, cli, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), 1);
	skiff_stack_poll(h->st, h->now);
	assert_int_equal(skiff_udp_send(h->st, cli, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), -ECONNREFUSED);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(h->st->ctr.drop[SKIFF_DROP_IP4_BAD_SRC], 0);
	skiff_udp_close(h->st, srv);
	skiff_udp_close(h->st, cli);
}

/* The host loopback (127/8), 0/8 and class E are not reachable through skiff. */
static void test_send_loopback_unreachable(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	assert_int_equal(send_to(h, sk, 0x7f000001u, 9, "x", 1), -ENETUNREACH);
	assert_int_equal(send_to(h, sk, 0x00000000u, 9, "x", 1), -ENETUNREACH);
	assert_int_equal(send_to(h, sk, 0xf0000001u, 9, "x", 1), -ENETUNREACH);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, sk);
}

/* RFC 1112 6.1: multicast goes out with TTL 1 unless IP_MULTICAST_TTL says
 * otherwise; unicast keeps IP_TTL. */
static void test_multicast_ttl(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	const uint8_t *u;
	struct skiff_pkt *p;

	assert_int_equal(send_to(h, sk, 0xef010203u, 9, "m", 1), 1);
	p = pop_udp(h, &u);
	assert_int_equal(skiff_pkt_data(p)[14 + 8], 1);
	assert_memory_equal(skiff_pkt_data(p), "\x01\x00\x5e\x01\x02\x03", 6);
	skiff_pkt_free(p);
	sk->mcast_ttl = 9;
	assert_int_equal(send_to(h, sk, 0xef010203u, 9, "m", 1), 1);
	p = pop_udp(h, &u);
	assert_int_equal(skiff_pkt_data(p)[14 + 8], 9);
	skiff_pkt_free(p);
	assert_int_equal(send_to(h, sk, H_PEER_IP, 9, "u", 1), 1);
	p = pop_udp(h, &u);
	assert_int_equal(skiff_pkt_data(p)[14 + 8], 64);
	skiff_pkt_free(p);
	skiff_udp_close(h->st, sk);
}

/* Linux ip4_datagram_connect: the source the first connect picked stays when the
 * socket connects elsewhere; AF_UNSPEC clears it (the address was not bound). */
static void test_reconnect_keeps_source(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), other = skiff_addr_v4(0x0a000001u), none;

	assert_int_equal(skiff_route_add4(h->st, 0x0a000000u, 8, H_OTHER_IP, h->ifindex, 0), 0);
	assert_int_equal(skiff_udp_connect(h->st, sk, &peer, 9, h->now), 0);
	assert_int_equal(sk->laddr.v4, H_LOCAL_IP);
	assert_int_equal(skiff_udp_connect(h->st, sk, &other, 9, h->now), 0);
	assert_int_equal(sk->laddr.v4, H_LOCAL_IP);
	memset(&none, 0, sizeof(none));
	assert_int_equal(skiff_udp_connect(h->st, sk, &none, 0, h->now), 0);
	assert_int_equal(sk->laddr.v4, 0);
	skiff_udp_close(h->st, sk);
}

/* ---- bind ---- */

static void test_bind_rules(void **state)
{
	struct harness *h = *state;
	const uint32_t a10 = 0xc612000au; /* 198.18.0.10, a second address */
	struct skiff_udp_sock *s[12];
	struct skiff_addr a6;

	for (int i = 0; i < 12; i++)
		s[i] = open_sock(h);
	assert_int_equal(skiff_stack_add_addr4(h->st, h->ifindex, a10, 24, h->now), 0);

	/* same port, same or overlapping address */
	assert_int_equal(bind_to(h, s[0], 0, 6000), 0);
	assert_int_equal(bind_to(h, s[1], 0, 6000), -EADDRINUSE);
	assert_int_equal(bind_to(h, s[1], H_LOCAL_IP, 6000), -EADDRINUSE); /* specific under a wildcard */
	assert_int_equal(bind_to(h, s[1], H_LOCAL_IP, 6001), 0);
	assert_int_equal(bind_to(h, s[2], 0, 6001), -EADDRINUSE); /* wildcard over a specific */
	assert_int_equal(bind_to(h, s[2], H_LOCAL_IP, 6001), -EADDRINUSE);
	/* different specific addresses share a port */
	assert_int_equal(bind_to(h, s[2], a10, 6001), 0);
	/* SO_REUSEADDR on both */
	s[3]->reuseaddr = s[4]->reuseaddr = true;
	assert_int_equal(bind_to(h, s[3], 0, 6002), 0);
	assert_int_equal(bind_to(h, s[4], 0, 6002), 0);
	assert_int_equal(bind_to(h, s[5], 0, 6002), -EADDRINUSE); /* the newcomer lacks it */
	s[5]->reuseport = true;
	assert_int_equal(bind_to(h, s[5], 0, 6002), -EADDRINUSE); /* SO_REUSEPORT does not pair with SO_REUSEADDR */
	/* SO_REUSEPORT on both */
	s[6]->reuseport = s[7]->reuseport = true;
	assert_int_equal(bind_to(h, s[6], 0, 6003), 0);
	assert_int_equal(bind_to(h, s[7], 0, 6003), 0);
	assert_int_equal(bind_to(h, s[8], 0, 6003), -EADDRINUSE);
	/* not one of our addresses */
	assert_int_equal(bind_to(h, s[8], H_PEER_IP, 6004), -EADDRNOTAVAIL);
	assert_int_equal(bind_to(h, s[8], 0x0a000001u, 6004), -EADDRNOTAVAIL);
	/* our subnet broadcast is bindable, as on Linux */
	assert_int_equal(bind_to(h, s[8], H_BCAST_IP, 6004), 0);
	/* twice */
	assert_int_equal(bind_to(h, s[0], 0, 6010), -EINVAL);
	assert_int_equal(bind_to(h, s[8], 0, 0), -EINVAL);
	assert_int_equal(s[0]->lport, 6000);
	/* another family */
	memset(&a6, 0, sizeof(a6));
	a6.family = SKIFF_AF_INET6;
	assert_int_equal(skiff_udp_bind(h->st, s[9], &a6, 6005), -EAFNOSUPPORT);
	/* close frees the port */
	assert_int_equal(bind_to(h, s[9], 0, 6000), -EADDRINUSE);
	skiff_udp_close(h->st, s[0]);
	assert_int_equal(bind_to(h, s[9], 0, 6000), 0);
	for (int i = 1; i < 12; i++)
		skiff_udp_close(h->st, s[i]);
	/* AF_INET and AF_INET6 only */
	{
		int err = 0;
		assert_null(skiff_udp_open(h->st, SKIFF_AF_NONE, &err));
		assert_int_equal(err, -EAFNOSUPPORT);
	}
}

/* ephemeral range 40000..40009 */
static void test_ephemeral_small_range(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *s[11];
	bool seen[10] = { false };

	s[0] = open_sock(h);
	assert_int_equal(bind_to(h, s[0], 0, 40005), 0); /* one taken explicitly */
	seen[5] = true;
	for (int i = 1; i < 10; i++) {
		s[i] = open_sock(h);
		assert_int_equal(bind_to(h, s[i], 0, 0), 0);
		assert_true(s[i]->lport >= 40000 && s[i]->lport <= 40009);
		assert_false(seen[s[i]->lport - 40000]);
		seen[s[i]->lport - 40000] = true;
	}
	/* the range is exhausted: Linux says EADDRINUSE */
	s[10] = open_sock(h);
	assert_int_equal(bind_to(h, s[10], 0, 0), -EADDRINUSE);
	assert_int_equal(send_to(h, s[10], H_PEER_IP, 9, "x", 1), -EADDRINUSE); /* autobind too */
	assert_false(s[10]->bound);
	/* one freed: the next ephemeral bind finds exactly it */
	{
		uint16_t freed = s[3]->lport;
		skiff_udp_close(h->st, s[3]);
		assert_int_equal(bind_to(h, s[10], 0, 0), 0);
		assert_int_equal(s[10]->lport, freed);
		s[3] = s[10];
	}
	for (int i = 0; i < 10; i++)
		skiff_udp_close(h->st, s[i]);
}

static void test_ephemeral_default_range(void **state)
{
	struct harness *h = *state;
	static struct skiff_udp_sock *s[200];
	const uint16_t lo = h->st->cfg.ephemeral_lo, hi = h->st->cfg.ephemeral_hi;
	assert_int_equal(lo, 32768);
	assert_int_equal(hi, 60999);
	for (int i = 0; i < 200; i++) {
		s[i] = open_sock(h);
		if (i % 2)
			assert_int_equal(bind_to(h, s[i], 0, 0), 0);
		else /* autobind on the first send */
			assert_int_equal(send_to(h, s[i], H_PEER_IP, 9, "x", 1), 1);
		assert_true(s[i]->bound);
		assert_true(s[i]->lport >= lo && s[i]->lport <= hi);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(s[i]->lport, s[j]->lport);
	}
	for (int i = 0; i < 200; i++)
		skiff_udp_close(h->st, s[i]);
	h_tx_flush(h);
}

/* ---- connect ---- */

static void test_connect_filters(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *conn = open_sock(h), *wild = open_sock(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	char buf[32];
	uint16_t sport;

	conn->reuseaddr = wild->reuseaddr = true;
	assert_int_equal(bind_to(h, conn, 0, 7000), 0);
	assert_int_equal(skiff_udp_connect(h->st, conn, &peer, 4000, h->now), 0);
	assert_true(conn->connected);
	assert_int_equal(conn->laddr.v4, H_LOCAL_IP); /* connect picks the source, as Linux */
	assert_int_equal(h_tx_count(h), 0);           /* and sends nothing */
	assert_int_equal(bind_to(h, wild, 0, 7000), 0);

	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 7000, "from-peer");
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4001, 7000, "other-port");
	inject_udp(h, H_OTHER_IP, H_LOCAL_IP, 4000, 7000, "other-host");
	assert_int_equal(conn->rq_count, 1);
	assert_int_equal(wild->rq_count, 2);
	assert_int_equal(recv_str(h, conn, buf, sizeof(buf), &sport), 9);
	assert_string_equal(buf, "from-peer");
	assert_int_equal(recv_str(h, wild, buf, sizeof(buf), &sport), 10);
	assert_string_equal(buf, "other-port");
	assert_int_equal(sport, 4001);
	assert_int_equal(recv_str(h, wild, buf, sizeof(buf), &sport), 10);
	assert_string_equal(buf, "other-host");

	/* without the wildcard socket, others get port unreachable */
	skiff_udp_close(h->st, wild);
	peer_reachable(h);
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4001, 7000, "nobody");
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	assert_int_equal(conn->rq_count, 0);
	{
		struct skiff_pkt *p = h_tx_pop(h);
		assert_non_null(p);
		assert_int_equal(skiff_pkt_data(p)[34], ICMP4_DEST_UNREACH);
		assert_int_equal(skiff_pkt_data(p)[35], ICMP4_PORT_UNREACH);
		skiff_pkt_free(p);
	}
	/* send with no address goes to the peer */
	assert_int_equal(skiff_udp_send(h->st, conn, &(struct iovec){ "hi", 2 }, 1, NULL, 0, 0, h->now), 2);
	{
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		assert_int_equal(ld32(u - 4), H_PEER_IP);
		assert_int_equal(ld16(u), 7000);
		assert_int_equal(ld16(u + 2), 4000);
		skiff_pkt_free(p);
	}
	skiff_udp_close(h->st, conn);
}

static void test_disconnect(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *a = open_sock(h), *b = open_sock(h), *c = open_sock(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), none;
	char buf[32];

	memset(&none, 0, sizeof(none));
	none.family = SKIFF_AF_NONE;
	/* autobound by connect: disconnect unbinds (the port was not the user's) */
	assert_int_equal(skiff_udp_connect(h->st, a, &peer, 4000, h->now), 0);
	assert_true(a->bound);
	assert_true(a->lport >= 32768);
	assert_int_equal(a->laddr.v4, H_LOCAL_IP); /* getsockname shows the source, as Linux */
	/* and it sends from there */
	assert_int_equal(skiff_udp_send(h->st, a, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), 1);
	{
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		assert_int_equal(ld32(u - 8), H_LOCAL_IP);
		assert_int_equal(ld16(u), a->lport);
		skiff_pkt_free(p);
	}
	assert_int_equal(skiff_udp_connect(h->st, a, &none, 0, h->now), 0);
	assert_false(a->connected);
	assert_false(a->bound);
	assert_int_equal(a->lport, 0);
	assert_true(skiff_addr_is_any(&a->laddr));
	assert_int_equal(skiff_udp_send(h->st, a, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), -EDESTADDRREQ);

	/* bound by the user to a port: stays bound, address back to the wildcard */
	assert_int_equal(bind_to(h, b, 0, 7100), 0);
	assert_int_equal(skiff_udp_connect(h->st, b, &peer, 4000, h->now), 0);
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4001, 7100, "filtered"); /* → port unreachable */
	assert_int_equal(b->rq_count, 0);
	assert_int_equal(skiff_udp_connect(h->st, b, &none, 0, h->now), 0);
	assert_false(b->connected);
	assert_true(b->bound);
	assert_int_equal(b->lport, 7100);
	assert_true(skiff_addr_is_any(&b->laddr));
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4001, 7100, "anyone");
	assert_int_equal(recv_str(h, b, buf, sizeof(buf), NULL), 6);
	assert_string_equal(buf, "anyone");

	/* bound to an address: keeps it */
	assert_int_equal(bind_to(h, c, H_LOCAL_IP, 7101), 0);
	assert_int_equal(skiff_udp_connect(h->st, c, &peer, 4000, h->now), 0);
	assert_int_equal(skiff_udp_connect(h->st, c, &none, 0, h->now), 0);
	assert_int_equal(c->laddr.v4, H_LOCAL_IP);
	assert_int_equal(c->lport, 7101);
	/* connecting to a broadcast needs SO_BROADCAST */
	{
		struct skiff_addr bc = skiff_addr_v4(H_BCAST_IP);
		assert_int_equal(skiff_udp_connect(h->st, c, &bc, 9, h->now), -EACCES);
		c->broadcast = true;
		assert_int_equal(skiff_udp_connect(h->st, c, &bc, 9, h->now), 0);
	}
	skiff_udp_close(h->st, a);
	skiff_udp_close(h->st, b);
	skiff_udp_close(h->st, c);
	h_tx_flush(h);
}

/* ---- delivery ---- */

static void test_broadcast_copies(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *w1 = open_sock(h), *w2 = open_sock(h), *uni = open_sock(h), *bc = open_sock(h),
			      *other = open_sock(h);
	char buf[32];

	w1->reuseaddr = w2->reuseaddr = uni->reuseaddr = bc->reuseaddr = true;
	assert_int_equal(bind_to(h, w1, 0, 8000), 0);
	assert_int_equal(bind_to(h, w2, 0, 8000), 0);
	assert_int_equal(bind_to(h, uni, H_LOCAL_IP, 8000), 0);
	assert_int_equal(bind_to(h, bc, H_BCAST_IP, 8000), 0);
	assert_int_equal(bind_to(h, other, 0, 8001), 0);

	/* directed broadcast: both wildcards and the socket bound to it; not the unicast-bound one */
	inject_udp(h, H_PEER_IP, H_BCAST_IP, 4000, 8000, "to-subnet");
	assert_int_equal(w1->rq_count, 1);
	assert_int_equal(w2->rq_count, 1);
	assert_int_equal(bc->rq_count, 1);
	assert_int_equal(uni->rq_count, 0);
	assert_int_equal(other->rq_count, 0);
	assert_int_equal(recv_str(h, w1, buf, sizeof(buf), NULL), 9);
	assert_string_equal(buf, "to-subnet");
	assert_int_equal(recv_str(h, w2, buf, sizeof(buf), NULL), 9);
	assert_string_equal(buf, "to-subnet");
	assert_int_equal(recv_str(h, bc, buf, sizeof(buf), NULL), 9);
	assert_string_equal(buf, "to-subnet");
	/* limited broadcast: the two wildcards */
	inject_udp(h, H_PEER_IP, 0xffffffffu, 4000, 8000, "to-all");
	assert_int_equal(w1->rq_count + w2->rq_count + bc->rq_count + uni->rq_count, 2);
	assert_int_equal(recv_str(h, w1, buf, sizeof(buf), NULL), 6);
	assert_int_equal(recv_str(h, w2, buf, sizeof(buf), NULL), 6);
	assert_string_equal(buf, "to-all");
	/* unicast: exactly one, the most specific */
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 8000, "unicast");
	assert_int_equal(uni->rq_count, 1);
	assert_int_equal(w1->rq_count + w2->rq_count + bc->rq_count, 0);
	assert_int_equal(total_drops(h), 0);
	skiff_udp_close(h->st, w1);
	skiff_udp_close(h->st, w2);
	skiff_udp_close(h->st, uni);
	skiff_udp_close(h->st, bc);
	skiff_udp_close(h->st, other);
	/* a broadcast nobody wants: dropped, no ICMP */
	inject_udp(h, H_PEER_IP, H_BCAST_IP, 4000, 8000, "to-subnet");
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_reuseport_spread(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *g[4];
	unsigned total = 0;
	for (int i = 0; i < 4; i++) {
		g[i] = open_sock(h);
		g[i]->reuseport = true;
		assert_int_equal(bind_to(h, g[i], 0, 8100), 0);
	}
	for (int i = 0; i < 200; i++)
		inject_udp(h, H_PEER_IP, H_LOCAL_IP, (uint16_t)(10000 + i), 8100, "spread");
	for (int i = 0; i < 4; i++) {
		assert_true(g[i]->rq_count > 0); /* every member gets some */
		assert_true(g[i]->rq_count < 200);
		total += g[i]->rq_count;
	}
	assert_int_equal(total, 200);
	/* one 4-tuple always lands on the same socket */
	for (int i = 0; i < 4; i++) {
		struct iovec iov = { NULL, 0 };
		while (skiff_udp_recv(h->st, g[i], &iov, 0, 0, NULL, NULL, NULL) >= 0)
			;
	}
	for (int i = 0; i < 20; i++)
		inject_udp(h, H_PEER_IP, H_LOCAL_IP, 12345, 8100, "same");
	{
		int hit = 0;
		for (int i = 0; i < 4; i++) {
			if (g[i]->rq_count) {
				assert_int_equal(g[i]->rq_count, 20);
				hit++;
			}
		}
		assert_int_equal(hit, 1);
	}
	for (int i = 0; i < 4; i++)
		skiff_udp_close(h->st, g[i]);
}

/* ---- input checks ---- */

static void test_checksums_in(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	uint8_t f[128];
	char buf[32];
	assert_int_equal(bind_to(h, sk, 0, 5000), 0);

	/* the scapy datagram verifies; one bit off does not */
	h_inject(h, frame_udp_basic, sizeof(frame_udp_basic));
	assert_int_equal(recv_str(h, sk, buf, sizeof(buf), NULL), 5);
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	f[sizeof(frame_udp_basic) - 1] ^= 0x01;
	h_inject(h, f, sizeof(frame_udp_basic));
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st16(f + 34 + 6, (uint16_t)(ld16(f + 34 + 6) + 1));
	h_inject(h, f, sizeof(frame_udp_basic));
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st32(f + 14 + 12, 0xc6120007u); /* source address: covered by the pseudo-header */
	st16(f + 14 + 10, 0);
	st16(f + 14 + 10, csum_buf(f + 14, 20));
	h_inject(h, f, sizeof(frame_udp_basic));
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_BAD_CSUM), 3);
	assert_int_equal(sk->rq_count, 0);
	/* zero means none was computed (RFC 768): accepted */
	h_inject(h, frame_udp_zero_csum, sizeof(frame_udp_zero_csum));
	assert_int_equal(recv_str(h, sk, buf, sizeof(buf), NULL), 6);
	assert_string_equal(buf, "nocsum");
	/* the driver verified it: not checked again */
	{
		struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
		memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
		f[sizeof(frame_udp_basic) - 1] ^= 0x01;
		memcpy(skiff_pkt_put(p, sizeof(frame_udp_basic)), f, sizeof(frame_udp_basic));
		p->flags = SKIFF_PKT_RX_L4_CSUM_GOOD;
		skiff_stack_input(h->st, h->ifindex, &p, 1, h->now);
		assert_int_equal(sk->rq_count, 1);
	}
	assert_int_equal(total_drops(h), 3);
	skiff_udp_close(h->st, sk);
}

static void test_length_checks(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	uint8_t f[128];
	char buf[32];
	size_t n;
	assert_int_equal(bind_to(h, sk, 0, 5000), 0);

	/* UDP_SHORT: fewer than 8 bytes of IP payload */
	for (size_t l = 0; l < 8; l++) {
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, frame_udp_basic + 34, 8);
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_UDP_, 1, 0, l));
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_SHORT), 8);
	/* UDP_BAD_LEN: length field < 8, and > the IP payload */
	memcpy(f, frame_udp_basic, sizeof(frame_udp_basic));
	st16(f + 34 + 4, 7);
	h_inject(h, f, sizeof(frame_udp_basic));
	st16(f + 34 + 4, 0);
	h_inject(h, f, sizeof(frame_udp_basic));
	st16(f + 34 + 4, 14); /* 13 bytes there */
	h_inject(h, f, sizeof(frame_udp_basic));
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_BAD_LEN), 3);
	/* a UDP length shorter than the IP payload: the rest is not data and not summed */
	n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "ab", 2);
	memcpy(f + n, "JUNK", 4);
	fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_UDP_, 0x1234, 0, 8 + 2 + 4);
	h_inject(h, f, n + 4);
	assert_int_equal(recv_str(h, sk, buf, sizeof(buf), NULL), 2);
	assert_string_equal(buf, "ab");
	/* UDP_ZERO_PORT: destination 0; a source port of 0 is legal ("not used") */
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 0, "zero");
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_ZERO_PORT), 1);
	{
		uint16_t sport = 99;
		inject_udp(h, H_PEER_IP, H_LOCAL_IP, 0, 5000, "nosrc");
		assert_int_equal(recv_str(h, sk, buf, sizeof(buf), &sport), 5);
		assert_int_equal(sport, 0);
	}
	assert_int_equal(total_drops(h), 8 + 3 + 1);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, sk);
}

static void test_no_port(void **state)
{
	struct harness *h = *state;
	struct skiff_pkt *p;
	h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	assert_int_equal(total_drops(h), 1);
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, 34 + sizeof(frame_icmp_port_unreach_l4));
	assert_memory_equal(skiff_pkt_data(p) + 34, frame_icmp_port_unreach_l4, sizeof(frame_icmp_port_unreach_l4));
	skiff_pkt_free(p);
	assert_null(h_tx_pop(h));
}

static void test_rcvbuf_full(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	const uint32_t truesize = FRAME_CAP + (uint32_t)sizeof(struct skiff_pkt);
	unsigned fits;
	char buf[16];
	assert_int_equal(bind_to(h, sk, 0, 5000), 0);

	/* SO_RCVBUF as Linux: doubled, clamped to rmem_max, floored at 2304 */
	assert_int_equal(skiff_udp_set_rcvbuf(h->st, sk, 5000), 0);
	assert_int_equal(sk->rcvbuf, 10000);
	skiff_udp_set_rcvbuf(h->st, sk, 1 << 30);
	assert_int_equal(sk->rcvbuf, 2 * h->st->cfg.rcvbuf_max);
	skiff_udp_set_rcvbuf(h->st, sk, -1); /* compared as u32: as large as allowed */
	assert_int_equal(sk->rcvbuf, 2 * h->st->cfg.rcvbuf_max);
	skiff_udp_set_rcvbuf(h->st, sk, 0);
	assert_int_equal(sk->rcvbuf, 2304);

	/* accepted while the queue is at or under the limit (so one over it fits) */
	fits = sk->rcvbuf / truesize + 1;
	assert_int_equal(fits, 2);
	for (unsigned i = 0; i < fits + 3; i++)
		inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "fill");
	assert_int_equal(sk->rq_count, fits);
	assert_int_equal(sk->rcv_bytes, fits * truesize);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_RCVBUF_FULL), 3);
	assert_int_equal(sk->drops, 3);
	/* reading one makes room for one */
	assert_int_equal(recv_str(h, sk, buf, sizeof(buf), NULL), 4);
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "more");
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "more");
	assert_int_equal(sk->rq_count, fits);
	assert_int_equal(sk->drops, 4);
	assert_int_equal(h_tx_count(h), 0); /* no ICMP for this */
	/* the boundary: a queue exactly at SO_RCVBUF still accepts one more */
	while (recv_str(h, sk, buf, sizeof(buf), NULL) >= 0)
		;
	skiff_udp_set_rcvbuf(h->st, sk, (int)truesize); /* doubled: exactly two frames */
	assert_int_equal(sk->rcvbuf, 2 * truesize);
	for (int i = 0; i < 5; i++)
		inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "edge");
	assert_int_equal(sk->rq_count, 3);
	assert_int_equal(sk->drops, 6);
	skiff_udp_close(h->st, sk);
}

/* ---- receive flags ---- */

static void test_peek_and_trunc(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	char buf[32], a[3], b[3], c[10];
	struct iovec iov = { buf, sizeof(buf) }, small = { buf, 4 }, three[3] = { { a, 3 }, { b, 3 }, { c, 10 } };
	size_t dlen = 0;
	assert_int_equal(bind_to(h, sk, 0, 5000), 0);

	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "peekaboo");
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "0123456789");
	assert_true(skiff_udp_events(sk) & SKIFF_EV_IN);
	/* MSG_PEEK leaves it */
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, SKIFF_MSG_PEEK, NULL, NULL, &dlen), 8);
	assert_int_equal(dlen, 8);
	assert_memory_equal(buf, "peekaboo", 8);
	assert_int_equal(sk->rq_count, 2);
	assert_int_equal(skiff_udp_next_len(sk), 8);
	assert_int_equal(skiff_udp_recv(h->st, sk, &small, 1, SKIFF_MSG_PEEK | SKIFF_MSG_TRUNC, NULL, NULL, NULL), 8);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), 8);
	assert_int_equal(sk->rq_count, 1);
	/* a short buffer: the rest is discarded; MSG_TRUNC reports the real length */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(skiff_udp_recv(h->st, sk, &small, 1, SKIFF_MSG_PEEK, NULL, NULL, &dlen), 4);
	assert_int_equal(dlen, 10);
	assert_int_equal(skiff_udp_recv(h->st, sk, &small, 1, SKIFF_MSG_TRUNC, NULL, NULL, &dlen), 10);
	assert_memory_equal(buf, "0123", 4);
	assert_int_equal(buf[4], 0);
	assert_int_equal(sk->rq_count, 0);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	assert_false(skiff_udp_events(sk) & SKIFF_EV_IN);
	/* scatter over several iovecs */
	inject_udp(h, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "abcdefghij");
	assert_int_equal(skiff_udp_recv(h->st, sk, three, 3, 0, NULL, NULL, NULL), 10);
	assert_memory_equal(a, "abc", 3);
	assert_memory_equal(b, "def", 3);
	assert_memory_equal(c, "ghij", 4);
	/* readiness: the socket was put on the ready list by the arrivals */
	assert_ptr_equal(skiff_udp_ready_pop(h->st), sk);
	assert_null(skiff_udp_ready_pop(h->st));
	skiff_udp_close(h->st, sk);
}

/* A 3000-byte datagram received as a chain, read through odd-sized iovecs. */
static void test_recv_chain_scatter(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	static uint8_t dg[3008], f[1600], out[3000];
	static struct iovec iov[1200];
	size_t pos = 0;
	int k = 0;
	assert_int_equal(bind_to(h, sk, 0, 5000), 0);
	st16(dg, 4000);
	st16(dg + 2, 5000);
	st16(dg + 4, 3008);
	for (int i = 0; i < 3000; i++)
		dg[8 + i] = (uint8_t)(i * 3 + 1);
	st16(dg + 6, csum_fold(csum_partial(dg, 3008, csum_pseudo4(H_PEER_IP, H_LOCAL_IP, 17, 3008))));
	for (size_t off = 0; off < 3008; off += 1480) {
		size_t len = 3008 - off < 1480 ? 3008 - off : 1480;
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, dg + off, len);
		h_inject(h, f,
			 fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 99, (uint16_t)(off / 8 | (off + len < 3008 ? IP4_FLAG_MF : 0)),
				len));
	}
	assert_int_equal(skiff_udp_next_len(sk), 3000);
	while (pos < sizeof(out)) {
		size_t l = (size_t)(k % 3 == 0 ? 7 : k % 3 == 1 ? 1 : 0);
		if (pos + l > sizeof(out))
			l = sizeof(out) - pos;
		iov[k].iov_base = out + pos;
		iov[k].iov_len = l;
		pos += l;
		k++;
	}
	assert_int_equal(skiff_udp_recv(h->st, sk, iov, k, 0, NULL, NULL, NULL), 3000);
	assert_memory_equal(out, dg + 8, 3000);
	assert_int_equal(total_drops(h), 0);
	skiff_udp_close(h->st, sk);
}

/* ---- send ---- */

static void test_send_errors(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	static uint8_t big[65508];
	struct skiff_addr a6;

	assert_int_equal(send_to(h, sk, H_PEER_IP, 9, big, 65508), -EMSGSIZE);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), -EDESTADDRREQ);
	assert_int_equal(send_to(h, sk, H_PEER_IP, 0, "x", 1), -EINVAL);
	assert_int_equal(send_to(h, sk, H_BCAST_IP, 9, "x", 1), -EACCES);
	assert_int_equal(send_to(h, sk, 0xffffffffu, 9, "x", 1), -EACCES);
	assert_int_equal(send_to(h, sk, 0x0a000001u, 9, "x", 1), -ENETUNREACH);
	memset(&a6, 0, sizeof(a6));
	a6.family = SKIFF_AF_INET6;
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &a6, 9, 0, h->now), -EAFNOSUPPORT);
	assert_int_equal(h_tx_count(h), 0);
	assert_false(sk->bound); /* no failed send bound it */
	/* SO_BROADCAST: goes out to the broadcast MAC */
	sk->broadcast = true;
	assert_int_equal(send_to(h, sk, H_BCAST_IP, 9, "bc", 2), 2);
	assert_int_equal(send_to(h, sk, 0xffffffffu, 9, "bc", 2), 2);
	for (int i = 0; i < 2; i++) {
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		assert_memory_equal(skiff_pkt_data(p), "\xff\xff\xff\xff\xff\xff", 6);
		assert_int_equal(ld32(u - 4), i ? 0xffffffffu : H_BCAST_IP);
		assert_int_equal(ld32(u - 8), H_LOCAL_IP);
		skiff_pkt_free(p);
	}
	skiff_udp_close(h->st, sk);
}

static void test_send_largest(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	static uint8_t msg[65507], dg[65515];
	size_t off = 0;
	uint16_t id = skiff_ip4_id_peek(h->st, H_PEER_IP, IPPROTO_UDP_);
	assert_int_equal(bind_to(h, sk, 0, 4567), 0);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i ^ (i >> 7));
	assert_int_equal(send_to(h, sk, H_PEER_IP, 9, msg, sizeof(msg)), 65507);
	assert_int_equal(h_tx_count(h), 45);
	for (int i = 0; i < 45; i++) {
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		const uint8_t *ip = u - 20;
		size_t len = ld16(ip + 2) - 20u;
		assert_int_equal(len, i < 44 ? 1480 : 65515 - 44 * 1480);
		assert_int_equal(ld16(ip + 4), id);
		assert_int_equal(ld16(ip + 6), (i < 44 ? IP4_FLAG_MF : 0) | (off / 8));
		assert_int_equal(csum_buf(ip, 20), 0);
		memcpy(dg + off, u, len);
		off += len;
		skiff_pkt_free(p);
	}
	assert_int_equal(off, sizeof(dg));
	assert_int_equal(ld16(dg + 4), 65515);
	assert_int_equal(csum_fold(csum_partial(dg, sizeof(dg), csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 65515))), 0);
	assert_memory_equal(dg + 8, msg, sizeof(msg));
	skiff_udp_close(h->st, sk);
}

/* Several iovecs of odd sizes, across fragment boundaries: the checksum is
 * summed piecewise at odd stream offsets and must still verify. */
static void test_send_gather(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	static uint8_t msg[4000], dg[4008];
	struct iovec iov[13];
	size_t pos = 0, off = 0;
	int n = 0;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 11 + 5);
	while (pos < sizeof(msg)) {
		size_t l = n == 3 ? 0 : (size_t)(333 + 2 * n); /* 333, 335, 337, 0, 341 ... (odd) */
		if (pos + l > sizeof(msg) || n == 12)
			l = sizeof(msg) - pos;
		iov[n].iov_base = msg + pos;
		iov[n].iov_len = l;
		pos += l;
		n++;
	}
	assert_int_equal(bind_to(h, sk, 0, 4568), 0);
	{
		struct skiff_addr d = skiff_addr_v4(H_PEER_IP);
		assert_int_equal(skiff_udp_send(h->st, sk, iov, n, &d, 9, 0, h->now), 4000);
	}
	assert_int_equal(h_tx_count(h), 3);
	for (int i = 0; i < 3; i++) {
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		size_t len = ld16(u - 20 + 2) - 20u;
		memcpy(dg + off, u, len);
		off += len;
		skiff_pkt_free(p);
	}
	assert_int_equal(off, sizeof(dg));
	assert_int_equal(csum_fold(csum_partial(dg, sizeof(dg), csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 4008))), 0);
	assert_memory_equal(dg + 8, msg, sizeof(msg));
	/* a small gather with 1-byte pieces */
	{
		struct iovec g[4] = { { "a", 1 }, { "bcd", 3 }, { "", 0 }, { "e", 1 } };
		struct skiff_addr d = skiff_addr_v4(H_PEER_IP);
		const uint8_t *u;
		struct skiff_pkt *p;
		assert_int_equal(skiff_udp_send(h->st, sk, g, 4, &d, 9, 0, h->now), 5);
		p = pop_udp(h, &u);
		assert_int_equal(ld16(u + 4), 13);
		assert_memory_equal(u + 8, "abcde", 5);
		assert_int_equal(csum_fold(csum_partial(u, 13, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 13))), 0);
		skiff_pkt_free(p);
	}
	/* and an empty datagram */
	assert_int_equal(skiff_udp_send(h->st, sk, NULL, 0, &(struct skiff_addr){ .family = SKIFF_AF_INET, .v4 = H_PEER_IP },
				       9, 0, h->now),
			 0);
	{
		const uint8_t *u;
		struct skiff_pkt *p = pop_udp(h, &u);
		assert_int_equal(ld16(u + 4), 8);
		assert_int_equal(csum_fold(csum_partial(u, 8, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 8))), 0);
		skiff_pkt_free(p);
	}
	skiff_udp_close(h->st, sk);
}

static void test_send_checksum_forms(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_sock(h);
	const uint8_t *u;
	struct skiff_pkt *p;
	uint8_t hdr[8], pay[2];
	uint32_t s;
	uint16_t x;
	assert_int_equal(bind_to(h, sk, 0, 9000), 0);

	/* SO_NO_CHECK: checksum 0 on the wire */
	sk->no_check = true;
	assert_int_equal(send_to(h, sk, H_PEER_IP, 9001, "nocheck", 7), 7);
	p = pop_udp(h, &u);
	assert_int_equal(ld16(u + 6), 0);
	assert_memory_equal(u + 8, "nocheck", 7);
	skiff_pkt_free(p);
	sk->no_check = false;

	/* a payload word chosen so the ones' complement sum is 0xffff: the computed
	 * checksum is 0, which must be sent as 0xffff (RFC 768) */
	st16(hdr, 9000);
	st16(hdr + 2, 9001);
	st16(hdr + 4, 10);
	st16(hdr + 6, 0);
	s = csum_partial(hdr, 8, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 10));
	x = csum_fold(s); /* = ~(folded sum): adding it makes the sum 0xffff */
	st16(pay, x);
	assert_int_equal(csum_fold(csum_partial(pay, 2, s)), 0); /* indeed computes to 0 */
	assert_int_equal(send_to(h, sk, H_PEER_IP, 9001, pay, 2), 2);
	p = pop_udp(h, &u);
	assert_int_equal(ld16(u + 6), 0xffff);
	assert_memory_equal(u + 8, pay, 2);
	/* and 0xffff verifies as -0 */
	assert_int_equal(csum_fold(csum_partial(u, 10, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 10))), 0);
	skiff_pkt_free(p);
	/* the receiver side accepts it too: loop it back into the stack as if from the peer */
	{
		struct skiff_udp_sock *rx = open_sock(h);
		uint8_t f[64], hd[8];
		char buf[8];
		assert_int_equal(bind_to(h, rx, 0, 9001), 0);
		st16(hd, 9000);
		st16(hd + 2, 9001);
		st16(hd + 4, 10);
		st16(hd + 6, 0);
		s = csum_partial(hd, 8, csum_pseudo4(H_PEER_IP, H_LOCAL_IP, 17, 10));
		st16(pay, csum_fold(s));
		h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 9000, 9001, pay, 2));
		assert_int_equal(ld16(f + 34 + 6), 0xffff);
		assert_int_equal(recv_str(h, rx, buf, sizeof(buf), NULL), 2);
		skiff_udp_close(h->st, rx);
	}
	assert_int_equal(total_drops(h), 0);
	skiff_udp_close(h->st, sk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_receive_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_resolves_then_transmits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bind_rules, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_ephemeral_small_range, setup_small_range, teardown_check),
		cmocka_unit_test_setup_teardown(test_ephemeral_default_range, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_connect_filters, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_disconnect, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_broadcast_copies, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_reuseport_spread, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_checksums_in, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_length_checks, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_no_port, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_rcvbuf_full, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_peek_and_trunc, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_recv_chain_scatter, setup, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_errors, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_largest, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_gather, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_checksum_forms, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_to_self, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_send_loopback_unreachable, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_multicast_ttl, setup_reachable, teardown_check),
		cmocka_unit_test_setup_teardown(test_reconnect_keeps_source, setup_reachable, teardown_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
