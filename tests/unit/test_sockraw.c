/* test_sockraw.c — raw IP and ICMP ping sockets through the native API
 * (sock_raw.c) on two stacks over the loop driver (loop_world.h): socket options
 * as Linux answers them, a raw ICMP echo with SO_TIMESTAMP and the reply's IP
 * header, the peer's raw socket seeing the request, poll and epoll readiness,
 * MSG_ERRQUEUE with nothing queued, a ping socket's id, IP_RECVTTL and the reply
 * without header, IP_HDRINCL, and an unreachable neighbour reported through
 * IP_RECVERR (sock_extended_err, offender). The reserved kernel socket needs
 * CAP_NET_RAW (and ping_group_range for ping sockets): without them the tests
 * skip, as the kernel's errno is what the caller would get.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/lib/loop_world.h"

#define IP_NOWHERE 0xc6120063u /* 198.18.0.99: on the subnet, nobody */
#define ICMP_FILTER_OPT 1

static int world_setup(void **state)
{
	(void)state;
	loop_world_up(11, 12);
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

static uint16_t csum16(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t echo(uint8_t *b, uint16_t id, uint16_t seq, const char *payload)
{
	size_t n = 8 + strlen(payload);
	uint16_t c;
	memset(b, 0, 8);
	b[0] = 8;
	b[4] = (uint8_t)(id >> 8);
	b[5] = (uint8_t)id;
	b[6] = (uint8_t)(seq >> 8);
	b[7] = (uint8_t)seq;
	memcpy(b + 8, payload, strlen(payload));
	c = csum16(b, n);
	b[2] = (uint8_t)(c >> 8);
	b[3] = (uint8_t)c;
	return n;
}

/* A raw/ping socket on instance inst, or -1 when the kernel refuses the triple here. */
static int open_on(int inst, int type, int proto)
{
	int fd = skiff_socket_on(W.rt, inst, AF_INET, type, proto);
	if (fd < 0) {
		assert_true(errno == EPERM || errno == EACCES);
		return -1;
	}
	assert_int_equal(skiff_is_socket(fd), 1);
	set_timeo_ms(fd, SO_RCVTIMEO, 3000);
	return fd;
}

static void test_raw_options(void **state)
{
	int fd = open_on(W.ia, SOCK_RAW, IPPROTO_ICMP), v;
	uint32_t filt = 0xfffffffe, got = 0;
	socklen_t l = sizeof(v);
	struct sockaddr_in sin;

	(void)state;
	if (fd < 0)
		skip();
	assert_int_equal(skiff_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l), 0);
	assert_int_equal(v, SOCK_RAW);
	assert_int_equal(skiff_getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l), 0);
	assert_int_equal(v, IPPROTO_ICMP);
	assert_int_equal(skiff_getsockopt(fd, SOL_IP, IP_HDRINCL, &v, &l), 0);
	assert_int_equal(v, 0);
	assert_int_equal(skiff_setsockopt(fd, SOL_RAW, ICMP_FILTER_OPT, &filt, sizeof(filt)), 0);
	l = sizeof(got);
	assert_int_equal(skiff_getsockopt(fd, SOL_RAW, ICMP_FILTER_OPT, &got, &l), 0);
	assert_int_equal(got, filt);
	v = 300;
	assert_err(skiff_setsockopt(fd, SOL_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 7;
	assert_int_equal(skiff_setsockopt(fd, SOL_IP, IP_MTU_DISCOVER, &v, sizeof(v)), -1); /* > IP_PMTUDISC_OMIT */
	/* inet_getname: the protocol is a raw socket's port; no peer name even connected */
	l = sizeof(sin);
	assert_int_equal(skiff_getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	assert_int_equal(ntohs(sin.sin_port), IPPROTO_ICMP);
	sin = sin4(IP_B, 0);
	assert_int_equal(skiff_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	l = sizeof(sin);
	assert_err(skiff_getpeername(fd, (struct sockaddr *)&sin, &l), ENOTCONN);
	skiff_close(fd);
	/* ICMP_FILTER is for IPPROTO_ICMP raw sockets only */
	fd = open_on(W.ia, SOCK_RAW, 253);
	assert_true(fd >= 0);
	assert_err(skiff_setsockopt(fd, SOL_RAW, ICMP_FILTER_OPT, &filt, sizeof(filt)), EOPNOTSUPP);
	skiff_close(fd);
}

static void test_socket_filter_options(void **state)
{
	int a = open_on(W.ia, SOCK_RAW, IPPROTO_ICMP), b = open_on(W.ib, SOCK_RAW, IPPROTO_ICMP), z = 0;
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0 /* echo reply */, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	}, got[8], bad[] = { BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20) /* no RET */ };
	struct sock_fprog fp = { 4, prog }, fbad = { 1, bad };
	struct sockaddr_in to = sin4(IP_B, 0);
	uint8_t req[64], buf[256];
	socklen_t l = 0;
	size_t n;

	(void)state;
	if (a < 0)
		skip();
	assert_err(skiff_setsockopt(a, SOL_SOCKET, SO_DETACH_FILTER, &z, sizeof(z)), ENOENT);
	assert_err(skiff_setsockopt(a, SOL_SOCKET, SO_ATTACH_FILTER, &fbad, sizeof(fbad)), EINVAL);
	assert_err(skiff_setsockopt(a, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp) - 1), EINVAL);
	assert_int_equal(skiff_getsockopt(a, SOL_SOCKET, SO_GET_FILTER, NULL, &l), 0);
	assert_int_equal(l, 0);
	assert_int_equal(skiff_setsockopt(a, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp)), 0);
	assert_int_equal(skiff_getsockopt(a, SOL_SOCKET, SO_GET_FILTER, NULL, &l), 0);
	assert_int_equal(l, 4); /* instructions, not bytes */
	l = 8;
	assert_int_equal(skiff_getsockopt(a, SOL_SOCKET, SO_GET_FILTER, got, &l), 0);
	assert_int_equal(l, 4);
	assert_memory_equal(got, prog, sizeof(prog));
	/* B pings A: A's filter keeps the request out; A's own echo's reply comes in */
	to = sin4(IP_A, 0);
	n = echo(req, 0x2222, 1, "to A");
	assert_int_equal(skiff_sendto(b, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	assert_true(skiff_recv(b, buf, sizeof(buf), 0) > 0); /* B's copy of A's reply: the round trip is over */
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	to = sin4(IP_B, 0);
	n = echo(req, 0x3333, 1, "to B");
	assert_int_equal(skiff_sendto(a, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	assert_int_equal(skiff_recv(a, buf, sizeof(buf), 0), (ssize_t)(20 + n));
	assert_int_equal(buf[20], 0);
	assert_int_equal(skiff_setsockopt(a, SOL_SOCKET, SO_DETACH_FILTER, &z, sizeof(z)), 0);
	skiff_close(a);
	skiff_close(b);
}

static void test_raw_echo_roundtrip(void **state)
{
	int a = open_on(W.ia, SOCK_RAW, IPPROTO_ICMP), b = open_on(W.ib, SOCK_RAW, IPPROTO_ICMP), one = 1, ep;
	uint8_t req[64], buf[256], ctl[256];
	struct sockaddr_in to = sin4(IP_B, 0), from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *cm;
	struct pollfd pfd;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = 0 }, out;
	uint32_t filt = ~(1u << 0);
	bool ts = false;
	size_t n;

	(void)state;
	if (a < 0)
		skip();
	assert_int_equal(skiff_setsockopt(a, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)), 0);
	assert_int_equal(skiff_setsockopt(a, SOL_RAW, ICMP_FILTER_OPT, &filt, sizeof(filt)), 0);
	ep = skiff_epoll_create1(0);
	assert_true(ep >= 0);
	ev.data.fd = b;
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev), 0);
	n = echo(req, 0x5151, 1, "raw!");
	assert_int_equal(skiff_sendto(a, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	/* B: a copy of the request, header and all (its stack answers it too) */
	assert_int_equal(skiff_epoll_wait(ep, &out, 1, 3000), 1);
	assert_int_equal(out.data.fd, b);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), (ssize_t)(20 + n));
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[20], 8);
	assert_memory_equal(buf + 20 + 8, "raw!", 4);
	/* A: the reply, with its IP header and SO_TIMESTAMP */
	pfd.fd = a;
	pfd.events = POLLIN;
	assert_int_equal(skiff_poll(&pfd, 1, 3000), 1);
	assert_true(pfd.revents & POLLIN);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(skiff_recvmsg(a, &m, 0), (ssize_t)(20 + n));
	assert_int_equal(from.sin_addr.s_addr, htonl(IP_B));
	assert_int_equal(from.sin_port, 0);
	assert_int_equal(buf[9], IPPROTO_ICMP);
	assert_int_equal(buf[20], 0); /* echo reply */
	assert_int_equal(buf[24] << 8 | buf[25], 0x5151);
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMP) {
			struct timeval tv, now;
			memcpy(&tv, CMSG_DATA(cm), sizeof(tv));
			gettimeofday(&now, NULL);
			ts = tv.tv_sec > 0 && tv.tv_sec <= now.tv_sec && tv.tv_sec >= now.tv_sec - 5;
		}
	assert_true(ts);
	/* nothing more; nothing on the error queue */
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_ERRQUEUE), EAGAIN);
	skiff_close(ep);
	skiff_close(a);
	skiff_close(b);
}

