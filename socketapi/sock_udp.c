/* sock_udp.c — bind, connect, send/sendto/sendmsg, recv/recvfrom/recvmsg, getsockname and
 * getpeername for skiff UDP fds.
 *
 * Flow of every call: fd → fd table entry (a kernel-only fd goes to the kernel
 * call of the same name) → Linux's argument checks, in Linux's order, with its
 * errnos (move_addr_to_kernel, inet_bind, inet_dgram_connect, udp_sendmsg,
 * udp_recvmsg, move_addr_to_user) → sockaddr_in ↔ struct skiff_addr (host order)
 * → the dataplane call under the instance lock.
 *   send: skiff_udp_send; what it queued is pushed to the device at once
 *     (rt_progress_locked). -EAGAIN (transmit ring or frame pool exhausted) drives
 *     the runtime and retries until SO_SNDTIMEO; non-blocking sockets retry once.
 *   recv: skiff_udp_recv; empty → rt_wait for readability (busy-poll, then sleep on
 *     the devices) until SO_RCVTIMEO; non-blocking sockets get one progress pass.
 * The dataplane socket is closed by udp_release when the last fd referring to the
 * socket is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dataplane/udp.h"
#include "defer.h"
#include "fdtable.h"
#include "sockaddr.h"
#include "dataplane/wire_ip6.h"
#include "runtime.h"
#include "sock_cmsg.h"
#include "sock_packet.h"
#include "sock_raw.h"
#include "sock_tcp.h"

#define UDP_LEN_MAX 0xFFFFu      /* udp_sendmsg: len > 0xFFFF → EMSGSIZE before anything else */
#define LINUX_UIO_MAXIOV 1024
#define SEND_RETRY_NS 1000000ull /* a sender blocked on frames re-tries at least this often */

struct uref {
	struct skiff_fd *e;
	struct skiff_sock *s;
	struct skiff_rt *rt;
	int inst;
	struct skiff_stack *st;
	struct skiff_udp_sock *sk;
};

/* true: fd is a skiff UDP socket (release with uref_put); false: the kernel's. */
static bool uref_get(int fd, struct uref *r)
{
	r->e = fdt_get(fd);
	if (!r->e)
		return false;
	r->s = r->e->sock;
	r->rt = r->s->rt;
	r->inst = r->s->instance;
	r->st = rt_stack(r->rt, r->inst);
	r->sk = r->s->dp;
	return true;
}

static void uref_put(struct uref *r) { fdt_put(r->e); }

static void udp_release(struct skiff_sock *s)
{
	if (s->dp) {
		rt_lock(s->rt, s->instance);
		skiff_udp_close(rt_stack(s->rt, s->instance), s->dp);
		rt_unlock(s->rt, s->instance);
	}
	free(s);
}

int udp_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance)
{
	struct skiff_udp_sock *sk;
	int err = 0;

	rt_lock(rt, instance);
	sk = skiff_udp_open(rt_stack(rt, instance), s->domain == AF_INET6 ? SKIFF_AF_INET6 : SKIFF_AF_INET, &err);
	if (sk)
		sk->user = s;
	rt_unlock(rt, instance);
	if (!sk)
		return err ? err : -ENOBUFS;
	s->rt = rt;
	s->instance = instance;
	s->dp = sk;
	s->release = udp_release;
	s->domain = s->domain == AF_INET6 ? AF_INET6 : AF_INET;
	s->type = SOCK_DGRAM;
	s->protocol = IPPROTO_UDP;
	atomic_store_explicit(&s->kind, SKIFF_FD_UDP, memory_order_release);
	return 0;
}

short udp_sock_revents(struct skiff_sock *s)
{
	short r;
	rt_lock(s->rt, s->instance);
	r = udp_sock_revents_locked(s);
	rt_unlock(s->rt, s->instance);
	return r;
}

