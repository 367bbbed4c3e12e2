/*
 * Fuzz target for the Espressif module's engines, both directions:
 *   byte 0 bit 0 = 0: arbitrary device bytes into the client session (sync,
 *     or sync and read-only identification; with or without resets),
 *     through a link that hands out the input in timed chunks on a fake
 *     clock (chunk_link.h);
 *   byte 0 bit 0 = 1: arbitrary host bytes into the simulated ESP (chip and
 *     mode picked by byte 1), with DTR/RTS changes, rate changes and time
 *     passing picked by the input.
 * Bounded: the session has a virtual budget, the device a step limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"
#include "chunk_link.h"

static void fuzz_client(const uint8_t *data, size_t size)
{
	static chunk_link rl;
	static sd_report rep;
	const sd_proto *p = sd_proto_find("esp");
	if (!p || !p->session)
		abort();
	chunk_link_init(&rl, &chunk_serial_ops, data + 1, size - 1);
	void *ctx = calloc(1, p->ctx_size);
	if (!ctx)
		return;
	sd_proto_args a = { .identify = (data[0] & 2) ? 1 : 0, .budget = SD_S(20),
			    .no_reset = (data[0] & 4) ? 1 : 0 };
	sd_report_init(&rep, "sync", "fuzz");
	p->session(ctx, &rl.base, &a, &rep);
	sd_diag_sort(&rep.diag);
	touch_evidence(&rep);
	free(ctx);
}

static void fuzz_device(const uint8_t *data, size_t size)
{
	const sd_sim_kind *k = sd_sim_find("esp");
	if (!k)
		abort();
	sd_sim_device *d = calloc(1, k->size);
	if (!d)
		return;
	static const char *const modes[] = { "download", "app", "bootloop", "brownout",
					     "usb", "sdm", "silent", "echo" };
	static const char *const chips[] = { "esp32", "esp32s3", "esp32c3", "esp8266" };
	sd_kv kv[3];
	memset(kv, 0, sizeof kv);
	strcpy(kv[0].key, "mode");
	strcpy(kv[0].val, modes[size > 1 ? (data[1] & 7) : 0]);
	strcpy(kv[1].key, "chip");
	strcpy(kv[1].val, chips[size > 1 ? (data[1] >> 3) & 3 : 0]);
	strcpy(kv[2].key, "lag_ms");
	strcpy(kv[2].val, size > 1 && (data[1] & 0x20) ? "20" : "0");
	char why[160];
	if (k->init(d, kv, 3, why, sizeof why) != SD_OK)
		abort();
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 0);
	sd_engine *e = &d->eng;
	e->clock = &fc.base;
	e->link_caps = SD_LINK_BYTES | SD_LINK_LINES;
	sd_event ev = { .type = SD_EV_START };
	e->ops->step(e, &ev);
	size_t i = 2;
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
				i++;
			} else {
				uint8_t op = data[i++];
				if (op < 0x10) { /* DTR/RTS */
					ev.type = SD_EV_LINES;
					ev.lines = op & 3u;
				} else if (op < 0x14) {
					static const uint32_t rates[] = { 115200, 74880, 9600, 921600 };
					ev.type = SD_EV_CFG;
					ev.cfg = SD_LINE_CFG_8N1(rates[op & 3]);
				} else if (op < 0x20) {
					sd_fake_clock_advance(&fc, (sd_time)(op - 0x14) * 20000);
					if (e->deadline != SD_FOREVER && sd_now(&fc.base) >= e->deadline)
						ev.type = SD_EV_TIMEOUT;
					else
						continue;
				} else {
					size_t n = (size_t)(op - 0x20) % 64u + 1u;
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
			break;
		}
		e->ops->step(e, &ev);
	}
	if (d->log.destructive > d->log.total)
		abort();
	free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (size > 4096)
		size = 4096;
	if (data[0] & 1)
		fuzz_device(data, size);
	else
		fuzz_client(data, size);
	return 0;
}
