/* test_mcast.c — IGMP / MLD messages (mcast_msg.c) and the host membership
 * engine (mcast_member.c).
 *
 * Messages: scapy vectors parsed field by field, every refusal reason of both
 * parsers, builders byte-exact against scapy (queries, v1/v2 messages, v3 /
 * MLDv2 reports, the MLD checksum over the pseudo-header), the 8-bit and 16-bit
 * floating-point codes (scapy's encoder, exhaustive round trips, the RFC
 * formula).
 * Engine, on a fake clock with a seeded RNG: a join sends [Robustness] State-
 * Change Reports at random intervals within the Unsolicited Report Interval
 * (and the learned QRV's count); a General Query is answered once within Max
 * Resp Time; Group-Specific and Group-and-Source-Specific queries with the RFC
 * 3376 5.2 merge rules; the interface state merged over sockets (RFC 3376 3.2);
 * IGMPv2 and IGMPv1 querier present → v2/v1 reports, Leave only from the last
 * reporter, report suppression, timer expiry → back to v3; MLDv1 likewise;
 * leave by the last socket; groups never reported; the limits and socket-API
 * errnos; a random run against a model of the interface state and of an ideal
 * single-host router fed with the reports; 100k queries that leave memory and
 * pending work where they were; 100k seeded random inputs through both parsers
 * and into the engine (each in a heap buffer of its exact size, for ASan).
 *
 * The vectors were made by scapy (scapy.contrib.igmp / igmpv3, scapy.layers.
 * inet6) with the expression in each comment; MLD vectors are the ICMPv6 part
 * of IPv6(src, dst, hlim=1)/IPv6ExtHdrHopByHop(options=[RouterAlert()])/...
 * so their checksums cover those addresses. scapy 2.5 writes a record's Aux
 * Data Len in bytes where RFC 3810 5.2.6 counts 32-bit words, so mld2_report
 * gives it explicitly (the default is refused in test_parse_refusals). Sources
 * are in 198.18.0.0/15 and 2001:2::/48.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/mcast_member.h"
#include "dataplane/mcast_msg.h"
#include "dataplane/wire_ip6.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define T0 (1000 * SEC)
#define NEVER UINT64_MAX

/* igmp3_gq: IGMPv3(type=0x11, mrcode=100)/IGMPv3mq(gaddr='0.0.0.0', qrv=2, qqic=125) */
static const uint8_t igmp3_gq[12] = {
	0x11, 0x64, 0xec, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00,
};

/* igmp3_gssq: IGMPv3(type=0x11, mrcode=0x8f)/IGMPv3mq(gaddr='239.1.2.3', s=1, qrv=3, qqic=0x85, srcaddrs=['198.18.0.2', '198.18.0.3']) */
static const uint8_t igmp3_gssq[20] = {
	0x11, 0x8f, 0x65, 0xba, 0xef, 0x01, 0x02, 0x03, 0x0b, 0x85, 0x00, 0x02,
	0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x03,
};

/* igmp2_gq: IGMP(type=0x11, mrcode=100, gaddr='0.0.0.0') */
static const uint8_t igmp2_gq[8] = {
	0x11, 0x64, 0xee, 0x9b, 0x00, 0x00, 0x00, 0x00,
};

/* igmp2_gsq: IGMP(type=0x11, mrcode=10, gaddr='239.1.2.3') */
static const uint8_t igmp2_gsq[8] = {
	0x11, 0x0a, 0xfd, 0xf0, 0xef, 0x01, 0x02, 0x03,
};

