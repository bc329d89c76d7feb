/* test_ip6.c — the IPv6 path of two stacks over a loop pair: duplicate address
 * detection, neighbour discovery and the cache's states (RFC 4861 7.3), echo,
 * UDP over IPv6 and dual stack, ICMPv6 errors to sockets, fragmentation both
 * ways, NA spoofing of an address we own, and the input path's drop reasons.
 * Time is simulated: each pump step advances the clock the stacks see.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/icmp6_msg.h"
#include "dataplane/ip6.h"
#include "dataplane/nd_msg.h"
#include "dataplane/neigh.h"
#include "dataplane/route6.h"
#include "dataplane/udp.h"
#include "../sim/sim_node.h"

#define MS 1000000ull
#define SEC 1000000000ull

static const uint8_t GA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t GB[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t GX[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x05 };

struct pair {
	struct skiff_dev *da, *db;
	struct node a, b;
	uint64_t now;
};

static void pump(struct pair *w, uint64_t for_ns)
{
	uint64_t end = w->now + for_ns;
	do {
		unsigned moved;
		do {
			moved = sim_node_pump(&w->a, w->now) + sim_node_pump(&w->b, w->now);
		} while (moved);
		w->now += MS;
	} while (w->now < end);
}

static int addr_state(struct node *n, const uint8_t *addr)
{
	struct skiff_iface *ifc = skiff_stack_iface(n->st, n->ifindex);
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (!memcmp(ifc->v6[k].addr, addr, 16))
			return ifc->v6[k].state;
	return 0;
}

/* Both stacks with IPv4, then IPv6: link-local and 2001:2::1 / ::2, DAD done. */
static void pair_up(struct pair *w, unsigned dad_a, unsigned dad_b)
{
	struct skiff_stack_config ca, cb;

	memset(w, 0, sizeof(*w));
	w->now = SEC;
	assert_int_equal(skiff_loop_pair(NULL, &w->da, &w->db), 0);
	skiff_stack_config_defaults(&ca);
	cb = ca;
	ca.seed = 1;
	cb.seed = 2;
	ca.nd_dad_transmits = dad_a;
	cb.nd_dad_transmits = dad_b;
	sim_node_init(&w->a, &ca, w->da, 0xc6120001u, w->now);
	sim_node_init(&w->b, &cb, w->db, 0xc6120002u, w->now);
	assert_int_equal(skiff_stack_enable_ip6(w->a.st, w->a.ifindex, w->now), 0);
	assert_int_equal(skiff_stack_enable_ip6(w->b.st, w->b.ifindex, w->now), 0);
	assert_int_equal(skiff_stack_add_addr6(w->a.st, w->a.ifindex, GA, 64, w->now), 0);
	assert_int_equal(skiff_stack_add_addr6(w->b.st, w->b.ifindex, GB, 64, w->now), 0);
	pump(w, 3 * SEC);
	assert_int_equal(addr_state(&w->a, GA), SKIFF_ADDR6_PREFERRED);
	assert_int_equal(addr_state(&w->b, GB), SKIFF_ADDR6_PREFERRED);
}

static void pair_down(struct pair *w)
{
	skiff_stack_destroy(w->a.st);
	skiff_stack_destroy(w->b.st);
	skiff_dev_close(w->da);
	skiff_dev_close(w->db);
}

static struct skiff_udp_sock *udp6(struct node *n, const uint8_t *addr, uint16_t port)
{
	struct skiff_addr a;
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(n->st, SKIFF_AF_INET6, &err);
	assert_non_null(sk);
	memset(&a, 0, sizeof(a));
	a.family = SKIFF_AF_INET6;
	if (addr)
		memcpy(a.v6, addr, 16);
	assert_int_equal(skiff_udp_bind(n->st, sk, &a, port), 0);
	return sk;
}

