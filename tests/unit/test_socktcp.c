/* test_socktcp.c — the native TCP API (skiff.h over dataplane/tcp.h) end to end.
 *
 * World: as test_socketapi.c — one loop device pair, stack A (198.18.0.1/24) and
 * stack B (198.18.0.2/24), one runtime with both (one lock group). Servers listen
 * on B, clients connect from A. Every blocking call has an SO_RCVTIMEO/SO_SNDTIMEO
 * guard so a broken test fails instead of hanging. Ports differ per test (closed
 * connections linger in TIME-WAIT). Expected errnos are Linux's.
 * A dataplane bug found by a test stays disabled behind SKIFF_TCP_KNOWN_BUG_<name>.
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
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"
#include "tests/lib/loop_world.h"
#include "socketapi/runtime.h"


static int world_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN); /* a test that expects none must not die of one */
	loop_world_up(11, 12);
	return 0;
}

static int world_teardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

/* ---- helpers ---- */

static int tcp_on(int inst, int flags)
{
	int fd = skiff_socket_on(W.rt, inst, AF_INET, SOCK_STREAM | flags, 0);
	assert_true(fd >= 0);
	assert_int_equal(skiff_is_socket(fd), 1);
	set_timeo_ms(fd, SO_RCVTIMEO, 5000);
	set_timeo_ms(fd, SO_SNDTIMEO, 5000);
	return fd;
}

static int listener(uint16_t port)
{
	int l = tcp_on(W.ib, 0);
	struct sockaddr_in a = sin4(IP_B, port);
	assert_int_equal(skiff_bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(skiff_listen(l, 16), 0);
	return l;
}

static void connect_to(int fd, uint16_t port)
{
	struct sockaddr_in b = sin4(IP_B, port);
	assert_int_equal(skiff_connect(fd, (struct sockaddr *)&b, sizeof(b)), 0);
}

/* A connected pair: *c on A, *s on B (accepted); the listener is closed. */
static void pair(uint16_t port, int *c, int *s)
{
	int l = listener(port);
	*c = tcp_on(W.ia, 0);
	connect_to(*c, port);
	*s = skiff_accept(l, NULL, NULL);
	assert_true(*s >= 0);
	set_timeo_ms(*s, SO_RCVTIMEO, 5000);
	set_timeo_ms(*s, SO_SNDTIMEO, 5000);
	assert_int_equal(skiff_close(l), 0);
}

static short poll1(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n = skiff_poll(&p, 1, ms);
	assert_true(n >= 0);
	return n ? p.revents : 0;
}

/* Poll until (revents & want) == want. */
static short poll_until(int fd, short events, short want)
{
	short r = 0;
	for (int i = 0; i < 100 && (r & want) != want; i++)
		r = poll1(fd, events, 50);
	return r;
}

static int so_int(int fd, int level, int name)
{
	int v = -12345;
	socklen_t l = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd, level, name, &v, &l), 0);
	assert_int_equal(l, sizeof(int));
	return v;
}

#define ALL_EV (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLRDHUP | POLLPRI)

/* ---- connect / accept ---- */

