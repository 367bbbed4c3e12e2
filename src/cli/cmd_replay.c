/*
 * shakedown replay FILE — a saved transcript as an annotated hex dump,
 * then the diagnosis of what was received. With --trace OUT the records are
 * written back out unchanged: a byte-for-byte round trip.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_replay_usage[] =
	"usage: shakedown replay [options] FILE\n"
	"\n"
	"Prints a transcript saved with --trace (JSON lines; FILE - reads standard\n"
	"input) as an annotated hex+ASCII dump, then runs the recorded command\n"
	"(sync, info; probe) again over the recorded bytes and prints the report it\n"
	"re-derives, with whether it agrees with the recorded verdict. A trace\n"
	"without a run record (older shakedown) or of another command: the bytes\n"
	"received are classified instead. With --trace OUT, writes the records\n"
	"back out unchanged.\n"
	"\n"
	"options:\n"
	"  --quiet     only the report, no dump\n"
	"  global: --json --trace FILE\n"
	"\n"
	"limits: a line of 4 MiB, a file of 64 MiB; the re-run keeps to the time\n"
	"limit the recorded command had (FILE - waits for standard input to end)\n"
	"exit: 0 ok (re-derived) and agrees, or classified; 1 failed, or the replay\n"
	"      does not agree with the recording; 2 a malformed trace (FILE:LINE:\n"
	"      reason); 3 the file cannot be read\n";

#define REPLAY_ARENA    (64u << 20) /* records kept: enough for the largest file */
#define REPLAY_LINE_MAX (4u << 20)  /* a longer line is refused */
#define REPLAY_FILE_MAX (64u << 20) /* a larger file is refused */
#define REPLAY_DATA     REPLAY_LINE_MAX

static void dump_record(sd_cli *cli, const sd_trec *r)
{
	FILE *f = cli->out;
	char frame[8];
	fprintf(f, "%s+%lld.%06lld%s %-5s ", cli_c(cli, "2"), (long long)(r->t / 1000000),
		(long long)(r->t % 1000000), cli_c0(cli), sd_trec_kind_name(r->kind));
	switch (r->kind) {
	case SD_TR_TX:
	case SD_TR_RX:
		fprintf(f, "%u byte%s %s\n", r->len, r->len == 1 ? "" : "s",
			r->kind == SD_TR_TX ? "host -> device" : "device -> host");
		cli_hexdump(f, r->data, r->len, "        ");
		break;
	case SD_TR_LINES:
		fprintf(f, "DTR %s, RTS %s\n", (r->b & SD_LINE_DTR) ? "on" : "off",
			(r->b & SD_LINE_RTS) ? "on" : "off");
		break;
	case SD_TR_CFG:
		fprintf(f, "%u %s%s\n", r->cfg.baud, sd_line_cfg_frame(&r->cfg, frame),
			r->cfg.flow == SD_FLOW_RTSCTS ? " rtscts" : r->cfg.flow == SD_FLOW_XONXOFF ? " xonxoff" : "");
		break;
	case SD_TR_BREAK:
		fprintf(f, "%u us\n", r->a);
		break;
	case SD_TR_FLUSH:
		fprintf(f, "%s\n", r->a == 3 ? "both" : r->a == 1 ? "input" : r->a == 2 ? "output" : "none");
		break;
	case SD_TR_ERROR:
		fprintf(f, "%s (%s)\n", sd_errname(-(int)r->a), sd_strerror(-(int)r->a));
		break;
	case SD_TR_NOTE:
	case SD_TR_OPEN:
	case SD_TR_REOPEN:
		if (r->data)
			cli_fput_esc(f, (const char *)r->data, r->len);
		fputc('\n', f);
		break;
	case SD_TR_RUN: {
		sd_trace_run run;
		if (sd_trec_get_run(r, &run) == SD_OK)
			fprintf(f, "%s%s%s over %s%s%s%s%s\n", cli_esc(run.command), run.protocol[0] ? " " : "",
				cli_esc(run.protocol), cli_esc(run.link), run.enter[0] ? ", --enter " : "", cli_esc(run.enter),
				run.no_reset ? ", --no-reset" : "", run.no_poke ? ", --no-poke" : "");
		break;
	}
	case SD_TR_OUTCOME: {
		sd_trace_outcome o;
		if (sd_trec_get_outcome(r, &o) == SD_OK)
			fprintf(f, "%s%s%s%s%s\n", o.ok ? "ok" : "failed", o.cause[0] ? ", first cause " : "",
				cli_esc(o.cause), o.protocol[0] ? ", answered by " : "", cli_esc(o.protocol));
		break;
	}
	default:
		fputc('\n', f);
		break;
	}
}

