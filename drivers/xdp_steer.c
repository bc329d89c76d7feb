/* xdp_steer.c — loads ebpf/steer.bpf.c (bpftool skeleton) through libxdp.
 *
 * open:  check the interface and its rx queues → make sure bpffs is mounted →
 *        take <run dir>/xdp.lock → sweep records of programs that no longer
 *        exist → remove stale skiff programs from the interface → open the
 *        skeleton (not loaded: libxdp loads it as a dispatcher component) →
 *        xdp_program__attach native, else SKB → create the owner record and
 *        lock it → unlock. A run dir that cannot be written: one warning line,
 *        no records, and no stale program is ever removed.
 * maps:  add/del entries through the skeleton's map fds (loaded by the attach).
 * close: lock → detach → remove the owner record, drop its lock → unlock → free.
 *
 * Liveness comes from the kernel, not from /proc (pids mean nothing across pid
 * namespaces, and a parent may exit while forked children hold the sockets):
 *  - the owner record (<run dir>/xdp-prog-<prog id>.pid, "pid ifindex ifname",
 *    informational) is flock()ed LOCK_EX by its owner for the program's whole
 *    life, through an fd kept in the steer struct; the kernel drops the lock
 *    when the owner and every child sharing that open file are gone. A reaper
 *    that gets LOCK_EX|LOCK_NB knows they are.
 *  - the program's XSKMAP: the kernel removes a socket from it when the socket
 *    closes, so a populated map means someone still receives through it.
 * A skiff_steer program is stale when (its record's lock is free, or it has no
 * record and is older than STEER_ORPHAN_AGE_NS) and its XSKMAP is empty.
 * Records are keyed by BPF program id, unique machine-wide, so they work across
 * network namespaces.
 *
 * One global: a mutex around the swap of libbpf/libxdp's process-wide print
 * callbacks (quieted around each call sequence that may print, then restored).
 */
#include "xdp_steer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ethtool.h>
#include <linux/magic.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "steer.skel.h"

#define STEER_RUN_DIR "/run/skiff"
#define STEER_BPFFS "/sys/fs/bpf"
#define STEER_DEAD_OWNER_POLLS 40       /* ... and up to 2 s for a dead owner's sockets to leave the map */
#define STEER_DEAD_OWNER_POLL_US 50000
#define STEER_ORPHAN_AGE_NS 5000000000ull /* a skiff program without a record is not stale before this age */
#define MSG_ATTACH_PERM "permission denied attaching XDP to %s: need CAP_NET_ADMIN/CAP_BPF"

struct skiff_xdp_steer {
	struct steer_bpf *skel;
	struct xdp_program *prog;
	enum xdp_attach_mode mode;
	int ifindex;
	unsigned rx_queues;   /* 0: unknown */
	uint32_t prog_id;
	int record_fd;         /* owner record, flock(LOCK_EX) held until close; -1: none */
	char ifname[IF_NAMESIZE];
	char record[PATH_MAX]; /* owner record path, "" when none written */
};

/* ---- messages ------------------------------------------------------------------ */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* libbpf/libxdp chatter (section skips, dispatcher probing) goes to stderr only
 * when SKIFF_XDP_DEBUG is set; errors come back as errno and a line in err. */
static int quiet_print(const char *fmt, va_list ap)
{
	if (!getenv("SKIFF_XDP_DEBUG"))
		return 0;
	fputs("skiff: ", stderr);
	return vfprintf(stderr, fmt, ap);
}
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return quiet_print(fmt, ap);
}
static int quiet_libxdp(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return quiet_print(fmt, ap);
}

struct print_saved {
	libbpf_print_fn_t bpf;
	libxdp_print_fn_t xdp;
};

/* The print callbacks are process-wide: two threads swapping them at once could
 * restore each other's quiet callback for good. Held from prints_quiet() to
 * prints_restore() (never nested). */
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static struct print_saved prints_quiet(void)
{
	struct print_saved s;
	pthread_mutex_lock(&print_lock);
	s.bpf = libbpf_set_print(quiet_libbpf);
	s.xdp = libxdp_set_print(quiet_libxdp);
	return s;
}

static void prints_restore(struct print_saved s)
{
	libbpf_set_print(s.bpf);
	libxdp_set_print(s.xdp);
	pthread_mutex_unlock(&print_lock);
}

