/* Core: error table, cause table, diagnosis records, transcript arena. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static void errors_have_names_and_sentences(void **state)
{
	(void)state;
	for (int e = 0; e > -SD_ERR_COUNT; e--) {
		assert_string_not_equal(sd_errname(e), "SD_ERR_UNKNOWN");
		assert_true(strlen(sd_strerror(e)) > 3);
	}
	assert_string_equal(sd_errname(SD_ERR_CLOSED), "SD_ERR_CLOSED");
	assert_string_equal(sd_strerror(SD_ERR_CLOSED), "device disconnected");
	assert_string_equal(sd_errname(-SD_ERR_COUNT), "SD_ERR_UNKNOWN");
	assert_string_equal(sd_errname(5), "SD_ERR_UNKNOWN");
}

static void causes_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < SD_CAUSE_COUNT; c++) {
		const char *n = sd_cause_name((sd_cause)c);
		assert_non_null(n);
		assert_int_equal(sd_cause_from_name(n), c);
		/* codes are lower-case words joined by '-' */
		for (const char *p = n; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-');
		assert_true(strlen(sd_cause_summary((sd_cause)c)) > 0);
	}
	assert_int_equal(sd_cause_from_name("no-such-cause"), -1);
	assert_null(sd_cause_name(SD_CAUSE_COUNT));
	assert_string_equal(sd_cause_name(SD_CAUSE_APP_RUNNING), "app-running");
	assert_int_equal(sd_cause_layer(SD_CAUSE_ECHO), SD_LAYER_PHYSICAL);
	assert_string_equal(sd_layer_name(SD_LAYER_SECURITY), "security");
}

static void diag_dedupes_sorts_and_bounds(void **state)
{
	(void)state;
	sd_diag d;
	sd_diag_init(&d);
	sd_finding *a = sd_diag_add(&d, SD_CAUSE_SILENT, 0.3f);
	sd_finding *b = sd_diag_add(&d, SD_CAUSE_ECHO, 0.9f);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(sd_diag_add(&d, SD_CAUSE_SILENT, 0.5f), a); /* same cause: one record */
	assert_true(a->confidence > 0.49f);
	assert_int_equal(d.n, 2);
	sd_diag_add(&d, SD_CAUSE_NOISE, 7.0f); /* clamped */
	sd_diag_sort(&d);
	assert_int_equal(d.f[0].cause, SD_CAUSE_NOISE);
	assert_true(d.f[0].confidence <= 1.0f);
	assert_int_equal(d.f[1].cause, SD_CAUSE_ECHO);
	assert_int_equal(d.f[2].cause, SD_CAUSE_SILENT);
	for (int c = 0; c < SD_CAUSE_COUNT; c++)
		sd_diag_add(&d, (sd_cause)c, 0.1f);
	assert_int_equal(d.n, SD_DIAG_MAX);
	assert_null(sd_diag_add(&d, SD_CAUSE_UNKNOWN, 0.1f));
}

static void finding_text_is_bounded(void **state)
{
	(void)state;
	sd_diag d;
	sd_diag_init(&d);
	sd_finding *f = sd_diag_add(&d, SD_CAUSE_UNKNOWN, 0.5f);
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	sd_finding_summary(f, "%s", big);
	assert_int_equal(strlen(f->summary), SD_SUMMARY_MAX - 1);
	for (int i = 0; i < 50; i++)
		sd_finding_detail(f, "line %d %s", i, "abcdefghij");
	assert_true(strlen(f->detail) < SD_DETAIL_MAX);
	assert_non_null(strstr(f->detail, "line 0 abcdefghij\nline 1"));
}

static int sink_count;
static void count_sink(void *ctx, const sd_trec *r)
{
	(void)ctx;
	(void)r;
	sink_count++;
}

static void transcript_stores_iterates_and_counts_drops(void **state)
{
	(void)state;
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 1000);
	_Alignas(8) uint8_t arena[256];
	sd_transcript t;
	sd_transcript_init(&t, &fc.base, arena, sizeof arena);
	sd_transcript_set_sink(&t, count_sink, NULL);
	sink_count = 0;

	sd_fake_clock_advance(&fc, 5);
	sd_transcript_bytes(&t, SD_TR_TX, (const uint8_t *)"\x30\x20", 2);
	sd_fake_clock_advance(&fc, 100);
	sd_transcript_bytes(&t, SD_TR_RX, (const uint8_t *)"hello", 5);
	sd_transcript_lines(&t, SD_LINE_DTR, SD_LINE_DTR);
	sd_line_cfg cfg = SD_LINE_CFG_8E1(57600);
	sd_transcript_cfg(&t, &cfg);

	size_t cur = 0;
	sd_trec r;
	assert_true(sd_transcript_next(&t, &cur, &r));
	assert_int_equal(r.kind, SD_TR_TX);
	assert_int_equal(r.t, 5);
	assert_memory_equal(r.data, "\x30\x20", 2);
	assert_true(sd_transcript_next(&t, &cur, &r));
	assert_int_equal(r.kind, SD_TR_RX);
	assert_int_equal(r.t, 105);
	assert_true(sd_transcript_next(&t, &cur, &r));
	assert_int_equal(r.kind, SD_TR_LINES);
	assert_int_equal(r.b, SD_LINE_DTR);
	assert_true(sd_transcript_next(&t, &cur, &r));
	assert_int_equal(r.kind, SD_TR_CFG);
	assert_int_equal(r.cfg.baud, 57600);
	assert_int_equal(r.cfg.parity, SD_PARITY_EVEN);
	assert_false(sd_transcript_next(&t, &cur, &r));

	/* a record bigger than what is left is dropped but still sunk */
	uint8_t big[300] = { 0 };
	sd_transcript_bytes(&t, SD_TR_RX, big, sizeof big);
	assert_int_equal(t.dropped, 1);
	assert_int_equal(sink_count, 5);
	assert_int_equal(t.rx_bytes, 5 + 300);

	uint8_t out[16];
	assert_int_equal(sd_transcript_collect(&t, SD_TR_RX, 0, out, sizeof out), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(sd_transcript_collect(&t, SD_TR_RX, 2, out, sizeof out), 0);
	assert_int_equal(sd_trec_kind_from_name("lines"), SD_TR_LINES);
	assert_string_equal(sd_trec_kind_name(SD_TR_CLOSE), "close");
	assert_null(sd_trec_kind_name(0));
}

static void deadlines_saturate(void **state)
{
	(void)state;
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 10);
	assert_int_equal(sd_deadline_in(&fc.base, 5), 15);
	assert_int_equal(sd_deadline_in(&fc.base, SD_FOREVER), SD_FOREVER);
	assert_int_equal(sd_deadline_in(&fc.base, -3), 10);
	assert_int_equal(sd_deadline_left(&fc.base, 8), 0);
	assert_int_equal(sd_deadline_left(&fc.base, SD_FOREVER), SD_FOREVER);
	assert_false(sd_deadline_passed(&fc.base, SD_FOREVER));
	sd_fake_clock_set(&fc, 5); /* never backwards */
	assert_int_equal(sd_now(&fc.base), 10);
	sd_fake_clock_advance(&fc, SD_FOREVER);
	assert_int_equal(sd_now(&fc.base), SD_FOREVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_have_names_and_sentences),
		cmocka_unit_test(causes_round_trip),
		cmocka_unit_test(diag_dedupes_sorts_and_bounds),
		cmocka_unit_test(finding_text_is_bounded),
		cmocka_unit_test(transcript_stores_iterates_and_counts_drops),
		cmocka_unit_test(deadlines_saturate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
