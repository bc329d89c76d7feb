/* test_raw.c — raw IP and ICMP ping sockets in the dataplane (raw.c), against
 * Linux's behaviour: a raw ICMP socket gets echo requests with the IP header while
 * the stack still answers them; ICMP_FILTER; bound address and connected peer
 * filter; a protocol with no handler goes to its raw socket without a protocol
 * unreachable (and with none, the unreachable is still sent); a reassembled
 * datagram arrives whole with a fixed-up header; sending builds the header (DF
 * under IP_PMTUDISC_WANT, TTL) or with IP_HDRINCL takes the caller's, filling
 * source, id, length and checksum; ping sockets rewrite id and checksum, receive
 * only replies of their id without the header; ICMP errors reach the error queue
 * with IP_RECVERR (and only hard ones of connected sockets without it), a send
 * too big for DF as a local error (ee_info = MTU); SO_ATTACH_FILTER refuses and
 * cuts; every RAW_* drop is reached; two stacks over the loop driver ping each
 * other through a ping socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/bpf_classic.h"
#include "dataplane/csum.h"
#include "dataplane/ip4.h"
#include "dataplane/neigh.h"
#include "dataplane/raw.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "drivers/driver.h"
#include "tests/data/frames.h"
#include "tests/lib/harness.h"

#define L3 ETH_HDR_LEN
#define L4 (ETH_HDR_LEN + IP4_HDR_LEN)

static int setup(void **state)
{
	static struct harness h;
	assert_int_equal(h_init(&h, NULL), 0);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	h_fini(*state);
	return 0;
}

/* The peer's MAC confirmed, so sends go straight out (test_udp.c's peer_reachable). */
static void reachable(struct harness *h)
{
	h_learn_peer(h);
	h_inject(h, frame_arp_reply_from_peer, sizeof(frame_arp_reply_from_peer));
	h_tx_flush(h);
	assert_int_equal(skiff_neigh_lookup4(h->st, h->ifindex, H_PEER_IP, NULL), SKIFF_NEIGH_REACHABLE);
}

static struct skiff_raw_sock *open_raw(struct harness *h, int proto)
{
	int err = -1;
	struct skiff_raw_sock *sk = skiff_raw_open(h->st, SKIFF_AF_INET, false, proto, &err);
	assert_non_null(sk);
	assert_int_equal(err, 0);
	return sk;
}

static struct skiff_raw_sock *open_ping(struct harness *h)
{
	int err = -1;
	struct skiff_raw_sock *sk = skiff_raw_open(h->st, SKIFF_AF_INET, true, IPPROTO_ICMP_, &err);
	assert_non_null(sk);
	return sk;
}

/* An IPv4 frame of protocol proto from src to dst carrying l4[0..n). */
static size_t frame_proto(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, const void *l4, size_t n)
{
	fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	memcpy(f + L4, l4, n);
	return fb_ip4(f, src, dst, proto, 0x4242, 0, n);
}

static long recv_raw(struct harness *h, struct skiff_raw_sock *sk, uint8_t *buf, size_t n, struct skiff_raw_msginfo *mi)
{
	struct iovec iov = { buf, n };
	return skiff_raw_recv(h->st, sk, &iov, 1, 0, mi);
}

