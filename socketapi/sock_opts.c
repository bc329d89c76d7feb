/* sock_opts.c — setsockopt/getsockopt for skiff UDP and TCP fds.
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
 * TCP fds (tcp_setsockopt/tcp_getsockopt below, as Linux sk_setsockopt +
 * do_tcp_setsockopt/do_tcp_getsockopt): SOL_SOCKET SO_TYPE, SO_DOMAIN, SO_PROTOCOL,
 * SO_ACCEPTCONN, SO_ERROR, SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_LINGER,
 * SO_RCVBUF, SO_SNDBUF, SO_RCVTIMEO, SO_SNDTIMEO; SOL_TCP TCP_NODELAY, TCP_CORK,
 * TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT,
 * TCP_QUICKACK, TCP_CONGESTION, TCP_INFO. Values live in the TCB (under the
 * instance lock); a TCB the dataplane let go reads as a closed socket's defaults.
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
#include "defer.h"
#include "sock_mcast.h"
#include "sock_cmsg.h"
#include "sock_opts6.h"
#include "fdtable.h"
#include "runtime.h"
#include "sock_packet.h"
#include "sock_raw.h"
#include "sock_tcp.h"
#include "dataplane/tcp_cc.h"

/* after the dataplane headers: its TCPOPT_* macros would clash with wire_tcp.h's enum */
#include <netinet/tcp.h>

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

/* sock_raw.c shares the timeouts (sock_raw.h). */
int sock_timeo_set(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	if (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD || name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW)
		return set_timeout(name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW ? &s->rcvtimeo_ns : &s->sndtimeo_ns,
				   val, len, name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD);
	return 1;
}

int sock_timeo_get(struct skiff_sock *s, int name, void *v)
{
	if (name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD || name == SO_RCVTIMEO_NEW || name == SO_SNDTIMEO_NEW)
		return get_timeout(name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW ? &s->rcvtimeo_ns : &s->sndtimeo_ns,
				   v, name == SO_RCVTIMEO_OLD || name == SO_SNDTIMEO_OLD);
	return 0;
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

	if (sock_mcast_is_opt(name)) /* memberships, IP_MULTICAST_IF/LOOP/ALL (sock_mcast.c) */
		return sock_mcast_set(s, name, val, len);
	if (sock_cmsg_flag_of(SOL_IP, name)) /* IP_PKTINFO, IP_RECVTTL, IP_RECVTOS (sock_cmsg.c) */
		return sock_cmsg_setopt(s, SOL_IP, name, val, len);
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

/* ---- TCP ---- */

#define LINUX_TCP_MIN_MSS 88
#define LINUX_MAX_TCP_WINDOW 32767
#define LINUX_MAX_TCP_KEEPIDLE 32767
#define LINUX_MAX_TCP_KEEPINTVL 32767
#define LINUX_MAX_TCP_KEEPCNT 127
#define LINUX_TCP_CA_NAME_MAX 16
#define LINUX_TCP_MSS_DEFAULT 536

static int tcp_set_sol_socket(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	struct skiff_tcp_sock *sk;
	struct linger lg;
	int v = 0, rc = 0;

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
	case SO_LINGER:
		if (len < sizeof(lg))
			return -EINVAL;
		memcpy(&lg, val, sizeof(lg));
		break;
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_RCVBUF:
	case SO_SNDBUF:
		memcpy(&v, val, sizeof(v));
		break;
	default:
		return -ENOPROTOOPT;
	}
	rt_lock(s->rt, s->instance);
	sk = tcp_sock_tcb(s);
	if (!sk) {
		rt_unlock(s->rt, s->instance);
		return 0; /* a connection the dataplane finished: nothing left to tune */
	}
	switch (name) {
	case SO_LINGER:
		sk->linger_on = lg.l_onoff != 0;
		sk->linger_s = lg.l_linger < 0 ? 0 : (uint32_t)lg.l_linger;
		break;
	case SO_REUSEADDR:
		sk->reuseaddr = v != 0;
		break;
	case SO_REUSEPORT:
		sk->reuseport = v != 0;
		break;
	case SO_KEEPALIVE:
		sk->keepalive = v != 0;
		break;
	case SO_RCVBUF:
		rc = skiff_tcp_set_rcvbuf(st, sk, v);
		break;
	case SO_SNDBUF:
		rc = skiff_tcp_set_sndbuf(st, sk, v);
		break;
	}
	rt_unlock(s->rt, s->instance);
	return rc;
}