/* igmp1_q: IGMP(type=0x11, mrcode=0, gaddr='0.0.0.0') */
static const uint8_t igmp1_q[8] = {
	0x11, 0x00, 0xee, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* igmp2_report: IGMP(type=0x16, mrcode=0, gaddr='239.1.2.3') */
static const uint8_t igmp2_report[8] = {
	0x16, 0x00, 0xf8, 0xfa, 0xef, 0x01, 0x02, 0x03,
};

/* igmp1_report: IGMP(type=0x12, mrcode=0, gaddr='239.1.2.3') */
static const uint8_t igmp1_report[8] = {
	0x12, 0x00, 0xfc, 0xfa, 0xef, 0x01, 0x02, 0x03,
};

/* igmp2_leave: IGMP(type=0x17, mrcode=0, gaddr='239.1.2.3') */
static const uint8_t igmp2_leave[8] = {
	0x17, 0x00, 0xf7, 0xfa, 0xef, 0x01, 0x02, 0x03,
};

/* igmp3_report: IGMPv3(type=0x22)/IGMPv3mr(records=[IGMPv3gr(rtype=4, maddr='239.1.2.3'), IGMPv3gr(rtype=1, maddr='239.1.2.4', srcaddrs=['198.18.0.2', '198.18.0.3']), IGMPv3gr(rtype=6, maddr='239.1.2.5', srcaddrs=['198.18.0.9'])]) */
static const uint8_t igmp3_report[44] = {
	0x22, 0x00, 0xad, 0xa1, 0x00, 0x00, 0x00, 0x03, 0x04, 0x00, 0x00, 0x00,
	0xef, 0x01, 0x02, 0x03, 0x01, 0x00, 0x00, 0x02, 0xef, 0x01, 0x02, 0x04,
	0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x03, 0x06, 0x00, 0x00, 0x01,
	0xef, 0x01, 0x02, 0x05, 0xc6, 0x12, 0x00, 0x09,
};

/* igmp3_to_ex: IGMPv3(type=0x22)/IGMPv3mr(records=[IGMPv3gr(rtype=4, maddr='239.1.2.3')]) */
static const uint8_t igmp3_to_ex[16] = {
	0x22, 0x00, 0xe8, 0xf9, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
	0xef, 0x01, 0x02, 0x03,
};

/* igmp3_allow: IGMPv3(type=0x22)/IGMPv3mr(records=[IGMPv3gr(rtype=5, maddr='239.1.2.3', srcaddrs=['198.18.0.2', '198.18.0.3'])]) */
static const uint8_t igmp3_allow[24] = {
	0x22, 0x00, 0x5b, 0xcd, 0x00, 0x00, 0x00, 0x01, 0x05, 0x00, 0x00, 0x02,
	0xef, 0x01, 0x02, 0x03, 0xc6, 0x12, 0x00, 0x02, 0xc6, 0x12, 0x00, 0x03,
};

/* mld2_gq: ICMPv6MLQuery2(mrd=10000, QRV=2, QQIC=125) from fe80::1 to ff02::1, hlim 1, HbH RouterAlert */
static const uint8_t mld2_gq[28] = {
	0x82, 0x00, 0x56, 0x96, 0x27, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x7d, 0x00, 0x00,
};

/* mld2_gssq: ICMPv6MLQuery2(mrd=0x8123, mladdr='ff0e::1:3', S=1, QRV=3, QQIC=0x85, sources=['2001:2::2', '2001:2::3']) from fe80::1 to ff0e::1:3 */
static const uint8_t mld2_gssq[60] = {
	0x82, 0x00, 0xb4, 0x2b, 0x81, 0x23, 0x00, 0x00, 0xff, 0x0e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
	0x0b, 0x85, 0x00, 0x02, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x00, 0x02,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
};

/* mld1_gq: ICMPv6MLQuery(mrd=10000, mladdr='::') from fe80::1 to ff02::1 */
static const uint8_t mld1_gq[24] = {
	0x82, 0x00, 0x59, 0x17, 0x27, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* mld1_report: ICMPv6MLReport(mladdr='ff0e::1:3') from fe80::2 to ff0e::1:3 */
static const uint8_t mld1_report[24] = {
	0x83, 0x00, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0xff, 0x0e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
};

/* mld1_done: ICMPv6MLDone(mladdr='ff0e::1:3') from fe80::2 to ff02::2 */
static const uint8_t mld1_done[24] = {
	0x84, 0x00, 0x7f, 0x12, 0x00, 0x00, 0x00, 0x00, 0xff, 0x0e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x03,
};

/* mld2_report: ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff0e::1:3'), ICMPv6MLDMultAddrRec(rtype=1, dst='ff0e::1:4', sources=['2001:2::2', '2001:2::3'], auxdata_len=1, auxdata=b'\xaa\xbb\xcc\xdd')]) from fe80::2 to ff02::16 */
static const uint8_t mld2_report[84] = {
	0x8f, 0x00, 0xb8, 0x04, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00, 0x00, 0x00,
	0xff, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x03, 0x01, 0x01, 0x00, 0x02, 0xff, 0x0e, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04,
	0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xaa, 0xbb, 0xcc, 0xdd,
};

/* mld2_to_ex: ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(rtype=4, dst='ff0e::1:3')]) from fe80::2 to ff02::16 */
static const uint8_t mld2_to_ex[28] = {
	0x8f, 0x00, 0x6f, 0xf9, 0x00, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00,
	0xff, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x03,
};

/* IGMPv3.encode_maxrespcode() of each value */
static const uint32_t code8_vals[] = { 0, 1, 127, 128, 129, 135, 136, 200, 1000, 3000, 31743, 31744, 40000 };
static const uint8_t code8_codes[] = { 0x00, 0x01, 0x7f, 0x80, 0x80, 0x80, 0x81, 0x89, 0xaf, 0xc7, 0xfe, 0xff, 0xff };

static const uint8_t LL1[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }; /* the querier */
static const uint8_t LL2[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 }; /* this host */
static const uint8_t ZERO16[16] = { 0 };
static const uint8_t ALL_NODES[16] = IP6_ADDR_ALL_NODES;
static const uint8_t ALL_ROUTERS6[16] = IP6_ADDR_ALL_ROUTERS;
static const uint8_t MLDV2_ROUTERS[16] = IP6_ADDR_MLDV2_ROUTERS;

static struct skiff_addr A4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return skiff_addr_v4((uint32_t)a << 24 | b << 16 | c << 8 | d);
}

static struct skiff_addr A6(const char *s)
{
	uint8_t b[16];
	assert_int_equal(inet_pton(AF_INET6, s, b), 1);
	return ip6_addr_make(b);
}

/* 198.18.0.n and 2001:2::n */
static struct skiff_addr S4(unsigned n) { return A4(198, 18, 0, n); }
static struct skiff_addr S6(unsigned n)
{
	struct skiff_addr a = A6("2001:2::");
	a.v6[15] = (uint8_t)n;
	return a;
}

static uint64_t rng_x = 0x1234567887654321ull;
static uint64_t rnd(void)
{
	rng_x ^= rng_x >> 12;
	rng_x ^= rng_x << 25;
	rng_x ^= rng_x >> 27;
	return rng_x * 0x2545f4914f6cdd1dull;
}

static uint64_t eng_rand(void *ctx)
{
	uint64_t *x = ctx;
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static void igmp_fix(uint8_t *b, size_t len)
{
	st16(b + 2, 0);
	st16(b + 2, csum_buf(b, len));
}

static void addr_str(const struct skiff_addr *a, char *out, size_t cap)
{
	if (a->family == SKIFF_AF_INET) {
		uint8_t b[4];
		st32(b, a->v4);
		inet_ntop(AF_INET, b, out, (socklen_t)cap);
	} else {
		inet_ntop(AF_INET6, a->v6, out, (socklen_t)cap);
	}
}

/* ---- an ideal single-host router fed with the reports (for the model test) ---- */

#define RT_GROUPS 3
#define RT_SRCS 8
struct router {
	uint8_t family;
	uint8_t mode[RT_GROUPS]; /* MCAST_MODE_INCLUDE / MCAST_MODE_EXCLUDE */
	uint8_t set[RT_GROUPS];  /* bit i: source i + 1 */
};

static struct skiff_addr model_group(uint8_t family, unsigned g)
{
	return family == SKIFF_AF_INET ? A4(239, 1, 2, 3 + g) : A6(g == 0 ? "ff0e::1:3" : g == 1 ? "ff0e::1:4" : "ff05::1:5");
}

static int group_index(uint8_t family, const struct skiff_addr *a)
{
	for (unsigned g = 0; g < RT_GROUPS; g++) {
		struct skiff_addr x = model_group(family, g);
		if (skiff_addr_eq(&x, a))
			return (int)g;
	}
	return -1;
}

static void router_apply(struct router *rt, const struct mcast_rec *r, uint8_t alen)
{
	int g = group_index(rt->family, &r->group);
	uint8_t b = 0;
	assert_true(g >= 0);
	for (unsigned i = 0; i < r->n_src; i++) {
		struct skiff_addr s = mcast_src_addr(r->src, alen, i);
		unsigned n = s.family == SKIFF_AF_INET ? (s.v4 & 0xff) : s.v6[15];
		assert_true(n >= 1 && n <= RT_SRCS);
		b |= (uint8_t)(1u << (n - 1));
	}
	switch (r->type) {
	case MCAST_IS_IN:
	case MCAST_TO_IN:
		rt->mode[g] = MCAST_MODE_INCLUDE;
		rt->set[g] = b;
		break;
	case MCAST_IS_EX:
	case MCAST_TO_EX:
		rt->mode[g] = MCAST_MODE_EXCLUDE;
		rt->set[g] = b;
		break;
	case MCAST_ALLOW:
		rt->set[g] = rt->mode[g] == MCAST_MODE_INCLUDE ? (uint8_t)(rt->set[g] | b) : (uint8_t)(rt->set[g] & ~b);
		break;
	case MCAST_BLOCK:
		rt->set[g] = rt->mode[g] == MCAST_MODE_INCLUDE ? (uint8_t)(rt->set[g] & ~b) : (uint8_t)(rt->set[g] | b);
		break;
	default:
		fail();
	}
}

/* ---- the engine on a fake clock, its output captured ---- */

#define CAP 40
struct cap_msg {
	uint8_t type;
	struct skiff_addr dst;
	size_t len;
	uint8_t b[1500];
	char str[768];
};

struct eng {
	struct mcast_member *m;
	uint64_t rs;
	uint8_t family;
	unsigned n, total;
	uint64_t last_at;         /* now of the last poll */
	struct router *rt;        /* fed with every record when set */
	struct cap_msg msg[CAP];
};

static const char *const rec_names[] = { "?", "IS_IN", "IS_EX", "TO_IN", "TO_EX", "ALLOW", "BLOCK" };

/* Parse what the engine sent, check its destination, render it as text. */
static void on_emit(void *ctx, const struct mcast_out *o)
{
	struct eng *e = ctx;
	struct mcast_msg pm;
	uint8_t buf[1500];
	char g[64], s[64], *p;
	size_t left;
	struct cap_msg *c = e->n < CAP ? &e->msg[e->n] : NULL;

	e->total++;
	assert_true(o->len <= sizeof(buf));
	memcpy(buf, o->msg, o->len);
	if (e->family == SKIFF_AF_INET) {
		assert_int_equal(igmp_parse(buf, o->len, &pm), 0);
	} else {
		struct mld_ip ip = { LL2, o->dst.v6, 1, true };
		assert_int_equal(ld16(buf + 2), 0); /* left to the caller */
		mld_set_csum(buf, o->len, LL2, o->dst.v6);
		assert_int_equal(mld_parse(buf, o->len, &ip, &pm), 0);
	}
	assert_int_equal(pm.type, o->type);
	if (!c)
		c = &e->msg[CAP - 1];
	else
		e->n++;
	c->type = o->type;
	c->dst = o->dst;
	c->len = o->len;
	memcpy(c->b, buf, o->len);
	p = c->str;
	left = sizeof(c->str);
	p[0] = 0;
	if (pm.kind == MCAST_MSG_REPORT_V3) {
		struct view v = pm.recs;
		struct mcast_rec r;
		struct skiff_addr want = e->family == SKIFF_AF_INET ? skiff_addr_v4(IGMP_V3_ROUTERS) : ip6_addr_make(MLDV2_ROUTERS);
		assert_true(skiff_addr_eq(&o->dst, &want));
		while (mcast_rec_next(&v, pm.alen, &r) == 0) {
			int w;
			if (e->rt)
				router_apply(e->rt, &r, pm.alen);
			addr_str(&r.group, g, sizeof(g));
			w = snprintf(p, left, "%s%s %s {", p == c->str ? "" : "; ", rec_names[r.type <= 6 ? r.type : 0], g);
			p += w;
			left -= (size_t)w;
			for (unsigned i = 0; i < r.n_src; i++) {
				struct skiff_addr a = mcast_src_addr(r.src, pm.alen, i);
				addr_str(&a, s, sizeof(s));
				w = snprintf(p, left, "%s%s", i ? "," : "", s);
				p += w;
				left -= (size_t)w;
			}
			w = snprintf(p, left, "}");
			p += w;
			left -= (size_t)w;
		}
	} else {
		const char *name;
		assert_true(pm.kind == MCAST_MSG_REPORT || pm.kind == MCAST_MSG_LEAVE);
		if (pm.kind == MCAST_MSG_LEAVE) {
			struct skiff_addr want = e->family == SKIFF_AF_INET ? skiff_addr_v4(IGMP_ALL_ROUTERS) : ip6_addr_make(ALL_ROUTERS6);
			assert_true(skiff_addr_eq(&o->dst, &want));
			name = e->family == SKIFF_AF_INET ? "LEAVE" : "DONE";
		} else {
			assert_true(skiff_addr_eq(&o->dst, &pm.group)); /* v1/v2 reports go to the group */
			name = e->family == SKIFF_AF_INET6 ? "MLD1REPORT" : pm.type == IGMP_V1_REPORT ? "V1REPORT" : "V2REPORT";
		}
		addr_str(&pm.group, g, sizeof(g));
		snprintf(p, left, "%s %s", name, g);
	}
}

static void eng_init_cfg(struct eng *e, const struct mcast_member_config *cfg_in, uint64_t seed)
{
	struct mcast_member_config cfg = *cfg_in;
	memset(e, 0, sizeof(*e));
	e->family = cfg.family;
	e->rs = seed * 0x9e3779b97f4a7c15ull | 1;
	cfg.rand = eng_rand;
	cfg.rand_ctx = &e->rs;
	assert_int_equal(mcast_member_create(&cfg, T0, &e->m), 0);
}

static void eng_init(struct eng *e, uint8_t family, uint64_t seed)
{
	struct mcast_member_config cfg;
	mcast_member_config_defaults(&cfg, family);
	eng_init_cfg(e, &cfg, seed);
}

static void eng_fini(struct eng *e) { mcast_member_destroy(e->m); }
static uint64_t dl(struct eng *e) { return mcast_member_next_deadline(e->m); }

static unsigned eng_poll(struct eng *e, uint64_t now)
{
	e->last_at = now;
	return mcast_member_poll(e->m, now, on_emit, e);
}

/* Poll at every deadline up to and including `until`. */
static void run_until(struct eng *e, uint64_t until)
{
	uint64_t t;
	while ((t = dl(e)) != NEVER && t <= until)
		eng_poll(e, t);
}

/* Poll until nothing is pending (v3 mode: no querier timers). */
static void drain(struct eng *e)
{
	uint64_t t;
	unsigned guard = 0;
	while ((t = dl(e)) != NEVER) {
		eng_poll(e, t);
		assert_true(++guard < 10000);
	}
}

static void clear(struct eng *e) { e->n = 0; }

static struct skiff_addr any_of(uint8_t family)
{
	return family == SKIFF_AF_INET ? skiff_addr_v4(0) : ip6_addr_make(ZERO16);
}

static uint8_t qsrc[400 * 16];
static struct mcast_query mkq(uint8_t family, uint8_t version, struct skiff_addr group, uint32_t max_ms,
			      const struct skiff_addr *src, unsigned n)
{
	struct mcast_query q;
	memset(&q, 0, sizeof(q));
	q.version = version;
	q.alen = family == SKIFF_AF_INET ? 4 : 16;
	q.group = group;
	q.max_resp_ms = max_ms;
	q.n_src = (uint16_t)n;
	q.src = qsrc;
	for (unsigned i = 0; i < n; i++) {
		if (q.alen == 4)
			st32(qsrc + 4 * i, src[i].v4);
		else
			memcpy(qsrc + 16 * i, src[i].v6, 16);
	}
	return q;
}

static struct mcast_query q_of_igmp(const uint8_t *v, size_t len)
{
	struct mcast_msg m;
	assert_int_equal(igmp_parse(v, len, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_QUERY);
	return m.q;
}

static struct mcast_query q_of_mld(const uint8_t *v, size_t len, const uint8_t *dst)
{
	struct mcast_msg m;
	struct mld_ip ip = { LL1, dst, 1, true };
	assert_int_equal(mld_parse(v, len, &ip, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_QUERY);
	return m.q;
}

/* ======================= messages ======================= */

static void test_igmp_vectors(void **state)
{
	struct mcast_msg m;
	struct mcast_rec r;
	struct view v;
	struct skiff_addr a;
	uint8_t b[32];
	(void)state;

	assert_int_equal(igmp_parse(igmp3_gq, sizeof(igmp3_gq), &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_QUERY);
	assert_int_equal(m.q.version, MCAST_V3);
	assert_int_equal(m.q.max_resp_ms, 10000);
	assert_int_equal(m.q.qrv, 2);
	assert_int_equal(m.q.qqi_s, 125);
	assert_int_equal(m.q.n_src, 0);
	assert_false(m.q.s_flag);
	assert_true(skiff_addr_is_any(&m.q.group) && m.q.group.family == SKIFF_AF_INET);

	assert_int_equal(igmp_parse(igmp3_gssq, sizeof(igmp3_gssq), &m), 0);
	assert_int_equal(m.q.version, MCAST_V3);
	assert_int_equal(m.q.code, 0x8f);
	assert_int_equal(m.q.max_resp_ms, 24800); /* (0xf | 0x10) << 3 = 248 tenths */
	assert_true(m.q.s_flag);
	assert_int_equal(m.q.qrv, 3);
	assert_int_equal(m.q.qqi_s, 168);         /* 0x85: (5 | 0x10) << 3 */
	assert_int_equal(m.q.group.v4, 0xef010203);
	assert_int_equal(m.q.n_src, 2);
	a = mcast_src_addr(m.q.src, 4, 1);
	assert_int_equal(a.v4, 0xc6120003);

	assert_int_equal(igmp_parse(igmp2_gq, sizeof(igmp2_gq), &m), 0);
	assert_int_equal(m.q.version, MCAST_V2);
	assert_int_equal(m.q.max_resp_ms, 10000);
	assert_int_equal(igmp_parse(igmp2_gsq, sizeof(igmp2_gsq), &m), 0);
	assert_int_equal(m.q.version, MCAST_V2);
	assert_int_equal(m.q.max_resp_ms, 1000);
	assert_int_equal(m.q.group.v4, 0xef010203);
	assert_int_equal(igmp_parse(igmp1_q, sizeof(igmp1_q), &m), 0);
	assert_int_equal(m.q.version, MCAST_V1);
	assert_int_equal(m.q.max_resp_ms, 10000); /* code 0 means 10 s (RFC 3376 7.2.1) */
	/* a v1 query's group field is ignored: every v1 query is General */
	memcpy(b, igmp1_q, 8);
	st32(b + 4, 0xef010203);
	igmp_fix(b, 8);
	assert_int_equal(igmp_parse(b, 8, &m), 0);
	assert_true(skiff_addr_is_any(&m.q.group));

	assert_int_equal(igmp_parse(igmp2_report, sizeof(igmp2_report), &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT);
	assert_int_equal(m.version, MCAST_V2);
	assert_int_equal(m.group.v4, 0xef010203);
	assert_int_equal(igmp_parse(igmp1_report, sizeof(igmp1_report), &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT);
	assert_int_equal(m.version, MCAST_V1);
	assert_int_equal(igmp_parse(igmp2_leave, sizeof(igmp2_leave), &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_LEAVE);
	assert_int_equal(m.group.v4, 0xef010203);

	assert_int_equal(igmp_parse(igmp3_report, sizeof(igmp3_report), &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT_V3);
	assert_int_equal(m.n_rec, 3);
	v = m.recs;
	assert_int_equal(mcast_rec_next(&v, 4, &r), 0);
	assert_int_equal(r.type, MCAST_TO_EX);
	assert_int_equal(r.group.v4, 0xef010203);
	assert_int_equal(r.n_src, 0);
	assert_int_equal(mcast_rec_next(&v, 4, &r), 0);
	assert_int_equal(r.type, MCAST_IS_IN);
	assert_int_equal(r.n_src, 2);
	assert_int_equal(mcast_src_addr(r.src, 4, 0).v4, 0xc6120002);
	assert_int_equal(mcast_rec_next(&v, 4, &r), 0);
	assert_int_equal(r.type, MCAST_BLOCK);
	assert_int_equal(r.group.v4, 0xef010205);
	assert_int_equal(mcast_src_addr(r.src, 4, 0).v4, 0xc6120009);
	assert_int_equal(mcast_rec_next(&v, 4, &r), -ENOENT);

	/* extra bytes count in the checksum and are otherwise ignored (RFC 2236 2.5, RFC 3376 4.1.10) */
	memset(b, 0xee, sizeof(b));
	memcpy(b, igmp2_report, 8);
	igmp_fix(b, 12);
	assert_int_equal(igmp_parse(b, 12, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT);
	memcpy(b, igmp3_gssq, sizeof(igmp3_gssq));
	igmp_fix(b, sizeof(igmp3_gssq) + 3);
	assert_int_equal(igmp_parse(b, sizeof(igmp3_gssq) + 3, &m), 0);
	assert_int_equal(m.q.n_src, 2);
}

static void test_mld_vectors(void **state)
{
	struct mcast_msg m;
	struct mcast_rec r;
	struct view v;
	struct mld_ip ip = { LL1, ALL_NODES, 1, true };
	struct skiff_addr want;
	(void)state;

	assert_int_equal(mld_parse(mld2_gq, sizeof(mld2_gq), &ip, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_QUERY);
	assert_int_equal(m.q.version, MCAST_V3);
	assert_int_equal(m.q.alen, 16);
	assert_int_equal(m.q.max_resp_ms, 10000);
	assert_int_equal(m.q.qrv, 2);
	assert_int_equal(m.q.qqi_s, 125);
	assert_true(skiff_addr_is_any(&m.q.group) && m.q.group.family == SKIFF_AF_INET6);

	want = A6("ff0e::1:3");
	ip.dst = want.v6;
	assert_int_equal(mld_parse(mld2_gssq, sizeof(mld2_gssq), &ip, &m), 0);
	assert_int_equal(m.q.code, 0x8123);
	assert_int_equal(m.q.max_resp_ms, 35096); /* (0x123 | 0x1000) << 3 */
	assert_true(m.q.s_flag);
	assert_int_equal(m.q.qrv, 3);
	assert_int_equal(m.q.qqi_s, 168);
	assert_true(skiff_addr_eq(&m.q.group, &want));
	assert_int_equal(m.q.n_src, 2);
	want = S6(3);
	{
		struct skiff_addr s1 = mcast_src_addr(m.q.src, 16, 1);
		assert_true(skiff_addr_eq(&s1, &want));
	}

	ip.dst = ALL_NODES;
	assert_int_equal(mld_parse(mld1_gq, sizeof(mld1_gq), &ip, &m), 0);
	assert_int_equal(m.q.version, MCAST_V2); /* MLDv1 on the IGMPv2 rung */
	assert_int_equal(m.q.max_resp_ms, 10000);

	want = A6("ff0e::1:3");
	ip.src = LL2;
	ip.dst = want.v6;
	assert_int_equal(mld_parse(mld1_report, sizeof(mld1_report), &ip, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT);
	assert_true(skiff_addr_eq(&m.group, &want));
	ip.dst = ALL_ROUTERS6;
	assert_int_equal(mld_parse(mld1_done, sizeof(mld1_done), &ip, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_LEAVE);
	assert_true(skiff_addr_eq(&m.group, &want));

	ip.dst = MLDV2_ROUTERS;
	assert_int_equal(mld_parse(mld2_report, sizeof(mld2_report), &ip, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT_V3);
	assert_int_equal(m.n_rec, 2);
	v = m.recs;
	assert_int_equal(mcast_rec_next(&v, 16, &r), 0);
	assert_int_equal(r.type, MCAST_TO_EX);
	assert_true(skiff_addr_eq(&r.group, &want));
	assert_int_equal(mcast_rec_next(&v, 16, &r), 0);
	assert_int_equal(r.type, MCAST_IS_IN);
	assert_int_equal(r.aux_words, 1); /* skipped */
	assert_int_equal(r.n_src, 2);
	assert_int_equal(mcast_rec_next(&v, 16, &r), -ENOENT);

	/* a report may come from :: before the host has a link-local address (RFC 3810 5.2.13) */
	{
		uint8_t b[sizeof(mld2_to_ex)];
		memcpy(b, mld2_to_ex, sizeof(b));
		mld_set_csum(b, sizeof(b), ZERO16, MLDV2_ROUTERS);
		ip.src = ZERO16;
		assert_int_equal(mld_parse(b, sizeof(b), &ip, &m), 0);
	}
}

static unsigned err_seen[MCAST_ERR_MAX];

static void expect_igmp_err(const uint8_t *b, size_t len, enum mcast_msg_err e)
{
	struct mcast_msg m;
	uint8_t *c = malloc(len ? len : 1);
	assert_non_null(c);
	memcpy(c, b, len);
	assert_int_equal(igmp_parse(c, len, &m), -EBADMSG);
	assert_int_equal(m.err, e);
	err_seen[e]++;
	free(c);
}

static void expect_mld_err(const uint8_t *b, size_t len, const struct mld_ip *ip, enum mcast_msg_err e)
{
	struct mcast_msg m;
	uint8_t *c = malloc(len ? len : 1);
	assert_non_null(c);
	memcpy(c, b, len);
	assert_int_equal(mld_parse(c, len, ip, &m), -EBADMSG);
	assert_int_equal(m.err, e);
	err_seen[e]++;
	free(c);
}

static void test_parse_refusals(void **state)
{
	uint8_t b[128];
	struct mld_ip ip = { LL1, ALL_NODES, 1, true };
	static const uint8_t global[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09 };
	(void)state;
	memset(err_seen, 0, sizeof(err_seen));

	/* IGMP, in check order */
	expect_igmp_err(igmp2_report, 7, MCAST_ERR_SHORT);
	expect_igmp_err(igmp2_report, 0, MCAST_ERR_SHORT);
	memcpy(b, igmp2_report, 8);
	b[7] ^= 1;
	expect_igmp_err(b, 8, MCAST_ERR_CSUM);
	memcpy(b, igmp2_report, 8);
	b[0] = 0x13; /* DVMRP: not a host's business */
	igmp_fix(b, 8);
	expect_igmp_err(b, 8, MCAST_ERR_TYPE);
	for (size_t len = 9; len < 12; len++) { /* no version has 9-11 byte queries (RFC 3376 7.1) */
		memset(b, 0, sizeof(b));
		memcpy(b, igmp2_gq, 8);
		igmp_fix(b, len);
		expect_igmp_err(b, len, MCAST_ERR_LEN);
	}
	memcpy(b, igmp3_gssq, sizeof(igmp3_gssq));
	st16(b + 10, 3); /* three sources, two present */
	igmp_fix(b, sizeof(igmp3_gssq));
	expect_igmp_err(b, sizeof(igmp3_gssq), MCAST_ERR_LEN);
	memcpy(b, igmp3_report, sizeof(igmp3_report));
	st16(b + 6, 4); /* a fourth record past the end */
	igmp_fix(b, sizeof(igmp3_report));
	expect_igmp_err(b, sizeof(igmp3_report), MCAST_ERR_LEN);
	memcpy(b, igmp3_report, sizeof(igmp3_report));
	b[33] = 1; /* last record claims a word of aux data */
	igmp_fix(b, sizeof(igmp3_report));
	expect_igmp_err(b, sizeof(igmp3_report), MCAST_ERR_LEN);
	memcpy(b, igmp3_report, sizeof(igmp3_report));
	expect_igmp_err(b, 30, MCAST_ERR_CSUM); /* cut: the checksum notices first */
	memcpy(b, igmp2_report, 8);
	st32(b + 4, 0x0a000001); /* report for a unicast "group" */
	igmp_fix(b, 8);
	expect_igmp_err(b, 8, MCAST_ERR_GROUP);
	memcpy(b, igmp2_leave, 8);
	st32(b + 4, 0xffffffff);
	igmp_fix(b, 8);
	expect_igmp_err(b, 8, MCAST_ERR_GROUP);
	memcpy(b, igmp2_gsq, 8);
	st32(b + 4, 0xc6120001);
	igmp_fix(b, 8);
	expect_igmp_err(b, 8, MCAST_ERR_GROUP);
	memcpy(b, igmp3_gssq, sizeof(igmp3_gssq));
	st32(b + 4, 0); /* a General Query with sources (RFC 3376 4.1.9) */
	igmp_fix(b, sizeof(igmp3_gssq));
	expect_igmp_err(b, sizeof(igmp3_gssq), MCAST_ERR_GROUP);

	/* MLD, in check order */
	expect_mld_err(mld1_gq, 7, &ip, MCAST_ERR_SHORT);
	memcpy(b, mld1_gq, 24);
	b[20] ^= 0x40;
	expect_mld_err(b, 24, &ip, MCAST_ERR_CSUM);
	ip.dst = MLDV2_ROUTERS; /* the checksum covers the addresses */
	expect_mld_err(mld1_gq, 24, &ip, MCAST_ERR_CSUM);
	ip.dst = ALL_NODES;
	memcpy(b, mld1_gq, 24);
	b[0] = 133; /* router solicitation */
	mld_set_csum(b, 24, LL1, ALL_NODES);
	expect_mld_err(b, 24, &ip, MCAST_ERR_TYPE);
	ip.hop_limit = 255;
	expect_mld_err(mld1_gq, 24, &ip, MCAST_ERR_HOPLIMIT);
	ip.hop_limit = 0;
	expect_mld_err(mld1_gq, 24, &ip, MCAST_ERR_HOPLIMIT);
	ip.hop_limit = 1;
	ip.router_alert = false;
	expect_mld_err(mld1_gq, 24, &ip, MCAST_ERR_NO_RA);
	ip.router_alert = true;
	memcpy(b, mld1_gq, 24);
	mld_set_csum(b, 24, global, ALL_NODES);
	ip.src = global;
	expect_mld_err(b, 24, &ip, MCAST_ERR_SRC);
	mld_set_csum(b, 24, ZERO16, ALL_NODES);
	ip.src = ZERO16; /* a query never from :: */
	expect_mld_err(b, 24, &ip, MCAST_ERR_SRC);
	memcpy(b, mld1_report, 24);
	{
		struct skiff_addr g = A6("ff0e::1:3");
		mld_set_csum(b, 24, global, g.v6);
		ip.src = global;
		ip.dst = g.v6;
		expect_mld_err(b, 24, &ip, MCAST_ERR_SRC);
	}
	ip.src = LL1;
	ip.dst = ALL_NODES;
	for (size_t len = 25; len < 28; len++) { /* RFC 3810 8.1 */
		memset(b, 0, sizeof(b));
		memcpy(b, mld1_gq, 24);
		mld_set_csum(b, len, LL1, ALL_NODES);
		expect_mld_err(b, len, &ip, MCAST_ERR_LEN);
	}
	memcpy(b, mld1_gq, 24);
	mld_set_csum(b, 20, LL1, ALL_NODES);
	expect_mld_err(b, 20, &ip, MCAST_ERR_LEN);
	memcpy(b, mld1_report, 24);
	mld_set_csum(b, 16, LL1, ALL_NODES);
	expect_mld_err(b, 16, &ip, MCAST_ERR_LEN);
	memcpy(b, mld2_gssq, sizeof(mld2_gssq));
	st16(b + 26, 3);
	mld_set_csum(b, sizeof(mld2_gssq), LL1, ALL_NODES);
	expect_mld_err(b, sizeof(mld2_gssq), &ip, MCAST_ERR_LEN);
	memcpy(b, mld2_report, sizeof(mld2_report));
	b[29] = 4; /* scapy 2.5's default: Aux Data Len in bytes, not 32-bit words (RFC 3810 5.2.6) */
	mld_set_csum(b, sizeof(mld2_report), LL1, ALL_NODES);
	expect_mld_err(b, sizeof(mld2_report), &ip, MCAST_ERR_LEN);
	memcpy(b, mld2_report, sizeof(mld2_report));
	st16(b + 6, 3);
	mld_set_csum(b, sizeof(mld2_report), LL1, ALL_NODES);
	expect_mld_err(b, sizeof(mld2_report), &ip, MCAST_ERR_LEN);
	memcpy(b, mld2_gssq, sizeof(mld2_gssq));
	memset(b + 8, 0, 16); /* General with sources */
	mld_set_csum(b, sizeof(mld2_gssq), LL1, ALL_NODES);
	expect_mld_err(b, sizeof(mld2_gssq), &ip, MCAST_ERR_GROUP);
	memcpy(b, mld1_report, 24);
	memcpy(b + 8, global, 16);
	mld_set_csum(b, 24, LL1, ALL_NODES);
	expect_mld_err(b, 24, &ip, MCAST_ERR_GROUP);

	for (int e = MCAST_ERR_NONE + 1; e < MCAST_ERR_MAX; e++) {
		assert_true(err_seen[e] > 0);
		assert_non_null(mcast_msg_err_name((enum mcast_msg_err)e));
	}
	assert_string_equal(mcast_msg_err_name(MCAST_ERR_MAX), "?");
}

static void test_build(void **state)
{
	uint8_t b[1500];
	struct mcast_query q;
	struct mcast_rb rb;
	struct skiff_addr src4[2] = { S4(2), S4(3) }, src6[2] = { S6(2), S6(3) };
	uint8_t g[16];
	size_t len;
	(void)state;

	q = mkq(SKIFF_AF_INET, MCAST_V3, A4(239, 1, 2, 3), 24800, src4, 2);
	q.s_flag = true;
	q.qrv = 3;
	q.qqi_s = 168;
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), sizeof(igmp3_gssq));
	assert_memory_equal(b, igmp3_gssq, sizeof(igmp3_gssq));
	assert_int_equal(igmp_build_query(b, sizeof(igmp3_gssq) - 1, &q), -ENOSPC);
	q = mkq(SKIFF_AF_INET, MCAST_V3, any_of(SKIFF_AF_INET), 10000, NULL, 0);
	q.qrv = 2;
	q.qqi_s = 125;
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), 12);
	assert_memory_equal(b, igmp3_gq, 12);
	q = mkq(SKIFF_AF_INET, MCAST_V2, any_of(SKIFF_AF_INET), 10000, NULL, 0);
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), 8);
	assert_memory_equal(b, igmp2_gq, 8);
	q = mkq(SKIFF_AF_INET, MCAST_V2, A4(239, 1, 2, 3), 1000, NULL, 0);
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), 8);
	assert_memory_equal(b, igmp2_gsq, 8);
	q = mkq(SKIFF_AF_INET, MCAST_V1, any_of(SKIFF_AF_INET), 10000, NULL, 0);
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), 8);
	assert_memory_equal(b, igmp1_q, 8);
	q = mkq(SKIFF_AF_INET6, MCAST_V3, any_of(SKIFF_AF_INET6), 10000, NULL, 0);
	assert_int_equal(igmp_build_query(b, sizeof(b), &q), -EINVAL);

	assert_int_equal(igmp_build_v12(b, sizeof(b), IGMP_V2_REPORT, 0xef010203), 8);
	assert_memory_equal(b, igmp2_report, 8);
	assert_int_equal(igmp_build_v12(b, sizeof(b), IGMP_V1_REPORT, 0xef010203), 8);
	assert_memory_equal(b, igmp1_report, 8);
	assert_int_equal(igmp_build_v12(b, sizeof(b), IGMP_V2_LEAVE, 0xef010203), 8);
	assert_memory_equal(b, igmp2_leave, 8);
	assert_int_equal(igmp_build_v12(b, sizeof(b), IGMP_QUERY, 0xef010203), -EINVAL);
	assert_int_equal(igmp_build_v12(b, 7, IGMP_V2_REPORT, 0xef010203), -ENOSPC);

	/* v3 report through the record builder */
	mcast_rb_init(&rb, SKIFF_AF_INET, b, sizeof(b));
	st32(g, 0xef010203);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_TO_EX, g), 0);
	mcast_rb_end(&rb);
	st32(g, 0xef010204);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_IS_IN, g), 0);
	st32(g, 0xc6120002);
	assert_int_equal(mcast_rb_src(&rb, g), 0);
	st32(g, 0xc6120003);
	assert_int_equal(mcast_rb_src(&rb, g), 0);
	mcast_rb_end(&rb);
	st32(g, 0xef010205);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_BLOCK, g), 0);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_BLOCK, g), -ENOSPC); /* one open at a time */
	st32(g, 0xc6120009);
	assert_int_equal(mcast_rb_src(&rb, g), 0);
	len = mcast_rb_finish(&rb); /* closes the open record */
	assert_int_equal(len, sizeof(igmp3_report));
	assert_memory_equal(b, igmp3_report, sizeof(igmp3_report));
	/* limits: a record that does not fit is refused whole, a cancelled one leaves no trace */
	mcast_rb_init(&rb, SKIFF_AF_INET, b, 8 + 8 + 4);
	assert_true(mcast_rb_fits(&rb, 1));
	assert_false(mcast_rb_fits(&rb, 2));
	st32(g, 0xef010203);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_ALLOW, g), 0);
	assert_int_equal(mcast_rb_src(&rb, g), 0);
	assert_int_equal(mcast_rb_src(&rb, g), -ENOSPC);
	mcast_rb_cancel(&rb);
	assert_int_equal(mcast_rb_src(&rb, g), -ENOSPC); /* nothing open */
	assert_int_equal(mcast_rb_finish(&rb), 8);
	assert_int_equal(ld16(b + 6), 0);
	mcast_rb_init(&rb, SKIFF_AF_INET, b, 12);
	assert_int_equal(mcast_rb_begin(&rb, MCAST_ALLOW, g), -ENOSPC);

	/* MLD: checksum left 0, filled by mld_set_csum once the addresses are known */
	q = mkq(SKIFF_AF_INET6, MCAST_V3, A6("ff0e::1:3"), 35096, src6, 2);
	q.s_flag = true;
	q.qrv = 3;
	q.qqi_s = 168;
	assert_int_equal(mld_build_query(b, sizeof(b), &q), sizeof(mld2_gssq));
	assert_int_equal(ld16(b + 2), 0);
	mld_set_csum(b, sizeof(mld2_gssq), LL1, A6("ff0e::1:3").v6);
	assert_memory_equal(b, mld2_gssq, sizeof(mld2_gssq));
	q = mkq(SKIFF_AF_INET6, MCAST_V3, any_of(SKIFF_AF_INET6), 10000, NULL, 0);
	q.qrv = 2;
	q.qqi_s = 125;
	assert_int_equal(mld_build_query(b, sizeof(b), &q), 28);
	mld_set_csum(b, 28, LL1, ALL_NODES);
	assert_memory_equal(b, mld2_gq, 28);
	q = mkq(SKIFF_AF_INET6, MCAST_V2, any_of(SKIFF_AF_INET6), 10000, NULL, 0);
	assert_int_equal(mld_build_query(b, sizeof(b), &q), 24);
	mld_set_csum(b, 24, LL1, ALL_NODES);
	assert_memory_equal(b, mld1_gq, 24);
	q.version = MCAST_V1;
	assert_int_equal(mld_build_query(b, sizeof(b), &q), -EINVAL);
	q.version = MCAST_V2;
	assert_int_equal(mld_build_query(b, 23, &q), -ENOSPC);

	assert_int_equal(mld_build_v1(b, sizeof(b), MLD_V1_REPORT, A6("ff0e::1:3").v6), 24);
	mld_set_csum(b, 24, LL2, A6("ff0e::1:3").v6);
	assert_memory_equal(b, mld1_report, 24);
	assert_int_equal(mld_build_v1(b, sizeof(b), MLD_V1_DONE, A6("ff0e::1:3").v6), 24);
	mld_set_csum(b, 24, LL2, ALL_ROUTERS6);
	assert_memory_equal(b, mld1_done, 24);
	assert_int_equal(mld_build_v1(b, sizeof(b), MLD_QUERY, ALL_NODES), -EINVAL);

	mcast_rb_init(&rb, SKIFF_AF_INET6, b, sizeof(b));
	assert_int_equal(mcast_rb_begin(&rb, MCAST_TO_EX, A6("ff0e::1:3").v6), 0);
	len = mcast_rb_finish(&rb);
	assert_int_equal(len, sizeof(mld2_to_ex));
	mld_set_csum(b, len, LL2, MLDV2_ROUTERS);
	assert_memory_equal(b, mld2_to_ex, sizeof(mld2_to_ex));
}

