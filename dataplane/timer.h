/* timer.h — a hashed timer wheel driven by the caller's clock.
 *
 * Timers are intrusive (embedded in the neighbour entry, reassembly slot, socket)
 * so arming never allocates. Slots are SKIFF_TIMER_TICK_NS wide; a timer further
 * out than one revolution waits in its slot until its time comes round (the check
 * is on the absolute expiry). timer_run() fires every timer with expires <= now.
 * timer_next() tells the caller how long it may sleep: the exact earliest expiry,
 * recomputed only after a cancel or a run made the cached one stale (one scan of
 * at most one revolution of slots plus the timers in them).
 */
#ifndef SKIFF_TIMER_H
#define SKIFF_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define SKIFF_TIMER_SLOTS 512u           /* power of two */
#define SKIFF_TIMER_TICK_NS 1000000ull   /* 1 ms */

struct skiff_stack;
struct skiff_timer;
typedef void (*skiff_timer_fn)(struct skiff_stack *st, struct skiff_timer *t, uint64_t now);

struct skiff_timer {
	struct skiff_timer *next, **pprev; /* pprev NULL when not armed */
	uint64_t expires;
	skiff_timer_fn fn;
};

struct skiff_timer_wheel {
	struct skiff_timer *slot[SKIFF_TIMER_SLOTS];
	uint64_t cur_tick;   /* next tick to scan */
	unsigned armed;
	uint64_t earliest;   /* earliest expiry when !stale (UINT64_MAX when none) */
	bool stale;          /* earliest may be too early: recompute on demand */
};

void skiff_timer_wheel_init(struct skiff_timer_wheel *w, uint64_t now);
static inline void skiff_timer_init(struct skiff_timer *t, skiff_timer_fn fn)
{
	t->next = 0;
	t->pprev = 0;
	t->expires = 0;
	t->fn = fn;
}
static inline bool skiff_timer_armed(const struct skiff_timer *t) { return t->pprev != 0; }
void skiff_timer_arm(struct skiff_timer_wheel *w, struct skiff_timer *t, uint64_t expires);
void skiff_timer_cancel(struct skiff_timer_wheel *w, struct skiff_timer *t);
/* Fire all timers due at `now`; returns how many fired. */
unsigned skiff_timer_run(struct skiff_stack *st, struct skiff_timer_wheel *w, uint64_t now);
/* Earliest expiry of any armed timer, UINT64_MAX when nothing is armed. */
uint64_t skiff_timer_next(struct skiff_timer_wheel *w);

#endif