static void test_icmp_copy_with_header_and_stack_replies(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, IPPROTO_ICMP_);
	struct skiff_raw_msginfo mi;
	uint8_t f[256], buf[256];
	struct skiff_pkt *p;
	long n;

	reachable(h);
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 0x00070001, "abcd", 4));
	n = recv_raw(h, sk, buf, sizeof(buf), &mi);
	assert_int_equal(n, IP4_HDR_LEN + ICMP4_HDR_LEN + 4);
	assert_int_equal(buf[0], 0x45);
	assert_int_equal(buf[9], IPPROTO_ICMP_);
	assert_int_equal(ld32(buf + 12), H_PEER_IP);
	assert_int_equal(ld32(buf + 16), H_LOCAL_IP);
	assert_int_equal(ld16(buf + 2), n);
	assert_int_equal(buf[IP4_HDR_LEN], ICMP4_ECHO_REQUEST);
	assert_memory_equal(buf + IP4_HDR_LEN + ICMP4_HDR_LEN, "abcd", 4);
	assert_int_equal(mi.src.v4, H_PEER_IP);
	assert_int_equal(mi.ttl, 64);
	/* the stack still answered (Linux: raw sockets see a copy) */
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(skiff_pkt_data(p)[L4], ICMP4_ECHO_REPLY);
	skiff_pkt_free(p);
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_raw_close(h->st, sk);
}

static void test_icmp_filter(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, IPPROTO_ICMP_), *all = open_raw(h, IPPROTO_ICMP_);
	uint8_t f[256], buf[256];

	reachable(h);
	sk->icmp_filter = 1u << ICMP4_ECHO_REQUEST; /* as iputils ping: everything but requests */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 0x00070001, "x", 1));
	h_tx_flush(h);
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	assert_true(recv_raw(h, all, buf, sizeof(buf), NULL) > 0); /* the other socket has no filter */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, 0x00070001, "x", 1));
	assert_true(recv_raw(h, sk, buf, sizeof(buf), NULL) > 0);
	assert_int_equal(buf[IP4_HDR_LEN], ICMP4_ECHO_REPLY);
	/* a message too short for an ICMP header is filtered (Linux icmp_filter) */
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, IPPROTO_ICMP_, "\x00\x00", 2));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_raw_close(h->st, sk);
	skiff_raw_close(h->st, all);
}

static void test_unknown_protocol_to_raw_no_unreachable(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk;
	uint8_t f[256], buf[256];
	struct skiff_pkt *p;

	reachable(h);
	/* without a socket: protocol unreachable, as before */
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 253, "payload!", 8));
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(skiff_pkt_data(p)[L4], ICMP4_DEST_UNREACH);
	assert_int_equal(skiff_pkt_data(p)[L4 + 1], ICMP4_PROTO_UNREACH);
	skiff_pkt_free(p);
	/* with one: the datagram is its, and no error goes out (Linux raw_v4_input) */
	sk = open_raw(h, 253);
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 253, "payload!", 8));
	assert_int_equal(h_tx_count(h), 0);
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), IP4_HDR_LEN + 8);
	assert_int_equal(buf[9], 253);
	assert_memory_equal(buf + IP4_HDR_LEN, "payload!", 8);
	skiff_raw_close(h->st, sk);
}

static void test_bound_and_connected_filter(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *bound = open_raw(h, 200), *conn = open_raw(h, 200);
	struct skiff_addr other = skiff_addr_v4(H_OTHER_IP), peer = skiff_addr_v4(H_PEER_IP), me = skiff_addr_v4(H_LOCAL_IP);
	uint8_t f[256], buf[256];

	assert_int_equal(skiff_raw_bind(h->st, bound, &me, 0), 0);
	assert_int_equal(skiff_raw_bind(h->st, bound, &other, 0), -EADDRNOTAVAIL);
	assert_int_equal(skiff_raw_connect(h->st, conn, &other, h->now), 0);
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 200, "abc", 3));
	assert_true(recv_raw(h, bound, buf, sizeof(buf), NULL) > 0);
	assert_int_equal(recv_raw(h, conn, buf, sizeof(buf), NULL), -EAGAIN); /* not from its peer */
	assert_int_equal(skiff_raw_connect(h->st, conn, &peer, h->now), 0);
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 200, "abc", 3));
	assert_true(recv_raw(h, conn, buf, sizeof(buf), NULL) > 0);
	assert_true(recv_raw(h, bound, buf, sizeof(buf), NULL) > 0);
	/* another protocol reaches neither */
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 201, "abc", 3));
	assert_int_equal(recv_raw(h, bound, buf, sizeof(buf), NULL), -EAGAIN);
	h_tx_flush(h);
	skiff_raw_close(h->st, bound);
	skiff_raw_close(h->st, conn);
}

