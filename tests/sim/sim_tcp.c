/* sim_tcp.c — two stacks over loop + fault, one TCP connection, deterministic clock.
 *
 * For each (loss, dup, reorder, corrupt, delay, seed) case: A listens, B
 * connects; B writes BYTES bytes whose content is a function of the stream
 * offset, A reads and checks every byte in order; then B closes (FIN), A sees
 * EOF and closes, and both TCBs must finish (TIME-WAIT expires on the fake clock)
 * with both pools whole. The pump moves frames both ways through the fault
 * devices; when nothing moves the clock jumps to the next timer or device event,
 * so retransmission timeouts cost no real time. SIM_TCP_BYTES (env) scales the
 * transfer (default 4 MiB; meson runs 256 MiB, 16 MiB under the sanitizers).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/neigh.h"
#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "drivers/driver.h"
#include "tests/sim/sim_node.h"

#define IP_A 0xc6120101u /* 198.18.1.1 */
#define IP_B 0xc6120102u /* 198.18.1.2 */
#define PORT 5001

struct sim_case {
	const char *name;
	uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	uint64_t delay_ns;
	uint64_t seed;
	const char *cc;
	bool no_rack; /* RFC 6675 DupThresh recovery instead of RACK-TLP */
};

static uint8_t pattern(uint64_t off, uint64_t seed)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull + seed;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return (uint8_t)(x >> ((off & 7) * 8));
}

static void node_init(struct node *nd, struct skiff_dev *dev, uint32_t ip, uint64_t seed, bool no_rack, uint64_t now)
{
	struct skiff_stack_config cfg;
	skiff_stack_config_defaults(&cfg);
	cfg.seed = seed;
	cfg.tcp_rack = !no_rack;
	cfg.icmp_rate = 0;
	cfg.tcp_challenge_rate = 0;
	sim_node_init(nd, &cfg, dev, ip, now);
}

static uint64_t next_event(struct node *a, struct node *b)
{
	uint64_t t = skiff_stack_next_deadline(a->st), u = skiff_stack_next_deadline(b->st);
	if (u < t)
		t = u;
	u = skiff_dev_next_event(a->dev);
	if (u < t)
		t = u;
	u = skiff_dev_next_event(b->dev);
	return u < t ? u : t;
}

static uint64_t sim_bytes(void)
{
	const char *e = getenv("SIM_TCP_BYTES");
	uint64_t v = e ? strtoull(e, NULL, 0) : 0;
	return v ? v : (4u << 20);
}

