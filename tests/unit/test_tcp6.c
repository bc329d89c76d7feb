/* test_tcp6.c — TCP over IPv6 and dual-stack sockets, two stacks over a loop
 * pair (optionally through the fault driver), on a fake clock.
 *
 * A is 198.18.0.1/24 + 2001:2::1/64, B 198.18.0.2/24 + 2001:2::2/64, both with
 * their EUI-64 link-local address; DAD is off (nd_dad_transmits 0) so addresses
 * are usable at once, ND resolves through the loop. The pump moves frames both
 * ways; when nothing moves the clock jumps to the next timer or device event.
 * Cases: handshake + 1 MiB each way byte-exact over IPv6; a dual-stack AF_INET6
 * listener on :: serving an IPv4 client (child addresses AF_INET, family
 * AF_INET6), an AF_INET listener preferred to it for IPv4, a V6ONLY one
 * refusing IPv4 (RST); the bind conflict matrix across families; RST from a
 * closed IPv6 port; link-local connect with a scope; PMTU: a Packet Too Big
 * (1280) quoting a dropped in-flight segment lowers the MSS and the data is
 * resent in segments that fit; 4 MiB over IPv6 with 2 % loss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/wire_ip6.h"
#include "drivers/driver.h"
#include "tests/sim/sim_node.h"

#define IP_A 0xc6120001u /* 198.18.0.1 */
#define IP_B 0xc6120002u /* 198.18.0.2 */

static const uint8_t G_A[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t G_B[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };
static const uint8_t G_X[16] = { 0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 }; /* nobody's */

/* Drop hook on B's output: returns true to drop the frame (it is copied first). */
typedef bool (*tx_hook_fn)(const uint8_t *f, uint32_t len);

struct net {
	struct node a, b;
	uint64_t now;
	tx_hook_fn hook_b;
};
static struct net N;

static struct skiff_addr v6(const uint8_t *b) { return ip6_addr_make(b); }
static struct skiff_addr v4(uint32_t a) { return skiff_addr_v4(a); }
static struct skiff_addr any6(void)
{
	static const uint8_t z[16];
	return ip6_addr_make(z);
}

static void node_up(struct node *nd, struct skiff_dev *dev, uint32_t ip4, const uint8_t *ip6, uint64_t seed)
{
	struct skiff_stack_config cfg;
	skiff_stack_config_defaults(&cfg);
	cfg.seed = seed;
	cfg.nd_dad_transmits = 0;
	cfg.icmp_rate = 0;
	cfg.tcp_challenge_rate = 0;
	sim_node_init(nd, &cfg, dev, ip4, N.now);
	assert_int_equal(skiff_stack_enable_ip6(nd->st, nd->ifindex, N.now), 0);
	assert_int_equal(skiff_stack_add_addr6(nd->st, nd->ifindex, ip6, 64, N.now), 0);
}

static void net_up(uint32_t loss_ppm, uint64_t seed)
{
	struct skiff_dev *la, *lb;
	memset(&N, 0, sizeof(N));
	N.now = 1000000000ull;
	assert_int_equal(skiff_loop_pair(NULL, &la, &lb), 0);
	if (loss_ppm) {
		struct skiff_fault_config fc;
		memset(&fc, 0, sizeof(fc));
		fc.seed = seed;
		fc.loss_ppm = loss_ppm;
		assert_int_equal(skiff_fault_wrap(la, &fc, &la), 0);
		fc.seed = seed * 31 + 7;
		assert_int_equal(skiff_fault_wrap(lb, &fc, &lb), 0);
	}
	node_up(&N.a, la, IP_A, G_A, seed);
	node_up(&N.b, lb, IP_B, G_B, seed + 1);
}

static void step(void);

/* The addresses become PREFERRED at the first ND timer run (no DAD). */
static void net_settle(void)
{
	for (int i = 0; i < 8; i++)
		step();
}

static void net_down(void)
{
	skiff_stack_destroy(N.a.st);
	skiff_stack_destroy(N.b.st);
	skiff_dev_close(N.a.dev);
	skiff_dev_close(N.b.dev);
}

/* sim_node_pump with B's optional drop hook. */
static unsigned pump(struct node *nd, tx_hook_fn hook)
{
	struct skiff_pkt *b[32];
	unsigned moved = 0, n, k;

	skiff_stack_poll(nd->st, N.now);
	while ((n = skiff_stack_tx_drain(nd->st, nd->ifindex, b, 32)) > 0) {
		unsigned keep = 0;
		for (unsigned i = 0; i < n; i++) {
			if (hook && !b[i]->chain && hook(skiff_pkt_data(b[i]), b[i]->len)) {
				skiff_pkt_free(b[i]);
				continue;
			}
			b[keep++] = b[i];
		}
		k = skiff_dev_tx(nd->dev, b, keep, N.now);
		if (k < keep)
			skiff_stack_tx_requeue(nd->st, nd->ifindex, b + k, keep - k);
		moved += n;
		if (k < keep)
			break;
	}
	while ((n = skiff_dev_rx(nd->dev, b, 32, N.now)) > 0) {
		skiff_stack_input(nd->st, nd->ifindex, b, n, N.now);
		moved += n;
	}
	return moved;
}

/* One step: move frames; when nothing moved, jump to the next event. */
static void step(void)
{
	unsigned moved = pump(&N.a, NULL) + pump(&N.b, N.hook_b);
	if (moved) {
		N.now += 20000; /* 20 µs per exchange: RTTs are not zero */
	} else {
		uint64_t t = skiff_stack_next_deadline(N.a.st), u = skiff_stack_next_deadline(N.b.st);
		if (u < t)
			t = u;
		u = skiff_dev_next_event(N.a.dev);
		if (u < t)
			t = u;
		u = skiff_dev_next_event(N.b.dev);
		if (u < t)
			t = u;
		N.now = t == UINT64_MAX || t <= N.now ? N.now + 1000000 : t;
	}
}

#define RUN_UNTIL(cond)                                                    \
	do {                                                               \
		unsigned guard_ = 0;                                       \
		while (!(cond)) {                                          \
			step();                                            \
			assert_true(++guard_ < 2000000);                   \
		}                                                          \
	} while (0)

static uint8_t pattern(uint64_t off, uint64_t seed)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + seed;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((off & 7) * 8));
}

