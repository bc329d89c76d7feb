/* sock_tcp.c — the POSIX calls for skiff TCP fds (SOCK_STREAM over the dataplane's
 * TCP, dataplane/tcp.h).
 *
 * Flow of every call: the fd-table socket (sock_udp.c / api.c dispatch SKIFF_FD_TCP
 * here) → Linux's argument checks in Linux's order (inet_bind, inet_listen,
 * inet_stream_connect + tcp_v4_connect, inet_csk_accept, tcp_sendmsg_locked,
 * tcp_recvmsg_locked, inet_shutdown, inet_getname) → the dataplane call under the
 * instance lock → what it queued is pushed to the device at once
 * (rt_progress_locked).
 * Blocking: rt_wait with a predicate over the TCB and the TCB as the wake-up
 * filter (rt_unlock collects skiff_tcp_ready_pop); the lock is never held across
 * the wait. Deadlines: SO_RCVTIMEO for recv/accept, SO_SNDTIMEO for send/connect;
 * O_NONBLOCK / MSG_DONTWAIT or a negative timeout mean "never wait".
 * Linux details kept: a blocking connect that times out returns EINPROGRESS and
 * keeps connecting; a second connect is EALREADY while connecting, 0 once it
 * completed (then EISCONN), the pending error once it failed; send on a socket
 * that is not connected is EPIPE (sk_stream_wait_connect), with SIGPIPE unless
 * MSG_NOSIGNAL; after a reset the first call reports ECONNRESET, then send says
 * EPIPE and recv 0; recv on a never-connected socket is ENOTCONN.
 */
#include "sock_tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "defer.h"
#include "fdtable.h"
#include "sockaddr.h"
#include "dataplane/wire_ip6.h"
#include "runtime.h"

#define TCP_IOV_MAX 64 /* sub-vectors built per dataplane call (the rest goes in the next call) */

struct tref {
	struct skiff_sock *s;
	struct skiff_rt *rt;
	int inst;
	struct skiff_stack *st;
	struct tcp_usock *u;
	uint32_t seen; /* predicate context: bytes already looked at */
};

static void tref_of(struct skiff_sock *s, struct tref *r)
{
	r->s = s;
	r->rt = s->rt;
	r->inst = s->instance;
	r->st = rt_stack(s->rt, s->instance);
	r->u = s->dp;
	r->seen = 0;
}

static struct skiff_tcp_sock *tcb(const struct tcp_usock *u)
{
	struct skiff_tcp_sock *sk = u ? u->sk : NULL;
	return sk && sk->in_use && sk->gen == u->gen ? sk : NULL;
}

struct skiff_tcp_sock *tcp_sock_tcb(struct skiff_sock *s) { return s->kind == SKIFF_FD_TCP ? tcb(s->dp) : NULL; }

static int ustate(const struct tcp_usock *u)
{
	const struct skiff_tcp_sock *sk = tcb(u);
	return sk ? sk->state : SKIFF_TCP_CLOSED;
}

static bool syn_state(int st) { return st == SKIFF_TCP_SYN_SENT || st == SKIFF_TCP_SYN_RECEIVED; }

/* tcp_done ran (reset, timeout, failed connect, TIME-WAIT over): sk_shutdown = SHUTDOWN_MASK. */
static bool done(const struct tcp_usock *u) { return u->started && ustate(u) == SKIFF_TCP_CLOSED; }

static bool rcv_shut(const struct tcp_usock *u)
{
	const struct skiff_tcp_sock *sk = tcb(u);
	return u->shut_rd || done(u) || (sk && (sk->fin_rcvd || sk->rd_shut));
}

static bool snd_shut(const struct tcp_usock *u)
{
	const struct skiff_tcp_sock *sk = tcb(u);
	return u->shut_wr || done(u) || (sk && sk->fin_queued);
}

static bool is_nonblock(const struct skiff_sock *s, int flags)
{
	return (flags & MSG_DONTWAIT) || (atomic_load(&s->status_flags) & O_NONBLOCK);
}

static uint64_t deadline_of(struct tref *r, bool nonblock, _Atomic uint64_t *timeo)
{
	uint64_t t;
	if (nonblock)
		return 0;
	t = atomic_load(timeo);
	return t == SKIFF_TIMEO_NOWAIT ? 0 : rt_deadline(r->rt, t);
}

