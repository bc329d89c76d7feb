/* test_reasm.c — IPv4 reassembly: scapy's fragments in every order, larger
 * datagrams shuffled, byte-exact delivery to a UDP socket; each drop (bad
 * fragment, too big, overlap in its forms, duplicate, timeout with and without
 * ICMP time exceeded, memory, table, fragment count), and after every case no
 * datagram or byte left in reassembly and every frame back in the pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define FRAME_CAP (2048u + SKIFF_HEADROOM) /* the harness's buffer size */
#define PORT 5000

static struct harness H;
static struct skiff_udp_sock *SK;

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

static void usage(struct harness *h, unsigned *d, unsigned *b) { skiff_reasm_usage(h->st, d, b); }

static void assert_empty(struct harness *h)
{
	unsigned d, b;
	usage(h, &d, &b);
	assert_int_equal(d, 0);
	assert_int_equal(b, 0);
}

static int setup_cfg(void **state, const struct skiff_stack_config *c)
{
	int err;
	struct skiff_addr any = skiff_addr_v4(0);
	assert_int_equal(h_init(&H, c), 0);
	/* the peer's MAC confirmed, so ICMP errors go straight out */
	h_learn_peer(&H);
	h_inject(&H, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	h_tx_flush(&H);
	SK = skiff_udp_open(H.st, SKIFF_AF_INET, &err);
	assert_non_null(SK);
	assert_int_equal(skiff_udp_bind(H.st, SK, &any, PORT), 0);
	*state = &H;
	return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int setup_mem3(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_mem = 3 * FRAME_CAP;
	return setup_cfg(state, &c);
}

static int setup_slots2(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_slots = 2;
	return setup_cfg(state, &c);
}

static int setup_frags4(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.reasm_max_frags = 4;
	return setup_cfg(state, &c);
}

/* No leaks: nothing in reassembly, and after closing the socket and flushing
 * the transmit queue every frame is back in the pool. */
static int teardown(void **state)
{
	struct harness *h = *state;
	assert_empty(h);
	skiff_udp_close(h->st, SK);
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), skiff_mempool_count(h->mp));
	h_fini(h);
	return 0;
}

/* A UDP datagram from `src` to us (header + plen bytes of pattern), checksum set. */
static size_t make_udp(uint8_t *dg, uint32_t src, size_t plen, uint8_t seed)
{
	size_t n = 8 + plen;
	st16(dg, 4000);
	st16(dg + 2, PORT);
	st16(dg + 4, (uint16_t)n);
	st16(dg + 6, 0);
	for (size_t i = 0; i < plen; i++)
		dg[8 + i] = (uint8_t)(i * 13 + seed);
	st16(dg + 6, csum_fold(csum_partial(dg, n, csum_pseudo4(src, H_LOCAL_IP, 17, (uint32_t)n))));
	return n;
}

static void inj_frag_from(struct harness *h, uint32_t src, uint16_t id, const uint8_t *dg, size_t off, size_t len,
			  bool mf)
{
	static uint8_t f[2100];
	fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	memcpy(f + 34, dg + off, len);
	h_inject(h, f, fb_ip4(f, src, H_LOCAL_IP, IPPROTO_UDP_, id, (uint16_t)(off / 8 | (mf ? IP4_FLAG_MF : 0)), len));
}

static void inj_frag(struct harness *h, uint16_t id, const uint8_t *dg, size_t off, size_t len, bool mf)
{
	inj_frag_from(h, H_PEER_IP, id, dg, off, len, mf);
}

/* Receive one datagram and check it is exactly dg's payload. */
static void expect_delivered(struct harness *h, const uint8_t *dg, size_t n)
{
	static uint8_t buf[65536];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	uint16_t sport;
	size_t dlen;
	assert_int_equal(skiff_udp_recv(h->st, SK, &iov, 1, 0, &src, &sport, &dlen), (long)(n - 8));
	assert_int_equal(dlen, n - 8);
	assert_memory_equal(buf, dg + 8, n - 8);
	assert_int_equal(sport, ld16(dg));
	(void)src;
}

