/* runtime.c — struct skiff_rt: instances, locks, clock, progress and blocking waits.
 *
 * Flow:
 *   skiff_rt_create → registry of live runtimes (the first one becomes the process
 *     default that skiff_socket() uses; when it is destroyed there is no default
 *     until a runtime is created while none is the default).
 *   skiff_rt_attach → instance i: stack + devs (devs[k] serves interface k), its
 *     own lock group, the devices' wakeup fds cached.
 *   progress of one instance (lock held): per device up to RX_BURSTS × rx_burst(32)
 *     → skiff_stack_input; skiff_stack_poll; skiff_stack_tx_drain → tx_burst, what
 *     the device refused goes back with skiff_stack_tx_requeue.
 *   rt_unlock: readiness changes (skiff_udp_ready_pop, skiff_tcp_ready_pop) collected under the lock,
 *     the next wake-up time refreshed, the lock released, then the waiters those
 *     sockets concern are signalled through their eventfds.
 *   rt_wait: loop { progress every instance (other lock groups only if free);
 *     pred? ; deadline? ; busy-poll budget left? spin : register as waiter,
 *     re-check, rt_sleep } — poll(2) on every device wakeup fd and the thread's
 *     eventfd, timeout = min(deadline, next stack timer (exact; at least 20 us),
 *     next device event); at most 1 ms when a
 *     device has no wakeup fd or the clock was replaced (a simulation's clock does
 *     not move with real time, so it is re-read often).
 * Clock: rt->now_fn (CLOCK_MONOTONIC by default) for stacks and deadlines; the
 * busy-poll budget is always measured in real monotonic time, so a frozen fake
 * clock cannot make a waiter spin forever.
 */
#include "runtime.h"
#include "sock_mcast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dataplane/packet.h"
#include "dataplane/raw.h"
#include "dataplane/tcp.h"
#include "dataplane/udp.h"
#include "fdtable.h"

#define READY_MAX 32u
#define SLEEP_FLOOR_NS 20000u /* never sleep less than this, so a due timer cannot make a waiter spin */

/* ---- registry, default runtime, per-thread current instance ---- */

static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct skiff_rt *g_reg;
static struct skiff_rt *g_default;
static uint64_t g_serial;

static _Thread_local struct {
	struct skiff_rt *rt;
	uint64_t serial;
	int instance;
} tls_cur;

/* The thread's eventfd for sleeping (rt_thread_efd), closed by a key destructor. */
static pthread_once_t efd_once = PTHREAD_ONCE_INIT;
static pthread_key_t efd_key;
static _Thread_local int tls_efd = -1;
static _Thread_local bool tls_efd_tried;

static bool registered_locked(const struct skiff_rt *rt, uint64_t serial)
{
	for (struct skiff_rt *r = g_reg; r; r = r->reg_next)
		if (r == rt && r->serial == serial)
			return true;
	return false;
}

struct skiff_rt *rt_current(int *instance)
{
	struct skiff_rt *rt = NULL;
	int inst = 0;

	pthread_mutex_lock(&g_reg_mu);
	if (tls_cur.rt && registered_locked(tls_cur.rt, tls_cur.serial)) {
		rt = tls_cur.rt;
		inst = tls_cur.instance;
	} else {
		rt = g_default;
	}
	pthread_mutex_unlock(&g_reg_mu);
	*instance = inst;
	return rt;
}

/* ---- clock ---- */

__thread int skiff_tls_in_call __attribute__((tls_model("initial-exec")));
__thread unsigned skiff_tls_sigs __attribute__((tls_model("initial-exec")));
__thread int skiff_tls_sig_restart __attribute__((tls_model("initial-exec")));

uint64_t rt_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t default_clock(void *ctx)
{
	(void)ctx;
	return rt_mono_ns();
}

