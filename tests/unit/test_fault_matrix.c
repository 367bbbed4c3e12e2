/*
 * The fault matrix (issue 11) for STK500, MediaTek and Espressif, in process on the
 * fault link with fixed seeds: bit-error rate x a 2 KiB flood before sync
 * x latency x a device that hangs mid-session. Every fact a run lists as
 * printed is compared with the simulator's truth; a wrong one with an ok
 * verdict (exit 0) fails the test, so does a wrong one in a failed run
 * (what is printed was confirmed, whatever the verdict), and so does an ok
 * verdict from a device that hung. Pass rates are printed per cell.
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

#define SEEDS_DEFAULT 100 /* SD_MATRIX_SEEDS=N runs more or fewer */
static unsigned SEEDS = SEEDS_DEFAULT;
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef struct truth {
	const char *key, *val;
} truth;

/* The default simulators' identity (src/sim/stk500_sim.c, mtk_sim.c). */
static const truth stk_truth[] = {
	{ "signature", "1e 95 0f" }, { "bootloader_version", "8.3" }, { "bootloader", "optiboot 8.3" },
	{ "part", "ATmega328P (avrdude -p m328p)" }, { "flash_size", "32768" }, { "eeprom_size", "1024" },
	{ "baud", "115200" },
};
static const truth mtk_truth[] = {
	{ "mode", "BootROM (BROM) download mode" }, { "hw_code", "0x0707" }, { "hw_subcode", "0x8A00" },
	{ "hw_version", "0xCA00" }, { "sw_version", "0x0000" }, { "brom_version", "0x05" },
	{ "target_config", "0x00000000" }, { "secure_boot", "off: unsigned images boot" },
	{ "sla", "off: no serial-link authentication" }, { "daa", "off: any DA for this chip is accepted" },
	{ "me_id", "050BF11643031F3BF385609186ACC48D" },
	{ "soc_id", "C30D771C6D47BFDE79FB5642A4FC7409F972884C73D93F2F41E9148CBD5DB7D4" },
};

/* src/sim/esp_sim.c's default ESP32 */
static const truth esp_truth[] = {
	{ "chip_magic", "0x00f01d83" }, { "chip", "ESP32" }, { "mac", "24:0a:c4:12:34:56" },
	{ "revision", "v3.0" }, { "sync_value", "0x20120707" },
};

static unsigned char ctx[1u << 20];
static sd_report rep;

/* 1 when every verified fact (and every truth key printed) is right. */
static int facts_right(const sd_report *r, const truth *t, size_t nt, char *bad, size_t badlen)
{
	const char *v = sd_report_fact_get(r, "verified");
	for (size_t i = 0; i < nt; i++) {
		const char *got = sd_report_fact_get(r, t[i].key);
		/* a value printed as unverified is no claim, but it must say so */
		if (got && strstr(got, "(unverified"))
			continue;
		if (got && strcmp(got, t[i].val) != 0) {
			snprintf(bad, badlen, "%s = '%s', truth '%s'", t[i].key, got, t[i].val);
			return 0;
		}
	}
	/* a key said verified must be one we know the truth of */
	if (v) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", v);
		for (char *k = strtok(buf, " "); k; k = strtok(NULL, " ")) {
			int known = 0;
			for (size_t i = 0; i < nt; i++)
				known |= strcmp(k, t[i].key) == 0;
			if (!known && strcmp(k, "mode") != 0) {
				snprintf(bad, badlen, "verified key '%s' has no truth in this test", k);
				return 0;
			}
		}
	}
	return 1;
}

