/* sock_packet.c — AF_PACKET sockets at the POSIX edge: the kernel's until bound
 * to a bypass interface, then skiff's (dataplane/packet.c).
 *
 * Flow:
 *   socket(AF_PACKET): the kernel socket first (CAP_NET_RAW's EPERM is the
 *     kernel's), recorded as a pending packet socket; every call on it goes to
 *     the kernel, options skiff also needs are remembered.
 *   bind(sockaddr_ll): sll_ifindex is a kernel ifindex; its name is a skiff
 *     interface's (AF_XDP interfaces are kernel interfaces of the same name)
 *     → adopt: a fresh kernel socket of protocol 0 (never hooked: the kernel
 *     delivers nothing to it) replaces the fd number with dup3 (a bind cannot
 *     drop a kernel socket's protocol: packet_bind keeps po->num when
 *     sll_protocol is 0), the dataplane socket is opened and bound, the
 *     remembered options replayed. Any other interface, or ifindex 0 (all
 *     interfaces), stays the kernel's: skiff cannot show the kernel's frames,
 *     and the kernel cannot show skiff's.
 *   recv*: the dataplane queue, Linux's packet_recvmsg rules (MSG_TRUNC, the
 *     sockaddr_ll length, PACKET_AUXDATA's cmsg); blocking through rt_wait.
 *   send*: packet_snd's checks; a skiff interface → skiff_packet_send, another
 *     kernel interface → the reserved kernel socket sends it.
 *   poll/epoll/ioctl(SIOCINQ): the dataplane socket's readiness (a handed-over
 *     ring block counts as readable).
 *   options (sock_packet_opts.c): filters, memberships, statistics, auxdata,
 *     SO_RCVBUF are skiff's (SO_RCVBUF also set on the kernel socket, whose
 *     clamped value is used); PACKET_VERSION/RESERVE/HDRLEN and the rest are
 *     the kernel socket's. PACKET_RX_RING (TPACKET_V3 only): the kernel judges
 *     the request on the reserved socket; the ring itself is a memfd skiff maps
 *     and fills (dataplane/packet_ring.c), the program's mmap of the fd maps the
 *     same memfd (the preload intercepts mmap).
 */
#include "sock_packet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/packet.h"
#include "dataplane/packet_ring.h"
#include "dataplane/udp.h"
#include "fdtable.h"
#include "runtime.h"
#include "sockaddr.h"
#include "sock_packet_int.h"

#define LINUX_UIO_MAXIOV 1024

static void pk_release(struct skiff_sock *s)
{
	struct pk_state *ps = s->dp;
	if (ps) {
		if (ps->pk) {
			rt_lock(s->rt, s->instance);
			skiff_packet_close(rt_stack(s->rt, s->instance), ps->pk);
			rt_unlock(s->rt, s->instance);
		}
		if (ps->map) {
			munmap(ps->map, ps->maplen);
			close(ps->memfd);
		}
		free(ps->pend_filter);
		free(ps);
	}
	free(s);
}

struct skiff_fd *pk_get(int fd)
{
	struct skiff_fd *e = fdt_get_any(fd);
	if (e && atomic_load_explicit(&e->sock->kind, memory_order_acquire) != SKIFF_FD_PACKET) {
		fdt_put(e);
		e = NULL;
	}
	return e;
}

bool sock_packet_attached(const struct skiff_sock *s)
{
	return atomic_load_explicit(&st_of(s)->attached, memory_order_acquire);
}

bool sock_packet_fd(int fd)
{
	struct skiff_fd *e;
	if (!fdt_contains(fd))
		return false;
	e = pk_get(fd);
	fdt_put(e);
	return e != NULL;
}

struct skiff_fd *sock_packet_entry(int fd)
{
	struct skiff_fd *e = fdt_contains(fd) ? pk_get(fd) : NULL;
	if (e && !sock_packet_attached(e->sock)) {
		fdt_put(e);
		e = NULL;
	}
	return e;
}

