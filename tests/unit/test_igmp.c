/* test_igmp.c — IPv4 multicast wired into the stack (dataplane/igmp.c,
 * udp_mcast.c) and the socket options (socketapi/sock_mcast.c).
 *
 * Part 1, one stack on the harness (fake clock, frames as bytes): a join sends
 * an IGMPv3 State-Change Report (TTL 1, Router Alert, 224.0.0.22, its MAC) and
 * its retransmission; a General Query is answered; an IGMPv2 querier turns
 * reports into v2 reports and leaves into v2 Leaves; close leaves; datagrams to
 * a group reach every socket on the port as Linux gives them (memberships,
 * source filters, IP_MULTICAST_ALL); IP_MULTICAST_LOOP; bad IGMP is dropped by
 * name; 100k queries leave bounded state and output, and traffic still flows.
 * The driver filter sync (sock_mcast_dev_sync) against a recording device.
 * Part 2, the native API on the loop world: errnos as Linux 6.x gives them
 * (probed with a kernel socket), getsockopt, two sockets of stack B receiving
 * one send of stack A (and A's own member through the loop).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/igmp.h"
#include "dataplane/mcast_msg.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/udp_mcast.h"
#include "dataplane/wire_eth.h"
#include "tests/lib/harness.h"
#include "tests/lib/loop_world.h"
#include "socketapi/sock_mcast.h"

#define GRP 0xef010203u   /* 239.1.2.3 */
#define GRP2 0xef010204u  /* 239.1.2.4 */
#define SEC 1000000000ull

/* ---- part 1: the dataplane on the harness ---- */

struct seen {
	uint8_t frame[2048];
	size_t len;
	uint32_t ip_src, ip_dst;
	uint8_t ttl;
	bool ra;
	struct mcast_msg m;
};

/* The next transmitted frame as IGMP (false: none, or not IGMP). */
static bool pop_igmp(struct harness *h, struct seen *s)
{
	struct skiff_pkt *p;
	const uint8_t *ip;
	unsigned ihl;

	while ((p = h_tx_pop(h))) {
		s->len = p->len < sizeof(s->frame) ? p->len : sizeof(s->frame);
		memcpy(s->frame, skiff_pkt_data(p), s->len);
		skiff_pkt_free(p);
		ip = s->frame + ETH_HDR_LEN;
		if (ld16(s->frame + 12) != ETH_TYPE_IP4 || ip[9] != IPPROTO_IGMP_)
			continue; /* ARP and other frames are not what we look at */
		ihl = (ip[0] & 0xf) * 4u;
		assert_int_equal(csum_buf(ip, ihl), 0);
		s->ip_src = ld32(ip + 12);
		s->ip_dst = ld32(ip + 16);
		s->ttl = ip[8];
		s->ra = ihl == 24 && ip[20] == 148 && ip[21] == 4 && ip[22] == 0 && ip[23] == 0;
		assert_int_equal(igmp_parse(ip + ihl, ld16(ip + 2) - ihl, &s->m), 0);
		/* RFC 1112 6.4: the group's MAC */
		assert_int_equal(s->frame[0], 0x01);
		assert_int_equal(s->frame[1], 0x00);
		assert_int_equal(s->frame[2], 0x5e);
		assert_int_equal(s->frame[3], (s->ip_dst >> 16) & 0x7f);
		assert_int_equal(s->frame[4], (s->ip_dst >> 8) & 0xff);
		assert_int_equal(s->frame[5], s->ip_dst & 0xff);
		return true;
	}
	return false;
}

/* Advance in steps of step_ns up to total_ns, counting IGMP frames sent. */
static unsigned run_count(struct harness *h, uint64_t total_ns, uint64_t step_ns, struct seen *last)
{
	unsigned n = 0;
	struct seen s;
	for (uint64_t t = 0; t < total_ns; t += step_ns) {
		h_advance(h, step_ns);
		while (pop_igmp(h, &s)) {
			n++;
			if (last)
				*last = s;
		}
	}
	return n;
}

/* The first record of the report in s (parsed again from s's own bytes: a
 * copied struct seen's view would point into the frame it was copied from). */
static void first_record(const struct seen *s, struct mcast_rec *r)
{
	const uint8_t *ip = s->frame + ETH_HDR_LEN;
	unsigned ihl = (ip[0] & 0xf) * 4u;
	struct mcast_msg m;
	assert_int_equal(igmp_parse(ip + ihl, ld16(ip + 2) - ihl, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT_V3);
	assert_int_equal(mcast_rec_next(&m.recs, 4, r), 0);
}

static void inject_igmp(struct harness *h, uint32_t src, uint32_t dst, const uint8_t *msg, size_t len)
{
	uint8_t f[1600];
	uint8_t mac[6] = { 0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f), (uint8_t)(dst >> 8), (uint8_t)dst };
	memcpy(f + ETH_HDR_LEN + IP4_HDR_LEN, msg, len);
	fb_ip4(f, src, dst, IPPROTO_IGMP_, 7, 0, len);
	fb_eth(f, mac, h_peer_mac, ETH_TYPE_IP4);
	h_inject(h, f, ETH_HDR_LEN + IP4_HDR_LEN + len);
}

