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
	static const uint32_t rates[4] = { 115200, 57600, 19200, 9600 };
	drive_device(&d->eng, data, size, 2, rates, 40u);
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