static void test_hdrincl(void **state)
{
	int a = open_on(W.ia, SOCK_RAW, IPPROTO_RAW), b = open_on(W.ib, SOCK_RAW, 143);
	uint8_t dg[28], buf[128];
	struct sockaddr_in to = sin4(IP_B, 0);
	int v = 0;
	socklen_t l = sizeof(v);

	(void)state;
	if (a < 0)
		skip();
	assert_int_equal(skiff_getsockopt(a, SOL_IP, IP_HDRINCL, &v, &l), 0);
	assert_int_equal(v, 1); /* IPPROTO_RAW implies it (raw(7)) */
	memset(dg, 0, sizeof(dg));
	dg[0] = 0x45;
	dg[8] = 5;
	dg[9] = 143;
	memcpy(dg + 16, &to.sin_addr, 4);
	memcpy(dg + 20, "hdrincl!", 8);
	assert_int_equal(skiff_sendto(a, dg, sizeof(dg), 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)sizeof(dg));
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), (ssize_t)sizeof(dg));
	assert_int_equal(buf[2] << 8 | buf[3], sizeof(dg));  /* length filled */
	assert_int_not_equal(buf[4] << 8 | buf[5], 0);       /* id filled */
	assert_int_equal(buf[8], 5);
	assert_int_equal(ntohl(*(uint32_t *)(void *)(buf + 12)), IP_A); /* source filled */
	assert_int_equal(csum16(buf, 20), 0);
	assert_memory_equal(buf + 20, "hdrincl!", 8);
	skiff_close(a);
	skiff_close(b);
}

