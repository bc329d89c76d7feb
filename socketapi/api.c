/* api.c — the remaining skiff.h entry points: socket creation, close, fcntl, ioctl,
 * poll, skiff_is_socket.
 *
 * Flow:
 *   skiff_socket[_on]: the real socket(domain, type, protocol) first (the kernel's
 *     errnos come back unchanged and the fd number is reserved) → AF_INET +
 *     SOCK_DGRAM + protocol 0/IPPROTO_UDP → dataplane socket + fd table entry;
 *     anything else → the kernel fd, untracked.
 *   skiff_close: unpublish → close the kernel fd → drop the entry (the last fd of a
 *     socket closes the dataplane socket).
 *   skiff_fcntl/ioctl: O_NONBLOCK (F_SETFL, FIONBIO) tracked and applied to the
 *     kernel fd too; F_DUPFD* share the socket; FIONREAD from the dataplane; the
 *     rest goes to the kernel fd.
 *   skiff_poll: skiff fds answer from the dataplane, kernel fds from poll(…, 0);
 *     rounds of progress until something is ready, the busy-poll budget is spent,
 *     then one sleep on the kernel fds + device wakeup fds together (rt_sleep).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdtable.h"
#include "runtime.h"
#include "sock_packet.h"
#include "sock_raw.h"
#include "sock_tcp.h"

/* ---- socket ---- */

static bool skiff_serves(int domain, int type, int protocol)
{
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (raw_sock_kind(domain, base, protocol)) /* raw and ping sockets, IPv4 and IPv6: sock_raw.c */
		return true;
	if (domain == AF_INET6)
		return (base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) ||
		       (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP));
	return domain == AF_INET && ((base == SOCK_DGRAM && (protocol == 0 || protocol == IPPROTO_UDP)) ||
				     (base == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)));
}

int sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance)
{
	if (raw_sock_kind(s->domain, s->type, s->protocol)) /* sock_raw.c */
		return raw_sock_attach(s, rt, instance);
	return s->type == SOCK_STREAM ? tcp_sock_attach(s, rt, instance) : udp_sock_attach(s, rt, instance);
}

/* A stack socket of base type `base` on (rt, instance) for the reserved kernel fd
 * kfd, recorded in the fd table. On failure the caller still owns kfd. */
static int stack_sock_open(struct skiff_rt *rt, int instance, int kfd, int domain, int base, int nonblock,
			   int fd_flags)
{
	struct skiff_sock *s = fdt_sock_new(SKIFF_FD_DEFERRED, domain, base,
					    base == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, NULL);
	int rc;

	if (!s)
		return -ENOMEM;
	if (nonblock)
		atomic_store(&s->status_flags, O_NONBLOCK);
	rc = sock_attach(s, rt, instance);
	if (rc == 0)
		rc = fdt_install(kfd, s, fd_flags);
	fdt_sock_put(s); /* the table holds its own reference; on failure this closes the socket */
	return rc;
}

static int socket_common(struct skiff_rt *rt, int instance, int bad_instance_err, int domain, int type, int protocol)
{
	int kfd = socket(domain, type, protocol), rc;

	if (kfd < 0 || !skiff_serves(domain, type, protocol))
		return kfd; /* the kernel's answer, or a kernel socket */
	if (!rt)
		rc = bad_instance_err;
	else if (!rt_instance_ok(rt, instance))
		rc = bad_instance_err;
	else if (raw_sock_kind(domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol))
		rc = raw_sock_open(rt, instance, kfd, domain, type, protocol); /* sock_raw.c */
	else
		rc = stack_sock_open(rt, instance, kfd, domain, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), type & SOCK_NONBLOCK,
				     type & SOCK_CLOEXEC ? FD_CLOEXEC : 0);
	if (rc < 0) {
		close(kfd);
		errno = -rc;
		return -1;
	}
	return kfd;
}

int skiff_socket(int domain, int type, int protocol)
{
	int instance = 0;
	struct skiff_rt *rt = skiff_serves(domain, type, protocol) ? rt_current(&instance) : NULL;
	/* No runtime (or it has no instance yet): no interface can carry this socket. */
	return socket_common(rt, instance, -ENETDOWN, domain, type, protocol);
}

int skiff_socket_on(struct skiff_rt *rt, int instance, int domain, int type, int protocol)
{
	return socket_common(rt, instance, -EINVAL, domain, type, protocol);
}

int skiff_is_socket(int fd)
{
	struct skiff_fd *e = fdt_get(fd);
	fdt_put(e);
	return e ? 1 : 0;
}

/* ---- close ---- */

int skiff_close(int fd)
{
	struct skiff_fd *e = fdt_remove(fd);
	int r, saved;

	if (!e)
		return close(fd);
	r = close(fd);
	saved = errno;
	fdt_put(e);
	errno = saved;
	return r;
}

/* ---- fcntl / ioctl ---- */

static void set_nonblock(struct skiff_sock *s, bool on)
{
	if (on)
		atomic_fetch_or(&s->status_flags, O_NONBLOCK);
	else
		atomic_fetch_and(&s->status_flags, ~O_NONBLOCK);
}

