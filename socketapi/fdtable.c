/* fdtable.c — process-wide fd → skiff socket table.
 *
 * Flow:
 *   first install → table_init (pthread_once): capacity from RLIMIT_NOFILE (hard
 *     limit, or fs.nr_open when unlimited), a directory of chunk pointers.
 *   install: mutex → chunk allocated if missing → entry from the free list (slabs
 *     of entries, never freed) → refs = 1 → published in the slot.
 *   lookup (fdt_get): load slot → increment refs unless zero → slot still holds the
 *     entry? keep it : drop and retry. No lock.
 *   remove: mutex → slot cleared → the caller drops the table's reference; the last
 *     reference recycles the entry and drops its socket reference, whose last
 *     reference runs sock->release (closes the dataplane socket).
 */
#include "fdtable.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define CHUNK_SHIFT 8u
#define CHUNK_SLOTS (1u << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_SLOTS - 1u)
#define SLAB_ENTRIES 64u
#define NR_OPEN_DEFAULT 1048576u

struct fd_chunk {
	_Atomic(struct skiff_fd *) slot[CHUNK_SLOTS];
};

struct fd_dir {
	unsigned cap;   /* fds [0, cap) */
	unsigned nchunks;
	_Atomic(struct fd_chunk *) chunk[];
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* install/remove, free list */
static _Atomic(struct fd_dir *) g_dir;
static struct skiff_fd *g_free;

static unsigned read_nr_open(void)
{
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long v = 0;
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v && v <= (1ul << 30) ? (unsigned)v : NR_OPEN_DEFAULT;
}

static void table_init(void)
{
	struct rlimit rl;
	unsigned nr_open = read_nr_open(), cap = nr_open, nchunks;
	struct fd_dir *d;

	/* The hard limit bounds every fd the process can get without privileges;
	 * RLIM_INFINITY (or a privileged raise) is bounded by fs.nr_open. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < nr_open)
		cap = (unsigned)rl.rlim_max;
	if (cap < 1024)
		cap = 1024;
	nchunks = (cap + CHUNK_MASK) >> CHUNK_SHIFT;
	d = calloc(1, sizeof(*d) + nchunks * sizeof(d->chunk[0]));
	if (!d)
		return; /* installs fail with ENOMEM; lookups see an empty table */
	d->cap = cap;
	d->nchunks = nchunks;
	atomic_store_explicit(&g_dir, d, memory_order_release);
}

unsigned fdt_capacity(void)
{
	struct fd_dir *d = atomic_load_explicit(&g_dir, memory_order_acquire);
	return d ? d->cap : 0;
}

/* ---- sockets ---- */

struct skiff_sock *fdt_sock_new(int kind, int domain, int type, int protocol, void (*release)(struct skiff_sock *s))
{
	struct skiff_sock *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	atomic_init(&s->refs, 1);
	static atomic_uint_fast64_t next_id = 1;
	atomic_init(&s->kind, (uint8_t)kind);
	s->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	s->domain = domain;
	s->type = type;
	s->protocol = protocol;
	s->instance = -1;
	atomic_init(&s->status_flags, 0);
	atomic_init(&s->rcvtimeo_ns, SKIFF_TIMEO_FOREVER);
	atomic_init(&s->sndtimeo_ns, SKIFF_TIMEO_FOREVER);
	s->release = release;
	return s;
}

void fdt_sock_get(struct skiff_sock *s) { atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); }

void fdt_sock_put(struct skiff_sock *s)
{
	if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (s->release)
		s->release(s);
	else
		free(s);
}

/* ---- entries ---- */

static struct skiff_fd *entry_alloc_locked(void)
{
	struct skiff_fd *e = g_free;
	if (!e) {
		struct skiff_fd *slab = calloc(SLAB_ENTRIES, sizeof(*slab));
		if (!slab)
			return NULL;
		for (unsigned i = 0; i < SLAB_ENTRIES; i++) {
			atomic_init(&slab[i].refs, 0);
			atomic_init(&slab[i].fd_flags, 0);
			slab[i].link = g_free;
			g_free = &slab[i];
		}
		e = g_free;
	}
	g_free = e->link;
	e->link = NULL;
	return e;
}

void fdt_put(struct skiff_fd *e)
{
	struct skiff_sock *s;
	if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
		return;
	s = e->sock;
	e->sock = NULL;
	pthread_mutex_lock(&g_mu);
	e->link = g_free;
	g_free = e;
	pthread_mutex_unlock(&g_mu);
	fdt_sock_put(s);
}

static _Atomic(struct skiff_fd *) *slot_of(struct fd_dir *d, int fd)
{
	struct fd_chunk *c;
	if (!d || fd < 0 || (unsigned)fd >= d->cap)
		return NULL;
	c = atomic_load_explicit(&d->chunk[(unsigned)fd >> CHUNK_SHIFT], memory_order_acquire);
	return c ? &c->slot[(unsigned)fd & CHUNK_MASK] : NULL;
}

