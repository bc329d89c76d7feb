/* test_mld.c — IPv6 multicast wired into the stack (dataplane/mld.c,
 * udp_mcast6.c), one stack on the harness (fake clock, frames as bytes), IPv6
 * on with its link-local address:
 *   a join sends an MLDv2 State-Change Report (hop limit 1, Hop-by-Hop Router
 *   Alert, from the link-local address, to ff02::16 on 33:33:00:00:00:16) and its
 *   retransmission, close leaves (TO_IN{}); a General Query is answered with the
 *   current state; an MLDv1 querier turns reports into MLDv1 reports to the group
 *   and the leave into a Done to ff02::2; datagrams to a group reach every socket
 *   on the port as Linux gives them (memberships, source filters,
 *   IPV6_MULTICAST_ALL), byte-exact; IPV6_MULTICAST_LOOP; IPV6_MULTICAST_IF;
 *   the solicited-node groups of the addresses are joined and reported when
 *   mld_join_solicited is on; every MLD_* drop is reached by a frame built for
 *   it; 100k queries leave bounded state and output, and traffic still flows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/igmp.h"
#include "dataplane/ip6.h"
#include "dataplane/mcast_msg.h"
#include "dataplane/mld.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/udp_mcast.h"
#include "dataplane/wire_eth.h"
#include "tests/lib/harness.h"

#define SEC 1000000000ull
#define MS 1000000ull

static const uint8_t G1[16] = { 0xff, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 };  /* ff15::1234 */
static const uint8_t G2[16] = { 0xff, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x35 };  /* ff15::1235 */
static const uint8_t ALL_NODES[16] = IP6_ADDR_ALL_NODES;
static const uint8_t ALL_ROUTERS[16] = IP6_ADDR_ALL_ROUTERS;
static const uint8_t MLDV2_ROUTERS[16] = IP6_ADDR_MLDV2_ROUTERS;
static const uint8_t PEER_LL[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t PEER_GUA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t OUR_GUA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };

/* ---- frames ---- */

struct seen {
	uint8_t frame[2048];
	size_t len;
	uint8_t src[16], dst[16];
	uint8_t hop;
	bool ra;
	struct mcast_msg m;
};

static size_t msg_off(void) { return ETH_HDR_LEN + IP6_HDR_LEN + 8; }

/* The next transmitted frame that is MLD (false: none). Checks the Ethernet
 * destination (RFC 2464 7) and that the message parses as a receiver would. */
static bool pop_mld(struct harness *h, struct seen *s)
{
	struct skiff_pkt *p;
	while ((p = h_tx_pop(h))) {
		const uint8_t *ip, *hbh;
		struct mld_ip mi;
		size_t plen;
		s->len = p->len < sizeof(s->frame) ? p->len : sizeof(s->frame);
		memcpy(s->frame, skiff_pkt_data(p), s->len);
		skiff_pkt_free(p);
		ip = s->frame + ETH_HDR_LEN;
		hbh = ip + IP6_HDR_LEN;
		if (ld16(s->frame + 12) != ETH_TYPE_IP6 || ip[6] != IP6_NH_HOPOPTS || hbh[0] != IP6_NH_ICMP6)
			continue;
		plen = ld16(ip + 4);
		assert_int_equal(s->len, ETH_HDR_LEN + IP6_HDR_LEN + plen);
		memcpy(s->src, ip + 8, 16);
		memcpy(s->dst, ip + 24, 16);
		s->hop = ip[7];
		s->ra = hbh[1] == 0 && hbh[2] == 5 && hbh[3] == 2 && hbh[4] == 0 && hbh[5] == 0;
		mi.src = s->src;
		mi.dst = s->dst;
		mi.hop_limit = s->hop;
		mi.router_alert = s->ra;
		assert_int_equal(mld_parse(s->frame + msg_off(), plen - 8, &mi, &s->m), 0);
		assert_int_equal(s->frame[0], 0x33);
		assert_int_equal(s->frame[1], 0x33);
		assert_memory_equal(s->frame + 2, s->dst + 12, 4);
		return true;
	}
	return false;
}

