/*
 * The compact STM32 loader client on the host: the same engine code the
 * microcontroller examples run (examples/cortex-m0plus), here over any
 * target. The chip must be in its system-memory loader (BOOT0 high through
 * a reset). Syncs (0x7F at 8E1) and prints the loader version and product
 * id only when confirmed (equal answers).
 *   sync_stm32 /dev/ttyUSB0
 *   sync_stm32 'sim:stm32?pid=0x413'
 * Exit 0 when identified, 1 when not (the cause code printed), 3 when the
 * target cannot be opened.
 * example-test: sim:stm32 => ok: bootloader 3.1, product id 0x410
 */
#include <stdio.h>
#include <shakedown/shakedown.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s TARGET\n", argv[0]);
		return 2;
	}
	sd_link *l;
	char why[160];
	if (sd_link_open(argv[1], NULL, &l, why, sizeof why) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], why);
		return 3;
	}
	sd_stm32_cfg cfg = { .baud = 115200, .identify = 1 };
	sd_stm32_client c;
	sd_stm32_client_init(&c, &cfg);
	int err = sd_run(&c.eng, l, sd_deadline_in(l->clock, SD_S(5)));
	sd_link_close(l);
	if (err == SD_OK) {
		printf("ok: bootloader %u.%u, product id 0x%03x\n", c.version >> 4, c.version & 0xfu, c.pid);
		return 0;
	}
	printf("failed: %s (%s)%s\n", sd_cause_name((sd_cause)c.cause), sd_errname(err),
	       (c.have & SD_STM32_HAVE_SYNC) ? ", in sync" : "");
	return 1;
}