static long send6(struct pair *w, struct node *n, struct skiff_udp_sock *sk, const uint8_t *dst, uint16_t port,
		  const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	struct skiff_addr d = ip6_addr_make(dst);
	return skiff_udp_send(n->st, sk, &iov, 1, &d, port, 0, w->now);
}

static long recv6(struct node *n, struct skiff_udp_sock *sk, void *buf, size_t cap, struct skiff_addr *src,
		  uint16_t *sport)
{
	struct iovec iov = { buf, cap };
	size_t dl;
	return skiff_udp_recv(n->st, sk, &iov, 1, 0, src, sport, &dl);
}

/* DAD, then address resolution by NS/NA, and the cache's states on the way:
 * the asker's entry goes INCOMPLETE → REACHABLE (solicited NA); the answering
 * side learns the asker as STALE (7.2.3), its first use (the NA itself) moves
 * the entry to DELAY, DELAY_FIRST_PROBE_TIME later a unicast NS probes (PROBE),
 * the answer makes it REACHABLE; ReachableTime later it is STALE again. */
static void test_nd_states(void **state)
{
	struct pair w;
	struct skiff_udp_sock *sa, *sb;
	uint8_t buf[64], mac[6];
	struct skiff_addr src;
	uint16_t sport;
	(void)state;

	pair_up(&w, 1, 1);
	assert_true(w.a.st->ctr.nd_ns_out >= 1); /* its DAD solicitations */
	sa = udp6(&w.a, NULL, 7000);
	sb = udp6(&w.b, NULL, 0);
	assert_int_equal(send6(&w, &w.b, sb, GA, 7000, "hello", 5), 5);
	/* B holds the datagram while it resolves A */
	assert_int_equal(skiff_neigh_lookup6(w.b.st, 0, GA, NULL), SKIFF_NEIGH_INCOMPLETE);
	pump(&w, 10 * MS);
	assert_int_equal(skiff_neigh_lookup6(w.b.st, 0, GA, mac), SKIFF_NEIGH_REACHABLE);
	assert_memory_equal(mac, w.da->mac, 6);
	/* A learnt B from the NS (STALE), then used it for the NA: DELAY */
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GB, NULL), SKIFF_NEIGH_DELAY);
	assert_int_equal(recv6(&w.a, sa, buf, sizeof(buf), &src, &sport), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(src.family, SKIFF_AF_INET6);
	assert_memory_equal(src.v6, GB, 16);
	/* A answers while the entry waits in DELAY */
	assert_int_equal(send6(&w, &w.a, sa, GB, sport, "back", 4), 4);
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GB, NULL), SKIFF_NEIGH_DELAY);
	pump(&w, 10 * MS);
	assert_int_equal(recv6(&w.b, sb, buf, sizeof(buf), NULL, NULL), 4);
	pump(&w, 4 * SEC);
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GB, NULL), SKIFF_NEIGH_DELAY);
	pump(&w, 2 * SEC); /* DELAY_FIRST_PROBE_TIME passed: the probe and its answer */
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GB, NULL), SKIFF_NEIGH_REACHABLE);
	pump(&w, 31 * SEC);
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GB, NULL), SKIFF_NEIGH_STALE);
	skiff_udp_close(w.a.st, sa);
	skiff_udp_close(w.b.st, sb);
	pair_down(&w);
}

/* An NS for an address nobody answers: after the retries the held datagram's
 * sender gets ICMPv6 address unreachable and the entry goes. */
