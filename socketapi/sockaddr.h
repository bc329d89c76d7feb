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
/* A user address for a socket of `domain` (AF_INET or AF_INET6): Linux's length
 * and family checks (AF_INET: 16 bytes; AF_INET6: SIN6_LEN_RFC2133, 24 bytes;
 * another family -EAFNOSUPPORT, short -EINVAL), then the address: IPv4 as an
 * AF_INET skiff_addr, IPv6 (v4-mapped included) as AF_INET6. *scope: sin6_scope_id
 * (0 for AF_INET). The caller handles AF_UNSPEC where Linux allows it. */
int sock_addr_parse(int domain, const struct sockaddr_storage *ss, socklen_t len, struct skiff_addr *a,
		    uint16_t *port, uint32_t *scope);
/* The sockaddr a socket of `domain` reports for a (NULL: the wildcard) and a
 * host-order port: an AF_INET6 socket shows IPv4 as v4-mapped (dual stack), a
 * link-local address with its scope. Returns the length to report. */
socklen_t sock_addr_make(int domain, const struct skiff_addr *a, uint16_t port, uint32_t scope,
			 struct sockaddr_storage *ss);
/* Kernel interface index (sin6_scope_id, sll_ifindex) ↔ a stack interface of the
 * same name. -1 / 0 when there is none. */
struct skiff_stack;
int sock_ifindex_from_kernel(struct skiff_stack *st, uint32_t kifindex);
uint32_t sock_ifindex_to_kernel(struct skiff_stack *st, int ifindex);
/* Linux inet_port_requires_bind_service + CAP_NET_BIND_SERVICE. Reads /proc:
 * never call it holding an instance lock. */
bool sock_may_bind_port(uint16_t port);

#endif
