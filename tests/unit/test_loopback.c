/* test_loopback.c — the in-stack loopback (dataplane/loopback.c): with it on,
 * 127/8 is served inside one stack (UDP to a socket bound to 127.0.0.1, to
 * 127.0.0.2, to the wildcard; fragments; port unreachable; TCP connect/accept,
 * data both ways, close) and nothing reaches the device; frames come from the
 * pool given or the first interface's. 127/8 from a device is still dropped and
 * counted, a 127/8 source never goes to a device, and with loopback off 127/8
 * stays unreachable; the socket layer can ask whether a 127/8 peer is here. One
 * stack on the harness's fake interface (198.18.0.1/24). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/ip4.h"
#include "dataplane/route.h"
#include "dataplane/tcp.h"
#include "dataplane/udp.h"
#include "tests/lib/harness.h"

#define LO1 0x7f000001u /* 127.0.0.1 */
#define LO2 0x7f000002u /* 127.0.0.2 */
#define SEC 1000000000ull
#define MS 1000000ull

static int setup(void **state)
{
	static struct harness h;
	assert_int_equal(h_init(&h, NULL), 0);
	*state = &h;
	return 0;
}

static int setup_lo(void **state)
{
	struct harness *h;
	setup(state);
	h = *state;
	assert_int_equal(skiff_stack_enable_loopback(h->st, NULL, 0), 1);
	return 0;
}

static int teardown(void **state)
{
	h_fini(*state);
	return 0;
}

/* Poll while looped-back frames (or due timers) wait, as a runtime would. */
static void pump(struct harness *h)
{
	for (int i = 0; i < 100000 && skiff_stack_next_deadline(h->st) <= h->now; i++)
		skiff_stack_poll(h->st, h->now);
}

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

static struct skiff_udp_sock *udp_bound(struct harness *h, uint32_t addr, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr a = skiff_addr_v4(addr);
	assert_non_null(sk);
	if (addr || port)
		assert_int_equal(skiff_udp_bind(h->st, sk, &a, port), 0);
	return sk;
}

static long udp_to(struct harness *h, struct skiff_udp_sock *sk, uint32_t dst, uint16_t port, const void *d, size_t n)
{
	struct iovec iov = { (void *)d, n };
	struct skiff_addr a = skiff_addr_v4(dst);
	return skiff_udp_send(h->st, sk, &iov, 1, &a, port, 0, h->now);
}

static long udp_from(struct harness *h, struct skiff_udp_sock *sk, void *buf, size_t n, uint32_t *src, uint16_t *sport)
{
	struct iovec iov = { buf, n };
	struct skiff_addr a;
	uint16_t p = 0;
	long r = skiff_udp_recv(h->st, sk, &iov, 1, 0, &a, &p, NULL);
	if (r >= 0 && src)
		*src = a.v4;
	if (r >= 0 && sport)
		*sport = p;
	return r;
}

/* ---- off: unchanged ---- */

/* Loopback off (the default): 127/8 is the host's, unreachable through skiff. */
static void test_off_unreachable(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *u = udp_bound(h, 0, 0);
	struct skiff_route_res4 rt;
	struct skiff_addr lo = skiff_addr_v4(LO1);
	struct skiff_tcp_sock *t;
	int err;

	assert_int_equal(h->st->lo_ifindex, -1);
	assert_int_equal(skiff_stack_local4(h->st, LO1), -1);
	assert_int_equal(skiff_route_lookup4(h->st, LO1, -1, &rt), -ENETUNREACH);
	assert_int_equal(skiff_udp_bind(h->st, u, &lo, 7000), -EADDRNOTAVAIL);
	assert_int_equal(udp_to(h, u, LO1, 7000, "x", 1), -ENETUNREACH);
	assert_int_equal(skiff_udp_connect(h->st, u, &lo, 7000, h->now), -ENETUNREACH);
	t = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_non_null(t);
	assert_int_equal(skiff_tcp_bind(h->st, t, &lo, 80), -EADDRNOTAVAIL);
	assert_int_equal(skiff_tcp_connect(h->st, t, &lo, 80, h->now), -ENETUNREACH);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_stack_next_deadline(h->st) <= h->now, 0);
	skiff_tcp_close(h->st, t, h->now);
	skiff_udp_close(h->st, u);
}

/* ---- the interface ---- */

