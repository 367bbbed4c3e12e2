/*
 * shakedown — expect: wait for any of several byte patterns in a stream,
 * skipping (and keeping, as evidence) whatever does not fit, within a
 * garbage budget. A byte becomes garbage only once no pattern can still
 * start at it, so a pattern split across reads is never missed.
 */
#include "internal.h"

void sd_expect_init(sd_expect *x, const sd_pattern *pats, size_t npats,
		    size_t budget, uint8_t *keep, size_t keep_cap)
{
	memset(x, 0, sizeof *x);
	x->pats = pats;
	x->npats = npats;
	x->budget = budget;
	x->keep = keep;
	x->keep_cap = keep ? keep_cap : 0;
	x->matched = -1;
}

static int pat_match_at(const sd_pattern *p, const uint8_t *w, size_t wlen)
{
	/* Does p match the bytes w[0..p->len)? Needs the whole pattern. */
	if (p->len == 0 || p->len > wlen)
		return 0;
	for (size_t i = 0; i < p->len; i++) {
		uint8_t m = p->mask ? p->mask[i] : 0xff;
		if ((w[i] & m) != (p->bytes[i] & m))
			return 0;
	}
	return 1;
}

static int pat_prefix_at(const sd_pattern *p, const uint8_t *w, size_t wlen)
{
	/* Could p still match starting at w[0], given only wlen bytes? */
	size_t k = SDI_MIN((size_t)p->len, wlen);
	for (size_t i = 0; i < k; i++) {
		uint8_t m = p->mask ? p->mask[i] : 0xff;
		if ((w[i] & m) != (p->bytes[i] & m))
			return 0;
	}
	return p->len > 0;
}

static void drop_front(sd_expect *x, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		if (x->kept < x->keep_cap)
			x->keep[x->kept++] = x->win[i];
	}
	x->garbage += k;
	memmove(x->win, x->win + k, x->wlen - k);
	x->wlen -= k;
}

static int any_prefix(const sd_expect *x)
{
	for (size_t p = 0; p < x->npats; p++)
		if (pat_prefix_at(&x->pats[p], x->win, x->wlen))
			return 1;
	return 0;
}

int sd_expect_feed(sd_expect *x, const uint8_t *buf, size_t len, size_t *used)
{
	if (x->matched >= 0) {
		if (used)
			*used = 0;
		return 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (x->wlen == SD_EXPECT_MAXPAT)
			drop_front(x, 1);
		x->win[x->wlen++] = buf[i];
		/* A pattern completed by this byte, earliest start first. */
		for (size_t s = 0; s < x->wlen; s++) {
			for (size_t p = 0; p < x->npats; p++) {
				const sd_pattern *pt = &x->pats[p];
				if (pt->len != x->wlen - s || !pat_match_at(pt, x->win + s, pt->len))
					continue;
				drop_front(x, s);
				x->matched = (int)p;
				memcpy(x->tail, x->win, pt->len);
				x->wlen = 0;
				if (used)
					*used = i + 1;
				return 1;
			}
		}
		/* Bytes no pattern can start at are garbage. */
		while (x->wlen > 0 && !any_prefix(x))
			drop_front(x, 1);
		if (x->garbage > x->budget) {
			if (used)
				*used = i + 1;
			return SD_ERR_OVERFLOW;
		}
	}
	if (used)
		*used = len;
	return 0;
}