static void test_nd_unresolved(void **state)
{
	struct pair w;
	struct skiff_udp_sock *sb;
	static const uint8_t nobody[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x77 };
	(void)state;

	pair_up(&w, 0, 0);
	sb = udp6(&w.b, NULL, 0);
	assert_int_equal(send6(&w, &w.b, sb, nobody, 9, "x", 1), 1);
	pump(&w, 5 * SEC);
	assert_int_equal(skiff_neigh_lookup6(w.b.st, 0, nobody, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(w.b.st->ctr.drop[SKIFF_DROP_ARP_UNRESOLVED], 1);
	skiff_udp_close(w.b.st, sb);
	pair_down(&w);
}

/* Echo request → reply (RFC 4443 4.1, 4.2), to the unicast and the all-nodes group. */
static void test_echo(void **state)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	struct pair w;
	struct skiff_route_res6 rt;
	(void)state;

	pair_up(&w, 0, 0);
	for (int i = 0; i < 2; i++) {
		const uint8_t *dst = i == 0 ? GA : all_nodes;
		struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(w.db));
		struct ip6_repr ip;
		int n;
		assert_int_equal(skiff_route6_lookup(w.b.st, dst, 0, &rt), 0);
		memset(&ip, 0, sizeof(ip));
		ip.hop_limit = 64;
		ip.src = ip6_addr_make(rt.src);
		ip.dst = ip6_addr_make(dst);
		n = icmp6_echo_build(skiff_pkt_data(p), skiff_pkt_tailroom(p), &ip, ICMP6_ECHO_REQUEST, 0x1234,
				     (uint16_t)i, "ping-data", 9);
		assert_true(n > 0);
		skiff_pkt_put(p, (uint32_t)n);
		assert_int_equal(skiff_ip6_output_packet(w.b.st, &rt, p, w.now), 0);
		pump(&w, 10 * MS);
	}
	assert_int_equal(w.a.st->ctr.icmp6_echo_replies, 2);
	/* B got both replies (and drops them: no ping socket) */
	assert_int_equal(w.b.st->ctr.drop[SKIFF_DROP_ICMP6_INFO_UNKNOWN], 2);
	assert_int_equal(w.b.st->ctr.drop[SKIFF_DROP_ICMP6_BAD_CSUM], 0);
	pair_down(&w);
}

/* A connected socket to a closed port gets ECONNREFUSED from the ICMPv6 error
 * (RFC 4443 3.1 code 4, Linux icmpv6_err_convert). */
static void test_port_unreachable(void **state)
{
	struct pair w;
	struct skiff_udp_sock *sb;
	struct skiff_addr d;
	uint8_t buf[8];
	(void)state;

	pair_up(&w, 0, 0);
	sb = udp6(&w.b, NULL, 0);
	d = ip6_addr_make(GA);
	assert_int_equal(skiff_udp_connect(w.b.st, sb, &d, 4444, w.now), 0);
	assert_int_equal(send6(&w, &w.b, sb, GA, 4444, "anyone", 6), 6);
	pump(&w, 10 * MS);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_UDP_NO_PORT], 1);
	assert_int_equal(recv6(&w.b, sb, buf, sizeof(buf), NULL, NULL), -ECONNREFUSED);
	skiff_udp_close(w.b.st, sb);
	pair_down(&w);
}

/* A datagram larger than the MTU goes as fragments and comes back whole. */
static void test_fragments(void **state)
{
	struct pair w;
	struct skiff_udp_sock *sa, *sb;
	static uint8_t big[6000], got[8000];
	(void)state;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	pair_up(&w, 0, 0);
	sa = udp6(&w.a, NULL, 7001);
	sb = udp6(&w.b, NULL, 0);
	assert_int_equal(send6(&w, &w.b, sb, GA, 7001, big, sizeof(big)), (long)sizeof(big));
	pump(&w, 20 * MS);
	assert_true(w.b.st->ctr.ip6_frag_out >= 1);
	assert_int_equal(recv6(&w.a, sa, got, sizeof(got), NULL, NULL), (long)sizeof(big));
	assert_memory_equal(got, big, sizeof(big));
	skiff_udp_close(w.a.st, sa);
	skiff_udp_close(w.b.st, sb);
	pair_down(&w);
}

/* An AF_INET6 socket on :: takes IPv4 (the sender seen as ::ffff:a.b.c.d) and
 * answers it over IPv4; with V6ONLY it does not. */
