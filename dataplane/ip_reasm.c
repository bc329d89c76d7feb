/* ip_reasm.c — IPv4 and IPv6 reassembly in one table (RFC 791 3.2
 * "Reassembly", RFC 1122 3.3.2; RFC 8200 4.5 "Fragment Header"; RFC 5722).
 *
 *   skiff_ip4_reasm (data at the IPv4 payload)     skiff_ip6_reasm (data at the fixed
 *     │ RFC 791 per-fragment checks                  header, ip6_ext_walk's result)
 *     │                                              │ RFC 8200 4.5 per-fragment checks
 *     │                                              │ (Parameter Problem), data moved to
 *     │                                              │ the fragmentable part
 *     └──────────► frag_add: slot by key, last-fragment and count ◄───┘
 *                  rules, place in offset order (overlap: drop all),
 *                  memory bound (evict the oldest), complete?
 *     skiff_ip4_reasm: header rewritten   ip6_complete: Fragment header removed,
 *     (rewrite_head4), data at payload    payload length rewritten, data at L4
 *
 * A slot per datagram, keyed by family + source + destination + identification
 * (16 bits for IPv4, 32 for IPv6) + protocol for IPv4 only: RFC 8200 4.5 keys an
 * IPv6 datagram on the addresses and the identification, and lets the Fragment
 * headers' Next Header values differ (only offset 0's counts). For an IPv6
 * destination that is link-local or multicast the receiving interface is part of
 * the key too (the addresses are only unique within a zone, RFC 4007; Linux's
 * fq_find does the same).
 *
 * Fragments are kept as the frames they arrived in, data at their fragment data,
 * linked through `chain` in offset order (appending at the tail is O(1), the
 * common case). Limits, shared by both families (one bound for all fragments in
 * flight): reasm_slots datagrams, reasm_mem bytes of frame buffers (the oldest
 * datagram is evicted to make room, so a flood of junk fragments cannot starve
 * new traffic for long), reasm_max_frags pieces each, reasm_timeout_ns each
 * (RFC 8200 4.5 says 60 s for IPv6; the one timeout defaults to 30 s as Linux's
 * ipfrag_time: an earlier give-up only frees memory sooner).
 *
 * Any overlap between fragments drops the whole datagram silently (RFC 5722 4 as
 * amended by erratum 3089; applied to IPv4 as Linux does since 4.19), so
 * teardrop-style input can never rewrite bytes. An exact duplicate is dropped
 * alone and the datagram kept: RFC 8200 4.5 ("an implementation may choose to
 * detect this case and drop exact duplicate fragments while keeping the other
 * fragments"), as Linux's inet_frag_queue_insert (IPFRAG_DUP) does for both
 * families. Linux goes further and ignores any fragment lying wholly inside data
 * it holds; here that is an overlap (RFC 5722 4 taken as written: only the exact
 * copy is spared).
 *
 * On timeout an ICMP Time Exceeded code 1 goes back if the first fragment
 * arrived (RFC 792, RFC 1122 3.3.2; RFC 4443 3.3, RFC 8200 4.5), quoting it.
 */
#include "ip4.h"
#include "ip6.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "icmp4.h"
#include "stack.h"
#include "wire_icmp6.h"

/* Per-fragment scratch in pkt->cb */
#define FRAG_OFF(p) ((p)->cb.u64[0])   /* offset of its data in the datagram */
#define FRAG_HDR(p) ((p)->cb.u64[1])   /* IPv6: where its Fragment header is (from l3_off) */
#define FRAG_L4(p) ((p)->cb.u64[2])    /* IPv6 first fragment: where the upper layer starts */
#define FRAG_PROTO(p) ((p)->cb.u64[3]) /* IPv6 first fragment: the upper-layer protocol */

/* 40 bytes, no padding: compared with memcmp. */
struct reasm_key {
	uint8_t family;  /* SKIFF_AF_INET / SKIFF_AF_INET6 */
	uint8_t proto;   /* IPv4 protocol; 0 for IPv6 */
	uint16_t iif;    /* IPv6 link-local / multicast destination: the receiving interface; else 0 */
	uint32_t id;
	uint8_t src[16], dst[16]; /* IPv4: the host-order word in the first 4 bytes, rest 0 */
};