short udp_sock_revents_locked(struct skiff_sock *s)
{
	unsigned ev = skiff_udp_events(s->dp);
	short r = 0;
	if (ev & SKIFF_EV_IN)
		r |= POLLIN | POLLRDNORM;
	if (ev & SKIFF_EV_OUT)
		r |= POLLOUT | POLLWRNORM | POLLWRBAND;
	if (ev & SKIFF_EV_ERR)
		r |= POLLERR;
	return r;
}

int udp_sock_next_len(struct skiff_sock *s)
{
	size_t n;
	rt_lock(s->rt, s->instance);
	rt_progress_locked(s->rt, s->instance, rt_now(s->rt));
	n = skiff_udp_next_len(s->dp);
	rt_unlock(s->rt, s->instance);
	return n > INT_MAX ? INT_MAX : (int)n;
}

static uint64_t wait_deadline(struct uref *r, bool nonblock, _Atomic uint64_t *timeo)
{
	uint64_t t;
	if (nonblock)
		return 0;
	t = atomic_load(timeo);
	return t == SKIFF_TIMEO_NOWAIT ? 0 : rt_deadline(r->rt, t);
}

static bool is_nonblock(const struct uref *r, int flags)
{
	return (flags & MSG_DONTWAIT) || (atomic_load(&r->s->status_flags) & O_NONBLOCK);
}

/* ---- bind / connect ---- */

int skiff_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	struct skiff_addr a;
	struct uref r;
	bool port_ok;
	uint16_t port = 0;
	uint32_t scope = 0;
	int rc, sifx;

	if (!uref_get(fd, &r)) {
		rc = sock_defer_resolve(fd, DEFER_BIND, addr, len);
		if (rc != 0)
			return rc < 0 ? skiff_ret(rc) : 0;
		if (!uref_get(fd, &r))
			return sock_packet_bind(fd, addr, len); /* sock_packet.c, or the kernel's */
	}
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_bind(r.s, addr, len);
		goto out;
	}
	if (r.s->kind == SKIFF_FD_RAW) { /* sock_raw.c */
		rc = raw_sock_bind(r.s, addr, len);
		goto out;
	}
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		goto out;
	/* inet_bind / inet6_bind */
	if (r.s->domain == AF_INET && len >= sizeof(*sin) && sin->sin_family == AF_UNSPEC &&
	    sin->sin_addr.s_addr == htonl(INADDR_ANY))
		ss.ss_family = AF_INET; /* Linux: AF_UNSPEC with INADDR_ANY binds as AF_INET */
	rc = sock_addr_parse(r.s->domain, &ss, len, &a, &port, &scope);
	if (rc)
		goto out;
	sifx = scope ? sock_ifindex_from_kernel(r.st, scope) : -1;
	port_ok = sock_may_bind_port(port); /* reads /proc: never under the instance lock */
	rt_lock(r.rt, r.inst);
	if (a.family == SKIFF_AF_INET && a.v4 != 0 && skiff_stack_local4(r.st, a.v4) < 0 && !ip4_is_multicast(a.v4) &&
	    !skiff_stack_is_bcast4(r.st, a.v4))
		rc = -EADDRNOTAVAIL;
	else if (a.family == SKIFF_AF_INET6 && ip6_is_link_local(a.v6) && scope && sifx < 0)
		rc = -ENODEV; /* inet6_bind: the scope names no interface of ours */
	else if (!port_ok)
		rc = -EACCES;
	else {
		if (a.family == SKIFF_AF_INET6 && ip6_is_link_local(a.v6) && sifx >= 0 && r.sk->bound_ifindex < 0)
			r.sk->bound_ifindex = sifx; /* Linux binds a link-local socket to its interface */
		rc = skiff_udp_bind(r.st, r.sk, &a, port);
	}
	rt_unlock(r.rt, r.inst);
out:
	uref_put(&r);
	return skiff_ret(rc);
}

