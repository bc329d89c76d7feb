/* wire_eth.h — Ethernet II header with an optional 802.1Q tag (IEEE 802.3, 802.1Q).
 *
 * eth_parse() checks length, reads dst/src/type and, for type 0x8100, the tag and
 * the inner type; eth_emit() writes an untagged or tagged header.
 */
#ifndef SKIFF_WIRE_ETH_H
#define SKIFF_WIRE_ETH_H

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "view.h"

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETH_VLAN_HDR_LEN 18
#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_IP6 0x86dd

struct eth_repr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;      /* inner ethertype */
	uint16_t vlan_tci;  /* valid when has_vlan */
	bool has_vlan;
	uint8_t hdr_len;    /* 14 or 18 */
};

static inline bool eth_is_bcast(const uint8_t *m)
{
	return (m[0] & m[1] & m[2] & m[3] & m[4] & m[5]) == 0xff;
}
static inline bool eth_is_mcast(const uint8_t *m) { return (m[0] & 1) != 0; }
static inline bool eth_is_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}

/* Parse from v; on success v is advanced past the header. -EBADMSG when short. */
static inline int eth_parse(struct view *v, struct eth_repr *r)
{
	struct view s = *v;
	const uint8_t *h = view_pull(&s, ETH_HDR_LEN);
	if (!h)
		return -EBADMSG;
	memcpy(r->dst, h, ETH_ALEN);
	memcpy(r->src, h + 6, ETH_ALEN);
	r->type = ld16(h + 12);
	r->has_vlan = false;
	r->vlan_tci = 0;
	r->hdr_len = ETH_HDR_LEN;
	if (r->type == ETH_TYPE_VLAN) {
		const uint8_t *t = view_pull(&s, 4);
		if (!t)
			return -EBADMSG;
		r->has_vlan = true;
		r->vlan_tci = ld16(t);
		r->type = ld16(t + 2);
		r->hdr_len = ETH_VLAN_HDR_LEN;
	}
	*v = s;
	return 0;
}

/* Write the header at p (r->hdr_len bytes, decided by has_vlan). */
static inline void eth_emit(uint8_t *p, const struct eth_repr *r)
{
	memcpy(p, r->dst, ETH_ALEN);
	memcpy(p + 6, r->src, ETH_ALEN);
	if (r->has_vlan) {
		st16(p + 12, ETH_TYPE_VLAN);
		st16(p + 14, r->vlan_tci);
		st16(p + 16, r->type);
	} else {
		st16(p + 12, r->type);
	}
}

#endif
