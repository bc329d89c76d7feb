/* test_sockfd.c — the fd calls beside the socket calls (epoll.c, fdops.c) and
 * deferred sockets (defer.c), through the native API.
 *
 * World (as test_socketapi.c): one loop device pair, stack A 198.18.0.1/24 and
 * stack B 198.18.0.2/24, one runtime with both as instances 0 and 1. Kernel fds
 * (pipes, an unbound kernel UDP socket) stand in for the "everything else" a
 * program mixes with skiff sockets. Deferred sockets decide against instance B
 * with [offload] ports = 7000. Every wait is bounded; errnos are Linux's.
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
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"
#include "socketapi/config.h"
#include "socketapi/defer.h"
#include "socketapi/fdtable.h"
#include "socketapi/runtime.h"
#include "tests/lib/loop_world.h"

static int world_setup(void **state)
{
	struct skiff_config pol;
	(void)state;
	loop_world_up(1, 2);
	skiff_config_defaults(&pol);
	pol.ports[0].lo = pol.ports[0].hi = 7000;
	pol.nports = 1;
	sock_defer_set_policy(W.rt, W.ib, &pol);
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	sock_defer_set_policy(NULL, 0, NULL);
	loop_world_down();
	return 0;
}

static int udp_bound(int inst, uint32_t ip, uint16_t port)
{
	int fd = skiff_socket_on(W.rt, inst, AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = sin4(ip, port);
	assert_true(fd >= 0);
	set_timeo_ms(fd, SO_RCVTIMEO, 3000);
	assert_int_equal(skiff_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_to(int fd, uint32_t ip, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in to = sin4(ip, port);
	assert_int_equal(skiff_sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)), (long)len);
}

static int ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };
	return skiff_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- epoll ---- */

static void test_epoll_level(void **state)
{
	int ep = skiff_epoll_create1(EPOLL_CLOEXEC), a = udp_bound(W.ia, IP_A, 5100), b = udp_bound(W.ib, IP_B, 5101);
	struct epoll_event ev[4];
	char buf[16];
	(void)state;

	assert_true(ep >= 0);
	assert_int_equal(ep_add(ep, b, EPOLLIN, 0xb0b), 0);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0);
	send_to(a, IP_B, 5101, "x", 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 3000), 1);
	assert_int_equal(ev[0].events, EPOLLIN);
	assert_int_equal(ev[0].data.u64, 0xb0b);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 1); /* level: still readable */
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0);
	/* EPOLLOUT of a UDP socket is always there */
	assert_int_equal(ep_add(ep, a, EPOLLOUT, 0xa), 0);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 1);
	assert_int_equal(ev[0].events, EPOLLOUT);
	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0); /* a closed fd leaves every epoll */
	assert_int_equal(skiff_close(b), 0);
	assert_int_equal(skiff_close(ep), 0);
}

static void test_epoll_edge_oneshot(void **state)
{
	int ep = skiff_epoll_create(1), a = udp_bound(W.ia, IP_A, 5110), b = udp_bound(W.ib, IP_B, 5111);
	struct epoll_event ev[4] = { 0 }, mod = { .events = EPOLLIN | EPOLLONESHOT, .data.u32 = 9 };
	char buf[16];
	(void)state;

	assert_int_equal(ep_add(ep, b, EPOLLIN | EPOLLET, 1), 0);
	send_to(a, IP_B, 5111, "1", 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 3000), 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 50), 0); /* still readable, nothing new: no edge */
	send_to(a, IP_B, 5111, "2", 1);
	/* a second arrival while still readable is an edge too (Linux wakes the item
	 * at each arrival; nginx reads, answers, and waits for the next request) */
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 3000), 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	assert_err(skiff_recv(b, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0);
	send_to(a, IP_B, 5111, "3", 1);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 3000), 1); /* drained, then new data: an edge */
	assert_int_equal(ev[0].events, EPOLLIN);

	/* ONESHOT: one report, then nothing until MOD re-arms it */
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_MOD, b, &mod), 0);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 1);
	assert_int_equal(ev[0].data.u32, 9);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 0);
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_MOD, b, &mod), 0);
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 0), 1);
	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_close(b), 0);
	assert_int_equal(skiff_close(ep), 0);
}