static void test_time_codes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(code8_vals) / sizeof(code8_vals[0]); i++)
		assert_int_equal(mcast_code8_encode(code8_vals[i]), code8_codes[i]);
	assert_int_equal(mcast_code8_decode(0x80), 128);
	assert_int_equal(mcast_code8_decode(0xff), 31744);
	assert_int_equal(mcast_code8_decode(0xf0), 16384);
	for (unsigned c = 0; c < 256; c++) {
		uint32_t v = mcast_code8_decode((uint8_t)c);
		if (c >= 128) /* RFC 3376 4.1.1 */
			assert_int_equal(v, ((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3));
		if (c)
			assert_true(v > mcast_code8_decode((uint8_t)(c - 1)));
		assert_int_equal(mcast_code8_encode(v), c);
	}
	assert_int_equal(mld_code16_decode(0x8000), 32768);
	assert_int_equal(mld_code16_decode(0xffff), 8387584);
	for (unsigned c = 0; c < 65536; c++) {
		uint32_t v = mld_code16_decode((uint16_t)c);
		if (c >= 32768) /* RFC 3810 5.1.3 */
			assert_int_equal(v, ((c & 0x0fff) | 0x1000) << (((c >> 12) & 7) + 3));
		if (c)
			assert_true(v > mld_code16_decode((uint16_t)(c - 1)));
		assert_int_equal(mld_code16_encode(v), c);
	}
	for (int i = 0; i < 100000; i++) { /* encode picks the largest value <= v */
		uint32_t v = (uint32_t)(rnd() % 40000);
		uint8_t c = mcast_code8_encode(v);
		uint32_t w = (uint32_t)(rnd() % 9000000);
		uint16_t d = mld_code16_encode(w);
		assert_true(mcast_code8_decode(c) <= v);
		assert_true(c == 0xff || mcast_code8_decode((uint8_t)(c + 1)) > v);
		assert_true(mld_code16_decode(d) <= w);
		assert_true(d == 0xffff || mld_code16_decode((uint16_t)(d + 1)) > w);
	}
}

