/* test_raw6.c — IPv6 raw sockets and ICMPv6 ping sockets (raw6.c) between two
 * stacks over a loop pair, against Linux's behaviour (net/ipv6/raw.c, ping.c,
 * RFC 3542 3): a raw ICMPv6 socket gets the echo request without the IPv6
 * header while the stack still answers it, ND messages too; ICMP6_FILTER;
 * IPV6_CHECKSUM computed on send and verified on receive (a bad one dropped
 * for that socket only), odd and out-of-range offsets refused; a protocol with
 * no handler held by a raw socket draws no Parameter Problem, and without one
 * the Parameter Problem reaches the sender's error queue (SO_EE_ORIGIN_ICMP6,
 * pointer as ee_info, offender); ping6 sockets rewrite id and checksum and get
 * only their own replies; an ICMPv6 error quoting an echo request reaches the
 * ping6 socket of its id; IPPROTO_RAW sends the caller's datagram as is.
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
#include "dataplane/raw.h"
#include "dataplane/wire_icmp6.h"
#include "../sim/sim_node.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define PROTO_TEST 253 /* RFC 3692 experimentation */

static const uint8_t GA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t GB[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };

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

static int setup(void **state)
{
	static struct pair w;
	struct skiff_stack_config ca, cb;

	memset(&w, 0, sizeof(w));
	w.now = SEC;
	assert_int_equal(skiff_loop_pair(NULL, &w.da, &w.db), 0);
	skiff_stack_config_defaults(&ca);
	cb = ca;
	ca.seed = 1;
	cb.seed = 2;
	ca.nd_dad_transmits = cb.nd_dad_transmits = 0;
	sim_node_init(&w.a, &ca, w.da, 0xc6120001u, w.now);
	sim_node_init(&w.b, &cb, w.db, 0xc6120002u, w.now);
	assert_int_equal(skiff_stack_enable_ip6(w.a.st, w.a.ifindex, w.now), 0);
	assert_int_equal(skiff_stack_enable_ip6(w.b.st, w.b.ifindex, w.now), 0);
	assert_int_equal(skiff_stack_add_addr6(w.a.st, w.a.ifindex, GA, 64, w.now), 0);
	assert_int_equal(skiff_stack_add_addr6(w.b.st, w.b.ifindex, GB, 64, w.now), 0);
	pump(&w, 100 * MS);
	*state = &w;
	return 0;
}

static int teardown(void **state)
{
	struct pair *w = *state;
	skiff_stack_destroy(w->a.st);
	skiff_stack_destroy(w->b.st);
	skiff_dev_close(w->da);
	skiff_dev_close(w->db);
	return 0;
}

static struct skiff_raw_sock *open6(struct node *n, bool ping, int proto)
{
	int err = -1;
	struct skiff_raw_sock *sk = skiff_raw_open(n->st, SKIFF_AF_INET6, ping, proto, &err);
	assert_non_null(sk);
	assert_int_equal(err, 0);
	return sk;
}

static long send6(struct pair *w, struct node *n, struct skiff_raw_sock *sk, const uint8_t *dst, const void *m,
		  size_t len)
{
	struct skiff_addr d = ip6_addr_make(dst);
	struct iovec iov = { (void *)m, len };
	return skiff_raw_send(n->st, sk, &iov, 1, &d, -1, -1, w->now);
}

static long recv6(struct node *n, struct skiff_raw_sock *sk, uint8_t *buf, size_t len, struct skiff_raw_msginfo *mi)
{
	struct iovec iov = { buf, len };
	return skiff_raw_recv(n->st, sk, &iov, 1, 0, mi);
}

/* Next datagram of ICMPv6 type `type` on sk (others skipped: ND, ...), its length or -1. */
static long recv_type(struct node *n, struct skiff_raw_sock *sk, uint8_t type, uint8_t *buf, size_t len,
		      struct skiff_raw_msginfo *mi)
{
	long k;
	while ((k = recv6(n, sk, buf, len, mi)) >= 0)
		if (k >= 1 && buf[0] == type)
			return k;
	return -1;
}

static const uint8_t echo[ICMP6_HDR_LEN + 3] = { ICMP6_ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 1, 'h', 'e', 'y' };