static unsigned run_count(struct harness *h, uint64_t total_ns, uint64_t step_ns, struct seen *last)
{
	unsigned n = 0;
	struct seen s;
	for (uint64_t t = 0; t < total_ns; t += step_ns) {
		h_advance(h, step_ns);
		while (pop_mld(h, &s)) {
			n++;
			if (last)
				*last = s;
		}
	}
	return n;
}

static void first_record(const struct seen *s, struct mcast_rec *r)
{
	struct mld_ip mi = { s->src, s->dst, s->hop, s->ra };
	struct mcast_msg m;
	assert_int_equal(mld_parse(s->frame + msg_off(), s->len - msg_off(), &mi, &m), 0);
	assert_int_equal(m.kind, MCAST_MSG_REPORT_V3);
	assert_int_equal(mcast_rec_next(&m.recs, 16, r), 0);
}

/* An IPv6 frame from the peer: hop limit, a Hop-by-Hop Router Alert if ra, then l4. */
static size_t fb6(uint8_t *f, const uint8_t *src, const uint8_t *dst, uint8_t hop, bool ra, uint8_t proto,
		  const uint8_t *l4, size_t l4len)
{
	struct ip6_repr ip;
	uint8_t mac[6];
	size_t off = ETH_HDR_LEN + IP6_HDR_LEN;
	if (dst[0] == 0xff)
		ip6_mcast_mac(dst, mac);
	else
		memcpy(mac, h_local_mac, 6);
	fb_eth(f, mac, h_peer_mac, ETH_TYPE_IP6);
	memset(&ip, 0, sizeof(ip));
	ip.version = 6;
	ip.payload_len = (uint16_t)(l4len + (ra ? 8 : 0));
	ip.next_hdr = ra ? IP6_NH_HOPOPTS : proto;
	ip.hop_limit = hop;
	ip.src = ip6_addr_make(src);
	ip.dst = ip6_addr_make(dst);
	ip6_emit(f + ETH_HDR_LEN, &ip);
	if (ra) {
		const uint8_t hbh[8] = { proto, 0, 5, 2, 0, 0, 1, 0 };
		memcpy(f + off, hbh, 8);
		off += 8;
	}
	memcpy(f + off, l4, l4len);
	return off + l4len;
}

static void inject_mld(struct harness *h, const uint8_t *src, const uint8_t *dst, uint8_t hop, bool ra, uint8_t *msg,
		       size_t len)
{
	uint8_t f[2048];
	mld_set_csum(msg, len, src, dst);
	h_inject(h, f, fb6(f, src, dst, hop, ra, IP6_NH_ICMP6, msg, len));
}

static void inject_query(struct harness *h, uint8_t version, const uint8_t *group, uint32_t max_resp_ms)
{
	struct mcast_query q;
	uint8_t msg[64];
	int n;
	memset(&q, 0, sizeof(q));
	q.version = version;
	q.alen = 16;
	q.max_resp_ms = max_resp_ms;
	q.group.family = SKIFF_AF_INET6;
	if (group)
		memcpy(q.group.v6, group, 16);
	n = mld_build_query(msg, sizeof(msg), &q);
	assert_true(n > 0);
	inject_mld(h, PEER_LL, group ? group : ALL_NODES, 1, true, msg, (size_t)n);
}

static void inject_udp6(struct harness *h, const uint8_t *src, const uint8_t *group, uint16_t dport, const void *pl,
			size_t plen)
{
	uint8_t u[1500], f[2048];
	uint16_t c;
	st16(u, 4000);
	st16(u + 2, dport);
	st16(u + 4, (uint16_t)(8 + plen));
	st16(u + 6, 0);
	memcpy(u + 8, pl, plen);
	c = csum_fold(csum_partial(u, 8 + plen, csum_pseudo6(src, group, IP6_NH_UDP, (uint32_t)(8 + plen))));
	st16(u + 6, c ? c : 0xffff);
	h_inject(h, f, fb6(f, src, group, 5, false, IP6_NH_UDP, u, 8 + plen));
}