static void expect_nothing(struct harness *h)
{
	(void)h;
	assert_int_equal(SK->rq_count, 0);
	assert_int_equal(skiff_udp_next_len(SK), 0);
}

static uint32_t lcg;
static uint32_t rnd(void)
{
	lcg = lcg * 1664525u + 1013904223u;
	return lcg >> 8;
}

/* ---- success ---- */

static void test_scapy_fragments_every_order(void **state)
{
	struct harness *h = *state;
	static const int perm[6][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 0, 2 }, { 1, 2, 0 }, { 0, 2, 1 }, { 2, 0, 1 } };
	const uint8_t *fr[3] = { frame_udp_frag_0, frame_udp_frag_1, frame_udp_frag_2 };
	const size_t fl[3] = { sizeof(frame_udp_frag_0), sizeof(frame_udp_frag_1), sizeof(frame_udp_frag_2) };
	uint8_t buf[128], want[100];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	uint16_t sport;

	for (int i = 0; i < 100; i++)
		want[i] = (uint8_t)i;
	for (int k = 0; k < 6; k++) {
		unsigned d, b;
		h_inject(h, fr[perm[k][0]], fl[perm[k][0]]);
		h_inject(h, fr[perm[k][1]], fl[perm[k][1]]);
		usage(h, &d, &b);
		assert_int_equal(d, 1);
		assert_int_equal(b, 2 * FRAME_CAP);
		expect_nothing(h);
		h_inject(h, fr[perm[k][2]], fl[perm[k][2]]);
		assert_empty(h);
		assert_int_equal(skiff_udp_recv(h->st, SK, &iov, 1, 0, &src, &sport, NULL), 100);
		assert_memory_equal(buf, want, 100);
		assert_int_equal(src.v4, H_PEER_IP);
		assert_int_equal(sport, 4000);
	}
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 6);
	/* the short last fragment padded to the Ethernet minimum: padding is not data */
	{
		uint8_t padded[60];
		memset(padded, 0xee, sizeof(padded));
		memcpy(padded, frame_udp_frag_2, sizeof(frame_udp_frag_2));
		h_inject(h, frame_udp_frag_0, sizeof(frame_udp_frag_0));
		h_inject(h, padded, sizeof(padded));
		h_inject(h, frame_udp_frag_1, sizeof(frame_udp_frag_1));
		assert_int_equal(skiff_udp_recv(h->st, SK, &iov, 1, 0, NULL, NULL, NULL), 100);
		assert_memory_equal(buf, want, 100);
	}
	assert_int_equal(total_drops(h), 0);
}

/* A reassembled broadcast datagram reaches every socket, each a full copy. */
static void test_broadcast_chain_copies(void **state)
{
	struct harness *h = *state;
	static uint8_t dg[3000], f[1600], buf[3000];
	struct skiff_udp_sock *s2;
	struct iovec iov = { buf, sizeof(buf) };
	size_t n;
	int err;

	SK->reuseaddr = true;
	s2 = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	s2->reuseaddr = true;
	assert_int_equal(skiff_udp_bind(h->st, s2, &(struct skiff_addr){ .family = SKIFF_AF_INET, .v4 = 0 }, PORT), 0);
	/* the datagram, to the subnet broadcast, in a broadcast frame */
	st16(dg, 4000);
	st16(dg + 2, PORT);
	st16(dg + 4, 2500);
	st16(dg + 6, 0);
	for (int i = 8; i < 2500; i++)
		dg[i] = (uint8_t)(i * 5);
	st16(dg + 6, csum_fold(csum_partial(dg, 2500, csum_pseudo4(H_PEER_IP, H_BCAST_IP, 17, 2500))));
	for (size_t off = 0; off < 2500; off += 1480) {
		size_t len = 2500 - off < 1480 ? 2500 - off : 1480;
		fb_eth(f, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, dg + off, len);
		n = fb_ip4(f, H_PEER_IP, H_BCAST_IP, 17, 0x77, (uint16_t)(off / 8 | (off + len < 2500 ? IP4_FLAG_MF : 0)), len);
		h_inject(h, f, n);
	}
	assert_int_equal(skiff_udp_recv(h->st, SK, &iov, 1, 0, NULL, NULL, NULL), 2492);
	assert_memory_equal(buf, dg + 8, 2492);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(skiff_udp_recv(h->st, s2, &iov, 1, 0, NULL, NULL, NULL), 2492);
	assert_memory_equal(buf, dg + 8, 2492);
	assert_int_equal(total_drops(h), 0);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, s2);
}

