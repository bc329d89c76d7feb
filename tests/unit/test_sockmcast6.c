/* test_sockmcast6.c — the IPv6 multicast socket options (socketapi/sock_mcast6.c)
 * through the native API on the loop world, IPv6 on both stacks:
 *   errnos as Linux 6.x gives them (probed with kernel sockets on a veth: join of
 *   a unicast address EINVAL, short EINVAL, unknown index ENODEV, again
 *   EADDRINUSE, leave of nothing EADDRNOTAVAIL, MCAST_* with an AF_INET group
 *   EADDRNOTAVAIL, source operations without a join EINVAL, in the other mode
 *   EINVAL, a source twice EADDRNOTAVAIL, the 65th source ENOBUFS, dropping the
 *   last source leaves; IPV6_MULTICAST_IF/LOOP/ALL values and lengths;
 *   membership options unreadable ENOPROTOOPT; more than 20 groups per socket);
 *   one send from A reaches B's two members on the same group and port
 *   byte-exact, a source-specific member only from its source, and A's own
 *   member through IPV6_MULTICAST_LOOP (not with it off).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests/lib/loop_world.h"

#include <net/if.h>

#include "dataplane/igmp.h"

static const uint8_t GA6[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t GB6[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t GRP6[16] = { 0xff, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };
static const uint8_t UNI6[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09 };

static int wsetup(void **state)
{
	(void)state;
	loop_world_up(21, 22);
	assert_int_equal(skiff_stack_enable_ip6(W.sa, 0, mono_ns()), 0);
	assert_int_equal(skiff_stack_enable_ip6(W.sb, 0, mono_ns()), 0);
	assert_int_equal(skiff_stack_add_addr6(W.sa, 0, GA6, 64, mono_ns()), 0);
	assert_int_equal(skiff_stack_add_addr6(W.sb, 0, GB6, 64, mono_ns()), 0);
	for (int i = 0; i < 20; i++)
		(void)skiff_rt_progress(W.rt);
	return 0;
}

static int wteardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

static int udp6_sock(uint16_t port)
{
	int one = 1, fd = skiff_socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in6 a;
	assert_true(fd >= 0);
	assert_int_equal(skiff_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (port) {
		memset(&a, 0, sizeof(a));
		a.sin6_family = AF_INET6;
		a.sin6_port = htons(port);
		assert_int_equal(skiff_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	return fd;
}

static struct ipv6_mreq mreq6(const uint8_t *g, unsigned ifx)
{
	struct ipv6_mreq m;
	memcpy(m.ipv6mr_multiaddr.s6_addr, g, 16);
	m.ipv6mr_interface = ifx;
	return m;
}

static void sa6(struct sockaddr_storage *ss, const uint8_t *a)
{
	struct sockaddr_in6 s;
	memset(ss, 0, sizeof(*ss));
	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	memcpy(s.sin6_addr.s6_addr, a, 16);
	memcpy(ss, &s, sizeof(s));
}

static struct group_req greq(const uint8_t *g, unsigned ifx)
{
	struct group_req r;
	memset(&r, 0, sizeof(r));
	r.gr_interface = ifx;
	sa6(&r.gr_group, g);
	return r;
}

static struct group_source_req gsreq(const uint8_t *g, const uint8_t *s, unsigned ifx)
{
	struct group_source_req r;
	memset(&r, 0, sizeof(r));
	r.gsr_interface = ifx;
	sa6(&r.gsr_group, g);
	sa6(&r.gsr_source, s);
	return r;
}

#define SO6(fd, name, v) skiff_setsockopt(fd, IPPROTO_IPV6, name, &(v), sizeof(v))

static void sockopt_errnos(void **state)
{
	int fd, v;
	unsigned lo = if_nametoindex("lo");
	struct ipv6_mreq m;
	struct group_req gr;
	struct group_source_req gs;
	uint8_t src[16], src2[16];
	socklen_t len;

	(void)state;
	skiff_rt_use(W.rt, W.ia);
	memcpy(src, GB6, 16);
	memcpy(src2, UNI6, 16);
	fd = udp6_sock(0);
	m = mreq6(UNI6, 0);
	assert_err(SO6(fd, IPV6_JOIN_GROUP, m), EINVAL);
	m = mreq6(GRP6, 0);
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof(m) - 1), EINVAL);
	m = mreq6(GRP6, 99999);
	assert_err(SO6(fd, IPV6_JOIN_GROUP, m), ENODEV);
	if (lo) { /* a kernel interface skiff does not drive */
		m = mreq6(GRP6, lo);
		assert_err(SO6(fd, IPV6_JOIN_GROUP, m), ENODEV);
	}
	m = mreq6(GRP6, 0);
	assert_err(SO6(fd, IPV6_LEAVE_GROUP, m), EADDRNOTAVAIL);
	m = mreq6(UNI6, 0);
	assert_err(SO6(fd, IPV6_LEAVE_GROUP, m), EINVAL);
	m = mreq6(GRP6, 0);
	assert_int_equal(SO6(fd, IPV6_JOIN_GROUP, m), 0);
	assert_err(SO6(fd, IPV6_JOIN_GROUP, m), EADDRINUSE);
	assert_int_equal(SO6(fd, IPV6_LEAVE_GROUP, m), 0);
	/* MCAST_JOIN_GROUP / MCAST_LEAVE_GROUP */
	gr = greq(GRP6, 0);
	gr.gr_group.ss_family = AF_INET;
	assert_err(SO6(fd, MCAST_JOIN_GROUP, gr), EADDRNOTAVAIL);
	gr = greq(GRP6, 0);
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, MCAST_JOIN_GROUP, &gr, 100), EINVAL);
	assert_int_equal(SO6(fd, MCAST_JOIN_GROUP, gr), 0);
	assert_int_equal(SO6(fd, MCAST_LEAVE_GROUP, gr), 0);
	assert_err(SO6(fd, MCAST_LEAVE_GROUP, gr), EADDRNOTAVAIL);
	/* source operations */
	gs = gsreq(GRP6, src, 0);
	assert_err(SO6(fd, MCAST_BLOCK_SOURCE, gs), EINVAL);
	assert_err(SO6(fd, MCAST_LEAVE_SOURCE_GROUP, gs), EINVAL);
	assert_int_equal(SO6(fd, MCAST_JOIN_SOURCE_GROUP, gs), 0);
	assert_err(SO6(fd, MCAST_JOIN_SOURCE_GROUP, gs), EADDRNOTAVAIL);
	assert_err(SO6(fd, MCAST_BLOCK_SOURCE, gs), EINVAL);
	gs = gsreq(GRP6, src2, 0);
	assert_err(SO6(fd, MCAST_LEAVE_SOURCE_GROUP, gs), EADDRNOTAVAIL);
	gs = gsreq(GRP6, src, 0);
	assert_int_equal(SO6(fd, MCAST_LEAVE_SOURCE_GROUP, gs), 0); /* the last source: left */
	m = mreq6(GRP6, 0);
	assert_err(SO6(fd, IPV6_LEAVE_GROUP, m), EADDRNOTAVAIL);
	/* an ASM join with no sources switches to INCLUDE{src}, then BLOCK is the other mode */
	assert_int_equal(SO6(fd, IPV6_JOIN_GROUP, m), 0);
	assert_int_equal(SO6(fd, MCAST_JOIN_SOURCE_GROUP, gs), 0);
	gs = gsreq(GRP6, src2, 0);
	assert_err(SO6(fd, MCAST_BLOCK_SOURCE, gs), EINVAL);
	skiff_close(fd);
	/* EXCLUDE mode */
	fd = udp6_sock(0);
	assert_int_equal(SO6(fd, IPV6_JOIN_GROUP, m), 0);
	gs = gsreq(GRP6, src, 0);
	assert_int_equal(SO6(fd, MCAST_BLOCK_SOURCE, gs), 0);
	assert_err(SO6(fd, MCAST_BLOCK_SOURCE, gs), EADDRNOTAVAIL);
	gs = gsreq(GRP6, src2, 0);
	assert_err(SO6(fd, MCAST_UNBLOCK_SOURCE, gs), EADDRNOTAVAIL);
	assert_err(SO6(fd, MCAST_JOIN_SOURCE_GROUP, gs), EINVAL);
	gs = gsreq(GRP6, src, 0);
	assert_int_equal(SO6(fd, MCAST_UNBLOCK_SOURCE, gs), 0);
	/* mld_max_msf 64: the 65th source is refused */
	for (int k = 0; k <= 64; k++) {
		uint8_t a[16];
		memcpy(a, UNI6, 16);
		a[14] = 1;
		a[15] = (uint8_t)k;
		gs = gsreq(GRP6, a, 0);
		if (k < 64)
			assert_int_equal(SO6(fd, MCAST_BLOCK_SOURCE, gs), 0);
		else
			assert_err(SO6(fd, MCAST_BLOCK_SOURCE, gs), ENOBUFS);
	}
	skiff_close(fd);
	/* more than 20 groups on one socket: Linux has no per-socket cap for IPv6 */
	fd = udp6_sock(0);
	for (int k = 0; k < 25; k++) {
		uint8_t g[16];
		memcpy(g, GRP6, 16);
		g[13] = (uint8_t)(0x40 + k);
		m = mreq6(g, 0);
		assert_int_equal(SO6(fd, IPV6_JOIN_GROUP, m), 0);
	}
	skiff_close(fd);
	/* IPV6_MULTICAST_IF / LOOP / ALL */
	fd = udp6_sock(0);
	v = 99999;
	assert_err(SO6(fd, IPV6_MULTICAST_IF, v), ENODEV);
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, 1), EINVAL);
	v = 0;
	assert_int_equal(SO6(fd, IPV6_MULTICAST_IF, v), 0);
	len = sizeof(v);
	v = -1;
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, &len), 0);
	assert_int_equal(v, 0);
	v = 2;
	assert_err(SO6(fd, IPV6_MULTICAST_LOOP, v), EINVAL);
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, 1), EINVAL);
	len = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, &len), 0);
	assert_int_equal(v, 1);
	v = 0;
	assert_int_equal(SO6(fd, IPV6_MULTICAST_LOOP, v), 0);
	len = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, &len), 0);
	assert_int_equal(v, 0);
	v = 5;
	assert_int_equal(SO6(fd, IPV6_MULTICAST_ALL, v), 0);
	len = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &v, 1), EINVAL);
	len = sizeof(m);
	assert_err(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, &len), ENOPROTOOPT);
	skiff_close(fd);
}

