/* igmp.c — membership engines per interface, IGMP input/output, the receive
 * checks of the IP and Ethernet layers, the timers (flow: igmp.h).
 *
 * State hangs off st->mcast, allocated at the first join (a stack that never
 * joins pays one NULL test per multicast frame and per poll). Each engine keeps
 * a cache of its groups (refreshed when mcast_member_generation moves) and a
 * 4096-bit hash of their MAC low bits, so the per-frame MAC check is a bit
 * test and the IGMP "joined" check a short scan; the exact source check is the
 * engine's (mcast_member_accepts). The earliest engine deadline is cached after
 * every call into an engine, so skiff_mcast_next_deadline is a load.
 */
#include "igmp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "csum.h"
#include "mld.h"
#include "neigh.h"
#include "stack.h"
#include "view.h"

#define MAC_BITS 4096u
#define IGMP_IP_HDR 24u        /* 20 + Router Alert (RFC 2113: 148, 4, 0, 0) */
#define IGMP_TOS 0xc0          /* internetwork control, as Linux's IGMP */

struct mcast_if {
	struct mcast_member *m;
	struct skiff_addr *groups;      /* cache: groups with reception state */
	unsigned ngroups, cap;
	uint32_t gen_cached;            /* engine generation the cache holds */
	bool cached;                    /* ... once it holds one */
	uint32_t mac_bits[MAC_BITS / 32];
};

struct skiff_mcast {
	struct mcast_if e[2][SKIFF_MAX_IFACES]; /* [0] IGMP, [1] MLD */
	uint32_t change[SKIFF_MAX_IFACES];      /* bumped when a group set may have changed */
	uint32_t synced[SKIFF_MAX_IFACES];
	uint64_t deadline;
	struct skiff_mcast_counters ctr;
};

static inline int fam_idx(uint8_t family) { return family == SKIFF_AF_INET6 ? 1 : 0; }

static uint64_t rand_cb(void *ctx) { return skiff_rand64(ctx); }

static void refresh_deadline(struct skiff_mcast *mc)
{
	uint64_t d = UINT64_MAX;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < SKIFF_MAX_IFACES; i++)
			if (mc->e[f][i].m) {
				uint64_t t = mcast_member_next_deadline(mc->e[f][i].m);
				if (t < d)
					d = t;
			}
	mc->deadline = d;
}

/* After any call that may change an engine: deadline, change mark. */
static void touched(struct skiff_mcast *mc, int ifindex)
{
	mc->change[ifindex]++;
	refresh_deadline(mc);
}

static struct mcast_if *mif(const struct skiff_stack *st, uint8_t family, int ifindex)
{
	if (!st->mcast || ifindex < 0 || ifindex >= SKIFF_MAX_IFACES)
		return NULL;
	return &st->mcast->e[fam_idx(family)][ifindex];
}

static void cache_refresh(struct mcast_if *e)
{
	uint32_t g = mcast_member_generation(e->m);
	if (e->cached && g == e->gen_cached)
		return;
	e->ngroups = mcast_member_groups(e->m, e->groups, e->cap);
	if (e->ngroups > e->cap)
		e->ngroups = e->cap;
	memset(e->mac_bits, 0, sizeof(e->mac_bits));
	for (unsigned i = 0; i < e->ngroups; i++)
		if (e->groups[i].family == SKIFF_AF_INET) {
			uint32_t b = e->groups[i].v4 & (MAC_BITS - 1);
			e->mac_bits[b / 32] |= 1u << (b % 32);
		}
	e->gen_cached = g;
	e->cached = true;
}

struct mcast_member *skiff_mcast_engine(struct skiff_stack *st, uint8_t family, int ifindex, bool create, int *err)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	struct mcast_member_config cfg;
	struct mcast_if *e;
	int rc;

	if (err)
		*err = 0;
	if (!ifc || ifc->loopback || (family != SKIFF_AF_INET && family != SKIFF_AF_INET6)) {
		if (err)
			*err = -ENODEV;
		return NULL;
	}
	if (!st->mcast) {
		if (!create)
			return NULL;
		st->mcast = calloc(1, sizeof(*st->mcast));
		if (!st->mcast) {
			if (err)
				*err = -ENOMEM;
			return NULL;
		}
		st->mcast->deadline = UINT64_MAX;
	}
	e = &st->mcast->e[fam_idx(family)][ifindex];
	if (e->m || !create)
		return e->m;
	mcast_member_config_defaults(&cfg, family);
	cfg.mtu = ifc->mtu;
	if (family == SKIFF_AF_INET6)
		cfg.max_per_owner = 0; /* Linux caps IPv6 memberships per socket by optmem only (max_memberships bounds) */
	cfg.rand = rand_cb;
	cfg.rand_ctx = st;
	rc = mcast_member_create(&cfg, st->now, &e->m);
	if (rc == 0 && !(e->groups = calloc(cfg.max_groups, sizeof(*e->groups)))) {
		mcast_member_destroy(e->m);
		e->m = NULL;
		rc = -ENOMEM;
	}
	if (rc) {
		if (err)
			*err = rc;
		return NULL;
	}
	e->cap = cfg.max_groups;
	e->cached = false;
	return e->m;
}