int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	struct skiff_addr a;
	struct uref r;
	uint16_t port = 0;
	uint32_t scope = 0;
	int rc, sifx = -1;

	if (!uref_get(fd, &r)) {
		rc = sock_defer_resolve(fd, DEFER_CONNECT, addr, len);
		if (rc < 0)
			return skiff_ret(rc);
		if (!uref_get(fd, &r))
			return connect(fd, addr, len);
	}
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_connect(r.s, addr, len);
		goto out;
	}
	if (r.s->kind == SKIFF_FD_RAW) { /* sock_raw.c */
		rc = raw_sock_connect(r.s, addr, len);
		goto out;
	}
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		goto out;
	/* inet_dgram_connect */
	if (len < sizeof(sa_family_t)) {
		rc = -EINVAL;
		goto out;
	}
	if (r.s->domain == AF_INET6 && ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6) &&
	    ((struct sockaddr_in6 *)&ss)->sin6_scope_id)
		sifx = sock_ifindex_from_kernel(r.st, ((struct sockaddr_in6 *)&ss)->sin6_scope_id);
	rt_lock(r.rt, r.inst);
	if (ss.ss_family == AF_UNSPEC) {
		struct skiff_addr none;
		memset(&none, 0, sizeof(none));
		rc = skiff_udp_connect(r.st, r.sk, &none, 0, rt_now(r.rt));
	} else if (!r.sk->bound && skiff_udp_bind(r.st, r.sk, &(struct skiff_addr){ .family = r.sk->family }, 0)) {
		rc = -EAGAIN; /* inet_autobind failed */
	} else if ((rc = sock_addr_parse(r.s->domain, &ss, len, &a, &port, &scope)) != 0) {
		; /* __ip4_datagram_connect / __ip6_datagram_connect */
	} else {
		if (a.family == SKIFF_AF_INET6 && ip6_is_unspecified(a.v6))
			a.v6[15] = 1; /* Linux: connecting to :: means ::1 */
		r.sk->scope_ifindex = scope ? sifx : -1;
		rc = scope && sifx < 0 && ip6_is_link_local(a.v6) ? -EINVAL
								 : skiff_udp_connect(r.st, r.sk, &a, port, rt_now(r.rt));
		r.sk->scope_ifindex = -1;
	}
	rt_unlock(r.rt, r.inst);
out:
	uref_put(&r);
	return skiff_ret(rc);
}

/* ---- send ---- */

/* A sendmsg's control messages (sock_cmsg.c), applied to the socket around one send. */
struct send_ctl {
	struct sock_cmsg_tx c;
	int oif;              /* the stack's index of c.oif, -1 */
	uint8_t ttl, tos, tclass; /* the socket's values, restored after the send */
	int16_t hop_limit, mcast_hops;
	bool dontfrag;
};

/* Parse for the destination's family: udpv6_sendmsg hands an IPv4 (v4-mapped)
 * destination to udp_sendmsg, which reads IPv4 messages (ip_cmsg_send). */
static void ctl_parse(struct uref *r, const struct msghdr *msg, const struct skiff_addr *dstp, struct send_ctl *ctl)
{
	const struct skiff_addr *to = dstp ? dstp : &r->sk->raddr;
	if (to->family == SKIFF_AF_INET6 && !ip6_is_v4mapped(to->v6))
		sock_cmsg_parse6(msg, &ctl->c);
	else
		sock_cmsg_parse4(msg, r->s->domain == AF_INET6, &ctl->c);
	ctl->oif = ctl->c.oif ? sock_ifindex_from_kernel(r->st, ctl->c.oif) : -1;
}

