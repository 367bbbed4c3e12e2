/* MediaTek: the simulated phone byte by byte (as the fact sheet describes
 * each mode), the chip table, and the client session against every mode on
 * virtual time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "proto/mtk_wire.h"
#include "script_link.h"

static sd_link *open_sim(const char *uri)
{
	sd_link *l = NULL;
	char why[200];
	int r = sd_link_open(uri, NULL, &l, why, sizeof why);
	if (r)
		fail_msg("%s: %s", uri, why);
	return l;
}

/* Send one byte, read exactly n answer bytes within 100 ms. */
static void xfer(sd_link *l, uint8_t b, uint8_t *ans, size_t n)
{
	size_t got = 0;
	assert_int_equal(sd_link_write_all(l, &b, 1, sd_deadline_in(l->clock, SD_MS(100))), SD_OK);
	int r = sd_link_read_exact(l, ans, n, sd_deadline_in(l->clock, SD_MS(100)), &got);
	if (r)
		fail_msg("after %02x: %d, got %zu of %zu", b, r, got, n);
}

static void handshake(sd_link *l)
{
	const uint8_t hs[] = { 0xA0, 0x0A, 0x50, 0x05 }, want[] = { 0x5F, 0xF5, 0xAF, 0xFA };
	for (size_t i = 0; i < 4; i++) {
		uint8_t a;
		xfer(l, hs[i], &a, 1);
		assert_int_equal(a, want[i]);
	}
}

static void sim_brom_answers_byte_by_byte(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:mtk?mode=brom&hwcode=0x0959&config=0x05");
	uint8_t b[16];
	handshake(l);
	xfer(l, MTK_CMD_GET_HW_CODE, b, 5);
	assert_memory_equal(b, "\xFD\x09\x59\x00\x00", 5);
	xfer(l, MTK_CMD_GET_BL_VER, b, 1);
	assert_int_equal(b[0], 0xFE); /* BROM does not know it: echo */
	xfer(l, MTK_CMD_GET_TARGET_CONFIG, b, 7);
	assert_memory_equal(b, "\xD8\x00\x00\x00\x05\x00\x00", 7);
	xfer(l, MTK_CMD_GET_HW_SW_VER, b, 9);
	assert_int_equal(b[0], 0xFC);
	assert_memory_equal(b + 7, "\x00\x00", 2);
	xfer(l, MTK_CMD_GET_ME_ID, b, 5);
	assert_memory_equal(b, "\xE1\x00\x00\x00\x10", 5);
	sd_sim_device *d = sd_sim_device_of(l);
	assert_int_equal(d->log.destructive, 0);
	assert_true(d->log.total >= 5);
	sd_link_close(l);
}

static void sim_preloader_says_ready_answers_version_and_leaves(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:mtk?mode=preloader&window_ms=2000");
	uint8_t b[8];
	size_t got = 0;
	assert_int_equal(sd_link_read_exact(l, b, 5, SD_MS(50), &got), SD_OK);
	assert_memory_equal(b, "READY", 5);
	/* no handshake: the window closes and the port vanishes */
	int r = sd_link_read(l, b, 1, SD_S(5));
	assert_int_equal(r, SD_ERR_CLOSED);
	assert_int_equal(sd_now(l->clock), SD_MS(2000));
	sd_link_close(l);

	l = open_sim("sim:mtk?mode=preloader&blver=2");
	assert_int_equal(sd_link_read_exact(l, b, 5, SD_MS(50), &got), SD_OK);
	handshake(l);
	xfer(l, MTK_CMD_GET_BL_VER, b, 1);
	assert_int_equal(b[0], 2);
	/* after a handshake the window stays open */
	assert_int_equal(sd_link_read(l, b, 1, SD_S(10)), SD_ERR_TIMEOUT);
	sd_link_close(l);
}