int skiff_mcast_join(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
		     uint64_t now)
{
	int err, rc;
	struct mcast_member *m = skiff_mcast_engine(st, group->family, ifindex, true, &err);
	if (!m)
		return err;
	rc = mcast_member_join(m, owner, group, now);
	touched(st->mcast, ifindex);
	return rc;
}

int skiff_mcast_leave(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
		      uint64_t now)
{
	struct mcast_member *m = skiff_mcast_engine(st, group->family, ifindex, false, NULL);
	int rc;
	if (!m)
		return -EADDRNOTAVAIL;
	rc = mcast_member_leave(m, owner, group, now);
	touched(st->mcast, ifindex);
	return rc;
}

int skiff_mcast_source(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group, int op,
		       const struct skiff_addr *src, uint64_t now)
{
	int err, rc;
	struct mcast_member *m = skiff_mcast_engine(st, group->family, ifindex, op == MCAST_SRC_ADD, &err);
	if (!m)
		return op == MCAST_SRC_ADD ? err : -EADDRNOTAVAIL;
	rc = mcast_member_source(m, owner, group, op, src, now);
	touched(st->mcast, ifindex);
	return rc;
}

int skiff_mcast_set_filter(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
			   int mode, const struct skiff_addr *src, unsigned n, uint64_t now)
{
	int err, rc;
	struct mcast_member *m = skiff_mcast_engine(st, group->family, ifindex, true, &err);
	if (!m)
		return err;
	rc = mcast_member_set_filter(m, owner, group, mode, src, n, now);
	touched(st->mcast, ifindex);
	return rc;
}

int skiff_mcast_get_filter(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group,
			   int *mode, struct skiff_addr *src, unsigned max, unsigned *n)
{
	struct mcast_if *e = mif(st, group->family, ifindex);
	if (!e || !e->m)
		return -EADDRNOTAVAIL;
	return mcast_member_get_filter(e->m, owner, group, mode, src, max, n);
}

bool skiff_mcast_owner_has(struct skiff_stack *st, int ifindex, uint64_t owner, const struct skiff_addr *group)
{
	struct mcast_if *e = mif(st, group->family, ifindex);
	int mode;
	unsigned n;
	return e && e->m && mcast_member_get_filter(e->m, owner, group, &mode, NULL, 0, &n) == 0;
}

void skiff_mcast_drop_owner(struct skiff_stack *st, uint64_t owner, uint64_t now)
{
	struct skiff_mcast *mc = st->mcast;
	bool any = false;
	if (!mc)
		return;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < SKIFF_MAX_IFACES; i++)
			if (mc->e[f][i].m && mcast_member_drop_owner(mc->e[f][i].m, owner, now)) {
				mc->change[i]++;
				any = true;
			}
	if (any)
		refresh_deadline(mc);
}

unsigned skiff_mcast_groups(struct skiff_stack *st, uint8_t family, int ifindex, struct skiff_addr *out, unsigned max)
{
	struct mcast_if *e = mif(st, family, ifindex);
	if (!e || !e->m)
		return 0;
	return mcast_member_groups(e->m, out, max);
}

bool skiff_mcast_dirty(struct skiff_stack *st, int ifindex)
{
	return st->mcast && ifindex >= 0 && ifindex < SKIFF_MAX_IFACES &&
	       st->mcast->change[ifindex] != st->mcast->synced[ifindex];
}

void skiff_mcast_synced(struct skiff_stack *st, int ifindex)
{
	if (st->mcast && ifindex >= 0 && ifindex < SKIFF_MAX_IFACES)
		st->mcast->synced[ifindex] = st->mcast->change[ifindex];
}

/* ---- input ---- */