static void test_reassembled_datagram_whole(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, 77);
	uint8_t f[256], buf[512], a[64], b[40];
	struct skiff_raw_msginfo mi;

	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	fb_eth(f, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	memcpy(f + L4, a, sizeof(a));
	h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 77, 0x99, IP4_FLAG_MF, sizeof(a)));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	memcpy(f + L4, b, sizeof(b));
	h_inject(h, f, fb_ip4(f, H_PEER_IP, H_LOCAL_IP, 77, 0x99, sizeof(a) / 8, sizeof(b)));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), &mi), IP4_HDR_LEN + 104);
	assert_int_equal(mi.len, IP4_HDR_LEN + 104);
	assert_int_equal(ld16(buf + 2), IP4_HDR_LEN + 104);
	assert_int_equal(ld16(buf + 6) & (IP4_FLAG_MF | IP4_OFF_MASK), 0);
	assert_int_equal(csum_buf(buf, IP4_HDR_LEN), 0);
	assert_memory_equal(buf + IP4_HDR_LEN, a, sizeof(a));
	assert_memory_equal(buf + IP4_HDR_LEN + sizeof(a), b, sizeof(b));
	assert_int_equal(h_tx_count(h), 0);
	skiff_raw_close(h->st, sk);
}

static void test_send_builds_header(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, 99);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	struct iovec iov = { "hello", 5 };
	struct skiff_pkt *p;
	const uint8_t *d;

	reachable(h);
	sk->ttl = 17;
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), 5);
	p = h_tx_pop(h);
	assert_non_null(p);
	d = skiff_pkt_data(p);
	assert_int_equal(d[L3 + 9], 99);
	assert_int_equal(d[L3 + 8], 17);
	assert_true(ld16(d + L3 + 6) & IP4_FLAG_DF); /* IP_PMTUDISC_WANT and it fits */
	assert_int_equal(ld32(d + L3 + 12), H_LOCAL_IP);
	assert_int_equal(ld16(d + L3 + 2), IP4_HDR_LEN + 5);
	assert_memory_equal(d + L4, "hello", 5);
	skiff_pkt_free(p);
	/* a cmsg TTL wins; no destination and not connected: EDESTADDRREQ */
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, 3, -1, h->now), 5);
	p = h_tx_pop(h);
	assert_int_equal(skiff_pkt_data(p)[L3 + 8], 3);
	skiff_pkt_free(p);
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, NULL, -1, -1, h->now), -EDESTADDRREQ);
	skiff_raw_close(h->st, sk);
}

static void test_hdrincl_fills_zero_fields(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, 255); /* IPPROTO_RAW: header included */
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	uint8_t dg[IP4_HDR_LEN + 6];
	struct iovec iov = { dg, sizeof(dg) };
	struct skiff_pkt *p;
	const uint8_t *d;

	assert_true(sk->hdrincl);
	reachable(h);
	memset(dg, 0, sizeof(dg));
	dg[0] = 0x45;
	dg[8] = 9;       /* TTL kept */
	dg[9] = 143;     /* protocol kept */
	st32(dg + 16, H_PEER_IP);
	memcpy(dg + IP4_HDR_LEN, "rawdat", 6);
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), (long)sizeof(dg));
	p = h_tx_pop(h);
	assert_non_null(p);
	d = skiff_pkt_data(p);
	assert_int_equal(ld32(d + L3 + 12), H_LOCAL_IP);  /* source filled */
	assert_int_not_equal(ld16(d + L3 + 4), 0);        /* id filled */
	assert_int_equal(ld16(d + L3 + 2), sizeof(dg));   /* length set */
	assert_int_equal(csum_buf(d + L3, IP4_HDR_LEN), 0); /* checksum set */
	assert_int_equal(d[L3 + 8], 9);
	assert_int_equal(d[L3 + 9], 143);
	assert_memory_equal(d + L4, "rawdat", 6);
	skiff_pkt_free(p);
	/* shorter than a header: EINVAL; an IHL beyond the message: EINVAL */
	iov.iov_len = 10;
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EINVAL);
	dg[0] = 0x4f;
	iov.iov_len = sizeof(dg);
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EINVAL);
	skiff_raw_close(h->st, sk);
}

