/* tcp.c — TCP connection table and the user calls (RFC 9293 3.10.1-3.10.6).
 *
 * Table: preallocated TCBs, a free list, a local-port hash (bind conflicts and
 * listeners, Linux's bind rules as for UDP) and a 4-tuple hash for synchronized
 * connections. ISNs are RFC 6528: a 4 µs clock plus SipHash of the 4-tuple under
 * a per-stack secret; ephemeral ports start at a keyed offset per destination
 * (RFC 6056 3.3.3) and skip ports whose 4-tuple is in use. Addresses are kept
 * in wire form (an IPv4 connection of an AF_INET6 socket has AF_INET ones); the
 * keyed hashes take an IPv4 tuple as two words, as before IPv6, and an IPv6 one
 * as all 32 address bytes.
 * Dual stack (RFC 4291 2.5.5.2, Linux's rules): an AF_INET6 socket bound to ::
 * without IPV6_V6ONLY also takes IPv4; bind conflicts across families follow
 * Linux's inet_rcv_saddr_equal, listener choice its compute_score.
 * Calls: OPEN (connect: SYN-SENT, SYN queued), OPEN passive (listen), SEND (copy
 * into the send ring, then output), RECEIVE (copy out of the queued frames, then a
 * window update when the window opened enough), CLOSE (FIN after the data, or RST
 * when unread data would be lost — RFC 2525 2.17 as Linux), ABORT, STATUS.
 */
#include "tcp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "route6.h"
#include "siphash.h"
#include "tcp_internal.h"
#include "tcp_seq.h"

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

const char *skiff_tcp_state_name(enum skiff_tcp_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static inline unsigned bbucket(uint16_t port) { return port & (TCP_BHASH_SIZE - 1); }

/* SipHash of a 4-tuple plus `extra` under key: an IPv4 tuple as the two words
 * it always was, an IPv6 one as five. */
static uint64_t tuple_hash(const uint64_t key[2], const struct skiff_addr *la, uint16_t lport,
			   const struct skiff_addr *ra, uint16_t rport, uint64_t extra)
{
	uint64_t w[5];
	if (la->family != SKIFF_AF_INET6 && ra->family != SKIFF_AF_INET6) {
		w[0] = ((uint64_t)la->v4 << 32) | ra->v4;
		w[1] = ((uint64_t)lport << 16) | rport | extra;
		return siphash_words(key, w, 2);
	}
	memcpy(&w[0], la->v6, 16);
	memcpy(&w[2], ra->v6, 16);
	w[4] = ((uint64_t)lport << 16) | rport | extra | 0x6000000000000000ull;
	return siphash_words(key, w, 5);
}

static unsigned ebucket(const struct skiff_tcp_table *t, const struct skiff_addr *laddr, uint16_t lport,
			const struct skiff_addr *raddr, uint16_t rport)
{
	return (unsigned)tuple_hash(t->key, laddr, lport, raddr, rport, 0) & t->emask;
}

int skiff_tcp_table_create(struct skiff_stack *st)
{
	struct skiff_tcp_table *t = calloc(1, sizeof(*t));
	unsigned cap = st->cfg.tcp_sockets, nb = 1;
	if (!t)
		return -ENOMEM;
	while (nb < 2 * cap)
		nb <<= 1;
	t->socks = calloc(cap, sizeof(*t->socks));
	t->ehash = calloc(nb, sizeof(*t->ehash));
	if (!t->socks || !t->ehash) {
		free(t->socks);
		free(t->ehash);
		free(t);
		return -ENOMEM;
	}
	t->cap = cap;
	t->emask = nb - 1;
	for (unsigned i = cap; i-- > 0;) {
		t->socks[i].bnext = t->free_head;
		t->free_head = &t->socks[i];
	}
	t->key[0] = skiff_rand64(st);
	t->key[1] = skiff_rand64(st);
	st->tcp = t;
	return 0;
}

static void rq_purge(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	tcp_rx_mem_add(st, -(int64_t)sk->rq_truesize);
	tcp_rx_mem_add(st, -(int64_t)skiff_tcp_ooo_truesize(&sk->ooo));
	skiff_pkt_free_list(sk->rq_head);
	sk->rq_head = sk->rq_tail = NULL;
	sk->rq_bytes = sk->rq_truesize = sk->rq_off = 0;
}

void skiff_tcp_table_destroy(struct skiff_stack *st)
{
	struct skiff_tcp_table *t = st->tcp;
	if (!t)
		return;
	for (unsigned i = 0; i < t->cap; i++) {
		struct skiff_tcp_sock *sk = &t->socks[i];
		if (!sk->in_use)
			continue;
		rq_purge(st, sk);
		skiff_tcp_ooo_purge(&sk->ooo);
		free(sk->sbuf);
		skiff_tcp_rack_free(&sk->rack);
	}
	free(t->socks);
	free(t->ehash);
	free(t);
	st->tcp = NULL;
}

/* ---- hashing ---- */

static void bhash_add(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint16_t port)
{
	unsigned b = bbucket(port);
	sk->lport = port;
	sk->bound = true;
	sk->bnext = tcp_tab(st)->bhash[b];
	tcp_tab(st)->bhash[b] = sk;
}

static void bhash_del(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	struct skiff_tcp_sock **pp;
	if (!sk->bound)
		return;
	for (pp = &tcp_tab(st)->bhash[bbucket(sk->lport)]; *pp; pp = &(*pp)->bnext) {
		if (*pp == sk) {
			*pp = sk->bnext;
			break;
		}
	}
	sk->bnext = NULL;
	sk->bound = false;
}

void tcp_ehash_add(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	unsigned b = ebucket(t, &sk->laddr, sk->lport, &sk->raddr, sk->rport);
	if (sk->in_ehash)
		return;
	sk->enext = t->ehash[b];
	t->ehash[b] = sk;
	sk->in_ehash = true;
}

static void ehash_del(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	struct skiff_tcp_sock **pp;
	if (!sk->in_ehash)
		return;
	for (pp = &t->ehash[ebucket(t, &sk->laddr, sk->lport, &sk->raddr, sk->rport)]; *pp; pp = &(*pp)->enext) {
		if (*pp == sk) {
			*pp = sk->enext;
			break;
		}
	}
	sk->enext = NULL;
	sk->in_ehash = false;
}

struct skiff_tcp_sock *tcp_lookup_est(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
				      const struct skiff_addr *raddr, uint16_t rport)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	for (struct skiff_tcp_sock *sk = t->ehash[ebucket(t, laddr, lport, raddr, rport)]; sk; sk = sk->enext)
		if (sk->lport == lport && sk->rport == rport && skiff_addr_eq(&sk->laddr, laddr) &&
		    skiff_addr_eq(&sk->raddr, raddr))
			return sk;
	return NULL;
}