struct reasm_slot {
	bool used;
	struct reasm_key key;
	uint32_t have;        /* fragment data bytes received */
	uint32_t total;       /* fragmentable length, known once the last fragment arrived; 0 before */
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
	if (s->head && FRAG_OFF(s->head) == 0) {
		if (s->key.family == SKIFF_AF_INET)
			skiff_icmp4_send_error(st, s->head, ICMP4_TIME_EXCEEDED, ICMP4_EXC_FRAGTIME, 0, now);
		else /* RFC 8200 4.5, RFC 4443 3.3 code 1 */
			skiff_icmp6_send_error(st, s->head, ICMP6_TIME_EXCEEDED, ICMP6_TE_REASSEMBLY, 0, now);
	}
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

static struct reasm_slot *slot_find(struct skiff_stack *st, const struct reasm_key *k, uint64_t now)
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
		if (s->key.id == k->id && memcmp(&s->key, k, sizeof(*k)) == 0)
			return s;
	}
	if (!fr) {
		fr = oldest(r);
		slot_drop(st, fr, SKIFF_DROP_REASM_TABLE_FULL);
	}
	fr->used = true;
	fr->key = *k;
	fr->have = fr->total = fr->mem = 0;
	fr->nfrags = 0;
	fr->born = now;
	fr->head = fr->tail = NULL;
	r->live++;
	skiff_timer_arm(&st->timers, &fr->timer, now + st->cfg.reasm_timeout_ns);
	return fr;
}

/* Where p (data [off, end)) goes in offset order: returns the link to write,
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

/* Queue fragment p (data = its fragment data, [off, off + p->len) of the
 * datagram, the last one when !more) under key k. Returns the slot when p
 * completed it (still held: the caller checks and releases it), else NULL (p
 * queued, or dropped with its reason). Both families' rules from here on. */
static struct reasm_slot *frag_add(struct skiff_stack *st, const struct reasm_key *k, struct skiff_pkt *p,
				   uint32_t off, bool more, uint64_t now)
{
	struct skiff_reasm *r = st->reasm;
	uint32_t len = p->len, end = off + len;
	struct reasm_slot *s = slot_find(st, k, now);
	struct skiff_pkt **pp;
	int rc = 0;

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
	/* no overlaps were admitted, so have == total means no holes */
	return s->total && s->have == s->total ? s : NULL;
}

/* The datagram leaves reassembly: release the slot, unlink the queue links. */
static struct skiff_pkt *slot_take(struct skiff_stack *st, struct reasm_slot *s)
{
	struct skiff_pkt *h = s->head;
	slot_release(st, s);
	for (struct skiff_pkt *q = h; q; q = q->chain)
		q->next = NULL;
	return h;
}

/* ---- IPv4 ---- */

/* The head keeps the first fragment's header; make it describe the whole
 * datagram (no MF, offset 0, full length) so ICMP errors quote what Linux quotes. */
static void rewrite_head4(struct skiff_pkt *h, uint32_t total)
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
	uint32_t off = ip4_frag_off_bytes(ip), len = p->len, end = off + len;
	bool more = (ip->frag & IP4_FLAG_MF) != 0;
	struct reasm_slot *s;
	struct reasm_key k;

	/* RFC 791: every fragment but the last carries a multiple of 8 bytes. */
	if (len == 0 || (more && (len & 7))) {
		skiff_drop(st, SKIFF_DROP_REASM_BAD_FRAG, p);
		return NULL;
	}
	if (end + ip->ihl > 65535) {
		skiff_drop(st, SKIFF_DROP_REASM_TOO_BIG, p);
		return NULL;
	}
	memset(&k, 0, sizeof(k));
	k.family = SKIFF_AF_INET;
	k.proto = ip->proto;
	k.id = ip->id;
	memcpy(k.src, &ip->src, 4);
	memcpy(k.dst, &ip->dst, 4);
	s = frag_add(st, &k, p, off, more, now);
	if (!s)
		return NULL;
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
		slot_take(st, s);
		/* the head's IP header (l3_off) is the first fragment's; its ihl may differ */
		ip4_parse(h->head + h->l3_off, IP4_HDR_LEN, ip);
		ip->ihl = (uint8_t)(h->l4_off - h->l3_off);
		ip->total_len = (uint16_t)(ip->ihl + total);
		ip->frag = 0;
		rewrite_head4(h, total);
		return h;
	}
}

/* ---- IPv6 ---- */

/* Offset (from the fixed header) of the Next Header field that names the
 * Fragment header at frag_off: the fixed header's, or that of the last
 * per-fragment header before it (RFC 8200 4.5: its value is what the Fragment
 * header's Next Header replaces on reassembly). The walk checked these headers. */
static uint32_t frag_nh_field(const uint8_t *ih, uint32_t frag_off)
{
	uint32_t at = 6, off = IP6_HDR_LEN;
	while (off < frag_off) {
		at = off;
		off += ((uint32_t)ih[off + 1] + 1) * 8;
	}
	return at;
}

