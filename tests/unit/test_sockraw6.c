/* test_sockraw6.c — IPv6 raw ICMPv6 and ping6 sockets through the native API
 * (sock_raw.c) on two stacks over the loop driver (loop_world.h, IPv6 added
 * with DAD off): options as Linux answers them (IPV6_CHECKSUM refused at
 * IPPROTO_IPV6 on an ICMPv6 socket, read back at SOL_RAW; ICMP6_FILTER set and
 * read back; hop limits; the protocol as getsockname's port), an echo request
 * with checksum 0 that the peer's raw socket receives without the IPv6 header
 * (sender as sockaddr_in6, IPV6_HOPLIMIT), the stack's reply to a ping6
 * socket, and an unreachable neighbour reported through IPV6_RECVERR
 * (SO_EE_ORIGIN_ICMP6, address unreachable, offender). The reserved kernel
 * socket needs CAP_NET_RAW (ping_group_range for ping6): otherwise they skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/loop_world.h"
#include "socketapi/runtime.h"

#define ICMP6_FILTER_OPT 1
#define IPV6_CHECKSUM_OPT 7

static const uint8_t GA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t GB[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t GX[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x63 };

static void up6(struct skiff_stack *st, int inst, const uint8_t *addr)
{
	rt_lock(W.rt, inst);
	st->cfg.nd_dad_transmits = 0;
	assert_int_equal(skiff_stack_enable_ip6(st, 0, rt_now(W.rt)), 0);
	assert_int_equal(skiff_stack_add_addr6(st, 0, addr, 64, rt_now(W.rt)), 0);
	rt_unlock(W.rt, inst);
}

static int world_setup(void **state)
{
	(void)state;
	loop_world_up(21, 22);
	up6(W.sa, W.ia, GA);
	up6(W.sb, W.ib, GB);
	for (int i = 0; i < 20; i++) { /* the ND timer makes the addresses preferred (no DAD) */
		assert_true(skiff_rt_progress(W.rt) >= 0);
		usleep(1000);
	}
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

static struct sockaddr_in6 sin6(const uint8_t *a)
{
	struct sockaddr_in6 s;
	memset(&s, 0, sizeof(s));
	s.sin6_family = AF_INET6;
	memcpy(&s.sin6_addr, a, 16);
	return s;
}

static int open6_on(int inst, int type, int proto)
{
	int fd = skiff_socket_on(W.rt, inst, AF_INET6, type, proto);
	if (fd < 0) {
		assert_true(errno == EPERM || errno == EACCES);
		return -1;
	}
	assert_int_equal(skiff_is_socket(fd), 1);
	set_timeo_ms(fd, SO_RCVTIMEO, 3000);
	return fd;
}

static size_t echo6(uint8_t *b, uint16_t id, uint16_t seq, const char *payload)
{
	memset(b, 0, 8);
	b[0] = 128;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	memcpy(b + 8, payload, strlen(payload));
	return 8 + strlen(payload); /* checksum 0: the stack computes it (RFC 3542 3.1) */
}

static void test_raw6_options(void **state)
{
	int fd = open6_on(W.ia, SOCK_RAW, IPPROTO_ICMPV6), v;
	uint32_t filt[8], got[8];
	socklen_t l = sizeof(v);
	struct sockaddr_in6 name;

	(void)state;
	if (fd < 0)
		skip();
	assert_int_equal(skiff_getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
	assert_int_equal(v, AF_INET6);
	v = 2;
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM_OPT, &v, sizeof(v)), EINVAL);
	assert_int_equal(skiff_setsockopt(fd, SOL_RAW, IPV6_CHECKSUM_OPT, &v, sizeof(v)), 0);
	v = 0;
	l = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM_OPT, &v, &l), 0);
	assert_int_equal(v, 2);
	memset(filt, 0xff, sizeof(filt));
	filt[129 >> 5] &= ~(1u << (129 & 31));
	assert_int_equal(skiff_setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER_OPT, filt, sizeof(filt)), 0);
	l = sizeof(got);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER_OPT, got, &l), 0);
	assert_int_equal(l, sizeof(got));
	assert_memory_equal(got, filt, sizeof(filt));
	l = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &l), 0);
	assert_int_equal(v, 64);
	v = 300;
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v)), EINVAL);
	l = sizeof(name);
	assert_int_equal(skiff_getsockname(fd, (struct sockaddr *)&name, &l), 0);
	assert_int_equal(l, sizeof(name));
	assert_int_equal(name.sin6_family, AF_INET6);
	assert_int_equal(ntohs(name.sin6_port), IPPROTO_ICMPV6);
	skiff_close(fd);
	/* ICMP6_FILTER is for ICMPv6 raw sockets only */
	fd = open6_on(W.ia, SOCK_RAW, 253);
	assert_true(fd >= 0);
	assert_err(skiff_setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER_OPT, filt, sizeof(filt)), EOPNOTSUPP);
	l = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, SOL_RAW, IPV6_CHECKSUM_OPT, &v, &l), 0);
	assert_int_equal(v, -1);
	v = 3;
	assert_err(skiff_setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM_OPT, &v, sizeof(v)), EINVAL); /* odd */
	skiff_close(fd);
}