/* Wait (lock not held) until pred or the deadline: 0, -EAGAIN, -EINTR. */
static int twait(struct tref *r, bool (*pred)(void *ctx, unsigned work), uint64_t deadline)
{
	const void *filter;
	rt_lock(r->rt, r->inst);
	filter = tcb(r->u);
	rt_unlock(r->rt, r->inst);
	return rt_wait(r->rt, r->inst, filter, pred, r, deadline);
}

static void push(struct tref *r) { rt_progress_locked(r->rt, r->inst, rt_now(r->rt)); }

/* ---- open / release ---- */

/* SO_LINGER's wait is over: our FIN is acknowledged (the TCB left FIN-WAIT-1,
 * CLOSING and LAST-ACK: Linux's sk_stream_wait_close), or the connection is gone. */
static bool pred_closed(void *ctx, unsigned work)
{
	struct tref *r = ctx;
	const struct skiff_tcp_sock *sk = tcb(r->u);
	(void)work;
	return !sk || (sk->state != SKIFF_TCP_FIN_WAIT_1 && sk->state != SKIFF_TCP_CLOSING &&
		       sk->state != SKIFF_TCP_LAST_ACK);
}

static void tcp_release(struct skiff_sock *s)
{
	struct tcp_usock *u = s->dp;
	if (u) {
		if (u->sk) {
			struct skiff_tcp_sock *sk;
			uint64_t linger_ns = 0;
			rt_lock(s->rt, s->instance);
			sk = tcb(u);
			if (sk && sk->user == s) {
				/* SO_LINGER with a time: close blocks until the data and FIN
				 * are acknowledged or the time is up, then the connection
				 * finishes on its own (Linux; O_NONBLOCK does not change it) */
				if (sk->linger_on && sk->linger_s && sk->state >= SKIFF_TCP_ESTABLISHED &&
				    sk->state != SKIFF_TCP_TIME_WAIT)
					linger_ns = (uint64_t)sk->linger_s * 1000000000ull;
				skiff_tcp_close(rt_stack(s->rt, s->instance), sk, rt_now(s->rt));
				rt_progress_locked(s->rt, s->instance, rt_now(s->rt)); /* FIN or RST out now */
			}
			rt_unlock(s->rt, s->instance);
			if (linger_ns) {
				struct tref r;
				tref_of(s, &r);
				(void)rt_wait(r.rt, r.inst, NULL, pred_closed, &r, rt_deadline(r.rt, linger_ns));
			}
		}
		free(u);
	}
	free(s);
}

static int tfam(const struct skiff_sock *s) { return s->domain == AF_INET6 ? SKIFF_AF_INET6 : SKIFF_AF_INET; }

static struct skiff_sock *tsock_new(struct skiff_rt *rt, int instance, int domain)
{
	struct skiff_sock *s = fdt_sock_new(SKIFF_FD_TCP, domain, SOCK_STREAM, IPPROTO_TCP, tcp_release);
	struct tcp_usock *u = calloc(1, sizeof(*u));
	if (!s || !u) {
		free(s);
		free(u);
		return NULL;
	}
	s->rt = rt;
	s->instance = instance;
	s->dp = u;
	return s;
}

static void attach(struct skiff_sock *s, struct skiff_tcp_sock *sk)
{
	struct tcp_usock *u = s->dp;
	sk->user = s;
	u->sk = sk;
	u->gen = sk->gen;
}

int tcp_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance)
{
	struct tcp_usock *u = calloc(1, sizeof(*u));
	struct skiff_tcp_sock *sk;
	int err = 0;

	if (!u)
		return -ENOMEM;
	rt_lock(rt, instance);
	sk = skiff_tcp_open(rt_stack(rt, instance), tfam(s), &err);
	if (sk) {
		s->dp = u;
		attach(s, sk);
	}
	rt_unlock(rt, instance);
	if (!sk) {
		free(u);
		return err ? err : -ENOBUFS;
	}
	s->rt = rt;
	s->instance = instance;
	s->release = tcp_release;
	s->domain = s->domain == AF_INET6 ? AF_INET6 : AF_INET;
	s->type = SOCK_STREAM;
	s->protocol = IPPROTO_TCP;
	atomic_store_explicit(&s->kind, SKIFF_FD_TCP, memory_order_release);
	return 0;
}

/* A TCB for a socket whose old one the dataplane let go (lock held). */
static int ensure_tcb(struct tref *r)
{
	struct skiff_tcp_sock *sk;
	int err = 0;
	if (tcb(r->u))
		return 0;
	sk = skiff_tcp_open(r->st, tfam(r->s), &err);
	if (!sk)
		return err ? err : -ENOBUFS;
	attach(r->s, sk);
	r->u->started = false;
	return 0;
}

