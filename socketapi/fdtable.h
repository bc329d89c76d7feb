/* fdtable.h — the process-wide table of skiff sockets, indexed by fd.
 *
 * Every skiff socket owns a real kernel fd (created with socket(2) for the same
 * domain/type/protocol), so the fd number is the index. The table is two levels:
 * a directory sized once from RLIMIT_NOFILE (hard limit, capped by fs.nr_open),
 * and chunks of slots allocated lazily on first install. Lookups are lock-free
 * (atomic loads + an "increment unless zero" on the entry's refcount, then a
 * re-check that the slot still holds it); install/remove/dup take one mutex.
 * Entries are type-stable: they are recycled through a free list and never
 * returned to malloc, so a lookup racing with a close never touches freed memory.
 *
 * Two objects:
 *   struct skiff_sock — one socket (Linux: the open file description + struct
 *     sock): kind, owning runtime/instance, dataplane socket, O_NONBLOCK, timeouts.
 *     Shared by dup'd fds; refcounted; `release` runs when the last ref drops.
 *   struct skiff_fd — one fd number pointing at a socket; per-fd flags (FD_CLOEXEC).
 *
 * Rule: never drop the last reference (fdt_put/fdt_sock_put) while holding a
 * runtime instance lock — `release` takes that lock to close the dataplane socket.
 */
#ifndef SKIFF_SOCKETAPI_FDTABLE_H
#define SKIFF_SOCKETAPI_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct skiff_rt;

/* What an entry is. UDP, TCP and RAW are stack sockets (fdt_get finds only those).
 * DEFERRED: an AF_INET socket made by the preload library that is still only its
 * kernel socket, until bind/connect/sendto shows whether its traffic crosses a
 * bypass interface (defer.c turns it into UDP/TCP in place, or drops the entry).
 * EPOLL: an epoll fd with skiff fds in its interest list (epoll.c). */
enum skiff_fd_kind {
	SKIFF_FD_UDP = 1,
	SKIFF_FD_TCP,
	SKIFF_FD_DEFERRED,
	SKIFF_FD_EPOLL,
	SKIFF_FD_RAW,      /* raw IP or ICMP ping socket (sock_raw.c) */
	SKIFF_FD_PACKET,   /* AF_PACKET socket, the kernel's until bound to a bypass interface (sock_packet.c) */
};

/* Timeouts in ns. FOREVER is SO_*TIMEO {0,0} (the default); NOWAIT is what Linux
 * makes of a negative tv_sec (the call never waits). */
#define SKIFF_TIMEO_FOREVER UINT64_MAX
#define SKIFF_TIMEO_NOWAIT 0u

struct skiff_sock {
	atomic_uint refs;                 /* fd entries + calls in flight */
	_Atomic uint8_t kind;             /* SKIFF_FD_*; DEFERRED → UDP/TCP once, after dp is set */
	uint64_t id;                      /* unique per process (epoll items recognise their socket by it) */
	int domain, type, protocol;       /* type without SOCK_NONBLOCK/SOCK_CLOEXEC; protocol resolved */
	struct skiff_rt *rt;              /* owning runtime and instance */
	int instance;
	void *dp;                         /* UDP: struct skiff_udp_sock, TCP: struct tcp_usock,
					   * DEFERRED: struct defer_state, EPOLL: struct sk_epoll */
	atomic_int status_flags;          /* O_NONBLOCK (shared by dup'd fds, as Linux) */
	_Atomic uint64_t rcvtimeo_ns;     /* SO_RCVTIMEO */
	_Atomic uint64_t sndtimeo_ns;     /* SO_SNDTIMEO */
	void (*release)(struct skiff_sock *s); /* closes dp and frees s */
};

struct skiff_fd {
	atomic_uint refs;                 /* the table's + lookups in flight; 0 = free */
	int fd;
	atomic_int fd_flags;              /* FD_CLOEXEC (per fd, as Linux) */
	struct skiff_sock *sock;          /* holds one sock reference */
	struct skiff_fd *link;            /* free list / removal list */
};

/* A new socket object with one reference, timeouts FOREVER. NULL on ENOMEM. */
struct skiff_sock *fdt_sock_new(int kind, int domain, int type, int protocol,
				void (*release)(struct skiff_sock *s));
void fdt_sock_get(struct skiff_sock *s);
void fdt_sock_put(struct skiff_sock *s);

/* Record s at fd (takes its own reference on s). A stale entry at fd (its kernel
 * fd was closed behind skiff's back) is replaced. -EMFILE if fd is beyond the
 * table, -ENOMEM. */
int fdt_install(int fd, struct skiff_sock *s, int fd_flags);
/* The entry at fd if it is a stack socket (UDP/TCP/RAW), with a
 * reference the caller must fdt_put, or NULL. Lock-free. */
struct skiff_fd *fdt_get(int fd);
/* The entry at fd whatever its kind, or NULL. */
struct skiff_fd *fdt_get_any(int fd);
void fdt_put(struct skiff_fd *e);
/* Does fd have an entry of any kind? Lock-free, no reference taken. */
bool fdt_contains(int fd);
/* Unpublish fd; returns the table's reference (caller fdt_puts it) or NULL. */
struct skiff_fd *fdt_remove(int fd);
/* Unpublish every entry whose socket matches; returns them linked through
 * `link` (each holding the table's reference). */
struct skiff_fd *fdt_remove_if(bool (*match)(const struct skiff_sock *s, void *ctx), void *ctx);
/* fdt_remove_if, then drop the table's reference of each (the fds stay open). */
void fdt_drop_if(bool (*match)(const struct skiff_sock *s, void *ctx), void *ctx);
/* A forked child: forget every entry without releasing anything (the sockets'
 * stacks and devices belong to the parent; their memory is the child's copy).
 * The fds stay open as the plain kernel sockets that reserved them. */
void fdt_forget_all(void);
/* The number of fds the table can hold (0 before first use). */
unsigned fdt_capacity(void);

#endif
