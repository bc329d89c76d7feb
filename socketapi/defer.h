/* defer.h — sockets that decide late where they live (DESIGN.md socketapi/:
 * "socket() decides nothing until it must").
 *
 * The preload library makes every AF_INET stream/datagram socket a DEFERRED
 * entry: only its kernel socket exists, and every call goes to the kernel, until
 * a call shows where its traffic goes:
 *   bind to an address of a bypass interface, or to INADDR_ANY with a port the
 *     [offload] ports list names                                → skiff
 *   bind to INADDR_ANY with another port (or 0) → the kernel binds (and picks
 *     port 0's number); the socket stays undecided and keeps that port if it
 *     later moves to skiff
 *   connect / sendto a destination routed through a bypass interface → skiff;
 *     to 127/8 (loopback on) only when the stack holds the listener or bound
 *     UDP socket there (else it is another process's, in the kernel)
 *   anything else (other addresses, listen without such a bind)   → the kernel
 * Moving to skiff happens in place (the same struct skiff_sock, so dup'd fds and
 * epoll registrations follow): the dataplane socket is attached, O_NONBLOCK is
 * taken from the kernel fd and the options set so far are replayed (an option
 * skiff does not have is skipped: the kernel accepted it). Moving to the kernel
 * drops the entries: the fd is then a plain kernel socket with no skiff cost.
 */
#ifndef SKIFF_SOCKETAPI_DEFER_H
#define SKIFF_SOCKETAPI_DEFER_H

#include <stdbool.h>
#include <sys/socket.h>

#include "config.h"

struct skiff_rt;

/* Where deferred sockets may go: one runtime instance and the config's offload
 * policy (copied). rt NULL: deferral off (every socket stays the kernel's). */
void sock_defer_set_policy(struct skiff_rt *rt, int instance, const struct skiff_config *cfg);

/* POSIX edge: socket(2); an AF_INET SOCK_STREAM/SOCK_DGRAM (TCP/UDP) socket is
 * recorded as deferred when a policy is set. fd or -1 + errno. */
int skiff_socket_deferred(int domain, int type, int protocol);

enum sock_defer_op { DEFER_BIND, DEFER_CONNECT, DEFER_SENDTO, DEFER_LISTEN };

/* If fd is deferred, decide for this call. Returns 0 (go on: the fd is now a
 * stack socket, a kernel one, or still deferred and the call is the kernel's),
 * 1 (the call was done here: a kernel bind to INADDR_ANY:0) or -errno. */
int sock_defer_resolve(int fd, enum sock_defer_op op, const struct sockaddr *addr, socklen_t len);

/* setsockopt on a deferred fd: the kernel's answer, and recorded for replay.
 * Returns 0/-errno, or 1 when fd is not deferred. */
int sock_defer_setsockopt(int fd, int level, int name, const void *val, socklen_t len);

#endif
