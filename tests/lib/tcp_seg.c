/* tcp_seg.c — see tcp_seg.h. */
#include "tcp_seg.h"

#include <stdio.h>
#include <string.h>

#include "dataplane/csum.h"
#include "dataplane/view.h"
#include "dataplane/wire_arp.h"
#include "dataplane/wire_eth.h"
#include "dataplane/wire_ip4.h"

unsigned ts_other_frames;

unsigned ts_opts_encode(const struct ts_out *s, uint8_t out[40])
{
	uint8_t b[64];
	unsigned n = 0;

	if (s->raw_opts) {
		if (s->raw_opts_len > 40)
			return 0;
		memcpy(b, s->raw_opts, s->raw_opts_len);
		n = s->raw_opts_len;
	} else {
		/* Linux's SYN layout: MSS, SACK_PERM + TS, NOP + WS; otherwise NOPs align */
		if (s->mss) {
			b[n++] = 2;
			b[n++] = 4;
			st16(b + n, s->mss_val);
			n += 2;
		}
		if (s->ts) {
			if (s->sack_perm) {
				b[n++] = 4;
				b[n++] = 2;
			} else {
				b[n++] = 1;
				b[n++] = 1;
			}
			b[n++] = 8;
			b[n++] = 10;
			st32(b + n, s->tsval);
			st32(b + n + 4, s->tsecr);
			n += 8;
		} else if (s->sack_perm) {
			b[n++] = 1;
			b[n++] = 1;
			b[n++] = 4;
			b[n++] = 2;
		}
		if (s->ws) {
			b[n++] = 1;
			b[n++] = 3;
			b[n++] = 3;
			b[n++] = s->ws_val;
		}
		if (s->nsack) {
			if (s->nsack > 4)
				return 0;
			b[n++] = 1;
			b[n++] = 1;
			b[n++] = 5;
			b[n++] = (uint8_t)(2 + 8 * s->nsack);
			for (unsigned i = 0; i < s->nsack; i++) {
				if (n + 8 > sizeof(b))
					return 0;
				st32(b + n, s->sack[i][0]);
				st32(b + n + 4, s->sack[i][1]);
				n += 8;
			}
		}
	}
	while (n % 4)
		b[n++] = 0; /* EOL padding */
	if (n > 40)
		return 0;
	memcpy(out, b, n);
	return n;
}

size_t ts_build(uint8_t *buf, size_t cap, const struct ts_out *s)
{
	uint8_t opts[40];
	unsigned olen = ts_opts_encode(s, opts);
	uint32_t src = s->src ? s->src : H_PEER_IP, dst = s->dst ? s->dst : H_LOCAL_IP;
	size_t hl = TCP_HDR_LEN + olen, l4 = hl + s->plen;
	uint8_t *t = buf + ETH_HDR_LEN + IP4_HDR_LEN;

	if ((s->raw_opts || s->mss || s->ts || s->sack_perm || s->ws || s->nsack) && olen == 0 &&
	    !(s->raw_opts && s->raw_opts_len == 0))
		return 0; /* options did not fit */
	if (ETH_HDR_LEN + IP4_HDR_LEN + l4 > cap || l4 > 65535 - IP4_HDR_LEN)
		return 0;
	fb_eth(buf, h_local_mac, h_peer_mac, ETH_TYPE_IP4);
	st16(t, s->sport);
	st16(t + 2, s->dport);
	st32(t + 4, s->seq);
	st32(t + 8, s->ack);
	t[12] = (uint8_t)((s->doff_override ? s->doff_override : hl / 4) << 4);
	t[13] = s->flags;
	st16(t + 14, s->wnd);
	st16(t + 16, 0);
	st16(t + 18, 0);
	memcpy(t + TCP_HDR_LEN, opts, olen);
	if (s->plen)
		memcpy(t + hl, s->payload, s->plen);
	{
		uint16_t c = csum_fold(csum_partial(t, l4, csum_pseudo4(src, dst, IPPROTO_TCP_, (uint32_t)l4)));
		if (s->bad_csum)
			c ^= 0x5a5a;
		st16(t + 16, c);
	}
	return fb_ip4(buf, src, dst, IPPROTO_TCP_, 0x7000, IP4_FLAG_DF, l4);
}

void ts_send(struct harness *h, const struct ts_out *s)
{
	static uint8_t f[TS_FRAME_MAX];
	size_t n = ts_build(f, sizeof(f), s);
	if (n)
		h_inject(h, f, n);
}

