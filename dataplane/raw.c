/* raw.c — raw IP sockets and ICMP ping sockets (raw.h), as Linux's
 * net/ipv4/raw.c and net/ipv4/ping.c.
 *
 * Table: preallocated sockets on a free list; open ones on one list (raw sockets
 *   are few: a scan), with a count of raw (non-ping) sockets so input with none
 *   open costs one test.
 * Input (raw4_input, from ip4_input after reassembly, before the protocol demux;
 *   Linux raw_v4_input): every raw socket of the datagram's protocol whose bound
 *   address, connected peer and bound interface match, and whose ICMP_FILTER
 *   lets the type through (then SO_ATTACH_FILTER: refuse or cut, as sk_filter),
 *   gets the datagram with its IP header (a reassembled
 *   one with total length and fragment field fixed, as ip_defrag leaves it). The
 *   frame is copied per socket while a protocol handler still needs it; with no
 *   handler the last socket gets the frame itself.
 * Ping input (ping4_input, from icmp4 for echo replies; Linux ping_rcv): the socket
 *   whose echo id matches gets the ICMP message (the frame itself).
 * Errors (raw4_err, from icmp4's error delivery; Linux raw_icmp_error/raw_err and
 *   ping_err): IP_RECVERR queues the quoted payload with a sock_extended_err
 *   description; a hard error (or any, with IP_RECVERR) becomes the pending error.
 * IPv6: raw6.c, through the same table, queues and error entries.
 * Output: route, source, then either the header built by ip4_output (fragments
 *   allowed unless IP_PMTUDISC_DO; DF set when it fits under WANT, as Linux
 *   ip_dont_fragment), or IP_HDRINCL: the caller's datagram, at most one MTU, with
 *   source/id filled when 0 and total length/checksum always (raw(7)); ping:
 *   an echo request whose id and checksum are ours. Too big for DF (or for
 *   IP_HDRINCL): EMSGSIZE, and with IP_RECVERR a local error entry holding the
 *   MTU (Linux ip_local_error).
 */
#include "raw.h"
#include "raw_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bpf_classic.h"
#include "icmp4.h"
#include "ip4.h"
#include "neigh.h"
#include "route.h"
#include "stack.h"
#include "udp.h"
#include "wire_icmp4.h"

#define RAW_MAX_LEN 0xFFFFu

int skiff_raw_table_create(struct skiff_stack *st)
{
	struct skiff_raw_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (unsigned i = SKIFF_RAW_SOCKETS; i-- > 0;) {
		t->socks[i].next = t->free_head;
		t->free_head = &t->socks[i];
	}
	t->next_ident = (uint16_t)(skiff_rand64(st) | 1u);
	st->raw = t;
	return 0;
}

void skiff_raw_table_destroy(struct skiff_stack *st)
{
	struct skiff_raw_table *t = st->raw;
	if (!t)
		return;
	for (struct skiff_raw_sock *s = t->open_head; s; s = s->next) {
		skiff_pkt_free_list(s->rq_head);
		skiff_pkt_free_list(s->eq_head);
	}
	free(t);
	st->raw = NULL;
}

void raw_mark_ready(struct skiff_stack *st, struct skiff_raw_sock *sk)
{
	sk->wake_seq++;
	if (sk->on_ready)
		return;
	sk->on_ready = true;
	sk->ready_next = st->raw->ready_head;
	st->raw->ready_head = sk;
}

struct skiff_raw_sock *skiff_raw_ready_pop(struct skiff_stack *st)
{
	struct skiff_raw_sock *sk = st->raw ? st->raw->ready_head : NULL;
	if (sk) {
		st->raw->ready_head = sk->ready_next;
		sk->ready_next = NULL;
		sk->on_ready = false;
	}
	return sk;
}

struct skiff_raw_sock *skiff_raw_open(struct skiff_stack *st, int family, bool ping, int protocol, int *err)
{
	struct skiff_raw_table *t = st->raw;
	struct skiff_raw_sock *sk;
	uint32_t gen;

	if (family != SKIFF_AF_INET && family != SKIFF_AF_INET6) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	if (protocol < 0 || protocol > 255 ||
	    (ping && protocol != (family == SKIFF_AF_INET6 ? IPPROTO_ICMPV6_ : IPPROTO_ICMP_))) {
		*err = -EPROTONOSUPPORT;
		return NULL;
	}
	sk = t->free_head;
	if (!sk) {
		*err = -ENOBUFS;
		return NULL;
	}
	t->free_head = sk->next;
	gen = sk->gen;
	memset(sk, 0, sizeof(*sk));
	sk->gen = gen;
	sk->in_use = true;
	sk->ping = ping;
	sk->family = (uint8_t)family;
	sk->protocol = (uint8_t)protocol;
	sk->hdrincl = !ping && protocol == 255; /* IPPROTO_RAW: raw(7) */
	sk->laddr = sk->saddr = sk->raddr = skiff_addr_v4(0);
	sk->uhops = -1;
	sk->ttl = st->cfg.default_ttl;
	sk->mcast_ttl = 1;
	sk->pmtudisc = SKIFF_PMTUDISC_WANT; /* Linux default (ip_no_pmtu_disc = 0) */
	sk->bound_ifindex = -1;
	sk->rcvbuf = st->cfg.rcvbuf_default;
	sk->sndbuf = st->cfg.sndbuf_default;
	sk->next = t->open_head;
	t->open_head = sk;
	if (family == SKIFF_AF_INET6)
		raw6_init(st, sk);
	if (!ping)
		t->nraw++;
	*err = 0;
	return sk;
}

