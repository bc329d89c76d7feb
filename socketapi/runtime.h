/* runtime.h — internal view of struct skiff_rt: stack instances, their devices,
 * the locks that serialise entry into them, the clock, and blocking waits.
 *
 * Locking: a stack instance is single-threaded, so every dataplane call on it runs
 * under its instance lock (rt_lock/rt_unlock). Instances may share one lock (a lock
 * group, rt_share_lock) when their devices are not independent — a `loop` pair
 * frees received frames into the peer's pool, so both ends must be driven under one
 * lock when several threads use them. rt->mu guards attach and the waiter list; it
 * is never taken while an instance lock is held across a sleep, and nothing ever
 * sleeps holding an instance lock.
 *
 * Waking sleepers: a thread about to sleep registers a waiter (its per-thread
 * eventfd) on the runtime, then re-checks its condition, then polls the devices'
 * wakeup fds plus its eventfd. Whoever releases an instance lock after a change of
 * socket readiness (skiff_udp_ready_pop, skiff_tcp_ready_pop) signals the waiters interested in those
 * sockets, so a datagram received by another thread's progress is never missed.
 */
#ifndef SKIFF_SOCKETAPI_RUNTIME_H
#define SKIFF_SOCKETAPI_RUNTIME_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dataplane/stack.h"
#include "drivers/driver.h"
#include "skiff/skiff.h"

#define SKIFF_RT_MAX_INSTANCES 64
#define SKIFF_RT_BURST 32u             /* frames per rx/tx burst */
#define SKIFF_RT_RX_BURSTS 8u          /* rx bursts per device per progress pass */
#define SKIFF_RT_BUSY_POLL_US 50u      /* default busy-poll budget */
#define SKIFF_RT_POLL_MODE_NS 1000000u /* sleep cap: a device has no wakeup fd, or the clock is replaced */
#define SKIFF_RT_BACKLOG_NS 100000u    /* sleep cap while a device refused frames */

struct rt_inst {
	pthread_mutex_t mu;                /* used when this instance leads its lock group */
	int group;                         /* instance whose mu serialises this one */
	struct skiff_stack *st;
	struct skiff_dev *devs[SKIFF_MAX_IFACES]; /* devs[i] serves interface i */
	int wake_fd[SKIFF_MAX_IFACES];     /* cached skiff_dev_wakeup_fd, -1 if none */
	unsigned ndevs;
	_Atomic uint64_t wake_at;          /* rt clock: next stack timer / device event */
	atomic_bool tx_backlog;            /* a device refused frames on the last pass */
};

struct rt_waiter {
	struct rt_waiter *next, *prev;
	int efd;                           /* the sleeping thread's eventfd */
	const void *filter;                /* dataplane socket waited for; NULL = any */
};

struct skiff_rt {
	uint64_t serial;                   /* unique per runtime, for stale thread-locals */
	pthread_mutex_t mu;                /* attach, waiter list */
	atomic_int ninst;                  /* published after an instance is initialised */
	struct rt_inst inst[SKIFF_RT_MAX_INSTANCES];
	uint64_t (*now_fn)(void *ctx);
	void *now_ctx;
	_Atomic uint64_t busy_poll_ns;
	struct rt_waiter *waiters;         /* under mu */
	atomic_int nwaiters;
	atomic_bool poll_mode;             /* some device has no wakeup fd */
	atomic_bool kernel_opts;           /* socket options skiff lacks go to the reserved kernel socket (preload) */
	/* progress thread (progress.c): drives the instances while no application
	 * thread is inside a skiff call or waiting in one */
	_Atomic uint64_t app_progress_ns;  /* rt_mono_ns of the last pass an application thread made */
	pthread_t pt;
	bool pt_running;                   /* under mu */
	atomic_bool pt_active;             /* pt_running, for lock-free readers (rt_progress_locked) */
	atomic_bool pt_stop;
	atomic_int pt_efd;                 /* the progress thread's eventfd, -1 until it has one */
	struct skiff_rt *reg_next;         /* registry of live runtimes */
};

/* Non-zero while this thread runs skiff code (a preload wrapper's call, the
 * progress thread): the preload library sends every call such a thread makes
 * straight to libc, so skiff's own socket()/close()/poll() are the kernel's. */
extern __thread int skiff_tls_in_call __attribute__((tls_model("initial-exec")));
/* Signal handlers run on this thread (counted by the preload's trampoline around
 * the program's handlers) and whether the last had SA_RESTART: a blocking call
 * that saw the count move while it busy-polled returns EINTR as Linux's would
 * (or, with SA_RESTART and no timeout, goes on waiting); poll/select/epoll
 * always return EINTR. Without the preload only a signal during the sleep
 * itself interrupts (ppoll's EINTR). */
extern __thread unsigned skiff_tls_sigs __attribute__((tls_model("initial-exec")));
extern __thread int skiff_tls_sig_restart __attribute__((tls_model("initial-exec")));

