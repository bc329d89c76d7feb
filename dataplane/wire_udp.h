/* wire_udp.h — UDP header (RFC 768). */
#ifndef SKIFF_WIRE_UDP_H
#define SKIFF_WIRE_UDP_H

#include <errno.h>

#include "view.h"

#define UDP_HDR_LEN 8

struct udp_repr {
	uint16_t sport;
	uint16_t dport;
	uint16_t len;
	uint16_t csum;
};

static inline int udp_parse(struct view *v, struct udp_repr *r)
{
	const uint8_t *h = view_pull(v, UDP_HDR_LEN);
	if (!h)
		return -EBADMSG;
	r->sport = ld16(h);
	r->dport = ld16(h + 2);
	r->len = ld16(h + 4);
	r->csum = ld16(h + 6);
	return 0;
}

static inline void udp_emit(uint8_t *h, const struct udp_repr *r)
{
	st16(h, r->sport);
	st16(h + 2, r->dport);
	st16(h + 4, r->len);
	st16(h + 6, r->csum);
}

#endif
