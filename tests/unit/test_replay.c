/* The replay link (src/link/replay.c) and sd_replay_run (src/diag/replay.c):
 * recorded rx served in order once the host did what the recording had it
 * do, the clock jumping to recorded times, timeouts at deadlines,
 * divergences counted; and a session recorded on a simulator re-run over
 * its own transcript, agreeing with it, and a tampered one not. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static _Alignas(8) uint8_t arena[1 << 16];

/* A transcript on a fake clock, records added at given times. */
typedef struct rec {
	sd_transcript t;
	sd_fake_clock fc;
} rec;

static void rec_init(rec *r)
{
	sd_fake_clock_init(&r->fc, 0);
	sd_transcript_init(&r->t, &r->fc.base, arena, sizeof arena);
}

static void add(rec *r, sd_time t, int kind, const char *bytes, size_t n)
{
	sd_trec x = { .t = t, .kind = (uint8_t)kind, .len = (uint32_t)n, .data = (const uint8_t *)bytes };
	sd_transcript_add_at(&r->t, &x);
}

static void add_cfg(rec *r, sd_time t, uint32_t baud)
{
	sd_trec x = { .t = t, .kind = SD_TR_CFG, .cfg = SD_LINE_CFG_8N1(baud) };
	sd_transcript_add_at(&r->t, &x);
}

static sd_link *open_replay(rec *r, sd_time slack)
{
	sd_replay_opts o = { .slack = slack };
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_replay(&r->t, &o, &l), SD_OK);
	assert_non_null(l);
	assert_true(l->caps & SD_LINK_VIRTUAL);
	return l;
}

static sd_replay_stats stats(sd_link *l)
{
	sd_replay_stats st;
	assert_int_equal(sd_link_replay_stats(l, &st), SD_OK);
	return st;
}