static void test_dual_stack(void **state)
{
	struct pair w;
	struct skiff_udp_sock *s6, *s4;
	struct skiff_addr src, a4 = skiff_addr_v4(0), to;
	uint8_t buf[16];
	uint16_t sport;
	struct iovec iov = { (void *)"v4!", 3 };
	int err;
	(void)state;

	pair_up(&w, 0, 0);
	s6 = udp6(&w.a, NULL, 7002);
	s4 = skiff_udp_open(w.b.st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_udp_bind(w.b.st, s4, &a4, 0), 0);
	to = skiff_addr_v4(0xc6120001u);
	assert_int_equal(skiff_udp_send(w.b.st, s4, &iov, 1, &to, 7002, 0, w.now), 3);
	pump(&w, 10 * MS);
	assert_int_equal(recv6(&w.a, s6, buf, sizeof(buf), &src, &sport), 3);
	assert_int_equal(src.family, SKIFF_AF_INET6);
	assert_true(ip6_is_v4mapped(src.v6));
	assert_int_equal(ip6_v4mapped_addr(src.v6), 0xc6120002u);
	/* the reply to the v4-mapped sender leaves as IPv4 */
	assert_int_equal(send6(&w, &w.a, s6, src.v6, sport, "ok", 2), 2);
	pump(&w, 10 * MS);
	assert_int_equal(recv6(&w.b, s4, buf, sizeof(buf), &src, NULL), 2);
	assert_int_equal(src.family, SKIFF_AF_INET);
	/* V6ONLY: the same datagram finds no socket */
	skiff_udp_close(w.a.st, s6);
	{
		struct skiff_udp_sock *o = skiff_udp_open(w.a.st, SKIFF_AF_INET6, &err);
		struct skiff_addr any6;
		memset(&any6, 0, sizeof(any6));
		any6.family = SKIFF_AF_INET6;
		o->v6only = true;
		assert_int_equal(skiff_udp_bind(w.a.st, o, &any6, 7002), 0);
		/* and an AF_INET socket may share the port with it */
		{
			struct skiff_udp_sock *o4 = skiff_udp_open(w.a.st, SKIFF_AF_INET, &err);
			assert_int_equal(skiff_udp_bind(w.a.st, o4, &a4, 7002), 0);
			skiff_udp_close(w.a.st, o4);
		}
		assert_int_equal(skiff_udp_send(w.b.st, s4, &iov, 1, &to, 7002, 0, w.now), 3);
		pump(&w, 10 * MS);
		assert_int_equal(skiff_udp_next_len(o), 0);
		skiff_udp_close(w.a.st, o);
	}
	/* a dual-stack :: socket and an AF_INET 0.0.0.0 one clash on a port */
	{
		struct skiff_udp_sock *d6 = udp6(&w.a, NULL, 7003);
		struct skiff_udp_sock *d4 = skiff_udp_open(w.a.st, SKIFF_AF_INET, &err);
		assert_int_equal(skiff_udp_bind(w.a.st, d4, &a4, 7003), -EADDRINUSE);
		skiff_udp_close(w.a.st, d4);
		skiff_udp_close(w.a.st, d6);
	}
	skiff_udp_close(w.b.st, s4);
	pair_down(&w);
}

/* DAD: an address another node already holds becomes DUPLICATE and is never
 * used again (RFC 4862 5.4.4, 5.4.5; RFC 4429 for the optimistic state). */