int sock_packet_socket(int domain, int type, int protocol)
{
	int kfd = socket(domain, type, protocol), base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), inst = 0;
	struct skiff_rt *rt;
	struct skiff_sock *s;
	struct pk_state *ps;

	if (kfd < 0 || domain != AF_PACKET || (base != SOCK_RAW && base != SOCK_DGRAM))
		return kfd; /* SOCK_PACKET (obsolete) and errors: the kernel's */
	rt = rt_current(&inst);
	if (!rt || !rt_instance_ok(rt, inst))
		return kfd;
	s = fdt_sock_new(SKIFF_FD_PACKET, AF_PACKET, base, protocol, pk_release);
	ps = s ? calloc(1, sizeof(*ps)) : NULL;
	if (!ps) {
		free(s);
		close(kfd);
		errno = ENOMEM;
		return -1;
	}
	atomic_init(&ps->attached, false);
	ps->proto_be = (uint16_t)protocol; /* packet_create: (__force __be16)protocol */
	ps->sif = -1;
	ps->memfd = -1;
	s->dp = ps;
	s->rt = rt;
	s->instance = inst;
	(void)fdt_install(kfd, s, type & SOCK_CLOEXEC ? FD_CLOEXEC : 0); /* beyond the table: a kernel socket */
	fdt_sock_put(s);
	return kfd;
}

/* ---- interfaces: kernel ifindex ↔ skiff interface (same name) ---- */

int pk_sif_of_kif(struct skiff_sock *s, int kif)
{
	char name[IF_NAMESIZE];
	int sif = -1;
	struct skiff_stack *st;

	if (kif <= 0 || !if_indextoname((unsigned)kif, name))
		return -1;
	rt_lock(s->rt, s->instance);
	st = rt_stack(s->rt, s->instance);
	for (int i = 0; i < SKIFF_MAX_IFACES && sif < 0; i++)
		if (st->ifaces[i].used && !st->ifaces[i].loopback && strcmp(st->ifaces[i].name, name) == 0)
			sif = i;
	rt_unlock(s->rt, s->instance);
	return sif;
}

static void map_kifs(struct skiff_sock *s, int out[SKIFF_MAX_IFACES])
{
	char names[SKIFF_MAX_IFACES][SKIFF_IFNAMSIZ];
	struct skiff_stack *st;

	rt_lock(s->rt, s->instance);
	st = rt_stack(s->rt, s->instance);
	for (int i = 0; i < SKIFF_MAX_IFACES; i++) {
		names[i][0] = '\0';
		if (st->ifaces[i].used && !st->ifaces[i].loopback)
			memcpy(names[i], st->ifaces[i].name, SKIFF_IFNAMSIZ);
	}
	rt_unlock(s->rt, s->instance);
	for (int i = 0; i < SKIFF_MAX_IFACES; i++)
		out[i] = names[i][0] ? (int)if_nametoindex(names[i]) : 0;
}

/* ---- bind and adoption ---- */

int pk_kernel_rcvbuf(int fd)
{
	int v = 0;
	socklen_t l = sizeof(v);
	return getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l) == 0 ? v : 212992;
}