/* ======================= the engine ======================= */

static void test_join_v3_reports(void **state)
{
	uint64_t min_gap = NEVER, max_gap = 0;
	(void)state;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct eng e;
		struct skiff_addr g = A4(239, 1, 2, 3);
		uint64_t d;
		eng_init(&e, SKIFF_AF_INET, seed);
		assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
		assert_int_equal(dl(&e), T0); /* "immediately" (RFC 3376 5.1) */
		assert_int_equal(eng_poll(&e, T0), 1);
		assert_int_equal(e.msg[0].type, IGMP_V3_REPORT);
		assert_int_equal(e.msg[0].len, sizeof(igmp3_to_ex));
		assert_memory_equal(e.msg[0].b, igmp3_to_ex, sizeof(igmp3_to_ex));
		d = dl(&e);
		assert_true(d >= T0 && d <= T0 + SEC); /* Unsolicited Report Interval, 1 s */
		min_gap = d - T0 < min_gap ? d - T0 : min_gap;
		max_gap = d - T0 > max_gap ? d - T0 : max_gap;
		assert_int_equal(eng_poll(&e, d - 1), 0);
		assert_int_equal(eng_poll(&e, d), 1);
		assert_string_equal(e.msg[1].str, "TO_EX 239.1.2.3 {}");
		assert_int_equal(dl(&e), NEVER); /* robustness 2: two in all */
		assert_int_equal(eng_poll(&e, d + 100 * SEC), 0);
		eng_fini(&e);
	}
	assert_true(min_gap < SEC / 10 && max_gap > SEC * 9 / 10); /* really random over the interval */

	/* a configured robustness of 3, and a QRV of 5 learned from a v3 query */
	{
		struct eng e;
		struct mcast_member_config cfg;
		struct skiff_addr g = A4(239, 1, 2, 3), g2 = A4(239, 1, 2, 4);
		struct mcast_query q;
		uint64_t last = T0;
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
		cfg.robustness = 3;
		eng_init_cfg(&e, &cfg, 7);
		assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
		while (dl(&e) != NEVER) {
			assert_true(dl(&e) - last <= SEC);
			last = dl(&e);
			eng_poll(&e, last);
		}
		assert_int_equal(e.n, 3);
		q = mkq(SKIFF_AF_INET, MCAST_V3, any_of(SKIFF_AF_INET), 1000, NULL, 0);
		q.qrv = 5;
		assert_int_equal(mcast_member_input_query(e.m, &q, last + SEC), 0);
		drain(&e); /* the General Query's answer */
		assert_int_equal(e.n, 4);
		assert_string_equal(e.msg[3].str, "IS_EX 239.1.2.3 {}");
		clear(&e);
		assert_int_equal(mcast_member_join(e.m, 1, &g2, last + 5 * SEC), 0);
		drain(&e);
		assert_int_equal(e.n, 5);
		eng_fini(&e);
	}
}

static void test_general_query(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct eng e;
		struct skiff_addr g1 = A4(239, 1, 2, 3), g2 = A4(239, 1, 2, 4), g3 = A4(239, 1, 2, 5), s2 = S4(2);
		struct mcast_query q = q_of_igmp(igmp3_gq, sizeof(igmp3_gq));
		uint64_t t1 = T0 + 10 * SEC, d1, d2;
		struct mcast_member_stats st;

		eng_init(&e, SKIFF_AF_INET, seed);
		assert_int_equal(mcast_member_join(e.m, 1, &g1, T0), 0);
		assert_int_equal(mcast_member_join(e.m, 2, &g2, T0), 0);
		assert_int_equal(mcast_member_set_filter(e.m, 3, &g3, MCAST_MODE_INCLUDE, &s2, 1, T0), 0);
		assert_int_equal(eng_poll(&e, T0), 1); /* the three joins pack into one report */
		assert_string_equal(e.msg[0].str,
				    "TO_EX 239.1.2.3 {}; TO_EX 239.1.2.4 {}; ALLOW 239.1.2.5 {198.18.0.2}");
		drain(&e);
		clear(&e);

		assert_int_equal(mcast_member_input_query(e.m, &q, t1), 0);
		d1 = dl(&e);
		assert_true(d1 >= t1 && d1 <= t1 + 10 * SEC); /* Max Resp Time 10 s */
		assert_int_equal(mcast_member_input_query(e.m, &q, t1 + MS), 0);
		d2 = dl(&e);
		assert_true(d2 <= d1); /* rule 1: a sooner pending answer stays */
		mcast_member_get_stats(e.m, &st);
		assert_int_equal(st.pending, 1);
		run_until(&e, t1 + 100 * SEC);
		assert_int_equal(e.n, 1); /* answered once */
		assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.3 {}; IS_EX 239.1.2.4 {}; IS_IN 239.1.2.5 {198.18.0.2}");
		assert_true(e.last_at <= t1 + 10 * SEC);
		assert_int_equal(dl(&e), NEVER);
		eng_fini(&e);
	}
}

static void test_group_specific_query(void **state)
{
	struct eng e;
	struct skiff_addr g1 = A4(239, 1, 2, 3), g2 = A4(239, 1, 2, 4), g9 = A4(239, 9, 9, 9);
	struct mcast_query q;
	struct mcast_member_stats st;
	uint64_t t1 = T0 + 10 * SEC;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 3);
	assert_int_equal(mcast_member_join(e.m, 1, &g1, T0), 0);
	assert_int_equal(mcast_member_join(e.m, 1, &g2, T0), 0);
	drain(&e);
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g2, 2000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t1), 0);
	assert_true(dl(&e) <= t1 + 2 * SEC);
	run_until(&e, t1 + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.4 {}");
	assert_true(e.last_at <= t1 + 2 * SEC);
	/* a group we do not have: nothing scheduled */
	q = mkq(SKIFF_AF_INET, MCAST_V3, g9, 2000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t1 + 100 * SEC), 0);
	assert_int_equal(dl(&e), NEVER);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.queries_ignored, 1);
	/* Max Resp Time 0: answer at once */
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 0, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t1 + 200 * SEC), 0);
	assert_int_equal(dl(&e), t1 + 200 * SEC);
	assert_int_equal(eng_poll(&e, t1 + 200 * SEC), 1);
	assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.3 {}");
	/* a General Query due covers the group ones still pending: one message */
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 5000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t1 + 300 * SEC), 0);
	q = mkq(SKIFF_AF_INET, MCAST_V3, any_of(SKIFF_AF_INET), 0, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t1 + 300 * SEC), 0);
	run_until(&e, t1 + 400 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.3 {}; IS_EX 239.1.2.4 {}");
	eng_fini(&e);
}