/* A listener on (addr, port) of family fam on stack st. */
static struct skiff_tcp_sock *listener(struct skiff_stack *st, int fam, bool v6only, struct skiff_addr a,
				       uint16_t port)
{
	int err;
	struct skiff_tcp_sock *l = skiff_tcp_open(st, fam, &err);
	assert_non_null(l);
	l->v6only = v6only;
	assert_int_equal(skiff_tcp_bind(st, l, &a, port), 0);
	assert_int_equal(skiff_tcp_listen(st, l, 16), 0);
	return l;
}

/* B connects to (a, port); A's listener l accepts: both established. */
static void connect_pair(struct skiff_tcp_sock *l, int cfam, struct skiff_addr a, uint16_t port, int scope,
			 struct skiff_tcp_sock **cli, struct skiff_tcp_sock **srv)
{
	int err;
	*srv = NULL;
	*cli = skiff_tcp_open(N.b.st, cfam, &err);
	assert_non_null(*cli);
	(*cli)->scope_ifindex = scope;
	assert_int_equal(skiff_tcp_connect(N.b.st, *cli, &a, port, N.now), 0);
	RUN_UNTIL((*srv = skiff_tcp_accept(N.a.st, l, &err)) != NULL && (*cli)->state == SKIFF_TCP_ESTABLISHED);
	assert_int_equal((*srv)->state, SKIFF_TCP_ESTABLISHED);
}

/* total bytes each way (cli on stack cs → srv on ss, and back when both), byte-exact. */
static void transfer_on(struct skiff_stack *cs, struct skiff_tcp_sock *cli, struct skiff_stack *ss,
			struct skiff_tcp_sock *srv, uint64_t total, bool both)
{
	static uint8_t buf[65536];
	uint64_t sent[2] = { 0, 0 }, got[2] = { 0, 0 }; /* [0]: cli→srv, [1]: srv→cli */
	struct skiff_tcp_sock *w[2] = { cli, srv }, *r[2] = { srv, cli };
	struct skiff_stack *ws[2] = { cs, ss }, *rs[2] = { ss, cs };
	unsigned guard = 0;