static int adopt(int fd, struct skiff_sock *s, int sif, uint16_t proto)
{
	struct pk_state *ps = st_of(s);
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD), nk, err = 0, rcvbuf;
	struct skiff_packet_sock *pk;

	/* the reserved kernel socket: protocol 0, unbound, so nothing is ever queued on it */
	nk = socket(AF_PACKET, s->type | SOCK_CLOEXEC, 0);
	if (nk < 0)
		return -errno;
	if (dup3(nk, fd, fdfl >= 0 && (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		err = -errno;
		close(nk);
		return err;
	}
	close(nk);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl);
	rcvbuf = pk_kernel_rcvbuf(fd);
	map_kifs(s, ps->kifmap);
	rt_lock(s->rt, s->instance);
	pk = skiff_packet_open(rt_stack(s->rt, s->instance), s->type, proto, &err);
	if (pk) {
		(void)skiff_packet_bind(rt_stack(s->rt, s->instance), pk, sif, proto);
		skiff_packet_set_rcvbuf(rt_stack(s->rt, s->instance), pk, (uint32_t)rcvbuf);
		pk->user = s;
		if (ps->pend_filter) {
			(void)skiff_packet_set_filter(rt_stack(s->rt, s->instance), pk, ps->pend_filter, ps->pend_flen);
			free(ps->pend_filter);
			ps->pend_filter = NULL;
		}
	}
	rt_unlock(s->rt, s->instance);
	if (!pk)
		return err ? err : -ENOBUFS;
	ps->pk = pk;
	atomic_store_explicit(&ps->attached, true, memory_order_release);
	for (unsigned i = 0; i < ps->nopts; i++) /* the old kernel socket accepted each */
		(void)pk_apply_opt(fd, s, ps->opts[i].level, ps->opts[i].name, ps->opts[i].val, ps->opts[i].len);
	ps->nopts = 0;
	return 0;
}

int sock_packet_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct skiff_fd *e = pk_get(fd);
	struct skiff_sock *s;
	struct pk_state *ps;
	struct sockaddr_ll sll;
	uint16_t proto;
	int sif, rc = 0;

	if (!e)
		return bind(fd, addr, len);
	s = e->sock;
	ps = st_of(s);
	/* packet_bind: a short address or another family is EINVAL */
	if (!addr || len < sizeof(sll) || addr->sa_family != AF_PACKET) {
		rc = sock_packet_attached(s) ? (addr ? -EINVAL : -EFAULT) : (bind(fd, addr, len) < 0 ? -errno : 0);
		goto out;
	}
	memcpy(&sll, addr, sizeof(sll));
	proto = sll.sll_protocol ? sll.sll_protocol : ps->proto_be; /* sll_protocol ? : po->num */
	sif = pk_sif_of_kif(s, sll.sll_ifindex);
	if (!sock_packet_attached(s)) {
		if (sif < 0) { /* another interface, or all of them: the kernel's socket */
			rc = bind(fd, addr, len) < 0 ? -errno : 0;
			if (rc == 0)
				ps->proto_be = proto;
			goto out;
		}
		rc = adopt(fd, s, sif, proto);
	} else if (sif < 0 && sll.sll_ifindex != 0) {
		char name[IF_NAMESIZE];
		/* skiff's socket cannot see a kernel interface; packet_do_bind: no such device → ENODEV */
		rc = if_indextoname((unsigned)sll.sll_ifindex, name) ? -EOPNOTSUPP : -ENODEV;
	} else {
		rt_lock(s->rt, s->instance);
		rc = skiff_packet_bind(rt_stack(s->rt, s->instance), ps->pk, sif, proto);
		rt_unlock(s->rt, s->instance);
	}
	if (rc == 0) {
		ps->kif = sll.sll_ifindex;
		ps->sif = sif;
		ps->proto_be = proto;
	}
out:
	fdt_put(e);
	return skiff_ret(rc);
}

/* ---- receive (packet_recvmsg) ---- */

static bool pred_readable(void *ctx, unsigned work)
{
	(void)work;
	return skiff_packet_events(ctx) & SKIFF_EV_IN;
}

static void sll_of(const struct pk_state *ps, const struct skiff_packet_info *info, struct sockaddr_ll *sll)
{
	memset(sll, 0, sizeof(*sll));
	sll->sll_family = AF_PACKET;
	sll->sll_protocol = info->proto_be;
	sll->sll_ifindex = info->ifindex < SKIFF_MAX_IFACES ? ps->kifmap[info->ifindex] : 0;
	sll->sll_hatype = 1; /* ARPHRD_ETHER */
	sll->sll_pkttype = info->pkttype;
	sll->sll_halen = 6;
	memcpy(sll->sll_addr, info->addr, 6);
}

