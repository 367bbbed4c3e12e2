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

/* Read the hex number after "boot:0x" in an ESP32-family ROM line. */
static int esp32_boot(const uint8_t *b, size_t n, unsigned *mode)
{
	const uint8_t *p = sdi_find(b, n, "boot:0x");
	if (!p)
		return 0;
	const uint8_t *end = b + n;
	unsigned v = 0;
	int digits = 0;
	for (p += 7; p < end && digits < 4; p++, digits++) {
		int x = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
		if (x < 0)
			break;
		v = v * 16 + (unsigned)x;
	}
	if (!digits)
		return 0;
	*mode = v;
	return 1;
}

static sd_finding *add(sd_diag *d, sd_cause c, float conf, const sd_classify_in *in)
{
	sd_finding *f = sd_diag_add(d, c, conf);
	if (f)
		sd_finding_evidence(f, in->tx, in->tx_len, in->rx, in->rx_len);
	return f;
}

/* The ROM's boot banner: which mode the straps chose, and boot loops. */
static unsigned esp_diagnose(const sd_classify_in *in, sd_diag *d)
{
	const uint8_t *b = in->rx;
	size_t n = b ? in->rx_len : 0, banners = 0;
	unsigned mode;
	sd_finding *f;
	if (n == 0 || sdi_text_count(b, n) * 10 < n * 5)
		return 0;
	if (esp32_boot(b, n, &mode)) {
		/* The ROM names the mode in brackets: DOWNLOAD(...) is the serial
		 * loader, SPI_FAST_FLASH_BOOT and friends run the firmware. */
		int download = sdi_find(b, n, "DOWNLOAD") != NULL;
		banners = sdi_count_of(b, n, "rst:0x");
		f = add(d, SD_CAUSE_BOOT_LOG, 0.9f, in);
		if (f) {
			sd_finding_summary(f, "an Espressif ROM boot log (boot:0x%x, %s)", mode,
					   download ? "download mode: the serial loader is waiting"
						    : "flash boot: the firmware runs, not the serial loader");
			sd_finding_detail(f, "ESP32-family ROM line: rst:... boot:0x%x", mode);
		}
		if (!download) {
			f = add(d, SD_CAUSE_WRONG_BOOT_MODE, 0.92f, in);
			if (f) {
				sd_finding_summary(f, "the ESP booted from flash (boot:0x%x), not into its download mode", mode);
				sd_finding_fix(f, "hold GPIO0 (BOOT) low while you reset the board, or let the tool's DTR/RTS auto-reset do it");
			}
		}
	} else if (sdi_find(b, n, "rst cause:") && sdi_find(b, n, "boot mode:(")) {
		/* ESP8266: boot mode:(X,Y), X = 1 UART download, 3 flash */
		const uint8_t *p = sdi_find(b, n, "boot mode:(") + 11;
		unsigned x = (p < b + n && *p >= '0' && *p <= '9') ? (unsigned)(*p - '0') : 9;
		banners = sdi_count_of(b, n, "rst cause:");
		f = add(d, SD_CAUSE_BOOT_LOG, 0.9f, in);
		if (f)
			sd_finding_summary(f, "an ESP8266 ROM boot log (boot mode %u: %s)", x,
					   x == 1 ? "UART download: the loader is waiting" : "flash boot: the firmware runs");
		if (x != 1) {
			f = add(d, SD_CAUSE_WRONG_BOOT_MODE, 0.92f, in);
			if (f) {
				sd_finding_summary(f, "the ESP8266 booted from flash (boot mode %u), not into UART download", x);
				sd_finding_fix(f, "hold GPIO0 low while you reset the board");
			}
		}
	} else {
		return 0;
	}
	if (banners >= 2) {
		f = add(d, SD_CAUSE_BOOTLOOP, 0.94f, in);
		if (f)
			sd_finding_summary(f, "the device booted %zu times while we listened: it is in a boot loop", banners);
	}
	return SD_CLAIM_BOOTLOG;
}

const sd_proto sdi_proto_esp = {
	.name = "esp",
	.title = "Espressif ROM loader (SLIP)",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.expects = "a SLIP response frame C0 01 08 ... C0 to SYNC",
	.explain = esp_explain,
	.diagnose = esp_diagnose,
	.poke_order = 40,
};
