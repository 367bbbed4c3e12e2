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
	static const uint32_t rates[4] = { 115200, 74880, 9600, 921600 };
	drive_device(&d->eng, data, size, 2, rates, 64u);
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