void skiff_raw_close(struct skiff_stack *st, struct skiff_raw_sock *sk)
{
	struct skiff_raw_table *t = st->raw;
	struct skiff_raw_sock **pp;

	if (!sk || !sk->in_use)
		return;
	for (pp = &t->open_head; *pp; pp = &(*pp)->next)
		if (*pp == sk) {
			*pp = sk->next;
			break;
		}
	if (sk->on_ready)
		for (pp = &t->ready_head; *pp; pp = &(*pp)->ready_next)
			if (*pp == sk) {
				*pp = sk->ready_next;
				break;
			}
	if (!sk->ping)
		t->nraw--;
	skiff_pkt_free_list(sk->rq_head);
	skiff_pkt_free_list(sk->eq_head);
	sk->rq_head = sk->rq_tail = sk->eq_head = sk->eq_tail = NULL;
	sk->in_use = false;
	sk->on_ready = false;
	sk->gen++;
	sk->user = NULL;
	sk->next = t->free_head;
	t->free_head = sk;
}

/* ---- bind / connect ---- */

static bool ident_in_use(struct skiff_stack *st, const struct skiff_raw_sock *sk, uint16_t id)
{
	for (const struct skiff_raw_sock *s = st->raw->open_head; s; s = s->next)
		if (s != sk && s->ping && s->ident == id && (!s->reuseaddr || !sk->reuseaddr))
			return true;
	return false;
}

/* Linux ping_get_port: 0 searches the id space from a moving start (0 never). */
int raw_ping_get_ident(struct skiff_stack *st, struct skiff_raw_sock *sk, uint16_t id)
{
	if (id) {
		if (ident_in_use(st, sk, id))
			return -EADDRINUSE;
		sk->ident = id;
		return 0;
	}
	for (uint32_t i = 0; i < 65536u; i++) {
		uint16_t c = st->raw->next_ident++;
		if (c == 0)
			continue;
		if (!ident_in_use(st, sk, c)) {
			sk->ident = c;
			return 0;
		}
	}
	return -EADDRINUSE;
}

int skiff_raw_bind(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint16_t port)
{
	uint32_t a;
	bool local, mb;
	int rc;

	if (addr->family != sk->family)
		return -EAFNOSUPPORT;
	if (sk->family == SKIFF_AF_INET6)
		return raw6_bind(st, sk, addr, port);
	a = addr->v4;
	local = a == 0 || skiff_stack_local4(st, a) >= 0;
	mb = ip4_is_multicast(a) || ip4_is_limited_bcast(a) || skiff_stack_is_bcast4(st, a);
	if (sk->ping) {
		/* ping_check_bind_addr, then ping_bind */
		if (!local)
			return -EADDRNOTAVAIL;
		if (sk->ident)
			return -EINVAL;
		rc = raw_ping_get_ident(st, sk, port);
		if (rc)
			return rc;
		sk->laddr = sk->saddr = *addr;
		return 0;
	}
	/* raw_bind: ours, any, multicast or broadcast; the port means nothing */
	if (!local && !mb)
		return -EADDRNOTAVAIL;
	sk->laddr = sk->saddr = *addr;
	if (mb)
		sk->saddr = skiff_addr_v4(0);
	return 0;
}