static void test_epoll_errors(void **state)
{
	int ep = skiff_epoll_create1(0), b = udp_bound(W.ib, IP_B, 5120);
	struct epoll_event ev = { .events = EPOLLIN }, ex = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	(void)state;

	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev), 0);
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev), EEXIST);
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_MOD, b, NULL), EFAULT);
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_MOD, b, &ex), EINVAL); /* EXCLUSIVE only at ADD */
	assert_err(skiff_epoll_ctl(ep, 99, b, &ev), EINVAL);
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL), 0);
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_DEL, b, NULL), ENOENT);
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_MOD, b, &ev), ENOENT);
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, b, &ex), 0); /* accepted */
	assert_err(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL); /* itself: the kernel says */
	assert_err(skiff_epoll_wait(ep, &ev, 0, 0), EINVAL);
	assert_err(skiff_epoll_wait(b, &ev, 1, 0), EINVAL); /* not an epoll fd */
	assert_err(skiff_epoll_ctl(b, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	assert_int_equal(skiff_close(b), 0);
	assert_int_equal(skiff_close(ep), 0);
}

struct delayed_send {
	int fd;
	uint32_t ip;
	uint16_t port;
	int pipe_w;
};

static void *send_later(void *arg)
{
	struct delayed_send *d = arg;
	struct timespec t = { 0, 100 * 1000000l };
	nanosleep(&t, NULL);
	if (d->pipe_w >= 0)
		assert_int_equal(write(d->pipe_w, "p", 1), 1);
	else
		send_to(d->fd, d->ip, d->port, "late", 4);
	return NULL;
}

/* A skiff socket and a kernel pipe in one epoll; a sleeping epoll_wait wakes for either. */
static void test_epoll_mixed_blocking(void **state)
{
	int ep = skiff_epoll_create1(0), a = udp_bound(W.ia, IP_A, 5130), b = udp_bound(W.ib, IP_B, 5131), p[2];
	struct epoll_event ev[4];
	struct delayed_send d = { a, IP_B, 5131, -1 };
	pthread_t th;
	uint64_t t0;
	char buf[8];
	(void)state;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(ep_add(ep, b, EPOLLIN, 1), 0);
	assert_int_equal(ep_add(ep, p[0], EPOLLIN, 2), 0); /* a kernel fd: the kernel instance holds it */
	skiff_rt_set_busy_poll(W.rt, 0);
	for (int round = 0; round < 2; round++) {
		d.pipe_w = round ? p[1] : -1;
		assert_int_equal(pthread_create(&th, NULL, send_later, &d), 0);
		t0 = mono_ns();
		assert_int_equal(skiff_epoll_wait(ep, ev, 4, 5000), 1);
		assert_true(mono_ns() - t0 < 4000000000ull);
		assert_int_equal(ev[0].data.u64, round ? 2u : 1u);
		pthread_join(th, NULL);
		if (round)
			assert_int_equal(read(p[0], buf, 1), 1);
		else
			assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 4);
	}
	/* the timeout, with nothing ready */
	t0 = mono_ns();
	assert_int_equal(skiff_epoll_wait(ep, ev, 4, 100), 0);
	assert_true(mono_ns() - t0 >= 90000000ull);
	/* epoll_pwait2: a timespec, rounded up to whole ms (never returns early) */
	{
		struct timespec ts = { 0, 50500000 }, bad = { 0, 1000000000l };
		t0 = mono_ns();
		assert_int_equal(skiff_epoll_pwait2(ep, ev, 4, &ts, NULL), 0);
		assert_true(mono_ns() - t0 >= 50000000ull);
		assert_err(skiff_epoll_pwait2(ep, ev, 4, &bad, NULL), EINVAL);
		assert_int_equal(write(p[1], "q", 1), 1);
		assert_int_equal(skiff_epoll_pwait2(ep, ev, 4, NULL, NULL), 1); /* NULL: wait for it */
		assert_int_equal(ev[0].data.u64, 2u);
		assert_int_equal(read(p[0], buf, 1), 1);
	}
	skiff_rt_set_busy_poll(W.rt, 50);
	close(p[0]);
	close(p[1]);
	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_close(b), 0);
	assert_int_equal(skiff_close(ep), 0);
}

