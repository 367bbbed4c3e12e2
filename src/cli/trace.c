/*
 * shakedown CLI — --trace FILE: a transcript whose every record is also
 * written to the file as a JSON line, header first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

#define TRACE_LINE_BASE (64u * 1024u)

static void sink(void *ctx, const sd_trec *r)
{
	cli_trace *tr = ctx;
	if (!tr->f || tr->failed)
		return;
	size_t need = SD_TRACE_LINE_MAX(r->len);
	if (need > tr->linecap) {
		char *nl = realloc(tr->line, need);
		if (!nl) {
			tr->failed = ENOMEM;
			return;
		}
		tr->line = nl;
		tr->linecap = need;
	}
	int n = sd_trace_format(r, tr->line, tr->linecap);
	if (n < 0 || fwrite(tr->line, 1, (size_t)n, tr->f) != (size_t)n)
		tr->failed = n < 0 ? ENOMEM : (errno ? errno : EIO);
}

int cli_trace_open(sd_cli *cli, cli_trace *tr, const sd_clock *clock, const char *target, size_t cap)
{
	memset(tr, 0, sizeof *tr);
	tr->arena = cap ? malloc(cap) : NULL;
	tr->line = cli->trace ? malloc(TRACE_LINE_BASE) : NULL;
	if ((cap && !tr->arena) || (cli->trace && !tr->line)) {
		free(tr->arena);
		free(tr->line);
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	}
	tr->cap = cap;
	tr->linecap = tr->line ? TRACE_LINE_BASE : 0;
	sd_transcript_init(&tr->t, clock, tr->arena, cap);
	if (!cli->trace)
		return 0;
	tr->f = strcmp(cli->trace, "-") == 0 ? stderr : fopen(cli->trace, "w");
	if (!tr->f) {
		int e = errno;
		free(tr->arena);
		free(tr->line);
		memset(tr, 0, sizeof *tr);
		return cli_error(cli, SD_EXIT_OPEN, "cannot write the trace %s: %s", cli->trace, strerror(e));
	}
	int n = sd_trace_header(target, tr->line, tr->linecap);
	if (n < 0 || fwrite(tr->line, 1, (size_t)n, tr->f) != (size_t)n)
		tr->failed = EIO;
	sd_transcript_set_sink(&tr->t, sink, tr);
	return 0;
}

void cli_trace_run(cli_trace *tr, const sd_trace_run *run)
{
	sd_transcript_run(&tr->t, run);
}

void cli_trace_outcome(cli_trace *tr, const sd_report *r)
{
	sd_trace_outcome o;
	sd_trace_outcome_of(r, &o);
	sd_transcript_outcome(&tr->t, &o);
}

int cli_trace_close(sd_cli *cli, cli_trace *tr)
{
	int rc = 0;
	if (tr->f) {
		int bad = tr->failed;
		if (tr->f != stderr && fclose(tr->f) != 0 && !bad)
			bad = errno ? errno : EIO;
		if (bad)
			rc = cli_error(cli, SD_EXIT_OPEN, "the trace %s is incomplete: %s", cli->trace, strerror(bad));
	}
	free(tr->arena);
	free(tr->line);
	memset(tr, 0, sizeof *tr);
	return rc;
}
