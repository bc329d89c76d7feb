/* loop.c — two devices wired back to back in one process.
 *
 * Flow: skiff_loop_pair() builds one shared `loop_pair` holding two ends. Each end
 * has its own mempool (the frames it transmits come from it), an inbound ring of
 * frame pointers (power of two, one producer: the peer) and an eventfd.
 *   tx_burst: check each frame (single buffer, fits mtu + 18), fill the L4
 *     checksum when the dev offers TX_L4_CSUM and the frame asks for it, push the
 *     pointer onto the peer's ring (no copy). A full ring or a closed peer frees
 *     the frame and counts it in ring_full_drops; it still counts as accepted.
 *     Then the peer's eventfd is signalled.
 *   rx_burst: pop pointers off the own ring, reset link and per-receive fields,
 *     set link-layer and (verified) checksum flags; drain the eventfd once the
 *     ring is empty. The receiver frees frames back to the sender's pool.
 *   close: free the frames still queued toward this end, close its eventfd and
 *     drop a reference; the last close destroys both mempools, so frames of a
 *     closed end that the peer still holds stay valid until the peer closes.
 * Both ends must be driven from one thread: a receiver frees into the sender's
 * mempool, which has no locking. The eventfd is for polling only: nobody but
 * this driver may read it (the driver tracks whether it is signalled).
 */
#include "driver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../dataplane/csum.h"
#include "../dataplane/view.h"
#include "../dataplane/wire_eth.h"
#include "../dataplane/wire_ip4.h"
#include "../dataplane/wire_udp.h"

#define LOOP_DEFAULT_NBUFS 4096u
#define LOOP_DEFAULT_BUF_SIZE (2048u + SKIFF_HEADROOM)
#define LOOP_DEFAULT_RING 1024u
#define LOOP_DEFAULT_MTU 1500u
#define LOOP_MIN_MTU 68u        /* RFC 791: every IPv4 host must take 68 bytes */
#define LOOP_L2_OVERHEAD 18u    /* Ethernet header + one 802.1Q tag */

struct loop_ring {
	struct skiff_pkt **slot;
	uint32_t mask;
	uint32_t head;  /* next slot to pop (free-running) */
	uint32_t tail;  /* next slot to fill (free-running) */
};

struct loop_pair;

struct loop_end {
	struct skiff_dev dev;        /* first: the ops get this pointer */
	struct loop_pair *pair;
	struct loop_end *peer;
	struct skiff_mempool *mp;
	struct loop_ring inbound;    /* frames the peer sent toward this end */
	int efd;
	bool open;
	bool signalled;              /* efd counter is non-zero */
	struct skiff_loop_stats stats;
};

struct loop_pair {
	unsigned refs;
	struct loop_end end[2];
};

struct loop_params {
	unsigned nbufs, buf_size, ring;
	uint16_t mtu;
	uint32_t caps;
};

static const struct skiff_dev_ops loop_ops;

static struct loop_end *end_of(struct skiff_dev *dev) { return (struct loop_end *)(void *)dev; }

/* ---- ring ------------------------------------------------------------------ */

static int ring_init(struct loop_ring *r, unsigned size)
{
	r->slot = calloc(size, sizeof(*r->slot));
	if (!r->slot)
		return -ENOMEM;
	r->mask = size - 1;
	r->head = r->tail = 0;
	return 0;
}

static bool ring_empty(const struct loop_ring *r) { return r->head == r->tail; }
static bool ring_full(const struct loop_ring *r) { return r->tail - r->head > r->mask; }
static void ring_push(struct loop_ring *r, struct skiff_pkt *p) { r->slot[r->tail++ & r->mask] = p; }
static struct skiff_pkt *ring_pop(struct loop_ring *r) { return r->slot[r->head++ & r->mask]; }

/* Free every frame still queued (back to the sender's pool). */
static void ring_free_frames(struct loop_ring *r)
{
	uint32_t queued = r->tail - r->head;
	for (uint32_t i = 0; i < queued; i++)
		skiff_pkt_free(ring_pop(r));
}

/* ---- eventfd ---------------------------------------------------------------- */

