/* afxdp.c — AF_XDP driver on libxdp's xsk API.
 *
 * open: resolve the config → interface facts (ifindex, MTU, MAC, rx queues) →
 *   steering program attached (xdp_steer.c) → one UMEM of frames * nqueues
 *   frames with a skiff_pkt descriptor and a state byte per frame and a free
 *   stack of frame indices → one socket per queue sharing the UMEM (the first
 *   tries zero-copy, falls back to copy; later ones inherit its mode), busy-poll
 *   options → each fill ring primed (and kicked when the kernel asks) → each
 *   socket inserted into the XSK map. Any failure unwinds what was built.
 * rx_burst: reap completions (and retry a refused tx kick); for each queue in
 *   round-robin order peek the rx ring, point each frame's descriptor at the
 *   received bytes (off = XDP headroom), release the ring, refill the fill
 *   ring from the free stack; an empty pass kicks the kernel (recvfrom) when
 *   the fill ring asks for a wake-up or busy-poll is on (xdpsock's pattern),
 *   and a refused rx kick is retried on the next pass.
 * pool: alloc pops the free stack (off = SKIFF_HEADROOM), free pushes it.
 * tx_burst: on the first queue: reap completions, reserve tx slots for as many
 *   frames as fit, write addr = frame start + off, submit, kick with sendto when
 *   the kernel asks (copy mode sends at most 32 frames per call: kick again while
 *   it answers EAGAIN, bounded). Transmitted frames stay the driver's until the
 *   completion ring returns them to the free stack.
 * next_event: work that no fd announces — descriptors a refused (EBUSY,
 *   ENOBUFS, ENETDOWN...) or bounded kick left on the tx ring, a refused rx
 *   kick, copy-mode frames waiting for their completion — makes the device due
 *   at the last burst's `now` + a retry delay: 20 us, doubling up to 1 ms while
 *   bursts make no progress (a dead link must not spin a core), back to 20 us
 *   when they do. Nothing pending: UINT64_MAX.
 * close: detach the program, delete sockets and UMEM, free memory.
 *
 * Frame states (one byte per frame, checked on every transition): free (free
 * stack) → fill (fill ring, then the kernel's) → rx (received, held by the
 * stack) | free → app (allocated, held by the stack); rx|app → tx (tx ring until
 * completion) → free; rx|app → free (pool free). A transition from the wrong
 * state (a double free, a frame sent twice or after its free, a completion or
 * rx descriptor for a frame the kernel does not hold) is counted in
 * frame_state_errors and ignored (the frame is not pushed twice); builds
 * without NDEBUG also assert. Frames are indexed by addr / frame_size
 * (aligned UMEM).
 */
#include "afxdp.h"

#include <assert.h>
#include <errno.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "../dataplane/wire_eth.h"
#include "mcast_kernel.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif
#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif
#ifndef SO_BUSY_POLL_BUDGET
#define SO_BUSY_POLL_BUDGET 70
#endif

#define AFXDP_DEFAULT_FRAMES 4096u
#define AFXDP_DEFAULT_FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
#define AFXDP_DEFAULT_RING 2048u
#define AFXDP_DEFAULT_BUDGET 64u
#define AFXDP_MIN_FRAME_SIZE 2048u
#define AFXDP_XDP_HEADROOM 256u      /* XDP_PACKET_HEADROOM: where the kernel puts rx data */
#define AFXDP_L2_OVERHEAD 18u        /* Ethernet header + one 802.1Q tag */
#define AFXDP_BUSY_POLL_US 20
#define AFXDP_TX_BATCH 32u           /* copy mode: frames the kernel sends per sendto */
#define AFXDP_FILL_BATCH 64u         /* refill when at least this many slots are missing */
#define AFXDP_RETRY_MIN_NS 20000ull  /* next_event delay while work is pending (the runtime's sleep floor) */
#define AFXDP_RETRY_MAX_NS 1000000ull /* ... doubling up to this while bursts make no progress */
#define MSG_XSK_PERM "permission denied creating an AF_XDP socket: need CAP_NET_RAW/CAP_NET_ADMIN"

_Static_assert(AFXDP_XDP_HEADROOM >= SKIFF_HEADROOM, "received frames must keep the stack's headroom");

struct afxdp_queue {
	struct xsk_socket *xsk;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	unsigned qid;
	int fd;
	unsigned fill_target;  /* frames kept on the fill ring */
	unsigned tx_inflight;  /* submitted, not yet completed */
	bool tx_unkicked;      /* the last kick left descriptors on the tx ring */
	bool rx_unkicked;      /* the last rx wake-up (recvfrom) was refused: retry */
};

/* Where a frame is (see the top comment); one byte per frame. */
enum frame_state { FS_FREE = 0, FS_FILL, FS_RX, FS_TX, FS_APP };
#define FS_BIT(s) (1u << (s))