int skiff_raw_connect(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint64_t now)
{
	struct skiff_route_res4 rt;
	int rc;

	(void)now;
	if (addr->family == SKIFF_AF_NONE) { /* __ip4_datagram_disconnect without SOCK_BINDADDR_LOCK kept simple */
		sk->connected = false;
		sk->raddr = skiff_addr_v4(0);
		if (sk->family == SKIFF_AF_INET6)
			sk->raddr = ip6_addr_make((const uint8_t[16]){ 0 });
		return 0;
	}
	if (addr->family != sk->family)
		return -EAFNOSUPPORT;
	if (sk->family == SKIFF_AF_INET6)
		return raw6_connect(st, sk, addr);
	if (sk->ping && !sk->ident) { /* inet_dgram_connect: inet_autobind */
		if (raw_ping_get_ident(st, sk, 0))
			return -EAGAIN;
	}
	rc = skiff_route_lookup4(st, addr->v4, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	if (skiff_stack_is_bcast4(st, addr->v4) && !sk->broadcast)
		return -EACCES;
	rc = skiff_route_check_src4(st, &rt, skiff_addr_is_any(&sk->saddr) ? rt.src : sk->saddr.v4, addr->v4);
	if (rc)
		return rc;
	/* ip4_datagram_connect: the source fills in only what bind left unset */
	if (skiff_addr_is_any(&sk->saddr))
		sk->saddr = skiff_addr_v4(rt.src);
	if (skiff_addr_is_any(&sk->laddr))
		sk->laddr = skiff_addr_v4(rt.src);
	sk->raddr = *addr;
	sk->connected = true;
	return 0;
}

/* ---- receive ---- */

uint32_t raw_truesize(const struct skiff_pkt *p)
{
	uint32_t n = 0;
	for (; p; p = p->chain)
		n += p->cap + (uint32_t)sizeof(*p);
	return n;
}

void raw_enqueue(struct skiff_stack *st, struct skiff_raw_sock *sk, struct skiff_pkt *p, uint64_t now)
{
	/* Linux sock_queue_rcv_skb: refused once the queue holds SO_RCVBUF */
	if (sk->rcv_bytes >= sk->rcvbuf) {
		sk->drops++;
		skiff_drop(st, SKIFF_DROP_RAW_RCVBUF_FULL, p);
		return;
	}
	p->ts = now;
	p->next = NULL;
	sk->rcv_bytes += raw_truesize(p);
	if (sk->rq_tail)
		sk->rq_tail->next = p;
	else
		sk->rq_head = p;
	sk->rq_tail = p;
	sk->rq_count++;
	raw_mark_ready(st, sk);
}

/* Make a reassembled datagram's header look whole (Linux ip_frag_reasm). */
static void fix_header(uint8_t *h, uint32_t total)
{
	uint16_t frag = ld16(h + 6);
	if (!(frag & (IP4_FLAG_MF | IP4_OFF_MASK)) && ld16(h + 2) == total)
		return;
	st16(h + 2, (uint16_t)total);
	st16(h + 6, frag & IP4_FLAG_DF);
	st16(h + 10, 0);
	st16(h + 10, csum_buf(h, (size_t)(h[0] & 0x0f) * 4));
}

/* A copy of the datagram p (data at its payload, header at head + l3_off) with
 * the header in front, as a chain of frames from ifc's pool. */
struct skiff_pkt *raw_copy_with_header(struct skiff_iface *ifc, const struct skiff_pkt *p, uint32_t ihl, bool fix4)
{
	struct skiff_pkt *head = NULL, **tail = &head, *cur = NULL;
	const struct skiff_pkt *s = p;
	const uint8_t *src = p->head + p->l3_off;
	uint32_t left = ihl, total = ihl + skiff_pkt_chain_len(p);
	bool in_hdr = true;

	for (;;) {
		uint32_t n;
		if (!left) {
			if (in_hdr) {
				in_hdr = false;
			} else {
				s = s->chain;
			}
			if (!s)
				break;
			src = skiff_pkt_data(s);
			left = s->len;
			continue;
		}
		if (!cur || !skiff_pkt_tailroom(cur)) {
			cur = skiff_iface_alloc(ifc);
			if (!cur || skiff_pkt_tailroom(cur) < IP4_MAX_HDR_LEN) {
				skiff_pkt_free(cur);
				skiff_pkt_free(head);
				return NULL;
			}
			cur->flags = p->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST | SKIFF_PKT_LOCAL);
			cur->ifindex = p->ifindex;
			cur->l3_off = (uint16_t)cur->off;
			cur->l4_off = (uint16_t)(cur->off + (head ? 0 : ihl));
			*tail = cur;
			tail = &cur->chain;
		}
		n = skiff_pkt_tailroom(cur);
		if (n > left)
			n = left;
		memcpy(skiff_pkt_put(cur, n), src, n);
		src += n;
		left -= n;
	}
	if (head && fix4)
		fix_header(skiff_pkt_data(head), total);
	return head;
}

/* Cut a chain to its first n bytes (Linux sk_filter_trim_cap). */
void raw_trim_chain(struct skiff_pkt *p, uint32_t n)
{
	struct skiff_pkt *q = p, *rest;
	for (; q; q = q->chain) {
		if (q->len >= n) {
			q->len = n;
			break;
		}
		n -= q->len;
	}
	if (q && q->chain) {
		rest = q->chain;
		q->chain = NULL;
		skiff_pkt_free(rest);
	}
}

/* SO_ATTACH_FILTER over the first frame from `start` (the IP header for raw
 * sockets, the ICMP header for ping sockets): 0 refuses, else the bytes to keep. */
uint32_t raw_run_filter(struct skiff_raw_sock *s, const struct skiff_pkt *p, const uint8_t *start)
{
	struct skiff_bpf_aux aux;
	uint32_t len = (uint32_t)(skiff_pkt_data(p) + p->len - start), n;
	int32_t before = (int32_t)(start - p->head);

	if (!s->filter)
		return UINT32_MAX;
	memset(&aux, 0, sizeof(aux));
	aux.net_off = (int32_t)(p->head + p->l3_off - start);
	aux.ll_off = aux.net_off - 14 >= -before ? aux.net_off - 14 : aux.net_off;
	aux.headroom = (uint32_t)before;
	aux.protocol = s->family == SKIFF_AF_INET6 ? 0x86DD : 0x0800;
	aux.hatype = 1;
	aux.pkttype = p->flags & SKIFF_PKT_BCAST ? 1 : p->flags & SKIFF_PKT_MCAST ? 2 : 0;
	aux.pay_offset = 0;
	n = skiff_bpf_run(s->filter, start, len, &aux);
	if (!n)
		s->filtered++;
	return n;
}

