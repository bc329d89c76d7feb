/* test_arp.c — ARP (RFC 826) and the neighbour cache (RFC 1122 2.3.2):
 * replies byte-exact against scapy vectors, the gratuitous ARP on a new address,
 * the INCOMPLETE → REACHABLE → STALE → PROBE → gone state machine with exact
 * request counts and times, resolution failure reported to a connected socket,
 * the hold queue and table bounds, the reply rate limit, and every malformed
 * input class. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/neigh.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define SEC 1000000000ull

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO[6] = { 0 };
static const uint8_t mac3[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static struct harness H;

static int setup_cfg(void **state, const struct skiff_stack_config *c)
{
	assert_int_equal(h_init(&H, c), 0);
	*state = &H;
	return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int setup_tiny_table(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.neigh_entries = 2;
	return setup_cfg(state, &c);
}

static int setup_tiny_hold(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.neigh_hold_total = 4;
	return setup_cfg(state, &c);
}

static int setup_rate1(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.arp_reply_rate = 1; /* burst 1/10 + 1 = 1 */
	return setup_cfg(state, &c);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	h_tx_flush(h);
	h_fini(h);
	return 0;
}

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

static struct skiff_udp_sock *sock_any(struct harness *h)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr any = skiff_addr_v4(0);
	assert_non_null(sk);
	assert_int_equal(skiff_udp_bind(h->st, sk, &any, 0), 0);
	return sk;
}

static long send_str(struct harness *h, struct skiff_udp_sock *sk, uint32_t dst, const char *s)
{
	struct iovec iov = { (void *)s, strlen(s) };
	struct skiff_addr d = skiff_addr_v4(dst);
	return skiff_udp_send(h->st, sk, &iov, 1, &d, 7777, 0, h->now);
}

/* Pop the next frame; it must be ARP. Returns its parsed body and Ethernet dst. */
static void pop_arp(struct harness *h, struct arp_repr *a, uint8_t eth_dst[6])
{
	struct skiff_pkt *p = h_tx_pop(h);
	struct view v;
	assert_non_null(p);
	assert_int_equal(p->len, ETH_HDR_LEN + ARP_LEN);
	assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_ARP);
	assert_memory_equal(skiff_pkt_data(p) + 6, h_local_mac, 6);
	memcpy(eth_dst, skiff_pkt_data(p), 6);
	v = view_make(skiff_pkt_data(p) + ETH_HDR_LEN, ARP_LEN);
	assert_int_equal(arp_parse(&v, a), 0);
	skiff_pkt_free(p);
}

/* Expect a broadcast (unicast=false) or unicast-to-peer ARP request for ip. */
static void expect_request(struct harness *h, uint32_t ip, bool unicast)
{
	struct arp_repr a;
	uint8_t dst[6];
	pop_arp(h, &a, dst);
	assert_int_equal(a.op, ARP_OP_REQUEST);
	assert_memory_equal(dst, unicast ? h_peer_mac : BCAST, 6);
	assert_memory_equal(a.sha, h_local_mac, 6);
	assert_int_equal(a.spa, H_LOCAL_IP);
	assert_memory_equal(a.tha, ZERO, 6);
	assert_int_equal(a.tpa, ip);
}

/* Pop the next frame; it must be a UDP/IPv4 frame to the peer's MAC carrying s. */
static void expect_udp(struct harness *h, const uint8_t *mac, const char *s)
{
	struct skiff_pkt *p = h_tx_pop(h);
	const uint8_t *d;
	size_t n = strlen(s);
	assert_non_null(p);
	d = skiff_pkt_data(p);
	assert_memory_equal(d, mac, 6);
	assert_int_equal(ld16(d + 12), ETH_TYPE_IP4);
	assert_int_equal(d[14 + 9], 17);
	assert_int_equal(p->len, 14 + 20 + 8 + n);
	assert_memory_equal(d + 42, s, n);
	skiff_pkt_free(p);
}

