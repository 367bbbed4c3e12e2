/*
 * A scripted link for core tests: the "device" is a list of timed chunks
 * (at time t, these bytes arrive); writes are recorded. Runs on a fake
 * clock: a read that would block jumps the clock to the next chunk or to
 * the deadline. Header-only, test use only.
 */
#ifndef SCRIPT_LINK_H
#define SCRIPT_LINK_H

#include <string.h>
#include "shakedown/shakedown.h"

typedef struct script_chunk {
	sd_time        t;
	const uint8_t *b;
	size_t         n;
} script_chunk;

typedef struct script_link {
	sd_link             base;
	sd_fake_clock       fc;
	const script_chunk *chunks;
	size_t              nchunks, next, off;
	uint8_t             written[4096];
	size_t              nwritten;
	int                 close_after; /* once all chunks are read: SD_ERR_CLOSED */
	int                 closed_calls;
} script_link;

static int script_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	script_link *s = (script_link *)l;
	if (s->next >= s->nchunks) {
		if (s->close_after)
			return SD_ERR_CLOSED;
		if (dl != SD_FOREVER)
			sd_fake_clock_set(&s->fc, dl);
		return SD_ERR_TIMEOUT;
	}
	const script_chunk *c = &s->chunks[s->next];
	if (c->t > dl) {
		sd_fake_clock_set(&s->fc, dl);
		return SD_ERR_TIMEOUT;
	}
	sd_fake_clock_set(&s->fc, c->t);
	size_t k = c->n - s->off < len ? c->n - s->off : len;
	memcpy(buf, c->b + s->off, k);
	s->off += k;
	if (s->off == c->n) {
		s->next++;
		s->off = 0;
	}
	return (int)k;
}

static int script_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	(void)dl;
	script_link *s = (script_link *)l;
	size_t k = sizeof s->written - s->nwritten;
	if (k > len)
		k = len;
	memcpy(s->written + s->nwritten, buf, k);
	s->nwritten += k;
	return (int)len;
}

static int script_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	(void)l; (void)mask; (void)level;
	return SD_OK;
}

static void script_close(sd_link *l)
{
	((script_link *)l)->closed_calls++;
}

static const sd_link_ops script_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "script",
	.caps = SD_LINK_BYTES | SD_LINK_LINES,
	.read = script_read,
	.write = script_write,
	.set_lines = script_set_lines,
	.close = script_close,
};

static inline void script_link_init(script_link *s, const script_chunk *chunks, size_t n)
{
	memset(s, 0, sizeof *s);
	sd_fake_clock_init(&s->fc, 0);
	sd_link_init(&s->base, &script_ops, &s->fc.base);
	s->chunks = chunks;
	s->nchunks = n;
}

#endif