static void sim_wrong_byte_restarts_the_handshake(void **state)
{
	(void)state;
	sd_link *l = open_sim("sim:mtk?mode=brom");
	uint8_t a;
	xfer(l, 0xA0, &a, 1);
	assert_int_equal(a, 0x5F);
	/* 0x0B is wrong: no answer, back to the start */
	uint8_t bad = 0x0B;
	assert_int_equal(sd_link_write_all(l, &bad, 1, SD_FOREVER), SD_OK);
	assert_int_equal(sd_link_read(l, &a, 1, sd_deadline_in(l->clock, SD_MS(50))), SD_ERR_TIMEOUT);
	handshake(l);
	sd_link_close(l);
}

static void sim_echo_da_bootloop(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t got;
	sd_link *l = open_sim("sim:mtk?mode=echo");
	xfer(l, 0xA0, b, 1);
	assert_int_equal(b[0], 0xA0);
	sd_link_close(l);

	l = open_sim("sim:mtk?mode=da");
	xfer(l, 0xA0, b, 16);
	assert_memory_equal(b, "\xEF\xEE\xEE\xFE\x01\x00\x00\x00\x04\x00\x00\x00SYNC", 16);
	sd_link_close(l);

	l = open_sim("sim:mtk?mode=bootloop&period_ms=500&cycles=2");
	int n;
	size_t total = 0;
	while ((n = sd_link_read(l, b, sizeof b, SD_S(10))) > 0)
		total += (size_t)n;
	assert_int_equal(n, SD_ERR_CLOSED);
	assert_true(total > 2 * 100);
	assert_int_equal(sd_now(l->clock), SD_MS(1000));
	(void)got;
	sd_link_close(l);
}