static void test_dad_conflict(void **state)
{
	struct pair w;
	(void)state;

	pair_up(&w, 1, 0);
	assert_int_equal(skiff_stack_add_addr6(w.b.st, w.b.ifindex, GX, 64, w.now), 0);
	pump(&w, 10 * MS);
	assert_int_equal(addr_state(&w.b, GX), SKIFF_ADDR6_PREFERRED);
	assert_int_equal(skiff_stack_add_addr6(w.a.st, w.a.ifindex, GX, 64, w.now), 0);
	/* optimistic (RFC 4429, the default): usable while DAD runs */
	assert_int_equal(addr_state(&w.a, GX), SKIFF_ADDR6_OPTIMISTIC);
	assert_int_equal(skiff_stack_local6(w.a.st, GX, -1, true), 0);
	pump(&w, 3 * SEC);
	assert_int_equal(addr_state(&w.a, GX), SKIFF_ADDR6_DUPLICATE);
	assert_int_equal(w.a.st->ctr.nd_dad_failed, 1);
	assert_int_equal(skiff_stack_local6(w.a.st, GX, -1, true), -1);
	pair_down(&w);
}

/* Someone advertises our own address with Override: it never enters the cache
 * (RFC 4862 5.4.4), and traffic to us still flows. */
static void test_na_spoof(void **state)
{
	struct pair w;
	struct skiff_udp_sock *sa, *sb;
	struct skiff_route_res6 rt;
	uint8_t buf[8];
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	static const uint8_t evil_mac[6] = { 0x02, 0xee, 0xee, 0xee, 0xee, 0xee };
	(void)state;

	pair_up(&w, 0, 0);
	for (int i = 0; i < 100; i++) {
		struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(w.db));
		uint8_t src[16];
		int n;
		assert_int_equal(skiff_ip6_select_src(w.b.st, 0, all_nodes, src), 0);
		n = nd_build_na(skiff_pkt_data(p), skiff_pkt_tailroom(p), src, all_nodes, GA, ND_NA_OVERRIDE, evil_mac);
		assert_true(n > 0);
		skiff_pkt_put(p, (uint32_t)n);
		assert_int_equal(skiff_route6_lookup(w.b.st, all_nodes, 0, &rt), 0);
		assert_int_equal(skiff_ip6_output_packet(w.b.st, &rt, p, w.now), 0);
	}
	pump(&w, 10 * MS);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_ND_NA_FOR_OURS], 100);
	assert_int_equal(skiff_neigh_lookup6(w.a.st, 0, GA, NULL), SKIFF_NEIGH_NONE);
	sa = udp6(&w.a, NULL, 7004);
	sb = udp6(&w.b, NULL, 0);
	assert_int_equal(send6(&w, &w.b, sb, GA, 7004, "still", 5), 5);
	pump(&w, 10 * MS);
	assert_int_equal(recv6(&w.a, sa, buf, sizeof(buf), NULL, NULL), 5);
	skiff_udp_close(w.a.st, sa);
	skiff_udp_close(w.b.st, sb);
	pair_down(&w);
}

/* Packet Too Big lowers the path MTU: the next datagram is cut to it. */
static void test_pmtu(void **state)
{
	struct pair w;
	struct skiff_route_res6 rt;
	(void)state;

	pair_up(&w, 0, 0);
	assert_int_equal(skiff_route6_lookup(w.b.st, GA, -1, &rt), 0);
	assert_int_equal(rt.mtu, w.db->mtu);
	assert_true(skiff_pmtu6_update(w.b.st, GA, 1280, w.now));
	assert_false(skiff_pmtu6_update(w.b.st, GA, 1400, w.now)); /* never raised by a PTB */
	assert_int_equal(skiff_route6_lookup(w.b.st, GA, -1, &rt), 0);
	assert_int_equal(rt.mtu, 1280);
	assert_false(skiff_pmtu6_update(w.b.st, GA, 500, w.now)); /* taken as 1280: no change */
	assert_int_equal(skiff_pmtu6_get(w.b.st, GA, 1500, w.now), 1280); /* RFC 8201: not below 1280 */
	assert_int_equal(skiff_pmtu6_get(w.b.st, GA, 1500, w.now + 601 * SEC), 1500); /* expired */
	pair_down(&w);
}

