/*
 * Fuzz target: arbitrary "device" bytes into the MediaTek client engine
 * (handshake, resync, echo/DA/bootloop detection, the read-only queries and
 * their length-prefixed IDs), then the report built from what it saw
 * (with the chip named from src/proto/mtk_chips.c by the hw code read).
 *
 * Input: byte 0 bit 0 = identify (info vs sync); then records: a control
 * byte c followed by the bytes of one read. c = 0xFF: the read times out;
 * 0xFE: the port vanishes; otherwise (c % 64) + 1 bytes arrive (fewer if
 * the engine asks for fewer: the rest carry into the next read). When the
 * input ends every read times out, so the engine must give up by itself.
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "shakedown/shakedown.h"
#include "proto/mtk_wire.h"

#define MAX_STEPS 20000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(16) uint8_t ctx[1 << 14];
	static sd_report r;
	if (sdi_mtk_client_size() > sizeof ctx)
		return 0;
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 0);
	size_t pos = 0;
	int identify = size > 0 ? (data[pos++] & 1) : 0;
	sd_engine *e = sdi_mtk_client_init(ctx, identify, 0);
	e->clock = &fc.base;
	sd_event ev = { .type = SD_EV_START };
	e->ops->step(e, &ev);
	size_t carry = 0; /* bytes of the current record not yet delivered */

	for (unsigned steps = 0; steps < MAX_STEPS; steps++) {
		unsigned st = e->state;
		if (st & (SD_ENG_DONE | SD_ENG_FAILED))
			break;
		memset(&ev, 0, sizeof ev);
		if (st & SD_ENG_CTRL) {
			ev.type = SD_EV_CTRL_DONE;
		} else if (st & SD_ENG_SEND) {
			if (e->tx_len == 0 || e->tx == NULL)
				__builtin_trap();
			sd_fake_clock_advance(&fc, 100);
			ev.type = SD_EV_SENT;
			ev.n = e->tx_len;
		} else if (st & SD_ENG_RECV) {
			if (e->rx_cap == 0 || e->rx == NULL)
				__builtin_trap();
			if (carry == 0 && pos < size) {
				uint8_t c = data[pos++];
				if (c == 0xFE) {
					ev.type = SD_EV_LINK_ERROR;
					ev.err = SD_ERR_CLOSED;
					e->ops->step(e, &ev);
					continue;
				}
				if (c != 0xFF)
					carry = (size_t)(c % 64) + 1;
			}
			size_t n = carry;
			if (n > size - pos)
				n = size - pos;
			if (n > e->rx_cap)
				n = e->rx_cap;
			if (n == 0) {
				carry = 0;
				if (e->deadline != SD_FOREVER)
					sd_fake_clock_set(&fc, e->deadline);
				else
					sd_fake_clock_advance(&fc, 1000000);
				ev.type = SD_EV_TIMEOUT;
			} else {
				memcpy(e->rx, data + pos, n);
				pos += n;
				carry -= n;
				sd_fake_clock_advance(&fc, 50);
				ev.type = SD_EV_RECEIVED;
				ev.n = n;
			}
		} else {
			break;
		}
		e->ops->step(e, &ev);
	}
	sd_report_init(&r, identify ? "info" : "sync", "fuzz");
	sdi_mtk_client_report(ctx, &r);
	sd_diag_sort(&r.diag);
	return 0;
}