static void sim_rejects_bad_keys(void **state)
{
	(void)state;
	sd_link *l = NULL;
	char why[200] = "";
	assert_int_equal(sd_link_open("sim:mtk?mode=fastboot", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "fastboot"));
	assert_int_equal(sd_link_open("sim:mtk?hwcode=0x10000", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_link_open("sim:mtk?hwcod=1", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "hwcod"));
}

static void chip_table_is_sorted_and_names_the_known_ones(void **state)
{
	(void)state;
	assert_true(sdi_mtk_chip_count() >= 60);
	for (size_t i = 1; i < sdi_mtk_chip_count(); i++)
		assert_true(sdi_mtk_chip_at(i - 1)->hwcode < sdi_mtk_chip_at(i)->hwcode);
	assert_string_equal(sdi_mtk_chip(0x0707)->name, "MT6768/MT6769 (Helio P65/G85)");
	assert_non_null(strstr(sdi_mtk_chip(0x0959)->name, "MT6877 (Dimensity 900"));
	assert_non_null(strstr(sdi_mtk_chip(0x0989)->name, "Dimensity 700"));
	assert_true(sdi_mtk_chip(0x1208)->flags & MTK_CHIP_PATCHED);
	assert_false(sdi_mtk_chip(0x0707)->flags & MTK_CHIP_PATCHED);
	assert_null(sdi_mtk_chip(0x0001));
	assert_null(sdi_mtk_chip(0xFFFF));
}


/* ---- the client session against every mode, on virtual time ---- */

typedef struct run_result {
	int         err;
	sd_report   r;
	size_t      destructive, total;
	sd_time     virt;
} run_result;

static _Alignas(16) uint8_t ctx[1 << 14];

static void session(const char *uri, int identify, run_result *o)
{
	const sd_proto *p = sd_proto_find("mtk");
	assert_non_null(p);
	assert_non_null(p->session);
	assert_true(p->ctx_size <= sizeof ctx);
	memset(ctx, 0, sizeof ctx);
	sd_link *l = open_sim(uri);
	sd_proto_args a = { .identify = identify };
	sd_report_init(&o->r, identify ? "info" : "sync", uri);
	sd_time real0 = sd_now(sd_clock_real());
	o->err = p->session(ctx, l, &a, &o->r);
	o->virt = sd_now(l->clock);
	sd_diag_sort(&o->r.diag);
	sd_sim_device *d = sd_sim_device_of(l);
	o->destructive = d->log.destructive;
	o->total = d->log.total;
	/* a failing session costs virtual seconds, not real ones */
	assert_true(sd_now(sd_clock_real()) - real0 < SD_MS(500));
	sd_link_close(l);
}

static const char *fact(const run_result *o, const char *k)
{
	const char *v = sd_report_fact_get(&o->r, k);
	return v ? v : "";
}

static const char *first_cause(const run_result *o)
{
	return o->r.diag.n ? sd_cause_name(o->r.diag.f[0].cause) : "";
}

static void client_names_brom_chip_and_flags(void **state)
{
	(void)state;
	static run_result o;
	session("sim:mtk?mode=brom&hwcode=0x0707&config=0x05", 1, &o);
	assert_int_equal(o.err, SD_OK);
	assert_true(o.r.ok);
	assert_string_equal(o.r.by.protocol, "mtk");
	assert_string_equal(o.r.by.mode, "brom");
	assert_string_equal(o.r.by.chip, "MT6768/MT6769 (Helio P65/G85)");
	assert_string_equal(fact(&o, "hw_code"), "0x0707");
	assert_string_equal(fact(&o, "target_config"), "0x00000005");
	assert_true(strncmp(fact(&o, "secure_boot"), "on", 2) == 0);
	assert_true(strncmp(fact(&o, "sla"), "off", 3) == 0);
	assert_true(strncmp(fact(&o, "daa"), "on", 2) == 0);
	assert_string_equal(fact(&o, "brom_version"), "0x05");
	assert_int_equal(strlen(fact(&o, "me_id")), 32);
	assert_int_equal(strlen(fact(&o, "soc_id")), 64);
	assert_null(sd_diag_find(&o.r.diag, SD_CAUSE_PRELOADER_NOT_BROM));
	assert_int_equal(o.destructive, 0);
}

static void client_tells_preloader_from_brom(void **state)
{
	(void)state;
	static run_result o;
	session("sim:mtk?mode=preloader&hwcode=0x0959&config=0x07", 1, &o);
	assert_true(o.r.ok);
	assert_string_equal(o.r.by.mode, "preloader");
	assert_string_equal(o.r.by.chip, "MT6877 (Dimensity 900/1080)");
	assert_true(strncmp(fact(&o, "sla"), "on: a stock DA needs an auth file", 33) == 0);
	assert_string_equal(fact(&o, "bl_version"), "3");
	assert_null(sd_report_fact_get(&o.r, "brom_version")); /* GET_VERSION is BROM's */
	assert_non_null(strstr(fact(&o, "pl_caps"), "ME-ID"));
	sd_finding *f = sd_diag_find(&o.r.diag, SD_CAUSE_PRELOADER_NOT_BROM);
	assert_non_null(f);
	assert_non_null(strstr(f->fix, "volume"));
	assert_non_null(strstr(f->fix, "test point"));
	assert_int_equal(o.destructive, 0);

	/* an old Preloader has no ME ID: not asked, and said so */
	session("sim:mtk?mode=preloader&blver=1", 1, &o);
	assert_true(o.r.ok);
	assert_non_null(strstr(fact(&o, "me_id"), "not available"));
	assert_null(sd_report_fact_get(&o.r, "soc_id"));

	/* a chip whose BROM is patched: the fix says "Preloader only" */
	session("sim:mtk?mode=preloader&hwcode=0x1208", 0, &o);
	f = sd_diag_find(&o.r.diag, SD_CAUSE_PRELOADER_NOT_BROM);
	assert_non_null(f);
	assert_non_null(strstr(f->fix, "Preloader only"));
}

static void sync_reads_only_code_and_mode(void **state)
{
	(void)state;
	static run_result o;
	session("sim:mtk?mode=brom&hwcode=0x0989", 0, &o);
	assert_true(o.r.ok);
	assert_string_equal(o.r.by.chip, "MT6833 (Dimensity 700)");
	assert_string_equal(o.r.by.mode, "brom");
	assert_null(sd_report_fact_get(&o.r, "target_config"));
	assert_string_equal(fact(&o, "round_trips"), "8"); /* 4 handshake + 2 fields read twice */
}

static void client_names_echo_da_bootloop_silence(void **state)
{
	(void)state;
	static run_result o;
	session("sim:mtk?mode=echo", 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "echo");
	assert_non_null(strstr(o.r.diag.f[0].summary, "got [160], expected 5f"));
	assert_string_equal(fact(&o, "round_trips"), "2"); /* not a retry loop */

	session("sim:mtk?mode=da", 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "da-mode");
	assert_string_equal(o.r.by.mode, "da");

	session("sim:mtk?mode=bootloop", 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "bootloop");
	assert_non_null(sd_diag_find(&o.r.diag, SD_CAUSE_DISCONNECTED));
	assert_int_equal(o.destructive, 0);

	session("sim:app?mode=silent", 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "silent");
	assert_non_null(sd_diag_find(&o.r.diag, SD_CAUSE_DRIVER));
	assert_non_null(sd_diag_find(&o.r.diag, SD_CAUSE_MODEM_MANAGER));
	assert_string_equal(o.r.by.protocol, "");
	assert_true(o.virt <= SD_S(5));
}

static void port_vanishing_mid_handshake(void **state)
{
	(void)state;
	static run_result o;
	session("sim:mtk?mode=brom&disconnect_after=2", 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "disconnected");
	assert_non_null(strstr(o.r.diag.f[0].fix, "retry immediately"));
	assert_non_null(strstr(o.r.diag.f[0].summary, "1 of 4"));
}

static void preloader_leaving_after_ready(void **state)
{
	(void)state;
	static run_result o;
	/* answers arrive 100 ms late, the window is 250 ms: it closes mid-way */
	session("sim:mtk?mode=preloader&window_ms=250&delay_ms=100", 0, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "disconnected");
	assert_non_null(strstr(o.r.diag.f[0].summary, "said READY"));
	assert_null(sd_diag_find(&o.r.diag, SD_CAUSE_BOOTLOOP));
}

static void resync_through_text_without_flooding(void **state)
{
	(void)state;
	static run_result o;
	/* 3000 bytes of text first, then the BROM answers */
	session("sim:mtk?mode=brom&flood=3000&flood_kind=text", 0, &o);
	assert_true(o.r.ok);
	assert_string_equal(o.r.by.mode, "brom");
	uint32_t rt = 0;
	assert_int_equal(sd_parse_u32(fact(&o, "round_trips"), 0, 1000, &rt), SD_OK);
	assert_true(rt <= 10); /* we waited for quiet, not one A0 per junk byte */
	assert_non_null(strstr(o.r.diag.f[0].detail, "resynced"));

	/* a noisy line still gets there */
	session("sim:mtk?mode=preloader&noise=0.002&seed=7", 1, &o);
	assert_true(o.r.ok);
	assert_string_equal(o.r.by.mode, "preloader");
}

static void window_closes_on_a_slow_host(void **state)
{
	(void)state;
	/* The host opens the port, then waits past the window: the port goes. */
	sd_link *l = open_sim("sim:mtk?mode=preloader&window_ms=500");
	uint8_t b[8];
	sd_link_sleep_until(l, SD_MS(600));
	while (sd_link_read(l, b, sizeof b, sd_deadline_in(l->clock, SD_MS(10))) > 0)
		;
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"\xA0", 1, SD_FOREVER), SD_ERR_CLOSED);
	sd_link_close(l);
}

