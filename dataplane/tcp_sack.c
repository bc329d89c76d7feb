/* tcp_sack.c — SACK scoreboard and RFC 6675 loss recovery bookkeeping.
 *
 * update:  advance to the ACK → for each of the first 4 blocks: D-SACK check on
 *          the first (RFC 2883 4) → validate against (snd_una, snd_max] → merge
 *          into the sorted range table (RFC 6675 4 Update()).
 * advance: drop or trim ranges below the new snd_una; HighRxt and RescueRxt
 *          fall back to "undefined" once the cumulative ACK passes them.
 * is_lost: count SACKed segments above seq (RFC 6675 4 IsLost()).
 * pipe:    unSACKed bytes are lost exactly below a "lost edge" (IsLost is
 *          monotone), so SetPipe() is two interval sums over the table.
 * next_seg: RFC 6675 4 NextSeg() rules (1)-(5), recording what it hands out.
 *
 * Positions are compared as offsets from a base (s->una or the caller's snd_una):
 * every valid range lies within one window above it.
 */
#include "tcp_sack.h"

#include <errno.h>
#include <string.h>

#include "tcp_seq.h"

void skiff_tcp_sack_init(struct skiff_tcp_sack *s)
{
	memset(s, 0, sizeof(*s));
}

void skiff_tcp_sack_clear(struct skiff_tcp_sack *s)
{
	s->n = 0;
	s->sacked = 0;
	s->rxt_valid = false;
	s->rescue_valid = false;
}

void skiff_tcp_sack_advance(struct skiff_tcp_sack *s, uint32_t snd_una)
{
	uint32_t back = s->una - snd_una, fwd = snd_una - s->una;

	if (s->una_valid && back != 0 && back <= SKIFF_TCP_MAX_WIN)
		return; /* an older ACK (reordered): nothing moves */
	if (!s->una_valid || fwd > SKIFF_TCP_MAX_WIN) {
		/* First use, or a jump no single ACK can make (the caller skipped
		 * ACKs): nothing held relative to the old base can be trusted. */
		skiff_tcp_sack_clear(s);
		s->una = snd_una;
		s->una_valid = true;
		return;
	}
	if (fwd) {
		unsigned i = 0;
		while (i < s->n && SEQ_LEQ(s->r[i].end, snd_una)) {
			s->sacked -= s->r[i].end - s->r[i].start;
			i++;
		}
		if (i) {
			memmove(&s->r[0], &s->r[i], (s->n - i) * sizeof(s->r[0]));
			s->n -= i;
		}
		/* A cumulative ACK inside a SACKed range: keep the part above it. */
		if (s->n && SEQ_LT(s->r[0].start, snd_una)) {
			s->sacked -= snd_una - s->r[0].start;
			s->r[0].start = snd_una;
		}
		s->una = snd_una;
	}
	/* RFC 6675: octets below HighRxt count as retransmitted only while unacked;
	 * a second rescue is allowed once HighACK > RescueRxt. Past those points both
	 * are equivalent to "undefined", which keeps them safe across wrap-around. */
	if (s->rxt_valid && SEQ_GEQ(snd_una, s->high_rxt))
		s->rxt_valid = false;
	if (s->rescue_valid && SEQ_GT(snd_una, s->rescue_rxt))
		s->rescue_valid = false;
}

/* Merge [a, b) (validated: inside (una, snd_max]) into the table; returns the
 * bytes not SACKed before. O(SKIFF_TCP_SACK_MAX). */
static uint32_t merge(struct skiff_tcp_sack *s, uint32_t a, uint32_t b)
{
	uint32_t ao = a - s->una, bo = b - s->una;
	unsigned i = 0, j;

	/* i: first range ending at or after a; j: first range starting after b.
	 * Ranges i..j-1 overlap or touch [a, b). */
	while (i < s->n && s->r[i].end - s->una < ao)
		i++;
	j = i;
	while (j < s->n && s->r[j].start - s->una <= bo)
		j++;

	if (i == j) {
		if (s->n == SKIFF_TCP_SACK_MAX) {
			/* Full: keep the lowest ranges (RFC 6675 retransmits from the bottom). */
			s->discarded++;
			if (i == s->n)
				return 0;
			s->n--;
			s->sacked -= s->r[s->n].end - s->r[s->n].start;
		}
		memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof(s->r[0]));
		s->r[i].start = a;
		s->r[i].end = b;
		s->n++;
		s->sacked += b - a;
		return b - a;
	}

	uint32_t covered = 0, ns, ne;
	for (unsigned k = i; k < j; k++)
		covered += s->r[k].end - s->r[k].start;
	ns = (s->r[i].start - s->una < ao) ? s->r[i].start : a;
	ne = (s->r[j - 1].end - s->una > bo) ? s->r[j - 1].end : b;
	s->r[i].start = ns;
	s->r[i].end = ne;
	if (j - i > 1) {
		memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof(s->r[0]));
		s->n -= j - i - 1;
	}
	s->sacked += (ne - ns) - covered;
	return (ne - ns) - covered;
}

