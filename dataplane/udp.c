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
#include "ip6.h"
#include "route.h"
#include "stack.h"
#include "udp_mcast.h"
#include "udp_mcast6.h"
#include "wire_udp.h"

#define UDP_HASH_SIZE 1024u
#define UDP_MAX_PAYLOAD4 (65535u - IP4_HDR_LEN - UDP_HDR_LEN)

struct skiff_udp_table {
	unsigned cap;
	struct skiff_udp_sock *free_head;
	struct skiff_udp_sock *hash[UDP_HASH_SIZE];
	struct skiff_udp_sock socks[];
};

static inline unsigned port_bucket(uint16_t port) { return port & (UDP_HASH_SIZE - 1); }

/* Dual stack (RFC 4291 2.5.5.2, Linux ipv6_only_sock): an AF_INET6 socket names
 * an IPv4 address by its v4-mapped form, and takes IPv4 datagrams unless
 * IPV6_V6ONLY. Does the socket-side address sa name the packet address pa? */
static bool sock_addr_is(const struct skiff_addr *sa, const struct skiff_addr *pa)
{
	if (sa->family == SKIFF_AF_INET6 && pa->family == SKIFF_AF_INET)
		return ip6_is_v4mapped(sa->v6) && ip6_v4mapped_addr(sa->v6) == pa->v4;
	return skiff_addr_eq(sa, pa);
}

/* May sk take a datagram of family fam: 2 native, 1 IPv4 on a dual-stack
 * AF_INET6 socket (Linux's compute_score prefers AF_INET sockets so), -1 no. */
static int family_score(const struct skiff_udp_sock *sk, uint8_t fam)
{
	if (sk->family == fam)
		return 2;
	if (sk->family == SKIFF_AF_INET6 && fam == SKIFF_AF_INET && !sk->v6only)
		return 1;
	return -1;
}

/* The IPv4 address a socket-side address stands for (v4 itself, or v4-mapped), or 0. */
static uint32_t sock_addr_v4(const struct skiff_addr *sa)
{
	if (sa->family == SKIFF_AF_INET)
		return sa->v4;
	return ip6_is_v4mapped(sa->v6) ? ip6_v4mapped_addr(sa->v6) : 0;
}

/* An address of the socket's family for an IPv4 one (v4-mapped on AF_INET6). */
static struct skiff_addr sock_addr_of4(const struct skiff_udp_sock *sk, uint32_t v4)
{
	struct skiff_addr a = skiff_addr_v4(v4);
	if (sk->family == SKIFF_AF_INET6) {
		a.family = SKIFF_AF_INET6;
		ip6_make_v4mapped(v4, a.v6);
	}
	return a;
}

static struct skiff_addr sock_any(const struct skiff_udp_sock *sk)
{
	struct skiff_addr a;
	memset(&a, 0, sizeof(a));
	a.family = sk->family;
	return a;
}

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