/* run_filter, counting a refusal as a drop (the socket's copy never exists). */
static uint32_t filter_keep(struct skiff_stack *st, struct skiff_raw_sock *s, const struct skiff_pkt *p,
			    const uint8_t *start)
{
	uint32_t n = raw_run_filter(s, p, start);
	if (!n)
		skiff_count_drop(st, SKIFF_DROP_RAW_FILTERED);
	return n;
}

static bool raw_match(const struct skiff_raw_sock *s, uint8_t proto, uint32_t raddr, uint32_t laddr, int ifindex)
{
	/* Linux raw_v4_match */
	return !s->ping && s->family == SKIFF_AF_INET && s->protocol == proto &&
	       !(s->connected && s->raddr.v4 != raddr) && (skiff_addr_is_any(&s->laddr) || s->laddr.v4 == laddr) &&
	       (s->bound_ifindex < 0 || s->bound_ifindex == ifindex);
}

/* Linux icmp_filter: true when the socket does not want this ICMP message. */
static bool icmp_filtered(const struct skiff_raw_sock *s, const struct skiff_pkt *p)
{
	uint8_t type;
	if (s->protocol != IPPROTO_ICMP_ || !s->icmp_filter)
		return false;
	if (skiff_pkt_chain_len(p) < ICMP4_HDR_LEN)
		return true;
	type = skiff_pkt_data(p)[0];
	return type < 32 && ((s->icmp_filter >> type) & 1u);
}

bool raw4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt **pp, const struct ip4_repr *ip,
		bool last, uint64_t now)
{
	struct skiff_raw_table *t = st->raw;
	struct skiff_raw_sock *prev = NULL;
	struct skiff_pkt *p = *pp;
	uint32_t ihl, keep = 0, prev_keep = 0;

	if (!t || !t->nraw)
		return false;
	if (p->l3_off > p->off || (ihl = p->off - p->l3_off) < IP4_HDR_LEN || ihl > IP4_MAX_HDR_LEN)
		return false; /* not a frame ip4_input left its header in front of */
	for (struct skiff_raw_sock *s = t->open_head; s; s = s->next) {
		if (!raw_match(s, ip->proto, ip->src, ip->dst, ifc->index) || icmp_filtered(s, p) ||
		    !(keep = filter_keep(st, s, p, p->head + p->l3_off)))
			continue;
		if (prev) {
			struct skiff_pkt *c = raw_copy_with_header(ifc, p, ihl, true);
			if (c) {
				raw_trim_chain(c, prev_keep);
				raw_enqueue(st, prev, c, now);
			} else {
				skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
			}
		}
		prev = s;
		prev_keep = keep;
	}
	if (!prev)
		return false;
	if (last) {
		/* nobody else wants the frame: the header goes back in front of it */
		skiff_pkt_push(p, ihl);
		fix_header(skiff_pkt_data(p), skiff_pkt_chain_len(p));
		*pp = NULL;
		raw_trim_chain(p, prev_keep);
		raw_enqueue(st, prev, p, now);
	} else {
		struct skiff_pkt *c = raw_copy_with_header(ifc, p, ihl, true);
		if (c) {
			raw_trim_chain(c, prev_keep);
			raw_enqueue(st, prev, c, now);
		} else {
			skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
		}
	}
	return true;
}

static struct skiff_raw_sock *ping_lookup(struct skiff_stack *st, uint16_t id, uint32_t laddr, int ifindex)
{
	if (!st->raw)
		return NULL;
	/* Linux ping_lookup: id, bound address, bound interface (not the peer) */
	for (struct skiff_raw_sock *s = st->raw->open_head; s; s = s->next)
		if (s->ping && s->ident && s->ident == id && s->family == SKIFF_AF_INET && /* unbound: not hashed */
		    (skiff_addr_is_any(&s->laddr) || s->laddr.v4 == laddr) &&
		    (s->bound_ifindex < 0 || s->bound_ifindex == ifindex))
			return s;
	return NULL;
}

void ping4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		 uint64_t now)
{
	struct skiff_raw_sock *sk;
	uint32_t keep;

	if (p->len < ICMP4_HDR_LEN) { /* icmp4 checked the whole message; the id is in the head frame */
		skiff_drop(st, SKIFF_DROP_ICMP_SHORT, p);
		return;
	}
	sk = ping_lookup(st, ld16(skiff_pkt_data(p) + 4), ip->dst, ifc->index);
	if (!sk) { /* an echo reply nobody asked for (Linux ping_rcv: dropped) */
		skiff_drop(st, SKIFF_DROP_ICMP_UNHANDLED, p);
		return;
	}
	keep = raw_run_filter(sk, p, skiff_pkt_data(p));
	if (!keep) { /* SO_ATTACH_FILTER refused it (Linux sk_filter) */
		skiff_drop(st, SKIFF_DROP_RAW_FILTERED, p);
		return;
	}
	raw_trim_chain(p, keep);
	raw_enqueue(st, sk, p, now);
}