uint32_t skiff_tcp_sack_update(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt,
			       const uint32_t (*blocks)[2], unsigned n, bool *dsack)
{
	uint32_t added = 0, una, flight;

	if (dsack)
		*dsack = false;
	skiff_tcp_sack_advance(s, snd_una);
	/* After an older ACK the base stays newer: its blocks are judged against it. */
	una = s->una;
	flight = SEQ_GT(snd_nxt, una) ? snd_nxt - una : 0;
	if (!blocks)
		n = 0;
	if (n > SKIFF_TCP_SACK_BLOCKS) {
		s->invalid_blocks += n - SKIFF_TCP_SACK_BLOCKS;
		n = SKIFF_TCP_SACK_BLOCKS;
	}

	for (unsigned k = 0; k < n; k++) {
		uint32_t a = blocks[k][0], b = blocks[k][1];
		uint32_t ao = a - una, bo = b - una;
		bool valid = ao > 0 && ao < bo && bo <= flight;

		if (k == 0) {
			/* RFC 2883 4: a first block below the cumulative ACK, or covered by
			 * the second block, reports a duplicate. */
			bool below = SEQ_LT(a, b) && SEQ_LT(a, una) && una - a <= SKIFF_TCP_MAX_WIN &&
				     SEQ_LEQ(b, snd_nxt);
			bool inside = false;
			if (valid && n > 1) {
				uint32_t a1 = blocks[1][0], b1 = blocks[1][1];
				bool valid1 = a1 - una > 0 && a1 - una < b1 - una && b1 - una <= flight;
				inside = valid1 && SEQ_GEQ(a, a1) && SEQ_LEQ(b, b1);
			}
			if (below || inside) {
				s->dsacks++;
				if (dsack)
					*dsack = true;
				continue;
			}
		}
		if (!valid) {
			s->invalid_blocks++;
			continue;
		}
		added += merge(s, a, b);
	}
	return added;
}

/* Range i clipped to [base, base + flight), as offsets from base; false when empty. */
static bool clip(const struct skiff_tcp_sack *s, unsigned i, uint32_t base, uint32_t flight, uint32_t *rs,
		 uint32_t *re)
{
	uint32_t a = s->r[i].start, b = s->r[i].end;
	if (SEQ_LEQ(b, base))
		return false;
	*rs = SEQ_LT(a, base) ? 0 : a - base;
	*re = b - base;
	if (*re > flight)
		*re = flight;
	return *rs < *re;
}

static uint32_t div_up(uint32_t a, uint32_t b) { return a / b + (a % b != 0); }

bool skiff_tcp_sack_is_lost(const struct skiff_tcp_sack *s, uint32_t seq, uint32_t smss)
{
	uint32_t segs = 0;
	if (smss == 0)
		smss = 1;
	/* RFC 6675 4 IsLost(): DupThresh SACKed segments, or more than
	 * (DupThresh - 1) * SMSS SACKed bytes, above seq. */
	for (unsigned i = s->n; i-- > 0;) {
		uint32_t a = s->r[i].start, b = s->r[i].end;
		if (SEQ_LEQ(b, seq + 1))
			break;
		if (SEQ_LEQ(a, seq))
			a = seq + 1; /* only octets strictly above seq */
		segs += div_up(b - a, smss);
		if (segs >= SKIFF_TCP_DUPTHRESH)
			return true;
	}
	return false;
}

bool skiff_tcp_sack_covers(const struct skiff_tcp_sack *s, uint32_t start, uint32_t end)
{
	unsigned lo = 0, hi = s->n;
	/* the last range starting at or below start */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (SEQ_LEQ(s->r[mid].start, start))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && SEQ_LEQ(end, s->r[lo - 1].end) && SEQ_LT(start, end);
}

/* Offset (from base) below which every unSACKed byte is lost: the start of the
 * highest range k with ceil-segments(k..n-1) >= DupThresh, or 0. */
static uint32_t lost_edge(const struct skiff_tcp_sack *s, uint32_t base, uint32_t flight, uint32_t smss)
{
	uint32_t segs = 0, rs, re;
	for (unsigned i = s->n; i-- > 0;) {
		if (!clip(s, i, base, flight, &rs, &re))
			continue;
		segs += div_up(re - rs, smss);
		if (segs >= SKIFF_TCP_DUPTHRESH)
			return rs;
	}
	return 0;
}

/* UnSACKed bytes in [x, y), offsets from base, y <= flight. */
static uint32_t unsacked(const struct skiff_tcp_sack *s, uint32_t base, uint32_t flight, uint32_t x, uint32_t y)
{
	uint32_t n, rs, re;
	if (x >= y)
		return 0;
	n = y - x;
	for (unsigned i = 0; i < s->n; i++) {
		if (!clip(s, i, base, flight, &rs, &re))
			continue;
		if (rs < x)
			rs = x;
		if (re > y)
			re = y;
		if (rs < re)
			n -= re - rs;
	}
	return n;
}