/* ---- real sessions from users' reports, replayed as scripted devices ----
 * Each is what the user's log says the device did, at the byte level. */

static void replay(const script_chunk *ch, size_t n, int close_after, run_result *o)
{
	static script_link s;
	script_link_init(&s, ch, n);
	s.close_after = close_after;
	memset(ctx, 0, sizeof ctx);
	sd_proto_args a = { .identify = 1 };
	sd_report_init(&o->r, "info", "replay");
	o->err = sd_proto_find("mtk")->session(ctx, &s.base, &a, &o->r);
	sd_diag_sort(&o->r.diag);
}

static void real_echo_mismatch_loop(void **state)
{
	/* bkerler/mtkclient#51 (an MT6768 phone) and #347 (MT6835): "Handshake
	 * attempt N failed: Echo mismatch: got array('B', [160]), expected 5f"
	 * five times a second: every A0 came back as A0. */
	(void)state;
	static const script_chunk ch[] = {
		{ SD_MS(1), (const uint8_t *)"\xA0", 1 },
		{ SD_MS(2), (const uint8_t *)"\xA0", 1 },
		{ SD_MS(3), (const uint8_t *)"\xA0", 1 },
	};
	static run_result o;
	replay(ch, 3, 0, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "echo");
	assert_string_equal(fact(&o, "round_trips"), "2"); /* a finding, not a retry loop */
}