static void test_connect_accept_blocking(void **state)
{
	int l = listener(7000), c = tcp_on(W.ia, 0), s;
	struct sockaddr_in peer, name;
	socklen_t pl = sizeof(peer), nl = sizeof(name);
	char buf[16];
	(void)state;

	assert_err(skiff_getpeername(c, (struct sockaddr *)&name, &nl), ENOTCONN);
	assert_err(skiff_getpeername(l, (struct sockaddr *)&name, &nl), ENOTCONN);
	connect_to(c, 7000);
	{
		struct sockaddr_in again = sin4(IP_B, 7000);
		assert_err(skiff_connect(c, (struct sockaddr *)&again, sizeof(again)), EISCONN);
	}
	memset(&peer, 0, sizeof(peer));
	s = skiff_accept(l, (struct sockaddr *)&peer, &pl);
	assert_true(s >= 0);
	assert_int_equal(skiff_is_socket(s), 1);
	assert_int_equal(pl, sizeof(struct sockaddr_in));
	assert_int_equal(peer.sin_family, AF_INET);
	assert_int_equal(ntohl(peer.sin_addr.s_addr), IP_A);

	nl = sizeof(name);
	assert_int_equal(skiff_getsockname(c, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(nl, sizeof(name));
	assert_int_equal(ntohl(name.sin_addr.s_addr), IP_A);
	assert_int_equal(name.sin_port, peer.sin_port); /* the ephemeral port the server saw */
	nl = sizeof(name);
	assert_int_equal(skiff_getpeername(c, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(ntohl(name.sin_addr.s_addr), IP_B);
	assert_int_equal(ntohs(name.sin_port), 7000);
	nl = sizeof(name);
	assert_int_equal(skiff_getsockname(s, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(ntohl(name.sin_addr.s_addr), IP_B);
	assert_int_equal(ntohs(name.sin_port), 7000);
	nl = sizeof(name);
	assert_int_equal(skiff_getpeername(s, (struct sockaddr *)&name, &nl), 0);
	assert_int_equal(name.sin_port, peer.sin_port);

	assert_int_equal(skiff_send(c, "hello", 5, 0), 5);
	assert_int_equal(skiff_recv(s, buf, sizeof(buf), 0), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(skiff_send(s, "world!", 6, 0), 6);
	assert_int_equal(skiff_recv(c, buf, sizeof(buf), 0), 6);
	assert_memory_equal(buf, "world!", 6);
	/* accept's peer address follows move_addr_to_user: a short buffer gets a prefix, the full length back */
	{
		int c2 = tcp_on(W.ia, 0), s2;
		struct sockaddr_in p2;
		socklen_t l2 = 4;
		memset(&p2, 0xee, sizeof(p2));
		connect_to(c2, 7000);
		s2 = skiff_accept(l, (struct sockaddr *)&p2, &l2);
		assert_true(s2 >= 0);
		assert_int_equal(l2, sizeof(struct sockaddr_in));
		assert_int_equal(p2.sin_family, AF_INET);
		assert_int_equal(p2.sin_addr.s_addr, 0xeeeeeeeeu); /* not copied */
		skiff_close(s2);
		skiff_close(c2);
	}
	assert_int_equal(skiff_close(c), 0);
	assert_int_equal(skiff_close(s), 0);
	assert_int_equal(skiff_close(l), 0);
}

/* Non-blocking connect: EINPROGRESS, EALREADY, POLLOUT, SO_ERROR 0, then 0 and EISCONN. */
static void test_connect_nonblocking(void **state)
{
	int l = listener(7010), c = tcp_on(W.ia, SOCK_NONBLOCK), s;
	struct sockaddr_in b = sin4(IP_B, 7010);
	short r;
	(void)state;

	assert_int_equal(fcntl(l, F_SETFL, O_NONBLOCK), 0); /* the kernel fd only: skiff keeps its own flag */
	assert_int_equal(skiff_fcntl(l, F_SETFL, O_NONBLOCK), 0);
	assert_err(skiff_accept(l, NULL, NULL), EAGAIN);
	assert_int_equal(poll1(l, POLLIN, 0), 0);
	assert_err(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), EINPROGRESS);
	assert_err(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), EALREADY);
	r = poll_until(c, POLLOUT, POLLOUT);
	assert_int_equal(r, POLLOUT);
	assert_int_equal(so_int(c, SOL_SOCKET, SO_ERROR), 0);
	assert_int_equal(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), 0); /* Linux: completes the connect */
	assert_err(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), EISCONN);
	assert_int_equal(poll_until(l, POLLIN, POLLIN), POLLIN);
	s = skiff_accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(skiff_send(c, "x", 1, 0), 1);
	assert_int_equal(poll_until(s, POLLIN, POLLIN), POLLIN);
	skiff_close(s);
	skiff_close(c);
	skiff_close(l);
}

static void test_connect_refused(void **state)
{
	int c = tcp_on(W.ia, 0), n = tcp_on(W.ia, SOCK_NONBLOCK);
	struct sockaddr_in b = sin4(IP_B, 7021);
	short r;
	(void)state;

	assert_err(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), ECONNREFUSED);
	assert_int_equal(so_int(c, SOL_SOCKET, SO_ERROR), 0); /* taken by connect */
	assert_err(skiff_connect(c, (struct sockaddr *)&b, sizeof(b)), ECONNREFUSED); /* a new attempt */

	assert_err(skiff_connect(n, (struct sockaddr *)&b, sizeof(b)), EINPROGRESS);
	r = poll_until(n, ALL_EV, POLLERR);
	/* Linux tcp_poll after tcp_done: everything shut down, the error pending */
	assert_int_equal(r, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLHUP | POLLERR);
	assert_int_equal(so_int(n, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
	assert_int_equal(so_int(n, SOL_SOCKET, SO_ERROR), 0);
	skiff_close(c);
	skiff_close(n);
}

/* ---- data ---- */

#define MIB (1u << 20)

static uint8_t pattern(size_t i, uint8_t seed) { return (uint8_t)((i * 131u + (i >> 9) + seed) & 0xff); }

struct echo_job {
	int fd, ok;
	size_t total, chunk;
};

static void *echo_server(void *arg)
{
	struct echo_job *j = arg;
	uint8_t *buf = malloc(j->chunk);
	size_t got = 0;
	while (buf && got < j->total) {
		ssize_t n = skiff_recv(j->fd, buf, j->chunk, 0);
		if (n <= 0)
			break;
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != pattern(got + (size_t)k, 7))
				goto out;
		if (skiff_send(j->fd, buf, (size_t)n, 0) != n)
			break;
		got += (size_t)n;
	}
	j->ok = got == j->total;
out:
	free(buf);
	return NULL;
}

/* 1 MiB client → server, echoed back, byte-exact; one thread per side, blocking calls. */
static void test_echo_1mib_threads(void **state)
{
	int c, s;
	struct echo_job j;
	pthread_t th;
	uint8_t *out = malloc(MIB), *in = malloc(MIB);
	const size_t chunk = 16384;
	(void)state;

	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < MIB; i++)
		out[i] = pattern(i, 7);
	pair(7030, &c, &s);
	j = (struct echo_job){ .fd = s, .total = MIB, .chunk = 65536 };
	assert_int_equal(pthread_create(&th, NULL, echo_server, &j), 0);
	for (size_t off = 0; off < MIB; off += chunk) {
		assert_int_equal(skiff_send(c, out + off, chunk, 0), (ssize_t)chunk);
		assert_int_equal(skiff_recv(c, in + off, chunk, MSG_WAITALL), (ssize_t)chunk);
	}
	pthread_join(th, NULL);
	assert_int_equal(j.ok, 1);
	assert_memory_equal(in, out, MIB);
	skiff_close(c);
	skiff_close(s);
	free(out);
	free(in);
}

struct bulk_job {
	int fd;
	const uint8_t *buf;
	size_t len;
	ssize_t ret;
};

static void *bulk_sender(void *arg)
{
	struct bulk_job *j = arg;
	j->ret = skiff_send(j->fd, j->buf, j->len, 0); /* one call: waits for room until all is queued */
	return NULL;
}

/* 1 MiB each way at once: a sender thread per side, the main thread reads both. */
static void test_bulk_both_ways(void **state)
{
	int c, s;
	uint8_t *a = malloc(MIB), *b = malloc(MIB), *ra = malloc(MIB), *rb = malloc(MIB);
	struct bulk_job ja, jb;
	pthread_t ta, tb;
	size_t ga = 0, gb = 0;
	(void)state;

	for (size_t i = 0; i < MIB; i++) {
		a[i] = pattern(i, 1);
		b[i] = pattern(i, 2);
	}
	pair(7035, &c, &s);
	ja = (struct bulk_job){ .fd = c, .buf = a, .len = MIB };
	jb = (struct bulk_job){ .fd = s, .buf = b, .len = MIB };
	assert_int_equal(pthread_create(&ta, NULL, bulk_sender, &ja), 0);
	assert_int_equal(pthread_create(&tb, NULL, bulk_sender, &jb), 0);
	while (ga < MIB || gb < MIB) {
		struct pollfd p[2] = { { .fd = s, .events = POLLIN }, { .fd = c, .events = POLLIN } };
		assert_true(skiff_poll(p, 2, 5000) > 0);
		if (p[0].revents & POLLIN) {
			ssize_t n = skiff_recv(s, ra + ga, MIB - ga, MSG_DONTWAIT);
			assert_true(n > 0);
			ga += (size_t)n;
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = skiff_recv(c, rb + gb, MIB - gb, MSG_DONTWAIT);
			assert_true(n > 0);
			gb += (size_t)n;
		}
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(ja.ret, (ssize_t)MIB);
	assert_int_equal(jb.ret, (ssize_t)MIB);
	assert_memory_equal(ra, a, MIB);
	assert_memory_equal(rb, b, MIB);
	skiff_close(c);
	skiff_close(s);
	free(a);
	free(b);
	free(ra);
	free(rb);
}

struct late_send {
	int fd;
	const char *data;
	unsigned delay_us;
};

static void *late_sender(void *arg)
{
	struct late_send *j = arg;
	usleep(j->delay_us);
	skiff_send(j->fd, j->data, strlen(j->data), 0);
	return NULL;
}

static void test_peek_waitall_dontwait(void **state)
{
	int c, s, avail = -1;
	char buf[32];
	struct late_send ls;
	pthread_t th;
	(void)state;

	pair(7040, &c, &s);
	assert_err(skiff_recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	assert_int_equal(skiff_send(c, "abcdef", 6, 0), 6);
	assert_int_equal(poll_until(s, POLLIN, POLLIN), POLLIN);
	assert_int_equal(skiff_ioctl(s, FIONREAD, &avail), 0);
	assert_int_equal(avail, 6);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(skiff_recv(s, buf, sizeof(buf), MSG_PEEK), 6);
	assert_memory_equal(buf, "abcdef", 6);
	assert_int_equal(skiff_recv(s, buf, 2, MSG_PEEK), 2);
	assert_int_equal(skiff_recv(s, buf, 3, 0), 3);
	assert_memory_equal(buf, "abc", 3);
	/* WAITALL: "def" now, the rest from another thread later */
	ls = (struct late_send){ .fd = c, .data = "1234567", .delay_us = 50000 };
	assert_int_equal(pthread_create(&th, NULL, late_sender, &ls), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(skiff_recv(s, buf, 10, MSG_WAITALL), 10);
	assert_memory_equal(buf, "def1234567", 10);
	pthread_join(th, NULL);
	assert_err(skiff_recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* recvfrom names no sender on TCP: the length comes back 0 */
	{
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		assert_int_equal(skiff_send(c, "z", 1, 0), 1);
		assert_int_equal(skiff_recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 1);
		assert_int_equal(fl, 0);
	}
	skiff_close(c);
	skiff_close(s);
}

static volatile sig_atomic_t g_sigpipe;
static void on_sigpipe(int sig)
{
	(void)sig;
	g_sigpipe++;
}

/* shutdown(SHUT_WR): the peer reads EOF and can still send back; EPIPE (+ SIGPIPE). */
static void test_half_close_epipe(void **state)
{
	int c, s;
	char buf[16];
	struct sigaction sa, old;
	(void)state;

	pair(7050, &c, &s);
	assert_int_equal(skiff_send(c, "last", 4, 0), 4);
	assert_int_equal(skiff_shutdown(c, SHUT_WR), 0);
	assert_int_equal(skiff_recv(s, buf, sizeof(buf), MSG_WAITALL), 4); /* data, then EOF ends WAITALL */
	assert_memory_equal(buf, "last", 4);
	assert_int_equal(skiff_recv(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(skiff_recv(s, buf, sizeof(buf), 0), 0);
	assert_int_equal(poll1(s, ALL_EV, 0), POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM);
	assert_int_equal(skiff_send(s, "back", 4, 0), 4);
	assert_int_equal(skiff_recv(c, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "back", 4);

	assert_err(skiff_send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGPIPE, &sa, &old), 0);
	g_sigpipe = 0;
	assert_err(skiff_send(c, "x", 1, 0), EPIPE);
	assert_int_equal(g_sigpipe, 1);
	assert_err(skiff_send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	assert_int_equal(g_sigpipe, 1);
	sigaction(SIGPIPE, &old, NULL);

	assert_int_equal(skiff_close(s), 0);
	assert_int_equal(skiff_recv(c, buf, sizeof(buf), 0), 0);
	assert_int_equal(poll_until(c, ALL_EV, POLLHUP) & (POLLHUP | POLLIN | POLLRDHUP), POLLHUP | POLLIN | POLLRDHUP);
	skiff_close(c);
}

/* Closing with unread data resets the connection (RFC 2525 2.17, as Linux). */
static void test_close_unread_reset(void **state)
{
	int c, s;
	char buf[16];
	short r;
	(void)state;

	pair(7060, &c, &s);
	assert_int_equal(skiff_send(c, "unread", 6, 0), 6);
	assert_int_equal(poll_until(s, POLLIN, POLLIN), POLLIN);
	assert_int_equal(skiff_close(s), 0);
	r = poll_until(c, ALL_EV, POLLERR);
	assert_int_equal(r, POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLHUP | POLLERR);
	assert_err(skiff_recv(c, buf, sizeof(buf), 0), ECONNRESET);
	assert_int_equal(skiff_recv(c, buf, sizeof(buf), 0), 0);
	assert_err(skiff_send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	assert_int_equal(poll1(c, ALL_EV, 0), POLLIN | POLLRDNORM | POLLRDHUP | POLLOUT | POLLWRNORM | POLLHUP);
	skiff_close(c);

	/* the first send after a reset reports it */
	pair(7061, &c, &s);
	assert_int_equal(skiff_send(c, "unread", 6, 0), 6);
	assert_int_equal(poll_until(s, POLLIN, POLLIN), POLLIN);
	assert_int_equal(skiff_close(s), 0);
	assert_int_equal(poll_until(c, POLLIN, POLLERR) & POLLERR, POLLERR);
	assert_err(skiff_send(c, "x", 1, MSG_NOSIGNAL), ECONNRESET);
	assert_err(skiff_send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	skiff_close(c);
}

/* SO_LINGER with a time (Linux): close blocks until the data and the FIN are
 * acknowledged, or the time is up; then the connection carries on by itself. */
static void test_linger_timeout(void **state)
{
	static char big[1 << 20];
	struct linger lg = { 1, 1 };
	int c, s, fl;
	long sent = 0, got = 0, r;
	uint64_t t0, waited;
	char buf[65536];
	(void)state;

	/* acknowledged at once (the peer's stack takes it, unread): close is quick */
	pair(7065, &c, &s);
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(skiff_send(s, big, 20000, 0), 20000);
	t0 = mono_ns();
	assert_int_equal(skiff_close(s), 0);
	assert_true(mono_ns() - t0 < 900000000ull);
	for (r = 1; r > 0; got += r)
		r = skiff_recv(c, buf, sizeof(buf), 0);
	assert_int_equal(r, 0);
	assert_int_equal(got, 20000);
	skiff_close(c);

	/* the peer stops reading: its window closes, close waits the full second
	 * (even non-blocking, as Linux), returns 0, and the data still arrives */
	pair(7066, &c, &s);
	fl = skiff_fcntl(s, F_GETFL);
	assert_int_equal(skiff_fcntl(s, F_SETFL, fl | O_NONBLOCK), 0);
	while ((r = skiff_send(s, big + sent, sizeof(big) - (size_t)sent, 0)) > 0)
		sent += r;
	assert_int_equal(r, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	t0 = mono_ns();
	assert_int_equal(skiff_close(s), 0);
	waited = mono_ns() - t0;
	assert_true(waited >= 950000000ull);
	assert_true(waited < 10000000000ull);
	got = 0;
	for (r = 1; r > 0; got += r) {
		assert_int_equal(poll_until(c, POLLIN, POLLIN) & POLLIN, POLLIN);
		r = skiff_recv(c, buf, sizeof(buf), 0);
	}
	assert_int_equal(r, 0);
	assert_int_equal(got, sent);
	skiff_close(c);
}

/* The progress thread: while the program makes no skiff call, the stacks keep
 * going — ACKs come back, the window opens, the rest of the data goes. Without
 * it, only the first flight would have left before the reader's one pass. */
static void test_progress_thread(void **state)
{
	static char big[150000];
	int c, s, fl, n = 0, rb = 200000; /* a window the data fits in: nobody reads */
	long r, sent = 0;
	(void)state;

	pair(7067, &c, &s);
	assert_int_equal(skiff_setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb)), 0);
	fl = skiff_fcntl(c, F_GETFL);
	assert_int_equal(skiff_fcntl(c, F_SETFL, fl | O_NONBLOCK), 0);
	/* without the thread: what one send call pushes out is all that moves */
	while ((r = skiff_send(c, big + sent, sizeof(big) - (size_t)sent, 0)) > 0)
		sent += r;
	assert_int_equal(sent, (long)sizeof(big)); /* the send ring holds it all */
	usleep(100000);
	assert_int_equal(skiff_ioctl(s, FIONREAD, &n), 0);
	assert_true(n < (int)sizeof(big));
	/* with it: everything arrives while this thread sleeps */
	assert_int_equal(skiff_rt_progress_thread(W.rt, 1), 0);
	assert_int_equal(skiff_rt_progress_thread(W.rt, 1), 0); /* already running: fine */
	usleep(300000);
	assert_int_equal(skiff_rt_progress_thread(W.rt, 0), 0);
	assert_int_equal(skiff_ioctl(s, FIONREAD, &n), 0);
	assert_int_equal(n, (int)sizeof(big));
	assert_int_equal(skiff_rt_progress_thread(W.rt, 0), 0); /* stopped: fine */
	skiff_close(c);
	skiff_close(s);
}

static void test_poll_bits(void **state)
{
	int l = listener(7070), f = tcp_on(W.ia, 0), c, s;
	(void)state;

	/* Linux: a fresh socket is CLOSE — POLLOUT and POLLHUP */
	assert_int_equal(poll1(f, ALL_EV, 0), POLLOUT | POLLWRNORM | POLLHUP);
	assert_int_equal(poll1(l, ALL_EV, 0), 0);
	c = tcp_on(W.ia, 0);
	connect_to(c, 7070);
	assert_int_equal(poll_until(l, ALL_EV, POLLIN), POLLIN | POLLRDNORM);
	s = skiff_accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(poll1(l, ALL_EV, 0), 0);
	assert_int_equal(poll1(c, ALL_EV, 0), POLLOUT | POLLWRNORM);
	assert_int_equal(poll1(s, ALL_EV, 0), POLLOUT | POLLWRNORM);
	assert_int_equal(poll1(c, POLLIN, 20), 0);
	assert_int_equal(skiff_send(s, "d", 1, 0), 1);
	assert_int_equal(poll_until(c, ALL_EV, POLLIN), POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	/* SHUT_RDWR locally: POLLHUP once both directions are shut */
	assert_int_equal(skiff_shutdown(c, SHUT_RD), 0);
	assert_int_equal(poll1(c, ALL_EV, 0) & (POLLRDHUP | POLLHUP), POLLRDHUP);
	assert_int_equal(skiff_shutdown(c, SHUT_WR), 0);
	assert_int_equal(poll1(c, ALL_EV, 0) & (POLLRDHUP | POLLHUP | POLLOUT), POLLRDHUP | POLLHUP | POLLOUT);
	assert_int_equal(poll_until(s, ALL_EV, POLLRDHUP) & (POLLIN | POLLRDHUP | POLLHUP), POLLIN | POLLRDHUP);
	skiff_close(c);
	skiff_close(s);
	skiff_close(f);
	skiff_close(l);
}

static void test_accept4_flags(void **state)
{
	int l = listener(7080), c1 = tcp_on(W.ia, 0), c2 = tcp_on(W.ia, 0), n, p, x = tcp_on(W.ib, 0);
	(void)state;

	assert_err(skiff_accept4(l, NULL, NULL, 0x4), EINVAL);
	assert_err(skiff_accept(x, NULL, NULL), EINVAL); /* not listening */
	connect_to(c1, 7080);
	connect_to(c2, 7080);
	n = skiff_accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(n >= 0);
	assert_true(skiff_fcntl(n, F_GETFL) & O_NONBLOCK);
	assert_int_equal(skiff_fcntl(n, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_true(fcntl(n, F_GETFL) & O_NONBLOCK); /* the kernel fd carries them too */
	{
		char b[4];
		assert_err(skiff_recv(n, b, sizeof(b), 0), EAGAIN);
	}
	p = skiff_accept(l, NULL, NULL);
	assert_true(p >= 0);
	assert_false(skiff_fcntl(p, F_GETFL) & O_NONBLOCK);
	assert_int_equal(skiff_fcntl(p, F_GETFD) & FD_CLOEXEC, 0);
	skiff_close(n);
	skiff_close(p);
	skiff_close(c1);
	skiff_close(c2);
	skiff_close(x);
	skiff_close(l);
}

static void test_timeouts(void **state)
{
	int c, s, l = listener(7091);
	char buf[8];
	uint64_t t0;
	(void)state;

	pair(7090, &c, &s);
	set_timeo_ms(s, SO_RCVTIMEO, 100);
	t0 = mono_ns();
	assert_err(skiff_recv(s, buf, sizeof(buf), 0), EAGAIN);
	assert_true(mono_ns() - t0 >= 90000000ull);
	assert_true(mono_ns() - t0 < 3000000000ull);
	set_timeo_ms(l, SO_RCVTIMEO, 100);
	t0 = mono_ns();
	assert_err(skiff_accept(l, NULL, NULL), EAGAIN);
	assert_true(mono_ns() - t0 >= 90000000ull);
	skiff_close(c);
	skiff_close(s);
	skiff_close(l);
}

static void test_errnos(void **state)
{
	int a = tcp_on(W.ib, 0), b = tcp_on(W.ib, 0), c, s;
	struct sockaddr_in x = sin4(IP_B, 7100), nl = sin4(IP_A, 7100);
	char buf[4];
	(void)state;

	assert_err(skiff_recv(a, buf, sizeof(buf), 0), ENOTCONN);
	assert_err(skiff_send(a, "x", 1, MSG_NOSIGNAL), EPIPE); /* Linux sk_stream_wait_connect */
	assert_err(skiff_shutdown(a, SHUT_WR), ENOTCONN);
	assert_err(skiff_shutdown(a, 7), EINVAL);
	assert_err(skiff_bind(b, (struct sockaddr *)&nl, sizeof(nl)), EADDRNOTAVAIL);
	assert_err(skiff_bind(b, (struct sockaddr *)&x, sizeof(x) - 1), EINVAL);
	assert_int_equal(skiff_bind(b, (struct sockaddr *)&x, sizeof(x)), 0);
	assert_err(skiff_bind(b, (struct sockaddr *)&x, sizeof(x)), EINVAL); /* already bound */
	c = tcp_on(W.ib, 0);
	assert_err(skiff_bind(c, (struct sockaddr *)&x, sizeof(x)), EADDRINUSE);
	skiff_close(c);
	assert_int_equal(skiff_listen(b, 4), 0);
	assert_err(skiff_recv(b, buf, sizeof(buf), 0), ENOTCONN);
	assert_int_equal(skiff_listen(b, 8), 0); /* again: only the backlog changes */
	assert_err(skiff_connect(b, (struct sockaddr *)&x, sizeof(x)), EISCONN);
	c = tcp_on(W.ia, 0);
	connect_to(c, 7100);
	s = skiff_accept(b, NULL, NULL);
	assert_true(s >= 0);
	assert_err(skiff_listen(c, 4), EINVAL); /* connected */
	assert_err(skiff_listen(s, 4), EINVAL);
	skiff_close(s);
	skiff_close(c);
	skiff_close(a);
	skiff_close(b);
	/* kernel's answer for protocols TCP does not serve */
	assert_err(skiff_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
}

/* ---- options ---- */

static void test_sockopts(void **state)
{
	int c, s, f = tcp_on(W.ia, 0), l = listener(7111), v;
	struct tcp_info ti;
	socklen_t len;
	char name[32];
	(void)state;

	assert_int_equal(so_int(f, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_DOMAIN), AF_INET);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_ACCEPTCONN), 0);
	assert_int_equal(so_int(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
	v = 1;
	assert_int_equal(skiff_setsockopt(f, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_REUSEADDR), 1);
	assert_int_equal(skiff_setsockopt(f, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_KEEPALIVE), 1);
	{
		struct linger lg = { 1, 5 }, g;
		socklen_t gl = sizeof(g);
		assert_int_equal(skiff_setsockopt(f, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
		assert_int_equal(skiff_getsockopt(f, SOL_SOCKET, SO_LINGER, &g, &gl), 0);
		assert_int_equal(gl, sizeof(g));
		assert_int_equal(g.l_onoff, 1);
		assert_int_equal(g.l_linger, 5);
		assert_err(skiff_setsockopt(f, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg) - 1), EINVAL);
	}
	v = 65536;
	assert_int_equal(skiff_setsockopt(f, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, SOL_SOCKET, SO_RCVBUF), 131072); /* doubled, as Linux */

	v = 1;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_CORK), 1);
	v = 0;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)), 0);
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL);
	v = 32768;
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL);
	v = 30;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_KEEPIDLE), 30);
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPINTVL, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_KEEPINTVL), 30);
	v = 128;
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), EINVAL);
	v = 5;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_KEEPCNT), 5);
	v = -1;
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)), EINVAL);
	v = 2500;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_USER_TIMEOUT), 2500);
	v = 1;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_QUICKACK, &v, sizeof(v)), 0);
	assert_int_equal(so_int(f, IPPROTO_TCP, TCP_QUICKACK), 1);
	v = 1000;
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), 0);
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, TCP_CONGESTION, "nosuch", 6), ENOENT);
	assert_int_equal(skiff_setsockopt(f, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	len = sizeof(name);
	memset(name, 'x', sizeof(name));
	assert_int_equal(skiff_getsockopt(f, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_int_equal(len, 16);
	assert_string_equal(name, "reno");
	assert_err(skiff_setsockopt(f, IPPROTO_TCP, 9999, &v, sizeof(v)), ENOPROTOOPT);
	len = sizeof(ti);
	assert_int_equal(skiff_getsockopt(f, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.tcpi_state, TCP_CLOSE);

	assert_int_equal(so_int(l, IPPROTO_TCP, TCP_INFO) & 0xff, TCP_LISTEN); /* copies min(len, size) */
	pair(7110, &c, &s);
	memset(&ti, 0xff, sizeof(ti));
	len = sizeof(ti);
	assert_int_equal(skiff_getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	assert_int_equal(len, sizeof(ti));
	assert_int_equal(ti.tcpi_state, TCP_ESTABLISHED);
	assert_true(ti.tcpi_snd_mss > 0 && ti.tcpi_snd_mss <= 1460);
	assert_true(ti.tcpi_rto >= 200000);
	assert_true(ti.tcpi_snd_cwnd >= 1);
	assert_int_equal(ti.tcpi_total_retrans, 0);
	assert_true(ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	v = so_int(c, IPPROTO_TCP, TCP_MAXSEG);
	assert_true(v > 0 && v <= 1460);
	assert_int_equal(so_int(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
	v = 1;
	assert_err(skiff_setsockopt(c, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), EINVAL);
	skiff_close(c);
	skiff_close(s);
	skiff_close(f);
	skiff_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_accept_blocking),
		cmocka_unit_test(test_connect_nonblocking),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_echo_1mib_threads),
		cmocka_unit_test(test_bulk_both_ways),
		cmocka_unit_test(test_peek_waitall_dontwait),
		cmocka_unit_test(test_half_close_epipe),
		cmocka_unit_test(test_close_unread_reset),
		cmocka_unit_test(test_linger_timeout),
		cmocka_unit_test(test_progress_thread),
		cmocka_unit_test(test_poll_bits),
		cmocka_unit_test(test_accept4_flags),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test(test_errnos),
		cmocka_unit_test(test_sockopts),
	};
	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
