/* wire_arp.h — ARP for IPv4 over Ethernet (RFC 826).
 *
 * Only htype 1 / ptype 0x0800 / hlen 6 / plen 4 is meaningful to the stack; the
 * parser reports anything else as -EPROTONOSUPPORT so input can name the drop.
 */
#ifndef SKIFF_WIRE_ARP_H
#define SKIFF_WIRE_ARP_H

#include <errno.h>
#include <string.h>

#include "view.h"

#define ARP_LEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2

struct arp_repr {
	uint16_t op;
	uint8_t sha[6];
	uint32_t spa; /* host order */
	uint8_t tha[6];
	uint32_t tpa; /* host order */
};

static inline int arp_parse(struct view *v, struct arp_repr *r)
{
	const uint8_t *h = view_pull(v, ARP_LEN);
	if (!h)
		return -EBADMSG;
	if (ld16(h) != 1 || ld16(h + 2) != 0x0800 || h[4] != 6 || h[5] != 4)
		return -EPROTONOSUPPORT;
	r->op = ld16(h + 6);
	memcpy(r->sha, h + 8, 6);
	r->spa = ld32(h + 14);
	memcpy(r->tha, h + 18, 6);
	r->tpa = ld32(h + 24);
	return 0;
}

static inline void arp_emit(uint8_t *h, const struct arp_repr *r)
{
	st16(h, 1);
	st16(h + 2, 0x0800);
	h[4] = 6;
	h[5] = 4;
	st16(h + 6, r->op);
	memcpy(h + 8, r->sha, 6);
	st32(h + 14, r->spa);
	memcpy(h + 18, r->tha, 6);
	st32(h + 24, r->tpa);
}

#endif
