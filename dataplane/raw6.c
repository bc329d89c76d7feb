/* raw6.c — IPv6 raw sockets and ICMPv6 ping sockets (raw.h), as Linux's
 * net/ipv6/raw.c and net/ipv6/ping.c (RFC 3542 3: raw ICMPv6 sockets).
 *
 * Same table, queues and error entries as raw.c; what differs from IPv4:
 * Input (raw6_input, from ip6_input after reassembly, before the upper-layer
 *   demux; Linux raw6_local_deliver): each raw socket of the datagram's final
 *   upper-layer protocol whose bound address, connected peer and bound interface
 *   match gets it from the upper-layer header on — no IPv6 header, no extension
 *   headers (RFC 3542 3) — unless ICMP6_FILTER blocks the type (RFC 3542 3.2),
 *   its checksum is wrong for a socket that checks it (IPV6_CHECKSUM, always on
 *   for ICMPv6: RFC 3542 3.1), or SO_ATTACH_FILTER refuses it. The fixed header
 *   stays in front of each copy at l3_off, for the sender, hop limit and class.
 * Ping6 input (ping6_input, from icmp6 for echo replies; Linux ping_rcv): the
 *   ping6 socket of the reply's identifier.
 * Errors (raw6_err, from icmp6's error delivery; Linux raw6_icmp_error/rawv6_err
 *   and ping_err): SO_EE_ORIGIN_ICMP6 entries with IPV6_RECVERR (the offender
 *   and original destination kept in the entry's frame); Packet Too Big is hard
 *   only under IPV6_PMTUDISC_DO.
 * Output (raw6_send; Linux rawv6_sendmsg, ping_v6_sendmsg): route with the
 *   scope / bound interface, source, hop limit (cmsg, IPV6_UNICAST_HOPS or
 *   IPV6_MULTICAST_HOPS, else the interface's), the message cut into pieces for
 *   skiff_ip6_output (fragmented to the path MTU), the checksum over the
 *   pseudo-header (RFC 8200 8.1) written at the socket's offset; ping6 writes
 *   its identifier first. IPPROTO_RAW (hdrincl): the caller's datagram as is, at
 *   most one MTU (Linux rawv6_send_hdrinc).
 */
#include <errno.h>
#include <string.h>

#include "ip6.h"
#include "raw.h"
#include "raw_internal.h"
#include "route6.h"
#include "stack.h"
#include "udp.h"
#include "wire_icmp6.h"

static const uint8_t any6[16];

void raw6_init(struct skiff_stack *st, struct skiff_raw_sock *sk)
{
	(void)st;
	sk->laddr = sk->saddr = sk->raddr = ip6_addr_make(any6);
	sk->mcast_ttl = 1; /* IPV6_DEFAULT_MCASTHOPS */
	sk->uhops = -1;
	sk->pkt_oif = -1;
	sk->pkt_src = ip6_addr_make(any6);
	/* rawv6_init_sk: ICMPv6 and Mobility Header sockets always checksum */
	if (!sk->ping && sk->protocol == IPPROTO_ICMPV6_) {
		sk->checksum = true;
		sk->csum_off = 2;
	} else if (!sk->ping && sk->protocol == IPPROTO_MH_) {
		sk->checksum = true;
		sk->csum_off = 4;
	}
}

int skiff_raw6_set_checksum(struct skiff_raw_sock *sk, int off)
{
	if (off > 0 && (off & 1)) /* do_rawv6_setsockopt: odd offsets refused */
		return -EINVAL;
	sk->checksum = off >= 0;
	sk->csum_off = off >= 0 ? off : 0;
	return 0;
}

int raw6_bind(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr, uint16_t port)
{
	const uint8_t *a = addr->v6;
	bool any = ip6_is_unspecified(a), mc = ip6_is_multicast(a);
	int rc;

	if (ip6_is_v4mapped(a))
		return sk->ping ? -EINVAL : -EADDRNOTAVAIL; /* raw sockets are IPv6 only */
	if (sk->ping && mc)
		return -EINVAL; /* ping_check_bind_addr: unicast or any */
	if (ip6_is_link_local(a) && sk->bound_ifindex < 0)
		return -EINVAL; /* a link-local address needs its interface (scope_id) */
	if (!any && !mc && skiff_stack_local6(st, a, sk->bound_ifindex, false) < 0)
		return -EADDRNOTAVAIL;
	if (sk->ping) {
		if (sk->ident)
			return -EINVAL;
		rc = raw_ping_get_ident(st, sk, port);
		if (rc)
			return rc;
	}
	sk->laddr = sk->saddr = *addr;
	if (mc)
		sk->saddr = ip6_addr_make(any6);
	return 0;
}

