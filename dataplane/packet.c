/* packet.c — AF_PACKET sockets in the dataplane (packet.h has the flow).
 *
 * tap(frame, in|out) → linear view (untagged: Linux moves an 802.1Q tag to
 *   metadata before any tap) → pkttype → device filter (rx only) → per socket:
 *   protocol, interface, BPF on the socket type's view → rmem check → record in
 *   the socket's byte ring (or the TPACKET_V3 ring) → ready list.
 * recv: oldest record → caller's iovec + info. send: frame from the
 *   interface pool → skiff_iface_tx (which taps it for the other sockets).
 */
#include "packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_classic.h"
#include "packet_ring.h"
#include "stack.h"
#include "udp.h"
#include "wire_eth.h"

#define SCRATCH_LEN 65536u
#define REC_HDR_LEN ((uint32_t)sizeof(struct rec))
#define SOCK_RAW_T 3
#define SOCK_DGRAM_T 2

/* One queued frame: this header, then caplen bytes, padded to 8. */
struct rec {
	uint32_t size;        /* whole record */
	uint32_t cost;        /* truesize charged to rmem */
	struct skiff_packet_info info;
};

/* The table lives behind st->packet together with a linearisation buffer. */
struct packet_table_mem {
	struct skiff_packet_table t;
	uint8_t scratch[SCRATCH_LEN];
};

static struct skiff_packet_table *table(struct skiff_stack *st) { return st->packet; }

int skiff_packet_table_create(struct skiff_stack *st)
{
	struct packet_table_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	st->packet = &m->t;
	return 0;
}

void skiff_packet_table_destroy(struct skiff_stack *st)
{
	struct skiff_packet_table *t = table(st);
	if (!t)
		return;
	for (unsigned i = 0; i < SKIFF_PACKET_SOCKS; i++) {
		free(t->socks[i].qbuf);
		free(t->socks[i].filter);
	}
	free(t);
	st->packet = NULL;
}

static void mark_ready(struct skiff_packet_table *t, struct skiff_packet_sock *pk)
{
	pk->wake_seq++;
	if (pk->on_ready)
		return;
	pk->on_ready = true;
	pk->ready_next = t->ready_head;
	t->ready_head = pk;
}

struct skiff_packet_sock *skiff_packet_ready_pop(struct skiff_stack *st)
{
	struct skiff_packet_table *t = table(st);
	struct skiff_packet_sock *pk = t ? t->ready_head : NULL;
	if (pk) {
		t->ready_head = pk->ready_next;
		pk->ready_next = NULL;
		pk->on_ready = false;
	}
	return pk;
}

static void ready_remove(struct skiff_packet_table *t, struct skiff_packet_sock *pk)
{
	if (!pk->on_ready)
		return;
	for (struct skiff_packet_sock **pp = &t->ready_head; *pp; pp = &(*pp)->ready_next) {
		if (*pp == pk) {
			*pp = pk->ready_next;
			break;
		}
	}
	pk->on_ready = false;
}

/* ---- open / close / options ---- */

static void ring_timer_fn(struct skiff_stack *st, struct skiff_timer *tm, uint64_t now)
{
	struct skiff_packet_sock *pk =
		(struct skiff_packet_sock *)((char *)tm - offsetof(struct skiff_packet_sock, ring_timer));
	if (!pk->ring)
		return;
	if (skiff_pkt_ring_tick(pk->ring, now))
		mark_ready(table(st), pk);
	skiff_timer_arm(&st->timers, &pk->ring_timer, skiff_pkt_ring_next(pk->ring, now));
}

struct skiff_packet_sock *skiff_packet_open(struct skiff_stack *st, int type, uint16_t proto_be, int *err)
{
	struct skiff_packet_table *t = table(st);
	struct skiff_packet_sock *pk = NULL;
	uint32_t cap = st->cfg.rcvbuf_max * 2u + SCRATCH_LEN + 2u * REC_HDR_LEN;