static void inject_arp(struct harness *h, uint16_t op, const uint8_t *sha, uint32_t spa, const uint8_t *tha,
		       uint32_t tpa, const uint8_t *eth_dst)
{
	uint8_t f[64];
	h_inject(h, f, fb_arp(f, op, sha, spa, tha, tpa, eth_dst));
}

static void test_request_for_us_reply_exact(void **state)
{
	struct harness *h = *state;
	struct skiff_pkt *p;
	uint8_t mac[6], padded[60];

	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, sizeof(frame_arp_reply_expected));
	assert_memory_equal(skiff_pkt_data(p), frame_arp_reply_expected, sizeof(frame_arp_reply_expected));
	skiff_pkt_free(p);
	assert_null(h_tx_pop(h));
	assert_int_equal(h->st->ctr.arp_in, 1);
	assert_int_equal(h->st->ctr.arp_reply_out, 1);
	assert_int_equal(total_drops(h), 0);
	/* we were the target, so the sender was added — STALE, not confirmed by us */
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, mac), SKIFF_NEIGH_STALE);
	assert_memory_equal(mac, h_peer_mac, 6);

	/* the same request padded to the Ethernet minimum gets the same reply */
	memset(padded, 0xaa, sizeof(padded));
	memcpy(padded, frame_arp_request, sizeof(frame_arp_request));
	h_inject(h, padded, sizeof(padded));
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, sizeof(frame_arp_reply_expected));
	assert_memory_equal(skiff_pkt_data(p), frame_arp_reply_expected, sizeof(frame_arp_reply_expected));
	skiff_pkt_free(p);
	assert_int_equal(total_drops(h), 0);
}

static void test_request_not_for_us(void **state)
{
	struct harness *h = *state;
	uint8_t mac[6];

	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_OTHER_IP, BCAST);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_NOT_FOR_US), 1);
	assert_int_equal(total_drops(h), 1);
	/* RFC 826: not the target → merge only, never add */
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);

	/* ...but an existing entry is updated (merge), even from a request not for us */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	h_tx_flush(h);
	inject_arp(h, ARP_OP_REQUEST, mac3, H_PEER_IP, ZERO, H_OTHER_IP, BCAST);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_NOT_FOR_US), 2);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, mac), SKIFF_NEIGH_STALE);
	assert_memory_equal(mac, mac3, 6);
	/* a reply to somebody else: dropped the same way, no reply of course */
	inject_arp(h, ARP_OP_REPLY, h_peer_mac, H_PEER_IP, mac3, H_OTHER_IP, mac3);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_NOT_FOR_US), 2); /* not for our MAC: dropped at Ethernet */
	assert_int_equal(h_drops(h, SKIFF_DROP_ETH_NOT_FOR_US), 1);
	inject_arp(h, ARP_OP_REPLY, h_peer_mac, H_PEER_IP, mac3, H_OTHER_IP, BCAST);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_NOT_FOR_US), 3);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_gratuitous_on_add_addr(void **state)
{
	struct harness *h = *state;
	struct skiff_pkt *p;
	uint64_t req = h->st->ctr.arp_req_out;

	assert_int_equal(skiff_stack_add_addr4(h->st, h->ifindex, 0xc6120009u, 24, h->now), 0);
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(p->len, sizeof(frame_arp_garp_expected));
	assert_memory_equal(skiff_pkt_data(p), frame_arp_garp_expected, sizeof(frame_arp_garp_expected));
	skiff_pkt_free(p);
	assert_null(h_tx_pop(h));
	assert_int_equal(h->st->ctr.arp_req_out, req + 1);
	/* a failed add sends nothing */
	assert_int_equal(skiff_stack_add_addr4(h->st, h->ifindex, 0xc6120009u, 24, h->now), -EEXIST);
	assert_int_equal(h_tx_count(h), 0);
	/* the new address answers ARP too */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, 0xc6120009u, BCAST);
	{
		struct arp_repr a;
		uint8_t dst[6];
		pop_arp(h, &a, dst);
		assert_int_equal(a.op, ARP_OP_REPLY);
		assert_int_equal(a.spa, 0xc6120009u);
		assert_memory_equal(dst, h_peer_mac, 6);
	}
}

