/* test_udp.c — UDP sockets in the dataplane: bind rules, delivery, checksums,
 * receive-buffer limit, send path (single frame and fragmented), ICMP errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/neigh.h"
#include "dataplane/udp.h"
#include "dataplane/view.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"
#include "tests/lib/harness.h"

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

static struct skiff_udp_sock *open_bound(struct harness *h, uint32_t addr, uint16_t port)
{
	int err;
	struct skiff_udp_sock *sk = skiff_udp_open(h->st, SKIFF_AF_INET, &err);
	struct skiff_addr a = skiff_addr_v4(addr);
	assert_non_null(sk);
	assert_int_equal(skiff_udp_bind(h->st, sk, &a, port), 0);
	return sk;
}

static void test_receive_unicast(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_bound(h, 0, 5000);
	uint8_t f[256], buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct skiff_addr src;
	uint16_t sport;
	size_t dlen;
	long n;

	h_inject(h, f, fb_udp4(f, H_PEER_IP, H_LOCAL_IP, 4000, 5000, "hello", 5));
	n = skiff_udp_recv(h->st, sk, &iov, 1, 0, &src, &sport, &dlen);
	assert_int_equal(n, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(src.v4, H_PEER_IP);
	assert_int_equal(sport, 4000);
	assert_int_equal(skiff_udp_recv(h->st, sk, &iov, 1, 0, NULL, NULL, NULL), -EAGAIN);
	skiff_udp_close(h->st, sk);
}

static void test_send_resolves_then_transmits(void **state)
{
	struct harness *h = *state;
	struct skiff_udp_sock *sk = open_bound(h, 0, 0);
	struct skiff_addr dst = skiff_addr_v4(H_PEER_IP);
	struct iovec iov = { "ping", 4 };
	struct skiff_pkt *p;
	uint8_t f[128];

	assert_int_equal(skiff_udp_send(h->st, sk, &iov, 1, &dst, 7, 0, h->now), 4);
	/* first an ARP request, the datagram held */
	p = h_tx_pop(h);
	assert_non_null(p);
	assert_int_equal(ld16(skiff_pkt_data(p) + 12), ETH_TYPE_ARP);
	skiff_pkt_free(p);
	assert_null(h_tx_pop(h));
	assert_int_equal(skiff_neigh_held(h->st), 1);
	/* the reply releases it */
	h_inject(h, f, fb_arp(f, 2, h_peer_mac, H_PEER_IP, h_local_mac, H_LOCAL_IP, h_local_mac));
	p = h_tx_pop(h);
	assert_non_null(p);
	{
		const uint8_t *d = skiff_pkt_data(p);
		assert_memory_equal(d, h_peer_mac, 6);
		assert_int_equal(ld16(d + 12), ETH_TYPE_IP4);
		assert_int_equal(d[14 + 9], 17);
		assert_int_equal(ld32(d + 14 + 16), H_PEER_IP);
		assert_int_equal(ld16(d + 34 + 2), 7);
		assert_memory_equal(d + 42, "ping", 4);
		/* UDP checksum verifies */
		assert_int_equal(csum_fold(csum_partial(d + 34, 12, csum_pseudo4(H_LOCAL_IP, H_PEER_IP, 17, 12))), 0);
	}
	skiff_pkt_free(p);
	skiff_udp_close(h->st, sk);
}



int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_receive_unicast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_resolves_then_transmits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
