/* sock_mcast6.c — IPv6 multicast socket options on skiff UDP sockets, as Linux's
 * do_ipv6_setsockopt / do_ipv6_getsockopt (net/ipv6/ipv6_sockglue.c, mcast.c).
 *
 * Flow: sock_opts6.c (SOL_IPV6, a name sock_mcast6_is_opt knows) →
 * sock_mcast6_set: length / layout checks → group multicast? → the interface:
 * the kernel ifindex given (a skiff interface is named after its kernel one),
 * else the skiff route of the group (Linux rt6_lookup) → the MLD engine of that
 * interface (igmp.h, family SKIFF_AF_INET6), owner = the dataplane socket
 * (udp_mcast.h) → one progress pass, so the State-Change Report leaves now.
 *
 * Linux's errnos (ipv6_sock_mc_join / ipv6_sock_mc_drop / ip6_mc_source):
 *   IPV6_ADD/DROP_MEMBERSHIP (= IPV6_JOIN/LEAVE_GROUP): len < ipv6_mreq → EINVAL;
 *   group not multicast → EINVAL; joined already (same index, or any when 0) →
 *   EADDRINUSE; no interface → ENODEV; leave of nothing → EADDRNOTAVAIL.
 *   MCAST_JOIN/LEAVE_GROUP: len < group_req → EINVAL; family not AF_INET6 →
 *   EADDRNOTAVAIL. MCAST_*SOURCE*: len < group_source_req → EINVAL; either family
 *   not AF_INET6 → EADDRNOTAVAIL; JOIN_SOURCE joins first (EADDRINUSE there is
 *   fine); no prior join → EINVAL; a non-empty filter in the other mode →
 *   EINVAL (an empty one switches); adding a source already there or dropping
 *   one not there → EADDRNOTAVAIL; the 65th source → ENOBUFS (mld_max_msf 64);
 *   dropping the last included source leaves the group.
 *   IPV6_MULTICAST_IF: int (shorter → EINVAL), 0 clears, an index the kernel
 *   does not know → ENODEV, one other than the bound device → EINVAL; skiff
 *   also answers ENODEV for a kernel interface it does not drive (it cannot
 *   send there). IPV6_MULTICAST_LOOP: int 0/1 (else EINVAL). IPV6_MULTICAST_ALL:
 *   int, any value is a boolean. getsockopt of the three: an int (truncated to
 *   the buffer); the membership options cannot be read (ENOPROTOOPT).
 */
#include "sock_mcast.h"
#include "sock_mcast6.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/igmp.h"
#include "dataplane/ip6.h"
#include "dataplane/route6.h"
#include "dataplane/udp.h"
#include "dataplane/udp_mcast.h"
#include "fdtable.h"
#include "runtime.h"

#define LINUX_MLD_MAX_MSF 64

bool sock_mcast6_is_opt(int name)
{
	switch (name) {
	case IPV6_MULTICAST_IF:
	case IPV6_MULTICAST_LOOP:
	case IPV6_MULTICAST_ALL:
	case IPV6_ADD_MEMBERSHIP:
	case IPV6_DROP_MEMBERSHIP:
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP:
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
		return true;
	default:
		return false;
	}
}

/* The skiff interface of a kernel index (same name); -1 none. */
static int if_of_kidx(struct skiff_stack *st, unsigned kidx)
{
	char name[IF_NAMESIZE];
	if (!kidx || !if_indextoname(kidx, name))
		return -1;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		struct skiff_iface *ifc = skiff_stack_iface(st, i);
		if (ifc && !ifc->loopback && strncmp(ifc->name, name, SKIFF_IFNAMSIZ) == 0)
			return i;
	}
	return -1;
}