	while (got[0] < total || (both && got[1] < total)) {
		for (int d = 0; d < (both ? 2 : 1); d++) {
			long n;
			if (sent[d] < total) {
				size_t k = total - sent[d] < sizeof(buf) ? (size_t)(total - sent[d]) : sizeof(buf);
				struct iovec iov;
				for (size_t i = 0; i < k; i++)
					buf[i] = pattern(sent[d] + i, (uint64_t)d + 7);
				iov.iov_base = buf;
				iov.iov_len = k;
				n = skiff_tcp_send(ws[d], w[d], &iov, 1, 0, N.now);
				if (n > 0)
					sent[d] += (uint64_t)n;
				else
					assert_int_equal(n, -EAGAIN);
			}
			for (;;) {
				struct iovec iov = { buf, sizeof(buf) };
				n = skiff_tcp_recv(rs[d], r[d], &iov, 1, 0, N.now);
				if (n <= 0) {
					assert_int_equal(n, -EAGAIN);
					break;
				}
				for (long i = 0; i < n; i++)
					if (buf[i] != pattern(got[d] + (uint64_t)i, (uint64_t)d + 7))
						fail_msg("dir %d: byte %llu differs", d, (unsigned long long)(got[d] + (uint64_t)i));
				got[d] += (uint64_t)n;
			}
		}
		step();
		assert_true(++guard < 4000000);
	}
	assert_int_equal(got[0], total);
}

/* B's client, A's server. */
static void transfer(struct skiff_tcp_sock *cli, struct skiff_tcp_sock *srv, uint64_t total, bool both)
{
	transfer_on(N.b.st, cli, N.a.st, srv, total, both);
}

/* Both ends close; both TCBs reach TIME-WAIT/CLOSED and go (the fake clock runs 2MSL). */
static void close_pair(struct skiff_tcp_sock *cli, struct skiff_tcp_sock *srv)
{
	skiff_tcp_close(N.b.st, cli, N.now);
	skiff_tcp_close(N.a.st, srv, N.now);
	RUN_UNTIL(!cli->in_use && !srv->in_use);
}

/* ---- cases ---- */

static void test_v6_bulk_both_ways(void **state)
{
	struct skiff_tcp_sock *l, *cli, *srv;
	(void)state;
	net_up(0, 11);
	net_settle();
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6001);
	connect_pair(l, SKIFF_AF_INET6, v6(G_A), 6001, -1, &cli, &srv);
	/* wire form: IPv6 both ends, the SYN's addresses */
	assert_int_equal(srv->family, SKIFF_AF_INET6);
	assert_int_equal(srv->laddr.family, SKIFF_AF_INET6);
	assert_memory_equal(srv->laddr.v6, G_A, 16);
	assert_memory_equal(srv->raddr.v6, G_B, 16);
	assert_memory_equal(cli->laddr.v6, G_B, 16); /* the route's source (RFC 6724) */
	assert_int_equal(srv->rport, cli->lport);
	/* MSS: 1500 - 40 - 20, less the timestamps */
	assert_int_equal(cli->mss, 1500 - 60 - (cli->ts_ok ? 12 : 0));
	assert_true(cli->sack_ok && cli->ws_ok);
	transfer(cli, srv, 1u << 20, true);
	assert_int_equal(N.a.st->ctr.tcp_retrans + N.b.st->ctr.tcp_retrans, 0);
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