static void inject_query(struct harness *h, uint8_t version, uint32_t group, uint32_t max_resp_ms)
{
	struct mcast_query q;
	uint8_t msg[64];
	int n;
	memset(&q, 0, sizeof(q));
	q.version = version;
	q.alen = 4;
	q.max_resp_ms = max_resp_ms;
	q.group = group ? skiff_addr_v4(group) : skiff_addr_v4(0);
	if (!group)
		q.group.family = SKIFF_AF_INET;
	n = igmp_build_query(msg, sizeof(msg), &q);
	assert_true(n > 0);
	inject_igmp(h, H_PEER_IP, group ? group : IGMP_ALL_SYSTEMS, msg, (size_t)n);
}

static void inject_udp_mc(struct harness *h, uint32_t src, uint32_t group, uint16_t dport, const char *payload)
{
	uint8_t f[1600];
	uint8_t mac[6] = { 0x01, 0x00, 0x5e, (uint8_t)((group >> 16) & 0x7f), (uint8_t)(group >> 8), (uint8_t)group };
	size_t n = fb_udp4(f, src, group, 4000, dport, payload, strlen(payload));
	memcpy(f, mac, 6);
	h_inject(h, f, n);
}

static long recv_str(struct harness *h, struct skiff_udp_sock *sk, char *buf, size_t cap, uint32_t *from)
{
	struct iovec iov = { buf, cap - 1 };
	struct skiff_addr src;
	long n = skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, NULL, NULL);
	if (n >= 0) {
		buf[n] = 0;
		if (from)
			*from = src.v4;
	}
	return n;
}

static struct skiff_udp_sock *udp_on(struct harness *h, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr any = skiff_addr_v4(0);
	assert_non_null(sk);
	sk->reuseaddr = true;
	assert_int_equal(skiff_udp_bind(h->st, sk, &any, port), 0);
	return sk;
}

static int hsetup(void **state)
{
	static struct harness h;
	assert_int_equal(h_init(&h, NULL), 0);
	h_tx_flush(&h);
	*state = &h;
	return 0;
}

static int hteardown(void **state)
{
	h_fini(*state);
	return 0;
}

static void join_sends_v3_reports(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_on(h, 5000);
	struct skiff_addr g = skiff_addr_v4(GRP);
	struct mcast_rec r;
	struct seen s;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	h_advance(h, 0);
	assert_true(pop_igmp(h, &s));
	/* RFC 3376 4: TTL 1, Router Alert, to 224.0.0.22, from the interface address */
	assert_int_equal(s.ttl, 1);
	assert_true(s.ra);
	assert_int_equal(s.ip_dst, IGMP_V3_ROUTERS);
	assert_int_equal(s.ip_src, H_LOCAL_IP);
	assert_int_equal(s.m.type, IGMP_V3_REPORT);
	assert_int_equal(s.m.n_rec, 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_EX); /* EXCLUDE{} join: CHANGE_TO_EXCLUDE_MODE (RFC 3376 5.1) */
	assert_int_equal(r.group.v4, GRP);
	assert_int_equal(r.n_src, 0);
	/* robustness 2: one retransmission within the Unsolicited Report Interval (1 s), then silence */
	assert_int_equal(run_count(h, 1100000000ull, 10000000ull, &s), 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_EX);
	assert_int_equal(run_count(h, 5 * SEC, 100000000ull, NULL), 0);
	/* a second group, then close: both left with TO_IN{} records */
	{
		struct skiff_addr g2 = skiff_addr_v4(GRP2);
		assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g2, h->now), 0);
		assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g2, h->now), -EADDRINUSE);
		run_count(h, 2 * SEC, 100000000ull, NULL);
	}
	skiff_udp_close(h->st, sk);
	h_advance(h, 0);
	assert_true(pop_igmp(h, &s));
	assert_int_equal(s.m.n_rec, 2);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_IN);
	assert_int_equal(r.n_src, 0);
	run_count(h, 3 * SEC, 100000000ull, NULL);
	assert_int_equal(skiff_mcast_groups(h->st, SKIFF_AF_INET, h->ifindex, NULL, 0), 0);
}

