/* The compact clients of client.h (the ones the microcontroller builds run)
 * against the simulated boards, on virtual time: the verdict, the fields
 * only when confirmed, nothing but read-only frames sent, and the faults
 * (noise, floods, a hang, silence, an application) named by their code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "shakedown/client.h"

static sd_link *open_sim(const char *uri)
{
	sd_link *l = NULL;
	char why[200] = "";
	int r = sd_link_open(uri, NULL, &l, why, sizeof why);
	if (r)
		fail_msg("%s: %s", uri, why);
	return l;
}

static int run_stk(const char *uri, const sd_stk500_cfg *cfg, sd_stk500_client *c)
{
	sd_link *l = open_sim(uri);
	sd_stk500_client_init(c, cfg);
	int r = sd_run(&c->eng, l, sd_now(l->clock) + SD_S(5));
	/* read-only: the board's log holds only GET_SYNC, GET_PARAMETER, READ_SIGN */
	sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	assert_int_equal(d->log.destructive, 0);
	/* (other modes log every byte as their own commands; noise alters them) */
	for (size_t i = 0; i < d->log.n && !strstr(uri, "noise=") && !strstr(uri, "mode="); i++) {
		uint32_t op = d->log.e[i].code;
		if (op < 0x10)
			continue; /* line events: the levels */
		if (op != 0x30 && op != 0x41 && op != 0x75)
			fail_msg("%s: the client sent command 0x%02x (%s)", uri, (unsigned)op, d->log.e[i].name);
	}
	sd_link_close(l);
	return r;
}

static const sd_stk500_cfg reset_id = { 115200, SD_LINE_DTR | SD_LINE_RTS, 1, 0 };

static void stk500_identifies_optiboot(void **state)
{
	(void)state;
	sd_stk500_client c;
	assert_int_equal(run_stk("sim:stk500?version=4.4", &reset_id, &c), SD_OK);
	assert_int_equal(c.cause, SD_CAUSE_OK);
	assert_int_equal(c.have, SD_STK500_HAVE_SYNC | SD_STK500_HAVE_VERSION | SD_STK500_HAVE_SIG);
	assert_int_equal(c.major, 4);
	assert_int_equal(c.minor, 4);
	assert_memory_equal(c.sig, "\x1e\x95\x0f", 3);

	assert_int_equal(run_stk("sim:stk500?part=t85", &reset_id, &c), SD_OK);
	assert_memory_equal(c.sig, "\x1e\x93\x0b", 3);
	assert_int_equal(c.major, 8);
}

static void stk500_sync_only(void **state)
{
	(void)state;
	sd_stk500_client c;
	sd_stk500_cfg cfg = reset_id;
	cfg.identify = 0;
	assert_int_equal(run_stk("sim:stk500", &cfg, &c), SD_OK);
	assert_int_equal(c.have, SD_STK500_HAVE_SYNC);
	assert_int_equal(c.cause, SD_CAUSE_OK);
}

static void stk500_causes(void **state)
{
	(void)state;
	sd_stk500_client c;
	/* no reset wiring: the board runs its application and prints */
	assert_int_equal(run_stk("sim:stk500?mode=noreset&text=hello%0D%0A&period_ms=20", &reset_id, &c),
			 SD_ERR_PROTO);
	assert_int_equal(c.cause, SD_CAUSE_APP_RUNNING);
	assert_int_equal(c.have, 0);
	assert_int_equal(run_stk("sim:stk500?mode=silent", &reset_id, &c), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_SILENT);
	/* in sync, then the device hangs mid-session */
	assert_int_equal(run_stk("sim:stk500?text=&hang_after_bytes=6", &reset_id, &c), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_STOPPED_ANSWERING);
	assert_true(c.have & SD_STK500_HAVE_SYNC);
	assert_false(c.have & SD_STK500_HAVE_SIG);
	/* another loader (AVR109's '?' answers): bytes it does not name here */
	assert_int_equal(run_stk("sim:stk500?mode=caterina&text=", &reset_id, &c), SD_ERR_PROTO);
	assert_int_equal(c.cause, SD_CAUSE_UNKNOWN);
	/* TX looped to RX */
	assert_int_equal(run_stk("sim:stk500?mode=echo", &reset_id, &c), SD_ERR_PROTO);
	assert_int_equal(c.cause, SD_CAUSE_ECHO);
	/* the loader at another rate: it hears garbage and stays silent */
	assert_int_equal(run_stk("sim:stk500?baud=57600&text=", &reset_id, &c), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_SILENT);
}