static void test_raw6_echo(void **state)
{
	int a = open6_on(W.ia, SOCK_RAW, IPPROTO_ICMPV6), b = open6_on(W.ib, SOCK_RAW, IPPROTO_ICMPV6), one = 1;
	int p = open6_on(W.ia, SOCK_DGRAM, IPPROTO_ICMPV6), hl = -1;
	uint32_t filt[8];
	uint8_t req[64], buf[256], ctl[256];
	struct sockaddr_in6 to = sin6(GB), from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *cm;
	size_t n;

	(void)state;
	if (a < 0 || b < 0)
		skip();
	/* B: echo requests only; A: replies only */
	memset(filt, 0xff, sizeof(filt));
	filt[128 >> 5] &= ~(1u << (128 & 31));
	assert_int_equal(skiff_setsockopt(b, IPPROTO_ICMPV6, ICMP6_FILTER_OPT, filt, sizeof(filt)), 0);
	assert_int_equal(skiff_setsockopt(b, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one)), 0);
	n = echo6(req, 0x6666, 1, "hello6");
	assert_int_equal(skiff_sendto(a, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(skiff_recvmsg(b, &m, 0), (ssize_t)n);
	assert_int_equal(buf[0], 128); /* no IPv6 header */
	assert_true(buf[2] || buf[3]);    /* the stack's checksum */
	assert_memory_equal(buf + 8, "hello6", 6);
	assert_int_equal(m.msg_namelen, sizeof(from));
	assert_int_equal(from.sin6_family, AF_INET6);
	assert_memory_equal(&from.sin6_addr, GA, 16);
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT)
			memcpy(&hl, CMSG_DATA(cm), sizeof(hl));
	assert_int_equal(hl, 64);
	/* the ping6 socket: its id, the reply without header */
	if (p >= 0) {
		struct sockaddr_in6 nm;
		socklen_t l = sizeof(nm);
		n = echo6(req, 0, 7, "ping6");
		assert_int_equal(skiff_sendto(p, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
		assert_int_equal(skiff_getsockname(p, (struct sockaddr *)&nm, &l), 0);
		assert_true(ntohs(nm.sin6_port) != 0);
		assert_int_equal(skiff_recv(p, buf, sizeof(buf), 0), (ssize_t)n);
		assert_int_equal(buf[0], 129);
		assert_int_equal(buf[4] << 8 | buf[5], ntohs(nm.sin6_port));
		assert_int_equal(buf[6] << 8 | buf[7], 7);
		skiff_close(p);
	}
	skiff_close(a);
	skiff_close(b);
}

static void test_raw6_recverr(void **state)
{
	int a = open6_on(W.ia, SOCK_RAW, IPPROTO_ICMPV6), one = 1;
	uint8_t req[64], buf[256], ctl[256];
	struct sockaddr_in6 to = sin6(GX), from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *cm;
	struct pollfd pfd;
	bool seen = false;
	size_t n;

	(void)state;
	if (a < 0)
		skip();
	assert_int_equal(skiff_setsockopt(a, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one)), 0);
	n = echo6(req, 0x7777, 1, "anyone?");
	assert_int_equal(skiff_sendto(a, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	/* ND gives up after its solicitations: address unreachable, from ourselves */
	pfd.fd = a;
	pfd.events = 0;
	assert_int_equal(skiff_poll(&pfd, 1, 8000), 1);
	assert_true(pfd.revents & POLLERR);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(skiff_recvmsg(a, &m, MSG_ERRQUEUE), (ssize_t)n); /* the quoted echo request */
	assert_true(m.msg_flags & MSG_ERRQUEUE);
	assert_int_equal(buf[0], 128);
	assert_int_equal(from.sin6_family, AF_INET6);
	assert_memory_equal(&from.sin6_addr, GX, 16);
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		struct sock_extended_err ee;
		struct sockaddr_in6 off;
		if (cm->cmsg_level != IPPROTO_IPV6 || cm->cmsg_type != IPV6_RECVERR)
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		memcpy(&off, CMSG_DATA(cm) + sizeof(ee), sizeof(off));
		assert_int_equal(ee.ee_errno, EHOSTUNREACH);
		assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP6);
		assert_int_equal(ee.ee_type, 1);
		assert_int_equal(ee.ee_code, 3);
		assert_int_equal(off.sin6_family, AF_INET6);
		assert_memory_equal(&off.sin6_addr, GA, 16);
		seen = true;
	}
	assert_true(seen);
	skiff_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw6_options),
		cmocka_unit_test(test_raw6_echo),
		cmocka_unit_test(test_raw6_recverr),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
