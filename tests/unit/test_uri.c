/*
 * Target URIs: a key given twice and "serial:" without a path are errors
 * with a reason (issue 11); the ordinary forms still parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static void duplicate_keys_are_refused(void **state)
{
	(void)state;
	sd_uri u;
	char why[128] = "";
	assert_int_equal(sd_uri_parse("sim:app?text=a&text=b", &u, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "'text' is given twice"));
	assert_int_equal(sd_uri_parse("serial:/dev/x?baud=1&baud=2", &u, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "'baud' is given twice"));
	/* the same key percent-encoded is the same key */
	assert_int_equal(sd_uri_parse("sim:app?text=a&%74ext=b", &u, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "'text' is given twice"));

	sd_kv kv[4];
	assert_int_equal(sd_kv_parse("a=1&b=2&a", kv, 4, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_kv_parse("a=1&b=2&&c", kv, 4, why, sizeof why), 3);
	assert_int_equal(sd_uri_parse("sim:app?text=a&mode=app", &u, why, sizeof why), SD_OK);
	assert_int_equal(u.nq, 2);
	assert_string_equal(sd_kv_get(u.q, u.nq, "mode"), "app");
}

static void serial_needs_a_path(void **state)
{
	(void)state;
	sd_uri u;
	char why[128] = "";
	assert_int_equal(sd_uri_parse("serial:", &u, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "needs a device path"));
	assert_int_equal(sd_uri_parse("serial:?baud=9600", &u, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "needs a device path"));
	assert_int_equal(sd_uri_parse("serial:/dev/ttyUSB0?baud=9600", &u, why, sizeof why), SD_OK);
	assert_string_equal(u.scheme, "serial");
	assert_string_equal(u.path, "/dev/ttyUSB0");
	assert_int_equal(sd_uri_parse("/dev/ttyACM0", &u, why, sizeof why), SD_OK);
	assert_string_equal(u.path, "/dev/ttyACM0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duplicate_keys_are_refused),
		cmocka_unit_test(serial_needs_a_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
