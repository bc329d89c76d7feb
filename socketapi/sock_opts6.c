/* sock_opts6.c — SOL_IPV6 on skiff's UDP and TCP sockets, with Linux's checks
 * (net/ipv6/ipv6_sockglue.c do_ipv6_setsockopt / do_ipv6_getsockopt):
 *   IPV6_V6ONLY        int, only before bind (EINVAL after), AF_INET6 only
 *   IPV6_UNICAST_HOPS  int -1..255, -1: the interface's default (reads back 64)
 *   IPV6_MULTICAST_HOPS int -1..255, -1: 1
 *   IPV6_TCLASS        int -1..255, -1: 0
 *   IPV6_DONTFRAG      int, boolean (UDP; TCP never fragments)
 * Both kinds keep the values in fields of the same names (struct fields6).
 * The multicast options of UDP sockets (IPV6_JOIN_GROUP, MCAST_*,
 * IPV6_MULTICAST_IF/LOOP/ALL) are sock_mcast6.c's.
 * Everything else answers -ENOPROTOOPT: the caller stores it on the reserved
 * kernel socket without effect (README lists which).
 */
#include "sock_opts6.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "dataplane/stack.h"
#include "dataplane/tcp.h"
#include "dataplane/udp.h"
#include "fdtable.h"
#include "runtime.h"
#include "sock_cmsg.h"
#include "sock_mcast6.h"
#include "sock_tcp.h"

/* Where a socket keeps its IPv6 options (instance lock held). */
struct fields6 {
	bool *v6only, *dontfrag;
	int16_t *hop_limit, *mcast_hops;
	uint8_t *tclass;
	bool bound;
};

static bool fields_of(struct skiff_sock *s, struct fields6 *f)
{
	memset(f, 0, sizeof(*f));
	if (s->kind == SKIFF_FD_TCP) {
		struct skiff_tcp_sock *tk = tcp_sock_tcb(s);
		if (!tk)
			return false;
		f->v6only = &tk->v6only;
		f->hop_limit = &tk->hop_limit;
		f->tclass = &tk->tclass;
		f->bound = tk->bound;
		return true;
	}
	{
		struct skiff_udp_sock *uk = s->dp;
		f->v6only = &uk->v6only;
		f->dontfrag = &uk->dontfrag;
		f->hop_limit = &uk->hop_limit;
		f->mcast_hops = &uk->mcast_hops;
		f->tclass = &uk->tclass;
		f->bound = uk->bound;
		return true;
	}
}

static bool handled(int name)
{
	return name == IPV6_V6ONLY || name == IPV6_UNICAST_HOPS || name == IPV6_MULTICAST_HOPS || name == IPV6_TCLASS ||
	       name == IPV6_DONTFRAG;
}

int sock_ipv6_set(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct fields6 f;
	int v, rc = 0;

	if (sock_cmsg_flag_of(SOL_IPV6, name)) /* IPV6_RECVPKTINFO/HOPLIMIT/TCLASS (sock_cmsg.c) */
		return sock_cmsg_setopt(s, SOL_IPV6, name, val, len);
	if (s->domain != AF_INET6)
		return -ENOPROTOOPT; /* Linux: SOL_IPV6 on an AF_INET socket */
	if (s->kind == SKIFF_FD_UDP && sock_mcast6_is_opt(name)) /* memberships, IPV6_MULTICAST_IF/LOOP/ALL */
		return sock_mcast6_set(s, name, val, len);    /* (sock_mcast6.c) */
	if (!handled(name))
		return -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&v, val, sizeof(v));
	if ((name == IPV6_UNICAST_HOPS || name == IPV6_MULTICAST_HOPS || name == IPV6_TCLASS) && (v < -1 || v > 255))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	if (!fields_of(s, &f)) {
		rt_unlock(s->rt, s->instance);
		return -ENOPROTOOPT;
	}
	switch (name) {
	case IPV6_V6ONLY:
		if (f.bound)
			rc = -EINVAL;
		else
			*f.v6only = v != 0;
		break;
	case IPV6_UNICAST_HOPS:
		*f.hop_limit = (int16_t)v;
		break;
	case IPV6_MULTICAST_HOPS:
		if (f.mcast_hops)
			*f.mcast_hops = (int16_t)(v == -1 ? 1 : v);
		break;
	case IPV6_TCLASS:
		*f.tclass = (uint8_t)(v == -1 ? 0 : v);
		break;
	case IPV6_DONTFRAG:
		if (f.dontfrag)
			*f.dontfrag = v != 0;
		break;
	}
	rt_unlock(s->rt, s->instance);
	return rc;
}

int sock_ipv6_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct fields6 f;
	int len = (int)*lenp, v = 0;

	if (sock_cmsg_flag_of(SOL_IPV6, name)) /* sock_cmsg.c */
		return sock_cmsg_getopt(s, SOL_IPV6, name, val, lenp);
	if (s->domain == AF_INET6 && s->kind == SKIFF_FD_UDP && sock_mcast6_is_opt(name)) /* sock_mcast6.c */
		return sock_mcast6_get(s, name, val, lenp);
	if (s->domain != AF_INET6 || !handled(name))
		return -ENOPROTOOPT;
	if (len < 0)
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	if (!fields_of(s, &f)) {
		rt_unlock(s->rt, s->instance);
		return -ENOPROTOOPT;
	}
	switch (name) {
	case IPV6_V6ONLY:
		v = *f.v6only;
		break;
	case IPV6_UNICAST_HOPS:
		v = *f.hop_limit >= 0 ? *f.hop_limit : rt_stack(s->rt, s->instance)->cfg.default_hop_limit;
		break;
	case IPV6_MULTICAST_HOPS:
		v = f.mcast_hops ? *f.mcast_hops : 1;
		break;
	case IPV6_TCLASS:
		v = *f.tclass;
		break;
	case IPV6_DONTFRAG:
		v = f.dontfrag ? *f.dontfrag : 0;
		break;
	}
	rt_unlock(s->rt, s->instance);
	if (len > (int)sizeof(int))
		len = sizeof(int);
	if (len && !val)
		return -EFAULT;
	memcpy(val, &v, (size_t)len);
	*lenp = (socklen_t)len;
	return 0;
}
