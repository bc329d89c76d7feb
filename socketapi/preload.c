/* preload.c — libskiff_preload.so: unmodified programs on skiff through
 * LD_PRELOAD (DESIGN.md "The LD_PRELOAD shim").
 *
 * Flow:
 *   every intercepted call (preload_calls.h): this thread already inside skiff
 *     (skiff_tls_in_call: a wrapper's own call into skiff, the progress thread)
 *     or a fd with no skiff entry → the next definition (libc) at once;
 *     otherwise the skiff_* call of the same name, with the guard raised so
 *     skiff's own socket()/close()/poll() reach libc.
 *   socket(AF_INET/AF_INET6, stream/dgram) and epoll_create* → boot on first use: the
 *     config (SKIFF_CONFIG file, then SKIFF_* variables) is opened (devices,
 *     stack, runtime, progress thread); no usable config → one warning line and
 *     everything stays on the kernel. The socket is then a deferred one
 *     (defer.h): it moves to skiff at bind/connect/sendto on a bypass address.
 *   fork: the child forgets the parent's skiff sockets (their stack is the
 *     parent's); their fds stay as the plain, unbound kernel sockets that
 *     reserved the numbers, and the child's new sockets are the kernel's.
 *     vfork is fork (a permitted implementation) so that handler runs.
 *   sigaction/signal: the program's handlers run behind a trampoline that counts
 *     them on the thread (skiff_tls_sigs), so a blocking skiff call that was
 *     busy-polling when the signal came returns EINTR as the kernel's would
 *     (SA_RESTART honoured); the program sees its own handlers in every answer.
 *   exit: the program's skiff sockets are closed and the stack driven until
 *     their data and FINs are delivered (at most SKIFF_EXIT_DRAIN_MS), as the
 *     kernel would deliver them after exit; then devices are closed (the XDP
 *     program detached) under every instance lock, taken for good: a program
 *     thread still inside a skiff call blocks until the process ends.
 */
/* glibc redirects fcntl → fcntl64 and sendfile → sendfile64 under 64-bit file
 * offsets; both names are interposed here, so neither may be renamed. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "boot.h"
#include "dataplane/tcp.h"
#include "config.h"
#include "defer.h"
#include "fdtable.h"
#include "preload_calls.h"
#include "runtime.h"
#include "sock_packet.h"
#include "skiff/skiff.h"

#define SA(a) ((a).__sockaddr__)
#define EXIT_DRAIN_MS_DEFAULT 2000u

/* ---- the next definitions ---- */

#define X(ret, name, params, ...) static ret(*libc_##name) params;
PRELOAD_FD_CALLS(X)
PRELOAD_OWN_CALLS(X)
#undef X

static void resolve_all(void)
{
#define X(ret, name, params, ...) libc_##name = (ret(*) params)dlsym(RTLD_NEXT, #name);
	PRELOAD_FD_CALLS(X)
	PRELOAD_OWN_CALLS(X)
#undef X
}

static pthread_once_t g_resolve_once = PTHREAD_ONCE_INIT;
#define LIBC(name) (__builtin_expect(libc_##name != NULL, 1) ? libc_##name : (pthread_once(&g_resolve_once, resolve_all), libc_##name))

/* ---- state ---- */

enum { ST_UNKNOWN, ST_ACTIVE, ST_KERNEL };
static atomic_int g_state;
static pthread_mutex_t g_boot_mu = PTHREAD_MUTEX_INITIALIZER;
static struct skiff_boot *g_boot;
static struct skiff_config g_cfg;
static pid_t g_boot_pid;

#define ENTER() (skiff_tls_in_call++)
#define LEAVE() (skiff_tls_in_call--)
#define BYPASS() (skiff_tls_in_call != 0)