static void end_signal(struct loop_end *e)
{
	uint64_t one = 1;
	ssize_t r;
	if (e->signalled || e->efd < 0)
		return;
	r = write(e->efd, &one, sizeof(one));
	e->signalled = (r == (ssize_t)sizeof(one));
}

static void end_unsignal(struct loop_end *e)
{
	uint64_t v;
	ssize_t r;
	if (!e->signalled)
		return;
	r = read(e->efd, &v, sizeof(v));
	(void)r; /* EAGAIN means already drained: either way it is now empty */
	e->signalled = false;
}

/* ---- checksum offload --------------------------------------------------------
 * Where a TCP/UDP checksum lives in a frame: Ethernet (optional 802.1Q) → IPv4
 * (not a fragment) or IPv6 (no extension headers) → TCP or UDP. */

struct l4_site {
	uint8_t *ip4;       /* IPv4 header when the frame carries a sane one, else NULL */
	uint32_t ip4_len;
	uint8_t *l4;        /* TCP/UDP header */
	uint32_t l4_len;    /* header + payload */
	uint32_t pseudo;    /* pseudo-header sum */
	uint8_t csum_at;    /* checksum field offset inside the L4 header */
	uint8_t proto;
};

static int site_l4(struct l4_site *s, uint8_t proto, uint8_t *l4, uint32_t l4_len)
{
	uint32_t min_len = proto == IPPROTO_TCP_ ? 20u : proto == IPPROTO_UDP_ ? UDP_HDR_LEN : 0u;
	if (min_len == 0 || l4_len < min_len)
		return -ENOENT;
	s->proto = proto;
	s->l4 = l4;
	s->l4_len = l4_len;
	s->csum_at = proto == IPPROTO_TCP_ ? 16 : 6;
	return 0;
}

static int site_ip4(uint8_t *h, uint32_t avail, struct l4_site *s)
{
	uint32_t ihl, total;
	if (avail < IP4_HDR_LEN || (h[0] >> 4) != 4)
		return -EBADMSG;
	ihl = (h[0] & 0x0fu) * 4u;
	total = ld16(h + 2);
	if (ihl < IP4_HDR_LEN || total < ihl || total > avail)
		return -EBADMSG;
	s->ip4 = h;
	s->ip4_len = ihl;
	if (ld16(h + 6) & (IP4_FLAG_MF | IP4_OFF_MASK))
		return -ENOENT; /* a fragment's L4 checksum spans the whole datagram */
	s->pseudo = csum_pseudo4(ld32(h + 12), ld32(h + 16), h[9], total - ihl);
	return site_l4(s, h[9], h + ihl, total - ihl);
}

static int site_ip6(uint8_t *h, uint32_t avail, struct l4_site *s)
{
	uint32_t plen;
	if (avail < 40 || (h[0] >> 4) != 6)
		return -EBADMSG;
	plen = ld16(h + 4);
	if (plen > avail - 40)
		return -EBADMSG;
	s->pseudo = csum_add(csum_partial(h + 8, 32, 0), plen + h[6]);
	return site_l4(s, h[6], h + 40, plen);
}

static int site_find(uint8_t *f, uint32_t len, struct l4_site *s)
{
	uint32_t off = ETH_HDR_LEN;
	uint16_t type;
	memset(s, 0, sizeof(*s));
	if (len < ETH_HDR_LEN)
		return -EBADMSG;
	type = ld16(f + 12);
	if (type == ETH_TYPE_VLAN) {
		if (len < ETH_VLAN_HDR_LEN)
			return -EBADMSG;
		type = ld16(f + 16);
		off = ETH_VLAN_HDR_LEN;
	}
	if (type == ETH_TYPE_IP4)
		return site_ip4(f + off, len - off, s);
	if (type == ETH_TYPE_IP6)
		return site_ip6(f + off, len - off, s);
	return -ENOENT;
}

