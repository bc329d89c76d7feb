/* mcast_member.c — the host membership engine of mcast_member.h: one interface,
 * IGMP or MLD.
 *
 *   set_filter / join / leave / source / drop_owner
 *     check everything (limits, pool, the group's INCLUDE union) → commit the
 *     owner's list → recompute: merge the owners (RFC 3376 3.2) into a scratch
 *     array → apply: diff against the interface list in place, removals first
 *       v3, same mode:    added sources get retransmission state, removed ones
 *                         move to the group's "removed" list with it (5.1)
 *       v3, mode changed: fmc = robustness (filter-mode-change records), source
 *                         retransmission state and removed list dropped (5.1)
 *       v3, either:       rtx_at = now — the merged report goes out at once
 *       v1/v2:            reception state gained → report now + robustness − 1
 *                         repeats (RFC 2236 3); lost → Leave / Done if we were
 *                         the last reporter (RFC 2236 6, RFC 2710 4)
 *   input_query → learn QRV / QQI from v3 (4.1.6, 4.1.7); an older version arms
 *     its Older Version Querier Present timer (7.2.1, 8.12) → mode → then
 *       v3: General → gen_at, only if sooner (5.2 rule 1, 2); Group(-and-Source)
 *           → the group's resp_at, marks / whole-group merge (5.2 rules 3-5)
 *       v1/v2: each queried group's timer to random [0, Max Resp], only if
 *           sooner (RFC 2236 3)
 *   poll(now)
 *     mode first (a timer that ran out switches and cancels everything, 7.2.1)
 *     v3: due General / group responses → Current-State records (5.2), packed;
 *         due retransmissions → TO_IN/TO_EX while fmc, else ALLOW + BLOCK from
 *         the sources with retransmission state (5.1 tables); next one at random
 *         [0, Unsolicited Report Interval] while any is left
 *     v1/v2: due group timers → one report each (or the Leave / Done)
 *     groups with no owner, no state and nothing left to send are freed
 *
 * Source lists are sorted singly linked lists of nodes from one pool (indices,
 * not pointers), compared as wire bytes. See the header for the bounds.
 */
#include "mcast_member.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire_ip6.h"

#define NIL UINT32_MAX
#define NEVER UINT64_MAX
#define NS_MS 1000000ull
#define NS_S 1000000000ull
#define IGMP_IP_OVERHEAD 24 /* IPv4 header + Router Alert option (RFC 2113) */
#define MLD_IP_OVERHEAD 48  /* IPv6 header + Hop-by-Hop header with Router Alert (RFC 2711) */

struct src_node {
	uint8_t a[16];
	uint32_t next;
	uint8_t rtx;   /* State-Change Reports this source is still to appear in */
	bool mark;     /* named by a pending Group-and-Source-Specific Query */
};

struct memb {
	uint64_t owner;
	uint32_t group; /* index into m->g */
	uint32_t next;  /* next membership of the same group */
	uint32_t src;   /* sorted source list */
	uint16_t n_src;
	uint8_t mode;
	bool used;
};

struct group {
	uint8_t a[16];
	bool used, reportable;
	uint8_t mode;          /* interface state (RFC 3376 3.2); INCLUDE{} = no reception state */
	uint8_t fmc;           /* filter-mode-change reports still to send */
	bool q_all;            /* pending response covers the whole group */
	bool q_marks;          /* pending response covers the marked sources */
	bool last_reporter;    /* v1/v2: our report was the last one heard */
	bool leave_pending;    /* v2: the Leave / Done goes out at old_at */
	uint8_t unsol;         /* v1/v2: unsolicited repeats left */
	uint16_t n_src, n_tomb, n_memb;
	uint32_t src;          /* interface source list */
	uint32_t tomb;         /* removed sources with retransmission state */
	uint32_t memb;         /* owners' memberships */
	uint64_t rtx_at;       /* v3 State-Change Report */
	uint64_t resp_at;      /* v3 response to a Group(-and-Source)-Specific Query */
	uint64_t old_at;       /* v1/v2 report (or Leave) */
};

struct mcast_member {
	struct mcast_member_config cfg;
	uint8_t alen;
	uint8_t compat;
	uint8_t qrv;           /* learned from the last v3 query, 0: cfg.robustness */
	uint64_t qi_ns;
	uint64_t until[2];     /* Older Version Querier Present: [0] IGMPv1, [1] IGMPv2 / MLDv1 */
	uint64_t gen_at;       /* pending General Query response */
	uint64_t next_at;
	bool next_dirty;
	uint32_t generation;
	struct group *g;
	struct memb *mb;
	struct src_node *s;
	uint32_t s_cap, s_free;
	unsigned owner_used, group_used, tomb_used, n_memb;
	uint8_t (*keys)[16];   /* scratch: an owner's new list, max_owner_sources + 1 */
	uint8_t (*keys2)[16];  /* scratch: a merged list, max_group_sources + 1 */
	uint8_t *buf;          /* the message being built */
	size_t buf_cap;
	struct mcast_rb rb;
	mcast_emit_fn emit;
	void *emit_ctx;
	unsigned emitted;
	struct mcast_member_stats st;
};

/* ---- small helpers ---- */

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > NEVER - b ? NEVER - 1 : a + b; }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static bool due(uint64_t at, uint64_t now) { return at != NEVER && at <= now; }

static uint64_t rnd_upto(struct mcast_member *m, uint64_t max)
{
	uint64_t r;
	if (!max)
		return 0;
	r = m->cfg.rand(m->cfg.rand_ctx);
	return max == NEVER ? r : r % (max + 1);
}

static uint8_t robustness(const struct mcast_member *m) { return m->qrv ? m->qrv : m->cfg.robustness; }

static int kcmp(const struct mcast_member *m, const uint8_t *a, const uint8_t *b) { return memcmp(a, b, m->alen); }

static void key_of(const struct mcast_member *m, const struct skiff_addr *a, uint8_t *k)
{
	memset(k, 0, 16);
	if (m->alen == 4)
		st32(k, a->v4);
	else
		memcpy(k, a->v6, 16);
}