static uint32_t high_rxt_off(const struct skiff_tcp_sack *s, uint32_t base, uint32_t flight)
{
	uint32_t h;
	if (!s->rxt_valid || SEQ_LEQ(s->high_rxt, base))
		return 0;
	h = s->high_rxt - base;
	return h > flight ? flight : h;
}

uint32_t skiff_tcp_sack_pipe(const struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss)
{
	uint32_t flight, edge;
	if (!SEQ_LT(snd_una, snd_nxt))
		return 0;
	if (smss == 0)
		smss = 1;
	flight = snd_nxt - snd_una;
	edge = lost_edge(s, snd_una, flight, smss);
	/* RFC 6675 4 SetPipe(): (a) unSACKed and not lost, (b) unSACKed and retransmitted. */
	return unsacked(s, snd_una, flight, edge, flight) + unsacked(s, snd_una, flight, 0, high_rxt_off(s, snd_una, flight));
}

/* Smallest unSACKed offset >= x; *hole_end gets the end of its hole (flight when
 * it is above every range). Returns flight when there is none. */
static uint32_t first_unsacked(const struct skiff_tcp_sack *s, uint32_t base, uint32_t flight, uint32_t x,
			       uint32_t *hole_end)
{
	uint32_t rs, re;
	for (unsigned i = 0; i < s->n; i++) {
		if (!clip(s, i, base, flight, &rs, &re) || re <= x)
			continue;
		if (rs <= x) {
			x = re;
			continue;
		}
		*hole_end = rs;
		return x;
	}
	*hole_end = flight;
	return x < flight ? x : flight;
}

int skiff_tcp_sack_enter_recovery(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t smss,
				  uint32_t *seq, uint32_t *len)
{
	uint32_t flight, x, he;
	if (smss == 0)
		return -EINVAL;
	skiff_tcp_sack_advance(s, snd_una);
	flight = SEQ_GT(snd_nxt, snd_una) ? snd_nxt - snd_una : 0;
	x = first_unsacked(s, snd_una, flight, 0, &he);
	if (x >= flight)
		return -ENOENT;
	*seq = snd_una + x;
	*len = (he - x < smss) ? he - x : smss;
	/* RFC 6675 5 (4.3): HighRxt and RescueRxt to the end of this retransmission. */
	s->high_rxt = s->rescue_rxt = *seq + *len;
	s->rxt_valid = s->rescue_valid = true;
	return 0;
}

int skiff_tcp_sack_next_seg(struct skiff_tcp_sack *s, uint32_t snd_una, uint32_t snd_nxt, uint32_t recovery_point,
			    uint32_t smss, uint32_t new_avail, uint32_t *seq, uint32_t *len)
{
	uint32_t flight, hi_sack = 0, x, he, rs, re;

	if (smss == 0)
		return -EINVAL;
	skiff_tcp_sack_advance(s, snd_una);
	flight = SEQ_GT(snd_nxt, snd_una) ? snd_nxt - snd_una : 0;
	for (unsigned i = s->n; i-- > 0;) {
		if (clip(s, i, snd_una, flight, &rs, &re)) {
			hi_sack = re;
			break;
		}
	}

	/* (1.a) above HighRxt, (1.b) below the highest SACKed byte. */
	x = first_unsacked(s, snd_una, flight, high_rxt_off(s, snd_una, flight), &he);
	if (x < hi_sack) {
		int rule = SKIFF_TCP_SACK_RXT_HOLE;
		if (skiff_tcp_sack_is_lost(s, snd_una + x, smss)) /* (1.c) */
			rule = SKIFF_TCP_SACK_RXT_LOST;
		else if (new_avail)
			goto new_data; /* (2) before (3) */
		*seq = snd_una + x;
		*len = (he - x < smss) ? he - x : smss;
		/* RFC 6675 5 (C.2): HighRxt to the end of the retransmission. */
		s->high_rxt = *seq + *len;
		s->rxt_valid = true;
		return rule;
	}
	if (new_avail)
		goto new_data;

	/* (4) one rescue retransmission per recovery: the highest unSACKed segment. */
	if (!s->rescue_valid || SEQ_GT(snd_una, s->rescue_rxt)) {
		uint32_t top = flight, lo = 0;
		for (unsigned i = s->n; i-- > 0;) {
			if (!clip(s, i, snd_una, flight, &rs, &re))
				continue;
			if (re < top) {
				lo = re;
				break;
			}
			top = rs; /* the range reaches the top: the hole is below it */
		}
		if (top > lo) {
			*len = (top - lo < smss) ? top - lo : smss;
			*seq = snd_una + top - *len;
			s->rescue_rxt = recovery_point;
			s->rescue_valid = true;
			return SKIFF_TCP_SACK_RXT_RESCUE;
		}
	}
	return -ENOENT;

new_data:
	*seq = snd_nxt;
	*len = new_avail < smss ? new_avail : smss;
	return SKIFF_TCP_SACK_NEW_DATA;
}