static long recv6(struct harness *h, struct skiff_udp_sock *sk, void *buf, size_t cap, uint8_t *from)
{
	struct iovec iov = { buf, cap };
	struct skiff_addr src;
	long n = skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, NULL, NULL);
	if (n >= 0 && from)
		memcpy(from, src.v6, 16);
	return n;
}

static struct skiff_udp_sock *udp6_on(struct harness *h, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET6, &err);
	struct skiff_addr any;
	assert_non_null(sk);
	memset(&any, 0, sizeof(any));
	any.family = SKIFF_AF_INET6;
	sk->reuseaddr = true;
	assert_int_equal(skiff_udp_bind(h->st, sk, &any, port), 0);
	return sk;
}

static struct skiff_addr A6(const uint8_t *a) { return ip6_addr_make(a); }

/* ---- setup: IPv6 on, link-local preferred at once, no RS ---- */

static uint8_t our_ll[16];

static int setup_cfg(void **state, bool solicited)
{
	static struct harness h;
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.nd_dad_transmits = 0;
	c.nd_rtr_solicits = 0;
	c.mld_join_solicited = solicited;
	assert_int_equal(h_init(&h, &c), 0);
	assert_int_equal(skiff_stack_enable_ip6(h.st, h.ifindex, h.now), 0);
	h_advance(&h, 10 * MS);
	assert_int_equal(skiff_stack_link_local6(h.st, h.ifindex, our_ll), 0);
	assert_true(skiff_stack_local6(h.st, our_ll, h.ifindex, true) >= 0);
	h_tx_flush(&h);
	*state = &h;
	return 0;
}

static int hsetup(void **state) { return setup_cfg(state, false); }
static int hsetup_sol(void **state) { return setup_cfg(state, true); }

static int hteardown(void **state)
{
	h_fini(*state);
	return 0;
}

/* ---- tests ---- */

static void join_sends_v2_reports(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp6_on(h, 5000);
	struct skiff_addr g = A6(G1), g2 = A6(G2);
	struct mcast_rec r;
	struct seen s;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	h_advance(h, 0);
	assert_true(pop_mld(h, &s));
	/* RFC 3810 5.2.13: hop limit 1, Router Alert, link-local source; 5.2.14: ff02::16 */
	assert_int_equal(s.hop, 1);
	assert_true(s.ra);
	assert_memory_equal(s.src, our_ll, 16);
	assert_memory_equal(s.dst, MLDV2_ROUTERS, 16);
	assert_int_equal(s.m.type, MLD_V2_REPORT);
	assert_int_equal(s.m.n_rec, 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_EX); /* EXCLUDE{} join: CHANGE_TO_EXCLUDE_MODE (RFC 3810 6.1) */
	assert_memory_equal(r.group.v6, G1, 16);
	assert_int_equal(r.n_src, 0);
	/* robustness 2: one retransmission within the Unsolicited Report Interval, then silence */
	assert_int_equal(run_count(h, 1100 * MS, 10 * MS, &s), 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_EX);
	assert_int_equal(run_count(h, 5 * SEC, 100 * MS, NULL), 0);
	/* the groups reach the IPv6 and Ethernet checks */
	assert_true(skiff_mld_group_joined(h->st, h->ifindex, G1));
	assert_false(skiff_mld_group_joined(h->st, h->ifindex, G2));
	{
		uint8_t mac[6];
		ip6_mcast_mac(G1, mac);
		assert_true(skiff_mld_mac_joined(h->st, h->ifindex, mac));
		ip6_mcast_mac(G2, mac);
		assert_false(skiff_mld_mac_joined(h->st, h->ifindex, mac));
	}
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g2, h->now), 0);
	run_count(h, 2 * SEC, 100 * MS, NULL);
	/* close: both left with TO_IN{} records in one report */
	skiff_udp_close(h->st, sk);
	h_advance(h, 0);
	assert_true(pop_mld(h, &s));
	assert_int_equal(s.m.n_rec, 2);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_TO_IN);
	assert_int_equal(r.n_src, 0);
	run_count(h, 3 * SEC, 100 * MS, NULL);
	assert_int_equal(skiff_mcast_groups(h->st, SKIFF_AF_INET6, h->ifindex, NULL, 0), 0);
	assert_false(skiff_mld_group_joined(h->st, h->ifindex, G1));
}