struct skiff_tcp_sock *tcp_lookup_established(struct skiff_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
					      uint16_t rport)
{
	struct skiff_addr l = skiff_addr_v4(laddr), r = skiff_addr_v4(raddr);
	return tcp_lookup_est(st, &l, lport, &r, rport);
}

/* Does sk, by family and local address, take a segment to a? -1 no, 0 as a
 * wildcard, 1 bound to exactly a. AF_INET sockets take IPv4 only; AF_INET6 ones
 * IPv6, and IPv4 unless IPV6_V6ONLY when bound to :: or to that IPv4 address
 * (v4-mapped, kept in wire form). */
static int laddr_takes(const struct skiff_tcp_sock *sk, const struct skiff_addr *a)
{
	if (a->family == SKIFF_AF_INET6 ? sk->family != SKIFF_AF_INET6 : sk->family == SKIFF_AF_INET6 && sk->v6only)
		return -1;
	if (sk->laddr.family == SKIFF_AF_NONE)
		return 0; /* no address given: the socket family's wildcard */
	if (sk->laddr.family == a->family)
		return skiff_addr_is_any(&sk->laddr) ? 0 : skiff_addr_eq(&sk->laddr, a) ? 1 : -1;
	/* an IPv6 :: takes IPv4 (checked above); an IPv4 address never takes IPv6 */
	return sk->laddr.family == SKIFF_AF_INET6 && skiff_addr_is_any(&sk->laddr) ? 0 : -1;
}

/* Best listener (Linux compute_score): a native socket beats a dual-stack one
 * for IPv4, an exact address beats a wildcard, a bound device counts. */
struct skiff_tcp_sock *tcp_lookup_listener_a(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport,
					     int ifindex)
{
	struct skiff_tcp_sock *best = NULL;
	int best_score = -1;
	for (struct skiff_tcp_sock *sk = tcp_tab(st)->bhash[bbucket(lport)]; sk; sk = sk->bnext) {
		int s, m;
		if (sk->state != SKIFF_TCP_LISTEN || sk->lport != lport)
			continue;
		m = laddr_takes(sk, laddr);
		if (m < 0)
			continue;
		s = (laddr->family == SKIFF_AF_INET && sk->family == SKIFF_AF_INET6) ? 1 : 2;
		if (m)
			s += 4;
		if (sk->bound_ifindex >= 0) {
			if (sk->bound_ifindex != ifindex)
				continue;
			s += 4;
		}
		if (s > best_score) {
			best = sk;
			best_score = s;
		}
	}
	return best;
}

struct skiff_tcp_sock *tcp_lookup_listener(struct skiff_stack *st, uint32_t laddr, uint16_t lport, int ifindex)
{
	struct skiff_addr a = skiff_addr_v4(laddr);
	return tcp_lookup_listener_a(st, &a, lport, ifindex);
}

/* ---- TCB life ---- */

void tcp_init_tcb(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	uint32_t gen = sk->gen;
	memset(sk, 0, sizeof(*sk));
	sk->gen = gen;
	sk->in_use = true;
	sk->family = SKIFF_AF_INET;
	sk->ttl = st->cfg.default_ttl;
	sk->hop_limit = -1;
	sk->scope_ifindex = -1;
	sk->bound_ifindex = -1;
	sk->rcvbuf = st->cfg.tcp_rcvbuf;
	sk->sndbuf = st->cfg.tcp_sndbuf;
	sk->rto = TCP_RTO_INIT_NS;
	sk->keep_idle_ns = TCP_KEEPIDLE_NS;
	sk->keep_intvl_ns = TCP_KEEPINTVL_NS;
	sk->keep_cnt = TCP_KEEPCNT;
	sk->quickacks = TCP_QUICKACKS;
	skiff_timer_init(&sk->timer, tcp_timer_fn);
	skiff_tcp_ooo_init(&sk->ooo);
	skiff_tcp_sack_init(&sk->sack);
	skiff_tcp_rack_init(&sk->rack);
	sk->cc.ops = skiff_tcp_cc_default();
}

struct skiff_tcp_sock *skiff_tcp_open(struct skiff_stack *st, int family, int *err)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	struct skiff_tcp_sock *sk;
	if (family != SKIFF_AF_INET && family != SKIFF_AF_INET6) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	sk = t->free_head;
	if (!sk) {
		*err = -ENOBUFS;
		return NULL;
	}
	t->free_head = sk->bnext;
	tcp_init_tcb(st, sk);
	sk->family = (uint8_t)family;
	t->live++;
	*err = 0;
	return sk;
}