/* The route for dst: scope (link-scope destinations), else the bound interface. */
static int route6(struct skiff_stack *st, const struct skiff_raw_sock *sk, const uint8_t dst[16], int scope,
		  struct skiff_route_res6 *rt)
{
	int oif = sk->bound_ifindex;
	bool scoped = ip6_is_link_local(dst) || (ip6_is_multicast(dst) && ip6_mcast_scope(dst) <= IP6_SCOPE_LINK);

	if (sk->pkt_oif >= 0) { /* IPV6_PKTINFO's interface (RFC 3542 6.1), within a bound device */
		if (oif >= 0 && oif != sk->pkt_oif)
			return -EINVAL;
		oif = sk->pkt_oif;
	}
	if (scoped && scope == SKIFF_SCOPE_NONE)
		return -ENODEV;
	if (scoped && scope >= 0) {
		if (oif >= 0 && oif != scope)
			return -EINVAL; /* ping_v6_sendmsg / ip6_datagram_connect: disagrees with the bound device */
		oif = scope;
	}
	if (oif < 0 && !skiff_addr_is_any(&sk->laddr) && ip6_is_link_local(sk->laddr.v6))
		oif = skiff_stack_local6(st, sk->laddr.v6, -1, false);
	return skiff_route6_lookup(st, dst, oif, rt);
}

int raw6_connect(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_addr *addr)
{
	struct skiff_route_res6 rt;
	int rc;

	if (ip6_is_v4mapped(addr->v6))
		return -ENETUNREACH; /* an IPv6-only raw socket */
	if (sk->ping && !sk->ident && raw_ping_get_ident(st, sk, 0))
		return -EAGAIN;
	rc = route6(st, sk, addr->v6, -1, &rt);
	if (rc)
		return rc;
	if (skiff_addr_is_any(&sk->saddr))
		sk->saddr = ip6_addr_make(rt.src);
	if (skiff_addr_is_any(&sk->laddr))
		sk->laddr = ip6_addr_make(rt.src);
	if (ip6_is_link_local(addr->v6) && sk->bound_ifindex < 0)
		sk->bound_ifindex = rt.ifindex; /* ip6_datagram_connect: the scope becomes the bound device */
	sk->raddr = *addr;
	sk->connected = true;
	return 0;
}

/* ---- input ---- */

static bool raw6_match(const struct skiff_raw_sock *s, uint8_t proto, const uint8_t *raddr, const uint8_t *laddr,
		       int ifindex)
{
	/* Linux raw_v6_match (a bound multicast address matches that group) */
	return !s->ping && s->family == SKIFF_AF_INET6 && s->protocol == proto &&
	       !(s->connected && memcmp(s->raddr.v6, raddr, 16)) &&
	       (skiff_addr_is_any(&s->laddr) || !memcmp(s->laddr.v6, laddr, 16)) &&
	       (s->bound_ifindex < 0 || s->bound_ifindex == ifindex);
}

/* Linux icmpv6_filter: true when ICMP6_FILTER blocks the type (or there is no
 * 4-byte header to read it from). */
static bool icmp6_filtered(const struct skiff_raw_sock *s, const struct skiff_pkt *p)
{
	uint8_t type;
	if (s->protocol != IPPROTO_ICMPV6_)
		return false;
	if (skiff_pkt_chain_len(p) < 4)
		return true;
	type = skiff_pkt_data(p)[0];
	return (s->icmp6_filter[type >> 5] >> (type & 31)) & 1u;
}

static uint32_t chain_sum(const struct skiff_pkt *p, uint32_t sum)
{
	size_t off = 0;
	for (; p; p = p->chain) {
		sum = csum_partial_at(skiff_pkt_data(p), p->len, sum, off);
		off += p->len;
	}
	return sum;
}