/* RFC 8200 4.5 "Reassembly": the per-fragment headers come from the first
 * fragment; the Next Header field before its Fragment header takes the Fragment
 * header's Next Header; the Fragment header goes (the bytes before it, Ethernet
 * header included, move 8 bytes up as Linux's ip6_frag_reasm does); the payload
 * length becomes the per-fragment headers plus the fragmentable part. The data
 * starts at the upper layer, past the fragmentable part's extension headers. */
static struct skiff_pkt *ip6_complete(struct skiff_stack *st, struct reasm_slot *s, uint8_t *proto)
{
	struct skiff_pkt *h = s->head;
	uint32_t fh = (uint32_t)FRAG_HDR(h), skip = (uint32_t)(FRAG_L4(h) - (fh + IP6_FRAG_HDR_LEN));
	uint32_t plen = fh - IP6_HDR_LEN + s->total;
	uint8_t *ih;

	/* Each fragment was checked with its own per-fragment headers; the
	 * datagram gets the first fragment's, which may be longer (Linux
	 * ip6_frag_reasm out_oversize: a silent drop). */
	if (plen > 65535 || skip > h->len) {
		slot_drop(st, s, SKIFF_DROP_REASM_TOO_BIG);
		return NULL;
	}
	slot_take(st, s);
	ih = h->head + h->l3_off;
	ih[frag_nh_field(ih, fh)] = ih[fh];
	st16(ih + 4, (uint16_t)plen);
	memmove(h->head + IP6_FRAG_HDR_LEN, h->head, h->l3_off + fh);
	h->l3_off = (uint16_t)(h->l3_off + IP6_FRAG_HDR_LEN);
	skiff_pkt_pull(h, skip);
	h->l4_off = (uint16_t)h->off;
	*proto = (uint8_t)FRAG_PROTO(h);
	return h;
}

struct skiff_pkt *skiff_ip6_reasm(struct skiff_stack *st, struct skiff_pkt *p, const struct ip6_ext_info *x,
				  uint8_t *proto, uint64_t now)
{
	const struct ip6_frag_info *fi = &x->fi;
	const uint8_t *ih = p->head + p->l3_off;
	uint32_t off = fi->offset, len = fi->data_len;
	struct reasm_slot *s;
	struct reasm_key k;

	if (!x->frag) { /* not a fragment (an atomic one is processed whole): nothing to do */
		p->l4_off = (uint16_t)(p->l3_off + x->l4_off);
		p->off = p->l4_off;
		p->len = (uint32_t)ld16(ih + 4) + IP6_HDR_LEN - x->l4_off;
		*proto = x->proto;
		return p;
	}
	/* RFC 8200 4.5 (ip6_ext_walk checks both too: kept here for any caller). */
	if (fi->more && (len & 7)) {
		skiff_icmp6_send_error(st, p, ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, 4, now);
		skiff_drop(st, SKIFF_DROP_IP6_FRAG_BAD_LEN, p);
		return NULL;
	}
	if (fi->hdr_off - IP6_HDR_LEN + off + len > 65535) {
		skiff_icmp6_send_error(st, p, ICMP6_PARAM_PROBLEM, ICMP6_PP_HEADER, fi->hdr_off + 2, now);
		skiff_drop(st, SKIFF_DROP_IP6_FRAG_TOO_BIG, p);
		return NULL;
	}
	if (len == 0) { /* nothing to place (Linux: end == offset, discarded) */
		skiff_drop(st, SKIFF_DROP_REASM_BAD_FRAG, p);
		return NULL;
	}
	memset(&k, 0, sizeof(k));
	k.family = SKIFF_AF_INET6;
	k.id = fi->id;
	memcpy(k.src, ih + 8, 16);
	memcpy(k.dst, ih + 24, 16);
	if (ip6_is_multicast(ih + 24) || ip6_is_link_local(ih + 24))
		k.iif = p->ifindex;
	FRAG_HDR(p) = fi->hdr_off;
	FRAG_L4(p) = x->first_frag ? x->l4_off : fi->data_off;
	FRAG_PROTO(p) = x->first_frag ? x->proto : fi->next_hdr;
	/* the frame's data becomes the fragment data (link padding and headers off) */
	p->off = p->l3_off + fi->data_off;
	p->len = len;
	p->l4_off = (uint16_t)p->off;
	s = frag_add(st, &k, p, off, fi->more, now);
	return s ? ip6_complete(st, s, proto) : NULL;
}