static const char *errstr(int rc)
{
	return strerror(rc < 0 ? -rc : rc);
}

static bool is_perm(int rc) { return rc == -EPERM || rc == -EACCES; }

/* ---- interface facts --------------------------------------------------------------- */

static int rx_queues_sysfs(const char *ifname, unsigned *out)
{
	char path[PATH_MAX];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;
	FILE *f;
	int idx = -1;

	/* /sys may belong to another network namespace (nsenter without a new
	 * mount namespace): trust it only when its ifindex matches. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (!f)
		return -EOPNOTSUPP;
	if (fscanf(f, "%d", &idx) != 1)
		idx = -1;
	fclose(f);
	if (idx != (int)if_nametoindex(ifname))
		return -EOPNOTSUPP;
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -EOPNOTSUPP;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "rx-", 3) == 0)
			n++;
	closedir(d);
	if (n == 0)
		return -EOPNOTSUPP;
	*out = n;
	return 0;
}

int skiff_xdp_rx_queues(const char *ifname, unsigned *out)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr;
	int fd, rc;

	if (!ifname || !out || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = (void *)&ch;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
	close(fd);
	if (rc == 0 && ch.rx_count + ch.combined_count > 0) {
		*out = ch.rx_count + ch.combined_count;
		return 0;
	}
	if (rc == -ENODEV)
		return rc;
	return rx_queues_sysfs(ifname, out);
}

/* ---- bpffs ------------------------------------------------------------------------- */

static bool is_bpffs(const char *path)
{
	struct statfs st;
	return statfs(path, &st) == 0 && (unsigned long)st.f_type == (unsigned long)BPF_FS_MAGIC;
}

/* libxdp pins dispatcher state in bpffs. Mount it when absent (e.g. inside
 * `ip netns exec`, which remounts /sys without it). */
static int bpffs_ensure(char *err, size_t errlen)
{
	const char *dir = getenv("LIBXDP_BPFFS");
	if (!dir || !*dir)
		dir = STEER_BPFFS;
	if (is_bpffs(dir))
		return 0;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return fail(err, errlen, -errno, "cannot create %s for bpffs: %s", dir, strerror(errno));
	if (mount("bpf", dir, "bpf", 0, "mode=0700") < 0) {
		int rc = -errno;
		if (is_perm(rc))
			return fail(err, errlen, rc,
				    "permission denied mounting bpffs at %s: need CAP_SYS_ADMIN "
				    "(or: mount -t bpf bpf %s)", dir, dir);
		return fail(err, errlen, rc, "cannot mount bpffs at %s: %s", dir, errstr(rc));
	}
	return 0;
}

/* ---- owner records ------------------------------------------------------------------ */

static const char *run_dir(void)
{
	const char *d = getenv("SKIFF_RUN_DIR");
	return d && *d ? d : STEER_RUN_DIR;
}

static void record_path(char *buf, size_t len, uint32_t prog_id)
{
	snprintf(buf, len, "%s/xdp-prog-%u.pid", run_dir(), prog_id);
}

/* Create the owner record of s->prog_id and take its lock, kept (record_fd)
 * until close: the kernel drops it when the last holder of this open file goes
 * (this process and any child forked with it, in whatever pid namespace). */
static int record_create(struct skiff_xdp_steer *s)
{
	char line[96];
	int fd, e, n;

	record_path(s->record, sizeof(s->record), s->prog_id);
	fd = open(s->record, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		e = errno;
		s->record[0] = '\0';
		return -e;
	}
	n = snprintf(line, sizeof(line), "%d %d %s\n", (int)getpid(), s->ifindex, s->ifname);
	errno = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || write(fd, line, (size_t)n) != n) {
		e = errno ? errno : EIO; /* saved before unlink/close can change it (a short write sets none) */
		unlink(s->record);
		close(fd);
		s->record[0] = '\0';
		return -e;
	}
	s->record_fd = fd;
	return 0;
}

static void record_drop(struct skiff_xdp_steer *s)
{
	if (s->record_fd < 0)
		return;
	unlink(s->record); /* first: nobody opens it after the lock goes */
	close(s->record_fd);
	s->record_fd = -1;
	s->record[0] = '\0';
}

enum record_state {
	RECORD_MISSING,  /* no record for this program */
	RECORD_LIVE,     /* its owner (or a child sharing the open file) holds the lock */
	RECORD_DEAD,     /* lock taken here: every holder is gone (*lockfd holds it now) */
	RECORD_UNKNOWN,  /* cannot tell: treated as live */
};