/* Returns bytes (or caplen with MSG_TRUNC) or -errno; *mflags gets MSG_TRUNC. */
static long pk_recv(int fd, struct skiff_sock *s, const struct iovec *iov, int iovcnt, int flags, int *mflags,
		    struct skiff_packet_info *info)
{
	struct pk_state *ps = st_of(s);
	uint64_t deadline = 0;
	size_t room = 0;
	long rc;

	*mflags = 0;
	if (flags & ~(MSG_PEEK | MSG_DONTWAIT | MSG_TRUNC | MSG_ERRQUEUE))
		return -EINVAL;
	if (flags & MSG_ERRQUEUE)
		return -EAGAIN; /* no transmit timestamps queued: sock_recv_errqueue finds nothing */
	for (int i = 0; i < iovcnt; i++) {
		if (!iov[i].iov_base && iov[i].iov_len)
			return -EFAULT;
		room += iov[i].iov_len;
	}
	for (int attempt = 0;; attempt++) {
		int w;
		rt_lock(s->rt, s->instance);
		rc = skiff_packet_recv(rt_stack(s->rt, s->instance), ps->pk, iov, iovcnt, flags & MSG_PEEK, info);
		rt_unlock(s->rt, s->instance);
		if (rc != -EAGAIN)
			break;
		if (attempt == 0) {
			int fl = (flags & MSG_DONTWAIT) ? O_NONBLOCK : fcntl(fd, F_GETFL);
			uint64_t t = atomic_load(&s->rcvtimeo_ns);
			deadline = (fl >= 0 && (fl & O_NONBLOCK)) || t == SKIFF_TIMEO_NOWAIT ? 0 : rt_deadline(s->rt, t);
		} else if (deadline == 0) {
			break;
		}
		w = rt_wait(s->rt, s->instance, ps->pk, pred_readable, ps->pk, deadline);
		if (w < 0) {
			rc = w;
			break;
		}
	}
	if (rc < 0)
		return rc;
	if (info->caplen > room)
		*mflags |= MSG_TRUNC;
	return (flags & MSG_TRUNC) ? (long)info->caplen : rc;
}

ssize_t sock_packet_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *fromlen)
{
	struct skiff_fd *e = pk_get(fd);
	struct iovec iov = { buf, len > INT_MAX ? INT_MAX : len };
	struct skiff_packet_info info;
	struct sockaddr_ll sll;
	int mflags;
	long rc;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return recvfrom(fd, buf, len, flags, from, fromlen);
	}
	rc = pk_recv(fd, e->sock, &iov, 1, flags, &mflags, &info);
	if (rc >= 0 && from) {
		int er;
		sll_of(st_of(e->sock), &info, &sll);
		er = sock_addr_out(&sll, sizeof(sll), from, fromlen); /* msg_namelen: max(18, sizeof sockaddr_ll) */
		if (er)
			rc = er;
	}
	fdt_put(e);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