static void test_source_specific_merge(void **state)
{
	struct eng e;
	struct skiff_addr g1 = A4(239, 1, 2, 3), g2 = A4(239, 1, 2, 4);
	struct skiff_addr in3[3] = { S4(2), S4(3), S4(4) }, q29[2] = { S4(2), S4(9) }, s3 = S4(3), s2 = S4(2),
			  s5 = S4(5), s6 = S4(6), s9 = S4(9);
	struct mcast_query q;
	struct mcast_member_stats st;
	uint64_t t = T0 + 10 * SEC, d1;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 11);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g1, MCAST_MODE_INCLUDE, in3, 3, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 2, &g2, MCAST_MODE_EXCLUDE, &s5, 1, T0), 0);
	drain(&e);
	clear(&e);

	/* rules 3 and 5: sources accumulate, the earlier time wins; IS_IN(A*B) */
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, q29, 2);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	d1 = dl(&e);
	assert_true(d1 >= t && d1 <= t + 10 * SEC);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, &s3, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t + MS), 0);
	assert_true(dl(&e) <= d1);
	run_until(&e, t + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_IN 239.1.2.3 {198.18.0.2,198.18.0.3}");

	/* rule 4: Group-and-Source then Group → the whole group */
	t += 100 * SEC;
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, &s2, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	run_until(&e, t + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_IN 239.1.2.3 {198.18.0.2,198.18.0.3,198.18.0.4}");
	/* ... and Group then Group-and-Source stays the whole group */
	t += 100 * SEC;
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, &s2, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	run_until(&e, t + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_IN 239.1.2.3 {198.18.0.2,198.18.0.3,198.18.0.4}");

	/* a source we do not include, nothing pending: nothing to say */
	t += 100 * SEC;
	mcast_member_get_stats(e.m, &st);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, &s9, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	assert_int_equal(dl(&e), NEVER);
	{
		struct mcast_member_stats st2;
		mcast_member_get_stats(e.m, &st2);
		assert_int_equal(st2.queries_ignored, st.queries_ignored + 1);
	}

	/* EXCLUDE{S5}: asking about S5 only gets silence, about S6 the whole state */
	q = mkq(SKIFF_AF_INET, MCAST_V3, g2, 10000, &s5, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	assert_int_equal(dl(&e), NEVER);
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g2, 10000, &s6, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	run_until(&e, t + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.4 {198.18.0.5}");

	/* marks pending, then the filter mode changes: the answer is the whole new state */
	t += 100 * SEC;
	clear(&e);
	q = mkq(SKIFF_AF_INET, MCAST_V3, g1, 10000, &s3, 1);
	assert_int_equal(mcast_member_input_query(e.m, &q, t), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g1, MCAST_MODE_EXCLUDE, &s2, 1, t + 1), 0);
	run_until(&e, t + 60 * SEC);
	{
		bool saw = false;
		for (unsigned i = 0; i < e.n; i++) {
			assert_true(strncmp(e.msg[i].str, "IS_IN", 5) != 0);
			saw |= strcmp(e.msg[i].str, "IS_EX 239.1.2.3 {198.18.0.2}") == 0;
		}
		assert_true(saw);
	}
	eng_fini(&e);
}

/* RFC 3376 5.1: changes before the retransmissions are done merge into them. */
static void test_state_change_merge(void **state)
{
	struct eng e;
	struct skiff_addr g = A4(239, 1, 2, 3);
	struct skiff_addr s2 = S4(2), s23[2] = { S4(2), S4(3) }, s3 = S4(3), s4 = S4(4), s45[2] = { S4(4), S4(5) };
	struct mcast_member_stats st;
	uint64_t t = T0;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 5);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, &s2, 1, t), 0);
	assert_int_equal(eng_poll(&e, t), 1);
	assert_string_equal(e.msg[0].str, "ALLOW 239.1.2.3 {198.18.0.2}"); /* IN{} → IN{S2} */
	t += MS;
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, s23, 2, t), 0);
	assert_int_equal(dl(&e), t); /* a new change goes out at once ... */
	assert_int_equal(eng_poll(&e, t), 1);
	assert_string_equal(e.msg[1].str, "ALLOW 239.1.2.3 {198.18.0.2,198.18.0.3}"); /* ... merged with the pending */
	assert_memory_equal(e.msg[1].b, igmp3_allow, sizeof(igmp3_allow));
	drain(&e);
	assert_int_equal(e.n, 3);
	assert_string_equal(e.msg[2].str, "ALLOW 239.1.2.3 {198.18.0.3}"); /* S2 was sent twice already */

	clear(&e);
	t = e.last_at + SEC;
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, &s3, 1, t), 0);
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "BLOCK 239.1.2.3 {198.18.0.2}");
	assert_string_equal(e.msg[1].str, "BLOCK 239.1.2.3 {198.18.0.2}");
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.removed_sources, 0); /* retransmission state gone with the last one */

	/* a filter-mode change: TO_EX for [robustness] reports; a source change in
	 * that period rides along and gets its own records after them */
	clear(&e);
	t = e.last_at + SEC;
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_EXCLUDE, &s4, 1, t), 0);
	assert_int_equal(eng_poll(&e, t), 1);
	assert_string_equal(e.msg[0].str, "TO_EX 239.1.2.3 {198.18.0.4}");
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_EXCLUDE, s45, 2, t + MS), 0);
	drain(&e);
	assert_int_equal(e.n, 4);
	assert_string_equal(e.msg[1].str, "TO_EX 239.1.2.3 {198.18.0.4,198.18.0.5}");
	assert_string_equal(e.msg[2].str, "BLOCK 239.1.2.3 {198.18.0.5}");
	assert_string_equal(e.msg[3].str, "BLOCK 239.1.2.3 {198.18.0.5}");

	/* the last socket leaves: TO_IN{} twice, then the group is gone */
	clear(&e);
	t = e.last_at + SEC;
	assert_int_equal(mcast_member_leave(e.m, 1, &g, t), 0);
	assert_false(mcast_member_accepts(e.m, &g, &s3));
	assert_int_equal(mcast_member_groups(e.m, NULL, 0), 0);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.groups, 1); /* still retransmitting */
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "TO_IN 239.1.2.3 {}");
	assert_string_equal(e.msg[1].str, "TO_IN 239.1.2.3 {}");
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.groups, 0);
	assert_int_equal(st.group_sources + st.owner_sources + st.removed_sources, 0);
	eng_fini(&e);
}

/* RFC 3376 3.2's two examples, socket-level filters and the lookups. */
static void test_socket_merge(void **state)
{
	struct eng e;
	struct skiff_addr g = A4(239, 1, 2, 3), h = A4(239, 1, 2, 4);
	/* a..f, z = S4(1..6), S4(26) */
	struct skiff_addr ex1[4] = { S4(1), S4(2), S4(3), S4(4) }, ex2[4] = { S4(2), S4(3), S4(4), S4(5) },
			  in3[3] = { S4(4), S4(5), S4(26) };
	struct skiff_addr i1[3] = { S4(1), S4(2), S4(3) }, i2[3] = { S4(2), S4(3), S4(4) }, i3[2] = { S4(5), S4(6) };
	struct skiff_addr out[8], list[4];
	int mode;
	unsigned n;
	uint32_t gen;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 1);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_EXCLUDE, ex1, 4, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 2, &g, MCAST_MODE_EXCLUDE, ex2, 4, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_INCLUDE, in3, 3, T0), 0);
	/* EXCLUDE({a,b,c,d} ∩ {b,c,d,e} − {d,e,z}) = EXCLUDE({b,c}) */
	for (unsigned s = 1; s <= 30; s++) {
		struct skiff_addr a = S4(s);
		assert_int_equal(mcast_member_accepts(e.m, &g, &a), !(s == 2 || s == 3));
		assert_int_equal(mcast_member_owner_accepts(e.m, 3, &g, &a), s == 4 || s == 5 || s == 26);
		assert_int_equal(mcast_member_owner_accepts(e.m, 1, &g, &a), s > 4);
	}
	assert_int_equal(mcast_member_get_filter(e.m, 2, &g, &mode, list, 4, &n), 0);
	assert_int_equal(mode, MCAST_MODE_EXCLUDE);
	assert_int_equal(n, 4);
	assert_int_equal(list[0].v4, S4(2).v4);
	assert_int_equal(list[3].v4, S4(5).v4);
	assert_int_equal(mcast_member_get_filter(e.m, 9, &g, &mode, list, 4, &n), -EADDRNOTAVAIL);

	assert_int_equal(mcast_member_set_filter(e.m, 1, &h, MCAST_MODE_INCLUDE, i1, 3, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 2, &h, MCAST_MODE_INCLUDE, i2, 3, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 3, &h, MCAST_MODE_INCLUDE, i3, 2, T0), 0);
	for (unsigned s = 1; s <= 30; s++) { /* INCLUDE({a,b,c,d,e,f}) */
		struct skiff_addr a = S4(s);
		assert_int_equal(mcast_member_accepts(e.m, &h, &a), s <= 6);
	}
	assert_int_equal(eng_poll(&e, T0), 1);
	assert_string_equal(e.msg[0].str, "TO_EX 239.1.2.3 {198.18.0.2,198.18.0.3}; "
					  "ALLOW 239.1.2.4 {198.18.0.1,198.18.0.2,198.18.0.3,198.18.0.4,198.18.0.5,198.18.0.6}");
	assert_int_equal(mcast_member_groups(e.m, out, 8), 2);

	/* socket close drops everything of the owner; only real changes bump the generation */
	gen = mcast_member_generation(e.m);
	assert_int_equal(mcast_member_drop_owner(e.m, 3, T0 + SEC), 2);
	assert_true(mcast_member_generation(e.m) != gen);
	{
		struct skiff_addr d = S4(4), f = S4(6);
		assert_false(mcast_member_accepts(e.m, &g, &d)); /* now EXCLUDE({b,c,d}) */
		assert_false(mcast_member_accepts(e.m, &h, &f));
	}
	gen = mcast_member_generation(e.m);
	assert_int_equal(mcast_member_set_filter(e.m, 2, &h, MCAST_MODE_INCLUDE, i2, 3, T0 + SEC), 0); /* the same again */
	assert_int_equal(mcast_member_generation(e.m), gen);
	eng_fini(&e);
}

static void test_v2_compat(void **state)
{
	struct eng e;
	struct skiff_addr g = A4(239, 1, 2, 3), g2 = A4(239, 1, 2, 4);
	struct mcast_query q2 = q_of_igmp(igmp2_gq, sizeof(igmp2_gq)), q2g = q_of_igmp(igmp2_gsq, sizeof(igmp2_gsq));
	struct mcast_member_stats st;
	uint64_t t1 = T0 + 10 * SEC, t, last_q;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 21);
	assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
	assert_int_equal(eng_poll(&e, T0), 1); /* a v3 report; its retransmission stays pending */
	clear(&e);
	/* an IGMPv2 querier: v2 mode at once, pending v3 work cancelled (RFC 3376 7.2.1) */
	assert_int_equal(mcast_member_input_query(e.m, &q2, T0 + 1), 0);
	last_q = T0 + 1;
	assert_int_equal(mcast_member_version(e.m, T0 + 1), MCAST_V2);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.compat_changes, 1);
	assert_int_equal(st.pending, 1); /* only the answer to this query */
	assert_true(dl(&e) <= T0 + 1 + 10 * SEC);
	eng_poll(&e, dl(&e));
	assert_int_equal(e.n, 1);
	assert_int_equal(e.msg[0].len, 8);
	assert_memory_equal(e.msg[0].b, igmp2_report, 8); /* to the group */
	assert_string_equal(e.msg[0].str, "V2REPORT 239.1.2.3");
	/* we reported last: leaving sends a Leave to 224.0.0.2 (RFC 2236 6) */
	clear(&e);
	assert_int_equal(mcast_member_leave(e.m, 1, &g, t1), 0);
	assert_int_equal(eng_poll(&e, t1), 1);
	assert_memory_equal(e.msg[0].b, igmp2_leave, 8);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.groups, 0);

	/* join in v2 mode: a report now and [robustness] - 1 more within 10 s */
	clear(&e);
	t = t1 + SEC;
	assert_int_equal(mcast_member_join(e.m, 1, &g, t), 0);
	assert_int_equal(eng_poll(&e, t), 1);
	assert_string_equal(e.msg[0].str, "V2REPORT 239.1.2.3");
	assert_true(dl(&e) <= t + 10 * SEC);
	eng_poll(&e, dl(&e));
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[1].str, "V2REPORT 239.1.2.3");
	assert_true(dl(&e) > t + 200 * SEC); /* only the querier timer is left */

	/* another member answers first: ours is suppressed, and we are no longer the last reporter */
	clear(&e);
	t += 20 * SEC;
	assert_int_equal(mcast_member_input_query(e.m, &q2g, t), 0); /* group-specific, 1 s */
	last_q = t;
	assert_true(dl(&e) <= t + SEC);
	mcast_member_input_report(e.m, &g, t);
	assert_true(dl(&e) > t + 200 * SEC);
	run_until(&e, t + 5 * SEC);
	assert_int_equal(e.n, 0);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.reports_heard, 1);
	assert_int_equal(mcast_member_leave(e.m, 1, &g, t + 6 * SEC), 0);
	run_until(&e, t + 7 * SEC);
	assert_int_equal(e.n, 0); /* no Leave */

	/* a running timer is restarted only if the new Max Resp Time is shorter (RFC 2236 3) */
	assert_int_equal(mcast_member_join(e.m, 1, &g, t + 8 * SEC), 0);
	run_until(&e, t + 30 * SEC); /* the join's reports */
	clear(&e);
	t += 40 * SEC;
	assert_int_equal(mcast_member_input_query(e.m, &q2g, t), 0); /* ≤ 1 s */
	last_q = t;
	{
		uint64_t d = dl(&e);
		assert_int_equal(mcast_member_input_query(e.m, &q2, t), 0); /* 10 s: keeps the sooner one */
		last_q = t;
		assert_int_equal(dl(&e), d);
	}

	/* the IGMPv2 Querier Present timer runs out: back to v3, with nothing pending */
	run_until(&e, t + 60 * SEC);
	t = last_q + 2 * 125 * SEC + 10 * SEC; /* RV × QI + that query's Max Resp Time (RFC 3376 8.12) */
	assert_int_equal(mcast_member_version(e.m, t - 1), MCAST_V2);
	assert_int_equal(dl(&e), t);
	clear(&e);
	eng_poll(&e, t);
	assert_int_equal(e.n, 0);
	assert_int_equal(mcast_member_version(e.m, t), MCAST_V3);
	assert_int_equal(dl(&e), NEVER);
	assert_int_equal(mcast_member_join(e.m, 2, &g2, t + SEC), 0);
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "TO_EX 239.1.2.4 {}");
	eng_fini(&e);
}