/* The input path's own drop reasons, each reached by a frame built for it. */
static void test_input_drops(void **state)
{
	struct pair w;
	struct skiff_route_res6 rt;
	static const uint8_t mcast_src[16] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t loop6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	(void)state;

	pair_up(&w, 0, 0);
	assert_int_equal(skiff_route6_lookup(w.b.st, GA, -1, &rt), 0);
	for (int c = 0; c < 6; c++) {
		struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(w.db));
		struct ip6_repr ip;
		uint8_t *h = skiff_pkt_data(p);
		memset(&ip, 0, sizeof(ip));
		ip.hop_limit = 64;
		ip.src = ip6_addr_make(GB);
		ip.dst = ip6_addr_make(GA);
		ip.next_hdr = 253; /* experimentation (RFC 3692): no handler */
		ip.payload_len = 8;
		if (c == 1)
			ip.src = ip6_addr_make(mcast_src);
		if (c == 2)
			ip.dst = ip6_addr_make(loop6);
		if (c == 3)
			ip.dst = ip6_addr_make(GX); /* not ours */
		if (c == 4)
			ip.next_hdr = IP6_NH_NONE;
		if (c == 5)
			ip.payload_len = 400; /* beyond the frame */
		ip6_emit(h, &ip);
		memset(h + IP6_HDR_LEN, 0, 8);
		skiff_pkt_put(p, IP6_HDR_LEN + 8);
		assert_int_equal(skiff_ip6_output_packet(w.b.st, &rt, p, w.now), 0);
	}
	pump(&w, 10 * MS);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_UNKNOWN_PROTO], 1);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_BAD_SRC], 1);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_MARTIAN_DST], 1);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_NOT_FOR_US], 1);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_NONE], 1);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_IP6_BAD_PLEN], 1);
	/* the unknown next header was answered with Parameter Problem code 1 (RFC 8200 4) */
	assert_true(w.a.st->ctr.icmp6_out >= 1);
	assert_int_equal(w.b.st->ctr.icmp6_errors_in, 1);
	pair_down(&w);
}

/* B sends A an ICMPv6 message `msg` (len bytes, checksum filled here) from its
 * link-local address to dst, hop limit 255 (ND). */
static void send_nd(struct pair *w, const uint8_t *dst, uint8_t *msg, size_t len)
{
	struct skiff_route_res6 rt;
	struct skiff_pkt *p = skiff_pool_get(skiff_dev_pool(w->db));
	struct ip6_repr ip;
	uint8_t src[16];
	uint8_t *h = skiff_pkt_data(p);

	assert_int_equal(skiff_stack_link_local6(w->b.st, 0, src), 0);
	memset(&ip, 0, sizeof(ip));
	ip.hop_limit = 255;
	ip.next_hdr = IP6_NH_ICMP6;
	ip.payload_len = (uint16_t)len;
	ip.src = ip6_addr_make(src);
	ip.dst = ip6_addr_make(dst);
	icmp6_csum_fill(src, dst, msg, len);
	ip6_emit(h, &ip);
	memcpy(h + IP6_HDR_LEN, msg, len);
	skiff_pkt_put(p, (uint32_t)(IP6_HDR_LEN + len));
	assert_int_equal(skiff_route6_lookup(w->b.st, dst, 0, &rt), 0);
	assert_int_equal(skiff_ip6_output_packet(w->b.st, &rt, p, w->now), 0);
	pump(w, 10 * MS);
}

/* An RA: router lifetime, reachable/retrans times, hop limit 42, MTU 1400, the
 * prefix 2001:2:0:9::/64 on-link and autonomous with lifetimes valid/preferred. */