static void warn_kernel(const char *why)
{
	char line[SKIFF_CFG_ERR + 96];
	int n = snprintf(line, sizeof(line), "skiff: %s; everything runs on the kernel\n", why);
	if (n > 0)
		(void)!LIBC(write)(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void preload_exit(void);

static void boot_locked(void)
{
	char err[SKIFF_CFG_ERR];
	const char *path = getenv("SKIFF_CONFIG");
	int rc;

	skiff_config_defaults(&g_cfg);
	if (path && *path) {
		rc = skiff_config_load(&g_cfg, path, err, sizeof(err));
		if (rc < 0) {
			warn_kernel(err);
			atomic_store(&g_state, ST_KERNEL);
			return;
		}
	} else if (!getenv("SKIFF_INTERFACE")) {
		warn_kernel("no configuration (set SKIFF_CONFIG or SKIFF_INTERFACE)");
		atomic_store(&g_state, ST_KERNEL);
		return;
	}
	if (skiff_config_env(&g_cfg, err, sizeof(err)) < 0 || skiff_config_check(&g_cfg, err, sizeof(err)) < 0 ||
	    skiff_boot_open(&g_cfg, &g_boot, err, sizeof(err)) < 0) {
		warn_kernel(err);
		atomic_store(&g_state, ST_KERNEL);
		return;
	}
	atomic_store(&g_boot->rt->kernel_opts, true);
	sock_defer_set_policy(g_boot->rt, g_boot->instance, &g_cfg);
	g_boot_pid = getpid();
	atexit(preload_exit);
	atomic_store(&g_state, ST_ACTIVE);
}

/* Boot on first use; true when skiff serves this process. */
static bool active(void)
{
	int st = atomic_load_explicit(&g_state, memory_order_acquire);
	if (__builtin_expect(st != ST_UNKNOWN, 1))
		return st == ST_ACTIVE;
	sigset_t all, old;
	ENTER();
	/* every thread boot starts (progress, DPDK's EAL) is born with signals
	 * blocked: the program's signals are for its own threads */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_mutex_lock(&g_boot_mu);
	if (atomic_load(&g_state) == ST_UNKNOWN)
		boot_locked();
	pthread_mutex_unlock(&g_boot_mu);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	LEAVE();
	return atomic_load(&g_state) == ST_ACTIVE;
}

/* ---- exit and fork ---- */

static bool is_stack_sock(const struct skiff_sock *s, void *ctx)
{
	uint8_t k = atomic_load(&((struct skiff_sock *)s)->kind);
	(void)ctx;
	return k == SKIFF_FD_UDP || k == SKIFF_FD_TCP || k == SKIFF_FD_RAW;
}

static void preload_exit(void)
{
	struct skiff_rt *rt;
	unsigned ms = EXIT_DRAIN_MS_DEFAULT;
	const char *v = getenv("SKIFF_EXIT_DRAIN_MS");
	uint64_t end;

	if (atomic_load(&g_state) != ST_ACTIVE || getpid() != g_boot_pid || !g_boot)
		return;
	ENTER();
	if (v && *v)
		ms = (unsigned)strtoul(v, NULL, 10);
	rt = g_boot->rt;
	/* what the kernel does at exit: every socket closed, TCP data and FINs delivered */
	fdt_drop_if(is_stack_sock, NULL);
	end = rt_mono_ns() + (uint64_t)ms * 1000000ull;
	for (;;) {
		unsigned left;
		rt_progress_all(rt, -1);
		rt_lock(rt, g_boot->instance);
		left = skiff_tcp_unfinished(rt_stack(rt, g_boot->instance));
		rt_unlock(rt, g_boot->instance);
		if (left == 0 || rt_mono_ns() >= end)
			break;
		(void)rt_sleep(&rt, 1, NULL, 0, 1000000ull, NULL);
	}
	atomic_store(&g_state, ST_KERNEL);
	skiff_boot_exit(g_boot); /* devices closed; memory left to the teardown (threads may still be inside) */
	LEAVE();
}

static void atfork_child(void)
{
	if (atomic_load(&g_state) != ST_ACTIVE)
		return;
	fdt_forget_all();
	sock_defer_set_policy(NULL, 0, NULL);
	atomic_store(&g_state, ST_KERNEL);
	pthread_mutex_init(&g_boot_mu, NULL);
}

__attribute__((constructor)) static void preload_init(void)
{
	const char *early = getenv("SKIFF_BOOT_EARLY");
	pthread_once(&g_resolve_once, resolve_all);
	pthread_atfork(NULL, NULL, atfork_child);
	/* boot now, not at the first socket(): for programs that drop privileges
	 * before they open sockets (iputils ping keeps only CAP_NET_RAW, which
	 * cannot attach XDP); the sockets then move to skiff as usual */
	if (early && *early && strcmp(early, "0") != 0) {
		unsetenv("SKIFF_BOOT_EARLY"); /* the programs boot runs or this one execs boot as usual */
		(void)active();
	}
}

/* ---- signals ---- */

/* The program's handler per signal, as it gave it (sa_flags keep SA_SIGINFO and
 * SA_RESTART). Written before the kernel's handler is swapped, read by the
 * trampoline. */
static struct {
	_Atomic(void *) fn;
	atomic_int flags;
} g_sig[NSIG];

static void trampoline(int sig, siginfo_t *si, void *uc)
{
	void *fn = atomic_load_explicit(&g_sig[sig].fn, memory_order_acquire);
	int flags = atomic_load_explicit(&g_sig[sig].flags, memory_order_relaxed);
	skiff_tls_sigs++;
	skiff_tls_sig_restart = (flags & SA_RESTART) != 0;
	if (!fn)
		return;
	if (flags & SA_SIGINFO)
		((void (*)(int, siginfo_t *, void *))fn)(sig, si, uc);
	else
		((void (*)(int))fn)(sig);
}

static bool user_handler(const struct sigaction *a)
{
	return (a->sa_flags & SA_SIGINFO) ? a->sa_sigaction != NULL
					  : (a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine, prev;
	void *prev_fn;
	int prev_flags, rc;

	if (sig <= 0 || sig >= NSIG)
		return LIBC(sigaction)(sig, act, old);
	prev_fn = atomic_load(&g_sig[sig].fn);
	prev_flags = atomic_load(&g_sig[sig].flags);
	if (act && user_handler(act)) {
		mine = *act;
		mine.sa_sigaction = trampoline;
		mine.sa_flags |= SA_SIGINFO;
		atomic_store(&g_sig[sig].flags, act->sa_flags);
		atomic_store_explicit(&g_sig[sig].fn,
				      (act->sa_flags & SA_SIGINFO) ? (void *)act->sa_sigaction : (void *)act->sa_handler,
				      memory_order_release);
		act = &mine;
	}
	rc = LIBC(sigaction)(sig, act, &prev);
	if (rc < 0) {
		atomic_store(&g_sig[sig].fn, prev_fn);
		atomic_store(&g_sig[sig].flags, prev_flags);
		return rc;
	}
	if (old) {
		*old = prev;
		if ((prev.sa_flags & SA_SIGINFO) && prev.sa_sigaction == trampoline) { /* the program's own, as it gave it */
			old->sa_flags = prev_flags;
			if (prev_flags & SA_SIGINFO)
				old->sa_sigaction = (void (*)(int, siginfo_t *, void *))prev_fn;
			else
				old->sa_handler = (void (*)(int))prev_fn;
		}
	}
	return 0;
}

/* glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its handler). */
__sighandler_t signal(int sig, __sighandler_t h)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof(act));
	act.sa_handler = h;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	if (sig > 0 && sig < NSIG)
		sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* ---- fd-routed calls ---- */

#define X(ret, name, params, largs, sargs, fd)                                                                        \
	ret name params                                                                                               \
	{                                                                                                             \
		ret r;                                                                                                \
		if (BYPASS() || !fdt_contains(fd))                                                                    \
			return LIBC(name) largs;                                                                      \
		ENTER();                                                                                              \
		r = skiff_##name sargs;                                                                               \
		LEAVE();                                                                                              \
		return r;                                                                                             \
	}
PRELOAD_FD_CALLS(X)
#undef X

/* ---- calls with their own routing ---- */

int socket(int d, int t, int p)
{
	int r;
	if (d == AF_PACKET && !BYPASS() && active()) { /* sock_packet.c */
		ENTER();
		r = sock_packet_socket(d, t, p);
		LEAVE();
		return r;
	}
	if (BYPASS() || (d != AF_INET && d != AF_INET6) || !active())
		return LIBC(socket)(d, t, p);
	ENTER();
	r = skiff_socket_deferred(d, t, p);
	LEAVE();
	return r;
}

int socketpair(int d, int t, int p, int sv[2]) { return LIBC(socketpair)(d, t, p, sv); }

int dup2(int fd, int nfd)
{
	int r;
	if (BYPASS() || (!fdt_contains(fd) && !fdt_contains(nfd)))
		return LIBC(dup2)(fd, nfd);
	ENTER();
	r = skiff_dup2(fd, nfd);
	LEAVE();
	return r;
}

int dup3(int fd, int nfd, int f)
{
	int r;
	if (BYPASS() || (!fdt_contains(fd) && !fdt_contains(nfd)))
		return LIBC(dup3)(fd, nfd, f);
	ENTER();
	r = skiff_dup3(fd, nfd, f);
	LEAVE();
	return r;
}

/* fcntl's third argument is read as a pointer-sized word, as glibc does. */
static int fcntl_common(int (*libc)(int, int, ...), int fd, int cmd, void *arg)
{
	int r;
	if (BYPASS() || !fdt_contains(fd))
		return libc(fd, cmd, arg);
	ENTER();
	r = skiff_fcntl(fd, cmd, arg);
	LEAVE();
	return r;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(LIBC(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_common(LIBC(fcntl64) ? LIBC(fcntl64) : LIBC(fcntl), fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int r;
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (BYPASS() || !fdt_contains(fd))
		return LIBC(ioctl)(fd, req, arg);
	ENTER();
	r = skiff_ioctl(fd, req, arg);
	LEAVE();
	return r;
}

int poll(struct pollfd *f, nfds_t n, int t)
{
	int r;
	if (BYPASS() || atomic_load_explicit(&g_state, memory_order_relaxed) != ST_ACTIVE)
		return LIBC(poll)(f, n, t);
	ENTER();
	r = skiff_poll(f, n, t);
	LEAVE();
	return r;
}

int ppoll(struct pollfd *f, nfds_t n, const struct timespec *t, const sigset_t *m)
{
	int r;
	if (BYPASS() || atomic_load_explicit(&g_state, memory_order_relaxed) != ST_ACTIVE)
		return LIBC(ppoll)(f, n, t, m);
	ENTER();
	r = skiff_ppoll(f, n, t, m);
	LEAVE();
	return r;
}

int select(int n, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *t)
{
	int r;
	if (BYPASS() || atomic_load_explicit(&g_state, memory_order_relaxed) != ST_ACTIVE)
		return LIBC(select)(n, rd, wr, ex, t);
	ENTER();
	r = skiff_select(n, rd, wr, ex, t);
	LEAVE();
	return r;
}

int pselect(int n, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *t, const sigset_t *m)
{
	int r;
	if (BYPASS() || atomic_load_explicit(&g_state, memory_order_relaxed) != ST_ACTIVE)
		return LIBC(pselect)(n, rd, wr, ex, t, m);
	ENTER();
	r = skiff_pselect(n, rd, wr, ex, t, m);
	LEAVE();
	return r;
}

int epoll_create(int size)
{
	int r;
	if (BYPASS() || !active())
		return LIBC(epoll_create)(size);
	ENTER();
	r = skiff_epoll_create(size);
	LEAVE();
	return r;
}

int epoll_create1(int flags)
{
	int r;
	if (BYPASS() || !active())
		return LIBC(epoll_create1)(flags);
	ENTER();
	r = skiff_epoll_create1(flags);
	LEAVE();
	return r;
}

ssize_t sendfile64(int out, int in, off_t *off, size_t n) { return sendfile(out, in, off, n); }

/* mmap of a skiff packet socket maps its PACKET_RX_RING (sock_packet.c); every
 * other mapping (no fd, or a fd skiff does not know) is libc's at once. */
static void *mmap_common(void *(*libc)(void *, size_t, int, int, int, off_t), void *a, size_t l, int p, int f,
			 int fd, off_t o)
{
	void *r;
	if (fd < 0 || BYPASS() || !fdt_contains(fd))
		return libc(a, l, p, f, fd, o);
	ENTER();
	r = sock_packet_mmap(a, l, p, f, fd, o);
	LEAVE();
	return r;
}

/* before the next definitions are resolved (a mapping made while dlsym runs):
 * the system call itself, never a recursive pthread_once */
static void *raw_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	return (void *)syscall(SYS_mmap, a, l, p, f, fd, o);
}

void *mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	return mmap_common(libc_mmap ? libc_mmap : raw_mmap, a, l, p, f, fd, o);
}

void *mmap64(void *a, size_t l, int p, int f, int fd, off_t o)
{
	return mmap_common(libc_mmap64 ? libc_mmap64 : libc_mmap ? libc_mmap : raw_mmap, a, l, p, f, fd, o);
}

pid_t fork(void) { return LIBC(fork)(); }

pid_t vfork(void) { return LIBC(fork)(); }

/* ---- _FORTIFY_SOURCE variants: the bounds check, then the call ---- */

static _Noreturn void chk_fail(void)
{
	static const char msg[] = "*** buffer overflow detected ***: terminated\n";
	(void)!LIBC(write)(2, msg, sizeof(msg) - 1);
	abort();
}

ssize_t __read_chk(int fd, void *b, size_t n, size_t bl)
{
	if (n > bl)
		chk_fail();
	return read(fd, b, n);
}

ssize_t __recv_chk(int fd, void *b, size_t n, size_t bl, int f)
{
	if (n > bl)
		chk_fail();
	return recv(fd, b, n, f);
}

ssize_t __recvfrom_chk(int fd, void *b, size_t n, size_t bl, int f, __SOCKADDR_ARG a, socklen_t *l)
{
	if (n > bl)
		chk_fail();
	return recvfrom(fd, b, n, f, a, l);
}

int __poll_chk(struct pollfd *f, nfds_t n, int t, size_t fl)
{
	if (fl / sizeof(*f) < n)
		chk_fail();
	return poll(f, n, t);
}

int __ppoll_chk(struct pollfd *f, nfds_t n, const struct timespec *t, const sigset_t *m, size_t fl)
{
	if (fl / sizeof(*f) < n)
		chk_fail();
	return ppoll(f, n, t, m);
}
