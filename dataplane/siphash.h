/* siphash.h — SipHash-2-4 (Aumasson & Bernstein, 2012): a keyed 64-bit hash for
 * values an off-path attacker must not predict — TCP initial sequence numbers
 * (RFC 6528), SYN cookies, ephemeral port offsets (RFC 6056 3.3.3). Input is a
 * handful of 64-bit words, which is all those callers hash.
 */
#ifndef SKIFF_SIPHASH_H
#define SKIFF_SIPHASH_H

#include <stdint.h>

#define SIP_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = SIP_ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = SIP_ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = SIP_ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = SIP_ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = SIP_ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = SIP_ROTL(v[2], 32);
}

/* SipHash-2-4 of n 64-bit words (length 8n bytes, little-endian word order). */
static inline uint64_t siphash_words(const uint64_t key[2], const uint64_t *w, unsigned n)
{
	uint64_t v[4] = { key[0] ^ 0x736f6d6570736575ull, key[1] ^ 0x646f72616e646f6dull,
			  key[0] ^ 0x6c7967656e657261ull, key[1] ^ 0x7465646279746573ull };
	uint64_t b = (uint64_t)(n * 8u) << 56;
	for (unsigned i = 0; i < n; i++) {
		v[3] ^= w[i];
		sip_round(v);
		sip_round(v);
		v[0] ^= w[i];
	}
	v[3] ^= b;
	sip_round(v);
	sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

#undef SIP_ROTL
#endif