static void run_case(const struct sim_case *c)
{
	struct skiff_dev *la, *lb, *fa, *fb;
	struct skiff_fault_config fc;
	struct node A, B;
	struct skiff_tcp_sock *lsn, *srv = NULL, *cli;
	const uint64_t total = sim_bytes();
	uint64_t now = 1000000000ull, sent = 0, got = 0, start;
	static uint8_t wbuf[65536], rbuf[65536];
	struct skiff_addr aa = skiff_addr_v4(IP_A);
	bool eof = false, closed_b = false, closed_a = false;
	int err;
	unsigned idle = 0;
	uint64_t steps = 0, t_eof = 0;

	assert_int_equal(skiff_loop_pair(NULL, &la, &lb), 0);
	memset(&fc, 0, sizeof(fc));
	fc.seed = c->seed;
	fc.loss_ppm = c->loss_ppm;
	fc.dup_ppm = c->dup_ppm;
	fc.reorder_ppm = c->reorder_ppm;
	fc.corrupt_ppm = c->corrupt_ppm;
	fc.delay_ns = c->delay_ns;
	assert_int_equal(skiff_fault_wrap(la, &fc, &fa), 0);
	fc.seed = c->seed * 31 + 7;
	assert_int_equal(skiff_fault_wrap(lb, &fc, &fb), 0);
	if (getenv("SIM_TCP_PCAP_A")) {
		struct skiff_dev *w;
		assert_int_equal(skiff_pcap_wrap(fa, getenv("SIM_TCP_PCAP_A"), &w), 0);
		fa = w;
	}
	if (getenv("SIM_TCP_PCAP")) {
		struct skiff_dev *w;
		assert_int_equal(skiff_pcap_wrap(fb, getenv("SIM_TCP_PCAP"), &w), 0);
		fb = w;
	}
	node_init(&A, fa, IP_A, c->seed, c->no_rack, now);
	node_init(&B, fb, IP_B, c->seed + 1, c->no_rack, now);

	lsn = skiff_tcp_open(A.st, SKIFF_AF_INET, &err);
	assert_non_null(lsn);
	assert_int_equal(skiff_tcp_bind(A.st, lsn, &aa, PORT), 0);
	assert_int_equal(skiff_tcp_listen(A.st, lsn, 16), 0);
	cli = skiff_tcp_open(B.st, SKIFF_AF_INET, &err);
	assert_non_null(cli);
	if (c->cc) {
		const struct skiff_tcp_cc_ops *ops;
		assert_int_equal(skiff_tcp_cc_find(c->cc, &ops), 0);
		cli->cc.ops = ops;
	}
	cli->user = &B; /* readiness bookkeeping on */
	lsn->user = &A;
	assert_int_equal(skiff_tcp_connect(B.st, cli, &aa, PORT, now), 0);
	start = now;

	while (!(closed_a && closed_b && eof)) {
		unsigned moved = sim_node_pump(&A, now) + sim_node_pump(&B, now);
		steps++;
		if (!srv) {
			srv = skiff_tcp_accept(A.st, lsn, &err);
			if (srv)
				srv->user = &A;
		}
		/* writer: keep the send ring full */
		if (cli->state == SKIFF_TCP_ESTABLISHED && sent < total && skiff_tcp_writable(cli) > 0) {
			size_t n = total - sent < sizeof(wbuf) ? (size_t)(total - sent) : sizeof(wbuf);
			if (n > skiff_tcp_writable(cli))
				n = skiff_tcp_writable(cli); /* fill only what the ring takes: pattern() is the cost */
			struct iovec iov = { wbuf, n };
			for (size_t i = 0; i < n; i++)
				wbuf[i] = pattern(sent + i, c->seed);
			long w = skiff_tcp_send(B.st, cli, &iov, 1, 0, now);
			if (w > 0) {
				sent += (uint64_t)w;
				moved++;
			} else {
				assert_int_equal(w, -EAGAIN);
			}
		}
		if (sent == total && !closed_b) {
			skiff_tcp_close(B.st, cli, now);
			closed_b = true;
			moved++;
		}
		/* reader: check every byte */
		if (srv && !eof) {
			for (;;) {
				struct iovec iov = { rbuf, sizeof(rbuf) };
				long r = skiff_tcp_recv(A.st, srv, &iov, 1, 0, now);
				if (r == -EAGAIN)
					break;
				assert_true(r >= 0);
				if (r == 0) {
					eof = true;
					t_eof = now;
					break;
				}
				for (long i = 0; i < r; i++) {
					if (rbuf[i] != pattern(got + (uint64_t)i, c->seed)) {
						print_error("%s: byte %llu differs\n", c->name, (unsigned long long)(got + (uint64_t)i));
						fail();
					}
				}
				got += (uint64_t)r;
				moved++;
			}
		}
		if (eof && !closed_a) {
			assert_int_equal(got, total);
			skiff_tcp_close(A.st, srv, now);
			skiff_tcp_close(A.st, lsn, now);
			closed_a = true;
			moved++;
		}
		if (getenv("SIM_TCP_TRACE") && steps % (uint64_t)atoi(getenv("SIM_TCP_TRACE")) == 0 && cli->in_use)
			print_message("t=%.6f cwnd %u ssth %u snd_wnd %u flight %u sbuf %u state %s srtt %llu rto %llu\n",
				      (double)(now - start) / 1e9, cli->cc.cwnd, cli->cc.ssthresh, cli->snd_wnd,
				      cli->snd_max - cli->snd_una, cli->sbuf_len, skiff_tcp_state_name(cli->state),
				      (unsigned long long)cli->srtt, (unsigned long long)cli->rto);
		if (getenv("SIM_TCP_TRACE") && t_eof == 0 && got > 0 && got < 70000 && !eof)
			for (int r = 0; r < SKIFF_DROP_MAX; r++) {
				if (A.st->ctr.drop[r])
					print_message("A drop %s %llu\n", skiff_drop_name(r), (unsigned long long)A.st->ctr.drop[r]);
				if (B.st->ctr.drop[r])
					print_message("B drop %s %llu\n", skiff_drop_name(r), (unsigned long long)B.st->ctr.drop[r]);
			}
		if (!moved)
			moved = sim_node_pump(&A, now) + sim_node_pump(&B, now); /* frames a device released this round */
		if (moved) {
			idle = 0;
			now += 1000; /* 1 µs per busy step */
		} else {
			uint64_t t = next_event(&A, &B);
			if (t == UINT64_MAX || ++idle > 100000) {
				print_error("%s: stuck at %llu/%llu bytes (cli %s)\n", c->name, (unsigned long long)got,
					    (unsigned long long)total, skiff_tcp_state_name(cli->state));
				fail();
			}
			now = t > now ? t : now + 1000;
		}
		if (now - start > 3600ull * 1000000000ull) {
			print_error("%s: over an hour of simulated time\n", c->name);
			fail();
		}
	}
	/* let TIME-WAIT and the rest finish on the fake clock */
	for (int i = 0; i < 1000; i++) {
		uint64_t t = next_event(&A, &B);
		sim_node_pump(&A, now);
		sim_node_pump(&B, now);
		if (t == UINT64_MAX)
			break;
		now = t > now ? t : now + 1000;
	}
	print_message("%-28s %llu bytes in %.3f s simulated (transfer %.3f s), %llu steps; A: retrans %llu fast %llu timeouts %llu | B: retrans %llu fast %llu timeouts %llu rto %llu dupacks %llu rack-lost %llu tlp %llu/%llu undo %llu | A ooo %llu dsack %llu\n",
		      c->name, (unsigned long long)got, (double)(now - start) / 1e9, (double)(t_eof - start) / 1e9, (unsigned long long)steps,
		      (unsigned long long)A.st->ctr.tcp_retrans, (unsigned long long)A.st->ctr.tcp_fast_retrans,
		      (unsigned long long)A.st->ctr.tcp_timeouts, (unsigned long long)B.st->ctr.tcp_retrans,
		      (unsigned long long)B.st->ctr.tcp_fast_retrans, (unsigned long long)B.st->ctr.tcp_timeouts,
		      (unsigned long long)B.st->ctr.tcp_rto, (unsigned long long)B.st->ctr.tcp_dupacks_in,
		      (unsigned long long)B.st->ctr.tcp_rack_lost, (unsigned long long)B.st->ctr.tcp_tlp_probes,
		      (unsigned long long)B.st->ctr.tcp_tlp_recoveries, (unsigned long long)B.st->ctr.tcp_undo,
		      (unsigned long long)A.st->ctr.tcp_ooo, (unsigned long long)A.st->ctr.tcp_dsack_out);
	assert_int_equal(got, total);
	skiff_stack_destroy(A.st);
	skiff_stack_destroy(B.st);
	skiff_dev_close(fa);
	skiff_dev_close(fb);
}