static void test_state_machine(void **state)
{
	struct harness *h = *state;
	const struct skiff_stack_config *c = &h->st->cfg;
	struct skiff_udp_sock *sk = sock_any(h);
	uint8_t mac[6];

	/* first use: INCOMPLETE, one broadcast request, the datagram held */
	assert_int_equal(send_str(h, sk, H_PEER_IP, "one"), 3);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_INCOMPLETE);
	expect_request(h, H_PEER_IP, false);
	assert_null(h_tx_pop(h));
	assert_int_equal(skiff_neigh_held(h->st), 1);
	/* the caller is told when to poll: the retransmit */
	assert_int_equal(skiff_stack_next_deadline(h->st), h->now + c->arp_retrans_ns);

	/* the reply: REACHABLE, the held datagram released to the learned MAC */
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, mac), SKIFF_NEIGH_REACHABLE);
	assert_memory_equal(mac, h_peer_mac, 6);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	expect_udp(h, h_peer_mac, "one");
	assert_null(h_tx_pop(h));

	/* REACHABLE: sends go straight out */
	assert_int_equal(send_str(h, sk, H_PEER_IP, "two"), 3);
	expect_udp(h, h_peer_mac, "two");
	assert_null(h_tx_pop(h));

	/* neigh_reachable_ns later: STALE (not a nanosecond before) */
	h_advance(h, c->neigh_reachable_ns - 1);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
	h_advance(h, 1);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_STALE);
	assert_int_equal(h_tx_count(h), 0);

	/* use while STALE: PROBE, a unicast request, and the datagram still goes out */
	assert_int_equal(send_str(h, sk, H_PEER_IP, "three"), 5);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_PROBE);
	expect_request(h, H_PEER_IP, true);
	expect_udp(h, h_peer_mac, "three");
	assert_null(h_tx_pop(h));

	/* unanswered: arp_retries unicast requests in all, one per arp_retrans_ns */
	for (unsigned i = 1; i < c->arp_retries; i++) {
		h_advance(h, c->arp_retrans_ns - 1);
		assert_int_equal(h_tx_count(h), 0);
		h_advance(h, 1);
		assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_PROBE);
		expect_request(h, H_PEER_IP, true);
		assert_null(h_tx_pop(h));
	}
	/* then the entry is removed; nothing else is sent */
	h_advance(h, c->arp_retrans_ns);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNRESOLVED), 0); /* nothing was held */

	/* the next use resolves afresh */
	assert_int_equal(send_str(h, sk, H_PEER_IP, "four"), 4);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_INCOMPLETE);
	expect_request(h, H_PEER_IP, false);
	assert_null(h_tx_pop(h));
	skiff_udp_close(h->st, sk);
}

static void test_probe_confirmed(void **state)
{
	struct harness *h = *state;
	const struct skiff_stack_config *c = &h->st->cfg;
	struct skiff_udp_sock *sk = sock_any(h);

	h_learn_peer(h); /* STALE from the peer's request */
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_STALE);
	assert_int_equal(send_str(h, sk, H_PEER_IP, "x"), 1);
	expect_request(h, H_PEER_IP, true);
	expect_udp(h, h_peer_mac, "x");
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_PROBE);
	/* the peer answers the probe: REACHABLE again, no more probes */
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
	h_advance(h, c->arp_retrans_ns * (c->arp_retries + 1));
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
	/* unused STALE entries are collected after neigh_gc_ns */
	h_advance(h, c->neigh_reachable_ns);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_STALE);
	h_advance(h, c->neigh_gc_ns);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(h_tx_count(h), 0);
	skiff_udp_close(h->st, sk);
}