	if (type != SOCK_RAW_T && type != SOCK_DGRAM_T) {
		*err = -EINVAL;
		return NULL;
	}
	for (unsigned i = 0; i < SKIFF_PACKET_SOCKS && !pk; i++)
		if (!t->socks[i].in_use)
			pk = &t->socks[i];
	if (!pk) {
		*err = -ENOBUFS;
		return NULL;
	}
	free(pk->qbuf);
	free(pk->filter);
	memset(pk, 0, sizeof(*pk));
	pk->qbuf = malloc(cap);
	if (!pk->qbuf) {
		*err = -ENOMEM;
		return NULL;
	}
	pk->qcap = cap;
	pk->in_use = true;
	pk->type = type;
	pk->proto_be = proto_be;
	pk->ifindex = -1;
	pk->rcvbuf = st->cfg.rcvbuf_default;
	skiff_timer_init(&pk->ring_timer, ring_timer_fn);
	t->nopen++;
	return pk;
}

static void member_apply(struct skiff_packet_table *t, const struct skiff_packet_member *m, int delta);

void skiff_packet_close(struct skiff_stack *st, struct skiff_packet_sock *pk)
{
	struct skiff_packet_table *t = table(st);
	if (!pk || !pk->in_use)
		return;
	for (unsigned i = 0; i < SKIFF_PACKET_MEMBERS; i++)
		if (pk->members[i].used)
			member_apply(t, &pk->members[i], -1);
	skiff_timer_cancel(&st->timers, &pk->ring_timer);
	ready_remove(t, pk);
	free(pk->filter);
	pk->filter = NULL;
	pk->in_use = false;
	pk->ring = NULL;
	pk->qcount = 0;
	t->nopen--;
}

int skiff_packet_bind(struct skiff_stack *st, struct skiff_packet_sock *pk, int ifindex, uint16_t proto_be)
{
	if (ifindex >= 0 && !skiff_stack_iface(st, ifindex))
		return -ENODEV;
	pk->ifindex = ifindex;
	pk->proto_be = proto_be;
	return 0;
}

int skiff_packet_set_filter(struct skiff_stack *st, struct skiff_packet_sock *pk, const struct sock_filter *prog,
			    unsigned len)
{
	struct sock_filter *copy;
	int rc;
	(void)st;
	if (!prog) { /* sk_detach_filter: the lock first */
		if (pk->filter_locked)
			return -EPERM;
		if (!pk->filter)
			return -ENOENT;
		free(pk->filter);
		pk->filter = NULL;
		pk->filter_len = 0;
		return 0;
	}
	rc = skiff_bpf_check(prog, len); /* sk_attach_filter: the program is checked before the lock */
	if (rc)
		return rc;
	if (pk->filter_locked)
		return -EPERM;
	copy = malloc(len * sizeof(*prog));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, prog, len * sizeof(*prog));
	free(pk->filter);
	pk->filter = copy;
	pk->filter_len = len;
	return 0;
}

void skiff_packet_set_rcvbuf(struct skiff_stack *st, struct skiff_packet_sock *pk, uint32_t bytes)
{
	(void)st;
	pk->rcvbuf = bytes;
}

void skiff_packet_stats(struct skiff_packet_sock *pk, uint32_t *packets, uint32_t *drops)
{
	*drops = pk->stat_drops;
	*packets = pk->stat_packets + pk->stat_drops; /* packet_getsockopt: tp_packets += tp_drops */
	pk->stat_packets = pk->stat_drops = 0;
}

void skiff_packet_set_ring(struct skiff_stack *st, struct skiff_packet_sock *pk, struct skiff_pkt_ring *ring)
{
	pk->ring = ring;
	skiff_timer_cancel(&st->timers, &pk->ring_timer);
	if (ring)
		skiff_timer_arm(&st->timers, &pk->ring_timer, skiff_pkt_ring_next(ring, st->now));
}

/* ---- memberships (packet_mc_add / packet_dev_mc) ---- */