/* ---- select ---- */

static void test_select_mixed(void **state)
{
	int a = udp_bound(W.ia, IP_A, 5140), b = udp_bound(W.ib, IP_B, 5141), p[2], n;
	struct timeval tv = { 0, 200000 };
	fd_set rd, wr;
	char buf[8];
	(void)state;

	assert_int_equal(pipe(p), 0);
	n = (b > p[0] ? b : p[0]) + 1;
	FD_ZERO(&rd);
	FD_SET(b, &rd);
	FD_SET(p[0], &rd);
	assert_int_equal(skiff_select(n, &rd, NULL, NULL, &tv), 0); /* nothing: the timeout, time written back */
	assert_int_equal(tv.tv_sec, 0);
	assert_true(tv.tv_usec < 50000);
	send_to(a, IP_B, 5141, "s", 1);
	assert_int_equal(write(p[1], "k", 1), 1);
	FD_ZERO(&rd);
	FD_SET(b, &rd);
	FD_SET(p[0], &rd);
	FD_ZERO(&wr);
	FD_SET(a, &wr);
	tv = (struct timeval){ 3, 0 };
	n = (n > a + 1 ? n : a + 1);
	/* both readable (the datagram may need a pass to arrive: select waits for it) */
	for (int i = 0; i < 50; i++) {
		fd_set r2 = rd, w2 = wr;
		int got = skiff_select(n, &r2, &w2, NULL, &tv);
		if (got == 3) {
			assert_true(FD_ISSET(b, &r2) && FD_ISSET(p[0], &r2) && FD_ISSET(a, &w2));
			break;
		}
		assert_true(got >= 1 && i < 49);
	}
	assert_int_equal(skiff_recv(b, buf, sizeof(buf), 0), 1);
	close(p[1]);
	close(p[0]);
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	FD_SET(b, &rd);
	assert_err(skiff_select(n, &rd, NULL, NULL, &tv), EBADF); /* a closed fd in a set */
	assert_err(skiff_select(-1, NULL, NULL, NULL, NULL), EINVAL);
	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_close(b), 0);
}

/* ---- dup, read/write, mmsg ---- */

