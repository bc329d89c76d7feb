/* test_route.c — IPv4 route table: longest prefix wins whatever the insertion
 * order, metric breaks ties, gateway next hops, -ENETUNREACH, -EEXIST, -ENOSPC,
 * del, interface filtering (down, oif), source address selection, and the
 * connected routes that come and go with interface addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "dataplane/route.h"
#include "tests/lib/harness.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const uint8_t mac2[6] = { 0x02, 0, 0, 0, 0, 0x11 };

static int setup(void **state)
{
	static struct harness h;
	assert_int_equal(h_init(&h, NULL), 0);
	*state = &h;
	return 0;
}

static int setup_small(void **state)
{
	static struct harness h;
	struct skiff_stack_config c;
	skiff_stack_config_defaults(&c);
	c.routes = 4;
	assert_int_equal(h_init(&h, &c), 0);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	h_fini(*state);
	return 0;
}

static struct skiff_route_res4 look(struct harness *h, uint32_t dst, int oif, int want_rc)
{
	struct skiff_route_res4 r;
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(skiff_route_lookup4(h->st, dst, oif, &r), want_rc);
	return r;
}

static void test_connected(void **state)
{
	struct harness *h = *state;
	struct skiff_route_res4 r = look(h, H_PEER_IP, -1, 0);
	assert_int_equal(r.ifindex, h->ifindex);
	assert_int_equal(r.nexthop, H_PEER_IP); /* on-link: the destination itself */
	assert_int_equal(r.src, H_LOCAL_IP);
	/* outside the /24, no default route */
	look(h, IP(198, 18, 1, 1), -1, -ENETUNREACH);
	look(h, IP(198, 19, 0, 2), -1, -ENETUNREACH);
}

static void test_longest_prefix_wins(void **state)
{
	struct harness *h = *state;
	struct skiff_route_res4 r;
	const uint32_t g8 = IP(198, 18, 0, 8), g16 = IP(198, 18, 0, 16), g24 = IP(198, 18, 0, 24),
		       g32 = IP(198, 18, 0, 32), gdef = IP(198, 18, 0, 254);
	/* inserted shortest-last and mixed, so order of insertion cannot be what decides */
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 128, 0), 24, g24, h->ifindex, 100), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 0, 0), 16, g16, h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 128, 7), 32, g32, h->ifindex, 500), 0);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gdef, h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 0, 0, 0), 8, g8, h->ifindex, 0), 0);

	r = look(h, IP(198, 19, 128, 7), -1, 0);
	assert_int_equal(r.nexthop, g32); /* /32 beats /24 even with a worse metric */
	r = look(h, IP(198, 19, 128, 8), -1, 0);
	assert_int_equal(r.nexthop, g24);
	r = look(h, IP(198, 19, 129, 8), -1, 0);
	assert_int_equal(r.nexthop, g16);
	r = look(h, IP(198, 20, 1, 1), -1, 0);
	assert_int_equal(r.nexthop, g8);
	r = look(h, IP(10, 1, 2, 3), -1, 0);
	assert_int_equal(r.nexthop, gdef); /* default gateway */
	assert_int_equal(r.src, H_LOCAL_IP);
	/* the connected /24 still wins for its own addresses over /8 and /0 */
	r = look(h, H_OTHER_IP, -1, 0);
	assert_int_equal(r.nexthop, H_OTHER_IP);
	/* the prefix is masked on add: 198.19.128.99/24 is 198.19.128.0/24 → -EEXIST */
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 128, 99), 24, g24, h->ifindex, 7), -EEXIST);
}

static void test_metric_tiebreak(void **state)
{
	struct harness *h = *state;
	const uint32_t dst = IP(198, 19, 5, 5), ga = IP(198, 18, 0, 10), gb = IP(198, 18, 0, 11),
		       gc = IP(198, 18, 0, 12);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 0, 0), 16, ga, h->ifindex, 20), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 0, 0), 16, gb, h->ifindex, 5), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 0, 0), 16, gc, h->ifindex, 10), 0);
	assert_int_equal(look(h, dst, -1, 0).nexthop, gb);
	assert_int_equal(skiff_route_del4(h->st, IP(198, 19, 0, 0), 16, gb, h->ifindex), 0);
	assert_int_equal(look(h, dst, -1, 0).nexthop, gc);
	assert_int_equal(skiff_route_del4(h->st, IP(198, 19, 0, 0), 16, gc, h->ifindex), 0);
	assert_int_equal(look(h, dst, -1, 0).nexthop, ga);
	/* an equal metric: the first added stays in front */
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 0, 0), 16, gb, h->ifindex, 20), 0);
	assert_int_equal(look(h, dst, -1, 0).nexthop, ga);
}

