/* sock_packet_opts.c — options of AF_PACKET sockets (sock_packet.c has the
 * socket's life): what skiff answers itself, what the reserved kernel socket
 * answers, and PACKET_RX_RING with the mmap that maps it.
 *
 * Flow: setsockopt on a pending socket → the kernel's answer, remembered (a
 *   filter kept whole) for the adoption; on a skiff socket → pk_apply_opt:
 *   SOL_SOCKET filters / SO_LOCK_FILTER / SO_RCVBUF / SO_RCVTIMEO, SOL_PACKET
 *   memberships / AUXDATA / RX_RING / IGNORE_OUTGOING are skiff's (some also set
 *   on the kernel socket, which checks them); the rest is the kernel socket's.
 *   getsockopt: PACKET_STATISTICS, PACKET_AUXDATA, SO_LOCK_FILTER, SO_PROTOCOL,
 *   SO_GET_FILTER are skiff's, the rest the kernel socket's.
 */
#include "sock_packet.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/wire_tpacket.h"
#include "runtime.h"
#include "sock_packet_int.h"

/* The dataplane writes the ring from its own copy of the layout
 * (wire_tpacket.h): it must be the kernel's, field for field. */
#define SAME_FIELD(a, b, f) \
	_Static_assert(offsetof(struct a, f) == offsetof(struct b, f) && \
			       sizeof(((struct a *)0)->f) == sizeof(((struct b *)0)->f), \
		       #a "." #f " differs from the kernel's")
_Static_assert(sizeof(struct tpw_block_desc) == sizeof(struct tpacket_block_desc), "tpacket_block_desc size");
_Static_assert(sizeof(struct tpw3_hdr) == sizeof(struct tpacket3_hdr), "tpacket3_hdr size");
_Static_assert(sizeof(struct tpw_sockaddr_ll) == sizeof(struct sockaddr_ll), "sockaddr_ll size");
SAME_FIELD(tpw_block_desc, tpacket_block_desc, version);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, offset_to_priv);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.block_status);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.num_pkts);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.offset_to_first_pkt);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.blk_len);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.seq_num);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.ts_first_pkt);
SAME_FIELD(tpw_block_desc, tpacket_block_desc, hdr.bh1.ts_last_pkt);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_next_offset);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_sec);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_nsec);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_snaplen);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_len);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_status);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_mac);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, tp_net);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, hv1.tp_vlan_tci);
SAME_FIELD(tpw3_hdr, tpacket3_hdr, hv1.tp_vlan_tpid);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_family);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_protocol);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_ifindex);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_hatype);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_pkttype);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_halen);
SAME_FIELD(tpw_sockaddr_ll, sockaddr_ll, sll_addr);
_Static_assert(TPW_V3 == TPACKET_V3 && TPW_AF_PACKET == AF_PACKET && TPW_STATUS_USER == TP_STATUS_USER &&
		       TPW_STATUS_LOSING == TP_STATUS_LOSING && TPW_STATUS_CSUMNOTREADY == TP_STATUS_CSUMNOTREADY &&
		       TPW_STATUS_VLAN_VALID == TP_STATUS_VLAN_VALID && TPW_STATUS_BLK_TMO == TP_STATUS_BLK_TMO &&
		       TPW_STATUS_VLAN_TPID_VALID == TP_STATUS_VLAN_TPID_VALID &&
		       TPW_STATUS_TS_SOFTWARE == TP_STATUS_TS_SOFTWARE && TPW_STATUS_KERNEL == TP_STATUS_KERNEL,
	       "TPACKET constants");

static void remember(struct pk_state *ps, int level, int name, const void *val, socklen_t len)
{
	unsigned i;
	if (!val || len > PK_OPT_LEN)
		return;
	for (i = 0; i < ps->nopts && (ps->opts[i].level != level || ps->opts[i].name != name); i++)
		;
	if (i == PK_OPTS)
		return;
	ps->opts[i].level = level;
	ps->opts[i].name = name;
	ps->opts[i].len = len;
	memcpy(ps->opts[i].val, val, len);
	if (i == ps->nopts)
		ps->nopts++;
}

static int kernel_version(int fd)
{
	int v = TPACKET_V1;
	socklen_t l = sizeof(v);
	(void)getsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, &l);
	return v;
}

static void ring_detach(struct skiff_sock *s)
{
	struct pk_state *ps = st_of(s);
	if (!ps->map)
		return;
	rt_lock(s->rt, s->instance);
	skiff_packet_set_ring(rt_stack(s->rt, s->instance), ps->pk, NULL);
	rt_unlock(s->rt, s->instance);
	munmap(ps->map, ps->maplen);
	close(ps->memfd);
	ps->map = NULL;
	ps->memfd = -1;
}

