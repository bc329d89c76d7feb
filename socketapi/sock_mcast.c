/* sock_mcast.c — IPv4 multicast socket options on skiff UDP sockets, as Linux's
 * do_ip_setsockopt / do_ip_getsockopt (net/ipv4/ip_sockglue.c, igmp.c), with
 * every errno checked against the kernel (tests/unit/test_igmp.c lists them).
 *
 * Flow: sock_opts.c (SOL_IP, a name sock_mcast_is_opt knows) → sock_mcast_set:
 *   length / layout checks → group multicast? → the interface, as Linux's
 *   ip_mc_find_dev: the kernel ifindex (by name: a skiff interface is named
 *   after its kernel one), else the interface holding imr_address, else the
 *   route of the group → the membership engine of that interface (igmp.h),
 *   owner = the dataplane socket (udp_mcast.h) → one progress pass, so the
 *   State-Change Report leaves at once.
 * Source operations follow the kernel's ip_mc_source rules (probed on Linux
 * 6.x): no membership → EINVAL; a filter in the other mode → EINVAL, except an
 * ASM join with no sources, which IP_ADD_SOURCE_MEMBERSHIP turns into
 * INCLUDE{source}; adding or blocking a source already there → EADDRNOTAVAIL;
 * dropping or unblocking one not there → EADDRNOTAVAIL; the 11th source →
 * ENOBUFS (igmp_max_msf 10); dropping the last included source leaves.
 * Joins: non-multicast → EINVAL, no interface → ENODEV, again → EADDRINUSE, a
 * socket's 21st → ENOBUFS (igmp_max_memberships 20, per interface here).
 * Leaves: nothing matching → EADDRNOTAVAIL (ENODEV only with no index, no
 * address and no route).
 *
 * sock_mcast_defer_decides: a join (or IP_MULTICAST_IF) naming a skiff
 * interface makes a deferred socket skiff's; a join with INADDR_ANY does when
 * the kernel's route for the group leaves through a skiff interface's kernel
 * twin (Python's documented receiver passes INADDR_ANY) (defer.c adopts it before the kernel sees the option, whose
 * interface address the kernel would not know).
 * sock_mcast_dev_sync: after any change of an interface's groups, the driver
 * gets the full list (driver.h mcast_set).
 */
#include "sock_mcast.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dataplane/igmp.h"
#include "dataplane/route.h"
#include "dataplane/udp.h"
#include "dataplane/udp_mcast.h"
#include "drivers/driver.h"
#include "fdtable.h"
#include "runtime.h"

#define LINUX_IGMP_MAX_MSF 10