static size_t build_ra(uint8_t *m, const uint8_t *mac, uint16_t router_life, uint32_t valid, uint32_t pref,
		       uint8_t prefix_b7)
{
	size_t n = 0;
	memset(m, 0, 128);
	m[0] = ICMP6_ND_RA;
	m[4] = 42;                 /* cur hop limit */
	st16(m + 6, router_life);
	st32(m + 8, 20000);        /* reachable time, ms */
	st32(m + 12, 1500);        /* retrans timer, ms */
	n = 16;
	m[n] = ND_OPT_SLLA;        /* source link-layer address */
	m[n + 1] = 1;
	memcpy(m + n + 2, mac, 6);
	n += 8;
	m[n] = ND_OPT_MTU;
	m[n + 1] = 1;
	st32(m + n + 4, 1400);
	n += 8;
	m[n] = ND_OPT_PREFIX;
	m[n + 1] = 4;
	m[n + 2] = 64;
	m[n + 3] = ND_PREFIX_ONLINK | ND_PREFIX_AUTO;
	st32(m + n + 4, valid);
	st32(m + n + 8, pref);
	m[n + 16] = 0x20;
	m[n + 17] = 0x01;
	m[n + 19] = 0x02;
	m[n + 23] = prefix_b7;     /* 2001:2:0:<b7>:: */
	n += 32;
	return n;
}

static int count_in_prefix(struct node *n, uint8_t b7, int state)
{
	struct skiff_iface *ifc = skiff_stack_iface(n->st, n->ifindex);
	int c = 0;
	for (unsigned k = 0; k < ifc->n_v6; k++)
		if (ifc->v6[k].addr[0] == 0x20 && ifc->v6[k].addr[7] == b7 && (!state || ifc->v6[k].state == state))
			c++;
	return c;
}

/* RFC 4861 6.3.4 / RFC 4862 5.5.3: an RA gives a default route through its
 * sender, the link's hop limit, MTU and timers, an on-link prefix and a SLAAC
 * address (an RFC 7217 identifier); lifetime 0 withdraws the router, the
 * address goes when its valid lifetime ends. nd_accept_ra off ignores it. */
static void test_router_advert(void **state)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	static const uint8_t far[16] = { 0x20, 0x01, 0, 0x02, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	struct pair w;
	struct skiff_route_res6 rt;
	uint8_t ra[128], llb[16];
	size_t n;
	struct skiff_iface *ifc;
	(void)state;

	pair_up(&w, 0, 0);
	ifc = skiff_stack_iface(w.a.st, 0);
	assert_int_equal(skiff_route6_lookup(w.a.st, far, -1, &rt), -ENETUNREACH);
	n = build_ra(ra, w.db->mac, 1800, 600, 300, 0x09);
	send_nd(&w, all_nodes, ra, n);
	assert_int_equal(w.a.st->ctr.nd_ra_in, 1);
	assert_int_equal(ifc->hop_limit6, 42);
	assert_int_equal(ifc->mtu6, 1400);
	assert_int_equal(ifc->nd_retrans_ns, 1500 * MS);
	assert_true(ifc->nd_reachable_ns >= 10000 * MS && ifc->nd_reachable_ns <= 30000 * MS);
	/* the default route through B's link-local address */
	assert_int_equal(skiff_stack_link_local6(w.b.st, 0, llb), 0);
	assert_int_equal(skiff_route6_lookup(w.a.st, far, -1, &rt), 0);
	assert_memory_equal(rt.nexthop, llb, 16);
	assert_int_equal(rt.mtu, 1400);
	/* the SLAAC address in 2001:2:0:9::/64 and its route */
	pump(&w, 3 * SEC);
	assert_int_equal(count_in_prefix(&w.a, 0x09, SKIFF_ADDR6_PREFERRED), 1);
	/* a second RA does not form a second address */
	send_nd(&w, all_nodes, ra, n);
	assert_int_equal(count_in_prefix(&w.a, 0x09, 0), 1);
	/* router lifetime 0: no default route any more */
	n = build_ra(ra, w.db->mac, 0, 600, 300, 0x09);
	send_nd(&w, all_nodes, ra, n);
	assert_int_equal(skiff_route6_lookup(w.a.st, far, -1, &rt), -ENETUNREACH);
	/* an RA withdrawing the configured prefix (2001:2::/64, lifetime 0) leaves
	 * the configured route alone (Linux: only RTF_ADDRCONF routes) */
	n = build_ra(ra, w.db->mac, 0, 0, 0, 0x00);
	send_nd(&w, all_nodes, ra, n);
	assert_int_equal(skiff_route6_lookup(w.a.st, GB, -1, &rt), 0);
	/* preferred lifetime over: deprecated; valid over: gone */
	pump(&w, 301 * SEC);
	assert_int_equal(count_in_prefix(&w.a, 0x09, SKIFF_ADDR6_DEPRECATED), 1);
	pump(&w, 300 * SEC);
	assert_int_equal(count_in_prefix(&w.a, 0x09, 0), 0);
	{ /* and its route went with it */
		static const uint8_t in9[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x42 };
		assert_int_equal(skiff_route6_lookup(w.a.st, in9, -1, &rt), -ENETUNREACH);
	}
	pair_down(&w);

	/* nd_accept_ra off: ignored */
	{
		struct skiff_stack_config c;
		pair_up(&w, 0, 0);
		c = w.a.st->cfg;
		(void)c;
		w.a.st->cfg.nd_accept_ra = false;
		n = build_ra(ra, w.db->mac, 1800, 600, 300, 0x09);
		send_nd(&w, all_nodes, ra, n);
		assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_ND_RA_IGNORED], 1);
		assert_int_equal(skiff_route6_lookup(w.a.st, far, -1, &rt), -ENETUNREACH);
		pair_down(&w);
	}
}