/* ---- PACKET_RX_RING and its mmap ---- */

/* PACKET_RX_RING on a skiff socket. The ring is skiff's memory (a memfd), not the
 * kernel's: a kernel ring on the reserved socket is written by the kernel too —
 * its retire timer (prb_retire_rx_blk_timer_expired) closes "its" current block
 * whenever that block's num_pkts is non-zero, and skiff's frames make it so. The
 * kernel still judges the request (packet_set_ring's checks and errnos): the
 * ring is made on the reserved socket and at once taken down again. The
 * program's mmap of the fd (preload.c) maps the memfd. */
static int set_rx_ring(int fd, struct skiff_sock *s, const void *val, socklen_t len)
{
	struct pk_state *ps = st_of(s);
	struct tpacket_req3 req, none;
	int version = kernel_version(fd), reserve = 0, mfd;
	socklen_t rl = sizeof(reserve);
	struct timespec rts;
	size_t size;
	uint64_t now;
	void *map;
	int rc;

	if (!val || len < sizeof(struct tpacket_req))
		return setsockopt(fd, SOL_PACKET, PACKET_RX_RING, val, len) < 0 ? -errno : 0;
	memset(&req, 0, sizeof(req));
	memcpy(&req, val, len < sizeof(req) ? len : sizeof(req));
	if (req.tp_block_nr == 0) { /* tear down (packet_set_ring with no blocks) */
		if (req.tp_frame_nr)
			return -EINVAL;
		ring_detach(s);
		return 0;
	}
	if (ps->map)
		return -EBUSY; /* packet_set_ring: a ring already */
	if (version != TPACKET_V3)
		return -EINVAL; /* skiff fills TPACKET_V3 rings only (libpcap asks for V3 first) */
	if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, val, len) < 0)
		return -errno; /* the kernel's verdict on the geometry */
	memset(&none, 0, sizeof(none));
	(void)setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &none, sizeof(none));
	(void)getsockopt(fd, SOL_PACKET, PACKET_RESERVE, &reserve, &rl);
	size = (size_t)req.tp_block_size * req.tp_block_nr;
	mfd = memfd_create("skiff-packet-ring", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (ftruncate(mfd, (off_t)size) < 0) {
		rc = -errno;
		close(mfd);
		return rc == -EINVAL ? -ENOMEM : rc;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		close(mfd);
		return rc;
	}
	ps->memfd = mfd;
	ps->map = map;
	ps->maplen = size;
	memset(&ps->ring, 0, sizeof(ps->ring));
	memcpy(ps->ring.kifindex, ps->kifmap, sizeof(ps->ring.kifindex));
	clock_gettime(CLOCK_REALTIME, &rts);
	now = rt_now(s->rt);
	ps->ring.realtime_off_ns = (int64_t)((uint64_t)rts.tv_sec * 1000000000ull + (uint64_t)rts.tv_nsec) - (int64_t)now;
	rt_lock(s->rt, s->instance);
	rc = skiff_pkt_ring_init(&ps->ring, map, req.tp_block_size, req.tp_block_nr, req.tp_sizeof_priv,
				 req.tp_retire_blk_tov, (uint32_t)reserve, s->type == SOCK_DGRAM, now);
	if (rc == 0)
		skiff_packet_set_ring(rt_stack(s->rt, s->instance), ps->pk, &ps->ring);
	rt_unlock(s->rt, s->instance);
	if (rc < 0) {
		munmap(map, size);
		close(mfd);
		ps->map = NULL;
		ps->memfd = -1;
	}
	return rc;
}

void *sock_packet_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct skiff_fd *e = pk_get(fd);
	struct pk_state *ps;
	void *r;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return mmap(addr, len, prot, flags, fd, off);
	}
	ps = st_of(e->sock);
	/* packet_mmap: offset 0, exactly the ring's size, a ring at all */
	if (!ps->map || off != 0 || len != ps->maplen) {
		fdt_put(e);
		errno = EINVAL;
		return MAP_FAILED;
	}
	r = mmap(addr, len, prot, flags, ps->memfd, 0);
	fdt_put(e);
	return r;
}

