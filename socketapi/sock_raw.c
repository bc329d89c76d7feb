/* sock_raw.c — bind, connect, send, recv (with control messages), names and
 * socket options for skiff raw IP sockets and ICMP ping sockets (sock_raw.h),
 * IPv4 and IPv6 (sockaddr_in6 with scope_id; rawv6_bind / ping_v6_sendmsg /
 * ipv6_recv_error / do_rawv6_setsockopt order for AF_INET6 sockets).
 *
 * Flow: the skiff_* entry points find a SKIFF_FD_RAW socket and call here →
 * Linux's argument checks in Linux's order (raw_bind / ping_bind,
 * inet_dgram_connect, raw_sendmsg / ping_v4_sendmsg, raw_recvmsg / ping_recvmsg,
 * ip_recv_error, do_ip_setsockopt, raw_setsockopt) → the dataplane (raw.c) under
 * the instance lock.
 *   send: skiff_raw_send, pushed to the device at once; -EAGAIN (ring or frames
 *     exhausted) drives the runtime and retries until SO_SNDTIMEO.
 *   recv: skiff_raw_recv; empty → rt_wait until a datagram or a pending error,
 *     until SO_RCVTIMEO. MSG_ERRQUEUE never waits (ip_recv_error).
 *   control messages, in Linux's order: SO_TIMESTAMP / SO_TIMESTAMPNS (stack
 *     arrival time mapped to CLOCK_REALTIME), IP_TTL (IP_RECVTTL), IP_TOS
 *     (IP_RECVTOS); IPv6: IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS; an
 *     error-queue read gives IP_RECVERR / IPV6_RECVERR (sock_extended_err + the
 *     ICMP sender as SO_EE_OFFENDER) and MSG_ERRQUEUE.
 * IPv6 options: IPV6_CHECKSUM (level IPPROTO_IPV6 refused on ICMPv6 sockets,
 * level SOL_RAW allowed: RFC 3542 3.1 and Linux), ICMP6_FILTER (level
 * IPPROTO_ICMPV6, raw ICMPv6 sockets), IPV6_UNICAST_HOPS, IPV6_MULTICAST_HOPS,
 * IPV6_TCLASS, IPV6_RECVHOPLIMIT / RECVTCLASS / RECVPKTINFO, IPV6_RECVERR,
 * IPV6_MTU_DISCOVER, IPV6_HDRINCL.
 * SO_ATTACH_FILTER: checked as Linux checks it (bpf_classic.c), kept here and run
 * by the dataplane on each datagram; SO_DETACH_FILTER, SO_GET_FILTER likewise.
 * Privilege (CAP_NET_RAW, net.ipv4.ping_group_range) was the kernel's: the socket
 * exists only because socket(2) of the same triple succeeded. Options skiff does
 * not implement (SO_BINDTODEVICE, SO_MARK, SO_LOCK_FILTER, IP_PKTINFO, IP_OPTIONS,
 * SO_TIMESTAMP*_NEW, ...) return -ENOPROTOOPT and the caller hands them to that
 * kernel socket (accepted there, no effect on skiff's traffic).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "dataplane/bpf_classic.h"
#include "dataplane/raw.h"
#include "dataplane/stack.h"
#include "dataplane/udp.h"
#include "dataplane/wire_ip6.h"
#include "fdtable.h"
#include "runtime.h"
#include "sock_raw.h"

#include "sock_cmsg.h"
#include "sockaddr.h"

#define SEND_RETRY_NS 1000000ull
#define LINUX_ICMP_FILTER 1 /* <linux/icmp.h>, level SOL_RAW */
#define LINUX_ICMP6_FILTER 1 /* <linux/icmpv6.h> ICMPV6_FILTER, level IPPROTO_ICMPV6 */
#define LINUX_IPV6_CHECKSUM 7
#define LINUX_IPV6_HDRINCL 36
#define LINUX_SO_EE_ORIGIN_ICMP6 3
#ifndef SO_TIMESTAMP_OLD
#define SO_TIMESTAMP_OLD 29
#define SO_TIMESTAMPNS_OLD 35
#endif

/* cmsg_flags bits (Linux IP_CMSG_* and the socket's timestamp flags) */
enum { CM_TTL = 1, CM_TOS = 2, CM_TS = 4, CM_TSNS = 8, CM_PKTINFO6 = 16 }; /* IPv6: TTL = hop limit, TOS = class */

struct rref {
	struct skiff_rt *rt;
	int inst;
	struct skiff_stack *st;
	struct skiff_raw_sock *sk;
};

static struct rref rref_of(struct skiff_sock *s)
{
	struct rref r = { s->rt, s->instance, rt_stack(s->rt, s->instance), s->dp };
	return r;
}

static void raw_release(struct skiff_sock *s)
{
	const struct sock_filter *f = NULL;
	if (s->dp) {
		rt_lock(s->rt, s->instance);
		f = ((struct skiff_raw_sock *)s->dp)->filter;
		skiff_raw_close(rt_stack(s->rt, s->instance), s->dp);
		rt_unlock(s->rt, s->instance);
	}
	free((void *)(uintptr_t)f);
	free(s);
}

int raw_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance)
{
	struct skiff_raw_sock *sk;
	bool ping = s->type == SOCK_DGRAM;
	int err = 0;

	rt_lock(rt, instance);
	sk = skiff_raw_open(rt_stack(rt, instance), s->domain == AF_INET6 ? SKIFF_AF_INET6 : SKIFF_AF_INET, ping,
			    s->protocol, &err);
	if (sk)
		sk->user = s;
	rt_unlock(rt, instance);
	if (!sk)
		return err ? err : -ENOBUFS;
	s->rt = rt;
	s->instance = instance;
	s->dp = sk;
	s->release = raw_release;
	atomic_store_explicit(&s->kind, SKIFF_FD_RAW, memory_order_release);
	return 0;
}

int raw_sock_open(struct skiff_rt *rt, int instance, int kfd, int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), rc;
	struct skiff_sock *s = fdt_sock_new(SKIFF_FD_DEFERRED, domain, base, protocol, NULL);

	if (!s)
		return -ENOMEM;
	if (type & SOCK_NONBLOCK)
		atomic_store(&s->status_flags, O_NONBLOCK);
	rc = raw_sock_attach(s, rt, instance);
	if (rc == 0)
		rc = fdt_install(kfd, s, type & SOCK_CLOEXEC ? FD_CLOEXEC : 0);
	fdt_sock_put(s); /* the table holds its own reference; on failure this closes the socket */
	return rc;
}

