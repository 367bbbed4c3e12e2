/* The STM32 module: the client session against the simulated STM32 in
 * process (virtual time), every mode to its verdict, entry sequences end to
 * end on BOOT0/NRST, noise and floods, and the simulator's own commands
 * (write, erase, go, protect) driven byte by byte. Every session also
 * checks the read-only rule: the device logged no destructive command. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

typedef struct run {
	sd_report r;
	int       err;
	size_t    destructive, total;
	char      log[2048]; /* names of the logged commands, one per line */
} run;

static sd_link *open_sim(const char *uri)
{
	sd_link *l = NULL;
	char why[200] = "";
	int e = sd_link_open(uri, NULL, &l, why, sizeof why);
	if (e)
		fail_msg("%s: %s", uri, why);
	return l;
}

static void session_on(run *out, sd_link *l, const char *uri, int identify, const char *enter,
		       const char *leave, uint32_t baud)
{
	const sd_proto *p = sd_proto_find("stm32");
	assert_non_null(p);
	assert_non_null(p->session);
	sd_seq en, ex;
	char why[200];
	sd_proto_args a = { .identify = identify, .baud = baud };
	if (enter) {
		assert_int_equal(sd_seq_parse(enter, strlen(enter), &en, why, sizeof why), SD_OK);
		a.enter = &en;
	}
	if (leave) {
		assert_int_equal(sd_seq_parse(leave, strlen(leave), &ex, why, sizeof why), SD_OK);
		a.exit = &ex;
	}
	/* The report's evidence points into ctx: it lives until the next session. */
	static _Alignas(16) unsigned char ctx[1 << 16];
	assert_true(p->ctx_size <= sizeof ctx);
	memset(ctx, 0, sizeof ctx);
	sd_report_init(&out->r, identify ? "info" : "sync", uri);
	out->err = p->session(ctx, l, &a, &out->r);
	sd_diag_sort(&out->r.diag);
	sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	out->destructive = d->log.destructive;
	out->total = d->log.total;
	out->log[0] = '\0';
	for (size_t i = 0; i < d->log.n; i++) {
		size_t k = strlen(out->log);
		snprintf(out->log + k, sizeof out->log - k, "%s\n", d->log.e[i].name);
	}
	/* the read-only rule, for every session of this file */
	assert_int_equal(out->destructive, 0);
}

static run *session(const char *uri, int identify, const char *enter, const char *leave)
{
	static run R;
	memset(&R, 0, sizeof R);
	sd_link *l = open_sim(uri);
	session_on(&R, l, uri, identify, enter, leave, 0);
	sd_link_close(l);
	return &R;
}

static const char *fact(const run *R, const char *k)
{
	const char *v = sd_report_fact_get(&R->r, k);
	return v ? v : "";
}

static const char *top(const run *R)
{
	return R->r.diag.n ? sd_cause_name(R->r.diag.f[0].cause) : "";
}

static void bootloader_identifies_read_only(void **state)
{
	(void)state;
	run *R = session("sim:stm32", 1, NULL, NULL);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.protocol, "stm32");
	assert_string_equal(R->r.by.mode, "bootloader");
	assert_string_equal(R->r.by.chip, "STM32F1 medium-density");
	assert_string_equal(fact(R, "bootloader_version"), "3.1");
	assert_string_equal(fact(R, "pid"), "0x410");
	assert_string_equal(fact(R, "commands"), "00 01 02 11 21 31 44 63 73 82 92");
	assert_string_equal(fact(R, "option_bytes"), "00 00");
	assert_string_equal(fact(R, "line"), "115200 8E1");
	assert_non_null(strstr(fact(R, "flash_first_bytes"), "00 50 00 20 01 01 00 08 ff"));
	assert_non_null(strstr(fact(R, "flash"), "0x08000101"));
	assert_int_equal(R->r.diag.n, 0);
	/* what the device saw: autobaud, then only read-only commands */
	/* every field is asked twice (issue 11: nothing the loader sends has a
	 * checksum): Get, Get Version, Get ID and the Read, each confirmed */
	assert_string_equal(R->log, "init (autobaud)\nget\nget\nget-version\nget-id\nread-memory\n"
			    "get-version\nget-id\nread-memory\n");
	assert_string_equal(fact(R, "verified"),
			    "bootloader_version commands erase_command option_bytes pid family flash_first_bytes flash");
	assert_string_equal(fact(R, "unverified"), "");
}

