/* packet_ring.h — a TPACKET_V3 receive ring (PACKET_RX_RING) filled by skiff as
 * the kernel's tpacket_rcv fills it, for libpcap's memory-mapped capture.
 *
 * Who owns what: the socket layer lets the kernel judge the PACKET_RX_RING
 * request (its errnos), then maps a memfd of that geometry — the program's mmap
 * of the socket maps the same memfd — and hands its address here; the layout
 * is wire_tpacket.h's (the kernel's ABI, checked against it at compile time in
 * the socket layer). A ring the kernel itself owned would not do: its
 * block-retire timer closes blocks it believes are its own. skiff
 * writes blocks exactly as net/packet/af_packet.c does (prb_open_block,
 * prb_fill_curr_block, prb_close_block, tpacket_rcv's V3 case, the retire
 * timer): a block is opened, filled with tpacket3_hdr + sockaddr_ll + frame
 * records (8-byte aligned, tp_next_offset chain, 0 on the last), and handed to
 * user space (block_status TP_STATUS_USER, | TP_STATUS_BLK_TMO on a timeout)
 * when the next frame does not fit or tp_retire_blk_tov expires with frames in
 * it. User space gives a block back by writing TP_STATUS_KERNEL; a block still
 * the user's when skiff needs it freezes the ring (frames dropped, counted).
 *
 *   put(frame) → fits in the open block? record : close it, open the next (if the
 *                user gave it back) → record, or drop
 *   tick(now)  → the open block has frames and its time is up → close, open next
 *   ready()    → the block before the open one is the user's (packet_poll)
 */
#ifndef SKIFF_PACKET_RING_H
#define SKIFF_PACKET_RING_H

#include <stdbool.h>
#include <stdint.h>

struct skiff_packet_info;

struct skiff_pkt_ring {
	uint8_t *base;                /* block i at base + i * block_size */
	uint32_t block_size, block_nr;
	uint32_t priv_len;            /* tp_sizeof_priv */
	uint32_t reserve;             /* PACKET_RESERVE (tp_reserve) */
	bool dgram;                   /* SOCK_DGRAM: no link header in the records */
	uint64_t tov_ns;              /* tp_retire_blk_tov */
	int64_t realtime_off_ns;      /* CLOCK_REALTIME - the stack clock, for tp_sec/tp_nsec */
	int kifindex[8];              /* sll_ifindex per skiff interface (kernel numbering) */
	/* writer state */
	uint32_t cur;                 /* the open (or frozen-on) block */
	bool open;                    /* false: frozen, waiting for the user to give cur back */
	uint32_t nxt_off, prev_off;   /* next record, last record, from the block start */
	uint64_t seq;                 /* next block sequence number */
	uint64_t deadline;            /* retire time of the open block */
	bool losing;                  /* drops happened: TP_STATUS_LOSING on the next close */
};

/* Set up and open block 0 (as init_prb_bdqc). -EINVAL on a bad geometry. */
int skiff_pkt_ring_init(struct skiff_pkt_ring *r, uint8_t *base, uint32_t block_size, uint32_t block_nr,
			uint32_t priv_len, uint32_t tov_ms, uint32_t reserve, bool dgram, uint64_t now);
/* One frame: data[0..caplen) is what the socket keeps (frame or payload).
 * 0, or -ENOBUFS (ring frozen: dropped). */
int skiff_pkt_ring_put(struct skiff_pkt_ring *r, const struct skiff_packet_info *info, const uint8_t *data,
		       uint32_t caplen, uint64_t now);
/* The retire timer. true when a block was handed to user space. */
bool skiff_pkt_ring_tick(struct skiff_pkt_ring *r, uint64_t now);
/* When tick wants to run next. */
uint64_t skiff_pkt_ring_next(const struct skiff_pkt_ring *r, uint64_t now);
/* packet_poll: the block before the current one is the user's. */
bool skiff_pkt_ring_ready(const struct skiff_pkt_ring *r);

#endif