static struct skiff_addr addr_of_key(const struct mcast_member *m, const uint8_t *k)
{
	return m->alen == 4 ? skiff_addr_v4(ld32(k)) : ip6_addr_make(k);
}

static bool group_ok(const struct mcast_member *m, const struct skiff_addr *g)
{
	if (!g || g->family != m->cfg.family)
		return false;
	return m->alen == 4 ? ip4_is_multicast(g->v4) : ip6_is_multicast(g->v6);
}

/* Never reported: 224.0.0.1 (RFC 3376 5); ff02::1, scopes 0 and 1 (RFC 3810 6). */
static bool reportable(const struct mcast_member *m, const uint8_t *k)
{
	static const uint8_t all_nodes[16] = IP6_ADDR_ALL_NODES;
	if (m->alen == 4)
		return ld32(k) != IGMP_ALL_SYSTEMS;
	return memcmp(k, all_nodes, 16) != 0 && ip6_mcast_scope(k) > IP6_SCOPE_IFACE;
}

static bool has_state(const struct group *g) { return g->mode == MCAST_MODE_EXCLUDE || g->n_src; }

/* Insert k into the sorted array a[0..*n) (cap entries); false when full. */
static bool arr_insert(const struct mcast_member *m, uint8_t (*a)[16], unsigned *n, unsigned cap, const uint8_t *k)
{
	unsigned i = 0;
	int c = 1;
	while (i < *n && (c = kcmp(m, a[i], k)) < 0)
		i++;
	if (i < *n && c == 0)
		return true;
	if (*n >= cap)
		return false;
	memmove(a[i + 1], a[i], (size_t)(*n - i) * 16);
	memcpy(a[i], k, 16);
	(*n)++;
	return true;
}

/* ---- source pool and lists ---- */

static uint32_t node_alloc(struct mcast_member *m, const uint8_t *k)
{
	uint32_t i = m->s_free;
	if (i == NIL)
		return NIL;
	m->s_free = m->s[i].next;
	memcpy(m->s[i].a, k, 16);
	m->s[i].next = NIL;
	m->s[i].rtx = 0;
	m->s[i].mark = false;
	return i;
}

static void node_free(struct mcast_member *m, uint32_t i)
{
	m->s[i].next = m->s_free;
	m->s_free = i;
}

static unsigned list_free(struct mcast_member *m, uint32_t *head)
{
	unsigned n = 0;
	while (*head != NIL) {
		uint32_t i = *head;
		*head = m->s[i].next;
		node_free(m, i);
		n++;
	}
	return n;
}

static bool list_has(const struct mcast_member *m, uint32_t head, const uint8_t *k)
{
	for (uint32_t i = head; i != NIL; i = m->s[i].next) {
		int c = kcmp(m, m->s[i].a, k);
		if (c == 0)
			return true;
		if (c > 0)
			break;
	}
	return false;
}

/* ---- groups and memberships ---- */

static struct group *group_find(const struct mcast_member *m, const uint8_t *k)
{
	for (unsigned i = 0; i < m->cfg.max_groups; i++)
		if (m->g[i].used && kcmp(m, m->g[i].a, k) == 0)
			return &m->g[i];
	return NULL;
}

static void tomb_clear(struct mcast_member *m, struct group *g)
{
	m->tomb_used -= list_free(m, &g->tomb);
	g->n_tomb = 0;
}

static void group_release(struct mcast_member *m, struct group *g)
{
	m->group_used -= list_free(m, &g->src);
	tomb_clear(m, g);
	if (has_state(g))
		m->generation++;
	memset(g, 0, sizeof(*g));
	m->next_dirty = true;
}

static void maybe_release(struct mcast_member *m, struct group *g)
{
	if (g->used && !g->n_memb && !has_state(g) && !g->fmc && !g->n_tomb && !g->leave_pending)
		group_release(m, g);
}

/* A free slot, else a group only waiting to retransmit (its owners all left). */
static struct group *group_slot(const struct mcast_member *m)
{
	struct group *leaving = NULL;
	for (unsigned i = 0; i < m->cfg.max_groups; i++) {
		if (!m->g[i].used)
			return &m->g[i];
		if (!m->g[i].n_memb && !leaving)
			leaving = &m->g[i];
	}
	return leaving;
}

static struct group *group_alloc(struct mcast_member *m, const uint8_t *k)
{
	struct group *g = group_slot(m);
	if (!g)
		return NULL;
	if (g->used) {
		m->st.evictions++;
		group_release(m, g);
	}
	memcpy(g->a, k, 16);
	g->used = true;
	g->reportable = reportable(m, k);
	g->mode = MCAST_MODE_INCLUDE;
	g->src = g->tomb = g->memb = NIL;
	g->rtx_at = g->resp_at = g->old_at = NEVER;
	return g;
}

static struct memb *memb_find(const struct mcast_member *m, const struct group *g, uint64_t owner)
{
	if (!g)
		return NULL;
	for (uint32_t i = g->memb; i != NIL; i = m->mb[i].next)
		if (m->mb[i].owner == owner)
			return &m->mb[i];
	return NULL;
}

static unsigned owner_count(const struct mcast_member *m, uint64_t owner)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->cfg.max_memberships; i++)
		n += m->mb[i].used && m->mb[i].owner == owner;
	return n;
}

static struct memb *memb_add(struct mcast_member *m, struct group *g, uint64_t owner)
{
	for (unsigned i = 0; i < m->cfg.max_memberships; i++) {
		struct memb *b = &m->mb[i];
		if (b->used)
			continue;
		memset(b, 0, sizeof(*b));
		b->used = true;
		b->owner = owner;
		b->group = (uint32_t)(g - m->g);
		b->src = NIL;
		b->next = g->memb;
		g->memb = i;
		g->n_memb++;
		m->n_memb++;
		return b;
	}
	return NULL;
}

