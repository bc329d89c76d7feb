/* skiff.h — skiff's native socket API.
 *
 * Every call mirrors its POSIX namesake: same arguments, same results, -1 + errno
 * on failure with the errno Linux gives. A skiff socket is a real kernel fd number
 * (reserved with a kernel socket of the same domain/type, so numbers never collide
 * and the kernel validates domain/type/protocol exactly as socket(2) does) plus an
 * entry in skiff's fd table. Calls on fds skiff does not own go to the kernel
 * unchanged, so these functions can be used for every fd of a program.
 *
 * A runtime groups stack instances with their devices. skiff_socket() creates on
 * the calling thread's current instance (skiff_rt_use()); skiff_socket_on() names
 * one. Blocking calls busy-poll the instance for the configured budget, then sleep
 * on the devices' wakeup fds until data, a timer or the timeout.
 *
 * This slice: AF_INET SOCK_DGRAM (UDP) and SOCK_STREAM (TCP) on skiff; every
 * other domain/type goes to the kernel. TCP data goes through skiff_send/recv/
 * sendto/recvfrom/sendmsg/recvmsg as for UDP; skiff_poll serves both.
 *
 * The skiff_rt_* calls return 0 (or an id) or -errno; the socket calls return
 * -1 + errno. skiff_socket() with no runtime, or a runtime without instances,
 * fails with ENETDOWN. Instances whose devices share state (the two ends of a
 * loop pair) are put under one lock automatically. With a replaced clock every
 * timeout is measured in that clock, and blocking calls re-read it at least
 * every millisecond of real time.
 */
#ifndef SKIFF_SKIFF_H
#define SKIFF_SKIFF_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct skiff_rt;
struct skiff_stack;
struct skiff_dev;

/* ---- runtime ---- */
int skiff_rt_create(struct skiff_rt **out);
/* Destroys the runtime: closes its skiff sockets, but not the stacks or devices it was given.
 * No other thread may be inside a skiff call on this runtime's sockets, or make one
 * after (as with free(3)); a runtime normally lives until the process exits. */
void skiff_rt_destroy(struct skiff_rt *rt);
/* Adds a stack whose interface i is served by devs[i]. Returns the instance id (>= 0) or -errno. */
int skiff_rt_attach(struct skiff_rt *rt, struct skiff_stack *st, struct skiff_dev *const *devs, unsigned ndevs);
/* Select the instance skiff_socket() uses on this thread (default 0). */
int skiff_rt_use(struct skiff_rt *rt, int instance);
/* Busy-poll budget before a blocking call sleeps, in microseconds (default 50). */
void skiff_rt_set_busy_poll(struct skiff_rt *rt, unsigned usec);
/* Replace the clock (ns, monotonic) — for simulations. Default CLOCK_MONOTONIC. */
void skiff_rt_set_clock(struct skiff_rt *rt, uint64_t (*now)(void *ctx), void *ctx);
/* Drive every instance once: receive, run timers, transmit. Returns work done (frames). */
int skiff_rt_progress(struct skiff_rt *rt);
/* Start (on != 0) or stop a background thread that drives the instances while no
 * application thread is inside a skiff call or waiting in one, so ACKs,
 * retransmissions, timers and ARP go on while the program computes. 0 or -errno. */
int skiff_rt_progress_thread(struct skiff_rt *rt, int on);
/* The stack behind an instance (for counters and configuration). */
struct skiff_stack *skiff_rt_stack(struct skiff_rt *rt, int instance);

/* ---- sockets ---- */
int skiff_socket(int domain, int type, int protocol);
int skiff_socket_on(struct skiff_rt *rt, int instance, int domain, int type, int protocol);
int skiff_bind(int fd, const struct sockaddr *addr, socklen_t len);
int skiff_connect(int fd, const struct sockaddr *addr, socklen_t len);
int skiff_listen(int fd, int backlog);
int skiff_accept(int fd, struct sockaddr *addr, socklen_t *len);
/* flags: SOCK_NONBLOCK | SOCK_CLOEXEC for the new fd. */
int skiff_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. */
int skiff_shutdown(int fd, int how);
ssize_t skiff_send(int fd, const void *buf, size_t len, int flags);
ssize_t skiff_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t skiff_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t skiff_recv(int fd, void *buf, size_t len, int flags);
ssize_t skiff_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
ssize_t skiff_recvmsg(int fd, struct msghdr *msg, int flags);
int skiff_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int skiff_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int skiff_fcntl(int fd, int cmd, ... /* int arg */);
int skiff_ioctl(int fd, unsigned long req, ... /* void *arg */);
int skiff_close(int fd);
int skiff_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);
int skiff_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *sigmask);
int skiff_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv);
int skiff_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tmo, const sigset_t *sigmask);
/* epoll over any mix of skiff and kernel fds (epoll.c): level and edge triggered,
 * EPOLLONESHOT; EPOLLEXCLUSIVE is accepted. */
int skiff_epoll_create(int size);
int skiff_epoll_create1(int flags);
int skiff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
int skiff_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);
int skiff_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms, const sigset_t *sigmask);
/* The timespec timeout is rounded up to whole milliseconds for skiff's items. */
int skiff_epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *tmo,
		       const sigset_t *sigmask);

/* ---- the rest of the fd calls, for every fd of a program ---- */
ssize_t skiff_read(int fd, void *buf, size_t len);
ssize_t skiff_write(int fd, const void *buf, size_t len);
ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt);
int skiff_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags);
int skiff_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout);
ssize_t skiff_sendfile(int out_fd, int in_fd, off_t *offset, size_t count);
int skiff_dup(int fd);
int skiff_dup2(int fd, int newfd);
int skiff_dup3(int fd, int newfd, int flags);
/* Is fd a skiff socket? */
int skiff_is_socket(int fd);

#ifdef __cplusplus
}
#endif
#endif
