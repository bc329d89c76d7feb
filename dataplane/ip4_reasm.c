/* ip4_reasm.c — IPv4 reassembly (RFC 791 3.2 "Reassembly", RFC 1122 3.3.2).
 *
 * A slot per datagram, keyed by (src, dst, proto, id). Fragments are kept as the
 * frames they arrived in, linked through `chain` in offset order (appending at the
 * tail is O(1), the common case). Limits: reasm_slots datagrams, reasm_mem bytes
 * of frame buffers (the oldest datagram is evicted to make room, so a flood of
 * junk fragments cannot starve new traffic for long), reasm_max_frags pieces
 * each, reasm_timeout_ns each. Any overlap between fragments drops the whole
 * datagram (RFC 5722's rule, applied to IPv4 as Linux does since 4.19), so
 * teardrop-style input can never rewrite bytes; exact duplicates are dropped
 * alone. On timeout, ICMP time exceeded (code 1) goes back if the first
 * fragment arrived (RFC 792, RFC 1122 3.3.2).
 */
#include "ip4.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "icmp4.h"
#include "stack.h"

/* Per-fragment scratch in pkt->cb */
#define FRAG_OFF(p) ((p)->cb.u64[0])

struct reasm_slot {
	bool used;
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	uint32_t have;        /* payload bytes received */
	uint32_t total;       /* payload length, known once the last fragment arrived; 0 before */
	uint32_t mem;         /* truesize held */
	unsigned nfrags;
	uint64_t born;
	struct skiff_pkt *head, *tail;
	struct skiff_timer timer;
};

struct skiff_reasm {
	unsigned nslots, live, mem;
	struct reasm_slot s[];
};

static void reasm_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now);

int skiff_reasm_create(struct skiff_stack *st)
{
	unsigned n = st->cfg.reasm_slots;
	struct skiff_reasm *r = calloc(1, sizeof(*r) + n * sizeof(r->s[0]));
	if (!r)
		return -ENOMEM;
	r->nslots = n;
	for (unsigned i = 0; i < n; i++)
		skiff_timer_init(&r->s[i].timer, reasm_timer_fn);
	st->reasm = r;
	return 0;
}

static void slot_release(struct skiff_stack *st, struct reasm_slot *s)
{
	struct skiff_reasm *r = st->reasm;
	skiff_timer_cancel(&st->timers, &s->timer);
	r->mem -= s->mem;
	r->live--;
	s->used = false;
	s->head = s->tail = NULL;
	s->mem = 0;
	s->nfrags = 0;
}

static void slot_drop(struct skiff_stack *st, struct reasm_slot *s, enum skiff_drop_reason why)
{
	struct skiff_pkt *h = s->head;
	st->ctr.drop[why] += s->nfrags;
	slot_release(st, s);
	skiff_pkt_free(h); /* frees the whole chain */
}

void skiff_reasm_destroy(struct skiff_stack *st)
{
	struct skiff_reasm *r = st->reasm;
	if (!r)
		return;
	for (unsigned i = 0; i < r->nslots; i++)
		if (r->s[i].used)
			skiff_pkt_free(r->s[i].head);
	free(r);
	st->reasm = NULL;
}

void skiff_reasm_usage(const struct skiff_stack *st, unsigned *datagrams, unsigned *bytes)
{
	*datagrams = st->reasm->live;
	*bytes = st->reasm->mem;
}

static void reasm_timer_fn(struct skiff_stack *st, struct skiff_timer *t, uint64_t now)
{
	struct reasm_slot *s = (struct reasm_slot *)((char *)t - offsetof(struct reasm_slot, timer));
	if (s->head && FRAG_OFF(s->head) == 0)
		skiff_icmp4_send_error(st, s->head, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME, 0, now);
	slot_drop(st, s, SKIFF_DROP_REASM_TIMEOUT);
}

static struct reasm_slot *oldest(struct skiff_reasm *r)
{
	struct reasm_slot *o = NULL;
	for (unsigned i = 0; i < r->nslots; i++)
		if (r->s[i].used && (!o || r->s[i].born < o->born))
			o = &r->s[i];
	return o;
}

static struct reasm_slot *slot_find(struct skiff_stack *st, const struct ip4_repr *ip, uint64_t now)
{
	struct skiff_reasm *r = st->reasm;
	struct reasm_slot *fr = NULL;
	for (unsigned i = 0; i < r->nslots; i++) {
		struct reasm_slot *s = &r->s[i];
		if (!s->used) {
			if (!fr)
				fr = s;
			continue;
		}
		if (s->id == ip->id && s->src == ip->src && s->dst == ip->dst && s->proto == ip->proto)
			return s;
	}
	if (!fr) {
		fr = oldest(r);
		slot_drop(st, fr, SKIFF_DROP_REASM_TABLE_FULL);
	}
	fr->used = true;
	fr->proto = ip->proto;
	fr->id = ip->id;
	fr->src = ip->src;
	fr->dst = ip->dst;
	fr->have = fr->total = fr->mem = 0;
	fr->nfrags = 0;
	fr->born = now;
	fr->head = fr->tail = NULL;
	r->live++;
	skiff_timer_arm(&st->timers, &fr->timer, now + st->cfg.reasm_timeout_ns);
	return fr;
}

/* Where p (payload [off, end)) goes in offset order: returns the link to write,
 * or NULL with *why = -EEXIST for an exact duplicate, -EBADMSG for an overlap.
 * Appending after the tail (the common, in-order case) is O(1). */
static struct skiff_pkt **place(struct reasm_slot *s, uint32_t off, uint32_t end, int *why)
{
	struct skiff_pkt **pp;