static void test_ping_socket_id_and_replies(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_ping(h), *other = open_ping(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP), any = skiff_addr_v4(0);
	uint8_t echo[ICMP4_HDR_LEN + 4] = { ICMP4_ECHO_REQUEST, 0, 0xde, 0xad, 0x12, 0x34, 0x00, 0x05, 'p', 'i', 'n', 'g' };
	struct iovec iov = { echo, sizeof(echo) };
	struct skiff_raw_msginfo mi;
	uint8_t f[256], buf[256];
	struct skiff_pkt *p;
	const uint8_t *d;
	uint16_t id;

	reachable(h);
	assert_int_equal(skiff_raw_bind(h->st, other, &any, 777), 0);
	assert_int_equal(skiff_raw_bind(h->st, other, &any, 778), -EINVAL); /* bound once */
	assert_int_equal(skiff_raw_bind(h->st, sk, &any, 777), -EADDRINUSE);
	/* sending autobinds an id and writes it and the checksum */
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), (long)sizeof(echo));
	id = sk->ident;
	assert_int_not_equal(id, 0);
	p = h_tx_pop(h);
	assert_non_null(p);
	d = skiff_pkt_data(p);
	assert_int_equal(d[L3 + 9], IPPROTO_ICMP_);
	assert_int_equal(d[L4], ICMP4_ECHO_REQUEST);
	assert_int_equal(ld16(d + L4 + 4), id);
	assert_int_equal(ld16(d + L4 + 6), 5);
	assert_int_equal(csum_buf(d + L4, sizeof(echo)), 0);
	skiff_pkt_free(p);
	/* only an echo request (type 8 code 0) of at least 8 bytes may be sent */
	echo[0] = ICMP4_TIMESTAMP;
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EINVAL);
	echo[0] = ICMP4_ECHO_REQUEST;
	iov.iov_len = 7;
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EINVAL);
	/* the reply of our id, without the IP header */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, (uint32_t)id << 16 | 5, "ping", 4));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), &mi), ICMP4_HDR_LEN + 4);
	assert_int_equal(buf[0], ICMP4_ECHO_REPLY);
	assert_int_equal(ld16(buf + 4), id);
	assert_memory_equal(buf + ICMP4_HDR_LEN, "ping", 4);
	assert_int_equal(mi.src.v4, H_PEER_IP);
	assert_int_equal(mi.ttl, 64);
	assert_int_equal(recv_raw(h, other, buf, sizeof(buf), NULL), -EAGAIN);
	/* another id: nobody's */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, (uint32_t)(id ^ 0x8000) << 16, "x", 1));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h_drops(h, SKIFF_DROP_ICMP_UNHANDLED), 1);
	/* an echo request is the stack's to answer, not the ping socket's */
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, (uint32_t)id << 16, "x", 1));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h_tx_count(h), 1);
	h_tx_flush(h);
	skiff_raw_close(h->st, sk);
	skiff_raw_close(h->st, other);
}