static void test_raw_icmp6_copy_without_header(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ping = open6(&w->a, true, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *rb = open6(&w->b, false, IPPROTO_ICMPV6_);
	struct skiff_raw_msginfo mi;
	uint8_t buf[256];

	assert_int_equal(send6(w, &w->a, ping, GB, echo, sizeof(echo)), sizeof(echo));
	pump(w, 10 * MS);
	/* B's raw socket: the request from its ICMPv6 header on, checksum right */
	assert_int_equal(recv_type(&w->b, rb, ICMP6_ECHO_REQUEST, buf, sizeof(buf), &mi), sizeof(echo));
	assert_int_equal(ld16(buf + 4), ping->ident);
	assert_memory_equal(buf + ICMP6_HDR_LEN, "hey", 3);
	assert_true(icmp6_csum_ok(GA, GB, buf, sizeof(echo)));
	assert_int_equal(mi.src.family, SKIFF_AF_INET6);
	assert_memory_equal(mi.src.v6, GA, 16);
	assert_memory_equal(mi.dst.v6, GB, 16);
	assert_int_equal(mi.ttl, 64);
	assert_int_equal(mi.ifindex, w->b.ifindex);
	/* the stack still answered: A's ping socket has the reply, no header */
	assert_int_equal(recv6(&w->a, ping, buf, sizeof(buf), &mi), sizeof(echo));
	assert_int_equal(buf[0], ICMP6_ECHO_REPLY);
	assert_int_equal(ld16(buf + 4), ping->ident);
	assert_memory_equal(buf + ICMP6_HDR_LEN, "hey", 3);
	assert_memory_equal(mi.src.v6, GB, 16);
	assert_int_equal(recv6(&w->a, ping, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_raw_close(w->a.st, ping);
	skiff_raw_close(w->b.st, rb);
}

static void test_raw_icmp6_sees_nd(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ra = open6(&w->a, false, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *rb = open6(&w->b, false, IPPROTO_ICMPV6_);
	uint8_t buf[256];

	/* A resolves B first: A's socket sees the NA, B's the NS (Linux: every ICMPv6 message) */
	assert_int_equal(send6(w, &w->a, ra, GB, echo, sizeof(echo)), sizeof(echo));
	pump(w, 10 * MS);
	assert_true(recv_type(&w->b, rb, ICMP6_ND_NS, buf, sizeof(buf), NULL) > 0);
	assert_true(recv_type(&w->a, ra, ICMP6_ND_NA, buf, sizeof(buf), NULL) > 0);
	skiff_raw_close(w->a.st, ra);
	skiff_raw_close(w->b.st, rb);
}

static void test_icmp6_filter(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ra = open6(&w->a, false, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *rb = open6(&w->b, false, IPPROTO_ICMPV6_), *all = open6(&w->b, false, IPPROTO_ICMPV6_);
	uint8_t buf[256], reply[sizeof(echo)];
	uint64_t blocked0 = w->b.st->ctr.drop[SKIFF_DROP_RAW_ICMP6_FILTERED];

	/* as ping -6: block everything, pass echo replies */
	memset(rb->icmp6_filter, 0xff, sizeof(rb->icmp6_filter));
	rb->icmp6_filter[ICMP6_ECHO_REPLY >> 5] &= ~(1u << (ICMP6_ECHO_REPLY & 31));
	assert_int_equal(send6(w, &w->a, ra, GB, echo, sizeof(echo)), sizeof(echo));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, rb, buf, sizeof(buf), NULL), -EAGAIN); /* requests and ND blocked */
	assert_true(recv_type(&w->b, all, ICMP6_ECHO_REQUEST, buf, sizeof(buf), NULL) > 0);
	assert_true(w->b.st->ctr.drop[SKIFF_DROP_RAW_ICMP6_FILTERED] == blocked0); /* `all` took them */
	/* a raw socket may send an echo reply: B's filtered socket passes it */
	memcpy(reply, echo, sizeof(echo));
	reply[0] = ICMP6_ECHO_REPLY;
	assert_int_equal(send6(w, &w->a, ra, GB, reply, sizeof(reply)), sizeof(reply));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, rb, buf, sizeof(buf), NULL), sizeof(reply));
	assert_int_equal(buf[0], ICMP6_ECHO_REPLY);
	assert_true(icmp6_csum_ok(GA, GB, buf, sizeof(reply))); /* the kernel's checksum at offset 2 */
	skiff_raw_close(w->a.st, ra);
	skiff_raw_close(w->b.st, rb);
	skiff_raw_close(w->b.st, all);
}

static void test_ipv6_checksum(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ra = open6(&w->a, false, PROTO_TEST);
	struct skiff_raw_sock *ck = open6(&w->b, false, PROTO_TEST), *plain = open6(&w->b, false, PROTO_TEST);
	uint8_t msg[10] = { 1, 2, 0, 0, 5, 6, 7, 8, 9, 10 }, buf[64];
	uint64_t bad0 = w->b.st->ctr.drop[SKIFF_DROP_RAW_BAD_CSUM];

	assert_false(ra->checksum); /* off by default for other protocols */
	assert_int_equal(skiff_raw6_set_checksum(ra, 3), -EINVAL); /* odd */
	assert_int_equal(skiff_raw6_set_checksum(ra, 8), 0);
	assert_int_equal(send6(w, &w->a, ra, GB, msg, 9), -EINVAL); /* the field must lie inside */
	assert_int_equal(skiff_raw6_set_checksum(ra, 2), 0);
	assert_int_equal(skiff_raw6_set_checksum(ck, 2), 0);
	assert_int_equal(send6(w, &w->a, ra, GB, msg, sizeof(msg)), sizeof(msg));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, ck, buf, sizeof(buf), NULL), sizeof(msg));
	assert_int_equal(csum_fold(csum_partial(buf, sizeof(msg), csum_pseudo6(GA, GB, PROTO_TEST, sizeof(msg)))), 0);
	assert_int_not_equal(ld16(buf + 2), 0);
	assert_int_equal(recv6(&w->b, plain, buf, sizeof(buf), NULL), sizeof(msg));
	/* sent without a checksum: the checking socket drops it, the other gets it */
	assert_int_equal(skiff_raw6_set_checksum(ra, -1), 0);
	assert_int_equal(send6(w, &w->a, ra, GB, msg, sizeof(msg)), sizeof(msg));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, ck, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(w->b.st->ctr.drop[SKIFF_DROP_RAW_BAD_CSUM], bad0 + 1);
	assert_int_equal(recv6(&w->b, plain, buf, sizeof(buf), NULL), sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	/* ICMPv6 sockets checksum at 2 from the start (rawv6_init_sk) */
	{
		struct skiff_raw_sock *ic = open6(&w->a, false, IPPROTO_ICMPV6_);
		assert_true(ic->checksum);
		assert_int_equal(ic->csum_off, 2);
		skiff_raw_close(w->a.st, ic);
	}
	skiff_raw_close(w->a.st, ra);
	skiff_raw_close(w->b.st, ck);
	skiff_raw_close(w->b.st, plain);
}

