/* tcp_cookie.c — SYN cookies (RFC 4987 3.6), the listener's answer to a full SYN
 * queue: the SYN-ACK's ISN carries what the connection needs, nothing is kept,
 * and the client's ACK proves the round trip.
 *
 * ISN layout: bits 31-27 a counter of 64-second periods (mod 32), bits 26-24 the
 * index of the client's MSS in a small table (rounded down), bits 23-0 a SipHash
 * of the 4-tuple, the client's ISN, the period and the MSS index under the
 * stack's secret. A cookie is valid in its period and the one after (64-128 s).
 * What a cookie cannot carry — window scale, SACK, timestamps — is off for such
 * a connection (Linux hides them in the timestamp option; not done here).
 */
#include "siphash.h"
#include "tcp_internal.h"

#define COOKIE_PERIOD_NS 64000000000ull

static const uint16_t mss_table[8] = { 536, 1024, 1220, 1380, 1440, 1460, 4312, 8960 };

static uint32_t cookie_hash(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			    uint32_t peer_isn, uint32_t period, uint32_t mi)
{
	uint64_t w[3] = { ((uint64_t)laddr << 32) | raddr, ((uint64_t)lport << 48) | ((uint64_t)rport << 32) | peer_isn,
			  ((uint64_t)period << 8) | mi | 0x5c00000000000000ull };
	return (uint32_t)siphash_words(tcp_tab(st)->key, w, 3) & 0x00ffffffu;
}

uint32_t tcp_cookie_make(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			 uint32_t peer_isn, uint16_t mss, uint64_t now)
{
	uint32_t period = (uint32_t)(now / COOKIE_PERIOD_NS), mi = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= mss)
			mi = i;
	return ((period & 0x1fu) << 27) | (mi << 24) | cookie_hash(st, laddr, lport, raddr, rport, peer_isn, period, mi);
}

uint16_t tcp_cookie_check(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			  uint32_t peer_isn, uint32_t cookie, uint64_t now)
{
	uint32_t cur = (uint32_t)(now / COOKIE_PERIOD_NS), mi = (cookie >> 24) & 7u;
	for (uint32_t back = 0; back < 2; back++) {
		uint32_t period = cur - back;
		if (((period & 0x1fu) << 27) != (cookie & 0xf8000000u))
			continue;
		if (cookie_hash(st, laddr, lport, raddr, rport, peer_isn, period, mi) == (cookie & 0x00ffffffu))
			return mss_table[mi];
	}
	return 0;
}
