/* tcp_cookie.c — SYN cookies (RFC 4987 3.6), the listener's answer to a full SYN
 * queue: the SYN-ACK's ISN carries what the connection needs, nothing is kept,
 * and the client's ACK proves the round trip.
 *
 * ISN layout: bits 31-27 a counter of 64-second periods (mod 32), bits 26-24 the
 * index of the client's MSS in a small table (rounded down), bits 23-0 a SipHash
 * of the 4-tuple, the client's ISN, the period and the MSS index under the
 * stack's secret. A cookie is valid in its period and the one after (64-128 s).
 * When the client offered timestamps, the SYN-ACK's TSval carries the rest, as
 * Linux's cookie_init_timestamp: its low 6 bits are the client's window scale
 * (4 bits, 0xf: none) and SACK-permitted (bit 4); the client echoes it in TSecr.
 * The connection's timestamp clock then uses a per-4-tuple offset (SipHash), so
 * the TSvals that follow continue the SYN-ACK's. Without timestamps, window
 * scale and SACK are off for a cookie connection (as Linux).
 */
#include <string.h>

#include "siphash.h"
#include "tcp_internal.h"

#define COOKIE_PERIOD_NS 64000000000ull

static const uint16_t mss_table[8] = { 536, 1024, 1220, 1380, 1440, 1460, 4312, 8960 };

/* An IPv4 tuple hashes as it always did; an IPv6 one with all its address
 * bytes (four more words). */
static uint32_t cookie_hash(struct skiff_stack *st, const struct skiff_addr *la, uint16_t lport,
			    const struct skiff_addr *ra, uint16_t rport, uint32_t peer_isn, uint32_t period, uint32_t mi)
{
	uint64_t w[7];
	unsigned n = 3;
	if (la->family == SKIFF_AF_INET6) {
		w[0] = 0;
		memcpy(&w[3], la->v6, 16);
		memcpy(&w[5], ra->v6, 16);
		n = 7;
	} else {
		w[0] = ((uint64_t)la->v4 << 32) | ra->v4;
	}
	w[1] = ((uint64_t)lport << 48) | ((uint64_t)rport << 32) | peer_isn;
	w[2] = ((uint64_t)period << 8) | mi | 0x5c00000000000000ull;
	return (uint32_t)siphash_words(tcp_tab(st)->key, w, n) & 0x00ffffffu;
}

uint32_t tcp_cookie_make(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport,
			 uint32_t peer_isn, uint16_t mss, uint64_t now)
{
	struct skiff_addr l = skiff_addr_v4(laddr), r = skiff_addr_v4(raddr);
	return tcp_cookie_make_a(st, &l, lport, &r, rport, peer_isn, mss, now);
}

uint32_t tcp_cookie_make_a(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			   const struct skiff_addr *raddr, uint16_t rport, uint32_t peer_isn, uint16_t mss, uint64_t now)
{
	uint32_t period = (uint32_t)(now / COOKIE_PERIOD_NS), mi = 0;
	for (uint32_t i = 0; i < 8; i++)
		if (mss_table[i] <= mss)
			mi = i;
	return ((period & 0x1fu) << 27) | (mi << 24) | cookie_hash(st, laddr, lport, raddr, rport, peer_isn, period, mi);
}

uint32_t tcp_cookie_ts_offset(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			      const struct skiff_addr *raddr, uint16_t rport)
{
	uint64_t w[6];
	unsigned n = 2;
	if (laddr->family == SKIFF_AF_INET6) {
		w[0] = 0;
		memcpy(&w[2], raddr->v6, 16);
		memcpy(&w[4], laddr->v6, 16);
		n = 6;
	} else {
		w[0] = ((uint64_t)raddr->v4 << 32) | laddr->v4;
	}
	w[1] = ((uint64_t)rport << 16) | lport | 0x7400000000000000ull;
	return (uint32_t)siphash_words(tcp_tab(st)->key, w, n);
}

uint32_t tcp_cookie_tsval(uint32_t now_ts, bool sack, int wscale)
{
	uint32_t opts = (wscale < 0 ? TCP_COOKIE_WS_NONE : (uint32_t)wscale) | (sack ? TCP_COOKIE_SACK : 0u);
	uint32_t ts = (now_ts & ~TCP_COOKIE_TSMASK) | opts;
	if ((int32_t)(ts - now_ts) > 0)
		ts -= TCP_COOKIE_TSMASK + 1u; /* never from the future: PAWS at the client */
	return ts;
}

bool tcp_cookie_ts_decode(uint32_t tsecr, uint32_t now_ts, bool *sack, int *wscale)
{
	uint32_t ws = tsecr & TCP_COOKIE_WS_NONE;
	/* an echo from our future, or from before the cookie could have been made, is forged */
	if ((int32_t)(tsecr - now_ts) > 0 || now_ts - tsecr > 2u * (uint32_t)(COOKIE_PERIOD_NS / 1000000u))
		return false;
	if (ws != TCP_COOKIE_WS_NONE && ws > TCP_MAX_WSCALE)
		return false;
	*sack = (tsecr & TCP_COOKIE_SACK) != 0;
	*wscale = ws == TCP_COOKIE_WS_NONE ? -1 : (int)ws;
	return true;
}

uint16_t tcp_cookie_check(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
			  const struct skiff_addr *raddr, uint16_t rport, uint32_t peer_isn, uint32_t cookie, uint64_t now)
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
