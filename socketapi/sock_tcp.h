/* sock_tcp.h — the socket layer's TCP calls (sock_tcp.c), for api.c, sock_udp.c
 * (which dispatches SKIFF_FD_TCP fds here at the top of each entry point) and
 * sock_opts.c.
 *
 * A skiff TCP socket's `dp` is a struct tcp_usock (not the TCB itself): the TCB
 * pointer with the generation it had when the socket layer took it (the dataplane
 * may recycle a TCB on its own — TIME-WAIT ending, a new incarnation — so every use
 * checks in_use + gen, and a TCB that went away reads as CLOSED after tcp_done),
 * plus Linux's struct socket state (SS_UNCONNECTED/CONNECTING/CONNECTED) and the
 * user's shutdown bits, which Linux keeps in sk_shutdown even where the dataplane
 * does not.
 * All functions return 0 / a count or -errno; they take the instance lock
 * themselves unless said otherwise.
 */
#ifndef SKIFF_SOCKETAPI_SOCK_TCP_H
#define SKIFF_SOCKETAPI_SOCK_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "dataplane/tcp.h"

struct skiff_sock;
struct skiff_rt;

enum { TSS_UNCONNECTED, TSS_CONNECTING, TSS_CONNECTED };

struct tcp_usock {
	struct skiff_tcp_sock *sk; /* NULL once let go */
	uint32_t gen;
	uint8_t sstate;            /* TSS_* (Linux sock->state) */
	bool started;              /* a connection was attempted or accepted: CLOSED now means tcp_done ran */
	bool shut_rd, shut_wr;     /* the user's shutdown bits (sk_shutdown) */
};

/* The live TCB behind s, or NULL (lock held). */
struct skiff_tcp_sock *tcp_sock_tcb(struct skiff_sock *s);

/* Make s (a DEFERRED socket whose dp the caller has taken back) a TCP socket on
 * (rt, instance) in place: kind is published last. 0 or -errno (s unchanged). */
int tcp_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance);
short tcp_sock_revents(struct skiff_sock *s);
short tcp_sock_revents_locked(struct skiff_sock *s); /* instance lock held */
/* The TCB's readiness-event count (epoll's edges; lock held). */
uint32_t tcp_sock_wake_seq_locked(struct skiff_sock *s);
/* SIOCINQ: readable bytes; -EINVAL on a listener. */
int tcp_sock_inq(struct skiff_sock *s);

int tcp_sock_bind(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len);
int tcp_sock_connect(struct skiff_sock *s, const struct sockaddr *addr, socklen_t len);
int tcp_sock_listen(struct skiff_sock *s, int backlog);
/* The new fd or -errno. */
int tcp_sock_accept(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len, int flags);
long tcp_sock_send(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags);
/* *mflags: msg_flags for recvmsg (0: TCP reports none of MSG_TRUNC/MSG_EOR). */
long tcp_sock_recv(struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, int *mflags);
int tcp_sock_shutdown(struct skiff_sock *s, int how);
int tcp_sock_getsockname(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len);
int tcp_sock_getpeername(struct skiff_sock *s, struct sockaddr *addr, socklen_t *len);

#endif