static void general_query_answered(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp6_on(h, 5000);
	struct skiff_addr g = A6(G1);
	struct skiff_mcast_counters ctr;
	struct mcast_rec r;
	struct seen s;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	run_count(h, 2 * SEC, 10 * MS, NULL);
	inject_query(h, MCAST_V3, NULL, 1000); /* General Query to ff02::1, Max Resp 1 s */
	assert_int_equal(run_count(h, 1100 * MS, 10 * MS, &s), 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_IS_EX); /* current state (RFC 3810 6.2) */
	assert_memory_equal(r.group.v6, G1, 16);
	/* a Multicast-Address-Specific Query for our group (sent to the group) */
	inject_query(h, MCAST_V3, G1, 1000);
	assert_int_equal(run_count(h, 1100 * MS, 10 * MS, &s), 1);
	first_record(&s, &r);
	assert_int_equal(r.type, MCAST_IS_EX);
	/* for a group we do not have: it does not even pass the IPv6 layer */
	inject_query(h, MCAST_V3, G2, 1000);
	assert_int_equal(run_count(h, 1100 * MS, 10 * MS, NULL), 0);
	skiff_mcast_get_counters(h->st, &ctr);
	assert_int_equal(ctr.mld_queries_in, 2);
	assert_true(ctr.mld_out >= 4);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100 * MS, NULL);
}

static void v1_querier_compat(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp6_on(h, 5000);
	struct skiff_addr g = A6(G1);
	struct seen s;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	run_count(h, 2 * SEC, 10 * MS, NULL);
	inject_query(h, MCAST_V2, NULL, 1000); /* an MLDv1 querier (RFC 3810 8.2.1) */
	assert_int_equal(run_count(h, 1100 * MS, 10 * MS, &s), 1);
	assert_int_equal(s.m.type, MLD_V1_REPORT);
	assert_memory_equal(s.dst, G1, 16); /* MLDv1 reports go to the group (RFC 2710 3) */
	assert_memory_equal(s.m.group.v6, G1, 16);
	assert_true(s.ra);
	assert_int_equal(s.hop, 1);
	/* we sent the last report: leaving sends a Done to ff02::2 (RFC 2710 4) */
	skiff_udp_close(h->st, sk);
	h_advance(h, 0);
	assert_true(pop_mld(h, &s));
	assert_int_equal(s.m.type, MLD_V1_DONE);
	assert_memory_equal(s.dst, ALL_ROUTERS, 16);
	assert_memory_equal(s.m.group.v6, G1, 16);
	run_count(h, 400 * SEC, SEC, NULL); /* the Older Version Querier Present timeout runs out */
}