/* Enabling adds "lo" after the device (127.0.0.1/8, MTU and pool of the first
 * interface, no MAC); all of 127/8 is local and routes to it from 127.0.0.1;
 * it takes no addresses and no device input; enabling twice is -EEXIST. */
static void test_enable(void **state)
{
	struct harness *h = *state;
	struct skiff_iface *lo;
	struct skiff_route_res4 rt;
	struct skiff_stack *bare;
	struct skiff_stack_config c;
	struct skiff_mempool *mp;
	struct skiff_pkt *p;
	static const uint8_t zero[6];

	assert_int_equal(skiff_stack_enable_loopback(h->st, NULL, 0), 1);
	assert_int_equal(skiff_stack_enable_loopback(h->st, NULL, 0), -EEXIST);
	lo = skiff_stack_iface(h->st, 1);
	assert_non_null(lo);
	assert_true(lo->loopback && lo->up);
	assert_string_equal(lo->name, "lo");
	assert_int_equal(lo->mtu, 1500);
	assert_memory_equal(lo->mac, zero, 6);
	assert_ptr_equal(lo->pool, skiff_mempool_pool(h->mp));
	assert_int_equal(lo->n_v4, 1);
	assert_int_equal(lo->v4[0].addr, LO1);
	assert_int_equal(lo->v4[0].plen, 8);
	/* every 127/8 address is ours, on lo; others are not */
	assert_int_equal(skiff_stack_local4(h->st, LO1), 1);
	assert_int_equal(skiff_stack_local4(h->st, 0x7f010203u), 1);
	assert_int_equal(skiff_stack_local4(h->st, 0x80000001u), -1);
	assert_int_equal(skiff_stack_local4(h->st, H_LOCAL_IP), 0);
	/* routes: 127/8 to lo from 127.0.0.1 (Linux's src), everything else unchanged */
	assert_int_equal(skiff_route_lookup4(h->st, LO2, -1, &rt), 0);
	assert_int_equal(rt.ifindex, 1);
	assert_int_equal(rt.src, LO1);
	assert_int_equal(rt.nexthop, LO2);
	assert_true(skiff_route_is_local4(h->st, &rt, LO2));
	assert_int_equal(skiff_route_lookup4(h->st, LO1, 0, &rt), 0); /* a device oif does not apply */
	assert_int_equal(rt.ifindex, 1);
	assert_int_equal(skiff_route_lookup4(h->st, H_PEER_IP, -1, &rt), 0);
	assert_int_equal(rt.ifindex, 0);
	assert_false(skiff_route_is_local4(h->st, &rt, H_PEER_IP));
	assert_int_equal(skiff_route_lookup4(h->st, 0xffffffffu, -1, &rt), 0); /* broadcast: the device */
	assert_int_equal(rt.ifindex, 0);
	assert_int_equal(skiff_route_lookup4(h->st, 0x00000001u, -1, &rt), -ENETUNREACH); /* 0/8 still */
	/* no addresses of its own choosing, and no device frames */
	assert_int_equal(skiff_stack_add_addr4(h->st, 1, 0x0a000001u, 8, h->now), -EINVAL);
	assert_int_equal(skiff_stack_del_addr4(h->st, 1, LO1), -EINVAL);
	p = skiff_pool_get(skiff_mempool_pool(h->mp));
	skiff_stack_input(h->st, 1, &p, 1, h->now);
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_NO_IFACE), 1);
	assert_int_equal(h_tx_count(h), 0);

	/* a stack without interfaces: a pool must be given; MTU 1500 by default,
	 * bounded by the frames */
	skiff_stack_config_defaults(&c);
	assert_int_equal(skiff_stack_create(&c, h->now, &bare), 0);
	assert_int_equal(skiff_stack_enable_loopback(bare, NULL, 0), -ENODEV);
	assert_int_equal(skiff_mempool_create(16, 1024 + SKIFF_HEADROOM, &mp), 0);
	assert_int_equal(skiff_stack_enable_loopback(bare, skiff_mempool_pool(mp), 0), -EINVAL);
	assert_int_equal(skiff_stack_enable_loopback(bare, skiff_mempool_pool(mp), 1024), 0);
	assert_int_equal(skiff_stack_iface(bare, 0)->mtu, 1024);
	assert_int_equal(skiff_stack_local4(bare, LO1), 0);
	skiff_stack_destroy(bare);
	skiff_mempool_destroy(mp);
}

/* ---- UDP ---- */