static void test_v1_compat(void **state)
{
	struct eng e;
	struct skiff_addr g = A4(239, 1, 2, 3);
	struct mcast_query q1 = q_of_igmp(igmp1_q, sizeof(igmp1_q)), q2 = q_of_igmp(igmp2_gq, sizeof(igmp2_gq));
	struct mcast_query q3 = q_of_igmp(igmp3_gssq, sizeof(igmp3_gssq));
	uint64_t t = T0 + 10 * SEC;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 31);
	assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
	drain(&e);
	clear(&e);
	assert_int_equal(mcast_member_input_query(e.m, &q1, t), 0);
	assert_int_equal(mcast_member_version(e.m, t), MCAST_V1);
	assert_true(dl(&e) <= t + 10 * SEC);
	eng_poll(&e, dl(&e));
	assert_int_equal(e.n, 1);
	assert_memory_equal(e.msg[0].b, igmp1_report, 8);
	/* a v2 query does not leave v1 mode while the v1 timer runs */
	assert_int_equal(mcast_member_input_query(e.m, &q2, t + 20 * SEC), 0);
	assert_int_equal(mcast_member_version(e.m, t + 20 * SEC), MCAST_V1);
	/* a v3 query in v1 mode is a General Query with 10 s */
	run_until(&e, t + 40 * SEC);
	clear(&e);
	assert_int_equal(mcast_member_input_query(e.m, &q3, t + 50 * SEC), 0);
	assert_true(dl(&e) <= t + 60 * SEC);
	run_until(&e, t + 60 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "V1REPORT 239.1.2.3");
	/* v1 has no Leave */
	clear(&e);
	assert_int_equal(mcast_member_leave(e.m, 1, &g, t + 70 * SEC), 0);
	run_until(&e, t + 80 * SEC);
	assert_int_equal(e.n, 0);
	/* v1 timer out → v2 (its own timer still runs) → v3 */
	assert_int_equal(mcast_member_version(e.m, t + 260 * SEC - 1), MCAST_V1);
	assert_int_equal(mcast_member_version(e.m, t + 260 * SEC), MCAST_V2);
	assert_int_equal(mcast_member_version(e.m, t + 20 * SEC + 260 * SEC), MCAST_V3);
	eng_fini(&e);

	/* forced versions (Linux force_igmp_version) */
	{
		struct mcast_member_config cfg;
		struct mcast_query qv3 = q_of_igmp(igmp3_gq, sizeof(igmp3_gq));
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
		cfg.force_version = MCAST_V2;
		eng_init_cfg(&e, &cfg, 1);
		assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
		drain(&e);
		assert_int_equal(e.n, 2);
		assert_string_equal(e.msg[0].str, "V2REPORT 239.1.2.3");
		assert_int_equal(mcast_member_input_query(e.m, &qv3, T0 + 100 * SEC), 0);
		assert_int_equal(mcast_member_version(e.m, T0 + 100 * SEC), MCAST_V2);
		eng_fini(&e);
		cfg.force_version = MCAST_V3;
		eng_init_cfg(&e, &cfg, 1);
		assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
		drain(&e);
		clear(&e);
		assert_int_equal(mcast_member_input_query(e.m, &q1, T0 + 100 * SEC), 0); /* answered in v3 */
		assert_int_equal(mcast_member_version(e.m, T0 + 100 * SEC), MCAST_V3);
		drain(&e);
		assert_int_equal(e.n, 1);
		assert_string_equal(e.msg[0].str, "IS_EX 239.1.2.3 {}");
		eng_fini(&e);
		cfg.force_version = 4;
		assert_int_equal(mcast_member_create(&cfg, T0, &e.m), -EINVAL);
	}
}

static void test_mld_compat(void **state)
{
	struct eng e;
	struct skiff_addr g = A6("ff0e::1:3"), g2 = A6("ff0e::1:4");
	struct mcast_query q1 = q_of_mld(mld1_gq, sizeof(mld1_gq), ALL_NODES);
	struct mcast_query q2 = q_of_mld(mld2_gq, sizeof(mld2_gq), ALL_NODES);
	struct skiff_addr s2 = S6(2);
	uint64_t t = T0 + 10 * SEC;
	(void)state;

	eng_init(&e, SKIFF_AF_INET6, 41);
	assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
	assert_int_equal(eng_poll(&e, T0), 1);
	assert_int_equal(e.msg[0].type, MLD_V2_REPORT);
	assert_memory_equal(e.msg[0].b, mld2_to_ex, sizeof(mld2_to_ex)); /* checksummed from fe80::2 to ff02::16 */
	drain(&e);
	assert_int_equal(e.n, 2);
	clear(&e);
	assert_int_equal(mcast_member_set_filter(e.m, 2, &g2, MCAST_MODE_INCLUDE, &s2, 1, t), 0);
	assert_int_equal(eng_poll(&e, t), 1);
	assert_string_equal(e.msg[0].str, "ALLOW ff0e::1:4 {2001:2::2}");
	drain(&e);
	clear(&e);
	/* MLDv2 General Query */
	t += 10 * SEC;
	assert_int_equal(mcast_member_input_query(e.m, &q2, t), 0);
	run_until(&e, t + 20 * SEC);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.msg[0].str, "IS_EX ff0e::1:3 {}; IS_IN ff0e::1:4 {2001:2::2}");

	/* an MLDv1 querier: MLDv1 reports to the group, Done to ff02::2 */
	clear(&e);
	t += 30 * SEC;
	assert_int_equal(mcast_member_input_query(e.m, &q1, t), 0);
	assert_int_equal(mcast_member_version(e.m, t), MCAST_V2);
	run_until(&e, t + 10 * SEC);
	assert_int_equal(e.n, 2);
	for (unsigned i = 0; i < 2; i++) {
		if (e.msg[i].dst.v6[15] == 3) {
			assert_memory_equal(e.msg[i].b, mld1_report, 24);
		} else {
			assert_string_equal(e.msg[i].str, "MLD1REPORT ff0e::1:4");
		}
	}
	clear(&e);
	assert_int_equal(mcast_member_leave(e.m, 1, &g, t + 20 * SEC), 0);
	assert_int_equal(eng_poll(&e, t + 20 * SEC), 1);
	assert_memory_equal(e.msg[0].b, mld1_done, 24);
	/* MLDv1 Querier Present runs out (RV × QI + QRI = 260 s): MLDv2 again */
	assert_int_equal(mcast_member_version(e.m, t + 260 * SEC - 1), MCAST_V2);
	assert_int_equal(mcast_member_version(e.m, t + 260 * SEC), MCAST_V3);
	clear(&e);
	assert_int_equal(mcast_member_join(e.m, 1, &g, t + 300 * SEC), 0);
	assert_int_equal(eng_poll(&e, t + 300 * SEC), 1);
	assert_memory_equal(e.msg[0].b, mld2_to_ex, sizeof(mld2_to_ex));
	eng_fini(&e);

	/* MLD has no v1 rung */
	{
		struct mcast_member_config cfg;
		struct mcast_member *m;
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET6);
		cfg.rand = eng_rand;
		cfg.rand_ctx = &rng_x;
		cfg.force_version = MCAST_V1;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), -EINVAL);
	}
}

static void test_leave_last_socket(void **state)
{
	struct eng e;
	struct skiff_addr g = A4(239, 1, 2, 3), s = S4(7);
	struct mcast_member_stats st;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 51);
	assert_int_equal(mcast_member_join(e.m, 1, &g, T0), 0);
	assert_int_equal(mcast_member_join(e.m, 2, &g, T0), 0);
	assert_int_equal(mcast_member_join(e.m, 2, &g, T0), -EADDRINUSE);
	drain(&e);
	assert_int_equal(e.n, 2);
	clear(&e);
	assert_int_equal(mcast_member_leave(e.m, 1, &g, T0 + 10 * SEC), 0); /* state unchanged: nothing sent */
	assert_int_equal(mcast_member_leave(e.m, 1, &g, T0 + 10 * SEC), -EADDRNOTAVAIL);
	assert_int_equal(dl(&e), NEVER);
	assert_true(mcast_member_accepts(e.m, &g, &s));
	assert_int_equal(mcast_member_leave(e.m, 2, &g, T0 + 20 * SEC), 0);
	assert_false(mcast_member_accepts(e.m, &g, &s));
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "TO_IN 239.1.2.3 {}");
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.groups, 0);
	assert_int_equal(st.memberships, 0);
	eng_fini(&e);
}

static void test_never_reported(void **state)
{
	struct eng e;
	struct skiff_addr all = A4(224, 0, 0, 1), s = S4(1);
	struct skiff_addr an = ip6_addr_make(ALL_NODES), ifl = A6("ff01::1"), sn = A6("ff02::1:ff00:1");
	struct mcast_query q;
	(void)state;

	eng_init(&e, SKIFF_AF_INET, 1);
	assert_int_equal(mcast_member_join(e.m, 1, &all, T0), 0);
	assert_int_equal(dl(&e), NEVER); /* RFC 3376 5: 224.0.0.1 is never reported */
	assert_true(mcast_member_accepts(e.m, &all, &s));
	assert_int_equal(mcast_member_groups(e.m, NULL, 0), 1);
	q = mkq(SKIFF_AF_INET, MCAST_V3, any_of(SKIFF_AF_INET), 1000, NULL, 0);
	assert_int_equal(mcast_member_input_query(e.m, &q, T0 + SEC), 0);
	drain(&e);
	assert_int_equal(e.total, 0);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &s, MCAST_MODE_EXCLUDE, NULL, 0, T0), -EINVAL); /* not a group */
	eng_fini(&e);

	eng_init(&e, SKIFF_AF_INET6, 1);
	assert_int_equal(mcast_member_join(e.m, 1, &an, T0), 0);
	assert_int_equal(mcast_member_join(e.m, 1, &ifl, T0), 0); /* interface-local scope */
	assert_int_equal(dl(&e), NEVER); /* RFC 3810 6 */
	assert_int_equal(mcast_member_join(e.m, 1, &sn, T0), 0); /* solicited-node groups are reported */
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "TO_EX ff02::1:ff00:1 {}");
	assert_int_equal(mcast_member_join(e.m, 1, &all, T0), -EINVAL); /* wrong family */
	eng_fini(&e);
}

