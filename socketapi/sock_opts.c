/* sock_opts.c — setsockopt/getsockopt for skiff UDP fds.
 *
 * Flow: fd → fd table (kernel fds → the kernel's setsockopt/getsockopt) → level:
 *   SOL_SOCKET  as Linux sk_setsockopt/sk_getsockopt: set needs optlen ≥ sizeof(int)
 *               (EINVAL), get copies min(len, size) and reports that length;
 *   SOL_IP      as do_ip_setsockopt/do_ip_getsockopt: an int or a single byte, a
 *               short get of a value 0..255 returns one byte;
 *   SOL_UDP     no UDP-level option yet (ENOPROTOOPT);
 *   other level set → ENOPROTOOPT, get → EOPNOTSUPP (ip_getsockopt).
 * Values live in the dataplane socket (read/written under the instance lock),
 * except the timeouts, which live in the fd-table socket (atomics).
 * Supported: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR (taken and cleared),
 * SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST, SO_RCVBUF, SO_SNDBUF (Linux doubles
 * and clamps: skiff_udp_set_*buf), SO_RCVTIMEO, SO_SNDTIMEO (old and 64-bit
 * layouts; EDOM for tv_usec outside [0, 1e6)), SO_NO_CHECK, SO_ACCEPTCONN;
 * IP_TTL, IP_TOS, IP_MULTICAST_TTL. Anything else is ENOPROTOOPT.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "dataplane/udp.h"
#include "fdtable.h"
#include "runtime.h"

#ifndef SO_RCVTIMEO_OLD
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21
#endif
#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif

/* __kernel_sock_timeval: the y2038-safe layout of SO_*TIMEO_NEW. */
struct sock_timeval64 {
	int64_t tv_sec;
	int64_t tv_usec;
};

/* ---- timeouts ---- */

/* sock_set_timeout: {0,0} → forever; tv_sec < 0 → never wait; bad usec → EDOM. */
static int set_timeout(_Atomic uint64_t *t, const void *val, socklen_t len, bool old)
{
	int64_t sec, usec;
	uint64_t ns;

	if (old) {
		struct timeval tv;
		if (len < sizeof(tv))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&tv, val, sizeof(tv));
		sec = tv.tv_sec;
		usec = tv.tv_usec;
	} else {
		struct sock_timeval64 tv;
		if (len < sizeof(tv))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&tv, val, sizeof(tv));
		sec = tv.tv_sec;
		usec = tv.tv_usec;
	}
	if (usec < 0 || usec >= 1000000)
		return -EDOM;
	if (sec < 0) {
		atomic_store(t, SKIFF_TIMEO_NOWAIT);
		return 0;
	}
	if (sec == 0 && usec == 0) {
		atomic_store(t, SKIFF_TIMEO_FOREVER);
		return 0;
	}
	if ((uint64_t)sec >= (UINT64_MAX - 1000000000ull) / 1000000000ull)
		ns = SKIFF_TIMEO_FOREVER;
	else
		ns = (uint64_t)sec * 1000000000ull + (uint64_t)usec * 1000u;
	atomic_store(t, ns);
	return 0;
}

/* sock_get_timeout: forever and never-wait both read back as {0,0}. Fills v, returns its size. */
static int get_timeout(_Atomic uint64_t *t, void *v, bool old)
{
	uint64_t ns = atomic_load(t);
	int64_t sec = 0, usec = 0;
	if (ns != SKIFF_TIMEO_FOREVER && ns != SKIFF_TIMEO_NOWAIT) {
		sec = (int64_t)(ns / 1000000000ull);
		usec = (int64_t)((ns % 1000000000ull) / 1000u);
	}
	if (old) {
		struct timeval tv = { .tv_sec = (time_t)sec, .tv_usec = (suseconds_t)usec };
		memcpy(v, &tv, sizeof(tv));
		return (int)sizeof(tv);
	} else {
		struct sock_timeval64 tv = { sec, usec };
		memcpy(v, &tv, sizeof(tv));
		return (int)sizeof(tv);
	}
}

/* ---- set ---- */

static int set_sol_socket(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_udp_sock *sk = s->dp;
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	int v, rc = 0;

	if (len < sizeof(int))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	switch (name) {
	case SO_RCVTIMEO_OLD:
		return set_timeout(&s->rcvtimeo_ns, val, len, true);
	case SO_SNDTIMEO_OLD:
		return set_timeout(&s->sndtimeo_ns, val, len, true);
	case SO_RCVTIMEO_NEW:
		return set_timeout(&s->rcvtimeo_ns, val, len, false);
	case SO_SNDTIMEO_NEW:
		return set_timeout(&s->sndtimeo_ns, val, len, false);
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_BROADCAST:
	case SO_NO_CHECK:
	case SO_RCVBUF:
	case SO_SNDBUF:
		break;
	default:
		return -ENOPROTOOPT; /* includes the read-only SO_TYPE, SO_ERROR, ... as Linux */
	}
	memcpy(&v, val, sizeof(v));
	rt_lock(s->rt, s->instance);
	switch (name) {
	case SO_REUSEADDR:
		sk->reuseaddr = v != 0;
		break;
	case SO_REUSEPORT:
		sk->reuseport = v != 0;
		break;
	case SO_BROADCAST:
		sk->broadcast = v != 0;
		break;
	case SO_NO_CHECK:
		sk->no_check = v != 0;
		break;
	case SO_RCVBUF:
		rc = skiff_udp_set_rcvbuf(st, sk, v);
		break;
	case SO_SNDBUF:
		rc = skiff_udp_set_sndbuf(st, sk, v);
		break;
	}
	rt_unlock(s->rt, s->instance);
	return rc;
}