static void sync_alone_sends_only_get(void **state)
{
	(void)state;
	run *R = session("sim:stm32", 0, NULL, NULL);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok);
	assert_string_equal(R->log, "init (autobaud)\nget\n");
	assert_string_equal(R->r.by.chip, "");
}

static void bootloader_2x_lists_erase_not_extended(void **state)
{
	(void)state;
	run *R = session("sim:stm32?blver=2.2&pid=0x413", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(fact(R, "bootloader_version"), "2.2");
	assert_non_null(strstr(fact(R, "erase_command"), "0x43"));
	assert_string_equal(R->r.by.chip, "STM32F405/F407/F415/F417");
}

static void unknown_pid_is_named_by_number(void **state)
{
	(void)state;
	run *R = session("sim:stm32?pid=0x999", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "STM32 PID 0x999");
	/* a PID no listed part has is taken only when three answers agree
	 * (two for a listed one): noise can make two alike */
	assert_non_null(strstr(R->log, "read-memory\nget-version\nget-id\nread-memory\nget-id\n"));
	R = session("sim:stm32?pid=0x410", 1, NULL, NULL);
	assert_null(strstr(R->log, "read-memory\nget-id\n"));
}

static void app_text_is_app_running_with_the_text(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=app", 1, NULL, NULL);
	assert_int_equal(R->err, SD_ERR_PROTO);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "app-running");
	assert_string_equal(R->r.by.mode, "application");
	const sd_finding *f = &R->r.diag.f[0];
	assert_true(f->rcvd_len >= 11);
	assert_memory_equal(f->rcvd, "hello world", 11);
	assert_int_equal(f->sent_len, 1);
	assert_int_equal(f->sent[0], 0x7f);
	assert_non_null(strstr(f->fix, "BOOT0"));
}

static void app_on_ttyacm_says_usb_cdc(void **state)
{
	(void)state;
	static run R;
	memset(&R, 0, sizeof R);
	sd_link *l = open_sim("sim:stm32?mode=app");
	session_on(&R, l, "/dev/ttyACM0", 1, NULL, NULL, 0); /* the report's target name */
	sd_link_close(l);
	assert_string_equal(top(&R), "app-running");
	assert_non_null(strstr(R.r.diag.f[0].detail, "USB-CDC"));
}

static void silence_is_silent_after_two_7f(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=silent", 1, NULL, NULL);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "silent");
	assert_int_equal(R->r.diag.f[0].sent_len, 2);
	assert_non_null(strstr(R->r.diag.f[0].fix, "TX/RX"));
}

static void echo_is_echo(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=echo", 1, NULL, NULL);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "echo");
}

static void read_protection_is_a_device_state(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=rdp", 1, NULL, NULL);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok); /* identified: the loader answers */
	assert_string_equal(top(R), "read-protected");
	assert_int_equal(R->r.diag.f[0].layer, SD_LAYER_SECURITY);
	assert_non_null(strstr(R->r.diag.f[0].fix, "erase"));
	assert_non_null(strstr(fact(R, "read_protection"), "active"));
	assert_string_equal(R->r.by.chip, "STM32F1 medium-density");
	assert_string_equal(fact(R, "flash_first_bytes"), "");
}

static void glitch_before_ack_is_skipped(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=glitch", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(fact(R, "skipped_before_ack"), "1 byte");
	R = session("sim:stm32?preamble=2048&mode=glitch", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(fact(R, "skipped_before_ack"), "2049 bytes");
}

static void adapter_dropping_parity_is_parity_mismatch(void **state)
{
	(void)state;
	run *R = session("sim:stm32?drop_parity=1", 1, NULL, NULL);
	assert_int_equal(R->err, SD_ERR_NACK);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "parity-mismatch");
	assert_non_null(strstr(R->r.diag.f[0].fix, "drops the parity"));
	/* the same adapter on an 8N1-only device works */
	R = session("sim:stm32?drop_parity=1&mode=8n1", 1, NULL, NULL);
	assert_true(R->r.ok);
}

static void nack_storm_is_reported(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=nack", 1, NULL, NULL);
	assert_false(R->r.ok);
	assert_non_null(strstr(R->r.diag.f[0].summary, "NACK"));
}

