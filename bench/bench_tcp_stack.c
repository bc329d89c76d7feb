/* bench_tcp_stack.c — C side of the TCP benchmarks (see bench_tcp_stack.h).
 *
 * Flow: create → stacks A (198.18.0.1) and B (198.18.0.2) over a loop pair, a
 * listener on B, A connects, both stacks are pumped until B accepts; run(bytes)
 * → A sends `bytes` through skiff_tcp_send, frames move A→B and B→A (ACKs)
 * until B has read them all with skiff_tcp_recv. The clock advances 1 µs per
 * pump round so delayed ACKs never wait on real time.
 */
#include "bench_tcp_stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "drivers/driver.h"

#define IP_A 0xc6120001u
#define IP_B 0xc6120002u
#define PORT 5201
#define T0_NS 1000000000ull

struct bench_tcp {
	struct skiff_dev *da, *db;
	struct skiff_stack *a, *b;
	int ia, ib;
	struct skiff_tcp_sock *cli, *lsn, *srv;
	uint64_t now, segs_before;
	uint8_t buf[1 << 16], rbuf[1 << 16];
};

static unsigned move(struct skiff_stack *s, int ifx, struct skiff_dev *d, uint64_t now)
{
	struct skiff_pkt *p[32];
	unsigned n, k, moved = 0;
	skiff_stack_poll(s, now);
	while ((n = skiff_stack_tx_drain(s, ifx, p, 32)) > 0) {
		k = skiff_dev_tx(d, p, n, now);
		if (k < n) {
			skiff_stack_tx_requeue(s, ifx, p + k, n - k);
			moved += k;
			break;
		}
		moved += k;
	}
	while ((n = skiff_dev_rx(d, p, 32, now)) > 0) {
		skiff_stack_input(s, ifx, p, n, now);
		moved += n;
	}
	return moved;
}

static unsigned pump(struct bench_tcp *b)
{
	unsigned m = move(b->a, b->ia, b->da, b->now) + move(b->b, b->ib, b->db, b->now);
	b->now += 1000;
	return m;
}

struct bench_tcp *bench_tcp_create(void)
{
	struct skiff_stack_config cfg;
	struct skiff_addr ab = skiff_addr_v4(IP_B);
	struct bench_tcp *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return NULL;
	b->now = T0_NS;
	skiff_stack_config_defaults(&cfg);
	cfg.tcp_rcvbuf = 1u << 20;
	cfg.tcp_sndbuf = 1u << 20;
	if (skiff_loop_pair(NULL, &b->da, &b->db) || skiff_stack_create(&cfg, b->now, &b->a) ||
	    skiff_stack_create(&cfg, b->now, &b->b))
		goto fail;
	b->ia = skiff_stack_add_iface(b->a, "loopA", b->da->mac, b->da->mtu, b->da->caps, skiff_dev_pool(b->da));
	b->ib = skiff_stack_add_iface(b->b, "loopB", b->db->mac, b->db->mtu, b->db->caps, skiff_dev_pool(b->db));
	if (b->ia < 0 || b->ib < 0 || skiff_stack_add_addr4(b->a, b->ia, IP_A, 24, b->now) ||
	    skiff_stack_add_addr4(b->b, b->ib, IP_B, 24, b->now))
		goto fail;
	b->lsn = skiff_tcp_open(b->b, SKIFF_AF_INET, &err);
	b->cli = skiff_tcp_open(b->a, SKIFF_AF_INET, &err);
	if (!b->lsn || !b->cli || skiff_tcp_bind(b->b, b->lsn, &ab, PORT) || skiff_tcp_listen(b->b, b->lsn, 16) ||
	    skiff_tcp_connect(b->a, b->cli, &ab, PORT, b->now))
		goto fail;
	for (unsigned r = 0; r < 10000 && !b->srv; r++) {
		pump(b);
		b->srv = skiff_tcp_accept(b->b, b->lsn, &err);
	}
	if (!b->srv || b->cli->state != SKIFF_TCP_ESTABLISHED)
		goto fail;
	for (size_t i = 0; i < sizeof(b->buf); i++)
		b->buf[i] = (uint8_t)(i * 7);
	return b;
fail:
	bench_tcp_destroy(b);
	return NULL;
}

size_t bench_tcp_run(struct bench_tcp *b, size_t bytes)
{
	size_t sent = 0, got = 0;
	if (bytes > sizeof(b->buf))
		bytes = sizeof(b->buf);
	for (unsigned r = 0; r < 100000 && got < bytes; r++) {
		if (sent < bytes) {
			struct iovec iov = { b->buf + sent, bytes - sent };
			long w = skiff_tcp_send(b->a, b->cli, &iov, 1, 0, b->now);
			if (w > 0)
				sent += (size_t)w;
		}
		pump(b);
		for (;;) {
			struct iovec iov = { b->rbuf, sizeof(b->rbuf) };
			long n = skiff_tcp_recv(b->b, b->srv, &iov, 1, 0, b->now);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
	}
	/* let the last ACKs land so the next run starts with an empty pipe */
	for (unsigned r = 0; r < 8; r++)
		pump(b);
	return got;
}

unsigned long long bench_tcp_segments(const struct bench_tcp *b) { return b->a->ctr.tcp_out; }
unsigned long long bench_tcp_retrans(const struct bench_tcp *b) { return b->a->ctr.tcp_retrans; }
size_t bench_tcp_tcb_size(void) { return sizeof(struct skiff_tcp_sock); }

void bench_tcp_destroy(struct bench_tcp *b)
{
	if (!b)
		return;
	skiff_stack_destroy(b->a);
	skiff_stack_destroy(b->b);
	skiff_dev_close(b->da);
	skiff_dev_close(b->db);
	free(b);
}
