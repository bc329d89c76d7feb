/* test_icmp4.c — ICMPv4: echo reply byte-exact against scapy, echo to
 * broadcast ignored, malformed input, port unreachable content (scapy) and its
 * quote limit and rate limit, the RFC 1122 3.2.2 "never answer" rules, errors
 * received for datagrams our sockets sent (connected: ECONNREFUSED once on recv,
 * once on send; unconnected: nothing), bad quotes, errors nobody sent, and a
 * fragmented 3000-byte echo answered by a fragmented reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define SEC 1000000000ull

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct harness H;

static uint64_t total_drops(const struct harness *h)
{
	uint64_t n = 0;
	for (int r = 0; r < SKIFF_DROP_MAX; r++)
		n += h->st->ctr.drop[r];
	return n;
}

static void peer_reachable(struct harness *h)
{
	h_learn_peer(h);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
}

static void fix_ip_csum(uint8_t *frame)
{
	uint8_t *ip = frame + ETH_HDR_LEN;
	st16(ip + 10, 0);
	st16(ip + 10, csum_buf(ip, (size_t)(ip[0] & 0x0f) * 4));
}

static int setup_cfg(void **state, const struct skiff_stack_config *c)
{
	assert_int_equal(h_init(&H, c), 0);
	peer_reachable(&H);
	*state = &H;
	return 0;
}

static int setup(void **state) { return setup_cfg(state, NULL); }

static int setup_rate1(void **state)
{
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.icmp_rate = 1; /* burst stays 50 */
	return setup_cfg(state, &c);
}

static int teardown(void **state)
{
	struct harness *h = *state;
	unsigned d, b;
	h_tx_flush(h);
	skiff_reasm_usage(h->st, &d, &b);
	assert_int_equal(d + b, 0);
	assert_int_equal(skiff_neigh_held(h->st), 0);
	assert_int_equal(skiff_mempool_avail(h->mp), skiff_mempool_count(h->mp));
	h_fini(h);
	return 0;
}

static struct skiff_udp_sock *sock_bound(struct harness *h, uint32_t addr, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr a = skiff_addr_v4(addr);
	assert_non_null(sk);
	assert_int_equal(skiff_udp_bind(h->st, sk, &a, port), 0);
	return sk;
}

/* Pop the next frame: an ICMP message from us to the peer. Checks the IP header
 * and returns the packet; *icmp points at the ICMP header, *icmp_len its length. */
static struct skiff_pkt *pop_icmp(struct harness *h, uint8_t tos, const uint8_t **icmp, size_t *icmp_len)
{
	struct skiff_pkt *p = h_tx_pop(h);
	const uint8_t *d, *ip;
	assert_non_null(p);
	d = skiff_pkt_data(p);
	ip = d + 14;
	assert_memory_equal(d, h_peer_mac, 6);
	assert_memory_equal(d + 6, h_local_mac, 6);
	assert_int_equal(ld16(d + 12), ETH_TYPE_IP4);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], tos);
	assert_int_equal(ld16(ip + 2), p->len - 14);
	assert_int_equal(ld16(ip + 6), 0);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IPPROTO_ICMP_);
	assert_int_equal(ld32(ip + 12), H_LOCAL_IP);
	assert_int_equal(ld32(ip + 16), H_PEER_IP);
	assert_int_equal(csum_buf(ip, 20), 0);
	*icmp = ip + 20;
	*icmp_len = p->len - 34u;
	assert_int_equal(csum_buf(*icmp, *icmp_len), 0);
	return p;
}

/* An ICMP error from the peer quoting `quote`. */
static void inject_err(struct harness *h, uint8_t type, uint8_t code, const void *quote, size_t qlen)
{
	uint8_t f[1600];
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, type, code, 0, quote, qlen));
}

