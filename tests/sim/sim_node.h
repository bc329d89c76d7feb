/* sim_node.h — one simulated host for the sims: a stack on one device (loop,
 * fault or pcap wrapped), and the pump that moves its frames. Include after
 * <cmocka.h>.
 *
 * sim_node_init: stack from cfg, interface "sim0" on dev, address ip/24.
 * sim_node_pump: run the stack's timers, hand its output to the device (what the
 * device refuses goes back to the stack), feed the device's input to the stack;
 * returns frames moved.
 */
#ifndef SKIFF_TESTS_SIM_NODE_H
#define SKIFF_TESTS_SIM_NODE_H

#include <stdint.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"

struct node {
	struct skiff_stack *st;
	struct skiff_dev *dev;
	int ifindex;
};

static inline void sim_node_init(struct node *nd, const struct skiff_stack_config *cfg, struct skiff_dev *dev,
				 uint32_t ip, uint64_t now)
{
	assert_int_equal(skiff_stack_create(cfg, now, &nd->st), 0);
	nd->dev = dev;
	nd->ifindex = skiff_stack_add_iface(nd->st, "sim0", dev->mac, dev->mtu, dev->caps, skiff_dev_pool(dev));
	assert_true(nd->ifindex >= 0);
	assert_int_equal(skiff_stack_add_addr4(nd->st, nd->ifindex, ip, 24, now), 0);
}

static inline unsigned sim_node_pump(struct node *nd, uint64_t now)
{
	struct skiff_pkt *b[32];
	unsigned moved = 0, n, k;

	skiff_stack_poll(nd->st, now);
	while ((n = skiff_stack_tx_drain(nd->st, nd->ifindex, b, 32)) > 0) {
		k = skiff_dev_tx(nd->dev, b, n, now);
		if (k < n)
			skiff_stack_tx_requeue(nd->st, nd->ifindex, b + k, n - k);
		moved += k;
		if (k < n)
			break;
	}
	while ((n = skiff_dev_rx(nd->dev, b, 32, now)) > 0) {
		skiff_stack_input(nd->st, nd->ifindex, b, n, now);
		moved += n;
	}
	return moved;
}

#endif
