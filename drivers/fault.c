/* fault.c — wraps any device and impairs what it transmits, deterministically.
 *
 * Flow of tx_burst(frames, now):
 *   1. release_due(now): held frames whose due time has come go to the inner dev,
 *      in (due, arrival) order; frames the inner dev refuses stay held, in order.
 *   2. each frame, drawn from one seeded PRNG (splitmix64) in a fixed order:
 *      loss → freed; corruption → one random bit flipped in a random byte;
 *      duplication → a copy allocated from the inner pool; then stage() gives the
 *      frame (and its copy) a due time now + delay + jitter. Reordering parks one
 *      frame in a slot until the next frame is staged, then stages it right
 *      behind that one. Staged frames go into a bounded min-heap (max_held;
 *      overflow frees the frame, counted in held_drops).
 *   3. release_due(now) again, so undelayed frames leave in the same call.
 * tx_burst accepts every frame (the wrapper owns them: sent, held or dropped).
 * rx_burst releases due frames, then passes through to the inner dev.
 * next_event is the earliest held due time (or the inner dev's, if earlier).
 *
 * Corruption is applied before the inner dev sees the frame, so while
 * corrupt_ppm > 0 the wrapper hides SKIFF_DEV_CAP_TX_L4_CSUM: a checksum filled
 * by the inner dev after the flip would make the corruption undetectable.
 */
#include "driver.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAULT_PPM 1000000u
#define FAULT_DEFAULT_MAX_HELD 1024u
#define FAULT_TX_BATCH 64u

struct held {
	struct skiff_pkt *pkt;
	uint64_t due;
	uint64_t seq;  /* arrival order: ties on `due` leave first-in first */
};

struct fault_dev {
	struct skiff_dev dev;      /* first: the ops get this pointer */
	struct skiff_dev *inner;
	struct skiff_fault_config cfg;
	uint64_t rng;
	uint64_t seq;
	struct held *heap;         /* min-heap on (due, seq), cfg.max_held slots */
	unsigned nheld;
	struct held slot;          /* frame waiting to go out behind the next one */
	bool slot_used;
	struct skiff_fault_stats stats;
};

static const struct skiff_dev_ops fault_ops;

static struct fault_dev *fault_of(struct skiff_dev *dev) { return (struct fault_dev *)(void *)dev; }

/* ---- PRNG (splitmix64: tiny, full period, good enough for test impairments) -- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, bound); bound 0 means the whole 64-bit range. */
static uint64_t rng_below(struct fault_dev *f, uint64_t bound)
{
	uint64_t r = rng_next(&f->rng);
	return bound ? r % bound : r;
}