struct afxdp_dev {
	struct skiff_dev dev;       /* first: the ops get this pointer */
	struct skiff_pool pool;
	struct skiff_xdp_steer *steer;
	struct skiff_mcast_kernel *mck; /* skiff's groups joined on the kernel side (mcast_kernel.c) */
	uint8_t *area;              /* UMEM */
	size_t area_size;
	struct xsk_umem *umem;
	struct skiff_pkt *descs;    /* one per frame */
	uint32_t *free_stack;       /* frame indices */
	uint8_t *fstate;            /* enum frame_state, one per frame */
	unsigned free_top;
	unsigned nframes;
	unsigned frame_size;
	unsigned ring;
	struct afxdp_queue *q;
	unsigned nq;
	unsigned rx_next;           /* queue rx_burst starts with */
	int epfd;                   /* over all sockets when nq > 1, else -1 */
	bool zerocopy;
	bool busy_poll;             /* options accepted */
	bool busy_poll_wanted;
	uint64_t last_now;          /* `now` of the last burst: next_event counts from it */
	uint64_t retry_ns;          /* current retry delay for pending work (0: none yet) */
	struct skiff_afxdp_stats stats;
};

struct afxdp_params {
	const char *ifname;
	unsigned queue_first, nqueues, frames, frame_size, ring, budget;
	bool force_copy, force_zerocopy, busy_poll, skb_mode, quiet;
};

static const struct skiff_dev_ops afxdp_ops;

static struct afxdp_dev *dev_of(struct skiff_dev *dev) { return (struct afxdp_dev *)(void *)dev; }
static struct afxdp_dev *pool_dev(struct skiff_pool *pool)
{
	return (struct afxdp_dev *)(void *)((char *)pool - offsetof(struct afxdp_dev, pool));
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static bool is_pow2(unsigned v) { return v && !(v & (v - 1)); }

/* ---- frames ------------------------------------------------------------------ */

static uint64_t frame_addr(const struct afxdp_dev *d, uint32_t idx) { return (uint64_t)idx * d->frame_size; }
static uint32_t frame_index(const struct afxdp_dev *d, uint64_t addr) { return (uint32_t)(addr / d->frame_size); }

/* A transition from a state in `from` (FS_BIT mask) to `to`. From any other
 * state (or for an index outside the UMEM) it is a bug of the frame's user —
 * a double free, a frame sent twice — or of the kernel: counted, refused. */
static void frame_violation(struct afxdp_dev *d)
{
	d->stats.frame_state_errors++;
	assert(!"afxdp: frame state violation (double free, a frame used after its free or sent twice)");
}

static bool frame_move(struct afxdp_dev *d, uint32_t idx, unsigned from, enum frame_state to)
{
	if (idx >= d->nframes || !(FS_BIT(d->fstate[idx]) & from)) {
		frame_violation(d);
		return false;
	}
	d->fstate[idx] = (uint8_t)to;
	return true;
}

/* The frame goes back on the free stack, when it comes from a state in `from`. */
static void free_push(struct afxdp_dev *d, uint32_t idx, unsigned from)
{
	if (!frame_move(d, idx, from, FS_FREE))
		return;
	d->free_stack[d->free_top++] = idx; /* cannot overflow: a frame is pushed only from a non-free state */
}

static uint32_t free_pop(struct afxdp_dev *d, enum frame_state to)
{
	uint32_t idx = d->free_stack[--d->free_top];
	d->fstate[idx] = (uint8_t)to; /* the free stack holds only free frames */
	return idx;
}

/* Index of a descriptor that claims to be ours, or nframes when it is not one of ours. */
static uint32_t desc_index(const struct afxdp_dev *d, const struct skiff_pkt *p)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)d->descs;
	if (a < b || a >= b + (uintptr_t)d->nframes * sizeof(*p) || (a - b) % sizeof(*p))
		return d->nframes;
	return (uint32_t)((a - b) / sizeof(*p));
}

/* Completions: transmitted frames come back to the free stack. */
static void comp_reap(struct afxdp_dev *d, struct afxdp_queue *q)
{
	uint32_t idx, n;
	if (q->tx_inflight == 0)
		return;
	n = xsk_ring_cons__peek(&q->comp, d->ring, &idx);
	for (uint32_t i = 0; i < n; i++)
		free_push(d, frame_index(d, *xsk_ring_cons__comp_addr(&q->comp, idx + i)), FS_BIT(FS_TX));
	if (n) {
		xsk_ring_cons__release(&q->comp, n);
		q->tx_inflight = n < q->tx_inflight ? q->tx_inflight - n : 0;
		d->stats.tx_completed += n;
	}
}

static void comp_reap_all(struct afxdp_dev *d)
{
	for (unsigned i = 0; i < d->nq; i++)
		comp_reap(d, &d->q[i]);
}

