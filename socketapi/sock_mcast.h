/* sock_mcast.h — IPv4 multicast socket options, the deferred-socket decision
 * they make, and the driver filter sync (sock_mcast.c).
 */
#ifndef SKIFF_SOCKETAPI_SOCK_MCAST_H
#define SKIFF_SOCKETAPI_SOCK_MCAST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct skiff_sock;
struct skiff_rt;
struct skiff_stack;
struct skiff_dev;

/* Is name (level SOL_IP) one of the options sock_mcast.c serves? */
bool sock_mcast_is_opt(int name);
/* setsockopt / getsockopt of those options on a skiff UDP socket: 0 / -errno as Linux. */
int sock_mcast_set(struct skiff_sock *s, int name, const void *val, socklen_t len);
int sock_mcast_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp);

/* defer.c: does this setsockopt on a deferred socket make it skiff's? A join
 * (IP_ADD_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_GROUP,
 * MCAST_JOIN_SOURCE_GROUP) or IP_MULTICAST_IF that names a skiff interface, by
 * address or index. */
bool sock_mcast_defer_decides(struct skiff_rt *rt, int instance, int level, int name, const void *val, socklen_t len);

/* runtime.c, each progress pass (instance lock held): hand every device whose
 * group set changed its new list (driver op mcast_set). */
void sock_mcast_dev_sync(struct skiff_stack *st, struct skiff_dev *const *devs, unsigned ndevs);

#endif
