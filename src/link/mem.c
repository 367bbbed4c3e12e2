/*
 * shakedown — mem: an in-memory pair of links, caller-allocated.
 *
 * Each end owns a ring of bytes waiting to be read at that end; a write puts
 * bytes into the peer's ring, and line, settings and break changes land in
 * the peer's lines_in / cfg_in / events, so a simulated device sees what the
 * host did. Nothing here waits in real time: a read that would block first
 * lets the end's pump (a simulator's driver) produce bytes up to the
 * deadline, then jumps the clock to the deadline and times out.
 * No OS headers: simulators use this in-process.
 */
#include "internal.h"

static sd_mem *mem_of(sd_link *l)
{
	return (sd_mem *)(void *)l;
}

static size_t ring_put(sd_mem *m, const uint8_t *b, size_t n)
{
	size_t k = SDI_MIN(n, SD_MEM_RING - m->count);
	for (size_t i = 0; i < k; i++)
		m->ring[(m->head + m->count + i) % SD_MEM_RING] = b[i];
	m->count += k;
	return k;
}

static size_t ring_get(sd_mem *m, uint8_t *b, size_t n)
{
	size_t k = SDI_MIN(n, m->count);
	for (size_t i = 0; i < k; i++)
		b[i] = m->ring[(m->head + i) % SD_MEM_RING];
	m->head = (m->head + k) % SD_MEM_RING;
	m->count -= k;
	return k;
}

static int mem_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	sd_mem *m = mem_of(l);
	if (m->count == 0 && !m->closed && m->pump) {
		int r = m->pump(m->pump_ctx, m, dl);
		if (r < 0)
			return r;
	}
	if (m->count > 0)
		return (int)ring_get(m, buf, len);
	if (m->closed)
		return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (the other end closed)");
	if (dl != SD_FOREVER && l->clock->sleep_until)
		l->clock->sleep_until(l->clock, dl);
	return SD_ERR_TIMEOUT;
}

static int mem_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	sd_mem *m = mem_of(l);
	if (m->closed || !m->peer)
		return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (the other end closed)");
	size_t k = ring_put(m->peer, buf, len);
	if (k == 0 && m->pump) {
		/* The peer's ring is full: let its driver consume, without
		 * moving time, then try once more. */
		int r = m->pump(m->pump_ctx, m, sd_now(l->clock));
		if (r < 0)
			return r;
		k = ring_put(m->peer, buf, len);
	}
	if (k == 0) {
		if (dl != SD_FOREVER && l->clock->sleep_until)
			l->clock->sleep_until(l->clock, dl);
		return SD_ERR_TIMEOUT;
	}
	return (int)k;
}

static int mem_flush(sd_link *l, unsigned dirs)
{
	sd_mem *m = mem_of(l);
	if (dirs & SD_FLUSH_IN) {
		m->head = 0;
		m->count = 0;
	}
	return SD_OK;
}

static int mem_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	sd_mem *m = mem_of(l);
	if (m->peer && !m->closed) {
		m->peer->cfg_in = *cfg;
		m->peer->events |= SD_MEM_EV_CFG;
	}
	return SD_OK;
}

static int mem_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	sd_mem *m = mem_of(l);
	if (m->peer && !m->closed) {
		m->peer->lines_in = (m->peer->lines_in & ~mask) | (level & mask);
		m->peer->events |= SD_MEM_EV_LINES;
	}
	return SD_OK;
}

static int mem_get_lines(sd_link *l, unsigned *level)
{
	/* The peer's DTR/RTS appear here as DSR/CTS, as on a null-modem cable. */
	sd_mem *m = mem_of(l);
	*level = ((m->lines_in & SD_LINE_DTR) ? SD_LINE_DSR : 0) |
		 ((m->lines_in & SD_LINE_RTS) ? SD_LINE_CTS : 0);
	return SD_OK;
}

static int mem_break(sd_link *l, sd_time duration)
{
	(void)duration;
	sd_mem *m = mem_of(l);
	if (m->peer && !m->closed)
		m->peer->events |= SD_MEM_EV_BREAK;
	return SD_OK;
}

static void mem_close(sd_link *l)
{
	sd_mem *m = mem_of(l);
	if (m->peer) {
		m->peer->closed = 1;
		m->peer->peer = NULL;
	}
	m->peer = NULL;
	m->closed = 1;
}

static const sd_link_ops sd_link_mem_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "mem",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES | SD_LINK_BREAK,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.set_cfg = mem_set_cfg,
	.set_lines = mem_set_lines,
	.get_lines = mem_get_lines,
	.send_break = mem_break,
	.close = mem_close,
};

void sd_mem_pair(sd_mem *a, sd_mem *b, const sd_clock *clock)
{
	memset(a, 0, sizeof *a);
	memset(b, 0, sizeof *b);
	sd_link_init(&a->base, &sd_link_mem_ops, clock);
	sd_link_init(&b->base, &sd_link_mem_ops, clock);
	a->peer = b;
	b->peer = a;
}

void sd_mem_set_pump(sd_mem *end, sd_mem_pump pump, void *ctx)
{
	end->pump = pump;
	end->pump_ctx = ctx;
}

unsigned sd_mem_events(sd_mem *end)
{
	unsigned e = end->events;
	end->events = 0;
	return e;
}

size_t sd_mem_pending(const sd_mem *end)
{
	return end->count;
}