static void memb_remove(struct mcast_member *m, struct group *g, struct memb *b)
{
	uint32_t idx = (uint32_t)(b - m->mb);
	for (uint32_t *p = &g->memb; *p != NIL; p = &m->mb[*p].next) {
		if (*p == idx) {
			*p = b->next;
			break;
		}
	}
	m->owner_used -= list_free(m, &b->src);
	b->used = false;
	g->n_memb--;
	m->n_memb--;
}

/* ---- interface state (RFC 3376 3.2) ---- */

/* Merge g's owners into m->keys2; returns the count, *mode the filter mode. */
static unsigned merge_state(struct mcast_member *m, const struct group *g, uint8_t *mode)
{
	unsigned n = 0, cap = m->cfg.max_group_sources;
	const struct memb *ex = NULL;

	for (uint32_t i = g->memb; i != NIL; i = m->mb[i].next)
		if (m->mb[i].mode == MCAST_MODE_EXCLUDE)
			ex = &m->mb[i];
	if (!ex) {
		*mode = MCAST_MODE_INCLUDE;
		for (uint32_t i = g->memb; i != NIL; i = m->mb[i].next)
			for (uint32_t j = m->mb[i].src; j != NIL; j = m->s[j].next)
				arr_insert(m, m->keys2, &n, cap, m->s[j].a); /* fits: held to cap by set_keys */
		return n;
	}
	*mode = MCAST_MODE_EXCLUDE;
	for (uint32_t j = ex->src; j != NIL; j = m->s[j].next) { /* sorted, so the result is too */
		const uint8_t *k = m->s[j].a;
		bool keep = true;
		for (uint32_t i = g->memb; i != NIL && keep; i = m->mb[i].next) {
			bool in = list_has(m, m->mb[i].src, k);
			keep = m->mb[i].mode == MCAST_MODE_EXCLUDE ? in : !in;
		}
		if (keep && n < cap)
			memcpy(m->keys2[n++], k, 16);
	}
	return n;
}

static void clear_rtx_marks(struct mcast_member *m, struct group *g)
{
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next) {
		m->s[i].rtx = 0;
		m->s[i].mark = false;
	}
}

/* Too much removed-source state: the pending change becomes filter-mode-change
 * records, which carry the whole state (5.1). */
static void escalate(struct mcast_member *m, struct group *g)
{
	tomb_clear(m, g);
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
		m->s[i].rtx = 0;
	g->fmc = robustness(m);
	m->st.escalations++;
}

/* Node i left the interface list: keep it with retransmission state (sorted
 * insert into the removed list) or escalate. Returns false if it escalated. */
static bool tomb_add(struct mcast_member *m, struct group *g, uint32_t i)
{
	uint32_t *p = &g->tomb;
	if (g->n_tomb >= m->cfg.max_group_sources || m->tomb_used >= m->cfg.max_sources) {
		node_free(m, i);
		escalate(m, g);
		return false;
	}
	while (*p != NIL && kcmp(m, m->s[*p].a, m->s[i].a) < 0)
		p = &m->s[*p].next;
	m->s[i].rtx = robustness(m);
	m->s[i].mark = false;
	m->s[i].next = *p;
	*p = i;
	g->n_tomb++;
	m->tomb_used++;
	return true;
}

static void tomb_remove(struct mcast_member *m, struct group *g, const uint8_t *k)
{
	for (uint32_t *p = &g->tomb; *p != NIL; p = &m->s[*p].next) {
		int c = kcmp(m, m->s[*p].a, k);
		if (c > 0)
			return;
		if (c == 0) {
			uint32_t i = *p;
			*p = m->s[i].next;
			node_free(m, i);
			g->n_tomb--;
			m->tomb_used--;
			return;
		}
	}
}

/* Make g's interface state (nmode, nk[0..nn)) and schedule what the change sends. */
static void apply_state(struct mcast_member *m, struct group *g, uint8_t nmode, uint8_t (*nk)[16], unsigned nn,
			uint64_t now)
{
	bool before = has_state(g), mode_change = nmode != g->mode, changed = mode_change;
	bool v3 = m->compat == MCAST_V3 && g->reportable, escalated = false;
	uint8_t r = robustness(m);
	uint32_t *p = &g->src;
	unsigned i = 0;

	/* removals first, so the pool never holds old and new at once */
	while (*p != NIL) {
		uint32_t cur = *p;
		while (i < nn && kcmp(m, nk[i], m->s[cur].a) < 0)
			i++;
		if (i < nn && kcmp(m, nk[i], m->s[cur].a) == 0) {
			p = &m->s[cur].next;
			continue;
		}
		*p = m->s[cur].next;
		g->n_src--;
		m->group_used--;
		changed = true;
		if (v3 && !mode_change && !escalated)
			escalated = !tomb_add(m, g, cur);
		else
			node_free(m, cur);
	}
	p = &g->src;
	for (i = 0; i < nn; i++) {
		uint32_t idx;
		while (*p != NIL && kcmp(m, m->s[*p].a, nk[i]) < 0)
			p = &m->s[*p].next;
		if (*p != NIL && kcmp(m, m->s[*p].a, nk[i]) == 0)
			continue;
		if ((idx = node_alloc(m, nk[i])) == NIL) /* cannot happen: see the pool bound */
			break;
		if (v3 && !mode_change) {
			m->s[idx].rtx = r;
			tomb_remove(m, g, nk[i]);
		}
		m->s[idx].next = *p;
		*p = idx;
		p = &m->s[idx].next;
		g->n_src++;
		m->group_used++;
		changed = true;
	}
	g->mode = nmode;
	if (!changed)
		return;
	m->generation++;
	m->next_dirty = true;
	if (mode_change) {
		clear_rtx_marks(m, g);
		tomb_clear(m, g);
		if (g->q_marks) {
			g->q_marks = false;
			g->q_all = true;
		}
	} else if (escalated) {
		for (uint32_t j = g->src; j != NIL; j = m->s[j].next)
			m->s[j].rtx = 0;
	}
	if (v3) {
		if (mode_change)
			g->fmc = r;
		g->rtx_at = now; /* "immediately" (5.1), merged with whatever was pending */
	} else if (g->reportable && m->compat != MCAST_V3) {
		bool after = has_state(g);
		if (!before && after) {
			g->leave_pending = false;
			g->unsol = (uint8_t)(r - 1);
			g->old_at = now;
		} else if (before && !after) {
			g->unsol = 0;
			g->old_at = NEVER;
			if (m->compat == MCAST_V2 && g->last_reporter) {
				g->leave_pending = true;
				g->old_at = now;
			}
			g->last_reporter = false;
		}
	}
}

