/* sock_mcast6.h — IPv6 multicast socket options of skiff UDP sockets and the
 * deferred-socket decision they make (sock_mcast6.c); the IPv4 ones are
 * sock_mcast.h's.
 */
#ifndef SKIFF_SOCKETAPI_SOCK_MCAST6_H
#define SKIFF_SOCKETAPI_SOCK_MCAST6_H

#include <stdbool.h>
#include <sys/socket.h>

struct skiff_sock;
struct skiff_rt;

/* Is name (level SOL_IPV6) one of the options sock_mcast6.c serves? */
bool sock_mcast6_is_opt(int name);
/* setsockopt / getsockopt of those options on a skiff AF_INET6 UDP socket: 0 / -errno as Linux. */
int sock_mcast6_set(struct skiff_sock *s, int name, const void *val, socklen_t len);
int sock_mcast6_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp);
/* defer.c: does this SOL_IPV6 setsockopt on a deferred socket make it skiff's?
 * A join (IPV6_JOIN_GROUP, MCAST_JOIN_GROUP, MCAST_JOIN_SOURCE_GROUP) or
 * IPV6_MULTICAST_IF naming a skiff interface by kernel index, or a join with
 * index 0 whose group the kernel routes through a skiff interface's twin. */
bool sock_mcast6_defer_decides(struct skiff_rt *rt, int instance, int level, int name, const void *val,
			       socklen_t len);

#endif