static void too_fast_for_the_loader_says_baud(void **state)
{
	(void)state;
	static run R;
	memset(&R, 0, sizeof R);
	sd_link *l = open_sim("sim:stm32?max_baud=115200");
	session_on(&R, l, "sim:stm32?max_baud=115200", 1, NULL, NULL, 230400);
	sd_link_close(l);
	assert_false(R.r.ok);
	assert_string_equal(top(&R), "silent");
	assert_non_null(sd_diag_find(&R.r.diag, SD_CAUSE_BAUD_MISMATCH));
}

static void entry_sequence_resets_into_the_loader(void **state)
{
	(void)state;
	run *R = session("sim:stm32?mode=app", 1, "boot0=rts:high,nrst=dtr:pulse-low:20ms", NULL);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "STM32F1 medium-density");
	if (!strstr(R->log, "reset (NRST low)\nboot loader (BOOT0=1)\n"))
		fail_msg("log:\n%s", R->log);
	/* BOOT0 low at reset: the application again, twice (one retry) */
	R = session("sim:stm32?mode=app", 1, "boot0=rts:low,nrst=dtr:pulse-low:20ms", NULL);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "app-running");
	assert_string_equal(fact(R, "attempts"), "2");
	assert_non_null(strstr(R->log, "boot app (BOOT0=0)\n"));
}

static void exit_sequence_runs_the_application(void **state)
{
	(void)state;
	static run R;
	memset(&R, 0, sizeof R);
	sd_link *l = open_sim("sim:stm32?mode=app");
	session_on(&R, l, "sim:stm32?mode=app", 0, "boot0=rts:high,nrst=dtr:pulse-low:20ms",
		   "boot0=rts:low,nrst=dtr:pulse-low:20ms", 0);
	assert_true(R.r.ok);
	assert_string_equal(sd_report_fact_get(&R.r, "exit_sequence"), "run");
	/* after the exit sequence the board prints its text */
	uint8_t buf[64];
	int n = sd_link_read(l, buf, sizeof buf, sd_deadline_in(l->clock, SD_MS(500)));
	assert_true(n >= 5);
	assert_memory_equal(buf, "hello", 5);
	sd_link_close(l);
}

static void already_synchronised_loader_nacks_the_second_7f(void **state)
{
	(void)state;
	static run R;
	memset(&R, 0, sizeof R);
	sd_link *l = open_sim("sim:stm32");
	uint8_t b = 0x7f, got = 0;
	assert_int_equal(sd_link_write_all(l, &b, 1, SD_S(1)), SD_OK);
	assert_int_equal(sd_link_read(l, &got, 1, sd_deadline_in(l->clock, SD_S(1))), 1);
	assert_int_equal(got, 0x79);
	session_on(&R, l, "sim:stm32", 1, NULL, NULL, 0);
	sd_link_close(l);
	assert_true(R.r.ok);
	assert_non_null(strstr(sd_report_fact_get(&R.r, "synced_by"), "NACK"));
}

static void noise_and_floods_still_identify(void **state)
{
	(void)state;
	static const char *const specs[] = {
		"noise=0.0001", "noise=0.001", "flood=2048&flood_kind=text", "flood=2048", "mode=glitch&noise=0.001", "preamble=2048",
	};
	for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
		for (unsigned seed = 1; seed <= 50; seed++) {
			char uri[128];
			snprintf(uri, sizeof uri, "sim:stm32?%s&seed=%u", specs[k], seed);
			run *R = session(uri, 1, NULL, NULL);
			if (!R->r.ok || strcmp(R->r.by.chip, "STM32F1 medium-density") != 0 ||
			    strcmp(fact(R, "pid"), "0x410") != 0)
				fail_msg("%s: ok=%d chip='%s' top=%s", uri, R->r.ok, R->r.by.chip, top(R));
		}
	}
}

static void session_costs_no_real_time(void **state)
{
	(void)state;
	sd_time t0 = sd_now(sd_clock_real());
	run *R = session("sim:stm32?mode=silent", 1, NULL, NULL);
	assert_false(R->r.ok);
	assert_true(sd_now(sd_clock_real()) - t0 < SD_MS(200));
}

/* ---- the simulator's own commands, byte by byte ------------------------- */

/* A raw host as the loader wants it: 8E1 (the sim link opens 8N1). */
static sd_link *open_raw(const char *uri)
{
	sd_link *l = open_sim(uri);
	sd_line_cfg c = SD_LINE_CFG_8E1(115200);
	assert_int_equal(sd_link_set_cfg(l, &c), SD_OK);
	return l;
}