static void test_echo_reply_exact(void **state)
{
	struct harness *h = *state;
	uint16_t id = skiff_ip4_id_peek(h->st, H_PEER_IP, IPPROTO_ICMP_);
	const uint8_t *ic;
	size_t n;
	struct skiff_pkt *p;

	h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
	p = pop_icmp(h, 0, &ic, &n);
	assert_null(h_tx_pop(h));
	assert_int_equal(ld16(skiff_pkt_data(p) + 14 + 4), id);
	/* type 0, same id/seq/payload, checksum as scapy computes it */
	assert_int_equal(n, sizeof(frame_icmp_echo_reply_l4));
	assert_memory_equal(ic, frame_icmp_echo_reply_l4, n);
	skiff_pkt_free(p);
	assert_int_equal(h->st->ctr.icmp_echo_replies, 1);
	assert_int_equal(h->st->ctr.icmp_in, 1);
	assert_int_equal(total_drops(h), 0);

	/* the request's TOS is reflected; an empty echo works */
	{
		uint8_t f[128];
		size_t fl = fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 0xbeef0001u, NULL, 0);
		f[15] = 0x10;
		fix_ip_csum(f);
		h_inject(h, f, fl);
		p = pop_icmp(h, 0x10, &ic, &n);
		assert_int_equal(n, 8);
		assert_int_equal(ic[0], ICMP4_ECHO_REPLY);
		assert_int_equal(ld32(ic + 4), 0xbeef0001u);
		skiff_pkt_free(p);
	}
	/* an echo to our address arriving as a link-layer broadcast is not answered either */
	{
		uint8_t f[128];
		memcpy(f, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
		memcpy(f, BCAST, 6);
		h_inject(h, f, sizeof(frame_icmp_echo_request));
		assert_int_equal(h_tx_count(h), 0);
		assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_BCAST_ECHO), 1);
	}
}

static void test_echo_broadcast_ignored(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n;
	n = fb_icmp4(f, H_PEER_IP, H_BCAST_IP, ICMP4_ECHO_REQUEST, 0, 1, "smurf", 5);
	h_inject(h, f, n); /* directed broadcast in a unicast frame */
	memcpy(f, BCAST, 6);
	h_inject(h, f, n);
	n = fb_icmp4(f, H_PEER_IP, 0xffffffffu, ICMP4_ECHO_REQUEST, 0, 1, "smurf", 5);
	memcpy(f, BCAST, 6);
	h_inject(h, f, n);
	n = fb_icmp4(f, H_PEER_IP, 0xe0000001u, ICMP4_ECHO_REQUEST, 0, 1, "smurf", 5);
	memcpy(f, (const uint8_t[]){ 0x01, 0x00, 0x5e, 0, 0, 1 }, 6);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_BCAST_ECHO), 4);
	assert_int_equal(total_drops(h), 4);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(h->st->ctr.icmp_echo_replies, 0);
}

static void test_malformed(void **state)
{
	struct harness *h = *state;
	uint8_t f[128];
	size_t n;
	/* ICMP_SHORT: 0..7 bytes of ICMP */
	for (size_t l = 0; l < 8; l++) {
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memset(f + 34, 0, 8);
		f[34] = ICMP4_ECHO_REQUEST;
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_ICMP_, 1, 0, l));
	}
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_SHORT), 8);
	/* ICMP_BAD_CSUM: a payload bit, the checksum itself */
	n = fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 1, "payload", 7);
	f[n - 1] ^= 0x40;
	h_inject(h, f, n);
	n = fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 1, "payload", 7);
	f[34 + 2] ^= 0x01;
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_BAD_CSUM), 2);
	/* ICMP_UNHANDLED: timestamp, unsolicited echo reply, source quench, redirect,
	 * info request, and destination unreachable with a code past 15 */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_TIMESTAMP, 0, 0, "twelve bytes", 12));
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, 0, "pong", 4));
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_SOURCE_QUENCH, 0, 0, frame_udp_basic + 14, 28));
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_REDIRECT, 1, H_OTHER_IP, frame_udp_basic + 14, 28));
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, 15, 0, 0, NULL, 0));
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_DEST_UNREACH, 16, 0, frame_udp_basic + 14, 28));
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_UNHANDLED), 6);
	assert_int_equal(total_drops(h), 16);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_port_unreachable_content(void **state)
{
	struct harness *h = *state;
	const uint8_t *ic;
	size_t n;
	struct skiff_pkt *p;
	static uint8_t f[1200], payload[1000];

	h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 1);
	p = pop_icmp(h, 0xc0, &ic, &n);
	assert_null(h_tx_pop(h));
	assert_int_equal(n, sizeof(frame_icmp_port_unreach_l4));
	assert_memory_equal(ic, frame_icmp_port_unreach_l4, n);
	skiff_pkt_free(p);
	assert_int_equal(h->st->ctr.icmp_out, 1);

	/* a big datagram: the whole error is 576 bytes (RFC 1812 4.3.2.3), quote truncated */
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 9, payload, sizeof(payload)));
	p = pop_icmp(h, 0xc0, &ic, &n);
	assert_int_equal(p->len - 14, 576);
	assert_int_equal(n, 576 - 20);
	assert_int_equal(ic[0], 3);
	assert_int_equal(ic[1], 3);
	assert_int_equal(ld32(ic + 4), 0);
	assert_memory_equal(ic + 8, f + 14, 576 - 28);
	skiff_pkt_free(p);
	/* around the boundary: an original of 547, 548 and 549 bytes (IP total) */
	for (size_t tot = 547; tot <= 549; tot++) {
		size_t q = tot < 548 ? tot : 548;
		h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 9, payload, tot - 28));
		p = pop_icmp(h, 0xc0, &ic, &n);
		assert_int_equal(n, 8 + q);
		assert_memory_equal(ic + 8, f + 14, q);
		skiff_pkt_free(p);
	}
}