static void recompute(struct mcast_member *m, struct group *g, uint64_t now)
{
	uint8_t mode;
	unsigned n = merge_state(m, g, &mode);
	apply_state(m, g, mode, m->keys2, n, now);
	maybe_release(m, g);
}

/* ---- compatibility mode (RFC 3376 7.2.1, RFC 3810 8.2.1) ---- */

static void cancel_all(struct mcast_member *m)
{
	m->gen_at = NEVER;
	for (unsigned i = 0; i < m->cfg.max_groups; i++) {
		struct group *g = &m->g[i];
		if (!g->used)
			continue;
		g->rtx_at = g->resp_at = g->old_at = NEVER;
		g->fmc = 0;
		g->unsol = 0;
		g->leave_pending = false;
		g->last_reporter = false;
		g->q_all = g->q_marks = false;
		clear_rtx_marks(m, g);
		tomb_clear(m, g);
		maybe_release(m, g);
	}
}

static void refresh(struct mcast_member *m, uint64_t now)
{
	uint8_t c;
	for (int i = 0; i < 2; i++)
		if (m->until[i] != NEVER && now >= m->until[i])
			m->until[i] = NEVER;
	if (m->cfg.force_version)
		c = m->cfg.force_version;
	else if (m->until[0] != NEVER)
		c = MCAST_V1;
	else if (m->until[1] != NEVER)
		c = MCAST_V2;
	else
		c = MCAST_V3;
	if (c != m->compat) {
		cancel_all(m);
		m->compat = c;
		m->st.compat_changes++;
	}
	m->next_dirty = true;
}

/* ---- create ---- */

void mcast_member_config_defaults(struct mcast_member_config *cfg, uint8_t family)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->family = family;
	cfg->robustness = 2;
	cfg->max_groups = 256;
	cfg->max_memberships = 1024;
	cfg->max_per_owner = 20;
	cfg->max_owner_sources = family == SKIFF_AF_INET6 ? 64 : 10;
	cfg->max_group_sources = 64;
	cfg->max_sources = 1024;
	cfg->mtu = 1500;
	cfg->unsolicited_ns = 1 * NS_S;
	cfg->unsolicited_old_ns = 10 * NS_S;
	cfg->query_interval_ns = 125 * NS_S;
}

int mcast_member_create(const struct mcast_member_config *cfg, uint64_t now, struct mcast_member **out)
{
	struct mcast_member *m;
	uint8_t alen = cfg->family == SKIFF_AF_INET6 ? 16 : 4;
	size_t overhead = alen == 4 ? IGMP_IP_OVERHEAD : MLD_IP_OVERHEAD;
	size_t rec = alen == 4 ? IGMP_V3_REC_HDR : MLD_V2_REC_HDR;

	(void)now;
	if ((cfg->family != SKIFF_AF_INET && cfg->family != SKIFF_AF_INET6) || !cfg->rand || !cfg->robustness ||
	    cfg->robustness > 7 || !cfg->max_groups || cfg->max_groups > 65535 || !cfg->max_memberships ||
	    cfg->max_memberships > (1u << 24) || cfg->max_group_sources > 65535 ||
	    cfg->max_owner_sources > cfg->max_group_sources || cfg->max_sources > (1u << 24) ||
	    !cfg->query_interval_ns || cfg->force_version > MCAST_V3 ||
	    (alen == 16 && cfg->force_version == MCAST_V1))
		return -EINVAL;
	if (cfg->mtu < overhead + MLD_V1_LEN || cfg->mtu - overhead < 8 + rec + (size_t)cfg->max_group_sources * alen)
		return -EINVAL;
	if (!(m = calloc(1, sizeof(*m))))
		return -ENOMEM;
	m->cfg = *cfg;
	m->alen = alen;
	m->compat = cfg->force_version ? cfg->force_version : MCAST_V3;
	m->qi_ns = cfg->query_interval_ns;
	m->until[0] = m->until[1] = NEVER;
	m->gen_at = NEVER;
	m->next_dirty = true;
	m->s_cap = 3 * cfg->max_sources;
	m->buf_cap = cfg->mtu - overhead;
	m->g = calloc(cfg->max_groups, sizeof(*m->g));
	m->mb = calloc(cfg->max_memberships, sizeof(*m->mb));
	m->s = calloc(m->s_cap ? m->s_cap : 1, sizeof(*m->s));
	m->keys = calloc(cfg->max_owner_sources + 1, sizeof(*m->keys));
	m->keys2 = calloc(cfg->max_group_sources + 1, sizeof(*m->keys2));
	m->buf = malloc(m->buf_cap);
	if (!m->g || !m->mb || !m->s || !m->keys || !m->keys2 || !m->buf) {
		mcast_member_destroy(m);
		return -ENOMEM;
	}
	m->s_free = m->s_cap ? 0 : NIL;
	for (uint32_t i = 0; i < m->s_cap; i++)
		m->s[i].next = i + 1 < m->s_cap ? i + 1 : NIL;
	*out = m;
	return 0;
}

void mcast_member_destroy(struct mcast_member *m)
{
	if (!m)
		return;
	free(m->g);
	free(m->mb);
	free(m->s);
	free(m->keys);
	free(m->keys2);
	free(m->buf);
	free(m);
}

/* ---- owners ---- */

