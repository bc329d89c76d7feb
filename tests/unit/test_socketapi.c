/* test_socketapi.c — the native API (skiff.h) end to end.
 *
 * World: one loop device pair; stack A (198.18.0.1/24) on one end, stack B
 * (198.18.0.2/24) on the other; one runtime with both as instances 0 and 1. The
 * two instances share one lock — skiff_rt_attach groups them by the devices' lock
 * domain: a loop pair frees received frames into the peer's pool, so its two ends
 * must never be driven at the same time.
 * Every receive in these tests blocks (with an SO_RCVTIMEO guard) or polls, so the
 * runtime drives both stacks — ARP, fragments, ICMP errors — as an application
 * would. Each test opens and closes its own sockets; ports differ per test.
 * Expected errnos are Linux's (checked against the kernel where it matters).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"
#include "socketapi/runtime.h"
#include "tests/lib/loop_world.h"

#define IP_NOWHERE 0xc6120063u /* 198.18.0.99: on the subnet, not ours */

static int world_setup(void **state)
{
	(void)state;
	loop_world_up(1, 2);
	assert_int_equal(W.rt->inst[W.ia].group, W.rt->inst[W.ib].group); /* lock domain of the loop pair */
	assert_ptr_equal(skiff_rt_stack(W.rt, W.ib), W.sb);
	assert_null(skiff_rt_stack(W.rt, 2));
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

/* ---- helpers ---- */

static void set_rcvtimeo_ms(int fd, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	assert_int_equal(skiff_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
}

static int udp_on(int inst)
{
	int fd = skiff_socket_on(W.rt, inst, AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(skiff_is_socket(fd), 1);
	set_rcvtimeo_ms(fd, 3000); /* a broken test fails instead of hanging */
	return fd;
}

static int bound_on(int inst, uint32_t ip, uint16_t port)
{
	int fd = udp_on(inst);
	struct sockaddr_in a = sin4(ip, port);
	assert_int_equal(skiff_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_to(int fd, uint32_t ip, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to = sin4(ip, port);
	assert_int_equal(skiff_sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (long)len);
}

static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	assert_int_equal(skiff_poll(&p, 1, 3000), 1);
	assert_true(p.revents & POLLIN);
}

/* ---- exchange ---- */

static void test_udp_exchange(void **state)
{
	int a = bound_on(W.ia, IP_A, 5000), b = bound_on(W.ib, IP_B, 6000);
	struct sockaddr_in from, name;
	socklen_t fl = sizeof(from), nl = sizeof(name);
	char buf[64];
	(void)state;

	send_to(a, IP_B, 6000, "hello", 5);
	memset(&from, 0, sizeof(from));
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(fl, sizeof(struct sockaddr_in));
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(ntohl(from.sin_addr.s_addr), IP_A);
	assert_int_equal(ntohs(from.sin_port), 5000);

	send_to(b, IP_A, 5000, "world!", 6);
	fl = sizeof(from);
	assert_int_equal(skiff_recvfrom(a, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 6);
	assert_memory_equal(buf, "world!", 6);
	assert_int_equal(ntohl(from.sin_addr.s_addr), IP_B);
	assert_int_equal(ntohs(from.sin_port), 6000);

	assert_int_equal(skiff_getsockname(a, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(nl, sizeof(name));
	assert_int_equal(ntohl(name.sin_addr.s_addr), IP_A);
	assert_int_equal(ntohs(name.sin_port), 5000);
	assert_err(skiff_getpeername(a, (struct sockaddr *)&name, &nl), ENOTCONN);

	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_close(b), 0);
}

/* Unbound sender: autobind to an ephemeral port; the receiver sees 198.18.0.1. */
static void test_autobind_source(void **state)
{
	int a = udp_on(W.ia), b = bound_on(W.ib, 0, 6001);
	struct sockaddr_in from, name;
	socklen_t fl = sizeof(from), nl = sizeof(name);
	char buf[16];
	(void)state;

	assert_int_equal(skiff_getsockname(a, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(name.sin_port, 0);
	send_to(a, IP_B, 6001, "x", 1);
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 1);
	assert_int_equal(ntohl(from.sin_addr.s_addr), IP_A);
	assert_int_equal(skiff_getsockname(a, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(ntohs(from.sin_port), ntohs(name.sin_port));
	assert_true(ntohs(name.sin_port) >= 32768 && ntohs(name.sin_port) <= 60999);
	skiff_close(a);
	skiff_close(b);
}

static void test_connect(void **state)
{
	int a = bound_on(W.ia, IP_A, 5002), b = bound_on(W.ib, IP_B, 6002), c = bound_on(W.ib, IP_B, 6003);
	struct sockaddr_in peer = sin4(IP_B, 6002), got, unspec;
	socklen_t gl = sizeof(got);
	char buf[16];
	(void)state;

	assert_err(skiff_send(a, "x", 1, 0), EDESTADDRREQ);
	assert_int_equal(skiff_connect(a, (struct sockaddr *)&peer, sizeof(peer)), 0);
	assert_int_equal(skiff_getpeername(a, (struct sockaddr *)&got, &gl), 0);
	assert_int_equal(ntohl(got.sin_addr.s_addr), IP_B);
	assert_int_equal(ntohs(got.sin_port), 6002);
	assert_int_equal(skiff_send(a, "abc", 3, 0), 3);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 3);
	/* Linux lets a connected UDP socket send elsewhere with an explicit address. */
	send_to(a, IP_B, 6003, "de", 2);
	assert_int_equal(skiff_recv(c, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "de", 2);
	/* Only the peer's datagrams reach a connected socket. */
	send_to(c, IP_A, 5002, "no", 2);
	send_to(b, IP_A, 5002, "yes", 3);
	assert_int_equal(skiff_recv(a, buf, sizeof(buf), 0), 3);
	assert_memory_equal(buf, "yes", 3);
	/* AF_UNSPEC dissolves the association. */
	memset(&unspec, 0, sizeof(unspec));
	unspec.sin_family = AF_UNSPEC;
	assert_int_equal(skiff_connect(a, (struct sockaddr *)&unspec, sizeof(sa_family_t)), 0);
	assert_err(skiff_getpeername(a, (struct sockaddr *)&got, &gl), ENOTCONN);
	assert_err(skiff_send(a, "x", 1, 0), EDESTADDRREQ);
	/* connect argument checks */
	assert_err(skiff_connect(a, (struct sockaddr *)&peer, 1), EINVAL);
	assert_err(skiff_connect(a, (struct sockaddr *)&peer, 15), EINVAL);
	assert_err(skiff_connect(a, NULL, 16), EFAULT);
	peer.sin_family = AF_INET6;
	assert_err(skiff_connect(a, (struct sockaddr *)&peer, sizeof(peer)), EAFNOSUPPORT);
	skiff_close(a);
	skiff_close(b);
	skiff_close(c);
}

/* A failed connect still autobinds (inet_dgram_connect binds before the checks). */
static void test_connect_autobinds(void **state)
{
	int a = udp_on(W.ia);
	struct sockaddr_in bad = sin4(IP_B, 1), name;
	socklen_t nl = sizeof(name);
	(void)state;
	bad.sin_family = AF_INET6;
	assert_err(skiff_connect(a, (struct sockaddr *)&bad, sizeof(bad)), EAFNOSUPPORT);
	assert_int_equal(skiff_getsockname(a, (struct sockaddr *)&name, &nl), 0);
	assert_int_not_equal(name.sin_port, 0);
	skiff_close(a);
}

/* ---- errnos ---- */

static void test_bind_errnos(void **state)
{
	int a = udp_on(W.ia), b = udp_on(W.ia), c = udp_on(W.ia), dead = udp_on(W.ia);
	struct sockaddr_in addr = sin4(IP_A, 7000), wild = sin4(0, 7000);
	(void)state;

	assert_int_equal(skiff_close(dead), 0);
	assert_err(skiff_bind(dead, (struct sockaddr *)&addr, sizeof(addr)), EBADF);
	assert_err(skiff_close(dead), EBADF);
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr) - 1), EINVAL);
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, 129), EINVAL);
	assert_err(skiff_bind(a, NULL, sizeof(addr)), EFAULT);
	addr.sin_family = AF_INET6;
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), EAFNOSUPPORT);
	addr.sin_family = AF_UNSPEC; /* only AF_UNSPEC + INADDR_ANY is accepted (compat) */
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), EAFNOSUPPORT);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(IP_NOWHERE);
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), EADDRNOTAVAIL);
	addr.sin_addr.s_addr = htonl(IP_B); /* B's address is not A's */
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), EADDRNOTAVAIL);
	addr.sin_addr.s_addr = htonl(IP_A);
	assert_int_equal(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_err(skiff_bind(a, (struct sockaddr *)&addr, sizeof(addr)), EINVAL);
	assert_err(skiff_bind(b, (struct sockaddr *)&addr, sizeof(addr)), EADDRINUSE);
	assert_err(skiff_bind(b, (struct sockaddr *)&wild, sizeof(wild)), EADDRINUSE);
	wild.sin_family = AF_UNSPEC;
	wild.sin_port = htons(7001);
	assert_int_equal(skiff_bind(c, (struct sockaddr *)&wild, sizeof(wild)), 0);
	skiff_close(a);
	skiff_close(b);
	skiff_close(c);

	/* SO_REUSEADDR on both: the port may be shared. */
	{
		int one = 1, x = udp_on(W.ia), y = udp_on(W.ia);
		struct sockaddr_in p = sin4(IP_A, 7002);
		assert_int_equal(skiff_setsockopt(x, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		assert_int_equal(skiff_setsockopt(y, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		assert_int_equal(skiff_bind(x, (struct sockaddr *)&p, sizeof(p)), 0);
		assert_int_equal(skiff_bind(y, (struct sockaddr *)&p, sizeof(p)), 0);
		skiff_close(x);
		skiff_close(y);
	}
}

static void test_send_errnos(void **state)
{
	static char big[70000];
	int a = udp_on(W.ia), b = bound_on(W.ib, IP_B, 6010);
	struct sockaddr_in to = sin4(IP_B, 6010), name;
	socklen_t nl = sizeof(name);
	struct msghdr msg;
	struct iovec iov = { big, 10 };
	char buf[16];
	(void)state;

	assert_err(skiff_send(a, "x", 1, 0), EDESTADDRREQ);
	/* a failed send still autobinds, as inet_send_prepare */
	assert_int_equal(skiff_getsockname(a, (struct sockaddr *)&name, &nl), 0);
	assert_int_not_equal(name.sin_port, 0);
	assert_err(skiff_sendto(a, big, 65508, 0, (struct sockaddr *)&to, sizeof(to)), EMSGSIZE);
	assert_err(skiff_sendto(a, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)), EMSGSIZE);
	assert_err(skiff_sendto(a, NULL, 10, 0, (struct sockaddr *)&to, sizeof(to)), EFAULT);
	assert_err(skiff_sendto(a, "x", 1, 0, (struct sockaddr *)&to, 0), EINVAL);
	assert_err(skiff_sendto(a, "x", 1, 0, (struct sockaddr *)&to, 8), EINVAL);
	assert_err(skiff_sendto(a, "x", 1, 0, (struct sockaddr *)&to, 200), EINVAL);
	assert_err(skiff_sendto(a, "x", 1, MSG_OOB, (struct sockaddr *)&to, sizeof(to)), EOPNOTSUPP);
	to.sin_port = 0;
	assert_err(skiff_sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), EINVAL);
	to.sin_port = htons(6010);
	to.sin_family = AF_INET6;
	assert_err(skiff_sendto(a, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), EAFNOSUPPORT);
	to.sin_family = AF_UNSPEC; /* treated as AF_INET by udp_sendmsg */
	assert_int_equal(skiff_sendto(a, "u", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	to.sin_family = AF_INET;
	/* 65507 is the largest IPv4 UDP payload; a zero-length datagram is legal. */
	assert_int_equal(skiff_sendto(a, NULL, 0, 0, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 0);
	assert_int_equal(skiff_sendto(a, big, 65507, 0, (struct sockaddr *)&to, sizeof(to)), 65507);

	assert_err(skiff_sendmsg(a, NULL, 0), EFAULT);
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1025;
	assert_err(skiff_sendmsg(a, &msg, 0), EMSGSIZE);
	msg.msg_iovlen = 1;
	assert_err(skiff_sendmsg(a, &msg, 0), EDESTADDRREQ);
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_iov = NULL;
	assert_err(skiff_sendmsg(a, &msg, 0), EFAULT);
	skiff_close(a);
	skiff_close(b);
}

/* ---- blocking, non-blocking, timeouts ---- */

static void test_nonblocking(void **state)
{
	int a = skiff_socket_on(W.rt, W.ib, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	int b = udp_on(W.ib), on = 1, off = 0, fl;
	char buf[8];
	(void)state;

	assert_true(a >= 0);
	assert_int_equal(skiff_is_socket(a), 1);
	assert_true(skiff_fcntl(a, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(a, F_GETFL) & O_NONBLOCK); /* the reserved kernel fd agrees */
	assert_int_equal(skiff_fcntl(a, F_GETFD), FD_CLOEXEC);
	assert_err(skiff_recv(a, buf, sizeof(buf), 0), EAGAIN);
	fl = skiff_fcntl(a, F_GETFL);
	assert_int_equal(skiff_fcntl(a, F_SETFL, fl & ~O_NONBLOCK), 0);
	assert_false(skiff_fcntl(a, F_GETFL) & O_NONBLOCK);
	assert_false(fcntl(a, F_GETFL) & O_NONBLOCK);
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	assert_err(skiff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(skiff_ioctl(b, FIONBIO, &on), 0);
	assert_true(skiff_fcntl(b, F_GETFL) & O_NONBLOCK);
	assert_err(skiff_recvfrom(b, buf, sizeof(buf), 0, NULL, NULL), EAGAIN);
	assert_int_equal(skiff_ioctl(b, FIONBIO, &off), 0);
	assert_false(skiff_fcntl(b, F_GETFL) & O_NONBLOCK);
	skiff_close(a);
	skiff_close(b);
}

static void test_rcvtimeo(void **state)
{
	int b = bound_on(W.ib, IP_B, 6020);
	struct timeval tv = { 0, 50000 }, got;
	socklen_t gl = sizeof(got);
	uint64_t t0, dt;
	char buf[8];
	(void)state;

	assert_int_equal(skiff_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(skiff_getsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &got, &gl), 0);
	assert_int_equal(gl, sizeof(got));
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 50000);
	t0 = mono_ns();
	assert_err(skiff_recv(b, buf, sizeof(buf), 0), EAGAIN);
	dt = mono_ns() - t0;
	assert_true(dt >= 50000000ull);
	assert_true(dt < 1000000000ull);

	tv.tv_usec = 1000000;
	assert_err(skiff_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM);
	tv.tv_usec = -1;
	assert_err(skiff_setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), EDOM);
	assert_err(skiff_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	/* a negative tv_sec means "never wait" (Linux stores a zero timeout) */
	tv.tv_sec = -1;
	tv.tv_usec = 0;
	assert_int_equal(skiff_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	t0 = mono_ns();
	assert_err(skiff_recv(b, buf, sizeof(buf), 0), EAGAIN);
	assert_true(mono_ns() - t0 < 20000000ull);
	gl = sizeof(got);
	assert_int_equal(skiff_getsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &got, &gl), 0);
	assert_int_equal(got.tv_sec, 0);
	assert_int_equal(got.tv_usec, 0);

	/* SO_SNDTIMEO, and the 64-bit layout (SO_*TIMEO_NEW, y2038-safe) */
	tv = (struct timeval){ 2, 250000 };
	assert_int_equal(skiff_setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	gl = sizeof(got);
	assert_int_equal(skiff_getsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &got, &gl), 0);
	assert_int_equal(got.tv_sec, 2);
	assert_int_equal(got.tv_usec, 250000);
	{
		int64_t t64[2] = { 3, 5 }, g64[2] = { 0, 0 };
		socklen_t l64 = sizeof(g64);
		assert_int_equal(skiff_setsockopt(b, SOL_SOCKET, 66 /* SO_RCVTIMEO_NEW */, t64, sizeof(t64)), 0);
		assert_int_equal(skiff_getsockopt(b, SOL_SOCKET, 66, g64, &l64), 0);
		assert_int_equal(l64, sizeof(g64));
		assert_int_equal(g64[0], 3);
		assert_int_equal(g64[1], 5);
	}
	skiff_close(b);
}

/* Ports below net.ipv4.ip_unprivileged_port_start: skiff answers as the kernel does
 * for this process (EACCES without CAP_NET_BIND_SERVICE). */
static void test_privileged_port(void **state)
{
	int k = socket(AF_INET, SOCK_DGRAM, 0), s = udp_on(W.ia), kr = -1, ke = EADDRINUSE, sr, se;
	struct sockaddr_in lo, mine;
	uint16_t port = 1;
	(void)state;

	assert_true(k >= 0);
	/* the kernel's answer on loopback, on a port nobody else holds */
	for (; port < 1024 && kr < 0 && ke == EADDRINUSE; port++) {
		lo = sin4(0x7f000001u, port);
		errno = 0;
		kr = bind(k, (struct sockaddr *)&lo, sizeof(lo));
		ke = errno;
	}
	mine = sin4(IP_A, (uint16_t)(port - 1));
	errno = 0;
	sr = skiff_bind(s, (struct sockaddr *)&mine, sizeof(mine));
	se = errno;
	assert_int_equal(sr, kr);
	if (kr < 0)
		assert_int_equal(se, ke);
	close(k);
	skiff_close(s);
}

/* Deadlines follow the runtime's clock (skiff_rt_set_clock), here a fake one that
 * advances 1 ms per reading: a 200 ms SO_RCVTIMEO expires after 200 fake ms. */
static uint64_t fake_now(void *ctx)
{
	uint64_t *t = ctx;
	return __atomic_add_fetch(t, 1000000ull, __ATOMIC_RELAXED);
}

static void test_fake_clock(void **state)
{
	struct skiff_dev *da, *db;
	struct skiff_stack *sa, *sb;
	struct skiff_stack_config cfg;
	struct skiff_rt *rt;
	uint64_t fake = 1000000000ull, t0, start;
	struct sockaddr_in bb = sin4(IP_B, 6200);
	struct timeval tv = { 0, 200000 };
	char buf[8];
	int a, b;
	(void)state;

	assert_int_equal(skiff_loop_pair(NULL, &da, &db), 0);
	skiff_stack_config_defaults(&cfg);
	assert_int_equal(skiff_stack_create(&cfg, fake, &sa), 0);
	assert_int_equal(skiff_stack_create(&cfg, fake, &sb), 0);
	assert_int_equal(skiff_stack_add_iface(sa, "f0", da->mac, da->mtu, da->caps, skiff_dev_pool(da)), 0);
	assert_int_equal(skiff_stack_add_iface(sb, "f1", db->mac, db->mtu, db->caps, skiff_dev_pool(db)), 0);
	assert_int_equal(skiff_stack_add_addr4(sa, 0, IP_A, 24, fake), 0);
	assert_int_equal(skiff_stack_add_addr4(sb, 0, IP_B, 24, fake), 0);
	assert_int_equal(skiff_rt_create(&rt), 0);
	skiff_rt_set_clock(rt, fake_now, &fake);
	skiff_rt_set_busy_poll(rt, 0);
	assert_int_equal(skiff_rt_attach(rt, sa, &da, 1), 0);
	assert_int_equal(skiff_rt_attach(rt, sb, &db, 1), 1);
	a = skiff_socket_on(rt, 0, AF_INET, SOCK_DGRAM, 0);
	b = skiff_socket_on(rt, 1, AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(skiff_bind(b, (struct sockaddr *)&bb, sizeof(bb)), 0);
	assert_int_equal(skiff_setsockopt(b, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(skiff_sendto(a, "fk", 2, 0, (struct sockaddr *)&bb, sizeof(bb)), 2);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 2); /* ARP + delivery on fake time */
	start = __atomic_load_n(&fake, __ATOMIC_RELAXED);
	t0 = mono_ns();
	assert_err(skiff_recv(b, buf, sizeof(buf), 0), EAGAIN);
	assert_true(__atomic_load_n(&fake, __ATOMIC_RELAXED) - start >= 200000000ull);
	assert_true(mono_ns() - t0 < 2000000000ull);
	skiff_rt_destroy(rt);
	skiff_stack_destroy(sa);
	skiff_stack_destroy(sb);
	skiff_dev_close(da);
	skiff_dev_close(db);
}

/* ---- MSG_PEEK, MSG_TRUNC, recvmsg, recvfrom address length ---- */

static void test_peek_trunc(void **state)
{
	int a = bound_on(W.ia, IP_A, 5030), b = bound_on(W.ib, IP_B, 6030), n = -1;
	char pattern[100], buf[128];
	struct sockaddr_in from;
	socklen_t fl;
	struct iovec iov;
	struct msghdr msg;
	(void)state;

	for (int i = 0; i < 100; i++)
		pattern[i] = (char)('0' + i % 64);
	send_to(a, IP_B, 6030, pattern, 100);
	wait_readable(b);
	assert_int_equal(skiff_ioctl(b, FIONREAD, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(skiff_recv(b, buf, 10, MSG_PEEK), 10);
	assert_memory_equal(buf, pattern, 10);
	assert_int_equal(skiff_recv(b, buf, 10, MSG_PEEK | MSG_TRUNC), 100);
	/* recvmsg into a short buffer: MSG_TRUNC in msg_flags, no control data */
	memset(&msg, 0, sizeof(msg));
	memset(&from, 0xaa, sizeof(from));
	iov.iov_base = buf;
	iov.iov_len = 10;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_control = buf + 64;
	msg.msg_controllen = 32;
	assert_int_equal(skiff_recvmsg(b, &msg, 0), 10);
	assert_true(msg.msg_flags & MSG_TRUNC);
	assert_int_equal(msg.msg_controllen, 0);
	assert_int_equal(msg.msg_namelen, sizeof(from));
	assert_int_equal(ntohl(from.sin_addr.s_addr), IP_A);
	assert_int_equal(ntohs(from.sin_port), 5030);
	assert_err(skiff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* recvfrom with a short address buffer: truncated copy, full length reported */
	send_to(a, IP_B, 6030, pattern, 20);
	memset(&from, 0xaa, sizeof(from));
	fl = 4;
	assert_int_equal(skiff_recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 20);
	assert_int_equal(fl, sizeof(struct sockaddr_in));
	assert_int_equal(from.sin_family, AF_INET);
	assert_int_equal(ntohs(from.sin_port), 5030);
	assert_int_equal(from.sin_addr.s_addr, 0xaaaaaaaau); /* beyond the 4 bytes: untouched */

	/* MSG_TRUNC with no buffer: the real length, datagram consumed */
	send_to(a, IP_B, 6030, pattern, 77);
	wait_readable(b);
	assert_int_equal(skiff_recv(b, NULL, 0, MSG_TRUNC), 77);
	assert_int_equal(skiff_ioctl(b, FIONREAD, &n), 0);
	assert_int_equal(n, 0);

	/* NULL buffer with a length: EFAULT once the copy needs it (datagram gone) */
	send_to(a, IP_B, 6030, pattern, 5);
	assert_err(skiff_recv(b, NULL, 5, 0), EFAULT);
	assert_err(skiff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

	/* recvmsg without a name buffer leaves msg_namelen alone */
	send_to(a, IP_B, 6030, pattern, 3);
	msg.msg_name = NULL;
	msg.msg_namelen = 77;
	iov.iov_len = sizeof(buf);
	assert_int_equal(skiff_recvmsg(b, &msg, 0), 3);
	assert_int_equal(msg.msg_namelen, 77);
	assert_int_equal(msg.msg_flags, 0);
	msg.msg_name = &from;

	/* recvmsg with a negative name length */
	msg.msg_namelen = (socklen_t)-1;
	assert_err(skiff_recvmsg(b, &msg, 0), EINVAL);
	assert_err(skiff_recvmsg(b, NULL, 0), EFAULT);
	skiff_close(a);
	skiff_close(b);
}

/* ---- poll ---- */

static void test_poll_mixed(void **state)
{
	int a = bound_on(W.ia, IP_A, 5040), b = bound_on(W.ib, IP_B, 6040), p[2], closed;
	struct pollfd pf[3];
	uint64_t t0;
	char buf[16];
	(void)state;

	assert_int_equal(pipe(p), 0);
	pf[0] = (struct pollfd){ .fd = b, .events = POLLIN };
	pf[1] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	pf[2] = (struct pollfd){ .fd = -1, .events = POLLIN };
	t0 = mono_ns();
	assert_int_equal(skiff_poll(pf, 3, 30), 0);
	assert_true(mono_ns() - t0 >= 30000000ull);

	assert_int_equal(write(p[1], "z", 1), 1);
	assert_int_equal(skiff_poll(pf, 3, 1000), 1);
	assert_int_equal(pf[0].revents, 0);
	assert_int_equal(pf[1].revents, POLLIN);
	assert_int_equal(pf[2].revents, 0);
	assert_int_equal(read(p[0], buf, 1), 1);

	send_to(a, IP_B, 6040, "pl", 2);
	assert_int_equal(skiff_poll(pf, 3, 3000), 1);
	assert_int_equal(pf[0].revents, POLLIN);
	assert_int_equal(pf[1].revents, 0);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 2);

	/* both ready at once */
	assert_int_equal(write(p[1], "z", 1), 1);
	send_to(a, IP_B, 6040, "pl", 2);
	wait_readable(b);
	assert_int_equal(skiff_poll(pf, 3, 0), 2);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 2);
	assert_int_equal(read(p[0], buf, 1), 1);

	/* writable at once; an fd that is not open reports POLLNVAL */
	closed = dup(p[0]);
	close(closed);
	pf[0].events = POLLOUT;
	pf[1] = (struct pollfd){ .fd = closed, .events = POLLIN };
	assert_int_equal(skiff_poll(pf, 2, 1000), 2);
	assert_true(pf[0].revents & POLLOUT);
	assert_int_equal(pf[1].revents, POLLNVAL);
	assert_err(skiff_poll(NULL, 1, 0), EFAULT);
	close(p[0]);
	close(p[1]);
	skiff_close(a);
	skiff_close(b);
}

/* ---- ICMP errors ---- */

static void test_econnrefused(void **state)
{
	int a = bound_on(W.ia, IP_A, 5050), err = -1;
	struct sockaddr_in peer = sin4(IP_B, 7777); /* nobody listens there */
	socklen_t el = sizeof(err);
	struct pollfd pf = { .fd = a, .events = POLLIN };
	char buf[8];
	(void)state;

	assert_int_equal(skiff_connect(a, (struct sockaddr *)&peer, sizeof(peer)), 0);
	assert_int_equal(skiff_send(a, "knock", 5, 0), 5);
	assert_err(skiff_recv(a, buf, sizeof(buf), 0), ECONNREFUSED);
	assert_err(skiff_recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN); /* reported once */

	assert_int_equal(skiff_send(a, "knock", 5, 0), 5);
	assert_int_equal(skiff_poll(&pf, 1, 3000), 1);
	assert_true(pf.revents & POLLERR);
	assert_int_equal(skiff_getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, ECONNREFUSED);
	assert_int_equal(skiff_getsockopt(a, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);

	/* the pending error also fails the next send */
	assert_int_equal(skiff_send(a, "knock", 5, 0), 5);
	assert_int_equal(skiff_poll(&pf, 1, 3000), 1);
	assert_err(skiff_send(a, "knock", 5, 0), ECONNREFUSED);
	skiff_close(a);
}

/* ---- a fragmented datagram ---- */

static void test_fragmented_60000(void **state)
{
	static uint8_t out[60000], in[65536];
	int a = bound_on(W.ia, IP_A, 5060), b = bound_on(W.ib, IP_B, 6060);
	struct sockaddr_in to = sin4(IP_B, 6060);
	struct iovec ov[3] = { { out, 1000 }, { out + 1000, 30000 }, { out + 31000, 29000 } };
	struct iovec iv[2] = { { in, 12345 }, { in + 12345, sizeof(in) - 12345 } };
	struct msghdr msg;
	(void)state;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (uint8_t)(i * 7 + 3 + (i >> 8));
	send_to(a, IP_B, 6060, out, sizeof(out));
	assert_int_equal(skiff_recv(b, in, sizeof(in), 0), (long)sizeof(out));
	assert_memory_equal(in, out, sizeof(out));

	/* scatter/gather both ways */
	memset(in, 0, sizeof(in));
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_iov = ov;
	msg.msg_iovlen = 3;
	assert_int_equal(skiff_sendmsg(a, &msg, 0), (long)sizeof(out));
	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = iv;
	msg.msg_iovlen = 2;
	assert_int_equal(skiff_recvmsg(b, &msg, 0), (long)sizeof(out));
	assert_int_equal(msg.msg_flags, 0);
	assert_memory_equal(in, out, sizeof(out));
	skiff_close(a);
	skiff_close(b);
}

/* ---- socket options ---- */

static void test_sockopts(void **state)
{
	int s = udp_on(W.ia), v = 0, one = 1;
	socklen_t l = sizeof(v);
	unsigned char uc = 0;
	(void)state;

	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), 0);
	assert_int_equal(v, SOCK_DGRAM);
	assert_int_equal(l, sizeof(int));
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_DOMAIN, &v, &l), 0);
	assert_int_equal(v, AF_INET);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_PROTOCOL, &v, &l), 0);
	assert_int_equal(v, IPPROTO_UDP);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &v, &l), 0);
	assert_int_equal(v, 0);
	assert_err(skiff_setsockopt(s, SOL_SOCKET, SO_TYPE, &one, sizeof(one)), ENOPROTOOPT);
	/* SO_RCVBUF/SO_SNDBUF: doubled, with Linux's floors */
	v = 10000;
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
	assert_int_equal(v, 20000);
	v = 1;
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
	assert_int_equal(v, 2304);
	v = 1;
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
	assert_int_equal(v, 4608);
	assert_err(skiff_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
	assert_err(skiff_setsockopt(s, SOL_SOCKET, SO_RCVBUF, NULL, sizeof(v)), EFAULT);
	/* flags */
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_BROADCAST, &v, &l), 0);
	assert_int_equal(v, 1);
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_REUSEPORT, &v, &l), 0);
	assert_int_equal(v, 1);
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_NO_CHECK, &one, sizeof(one)), 0);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_NO_CHECK, &v, &l), 0);
	assert_int_equal(v, 1);
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_ERROR, &v, &l), 0);
	assert_int_equal(v, 0);
	/* a short get truncates (Linux copies min(len, size)) */
	l = 1;
	assert_int_equal(skiff_getsockopt(s, SOL_SOCKET, SO_TYPE, &uc, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(uc, SOCK_DGRAM);
	l = (socklen_t)-1;
	assert_err(skiff_getsockopt(s, SOL_SOCKET, SO_TYPE, &v, &l), EINVAL);
	assert_err(skiff_getsockopt(s, SOL_SOCKET, SO_TYPE, &v, NULL), EFAULT);
	l = sizeof(v);
	assert_err(skiff_getsockopt(s, SOL_SOCKET, SO_KEEPALIVE + 1000, &v, &l), ENOPROTOOPT);
	assert_err(skiff_setsockopt(s, SOL_SOCKET, 9999, &one, sizeof(one)), ENOPROTOOPT);
	/* IP level */
	assert_int_equal(skiff_getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l), 0);
	assert_int_equal(v, 64);
	v = 7;
	assert_int_equal(skiff_setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l), 0);
	assert_int_equal(v, 7);
	v = -1; /* back to the default */
	assert_int_equal(skiff_setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), 0);
	assert_int_equal(skiff_getsockopt(s, IPPROTO_IP, IP_TTL, &v, &l), 0);
	assert_int_equal(v, 64);
	v = 0;
	assert_err(skiff_setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	v = 256;
	assert_err(skiff_setsockopt(s, IPPROTO_IP, IP_TTL, &v, sizeof(v)), EINVAL);
	uc = 0x10; /* one byte is accepted at the IP level */
	assert_int_equal(skiff_setsockopt(s, IPPROTO_IP, IP_TOS, &uc, 1), 0);
	l = 2;
	uc = 0;
	assert_int_equal(skiff_getsockopt(s, IPPROTO_IP, IP_TOS, &uc, &l), 0);
	assert_int_equal(l, 1);
	assert_int_equal(uc, 0x10);
	l = sizeof(v);
	assert_err(skiff_setsockopt(s, IPPROTO_IP, 9999, &one, sizeof(one)), ENOPROTOOPT);
	assert_err(skiff_getsockopt(s, IPPROTO_IP, 9999, &v, &l), ENOPROTOOPT);
	assert_err(skiff_setsockopt(s, IPPROTO_TCP, 1, &one, sizeof(one)), ENOPROTOOPT);
	assert_err(skiff_getsockopt(s, IPPROTO_TCP, 1, &v, &l), EOPNOTSUPP);
	skiff_close(s);
}