/* icmp_rate = 1/s with a burst of 50. */
static void test_error_rate_limit(void **state)
{
	struct harness *h = *state;
	for (int i = 0; i < 51; i++)
		h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
	assert_int_equal(h_tx_count(h), 50);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_OUT_LIMITED), 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 51);
	h_tx_flush(h);
	h_inject(h, frame_ip_unknown_proto, sizeof(frame_ip_unknown_proto)); /* the same bucket */
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_OUT_LIMITED), 2);
	assert_int_equal(h_tx_count(h), 0);
	/* echo replies are not errors: not limited */
	h_inject(h, frame_icmp_echo_request, sizeof(frame_icmp_echo_request));
	assert_int_equal(h_tx_count(h), 1);
	h_tx_flush(h);
	/* one second buys one token */
	h_advance(h, SEC);
	h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
	h_inject(h, frame_udp_closed_port, sizeof(frame_udp_closed_port));
	assert_int_equal(h_tx_count(h), 1);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_OUT_LIMITED), 3);
}

static void test_no_error_for_errors_or_broadcasts(void **state)
{
	struct harness *h = *state;
	uint8_t f[1600];
	size_t n;

	/* UDP to a closed port at a directed broadcast, limited broadcast, all-hosts,
	 * and to our unicast address inside a link-layer broadcast */
	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_BCAST_IP, 4000, 9, "x", 1));
	n = fb_udp4(f, H_PEER_IP, 0xffffffffu, 4000, 9, "x", 1);
	memcpy(f, BCAST, 6);
	h_inject(h, f, n);
	h_inject(h, f, fb_udp4(f, H_PEER_IP, 0xe0000001u, 4000, 9, "x", 1));
	n = fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 9, "x", 1);
	memcpy(f, BCAST, 6);
	h_inject(h, f, n);
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 4);
	/* from 0.0.0.0 (legal only towards the limited broadcast) there is nobody to tell */
	h_inject(h, f, fb_udp4(f, 0, 0xffffffffu, 68, 9, "x", 1));
	assert_int_equal(h_drops(h, SKIFF_DROP_UDP_NO_PORT), 5);
	assert_int_equal(h_tx_count(h), 0);

	/* an ICMP error that times out in reassembly gets no time exceeded ... */
	{
		uint8_t icmp[64];
		struct icmp4_repr r = { ICMP4_DEST_UNREACH, 3, 0, 0 };
		icmp4_emit(icmp, &r);
		memcpy(icmp + 8, frame_udp_basic + 14, 28);
		st16(icmp + 2, csum_buf(icmp, 36));
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, icmp, 16);
		h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_ICMP_, 77, IP4_FLAG_MF, 16));
		h_advance(h, h->st->cfg.reasm_timeout_ns);
		assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 1);
		assert_int_equal(h_tx_count(h), 0);
	}
	/* ... but an echo request that does gets one (type 11 code 1) */
	{
		uint8_t icmp[16];
		struct icmp4_repr r = { ICMP4_ECHO_REQUEST, 0, 0, 1 };
		const uint8_t *ic;
		size_t il;
		struct skiff_pkt *p;
		icmp4_emit(icmp, &r);
		memset(icmp + 8, 'e', 8);
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, icmp, 16);
		n = fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_ICMP_, 78, IP4_FLAG_MF, 16);
		h_inject(h, f, n);
		h_advance(h, h->st->cfg.reasm_timeout_ns);
		assert_int_equal(h_drops(h, SKIFF_DROP_REASM_TIMEOUT), 2);
		/* the peer's entry went STALE meanwhile: a probe precedes the error */
		p = h_tx_pop(h);
		assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_ARP);
		skiff_pkt_free(p);
		p = pop_icmp(h, 0xc0, &ic, &il);
		assert_int_equal(ic[0], ICMP4_TIME_EXCEEDED);
		assert_int_equal(ic[1], ICMP4_EXC_FRAGTIME);
		assert_memory_equal(ic + 8, f + 14, n - 14);
		skiff_pkt_free(p);
	}
}