	if (!s->tail || FRAG_OFF(s->tail) + s->tail->len <= off)
		return s->tail ? &s->tail->chain : &s->head;
	pp = &s->head;
	while (*pp && FRAG_OFF(*pp) + (*pp)->len <= off)
		pp = &(*pp)->chain;
	/* *pp is the first fragment ending after off (it exists: the tail does) */
	{
		uint32_t qo = (uint32_t)FRAG_OFF(*pp), qe = qo + (*pp)->len;
		if (qo == off && qe == end) {
			*why = -EEXIST;
			return NULL;
		}
		if (qo < end) {
			*why = -EBADMSG;
			return NULL;
		}
	}
	return pp;
}

static void link_at(struct reasm_slot *s, struct skiff_pkt **pp, struct skiff_pkt *p)
{
	p->chain = *pp;
	*pp = p;
	if (!p->chain)
		s->tail = p;
}

/* The head keeps the first fragment's header; make it describe the whole
 * datagram (no MF, offset 0, full length) so ICMP errors quote what Linux quotes. */
static void rewrite_head(struct skiff_pkt *h, uint32_t total)
{
	uint8_t *ih = h->head + h->l3_off;
	uint16_t ihl = (uint16_t)(h->l4_off - h->l3_off);
	st16(ih + 2, (uint16_t)(ihl + total));
	st16(ih + 6, (uint16_t)(ld16(ih + 6) & IP4_FLAG_DF));
	st16(ih + 10, 0);
	st16(ih + 10, csum_buf(ih, ihl));
}

struct skiff_pkt *skiff_ip4_reasm(struct skiff_stack *st, struct skiff_pkt *p, struct ip4_repr *ip, uint64_t now)
{
	struct skiff_reasm *r = st->reasm;
	uint32_t off = ip4_frag_off_bytes(ip), len = p->len, end = off + len;
	bool more = (ip->frag & IP4_FLAG_MF) != 0;
	struct reasm_slot *s;
	struct skiff_pkt **pp;
	int rc = 0;

	/* RFC 791: every fragment but the last carries a multiple of 8 bytes. */
	if (len == 0 || (more && (len & 7))) {
		skiff_drop(st, SKIFF_DROP_REASM_BAD_FRAG, p);
		return NULL;
	}
	if (end + ip->ihl > 65535) {
		skiff_drop(st, SKIFF_DROP_REASM_TOO_BIG, p);
		return NULL;
	}
	s = slot_find(st, ip, now);
	/* A last fragment fixes the total; one past it, or a second different last, is corrupt. */
	if ((!more && s->total && s->total != end) || (s->total && end > s->total) ||
	    (!more && s->tail && FRAG_OFF(s->tail) + s->tail->len > end)) {
		skiff_drop(st, SKIFF_DROP_REASM_OVERLAP, p);
		slot_drop(st, s, SKIFF_DROP_REASM_OVERLAP);
		return NULL;
	}
	if (s->nfrags >= st->cfg.reasm_max_frags) {
		skiff_drop(st, SKIFF_DROP_REASM_TOO_MANY, p);
		slot_drop(st, s, SKIFF_DROP_REASM_TOO_MANY);
		return NULL;
	}
	pp = place(s, off, end, &rc);
	if (!pp && rc == -EEXIST) {
		skiff_drop(st, SKIFF_DROP_REASM_DUP, p);
		return NULL;
	}
	if (!pp) {
		skiff_drop(st, SKIFF_DROP_REASM_OVERLAP, p);
		slot_drop(st, s, SKIFF_DROP_REASM_OVERLAP);
		return NULL;
	}
	/* Memory: evict the oldest other datagrams until this frame fits (never s, so
	 * the place found above stays valid). */
	while (r->mem + p->cap > st->cfg.reasm_mem) {
		struct reasm_slot *o = NULL;
		for (unsigned i = 0; i < r->nslots; i++)
			if (r->s[i].used && &r->s[i] != s && (!o || r->s[i].born < o->born))
				o = &r->s[i];
		if (!o)
			break;
		slot_drop(st, o, SKIFF_DROP_REASM_MEM);
	}
	if (r->mem + p->cap > st->cfg.reasm_mem) {
		skiff_drop(st, SKIFF_DROP_REASM_MEM, p);
		if (!s->head)
			slot_release(st, s);
		return NULL;
	}
	FRAG_OFF(p) = off;
	link_at(s, pp, p);
	s->nfrags++;
	s->have += len;
	s->mem += p->cap;
	r->mem += p->cap;
	if (!more)
		s->total = end;
	if (!s->total || s->have != s->total)
		return NULL;
	/* Complete: no overlaps were admitted, so have == total means no holes. */
	{
		struct skiff_pkt *h = s->head;
		uint32_t total = s->total;
		/* The per-fragment check used each fragment's own header; the datagram
		 * gets the first fragment's, which may be longer (options): check again
		 * (RFC 791 total length is 16 bits; Linux ip_frag_reasm out_oversize). */
		if ((uint32_t)(h->l4_off - h->l3_off) + total > 65535) {
			slot_drop(st, s, SKIFF_DROP_REASM_TOO_BIG);
			return NULL;
		}
		slot_release(st, s);
		/* the head's IP header (l3_off) is the first fragment's; its ihl may differ */
		ip4_parse(h->head + h->l3_off, IP4_HDR_LEN, ip);
		ip->ihl = (uint8_t)(h->l4_off - h->l3_off);
		ip->total_len = (uint16_t)(ip->ihl + total);
		ip->frag = 0;
		rewrite_head(h, total);
		for (struct skiff_pkt *q = h; q; q = q->chain)
			q->next = NULL;
		return h;
	}
}
