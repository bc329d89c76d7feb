/* sockaddr.c — socket-address copy rules and the privileged-port check shared by
 * sock_udp.c and sock_tcp.c (see sockaddr.h). */
#include "sockaddr.h"

#include <arpa/inet.h>
#include <errno.h>
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