void tcp_free(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	if (!sk->in_use)
		return;
	skiff_timer_cancel(&st->timers, &sk->timer);
	ehash_del(st, sk);
	bhash_del(st, sk);
	rq_purge(st, sk);
	skiff_tcp_ooo_purge(&sk->ooo);
	free(sk->sbuf);
	sk->sbuf = NULL;
	skiff_tcp_rack_free(&sk->rack);
	/* a listener's unaccepted children go with it (RST: they will never be
	 * served), the half-open ones too (Linux inet_csk_listen_stop) */
	if (sk->state == SKIFF_TCP_LISTEN && sk->synq_len) {
		for (unsigned i = 0; i < t->cap && sk->synq_len; i++) {
			struct skiff_tcp_sock *c = &t->socks[i];
			if (c->in_use && c->parent == sk && c->on_synq) {
				c->orphan = true;
				tcp_send_ctl(st, c, c->snd_nxt, TCP_RST | TCP_ACK, st->now);
				tcp_free(st, c);
			}
		}
	}
	while (sk->aq_head) {
		struct skiff_tcp_sock *c = sk->aq_head;
		sk->aq_head = c->qnext;
		c->parent = NULL;
		c->orphan = true;
		tcp_send_ctl(st, c, c->snd_nxt, TCP_RST | TCP_ACK, st->now);
		tcp_free(st, c);
	}
	if (sk->parent) {
		/* a child dying on its listener's queues */
		struct skiff_tcp_sock *l = sk->parent, **pp;
		for (pp = &l->aq_head; *pp; pp = &(*pp)->qnext) {
			if (*pp == sk) {
				*pp = sk->qnext;
				if (l->aq_tail == sk) {
					l->aq_tail = NULL;
					for (struct skiff_tcp_sock *q = l->aq_head; q; q = q->qnext)
						l->aq_tail = q;
				}
				l->aq_len--;
				break;
			}
		}
		if (sk->on_synq && l->synq_len)
			l->synq_len--;
		sk->on_synq = false;
		sk->parent = NULL;
	}
	if (sk->on_ready) {
		struct skiff_tcp_sock **pp;
		for (pp = &t->ready_head; *pp; pp = &(*pp)->ready_next) {
			if (*pp == sk) {
				*pp = sk->ready_next;
				break;
			}
		}
		sk->on_ready = false;
	}
	sk->in_use = false;
	sk->state = SKIFF_TCP_CLOSED;
	sk->gen++;
	sk->user = NULL;
	sk->bnext = t->free_head;
	t->free_head = sk;
	t->live--;
}

void tcp_set_state(struct skiff_stack *st, struct skiff_tcp_sock *sk, enum skiff_tcp_state s)
{
	(void)st;
	sk->state = (uint8_t)s;
}

void tcp_mark_ready(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	sk->wake_seq++;
	if (sk->on_ready || !sk->user)
		return;
	sk->on_ready = true;
	sk->ready_next = t->ready_head;
	t->ready_head = sk;
}

struct skiff_tcp_sock *skiff_tcp_ready_pop(struct skiff_stack *st)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	struct skiff_tcp_sock *sk = t->ready_head;
	if (sk) {
		t->ready_head = sk->ready_next;
		sk->ready_next = NULL;
		sk->on_ready = false;
	}
	return sk;
}