static void member_apply(struct skiff_packet_table *t, const struct skiff_packet_member *m, int delta)
{
	struct skiff_packet_ifstate *is = &t->ifs[m->ifindex];
	switch (m->type) {
	case SKIFF_PACKET_MR_PROMISC:
		is->promisc += (unsigned)delta;
		break;
	case SKIFF_PACKET_MR_ALLMULTI:
		is->allmulti += (unsigned)delta;
		break;
	default: {
		int slot = -1;
		for (int i = 0; i < SKIFF_PACKET_MC_MACS; i++) {
			if (is->mc_refs[i] && memcmp(is->mc[i], m->addr, 6) == 0) {
				slot = i;
				break;
			}
			if (!is->mc_refs[i] && slot < 0 && delta > 0)
				slot = i;
		}
		if (slot < 0)
			return;
		memcpy(is->mc[slot], m->addr, 6);
		is->mc_refs[slot] += (unsigned)delta;
		break;
	}
	}
}

static bool mc_slot_free(const struct skiff_packet_ifstate *is, const uint8_t *addr)
{
	for (int i = 0; i < SKIFF_PACKET_MC_MACS; i++)
		if (!is->mc_refs[i] || memcmp(is->mc[i], addr, 6) == 0)
			return true;
	return false;
}

int skiff_packet_membership(struct skiff_stack *st, struct skiff_packet_sock *pk, bool add, int ifindex, int type,
			    const uint8_t *addr, unsigned alen)
{
	struct skiff_packet_table *t = table(st);
	struct skiff_packet_member m = { .used = true, .ifindex = (uint16_t)ifindex, .type = (uint8_t)type };

	if (!skiff_stack_iface(st, ifindex))
		return -ENODEV;
	if (type == SKIFF_PACKET_MR_MULTICAST) {
		if (alen != 6 || !addr) /* packet_mc_add: alen != dev->addr_len */
			return -EINVAL;
		memcpy(m.addr, addr, 6);
	} else if (type != SKIFF_PACKET_MR_PROMISC && type != SKIFF_PACKET_MR_ALLMULTI) {
		return -EINVAL;
	}
	for (unsigned i = 0; i < SKIFF_PACKET_MEMBERS; i++) {
		struct skiff_packet_member *o = &pk->members[i];
		if (!o->used || o->ifindex != m.ifindex || o->type != m.type ||
		    (type == SKIFF_PACKET_MR_MULTICAST && memcmp(o->addr, m.addr, 6) != 0))
			continue;
		if (add)
			return 0; /* Linux counts a repeat (ml->count++): one entry is enough for the view */
		member_apply(t, o, -1);
		o->used = false;
		return 0;
	}
	if (!add)
		return -EADDRNOTAVAIL;
	if (type == SKIFF_PACKET_MR_MULTICAST && !mc_slot_free(&t->ifs[ifindex], m.addr))
		return -ENOBUFS;
	for (unsigned i = 0; i < SKIFF_PACKET_MEMBERS; i++) {
		if (pk->members[i].used)
			continue;
		pk->members[i] = m;
		member_apply(t, &m, +1);
		return 0;
	}
	return -ENOBUFS;
}

/* ---- the queue: records in a byte ring ---- */

static struct rec *q_alloc(struct skiff_packet_sock *pk, uint32_t size)
{
	uint32_t at;
	if (pk->qcount == 0) {
		pk->qr = pk->qw = 0;
		pk->qwrap = pk->qcap;
	}
	if (pk->qwrap == pk->qcap) { /* data in [qr, qw): free behind qw, then before qr */
		if (pk->qcap - pk->qw >= size) {
			at = pk->qw;
		} else if (pk->qr >= size) {
			pk->qwrap = pk->qw; /* the reader goes back to 0 here */
			at = 0;
		} else {
			return NULL;
		}
	} else { /* wrapped: data in [qr, qwrap) and [0, qw) */
		if (pk->qr - pk->qw < size)
			return NULL;
		at = pk->qw;
	}
	pk->qw = at + size;
	pk->qcount++;
	return (struct rec *)(pk->qbuf + at);
}

