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
#include "runtime.h"
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
	sk = skiff_udp_open(rt_stack(rt, instance), SKIFF_AF_INET, &err);
	if (sk)
		sk->user = s;
	rt_unlock(rt, instance);
	if (!sk)
		return err ? err : -ENOBUFS;
	s->rt = rt;
	s->instance = instance;
	s->dp = sk;
	s->release = udp_release;
	s->domain = AF_INET;
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
	int rc;

	if (!uref_get(fd, &r)) {
		rc = sock_defer_resolve(fd, DEFER_BIND, addr, len);
		if (rc != 0)
			return rc < 0 ? skiff_ret(rc) : 0;
		if (!uref_get(fd, &r))
			return bind(fd, addr, len);
	}
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_bind(r.s, addr, len);
		goto out;
	}
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		goto out;
	/* inet_bind */
	if (len < sizeof(*sin)) {
		rc = -EINVAL;
		goto out;
	}
	if (sin->sin_family != AF_INET &&
	    (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != htonl(INADDR_ANY))) {
		rc = -EAFNOSUPPORT;
		goto out;
	}
	a = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
	port_ok = sock_may_bind_port(ntohs(sin->sin_port)); /* reads /proc: never under the instance lock */
	rt_lock(r.rt, r.inst);
	if (a.v4 != 0 && skiff_stack_local4(r.st, a.v4) < 0 && !ip4_is_multicast(a.v4) &&
	    !skiff_stack_is_bcast4(r.st, a.v4))
		rc = -EADDRNOTAVAIL;
	else if (!port_ok)
		rc = -EACCES;
	else
		rc = skiff_udp_bind(r.st, r.sk, &a, ntohs(sin->sin_port));
	rt_unlock(r.rt, r.inst);
out:
	uref_put(&r);
	return skiff_ret(rc);
}

int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	struct skiff_addr a;
	struct uref r;
	int rc;

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
	rc = sock_addr_in(addr, len, &ss);
	if (rc)
		goto out;
	/* inet_dgram_connect */
	if (len < sizeof(sa_family_t)) {
		rc = -EINVAL;
		goto out;
	}
	rt_lock(r.rt, r.inst);
	if (ss.ss_family == AF_UNSPEC) {
		struct skiff_addr none;
		memset(&none, 0, sizeof(none));
		rc = skiff_udp_connect(r.st, r.sk, &none, 0, rt_now(r.rt));
	} else if (!r.sk->bound && skiff_udp_bind(r.st, r.sk, &(struct skiff_addr){ .family = SKIFF_AF_INET }, 0)) {
		rc = -EAGAIN; /* inet_autobind failed */
	} else if (len < sizeof(*sin)) {
		rc = -EINVAL; /* __ip4_datagram_connect */
	} else if (sin->sin_family != AF_INET) {
		rc = -EAFNOSUPPORT;
	} else {
		a = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
		rc = skiff_udp_connect(r.st, r.sk, &a, ntohs(sin->sin_port), rt_now(r.rt));
	}
	rt_unlock(r.rt, r.inst);
out:
	uref_put(&r);
	return skiff_ret(rc);
}

/* ---- send ---- */

struct send_cmsg {
	int rc;        /* error to report after the destination checks, as ip_cmsg_send */
	int ttl, tos;  /* -1: socket's value */
};

