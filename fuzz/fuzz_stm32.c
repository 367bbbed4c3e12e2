/*
 * Fuzz target for the STM32 module, both roles:
 *   data[0] even: the client session (sync + info) reads `data` as the
 *     device's bytes: chunks of (delay in 4 ms units, length, bytes), on a
 *     fake clock, over a link without parity (so the 8N1 fallback runs too);
 *   data[0] odd: the simulated STM32 reads `data` as the host's bytes:
 *     data[1] picks mode and loader version, then chunks of (length, bytes)
 *     are written and whatever the device answers is read.
 * Any crash, sanitizer report or hang is the failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"

typedef struct feed_link {
	sd_link        base;
	sd_fake_clock  fc;
	const uint8_t *d;
	size_t         n, off;
	sd_time        next_t;   /* when the next chunk arrives */
	size_t         chunk;    /* bytes left in the current chunk */
} feed_link;

/* Start the next chunk: its delay and length from the input. */
static int next_chunk(feed_link *f)
{
	if (f->off + 2 > f->n)
		return 0;
	f->next_t = sd_now(&f->fc.base) + SD_MS(4) * f->d[f->off];
	f->chunk = f->d[f->off + 1];
	f->off += 2;
	if (f->chunk > f->n - f->off)
		f->chunk = f->n - f->off;
	return f->chunk > 0 || next_chunk(f);
}

static int feed_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	feed_link *f = (feed_link *)l;
	sd_time now = sd_now(&f->fc.base);
	if (f->chunk == 0 && !next_chunk(f)) {
		if (dl != SD_FOREVER && dl > now)
			sd_fake_clock_set(&f->fc, dl);
		return SD_ERR_TIMEOUT;
	}
	if (f->next_t > dl) {
		if (dl != SD_FOREVER && dl > now)
			sd_fake_clock_set(&f->fc, dl);
		return SD_ERR_TIMEOUT;
	}
	if (f->next_t > now)
		sd_fake_clock_set(&f->fc, f->next_t);
	size_t k = f->chunk < len ? f->chunk : len;
	memcpy(buf, f->d + f->off, k);
	f->off += k;
	f->chunk -= k;
	return (int)k;
}

static int feed_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	(void)l; (void)buf; (void)dl;
	return (int)len;
}

static int feed_lines(sd_link *l, unsigned mask, unsigned level)
{
	(void)l; (void)mask; (void)level;
	return SD_OK;
}

static void feed_close(sd_link *l)
{
	(void)l;
}

static const sd_link_ops feed_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "fuzz",
	.caps = SD_LINK_BYTES | SD_LINK_LINES,
	.read = feed_read,
	.write = feed_write,
	.set_lines = feed_lines,
	.close = feed_close,
};

static void client(const uint8_t *data, size_t size)
{
	static feed_link f;
	static sd_report r;
	static _Alignas(16) unsigned char ctx[1 << 16];
	const sd_proto *p = sd_proto_find("stm32");
	if (!p || !p->session || p->ctx_size > sizeof ctx)
		abort();
	memset(&f, 0, sizeof f);
	sd_fake_clock_init(&f.fc, 0);
	sd_link_init(&f.base, &feed_ops, &f.fc.base);
	f.d = data;
	f.n = size;
	sd_seq enter;
	char why[64];
	sd_seq_parse("boot0=rts:high,nrst=dtr:pulse-low:5ms", 38, &enter, why, sizeof why);
	sd_proto_args a = { .identify = 1, .enter = (data[0] & 2) ? &enter : NULL, .exit = NULL,
			    .retries = (data[0] >> 2) & 3 };
	memset(ctx, 0, p->ctx_size);
	sd_report_init(&r, "info", "fuzz");
	p->session(ctx, &f.base, &a, &r);
	sd_diag_sort(&r.diag);
	/* every finding's evidence must be readable */
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < r.diag.n; i++) {
		for (size_t k = 0; k < r.diag.f[i].rcvd_len; k++)
			sink ^= r.diag.f[i].rcvd[k];
		for (size_t k = 0; k < r.diag.f[i].sent_len; k++)
			sink ^= r.diag.f[i].sent[k];
	}
	(void)sink;
}

static void device(const uint8_t *data, size_t size)
{
	static const char *const modes[] = { "bootloader", "rdp", "glitch", "8n1", "app", "echo", "nack", "silent" };
	char uri[96];
	uint8_t sel = size > 1 ? data[1] : 0;
	snprintf(uri, sizeof uri, "sim:stm32?mode=%s&blver=%s&flash_kb=%u%s", modes[sel & 7],
		 (sel & 8) ? "2.2" : "3.1", 1u + ((sel >> 4) & 7) * 16u, (sel & 0x80) ? "&drop_parity=1" : "");
	sd_link *l = NULL;
	if (sd_link_open(uri, NULL, &l, NULL, 0) != SD_OK)
		abort();
	sd_line_cfg c = SD_LINE_CFG_8E1(115200);
	sd_link_set_cfg(l, &c);
	uint8_t buf[512];
	size_t off = 2;
	while (off < size) {
		size_t k = data[off++];
		if (k > size - off)
			k = size - off;
		if (k && sd_link_write_all(l, data + off, k, sd_deadline_in(l->clock, SD_S(1))) != SD_OK)
			break;
		off += k;
		if (k == 0) /* a zero-length chunk toggles the reset line */
			sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, (unsigned)(off & 3));
		while (sd_link_read(l, buf, sizeof buf, sd_deadline_in(l->clock, SD_MS(5))) > 0)
			;
	}
	sd_link_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || size > 65536)
		return 0;
	if (data[0] & 1)
		device(data, size);
	else
		client(data, size);
	return 0;
}
