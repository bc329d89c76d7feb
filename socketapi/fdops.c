/* fdops.c — the fd calls that are not socket calls proper, for any fd: read,
 * write, readv, writev, dup/dup2/dup3, select/pselect, sendmmsg/recvmmsg and
 * sendfile. Each looks the fd up once; a fd skiff does not own goes to the
 * kernel call of the same name unchanged.
 *
 * Flow:
 *   read/readv → skiff_recv/recvmsg with no flags; write/writev → send/sendmsg
 *     (SIGPIPE as write(2) raises it).
 *   dup*: the kernel dup first (it picks the number, checks the fds, closes the
 *     target), then the new number shares the socket (any kind: deferred sockets
 *     stay deferred through a dup) and a skiff socket at the target is let go.
 *   select/pselect: fd_sets → pollfds → sock_poll → fd_sets, with Linux's
 *     POLLIN_SET/POLLOUT_SET/POLLEX_SET and the time left written back (select).
 *   sendmmsg/recvmmsg: sendmsg/recvmsg per message (Linux's loop: recvmmsg
 *     waits for the first only with MSG_WAITFORONE; an error after some
 *     messages returns the count).
 *   sendfile: read from in_fd (pread at *offset) into a bounce buffer, send it;
 *     what the socket did not take is given back to the file position.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fdtable.h"
#include "runtime.h"
#include "sock_packet.h"

static bool stack_fd(int fd)
{
	struct skiff_fd *e;
	if (!fdt_contains(fd))
		return false;
	e = fdt_get(fd);
	fdt_put(e);
	return e != NULL || sock_packet_fd(fd); /* sock_packet.c */
}

ssize_t skiff_read(int fd, void *buf, size_t len)
{
	return stack_fd(fd) ? skiff_recv(fd, buf, len, 0) : read(fd, buf, len);
}

ssize_t skiff_write(int fd, const void *buf, size_t len)
{
	return stack_fd(fd) ? skiff_send(fd, buf, len, 0) : write(fd, buf, len);
}

ssize_t skiff_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = (size_t)iovcnt };
	if (!stack_fd(fd))
		return readv(fd, iov, iovcnt);
	if (iovcnt < 0)
		return skiff_ret(-EINVAL);
	return skiff_recvmsg(fd, &m, 0);
}

ssize_t skiff_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr m = { .msg_iov = (struct iovec *)(uintptr_t)iov, .msg_iovlen = (size_t)iovcnt };
	if (!stack_fd(fd))
		return writev(fd, iov, iovcnt);
	if (iovcnt < 0)
		return skiff_ret(-EINVAL);
	return skiff_sendmsg(fd, &m, 0);
}

/* ---- dup ---- */

/* After the kernel made newfd a copy of fd: newfd shares fd's entry (if any). */
static int dup_follow(int fd, int newfd, int fd_flags)
{
	struct skiff_fd *e = fdt_get_any(fd), *old;
	int rc = 0;
	if (e) {
		rc = fdt_install(newfd, e->sock, fd_flags); /* replaces a skiff socket at newfd */
		fdt_put(e);
		if (rc < 0) {
			close(newfd);
			return skiff_ret(rc);
		}
	} else if ((old = fdt_remove(newfd)) != NULL) {
		fdt_put(old); /* the kernel closed newfd's old file: so does skiff */
	}
	return newfd;
}

int skiff_dup(int fd)
{
	int r = dup(fd);
	if (r < 0 || !fdt_contains(fd))
		return r;
	return dup_follow(fd, r, 0);
}

int skiff_dup3(int fd, int newfd, int flags)
{
	int r = dup3(fd, newfd, flags);
	if (r < 0 || (!fdt_contains(fd) && !fdt_contains(newfd)))
		return r;
	return dup_follow(fd, r, flags & O_CLOEXEC ? FD_CLOEXEC : 0);
}

int skiff_dup2(int fd, int newfd)
{
	int r = dup2(fd, newfd);
	if (r < 0 || fd == newfd || (!fdt_contains(fd) && !fdt_contains(newfd)))
		return r;
	return dup_follow(fd, r, 0);
}

/* ---- select ---- */

/* Linux fs/select.c */
#define POLLIN_SET (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define POLLOUT_SET (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define POLLEX_SET (POLLPRI)

static int select_common(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, uint64_t timeout_ns, const sigset_t *sigmask)
{
	struct pollfd small[64], *pfd = small;
	unsigned n = 0, cap = sizeof(small) / sizeof(small[0]);
	int rc, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return -EINVAL;
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;
		if (rd && FD_ISSET(fd, rd))
			ev |= POLLIN_SET & ~(POLLHUP | POLLERR);
		if (wr && FD_ISSET(fd, wr))
			ev |= POLLOUT_SET & ~POLLERR;
		if (ex && FD_ISSET(fd, ex))
			ev |= POLLEX_SET;
		if (!ev)
			continue;
		if (n == cap) {
			struct pollfd *p = calloc((size_t)nfds, sizeof(*p));
			if (!p)
				return -ENOMEM;
			memcpy(p, pfd, n * sizeof(*p));
			pfd = p;
			cap = (unsigned)nfds;
		}
		pfd[n].fd = fd;
		pfd[n].events = ev;
		pfd[n++].revents = 0;
	}
	rc = sock_poll(pfd, n, timeout_ns, sigmask);
	if (rc >= 0) {
		for (unsigned i = 0; i < n && rc >= 0; i++)
			if (pfd[i].revents & POLLNVAL)
				rc = -EBADF; /* select reports a closed fd as EBADF, sets untouched */
	}
	if (rc >= 0) {
		if (rd)
			FD_ZERO(rd);
		if (wr)
			FD_ZERO(wr);
		if (ex)
			FD_ZERO(ex);
		for (unsigned i = 0; i < n; i++) {
			short r = pfd[i].revents;
			if (rd && (r & POLLIN_SET) && (pfd[i].events & POLLIN)) {
				FD_SET(pfd[i].fd, rd);
				count++;
			}
			if (wr && (r & POLLOUT_SET) && (pfd[i].events & POLLOUT)) {
				FD_SET(pfd[i].fd, wr);
				count++;
			}
			if (ex && (r & POLLEX_SET)) {
				FD_SET(pfd[i].fd, ex);
				count++;
			}
		}
		rc = count;
	}
	if (pfd != small)
		free(pfd);
	return rc;
}