/* Wake the kernel's rx side (NAPI). A refusal other than EAGAIN/EINTR
 * (ENETDOWN, ENXIO, EBUSY...) is retried on the next pass, and next_event
 * says so. */
static void kick_rx(struct afxdp_dev *d, struct afxdp_queue *q)
{
	d->stats.kicks++;
	q->rx_unkicked = false;
	if (recvfrom(q->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL) < 0 && errno != EAGAIN && errno != EINTR) {
		d->stats.kick_busy++;
		q->rx_unkicked = true;
	}
}

/* Keep fill_target frames on the fill ring, in batches. Returns the count submitted. */
static unsigned fill_refill(struct afxdp_dev *d, struct afxdp_queue *q, bool force)
{
	uint32_t slots = xsk_prod_nb_free(&q->fill, d->ring);
	uint32_t queued = d->ring - slots, want, idx;

	if (queued >= q->fill_target)
		return 0;
	want = q->fill_target - queued;
	if (want < AFXDP_FILL_BATCH && queued > 0 && !force)
		return 0;
	if (want > d->free_top) {
		want = d->free_top;
		d->stats.fill_starved++;
	}
	if (want == 0 || xsk_ring_prod__reserve(&q->fill, want, &idx) != want)
		return 0;
	for (uint32_t i = 0; i < want; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) = frame_addr(d, free_pop(d, FS_FILL));
	xsk_ring_prod__submit(&q->fill, want);
	return want;
}

/* ---- pool -------------------------------------------------------------------- */

static void pkt_reset(struct skiff_pkt *p)
{
	p->flags = 0;
	p->ifindex = 0;
	p->vlan_tci = 0;
	p->l3_off = p->l4_off = 0;
	p->next = p->chain = NULL;
	p->ts = 0;
}

static unsigned afxdp_pool_alloc(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct afxdp_dev *d = pool_dev(pool);
	if (d->free_top < n)
		comp_reap_all(d);
	if (n > d->free_top)
		n = d->free_top;
	for (unsigned i = 0; i < n; i++) {
		struct skiff_pkt *p = &d->descs[free_pop(d, FS_APP)];
		pkt_reset(p);
		p->off = SKIFF_HEADROOM;
		p->len = 0;
		pkts[i] = p;
	}
	return n;
}

static void afxdp_pool_free(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct afxdp_dev *d = pool_dev(pool);
	for (unsigned i = 0; i < n; i++)
		free_push(d, desc_index(d, pkts[i]), FS_BIT(FS_APP) | FS_BIT(FS_RX));
}

static const struct skiff_pool_ops afxdp_pool_ops = { afxdp_pool_alloc, afxdp_pool_free };

/* ---- data path ------------------------------------------------------------------ */

static uint32_t rx_link_flags(const uint8_t *frame, uint32_t len)
{
	if (len < ETH_HDR_LEN)
		return 0;
	if (eth_is_bcast(frame))
		return SKIFF_PKT_BCAST;
	return eth_is_mcast(frame) ? SKIFF_PKT_MCAST : 0;
}

static unsigned rx_queue(struct afxdp_dev *d, struct afxdp_queue *q, struct skiff_pkt **pkts, unsigned n,
			 uint64_t now)
{
	uint32_t idx;
	unsigned peeked = xsk_ring_cons__peek(&q->rx, n, &idx), got = 0, filled;

	for (unsigned i = 0; i < peeked; i++) {
		const struct xdp_desc *desc = xsk_ring_cons__rx_desc(&q->rx, idx + i);
		uint32_t fi = frame_index(d, desc->addr);
		struct skiff_pkt *p;
		if (!frame_move(d, fi, FS_BIT(FS_FILL), FS_RX))
			continue; /* not a frame the kernel held: never hand it up twice */
		p = &d->descs[fi];
		pkt_reset(p);
		p->off = (uint32_t)(desc->addr - frame_addr(d, fi));
		p->len = desc->len;
		p->flags = rx_link_flags(skiff_pkt_data(p), p->len);
		p->ts = now;
		pkts[got++] = p;
		d->stats.rx_bytes += desc->len;
	}
	if (peeked)
		xsk_ring_cons__release(&q->rx, peeked);
	d->stats.rx_packets += got;
	if (q->qid - d->q[0].qid < SKIFF_AFXDP_STATS_QUEUES)
		d->stats.rx_by_queue[q->qid - d->q[0].qid] += got;
	filled = fill_refill(d, q, false);
	/* xdpsock's pattern: an empty pass wakes the kernel when the fill ring asks
	 * (need_wakeup: the driver stopped for want of fill descriptors) or to drive
	 * the NAPI busy-poll loop; so does a refill it asks for, and a refused kick
	 * is retried. One wake-up per pass at most. */
	if (q->rx_unkicked || (d->busy_poll && peeked == 0) ||
	    ((peeked == 0 || filled) && xsk_ring_prod__needs_wakeup(&q->fill)))
		kick_rx(d, q);
	return got;
}