/* TX offload: compute the whole L4 checksum, whatever the field held. */
static void tx_fill_l4_csum(struct skiff_pkt *p)
{
	struct l4_site s;
	uint16_t c;
	if (site_find(skiff_pkt_data(p), p->len, &s) != 0)
		return;
	st16(s.l4 + s.csum_at, 0);
	c = csum_fold(csum_partial(s.l4, s.l4_len, s.pseudo));
	if (s.proto == IPPROTO_UDP_ && c == 0)
		c = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	st16(s.l4 + s.csum_at, c);
	p->flags &= ~(uint32_t)SKIFF_PKT_TX_L4_CSUM;
}

/* RX offload: report only checksums that verify, like a NIC would. */
static uint32_t rx_csum_flags(uint32_t caps, const struct skiff_pkt *p)
{
	struct l4_site s;
	uint32_t flags = 0;
	int err = site_find(skiff_pkt_data(p), p->len, &s);
	if ((caps & SKIFF_DEV_CAP_RX_IP_CSUM) && s.ip4 && csum_buf(s.ip4, s.ip4_len) == 0)
		flags |= SKIFF_PKT_RX_IP_CSUM_GOOD;
	if ((caps & SKIFF_DEV_CAP_RX_L4_CSUM) && err == 0 &&
	    csum_fold(csum_partial(s.l4, s.l4_len, s.pseudo)) == 0)
		flags |= SKIFF_PKT_RX_L4_CSUM_GOOD;
	return flags;
}

static uint32_t rx_link_flags(const struct skiff_pkt *p)
{
	const uint8_t *dst = skiff_pkt_data(p);
	if (p->len < ETH_HDR_LEN)
		return 0;
	if (eth_is_bcast(dst))
		return SKIFF_PKT_BCAST;
	return eth_is_mcast(dst) ? SKIFF_PKT_MCAST : 0;
}

/* ---- data path -------------------------------------------------------------- */

static bool frame_fits(const struct loop_end *e, const struct skiff_pkt *p)
{
	return p->chain == NULL && p->len <= (uint32_t)e->dev.mtu + LOOP_L2_OVERHEAD;
}

static void tx_drop(struct loop_end *e, struct skiff_pkt *p)
{
	skiff_pkt_free(p);
	e->stats.ring_full_drops++;
}

static unsigned loop_tx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct loop_end *e = end_of(dev);
	struct loop_end *peer = e->peer;
	unsigned queued = 0;
	(void)now;
	for (unsigned i = 0; i < n; i++) {
		struct skiff_pkt *p = pkts[i];
		if (!peer->open || !frame_fits(e, p) || ring_full(&peer->inbound)) {
			tx_drop(e, p);
			continue;
		}
		if ((e->dev.caps & SKIFF_DEV_CAP_TX_L4_CSUM) && (p->flags & SKIFF_PKT_TX_L4_CSUM))
			tx_fill_l4_csum(p);
		p->next = NULL;
		ring_push(&peer->inbound, p);
		queued++;
	}
	e->stats.tx += queued;
	if (queued)
		end_signal(peer);
	return n;
}

static void rx_prepare(const struct loop_end *e, struct skiff_pkt *p, uint64_t now)
{
	p->next = NULL;
	p->chain = NULL;
	p->ifindex = 0;
	p->vlan_tci = 0;
	p->l3_off = p->l4_off = 0;
	p->ts = now;
	p->flags = rx_link_flags(p) | rx_csum_flags(e->dev.caps, p);
}

static unsigned loop_rx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct loop_end *e = end_of(dev);
	unsigned got = 0;
	while (got < n && !ring_empty(&e->inbound)) {
		struct skiff_pkt *p = ring_pop(&e->inbound);
		rx_prepare(e, p, now);
		pkts[got++] = p;
	}
	if (ring_empty(&e->inbound))
		end_unsignal(e);
	e->stats.rx += got;
	return got;
}

static struct skiff_pool *loop_pool(struct skiff_dev *dev) { return skiff_mempool_pool(end_of(dev)->mp); }
static int loop_wakeup_fd(struct skiff_dev *dev) { return end_of(dev)->efd; }
static uint64_t loop_next_event(struct skiff_dev *dev)
{
	(void)dev;
	return UINT64_MAX;
}

/* ---- lifetime --------------------------------------------------------------- */

