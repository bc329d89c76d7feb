/* pkt.h — packet buffer that wraps a driver frame without copying.
 *
 * A driver hands the stack `struct skiff_pkt` descriptors that point into its own
 * frame memory (a UMEM frame, an mbuf, a loop-pool slot). Data lives in
 * [head+off, head+off+len); the bytes before `off` are headroom that output paths
 * prepend headers into. A packet returns to the pool that produced it through
 * skiff_pkt_free(), so the stack never needs to know which driver owns a frame.
 *
 * `next` links packets in queues (socket receive queue, ARP hold queue, tx queue).
 * `chain` links the fragments of one reassembled datagram, in offset order: a
 * datagram larger than a frame is a chain, never a copy.
 */
#ifndef SKIFF_PKT_H
#define SKIFF_PKT_H

#include <stddef.h>
#include <stdint.h>

#define SKIFF_HEADROOM 128u

struct skiff_pkt;
struct skiff_pool;

struct skiff_pool_ops {
	/* Fill pkts[0..n) with fresh empty packets (off = SKIFF_HEADROOM, len = 0). Returns count. */
	unsigned (*alloc)(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n);
	void (*free)(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n);
};

struct skiff_pool {
	const struct skiff_pool_ops *ops;
};

/* Offload flags (rx results and tx requests). */
enum {
	SKIFF_PKT_RX_IP_CSUM_GOOD = 1u << 0, /* driver verified the IPv4 header checksum */
	SKIFF_PKT_RX_L4_CSUM_GOOD = 1u << 1, /* driver verified the L4 checksum */
	SKIFF_PKT_TX_L4_CSUM      = 1u << 2, /* driver must fill the whole L4 checksum (field content undefined) */
	SKIFF_PKT_RX_VLAN         = 1u << 3, /* vlan_tci holds a stripped/parsed tag */
	SKIFF_PKT_BCAST           = 1u << 4, /* link-layer broadcast */
	SKIFF_PKT_MCAST           = 1u << 5, /* link-layer multicast */
	SKIFF_PKT_LOCAL           = 1u << 6, /* looped back inside the stack (never set by a driver) */
};

struct skiff_pkt {
	uint8_t *head;            /* start of the frame buffer */
	uint32_t cap;             /* bytes available from head */
	uint32_t off;             /* start of data, from head */
	uint32_t len;             /* bytes of data */
	uint32_t flags;           /* SKIFF_PKT_* */
	uint16_t ifindex;         /* receiving / sending interface */
	uint16_t vlan_tci;
	uint16_t l3_off;          /* offsets from head, set by input parsing */
	uint16_t l4_off;
	struct skiff_pkt *next;   /* queue link */
	struct skiff_pkt *chain;  /* next fragment of the same datagram */
	struct skiff_pool *pool;  /* who frees this */
	uint64_t cookie;          /* driver private (UMEM address, mbuf pointer) */
	uint64_t ts;              /* receive or enqueue time, ns */
	union {                   /* per-layer scratch while a layer owns the packet */
		uint8_t bytes[32];
		uint64_t u64[4];
	} cb;
};

static inline uint8_t *skiff_pkt_data(const struct skiff_pkt *p) { return p->head + p->off; }
static inline uint32_t skiff_pkt_headroom(const struct skiff_pkt *p) { return p->off; }
static inline uint32_t skiff_pkt_tailroom(const struct skiff_pkt *p) { return p->cap - p->off - p->len; }

/* Grow the front by n bytes; NULL if the headroom is short. */
static inline uint8_t *skiff_pkt_push(struct skiff_pkt *p, uint32_t n)
{
	if (p->off < n)
		return NULL;
	p->off -= n;
	p->len += n;
	return p->head + p->off;
}

/* Drop n bytes from the front; NULL if the packet is shorter. */
static inline uint8_t *skiff_pkt_pull(struct skiff_pkt *p, uint32_t n)
{
	if (p->len < n)
		return NULL;
	p->off += n;
	p->len -= n;
	return p->head + p->off;
}

/* Grow the tail by n bytes; returns a pointer to the new bytes or NULL. */
static inline uint8_t *skiff_pkt_put(struct skiff_pkt *p, uint32_t n)
{
	uint8_t *t;
	if (skiff_pkt_tailroom(p) < n)
		return NULL;
	t = p->head + p->off + p->len;
	p->len += n;
	return t;
}

static inline void skiff_pkt_trim(struct skiff_pkt *p, uint32_t new_len)
{
	if (new_len < p->len)
		p->len = new_len;
}

static inline unsigned skiff_pool_alloc(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	return pool->ops->alloc(pool, pkts, n);
}

static inline struct skiff_pkt *skiff_pool_get(struct skiff_pool *pool)
{
	struct skiff_pkt *p = NULL;
	return pool->ops->alloc(pool, &p, 1) == 1 ? p : NULL;
}

/* Free one packet and every fragment chained behind it. */
void skiff_pkt_free(struct skiff_pkt *p);
/* Free a burst (each with its chain), batching by pool. */
void skiff_pkt_free_burst(struct skiff_pkt **pkts, unsigned n);
/* Free a `next`-linked list. */
void skiff_pkt_free_list(struct skiff_pkt *head);

/* Copy the bytes of a chain into new frames from pool of at most `piece` bytes
 * each (pieces other than the last a multiple of 8 when piece is): the re-cut
 * for fragmenting a chain whose frames do not fit the fragment rules. NULL when
 * the pool runs dry. src is not freed. */
struct skiff_pkt *skiff_pkt_recut(struct skiff_pool *pool, const struct skiff_pkt *src, uint32_t piece);
/* Total payload bytes of a chain. */
static inline uint32_t skiff_pkt_chain_len(const struct skiff_pkt *p)
{
	uint32_t n = 0;
	for (; p; p = p->chain)
		n += p->len;
	return n;
}

/* A pool of fixed-size buffers in one allocation: used by the loop driver, tests
 * and anything that needs frames not backed by a NIC. Allocation is a LIFO stack:
 * no malloc after creation. */
struct skiff_mempool;
int skiff_mempool_create(unsigned count, unsigned buf_size, struct skiff_mempool **out);
void skiff_mempool_destroy(struct skiff_mempool *mp);
struct skiff_pool *skiff_mempool_pool(struct skiff_mempool *mp);
unsigned skiff_mempool_avail(const struct skiff_mempool *mp);
unsigned skiff_mempool_count(const struct skiff_mempool *mp);

#endif