/* Wake the kernel's transmit path. Copy mode sends up to 32 frames per call and
 * answers EAGAIN while more are queued; completions are reaped between calls so
 * a full completion ring cannot stall it. Bounded: whatever is left is retried
 * by the next burst, and next_event makes the runtime come back for it. */
static void kick_tx(struct afxdp_dev *d, struct afxdp_queue *q)
{
	unsigned rounds = q->tx_inflight / AFXDP_TX_BATCH + 2;
	q->tx_unkicked = false;
	for (unsigned i = 0; i < rounds; i++) {
		if (xsk_prod_nb_free(&q->tx, d->ring) == d->ring)
			return; /* the kernel took every descriptor */
		if (!xsk_ring_prod__needs_wakeup(&q->tx))
			return;
		d->stats.kicks++;
		if (sendto(q->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EINTR) {
			/* EBUSY, ENOBUFS, ENETDOWN, ENXIO: try later */
			d->stats.kick_busy++;
			break;
		}
		comp_reap(d, q);
	}
	q->tx_unkicked = xsk_prod_nb_free(&q->tx, d->ring) != d->ring;
}

/* Work that no fd will announce: descriptors left on the tx ring, a refused rx
 * wake-up, or (copy mode) frames whose completion the next burst must reap. */
static bool work_pending(const struct afxdp_dev *d)
{
	for (unsigned i = 0; i < d->nq; i++) {
		const struct afxdp_queue *q = &d->q[i];
		if (q->tx_unkicked || q->rx_unkicked || (!d->zerocopy && q->tx_inflight))
			return true;
	}
	return false;
}

/* After a burst: the retry delay next_event adds to `now`. Progress (frames
 * received, queued or completed) resets it to the minimum; a burst that moved
 * nothing while work is pending doubles it, up to the maximum. */
static void retry_update(struct afxdp_dev *d, uint64_t now, bool progress)
{
	d->last_now = now;
	if (!work_pending(d)) {
		d->retry_ns = 0;
		return;
	}
	if (progress || d->retry_ns == 0)
		d->retry_ns = AFXDP_RETRY_MIN_NS;
	else
		d->retry_ns = d->retry_ns * 2 < AFXDP_RETRY_MAX_NS ? d->retry_ns * 2 : AFXDP_RETRY_MAX_NS;
}

static unsigned afxdp_rx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct afxdp_dev *d = dev_of(dev);
	uint64_t completed = d->stats.tx_completed;
	unsigned got = 0;

	comp_reap_all(d);
	if (d->q[0].tx_unkicked)
		kick_tx(d, &d->q[0]); /* frames a refused or bounded kick left behind */
	for (unsigned k = 0; k < d->nq && got < n; k++) {
		struct afxdp_queue *q = &d->q[(d->rx_next + k) % d->nq];
		got += rx_queue(d, q, pkts + got, n - got, now);
	}
	d->rx_next = (d->rx_next + 1) % d->nq;
	retry_update(d, now, got > 0 || d->stats.tx_completed != completed);
	return got;
}

/* A frame from another pool: copy it into a UMEM frame (the original is freed). */
static struct skiff_pkt *tx_adopt(struct afxdp_dev *d, struct skiff_pkt *p)
{
	struct skiff_pkt *c = NULL;
	if (afxdp_pool_alloc(&d->pool, &c, 1) != 1)
		return NULL;
	memcpy(skiff_pkt_data(c), skiff_pkt_data(p), p->len);
	c->len = p->len;
	skiff_pkt_free(p);
	d->stats.tx_copied++;
	return c;
}