static void general_query_answered(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_on(h, 5000);
	struct skiff_addr g = skiff_addr_v4(GRP);
	struct mcast_rec r;
	struct seen s;
	unsigned n;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	run_count(h, 2 * SEC, 10000000ull, NULL);
	inject_query(h, MCAST_V3, 0, 1000); /* General Query, Max Resp 1 s */
	n = run_count(h, 1100000000ull, 10000000ull, &s);
	assert_int_equal(n, 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_IS_EX); /* current state (RFC 3376 5.2) */
	assert_int_equal(r.group.v4, GRP);
	/* a Group-Specific Query for a group we do not have: nothing */
	inject_query(h, MCAST_V3, 0xef090909u, 1000);
	assert_int_equal(run_count(h, 1100000000ull, 10000000ull, NULL), 0);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

static void v2_querier_compat(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_on(h, 5000);
	struct skiff_addr g = skiff_addr_v4(GRP);
	struct seen s;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	run_count(h, 2 * SEC, 10000000ull, NULL);
	inject_query(h, MCAST_V2, 0, 1000); /* an IGMPv2 querier (RFC 3376 7.2.1) */
	assert_int_equal(run_count(h, 1100000000ull, 10000000ull, &s), 1);
	assert_int_equal(s.m.type, IGMP_V2_REPORT);
	assert_int_equal(s.ip_dst, GRP); /* v2 reports go to the group (RFC 2236 2) */
	assert_int_equal(s.m.group.v4, GRP);
	assert_true(s.ra);
	/* we sent the last report: leaving sends a v2 Leave to 224.0.0.2 (RFC 2236 6) */
	skiff_udp_close(h->st, sk);
	h_advance(h, 0);
	assert_true(pop_igmp(h, &s));
	assert_int_equal(s.m.type, IGMP_V2_LEAVE);
	assert_int_equal(s.ip_dst, IGMP_ALL_ROUTERS);
	assert_int_equal(s.m.group.v4, GRP);
	run_count(h, 400 * SEC, SEC, NULL); /* the Older Version Querier Present timeout runs out */
}

static void delivery_filters(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *a = udp_on(h, 6000), *b = udp_on(h, 6000), *c = udp_on(h, 6000), *d = udp_on(h, 6000);
	struct skiff_addr g = skiff_addr_v4(GRP), s1 = skiff_addr_v4(H_PEER_IP), s2 = skiff_addr_v4(H_OTHER_IP);
	char buf[64];
	uint32_t from;

	/* not joined yet: a datagram to the group is not for us */
	inject_udp_mc(h, H_PEER_IP, GRP, 6000, "early");
	assert_int_equal(recv_str(h, a, buf, sizeof(buf), NULL), -EAGAIN);
	assert_true(h_drops(h, SKIFF_DROP_ETH_NOT_FOR_US) + h_drops(h, SKIFF_DROP_IP4_NOT_FOR_US) >= 1);

	/* a: ASM; b: ASM blocking s1; c: INCLUDE{s1}; d: no membership, IP_MULTICAST_ALL on */
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(a), &g, h->now), 0);
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(b), &g, h->now), 0);
	assert_int_equal(skiff_mcast_source(h->st, h->ifindex, udp_mcast_owner(b), &g, MCAST_SRC_BLOCK, &s1, h->now), 0);
	assert_int_equal(skiff_mcast_source(h->st, h->ifindex, udp_mcast_owner(c), &g, MCAST_SRC_ADD, &s1, h->now), 0);
	h_tx_flush(h);

	inject_udp_mc(h, H_PEER_IP, GRP, 6000, "from-s1");
	inject_udp_mc(h, H_OTHER_IP, GRP, 6000, "from-s2");
	assert_int_equal(recv_str(h, a, buf, sizeof(buf), &from), 7);
	assert_string_equal(buf, "from-s1");
	assert_int_equal(from, H_PEER_IP);
	assert_int_equal(recv_str(h, a, buf, sizeof(buf), &from), 7);
	assert_string_equal(buf, "from-s2");
	assert_int_equal(recv_str(h, b, buf, sizeof(buf), &from), 7);
	assert_string_equal(buf, "from-s2");
	assert_int_equal(recv_str(h, b, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv_str(h, c, buf, sizeof(buf), &from), 7);
	assert_string_equal(buf, "from-s1");
	assert_int_equal(recv_str(h, c, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv_str(h, d, buf, sizeof(buf), NULL), 7); /* Linux: IP_MULTICAST_ALL */
	assert_int_equal(recv_str(h, d, buf, sizeof(buf), NULL), 7);
	/* IP_MULTICAST_ALL off: only its own memberships */
	d->mc_noall = true;
	inject_udp_mc(h, H_PEER_IP, GRP, 6000, "again");
	assert_int_equal(recv_str(h, d, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv_str(h, a, buf, sizeof(buf), NULL), 5);
	/* another port: none of them */
	inject_udp_mc(h, H_PEER_IP, GRP, 6001, "x");
	assert_int_equal(recv_str(h, a, buf, sizeof(buf), NULL), -EAGAIN);
	(void)s2;
	skiff_udp_close(h->st, a);
	skiff_udp_close(h->st, b);
	skiff_udp_close(h->st, c);
	skiff_udp_close(h->st, d);
	/* everyone left: the group is not ours any more */
	inject_udp_mc(h, H_PEER_IP, GRP, 6000, "late");
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

static void multicast_loop(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *m = udp_on(h, 7000), *tx;
	struct skiff_addr g = skiff_addr_v4(GRP), dst = skiff_addr_v4(GRP);
	struct iovec iov = { (void *)"hello", 5 };
	char buf[64];
	int err;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(m), &g, h->now), 0);
	h_tx_flush(h);
	tx = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	assert_non_null(tx);
	assert_int_equal(skiff_udp_send(h->st, tx, &iov, 1, &dst, 7000, 0, h->now), 5);
	h_advance(h, 0); /* looped copies are delivered by poll */
	assert_int_equal(recv_str(h, m, buf, sizeof(buf), NULL), 5);
	assert_string_equal(buf, "hello");
	/* the wire copy went out too, TTL 1 (IP_MULTICAST_TTL default) */
	{
		struct skiff_pkt *p;
		bool wire = false;
		while ((p = h_tx_pop(h))) {
			const uint8_t *ip = skiff_pkt_data(p) + ETH_HDR_LEN;
			if (ip[9] == 17 && ld32(ip + 16) == GRP) {
				wire = true;
				assert_int_equal(ip[8], 1);
			}
			skiff_pkt_free(p);
		}
		assert_true(wire);
	}
	/* IP_MULTICAST_LOOP off: no local copy */
	tx->mc_noloop = true;
	assert_int_equal(skiff_udp_send(h->st, tx, &iov, 1, &dst, 7000, 0, h->now), 5);
	h_advance(h, 0);
	assert_int_equal(recv_str(h, m, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_udp_close(h->st, tx);
	skiff_udp_close(h->st, m);
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

static void bad_igmp_dropped(void **state)
{
	struct harness *h = *state;
	uint8_t msg[12] = { IGMP_QUERY, 10, 0, 0, 0, 0, 0, 0 };
	uint64_t before = h_drops(h, SKIFF_DROP_IGMP_BAD_CSUM), short_before = h_drops(h, SKIFF_DROP_IGMP_SHORT);

	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, msg, 8); /* checksum 0: wrong */
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_BAD_CSUM), before + 1);
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, msg, 4);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_SHORT), short_before + 1);
}