static enum record_state record_probe(uint32_t prog_id, int *lockfd)
{
	char path[PATH_MAX];
	int fd;

	*lockfd = -1;
	record_path(path, sizeof(path), prog_id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? RECORD_MISSING : RECORD_UNKNOWN;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? RECORD_LIVE : RECORD_UNKNOWN;
	}
	*lockfd = fd;
	return RECORD_DEAD;
}

/* Serialises stale detection + attach + record writing between skiff processes. */
static int run_lock(void)
{
	char path[PATH_MAX];
	int fd;
	if (mkdir(run_dir(), 0755) < 0 && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/xdp.lock", run_dir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX) < 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static void run_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* ---- what the kernel knows about a program ------------------------------------------- */

/* Info of program prog_id, with up to `nmaps` of its map ids in maps. */
static int prog_info(uint32_t prog_id, struct bpf_prog_info *info, uint32_t *maps, uint32_t nmaps)
{
	uint32_t len = sizeof(*info);
	int fd = bpf_prog_get_fd_by_id(prog_id), rc;

	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	info->nr_map_ids = nmaps;
	info->map_ids = (uint64_t)(uintptr_t)maps;
	rc = bpf_obj_get_info_by_fd(fd, info, &len) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* 1 when the program's XSKMAP holds a socket, 0 when it holds none, -errno when
 * unknown. The kernel removes a socket from every XSKMAP when it closes, so a
 * populated map means some process — in any pid namespace, with any /run — still
 * receives through this program. XSKMAP entries cannot be read from user space
 * (lookup: EOPNOTSUPP; get_next_key walks every index, populated or not), so
 * each index is probed with an insert of an unbound AF_XDP socket under
 * BPF_NOEXIST: EEXIST means occupied. Closing the probe socket takes it out of
 * every slot it landed in (and only those: an owner's own insert replaces it).
 * Meanwhile (well under a millisecond) frames for skiff's addresses arriving on
 * a queue with no socket are dropped instead of passed. Without the privilege
 * to look the program up (CAP_SYS_ADMIN): unknown, and the program stays. */
static int xskmap_populated(uint32_t prog_id)
{
	uint32_t maps[16], key, next;
	struct bpf_prog_info info;
	int rc = prog_info(prog_id, &info, maps, 16), found = -ENOENT;

	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < info.nr_map_ids && i < 16 && found == -ENOENT; i++) {
		struct bpf_map_info mi;
		uint32_t len = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(maps[i]), probe;
		bool first = true;

		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(mfd, &mi, &len) < 0 || mi.type != BPF_MAP_TYPE_XSKMAP) {
			close(mfd);
			continue;
		}
		probe = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (probe < 0) {
			found = -errno;
			close(mfd);
			break;
		}
		found = 0;
		while (bpf_map_get_next_key(mfd, first ? NULL : &key, &next) == 0) {
			uint32_t val = (uint32_t)probe;
			first = false;
			key = next;
			if (bpf_map_update_elem(mfd, &key, &val, BPF_NOEXIST) < 0) {
				found = errno == EEXIST ? 1 : -errno;
				break;
			}
		}
		close(probe);
		close(mfd);
	}
	return found;
}

/* Nanoseconds since the program was loaded, or 0 when unknown. */
static uint64_t prog_age_ns(uint32_t prog_id)
{
	struct bpf_prog_info info;
	struct timespec ts;
	uint64_t now;

	if (prog_info(prog_id, &info, NULL, 0) < 0 || clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
		return 0;
	now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return now > info.load_time ? now - info.load_time : 0;
}

/* ---- stale programs ------------------------------------------------------------------ */

static bool is_skiff_prog(struct xdp_program *p)
{
	const char *name = p ? xdp_program__name(p) : NULL;
	/* the kernel truncates program names to 15 characters */
	return name && strncmp(name, SKIFF_STEER_PROG_NAME, BPF_OBJ_NAME_LEN - 1) == 0;
}

/* Whether skiff program prog_id is stale and may go: its owner record's lock is
 * free (every holder gone) or there is no record and the program is older than
 * STEER_ORPHAN_AGE_NS (an owner without records between attach and its first
 * socket), AND its XSKMAP holds no socket. On true, *lockfd holds the dead
 * record's lock (or -1): remove the record after the detach, then close it. */
static bool stale_decide(uint32_t prog_id, int *lockfd)
{
	enum record_state st = record_probe(prog_id, lockfd);

	if (st == RECORD_LIVE || st == RECORD_UNKNOWN)
		return false;
	if (st == RECORD_MISSING && prog_age_ns(prog_id) < STEER_ORPHAN_AGE_NS)
		return false;
	/* an owner that just died: the kernel takes its sockets out of the XSKMAP
	 * as their release completes, a little after the process is gone; wait
	 * for that (bounded) instead of calling a dead owner's program busy */
	for (int i = 0; st == RECORD_DEAD && i < STEER_DEAD_OWNER_POLLS && xskmap_populated(prog_id) > 0; i++)
		usleep(STEER_DEAD_OWNER_POLL_US);
	if (xskmap_populated(prog_id) != 0) {
		/* a socket still receives through it (or the map cannot be read) */
		if (*lockfd >= 0)
			close(*lockfd);
		*lockfd = -1;
		return false;
	}
	return true;
}

static void reaped(uint32_t id, int lockfd)
{
	char path[PATH_MAX];
	record_path(path, sizeof(path), id);
	unlink(path); /* a missing record too: nothing to do */
	if (lockfd >= 0)
		close(lockfd);
}

/* Remove every skiff_steer program on ifindex that is stale (stale_decide).
 * Returns the number removed, or -errno when one could not be removed. */
static int reap_stale(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	enum xdp_attach_mode mode;
	struct xdp_program *p;
	int removed = 0, rc = 0, lockfd;

	if (!mp || libxdp_get_error(mp))
		return 0; /* nothing attached */
	mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (is_skiff_prog(p) && stale_decide(xdp_program__id(p), &lockfd)) {
			uint32_t id = xdp_program__id(p);
			rc = xdp_multiprog__detach(mp);
			if (rc == 0) {
				reaped(id, lockfd);
				removed++;
			} else if (lockfd >= 0) {
				close(lockfd);
			}
		}
		xdp_multiprog__close(mp);
		return rc ? rc : removed;
	}
	for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp)) {
		uint32_t id = xdp_program__id(p);
		int r;
		if (!is_skiff_prog(p) || !stale_decide(id, &lockfd))
			continue;
		r = xdp_program__detach(p, ifindex, mode, 0);
		if (r == 0) {
			reaped(id, lockfd);
			removed++;
		} else {
			if (lockfd >= 0)
				close(lockfd);
			rc = r;
		}
	}
	xdp_multiprog__close(mp);
	return rc ? rc : removed;
}