static struct rec *q_head(const struct skiff_packet_sock *pk)
{
	uint32_t at = pk->qr;
	if (!pk->qcount)
		return NULL;
	if (at >= pk->qwrap)
		at = 0;
	return (struct rec *)(pk->qbuf + at);
}

static void q_pop(struct skiff_packet_sock *pk)
{
	struct rec *r = q_head(pk);
	uint32_t at = (uint32_t)((uint8_t *)r - pk->qbuf);
	pk->rmem -= r->cost;
	pk->qr = at + r->size;
	if (at == 0 && pk->qwrap != pk->qcap)
		pk->qwrap = pk->qcap; /* the reader passed the wrap point */
	if (--pk->qcount == 0) {
		pk->qr = pk->qw = 0;
		pk->qwrap = pk->qcap;
	}
}

uint32_t skiff_packet_next_len(const struct skiff_packet_sock *pk)
{
	const struct rec *r = q_head(pk);
	return r ? r->info.caplen : 0;
}

unsigned skiff_packet_events(const struct skiff_packet_sock *pk)
{
	unsigned ev = SKIFF_EV_OUT;
	if (pk->qcount || (pk->ring && skiff_pkt_ring_ready(pk->ring)))
		ev |= SKIFF_EV_IN;
	return ev;
}

long skiff_packet_recv(struct skiff_stack *st, struct skiff_packet_sock *pk, const struct iovec *iov, int iovcnt,
		       bool peek, struct skiff_packet_info *info)
{
	struct rec *r = q_head(pk);
	const uint8_t *src;
	uint32_t left, done = 0;
	(void)st;

	if (!r)
		return -EAGAIN;
	src = (const uint8_t *)(r + 1);
	left = r->info.caplen;
	for (int i = 0; i < iovcnt && left; i++) {
		uint32_t n = iov[i].iov_len < left ? (uint32_t)iov[i].iov_len : left;
		if (n)
			memcpy(iov[i].iov_base, src + done, n);
		done += n;
		left -= n;
	}
	if (info)
		*info = r->info;
	if (!peek)
		q_pop(pk);
	return done;
}

/* ---- the taps ---- */

static uint32_t truesize(uint32_t len) { return ((len + 63u) & ~63u) + 576u; /* SKB_TRUESIZE-like */ }

/* The device's address filter as a kernel NIC applies it before any tap. */
static bool dev_accepts(const struct skiff_packet_ifstate *is, const uint8_t *dst, uint8_t pkttype)
{
	if (pkttype == SKIFF_PACKET_OTHERHOST)
		return is->promisc != 0;
	if (pkttype != SKIFF_PACKET_MULTICAST || is->promisc || is->allmulti)
		return true;
	/* the groups the stack itself accepts: IPv4 (RFC 1112 6.4) and IPv6 (RFC 2464 7) */
	if ((dst[0] == 0x01 && dst[1] == 0x00 && dst[2] == 0x5e && !(dst[3] & 0x80)) ||
	    (dst[0] == 0x33 && dst[1] == 0x33))
		return true;
	for (int i = 0; i < SKIFF_PACKET_MC_MACS; i++)
		if (is->mc_refs[i] && memcmp(is->mc[i], dst, 6) == 0)
			return true;
	return false;
}