static void igmp_msg(uint8_t *m, size_t len)
{
	st16(m + 2, 0);
	st16(m + 2, csum_buf(m, len));
}

/* Every IGMP_ drop reason, each by its own trigger (test_ip4.c's sweep leaves them here). */
static void every_igmp_drop(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_on(h, 5000);
	struct skiff_addr g = skiff_addr_v4(GRP);
	uint8_t m[16], f[128];
	struct skiff_pkt *held[9000];
	unsigned nheld = 0;

	memset(m, 0, sizeof(m));
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, m, 6);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_SHORT), 1);
	m[0] = IGMP_QUERY;
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, m, 8); /* checksum 0 */
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_BAD_CSUM), 1);
	m[0] = 0x99;
	igmp_msg(m, 8);
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, m, 8);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_BAD_TYPE), 1);
	m[0] = IGMP_QUERY;
	igmp_msg(m, 10); /* 9..11 bytes: no version has it (RFC 3376 7.1) */
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, m, 10);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_BAD_LEN), 1);
	memset(m, 0, sizeof(m));
	m[0] = IGMP_V2_REPORT;
	st32(m + 4, 0x0a000001u); /* not a group */
	igmp_msg(m, 8);
	inject_igmp(h, H_PEER_IP, IGMP_ALL_SYSTEMS, m, 8);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_BAD_GROUP), 1);
	/* a query in two fragments */
	memset(m, 0, sizeof(m));
	m[0] = IGMP_QUERY;
	m[1] = 100;
	igmp_msg(m, 12);
	memcpy(f + 34, m, 8);
	fb_ip4(f, H_PEER_IP, IGMP_ALL_SYSTEMS, IPPROTO_IGMP_, 99, IP4_FLAG_MF, 8);
	fb_eth(f, (const uint8_t[6]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, h_peer_mac, ETH_TYPE_IP4);
	h_inject(h, f, 42);
	memcpy(f + 34, m + 8, 4);
	fb_ip4(f, H_PEER_IP, IGMP_ALL_SYSTEMS, IPPROTO_IGMP_, 99, 1, 4);
	h_inject(h, f, 38);
	assert_int_equal(h_drops(h, SKIFF_DROP_IGMP_FRAGMENTED), 1);
	/* no frame for the report */
	while (nheld < 9000 && (held[nheld] = skiff_pool_get(skiff_mempool_pool(h->mp))))
		nheld++;
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	h_advance(h, 0);
	assert_true(h_drops(h, SKIFF_DROP_IGMP_NO_BUF) >= 1);
	for (unsigned i = 0; i < nheld; i++)
		skiff_pkt_free(held[i]);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

static void query_flood_bounded(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp_on(h, 8000);
	struct mcast_member_stats ms;
	struct mcast_member *m;
	char buf[64];
	unsigned out, taken = 0;

	for (unsigned k = 0; k < 4; k++) {
		struct skiff_addr g = skiff_addr_v4(GRP + k);
		assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	}
	run_count(h, 2 * SEC, 10000000ull, NULL);
	m = skiff_mcast_engine(h->st, SKIFF_AF_INET, h->ifindex, false, NULL);
	assert_non_null(m);
	/* 100k v3 queries, General and Group-Specific, 1 µs apart: state stays bounded
	 * (a query about GRP + 4, not joined, never passes the IP layer) */
	for (unsigned i = 0; i < 100000; i++) {
		taken += i % 3 == 0 || i % 5 != 4;
		inject_query(h, MCAST_V3, i % 3 ? GRP + (i % 5) : 0, 10000);
		h->now += 1000;
		if (i % 1000 == 0) {
			mcast_member_get_stats(m, &ms);
			assert_true(ms.pending <= 4 + 1); /* one General response + one per group at most */
			assert_true(h_tx_count(h) < 64);
		}
	}
	mcast_member_get_stats(m, &ms);
	assert_int_equal(ms.queries, taken);
	assert_true(ms.groups == 4);
	/* what the flood costs in output: at most one report per pending response */
	out = run_count(h, 11 * SEC, 10000000ull, NULL);
	assert_true(out >= 1);
	assert_true(out <= 5);
	/* and traffic still flows */
	inject_udp_mc(h, H_PEER_IP, GRP + 2, 8000, "still");
	assert_int_equal(recv_str(h, sk, buf, sizeof(buf), NULL), 5);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

/* A device that records what the stack asks of its multicast filter. */
static struct skiff_dev_mcast fake_groups[8];
static unsigned fake_n, fake_calls;

static int fake_mcast_set(struct skiff_dev *dev, const struct skiff_dev_mcast *g, unsigned n)
{
	(void)dev;
	fake_calls++;
	fake_n = n < 8 ? n : 8;
	memcpy(fake_groups, g, fake_n * sizeof(*g));
	return 0;
}

/* sock_mcast_dev_sync hands the driver the whole group set after each change, once. */
static void driver_filter_sync(void **state)
{
	struct harness *h = *state;
	static const struct skiff_dev_ops ops = { .mcast_set = fake_mcast_set };
	struct skiff_dev dev = { .ops = &ops };
	struct skiff_dev *devs[1] = { &dev };
	struct skiff_udp_sock *a = udp_on(h, 5000), *b = udp_on(h, 5000);
	struct skiff_addr g = skiff_addr_v4(GRP), g2 = skiff_addr_v4(GRP2);

	fake_calls = 0;
	sock_mcast_dev_sync(h->st, devs, 1);
	assert_int_equal(fake_calls, 0); /* nothing joined yet */
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(a), &g, h->now), 0);
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(b), &g, h->now), 0);
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(b), &g2, h->now), 0);
	sock_mcast_dev_sync(h->st, devs, 1);
	assert_int_equal(fake_calls, 1);
	assert_int_equal(fake_n, 2);
	assert_int_equal(fake_groups[0].family, 4);
	assert_true((ld32(fake_groups[0].addr) == GRP && ld32(fake_groups[1].addr) == GRP2) ||
		    (ld32(fake_groups[0].addr) == GRP2 && ld32(fake_groups[1].addr) == GRP));
	sock_mcast_dev_sync(h->st, devs, 1);
	assert_int_equal(fake_calls, 1); /* no change, no call */
	skiff_udp_close(h->st, b);
	sock_mcast_dev_sync(h->st, devs, 1);
	assert_int_equal(fake_calls, 2);
	assert_int_equal(fake_n, 1); /* a still holds GRP */
	assert_int_equal(ld32(fake_groups[0].addr), GRP);
	skiff_udp_close(h->st, a);
	sock_mcast_dev_sync(h->st, devs, 1);
	assert_int_equal(fake_calls, 3);
	assert_int_equal(fake_n, 0);
	run_count(h, 3 * SEC, 100000000ull, NULL);
}