/* Records of programs that no longer exist (their owner was killed and the
 * interface went away, taking the program with it), or whose id now belongs to
 * another program: removed, when no one holds their lock. Under the run lock. */
static void sweep_records(void)
{
	const char *dir = run_dir();
	struct dirent *de;
	DIR *dd = opendir(dir);

	if (!dd)
		return;
	while ((de = readdir(dd))) {
		struct bpf_prog_info info;
		unsigned id = 0;
		int used = 0, lockfd, rc;
		bool gone;

		if (sscanf(de->d_name, "xdp-prog-%u.pid%n", &id, &used) != 1 || used == 0 || de->d_name[used] != '\0')
			continue;
		if (record_probe(id, &lockfd) != RECORD_DEAD)
			continue;
		rc = prog_info(id, &info, NULL, 0);
		gone = rc == -ENOENT ||
		       (rc == 0 && strncmp(info.name, SKIFF_STEER_PROG_NAME, BPF_OBJ_NAME_LEN - 1) != 0);
		if (gone)
			reaped(id, -1);
		close(lockfd);
	}
	closedir(dd);
}

int skiff_xdp_steer_attached(int ifindex)
{
	struct print_saved ps = prints_quiet();
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int n = 0;

	if (mp && !libxdp_get_error(mp)) {
		if (xdp_multiprog__is_legacy(mp)) {
			p = xdp_multiprog__main_prog(mp);
			n = p && strcmp(xdp_program__name(p), SKIFF_STEER_PROG_NAME) == 0;
		} else {
			for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
				n += strcmp(xdp_program__name(p), SKIFF_STEER_PROG_NAME) == 0;
		}
		xdp_multiprog__close(mp);
	}
	prints_restore(ps);
	return n;
}