/* A datagram a socket sent, as the peer would quote it back. */
static size_t sent_datagram(struct harness *h, struct skiff_udp_sock *sk, const struct skiff_addr *dst, uint16_t dport,
			    uint8_t *out)
{
	struct skiff_pkt *p;
	size_t n;
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "hello", 5 }, 1, dst, dport, 0, h->now), 5);
	p = h_tx_pop(h);
	assert_non_null(p);
	n = p->len - 14;
	memcpy(out, skiff_pkt_data(p) + 14, n);
	skiff_pkt_free(p);
	return n;
}

static void test_error_to_connected_socket(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5555);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	uint8_t q[64], buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	size_t qn;

	assert_int_equal(skiff_udp_connect(h->st, sk, &peer, 7, h->now), 0);
	qn = sent_datagram(h, sk, NULL, 0, q);
	assert_int_equal(qn, 20 + 8 + 5);
	/* port unreachable: ECONNREFUSED, reported once, on the next recv */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, qn);
	assert_int_equal(sk->err, ECONNREFUSED);
	assert_true(skiff_udp_events(sk) & SKIFF_EV_ERR);
	assert_true(skiff_udp_events(sk) & SKIFF_EV_IN);
	assert_ptr_equal(skiff_udp_ready_pop(h->st), sk);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -ECONNREFUSED);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	/* again, picked up by the next send instead; the send after that works */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, qn);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), -ECONNREFUSED);
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, NULL, 0, 0, h->now), 1);
	h_tx_flush(h);
	/* the quote of just header + 8 bytes is enough (RFC 792's minimum) */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, q, 28);
	assert_int_equal(skiff_udp_take_error(sk), EHOSTUNREACH);
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PROTO_UNREACH, q, 28);
	assert_int_equal(skiff_udp_take_error(sk), ENOPROTOOPT);
	inject_err(h, ICMP4_PARAM_PROBLEM, 0, q, 28);
	assert_int_equal(skiff_udp_take_error(sk), EPROTO);
	/* soft errors (frag needed, time exceeded) are not reported without IP_RECVERR */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_FRAG_NEEDED, q, 28);
	inject_err(h, ICMP4_TIME_EXCEEDED, ICMP4_EXC_TTL, q, 28);
	assert_int_equal(sk->err, 0);
	/* an error quoting a datagram to another port is not this socket's */
	st16(q + 20 + 2, 8);
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, 28);
	assert_int_equal(sk->err, 0);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_ERR_NO_SOCKET), 1);
	assert_int_equal(total_drops(h), 1);
	assert_int_equal(h_tx_count(h), 0); /* never an error about an error */
	skiff_udp_close(h->st, sk);
}

static void test_error_to_unconnected_socket(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = sock_bound(h, 0, 5556);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	uint8_t q[64], buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	size_t qn = sent_datagram(h, sk, &peer, 7, q);

	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, qn);
	assert_int_equal(sk->err, 0);
	assert_false(skiff_udp_events(sk) & SKIFF_EV_ERR);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	assert_int_equal(skiff_udp_send(h->st, sk, &(struct iovec){ "x", 1 }, 1, &peer, 7, 0, h->now), 1);
	assert_int_equal(total_drops(h), 0); /* found its socket: not a drop */
	skiff_udp_close(h->st, sk);
}

static void test_err_bad_quote(void **state)
{
	struct harness *h = *state;
	uint8_t q[64];
	memcpy(q, frame_udp_basic + 14, 33);
	/* 20 + 7 bytes: one short of RFC 792's header + 64 bits */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, 27);
	/* no quote at all */
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, NULL, 0);
	/* not an IPv4 header */
	q[0] = 0x65;
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, 33);
	/* IHL below 20 */
	q[0] = 0x44;
	inject_err(h, ICMP4_TIME_EXCEEDED, 0, q, 33);
	/* IHL 24 with only 20 + 8 quoted */
	q[0] = 0x46;
	inject_err(h, ICMP4_PARAM_PROBLEM, 0, q, 28);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_ERR_BAD_QUOTE), 5);
	assert_int_equal(total_drops(h), 5);
}

