/*
 * Fuzz target for the STK500v1 module, both directions:
 *   byte 0 bit 0 = 0: arbitrary device bytes into the client session (sync
 *     and info), through a link that hands out the input in chunks on a fake
 *     clock and jumps to the deadline when the input runs out;
 *   byte 0 bit 0 = 1: arbitrary host bytes into the simulated optiboot board,
 *     with resets, rate changes and time passing picked by the input.
 * Bounded: the session has a virtual budget, the device a step limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"
#include "chunk_link.h"

/* ---- the device's bytes: the input in timed chunks (chunk_link.h) ---- */

static void fuzz_client(const uint8_t *data, size_t size)
{
	static chunk_link rl;
	static sd_report rep;
	const sd_proto *p = sd_proto_find("stk500");
	if (!p || !p->session)
		abort();
	chunk_link_init(&rl, &chunk_serial_ops, data, size);
	void *ctx = calloc(1, p->ctx_size);
	if (!ctx)
		return;
	sd_proto_args a = { .identify = (size && (data[0] & 2)) ? 1 : 0, .budget = SD_S(20),
			    .part = (size && (data[0] & 4)) ? "m328p" : NULL,
			    .no_reset = (size && (data[0] & 8)) ? 1 : 0 };
	sd_report_init(&rep, "sync", "fuzz");
	p->session(ctx, &rl.base, &a, &rep);
	sd_diag_sort(&rep.diag);
	/* evidence must lie inside ctx or be a constant: touch it all */
	touch_evidence(&rep);
	free(ctx);
}

/* ---- host bytes into the simulated board ------------------------------ */

static void fuzz_device(const uint8_t *data, size_t size)
{
	const sd_sim_kind *k = sd_sim_find("stk500");
	if (!k)
		abort();
	sd_sim_device *d = calloc(1, k->size);
	if (!d)
		return;
	static const char *const modes[] = { "bootloader", "old", "stk500v2", "caterina",
					     "echo", "noreset", "app", "silent" };
	sd_kv kv[2];
	memset(kv, 0, sizeof kv);
	strcpy(kv[0].key, "mode");
	strcpy(kv[0].val, modes[size > 1 ? (data[1] & 7) : 0]);
	strcpy(kv[1].key, "version");
	strcpy(kv[1].val, size > 1 && (data[1] & 8) ? "4.4" : "8.3");
	char why[160];
	if (k->init(d, kv, 2, why, sizeof why) != SD_OK)
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
				i++; /* at most one more timeout after the input */
			} else {
				uint8_t op = data[i++];
				if (op < 0x10) { /* a reset edge or release */
					ev.type = SD_EV_LINES;
					ev.lines = op & 3u;
				} else if (op < 0x14) { /* the host changes its rate */
					static const uint32_t rates[] = { 115200, 57600, 19200, 9600 };
					ev.type = SD_EV_CFG;
					ev.cfg = SD_LINE_CFG_8N1(rates[op & 3]);
				} else if (op < 0x20) { /* time passes, maybe to the deadline */
					sd_fake_clock_advance(&fc, (sd_time)(op - 0x14) * 20000);
					if (e->deadline != SD_FOREVER && sd_now(&fc.base) >= e->deadline)
						ev.type = SD_EV_TIMEOUT;
					else
						continue;
				} else { /* bytes: length op-0x20 (capped), from the input */
					size_t n = (size_t)(op - 0x20) % 40u + 1u;
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