int skiff_fcntl(int fd, int cmd, ...)
{
	struct skiff_fd *e;
	va_list ap;
	void *arg;
	int r, saved;

	/* As glibc's fcntl: the optional argument is read as a pointer-sized word. */
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	e = fdt_get(fd);
	if (!e)
		return fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_GETFL:
		r = fcntl(fd, F_GETFL);
		if (r >= 0)
			r = (r & ~O_NONBLOCK) | (atomic_load(&e->sock->status_flags) & O_NONBLOCK);
		break;
	case F_SETFL:
		r = fcntl(fd, F_SETFL, (int)(intptr_t)arg);
		if (r == 0)
			set_nonblock(e->sock, (int)(intptr_t)arg & O_NONBLOCK);
		break;
	case F_SETFD:
		r = fcntl(fd, F_SETFD, (int)(intptr_t)arg);
		if (r == 0)
			atomic_store(&e->fd_flags, (int)(intptr_t)arg & FD_CLOEXEC);
		break;
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		r = fcntl(fd, cmd, (int)(intptr_t)arg);
		if (r >= 0) {
			int rc = fdt_install(r, e->sock, cmd == F_DUPFD_CLOEXEC ? FD_CLOEXEC : 0);
			if (rc < 0) {
				close(r);
				errno = -rc;
				r = -1;
			}
		}
		break;
	default:
		r = fcntl(fd, cmd, arg);
		break;
	}
	saved = errno;
	fdt_put(e);
	errno = saved;
	return r;
}

int skiff_ioctl(int fd, unsigned long req, ...)
{
	struct skiff_fd *e;
	va_list ap;
	void *arg;
	int r, saved;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	e = fdt_get(fd);
	if (!e)
		return sock_packet_ioctl(fd, req, arg); /* sock_packet.c, or the kernel's */
	switch (req) {
	case FIONREAD: /* == SIOCINQ: length of the next datagram; TCP: bytes readable */
		if (!arg) {
			errno = EFAULT;
			r = -1;
		} else if (e->sock->kind == SKIFF_FD_RAW) {
			*(int *)arg = raw_sock_next_len(e->sock);
			r = 0;
		} else if (e->sock->kind == SKIFF_FD_TCP) {
			int n = tcp_sock_inq(e->sock);
			if (n < 0) {
				errno = -n;
				r = -1;
			} else {
				*(int *)arg = n;
				r = 0;
			}
		} else {
			*(int *)arg = udp_sock_next_len(e->sock);
			r = 0;
		}
		break;
	case FIONBIO:
		r = ioctl(fd, FIONBIO, arg);
		if (r == 0)
			set_nonblock(e->sock, *(const int *)arg != 0);
		break;
	default:
		r = ioctl(fd, req, arg); /* the reserved kernel socket answers the rest */
		break;
	}
	saved = errno;
	fdt_put(e);
	errno = saved;
	return r;
}

/* ---- poll ---- */

struct poll_state {
	struct skiff_fd **ent;     /* per pollfd: skiff entry or NULL */
	struct pollfd *kpfd;       /* copy of fds with skiff entries masked out (fd -1) */
	struct skiff_rt **rts;     /* distinct runtimes involved */
	struct rt_waiter *w;       /* one per runtime while sleeping */
	unsigned nrt;
};

/* One evaluation: skiff fds from the dataplane, kernel fds with poll(…, 0). */
static int poll_eval(struct pollfd *fds, nfds_t nfds, struct poll_state *ps)
{
	static const struct timespec zero = { 0, 0 };
	int count = 0, r;

	for (nfds_t i = 0; i < nfds; i++) {
		short ev;
		if (!ps->ent[i])
			continue;
		if (ps->ent[i]->sock->kind == SKIFF_FD_TCP)
			ev = tcp_sock_revents(ps->ent[i]->sock) & (fds[i].events | POLLERR | POLLHUP);
		else if (ps->ent[i]->sock->kind == SKIFF_FD_PACKET) /* sock_packet.c */
			ev = sock_packet_revents(ps->ent[i]->sock) & (fds[i].events | POLLERR | POLLHUP);
		else if (ps->ent[i]->sock->kind == SKIFF_FD_RAW)
			ev = raw_sock_revents(ps->ent[i]->sock) & (fds[i].events | POLLERR | POLLHUP);
		else
			ev = udp_sock_revents(ps->ent[i]->sock) & (fds[i].events | POLLERR | POLLHUP);
		fds[i].revents = ev;
		count += ev != 0;
	}
	r = ppoll(ps->kpfd, nfds, &zero, NULL);
	if (r < 0)
		return -errno;
	for (nfds_t i = 0; i < nfds; i++) {
		if (ps->ent[i])
			continue;
		fds[i].revents = ps->kpfd[i].revents;
		count += fds[i].revents != 0;
	}
	return count;
}