static void test_err_no_socket(void **state)
{
	struct harness *h = *state;
	uint8_t q[64];
	/* a UDP datagram from our address and a port nobody has */
	memcpy(q, frame_udp_basic + 14, 33);
	st32(q + 12, H_LOCAL_IP);
	st32(q + 16, H_PEER_IP);
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, 33);
	/* a TCP segment: no TCP in this slice */
	q[9] = IPPROTO_TCP_;
	inject_err(h, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, q, 33);
	/* an ICMP message of ours */
	q[9] = IPPROTO_ICMP_;
	inject_err(h, ICMP4_TIME_EXCEEDED, 0, q, 33);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_ERR_NO_SOCKET), 3);
	assert_int_equal(total_drops(h), 3);
	assert_int_equal(h_tx_count(h), 0);
}

static void test_large_fragmented_echo(void **state)
{
	struct harness *h = *state;
	static uint8_t msg[3008], got[3008], f[1600];
	static const size_t cut[3][2] = { { 0, 1480 }, { 1480, 1480 }, { 2960, 48 } };
	struct icmp4_repr r = { ICMP4_ECHO_REQUEST, 0, 0, 0x12340042u };
	uint16_t id = 0;
	size_t have = 0;
	unsigned d, b;

	icmp4_emit(msg, &r);
	for (size_t i = 8; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	st16(msg + 2, csum_buf(msg, sizeof(msg)));
	/* in reverse order, for good measure */
	for (int i = 2; i >= 0; i--) {
		fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
		memcpy(f + 34, msg + cut[i][0], cut[i][1]);
		h_inject(h, f,
			 fb_ip4(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_ICMP_, 0x5151,
				(uint16_t)(cut[i][0] / 8 | (i < 2 ? IP4_FLAG_MF : 0)), cut[i][1]));
	}
	assert_int_equal(h->st->ctr.ip4_reasm_ok, 1);
	assert_int_equal(h->st->ctr.icmp_echo_replies, 1);
	skiff_reasm_usage(h->st, &d, &b);
	assert_int_equal(d + b, 0);
	/* the reply: three fragments, one id, offsets and MF right, reassembling to the request with type 0 */
	assert_int_equal(h_tx_count(h), 3);
	for (int i = 0; i < 3; i++) {
		struct skiff_pkt *p = h_tx_pop(h);
		const uint8_t *ip = skiff_pkt_data(p) + 14;
		size_t len = ld16(ip + 2) - 20u, off = (ld16(ip + 6) & IP4_OFF_MASK) * 8u;
		assert_memory_equal(skiff_pkt_data(p), h_peer_mac, 6);
		assert_int_equal(csum_buf(ip, 20), 0);
		assert_int_equal(ip[9], IPPROTO_ICMP_);
		assert_int_equal(ld32(ip + 12), H_LOCAL_IP);
		assert_int_equal(ld32(ip + 16), H_PEER_IP);
		if (i == 0)
			id = ld16(ip + 4);
		assert_int_equal(ld16(ip + 4), id);
		assert_int_equal(!!(ld16(ip + 6) & IP4_FLAG_MF), i < 2);
		assert_int_equal(off, have);
		assert_true(off + len <= sizeof(got));
		memcpy(got + off, ip + 20, len);
		have += len;
		skiff_pkt_free(p);
	}
	assert_int_equal(have, sizeof(msg));
	assert_int_equal(got[0], ICMP4_ECHO_REPLY);
	assert_int_equal(got[1], 0);
	assert_int_equal(ld32(got + 4), 0x12340042u);
	assert_memory_equal(got + 8, msg + 8, sizeof(msg) - 8);
	assert_int_equal(csum_buf(got, sizeof(got)), 0);
	assert_int_equal(total_drops(h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_reply_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_broadcast_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_unreachable_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_rate_limit, setup_rate1, teardown),
		cmocka_unit_test_setup_teardown(test_no_error_for_errors_or_broadcasts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_to_connected_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_to_unconnected_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_err_bad_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(test_err_no_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_fragmented_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
