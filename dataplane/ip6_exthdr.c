/* ip6_exthdr.c — walk the IPv6 extension-header chain (RFC 8200 4) the way its
 * destination processes it. Offsets count from the start of the fixed header,
 * as ICMPv6 pointers do (RFC 4443 3.4).
 *
 *   nh = the fixed header's Next Header, off = 40
 *   loop on nh:
 *     Hop-by-Hop (0)    only at off 40; anywhere else Parameter Problem code 1
 *                       pointing at the Next Header field that named it (4, 4.3)
 *     Dest. Options (60) (4.6)
 *     Routing (43)      Segments Left 0: ignored whatever the type (4.4); else
 *                       code 0 pointing at the Routing Type: a host implements no
 *                       type (nothing is forwarded); type 0 has its own reason
 *                       (RFC 5095 3: handled exactly as an unknown type)
 *     Fragment (44)     offset 0 and M 0, an atomic fragment: skipped, the packet
 *                       is processed whole (4.5, RFC 6946 4, RFC 8021);
 *                       offset > 0: stop, fragment data follows;
 *                       offset 0 with M: go on, the whole chain and the upper-layer
 *                       header must be in this first fragment (RFC 7112 5, 4.5:
 *                       code 3, pointer 0); a Fragment header after a real one:
 *                       drop (4.1: at most once; nested reassembly not supported)
 *     No Next Header (59) stop, nothing follows (4.7)
 *     anything else     the upper layer: stop. AH, ESP, Mobility, ... are upper
 *                       layers here; whoever has no handler for one sends code 1
 *                       with pointer proto_ptr (4)
 *   each extension header, before its body is read: count <= max_hdrs, then its
 *   length known (2 bytes; Fragment: 8), chain bytes <= max_chain, whole header
 *   present (else truncated; in a first fragment RFC 7112's code 3)
 *   a real fragment last: M set → data a multiple of 8 bytes (4.5: code 0 →
 *   Payload Length, offset 4); per-fragment headers + offset + data <= 65535
 *   (4.5: code 0 → Fragment Offset, hdr_off + 2)
 *
 * Options of a Hop-by-Hop or Destination Options header (4.2): the TLVs fill the
 * header exactly; Pad1/PadN runs at most 7 bytes, PadN data zero (RFC 8504 5.3,
 * RFC 4942 2.1.9.5); at most max_opts other options (RFC 8504 5.3); a Router
 * Alert in Hop-by-Hop (RFC 2711: length 2) is recorded for MLD; any other type is
 * unrecognized and its two high bits decide: 00 skip, 01 discard, 10 discard and
 * code 2 pointing at the option type even if the destination is multicast, 11
 * the same only if it is not.
 */
#include "ip6_exthdr.h"

#include <string.h>

static int fail(struct ip6_ext_info *o, enum skiff_drop_reason r)
{
	o->drop = r;
	return -EBADMSG;
}

static int fail_icmp(struct ip6_ext_info *o, enum skiff_drop_reason r, uint8_t code, size_t ptr)
{
	o->icmp = true;
	o->icmp_code = code;
	o->icmp_ptr = (uint32_t)ptr;
	return fail(o, r);
}