/* One line of at most REPLAY_LINE_MAX bytes into buf (without '\n'),
 * never more than REPLAY_FILE_MAX in all. Returns its length, -1 at the end
 * of the file, or -2 with a reason in why. A NUL byte cannot be in a JSON
 * line: binary input (/dev/zero, /dev/urandom) stops at its first one. */
static long read_line(FILE *in, char *buf, size_t *total, char *why, size_t whylen)
{
	size_t n = 0;
	int c;
	while ((c = getc(in)) != EOF) {
		if (++*total > REPLAY_FILE_MAX) {
			snprintf(why, whylen, "larger than %u MiB", REPLAY_FILE_MAX >> 20);
			return -2;
		}
		if (c == '\n')
			return (long)n;
		if (c == '\0') {
			snprintf(why, whylen, "a NUL byte: binary data, not a trace");
			return -2;
		}
		if (n == REPLAY_LINE_MAX) {
			snprintf(why, whylen, "line longer than %u MiB", REPLAY_LINE_MAX >> 20);
			return -2;
		}
		buf[n++] = (char)c;
	}
	if (ferror(in)) {
		snprintf(why, whylen, "read error");
		return -3;
	}
	return n ? (long)n : -1;
}

static const char *or_none(const char *s)
{
	return s[0] ? s : "none";
}

/* "replayed" for --json (docs/report.md) */
static cJSON *replayed_json(const sd_replay_result *x)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "rerun", x->rerun);
	if (x->have_run)
		cJSON_AddStringToObject(o, "command", x->run.command);
	else
		cJSON_AddNullToObject(o, "command");
	if (!x->rerun)
		cJSON_AddStringToObject(o, "fallback", x->why);
	if (x->have_outcome) {
		cJSON_AddBoolToObject(o, "recorded_ok", x->recorded.ok);
		if (x->recorded.cause[0])
			cJSON_AddStringToObject(o, "recorded_cause", x->recorded.cause);
		else
			cJSON_AddNullToObject(o, "recorded_cause");
	} else {
		cJSON_AddNullToObject(o, "recorded_ok");
		cJSON_AddNullToObject(o, "recorded_cause");
	}
	if (x->agrees >= 0)
		cJSON_AddBoolToObject(o, "agrees", x->agrees);
	else
		cJSON_AddNullToObject(o, "agrees");
	if (x->diverged_at >= 0)
		cJSON_AddNumberToObject(o, "diverged_at", (double)(x->diverged_at + 2));
	else
		cJSON_AddNullToObject(o, "diverged_at");
	if (x->rerun) {
		cJSON_AddNumberToObject(o, "divergences", (double)x->st.divergences);
		cJSON_AddNumberToObject(o, "unread", (double)x->st.unread);
	}
	return o;
}