static void test_large_shuffled(void **state)
{
	struct harness *h = *state;
	static uint8_t dg[65536];
	lcg = 12345;
	for (int t = 0; t < 20; t++) {
		/* random size and fragment size (multiple of 8), up to the largest datagram */
		size_t plen = t == 0 ? 65507 : rnd() % 20000, n = make_udp(dg, H_PEER_IP, plen, (uint8_t)t);
		size_t piece = t == 0 ? 1480 : 8 * (1 + rnd() % 185), nf = (n + piece - 1) / piece;
		unsigned order[1024];
		if (nf > 128) { /* stay within reasm_max_frags */
			piece = ((n + 127) / 128 + 7) & ~(size_t)7;
			nf = (n + piece - 1) / piece;
		}
		for (unsigned i = 0; i < nf; i++)
			order[i] = i;
		for (unsigned i = nf; i > 1; i--) {
			unsigned j = rnd() % i, x = order[i - 1];
			order[i - 1] = order[j];
			order[j] = x;
		}
		for (unsigned i = 0; i < nf; i++) {
			size_t off = order[i] * piece, len = n - off < piece ? n - off : piece;
			inj_frag(h, (uint16_t)(0x100 + t), dg, off, len, off + len < n);
			if (i + 1 < nf)
				expect_nothing(h);
		}
		assert_empty(h);
		expect_delivered(h, dg, n);
	}
	assert_int_equal(total_drops(h), 0);
}

/* Datagrams are keyed by (src, dst, proto, id): same id from two sources, interleaved. */
static void test_keyed_by_source(void **state)
{
	struct harness *h = *state;
	uint8_t a[200], b[200];
	size_t na = make_udp(a, H_PEER_IP, 150, 1), nb = make_udp(b, H_OTHER_IP, 150, 2);
	inj_frag_from(h, H_PEER_IP, 42, a, 0, 80, true);
	inj_frag_from(h, H_OTHER_IP, 42, b, 80, nb - 80, false);
	inj_frag_from(h, H_OTHER_IP, 42, b, 0, 80, true);
	expect_delivered(h, b, nb);
	inj_frag_from(h, H_PEER_IP, 42, a, 80, na - 80, false);
	expect_delivered(h, a, na);
	assert_int_equal(total_drops(h), 0);
}

/* First fragment with IP options (IHL 6); the others without. */
static void test_first_fragment_with_options(void **state)
{
	struct harness *h = *state;
	uint8_t dg[200], f[300];
	size_t n = make_udp(dg, H_PEER_IP, 100, 9);
	fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	memcpy(f + 14 + 24, dg, 64);
	fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 7, IP4_FLAG_MF, 4 + 64); /* total 24 + 64 */
	f[14] = 0x46;
	st32(f + 14 + 20, 0x01010100u); /* NOP NOP NOP EOL */
	st16(f + 14 + 10, 0);
	st16(f + 14 + 10, csum_buf(f + 14, 24));
	h_inject(h, f, 14 + 24 + 64);
	inj_frag(h, 7, dg, 64, n - 64, false);
	expect_delivered(h, dg, n);
	assert_int_equal(total_drops(h), 0);
}

/* A reassembled datagram with a bad UDP checksum: dropped whole, no leak. */
static void test_bad_checksum_after_reassembly(void **state)
{
	struct harness *h = *state;
	uint8_t dg[300];
	size_t n = make_udp(dg, H_PEER_IP, 250, 3);
	dg[200] ^= 1;
	inj_frag(h, 9, dg, 0, 128, true);
	inj_frag(h, 9, dg, 128, n - 128, false);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_BAD_CSUM), 1);
	expect_nothing(h);
	assert_int_equal(total_drops(h), 1);
}