static void run_proto(const char *proto, const truth *t, size_t nt, const char *chip, unsigned hang_bytes)
{
	static const char *bers[] = { "0", "0.0001", "0.001", "0.01" };
	static const unsigned floods[] = { 0, 2048 };
	static const unsigned delays[] = { 0, 50, 200 };
	const sd_proto *p = sd_proto_find(proto);
	assert_non_null(p);
	assert_true(p->ctx_size <= sizeof ctx);
	unsigned wrong_ok = 0, total = 0, right = 0, wrong_any = 0;
	for (size_t h = 0; h < 2; h++)
		for (size_t bi = 0; bi < LEN(bers); bi++)
			for (size_t fi = 0; fi < LEN(floods); fi++)
				for (size_t di = 0; di < LEN(delays); di++) {
					unsigned ok = 0, named = 0, wrong_fail = 0;
					for (unsigned s = 1; s <= SEEDS; s++) {
						char uri[256], why[200], bad[200] = "", hang[32] = "";
						if (h)
							snprintf(hang, sizeof hang, "&hang_after_bytes=%u", hang_bytes);
						snprintf(uri, sizeof uri, "sim:%s?noise=%s&seed=%u&flood=%u&delay_ms=%u%s", proto,
							 bers[bi], s * 7919u + (unsigned)(bi * 31 + fi * 7 + di), floods[fi],
							 delays[di], hang);
						sd_link *l = NULL;
						if (sd_link_open(uri, NULL, &l, why, sizeof why) != SD_OK)
							fail_msg("%s: %s", uri, why);
						memset(ctx, 0, p->ctx_size);
						sd_report_init(&rep, "info", uri);
						sd_proto_args a = { .identify = 1 };
						p->session(ctx, l, &a, &rep);
						sd_diag_sort(&rep.diag);
						sd_link_close(l);
						int right_facts = facts_right(&rep, t, nt, bad, sizeof bad);
						if (right_facts && rep.by.chip[0] && strcmp(rep.by.chip, chip) != 0) {
							snprintf(bad, sizeof bad, "chip '%s', truth '%s'", rep.by.chip, chip);
							right_facts = 0;
						}
						total++;
						if (h) {
							if (rep.ok)
								fail_msg("%s: ok (exit 0) from a device that hung", uri);
							if (rep.diag.n && rep.diag.f[0].cause == SD_CAUSE_STOPPED_ANSWERING)
								named++;
							if (!right_facts) {
								wrong_fail++, wrong_any++;
								print_message("wrong fact in a failure: %s: %s\n", uri, bad);
							}
							continue;
						}
						if (rep.ok && !right_facts) {
							wrong_ok++;
							print_message("WRONG with exit 0: %s: %s\n", uri, bad);
						} else if (rep.ok) {
							ok++, right++;
						} else if (!right_facts) {
							wrong_fail++, wrong_any++;
							print_message("wrong fact in a failure: %s: %s\n", uri, bad);
						}
						if (bi == 0 && !rep.ok)
							fail_msg("%s: a clean line failed: %s", uri,
								 rep.diag.n ? rep.diag.f[0].summary : "(no finding)");
					}
					if (h)
						print_message("%-6s hang ber=%-6s flood=%-4u delay=%3ums: named stopped-answering %u/%u, "
							      "wrong facts in the failure %u\n", proto, bers[bi], floods[fi],
							      delays[di], named, SEEDS, wrong_fail);
					else
						print_message("%-6s      ber=%-6s flood=%-4u delay=%3ums: right %u/%u, "
							      "wrong facts in a failure %u\n", proto, bers[bi], floods[fi], delays[di],
							      ok, SEEDS, wrong_fail);
				}
	print_message("%s: %u runs, %u right, %u wrong with exit 0\n", proto, total, right, wrong_ok);
	assert_int_equal(wrong_ok, 0);
	/* a failed run prints only what it confirmed, too */
	assert_int_equal(wrong_any, 0);
}

static void stk500_matrix(void **state)
{
	(void)state;
	run_proto("stk500", stk_truth, LEN(stk_truth), "ATmega328P", 20);
}

static void mtk_matrix(void **state)
{
	(void)state;
	run_proto("mtk", mtk_truth, LEN(mtk_truth), "MT6768/MT6769 (Helio P65/G85)", 30);
}

static void esp_matrix(void **state)
{
	(void)state;
	run_proto("esp", esp_truth, LEN(esp_truth), "ESP32", 60);
}

int main(void)
{
	const char *e = getenv("SD_MATRIX_SEEDS");
	if (e && atoi(e) > 0)
		SEEDS = (unsigned)atoi(e);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stk500_matrix),
		cmocka_unit_test(mtk_matrix),
		cmocka_unit_test(esp_matrix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
