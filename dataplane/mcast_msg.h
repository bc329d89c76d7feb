/* mcast_msg.h — IGMP and MLD messages on the wire: parse with validity checks,
 * build, and the floating-point time codes.
 *
 *   IGMP (IP protocol 2): RFC 3376 4 (v3 query and report), RFC 2236 2 (v2
 *   query, report, leave), RFC 1112 App. I (v1), version of a query by its
 *   length and code (RFC 3376 7.1).
 *   MLD (ICMPv6 types 130-132, 143): RFC 3810 5 (v2 query and report), RFC 2710
 *   3 (v1 query, report, done), version of a query by its length (RFC 3810 8.1).
 *
 * Receive: igmp_parse(msg, len) / mld_parse(msg, len, ip) take the upper-layer
 * message (the IP payload after the header and options, or after the IPv6
 * extension headers) and fill a struct mcast_msg, or return -EBADMSG with
 * m->err naming the first check that failed (enum mcast_msg_err, in the order
 * the checks run; the stack maps them to drop reasons when this is wired):
 *
 *   IGMP  length >= 8 → checksum over the whole message (RFC 3376 4.1.2; extra
 *         bytes after a message count in the checksum and are otherwise ignored,
 *         4.1.10, RFC 2236 2.5) → known type → per type: a query of 8 bytes is v1
 *         (code 0; its Max Resp Time is 10 s, RFC 3376 7.2.1) or v2, 9-11 bytes
 *         is ignored (7.1), >= 12 is v3 with its sources inside the message
 *         (4.1.8); a v3 report's records all inside it (4.2) → group: a query's
 *         is 0 (General) or multicast, a General Query carries no sources
 *         (4.1.9); reports and leaves name a multicast group.
 *         The TTL 1 and Router Alert IGMP is sent with (RFC 3376 4) are not
 *         required of what is received: like Linux's igmp_rcv, only length and
 *         checksum are checked; the IP layer may drop TTL != 1 if it wants.
 *   MLD   length >= 8 → ICMPv6 checksum with the pseudo-header (RFC 4443 2.3)
 *         → known type → hop limit 1, Router Alert in a Hop-by-Hop header (the
 *         caller passes ip6_ext_info.router_alert), source link-local; a report
 *         or done may come from :: (RFC 3810 5.1.14 for queries, 5.2.13 for
 *         reports, RFC 2710 3) → per type: query 24 bytes is MLDv1, 25-27 ignored,
 *         >= 28 MLDv2 with its sources inside (RFC 3810 8.1, 5.1.10); v1 report
 *         and done 24 bytes or more; a v2 report's records inside (5.2) →
 *         group as for IGMP (:: for a General Query, 5.1.5).
 *
 * A parsed query is protocol-neutral (struct mcast_query: version on one scale,
 * Max Resp Time in ms, QRV, QQI in s, sources as wire bytes inside the message)
 * so the membership engine (mcast_member.h) handles IGMP and MLD alike.
 * Version scale: MCAST_V1 = IGMPv1; MCAST_V2 = IGMPv2 and MLDv1 (RFC 2710 is
 * IGMPv2's rules for IPv6); MCAST_V3 = IGMPv3 and MLDv2 (RFC 3810 1).
 *
 * Build: igmp_build_query / igmp_build_v12 write whole IGMP messages with their
 * checksum; mld_build_query / mld_build_v1 write MLD messages with checksum 0,
 * and mld_set_csum() fills it once the IPv6 source is chosen (it is in the
 * pseudo-header). Version 3 / MLDv2 reports go through a record builder
 * (struct mcast_rb): begin a record, add sources, end it; finish writes the
 * record count (and the IGMP checksum).
 *
 * Everything reads through bounds checks on (msg, len) and writes within
 * (buf, cap); no allocation, no globals.
 */
#ifndef SKIFF_MCAST_MSG_H
#define SKIFF_MCAST_MSG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "view.h"

#define IPPROTO_IGMP_ 2

/* IGMP types (RFC 3376 4, RFC 2236 2.1, RFC 1112 App. I). */
#define IGMP_QUERY 0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE 0x17
#define IGMP_V3_REPORT 0x22
#define IGMP_MIN_LEN 8            /* v1/v2 messages, v3 report header */
#define IGMP_V3_QUERY_MIN 12      /* v3 query without sources (RFC 3376 4.1) */
#define IGMP_V3_REC_HDR 8         /* group record before its sources (4.2.4) */

/* MLD types (RFC 2710 3, RFC 3810 5). */
#define MLD_QUERY 130
#define MLD_V1_REPORT 131
#define MLD_V1_DONE 132
#define MLD_V2_REPORT 143
#define MLD_V1_LEN 24             /* every MLDv1 message (RFC 2710 3) */
#define MLD_V2_QUERY_MIN 28       /* MLDv2 query without sources (RFC 3810 5.1) */
#define MLD_V2_REPORT_HDR 8       /* report header before the records (5.2) */
#define MLD_V2_REC_HDR 20         /* address record before its sources (5.2.4) */