static enum skiff_drop_reason drop_of(enum mcast_msg_err e)
{
	switch (e) {
	case MCAST_ERR_SHORT: return SKIFF_DROP_IGMP_SHORT;
	case MCAST_ERR_CSUM: return SKIFF_DROP_IGMP_BAD_CSUM;
	case MCAST_ERR_TYPE: return SKIFF_DROP_IGMP_BAD_TYPE;
	case MCAST_ERR_GROUP: return SKIFF_DROP_IGMP_BAD_GROUP;
	default: return SKIFF_DROP_IGMP_BAD_LEN;
	}
}

void skiff_igmp_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		      uint64_t now)
{
	struct mcast_msg msg;
	struct mcast_member *m;

	(void)ip;
	if (st->mcast)
		st->mcast->ctr.igmp_in++;
	if (p->chain) {
		skiff_drop(st, SKIFF_DROP_IGMP_FRAGMENTED, p);
		return;
	}
	if (igmp_parse(skiff_pkt_data(p), p->len, &msg)) {
		skiff_drop(st, drop_of(msg.err), p);
		return;
	}
	/* no membership on this interface: nothing to answer or suppress (a host
	 * without reception state ignores queries, RFC 3376 5.2) */
	m = skiff_mcast_engine(st, SKIFF_AF_INET, ifc->index, false, NULL);
	if (m) {
		switch (msg.kind) {
		case MCAST_MSG_QUERY:
			st->mcast->ctr.queries_in++;
			(void)mcast_member_input_query(m, &msg.q, now);
			break;
		case MCAST_MSG_REPORT:
			st->mcast->ctr.reports_in++;
			mcast_member_input_report(m, &msg.group, now); /* RFC 2236 3: another member reported */
			break;
		case MCAST_MSG_LEAVE:
			st->mcast->ctr.leaves_in++; /* for routers (RFC 2236 3) */
			break;
		default:
			st->mcast->ctr.v3_reports_in++; /* hosts ignore v3 reports (RFC 3376 5.2 note) */
			break;
		}
		refresh_deadline(st->mcast);
	}
	skiff_pkt_free(p);
}

bool skiff_igmp_rcv4(struct skiff_stack *st, const struct skiff_iface *ifc, struct skiff_pkt *p)
{
	const uint8_t *h = skiff_pkt_data(p);
	uint32_t dst = ld32(h + 16), src = ld32(h + 12);
	struct mcast_if *e;
	struct skiff_addr g;

	if (dst == IGMP_ALL_SYSTEMS) /* RFC 1112 4: every host is a member of 224.0.0.1 */
		goto yes;
	e = mif(st, SKIFF_AF_INET, ifc->index);
	if (!e || !e->m)
		return false;
	if (h[9] == IPPROTO_IGMP_) { /* queries and reports about a joined group, whatever their source */
		cache_refresh(e);
		for (unsigned i = 0; i < e->ngroups; i++)
			if (e->groups[i].v4 == dst)
				goto yes;
		return false;
	}
	g = skiff_addr_v4(dst);
	{
		struct skiff_addr s = skiff_addr_v4(src);
		if (!mcast_member_accepts(e->m, &g, &s))
			return false;
	}
yes:
	p->flags |= SKIFF_PKT_MCAST;
	return true;
}

bool skiff_igmp_accepts(struct skiff_stack *st, int ifindex, uint32_t group, uint32_t src)
{
	struct mcast_if *e = mif(st, SKIFF_AF_INET, ifindex);
	struct skiff_addr g = skiff_addr_v4(group), s = skiff_addr_v4(src);
	if (group == IGMP_ALL_SYSTEMS && skiff_stack_iface(st, ifindex))
		return true; /* every host is a member (RFC 1112 4) */
	return e && e->m && mcast_member_accepts(e->m, &g, &s);
}

bool skiff_igmp_mac_ok(struct skiff_stack *st, int ifindex, const uint8_t *dst)
{
	struct mcast_if *e;
	uint32_t b;
	if (dst[3] == 0 && dst[4] == 0 && dst[5] == 1) /* 224.0.0.1 */
		return true;
	e = mif(st, SKIFF_AF_INET, ifindex);
	if (!e || !e->m)
		return false;
	cache_refresh(e);
	b = ((uint32_t)(dst[4] & 0x0f) << 8 | dst[5]) & (MAC_BITS - 1);
	return (e->mac_bits[b / 32] >> (b % 32)) & 1u;
}

/* ---- output ---- */

struct emit_ctx {
	struct skiff_stack *st;
	struct skiff_iface *ifc;
	uint64_t now;
};