static unsigned afxdp_tx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct afxdp_dev *d = dev_of(dev);
	struct afxdp_queue *q = &d->q[0];
	uint32_t max_len = (uint32_t)d->dev.mtu + AFXDP_L2_OVERHEAD;
	uint64_t completed = d->stats.tx_completed;
	unsigned done = 0, queued = 0;
	uint32_t idx = 0;

	comp_reap(d, q);
	for (; done < n; done++) {
		struct skiff_pkt *p = pkts[done];
		struct xdp_desc *desc;
		uint32_t fi;
		if (p->pool == &d->pool) {
			fi = desc_index(d, p);
			if (fi >= d->nframes || !(FS_BIT(d->fstate[fi]) & (FS_BIT(FS_APP) | FS_BIT(FS_RX)))) {
				/* sent twice, or after its free: the frame is not the
				 * caller's to give; counted, taken, not touched */
				frame_violation(d);
				continue;
			}
		}
		if (p->chain || p->len > max_len || p->len == 0) {
			/* the stack sends one frame per packet: a chain (or a frame
			 * beyond MTU + 18) is a bug upstream; dropped, counts as taken */
			skiff_pkt_free(p);
			d->stats.tx_dropped++;
			continue;
		}
		if (xsk_prod_nb_free(&q->tx, 1) < 1)
			break; /* ring full: the caller keeps the rest */
		if (p->pool != &d->pool) {
			struct skiff_pkt *c = tx_adopt(d, p);
			if (!c)
				break; /* no free frame: the caller keeps p */
			p = c;
		}
		fi = (uint32_t)(p - d->descs);
		d->fstate[fi] = FS_TX;
		xsk_ring_prod__reserve(&q->tx, 1, &idx); /* cannot fail: a slot is free */
		desc = xsk_ring_prod__tx_desc(&q->tx, idx);
		desc->addr = frame_addr(d, fi) + p->off;
		desc->len = p->len;
		desc->options = 0;
		d->stats.tx_bytes += p->len;
		queued++;
	}
	if (queued) {
		xsk_ring_prod__submit(&q->tx, queued);
		q->tx_inflight += queued;
		d->stats.tx_packets += queued;
	}
	if (done < n)
		d->stats.tx_ring_full++;
	if (q->tx_inflight)
		kick_tx(d, q);
	retry_update(d, now, queued > 0 || d->stats.tx_completed != completed);
	return done;
}

static struct skiff_pool *afxdp_pool(struct skiff_dev *dev) { return &dev_of(dev)->pool; }

static int afxdp_wakeup_fd(struct skiff_dev *dev)
{
	struct afxdp_dev *d = dev_of(dev);
	return d->epfd >= 0 ? d->epfd : d->q[0].fd;
}

/* Pending work no fd announces is due at the last burst's time + the retry
 * delay (already past when the caller's clock has moved on: due now). */
static uint64_t afxdp_next_event(struct skiff_dev *dev)
{
	struct afxdp_dev *d = dev_of(dev);
	if (!work_pending(d))
		return UINT64_MAX;
	return d->last_now + (d->retry_ns ? d->retry_ns : AFXDP_RETRY_MIN_NS);
}

/* ---- lifetime ------------------------------------------------------------------------ */

static void dev_destroy(struct afxdp_dev *d)
{
	skiff_mcast_kernel_close(d->mck, d->steer); /* the kernel leaves skiff's groups */
	/* program first: nothing is redirected to sockets that are going away */
	skiff_xdp_steer_close(d->steer);
	if (d->q) {
		/* sockets sharing the UMEM before the one that registered it */
		for (unsigned i = d->nq; i-- > 0;)
			if (d->q[i].xsk)
				xsk_socket__delete(d->q[i].xsk);
	}
	if (d->umem)
		xsk_umem__delete(d->umem);
	if (d->area)
		munmap(d->area, d->area_size);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->q);
	free(d->descs);
	free(d->free_stack);
	free(d->fstate);
	free(d);
}

static void afxdp_close(struct skiff_dev *dev)
{
	dev_destroy(dev_of(dev));
}

/* The kernel joins skiff's groups and keeps IGMP; the program steers them (mcast_kernel.h). */
static int afxdp_mcast_set(struct skiff_dev *dev, const struct skiff_dev_mcast *groups, unsigned n)
{
	struct afxdp_dev *d = dev_of(dev);
	return skiff_mcast_kernel_set(&d->mck, d->dev.name, d->steer, groups, n);
}

static const struct skiff_dev_ops afxdp_ops = {
	.rx_burst = afxdp_rx_burst,
	.tx_burst = afxdp_tx_burst,
	.pool = afxdp_pool,
	.wakeup_fd = afxdp_wakeup_fd,
	.next_event = afxdp_next_event,
	.close = afxdp_close,
	.lock_domain = NULL,
	.mcast_set = afxdp_mcast_set,
};