static bool any_skiff(int nfds, const fd_set *rd, const fd_set *wr, const fd_set *ex)
{
	if (nfds > FD_SETSIZE)
		nfds = FD_SETSIZE;
	for (int fd = 0; fd < nfds; fd++)
		if (((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) || (ex && FD_ISSET(fd, ex))) &&
		    fdt_contains(fd))
			return true;
	return false;
}

int skiff_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	uint64_t t = UINT64_MAX, start;
	int rc;

	if (!any_skiff(nfds, rd, wr, ex))
		return select(nfds, rd, wr, ex, tv);
	if (tv) {
		if (tv->tv_sec < 0 || tv->tv_usec < 0)
			return skiff_ret(-EINVAL);
		t = (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
	}
	start = rt_mono_ns();
	rc = select_common(nfds, rd, wr, ex, t, NULL);
	if (tv) { /* Linux writes back the time not slept */
		uint64_t spent = rt_mono_ns() - start, left = spent >= t ? 0 : t - spent;
		tv->tv_sec = (time_t)(left / 1000000000ull);
		tv->tv_usec = (suseconds_t)(left % 1000000000ull / 1000ull);
	}
	return skiff_ret(rc);
}

int skiff_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *tmo, const sigset_t *sigmask)
{
	uint64_t t = UINT64_MAX;

	if (!any_skiff(nfds, rd, wr, ex))
		return pselect(nfds, rd, wr, ex, tmo, sigmask);
	if (tmo) {
		if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000l)
			return skiff_ret(-EINVAL);
		t = (uint64_t)tmo->tv_sec * 1000000000ull + (uint64_t)tmo->tv_nsec;
	}
	return skiff_ret(select_common(nfds, rd, wr, ex, t, sigmask));
}

/* ---- mmsg ---- */

int skiff_sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	unsigned i;
	if (!stack_fd(fd))
		return sendmmsg(fd, vec, vlen, flags);
	if (vlen > 1024) /* UIO_MAXIOV */
		vlen = 1024;
	if (vlen && !vec)
		return skiff_ret(-EFAULT);
	for (i = 0; i < vlen; i++) {
		ssize_t r = skiff_sendmsg(fd, &vec[i].msg_hdr, flags);
		if (r < 0)
			return i ? (int)i : -1; /* an error after some messages: the count (Linux) */
		vec[i].msg_len = (unsigned)r;
	}
	return (int)i;
}

int skiff_recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags, struct timespec *timeout)
{
	uint64_t end = 0;
	unsigned i;

	if (!stack_fd(fd))
		return recvmmsg(fd, vec, vlen, flags, timeout);
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000l)
			return skiff_ret(-EINVAL);
		end = rt_mono_ns() + (uint64_t)timeout->tv_sec * 1000000000ull + (uint64_t)timeout->tv_nsec;
	}
	if (vlen > 1024)
		vlen = 1024;
	if (vlen && !vec)
		return skiff_ret(-EFAULT);
	for (i = 0; i < vlen; i++) {
		ssize_t r = skiff_recvmsg(fd, &vec[i].msg_hdr, flags & ~MSG_WAITFORONE);
		if (r < 0) {
			if (i)
				break; /* EAGAIN after some, or an error to be seen next call */
			return -1;
		}
		vec[i].msg_len = (unsigned)r;
		if (flags & MSG_WAITFORONE)
			flags |= MSG_DONTWAIT;
		if (timeout && rt_mono_ns() >= end) {
			i++;
			break;
		}
	}
	if (timeout) { /* Linux writes back the time left */
		uint64_t now = rt_mono_ns(), left = now >= end ? 0 : end - now;
		timeout->tv_sec = (time_t)(left / 1000000000ull);
		timeout->tv_nsec = (long)(left % 1000000000ull);
	}
	return (int)i;
}

/* ---- sendfile ---- */

#define SENDFILE_CHUNK (64u * 1024u)

ssize_t skiff_sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	unsigned char *buf;
	size_t total = 0;
	int err = 0;

	if (!stack_fd(out_fd))
		return sendfile(out_fd, in_fd, offset, count);
	if (offset && *offset < 0)
		return skiff_ret(-EINVAL);
	buf = malloc(SENDFILE_CHUNK);
	if (!buf)
		return skiff_ret(-ENOMEM);
	while (total < count) {
		size_t want = count - total < SENDFILE_CHUNK ? count - total : SENDFILE_CHUNK;
		ssize_t n = offset ? pread(in_fd, buf, want, *offset) : read(in_fd, buf, want);
		ssize_t w;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break; /* end of file */
		w = skiff_send(out_fd, buf, (size_t)n, 0); /* waits as the socket's O_NONBLOCK says */
		if (w < 0) {
			err = errno;
			w = 0;
		}
		if (offset)
			*offset += w;
		else if (w < n)
			(void)lseek(in_fd, (off_t)(w - n), SEEK_CUR); /* give back what the socket did not take */
		total += (size_t)w;
		if (w < n)
			break;
	}
	free(buf);
	if (total == 0 && err) {
		errno = err;
		return -1;
	}
	return (ssize_t)total;
}