static int tcp_set_sol_tcp(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct skiff_stack *st = rt_stack(s->rt, s->instance);
	struct skiff_tcp_sock *sk;
	const struct skiff_tcp_cc_ops *ops = NULL;
	char cname[LINUX_TCP_CA_NAME_MAX];
	int v = 0, rc = 0;

	if (name == TCP_CONGESTION) {
		size_t n = len < LINUX_TCP_CA_NAME_MAX - 1 ? len : LINUX_TCP_CA_NAME_MAX - 1;
		if (len < 1)
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memset(cname, 0, sizeof(cname));
		memcpy(cname, val, n);
		rc = skiff_tcp_cc_find_n(cname, n, &ops);
		if (rc)
			return rc;
	} else {
		if (len < sizeof(int))
			return -EINVAL;
		if (!val)
			return -EFAULT;
		memcpy(&v, val, sizeof(v));
	}
	switch (name) {
	case TCP_CONGESTION:
	case TCP_NODELAY:
	case TCP_CORK:
	case TCP_QUICKACK:
		break;
	case TCP_MAXSEG:
		if (v && (v < LINUX_TCP_MIN_MSS || v > LINUX_MAX_TCP_WINDOW))
			return -EINVAL;
		break;
	case TCP_KEEPIDLE:
		if (v < 1 || v > LINUX_MAX_TCP_KEEPIDLE)
			return -EINVAL;
		break;
	case TCP_KEEPINTVL:
		if (v < 1 || v > LINUX_MAX_TCP_KEEPINTVL)
			return -EINVAL;
		break;
	case TCP_KEEPCNT:
		if (v < 1 || v > LINUX_MAX_TCP_KEEPCNT)
			return -EINVAL;
		break;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		break;
	default:
		return -ENOPROTOOPT;
	}
	rt_lock(s->rt, s->instance);
	sk = tcp_sock_tcb(s);
	if (!sk) {
		rt_unlock(s->rt, s->instance);
		return 0;
	}
	switch (name) {
	case TCP_CONGESTION:
		if (sk->cc.mss)
			rc = skiff_tcp_cc_switch(&sk->cc, ops); /* live connection: windows kept */
		else
			sk->cc.ops = ops;
		break;
	case TCP_NODELAY:
		rc = skiff_tcp_set_nodelay(st, sk, v != 0, rt_now(s->rt));
		break;
	case TCP_CORK:
		rc = skiff_tcp_set_cork(st, sk, v != 0, rt_now(s->rt));
		break;
	case TCP_QUICKACK:
		sk->quickack_mode = (v & 1) != 0;
		break;
	case TCP_MAXSEG:
		sk->user_mss = (uint32_t)v;
		break;
	case TCP_KEEPIDLE:
		sk->keep_idle_ns = (uint64_t)v * 1000000000ull;
		break;
	case TCP_KEEPINTVL:
		sk->keep_intvl_ns = (uint64_t)v * 1000000000ull;
		break;
	case TCP_KEEPCNT:
		sk->keep_cnt = (uint8_t)v;
		break;
	case TCP_USER_TIMEOUT:
		sk->user_timeout_ns = (uint64_t)v * 1000000ull;
		break;
	}
	rt_progress_locked(s->rt, s->instance, rt_now(s->rt)); /* what NODELAY/uncork released goes out */
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* Linux tcp_set_state numbers for tcpi_state. */
static uint8_t linux_tcp_state(int state)
{
	switch (state) {
	case SKIFF_TCP_LISTEN: return TCP_LISTEN;
	case SKIFF_TCP_SYN_SENT: return TCP_SYN_SENT;
	case SKIFF_TCP_SYN_RECEIVED: return TCP_SYN_RECV;
	case SKIFF_TCP_ESTABLISHED: return TCP_ESTABLISHED;
	case SKIFF_TCP_FIN_WAIT_1: return TCP_FIN_WAIT1;
	case SKIFF_TCP_FIN_WAIT_2: return TCP_FIN_WAIT2;
	case SKIFF_TCP_CLOSE_WAIT: return TCP_CLOSE_WAIT;
	case SKIFF_TCP_CLOSING: return TCP_CLOSING;
	case SKIFF_TCP_LAST_ACK: return TCP_LAST_ACK;
	case SKIFF_TCP_TIME_WAIT: return TCP_TIME_WAIT;
	default: return TCP_CLOSE;
	}
}

static void fill_tcp_info(const struct skiff_tcp_sock *sk, struct tcp_info *ti)
{
	uint32_t mss;
	memset(ti, 0, sizeof(*ti));
	ti->tcpi_state = TCP_CLOSE;
	if (!sk)
		return;
	mss = sk->mss ? sk->mss : LINUX_TCP_MSS_DEFAULT;
	ti->tcpi_state = linux_tcp_state(sk->state);
	ti->tcpi_retransmits = sk->rtx_count;
	ti->tcpi_probes = sk->keep_probes;
	ti->tcpi_backoff = sk->backoff;
	if (sk->ts_ok)
		ti->tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (sk->sack_ok)
		ti->tcpi_options |= TCPI_OPT_SACK;
	if (sk->ws_ok) {
		ti->tcpi_options |= TCPI_OPT_WSCALE;
		ti->tcpi_snd_wscale = sk->snd_wscale & 0xf;
		ti->tcpi_rcv_wscale = sk->rcv_wscale & 0xf;
	}
	ti->tcpi_rto = (uint32_t)(sk->rto / 1000u);
	ti->tcpi_ato = sk->quickack_mode ? 0 : 40000;
	ti->tcpi_snd_mss = mss;
	ti->tcpi_rcv_mss = sk->peer_mss ? (sk->peer_mss < mss ? sk->peer_mss : mss) : mss;
	ti->tcpi_unacked = (sk->snd_max - sk->snd_una + mss - 1) / mss;
	ti->tcpi_rtt = (uint32_t)(sk->srtt / 1000u);
	ti->tcpi_rttvar = (uint32_t)(sk->rttvar / 1000u);
	ti->tcpi_snd_cwnd = sk->cc.cwnd ? (sk->cc.cwnd + mss - 1) / mss : 0;
	ti->tcpi_snd_ssthresh = sk->cc.ssthresh >= 0x7fffffffu / mss * mss ? 0x7fffffffu : sk->cc.ssthresh / mss;
	ti->tcpi_advmss = mss;
	ti->tcpi_rcv_space = sk->rcvbuf / 2;
	ti->tcpi_pmtu = mss + 40u;
	ti->tcpi_total_retrans = sk->total_retrans;
}

static int tcp_setsockopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len);