short raw_sock_revents_locked(struct skiff_sock *s)
{
	unsigned ev = skiff_raw_events(s->dp);
	short r = 0;
	if (ev & SKIFF_EV_IN)
		r |= POLLIN | POLLRDNORM;
	if (ev & SKIFF_EV_OUT)
		r |= POLLOUT | POLLWRNORM | POLLWRBAND;
	if (ev & SKIFF_EV_ERR)
		r |= POLLERR;
	return r;
}

short raw_sock_revents(struct skiff_sock *s)
{
	short r;
	rt_lock(s->rt, s->instance);
	r = raw_sock_revents_locked(s);
	rt_unlock(s->rt, s->instance);
	return r;
}

uint32_t raw_sock_wake_seq_locked(struct skiff_sock *s) { return ((const struct skiff_raw_sock *)s->dp)->wake_seq; }

int raw_sock_next_len(struct skiff_sock *s)
{
	size_t n;
	rt_lock(s->rt, s->instance);
	rt_progress_locked(s->rt, s->instance, rt_now(s->rt));
	n = skiff_raw_next_len(s->dp);
	rt_unlock(s->rt, s->instance);
	return n > INT_MAX ? INT_MAX : (int)n;
}

static bool is_nonblock(struct skiff_sock *s, int flags)
{
	return (flags & MSG_DONTWAIT) || (atomic_load(&s->status_flags) & O_NONBLOCK);
}

static uint64_t wait_deadline(struct skiff_sock *s, bool nonblock, _Atomic uint64_t *timeo)
{
	uint64_t t;
	if (nonblock)
		return 0;
	t = atomic_load(timeo);
	return t == SKIFF_TIMEO_NOWAIT ? 0 : rt_deadline(s->rt, t);
}

/* ---- bind / connect ---- */

static bool is6(const struct skiff_sock *s) { return s->domain == AF_INET6; }

/* Does a destination or bound address need a scope_id (link-local unicast,
 * link-scope multicast: Linux __ipv6_addr_needs_scope_id)? */
static bool needs_scope(const uint8_t *a)
{
	return ip6_is_link_local(a) || (ip6_is_multicast(a) && ip6_mcast_scope(a) <= IP6_SCOPE_LINK);
}

/* sin6_scope_id → stack interface under the instance lock: -1 for 0,
 * SKIFF_SCOPE_NONE when it names no interface of the stack. */
static int scope_in(struct skiff_stack *st, uint32_t kscope)
{
	int i;
	if (!kscope)
		return -1;
	i = sock_ifindex_from_kernel(st, kscope);
	return i >= 0 ? i : SKIFF_SCOPE_NONE;
}

