/* view.h — bounds-checked cursor over packet bytes and big-endian field access.
 *
 * A layer receives a view over the bytes it may read, checks the length once with
 * view_pull(), then reads fields with the load helpers. No pointer casts of
 * unaligned data anywhere: every multi-byte field goes through ld16/ld32/st16/st32.
 */
#ifndef SKIFF_VIEW_H
#define SKIFF_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct view {
	const uint8_t *p;
	size_t len;
};

static inline struct view view_make(const void *p, size_t len)
{
	struct view v = { (const uint8_t *)p, len };
	return v;
}

/* Returns the current position and advances by n, or NULL (view unchanged) when short. */
static inline const uint8_t *view_pull(struct view *v, size_t n)
{
	const uint8_t *r;
	if (v->len < n)
		return NULL;
	r = v->p;
	v->p += n;
	v->len -= n;
	return r;
}

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t ld32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void st32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
