/*
 * libFuzzer target: the byte classifier and the explainer, on arbitrary
 * received bytes. The first byte picks the context (expected protocol, host
 * baud rate, link kind), the second splits "sent" from "received".
 */
#include <stddef.h>
#include <stdint.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t bauds[] = { 0, 9600, 19200, 57600, 115200, 921600, 300, 1500000 };
	if (size < 2)
		return 0;
	uint8_t ctx = data[0];
	size_t split = data[1] % 16u;
	data += 2;
	size -= 2;
	if (split > size)
		split = size;
	const sd_proto *p = (ctx & 0x80) ? sd_proto_at((ctx >> 3) % 8u) : NULL;
	sd_classify_in in = {
		.tx = split ? data : NULL,
		.tx_len = split,
		.rx = data + split,
		.rx_len = size - split,
		.expect = p ? p->name : NULL,
		.host_baud = bauds[ctx & 7u],
		.link_caps = (ctx & 0x40) ? SD_LINK_NET : SD_LINK_BAUD,
		.listen_ms = 1000,
	};
	sd_diag d;
	sd_diag_init(&d);
	sd_diagnose_bytes(&in, &d);
	sd_meaning m[16];
	sd_explain_meanings(in.rx, in.rx_len, m, 16);
	sd_baud_guess g[8];
	sd_baud_guess_pairs(in.rx, in.rx_len, in.host_baud, g, 8);
	return 0;
}
