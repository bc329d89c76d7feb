/* udp.c — UDP over IPv4 (RFC 768, RFC 1122 4.1.3).
 *
 * Table: preallocated sockets, a free list, a hash of bound sockets by local port.
 * Bind: Linux's conflict rule (udp_lib_lport_inuse): two sockets may share a port
 *   when their addresses differ (neither wildcard), both set SO_REUSEADDR, or both
 *   set SO_REUSEPORT. Port 0 picks an ephemeral port from a random start (RFC 6056
 *   algorithm 1, "simple port randomization").
 * Input: length and checksum (a zero checksum means none, RFC 768) → unicast: the
 *   best-scoring socket (connected 4-tuple > bound address > wildcard; a
 *   SO_REUSEPORT group is spread by a 4-tuple hash) → broadcast/multicast: a copy to
 *   every matching socket → none: ICMP port unreachable (RFC 1122 4.1.3.1).
 *   Datagrams queue on the socket as frames until recv copies them out.
 * Output: route, source selection, the message cut into fragment-sized frames as
 *   it is copied in (checksum summed on the way), then ip4_output.
 */
#include "udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "icmp4.h"
#include "ip4.h"
#include "route.h"
#include "stack.h"
#include "wire_udp.h"

#define UDP_HASH_SIZE 1024u
#define UDP_MAX_PAYLOAD4 (65535u - IP4_HDR_LEN - UDP_HDR_LEN)
#define SOCK_MIN_RCVBUF 2304u
#define SOCK_MIN_SNDBUF 4608u

struct skiff_udp_table {
	unsigned cap;
	struct skiff_udp_sock *free_head;
	struct skiff_udp_sock *hash[UDP_HASH_SIZE];
	struct skiff_udp_sock socks[];
};

static inline unsigned port_bucket(uint16_t port) { return port & (UDP_HASH_SIZE - 1); }

int skiff_udp_table_create(struct skiff_stack *st)
{
	unsigned n = st->cfg.udp_sockets;
	struct skiff_udp_table *t = calloc(1, sizeof(*t) + n * sizeof(t->socks[0]));
	if (!t)
		return -ENOMEM;
	t->cap = n;
	for (unsigned i = n; i-- > 0;) {
		t->socks[i].hnext = t->free_head;
		t->free_head = &t->socks[i];
	}
	st->udp = t;
	return 0;
}

void skiff_udp_table_destroy(struct skiff_stack *st)
{
	struct skiff_udp_table *t = st->udp;
	if (!t)
		return;
	for (unsigned i = 0; i < t->cap; i++)
		if (t->socks[i].in_use)
			skiff_pkt_free_list(t->socks[i].rq_head);
	free(t);
	st->udp = NULL;
}

static void mark_ready(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	sk->wake_seq++;
	if (sk->on_ready)
		return;
	sk->on_ready = true;
	sk->ready_next = st->ready_head;
	st->ready_head = sk;
}

struct skiff_udp_sock *skiff_udp_ready_pop(struct skiff_stack *st)
{
	struct skiff_udp_sock *sk = st->ready_head;
	if (sk) {
		st->ready_head = sk->ready_next;
		sk->ready_next = NULL;
		sk->on_ready = false;
	}
	return sk;
}

struct skiff_udp_sock *skiff_udp_open(struct skiff_stack *st, int family, int *err)
{
	struct skiff_udp_table *t = st->udp;
	struct skiff_udp_sock *sk;
	uint32_t gen;

	if (family != SKIFF_AF_INET) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	sk = t->free_head;
	if (!sk) {
		*err = -ENOBUFS;
		return NULL;
	}
	t->free_head = sk->hnext;
	gen = sk->gen;
	memset(sk, 0, sizeof(*sk));
	sk->gen = gen;
	sk->in_use = true;
	sk->family = (uint8_t)family;
	sk->laddr.family = sk->raddr.family = (uint8_t)family;
	sk->ttl = st->cfg.default_ttl;
	sk->mcast_ttl = 1; /* RFC 1112 6.1: multicast defaults to TTL 1 */
	sk->bound_ifindex = -1;
	sk->rcvbuf = st->cfg.rcvbuf_default;
	sk->sndbuf = st->cfg.sndbuf_default;
	*err = 0;
	return sk;
}