/* Redirects (RFC 4861 8): ignored by default; with nd_accept_redirects, taken
 * only from the current first-hop router for the destination. */
static void test_redirect(void **state)
{
	static const uint8_t far[16] = { 0x20, 0x01, 0, 0x02, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	static const uint8_t any[16];
	struct pair w;
	struct skiff_route_res6 rt;
	uint8_t m[64], llb[16];
	(void)state;

	pair_up(&w, 0, 0);
	assert_int_equal(skiff_stack_link_local6(w.b.st, 0, llb), 0);
	assert_int_equal(skiff_route6_add(w.a.st, any, 0, GX, 0, 1024, UINT64_MAX), 0); /* first hop: GX */
	memset(m, 0, sizeof(m));
	m[0] = ICMP6_ND_REDIRECT;
	memcpy(m + 8, llb, 16);   /* target: B, a better first hop */
	memcpy(m + 24, far, 16);  /* destination */
	send_nd(&w, GA, m, 40);
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_ND_REDIRECT_IGNORED], 1);
	w.a.st->cfg.nd_accept_redirects = true;
	send_nd(&w, GA, m, 40); /* from B, which is not the first hop for far: still ignored */
	assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_ND_REDIRECT_IGNORED], 2);
	assert_int_equal(skiff_route6_del(w.a.st, any, 0, GX, 0), 0);
	assert_int_equal(skiff_route6_add(w.a.st, any, 0, llb, 0, 1024, UINT64_MAX), 0); /* B is the first hop */
	{
		static const uint8_t ll99[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99 };
		memcpy(m + 8, ll99, 16); /* ... and redirects to another router, fe80::99 (8.1: link-local) */
		send_nd(&w, GA, m, 40);
		assert_int_equal(w.a.st->ctr.drop[SKIFF_DROP_ND_REDIRECT_IGNORED], 2);
		assert_int_equal(skiff_route6_lookup(w.a.st, far, -1, &rt), 0);
		assert_memory_equal(rt.nexthop, ll99, 16);
	}
	pair_down(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nd_states),
		cmocka_unit_test(test_nd_unresolved),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_port_unreachable),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_dual_stack),
		cmocka_unit_test(test_dad_conflict),
		cmocka_unit_test(test_na_spoof),
		cmocka_unit_test(test_pmtu),
		cmocka_unit_test(test_input_drops),
		cmocka_unit_test(test_router_advert),
		cmocka_unit_test(test_redirect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