int skiff_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;

	if (!e) {
		rc = sock_defer_setsockopt(fd, level, name, val, len);
		return rc == 1 ? sock_packet_setsockopt(fd, level, name, val, len) /* sock_packet.c, or the kernel's */
			       : skiff_ret(rc);
	}
	if (e->sock->kind == SKIFF_FD_TCP)
		rc = tcp_setsockopt(e->sock, level, name, val, len);
	else if (e->sock->kind == SKIFF_FD_RAW) /* sock_raw.c */
		rc = raw_sock_setsockopt(e->sock, level, name, val, len);
	else if ((int)len < 0)
		rc = -EINVAL;
	else if (level == SOL_SOCKET)
		rc = set_sol_socket(e->sock, name, val, len);
	else if (level == SOL_IP)
		rc = set_sol_ip(e->sock, name, val, len);
	else if (level == SOL_IPV6)
		rc = sock_ipv6_set(e->sock, name, val, len); /* sock_opts6.c */
	else if (level == SOL_UDP)
		rc = len < sizeof(int) ? -EINVAL : !val ? -EFAULT : -ENOPROTOOPT;
	else
		rc = -ENOPROTOOPT;
	if (rc == -ENOPROTOOPT && atomic_load(&e->sock->rt->kernel_opts) && val && (int)len >= 0)
		/* preload: an option skiff does not have goes to the reserved kernel socket,
		 * which validates it (and keeps it for getsockopt) without acting on it */
		rc = setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
	fdt_put(e);
	return skiff_ret(rc);
}

/* ---- get ---- */

/* getsockopt's copy-out, as Linux: at most the value's size lv, at most what
 * the caller's buffer holds (len); the length written back. */