/* ---- part 2: the socket options on the loop world ---- */

static int wsetup(void **state)
{
	(void)state;
	loop_world_up(11, 12);
	return 0;
}

static int wteardown(void **state)
{
	(void)state;
	loop_world_down();
	return 0;
}

static int udp_sock(struct skiff_stack *st, uint16_t port)
{
	int one = 1, fd;
	struct sockaddr_in a = sin4(0, port);
	(void)st;
	fd = skiff_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(skiff_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	if (port)
		assert_int_equal(skiff_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static struct ip_mreq mreq(uint32_t group, uint32_t ifaddr)
{
	struct ip_mreq m;
	m.imr_multiaddr.s_addr = htonl(group);
	m.imr_interface.s_addr = htonl(ifaddr);
	return m;
}

static struct ip_mreq_source mreqs(uint32_t group, uint32_t ifaddr, uint32_t src)
{
	struct ip_mreq_source m;
	m.imr_multiaddr.s_addr = htonl(group);
	m.imr_interface.s_addr = htonl(ifaddr);
	m.imr_sourceaddr.s_addr = htonl(src);
	return m;
}

#define SO(fd, name, v) skiff_setsockopt(fd, IPPROTO_IP, name, &(v), sizeof(v))

static void sockopt_errnos(void **state)
{
	int fd, fd2, v;
	struct ip_mreq m;
	struct ip_mreq_source s;
	socklen_t len;
	unsigned char uc;
	struct in_addr ia;

	(void)state;
	skiff_rt_use(W.rt, W.ia);
	fd = udp_sock(W.sa, 0);
	m = mreq(GRP, IP_A);
	assert_int_equal(SO(fd, IP_ADD_MEMBERSHIP, m), 0);
	assert_err(SO(fd, IP_ADD_MEMBERSHIP, m), EADDRINUSE);
	m = mreq(0x0a010101u, IP_A);
	assert_err(SO(fd, IP_ADD_MEMBERSHIP, m), EINVAL);
	m = mreq(GRP2, 0xc6130909u); /* 198.19.9.9: no interface has it */
	assert_err(SO(fd, IP_ADD_MEMBERSHIP, m), ENODEV);
	m = mreq(GRP2, IP_A);
	assert_err(skiff_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, 4), EINVAL);
	assert_err(SO(fd, IP_DROP_MEMBERSHIP, m), EADDRNOTAVAIL);
	m = mreq(0x0a010101u, IP_A);
	assert_err(SO(fd, IP_DROP_MEMBERSHIP, m), EADDRNOTAVAIL);
	m = mreq(GRP, 0);
	assert_int_equal(SO(fd, IP_DROP_MEMBERSHIP, m), 0); /* any interface's membership */
	/* igmp_max_memberships = 20: the 21st is ENOBUFS */
	for (unsigned i = 0; i < 20; i++) {
		m = mreq(0xef020001u + i, IP_A);
		assert_int_equal(SO(fd, IP_ADD_MEMBERSHIP, m), 0);
	}
	m = mreq(0xef020001u + 20, IP_A);
	assert_err(SO(fd, IP_ADD_MEMBERSHIP, m), ENOBUFS);
	skiff_close(fd);

	/* source-specific rules (ip_mc_source) */
	fd = udp_sock(W.sa, 0);
	s = mreqs(0xef030001u, IP_A, 0xc6120009u);
	assert_err(SO(fd, IP_BLOCK_SOURCE, s), EINVAL);            /* no membership */
	assert_err(SO(fd, IP_DROP_SOURCE_MEMBERSHIP, s), EINVAL);
	assert_int_equal(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, s), 0);
	assert_err(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, s), EADDRNOTAVAIL); /* already there */
	assert_err(skiff_setsockopt(fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &s, 16), EINVAL);
	assert_err(SO(fd, IP_BLOCK_SOURCE, s), EINVAL);            /* INCLUDE filter */
	m = mreq(0xef030001u, IP_A);
	assert_err(SO(fd, IP_ADD_MEMBERSHIP, m), EADDRINUSE);
	for (unsigned i = 0; i < 9; i++) {
		struct ip_mreq_source t = mreqs(0xef030001u, IP_A, 0xc6120100u + i);
		assert_int_equal(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, t), 0);
	}
	{
		struct ip_mreq_source t = mreqs(0xef030001u, IP_A, 0xc6120200u);
		assert_err(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, t), ENOBUFS); /* igmp_max_msf = 10 */
		t = mreqs(0xef030001u, IP_A, 0xc6120201u);
		assert_err(SO(fd, IP_DROP_SOURCE_MEMBERSHIP, t), EADDRNOTAVAIL);
	}
	s = mreqs(0x0a030001u, IP_A, 0xc6120009u);
	assert_err(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, s), EINVAL);
	/* an ASM join with no sources: ADD_SOURCE switches it to INCLUDE{source} */
	m = mreq(0xef040001u, IP_A);
	assert_int_equal(SO(fd, IP_ADD_MEMBERSHIP, m), 0);
	s = mreqs(0xef040001u, IP_A, 0xc6120009u);
	assert_err(SO(fd, IP_UNBLOCK_SOURCE, s), EADDRNOTAVAIL);
	assert_int_equal(SO(fd, IP_ADD_SOURCE_MEMBERSHIP, s), 0);
	assert_err(SO(fd, IP_BLOCK_SOURCE, s), EINVAL);
	assert_int_equal(SO(fd, IP_DROP_SOURCE_MEMBERSHIP, s), 0); /* the last source: left */
	assert_err(SO(fd, IP_DROP_MEMBERSHIP, m), EADDRNOTAVAIL);
	/* EXCLUDE: block / unblock */
	m = mreq(0xef050001u, IP_A);
	assert_int_equal(SO(fd, IP_ADD_MEMBERSHIP, m), 0);
	s = mreqs(0xef050001u, IP_A, 0xc6120009u);
	assert_int_equal(SO(fd, IP_BLOCK_SOURCE, s), 0);
	assert_err(SO(fd, IP_BLOCK_SOURCE, s), EADDRNOTAVAIL);
	assert_err(SO(fd, IP_DROP_SOURCE_MEMBERSHIP, s), EINVAL);
	assert_int_equal(SO(fd, IP_UNBLOCK_SOURCE, s), 0);
	assert_err(SO(fd, IP_UNBLOCK_SOURCE, s), EADDRNOTAVAIL);

	/* MCAST_* layouts */
	{
		struct group_req gr;
		struct group_source_req gs;
		struct sockaddr_in *gi = (struct sockaddr_in *)&gr.gr_group;
		memset(&gr, 0, sizeof(gr));
		gi->sin_family = AF_INET;
		gi->sin_addr.s_addr = htonl(0xef060001u);
		gr.gr_interface = 0; /* the group's route */
		assert_int_equal(SO(fd, MCAST_JOIN_GROUP, gr), 0);
		assert_err(SO(fd, MCAST_JOIN_GROUP, gr), EADDRINUSE);
		assert_err(skiff_setsockopt(fd, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, 100), EINVAL);
		assert_int_equal(SO(fd, MCAST_LEAVE_GROUP, gr), 0);
		assert_err(SO(fd, MCAST_LEAVE_GROUP, gr), EADDRNOTAVAIL);
		gi->sin_family = AF_INET6;
		assert_err(SO(fd, MCAST_JOIN_GROUP, gr), EINVAL);
		memset(&gs, 0, sizeof(gs));
		((struct sockaddr_in *)&gs.gsr_group)->sin_family = AF_INET;
		((struct sockaddr_in *)&gs.gsr_group)->sin_addr.s_addr = htonl(0xef060002u);
		((struct sockaddr_in *)&gs.gsr_source)->sin_family = AF_INET;
		((struct sockaddr_in *)&gs.gsr_source)->sin_addr.s_addr = htonl(0xc6120009u);
		assert_int_equal(SO(fd, MCAST_JOIN_SOURCE_GROUP, gs), 0);
		assert_int_equal(SO(fd, MCAST_LEAVE_SOURCE_GROUP, gs), 0);
		assert_err(SO(fd, MCAST_LEAVE_SOURCE_GROUP, gs), EINVAL);
		((struct sockaddr_in *)&gs.gsr_source)->sin_family = AF_INET6;
		assert_err(SO(fd, MCAST_JOIN_SOURCE_GROUP, gs), EADDRNOTAVAIL);
	}

	/* IP_MULTICAST_IF / LOOP / ALL */
	fd2 = udp_sock(W.sa, 0);
	len = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd2, IPPROTO_IP, IP_MULTICAST_LOOP, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_int_equal(len, sizeof(int));
	len = 1;
	assert_int_equal(skiff_getsockopt(fd2, IPPROTO_IP, IP_MULTICAST_ALL, &uc, &len), 0);
	assert_int_equal(uc, 1);
	assert_int_equal(len, 1);
	v = 2;
	assert_err(SO(fd2, IP_MULTICAST_ALL, v), EINVAL);
	v = 0;
	assert_int_equal(SO(fd2, IP_MULTICAST_ALL, v), 0);
	v = 7;
	assert_int_equal(SO(fd2, IP_MULTICAST_LOOP, v), 0);
	len = sizeof(v);
	assert_int_equal(skiff_getsockopt(fd2, IPPROTO_IP, IP_MULTICAST_LOOP, &v, &len), 0);
	assert_int_equal(v, 1);
	assert_err(skiff_setsockopt(fd2, IPPROTO_IP, IP_MULTICAST_LOOP, &v, 0), EINVAL);
	len = sizeof(ia);
	assert_int_equal(skiff_getsockopt(fd2, IPPROTO_IP, IP_MULTICAST_IF, &ia, &len), 0);
	assert_int_equal(ia.s_addr, 0);
	ia.s_addr = htonl(IP_A);
	assert_int_equal(SO(fd2, IP_MULTICAST_IF, ia), 0);
	ia.s_addr = 0;
	len = sizeof(ia);
	assert_int_equal(skiff_getsockopt(fd2, IPPROTO_IP, IP_MULTICAST_IF, &ia, &len), 0);
	assert_int_equal(ntohl(ia.s_addr), IP_A);
	ia.s_addr = htonl(0xc6130909u);
	assert_err(SO(fd2, IP_MULTICAST_IF, ia), EADDRNOTAVAIL);
	assert_err(skiff_setsockopt(fd2, IPPROTO_IP, IP_MULTICAST_IF, &ia, 3), EINVAL);
	len = sizeof(m);
	assert_err(skiff_getsockopt(fd2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, &len), ENOPROTOOPT);
	skiff_close(fd2);
	skiff_close(fd);
}