static int params_resolve(const struct skiff_afxdp_config *cfg, struct afxdp_params *p, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	memset(p, 0, sizeof(*p));
	if (!cfg || !cfg->ifname || !*cfg->ifname)
		return fail(err, errlen, -EINVAL, "no interface name given");
	p->ifname = cfg->ifname;
	p->queue_first = cfg->queue_first;
	p->nqueues = cfg->nqueues ? cfg->nqueues : 1;
	p->frames = cfg->frames ? cfg->frames : AFXDP_DEFAULT_FRAMES;
	p->frame_size = cfg->frame_size ? cfg->frame_size : AFXDP_DEFAULT_FRAME_SIZE;
	p->ring = cfg->ring ? cfg->ring : AFXDP_DEFAULT_RING;
	p->budget = cfg->busy_poll_budget ? cfg->busy_poll_budget : AFXDP_DEFAULT_BUDGET;
	p->force_copy = cfg->force_copy;
	p->force_zerocopy = cfg->force_zerocopy;
	p->busy_poll = cfg->busy_poll;
	p->skb_mode = cfg->skb_mode;
	p->quiet = cfg->quiet;
	if (strlen(p->ifname) >= IF_NAMESIZE)
		return fail(err, errlen, -ENODEV, "interface %s not found (name too long)", p->ifname);
	if (p->force_copy && p->force_zerocopy)
		return fail(err, errlen, -EINVAL, "force_copy and force_zerocopy exclude each other");
	if (!is_pow2(p->ring))
		return fail(err, errlen, -EINVAL, "ring size %u is not a power of two", p->ring);
	if (!is_pow2(p->frame_size) || p->frame_size < AFXDP_MIN_FRAME_SIZE ||
	    (page > 0 && p->frame_size > (unsigned long)page))
		return fail(err, errlen, -EINVAL, "frame size %u must be a power of two in %u..%ld", p->frame_size,
			    AFXDP_MIN_FRAME_SIZE, page);
	if (p->frames < 2 * AFXDP_FILL_BATCH || p->frames > (1u << 20))
		return fail(err, errlen, -EINVAL, "frames per queue %u out of range %u..%u", p->frames,
			    2 * AFXDP_FILL_BATCH, 1u << 20);
	if (p->queue_first + p->nqueues > SKIFF_STEER_MAX_QUEUES || p->nqueues > SKIFF_STEER_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, "queues %u..%u beyond the supported %u", p->queue_first,
			    p->queue_first + p->nqueues - 1, SKIFF_STEER_MAX_QUEUES);
	return 0;
}

/* ifindex, MTU, MAC and the queue range, in the caller's network namespace. */
static int iface_facts(struct afxdp_dev *d, const struct afxdp_params *p, char *err, size_t errlen)
{
	struct ifreq ifr;
	unsigned nrx = 0, last = p->queue_first + p->nqueues - 1;
	int fd, rc, mtu = 0;

	if (if_nametoindex(p->ifname) == 0)
		return fail(err, errlen, -ENODEV, "interface %s not found", p->ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, p->ifname, strlen(p->ifname));
	rc = ioctl(fd, SIOCGIFMTU, &ifr) < 0 ? -errno : 0;
	if (rc == 0) {
		mtu = ifr.ifr_mtu;
		rc = ioctl(fd, SIOCGIFHWADDR, &ifr) < 0 ? -errno : 0;
	}
	close(fd);
	if (rc < 0)
		return fail(err, errlen, rc, "cannot read MTU/MAC of %s: %s", p->ifname, strerror(-rc));
	memcpy(d->dev.mac, ifr.ifr_hwaddr.sa_data, 6);
	snprintf(d->dev.name, sizeof(d->dev.name), "%s", p->ifname);

	rc = skiff_xdp_rx_queues(p->ifname, &nrx);
	if (rc == -ENODEV)
		return fail(err, errlen, rc, "interface %s not found", p->ifname);
	if (rc == 0 && last >= nrx)
		return fail(err, errlen, -EINVAL, "queue %u does not exist on %s: it has %u rx queue(s)",
			    nrx > p->queue_first ? nrx : p->queue_first, p->ifname, nrx);
	/* rx data starts after the XDP headroom (more than SKIFF_HEADROOM, which
	 * tx frames keep) */
	if (mtu <= 0 || (unsigned)mtu + AFXDP_L2_OVERHEAD + AFXDP_XDP_HEADROOM > p->frame_size)
		return fail(err, errlen, -EMSGSIZE,
			    "MTU %d of %s does not fit a %u-byte frame (needs MTU + %u + headroom %u): lower the MTU",
			    mtu, p->ifname, p->frame_size, AFXDP_L2_OVERHEAD, AFXDP_XDP_HEADROOM);
	d->dev.mtu = (uint16_t)mtu;
	return 0;
}