/* Real monotonic time (busy-poll budgets are measured in it, never in a fake clock). */
uint64_t rt_mono_ns(void);
static inline uint64_t rt_now(const struct skiff_rt *rt) { return rt->now_fn(rt->now_ctx); }
/* Absolute deadline (rt clock) for a timeout in ns: FOREVER → UINT64_MAX. */
uint64_t rt_deadline(const struct skiff_rt *rt, uint64_t timeo_ns);

bool rt_instance_ok(const struct skiff_rt *rt, int instance);
static inline struct skiff_stack *rt_stack(struct skiff_rt *rt, int instance) { return rt->inst[instance].st; }

/* The runtime and instance skiff_socket() uses on this thread: the one chosen with
 * skiff_rt_use(), else the process default (the first runtime created, until it is
 * destroyed) with instance 0. NULL when there is none. */
struct skiff_rt *rt_current(int *instance);

/* Make instance b use instance a's lock (before sockets exist on either). */
int rt_share_lock(struct skiff_rt *rt, int a, int b);

void rt_lock(struct skiff_rt *rt, int instance);
/* Releases the lock; first collects readiness changes and, after unlocking, wakes
 * the waiters they concern. */
void rt_unlock(struct skiff_rt *rt, int instance);
/* Drive every instance of instance's lock group once (lock held). Returns frames moved. */
unsigned rt_progress_locked(struct skiff_rt *rt, int instance, uint64_t now);
/* Drive every instance once: the group of `mine` (-1: none) with a blocking lock,
 * the others only if their lock is free (the holder is driving them). */
unsigned rt_progress_all(struct skiff_rt *rt, int mine);
/* progress.c: stop and join the progress thread if it runs (skiff_rt_destroy). */
void rt_progress_thread_stop(struct skiff_rt *rt);
/* This thread is the progress thread (its passes do not count as the application's). */
bool rt_in_progress_thread(void);

/* Block until pred (called with instance's lock held, with the frames moved by this
 * pass) is true — filter is the dataplane socket whose readiness ends the wait
 * (NULL: any), so only relevant readiness changes wake this thread — or the deadline (rt clock) passes. Each round drives every
 * instance; after the busy-poll budget it sleeps in poll(2) on the device wakeup
 * fds. A deadline already passed makes exactly one round. Returns 0, -EAGAIN at
 * the deadline, -EINTR when a signal interrupted the sleep. */
int rt_wait(struct skiff_rt *rt, int instance, const void *filter, bool (*pred)(void *ctx, unsigned work), void *ctx,
	    uint64_t deadline);

/* The waiting thread's eventfd (created on first use, closed at thread exit), or -1. */
int rt_thread_efd(void);
void rt_waiter_add(struct skiff_rt *rt, struct rt_waiter *w, const void *filter);
void rt_waiter_del(struct skiff_rt *rt, struct rt_waiter *w);
/* Sleep once: poll the wakeup fds of every instance of rts[0..nrt), the thread's
 * eventfd and extra[0..nextra) for at most timeout_ns (UINT64_MAX: no limit) and
 * at most until the earliest stack timer or device event. extra[].revents are set.
 * sigmask (NULL: unchanged) is the signal mask while asleep, as ppoll's.
 * Returns 0 or -errno (-EINTR). */
int rt_sleep(struct skiff_rt *const *rts, unsigned nrt, struct pollfd *extra, unsigned nextra, uint64_t timeout_ns,
	     const sigset_t *sigmask);

#endif

/* ---- socket layer internals shared by api.c, sock_udp.c, sock_opts.c ---- */

struct skiff_sock;

/* -errno → -1 + errno, for the skiff_* entry points. */
static inline int skiff_ret(int rc)
{
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

/* api.c: make s (DEFERRED, its dp taken back by the caller) a stack socket of
 * its s->type on (rt, instance) in place: tcp_sock_attach / udp_sock_attach. */
int sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance);
/* Make s (a DEFERRED socket whose dp the caller has taken back) a UDP socket on
 * (rt, instance) in place: kind is published last. 0 or -errno (s unchanged). */
int udp_sock_attach(struct skiff_sock *s, struct skiff_rt *rt, int instance);
/* poll(2) bits (POLLIN|POLLRDNORM, POLLOUT|POLLWRNORM|POLLWRBAND, POLLERR) now. */
short udp_sock_revents(struct skiff_sock *s);
short udp_sock_revents_locked(struct skiff_sock *s); /* instance lock held */
/* FIONREAD: bytes of the next datagram after one progress pass (0 when none). */
int udp_sock_next_len(struct skiff_sock *s);

/* api.c: poll over any mix of skiff and kernel fds; timeout_ns UINT64_MAX waits
 * forever; sigmask as ppoll's. Count or -errno. (select, ppoll and poll use it.) */
int sock_poll(struct pollfd *fds, nfds_t nfds, uint64_t timeout_ns, const sigset_t *sigmask);
