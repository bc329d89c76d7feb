/* sockaddr.c — socket-address copy rules and the privileged-port check shared by
 * sock_udp.c and sock_tcp.c (see sockaddr.h). */
#include "sockaddr.h"

#include "dataplane/stack.h"
#include "dataplane/wire_ip6.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

int sock_addr_in(const struct sockaddr *ua, socklen_t ulen, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if ((int)ulen < 0 || ulen > sizeof(*ss))
		return -EINVAL;
	if (ulen == 0)
		return 0;
	if (!ua)
		return -EFAULT;
	memcpy(ss, ua, ulen);
	return 0;
}

int sock_addr_out(const void *k, int klen, struct sockaddr *ua, socklen_t *ulen)
{
	int len;
	if (!ulen)
		return -EFAULT;
	len = (int)*ulen;
	if (len > klen)
		len = klen;
	if (len < 0)
		return -EINVAL;
	if (len) {
		if (!ua)
			return -EFAULT;
		memcpy(ua, k, (size_t)len);
	}
	*ulen = (socklen_t)klen;
	return 0;
}

void sock_sin_of(struct sockaddr_in *sin, const struct skiff_addr *a, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(a && a->family == SKIFF_AF_INET ? a->v4 : 0);
}

int sock_addr_parse(int domain, const struct sockaddr_storage *ss, socklen_t len, struct skiff_addr *a,
		    uint16_t *port, uint32_t *scope)
{
	*scope = 0;
	if (domain == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (len < 24) /* SIN6_LEN_RFC2133: before sin6_scope_id existed */
			return -EINVAL;
		if (s6->sin6_family != AF_INET6)
			return -EAFNOSUPPORT;
		*a = ip6_addr_make(s6->sin6_addr.s6_addr);
		*port = ntohs(s6->sin6_port);
		if (len >= sizeof(*s6))
			*scope = s6->sin6_scope_id;
		return 0;
	}
	{
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		if (len < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		*a = skiff_addr_v4(ntohl(sin->sin_addr.s_addr));
		*port = ntohs(sin->sin_port);
		return 0;
	}
}

socklen_t sock_addr_make(int domain, const struct skiff_addr *a, uint16_t port, uint32_t scope,
			 struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (domain == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (a && a->family == SKIFF_AF_INET6) {
			memcpy(s6->sin6_addr.s6_addr, a->v6, 16);
			if (ip6_is_link_local(a->v6) ||
			    (ip6_is_multicast(a->v6) && ip6_mcast_scope(a->v6) <= IP6_SCOPE_LINK))
				s6->sin6_scope_id = scope;
		} else if (a && a->family == SKIFF_AF_INET && a->v4) {
			ip6_make_v4mapped(a->v4, s6->sin6_addr.s6_addr);
		}
		return sizeof(*s6);
	}
	sock_sin_of((struct sockaddr_in *)ss, a, port);
	return sizeof(struct sockaddr_in);
}

int sock_ifindex_from_kernel(struct skiff_stack *st, uint32_t kifindex)
{
	char name[IF_NAMESIZE];
	if (!kifindex)
		return -1;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) /* boot recorded it: no syscall */
		if (st->ifaces[i].used && st->ifaces[i].ext_ifindex == kifindex)
			return i;
	if (!if_indextoname(kifindex, name))
		return -1;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++)
		if (st->ifaces[i].used && !strcmp(st->ifaces[i].name, name))
			return i;
	return -1;
}

uint32_t sock_ifindex_to_kernel(struct skiff_stack *st, int ifindex)
{
	struct skiff_iface *ifc = skiff_stack_iface(st, ifindex);
	if (!ifc)
		return 0;
	return ifc->ext_ifindex ? ifc->ext_ifindex : if_nametoindex(ifc->name);
}

bool sock_may_bind_port(uint16_t port)
{
	unsigned long start = 1024;
	unsigned long long capeff = 0;
	char line[256];
	FILE *f;

	if (port == 0)
		return true;
	f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%lu", &start) != 1)
			start = 1024;
		fclose(f);
	}
	if (port >= start)
		return true;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return true;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &capeff) == 1)
			break;
	fclose(f);
	return capeff & (1ull << 10); /* CAP_NET_BIND_SERVICE */
}