/* Linux ip6_mc_find_dev: the index, else the group's route. -1: none. */
static int find_if(struct skiff_stack *st, unsigned kidx, const uint8_t *group)
{
	struct skiff_route_res6 rt;
	struct skiff_iface *ifc;
	if (kidx)
		return if_of_kidx(st, kidx);
	if (skiff_route6_lookup(st, group, -1, &rt) != 0)
		return -1;
	ifc = skiff_stack_iface(st, rt.ifindex);
	return ifc && !ifc->loopback ? rt.ifindex : -1;
}

static void changed(struct skiff_sock *s, uint64_t now)
{
	rt_progress_locked(s->rt, s->instance, now); /* the report goes out now (RFC 3810 6.1) */
}

/* Does owner have group on some interface (kidx 0) or on i? */
static int owner_if(struct skiff_stack *st, uint64_t owner, const struct skiff_addr *g)
{
	for (int k = 0; k < SKIFF_MAX_IFACES; k++)
		if (skiff_mcast_owner_has(st, k, owner, g))
			return k;
	return -1;
}

static int do_join(struct skiff_sock *s, const uint8_t *group, unsigned kidx)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	uint64_t owner = udp_mcast_owner(s->dp), now;
	struct skiff_addr g = ip6_addr_make(group);
	int i, rc;

	if (!ip6_is_multicast(group))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	i = find_if(st, kidx, group);
	if ((kidx == 0 && owner_if(st, owner, &g) >= 0) || (i >= 0 && skiff_mcast_owner_has(st, i, owner, &g)))
		rc = -EADDRINUSE;
	else if (i < 0)
		rc = -ENODEV;
	else
		rc = skiff_mcast_join(st, i, owner, &g, now);
	if (rc == 0)
		changed(s, now);
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* ipv6_sock_mc_drop: the membership on that index, or the first of the group. */
static int do_leave(struct skiff_sock *s, const uint8_t *group, unsigned kidx)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	uint64_t owner = udp_mcast_owner(s->dp), now;
	struct skiff_addr g = ip6_addr_make(group);
	int i, rc = -EADDRNOTAVAIL;

	if (!ip6_is_multicast(group))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	i = kidx ? if_of_kidx(st, kidx) : owner_if(st, owner, &g);
	if (i >= 0 && skiff_mcast_owner_has(st, i, owner, &g))
		rc = skiff_mcast_leave(st, i, owner, &g, now);
	if (rc == 0)
		changed(s, now);
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* do_ipv6_mcast_group_source + ip6_mc_source. */
static int do_source(struct skiff_sock *s, int op, const uint8_t *group, const uint8_t *src, unsigned kidx)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	uint64_t owner = udp_mcast_owner(s->dp), now;
	struct skiff_addr g = ip6_addr_make(group), a = ip6_addr_make(src);
	int i, rc;

	if (!ip6_is_multicast(group))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	i = find_if(st, kidx, group);
	if (i < 0) {
		rc = -ENODEV;
		goto out;
	}
	if (!kidx) { /* ip6_mc_source with index 0: the membership of any interface */
		int k = owner_if(st, owner, &g);
		if (k >= 0)
			i = k;
	}
	rc = sock_mcast_source_change(st, i, owner, &g, op, &a, LINUX_MLD_MAX_MSF, now);
	if (rc == 0)
		changed(s, now);
out:
	rt_unlock(s->rt, s->instance);
	return rc;
}

static int set_mcast_if(struct skiff_sock *s, int v)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	struct skiff_udp_sock *sk = s->dp;
	char name[IF_NAMESIZE];
	int i, rc = 0;

	if (v && (v < 0 || !if_indextoname((unsigned)v, name)))
		return -ENODEV;
	rt_lock(s->rt, s->instance);
	if (!v) {
		sk->mc6_if = 0;
	} else {
		i = if_of_kidx(st, (unsigned)v);
		if (i < 0)
			rc = -ENODEV; /* a kernel interface skiff does not drive: it cannot send there */
		else if (sk->bound_ifindex >= 0 && sk->bound_ifindex != i)
			rc = -EINVAL;
		else
			sk->mc6_if = i + 1;
	}
	rt_unlock(s->rt, s->instance);
	return rc;
}

