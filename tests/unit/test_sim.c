/* The in-process simulator through the client's API only: virtual time,
 * modes, resets on DTR, a device at another rate, faults, the command log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static sd_link *open_sim(const char *uri)
{
	sd_link *l = NULL;
	char why[200];
	int r = sd_link_open(uri, NULL, &l, why, sizeof why);
	if (r)
		fail_msg("%s: %s", uri, why);
	assert_true(l->caps & SD_LINK_VIRTUAL);
	return l;
}

static void app_prints_at_its_period_on_virtual_time(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?text=hi%0D%0A&period_ms=100&first_ms=10");
	_Alignas(8) static uint8_t arena[1 << 16];
	sd_transcript t;
	sd_transcript_init(&t, l->clock, arena, sizeof arena);
	sd_link_tap(l, &t, NULL);
	sd_time real0 = sd_now(sd_clock_real());
	uint8_t buf[64];
	size_t total = 0;
	int n;
	while ((n = sd_link_read(l, buf, sizeof buf, SD_MS(1000))) > 0)
		total += (size_t)n;
	assert_int_equal(n, SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_MS(1000));
	/* at 10, 110, ..., 910 ms: ten lines */
	assert_int_equal(total, 10 * 4);
	size_t cur = 0;
	sd_trec r;
	sd_time first = -1;
	while (sd_transcript_next(&t, &cur, &r)) {
		if (r.kind != SD_TR_RX)
			continue;
		/* sent at 10 ms, read once its 4 bytes crossed the wire:
		 * 40 bits at 115200 baud = 347.2 µs, rounded up */
		if (first < 0)
			assert_int_equal(r.t, SD_MS(10) + 348);
		if (first < 0)
			first = r.t;
		assert_int_equal((r.t - first) % SD_MS(100), 0);
	}
	assert_true(sd_now(sd_clock_real()) - real0 < SD_MS(200));
	sd_link_close(l);
}

static void silent_mode_costs_no_real_time(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?mode=silent");
	sd_time real0 = sd_now(sd_clock_real());
	uint8_t b;
	assert_int_equal(sd_link_read(l, &b, 1, SD_S(10)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_S(10));
	assert_true(sd_now(sd_clock_real()) - real0 < SD_MS(50));
	sd_link_close(l);
}

static void echo_and_the_command_log(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?mode=echo");
	uint8_t buf[8];
	size_t got;
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"\x7f\x30", 2, SD_S(1)), SD_OK);
	assert_int_equal(sd_link_read_exact(l, buf, 2, SD_S(1), &got), SD_OK);
	assert_memory_equal(buf, "\x7f\x30", 2);
	sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	assert_true(d->log.total >= 1);
	assert_int_equal(d->log.e[0].code, 0x7f);
	assert_int_equal(d->log.destructive, 0);
	assert_string_equal(d->mode, "echo");
	sd_link_close(l);
	assert_null(sd_sim_device_of(NULL));
}

static void bootloop_repeats(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?mode=bootloop&period_ms=200");
	static uint8_t buf[8192];
	size_t got = 0;
	int n;
	while (got < sizeof buf && (n = sd_link_read(l, buf + got, sizeof buf - got, SD_MS(700))) > 0)
		got += (size_t)n;
	size_t boots = 0;
	for (size_t i = 0; i + 6 <= got; i++)
		boots += memcmp(buf + i, "rst:0x", 6) == 0;
	assert_int_equal(boots, 4); /* at 0, 200, 400, 600 ms */
	sd_link_close(l);
}

static void dtr_pulse_restarts_the_app(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?text=boot&period_ms=1000&first_ms=50");
	uint8_t buf[16];
	assert_int_equal(sd_link_read(l, buf, sizeof buf, SD_MS(100)), 4); /* at 50 ms */
	assert_int_equal(sd_link_read(l, buf, sizeof buf, SD_MS(500)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, SD_LINE_DTR), SD_OK);
	sd_link_sleep_until(l, SD_MS(520));
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, 0), SD_OK);
	/* reset at 520 ms: the text again 50 ms later, long before 1050 */
	assert_int_equal(sd_link_read(l, buf, sizeof buf, SD_MS(800)), 4);
	assert_true(sd_now(l->clock) <= SD_MS(620));
	sd_sim_device *d = sd_sim_device_of(l);
	assert_true(d->log.n >= 1);
	sd_link_close(l);
}

static void device_at_9600_reads_as_uart_garbage_at_115200(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:app?text=hello&baud=9600&period_ms=1000");
	uint8_t buf[64], want[64];
	int n = sd_link_read(l, buf, sizeof buf, SD_MS(100));
	sd_line_cfg dev = SD_LINE_CFG_8N1(9600), host = SD_LINE_CFG_8N1(115200);
	int nw = sd_uart_resample(&dev, &host, (const uint8_t *)"hello", 5, 0, want, NULL, sizeof want);
	assert_int_equal(n, nw);
	assert_memory_equal(buf, want, (size_t)n);
	/* at the device's rate: the text */
	assert_int_equal(sd_link_set_cfg(l, &dev), SD_OK);
	assert_int_equal(sd_link_read(l, buf, sizeof buf, SD_MS(1100)), 5);
	assert_memory_equal(buf, "hello", 5);
	sd_link_close(l);
}

static size_t noisy_read(const char *uri, uint8_t *buf, size_t cap)
{
	sd_link *l = open_sim(uri);
	size_t got = 0;
	int n;
	while (got < cap && (n = sd_link_read(l, buf + got, cap - got, SD_MS(2000))) > 0)
		got += (size_t)n;
	sd_link_close(l);
	return got;
}

static void noise_is_reproducible_by_seed(void **state)
{
	(void)state;
	static uint8_t a[4096], b[4096], c[4096];
	size_t na = noisy_read("sim:app?noise=0.01&seed=5&period_ms=10", a, sizeof a);
	size_t nb = noisy_read("sim:app?noise=0.01&seed=5&period_ms=10", b, sizeof b);
	size_t nc = noisy_read("sim:app?noise=0.01&seed=6&period_ms=10", c, sizeof c);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_true(na != nc || memcmp(a, c, na) != 0);
}

static void bad_options_are_refused_with_a_reason(void **state)
{
	(void)state;
	sd_link *l = NULL;
	char why[200];
	assert_int_equal(sd_link_open("sim:app?txet=x", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "txet"));
	assert_int_equal(sd_link_open("sim:app?mode=sleepy", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "sleepy"));
	assert_int_equal(sd_link_open("sim:app?noise=2", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_link_open("sim:nosuch", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "app"));
	assert_null(l);
	assert_non_null(sd_sim_find("app"));
	assert_true(sd_sim_count() >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(app_prints_at_its_period_on_virtual_time),
		cmocka_unit_test(silent_mode_costs_no_real_time),
		cmocka_unit_test(echo_and_the_command_log),
		cmocka_unit_test(bootloop_repeats),
		cmocka_unit_test(dtr_pulse_restarts_the_app),
		cmocka_unit_test(device_at_9600_reads_as_uart_garbage_at_115200),
		cmocka_unit_test(noise_is_reproducible_by_seed),
		cmocka_unit_test(bad_options_are_refused_with_a_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