/* UDP to 127.0.0.1 reaches a socket bound to 127.0.0.1 and one bound to the
 * wildcard, from 127.0.0.1; 127.0.0.2 can be bound and reached (the source is
 * still 127.0.0.1, as Linux); a socket bound to 127.0.0.1 does not get 127.0.0.2's
 * datagrams. Nothing reaches the device, nothing is dropped but the no-port case. */
static void test_udp(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *s1 = udp_bound(h, LO1, 7000), *sany = udp_bound(h, 0, 7001);
	struct skiff_udp_sock *s2 = udp_bound(h, LO2, 7002), *cli = udp_bound(h, 0, 0);
	char buf[64];
	uint32_t src;
	uint16_t sport;

	assert_int_equal(udp_to(h, cli, LO1, 7000, "one", 3), 3);
	assert_int_equal(udp_to(h, cli, LO1, 7001, "any", 3), 3);
	assert_int_equal(udp_to(h, cli, LO2, 7002, "two", 3), 3);
	assert_int_equal(h_tx_count(h), 0);
	assert_true(skiff_stack_next_deadline(h->st) <= h->now); /* poll me now */
	assert_int_equal(udp_from(h, s1, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	pump(h);
	assert_int_equal(udp_from(h, s1, buf, sizeof(buf), &src, &sport), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(src, LO1);
	assert_int_equal(sport, cli->lport);
	assert_int_equal(udp_from(h, sany, buf, sizeof(buf), &src, NULL), 3);
	assert_memory_equal(buf, "any", 3);
	assert_int_equal(src, LO1);
	assert_int_equal(udp_from(h, s2, buf, sizeof(buf), &src, NULL), 3);
	assert_memory_equal(buf, "two", 3);
	assert_int_equal(src, LO1);
	assert_int_equal(h->st->ctr.ip4_local, 3);
	/* the reply, from the bound 127.0.0.2 */
	assert_int_equal(udp_to(h, s2, LO1, sport, "back", 4), 4);
	pump(h);
	assert_int_equal(udp_from(h, cli, buf, sizeof(buf), &src, &sport), 4);
	assert_memory_equal(buf, "back", 4);
	assert_int_equal(src, LO2);
	assert_int_equal(sport, 7002);
	/* 127.0.0.2:7000: s1 holds 127.0.0.1 only, so no socket */
	assert_int_equal(udp_to(h, cli, LO2, 7000, "nobody", 6), 6);
	pump(h);
	assert_int_equal(udp_from(h, s1, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	assert_int_equal(total_drops(h), 1);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, s1);
	skiff_udp_close(h->st, sany);
	skiff_udp_close(h->st, s2);
	skiff_udp_close(h->st, cli);
}

/* A datagram larger than the loopback's MTU is fragmented and reassembled; a
 * connected socket sending to a closed 127.0.0.1 port gets ECONNREFUSED (the
 * ICMP error goes to it directly, as for our own addresses). */
static void test_udp_fragments_and_refused(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *srv = udp_bound(h, LO1, 7000), *cli = udp_bound(h, 0, 0);
	static uint8_t big[30000], in[30000];
	struct skiff_addr lo = skiff_addr_v4(LO1);
	struct iovec x = { "x", 1 };

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 5);
	assert_int_equal(udp_to(h, cli, LO1, 7000, big, sizeof(big)), (long)sizeof(big));
	pump(h);
	assert_int_equal(udp_from(h, srv, in, sizeof(in), NULL, NULL), (long)sizeof(big));
	assert_memory_equal(in, big, sizeof(big));
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 1);
	assert_int_equal(h->st->ctr.ip4_local, 21); /* 30008 bytes in 1480-byte fragments */

	assert_int_equal(skiff_udp_connect(h->st, cli, &lo, 7001, h->now), 0);
	assert_int_equal(cli->laddr.v4, LO1);
	assert_int_equal(skiff_udp_send(h->st, cli, &x, 1, NULL, 0, 0, h->now), 1);
	pump(h);
	assert_int_equal(skiff_udp_send(h->st, cli, &x, 1, NULL, 0, 0, h->now), -ECONNREFUSED);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_SRC), 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_MARTIAN_DST), 0);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, srv);
	skiff_udp_close(h->st, cli);
}

