/* tcp_seg.h — the peer side of a TCP conversation, for unit tests (in the
 * spirit of lwIP's test/unit/tcp/tcp_helper.h).
 *
 * Build: ts_build() writes an Ethernet/IPv4/TCP frame from the peer
 * (H_PEER_IP, h_peer_mac) to the stack (H_LOCAL_IP, h_local_mac) with the
 * given sequence/ack numbers, flags, window, options (MSS, window scale,
 * SACK-permitted, timestamps, SACK blocks — or raw option bytes for malformed
 * cases) and payload, and a correct TCP checksum (unless asked to spoil it).
 * The option encoder is written here, independently of dataplane/wire_tcp.h,
 * so a symmetric mistake in the stack's emitter/parser does not hide itself.
 * Parse: ts_parse() reads a frame the stack transmitted back into a struct
 * (addresses, flags, seq, ack, window, every option, payload copied out, and
 * whether the TCP checksum verifies); ts_pop() takes the next TCP frame from
 * the harness's transmit queue (other frames, e.g. ARP, are freed and counted).
 */
#ifndef SKIFF_TEST_TCP_SEG_H
#define SKIFF_TEST_TCP_SEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/wire_tcp.h"
#include "tests/lib/harness.h"

#define TS_FRAME_MAX 2048u   /* frames built here are at most this long */
#define TS_DATA_MAX 2048u    /* payload bytes ts_parse keeps */

/* A segment the peer sends. Zero-initialise, then fill what matters. */
struct ts_out {
	uint32_t src, dst;           /* 0: H_PEER_IP / H_LOCAL_IP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;               /* TCP_SYN | TCP_ACK ... (wire_tcp.h) */
	uint16_t wnd;                /* as on the wire (unscaled) */
	bool mss;                    /* options */
	uint16_t mss_val;
	bool ws;
	uint8_t ws_val;
	bool sack_perm;
	bool ts;
	uint32_t tsval, tsecr;
	uint8_t nsack;               /* 0..4 SACK blocks [left, right) */
	uint32_t sack[4][2];
	const uint8_t *raw_opts;     /* when set, these bytes are the options (padded with EOL) */
	uint8_t raw_opts_len;
	const void *payload;
	size_t plen;
	bool bad_csum;               /* spoil the TCP checksum */
	uint8_t doff_override;       /* non-zero: data offset field as given (in 32-bit words) */
};

/* A segment the stack sent, parsed. */
struct ts_seg {
	uint8_t eth_dst[6], eth_src[6];
	uint32_t src, dst;
	uint8_t ttl;
	bool df;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	uint8_t doff;                /* header bytes */
	bool csum_ok;                /* the TCP checksum verifies */
	/* options */
	bool mss, ws, sack_perm, ts, opt_bad;
	uint16_t mss_val;
	uint8_t ws_val;
	uint32_t tsval, tsecr;
	uint8_t nsack;
	uint32_t sack[4][2];
	uint8_t opts[40];
	uint8_t opts_len;
	/* payload */
	uint32_t len;                /* payload bytes on the wire */
	uint8_t data[TS_DATA_MAX];   /* the first TS_DATA_MAX of them */
};

/* Option bytes ts_build would emit for s (0 when they do not fit in 40). */
unsigned ts_opts_encode(const struct ts_out *s, uint8_t out[40]);
/* Write the frame into buf (cap bytes); returns its length, 0 if it does not fit. */
size_t ts_build(uint8_t *buf, size_t cap, const struct ts_out *s);
/* Build and inject. */
void ts_send(struct harness *h, const struct ts_out *s);

/* Parse a transmitted frame: 0, or -1 when it is not Ethernet/IPv4/TCP. */
int ts_parse(const uint8_t *frame, size_t len, struct ts_seg *out);
/* Next TCP segment the stack transmitted (frees the frame): true, or false when
 * none is queued. Frames that are not TCP are freed and added to *ts_other_frames. */
bool ts_pop(struct harness *h, struct ts_seg *out);
/* Pop and discard every queued TCP segment; returns how many. */
unsigned ts_flush(struct harness *h);
extern unsigned ts_other_frames;

/* Make the peer a REACHABLE neighbour (an ARP request from it, then a reply
 * that confirms it), and discard what the stack sends meanwhile. Configure the
 * stack with a long neigh_reachable_ns so it stays REACHABLE through long fake
 * clock jumps (retransmission tests run for minutes). */
void ts_peer_reachable(struct harness *h);

/* Human-readable one-liner of a segment ("S. seq=.. ack=.. win=.. len=.."), for failures. */
const char *ts_str(const struct ts_seg *s);

#endif
