/* Unit tests for src/core/seq.c: entry sequences in physical pin levels. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static void parses_stm32flash_style_entry(void **st)
{
	(void)st;
	sd_seq s;
	char why[128] = "";
	const char *t = "boot0=rts:high,nrst=dtr:pulse-low:20ms,50ms";
	assert_int_equal(sd_seq_parse(t, strlen(t), &s, why, sizeof why), SD_OK);
	assert_int_equal(s.n, 5);
	/* RTS pin high = RTS deasserted */
	assert_int_equal(s.step[0].kind, SD_SEQ_LINES);
	assert_int_equal(s.step[0].mask, SD_LINE_RTS);
	assert_int_equal(s.step[0].level, 0);
	/* DTR pin low = asserted, 20 ms, then released */
	assert_int_equal(s.step[1].mask, SD_LINE_DTR);
	assert_int_equal(s.step[1].level, SD_LINE_DTR);
	assert_int_equal(s.step[2].kind, SD_SEQ_WAIT);
	assert_int_equal(s.step[2].wait, SD_MS(20));
	assert_int_equal(s.step[3].level, 0);
	assert_int_equal(s.step[4].kind, SD_SEQ_WAIT);
	assert_int_equal(s.step[4].wait, SD_MS(50));
	assert_int_equal(sd_seq_duration(&s), SD_MS(70));
}

static void pulse_without_time_uses_default(void **st)
{
	(void)st;
	sd_seq s;
	assert_int_equal(sd_seq_parse("dtr:pulse-high", 64, &s, NULL, 0), SD_OK);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.step[0].level, 0); /* pin high = deasserted */
	assert_int_equal(s.step[1].wait, SD_SEQ_PULSE_DEFAULT);
	assert_int_equal(s.step[2].level, SD_LINE_DTR);
}

static void rejects_with_a_reason(void **st)
{
	(void)st;
	static const char *bad[] = {
		"dtr", "cts:high", "dtr:up", "dtr:high:20ms", "dtr:pulse-low:forever",
		"dtr:pulse-low:11s", ",dtr:high", "dtr:high,,rts:low", "20 parsecs",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sd_seq s;
		char why[128] = "";
		assert_int_equal(sd_seq_parse(bad[i], strlen(bad[i]), &s, why, sizeof why), SD_ERR_ARG);
		assert_true(strstr(why, "entry sequence") != NULL);
		assert_int_equal(s.n, 0);
	}
}

static void bounded_step_count(void **st)
{
	(void)st;
	char t[2048] = "";
	for (int i = 0; i < 11; i++)
		strcat(t, "dtr:pulse-low:1ms,");
	sd_seq s;
	char why[128];
	assert_int_equal(sd_seq_parse(t, strlen(t), &s, why, sizeof why), SD_ERR_ARG);
	assert_true(strstr(why, "too many") != NULL);
	char longstep[200];
	memset(longstep, 'a', sizeof longstep - 1);
	longstep[sizeof longstep - 1] = '\0';
	assert_int_equal(sd_seq_parse(longstep, sizeof longstep, &s, why, sizeof why), SD_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_stm32flash_style_entry),
		cmocka_unit_test(pulse_without_time_uses_default),
		cmocka_unit_test(rejects_with_a_reason),
		cmocka_unit_test(bounded_step_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