/* A pool of its own: looped frames come from it, never from the device's. */
static void test_dedicated_pool(void **state)
{
	struct harness *h = *state;
	struct skiff_mempool *mp;
	struct skiff_udp_sock *srv, *cli;
	unsigned dev_avail;
	char buf[16];

	assert_int_equal(skiff_mempool_create(64, 2048 + SKIFF_HEADROOM, &mp), 0);
	assert_int_equal(skiff_stack_enable_loopback(h->st, skiff_mempool_pool(mp), 1500), 1);
	srv = udp_bound(h, LO1, 7000);
	cli = udp_bound(h, 0, 0);
	dev_avail = skiff_mempool_avail(h->mp);
	assert_int_equal(udp_to(h, cli, LO1, 7000, "pool", 4), 4);
	assert_int_equal(skiff_mempool_avail(mp), 63);
	pump(h);
	assert_int_equal(skiff_mempool_avail(mp), 63); /* on srv's queue */
	assert_int_equal(udp_from(h, srv, buf, sizeof(buf), NULL, NULL), 4);
	assert_int_equal(skiff_mempool_avail(mp), 64);
	assert_int_equal(skiff_mempool_avail(h->mp), dev_avail);
	skiff_udp_close(h->st, srv);
	skiff_udp_close(h->st, cli);
	/* the pool outlives the stack: destroy the stack first */
	h_fini(h);
	skiff_mempool_destroy(mp);
	assert_int_equal(h_init(h, NULL), 0); /* for teardown */
}

/* ---- TCP ---- */

struct tcp_pair {
	struct skiff_tcp_sock *lsk, *cli, *srv;
};

static void tcp_open_pair(struct harness *h, struct tcp_pair *tp, uint32_t listen_addr, uint32_t dst)
{
	struct skiff_addr la = skiff_addr_v4(listen_addr), da = skiff_addr_v4(dst);
	int err;

	tp->lsk = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_non_null(tp->lsk);
	assert_int_equal(skiff_tcp_bind(h->st, tp->lsk, &la, 80), 0);
	assert_int_equal(skiff_tcp_listen(h->st, tp->lsk, 8), 0);
	tp->cli = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_non_null(tp->cli);
	assert_int_equal(skiff_tcp_connect(h->st, tp->cli, &da, 80, h->now), 0);
	assert_int_equal(tp->cli->state, SKIFF_TCP_SYN_SENT);
	assert_int_equal(tp->cli->laddr.v4, LO1);
	/* SYN, SYN-ACK, ACK: three rounds of looped delivery in one poll */
	skiff_stack_poll(h->st, h->now);
	assert_null(h->st->local_head);
	assert_int_equal(tp->cli->state, SKIFF_TCP_ESTABLISHED);
	tp->srv = skiff_tcp_accept(h->st, tp->lsk, &err);
	assert_non_null(tp->srv);
	assert_int_equal(tp->srv->state, SKIFF_TCP_ESTABLISHED);
	assert_int_equal(tp->srv->laddr.v4, dst);
	assert_int_equal(tp->srv->raddr.v4, LO1);
	assert_int_equal(tp->srv->rport, tp->cli->lport);
}

/* Move n bytes of a pattern from a to b, pumping and stepping the clock (delayed
 * ACKs) until b has read them all. */
static void tcp_move(struct harness *h, struct skiff_tcp_sock *a, struct skiff_tcp_sock *b, size_t n, uint8_t seed)
{
	static uint8_t out[8192], in[8192];
	size_t sent = 0, got = 0;
	int idle = 0;

	while (got < n) {
		bool moved = false;
		if (sent < n) {
			size_t k = n - sent < sizeof(out) ? n - sent : sizeof(out);
			struct iovec iov = { out, k };
			long r;
			for (size_t i = 0; i < k; i++)
				out[i] = (uint8_t)((sent + i) * 7 + seed);
			r = skiff_tcp_send(h->st, a, &iov, 1, 0, h->now);
			assert_true(r > 0 || r == -EAGAIN);
			if (r > 0) {
				sent += (size_t)r;
				moved = true;
			}
		}
		pump(h);
		for (;;) {
			struct iovec iov = { in, sizeof(in) };
			long r = skiff_tcp_recv(h->st, b, &iov, 1, 0, h->now);
			if (r == -EAGAIN)
				break;
			assert_true(r > 0);
			for (long i = 0; i < r; i++)
				assert_int_equal(in[i], (uint8_t)((got + (size_t)i) * 7 + seed));
			got += (size_t)r;
			moved = true;
		}
		if (!moved) {
			h_advance(h, 10 * MS);
			assert_true(++idle < 1000);
		} else {
			idle = 0;
		}
	}
	assert_int_equal(got, n);
}