void udp_mark_ready(struct skiff_stack *st, struct skiff_udp_sock *sk) { mark_ready(st, sk); }

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

	if (family != SKIFF_AF_INET && family != SKIFF_AF_INET6) {
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
	sk->hop_limit = -1;  /* IPV6_UNICAST_HOPS -1: the route's (interface) default */
	sk->mcast_hops = 1;
	sk->scope_ifindex = -1;
	sk->bound_ifindex = -1;
	sk->tx_oif = -1; /* no sendmsg PKTINFO override (socketapi/sock_cmsg.c) */
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
	udp_mcast_close(st, sk); /* leave its groups (udp_mcast.c) */
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
	if (sk->family != sk2->family) {
		/* an AF_INET socket and an AF_INET6 one meet only on IPv4 (Linux
		 * inet_rcv_saddr_equal): the v6 one's :: (unless V6ONLY) or v4-mapped */
		const struct skiff_udp_sock *s6 = sk->family == SKIFF_AF_INET6 ? sk : sk2;
		const struct skiff_addr *a6 = s6 == sk ? addr : &sk2->laddr, *a4 = s6 == sk ? &sk2->laddr : addr;
		if (skiff_addr_is_any(a6))
			return !s6->v6only;
		if (!ip6_is_v4mapped(a6->v6))
			return false;
		return a4->v4 == 0 || ip6_v4mapped_addr(a6->v6) == a4->v4;
	}
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
	if (sk->family == SKIFF_AF_INET6 && !skiff_addr_is_any(addr) && !ip6_is_v4mapped(addr->v6)) {
		/* Linux inet6_bind: a link-local address needs its interface */
		int ifx = skiff_stack_local6(st, addr->v6, sk->bound_ifindex, false);
		if (!ip6_is_multicast(addr->v6) && ifx < 0)
			return -EADDRNOTAVAIL;
	} else if (sk->family == SKIFF_AF_INET6 && ip6_is_v4mapped(addr->v6) && sk->v6only) {
		return -EINVAL;
	} else if (!skiff_addr_is_any(addr)) {
		uint32_t a4 = sock_addr_v4(addr);
		if (skiff_stack_local4(st, a4) < 0 && !ip4_is_multicast(a4) && !skiff_stack_is_bcast4(st, a4) &&
		    !(sk->family == SKIFF_AF_INET6 && a4 == 0))
			return -EADDRNOTAVAIL;
	}
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

int udp_autobind(struct skiff_stack *st, struct skiff_udp_sock *sk)
{
	struct skiff_addr any = sock_any(sk);
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
	uint32_t dst4;
	int rc;

	(void)now;
	if (addr->family == SKIFF_AF_NONE) {
		/* Linux __udp_disconnect */
		sk->connected = false;
		sk->raddr = sock_any(sk);
		sk->rport = 0;
		if (!sk->addr_locked)
			sk->laddr = sock_any(sk);
		if (!sk->port_locked)
			unhash(st, sk);
		return 0;
	}
	if (addr->family != sk->family)
		return -EAFNOSUPPORT;
	if (sk->family == SKIFF_AF_INET6 && !ip6_is_v4mapped(addr->v6)) {
		struct skiff_route_res6 rt6;
		if (sk->laddr.family == SKIFF_AF_INET6 && ip6_is_v4mapped(sk->laddr.v6) && !skiff_addr_is_any(&sk->laddr))
			return -EAFNOSUPPORT; /* bound to an IPv4 address (Linux: EAFNOSUPPORT) */
		rc = udp6_route(st, sk, addr->v6, sk->scope_ifindex, &rt6);
		if (rc)
			return rc;
		/* Linux __ip6_datagram_connect: a scoped destination binds the device */
		if (sk->scope_ifindex >= 0 && sk->bound_ifindex < 0 &&
		    (ip6_is_link_local(addr->v6) || (ip6_is_multicast(addr->v6) && ip6_mcast_scope(addr->v6) <= IP6_SCOPE_LINK)))
			sk->bound_ifindex = sk->scope_ifindex;
		rc = udp_autobind(st, sk);
		if (rc)
			return rc;
		if (!sk->addr_locked && skiff_addr_is_any(&sk->laddr))
			sk->laddr = ip6_addr_make(rt6.src);
		sk->raddr = *addr;
		sk->rport = port;
		sk->connected = true;
		return 0;
	}
	if (sk->family == SKIFF_AF_INET6 && sk->v6only)
		return -ENETUNREACH; /* Linux: a V6ONLY socket cannot reach IPv4 */
	dst4 = sock_addr_v4(addr);
	rc = skiff_route_lookup4(st, dst4, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	if (skiff_stack_is_bcast4(st, dst4) && !sk->broadcast)
		return -EACCES;
	/* a 127/8 source (bound, or kept from an earlier connect) stays inside */
	rc = skiff_route_check_src4(st, &rt, skiff_addr_is_any(&sk->laddr) ? rt.src : sock_addr_v4(&sk->laddr), dst4);
	if (rc)
		return rc;
	/* Autobind first (Linux inet_dgram_connect), then set the source (Linux
	 * ip4_datagram_connect): autobind resets an unlocked address to the wildcard. */
	rc = udp_autobind(st, sk);
	if (rc)
		return rc;
	/* the source chosen by the first connect stays on reconnect (Linux sets
	 * inet_rcv_saddr only while it is unset; AF_UNSPEC clears it) */
	if (!sk->addr_locked && skiff_addr_is_any(&sk->laddr))
		sk->laddr = sock_addr_of4(sk, rt.src);
	sk->raddr = *addr;
	sk->rport = port;
	sk->connected = true;
	return 0;
}

bool skiff_udp_port_open4(struct skiff_stack *st, uint32_t addr, uint16_t port, int ifindex)
{
	for (const struct skiff_udp_sock *s = st->udp->hash[port_bucket(port)]; s; s = s->hnext)
		if (s->lport == port && family_score(s, SKIFF_AF_INET) > 0 &&
		    (skiff_addr_is_any(&s->laddr) || sock_addr_v4(&s->laddr) == addr) &&
		    (s->bound_ifindex < 0 || s->bound_ifindex == ifindex))
			return true;
	return false;
}

/* Best socket for a unicast datagram (Linux compute_score: family, then each
 * exact match +4). */
static int score(const struct skiff_udp_sock *sk, const struct skiff_addr *saddr, uint16_t sport,
		 const struct skiff_addr *daddr, int ifindex)
{
	int s = family_score(sk, daddr->family);
	if (s < 0)
		return -1;
	if (!skiff_addr_is_any(&sk->laddr)) {
		if (!sock_addr_is(&sk->laddr, daddr))
			return -1;
		s += 4;
	}
	if (sk->connected) {
		if (!sock_addr_is(&sk->raddr, saddr) || sk->rport != sport)
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

struct skiff_udp_sock *udp_lookup(struct skiff_stack *st, const struct skiff_addr *saddr, uint16_t sport,
				   const struct skiff_addr *daddr, uint16_t dport, int ifindex)
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
		uint32_t h = (skiff_addr_hash(saddr) * 0x9e3779b1u) ^ ((uint32_t)sport << 16 | dport) * 0x85ebca6bu ^
			     skiff_addr_hash(daddr);
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

void udp_enqueue(struct skiff_stack *st, struct skiff_udp_sock *sk, struct skiff_pkt *p)
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
struct skiff_pkt *udp_clone_chain(struct skiff_iface *ifc, const struct skiff_pkt *src)
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

bool udp_mcast_match(const struct skiff_udp_sock *s, const struct skiff_addr *saddr, uint16_t sport,
		     const struct skiff_addr *daddr, uint16_t dport, int ifindex)
{
	if (s->lport != dport || family_score(s, daddr->family) < 0)
		return false;
	if (!skiff_addr_is_any(&s->laddr) && !sock_addr_is(&s->laddr, daddr))
		return false;
	if (s->connected && (!sock_addr_is(&s->raddr, saddr) || s->rport != sport))
		return false;
	if (s->bound_ifindex >= 0 && s->bound_ifindex != ifindex)
		return false;
	return true;
}

void udp_trim_chain(struct skiff_pkt *p, uint32_t keep)
{
	for (; p; p = p->chain) {
		if (p->len > keep)
			p->len = keep;
		keep -= p->len;
	}
}

uint32_t udp_chain_sum(const struct skiff_pkt *p, uint32_t sum)
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
			sum = udp_chain_sum(p, sum);
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
	if (u.len < l4len)
		udp_trim_chain(p, u.len);
	skiff_pkt_pull(p, UDP_HDR_LEN);

	{
		struct skiff_addr sa = skiff_addr_v4(ip->src), da = skiff_addr_v4(ip->dst);
		bool group = (p->flags & (SKIFF_PKT_BCAST | SKIFF_PKT_MCAST)) || ip4_is_multicast(ip->dst) ||
			     skiff_stack_is_bcast4(st, ip->dst);
		if (udp_deliver(st, ifc, p, &sa, u.sport, &da, u.dport, group))
			return;
	}
	skiff_icmp4_send_error(st, p, ICMP4_DEST_UNREACH, ICMP4_PORT_UNREACH, 0, now);
	skiff_drop(st, SKIFF_DROP_UDP_NO_PORT, p);
}

bool udp_deliver(struct skiff_stack *st, struct skiff_iface *ifc, struct skiff_pkt *p, const struct skiff_addr *sa,
		 uint16_t sport, const struct skiff_addr *da, uint16_t dport, bool group)
{
	struct skiff_udp_sock *sk;

	if (group) {
		struct skiff_udp_sock *last = NULL;
		for (sk = st->udp->hash[port_bucket(dport)]; sk; sk = sk->hnext) {
			if (!udp_mcast_match(sk, sa, sport, da, dport, ifc->index) ||
			    (da->family == SKIFF_AF_INET && /* its filter (udp_mcast.c) */
			     !udp_mcast_sock_accepts4(st, sk, sa->v4, da->v4, ifc->index)) ||
			    (da->family == SKIFF_AF_INET6 && /* IPv6 (udp_mcast6.c) */
			     !udp_mcast_sock_accepts6(st, sk, sa->v6, da->v6, ifc->index)))
				continue;
			if (last) {
				struct skiff_pkt *c = udp_clone_chain(ifc, p);
				if (c)
					udp_enqueue(st, last, c);
				else
					skiff_count_drop(st, SKIFF_DROP_IP4_NO_BUF);
			}
			last = sk;
		}
		if (last)
			udp_enqueue(st, last, p);
		else
			skiff_drop(st, SKIFF_DROP_UDP_NO_PORT, p); /* no ICMP for broadcasts and groups */
		return true;
	}
	sk = udp_lookup(st, sa, sport, da, dport, ifc->index);
	if (!sk)
		return false;
	udp_enqueue(st, sk, p);
	return true;
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
	{
		struct skiff_addr qs = skiff_addr_v4(qip->src), qd = skiff_addr_v4(qip->dst);
		sk = udp_lookup(st, &qd, dport, &qs, sport, ifindex);
	}
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

int udp_build(struct skiff_stack *st, struct skiff_udp_sock *sk, struct skiff_iface *ifc, const struct iovec *iov,
	      int iovcnt, size_t len, uint16_t dport, uint32_t piece, struct skiff_pkt **out, uint32_t *sum_out)
{
	struct skiff_pkt *head = NULL, **tail = &head;
	struct iov_cursor cur = { iov, iovcnt, 0, 0 };
	uint32_t left = (uint32_t)len + UDP_HDR_LEN, sum = 0;
	unsigned npieces = (left + piece - 1) / piece;
	size_t soff = UDP_HDR_LEN; /* payload starts after the header, which is summed last */
	struct udp_repr u;

	(void)st;
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
	u.sport = sk->lport;
	u.dport = dport;
	u.len = (uint16_t)(len + UDP_HDR_LEN);
	u.csum = 0;
	udp_emit(skiff_pkt_data(head), &u);
	*sum_out = csum_partial(skiff_pkt_data(head), UDP_HDR_LEN, sum);
	*out = head;
	return 0;
}

long skiff_udp_send(struct skiff_stack *st, struct skiff_udp_sock *sk, const struct iovec *iov, int iovcnt,
		    const struct skiff_addr *dst, uint16_t dport, int flags, uint64_t now)
{
	struct skiff_route_res4 rt;
	struct skiff_iface *ifc;
	struct skiff_ip4_tx tx;
	struct skiff_pkt *first;
	uint32_t daddr, saddr, sum = 0, piece, left;
	size_t len = 0;
	const struct skiff_addr *to;
	int rc;

	(void)flags;
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (sk->err)
		return -skiff_udp_take_error(sk);
	if (dst) {
		if (dst->family != sk->family)
			return -EAFNOSUPPORT;
		if (dport == 0)
			return -EINVAL;
		to = dst;
	} else {
		if (!sk->connected)
			return -EDESTADDRREQ;
		to = &sk->raddr;
		dport = sk->rport;
	}
	if (to->family == SKIFF_AF_INET6 && !ip6_is_v4mapped(to->v6))
		return udp6_send(st, sk, iov, iovcnt, len, to->v6, dport, dst ? sk->scope_ifindex : -1, now);
	if (dst && sk->scope_ifindex == SKIFF_SCOPE_NONE)
		sk->scope_ifindex = -1; /* a scope means nothing to IPv4 */
	if (sk->family == SKIFF_AF_INET6 && (sk->v6only || (!skiff_addr_is_any(&sk->laddr) &&
							     !ip6_is_v4mapped(sk->laddr.v6))))
		return -ENETUNREACH; /* IPv4 from a V6ONLY socket or one bound to an IPv6 address */
	daddr = sock_addr_v4(to);
	if (len > UDP_MAX_PAYLOAD4)
		return -EMSGSIZE;
	if (skiff_stack_is_bcast4(st, daddr) && !sk->broadcast)
		return -EACCES;
	if (ip4_is_multicast(daddr) && sk->tx_oif < 0)
		rc = udp_mcast_route4(st, sk, daddr, &rt); /* IP_MULTICAST_IF (udp_mcast.c) */
	else /* IP_PKTINFO's interface (socketapi/sock_cmsg.c) before the bound one */
		rc = skiff_route_lookup4(st, daddr, sk->tx_oif >= 0 ? sk->tx_oif : sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	rc = udp_autobind(st, sk);
	if (rc)
		return rc;
	saddr = sock_addr_v4(&sk->laddr);
	if (!saddr || ip4_is_multicast(saddr) || skiff_stack_is_bcast4(st, saddr))
		saddr = rt.src;
	if (sk->tx_src.family == SKIFF_AF_INET && sk->tx_src.v4)
		saddr = sk->tx_src.v4; /* IP_PKTINFO ipi_spec_dst, checked ours by the caller */
	rc = skiff_route_check_src4(st, &rt, saddr, daddr);
	if (rc)
		return rc; /* bound to 127/8, sending through a device */
	ifc = skiff_stack_iface(st, rt.ifindex);
	/* Cut into pieces as we copy: one frame if it fits the MTU, else fragments. */
	left = (uint32_t)len + UDP_HDR_LEN;
	piece = left <= (uint32_t)ifc->mtu - IP4_HDR_LEN ? left : skiff_ip4_frag_payload(ifc->mtu);
	rc = udp_build(st, sk, ifc, iov, iovcnt, len, dport, piece, &first, &sum);
	if (rc)
		return rc;
	if (!sk->no_check) {
		uint16_t c = csum_fold(csum_add(sum, csum_pseudo4(saddr, daddr, IPPROTO_UDP_, (uint32_t)len + UDP_HDR_LEN)));
		st16(skiff_pkt_data(first) + 6, c ? c : 0xffff); /* RFC 768: computed 0 is sent as all ones */
	}
	tx.src = saddr;
	tx.dst = daddr;
	tx.proto = IPPROTO_UDP_;
	tx.ttl = ip4_is_multicast(daddr) ? sk->mcast_ttl : sk->ttl;
	tx.tos = sk->tos;
	tx.df = false;
	st->ctr.udp_out++;
	if (ip4_is_multicast(daddr))
		udp_mcast_loop4(st, sk, &rt, &tx, first); /* IP_MULTICAST_LOOP (udp_mcast.c) */
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
		if ((ih[0] >> 4) == 6)
			*src = ip6_addr_make(ih + 8);
		else
			*src = sock_addr_of4(sk, ld32(ih + 12));
	}
	if (sport)
		*sport = ld16(p->head + p->l4_off);
	if (dgram_len)
		*dgram_len = total;
	sk->last_rx_ifindex = p->ifindex;
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

/* For recvmsg's control messages (socketapi/sock_cmsg.c): the frame still holds
 * its IP header at l3_off (RFC 791 3.1 / RFC 8200 3 layouts). */
int skiff_udp_rx_meta(const struct skiff_udp_sock *sk, struct skiff_udp_rxmeta *m)
{
	const struct skiff_pkt *p = sk->rq_head;
	const uint8_t *ih;

	memset(m, 0, sizeof(*m));
	if (!p)
		return -EAGAIN;
	ih = p->head + p->l3_off;
	m->ifindex = p->ifindex;
	m->v6 = (ih[0] >> 4) == 6;
	if (m->v6) {
		m->tos = (uint8_t)((ih[0] << 4) | (ih[1] >> 4)); /* traffic class */
		m->ttl = ih[7];                                 /* hop limit */
		m->dst = ip6_addr_make(ih + 24);
	} else {
		m->tos = ih[1];
		m->ttl = ih[8];
		m->dst = skiff_addr_v4(ld32(ih + 16));
	}
	return 0;
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
	sk->rcvbuf = skiff_sockbuf_size(val, st->cfg.rcvbuf_max, SKIFF_SOCK_MIN_RCVBUF);
	return 0;
}

int skiff_udp_set_sndbuf(struct skiff_stack *st, struct skiff_udp_sock *sk, int val)
{
	sk->sndbuf = skiff_sockbuf_size(val, st->cfg.sndbuf_max, SKIFF_SOCK_MIN_SNDBUF);
	return 0;
}