static int umem_create(struct afxdp_dev *d, const struct afxdp_params *p, char *err, size_t errlen)
{
	struct xsk_umem_config uc = {
		.fill_size = p->ring,
		.comp_size = p->ring,
		.frame_size = p->frame_size,
		.frame_headroom = 0,
		.flags = 0,
	};
	int rc;

	d->nframes = p->frames * p->nqueues;
	d->frame_size = p->frame_size;
	d->ring = p->ring;
	d->area_size = (size_t)d->nframes * p->frame_size;
	d->area = mmap(NULL, d->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (d->area == MAP_FAILED) {
		d->area = NULL;
		return fail(err, errlen, -ENOMEM, "cannot map %zu bytes of UMEM", d->area_size);
	}
	d->descs = calloc(d->nframes, sizeof(*d->descs));
	d->free_stack = calloc(d->nframes, sizeof(*d->free_stack));
	d->fstate = calloc(d->nframes, sizeof(*d->fstate)); /* all FS_FREE */
	if (!d->descs || !d->free_stack || !d->fstate)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (uint32_t i = 0; i < d->nframes; i++) {
		struct skiff_pkt *pk = &d->descs[i];
		pk->head = d->area + frame_addr(d, i);
		pk->cap = d->frame_size;
		pk->pool = &d->pool;
		pk->cookie = frame_addr(d, i);
		d->free_stack[i] = d->nframes - 1 - i; /* low frames first */
	}
	d->free_top = d->nframes;
	rc = xsk_umem__create(&d->umem, d->area, d->area_size, &d->q[0].fill, &d->q[0].comp, &uc);
	if (rc < 0) {
		d->umem = NULL;
		if (rc == -EPERM || rc == -EACCES)
			return fail(err, errlen, rc, "%s", MSG_XSK_PERM);
		if (rc == -ENOMEM || rc == -ENOBUFS)
			return fail(err, errlen, rc,
				    "cannot register %zu bytes of UMEM: %s (RLIMIT_MEMLOCK? needs CAP_IPC_LOCK)",
				    d->area_size, strerror(-rc));
		if (rc == -EAFNOSUPPORT)
			return fail(err, errlen, rc, "AF_XDP is not available in this kernel");
		return fail(err, errlen, rc, "cannot register the UMEM: %s", strerror(-rc));
	}
	return 0;
}

static void busy_poll_setup(struct afxdp_dev *d, struct afxdp_queue *q, const struct afxdp_params *p)
{
	int one = 1, us = AFXDP_BUSY_POLL_US, budget = (int)p->budget;
	bool ok = setsockopt(q->fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &one, sizeof(one)) == 0 &&
		  setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof(us)) == 0 &&
		  setsockopt(q->fd, SOL_SOCKET, SO_BUSY_POLL_BUDGET, &budget, sizeof(budget)) == 0;
	if (!ok) {
		/* ENOPROTOOPT (old kernel), EINVAL, EPERM: carry on without it */
		if (d->busy_poll && !p->quiet)
			fprintf(stderr, "skiff: %s queue %u: busy-poll socket options refused (%s); polling normally\n",
				p->ifname, q->qid, strerror(errno));
		d->busy_poll = false;
	}
}

static int xsk_create_one(struct afxdp_dev *d, struct afxdp_queue *q, bool first, uint16_t mode_flag,
			  const struct afxdp_params *p)
{
	struct xsk_socket_config sc = {
		.rx_size = p->ring,
		.tx_size = p->ring,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.xdp_flags = 0,
		.bind_flags = (uint16_t)(XDP_USE_NEED_WAKEUP | mode_flag),
	};
	if (first)
		return xsk_socket__create(&q->xsk, p->ifname, q->qid, d->umem, &q->rx, &q->tx, &sc);
	return xsk_socket__create_shared(&q->xsk, p->ifname, q->qid, d->umem, &q->rx, &q->tx, &q->fill, &q->comp, &sc);
}

/* The first socket decides zero-copy or copy; the others share its UMEM and mode. */
static int sockets_create(struct afxdp_dev *d, const struct afxdp_params *p, char *err, size_t errlen)
{
	for (unsigned i = 0; i < d->nq; i++) {
		struct afxdp_queue *q = &d->q[i];
		int rc;
		q->qid = p->queue_first + i;
		q->fd = -1;
		if (i == 0 && !p->force_copy) {
			rc = xsk_create_one(d, q, true, XDP_ZEROCOPY, p);
			if (rc == 0)
				d->zerocopy = true;
			else if (p->force_zerocopy)
				return fail(err, errlen, rc, "%s queue %u refuses zero-copy: %s", p->ifname, q->qid,
					    strerror(-rc));
			else
				rc = xsk_create_one(d, q, true, XDP_COPY, p);
		} else {
			rc = xsk_create_one(d, q, i == 0, i == 0 ? XDP_COPY : 0, p);
		}
		if (rc < 0) {
			q->xsk = NULL;
			if (rc == -EPERM || rc == -EACCES)
				return fail(err, errlen, rc, "%s", MSG_XSK_PERM);
			if (rc == -EBUSY)
				return fail(err, errlen, rc, "%s queue %u already has an AF_XDP socket", p->ifname,
					    q->qid);
			return fail(err, errlen, rc, "cannot bind an AF_XDP socket to %s queue %u: %s", p->ifname,
				    q->qid, strerror(-rc));
		}
		q->fd = xsk_socket__fd(q->xsk);
		q->fill_target = d->ring < p->frames / 2 ? d->ring : p->frames / 2;
		if (p->busy_poll)
			busy_poll_setup(d, q, p);
	}
	return 0;
}

