/* defer.c — deferred AF_INET sockets (defer.h): created as kernel sockets,
 * moved to skiff or left to the kernel at the first call that shows where their
 * traffic goes.
 *
 * Flow:
 *   skiff_socket_deferred: socket(2) → (policy set, AF_INET TCP/UDP) a DEFERRED
 *     entry whose dp is a defer_state (options to replay, a kernel-chosen port).
 *   sock_defer_setsockopt: the kernel socket answers (its errno is the caller's),
 *     then the option is recorded.
 *   sock_defer_resolve: decide() → adopt() (attach a dataplane socket in place,
 *     O_NONBLOCK, replay options, bind the kernel-chosen port) or to_kernel()
 *     (drop every entry of the socket).
 * One mutex serialises decisions and option records; the decision itself reads
 * the stack's addresses and routes under the instance lock.
 */
#include "defer.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataplane/addr.h"
#include "dataplane/route.h"
#include "dataplane/route6.h"
#include "dataplane/wire_ip6.h"
#include "sockaddr.h"
#include "fdtable.h"
#include "runtime.h"
#include "sock_mcast.h"
#include "sock_mcast6.h"
#include "sock_raw.h"

#define DEFER_OPTS 24
#define DEFER_OPT_LEN 32

struct defer_opt {
	int level, name;
	socklen_t len;
	unsigned char val[DEFER_OPT_LEN];
};

struct defer_state {
	bool kbound;       /* the kernel socket is bound to INADDR_ANY:kport */
	uint16_t kport;
	unsigned nopts;
	struct defer_opt opts[DEFER_OPTS];
};

static pthread_mutex_t g_defer_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	struct skiff_rt *rt; /* NULL: off */
	int instance;
	struct skiff_config cfg; /* only the offload policy is read */
} g_pol;

void sock_defer_set_policy(struct skiff_rt *rt, int instance, const struct skiff_config *cfg)
{
	pthread_mutex_lock(&g_defer_mu);
	g_pol.rt = rt && cfg ? rt : NULL;
	g_pol.instance = instance;
	if (cfg)
		g_pol.cfg = *cfg;
	pthread_mutex_unlock(&g_defer_mu);
}

static void defer_release(struct skiff_sock *s)
{
	free(s->dp);
	free(s);
}

int skiff_socket_deferred(int domain, int type, int protocol)
{
	int kfd = socket(domain, type, protocol), base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct skiff_sock *s;
	bool on;

	if (kfd < 0 || (domain != AF_INET && domain != AF_INET6))
		return kfd;
	/* IPv6 raw and ping6 sockets too (raw_sock_kind): the kernel socket of the
	 * same triple answered the privilege checks */
	if (!((base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)) ||
	      (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) ||
	      raw_sock_kind(domain, base, protocol) /* raw / ping sockets: sock_raw.c */))
		return kfd;
	pthread_mutex_lock(&g_defer_mu);
	on = g_pol.rt != NULL;
	pthread_mutex_unlock(&g_defer_mu);
	if (!on)
		return kfd;
	s = fdt_sock_new(SKIFF_FD_DEFERRED, domain, base,
			 raw_sock_kind(domain, base, protocol) ? protocol
			 : base == SOCK_STREAM		   ? IPPROTO_TCP
							   : IPPROTO_UDP,
			 defer_release);
	if (!s || !(s->dp = calloc(1, sizeof(struct defer_state)))) {
		free(s);
		close(kfd);
		errno = ENOMEM;
		return -1;
	}
	/* a fd beyond the table cannot be tracked: then it is a plain kernel socket */
	(void)fdt_install(kfd, s, type & SOCK_CLOEXEC ? FD_CLOEXEC : 0);
	fdt_sock_put(s);
	return kfd;
}

/* The deferred socket at fd with a reference, or NULL. */
static struct skiff_fd *deferred(int fd)
{
	struct skiff_fd *e = fdt_get_any(fd);
	if (e && atomic_load_explicit(&e->sock->kind, memory_order_acquire) != SKIFF_FD_DEFERRED) {
		fdt_put(e);
		e = NULL;
	}
	return e;
}

static int adopt(int fd, struct skiff_sock *s);

