/* mcast_msg.c — IGMP and MLD messages: parse, check, build. The checks, their
 * order and their RFC sections are listed in mcast_msg.h.
 *
 *   IGMP query  0 type | 1 Max Resp Code | 2 checksum | 4 group
 *               v3: 8 Resv(4) S(1) QRV(3) | 9 QQIC | 10 N | 12 sources (RFC 3376 4.1)
 *   IGMP report v1/v2, leave: 0 type | 1 unused | 2 checksum | 4 group (RFC 2236 2)
 *               v3: 0 type | 1 resv | 2 checksum | 4 resv | 6 M | 8 records (4.2)
 *   MLD query   0 type | 1 code | 2 checksum | 4 Maximum Response Code | 6 resv
 *               | 8 group (16) | v2: 24 Resv S QRV | 25 QQIC | 26 N | 28 sources
 *               (RFC 3810 5.1, RFC 2710 3)
 *   MLD report  v1, done: as the v1 query (RFC 2710 3)
 *               v2: 0 type | 1 resv | 2 checksum | 4 resv | 6 M | 8 records (5.2)
 *   record      0 type | 1 aux words | 2 N | 4 group | sources | aux data
 */
#include "mcast_msg.h"

#include <string.h>

#include "csum.h"
#include "wire_ip6.h"

static const char *const err_names[] = {
#define MCAST_E_NAME(n, s) s,
	MCAST_MSG_ERRS(MCAST_E_NAME)
#undef MCAST_E_NAME
};

const char *mcast_msg_err_name(enum mcast_msg_err e)
{
	return (unsigned)e < MCAST_ERR_MAX ? err_names[e] : "?";
}

static int fail(struct mcast_msg *m, enum mcast_msg_err e)
{
	m->err = e;
	return -EBADMSG;
}

static struct skiff_addr addr_of(const uint8_t *p, uint8_t alen)
{
	return alen == 4 ? skiff_addr_v4(ld32(p)) : ip6_addr_make(p);
}

struct skiff_addr mcast_src_addr(const uint8_t *src, uint8_t alen, unsigned i)
{
	return addr_of(src + (size_t)i * alen, alen);
}

static bool group_is_mcast(const struct skiff_addr *g)
{
	return g->family == SKIFF_AF_INET ? ip4_is_multicast(g->v4) : ip6_is_multicast(g->v6);
}

/* Walk the n records of a report at v, checking each fits (RFC 3376 4.2, RFC 3810
 * 5.2); on success v is cut to exactly the records. */
static bool records_fit(struct view *v, uint16_t n, uint8_t alen)
{
	size_t hdr = alen == 4 ? IGMP_V3_REC_HDR : MLD_V2_REC_HDR;
	struct view w = *v;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *h = view_pull(&w, hdr);
		if (!h || !view_pull(&w, (size_t)ld16(h + 2) * alen + (size_t)h[1] * 4))
			return false;
	}
	v->len -= w.len;
	return true;
}

int mcast_rec_next(struct view *recs, uint8_t alen, struct mcast_rec *r)
{
	struct view v = *recs;
	size_t hdr = alen == 4 ? IGMP_V3_REC_HDR : MLD_V2_REC_HDR;
	const uint8_t *h, *s;

	if (!v.len)
		return -ENOENT;
	if (!(h = view_pull(&v, hdr)))
		return -EBADMSG;
	r->type = h[0];
	r->aux_words = h[1];
	r->n_src = ld16(h + 2);
	r->group = addr_of(h + 4, alen);
	if (!(s = view_pull(&v, (size_t)r->n_src * alen)) || !view_pull(&v, (size_t)r->aux_words * 4))
		return -EBADMSG;
	r->src = s;
	*recs = v;
	return 0;
}

/* A v3 / MLDv2 report: header then M records; bytes after the last record are ignored. */
static int parse_report3(const uint8_t *msg, size_t len, struct mcast_msg *m)
{
	struct view v = view_make(msg + 8, len - 8);
	m->kind = MCAST_MSG_REPORT_V3;
	m->version = MCAST_V3;
	m->n_rec = ld16(msg + 6);
	if (!records_fit(&v, m->n_rec, m->alen))
		return fail(m, MCAST_ERR_LEN);
	m->recs = v;
	return 0;
}

/* Group of a query: 0 / :: (General) or multicast; no sources in a General Query. */
static int check_query_group(struct mcast_msg *m)
{
	if (skiff_addr_is_any(&m->q.group))
		return m->q.n_src ? fail(m, MCAST_ERR_GROUP) : 0;
	return group_is_mcast(&m->q.group) ? 0 : fail(m, MCAST_ERR_GROUP);
}

