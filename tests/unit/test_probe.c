/*
 * The probe matrix, in process: every simulated device and mode gets the
 * right first-ranked finding from sd_probe_run(), and no simulator's
 * command log holds a destructive command (resets included: they are line
 * changes, not commands). Every cell is a cmocka test; the matrix is also
 * printed as a table. The same matrix on ptys is tests/cli/probe_matrix.sh.
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

typedef struct cell {
	const char *target;
	const char *cause;    /* first-ranked finding */
	int         ok;       /* probe's verdict */
	const char *protocol; /* answered_by.protocol, NULL = none */
	const char *mode;     /* answered_by.mode prefix, NULL = any */
} cell;

static const cell cells[] = {
	/* Arduino / optiboot, behind the usual DTR-to-reset capacitor */
	{ "sim:stk500", "ok", 1, "stk500", "optiboot" },
	{ "sim:stk500?mode=old", "ok", 1, "stk500", NULL },
	{ "sim:stk500?mode=stk500v2", "wrong-protocol", 1, "stk500v2", "bootloader" },
	{ "sim:stk500?mode=caterina", "wrong-protocol", 1, "avr109", "bootloader" },
	{ "sim:stk500?mode=urboot", "wrong-protocol", 1, "urprotocol", "urboot" },
	{ "sim:stk500?mode=app", "app-running", 0, NULL, "application" },
	{ "sim:stk500?mode=noreset", "app-running", 0, NULL, "application" }, /* no reset circuit */
	{ "sim:stk500?mode=silent", "silent", 0, NULL, NULL },
	{ "sim:stk500?mode=echo", "echo", 0, NULL, "echo" },
	{ "sim:stk500?noise=1e-3&seed=3", "ok", 1, "stk500", NULL },
	{ "sim:stk500?flood=2048", "ok", 1, "stk500", NULL },
	/* STM32, on the DIY BOOT0/NRST wiring */
	{ "sim:stm32", "ok", 1, "stm32", "bootloader" },
	{ "sim:stm32?mode=app", "ok", 1, "stm32", "bootloader" }, /* entered through its wiring */
	{ "sim:stm32?mode=app&wired=0", "app-running", 0, NULL, "application" }, /* no entry wiring */
	{ "sim:stm32?mode=rdp", "ok", 1, "stm32", "bootloader" },
	{ "sim:stm32?mode=glitch", "ok", 1, "stm32", NULL },
	{ "sim:stm32?mode=silent", "silent", 0, NULL, NULL },
	{ "sim:stm32?mode=echo", "echo", 0, NULL, "echo" },
	{ "sim:stm32?noise=1e-3&seed=3", "ok", 1, "stm32", NULL },
	/* MediaTek */
	{ "sim:mtk", "ok", 1, "mtk", "brom" },
	{ "sim:mtk?mode=preloader", "ok", 1, "mtk", "preloader" },
	{ "sim:mtk?mode=da", "da-mode", 0, "mtk", "da" },
	{ "sim:mtk?mode=echo", "echo", 0, NULL, "echo" },
	{ "sim:mtk?mode=bootloop", "bootloop", 0, NULL, "boot-log" },
	/* a board that runs its application, at the host's rate and others */
	/* Espressif: the ROM loader (SYNC answered), an application reset into
	 * the loader through DTR/RTS, and boards whose straps or power fail */
	{ "sim:esp", "ok", 1, "esp", "rom-loader" },
	{ "sim:esp?chip=esp32s3", "ok", 1, "esp", "rom-loader" },
	{ "sim:esp?mode=app", "ok", 1, "esp", "rom-loader" },       /* entered through its reset circuit */
	{ "sim:esp?chip=esp8266&mode=app", "ok", 1, "esp", "rom-loader" },
	{ "sim:esp?mode=app&wired=en", "wrong-boot-mode", 0, NULL, "boot-log" }, /* EN wired, GPIO0 not */
	{ "sim:esp?chip=esp32c3&mode=usb", "wrong-boot-mode", 0, NULL, "boot-log" },
	{ "sim:esp?mode=brownout", "brownout", 0, NULL, NULL },
	{ "sim:esp?mode=echo", "echo", 0, NULL, "echo" },

	{ "sim:app?text=hello", "app-running", 0, NULL, "application" },
	{ "sim:app?text=hello%20world%0D%0A&baud=9600", "baud-mismatch", 0, NULL, NULL },
	{ "sim:app?text=hello%20world%0D%0A&baud=57600", "baud-mismatch", 0, NULL, NULL },
	{ "sim:app?text=hello%20world%0D%0A&baud=230400", "baud-mismatch", 0, NULL, NULL },
	{ "sim:app?mode=silent", "silent", 0, NULL, NULL },
	{ "sim:app?mode=echo", "echo", 0, NULL, "echo" },
	{ "sim:app?mode=bootloop", "bootloop", 0, NULL, "boot-log" },
	{ "sim:app?text=hello&disconnect_after=3", "disconnected", 0, NULL, NULL },
};

typedef struct result {
	char   cause[32];
	int    ok;
	char   protocol[24], mode[24];
	size_t destructive, commands;
	int    pass;
} result;

static result results[sizeof cells / sizeof cells[0]];

