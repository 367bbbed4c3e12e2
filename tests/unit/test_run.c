/* The driver loop, the link wrappers' choke point and the listen engine,
 * over a scripted link on a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "script_link.h"

static const uint8_t HELLO[] = "hello";

static void wrappers_tap_every_byte_and_keep_fatal_errors(void **state)
{
	(void)state;
	static const script_chunk ch[] = { { 100, HELLO, 5 } };
	script_link s;
	script_link_init(&s, ch, 1);
	s.close_after = 1;
	_Alignas(8) uint8_t arena[1024];
	sd_transcript t;
	sd_transcript_init(&t, &s.fc.base, arena, sizeof arena);
	sd_link_tap(&s.base, &t, "script:");

	uint8_t buf[8];
	size_t got = 0;
	assert_int_equal(sd_link_write_all(&s.base, (const uint8_t *)"\x7f", 1, SD_FOREVER), SD_OK);
	assert_int_equal(sd_link_read_exact(&s.base, buf, 5, SD_MS(1), &got), SD_OK);
	assert_int_equal(got, 5);
	assert_int_equal(sd_link_set_lines(&s.base, SD_LINE_DTR | 0x80u, SD_LINE_DTR), SD_OK);
	assert_int_equal(s.base.lines, SD_LINE_DTR); /* only DTR/RTS are outputs */
	/* the device is gone now: the error sticks without touching the medium */
	assert_int_equal(sd_link_read(&s.base, buf, 1, SD_MS(2)), SD_ERR_CLOSED);
	assert_int_equal(sd_link_write(&s.base, buf, 1, SD_MS(2)), SD_ERR_CLOSED);
	assert_int_equal(sd_link_set_lines(&s.base, SD_LINE_RTS, 0), SD_ERR_CLOSED);
	assert_int_equal(s.nwritten, 1);
	assert_int_equal(sd_link_flush(&s.base, SD_FLUSH_IN), SD_ERR_CLOSED);
	sd_link_clear_error(&s.base);
	assert_int_equal(sd_link_flush(&s.base, SD_FLUSH_IN), SD_ERR_UNSUPPORTED);

	int kinds[8] = { 0 };
	size_t cur = 0, n = 0;
	sd_trec r;
	while (n < 8 && sd_transcript_next(&t, &cur, &r))
		kinds[n++] = r.kind;
	assert_int_equal(n, 5);
	assert_int_equal(kinds[0], SD_TR_OPEN);
	assert_int_equal(kinds[1], SD_TR_TX);
	assert_int_equal(kinds[2], SD_TR_RX);
	assert_int_equal(kinds[3], SD_TR_LINES);
	assert_int_equal(kinds[4], SD_TR_ERROR);
	assert_int_equal(t.rx_bytes, 5);
	assert_int_equal(t.tx_bytes, 1);
}

static void drain_stops_when_quiet(void **state)
{
	(void)state;
	static const script_chunk ch[] = {
		{ 0, HELLO, 5 }, { SD_MS(100), HELLO, 5 }, { SD_MS(900), HELLO, 5 },
	};
	script_link s;
	script_link_init(&s, ch, 3);
	/* quiet 250 ms: the third chunk, 800 ms after the second, is not drained */
	assert_int_equal(sd_link_drain(&s.base, SD_MS(250), SD_S(5)), 10);
	assert_int_equal(sd_now(&s.fc.base), SD_MS(350));
	/* and the overall deadline bounds it even while bytes keep coming */
	script_link_init(&s, ch, 3);
	assert_int_equal(sd_link_drain(&s.base, SD_MS(250), SD_MS(50)), 5);
}

static void listen_keeps_text_and_does_not_poke_a_talker(void **state)
{
	(void)state;
	static const script_chunk ch[] = { { SD_MS(30), HELLO, 5 }, { SD_MS(130), HELLO, 5 } };
	script_link s;
	script_link_init(&s, ch, 2);
	uint8_t buf[64];
	sd_listen L;
	static const uint8_t poke[] = { 0x30, 0x20 };
	sd_listen_init(&L, buf, sizeof buf, SD_MS(500), poke, 2, SD_MS(200));
	assert_int_equal(sd_run(&L.eng, &s.base, SD_S(5)), SD_OK);
	assert_int_equal(L.len, 10);
	assert_memory_equal(buf, "hellohello", 10);
	assert_false(L.poked);
	assert_int_equal(s.nwritten, 0);
	assert_int_equal(L.first_rx, SD_MS(30));
	assert_int_equal(sd_now(&s.fc.base), SD_MS(500)); /* listened the whole window */
}