/* One identify session with --part. */
static run *session_part(const char *uri, const char *part)
{
	static run R;
	memset(&R, 0, sizeof R);
	const sd_proto *p = sd_proto_find("stm32");
	sd_link *l = open_sim(uri);
	static _Alignas(16) unsigned char ctx[1 << 16];
	sd_proto_args a = { .identify = 1, .part = part };
	sd_report_init(&R.r, "info", uri);
	R.err = p->session(ctx, l, &a, &R.r);
	sd_diag_sort(&R.r.diag);
	sd_link_close(l);
	return &R;
}

static void part_is_compared_with_the_pid_family(void **state)
{
	(void)state;
	/* fits: the PID, a part of the family, the series, any case */
	static const char *const fit410[] = { "0x410", "STM32F103C8T6", "stm32f103", "F1", "STM32F103CB" };
	for (size_t i = 0; i < sizeof fit410 / sizeof fit410[0]; i++) {
		run *R = session_part("sim:stm32", fit410[i]);
		assert_true(R->r.ok);
		assert_int_equal(R->err, SD_OK);
		assert_null(sd_diag_find(&R->r.diag, SD_CAUSE_PART_MISMATCH));
	}
	run *R = session_part("sim:stm32?pid=0x413", "STM32F407VG");
	assert_true(R->r.ok);
	R = session_part("sim:stm32?pid=0x440", "STM32F051K8"); /* "STM32F030x8/F05x": x is any */
	assert_true(R->r.ok);
	/* a mismatch is a finding and a failed run (exit 1) */
	static const char *const misfit410[] = { "STM32F407", "0x413", "ATmega328P", "L4" };
	for (size_t i = 0; i < sizeof misfit410 / sizeof misfit410[0]; i++) {
		R = session_part("sim:stm32", misfit410[i]);
		assert_false(R->r.ok);
		assert_int_not_equal(R->err, SD_OK);
		assert_string_equal(top(R), "part-mismatch");
		assert_non_null(strstr(R->r.diag.f[0].summary, "0x410"));
		assert_non_null(strstr(fact(R, "part_mismatch"), misfit410[i]));
	}
	/* a PID outside the table cannot be compared by name: said, not failed */
	R = session_part("sim:stm32?pid=0x999", "STM32F103");
	assert_true(R->r.ok);
	assert_non_null(strstr(fact(R, "part_check"), "cannot compare"));
	R = session_part("sim:stm32?pid=0x999", "0x998");
	assert_false(R->r.ok);
}

static void late_device_identifies_and_states_the_round_trip(void **state)
{
	(void)state;
	run *R = session("sim:stm32?delay_ms=200", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "STM32F1 medium-density");
	assert_string_equal(fact(R, "unverified"), "");
	assert_non_null(strstr(fact(R, "round_trip"), "200."));
	assert_null(strstr(fact(R, "round_trip"), "break stm32flash"));
	/* slower than stm32flash's 0.5 s: still identified, and said */
	R = session("sim:stm32?delay_ms=700", 1, NULL, NULL);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "STM32F1 medium-density");
	assert_string_equal(fact(R, "unverified"), "");
	assert_non_null(strstr(fact(R, "round_trip"), "break stm32flash"));
	/* no latency: no pair to close, no warning */
	R = session("sim:stm32", 1, NULL, NULL);
	assert_non_null(strstr(fact(R, "round_trip"), "0.1 ms"));
}

static void loader_that_stops_answering_is_named(void **state)
{
	(void)state;
	/* right after the sync, in Get Version, in the Read */
	static const char *const uris[] = { "sim:stm32?hang_after=1", "sim:stm32?hang_after=3",
					    "sim:stm32?hang_after=6", "sim:stm32?hang_after=7&delay_ms=200" };
	static const char *const ops[] = { "Get (00 FF)", "Get Version", "Read Memory", "Read Memory" };
	static const char *const after[] = { "after 1 exchange:", "after 3 exchanges", "after 6 exchanges",
					     "after 7 exchanges" };
	for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
		run *R = session(uris[i], 1, NULL, NULL);
		assert_false(R->r.ok);
		assert_string_equal(top(R), "stopped-answering");
		const sd_finding *f = &R->r.diag.f[0];
		assert_non_null(strstr(f->summary, "stopped answering"));
		assert_non_null(strstr(f->summary, after[i]));
		assert_non_null(strstr(f->summary, ops[i]));
		assert_null(strstr(f->fix, "shield"));
		assert_null(sd_diag_find(&R->r.diag, SD_CAUSE_NOISE));
	}
}