uint64_t rt_deadline(const struct skiff_rt *rt, uint64_t timeo_ns)
{
	uint64_t now;
	if (timeo_ns == SKIFF_TIMEO_FOREVER)
		return UINT64_MAX;
	now = rt_now(rt);
	return now > UINT64_MAX - 1 - timeo_ns ? UINT64_MAX - 1 : now + timeo_ns;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* ---- public runtime calls ---- */

int skiff_rt_create(struct skiff_rt **out)
{
	struct skiff_rt *rt;
	if (!out)
		return -EINVAL;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return -ENOMEM;
	if (pthread_mutex_init(&rt->mu, NULL)) {
		free(rt);
		return -ENOMEM;
	}
	atomic_init(&rt->ninst, 0);
	atomic_init(&rt->busy_poll_ns, (uint64_t)SKIFF_RT_BUSY_POLL_US * 1000u);
	atomic_init(&rt->nwaiters, 0);
	atomic_init(&rt->poll_mode, false);
	atomic_init(&rt->kernel_opts, false);
	atomic_init(&rt->app_progress_ns, 0);
	atomic_init(&rt->pt_stop, false);
	atomic_init(&rt->pt_active, false);
	atomic_init(&rt->pt_efd, -1);
	rt->now_fn = default_clock;
	pthread_mutex_lock(&g_reg_mu);
	rt->serial = ++g_serial;
	rt->reg_next = g_reg;
	g_reg = rt;
	if (!g_default)
		g_default = rt;
	pthread_mutex_unlock(&g_reg_mu);
	*out = rt;
	return 0;
}

static bool sock_of_rt(const struct skiff_sock *s, void *ctx) { return s->rt == ctx; }

void skiff_rt_destroy(struct skiff_rt *rt)
{
	struct skiff_fd *list, *next;
	int n;

	if (!rt)
		return;
	rt_progress_thread_stop(rt);
	/* Close its sockets: unpublish, close the kernel fds, drop the table refs
	 * (the last reference closes the dataplane socket under the instance lock). */
	list = fdt_remove_if(sock_of_rt, rt);
	for (struct skiff_fd *e = list; e; e = next) {
		next = e->link;
		close(e->fd);
		fdt_put(e);
	}
	pthread_mutex_lock(&g_reg_mu);
	for (struct skiff_rt **pp = &g_reg; *pp; pp = &(*pp)->reg_next) {
		if (*pp == rt) {
			*pp = rt->reg_next;
			break;
		}
	}
	if (g_default == rt)
		g_default = NULL;
	pthread_mutex_unlock(&g_reg_mu);
	n = atomic_load(&rt->ninst);
	for (int i = 0; i < n; i++)
		pthread_mutex_destroy(&rt->inst[i].mu);
	pthread_mutex_destroy(&rt->mu);
	free(rt);
}

int skiff_rt_attach(struct skiff_rt *rt, struct skiff_stack *st, struct skiff_dev *const *devs, unsigned ndevs)
{
	struct rt_inst *in;
	int n;

	if (!rt || !st || (ndevs && !devs) || ndevs > SKIFF_MAX_IFACES)
		return -EINVAL;
	for (unsigned k = 0; k < ndevs; k++)
		if (!devs[k] || !devs[k]->ops)
			return -EINVAL;
	pthread_mutex_lock(&rt->mu);
	n = atomic_load_explicit(&rt->ninst, memory_order_relaxed);
	for (int i = 0; i < n; i++) {
		if (rt->inst[i].st == st) {
			pthread_mutex_unlock(&rt->mu);
			return -EEXIST;
		}
	}
	if (n >= SKIFF_RT_MAX_INSTANCES) {
		pthread_mutex_unlock(&rt->mu);
		return -ENOSPC;
	}
	in = &rt->inst[n];
	memset(in, 0, sizeof(*in));
	if (pthread_mutex_init(&in->mu, NULL)) {
		pthread_mutex_unlock(&rt->mu);
		return -ENOMEM;
	}
	in->group = n;
	in->st = st;
	in->ndevs = ndevs;
	for (unsigned k = 0; k < ndevs; k++) {
		in->devs[k] = devs[k];
		in->wake_fd[k] = skiff_dev_wakeup_fd(devs[k]);
		if (in->wake_fd[k] < 0)
			atomic_store(&rt->poll_mode, true);
	}
	/* Devices sharing state with an earlier instance's (a loop pair) join its lock group. */
	for (int i = 0; i < n && in->group == n; i++)
		for (unsigned k = 0; k < ndevs && in->group == n; k++)
			for (unsigned j = 0; j < rt->inst[i].ndevs; j++) {
				const void *d = skiff_dev_lock_domain(devs[k]);
				if (d && d == skiff_dev_lock_domain(rt->inst[i].devs[j])) {
					in->group = rt->inst[i].group;
					break;
				}
			}
	atomic_init(&in->wake_at, 0); /* unknown until the first pass: do not sleep past it */
	atomic_init(&in->tx_backlog, false);
	atomic_store_explicit(&rt->ninst, n + 1, memory_order_release);
	pthread_mutex_unlock(&rt->mu);
	return n;
}

bool rt_instance_ok(const struct skiff_rt *rt, int instance)
{
	return rt && instance >= 0 && instance < atomic_load_explicit(&rt->ninst, memory_order_acquire);
}

int skiff_rt_use(struct skiff_rt *rt, int instance)
{
	if (!rt_instance_ok(rt, instance))
		return -EINVAL;
	tls_cur.rt = rt;
	tls_cur.serial = rt->serial;
	tls_cur.instance = instance;
	return 0;
}

void skiff_rt_set_busy_poll(struct skiff_rt *rt, unsigned usec)
{
	if (rt)
		atomic_store(&rt->busy_poll_ns, (uint64_t)usec * 1000u);
}

void skiff_rt_set_clock(struct skiff_rt *rt, uint64_t (*now)(void *ctx), void *ctx)
{
	if (!rt)
		return;
	/* Not synchronised with running calls: replace the clock before using the runtime. */
	rt->now_ctx = now ? ctx : NULL;
	rt->now_fn = now ? now : default_clock;
}

struct skiff_stack *skiff_rt_stack(struct skiff_rt *rt, int instance)
{
	return rt_instance_ok(rt, instance) ? rt->inst[instance].st : NULL;
}

int rt_share_lock(struct skiff_rt *rt, int a, int b)
{
	int ga, gb, n;
	if (!rt_instance_ok(rt, a) || !rt_instance_ok(rt, b))
		return -EINVAL;
	pthread_mutex_lock(&rt->mu);
	n = atomic_load(&rt->ninst);
	ga = rt->inst[a].group;
	gb = rt->inst[b].group;
	for (int i = 0; i < n; i++)
		if (rt->inst[i].group == gb)
			rt->inst[i].group = ga;
	pthread_mutex_unlock(&rt->mu);
	return 0;
}

/* ---- locks and progress ---- */

void rt_lock(struct skiff_rt *rt, int instance) { pthread_mutex_lock(&rt->inst[rt->inst[instance].group].mu); }

static unsigned progress_one(struct skiff_rt *rt, int i, uint64_t now)
{
	struct rt_inst *in = &rt->inst[i];
	struct skiff_pkt *pkts[SKIFF_RT_BURST];
	unsigned work = 0;
	bool backlog = false;

	for (unsigned k = 0; k < in->ndevs; k++) {
		for (unsigned b = 0; b < SKIFF_RT_RX_BURSTS; b++) {
			unsigned n = skiff_dev_rx(in->devs[k], pkts, SKIFF_RT_BURST, now);
			if (!n)
				break;
			skiff_stack_input(in->st, (int)k, pkts, n, now);
			work += n;
			if (n < SKIFF_RT_BURST)
				break;
		}
	}
	sock_mcast_dev_sync(in->st, in->devs, in->ndevs); /* joined groups → driver filter (sock_mcast.c) */
	skiff_stack_poll(in->st, now);
	for (unsigned k = 0; k < in->ndevs; k++) {
		for (;;) { /* bounded: each round takes at least one frame off the queue */
			unsigned n = skiff_stack_tx_drain(in->st, (int)k, pkts, SKIFF_RT_BURST), sent;
			if (!n)
				break;
			sent = skiff_dev_tx(in->devs[k], pkts, n, now);
			work += sent;
			if (sent < n) {
				skiff_stack_tx_requeue(in->st, (int)k, pkts + sent, n - sent);
				backlog = true;
				break;
			}
		}
	}
	atomic_store_explicit(&in->tx_backlog, backlog, memory_order_relaxed);
	return work;
}

unsigned rt_progress_locked(struct skiff_rt *rt, int instance, uint64_t now)
{
	int g = rt->inst[instance].group, n = atomic_load_explicit(&rt->ninst, memory_order_acquire);
	unsigned work = 0;
	/* the progress thread steps aside after an application pass: only worth
	 * a clock read while it runs */
	if (atomic_load_explicit(&rt->pt_active, memory_order_relaxed) && !rt_in_progress_thread())
		atomic_store_explicit(&rt->app_progress_ns, rt_mono_ns(), memory_order_relaxed);
	for (int i = 0; i < n; i++)
		if (rt->inst[i].group == g)
			work += progress_one(rt, i, now);
	return work;
}

static void wake_waiters(struct skiff_rt *rt, void *const *ready, unsigned nready, bool all)
{
	static const uint64_t one = 1;
	int self = tls_efd; /* never signal ourselves; do not create one just to compare */

	pthread_mutex_lock(&rt->mu);
	for (struct rt_waiter *w = rt->waiters; w; w = w->next) {
		bool hit = all || !w->filter;
		if (w->efd == self)
			continue;
		for (unsigned k = 0; !hit && k < nready; k++)
			hit = ready[k] == w->filter;
		if (hit && write(w->efd, &one, sizeof(one)) < 0) {
			/* EAGAIN: the counter is already huge, the waiter is awake anyway */
		}
	}
	pthread_mutex_unlock(&rt->mu);
}

void rt_unlock(struct skiff_rt *rt, int instance)
{
	int g = rt->inst[instance].group, n = atomic_load_explicit(&rt->ninst, memory_order_acquire);
	void *ready[READY_MAX];
	unsigned nready = 0;
	bool overflow = false, waiters = atomic_load(&rt->nwaiters) > 0;

	for (int i = 0; i < n; i++) {
		struct rt_inst *in = &rt->inst[i];
		uint64_t at;
		if (in->group != g)
			continue;
		if (waiters) {
			struct skiff_udp_sock *sk;
			struct skiff_tcp_sock *tk;
			while ((sk = skiff_udp_ready_pop(in->st))) {
				if (nready < READY_MAX)
					ready[nready++] = sk;
				else
					overflow = true;
			}
			while ((tk = skiff_tcp_ready_pop(in->st))) {
				if (nready < READY_MAX)
					ready[nready++] = tk;
				else
					overflow = true;
			}
			for (struct skiff_packet_sock *pk; (pk = skiff_packet_ready_pop(in->st));) { /* packet.c */
				if (nready < READY_MAX)
					ready[nready++] = pk;
				else
					overflow = true;
			}
			for (struct skiff_raw_sock *rk; (rk = skiff_raw_ready_pop(in->st));) { /* raw.c */
				if (nready < READY_MAX)
					ready[nready++] = rk;
				else
					overflow = true;
			}
		}
		at = skiff_stack_next_deadline(in->st);
		for (unsigned k = 0; k < in->ndevs; k++) {
			uint64_t d = skiff_dev_next_event(in->devs[k]);
			if (d < at)
				at = d;
		}
		atomic_store_explicit(&in->wake_at, at, memory_order_relaxed);
	}
	pthread_mutex_unlock(&rt->inst[g].mu);
	if (nready || overflow)
		wake_waiters(rt, ready, nready, overflow);
}

/* Drive every lock group once. The group `mg` is locked blocking (lock_mine) or
 * skipped; the others only when their lock is free (the holder drives them). */
static unsigned progress_groups(struct skiff_rt *rt, int mg, bool lock_mine)
{
	int n = atomic_load_explicit(&rt->ninst, memory_order_acquire);
	uint64_t now = rt_now(rt);
	unsigned work = 0;

	for (int g = 0; g < n; g++) {
		if (rt->inst[g].group != g)
			continue; /* not a group leader */
		if (g == mg) {
			if (!lock_mine)
				continue;
			pthread_mutex_lock(&rt->inst[g].mu);
		} else if (pthread_mutex_trylock(&rt->inst[g].mu) != 0) {
			continue;
		}
		work += rt_progress_locked(rt, g, now);
		rt_unlock(rt, g);
	}
	return work;
}

unsigned rt_progress_all(struct skiff_rt *rt, int mine)
{
	return progress_groups(rt, mine >= 0 ? rt->inst[mine].group : -1, true);
}

int skiff_rt_progress(struct skiff_rt *rt)
{
	int n;
	uint64_t now;
	unsigned work = 0;

	if (!rt)
		return -EINVAL;
	n = atomic_load_explicit(&rt->ninst, memory_order_acquire);
	now = rt_now(rt);
	for (int g = 0; g < n; g++) {
		if (rt->inst[g].group != g)
			continue;
		pthread_mutex_lock(&rt->inst[g].mu);
		work += rt_progress_locked(rt, g, now);
		rt_unlock(rt, g);
	}
	return work > (unsigned)INT32_MAX ? INT32_MAX : (int)work;
}

/* ---- sleeping ---- */


static void efd_destroy(void *v)
{
	int fd = (int)(intptr_t)v - 1;
	if (fd >= 0)
		close(fd);
}

static void efd_key_init(void)
{
	if (pthread_key_create(&efd_key, efd_destroy) != 0)
		efd_key = (pthread_key_t)-1;
}

int rt_thread_efd(void)
{
	if (tls_efd >= 0 || tls_efd_tried)
		return tls_efd;
	tls_efd_tried = true;
	pthread_once(&efd_once, efd_key_init);
	tls_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tls_efd >= 0 && efd_key != (pthread_key_t)-1)
		pthread_setspecific(efd_key, (void *)(intptr_t)(tls_efd + 1));
	return tls_efd;
}

