/* tcp_load.c — a TCP load client on kernel sockets for veth_tcp_bench.sh: bulk
 * echo throughput over one connection, or the rate of short connections, against
 * any TCP echo service (skiff-echo --tcp on skiff or on the kernel).
 *
 *   tcp_load bulk IP PORT SECONDS [BYTES_PER_WRITE]
 *   tcp_load connrate IP PORT SECONDS CONCURRENCY [TIMEOUT_MS]
 *
 * bulk: connect (bounded by CONNECT_MS) → non-blocking; poll for POLLIN|POLLOUT;
 *   POLLOUT sends the next BYTES_PER_WRITE (default 65536) of a position-defined
 *   pattern (a table with a prime period, so a write is a pointer into it, not a
 *   generation loop), POLLIN reads the echo and compares it with memcmp → at
 *   SECONDS the rate is taken (bytes echoed back and checked / elapsed: each such
 *   byte crossed both ways) → shutdown(SHUT_WR) → read the rest to EOF (bounded
 *   by DRAIN_MS), which must bring back exactly what was sent. The longest gap
 *   between two echoed reads is reported (a stall shows even when the rate looks
 *   fine).
 * connrate: CONCURRENCY slots, one connection each, one epoll → a slot:
 *   socket (non-blocking) → connect (EINPROGRESS) → EPOLLOUT: SO_ERROR → send
 *   64 B (serial number + pattern) → EPOLLIN: read the 64 B echo, compare →
 *   close (the client closes first: TIME-WAIT is on this side) → the slot starts
 *   its next connection at once, until SECONDS; then the connections in flight
 *   finish (or time out). A connection that does not complete within TIMEOUT_MS
 *   (default 2000) of its connect, is refused, reset, closed early, echoes wrong
 *   bytes or cannot get a local port is a failure, counted by kind and never
 *   retried (the slot moves on to a new connection; an immediate failure waits
 *   1 ms first so it cannot spin). Per-connection time: connect start → echo
 *   complete, p50/p99/max over the connections that succeeded.
 *
 * Output: one line on stdout,
 *   bulk mbyte_s=R echoed=N sent=N bad=N max_gap_ms=G eof=0|1 result=ok|FAILED
 *   connrate cps=R p50_us=A p99_us=B max_us=C ok=N fail=N refused=N reset=N timeout=N bad=N noaddr=N other=N
 * (MB = 10^6 bytes; cps = successful connections / time from the first connect
 * to the last connection's end). Details of the first failures go to stderr.
 * Exit: 0 ok, 1 a failure (wrong bytes, stall, any failed connection), 2 usage
 * or set-up failure.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 1000003u        /* pattern period: a prime, so no segment-sized shift aliases */
#define MAX_WRITE (1u << 20)
#define READ_BUF (256u * 1024u)
#define CONNECT_MS 5000
#define DRAIN_MS 10000
#define MSG 64
#define MAX_CONC 1024
#define MAX_REPORTS 10

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_u(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return (errno || end == s || *end || *v < lo || *v > hi) ? -1 : 0;
}

static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ns();
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

/* ---- bulk ---- */

