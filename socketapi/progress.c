/* progress.c — the progress thread: a runtime's stacks keep running (ACKs,
 * retransmissions, timers, ARP) while the application computes (DESIGN.md,
 * "Threads and processes"; Onload's and VMA's background "internal thread").
 *
 * Loop: stop asked? → an application thread is asleep in a blocking call (it
 * wakes on the devices and timers itself)? sleep on our eventfd, which the last
 * such thread signals when it stops waiting (rt_waiter_del), at most
 * PT_MAX_SLEEP_NS → one drove an instance within the last PT_IDLE_NS? stay out
 * of its way: sleep PT_IDLE_NS →
 * otherwise drive every instance whose lock is free (rt_progress_all, try-lock:
 * an application thread never waits behind us for long) and sleep on the device
 * wakeup fds, the next stack timer and our eventfd, at most PT_MAX_SLEEP_NS (then
 * look at the application again). Stop: set the flag, signal our eventfd, join.
 * While it runs, application passes stamp app_progress_ns (rt_progress_locked).
 * The thread blocks every signal: they are the program's (sigwait, signalfd,
 * handlers), never the progress thread's.
 */
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#define PT_IDLE_NS 1000000ull       /* an application pass this recent: it is driving */
#define PT_MAX_SLEEP_NS 10000000ull /* re-check the application at least this often */

static _Thread_local bool tls_progress_thread;

bool rt_in_progress_thread(void) { return tls_progress_thread; }

static void *progress_main(void *arg)
{
	struct skiff_rt *rt = arg;
	tls_progress_thread = true;
	skiff_tls_in_call = 1; /* under the preload, every call this thread makes is libc's */
	atomic_store(&rt->pt_efd, rt_thread_efd());
	while (!atomic_load(&rt->pt_stop)) {
		uint64_t last = atomic_load_explicit(&rt->app_progress_ns, memory_order_relaxed);
		uint64_t t = rt_mono_ns();
		if (atomic_load(&rt->nwaiters) > 0) {
			/* an application thread sleeps on the devices and timers itself; the
			 * last one to stop waiting signals our eventfd (rt_waiter_del) */
			(void)rt_sleep(NULL, 0, NULL, 0, PT_MAX_SLEEP_NS, NULL);
			continue;
		}
		if (last && t - last < PT_IDLE_NS) {
			(void)rt_sleep(NULL, 0, NULL, 0, PT_IDLE_NS, NULL);
			continue;
		}
		rt_progress_all(rt, -1);
		(void)rt_sleep(&rt, 1, NULL, 0, PT_MAX_SLEEP_NS, NULL);
	}
	return NULL;
}

int skiff_rt_progress_thread(struct skiff_rt *rt, int on)
{
	int rc = 0;
	if (!rt)
		return -EINVAL;
	if (!on) {
		rt_progress_thread_stop(rt);
		return 0;
	}
	pthread_mutex_lock(&rt->mu);
	if (!rt->pt_running) {
		atomic_store(&rt->pt_stop, false);
		/* born with every signal blocked (a signal sent the moment after must
		 * not find it unmasked), the caller's mask restored after */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		rc = -pthread_create(&rt->pt, NULL, progress_main, rt);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rt->pt_running = rc == 0;
		atomic_store(&rt->pt_active, rt->pt_running);
	}
	pthread_mutex_unlock(&rt->mu);
	return rc;
}

void rt_progress_thread_stop(struct skiff_rt *rt)
{
	static const uint64_t one = 1;
	pthread_t pt;
	int efd;
	pthread_mutex_lock(&rt->mu);
	if (!rt->pt_running) {
		pthread_mutex_unlock(&rt->mu);
		return;
	}
	rt->pt_running = false;
	atomic_store(&rt->pt_active, false);
	pt = rt->pt;
	atomic_store(&rt->pt_stop, true);
	pthread_mutex_unlock(&rt->mu);
	/* wake it; a thread not yet asleep sees the flag within PT_MAX_SLEEP_NS */
	efd = atomic_load(&rt->pt_efd);
	if (efd >= 0 && write(efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled */
	}
	pthread_join(pt, NULL);
	atomic_store(&rt->pt_efd, -1);
}