static void test_dual_stack_listener(void **state)
{
	struct skiff_tcp_sock *l, *l6o, *cli, *srv, *c2;
	int err;
	(void)state;
	net_up(0, 12);
	net_settle();
	/* an AF_INET6 listener on :: takes an IPv4 client */
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6002);
	connect_pair(l, SKIFF_AF_INET, v4(IP_A), 6002, -1, &cli, &srv);
	assert_int_equal(srv->family, SKIFF_AF_INET6); /* the listener's API family */
	assert_int_equal(srv->laddr.family, SKIFF_AF_INET);
	assert_int_equal(srv->raddr.family, SKIFF_AF_INET);
	assert_int_equal(srv->laddr.v4, IP_A);
	assert_int_equal(srv->raddr.v4, IP_B);
	assert_int_equal(cli->mss, 1500 - 40 - (cli->ts_ok ? 12 : 0)); /* IPv4 arithmetic */
	transfer(cli, srv, 64 * 1024, true);
	close_pair(cli, srv);
	/* and an IPv6 one on the same listener; an AF_INET6 client may name the
	 * IPv4 peer too (as the socket layer passes a v4-mapped address) */
	connect_pair(l, SKIFF_AF_INET6, v6(G_A), 6002, -1, &cli, &srv);
	assert_int_equal(srv->laddr.family, SKIFF_AF_INET6);
	close_pair(cli, srv);
	connect_pair(l, SKIFF_AF_INET6, v4(IP_A), 6002, -1, &cli, &srv);
	assert_int_equal(cli->family, SKIFF_AF_INET6);
	assert_int_equal(cli->laddr.family, SKIFF_AF_INET);
	assert_int_equal(cli->laddr.v4, IP_B);
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l, N.now);

	/* a V6ONLY listener refuses IPv4: RST, ECONNREFUSED */
	l6o = listener(N.a.st, SKIFF_AF_INET6, true, any6(), 6003);
	c2 = skiff_tcp_open(N.b.st, SKIFF_AF_INET, &err);
	assert_non_null(c2);
	c2->user = &N; /* keep the TCB after the reset, to read its error */
	assert_int_equal(skiff_tcp_connect(N.b.st, c2, &(struct skiff_addr){ 0 }, 6003, N.now), -EAFNOSUPPORT);
	{
		struct skiff_addr a4 = v4(IP_A);
		uint64_t rst = N.a.st->ctr.tcp_resets_out;
		assert_int_equal(skiff_tcp_connect(N.b.st, c2, &a4, 6003, N.now), 0);
		RUN_UNTIL(c2->state == SKIFF_TCP_CLOSED);
		assert_int_equal(skiff_tcp_take_error(c2), ECONNREFUSED);
		assert_true(N.a.st->ctr.tcp_resets_out > rst);
		assert_null(l6o->aq_head);
	}
	skiff_tcp_close(N.b.st, c2, N.now);
	/* ...but serves IPv6 */
	connect_pair(l6o, SKIFF_AF_INET6, v6(G_A), 6003, -1, &cli, &srv);
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l6o, N.now);

	/* an AF_INET listener beats a dual-stack one for IPv4 (Linux compute_score),
	 * whichever came first; the dual-stack one keeps IPv6 */
	{
		struct skiff_tcp_sock *ld, *l4;
		struct skiff_addr z4 = v4(0), z6 = any6();
		ld = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
		l4 = skiff_tcp_open(N.a.st, SKIFF_AF_INET, &err);
		ld->reuseport = l4->reuseport = true;
		assert_int_equal(skiff_tcp_bind(N.a.st, ld, &z6, 6004), 0);
		assert_int_equal(skiff_tcp_listen(N.a.st, ld, 16), 0);
		assert_int_equal(skiff_tcp_bind(N.a.st, l4, &z4, 6004), 0);
		assert_int_equal(skiff_tcp_listen(N.a.st, l4, 16), 0);
		connect_pair(l4, SKIFF_AF_INET, v4(IP_A), 6004, -1, &cli, &srv);
		assert_int_equal(srv->family, SKIFF_AF_INET);
		assert_null(ld->aq_head);
		close_pair(cli, srv);
		connect_pair(ld, SKIFF_AF_INET6, v6(G_A), 6004, -1, &cli, &srv);
		assert_int_equal(srv->family, SKIFF_AF_INET6);
		close_pair(cli, srv);
		skiff_tcp_close(N.a.st, ld, N.now);
		skiff_tcp_close(N.a.st, l4, N.now);
	}
	net_down();
}

/* bind a socket of family fam (v6only) to (a, port) on A: the result. */
static int try_bind(int fam, bool v6only, struct skiff_addr a, uint16_t port, struct skiff_tcp_sock **out)
{
	int err, rc;
	struct skiff_tcp_sock *sk = skiff_tcp_open(N.a.st, fam, &err);
	assert_non_null(sk);
	sk->v6only = v6only;
	rc = skiff_tcp_bind(N.a.st, sk, &a, port);
	if (rc || !out)
		skiff_tcp_close(N.a.st, sk, N.now);
	if (out)
		*out = rc ? NULL : sk;
	return rc;
}