/* connect/accept over 127.0.0.1 (listener on the wildcard), MSS from the
 * loopback's MTU, 300 KB one way and 100 KB back, half-close, close: TIME-WAIT
 * on the side that closed first. Nothing on the device, nothing dropped. */
static void test_tcp(void **state)
{
	struct harness *h = *state;
	struct tcp_pair tp;
	uint8_t b[8];
	struct iovec iov = { b, sizeof(b) };

	tcp_open_pair(h, &tp, 0, LO1);
	/* MSS option 1460 both ways; segments carry 1448 beside the timestamps */
	assert_int_equal(tp.cli->peer_mss, 1500 - 40);
	assert_int_equal(tp.srv->peer_mss, 1500 - 40);
	assert_true(tp.cli->ts_ok && tp.cli->sack_ok && tp.cli->ws_ok);
	assert_int_equal(tp.cli->mss, 1500 - 40 - 12);
	assert_int_equal(tp.srv->mss, 1500 - 40 - 12);
	tcp_move(h, tp.cli, tp.srv, 300000, 1);
	tcp_move(h, tp.srv, tp.cli, 100000, 2);
	/* the client closes: the server reads EOF, then closes too */
	skiff_tcp_close(h->st, tp.cli, h->now);
	pump(h);
	assert_int_equal(tp.srv->state, SKIFF_TCP_CLOSE_WAIT);
	assert_int_equal(skiff_tcp_recv(h->st, tp.srv, &iov, 1, 0, h->now), 0);
	skiff_tcp_close(h->st, tp.srv, h->now);
	pump(h);
	assert_int_equal(tp.cli->state, SKIFF_TCP_TIME_WAIT);
	assert_int_equal(skiff_tcp_unfinished(h->st), 0);
	assert_int_equal(total_drops(h), 0);
	assert_int_equal(h_tx_count(h), 0);
	assert_true(h->st->ctr.tcp_established >= 2);
	assert_int_equal(h->st->ctr.tcp_retrans, 0);
	skiff_tcp_close(h->st, tp.lsk, h->now);
}

/* A listener bound to 127.0.0.2 is reached at 127.0.0.2 (from 127.0.0.1); one
 * bound to 127.0.0.1 is not reached at 127.0.0.3: the SYN is reset and the
 * connect fails with ECONNREFUSED, as Linux. */
static void test_tcp_bound_and_refused(void **state)
{
	struct harness *h = *state;
	struct tcp_pair tp;
	struct skiff_addr a3 = skiff_addr_v4(0x7f000003u);
	struct skiff_tcp_sock *c;
	int err;

	tcp_open_pair(h, &tp, LO2, LO2);
	tcp_move(h, tp.srv, tp.cli, 5000, 3);
	c = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_tcp_connect(h->st, c, &a3, 80, h->now), 0);
	pump(h);
	assert_int_equal(c->state, SKIFF_TCP_CLOSED);
	assert_int_equal(skiff_tcp_take_error(c), ECONNREFUSED);
	assert_int_equal(h_drops(h, SKIFF_DROP_TCP_NO_SOCKET), 1);
	assert_int_equal(h_tx_count(h), 0);
	skiff_tcp_close(h->st, c, h->now);
	skiff_tcp_close(h->st, tp.cli, h->now);
	skiff_tcp_close(h->st, tp.srv, h->now);
	skiff_tcp_close(h->st, tp.lsk, h->now);
	pump(h);
}

/* ---- the wire ---- */

/* RFC 1122 3.2.1.3 (g): with loopback on, 127/8 arriving from a device is still
 * dropped and counted, as source and as destination. */
static void test_device_127_dropped(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_bound(h, 0, 5000);
	uint8_t f[128], buf[16];

	h_inject(h, f, fb_udp4(f, LO1, H_LOCAL_IP, 4000, 5000, "spoof", 5));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_SRC), 1);
	h_inject(h, f, fb_udp4(f, H_PEER_IP, LO1, 4000, 5000, "mars", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_MARTIAN_DST), 1);
	h_inject(h, f, fb_udp4(f, LO1, LO1, 4000, 5000, "both", 4));
	assert_int_equal(h_drops(h, SKIFF_DROP_IP4_BAD_SRC), 2);
	pump(h);
	assert_int_equal(udp_from(h, sk, buf, sizeof(buf), NULL, NULL), -EAGAIN);
	assert_int_equal(h_tx_count(h), 0); /* no ICMP error about them either */
	skiff_udp_close(h->st, sk);
}