/* Would the INCLUDE union of g's owners, with b's list replaced by keys[0..nk), fit? */
static bool include_union_fits(struct mcast_member *m, const struct group *g, const struct memb *b, unsigned nk)
{
	unsigned n = 0, cap = m->cfg.max_group_sources;
	for (unsigned i = 0; i < nk; i++)
		if (!arr_insert(m, m->keys2, &n, cap, m->keys[i]))
			return false;
	for (uint32_t i = g ? g->memb : NIL; i != NIL; i = m->mb[i].next) {
		if (&m->mb[i] == b || m->mb[i].mode != MCAST_MODE_INCLUDE)
			continue;
		for (uint32_t j = m->mb[i].src; j != NIL; j = m->s[j].next)
			if (!arr_insert(m, m->keys2, &n, cap, m->s[j].a))
				return false;
	}
	return true;
}

/* Owner's new filter on group gk: mode with the sorted sources m->keys[0..nk). */
static int set_keys(struct mcast_member *m, uint64_t owner, const uint8_t *gk, uint8_t mode, unsigned nk, uint64_t now)
{
	struct group *g = group_find(m, gk);
	struct memb *b = memb_find(m, g, owner);
	uint32_t *tail;

	if (mode == MCAST_MODE_INCLUDE && nk == 0) {
		if (b) {
			memb_remove(m, g, b);
			recompute(m, g, now);
		}
		return 0;
	}
	if (!b) {
		if (m->cfg.max_per_owner && owner_count(m, owner) >= m->cfg.max_per_owner)
			return -ENOBUFS;
		if (m->n_memb >= m->cfg.max_memberships || (!g && !group_slot(m)))
			return -ENOBUFS;
	}
	if (m->owner_used - (b ? b->n_src : 0) + nk > m->cfg.max_sources)
		return -ENOBUFS;
	if (mode == MCAST_MODE_INCLUDE && !include_union_fits(m, g, b, nk))
		return -ENOBUFS;
	/* commit: nothing below fails */
	if (!g)
		g = group_alloc(m, gk);
	if (!b)
		b = memb_add(m, g, owner);
	m->owner_used -= list_free(m, &b->src);
	b->n_src = 0;
	tail = &b->src;
	for (unsigned i = 0; i < nk; i++) {
		uint32_t idx = node_alloc(m, m->keys[i]);
		if (idx == NIL)
			break;
		*tail = idx;
		tail = &m->s[idx].next;
		b->n_src++;
		m->owner_used++;
	}
	b->mode = mode;
	recompute(m, g, now);
	return 0;
}

int mcast_member_set_filter(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int mode,
			    const struct skiff_addr *src, unsigned n, uint64_t now)
{
	uint8_t gk[16], k[16];
	unsigned nk = 0;

	if (!group_ok(m, group) || (mode != MCAST_MODE_INCLUDE && mode != MCAST_MODE_EXCLUDE) || (n && !src))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (src[i].family != m->cfg.family)
			return -EINVAL;
	if (n > m->cfg.max_owner_sources)
		return -ENOBUFS;
	refresh(m, now);
	key_of(m, group, gk);
	for (unsigned i = 0; i < n; i++) {
		key_of(m, &src[i], k);
		arr_insert(m, m->keys, &nk, m->cfg.max_owner_sources, k);
	}
	return set_keys(m, owner, gk, (uint8_t)mode, nk, now);
}

int mcast_member_join(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, uint64_t now)
{
	uint8_t gk[16];
	if (!group_ok(m, group))
		return -EINVAL;
	key_of(m, group, gk);
	if (memb_find(m, group_find(m, gk), owner))
		return -EADDRINUSE;
	return mcast_member_set_filter(m, owner, group, MCAST_MODE_EXCLUDE, NULL, 0, now);
}

int mcast_member_leave(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, uint64_t now)
{
	uint8_t gk[16];
	if (!group_ok(m, group))
		return -EINVAL;
	key_of(m, group, gk);
	if (!memb_find(m, group_find(m, gk), owner))
		return -EADDRNOTAVAIL;
	return mcast_member_set_filter(m, owner, group, MCAST_MODE_INCLUDE, NULL, 0, now);
}

int mcast_member_source(struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int op,
			const struct skiff_addr *src, uint64_t now)
{
	uint8_t gk[16], sk[16];
	const struct memb *b;
	uint8_t mode = op == MCAST_SRC_ADD || op == MCAST_SRC_DROP ? MCAST_MODE_INCLUDE : MCAST_MODE_EXCLUDE;
	bool add = op == MCAST_SRC_ADD || op == MCAST_SRC_BLOCK, present = false;
	unsigned nk = 0;

	if (!group_ok(m, group) || !src || src->family != m->cfg.family || op < MCAST_SRC_ADD || op > MCAST_SRC_UNBLOCK)
		return -EINVAL;
	refresh(m, now);
	key_of(m, group, gk);
	key_of(m, src, sk);
	b = memb_find(m, group_find(m, gk), owner);
	if (!b && op != MCAST_SRC_ADD)
		return -EADDRNOTAVAIL;
	if (b && b->mode != mode)
		return -EINVAL;
	for (uint32_t i = b ? b->src : NIL; i != NIL; i = m->s[i].next) {
		if (kcmp(m, m->s[i].a, sk) == 0) {
			present = true;
			if (!add)
				continue; /* dropped from the copy */
		}
		memcpy(m->keys[nk++], m->s[i].a, 16);
	}
	if (add) {
		if (present)
			return 0;
		if (nk >= m->cfg.max_owner_sources)
			return -ENOBUFS;
		arr_insert(m, m->keys, &nk, m->cfg.max_owner_sources, sk);
	} else if (!present) {
		return -EADDRNOTAVAIL;
	}
	return set_keys(m, owner, gk, mode, nk, now);
}

int mcast_member_get_filter(const struct mcast_member *m, uint64_t owner, const struct skiff_addr *group, int *mode,
			    struct skiff_addr *src, unsigned max, unsigned *n)
{
	uint8_t gk[16];
	const struct memb *b;
	unsigned c = 0;