/* Linux tcp_disconnect (connect(AF_UNSPEC), shutdown of a listener or of a
 * connection still opening): abort the connection (RST where one is owed), keep
 * the options and an explicitly bound address/port, socket back to unconnected.
 * Lock held. */
static int disconnect(struct tref *r)
{
	struct skiff_tcp_sock *old = tcb(r->u), *sk, keep;
	int err = 0;

	memset(&keep, 0, sizeof(keep));

	if (old) {
		keep = *old;
		old->linger_on = true;
		old->linger_s = 0; /* abortive */
		old->user = NULL;
		skiff_tcp_close(r->st, old, rt_now(r->rt));
	}
	r->u->sk = NULL;
	r->u->started = false;
	r->u->sstate = TSS_UNCONNECTED;
	r->u->shut_rd = r->u->shut_wr = false;
	sk = skiff_tcp_open(r->st, tfam(r->s), &err);
	if (!sk)
		return err ? err : -ENOBUFS;
	attach(r->s, sk);
	if (old) {
		sk->reuseaddr = keep.reuseaddr;
		sk->reuseport = keep.reuseport;
		sk->nodelay = keep.nodelay;
		sk->cork = keep.cork;
		sk->keepalive = keep.keepalive;
		sk->quickack_mode = keep.quickack_mode;
		sk->linger_on = keep.linger_on;
		sk->linger_s = keep.linger_s;
		sk->ttl = keep.ttl;
		sk->tos = keep.tos;
		sk->user_mss = keep.user_mss;
		sk->user_timeout_ns = keep.user_timeout_ns;
		sk->keep_idle_ns = keep.keep_idle_ns;
		sk->keep_intvl_ns = keep.keep_intvl_ns;
		sk->keep_cnt = keep.keep_cnt;
		sk->rcvbuf = keep.rcvbuf;
		sk->sndbuf = keep.sndbuf;
		sk->cc.ops = keep.cc.ops;
		sk->bound_ifindex = keep.bound_ifindex;
		sk->v6only = keep.v6only;
		sk->tclass = keep.tclass;
		sk->hop_limit = keep.hop_limit;
		if (keep.port_locked) {
			struct skiff_addr a = keep.addr_locked ? keep.laddr : skiff_addr_v4(0);
			(void)skiff_tcp_bind(r->st, sk, &a, keep.lport);
		}
	}
	push(r);
	return 0;
}

/* ---- poll ---- */

/* Linux tcp_poll (without urgent data). Lock held. */
static short revents_locked(const struct tcp_usock *u)
{
	const struct skiff_tcp_sock *sk = tcb(u);
	int state = sk ? sk->state : SKIFF_TCP_CLOSED;
	short mask = 0;

	if (state == SKIFF_TCP_LISTEN)
		return sk->aq_head ? (POLLIN | POLLRDNORM) : 0;
	if ((rcv_shut(u) && snd_shut(u)) || state == SKIFF_TCP_CLOSED)
		mask |= POLLHUP;
	if (rcv_shut(u))
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	if (!syn_state(state)) {
		if (sk && skiff_tcp_readable(sk) > 0)
			mask |= POLLIN | POLLRDNORM;
		if (!snd_shut(u)) {
			uint32_t cap = !sk ? 1 : sk->sbuf ? sk->sbuf_cap : sk->sndbuf;
			if (!sk || skiff_tcp_writable(sk) >= cap / 3)
				mask |= POLLOUT | POLLWRNORM;
		} else {
			mask |= POLLOUT | POLLWRNORM;
		}
	}
	if (sk && sk->err)
		mask |= POLLERR;
	return mask;
}

short tcp_sock_revents_locked(struct skiff_sock *s) { return revents_locked(s->dp); }

uint32_t tcp_sock_wake_seq_locked(struct skiff_sock *s)
{
	const struct skiff_tcp_sock *sk = tcb(s->dp);
	return sk ? sk->wake_seq : 0;
}

short tcp_sock_revents(struct skiff_sock *s)
{
	short m;
	rt_lock(s->rt, s->instance);
	m = revents_locked(s->dp);
	rt_unlock(s->rt, s->instance);
	return m;
}