static void rx_waits_for_the_recorded_tx_and_jumps_the_clock(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	add(&r, 0, SD_TR_OPEN, "sim:x", 5);
	add(&r, 100, SD_TR_TX, "\x30\x20", 2);
	add(&r, 2500, SD_TR_RX, "\x14\x10", 2);
	add(&r, 2500, SD_TR_CLOSE, NULL, 0);
	sd_link *l = open_replay(&r, 0);
	uint8_t b[8];
	/* the host has not written yet: the read times out at its deadline */
	assert_int_equal(sd_link_read(l, b, sizeof b, SD_MS(1)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_MS(1));
	assert_int_equal(sd_link_write(l, (const uint8_t *)"\x30\x20", 2, SD_FOREVER), 2);
	/* one byte at a time: the chunk is served in parts, at its time */
	assert_int_equal(sd_link_read(l, b, 1, SD_MS(10)), 1);
	assert_int_equal(b[0], 0x14);
	assert_int_equal(sd_now(l->clock), 2500);
	assert_int_equal(sd_link_read(l, b, sizeof b, SD_MS(10)), 1);
	assert_int_equal(b[0], 0x10);
	/* the trace has ended: reads time out at their deadline */
	assert_int_equal(sd_link_read(l, b, sizeof b, SD_MS(20)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_MS(20));
	/* SD_FOREVER never blocks and never moves the clock */
	assert_int_equal(sd_link_read(l, b, sizeof b, SD_FOREVER), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_MS(20));
	sd_replay_stats st = stats(l);
	assert_int_equal(st.divergences, 0);
	assert_int_equal(st.unread, 0);
	assert_int_equal(st.first_divergence, -1);
	assert_int_equal(st.rx_bytes, 2);
	sd_link_close(l);
}

static void a_chunk_after_the_deadline_times_out_unless_within_slack(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	add(&r, SD_MS(50), SD_TR_RX, "A", 1);
	sd_link *l = open_replay(&r, 0);
	uint8_t b;
	assert_int_equal(sd_link_read(l, &b, 1, SD_MS(49)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(l->clock), SD_MS(49));
	assert_int_equal(sd_link_read(l, &b, 1, SD_MS(60)), 1);
	assert_int_equal(sd_now(l->clock), SD_MS(50));
	sd_link_close(l);

	l = open_replay(&r, SD_MS(2));
	assert_int_equal(sd_link_read(l, &b, 1, SD_MS(49)), 1);
	assert_int_equal(b, 'A');
	sd_link_close(l);
}

static void different_bytes_and_actions_are_divergences(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	add_cfg(&r, 0, 115200);
	add(&r, 10, SD_TR_TX, "\x7f", 1);
	add(&r, 200, SD_TR_RX, "\x79", 1);
	add(&r, 300, SD_TR_TX, "\x00\xff", 2);
	sd_link *l = open_replay(&r, 0);
	sd_line_cfg c = SD_LINE_CFG_8N1(57600);
	assert_int_equal(sd_link_set_cfg(l, &c), SD_OK); /* accepted, but not the recorded rate */
	sd_replay_stats st = stats(l);
	assert_int_equal(st.divergences, 1);
	assert_int_equal(st.first_divergence, 0);
	assert_int_equal(sd_link_write(l, (const uint8_t *)"\x7f", 1, SD_FOREVER), 1);
	uint8_t b;
	assert_int_equal(sd_link_read(l, &b, 1, SD_MS(1)), 1);
	assert_int_equal(sd_link_write(l, (const uint8_t *)"\x01\xfe\x55", 3, SD_FOREVER), 3);
	st = stats(l);
	assert_int_equal(st.divergences, 2);
	assert_int_equal(st.tx_diff, 3); /* two unlike, one beyond the recording */
	/* an action the recording does not have at all */
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, SD_LINE_DTR), SD_OK);
	assert_int_equal(stats(l).divergences, 3);
	assert_int_equal(stats(l).unread, 0);
	sd_link_close(l);
}

static void lines_flush_matched_and_unread_records_counted(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	sd_trec x = { .t = 0, .kind = SD_TR_LINES, .a = SD_LINE_DTR | SD_LINE_RTS, .b = SD_LINE_DTR };
	sd_transcript_add_at(&r.t, &x);
	sd_trec f = { .t = 5, .kind = SD_TR_FLUSH, .a = SD_FLUSH_IN };
	sd_transcript_add_at(&r.t, &f);
	add(&r, 10, SD_TR_NOTE, "a note", 6);
	add(&r, 20, SD_TR_TX, "\x30", 1);
	add(&r, 30, SD_TR_RX, "\x14", 1);
	sd_link *l = open_replay(&r, 0);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, SD_LINE_DTR), SD_OK);
	assert_int_equal(sd_link_flush(l, SD_FLUSH_IN), SD_OK);
	sd_replay_stats st = stats(l);
	assert_int_equal(st.divergences, 0);
	assert_int_equal(st.unread, 2);       /* the tx and the rx */
	assert_int_equal(st.first_unread, 3); /* the note is not I/O */
	sd_link_close(l);
}

static void a_recorded_error_ends_the_link(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	add(&r, 10, SD_TR_TX, "\xa0", 1);
	sd_trec e = { .t = SD_MS(7), .kind = SD_TR_ERROR, .a = (uint32_t)-SD_ERR_CLOSED };
	sd_transcript_add_at(&r.t, &e);
	sd_link *l = open_replay(&r, 0);
	assert_int_equal(sd_link_write(l, (const uint8_t *)"\xa0", 1, SD_FOREVER), 1);
	uint8_t b;
	assert_int_equal(sd_link_read(l, &b, 1, SD_S(1)), SD_ERR_CLOSED);
	assert_int_equal(sd_now(l->clock), SD_MS(7));
	assert_int_equal(sd_link_read(l, &b, 1, SD_S(1)), SD_ERR_CLOSED); /* sticky */
	sd_link_close(l);
}

