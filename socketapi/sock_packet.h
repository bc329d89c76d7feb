/* sock_packet.h — AF_PACKET sockets at the POSIX edge (sock_packet.c). The hooks
 * the shared call paths use: each hook is reached only for a fd that is not a
 * stack socket (fdt_get found nothing), and a fd that is not a packet socket
 * costs one table lookup. */
#ifndef SKIFF_SOCKETAPI_SOCK_PACKET_H
#define SKIFF_SOCKETAPI_SOCK_PACKET_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct skiff_sock;
struct skiff_fd;

/* Preload socket(AF_PACKET, ...): the kernel's socket (its EPERM, its fd), recorded
 * as a packet socket that is still the kernel's until bind names a bypass
 * interface. fd or -1 + errno. */
int sock_packet_socket(int domain, int type, int protocol);

/* Is fd a packet socket (pending or skiff's)? Then the call goes to the
 * sock_packet_* function of the same name (which hands a pending one's calls to
 * the kernel). */
bool sock_packet_fd(int fd);
/* fd's entry when skiff serves the packet socket (a reference to fdt_put), else NULL. */
struct skiff_fd *sock_packet_entry(int fd);
/* For poll/epoll on a skiff packet socket (the _locked ones under the instance lock). */
short sock_packet_revents(struct skiff_sock *s);
short sock_packet_revents_locked(struct skiff_sock *s);
uint32_t sock_packet_wake_seq_locked(struct skiff_sock *s);
/* A packet socket skiff serves (false: pending, the kernel socket answers polls). */
bool sock_packet_attached(const struct skiff_sock *s);

/* POSIX edge: -1 + errno on failure. */
int sock_packet_bind(int fd, const struct sockaddr *addr, socklen_t len);
ssize_t sock_packet_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen);
ssize_t sock_packet_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t sock_packet_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen);
ssize_t sock_packet_recvmsg(int fd, struct msghdr *msg, int flags);
int sock_packet_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int sock_packet_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int sock_packet_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int sock_packet_ioctl(int fd, unsigned long req, void *arg);
/* mmap of a skiff packet socket's fd: its PACKET_RX_RING (other fds: the kernel's mmap). */
void *sock_packet_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

#endif
