/*
 * Targets files for probe --targets (src/diag/targets.c): lines with
 * comments, labgrid environment files (resources by class, and as a list),
 * exporter files (by class, and named with cls:), the raw protocol, bad
 * entries named with their line, and the bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static int parse(const char *s, sd_target **t, size_t *n, char *why, size_t wl)
{
	return sd_targets_parse(s, strlen(s), t, n, why, wl);
}

static void lines(void **state)
{
	(void)state;
	sd_target *t = NULL;
	size_t n = 0;
	char why[160] = "";
	assert_int_equal(parse("# a lab\n  rfc2217://10.0.0.2:4001  \n\n/dev/ttyUSB0\r\nsim:stk500?mode=app\n", &t, &n,
			       why, sizeof why), SD_OK);
	assert_int_equal(n, 3);
	assert_string_equal(t[0].uri, "rfc2217://10.0.0.2:4001");
	assert_int_equal(t[0].line, 2);
	assert_string_equal(t[1].uri, "/dev/ttyUSB0");
	assert_string_equal(t[2].uri, "sim:stk500?mode=app");
	assert_int_equal(t[2].line, 5);
	free(t);
	assert_int_equal(parse("ok\nbad\x01one\n", &t, &n, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "line 2"));
	assert_null(t);
}

static void labgrid_environment(void **state)
{
	(void)state;
	static const char env[] =
		"targets:\n"
		"  main:\n"
		"    resources:\n"
		"      RawSerialPort:\n"
		"        port: /dev/ttyUSB0\n"
		"        speed: 57600\n"
		"      NetworkSerialPort:\n"
		"        host: remote.example.computer\n"
		"        port: 53867\n"
		"    drivers:\n"
		"      SerialDriver: {}\n"
		"  other:\n"
		"    resources:\n"
		"    - NetworkSerialPort:\n"
		"        host: 10.0.0.9\n"
		"        port: 4002\n"
		"        speed: 921600\n"
		"        protocol: raw\n"
		"    - NetworkSerialPort: {host: '::1', port: 4003, name: console}\n";
	sd_target *t = NULL;
	size_t n = 0;
	char why[160] = "";
	assert_int_equal(parse(env, &t, &n, why, sizeof why), SD_OK);
	assert_int_equal(n, 4);
	assert_string_equal(t[0].uri, "serial:/dev/ttyUSB0?baud=57600");
	assert_string_equal(t[0].name, "main");
	assert_string_equal(t[1].uri, "rfc2217://remote.example.computer:53867?baud=115200");
	assert_string_equal(t[2].uri, "tcp://10.0.0.9:4002"); /* raw: no settings */
	assert_string_equal(t[2].name, "other");
	assert_string_equal(t[3].uri, "rfc2217://[::1]:4003?baud=115200");
	assert_string_equal(t[3].name, "console");
	/* each parses as a target */
	for (size_t i = 0; i < n; i++) {
		sd_uri u;
		assert_int_equal(sd_uri_parse(t[i].uri, &u, why, sizeof why), SD_OK);
	}
	free(t);
}

static void labgrid_exporter(void **state)
{
	(void)state;
	static const char exp[] =
		"rack-1:\n"
		"  location: shelf 3\n"
		"  NetworkSerialPort:\n"
		"    host: pi3.lab\n"
		"    port: 20001\n"
		"  board-b:\n"
		"    cls: NetworkSerialPort\n"
		"    host: pi3.lab\n"
		"    port: 20002\n"
		"  usb:\n"
		"    cls: USBSerialPort\n"
		"    match: {ID_PATH: pci-0000:00:14.0-usb-0:1:1.0}\n";
	sd_target *t = NULL;
	size_t n = 0;
	char why[160] = "";
	assert_int_equal(parse(exp, &t, &n, why, sizeof why), SD_OK);
	assert_int_equal(n, 2);
	assert_string_equal(t[0].uri, "rfc2217://pi3.lab:20001?baud=115200");
	assert_string_equal(t[0].name, "rack-1");
	assert_string_equal(t[1].uri, "rfc2217://pi3.lab:20002?baud=115200");
	assert_string_equal(t[1].name, "rack-1/board-b");
	free(t);
}