/* ---- errors ---- */

void raw_queue_err(struct skiff_stack *st, struct skiff_raw_sock *sk, int ifindex, const struct raw_errmeta *m,
		   const uint8_t *addr6, const uint8_t *payload, size_t plen)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	struct skiff_pkt *p;

	if (!ifc) {
		skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
		return;
	}
	/* Linux sock_queue_err_skb: refused when it would reach SO_RCVBUF */
	if (sk->eq_count >= SKIFF_RAW_ERRQ_MAX) {
		skiff_count_drop(st, SKIFF_DROP_RAW_ERRQ_FULL);
		return;
	}
	p = skiff_iface_alloc(ifc);
	if (!p) {
		skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
		return;
	}
	if (sk->rcv_bytes + raw_truesize(p) >= sk->rcvbuf) {
		skiff_drop(st, SKIFF_DROP_RAW_ERRQ_FULL, p);
		return;
	}
	p->ifindex = (uint16_t)ifindex;
	if (addr6) { /* IPv6: offender and destination in front of the payload, at l3_off */
		memcpy(skiff_pkt_put(p, 32), addr6, 32);
		p->l3_off = (uint16_t)p->off;
		skiff_pkt_pull(p, 32);
	}
	if (plen > skiff_pkt_tailroom(p))
		plen = skiff_pkt_tailroom(p);
	if (plen)
		memcpy(skiff_pkt_put(p, (uint32_t)plen), payload, plen);
	p->flags = 0;
	memcpy(p->cb.bytes, m, sizeof(*m));
	p->next = NULL;
	sk->rcv_bytes += raw_truesize(p);
	if (sk->eq_tail)
		sk->eq_tail->next = p;
	else
		sk->eq_head = p;
	sk->eq_tail = p;
	sk->eq_count++;
}

void raw_sock_err(struct skiff_stack *st, struct skiff_raw_sock *sk, int ifindex, struct raw_errmeta *m, bool harderr,
		  const uint8_t *addr6, const uint8_t *payload, size_t plen)
{
	if (sk->recverr)
		raw_queue_err(st, sk, ifindex, m, addr6, payload, plen);
	else if (!harderr || !sk->connected)
		return;
	sk->err = m->ee_errno;
	raw_mark_ready(st, sk);
}

bool raw4_err(struct skiff_stack *st, int ifindex, uint32_t from, uint8_t type, uint8_t code, uint32_t rest,
	      const uint8_t *q, size_t qlen, int err, bool fatal, uint64_t now)
{
	struct ip4_repr qip;
	struct raw_errmeta m;
	bool frag_needed = type == ICMP4_DEST_UNREACH && code == ICMP4_FRAG_NEEDED, took = false;

	if (!st->raw || !st->raw->open_head || type == ICMP4_SOURCE_QUENCH)
		return false;
	if (ip4_parse(q, qlen, &qip) || qip.ihl < IP4_HDR_LEN || qlen < (size_t)qip.ihl + 8)
		return false; /* icmp4 checked this already */
	memset(&m, 0, sizeof(m));
	m.ee_errno = frag_needed ? EMSGSIZE : err;
	m.origin = 2; /* SO_EE_ORIGIN_ICMP */
	m.type = type;
	m.code = code;
	/* Linux icmp_unreach: the next-hop MTU, or the parameter problem pointer */
	m.info = frag_needed ? (rest & 0xffff) : type == ICMP4_PARAM_PROBLEM ? rest >> 24 : 0;
	m.offender = from;
	m.dst = qip.dst;
	m.ts = now;
	for (struct skiff_raw_sock *s = st->raw->open_head; s; s = s->next) {
		bool hard;
		if (!raw_match(s, qip.proto, qip.dst, qip.src, ifindex))
			continue;
		/* raw_err: hard as the table says; frag-needed unless PMTU discovery is off */
		hard = frag_needed ? s->pmtudisc != SKIFF_PMTUDISC_DONT : fatal;
		took = true;
		if (s->hdrincl)
			raw_sock_err(st, s, ifindex, &m, hard, NULL, q, qlen);
		else
			raw_sock_err(st, s, ifindex, &m, hard, NULL, q + qip.ihl, qlen - qip.ihl);
	}
	if (qip.proto == IPPROTO_ICMP_ && q[qip.ihl] == ICMP4_ECHO_REQUEST) {
		struct skiff_raw_sock *s = ping_lookup(st, ld16(q + qip.ihl + 4), qip.src, ifindex);
		if (s) { /* ping_err: frag-needed is hard only with IP_PMTUDISC_DO */
			raw_sock_err(st, s, ifindex, &m, frag_needed ? s->pmtudisc == SKIFF_PMTUDISC_DO : fatal, NULL,
				     q + qip.ihl,
				 qlen - qip.ihl);
			took = true;
		}
	}
	return took;
}