static void probe_cell(void **state)
{
	const cell *c = *state;
	result *res = &results[c - cells];
	sd_link *l = NULL;
	char why[160];
	assert_int_equal(sd_link_open(c->target, NULL, &l, why, sizeof why), SD_OK);
	sd_probe *p = sd_probe_new();
	sd_report *r = malloc(sizeof *r);
	assert_non_null(p);
	assert_non_null(r);
	sd_report_init(r, "probe", c->target);
	int err = sd_probe_run(p, l, NULL, r);
	const sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	res->destructive = d->log.destructive;
	res->commands = d->log.total;
	res->ok = r->ok;
	snprintf(res->cause, sizeof res->cause, "%s", r->diag.n ? sd_cause_name(r->diag.f[0].cause) : "-");
	snprintf(res->protocol, sizeof res->protocol, "%s", r->by.protocol);
	snprintf(res->mode, sizeof res->mode, "%s", r->by.mode);

	/* the verdict and the return agree; what answered is named */
	assert_int_equal(err == SD_OK, r->ok);
	assert_true(r->diag.n > 0);
	assert_string_equal(res->cause, c->cause);
	assert_int_equal(r->ok, c->ok);
	if (c->protocol)
		assert_string_equal(r->by.protocol, c->protocol);
	else
		assert_string_equal(r->by.protocol, "");
	if (c->mode)
		assert_true(strncmp(r->by.mode, c->mode, strlen(c->mode)) == 0);
	/* ranked */
	for (size_t i = 1; i < r->diag.n; i++)
		assert_true(r->diag.f[i - 1].confidence >= r->diag.f[i].confidence);
	/* read-only: no write, erase, go or protect reached the device */
	assert_int_equal(d->log.destructive, 0);
	res->pass = 1;
	sd_probe_free(p);
	free(r);
	sd_link_close(l);
}

/* A probe with --no-poke sends nothing at all, and --expect narrows the
 * attempts to one protocol, naming another that answers. */
static void options(void **state)
{
	(void)state;
	sd_link *l = NULL;
	sd_probe *p = sd_probe_new();
	sd_report *r = malloc(sizeof *r);
	assert_non_null(p);
	assert_non_null(r);

	assert_int_equal(sd_link_open("sim:stm32", NULL, &l, NULL, 0), SD_OK);
	sd_probe_opts o = { .no_poke = 1 };
	sd_report_init(r, "probe", "sim:stm32");
	assert_int_equal(sd_probe_run(p, l, &o, r), SD_ERR_PROTO);
	assert_int_equal(sd_sim_device_of(l)->log.total, 0);
	assert_int_equal(r->diag.f[0].cause, SD_CAUSE_SILENT);
	sd_link_close(l);

	assert_int_equal(sd_link_open("sim:stk500", NULL, &l, NULL, 0), SD_OK);
	sd_probe_opts e = { .expect = "stm32" };
	sd_report_init(r, "probe", "sim:stk500");
	assert_int_equal(sd_probe_run(p, l, &e, r), SD_ERR_PROTO);
	assert_int_equal(r->ok, 0);
	assert_int_not_equal(r->diag.f[0].cause, SD_CAUSE_OK);
	sd_link_close(l);

	/* an unknown protocol is the caller's error */
	assert_int_equal(sd_link_open("sim:app", NULL, &l, NULL, 0), SD_OK);
	sd_probe_opts bad = { .expect = "nosuch" };
	sd_report_init(r, "probe", "sim:app");
	assert_int_equal(sd_probe_run(p, l, &bad, r), SD_ERR_ARG);
	sd_link_close(l);

	sd_probe_free(p);
	free(r);
}

/* The budget holds on virtual time: a silent port with every protocol
 * tried within 6 s (the last to reset, esp, gets what is left of it), an
 * answering one well under 3 s. */
static void time_budget(void **state)
{
	(void)state;
	static const struct { const char *target; sd_time max; } t[] = {
		{ "sim:app?mode=silent", SD_S(6) },
		{ "sim:stk500", SD_S(3) },
		{ "sim:stm32", SD_S(3) },
		{ "sim:mtk", SD_S(3) },
		{ "sim:esp", SD_S(3) },
		{ "sim:esp?mode=app", SD_S(3) },
	};
	sd_probe *p = sd_probe_new();
	sd_report *r = malloc(sizeof *r);
	assert_non_null(p);
	assert_non_null(r);
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		sd_link *l = NULL;
		assert_int_equal(sd_link_open(t[i].target, NULL, &l, NULL, 0), SD_OK);
		sd_time t0 = sd_now(l->clock);
		sd_report_init(r, "probe", t[i].target);
		sd_probe_run(p, l, NULL, r);
		sd_time took = sd_now(l->clock) - t0;
		printf("# %-24s %5lld ms (link clock)\n", t[i].target, (long long)(took / 1000));
		assert_true(took <= t[i].max);
		sd_link_close(l);
	}
	sd_probe_free(p);
	free(r);
}

int main(void)
{
	enum { N = sizeof cells / sizeof cells[0] };
	struct CMUnitTest tests[N + 2];
	static char names[N][96];
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "probe %s", cells[i].target);
		tests[i] = (struct CMUnitTest){ .name = names[i], .test_func = probe_cell,
						 .initial_state = (void *)(uintptr_t)&cells[i] };
	}
	tests[N] = (struct CMUnitTest){ .name = "options", .test_func = options };
	tests[N + 1] = (struct CMUnitTest){ .name = "time_budget", .test_func = time_budget };
	int failed = _cmocka_run_group_tests("probe", tests, N + 2, NULL, NULL);

	printf("\n%-48s %-16s %-16s %-6s %s\n", "target", "expected", "got", "cmds", "");
	for (size_t i = 0; i < N; i++)
		printf("%-48s %-16s %-16s %-6zu %s\n", cells[i].target, cells[i].cause,
		       results[i].cause[0] ? results[i].cause : "-", results[i].commands,
		       results[i].pass ? "pass" : "FAIL");
	return failed;
}
