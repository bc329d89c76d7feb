/* preload_calls.h — the calls the LD_PRELOAD library intercepts, as X-macro
 * lists (F-Stack's ff_declare_syscalls.h habit; the next symbol comes from
 * dlsym(RTLD_NEXT), never a dlopen of libc).
 *
 * PRELOAD_FD_CALLS: calls routed by their first fd argument: a fd with no
 *   entry in skiff's table goes to libc at once; otherwise skiff_<name>.
 *   X(ret, name, params, libc args, skiff args, fd)
 * PRELOAD_OWN_CALLS: calls with their own routing in preload.c; only the libc
 *   pointer is declared from here.  X(ret, name, params)
 *
 * Socket-address arguments are glibc's transparent unions (_GNU_SOURCE); SA()
 * takes the pointer out for skiff's plain struct sockaddr prototypes.
 */
#ifndef SKIFF_SOCKETAPI_PRELOAD_CALLS_H
#define SKIFF_SOCKETAPI_PRELOAD_CALLS_H

#define PRELOAD_FD_CALLS(X)                                                                                           \
	X(int, bind, (int fd, __CONST_SOCKADDR_ARG a, socklen_t l), (fd, a, l), (fd, SA(a), l), fd)                   \
	X(int, connect, (int fd, __CONST_SOCKADDR_ARG a, socklen_t l), (fd, a, l), (fd, SA(a), l), fd)                \
	X(int, listen, (int fd, int backlog), (fd, backlog), (fd, backlog), fd)                                      \
	X(int, accept, (int fd, __SOCKADDR_ARG a, socklen_t *l), (fd, a, l), (fd, SA(a), l), fd)                     \
	X(int, accept4, (int fd, __SOCKADDR_ARG a, socklen_t *l, int f), (fd, a, l, f), (fd, SA(a), l, f), fd)        \
	X(int, getsockname, (int fd, __SOCKADDR_ARG a, socklen_t *l), (fd, a, l), (fd, SA(a), l), fd)                \
	X(int, getpeername, (int fd, __SOCKADDR_ARG a, socklen_t *l), (fd, a, l), (fd, SA(a), l), fd)                \
	X(int, getsockopt, (int fd, int lv, int n, void *v, socklen_t *l), (fd, lv, n, v, l), (fd, lv, n, v, l), fd) \
	X(int, setsockopt, (int fd, int lv, int n, const void *v, socklen_t l), (fd, lv, n, v, l),                    \
	  (fd, lv, n, v, l), fd)                                                                                      \
	X(int, shutdown, (int fd, int how), (fd, how), (fd, how), fd)                                                \
	X(ssize_t, send, (int fd, const void *b, size_t n, int f), (fd, b, n, f), (fd, b, n, f), fd)                  \
	X(ssize_t, sendto, (int fd, const void *b, size_t n, int f, __CONST_SOCKADDR_ARG a, socklen_t l),             \
	  (fd, b, n, f, a, l), (fd, b, n, f, SA(a), l), fd)                                                           \
	X(ssize_t, sendmsg, (int fd, const struct msghdr *m, int f), (fd, m, f), (fd, m, f), fd)                      \
	X(int, sendmmsg, (int fd, struct mmsghdr *v, unsigned int n, int f), (fd, v, n, f), (fd, v, n, f), fd)        \
	X(ssize_t, recv, (int fd, void *b, size_t n, int f), (fd, b, n, f), (fd, b, n, f), fd)                        \
	X(ssize_t, recvfrom, (int fd, void *b, size_t n, int f, __SOCKADDR_ARG a, socklen_t *l),                      \
	  (fd, b, n, f, a, l), (fd, b, n, f, SA(a), l), fd)                                                           \
	X(ssize_t, recvmsg, (int fd, struct msghdr *m, int f), (fd, m, f), (fd, m, f), fd)                            \
	X(int, recvmmsg, (int fd, struct mmsghdr *v, unsigned int n, int f, struct timespec *t), (fd, v, n, f, t),     \
	  (fd, v, n, f, t), fd)                                                                                       \
	X(ssize_t, read, (int fd, void *b, size_t n), (fd, b, n), (fd, b, n), fd)                                     \
	X(ssize_t, write, (int fd, const void *b, size_t n), (fd, b, n), (fd, b, n), fd)                              \
	X(ssize_t, readv, (int fd, const struct iovec *v, int n), (fd, v, n), (fd, v, n), fd)                         \
	X(ssize_t, writev, (int fd, const struct iovec *v, int n), (fd, v, n), (fd, v, n), fd)                        \
	X(int, close, (int fd), (fd), (fd), fd)                                                                      \
	X(int, dup, (int fd), (fd), (fd), fd)                                                                        \
	X(ssize_t, sendfile, (int out, int in, off_t *off, size_t n), (out, in, off, n), (out, in, off, n), out)      \
	X(int, epoll_ctl, (int ep, int op, int fd, struct epoll_event *e), (ep, op, fd, e), (ep, op, fd, e), ep)     \
	X(int, epoll_wait, (int ep, struct epoll_event *e, int n, int t), (ep, e, n, t), (ep, e, n, t), ep)          \
	X(int, epoll_pwait, (int ep, struct epoll_event *e, int n, int t, const sigset_t *m), (ep, e, n, t, m),       \
	  (ep, e, n, t, m), ep)                                                                                       \
	X(int, epoll_pwait2, (int ep, struct epoll_event *e, int n, const struct timespec *t, const sigset_t *m),     \
	  (ep, e, n, t, m), (ep, e, n, t, m), ep)