static void ctl_apply(struct skiff_udp_sock *sk, struct send_ctl *ctl)
{
	const struct sock_cmsg_tx *c = &ctl->c;
	ctl->ttl = sk->ttl;
	ctl->tos = sk->tos;
	ctl->tclass = sk->tclass;
	ctl->hop_limit = sk->hop_limit;
	ctl->mcast_hops = sk->mcast_hops;
	ctl->dontfrag = sk->dontfrag;
	if (c->ttl >= 0)
		sk->ttl = (uint8_t)c->ttl;
	if (c->tos >= 0)
		sk->tos = (uint8_t)c->tos;
	if (c->hlimit >= 0) /* ipc6.hlimit: unicast and multicast alike */
		sk->hop_limit = sk->mcast_hops = (int16_t)c->hlimit;
	if (c->tclass >= 0)
		sk->tclass = (uint8_t)c->tclass;
	if (c->dontfrag >= 0)
		sk->dontfrag = c->dontfrag != 0;
	sk->tx_oif = ctl->oif;
	sk->tx_src = c->src;
}

static void ctl_restore(struct skiff_udp_sock *sk, const struct send_ctl *ctl)
{
	sk->ttl = ctl->ttl;
	sk->tos = ctl->tos;
	sk->tclass = ctl->tclass;
	sk->hop_limit = ctl->hop_limit;
	sk->mcast_hops = ctl->mcast_hops;
	sk->dontfrag = ctl->dontfrag;
	sk->tx_oif = -1;
	memset(&sk->tx_src, 0, sizeof(sk->tx_src));
}

static bool pred_moved(void *ctx, unsigned work)
{
	(void)ctx;
	return work > 0;
}