static void parse_opts(const uint8_t *p, unsigned len, struct ts_seg *o)
{
	unsigned i = 0;
	while (i < len) {
		uint8_t kind = p[i], olen;
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len) {
			o->opt_bad = true;
			return;
		}
		olen = p[i + 1];
		switch (kind) {
		case 2:
			if (olen != 4)
				o->opt_bad = true;
			o->mss = true;
			o->mss_val = ld16(p + i + 2);
			break;
		case 3:
			if (olen != 3)
				o->opt_bad = true;
			o->ws = true;
			o->ws_val = p[i + 2];
			break;
		case 4:
			if (olen != 2)
				o->opt_bad = true;
			o->sack_perm = true;
			break;
		case 5:
			if (olen < 10 || (olen - 2) % 8 || (olen - 2) / 8 > 4) {
				o->opt_bad = true;
				break;
			}
			o->nsack = (uint8_t)((olen - 2) / 8);
			for (unsigned k = 0; k < o->nsack; k++) {
				o->sack[k][0] = ld32(p + i + 2 + 8 * k);
				o->sack[k][1] = ld32(p + i + 6 + 8 * k);
			}
			break;
		case 8:
			if (olen != 10) {
				o->opt_bad = true;
				break;
			}
			o->ts = true;
			o->tsval = ld32(p + i + 2);
			o->tsecr = ld32(p + i + 6);
			break;
		default:
			o->opt_bad = true; /* the stack sends nothing else */
			break;
		}
		i += olen;
	}
}

int ts_parse(const uint8_t *f, size_t len, struct ts_seg *o)
{
	const uint8_t *ip, *t;
	size_t ihl, tot, l4;

	memset(o, 0, sizeof(*o));
	if (len < ETH_HDR_LEN + IP4_HDR_LEN + TCP_HDR_LEN || ld16(f + 12) != ETH_TYPE_IP4)
		return -1;
	memcpy(o->eth_dst, f, 6);
	memcpy(o->eth_src, f + 6, 6);
	ip = f + ETH_HDR_LEN;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = ld16(ip + 2);
	if ((ip[0] >> 4) != 4 || ihl < IP4_HDR_LEN || ip[9] != IPPROTO_TCP_ || tot < ihl + TCP_HDR_LEN ||
	    ETH_HDR_LEN + tot > len)
		return -1;
	o->ttl = ip[8];
	o->df = (ld16(ip + 6) & IP4_FLAG_DF) != 0;
	o->src = ld32(ip + 12);
	o->dst = ld32(ip + 16);
	t = ip + ihl;
	l4 = tot - ihl;
	o->sport = ld16(t);
	o->dport = ld16(t + 2);
	o->seq = ld32(t + 4);
	o->ack = ld32(t + 8);
	o->doff = (uint8_t)((t[12] >> 4) * 4);
	o->flags = t[13];
	o->wnd = ld16(t + 14);
	if (o->doff < TCP_HDR_LEN || o->doff > l4)
		return -1;
	o->csum_ok = csum_fold(csum_partial(t, l4, csum_pseudo4(o->src, o->dst, IPPROTO_TCP_, (uint32_t)l4))) == 0;
	o->opts_len = (uint8_t)(o->doff - TCP_HDR_LEN);
	memcpy(o->opts, t + TCP_HDR_LEN, o->opts_len);
	parse_opts(o->opts, o->opts_len, o);
	o->len = (uint32_t)(l4 - o->doff);
	memcpy(o->data, t + o->doff, o->len < TS_DATA_MAX ? o->len : TS_DATA_MAX);
	return 0;
}

bool ts_pop(struct harness *h, struct ts_seg *out)
{
	struct skiff_pkt *p;
	while ((p = h_tx_pop(h)) != NULL) {
		int rc = p->chain ? -1 : ts_parse(skiff_pkt_data(p), p->len, out);
		skiff_pkt_free(p);
		if (rc == 0)
			return true;
		ts_other_frames++;
	}
	return false;
}

unsigned ts_flush(struct harness *h)
{
	struct ts_seg s;
	unsigned n = 0;
	while (ts_pop(h, &s))
		n++;
	return n;
}

void ts_peer_reachable(struct harness *h)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t f[64];
	size_t n;
	/* the request makes a STALE entry; a reply to us confirms it (REACHABLE) */
	n = fb_arp(f, ARP_OP_REQUEST, h_peer_mac, H_PEER_IP, (const uint8_t[6]){ 0 }, H_LOCAL_IP, bcast);
	h_inject(h, f, n);
	n = fb_arp(f, ARP_OP_REPLY, h_peer_mac, H_PEER_IP, h_local_mac, H_LOCAL_IP, h_local_mac);
	h_inject(h, f, n);
	h_tx_flush(h);
}

const char *ts_str(const struct ts_seg *s)
{
	static char b[160];
	char fl[9];
	const char *names = "FSRPAUEC";
	unsigned k = 0;
	for (unsigned i = 0; i < 8; i++)
		if (s->flags & (1u << i))
			fl[k++] = names[i];
	fl[k] = 0;
	snprintf(b, sizeof(b), "[%s] %u>%u seq=%u ack=%u win=%u len=%u%s%s", fl, s->sport, s->dport, s->seq, s->ack,
		 s->wnd, s->len, s->ts ? " ts" : "", s->nsack ? " sack" : "");
	return b;
}
