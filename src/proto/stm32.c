/*
 * shakedown — STM32 system bootloader (AN3155): the client engine and its reading of unexpected bytes.
 */
#include "internal.h"
#include "stm32_wire.h"

static const uint8_t stm32_poke[] = { STM32_INIT };

static int stm32_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			 char *out, size_t outlen)
{
	int after_init = sdi_sent_is(tx, tx_len, stm32_poke, 1);
	if (n == 0)
		return sdi_say(out, outlen, 0, "stm32: no answer (expected 79 ACK to 7F)");
	if (b[0] == STM32_ACK)
		return sdi_say(out, outlen, after_init ? 96 : 55, "stm32: 0x79 = ACK: the STM32 system bootloader is synchronised");
	if (n >= 2 && b[0] == 0x00 && b[1] == STM32_ACK)
		return sdi_say(out, outlen, after_init ? 92 : 50,
			   "stm32: 00 79 = ACK after a 0x00 reset glitch: the loader is synchronised");
	if (b[0] == STM32_NACK)
		return sdi_say(out, outlen, after_init ? 85 : 40,
			   "stm32: 0x1F = NACK: to 7F it means an earlier 7F already synchronised the loader");
	if (b[0] == STM32_BUSY)
		return sdi_say(out, outlen, 40, "stm32: 0x76 = BUSY (no-stretch commands)");
	return sdi_say(out, outlen, 0, "stm32: 0x%02x is not an STM32 bootloader reply (expected 79 ACK or 1F NACK to 7F)",
		   b[0]);
}

const sd_proto sdi_proto_stm32 = {
	.name = "stm32",
	.title = "STM32 system bootloader (AN3155)",
	.line = { 115200, 8, SD_PARITY_EVEN, 1, SD_FLOW_NONE },
	.poke = stm32_poke,
	.poke_len = sizeof stm32_poke,
	.expects = "79 (ACK) to 7F",
	.explain = stm32_explain,
};