int cmd_replay(sd_cli *cli, int argc, char **argv)
{
	int quiet = 0, i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else
			return cli_usage_error(cli, "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return cli_usage_error(cli, "which file? (a --trace file; - for standard input)");
	if (i + 1 < argc)
		return cli_usage_error(cli, "one file at a time ('%s' is extra)", argv[i + 1]);
	const char *path = argv[i];
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in)
		return cli_error(cli, SD_EXIT_OPEN, "cannot read %s: %s", path, strerror(errno));

	sd_time t0 = sd_now(sd_clock_real());
	int rc = 0;
	char target[512] = "";
	uint8_t *data = malloc(REPLAY_DATA);
	char *line = malloc(REPLAY_LINE_MAX + 1);
	sd_replay *rp = sd_replay_new();
	sd_report *rep = malloc(sizeof *rep);
	cli_trace tr;
	int header_seen = 0;
	memset(&tr, 0, sizeof tr);
	if (!data || !line || !rp || !rep) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	size_t lineno = 0, total = 0;
	long len;
	char why[160] = "";
	while ((len = read_line(in, line, &total, why, sizeof why)) >= 0) {
		lineno++;
		sd_trec r;
		int p = sd_trace_parse(line, (size_t)len, &r, data, REPLAY_DATA, target, sizeof target,
				       why, sizeof why);
		if (p < 0) {
			rc = cli_error(cli, SD_EXIT_USAGE, "%s:%zu: %s", path, lineno, why);
			break;
		}
		if (p == 0) {
			if (header_seen++) {
				rc = cli_error(cli, SD_EXIT_USAGE, "%s:%zu: a second header", path, lineno);
				break;
			}
			/* The header names the target: open the out trace now. */
			if ((rc = cli_trace_open(cli, &tr, sd_clock_real(), target, REPLAY_ARENA)))
				break;
			continue;
		}
		if (!header_seen) {
			rc = cli_error(cli, SD_EXIT_USAGE, "%s:%zu: no trace header first (not a shakedown trace?)",
				       path, lineno);
			break;
		}
		sd_transcript_add_at(&tr.t, &r);
	}
	if (!rc && len < -1)
		rc = cli_error(cli, len == -3 ? SD_EXIT_OPEN : SD_EXIT_USAGE, "%s:%zu: %s", path, lineno + 1, why);
	if (!rc && !header_seen)
		rc = cli_error(cli, SD_EXIT_USAGE, "%s: empty, or not a shakedown trace", path);
	if (rc)
		goto out;

	/* The dump. */
	size_t cur = 0, nrec = 0;
	sd_trec r;
	if (!cli->json && !quiet)
		fprintf(cli->out, "%strace of %s%s\n", cli_c(cli, "1"), cli_esc(target), cli_c0(cli));
	while (sd_transcript_next(&tr.t, &cur, &r)) {
		nrec++;
		if (!cli->json && !quiet)
			dump_record(cli, &r);
	}
	if (tr.t.dropped)
		fprintf(cli->err, "shakedown replay: %zu records did not fit in memory; the diagnosis reads the first part\n",
			tr.t.dropped);

	/* The recorded command again, or the classification of what came back. */
	sd_replay_result x;
	sd_report_init(rep, "replay", target);
	int e = sd_replay_run(rp, &tr.t, rep, &x);
	if (e) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "replay: %s", sd_strerror(e));
		goto out;
	}
	rep->elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
	if (!cli->json && !quiet)
		fputc('\n', cli->out);
	cJSON *jx = cli->json ? cJSON_CreateObject() : NULL;
	if (jx) {
		cJSON_AddNumberToObject(jx, "records", (double)nrec);
		cJSON_AddItemToObject(jx, "replayed", replayed_json(&x));
	}
	rc = cli_print_report(cli, rep, jx);
	char at[64] = "";
	if (x.diverged_at >= 0 && (size_t)x.diverged_at >= nrec)
		snprintf(at, sizeof at, "; the replay went on past the last record");
	else if (x.diverged_at >= 0)
		snprintf(at, sizeof at, "; first diverging record: line %ld", x.diverged_at + 2);
	if (!cli->json) {
		if (!x.rerun)
			fprintf(cli->out, "\nnot re-run: %s\n", cli_esc(x.why));
		else if (x.agrees > 0)
			fprintf(cli->out, "\nreplayed %s %s: agrees with the recording (%s, first cause %s)\n",
				cli_esc(x.run.command), cli_esc(x.run.protocol), x.recorded.ok ? "ok" : "failed",
				cli_esc(or_none(x.recorded.cause)));
		else if (x.agrees < 0)
			fprintf(cli->out, "\nreplayed %s %s: no outcome recorded to compare with%s\n",
				cli_esc(x.run.command), cli_esc(x.run.protocol), at);
	}
	if (!x.rerun)
		rc = SD_EXIT_OK; /* classified, as replay always did: the file was read */
	else if (x.agrees == 0)
		rc = cli_error(cli, SD_EXIT_FAIL, "the replay does not agree with the recording: recorded: %s; "
			       "replayed: %s%s", x.recorded.ok ? "ok" : or_none(x.recorded.cause),
			       x.replayed.ok ? "ok" : or_none(x.replayed.cause), at);
out:
	if (tr.arena) {
		int trc = cli_trace_close(cli, &tr);
		if (!rc)
			rc = trc;
	}
	sd_replay_free(rp);
	free(rep);
	free(line);
	free(data);
	if (in != stdin)
		fclose(in);
	return rc;
}