bool sock_mcast_is_opt(int name)
{
	switch (name) {
	case IP_MULTICAST_IF:
	case IP_MULTICAST_LOOP:
	case IP_MULTICAST_ALL:
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
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

/* A kernel interface index as the skiff interface of the same name: -1 none. */
struct ifref {
	int kidx;                  /* 0: none given */
	char name[IF_NAMESIZE];    /* its name, "" if the kernel has none */
	uint32_t addr;             /* host order, 0: none given */
};

static void ifref_make(struct ifref *r, int kidx, uint32_t addr_net)
{
	memset(r, 0, sizeof(*r));
	r->kidx = kidx;
	r->addr = ntohl(addr_net);
	if (kidx > 0 && !if_indextoname((unsigned)kidx, r->name))
		r->name[0] = 0;
}

static int if_by_name(struct skiff_stack *st, const char *name)
{
	if (!name[0])
		return -1;
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		struct skiff_iface *ifc = skiff_stack_iface(st, i);
		if (ifc && !ifc->loopback && strncmp(ifc->name, name, SKIFF_IFNAMSIZ) == 0)
			return i;
	}
	return -1;
}

static int if_by_addr(struct skiff_stack *st, uint32_t addr)
{
	int i = skiff_stack_local4(st, addr);
	struct skiff_iface *ifc = i >= 0 ? skiff_stack_iface(st, i) : NULL;
	return ifc && !ifc->loopback ? i : -1;
}

/* Linux ip_mc_find_dev: the index, else the address, else the group's route. -1: none. */
static int find_if(struct skiff_stack *st, const struct ifref *r, uint32_t group)
{
	struct skiff_route_res4 rt;
	struct skiff_iface *ifc;
	if (r->kidx)
		return if_by_name(st, r->name);
	if (r->addr)
		return if_by_addr(st, r->addr);
	if (skiff_route_lookup4(st, group, -1, &rt) != 0)
		return -1;
	ifc = skiff_stack_iface(st, rt.ifindex);
	return ifc && !ifc->loopback ? rt.ifindex : -1;
}

static void changed(struct skiff_sock *s, uint64_t now)
{
	rt_progress_locked(s->rt, s->instance, now); /* the report goes out now (RFC 3376 5.1) */
}

static int do_join(struct skiff_sock *s, uint32_t group, const struct ifref *r)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	struct skiff_udp_sock *sk = s->dp;
	struct skiff_addr g = skiff_addr_v4(group);
	uint64_t now;
	int i, rc;

	if (!ip4_is_multicast(group))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	i = find_if(st, r, group);
	if (i < 0)
		rc = -ENODEV;
	else if (skiff_mcast_owner_has(st, i, udp_mcast_owner(sk), &g))
		rc = -EADDRINUSE;
	else
		rc = skiff_mcast_join(st, i, udp_mcast_owner(sk), &g, now);
	if (rc == 0)
		changed(s, now);
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* Linux ip_mc_leave_group: by index, else by the membership's address, else
 * the first membership of the group. */
static int do_leave(struct skiff_sock *s, uint32_t group, const struct ifref *r)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	uint64_t owner = udp_mcast_owner(s->dp), now;
	struct skiff_addr g = skiff_addr_v4(group);
	int i = -1, rc = -EADDRNOTAVAIL;

	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	if (r->kidx)
		i = if_by_name(st, r->name);
	else if (r->addr)
		i = if_by_addr(st, r->addr);
	else if (find_if(st, r, group) < 0 && ip4_is_multicast(group))
		rc = -ENODEV;
	else
		for (int k = 0; k < SKIFF_MAX_IFACES && i < 0; k++)
			if (skiff_mcast_owner_has(st, k, owner, &g))
				i = k;
	if (i >= 0 && skiff_mcast_owner_has(st, i, owner, &g))
		rc = skiff_mcast_leave(st, i, owner, &g, now);
	if (rc == 0)
		changed(s, now);
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* ip_mc_source / ip6_mc_source on membership i of owner (instance lock held):
 * Linux's checks in its order, then the change. max_msf: the per-socket source
 * limit (IGMP 10, MLD 64). */
int sock_mcast_source_change(struct skiff_stack *st, int i, uint64_t owner, const struct skiff_addr *g, int op,
			     const struct skiff_addr *a, unsigned max_msf, uint64_t now)
{
	struct skiff_addr l[SOCK_MCAST_MAX_MSF + 1];
	unsigned n = 0;
	int mode = 0;
	bool have, listed = false;

	if (max_msf > SOCK_MCAST_MAX_MSF)
		max_msf = SOCK_MCAST_MAX_MSF;
	have = skiff_mcast_get_filter(st, i, owner, g, &mode, l, max_msf + 1, &n) == 0;
	if (n > max_msf + 1)
		n = max_msf + 1;
	for (unsigned k = 0; k < n && !listed; k++)
		listed = skiff_addr_eq(&l[k], a);
	if (!have && op != MCAST_SRC_ADD)
		return -EINVAL; /* must have a prior join */
	if (op == MCAST_SRC_ADD && have && mode == MCAST_MODE_EXCLUDE)
		/* an ASM join with no sources switches to INCLUDE{src} (Linux: "allow mode
		 * switches for empty-set filters") */
		return n ? -EINVAL : skiff_mcast_set_filter(st, i, owner, g, MCAST_MODE_INCLUDE, a, 1, now);
	if (op == MCAST_SRC_DROP && mode == MCAST_MODE_EXCLUDE)
		return n ? -EINVAL : -EADDRNOTAVAIL;
	if ((op == MCAST_SRC_BLOCK || op == MCAST_SRC_UNBLOCK) && mode == MCAST_MODE_INCLUDE)
		return -EINVAL;
	if ((op == MCAST_SRC_ADD || op == MCAST_SRC_BLOCK) && have && listed)
		return -EADDRNOTAVAIL;
	if ((op == MCAST_SRC_DROP || op == MCAST_SRC_UNBLOCK) && !listed)
		return -EADDRNOTAVAIL;
	if ((op == MCAST_SRC_ADD || op == MCAST_SRC_BLOCK) && n >= max_msf)
		return -ENOBUFS;
	return skiff_mcast_source(st, i, owner, g, op, a, now);
}

/* ip_mc_source (with the join of IP_ADD_SOURCE_MEMBERSHIP folded in). */
static int do_source(struct skiff_sock *s, int op, uint32_t group, uint32_t src, const struct ifref *r)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	uint64_t owner = udp_mcast_owner(s->dp), now;
	struct skiff_addr g = skiff_addr_v4(group), a = skiff_addr_v4(src);
	int i, rc;

	if (!ip4_is_multicast(group))
		return -EINVAL;
	rt_lock(s->rt, s->instance);
	now = rt_now(s->rt);
	i = find_if(st, r, group);
	if (i < 0) {
		rc = -ENODEV;
		goto out;
	}
	rc = sock_mcast_source_change(st, i, owner, &g, op, &a, LINUX_IGMP_MAX_MSF, now);
	if (rc == 0)
		changed(s, now);
out:
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* do_ip_setsockopt's int-or-byte value; -EINVAL when len < 1. */
static int int_val(const void *val, socklen_t len, int *v)
{
	if (len < 1)
		return -EINVAL;
	if (!val)
		return -EFAULT;
	if (len >= sizeof(int))
		memcpy(v, val, sizeof(int));
	else
		*v = *(const unsigned char *)val;
	return 0;
}

static int set_mcast_if(struct skiff_sock *s, const void *val, socklen_t len)
{
	struct skiff_stack *st;
	struct skiff_udp_sock *sk = s->dp;
	struct ip_mreqn mreq;
	struct ifref r;
	int i, rc = 0;

	if (len < sizeof(struct in_addr))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memset(&mreq, 0, sizeof(mreq));
	if (len >= sizeof(struct ip_mreqn))
		memcpy(&mreq, val, sizeof(mreq));
	else if (len >= sizeof(struct ip_mreq))
		memcpy(&mreq, val, sizeof(struct ip_mreq));
	else
		memcpy(&mreq.imr_address, val, sizeof(struct in_addr));
	ifref_make(&r, mreq.imr_ifindex, mreq.imr_address.s_addr);
	st = rt_stack(s->rt, s->instance);
	rt_lock(s->rt, s->instance);
	if (!r.kidx && !r.addr) {
		sk->mc_if = 0;
		sk->mc_addr = 0;
	} else {
		i = r.kidx ? if_by_name(st, r.name) : if_by_addr(st, r.addr);
		if (i < 0)
			rc = -EADDRNOTAVAIL;
		else if (sk->bound_ifindex >= 0 && sk->bound_ifindex != i)
			rc = -EINVAL;
		else {
			sk->mc_if = i + 1;
			sk->mc_addr = r.addr;
		}
	}
	rt_unlock(s->rt, s->instance);
	return rc;
}

int sock_mcast_set(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_udp_sock *sk = s->dp;
	struct ifref r;
	int v = 0, rc;

	switch (name) {
	case IP_MULTICAST_IF:
		return set_mcast_if(s, val, len);
	case IP_MULTICAST_LOOP:
	case IP_MULTICAST_ALL:
		if ((rc = int_val(val, len, &v)))
			return rc;
		if (name == IP_MULTICAST_ALL && v != 0 && v != 1)
			return -EINVAL;
		rt_lock(s->rt, s->instance);
		if (name == IP_MULTICAST_LOOP)
			sk->mc_noloop = !v;
		else
			sk->mc_noall = !v;
		rt_unlock(s->rt, s->instance);
		return 0;
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP: {
		struct ip_mreqn mreq;
		if (len < sizeof(struct ip_mreq))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memset(&mreq, 0, sizeof(mreq));
		memcpy(&mreq, val, len >= sizeof(mreq) ? sizeof(mreq) : sizeof(struct ip_mreq));
		ifref_make(&r, mreq.imr_ifindex, mreq.imr_address.s_addr);
		return name == IP_ADD_MEMBERSHIP ? do_join(s, ntohl(mreq.imr_multiaddr.s_addr), &r)
						 : do_leave(s, ntohl(mreq.imr_multiaddr.s_addr), &r);
	}
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE: {
		struct ip_mreq_source ms;
		if (len != sizeof(ms))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&ms, val, sizeof(ms));
		ifref_make(&r, 0, ms.imr_interface.s_addr);
		return do_source(s,
				 name == IP_ADD_SOURCE_MEMBERSHIP    ? MCAST_SRC_ADD
				 : name == IP_DROP_SOURCE_MEMBERSHIP ? MCAST_SRC_DROP
				 : name == IP_BLOCK_SOURCE           ? MCAST_SRC_BLOCK
								     : MCAST_SRC_UNBLOCK,
				 ntohl(ms.imr_multiaddr.s_addr), ntohl(ms.imr_sourceaddr.s_addr), &r);
	}
	case MCAST_JOIN_GROUP:
	case MCAST_LEAVE_GROUP: {
		struct group_req gr;
		struct sockaddr_in gin;
		if (len < sizeof(gr))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&gr, val, sizeof(gr));
		memcpy(&gin, &gr.gr_group, sizeof(gin));
		if (gin.sin_family != AF_INET)
			return -EINVAL;
		ifref_make(&r, (int)gr.gr_interface, 0);
		return name == MCAST_JOIN_GROUP ? do_join(s, ntohl(gin.sin_addr.s_addr), &r)
						: do_leave(s, ntohl(gin.sin_addr.s_addr), &r);
	}
	default: { /* MCAST_{JOIN,LEAVE}_SOURCE_GROUP, MCAST_{BLOCK,UNBLOCK}_SOURCE */
		struct group_source_req gsr;
		struct sockaddr_in gin, sin;
		if (len != sizeof(gsr))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&gsr, val, sizeof(gsr));
		memcpy(&gin, &gsr.gsr_group, sizeof(gin));
		memcpy(&sin, &gsr.gsr_source, sizeof(sin));
		if (gin.sin_family != AF_INET || sin.sin_family != AF_INET)
			return -EADDRNOTAVAIL;
		ifref_make(&r, (int)gsr.gsr_interface, 0);
		return do_source(s,
				 name == MCAST_JOIN_SOURCE_GROUP    ? MCAST_SRC_ADD
				 : name == MCAST_LEAVE_SOURCE_GROUP ? MCAST_SRC_DROP
				 : name == MCAST_BLOCK_SOURCE       ? MCAST_SRC_BLOCK
								    : MCAST_SRC_UNBLOCK,
				 ntohl(gin.sin_addr.s_addr), ntohl(sin.sin_addr.s_addr), &r);
	}
	}
}