bool raw6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt **pp, const struct ip6_repr *ip,
		uint8_t proto, bool last, uint64_t now)
{
	struct skiff_raw_table *t = st->raw;
	struct skiff_raw_sock *prev = NULL;
	struct skiff_pkt *p = *pp;
	uint32_t keep, prev_keep = 0;
	int csum_ok = -1; /* not computed yet */
	bool matched = false, icmp_blocked = false;

	if (!t || !t->nraw)
		return false;
	if (p->l3_off > p->off || p->off - p->l3_off < IP6_HDR_LEN)
		return false; /* not a frame ip6_input left its header in front of */
	p->ifindex = (uint16_t)ifc->index;
	for (struct skiff_raw_sock *s = t->open_head; s; s = s->next) {
		if (!raw6_match(s, proto, ip->src.v6, ip->dst.v6, ifc->index))
			continue;
		matched = true; /* ipv6_raw_deliver: delivered, whatever the filters say */
		if (icmp6_filtered(s, p)) {
			icmp_blocked = true;
			continue;
		}
		if (s->checksum && !(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD)) {
			if (csum_ok < 0) {
				uint32_t len = skiff_pkt_chain_len(p);
				uint32_t sum = chain_sum(p, csum_pseudo6(ip->src.v6, ip->dst.v6, proto, len));
				csum_ok = csum_fold(sum) == 0;
			}
			if (!csum_ok) { /* rawv6_recvmsg: csum_copy_err, the datagram is dropped */
				skiff_count_drop(st, SKIFF_DROP_RAW_BAD_CSUM);
				continue;
			}
		}
		keep = raw_run_filter(s, p, skiff_pkt_data(p));
		if (!keep) {
			skiff_count_drop(st, SKIFF_DROP_RAW_FILTERED);
			continue;
		}
		if (prev) {
			struct skiff_pkt *c = raw_copy_with_header(ifc, p, IP6_HDR_LEN, false);
			if (c) {
				skiff_pkt_pull(c, IP6_HDR_LEN);
				c->l4_off = (uint16_t)c->off;
				raw_trim_chain(c, prev_keep);
				raw_enqueue(st, prev, c, now);
			} else {
				skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
			}
		}
		prev = s;
		prev_keep = keep;
	}
	if (!prev) {
		if (matched && icmp_blocked)
			skiff_count_drop(st, SKIFF_DROP_RAW_ICMP6_FILTERED);
		if (matched && last) { /* held by a raw socket, refused by its filters (each counted above) */
			skiff_pkt_free(p);
			*pp = NULL;
		}
		return matched;
	}
	if (last) { /* nobody else wants the frame: the last socket takes it */
		*pp = NULL;
		raw_trim_chain(p, prev_keep);
		raw_enqueue(st, prev, p, now);
	} else {
		struct skiff_pkt *c = raw_copy_with_header(ifc, p, IP6_HDR_LEN, false);
		if (c) {
			skiff_pkt_pull(c, IP6_HDR_LEN);
			c->l4_off = (uint16_t)c->off;
			raw_trim_chain(c, prev_keep);
			raw_enqueue(st, prev, c, now);
		} else {
			skiff_count_drop(st, SKIFF_DROP_RAW_NO_BUF);
		}
	}
	return true;
}

static struct skiff_raw_sock *ping6_lookup(struct skiff_stack *st, uint16_t id, const uint8_t *laddr, int ifindex)
{
	if (!st->raw)
		return NULL;
	/* Linux ping_lookup for IPv6: id, family, bound address, bound interface */
	for (struct skiff_raw_sock *s = st->raw->open_head; s; s = s->next)
		if (s->ping && s->ident && s->ident == id && s->family == SKIFF_AF_INET6 &&
		    (skiff_addr_is_any(&s->laddr) || !memcmp(s->laddr.v6, laddr, 16)) &&
		    (s->bound_ifindex < 0 || s->bound_ifindex == ifindex))
			return s;
	return NULL;
}

void ping6_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip6_repr *ip,
		 uint64_t now)
{
	struct skiff_raw_sock *sk;
	uint32_t keep;

	if (p->len < ICMP6_HDR_LEN) {
		skiff_drop(st, SKIFF_DROP_ICMP6_SHORT, p);
		return;
	}
	sk = ping6_lookup(st, ld16(skiff_pkt_data(p) + 4), ip->dst.v6, ifc->index);
	if (!sk) { /* an echo reply nobody asked for (Linux ping_rcv: dropped) */
		skiff_drop(st, SKIFF_DROP_ICMP6_INFO_UNKNOWN, p);
		return;
	}
	p->ifindex = (uint16_t)ifc->index;
	keep = raw_run_filter(sk, p, skiff_pkt_data(p));
	if (!keep) {
		skiff_drop(st, SKIFF_DROP_RAW_FILTERED, p);
		return;
	}
	raw_trim_chain(p, keep);
	raw_enqueue(st, sk, p, now);
}

/* ---- errors ---- */