static void unhash(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	struct skiff_udp_sock **pp;
	if (!sk->bound)
		return;
	for (pp = &st->udp->hash[port_bucket(sk->lport)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == sk) {
			*pp = sk->hnext;
			break;
		}
	}
	sk->hnext = NULL;
	sk->bound = false;
	sk->lport = 0;
}

static void ready_remove(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	struct skiff_udp_sock **pp;
	if (!sk->on_ready)
		return;
	for (pp = &st->ready_head; *pp; pp = &(*pp)->ready_next) {
		if (*pp == sk) {
			*pp = sk->ready_next;
			break;
		}
	}
	sk->on_ready = false;
}

void skiff_udp_close(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	if (!sk || !sk->in_use)
		return;
	unhash(st, sk);
	ready_remove(st, sk);
	skiff_pkt_free_list(sk->rq_head);
	sk->rq_head = sk->rq_tail = NULL;
	sk->in_use = false;
	sk->gen++;
	sk->user = NULL;
	sk->hnext = st->udp->free_head;
	st->udp->free_head = sk;
}

/* Linux udp_lib_lport_inuse: does binding sk to (addr, port) clash with sk2? */
static bool clashes(const struct skiff_udp_sock *sk, const struct skiff_addr *addr, const struct skiff_udp_sock *sk2)
{
	if (sk2 == sk)
		return false;
	if (sk->reuseaddr && sk2->reuseaddr)
		return false;
	if (sk->reuseport && sk2->reuseport)
		return false;
	if (sk->bound_ifindex >= 0 && sk2->bound_ifindex >= 0 && sk->bound_ifindex != sk2->bound_ifindex)
		return false;
	return skiff_addr_is_any(addr) || skiff_addr_is_any(&sk2->laddr) || skiff_addr_eq(addr, &sk2->laddr);
}

static bool port_in_use(struct skiff_stack *st, const struct skiff_udp_sock *sk, const struct skiff_addr *addr,
			uint16_t port)
{
	for (struct skiff_udp_sock *s2 = st->udp->hash[port_bucket(port)]; s2; s2 = s2->hnext)
		if (s2->lport == port && clashes(sk, addr, s2))
			return true;
	return false;
}

static void hash_in(struct skiff_stack *st, struct skiff_udp_sock *sk, uint16_t port)
{
	unsigned b = port_bucket(port);
	sk->lport = port;
	sk->bound = true;
	sk->hnext = st->udp->hash[b]; /* head: the newest wins ties, as Linux */
	st->udp->hash[b] = sk;
}

static int pick_ephemeral(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct skiff_addr *addr)
{
	uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
	uint32_t start = (uint32_t)(skiff_rand64(st) % n);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (start + i) % n);
		if (!port_in_use(st, sk, addr, port))
			return port;
	}
	return -EADDRINUSE; /* Linux reports EADDRINUSE when the range is exhausted */
}

int skiff_udp_bind(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct skiff_addr *addr, uint16_t port)
{
	int p;

	if (sk->bound)
		return -EINVAL;
	if (addr->family != sk->family)
		return -EAFNOSUPPORT;
	if (!skiff_addr_is_any(addr) && skiff_stack_local4(st, addr->v4) < 0 && !ip4_is_multicast(addr->v4) &&
	    !skiff_stack_is_bcast4(st, addr->v4))
		return -EADDRNOTAVAIL;
	if (port == 0) {
		p = pick_ephemeral(st, sk, addr);
		if (p < 0)
			return p;
	} else {
		if (port_in_use(st, sk, addr, port))
			return -EADDRINUSE;
		p = port;
		sk->port_locked = true;
	}
	sk->laddr = *addr;
	sk->addr_locked = !skiff_addr_is_any(addr);
	hash_in(st, sk, (uint16_t)p);
	return 0;
}