int sock_mcast_get(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_udp_sock *sk = s->dp;
	int len = (int)*lenp, v;
	uint32_t a;

	if (len < 0)
		return -EINVAL;
	switch (name) {
	case IP_MULTICAST_IF: /* the address given (0.0.0.0 when set by index), at most 4 bytes */
		rt_lock(s->rt, s->instance);
		a = htonl(sk->mc_addr);
		rt_unlock(s->rt, s->instance);
		if (len > (int)sizeof(a))
			len = (int)sizeof(a);
		if (len) {
			if (!val)
				return -EFAULT;
			memcpy(val, &a, (size_t)len);
		}
		*lenp = (socklen_t)len;
		return 0;
	case IP_MULTICAST_LOOP:
	case IP_MULTICAST_ALL:
		rt_lock(s->rt, s->instance);
		v = name == IP_MULTICAST_LOOP ? !sk->mc_noloop : !sk->mc_noall;
		rt_unlock(s->rt, s->instance);
		break;
	default:
		return -ENOPROTOOPT; /* the membership options cannot be read (do_ip_getsockopt) */
	}
	if (len > 0 && len < (int)sizeof(int)) { /* a short buffer gets one byte */
		unsigned char uc = (unsigned char)v;
		if (!val)
			return -EFAULT;
		memcpy(val, &uc, 1);
		*lenp = 1;
		return 0;
	}
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

/* The interface the kernel's routing picks for a group (Linux ip_mc_find_dev
 * with no index and no address: ip_route_output of the group): a connected UDP
 * socket's source address, then the interface holding it. false: no route. */
static bool kernel_route_if(uint32_t group_net, char name[IF_NAMESIZE])
{
	struct sockaddr_in d = { .sin_family = AF_INET, .sin_port = htons(9) }, src;
	socklen_t sl = sizeof(src);
	struct ifaddrs *ifs, *it;
	bool found = false;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	d.sin_addr.s_addr = group_net;
	if (connect(fd, (struct sockaddr *)&d, sizeof(d)) < 0 || getsockname(fd, (struct sockaddr *)&src, &sl) < 0 ||
	    src.sin_addr.s_addr == 0) {
		close(fd);
		return false;
	}
	close(fd);
	if (getifaddrs(&ifs) < 0)
		return false;
	for (it = ifs; it && !found; it = it->ifa_next)
		if (it->ifa_addr && it->ifa_addr->sa_family == AF_INET &&
		    ((struct sockaddr_in *)(void *)it->ifa_addr)->sin_addr.s_addr == src.sin_addr.s_addr) {
			snprintf(name, IF_NAMESIZE, "%s", it->ifa_name);
			found = true;
		}
	freeifaddrs(ifs);
	return found;
}

bool sock_mcast_defer_decides(struct skiff_rt *rt, int instance, int level, int name, const void *val, socklen_t len)
{
	struct ifref r;
	uint32_t group = 0; /* network order, 0: none (IP_MULTICAST_IF) */
	int i;

	if (level != SOL_IP || !val)
		return false;
	if (name == IP_ADD_MEMBERSHIP && len >= sizeof(struct ip_mreq)) {
		struct ip_mreqn m;
		memset(&m, 0, sizeof(m));
		memcpy(&m, val, len >= sizeof(m) ? sizeof(m) : sizeof(struct ip_mreq));
		ifref_make(&r, m.imr_ifindex, m.imr_address.s_addr);
		group = m.imr_multiaddr.s_addr;
	} else if (name == IP_MULTICAST_IF && len >= sizeof(struct in_addr)) {
		/* a sender choosing a skiff interface: the kernel would refuse the address */
		struct ip_mreqn m;
		memset(&m, 0, sizeof(m));
		if (len >= sizeof(m))
			memcpy(&m, val, sizeof(m));
		else if (len >= sizeof(struct ip_mreq))
			memcpy(&m, val, sizeof(struct ip_mreq));
		else
			memcpy(&m.imr_address, val, sizeof(struct in_addr));
		ifref_make(&r, m.imr_ifindex, m.imr_address.s_addr);
	} else if (name == IP_ADD_SOURCE_MEMBERSHIP && len == sizeof(struct ip_mreq_source)) {
		struct ip_mreq_source m;
		memcpy(&m, val, sizeof(m));
		ifref_make(&r, 0, m.imr_interface.s_addr);
		group = m.imr_multiaddr.s_addr;
	} else if (name == MCAST_JOIN_GROUP && len >= sizeof(struct group_req)) {
		struct group_req g;
		struct sockaddr_in gin;
		memcpy(&g, val, sizeof(g));
		memcpy(&gin, &g.gr_group, sizeof(gin));
		ifref_make(&r, (int)g.gr_interface, 0);
		group = gin.sin_family == AF_INET ? gin.sin_addr.s_addr : 0;
	} else if (name == MCAST_JOIN_SOURCE_GROUP && len == sizeof(struct group_source_req)) {
		struct group_source_req g;
		struct sockaddr_in gin;
		memcpy(&g, val, sizeof(g));
		memcpy(&gin, &g.gsr_group, sizeof(gin));
		ifref_make(&r, (int)g.gsr_interface, 0);
		group = gin.sin_family == AF_INET ? gin.sin_addr.s_addr : 0;
	} else {
		return false;
	}
	if (!r.kidx && !r.addr) {
		/* INADDR_ANY: where the kernel would join (its route for the group);
		 * a skiff interface there makes the socket skiff's */
		if (!group || !ip4_is_multicast(ntohl(group)) || !kernel_route_if(group, r.name))
			return false;
		r.kidx = -1; /* by name */
	}
	rt_lock(rt, instance);
	i = r.kidx ? if_by_name(rt_stack(rt, instance), r.name) : if_by_addr(rt_stack(rt, instance), r.addr);
	rt_unlock(rt, instance);
	return i >= 0;
}

void sock_mcast_dev_sync(struct skiff_stack *st, struct skiff_dev *const *devs, unsigned ndevs)
{
	struct skiff_dev_mcast list[SKIFF_DEV_MCAST_MAX];
	struct skiff_addr g[SKIFF_DEV_MCAST_MAX];

	if (!st->mcast)
		return;
	for (unsigned k = 0; k < ndevs && k < SKIFF_MAX_IFACES; k++) {
		unsigned n = 0, m;
		if (!skiff_mcast_dirty(st, (int)k))
			continue;
		skiff_mcast_synced(st, (int)k); /* a failing driver is not retried every pass */
		if (!devs[k] || !devs[k]->ops->mcast_set)
			continue;
		for (int f = 0; f < 2; f++) {
			m = skiff_mcast_groups(st, f ? SKIFF_AF_INET6 : SKIFF_AF_INET, (int)k, g, SKIFF_DEV_MCAST_MAX - n);
			if (m > SKIFF_DEV_MCAST_MAX - n)
				m = SKIFF_DEV_MCAST_MAX - n;
			for (unsigned j = 0; j < m; j++, n++) {
				memset(&list[n], 0, sizeof(list[n]));
				list[n].family = g[j].family;
				if (g[j].family == SKIFF_AF_INET) {
					uint32_t be = htonl(g[j].v4);
					memcpy(list[n].addr, &be, 4);
				} else {
					memcpy(list[n].addr, g[j].v6, 16);
				}
			}
		}
		(void)devs[k]->ops->mcast_set(devs[k], list, n);
	}
}