static void test_unknown_protocol_raw_no_param_problem(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ra = open6(&w->a, false, PROTO_TEST), *ia = open6(&w->a, false, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *rb = open6(&w->b, false, PROTO_TEST);
	struct skiff_raw_msginfo mi;
	uint8_t msg[8] = { 'p', 'a', 'y', 'l', 'o', 'a', 'd', '!' }, buf[256];
	long n;

	ra->recverr = true;
	/* B holds the protocol on a raw socket: it gets the datagram, A no error */
	assert_int_equal(send6(w, &w->a, ra, GB, msg, sizeof(msg)), sizeof(msg));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, rb, buf, sizeof(buf), &mi), sizeof(msg));
	assert_memory_equal(buf, msg, sizeof(msg));
	assert_int_equal(recv_type(&w->a, ia, ICMP6_PARAM_PROBLEM, buf, sizeof(buf), NULL), -1);
	{
		struct iovec iov = { buf, sizeof(buf) };
		assert_int_equal(skiff_raw_recv_err(w->a.st, ra, &iov, 1, 0, &mi), -EAGAIN);
	}
	/* without it: Parameter Problem code 1 (RFC 8200 4) to A's error queue */
	skiff_raw_close(w->b.st, rb);
	assert_int_equal(send6(w, &w->a, ra, GB, msg, sizeof(msg)), sizeof(msg));
	pump(w, 10 * MS);
	assert_true(recv_type(&w->a, ia, ICMP6_PARAM_PROBLEM, buf, sizeof(buf), NULL) > 0);
	{
		struct iovec iov = { buf, sizeof(buf) };
		n = skiff_raw_recv_err(w->a.st, ra, &iov, 1, 0, &mi);
	}
	assert_int_equal(n, sizeof(msg)); /* the quoted payload, from the upper-layer header */
	assert_memory_equal(buf, msg, sizeof(msg));
	assert_int_equal(mi.ee_origin, 3); /* SO_EE_ORIGIN_ICMP6 */
	assert_int_equal(mi.ee_type, ICMP6_PARAM_PROBLEM);
	assert_int_equal(mi.ee_code, 1);
	assert_int_equal(mi.ee_info, 6); /* the Next Header field of the fixed header */
	assert_memory_equal(mi.offender.v6, GB, 16);
	assert_memory_equal(mi.src.v6, GB, 16);
	assert_int_equal(skiff_raw_take_error(ra), 0); /* the last entry's error went with it */
	skiff_raw_close(w->a.st, ra);
	skiff_raw_close(w->a.st, ia);
}

