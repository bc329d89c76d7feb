/* echo_tcp.c — skiff-echo's TCP service and client, written once over a table of
 * socket calls so the same code runs on skiff and on the kernel.
 *
 * Server: listen → poll over the listener and up to MAX_CONN connections
 * (non-blocking) → accept4 new ones; each readable connection: recv what is
 * there and send it back (what send does not take now waits in a per-connection
 * buffer, and reading stops until it drains) → a connection whose peer shut its
 * write side gets its own FIN once everything is echoed.
 * Client: connect (blocking) → (--idle-ms: poll for POLLIN only until the idle
 * time is over; anything that arrives then — an error such as a keepalive's
 * ETIMEDOUT, an EOF, data — ends the run, reported with its errno name) → poll
 * for POLLOUT to send the next piece of a position-defined pattern and POLLIN to
 * read the echo and compare it byte by byte → shutdown(SHUT_WR) after the last
 * byte → read to EOF.
 * Keepalive (eo->ka_idle > 0): SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
 * TCP_KEEPCNT on the listener (accepted sockets inherit them) or the client socket.
 */
#include "echo_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_CONN 64
#define BUF 65536

struct conn {
	int fd;
	size_t pend, off;      /* bytes waiting to be echoed: buf[off, pend) */
	int peer_done;         /* peer shut its write side */
	uint8_t buf[BUF];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t pat(uint64_t off) { return (uint8_t)((off * 2654435761u) >> 13) ^ (uint8_t)(off >> 9); }

/* SO_KEEPALIVE + TCP_KEEPIDLE/KEEPINTVL/KEEPCNT when asked; -1 (printed) if refused. */
static int set_keepalive(const struct tcpops *so, int fd, const struct echo_tcp_opts *eo)
{
	int one = 1;
	if (!eo || eo->ka_idle <= 0)
		return 0;
	if (so->setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0 ||
	    so->setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &eo->ka_idle, sizeof(eo->ka_idle)) < 0 ||
	    so->setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &eo->ka_intvl, sizeof(eo->ka_intvl)) < 0 ||
	    so->setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &eo->ka_cnt, sizeof(eo->ka_cnt)) < 0) {
		fprintf(stderr, "skiff-echo: tcp keepalive %d,%d,%d: %s\n", eo->ka_idle, eo->ka_intvl, eo->ka_cnt,
			strerror(errno));
		return -1;
	}
	printf("skiff-echo: tcp keepalive on: idle %d s, interval %d s, %d probes\n", eo->ka_idle, eo->ka_intvl,
	       eo->ka_cnt);
	return 0;
}

static void conn_close(const struct tcpops *so, struct conn **c)
{
	so->close((*c)->fd);
	free(*c);
	*c = NULL;
}

int echo_tcp_serve(const struct tcpops *so, uint32_t ip, uint16_t port, unsigned seconds,
		   const struct echo_tcp_opts *eo, volatile sig_atomic_t *stop)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct conn *conns[MAX_CONN] = { 0 };
	uint64_t end = seconds ? mono_ns() + (uint64_t)seconds * 1000000000ull : UINT64_MAX, bytes = 0;
	int one = 1, lfd = so->socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	unsigned accepted = 0;

	me.sin_addr.s_addr = htonl(ip);
	if (lfd < 0 || so->setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    so->bind(lfd, (struct sockaddr *)&me, sizeof(me)) < 0 || set_keepalive(so, lfd, eo) < 0 ||
	    so->listen(lfd, 128) < 0) {
		fprintf(stderr, "skiff-echo: tcp listen %s:%u: %s\n", inet_ntoa(me.sin_addr), port, strerror(errno));
		if (lfd >= 0)
			so->close(lfd);
		return -1;
	}
	printf("skiff-echo: ready, serving tcp %s:%u\n", inet_ntoa(me.sin_addr), port);
	fflush(stdout);
	while (!*stop && mono_ns() < end) {
		struct pollfd p[MAX_CONN + 1];
		int map[MAX_CONN + 1], np = 0;
		p[np].fd = lfd;
		p[np].events = POLLIN;
		map[np++] = -1;
		for (int i = 0; i < MAX_CONN; i++) {
			if (!conns[i])
				continue;
			p[np].fd = conns[i]->fd;
			p[np].events = conns[i]->pend > conns[i]->off ? POLLOUT : (conns[i]->peer_done ? 0 : POLLIN);
			map[np++] = i;
		}
		if (so->poll(p, (nfds_t)np, 200) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			for (int k = 0; k < 16; k++) {
				int fd = so->accept4(lfd, NULL, NULL, SOCK_NONBLOCK), slot = -1;
				if (fd < 0)
					break;
				for (int i = 0; i < MAX_CONN && slot < 0; i++)
					if (!conns[i])
						slot = i;
				if (slot < 0 || !(conns[slot] = calloc(1, sizeof(struct conn)))) {
					so->close(fd);
					continue;
				}
				conns[slot]->fd = fd;
				so->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				accepted++;
			}
		}
		for (int k = 1; k < np; k++) {
			struct conn *c = conns[map[k]];
			if (!c || !p[k].revents)
				continue;
			if (c->pend > c->off) {
				ssize_t w = so->send(c->fd, c->buf + c->off, c->pend - c->off, MSG_NOSIGNAL);
				if (w > 0)
					c->off += (size_t)w;
				else if (errno != EAGAIN) {
					conn_close(so, &conns[map[k]]);
					continue;
				}
				if (c->off == c->pend)
					c->off = c->pend = 0;
			} else if (!c->peer_done) {
				ssize_t r = so->recv(c->fd, c->buf, BUF, 0);
				if (r > 0) {
					c->pend = (size_t)r;
					c->off = 0;
					bytes += (uint64_t)r;
				} else if (r == 0) {
					c->peer_done = 1;
				} else if (errno != EAGAIN) {
					conn_close(so, &conns[map[k]]);
					continue;
				}
			}
			if (c->peer_done && c->pend == c->off) {
				so->shutdown(c->fd, SHUT_WR);
				conn_close(so, &conns[map[k]]);
			}
		}
	}
	for (int i = 0; i < MAX_CONN; i++)
		if (conns[i])
			conn_close(so, &conns[i]);
	so->close(lfd);
	printf("skiff-echo: tcp: %u connection(s), %llu bytes echoed\n", accepted, (unsigned long long)bytes);
	return 0;
}

