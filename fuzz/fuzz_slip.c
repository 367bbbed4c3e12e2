/*
 * libFuzzer target: the Espressif SLIP codec (src/proto/esp_wire.h) and the
 * response parser, the parsers of every byte an ESP sends the client.
 * Byte 0 picks the decoder's buffer size (1..64, or 128); then:
 *   - no frame is longer than the buffer, and bytes never land past it;
 *   - every frame decoded re-encodes and decodes to the same bytes;
 *   - esp_parse_resp accepts a frame only when its size field fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../src/proto/esp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t cap = (data[0] & 0x40) ? 128 : (size_t)(data[0] & 0x3F) + 1;
	uint8_t buf[128 + 1];
	uint8_t wire[2 * 128 + 2], again[128];
	buf[cap] = 0xA5; /* a guard byte just past the buffer */
	esp_slip s, t;
	esp_slip_reset(&s);
	for (size_t i = 1; i < size; i++) {
		int k = esp_slip_feed(&s, buf, cap, data[i]);
		if (s.n > cap || buf[cap] != 0xA5)
			__builtin_trap();
		if (k != ESP_SLIP_FRAME)
			continue;
		size_t n = s.n;
		size_t w = esp_slip_encode(buf, n, wire, sizeof wire);
		if (w < n + 2)
			__builtin_trap(); /* always fits: at most 2n + 2 */
		esp_slip_reset(&t);
		int got = 0;
		for (size_t j = 0; j < w; j++) {
			int r = esp_slip_feed(&t, again, sizeof again, wire[j]);
			if (r == ESP_SLIP_FRAME) {
				got = 1;
				if (j + 1 != w || t.n != n || memcmp(again, buf, n) != 0)
					__builtin_trap();
			} else if (r != ESP_SLIP_MORE) {
				__builtin_trap();
			}
		}
		if (!got && n)
			__builtin_trap();
		esp_resp rp;
		if (esp_parse_resp(buf, n, &rp) && (rp.len + ESP_HDR_LEN != n || rp.data != buf + ESP_HDR_LEN))
			__builtin_trap();
	}
	return 0;
}
