/*
 * libFuzzer target: the Telnet / RFC 2217 decoder (src/core/telnet.c), fed
 * what a remote port server might send. Invariants: every call consumes or
 * reports progress (no endless loop), data never exceeds the room given,
 * a subnegotiation never exceeds SD_TELNET_SB_MAX, an error is sticky, and
 * re-escaping the decoded data decodes back to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_telnet t;
	sd_telnet_init(&t);
	uint8_t out[4096];
	size_t total = 0, at = 0;
	/* a small output window (1..16 bytes, from the first byte) exercises
	 * the "out is full" stops, IAC IAC split across calls included */
	size_t room = size ? (size_t)(data[0] % 16) + 1 : 1;
	while (at < size) {
		size_t got = 0;
		sd_telnet_ev ev;
		size_t cap = room < sizeof out - total ? room : sizeof out - total;
		if (cap == 0)
			break;
		int r = sd_telnet_feed(&t, data + at, size - at, out + total, cap, &got, &ev);
		if (r < 0) {
			sd_telnet_ev ev2;
			if (sd_telnet_feed(&t, data, size, out, sizeof out, &got, &ev2) != r)
				__builtin_trap(); /* sticky */
			break;
		}
		if (got > cap || (size_t)r > size - at)
			__builtin_trap();
		if (r == 0 && got == 0 && ev.kind == SD_TN_EV_NONE)
			__builtin_trap(); /* no progress */
		if (ev.kind == SD_TN_EV_SUBNEG && ev.len + 1 > SD_TELNET_SB_MAX)
			__builtin_trap();
		if (ev.kind == SD_TN_EV_SUBNEG && ev.opt == SD_TN_OPT_COMPORT && ev.len)
			(void)sd_telnet_comport_name(ev.data[0]);
		total += got;
		at += (size_t)r;
	}
	/* round trip: escape what was decoded and decode it again */
	static uint8_t esc[8192], back[4096];
	size_t used = 0;
	size_t n = sd_telnet_escape(out, total, esc, sizeof esc, &used);
	if (used != total)
		__builtin_trap();
	sd_telnet_init(&t);
	size_t got = 0;
	sd_telnet_ev ev;
	int r = sd_telnet_feed(&t, esc, n, back, sizeof back, &got, &ev);
	if (r != (int)n || got != total || memcmp(back, out, total) != 0 || ev.kind != SD_TN_EV_NONE)
		__builtin_trap();
	(void)sd_telnet_looks_like(data, size);
	return 0;
}