static void test_bind_matrix(void **state)
{
	struct skiff_tcp_sock *s1;
	(void)state;
	net_up(0, 13);
	net_settle();
	/* :: (dual stack) overlaps every IPv4 address and every IPv6 one */
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, any6(), 7001, &s1), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(0), 7001, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(IP_A), 7001, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_A), 7001, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET6, true, any6(), 7001, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v4(IP_A), 7001, NULL), -EADDRINUSE); /* v4-mapped */
	skiff_tcp_close(N.a.st, s1, N.now);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(0), 7001, NULL), 0); /* free again */

	/* :: V6ONLY leaves IPv4 alone */
	assert_int_equal(try_bind(SKIFF_AF_INET6, true, any6(), 7002, &s1), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(0), 7002, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(IP_A), 7002, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_A), 7002, NULL), -EADDRINUSE);
	skiff_tcp_close(N.a.st, s1, N.now);

	/* 0.0.0.0 overlaps a dual-stack :: but not a V6ONLY one, nor a v6 address */
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(0), 7003, &s1), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, any6(), 7003, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET6, true, any6(), 7003, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_A), 7003, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v4(IP_A), 7003, NULL), -EADDRINUSE);
	skiff_tcp_close(N.a.st, s1, N.now);

	/* a specific IPv6 address never overlaps IPv4 */
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_A), 7004, &s1), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(0), 7004, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(IP_A), 7004, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, any6(), 7004, NULL), -EADDRINUSE);
	skiff_tcp_close(N.a.st, s1, N.now);

	/* a specific IPv4 address: a dual-stack :: overlaps it, a v6 address does not */
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v4(IP_A), 7005, &s1), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, any6(), 7005, NULL), -EADDRINUSE);
	assert_int_equal(try_bind(SKIFF_AF_INET6, true, any6(), 7005, NULL), 0);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_A), 7005, NULL), 0);
	skiff_tcp_close(N.a.st, s1, N.now);

	/* family and address checks (Linux inet6_bind) */
	assert_int_equal(try_bind(SKIFF_AF_INET6, true, v4(IP_A), 7006, NULL), -EINVAL); /* v4-mapped, V6ONLY */
	assert_int_equal(try_bind(SKIFF_AF_INET, false, v6(G_A), 7006, NULL), -EAFNOSUPPORT);
	assert_int_equal(try_bind(SKIFF_AF_INET6, false, v6(G_X), 7006, NULL), -EADDRNOTAVAIL);
	{
		/* a link-local address needs its interface */
		const struct skiff_iface *ifc = skiff_stack_iface(N.a.st, N.a.ifindex);
		struct skiff_addr ll = any6();
		int err;
		struct skiff_tcp_sock *sk;
		for (unsigned i = 0; i < ifc->n_v6; i++)
			if (ip6_is_link_local(ifc->v6[i].addr))
				ll = v6(ifc->v6[i].addr);
		assert_true(ip6_is_link_local(ll.v6));
		assert_int_equal(try_bind(SKIFF_AF_INET6, false, ll, 7006, NULL), -EINVAL);
		sk = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
		sk->scope_ifindex = N.a.ifindex;
		assert_int_equal(skiff_tcp_bind(N.a.st, sk, &ll, 7006), 0);
		assert_int_equal(sk->bound_ifindex, N.a.ifindex);
		skiff_tcp_close(N.a.st, sk, N.now);
	}
	/* a V6ONLY socket cannot reach IPv4; an AF_INET one has no IPv6 */
	{
		int err;
		struct skiff_addr a4 = v4(IP_B), a6 = v6(G_B);
		struct skiff_tcp_sock *sk = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
		sk->v6only = true;
		assert_int_equal(skiff_tcp_connect(N.a.st, sk, &a4, 80, N.now), -ENETUNREACH);
		skiff_tcp_close(N.a.st, sk, N.now);
		sk = skiff_tcp_open(N.a.st, SKIFF_AF_INET, &err);
		assert_int_equal(skiff_tcp_connect(N.a.st, sk, &a6, 80, N.now), -EAFNOSUPPORT);
		skiff_tcp_close(N.a.st, sk, N.now);
		/* multicast is no TCP peer */
		sk = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
		a6.v6[0] = 0xff;
		a6.v6[1] = 0x0e;
		assert_int_equal(skiff_tcp_connect(N.a.st, sk, &a6, 80, N.now), -ENETUNREACH);
		skiff_tcp_close(N.a.st, sk, N.now);
	}
	net_down();
}