int sock_defer_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_fd *e = deferred(fd);
	struct defer_state *ds;
	int rc;

	if (!e)
		return 1;
	/* a join naming a skiff interface makes a UDP socket skiff's before the kernel
	 * sees it (it does not know that address): sock_mcast.c */
	pthread_mutex_lock(&g_defer_mu);
	if (g_pol.rt && atomic_load(&e->sock->kind) == SKIFF_FD_DEFERRED && e->sock->protocol == IPPROTO_UDP &&
	    (sock_mcast_defer_decides(g_pol.rt, g_pol.instance, level, name, val, len) ||
	     sock_mcast6_defer_decides(g_pol.rt, g_pol.instance, level, name, val, len)) && /* sock_mcast6.c */
	    adopt(fd, e->sock) == 0) {
		pthread_mutex_unlock(&g_defer_mu);
		fdt_put(e);
		return skiff_setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&g_defer_mu);
	rc = setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
	pthread_mutex_lock(&g_defer_mu);
	if (rc == 0 && atomic_load(&e->sock->kind) == SKIFF_FD_DEFERRED && val && len <= DEFER_OPT_LEN) {
		unsigned i;
		ds = e->sock->dp;
		for (i = 0; i < ds->nopts && (ds->opts[i].level != level || ds->opts[i].name != name); i++)
			;
		if (i < DEFER_OPTS) { /* a later value replaces an earlier one; past the limit only the kernel has it */
			ds->opts[i].level = level;
			ds->opts[i].name = name;
			ds->opts[i].len = len;
			memcpy(ds->opts[i].val, val, len);
			if (i == ds->nopts)
				ds->nopts++;
		}
	}
	pthread_mutex_unlock(&g_defer_mu);
	fdt_put(e);
	return rc;
}

enum verdict { V_KERNEL, V_STACK, V_KBIND, V_UNDECIDED };

/* An AF_INET6 address that is not v4-mapped (:: counts as the wildcard of both). */
static enum verdict decide6(const struct skiff_sock *s, enum sock_defer_op op, const struct sockaddr_in6 *s6)
{
	struct skiff_route_res6 res;
	struct skiff_stack *st;
	int oif = -1;
	bool ours;

	(void)s;
	if (op == DEFER_BIND && ip6_is_unspecified(s6->sin6_addr.s6_addr)) {
		uint16_t port = ntohs(s6->sin6_port);
		return port && skiff_config_port_offloaded(&g_pol.cfg, port) ? V_STACK : V_KBIND;
	}
	if (op != DEFER_BIND && ip6_is_unspecified(s6->sin6_addr.s6_addr))
		return V_KERNEL; /* to :: is to ::1: the kernel's loopback */
	rt_lock(g_pol.rt, g_pol.instance);
	st = rt_stack(g_pol.rt, g_pol.instance);
	if (s6->sin6_scope_id) {
		oif = sock_ifindex_from_kernel(st, s6->sin6_scope_id);
		if (oif < 0) { /* a scope that is not a bypass interface: the kernel's */
			rt_unlock(g_pol.rt, g_pol.instance);
			return V_KERNEL;
		}
	}
	if (op == DEFER_BIND)
		ours = skiff_stack_local6(st, s6->sin6_addr.s6_addr, oif, false) >= 0;
	else if (ip6_is_loopback(s6->sin6_addr.s6_addr))
		ours = false; /* ::1: the kernel's loopback (skiff's loopback is IPv4 only) */
	else
		ours = skiff_route6_lookup(st, s6->sin6_addr.s6_addr, oif, &res) == 0;
	rt_unlock(g_pol.rt, g_pol.instance);
	return ours ? V_STACK : V_KERNEL;
}

/* Under g_defer_mu. */
static enum verdict decide(const struct skiff_sock *s, enum sock_defer_op op, const struct sockaddr *addr, socklen_t len)
{
	struct sockaddr_in sin;
	struct skiff_route_res4 res;
	uint32_t a;
	bool ours;