static int put_optval(void *val, socklen_t *lenp, int len, const void *v, int lv)
{
	if (len > lv)
		len = lv;
	if (len) {
		if (!val)
			return -EFAULT;
		memcpy(val, v, (size_t)len);
	}
	*lenp = (socklen_t)len;
	return 0;
}

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
		v.i = s->domain;
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
	return put_optval(val, lenp, len, &v, lv);
}

static int get_sol_ip(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_udp_sock *sk = s->dp;
	int len = (int)*lenp, v;

	if (len < 0)
		return -EINVAL;
	if (sock_mcast_is_opt(name)) /* sock_mcast.c */
		return sock_mcast_get(s, name, val, lenp);
	if (sock_cmsg_flag_of(SOL_IP, name)) /* sock_cmsg.c */
		return sock_cmsg_getopt(s, SOL_IP, name, val, lenp);
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
	return put_optval(val, lenp, len, &v, (int)sizeof(int));
}

static int tcp_get_sol_socket(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_tcp_sock *sk;
	union {
		int i;
		struct linger lg;
		struct timeval tv;
		struct sock_timeval64 tv64;
	} v;
	int len = (int)*lenp, lv = (int)sizeof(int);

	if (len < 0)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	switch (name) {
	case SO_TYPE:
		v.i = SOCK_STREAM;
		break;
	case SO_DOMAIN:
		v.i = s->domain;
		break;
	case SO_PROTOCOL:
		v.i = IPPROTO_TCP;
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
	case SO_ACCEPTCONN:
	case SO_ERROR:
	case SO_REUSEADDR:
	case SO_REUSEPORT:
	case SO_KEEPALIVE:
	case SO_LINGER:
	case SO_RCVBUF:
	case SO_SNDBUF: {
		struct skiff_stack *st = rt_stack(s->rt, s->instance);
		rt_lock(s->rt, s->instance);
		sk = tcp_sock_tcb(s);
		switch (name) {
		case SO_ACCEPTCONN:
			v.i = sk && sk->state == SKIFF_TCP_LISTEN;
			break;
		case SO_ERROR:
			v.i = sk ? skiff_tcp_take_error(sk) : 0;
			break;
		case SO_REUSEADDR:
			v.i = sk && sk->reuseaddr;
			break;
		case SO_REUSEPORT:
			v.i = sk && sk->reuseport;
			break;
		case SO_KEEPALIVE:
			v.i = sk && sk->keepalive;
			break;
		case SO_LINGER:
			lv = (int)sizeof(v.lg);
			v.lg.l_onoff = sk && sk->linger_on;
			v.lg.l_linger = sk ? (int)sk->linger_s : 0;
			break;
		case SO_RCVBUF:
			v.i = (int)(sk ? sk->rcvbuf : st->cfg.tcp_rcvbuf);
			break;
		case SO_SNDBUF:
			v.i = (int)(sk ? sk->sndbuf : st->cfg.tcp_sndbuf);
			break;
		}
		rt_unlock(s->rt, s->instance);
		break;
	}
	default:
		return -ENOPROTOOPT;
	}
	return put_optval(val, lenp, len, &v, lv);
}