static void delivery_filters(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *a = udp6_on(h, 6000), *b = udp6_on(h, 6000), *c = udp6_on(h, 6000), *d = udp6_on(h, 6000);
	struct skiff_addr g = A6(G1), s1 = A6(PEER_GUA);
	uint8_t big[1200], buf[1300], from[16];
	static const uint8_t OTHER_GUA[16] = { 0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03 };

	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	/* not joined yet: not for us */
	inject_udp6(h, PEER_GUA, G1, 6000, "early", 5);
	assert_int_equal(recv6(h, a, buf, sizeof(buf), NULL), -EAGAIN);
	assert_true(h_drops(h, SKIFF_DROP_ETH_NOT_FOR_US) + h_drops(h, SKIFF_DROP_IP6_NOT_FOR_US) >= 1);

	/* a: ASM; b: ASM blocking s1; c: INCLUDE{s1}; d: no membership, IPV6_MULTICAST_ALL on */
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(a), &g, h->now), 0);
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(b), &g, h->now), 0);
	assert_int_equal(skiff_mcast_source(h->st, h->ifindex, udp_mcast_owner(b), &g, MCAST_SRC_BLOCK, &s1, h->now), 0);
	assert_int_equal(skiff_mcast_source(h->st, h->ifindex, udp_mcast_owner(c), &g, MCAST_SRC_ADD, &s1, h->now), 0);
	h_tx_flush(h);

	inject_udp6(h, PEER_GUA, G1, 6000, big, sizeof(big));
	inject_udp6(h, OTHER_GUA, G1, 6000, "from-s2", 7);
	/* a gets both, byte-exact */
	assert_int_equal(recv6(h, a, buf, sizeof(buf), from), (long)sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_memory_equal(from, PEER_GUA, 16);
	assert_int_equal(recv6(h, a, buf, sizeof(buf), from), 7);
	assert_memory_equal(buf, "from-s2", 7);
	/* b blocks s1 */
	assert_int_equal(recv6(h, b, buf, sizeof(buf), from), 7);
	assert_memory_equal(from, OTHER_GUA, 16);
	assert_int_equal(recv6(h, b, buf, sizeof(buf), NULL), -EAGAIN);
	/* c includes s1 only, byte-exact */
	assert_int_equal(recv6(h, c, buf, sizeof(buf), from), (long)sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(recv6(h, c, buf, sizeof(buf), NULL), -EAGAIN);
	/* d: Linux's IPV6_MULTICAST_ALL default takes what the interface takes */
	assert_int_equal(recv6(h, d, buf, sizeof(buf), NULL), (long)sizeof(big));
	assert_int_equal(recv6(h, d, buf, sizeof(buf), NULL), 7);
	/* IPV6_MULTICAST_ALL off: only its own memberships */
	d->mc6_noall = true;
	inject_udp6(h, PEER_GUA, G1, 6000, "again", 5);
	assert_int_equal(recv6(h, d, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(recv6(h, a, buf, sizeof(buf), NULL), 5);
	assert_int_equal(recv6(h, c, buf, sizeof(buf), NULL), 5);
	assert_int_equal(recv6(h, b, buf, sizeof(buf), NULL), -EAGAIN);
	/* another port: none of them */
	inject_udp6(h, PEER_GUA, G1, 6001, "x", 1);
	assert_int_equal(recv6(h, a, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_udp_close(h->st, a);
	skiff_udp_close(h->st, b);
	skiff_udp_close(h->st, c);
	/* everyone left: the group is not ours any more */
	d->mc6_noall = false;
	inject_udp6(h, PEER_GUA, G1, 6000, "late", 4);
	assert_int_equal(recv6(h, d, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_udp_close(h->st, d);
	run_count(h, 3 * SEC, 100 * MS, NULL);
}

/* The next transmitted UDP-over-IPv6 frame (skipping MLD and ND). */
static bool pop_udp6(struct harness *h, uint8_t *hop, uint8_t *dst)
{
	struct skiff_pkt *p;
	while ((p = h_tx_pop(h))) {
		const uint8_t *f = skiff_pkt_data(p);
		bool ok = ld16(f + 12) == ETH_TYPE_IP6 && f[ETH_HDR_LEN + 6] == IP6_NH_UDP;
		if (ok) {
			*hop = f[ETH_HDR_LEN + 7];
			memcpy(dst, f + ETH_HDR_LEN + 24, 16);
			assert_int_equal(f[0], 0x33);
			assert_memory_equal(f + 2, dst + 12, 4);
		}
		skiff_pkt_free(p);
		if (ok)
			return true;
	}
	return false;
}

static void loop_and_if(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *member = udp6_on(h, 7000), *sender = udp6_on(h, 7001);
	struct skiff_addr g = A6(G1), d = A6(G1);
	uint8_t buf[4000], big[3000], hop, dst[16], from[16];
	struct iovec iov = { (void *)"looped", 6 };

	assert_int_equal(skiff_stack_add_addr6(h->st, h->ifindex, OUR_GUA, 64, h->now), 0);
	h_advance(h, 10 * MS);
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(member), &g, h->now), 0);
	h_advance(h, 0);
	h_tx_flush(h);
	/* IPV6_MULTICAST_LOOP on (default): on the wire with hop limit 1, and looped to the member */
	assert_int_equal(skiff_udp_send(h->st, sender, &iov, 1, &d, 7000, 0, h->now), 6);
	assert_true(pop_udp6(h, &hop, dst));
	assert_int_equal(hop, 1); /* IPV6_MULTICAST_HOPS default */
	assert_memory_equal(dst, G1, 16);
	h_advance(h, 0);
	assert_int_equal(recv6(h, member, buf, sizeof(buf), from), 6);
	assert_memory_equal(buf, "looped", 6);
	/* a datagram in fragments loops whole, byte-exact */
	for (unsigned i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	iov.iov_base = big;
	iov.iov_len = sizeof(big);
	assert_int_equal(skiff_udp_send(h->st, sender, &iov, 1, &d, 7000, 0, h->now), (long)sizeof(big));
	h_advance(h, 0);
	assert_int_equal(recv6(h, member, buf, sizeof(buf), NULL), (long)sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	h_tx_flush(h);
	/* IPV6_MULTICAST_LOOP off: the wire only */
	sender->mc6_noloop = true;
	iov.iov_base = (void *)"quiet";
	iov.iov_len = 5;
	assert_int_equal(skiff_udp_send(h->st, sender, &iov, 1, &d, 7000, 0, h->now), 5);
	assert_true(pop_udp6(h, &hop, dst));
	h_advance(h, 0);
	assert_int_equal(recv6(h, member, buf, sizeof(buf), NULL), -EAGAIN);
	/* IPV6_MULTICAST_IF names the interface; IPV6_MULTICAST_HOPS is used */
	sender->mc6_if = h->ifindex + 1;
	sender->mcast_hops = 7;
	assert_int_equal(skiff_udp_send(h->st, sender, &iov, 1, &d, 7000, 0, h->now), 5);
	assert_true(pop_udp6(h, &hop, dst));
	assert_int_equal(hop, 7);
	/* a group nobody here joined is not looped even with loop on */
	sender->mc6_noloop = false;
	d = A6(G2);
	assert_int_equal(skiff_udp_send(h->st, sender, &iov, 1, &d, 7000, 0, h->now), 5);
	h_advance(h, 0);
	assert_int_equal(recv6(h, member, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_udp_close(h->st, member);
	skiff_udp_close(h->st, sender);
	run_count(h, 3 * SEC, 100 * MS, NULL);
}

/* RFC 4861 7.2.1 / RFC 4862 5.4.2: the solicited-node group of each address is
 * joined (and reported) with mld_join_solicited on, and left with the address. */
static void solicited_node_groups(void **state)
{
	struct harness *h = *state;
	uint8_t sn_ll[16], sn_gua[16];
	struct mcast_rec r;
	struct seen s;
	unsigned n = 0;
	bool saw_gua = false;

	ip6_solicited_node(our_ll, sn_ll);
	ip6_solicited_node(OUR_GUA, sn_gua);
	assert_true(skiff_mld_group_joined(h->st, h->ifindex, sn_ll));
	assert_int_equal(skiff_stack_add_addr6(h->st, h->ifindex, OUR_GUA, 64, h->now), 0);
	for (int i = 0; i < 300; i++) {
		h_advance(h, 10 * MS);
		while (pop_mld(h, &s)) {
			n++;
			first_record(&s, &r);
			if (!memcmp(r.group.v6, sn_gua, 16))
				saw_gua = true;
		}
	}
	assert_true(n >= 1);
	assert_true(saw_gua);
	assert_true(skiff_mld_group_joined(h->st, h->ifindex, sn_gua));
	/* an NS to the group passes the IPv6 layer (dst_ours) through its MAC as well */
	{
		uint8_t mac[6];
		ip6_mcast_mac(sn_gua, mac);
		assert_true(skiff_mld_mac_joined(h->st, h->ifindex, mac));
	}
	assert_int_equal(skiff_stack_del_addr6(h->st, h->ifindex, OUR_GUA), 0); /* leaves at once */
	assert_false(skiff_mld_group_joined(h->st, h->ifindex, sn_gua) && memcmp(sn_gua, sn_ll, 16));
	h_advance(h, 0);
	{
		struct seen s2;
		struct mcast_rec r2;
		assert_true(pop_mld(h, &s2)); /* the leave: TO_IN{} for the group */
		first_record(&s2, &r2);
		assert_memory_equal(r2.group.v6, sn_gua, 16);
		assert_int_equal(r2.type, MCAST_TO_IN);
	}
	assert_true(skiff_mld_group_joined(h->st, h->ifindex, sn_ll));
	run_count(h, 3 * SEC, 100 * MS, NULL);
}

static void every_mld_drop(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp6_on(h, 5000);
	struct skiff_addr g = A6(G1);
	struct skiff_pkt *held[9000];
	unsigned nheld = 0;
	uint8_t m[64], f[2048];
	struct mcast_query q;
	int n;

	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	run_count(h, 2 * SEC, 100 * MS, NULL);
	memset(&q, 0, sizeof(q));
	q.version = MCAST_V2;
	q.alen = 16;
	q.max_resp_ms = 1000;
	q.group.family = SKIFF_AF_INET6;
	/* shorter than 8 bytes: ICMPv6's own check (icmp6.c) comes first */
	memset(m, 0, sizeof(m));
	m[0] = MLD_QUERY;
	inject_mld(h, PEER_LL, ALL_NODES, 1, true, m, 6);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP6_SHORT), 1);
	/* hop limit 255 */
	n = mld_build_query(m, sizeof(m), &q);
	inject_mld(h, PEER_LL, ALL_NODES, 255, true, m, (size_t)n);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_BAD_HOPLIMIT), 1);
	/* no Router Alert */
	n = mld_build_query(m, sizeof(m), &q);
	inject_mld(h, PEER_LL, ALL_NODES, 1, false, m, (size_t)n);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_NO_RA), 1);
	/* a query from a global address */
	n = mld_build_query(m, sizeof(m), &q);
	inject_mld(h, PEER_GUA, ALL_NODES, 1, true, m, (size_t)n);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_BAD_SRC), 1);
	/* a report from :: is fine (RFC 3810 5.2.13), one from a global address is not */
	n = mld_build_v1(m, sizeof(m), MLD_V1_REPORT, G1);
	inject_mld(h, PEER_GUA, G1, 1, true, m, (size_t)n);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_BAD_SRC), 2);
	/* 26 bytes: no version has it (RFC 3810 8.1) */
	memset(m, 0, sizeof(m));
	m[0] = MLD_QUERY;
	inject_mld(h, PEER_LL, ALL_NODES, 1, true, m, 26);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_BAD_LEN), 1);
	/* an MLDv1 report of a unicast address */
	n = mld_build_v1(m, sizeof(m), MLD_V1_REPORT, G1);
	memcpy(m + 8, PEER_GUA, 16);
	inject_mld(h, PEER_LL, ALL_NODES, 1, true, m, (size_t)n);
	assert_int_equal(h_drops(h, SKIFF_DROP_MLD_BAD_GROUP), 1);
	/* an MLDv2 query in two fragments: Hop-by-Hop (Router Alert), Fragment, ICMPv6 */
	{
		struct ip6_repr ip;
		uint8_t msg[28];
		q.version = MCAST_V3;
		n = mld_build_query(msg, sizeof(msg), &q);
		assert_int_equal(n, 28);
		mld_set_csum(msg, 28, PEER_LL, ALL_NODES);
		for (int part = 0; part < 2; part++) {
			size_t off = ETH_HDR_LEN + IP6_HDR_LEN, l4 = part ? 12 : 16;
			const uint8_t hbh[8] = { IP6_NH_FRAGMENT, 0, 5, 2, 0, 0, 1, 0 };
			uint8_t mac[6];
			ip6_mcast_mac(ALL_NODES, mac);
			fb_eth(f, mac, h_peer_mac, ETH_TYPE_IP6);
			memset(&ip, 0, sizeof(ip));
			ip.version = 6;
			ip.payload_len = (uint16_t)(8 + 8 + l4);
			ip.next_hdr = IP6_NH_HOPOPTS;
			ip.hop_limit = 1;
			ip.src = A6(PEER_LL);
			ip.dst = A6(ALL_NODES);
			ip6_emit(f + ETH_HDR_LEN, &ip);
			memcpy(f + off, hbh, 8);
			f[off + 8] = IP6_NH_ICMP6;
			f[off + 9] = 0;
			st16(f + off + 10, (uint16_t)(part ? 16 : 1)); /* offset 16 bytes, or 0 with M */
			st32(f + off + 12, 0x4d4c4421u);
			memcpy(f + off + 16, msg + (part ? 16 : 0), l4);
			h_inject(h, f, off + 16 + l4);
		}
		assert_int_equal(h_drops(h, SKIFF_DROP_MLD_FRAGMENTED), 1);
	}
	/* no frame for the report */
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100 * MS, NULL);
	sk = udp6_on(h, 5000);
	while (nheld < 9000 && (held[nheld] = skiff_pool_get(skiff_mempool_pool(h->mp))))
		nheld++;
	assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	h_advance(h, 0);
	assert_true(h_drops(h, SKIFF_DROP_MLD_NO_BUF) >= 1);
	for (unsigned i = 0; i < nheld; i++)
		skiff_pkt_free(held[i]);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100 * MS, NULL);
	/* every MLD_* reason was reached */
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		if (!strncmp(skiff_drop_name((enum skiff_drop_reason)r), "MLD_", 4)) {
			if (h_drops(h, (enum skiff_drop_reason)r) == 0)
				print_error("MLD drop %s not reached\n", skiff_drop_name((enum skiff_drop_reason)r));
			assert_true(h_drops(h, (enum skiff_drop_reason)r) >= 1);
		}
}

