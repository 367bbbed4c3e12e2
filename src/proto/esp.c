/*
 * shakedown — Espressif ROM loader (SLIP): its reading of unexpected bytes.
 */
#include "internal.h"
#include "esp_wire.h"

static int esp_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	(void)tx;
	(void)tx_len;
	if (n == 0)
		return sdi_say(out, outlen, 0, "esp: no answer (expected a SLIP frame C0 01 ... C0)");
	if (b[0] == ESP_SLIP_END && n >= 2 && b[1] == ESP_DIR_RESPONSE)
		return sdi_say(out, outlen, 90, "esp: C0 01 = a SLIP response frame: the Espressif ROM loader answers");
	if (b[0] == ESP_SLIP_END)
		return sdi_say(out, outlen, 40, "esp: 0xC0 = SLIP frame delimiter");
	return sdi_say(out, outlen, 0, "esp: 0x%02x does not start a SLIP frame (expected C0)", b[0]);
}

const sd_proto sdi_proto_esp = {
	.name = "esp",
	.title = "Espressif ROM loader (SLIP)",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.expects = "a SLIP response frame C0 01 08 ... C0 to SYNC",
	.explain = esp_explain,
};