void rt_waiter_add(struct skiff_rt *rt, struct rt_waiter *w, const void *filter)
{
	w->efd = rt_thread_efd();
	w->filter = filter;
	w->prev = NULL;
	pthread_mutex_lock(&rt->mu);
	w->next = rt->waiters;
	if (rt->waiters)
		rt->waiters->prev = w;
	rt->waiters = w;
	atomic_fetch_add(&rt->nwaiters, 1);
	pthread_mutex_unlock(&rt->mu);
}

void rt_waiter_del(struct skiff_rt *rt, struct rt_waiter *w)
{
	pthread_mutex_lock(&rt->mu);
	if (w->prev)
		w->prev->next = w->next;
	else
		rt->waiters = w->next;
	if (w->next)
		w->next->prev = w->prev;
	if (atomic_fetch_sub(&rt->nwaiters, 1) == 1 && atomic_load(&rt->pt_active)) {
		/* the progress thread stood aside while we waited: its turn again */
		static const uint64_t one = 1;
		int e = atomic_load(&rt->pt_efd);
		if (e >= 0 && write(e, &one, sizeof(one)) < 0) {
			/* EAGAIN: it is awake anyway */
		}
	}
	pthread_mutex_unlock(&rt->mu);
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

int rt_sleep(struct skiff_rt *const *rts, unsigned nrt, struct pollfd *extra, unsigned nextra, uint64_t timeout_ns,
	     const sigset_t *sigmask)
{
	struct pollfd small[64], *pfd = small;
	unsigned total = nextra + 1, np = 0;
	uint64_t limit = timeout_ns;
	int efd = rt_thread_efd(), efd_at = -1, r, rc = 0;
	struct timespec ts, *tsp = NULL;

	for (unsigned j = 0; j < nrt; j++) {
		int n = atomic_load_explicit(&rts[j]->ninst, memory_order_acquire);
		for (int i = 0; i < n; i++)
			total += rts[j]->inst[i].ndevs;
	}
	if (total > sizeof(small) / sizeof(small[0])) {
		pfd = calloc(total, sizeof(*pfd));
		if (!pfd)
			return -ENOMEM;
	}
	for (unsigned k = 0; k < nextra; k++) {
		pfd[np] = extra[k];
		pfd[np++].revents = 0;
	}
	for (unsigned j = 0; j < nrt; j++) {
		struct skiff_rt *rt = rts[j];
		int n = atomic_load_explicit(&rt->ninst, memory_order_acquire);
		uint64_t now = rt_now(rt);
		for (int i = 0; i < n; i++) {
			struct rt_inst *in = &rt->inst[i];
			uint64_t at = atomic_load_explicit(&in->wake_at, memory_order_relaxed);
			if (at != UINT64_MAX)
				limit = min_u64(limit, at > now + SLEEP_FLOOR_NS ? at - now : SLEEP_FLOOR_NS);
			if (atomic_load_explicit(&in->tx_backlog, memory_order_relaxed))
				limit = min_u64(limit, SKIFF_RT_BACKLOG_NS);
			for (unsigned k = 0; k < in->ndevs; k++) {
				if (in->wake_fd[k] < 0)
					continue;
				pfd[np].fd = in->wake_fd[k];
				pfd[np].events = POLLIN;
				pfd[np++].revents = 0;
			}
		}
		/* A device without a wakeup fd, or a replaced clock (which moves on its own,
		 * not with real time): re-read the clock and poll the devices often. */
		if (atomic_load_explicit(&rt->poll_mode, memory_order_relaxed) || rt->now_fn != default_clock)
			limit = min_u64(limit, SKIFF_RT_POLL_MODE_NS);
	}
	if (efd >= 0) {
		efd_at = (int)np;
		pfd[np].fd = efd;
		pfd[np].events = POLLIN;
		pfd[np++].revents = 0;
	} else {
		limit = min_u64(limit, SKIFF_RT_POLL_MODE_NS); /* nobody can wake us: nap */
	}
	if (limit != UINT64_MAX) {
		ts.tv_sec = (time_t)(limit / 1000000000ull);
		ts.tv_nsec = (long)(limit % 1000000000ull);
		tsp = &ts;
	}
	r = ppoll(pfd, np, tsp, sigmask);
	if (r < 0) {
		rc = -errno;
	} else {
		for (unsigned k = 0; k < nextra; k++)
			extra[k].revents = pfd[k].revents;
		if (efd_at >= 0 && (pfd[efd_at].revents & POLLIN)) {
			uint64_t v;
			if (read(efd, &v, sizeof(v)) < 0) {
				/* EAGAIN: another read raced us; nothing to drain */
			}
		}
	}
	if (pfd != small)
		free(pfd);
	return rc;
}

int rt_wait(struct skiff_rt *rt, int instance, const void *filter, bool (*pred)(void *ctx, unsigned work), void *ctx,
	    uint64_t deadline)
{
	uint64_t spin_end = rt_mono_ns() + atomic_load(&rt->busy_poll_ns);
	unsigned sigs = skiff_tls_sigs;
	struct rt_waiter w;
	bool reg = false;
	int rc;

	for (;;) {
		unsigned work;
		bool ok;
		uint64_t now;

		/* Other lock groups first (only if free), then ours (waiting for it). */
		work = progress_groups(rt, rt->inst[instance].group, false);
		rt_lock(rt, instance);
		work += rt_progress_locked(rt, instance, rt_now(rt));
		ok = pred(ctx, work);
		rt_unlock(rt, instance);
		if (ok) {
			rc = 0;
			break;
		}
		now = rt_now(rt);
		if (now >= deadline) {
			rc = -EAGAIN;
			break;
		}
		if (skiff_tls_sigs != sigs) { /* a handler ran (busy-polling, or it ended the sleep) */
			if (!skiff_tls_sig_restart || deadline != UINT64_MAX) {
				rc = -EINTR; /* Linux: EINTR, and always with a timeout (sock_intr_errno) */
				break;
			}
			sigs = skiff_tls_sigs; /* SA_RESTART: the call goes on */
		}
		if (!reg && rt_mono_ns() < spin_end) {
			cpu_relax();
			continue;
		}
		if (!reg) {
			rt_waiter_add(rt, &w, filter);
			reg = true;
			continue; /* re-check once registered: no wake-up can be lost after this */
		}
		rc = rt_sleep(&rt, 1, NULL, 0, deadline == UINT64_MAX ? UINT64_MAX : deadline - now, NULL);
		if (rc == -EINTR && skiff_tls_sigs != sigs)
			continue; /* the handler's SA_RESTART decides, above */
		if (rc < 0)
			break;
	}
	if (reg)
		rt_waiter_del(rt, &w);
	return rc;
}