static int tcp_get_sol_tcp(struct skiff_sock *s, int name, void *val, socklen_t *lenp)
{
	struct skiff_tcp_sock *sk;
	union {
		int i;
		char name[LINUX_TCP_CA_NAME_MAX];
		struct tcp_info ti;
	} v;
	int len = (int)*lenp, lv = (int)sizeof(int);

	if (len < 0)
		return -EINVAL;
	switch (name) {
	case TCP_NODELAY:
	case TCP_CORK:
	case TCP_MAXSEG:
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
	case TCP_KEEPCNT:
	case TCP_USER_TIMEOUT:
	case TCP_QUICKACK:
	case TCP_CONGESTION:
	case TCP_INFO:
		break;
	default:
		return -ENOPROTOOPT;
	}
	memset(&v, 0, sizeof(v));
	rt_lock(s->rt, s->instance);
	sk = tcp_sock_tcb(s);
	switch (name) {
	case TCP_NODELAY:
		v.i = sk && sk->nodelay;
		break;
	case TCP_CORK:
		v.i = sk && sk->cork;
		break;
	case TCP_MAXSEG:
		/* tp->mss_cache; the user's value while closed or listening */
		if (sk && sk->user_mss && (sk->state == SKIFF_TCP_CLOSED || sk->state == SKIFF_TCP_LISTEN))
			v.i = (int)sk->user_mss;
		else
			v.i = sk && sk->mss && sk->state != SKIFF_TCP_CLOSED && sk->state != SKIFF_TCP_LISTEN
				      ? (int)sk->mss
				      : LINUX_TCP_MSS_DEFAULT;
		break;
	case TCP_KEEPIDLE:
		v.i = (int)((sk ? sk->keep_idle_ns : 7200000000000ull) / 1000000000ull);
		break;
	case TCP_KEEPINTVL:
		v.i = (int)((sk ? sk->keep_intvl_ns : 75000000000ull) / 1000000000ull);
		break;
	case TCP_KEEPCNT:
		v.i = sk ? sk->keep_cnt : 9;
		break;
	case TCP_USER_TIMEOUT:
		v.i = sk ? (int)(sk->user_timeout_ns / 1000000ull) : 0;
		break;
	case TCP_QUICKACK:
		v.i = sk && sk->quickack_mode;
		break;
	case TCP_CONGESTION: {
		const struct skiff_tcp_cc_ops *ops = sk ? sk->cc.ops : skiff_tcp_cc_default();
		if (ops && ops->name)
			strncpy(v.name, ops->name, sizeof(v.name) - 1);
		lv = LINUX_TCP_CA_NAME_MAX;
		break;
	}
	case TCP_INFO:
		fill_tcp_info(sk, &v.ti);
		lv = (int)sizeof(v.ti);
		break;
	}
	rt_unlock(s->rt, s->instance);
	return put_optval(val, lenp, len, &v, lv);
}

static int tcp_setsockopt(struct skiff_sock *s, int level, int name, const void *val, socklen_t len)
{
	if ((int)len < 0)
		return -EINVAL;
	if (level == SOL_SOCKET)
		return tcp_set_sol_socket(s, name, val, len);
	if (level == SOL_TCP)
		return tcp_set_sol_tcp(s, name, val, len);
	if (level == SOL_IPV6)
		return sock_ipv6_set(s, name, val, len); /* sock_opts6.c */
	return -ENOPROTOOPT;
}

static int tcp_getsockopt(struct skiff_sock *s, int level, int name, void *val, socklen_t *len)
{
	if (!len)
		return -EFAULT;
	if (level == SOL_SOCKET)
		return tcp_get_sol_socket(s, name, val, len);
	if (level == SOL_TCP)
		return tcp_get_sol_tcp(s, name, val, len);
	if (level == SOL_IPV6)
		return sock_ipv6_get(s, name, val, len); /* sock_opts6.c */
	return (int)*len < 0 ? -EINVAL : level == SOL_IP ? -ENOPROTOOPT : -EOPNOTSUPP;
}

int skiff_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct skiff_fd *e = fdt_get(fd);
	int rc;

	if (!e)
		return sock_packet_getsockopt(fd, level, name, val, len); /* sock_packet.c, or the kernel's */
	if (e->sock->kind == SKIFF_FD_TCP)
		rc = tcp_getsockopt(e->sock, level, name, val, len);
	else if (e->sock->kind == SKIFF_FD_RAW) /* sock_raw.c */
		rc = raw_sock_getsockopt(e->sock, level, name, val, len);
	else if (!len)
		rc = -EFAULT;
	else if (level == SOL_SOCKET)
		rc = get_sol_socket(e->sock, name, val, len);
	else if (level == SOL_IP)
		rc = get_sol_ip(e->sock, name, val, len);
	else if (level == SOL_IPV6)
		rc = sock_ipv6_get(e->sock, name, val, len); /* sock_opts6.c */
	else if (level == SOL_UDP)
		rc = (int)*len < 0 ? -EINVAL : -ENOPROTOOPT;
	else
		rc = -EOPNOTSUPP; /* do_ip_getsockopt: level != SOL_IP */
	if ((rc == -ENOPROTOOPT || rc == -EOPNOTSUPP) && atomic_load(&e->sock->rt->kernel_opts))
		rc = getsockopt(fd, level, name, val, len) < 0 ? -errno : 0; /* as setsockopt */
	fdt_put(e);
	return skiff_ret(rc);
}
