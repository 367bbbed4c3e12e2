/*
 * The compact STK500 client on the host: the same engine code the
 * microcontroller examples run (examples/arduino), here over any target.
 * Resets the board (DTR/RTS pulse), syncs with its optiboot, and prints the
 * version and signature only when confirmed (three equal readings).
 *   sync_stk500 /dev/ttyUSB0
 *   sync_stk500 'sim:stk500?version=4.4'
 * Exit 0 when identified, 1 when not (the cause code printed), 3 when the
 * target cannot be opened.
 * example-test: sim:stk500 => ok: optiboot 8.3, signature 1e 95 0f
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
	sd_stk500_cfg cfg = { .baud = 115200, .reset_mask = SD_LINE_DTR | SD_LINE_RTS, .identify = 1 };
	sd_stk500_client c;
	sd_stk500_client_init(&c, &cfg);
	int err = sd_run(&c.eng, l, sd_deadline_in(l->clock, SD_S(5)));
	sd_link_close(l);
	if (err == SD_OK) {
		printf("ok: optiboot %u.%u, signature %02x %02x %02x\n", c.major, c.minor,
		       c.sig[0], c.sig[1], c.sig[2]);
		return 0;
	}
	printf("failed: %s (%s)%s\n", sd_cause_name((sd_cause)c.cause), sd_errname(err),
	       (c.have & SD_STK500_HAVE_SYNC) ? ", in sync" : "");
	return 1;
}