int sock_mcast6_set(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_udp_sock *sk = s->dp;
	int v = 0;

	switch (name) {
	case IPV6_MULTICAST_IF:
	case IPV6_MULTICAST_LOOP:
	case IPV6_MULTICAST_ALL:
		if (len < sizeof(int))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
		if (name == IPV6_MULTICAST_IF)
			return set_mcast_if(s, v);
		if (name == IPV6_MULTICAST_LOOP && v != 0 && v != 1)
			return -EINVAL;
		rt_lock(s->rt, s->instance);
		if (name == IPV6_MULTICAST_LOOP)
			sk->mc6_noloop = !v;
		else
			sk->mc6_noall = !v;
		rt_unlock(s->rt, s->instance);
		return 0;
	case IPV6_ADD_MEMBERSHIP:
	case IPV6_DROP_MEMBERSHIP: {
		struct ipv6_mreq m;
		if (len < sizeof(m))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&m, val, sizeof(m));
		return name == IPV6_ADD_MEMBERSHIP ? do_join(s, m.ipv6mr_multiaddr.s6_addr, m.ipv6mr_interface)
						   : do_leave(s, m.ipv6mr_multiaddr.s6_addr, m.ipv6mr_interface);
	}
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP: {
		struct group_req gr;
		struct sockaddr_in6 gin;
		if (len < sizeof(gr))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&gr, val, sizeof(gr));
		if (gr.gr_group.ss_family != AF_INET6)
			return -EADDRNOTAVAIL;
		memcpy(&gin, &gr.gr_group, sizeof(gin));
		return name == MCAST_JOIN_GROUP ? do_join(s, gin.sin6_addr.s6_addr, gr.gr_interface)
						: do_leave(s, gin.sin6_addr.s6_addr, gr.gr_interface);
	}
	default: { /* MCAST_{JOIN,LEAVE}_SOURCE_GROUP, MCAST_{BLOCK,UNBLOCK}_SOURCE */
		struct group_source_req gsr;
		struct sockaddr_in6 gin, sin;
		if (len < sizeof(gsr))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&gsr, val, sizeof(gsr));
		if (gsr.gsr_group.ss_family != AF_INET6 || gsr.gsr_source.ss_family != AF_INET6)
			return -EADDRNOTAVAIL;
		memcpy(&gin, &gsr.gsr_group, sizeof(gin));
		memcpy(&sin, &gsr.gsr_source, sizeof(sin));
		return do_source(s,
				 name == MCAST_JOIN_SOURCE_GROUP    ? MCAST_SRC_ADD
				 : name == MCAST_LEAVE_SOURCE_GROUP ? MCAST_SRC_DROP
				 : name == MCAST_BLOCK_SOURCE       ? MCAST_SRC_BLOCK
								    : MCAST_SRC_UNBLOCK,
				 gin.sin6_addr.s6_addr, sin.sin6_addr.s6_addr, gsr.gsr_interface);
	}
	}
}

int sock_mcast6_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_udp_sock *sk = s->dp;
	int len = (int)*lenp, v = 0;

	if (len < 0)
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	switch (name) {
	case IPV6_MULTICAST_IF: { /* the kernel index given */
		struct skiff_iface *ifc = sk->mc6_if ? skiff_stack_iface(rt_stack(s->rt, s->instance), sk->mc6_if - 1) : NULL;
		v = ifc ? (int)if_nametoindex(ifc->name) : 0;
		break;
	}
	case IPV6_MULTICAST_LOOP:
		v = !sk->mc6_noloop;
		break;
	case IPV6_MULTICAST_ALL:
		v = !sk->mc6_noall;
		break;
	default:
		rt_unlock(s->rt, s->instance);
		return -ENOPROTOOPT; /* the membership options cannot be read */
	}
	rt_unlock(s->rt, s->instance);
	if (len > (int)sizeof(int))
		len = (int)sizeof(int);
	if (len) {
		if (!val)
			return -EFAULT;
		memcpy(val, &v, (size_t)len);
	}
	*lenp = (socklen_t)len;
	return 0;
}