/* Stay idle for ms, polling for POLLIN (the stack runs inside poll). 0 when the
 * time passed quietly; 1 when something arrived (printed: an error by errno name,
 * EOF, data). */
static int client_idle(const struct tcpops *so, int fd, unsigned ms, volatile sig_atomic_t *stop)
{
	uint64_t t0 = mono_ns(), end = t0 + (uint64_t)ms * 1000000ull, now;

	printf("skiff-echo: tcp client: idle %u ms\n", ms);
	fflush(stdout);
	while (!*stop && (now = mono_ns()) < end) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t left = (end - now + 999999u) / 1000000u;
		int n = so->poll(&p, 1, left > 200 ? 200 : (int)left), e;
		ssize_t r;
		char b;
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "skiff-echo: tcp poll: %s\n", strerror(errno));
			return 1;
		}
		if (n <= 0 || !p.revents)
			continue;
		r = so->recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
		e = errno;
		if (r < 0 && (e == EAGAIN || e == EINTR))
			continue;
		now = (mono_ns() - t0) / 1000000u;
		if (r < 0)
			printf("skiff-echo: tcp client: connection failed after %llu ms idle: %s (%s), revents 0x%x\n",
			       (unsigned long long)now, strerrorname_np(e) ? strerrorname_np(e) : "?", strerror(e),
			       (unsigned)p.revents);
		else
			printf("skiff-echo: tcp client: %s after %llu ms idle, revents 0x%x\n",
			       r ? "unexpected data" : "EOF from the peer", (unsigned long long)now, (unsigned)p.revents);
		return 1;
	}
	printf("skiff-echo: tcp client: idle over, connection alive\n");
	return 0;
}

int echo_tcp_client(const struct tcpops *so, uint32_t ip, uint32_t dst, uint16_t dport, uint64_t bytes,
		    const struct echo_tcp_opts *eo, volatile sig_atomic_t *stop)
{
	struct sockaddr_in me = { .sin_family = AF_INET }, peer = { .sin_family = AF_INET, .sin_port = htons(dport) };
	static uint8_t out[BUF], in[BUF];
	uint64_t sent = 0, got = 0, t0, t1, bad = 0, deadline;
	int fd = so->socket(AF_INET, SOCK_STREAM, 0), shut = 0, eof = 0;

	me.sin_addr.s_addr = htonl(ip);
	peer.sin_addr.s_addr = htonl(dst);
	if (fd < 0 || so->bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 || set_keepalive(so, fd, eo) < 0 ||
	    so->connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		fprintf(stderr, "skiff-echo: tcp connect %s:%u: %s\n", inet_ntoa(peer.sin_addr), dport, strerror(errno));
		if (fd >= 0)
			so->close(fd);
		return -1;
	}
	printf("skiff-echo: tcp client connected to %s:%u, %llu bytes\n", inet_ntoa(peer.sin_addr), dport,
	       (unsigned long long)bytes);
	fflush(stdout);
	if (eo && eo->idle_ms && client_idle(so, fd, eo->idle_ms, stop)) {
		so->close(fd);
		return 1;
	}
	t0 = mono_ns();
	deadline = t0 + 120ull * 1000000000ull;
	while (!*stop && !eof && mono_ns() < deadline) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (sent < bytes)
			p.events |= POLLOUT;
		if (so->poll(&p, 1, 1000) <= 0)
			continue;
		if ((p.revents & POLLOUT) && sent < bytes) {
			size_t n = bytes - sent < BUF ? (size_t)(bytes - sent) : BUF;
			for (size_t i = 0; i < n; i++)
				out[i] = pat(sent + i);
			ssize_t w = so->send(fd, out, n, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (w > 0)
				sent += (uint64_t)w;
			else if (errno != EAGAIN)
				break;
		}
		if (sent == bytes && !shut) {
			so->shutdown(fd, SHUT_WR);
			shut = 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = so->recv(fd, in, sizeof(in), MSG_DONTWAIT);
			if (r > 0) {
				for (ssize_t i = 0; i < r; i++)
					bad += in[i] != pat(got + (uint64_t)i);
				got += (uint64_t)r;
			} else if (r == 0) {
				eof = 1;
			} else if (errno != EAGAIN) {
				fprintf(stderr, "skiff-echo: tcp recv: %s\n", strerror(errno));
				break;
			}
		}
	}
	t1 = mono_ns();
	so->close(fd);
	printf("skiff-echo: tcp client: sent %llu, echoed %llu, %llu wrong byte(s), %.1f MB/s each way: %s\n",
	       (unsigned long long)sent, (unsigned long long)got, (unsigned long long)bad,
	       (double)got / ((double)(t1 - t0) / 1e9) / 1e6, (got == bytes && !bad && eof) ? "ok" : "FAILED");
	return (got == bytes && !bad && eof) ? 0 : 1;
}