/* One send from A reaches B's two members on the same group and port (each a
 * copy), and A's own member through IP_MULTICAST_LOOP. */
static void two_sockets_one_group(void **state)
{
	int b1, b2, a1, tx;
	struct ip_mreq m;
	struct sockaddr_in dst = sin4(GRP, 9000);
	char buf[64];
	ssize_t n;

	(void)state;
	skiff_rt_use(W.rt, W.ib);
	b1 = udp_sock(W.sb, 9000);
	b2 = udp_sock(W.sb, 9000);
	m = mreq(GRP, IP_B);
	assert_int_equal(SO(b1, IP_ADD_MEMBERSHIP, m), 0);
	assert_int_equal(SO(b2, IP_ADD_MEMBERSHIP, m), 0);
	skiff_rt_use(W.rt, W.ia);
	a1 = udp_sock(W.sa, 9000);
	m = mreq(GRP, IP_A);
	assert_int_equal(SO(a1, IP_ADD_MEMBERSHIP, m), 0);
	tx = udp_sock(W.sa, 0);
	set_timeo_ms(b1, SO_RCVTIMEO, 2000);
	set_timeo_ms(b2, SO_RCVTIMEO, 2000);
	set_timeo_ms(a1, SO_RCVTIMEO, 2000);
	assert_int_equal(skiff_sendto(tx, "market-data", 11, 0, (struct sockaddr *)&dst, sizeof(dst)), 11);
	n = skiff_recv(b1, buf, sizeof(buf), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "market-data", 11);
	n = skiff_recv(b2, buf, sizeof(buf), 0);
	assert_int_equal(n, 11);
	assert_memory_equal(buf, "market-data", 11);
	n = skiff_recv(a1, buf, sizeof(buf), 0);
	assert_int_equal(n, 11);
	/* both stacks reported their joins */
	{
		struct skiff_mcast_counters c;
		skiff_mcast_get_counters(W.sb, &c);
		assert_true(c.igmp_out >= 1);
		skiff_mcast_get_counters(W.sa, &c);
		assert_true(c.igmp_out >= 1);
	}
	/* b1 leaves: the next datagram reaches b2 only (b1's IP_MULTICAST_ALL still
	 * admits groups the host joined, as Linux: b2 keeps the group joined) */
	m = mreq(GRP, IP_B);
	assert_int_equal(SO(b1, IP_DROP_MEMBERSHIP, m), 0);
	{
		int zero = 0;
		assert_int_equal(skiff_setsockopt(b1, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)), 0);
	}
	assert_int_equal(skiff_sendto(tx, "second", 6, 0, (struct sockaddr *)&dst, sizeof(dst)), 6);
	assert_int_equal(skiff_recv(b2, buf, sizeof(buf), 0), 6);
	set_timeo_ms(b1, SO_RCVTIMEO, 200);
	assert_err(skiff_recv(b1, buf, sizeof(buf), 0), EAGAIN);
	skiff_close(b1);
	skiff_close(b2);
	skiff_close(a1);
	skiff_close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(join_sends_v3_reports, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(general_query_answered, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(v2_querier_compat, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(delivery_filters, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(multicast_loop, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(bad_igmp_dropped, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(every_igmp_drop, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(driver_filter_sync, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(query_flood_bounded, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(sockopt_errnos, wsetup, wteardown),
		cmocka_unit_test_setup_teardown(two_sockets_one_group, wsetup, wteardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
