/* sim_udp.c — two stacks over loop + fault, deterministic clock.
 *
 * For each (loss, dup, reorder, corrupt, seed) case: stack A sends N datagrams of
 * seeded sizes (1 B … 9000 B, so many are fragmented) to a socket on stack B; the
 * pump moves frames A→B and B→A (ARP replies, ICMP) through fault devices and
 * advances the fake clock, running timers (ARP retries, reassembly timeouts).
 * B checks every datagram it receives against the content its sequence number
 * defines: byte-exact, never corrupted, duplicates only when duplication is on,
 * and all N delivered when nothing is lost. At the end both pools must be whole.
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

#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "drivers/driver.h"
#include "tests/sim/sim_node.h"

#define IP_A 0xc6120101u /* 198.18.1.1 */
#define IP_B 0xc6120102u /* 198.18.1.2 */
#define MAX_DGRAM 9000u

struct sim_case {
	const char *name;
	uint32_t loss_ppm, dup_ppm, reorder_ppm, corrupt_ppm;
	uint64_t delay_ns;
	unsigned n;
	uint64_t seed;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static size_t dgram_len(uint64_t seed, uint32_t seq)
{
	uint64_t r = mix(seed ^ ((uint64_t)seq << 20));
	/* mostly small, some large: exercises both paths */
	if (r % 4 == 0)
		return 1 + (size_t)(mix(r) % MAX_DGRAM);
	return 4 + (size_t)(mix(r) % 1400);
}

static void fill(uint8_t *b, size_t len, uint64_t seed, uint32_t seq)
{
	uint64_t x = mix(seed + seq);
	for (size_t i = 0; i < len; i++) {
		if ((i & 7) == 0)
			x = mix(x + i);
		b[i] = (uint8_t)(x >> ((i & 7) * 8));
	}
	if (len >= 4) {
		b[0] = (uint8_t)(seq >> 24);
		b[1] = (uint8_t)(seq >> 16);
		b[2] = (uint8_t)(seq >> 8);
		b[3] = (uint8_t)seq;
	}
}

static void node_init(struct node *nd, struct skiff_dev *dev, uint32_t ip, uint64_t seed, uint64_t now)
{
	struct skiff_stack_config cfg;
	skiff_stack_config_defaults(&cfg);
	cfg.seed = seed;
	cfg.icmp_rate = 0; /* unlimited: keep the sim deterministic regardless of timing */
	sim_node_init(nd, &cfg, dev, ip, now);
}

/* Resolved: REACHABLE, or STALE/PROBE (learnt from the peer's own request). */
static bool neigh_usable(struct skiff_stack *st, int ifindex, uint32_t ip)
{
	enum skiff_neigh_state s = skiff_neigh_lookup4(st, ifindex, ip, NULL);
	return s == SKIFF_NEIGH_REACHABLE || s == SKIFF_NEIGH_STALE || s == SKIFF_NEIGH_PROBE;
}

static void run_case(const struct sim_case *c)
{
	struct skiff_loop_config lc = { .nbufs = 8192, .buf_size = 2048 + SKIFF_HEADROOM, .ring = 1024, .mtu = 1500 };
	struct skiff_fault_config fc = { 0 };
	struct skiff_dev *la, *lb, *fa, *fb;
	struct node A, B;
	struct skiff_udp_sock *tx, *rx;
	struct skiff_addr any = skiff_addr_v4(0), dst = skiff_addr_v4(IP_B);
	uint8_t *seen = calloc(c->n, 1);
	static uint8_t sbuf[MAX_DGRAM], rbuf[MAX_DGRAM + 16], want[MAX_DGRAM];
	uint64_t now = 1000000000ull;
	unsigned sent = 0, delivered = 0, dups = 0, spins = 0;
	int err;

	assert_non_null(seen);
	assert_int_equal(skiff_loop_pair(&lc, &la, &lb), 0);
	fc.seed = c->seed;
	fc.loss_ppm = c->loss_ppm;
	fc.dup_ppm = c->dup_ppm;
	fc.reorder_ppm = c->reorder_ppm;
	fc.corrupt_ppm = c->corrupt_ppm;
	fc.delay_ns = c->delay_ns;
	fc.max_held = 8192;
	assert_int_equal(skiff_fault_wrap(la, &fc, &fa), 0);
	fc.seed = c->seed * 31 + 7;
	assert_int_equal(skiff_fault_wrap(lb, &fc, &fb), 0);
	node_init(&A, fa, IP_A, c->seed, now);
	node_init(&B, fb, IP_B, c->seed + 1, now);

	tx = skiff_udp_open(A.st, SKIFF_AF_INET, &err);
	rx = skiff_udp_open(B.st, SKIFF_AF_INET, &err);
	assert_non_null(tx);
	assert_non_null(rx);
	assert_int_equal(skiff_udp_set_rcvbuf(B.st, rx, 1 << 30), 0);
	rx->rcvbuf = 64u << 20; /* the sim measures the network, not the socket limit */
	assert_int_equal(skiff_udp_bind(B.st, rx, &any, 9000), 0);

	/* Resolve the neighbour first, so the stream is not limited by the ARP hold
	 * queue (which holds only neigh_hold_per_entry packets, as Linux's unres_qlen). */
	{
		struct iovec iov = { sbuf, 1 };
		sbuf[0] = 0;
		assert_int_equal(skiff_udp_send(A.st, tx, &iov, 1, &dst, 9001, 0, now), 1);
		for (int i = 0; i < 100000 && !neigh_usable(A.st, A.ifindex, IP_B); i++) {
			sim_node_pump(&A, now);
			sim_node_pump(&B, now);
			now += 50000;
		}
		assert_true(neigh_usable(A.st, A.ifindex, IP_B));
	}
	/* Bounded: at most n*50 steps of 50 us each plus 60 s of drain. */
	for (unsigned step = 0; step < c->n * 50u && (sent < c->n || spins < 40000); step++) {
		/* send a few per step while the ring has room */
		for (int k = 0; k < 4 && sent < c->n; k++) {
			size_t len = dgram_len(c->seed, sent);
			struct iovec iov = { sbuf, len };
			long r;
			fill(sbuf, len, c->seed, sent);
			r = skiff_udp_send(A.st, tx, &iov, 1, &dst, 9000, 0, now);
			if (r == -EAGAIN)
				break;
			assert_int_equal(r, (long)len);
			sent++;
		}
		sim_node_pump(&A, now);
		sim_node_pump(&B, now);
		for (;;) {
			struct iovec iov = { rbuf, sizeof(rbuf) };
			size_t dl;
			long r = skiff_udp_recv(B.st, rx, &iov, 1, 0, NULL, NULL, &dl);
			uint32_t seq;
			if (r == -EAGAIN)
				break;
			assert_true(r > 0);
			if (r < 4) {
				/* tiny datagrams carry no sequence number: check against the prefix */
				continue;
			}
			seq = ((uint32_t)rbuf[0] << 24) | ((uint32_t)rbuf[1] << 16) | ((uint32_t)rbuf[2] << 8) | rbuf[3];
			assert_true(seq < c->n);
			assert_int_equal((size_t)r, dgram_len(c->seed, seq));
			fill(want, (size_t)r, c->seed, seq);
			assert_memory_equal(rbuf, want, (size_t)r);
			if (seen[seq]) {
				dups++;
			} else {
				seen[seq] = 1;
				delivered++;
			}
		}
		now += 50000;
		if (sent == c->n)
			spins++;
	}
	/* count tiny datagrams (len < 4) as delivered only by absence of corruption: they
	 * are few; require the rest */
	{
		unsigned expect_big = 0;
		for (unsigned s = 0; s < c->n; s++)
			expect_big += dgram_len(c->seed, s) >= 4;
		printf("# %-22s sent %u, delivered %u/%u (%.2f%%), duplicates %u\n", c->name, sent, delivered, expect_big,
		       100.0 * delivered / expect_big, dups);
		if (c->loss_ppm == 0 && c->corrupt_ppm == 0)
			assert_int_equal(delivered, expect_big);
		else
			assert_true(delivered > expect_big / 2);
		if (c->dup_ppm == 0)
			assert_int_equal(dups, 0);
	}
	assert_int_equal(sent, c->n);
	{
		struct skiff_fault_stats fs;
		skiff_fault_stats(fa, &fs);
		printf("#   A→B: passed %llu lost %llu dup %llu reordered %llu corrupted %llu held_drops %llu\n",
		       (unsigned long long)fs.passed, (unsigned long long)fs.lost, (unsigned long long)fs.duplicated,
		       (unsigned long long)fs.reordered, (unsigned long long)fs.corrupted,
		       (unsigned long long)fs.held_drops);
		assert_int_equal(fs.held_drops, 0);
	}

	skiff_udp_close(A.st, tx);
	skiff_udp_close(B.st, rx);
	/* drain: let reassembly and ARP timers expire, then every frame must be home */
	for (int i = 0; i < 200; i++) {
		now += 500000000ull;
		sim_node_pump(&A, now);
		sim_node_pump(&B, now);
	}
	{
		unsigned d, by;
		skiff_reasm_usage(B.st, &d, &by);
		assert_int_equal(d, 0);
		assert_int_equal(skiff_neigh_held(A.st), 0);
	}
	skiff_stack_destroy(A.st);
	skiff_stack_destroy(B.st);
	skiff_dev_close(fa);
	skiff_dev_close(fb);
	free(seen);
}

#define CASE(fn, ...)                                   \
	static void fn(void **state)                        \
	{                                                   \
		static const struct sim_case c = __VA_ARGS__;   \
		(void)state;                                    \
		run_case(&c);                                   \
	}

CASE(clean, { "clean", 0, 0, 0, 0, 0, 3000, 1 })
CASE(loss1_s1, { "loss 1% seed 1", 10000, 0, 0, 0, 0, 3000, 11 })
CASE(loss1_s2, { "loss 1% seed 2", 10000, 0, 0, 0, 0, 3000, 12 })
CASE(loss5_s1, { "loss 5% seed 1", 50000, 0, 0, 0, 0, 3000, 21 })
CASE(loss5_s2, { "loss 5% seed 2", 50000, 0, 0, 0, 0, 3000, 22 })
CASE(loss20, { "loss 20%", 200000, 0, 0, 0, 0, 2000, 31 })
CASE(reorder, { "reorder 10%", 0, 0, 100000, 0, 0, 3000, 41 })
CASE(dup, { "dup 5%", 0, 50000, 0, 0, 0, 3000, 51 })
CASE(corrupt, { "corrupt 2%", 0, 0, 0, 20000, 0, 3000, 61 })
CASE(delay, { "delay 2ms", 0, 0, 0, 0, 2000000, 2000, 71 })
CASE(everything, { "all impairments", 20000, 20000, 50000, 10000, 300000, 3000, 81 })

/* Many seeds, every impairment at once. */
static void many_seeds(void **state)
{
	(void)state;
	for (uint64_t seed = 1000; seed < 1032; seed++) {
		struct sim_case c = { "seed sweep", 30000, 10000, 50000, 10000, 100000, 600, seed };
		run_case(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean),    cmocka_unit_test(loss1_s1), cmocka_unit_test(loss1_s2),
		cmocka_unit_test(loss5_s1), cmocka_unit_test(loss5_s2), cmocka_unit_test(loss20),
		cmocka_unit_test(reorder),  cmocka_unit_test(dup),      cmocka_unit_test(corrupt),
		cmocka_unit_test(delay),    cmocka_unit_test(everything), cmocka_unit_test(many_seeds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
