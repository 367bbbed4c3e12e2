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
#include <stdlib.h>
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
/* Drives a simulated device's engine (a simulator, as the host would
 * reach it) from fuzz bytes on a fake clock, starting at data[i]: each op
 * byte is a DTR/RTS change (< 0x10), a host rate change (< 0x14, from
 * rates), time passing (< 0x20, maybe to the deadline), or a chunk of
 * bytes of up to chunk_max taken from the input; the engine's sends must be
 * readable. Ends when the engine is done, at most one timeout after the
 * input, or after 20000 steps. */
static inline void drive_device(sd_engine *e, const uint8_t *data, size_t size, size_t i,
				const uint32_t rates[4], size_t chunk_max)
{
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 0);
	e->clock = &fc.base;
	e->link_caps = SD_LINK_BYTES | SD_LINK_LINES;
	sd_event ev = { .type = SD_EV_START };
	e->ops->step(e, &ev);
	for (unsigned steps = 0; steps < 20000 && i <= size; steps++) {
		memset(&ev, 0, sizeof ev);
		if (e->state & SD_ENG_SEND) {
			if (e->tx_len == 0 || !e->tx)
				abort();
			volatile uint8_t x = e->tx[e->tx_len - 1]; /* must be readable */
			(void)x;
			ev.type = SD_EV_SENT;
			ev.n = e->tx_len;
		} else if (e->state & SD_ENG_CTRL) {
			ev.type = SD_EV_CTRL_DONE;
		} else if (e->state & SD_ENG_RECV) {
			if (i >= size) {
				if (e->deadline == SD_FOREVER)
					break;
				sd_fake_clock_set(&fc, e->deadline);
				ev.type = SD_EV_TIMEOUT;
				i++; /* at most one more timeout after the input */
			} else {
				uint8_t op = data[i++];
				if (op < 0x10) { /* a reset edge or release */
					ev.type = SD_EV_LINES;
					ev.lines = op & 3u;
				} else if (op < 0x14) { /* the host changes its rate */
					ev.type = SD_EV_CFG;
					ev.cfg = SD_LINE_CFG_8N1(rates[op & 3]);
				} else if (op < 0x20) { /* time passes, maybe to the deadline */
					sd_fake_clock_advance(&fc, (sd_time)(op - 0x14) * 20000);
					if (e->deadline != SD_FOREVER && sd_now(&fc.base) >= e->deadline)
						ev.type = SD_EV_TIMEOUT;
					else
						continue;
				} else { /* bytes: length op-0x20 (capped), from the input */
					size_t n = (size_t)(op - 0x20) % chunk_max + 1u;
					if (n > size - i)
						n = size - i;
					if (n > e->rx_cap)
						n = e->rx_cap;
					if (n == 0)
						continue;
					memcpy(e->rx, data + i, n);
					i += n;
					ev.type = SD_EV_RECEIVED;
					ev.n = n;
				}
			}
		} else {
			break; /* done or failed */
		}
		e->ops->step(e, &ev);
	}
}

#endif