static int set_sol_ip(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_udp_sock *sk = s->dp;
	int v = 0;

	if (name != IP_TTL && name != IP_TOS && name != IP_MULTICAST_TTL)
		return -ENOPROTOOPT;
	/* do_ip_setsockopt: an int, or one unsigned byte */
	if (len >= sizeof(int)) {
		if (!val)
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
	} else if (len >= 1) {
		if (!val)
			return -EFAULT;
		v = *(const unsigned char *)val;
	}
	if (name == IP_TTL) {
		if (len < 1)
			return -EINVAL;
		if (v != -1 && (v < 1 || v > 255))
			return -EINVAL;
	}
	if (name == IP_MULTICAST_TTL) {
		if (len < 1)
			return -EINVAL;
		if (v == -1)
			v = 1;
		if (v < 0 || v > 255)
			return -EINVAL;
	}
	rt_lock(s->rt, s->instance);
	if (name == IP_TTL)
		sk->ttl = v == -1 ? rt_stack(s->rt, s->instance)->cfg.default_ttl : (uint8_t)v;
	else if (name == IP_MULTICAST_TTL)
		sk->mcast_ttl = (uint8_t)v;
	else
		sk->tos = (uint8_t)v;
	rt_unlock(s->rt, s->instance);
	return 0;
}

int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;

	if (!e)
		return setsockopt(fd, level, name, val, len);
	if ((int)len < 0)
		rc = -EINVAL;
	else if (level == SOL_SOCKET)
		rc = set_sol_socket(e->sock, name, val, len);
	else if (level == SOL_IP)
		rc = set_sol_ip(e->sock, name, val, len);
	else if (level == SOL_UDP)
		rc = len < sizeof(int) ? -EINVAL : !val ? -EFAULT : -ENOPROTOOPT;
	else
		rc = -ENOPROTOOPT;
	fdt_put(e);
	return skiff_ret(rc);
}

/* ---- get ---- */

static int get_sol_socket(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_udp_sock *sk = s->dp;
	union {
		int i;
		struct timeval tv;
		struct sock_timeval64 tv64;
	} v;
	int len = (int)*lenp, lv = (int)sizeof(int);

	if (len < 0)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	switch (name) {
	case SO_TYPE:
		v.i = SOCK_DGRAM;
		break;
	case SO_DOMAIN:
		v.i = AF_INET;
		break;
	case SO_PROTOCOL:
		v.i = IPPROTO_UDP;
		break;
	case SO_ACCEPTCONN:
		v.i = 0;
		break;
	case SO_RCVTIMEO_OLD:
		lv = get_timeout(&s->rcvtimeo_ns, &v, true);
		break;
	case SO_SNDTIMEO_OLD:
		lv = get_timeout(&s->sndtimeo_ns, &v, true);
		break;
	case SO_RCVTIMEO_NEW:
		lv = get_timeout(&s->rcvtimeo_ns, &v, false);
		break;
	case SO_SNDTIMEO_NEW:
		lv = get_timeout(&s->sndtimeo_ns, &v, false);
		break;
	case SO_ERROR:
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_BROADCAST:
	case SO_NO_CHECK:
	case SO_RCVBUF:
	case SO_SNDBUF:
		rt_lock(s->rt, s->instance);
		switch (name) {
		case SO_ERROR:
			v.i = skiff_udp_take_error(sk);
			break;
		case SO_REUSEADDR:
			v.i = sk->reuseaddr;
			break;
		case SO_REUSEPORT:
			v.i = sk->reuseport;
			break;
		case SO_BROADCAST:
			v.i = sk->broadcast;
			break;
		case SO_NO_CHECK:
			v.i = sk->no_check;
			break;
		case SO_RCVBUF:
			v.i = (int)sk->rcvbuf;
			break;
		case SO_SNDBUF:
			v.i = (int)sk->sndbuf;
			break;
		}
		rt_unlock(s->rt, s->instance);
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (len > lv)
		len = lv;
	if (len) {
		if (!val)
			return -EFAULT;
		memcpy(val, &v, (size_t)len);
	}
	*lenp = (socklen_t)len;
	return 0;
}

static int get_sol_ip(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_udp_sock *sk = s->dp;
	int len = (int)*lenp, v;

	if (len < 0)
		return -EINVAL;
	if (name != IP_TTL && name != IP_TOS && name != IP_MULTICAST_TTL)
		return -ENOPROTOOPT;
	rt_lock(s->rt, s->instance);
	v = name == IP_TTL ? sk->ttl : name == IP_MULTICAST_TTL ? sk->mcast_ttl : sk->tos;
	rt_unlock(s->rt, s->instance);
	if (len < (int)sizeof(int) && len > 0 && v >= 0 && v <= 255) {
		unsigned char uc = (unsigned char)v;
		if (!val)
			return -EFAULT;
		*lenp = 1;
		memcpy(val, &uc, 1);
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

int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;

	if (!e)
		return getsockopt(fd, level, name, val, len);
	if (!len)
		rc = -EFAULT;
	else if (level == SOL_SOCKET)
		rc = get_sol_socket(e->sock, name, val, len);
	else if (level == SOL_IP)
		rc = get_sol_ip(e->sock, name, val, len);
	else if (level == SOL_UDP)
		rc = (int)*len < 0 ? -EINVAL : -ENOPROTOOPT;
	else
		rc = -EOPNOTSUPP; /* do_ip_getsockopt: level != SOL_IP */
	fdt_put(e);
	return skiff_ret(rc);
}