static void deliver(struct skiff_stack *st, struct skiff_packet_table *t, struct skiff_packet_sock *pk,
		    const uint8_t *frame, uint32_t flen, const struct skiff_packet_info *base)
{
	struct skiff_packet_info info = *base;
	const uint8_t *view = frame;
	uint32_t vlen = flen, snap;
	struct rec *r;

	if (pk->type == SOCK_DGRAM_T) {
		view = frame + ETH_HDR_LEN;
		vlen = flen - ETH_HDR_LEN;
		info.mac_off = 0; /* Linux's tp_mac for DGRAM: the network header's offset, 0 here */
		info.net_off = 0;
	}
	snap = vlen;
	if (pk->filter) {
		struct skiff_bpf_aux aux;
		uint32_t res;
		memset(&aux, 0, sizeof(aux));
		aux.ll_off = pk->type == SOCK_DGRAM_T ? -(int32_t)ETH_HDR_LEN : 0;
		aux.net_off = pk->type == SOCK_DGRAM_T ? 0 : ETH_HDR_LEN;
		aux.headroom = pk->type == SOCK_DGRAM_T ? ETH_HDR_LEN : 0;
		aux.protocol = ntohs(info.proto_be);
		aux.hatype = 1; /* ARPHRD_ETHER */
		aux.vlan_tci = info.vlan_tci;
		aux.vlan_tpid = info.vlan_tpid;
		aux.vlan_present = info.vlan_valid;
		aux.pkttype = info.pkttype;
		aux.ifindex = info.ifindex;
		aux.random = (uint32_t)skiff_rand64(st);
		res = skiff_bpf_run(pk->filter, view, vlen, &aux);
		if (res == 0)
			return; /* filtered: not counted (packet_rcv's "drop" label) */
		if (res < snap)
			snap = res;
	}
	info.caplen = snap;
	info.origlen = vlen; /* skb->len before the trim: from the network header for DGRAM */
	if (pk->ring) {
		if (skiff_pkt_ring_put(pk->ring, &info, view, snap, st->now) < 0) {
			pk->stat_drops++;
			skiff_count_drop(st, SKIFF_DROP_PACKET_RCVBUF_FULL);
			return;
		}
		pk->stat_packets++;
		if (skiff_pkt_ring_ready(pk->ring))
			mark_ready(t, pk);
		return;
	}
	if (pk->rmem >= pk->rcvbuf ||
	    !(r = q_alloc(pk, (REC_HDR_LEN + snap + 7u) & ~7u))) { /* packet_rcv: sk_rmem_alloc >= sk_rcvbuf */
		pk->stat_drops++;
		skiff_count_drop(st, SKIFF_DROP_PACKET_RCVBUF_FULL);
		return;
	}
	r->size = (REC_HDR_LEN + snap + 7u) & ~7u;
	r->cost = truesize(flen);
	r->info = info;
	memcpy(r + 1, view, snap);
	pk->rmem += r->cost;
	pk->stat_packets++;
	mark_ready(t, pk);
}

void skiff_packet_tap(struct skiff_stack *st, struct skiff_iface *ifc, const struct skiff_pkt *p, bool outgoing)
{
	struct skiff_packet_table *t = table(st);
	struct packet_table_mem *m = (struct packet_table_mem *)t;
	struct skiff_packet_info info;
	const uint8_t *frame = skiff_pkt_data(p);
	uint32_t flen = p->len;
	uint16_t type;

	if (p->chain) { /* a chained frame: one linear copy (the chain is data behind the headers) */
		uint32_t n = 0;
		for (const struct skiff_pkt *c = p; c; c = c->chain) {
			uint32_t k = c->len <= SCRATCH_LEN - n ? c->len : SCRATCH_LEN - n;
			memcpy(m->scratch + n, skiff_pkt_data(c), k);
			n += k;
		}
		frame = m->scratch;
		flen = n;
	}
	if (flen < ETH_HDR_LEN)
		return; /* eth_type_trans never saw it: the driver drops runts */
	memset(&info, 0, sizeof(info));
	type = ld16(frame + 12);
	if (p->flags & SKIFF_PKT_RX_VLAN && !outgoing) { /* stripped by the driver */
		info.vlan_valid = true;
		info.vlan_tci = p->vlan_tci;
		info.vlan_tpid = ETH_TYPE_VLAN;
	}
	if ((type == ETH_TYPE_VLAN || type == 0x88a8) && flen >= ETH_VLAN_HDR_LEN && !info.vlan_valid) {
		/* skb_vlan_untag: the tag becomes metadata, the frame closes up */
		info.vlan_valid = true;
		info.vlan_tci = ld16(frame + 14);
		info.vlan_tpid = type;
		if (frame != m->scratch)
			memcpy(m->scratch, frame, 12);
		else
			memmove(m->scratch, frame, 12);
		memmove(m->scratch + 12, frame + 16, flen - 16);
		frame = m->scratch;
		flen -= 4;
		type = ld16(frame + 12);
	}
	info.proto_be = htons(type);
	info.ifindex = ifc->index;
	info.net_off = ETH_HDR_LEN;
	info.ts = outgoing ? st->now : p->ts;
	info.csum_not_ready = outgoing && (p->flags & SKIFF_PKT_TX_L4_CSUM);
	memcpy(info.addr, frame + 6, 6);
	if (outgoing)
		info.pkttype = SKIFF_PACKET_OUTGOING;
	else if (eth_is_mcast(frame))
		info.pkttype = eth_is_bcast(frame) ? SKIFF_PACKET_BROADCAST : SKIFF_PACKET_MULTICAST;
	else
		info.pkttype = memcmp(frame, ifc->mac, 6) == 0 ? SKIFF_PACKET_HOST : SKIFF_PACKET_OTHERHOST;
	if (!outgoing && ifc->index < 8 && !dev_accepts(&t->ifs[ifc->index], frame, info.pkttype))
		return;
	for (unsigned i = 0; i < SKIFF_PACKET_SOCKS; i++) {
		struct skiff_packet_sock *pk = &t->socks[i];
		if (!pk->in_use || pk->proto_be == 0 || pk == t->tx_self || (outgoing && pk->ignore_outgoing))
			continue;
		if (pk->ifindex >= 0 && pk->ifindex != ifc->index)
			continue;
		if (pk->proto_be != htons(SKIFF_ETH_P_ALL) && pk->proto_be != info.proto_be)
			continue;
		deliver(st, t, pk, frame, flen, &info);
	}
}

