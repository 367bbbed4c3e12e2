/*
 * shakedown — sim: the in-process host of a simulated device.
 *
 * One allocation holds a virtual clock, a mem pair, the device and a small
 * forwarding link; the host's end of the pair is wrapped in a fault link
 * (noise, floods, echo, disconnects, and the device's own line settings, so
 * a host at another rate reads what a UART would). The device is stepped on
 * virtual time only when the host would otherwise wait: reading, or
 * sleeping through the clock. A simulated second costs microseconds.
 */
#include <stdlib.h>
#include "internal.h"

typedef struct sim_host {
	sd_clock             clock;   /* first: the link's clock is the host */
	sd_time              t;       /* virtual now, µs */
	sd_link              base;    /* what the caller holds */
	sd_mem               host, dev;
	sd_link             *fault;   /* wraps &host.base */
	const sd_sim_kind   *kind;
	int                  started, pumping;
	int                  gone;    /* the port left the bus (sd_sim_device.gone_until) */
	sd_time              back_at; /* ... and is there to open again from this time */
	sd_sim_device       *d;       /* kind->size bytes, after this struct */
} sim_host;

static sim_host *host_of_clock(const sd_clock *c)
{
	return (sim_host *)(uintptr_t)(const void *)c;
}

static sd_time sim_now(const sd_clock *c)
{
	return host_of_clock(c)->t;
}

static void pump(sim_host *h, sd_time until);

static void sim_sleep_until(const sd_clock *c, sd_time t)
{
	sim_host *h = host_of_clock(c);
	if (t == SD_FOREVER)
		return;
	pump(h, t); /* the device lives through the wait */
	if (t > h->t)
		h->t = t;
}

/* The device's port left the bus (a USB device re-enumerating): what was
 * in flight either way is lost, and the host's handle is dead until it
 * opens the port again (sim_reopen). */
static void leave_bus(sim_host *h)
{
	h->gone = 1;
	h->back_at = h->d->gone_until;
	h->d->gone_until = 0;
	h->host.head = h->host.count = 0;
	h->dev.head = h->dev.count = 0;
}

static void dev_step(sim_host *h, sd_event *ev)
{
	h->d->eng.ops->step(&h->d->eng, ev);
	if (h->d->gone_until)
		leave_bus(h);
}

/* Time n bytes take on the wire at the device's settings (the host's when
 * the device names no rate): start bit, data bits, parity, stop bits. Bytes
 * are not instantaneous on a UART, and a simulator that moved them in zero
 * time stamped a whole transcript at t = 0 (a session whose device answers
 * at once never waits). */
static sd_time wire_time(const sim_host *h, size_t n)
{
	const sd_line_cfg *c = h->d->cfg.baud ? &h->d->cfg : &h->base.cfg;
	if (!c->baud || !n)
		return 0;
	unsigned bits = 1u + (c->data_bits ? c->data_bits : 8u) + (c->parity ? 1u : 0u) +
			(c->stop_bits ? c->stop_bits : 1u);
	uint64_t us = ((uint64_t)n * bits * 1000000u + c->baud - 1) / c->baud;
	return (sd_time)SDI_MIN(us, (uint64_t)SD_S(10));
}

/* Move virtual time on by the wire time of n bytes, never past `until` (the
 * host's deadline: the bytes are then read as arrived by it). */
static void wire_advance(sim_host *h, size_t n, sd_time until)
{
	sd_time t = h->t + wire_time(h, n);
	if (t > until)
		t = until > h->t ? until : h->t;
	h->t = t;
}

/* Bound on device steps per pump: a device that loops without moving time
 * or bytes is stopped rather than spun. */
#define PUMP_MAX_STEPS 100000u

/* Step the device up to `until` on virtual time. Returns as soon as the
 * host has bytes to read (the clock then shows when they were sent). */