int tcp_sock_inq(struct skiff_sock *s)
{
	struct skiff_tcp_sock *sk;
	int rc;
	rt_lock(s->rt, s->instance);
	rt_progress_locked(s->rt, s->instance, rt_now(s->rt));
	sk = tcb(s->dp);
	if (sk && sk->state == SKIFF_TCP_LISTEN)
		rc = -EINVAL;
	else
		rc = sk ? (int)(skiff_tcp_readable(sk) > INT_MAX ? INT_MAX : skiff_tcp_readable(sk)) : 0;
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* ---- bind / listen ---- */

int tcp_sock_bind(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	struct skiff_addr a;
	struct tref r;
	bool port_ok;
	uint16_t port = 0;
	uint32_t scope = 0;
	int rc, sifx = -1;

	tref_of(s, &r);
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		return rc;
	if (s->domain == AF_INET && len >= sizeof(*sin) && sin->sin_family == AF_UNSPEC &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY))
		ss.ss_family = AF_INET; /* inet_bind: AF_UNSPEC with INADDR_ANY binds as AF_INET */
	rc = sock_addr_parse(s->domain, &ss, len, &a, &port, &scope);
	if (rc)
		return rc;
	if (scope)
		sifx = sock_ifindex_from_kernel(r.st, scope);
	port_ok = sock_may_bind_port(port); /* reads /proc: not under the lock */
	rt_lock(r.rt, r.inst);
	if (a.family == SKIFF_AF_INET && a.v4 != 0 && skiff_stack_local4(r.st, a.v4) < 0)
		rc = -EADDRNOTAVAIL;
	else if (a.family == SKIFF_AF_INET6 && ip6_is_link_local(a.v6) && scope && sifx < 0)
		rc = -ENODEV; /* inet6_bind: the scope names no interface of ours */
	else if (!port_ok)
		rc = -EACCES;
	else if (!tcb(r.u) && r.u->started)
		rc = -EINVAL; /* still "active" for Linux until disconnected */
	else if ((rc = ensure_tcb(&r)) == 0) {
		if (sifx >= 0 && ip6_is_link_local(a.v6))
			tcb(r.u)->scope_ifindex = sifx;
		rc = skiff_tcp_bind(r.st, tcb(r.u), &a, port);
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

int tcp_sock_listen(struct skiff_sock *s, int backlog)
{
	struct tref r;
	int rc, state;

	tref_of(s, &r);
	rt_lock(r.rt, r.inst);
	state = ustate(r.u);
	if (r.u->sstate != TSS_UNCONNECTED || (state != SKIFF_TCP_CLOSED && state != SKIFF_TCP_LISTEN))
		rc = -EINVAL;
	else if ((rc = ensure_tcb(&r)) == 0)
		rc = skiff_tcp_listen(r.st, tcb(r.u), backlog);
	rt_unlock(r.rt, r.inst);
	return rc;
}

/* ---- connect ---- */

static bool pred_not_syn(void *ctx, unsigned work)
{
	struct tref *r = ctx;
	(void)work;
	return !syn_state(ustate(r->u));
}

int tcp_sock_connect(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	struct skiff_addr a;
	struct tref r;
	uint16_t port = 0;
	uint32_t scope = 0;
	int rc, w, sifx = -1;
	uint64_t deadline;

	tref_of(s, &r);
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		return rc;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	if (s->domain == AF_INET6 && ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6) &&
	    ((struct sockaddr_in6 *)&ss)->sin6_scope_id)
		sifx = sock_ifindex_from_kernel(r.st, ((struct sockaddr_in6 *)&ss)->sin6_scope_id);
	rt_lock(r.rt, r.inst);
	if (ss.ss_family == AF_UNSPEC) {
		rc = disconnect(&r);
		goto out;
	}
	switch (r.u->sstate) {
	case TSS_CONNECTED:
		rc = -EISCONN;
		goto out;
	case TSS_CONNECTING:
		rc = -EALREADY;
		break;
	default:
		if (ustate(r.u) != SKIFF_TCP_CLOSED || (!tcb(r.u) && r.u->started)) {
			rc = -EISCONN;
			goto out;
		}
		/* tcp_v4_connect / tcp_v6_connect */
		rc = sock_addr_parse(s->domain, &ss, len, &a, &port, &scope);
		if (rc)
			goto out;
		if (scope && sifx < 0 && a.family == SKIFF_AF_INET6 && ip6_is_link_local(a.v6)) {
			rc = -EINVAL; /* the scope names no interface of this stack */
			goto out;
		}
		rc = ensure_tcb(&r);
		if (rc)
			goto out;
		tcb(r.u)->scope_ifindex = scope ? sifx : tcb(r.u)->scope_ifindex;
		rc = skiff_tcp_connect(r.st, tcb(r.u), &a, port, rt_now(r.rt));
		if (rc)
			goto out;
		r.u->started = true;
		r.u->sstate = TSS_CONNECTING;
		rc = -EINPROGRESS;
		push(&r);
		break;
	}
	if (syn_state(ustate(r.u))) {
		deadline = deadline_of(&r, is_nonblock(s, 0), &s->sndtimeo_ns);
		if (deadline == 0)
			goto out;
		rt_unlock(r.rt, r.inst);
		w = twait(&r, pred_not_syn, deadline);
		rt_lock(r.rt, r.inst);
		if (w == -EINTR) {
			rc = -EINTR;
			goto out;
		}
		if (syn_state(ustate(r.u)))
			goto out; /* SO_SNDTIMEO expired: EINPROGRESS (or EALREADY), still connecting */
	}
	if (ustate(r.u) == SKIFF_TCP_CLOSED) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		int e = sk ? skiff_tcp_take_error(sk) : 0;
		rc = e ? -e : -ECONNABORTED;
		r.u->sstate = TSS_UNCONNECTED;
		r.u->started = false; /* disconnected: a new connect may follow */
		r.u->shut_rd = r.u->shut_wr = false;
		goto out;
	}
	r.u->sstate = TSS_CONNECTED;
	rc = 0;
out:
	rt_unlock(r.rt, r.inst);
	return rc;
}

