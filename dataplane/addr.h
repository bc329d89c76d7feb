/* addr.h — family-generic network address.
 *
 * One struct holds an IPv4 or IPv6 address so every table (routes, neighbours,
 * sockets) is written once for both families. IPv4 is kept in host byte order
 * (the wire helpers in view.h convert at the edge); IPv6 as its 16 wire bytes.
 */
#ifndef SKIFF_ADDR_H
#define SKIFF_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { SKIFF_AF_NONE = 0, SKIFF_AF_INET = 4, SKIFF_AF_INET6 = 6 };

struct skiff_addr {
	uint8_t family; /* SKIFF_AF_* */
	uint8_t pad[3];
	union {
		uint32_t v4;     /* host byte order */
		uint8_t v6[16];  /* network byte order */
	};
};

static inline struct skiff_addr skiff_addr_v4(uint32_t host_order)
{
	struct skiff_addr a;
	memset(&a, 0, sizeof(a));
	a.family = SKIFF_AF_INET;
	a.v4 = host_order;
	return a;
}

static inline bool skiff_addr_eq(const struct skiff_addr *a, const struct skiff_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == SKIFF_AF_INET)
		return a->v4 == b->v4;
	if (a->family == SKIFF_AF_INET6)
		return memcmp(a->v6, b->v6, 16) == 0;
	return true;
}

static inline bool skiff_addr_is_any(const struct skiff_addr *a)
{
	static const uint8_t zero[16] = {0};
	if (a->family == SKIFF_AF_INET)
		return a->v4 == 0;
	if (a->family == SKIFF_AF_INET6)
		return memcmp(a->v6, zero, 16) == 0;
	return true;
}

/* 32-bit mixing of an address for hash tables. */
static inline uint32_t skiff_addr_hash(const struct skiff_addr *a)
{
	uint32_t h;
	if (a->family == SKIFF_AF_INET6) {
		uint32_t w[4];
		memcpy(w, a->v6, 16);
		h = w[0] ^ w[1] * 0x9e3779b1u ^ w[2] * 0x85ebca6bu ^ w[3] * 0xc2b2ae35u;
	} else {
		h = a->v4;
	}
	h ^= h >> 16;
	h *= 0x7feb352du;
	h ^= h >> 15;
	h *= 0x846ca68bu;
	h ^= h >> 16;
	return h;
}

/* IPv4 classification (RFC 1122 3.2.1.3, RFC 1112, RFC 5735). */
static inline bool ip4_is_multicast(uint32_t a) { return (a & 0xf0000000u) == 0xe0000000u; }
static inline bool ip4_is_limited_bcast(uint32_t a) { return a == 0xffffffffu; }
static inline bool ip4_is_loopback(uint32_t a) { return (a >> 24) == 127; }
static inline bool ip4_is_zeronet(uint32_t a) { return (a >> 24) == 0; }
static inline bool ip4_is_class_e(uint32_t a) { return (a & 0xf0000000u) == 0xf0000000u && a != 0xffffffffu; }

static inline uint32_t ip4_prefix_mask(unsigned plen)
{
	return plen == 0 ? 0 : (plen >= 32 ? 0xffffffffu : ~((1u << (32 - plen)) - 1u));
}

#endif