/* Well-known groups, host order (RFC 1112, RFC 2236 9, RFC 3376 4.2.14). */
#define IGMP_ALL_SYSTEMS 0xe0000001u  /* 224.0.0.1: never reported (RFC 3376 5) */
#define IGMP_ALL_ROUTERS 0xe0000002u  /* 224.0.0.2: v2 Leave goes here */
#define IGMP_V3_ROUTERS 0xe0000016u   /* 224.0.0.22: v3 reports go here */
/* ff02::16, all MLDv2-capable routers: MLDv2 reports go here (RFC 3810 5.2.14). */
#define IP6_ADDR_MLDV2_ROUTERS { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x16 }

/* Protocol-neutral versions (see the top of the file). */
enum { MCAST_V1 = 1, MCAST_V2 = 2, MCAST_V3 = 3 };

/* Group record types (RFC 3376 4.2.12, RFC 3810 5.2.12). */
enum {
	MCAST_IS_IN = 1, /* MODE_IS_INCLUDE: current state */
	MCAST_IS_EX = 2, /* MODE_IS_EXCLUDE */
	MCAST_TO_IN = 3, /* CHANGE_TO_INCLUDE_MODE: filter-mode change */
	MCAST_TO_EX = 4, /* CHANGE_TO_EXCLUDE_MODE */
	MCAST_ALLOW = 5, /* ALLOW_NEW_SOURCES: source-list change */
	MCAST_BLOCK = 6, /* BLOCK_OLD_SOURCES */
};

/* What a message is, whatever the protocol. */
enum {
	MCAST_MSG_QUERY = 1,   /* q is filled */
	MCAST_MSG_REPORT,      /* v1/v2 report or MLDv1 report: group */
	MCAST_MSG_LEAVE,       /* IGMPv2 Leave or MLDv1 Done: group */
	MCAST_MSG_REPORT_V3,   /* IGMPv3 / MLDv2 report: n_rec records in recs */
};

/* Why a message was refused, in the order the checks run. */
#define MCAST_MSG_ERRS(E) \
	E(NONE,     "no error") \
	E(SHORT,    "shorter than 8 bytes, the smallest IGMP or MLD message") \
	E(CSUM,     "checksum wrong (RFC 3376 4.1.2, RFC 4443 2.3)") \
	E(TYPE,     "type is no IGMP/MLD message a host handles") \
	E(HOPLIMIT, "mld: hop limit is not 1 (RFC 3810 5.1.14, 5.2.13)") \
	E(NO_RA,    "mld: no Router Alert in a Hop-by-Hop header (RFC 3810 5.1.14, 5.2.13)") \
	E(SRC,      "mld: source not link-local (a report or done may also come from ::) (RFC 3810 5.1.14, 5.2.13)") \
	E(LEN,      "length no version has (RFC 3376 7.1, RFC 3810 8.1), or sources / records past the end") \
	E(GROUP,    "group not multicast, or a General Query with sources (RFC 3376 4.1.9, RFC 3810 5.1.10)")

enum mcast_msg_err {
#define MCAST_E_ENUM(n, s) MCAST_ERR_##n,
	MCAST_MSG_ERRS(MCAST_E_ENUM)
#undef MCAST_E_ENUM
	MCAST_ERR_MAX
};

const char *mcast_msg_err_name(enum mcast_msg_err e);

/* A query, IGMP or MLD. */
struct mcast_query {
	uint8_t version;          /* MCAST_V1/V2/V3 */
	uint8_t alen;             /* address length: 4 (IGMP) or 16 (MLD) */
	bool s_flag;              /* Suppress Router-Side Processing (v3: hosts ignore it, RFC 3376 4.1.5) */
	uint8_t qrv;              /* Querier's Robustness Variable, 0 = none (v3, 4.1.6) */
	uint16_t code;            /* Max Resp Code as on the wire */
	uint32_t max_resp_ms;     /* decoded Max Resp Time; IGMPv1: 10000 (RFC 3376 7.2.1) */
	uint32_t qqi_s;           /* decoded QQIC in seconds, 0 = none (4.1.7, RFC 3810 5.1.9) */
	struct skiff_addr group;  /* unspecified: a General Query */
	uint16_t n_src;
	const uint8_t *src;       /* n_src addresses of alen wire bytes each, inside the message */
};

struct mcast_msg {
	uint8_t type;             /* wire type */
	uint8_t kind;             /* MCAST_MSG_* */
	uint8_t version;          /* MCAST_V1/V2/V3 */
	uint8_t alen;             /* 4 or 16 */
	struct mcast_query q;     /* kind QUERY */
	struct skiff_addr group;  /* kind REPORT / LEAVE */
	uint16_t n_rec;           /* kind REPORT_V3 */
	struct view recs;         /* exactly its records, for mcast_rec_next(); all checked to fit */
	enum mcast_msg_err err;   /* set when parse returns -EBADMSG */
};