static void pump(sim_host *h, sd_time until)
{
	sd_engine *e = &h->d->eng;
	if (h->pumping)
		return;
	h->pumping = 1;
	if (!h->started) {
		e->clock = &h->clock;
		e->link_caps = h->dev.base.caps;
		sd_event ev = { .type = SD_EV_START };
		dev_step(h, &ev);
		h->started = 1;
	}
	for (unsigned steps = 0; steps < PUMP_MAX_STEPS; steps++) {
		sd_event ev = { 0 };
		unsigned evs = sd_mem_events(&h->dev);
		/* sd_mem_events() clears every pending event: deliver all of
		 * them, not just the first (a lost LINES event is a lost reset). */
		if (evs & (SD_MEM_EV_CFG | SD_MEM_EV_LINES)) {
			if (evs & SD_MEM_EV_CFG) {
				ev.type = SD_EV_CFG;
				ev.cfg = h->dev.cfg_in;
				dev_step(h, &ev);
			}
			if (evs & SD_MEM_EV_LINES) {
				memset(&ev, 0, sizeof ev);
				ev.type = SD_EV_LINES;
				ev.lines = h->dev.lines_in;
				dev_step(h, &ev);
			}
			continue;
		}
		if (sd_mem_pending(&h->host) > 0)
			break;
		unsigned st = e->state;
		if (st & (SD_ENG_DONE | SD_ENG_FAILED)) {
			/* A device that fails with CLOSED left the bus (it
			 * re-enumerated or booted on): the host's port is gone. */
			if ((st & SD_ENG_FAILED) && e->err == SD_ERR_CLOSED)
				h->host.closed = 1;
			break;
		}
		if (st & SD_ENG_CTRL) {
			if (e->ctrl.op == SD_CTRL_WAIT && e->ctrl.until > h->t) {
				if (e->ctrl.until > until)
					break;
				h->t = e->ctrl.until;
			}
			ev.type = SD_EV_CTRL_DONE;
		} else if (st & SD_ENG_SEND) {
			/* off the bus, what the device sends reaches nobody */
			int n = h->gone ? (int)e->tx_len : sd_link_write(&h->dev.base, e->tx, e->tx_len, h->t);
			wire_advance(h, n > 0 ? (size_t)n : 0, until);
			ev.type = SD_EV_SENT;
			/* A full receive buffer on the host drops the rest, as a
			 * UART's FIFO would overflow. */
			ev.n = n > 0 ? (size_t)n : e->tx_len;
		} else if (st & SD_ENG_RECV) {
			if (sd_mem_pending(&h->dev) > 0) {
				int n = sd_link_read(&h->dev.base, e->rx, e->rx_cap, h->t);
				if (n <= 0)
					break;
				wire_advance(h, (size_t)n, until);
				ev.type = SD_EV_RECEIVED;
				ev.n = (size_t)n;
			} else if (e->deadline <= until) {
				if (e->deadline > h->t)
					h->t = e->deadline;
				ev.type = SD_EV_TIMEOUT;
			} else {
				break;
			}
		} else {
			break;
		}
		dev_step(h, &ev);
	}
	h->pumping = 0;
}

static int host_pump(void *ctx, sd_mem *end, sd_time until)
{
	sim_host *h = ctx;
	pump(h, until);
	if (h->gone) /* a read on a vanished tty: EIO at once */
		return sdi_link_fail(&end->base, SD_ERR_CLOSED, "device disconnected (the port left the USB bus)");
	return SD_OK;
}

/* ---- the link the caller holds: forwards to the fault link ---------- */

static sim_host *host_of_link(sd_link *l)
{
	return (sim_host *)(void *)((char *)l - offsetof(sim_host, base));
}

static int keep_why(sd_link *l, int r)
{
	sim_host *h = host_of_link(l);
	if (r < 0 && r != SD_ERR_TIMEOUT)
		sdi_fmt(l->why, sizeof l->why, "%s", sd_link_why(h->fault, r));
	return r;
}

/* Every call on a port that left the bus fails as on a vanished tty (EIO,
 * ENODEV), until sim_reopen. */
static int gone(sd_link *l)
{
	return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (the port left the USB bus)");
}

static int sim_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	sim_host *h = host_of_link(l);
	if (h->gone)
		return gone(l);
	int r = keep_why(l, sd_link_read(h->fault, buf, len, dl));
	return h->gone ? gone(l) : r;
}

static int sim_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	if (host_of_link(l)->gone)
		return gone(l);
	return keep_why(l, sd_link_write(host_of_link(l)->fault, buf, len, dl));
}

static int sim_flush(sd_link *l, unsigned dirs)
{
	if (host_of_link(l)->gone)
		return gone(l);
	return keep_why(l, sd_link_flush(host_of_link(l)->fault, dirs));
}

static int sim_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	if (host_of_link(l)->gone)
		return gone(l);
	return keep_why(l, sd_link_set_cfg(host_of_link(l)->fault, cfg));
}

