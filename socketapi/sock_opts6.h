/* sock_opts6.h — SOL_IPV6 options of skiff's AF_INET6 UDP sockets (sock_opts6.c). */
#ifndef SKIFF_SOCKETAPI_SOCK_OPTS6_H
#define SKIFF_SOCKETAPI_SOCK_OPTS6_H

#include <sys/socket.h>

struct skiff_sock;

/* 0 or -errno; -ENOPROTOOPT for an option skiff does not act on (the caller
 * may then hand it to the reserved kernel socket). */
int sock_ipv6_set(struct skiff_sock *s, int name, const void *val, socklen_t len);
int sock_ipv6_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp);

#endif
