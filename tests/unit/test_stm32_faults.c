/* The STM32 fault matrix (issue 11): the client against the simulated
 * loader in process, on the fault link with deterministic seeds, over
 * BER {0, 1e-4, 1e-3, 1e-2} x a 2 KiB flood before sync x latency {0, 50,
 * 200 ms} x a loader that hangs mid-session. Every fact the report marks
 * verified, and the chip of every run that ends ok, is compared with the
 * simulator's truth: one wrong answer fails the test. A hanging loader must
 * never end ok and must be named as such. Pass rates per cell are printed.
 * Virtual time: the whole matrix costs a few seconds even under ASan. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

#ifndef SEEDS
#define SEEDS 100
#endif

typedef struct truth {
	const char *uri_keys;
	const char *chip;
	const char *kv[10][2];
} truth;

static const truth truths[2] = {
	{ "pid=0x410&blver=3.1", "STM32F1 medium-density", {
		{ "bootloader_version", "3.1" },
		{ "commands", "00 01 02 11 21 31 44 63 73 82 92" },
		{ "erase_command", "0x44 Extended Erase (v3.x)" },
		{ "option_bytes", "00 00" },
		{ "pid", "0x410" },
		{ "family", "STM32F1 medium-density" },
		{ "flash_first_bytes", "00 50 00 20 01 01 00 08 ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff" },
		{ "flash", "programmed: initial SP 0x20005000, reset handler 0x08000101" },
		{ NULL, NULL } } },
	{ "pid=0x413&blver=2.2", "STM32F405/F407/F415/F417", {
		{ "bootloader_version", "2.2" },
		{ "commands", "00 01 02 11 21 31 43 63 73 82 92" },
		{ "erase_command", "0x43 Erase (v2.x)" },
		{ "option_bytes", "00 00" },
		{ "pid", "0x413" },
		{ "family", "STM32F405/F407/F415/F417" },
		{ "flash_first_bytes", "00 50 00 20 01 01 00 08 ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff" },
		{ "flash", "programmed: initial SP 0x20005000, reset handler 0x08000101" },
		{ NULL, NULL } } },
};

static const char *truth_of(const truth *t, const char *key)
{
	for (size_t i = 0; t->kv[i][0]; i++)
		if (strcmp(t->kv[i][0], key) == 0)
			return t->kv[i][1];
	return NULL;
}

/* Is key in the space-separated list? */
static int listed(const char *list, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ' ');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && strncmp(p, key, n) == 0)
			return 1;
		p = e ? e + 1 : p + l;
	}
	return 0;
}

enum { R_RIGHT, R_WRONG_OK, R_WRONG_VERIFIED, R_FAILED };

static _Alignas(16) unsigned char ctx[1 << 16];
static sd_report rep;

/* One run: its outcome, and on a wrong answer what was wrong. */
static int one(const char *uri, const truth *t, int hang, char *why, size_t whylen)
{
	sd_link *l = NULL;
	char w[200] = "";
	if (sd_link_open(uri, NULL, &l, w, sizeof w) != SD_OK)
		fail_msg("%s: %s", uri, w);
	const sd_proto *p = sd_proto_find("stm32");
	sd_proto_args a = { .identify = 1 };
	assert_true(p->ctx_size <= sizeof ctx);
	memset(ctx, 0, sizeof ctx);
	sd_report_init(&rep, "info", uri);
	p->session(ctx, l, &a, &rep);
	sd_diag_sort(&rep.diag);
	sd_sim_device *d = sd_sim_device_of(l);
	assert_int_equal(d->log.destructive, 0); /* the read-only rule, under every fault */
	/* a session that asked no more than the loader answered before its
	 * hang never met it: ok is then the right answer */
	int hung = 0;
	for (size_t i = 0; i < d->log.n; i++)
		hung |= strcmp(d->log.e[i].name, "hang: stops answering") == 0;
	hang = hang && hung;
	sd_link_close(l);

	const char *verified = sd_report_fact_get(&rep, "verified");
	int bad_verified = 0;
	for (size_t i = 0; i < rep.nfacts; i++) {
		const char *k = rep.facts[i].key, *want = truth_of(t, k);
		if (want && listed(verified, k) && strcmp(rep.facts[i].value, want) != 0) {
			snprintf(why, whylen, "%s = '%s', truth '%s'", k, rep.facts[i].value, want);
			bad_verified = 1;
		}
	}
	if (rep.ok && hang) {
		snprintf(why, whylen, "a loader that stopped answering ended ok");
		return R_WRONG_OK;
	}
	if (rep.ok && strcmp(rep.by.chip, t->chip) != 0) {
		snprintf(why, whylen, "chip '%s', truth '%s'", rep.by.chip, t->chip);
		return R_WRONG_OK;
	}
	if (bad_verified)
		return rep.ok ? R_WRONG_OK : R_WRONG_VERIFIED;
	if (hang) {
		/* right = named as a loader that stopped answering */
		const sd_finding *f = sd_diag_find(&rep.diag, SD_CAUSE_STOPPED_ANSWERING);
		return f && strstr(f->summary, "stopped answering") ? R_RIGHT : R_FAILED;
	}
	/* right = identified, every field verified */
	return rep.ok && !sd_report_fact_get(&rep, "unverified") ? R_RIGHT : R_FAILED;
}

static void fault_matrix(void **state)
{
	(void)state;
	static const char *const bers[] = { "0", "1e-4", "1e-3", "1e-2" };
	static const unsigned lats[] = { 0, 50, 200 };
	unsigned wrong = 0, cells = 0;
	printf("# stm32 fault matrix, %d seeds a cell: right (all verified) / identified, some fields unverified / "
	       "failed honestly / WRONG\n", SEEDS);
	for (size_t b = 0; b < sizeof bers / sizeof bers[0]; b++)
		for (int flood = 0; flood < 2; flood++)
			for (size_t li = 0; li < sizeof lats / sizeof lats[0]; li++)
				for (int hang = 0; hang < 2; hang++) {
					unsigned n[4] = { 0 }, partial = 0;
					char last[600] = "";
					for (unsigned seed = 1; seed <= SEEDS; seed++) {
						const truth *t = &truths[seed & 1];
						char uri[256], why[256] = "", hk[32] = "";
						/* hang after 2 + seed % 10 frames: in Get, Get
						 * Version, Get ID or the Read */
						if (hang)
							snprintf(hk, sizeof hk, "&hang_after=%u", 2 + seed % 10);
						snprintf(uri, sizeof uri, "sim:stm32?%s&noise=%s&seed=%u%s&delay_ms=%u%s",
							 t->uri_keys, bers[b], seed * 7919u + (unsigned)cells,
							 flood ? "&flood=2048&flood_kind=text" : "", lats[li], hk);
						int o = one(uri, t, hang, why, sizeof why);
						if (o == R_FAILED && !hang && rep.ok)
							partial++;
						n[o]++;
						if (o == R_WRONG_OK || o == R_WRONG_VERIFIED) {
							wrong++;
							snprintf(last, sizeof last, "%s: %s", uri, why);
							print_message("WRONG %s\n", last);
						}
					}
					printf("ber %-5s flood %-4s latency %3u ms hang %-3s: %2u/%u right, %2u partly verified, "
					       "%2u failed, %u wrong\n", bers[b], flood ? "2KiB" : "-", lats[li], hang ? "yes" : "no",
					       n[R_RIGHT], SEEDS, partial, n[R_FAILED] - partial, n[R_WRONG_OK] + n[R_WRONG_VERIFIED]);
					cells++;
				}
	fflush(stdout);
	assert_int_equal(wrong, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fault_matrix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