int skiff_raw_take_error(struct skiff_raw_sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return e;
}

void skiff_raw_set_recverr(struct skiff_stack *st, struct skiff_raw_sock *sk, bool on)
{
	(void)st;
	sk->recverr = on;
	if (!on) {
		for (struct skiff_pkt *p = sk->eq_head; p; p = p->next)
			sk->rcv_bytes -= raw_truesize(p);
		skiff_pkt_free_list(sk->eq_head);
		sk->eq_head = sk->eq_tail = NULL;
		sk->eq_count = 0;
	}
}

/* ---- recv ---- */

static size_t copy_out(const struct skiff_pkt *p, const struct iovec *iov, int iovcnt)
{
	size_t copied = 0, off = 0;
	int i = 0;
	for (; p && i < iovcnt; p = p->chain) {
		size_t qoff = 0;
		while (qoff < p->len && i < iovcnt) {
			size_t room = iov[i].iov_len - off, k = p->len - qoff;
			if (k > room)
				k = room;
			if (k)
				memcpy((uint8_t *)iov[i].iov_base + off, skiff_pkt_data(p) + qoff, k);
			qoff += k;
			off += k;
			copied += k;
			if (off == iov[i].iov_len) {
				i++;
				off = 0;
			}
		}
	}
	return copied;
}

long skiff_raw_recv(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    struct skiff_raw_msginfo *mi)
{
	struct skiff_pkt *p = sk->rq_head;
	const uint8_t *ih;
	size_t total, copied;

	(void)st;
	if (sk->err)
		return -skiff_raw_take_error(sk);
	if (!p)
		return -EAGAIN;
	total = skiff_pkt_chain_len(p);
	copied = copy_out(p, iov, iovcnt);
	ih = sk->ping || sk->family == SKIFF_AF_INET6 ? p->head + p->l3_off : skiff_pkt_data(p);
	if (mi) {
		memset(mi, 0, sizeof(*mi));
		mi->ifindex = p->ifindex;
		if (sk->family == SKIFF_AF_INET6) { /* the fixed header stays in front at l3_off */
			mi->src = ip6_addr_make(ih + 8);
			mi->dst = ip6_addr_make(ih + 24);
			mi->ttl = ih[7];
			mi->tos = (uint8_t)(ld16(ih) >> 4);
		} else {
			mi->src = skiff_addr_v4(ld32(ih + 12));
			mi->ttl = ih[8];
			mi->tos = ih[1];
		}
		mi->len = total;
		mi->ts = p->ts;
	}
	if (!(flags & SKIFF_MSG_PEEK)) {
		sk->rq_head = p->next;
		if (!sk->rq_head)
			sk->rq_tail = NULL;
		sk->rq_count--;
		sk->rcv_bytes -= raw_truesize(p);
		p->next = NULL;
		skiff_pkt_free(p);
	}
	return (flags & SKIFF_MSG_TRUNC) ? (long)total : (long)copied;
}

long skiff_raw_recv_err(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
			int flags, struct skiff_raw_msginfo *mi)
{
	struct skiff_pkt *p = sk->eq_head;
	struct raw_errmeta m;
	size_t total, copied;

	(void)st;
	if (!p)
		return -EAGAIN;
	memcpy(&m, p->cb.bytes, sizeof(m));
	total = p->len;
	copied = copy_out(p, iov, iovcnt);
	if (mi) {
		memset(mi, 0, sizeof(*mi));
		mi->ifindex = p->ifindex;
		if (sk->family == SKIFF_AF_INET6) {
			mi->offender = ip6_addr_make(p->head + p->l3_off);
			mi->src = ip6_addr_make(p->head + p->l3_off + 16);
		} else {
			mi->src = skiff_addr_v4(m.dst);
			mi->offender = skiff_addr_v4(m.offender);
		}
		mi->len = total;
		mi->ts = m.ts;
		mi->ee_errno = m.ee_errno;
		mi->ee_origin = m.origin;
		mi->ee_type = m.type;
		mi->ee_code = m.code;
		mi->ee_info = m.info;
	}
	if (!(flags & SKIFF_MSG_PEEK)) {
		struct raw_errmeta nm;
		sk->eq_head = p->next;
		if (!sk->eq_head)
			sk->eq_tail = NULL;
		sk->eq_count--;
		sk->rcv_bytes -= raw_truesize(p);
		p->next = NULL;
		skiff_pkt_free(p);
		/* sock_dequeue_err_skb: the pending error becomes the next queued one's */
		if (sk->eq_head) {
			memcpy(&nm, sk->eq_head->cb.bytes, sizeof(nm));
			sk->err = nm.ee_errno;
		} else {
			sk->err = 0;
		}
	}
	return (flags & SKIFF_MSG_TRUNC) ? (long)total : (long)copied;
}

unsigned skiff_raw_events(const struct skiff_raw_sock *sk)
{
	unsigned ev = SKIFF_EV_OUT;
	if (sk->rq_head)
		ev |= SKIFF_EV_IN;
	if (sk->err || sk->eq_head)
		ev |= SKIFF_EV_ERR;
	return ev;
}