/* Blocking-style connect, bounded: a non-blocking connect, poll, SO_ERROR. */
static int connect_bounded(const struct sockaddr_in *to, int ms)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t el = sizeof(err);
	struct pollfd p;

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0)
		return fd;
	if (errno != EINPROGRESS)
		goto fail;
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, ms) != 1) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		goto fail;
	if (err) {
		errno = err;
		goto fail;
	}
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int bulk(const struct sockaddr_in *to, unsigned seconds, size_t wsize)
{
	uint8_t *pat = malloc(PERIOD + MAX_WRITE), *in = malloc(READ_BUF);
	uint64_t sent = 0, got = 0, bad = 0, t0, t_end, t_rate = 0, got_rate = 0, last_rx, max_gap = 0, drain_end = 0;
	int fd, eof = 0, failed = 0, shut = 0;
	const char *why = NULL;

	if (!pat || !in) {
		fprintf(stderr, "tcp_load: out of memory\n");
		return 2;
	}
	for (uint32_t i = 0; i < PERIOD + MAX_WRITE; i++) {
		uint32_t k = i % PERIOD;
		pat[i] = (uint8_t)((k * 2654435761u) >> 13) ^ (uint8_t)(k >> 9);
	}
	fd = connect_bounded(to, CONNECT_MS);
	if (fd < 0) {
		fprintf(stderr, "tcp_load: bulk: connect %s:%u: %s\n", inet_ntoa(to->sin_addr), ntohs(to->sin_port),
			strerror(errno));
		printf("bulk mbyte_s=0 echoed=0 sent=0 bad=0 max_gap_ms=0 eof=0 result=FAILED\n");
		return 1;
	}
	t0 = last_rx = now_ns();
	t_end = t0 + (uint64_t)seconds * 1000000000ull;
	for (;;) {
		uint64_t now = now_ns();
		struct pollfd p = { fd, POLLIN, 0 };
		int n;

		if (!shut && now >= t_end) {
			/* the measurement ends here; the rest only proves the stream is whole */
			t_rate = now;
			got_rate = got;
			shutdown(fd, SHUT_WR);
			shut = 1;
			drain_end = now + (uint64_t)DRAIN_MS * 1000000ull;
		}
		if (shut && now >= drain_end) {
			why = "no EOF within the drain time";
			failed = 1;
			break;
		}
		if (!shut)
			p.events |= POLLOUT;
		n = poll(&p, 1, ms_left(shut ? drain_end : t_end));
		if (n < 0 && errno != EINTR) {
			why = strerror(errno);
			failed = 1;
			break;
		}
		if (n <= 0)
			continue;
		if (!shut && (p.revents & POLLOUT)) {
			ssize_t w = send(fd, pat + sent % PERIOD, wsize, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0) {
				sent += (uint64_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				why = strerror(errno);
				failed = 1;
				break;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = recv(fd, in, READ_BUF, MSG_DONTWAIT);
			if (r > 0) {
				uint64_t at = now_ns();
				if (at - last_rx > max_gap)
					max_gap = at - last_rx;
				last_rx = at;
				/* the echo of bytes [got, got + r): compare in runs that stay inside the table */
				for (size_t off = 0; off < (size_t)r;) {
					size_t k = (size_t)((got + off) % PERIOD), run = (size_t)r - off;
					if (run > MAX_WRITE)
						run = MAX_WRITE;
					if (memcmp(in + off, pat + k, run)) {
						for (size_t i = 0; i < run; i++)
							bad += in[off + i] != pat[k + i];
					}
					off += run;
				}
				got += (uint64_t)r;
				if (got > sent) {
					why = "more bytes echoed than sent";
					failed = 1;
					break;
				}
			} else if (r == 0) {
				eof = 1;
				if (!shut)
					why = "the service closed the connection during the run";
				break;
			} else if (errno != EAGAIN && errno != EINTR) {
				why = strerror(errno);
				failed = 1;
				break;
			}
		}
	}
	close(fd);
	if (!t_rate) {
		t_rate = now_ns();
		got_rate = got;
	}
	if (!eof || got != sent || bad || why)
		failed = 1;
	if (failed)
		fprintf(stderr, "tcp_load: bulk: %s (sent %llu, echoed %llu, %llu wrong byte(s))\n",
			why ? why : (got != sent ? "echo short of what was sent" : "wrong bytes"),
			(unsigned long long)sent, (unsigned long long)got, (unsigned long long)bad);
	printf("bulk mbyte_s=%.1f echoed=%llu sent=%llu bad=%llu max_gap_ms=%.1f eof=%d result=%s\n",
	       (double)got_rate / ((double)(t_rate - t0) / 1e9) / 1e6, (unsigned long long)got,
	       (unsigned long long)sent, (unsigned long long)bad, (double)max_gap / 1e6, eof, failed ? "FAILED" : "ok");
	free(pat);
	free(in);
	return failed;
}

/* ---- connrate ---- */

enum slot_state { IDLE, CONNECTING, ECHOING };
enum fail_kind { F_REFUSED, F_RESET, F_TIMEOUT, F_BAD, F_NOADDR, F_OTHER, F_NKINDS };
static const char *const fail_names[F_NKINDS] = { "refused", "reset", "timeout", "bad", "noaddr", "other" };

struct slot {
	int fd;
	enum slot_state state;
	uint32_t gen;                 /* tells a stale epoll event from this connection's */
	uint64_t serial, t0, next_start;
	size_t got;
	uint8_t out[MSG], in[MSG];
};

struct rate {
	int ep;
	const struct sockaddr_in *to;
	uint64_t serial, ok, fail[F_NKINDS], reported;
	uint64_t *lat;                /* ns per successful connection */
	size_t nlat, cap;
};

static enum fail_kind kind_of(int err)
{
	switch (err) {
	case ECONNREFUSED: return F_REFUSED;
	case ECONNRESET:
	case EPIPE: return F_RESET;
	case ETIMEDOUT: return F_TIMEOUT;
	case EADDRNOTAVAIL:
	case EADDRINUSE: return F_NOADDR;
	default: return F_OTHER;
	}
}

static void slot_close(struct slot *s)
{
	close(s->fd); /* also leaves the epoll set */
	s->fd = -1;
	s->state = IDLE;
}

static void slot_fail(struct rate *r, struct slot *s, enum fail_kind k, const char *what, int err)
{
	r->fail[k]++;
	if (r->reported++ < MAX_REPORTS)
		fprintf(stderr, "tcp_load: connection %llu: %s: %s%s%s after %.1f ms\n", (unsigned long long)s->serial,
			fail_names[k], what, err ? ": " : "", err ? strerror(err) : "",
			(double)(now_ns() - s->t0) / 1e6);
	if (s->fd >= 0)
		slot_close(s);
	s->state = IDLE;
	s->next_start = now_ns() + 1000000ull;
}

static void slot_start(struct rate *r, struct slot *s)
{
	s->serial = r->serial++;
	s->gen++;
	s->got = 0;
	for (unsigned i = 0; i < MSG; i++)
		s->out[i] = (uint8_t)(s->serial >> (8 * (i % 8))) ^ (uint8_t)(i * 37u);
	s->t0 = now_ns();
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		slot_fail(r, s, F_OTHER, "socket", errno);
		return;
	}
	if (connect(s->fd, (const struct sockaddr *)r->to, sizeof(*r->to)) < 0 && errno != EINPROGRESS) {
		slot_fail(r, s, kind_of(errno), "connect", errno);
		return;
	}
	s->state = CONNECTING;
}

static int slot_send(struct rate *r, struct slot *s)
{
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t w;

	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		slot_fail(r, s, kind_of(err), "connect", err);
		return -1;
	}
	w = send(s->fd, s->out, MSG, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w != MSG) {
		err = w < 0 ? errno : 0;
		slot_fail(r, s, w < 0 ? kind_of(err) : F_OTHER, w < 0 ? "send" : "send took part of 64 B", err);
		return -1;
	}
	s->state = ECHOING;
	return 0;
}

