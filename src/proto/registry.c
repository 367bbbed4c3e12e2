/*
 * shakedown — the protocol table: one row per protocol module, and each
 * protocol's own reading of bytes it did not expect. `probe` and `explain`
 * only walk this table.
 */
#include "internal.h"
#include "esp_wire.h"
#include "mtk_wire.h"
#include "stk500_wire.h"
#include "stm32_wire.h"
#include "tls_wire.h"

static int say(char *out, size_t outlen, int likely, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int say(char *out, size_t outlen, int likely, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(out, outlen, fmt, ap);
	va_end(ap);
	return likely;
}

static int sent_is(const uint8_t *tx, size_t tx_len, const uint8_t *want, size_t n)
{
	return tx && tx_len >= n && memcmp(tx + tx_len - n, want, n) == 0;
}

/* ---- STK500v1 (AVR061, optiboot) ---- */
static const uint8_t stk_poke[] = { STK_GET_SYNC, STK_CRC_EOP };

static int stk500_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			  char *out, size_t outlen)
{
	int after_sync = sent_is(tx, tx_len, stk_poke, 2);
	if (n == 0)
		return say(out, outlen, 0, "stk500: no answer (expected 14 10, INSYNC OK, to GET_SYNC 30 20)");
	if (n >= 2 && b[0] == STK_RESP_INSYNC && b[1] == STK_RESP_OK)
		return say(out, outlen, after_sync ? 97 : 85,
			   "stk500: 14 10 = INSYNC, OK: an STK500v1 loader (optiboot) is in sync");
	switch (b[0]) {
	case STK_RESP_INSYNC:
		return say(out, outlen, 60, "stk500: 0x14 = INSYNC; OK (0x10) should follow");
	case STK_RESP_NOSYNC:
		return say(out, outlen, after_sync ? 75 : 40,
			   "stk500: 0x15 = NOSYNC: a loader saw a frame not ended by 0x20 (a real STK500 or a non-optiboot loader)");
	case STK_RESP_FAILED:
	case STK_RESP_UNKNOWN:
	case STK_RESP_NODEVICE:
		return say(out, outlen, after_sync ? 60 : 30, "stk500: 0x%02x = %s", b[0],
			   b[0] == STK_RESP_FAILED ? "FAILED" : b[0] == STK_RESP_UNKNOWN ? "UNKNOWN command" : "NODEVICE");
	case STK2_MESSAGE_START:
		return say(out, outlen, after_sync ? 70 : 35,
			   "stk500: 0x1B = STK500v2 MESSAGE_START: a Mega2560-style loader (avrdude -c wiring)");
	case AVR109_UNKNOWN:
		return say(out, outlen, after_sync ? 60 : 20,
			   "stk500: '?' = AVR109/Caterina's unknown-command reply (Leonardo/Micro: avrdude -c avr109, after the 1200-baud touch)");
	default:
		return say(out, outlen, 0,
			   "stk500: 0x%02x is not an STK500 reply (expected 14 10, INSYNC OK, to GET_SYNC 30 20)", b[0]);
	}
}

/* ---- STM32 USART bootloader (AN3155) ---- */
static const uint8_t stm32_poke[] = { STM32_INIT };

static int stm32_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			 char *out, size_t outlen)
{
	int after_init = sent_is(tx, tx_len, stm32_poke, 1);
	if (n == 0)
		return say(out, outlen, 0, "stm32: no answer (expected 79 ACK to 7F)");
	if (b[0] == STM32_ACK)
		return say(out, outlen, after_init ? 96 : 55, "stm32: 0x79 = ACK: the STM32 system bootloader is synchronised");
	if (n >= 2 && b[0] == 0x00 && b[1] == STM32_ACK)
		return say(out, outlen, after_init ? 92 : 50,
			   "stm32: 00 79 = ACK after a 0x00 reset glitch: the loader is synchronised");
	if (b[0] == STM32_NACK)
		return say(out, outlen, after_init ? 85 : 40,
			   "stm32: 0x1F = NACK: to 7F it means an earlier 7F already synchronised the loader");
	if (b[0] == STM32_BUSY)
		return say(out, outlen, 40, "stm32: 0x76 = BUSY (no-stretch commands)");
	return say(out, outlen, 0, "stm32: 0x%02x is not an STM32 bootloader reply (expected 79 ACK or 1F NACK to 7F)",
		   b[0]);
}

/* ---- MediaTek BROM / Preloader ---- */
static const uint8_t mtk_poke[] = { MTK_HS0 };

