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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sim_brom_answers_byte_by_byte),
		cmocka_unit_test(sim_preloader_says_ready_answers_version_and_leaves),
		cmocka_unit_test(sim_wrong_byte_restarts_the_handshake),
		cmocka_unit_test(sim_echo_da_bootloop),
		cmocka_unit_test(sim_rejects_bad_keys),
		cmocka_unit_test(chip_table_is_sorted_and_names_the_known_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