static void listen_pokes_silence_once_and_reads_the_answer(void **state)
{
	(void)state;
	static const uint8_t ans[] = { 0x14, 0x10 };
	static const script_chunk ch[] = { { SD_MS(1010), ans, 2 } };
	script_link s;
	script_link_init(&s, ch, 1);
	uint8_t buf[64];
	sd_listen L;
	static const uint8_t poke[] = { 0x30, 0x20 };
	sd_listen_init(&L, buf, sizeof buf, SD_S(1), poke, 2, SD_MS(500));
	assert_int_equal(sd_run(&L.eng, &s.base, SD_S(5)), SD_OK);
	assert_true(L.poked);
	assert_int_equal(s.nwritten, 2);
	assert_memory_equal(s.written, poke, 2);
	assert_int_equal(L.before_poke, 0);
	assert_int_equal(L.len, 2);
	/* after the answer began, only a short quiet gap was waited for */
	assert_true(sd_now(&s.fc.base) < SD_MS(1010) + SD_MS(100));
}

static void listen_reports_a_vanished_device(void **state)
{
	(void)state;
	static const script_chunk ch[] = { { SD_MS(10), HELLO, 5 } };
	script_link s;
	script_link_init(&s, ch, 1);
	s.close_after = 1;
	uint8_t buf[64];
	sd_listen L;
	sd_listen_init(&L, buf, sizeof buf, SD_S(1), NULL, 0, 0);
	assert_int_equal(sd_run(&L.eng, &s.base, SD_S(5)), SD_ERR_CLOSED);
	assert_int_equal(L.len, 5);
}

static void listen_counts_what_does_not_fit(void **state)
{
	(void)state;
	static uint8_t flood[4000];
	memset(flood, 'x', sizeof flood);
	static const script_chunk ch[] = { { 0, flood, sizeof flood } };
	script_link s;
	script_link_init(&s, ch, 1);
	uint8_t buf[100];
	sd_listen L;
	sd_listen_init(&L, buf, sizeof buf, SD_S(1), NULL, 0, 0);
	L.enough = 10000; /* keep listening past a full buffer */
	assert_int_equal(sd_run(&L.eng, &s.base, SD_S(5)), SD_OK);
	assert_int_equal(L.len, 100);
	assert_int_equal(L.lost, 3900);
}

/* An engine that never asks for I/O must be stopped, not spun. */
static void spin_step(sd_engine *e, const sd_event *ev)
{
	(void)ev;
	sd_ctrl c = { .op = SD_CTRL_NOTE, .note = NULL };
	sd_engine_ctrl(e, &c);
}
static const sd_engine_ops spin_ops = { SD_ENGINE_OPS_V1, "spin", spin_step };

static void run_stops_a_spinning_engine_and_honours_overall(void **state)
{
	(void)state;
	script_link s;
	script_link_init(&s, NULL, 0);
	sd_engine e;
	sd_engine_init(&e, &spin_ops);
	assert_int_equal(sd_run(&e, &s.base, SD_S(1)), SD_ERR_STATE);
	assert_true(e.state & SD_ENG_FAILED);

	uint8_t buf[8];
	sd_listen L;
	sd_listen_init(&L, buf, sizeof buf, SD_S(100), NULL, 0, 0);
	script_link_init(&s, NULL, 0);
	assert_int_equal(sd_run(&L.eng, &s.base, SD_MS(300)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(&s.fc.base), SD_MS(300));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wrappers_tap_every_byte_and_keep_fatal_errors),
		cmocka_unit_test(drain_stops_when_quiet),
		cmocka_unit_test(listen_keeps_text_and_does_not_poke_a_talker),
		cmocka_unit_test(listen_pokes_silence_once_and_reads_the_answer),
		cmocka_unit_test(listen_reports_a_vanished_device),
		cmocka_unit_test(listen_counts_what_does_not_fit),
		cmocka_unit_test(run_stops_a_spinning_engine_and_honours_overall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