/* An ICMP error from `from` quoting an echo request we sent to H_PEER_IP with id. */
static size_t frame_err_quoting_echo(uint8_t *f, uint32_t from, uint8_t type, uint8_t code, uint16_t id)
{
	uint8_t q[IP4_HDR_LEN + ICMP4_HDR_LEN];
	struct ip4_repr ip;
	memset(&ip, 0, sizeof(ip));
	ip.total_len = sizeof(q);
	ip.ttl = 1;
	ip.proto = IPPROTO_ICMP_;
	ip.src = H_LOCAL_IP;
	ip.dst = H_PEER_IP;
	ip.id = 7;
	ip4_emit(q, &ip);
	memset(q + IP4_HDR_LEN, 0, ICMP4_HDR_LEN);
	q[IP4_HDR_LEN] = ICMP4_ECHO_REQUEST;
	st16(q + IP4_HDR_LEN + 4, id);
	st16(q + IP4_HDR_LEN + 6, 9);
	return fb_icmp4(f, from, H_LOCAL_IP, type, code, 0, q, sizeof(q));
}

static void test_ping_errors_to_error_queue(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_ping(h);
	struct skiff_addr any = skiff_addr_v4(0);
	struct skiff_raw_msginfo mi;
	uint8_t f[256], buf[256];
	struct iovec iov = { buf, sizeof(buf) };

	assert_int_equal(skiff_raw_bind(h->st, sk, &any, 4321), 0);
	/* without IP_RECVERR, unconnected: Linux ping_err drops it */
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 4321));
	assert_int_equal(skiff_raw_events(sk) & SKIFF_EV_ERR, 0);
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &iov, 1, 0, &mi), -EAGAIN);
	/* with it: pending error once, then the queue */
	skiff_raw_set_recverr(h->st, sk, true);
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_TIME_EXCEEDED, ICMP4_EXC_TTL, 4321));
	assert_true(skiff_raw_events(sk) & SKIFF_EV_ERR);
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EHOSTUNREACH);
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &iov, 1, 0, &mi), ICMP4_HDR_LEN);
	assert_int_equal(buf[0], ICMP4_ECHO_REQUEST); /* the quoted echo header */
	assert_int_equal(ld16(buf + 4), 4321);
	assert_int_equal(mi.ee_errno, EHOSTUNREACH);
	assert_int_equal(mi.ee_origin, 2);
	assert_int_equal(mi.ee_type, ICMP4_TIME_EXCEEDED);
	assert_int_equal(mi.ee_code, ICMP4_EXC_TTL);
	assert_int_equal(mi.offender.v4, H_OTHER_IP);
	assert_int_equal(mi.src.v4, H_PEER_IP);
	assert_int_equal(skiff_raw_events(sk) & SKIFF_EV_ERR, 0);
	/* another id's error is not ours */
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 4322));
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &iov, 1, 0, &mi), -EAGAIN);
	skiff_raw_close(h->st, sk);
}

static void test_raw_errors(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, IPPROTO_ICMP_), *conn = open_raw(h, IPPROTO_ICMP_);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	struct skiff_raw_msginfo mi;
	uint8_t f[256], buf[256];
	struct iovec iov = { buf, sizeof(buf) };

	assert_int_equal(skiff_raw_connect(h->st, conn, &peer, h->now), 0);
	skiff_raw_set_recverr(h->st, sk, true);
	sk->icmp_filter = 0xffffffffu; /* the copy of the error itself is not wanted */
	conn->icmp_filter = 0xffffffffu;
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 1));
	/* raw_err: IP_RECVERR queues the quote after its IP header */
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EHOSTUNREACH);
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &iov, 1, 0, &mi), ICMP4_HDR_LEN);
	assert_int_equal(buf[0], ICMP4_ECHO_REQUEST);
	assert_int_equal(mi.ee_type, ICMP4_DEST_UNREACH);
	/* connected without IP_RECVERR: a hard error is pending, nothing queued */
	assert_int_equal(recv_raw(h, conn, buf, sizeof(buf), NULL), -EHOSTUNREACH);
	assert_int_equal(skiff_raw_recv_err(h->st, conn, &iov, 1, 0, &mi), -EAGAIN);
	/* a soft one (time exceeded) does not touch it */
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_TIME_EXCEEDED, 0, 1));
	assert_int_equal(recv_raw(h, conn, buf, sizeof(buf), NULL), -EAGAIN);
	skiff_raw_close(h->st, sk);
	skiff_raw_close(h->st, conn);
}

