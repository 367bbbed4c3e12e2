/*
 * shakedown — Arduino STK500v1 / optiboot: the client engine and its reading of unexpected bytes.
 */
#include "internal.h"
#include "stk500_wire.h"

static const uint8_t stk_poke[] = { STK_GET_SYNC, STK_CRC_EOP };

static int stk500_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			  char *out, size_t outlen)
{
	int after_sync = sdi_sent_is(tx, tx_len, stk_poke, 2);
	if (n == 0)
		return sdi_say(out, outlen, 0, "stk500: no answer (expected 14 10, INSYNC OK, to GET_SYNC 30 20)");
	if (n >= 2 && b[0] == STK_RESP_INSYNC && b[1] == STK_RESP_OK)
		return sdi_say(out, outlen, after_sync ? 97 : 85,
			   "stk500: 14 10 = INSYNC, OK: an STK500v1 loader (optiboot) is in sync");
	switch (b[0]) {
	case STK_RESP_INSYNC:
		return sdi_say(out, outlen, 60, "stk500: 0x14 = INSYNC; OK (0x10) should follow");
	case STK_RESP_NOSYNC:
		return sdi_say(out, outlen, after_sync ? 75 : 40,
			   "stk500: 0x15 = NOSYNC: a loader saw a frame not ended by 0x20 (a real STK500 or a non-optiboot loader)");
	case STK_RESP_FAILED:
	case STK_RESP_UNKNOWN:
	case STK_RESP_NODEVICE:
		return sdi_say(out, outlen, after_sync ? 60 : 30, "stk500: 0x%02x = %s", b[0],
			   b[0] == STK_RESP_FAILED ? "FAILED" : b[0] == STK_RESP_UNKNOWN ? "UNKNOWN command" : "NODEVICE");
	case STK2_MESSAGE_START:
		return sdi_say(out, outlen, after_sync ? 70 : 35,
			   "stk500: 0x1B = STK500v2 MESSAGE_START: a Mega2560-style loader (avrdude -c wiring)");
	case AVR109_UNKNOWN:
		return sdi_say(out, outlen, after_sync ? 60 : 20,
			   "stk500: '?' = AVR109/Caterina's unknown-command reply (Leonardo/Micro: avrdude -c avr109, after the 1200-baud touch)");
	default:
		return sdi_say(out, outlen, 0,
			   "stk500: 0x%02x is not an STK500 reply (expected 14 10, INSYNC OK, to GET_SYNC 30 20)", b[0]);
	}
}

const sd_proto sdi_proto_stk500 = {
	.name = "stk500",
	.title = "Arduino STK500v1 / optiboot",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.poke = stk_poke,
	.poke_len = sizeof stk_poke,
	.expects = "14 10 (INSYNC, OK) to GET_SYNC 30 20",
	.explain = stk500_explain,
};