/* ---- open ------------------------------------------------------------------------------ */

/* Another XDP program is attached and libxdp could not share the interface
 * with it (no dispatcher on this kernel, or a different attach mode): name it. */
static int fail_occupied(const struct skiff_xdp_steer *s, int rc, char *err, size_t errlen)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info), id = 0;
	int fd;

	memset(&info, 0, sizeof(info));
	if (bpf_xdp_query_id(s->ifindex, 0, &id) < 0 || id == 0)
		return fail(err, errlen, rc, "cannot attach XDP to %s: another XDP program is attached (%s)", s->ifname,
			    errstr(rc));
	fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0) {
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			info.name[0] = '\0';
		close(fd);
	}
	return fail(err, errlen, rc,
		    "cannot attach XDP to %s: XDP program %u (%s) is attached and cannot be shared (%s)", s->ifname,
		    id, info.name[0] ? info.name : "?", errstr(rc));
}

static int attach(struct skiff_xdp_steer *s, const struct skiff_xdp_steer_opts *o, char *err, size_t errlen)
{
	int rc = -EOPNOTSUPP;
	s->skel = steer_bpf__open();
	if (!s->skel) {
		rc = errno ? -errno : -ENOMEM;
		return fail(err, errlen, rc, "cannot open the steering program: %s", errstr(rc));
	}
	s->prog = xdp_program__from_bpf_obj(s->skel->obj, NULL);
	if (libxdp_get_error(s->prog)) {
		rc = (int)libxdp_get_error(s->prog);
		s->prog = NULL;
		return fail(err, errlen, rc, "cannot create the XDP program: %s", errstr(rc));
	}
	if (!o->skb_mode) {
		rc = xdp_program__attach(s->prog, s->ifindex, XDP_MODE_NATIVE, 0);
		if (rc == 0) {
			s->mode = XDP_MODE_NATIVE;
			return 0;
		}
		if (is_perm(rc))
			return fail(err, errlen, rc, MSG_ATTACH_PERM, s->ifname);
		if (rc == -EEXIST || rc == -EBUSY)
			return fail_occupied(s, rc, err, errlen);
		if (!o->quiet)
			fprintf(stderr, "skiff: native XDP on %s failed (%s); using SKB (generic) mode\n",
				s->ifname, errstr(rc));
	}
	rc = xdp_program__attach(s->prog, s->ifindex, XDP_MODE_SKB, 0);
	if (rc == 0) {
		s->mode = XDP_MODE_SKB;
		return 0;
	}
	if (is_perm(rc))
		return fail(err, errlen, rc, MSG_ATTACH_PERM, s->ifname);
	if (rc == -EEXIST || rc == -EBUSY)
		return fail_occupied(s, rc, err, errlen);
	return fail(err, errlen, rc, "cannot attach XDP to %s: %s", s->ifname, errstr(rc));
}

static int check_queues(struct skiff_xdp_steer *s, unsigned nqueues, char *err, size_t errlen)
{
	unsigned n = 0;
	int rc;
	if (nqueues == 0 || nqueues > SKIFF_STEER_MAX_QUEUES)
		return fail(err, errlen, -EINVAL, "queue count %u out of range 1..%u", nqueues, SKIFF_STEER_MAX_QUEUES);
	rc = skiff_xdp_rx_queues(s->ifname, &n);
	if (rc == -ENODEV)
		return fail(err, errlen, rc, "interface %s not found", s->ifname);
	if (rc < 0)
		return 0; /* unknown: socket bind will judge */
	s->rx_queues = n;
	if (nqueues > n)
		return fail(err, errlen, -EINVAL, "queue %u does not exist on %s: it has %u rx queue(s)", n, s->ifname,
			    n);
	return 0;
}

int skiff_xdp_steer_open_opts(const char *ifname, unsigned nqueues, const struct skiff_xdp_steer_opts *opts,
			      struct skiff_xdp_steer **out, char *err, size_t errlen)
{
	struct skiff_xdp_steer_opts o = { 0 };
	struct skiff_xdp_steer *s;
	struct print_saved ps;
	int lock = -1, rc;