static int set_membership(int fd, struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct pk_state *ps = st_of(s);
	struct packet_mreq mr;
	int sif, rc;

	if (len < sizeof(mr))
		return -EINVAL;
	if (!val)
		return -EFAULT;
	memcpy(&mr, val, sizeof(mr));
	if (len < mr.mr_alen + offsetof(struct packet_mreq, mr_address))
		return -EINVAL;
	sif = pk_sif_of_kif(s, mr.mr_ifindex);
	if (sif < 0) /* a kernel interface (or none): the kernel's device lists */
		return setsockopt(fd, SOL_PACKET, name, val, len) < 0 ? -errno : 0;
	if (mr.mr_alen > 6)
		return -EINVAL; /* packet_mc_add: alen > dev->addr_len */
	if (mr.mr_type > PACKET_MR_ALLMULTI)
		return 0; /* PACKET_MR_UNICAST and unknown types: packet_dev_mc changes nothing skiff filters */
	rt_lock(s->rt, s->instance);
	rc = skiff_packet_membership(rt_stack(s->rt, s->instance), ps->pk, name == PACKET_ADD_MEMBERSHIP, sif,
				     mr.mr_type, mr.mr_address, mr.mr_alen);
	rt_unlock(s->rt, s->instance);
	return rc;
}

static int set_filter(struct skiff_sock *s, int name, const void *val, socklen_t len)
{
	struct pk_state *ps = st_of(s);
	struct sock_fprog fp = { 0, NULL };
	struct sock_filter *prog = NULL;
	int rc;

	if (name == SO_ATTACH_FILTER) {
		if (len != sizeof(fp))
			return -EINVAL; /* copy_bpf_fprog_from_user */
		if (!val)
			return -EFAULT;
		memcpy(&fp, val, sizeof(fp));
		if (!fp.filter || fp.len == 0 || fp.len > BPF_MAXINSNS)
			return -EINVAL; /* bpf_check_basics_ok */
		prog = fp.filter;
	}
	rt_lock(s->rt, s->instance);
	rc = skiff_packet_set_filter(rt_stack(s->rt, s->instance), ps->pk, prog, prog ? fp.len : 0);
	rt_unlock(s->rt, s->instance);
	return rc;
}

/* An option on a skiff packet socket. */
int pk_apply_opt(int fd, struct skiff_sock *s, int level, int name, const void *val, socklen_t len)
{
	struct pk_state *ps = st_of(s);
	int v;

	if (level == SOL_SOCKET) {
		if ((int)len < (int)sizeof(int))
			return setsockopt(fd, level, name, val, len) < 0 ? -errno : 0; /* sk_setsockopt: EINVAL/EFAULT */
		switch (name) {
		case SO_ATTACH_FILTER:
		case SO_DETACH_FILTER:
			return set_filter(s, name, val, len);
		case SO_LOCK_FILTER:
			if (!val)
				return -EFAULT;
			memcpy(&v, val, sizeof(v));
			rt_lock(s->rt, s->instance);
			if (ps->pk->filter_locked && !v)
				v = -1;
			else
				ps->pk->filter_locked = v != 0;
			rt_unlock(s->rt, s->instance);
			return v < 0 ? -EPERM : 0;
		case SO_RCVBUF:
		case SO_RCVBUFFORCE:
			if (setsockopt(fd, level, name, val, len) < 0)
				return -errno;
			v = pk_kernel_rcvbuf(fd); /* the kernel's doubling and clamping */
			rt_lock(s->rt, s->instance);
			skiff_packet_set_rcvbuf(rt_stack(s->rt, s->instance), ps->pk, (uint32_t)v);
			rt_unlock(s->rt, s->instance);
			return 0;
		case SO_RCVTIMEO_OLD:
		case SO_RCVTIMEO_NEW: {
			struct timeval tv;
			socklen_t tl = sizeof(tv);
			if (setsockopt(fd, level, name, val, len) < 0)
				return -errno;
			if (getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO_OLD, &tv, &tl) == 0)
				atomic_store(&s->rcvtimeo_ns, tv.tv_sec == 0 && tv.tv_usec == 0
								      ? SKIFF_TIMEO_FOREVER
								      : (uint64_t)tv.tv_sec * 1000000000ull +
										(uint64_t)tv.tv_usec * 1000ull);
			return 0;
		}
		default:
			break;
		}
	} else if (level == SOL_PACKET) {
		switch (name) {
		case PACKET_ADD_MEMBERSHIP:
		case PACKET_DROP_MEMBERSHIP:
			return set_membership(fd, s, name, val, len);
		case PACKET_AUXDATA:
			if (len < sizeof(int))
				return -EINVAL;
			if (!val)
				return -EFAULT;
			memcpy(&v, val, sizeof(v));
			ps->auxdata = v != 0;
			return 0;
		case PACKET_RX_RING:
			return set_rx_ring(fd, s, val, len);
		case PACKET_VERSION:
		case PACKET_RESERVE:
			if (ps->map)
				return -EBUSY; /* packet_setsockopt: not while a ring exists (the kernel has none to see) */
			break;
		case PACKET_IGNORE_OUTGOING: /* the kernel checks it (an int, 0 or 1), skiff applies it */
			if (setsockopt(fd, level, name, val, len) < 0)
				return -errno;
			memcpy(&v, val, sizeof(v));
			rt_lock(s->rt, s->instance);
			ps->pk->ignore_outgoing = v != 0;
			rt_unlock(s->rt, s->instance);
			return 0;
		default:
			break;
		}
	}
	return setsockopt(fd, level, name, val, len) < 0 ? -errno : 0; /* the reserved kernel socket's */
}