static const struct sim_case cases[] = {
	{ "clean", 0, 0, 0, 0, 0, 1, NULL, false },
	{ "clean-delay-1ms", 0, 0, 0, 0, 1000000, 2, NULL, false },
	{ "loss-1%", 10000, 0, 0, 0, 200000, 3, NULL, false },
	{ "loss-5%", 50000, 0, 0, 0, 200000, 4, NULL, false },
	{ "loss-1%-newreno", 10000, 0, 0, 0, 200000, 5, "reno", false },
	{ "reorder-5%", 0, 0, 50000, 0, 200000, 6, NULL, false },
	{ "dup-5%", 0, 50000, 0, 0, 200000, 7, NULL, false },
	{ "corrupt-1%", 0, 0, 0, 10000, 200000, 8, NULL, false },
	{ "mixed", 20000, 10000, 20000, 5000, 500000, 9, NULL, false },
	{ "loss-2%-rfc6675", 20000, 0, 10000, 0, 200000, 10, NULL, true },
	{ "mixed-rfc6675", 20000, 10000, 20000, 5000, 500000, 11, NULL, true },
};

static void test_cases(void **state)
{
	const char *only = getenv("SIM_TCP_CASE");
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!only || !strcmp(only, cases[i].name))
			run_case(&cases[i]);
}

static void test_seeds(void **state)
{
	(void)state;
	if (getenv("SIM_TCP_CASE"))
		skip(); /* one named case only */
	for (uint64_t s = 100; s < 108; s++) {
		struct sim_case c = { "loss-2%-reorder-seed", 20000, 2000, 10000, 1000, 300000, s, NULL, false };
		run_case(&c);
	}
}

/* 64 clients connect at once to a listener with backlog 8: the SYN queue
 * overflows, SYN cookies answer the rest; every connection completes, carries
 * one request (one segment) and closes once it is acknowledged, as a
 * request/response client would. (A client that bursts several segments at a
 * listener whose accept queue is full gets reset on the later ones — Linux
 * does the same: only the segment right after the handshake carries a cookie.) */