static void test_limits_and_errnos(void **state)
{
	struct eng e;
	struct mcast_member_config cfg;
	struct skiff_addr g = A4(239, 1, 2, 3), src[12];
	struct mcast_member_stats st;
	int mode;
	unsigned n;
	(void)state;

	for (unsigned i = 0; i < 12; i++)
		src[i] = S4(i + 1);
	eng_init(&e, SKIFF_AF_INET, 1);
	/* 20 groups per owner (igmp_max_memberships), the 21st is ENOBUFS */
	for (unsigned i = 0; i < 20; i++) {
		struct skiff_addr x = A4(239, 2, 0, i);
		assert_int_equal(mcast_member_join(e.m, 1, &x, T0), 0);
	}
	{
		struct skiff_addr x = A4(239, 2, 0, 20);
		assert_int_equal(mcast_member_join(e.m, 1, &x, T0), -ENOBUFS);
		assert_int_equal(mcast_member_join(e.m, 2, &x, T0), 0);
	}
	/* 10 sources per filter (igmp_max_msf) */
	assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_INCLUDE, src, 11, T0), -ENOBUFS);
	assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_INCLUDE, src, 10, T0), 0);
	/* duplicates count once */
	{
		struct skiff_addr dup[3] = { S4(1), S4(1), S4(2) };
		assert_int_equal(mcast_member_set_filter(e.m, 4, &g, MCAST_MODE_INCLUDE, dup, 3, T0), 0);
		assert_int_equal(mcast_member_get_filter(e.m, 4, &g, &mode, NULL, 0, &n), 0);
		assert_int_equal(n, 2);
	}
	assert_int_equal(mcast_member_set_filter(e.m, 3, &g, 7, src, 1, T0), -EINVAL);
	{
		struct skiff_addr v6 = S6(1);
		assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_INCLUDE, &v6, 1, T0), -EINVAL);
	}

	/* source operations (RFC 3678 / Linux IP_*_SOURCE_*) */
	{
		struct skiff_addr h = A4(239, 3, 3, 3), a = S4(1), b = S4(2);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_DROP, &a, T0), -EADDRNOTAVAIL);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_BLOCK, &a, T0), -EADDRNOTAVAIL);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_ADD, &a, T0), 0); /* joins INCLUDE{a} */
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_ADD, &a, T0), 0);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_ADD, &b, T0), 0);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_BLOCK, &a, T0), -EINVAL);
		assert_int_equal(mcast_member_get_filter(e.m, 5, &h, &mode, src, 12, &n), 0);
		assert_int_equal(mode, MCAST_MODE_INCLUDE);
		assert_int_equal(n, 2);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_DROP, &a, T0), 0);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_DROP, &a, T0), -EADDRNOTAVAIL);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_DROP, &b, T0), 0); /* the last: leaves */
		assert_int_equal(mcast_member_get_filter(e.m, 5, &h, &mode, src, 12, &n), -EADDRNOTAVAIL);
		assert_int_equal(mcast_member_join(e.m, 5, &h, T0), 0);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_BLOCK, &a, T0), 0);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_ADD, &b, T0), -EINVAL);
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_UNBLOCK, &b, T0), -EADDRNOTAVAIL);
		assert_false(mcast_member_owner_accepts(e.m, 5, &h, &a));
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_UNBLOCK, &a, T0), 0);
		assert_true(mcast_member_owner_accepts(e.m, 5, &h, &a));
		assert_int_equal(mcast_member_source(e.m, 5, &h, 9, &a, T0), -EINVAL);
		for (unsigned i = 0; i < 10; i++) {
			struct skiff_addr x = S4(100 + i);
			assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_BLOCK, &x, T0), 0);
		}
		assert_int_equal(mcast_member_source(e.m, 5, &h, MCAST_SRC_BLOCK, &a, T0), -ENOBUFS);
	}
	eng_fini(&e);

	/* the union of a group's INCLUDE lists is held to max_group_sources; then a
	 * last EXCLUDE owner leaving cannot overflow it */
	mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
	cfg.max_group_sources = 12;
	eng_init_cfg(&e, &cfg, 1);
	assert_int_equal(mcast_member_join(e.m, 9, &g, T0), 0);
	for (unsigned o = 0; o < 3; o++) {
		struct skiff_addr l[4];
		for (unsigned i = 0; i < 4; i++)
			l[i] = S4(10 * o + i + 1);
		assert_int_equal(mcast_member_set_filter(e.m, o, &g, MCAST_MODE_INCLUDE, l, 4, T0), 0);
	}
	{
		struct skiff_addr x = S4(200);
		assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_INCLUDE, &x, 1, T0), -ENOBUFS);
		assert_int_equal(mcast_member_set_filter(e.m, 3, &g, MCAST_MODE_EXCLUDE, &x, 1, T0), 0);
	}
	assert_int_equal(mcast_member_leave(e.m, 9, &g, T0), 0);
	assert_int_equal(mcast_member_leave(e.m, 3, &g, T0), 0);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.group_sources, 12);
	drain(&e);
	eng_fini(&e);

	/* a full group table: a join takes a slot that only retransmits, else ENOBUFS */
	mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
	cfg.max_groups = 2;
	eng_init_cfg(&e, &cfg, 1);
	{
		struct skiff_addr a = A4(239, 0, 0, 1), b = A4(239, 0, 0, 2), c = A4(239, 0, 0, 3);
		assert_int_equal(mcast_member_join(e.m, 1, &a, T0), 0);
		assert_int_equal(mcast_member_join(e.m, 1, &b, T0), 0);
		assert_int_equal(mcast_member_join(e.m, 1, &c, T0), -ENOBUFS);
		assert_int_equal(mcast_member_leave(e.m, 1, &a, T0), 0); /* a still retransmits TO_IN{} */
		assert_int_equal(mcast_member_join(e.m, 1, &c, T0), 0);
		mcast_member_get_stats(e.m, &st);
		assert_int_equal(st.evictions, 1);
		assert_int_equal(st.groups, 2);
	}
	eng_fini(&e);

	/* removed sources past the bound: the change becomes TO_IN with the whole state */
	mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
	cfg.max_group_sources = 10;
	cfg.max_sources = 10;
	eng_init_cfg(&e, &cfg, 1);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, src, 10, T0), 0);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, src + 10, 2, T0 + 1), 0); /* 10 removed */
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.removed_sources, 10);
	assert_int_equal(mcast_member_set_filter(e.m, 1, &g, MCAST_MODE_INCLUDE, src, 1, T0 + 2), 0); /* 11, 12: over */
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.escalations, 1);
	assert_int_equal(st.removed_sources, 0);
	drain(&e);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.msg[0].str, "TO_IN 239.1.2.3 {198.18.0.1}");
	assert_string_equal(e.msg[1].str, "TO_IN 239.1.2.3 {198.18.0.1}");
	eng_fini(&e);

	/* create refuses what it cannot honour */
	mcast_member_config_defaults(&cfg, SKIFF_AF_INET6);
	cfg.rand = eng_rand;
	cfg.rand_ctx = &rng_x;
	cfg.mtu = 1000; /* 64 sources × 16 bytes do not fit */
	{
		struct mcast_member *m;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), -EINVAL);
		cfg.mtu = 1280;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), 0);
		mcast_member_destroy(m);
		cfg.rand = NULL;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), -EINVAL);
		cfg.rand = eng_rand;
		cfg.max_owner_sources = 65;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), -EINVAL);
		cfg.max_owner_sources = 64;
		cfg.robustness = 0;
		assert_int_equal(mcast_member_create(&cfg, T0, &m), -EINVAL);
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
		cfg.rand = eng_rand;
		cfg.mtu = 576; /* IPv4's minimum reassembly size fits a 64-source record */
		assert_int_equal(mcast_member_create(&cfg, T0, &m), 0);
		mcast_member_destroy(m);
	}
}

/* Random socket calls against a model of the interface state (RFC 3376 3.2),
 * with an ideal single-host router fed every report: once the reports are out
 * the router agrees with the host (RFC 3376 5.1 merging never loses a change). */
struct model {
	bool member[5][RT_GROUPS];
	uint8_t mode[5][RT_GROUPS];
	uint8_t set[5][RT_GROUPS];
};

static void model_state(const struct model *md, unsigned g, uint8_t *mode, uint8_t *set)
{
	uint8_t ex = 0xff, in = 0;
	bool any_ex = false;
	for (unsigned o = 0; o < 5; o++) {
		if (!md->member[o][g])
			continue;
		if (md->mode[o][g] == MCAST_MODE_EXCLUDE) {
			any_ex = true;
			ex &= md->set[o][g];
		} else {
			in |= md->set[o][g];
		}
	}
	*mode = any_ex ? MCAST_MODE_EXCLUDE : MCAST_MODE_INCLUDE;
	*set = any_ex ? (uint8_t)(ex & ~in) : in;
}

static struct skiff_addr model_src(uint8_t family, unsigned i) { return family == SKIFF_AF_INET ? S4(i + 1) : S6(i + 1); }

static void model_check(struct eng *e, const struct model *md, bool quiet)
{
	for (unsigned g = 0; g < RT_GROUPS; g++) {
		uint8_t mode, set;
		struct skiff_addr ga = model_group(e->family, g);
		model_state(md, g, &mode, &set);
		for (unsigned s = 0; s < RT_SRCS; s++) {
			struct skiff_addr sa = model_src(e->family, s);
			bool want = mode == MCAST_MODE_INCLUDE ? (set >> s) & 1 : !((set >> s) & 1);
			assert_int_equal(mcast_member_accepts(e->m, &ga, &sa), want);
			for (unsigned o = 0; o < 5; o++) {
				bool ow = md->member[o][g] &&
					  (md->mode[o][g] == MCAST_MODE_INCLUDE ? (md->set[o][g] >> s) & 1 : !((md->set[o][g] >> s) & 1));
				assert_int_equal(mcast_member_owner_accepts(e->m, o, &ga, &sa), ow);
			}
		}
		if (quiet) {
			bool empty = mode == MCAST_MODE_INCLUDE && !set;
			bool rempty = e->rt->mode[g] == MCAST_MODE_INCLUDE && !e->rt->set[g];
			if (empty) {
				assert_true(rempty);
			} else {
				assert_int_equal(e->rt->mode[g], mode);
				assert_int_equal(e->rt->set[g], set);
			}
		}
	}
}

static unsigned model_enobufs, model_escalations, model_merges;

static void run_model(uint8_t family, const struct mcast_member_config *cfg, bool tight, uint64_t seed, int steps)
{
	struct eng e;
	struct router rt;
	struct model md;
	struct mcast_member_stats st;
	uint64_t now = T0;

	memset(&rt, 0, sizeof(rt));
	memset(&md, 0, sizeof(md));
	rt.family = family;
	for (unsigned g = 0; g < RT_GROUPS; g++)
		rt.mode[g] = MCAST_MODE_INCLUDE; /* no state: INCLUDE{} */
	eng_init_cfg(&e, cfg, seed);
	e.rt = &rt;
	rng_x = seed * 0x51ed2701ull + 3;
	for (int step = 0; step < steps; step++) {
		unsigned o = (unsigned)(rnd() % 5), g = (unsigned)(rnd() % RT_GROUPS), op = (unsigned)(rnd() % 10);
		struct skiff_addr ga = model_group(family, g), list[RT_SRCS];
		unsigned n = 0, s = (unsigned)(rnd() % RT_SRCS);
		struct skiff_addr sa = model_src(family, s);
		int rc = 0, want = 0;
		uint8_t mode = rnd() & 1 ? MCAST_MODE_INCLUDE : MCAST_MODE_EXCLUDE, set = (uint8_t)rnd();

		if (tight && rnd() % 4)
			set &= (uint8_t)rnd(); /* fewer sources: more calls fit, more churn */
		if (op < 4) { /* set_filter */
			for (unsigned i = 0; i < RT_SRCS; i++)
				if ((set >> i) & 1)
					list[n++] = model_src(family, i);
			rc = mcast_member_set_filter(e.m, o, &ga, mode, list, n, now);
			if (rc == 0) {
				md.member[o][g] = !(mode == MCAST_MODE_INCLUDE && !set);
				md.mode[o][g] = mode;
				md.set[o][g] = set;
			}
		} else if (op < 8) { /* source operations */
			int sop = (int)(op - 4) + MCAST_SRC_ADD;
			uint8_t smode = sop <= MCAST_SRC_DROP ? MCAST_MODE_INCLUDE : MCAST_MODE_EXCLUDE;
			bool add = sop == MCAST_SRC_ADD || sop == MCAST_SRC_BLOCK, has = md.member[o][g] && ((md.set[o][g] >> s) & 1);
			if (!md.member[o][g] && sop != MCAST_SRC_ADD)
				want = -EADDRNOTAVAIL;
			else if (md.member[o][g] && md.mode[o][g] != smode)
				want = -EINVAL;
			else if (!add && !has)
				want = -EADDRNOTAVAIL;
			rc = mcast_member_source(e.m, o, &ga, sop, &sa, now);
			if (!tight || want)
				assert_int_equal(rc, want);
			if (rc == 0) {
				if (!md.member[o][g]) {
					md.member[o][g] = true;
					md.mode[o][g] = MCAST_MODE_INCLUDE;
					md.set[o][g] = 0;
				}
				md.set[o][g] = add ? (uint8_t)(md.set[o][g] | 1u << s) : (uint8_t)(md.set[o][g] & ~(1u << s));
				if (md.mode[o][g] == MCAST_MODE_INCLUDE && !md.set[o][g])
					md.member[o][g] = false;
			}
		} else if (op == 8) {
			rc = mcast_member_leave(e.m, o, &ga, now);
			assert_int_equal(rc, md.member[o][g] ? 0 : -EADDRNOTAVAIL);
			md.member[o][g] = false;
		} else {
			unsigned k = 0;
			for (unsigned i = 0; i < RT_GROUPS; i++)
				k += md.member[o][i];
			assert_int_equal(mcast_member_drop_owner(e.m, o, now), k);
			memset(md.member[o], 0, sizeof(md.member[o]));
		}
		if (!tight && op < 4)
			assert_int_equal(rc, 0);
		assert_true(rc == 0 || rc == -ENOBUFS || rc == -EINVAL || rc == -EADDRNOTAVAIL);
		model_enobufs += rc == -ENOBUFS;
		if (rc == 0 && dl(&e) == now && e.last_at && e.last_at + SEC > now)
			model_merges++; /* a change while earlier reports were still being repeated */
		model_check(&e, &md, false);
		if (rnd() % (tight ? 10 : 3) == 0) { /* let everything out */
			drain(&e);
			model_check(&e, &md, true);
			mcast_member_get_stats(e.m, &st);
			assert_int_equal(st.removed_sources, 0);
			assert_int_equal(st.pending, 0);
			now = e.last_at > now ? e.last_at : now;
		} else { /* part of it: merges happen with retransmissions in flight */
			now += rnd() % (tight ? SEC / 20 : SEC / 2);
			run_until(&e, now);
		}
		now += 1;
	}
	drain(&e);
	model_check(&e, &md, true);
	for (unsigned o = 0; o < 5; o++)
		mcast_member_drop_owner(e.m, o, e.last_at + 1);
	drain(&e);
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.groups + st.memberships + st.owner_sources + st.group_sources + st.removed_sources, 0);
	model_escalations += (unsigned)st.escalations;
	for (unsigned g = 0; g < RT_GROUPS; g++)
		assert_true(rt.mode[g] == MCAST_MODE_INCLUDE && !rt.set[g]);
	eng_fini(&e);
}