static void what_the_recorded_link_could_not_do_fails_again(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	add(&r, 0, SD_TR_TX, "\x30", 1);
	/* a pty slave (tty link): rate and framing, no modem lines, no break */
	sd_replay_opts o = { .caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY };
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_replay(&r.t, &o, &l), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, 0), SD_ERR_UNSUPPORTED);
	assert_int_equal(sd_link_break(l, SD_MS(1)), SD_ERR_UNSUPPORTED);
	assert_int_equal(sd_link_write(l, (const uint8_t *)"\x30", 1, SD_FOREVER), 1);
	assert_int_equal(stats(l).divergences, 0); /* refused as live, not a divergence */
	sd_link_close(l);
	/* a tcp link: no settings, no flush */
	o.caps = SD_LINK_BYTES | SD_LINK_NET;
	assert_int_equal(sd_link_open_replay(&r.t, &o, &l), SD_OK);
	sd_line_cfg c = SD_LINE_CFG_8N1(9600);
	assert_int_equal(sd_link_set_cfg(l, &c), SD_ERR_UNSUPPORTED);
	assert_int_equal(sd_link_flush(l, SD_FLUSH_IN), SD_ERR_UNSUPPORTED);
	assert_int_equal(stats(l).divergences, 0);
	sd_link_close(l);
}

/* Record `sync PROTO` (identify: `info`) on a simulator as the CLI does
 * (run record, tap, outcome), then re-run it over the transcript. */
static void record_session_of(rec *r, const char *proto, int identify, const char *target, sd_report *rep,
			      void *ctx)
{
	sd_link *l = NULL;
	char why[200];
	assert_int_equal(sd_link_open(target, NULL, &l, why, sizeof why), SD_OK);
	sd_transcript_init(&r->t, l->clock, arena, sizeof arena);
	const sd_proto *p = sd_proto_find(proto);
	const char *cmd = identify ? "info" : "sync";
	sd_trace_run run = { .link = "sim", .caps = l->caps, .identify = identify,
			     .usb_id = (uint32_t)l->usb_vid << 16 | l->usb_pid };
	snprintf(run.command, sizeof run.command, "%s", cmd);
	snprintf(run.protocol, sizeof run.protocol, "%s", proto);
	sd_transcript_run(&r->t, &run);
	sd_link_tap(l, &r->t, target);
	sd_proto_args a = { .identify = identify };
	sd_report_init(rep, cmd, target);
	p->session(ctx, l, &a, rep);
	if (!rep->by.protocol[0] && rep->ok)
		snprintf(rep->by.protocol, sizeof rep->by.protocol, "%s", p->name);
	sd_diag_sort(&rep->diag);
	sd_link_close(l);
	sd_trace_outcome o;
	sd_trace_outcome_of(rep, &o);
	sd_transcript_outcome(&r->t, &o);
}

static void record_session(rec *r, const char *target, sd_report *rep, void *ctx)
{
	record_session_of(r, "stk500", 0, target, rep, ctx);
}

static void a_session_replays_to_its_own_verdict(void **state)
{
	(void)state;
	static sd_report live, again;
	static _Alignas(16) uint8_t ctx[1 << 16];
	assert_true(sd_proto_find("stk500")->ctx_size <= sizeof ctx);
	rec r;
	memset(ctx, 0, sizeof ctx);
	record_session(&r, "sim:stk500", &live, ctx);
	assert_true(live.ok);
	/* t increases across the recording: the simulator's wire takes time */
	size_t cur = 0;
	sd_trec x;
	sd_time last = 0;
	while (sd_transcript_next(&r.t, &cur, &x))
		last = x.t;
	assert_true(last > 0);

	sd_replay *rp = sd_replay_new();
	sd_replay_result res;
	sd_report_init(&again, "replay", "sim:stk500");
	assert_int_equal(sd_replay_run(rp, &r.t, &again, &res), SD_OK);
	assert_true(res.rerun);
	assert_true(again.ok);
	assert_int_equal(res.agrees, 1);
	assert_int_equal(res.diverged_at, -1);
	assert_int_equal(res.st.divergences, 0);
	sd_replay_free(rp);

	/* Tamper with the answer: 14 10 becomes 14 11. */
	cur = 0;
	size_t at = 0;
	while (sd_transcript_next(&r.t, &at, &x))
		if (x.kind == SD_TR_RX && x.len == 2 && x.data[0] == 0x14 && x.data[1] == 0x10)
			((uint8_t *)(uintptr_t)x.data)[1] = 0x11;
	rp = sd_replay_new();
	sd_report_init(&again, "replay", "sim:stk500");
	assert_int_equal(sd_replay_run(rp, &r.t, &again, &res), SD_OK);
	assert_true(res.rerun);
	assert_false(again.ok);
	assert_int_equal(res.agrees, 0);
	assert_true(res.diverged_at >= 0);
	sd_replay_free(rp);
}

