/*
 * shakedown — fault: a link that wraps any other and injects faults,
 * deterministically from a seed: bit errors, dropped and doubled bytes,
 * garbage floods before and after the real bytes, latency, echo, a
 * disconnect after N bytes, and a baud-rate or frame mismatch computed bit
 * by bit through the UART model (uart.h), and a device that hangs (its
 * bytes stop after hang_after).
 */
#include <stdlib.h>
#include "internal.h"

#define FAULT_CHUNK   1024u            /* bytes taken from inner per read */
#define FAULT_PENDCAP (6u * FAULT_CHUNK + 64u) /* resampling makes <= 6 per byte */
#define FAULT_ECHOCAP 4096u
#define FAULT_DELAYCAP 8192u           /* bytes in flight on the delay line */
#define FAULT_DELAYCH  64u             /* chunks in flight */

typedef struct fault_link {
	sd_link      base;
	sd_link     *inner;
	sd_fault_cfg cfg;
	uint32_t     rng;
	size_t       before_left, after_left;
	int          saw_real, tripped;
	uint64_t     moved;
	uint8_t      pend[FAULT_PENDCAP];
	size_t       pend_off, pend_len;
	uint8_t      echo[FAULT_ECHOCAP];
	size_t       echo_len;
	/* the delay line: chunks read from inner, each due `delay` after it
	 * arrived (a constant latency, as a USB latency timer or a network
	 * adds, not a stall) */
	uint8_t      dl_buf[FAULT_DELAYCAP];
	size_t       dl_len;
	sd_time      dl_due[FAULT_DELAYCH];
	size_t       dl_size[FAULT_DELAYCH];
	size_t       dl_n;
	uint64_t     from_inner;       /* bytes read from inner since the first write (hang_after) */
	int          wrote;            /* something was written: the session began */
} fault_link;

static fault_link *fl_of(sd_link *l)
{
	return (fault_link *)(void *)l;
}

static const char lorem[] =
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\r\n";

static void garbage(fault_link *f, uint8_t *b, size_t n, size_t base)
{
	for (size_t i = 0; i < n; i++) {
		switch (f->cfg.flood_kind) {
		case SD_FLOOD_TEXT: b[i] = (uint8_t)lorem[(base + i) % (sizeof lorem - 1)]; break;
		case SD_FLOOD_ZERO: b[i] = 0x00; break;
		case SD_FLOOD_FF:   b[i] = 0xff; break;
		default:            b[i] = (uint8_t)sdi_rand(&f->rng); break;
		}
	}
}

static uint8_t flip_bits(uint32_t *rng, uint8_t v, double ber)
{
	if (ber <= 0.0)
		return v;
	for (unsigned i = 0; i < 8; i++)
		if (sdi_rand01(rng) < ber)
			v ^= (uint8_t)(1u << i);
	return v;
}

/* Host and device disagree about the line: bytes must be resampled. */
static int mismatch(const fault_link *f)
{
	const sd_line_cfg *d = &f->cfg.device, *h = &f->base.cfg;
	if (!d->baud || !h->baud)
		return 0;
	return d->baud != h->baud || d->parity != h->parity ||
	       (d->data_bits && h->data_bits && d->data_bits != h->data_bits);
}

static sd_line_cfg filled(sd_line_cfg c)
{
	if (!c.data_bits)
		c.data_bits = 8;
	if (!c.stop_bits)
		c.stop_bits = 1;
	return c;
}

/* Run bytes from the device through the faults into pend. */
static void ingest(fault_link *f, const uint8_t *b, size_t n)
{
	static const uint8_t none = 0;
	uint8_t rs[FAULT_PENDCAP];
	if (mismatch(f)) {
		sd_line_cfg tx = filled(f->cfg.device), rx = filled(f->base.cfg);
		int k = sd_uart_resample(&tx, &rx, b, n, 0, rs, NULL, sizeof rs);
		if (k < 0)
			k = 0;
		n = SDI_MIN((size_t)k, sizeof rs);
		b = n ? rs : &none;
	}
	f->pend_off = 0;
	f->pend_len = 0;
	for (size_t i = 0; i < n && f->pend_len + 2 <= FAULT_PENDCAP; i++) {
		if (f->cfg.drop > 0 && sdi_rand01(&f->rng) < f->cfg.drop)
			continue;
		uint8_t v = flip_bits(&f->rng, b[i], f->cfg.ber);
		f->pend[f->pend_len++] = v;
		if (f->cfg.dup > 0 && sdi_rand01(&f->rng) < f->cfg.dup)
			f->pend[f->pend_len++] = v;
	}
}