static void test_ping_socket(void **state)
{
	int p = open_on(W.ia, SOCK_DGRAM, IPPROTO_ICMP), one = 1;
	uint8_t req[64], buf[256], ctl[128];
	struct sockaddr_in to = sin4(IP_B, 0), name;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *cm;
	socklen_t l = sizeof(name);
	int ttl = -1;
	size_t n;

	(void)state;
	if (p < 0)
		skip(); /* net.ipv4.ping_group_range leaves us out: the kernel's EACCES */
	assert_int_equal(skiff_setsockopt(p, SOL_IP, IP_RECVTTL, &one, sizeof(one)), 0);
	n = echo(req, 0x0bad, 3, "ping");
	/* not an echo request: EINVAL (ping_common_sendmsg) */
	req[0] = 13;
	assert_err(skiff_sendto(p, req, n, 0, (struct sockaddr *)&to, sizeof(to)), EINVAL);
	req[0] = 8;
	assert_int_equal(skiff_sendto(p, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	assert_int_equal(skiff_getsockname(p, (struct sockaddr *)&name, &l), 0);
	assert_int_not_equal(name.sin_port, 0); /* the auto-bound echo id */
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(skiff_recvmsg(p, &m, 0), (ssize_t)n);
	assert_int_equal(buf[0], 0); /* the reply without the IP header */
	assert_int_equal(buf[4] << 8 | buf[5], ntohs(name.sin_port));
	assert_int_equal(buf[6] << 8 | buf[7], 3);
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_TTL)
			memcpy(&ttl, CMSG_DATA(cm), sizeof(ttl));
	assert_int_equal(ttl, 64);
	skiff_close(p);
}

static void test_recverr_unreachable_neighbour(void **state)
{
	int a = open_on(W.ia, SOCK_RAW, IPPROTO_ICMP), one = 1;
	uint8_t req[64], buf[256], ctl[256];
	struct sockaddr_in to = sin4(IP_NOWHERE, 0), from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct cmsghdr *cm;
	struct pollfd pfd;
	bool seen = false;
	size_t n;

	(void)state;
	if (a < 0)
		skip();
	assert_int_equal(skiff_setsockopt(a, SOL_IP, IP_RECVERR, &one, sizeof(one)), 0);
	n = echo(req, 0x4444, 1, "anyone?");
	assert_int_equal(skiff_sendto(a, req, n, 0, (struct sockaddr *)&to, sizeof(to)), (ssize_t)n);
	/* ARP gives up after its retries (3 s): host unreachable, from ourselves */
	pfd.fd = a;
	pfd.events = POLLIN;
	assert_int_equal(skiff_poll(&pfd, 1, 8000), 1);
	assert_true(pfd.revents & POLLERR);
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_DONTWAIT), EHOSTUNREACH);
	memset(&m, 0, sizeof(m));
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(skiff_recvmsg(a, &m, MSG_ERRQUEUE), (ssize_t)n); /* the quoted echo */
	assert_true(m.msg_flags & MSG_ERRQUEUE);
	assert_int_equal(buf[0], 8);
	assert_int_equal(from.sin_addr.s_addr, htonl(IP_NOWHERE));
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		struct sock_extended_err ee;
		struct sockaddr_in off;
		if (cm->cmsg_level != SOL_IP || cm->cmsg_type != IP_RECVERR)
			continue;
		memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
		memcpy(&off, CMSG_DATA(cm) + sizeof(ee), sizeof(off));
		assert_int_equal(ee.ee_errno, EHOSTUNREACH);
		assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP);
		assert_int_equal(ee.ee_type, 3);
		assert_int_equal(ee.ee_code, 1);
		assert_int_equal(off.sin_family, AF_INET);
		assert_int_equal(off.sin_addr.s_addr, htonl(IP_A));
		seen = true;
	}
	assert_true(seen);
	pfd.revents = 0;
	assert_int_equal(skiff_poll(&pfd, 1, 0), 0); /* the queue is empty again */
	skiff_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_options),
		cmocka_unit_test(test_socket_filter_options),
		cmocka_unit_test(test_raw_echo_roundtrip),
		cmocka_unit_test(test_hdrincl),
		cmocka_unit_test(test_ping_socket),
		cmocka_unit_test(test_recverr_unreachable_neighbour),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