size_t skiff_raw_next_len(const struct skiff_raw_sock *sk)
{
	return sk->rq_head ? skiff_pkt_chain_len(sk->rq_head) : 0;
}

int skiff_raw_set_rcvbuf(struct skiff_stack *st, struct skiff_raw_sock *sk, int val)
{
	sk->rcvbuf = skiff_sockbuf_size(val, st->cfg.rcvbuf_max, SKIFF_SOCK_MIN_RCVBUF);
	return 0;
}

int skiff_raw_set_sndbuf(struct skiff_stack *st, struct skiff_raw_sock *sk, int val)
{
	sk->sndbuf = skiff_sockbuf_size(val, st->cfg.sndbuf_max, SKIFF_SOCK_MIN_SNDBUF);
	return 0;
}

/* ---- send ---- */

void raw_iov_take(struct raw_iov_cur *c, uint8_t *dst, size_t len)
{
	while (len && c->i < c->n) {
		const struct iovec *v = &c->iov[c->i];
		size_t k = v->iov_len - c->off;
		if (k > len)
			k = len;
		memcpy(dst, (const uint8_t *)v->iov_base + c->off, k);
		dst += k;
		len -= k;
		c->off += k;
		if (c->off == v->iov_len) {
			c->i++;
			c->off = 0;
		}
	}
}

/* The first n bytes of the message (n small), for the ping header checks. */
bool raw_iov_peek(const struct iovec *iov, int iovcnt, uint8_t *dst, size_t n)
{
	struct raw_iov_cur c = { iov, iovcnt, 0, 0 };
	size_t have = 0;
	for (int i = 0; i < iovcnt; i++)
		have += iov[i].iov_len;
	if (have < n)
		return false;
	raw_iov_take(&c, dst, n);
	return true;
}

/* Linux ip_local_error: a send refused for its size, on the error queue with
 * IP_RECVERR (SO_EE_ORIGIN_LOCAL, the MTU as ee_info, no payload); the send
 * itself fails with EMSGSIZE. */
long raw_local_emsgsize(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_iface *ifc,
			   uint32_t daddr)
{
	struct raw_errmeta m;
	if (!sk->recverr)
		return -EMSGSIZE;
	memset(&m, 0, sizeof(m));
	m.ee_errno = EMSGSIZE;
	m.origin = 1; /* SO_EE_ORIGIN_LOCAL */
	m.info = ifc->mtu;
	m.dst = daddr;
	m.ts = st->now;
	raw_queue_err(st, sk, ifc->index, &m, NULL, NULL, 0);
	raw_mark_ready(st, sk);
	return -EMSGSIZE;
}

/* IP_HDRINCL: the message is the datagram (raw_send_hdrinc). */
static long send_hdrincl(struct skiff_stack *st, struct skiff_raw_sock *sk, struct skiff_iface *ifc,
			 const struct skiff_route_res4 *rt, uint32_t saddr, uint32_t daddr, const struct iovec *iov, int iovcnt,
			 size_t len, uint64_t now)
{
	struct raw_iov_cur cur = { iov, iovcnt, 0, 0 };
	struct skiff_pkt *p;
	uint8_t *h;
	uint32_t ihl;

	if (len > ifc->mtu)
		return raw_local_emsgsize(st, sk, ifc, daddr);
	if (len < IP4_HDR_LEN)
		return -EINVAL;
	if (ifc->tx_count + 1 > ifc->tx_mask + 1)
		return -EAGAIN;
	p = skiff_iface_alloc(ifc);
	if (!p || skiff_pkt_tailroom(p) < len) {
		skiff_pkt_free(p);
		return -EAGAIN;
	}
	p->flags = 0;
	h = skiff_pkt_put(p, (uint32_t)len);
	raw_iov_take(&cur, h, len);
	ihl = (uint32_t)(h[0] & 0x0f) * 4;
	if (ihl > len) {
		skiff_pkt_free(p);
		return -EINVAL;
	}
	if (ihl >= IP4_HDR_LEN) {
		if (ld32(h + 12) == 0)
			st32(h + 12, saddr);
		st16(h + 2, (uint16_t)len);
		if (ld16(h + 4) == 0) /* ip_select_ident: any id the peer cannot predict */
			st16(h + 4, (uint16_t)(skiff_rand64(st) | 1u));
		st16(h + 10, 0);
		st16(h + 10, csum_buf(h, ihl));
	}
	p->l3_off = (uint16_t)p->off;
	p->l4_off = (uint16_t)(p->off + (ihl <= len ? ihl : 0));
	st->ctr.ip4_out++;
	if (skiff_route_is_local4(st, rt, daddr)) {
		/* to ourselves: back to input as ip4_output's local queue does */
		p->flags |= SKIFF_PKT_LOCAL | SKIFF_PKT_RX_IP_CSUM_GOOD;
		p->next = NULL;
		if (st->local_tail)
			st->local_tail->next = p;
		else
			st->local_head = p;
		st->local_tail = p;
		st->ctr.ip4_local++;
		return (long)len;
	}
	skiff_neigh_output4(st, ifc, rt->nexthop, p, now);
	return (long)len;
}