static void test_errors_and_del(void **state)
{
	struct harness *h = *state;
	const uint32_t gw = IP(198, 18, 0, 254);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gw, h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gw, h->ifindex, 0), -EEXIST);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gw, h->ifindex, 9), -EEXIST); /* metric is not identity */
	assert_int_equal(skiff_route_add4(h->st, 0, 33, gw, h->ifindex, 0), -EINVAL);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gw, 5, 0), -EINVAL); /* no such interface */
	assert_int_equal(skiff_route_add4(h->st, 0, 0, gw, -1, 0), -EINVAL);
	assert_int_equal(look(h, IP(10, 0, 0, 1), -1, 0).nexthop, gw);
	assert_int_equal(skiff_route_del4(h->st, 0, 0, IP(198, 18, 0, 253), h->ifindex), -ESRCH);
	assert_int_equal(skiff_route_del4(h->st, 0, 0, gw, h->ifindex), 0);
	assert_int_equal(skiff_route_del4(h->st, 0, 0, gw, h->ifindex), -ESRCH);
	look(h, IP(10, 0, 0, 1), -1, -ENETUNREACH);
	/* the connected route is still there */
	assert_int_equal(look(h, H_PEER_IP, -1, 0).nexthop, H_PEER_IP);
}

static void test_table_full(void **state)
{
	struct harness *h = *state; /* routes = 4, one taken by the connected /24 */
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 1, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 2, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 3, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 4, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), -ENOSPC);
	/* a duplicate is still reported as such, not as full */
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 3, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), -EEXIST);
	/* del frees a slot */
	assert_int_equal(skiff_route_del4(h->st, IP(198, 19, 2, 0), 24, IP(198, 18, 0, 9), h->ifindex), 0);
	assert_int_equal(skiff_route_add4(h->st, IP(198, 19, 4, 0), 24, IP(198, 18, 0, 9), h->ifindex, 0), 0);
	assert_int_equal(look(h, IP(198, 19, 4, 4), -1, 0).nexthop, IP(198, 18, 0, 9));
	look(h, IP(198, 19, 2, 4), -1, -ENETUNREACH);
	/* adding an address needs a slot for its connected route */
	assert_int_equal(skiff_stack_add_addr4(h->st, h->ifindex, IP(198, 18, 7, 1), 24, h->now), -ENOSPC);
	assert_int_equal(skiff_stack_local4(h->st, IP(198, 18, 7, 1)), -1);
}

static void test_source_selection(void **state)
{
	struct harness *h = *state;
	struct skiff_route_res4 r;
	const uint32_t a2 = IP(198, 18, 1, 1);
	assert_int_equal(skiff_stack_add_addr4(h->st, h->ifindex, a2, 24, h->now), 0);
	h_tx_flush(h);
	/* on-link destinations: the address of the matching subnet */
	r = look(h, IP(198, 18, 1, 5), -1, 0);
	assert_int_equal(r.src, a2);
	assert_int_equal(r.nexthop, IP(198, 18, 1, 5));
	r = look(h, IP(198, 18, 0, 5), -1, 0);
	assert_int_equal(r.src, H_LOCAL_IP);
	/* via a gateway: the address on the gateway's subnet */
	assert_int_equal(skiff_route_add4(h->st, 0, 0, IP(198, 18, 1, 254), h->ifindex, 0), 0);
	r = look(h, IP(10, 9, 9, 9), -1, 0);
	assert_int_equal(r.nexthop, IP(198, 18, 1, 254));
	assert_int_equal(r.src, a2);
	assert_int_equal(skiff_route_del4(h->st, 0, 0, IP(198, 18, 1, 254), h->ifindex), 0);
	/* a gateway on neither subnet: the interface's first address */
	assert_int_equal(skiff_route_add4(h->st, 0, 0, IP(198, 18, 9, 254), h->ifindex, 0), 0);
	assert_int_equal(look(h, IP(10, 9, 9, 9), -1, 0).src, H_LOCAL_IP);
	/* broadcast and multicast resolve to the first interface with an address */
	r = look(h, 0xffffffffu, -1, 0);
	assert_int_equal(r.ifindex, h->ifindex);
	assert_int_equal(r.nexthop, 0xffffffffu);
	r = look(h, IP(224, 0, 0, 251), -1, 0);
	assert_int_equal(r.ifindex, h->ifindex);
	assert_int_equal(r.nexthop, IP(224, 0, 0, 251));
	/* removing the second address removes its connected route */
	assert_int_equal(skiff_stack_del_addr4(h->st, h->ifindex, a2), 0);
	assert_int_equal(look(h, IP(198, 18, 1, 5), -1, 0).nexthop, IP(198, 18, 9, 254)); /* now via default */
	assert_int_equal(skiff_stack_del_addr4(h->st, h->ifindex, a2), -EADDRNOTAVAIL);
}