	if (!group_ok(m, group))
		return -EINVAL;
	key_of(m, group, gk);
	if (!(b = memb_find(m, group_find(m, gk), owner)))
		return -EADDRNOTAVAIL;
	for (uint32_t i = b->src; i != NIL; i = m->s[i].next, c++)
		if (c < max)
			src[c] = addr_of_key(m, m->s[i].a);
	*mode = b->mode;
	*n = c;
	return 0;
}

unsigned mcast_member_drop_owner(struct mcast_member *m, uint64_t owner, uint64_t now)
{
	unsigned n = 0;
	refresh(m, now);
	for (unsigned i = 0; i < m->cfg.max_memberships; i++) {
		struct memb *b = &m->mb[i];
		struct group *g;
		if (!b->used || b->owner != owner)
			continue;
		g = &m->g[b->group];
		memb_remove(m, g, b);
		recompute(m, g, now);
		n++;
	}
	return n;
}

/* ---- queries ---- */

/* v3 Group-and-Source-Specific Query on an INCLUDE group: mark the queried
 * sources it has; returns how many. */
static unsigned mark_sources(struct mcast_member *m, struct group *g, const struct mcast_query *q)
{
	unsigned n = 0;
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
		for (unsigned j = 0; j < q->n_src; j++)
			if (kcmp(m, m->s[i].a, q->src + (size_t)j * m->alen) == 0) {
				m->s[i].mark = true;
				n++;
				break;
			}
	return n;
}

/* Are all the queried sources excluded (in g's EXCLUDE list)? */
static bool all_excluded(const struct mcast_member *m, const struct group *g, const struct mcast_query *q)
{
	for (unsigned j = 0; j < q->n_src; j++) {
		uint8_t k[16] = { 0 };
		memcpy(k, q->src + (size_t)j * m->alen, m->alen);
		if (!list_has(m, g->src, k))
			return false;
	}
	return true;
}

static void whole_group(struct mcast_member *m, struct group *g)
{
	if (g->q_marks)
		for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
			m->s[i].mark = false;
	g->q_marks = false;
	g->q_all = true;
}

/* RFC 3376 5.2 rules 1-5 (RFC 3810 6.2). */
static void query_v3(struct mcast_member *m, const struct mcast_query *q, uint64_t max_ns, uint64_t now)
{
	uint64_t at = add_sat(now, rnd_upto(m, max_ns));
	uint8_t gk[16];
	struct group *g;
	bool pending;

	if (skiff_addr_is_any(&q->group)) {
		if (m->gen_at == NEVER || m->gen_at > at) /* rules 1, 2 */
			m->gen_at = at;
		return;
	}
	key_of(m, &q->group, gk);
	g = group_find(m, gk);
	if (!g || !has_state(g) || !g->reportable) {
		m->st.queries_ignored++;
		return;
	}
	pending = g->resp_at != NEVER;
	if (!q->n_src || (pending && g->q_all)) { /* rules 3, 4 */
		whole_group(m, g);
	} else if (g->mode == MCAST_MODE_INCLUDE) { /* rules 3, 5: IS_IN(A*B) */
		if (mark_sources(m, g, q))
			g->q_marks = true;
		else if (!pending) {
			m->st.queries_ignored++; /* nothing of B is forwarded: the answer is empty */
			return;
		}
	} else if (!all_excluded(m, g, q)) { /* IS_IN(B-A) ⊆ IS_EX(A): answer with the whole state */
		whole_group(m, g);
	} else if (!pending) {
		m->st.queries_ignored++; /* B-A empty */
		return;
	}
	g->resp_at = pending ? min64(g->resp_at, at) : at;
}

/* v1/v2 timer for one group (RFC 2236 3): restart only if it would fire sooner. */
static void old_timer(struct mcast_member *m, struct group *g, uint64_t max_ns, uint64_t now)
{
	g->unsol = 0;
	if (g->old_at != NEVER && g->old_at <= add_sat(now, max_ns))
		return;
	g->old_at = add_sat(now, rnd_upto(m, max_ns));
}

static void query_old(struct mcast_member *m, const struct mcast_query *q, uint64_t max_ns, uint64_t now)
{
	bool general = skiff_addr_is_any(&q->group);
	uint8_t gk[16];
	struct group *g;

	if (m->compat == MCAST_V1 && q->version == MCAST_V3) { /* a v1 host hears a General Query, 10 s */
		max_ns = 10 * NS_S;
		general = true;
	}
	if (general) {
		for (unsigned i = 0; i < m->cfg.max_groups; i++) {
			g = &m->g[i];
			if (g->used && has_state(g) && g->reportable)
				old_timer(m, g, max_ns, now);
		}
		return;
	}
	key_of(m, &q->group, gk);
	g = group_find(m, gk);
	if (!g || !has_state(g) || !g->reportable) {
		m->st.queries_ignored++;
		return;
	}
	old_timer(m, g, max_ns, now);
}

int mcast_member_input_query(struct mcast_member *m, const struct mcast_query *q, uint64_t now)
{
	uint64_t max_ns = (uint64_t)q->max_resp_ms * NS_MS;

	if (q->alen != m->alen || q->group.family != m->cfg.family || q->version < MCAST_V1 ||
	    q->version > MCAST_V3 || (m->alen == 16 && q->version == MCAST_V1) || (q->n_src && !q->src))
		return -EINVAL;
	m->st.queries++;
	refresh(m, now);
	if (q->version == MCAST_V3) {
		/* RFC 3376 4.1.6, 4.1.7 (RFC 3810 5.1.8, 5.1.9): zero means the default */
		m->qrv = q->qrv;
		m->qi_ns = q->qqi_s ? q->qqi_s * NS_S : m->cfg.query_interval_ns;
	} else if (!m->cfg.force_version) {
		/* Older Version Querier Present Timeout (RFC 3376 8.12, RFC 3810 9.12) */
		uint64_t t = add_sat((uint64_t)robustness(m) * m->qi_ns, max_ns);
		m->until[q->version == MCAST_V1 ? 0 : 1] = add_sat(now, t);
		refresh(m, now);
	}
	if (m->compat == MCAST_V3) {
		struct mcast_query q3 = *q;
		if (q->version != MCAST_V3) /* forced v3: an older query asks about whole groups */
			q3.n_src = 0;
		query_v3(m, &q3, max_ns, now);
	} else {
		query_old(m, q, max_ns, now);
	}
	return 0;
}