static void test_dup_family(void **state)
{
	int a = udp_bound(W.ia, IP_A, 5150), b = udp_bound(W.ib, IP_B, 5151), d, victim, k;
	struct sockaddr_in to = sin4(IP_B, 5151);
	char buf[8];
	(void)state;

	d = skiff_dup(b);
	assert_true(d >= 0 && d != b);
	assert_int_equal(skiff_is_socket(d), 1);
	assert_int_equal(skiff_connect(a, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(skiff_write(a, "dup", 3), 3);
	assert_int_equal(skiff_read(d, buf, sizeof(buf)), 3); /* the dup reads the same socket */
	assert_int_equal(skiff_close(b), 0);
	/* dup2 onto another skiff socket: it is closed, the number now the copy */
	victim = udp_bound(W.ib, IP_B, 5152);
	assert_int_equal(skiff_dup2(d, victim), victim);
	assert_int_equal(skiff_write(a, "two", 3), 3);
	assert_int_equal(skiff_read(victim, buf, sizeof(buf)), 3);
	/* dup3 with O_CLOEXEC over a kernel fd */
	k = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(skiff_dup3(d, k, O_CLOEXEC), k);
	assert_int_equal(skiff_is_socket(k), 1);
	assert_int_equal(skiff_fcntl(k, F_GETFD), FD_CLOEXEC);
	assert_err(skiff_dup3(d, d, 0), EINVAL);
	assert_int_equal(skiff_dup2(d, d), d);
	/* and back: a kernel fd dup2'd over a skiff number makes it the kernel's */
	assert_int_equal(skiff_dup2(0, k), k);
	assert_int_equal(skiff_is_socket(k), 0);
	close(k);
	assert_int_equal(skiff_close(victim), 0);
	assert_int_equal(skiff_close(d), 0);
	assert_int_equal(skiff_close(a), 0);
}

static void test_readv_writev_mmsg(void **state)
{
	int a = udp_bound(W.ia, IP_A, 5160), b = udp_bound(W.ib, IP_B, 5161);
	struct sockaddr_in to = sin4(IP_B, 5161);
	char x[3] = "ab", y[4] = "cde", got[8][16];
	struct iovec wv[2] = { { x, 2 }, { y, 3 } }, rv[2], iov[8];
	struct mmsghdr mv[8];
	char r1[1], r2[8];
	int n = 0;
	(void)state;

	assert_int_equal(skiff_connect(a, (struct sockaddr *)&to, sizeof(to)), 0);
	assert_int_equal(skiff_writev(a, wv, 2), 5);
	rv[0] = (struct iovec){ r1, 1 };
	rv[1] = (struct iovec){ r2, sizeof(r2) };
	assert_int_equal(skiff_readv(b, rv, 2), 5);
	assert_memory_equal(r1, "a", 1);
	assert_memory_equal(r2, "bcde", 4);
	assert_err(skiff_writev(a, wv, -1), EINVAL);

	memset(mv, 0, sizeof(mv));
	for (int i = 0; i < 4; i++) {
		iov[i] = (struct iovec){ got[i], 1 + i };
		memset(got[i], 'A' + i, 1 + i);
		mv[i].msg_hdr.msg_iov = &iov[i];
		mv[i].msg_hdr.msg_iovlen = 1;
	}
	assert_int_equal(skiff_sendmmsg(a, mv, 4, 0), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mv[i].msg_len, 1 + i);
	memset(mv, 0, sizeof(mv));
	memset(got, 0, sizeof(got));
	for (int i = 0; i < 8; i++) {
		iov[i] = (struct iovec){ got[i], sizeof(got[i]) };
		mv[i].msg_hdr.msg_iov = &iov[i];
		mv[i].msg_hdr.msg_iovlen = 1;
	}
	/* MSG_WAITFORONE: wait for the first, take what is there after it */
	for (int tries = 0; tries < 50 && n < 4; tries++) {
		int r = skiff_recvmmsg(b, mv + n, 8 - (unsigned)n, MSG_WAITFORONE, NULL);
		assert_true(r >= 1);
		n += r;
	}
	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mv[i].msg_len, 1 + i);
		assert_int_equal(got[i][0], 'A' + i);
	}
	assert_err(skiff_recvmmsg(b, mv, 8, MSG_DONTWAIT, NULL), EAGAIN);
	assert_int_equal(skiff_close(a), 0);
	assert_int_equal(skiff_close(b), 0);
}