static int sim_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	sim_host *h = host_of_link(l);
	if (h->gone)
		return gone(l);
	/* the change that makes the device leave the bus went out: it
	 * succeeds; the calls after it fail */
	int e = keep_why(l, sd_link_set_lines(h->fault, mask, level));
	/* The device sees every change, not only the last of a burst: two
	 * writes in a row (DTR, then RTS) are two edges on a board, and the
	 * window between them is what an auto-reset circuit races (ESP). */
	if (e == SD_OK && h->started)
		pump(h, h->t);
	return e;
}

static int sim_get_lines(sd_link *l, unsigned *level)
{
	if (host_of_link(l)->gone)
		return gone(l);
	return keep_why(l, sd_link_get_lines(host_of_link(l)->fault, level));
}

static int sim_break(sd_link *l, sd_time d)
{
	if (host_of_link(l)->gone)
		return gone(l);
	return keep_why(l, sd_link_break(host_of_link(l)->fault, d));
}

/* Open the port again: a fresh handle, nothing in flight. While the
 * device is off the bus the node is not there ("no such device"); a port
 * disconnected for good (disconnect_after, a device that left for good)
 * never comes back. */
static int sim_reopen(sd_link *l, sd_deadline dl)
{
	sim_host *h = host_of_link(l);
	(void)dl;
	if (h->host.closed || (!h->gone && h->fault->sticky))
		return sdi_link_fail(l, SD_ERR_NOTFOUND, "no such device (the simulated port is gone for good)");
	if (h->gone && h->t < h->back_at)
		return sdi_link_fail(l, SD_ERR_NOTFOUND, "no such device (the port is off the USB bus: re-enumerating)");
	h->gone = 0;
	sd_link_clear_error(h->fault);
	sd_link_clear_error(&h->host.base);
	sd_link_flush(h->fault, SD_FLUSH_IN); /* and what the fault layer holds */
	h->host.head = h->host.count = 0;
	h->dev.head = h->dev.count = 0;
	sd_simlog_add(&h->d->log, h->t, 0, "usb: port reopened", 0);
	return SD_OK;
}

static void sim_close(sd_link *l)
{
	sim_host *h = host_of_link(l);
	sd_link_close(h->fault); /* closes the host end of the pair too */
	free(h);
}

static const sd_link_ops sd_link_sim_ops = {
	.version = SD_LINK_OPS_V2,
	.name = "sim",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES |
		SD_LINK_BREAK | SD_LINK_VIRTUAL,
	.read = sim_read,
	.write = sim_write,
	.flush = sim_flush,
	.set_cfg = sim_set_cfg,
	.set_lines = sim_set_lines,
	.get_lines = sim_get_lines,
	.send_break = sim_break,
	.close = sim_close,
	.reopen = sim_reopen,
};

sd_sim_device *sd_sim_device_of(sd_link *l)
{
	if (!l || l->ops != &sd_link_sim_ops)
		return NULL;
	return host_of_link(l)->d;
}

/* ---- options: the host's fault keys vs the device's own ------------- */