static void pair_destroy(struct loop_pair *pair)
{
	for (unsigned i = 0; i < 2; i++) {
		struct loop_end *e = &pair->end[i];
		if (e->inbound.slot)
			ring_free_frames(&e->inbound);
		free(e->inbound.slot);
		if (e->efd >= 0)
			close(e->efd);
	}
	/* Pools last: ring contents were freed into them above. */
	for (unsigned i = 0; i < 2; i++)
		skiff_mempool_destroy(pair->end[i].mp);
	free(pair);
}

static void loop_close(struct skiff_dev *dev)
{
	struct loop_end *e = end_of(dev);
	struct loop_pair *pair = e->pair;
	ring_free_frames(&e->inbound);
	e->open = false;
	e->signalled = false;
	if (e->efd >= 0)
		close(e->efd);
	e->efd = -1;
	if (--pair->refs == 0)
		pair_destroy(pair);
}

static const void *loop_lock_domain(struct skiff_dev *dev) { return end_of(dev)->pair; }

static const struct skiff_dev_ops loop_ops = {
	.lock_domain = loop_lock_domain,
	.rx_burst = loop_rx_burst,
	.tx_burst = loop_tx_burst,
	.pool = loop_pool,
	.wakeup_fd = loop_wakeup_fd,
	.next_event = loop_next_event,
	.close = loop_close,
};

static int params_resolve(const struct skiff_loop_config *cfg, struct loop_params *p)
{
	struct skiff_loop_config c = { 0 };
	if (cfg)
		c = *cfg;
	p->nbufs = c.nbufs ? c.nbufs : LOOP_DEFAULT_NBUFS;
	p->buf_size = c.buf_size ? c.buf_size : LOOP_DEFAULT_BUF_SIZE;
	p->ring = c.ring ? c.ring : LOOP_DEFAULT_RING;
	p->mtu = c.mtu ? c.mtu : (uint16_t)LOOP_DEFAULT_MTU;
	p->caps = c.caps;
	if (p->ring & (p->ring - 1))
		return -EINVAL;
	if (p->buf_size <= SKIFF_HEADROOM + LOOP_L2_OVERHEAD)
		return -EINVAL;
	if (p->mtu < LOOP_MIN_MTU || p->mtu > p->buf_size - SKIFF_HEADROOM - LOOP_L2_OVERHEAD)
		return -EINVAL;
	return 0;
}

static int end_init(struct loop_end *e, unsigned idx, const struct loop_params *p)
{
	int err;
	e->dev.ops = &loop_ops;
	snprintf(e->dev.name, sizeof(e->dev.name), "loop%u", idx);
	memcpy(e->dev.mac, (const uint8_t[6]){ 0x02, 0, 0, 0, 0, (uint8_t)(idx + 1) }, 6);
	e->dev.mtu = p->mtu;
	e->dev.caps = p->caps;
	err = skiff_mempool_create(p->nbufs, p->buf_size, &e->mp);
	if (err)
		return err;
	err = ring_init(&e->inbound, p->ring);
	if (err)
		return err;
	e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->efd < 0)
		return -errno;
	e->open = true;
	return 0;
}

int skiff_loop_pair(const struct skiff_loop_config *cfg, struct skiff_dev **a, struct skiff_dev **b)
{
	struct loop_params p;
	struct loop_pair *pair;
	int err;
	if (!a || !b)
		return -EINVAL;
	err = params_resolve(cfg, &p);
	if (err)
		return err;
	pair = calloc(1, sizeof(*pair));
	if (!pair)
		return -ENOMEM;
	pair->end[0].efd = pair->end[1].efd = -1;
	for (unsigned i = 0; i < 2; i++) {
		pair->end[i].pair = pair;
		pair->end[i].peer = &pair->end[1 - i];
		err = end_init(&pair->end[i], i, &p);
		if (err) {
			pair_destroy(pair);
			return err;
		}
	}
	pair->refs = 2;
	*a = &pair->end[0].dev;
	*b = &pair->end[1].dev;
	return 0;
}

void skiff_loop_stats(struct skiff_dev *dev, struct skiff_loop_stats *out)
{
	if (!out)
		return;
	if (!dev || dev->ops != &loop_ops) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = end_of(dev)->stats;
}
