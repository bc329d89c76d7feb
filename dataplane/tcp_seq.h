/* tcp_seq.h — TCP sequence number arithmetic modulo 2^32 (RFC 9293 3.4).
 *
 * Sequence numbers wrap, so "a before b" means the signed 32-bit distance
 * a - b is negative, as in FreeBSD's tcp_seq.h. The comparison is only
 * meaningful for numbers less than 2^31 apart; TCP keeps every live value
 * within one window (at most 2^30 with window scaling, RFC 7323 2.3) of
 * another. The distance is computed without implementation-defined
 * conversions, and each argument is evaluated once.
 */
#ifndef SKIFF_TCP_SEQ_H
#define SKIFF_TCP_SEQ_H

#include <stdint.h>

/* Largest window TCP can express (RFC 7323 2.3: 65535 << 14 < 2^30). */
#define SKIFF_TCP_MAX_WIN (1u << 30)

/* a - b as a signed 32-bit number (two's complement, wrap-around). */
static inline int32_t skiff_seq_diff(uint32_t a, uint32_t b)
{
	uint32_t d = a - b;
	return d < 0x80000000u ? (int32_t)d : -(int32_t)(~d) - 1;
}

static inline uint32_t skiff_seq_max(uint32_t a, uint32_t b) { return skiff_seq_diff(a, b) > 0 ? a : b; }
static inline uint32_t skiff_seq_min(uint32_t a, uint32_t b) { return skiff_seq_diff(a, b) < 0 ? a : b; }

#define SEQ_LT(a, b)  (skiff_seq_diff((uint32_t)(a), (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) (skiff_seq_diff((uint32_t)(a), (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b)  (skiff_seq_diff((uint32_t)(a), (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) (skiff_seq_diff((uint32_t)(a), (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) skiff_seq_max((uint32_t)(a), (uint32_t)(b))
#define SEQ_MIN(a, b) skiff_seq_min((uint32_t)(a), (uint32_t)(b))

#endif
