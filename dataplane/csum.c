/* csum.c — RFC 1071 sum, 64 bits at a time.
 *
 * The sum is computed in native byte order over 8-byte loads (memcpy, so no
 * unaligned casts) into a 64-bit accumulator with end-around carry, folded to 32
 * bits, and byte-swapped at the end on little-endian hosts (RFC 1071 §2(B): the
 * ones' complement sum is byte-order independent up to a final swap).
 */
#include "csum.h"

#include <string.h>

static inline uint64_t add64(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;
	return s + (s < b);
}

static uint32_t fold64(uint64_t s)
{
	uint32_t lo = (uint32_t)s, hi = (uint32_t)(s >> 32);
	uint32_t r = lo + hi;
	r += (r < hi);
	return r;
}

static uint32_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t a0 = 0, a1 = 0;
	while (len >= 32) {
		uint64_t w[4];
		memcpy(w, p, 32);
		a0 = add64(a0, w[0]);
		a1 = add64(a1, w[1]);
		a0 = add64(a0, w[2]);
		a1 = add64(a1, w[3]);
		p += 32;
		len -= 32;
	}
	a0 = add64(a0, a1);
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		a0 = add64(a0, w);
		p += 8;
		len -= 8;
	}
	if (len) {
		uint64_t w = 0;
		memcpy(&w, p, len); /* trailing bytes, zero padded in memory order */
		a0 = add64(a0, w);
	}
	return fold64(a0);
}

static inline uint32_t to_be_sum(uint32_t native)
{
	/* Reduce to 16 bits first, then swap if host is little-endian. */
	native = (native & 0xffff) + (native >> 16);
	native = (native & 0xffff) + (native >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	native = ((native & 0xff) << 8) | (native >> 8);
#endif
	return native;
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum)
{
	return csum_add(sum, to_be_sum(sum_native(buf, len)));
}

uint32_t csum_partial_at(const void *buf, size_t len, uint32_t sum, size_t stream_off)
{
	uint32_t s = to_be_sum(sum_native(buf, len));
	if (stream_off & 1)
		s = ((s & 0xff) << 8) | (s >> 8); /* odd offset: bytes land in the other half */
	return csum_add(sum, s);
}