/* A trace in which the port vanished and was opened again (an ESP on its
 * own USB-Serial/JTAG, sim vanish_ms) replays: the reopen meets the
 * recorded `reopen` (a failed one its `error`), and the verdict agrees;
 * a trace without one diverges where a reopen is asked. */
static void a_trace_with_a_reopen_replays(void **state)
{
	(void)state;
	static sd_report live, again;
	static _Alignas(16) uint8_t ctx[1 << 16];
	assert_true(sd_proto_find("esp")->ctx_size <= sizeof ctx);
	static const char *const targets[] = { "sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=700",
					       "sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=3000" };
	for (size_t i = 0; i < 2; i++) {
		rec r;
		memset(ctx, 0, sizeof ctx);
		record_session_of(&r, "esp", 1, targets[i], &live, ctx);
		assert_int_equal(live.ok, i == 0);
		size_t cur = 0, reopens = 0;
		sd_trec x;
		while (sd_transcript_next(&r.t, &cur, &x))
			reopens += x.kind == SD_TR_REOPEN;
		assert_int_equal(reopens, 2); /* 700 ms: a failed one, then back; 3000: two failed */
		sd_replay *rp = sd_replay_new();
		sd_replay_result res;
		sd_report_init(&again, "replay", targets[i]);
		assert_int_equal(sd_replay_run(rp, &r.t, &again, &res), SD_OK);
		assert_true(res.rerun);
		assert_int_equal(again.ok, i == 0);
		assert_int_equal(res.agrees, 1);
		assert_int_equal(res.st.divergences, 0);
		assert_int_equal(res.st.unread, 0);
		sd_replay_free(rp);
	}
	/* the replay link alone: a reopen where the recording has none */
	rec r;
	rec_init(&r);
	add(&r, 0, SD_TR_TX, "\x01", 1);
	sd_link *l = open_replay(&r, 0);
	assert_int_equal(sd_link_reopen(l, SD_FOREVER), SD_ERR_NOTFOUND);
	assert_int_equal(stats(l).divergences, 1);
	sd_link_close(l);
}

static void without_a_run_record_the_bytes_are_classified(void **state)
{
	(void)state;
	static sd_report rep;
	rec r;
	rec_init(&r);
	add(&r, 0, SD_TR_RX, "hello world\r\n", 13);
	add(&r, SD_MS(100), SD_TR_RX, "hello world\r\n", 13);
	sd_replay *rp = sd_replay_new();
	sd_replay_result res;
	sd_report_init(&rep, "replay", "x");
	assert_int_equal(sd_replay_run(rp, &r.t, &rep, &res), SD_OK);
	assert_false(res.rerun);
	assert_false(res.have_run);
	assert_int_equal(res.agrees, -1);
	assert_non_null(strstr(res.why, "no run record"));
	assert_true(rep.diag.n > 0);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_APP_RUNNING);
	sd_replay_free(rp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rx_waits_for_the_recorded_tx_and_jumps_the_clock),
		cmocka_unit_test(a_chunk_after_the_deadline_times_out_unless_within_slack),
		cmocka_unit_test(different_bytes_and_actions_are_divergences),
		cmocka_unit_test(lines_flush_matched_and_unread_records_counted),
		cmocka_unit_test(a_recorded_error_ends_the_link),
		cmocka_unit_test(what_the_recorded_link_could_not_do_fails_again),
		cmocka_unit_test(a_session_replays_to_its_own_verdict),
		cmocka_unit_test(a_trace_with_a_reopen_replays),
		cmocka_unit_test(without_a_run_record_the_bytes_are_classified),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