/* Junk before the loader, and bit errors on the line: it syncs through the
 * junk, and a field it reports is always the board's (three equal readings);
 * what it cannot confirm it does not report. */
static void stk500_noise_never_wrong(void **state)
{
	(void)state;
	unsigned ok = 0, runs = 0;
	char uri[160];
	for (unsigned seed = 1; seed <= 40; seed++) {
		sd_stk500_client c;
		snprintf(uri, sizeof uri, "sim:stk500?noise=%s&seed=%u&flood=%u",
			 seed % 2 ? "0.002" : "0.01", seed, seed * 7);
		int r = run_stk(uri, &reset_id, &c);
		runs++;
		if (c.have & SD_STK500_HAVE_SIG)
			assert_memory_equal(c.sig, "\x1e\x95\x0f", 3);
		if (c.have & SD_STK500_HAVE_VERSION) {
			assert_int_equal(c.major, 8);
			assert_int_equal(c.minor, 3);
		}
		if (r == SD_OK) {
			ok++;
			assert_int_equal(c.cause, SD_CAUSE_OK);
		} else {
			assert_int_not_equal(c.cause, SD_CAUSE_OK);
		}
	}
	print_message("stk500 client under noise: %u of %u runs identified\n", ok, runs);
	assert_true(ok >= runs * 3 / 4);
}

/* A slow link (latency past the 100 ms reply wait): answers arrive after
 * the question was asked again. Whatever it reports stays paired: the
 * version is never the major read as the minor, nor the reverse. */
static void stk500_slow_link_stays_paired(void **state)
{
	(void)state;
	char uri[120];
	unsigned ok = 0;
	for (unsigned d = 0; d <= 450; d += 30) {
		sd_stk500_client c;
		snprintf(uri, sizeof uri, "sim:stk500?delay_ms=%u", d);
		int r = run_stk(uri, &reset_id, &c);
		if (c.have & SD_STK500_HAVE_VERSION) {
			if (c.major != 8 || c.minor != 3)
				fail_msg("%s: version %u.%u reported, the board is 8.3", uri, c.major, c.minor);
		}
		if (c.have & SD_STK500_HAVE_SIG)
			assert_memory_equal(c.sig, "\x1e\x95\x0f", 3);
		ok += r == SD_OK;
	}
	print_message("stk500 client on slow links: %u of 16 latencies identified\n", ok);
	assert_true(ok >= 8);
}

static void stk500_no_lines_link(void **state)
{
	(void)state;
	/* A link without modem lines (a pty, a UART with no reset GPIO): the
	 * reset is skipped, the client still syncs with a loader that runs. */
	sd_fake_clock fc;
	sd_fake_clock_init(&fc, 0);
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_null(&fc.base, &l), SD_OK);
	sd_stk500_client c;
	sd_stk500_client_init(&c, &reset_id);
	assert_int_equal(sd_run(&c.eng, l, SD_S(2)), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_SILENT);
	sd_link_close(l);
}

/* ---- STM32 ---- */

static int run_stm32(const char *uri, const sd_stm32_cfg *cfg, sd_stm32_client *c)
{
	sd_link *l = open_sim(uri);
	sd_stm32_client_init(c, cfg);
	int r = sd_run(&c->eng, l, sd_now(l->clock) + SD_S(10));
	sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	assert_int_equal(d->log.destructive, 0);
	for (size_t i = 0; i < d->log.n && !strstr(uri, "noise="); i++) {
		uint32_t op = d->log.e[i].code;
		if (op != 0x7f && op != 0x00 && op != 0x02 && strncmp(d->log.e[i].name, "reset", 5) &&
		    strncmp(d->log.e[i].name, "boot", 4))
			fail_msg("%s: the client sent 0x%02x (%s)", uri, (unsigned)op, d->log.e[i].name);
	}
	sd_link_close(l);
	return r;
}

static const sd_stm32_cfg stm_id = { 115200, 1, 0 };