/* RFC 3376 4: IP TTL 1, Router Alert (RFC 2113); source the interface address
 * or 0.0.0.0 before it has one (4.2.13). */
static void emit4(struct skiff_stack *st, struct skiff_iface *ifc, const struct mcast_out *o, uint64_t now)
{
	struct skiff_pkt *p;
	uint8_t *h;
	uint32_t dst = o->dst.v4;

	if (ifc->caps & SKIFF_IFCAP_KERNEL_MCAST) {
		st->mcast->ctr.igmp_silenced++;
		return;
	}
	p = skiff_iface_alloc(ifc);
	if (!p || skiff_pkt_tailroom(p) < o->len || skiff_pkt_headroom(p) < IGMP_IP_HDR + 22) {
		if (p)
			skiff_pkt_free(p);
		skiff_count_drop(st, SKIFF_DROP_IGMP_NO_BUF);
		return;
	}
	memcpy(skiff_pkt_put(p, (uint32_t)o->len), o->msg, o->len);
	h = skiff_pkt_push(p, IGMP_IP_HDR);
	h[0] = 0x40 | (IGMP_IP_HDR / 4);
	h[1] = IGMP_TOS;
	st16(h + 2, (uint16_t)p->len);
	st16(h + 4, 0); /* atomic datagram: the ID is not used (RFC 6864 4.1) */
	st16(h + 6, IP4_FLAG_DF);
	h[8] = 1;
	h[9] = IPPROTO_IGMP_;
	st16(h + 10, 0);
	st32(h + 12, ifc->n_v4 ? ifc->v4[0].addr : 0);
	st32(h + 16, dst);
	h[20] = 148; /* Router Alert: copied, class 0, number 20 (RFC 2113 2.1) */
	h[21] = 4;
	h[22] = 0;
	h[23] = 0;
	st16(h + 10, csum_buf(h, IGMP_IP_HDR));
	p->l3_off = (uint16_t)p->off;
	p->l4_off = (uint16_t)(p->off + IGMP_IP_HDR);
	st->ctr.ip4_out++;
	st->mcast->ctr.igmp_out++;
	skiff_neigh_output4(st, ifc, dst, p, now);
}

static void emit_cb(void *ctx, const struct mcast_out *o)
{
	struct emit_ctx *c = ctx;
	if (o->dst.family == SKIFF_AF_INET)
		emit4(c->st, c->ifc, o, c->now);
	else
		skiff_mld_emit(c->st, c->ifc, o, c->now); /* IPv6 + Hop-by-Hop Router Alert (mld.c) */
}

void skiff_mcast_poll(struct skiff_stack *st, uint64_t now)
{
	struct skiff_mcast *mc = st->mcast;
	if (!mc || mc->deadline > now)
		return;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
			struct emit_ctx c = { st, skiff_stack_iface(st, i), now };
			if (!mc->e[f][i].m || !c.ifc)
				continue;
			if (mcast_member_next_deadline(mc->e[f][i].m) <= now)
				mcast_member_poll(mc->e[f][i].m, now, emit_cb, &c);
		}
	refresh_deadline(mc);
}

uint64_t skiff_mcast_next_deadline(const struct skiff_stack *st) { return st->mcast ? st->mcast->deadline : UINT64_MAX; }

void skiff_mcast_get_counters(const struct skiff_stack *st, struct skiff_mcast_counters *out)
{
	if (st->mcast)
		*out = st->mcast->ctr;
	else
		memset(out, 0, sizeof(*out));
}

struct skiff_mcast_counters *skiff_mcast_ctr(struct skiff_stack *st) { return st->mcast ? &st->mcast->ctr : NULL; }

const struct skiff_addr *skiff_mcast_cached(struct skiff_stack *st, uint8_t family, int ifindex, unsigned *n)
{
	struct mcast_if *e = mif(st, family, ifindex);
	*n = 0;
	if (!e || !e->m)
		return NULL;
	cache_refresh(e);
	*n = e->ngroups;
	return e->groups;
}

void skiff_mcast_refresh(struct skiff_stack *st)
{
	if (st->mcast)
		refresh_deadline(st->mcast);
}

void skiff_mcast_destroy(struct skiff_stack *st)
{
	struct skiff_mcast *mc = st->mcast;
	if (!mc)
		return;
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
			mcast_member_destroy(mc->e[f][i].m);
			free(mc->e[f][i].groups);
		}
	free(mc);
	st->mcast = NULL;
}