static void test_rst_closed_port(void **state)
{
	struct skiff_tcp_sock *c;
	struct skiff_addr a = v6(G_A);
	uint64_t rst;
	int err;
	(void)state;
	net_up(0, 14);
	net_settle();
	c = skiff_tcp_open(N.b.st, SKIFF_AF_INET6, &err);
	c->user = &N;
	rst = N.a.st->ctr.tcp_resets_out;
	assert_int_equal(skiff_tcp_connect(N.b.st, c, &a, 6999, N.now), 0);
	RUN_UNTIL(c->state == SKIFF_TCP_CLOSED);
	assert_int_equal(skiff_tcp_take_error(c), ECONNREFUSED);
	assert_int_equal(N.a.st->ctr.tcp_resets_out, rst + 1);
	assert_int_equal(N.b.st->ctr.tcp_resets_in, 1);
	skiff_tcp_close(N.b.st, c, N.now);
	net_down();
}

static void test_link_local_scope(void **state)
{
	struct skiff_tcp_sock *l, *cli, *srv, *bad;
	const struct skiff_iface *ifc;
	struct skiff_addr ll = any6();
	int err;
	(void)state;
	net_up(0, 15);
	net_settle();
	ifc = skiff_stack_iface(N.a.st, N.a.ifindex);
	for (unsigned i = 0; i < ifc->n_v6; i++)
		if (ip6_is_link_local(ifc->v6[i].addr))
			ll = v6(ifc->v6[i].addr);
	assert_true(ip6_is_link_local(ll.v6));
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6005);
	/* a scope naming no interface: no route */
	bad = skiff_tcp_open(N.b.st, SKIFF_AF_INET6, &err);
	bad->scope_ifindex = 7;
	assert_true(skiff_tcp_connect(N.b.st, bad, &ll, 6005, N.now) < 0);
	skiff_tcp_close(N.b.st, bad, N.now);
	connect_pair(l, SKIFF_AF_INET6, ll, 6005, N.b.ifindex, &cli, &srv);
	assert_true(ip6_is_link_local(cli->laddr.v6)); /* RFC 6724: a link-local source */
	assert_memory_equal(srv->laddr.v6, ll.v6, 16);
	assert_int_equal(srv->scope_ifindex, N.a.ifindex); /* the child answers on that link */
	transfer(cli, srv, 128 * 1024, true);
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

/* PMTU: B's first full-sized data segment after `armed` is dropped and kept */
static bool ptb_armed, ptb_taken, ptb_sent, ptb_seen_big;
static uint8_t ptb_quote[1232];
static uint32_t ptb_qlen;

static bool ptb_hook(const uint8_t *f, uint32_t len)
{
	uint32_t plen;
	if (len < 14 + IP6_HDR_LEN || f[12] != 0x86 || f[13] != 0xdd || f[14 + 6] != IP6_NH_TCP)
		return false;
	plen = ld16(f + 14 + 4);
	if (ptb_sent && plen > 1280 - IP6_HDR_LEN)
		ptb_seen_big = true; /* after the PTB, nothing larger than the path may leave */
	if (!ptb_armed || ptb_taken || plen <= 1280 - IP6_HDR_LEN)
		return false;
	ptb_qlen = len - 14 < sizeof(ptb_quote) ? len - 14 : (uint32_t)sizeof(ptb_quote);
	memcpy(ptb_quote, f + 14, ptb_qlen);
	ptb_taken = true;
	return true;
}

/* ICMPv6 Packet Too Big (RFC 4443 3.2) from A to B quoting what was dropped. */
static void inject_ptb(uint32_t mtu)
{
	static uint8_t f[14 + IP6_HDR_LEN + 8 + sizeof(ptb_quote)];
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(N.b.dev));
	uint8_t *d;
	uint32_t icmp_len = 8 + ptb_qlen, sum;
	assert_non_null(p);
	memcpy(f, N.b.dev->mac, 6);
	memcpy(f + 6, N.a.dev->mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	st32(f + 14, 6u << 28);
	st16(f + 18, (uint16_t)icmp_len);
	f[20] = 58;
	f[21] = 64;
	memcpy(f + 22, G_A, 16);
	memcpy(f + 38, G_B, 16);
	f[54] = 2; /* Packet Too Big */
	f[55] = 0;
	st16(f + 56, 0);
	st32(f + 58, mtu);
	memcpy(f + 62, ptb_quote, ptb_qlen);
	sum = csum_pseudo6(G_A, G_B, 58, icmp_len);
	st16(f + 56, csum_fold(csum_partial(f + 54, icmp_len, sum)));
	d = skiff_pkt_put(p, 14 + IP6_HDR_LEN + icmp_len);
	assert_non_null(d);
	memcpy(d, f, 14 + IP6_HDR_LEN + icmp_len);
	ptb_sent = true;
	skiff_stack_input(N.b.st, N.b.ifindex, &p, 1, N.now);
}