/* sendfile from a file to a skiff TCP connection: every byte, in order. */
static void test_sendfile_tcp(void **state)
{
	enum { SIZE = 300000 };
	int l = skiff_socket_on(W.rt, W.ib, AF_INET, SOCK_STREAM, 0), c, s, f;
	struct sockaddr_in at = sin4(IP_B, 5170);
	unsigned char *data = malloc(SIZE), *back = malloc(SIZE);
	char path[] = "/tmp/skiff-sendfile.XXXXXX";
	off_t off = 1000;
	size_t got = 0;
	(void)state;

	for (int i = 0; i < SIZE; i++)
		data[i] = (unsigned char)(i * 131 + (i >> 9));
	f = mkstemp(path);
	assert_true(f >= 0);
	unlink(path);
	assert_int_equal(write(f, data, SIZE), SIZE);
	assert_int_equal(skiff_bind(l, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(skiff_listen(l, 4), 0);
	c = skiff_socket_on(W.rt, W.ia, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(skiff_connect(c, (struct sockaddr *)&at, sizeof(at)), 0);
	s = skiff_accept(l, NULL, NULL);
	assert_true(s >= 0);
	set_timeo_ms(s, SO_RCVTIMEO, 5000);
	set_timeo_ms(c, SO_SNDTIMEO, 5000);
	/* with an offset: the file position stays where it was (the end) */
	for (off_t left = SIZE - 1000; left > 0;) {
		ssize_t n = skiff_sendfile(c, f, &off, (size_t)left);
		assert_true(n > 0);
		left -= n;
		while (got < (size_t)(SIZE - 1000 - left)) {
			ssize_t r = skiff_recv(s, back + got, SIZE - got, 0);
			assert_true(r > 0);
			got += (size_t)r;
		}
	}
	assert_int_equal(off, SIZE);
	assert_int_equal(lseek(f, 0, SEEK_CUR), SIZE);
	assert_memory_equal(back, data + 1000, SIZE - 1000);
	/* without an offset: from the file position, which moves */
	assert_int_equal(lseek(f, 0, SEEK_SET), 0);
	assert_int_equal(skiff_sendfile(c, f, NULL, 5000), 5000);
	assert_int_equal(lseek(f, 0, SEEK_CUR), 5000);
	got = 0;
	while (got < 5000) {
		ssize_t r = skiff_recv(s, back + got, 5000 - got, 0);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(back, data, 5000);
	close(f);
	free(data);
	free(back);
	assert_int_equal(skiff_close(c), 0);
	assert_int_equal(skiff_close(s), 0);
	assert_int_equal(skiff_close(l), 0);
}

/* ---- deferred sockets ---- */

static void test_defer_udp(void **state)
{
	int u = skiff_socket_deferred(AF_INET, SOCK_DGRAM, 0), v, w, a = udp_bound(W.ia, IP_A, 5180), rcv = 0;
	struct sockaddr_in me = sin4(IP_B, 5181), lo = sin4(0x7f000001u, 0), any7000 = sin4(0, 7000), any0 = sin4(0, 0),
			   name;
	socklen_t nl = sizeof(name), il = sizeof(int);
	int buf = 65536, one = 1;
	char b[8];
	(void)state;

	assert_true(u >= 0);
	assert_int_equal(skiff_is_socket(u), 0); /* undecided: the kernel socket for now */
	assert_int_equal(skiff_setsockopt(u, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)), 0);
	assert_int_equal(skiff_setsockopt(u, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_err(skiff_setsockopt(u, SOL_SOCKET, SO_RCVBUF, &buf, 1), EINVAL); /* the kernel's answer */
	assert_int_equal(skiff_bind(u, (struct sockaddr *)&me, sizeof(me)), 0); /* a bypass address: skiff */
	assert_int_equal(skiff_is_socket(u), 1);
	assert_int_equal(skiff_getsockopt(u, SOL_SOCKET, SO_RCVBUF, &rcv, &il), 0);
	assert_int_equal(rcv, 2 * buf); /* replayed (Linux doubles it) */
	assert_int_equal(skiff_getsockopt(u, SOL_SOCKET, SO_REUSEADDR, &rcv, &il), 0);
	assert_int_equal(rcv, 1);
	send_to(a, IP_B, 5181, "hi", 2);
	set_timeo_ms(u, SO_RCVTIMEO, 3000);
	assert_int_equal(skiff_recv(u, b, sizeof(b), 0), 2);
	assert_int_equal(skiff_close(u), 0);

	v = skiff_socket_deferred(AF_INET, SOCK_DGRAM, 0); /* loopback: the kernel's */
	assert_int_equal(skiff_bind(v, (struct sockaddr *)&lo, sizeof(lo)), 0);
	assert_int_equal(skiff_is_socket(v), 0);
	assert_int_equal(skiff_getsockname(v, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(ntohl(name.sin_addr.s_addr), 0x7f000001u);
	assert_int_equal(skiff_close(v), 0);

	w = skiff_socket_deferred(AF_INET, SOCK_DGRAM, 0); /* INADDR_ANY on an offloaded port */
	assert_int_equal(skiff_bind(w, (struct sockaddr *)&any7000, sizeof(any7000)), 0);
	assert_int_equal(skiff_is_socket(w), 1);
	assert_int_equal(skiff_close(w), 0);

	/* INADDR_ANY:0 — the kernel picks the port, the socket stays undecided; a
	 * send to a bypass destination moves it to skiff with the same port */
	w = skiff_socket_deferred(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(skiff_bind(w, (struct sockaddr *)&any0, sizeof(any0)), 0);
	assert_int_equal(skiff_is_socket(w), 0);
	nl = sizeof(name);
	assert_int_equal(skiff_getsockname(w, (struct sockaddr *)&name, &nl), 0);
	uint16_t port = ntohs(name.sin_port);
	assert_true(port != 0);
	assert_err(skiff_bind(w, (struct sockaddr *)&any0, sizeof(any0)), EINVAL); /* bound already */
	send_to(w, IP_A, 5180, "yo", 2);
	assert_int_equal(skiff_is_socket(w), 1);
	nl = sizeof(name);
	assert_int_equal(skiff_recvfrom(a, b, sizeof(b), 0, (struct sockaddr *)&name, &nl), 2);
	assert_int_equal(ntohs(name.sin_port), port);
	assert_int_equal(ntohl(name.sin_addr.s_addr), IP_B);
	assert_int_equal(skiff_close(w), 0);

	/* a destination skiff does not route (198.19.0.9 is not on its subnets): the kernel's */
	w = skiff_socket_deferred(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in far = sin4(0xc6130009u, 9);
	(void)skiff_connect(w, (struct sockaddr *)&far, sizeof(far)); /* UDP connect sends nothing */
	assert_int_equal(skiff_is_socket(w), 0);
	assert_int_equal(skiff_close(w), 0);
	assert_int_equal(skiff_close(a), 0);
}

static void test_defer_tcp(void **state)
{
	int l = skiff_socket_on(W.rt, W.ia, AF_INET, SOCK_STREAM, 0), c, d, k, s, one = 1, v = 0, ep;
	struct sockaddr_in at = sin4(IP_A, 5190);
	socklen_t il = sizeof(v);
	struct epoll_event ev = { .events = EPOLLOUT, .data.u32 = 5 }, out;
	(void)state;

	assert_int_equal(skiff_bind(l, (struct sockaddr *)&at, sizeof(at)), 0);
	assert_int_equal(skiff_listen(l, 4), 0);
	/* set up before the connect decides: O_NONBLOCK, TCP_NODELAY, a dup, an epoll registration */
	c = skiff_socket_deferred(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(skiff_setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(skiff_fcntl(c, F_SETFL, O_NONBLOCK), 0);
	d = skiff_dup(c);
	ep = skiff_epoll_create1(0);
	assert_int_equal(skiff_epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);
	assert_err(skiff_connect(c, (struct sockaddr *)&at, sizeof(at)), EINPROGRESS);
	assert_int_equal(skiff_is_socket(c), 1);
	assert_int_equal(skiff_is_socket(d), 1); /* the dup moved with it */
	assert_int_equal(skiff_epoll_wait(ep, &out, 1, 3000), 1); /* and the registration */
	assert_int_equal(out.data.u32, 5);
	assert_int_equal(skiff_getsockopt(d, IPPROTO_TCP, TCP_NODELAY, &v, &il), 0);
	assert_int_equal(v, 1);
	assert_int_equal(skiff_getsockopt(c, SOL_SOCKET, SO_ERROR, &v, &il), 0);
	assert_int_equal(v, 0);
	set_timeo_ms(l, SO_RCVTIMEO, 3000);
	s = skiff_accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(skiff_close(s), 0);
	assert_int_equal(skiff_close(d), 0);
	assert_int_equal(skiff_close(c), 0);
	assert_int_equal(skiff_close(ep), 0);

	/* listen without a bypass bind: the kernel's (it autobinds) */
	k = skiff_socket_deferred(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(skiff_listen(k, 1), 0);
	assert_int_equal(skiff_is_socket(k), 0);
	assert_int_equal(skiff_getsockopt(k, SOL_SOCKET, SO_ACCEPTCONN, &v, &il), 0);
	assert_int_equal(v, 1);
	assert_int_equal(skiff_close(k), 0);
	/* other families are never deferred */
	k = skiff_socket_deferred(AF_UNIX, SOCK_STREAM, 0);
	assert_true(k >= 0);
	assert_false(fdt_contains(k));
	close(k);
	assert_err(skiff_socket_deferred(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT); /* the kernel's errno */
	assert_int_equal(skiff_close(l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoll_level),
		cmocka_unit_test(test_epoll_edge_oneshot),
		cmocka_unit_test(test_epoll_errors),
		cmocka_unit_test(test_epoll_mixed_blocking),
		cmocka_unit_test(test_select_mixed),
		cmocka_unit_test(test_dup_family),
		cmocka_unit_test(test_readv_writev_mmsg),
		cmocka_unit_test(test_sendfile_tcp),
		cmocka_unit_test(test_defer_udp),
		cmocka_unit_test(test_defer_tcp),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