/* ---- accept ---- */

static bool pred_acceptable(void *ctx, unsigned work)
{
	struct tref *r = ctx;
	const struct skiff_tcp_sock *sk = tcb(r->u);
	(void)work;
	return !sk || sk->state != SKIFF_TCP_LISTEN || sk->aq_head;
}

int tcp_sock_accept(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct tref r;
	struct skiff_sock *ns;
	struct skiff_tcp_sock *c = NULL;
	struct sockaddr_storage peer;
	socklen_t peerlen = 0;
	uint64_t deadline = 0;
	int kfd, rc = 0, saved;

	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	tref_of(s, &r);
	/* the fd first, as Linux (get_unused_fd_flags before the accept) */
	kfd = socket(s->domain, SOCK_STREAM | flags, 0);
	if (kfd < 0)
		return -errno;
	ns = tsock_new(r.rt, r.inst, s->domain);
	if (!ns) {
		close(kfd);
		return -ENOMEM;
	}
	rt_lock(r.rt, r.inst);
	for (int attempt = 0;; attempt++) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		int err = 0, w;
		if (!sk || sk->state != SKIFF_TCP_LISTEN) {
			rc = -EINVAL;
			break;
		}
		c = skiff_tcp_accept(r.st, sk, &err);
		if (c)
			break;
		if (attempt == 0)
			deadline = deadline_of(&r, is_nonblock(s, 0), &s->rcvtimeo_ns);
		if (deadline == 0) {
			rc = -EAGAIN;
			break;
		}
		rt_unlock(r.rt, r.inst);
		w = twait(&r, pred_acceptable, deadline);
		rt_lock(r.rt, r.inst);
		if (w < 0 && !pred_acceptable(&r, 0)) {
			rc = w;
			break;
		}
	}
	if (c) {
		struct tcp_usock *nu = ns->dp;
		attach(ns, c);
		nu->started = true;
		nu->sstate = TSS_CONNECTED;
		peerlen = sock_addr_make(s->domain, &c->raddr, c->rport,
					 c->raddr.family == SKIFF_AF_INET6 && ip6_is_link_local(c->raddr.v6)
						 ? sock_ifindex_to_kernel(r.st, c->scope_ifindex)
						 : 0,
					 &peer);
	}
	rt_unlock(r.rt, r.inst);
	if (rc) {
		fdt_sock_put(ns);
		close(kfd);
		return rc;
	}
	if (flags & SOCK_NONBLOCK)
		atomic_store(&ns->status_flags, O_NONBLOCK);
	rc = fdt_install(kfd, ns, (flags & SOCK_CLOEXEC) ? FD_CLOEXEC : 0);
	fdt_sock_put(ns); /* on failure this closes the connection */
	if (rc < 0) {
		close(kfd);
		return rc;
	}
	if (addr) {
		rc = sock_addr_out(&peer, (int)peerlen, addr, len);
		if (rc < 0) {
			struct skiff_fd *e = fdt_remove(kfd);
			saved = rc;
			close(kfd);
			fdt_put(e);
			return saved;
		}
	}
	return kfd;
}

/* ---- send ---- */