	if (err && errlen)
		err[0] = '\0';
	if (!ifname || !*ifname || !out)
		return fail(err, errlen, -EINVAL, "no interface name given");
	*out = NULL;
	if (opts)
		o = *opts;
	if (strlen(ifname) >= IF_NAMESIZE)
		return fail(err, errlen, -ENODEV, "interface %s not found (name too long)", ifname);
	s = calloc(1, sizeof(*s));
	if (!s)
		return fail(err, errlen, -ENOMEM, "out of memory");
	memcpy(s->ifname, ifname, strlen(ifname) + 1);
	s->record_fd = -1;
	s->ifindex = (int)if_nametoindex(ifname);
	if (s->ifindex == 0) {
		free(s);
		return fail(err, errlen, -ENODEV, "interface %s not found", ifname);
	}
	rc = check_queues(s, nqueues, err, errlen);
	if (rc == 0)
		rc = bpffs_ensure(err, errlen);
	if (rc < 0) {
		free(s);
		return rc;
	}

	ps = prints_quiet();
	lock = run_lock();
	if (lock < 0) {
		/* No records: nothing tells a dead owner from a live one here, so
		 * nothing is removed either. */
		if (!o.quiet)
			fprintf(stderr, "skiff: %s not writable (%s): running without owner records; stale skiff XDP "
				"programs are not removed\n", run_dir(), errstr(lock));
	} else {
		sweep_records();
		rc = reap_stale(s->ifindex);
		if (rc < 0) {
			rc = is_perm(rc) ? fail(err, errlen, rc, "permission denied: need CAP_NET_ADMIN/CAP_BPF")
					 : fail(err, errlen, rc, "cannot remove a stale skiff XDP program from %s: %s",
						ifname, errstr(rc));
			goto out;
		}
	}
	rc = attach(s, &o, err, errlen);
	if (rc < 0)
		goto out;
	s->prog_id = xdp_program__id(s->prog);
	if (lock >= 0) {
		int r = record_create(s);
		if (r < 0 && !o.quiet)
			fprintf(stderr, "skiff: cannot write an owner record under %s (%s): running without one\n",
				run_dir(), errstr(r));
	}
out:
	if (rc < 0) {
		if (s->mode != XDP_MODE_UNSPEC)
			xdp_program__detach(s->prog, s->ifindex, s->mode, 0);
		xdp_program__close(s->prog);
		steer_bpf__destroy(s->skel);
		free(s);
		s = NULL;
	}
	run_unlock(lock);
	prints_restore(ps);
	*out = s;
	return rc < 0 ? rc : 0;
}

/* ---- maps -------------------------------------------------------------------------------- */

static int map_update(struct bpf_map *m, const void *key, const void *val)
{
	return bpf_map_update_elem(bpf_map__fd(m), key, val, BPF_ANY) < 0 ? -errno : 0;
}

static int map_delete(struct bpf_map *m, const void *key)
{
	return bpf_map_delete_elem(bpf_map__fd(m), key) < 0 ? -errno : 0;
}

int skiff_xdp_steer_add_xsk(struct skiff_xdp_steer *s, unsigned queue, int xsk_fd)
{
	uint32_t key = queue, val = (uint32_t)xsk_fd;
	if (!s || xsk_fd < 0 || queue >= SKIFF_STEER_MAX_QUEUES || (s->rx_queues && queue >= s->rx_queues))
		return -EINVAL;
	return map_update(s->skel->maps.xsks, &key, &val);
}

int skiff_xdp_steer_del_xsk(struct skiff_xdp_steer *s, unsigned queue)
{
	uint32_t key = queue;
	if (!s || queue >= SKIFF_STEER_MAX_QUEUES)
		return -EINVAL;
	return map_delete(s->skel->maps.xsks, &key);
}

static uint32_t ip4_kind(uint32_t a)
{
	if (a == 0xffffffffu)
		return SKIFF_STEER_ADDR_BROADCAST;
	return (a >> 28) == 0xe ? SKIFF_STEER_ADDR_MULTICAST : SKIFF_STEER_ADDR_UNICAST;
}

int skiff_xdp_steer_add_ip4(struct skiff_xdp_steer *s, uint32_t addr_host_order)
{
	uint32_t key = htonl(addr_host_order), val = ip4_kind(addr_host_order);
	if (!s)
		return -EINVAL;
	return map_update(s->skel->maps.ip4_addrs, &key, &val);
}

int skiff_xdp_steer_del_ip4(struct skiff_xdp_steer *s, uint32_t addr_host_order)
{
	uint32_t key = htonl(addr_host_order);
	if (!s)
		return -EINVAL;
	return map_delete(s->skel->maps.ip4_addrs, &key);
}