static int poll_skiff(struct pollfd *fds, nfds_t nfds, uint64_t timeout_ns, const sigset_t *sigmask,
		      struct poll_state *ps)
{
	struct skiff_rt *rt0 = ps->rts[0];
	uint64_t deadline = timeout_ns == UINT64_MAX ? UINT64_MAX : rt_now(rt0) + timeout_ns;
	uint64_t spin_end = rt_mono_ns() + atomic_load(&rt0->busy_poll_ns);
	unsigned sigs = skiff_tls_sigs;
	bool reg = false;
	int rc;

	for (;;) {
		uint64_t now;
		for (unsigned j = 0; j < ps->nrt; j++)
			rt_progress_all(ps->rts[j], -1);
		rc = poll_eval(fds, nfds, ps);
		if (rc != 0)
			break;
		if (skiff_tls_sigs != sigs) { /* a handler ran: poll is never restarted */
			rc = -EINTR;
			break;
		}
		now = rt_now(rt0);
		if (timeout_ns == 0 || now >= deadline)
			break;
		if (!reg && rt_mono_ns() < spin_end)
			continue;
		if (!reg) {
			for (unsigned j = 0; j < ps->nrt; j++)
				rt_waiter_add(ps->rts[j], &ps->w[j], NULL);
			reg = true;
			continue; /* re-check once registered */
		}
		rc = rt_sleep(ps->rts, ps->nrt, ps->kpfd, (unsigned)nfds,
			      deadline == UINT64_MAX ? UINT64_MAX : deadline - now, sigmask);
		if (rc < 0)
			break;
	}
	if (reg)
		for (unsigned j = 0; j < ps->nrt; j++)
			rt_waiter_del(ps->rts[j], &ps->w[j]);
	return rc;
}

static int kernel_poll(struct pollfd *fds, nfds_t nfds, uint64_t timeout_ns, const sigset_t *sigmask)
{
	struct timespec ts = { (time_t)(timeout_ns / 1000000000ull), (long)(timeout_ns % 1000000000ull) };
	int r = ppoll(fds, nfds, timeout_ns == UINT64_MAX ? NULL : &ts, sigmask);
	return r < 0 ? -errno : r;
}

int sock_poll(struct pollfd *fds, nfds_t nfds, uint64_t timeout_ns, const sigset_t *sigmask)
{
	struct poll_state ps = { 0 };
	struct rlimit rl;
	bool any = false;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && nfds > rl.rlim_cur)
		return -EINVAL;
	if (nfds && !fds)
		return -EFAULT;
	for (nfds_t i = 0; i < nfds && !any; i++)
		any = fds[i].fd >= 0 && fdt_contains(fds[i].fd);
	if (!any)
		return kernel_poll(fds, nfds, timeout_ns, sigmask);

	ps.ent = calloc(nfds, sizeof(*ps.ent));
	ps.kpfd = calloc(nfds, sizeof(*ps.kpfd));
	ps.rts = calloc(nfds, sizeof(*ps.rts));
	ps.w = calloc(nfds, sizeof(*ps.w));
	if (!ps.ent || !ps.kpfd || !ps.rts || !ps.w) {
		rc = -ENOMEM;
		goto out;
	}
	for (nfds_t i = 0; i < nfds; i++) {
		ps.kpfd[i] = fds[i];
		ps.kpfd[i].revents = 0;
		fds[i].revents = 0;
		ps.ent[i] = fds[i].fd >= 0 ? fdt_get(fds[i].fd) : NULL;
		if (!ps.ent[i] && fds[i].fd >= 0)
			ps.ent[i] = sock_packet_entry(fds[i].fd); /* a skiff packet socket (sock_packet.c) */
		if (ps.ent[i]) {
			struct skiff_rt *rt = ps.ent[i]->sock->rt;
			unsigned j;
			ps.kpfd[i].fd = -1; /* the kernel ignores it */
			for (j = 0; j < ps.nrt && ps.rts[j] != rt; j++)
				;
			if (j == ps.nrt)
				ps.rts[ps.nrt++] = rt;
		}
	}
	if (ps.nrt == 0) /* deferred sockets (the kernel's for now), or closed since the first look */
		rc = kernel_poll(fds, nfds, timeout_ns, sigmask);
	else
		rc = poll_skiff(fds, nfds, timeout_ns, sigmask, &ps);
out:
	if (ps.ent)
		for (nfds_t i = 0; i < nfds; i++)
			fdt_put(ps.ent[i]);
	free(ps.ent);
	free(ps.kpfd);
	free(ps.rts);
	free(ps.w);
	return rc;
}

int skiff_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	return skiff_ret(sock_poll(fds, nfds, timeout_ms < 0 ? UINT64_MAX : (uint64_t)timeout_ms * 1000000ull, NULL));
}

int skiff_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t *sigmask)
{
	uint64_t t = UINT64_MAX;
	if (tmo) {
		if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000l)
			return skiff_ret(-EINVAL);
		t = (uint64_t)tmo->tv_sec * 1000000000ull + (uint64_t)tmo->tv_nsec;
	}
	return skiff_ret(sock_poll(fds, nfds, t, sigmask));
}