/* iov[] from byte offset off, at most TCP_IOV_MAX pieces. */
static int iov_from(const struct iovec *iov, int iovcnt, size_t off, struct iovec *out)
{
	int n = 0;
	for (int i = 0; i < iovcnt && n < TCP_IOV_MAX; i++) {
		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (char *)iov[i].iov_base + off;
		out[n].iov_len = iov[i].iov_len - off;
		off = 0;
		n++;
	}
	return n;
}

static bool pred_writable(void *ctx, unsigned work)
{
	struct tref *r = ctx;
	const struct skiff_tcp_sock *sk = tcb(r->u);
	uint32_t cap, need;
	(void)work;
	if (!sk || sk->err || snd_shut(r->u) || (sk->state != SKIFF_TCP_ESTABLISHED && sk->state != SKIFF_TCP_CLOSE_WAIT))
		return true;
	cap = sk->sbuf ? sk->sbuf_cap : sk->sndbuf;
	need = cap / 3 < r->seen ? cap / 3 : r->seen; /* Linux wakes writers at a third free */
	return skiff_tcp_writable(sk) >= (need ? need : 1);
}

long tcp_sock_send(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags)
{
	struct tref r;
	size_t total = 0, copied = 0;
	bool nonblock = is_nonblock(s, flags), have_deadline = false;
	uint64_t deadline = 0;
	long rc = 0;

	tref_of(s, &r);
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len)
			return -EFAULT;
		total = iov[i].iov_len > SIZE_MAX - total ? SIZE_MAX : total + iov[i].iov_len;
	}
	if (flags & MSG_OOB)
		return -EOPNOTSUPP; /* urgent data: not supported by the dataplane */
	rt_lock(r.rt, r.inst);
	/* sk_stream_wait_connect */
	for (;;) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		int state = ustate(r.u), w;
		if (state == SKIFF_TCP_ESTABLISHED || state == SKIFF_TCP_CLOSE_WAIT)
			break;
		if (sk && sk->err) {
			rc = -skiff_tcp_take_error(sk);
			goto error;
		}
		if (!syn_state(state)) {
			rc = -EPIPE;
			goto error;
		}
		if (!have_deadline) {
			deadline = deadline_of(&r, nonblock, &s->sndtimeo_ns);
			have_deadline = true;
		}
		if (deadline == 0) {
			rc = -EAGAIN;
			goto error;
		}
		rt_unlock(r.rt, r.inst);
		w = twait(&r, pred_not_syn, deadline);
		rt_lock(r.rt, r.inst);
		if (w < 0 && syn_state(ustate(r.u))) {
			rc = w;
			goto error;
		}
	}
	for (;;) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		struct iovec sub[TCP_IOV_MAX];
		int n, w;
		long k;
		if (!sk || sk->err || snd_shut(r.u) ||
		    (sk->state != SKIFF_TCP_ESTABLISHED && sk->state != SKIFF_TCP_CLOSE_WAIT)) {
			rc = -EPIPE;
			goto error;
		}
		if (copied >= total)
			break;
		n = iov_from(iov, iovcnt, copied, sub);
		k = skiff_tcp_send(r.st, sk, sub, n, flags & MSG_MORE ? SKIFF_TCP_MSG_MORE : 0, rt_now(r.rt));
		if (k > 0) {
			copied += (size_t)k;
			push(&r);
			continue;
		}
		if (k != -EAGAIN) {
			rc = k;
			goto error;
		}
		/* sk_stream_wait_memory */
		if (!have_deadline) {
			deadline = deadline_of(&r, nonblock, &s->sndtimeo_ns);
			have_deadline = true;
		}
		if (deadline == 0) {
			rc = -EAGAIN;
			goto error;
		}
		r.seen = total - copied > UINT32_MAX ? UINT32_MAX : (uint32_t)(total - copied);
		rt_unlock(r.rt, r.inst);
		w = twait(&r, pred_writable, deadline);
		rt_lock(r.rt, r.inst);
		if (w < 0 && !pred_writable(&r, 0)) {
			rc = w;
			goto error;
		}
	}
	rt_unlock(r.rt, r.inst);
	return (long)copied;
error:
	/* do_error: what was queued counts; else sk_stream_error */
	if (copied) {
		rt_unlock(r.rt, r.inst);
		return (long)copied;
	}
	if (rc == -EPIPE) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		int e = sk ? skiff_tcp_take_error(sk) : 0;
		if (e)
			rc = -e;
	}
	rt_unlock(r.rt, r.inst);
	if (rc == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return rc;
}

/* ---- receive ---- */