static int mtk_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	int after = sent_is(tx, tx_len, mtk_poke, 1);
	if (n == 0)
		return say(out, outlen, 0, "mtk: no answer (expected 5F, the complement of A0)");
	if (b[0] == (uint8_t)~MTK_HS0)
		return say(out, outlen, after ? 95 : 45, "mtk: 0x5F = ~A0: a MediaTek BROM or Preloader answers the start handshake");
	if (b[0] == MTK_HS0 && after)
		return say(out, outlen, 10, "mtk: A0 came back unchanged: an echo, not the complement 5F ('Echo mismatch: got [160], expected 5f')");
	if (n >= 5 && memcmp(b, "READY", 5) == 0)
		return say(out, outlen, 60, "mtk: \"READY\": a MediaTek Preloader announcing its download window");
	if (b[0] == MTK_PL_ACK || b[0] == MTK_PL_NACK || b[0] == MTK_PL_CONF || b[0] == MTK_PL_STOP)
		return say(out, outlen, 30, "mtk: 0x%02x is a Preloader single-byte response (%s)", b[0],
			   b[0] == MTK_PL_ACK ? "ACK" : b[0] == MTK_PL_NACK ? "NACK" : b[0] == MTK_PL_CONF ? "CONF" : "STOP");
	return say(out, outlen, 0, "mtk: 0x%02x is not a handshake reply (expected 5F to A0)", b[0]);
}

/* ---- Espressif ROM loader (SLIP) ---- */
static int esp_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	(void)tx;
	(void)tx_len;
	if (n == 0)
		return say(out, outlen, 0, "esp: no answer (expected a SLIP frame C0 01 ... C0)");
	if (b[0] == ESP_SLIP_END && n >= 2 && b[1] == ESP_DIR_RESPONSE)
		return say(out, outlen, 90, "esp: C0 01 = a SLIP response frame: the Espressif ROM loader answers");
	if (b[0] == ESP_SLIP_END)
		return say(out, outlen, 40, "esp: 0xC0 = SLIP frame delimiter");
	return say(out, outlen, 0, "esp: 0x%02x does not start a SLIP frame (expected C0)", b[0]);
}

/* ---- TLS ---- */
static int tls_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	(void)tx;
	(void)tx_len;
	if (n == 0)
		return say(out, outlen, 0, "tls: no answer (expected a handshake record 16 03 ..)");
	if (!tls_is_record(b, n)) {
		if (b[0] >= TLS_CT_CHANGE_CIPHER_SPEC && b[0] <= TLS_CT_HEARTBEAT)
			return say(out, outlen, 10, "tls: 0x%02x is a TLS content type, but no TLS version follows", b[0]);
		return say(out, outlen, 0,
			   "tls: 0x%02x is not a TLS content type (20-24): a plaintext reply on a TLS port", b[0]);
	}
	unsigned ver = ((unsigned)b[1] << 8) | b[2];
	const char *vn = tls_version_name(ver);
	if (b[0] == TLS_CT_ALERT && n >= 7) {
		const char *an = tls_alert_name(b[6]);
		return say(out, outlen, 92, "tls: an alert record (%s, %s): %s (%u)", vn ? vn : "?",
			   b[5] == TLS_ALERT_FATAL ? "fatal" : "warning", an ? an : "unassigned", b[6]);
	}
	if (b[0] == TLS_CT_HANDSHAKE)
		return say(out, outlen, 95, "tls: a handshake record (%s): a TLS server answers", vn ? vn : "?");
	return say(out, outlen, 70, "tls: a record of content type %u (%s)", b[0], vn ? vn : "?");
}

static const sd_proto protos[] = {
	{ "stk500", "Arduino STK500v1 / optiboot", { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	  stk_poke, sizeof stk_poke, "14 10 (INSYNC, OK) to GET_SYNC 30 20", stk500_explain },
	{ "stm32", "STM32 system bootloader (AN3155)", { 115200, 8, SD_PARITY_EVEN, 1, SD_FLOW_NONE },
	  stm32_poke, sizeof stm32_poke, "79 (ACK) to 7F", stm32_explain },
	{ "mtk", "MediaTek BootROM / Preloader", { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	  mtk_poke, sizeof mtk_poke, "5F (the complement of A0) to A0", mtk_explain },
	{ "esp", "Espressif ROM loader (SLIP)", { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	  NULL, 0, "a SLIP response frame C0 01 08 ... C0 to SYNC", esp_explain },
	{ "tls", "TLS", { 0, 0, 0, 0, 0 },
	  NULL, 0, "a handshake record 16 03 0x (ServerHello) to a ClientHello", tls_explain },
};

size_t sd_proto_count(void)
{
	return SDI_ARRAY_LEN(protos);
}

const sd_proto *sd_proto_at(size_t i)
{
	return i < SDI_ARRAY_LEN(protos) ? &protos[i] : NULL;
}

const sd_proto *sd_proto_find(const char *name)
{
	for (size_t i = 0; name && i < SDI_ARRAY_LEN(protos); i++)
		if (strcmp(protos[i].name, name) == 0)
			return &protos[i];
	return NULL;
}