/* udp_sendmsg. name: the destination (namelen bytes of it were given) or NULL. */
static long udp_send(struct uref *r, const struct iovec *iov, int iovcnt, const struct sockaddr_storage *name,
		     socklen_t namelen, int flags, const struct msghdr *msg)
{
	struct send_ctl ctl;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)name;
	struct skiff_addr dst;
	const struct skiff_addr *dstp = NULL;
	uint16_t dport = 0;
	uint32_t scope = 0;
	int sifx = -1;
	size_t total = 0;
	bool fault = false, nonblock = is_nonblock(r, flags);
	uint64_t deadline = 0;
	const struct skiff_addr any = { .family = r->sk->family };
	long rc, pre = 0;

	for (int i = 0; i < iovcnt; i++) {
		total = iov[i].iov_len > SIZE_MAX - total ? SIZE_MAX : total + iov[i].iov_len;
		if (!iov[i].iov_base && iov[i].iov_len)
			fault = true;
	}
	if (total > UDP_LEN_MAX) {
		pre = -EMSGSIZE;
	} else if (flags & MSG_OOB) {
		pre = -EOPNOTSUPP;
	} else if (flags & MSG_MORE) {
		pre = -EOPNOTSUPP; /* UDP corking is not supported yet */
	} else if (name && r->s->domain == AF_INET6) {
		/* udpv6_sendmsg: a v4-mapped destination goes out as IPv4 */
		pre = sock_addr_parse(AF_INET6, name, namelen, &dst, &dport, &scope);
		if (!pre && dport == 0)
			pre = -EINVAL;
		if (!pre && ip6_is_unspecified(dst.v6))
			dst.v6[15] = 1; /* to :: is to ::1 (Linux) */
		if (scope)
			sifx = sock_ifindex_from_kernel(r->st, scope);
		dstp = &dst;
	} else if (name) {
		if (namelen < sizeof(*sin))
			pre = -EINVAL;
		else if (sin->sin_family != AF_INET && sin->sin_family != AF_UNSPEC)
			pre = -EAFNOSUPPORT;
		else if (sin->sin_port == 0)
			pre = -EINVAL;
		dst = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
		dport = ntohs(sin->sin_port);
		dstp = &dst;
	}
	for (int attempt = 0;; attempt++) {
		int w;
		rt_lock(r->rt, r->inst);
		/* inet_send_prepare: an unbound socket is bound before any check */
		if (!r->sk->bound && skiff_udp_bind(r->st, r->sk, &any, 0) < 0) {
			rc = -EAGAIN;
			rt_unlock(r->rt, r->inst);
			return rc;
		}
		if (msg && attempt == 0)
			ctl_parse(r, msg, dstp, &ctl); /* sock_cmsg.c */
		if (pre) {
			rc = pre;
		} else if (!dstp && !r->sk->connected) {
			rc = -EDESTADDRREQ;
		} else if (msg && ctl.c.rc) {
			rc = ctl.c.rc;
		} else if (msg && (rc = sock_cmsg_check_pktinfo(r->st, &ctl.c,
								 ctl.c.oif ? ctl.oif
								 : dstp && scope ? sifx : r->sk->bound_ifindex)) != 0) {
			; /* ip6_datagram_send_ctl / ip_route_output: PKTINFO's interface and source */
		} else if (r->sk->err) {
			rc = -skiff_udp_take_error(r->sk);
		} else if (fault) {
			rc = -EFAULT;
		} else {
			if (msg)
				ctl_apply(r->sk, &ctl);
			r->sk->scope_ifindex = dstp && scope ? (sifx >= 0 ? sifx : SKIFF_SCOPE_NONE) : -1;
			rc = skiff_udp_send(r->st, r->sk, iov, iovcnt, dstp, dport, 0, rt_now(r->rt));
			r->sk->scope_ifindex = -1;
			if (msg)
				ctl_restore(r->sk, &ctl);
			if (rc >= 0 || rc == -EAGAIN)
				rt_progress_locked(r->rt, r->inst, rt_now(r->rt)); /* out to the device now */
		}
		rt_unlock(r->rt, r->inst);
		if (rc != -EAGAIN)
			return rc;
		if (attempt == 0)
			deadline = wait_deadline(r, nonblock, &r->s->sndtimeo_ns);
		else if (deadline == 0 || rt_now(r->rt) >= deadline)
			return -EAGAIN;
		/* Frames are in flight: drive everything until some move, re-trying at least
		 * every SEND_RETRY_NS (a pool refill may not show up as device work). */
		{
			uint64_t now = rt_now(r->rt), step = deadline;
			if (deadline > now && deadline - now > SEND_RETRY_NS)
				step = now + SEND_RETRY_NS;
			w = rt_wait(r->rt, r->inst, r->sk, pred_moved, NULL, step);
		}
		if (w < 0 && w != -EAGAIN)
			return w;
	}
}

ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct sockaddr_storage ss;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct uref r;
	long rc;

	if (!uref_get(fd, &r)) {
		rc = to ? sock_defer_resolve(fd, DEFER_SENDTO, to, tolen) : 0;
		if (rc < 0) {
			errno = (int)-rc;
			return -1;
		}
		if (!uref_get(fd, &r))
			return sock_packet_sendto(fd, buf, len, flags, to, tolen); /* sock_packet.c, or the kernel's */
	}
	rc = to ? sock_addr_in(to, tolen, &ss) : 0;
	if (!rc && r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_send(r.s, &iov, 1, flags); /* tcp_sendmsg ignores msg_name */
	else if (!rc && r.s->kind == SKIFF_FD_RAW) /* sock_raw.c */
		rc = raw_sock_send(r.s, &iov, 1, to ? &ss : NULL, tolen, NULL, flags);
	else if (!rc)
		rc = udp_send(&r, &iov, 1, to ? &ss : NULL, tolen, flags, NULL);
	uref_put(&r);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

ssize_t skiff_send(int fd, const void *buf, size_t len, int flags)
{
	if (!fdt_contains(fd))
		return send(fd, buf, len, flags);
	return skiff_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct sockaddr_storage ss;
	struct uref r;
	socklen_t namelen;
	long rc = 0;

	if (!uref_get(fd, &r)) {
		rc = msg ? sock_defer_resolve(fd, DEFER_SENDTO, msg->msg_name, msg->msg_namelen) : 0;
		if (rc < 0) {
			errno = (int)-rc;
			return -1;
		}
		if (!uref_get(fd, &r))
			return sock_packet_sendmsg(fd, msg, flags); /* sock_packet.c, or the kernel's */
	}
	if (!msg) {
		rc = -EFAULT;
		goto out;
	}
	/* __copy_msghdr */
	namelen = msg->msg_name ? msg->msg_namelen : 0;
	if ((int)namelen < 0) {
		rc = -EINVAL;
		goto out;
	}
	if (namelen > sizeof(ss))
		namelen = sizeof(ss);
	if (namelen)
		rc = sock_addr_in(msg->msg_name, namelen, &ss);
	if (!rc && msg->msg_iovlen > LINUX_UIO_MAXIOV)
		rc = -EMSGSIZE;
	if (!rc && msg->msg_iovlen && !msg->msg_iov)
		rc = -EFAULT;
	for (size_t i = 0; !rc && i < msg->msg_iovlen; i++)
		if ((ssize_t)msg->msg_iov[i].iov_len < 0)
			rc = -EINVAL;
	if (rc)
		goto out;
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_send(r.s, msg->msg_iov, (int)msg->msg_iovlen, flags);
		goto out;
	}
	if (r.s->kind == SKIFF_FD_RAW) { /* sock_raw.c */
		rc = raw_sock_send(r.s, msg->msg_iov, (int)msg->msg_iovlen, namelen ? &ss : NULL, namelen, msg, flags);
		goto out;
	}
	rc = udp_send(&r, msg->msg_iov, (int)msg->msg_iovlen, namelen ? &ss : NULL, namelen, flags, msg);
out:
	uref_put(&r);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* ---- receive ---- */

static bool pred_readable(void *ctx, unsigned work)
{
	(void)work;
	return skiff_udp_events(ctx) & (SKIFF_EV_IN | SKIFF_EV_ERR);
}

/* What recvmsg's control messages need (sock_cmsg.c), taken with the datagram. */
struct recv_ctl {
	unsigned flags;               /* the socket's cmsg_flags */
	struct skiff_udp_rxmeta m;
	uint32_t spec_dst;            /* in_pktinfo ipi_spec_dst (host order) */
};

/* Under the instance lock, before skiff_udp_recv takes the head datagram. */
static void recv_ctl_take(struct uref *r, struct recv_ctl *rc)
{
	rc->flags = r->sk->cmsg_flags;
	if (!rc->flags || skiff_udp_rx_meta(r->sk, &rc->m) < 0)
		return;
	rc->spec_dst = 0;
	if (!rc->m.v6) {
		/* fib_compute_spec_dst: the destination when it is ours, else (broadcast,
		 * multicast) an address of the receiving interface */
		struct skiff_iface *ifc = skiff_stack_iface(r->st, rc->m.ifindex);
		if (skiff_stack_local4(r->st, rc->m.dst.v4) >= 0)
			rc->spec_dst = rc->m.dst.v4;
		else if (ifc && ifc->n_v4)
			rc->spec_dst = ifc->v4[0].addr;
	}
}

/* udp_recvmsg. Returns bytes (or the datagram length with MSG_TRUNC) or -errno;
 * *mflags gets MSG_TRUNC when the datagram did not fit, *from the sender; ctl
 * (may be NULL) what control messages need. */
static long udp_recv(struct uref *r, const struct iovec *iov, int iovcnt, int flags, struct sockaddr_storage *from,
		     socklen_t *fromlen, int *mflags, struct recv_ctl *ctl)
{
	struct skiff_addr src;
	uint16_t sport = 0;
	size_t dlen = 0, room = 0;
	int nvalid = iovcnt, dflags = flags & (SKIFF_MSG_PEEK | SKIFF_MSG_TRUNC);
	bool nonblock = is_nonblock(r, flags);
	uint64_t deadline = 0;
	long rc;

	*mflags = 0;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no IP_RECVERR queue: ip_recv_error finds nothing */
	/* A NULL segment faults only when the copy reaches it: receive into the
	 * segments before it, fault if the datagram needed more (consumed, as Linux). */
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len) {
			nvalid = i;
			break;
		}
		room += iov[i].iov_len;
	}
	for (int attempt = 0;; attempt++) {
		int w;
		memset(&src, 0, sizeof(src));
		rt_lock(r->rt, r->inst);
		if (ctl)
			recv_ctl_take(r, ctl);
		rc = skiff_udp_recv(r->st, r->sk, iov, nvalid, dflags, &src, &sport, &dlen);
		rt_unlock(r->rt, r->inst);
		if (rc != -EAGAIN)
			break;
		if (attempt == 0)
			deadline = wait_deadline(r, nonblock, &r->s->rcvtimeo_ns);
		else if (deadline == 0)
			break; /* non-blocking: one progress pass was all */
		w = rt_wait(r->rt, r->inst, r->sk, pred_readable, r->sk, deadline);
		if (w < 0) {
			rc = w;
			break;
		}
	}
	if (rc < 0)
		return rc;
	if (nvalid < iovcnt && dlen > room)
		return -EFAULT;
	if (dlen > room)
		*mflags |= MSG_TRUNC;
	*fromlen = sock_addr_make(r->s->domain, &src, sport,
				  src.family == SKIFF_AF_INET6 && ip6_is_link_local(src.v6)
					  ? sock_ifindex_to_kernel(r->st, r->sk->last_rx_ifindex) : 0,
				  from);
	return rc;
}

ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = { buf, len };
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(struct sockaddr_in);
	struct uref r;
	int mflags;
	long rc;

	if (!uref_get(fd, &r))
		return sock_packet_recvfrom(fd, buf, len, flags, from, fromlen); /* sock_packet.c, or the kernel's */
	if (len > INT_MAX)
		iov.iov_len = INT_MAX; /* MAX_RW_COUNT-like clamp, as import_single_range */
	if (r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_recv(r.s, &iov, 1, flags, &mflags);
	else if (r.s->kind == SKIFF_FD_RAW) /* sock_raw.c */
		rc = raw_sock_recv(r.s, &iov, 1, flags, &sa, &salen, &mflags);
	else
		rc = udp_recv(&r, &iov, 1, flags, &sa, &salen, &mflags, NULL);
	if (rc >= 0 && from) {
		/* TCP names no sender: Linux reports a zero length */
		int e = sock_addr_out(&sa, r.s->kind == SKIFF_FD_TCP ? 0 : (int)salen, from, fromlen);
		if (e)
			rc = e;
	}
	uref_put(&r);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

ssize_t skiff_recv(int fd, void *buf, size_t len, int flags)
{
	if (!fdt_contains(fd))
		return recv(fd, buf, len, flags);
	return skiff_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct recv_ctl ctl = { 0 };
	struct sockaddr_storage sa;
	socklen_t salen = sizeof(struct sockaddr_in);
	struct uref r;
	int mflags = 0;
	long rc = 0;

	if (!uref_get(fd, &r))
		return sock_packet_recvmsg(fd, msg, flags); /* sock_packet.c, or the kernel's */
	if (!msg) {
		rc = -EFAULT;
		goto out;
	}
	/* __copy_msghdr */
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		rc = -EINVAL;
	else if (msg->msg_iovlen > LINUX_UIO_MAXIOV)
		rc = -EMSGSIZE;
	else if (msg->msg_iovlen && !msg->msg_iov)
		rc = -EFAULT;
	for (size_t i = 0; !rc && i < msg->msg_iovlen; i++)
		if ((ssize_t)msg->msg_iov[i].iov_len < 0)
			rc = -EINVAL;
	if (rc)
		goto out;
	if (r.s->kind == SKIFF_FD_RAW) { /* sock_raw.c: name, flags and control messages */
		rc = raw_sock_recvmsg(r.s, msg, flags);
		goto out;
	}
	if (r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_recv(r.s, msg->msg_iov, (int)msg->msg_iovlen, flags, &mflags);
	else
		rc = udp_recv(&r, msg->msg_iov, (int)msg->msg_iovlen, flags, &sa, &salen, &mflags, &ctl);
	if (rc < 0)
		goto out;
	if (msg->msg_name) { /* without a name buffer Linux leaves msg_namelen alone */
		int e = sock_addr_out(&sa, r.s->kind == SKIFF_FD_TCP ? 0 : (int)salen, msg->msg_name,
				 &msg->msg_namelen);
		if (e) {
			rc = e;
			goto out;
		}
	}
	msg->msg_flags = mflags;
	if (r.s->kind == SKIFF_FD_UDP && ctl.flags) { /* sock_cmsg.c, in Linux's order */
		struct sock_cmsg_out co;
		sock_cmsg_begin(&co, msg);
		sock_cmsg_udp_rx(&co, r.s->domain, ctl.flags, &ctl.m, sock_ifindex_to_kernel(r.st, ctl.m.ifindex),
				 ctl.spec_dst);
		sock_cmsg_end(&co);
	} else {
		msg->msg_controllen = 0; /* nothing asked for (TCP: none produced yet) */
	}
out:
	uref_put(&r);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* ---- names ---- */

int skiff_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage sa;
	socklen_t slen;
	struct uref r;
	int rc;

	if (!uref_get(fd, &r))
		return sock_packet_getsockname(fd, addr, len); /* sock_packet.c, or the kernel's */
	if (r.s->kind == SKIFF_FD_TCP || r.s->kind == SKIFF_FD_RAW) {
		rc = r.s->kind == SKIFF_FD_TCP ? tcp_sock_getsockname(r.s, addr, len)
					       : raw_sock_getsockname(r.s, addr, len);
		uref_put(&r);
		return skiff_ret(rc);
	}
	rt_lock(r.rt, r.inst);
	slen = sock_addr_make(r.s->domain, &r.sk->laddr, r.sk->lport, 0, &sa);
	if (r.sk->laddr.family == SKIFF_AF_INET6 && ip6_is_link_local(r.sk->laddr.v6) && r.sk->bound_ifindex >= 0)
		((struct sockaddr_in6 *)&sa)->sin6_scope_id = sock_ifindex_to_kernel(r.st, r.sk->bound_ifindex);
	rt_unlock(r.rt, r.inst);
	rc = sock_addr_out(&sa, (int)slen, addr, len);
	uref_put(&r);
	return skiff_ret(rc);
}

int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage sa;
	socklen_t slen;
	struct uref r;
	bool conn;
	int rc;

	if (!uref_get(fd, &r))
		return getpeername(fd, addr, len);
	if (r.s->kind == SKIFF_FD_TCP || r.s->kind == SKIFF_FD_RAW) {
		rc = r.s->kind == SKIFF_FD_TCP ? tcp_sock_getpeername(r.s, addr, len)
					       : raw_sock_getpeername(r.s, addr, len);
		uref_put(&r);
		return skiff_ret(rc);
	}
	rt_lock(r.rt, r.inst);
	conn = r.sk->connected && r.sk->rport != 0;
	slen = sock_addr_make(r.s->domain, &r.sk->raddr, r.sk->rport, 0, &sa);
	if (r.sk->raddr.family == SKIFF_AF_INET6 && ip6_is_link_local(r.sk->raddr.v6) && r.sk->bound_ifindex >= 0)
		((struct sockaddr_in6 *)&sa)->sin6_scope_id = sock_ifindex_to_kernel(r.st, r.sk->bound_ifindex);
	rt_unlock(r.rt, r.inst);
	rc = conn ? sock_addr_out(&sa, (int)slen, addr, len) : -ENOTCONN;
	uref_put(&r);
	return skiff_ret(rc);
}