static void xfer(sd_link *l, const uint8_t *tx, size_t n, uint8_t *rx, size_t want)
{
	size_t got = 0;
	assert_int_equal(sd_link_write_all(l, tx, n, SD_FOREVER), SD_OK);
	if (want)
		assert_int_equal(sd_link_read_exact(l, rx, want, sd_deadline_in(l->clock, SD_S(1)), &got), SD_OK);
	else /* nothing may come */
		assert_int_equal(sd_link_read(l, rx, 1, sd_deadline_in(l->clock, SD_MS(100))), SD_ERR_TIMEOUT);
}

static void sim_write_erase_read_go_and_protect(void **state)
{
	(void)state;
	sd_link *l = open_raw("sim:stm32?flash_kb=16");
	sd_sim_device *d = sd_sim_device_of(l);
	uint8_t rx[300];
	xfer(l, (const uint8_t[]){ 0x7f }, 1, rx, 1);
	assert_int_equal(rx[0], 0x79);
	/* Write Memory 4 bytes at 0x08000100 */
	xfer(l, (const uint8_t[]){ 0x31, 0xce }, 2, rx, 1);
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x01, 0x00, 0x09 }, 5, rx, 1);
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x03, 0xde, 0xad, 0xbe, 0xef, 0x03 ^ 0xde ^ 0xad ^ 0xbe ^ 0xef }, 6, rx, 1);
	assert_int_equal(rx[0], 0x79);
	assert_int_equal(d->log.destructive, 1);
	/* a wrong checksum is refused */
	xfer(l, (const uint8_t[]){ 0x31, 0xce }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x01, 0x00, 0x09 }, 5, rx, 1);
	xfer(l, (const uint8_t[]){ 0x00, 0x55, 0x00 }, 3, rx, 1);
	assert_int_equal(rx[0], 0x1f);
	/* Read it back */
	xfer(l, (const uint8_t[]){ 0x11, 0xee }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x01, 0x00, 0x09 }, 5, rx, 1);
	xfer(l, (const uint8_t[]){ 0x03, 0xfc }, 2, rx, 5);
	assert_memory_equal(rx, "\x79\xde\xad\xbe\xef", 5);
	/* reading past the 16 KiB image is refused */
	xfer(l, (const uint8_t[]){ 0x11, 0xee }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x40, 0x00, 0x48 }, 5, rx, 1);
	assert_int_equal(rx[0], 0x1f);
	/* Extended Erase, mass: FF FF 00 */
	xfer(l, (const uint8_t[]){ 0x44, 0xbb }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0xff, 0xff, 0x00 }, 3, rx, 1);
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x11, 0xee }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x00, 0x00, 0x08 }, 5, rx, 1);
	xfer(l, (const uint8_t[]){ 0xff, 0x00 }, 2, rx, 257);
	for (size_t i = 1; i < 257; i++)
		assert_int_equal(rx[i], 0xff);
	/* Erase 0x43 is not a 3.x command */
	xfer(l, (const uint8_t[]){ 0x43, 0xbc }, 2, rx, 1);
	assert_int_equal(rx[0], 0x1f);
	/* Readout Protect: ACK ACK, then the chip resets (0x7F again) */
	xfer(l, (const uint8_t[]){ 0x82, 0x7d }, 2, rx, 2);
	assert_memory_equal(rx, "\x79\x79", 2);
	xfer(l, (const uint8_t[]){ 0x00, 0xff }, 2, rx, 0); /* waiting for 0x7F: no answer */
	xfer(l, (const uint8_t[]){ 0x7f }, 1, rx, 1);
	xfer(l, (const uint8_t[]){ 0x11, 0xee }, 2, rx, 1);
	assert_int_equal(rx[0], 0x1f); /* protected */
	/* Readout Unprotect: erases, resets */
	xfer(l, (const uint8_t[]){ 0x92, 0x6d }, 2, rx, 2);
	xfer(l, (const uint8_t[]){ 0x7f }, 1, rx, 1);
	assert_int_equal(rx[0], 0x79);
	/* Go: the application runs and prints */
	xfer(l, (const uint8_t[]){ 0x21, 0xde }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0x08, 0x00, 0x00, 0x00, 0x08 }, 5, rx, 1);
	assert_int_equal(rx[0], 0x79);
	int n = sd_link_read(l, rx, sizeof rx, sd_deadline_in(l->clock, SD_MS(300)));
	assert_true(n >= 5);
	assert_memory_equal(rx, "hello", 5);
	assert_true(d->log.destructive >= 6);
	sd_link_close(l);
}