/* ---- drops ---- */

static void test_bad_frag(void **state)
{
	struct harness *h = *state;
	uint8_t dg[200];
	size_t n = make_udp(dg, H_PEER_IP, 100, 4);
	inj_frag(h, 1, dg, 0, 12, true);  /* MF, not a multiple of 8 */
	inj_frag(h, 1, dg, 0, 63, true);
	inj_frag(h, 1, dg, 64, 0, true);  /* empty */
	inj_frag(h, 1, dg, 64, 0, false); /* empty last */
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_BAD_FRAG), 4);
	assert_empty(h); /* no slot was created */
	/* a correct datagram with the same id still works */
	inj_frag(h, 1, dg, 0, 64, true);
	inj_frag(h, 1, dg, 64, n - 64, false);
	expect_delivered(h, dg, n);
	assert_int_equal(total_drops(h), 4);
}

static void test_too_big(void **state)
{
	struct harness *h = *state;
	uint8_t dg[200];
	unsigned d, b;
	size_t n = make_udp(dg, H_PEER_IP, 100, 5);
	/* ping of death: the last fragment at offset 65528 (8191 * 8) with 16 bytes */
	{
		static uint8_t f[1600];
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memset(f + 34, 0, 1480);
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 3, 8191, 16));
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 3, IP4_FLAG_MF | 8100, 1480));
		/* 65535 - 20 = 65515 is the largest end: offset 65512 + 3 fits, + 4 does not */
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 4, 65512 / 8, 4));
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_BIG), 3);
	assert_int_equal(total_drops(h), 3);
	assert_empty(h);
	/* a datagram in progress is not disturbed by a too-big fragment with its id */
	inj_frag(h, 5, dg, 0, 64, true);
	{
		static uint8_t f[100];
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memset(f + 34, 0, 16);
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 5, 8191, 16));
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_BIG), 4);
	usage(h, &d, &b);
	assert_int_equal(d, 1);
	inj_frag(h, 5, dg, 64, n - 64, false);
	expect_delivered(h, dg, n);

	/* every fragment fits on its own (20-byte headers), but the first carries
	 * options (IHL 6): the whole would be 24 + 65515 > 65535 */
	{
		static uint8_t f[1600];
		size_t off = 0, nfr = 0;
		uint64_t before = h_drops(h, SKIFF_DROP_REASM_TOO_BIG);
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memset(f + 38, 0x5a, 1480);
		fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 11, IP4_FLAG_MF, 4 + 1480);
		f[14] = 0x46;
		st32(f + 34, 0x01010100u);
		st16(f + 24, 0);
		st16(f + 24, csum_buf(f + 14, 24));
		h_inject(h, f, 14 + 24 + 1480);
		off = 1480;
		nfr = 1;
		while (off < 65515) {
			size_t len = 65515 - off < 1480 ? 65515 - off : 1480;
			fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
			memset(f + 34, 0x5a, len);
			h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 11,
					      (uint16_t)(off / 8 | (off + len < 65515 ? IP4_FLAG_MF : 0)), len));
			off += len;
			nfr++;
		}
		assert_int_equal(nfr, 45);
		assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_BIG), before + nfr);
		expect_nothing(h);
		assert_empty(h);
	}
}

/* After an overlap the whole datagram is gone; the rest arriving later never
 * completes anything (it times out without ICMP, having no first fragment). */
static void finish_overlap_case(struct harness *h, uint64_t want_overlap)
{
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_OVERLAP), want_overlap);
	expect_nothing(h);
}

static void test_overlap_teardrop(void **state)
{
	struct harness *h = *state;
	uint8_t dg[300];
	size_t n = make_udp(dg, H_PEER_IP, 200, 6);
	unsigned d, b;
	/* teardrop: the second fragment starts inside the first */
	inj_frag(h, 10, dg, 0, 64, true);
	inj_frag(h, 10, dg, 32, 64, true);
	finish_overlap_case(h, 2); /* the new fragment and the one held */
	assert_empty(h);
	/* what is left arrives: a new datagram that cannot complete */
	inj_frag(h, 10, dg, 64, n - 64, false);
	expect_nothing(h);
	usage(h, &d, &b);
	assert_int_equal(d, 1);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 1);
	assert_int_equal(h_tx_count(h), 0); /* no first fragment: no time exceeded */
}