	if (op == DEFER_LISTEN)
		return V_KERNEL; /* not bound to a bypass address: Linux autobinds on the kernel's side */
	if (s->domain == AF_INET6) {
		struct sockaddr_in6 s6;
		if (!addr || len < 24 || addr->sa_family != AF_INET6)
			return V_UNDECIDED; /* the kernel's call answers */
		memset(&s6, 0, sizeof(s6));
		memcpy(&s6, addr, len < sizeof(s6) ? len : sizeof(s6));
		if (!ip6_is_v4mapped(s6.sin6_addr.s6_addr))
			return decide6(s, op, &s6);
		/* v4-mapped: decided as the IPv4 address it names */
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = s6.sin6_port;
		memcpy(&sin.sin_addr, s6.sin6_addr.s6_addr + 12, 4);
	} else {
		if (!addr || len < sizeof(sin))
			return V_UNDECIDED; /* the kernel's call answers (EINVAL, EFAULT, EDESTADDRREQ ...) */
		memcpy(&sin, addr, sizeof(sin));
		if (sin.sin_family != AF_INET)
			return V_UNDECIDED; /* AF_UNSPEC connect, wrong family: the kernel answers */
	}
	a = ntohl(sin.sin_addr.s_addr);
	if (op == DEFER_BIND) {
		if (a == INADDR_ANY) {
			/* an offloaded port: skiff's; any other the kernel binds (it picks port
			 * 0's number), and the first connect/sendto decides, keeping the port */
			uint16_t port = ntohs(sin.sin_port);
			return port && skiff_config_port_offloaded(&g_pol.cfg, port) ? V_STACK : V_KBIND;
		}
		rt_lock(g_pol.rt, g_pol.instance);
		ours = skiff_stack_local4(rt_stack(g_pol.rt, g_pol.instance), a) >= 0;
		rt_unlock(g_pol.rt, g_pol.instance);
		return ours ? V_STACK : V_KERNEL;
	}
	if (a == INADDR_ANY)
		return V_KERNEL; /* Linux sends to 0.0.0.0 on loopback */
	rt_lock(g_pol.rt, g_pol.instance);
	if (ip4_is_loopback(a) && raw_sock_kind(s->domain, s->type, s->protocol))
		ours = false; /* raw/ping to 127/8: the kernel's loopback answers */
	else if (ip4_is_loopback(a)) /* in-process loopback: only if the other end is in the stack */
		ours = skiff_stack_loopback_peer4(rt_stack(g_pol.rt, g_pol.instance),
						  s->type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, a,
						  ntohs(sin.sin_port));
	else
		ours = skiff_route_lookup4(rt_stack(g_pol.rt, g_pol.instance), a, -1, &res) == 0;
	rt_unlock(g_pol.rt, g_pol.instance);
	return ours ? V_STACK : V_KERNEL;
}

static bool same_sock(const struct skiff_sock *s, void *ctx) { return s == ctx; }

static void to_kernel(struct skiff_sock *s) { fdt_drop_if(same_sock, s); }

/* Under g_defer_mu; fd holds s. */
static int adopt(int fd, struct skiff_sock *s)
{
	struct defer_state *ds = s->dp;
	int fl = fcntl(fd, F_GETFL), rc, saved = errno;

	s->dp = NULL;
	rc = sock_attach(s, g_pol.rt, g_pol.instance);
	if (rc < 0) {
		s->dp = ds;
		return rc;
	}
	if (fl >= 0 && (fl & O_NONBLOCK))
		atomic_fetch_or(&s->status_flags, O_NONBLOCK);
	for (unsigned i = 0; i < ds->nopts; i++) /* the kernel accepted each; skiff may lack some */
		(void)skiff_setsockopt(fd, ds->opts[i].level, ds->opts[i].name, ds->opts[i].val, ds->opts[i].len);
	if (ds->kbound && s->domain == AF_INET6) {
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(ds->kport) };
		if (skiff_bind(fd, (const struct sockaddr *)&s6, sizeof(s6)) < 0)
			rc = -errno;
	} else if (ds->kbound) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(ds->kport) };
		if (skiff_bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0)
			rc = -errno;
	}
	free(ds);
	errno = saved;
	return rc;
}

int sock_defer_resolve(int fd, enum sock_defer_op op, const struct sockaddr *addr, socklen_t len)
{
	struct skiff_fd *e = deferred(fd);
	struct skiff_sock *s;
	int rc = 0;

	if (!e)
		return 0;
	s = e->sock;
	pthread_mutex_lock(&g_defer_mu);
	if (atomic_load(&s->kind) != SKIFF_FD_DEFERRED) {
		/* decided by another thread meanwhile */
	} else if (!g_pol.rt) {
		to_kernel(s);
	} else {
		struct defer_state *ds = s->dp;
		switch (decide(s, op, addr, len)) {
		case V_STACK:
			rc = adopt(fd, s);
			break;
		case V_KERNEL:
			to_kernel(s);
			break;
		case V_KBIND:
			if (ds->kbound) {
				rc = -EINVAL; /* inet_bind: already bound */
			} else if (bind(fd, addr, len) < 0) {
				rc = -errno;
			} else {
				struct sockaddr_storage ks;
				socklen_t sl = sizeof(ks);
				if (getsockname(fd, (struct sockaddr *)&ks, &sl) == 0) {
					ds->kbound = true;
					ds->kport = ks.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ks)->sin6_port)
									     : ntohs(((struct sockaddr_in *)&ks)->sin_port);
				}
				rc = 1;
			}
			break;
		case V_UNDECIDED:
			break;
		}
	}
	pthread_mutex_unlock(&g_defer_mu);
	fdt_put(e);
	return rc;
}
