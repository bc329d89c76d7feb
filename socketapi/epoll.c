/* epoll.c — epoll over any mix of skiff and kernel fds.
 *
 * An epoll fd is a real kernel epoll instance (kernel fds are registered in it
 * and reported by it, at kernel cost) plus, in skiff's fd table, an EPOLL entry
 * holding the interest list of skiff fds: stack sockets and deferred ones.
 *
 * Flow:
 *   skiff_epoll_create1: epoll_create1 → EPOLL entry at its fd.
 *   skiff_epoll_ctl: a kernel fd → the kernel's epoll_ctl; a skiff fd → the
 *     interest list (EEXIST/ENOENT/EINVAL as ep_insert/ep_modify/ep_remove).
 *     An item remembers its socket's id, so a closed fd (Linux drops it from
 *     every epoll at close) or a reused number is recognised and dropped.
 *   skiff_epoll_wait: no skiff items → the kernel's epoll_wait. Otherwise rounds
 *     of: drive the stacks, evaluate the items (one instance lock per run of
 *     items on the same instance), the kernel's epoll_wait(…, 0) for the rest of
 *     the array (the two take turns at going first, so neither starves); until
 *     something is ready, the timeout, or the busy-poll budget — then one sleep
 *     on the epoll fd itself, the devices' wakeup fds and the thread's eventfd.
 *   Level-triggered items report while ready; edge-triggered ones after every
 *     readiness event of their socket since the last report (the dataplane
 *     counts them: each arrival, each ACK that frees send space — Linux wakes
 *     an item at each), or when a bit appears; EPOLLONESHOT disables an
 *     item after one report until EPOLL_CTL_MOD. A deferred socket's readiness
 *     is the kernel socket's (poll); one that went to the kernel moves into the
 *     kernel epoll instance at the next evaluation.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "dataplane/udp.h"
#include "fdtable.h"
#include "runtime.h"
#include "sock_packet.h"
#include "sock_raw.h"
#include "sock_tcp.h"

struct ep_item {
	int fd;
	uint64_t id;          /* the socket's id when added */
	uint32_t events;      /* as given (EPOLLET, EPOLLONESHOT ...) */
	epoll_data_t data;
	uint32_t last;        /* ET: the bits seen at the last evaluation */
	uint32_t seq;         /* ET: the socket's readiness-event count when last reported */
	bool disarmed;        /* ONESHOT fired */
};