int fdt_install(int fd, struct skiff_sock *s, int fd_flags)
{
	struct fd_dir *d;
	struct fd_chunk *c;
	struct skiff_fd *e, *old;
	unsigned ci;

	pthread_once(&g_once, table_init);
	d = atomic_load_explicit(&g_dir, memory_order_acquire);
	if (!d)
		return -ENOMEM;
	if (fd < 0 || (unsigned)fd >= d->cap)
		return -EMFILE;
	ci = (unsigned)fd >> CHUNK_SHIFT;
	pthread_mutex_lock(&g_mu);
	c = atomic_load_explicit(&d->chunk[ci], memory_order_relaxed);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			pthread_mutex_unlock(&g_mu);
			return -ENOMEM;
		}
		atomic_store_explicit(&d->chunk[ci], c, memory_order_release);
	}
	e = entry_alloc_locked();
	if (!e) {
		pthread_mutex_unlock(&g_mu);
		return -ENOMEM;
	}
	e->fd = fd;
	atomic_store_explicit(&e->fd_flags, fd_flags, memory_order_relaxed);
	fdt_sock_get(s);
	e->sock = s;
	atomic_store_explicit(&e->refs, 1, memory_order_release);
	old = atomic_exchange_explicit(&c->slot[(unsigned)fd & CHUNK_MASK], e, memory_order_acq_rel);
	pthread_mutex_unlock(&g_mu);
	fdt_put(old); /* stale: its kernel fd was closed without skiff_close */
	return 0;
}

struct skiff_fd *fdt_get(int fd)
{
	struct skiff_fd *e = fdt_get_any(fd);
	uint8_t k;
	if (!e)
		return NULL;
	k = atomic_load_explicit(&e->sock->kind, memory_order_acquire);
	if (k == SKIFF_FD_UDP || k == SKIFF_FD_TCP || k == SKIFF_FD_RAW)
		return e;
	fdt_put(e);
	return NULL;
}

struct skiff_fd *fdt_get_any(int fd)
{
	_Atomic(struct skiff_fd *) *slot = slot_of(atomic_load_explicit(&g_dir, memory_order_acquire), fd);
	if (!slot)
		return NULL;
	for (;;) {
		struct skiff_fd *e = atomic_load_explicit(slot, memory_order_acquire);
		unsigned r;
		if (!e)
			return NULL;
		r = atomic_load_explicit(&e->refs, memory_order_relaxed);
		while (r != 0 && !atomic_compare_exchange_weak_explicit(&e->refs, &r, r + 1, memory_order_acquire,
									 memory_order_relaxed))
			;
		if (r == 0)
			continue; /* being recycled: the slot no longer holds it */
		if (atomic_load_explicit(slot, memory_order_acquire) == e)
			return e;
		fdt_put(e); /* replaced while we looked */
	}
}

bool fdt_contains(int fd)
{
	_Atomic(struct skiff_fd *) *slot = slot_of(atomic_load_explicit(&g_dir, memory_order_acquire), fd);
	return slot && atomic_load_explicit(slot, memory_order_acquire) != NULL;
}

struct skiff_fd *fdt_remove(int fd)
{
	_Atomic(struct skiff_fd *) *slot = slot_of(atomic_load_explicit(&g_dir, memory_order_acquire), fd);
	struct skiff_fd *e;
	if (!slot)
		return NULL;
	pthread_mutex_lock(&g_mu);
	e = atomic_exchange_explicit(slot, NULL, memory_order_acq_rel);
	pthread_mutex_unlock(&g_mu);
	return e;
}

struct skiff_fd *fdt_remove_if(bool (*match)(const struct skiff_sock *s, void *ctx), void *ctx)
{
	struct fd_dir *d = atomic_load_explicit(&g_dir, memory_order_acquire);
	struct skiff_fd *list = NULL;
	if (!d)
		return NULL;
	pthread_mutex_lock(&g_mu);
	for (unsigned ci = 0; ci < d->nchunks; ci++) {
		struct fd_chunk *c = atomic_load_explicit(&d->chunk[ci], memory_order_acquire);
		if (!c)
			continue;
		for (unsigned i = 0; i < CHUNK_SLOTS; i++) {
			struct skiff_fd *e = atomic_load_explicit(&c->slot[i], memory_order_acquire);
			if (!e || !match(e->sock, ctx))
				continue;
			atomic_store_explicit(&c->slot[i], NULL, memory_order_release);
			e->link = list;
			list = e;
		}
	}
	pthread_mutex_unlock(&g_mu);
	return list;
}

void fdt_drop_if(bool (*match)(const struct skiff_sock *s, void *ctx), void *ctx)
{
	struct skiff_fd *list = fdt_remove_if(match, ctx);
	while (list) {
		struct skiff_fd *next = list->link;
		fdt_put(list);
		list = next;
	}
}

void fdt_forget_all(void)
{
	struct fd_dir *d = atomic_load_explicit(&g_dir, memory_order_acquire);
	if (!d)
		return;
	/* after fork only this thread exists; g_mu and the free list may have been
	 * mid-change in another thread of the parent: start both afresh (leaking) */
	pthread_mutex_init(&g_mu, NULL);
	g_free = NULL;
	for (unsigned ci = 0; ci < d->nchunks; ci++) {
		struct fd_chunk *c = atomic_load_explicit(&d->chunk[ci], memory_order_acquire);
		if (c)
			for (unsigned i = 0; i < CHUNK_SLOTS; i++)
				atomic_store_explicit(&c->slot[i], NULL, memory_order_release);
	}
}