void tcp_drop(struct skiff_stack *st, struct skiff_tcp_sock *sk, int err)
{
	if (err)
		sk->err = err;
	skiff_timer_cancel(&st->timers, &sk->timer);
	memset(sk->due, 0, sizeof(sk->due));
	ehash_del(st, sk);
	tcp_set_state(st, sk, SKIFF_TCP_CLOSED);
	sk->rd_shut = true; /* Linux tcp_done: both directions shut (POLLIN|POLLRDHUP) */
	tcp_rx_mem_add(st, -(int64_t)skiff_tcp_ooo_truesize(&sk->ooo));
	skiff_tcp_ooo_purge(&sk->ooo);
	if (sk->orphan || (sk->parent && !sk->accepted)) {
		tcp_free(st, sk);
		return;
	}
	tcp_mark_ready(st, sk);
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4 µs timer (here from the caller's clock). */
uint32_t tcp_isn(struct skiff_stack *st, const struct skiff_addr *laddr, uint16_t lport, const struct skiff_addr *raddr,
		 uint16_t rport, uint64_t now)
{
	return (uint32_t)tuple_hash(tcp_tab(st)->key, laddr, lport, raddr, rport, 0) + (uint32_t)(now / 4000);
}

uint16_t tcp_mss_offer(struct skiff_stack *st, int ifindex, uint8_t fam)
{
	const struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	uint32_t mtu = ifc ? ifc->mtu : (fam == SKIFF_AF_INET6 ? IP6_MIN_MTU : 576u);
	if (ifc && fam == SKIFF_AF_INET6 && ifc->mtu6 && ifc->mtu6 < mtu)
		mtu = ifc->mtu6; /* the link MTU an RA announced */
	return (uint16_t)(mtu - tcp_hdrs(fam));
}

int tcp_oif6(const struct skiff_tcp_sock *sk)
{
	if (sk->bound_ifindex >= 0)
		return sk->bound_ifindex;
	if ((sk->raddr.family == SKIFF_AF_INET6 && ip6_is_link_local(sk->raddr.v6)) ||
	    (sk->laddr.family == SKIFF_AF_INET6 && ip6_is_link_local(sk->laddr.v6)))
		return sk->scope_ifindex;
	return -1;
}

uint32_t tcp_mss_for(struct skiff_stack *st, const struct skiff_tcp_sock *sk, int ifindex)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	uint8_t fam = sk->raddr.family == SKIFF_AF_INET6 ? SKIFF_AF_INET6 : SKIFF_AF_INET;
	uint32_t mtu = ifc ? ifc->mtu : 0, mss, peer;
	if (ifc && fam == SKIFF_AF_INET6) {
		if (ifc->mtu6 && ifc->mtu6 < mtu)
			mtu = ifc->mtu6;
		mtu = skiff_pmtu6_get(st, sk->raddr.v6, mtu, st->now); /* RFC 8201: what the path allows */
	}
	mss = mtu ? mtu - tcp_hdrs(fam) : tcp_default_mss(fam);
	peer = sk->peer_mss ? sk->peer_mss : tcp_default_mss(fam);
	if (peer < mss)
		mss = peer;
	if (sk->user_mss && sk->user_mss < mss)
		mss = sk->user_mss;
	if (mss < TCP_MIN_MSS)
		mss = TCP_MIN_MSS; /* a peer's zero or tiny MSS must not make us send 1-byte segments */
	return mss;
}

/* ---- receive queue and window ---- */

/* The window we offer: free receive buffer, payload bytes, as Linux with
 * tcp_adv_win_scale 1 (half the buffer is kept for frame overhead). */
uint32_t tcp_rcv_window(const struct skiff_tcp_sock *sk)
{
	uint32_t space = sk->rcvbuf / 2, used = sk->rq_bytes + skiff_tcp_ooo_bytes(&sk->ooo);
	uint32_t w = space > used ? space - used : 0;
	uint32_t max = TCP_MAX_WINDOW << sk->rcv_wscale;
	return w > max ? max : w;
}

void tcp_rq_append(struct skiff_stack *st, struct skiff_tcp_sock *sk, struct skiff_pkt *p, uint32_t len)
{
	p->next = NULL;
	if (sk->rq_tail)
		sk->rq_tail->next = p;
	else
		sk->rq_head = p;
	sk->rq_tail = p;
	sk->rq_bytes += len;
	for (const struct skiff_pkt *q = p; q; q = q->chain) {
		sk->rq_truesize += q->cap;
		tcp_rx_mem_add(st, q->cap);
	}
}

/* ---- bind ---- */

/* The address a socket is bound to as bind sees it: no address yet is its
 * family's wildcard. */
static struct skiff_addr bind_addr(const struct skiff_tcp_sock *sk, const struct skiff_addr *a)
{
	struct skiff_addr w;
	if (a->family != SKIFF_AF_NONE)
		return *a;
	memset(&w, 0, sizeof(w));
	w.family = sk->family == SKIFF_AF_INET6 ? SKIFF_AF_INET6 : SKIFF_AF_INET;
	return w;
}

/* Linux inet_rcv_saddr_equal (wildcards match): do sk bound to a and o
 * overlap? Same family: either is the wildcard, or the same address. Across
 * families (a v6 socket's IPv6 address against an IPv4 one): only a :: without
 * IPV6_V6ONLY overlaps, and it overlaps every IPv4 address. */
static bool addr_overlap(const struct skiff_tcp_sock *sk, const struct skiff_addr *a, const struct skiff_tcp_sock *o)
{
	struct skiff_addr x = bind_addr(sk, a), y = bind_addr(o, &o->laddr);
	if (x.family == y.family)
		return skiff_addr_is_any(&x) || skiff_addr_is_any(&y) || skiff_addr_eq(&x, &y);
	if (x.family == SKIFF_AF_INET6)
		return skiff_addr_is_any(&x) && !sk->v6only;
	return skiff_addr_is_any(&y) && !o->v6only;
}

/* Linux inet_csk_bind_conflict for TCP: another socket on the port conflicts
 * unless the addresses differ (see addr_overlap), or both set SO_REUSEADDR and
 * the other is not listening, or both set SO_REUSEPORT (same owner assumed). */
static bool bind_conflict(struct skiff_stack *st, const struct skiff_tcp_sock *sk, const struct skiff_addr *addr,
			  uint16_t port, bool for_listen)
{
	for (struct skiff_tcp_sock *o = tcp_tab(st)->bhash[bbucket(port)]; o; o = o->bnext) {
		if (o == sk || o->lport != port)
			continue;
		if (!addr_overlap(sk, addr, o))
			continue;
		if (sk->bound_ifindex >= 0 && o->bound_ifindex >= 0 && sk->bound_ifindex != o->bound_ifindex)
			continue;
		if (sk->reuseport && o->reuseport && (!for_listen || o->state == SKIFF_TCP_LISTEN || !o->in_ehash))
			continue;
		if (sk->reuseaddr && o->reuseaddr && o->state != SKIFF_TCP_LISTEN && !for_listen)
			continue;
		if (sk->reuseaddr && o->state == SKIFF_TCP_TIME_WAIT)
			continue; /* servers restart over their own TIME-WAIT connections */
		if (for_listen && o->state != SKIFF_TCP_LISTEN && o->in_ehash && sk->reuseaddr)
			continue;
		return true;
	}
	return false;
}

/* raddr NULL: a port for bind/listen. */
static int pick_ephemeral(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *raddr,
			  uint16_t rport)
{
	uint32_t lo = st->cfg.ephemeral_lo, n = (uint32_t)st->cfg.ephemeral_hi - lo + 1;
	struct skiff_addr none = skiff_addr_v4(0);
	/* RFC 6056 3.3.3: offset = F(local, remote, secret) + a random per-call step
	 * (for IPv4 the words are what they were: laddr|raddr, rport) */
	uint32_t off = (uint32_t)tuple_hash(tcp_tab(st)->key, &sk->laddr, 0, raddr ? raddr : &none, rport, 0) +
		       (uint32_t)skiff_rand64(st);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(lo + (off + i) % n);
		bool busy = false;
		if (raddr) {
			/* connect: only the exact 4-tuple and listeners/bound sockets matter */
			if (tcp_lookup_est(st, &sk->laddr, port, raddr, rport))
				continue;
			for (struct skiff_tcp_sock *o = tcp_tab(st)->bhash[bbucket(port)]; o; o = o->bnext)
				if (o->lport == port && !o->in_ehash) {
					busy = true;
					break;
				}
		} else {
			busy = bind_conflict(st, sk, &sk->laddr, port, false);
		}
		if (!busy)
			return port;
	}
	return -EADDRINUSE; /* Linux: EADDRNOTAVAIL on connect, EADDRINUSE on bind */
}

/* A v4-mapped IPv6 address (RFC 4291 2.5.5.2) stands for its IPv4 one: the
 * TCB keeps wire form. */
static struct skiff_addr unmap(const struct skiff_addr *a)
{
	if (a->family == SKIFF_AF_INET6 && ip6_is_v4mapped(a->v6))
		return skiff_addr_v4(ip6_v4mapped_addr(a->v6));
	return *a;
}

/* Linux inet6_bind's checks for an IPv6 address: ours (a link-local one on the
 * interface the scope or the bound device names, which the socket then keeps). */
static int bind_check6(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *a, int *dev)
{
	*dev = sk->bound_ifindex;
	if (skiff_addr_is_any(a))
		return 0;
	if (ip6_is_multicast(a->v6))
		return -EINVAL;
	if (ip6_is_link_local(a->v6)) {
		if (sk->scope_ifindex >= 0) {
			if (sk->bound_ifindex >= 0 && sk->bound_ifindex != sk->scope_ifindex)
				return -EINVAL;
			*dev = sk->scope_ifindex;
		}
		if (*dev < 0)
			return -EINVAL; /* a link-local address needs its interface */
	}
	if (skiff_stack_local6(st, a->v6, ip6_is_link_local(a->v6) ? *dev : -1, false) < 0)
		return -EADDRNOTAVAIL;
	return 0;
}

