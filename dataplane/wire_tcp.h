/* wire_tcp.h — TCP header and options (RFC 9293 3.1, RFC 7323, RFC 2018).
 *
 * tcp_parse() reads the fixed header and checks only what is needed to read the
 * rest safely: length >= 20 and the data offset within the segment. Options are
 * walked by tcp_parse_opts() with every length checked against what is left: a
 * zero or overlong length ends the walk (RFC 9293 3.2: a malformed option list
 * makes the options unusable, the segment itself is still processed — we keep
 * what was parsed before the bad option and flag it). Known options with a wrong
 * length are ignored, as Linux's tcp_parse_options does. tcp_emit_opts() writes
 * the options a segment carries, padded to 4 bytes, in the layout Linux uses
 * (NOPs before timestamps so they are 4-byte aligned).
 */
#ifndef SKIFF_WIRE_TCP_H
#define SKIFF_WIRE_TCP_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "view.h"

#define TCP_HDR_LEN 20
#define TCP_MAX_HDR_LEN 60
#define TCP_MAX_OPT_LEN 40

enum {
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80,
};

enum {
	TCPOPT_EOL = 0,
	TCPOPT_NOP = 1,
	TCPOPT_MSS = 2,       /* len 4, SYN only (RFC 9293 3.7.1) */
	TCPOPT_WSCALE = 3,    /* len 3, SYN only (RFC 7323 2.2) */
	TCPOPT_SACK_PERM = 4, /* len 2, SYN only (RFC 2018 2) */
	TCPOPT_SACK = 5,      /* len 2 + 8n (RFC 2018 3) */
	TCPOPT_TS = 8,        /* len 10 (RFC 7323 3.2) */
};

#define TCP_MAX_WSCALE 14     /* RFC 7323 2.3: larger shifts are used as 14 */
#define TCP_MAX_SACK_BLOCKS 4

struct tcp_repr {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;         /* header length in bytes */
	uint8_t flags;
	uint16_t wnd;         /* as on the wire, unscaled */
	uint16_t csum;
	uint16_t urp;
};

struct tcp_opts {
	bool mss_ok, ws_ok, sack_perm, ts_ok, malformed;
	uint16_t mss;
	uint8_t ws;           /* as sent; the receiver clamps to TCP_MAX_WSCALE */
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[TCP_MAX_SACK_BLOCKS][2]; /* [left, right) */
};

static inline int tcp_parse(const uint8_t *h, size_t len, struct tcp_repr *r)
{
	if (len < TCP_HDR_LEN)
		return -EBADMSG;
	r->sport = ld16(h);
	r->dport = ld16(h + 2);
	r->seq = ld32(h + 4);
	r->ack = ld32(h + 8);
	r->doff = (uint8_t)((h[12] >> 4) * 4);
	r->flags = h[13];
	r->wnd = ld16(h + 14);
	r->csum = ld16(h + 16);
	r->urp = ld16(h + 18);
	if (r->doff < TCP_HDR_LEN || r->doff > len)
		return -EBADMSG;
	return 0;
}

/* Walk the options of a header of doff bytes. `syn`: MSS, window scale and
 * SACK-permitted count only on SYN segments (RFC 9293 3.7.1, RFC 7323 2.2). */
