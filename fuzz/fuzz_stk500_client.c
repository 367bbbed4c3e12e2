/*
 * Fuzz target for the compact STK500 client of client.h (the engine the MCU
 * builds run): arbitrary device bytes, in timed chunks on a fake clock
 * (chunk_link.h); byte 0: bit 1 = identify, bit 2 = reset pulse.
 * Invariants: the run ends within its virtual budget; SD_OK exactly when
 * the cause is ok; an identify that succeeded has every field confirmed; a
 * field is never flagged without sync.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"
#include "chunk_link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static chunk_link rl;
	(void)touch_evidence; /* chunk_link.h's, for the session targets */
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	chunk_link_init(&rl, &chunk_serial_ops, data + 1, size - 1);
	sd_deadline end = SD_S(20);
	{
		sd_stk500_cfg cfg = { 115200, (mode & 4) ? SD_LINE_DTR : 0, (mode & 2) ? 1 : 0, 0 };
		sd_stk500_client c;
		sd_stk500_client_init(&c, &cfg);
		int r = sd_run(&c.eng, &rl.base, end);
		if ((r == SD_OK) != (c.cause == SD_CAUSE_OK))
			__builtin_trap();
		if (c.have && !(c.have & SD_STK500_HAVE_SYNC))
			__builtin_trap();
		if (r == SD_OK && cfg.identify &&
		    c.have != (SD_STK500_HAVE_SYNC | SD_STK500_HAVE_VERSION | SD_STK500_HAVE_SIG))
			__builtin_trap();
	}
	if (sd_now(&rl.clock.base) > end + SD_S(1))
		__builtin_trap(); /* the run outlived its deadline */
	return 0;
}