static void slot_read(struct rate *r, struct slot *s)
{
	ssize_t n = recv(s->fd, s->in + s->got, MSG - s->got, MSG_DONTWAIT);

	if (n == 0) {
		slot_fail(r, s, F_RESET, "the service closed before the whole echo", 0);
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			slot_fail(r, s, kind_of(errno), "recv", errno);
		return;
	}
	s->got += (size_t)n;
	if (s->got < MSG)
		return;
	if (memcmp(s->in, s->out, MSG)) {
		slot_fail(r, s, F_BAD, "the echo differs from what was sent", 0);
		return;
	}
	if (r->nlat == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 65536;
		uint64_t *p = realloc(r->lat, cap * sizeof(*p));
		if (!p) {
			fprintf(stderr, "tcp_load: out of memory\n");
			exit(2);
		}
		r->lat = p;
		r->cap = cap;
	}
	r->lat[r->nlat++] = now_ns() - s->t0;
	r->ok++;
	slot_close(s);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i;
	if (!n)
		return 0;
	i = (size_t)(p * (double)n + 0.999999);
	i = i ? i - 1 : 0;
	return (double)v[i < n ? i : n - 1] / 1e3;
}

static int connrate(const struct sockaddr_in *to, unsigned seconds, unsigned conc, unsigned timeout_ms)
{
	struct rate r;
	struct slot *slots = calloc(conc, sizeof(*slots));
	uint64_t t0, t_end, t_last, nfail = 0;
	unsigned busy;

	memset(&r, 0, sizeof(r));
	r.to = to;
	r.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!slots || r.ep < 0) {
		fprintf(stderr, "tcp_load: set-up: %s\n", strerror(errno));
		return 2;
	}
	for (unsigned i = 0; i < conc; i++)
		slots[i].fd = -1;
	t0 = now_ns();
	t_end = t0 + (uint64_t)seconds * 1000000000ull;
	for (;;) {
		struct epoll_event evs[MAX_CONC];
		uint64_t now = now_ns();
		int n;

		busy = 0;
		for (unsigned i = 0; i < conc; i++) {
			struct slot *s = &slots[i];
			if (s->state == IDLE && now < t_end && now >= s->next_start) {
				slot_start(&r, s);
				if (s->state == CONNECTING) {
					struct epoll_event ev = { .events = EPOLLOUT,
								  .data.u64 = ((uint64_t)s->gen << 32) | i };
					if (epoll_ctl(r.ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
						slot_fail(&r, s, F_OTHER, "epoll_ctl", errno);
				}
			}
			if (s->state != IDLE && now > s->t0 && now - s->t0 > (uint64_t)timeout_ms * 1000000ull)
				slot_fail(&r, s, F_TIMEOUT, s->state == CONNECTING ? "no connection" : "no echo", 0);
			busy += s->state != IDLE;
		}
		if (now >= t_end && !busy)
			break;
		n = epoll_wait(r.ep, evs, (int)conc, now >= t_end ? 10 : 1);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "tcp_load: epoll_wait: %s\n", strerror(errno));
			return 2;
		}
		for (int k = 0; k < n; k++) {
			unsigned i = (unsigned)(evs[k].data.u64 & 0xffffffffu);
			struct slot *s = &slots[i];
			if (s->state == IDLE || (uint32_t)(evs[k].data.u64 >> 32) != s->gen)
				continue;
			if (s->state == CONNECTING) {
				struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evs[k].data.u64 };
				if (slot_send(&r, s))
					continue;
				if (epoll_ctl(r.ep, EPOLL_CTL_MOD, s->fd, &ev) < 0)
					slot_fail(&r, s, F_OTHER, "epoll_ctl", errno);
				/* the echo may already be in; the next epoll_wait reports it either way */
			} else {
				slot_read(&r, s);
			}
		}
	}
	t_last = now_ns();
	for (int k = 0; k < F_NKINDS; k++)
		nfail += r.fail[k];
	qsort(r.lat, r.nlat, sizeof(*r.lat), cmp_u64);
	printf("connrate cps=%.0f p50_us=%.1f p99_us=%.1f max_us=%.1f ok=%llu fail=%llu",
	       (double)r.ok / ((double)(t_last - t0) / 1e9), pct_us(r.lat, r.nlat, 0.50), pct_us(r.lat, r.nlat, 0.99), r.nlat ? (double)r.lat[r.nlat - 1] / 1e3 : 0.0,
	       (unsigned long long)r.ok, (unsigned long long)nfail);
	for (int k = 0; k < F_NKINDS; k++)
		printf(" %s=%llu", fail_names[k], (unsigned long long)r.fail[k]);
	printf("\n");
	if (r.reported > MAX_REPORTS)
		fprintf(stderr, "tcp_load: ... %llu more failure(s) not shown\n",
			(unsigned long long)(r.reported - MAX_REPORTS));
	close(r.ep);
	free(r.lat);
	free(slots);
	return (nfail || !r.ok) ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tcp_load bulk IP PORT SECONDS [BYTES_PER_WRITE]\n"
			"       tcp_load connrate IP PORT SECONDS CONCURRENCY [TIMEOUT_MS]\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	unsigned long port, secs, a5 = 0, a6 = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 5 || inet_pton(AF_INET, argv[2], &to.sin_addr) != 1 || parse_u(argv[3], 1, 65535, &port) ||
	    parse_u(argv[4], 1, 86400, &secs)) {
		usage();
		return 2;
	}
	to.sin_port = htons((uint16_t)port);
	if (!strcmp(argv[1], "bulk") && argc <= 6) {
		if (argc == 6 && parse_u(argv[5], 1, MAX_WRITE, &a5)) {
			usage();
			return 2;
		}
		return bulk(&to, (unsigned)secs, a5 ? (size_t)a5 : 65536);
	}
	if (!strcmp(argv[1], "connrate") && (argc == 6 || argc == 7)) {
		if (parse_u(argv[5], 1, MAX_CONC, &a5) || (argc == 7 && parse_u(argv[6], 1, 600000, &a6))) {
			usage();
			return 2;
		}
		return connrate(&to, (unsigned)secs, (unsigned)a5, a6 ? (unsigned)a6 : 2000);
	}
	usage();
	return 2;
}