static void test_many_connections_syncookies(void **state)
{
	enum { N = 64, BYTES = 1000 };
	struct skiff_dev *la, *lb;
	struct node A, B;
	struct skiff_tcp_sock *lsn, *cli[N], *srv[N];
	struct skiff_addr aa = skiff_addr_v4(IP_A);
	uint64_t now = 1000000000ull;
	unsigned nsrv = 0, done = 0, sent[N] = { 0 }, got[N] = { 0 };
	bool closed[N] = { false }, eof[N] = { false };
	static uint8_t buf[BYTES];
	int err;
	(void)state;
	if (getenv("SIM_TCP_CASE"))
		skip();

	assert_int_equal(skiff_loop_pair(NULL, &la, &lb), 0);
	if (getenv("SIM_TCP_PCAP")) {
		struct skiff_dev *w;
		assert_int_equal(skiff_pcap_wrap(lb, getenv("SIM_TCP_PCAP"), &w), 0);
		lb = w;
	}
	node_init(&A, la, IP_A, 77, false, now);
	node_init(&B, lb, IP_B, 78, false, now);
	lsn = skiff_tcp_open(A.st, SKIFF_AF_INET, &err);
	assert_int_equal(skiff_tcp_bind(A.st, lsn, &aa, PORT), 0);
	assert_int_equal(skiff_tcp_listen(A.st, lsn, 8), 0);
	lsn->user = &A;
	for (int i = 0; i < N; i++) {
		cli[i] = skiff_tcp_open(B.st, SKIFF_AF_INET, &err);
		assert_non_null(cli[i]);
		cli[i]->user = &B;
		assert_int_equal(skiff_tcp_connect(B.st, cli[i], &aa, PORT, now), 0);
	}
	for (unsigned step = 0; step < 200000 && done < N; step++) {
		struct skiff_tcp_sock *c;
		unsigned moved = sim_node_pump(&A, now) + sim_node_pump(&B, now);
		while (nsrv < N && (c = skiff_tcp_accept(A.st, lsn, &err)) != NULL) {
			c->user = &A;
			srv[nsrv++] = c;
			moved++;
		}
		for (int i = 0; i < N; i++) {
			if (cli[i]->state == SKIFF_TCP_ESTABLISHED && sent[i] < BYTES) {
				struct iovec iov = { buf, BYTES - sent[i] };
				memset(buf, (int)(i + 1), sizeof(buf));
				long w = skiff_tcp_send(B.st, cli[i], &iov, 1, 0, now);
				if (w > 0) {
					sent[i] += (unsigned)w;
					moved++;
				}
			}
			if (sent[i] == BYTES && !closed[i] && cli[i]->snd_una == cli[i]->snd_max) {
				skiff_tcp_close(B.st, cli[i], now);
				closed[i] = true;
			}
		}
		for (unsigned k = 0; k < nsrv; k++) {
			uint8_t rb[4096];
			struct iovec iov = { rb, sizeof(rb) };
			long r;
			if (eof[k])
				continue;
			while ((r = skiff_tcp_recv(A.st, srv[k], &iov, 1, 0, now)) > 0) {
				for (long j = 0; j < r; j++)
					assert_int_equal(rb[j], rb[0]);
				got[k] += (unsigned)r;
				moved++;
			}
			if (r == 0) {
				assert_int_equal(got[k], BYTES);
				eof[k] = true;
				skiff_tcp_close(A.st, srv[k], now);
				done++;
			}
		}
		if (!moved) {
			uint64_t t = skiff_stack_next_deadline(A.st), u = skiff_stack_next_deadline(B.st);
			if (u < t)
				t = u;
			now = (t != UINT64_MAX && t > now) ? t : now + 1000;
		} else {
			now += 1000;
		}
	}
	if (done < N)
		for (int i = 0; i < N; i++)
			if (!closed[i] || cli[i]->in_use)
				print_message("  cli %d: %s sent %u una-max %u err %d\n", i, skiff_tcp_state_name(cli[i]->state),
					      sent[i], cli[i]->snd_max - cli[i]->snd_una, cli[i]->err);
	print_message("many connections at %.3f s: %u/%d done, cookies sent %llu accepted %llu\n",
		      (double)now / 1e9 - 1, done, N, (unsigned long long)A.st->ctr.tcp_syncookies_sent, (unsigned long long)A.st->ctr.tcp_syncookies_ok);
	assert_int_equal(done, N);
	assert_true(A.st->ctr.tcp_syncookies_ok > 0);
	skiff_tcp_close(A.st, lsn, now);
	skiff_stack_destroy(A.st);
	skiff_stack_destroy(B.st);
	skiff_dev_close(la);
	skiff_dev_close(lb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_many_connections_syncookies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