static void real_timeouts_then_io_error(void **state)
{
	/* bkerler/mtkclient#191 and #312: "[Errno 10060] Operation timed out"
	 * on every attempt (nothing answered), and "[Errno 5] Input/Output
	 * Error" (the port went away under the read). */
	(void)state;
	static run_result o;
	replay(NULL, 0, 0, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "silent");
	assert_non_null(sd_diag_find(&o.r.diag, SD_CAUSE_DRIVER));

	replay(NULL, 0, 1, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "disconnected");
	assert_non_null(strstr(o.r.diag.f[0].fix, "retry immediately"));
}

static void no_false_bootloop_or_echo(void **state)
{
	(void)state;
	static run_result o;
	/* an application printing a line every 50 ms repeats itself, but is
	 * not a phone rebooting */
	session("sim:app?text=hello%20world%0D%0A&period_ms=50", 0, &o);
	assert_false(o.r.ok);
	assert_string_equal(first_cause(&o), "boot-log");
	assert_null(sd_diag_find(&o.r.diag, SD_CAUSE_BOOTLOOP));
	/* one long flood of repeating text is not either */
	session("sim:app?mode=silent&flood=100000&flood_kind=text", 0, &o);
	assert_null(sd_diag_find(&o.r.diag, SD_CAUSE_BOOTLOOP));
	/* 0xA0 inside a burst of boot garbage is garbage, not an echo */
	session("sim:mtk?mode=bootloop&period_ms=100&cycles=30", 0, &o);
	assert_string_equal(first_cause(&o), "bootloop");
	assert_null(sd_diag_find(&o.r.diag, SD_CAUSE_ECHO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sim_brom_answers_byte_by_byte),
		cmocka_unit_test(sim_preloader_says_ready_answers_version_and_leaves),
		cmocka_unit_test(sim_wrong_byte_restarts_the_handshake),
		cmocka_unit_test(sim_echo_da_bootloop),
		cmocka_unit_test(sim_rejects_bad_keys),
		cmocka_unit_test(chip_table_is_sorted_and_names_the_known_ones),
		cmocka_unit_test(client_names_brom_chip_and_flags),
		cmocka_unit_test(client_tells_preloader_from_brom),
		cmocka_unit_test(sync_reads_only_code_and_mode),
		cmocka_unit_test(client_names_echo_da_bootloop_silence),
		cmocka_unit_test(port_vanishing_mid_handshake),
		cmocka_unit_test(resync_through_text_without_flooding),
		cmocka_unit_test(preloader_leaving_after_ready),
		cmocka_unit_test(window_closes_on_a_slow_host),
		cmocka_unit_test(no_false_bootloop_or_echo),
		cmocka_unit_test(real_echo_mismatch_loop),
		cmocka_unit_test(real_timeouts_then_io_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