static int autobind(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	struct skiff_addr any = skiff_addr_v4(0);
	int p;
	if (sk->bound)
		return 0;
	p = pick_ephemeral(st, sk, &sk->laddr);
	if (p < 0)
		return p;
	if (!sk->addr_locked)
		sk->laddr = any;
	hash_in(st, sk, (uint16_t)p);
	return 0;
}

int skiff_udp_connect(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct skiff_addr *addr, uint16_t port,
		      uint64_t now)
{
	struct skiff_route_res4 rt;
	int rc;

	(void)now;
	if (addr->family == SKIFF_AF_NONE) {
		/* Linux __udp_disconnect */
		sk->connected = false;
		sk->raddr = skiff_addr_v4(0);
		sk->rport = 0;
		if (!sk->addr_locked)
			sk->laddr = skiff_addr_v4(0);
		if (!sk->port_locked)
			unhash(st, sk);
		return 0;
	}
	if (addr->family != sk->family)
		return -EAFNOSUPPORT;
	rc = skiff_route_lookup4(st, addr->v4, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	if (skiff_stack_is_bcast4(st, addr->v4) && !sk->broadcast)
		return -EACCES;
	/* a 127/8 source (bound, or kept from an earlier connect) stays inside */
	rc = skiff_route_check_src4(st, &rt, skiff_addr_is_any(&sk->laddr) ? rt.src : sk->laddr.v4, addr->v4);
	if (rc)
		return rc;
	/* Autobind first (Linux inet_dgram_connect), then set the source (Linux
	 * ip4_datagram_connect): autobind resets an unlocked address to the wildcard. */
	rc = autobind(st, sk);
	if (rc)
		return rc;
	/* the source chosen by the first connect stays on reconnect (Linux sets
	 * inet_rcv_saddr only while it is unset; AF_UNSPEC clears it) */
	if (!sk->addr_locked && skiff_addr_is_any(&sk->laddr))
		sk->laddr = skiff_addr_v4(rt.src);
	sk->raddr = *addr;
	sk->rport = port;
	sk->connected = true;
	return 0;
}

bool skiff_udp_port_open4(struct skiff_stack *st, uint32_t addr, uint16_t port, int ifindex)
{
	for (const struct skiff_udp_sock *s = st->udp->hash[port_bucket(port)]; s; s = s->hnext)
		if (s->lport == port && (skiff_addr_is_any(&s->laddr) || s->laddr.v4 == addr) &&
		    (s->bound_ifindex < 0 || s->bound_ifindex == ifindex))
			return true;
	return false;
}

/* Best socket for a unicast datagram (Linux compute_score: each exact match +4). */
static int score(const struct skiff_udp_sock *sk, uint32_t saddr, uint16_t sport, uint32_t daddr, int ifindex)
{
	int s = 0;
	if (!skiff_addr_is_any(&sk->laddr)) {
		if (sk->laddr.v4 != daddr)
			return -1;
		s += 4;
	}
	if (sk->connected) {
		if (sk->raddr.v4 != saddr || sk->rport != sport)
			return -1;
		s += 8;
	}
	if (sk->bound_ifindex >= 0) {
		if (sk->bound_ifindex != ifindex)
			return -1;
		s += 4;
	}
	return s;
}

static struct skiff_udp_sock *lookup4(struct skiff_stack *st, uint32_t saddr, uint16_t sport, uint32_t daddr,
				      uint16_t dport, int ifindex)
{
	struct skiff_udp_sock *best = NULL, *s;
	int best_score = -1;
	unsigned ngroup = 0;

	for (s = st->udp->hash[port_bucket(dport)]; s; s = s->hnext) {
		int sc;
		if (s->lport != dport)
			continue;
		sc = score(s, saddr, sport, daddr, ifindex);
		if (sc > best_score) {
			best = s;
			best_score = sc;
		}
	}
	if (!best || !best->reuseport)
		return best;
	/* SO_REUSEPORT: spread over the sockets that tie, by 4-tuple hash. */
	for (s = st->udp->hash[port_bucket(dport)]; s; s = s->hnext)
		if (s->lport == dport && s->reuseport && score(s, saddr, sport, daddr, ifindex) == best_score)
			ngroup++;
	if (ngroup > 1) {
		uint32_t h = (saddr * 0x9e3779b1u) ^ ((uint32_t)sport << 16 | dport) * 0x85ebca6bu ^ daddr;
		unsigned pick;
		h ^= h >> 15;
		h *= 0x2c1b3c6du;
		h ^= h >> 12;
		pick = h % ngroup;
		for (s = st->udp->hash[port_bucket(dport)]; s; s = s->hnext) {
			if (s->lport == dport && s->reuseport && score(s, saddr, sport, daddr, ifindex) == best_score) {
				if (pick-- == 0)
					return s;
			}
		}
	}
	return best;
}

static uint32_t truesize(const struct skiff_pkt *p)
{
	uint32_t n = 0;
	for (; p; p = p->chain)
		n += p->cap + (uint32_t)sizeof(*p);
	return n;
}

static void enqueue(struct skiff_stack *st, struct skiff_udp_sock *sk, struct skiff_pkt *p)
{
	/* Linux __udp_enqueue_schedule_skb: accept while the queue is at or under SO_RCVBUF. */
	if (sk->rcv_bytes > sk->rcvbuf) {
		sk->drops++;
		skiff_drop(st, SKIFF_DROP_UDP_RCVBUF_FULL, p);
		return;
	}
	sk->rcv_bytes += truesize(p);
	p->next = NULL;
	if (sk->rq_tail)
		sk->rq_tail->next = p;
	else
		sk->rq_head = p;
	sk->rq_tail = p;
	sk->rq_count++;
	mark_ready(st, sk);
}

/* Copy of a whole (possibly chained) frame for broadcast fan-out. */
static struct skiff_pkt *clone_chain(struct skiff_iface *ifc, const struct skiff_pkt *src)
{
	struct skiff_pkt *head = NULL, **tail = &head;
	for (; src; src = src->chain) {
		struct skiff_pkt *c = skiff_iface_alloc(ifc);
		if (!c || c->cap < src->off + src->len) {
			skiff_pkt_free(c);
			skiff_pkt_free(head);
			return NULL;
		}
		memcpy(c->head, src->head, src->off + src->len);
		c->off = src->off;
		c->len = src->len;
		c->flags = src->flags;
		c->l3_off = src->l3_off;
		c->l4_off = src->l4_off;
		c->ts = src->ts;
		*tail = c;
		tail = &c->chain;
	}
	return head;
}

static bool mcast_match(const struct skiff_udp_sock *s, uint32_t saddr, uint16_t sport, uint32_t daddr, uint16_t dport,
			int ifindex)
{
	if (s->lport != dport)
		return false;
	if (!skiff_addr_is_any(&s->laddr) && s->laddr.v4 != daddr)
		return false;
	if (s->connected && (s->raddr.v4 != saddr || s->rport != sport))
		return false;
	if (s->bound_ifindex >= 0 && s->bound_ifindex != ifindex)
		return false;
	return true;
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

void udp4_input(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct ip4_repr *ip,
		uint64_t now)
{
	struct view v = view_make(skiff_pkt_data(p), p->len);
	uint32_t l4len = ip->total_len - ip->ihl;
	struct udp_repr u;
	struct skiff_udp_sock *sk;

	st->ctr.udp_in++;
	if (udp_parse(&v, &u)) {
		skiff_drop(st, SKIFF_DROP_UDP_SHORT, p);
		return;
	}
	if (u.len < UDP_HDR_LEN || u.len > l4len) {
		skiff_drop(st, SKIFF_DROP_UDP_BAD_LEN, p);
		return;
	}
	/* RFC 768: zero checksum means the sender computed none (IPv4 only). */
	if (u.csum != 0 && !(p->flags & SKIFF_PKT_RX_L4_CSUM_GOOD)) {
		uint32_t sum = csum_pseudo4(ip->src, ip->dst, IPPROTO_UDP_, u.len);
		if (u.len == l4len) {
			sum = chain_sum(p, sum);
		} else {
			/* trailing bytes beyond the UDP length are not summed (RFC 768) */
			struct skiff_pkt *q;
			uint32_t left = u.len;
			size_t off = 0;
			for (q = p; q && left; q = q->chain) {
				uint32_t n = q->len < left ? q->len : left;
				sum = csum_partial_at(skiff_pkt_data(q), n, sum, off);
				off += n;
				left -= n;
			}
		}
		if (csum_fold(sum) != 0) {
			skiff_drop(st, SKIFF_DROP_UDP_BAD_CSUM, p);
			return;
		}
	}
	/* source port 0 is legal ("not used", RFC 768); destination port 0 is not */
	if (u.dport == 0) {
		skiff_drop(st, SKIFF_DROP_UDP_ZERO_PORT, p);
		return;
	}
	/* Trim to the UDP length, then make the data the payload. */
	if (u.len < l4len) {
		uint32_t keep = u.len;
		for (struct skiff_pkt *q = p; q; q = q->chain) {
			if (q->len > keep)
				q->len = keep;
			keep -= q->len;
		}
	}
	skiff_pkt_pull(p, UDP_HDR_LEN);

	if (p->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST) || ip4_is_multicast(ip->dst) ||
	    skiff_stack_is_bcast4(st, ip->dst)) {
		struct skiff_udp_sock *last = NULL;
		for (sk = st->udp->hash[port_bucket(u.dport)]; sk; sk = sk->hnext) {
			if (!mcast_match(sk, ip->src, u.sport, ip->dst, u.dport, ifc->index))
				continue;
			if (last) {
				struct skiff_pkt *c = clone_chain(ifc, p);
				if (c)
					enqueue(st, last, c);
				else
					skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
			}
			last = sk;
		}
		if (last)
			enqueue(st, last, p);
		else
			skiff_drop(st, SKIFF_DROP_UDP_NO_PORT, p); /* no ICMP for broadcasts */
		return;
	}
	sk = lookup4(st, ip->src, u.sport, ip->dst, u.dport, ifc->index);
	if (!sk) {
		skiff_icmp4_send_error(st, p, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, 0, now);
		skiff_drop(st, SKIFF_DROP_UDP_NO_PORT, p);
		return;
	}
	enqueue(st, sk, p);
}

void udp4_err(struct skiff_stack *st, int ifindex, const struct ip4_repr *qip, const uint8_t *ql4, size_t ql4_len,
	      int err, bool fatal)
{
	struct skiff_udp_sock *sk;
	uint16_t sport, dport;

	if (ql4_len < 4) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_BAD_QUOTE);
		return;
	}
	sport = ld16(ql4);
	dport = ld16(ql4 + 2);
	/* We sent qip->src:sport → qip->dst:dport; find that socket as if it were receiving. */
	sk = lookup4(st, qip->dst, dport, qip->src, sport, ifindex);
	if (!sk) {
		skiff_count_drop(st, SKIFF_DROP_ICMP_ERR_NO_SOCKET);
		return;
	}
	/* Linux __udp4_lib_err without IP_RECVERR: only hard errors, only when connected. */
	if (!fatal || !sk->connected)
		return;
	sk->err = err;
	mark_ready(st, sk);
}