static void test_local_emsgsize_to_error_queue(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_ping(h);
	struct skiff_addr peer = skiff_addr_v4(H_PEER_IP);
	static uint8_t big[3000];
	struct iovec iov = { big, sizeof(big) };
	struct skiff_raw_msginfo mi;
	uint8_t buf[64];
	struct iovec out = { buf, sizeof(buf) };

	reachable(h);
	big[0] = ICMP4_ECHO_REQUEST;
	sk->pmtudisc = SKIFF_PMTUDISC_DO;
	/* without IP_RECVERR: only the errno */
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EMSGSIZE);
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &out, 1, 0, &mi), -EAGAIN);
	/* with it: ip_local_error's entry, the MTU in ee_info, nothing pending */
	skiff_raw_set_recverr(h->st, sk, true);
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), -EMSGSIZE);
	assert_true(skiff_raw_events(sk) & SKIFF_EV_ERR);
	assert_int_equal(skiff_raw_recv_err(h->st, sk, &out, 1, 0, &mi), 0);
	assert_int_equal(mi.ee_errno, EMSGSIZE);
	assert_int_equal(mi.ee_origin, 1);
	assert_int_equal(mi.ee_info, skiff_stack_iface(h->st, h->ifindex)->mtu);
	assert_int_equal(mi.src.v4, H_PEER_IP);
	assert_int_equal(h_tx_count(h), 0);
	/* IP_PMTUDISC_WANT fragments instead (DF only on what fits) */
	sk->pmtudisc = SKIFF_PMTUDISC_WANT;
	assert_int_equal(skiff_raw_send(h->st, sk, &iov, 1, &peer, -1, -1, h->now), (long)sizeof(big));
	assert_int_equal(h_tx_count(h), 3);
	h_tx_flush(h);
	skiff_raw_close(h->st, sk);
}

static void test_socket_filter(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *sk = open_raw(h, IPPROTO_ICMP_), *p = open_ping(h);
	/* accept only ICMP type 0 (the byte after a 20-byte header), whole */
	static const struct sock_filter only_replies[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ICMP4_ECHO_REPLY, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	/* keep 24 bytes of everything (ping sockets: from the ICMP header) */
	static const struct sock_filter first24[] = { BPF_STMT(BPF_RET | BPF_K, 24) };
	struct skiff_addr any = skiff_addr_v4(0);
	uint8_t f[256], buf[256];

	reachable(h);
	assert_int_equal(skiff_bpf_check(only_replies, 4), 0);
	sk->filter = only_replies;
	sk->filter_len = 4;
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REQUEST, 0, 1, "x", 1));
	h_tx_flush(h); /* the stack's own reply */
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), -EAGAIN);
	assert_int_equal(h_drops(h, SKIFF_DROP_RAW_FILTERED), 1);
	assert_int_equal(sk->filtered, 1);
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, 1, "x", 1));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), IP4_HDR_LEN + ICMP4_HDR_LEN + 1);
	/* a result shorter than the datagram cuts it (sk_filter_trim_cap) */
	sk->filter = first24;
	sk->filter_len = 1;
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, 1, "0123456789", 10));
	assert_int_equal(recv_raw(h, sk, buf, sizeof(buf), NULL), 24);
	/* a ping socket's filter sees the ICMP message */
	assert_int_equal(skiff_raw_bind(h->st, p, &any, 99), 0);
	p->filter = first24;
	p->filter_len = 1;
	h_inject(h, f, fb_icmp4(f, H_PEER_IP, H_LOCAL_IP, ICMP4_ECHO_REPLY, 0, 99u << 16, "0123456789abcdefghijklmnop", 26));
	assert_int_equal(recv_raw(h, p, buf, sizeof(buf), NULL), 24);
	assert_memory_equal(buf + ICMP4_HDR_LEN, "0123456789abcdef", 16);
	skiff_raw_close(h->st, sk);
	skiff_raw_close(h->st, p);
}