static void test_interfaces(void **state)
{
	struct harness *h = *state;
	int if2 = skiff_stack_add_iface(h->st, "test1", mac2, 1500, 0, skiff_mempool_pool(h->mp));
	struct skiff_route_res4 r;
	assert_true(if2 >= 0 && if2 != h->ifindex);
	assert_int_equal(skiff_stack_add_addr4(h->st, if2, IP(198, 19, 0, 1), 24, h->now), 0);
	assert_int_equal(skiff_stack_tx_drain(h->st, if2, (struct skiff_pkt *[1]){ 0 }, 0), 0);
	{
		struct skiff_pkt *p = NULL;
		assert_int_equal(skiff_stack_tx_drain(h->st, if2, &p, 1), 1); /* the gratuitous ARP */
		skiff_pkt_free(p);
	}
	r = look(h, IP(198, 19, 0, 7), -1, 0);
	assert_int_equal(r.ifindex, if2);
	assert_int_equal(r.src, IP(198, 19, 0, 1));
	/* the same default route on both, better metric on if2 */
	assert_int_equal(skiff_route_add4(h->st, 0, 0, IP(198, 18, 0, 254), h->ifindex, 10), 0);
	assert_int_equal(skiff_route_add4(h->st, 0, 0, IP(198, 19, 0, 254), if2, 1), 0);
	r = look(h, IP(10, 0, 0, 1), -1, 0);
	assert_int_equal(r.ifindex, if2);
	assert_int_equal(r.src, IP(198, 19, 0, 1));
	/* oif restricts the choice */
	r = look(h, IP(10, 0, 0, 1), h->ifindex, 0);
	assert_int_equal(r.ifindex, h->ifindex);
	assert_int_equal(r.nexthop, IP(198, 18, 0, 254));
	/* oif if2: the peer's connected route is on the other interface, so if2's default */
	r = look(h, H_PEER_IP, if2, 0);
	assert_int_equal(r.ifindex, if2);
	assert_int_equal(r.nexthop, IP(198, 19, 0, 254));
	/* a down interface's routes are skipped */
	skiff_stack_iface(h->st, if2)->up = false;
	r = look(h, IP(10, 0, 0, 1), -1, 0);
	assert_int_equal(r.ifindex, h->ifindex);
	r = look(h, IP(198, 19, 0, 7), -1, 0); /* its connected route is skipped: default via if0 */
	assert_int_equal(r.ifindex, h->ifindex);
	assert_int_equal(r.nexthop, IP(198, 18, 0, 254));
	look(h, IP(198, 19, 0, 7), if2, -ENETUNREACH);
	/* broadcast with an explicit down oif fails */
	look(h, 0xffffffffu, if2, -ENETUNREACH);
	skiff_stack_iface(h->st, if2)->up = true;
	assert_int_equal(look(h, IP(10, 0, 0, 1), -1, 0).ifindex, if2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_connected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_longest_prefix_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metric_tiebreak, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_and_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_full, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_source_selection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interfaces, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