/* The interface the kernel's routing picks for a group: a connected UDP
 * socket's source address, then the interface holding it. false: no route. */
static bool kernel_route_if6(const uint8_t *group, char name[IF_NAMESIZE])
{
	struct sockaddr_in6 d, src;
	socklen_t sl = sizeof(src);
	struct ifaddrs *ifs, *it;
	bool found = false;
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	memset(&d, 0, sizeof(d));
	d.sin6_family = AF_INET6;
	d.sin6_port = htons(9);
	memcpy(d.sin6_addr.s6_addr, group, 16);
	if (connect(fd, (struct sockaddr *)&d, sizeof(d)) < 0 || getsockname(fd, (struct sockaddr *)&src, &sl) < 0 ||
	    IN6_IS_ADDR_UNSPECIFIED(&src.sin6_addr)) {
		close(fd);
		return false;
	}
	close(fd);
	if (getifaddrs(&ifs) < 0)
		return false;
	for (it = ifs; it && !found; it = it->ifa_next)
		if (it->ifa_addr && it->ifa_addr->sa_family == AF_INET6 &&
		    !memcmp(((struct sockaddr_in6 *)(void *)it->ifa_addr)->sin6_addr.s6_addr, src.sin6_addr.s6_addr, 16)) {
			snprintf(name, IF_NAMESIZE, "%s", it->ifa_name);
			found = true;
		}
	freeifaddrs(ifs);
	return found;
}

bool sock_mcast6_defer_decides(struct skiff_rt *rt, int instance, int level, int name, const void *val,
			       socklen_t len)
{
	uint8_t group[16];
	unsigned kidx = 0;
	bool have_group = false;
	char kname[IF_NAMESIZE] = "";
	int i = -1;

	if (level != SOL_IPV6 || !val)
		return false;
	if (name == IPV6_ADD_MEMBERSHIP && len >= sizeof(struct ipv6_mreq)) {
		struct ipv6_mreq m;
		memcpy(&m, val, sizeof(m));
		kidx = m.ipv6mr_interface;
		memcpy(group, m.ipv6mr_multiaddr.s6_addr, 16);
		have_group = true;
	} else if (name == IPV6_MULTICAST_IF && len >= sizeof(int)) {
		int v;
		memcpy(&v, val, sizeof(v));
		if (v <= 0)
			return false;
		kidx = (unsigned)v;
	} else if ((name == MCAST_JOIN_GROUP && len >= sizeof(struct group_req)) ||
		   (name == MCAST_JOIN_SOURCE_GROUP && len >= sizeof(struct group_source_req))) {
		struct group_req g; /* gsr_interface and gsr_group sit where gr_ has them */
		struct sockaddr_in6 gin;
		memcpy(&g, val, sizeof(g));
		if (g.gr_group.ss_family != AF_INET6)
			return false;
		memcpy(&gin, &g.gr_group, sizeof(gin));
		kidx = g.gr_interface;
		memcpy(group, gin.sin6_addr.s6_addr, 16);
		have_group = true;
	} else {
		return false;
	}
	if (have_group && !ip6_is_multicast(group))
		return false;
	if (!kidx && !(have_group && kernel_route_if6(group, kname)))
		return false;
	rt_lock(rt, instance);
	if (kidx) {
		i = if_of_kidx(rt_stack(rt, instance), kidx);
	} else {
		struct skiff_stack *st = rt_stack(rt, instance);
		for (int k = 0; k < SKIFF_MAX_IFACES && i < 0; k++) {
			struct skiff_iface *ifc = skiff_stack_iface(st, k);
			if (ifc && !ifc->loopback && strncmp(ifc->name, kname, SKIFF_IFNAMSIZ) == 0)
				i = k;
		}
	}
	rt_unlock(rt, instance);
	return i >= 0;
}