static void test_resolution_failure(void **state)
{
	struct harness *h = *state;
	const struct skiff_stack_config *c = &h->st->cfg;
	struct skiff_udp_sock *sk = sock_any(h), *uc = sock_any(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	uint8_t buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	uint64_t t0;

	assert_int_equal(skiff_udp_connect(h->st, sk, &peer, 9, h->now), 0);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "held", 4 }, 1, NULL, 0, 0, h->now), 4);
	assert_int_equal(send_str(h, uc, H_PEER_IP, "unconnected"), 11); /* same neighbour, unconnected */
	assert_int_equal(skiff_neigh_held(h->st), 2);
	t0 = h->now;
	/* exactly arp_retries broadcast requests, arp_retrans_ns apart */
	expect_request(h, H_PEER_IP, false);
	for (unsigned i = 1; i < c->arp_retries; i++) {
		h_advance(h, c->arp_retrans_ns);
		expect_request(h, H_PEER_IP, false);
		assert_null(h_tx_pop(h));
		assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_INCOMPLETE);
		assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNRESOLVED), 0);
	}
	/* one more retransmit interval: give up */
	h_advance(h, c->arp_retrans_ns);
	assert_int_equal(h->now - t0, c->arp_retries * c->arp_retrans_ns);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNRESOLVED), 2);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(h_tx_count(h), 0); /* the host unreachable is delivered locally, not sent */
	assert_int_equal(h->st->ctr.icmp_out, 0);

	/* the connected socket sees EHOSTUNREACH once, on recv */
	assert_true(skiff_udp_events(sk) & SKIFF_EV_ERR);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EHOSTUNREACH);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	assert_false(skiff_udp_events(sk) & SKIFF_EV_ERR);
	/* the unconnected one sees nothing (Linux without IP_RECVERR) */
	assert_int_equal(uc->err, 0);
	assert_int_equal(skiff_udp_recv(h->st, uc, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);

	/* again, and this time the error is picked up by send */
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "held", 4 }, 1, NULL, 0, 0, h->now), 4);
	for (unsigned i = 0; i < c->arp_retries; i++)
		h_advance(h, c->arp_retrans_ns);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNRESOLVED), 3);
	h_tx_flush(h);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "next", 4 }, 1, NULL, 0, 0, h->now),
			 -EHOSTUNREACH);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "next", 4 }, 1, NULL, 0, 0, h->now), 4);
	skiff_udp_close(h->st, sk);
	skiff_udp_close(h->st, uc);
}

static void test_hold_queue_bound(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_any(h);
	char msg[4];
	unsigned per = h->st->cfg.neigh_hold_per_entry;

	assert_int_equal(per, 8);
	for (unsigned i = 0; i < per + 2; i++) {
		msg[0] = 'a';
		msg[1] = (char)('0' + i);
		msg[2] = 0;
		assert_int_equal(send_str(h, sk, H_PEER_IP, msg), 2);
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 2);
	assert_int_equal(skiff_neigh_held(h->st), per);
	expect_request(h, H_PEER_IP, false);
	assert_null(h_tx_pop(h));
	/* resolution releases the newest `per`, in order: the two oldest were dropped */
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	for (unsigned i = 2; i < per + 2; i++) {
		msg[1] = (char)('0' + i);
		expect_udp(h, h_peer_mac, msg);
	}
	assert_null(h_tx_pop(h));
	assert_int_equal(skiff_neigh_held(h->st), 0);
	skiff_udp_close(h->st, sk);
}