static int host_key(const sd_kv *kv, sd_fault_cfg *fc, int *is_host, char *why, size_t whylen)
{
	const char *k = kv->key, *v = kv->val;
	uint32_t u;
	double x;
	*is_host = 1;
	if (strcmp(k, "noise") == 0) {
		if (sd_parse_double(v, 0, 1, &x) != SD_OK)
			goto bad;
		fc->ber = x;
	} else if (strcmp(k, "seed") == 0) {
		if (sd_parse_u32(v, 0, UINT32_MAX, &u) != SD_OK)
			goto bad;
		fc->seed = u;
	} else if (strcmp(k, "flood") == 0 || strcmp(k, "flood_after") == 0) {
		if (sd_parse_u32(v, 0, 64u << 20, &u) != SD_OK)
			goto bad;
		if (k[5] == '\0')
			fc->flood_before = u;
		else
			fc->flood_after = u;
	} else if (strcmp(k, "flood_kind") == 0) {
		if (strcmp(v, "random") == 0) fc->flood_kind = SD_FLOOD_RANDOM;
		else if (strcmp(v, "text") == 0) fc->flood_kind = SD_FLOOD_TEXT;
		else if (strcmp(v, "zero") == 0) fc->flood_kind = SD_FLOOD_ZERO;
		else if (strcmp(v, "ff") == 0) fc->flood_kind = SD_FLOOD_FF;
		else
			goto bad;
	} else if (strcmp(k, "drop") == 0 || strcmp(k, "dup") == 0) {
		if (sd_parse_double(v, 0, 1, &x) != SD_OK)
			goto bad;
		if (k[1] == 'r')
			fc->drop = x;
		else
			fc->dup = x;
	} else if (strcmp(k, "delay_ms") == 0) {
		if (sd_parse_u32(v, 0, 60000, &u) != SD_OK)
			goto bad;
		fc->delay = SD_MS(u);
	} else if (strcmp(k, "echo") == 0) {
		if (sd_parse_u32(v, 0, 1, &u) != SD_OK)
			goto bad;
		fc->echo = (int)u;
	} else if (strcmp(k, "disconnect_after") == 0) {
		if (sd_parse_u32(v, 1, UINT32_MAX, &u) != SD_OK)
			goto bad;
		fc->disconnect_after = u;
	} else if (strcmp(k, "hang_after_bytes") == 0) {
		if (sd_parse_u32(v, 1, UINT32_MAX, &u) != SD_OK)
			goto bad;
		fc->hang_after = u;
	} else {
		*is_host = 0;
	}
	return SD_OK;
bad:
	sdi_fmt(why, whylen, "sim: bad value '%s' for %s", v, k);
	return SD_ERR_ARG;
}

int sd_sim_fault_keys(const sd_kv *opts, size_t nopts, sd_fault_cfg *fc,
		      sd_kv *dev, size_t *ndev, char *why, size_t whylen)
{
	size_t nd = 0;
	memset(fc, 0, sizeof *fc);
	for (size_t i = 0; i < nopts; i++) {
		int is_host;
		int r = host_key(&opts[i], fc, &is_host, why, whylen);
		if (r)
			return r;
		if (!is_host && nd < SD_URI_MAXQ)
			dev[nd++] = opts[i];
	}
	*ndev = nd;
	return SD_OK;
}

int sd_sim_open(const char *proto, const sd_kv *opts, size_t nopts, sd_link **out,
		char *why, size_t whylen)
{
	if (!out)
		return SD_ERR_ARG;
	*out = NULL;
	const sd_sim_kind *kind = sd_sim_find(proto);
	if (!kind) {
		char list[128] = "";
		for (size_t i = 0; i < sd_sim_count(); i++)
			sdi_append(list, sizeof list, "%s%s", i ? ", " : "", sd_sim_at(i)->name);
		sdi_fmt(why, whylen, "no simulated device '%s' (devices: %s)", proto ? proto : "", list);
		return SD_ERR_ARG;
	}
	sd_fault_cfg fc;
	sd_kv dev[SD_URI_MAXQ];
	size_t ndev = 0;
	int r = sd_sim_fault_keys(opts, nopts, &fc, dev, &ndev, why, whylen);
	if (r)
		return r;

	size_t off = (sizeof(sim_host) + 15u) & ~(size_t)15u;
	sim_host *h = calloc(1, off + kind->size);
	if (!h)
		return SD_ERR_NOMEM;
	h->clock.now = sim_now;
	h->clock.sleep_until = sim_sleep_until;
	h->kind = kind;
	h->d = (sd_sim_device *)(void *)((char *)h + off);
	r = kind->init(h->d, dev, ndev, why, whylen);
	if (r) {
		free(h);
		return r < 0 ? r : SD_ERR_ARG;
	}
	sd_mem_pair(&h->host, &h->dev, &h->clock);
	sd_mem_set_pump(&h->host, host_pump, h);
	fc.device = h->d->cfg;
	r = sd_link_open_fault(&h->host.base, &fc, &h->fault);
	if (r) {
		free(h);
		sdi_fmt(why, whylen, "sim: bad fault settings");
		return r;
	}
	sd_link_init(&h->base, &sd_link_sim_ops, &h->clock);
	h->base.usb_vid = h->d->usb_vid;
	h->base.usb_pid = h->d->usb_pid;
	/* A host port opens at 115200 8N1 until told otherwise. */
	sd_line_cfg host_cfg = SD_LINE_CFG_8N1(115200);
	sd_link_set_cfg(&h->base, &host_cfg);
	*out = &h->base;
	return SD_OK;
}