static void test_overlap_forms(void **state)
{
	struct harness *h = *state;
	uint8_t dg[400];
	size_t n = make_udp(dg, H_PEER_IP, 300, 7);
	uint64_t ov = 0;
	assert_int_equal(n, 308);

	/* the new fragment starts before an existing one and runs into it */
	inj_frag(h, 20, dg, 64, 64, true);
	inj_frag(h, 20, dg, 32, 64, true);
	finish_overlap_case(h, ov += 2);
	/* the new fragment lies inside an existing one */
	inj_frag(h, 21, dg, 0, 128, true);
	inj_frag(h, 21, dg, 64, 8, true);
	finish_overlap_case(h, ov += 2);
	/* the new fragment covers an existing one */
	inj_frag(h, 22, dg, 64, 8, true);
	inj_frag(h, 22, dg, 0, 128, true);
	finish_overlap_case(h, ov += 2);
	/* same offset, different length */
	inj_frag(h, 23, dg, 0, 64, true);
	inj_frag(h, 23, dg, 0, 72, true);
	finish_overlap_case(h, ov += 2);
	/* a last fragment ending before data already held */
	inj_frag(h, 24, dg, 0, 64, true);
	inj_frag(h, 24, dg, 128, 64, true);
	inj_frag(h, 24, dg, 64, 36, false);
	finish_overlap_case(h, ov += 3);
	/* two different last fragments */
	inj_frag(h, 25, dg, 256, n - 256, false);
	inj_frag(h, 25, dg, 256, n - 256 - 4, false);
	finish_overlap_case(h, ov += 2);
	/* a fragment past the known end */
	inj_frag(h, 26, dg, 256, n - 256, false);
	inj_frag(h, 26, dg, 312, 8, true);
	finish_overlap_case(h, ov += 2);
	/* overlap with a middle fragment of three held */
	inj_frag(h, 27, dg, 0, 64, true);
	inj_frag(h, 27, dg, 128, 64, true);
	inj_frag(h, 27, dg, 256, n - 256, false);
	inj_frag(h, 27, dg, 120, 16, true);
	finish_overlap_case(h, ov += 4);
	assert_empty(h);
	assert_int_equal(total_drops(h), ov);
	assert_int_equal(h_tx_count(h), 0);
	/* and a clean datagram after all that */
	inj_frag(h, 28, dg, 0, 128, true);
	inj_frag(h, 28, dg, 128, n - 128, false);
	expect_delivered(h, dg, n);
}

static void test_dup(void **state)
{
	struct harness *h = *state;
	uint8_t dg[300];
	size_t n = make_udp(dg, H_PEER_IP, 200, 8);
	inj_frag(h, 30, dg, 0, 64, true);
	inj_frag(h, 30, dg, 0, 64, true);
	inj_frag(h, 30, dg, 128, n - 128, false);
	inj_frag(h, 30, dg, 128, n - 128, false);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_DUP), 2);
	expect_nothing(h);
	inj_frag(h, 30, dg, 64, 64, true);
	expect_delivered(h, dg, n);
	expect_nothing(h); /* delivered once */
	assert_int_equal(total_drops(h), 2);
}

/* The peer answers (again): whatever state its entry reached over a long wait,
 * output to it goes out rather than being held for resolution. */
static void refresh_peer(struct harness *h)
{
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
}

/* Pop the next IPv4 frame, skipping ARP (the peer's entry may be probed). */
static struct skiff_pkt *pop_ip(struct harness *h)
{
	struct skiff_pkt *p;
	while ((p = h_tx_pop(h)) != NULL) {
		if (ld16(skiff_pkt_data(p) + 12) == ETH_TYPE_IP4)
			return p;
		skiff_pkt_free(p);
	}
	return NULL;
}