int skiff_tcp_bind(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *addr, uint16_t port)
{
	struct skiff_addr a = unmap(addr), saved = sk->laddr;
	int p = port, dev = sk->bound_ifindex, saved_dev, rc;
	if (sk->bound || sk->state != SKIFF_TCP_CLOSED)
		return -EINVAL;
	if (addr->family == SKIFF_AF_INET6 && sk->family != SKIFF_AF_INET6)
		return -EAFNOSUPPORT;
	if (a.family == SKIFF_AF_INET6) {
		rc = bind_check6(st, sk, &a, &dev);
		if (rc)
			return rc;
	} else if (a.family == SKIFF_AF_INET) {
		if (sk->family == SKIFF_AF_INET6 && sk->v6only)
			return -EINVAL; /* Linux: a v4-mapped address on a V6ONLY socket */
		if (a.v4 && skiff_stack_local4(st, a.v4) < 0)
			return -EADDRNOTAVAIL;
	} else {
		return -EAFNOSUPPORT;
	}
	sk->laddr = a;
	saved_dev = sk->bound_ifindex;
	sk->bound_ifindex = dev; /* a link-local address binds its interface (Linux) */
	if (port == 0) {
		p = pick_ephemeral(st, sk, NULL, 0);
		if (p < 0) {
			sk->laddr = saved;
			sk->bound_ifindex = saved_dev;
			return p;
		}
	} else if (bind_conflict(st, sk, &a, port, false)) {
		sk->laddr = saved;
		sk->bound_ifindex = saved_dev;
		return -EADDRINUSE;
	}
	sk->addr_locked = !skiff_addr_is_any(&a);
	sk->port_locked = port != 0;
	bhash_add(st, sk, (uint16_t)p);
	return 0;
}

int skiff_tcp_listen(struct skiff_stack *st, struct skiff_tcp_sock *sk, int backlog)
{
	if (sk->state != SKIFF_TCP_CLOSED && sk->state != SKIFF_TCP_LISTEN)
		return -EINVAL;
	/* Linux: backlog clamped to somaxconn; negative → somaxconn */
	if (backlog < 0 || (unsigned)backlog > st->cfg.tcp_somaxconn)
		backlog = (int)st->cfg.tcp_somaxconn;
	if (sk->state == SKIFF_TCP_LISTEN) {
		sk->backlog = (uint16_t)backlog;
		return 0;
	}
	if (!sk->bound) {
		int p = pick_ephemeral(st, sk, NULL, 0);
		if (p < 0)
			return -EADDRINUSE;
		bhash_add(st, sk, (uint16_t)p);
	} else if (bind_conflict(st, sk, &sk->laddr, sk->lport, true)) {
		return -EADDRINUSE;
	}
	sk->backlog = (uint16_t)backlog;
	tcp_set_state(st, sk, SKIFF_TCP_LISTEN);
	return 0;
}

/* Route and source for an IPv4 peer; *ifindex: the interface. */
static int connect_route4(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t dst, int *ifindex)
{
	struct skiff_route_res4 rt;
	int rc;
	if (dst == 0)
		return -ECONNREFUSED;
	rc = skiff_route_lookup4(st, dst, sk->bound_ifindex, &rt);
	if (rc)
		return rc;
	if (ip4_is_multicast(dst) || skiff_stack_is_bcast4(st, dst))
		return -ENETUNREACH;
	if (sk->addr_locked && (rc = skiff_route_check_src4(st, &rt, sk->laddr.v4, dst)) != 0)
		return rc; /* bound to 127/8, connecting through a device */
	if (!sk->addr_locked)
		sk->laddr = skiff_addr_v4(rt.src);
	*ifindex = rt.ifindex;
	return 0;
}

/* Route and source for an IPv6 peer (Linux tcp_v6_connect): a link-local peer
 * needs its scope (or the bound device) unless one interface could be meant. */
static int connect_route6(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *dst,
			  int *ifindex)
{
	struct skiff_route_res6 rt;
	int oif = sk->bound_ifindex, rc;
	if (ip6_is_unspecified(dst->v6))
		return -ECONNREFUSED;
	if (ip6_is_multicast(dst->v6))
		return -ENETUNREACH;
	if (ip6_is_link_local(dst->v6) && sk->scope_ifindex >= 0) {
		if (sk->bound_ifindex >= 0 && sk->bound_ifindex != sk->scope_ifindex)
			return -EINVAL;
		oif = sk->scope_ifindex;
	}
	rc = skiff_route6_lookup(st, dst->v6, oif, &rt);
	if (rc)
		return rc;
	if (sk->addr_locked) {
		if (ip6_is_link_local(sk->laddr.v6) && skiff_stack_local6(st, sk->laddr.v6, rt.ifindex, false) < 0)
			return -EINVAL; /* bound to another link's address */
	} else {
		sk->laddr = ip6_addr_make(rt.src);
	}
	if (ip6_is_link_local(dst->v6) && sk->scope_ifindex < 0)
		sk->scope_ifindex = rt.ifindex; /* the one interface it could be: keep it */
	sk->rt6 = rt;
	*ifindex = rt.ifindex;
	return 0;
}

int skiff_tcp_connect(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct skiff_addr *addr, uint16_t port,
		      uint64_t now)
{
	struct skiff_addr a = unmap(addr), saved = sk->laddr;
	int rc, ifindex = -1;

	switch (sk->state) {
	case SKIFF_TCP_CLOSED:
		break;
	case SKIFF_TCP_SYN_SENT:
	case SKIFF_TCP_SYN_RECEIVED:
		return -EALREADY;
	default:
		return -EISCONN; /* Linux inet_stream_connect: a listener too */
	}
	if (sk->err == ECONNREFUSED || sk->err == ETIMEDOUT || sk->err == ECONNRESET)
		sk->err = 0; /* a new attempt after a failed one */
	if ((addr->family != SKIFF_AF_INET && addr->family != SKIFF_AF_INET6) ||
	    (addr->family == SKIFF_AF_INET6 && sk->family != SKIFF_AF_INET6))
		return -EAFNOSUPPORT;
	if (a.family == SKIFF_AF_INET && sk->family == SKIFF_AF_INET6 && sk->v6only)
		return -ENETUNREACH; /* Linux tcp_v6_connect: v4-mapped on a V6ONLY socket */
	if (port == 0)
		return -ECONNREFUSED;
	if (sk->addr_locked && sk->laddr.family != a.family)
		return -EINVAL; /* bound to an address of the other family */
	rc = a.family == SKIFF_AF_INET ? connect_route4(st, sk, a.v4, &ifindex) : connect_route6(st, sk, &a, &ifindex);
	if (rc) {
		sk->laddr = saved;
		return rc;
	}
	if (!sk->bound) {
		int p = pick_ephemeral(st, sk, &a, port);
		if (p < 0) {
			sk->laddr = saved;
			return -EADDRNOTAVAIL;
		}
		bhash_add(st, sk, (uint16_t)p);
	} else if (tcp_lookup_est(st, &sk->laddr, sk->lport, &a, port)) {
		sk->laddr = saved;
		return -EADDRNOTAVAIL;
	}
	sk->raddr = a;
	sk->rport = port;
	sk->rt_ok = false; /* the route cache is per family: looked up at the first send */
	sk->iss = tcp_isn(st, &sk->laddr, sk->lport, &a, port, now);
	sk->snd_una = sk->snd_nxt = sk->snd_max = sk->iss;
	sk->mss = tcp_mss_for(st, sk, ifindex);
	sk->ts_offset = (uint32_t)skiff_rand64(st);
	tcp_ehash_add(st, sk);
	tcp_set_state(st, sk, SKIFF_TCP_SYN_SENT);
	tcp_send_syn(st, sk, now);
	return 0;
}

