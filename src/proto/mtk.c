/*
 * shakedown — MediaTek BootROM / Preloader: the client engine and its reading of unexpected bytes.
 */
#include "internal.h"
#include "mtk_wire.h"

static const uint8_t mtk_poke[] = { MTK_HS0 };

static int mtk_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	int after = sdi_sent_is(tx, tx_len, mtk_poke, 1);
	if (n == 0)
		return sdi_say(out, outlen, 0, "mtk: no answer (expected 5F, the complement of A0)");
	if (b[0] == (uint8_t)~MTK_HS0)
		return sdi_say(out, outlen, after ? 95 : 45, "mtk: 0x5F = ~A0: a MediaTek BROM or Preloader answers the start handshake");
	if (b[0] == MTK_HS0 && after)
		return sdi_say(out, outlen, 10, "mtk: A0 came back unchanged: an echo, not the complement 5F ('Echo mismatch: got [160], expected 5f')");
	if (n >= 5 && memcmp(b, "READY", 5) == 0)
		return sdi_say(out, outlen, 60, "mtk: \"READY\": a MediaTek Preloader announcing its download window");
	if (b[0] == MTK_PL_ACK || b[0] == MTK_PL_NACK || b[0] == MTK_PL_CONF || b[0] == MTK_PL_STOP)
		return sdi_say(out, outlen, 30, "mtk: 0x%02x is a Preloader single-byte response (%s)", b[0],
			   b[0] == MTK_PL_ACK ? "ACK" : b[0] == MTK_PL_NACK ? "NACK" : b[0] == MTK_PL_CONF ? "CONF" : "STOP");
	return sdi_say(out, outlen, 0, "mtk: 0x%02x is not a handshake reply (expected 5F to A0)", b[0]);
}

const sd_proto sdi_proto_mtk = {
	.name = "mtk",
	.title = "MediaTek BootROM / Preloader",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.poke = mtk_poke,
	.poke_len = sizeof mtk_poke,
	.expects = "5F (the complement of A0) to A0",
	.explain = mtk_explain,
};