static void query_flood_bounded(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = udp6_on(h, 8000);
	struct mcast_member_stats ms;
	struct mcast_member *m;
	uint8_t groups[4][16], buf[64];
	unsigned out, taken = 0;

	for (unsigned k = 0; k < 4; k++) {
		struct skiff_addr g;
		memcpy(groups[k], G1, 16);
		groups[k][15] = (uint8_t)(0x40 + k);
		g = A6(groups[k]);
		assert_int_equal(skiff_mcast_join(h->st, h->ifindex, udp_mcast_owner(sk), &g, h->now), 0);
	}
	run_count(h, 2 * SEC, 10 * MS, NULL);
	m = skiff_mcast_engine(h->st, SKIFF_AF_INET6, h->ifindex, false, NULL);
	assert_non_null(m);
	/* 100k MLDv2 queries, General and Multicast-Address-Specific (one in five for a
	 * group not joined, which never passes the IPv6 layer), 1 µs apart */
	for (unsigned i = 0; i < 100000; i++) {
		uint8_t other[16];
		const uint8_t *grp = NULL;
		memcpy(other, G1, 16);
		other[15] = 0x4f;
		if (i % 3) {
			grp = i % 5 == 4 ? other : groups[i % 5 % 4];
			taken += i % 5 != 4;
		} else {
			taken++;
		}
		inject_query(h, MCAST_V3, grp, 10000);
		h->now += 1000;
		if (i % 1000 == 0) {
			mcast_member_get_stats(m, &ms);
			assert_true(ms.pending <= 4 + 1); /* one General response + one per group at most */
			assert_true(h_tx_count(h) < 64);
		}
	}
	mcast_member_get_stats(m, &ms);
	assert_int_equal(ms.queries, taken);
	assert_int_equal(ms.groups, 4);
	out = run_count(h, 11 * SEC, 10 * MS, NULL);
	assert_true(out >= 1);
	assert_true(out <= 5);
	/* and traffic still flows */
	inject_udp6(h, PEER_GUA, groups[2], 8000, "still", 5);
	assert_int_equal(recv6(h, sk, buf, sizeof(buf), NULL), 5);
	skiff_udp_close(h->st, sk);
	run_count(h, 3 * SEC, 100 * MS, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(join_sends_v2_reports, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(general_query_answered, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(v1_querier_compat, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(delivery_filters, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(loop_and_if, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(solicited_node_groups, hsetup_sol, hteardown),
		cmocka_unit_test_setup_teardown(every_mld_drop, hsetup, hteardown),
		cmocka_unit_test_setup_teardown(query_flood_bounded, hsetup, hteardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