static void test_timeout(void **state)
{
	struct harness *h = *state;
	const uint64_t to = h->st->cfg.reasm_timeout_ns;
	static uint8_t dg[2000], f[2100];
	size_t n = make_udp(dg, H_PEER_IP, 1800, 9);
	struct skiff_pkt *p;
	const uint8_t *ip, *ic;

	/* the first fragment arrived: time exceeded, code 1, quoting it */
	inj_frag(h, 40, dg, 0, 1480, true);
	h_advance(h, 1000);
	inj_frag(h, 40, dg, 1480 + 160, n - 1480 - 160, false); /* a hole in the middle */
	h_advance(h, to - 1001);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 0);
	assert_null(pop_ip(h));
	h_advance(h, 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 2); /* both fragments */
	assert_empty(h);
	p = pop_ip(h);
	assert_non_null(p);
	ip = skiff_pkt_data(p) + 14;
	ic = ip + 20;
	assert_int_equal(ld16(ip + 2), 576); /* quote capped so the error fits 576 */
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_int_equal(ld32(ip + 12), H_LOCAL_IP);
	assert_int_equal(ld32(ip + 16), H_PEER_IP);
	assert_int_equal(ic[0], ICMP4_TIME_EXCEEDED);
	assert_int_equal(ic[1], ICMP4_EXC_FRAGTIME);
	assert_int_equal(ld32(ic + 4), 0);
	assert_int_equal(csum_buf(ic, 576 - 20), 0);
	/* the quote: the first fragment's IP header as received, then its data */
	fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	memcpy(f + 34, dg, 1480);
	fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 17, 40, IP4_FLAG_MF, 1480);
	assert_memory_equal(ic + 8, f + 14, 548);
	skiff_pkt_free(p);
	assert_null(pop_ip(h));
	expect_nothing(h);

	/* the first fragment never arrived: dropped silently */
	inj_frag(h, 41, dg, 1480, n - 1480, false);
	inj_frag(h, 41, dg, 800, 680, true);
	h_advance(h, to);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 4);
	assert_null(pop_ip(h));
	/* the late first fragment starts a new datagram (and times out in its turn) */
	inj_frag(h, 41, dg, 0, 800, true);
	refresh_peer(h);
	h_advance(h, to);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 5);
	p = pop_ip(h);
	assert_non_null(p);
	assert_int_equal(skiff_pkt_data(p)[34], ICMP4_TIME_EXCEEDED);
	skiff_pkt_free(p);
	assert_int_equal(total_drops(h), 5);
}

/* reasm_mem = three frames. */
static void test_mem(void **state)
{
	struct harness *h = *state;
	uint8_t a[300], b[300], c[300];
	size_t na = make_udp(a, H_PEER_IP, 200, 10), nb = make_udp(b, H_PEER_IP, 200, 11),
	       nc = make_udp(c, H_PEER_IP, 250, 12);
	unsigned d, by;

	inj_frag(h, 50, a, 0, 64, true);
	inj_frag(h, 50, a, 64, 64, true);
	h_advance(h, 1000);
	inj_frag(h, 51, b, 0, 64, true);
	usage(h, &d, &by);
	assert_int_equal(d, 2);
	assert_int_equal(by, 3 * FRAME_CAP);
	/* b's second fragment needs room: the oldest (a, two frames) is evicted */
	inj_frag(h, 51, b, 64, 64, true);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_MEM), 2);
	usage(h, &d, &by);
	assert_int_equal(d, 1);
	assert_int_equal(by, 2 * FRAME_CAP);
	inj_frag(h, 51, b, 128, nb - 128, false);
	expect_delivered(h, b, nb);
	assert_empty(h);
	/* a's last fragment alone now: a new datagram; let it time out (no first fragment) */
	inj_frag(h, 50, a, 128, na - 128, false);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 1);
	assert_null(h_tx_pop(h));
	/* a single datagram needing more than the limit: its own fourth frame is refused */
	for (int i = 0; i < 3; i++)
		inj_frag(h, 52, c, (size_t)i * 64, 64, true);
	inj_frag(h, 52, c, 192, nc - 192, false);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_MEM), 3);
	usage(h, &d, &by);
	assert_int_equal(d, 1);
	assert_int_equal(by, 3 * FRAME_CAP);
	expect_nothing(h);
	refresh_peer(h);
	h_advance(h, h->st->cfg.reasm_timeout_ns);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 4);
	h_tx_flush(h); /* its time exceeded */
	assert_empty(h);
}