static inline void tcp_parse_opts(const uint8_t *h, uint8_t doff, bool syn, struct tcp_opts *o)
{
	struct view v = view_make(h + TCP_HDR_LEN, (size_t)doff - TCP_HDR_LEN);
	memset(o, 0, sizeof(*o));
	while (v.len) {
		const uint8_t *k = v.p, *b;
		uint8_t kind = k[0], olen;
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			view_pull(&v, 1);
			continue;
		}
		if (v.len < 2 || k[1] < 2 || k[1] > v.len) {
			o->malformed = true; /* zero, one or overlong length: stop here */
			break;
		}
		olen = k[1];
		b = view_pull(&v, olen) + 2;
		switch (kind) {
		case TCPOPT_MSS:
			if (olen == 4 && syn) {
				o->mss_ok = true;
				o->mss = ld16(b);
			}
			break;
		case TCPOPT_WSCALE:
			if (olen == 3 && syn) {
				o->ws_ok = true;
				o->ws = b[0];
			}
			break;
		case TCPOPT_SACK_PERM:
			if (olen == 2 && syn)
				o->sack_perm = true;
			break;
		case TCPOPT_TS:
			if (olen == 10) {
				o->ts_ok = true;
				o->tsval = ld32(b);
				o->tsecr = ld32(b + 4);
			}
			break;
		case TCPOPT_SACK:
			if (olen >= 10 && (olen - 2) % 8 == 0 && !syn) {
				unsigned n = (unsigned)(olen - 2) / 8;
				if (n > TCP_MAX_SACK_BLOCKS)
					n = TCP_MAX_SACK_BLOCKS; /* cannot happen within 40 bytes; bounded anyway */
				for (unsigned i = 0; i < n; i++) {
					o->sack[i][0] = ld32(b + 8 * i);
					o->sack[i][1] = ld32(b + 8 * i + 4);
				}
				o->nsack = (uint8_t)n;
			}
			break;
		default:
			break; /* unknown options are skipped (RFC 9293 3.2 / RFC 1122 4.2.2.5) */
		}
	}
}

static inline void tcp_emit(uint8_t *h, const struct tcp_repr *r)
{
	st16(h, r->sport);
	st16(h + 2, r->dport);
	st32(h + 4, r->seq);
	st32(h + 8, r->ack);
	h[12] = (uint8_t)((r->doff / 4) << 4);
	h[13] = r->flags;
	st16(h + 14, r->wnd);
	st16(h + 16, r->csum);
	st16(h + 18, r->urp);
}

/* What an outgoing segment carries. */
struct tcp_opts_out {
	bool mss, ws, sack_perm, ts;
	uint16_t mss_val;
	uint8_t ws_val;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[TCP_MAX_SACK_BLOCKS][2];
};

/* Bytes the options take (a multiple of 4, at most 40). */
static inline unsigned tcp_opts_len(const struct tcp_opts_out *o)
{
	unsigned n = 0, room;
	if (o->mss)
		n += 4;
	if (o->ts)
		n += 12;              /* NOP NOP TS, or SACK_PERM TS on a SYN */
	else if (o->sack_perm)
		n += 4;               /* NOP NOP SACK_PERM */
	if (o->ws)
		n += 4;               /* NOP WS */
	room = (TCP_MAX_OPT_LEN - n - 4) / 8;
	if (o->nsack)
		n += 4 + 8 * (o->nsack < room ? o->nsack : room); /* NOP NOP SACK */
	return n;
}

/* Write the options at p; returns the bytes written (tcp_opts_len). */
static inline unsigned tcp_emit_opts(uint8_t *p, const struct tcp_opts_out *o)
{
	uint8_t *s = p;
	unsigned room;
	if (o->mss) {
		p[0] = TCPOPT_MSS;
		p[1] = 4;
		st16(p + 2, o->mss_val);
		p += 4;
	}
	if (o->ts) {
		if (o->sack_perm) {   /* Linux's SYN layout: SACK_PERM folded into the TS padding */
			p[0] = TCPOPT_SACK_PERM;
			p[1] = 2;
		} else {
			p[0] = TCPOPT_NOP;
			p[1] = TCPOPT_NOP;
		}
		p[2] = TCPOPT_TS;
		p[3] = 10;
		st32(p + 4, o->tsval);
		st32(p + 8, o->tsecr);
		p += 12;
	} else if (o->sack_perm) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_SACK_PERM;
		p[3] = 2;
		p += 4;
	}
	if (o->ws) {
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_WSCALE;
		p[2] = 3;
		p[3] = o->ws_val;
		p += 4;
	}
	room = (unsigned)(TCP_MAX_OPT_LEN - (p - s) - 4) / 8;
	if (o->nsack && room) {
		unsigned n = o->nsack < room ? o->nsack : room;
		p[0] = TCPOPT_NOP;
		p[1] = TCPOPT_NOP;
		p[2] = TCPOPT_SACK;
		p[3] = (uint8_t)(2 + 8 * n);
		for (unsigned i = 0; i < n; i++) {
			st32(p + 4 + 8 * i, o->sack[i][0]);
			st32(p + 8 + 8 * i, o->sack[i][1]);
		}
		p += 4 + 8 * n;
	}
	return (unsigned)(p - s);
}

#endif