/* A header of the chain runs past the packet. */
static int truncated(struct ip6_ext_info *o)
{
	if (o->first_frag) /* RFC 7112 5, RFC 8200 4.5 */
		return fail_icmp(o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
	return fail(o, SKIFF_DROP_IP6_EXT_TRUNCATED);
}

/* The options of the Hop-by-Hop or Destination Options header h (hlen bytes at off). */
static int walk_options(const uint8_t *h, size_t hlen, size_t off, bool hbh, bool dst_mcast,
			const struct ip6_ext_limits *lim, struct ip6_ext_info *o)
{
	struct view v = view_make(h + 2, hlen - 2);
	unsigned pad = 0, nopts = 0;

	while (v.len) {
		size_t at = off + hlen - v.len; /* this option's type byte */
		const uint8_t *t = view_pull(&v, 1);
		const uint8_t *l, *d;

		if (t[0] == IP6_OPT_PAD1) {
			if (++pad > IP6_EXT_MAX_PAD)
				return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
			continue;
		}
		l = view_pull(&v, 1);
		if (!l)
			return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
		d = view_pull(&v, l[0]);
		if (!d)
			return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
		if (t[0] == IP6_OPT_PADN) {
			pad += 2u + l[0];
			if (pad > IP6_EXT_MAX_PAD)
				return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
			for (unsigned i = 0; i < l[0]; i++)
				if (d[i])
					return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
			continue;
		}
		pad = 0;
		if (++nopts > lim->max_opts)
			return fail(o, SKIFF_DROP_IP6_OPT_TOO_MANY);
		if (hbh && t[0] == IP6_OPT_ROUTER_ALERT) {
			if (l[0] != 2)
				return fail(o, SKIFF_DROP_IP6_OPT_MALFORMED);
			o->router_alert = true;
			o->ra_value = ld16(d);
			continue;
		}
		switch (IP6_OPT_ACT(t[0])) {
		case IP6_OPT_ACT_SKIP:
			break;
		case IP6_OPT_ACT_DISCARD:
			return fail(o, SKIFF_DROP_IP6_OPT_UNKNOWN);
		case IP6_OPT_ACT_ICMP:
			o->icmp_mcast_ok = true;
			return fail_icmp(o, SKIFF_DROP_IP6_OPT_UNKNOWN, IP6_PP_OPTION, at);
		default: /* IP6_OPT_ACT_ICMP_UCAST */
			if (dst_mcast)
				return fail(o, SKIFF_DROP_IP6_OPT_UNKNOWN);
			return fail_icmp(o, SKIFF_DROP_IP6_OPT_UNKNOWN, IP6_PP_OPTION, at);
		}
	}
	return 0;
}

/* Bytes of the upper-layer header a first fragment must hold (RFC 7112 5; the
 * sizes Linux's ipv6_frag_thdr_truncated uses). */
static size_t upper_min(uint8_t nh)
{
	switch (nh) {
	case IP6_NH_TCP:
		return 20;
	case IP6_NH_UDP:
	case IP6_NH_ICMP6:
		return 8;
	case IP6_NH_NONE:
		return 0;
	default:
		return 1;
	}
}

/* The per-fragment checks of RFC 8200 4.5 that need only this fragment. */
static int frag_check(struct ip6_ext_info *o)
{
	const struct ip6_frag_info *fi = &o->fi;
	if (fi->more && (fi->data_len & 7))
		return fail_icmp(o, SKIFF_DROP_IP6_FRAG_BAD_LEN, IP6_PP_HEADER, 4);
	if ((size_t)(fi->hdr_off - IP6_HDR_LEN) + fi->offset + fi->data_len > 0xffff)
		return fail_icmp(o, SKIFF_DROP_IP6_FRAG_TOO_BIG, IP6_PP_HEADER, fi->hdr_off + 2);
	return 0;
}

int ip6_ext_walk(struct view pkt, const struct ip6_ext_limits *lim, struct ip6_ext_info *o)
{
	struct ip6_ext_limits def;
	struct view v = pkt; /* cursor: what follows the headers walked so far */
	const uint8_t *ip;
	size_t off = IP6_HDR_LEN, nh_ptr = 6;
	bool dst_mcast;
	uint8_t nh;

	memset(o, 0, sizeof(*o));
	if (!lim) {
		def = ip6_ext_limits_default();
		lim = &def;
	}
	ip = view_pull(&v, IP6_HDR_LEN);
	if (!ip)
		return fail(o, SKIFF_DROP_IP6_SHORT);
	nh = ip[6];
	dst_mcast = ip6_is_multicast(ip + 24);

	for (;;) {
		const uint8_t *h;
		size_t hlen;
		int err;

		if (nh != IP6_NH_HOPOPTS && nh != IP6_NH_DSTOPTS && nh != IP6_NH_ROUTING && nh != IP6_NH_FRAGMENT) {
			/* the upper layer, or No Next Header */
			o->proto = nh;
			o->l4_off = (uint32_t)off;
			o->proto_ptr = (uint32_t)nh_ptr;
			if (o->first_frag && v.len < upper_min(nh))
				return fail_icmp(o, SKIFF_DROP_IP6_FRAG_INCOMPLETE, IP6_PP_INCOMPLETE, 0);
			return o->frag ? frag_check(o) : 0;
		}
		if (nh == IP6_NH_HOPOPTS && off != IP6_HDR_LEN)
			return fail_icmp(o, SKIFF_DROP_IP6_HBH_NOT_FIRST, IP6_PP_NEXTHDR, nh_ptr);
		if (nh == IP6_NH_FRAGMENT && o->frag)
			return fail(o, SKIFF_DROP_IP6_FRAG_NESTED);
		if (o->n_hdrs >= lim->max_hdrs)
			return fail(o, SKIFF_DROP_IP6_EXT_TOO_MANY);
		o->n_hdrs++;
		if (nh == IP6_NH_FRAGMENT) {
			hlen = IP6_FRAG_HDR_LEN;
		} else {
			struct view s = v;
			const uint8_t *l = view_pull(&s, 2);
			if (!l)
				return truncated(o);
			hlen = ((size_t)l[1] + 1) * 8;
		}
		if (off + hlen - IP6_HDR_LEN > lim->max_chain)
			return fail(o, SKIFF_DROP_IP6_EXT_TOO_LONG);
		h = view_pull(&v, hlen);
		if (!h)
			return truncated(o);

		switch (nh) {
		case IP6_NH_HOPOPTS:
		case IP6_NH_DSTOPTS:
			err = walk_options(h, hlen, off, nh == IP6_NH_HOPOPTS, dst_mcast, lim, o);
			if (err)
				return err;
			break;
		case IP6_NH_ROUTING:
			if (h[3] != 0) /* Segments Left */
				return fail_icmp(o, h[2] == 0 ? SKIFF_DROP_IP6_RH0 : SKIFF_DROP_IP6_RH_UNKNOWN,
						 IP6_PP_HEADER, off + 2);
			break;
		default: { /* IP6_NH_FRAGMENT */
			struct ip6_frag_info *fi = &o->fi;
			uint16_t fo = ld16(h + 2);
			fi->id = ld32(h + 4);
			fi->offset = fo & IP6_FRAG_OFF_MASK;
			fi->more = (fo & IP6_FRAG_M) != 0;
			fi->next_hdr = h[0];
			fi->hdr_off = (uint32_t)off;
			fi->data_off = (uint32_t)(off + hlen);
			fi->data_len = (uint32_t)v.len;
			if (fi->offset == 0 && !fi->more) {
				o->atomic = true;
				break;
			}
			o->frag = true;
			if (fi->offset != 0) {
				o->proto = h[0];
				o->l4_off = fi->data_off;
				o->proto_ptr = (uint32_t)off;
				return frag_check(o);
			}
			o->first_frag = true;
			break;
		}
		}
		nh_ptr = off;
		nh = h[0];
		off += hlen;
	}
}