static int queues_start(struct afxdp_dev *d, char *err, size_t errlen)
{
	if (d->nq > 1) {
		d->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (d->epfd < 0)
			return fail(err, errlen, -errno, "epoll_create1: %s", strerror(errno));
	}
	for (unsigned i = 0; i < d->nq; i++) {
		struct afxdp_queue *q = &d->q[i];
		int rc;
		fill_refill(d, q, true);
		if (xsk_ring_prod__needs_wakeup(&q->fill))
			kick_rx(d, q);
		if (d->epfd >= 0) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };
			if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, q->fd, &ev) < 0)
				return fail(err, errlen, -errno, "epoll_ctl: %s", strerror(errno));
		}
		rc = skiff_xdp_steer_add_xsk(d->steer, q->qid, q->fd);
		if (rc < 0)
			return fail(err, errlen, rc, "cannot insert the %s queue %u socket into the XSK map: %s",
				    d->dev.name, q->qid, strerror(-rc));
	}
	return 0;
}

int skiff_afxdp_open(const struct skiff_afxdp_config *cfg, struct skiff_dev **out, char *err, size_t errlen)
{
	struct skiff_xdp_steer_opts so = { 0 };
	struct afxdp_params p;
	struct afxdp_dev *d;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!out)
		return fail(err, errlen, -EINVAL, "no output pointer");
	*out = NULL;
	rc = params_resolve(cfg, &p, err, errlen);
	if (rc < 0)
		return rc;
	d = calloc(1, sizeof(*d));
	if (!d)
		return fail(err, errlen, -ENOMEM, "out of memory");
	d->dev.ops = &afxdp_ops;
	d->dev.caps = SKIFF_DEV_CAP_KERNEL_MCAST; /* no offloads: AF_XDP carries no checksum metadata here; the
						   * kernel speaks IGMP for skiff's groups (mcast_kernel.h) */
	d->pool.ops = &afxdp_pool_ops;
	d->epfd = -1;
	d->nq = p.nqueues;
	d->busy_poll = d->busy_poll_wanted = p.busy_poll;
	d->q = calloc(p.nqueues, sizeof(*d->q));
	if (!d->q) {
		free(d);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	rc = iface_facts(d, &p, err, errlen);
	if (rc == 0) {
		so.skb_mode = p.skb_mode;
		so.quiet = p.quiet;
		rc = skiff_xdp_steer_open_opts(p.ifname, p.queue_first + p.nqueues, &so, &d->steer, err, errlen);
	}
	if (rc == 0)
		rc = umem_create(d, &p, err, errlen);
	if (rc == 0)
		rc = sockets_create(d, &p, err, errlen);
	if (rc == 0)
		rc = queues_start(d, err, errlen);
	if (rc < 0) {
		dev_destroy(d);
		return rc;
	}
	*out = &d->dev;
	return 0;
}

/* ---- accessors ------------------------------------------------------------------------ */

static struct afxdp_dev *as_afxdp(struct skiff_dev *dev)
{
	return dev && dev->ops == &afxdp_ops ? dev_of(dev) : NULL;
}

struct skiff_xdp_steer *skiff_afxdp_steer(struct skiff_dev *dev)
{
	struct afxdp_dev *d = as_afxdp(dev);
	return d ? d->steer : NULL;
}

const char *skiff_afxdp_mode(struct skiff_dev *dev)
{
	struct afxdp_dev *d = as_afxdp(dev);
	return d ? (d->zerocopy ? "zero-copy" : "copy") : NULL;
}

const char *skiff_afxdp_xdp_mode(struct skiff_dev *dev)
{
	struct afxdp_dev *d = as_afxdp(dev);
	return d ? skiff_xdp_steer_mode(d->steer) : NULL;
}

bool skiff_afxdp_busy_poll(struct skiff_dev *dev)
{
	struct afxdp_dev *d = as_afxdp(dev);
	return d && d->busy_poll;
}

int skiff_afxdp_stats(struct skiff_dev *dev, struct skiff_afxdp_stats *out)
{
	struct afxdp_dev *d = as_afxdp(dev);
	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!d)
		return -EINVAL;
	*out = d->stats;
	for (unsigned i = 0; i < d->nq; i++) {
		struct xdp_statistics ks;
		socklen_t len = sizeof(ks);
		memset(&ks, 0, sizeof(ks));
		if (getsockopt(d->q[i].fd, SOL_XDP, XDP_STATISTICS, &ks, &len) < 0)
			continue;
		out->k_rx_dropped += ks.rx_dropped;
		out->k_rx_invalid_descs += ks.rx_invalid_descs;
		out->k_tx_invalid_descs += ks.tx_invalid_descs;
		out->k_rx_ring_full += ks.rx_ring_full;
		out->k_rx_fill_ring_empty_descs += ks.rx_fill_ring_empty_descs;
		out->k_tx_ring_empty_descs += ks.tx_ring_empty_descs;
	}
	out->frames_total = d->nframes;
	out->frames_free = d->free_top;
	return 0;
}