static void test_pmtu_packet_too_big(void **state)
{
	struct skiff_tcp_sock *l, *cli, *srv;
	uint64_t upd;
	(void)state;
	net_up(0, 16);
	net_settle();
	ptb_armed = ptb_taken = ptb_sent = ptb_seen_big = false;
	N.hook_b = ptb_hook;
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6006);
	connect_pair(l, SKIFF_AF_INET6, v6(G_A), 6006, -1, &cli, &srv);
	assert_true(cli->mss > 1280 - 60);
	ptb_armed = true;
	upd = N.b.st->ctr.tcp_pmtu_updates;
	{
		/* queue data; the hook drops the first big segment */
		static uint8_t buf[32768];
		struct iovec iov = { buf, sizeof(buf) };
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern(i, 7);
		assert_int_equal(skiff_tcp_send(N.b.st, cli, &iov, 1, 0, N.now), (long)sizeof(buf));
		RUN_UNTIL(ptb_taken);
		assert_true(cli->snd_una != cli->snd_max);
		inject_ptb(1280);
		assert_int_equal(N.b.st->ctr.tcp_pmtu_updates, upd + 1);
		assert_true(cli->mss <= 1280 - 60 - (cli->ts_ok ? 12 : 0));
		/* the rest, and what was lost, arrives in segments that fit */
		{
			uint64_t got = 0;
			unsigned guard = 0;
			while (got < sizeof(buf)) {
				uint8_t rb[4096];
				struct iovec r = { rb, sizeof(rb) };
				long n = skiff_tcp_recv(N.a.st, srv, &r, 1, 0, N.now);
				if (n > 0) {
					for (long i = 0; i < n; i++)
						assert_int_equal(rb[i], pattern(got + (uint64_t)i, 7));
					got += (uint64_t)n;
					continue;
				}
				step();
				assert_true(++guard < 100000);
			}
		}
	}
	assert_false(ptb_seen_big);
	N.hook_b = NULL;
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

/* SYN cookies over IPv6 (RFC 4987 3.6): a burst of SYNs past the SYN queue is
 * answered statelessly; the cookie ACKs make connections that carry data. */
/* Take what the listener has; true once n children are out. */
static bool accept_more(struct skiff_tcp_sock *l, struct skiff_tcp_sock **out, unsigned *got, unsigned n)
{
	int err;
	while (*got < n && (out[*got] = skiff_tcp_accept(N.a.st, l, &err)) != NULL)
		(*got)++;
	return *got == n;
}