static int trip(fault_link *f)
{
	f->tripped = 1;
	return sdi_link_fail(&f->base, SD_ERR_CLOSED,
			     "device disconnected (fault injection after %llu bytes)",
			     (unsigned long long)f->cfg.disconnect_after);
}

/* Bytes left before the injected disconnect (SIZE_MAX when none). */
static size_t allowance(const fault_link *f)
{
	if (!f->cfg.disconnect_after)
		return SIZE_MAX;
	return f->moved >= f->cfg.disconnect_after ? 0 : (size_t)(f->cfg.disconnect_after - f->moved);
}

static int give(fault_link *f, uint8_t *buf, size_t len)
{
	size_t k = SDI_MIN(len, f->pend_len - f->pend_off);
	k = SDI_MIN(k, allowance(f));
	if (k == 0)
		return trip(f);
	memcpy(buf, f->pend + f->pend_off, k);
	f->pend_off += k;
	f->moved += k;
	return (int)k;
}

static int fault_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	fault_link *f = fl_of(l);
	if (f->tripped || allowance(f) == 0)
		return trip(f);
	for (;;) {
		if (f->pend_off < f->pend_len)
			return give(f, buf, len);
		if (f->echo_len) {
			ingest(f, f->echo, f->echo_len);
			f->echo_len = 0;
			continue;
		}
		if (f->before_left && !f->saw_real) {
			size_t k = SDI_MIN(f->before_left, (size_t)FAULT_CHUNK);
			uint8_t g[FAULT_CHUNK];
			garbage(f, g, k, f->cfg.flood_before - f->before_left);
			f->before_left -= k;
			f->pend_off = 0;
			f->pend_len = k; /* a flood is the garbage itself: no further faults */
			memcpy(f->pend, g, k);
			continue;
		}
		if (f->dl_n && f->dl_due[0] <= sd_now(l->clock)) {
			/* the oldest chunk in flight has arrived */
			size_t k = f->dl_size[0];
			uint8_t tmp[FAULT_CHUNK];
			memcpy(tmp, f->dl_buf, k);
			memmove(f->dl_buf, f->dl_buf + k, f->dl_len - k);
			f->dl_len -= k;
			memmove(f->dl_due, f->dl_due + 1, (f->dl_n - 1) * sizeof f->dl_due[0]);
			memmove(f->dl_size, f->dl_size + 1, (f->dl_n - 1) * sizeof f->dl_size[0]);
			f->dl_n--;
			ingest(f, tmp, k);
			continue;
		}
		uint8_t tmp[FAULT_CHUNK];
		size_t want = sizeof tmp;
		sd_deadline until = dl;
		if (f->cfg.delay > 0) {
			if (f->dl_n)
				until = SDI_MIN(until, f->dl_due[0]);
			want = SDI_MIN(want, FAULT_DELAYCAP - f->dl_len);
			if (want == 0 || f->dl_n == FAULT_DELAYCH) {
				/* the line is full: wait for its oldest chunk */
				sd_link_sleep_until(f->inner, until);
				if (f->dl_due[0] > sd_now(l->clock))
					return SD_ERR_TIMEOUT;
				continue;
			}
		}
		int n = sd_link_read(f->inner, tmp, want, until);
		if (n == SD_ERR_TIMEOUT && f->dl_n && (until < dl || f->dl_due[0] <= sd_now(l->clock)))
			continue; /* not the caller's deadline: a chunk is due */
		if (n == SD_ERR_TIMEOUT && f->after_left && f->saw_real) {
			size_t k = SDI_MIN(f->after_left, (size_t)FAULT_CHUNK);
			garbage(f, f->pend, k, f->cfg.flood_after - f->after_left);
			f->after_left -= k;
			f->pend_off = 0;
			f->pend_len = k;
			continue;
		}
		if (n < 0) {
			if (n != SD_ERR_TIMEOUT)
				sdi_fmt(l->why, sizeof l->why, "%s", sd_link_why(f->inner, n));
			return n;
		}
		f->saw_real = 1;
		if (f->cfg.hang_after && f->wrote) {
			/* the device has hung: what it sends after the first
			 * hang_after bytes of the session (from our first write
			 * on; a board's text before it does not count) never
			 * arrives */
			uint64_t left = f->from_inner >= f->cfg.hang_after ? 0 : f->cfg.hang_after - f->from_inner;
			f->from_inner += (uint64_t)n;
			if ((uint64_t)n > left)
				n = (int)left;
			if (n == 0)
				continue;
		}
		if (f->cfg.delay > 0) {
			memcpy(f->dl_buf + f->dl_len, tmp, (size_t)n);
			f->dl_len += (size_t)n;
			f->dl_due[f->dl_n] = sd_now(l->clock) + f->cfg.delay;
			f->dl_size[f->dl_n++] = (size_t)n;
			continue;
		}
		ingest(f, tmp, (size_t)n);
		/* A resampled or fully dropped chunk may leave nothing: read on. */
	}
}