bool raw6_err(struct skiff_stack *st, int ifindex, const uint8_t *from, uint8_t type, uint8_t code, uint32_t info,
	      const uint8_t *q, size_t qlen, size_t l4_off, uint8_t proto, int err, bool fatal, uint64_t now)
{
	struct raw_errmeta m;
	uint8_t addrs[32];
	bool ptb = type == ICMP6_PKT_TOO_BIG, took = false;

	if (!st->raw || !st->raw->open_head || qlen < IP6_HDR_LEN || l4_off > qlen)
		return false;
	memset(&m, 0, sizeof(m));
	m.ee_errno = err;
	m.origin = RAW_EE_ICMP6;
	m.type = type;
	m.code = code;
	m.info = info; /* ipv6_icmp_error: the MTU or the pointer, as received */
	m.ts = now;
	memcpy(addrs, from, 16);
	memcpy(addrs + 16, q + 24, 16);
	for (struct skiff_raw_sock *s = st->raw->open_head; s; s = s->next) {
		/* raw6_icmp_error: matched as if receiving the quoted datagram's reply */
		if (!raw6_match(s, proto, q + 24, q + 8, ifindex))
			continue;
		took = true;
		/* rawv6_err: Packet Too Big is hard only with IPV6_PMTUDISC_DO */
		raw_sock_err(st, s, ifindex, &m, ptb ? s->pmtudisc == SKIFF_PMTUDISC_DO : fatal, addrs,
			     s->hdrincl ? q : q + l4_off, s->hdrincl ? qlen : qlen - l4_off);
	}
	if (proto == IPPROTO_ICMPV6_ && qlen >= l4_off + ICMP6_HDR_LEN && q[l4_off] == ICMP6_ECHO_REQUEST) {
		struct skiff_raw_sock *s = ping6_lookup(st, ld16(q + l4_off + 4), q + 8, ifindex);
		if (s) { /* ping_err: icmpv6_err_convert's verdict */
			raw_sock_err(st, s, ifindex, &m, ptb ? false : fatal, addrs, q + l4_off, qlen - l4_off);
			took = true;
		}
	}
	return took;
}

/* ---- output ---- */

/* Linux ipv6_local_error for a send refused for its size: SO_EE_ORIGIN_LOCAL,
 * the MTU as ee_info, with IPV6_RECVERR. */
static long local_emsgsize6(struct skiff_stack *st, struct skiff_raw_sock *sk, int ifindex, uint32_t mtu,
			    const uint8_t *dst)
{
	struct raw_errmeta m;
	uint8_t addrs[32];
	if (!sk->recverr)
		return -EMSGSIZE;
	memset(&m, 0, sizeof(m));
	m.ee_errno = EMSGSIZE;
	m.origin = RAW_EE_LOCAL;
	m.info = mtu;
	m.ts = st->now;
	memset(addrs, 0, 16);
	memcpy(addrs + 16, dst, 16);
	raw_queue_err(st, sk, ifindex, &m, addrs, NULL, 0);
	raw_mark_ready(st, sk);
	return -EMSGSIZE;
}

/* IPPROTO_RAW / IPV6_HDRINCL: the message is the whole datagram (rawv6_send_hdrinc). */
static long send_hdrincl6(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct skiff_route_res6 *rt,
			  const struct iovec *iov, int iovcnt, size_t len, const uint8_t *dst, uint64_t now)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, rt->ifindex);
	struct raw_iov_cur cur = { iov, iovcnt, 0, 0 };
	struct skiff_pkt *p;

	if (len > rt->mtu)
		return local_emsgsize6(st, sk, rt->ifindex, rt->mtu, dst);
	if (len < IP6_HDR_LEN)
		return -EINVAL;
	p = skiff_iface_alloc(ifc);
	if (!p || skiff_pkt_tailroom(p) < len) {
		skiff_pkt_free(p);
		return -EAGAIN;
	}
	p->flags = 0;
	raw_iov_take(&cur, skiff_pkt_put(p, (uint32_t)len), len);
	skiff_ip6_output_packet(st, rt, p, now);
	return (long)len;
}

