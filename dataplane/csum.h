/* csum.h — the Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * csum_partial() folds bytes into a 32-bit running sum that is neither folded nor
 * complemented, so pieces (pseudo-header, header, payload chain) can be summed
 * separately and combined with csum_add(). csum_fold() gives the 16-bit ones'
 * complement result that goes into a header (host order; store with st16).
 */
#ifndef SKIFF_CSUM_H
#define SKIFF_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Sum of `len` bytes as big-endian 16-bit words, added to `sum`. Odd lengths pad
 * the last byte with zero. The returned value is only meaningful to csum_add /
 * csum_fold. Sums of pieces combine correctly only when every piece but the last
 * has even length (callers use csum_partial_at for odd offsets). */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* Same, for a piece that starts at an odd byte offset of the summed stream. */
uint32_t csum_partial_at(const void *buf, size_t len, uint32_t sum, size_t stream_off);

static inline uint32_t csum_add(uint32_t a, uint32_t b)
{
	uint32_t s = a + b;
	return s + (s < a);
}

/* Fold to 16 bits and complement: the value to write into a checksum field. */
static inline uint16_t csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624 eqn. 3: new checksum after a 16-bit field changes from old to new. */
static inline uint16_t csum_update16(uint16_t check, uint16_t old_v, uint16_t new_v)
{
	uint32_t s = (uint16_t)~check;
	s += (uint16_t)~old_v;
	s += new_v;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline uint16_t csum_update32(uint16_t check, uint32_t old_v, uint32_t new_v)
{
	check = csum_update16(check, (uint16_t)(old_v >> 16), (uint16_t)(new_v >> 16));
	return csum_update16(check, (uint16_t)old_v, (uint16_t)new_v);
}

/* Pseudo-header sum for IPv4 (RFC 768, RFC 9293 3.1): addresses host order. */
static inline uint32_t csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len)
{
	uint32_t s = (src >> 16) + (src & 0xffff);
	s += (dst >> 16) + (dst & 0xffff);
	s += proto;
	s += l4_len;
	return s;
}

/* Pseudo-header sum for IPv6 (RFC 8200 8.1): source and destination as their 16
 * wire bytes, the 32-bit upper-layer packet length (payload length minus the
 * extension headers before the upper layer), three zero bytes, next header.
 * Like csum_pseudo4, unfolded: combine with csum_partial over the upper layer. */
static inline uint32_t csum_pseudo6(const uint8_t *src, const uint8_t *dst, uint8_t proto, uint32_t l4_len)
{
	uint32_t s = 0;
	for (int i = 0; i < 16; i += 2) {
		s += ((uint32_t)src[i] << 8) | src[i + 1];
		s += ((uint32_t)dst[i] << 8) | dst[i + 1];
	}
	s += l4_len >> 16;
	s += l4_len & 0xffff;
	s += proto;
	return s;
}

/* Checksum of a plain buffer, folded: 0 means "verifies" when the buffer holds its checksum. */
static inline uint16_t csum_buf(const void *buf, size_t len)
{
	return csum_fold(csum_partial(buf, len, 0));
}

#endif
