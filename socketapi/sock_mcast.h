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
/* The source-filter change both families share (sock_mcast.c): ip_mc_source /
 * ip6_mc_source's checks, in Linux's order, on membership i of owner for group g
 * (instance lock held). 0 or -errno. */
#define SOCK_MCAST_MAX_MSF 64 /* the larger per-socket source limit (MLD's) */
struct skiff_stack;
struct skiff_addr;
int sock_mcast_source_change(struct skiff_stack *st, int i, uint64_t owner, const struct skiff_addr *g, int op,
			     const struct skiff_addr *a, unsigned max_msf, uint64_t now);
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