static void sim_v2_erase_and_bad_options(void **state)
{
	(void)state;
	sd_link *l = open_raw("sim:stm32?blver=2.2");
	uint8_t rx[8];
	xfer(l, (const uint8_t[]){ 0x7f }, 1, rx, 1);
	xfer(l, (const uint8_t[]){ 0x43, 0xbc }, 2, rx, 1);
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x01, 0x00, 0x01, 0x00 }, 4, rx, 1); /* pages 0, 1 */
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x43, 0xbc }, 2, rx, 1);
	xfer(l, (const uint8_t[]){ 0xff, 0x00 }, 2, rx, 1); /* global */
	assert_int_equal(rx[0], 0x79);
	xfer(l, (const uint8_t[]){ 0x44, 0xbb }, 2, rx, 1);
	assert_int_equal(rx[0], 0x1f);
	sd_link_close(l);

	char why[200];
	sd_link *x = NULL;
	assert_int_equal(sd_link_open("sim:stm32?mode=sleepy", NULL, &x, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "sleepy"));
	assert_int_equal(sd_link_open("sim:stm32?flash_kb=512", NULL, &x, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_link_open("sim:stm32?blver=3", NULL, &x, why, sizeof why), SD_ERR_ARG);
	assert_null(x);
}

/* probe sends one protocol's poke (the first in the table, or --expect's):
 * none of them may be a destructive command to a synchronised loader. */
static void every_probe_poke_is_harmless_to_a_loader(void **state)
{
	(void)state;
	for (size_t i = 0; i < sd_proto_count(); i++) {
		const sd_proto *p = sd_proto_at(i);
		if (!p->poke || !p->poke_len)
			continue;
		sd_link *l = open_raw("sim:stm32");
		uint8_t rx[64];
		xfer(l, (const uint8_t[]){ 0x7f }, 1, rx, 1); /* synchronised: pokes are opcodes now */
		for (int k = 0; k < 3; k++) {
			assert_int_equal(sd_link_write_all(l, p->poke, p->poke_len, SD_FOREVER), SD_OK);
			while (sd_link_read(l, rx, sizeof rx, sd_deadline_in(l->clock, SD_MS(50))) > 0)
				;
		}
		sd_sim_device *d = sd_sim_device_of(l);
		if (d->log.destructive)
			fail_msg("the %s poke made the loader run a destructive command", p->name);
		sd_link_close(l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bootloader_identifies_read_only),
		cmocka_unit_test(sync_alone_sends_only_get),
		cmocka_unit_test(bootloader_2x_lists_erase_not_extended),
		cmocka_unit_test(unknown_pid_is_named_by_number),
		cmocka_unit_test(app_text_is_app_running_with_the_text),
		cmocka_unit_test(app_on_ttyacm_says_usb_cdc),
		cmocka_unit_test(silence_is_silent_after_two_7f),
		cmocka_unit_test(echo_is_echo),
		cmocka_unit_test(read_protection_is_a_device_state),
		cmocka_unit_test(glitch_before_ack_is_skipped),
		cmocka_unit_test(adapter_dropping_parity_is_parity_mismatch),
		cmocka_unit_test(nack_storm_is_reported),
		cmocka_unit_test(too_fast_for_the_loader_says_baud),
		cmocka_unit_test(entry_sequence_resets_into_the_loader),
		cmocka_unit_test(exit_sequence_runs_the_application),
		cmocka_unit_test(already_synchronised_loader_nacks_the_second_7f),
		cmocka_unit_test(noise_and_floods_still_identify),
		cmocka_unit_test(session_costs_no_real_time),
		cmocka_unit_test(part_is_compared_with_the_pid_family),
		cmocka_unit_test(late_device_identifies_and_states_the_round_trip),
		cmocka_unit_test(loader_that_stops_answering_is_named),
		cmocka_unit_test(sim_write_erase_read_go_and_protect),
		cmocka_unit_test(sim_v2_erase_and_bad_options),
		cmocka_unit_test(every_probe_poke_is_harmless_to_a_loader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