/* One send from A reaches B's two members (each a byte-exact copy), B's
 * source-specific member only from its source, and A's own member through
 * IPV6_MULTICAST_LOOP. */
static void two_sockets_one_group(void **state)
{
	int b1, b2, b3, b4, a1, tx, v;
	struct ipv6_mreq m = mreq6(GRP6, 0);
	struct group_source_req gs;
	struct sockaddr_in6 dst, from;
	socklen_t fl;
	char payload[1000], buf[1200];
	ssize_t n;

	(void)state;
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = (char)(i * 31 + 7);
	memset(&dst, 0, sizeof(dst));
	dst.sin6_family = AF_INET6;
	dst.sin6_port = htons(9000);
	memcpy(dst.sin6_addr.s6_addr, GRP6, 16);
	skiff_rt_use(W.rt, W.ib);
	b1 = udp6_sock(9000);
	b2 = udp6_sock(9000);
	b3 = udp6_sock(9000);
	b4 = udp6_sock(9000);
	assert_int_equal(SO6(b1, IPV6_JOIN_GROUP, m), 0);
	assert_int_equal(SO6(b2, IPV6_JOIN_GROUP, m), 0);
	gs = gsreq(GRP6, GA6, 0);
	assert_int_equal(SO6(b3, MCAST_JOIN_SOURCE_GROUP, gs), 0);
	gs = gsreq(GRP6, UNI6, 0);
	assert_int_equal(SO6(b4, MCAST_JOIN_SOURCE_GROUP, gs), 0);
	v = 0;
	assert_int_equal(SO6(b4, IPV6_MULTICAST_ALL, v), 0);
	skiff_rt_use(W.rt, W.ia);
	a1 = udp6_sock(9000);
	assert_int_equal(SO6(a1, IPV6_JOIN_GROUP, m), 0);
	tx = udp6_sock(0);
	{
		struct sockaddr_in6 me;
		memset(&me, 0, sizeof(me));
		me.sin6_family = AF_INET6;
		memcpy(me.sin6_addr.s6_addr, GA6, 16);
		assert_int_equal(skiff_bind(tx, (struct sockaddr *)&me, sizeof(me)), 0);
	}
	set_timeo_ms(b1, SO_RCVTIMEO, 2000);
	set_timeo_ms(b2, SO_RCVTIMEO, 2000);
	set_timeo_ms(b3, SO_RCVTIMEO, 2000);
	set_timeo_ms(b4, SO_RCVTIMEO, 300);
	set_timeo_ms(a1, SO_RCVTIMEO, 2000);
	assert_int_equal(skiff_sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&dst, sizeof(dst)),
			 (ssize_t)sizeof(payload));
	fl = sizeof(from);
	n = skiff_recvfrom(b1, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(n, (ssize_t)sizeof(payload));
	assert_memory_equal(buf, payload, sizeof(payload));
	assert_memory_equal(from.sin6_addr.s6_addr, GA6, 16);
	n = skiff_recv(b2, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)sizeof(payload));
	assert_memory_equal(buf, payload, sizeof(payload));
	n = skiff_recv(b3, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)sizeof(payload));
	assert_err(skiff_recv(b4, buf, sizeof(buf), 0), EAGAIN);
	n = skiff_recv(a1, buf, sizeof(buf), 0);
	assert_int_equal(n, (ssize_t)sizeof(payload)); /* IPV6_MULTICAST_LOOP */
	/* loop off: B still gets it, A's member does not */
	v = 0;
	assert_int_equal(SO6(tx, IPV6_MULTICAST_LOOP, v), 0);
	assert_int_equal(skiff_sendto(tx, "x", 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	assert_int_equal(skiff_recv(b1, buf, sizeof(buf), 0), 1);
	set_timeo_ms(a1, SO_RCVTIMEO, 300);
	assert_err(skiff_recv(a1, buf, sizeof(buf), 0), EAGAIN);
	skiff_close(a1);
	skiff_close(tx);
	skiff_rt_use(W.rt, W.ib);
	skiff_close(b1);
	skiff_close(b2);
	skiff_close(b3);
	skiff_close(b4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sockopt_errnos, wsetup, wteardown),
		cmocka_unit_test_setup_teardown(two_sockets_one_group, wsetup, wteardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