static void put_auxdata(struct msghdr *msg, const struct skiff_packet_info *info, int type)
{
	struct tpacket_auxdata aux;
	struct cmsghdr *cm;

	memset(&aux, 0, sizeof(aux));
	aux.tp_status = TP_STATUS_USER;
	if (info->csum_not_ready)
		aux.tp_status |= TP_STATUS_CSUMNOTREADY;
	aux.tp_len = info->origlen;
	aux.tp_snaplen = info->caplen;
	aux.tp_mac = 0;
	aux.tp_net = type == SOCK_DGRAM ? 0 : info->net_off; /* skb_network_offset */
	if (info->vlan_valid) {
		aux.tp_vlan_tci = info->vlan_tci;
		aux.tp_vlan_tpid = info->vlan_tpid;
		aux.tp_status |= TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
	}
	/* put_cmsg: no room for the header → MSG_CTRUNC and nothing; else truncated data */
	if (!msg->msg_control || msg->msg_controllen < sizeof(struct cmsghdr)) {
		msg->msg_flags |= MSG_CTRUNC;
		msg->msg_controllen = 0;
		return;
	}
	cm = (struct cmsghdr *)msg->msg_control;
	cm->cmsg_level = SOL_PACKET;
	cm->cmsg_type = PACKET_AUXDATA;
	if (msg->msg_controllen < CMSG_LEN(sizeof(aux))) {
		size_t n = msg->msg_controllen - CMSG_LEN(0);
		msg->msg_flags |= MSG_CTRUNC;
		cm->cmsg_len = msg->msg_controllen;
		memcpy(CMSG_DATA(cm), &aux, n);
		return;
	}
	cm->cmsg_len = CMSG_LEN(sizeof(aux));
	memcpy(CMSG_DATA(cm), &aux, sizeof(aux));
	msg->msg_controllen = CMSG_SPACE(sizeof(aux)) < msg->msg_controllen ? CMSG_SPACE(sizeof(aux))
									  : msg->msg_controllen;
}

ssize_t sock_packet_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct skiff_fd *e = pk_get(fd);
	struct skiff_packet_info info;
	struct sockaddr_ll sll;
	int mflags = 0;
	long rc = 0;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return recvmsg(fd, msg, flags);
	}
	if (!msg)
		rc = -EFAULT;
	else if (msg->msg_name && (int)msg->msg_namelen < 0)
		rc = -EINVAL;
	else if (msg->msg_iovlen > LINUX_UIO_MAXIOV)
		rc = -EMSGSIZE;
	else if (msg->msg_iovlen && !msg->msg_iov)
		rc = -EFAULT;
	for (size_t i = 0; !rc && i < msg->msg_iovlen; i++)
		if ((ssize_t)msg->msg_iov[i].iov_len < 0)
			rc = -EINVAL;
	if (!rc)
		rc = pk_recv(fd, e->sock, msg->msg_iov, (int)msg->msg_iovlen, flags, &mflags, &info);
	if (rc >= 0) {
		msg->msg_flags = mflags;
		if (msg->msg_name) {
			int er;
			sll_of(st_of(e->sock), &info, &sll);
			er = sock_addr_out(&sll, sizeof(sll), msg->msg_name, &msg->msg_namelen);
			if (er)
				rc = er;
		}
		if (st_of(e->sock)->auxdata)
			put_auxdata(msg, &info, e->sock->type);
		else
			msg->msg_controllen = 0;
	}
	fdt_put(e);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* ---- send (packet_snd) ---- */

static long pk_send(int fd, struct skiff_sock *s, const struct msghdr *m, int flags)
{
	struct pk_state *ps = st_of(s);
	struct sockaddr_ll sll;
	const uint8_t *dst = NULL;
	int kif, sif;
	uint16_t proto;
	long rc;

	if (m->msg_name) {
		if (m->msg_namelen < sizeof(sll))
			return -EINVAL;
		memcpy(&sll, m->msg_name, sizeof(sll));
		if (m->msg_namelen < sll.sll_halen + offsetof(struct sockaddr_ll, sll_addr))
			return -EINVAL;
		kif = sll.sll_ifindex;
		proto = sll.sll_protocol;
		dst = sll.sll_addr;
	} else {
		kif = ps->kif;
		proto = ps->proto_be;
	}
	if (m->msg_iovlen > LINUX_UIO_MAXIOV)
		return -EMSGSIZE;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		if (!m->msg_iov[i].iov_base && m->msg_iov[i].iov_len)
			return -EFAULT;
	sif = kif == ps->kif ? ps->sif : pk_sif_of_kif(s, kif);
	if (sif < 0) {
		if (kif == 0)
			return -ENXIO; /* dev_get_by_index(0) */
		rc = sendmsg(fd, m, flags); /* a kernel interface: the reserved kernel socket sends it */
		return rc < 0 ? -errno : rc;
	}
	if (s->type == SOCK_DGRAM && !dst)
		return -EINVAL; /* dev_hard_header without a destination */
	rt_lock(s->rt, s->instance);
	rc = skiff_packet_send(rt_stack(s->rt, s->instance), ps->pk, sif, m->msg_iov, (int)m->msg_iovlen, dst, proto);
	if (rc >= 0)
		rt_progress_locked(s->rt, s->instance, rt_now(s->rt)); /* out to the device now */
	rt_unlock(s->rt, s->instance);
	return rc;
}