struct sk_epoll {
	pthread_mutex_t mu;
	struct ep_item *items;
	unsigned *scratch;    /* 2 x cap: an evaluation's deferred and dead item indices (under mu) */
	unsigned n, cap;
	unsigned rr;          /* round-robin start */
	bool kernel_first;    /* whose turn to fill the array first */
};

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EP_EXCLUSIVE_OK (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

static void ep_release(struct skiff_sock *s)
{
	struct sk_epoll *ep = s->dp;
	if (ep) {
		pthread_mutex_destroy(&ep->mu);
		free(ep->items);
		free(ep->scratch);
		free(ep);
	}
	free(s);
}

static int ep_install(int kfd, int flags)
{
	struct skiff_sock *s;
	struct sk_epoll *ep;
	int rc;

	if (kfd < 0)
		return kfd;
	s = fdt_sock_new(SKIFF_FD_EPOLL, 0, 0, 0, ep_release);
	ep = calloc(1, sizeof(*ep));
	if (!s || !ep) {
		free(s);
		free(ep);
		close(kfd);
		return skiff_ret(-ENOMEM);
	}
	pthread_mutex_init(&ep->mu, NULL);
	s->dp = ep;
	rc = fdt_install(kfd, s, flags & EPOLL_CLOEXEC ? FD_CLOEXEC : 0);
	fdt_sock_put(s);
	(void)rc; /* beyond the table: a plain kernel epoll (it cannot hold skiff fds) */
	return kfd;
}

int skiff_epoll_create1(int flags) { return ep_install(epoll_create1(flags), flags); }

int skiff_epoll_create(int size) { return ep_install(epoll_create(size), 0); }

/* The EPOLL entry at epfd with a reference, or NULL. */
static struct skiff_fd *ep_get(int epfd)
{
	struct skiff_fd *e = fdt_contains(epfd) ? fdt_get_any(epfd) : NULL;
	if (e && atomic_load(&e->sock->kind) != SKIFF_FD_EPOLL) {
		fdt_put(e);
		e = NULL;
	}
	return e;
}

static int find_item(struct sk_epoll *ep, int fd)
{
	for (unsigned i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd)
			return (int)i;
	return -1;
}

static void drop_item(struct sk_epoll *ep, unsigned i)
{
	ep->items[i] = ep->items[--ep->n];
}

int skiff_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct skiff_fd *ee = ep_get(epfd), *fe;
	struct sk_epoll *ep;
	uint8_t kind;
	int rc = 0, i;

	if (!ee)
		return epoll_ctl(epfd, op, fd, ev);
	fe = fdt_contains(fd) ? fdt_get_any(fd) : NULL;
	kind = fe ? atomic_load(&fe->sock->kind) : 0;
	if (!fe || kind == SKIFF_FD_EPOLL) {
		fdt_put(fe);
		fdt_put(ee);
		return epoll_ctl(epfd, op, fd, ev); /* a kernel fd (or a nested epoll): the kernel's */
	}
	ep = ee->sock->dp;
	if (fd == epfd)
		rc = -EINVAL;
	else if ((op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD) && !ev)
		rc = -EFAULT;
	else if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		rc = -EINVAL;
	else if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE) &&
		 (op == EPOLL_CTL_MOD || (ev->events & ~(uint32_t)EP_EXCLUSIVE_OK)))
		rc = -EINVAL; /* EPOLLEXCLUSIVE: only at ADD, only with these bits */
	if (rc) {
		fdt_put(fe);
		fdt_put(ee);
		return skiff_ret(rc);
	}
	pthread_mutex_lock(&ep->mu);
	i = find_item(ep, fd);
	if (i >= 0 && ep->items[i].id != fe->sock->id) { /* the fd was closed and reused */
		drop_item(ep, (unsigned)i);
		i = -1;
	}
	switch (op) {
	case EPOLL_CTL_ADD:
		if (i >= 0) {
			rc = -EEXIST;
		} else if (ep->n == ep->cap) {
			unsigned cap = ep->cap ? ep->cap * 2 : 16;
			struct ep_item *it = realloc(ep->items, cap * sizeof(*it));
			unsigned *sc = it ? realloc(ep->scratch, 2 * cap * sizeof(*sc)) : NULL;
			if (it)
				ep->items = it;
			if (!sc) {
				rc = -ENOMEM;
				break;
			}
			ep->scratch = sc;
			ep->cap = cap;
		}
		if (rc == 0)
			ep->items[ep->n++] = (struct ep_item){ .fd = fd, .id = fe->sock->id, .events = ev->events,
							       .data = ev->data };
		break;
	case EPOLL_CTL_MOD:
		if (i < 0) {
			rc = -ENOENT;
		} else if (ep->items[i].events & EPOLLEXCLUSIVE) {
			rc = -EINVAL;
		} else {
			ep->items[i].events = ev->events;
			ep->items[i].data = ev->data;
			ep->items[i].last = 0; /* ep_modify re-evaluates: ready now is reported now */
			ep->items[i].seq--;
			ep->items[i].disarmed = false;
		}
		break;
	default:
		if (i < 0)
			rc = -ENOENT;
		else
			drop_item(ep, (unsigned)i);
		break;
	}
	pthread_mutex_unlock(&ep->mu);
	fdt_put(fe);
	fdt_put(ee);
	return skiff_ret(rc);
}

/* ---- wait ---- */