struct skiff_tcp_sock *tcp_child_new(struct skiff_stack *st, struct skiff_tcp_sock *lsk, bool from_cookie)
{
	int err;
	struct skiff_tcp_sock *c;
	if (from_cookie ? lsk->aq_len >= (unsigned)lsk->backlog + 1u
			: lsk->synq_len + lsk->aq_len >= (unsigned)lsk->backlog + 1u)
		return NULL;
	c = skiff_tcp_open(st, lsk->family, &err);
	if (!c)
		return NULL;
	c->parent = lsk;
	c->rcvbuf = lsk->rcvbuf;
	c->rcvbuf_locked = lsk->rcvbuf_locked;
	c->sndbuf = lsk->sndbuf;
	c->nodelay = lsk->nodelay;
	c->keepalive = lsk->keepalive;
	c->keep_idle_ns = lsk->keep_idle_ns;
	c->keep_intvl_ns = lsk->keep_intvl_ns;
	c->keep_cnt = lsk->keep_cnt;
	c->user_mss = lsk->user_mss;
	c->user_timeout_ns = lsk->user_timeout_ns;
	c->ttl = lsk->ttl;
	c->tos = lsk->tos;
	c->tclass = lsk->tclass;
	c->hop_limit = lsk->hop_limit;
	c->v6only = lsk->v6only;
	c->cc.ops = lsk->cc.ops;
	c->bound_ifindex = lsk->bound_ifindex;
	/* on the listener's port in the bind hash, so a new listen cannot take the port */
	bhash_add(st, c, lsk->lport);
	if (!from_cookie) {
		lsk->synq_len++;
		c->on_synq = true;
	}
	return c;
}

struct skiff_tcp_sock *skiff_tcp_accept(struct skiff_stack *st, struct skiff_tcp_sock *sk, int *err)
{
	struct skiff_tcp_sock *c;
	(void)st;
	if (sk->state != SKIFF_TCP_LISTEN) {
		*err = -EINVAL;
		return NULL;
	}
	c = sk->aq_head;
	if (!c) {
		*err = -EAGAIN;
		return NULL;
	}
	sk->aq_head = c->qnext;
	if (!sk->aq_head)
		sk->aq_tail = NULL;
	sk->aq_len--;
	c->qnext = NULL;
	c->parent = NULL;
	c->accepted = true;
	*err = 0;
	return c;
}

/* ---- send ---- */

/* The send ring, and with it RACK's transmit log, exist once the connection sends. */
static int sbuf_ensure(struct skiff_stack *st, struct skiff_tcp_sock *sk)
{
	if (sk->sbuf)
		return 0;
	if (st->cfg.tcp_rack && skiff_tcp_rack_alloc(&sk->rack, sk->sndbuf))
		return -ENOBUFS;
	sk->sbuf_cap = sk->sndbuf;
	sk->sbuf = malloc(sk->sbuf_cap);
	if (!sk->sbuf) {
		skiff_tcp_rack_free(&sk->rack);
		return -ENOBUFS;
	}
	return 0;
}

uint32_t skiff_tcp_writable(const struct skiff_tcp_sock *sk)
{
	uint32_t cap = sk->sbuf ? sk->sbuf_cap : sk->sndbuf;
	return cap > sk->sbuf_len ? cap - sk->sbuf_len : 0;
}

long skiff_tcp_send(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    uint64_t now)
{
	size_t total = 0, copied = 0;
	uint32_t room;
	int rc;

	if (sk->err)
		return -skiff_tcp_take_error(sk);
	switch (sk->state) {
	case SKIFF_TCP_ESTABLISHED:
	case SKIFF_TCP_CLOSE_WAIT:
		break;
	case SKIFF_TCP_SYN_SENT:
	case SKIFF_TCP_SYN_RECEIVED:
		return -EAGAIN; /* the socket layer waits for the handshake */
	case SKIFF_TCP_CLOSED:
	case SKIFF_TCP_LISTEN:
		return -ENOTCONN;
	default:
		return -EPIPE; /* FIN already queued or sent */
	}
	if (sk->fin_queued)
		return -EPIPE;
	for (int i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total == 0)
		return 0;
	rc = sbuf_ensure(st, sk);
	if (rc)
		return rc;
	room = skiff_tcp_writable(sk);
	if (room == 0)
		return -EAGAIN;
	for (int i = 0; i < iovcnt && copied < room; i++) {
		const uint8_t *src = iov[i].iov_base;
		size_t n = iov[i].iov_len;
		if (n > room - copied)
			n = room - copied;
		while (n) {
			uint32_t tail = (sk->sbuf_head + sk->sbuf_len) % sk->sbuf_cap;
			uint32_t k = sk->sbuf_cap - tail;
			if (k > n)
				k = (uint32_t)n;
			memcpy(sk->sbuf + tail, src, k);
			sk->sbuf_len += k;
			src += k;
			n -= k;
			copied += k;
		}
	}
	if (!(flags & SKIFF_TCP_MSG_MORE))
		tcp_output(st, sk, now);
	return (long)copied;
}