long raw6_send(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct iovec *iov, int iovcnt, size_t len,
	       const struct skiff_addr *dst, int scope, int hops, int tclass, uint64_t now)
{
	struct skiff_route_res6 rt;
	struct skiff_ip6_tx tx;
	struct skiff_iface *ifc;
	struct skiff_pkt *head = NULL, **tail = &head;
	struct raw_iov_cur cur = { iov, iovcnt, 0, 0 };
	const uint8_t *daddr;
	uint32_t piece, left, fits;
	int rc;

	if (sk->ping) { /* ping_common_sendmsg: a whole echo request header */
		uint8_t ih[2];
		if (len < ICMP6_HDR_LEN)
			return -EINVAL;
		if (!raw_iov_peek(iov, iovcnt, ih, 2) || ih[0] != ICMP6_ECHO_REQUEST || ih[1] != 0)
			return -EINVAL;
	}
	if (dst) {
		if (dst->family != SKIFF_AF_INET6)
			return -EAFNOSUPPORT;
		daddr = dst->v6;
	} else {
		if (!sk->connected)
			return -EDESTADDRREQ;
		daddr = sk->raddr.v6;
		scope = -1;
	}
	if (ip6_is_v4mapped(daddr))
		return sk->ping ? -EINVAL : -ENETUNREACH;
	if (sk->ping && !sk->ident && raw_ping_get_ident(st, sk, 0)) /* autobind */
		return -EAGAIN;
	/* ping_v6_sendmsg: a link-scope destination needs an interface */
	if (sk->ping && scope == -1 && sk->pkt_oif < 0 && sk->bound_ifindex < 0 &&
	    (ip6_is_link_local(daddr) || (ip6_is_multicast(daddr) && ip6_mcast_scope(daddr) <= IP6_SCOPE_LINK)))
		return -EINVAL;
	rc = route6(st, sk, daddr, scope, &rt);
	if (rc)
		return rc;
	if (sk->hdrincl)
		return send_hdrincl6(st, sk, &rt, iov, iovcnt, len, daddr, now);
	/* rawv6_push_pending_frames: the checksum field must lie inside */
	if (sk->checksum && (size_t)sk->csum_off + 1 >= len)
		return -EINVAL;
	ifc = skiff_stack_iface(st, rt.ifindex);
	if (!ifc)
		return -ENETUNREACH;
	memset(&tx, 0, sizeof(tx));
	if (!skiff_addr_is_any(&sk->pkt_src)) { /* IPV6_PKTINFO's source: one of ours (ip6_datagram_send_ctl) */
		if (skiff_stack_local6(st, sk->pkt_src.v6, sk->pkt_oif, false) < 0)
			return -EINVAL;
		memcpy(tx.src, sk->pkt_src.v6, 16);
	} else {
		memcpy(tx.src, skiff_addr_is_any(&sk->saddr) ? rt.src : sk->saddr.v6, 16);
	}
	memcpy(tx.dst, daddr, 16);
	fits = rt.mtu - IP6_HDR_LEN;
	/* __ip6_append_data: DO, PROBE and INTERFACE (4) never fragment locally
	 * (ip6_sk_ignore_df is false): EMSGSIZE with a local error entry */
	if (len > fits &&
	    (sk->pmtudisc == SKIFF_PMTUDISC_DO || sk->pmtudisc == SKIFF_PMTUDISC_PROBE || sk->pmtudisc == 4))
		return local_emsgsize6(st, sk, rt.ifindex, rt.mtu, daddr);
	left = (uint32_t)len;
	piece = left <= fits ? (left ? left : 1) : skiff_ip6_frag_payload(rt.mtu);
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
	if (sk->ping)
		st16(skiff_pkt_data(head) + 4, sk->ident);
	if (sk->ping || sk->checksum) {
		/* RFC 8200 8.1: the pseudo-header, then the message with the field at 0 */
		uint32_t off = sk->ping ? 2 : (uint32_t)sk->csum_off;
		struct skiff_pkt *q = head;
		uint8_t *f;
		while (off >= q->len) {
			off -= q->len;
			q = q->chain;
		}
		f = skiff_pkt_data(q) + off;
		st16(f, 0);
		st16(f, csum_fold(chain_sum(head, csum_pseudo6(tx.src, tx.dst, sk->protocol, (uint32_t)len))));
	}
	if (sk->protocol == IPPROTO_ICMPV6_)
		st->ctr.icmp6_out++;
	tx.proto = sk->protocol;
	if (hops >= 0)
		tx.hop_limit = (uint8_t)hops;
	else if (ip6_is_multicast(daddr))
		tx.hop_limit = sk->mcast_ttl;
	else if (sk->uhops >= 0)
		tx.hop_limit = (uint8_t)sk->uhops;
	else
		tx.hop_limit = ifc->hop_limit6 ? ifc->hop_limit6 : st->cfg.default_hop_limit;
	tx.tclass = (uint8_t)(tclass >= 0 ? tclass : sk->tos);
	rc = skiff_ip6_output(st, &rt, &tx, head, now);
	return rc ? rc : (long)len;
}