/* neigh_hold_total = 4: the total bound, with and without an own packet to drop. */
static void test_hold_total_bound(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_any(h);
	const uint32_t n3 = 0xc6120003u, n4 = 0xc6120004u;

	assert_int_equal(send_str(h, sk, H_PEER_IP, "p1"), 2);
	assert_int_equal(send_str(h, sk, H_PEER_IP, "p2"), 2);
	assert_int_equal(send_str(h, sk, H_PEER_IP, "p3"), 2);
	assert_int_equal(send_str(h, sk, n3, "q1"), 2);
	assert_int_equal(skiff_neigh_held(h->st), 4);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 0);
	/* full: .3 has a packet of its own, its oldest goes */
	assert_int_equal(send_str(h, sk, n3, "q2"), 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 1);
	assert_int_equal(skiff_neigh_held(h->st), 4);
	/* full: .4 has nothing to give up, the new packet goes */
	assert_int_equal(send_str(h, sk, n4, "r1"), 2);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 2);
	assert_int_equal(skiff_neigh_held(h->st), 4);
	h_tx_flush(h);
	/* .3 resolves: only q2 comes out */
	inject_arp(h, ARP_OP_REPLY, mac3, n3, h_local_mac, H_LOCAL_IP, h_local_mac);
	expect_udp(h, mac3, "q2");
	assert_null(h_tx_pop(h));
	assert_int_equal(skiff_neigh_held(h->st), 3);
	/* the bound is in frames: a datagram of 5 fragments can never be held; one of
	 * 3 first makes its own entry give up its oldest datagram, then is dropped
	 * itself when that is not enough */
	{
		static uint8_t big[5 * 1480];
		struct iovec iov = { big, sizeof(big) };
		struct skiff_addr n5 = skiff_addr_v4(0xc6120005u);
		h_tx_flush(h);
		assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &n5, 9, 0, h->now), (long)sizeof(big));
		assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 3);
		assert_int_equal(skiff_neigh_held(h->st), 3);
		iov.iov_len = 3 * 1480 - 8;
		assert_int_equal(send_str(h, sk, 0xc6120005u, "s1"), 2);
		assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 3);
		assert_int_equal(skiff_neigh_held(h->st), 4);
		assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &n5, 9, 0, h->now), (long)iov.iov_len);
		/* s1 went (n5's oldest); still over: the new datagram is dropped too */
		assert_int_equal(h_drops(h, SKIFF_DROP_ARP_HOLD_FULL), 5);
		assert_int_equal(skiff_neigh_held(h->st), 3);
	}
	skiff_udp_close(h->st, sk);
}

/* neigh_entries = 2. */
static void test_table_full(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_any(h);
	const uint32_t a3 = 0xc6120003u, a4 = 0xc6120004u, a5 = 0xc6120005u, a6 = 0xc6120006u;
	int n_none = 0;

	/* two STALE entries from requests for us */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	inject_arp(h, ARP_OP_REQUEST, mac3, a3, ZERO, H_LOCAL_IP, BCAST);
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_STALE);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, a3, NULL), SKIFF_NEIGH_STALE);
	/* a new neighbour recycles a STALE one */
	assert_int_equal(send_str(h, sk, a4, "x"), 1);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, a4, NULL), SKIFF_NEIGH_INCOMPLETE);
	n_none += skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL) == SKIFF_NEIGH_NONE;
	n_none += skiff_neigh_lookup4(h->st, h->ifindex, a3, NULL) == SKIFF_NEIGH_NONE;
	assert_int_equal(n_none, 1);
	/* and the other */
	assert_int_equal(send_str(h, sk, a5, "y"), 1);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, a5, NULL), SKIFF_NEIGH_INCOMPLETE);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, a3, NULL), SKIFF_NEIGH_NONE);
	h_tx_flush(h);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_TABLE_FULL), 0);
	/* with only INCOMPLETE entries left, the oldest is recycled (its held datagram
	 * is a TABLE_FULL drop), so unanswered addresses cannot lock the table */
	assert_int_equal(send_str(h, sk, a6, "z"), 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_TABLE_FULL), 1);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, a6, NULL), SKIFF_NEIGH_INCOMPLETE);
	n_none = (skiff_neigh_lookup4(h->st, h->ifindex, a4, NULL) == SKIFF_NEIGH_NONE) +
		 (skiff_neigh_lookup4(h->st, h->ifindex, a5, NULL) == SKIFF_NEIGH_NONE);
	assert_int_equal(n_none, 1);
	assert_int_equal(h_tx_count(h), 1); /* the request for a6 */
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_held(h->st), 2);
	/* a request for us from a new sender is answered and cached, recycling again */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	{
		struct arp_repr a;
		uint8_t dst[6];
		pop_arp(h, &a, dst);
		assert_int_equal(a.op, ARP_OP_REPLY);
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_TABLE_FULL), 2);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_STALE);
	assert_int_equal(skiff_neigh_held(h->st), 1);
	skiff_udp_close(h->st, sk);
}

