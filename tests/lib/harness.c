/* harness.c — see harness.h. */
#include "harness.h"

#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/neigh.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_icmp4.h"
#include "dataplane/wire_ip4.h"
#include "dataplane/wire_udp.h"

const uint8_t h_local_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t h_peer_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

int h_init(struct harness *h, const struct skiff_stack_config *cfg)
{
	struct skiff_stack_config def;
	int rc;

	memset(h, 0, sizeof(*h));
	if (!cfg) {
		skiff_stack_config_defaults(&def);
		cfg = &def;
	}
	h->now = 1000000000ull;
	rc = skiff_mempool_create(8192, 2048 + SKIFF_HEADROOM, &h->mp);
	if (rc)
		return rc;
	rc = skiff_stack_create(cfg, h->now, &h->st);
	if (rc)
		return rc;
	h->ifindex = skiff_stack_add_iface(h->st, "test0", h_local_mac, 1500, 0, skiff_mempool_pool(h->mp));
	if (h->ifindex < 0)
		return h->ifindex;
	rc = skiff_stack_add_addr4(h->st, h->ifindex, H_LOCAL_IP, 24, h->now);
	if (rc)
		return rc;
	h_tx_flush(h);
	return 0;
}

void h_fini(struct harness *h)
{
	h_tx_flush(h);
	skiff_stack_destroy(h->st);
	skiff_mempool_destroy(h->mp);
	memset(h, 0, sizeof(*h));
}

void h_inject(struct harness *h, const void *frame, size_t len)
{
	struct skiff_pkt *p = skiff_pool_get(skiff_mempool_pool(h->mp));
	if (!p)
		return;
	if (len > skiff_pkt_tailroom(p))
		len = skiff_pkt_tailroom(p);
	memcpy(skiff_pkt_put(p, (uint32_t)len), frame, len);
	skiff_stack_input(h->st, h->ifindex, &p, 1, h->now);
}

struct skiff_pkt *h_tx_pop(struct harness *h)
{
	struct skiff_pkt *p = NULL;
	return skiff_stack_tx_drain(h->st, h->ifindex, &p, 1) == 1 ? p : NULL;
}

unsigned h_tx_count(struct harness *h)
{
	return skiff_stack_iface(h->st, h->ifindex)->tx_count;
}

void h_tx_flush(struct harness *h)
{
	struct skiff_pkt *p;
	while ((p = h_tx_pop(h)) != NULL)
		skiff_pkt_free(p);
}

void h_advance(struct harness *h, uint64_t ns)
{
	h->now += ns;
	skiff_stack_poll(h->st, h->now);
}

uint64_t h_drops(const struct harness *h, enum skiff_drop_reason r)
{
	return h->st->ctr.drop[r];
}

void h_learn_peer(struct harness *h)
{
	uint8_t f[64];
	size_t n = fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, (const uint8_t[6]){ 0 }, H_LOCAL_IP,
			  (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff });
	h_inject(h, f, n);
	h_tx_flush(h);
}

size_t fb_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	struct eth_repr e;
	memcpy(e.dst, dst, 6);
	memcpy(e.src, src, 6);
	e.type = type;
	e.has_vlan = false;
	e.vlan_tci = 0;
	e.hdr_len = ETH_HDR_LEN;
	eth_emit(buf, &e);
	return ETH_HDR_LEN;
}

size_t fb_ip4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id, uint16_t frag, size_t l4len)
{
	struct ip4_repr ip;
	memset(&ip, 0, sizeof(ip));
	ip.tos = 0;
	ip.total_len = (uint16_t)(IP4_HDR_LEN + l4len);
	ip.id = id;
	ip.frag = frag;
	ip.ttl = 64;
	ip.proto = proto;
	ip.src = src;
	ip.dst = dst;
	ip4_emit(buf + ETH_HDR_LEN, &ip);
	return ETH_HDR_LEN + IP4_HDR_LEN + l4len;
}

size_t fb_udp4(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, const void *payload,
	       size_t plen)
{
	uint8_t *u = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	struct udp_repr r = { sport, dport, (uint16_t)(UDP_HDR_LEN + plen), 0 };
	uint16_t c;
	fb_eth(buf, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	udp_emit(u, &r);
	if (plen)
		memcpy(u + UDP_HDR_LEN, payload, plen);
	c = csum_fold(csum_partial(u, UDP_HDR_LEN + plen, csum_pseudo4(src, dst, 17, (uint32_t)(UDP_HDR_LEN + plen))));
	st16(u + 6, c ? c : 0xffff);
	return fb_ip4(buf, src, dst, 17, 0x1234, 0, UDP_HDR_LEN + plen);
}

size_t fb_icmp4(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type, uint8_t code, uint32_t rest,
		const void *payload, size_t plen)
{
	uint8_t *ic = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	struct icmp4_repr r = { type, code, 0, rest };
	fb_eth(buf, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	icmp4_emit(ic, &r);
	if (plen)
		memcpy(ic + ICMP4_HDR_LEN, payload, plen);
	st16(ic + 2, csum_buf(ic, ICMP4_HDR_LEN + plen));
	return fb_ip4(buf, src, dst, 1, 0x4321, 0, ICMP4_HDR_LEN + plen);
}

size_t fb_arp(uint8_t *buf, uint16_t op, const uint8_t sha[6], uint32_t spa, const uint8_t tha[6], uint32_t tpa,
	      const uint8_t eth_dst[6])
{
	struct arp_repr a;
	fb_eth(buf, eth_dst, sha, ETH_TYPE_ARP);
	a.op = op;
	memcpy(a.sha, sha, 6);
	a.spa = spa;
	memcpy(a.tha, tha, 6);
	a.tpa = tpa;
	arp_emit(buf + ETH_HDR_LEN, &a);
	return ETH_HDR_LEN + ARP_LEN;
}