static bool pred_readable(void *ctx, unsigned work)
{
	struct tref *r = ctx;
	const struct skiff_tcp_sock *sk = tcb(r->u);
	(void)work;
	return !sk || skiff_tcp_readable(sk) > r->seen || sk->err || rcv_shut(r->u) || sk->state == SKIFF_TCP_CLOSED ||
	       sk->state == SKIFF_TCP_LISTEN;
}

long tcp_sock_recv(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, int *mflags)
{
	static _Thread_local uint8_t sink[4096];
	struct tref r;
	size_t want = 0, copied = 0, target;
	bool nonblock = is_nonblock(s, flags), peek = flags & MSG_PEEK, have_deadline = false;
	bool discard = (flags & MSG_TRUNC) && !peek;
	uint64_t deadline = 0;
	long rc = 0;

	*mflags = 0;
	tref_of(s, &r);
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no error queue */
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len && !discard)
			return -EFAULT;
		want = iov[i].iov_len > SIZE_MAX - want ? SIZE_MAX : want + iov[i].iov_len;
	}
	if (want > INT_MAX)
		want = INT_MAX;
	target = (flags & MSG_WAITALL) ? want : 1;
	rt_lock(r.rt, r.inst);
	if (ustate(r.u) == SKIFF_TCP_LISTEN) {
		rc = -ENOTCONN;
		goto out;
	}
	if (flags & MSG_OOB) {
		rc = -EINVAL; /* tcp_recv_urg: no urgent data */
		goto out;
	}
	if (want == 0)
		goto out;
	for (;;) {
		struct skiff_tcp_sock *sk = tcb(r.u);
		uint32_t avail = sk ? skiff_tcp_readable(sk) : 0;
		int state = ustate(r.u), w;

		if (avail && peek) {
			struct iovec sub[TCP_IOV_MAX];
			int n = iov_from(iov, iovcnt, 0, sub);
			long k = skiff_tcp_recv(r.st, sk, sub, n, SKIFF_TCP_MSG_PEEK, rt_now(r.rt));
			copied = k > 0 ? (size_t)k : 0;
		} else if (avail) {
			long k;
			if (discard) {
				struct iovec one = { sink, want - copied < sizeof(sink) ? want - copied : sizeof(sink) };
				k = skiff_tcp_recv(r.st, sk, &one, 1, 0, rt_now(r.rt));
			} else {
				struct iovec sub[TCP_IOV_MAX];
				int n = iov_from(iov, iovcnt, copied, sub);
				k = skiff_tcp_recv(r.st, sk, sub, n, 0, rt_now(r.rt));
			}
			if (k < 0) {
				rc = k;
				break;
			}
			copied += (size_t)k;
			push(&r); /* a window update goes out now */
			if (copied < want && skiff_tcp_readable(sk))
				continue;
		}
		if (copied >= target)
			break;
		/* nothing more to read now */
		if (copied) {
			if (!have_deadline) {
				deadline = deadline_of(&r, nonblock, &s->rcvtimeo_ns);
				have_deadline = true;
			}
			if (deadline == 0 || (sk && sk->err) || state == SKIFF_TCP_CLOSED || rcv_shut(r.u))
				break;
		} else {
			if (sk && sk->fin_rcvd)
				break; /* SOCK_DONE */
			if (sk && sk->err) {
				rc = -skiff_tcp_take_error(sk);
				break;
			}
			if (rcv_shut(r.u))
				break;
			if (state == SKIFF_TCP_CLOSED) {
				rc = -ENOTCONN;
				break;
			}
			if (!have_deadline) {
				deadline = deadline_of(&r, nonblock, &s->rcvtimeo_ns);
				have_deadline = true;
			}
			if (deadline == 0) {
				rc = -EAGAIN;
				break;
			}
		}
		r.seen = peek ? (uint32_t)copied : 0;
		rt_unlock(r.rt, r.inst);
		w = twait(&r, pred_readable, deadline);
		rt_lock(r.rt, r.inst);
		if (w < 0 && !pred_readable(&r, 0)) {
			if (!copied)
				rc = w;
			break;
		}
	}
out:
	rt_unlock(r.rt, r.inst);
	if (rc < 0 && !copied)
		return rc;
	return (long)copied;
}

/* ---- shutdown / names ---- */