static void test_ping6_ids(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *p1 = open6(&w->a, true, IPPROTO_ICMPV6_), *p2 = open6(&w->a, true, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *p3 = open6(&w->a, true, IPPROTO_ICMPV6_);
	struct skiff_addr any = ip6_addr_make((const uint8_t[16]){ 0 }), ga = ip6_addr_make(GA);
	uint8_t bad[ICMP6_HDR_LEN] = { ICMP6_ECHO_REPLY }, buf[128];
	struct skiff_raw_msginfo mi;

	assert_int_equal(skiff_raw_bind(w->a.st, p1, &any, 777), 0);
	assert_int_equal(p1->ident, 777);
	assert_int_equal(skiff_raw_bind(w->a.st, p3, &ga, 777), -EADDRINUSE);
	assert_int_equal(send6(w, &w->a, p1, GB, echo, sizeof(echo)), sizeof(echo));
	assert_int_equal(send6(w, &w->a, p2, GB, echo, sizeof(echo)), sizeof(echo));
	assert_true(p2->ident != 0 && p2->ident != 777);
	/* only echo requests, code 0 (ping_common_sendmsg) */
	assert_int_equal(send6(w, &w->a, p2, GB, bad, sizeof(bad)), -EINVAL);
	assert_int_equal(send6(w, &w->a, p2, GB, echo, 4), -EINVAL);
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->a, p1, buf, sizeof(buf), &mi), sizeof(echo));
	assert_int_equal(ld16(buf + 4), 777);
	assert_int_equal(recv6(&w->a, p1, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv6(&w->a, p2, buf, sizeof(buf), &mi), sizeof(echo));
	assert_int_equal(ld16(buf + 4), p2->ident);
	assert_int_equal(recv6(&w->a, p2, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv6(&w->a, p3, buf, sizeof(buf), NULL), -EAGAIN);
	/* a link-local destination without a scope: EINVAL (ping_v6_sendmsg) */
	{
		uint8_t ll[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
		assert_int_equal(send6(w, &w->a, p2, ll, echo, sizeof(echo)), -EINVAL);
	}
	/* v4-mapped destinations are refused */
	{
		uint8_t m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 2 };
		assert_int_equal(send6(w, &w->a, p2, m, echo, sizeof(echo)), -EINVAL);
	}
	skiff_raw_close(w->a.st, p1);
	skiff_raw_close(w->a.st, p2);
	skiff_raw_close(w->a.st, p3);
}

/* B sends, with IPPROTO_RAW (the whole datagram), a Destination Unreachable
 * (port) quoting A's echo request: A's ping6 socket of that id gets it. */
static void test_ping6_error_and_hdrincl(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ping = open6(&w->a, true, IPPROTO_ICMPV6_), *other = open6(&w->a, true, IPPROTO_ICMPV6_);
	struct skiff_raw_sock *rb = open6(&w->b, false, IPPROTO_ICMPV6_), *hb = open6(&w->b, false, 255);
	uint8_t req[IP6_HDR_LEN + sizeof(echo)], pkt[512], buf[256];
	struct ip6_repr ip;
	struct skiff_raw_msginfo mi;
	struct iovec iov = { buf, sizeof(buf) };
	long n;
	int len;

	assert_true(hb->hdrincl);
	ping->recverr = other->recverr = true;
	assert_int_equal(send6(w, &w->a, other, GB, echo, sizeof(echo)), sizeof(echo));
	assert_int_equal(send6(w, &w->a, ping, GB, echo, sizeof(echo)), sizeof(echo));
	pump(w, 10 * MS);
	/* the request as B got it (the ping socket's), rebuilt with its fixed header */
	while ((n = recv6(&w->b, rb, buf, sizeof(buf), NULL)) >= 0)
		if (buf[0] == ICMP6_ECHO_REQUEST && ld16(buf + 4) == ping->ident)
			break;
	assert_int_equal(n, sizeof(echo));
	memset(&ip, 0, sizeof(ip));
	ip.version = 6;
	ip.payload_len = sizeof(echo);
	ip.next_hdr = IPPROTO_ICMPV6_;
	ip.hop_limit = 64;
	ip.src = ip6_addr_make(GA);
	ip.dst = ip6_addr_make(GB);
	ip6_emit(req, &ip);
	memcpy(req + IP6_HDR_LEN, buf, sizeof(echo));
	ip.src = ip6_addr_make(GB);
	ip.dst = ip6_addr_make(GA);
	len = icmp6_error_build(pkt, sizeof(pkt), &ip, ICMP6_DST_UNREACH, ICMP6_DU_PORT, 0, req, sizeof(req));
	assert_true(len > IP6_HDR_LEN);
	assert_int_equal(send6(w, &w->b, hb, GA, pkt, (size_t)len), len);
	assert_int_equal(send6(w, &w->b, hb, GA, pkt, 20), -EINVAL); /* shorter than a fixed header */
	pump(w, 10 * MS);
	while (recv6(&w->a, ping, buf, sizeof(buf), NULL) > 0) /* the reply came first */
		;
	assert_int_equal(skiff_raw_take_error(ping), 0);
	n = skiff_raw_recv_err(w->a.st, ping, &iov, 1, 0, &mi);
	assert_int_equal(n, sizeof(echo));
	assert_int_equal(buf[0], ICMP6_ECHO_REQUEST);
	assert_int_equal(ld16(buf + 4), ping->ident);
	assert_int_equal(mi.ee_errno, ECONNREFUSED);
	assert_int_equal(mi.ee_origin, 3);
	assert_int_equal(mi.ee_type, ICMP6_DST_UNREACH);
	assert_int_equal(mi.ee_code, ICMP6_DU_PORT);
	assert_memory_equal(mi.offender.v6, GB, 16);
	assert_memory_equal(mi.src.v6, GB, 16);
	assert_int_equal(skiff_raw_recv_err(w->a.st, other, &iov, 1, 0, &mi), -EAGAIN); /* not its id */
	skiff_raw_close(w->a.st, ping);
	skiff_raw_close(w->a.st, other);
	skiff_raw_close(w->b.st, rb);
	skiff_raw_close(w->b.st, hb);
}

static void test_bound_and_connected(void **state)
{
	struct pair *w = *state;
	struct skiff_raw_sock *ra = open6(&w->a, false, PROTO_TEST);
	struct skiff_raw_sock *conn = open6(&w->b, false, PROTO_TEST), *elsewhere = open6(&w->b, false, PROTO_TEST);
	struct skiff_raw_sock *bound = open6(&w->b, false, PROTO_TEST);
	struct skiff_addr gb = ip6_addr_make(GB), ga = ip6_addr_make(GA);
	uint8_t other[16], msg[4] = { 1, 2, 3, 4 }, buf[64];

	memcpy(other, GB, 16);
	other[15] = 9;
	assert_int_equal(skiff_raw_bind(w->b.st, bound, &gb, 0), 0);
	assert_int_equal(skiff_raw_connect(w->b.st, conn, &ga, w->now), 0);
	{
		struct skiff_addr ox = ip6_addr_make(other);
		assert_int_equal(skiff_raw_bind(w->b.st, elsewhere, &ox, 0), -EADDRNOTAVAIL);
		assert_int_equal(skiff_raw_connect(w->b.st, elsewhere, &ox, w->now), 0);
	}
	assert_int_equal(send6(w, &w->a, ra, GB, msg, sizeof(msg)), sizeof(msg));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->b, bound, buf, sizeof(buf), NULL), sizeof(msg));
	assert_int_equal(recv6(&w->b, conn, buf, sizeof(buf), NULL), sizeof(msg));
	assert_int_equal(recv6(&w->b, elsewhere, buf, sizeof(buf), NULL), -EAGAIN);
	/* a connected socket sends to its peer */
	assert_int_equal(skiff_raw_send(w->b.st, conn, &(struct iovec){ msg, sizeof(msg) }, 1, NULL, -1, -1, w->now),
			 sizeof(msg));
	pump(w, 10 * MS);
	assert_int_equal(recv6(&w->a, ra, buf, sizeof(buf), NULL), sizeof(msg));
	skiff_raw_close(w->a.st, ra);
	skiff_raw_close(w->b.st, conn);
	skiff_raw_close(w->b.st, elsewhere);
	skiff_raw_close(w->b.st, bound);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_raw_icmp6_copy_without_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_icmp6_sees_nd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp6_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_protocol_raw_no_param_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping6_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping6_error_and_hdrincl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_connected, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