ssize_t sock_packet_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct skiff_fd *e = pk_get(fd);
	long rc;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return sendmsg(fd, msg, flags);
	}
	rc = msg ? pk_send(fd, e->sock, msg, flags) : -EFAULT;
	fdt_put(e);
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

ssize_t sock_packet_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t tolen)
{
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr m = { .msg_name = (void *)(uintptr_t)to, .msg_namelen = to ? tolen : 0, .msg_iov = &iov,
			    .msg_iovlen = 1 };
	return sock_packet_sendmsg(fd, &m, flags);
}

/* ---- names ---- */

int sock_packet_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct skiff_fd *e = pk_get(fd);
	struct sockaddr_ll sll;
	struct pk_state *ps;
	int rc;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return getsockname(fd, addr, len);
	}
	ps = st_of(e->sock);
	/* packet_getname */
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = ps->kif;
	sll.sll_protocol = ps->proto_be;
	if (ps->sif >= 0) {
		rt_lock(e->sock->rt, e->sock->instance);
		memcpy(sll.sll_addr, rt_stack(e->sock->rt, e->sock->instance)->ifaces[ps->sif].mac, 6);
		rt_unlock(e->sock->rt, e->sock->instance);
		sll.sll_hatype = 1;
		sll.sll_halen = 6;
	}
	rc = sock_addr_out(&sll, (int)(offsetof(struct sockaddr_ll, sll_addr) + sll.sll_halen), addr, len);
	fdt_put(e);
	return skiff_ret(rc);
}

/* ---- readiness, ioctl ---- */

short sock_packet_revents_locked(struct skiff_sock *s)
{
	unsigned ev = skiff_packet_events(st_of(s)->pk);
	short r = 0;
	if (ev & SKIFF_EV_IN)
		r |= POLLIN | POLLRDNORM;
	if (ev & SKIFF_EV_OUT)
		r |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return r;
}

short sock_packet_revents(struct skiff_sock *s)
{
	short r;
	rt_lock(s->rt, s->instance);
	r = sock_packet_revents_locked(s);
	rt_unlock(s->rt, s->instance);
	return r;
}

uint32_t sock_packet_wake_seq_locked(struct skiff_sock *s) { return st_of(s)->pk->wake_seq; }

int sock_packet_ioctl(int fd, unsigned long req, void *arg)
{
	struct skiff_fd *e = pk_get(fd);
	int rc;

	if (!e || !sock_packet_attached(e->sock) || (req != FIONREAD && req != TIOCOUTQ)) {
		fdt_put(e);
		return ioctl(fd, req, arg);
	}
	if (!arg) {
		rc = -EFAULT;
	} else if (req == TIOCOUTQ) { /* SIOCOUTQ: frames leave at once */
		*(int *)arg = 0;
		rc = 0;
	} else { /* SIOCINQ: the next frame's length */
		rt_lock(e->sock->rt, e->sock->instance);
		*(int *)arg = (int)skiff_packet_next_len(st_of(e->sock)->pk);
		rt_unlock(e->sock->rt, e->sock->instance);
		rc = 0;
	}
	fdt_put(e);
	return skiff_ret(rc);
}