/* Linux ip_cmsg_send (+ __sock_cmsg_send) over the control buffer. */
static void parse_cmsgs(const struct msghdr *msg, struct send_cmsg *c)
{
	c->rc = 0;
	c->ttl = c->tos = -1;
	if (msg->msg_controllen == 0)
		return;
	if (msg->msg_controllen > INT_MAX) {
		c->rc = -ENOBUFS;
		return;
	}
	if (!msg->msg_control) {
		c->rc = -EFAULT;
		return;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		size_t room = msg->msg_controllen - (size_t)((char *)cm - (char *)msg->msg_control);
		if (cm->cmsg_len < sizeof(*cm) || cm->cmsg_len > room) {
			c->rc = -EINVAL;
			return;
		}
		if (cm->cmsg_level == SOL_SOCKET) {
			switch (cm->cmsg_type) {
			case SCM_RIGHTS:
			case SCM_CREDENTIALS:
				continue; /* ignored on inet sockets, as Linux */
			case SO_MARK:
			case SO_TIMESTAMPING_OLD:
			case SCM_TXTIME:
				c->rc = -EOPNOTSUPP; /* valid in Linux, not supported by skiff yet */
				return;
			default:
				c->rc = -EINVAL;
				return;
			}
		}
		if (cm->cmsg_level == SOL_UDP) {
			if (cm->cmsg_type == UDP_SEGMENT) {
				c->rc = -EOPNOTSUPP; /* GSO: not yet */
				return;
			}
			continue;
		}
		if (cm->cmsg_level != SOL_IP)
			continue;
		switch (cm->cmsg_type) {
		case IP_TTL: {
			int v;
			if (cm->cmsg_len != CMSG_LEN(sizeof(int))) {
				c->rc = -EINVAL;
				return;
			}
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			if (v < 1 || v > 255) {
				c->rc = -EINVAL;
				return;
			}
			c->ttl = v;
			break;
		}
		case IP_TOS: {
			int v;
			if (cm->cmsg_len == CMSG_LEN(sizeof(int))) {
				memcpy(&v, CMSG_DATA(cm), sizeof(v));
			} else if (cm->cmsg_len == CMSG_LEN(sizeof(uint8_t))) {
				v = *(const uint8_t *)CMSG_DATA(cm);
			} else {
				c->rc = -EINVAL;
				return;
			}
			if (v < 0 || v > 255) {
				c->rc = -EINVAL;
				return;
			}
			c->tos = v;
			break;
		}
		case IP_PKTINFO: {
			struct in_pktinfo pi;
			if (cm->cmsg_len != CMSG_LEN(sizeof(pi))) {
				c->rc = -EINVAL;
				return;
			}
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			if (pi.ipi_ifindex != 0 || pi.ipi_spec_dst.s_addr != 0) {
				c->rc = -EOPNOTSUPP; /* source/interface selection: not yet */
				return;
			}
			break;
		}
		case IP_RETOPTS:
			c->rc = -EOPNOTSUPP;
			return;
		default:
			c->rc = -EINVAL;
			return;
		}
	}
}

static bool pred_moved(void *ctx, unsigned work)
{
	(void)ctx;
	return work > 0;
}

