/* sock_raw.h — the POSIX surface of raw IP sockets (SOCK_RAW) and ICMP ping
 * sockets (SOCK_DGRAM + IPPROTO_ICMP, IPPROTO_ICMPV6), IPv4 and IPv6: sock_raw.c. The skiff_* entry points
 * (sock_udp.c, sock_opts.c, api.c, epoll.c) hand a SKIFF_FD_RAW socket here.
 * Every function takes the fd-table socket; errors are -errno.
 */
#ifndef SKIFF_SOCKETAPI_SOCK_RAW_H
#define SKIFF_SOCKETAPI_SOCK_RAW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

struct skiff_sock;
struct skiff_rt;

/* A raw or ping socket of the domain/type/protocol s already carries? */
static inline bool raw_sock_kind(int domain, int base_type, int protocol)
{
	if (domain == AF_INET6) /* IPv6 raw sockets and ping6 (IPPROTO_ICMPV6) */
		return (base_type == SOCK_RAW && protocol > 0 && protocol < 256) ||
		       (base_type == SOCK_DGRAM && protocol == 58 /* IPPROTO_ICMPV6 */);
	return domain == AF_INET && ((base_type == SOCK_RAW && protocol > 0 && protocol < 256) ||
				     (base_type == SOCK_DGRAM && protocol == 1 /* IPPROTO_ICMP */));
}

/* api.c socket(): a raw/ping socket on (rt, instance) for the reserved kernel fd
 * kfd (type with SOCK_NONBLOCK/SOCK_CLOEXEC), recorded in the fd table. 0 or
 * -errno (the caller still owns kfd). */
int raw_sock_open(struct skiff_rt *rt, int instance, int kfd, int domain, int type, int protocol);
/* Make s (DEFERRED, dp taken back; s->type/protocol set) a raw socket in place. */
int raw_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance);
short raw_sock_revents(struct skiff_sock *s);
short raw_sock_revents_locked(struct skiff_sock *s);
uint32_t raw_sock_wake_seq_locked(struct skiff_sock *s);
int raw_sock_next_len(struct skiff_sock *s);

int raw_sock_bind(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len);
int raw_sock_connect(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len);
/* name: the destination already copied in (NULL: none); ctl: the msghdr whose
 * control buffer carries IP_TTL/IP_TOS (NULL for send/sendto). Bytes or -errno. */
long raw_sock_send(struct skiff_sock *s, const struct iovec *iov, int iovcnt, const struct sockaddr_storage *name,
		   socklen_t namelen, const struct msghdr *ctl, int flags);
/* recvfrom: *from gets the sender (sockaddr_in, or sockaddr_in6 with its scope
 * on an AF_INET6 socket) and *fromlen its length, *mflags MSG_TRUNC. */
long raw_sock_recv(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, struct sockaddr_storage *from,
		   socklen_t *fromlen, int *mflags);
/* recvmsg: name, msg_flags and the control messages (SO_TIMESTAMP(NS),
 * IP_TTL, IP_TOS, IP_RECVERR with MSG_ERRQUEUE) filled as Linux does. */
long raw_sock_recvmsg(struct skiff_sock *s, struct msghdr *msg, int flags);
int raw_sock_getsockname(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len);
int raw_sock_getpeername(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len);
/* -ENOPROTOOPT/-EOPNOTSUPP for what skiff lacks: the caller asks the kernel socket. */
int raw_sock_setsockopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len);
int raw_sock_getsockopt(struct skiff_sock *s, int level, int name, void *val, socklen_t *len);

/* sock_opts.c: SO_RCVTIMEO/SO_SNDTIMEO (old and new layouts) for any kind.
 * set: 0/-errno, 1 when name is not a timeout; get: the value's size written
 * to v (>= 16 bytes), 0 when name is not a timeout. */
int sock_timeo_set(struct skiff_sock *s, int name, const void *val, socklen_t len);
int sock_timeo_get(struct skiff_sock *s, int name, void *v);

#endif
