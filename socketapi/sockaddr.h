/* sockaddr.h — what the UDP and TCP calls share at the POSIX edge: Linux's
 * copy-in/copy-out rules for socket addresses, and the privileged-port check. */
#ifndef SKIFF_SOCKETAPI_SOCKADDR_H
#define SKIFF_SOCKETAPI_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dataplane/addr.h"

/* Linux move_addr_to_kernel: 0 <= ulen <= sizeof(sockaddr_storage), readable;
 * ss zero-filled behind what was given. 0, -EINVAL, -EFAULT. */
int sock_addr_in(const struct sockaddr *ua, socklen_t ulen, struct sockaddr_storage *ss);
/* Linux move_addr_to_user: copy min(*ulen, klen) bytes, report klen. */
int sock_addr_out(const void *k, int klen, struct sockaddr *ua, socklen_t *ulen);
/* sockaddr_in of a (NULL or not IPv4: the wildcard) and a host-order port. */
void sock_sin_of(struct sockaddr_in *sin, const struct skiff_addr *a, uint16_t port);
/* Linux inet_port_requires_bind_service + CAP_NET_BIND_SERVICE. Reads /proc:
 * never call it holding an instance lock. */
bool sock_may_bind_port(uint16_t port);

#endif