struct ep_round {
	struct skiff_rt *rts[8];  /* distinct runtimes of the stack items (a process has one or few) */
	unsigned nrt;
	struct pollfd *kpfd;      /* [0] the epoll fd, then deferred items' kernel fds */
	unsigned nkpfd, kcap;
	struct pollfd small[16];  /* kpfd until more are needed */
};

static void round_add_rt(struct ep_round *r, struct skiff_rt *rt)
{
	for (unsigned j = 0; j < r->nrt; j++)
		if (r->rts[j] == rt)
			return;
	if (r->nrt < sizeof(r->rts) / sizeof(r->rts[0]))
		r->rts[r->nrt++] = rt;
}

static void round_add_kfd(struct ep_round *r, int fd, short events)
{
	if (r->nkpfd == r->kcap) {
		unsigned cap = r->kcap * 2;
		struct pollfd *p = r->kpfd == r->small ? malloc(cap * sizeof(*p)) : realloc(r->kpfd, cap * sizeof(*p));
		if (!p)
			return; /* it is still polled on the next evaluation */
		if (r->kpfd == r->small)
			memcpy(p, r->small, sizeof(r->small));
		r->kpfd = p;
		r->kcap = cap;
	}
	r->kpfd[r->nkpfd].fd = fd;
	r->kpfd[r->nkpfd].events = events;
	r->kpfd[r->nkpfd++].revents = 0;
}

/* Report item it with readiness rev and the socket's readiness-event count seq
 * into out[*n] (ep->mu held). */