/* A socket bound to 127.0.0.1 reaches the stack's own addresses (inside the
 * stack) but never a device: sendto/connect give EINVAL as Linux, nothing leaves. */
static void test_loopback_source_stays_inside(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *u = udp_bound(h, LO1, 0), *own = udp_bound(h, H_LOCAL_IP, 7000);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), lo = skiff_addr_v4(LO1);
	struct skiff_tcp_sock *t;
	uint32_t src;
	char buf[16];
	int err;

	assert_int_equal(udp_to(h, u, H_PEER_IP, 9, "x", 1), -EINVAL);
	assert_int_equal(skiff_udp_connect(h->st, u, &peer, 9, h->now), -EINVAL);
	assert_int_equal(udp_to(h, u, H_LOCAL_IP, 7000, "own", 3), 3);
	pump(h);
	assert_int_equal(udp_from(h, own, buf, sizeof(buf), &src, NULL), 3);
	assert_int_equal(src, LO1);
	t = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_tcp_bind(h->st, t, &lo, 0), 0);
	assert_int_equal(skiff_tcp_connect(h->st, t, &peer, 80, h->now), -EINVAL);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(total_drops(h), 0);
	skiff_tcp_close(h->st, t, h->now);
	skiff_udp_close(h->st, u);
	skiff_udp_close(h->st, own);
}

/* ---- for the socket layer ---- */

/* skiff_stack_loopback_peer4: is the other end of a 127/8 flow in this stack (a
 * TCP listener, a bound UDP socket; on that address or the wildcard)? */
static void test_peer_lookup(void **state)
{
	struct harness *h = *state;
	struct skiff_addr lo = skiff_addr_v4(LO1), any = skiff_addr_v4(0);
	struct skiff_tcp_sock *l1, *l2, *b;
	struct skiff_udp_sock *u;
	int err;

	assert_false(skiff_stack_loopback_peer4(h->st, 6, LO1, 80)); /* off */
	assert_int_equal(skiff_stack_enable_loopback(h->st, NULL, 0), 1);
	assert_false(skiff_stack_loopback_peer4(h->st, 6, LO1, 80));
	l1 = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_tcp_bind(h->st, l1, &lo, 80), 0);
	assert_false(skiff_stack_loopback_peer4(h->st, 6, LO1, 80)); /* bound, not listening */
	assert_int_equal(skiff_tcp_listen(h->st, l1, 4), 0);
	assert_true(skiff_stack_loopback_peer4(h->st, 6, LO1, 80));
	assert_false(skiff_stack_loopback_peer4(h->st, 6, LO2, 80));
	assert_false(skiff_stack_loopback_peer4(h->st, 17, LO1, 80));
	l2 = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_tcp_bind(h->st, l2, &any, 81), 0);
	assert_int_equal(skiff_tcp_listen(h->st, l2, 4), 0);
	assert_true(skiff_stack_loopback_peer4(h->st, 6, 0x7f000009u, 81));
	assert_false(skiff_stack_loopback_peer4(h->st, 6, H_LOCAL_IP, 81)); /* not 127/8: not asked here */
	b = skiff_tcp_open(h->st, SKIFF_AF_INET, &err);
	u = udp_bound(h, LO1, 53);
	assert_true(skiff_stack_loopback_peer4(h->st, 17, LO1, 53));
	assert_false(skiff_stack_loopback_peer4(h->st, 17, 0x7f000035u, 53)); /* 127.0.0.53: a kernel resolver's */
	assert_false(skiff_stack_loopback_peer4(h->st, 17, LO1, 54));
	skiff_tcp_close(h->st, b, h->now);
	skiff_tcp_close(h->st, l1, h->now);
	skiff_tcp_close(h->st, l2, h->now);
	assert_false(skiff_stack_loopback_peer4(h->st, 6, LO1, 80));
	skiff_udp_close(h->st, u);
	assert_false(skiff_stack_loopback_peer4(h->st, 17, LO1, 53));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_off_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_udp_fragments_and_refused, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_dedicated_pool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_bound_and_refused, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_device_127_dropped, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_source_stays_inside, setup_lo, teardown),
		cmocka_unit_test_setup_teardown(test_peer_lookup, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