int sock_packet_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct skiff_fd *e = pk_get(fd);
	struct skiff_sock *s;
	int rc;

	if (!e)
		return setsockopt(fd, level, name, val, len);
	s = e->sock;
	if (sock_packet_attached(s)) {
		rc = pk_apply_opt(fd, s, level, name, val, len);
	} else {
		rc = setsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
		if (rc == 0 && level == SOL_SOCKET && name == SO_ATTACH_FILTER) {
			struct sock_fprog fp;
			struct pk_state *ps = st_of(s);
			memcpy(&fp, val, sizeof(fp));
			free(ps->pend_filter);
			ps->pend_filter = malloc(fp.len * sizeof(*fp.filter));
			ps->pend_flen = ps->pend_filter ? fp.len : 0;
			if (ps->pend_filter)
				memcpy(ps->pend_filter, fp.filter, fp.len * sizeof(*fp.filter));
		} else if (rc == 0 && level == SOL_SOCKET && name == SO_DETACH_FILTER) {
			free(st_of(s)->pend_filter);
			st_of(s)->pend_filter = NULL;
		} else if (rc == 0) {
			remember(st_of(s), level, name, val, len);
		}
	}
	fdt_put(e);
	return skiff_ret(rc);
}

static int out_int(int v, void *val, socklen_t *len)
{
	socklen_t l;
	if (!len)
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	l = *len < sizeof(int) ? *len : sizeof(int);
	if (l && !val)
		return -EFAULT;
	memcpy(val, &v, l);
	*len = l;
	return 0;
}

int sock_packet_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct skiff_fd *e = pk_get(fd);
	struct skiff_sock *s;
	struct pk_state *ps;
	int rc = 1;

	if (!e || !sock_packet_attached(e->sock)) {
		fdt_put(e);
		return getsockopt(fd, level, name, val, len);
	}
	s = e->sock;
	ps = st_of(s);
	if (level == SOL_PACKET && name == PACKET_STATISTICS) {
		struct tpacket_stats_v3 st3;
		socklen_t l, lv = kernel_version(fd) == TPACKET_V3 ? sizeof(st3) : sizeof(struct tpacket_stats);
		memset(&st3, 0, sizeof(st3));
		if (!len) {
			rc = -EFAULT;
		} else if ((int)*len < 0) {
			rc = -EINVAL;
		} else {
			rt_lock(s->rt, s->instance);
			skiff_packet_stats(ps->pk, &st3.tp_packets, &st3.tp_drops);
			rt_unlock(s->rt, s->instance);
			l = *len < lv ? *len : lv;
			if (l && !val) {
				rc = -EFAULT;
			} else {
				memcpy(val, &st3, l);
				*len = l;
				rc = 0;
			}
		}
	} else if (level == SOL_PACKET && name == PACKET_AUXDATA) {
		rc = out_int(ps->auxdata, val, len);
	} else if (level == SOL_SOCKET && name == SO_LOCK_FILTER) {
		rt_lock(s->rt, s->instance);
		rc = ps->pk->filter_locked;
		rt_unlock(s->rt, s->instance);
		rc = out_int(rc, val, len);
	} else if (level == SOL_SOCKET && name == SO_PROTOCOL) {
		rc = out_int(s->protocol, val, len); /* sk_protocol: socket()'s, not the reserved socket's 0 */
	} else if (level == SOL_SOCKET && name == SO_GET_FILTER) {
		/* sk_get_filter: the length in instructions, or the program when it fits */
		if (!len) {
			rc = -EFAULT;
		} else {
			unsigned n;
			rt_lock(s->rt, s->instance);
			n = ps->pk->filter ? ps->pk->filter_len : 0;
			if (n && *len) {
				if (*len < n)
					n = (unsigned)-1;
				else if (!val)
					n = (unsigned)-2;
				else
					memcpy(val, ps->pk->filter, n * sizeof(struct sock_filter));
			}
			rt_unlock(s->rt, s->instance);
			rc = n == (unsigned)-1 ? -EINVAL : n == (unsigned)-2 ? -EFAULT : 0;
			if (rc == 0)
				*len = n;
		}
	}
	if (rc == 1)
		rc = getsockopt(fd, level, name, val, len) < 0 ? -errno : 0;
	fdt_put(e);
	return skiff_ret(rc);
}

