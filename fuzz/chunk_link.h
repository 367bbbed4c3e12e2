/*
 * A link for fuzz targets that replays the input as the device's bytes, in
 * chunks on a fake clock, and jumps to the deadline when the input runs
 * out. Each chunk starts with one byte: bits 0-4 its size - 1 (1..32),
 * bits 5-7 how far time moves before it (x 6.4 ms). Writes, line changes,
 * settings and flushes succeed. Header-only: each target includes it once.
 */
#ifndef SD_FUZZ_CHUNK_LINK_H
#define SD_FUZZ_CHUNK_LINK_H
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

typedef struct chunk_link {
	sd_link        base;
	sd_fake_clock  clock;
	const uint8_t *p;
	size_t         n;
} chunk_link;

static int cl_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	chunk_link *r = (chunk_link *)(void *)l;
	if (r->n == 0) {
		if (dl != SD_FOREVER)
			sd_fake_clock_set(&r->clock, dl);
		return SD_ERR_TIMEOUT;
	}
	size_t k = (size_t)(r->p[0] & 31u) + 1u;
	sd_time dt = (sd_time)(r->p[0] >> 5) * 64 * 100;
	r->p++, r->n--;
	if (dl != SD_FOREVER && sd_now(&r->clock.base) + dt > dl) {
		sd_fake_clock_set(&r->clock, dl);
		return SD_ERR_TIMEOUT;
	}
	sd_fake_clock_advance(&r->clock, dt);
	k = k < len ? k : len;
	k = k < r->n ? k : r->n;
	if (k == 0)
		return SD_ERR_TIMEOUT;
	memcpy(buf, r->p, k);
	r->p += k, r->n -= k;
	return (int)k;
}

static int cl_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	(void)buf, (void)dl;
	chunk_link *r = (chunk_link *)(void *)l;
	sd_fake_clock_advance(&r->clock, 100);
	return (int)len;
}

static int cl_lines(sd_link *l, unsigned mask, unsigned level)
{
	(void)l, (void)mask, (void)level;
	return SD_OK;
}

static int cl_cfg(sd_link *l, const sd_line_cfg *c)
{
	(void)l, (void)c;
	return SD_OK;
}

static int cl_flush(sd_link *l, unsigned dirs)
{
	(void)l, (void)dirs;
	return SD_OK;
}

static void cl_close(sd_link *l)
{
	(void)l;
}

static const sd_link_ops chunk_serial_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "chunks",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_LINES,
	.read = cl_read,
	.write = cl_write,
	.flush = cl_flush,
	.set_cfg = cl_cfg,
	.set_lines = cl_lines,
	.close = cl_close,
};

static const sd_link_ops chunk_net_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "chunks-net",
	.caps = SD_LINK_BYTES | SD_LINK_NET,
	.read = cl_read,
	.write = cl_write,
	.close = cl_close,
};

/* Read every evidence byte of a report: the slices must stay valid (ASan
 * sees a dangling one) for as long as their owner says. */
static void touch_evidence(const sd_report *rep)
{
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < rep->diag.n; i++) {
		for (size_t k = 0; k < rep->diag.f[i].rcvd_len; k++)
			sink ^= rep->diag.f[i].rcvd[k];
		for (size_t k = 0; k < rep->diag.f[i].sent_len; k++)
			sink ^= rep->diag.f[i].sent[k];
	}
	(void)sink;
}

static void chunk_link_init(chunk_link *r, const sd_link_ops *ops, const uint8_t *data, size_t size)
{
	memset(r, 0, sizeof *r);
	sd_fake_clock_init(&r->clock, 0);
	sd_link_init(&r->base, ops, &r->clock.base);
	r->p = data;
	r->n = size;
}
#endif