uint32_t tcp_rcv_space_max(const struct skiff_stack *st, const struct skiff_tcp_sock *sk)
{
	return sk->rcvbuf_locked || st->cfg.tcp_rcvbuf_max < sk->rcvbuf ? sk->rcvbuf : st->cfg.tcp_rcvbuf_max;
}

/* Receive-buffer autotuning (Linux's tcp_rcv_space_adjust, "dynamic right
 * sizing"): once per RTT, the bytes the reader took in that RTT; when it is a
 * new high, the buffer becomes room for twice that plus 16 segments, doubled
 * because the window is half the buffer, up to tcp_rcvbuf_max. A reader that
 * keeps up gets a window covering its rate x RTT; a slow one keeps a small one
 * (frames stay pinned only as far as the window invites them). */
static void rcv_space_adjust(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint32_t copied, uint64_t now)
{
	uint64_t rtt = sk->srtt ? sk->srtt : sk->rcv_rtt, want;
	uint32_t max = tcp_rcv_space_max(st, sk);
	sk->drs_copied += copied;
	if (!sk->drs_time || !rtt) {
		sk->drs_time = now;
		return;
	}
	if (now - sk->drs_time < rtt)
		return;
	if (sk->drs_copied > sk->drs_space) {
		sk->drs_space = sk->drs_copied;
		want = 2ull * (2ull * sk->drs_space + 16ull * sk->mss);
		if (want > max)
			want = max;
		if (want > sk->rcvbuf)
			sk->rcvbuf = (uint32_t)want;
	}
	sk->drs_copied = 0;
	sk->drs_time = now;
}

/* ---- receive ---- */

uint32_t skiff_tcp_readable(const struct skiff_tcp_sock *sk) { return sk->rq_bytes - sk->rq_off; }

long skiff_tcp_recv(struct skiff_stack *st, struct skiff_tcp_sock *sk, const struct iovec *iov, int iovcnt, int flags,
		    uint64_t now)
{
	size_t copied = 0, want = 0;
	uint32_t skip = sk->rq_off, win_before;
	struct skiff_pkt *p = sk->rq_head;
	int i = 0;
	size_t ioff = 0;

	if (sk->state == SKIFF_TCP_LISTEN)
		return -ENOTCONN;
	for (int k = 0; k < iovcnt; k++)
		want += iov[k].iov_len;
	if (!p) {
		if (sk->err)
			return -skiff_tcp_take_error(sk);
		if (sk->fin_rcvd || sk->rd_shut || sk->state == SKIFF_TCP_CLOSED)
			return sk->state == SKIFF_TCP_CLOSED && !sk->fin_rcvd && !sk->rd_shut ? -ENOTCONN : 0;
		if (sk->state == SKIFF_TCP_SYN_SENT || sk->state == SKIFF_TCP_SYN_RECEIVED || tcp_synced(sk))
			return want ? -EAGAIN : 0;
		return -ENOTCONN;
	}
	win_before = tcp_rcv_window(sk);
	/* copy across the queued frames (each a chain of pieces) */
	for (; p && copied < want; p = p->next) {
		for (struct skiff_pkt *q = p; q && copied < want; q = q->chain) {
			uint32_t qoff = 0;
			if (skip >= q->len) {
				skip -= q->len;
				continue;
			}
			qoff = skip;
			skip = 0;
			while (qoff < q->len && i < iovcnt) {
				size_t room = iov[i].iov_len - ioff, k = q->len - qoff;
				if (k > room)
					k = room;
				memcpy((uint8_t *)iov[i].iov_base + ioff, skiff_pkt_data(q) + qoff, k);
				qoff += (uint32_t)k;
				ioff += k;
				copied += k;
				if (ioff == iov[i].iov_len) {
					i++;
					ioff = 0;
				}
			}
		}
	}
	if (flags & SKIFF_TCP_MSG_PEEK)
		return (long)copied;
	/* consume: drop fully read frames */
	sk->rq_off += (uint32_t)copied;
	if (!sk->rcvbuf_locked && tcp_synced(sk))
		rcv_space_adjust(st, sk, (uint32_t)copied, now);
	while (sk->rq_head) {
		struct skiff_pkt *h = sk->rq_head;
		uint32_t hl = skiff_pkt_chain_len(h);
		if (sk->rq_off < hl)
			break;
		sk->rq_off -= hl;
		sk->rq_bytes -= hl;
		for (const struct skiff_pkt *q = h; q; q = q->chain) {
			sk->rq_truesize -= q->cap;
			tcp_rx_mem_add(st, -(int64_t)q->cap);
		}
		sk->rq_head = h->next;
		if (!sk->rq_head)
			sk->rq_tail = NULL;
		h->next = NULL;
		skiff_pkt_free(h);
	}
	/* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): announce the window again
	 * once it grew by min(rcvbuf/2, MSS) over what the peer last heard */
	if (tcp_synced(sk) && !sk->fin_rcvd) {
		uint32_t win = tcp_rcv_window(sk), thresh = sk->mss < sk->rcvbuf / 4 ? sk->mss : sk->rcvbuf / 4;
		uint32_t adv_left = sk->rcv_adv - sk->rcv_nxt;
		if (SEQ_GT(sk->rcv_adv, sk->rcv_nxt) ? win >= adv_left + thresh : win >= thresh)
			tcp_send_ack(st, sk, now);
		else if (win_before == 0 && win)
			tcp_send_ack(st, sk, now);
	}
	return (long)copied;
}

/* ---- shutdown / close ---- */

static void queue_fin(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	/* RFC 9293 3.10.4: ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK; the FIN
	 * goes after the queued data */
	sk->fin_queued = true;
	if (sk->state == SKIFF_TCP_ESTABLISHED || sk->state == SKIFF_TCP_SYN_RECEIVED)
		tcp_set_state(st, sk, SKIFF_TCP_FIN_WAIT_1);
	else if (sk->state == SKIFF_TCP_CLOSE_WAIT)
		tcp_set_state(st, sk, SKIFF_TCP_LAST_ACK);
	tcp_output(st, sk, now);
}

