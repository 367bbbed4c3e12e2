/*
 * shakedown probe --targets FILE — many ports at once. The library runs
 * them (sd_targets_load, sd_probe_many); this file prints each verdict as
 * it arrives (a line of text, or one JSON report a line) and then a
 * summary table: which boards answer, which are sick and why.
 */
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cli.h"
#include "commands.h"
#include "cmd_probe_targets.h"

#define MAX_KINDS 64

typedef struct kind {
	char     key[96];   /* "ok stk500 optiboot 8.3" or "remote-no-lines" */
	unsigned count;
	int      ok;
} kind;

typedef struct tally {
	sd_cli  *cli;
	size_t   n, done, ok;
	kind     k[MAX_KINDS];
	size_t   nk;
	unsigned other;     /* verdicts beyond MAX_KINDS kinds */
	FILE    *table;     /* where the summary goes */
} tally;

static void count(tally *T, const char *key, int ok)
{
	for (size_t i = 0; i < T->nk; i++)
		if (strcmp(T->k[i].key, key) == 0) {
			T->k[i].count++;
			return;
		}
	if (T->nk == MAX_KINDS) {
		T->other++;
		return;
	}
	snprintf(T->k[T->nk].key, sizeof T->k[T->nk].key, "%s", key);
	T->k[T->nk].count = 1;
	T->k[T->nk].ok = ok;
	T->nk++;
}

static void on_done(void *ctx, const sd_target *t, size_t index, int err, const sd_report *r)
{
	tally *T = ctx;
	sd_cli *cli = T->cli;
	(void)err;
	T->done++;
	T->ok += r->ok != 0;
	const sd_finding *top = r->diag.n ? &r->diag.f[0] : NULL;
	char key[96];
	if (r->ok)
		snprintf(key, sizeof key, "%s %s", r->by.protocol[0] ? r->by.protocol : "?", r->by.mode);
	else
		snprintf(key, sizeof key, "%s", top ? sd_cause_name(top->cause) : "silent");
	count(T, key, r->ok);
	if (cli->json) {
		cJSON *extra = cJSON_CreateObject();
		if (extra) {
			if (t->name[0])
				cJSON_AddStringToObject(extra, "name", t->name);
			cJSON_AddNumberToObject(extra, "line", t->line);
			cJSON_AddNumberToObject(extra, "index", (double)index);
		}
		char *s = sd_report_json(r, extra, 0);
		if (s) {
			cli_put_json(cli->out, s);
			fputc('\n', cli->out);
			sd_free(s);
		}
	} else {
		fprintf(cli->out, "[%*zu/%zu] %s", (int)(T->n >= 100 ? 3 : T->n >= 10 ? 2 : 1), T->done, T->n,
			cli_esc(t->uri));
		if (t->name[0])
			fprintf(cli->out, " (%s)", cli_esc(t->name));
		if (r->ok)
			fprintf(cli->out, ": %sok%s %s%s%s%s%s", cli_c(cli, "32"), cli_c0(cli), r->by.protocol,
				r->by.mode[0] ? " " : "", cli_esc(r->by.mode), r->by.chip[0] ? ", " : "", cli_esc(r->by.chip));
		else
			fprintf(cli->out, ": %s%s%s: %s", cli_c(cli, "31"), top ? sd_cause_name(top->cause) : "silent",
				cli_c0(cli), top ? cli_esc(top->summary) : "nothing answered");
		fprintf(cli->out, " (%lld ms)\n", (long long)r->elapsed_ms);
	}
	fflush(cli->out);
}

static int by_count(const void *a, const void *b)
{
	const kind *x = a, *y = b;
	if (x->ok != y->ok)
		return y->ok - x->ok;
	return (int)y->count - (int)x->count;
}

int cli_probe_targets(sd_cli *cli, const char *file, unsigned jobs, const sd_probe_opts *po)
{
	sd_target *t = NULL;
	size_t n = 0;
	char why[256] = "";
	int r = sd_targets_load(file, &t, &n, why, sizeof why);
	if (r == SD_ERR_ARG || r == SD_ERR_OVERFLOW)
		return cli_usage_error(cli, "--targets %s: %s", file, why);
	if (r)
		return cli_error(cli, SD_EXIT_OPEN, "--targets: %s", why[0] ? why : sd_strerror(r));
	if (n == 0) {
		free(t);
		return cli_usage_error(cli, "--targets %s: no targets in it (one a line, or labgrid NetworkSerialPort/RawSerialPort entries)", file);
	}
	tally *T = calloc(1, sizeof *T);
	if (!T) {
		free(t);
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	}
	T->cli = cli;
	T->n = n;
	T->table = cli->json ? cli->err : cli->out;
	sd_probe_many_opts mo = { .jobs = jobs, .probe = *po, .done = on_done, .ctx = T };
	sd_time t0 = sd_now(sd_clock_real());
	r = sd_probe_many(t, n, &mo);
	double secs = (double)(sd_now(sd_clock_real()) - t0) / 1e6;
	if (r) {
		free(T);
		free(t);
		return cli_error(cli, SD_EXIT_INTERNAL, "probe --targets: %s", sd_strerror(r));
	}
	qsort(T->k, T->nk, sizeof T->k[0], by_count);
	FILE *f = T->table;
	fprintf(f, "\nsummary: %zu targets, %zu answered, %zu did not; %.1f s, %.1f ports/s (--jobs %u)\n", n,
		T->ok, n - T->ok, secs, secs > 0 ? (double)n / secs : 0.0, jobs ? jobs : 8);
	fprintf(f, "  %-8s %-40s %s\n", "", "verdict", "ports");
	for (size_t i = 0; i < T->nk; i++)
		fprintf(f, "  %-8s %-40s %u\n", T->k[i].ok ? "answers" : "sick", cli_esc(T->k[i].key), T->k[i].count);
	if (T->other)
		fprintf(f, "  %-8s %-40s %u\n", "", "(other verdicts)", T->other);
	int rc = T->ok == n ? SD_EXIT_OK : SD_EXIT_FAIL;
	free(T);
	free(t);
	return rc;
}
