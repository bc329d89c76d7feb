/* timer.c — hashed wheel: arm links a timer into slot (expires/tick) % SLOTS;
 * run walks the ticks from cur_tick up to now's tick (at most one revolution per
 * call, since one revolution visits every slot), firing entries whose absolute
 * expiry has passed. A fired timer is unlinked before its callback so the callback
 * may re-arm it.
 */
#include "timer.h"

#include <stddef.h>

void skiff_timer_wheel_init(struct skiff_timer_wheel *w, uint64_t now)
{
	for (unsigned i = 0; i < SKIFF_TIMER_SLOTS; i++)
		w->slot[i] = NULL;
	w->cur_tick = now / SKIFF_TIMER_TICK_NS;
	w->armed = 0;
	w->earliest = UINT64_MAX;
	w->stale = false;
}

static void unlink_timer(struct skiff_timer *t)
{
	*t->pprev = t->next;
	if (t->next)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
}

void skiff_timer_arm(struct skiff_timer_wheel *w, struct skiff_timer *t, uint64_t expires)
{
	uint64_t tick;
	struct skiff_timer **head;

	if (t->pprev) {
		unlink_timer(t);
		w->armed--;
		if (t->expires <= w->earliest)
			w->stale = true; /* it may have been the earliest */
	}
	tick = expires / SKIFF_TIMER_TICK_NS;
	if (tick < w->cur_tick)
		tick = w->cur_tick; /* already due: fire on the next run */
	head = &w->slot[tick & (SKIFF_TIMER_SLOTS - 1)];
	t->expires = expires;
	t->next = *head;
	if (*head)
		(*head)->pprev = &t->next;
	*head = t;
	t->pprev = head;
	w->armed++;
	if (expires < w->earliest)
		w->earliest = expires; /* exact if it was exact; a lower bound if stale */
}

void skiff_timer_cancel(struct skiff_timer_wheel *w, struct skiff_timer *t)
{
	if (!t->pprev)
		return;
	unlink_timer(t);
	w->armed--;
	if (w->armed == 0) {
		w->earliest = UINT64_MAX;
		w->stale = false;
	} else if (t->expires <= w->earliest) {
		w->stale = true;
	}
}

unsigned skiff_timer_run(struct skiff_stack *st, struct skiff_timer_wheel *w, uint64_t now)
{
	uint64_t now_tick = now / SKIFF_TIMER_TICK_NS;
	uint64_t last, tick;
	unsigned fired = 0;

	if (w->armed == 0 || now < w->earliest) {
		if (now_tick > w->cur_tick && w->armed == 0)
			w->cur_tick = now_tick;
		return 0;
	}
	last = now_tick;
	if (last - w->cur_tick >= SKIFF_TIMER_SLOTS)
		tick = last - (SKIFF_TIMER_SLOTS - 1); /* one revolution covers every slot */
	else
		tick = w->cur_tick;
	for (; tick <= last; tick++) {
		struct skiff_timer **pp = &w->slot[tick & (SKIFF_TIMER_SLOTS - 1)];
		struct skiff_timer *t = *pp;
		while (t) {
			struct skiff_timer *nx = t->next;
			if (t->expires <= now) {
				unlink_timer(t);
				w->armed--;
				fired++;
				t->fn(st, t, now);
				/* the callback may have re-armed t or others into this slot;
				 * restart the slot scan safely from its head */
				nx = *pp;
			}
			t = nx;
			if (fired > 1000000)
				break; /* hard bound; never reached in practice */
		}
	}
	w->cur_tick = now_tick; /* the current tick is rescanned next time: entries may be due later in it */
	if (w->armed == 0) {
		w->earliest = UINT64_MAX;
		w->stale = false;
	} else if (w->earliest <= now) {
		w->stale = true;
	}
	return fired;
}

/* Walk the slots from the current tick: the first tick holding a timer that
 * expires within that tick holds the earliest; timers more than one revolution
 * out are found on the way (far_min). */
static uint64_t scan_earliest(const struct skiff_timer_wheel *w)
{
	uint64_t far_min = UINT64_MAX;
	for (uint64_t i = 0; i < SKIFF_TIMER_SLOTS; i++) {
		uint64_t tick = w->cur_tick + i, best = UINT64_MAX;
		for (const struct skiff_timer *t = w->slot[tick & (SKIFF_TIMER_SLOTS - 1)]; t; t = t->next) {
			if (t->expires / SKIFF_TIMER_TICK_NS <= tick) {
				if (t->expires < best)
					best = t->expires;
			} else if (t->expires < far_min) {
				far_min = t->expires;
			}
		}
		if (best != UINT64_MAX)
			return best;
	}
	return far_min;
}

uint64_t skiff_timer_next(struct skiff_timer_wheel *w)
{
	if (w->armed == 0)
		return UINT64_MAX;
	if (w->stale) {
		w->earliest = scan_earliest(w);
		w->stale = false;
	}
	return w->earliest;
}