int skiff_tcp_shutdown(struct skiff_stack *st, struct skiff_tcp_sock *sk, int how, uint64_t now)
{
	if (how < 0 || how > 2)
		return -EINVAL;
	switch (sk->state) {
	case SKIFF_TCP_CLOSED:
		return -ENOTCONN;
	case SKIFF_TCP_LISTEN:
		if (how != 0) {
			/* Linux: shutting a listener down closes it */
			return -ENOTCONN;
		}
		sk->rd_shut = true;
		return 0;
	case SKIFF_TCP_SYN_SENT:
		if (how != 0) {
			tcp_drop(st, sk, 0);
			return 0;
		}
		break;
	default:
		break;
	}
	if (how == 0 || how == 2)
		sk->rd_shut = true;
	if ((how == 1 || how == 2) && !sk->fin_queued &&
	    (sk->state == SKIFF_TCP_ESTABLISHED || sk->state == SKIFF_TCP_CLOSE_WAIT ||
	     sk->state == SKIFF_TCP_SYN_RECEIVED))
		queue_fin(st, sk, now);
	tcp_mark_ready(st, sk);
	return 0;
}

unsigned skiff_tcp_unfinished(struct skiff_stack *st)
{
	struct skiff_tcp_table *t = tcp_tab(st);
	unsigned n = 0;
	if (!t)
		return 0;
	for (unsigned i = 0; i < t->cap; i++) {
		const struct skiff_tcp_sock *sk = &t->socks[i];
		if (sk->in_use && sk->orphan && sk->state != SKIFF_TCP_CLOSED && sk->state != SKIFF_TCP_LISTEN &&
		    sk->state != SKIFF_TCP_FIN_WAIT_2 && sk->state != SKIFF_TCP_TIME_WAIT)
			n++;
	}
	return n;
}

void skiff_tcp_close(struct skiff_stack *st, struct skiff_tcp_sock *sk, uint64_t now)
{
	bool unread = sk->rq_bytes > sk->rq_off || skiff_tcp_ooo_bytes(&sk->ooo);

	sk->user = NULL;
	sk->orphan = true;
	switch (sk->state) {
	case SKIFF_TCP_CLOSED:
	case SKIFF_TCP_LISTEN:
	case SKIFF_TCP_SYN_SENT:
		tcp_free(st, sk);
		return;
	case SKIFF_TCP_TIME_WAIT:
		return; /* finishes with its timer */
	default:
		break;
	}
	if (unread || (sk->linger_on && sk->linger_s == 0)) {
		/* RFC 9293 3.10.5 ABORT / RFC 2525 2.17: data the user never read is lost,
		 * so tell the peer with a reset (as Linux); SO_LINGER 0 aborts likewise */
		tcp_send_ctl(st, sk, sk->snd_nxt, TCP_RST | TCP_ACK, now);
		st->ctr.tcp_resets_out++;
		tcp_free(st, sk);
		return;
	}
	if (!sk->fin_queued &&
	    (sk->state == SKIFF_TCP_ESTABLISHED || sk->state == SKIFF_TCP_CLOSE_WAIT ||
	     sk->state == SKIFF_TCP_SYN_RECEIVED))
		queue_fin(st, sk, now);
	if (sk->state == SKIFF_TCP_FIN_WAIT_2)
		tcp_timer_set(st, sk, TCP_T_2MSL, now + TCP_FIN_TIMEOUT_NS);
}

/* ---- status ---- */

int skiff_tcp_take_error(struct skiff_tcp_sock *sk)
{
	int e = sk->err;
	sk->err = 0;
	return e;
}

/* poll(2) bits as Linux's tcp_poll computes them. */
unsigned skiff_tcp_events(const struct skiff_tcp_sock *sk)
{
	unsigned ev = 0;
	if (sk->state == SKIFF_TCP_LISTEN)
		return sk->aq_head ? SKIFF_TCP_EV_IN : 0;
	if (sk->err)
		ev |= SKIFF_TCP_EV_ERR;
	if ((sk->rd_shut && sk->fin_queued) || sk->state == SKIFF_TCP_CLOSED)
		ev |= SKIFF_TCP_EV_HUP;
	if (sk->fin_rcvd || sk->rd_shut)
		ev |= SKIFF_TCP_EV_IN | SKIFF_TCP_EV_RDHUP;
	if (sk->state == SKIFF_TCP_SYN_SENT || sk->state == SKIFF_TCP_SYN_RECEIVED)
		return ev;
	if (sk->rq_bytes > sk->rq_off)
		ev |= SKIFF_TCP_EV_IN;
	if (sk->state == SKIFF_TCP_CLOSED) {
		/* a connection that never got there: POLLOUT with the error, as Linux */
		return ev | SKIFF_TCP_EV_OUT;
	}
	if (!sk->fin_queued) {
		uint32_t cap = sk->sbuf ? sk->sbuf_cap : sk->sndbuf;
		/* Linux sk_stream_is_writeable: a third of the buffer free */
		if (skiff_tcp_writable(sk) >= cap / 3)
			ev |= SKIFF_TCP_EV_OUT;
	} else {
		ev |= SKIFF_TCP_EV_OUT; /* writes fail with EPIPE: not blocked */
	}
	return ev;
}

int skiff_tcp_set_rcvbuf(struct skiff_stack *st, struct skiff_tcp_sock *sk, int val)
{
	sk->rcvbuf = skiff_sockbuf_size(val, st->cfg.rcvbuf_max, SKIFF_SOCK_MIN_RCVBUF);
	sk->rcvbuf_locked = true; /* as Linux's SOCK_RCVBUF_LOCK: the user decides */
	return 0;
}


int skiff_tcp_set_sndbuf(struct skiff_stack *st, struct skiff_tcp_sock *sk, int val)
{
	if (sk->sbuf)
		return 0; /* the ring is sized once; Linux's later changes only move a limit */
	sk->sndbuf = skiff_sockbuf_size(val, st->cfg.sndbuf_max, SKIFF_SOCK_MIN_SNDBUF);
	return 0;
}

int skiff_tcp_set_nodelay(struct skiff_stack *st, struct skiff_tcp_sock *sk, bool on, uint64_t now)
{
	sk->nodelay = on;
	if (on && tcp_synced(sk))
		tcp_output(st, sk, now); /* Linux pushes what Nagle held */
	return 0;
}

int skiff_tcp_set_cork(struct skiff_stack *st, struct skiff_tcp_sock *sk, bool on, uint64_t now)
{
	sk->cork = on;
	if (!on && tcp_synced(sk))
		tcp_output(st, sk, now);
	return 0;
}
