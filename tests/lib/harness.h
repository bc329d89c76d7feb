/* harness.h — one stack on a fake interface, for unit tests.
 *
 * The interface is backed by a mempool; the test injects frames as byte vectors
 * (h_inject), reads what the stack transmitted (h_tx_pop), and moves the fake
 * clock (h_advance runs the timers). Frame builders make valid Ethernet/IPv4/
 * UDP/ICMP frames with correct checksums for cases that need variations of a
 * checked-in vector. Addresses: the stack is 198.18.0.1/24 with MAC
 * 02:00:00:00:00:01; the peer is 198.18.0.2 with MAC 02:00:00:00:00:02.
 */
#ifndef SKIFF_TEST_HARNESS_H
#define SKIFF_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/stack.h"

#define H_LOCAL_IP 0xc6120001u  /* 198.18.0.1 */
#define H_PEER_IP 0xc6120002u   /* 198.18.0.2 */
#define H_OTHER_IP 0xc6120003u  /* 198.18.0.3 */
#define H_BCAST_IP 0xc61200ffu  /* 198.18.0.255 */

extern const uint8_t h_local_mac[6];
extern const uint8_t h_peer_mac[6];

struct harness {
	struct skiff_stack *st;
	struct skiff_mempool *mp;
	int ifindex;
	uint64_t now;
};

/* cfg NULL: defaults. Adds the interface and 198.18.0.1/24, then discards the
 * gratuitous ARP it sends. Returns 0 or -errno. */
int h_init(struct harness *h, const struct skiff_stack_config *cfg);
void h_fini(struct harness *h);
/* Copy a frame into a pool buffer and hand it to the stack. */
void h_inject(struct harness *h, const void *frame, size_t len);
/* Next transmitted frame (caller frees with skiff_pkt_free), or NULL. */
struct skiff_pkt *h_tx_pop(struct harness *h);
/* Number of frames waiting for transmit; h_tx_flush frees them all. */
unsigned h_tx_count(struct harness *h);
void h_tx_flush(struct harness *h);
/* Advance the fake clock by ns and run due timers. */
void h_advance(struct harness *h, uint64_t ns);
uint64_t h_drops(const struct harness *h, enum skiff_drop_reason r);
/* Teach the stack the peer's MAC (as if an ARP reply arrived), discarding output. */
void h_learn_peer(struct harness *h);

/* Frame builders: write into buf (>= 14 + 20 + 8 + payload) and return the length. */
size_t fb_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
/* IPv4 header after an Ethernet header at buf; l4 bytes already at buf+34. frag = flags|offset field. */
size_t fb_ip4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag, size_t l4len);
/* Complete Ethernet+IPv4+UDP frame from the peer to us with a correct checksum. */
size_t fb_udp4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *payload,
	       size_t plen);
/* Complete Ethernet+IPv4+ICMP frame (checksum computed). */
size_t fb_icmp4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type, uint8_t code, uint32_t rest,
		const void *payload, size_t plen);
/* ARP frame from the peer. */
size_t fb_arp(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa,
	      const uint8_t eth_dst[6]);

#endif