/* arp_reply_rate = 1/s, burst 1. */
static void test_reply_rate_limit(void **state)
{
	struct harness *h = *state;
	for (int i = 0; i < 3; i++)
		h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	assert_int_equal(h_tx_count(h), 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_REPLY_LIMITED), 2);
	assert_int_equal(h->st->ctr.arp_reply_out, 1);
	h_tx_flush(h);
	h_advance(h, 999999999ull);
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_REPLY_LIMITED), 3);
	h_advance(h, 1);
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	assert_int_equal(h_tx_count(h), 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_REPLY_LIMITED), 3);
	/* replies (not requests) from the peer are not limited: nothing to send */
	h_tx_flush(h);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_REPLY_LIMITED), 3);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
}

static void test_malformed(void **state)
{
	struct harness *h = *state;
	uint8_t f[64];
	size_t n;

	/* ARP_SHORT: 27 bytes of ARP */
	n = fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	h_inject(h, f, n - 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_SHORT), 1);
	h_inject(h, f, ETH_HDR_LEN);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_SHORT), 2);

	/* ARP_UNSUPPORTED: htype 6 (IEEE 802), ptype IPv6, hlen 8, plen 16 */
	f[14 + 1] = 6;
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNSUPPORTED), 1);
	fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	st16(f + 14 + 2, 0x86dd);
	h_inject(h, f, n);
	fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	f[14 + 4] = 8;
	h_inject(h, f, n);
	fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	f[14 + 5] = 16;
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNSUPPORTED), 4);

	/* ARP_BAD_OP: 0, 3 (RARP request), 0x100 */
	fb_arp(f, 3, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	h_inject(h, f, n);
	fb_arp(f, 0, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	h_inject(h, f, n);
	fb_arp(f, 0x100, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_BAD_OP), 3);

	/* ARP_BAD_SENDER: the Ethernet source is a good unicast; the ARP sender is not */
	static const uint8_t bad_sha[][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 }, /* multicast */
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, /* IPv6 multicast */
		{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, /* broadcast */
		{ 0, 0, 0, 0, 0, 0 },                   /* zero */
	};
	for (size_t i = 0; i < sizeof(bad_sha) / sizeof(bad_sha[0]); i++) {
		fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, ZERO, H_LOCAL_IP, BCAST);
		memcpy(f + 14 + 8, bad_sha[i], 6);
		h_inject(h, f, n);
		assert_int_equal(h_drops(h, SKIFF_DROP_ARP_BAD_SENDER), i + 1);
	}
	/* a sender claiming our own address (conflict), as request and as reply */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, H_LOCAL_IP, ZERO, H_LOCAL_IP, BCAST);
	inject_arp(h, ARP_OP_REPLY, h_peer_mac, H_LOCAL_IP, h_local_mac, H_LOCAL_IP, h_local_mac);
	/* multicast and broadcast sender addresses */
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, 0xe0000001u, ZERO, H_LOCAL_IP, BCAST);
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, 0xffffffffu, ZERO, H_LOCAL_IP, BCAST);
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_BAD_SENDER), 8);

	/* nothing answered, nothing cached, nothing else counted */
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_LOCAL_IP, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(total_drops(h), 2 + 4 + 3 + 8);
	assert_int_equal(h->st->ctr.arp_reply_out, 0);
}