int tcp_sock_shutdown(struct skiff_sock *s, int how)
{
	struct tref r;
	int state, rc = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	tref_of(s, &r);
	rt_lock(r.rt, r.inst);
	state = ustate(r.u);
	if (r.u->sstate == TSS_CONNECTING)
		r.u->sstate = (syn_state(state) || state == SKIFF_TCP_CLOSED) ? TSS_UNCONNECTED : TSS_CONNECTED;
	switch (state) {
	case SKIFF_TCP_CLOSED:
		rc = -ENOTCONN; /* the bits are set all the same (Linux wakes pollers with POLLHUP) */
		r.u->shut_rd |= how != SHUT_WR;
		r.u->shut_wr |= how != SHUT_RD;
		break;
	case SKIFF_TCP_LISTEN:
		if (how == SHUT_WR)
			break;
		rc = disconnect(&r);
		break;
	case SKIFF_TCP_SYN_SENT:
		rc = disconnect(&r);
		break;
	default:
		r.u->shut_rd |= how != SHUT_WR;
		r.u->shut_wr |= how != SHUT_RD;
		rc = skiff_tcp_shutdown(r.st, tcb(r.u), how, rt_now(r.rt));
		push(&r);
		break;
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

/* The interface a link-local TCB's scope_id names. */
static int scope_of(const struct skiff_tcp_sock *sk) { return sk->scope_ifindex >= 0 ? sk->scope_ifindex : sk->bound_ifindex; }

int tcp_sock_getsockname(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage sa;
	socklen_t sl;
	struct skiff_tcp_sock *sk;
	rt_lock(s->rt, s->instance);
	sk = tcb(s->dp);
	sl = sock_addr_make(s->domain, sk ? &sk->laddr : NULL, sk && sk->bound ? sk->lport : 0,
			    sk && sk->laddr.family == SKIFF_AF_INET6 && ip6_is_link_local(sk->laddr.v6)
				    ? sock_ifindex_to_kernel(rt_stack(s->rt, s->instance), scope_of(sk))
				    : 0,
			    &sa);
	rt_unlock(s->rt, s->instance);
	return sock_addr_out(&sa, (int)sl, addr, len);
}

int tcp_sock_getpeername(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage sa;
	socklen_t sl = 0;
	struct skiff_tcp_sock *sk;
	bool ok;
	rt_lock(s->rt, s->instance);
	sk = tcb(s->dp);
	ok = sk && sk->rport && sk->state != SKIFF_TCP_CLOSED && sk->state != SKIFF_TCP_SYN_SENT &&
	     sk->state != SKIFF_TCP_LISTEN;
	if (ok)
		sl = sock_addr_make(s->domain, &sk->raddr, sk->rport,
				    sk->raddr.family == SKIFF_AF_INET6 && ip6_is_link_local(sk->raddr.v6)
					    ? sock_ifindex_to_kernel(rt_stack(s->rt, s->instance), scope_of(sk))
					    : 0,
				    &sa);
	rt_unlock(s->rt, s->instance);
	return ok ? sock_addr_out(&sa, (int)sl, addr, len) : -ENOTCONN;
}

/* ---- skiff.h entry points that only TCP has ---- */

int skiff_listen(int fd, int backlog)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;
	if (!e) {
		rc = sock_defer_resolve(fd, DEFER_LISTEN, NULL, 0);
		if (rc < 0)
			return skiff_ret(rc);
		e = fdt_get(fd);
	}
	if (!e)
		return listen(fd, backlog);
	rc = e->sock->kind == SKIFF_FD_TCP ? tcp_sock_listen(e->sock, backlog) : -EOPNOTSUPP;
	fdt_put(e);
	return skiff_ret(rc);
}

int skiff_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct skiff_fd *e;
	int rc;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return skiff_ret(-EINVAL); /* __sys_accept4: before the fd is looked at */
	e = fdt_get(fd);
	if (!e)
		return accept4(fd, addr, len, flags);
	rc = e->sock->kind == SKIFF_FD_TCP ? tcp_sock_accept(e->sock, addr, len, flags) : -EOPNOTSUPP;
	fdt_put(e);
	return skiff_ret(rc);
}

int skiff_accept(int fd, struct sockaddr *addr, socklen_t *len) { return skiff_accept4(fd, addr, len, 0); }

int skiff_shutdown(int fd, int how)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;
	if (!e)
		return shutdown(fd, how);
	if (e->sock->kind == SKIFF_FD_TCP)
		rc = tcp_sock_shutdown(e->sock, how);
	else
		rc = shutdown(fd, how) < 0 ? -errno : 0; /* UDP: the reserved kernel socket answers (ENOTCONN) */
	fdt_put(e);
	return skiff_ret(rc);
}