int skiff_xdp_steer_add_ip6(struct skiff_xdp_steer *s, const uint8_t addr[16])
{
	struct skiff_steer_ip6 key;
	uint32_t val;
	if (!s || !addr)
		return -EINVAL;
	memcpy(key.addr, addr, sizeof(key.addr));
	val = addr[0] == 0xff ? SKIFF_STEER_ADDR_MULTICAST : SKIFF_STEER_ADDR_UNICAST;
	return map_update(s->skel->maps.ip6_addrs, &key, &val);
}

int skiff_xdp_steer_del_ip6(struct skiff_xdp_steer *s, const uint8_t addr[16])
{
	struct skiff_steer_ip6 key;
	if (!s || !addr)
		return -EINVAL;
	memcpy(key.addr, addr, sizeof(key.addr));
	return map_delete(s->skel->maps.ip6_addrs, &key);
}

int skiff_xdp_steer_add_mac(struct skiff_xdp_steer *s, const uint8_t mac[6])
{
	struct skiff_steer_mac key = { { 0 }, { 0 } };
	uint32_t val = SKIFF_STEER_ADDR_MULTICAST;
	if (!s || !mac || !(mac[0] & 1))
		return -EINVAL;
	memcpy(key.addr, mac, sizeof(key.addr));
	return map_update(s->skel->maps.mac_addrs, &key, &val);
}

int skiff_xdp_steer_del_mac(struct skiff_xdp_steer *s, const uint8_t mac[6])
{
	struct skiff_steer_mac key = { { 0 }, { 0 } };
	if (!s || !mac)
		return -EINVAL;
	memcpy(key.addr, mac, sizeof(key.addr));
	return map_delete(s->skel->maps.mac_addrs, &key);
}

int skiff_xdp_steer_counters(struct skiff_xdp_steer *s, struct skiff_steer_counters *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct skiff_steer_count *percpu;
	int fd, rc = 0;

	if (!s || !out)
		return -EINVAL;
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	memset(out, 0, sizeof(*out));
	percpu = calloc((size_t)ncpu, sizeof(*percpu)); /* value size is a multiple of 8 */
	if (!percpu)
		return -ENOMEM;
	fd = bpf_map__fd(s->skel->maps.counters);
	for (uint32_t i = 0; i < SKIFF_STEER_NCOUNTERS; i++) {
		if (bpf_map_lookup_elem(fd, &i, percpu) < 0) {
			rc = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out->packets[i] += percpu[c].packets;
			out->bytes[i] += percpu[c].bytes;
		}
	}
	free(percpu);
	return rc;
}

const char *skiff_xdp_steer_counter_name(unsigned i)
{
	static const char *const names[SKIFF_STEER_NCOUNTERS] = SKIFF_STEER_COUNTER_NAMES;
	return i < SKIFF_STEER_NCOUNTERS ? names[i] : "?";
}

const char *skiff_xdp_steer_mode(const struct skiff_xdp_steer *s)
{
	if (!s)
		return "none";
	return s->mode == XDP_MODE_NATIVE ? "native" : s->mode == XDP_MODE_SKB ? "skb" : "none";
}

uint32_t skiff_xdp_steer_prog_id(const struct skiff_xdp_steer *s) { return s ? s->prog_id : 0; }
int skiff_xdp_steer_ifindex(const struct skiff_xdp_steer *s) { return s ? s->ifindex : 0; }

/* ---- close -------------------------------------------------------------------------------- */

void skiff_xdp_steer_close(struct skiff_xdp_steer *s)
{
	struct print_saved ps;
	int lock;

	if (!s)
		return;
	ps = prints_quiet();
	lock = run_lock(); /* best effort: detach even when the lock is unavailable */
	if (s->prog && s->mode != XDP_MODE_UNSPEC) {
		int rc = xdp_program__detach(s->prog, s->ifindex, s->mode, 0);
		if (rc < 0 && rc != -ENOENT && rc != -ENODEV)
			fprintf(stderr, "skiff: cannot detach XDP program %u from %s: %s\n", s->prog_id, s->ifname,
				errstr(rc));
	}
	record_drop(s);
	run_unlock(lock);
	xdp_program__close(s->prog);
	steer_bpf__destroy(s->skel);
	prints_restore(ps);
	free(s);
}