void mcast_member_input_report(struct mcast_member *m, const struct skiff_addr *group, uint64_t now)
{
	uint8_t gk[16];
	struct group *g;

	if (!group_ok(m, group))
		return;
	refresh(m, now);
	if (m->compat == MCAST_V3)
		return;
	key_of(m, group, gk);
	if (!(g = group_find(m, gk)))
		return;
	if (g->old_at != NEVER && !g->leave_pending) {
		g->old_at = NEVER; /* Delaying Member → Idle Member (RFC 2236 6) */
		m->st.reports_heard++;
	}
	g->unsol = 0;
	g->last_reporter = false;
}

/* ---- output ---- */

static void rb_start(struct mcast_member *m) { mcast_rb_init(&m->rb, m->cfg.family, m->buf, m->buf_cap); }

static void send_msg(struct mcast_member *m, uint8_t type, struct skiff_addr dst, size_t len)
{
	struct mcast_out o;
	o.type = type;
	o.dst = dst;
	o.msg = m->buf;
	o.len = len;
	m->emit(m->emit_ctx, &o);
	m->emitted++;
	m->st.msgs_out++;
}

static void flush(struct mcast_member *m)
{
	static const uint8_t mldv2_routers[16] = IP6_ADDR_MLDV2_ROUTERS;
	if (m->rb.n_rec) {
		size_t len = mcast_rb_finish(&m->rb);
		if (m->alen == 4)
			send_msg(m, IGMP_V3_REPORT, skiff_addr_v4(IGMP_V3_ROUTERS), len);
		else
			send_msg(m, MLD_V2_REPORT, ip6_addr_make(mldv2_routers), len);
	}
	rb_start(m);
}

/* Open a record with room for n sources (a fresh message if this one is full;
 * an empty message always has room: create checked the MTU). */
static void rec_begin(struct mcast_member *m, uint8_t type, const uint8_t *group, unsigned n)
{
	if (!mcast_rb_fits(&m->rb, n))
		flush(m);
	mcast_rb_begin(&m->rb, type, group);
	m->st.records_out++;
}

/* The whole current state: IS_IN / IS_EX / TO_IN / TO_EX. */
static void rec_full(struct mcast_member *m, struct group *g, uint8_t type)
{
	rec_begin(m, type, g->a, g->n_src);
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
		mcast_rb_src(&m->rb, m->s[i].a);
	mcast_rb_end(&m->rb);
}

/* IS_IN of the marked sources (5.2 expiry rule 3); marks cleared. */
static void rec_marked(struct mcast_member *m, struct group *g)
{
	unsigned n = 0;
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
		n += m->s[i].mark;
	if (!n)
		return;
	rec_begin(m, MCAST_IS_IN, g->a, n);
	for (uint32_t i = g->src; i != NIL; i = m->s[i].next)
		if (m->s[i].mark) {
			mcast_rb_src(&m->rb, m->s[i].a);
			m->s[i].mark = false;
		}
	mcast_rb_end(&m->rb);
}

/* ALLOW or BLOCK of the sources of *head with retransmission state, each one
 * counted down; from the removed list (tomb) they go when they reach 0. */
static void rec_rtx(struct mcast_member *m, struct group *g, uint8_t type, uint32_t *head, bool tomb)
{
	unsigned n = 0;
	for (uint32_t i = *head; i != NIL; i = m->s[i].next)
		n += m->s[i].rtx > 0;
	if (!n) /* empty source-list-change records are not sent (5.1) */
		return;
	rec_begin(m, type, g->a, n);
	for (uint32_t *p = head; *p != NIL;) {
		struct src_node *s = &m->s[*p];
		if (!s->rtx) {
			p = &s->next;
			continue;
		}
		mcast_rb_src(&m->rb, s->a);
		if (--s->rtx == 0 && tomb) {
			uint32_t i = *p;
			*p = s->next;
			node_free(m, i);
			g->n_tomb--;
			m->tomb_used--;
			continue;
		}
		p = &s->next;
	}
	mcast_rb_end(&m->rb);
}

/* One State-Change Report's records for g (5.1), and the next retransmission. */
static void state_change(struct mcast_member *m, struct group *g, uint64_t now)
{
	bool more = false;
	g->rtx_at = NEVER;
	if (g->fmc) {
		rec_full(m, g, g->mode == MCAST_MODE_INCLUDE ? MCAST_TO_IN : MCAST_TO_EX);
		g->fmc--;
	} else if (g->mode == MCAST_MODE_INCLUDE) {
		rec_rtx(m, g, MCAST_ALLOW, &g->src, false);
		rec_rtx(m, g, MCAST_BLOCK, &g->tomb, true);
	} else {
		rec_rtx(m, g, MCAST_ALLOW, &g->tomb, true);
		rec_rtx(m, g, MCAST_BLOCK, &g->src, false);
	}
	for (uint32_t i = g->src; i != NIL && !more; i = m->s[i].next)
		more = m->s[i].rtx > 0;
	if (g->fmc || g->n_tomb || more)
		g->rtx_at = add_sat(now, rnd_upto(m, m->cfg.unsolicited_ns));
}