/* Every RAW_* drop reason, reached (RAW_FILTERED: test_socket_filter) (test_ip4.c's sweep leaves them here). */
static void test_raw_drops(void **state)
{
	struct harness *h = *state;
	struct skiff_raw_sock *a = open_raw(h, 201), *b = open_raw(h, 201), *e = open_ping(h);
	unsigned cap = skiff_mempool_count(h->mp);
	struct skiff_pkt **held = calloc(cap, sizeof(*held));
	struct skiff_addr any = skiff_addr_v4(0);
	uint8_t f[256], buf[256];
	unsigned nheld = 0;

	/* RAW_RCVBUF_FULL: the queue holds SO_RCVBUF already */
	a->rcvbuf = 1;
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 201, "one", 3));
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 201, "two", 3));
	assert_int_equal(h_drops(h, SKIFF_DROP_RAW_RCVBUF_FULL), 1);
	assert_int_equal(a->drops, 1);
	assert_true(recv_raw(h, b, buf, sizeof(buf), NULL) > 0);
	assert_true(recv_raw(h, b, buf, sizeof(buf), NULL) > 0);
	assert_true(recv_raw(h, a, buf, sizeof(buf), NULL) > 0);
	a->rcvbuf = h->st->cfg.rcvbuf_default;
	/* RAW_NO_BUF: the pool has the injected frame's buffer and nothing for the copy */
	assert_non_null(held);
	while (skiff_mempool_avail(h->mp) > 1 && nheld < cap)
		held[nheld++] = skiff_pool_get(skiff_mempool_pool(h->mp));
	h_inject(h, f, frame_proto(f, H_PEER_IP, H_LOCAL_IP, 201, "three", 5));
	assert_int_equal(h_drops(h, SKIFF_DROP_RAW_NO_BUF), 1);
	/* the copy failed, the last socket got the frame itself: exactly one has it */
	assert_int_equal((recv_raw(h, a, buf, sizeof(buf), NULL) > 0) + (recv_raw(h, b, buf, sizeof(buf), NULL) > 0), 1);
	skiff_pkt_free_burst(held, nheld);
	free(held);
	/* RAW_ERRQ_FULL: IP_RECVERR with no room left in SO_RCVBUF */
	assert_int_equal(skiff_raw_bind(h->st, e, &any, 4321), 0);
	skiff_raw_set_recverr(h->st, e, true);
	e->rcvbuf = 1;
	h_inject(h, f, frame_err_quoting_echo(f, H_OTHER_IP, ICMP4_DEST_UNREACH, ICMP4_HOST_UNREACH, 4321));
	assert_int_equal(h_drops(h, SKIFF_DROP_RAW_ERRQ_FULL), 1);
	skiff_raw_close(h->st, a);
	skiff_raw_close(h->st, b);
	skiff_raw_close(h->st, e);
}

/* ---- two stacks over the loop driver ---- */

static void pump(struct skiff_stack *a, struct skiff_dev *da, struct skiff_stack *b, struct skiff_dev *db,
		 uint64_t now)
{
	for (int round = 0; round < 8; round++) {
		struct skiff_pkt *pk[32];
		unsigned n;
		skiff_stack_poll(a, now);
		skiff_stack_poll(b, now);
		while ((n = skiff_stack_tx_drain(a, 0, pk, 32))) {
			unsigned k = skiff_dev_tx(da, pk, n, now);
			skiff_pkt_free_burst(pk + k, n - k);
		}
		while ((n = skiff_stack_tx_drain(b, 0, pk, 32))) {
			unsigned k = skiff_dev_tx(db, pk, n, now);
			skiff_pkt_free_burst(pk + k, n - k);
		}
		if ((n = skiff_dev_rx(da, pk, 32, now)))
			skiff_stack_input(a, 0, pk, n, now);
		if ((n = skiff_dev_rx(db, pk, 32, now)))
			skiff_stack_input(b, 0, pk, n, now);
	}
}