static void test_v6_syncookies(void **state)
{
	enum { NC = 8 };
	struct skiff_tcp_sock *l, *cli[NC], *srv[NC], *w;
	struct skiff_addr a = v6(G_A);
	unsigned nsrv = 0;
	int err;
	(void)state;
	net_up(0, 18);
	net_settle();
	/* B learns A's link address first (a reset from a closed port), so the
	 * SYNs leave in one burst rather than one by one after ND */
	w = skiff_tcp_open(N.b.st, SKIFF_AF_INET6, &err);
	w->user = &N;
	assert_int_equal(skiff_tcp_connect(N.b.st, w, &a, 6999, N.now), 0);
	RUN_UNTIL(w->state == SKIFF_TCP_CLOSED);
	skiff_tcp_close(N.b.st, w, N.now);

	l = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
	assert_int_equal(skiff_tcp_bind(N.a.st, l, &(struct skiff_addr){ .family = SKIFF_AF_INET6 }, 6008), 0);
	assert_int_equal(skiff_tcp_listen(N.a.st, l, 3), 0); /* 4 in the SYN queue, then cookies */
	for (int i = 0; i < NC; i++) {
		cli[i] = skiff_tcp_open(N.b.st, SKIFF_AF_INET6, &err);
		assert_int_equal(skiff_tcp_connect(N.b.st, cli[i], &a, 6008, N.now), 0);
	}
	for (int i = 0; i < NC; i++)
		RUN_UNTIL(cli[i]->state == SKIFF_TCP_ESTABLISHED);
	assert_true(N.a.st->ctr.tcp_syncookies_sent > 0);
	/* a byte from each client: a cookie ACK the full accept queue refused comes
	 * again with it (RFC 4987 3.6: the ACK of any later segment proves it) */
	for (int i = 0; i < NC; i++) {
		struct iovec iov = { "x", 1 };
		assert_int_equal(skiff_tcp_send(N.b.st, cli[i], &iov, 1, 0, N.now), 1);
	}
	RUN_UNTIL(accept_more(l, srv, &nsrv, NC));
	assert_true(N.a.st->ctr.tcp_syncookies_ok > 0);
	/* each pair, cookie-made or not, carries bytes both ways */
	for (int i = 0; i < NC; i++) {
		struct skiff_tcp_sock *c = NULL;
		uint8_t x = 0;
		struct iovec r = { &x, 1 };
		for (int k = 0; k < NC; k++)
			if (cli[k]->lport == srv[i]->rport)
				c = cli[k];
		assert_non_null(c);
		assert_int_equal(srv[i]->laddr.family, SKIFF_AF_INET6);
		assert_true(srv[i]->mss <= 1500 - 60);
		RUN_UNTIL(skiff_tcp_readable(srv[i]) > 0);
		assert_int_equal(skiff_tcp_recv(N.a.st, srv[i], &r, 1, 0, N.now), 1);
		assert_int_equal(x, 'x');
		transfer(c, srv[i], 16 * 1024, true);
		close_pair(c, srv[i]);
	}
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

/* Within one stack: to ::1 through the loopback, and to the stack's own global
 * address (route6: local). */
static void test_v6_loopback(void **state)
{
	static const uint8_t lo6[16] = { [15] = 1 };
	const uint8_t *dsts[2] = { lo6, G_A };
	struct skiff_tcp_sock *l, *cli, *srv = NULL;
	unsigned got = 0;
	int err;
	(void)state;
	net_up(0, 19);
	net_settle();
	assert_true(skiff_stack_enable_loopback(N.a.st, NULL, 0) >= 0);
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6009);
	for (int i = 0; i < 2; i++) {
		struct skiff_addr d = v6(dsts[i]);
		cli = skiff_tcp_open(N.a.st, SKIFF_AF_INET6, &err);
		assert_int_equal(skiff_tcp_connect(N.a.st, cli, &d, 6009, N.now), 0);
		assert_memory_equal(cli->laddr.v6, dsts[i], 16); /* the source is the destination (RFC 6724 rule 1) */
		got = 0;
		RUN_UNTIL(accept_more(l, &srv, &got, 1) && cli->state == SKIFF_TCP_ESTABLISHED);
		assert_memory_equal(srv->raddr.v6, dsts[i], 16);
		transfer_on(N.a.st, cli, N.a.st, srv, 256 * 1024, true);
		skiff_tcp_close(N.a.st, cli, N.now);
		skiff_tcp_close(N.a.st, srv, N.now);
		RUN_UNTIL(!cli->in_use && !srv->in_use);
	}
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

static void test_v6_lossy(void **state)
{
	struct skiff_tcp_sock *l, *cli, *srv;
	(void)state;
	net_up(20000, 17); /* 2 % loss each way */
	net_settle();
	l = listener(N.a.st, SKIFF_AF_INET6, false, any6(), 6007);
	connect_pair(l, SKIFF_AF_INET6, v6(G_A), 6007, -1, &cli, &srv);
	transfer(cli, srv, 4u << 20, false);
	assert_true(N.b.st->ctr.tcp_retrans > 0); /* the loss was real */
	close_pair(cli, srv);
	skiff_tcp_close(N.a.st, l, N.now);
	net_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v6_bulk_both_ways),
		cmocka_unit_test(test_dual_stack_listener),
		cmocka_unit_test(test_bind_matrix),
		cmocka_unit_test(test_rst_closed_port),
		cmocka_unit_test(test_link_local_scope),
		cmocka_unit_test(test_pmtu_packet_too_big),
		cmocka_unit_test(test_v6_syncookies),
		cmocka_unit_test(test_v6_loopback),
		cmocka_unit_test(test_v6_lossy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