/* ---- send (packet_snd) ---- */

long skiff_packet_send(struct skiff_stack *st, struct skiff_packet_sock *pk, int ifindex, const struct iovec *iov,
		       int iovcnt, const uint8_t *dst, uint16_t proto_be)
{
	struct skiff_packet_table *t = table(st);
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	uint32_t hdr = pk->type == SOCK_DGRAM_T ? ETH_HDR_LEN : 0;
	size_t len = 0;
	struct skiff_pkt *p;
	uint8_t *d;

	if (!ifc || ifc->loopback)
		return -ENXIO;
	if (!ifc->up)
		return -ENETDOWN;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (pk->type == SOCK_RAW_T) {
		if (len < ETH_HDR_LEN)
			return -EINVAL; /* dev_validate_header: shorter than min_header_len */
		/* packet_snd: mtu + hard_header_len, + 4 only for a frame carrying a VLAN tag */
		if (len > (size_t)ifc->mtu + ETH_HDR_LEN + 4u)
			return -EMSGSIZE;
		if (len > (size_t)ifc->mtu + ETH_HDR_LEN) {
			const uint8_t *f = iov[0].iov_len >= 14 ? iov[0].iov_base : NULL;
			if (!f || ld16(f + 12) != ETH_TYPE_VLAN)
				return -EMSGSIZE; /* packet_extra_vlan_len_allowed */
		}
	} else if (len > ifc->mtu) {
		return -EMSGSIZE;
	}
	if (ifc->tx_count > ifc->tx_mask)
		return -ENOBUFS;
	p = skiff_iface_alloc(ifc);
	if (!p)
		return -ENOBUFS;
	d = skiff_pkt_put(p, (uint32_t)(len + hdr));
	if (!d) {
		skiff_pkt_free(p);
		return -EMSGSIZE;
	}
	if (hdr) {
		memcpy(d, dst, 6);
		memcpy(d + 6, ifc->mac, 6);
		st16(d + 12, ntohs(proto_be)); /* dev_hard_header(skb, dev, ntohs(proto), addr, ...) */
	}
	for (int i = 0, o = (int)hdr; i < iovcnt; i++) {
		memcpy(d + o, iov[i].iov_base, iov[i].iov_len);
		o += (int)iov[i].iov_len;
	}
	p->ifindex = ifc->index;
	t->tx_self = pk;
	skiff_iface_tx(st, ifc, p);
	t->tx_self = NULL;
	return (long)len;
}
