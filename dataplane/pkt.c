/* pkt.c — freeing packets back to their pools, and the fixed-size mempool.
 *
 * free: walk each packet's fragment chain, hand runs of packets that share a
 * pool to that pool in one call. mempool: one calloc at create time holding the
 * descriptors, a free stack and the frame bytes; alloc/free push and pop the stack.
 */
#include "pkt.h"

#include <string.h>

#include <errno.h>
#include <stdlib.h>

#define FREE_BATCH 32

void skiff_pkt_free_burst(struct skiff_pkt **pkts, unsigned n)
{
	struct skiff_pkt *batch[FREE_BATCH];
	struct skiff_pool *bpool = NULL;
	unsigned nb = 0;

	for (unsigned i = 0; i < n; i++) {
		struct skiff_pkt *p = pkts[i];
		while (p) {
			struct skiff_pkt *nx = p->chain;
			p->chain = NULL;
			p->next = NULL;
			if (nb == FREE_BATCH || (nb && p->pool != bpool)) {
				bpool->ops->free(bpool, batch, nb);
				nb = 0;
			}
			bpool = p->pool;
			batch[nb++] = p;
			p = nx;
		}
	}
	if (nb)
		bpool->ops->free(bpool, batch, nb);
}

void skiff_pkt_free(struct skiff_pkt *p)
{
	if (p)
		skiff_pkt_free_burst(&p, 1);
}

void skiff_pkt_free_list(struct skiff_pkt *head)
{
	struct skiff_pkt *batch[FREE_BATCH];
	unsigned n = 0;
	while (head) {
		struct skiff_pkt *nx = head->next;
		batch[n++] = head;
		if (n == FREE_BATCH) {
			skiff_pkt_free_burst(batch, n);
			n = 0;
		}
		head = nx;
	}
	if (n)
		skiff_pkt_free_burst(batch, n);
}

struct skiff_mempool {
	struct skiff_pool pool;
	unsigned count;
	unsigned buf_size;
	unsigned top;              /* number of free entries on the stack */
	struct skiff_pkt **stack;
	struct skiff_pkt *descs;
	uint8_t *bufs;
};

static unsigned mp_alloc(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct skiff_mempool *mp = (struct skiff_mempool *)pool;
	if (n > mp->top)
		n = mp->top;
	for (unsigned i = 0; i < n; i++) {
		struct skiff_pkt *p = mp->stack[--mp->top];
		p->off = SKIFF_HEADROOM;
		p->len = 0;
		p->flags = 0;
		p->ifindex = 0;
		p->vlan_tci = 0;
		p->l3_off = p->l4_off = 0;
		p->next = p->chain = NULL;
		p->ts = 0;
		pkts[i] = p;
	}
	return n;
}

static void mp_free(struct skiff_pool *pool, struct skiff_pkt **pkts, unsigned n)
{
	struct skiff_mempool *mp = (struct skiff_mempool *)pool;
	for (unsigned i = 0; i < n; i++) {
		if (mp->top >= mp->count)
			abort(); /* double free: a stack bug, never input-driven */
		mp->stack[mp->top++] = pkts[i];
	}
}

static const struct skiff_pool_ops mp_ops = { mp_alloc, mp_free };

int skiff_mempool_create(unsigned count, unsigned buf_size, struct skiff_mempool **out)
{
	struct skiff_mempool *mp;
	if (count == 0 || buf_size <= SKIFF_HEADROOM || buf_size > 65536)
		return -EINVAL;
	mp = calloc(1, sizeof(*mp));
	if (!mp)
		return -ENOMEM;
	mp->stack = calloc(count, sizeof(*mp->stack));
	mp->descs = calloc(count, sizeof(*mp->descs));
	mp->bufs = malloc((size_t)count * buf_size);
	if (!mp->stack || !mp->descs || !mp->bufs) {
		skiff_mempool_destroy(mp);
		return -ENOMEM;
	}
	mp->pool.ops = &mp_ops;
	mp->count = count;
	mp->buf_size = buf_size;
	for (unsigned i = 0; i < count; i++) {
		struct skiff_pkt *p = &mp->descs[i];
		p->head = mp->bufs + (size_t)i * buf_size;
		p->cap = buf_size;
		p->pool = &mp->pool;
		p->cookie = i;
		mp->stack[i] = p;
	}
	mp->top = count;
	*out = mp;
	return 0;
}

void skiff_mempool_destroy(struct skiff_mempool *mp)
{
	if (!mp)
		return;
	free(mp->stack);
	free(mp->descs);
	free(mp->bufs);
	free(mp);
}

struct skiff_pool *skiff_mempool_pool(struct skiff_mempool *mp) { return &mp->pool; }
unsigned skiff_mempool_avail(const struct skiff_mempool *mp) { return mp->top; }
unsigned skiff_mempool_count(const struct skiff_mempool *mp) { return mp->count; }

/* Copy the chain's bytes into new frames of at most `piece` bytes each. */
struct skiff_pkt *skiff_pkt_recut(struct skiff_pool *pool, const struct skiff_pkt *src, uint32_t piece)
{
	struct skiff_pkt *head = NULL, **tail = &head, *cur = NULL;
	const struct skiff_pkt *s;

	for (s = src; s; s = s->chain) {
		const uint8_t *d = skiff_pkt_data(s);
		uint32_t left = s->len;
		while (left) {
			uint32_t room, n;
			if (!cur || cur->len == piece || skiff_pkt_tailroom(cur) < 8) {
				cur = skiff_pool_get(pool);
				if (!cur) {
					skiff_pkt_free(head);
					return NULL;
				}
				*tail = cur;
				tail = &cur->chain;
			}
			room = piece - cur->len;
			if (room > skiff_pkt_tailroom(cur))
				room = skiff_pkt_tailroom(cur) & ~7u;
			n = left < room ? left : room;
			if (n == 0) {
				skiff_pkt_free(head);
				return NULL;
			}
			memcpy(skiff_pkt_put(cur, n), d, n);
			d += n;
			left -= n;
		}
	}
	return head;
}