/* One group record of a v3 / MLDv2 report (RFC 3376 4.2.4, RFC 3810 5.2.4). */
struct mcast_rec {
	uint8_t type;             /* MCAST_IS_IN..MCAST_BLOCK; other values are ignored by receivers (4.2.12) */
	uint8_t aux_words;        /* Aux Data Len in 32-bit words (skipped) */
	uint16_t n_src;
	struct skiff_addr group;
	const uint8_t *src;       /* n_src addresses of alen wire bytes each */
};

/* The IPv6 facts MLD validity depends on. */
struct mld_ip {
	const uint8_t *src;       /* 16 wire bytes */
	const uint8_t *dst;
	uint8_t hop_limit;
	bool router_alert;        /* ip6_ext_info.router_alert */
};

/* Parse one IGMP message (the IP payload, exactly its length). 0 or -EBADMSG. */
int igmp_parse(const uint8_t *msg, size_t len, struct mcast_msg *m);
/* Parse one MLD message (the ICMPv6 message, exactly its length). 0 or -EBADMSG. */
int mld_parse(const uint8_t *msg, size_t len, const struct mld_ip *ip, struct mcast_msg *m);
/* The next record of a parsed report: 0 and *r, or -ENOENT at the end (or
 * -EBADMSG if recs was not made by a successful parse and runs short). */
int mcast_rec_next(struct view *recs, uint8_t alen, struct mcast_rec *r);
/* Source i of a query or record as an address (i < n_src). */
struct skiff_addr mcast_src_addr(const uint8_t *src, uint8_t alen, unsigned i);

/* ---- time codes ---- */
/* 8-bit code: < 128 is the value, else 1|exp(3)|mant(4) = (mant | 0x10) << (exp + 3).
 * Max Resp Code in 1/10 s (RFC 3376 4.1.1), QQIC in s (4.1.7, RFC 3810 5.1.9). */
uint32_t mcast_code8_decode(uint8_t code);
/* The code of the largest value <= v (31744 and up: 0xff). */
uint8_t mcast_code8_encode(uint32_t v);
/* MLDv2 16-bit Maximum Response Code in ms: < 32768 is the value, else
 * 1|exp(3)|mant(12) = (mant | 0x1000) << (exp + 3) (RFC 3810 5.1.3). */
uint32_t mld_code16_decode(uint16_t code);
/* The code of the largest value <= v (8387584 and up: 0xffff). */
uint16_t mld_code16_encode(uint32_t v);

/* ---- build ---- */
/* A query as q describes it (version, group, max_resp_ms, s_flag, qrv, qqi_s,
 * n_src sources at src): IGMPv1 8 bytes code 0; v2 8 bytes, code max_resp_ms/100
 * (at most 255); v3 12 + 4n, codes by mcast_code8_encode. Returns the length or
 * -ENOSPC / -EINVAL (MLD version 1, or a group of the wrong family). */
int igmp_build_query(uint8_t *buf, size_t cap, const struct mcast_query *q);
/* MLDv1 (24 bytes, Maximum Response Delay in ms up to 65535) or MLDv2 query
 * (28 + 16n), checksum 0. */
int mld_build_query(uint8_t *buf, size_t cap, const struct mcast_query *q);
/* IGMPv1/v2 report or v2 leave for group (host order): 8 bytes with checksum. */
int igmp_build_v12(uint8_t *buf, size_t cap, uint8_t type, uint32_t group);
/* MLDv1 report or done for group (16 wire bytes): 24 bytes, checksum 0. */
int mld_build_v1(uint8_t *buf, size_t cap, uint8_t type, const uint8_t *group);
/* Write the ICMPv6 checksum of an MLD message once its IPv6 addresses are known. */
void mld_set_csum(uint8_t *msg, size_t len, const uint8_t *src, const uint8_t *dst);

/* Report builder (IGMPv3 or MLDv2). Addresses are alen wire bytes. */
struct mcast_rb {
	uint8_t *buf;
	size_t cap, len;
	size_t rec_off;           /* the open record's header */
	uint16_t n_rec, rec_src;
	uint8_t alen;
	bool open;
};
/* family SKIFF_AF_INET or SKIFF_AF_INET6; cap must hold at least the 8-byte header. */
void mcast_rb_init(struct mcast_rb *b, uint8_t family, uint8_t *buf, size_t cap);
/* Room for one more record header with n sources? */
bool mcast_rb_fits(const struct mcast_rb *b, unsigned n);
/* Open a record; -ENOSPC (nothing written) when its header does not fit. */
int mcast_rb_begin(struct mcast_rb *b, uint8_t type, const uint8_t *group);
/* Add a source to the open record; -ENOSPC when it does not fit. */
int mcast_rb_src(struct mcast_rb *b, const uint8_t *src);
/* Close the open record (writes its source count). */
void mcast_rb_end(struct mcast_rb *b);
/* Take back the open record as if it was never begun. */
void mcast_rb_cancel(struct mcast_rb *b);
/* Write the header (type, record count, IGMP checksum); returns the length. */
size_t mcast_rb_finish(struct mcast_rb *b);

#endif