/* reasm_slots = 2. */
static void test_table_full(void **state)
{
	struct harness *h = *state;
	uint8_t a[300], b[300], c[300];
	size_t na = make_udp(a, H_PEER_IP, 200, 13), nb = make_udp(b, H_PEER_IP, 200, 14),
	       nc = make_udp(c, H_PEER_IP, 200, 15);
	unsigned d, by;

	inj_frag(h, 60, a, 64, 64, true); /* not the first: no ICMP when evicted */
	h_advance(h, 1000);
	inj_frag(h, 61, b, 0, 64, true);
	h_advance(h, 1000);
	inj_frag(h, 62, c, 0, 64, true); /* evicts the oldest: a */
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TABLE_FULL), 1);
	usage(h, &d, &by);
	assert_int_equal(d, 2);
	assert_int_equal(by, 2 * FRAME_CAP);
	assert_int_equal(h_tx_count(h), 0);
	inj_frag(h, 61, b, 64, nb - 64, false);
	expect_delivered(h, b, nb);
	inj_frag(h, 62, c, 64, nc - 64, false);
	expect_delivered(h, c, nc);
	assert_empty(h);
	(void)na;
	assert_int_equal(total_drops(h), 1);
}

/* reasm_max_frags = 4. */
static void test_too_many(void **state)
{
	struct harness *h = *state;
	uint8_t dg[100];
	size_t n = make_udp(dg, H_PEER_IP, 32, 16); /* 40 bytes: 5 x 8 */
	for (int i = 0; i < 5; i++)
		inj_frag(h, 70, dg, (size_t)i * 8, 8, i < 4);
	assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TOO_MANY), 5); /* the fifth and the four held */
	expect_nothing(h);
	assert_empty(h);
	/* exactly four fragments is fine */
	inj_frag(h, 71, dg, 0, 8, true);
	inj_frag(h, 71, dg, 8, 8, true);
	inj_frag(h, 71, dg, 16, 8, true);
	inj_frag(h, 71, dg, 24, n - 24, false);
	expect_delivered(h, dg, n);
	assert_int_equal(total_drops(h), 5);
}

/* An error about a reassembled datagram quotes its whole-datagram header (MF
 * clear, full length, valid checksum), as Linux does — not the first fragment's. */
static void test_error_quotes_reassembled_header(void **state)
{
	struct harness *h = *state;
	static uint8_t dg[3000];
	size_t n = make_udp(dg, H_PEER_IP, 2000, 9);
	struct skiff_pkt *p;
	const uint8_t *q;

	st16(dg + 2, PORT + 1); /* a closed port */
	st16(dg + 6, 0);        /* no checksum: the header change above would break it */
	refresh_peer(h);
	h_tx_flush(h);
	inj_frag(h, 77, dg, 0, 1480, true);
	inj_frag(h, 77, dg, 1480, n - 1480, false);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	p = pop_ip(h);
	assert_non_null(p);
	q = skiff_pkt_data(p) + 14 + 20 + 8; /* quoted IP header */
	assert_int_equal(skiff_pkt_data(p)[34], 3);
	assert_int_equal(skiff_pkt_data(p)[35], 3);
	assert_int_equal(ld16(q + 2), 20 + n);
	assert_int_equal(ld16(q + 6) & (IP4_FLAG_MF | IP4_OFF_MASK), 0);
	assert_int_equal(csum_buf(q, 20), 0);
	skiff_pkt_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scapy_fragments_every_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_shuffled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast_chain_copies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyed_by_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_fragment_with_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum_after_reassembly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_frag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_teardrop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem, setup_mem3, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup_slots2, teardown),
		cmocka_unit_test_setup_teardown(test_too_many, setup_frags4, teardown),
		cmocka_unit_test_setup_teardown(test_error_quotes_reassembled_header, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