static void msg_init(struct mcast_msg *m, uint8_t alen)
{
	memset(m, 0, sizeof(*m));
	m->alen = alen;
	m->q.alen = alen;
}

int igmp_parse(const uint8_t *msg, size_t len, struct mcast_msg *m)
{
	msg_init(m, 4);
	if (len < IGMP_MIN_LEN)
		return fail(m, MCAST_ERR_SHORT);
	if (csum_buf(msg, len) != 0)
		return fail(m, MCAST_ERR_CSUM);
	m->type = msg[0];
	switch (m->type) {
	case IGMP_QUERY:
		m->kind = MCAST_MSG_QUERY;
		m->q.code = msg[1];
		m->q.group = skiff_addr_v4(ld32(msg + 4));
		if (len == IGMP_MIN_LEN) { /* RFC 3376 7.1 */
			m->q.version = msg[1] ? MCAST_V2 : MCAST_V1;
			/* v1: Max Resp Code 0 means 100, 10 s (7.2.1); v2: linear tenths (RFC 2236 2.2) */
			m->q.max_resp_ms = msg[1] ? msg[1] * 100u : 10000u;
			if (m->q.version == MCAST_V1) /* v1 queries are all General: the field is ignored (RFC 1112 App. I) */
				m->q.group = skiff_addr_v4(0);
		} else if (len < IGMP_V3_QUERY_MIN) {
			return fail(m, MCAST_ERR_LEN);
		} else {
			m->q.version = MCAST_V3;
			m->q.max_resp_ms = mcast_code8_decode(msg[1]) * 100u;
			m->q.s_flag = (msg[8] >> 3) & 1;
			m->q.qrv = msg[8] & 7;
			m->q.qqi_s = mcast_code8_decode(msg[9]);
			m->q.n_src = ld16(msg + 10);
			if ((size_t)m->q.n_src * 4 > len - IGMP_V3_QUERY_MIN)
				return fail(m, MCAST_ERR_LEN);
			m->q.src = msg + IGMP_V3_QUERY_MIN;
		}
		m->version = m->q.version;
		return check_query_group(m);
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
	case IGMP_V2_LEAVE:
		m->kind = m->type == IGMP_V2_LEAVE ? MCAST_MSG_LEAVE : MCAST_MSG_REPORT;
		m->version = m->type == IGMP_V1_REPORT ? MCAST_V1 : MCAST_V2;
		m->group = skiff_addr_v4(ld32(msg + 4));
		return ip4_is_multicast(m->group.v4) ? 0 : fail(m, MCAST_ERR_GROUP);
	case IGMP_V3_REPORT:
		return parse_report3(msg, len, m);
	default:
		return fail(m, MCAST_ERR_TYPE);
	}
}

int mld_parse(const uint8_t *msg, size_t len, const struct mld_ip *ip, struct mcast_msg *m)
{
	uint32_t sum;
	bool src_ll, src_any;

	msg_init(m, 16);
	if (len < 8)
		return fail(m, MCAST_ERR_SHORT);
	sum = csum_pseudo6(ip->src, ip->dst, IP6_NH_ICMP6, (uint32_t)len);
	if (csum_fold(csum_partial(msg, len, sum)) != 0)
		return fail(m, MCAST_ERR_CSUM);
	m->type = msg[0];
	if (m->type != MLD_QUERY && m->type != MLD_V1_REPORT && m->type != MLD_V1_DONE && m->type != MLD_V2_REPORT)
		return fail(m, MCAST_ERR_TYPE);
	/* RFC 3810 5.1.14 / 5.2.13, RFC 2710 3 */
	if (ip->hop_limit != 1)
		return fail(m, MCAST_ERR_HOPLIMIT);
	if (!ip->router_alert)
		return fail(m, MCAST_ERR_NO_RA);
	src_ll = ip6_is_link_local(ip->src);
	src_any = ip6_is_unspecified(ip->src);
	if (!src_ll && (m->type == MLD_QUERY || !src_any))
		return fail(m, MCAST_ERR_SRC);

	switch (m->type) {
	case MLD_QUERY:
		m->kind = MCAST_MSG_QUERY;
		if (len < MLD_V1_LEN)
			return fail(m, MCAST_ERR_LEN);
		m->q.code = ld16(msg + 4);
		m->q.group = ip6_addr_make(msg + 8);
		if (len == MLD_V1_LEN) { /* RFC 3810 8.1 */
			m->q.version = MCAST_V2;
			m->q.max_resp_ms = m->q.code; /* RFC 2710 3.4: plain milliseconds */
		} else if (len < MLD_V2_QUERY_MIN) {
			return fail(m, MCAST_ERR_LEN);
		} else {
			m->q.version = MCAST_V3;
			m->q.max_resp_ms = mld_code16_decode(m->q.code);
			m->q.s_flag = (msg[24] >> 3) & 1;
			m->q.qrv = msg[24] & 7;
			m->q.qqi_s = mcast_code8_decode(msg[25]);
			m->q.n_src = ld16(msg + 26);
			if ((size_t)m->q.n_src * 16 > len - MLD_V2_QUERY_MIN)
				return fail(m, MCAST_ERR_LEN);
			m->q.src = msg + MLD_V2_QUERY_MIN;
		}
		m->version = m->q.version;
		return check_query_group(m);
	case MLD_V1_REPORT:
	case MLD_V1_DONE:
		m->kind = m->type == MLD_V1_DONE ? MCAST_MSG_LEAVE : MCAST_MSG_REPORT;
		m->version = MCAST_V2;
		if (len < MLD_V1_LEN)
			return fail(m, MCAST_ERR_LEN);
		m->group = ip6_addr_make(msg + 8);
		return ip6_is_multicast(m->group.v6) ? 0 : fail(m, MCAST_ERR_GROUP);
	default: /* MLD_V2_REPORT */
		return parse_report3(msg, len, m);
	}
}