long skiff_raw_send(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
		    const struct skiff_addr *dst, int ttl, int tos, uint64_t now)
{
	return skiff_raw_send_scoped(st, sk, iov, iovcnt, dst, -1, ttl, tos, now);
}

long skiff_raw_send_scoped(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt,
			   const struct skiff_addr *dst, int scope, int ttl, int tos, uint64_t now)
{
	struct skiff_route_res4 rt;
	struct skiff_iface *ifc;
	struct skiff_ip4_tx tx;
	struct skiff_pkt *head = NULL, **tail = &head;
	struct raw_iov_cur cur = { iov, iovcnt, 0, 0 };
	uint32_t daddr, saddr, piece, left, fits;
	size_t len = 0;
	unsigned npieces;
	int rc;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > RAW_MAX_LEN)
		return -EMSGSIZE;
	if (sk->family == SKIFF_AF_INET6)
		return raw6_send(st, sk, iov, iovcnt, len, dst, scope, ttl, tos, now);
	if (sk->ping) { /* ping_common_sendmsg: a whole echo request header */
		uint8_t ih[2];
		if (len < ICMP4_HDR_LEN)
			return -EINVAL;
		if (!raw_iov_peek(iov, iovcnt, ih, 2) || ih[0] != ICMP4_ECHO_REQUEST || ih[1] != 0)
			return -EINVAL;
	}
	if (dst) {
		if (dst->family != sk->family)
			return -EAFNOSUPPORT;
		daddr = dst->v4;
	} else {
		if (!sk->connected)
			return -EDESTADDRREQ;
		daddr = sk->raddr.v4;
	}
	if (sk->ping && !sk->ident && raw_ping_get_ident(st, sk, 0)) /* inet_send_prepare: autobind */
		return -EAGAIN;
	rc = skiff_route_lookup4(st, daddr, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	if ((skiff_stack_is_bcast4(st, daddr) || ip4_is_limited_bcast(daddr)) && !sk->broadcast)
		return -EACCES;
	saddr = skiff_addr_is_any(&sk->saddr) ? rt.src : sk->saddr.v4;
	rc = skiff_route_check_src4(st, &rt, saddr, daddr);
	if (rc)
		return rc;
	ifc = skiff_stack_iface(st, rt.ifindex);
	if (!ifc)
		return -ENETUNREACH;
	if (sk->hdrincl)
		return send_hdrincl(st, sk, ifc, &rt, saddr, daddr, iov, iovcnt, len, now);
	fits = (uint32_t)ifc->mtu - IP4_HDR_LEN;
	if (len > fits && (sk->pmtudisc == SKIFF_PMTUDISC_DO || sk->pmtudisc == SKIFF_PMTUDISC_PROBE))
		return raw_local_emsgsize(st, sk, ifc, daddr);
	left = (uint32_t)len;
	piece = left <= fits ? (left ? left : 1) : skiff_ip4_frag_payload(ifc->mtu);
	npieces = left ? (left + piece - 1) / piece : 1;
	if (npieces > ifc->tx_mask + 1)
		return -ENOBUFS;
	if (ifc->tx_count + npieces > ifc->tx_mask + 1)
		return -EAGAIN;
	do {
		struct skiff_pkt *p = skiff_iface_alloc(ifc);
		uint32_t n = left < piece ? left : piece;
		if (!p || skiff_pkt_tailroom(p) < n) {
			skiff_pkt_free(p);
			skiff_pkt_free(head);
			return -EAGAIN;
		}
		p->flags = 0;
		raw_iov_take(&cur, skiff_pkt_put(p, n), n);
		*tail = p;
		tail = &p->chain;
		left -= n;
	} while (left);
	if (sk->ping) { /* our id, then the checksum over the whole message (RFC 792) */
		uint32_t sum = 0;
		size_t off = 0;
		uint8_t *ic = skiff_pkt_data(head);
		st16(ic + 4, sk->ident);
		st16(ic + 2, 0);
		for (struct skiff_pkt *q = head; q; q = q->chain) {
			sum = csum_partial_at(skiff_pkt_data(q), q->len, sum, off);
			off += q->len;
		}
		st16(ic + 2, csum_fold(sum));
		st->ctr.icmp_out++;
	}
	tx.src = saddr;
	tx.dst = daddr;
	tx.proto = sk->protocol;
	tx.ttl = (uint8_t)(ttl >= 0 ? ttl : ip4_is_multicast(daddr) ? sk->mcast_ttl : sk->ttl);
	tx.tos = (uint8_t)(tos >= 0 ? tos : sk->tos);
	/* ip_dont_fragment: DO/PROBE always, WANT while it fits one frame */
	tx.df = sk->pmtudisc == SKIFF_PMTUDISC_DO || sk->pmtudisc == SKIFF_PMTUDISC_PROBE ||
		(sk->pmtudisc == SKIFF_PMTUDISC_WANT && len <= fits);
	rc = skiff_ip4_output(st, &rt, &tx, head, now);
	return rc ? rc : (long)len;
}