/* The same for the STM32 client: latency past its 500 ms waits. */
static void stm32_slow_link_stays_paired(void **state)
{
	(void)state;
	char uri[120];
	unsigned ok = 0;
	for (unsigned d = 0; d <= 1500; d += 100) {
		sd_stm32_client c;
		snprintf(uri, sizeof uri, "sim:stm32?delay_ms=%u", d);
		int r = run_stm32(uri, &stm_id, &c);
		if (c.have & SD_STM32_HAVE_VERSION && c.version != 0x31)
			fail_msg("%s: version %02x reported, the loader is 3.1", uri, c.version);
		if (c.have & SD_STM32_HAVE_PID && c.pid != 0x410)
			fail_msg("%s: pid %03x reported, the chip is 410", uri, c.pid);
		ok += r == SD_OK;
	}
	print_message("stm32 client on slow links: %u of 16 latencies identified\n", ok);
	assert_true(ok >= 5);
}

static void stm32_identifies_loader(void **state)
{
	(void)state;
	sd_stm32_client c;
	assert_int_equal(run_stm32("sim:stm32", &stm_id, &c), SD_OK);
	assert_int_equal(c.cause, SD_CAUSE_OK);
	assert_int_equal(c.have, SD_STM32_HAVE_SYNC | SD_STM32_HAVE_VERSION | SD_STM32_HAVE_PID);
	assert_int_equal(c.version, 0x31);
	assert_int_equal(c.pid, 0x410);
	assert_int_equal(run_stm32("sim:stm32?blver=2.2&pid=0x413", &stm_id, &c), SD_OK);
	assert_int_equal(c.version, 0x22);
	assert_int_equal(c.pid, 0x413);
	sd_stm32_cfg sync_only = { 115200, 0, 0 };
	assert_int_equal(run_stm32("sim:stm32", &sync_only, &c), SD_OK);
	assert_int_equal(c.have, SD_STM32_HAVE_SYNC);
}

static void stm32_causes(void **state)
{
	(void)state;
	sd_stm32_client c;
	assert_int_equal(run_stm32("sim:stm32?mode=silent", &stm_id, &c), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_SILENT);
	assert_int_equal(run_stm32("sim:stm32?mode=echo", &stm_id, &c), SD_ERR_PROTO);
	assert_int_equal(c.cause, SD_CAUSE_ECHO);
	assert_int_equal(run_stm32("sim:stm32?mode=app&text=hello%0D%0A&period_ms=20", &stm_id, &c), SD_ERR_PROTO);
	assert_int_equal(c.cause, SD_CAUSE_APP_RUNNING);
	assert_int_equal(c.have, 0);
	/* the 0x7F and Get answered, then nothing */
	assert_int_equal(run_stm32("sim:stm32?hang_after=3", &stm_id, &c), SD_ERR_TIMEOUT);
	assert_int_equal(c.cause, SD_CAUSE_STOPPED_ANSWERING);
	assert_true(c.have & SD_STM32_HAVE_SYNC);
	assert_false(c.have & SD_STM32_HAVE_PID);
}

static void stm32_noise_never_wrong(void **state)
{
	(void)state;
	unsigned ok = 0, runs = 0;
	char uri[160];
	for (unsigned seed = 1; seed <= 40; seed++) {
		sd_stm32_client c;
		snprintf(uri, sizeof uri, "sim:stm32?noise=%s&seed=%u&flood=%u",
			 seed % 2 ? "0.002" : "0.01", seed, seed * 7);
		int r = run_stm32(uri, &stm_id, &c);
		runs++;
		if (c.have & SD_STM32_HAVE_PID)
			assert_int_equal(c.pid, 0x410);
		if (c.have & SD_STM32_HAVE_VERSION)
			assert_int_equal(c.version, 0x31);
		if (r == SD_OK)
			ok++;
		else
			assert_int_not_equal(c.cause, SD_CAUSE_OK);
	}
	print_message("stm32 client under noise: %u of %u runs identified\n", ok, runs);
	assert_true(ok >= runs * 3 / 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stk500_identifies_optiboot),
		cmocka_unit_test(stk500_sync_only),
		cmocka_unit_test(stk500_causes),
		cmocka_unit_test(stk500_noise_never_wrong),
		cmocka_unit_test(stk500_no_lines_link),
		cmocka_unit_test(stk500_slow_link_stays_paired),
		cmocka_unit_test(stm32_identifies_loader),
		cmocka_unit_test(stm32_causes),
		cmocka_unit_test(stm32_noise_never_wrong),
		cmocka_unit_test(stm32_slow_link_stays_paired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
