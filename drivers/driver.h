/* driver.h — the one ops table every packet I/O backend implements.
 *
 * rx_burst hands up to n received frames to the caller (ownership moves with
 * them; they go back through skiff_pkt_free). tx_burst takes up to n frames and
 * returns how many it accepted; the caller still owns the rest and may retry or
 * free them. `now` (ns) is the caller's clock, so wrapper drivers such as `fault`
 * can delay frames deterministically. Drivers: loop, fault, pcap (this issue),
 * afxdp and dpdk (issue "Real interfaces").
 *
 * Threading: a device, and any pool that receivers free its frames into, is driven
 * by one thread at a time (the socket layer serialises entry). A loop pair is one
 * unit: both ends share pools, so both must be driven under the same lock.
 * Wrappers (fault, pcap) own `inner` once they succeed; on failure it stays the
 * caller's.
 */
#ifndef SKIFF_DRIVER_H
#define SKIFF_DRIVER_H

#include <stdint.h>

#include "../dataplane/pkt.h"

enum {
	SKIFF_DEV_CAP_RX_L4_CSUM = 1u << 0, /* sets SKIFF_PKT_RX_L4_CSUM_GOOD */
	SKIFF_DEV_CAP_TX_L4_CSUM = 1u << 1, /* honours SKIFF_PKT_TX_L4_CSUM */
	SKIFF_DEV_CAP_RX_IP_CSUM = 1u << 2,
	SKIFF_DEV_CAP_KERNEL_MCAST = 1u << 3, /* the kernel speaks IGMP/MLD for the groups mcast_set gives it */
};

struct skiff_dev;

/* One multicast group the stack receives on a device (mcast_set). */
#define SKIFF_DEV_MCAST_MAX 512
struct skiff_dev_mcast {
	uint8_t family;    /* 4 or 6 (SKIFF_AF_INET / SKIFF_AF_INET6) */
	uint8_t addr[16];  /* the group, wire order (IPv4: the first 4 bytes) */
};

struct skiff_dev_ops {
	unsigned (*rx_burst)(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now);
	unsigned (*tx_burst)(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now);
	/* Pool that output frames for this device come from. */
	struct skiff_pool *(*pool)(struct skiff_dev *dev);
	/* An fd that becomes readable when rx work may be pending, or -1. */
	int (*wakeup_fd)(struct skiff_dev *dev);
	/* Earliest time (ns) at which the device has deferred work (fault delays), or UINT64_MAX. */
	uint64_t (*next_event)(struct skiff_dev *dev);
	void (*close)(struct skiff_dev *dev);
	/* Devices that share state (a loop pair's pools and rings) return the same
	 * non-NULL token; the socket layer puts their stacks under one lock. NULL or
	 * absent: independent. */
	const void *(*lock_domain)(struct skiff_dev *dev);
	/* Optional: the whole set of multicast groups the stack has joined on this
	 * device, after every change. The device makes its link receive them (the
	 * NIC's multicast MAC filter; AF_XDP: the kernel joins them on its interface
	 * and the XDP program steers them to skiff). 0 or -errno. Absent: the device
	 * already receives every multicast frame (loop). */
	int (*mcast_set)(struct skiff_dev *dev, const struct skiff_dev_mcast *groups, unsigned n);
};

struct skiff_dev {
	const struct skiff_dev_ops *ops;
	char name[32];
	uint8_t mac[6];
	uint16_t mtu;   /* L3 MTU, e.g. 1500 */
	uint32_t caps;  /* SKIFF_DEV_CAP_* */
};

static inline unsigned skiff_dev_rx(struct skiff_dev *d, struct skiff_pkt **p, unsigned n, uint64_t now)
{
	return d->ops->rx_burst(d, p, n, now);
}
static inline unsigned skiff_dev_tx(struct skiff_dev *d, struct skiff_pkt **p, unsigned n, uint64_t now)
{
	return d->ops->tx_burst(d, p, n, now);
}
static inline struct skiff_pool *skiff_dev_pool(struct skiff_dev *d) { return d->ops->pool(d); }
static inline int skiff_dev_wakeup_fd(struct skiff_dev *d) { return d->ops->wakeup_fd ? d->ops->wakeup_fd(d) : -1; }
static inline uint64_t skiff_dev_next_event(struct skiff_dev *d)
{
	return d->ops->next_event ? d->ops->next_event(d) : UINT64_MAX;
}
static inline const void *skiff_dev_lock_domain(struct skiff_dev *d)
{
	return d->ops->lock_domain ? d->ops->lock_domain(d) : NULL;
}
static inline void skiff_dev_close(struct skiff_dev *d)
{
	if (d)
		d->ops->close(d);
}

/* loop: two devices wired back to back in one process. Frames sent on one are
 * received on the other. Each end has its own mempool of `nbufs` frames of
 * `buf_size` bytes and a ring of `ring` slots; a full ring drops (counted). */
struct skiff_loop_config {
	unsigned nbufs;     /* frames per end, default 4096 */
	unsigned buf_size;  /* default 2048 + SKIFF_HEADROOM */
	unsigned ring;      /* power of two, default 1024 */
	uint16_t mtu;       /* default 1500 */
	uint32_t caps;      /* offload caps to advertise, default 0 */
};
int skiff_loop_pair(const struct skiff_loop_config *cfg, struct skiff_dev **a, struct skiff_dev **b);
struct skiff_loop_stats { uint64_t tx, rx, ring_full_drops; };
void skiff_loop_stats(struct skiff_dev *dev, struct skiff_loop_stats *out);

/* fault: wraps `inner`; applies seeded impairments on the transmit side. Rates are
 * in parts per million. `delay_ns` holds every frame back that long (plus up to
 * `jitter_ns`); reordering swaps a frame behind the next one. Deterministic for a
 * given seed and call sequence. The wrapper owns `inner` and closes it. */
struct skiff_fault_config {
	uint64_t seed;
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t corrupt_ppm;  /* flips one random bit in the frame */
	uint64_t delay_ns;
	uint64_t jitter_ns;
	unsigned max_held;     /* frames held for delay/reorder, default 1024 */
};
int skiff_fault_wrap(struct skiff_dev *inner, const struct skiff_fault_config *cfg, struct skiff_dev **out);
struct skiff_fault_stats { uint64_t passed, lost, duplicated, reordered, corrupted, delayed, held_drops; };
void skiff_fault_stats(struct skiff_dev *dev, struct skiff_fault_stats *out);

/* pcap: wraps `inner`; writes every received and transmitted frame to `path` in
 * classic pcap format (LINKTYPE_ETHERNET, ns timestamps from `now`). The wrapper
 * owns `inner` and closes it. */
int skiff_pcap_wrap(struct skiff_dev *inner, const char *path, struct skiff_dev **out);

#endif