/* udp_sendmsg. name: the destination (namelen bytes of it were given) or NULL. */
static long udp_send(struct uref *r, const struct iovec *iov, int iovcnt, const struct sockaddr_storage *name,
		     socklen_t namelen, int flags, const struct send_cmsg *cm)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)name;
	struct skiff_addr dst;
	const struct skiff_addr *dstp = NULL;
	uint16_t dport = 0;
	size_t total = 0;
	bool fault = false, nonblock = is_nonblock(r, flags);
	uint64_t deadline = 0;
	const struct skiff_addr any = skiff_addr_v4(0);
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
		if (pre) {
			rc = pre;
		} else if (!dstp && !r->sk->connected) {
			rc = -EDESTADDRREQ;
		} else if (cm && cm->rc) {
			rc = cm->rc;
		} else if (r->sk->err) {
			rc = -skiff_udp_take_error(r->sk);
		} else if (fault) {
			rc = -EFAULT;
		} else {
			uint8_t ttl = r->sk->ttl, tos = r->sk->tos;
			if (cm && cm->ttl >= 0)
				r->sk->ttl = (uint8_t)cm->ttl;
			if (cm && cm->tos >= 0)
				r->sk->tos = (uint8_t)cm->tos;
			rc = skiff_udp_send(r->st, r->sk, iov, iovcnt, dstp, dport, 0, rt_now(r->rt));
			r->sk->ttl = ttl;
			r->sk->tos = tos;
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
			return sendto(fd, buf, len, flags, to, tolen);
	}
	rc = to ? sock_addr_in(to, tolen, &ss) : 0;
	if (!rc && r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_send(r.s, &iov, 1, flags); /* tcp_sendmsg ignores msg_name */
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
	struct send_cmsg cm;
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
			return sendmsg(fd, msg, flags);
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
	parse_cmsgs(msg, &cm);
	rc = udp_send(&r, msg->msg_iov, (int)msg->msg_iovlen, namelen ? &ss : NULL, namelen, flags, &cm);
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

/* udp_recvmsg. Returns bytes (or the datagram length with MSG_TRUNC) or -errno;
 * *mflags gets MSG_TRUNC when the datagram did not fit, *from the sender. */
static long udp_recv(struct uref *r, const struct iovec *iov, int iovcnt, int flags, struct sockaddr_in *from,
		     int *mflags)
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
	sock_sin_of(from, &src, sport);
	return rc;
}

ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct iovec iov = { buf, len };
	struct sockaddr_in sin;
	struct uref r;
	int mflags;
	long rc;

	if (!uref_get(fd, &r))
		return recvfrom(fd, buf, len, flags, from, fromlen);
	if (len > INT_MAX)
		iov.iov_len = INT_MAX; /* MAX_RW_COUNT-like clamp, as import_single_range */
	if (r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_recv(r.s, &iov, 1, flags, &mflags);
	else
		rc = udp_recv(&r, &iov, 1, flags, &sin, &mflags);
	if (rc >= 0 && from) {
		/* TCP names no sender: Linux reports a zero length */
		int e = sock_addr_out(&sin, r.s->kind == SKIFF_FD_TCP ? 0 : (int)sizeof(sin), from, fromlen);
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
	struct sockaddr_in sin;
	struct uref r;
	int mflags = 0;
	long rc = 0;

	if (!uref_get(fd, &r))
		return recvmsg(fd, msg, flags);
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
	if (r.s->kind == SKIFF_FD_TCP)
		rc = tcp_sock_recv(r.s, msg->msg_iov, (int)msg->msg_iovlen, flags, &mflags);
	else
		rc = udp_recv(&r, msg->msg_iov, (int)msg->msg_iovlen, flags, &sin, &mflags);
	if (rc < 0)
		goto out;
	if (msg->msg_name) { /* without a name buffer Linux leaves msg_namelen alone */
		int e = sock_addr_out(&sin, r.s->kind == SKIFF_FD_TCP ? 0 : (int)sizeof(sin), msg->msg_name,
				 &msg->msg_namelen);
		if (e) {
			rc = e;
			goto out;
		}
	}
	msg->msg_flags = mflags;
	msg->msg_controllen = 0; /* no control messages are produced yet */
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
	struct sockaddr_in sin;
	struct uref r;
	int rc;

	if (!uref_get(fd, &r))
		return getsockname(fd, addr, len);
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_getsockname(r.s, addr, len);
		uref_put(&r);
		return skiff_ret(rc);
	}
	rt_lock(r.rt, r.inst);
	sock_sin_of(&sin, &r.sk->laddr, r.sk->lport);
	rt_unlock(r.rt, r.inst);
	rc = sock_addr_out(&sin, sizeof(sin), addr, len);
	uref_put(&r);
	return skiff_ret(rc);
}

int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_in sin;
	struct uref r;
	bool conn;
	int rc;

	if (!uref_get(fd, &r))
		return getpeername(fd, addr, len);
	if (r.s->kind == SKIFF_FD_TCP) {
		rc = tcp_sock_getpeername(r.s, addr, len);
		uref_put(&r);
		return skiff_ret(rc);
	}
	rt_lock(r.rt, r.inst);
	conn = r.sk->connected && r.sk->rport != 0;
	sock_sin_of(&sin, &r.sk->raddr, r.sk->rport);
	rt_unlock(r.rt, r.inst);
	rc = conn ? sock_addr_out(&sin, sizeof(sin), addr, len) : -ENOTCONN;
	uref_put(&r);
	return skiff_ret(rc);
}