/* A request from a neighbour we are resolving also resolves it: held packets go. */
static void test_request_resolves_incomplete(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_any(h);
	assert_int_equal(send_str(h, sk, H_PEER_IP, "held"), 4);
	expect_request(h, H_PEER_IP, false);
	h_inject(h, frame_arp_request, sizeof(frame_arp_request));
	assert_int_not_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_INCOMPLETE);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	/* the released datagram, then our reply (or the other way round) */
	for (int i = 0; i < 2; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		assert_non_null(p);
		if (ld16(skiff_pkt_data(p) + 12) == ETH_TYPE_ARP) {
			assert_memory_equal(skiff_pkt_data(p), frame_arp_reply_expected, sizeof(frame_arp_reply_expected));
		} else {
			assert_memory_equal(skiff_pkt_data(p), h_peer_mac, 6);
			assert_memory_equal(skiff_pkt_data(p) + 42, "held", 4);
		}
		skiff_pkt_free(p);
	}
	assert_null(h_tx_pop(h));
	skiff_udp_close(h->st, sk);
}

/* A fragmented datagram is held as one datagram (its frames count against
 * neigh_hold_total) and released as all its fragments; when resolution fails
 * every frame returns to the pool. */
static void test_hold_fragmented(void **state)
{
	struct harness *h = *state;
	const struct skiff_stack_config *c = &h->st->cfg;
	struct skiff_udp_sock *sk = sock_any(h);
	static uint8_t big[4000];
	struct iovec iov = { big, sizeof(big) };
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), other = skiff_addr_v4(H_OTHER_IP);
	unsigned avail = skiff_mempool_avail(h->mp);

	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &peer, 9, 0, h->now), 4000);
	assert_int_equal(skiff_neigh_held(h->st), 3);
	expect_request(h, H_PEER_IP, false);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	assert_int_equal(h_tx_count(h), 3);
	for (int i = 0; i < 3; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		assert_memory_equal(skiff_pkt_data(p), h_peer_mac, 6);
		assert_int_equal(ld16(skiff_pkt_data(p) + 14 + 6) & IP4_OFF_MASK, 185 * i);
		skiff_pkt_free(p);
	}
	assert_int_equal(skiff_mempool_avail(h->mp), avail);
	/* to a neighbour that never answers */
	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &other, 9, 0, h->now), 4000);
	assert_int_equal(skiff_mempool_avail(h->mp), avail - 4); /* 3 fragments + the request */
	h_tx_flush(h);
	for (unsigned i = 0; i < c->arp_retries; i++) {
		h_advance(h, c->arp_retrans_ns);
		h_tx_flush(h);
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_ARP_UNRESOLVED), 1);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), avail);
	skiff_udp_close(h->st, sk);
}

/* RFC 5227 probe (sender 0.0.0.0) for our address: answered, nothing cached for 0. */
static void test_probe_from_zero_sender(void **state)
{
	struct harness *h = *state;
	struct arp_repr a;
	uint8_t dst[6];
	inject_arp(h, ARP_OP_REQUEST, h_peer_mac, 0, ZERO, H_LOCAL_IP, BCAST);
	pop_arp(h, &a, dst);
	assert_int_equal(a.op, ARP_OP_REPLY);
	assert_memory_equal(dst, h_peer_mac, 6);
	assert_memory_equal(a.tha, h_peer_mac, 6);
	assert_int_equal(a.tpa, 0);
	assert_int_equal(a.spa, H_LOCAL_IP);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, 0, NULL), SKIFF_NEIGH_NONE);
	assert_int_equal(total_drops(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_for_us_reply_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_not_for_us, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gratuitous_on_add_addr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_confirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolution_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_total_bound, setup_tiny_hold, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup_tiny_table, teardown),
		cmocka_unit_test_setup_teardown(test_reply_rate_limit, setup_rate1, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_from_zero_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_resolves_incomplete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_fragmented, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