static void bad_yaml(void **state)
{
	(void)state;
	sd_target *t = NULL;
	size_t n = 0;
	char why[160] = "";
	assert_int_equal(parse("a:\n  NetworkSerialPort:\n    host: x\n", &t, &n, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "needs host and port"));
	assert_int_equal(parse("a:\n  NetworkSerialPort: {host: 'x y', port: 1}\n", &t, &n, why, sizeof why),
			 SD_ERR_ARG);
	assert_int_equal(parse("a:\n  RawSerialPort: {port: /dev/x, speed: fast}\n", &t, &n, why, sizeof why),
			 SD_ERR_ARG);
	assert_non_null(strstr(why, "speed 'fast'"));
	assert_int_equal(parse("a: [b\n", &t, &n, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "bad YAML"));
	/* valid YAML without serial ports: no targets, no error */
	assert_int_equal(parse("a: 1\nb: {c: d}\n", &t, &n, why, sizeof why), SD_OK);
	assert_int_equal(n, 0);
	free(t);
	/* bounds */
	char *big = malloc(SD_TARGETS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', SD_TARGETS_FILE_MAX + 1);
	big[SD_TARGETS_FILE_MAX + 1] = '\0';
	assert_int_equal(sd_targets_parse(big, SD_TARGETS_FILE_MAX + 1, &t, &n, why, sizeof why), SD_ERR_OVERFLOW);
	/* more than SD_TARGETS_MAX lines */
	size_t o = 0;
	for (unsigned i = 0; i <= SD_TARGETS_MAX; i++) {
		memcpy(big + o, "sim:app\n", 8);
		o += 8;
	}
	assert_int_equal(sd_targets_parse(big, o, &t, &n, why, sizeof why), SD_ERR_OVERFLOW);
	assert_null(t);
	free(big);
	assert_int_equal(sd_targets_load("/nonexistent/targets", &t, &n, why, sizeof why), SD_ERR_NOTFOUND);
}

/* sd_probe_many over in-process simulators: every target reported once,
 * never two callbacks at once, the verdicts each board should get. */
typedef struct seen {
	int      count[16];
	int      ok[16];
	char     cause[16][32];
	int      inside, overlap;
} seen;

static void on_done(void *ctx, const sd_target *t, size_t i, int err, const sd_report *r)
{
	seen *s = ctx;
	(void)t;
	(void)err;
	if (s->inside++)
		s->overlap = 1;
	s->count[i]++;
	s->ok[i] = r->ok;
	snprintf(s->cause[i], sizeof s->cause[i], "%s", r->diag.n ? sd_cause_name(r->diag.f[0].cause) : "");
	s->inside--;
}

static void many(void **state)
{
	(void)state;
	static const char list[] = "sim:stk500\nsim:stm32\nsim:mtk\nsim:app?text=hello\nsim:app?mode=silent\n"
				   "sim:app?mode=echo\nsim:stk500\nsim:stm32?mode=app\nbogus:x\nsim:mtk\n";
	sd_target *t = NULL;
	size_t n = 0;
	char why[160] = "";
	assert_int_equal(sd_targets_parse(list, strlen(list), &t, &n, why, sizeof why), SD_OK);
	assert_int_equal(n, 10);
	seen s;
	memset(&s, 0, sizeof s);
	sd_probe_many_opts o = { .jobs = 4, .done = on_done, .ctx = &s };
	assert_int_equal(sd_probe_many(t, n, &o), SD_OK);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s.count[i], 1);
	assert_int_equal(s.overlap, 0);
	assert_true(s.ok[0] && s.ok[1] && s.ok[2] && s.ok[6] && s.ok[7] && s.ok[9]);
	assert_string_equal(s.cause[3], "app-running");
	assert_string_equal(s.cause[4], "silent");
	assert_string_equal(s.cause[5], "echo");
	assert_false(s.ok[8]); /* an unknown scheme: named, not skipped */
	assert_string_equal(s.cause[8], "unknown");
	o.jobs = SD_PROBE_JOBS_MAX + 1;
	assert_int_equal(sd_probe_many(t, n, &o), SD_ERR_ARG);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines),
		cmocka_unit_test(labgrid_environment),
		cmocka_unit_test(labgrid_exporter),
		cmocka_unit_test(bad_yaml),
		cmocka_unit_test(many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
