/* afxdp.h — the AF_XDP driver: skiff on a real interface queue, no copies.
 *
 * One UMEM (the frame memory) shared by one AF_XDP socket per configured rx
 * queue; every UMEM frame has a `struct skiff_pkt` descriptor pointing into it,
 * so received frames go up the stack in place and output frames are built in
 * place. The steering program (ebpf/steer.bpf.c, loaded by drivers/xdp_steer.c)
 * sends only skiff's frames to the sockets; register skiff's addresses through
 * skiff_afxdp_steer() before expecting traffic.
 *
 * Queues: rx_burst round-robins over all configured queues; transmit goes on the
 * first one (queue_first). wakeup_fd is the socket of that queue, or an epoll fd
 * over all sockets when there are several. It says nothing about transmit:
 * while frames wait on the tx ring after a refused kick (link down, EBUSY,
 * ENOBUFS), a refused rx wake-up needs repeating, or copy-mode frames await
 * their completion, next_event is due (the last burst's `now` + 20 us, backing
 * off to 1 ms while nothing moves), so a caller that sleeps on wakeup_fd must
 * bound its sleep by next_event and call rx_burst or tx_burst then.
 *
 * Frame misuse (a double free, a frame sent twice or after its free) is
 * counted in frame_state_errors and refused; builds without NDEBUG assert.
 *
 * Checksums: caps = 0 (AF_XDP carries no checksum metadata here). A Linux peer
 * on a veth (or another virtual device with tx checksum offload) sends
 * CHECKSUM_PARTIAL frames: the L4 checksum field holds only the pseudo-header
 * sum and nothing completes it on the way to XDP/AF_XDP (seen on veth, kernel
 * 6.18: every UDP datagram from a socket). The stack's software check drops
 * them; turn tx checksum offload off on the sending peer (`ethtool -K <peer> tx
 * off`), as the integration tests do. Frames from a real NIC are complete.
 *
 * Frames the caller still holds when it closes the device point into freed
 * memory: free every packet first (as with any driver).
 * The device is driven by one thread at a time (driver.h). skiff_afxdp_open
 * returns 0 or -errno, with a one-line reason in err.
 */
#ifndef SKIFF_AFXDP_H
#define SKIFF_AFXDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "xdp_steer.h"

struct skiff_afxdp_config {
	const char *ifname;
	unsigned queue_first;       /* first rx queue index, default 0 */
	unsigned nqueues;           /* queues from queue_first, default 1 */
	unsigned frames;            /* UMEM frames per queue, default 4096 */
	unsigned frame_size;        /* power of two, 2048..page size, default 4096 (XSK_UMEM__DEFAULT_FRAME_SIZE) */
	unsigned ring;              /* rx/tx/fill/completion ring slots, power of two, default 2048 */
	bool force_copy;            /* XDP_COPY only */
	bool force_zerocopy;        /* XDP_ZEROCOPY or fail; default: try zero-copy, fall back to copy */
	bool busy_poll;             /* SO_PREFER_BUSY_POLL + SO_BUSY_POLL + SO_BUSY_POLL_BUDGET */
	unsigned busy_poll_budget;  /* default 64 */
	bool skb_mode;              /* attach the steering program in SKB (generic) mode */
	bool quiet;                 /* no notes on stderr (SKB fallback, busy-poll refused) */
};

int skiff_afxdp_open(const struct skiff_afxdp_config *cfg, struct skiff_dev **out, char *err, size_t errlen);

/* The steering program of the device: register skiff's addresses with it. */
struct skiff_xdp_steer *skiff_afxdp_steer(struct skiff_dev *dev);

/* "zero-copy" or "copy" (NULL for a device that is not afxdp). */
const char *skiff_afxdp_mode(struct skiff_dev *dev);
/* "native" or "skb": how the steering program is attached. */
const char *skiff_afxdp_xdp_mode(struct skiff_dev *dev);
/* true when every busy-poll socket option was accepted. */
bool skiff_afxdp_busy_poll(struct skiff_dev *dev);

#define SKIFF_AFXDP_STATS_QUEUES 8
struct skiff_afxdp_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;    /* put on the tx ring */
	uint64_t tx_completed;            /* returned by the completion ring */
	uint64_t tx_ring_full;            /* tx_burst calls that could not take every frame */
	uint64_t tx_dropped;              /* chained or oversized frames, freed */
	uint64_t tx_copied;               /* frames from another pool, copied into a UMEM frame */
	uint64_t fill_starved;            /* refills that found no free frame */
	uint64_t kicks;                   /* sendto/recvfrom wake-ups */
	uint64_t kick_busy;               /* wake-ups answered EBUSY/ENOBUFS/ENETDOWN/...: retried later */
	uint64_t frame_state_errors;      /* double frees, frames sent twice...: refused (see afxdp.c) */
	/* kernel counters (XDP_STATISTICS), summed over queues */
	uint64_t k_rx_dropped, k_rx_invalid_descs, k_tx_invalid_descs;
	uint64_t k_rx_ring_full, k_rx_fill_ring_empty_descs, k_tx_ring_empty_descs;
	uint64_t rx_by_queue[SKIFF_AFXDP_STATS_QUEUES]; /* frames received per configured queue (first 8) */
	/* frame accounting */
	unsigned frames_total, frames_free;
};
/* 0, or -EINVAL for a device that is not afxdp. */
int skiff_afxdp_stats(struct skiff_dev *dev, struct skiff_afxdp_stats *out);

#endif