static bool roll(struct fault_dev *f, uint32_t ppm)
{
	return ppm != 0 && rng_below(f, FAULT_PPM) < ppm;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

/* ---- held frames: binary min-heap ------------------------------------------- */

static bool held_before(const struct held *a, const struct held *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_swap(struct held *h, unsigned i, unsigned j)
{
	struct held t = h[i];
	h[i] = h[j];
	h[j] = t;
}

static void heap_push(struct fault_dev *f, struct held e)
{
	unsigned i = f->nheld++;
	f->heap[i] = e;
	while (i > 0 && held_before(&f->heap[i], &f->heap[(i - 1) / 2])) {
		heap_swap(f->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct held heap_pop(struct fault_dev *f)
{
	struct held top = f->heap[0];
	unsigned i = 0;
	f->heap[0] = f->heap[--f->nheld];
	while (2 * i + 1 < f->nheld) { /* sift down: at most log2(nheld) steps */
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (held_before(&f->heap[l], &f->heap[m]))
			m = l;
		if (r < f->nheld && held_before(&f->heap[r], &f->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(f->heap, i, m);
		i = m;
	}
	return top;
}

/* Hand every held frame that is due by `now` to the inner dev. Stops early when
 * the inner dev refuses frames; those go back into the heap with their keys, so
 * they keep their place. */
static void release_due(struct fault_dev *f, uint64_t now)
{
	struct held batch[FAULT_TX_BATCH];
	struct skiff_pkt *out[FAULT_TX_BATCH];
	unsigned rounds = f->nheld / FAULT_TX_BATCH + 1;
	for (unsigned r = 0; r < rounds; r++) {
		unsigned k = 0, sent;
		while (k < FAULT_TX_BATCH && f->nheld && f->heap[0].due <= now) {
			batch[k] = heap_pop(f);
			out[k] = batch[k].pkt;
			k++;
		}
		if (k == 0)
			return;
		sent = skiff_dev_tx(f->inner, out, k, now);
		f->stats.passed += sent;
		for (unsigned i = sent; i < k; i++)
			heap_push(f, batch[i]);
		if (sent < k)
			return;
	}
}

/* Put a frame in the heap; when full, first try to make room by sending. */
static bool hold(struct fault_dev *f, struct skiff_pkt *p, uint64_t due, uint64_t now)
{
	if (f->nheld == f->cfg.max_held)
		release_due(f, now);
	if (f->nheld == f->cfg.max_held) {
		skiff_pkt_free(p);
		f->stats.held_drops++;
		return false;
	}
	heap_push(f, (struct held){ .pkt = p, .due = due, .seq = f->seq++ });
	return true;
}

/* ---- impairments ------------------------------------------------------------ */

static uint64_t due_time(struct fault_dev *f, uint64_t now)
{
	uint64_t due = sat_add(now, f->cfg.delay_ns);
	if (f->cfg.jitter_ns)
		due = sat_add(due, rng_below(f, f->cfg.jitter_ns == UINT64_MAX ? 0 : f->cfg.jitter_ns + 1));
	return due;
}

/* Give the frame its due time and queue it; a reordered frame waits in the slot
 * and is queued right behind the next frame staged. */
static void stage(struct fault_dev *f, struct skiff_pkt *p, uint64_t now)
{
	uint64_t due = due_time(f, now);
	if (due > now)
		f->stats.delayed++;
	if (!f->slot_used && roll(f, f->cfg.reorder_ppm)) {
		f->slot = (struct held){ .pkt = p, .due = due };
		f->slot_used = true;
		return;
	}
	hold(f, p, due, now);
	if (f->slot_used) {
		f->slot_used = false;
		if (hold(f, f->slot.pkt, f->slot.due > due ? f->slot.due : due, now))
			f->stats.reordered++;
	}
}

static void flip_random_bit(struct fault_dev *f, struct skiff_pkt *p)
{
	uint64_t byte, bit;
	if (p->len == 0)
		return;
	byte = rng_below(f, p->len);
	bit = rng_below(f, 8);
	skiff_pkt_data(p)[byte] ^= (uint8_t)(1u << bit);
	f->stats.corrupted++;
}

/* A copy of a single-buffer frame from the inner pool, at the same offset. */
static struct skiff_pkt *dup_frame(struct fault_dev *f, const struct skiff_pkt *p)
{
	struct skiff_pool *pool = skiff_dev_pool(f->inner);
	struct skiff_pkt *c;
	if (!pool || p->chain)
		return NULL;
	c = skiff_pool_get(pool);
	if (!c)
		return NULL;
	if ((uint64_t)p->off + p->len > c->cap) {
		skiff_pkt_free(c);
		return NULL;
	}
	c->off = p->off;
	c->len = p->len;
	memcpy(skiff_pkt_data(c), skiff_pkt_data(p), p->len);
	c->flags = p->flags;
	c->ifindex = p->ifindex;
	c->vlan_tci = p->vlan_tci;
	c->l3_off = p->l3_off;
	c->l4_off = p->l4_off;
	c->ts = p->ts;
	c->cb = p->cb;
	f->stats.duplicated++;
	return c;
}

static void impair_one(struct fault_dev *f, struct skiff_pkt *p, uint64_t now)
{
	struct skiff_pkt *copy = NULL;
	if (roll(f, f->cfg.loss_ppm)) {
		skiff_pkt_free(p);
		f->stats.lost++;
		return;
	}
	if (roll(f, f->cfg.corrupt_ppm))
		flip_random_bit(f, p);
	if (roll(f, f->cfg.dup_ppm))
		copy = dup_frame(f, p);
	stage(f, p, now);
	if (copy)
		stage(f, copy, now);
}

/* ---- ops -------------------------------------------------------------------- */

static unsigned fault_tx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct fault_dev *f = fault_of(dev);
	release_due(f, now);
	for (unsigned i = 0; i < n; i++)
		impair_one(f, pkts[i], now);
	release_due(f, now);
	return n;
}

static unsigned fault_rx_burst(struct skiff_dev *dev, struct skiff_pkt **pkts, unsigned n, uint64_t now)
{
	struct fault_dev *f = fault_of(dev);
	release_due(f, now);
	return skiff_dev_rx(f->inner, pkts, n, now);
}

static struct skiff_pool *fault_pool(struct skiff_dev *dev) { return skiff_dev_pool(fault_of(dev)->inner); }
static int fault_wakeup_fd(struct skiff_dev *dev) { return skiff_dev_wakeup_fd(fault_of(dev)->inner); }

static uint64_t fault_next_event(struct skiff_dev *dev)
{
	struct fault_dev *f = fault_of(dev);
	uint64_t inner = skiff_dev_next_event(f->inner);
	uint64_t own = f->nheld ? f->heap[0].due : UINT64_MAX;
	return own < inner ? own : inner;
}

static void fault_close(struct skiff_dev *dev)
{
	struct fault_dev *f = fault_of(dev);
	/* Held frames belong to the inner dev's pool: free them before closing it. */
	if (f->slot_used)
		skiff_pkt_free(f->slot.pkt);
	for (unsigned i = 0; i < f->nheld; i++)
		skiff_pkt_free(f->heap[i].pkt);
	skiff_dev_close(f->inner);
	free(f->heap);
	free(f);
}

static const void *fault_lock_domain(struct skiff_dev *dev) { return skiff_dev_lock_domain(fault_of(dev)->inner); }

static const struct skiff_dev_ops fault_ops = {
	.lock_domain = fault_lock_domain,
	.rx_burst = fault_rx_burst,
	.tx_burst = fault_tx_burst,
	.pool = fault_pool,
	.wakeup_fd = fault_wakeup_fd,
	.next_event = fault_next_event,
	.close = fault_close,
};

static int config_resolve(const struct skiff_fault_config *in, struct skiff_fault_config *c)
{
	memset(c, 0, sizeof(*c));
	if (in)
		*c = *in;
	if (c->loss_ppm > FAULT_PPM || c->dup_ppm > FAULT_PPM || c->reorder_ppm > FAULT_PPM ||
	    c->corrupt_ppm > FAULT_PPM)
		return -EINVAL;
	if (c->max_held == 0)
		c->max_held = FAULT_DEFAULT_MAX_HELD;
	return 0;
}

static void mirror_inner(struct fault_dev *f)
{
	struct skiff_dev *in = f->inner;
	int w = snprintf(f->dev.name, sizeof(f->dev.name), "fault(%s)", in->name);
	if (w < 0 || (size_t)w >= sizeof(f->dev.name))
		f->dev.name[sizeof(f->dev.name) - 2] = ')'; /* truncated: keep it closed */
	memcpy(f->dev.mac, in->mac, sizeof(f->dev.mac));
	f->dev.mtu = in->mtu;
	f->dev.caps = in->caps;
	if (f->cfg.corrupt_ppm)
		f->dev.caps &= ~(uint32_t)SKIFF_DEV_CAP_TX_L4_CSUM;
}

/* On failure `inner` stays the caller's. */
int skiff_fault_wrap(struct skiff_dev *inner, const struct skiff_fault_config *cfg, struct skiff_dev **out)
{
	struct fault_dev *f;
	int err;
	if (!inner || !out)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	err = config_resolve(cfg, &f->cfg);
	if (err) {
		free(f);
		return err;
	}
	f->heap = calloc(f->cfg.max_held, sizeof(*f->heap));
	if (!f->heap) {
		free(f);
		return -ENOMEM;
	}
	f->dev.ops = &fault_ops;
	f->inner = inner;
	f->rng = f->cfg.seed;
	mirror_inner(f);
	*out = &f->dev;
	return 0;
}

void skiff_fault_stats(struct skiff_dev *dev, struct skiff_fault_stats *out)
{
	if (!out)
		return;
	if (!dev || dev->ops != &fault_ops) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = fault_of(dev)->stats;
}