static void report(struct ep_item *it, uint32_t rev, uint32_t seq, struct epoll_event *out, int max, int *n)
{
	uint32_t want = (it->events & ~(uint32_t)EP_PRIVATE_BITS) | EPOLLERR | EPOLLHUP, fire;
	rev &= want;
	/* ET: every readiness event since the last report is an edge (Linux wakes the
	 * item at each arrival, ep_poll_callback), and so is a bit that appeared */
	fire = (it->events & EPOLLET) ? (seq != it->seq ? rev : rev & ~it->last) : rev;
	if (!fire) {
		it->last = rev; /* bits that went away are forgotten: their return is an edge */
		return;
	}
	if (*n >= max)
		return; /* not reported: ET keeps `last` so it fires next time */
	it->last = rev;
	it->seq = seq;
	out[*n].events = rev;
	out[*n].data = it->data;
	(*n)++;
	if (it->events & EPOLLONESHOT)
		it->disarmed = true;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* One evaluation of the skiff items: events into out[0..max), count returned. */
static int ep_eval(int epfd, struct sk_epoll *ep, struct epoll_event *out, int max, struct ep_round *r)
{
	struct skiff_rt *lrt = NULL;
	int linst = -1, n = 0;
	unsigned *defer_idx, ndefer = 0, *dead, ndead = 0;

	r->nrt = 0;
	r->nkpfd = 1; /* keep the epoll fd */
	pthread_mutex_lock(&ep->mu);
	defer_idx = ep->scratch;
	dead = ep->scratch + ep->cap;
	if (ep->n)
		ep->rr = (ep->rr + 1) % ep->n;
	for (unsigned k = 0; k < ep->n; k++) {
		unsigned i = (ep->rr + k) % ep->n;
		struct ep_item *it = &ep->items[i];
		struct skiff_fd *fe = fdt_get_any(it->fd);
		uint8_t kind = fe ? atomic_load(&fe->sock->kind) : 0;
		struct skiff_sock *s;
		uint32_t ev, seq, want = it->events & (EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLRDNORM |
						  EPOLLWRNORM | EPOLLRDBAND | EPOLLWRBAND);

		if (!fe || fe->sock->id != it->id || kind == SKIFF_FD_EPOLL) {
			/* closed (Linux drops it), or handed to the kernel: then the kernel
			 * instance takes it over */
			if (!fe && fcntl(it->fd, F_GETFD) >= 0) {
				struct epoll_event kev = { .events = it->disarmed ? 0 : it->events, .data = it->data };
				(void)epoll_ctl(epfd, EPOLL_CTL_ADD, it->fd, &kev);
			}
			fdt_put(fe);
			dead[ndead++] = i;
			continue;
		}
		if (it->disarmed) {
			fdt_put(fe);
			continue;
		}
		s = fe->sock;
		if (kind == SKIFF_FD_DEFERRED || (kind == SKIFF_FD_PACKET && !sock_packet_attached(s))) {
			defer_idx[ndefer++] = i;
			round_add_kfd(r, it->fd, (short)want);
			fdt_put(fe);
			continue;
		}
		if (lrt != s->rt || linst != s->instance) {
			if (lrt)
				rt_unlock(lrt, linst);
			lrt = s->rt;
			linst = s->instance;
			rt_lock(lrt, linst);
			round_add_rt(r, lrt);
		}
		if (kind == SKIFF_FD_TCP) {
			ev = (uint16_t)tcp_sock_revents_locked(s);
			seq = tcp_sock_wake_seq_locked(s);
		} else if (kind == SKIFF_FD_PACKET) { /* sock_packet.c */
			ev = (uint16_t)sock_packet_revents_locked(s);
			seq = sock_packet_wake_seq_locked(s);
		} else if (kind == SKIFF_FD_RAW) { /* sock_raw.c */
			ev = (uint16_t)raw_sock_revents_locked(s);
			seq = raw_sock_wake_seq_locked(s);
		} else {
			ev = (uint16_t)udp_sock_revents_locked(s);
			seq = ((const struct skiff_udp_sock *)s->dp)->wake_seq;
		}
		fdt_put(fe);
		report(it, ev, seq, out, max, &n);
	}
	if (lrt)
		rt_unlock(lrt, linst);
	if (ndefer && r->nkpfd == 1 + ndefer) { /* deferred sockets: what their kernel sockets say */
		if (poll(r->kpfd + 1, ndefer, 0) > 0)
			for (unsigned d = 0; d < ndefer; d++)
				report(&ep->items[defer_idx[d]], (uint16_t)r->kpfd[1 + d].revents,
				       ep->items[defer_idx[d]].seq + 1, out, max, &n); /* the kernel's level, as an edge */
	}
	if (ndead) { /* highest index first: each drop moves the last item down */
		qsort(dead, ndead, sizeof(*dead), cmp_desc);
		for (unsigned a = 0; a < ndead; a++)
			drop_item(ep, dead[a]);
	}
	pthread_mutex_unlock(&ep->mu);
	return n;
}

static int ep_wait(int epfd, struct sk_epoll *ep, struct epoll_event *out, int max, int timeout_ms,
		   const sigset_t *sigmask)
{
	struct ep_round r = { .kcap = 16 };
	struct rt_waiter w[8];
	struct skiff_rt *rt0 = NULL;
	uint64_t deadline = UINT64_MAX, spin_end = 0;
	unsigned nreg = 0, sigs = skiff_tls_sigs;
	bool reg = false;
	int rc = 0;

	r.kpfd = r.small;
	r.kpfd[0] = (struct pollfd){ .fd = epfd, .events = POLLIN };
	for (bool first = true;; first = false) {
		int n = 0, k;
		bool kfirst;
		for (unsigned j = 0; j < r.nrt; j++)
			rt_progress_all(r.rts[j], -1);
		pthread_mutex_lock(&ep->mu);
		kfirst = ep->kernel_first = !ep->kernel_first;
		pthread_mutex_unlock(&ep->mu);
		if (kfirst) {
			k = epoll_wait(epfd, out, max, 0);
			if (k < 0) {
				rc = -errno;
				break;
			}
			n = k + ep_eval(epfd, ep, out + k, max - k, &r);
		} else {
			n = ep_eval(epfd, ep, out, max, &r);
			if (n < max) {
				k = epoll_wait(epfd, out + n, max - n, 0);
				if (k < 0) {
					rc = -errno;
					break;
				}
				n += k;
			}
		}
		if (first && r.nrt) {
			rt0 = r.rts[0];
			if (timeout_ms >= 0)
				deadline = rt_now(rt0) + (uint64_t)timeout_ms * 1000000ull;
			spin_end = rt_mono_ns() + atomic_load(&rt0->busy_poll_ns);
		}
		if (n > 0 || timeout_ms == 0) {
			rc = n;
			break;
		}
		if (skiff_tls_sigs != sigs) { /* a handler ran: epoll_wait is never restarted */
			rc = -EINTR;
			break;
		}
		if (!rt0) { /* only deferred/kernel items: the kernel sleeps for us (bounded, to re-evaluate) */
			int t = timeout_ms < 0 || timeout_ms > 10 ? 10 : timeout_ms;
			struct timespec ts = { 0, (long)t * 1000000l };
			if (ppoll(r.kpfd, r.nkpfd, &ts, sigmask) < 0 && errno == EINTR) {
				rc = -EINTR;
				break;
			}
			if (timeout_ms > 0 && (timeout_ms -= t) <= 0) {
				rc = 0;
				break;
			}
			continue;
		}
		uint64_t now = rt_now(rt0);
		if (now >= deadline) {
			rc = 0;
			break;
		}
		if (!reg && rt_mono_ns() < spin_end)
			continue;
		if (!reg) {
			for (nreg = 0; nreg < r.nrt; nreg++)
				rt_waiter_add(r.rts[nreg], &w[nreg], NULL);
			reg = true;
			continue; /* re-check once registered */
		}
		rc = rt_sleep(r.rts, r.nrt, r.kpfd, r.nkpfd, deadline == UINT64_MAX ? UINT64_MAX : deadline - now,
			      sigmask);
		if (rc < 0)
			break;
	}
	if (reg)
		for (unsigned j = 0; j < nreg; j++)
			rt_waiter_del(r.rts[j], &w[j]);
	if (r.kpfd != r.small)
		free(r.kpfd);
	return rc;
}

int skiff_epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms, const sigset_t *sigmask)
{
	struct skiff_fd *ee = ep_get(epfd);
	struct sk_epoll *ep;
	unsigned n;
	int rc;

	if (!ee)
		return epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask);
	ep = ee->sock->dp;
	pthread_mutex_lock(&ep->mu);
	n = ep->n;
	pthread_mutex_unlock(&ep->mu);
	if (n == 0 || maxevents <= 0 || !events) { /* the kernel answers alone (and checks the arguments) */
		fdt_put(ee);
		return epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask);
	}
	rc = ep_wait(epfd, ep, events, maxevents, timeout_ms, sigmask);
	fdt_put(ee);
	return skiff_ret(rc);
}

int skiff_epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *tmo,
		       const sigset_t *sigmask)
{
	struct skiff_fd *ee = ep_get(epfd);
	int ms = -1;

	if (!ee)
		return epoll_pwait2(epfd, events, maxevents, tmo, sigmask);
	fdt_put(ee);
	if (tmo) {
		uint64_t ns, up;
		if (tmo->tv_sec < 0 || tmo->tv_nsec < 0 || tmo->tv_nsec >= 1000000000l)
			return skiff_ret(-EINVAL);
		/* skiff's wait counts in ms: round up, never return before the time */
		ns = (uint64_t)tmo->tv_sec * 1000000000ull + (uint64_t)tmo->tv_nsec;
		up = ns / 1000000ull + (ns % 1000000ull != 0);
		ms = up > INT32_MAX ? INT32_MAX : (int)up;
	}
	return skiff_epoll_pwait(epfd, events, maxevents, ms, sigmask);
}

int skiff_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
	return skiff_epoll_pwait(epfd, events, maxevents, timeout_ms, NULL);
}