/* A v1/v2 report, v2 Leave or MLDv1 report / Done for g. */
static void send_old(struct mcast_member *m, struct group *g, bool leave)
{
	static const uint8_t all_routers6[16] = IP6_ADDR_ALL_ROUTERS;
	int len;
	if (m->alen == 4) {
		uint8_t type = leave ? IGMP_V2_LEAVE : m->compat == MCAST_V1 ? IGMP_V1_REPORT : IGMP_V2_REPORT;
		len = igmp_build_v12(m->buf, m->buf_cap, type, ld32(g->a));
		if (len > 0)
			send_msg(m, type, skiff_addr_v4(leave ? IGMP_ALL_ROUTERS : ld32(g->a)), (size_t)len);
	} else {
		uint8_t type = leave ? MLD_V1_DONE : MLD_V1_REPORT;
		len = mld_build_v1(m->buf, m->buf_cap, type, g->a);
		if (len > 0)
			send_msg(m, type, ip6_addr_make(leave ? all_routers6 : g->a), (size_t)len);
	}
}

unsigned mcast_member_poll(struct mcast_member *m, uint64_t now, mcast_emit_fn emit, void *ctx)
{
	refresh(m, now);
	m->emit = emit;
	m->emit_ctx = ctx;
	m->emitted = 0;
	if (m->compat == MCAST_V3) {
		bool general = due(m->gen_at, now);
		/* Current-State records (RFC 3376 5.2): the General response covers every group's */
		rb_start(m);
		if (general)
			m->gen_at = NEVER;
		for (unsigned i = 0; i < m->cfg.max_groups; i++) {
			struct group *g = &m->g[i];
			bool resp;
			if (!g->used)
				continue;
			resp = due(g->resp_at, now) || (general && g->resp_at != NEVER);
			if (!resp && !general)
				continue;
			if (has_state(g) && g->reportable) {
				if (general || g->q_all || g->mode == MCAST_MODE_EXCLUDE)
					rec_full(m, g, g->mode == MCAST_MODE_INCLUDE ? MCAST_IS_IN : MCAST_IS_EX);
				else
					rec_marked(m, g);
			}
			if (resp) { /* the pending response record is cleared once sent (5.2) */
				for (uint32_t j = g->src; j != NIL; j = m->s[j].next)
					m->s[j].mark = false;
				g->resp_at = NEVER;
				g->q_all = g->q_marks = false;
			}
		}
		flush(m);
		/* State-Change records (5.1) */
		for (unsigned i = 0; i < m->cfg.max_groups; i++)
			if (m->g[i].used && due(m->g[i].rtx_at, now))
				state_change(m, &m->g[i], now);
		flush(m);
	} else {
		for (unsigned i = 0; i < m->cfg.max_groups; i++) {
			struct group *g = &m->g[i];
			if (!g->used || !due(g->old_at, now))
				continue;
			g->old_at = NEVER;
			if (g->leave_pending) {
				g->leave_pending = false;
				send_old(m, g, true);
				continue;
			}
			if (!has_state(g) || !g->reportable)
				continue;
			send_old(m, g, false);
			g->last_reporter = true;
			if (g->unsol) {
				g->unsol--;
				g->old_at = add_sat(now, rnd_upto(m, m->cfg.unsolicited_old_ns));
			}
		}
	}
	for (unsigned i = 0; i < m->cfg.max_groups; i++)
		maybe_release(m, &m->g[i]);
	m->emit = NULL;
	m->next_dirty = true;
	return m->emitted;
}

uint64_t mcast_member_next_deadline(struct mcast_member *m)
{
	uint64_t t;
	if (!m->next_dirty)
		return m->next_at;
	t = min64(m->gen_at, min64(m->until[0], m->until[1]));
	for (unsigned i = 0; i < m->cfg.max_groups; i++) {
		const struct group *g = &m->g[i];
		if (g->used)
			t = min64(t, min64(g->rtx_at, min64(g->resp_at, g->old_at)));
	}
	m->next_at = t;
	m->next_dirty = false;
	return t;
}

/* ---- lookups ---- */

bool mcast_member_accepts(const struct mcast_member *m, const struct skiff_addr *group, const struct skiff_addr *src)
{
	uint8_t gk[16], sk[16];
	const struct group *g;
	bool in;
	if (!group_ok(m, group) || !src || src->family != m->cfg.family)
		return false;
	key_of(m, group, gk);
	key_of(m, src, sk);
	if (!(g = group_find(m, gk)) || !has_state(g))
		return false;
	in = list_has(m, g->src, sk);
	return g->mode == MCAST_MODE_INCLUDE ? in : !in;
}

bool mcast_member_owner_accepts(const struct mcast_member *m, uint64_t owner, const struct skiff_addr *group,
				const struct skiff_addr *src)
{
	uint8_t gk[16], sk[16];
	const struct memb *b;
	bool in;
	if (!group_ok(m, group) || !src || src->family != m->cfg.family)
		return false;
	key_of(m, group, gk);
	key_of(m, src, sk);
	if (!(b = memb_find(m, group_find(m, gk), owner)))
		return false;
	in = list_has(m, b->src, sk);
	return b->mode == MCAST_MODE_INCLUDE ? in : !in;
}

unsigned mcast_member_groups(const struct mcast_member *m, struct skiff_addr *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->cfg.max_groups; i++) {
		if (!m->g[i].used || !has_state(&m->g[i]))
			continue;
		if (n < max)
			out[n] = addr_of_key(m, m->g[i].a);
		n++;
	}
	return n;
}

uint32_t mcast_member_generation(const struct mcast_member *m) { return m->generation; }

uint8_t mcast_member_version(struct mcast_member *m, uint64_t now)
{
	refresh(m, now);
	return m->compat;
}

void mcast_member_get_stats(const struct mcast_member *m, struct mcast_member_stats *out)
{
	*out = m->st;
	out->groups = 0;
	out->pending = m->gen_at != NEVER;
	for (unsigned i = 0; i < m->cfg.max_groups; i++) {
		const struct group *g = &m->g[i];
		if (!g->used)
			continue;
		out->groups++;
		out->pending += (g->rtx_at != NEVER) + (g->resp_at != NEVER) + (g->old_at != NEVER);
	}
	out->memberships = m->n_memb;
	out->owner_sources = m->owner_used;
	out->group_sources = m->group_used;
	out->removed_sources = m->tomb_used;
}