/* rawv6_bind / ping_check_bind_addr + ping_bind for AF_INET6 */
static int bind6(struct skiff_sock *s, const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	struct rref r = rref_of(s);
	struct skiff_addr a;
	uint32_t kscope;
	int rc = 0, oif;

	if (len < 24) /* SIN6_LEN_RFC2133 */
		return -EINVAL;
	if (s6->sin6_family != AF_INET6)
		return r.sk->ping ? -EAFNOSUPPORT : -EINVAL;
	a = ip6_addr_make(s6->sin6_addr.s6_addr);
	kscope = len >= sizeof(*s6) ? s6->sin6_scope_id : 0;
	if (r.sk->ping && needs_scope(a.v6) && !kscope)
		return -EINVAL;
	rt_lock(r.rt, r.inst);
	oif = scope_in(r.st, kscope);
	if (!r.sk->ping && r.sk->connected) {
		rc = -EINVAL; /* rawv6_bind: sk_state != TCP_CLOSE */
	} else if (r.sk->ping && r.sk->ident) {
		rc = -EINVAL;
	} else if (needs_scope(a.v6) && oif == SKIFF_SCOPE_NONE) {
		rc = -ENODEV; /* a scope that is no interface of this stack */
	} else {
		if (needs_scope(a.v6) && oif >= 0)
			r.sk->bound_ifindex = oif; /* the scope becomes the bound device */
		rc = skiff_raw_bind(r.st, r.sk, &a, r.sk->ping ? ntohs(s6->sin6_port) : 0);
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

/* ip6_datagram_connect */
static int connect6(struct skiff_sock *s, const struct sockaddr_storage *ss, socklen_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	struct rref r = rref_of(s);
	struct skiff_addr a;
	int rc = 0, oif;

	if (len < sizeof(sa_family_t))
		return -EINVAL;
	rt_lock(r.rt, r.inst);
	if (ss->ss_family == AF_UNSPEC) {
		struct skiff_addr none;
		memset(&none, 0, sizeof(none));
		rc = skiff_raw_connect(r.st, r.sk, &none, rt_now(r.rt));
	} else if (len < 24) {
		rc = -EINVAL;
	} else if (s6->sin6_family != AF_INET6) {
		rc = -EAFNOSUPPORT;
	} else {
		a = ip6_addr_make(s6->sin6_addr.s6_addr);
		oif = scope_in(r.st, len >= sizeof(*s6) ? s6->sin6_scope_id : 0);
		if (needs_scope(a.v6) && oif == SKIFF_SCOPE_NONE)
			rc = -ENODEV;
		else if (needs_scope(a.v6) && oif >= 0 && r.sk->bound_ifindex >= 0 && oif != r.sk->bound_ifindex)
			rc = -EINVAL;
		if (!rc && needs_scope(a.v6) && oif >= 0)
			r.sk->bound_ifindex = oif;
		if (!rc && ip6_is_link_local(a.v6) && r.sk->bound_ifindex < 0)
			rc = -EINVAL; /* a link-local peer needs an interface */
		if (!rc)
			rc = skiff_raw_connect(r.st, r.sk, &a, rt_now(r.rt));
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

int raw_sock_bind(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	struct rref r = rref_of(s);
	struct skiff_addr a;
	int rc = sock_addr_in(addr, len, &ss);

	if (rc)
		return rc;
	if (is6(s))
		return bind6(s, &ss, len);
	if (len < sizeof(*sin))
		return -EINVAL;
	if (r.sk->ping && sin->sin_family != AF_INET &&
	    !(sin->sin_family == AF_UNSPEC && sin->sin_addr.s_addr == htonl(INADDR_ANY)))
		return -EAFNOSUPPORT; /* ping_check_bind_addr (raw_bind does not look) */
	a = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
	rt_lock(r.rt, r.inst);
	if (!r.sk->ping && r.sk->connected)
		rc = -EINVAL; /* raw_bind: sk_state != TCP_CLOSE */
	else if (r.sk->ping && r.sk->ident)
		rc = -EINVAL;
	else
		rc = skiff_raw_bind(r.st, r.sk, &a, r.sk->ping ? ntohs(sin->sin_port) : 0);
	rt_unlock(r.rt, r.inst);
	return rc;
}

int raw_sock_connect(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	struct rref r = rref_of(s);
	struct skiff_addr a;
	int rc = sock_addr_in(addr, len, &ss);

	if (rc)
		return rc;
	if (is6(s))
		return connect6(s, &ss, len);
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	rt_lock(r.rt, r.inst);
	if (ss.ss_family == AF_UNSPEC) {
		struct skiff_addr none;
		memset(&none, 0, sizeof(none));
		rc = skiff_raw_connect(r.st, r.sk, &none, rt_now(r.rt));
	} else if (len < sizeof(*sin)) {
		rc = -EINVAL; /* ip4_datagram_connect */
	} else if (sin->sin_family != AF_INET) {
		rc = -EAFNOSUPPORT;
	} else {
		a = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
		rc = skiff_raw_connect(r.st, r.sk, &a, rt_now(r.rt));
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

/* ---- send ---- */

/* IPV6_PKTINFO of one send (RFC 3542 6.1): kernel interface index, source. */
struct pktinfo6 {
	bool set;
	uint32_t kif;
	uint8_t src[16];
};

/* ip6_datagram_send_ctl for what a raw/ping6 sender uses: IPV6_HOPLIMIT,
 * IPV6_TCLASS (-1: the socket's), IPV6_PKTINFO. */
static int cmsg6(const struct cmsghdr *cm, int *ttl, int *tos, struct pktinfo6 *pi6)
{
	int v;
	switch (cm->cmsg_type) {
	case IPV6_HOPLIMIT:
	case IPV6_TCLASS:
		if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
			return -EINVAL;
		memcpy(&v, CMSG_DATA(cm), sizeof(v));
		if (v < -1 || v > 255)
			return -EINVAL;
		*(cm->cmsg_type == IPV6_HOPLIMIT ? ttl : tos) = v;
		return 0;
	case IPV6_PKTINFO: {
		struct in6_pktinfo pi;
		if (cm->cmsg_len < CMSG_LEN(sizeof(pi)))
			return -EINVAL;
		memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
		pi6->set = true;
		pi6->kif = (uint32_t)pi.ipi6_ifindex;
		memcpy(pi6->src, &pi.ipi6_addr, 16);
		return 0;
	}
	default:
		return -EINVAL;
	}
}

/* ip_cmsg_send for what a raw/ping sender uses: IP_TTL, IP_TOS; IPv6: cmsg6. */
static int parse_cmsgs(const struct msghdr *msg, bool v6, int *ttl, int *tos, struct pktinfo6 *pi6)
{
	*ttl = *tos = -1;
	if (!msg || msg->msg_controllen == 0)
		return 0;
	if (msg->msg_controllen > INT_MAX)
		return -ENOBUFS;
	if (!msg->msg_control)
		return -EFAULT;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		size_t room = msg->msg_controllen - (size_t)((char *)cm - (char *)msg->msg_control);
		int v;
		if (cm->cmsg_len < sizeof(*cm) || cm->cmsg_len > room)
			return -EINVAL;
		if (cm->cmsg_level == SOL_SOCKET) {
			if (cm->cmsg_type == SCM_RIGHTS || cm->cmsg_type == SCM_CREDENTIALS)
				continue;
			return -EOPNOTSUPP; /* SO_MARK, SO_TIMESTAMPING, SCM_TXTIME: not in skiff */
		}
		if (v6) {
			int rc;
			if (cm->cmsg_level != SOL_IPV6)
				continue;
			rc = cmsg6(cm, ttl, tos, pi6);
			if (rc)
				return rc;
			continue;
		}
		if (cm->cmsg_level != SOL_IP)
			continue;
		switch (cm->cmsg_type) {
		case IP_TTL:
			if (cm->cmsg_len != CMSG_LEN(sizeof(int)))
				return -EINVAL;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			if (v < 1 || v > 255)
				return -EINVAL;
			*ttl = v;
			break;
		case IP_TOS:
			if (cm->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(&v, CMSG_DATA(cm), sizeof(v));
			else if (cm->cmsg_len == CMSG_LEN(sizeof(uint8_t)))
				v = *(const uint8_t *)CMSG_DATA(cm);
			else
				return -EINVAL;
			if (v < 0 || v > 255)
				return -EINVAL;
			*tos = v;
			break;
		case IP_PKTINFO:
		case IP_RETOPTS:
			return -EOPNOTSUPP; /* source/interface selection, options: not in skiff */
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* Under the instance lock: IPV6_PKTINFO for this send (the cmsg, else the
 * sticky option) into the socket; an interface that is none of the stack's:
 * -ENODEV (ip6_datagram_send_ctl: the device must exist). */
static long pktinfo_begin(struct skiff_stack *st, struct skiff_raw_sock *sk, const struct pktinfo6 *pi6)
{
	uint32_t kif = pi6->set ? pi6->kif : sk->sticky_kif;
	const uint8_t *src = pi6->set ? pi6->src : sk->sticky_src;

	sk->pkt_oif = -1;
	sk->pkt_src = ip6_addr_make(src);
	if (sk->family != SKIFF_AF_INET6)
		return 0;
	if (kif) {
		sk->pkt_oif = sock_ifindex_from_kernel(st, kif);
		if (sk->pkt_oif < 0)
			return -ENODEV;
	}
	return 0;
}

static bool pred_moved(void *ctx, unsigned work)
{
	(void)ctx;
	return work > 0;
}

long raw_sock_send(struct skiff_sock *s, const struct iovec *iov, int iovcnt, const struct sockaddr_storage *name,
		   socklen_t namelen, const struct msghdr *ctl, int flags)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)name;
	struct rref r = rref_of(s);
	struct skiff_addr dst;
	const struct skiff_addr *dstp = NULL;
	size_t total = 0;
	bool fault = false, nonblock = is_nonblock(s, flags);
	uint64_t deadline = 0;
	int ttl, tos, crc, scope = -1;
	uint32_t kscope = 0;
	struct pktinfo6 pi6 = { false, 0, { 0 } };
	long rc, pre = 0;

	for (int i = 0; i < iovcnt; i++) {
		total = iov[i].iov_len > SIZE_MAX - total ? SIZE_MAX : total + iov[i].iov_len;
		if (!iov[i].iov_base && iov[i].iov_len)
			fault = true;
	}
	crc = parse_cmsgs(ctl, is6(s), &ttl, &tos, &pi6);
	/* raw_sendmsg / ping_v4_sendmsg, in their order */
	if (total > 0xFFFF) {
		pre = -EMSGSIZE;
	} else if (flags & MSG_OOB) {
		pre = -EOPNOTSUPP;
	} else if (r.sk->ping && total < 8) {
		pre = -EINVAL; /* ping_common_sendmsg: a whole ICMP header */
	} else if (fault) {
		pre = -EFAULT;
	} else if (name && is6(s)) { /* rawv6_sendmsg / ping_v6_sendmsg */
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)name;
		uint16_t port = ntohs(s6->sin6_port);
		if (namelen < (r.sk->ping ? sizeof(*s6) : 24))
			pre = -EINVAL;
		else if (s6->sin6_family != AF_INET6 && (r.sk->ping || s6->sin6_family != AF_UNSPEC))
			pre = -EAFNOSUPPORT;
		else if (!r.sk->ping && port && port != r.sk->protocol && r.sk->protocol != IPPROTO_RAW)
			pre = -EINVAL; /* the port names the protocol */
		dst = ip6_addr_make(s6->sin6_addr.s6_addr);
		dstp = &dst;
		kscope = namelen >= sizeof(*s6) && needs_scope(dst.v6) ? s6->sin6_scope_id : 0;
	} else if (name) {
		if (namelen < sizeof(*sin))
			pre = -EINVAL;
		else if (sin->sin_family != AF_INET && (r.sk->ping || sin->sin_family != AF_UNSPEC))
			pre = -EAFNOSUPPORT;
		dst = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
		dstp = &dst;
	}
	if (!pre && crc)
		pre = crc;
	if (pre)
		return pre;
	for (int attempt = 0;; attempt++) {
		int w;
		rt_lock(r.rt, r.inst);
		if (attempt == 0)
			scope = scope_in(r.st, kscope);
		rc = pktinfo_begin(r.st, r.sk, &pi6);
		if (rc == 0)
			rc = skiff_raw_send_scoped(r.st, r.sk, iov, iovcnt, dstp, scope, ttl, tos, rt_now(r.rt));
		r.sk->pkt_oif = -1;
		r.sk->pkt_src = ip6_addr_make((const uint8_t[16]){ 0 });
		if (rc >= 0 || rc == -EAGAIN)
			rt_progress_locked(r.rt, r.inst, rt_now(r.rt));
		rt_unlock(r.rt, r.inst);
		if (rc != -EAGAIN)
			return rc;
		if (attempt == 0)
			deadline = wait_deadline(s, nonblock, &s->sndtimeo_ns);
		else if (deadline == 0 || rt_now(r.rt) >= deadline)
			return -EAGAIN;
		{
			uint64_t now = rt_now(r.rt), step = deadline;
			if (deadline > now && deadline - now > SEND_RETRY_NS)
				step = now + SEND_RETRY_NS;
			w = rt_wait(r.rt, r.inst, r.sk, pred_moved, NULL, step);
		}
		if (w < 0 && w != -EAGAIN)
			return w;
	}
}

/* ---- receive ---- */

static bool pred_readable(void *ctx, unsigned work)
{
	const struct skiff_raw_sock *sk = ctx;
	(void)work;
	return sk->rq_head || sk->err;
}

/* One datagram (or, with MSG_ERRQUEUE, one queued error) into iov. */
static long recv_one(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, struct skiff_raw_msginfo *mi,
		     int *mflags)
{
	struct rref r = rref_of(s);
	size_t room = 0;
	int nvalid = iovcnt, dflags = flags & (SKIFF_MSG_PEEK | SKIFF_MSG_TRUNC);
	bool nonblock = is_nonblock(s, flags);
	uint64_t deadline = 0;
	long rc;

	*mflags = 0;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len) {
			nvalid = i;
			break;
		}
		room += iov[i].iov_len;
	}
	if (flags & MSG_ERRQUEUE) { /* ip_recv_error: never waits; truncation only flagged */
		rt_lock(r.rt, r.inst);
		rc = skiff_raw_recv_err(r.st, r.sk, iov, nvalid, dflags & SKIFF_MSG_PEEK, mi);
		rt_unlock(r.rt, r.inst);
		if (rc < 0)
			return rc;
		if (nvalid < iovcnt && mi->len > room)
			return -EFAULT;
		*mflags = MSG_ERRQUEUE | (mi->len > room ? MSG_TRUNC : 0);
		return rc;
	}
	for (int attempt = 0;; attempt++) {
		int w;
		rt_lock(r.rt, r.inst);
		rc = skiff_raw_recv(r.st, r.sk, iov, nvalid, dflags, mi);
		rt_unlock(r.rt, r.inst);
		if (rc != -EAGAIN)
			break;
		if (attempt == 0)
			deadline = wait_deadline(s, nonblock, &s->rcvtimeo_ns);
		else if (deadline == 0)
			break;
		w = rt_wait(r.rt, r.inst, r.sk, pred_readable, r.sk, deadline);
		if (w < 0) {
			rc = w;
			break;
		}
	}
	if (rc < 0)
		return rc;
	if (nvalid < iovcnt && mi->len > room)
		return -EFAULT;
	if (mi->len > room)
		*mflags |= MSG_TRUNC;
	return rc;
}

/* The kernel interface index of a stack one (for sin6_scope_id), 0 if none. */
static uint32_t kindex(struct skiff_sock *s, int ifindex)
{
	uint32_t k;
	if (ifindex < 0)
		return 0;
	rt_lock(s->rt, s->instance);
	k = sock_ifindex_to_kernel(rt_stack(s->rt, s->instance), ifindex);
	rt_unlock(s->rt, s->instance);
	return k;
}

/* The sender's name: sockaddr_in, or sockaddr_in6 (port 0, scope for link-local). */
static socklen_t name_of(struct skiff_sock *s, const struct skiff_addr *a, int ifindex, struct sockaddr_storage *ss)
{
	if (!is6(s)) {
		sock_sin_of((struct sockaddr_in *)ss, a, 0);
		return sizeof(struct sockaddr_in);
	}
	bool scoped = a->family == SKIFF_AF_INET6 && needs_scope(a->v6);
	return sock_addr_make(AF_INET6, a, 0, scoped ? kindex(s, ifindex) : 0, ss);
}

long raw_sock_recv(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, struct sockaddr_storage *from,
		   socklen_t *fromlen, int *mflags)
{
	struct skiff_raw_msginfo mi;
	long rc;

	memset(&mi, 0, sizeof(mi));
	rc = recv_one(s, iov, iovcnt, flags, &mi, mflags);
	if (rc >= 0)
		*fromlen = name_of(s, &mi.src, mi.ifindex, from);
	return rc;
}

/* The stack's arrival time (rt clock) as CLOCK_REALTIME. */
static struct timespec arrival_realtime(struct skiff_rt *rt, uint64_t ts)
{
	struct timespec now;
	uint64_t rnow = rt_now(rt), ns, age = ts && ts <= rnow ? rnow - ts : 0;

	clock_gettime(CLOCK_REALTIME, &now);
	ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	if (age < ns)
		ns -= age;
	now.tv_sec = (time_t)(ns / 1000000000ull);
	now.tv_nsec = (long)(ns % 1000000000ull);
	return now;
}

long raw_sock_recvmsg(struct skiff_sock *s, struct msghdr *msg, int flags)
{
	struct skiff_raw_msginfo mi;
	struct sockaddr_storage sa;
	struct sock_cmsg_out co;
	uint8_t cf;
	int mflags = 0;
	long rc;

	memset(&mi, 0, sizeof(mi));
	rc = recv_one(s, msg->msg_iov, (int)msg->msg_iovlen, flags, &mi, &mflags);
	if (rc < 0)
		return rc;
	if (msg->msg_name) {
		int e;
		socklen_t sl = name_of(s, &mi.src, mi.ifindex, &sa);
		e = sock_addr_out(&sa, (int)sl, msg->msg_name, &msg->msg_namelen);
		if (e)
			return e;
	}
	msg->msg_flags = mflags;
	sock_cmsg_begin(&co, msg);
	rt_lock(s->rt, s->instance);
	cf = ((struct skiff_raw_sock *)s->dp)->cmsg_flags;
	rt_unlock(s->rt, s->instance);
	if (cf & CM_TS) { /* sock_recv_timestamp */
		struct timespec t = arrival_realtime(s->rt, mi.ts);
		struct timeval tv = { t.tv_sec, t.tv_nsec / 1000 };
		sock_cmsg_put(&co, SOL_SOCKET, SO_TIMESTAMP_OLD, &tv, sizeof(tv));
	} else if (cf & CM_TSNS) {
		struct timespec t = arrival_realtime(s->rt, mi.ts);
		sock_cmsg_put(&co, SOL_SOCKET, SO_TIMESTAMPNS_OLD, &t, sizeof(t));
	}
	if ((mflags & MSG_ERRQUEUE) && is6(s)) { /* ipv6_recv_error */
		struct {
			struct sock_extended_err ee;
			struct sockaddr_in6 offender;
		} eh;
		memset(&eh, 0, sizeof(eh));
		eh.ee.ee_errno = (uint32_t)mi.ee_errno;
		eh.ee.ee_origin = mi.ee_origin;
		eh.ee.ee_type = mi.ee_type;
		eh.ee.ee_code = mi.ee_code;
		eh.ee.ee_info = mi.ee_info;
		if (mi.ee_origin != SO_EE_ORIGIN_LOCAL) {
			struct sockaddr_storage os;
			name_of(s, &mi.offender, mi.ifindex, &os);
			memcpy(&eh.offender, &os, sizeof(eh.offender));
		}
		sock_cmsg_put(&co, SOL_IPV6, IPV6_RECVERR, &eh, sizeof(eh));
	} else if (mflags & MSG_ERRQUEUE) {
		struct {
			struct sock_extended_err ee;
			struct sockaddr_in offender;
		} eh;
		memset(&eh, 0, sizeof(eh));
		eh.ee.ee_errno = (uint32_t)mi.ee_errno;
		eh.ee.ee_origin = mi.ee_origin;
		eh.ee.ee_type = mi.ee_type;
		eh.ee.ee_code = mi.ee_code;
		eh.ee.ee_info = mi.ee_info;
		if (mi.ee_origin == SO_EE_ORIGIN_ICMP) /* ip_recv_error: a local error names no offender */
			sock_sin_of(&eh.offender, &mi.offender, 0);
		sock_cmsg_put(&co, SOL_IP, IP_RECVERR, &eh, sizeof(eh));
	} else if (is6(s)) { /* ip6_datagram_recv_ctl order: IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS */
		if (cf & CM_PKTINFO6) {
			struct in6_pktinfo pi;
			memset(&pi, 0, sizeof(pi));
			if (mi.dst.family == SKIFF_AF_INET6)
				memcpy(&pi.ipi6_addr, mi.dst.v6, 16);
			pi.ipi6_ifindex = kindex(s, mi.ifindex);
			sock_cmsg_put(&co, SOL_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
		if (cf & CM_TTL) {
			int hl = mi.ttl;
			sock_cmsg_put(&co, SOL_IPV6, IPV6_HOPLIMIT, &hl, sizeof(hl));
		}
		if (cf & CM_TOS) {
			int tc = mi.tos;
			sock_cmsg_put(&co, SOL_IPV6, IPV6_TCLASS, &tc, sizeof(tc));
		}
	} else {
		if (cf & CM_TTL) { /* ip_cmsg_recv order: ... IP_TTL, IP_TOS */
			int ttl = mi.ttl;
			sock_cmsg_put(&co, SOL_IP, IP_TTL, &ttl, sizeof(ttl));
		}
		if (cf & CM_TOS)
			sock_cmsg_put(&co, SOL_IP, IP_TOS, &mi.tos, 1);
	}
	sock_cmsg_end(&co);
	return rc;
}

/* ---- names ---- */

int raw_sock_getsockname(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len)
{
	struct skiff_raw_sock *sk = s->dp;
	struct sockaddr_in sin;

	if (is6(s)) { /* inet6_getname: the protocol (raw) or id (ping) as the port */
		struct sockaddr_storage ss;
		socklen_t sl;
		uint32_t kif;
		rt_lock(s->rt, s->instance);
		kif = sk->bound_ifindex >= 0 ? sock_ifindex_to_kernel(rt_stack(s->rt, s->instance), sk->bound_ifindex) : 0;
		sl = sock_addr_make(AF_INET6, &sk->laddr, sk->ping ? sk->ident : sk->protocol, kif, &ss);
		rt_unlock(s->rt, s->instance);
		return sock_addr_out(&ss, (int)sl, addr, len);
	}
	rt_lock(s->rt, s->instance);
	/* inet_getname: inet_sport is the protocol for raw sockets, the id for ping */
	sock_sin_of(&sin, &sk->laddr, sk->ping ? sk->ident : sk->protocol);
	rt_unlock(s->rt, s->instance);
	return sock_addr_out(&sin, sizeof(sin), addr, len);
}

int raw_sock_getpeername(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len)
{
	(void)s;
	(void)addr;
	(void)len;
	return -ENOTCONN; /* inet_getname: no inet_dport on raw/ping sockets, even connected */
}

/* ---- options ---- */

static int put_optval(void *val, socklen_t *lenp, int len, const void *v, int lv)
{
	if (len > lv)
		len = lv;
	if (len) {
		if (!val)
			return -EFAULT;
		memcpy(val, v, (size_t)len);
	}
	*lenp = (socklen_t)len;
	return 0;
}

/* sk_attach_filter / sk_detach_filter: the program is checked as Linux checks
 * it (skiff_bpf_check) and run by the dataplane on each datagram (raw.c). */
static int set_filter(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct rref r = rref_of(s);
	struct sock_filter *prog = NULL;
	const struct sock_filter *old;
	struct sock_fprog fp;
	int rc;

	if (name == SO_ATTACH_FILTER) {
		if (len != sizeof(fp)) /* copy_bpf_fprog_from_user */
			return -EINVAL;
		memcpy(&fp, val, sizeof(fp));
		if (!fp.filter || fp.len == 0 || fp.len > BPF_MAXINSNS)
			return -EINVAL;
		prog = malloc((size_t)fp.len * sizeof(*prog));
		if (!prog)
			return -ENOMEM;
		memcpy(prog, fp.filter, (size_t)fp.len * sizeof(*prog));
		rc = skiff_bpf_check(prog, fp.len);
		if (rc) {
			free(prog);
			return rc;
		}
	}
	rt_lock(r.rt, r.inst);
	old = r.sk->filter;
	if (name == SO_DETACH_FILTER && !old) {
		rt_unlock(r.rt, r.inst);
		return -ENOENT;
	}
	r.sk->filter = prog;
	r.sk->filter_len = prog ? fp.len : 0;
	rt_unlock(r.rt, r.inst);
	free((void *)(uintptr_t)old);
	return 0;
}

/* sk_get_filter: *lenp counts instructions; 0 asks how many there are. */
static int get_filter(struct skiff_sock *s, void *val, socklen_t *lenp)
{
	struct rref r = rref_of(s);
	unsigned n;
	int rc = 0;

	rt_lock(r.rt, r.inst);
	n = r.sk->filter ? r.sk->filter_len : 0;
	if (n && *lenp) {
		if (*lenp < n)
			rc = -EINVAL;
		else if (!val)
			rc = -EFAULT;
		else
			memcpy(val, r.sk->filter, (size_t)n * sizeof(struct sock_filter));
	}
	rt_unlock(r.rt, r.inst);
	if (rc == 0)
		*lenp = n;
	return rc;
}

static int set_sol_socket(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct rref r = rref_of(s);
	int v, rc = 0;

	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	rc = sock_timeo_set(s, name, val, len);
	if (rc != 1)
		return rc;
	if (name == SO_ATTACH_FILTER || name == SO_DETACH_FILTER)
		return set_filter(s, name, val, len);
	rc = 0;
	switch (name) {
	case SO_REUSEADDR:
	case SO_BROADCAST:
	case SO_RCVBUF:
	case SO_SNDBUF:
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMPNS_OLD:
		break;
	default:
		return -ENOPROTOOPT;
	}
	memcpy(&v, val, sizeof(v));
	rt_lock(r.rt, r.inst);
	switch (name) {
	case SO_REUSEADDR:
		r.sk->reuseaddr = v != 0;
		break;
	case SO_BROADCAST:
		r.sk->broadcast = v != 0;
		break;
	case SO_RCVBUF:
		rc = skiff_raw_set_rcvbuf(r.st, r.sk, v);
		break;
	case SO_SNDBUF:
		rc = skiff_raw_set_sndbuf(r.st, r.sk, v);
		break;
	case SO_TIMESTAMP_OLD: /* sock_set_timestamp: one of the two at a time */
		r.sk->cmsg_flags = (uint8_t)((r.sk->cmsg_flags & ~(CM_TS | CM_TSNS)) | (v ? CM_TS : 0));
		break;
	case SO_TIMESTAMPNS_OLD:
		r.sk->cmsg_flags = (uint8_t)((r.sk->cmsg_flags & ~(CM_TS | CM_TSNS)) | (v ? CM_TSNS : 0));
		break;
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

static int set_sol_ip(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct rref r = rref_of(s);
	int v = 0;

	switch (name) {
	case IP_HDRINCL:
		if (s->type != SOCK_RAW)
			return -ENOPROTOOPT;
		break;
	case IP_TTL:
	case IP_TOS:
	case IP_MULTICAST_TTL:
	case IP_RECVERR:
	case IP_RECVTTL:
	case IP_RECVTOS:
	case IP_MTU_DISCOVER:
		break;
	default:
		return -ENOPROTOOPT;
	}
	/* do_ip_setsockopt: an int, or one unsigned byte; nothing means 0 */
	if (len >= sizeof(int)) {
		if (!val)
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
	} else if (len >= 1) {
		if (!val)
			return -EFAULT;
		v = *(const unsigned char *)val;
	}
	if (name == IP_TTL && (len < 1 || (v != -1 && (v < 1 || v > 255))))
		return -EINVAL;
	if (name == IP_MULTICAST_TTL) {
		if (len < 1)
			return -EINVAL;
		if (v == -1)
			v = 1;
		if (v < 0 || v > 255)
			return -EINVAL;
	}
	if (name == IP_MTU_DISCOVER && (v < 0 || v > 5)) /* IP_PMTUDISC_DONT .. IP_PMTUDISC_OMIT */
		return -EINVAL;
	rt_lock(r.rt, r.inst);
	switch (name) {
	case IP_HDRINCL:
		r.sk->hdrincl = v != 0;
		break;
	case IP_TTL:
		r.sk->ttl = v == -1 ? r.st->cfg.default_ttl : (uint8_t)v;
		break;
	case IP_TOS:
		r.sk->tos = (uint8_t)v;
		break;
	case IP_MULTICAST_TTL:
		r.sk->mcast_ttl = (uint8_t)v;
		break;
	case IP_RECVERR:
		skiff_raw_set_recverr(r.st, r.sk, v != 0);
		break;
	case IP_RECVTTL:
		r.sk->cmsg_flags = (uint8_t)(v ? r.sk->cmsg_flags | CM_TTL : r.sk->cmsg_flags & ~CM_TTL);
		break;
	case IP_RECVTOS:
		r.sk->cmsg_flags = (uint8_t)(v ? r.sk->cmsg_flags | CM_TOS : r.sk->cmsg_flags & ~CM_TOS);
		break;
	case IP_MTU_DISCOVER: /* INTERFACE/OMIT use the device MTU as PROBE does */
		r.sk->pmtudisc = (uint8_t)(v > SKIFF_PMTUDISC_PROBE ? SKIFF_PMTUDISC_PROBE : v);
		break;
	}
	rt_unlock(r.rt, r.inst);
	return 0;
}

/* IPv6 socket levels: rawv6_setsockopt (SOL_RAW, IPPROTO_ICMPV6, the raw part of
 * IPPROTO_IPV6) and ipv6_setsockopt for the options skiff's traffic uses. */
static int set_v6(struct skiff_sock *s, int level, int name, const void *val, socklen_t len)
{
	struct rref r = rref_of(s);
	bool raw = s->type == SOCK_RAW;
	int v = 0, rc = 0;

	if (level == IPPROTO_ICMPV6) {
		uint32_t f[8];
		if (!raw || name != LINUX_ICMP6_FILTER)
			return -ENOPROTOOPT;
		if (r.sk->protocol != IPPROTO_ICMPV6)
			return -EOPNOTSUPP; /* rawv6_setsockopt: ICMPv6 sockets only */
		if (len > sizeof(f)) /* rawv6_seticmpfilter: a short one fills the start */
			len = sizeof(f);
		if (len && !val)
			return -EFAULT;
		rt_lock(r.rt, r.inst);
		memcpy(f, r.sk->icmp6_filter, sizeof(f));
		memcpy(f, val, len);
		memcpy(r.sk->icmp6_filter, f, sizeof(f));
		rt_unlock(r.rt, r.inst);
		return 0;
	}
	if (level == SOL_RAW && (!raw || (name != LINUX_IPV6_CHECKSUM && name != LINUX_IPV6_HDRINCL)))
		return -ENOPROTOOPT;
	if (level != SOL_RAW && level != SOL_IPV6)
		return -ENOPROTOOPT; /* SOL_IP on an IPv6 raw socket: ENOPROTOOPT from the kernel too */
	if (level == SOL_IPV6 && name == IPV6_PKTINFO) { /* sticky (RFC 3542 6.1); all zero clears it */
		struct in6_pktinfo pi;
		if (len < sizeof(pi))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&pi, val, sizeof(pi));
		rt_lock(r.rt, r.inst);
		r.sk->sticky_kif = (uint32_t)pi.ipi6_ifindex;
		memcpy(r.sk->sticky_src, &pi.ipi6_addr, 16);
		rt_unlock(r.rt, r.inst);
		return 0;
	}
	switch (name) {
	case LINUX_IPV6_CHECKSUM:
	case LINUX_IPV6_HDRINCL:
		if (!raw)
			return -ENOPROTOOPT;
		break;
	case IPV6_UNICAST_HOPS:
	case IPV6_MULTICAST_HOPS:
	case IPV6_TCLASS:
	case IPV6_RECVHOPLIMIT:
	case IPV6_RECVTCLASS:
	case IPV6_RECVPKTINFO:
	case IPV6_RECVERR:
	case IPV6_MTU_DISCOVER:
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	if (name == LINUX_IPV6_CHECKSUM && r.sk->protocol == IPPROTO_ICMPV6 && level == SOL_IPV6)
		return -EINVAL; /* RFC 3542 3.1: not at level IPPROTO_IPV6 on ICMPv6 sockets */
	if ((name == IPV6_UNICAST_HOPS || name == IPV6_MULTICAST_HOPS || name == IPV6_TCLASS) && (v < -1 || v > 255))
		return -EINVAL;
	if (name == IPV6_MTU_DISCOVER && (v < 0 || v > 5)) /* IPV6_PMTUDISC_DONT .. OMIT */
		return -EINVAL;
	rt_lock(r.rt, r.inst);
	switch (name) {
	case LINUX_IPV6_CHECKSUM:
		rc = skiff_raw6_set_checksum(r.sk, v);
		break;
	case LINUX_IPV6_HDRINCL:
		r.sk->hdrincl = v != 0;
		break;
	case IPV6_UNICAST_HOPS:
		r.sk->uhops = (int16_t)v;
		break;
	case IPV6_MULTICAST_HOPS:
		r.sk->mcast_ttl = (uint8_t)(v == -1 ? 1 : v);
		break;
	case IPV6_TCLASS: /* RFC 3542 6.5: -1 is the default, 0 */
		r.sk->tos = (uint8_t)(v == -1 ? 0 : v);
		break;
	case IPV6_RECVHOPLIMIT:
		r.sk->cmsg_flags = (uint8_t)(v ? r.sk->cmsg_flags | CM_TTL : r.sk->cmsg_flags & ~CM_TTL);
		break;
	case IPV6_RECVTCLASS:
		r.sk->cmsg_flags = (uint8_t)(v ? r.sk->cmsg_flags | CM_TOS : r.sk->cmsg_flags & ~CM_TOS);
		break;
	case IPV6_RECVPKTINFO:
		r.sk->cmsg_flags = (uint8_t)(v ? r.sk->cmsg_flags | CM_PKTINFO6 : r.sk->cmsg_flags & ~CM_PKTINFO6);
		break;
	case IPV6_RECVERR:
		skiff_raw_set_recverr(r.st, r.sk, v != 0);
		break;
	case IPV6_MTU_DISCOVER: /* kept as given: raw6.c reads INTERFACE and OMIT too */
		r.sk->pmtudisc = (uint8_t)v;
		break;
	}
	rt_unlock(r.rt, r.inst);
	return rc;
}

static int get_v6(struct skiff_sock *s, int level, int name, void *val, socklen_t *lenp, int len)
{
	struct rref r = rref_of(s);
	bool raw = s->type == SOCK_RAW;
	int v = 0;

	if (level == IPPROTO_ICMPV6) {
		uint32_t f[8];
		if (!raw || name != LINUX_ICMP6_FILTER)
			return -ENOPROTOOPT;
		if (r.sk->protocol != IPPROTO_ICMPV6)
			return -EOPNOTSUPP;
		rt_lock(r.rt, r.inst);
		memcpy(f, r.sk->icmp6_filter, sizeof(f));
		rt_unlock(r.rt, r.inst);
		return put_optval(val, lenp, len, f, (int)sizeof(f));
	}
	if (level == SOL_RAW && (!raw || (name != LINUX_IPV6_CHECKSUM && name != LINUX_IPV6_HDRINCL)))
		return -ENOPROTOOPT;
	if (level != SOL_RAW && level != SOL_IPV6)
		return -EOPNOTSUPP;
	rt_lock(r.rt, r.inst);
	switch (name) {
	case LINUX_IPV6_CHECKSUM:
		v = raw ? (r.sk->checksum ? r.sk->csum_off : -1) : INT_MIN;
		break;
	case LINUX_IPV6_HDRINCL:
		v = raw ? r.sk->hdrincl : INT_MIN;
		break;
	case IPV6_UNICAST_HOPS:
		v = r.sk->uhops >= 0 ? r.sk->uhops : r.st->cfg.default_hop_limit;
		break;
	case IPV6_MULTICAST_HOPS:
		v = r.sk->mcast_ttl;
		break;
	case IPV6_TCLASS:
		v = r.sk->tos;
		break;
	case IPV6_RECVHOPLIMIT:
		v = (r.sk->cmsg_flags & CM_TTL) != 0;
		break;
	case IPV6_RECVTCLASS:
		v = (r.sk->cmsg_flags & CM_TOS) != 0;
		break;
	case IPV6_RECVPKTINFO:
		v = (r.sk->cmsg_flags & CM_PKTINFO6) != 0;
		break;
	case IPV6_RECVERR:
		v = r.sk->recverr;
		break;
	case IPV6_MTU_DISCOVER:
		v = r.sk->pmtudisc;
		break;
	default:
		v = INT_MIN;
		break;
	}
	rt_unlock(r.rt, r.inst);
	if (v == INT_MIN)
		return -ENOPROTOOPT;
	return put_optval(val, lenp, len, &v, (int)sizeof(int));
}

int raw_sock_setsockopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len)
{
	struct rref r = rref_of(s);

	if ((int)len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET)
		return set_sol_socket(s, name, val, len);
	if (is6(s))
		return set_v6(s, level, name, val, len);
	if (level == SOL_IP)
		return set_sol_ip(s, name, val, len);
	if (level == SOL_RAW && s->type == SOCK_RAW) {
		uint32_t f = 0;
		if (name != LINUX_ICMP_FILTER)
			return -ENOPROTOOPT;
		if (r.sk->protocol != IPPROTO_ICMP)
			return -EOPNOTSUPP; /* raw_seticmpfilter: ICMP sockets only */
		if (len > sizeof(f))
			len = sizeof(f);
		if (len && !val)
			return -EFAULT;
		memcpy(&f, val, len);
		rt_lock(r.rt, r.inst);
		r.sk->icmp_filter = f;
		rt_unlock(r.rt, r.inst);
		return 0;
	}
	return -ENOPROTOOPT;
}

int raw_sock_getsockopt(struct skiff_sock *s, int level, int name, void *val, socklen_t *lenp)
{
	struct rref r = rref_of(s);
	union {
		int i;
		uint32_t u;
		unsigned char tv[32];
	} v;
	int len, lv = (int)sizeof(int);

	if (!lenp)
		return -EFAULT;
	len = (int)*lenp;
	if (len < 0)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	if (level == SOL_SOCKET && name == SO_GET_FILTER)
		return get_filter(s, val, lenp);
	if (level == SOL_SOCKET) {
		int t = sock_timeo_get(s, name, &v);
		if (t)
			return put_optval(val, lenp, len, &v, t);
		rt_lock(r.rt, r.inst);
		switch (name) {
		case SO_TYPE:
			v.i = s->type;
			break;
		case SO_DOMAIN:
			v.i = s->domain;
			break;
		case SO_PROTOCOL:
			v.i = r.sk->protocol;
			break;
		case SO_ACCEPTCONN:
			v.i = 0;
			break;
		case SO_ERROR:
			v.i = skiff_raw_take_error(r.sk);
			break;
		case SO_REUSEADDR:
			v.i = r.sk->reuseaddr;
			break;
		case SO_BROADCAST:
			v.i = r.sk->broadcast;
			break;
		case SO_RCVBUF:
			v.i = (int)r.sk->rcvbuf;
			break;
		case SO_SNDBUF:
			v.i = (int)r.sk->sndbuf;
			break;
		case SO_TIMESTAMP_OLD:
			v.i = (r.sk->cmsg_flags & CM_TS) != 0;
			break;
		case SO_TIMESTAMPNS_OLD:
			v.i = (r.sk->cmsg_flags & CM_TSNS) != 0;
			break;
		default:
			lv = -1;
			break;
		}
		rt_unlock(r.rt, r.inst);
		return lv < 0 ? -ENOPROTOOPT : put_optval(val, lenp, len, &v, lv);
	}
	if (is6(s))
		return get_v6(s, level, name, val, lenp, len);
	if (level == SOL_IP) {
		rt_lock(r.rt, r.inst);
		switch (name) {
		case IP_HDRINCL:
			v.i = r.sk->hdrincl;
			break;
		case IP_TTL:
			v.i = r.sk->ttl;
			break;
		case IP_TOS:
			v.i = r.sk->tos;
			break;
		case IP_MULTICAST_TTL:
			v.i = r.sk->mcast_ttl;
			break;
		case IP_RECVERR:
			v.i = r.sk->recverr;
			break;
		case IP_RECVTTL:
			v.i = (r.sk->cmsg_flags & CM_TTL) != 0;
			break;
		case IP_RECVTOS:
			v.i = (r.sk->cmsg_flags & CM_TOS) != 0;
			break;
		case IP_MTU_DISCOVER:
			v.i = r.sk->pmtudisc;
			break;
		default:
			lv = -1;
			break;
		}
		rt_unlock(r.rt, r.inst);
		if (lv < 0)
			return -ENOPROTOOPT;
		if (len < (int)sizeof(int) && len > 0 && v.i >= 0 && v.i <= 255) { /* do_ip_getsockopt: one byte */
			unsigned char uc = (unsigned char)v.i;
			if (!val)
				return -EFAULT;
			*lenp = 1;
			memcpy(val, &uc, 1);
			return 0;
		}
		return put_optval(val, lenp, len, &v, lv);
	}
	if (level == SOL_RAW && s->type == SOCK_RAW) {
		if (name != LINUX_ICMP_FILTER)
			return -ENOPROTOOPT;
		if (r.sk->protocol != IPPROTO_ICMP)
			return -EOPNOTSUPP;
		rt_lock(r.rt, r.inst);
		v.u = r.sk->icmp_filter;
		rt_unlock(r.rt, r.inst);
		return put_optval(val, lenp, len, &v, (int)sizeof(uint32_t));
	}
	return -EOPNOTSUPP; /* ip_getsockopt: another level */
}