/* ---- time codes ---- */

uint32_t mcast_code8_decode(uint8_t code)
{
	if (code < 128)
		return code;
	return (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
}

uint8_t mcast_code8_encode(uint32_t v)
{
	unsigned exp = 0;
	if (v < 128)
		return (uint8_t)v;
	if (v >= 31744) /* (0x0f | 0x10) << 10 */
		return 0xff;
	v >>= 3;
	while (v > 0x1f) {
		exp++;
		v >>= 1;
	}
	return (uint8_t)(0x80 | exp << 4 | (v & 0x0f));
}

uint32_t mld_code16_decode(uint16_t code)
{
	if (code < 32768)
		return code;
	return (uint32_t)((code & 0x0fff) | 0x1000) << (((code >> 12) & 7) + 3);
}

uint16_t mld_code16_encode(uint32_t v)
{
	unsigned exp = 0;
	if (v < 32768)
		return (uint16_t)v;
	if (v >= 8387584) /* (0x0fff | 0x1000) << 10 */
		return 0xffff;
	v >>= 3;
	while (v > 0x1fff) {
		exp++;
		v >>= 1;
	}
	return (uint16_t)(0x8000 | exp << 12 | (v & 0x0fff));
}

/* ---- build ---- */

int igmp_build_query(uint8_t *buf, size_t cap, const struct mcast_query *q)
{
	size_t len = q->version == MCAST_V3 ? IGMP_V3_QUERY_MIN + (size_t)q->n_src * 4 : IGMP_MIN_LEN;
	uint8_t code;

	if (q->group.family != SKIFF_AF_INET || q->version < MCAST_V1 || q->version > MCAST_V3)
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	if (q->version == MCAST_V1)
		code = 0;
	else if (q->version == MCAST_V2)
		code = (uint8_t)(q->max_resp_ms / 100 > 255 ? 255 : q->max_resp_ms / 100);
	else
		code = mcast_code8_encode(q->max_resp_ms / 100);
	memset(buf, 0, len);
	buf[0] = IGMP_QUERY;
	buf[1] = code;
	st32(buf + 4, q->group.v4);
	if (q->version == MCAST_V3) {
		buf[8] = (uint8_t)((q->s_flag ? 8 : 0) | (q->qrv & 7));
		buf[9] = mcast_code8_encode(q->qqi_s);
		st16(buf + 10, q->n_src);
		if (q->n_src)
			memcpy(buf + IGMP_V3_QUERY_MIN, q->src, (size_t)q->n_src * 4);
	}
	st16(buf + 2, csum_buf(buf, len));
	return (int)len;
}

int mld_build_query(uint8_t *buf, size_t cap, const struct mcast_query *q)
{
	size_t len = q->version == MCAST_V3 ? MLD_V2_QUERY_MIN + (size_t)q->n_src * 16 : MLD_V1_LEN;

	if (q->group.family != SKIFF_AF_INET6 || (q->version != MCAST_V2 && q->version != MCAST_V3))
		return -EINVAL;
	if (cap < len)
		return -ENOSPC;
	memset(buf, 0, len);
	buf[0] = MLD_QUERY;
	if (q->version == MCAST_V2)
		st16(buf + 4, (uint16_t)(q->max_resp_ms > 0xffff ? 0xffff : q->max_resp_ms));
	else
		st16(buf + 4, mld_code16_encode(q->max_resp_ms));
	memcpy(buf + 8, q->group.v6, 16);
	if (q->version == MCAST_V3) {
		buf[24] = (uint8_t)((q->s_flag ? 8 : 0) | (q->qrv & 7));
		buf[25] = mcast_code8_encode(q->qqi_s);
		st16(buf + 26, q->n_src);
		if (q->n_src)
			memcpy(buf + MLD_V2_QUERY_MIN, q->src, (size_t)q->n_src * 16);
	}
	return (int)len;
}

int igmp_build_v12(uint8_t *buf, size_t cap, uint8_t type, uint32_t group)
{
	if (type != IGMP_V1_REPORT && type != IGMP_V2_REPORT && type != IGMP_V2_LEAVE)
		return -EINVAL;
	if (cap < IGMP_MIN_LEN)
		return -ENOSPC;
	memset(buf, 0, IGMP_MIN_LEN);
	buf[0] = type;
	st32(buf + 4, group);
	st16(buf + 2, csum_buf(buf, IGMP_MIN_LEN));
	return IGMP_MIN_LEN;
}

int mld_build_v1(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *group)
{
	if (type != MLD_V1_REPORT && type != MLD_V1_DONE)
		return -EINVAL;
	if (cap < MLD_V1_LEN)
		return -ENOSPC;
	memset(buf, 0, MLD_V1_LEN);
	buf[0] = type;
	memcpy(buf + 8, group, 16);
	return MLD_V1_LEN;
}

void mld_set_csum(uint8_t *msg, size_t len, const uint8_t *src, const uint8_t *dst)
{
	st16(msg + 2, 0);
	st16(msg + 2, csum_fold(csum_partial(msg, len, csum_pseudo6(src, dst, IP6_NH_ICMP6, (uint32_t)len))));
}

/* ---- report builder ---- */

static size_t rec_hdr(const struct mcast_rb *b) { return b->alen == 4 ? IGMP_V3_REC_HDR : MLD_V2_REC_HDR; }

void mcast_rb_init(struct mcast_rb *b, uint8_t family, uint8_t *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
	b->len = 8;
	b->alen = family == SKIFF_AF_INET6 ? 16 : 4;
}

bool mcast_rb_fits(const struct mcast_rb *b, unsigned n)
{
	return b->len + rec_hdr(b) + (size_t)n * b->alen <= b->cap;
}

int mcast_rb_begin(struct mcast_rb *b, uint8_t type, const uint8_t *group)
{
	uint8_t *h;
	if (b->open || !mcast_rb_fits(b, 0))
		return -ENOSPC;
	h = b->buf + b->len;
	h[0] = type;
	h[1] = 0;
	st16(h + 2, 0);
	memcpy(h + 4, group, b->alen);
	b->rec_off = b->len;
	b->len += rec_hdr(b);
	b->rec_src = 0;
	b->open = true;
	return 0;
}

int mcast_rb_src(struct mcast_rb *b, const uint8_t *src)
{
	if (!b->open || b->len + b->alen > b->cap || b->rec_src == UINT16_MAX)
		return -ENOSPC;
	memcpy(b->buf + b->len, src, b->alen);
	b->len += b->alen;
	b->rec_src++;
	return 0;
}

void mcast_rb_end(struct mcast_rb *b)
{
	if (!b->open)
		return;
	st16(b->buf + b->rec_off + 2, b->rec_src);
	b->n_rec++;
	b->open = false;
}

void mcast_rb_cancel(struct mcast_rb *b)
{
	if (!b->open)
		return;
	b->len = b->rec_off;
	b->open = false;
}

size_t mcast_rb_finish(struct mcast_rb *b)
{
	uint8_t *h = b->buf;
	if (b->cap < 8)
		return 0;
	mcast_rb_end(b);
	h[0] = b->alen == 4 ? IGMP_V3_REPORT : MLD_V2_REPORT;
	h[1] = 0;
	st16(h + 2, 0);
	st16(h + 4, 0);
	st16(h + 6, b->n_rec);
	if (b->alen == 4)
		st16(h + 2, csum_buf(h, b->len));
	return b->len;
}