static int fault_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	fault_link *f = fl_of(l);
	size_t allow = allowance(f);
	if (f->tripped || allow == 0)
		return trip(f);
	len = SDI_MIN(len, SDI_MIN(allow, (size_t)FAULT_CHUNK));
	uint8_t tmp[FAULT_CHUNK];
	for (size_t i = 0; i < len; i++)
		tmp[i] = flip_bits(&f->rng, buf[i], f->cfg.ber_tx);
	int n = sd_link_write(f->inner, tmp, len, dl);
	if (n < 0) {
		if (n != SD_ERR_TIMEOUT)
			sdi_fmt(l->why, sizeof l->why, "%s", sd_link_why(f->inner, n));
		return n;
	}
	if (f->cfg.echo) {
		size_t k = SDI_MIN((size_t)n, FAULT_ECHOCAP - f->echo_len);
		memcpy(f->echo + f->echo_len, tmp, k);
		f->echo_len += k;
	}
	f->moved += (size_t)n;
	f->wrote = 1;
	return n;
}

static int fault_flush(sd_link *l, unsigned dirs)
{
	fault_link *f = fl_of(l);
	if (dirs & SD_FLUSH_IN) {
		f->pend_off = f->pend_len = 0;
		f->echo_len = 0;
	}
	int r = sd_link_flush(f->inner, dirs);
	return r == SD_ERR_UNSUPPORTED ? SD_OK : r;
}

static int fault_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	return sd_link_set_cfg(fl_of(l)->inner, cfg);
}

static int fault_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	return sd_link_set_lines(fl_of(l)->inner, mask, level);
}

static int fault_get_lines(sd_link *l, unsigned *level)
{
	return sd_link_get_lines(fl_of(l)->inner, level);
}

static int fault_break(sd_link *l, sd_time d)
{
	return sd_link_break(fl_of(l)->inner, d);
}

static void fault_close(sd_link *l)
{
	fault_link *f = fl_of(l);
	sd_link_close(f->inner);
	free(f);
}

static const sd_link_ops sd_link_fault_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "fault",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES | SD_LINK_BREAK,
	.read = fault_read,
	.write = fault_write,
	.flush = fault_flush,
	.set_cfg = fault_set_cfg,
	.set_lines = fault_set_lines,
	.get_lines = fault_get_lines,
	.send_break = fault_break,
	.close = fault_close,
};

int sd_link_open_fault(sd_link *inner, const sd_fault_cfg *cfg, sd_link **out)
{
	if (!inner || !cfg || !out)
		return SD_ERR_ARG;
	*out = NULL;
	if (cfg->ber < 0 || cfg->ber > 1 || cfg->ber_tx < 0 || cfg->ber_tx > 1 ||
	    cfg->drop < 0 || cfg->drop > 1 || cfg->dup < 0 || cfg->dup > 1 || cfg->delay < 0)
		return SD_ERR_ARG;
	fault_link *f = calloc(1, sizeof *f);
	if (!f)
		return SD_ERR_NOMEM;
	sd_link_init(&f->base, &sd_link_fault_ops, inner->clock);
	f->base.caps = inner->caps;
	f->base.usb_vid = inner->usb_vid;
	f->base.usb_pid = inner->usb_pid;
	f->base.cfg = inner->cfg;
	f->inner = inner;
	f->cfg = *cfg;
	f->rng = sdi_seed(cfg->seed);
	f->before_left = cfg->flood_before;
	f->after_left = cfg->flood_after;
	*out = &f->base;
	return SD_OK;
}