/* IP_TTL as a socket option and as a per-call control message (checked as Linux). */
static void test_ttl_cmsg(void **state)
{
	int a = bound_on(W.ia, IP_A, 5070), b = bound_on(W.ib, IP_B, 6070), ttl = 9;
	char cbuf[CMSG_SPACE(sizeof(int))], buf[8];
	struct sockaddr_in to = sin4(IP_B, 6070);
	struct iovec iov = { "t", 1 };
	struct msghdr msg;
	struct cmsghdr *cm;
	(void)state;

	assert_int_equal(skiff_setsockopt(a, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
	send_to(a, IP_B, 6070, "t", 1);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	memset(&msg, 0, sizeof(msg));
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_TTL;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	ttl = 0;
	memcpy(CMSG_DATA(cm), &ttl, sizeof(ttl));
	assert_err(skiff_sendmsg(a, &msg, 0), EINVAL);
	ttl = 33;
	memcpy(CMSG_DATA(cm), &ttl, sizeof(ttl));
	assert_int_equal(skiff_sendmsg(a, &msg, 0), 1);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	skiff_close(a);
	skiff_close(b);
}

/* ---- fds: dup, close, kernel families ---- */

static void test_dup_close(void **state)
{
	int a = bound_on(W.ia, IP_A, 5080), b = bound_on(W.ib, IP_B, 6080), d;
	char buf[8];
	(void)state;

	d = skiff_fcntl(b, F_DUPFD_CLOEXEC, 0);
	assert_true(d >= 0 && d != b);
	assert_int_equal(skiff_is_socket(d), 1);
	assert_int_equal(skiff_fcntl(d, F_GETFD), FD_CLOEXEC);
	assert_int_equal(skiff_fcntl(b, F_GETFD), 0);
	/* O_NONBLOCK belongs to the open socket: both fds see it */
	assert_int_equal(skiff_fcntl(d, F_SETFL, O_NONBLOCK), 0);
	assert_err(skiff_recv(b, buf, sizeof(buf), 0), EAGAIN);
	assert_int_equal(skiff_fcntl(d, F_SETFL, 0), 0);
	send_to(a, IP_B, 6080, "d1", 2);
	assert_int_equal(skiff_recv(d, buf, sizeof(buf), 0), 2);
	assert_int_equal(skiff_close(b), 0);
	assert_int_equal(skiff_is_socket(b), 0);
	send_to(a, IP_B, 6080, "d2", 2); /* the port stays bound while a dup is open */
	assert_int_equal(skiff_recv(d, buf, sizeof(buf), 0), 2);
	assert_memory_equal(buf, "d2", 2);
	assert_int_equal(skiff_close(d), 0);
	assert_err(skiff_close(d), EBADF);
	assert_err(skiff_recv(d, buf, sizeof(buf), 0), EBADF);
	/* the port is free again */
	b = bound_on(W.ib, IP_B, 6080);
	skiff_close(b);
	skiff_close(a);
}

static void test_kernel_families(void **state)
{
	int sv[2], u, t;
	struct sockaddr_un addr;
	char buf[16];
	struct pollfd pf;
	(void)state;

	/* A socketpair used through the skiff calls: all plain kernel behaviour. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(skiff_is_socket(sv[0]), 0);
	assert_int_equal(skiff_send(sv[0], "unix", 4, 0), 4);
	pf = (struct pollfd){ .fd = sv[1], .events = POLLIN };
	assert_int_equal(skiff_poll(&pf, 1, 1000), 1);
	assert_int_equal(skiff_recv(sv[1], buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "unix", 4);
	assert_int_equal(skiff_close(sv[0]), 0);
	assert_int_equal(skiff_close(sv[1]), 0);

	/* AF_UNIX through skiff_socket: the kernel fd, untracked, working. */
	u = skiff_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(u >= 0);
	assert_int_equal(skiff_is_socket(u), 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "skiff-test-%d", (int)getpid());
	socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	assert_int_equal(skiff_bind(u, (struct sockaddr *)&addr, alen), 0);
	assert_int_equal(skiff_sendto(u, "self", 4, 0, (struct sockaddr *)&addr, alen), 4);
	assert_int_equal(skiff_recvfrom(u, buf, sizeof(buf), 0, NULL, NULL), 4);
	assert_int_equal(skiff_close(u), 0);

	/* TCP is skiff's too now; the kernel validates the rest. */
	t = skiff_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t >= 0);
	assert_int_equal(skiff_is_socket(t), 1);
	assert_int_equal(skiff_close(t), 0);
	assert_err(skiff_socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	assert_err(skiff_socket(12345, SOCK_DGRAM, 0), EAFNOSUPPORT);
	assert_err(skiff_socket(AF_INET, 77, 0), EINVAL);
	assert_err(skiff_socket_on(W.rt, 99, AF_INET, SOCK_DGRAM, 0), EINVAL);
	assert_err(skiff_socket_on(NULL, 0, AF_INET, SOCK_DGRAM, 0), EINVAL);
}

/* skiff_socket(): the process default runtime (the first created), instance 0,
 * unless the thread picked another with skiff_rt_use(). */
static void *default_instance_thread(void *arg)
{
	int *res = arg, s = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4(IP_A, 7100);
	*res = s >= 0 ? skiff_bind(s, (struct sockaddr *)&a, sizeof(a)) : -2;
	skiff_close(s);
	return NULL;
}

static void test_current_instance(void **state)
{
	pthread_t th;
	int res = -3, s;
	struct sockaddr_in a = sin4(IP_A, 7101), b = sin4(IP_B, 7101);
	(void)state;

	assert_int_equal(pthread_create(&th, NULL, default_instance_thread, &res), 0);
	pthread_join(th, NULL);
	assert_int_equal(res, 0); /* instance 0 = stack A owns 198.18.0.1 */

	assert_int_equal(skiff_rt_use(W.rt, 5), -EINVAL);
	assert_int_equal(skiff_rt_use(W.rt, W.ib), 0);
	s = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_err(skiff_bind(s, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	assert_int_equal(skiff_bind(s, (struct sockaddr *)&b, sizeof(b)), 0);
	skiff_close(s);
	assert_int_equal(skiff_rt_use(W.rt, W.ia), 0);
}

/* ---- threads ---- */

struct rx_job {
	int fd;
	long ret;
	int err;
	uint64_t done_ns;
	char buf[64];
};

static void *rx_thread(void *arg)
{
	struct rx_job *j = arg;
	errno = 0;
	j->ret = skiff_recv(j->fd, j->buf, sizeof(j->buf), 0);
	j->err = errno;
	__atomic_store_n(&j->done_ns, mono_ns(), __ATOMIC_RELEASE);
	return NULL;
}

/* A receiver asleep in poll(2) is woken by a datagram another thread causes. */
static void test_blocking_wakeup(void **state)
{
	int a = bound_on(W.ia, IP_A, 5090), b = bound_on(W.ib, IP_B, 6090);
	struct rx_job j = { .fd = b };
	pthread_t th;
	uint64_t t0;
	(void)state;

	send_to(a, IP_B, 6090, "warm", 4); /* ARP resolved before the timing part */
	assert_int_equal(skiff_recv(b, j.buf, sizeof(j.buf), 0), 4);
	assert_int_equal(pthread_create(&th, NULL, rx_thread, &j), 0);
	usleep(30000); /* well past the 50 us busy-poll budget: the receiver sleeps */
	t0 = mono_ns();
	send_to(a, IP_B, 6090, "wake", 4);
	pthread_join(th, NULL);
	assert_int_equal(j.ret, 4);
	assert_memory_equal(j.buf, "wake", 4);
	assert_true(j.done_ns - t0 < 500000000ull);
	skiff_close(a);
	skiff_close(b);
}

struct pingpong {
	int a, b, rounds, ok;
	uint16_t pa, pb;
};

static void *pingpong_thread(void *arg)
{
	struct pingpong *p = arg;
	struct sockaddr_in ta = sin4(IP_A, p->pa), tb = sin4(IP_B, p->pb);
	char buf[32];
	for (int i = 0; i < p->rounds; i++) {
		uint32_t v = (uint32_t)i;
		if (skiff_sendto(p->a, &v, 4, 0, (struct sockaddr *)&tb, sizeof(tb)) != 4)
			return NULL;
		if (skiff_recv(p->b, buf, sizeof(buf), 0) != 4 || memcmp(buf, &v, 4))
			return NULL;
		if (skiff_sendto(p->b, &v, 4, 0, (struct sockaddr *)&ta, sizeof(ta)) != 4)
			return NULL;
		if (skiff_recv(p->a, buf, sizeof(buf), 0) != 4 || memcmp(buf, &v, 4))
			return NULL;
		p->ok++;
	}
	return NULL;
}

/* Several application threads at once, each with its own pair of sockets. */
static void test_threads_pingpong(void **state)
{
	enum { N = 4 };
	struct pingpong pp[N];
	pthread_t th[N];
	(void)state;

	for (int i = 0; i < N; i++) {
		pp[i] = (struct pingpong){ .rounds = 200, .pa = (uint16_t)(5100 + i), .pb = (uint16_t)(6100 + i) };
		pp[i].a = bound_on(W.ia, IP_A, pp[i].pa);
		pp[i].b = bound_on(W.ib, IP_B, pp[i].pb);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, pingpong_thread, &pp[i]), 0);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(pp[i].ok, pp[i].rounds);
		skiff_close(pp[i].a);
		skiff_close(pp[i].b);
	}
}

static void on_usr1(int sig) { (void)sig; }

/* A signal interrupts a blocking receive: EINTR. */
static void test_eintr(void **state)
{
	int b = bound_on(W.ib, IP_B, 6095);
	struct rx_job j = { .fd = b, .ret = 0 };
	struct sigaction sa, old;
	pthread_t th;
	(void)state;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	j.done_ns = 0;
	assert_int_equal(pthread_create(&th, NULL, rx_thread, &j), 0);
	/* A signal that lands outside the sleep is absorbed: repeat until it returns. */
	for (int i = 0; i < 100 && __atomic_load_n(&j.done_ns, __ATOMIC_ACQUIRE) == 0; i++) {
		usleep(20000);
		pthread_kill(th, SIGUSR1);
	}
	pthread_join(th, NULL);
	assert_int_equal(j.ret, -1);
	assert_int_equal(j.err, EINTR);
	sigaction(SIGUSR1, &old, NULL);
	skiff_close(b);
}

/* Destroying a runtime closes its sockets (and their kernel fds). */
static void test_rt_destroy_closes(void **state)
{
	struct skiff_rt *rt2;
	int s, inst;
	(void)state;

	assert_int_equal(skiff_rt_create(&rt2), 0);
	assert_err(skiff_socket_on(rt2, 0, AF_INET, SOCK_DGRAM, 0), EINVAL); /* no instance yet */
	inst = skiff_rt_attach(rt2, W.sa, &W.da, 1);
	assert_int_equal(inst, 0);
	assert_int_equal(skiff_rt_attach(rt2, W.sa, &W.da, 1), -EEXIST);
	s = skiff_socket_on(rt2, inst, AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	assert_int_equal(skiff_is_socket(s), 1);
	skiff_rt_destroy(rt2);
	assert_int_equal(skiff_is_socket(s), 0);
	assert_err(fcntl(s, F_GETFD), EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_exchange),
		cmocka_unit_test(test_autobind_source),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_connect_autobinds),
		cmocka_unit_test(test_bind_errnos),
		cmocka_unit_test(test_send_errnos),
		cmocka_unit_test(test_nonblocking),
		cmocka_unit_test(test_rcvtimeo),
		cmocka_unit_test(test_privileged_port),
		cmocka_unit_test(test_fake_clock),
		cmocka_unit_test(test_peek_trunc),
		cmocka_unit_test(test_poll_mixed),
		cmocka_unit_test(test_econnrefused),
		cmocka_unit_test(test_fragmented_60000),
		cmocka_unit_test(test_sockopts),
		cmocka_unit_test(test_ttl_cmsg),
		cmocka_unit_test(test_dup_close),
		cmocka_unit_test(test_kernel_families),
		cmocka_unit_test(test_current_instance),
		cmocka_unit_test(test_blocking_wakeup),
		cmocka_unit_test(test_threads_pingpong),
		cmocka_unit_test(test_eintr),
		cmocka_unit_test(test_rt_destroy_closes),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
