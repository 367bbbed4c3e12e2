/*
 * Fuzz target for the Espressif row's readings of received bytes: its
 * explain hook and its diagnose hook (the ROM boot banner: rst:/boot:
 * modes, ESP8266's "boot mode:(x,y)", boot loops), alone and through the
 * diagnosis layer. Byte 0 picks what was sent before (nothing, SYNC-like,
 * a 0x7F) and the link kind.
 */
#include <stdint.h>
#include <stdlib.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sync[] = { 0xc0, 0x00, 0x08, 0x24, 0x00 };
	static const uint8_t stm[] = { 0x7f };
	const sd_proto *p = sd_proto_find("esp");
	if (!p || !p->explain || !p->diagnose)
		abort();
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *tx = (ctl & 3) == 1 ? sync : (ctl & 3) == 2 ? stm : NULL;
	size_t tx_len = (ctl & 3) == 1 ? sizeof sync : (ctl & 3) == 2 ? sizeof stm : 0;
	sd_classify_in in = { .rx = data + 1, .rx_len = size - 1, .tx = tx, .tx_len = tx_len,
			      .host_baud = (ctl & 4) ? 74880 : 115200,
			      .link_caps = (ctl & 8) ? SD_LINK_NET : SD_LINK_BAUD, .listen_ms = 300 };
	char line[200];
	int likely = p->explain(in.rx, in.rx_len, tx, tx_len, line, sizeof line);
	if (likely < 0 || likely > 100)
		abort();
	sd_diag d;
	sd_diag_init(&d);
	unsigned claims = p->diagnose(&in, &d);
	if (claims & ~(SD_CLAIM_FRAMED | SD_CLAIM_BOOTLOG))
		abort();
	if (d.n > SD_DIAG_MAX)
		abort();
	sd_diag_init(&d);
	sd_diagnose_bytes(&in, &d);
	return 0;
}