static void test_two_stacks_ping(void **state)
{
	struct skiff_dev *da, *db;
	struct skiff_stack *a, *b;
	struct skiff_stack_config cfg;
	struct skiff_raw_sock *ping, *raw_b;
	struct skiff_addr pb = skiff_addr_v4(H_PEER_IP);
	uint8_t echo[ICMP4_HDR_LEN + 3] = { ICMP4_ECHO_REQUEST, 0, 0, 0, 0, 0, 0, 1, 'h', 'e', 'y' }, buf[128];
	struct iovec iov = { echo, sizeof(echo) };
	struct skiff_raw_msginfo mi;
	int err;

	(void)state;
	assert_int_equal(skiff_loop_pair(NULL, &da, &db), 0);
	skiff_stack_config_defaults(&cfg);
	cfg.seed = 1;
	assert_int_equal(skiff_stack_create(&cfg, 1, &a), 0);
	cfg.seed = 2;
	assert_int_equal(skiff_stack_create(&cfg, 1, &b), 0);
	assert_int_equal(skiff_stack_add_iface(a, "l0", da->mac, da->mtu, da->caps, skiff_dev_pool(da)), 0);
	assert_int_equal(skiff_stack_add_iface(b, "l1", db->mac, db->mtu, db->caps, skiff_dev_pool(db)), 0);
	assert_int_equal(skiff_stack_add_addr4(a, 0, H_LOCAL_IP, 24, 1), 0);
	assert_int_equal(skiff_stack_add_addr4(b, 0, H_PEER_IP, 24, 1), 0);
	pump(a, da, b, db, 2);
	ping = skiff_raw_open(a, SKIFF_AF_INET, true, IPPROTO_ICMP_, &err);
	raw_b = skiff_raw_open(b, SKIFF_AF_INET, false, IPPROTO_ICMP_, &err);
	assert_non_null(ping);
	assert_non_null(raw_b);
	assert_int_equal(skiff_raw_send(a, ping, &iov, 1, &pb, -1, -1, 3), (long)sizeof(echo));
	pump(a, da, b, db, 4);
	/* B's raw socket saw the request (with header); B's stack answered it; A's ping socket got the reply */
	{
		struct iovec io = { buf, sizeof(buf) };
		assert_int_equal(skiff_raw_recv(b, raw_b, &io, 1, 0, &mi), IP4_HDR_LEN + sizeof(echo));
		assert_int_equal(buf[IP4_HDR_LEN], ICMP4_ECHO_REQUEST);
		assert_int_equal(ld16(buf + IP4_HDR_LEN + 4), ping->ident);
		assert_int_equal(mi.src.v4, H_LOCAL_IP);
		assert_int_equal(skiff_raw_recv(a, ping, &io, 1, 0, &mi), (long)sizeof(echo));
		assert_int_equal(buf[0], ICMP4_ECHO_REPLY);
		assert_memory_equal(buf + ICMP4_HDR_LEN, "hey", 3);
		assert_int_equal(mi.src.v4, H_PEER_IP);
	}
	assert_ptr_equal(skiff_raw_ready_pop(a), ping);
	skiff_raw_close(a, ping);
	skiff_raw_close(b, raw_b);
	skiff_stack_destroy(a);
	skiff_stack_destroy(b);
	skiff_dev_close(da);
	skiff_dev_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_icmp_copy_with_header_and_stack_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_protocol_to_raw_no_unreachable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_and_connected_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reassembled_datagram_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_builds_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hdrincl_fills_zero_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_socket_id_and_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_errors_to_error_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_emsgsize_to_error_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_raw_drops, setup, teardown),
		cmocka_unit_test(test_two_stacks_ping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
