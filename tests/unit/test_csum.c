/* test_csum.c — the Internet checksum (RFC 1071) against a byte-at-a-time
 * reference: every length 0..2048 at every alignment 0..7, random and worst-case
 * (all 0xff: maximum carries) data; split sums at odd stream offsets
 * (csum_partial_at); RFC 1624 incremental updates against recomputation; the
 * RFC 1071 worked example and a textbook IPv4 header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/view.h"

#define MAXLEN 2048

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Reference: RFC 1071 section 4.1, big-endian 16-bit words, odd byte padded with
 * zero, 64-bit accumulator, end-around carry. Returns the folded sum (not
 * complemented); `init` is added as a number. */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t init)
{
	uint64_t s = init;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < len)
		s += (uint32_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t init) { return (uint16_t)~ref_sum(p, len, init); }

static void sweep(const uint8_t *pattern)
{
	static uint8_t buf[MAXLEN + 8];
	for (unsigned align = 0; align < 8; align++) {
		memcpy(buf + align, pattern, MAXLEN);
		for (size_t len = 0; len <= MAXLEN; len++) {
			const uint8_t *p = buf + align;
			uint16_t want = ref_csum(p, len, 0);
			uint16_t got = csum_fold(csum_partial(p, len, 0));
			if (got != want)
				fail_msg("align %u len %zu: got %04x want %04x", align, len, got, want);
			/* with a carried-in sum (a pseudo-header's worth) */
			want = ref_csum(p, len, 0x2c4a1u);
			got = csum_fold(csum_partial(p, len, 0x2c4a1u));
			if (got != want)
				fail_msg("align %u len %zu +init: got %04x want %04x", align, len, got, want);
		}
	}
}

static void test_every_length_and_alignment_random(void **state)
{
	static uint8_t pat[MAXLEN];
	(void)state;
	for (int i = 0; i < MAXLEN; i++)
		pat[i] = (uint8_t)rnd();
	sweep(pat);
}

static void test_every_length_and_alignment_all_ones(void **state)
{
	static uint8_t pat[MAXLEN];
	(void)state;
	memset(pat, 0xff, sizeof(pat));
	sweep(pat);
	/* all 0xff sums to ones' complement -0 (0xffff), so the checksum is 0 */
	assert_int_equal(csum_fold(csum_partial(pat, 64, 0)), 0);
}

static void test_zero_and_tiny(void **state)
{
	static const uint8_t z[16];
	(void)state;
	assert_int_equal(csum_fold(csum_partial(z, 0, 0)), 0xffff);
	assert_int_equal(csum_fold(csum_partial(z, 16, 0)), 0xffff);
	assert_int_equal(csum_fold(csum_partial((const uint8_t[]){ 0xab }, 1, 0)), (uint16_t)~0xab00);
	assert_int_equal(csum_fold(csum_partial((const uint8_t[]){ 0xab, 0xcd }, 2, 0)), (uint16_t)~0xabcd);
	assert_int_equal(csum_fold(csum_partial((const uint8_t[]){ 0xab, 0xcd, 0x01 }, 3, 0)), (uint16_t)~0xaccd);
}

/* RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2. */
static void test_rfc1071_example(void **state)
{
	static const uint8_t d[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t odd[9];
	(void)state;
	assert_int_equal(csum_fold(csum_partial(d, 8, 0)), (uint16_t)~0xddf2);
	assert_int_equal(csum_fold(csum_partial(d, 8, 0)), 0x220d);
	/* same bytes at an odd address */
	memcpy(odd + 1, d, 8);
	assert_int_equal(csum_fold(csum_partial(odd + 1, 8, 0)), 0x220d);
	/* a buffer holding its checksum verifies to 0 */
	{
		uint8_t w[10];
		memcpy(w, d, 8);
		st16(w + 8, 0x220d);
		assert_int_equal(csum_buf(w, 10), 0);
	}
}

/* The classic IPv4 header 4500 0073 0000 4000 4011 xxxx c0a8 0001 c0a8 00c7 → b861. */
static void test_ipv4_header_example(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	(void)state;
	assert_int_equal(csum_buf(h, 20), 0xb861);
	st16(h + 10, 0xb861);
	assert_int_equal(csum_buf(h, 20), 0);
	/* pseudo-header: 192.168.0.1 → 192.168.0.199, UDP, length 0x5f */
	/* c0a8+0001+c0a8+00c7+0011+005f = 1_8288 → 8289 (end-around) → ~ = 7d76 */
	assert_int_equal(csum_fold(csum_pseudo4(0xc0a80001u, 0xc0a800c7u, 17, 0x5f)), 0x7d76);
}

static void test_csum_add_and_fold(void **state)
{
	(void)state;
	assert_int_equal(csum_add(0xffffffffu, 1), 1);         /* end-around carry */
	assert_int_equal(csum_add(0x80000000u, 0x80000000u), 1);
	assert_int_equal(csum_add(5, 7), 12);
	assert_int_equal(csum_fold(0), 0xffff);
	assert_int_equal(csum_fold(0xffff), 0);
	assert_int_equal(csum_fold(0x1fffe), 0);               /* 0xfffe + 1 */
	assert_int_equal(csum_fold(0xffffffffu), 0);
	assert_int_equal(csum_fold(0x12345678u), (uint16_t)~(0x1234 + 0x5678));
}

/* Pieces at arbitrary (odd) offsets of one stream combine to the whole's sum. */
static void test_partial_at_splits(void **state)
{
	static uint8_t buf[1600];
	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd();
	for (size_t len = 0; len <= 300; len++) {
		uint16_t want = ref_csum(buf, len, 0);
		for (size_t k = 0; k <= len; k++) {
			uint32_t s = csum_partial_at(buf, k, 0, 0);
			s = csum_partial_at(buf + k, len - k, s, k);
			if (csum_fold(s) != want)
				fail_msg("len %zu split %zu: got %04x want %04x", len, k, csum_fold(s), want);
		}
	}
	/* three pieces, both cuts odd, every piece odd-length, large buffer */
	for (int t = 0; t < 2000; t++) {
		size_t len = 3 + rnd() % (sizeof(buf) - 3);
		size_t a = 1 + (rnd() % (len - 2)), b = a + 1 + rnd() % (len - a - 1);
		uint32_t s = csum_partial_at(buf, a, 0, 0);
		s = csum_partial_at(buf + a, b - a, s, a);
		s = csum_partial_at(buf + b, len - b, s, b);
		assert_int_equal(csum_fold(s), ref_csum(buf, len, 0));
	}
	/* a stream that starts with a carried-in sum (pseudo-header) and even offsets
	 * through csum_partial_at behaves as csum_partial */
	for (size_t len = 0; len < 64; len++)
		assert_int_equal(csum_fold(csum_partial_at(buf, len, 0x1234u, 0)),
				 csum_fold(csum_partial(buf, len, 0x1234u)));
	/* csum_partial pieces combine when all but the last are even */
	assert_int_equal(csum_fold(csum_partial(buf + 100, 77, csum_partial(buf, 100, 0))), ref_csum(buf, 177, 0));
}

static uint16_t recompute(uint8_t *h, size_t len, size_t csum_off)
{
	st16(h + csum_off, 0);
	return csum_buf(h, len);
}

static void test_update16_32(void **state)
{
	uint8_t h[20];
	(void)state;
	for (int t = 0; t < 200000; t++) {
		uint16_t ck, upd, ref, oldv, newv;
		uint32_t o32, n32;
		size_t w = 2 * (rnd() % 10);
		for (int i = 0; i < 20; i++)
			h[i] = (uint8_t)rnd();
		if (w == 10)
			w = 8; /* not the checksum word itself */
		ck = recompute(h, 20, 10);
		st16(h + 10, ck);
		assert_int_equal(csum_buf(h, 20), 0);

		oldv = ld16(h + w);
		newv = (t & 7) == 0 ? (uint16_t)(oldv ^ 0x0100) : (uint16_t)rnd(); /* TTL-like and random */
		st16(h + w, newv);
		upd = csum_update16(ck, oldv, newv);
		ref = recompute(h, 20, 10);
		if (upd != ref)
			fail_msg("update16 word %zu %04x→%04x: got %04x want %04x", w, oldv, newv, upd, ref);
		st16(h + 10, upd);
		assert_int_equal(csum_buf(h, 20), 0);

		/* 32-bit field: the source address */
		o32 = ld32(h + 12);
		n32 = rnd() ^ ((uint32_t)rnd() << 21);
		st32(h + 12, n32);
		upd = csum_update32(upd, o32, n32);
		ref = recompute(h, 20, 10);
		if (upd != ref)
			fail_msg("update32 %08x→%08x: got %04x want %04x", o32, n32, upd, ref);
		st16(h + 10, upd);
		assert_int_equal(csum_buf(h, 20), 0);
	}
	/* RFC 1624 section 4's example: checksum 0xdd2f, a field 0x5555 → 0x3285 gives 0x0000 */
	assert_int_equal(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* unchanged field leaves the checksum alone */
	assert_int_equal(csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

/* RFC 8200 8.1: the IPv6 pseudo-header sum equals the sum of the 40-byte
 * pseudo-header laid out as the RFC draws it (source, destination, 32-bit
 * upper-layer length, three zero bytes, next header), for random and all-ones
 * addresses, lengths past 16 bits, and with a payload summed on top. */
static void test_pseudo6(void **state)
{
	uint8_t buf[40 + 64];
	(void)state;
	for (int t = 0; t < 100000; t++) {
		uint8_t *src = buf, *dst = buf + 16, proto = (uint8_t)rnd();
		uint32_t len = (t & 3) == 0 ? rnd() ^ ((uint32_t)rnd() << 16) : rnd() % 65536;
		size_t plen = rnd() % 64;
		uint16_t want, got;
		for (int i = 0; i < 32; i++)
			buf[i] = (t & 15) == 1 ? 0xff : (uint8_t)rnd();
		if (t == 2)
			len = 0xffffffffu;
		st32(buf + 32, len);
		buf[36] = buf[37] = buf[38] = 0;
		buf[39] = proto;
		for (size_t i = 0; i < plen; i++)
			buf[40 + i] = (uint8_t)rnd();
		want = ref_csum(buf, 40, 0);
		got = csum_fold(csum_pseudo6(src, dst, proto, len));
		if (got != want)
			fail_msg("pseudo6 len %u proto %u: got %04x want %04x", len, proto, got, want);
		want = ref_csum(buf, 40 + plen, 0);
		got = csum_fold(csum_partial(buf + 40, plen, csum_pseudo6(src, dst, proto, len)));
		if (got != want)
			fail_msg("pseudo6 + %zu bytes: got %04x want %04x", plen, got, want);
	}
}

/* A UDP datagram over IPv6 made by scapy (2001:2::2 → 2001:2::1, ports 4000 →
 * 5000, "hello"; checksum 0x58d1) verifies with the pseudo-header sum. */
static void test_pseudo6_scapy_udp(void **state)
{
	static const uint8_t src[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
	static const uint8_t dst[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
	uint8_t udp[13] = { 0x0f, 0xa0, 0x13, 0x88, 0x00, 0x0d, 0x58, 0xd1, 'h', 'e', 'l', 'l', 'o' };
	(void)state;
	assert_int_equal(csum_fold(csum_partial(udp, sizeof(udp), csum_pseudo6(src, dst, 17, sizeof(udp)))), 0);
	st16(udp + 6, 0);
	assert_int_equal(csum_fold(csum_partial(udp, sizeof(udp), csum_pseudo6(src, dst, 17, sizeof(udp)))), 0x58d1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_length_and_alignment_random),
		cmocka_unit_test(test_every_length_and_alignment_all_ones),
		cmocka_unit_test(test_zero_and_tiny),
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_ipv4_header_example),
		cmocka_unit_test(test_csum_add_and_fold),
		cmocka_unit_test(test_partial_at_splits),
		cmocka_unit_test(test_update16_32),
		cmocka_unit_test(test_pseudo6),
		cmocka_unit_test(test_pseudo6_scapy_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