static void test_model_and_router(void **state)
{
	struct mcast_member_config cfg;
	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
		run_model(SKIFF_AF_INET, &cfg, false, seed, 1000);
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET6);
		run_model(SKIFF_AF_INET6, &cfg, false, seed + 100, 1000);
		/* tight: tables and pools run out, removed sources escalate */
		mcast_member_config_defaults(&cfg, SKIFF_AF_INET);
		cfg.max_group_sources = 3;
		cfg.max_owner_sources = 3;
		cfg.max_sources = 4;
		cfg.max_memberships = 6;
		cfg.max_per_owner = 2;
		cfg.max_groups = RT_GROUPS; /* no evictions: they cut retransmissions short on purpose */
		run_model(SKIFF_AF_INET, &cfg, true, seed + 200, 4000);
	}
	/* the runs went where they should */
	assert_true(model_enobufs > 100 && model_escalations > 10 && model_merges > 1000);
}

static unsigned storm_msgs;
static void count_emit(void *ctx, const struct mcast_out *o)
{
	(void)ctx;
	(void)o;
	storm_msgs++;
}

/* 100k queries of every kind: memory stays put, pending work stays at one
 * General response plus a bounded number per group, every poll sends a bounded
 * number of messages. */
static void storm(uint8_t family)
{
	struct eng e;
	struct mcast_member_stats st0, st;
	struct skiff_addr grp[8], srcs[32];
	uint64_t now = T0;
	unsigned max_msgs = 0;

	eng_init(&e, family, 99);
	rng_x = 4242;
	for (unsigned i = 0; i < 8; i++) {
		struct skiff_addr l[4];
		grp[i] = model_group(family, 0);
		if (family == SKIFF_AF_INET)
			grp[i].v4 += i;
		else
			grp[i].v6[15] = (uint8_t)(0x10 + i);
		for (unsigned k = 0; k < 4; k++)
			l[k] = model_src(family, i * 2 + k);
		assert_int_equal(mcast_member_set_filter(e.m, i, &grp[i], i & 1 ? MCAST_MODE_EXCLUDE : MCAST_MODE_INCLUDE, l, 4, now), 0);
	}
	for (unsigned i = 0; i < 32; i++)
		srcs[i] = model_src(family, i);
	drain(&e);
	mcast_member_get_stats(e.m, &st0);
	for (int i = 0; i < 100000; i++) {
		struct mcast_query q;
		unsigned kind = (unsigned)(rnd() % 100), n = 1 + (unsigned)(rnd() % 16);
		uint32_t max_ms = (uint32_t)(rnd() % 12000);
		struct skiff_addr pick[16];
		now += 1000; /* 1 µs apart: a million queries a second */
		for (unsigned k = 0; k < n; k++)
			pick[k] = srcs[rnd() % 32];
		if (kind < 30)
			q = mkq(family, MCAST_V3, any_of(family), max_ms, NULL, 0);
		else if (kind < 60)
			q = mkq(family, MCAST_V3, grp[rnd() % 8], max_ms, NULL, 0);
		else if (kind < 99)
			q = mkq(family, MCAST_V3, rnd() % 8 ? grp[rnd() % 8] : model_group(family, 2), max_ms, pick, n);
		else if (i < 50000) /* the second half: an older querier now and then */
			q = mkq(family, MCAST_V3, any_of(family), max_ms, NULL, 0);
		else
			q = mkq(family, MCAST_V2, rnd() & 1 ? any_of(family) : grp[rnd() % 8], max_ms, NULL, 0);
		assert_int_equal(mcast_member_input_query(e.m, &q, now), 0);
		mcast_member_get_stats(e.m, &st);
		assert_true(st.pending <= 1 + 8 + 1); /* General + one per group (v3 response or v1/v2 timer) */
		assert_int_equal(st.groups, st0.groups);
		assert_int_equal(st.owner_sources, st0.owner_sources);
		assert_int_equal(st.group_sources, st0.group_sources);
		assert_int_equal(st.removed_sources, 0);
		if (i % 97 == 0) {
			storm_msgs = 0;
			mcast_member_poll(e.m, now, count_emit, NULL);
			max_msgs = storm_msgs > max_msgs ? storm_msgs : max_msgs;
			assert_true(storm_msgs <= 8); /* v3: one report holds every group; v1/v2: one per group */
		}
	}
	mcast_member_get_stats(e.m, &st);
	assert_int_equal(st.queries, 100000);
	assert_true(max_msgs >= 1);
	storm_msgs = 0;
	mcast_member_poll(e.m, now + 300 * SEC, count_emit, NULL);
	assert_true(storm_msgs <= 8);
	eng_fini(&e);
}

static void test_query_storm(void **state)
{
	(void)state;
	storm(SKIFF_AF_INET);
	storm(SKIFF_AF_INET6);
}

/* ---- random robustness: 100k inputs through the parsers and into engines ---- */

static size_t gen_igmp(uint8_t *b, size_t cap)
{
	static const uint8_t types[] = { IGMP_QUERY, IGMP_V1_REPORT, IGMP_V2_REPORT, IGMP_V2_LEAVE, IGMP_V3_REPORT };
	size_t len = rnd() % 4 == 0 ? rnd() % 64 : 8 + rnd() % 120;
	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
	if (len >= 8) {
		b[0] = rnd() % 8 ? types[rnd() % sizeof(types)] : (uint8_t)rnd();
		if (rnd() & 1)
			st32(b + 4, 0xef000000u | (uint32_t)(rnd() % 4));
		if (len >= 12 && rnd() % 4)
			st16(b + (b[0] == IGMP_V3_REPORT ? 6 : 10), (uint16_t)(rnd() % 8));
		if (b[0] == IGMP_V3_REPORT)
			for (size_t off = 8; off + 8 <= len; off += 8 + 4 * (rnd() % 4)) {
				b[off + 1] = (uint8_t)(rnd() % 3);
				st16(b + off + 2, (uint16_t)(rnd() % 4));
			}
		if (rnd() % 8)
			igmp_fix(b, len);
	}
	return len;
}

static size_t gen_mld(uint8_t *b, size_t cap, struct mld_ip *ip)
{
	static const uint8_t types[] = { MLD_QUERY, MLD_V1_REPORT, MLD_V1_DONE, MLD_V2_REPORT };
	static uint8_t src[16], dst[16];
	size_t len = rnd() % 4 == 0 ? rnd() % 64 : 8 + rnd() % 200;
	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
	memcpy(src, rnd() % 8 ? LL1 : (rnd() & 1 ? ZERO16 : MLDV2_ROUTERS), 16);
	memcpy(dst, rnd() & 1 ? ALL_NODES : MLDV2_ROUTERS, 16);
	ip->src = src;
	ip->dst = dst;
	ip->hop_limit = rnd() % 8 ? 1 : (uint8_t)rnd();
	ip->router_alert = rnd() % 8 != 0;
	if (len >= 8) {
		b[0] = rnd() % 8 ? types[rnd() % sizeof(types)] : (uint8_t)rnd();
		if (len >= 24 && rnd() & 1) {
			memset(b + 8, 0, 16);
			b[8] = 0xff;
			b[9] = 0x02;
			b[23] = (uint8_t)(0x20 + rnd() % 4);
		}
		if (len >= 28 && rnd() % 4)
			st16(b + (b[0] == MLD_V2_REPORT ? 6 : 26), (uint16_t)(rnd() % 6));
		if (b[0] == MLD_V2_REPORT)
			for (size_t off = 8; off + 20 <= len; off += 20 + 16 * (rnd() % 3)) {
				b[off + 1] = (uint8_t)(rnd() % 2);
				st16(b + off + 2, (uint16_t)(rnd() % 3));
			}
		if (rnd() % 8)
			mld_set_csum(b, len, src, dst);
	}
	return len;
}

static void test_random_robustness(void **state)
{
	static uint8_t gen[300];
	struct eng e4, e6;
	unsigned ok[2] = { 0, 0 }, kinds[5] = { 0 }, hist[MCAST_ERR_MAX] = { 0 };
	uint64_t now = T0;
	(void)state;

	rng_x = 0xfeedfacecafebeefull;
	eng_init(&e4, SKIFF_AF_INET, 5);
	eng_init(&e6, SKIFF_AF_INET6, 6);
	for (unsigned i = 0; i < 4; i++) { /* the groups the generators name */
		struct skiff_addr g4 = A4(239, 0, 0, i), g6 = A6("ff02::20");
		struct skiff_addr two[2] = { S4(1), S4(2) };
		g6.v6[15] = (uint8_t)(0x20 + i);
		assert_int_equal(mcast_member_set_filter(e4.m, i, &g4, i & 1 ? MCAST_MODE_INCLUDE : MCAST_MODE_EXCLUDE, two, 2, now), 0);
		assert_int_equal(mcast_member_join(e6.m, 1, &g6, now), 0);
	}
	for (int t = 0; t < 100000; t++) {
		bool v6 = t & 1;
		struct mld_ip ip;
		struct mcast_msg m;
		size_t len = v6 ? gen_mld(gen, sizeof(gen), &ip) : gen_igmp(gen, sizeof(gen));
		uint8_t *c = malloc(len ? len : 1);
		int rc;
		assert_non_null(c);
		memcpy(c, gen, len);
		rc = v6 ? mld_parse(c, len, &ip, &m) : igmp_parse(c, len, &m);
		now += 1000 + rnd() % MS;
		if (rc) {
			assert_int_equal(rc, -EBADMSG);
			assert_true(m.err > MCAST_ERR_NONE && m.err < MCAST_ERR_MAX);
			hist[m.err]++;
		} else {
			ok[v6]++;
			kinds[m.kind]++;
			if (m.kind == MCAST_MSG_REPORT_V3) {
				struct view v = m.recs;
				struct mcast_rec r;
				unsigned nrec = 0;
				while ((rc = mcast_rec_next(&v, m.alen, &r)) == 0) {
					for (unsigned i = 0; i < r.n_src; i++)
						(void)mcast_src_addr(r.src, m.alen, i);
					nrec++;
				}
				assert_int_equal(rc, -ENOENT);
				assert_int_equal(nrec, m.n_rec);
			} else if (m.kind == MCAST_MSG_QUERY) {
				struct eng *e = v6 ? &e6 : &e4;
				for (unsigned i = 0; i < m.q.n_src; i++)
					(void)mcast_src_addr(m.q.src, m.alen, i);
				assert_int_equal(mcast_member_input_query(e->m, &m.q, now), 0);
			} else {
				mcast_member_input_report(v6 ? e6.m : e4.m, &m.group, now);
			}
		}
		free(c);
		if (t % 50 == 0) {
			e4.n = e6.n = 0;
			run_until(&e4, now);
			run_until(&e6, now);
		}
	}
	/* the structured inputs reach every outcome */
	assert_true(ok[0] > 1000 && ok[1] > 1000);
	assert_true(kinds[MCAST_MSG_QUERY] && kinds[MCAST_MSG_REPORT] && kinds[MCAST_MSG_LEAVE] &&
		    kinds[MCAST_MSG_REPORT_V3]);
	for (int e = MCAST_ERR_NONE + 1; e < MCAST_ERR_MAX; e++)
		assert_true(hist[e] > 0);
	eng_fini(&e4);
	eng_fini(&e6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_igmp_vectors),
		cmocka_unit_test(test_mld_vectors),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_time_codes),
		cmocka_unit_test(test_join_v3_reports),
		cmocka_unit_test(test_general_query),
		cmocka_unit_test(test_group_specific_query),
		cmocka_unit_test(test_source_specific_merge),
		cmocka_unit_test(test_state_change_merge),
		cmocka_unit_test(test_socket_merge),
		cmocka_unit_test(test_v2_compat),
		cmocka_unit_test(test_v1_compat),
		cmocka_unit_test(test_mld_compat),
		cmocka_unit_test(test_leave_last_socket),
		cmocka_unit_test(test_never_reported),
		cmocka_unit_test(test_limits_and_errnos),
		cmocka_unit_test(test_model_and_router),
		cmocka_unit_test(test_query_storm),
		cmocka_unit_test(test_random_robustness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