int skiff_udp_take_error(struct skiff_udp_sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return e;
}

/* ---- send ---- */

struct iov_cursor {
	const struct iovec *iov;
	int n, i;
	size_t off;
};

static void iov_copy(struct iov_cursor *c, uint8_t *dst, size_t len, uint32_t *sum, size_t *stream_off)
{
	while (len) {
		const struct iovec *v = &c->iov[c->i];
		size_t avail = v->iov_len - c->off, k = len < avail ? len : avail;
		if (k) {
			memcpy(dst, (const uint8_t *)v->iov_base + c->off, k);
			*sum = csum_partial_at(dst, k, *sum, *stream_off);
			*stream_off += k;
			dst += k;
			len -= k;
			c->off += k;
		}
		if (c->off == v->iov_len) {
			c->i++;
			c->off = 0;
			if (c->i >= c->n)
				break;
		}
	}
}

long skiff_udp_send(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt,
		    const struct skiff_addr *dst, uint16_t dport, int flags, uint64_t now)
{
	struct skiff_route_res4 rt;
	struct skiff_iface *ifc;
	struct skiff_ip4_tx tx;
	struct skiff_pkt *head = NULL, **tail = &head, *first;
	struct iov_cursor cur = { iov, iovcnt, 0, 0 };
	uint32_t daddr, saddr, sum = 0, piece, left;
	size_t len = 0, soff = 0;
	unsigned npieces;
	struct udp_repr u;
	int rc;

	(void)flags;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (sk->err)
		return -skiff_udp_take_error(sk);
	if (dst) {
		if (dst->family != sk->family)
			return -EAFNOSUPPORT;
		daddr = dst->v4;
		if (dport == 0)
			return -EINVAL;
	} else {
		if (!sk->connected)
			return -EDESTADDRREQ;
		daddr = sk->raddr.v4;
		dport = sk->rport;
	}
	if (len > UDP_MAX_PAYLOAD4)
		return -EMSGSIZE;
	if (skiff_stack_is_bcast4(st, daddr) && !sk->broadcast)
		return -EACCES;
	rc = skiff_route_lookup4(st, daddr, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	rc = autobind(st, sk);
	if (rc)
		return rc;
	saddr = (!skiff_addr_is_any(&sk->laddr) && !ip4_is_multicast(sk->laddr.v4) &&
		 !skiff_stack_is_bcast4(st, sk->laddr.v4)) ? sk->laddr.v4 : rt.src;
	rc = skiff_route_check_src4(st, &rt, saddr, daddr);
	if (rc)
		return rc; /* bound to 127/8, sending through a device */
	ifc = skiff_stack_iface(st, rt.ifindex);
	/* Cut into pieces as we copy: one frame if it fits the MTU, else fragments. */
	left = (uint32_t)len + UDP_HDR_LEN;
	piece = left <= (uint32_t)ifc->mtu - IP4_HDR_LEN ? left : skiff_ip4_frag_payload(ifc->mtu);
	npieces = (left + piece - 1) / piece;
	soff = UDP_HDR_LEN; /* payload starts after the header, which is summed last */
	if (npieces > ifc->tx_mask + 1)
		return -ENOBUFS; /* could never fit the transmit ring (config txq) */
	if (ifc->tx_count + npieces > ifc->tx_mask + 1)
		return -EAGAIN; /* transmit ring full: the caller drains and retries */
	while (left) {
		struct skiff_pkt *p = skiff_iface_alloc(ifc);
		uint32_t n = left < piece ? left : piece, hdr = head ? 0 : UDP_HDR_LEN;
		uint8_t *d;
		if (!p || skiff_pkt_tailroom(p) < n) { /* add_iface checked frames hold an MTU */
			skiff_pkt_free(p);
			skiff_pkt_free(head);
			return -EAGAIN; /* frames are all in flight; retry after the driver frees some */
		}
		d = skiff_pkt_put(p, n);
		if (hdr)
			memset(d, 0, UDP_HDR_LEN);
		iov_copy(&cur, d + hdr, n - hdr, &sum, &soff);
		*tail = p;
		tail = &p->chain;
		left -= n;
	}
	first = head;
	u.sport = sk->lport;
	u.dport = dport;
	u.len = (uint16_t)(len + UDP_HDR_LEN);
	u.csum = 0;
	udp_emit(skiff_pkt_data(first), &u);
	if (!sk->no_check) {
		uint32_t s = csum_partial(skiff_pkt_data(first), UDP_HDR_LEN, sum);
		uint16_t c = csum_fold(csum_add(s, csum_pseudo4(saddr, daddr, IPPROTO_UDP_, u.len)));
		st16(skiff_pkt_data(first) + 6, c ? c : 0xffff); /* RFC 768: computed 0 is sent as all ones */
	}
	tx.src = saddr;
	tx.dst = daddr;
	tx.proto = IPPROTO_UDP_;
	tx.ttl = ip4_is_multicast(daddr) ? sk->mcast_ttl : sk->ttl;
	tx.tos = sk->tos;
	tx.df = false;
	st->ctr.udp_out++;
	rc = skiff_ip4_output(st, &rt, &tx, first, now);
	return rc ? rc : (long)len;
}

/* ---- receive ---- */

long skiff_udp_recv(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    struct skiff_addr *src, uint16_t *sport, size_t *dgram_len)
{
	struct skiff_pkt *p = sk->rq_head, *q;
	size_t total, copied = 0, off = 0;
	int i = 0;

	(void)st;
	if (sk->err)
		return -skiff_udp_take_error(sk);
	if (!p)
		return -EAGAIN;
	total = skiff_pkt_chain_len(p);
	for (q = p; q && i < iovcnt; q = q->chain) {
		size_t qoff = 0;
		while (qoff < q->len && i < iovcnt) {
			size_t room = iov[i].iov_len - off, k = q->len - qoff;
			if (k > room)
				k = room;
			if (k)
				memcpy((uint8_t *)iov[i].iov_base + off, skiff_pkt_data(q) + qoff, k);
			qoff += k;
			off += k;
			copied += k;
			if (off == iov[i].iov_len) {
				i++;
				off = 0;
			}
		}
	}
	if (src) {
		const uint8_t *ih = p->head + p->l3_off;
		*src = skiff_addr_v4(ld32(ih + 12));
	}
	if (sport)
		*sport = ld16(p->head + p->l4_off);
	if (dgram_len)
		*dgram_len = total;
	if (!(flags & SKIFF_MSG_PEEK)) {
		sk->rq_head = p->next;
		if (!sk->rq_head)
			sk->rq_tail = NULL;
		sk->rq_count--;
		sk->rcv_bytes -= truesize(p);
		p->next = NULL;
		skiff_pkt_free(p);
	}
	return (flags & SKIFF_MSG_TRUNC) ? (long)total : (long)copied;
}

unsigned skiff_udp_events(const struct skiff_udp_sock *sk)
{
	unsigned ev = SKIFF_EV_OUT;
	if (sk->rq_head || sk->err)
		ev |= SKIFF_EV_IN;
	if (sk->err)
		ev |= SKIFF_EV_ERR;
	return ev;
}

size_t skiff_udp_next_len(const struct skiff_udp_sock *sk)
{
	return sk->rq_head ? skiff_pkt_chain_len(sk->rq_head) : 0;
}

/* Linux sock_setsockopt SO_RCVBUF/SO_SNDBUF: clamp to the max, double, floor. */
int skiff_udp_set_rcvbuf(struct skiff_stack *st, struct skiff_udp_sock *sk, int val)
{
	uint64_t v = (uint32_t)val; /* Linux compares as u32: a negative size means "as large as allowed" */
	if (v > st->cfg.rcvbuf_max)
		v = st->cfg.rcvbuf_max;
	v *= 2;
	sk->rcvbuf = v < SOCK_MIN_RCVBUF ? SOCK_MIN_RCVBUF : (uint32_t)v;
	return 0;
}

int skiff_udp_set_sndbuf(struct skiff_stack *st, struct skiff_udp_sock *sk, int val)
{
	uint64_t v = (uint32_t)val;
	if (v > st->cfg.sndbuf_max)
		v = st->cfg.sndbuf_max;
	v *= 2;
	sk->sndbuf = v < SOCK_MIN_SNDBUF ? SOCK_MIN_SNDBUF : (uint32_t)v;
	return 0;
}