#define PRELOAD_OWN_CALLS(X)                                                                                          \
	X(int, socket, (int d, int t, int p))                                                                        \
	X(int, socketpair, (int d, int t, int p, int sv[2]))                                                         \
	X(int, dup2, (int fd, int nfd))                                                                              \
	X(int, dup3, (int fd, int nfd, int f))                                                                       \
	X(int, fcntl, (int fd, int cmd, ...))                                                                        \
	X(int, fcntl64, (int fd, int cmd, ...))                                                                      \
	X(int, ioctl, (int fd, unsigned long req, ...))                                                              \
	X(int, poll, (struct pollfd * f, nfds_t n, int t))                                                           \
	X(int, ppoll, (struct pollfd * f, nfds_t n, const struct timespec *t, const sigset_t *m))                    \
	X(int, select, (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *t))                                  \
	X(int, pselect, (int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *m))       \
	X(int, epoll_create, (int size))                                                                             \
	X(int, epoll_create1, (int flags))                                                                           \
	X(ssize_t, sendfile64, (int out, int in, off_t *off, size_t n))                                              \
	X(void *, mmap, (void *a, size_t l, int p, int f, int fd, off_t o))                                           \
	X(void *, mmap64, (void *a, size_t l, int p, int f, int fd, off_t o))                                         \
	X(pid_t, fork, (void))                                                                                       \
	X(int, sigaction, (int sig, const struct sigaction *act, struct sigaction *old))                              \
	X(__sighandler_t, signal, (int sig, __sighandler_t h))                                                       \
	X(ssize_t, __read_chk, (int fd, void *b, size_t n, size_t bl))                                              \
	X(ssize_t, __recv_chk, (int fd, void *b, size_t n, size_t bl, int f))                                        \
	X(ssize_t, __recvfrom_chk, (int fd, void *b, size_t n, size_t bl, int f, __SOCKADDR_ARG a, socklen_t *l))    \
	X(int, __poll_chk, (struct pollfd * f, nfds_t n, int t, size_t fl))                                          \
	X(int, __ppoll_chk, (struct pollfd * f, nfds_t n, const struct timespec *t, const sigset_t *m, size_t fl))

#endif
