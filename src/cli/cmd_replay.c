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
	"input) as an annotated hex+ASCII dump, then the diagnosis of the bytes\n"
	"received. With --trace OUT, writes the records back out unchanged.\n"
	"\n"
	"options:\n"
	"  --quiet     only the diagnosis, no dump\n"
	"  global: --json --trace FILE\n"
	"\n"
	"exit: 0 the file was read, 2 a malformed line (FILE:LINE: reason),\n"
	"      3 the file cannot be read\n";

#define REPLAY_ARENA (16u << 20)
#define REPLAY_DATA  (4u << 20)

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
		fprintf(f, "%.*s\n", (int)r->len, r->data ? (const char *)r->data : "");
		break;
	default:
		fputc('\n', f);
		break;
	}
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
	cli_trace tr;
	int header_seen = 0;
	memset(&tr, 0, sizeof tr);
	if (!data) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, in)) != -1) {
		lineno++;
		sd_trec r;
		char why[160] = "";
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
	free(line);
	if (!rc && !header_seen)
		rc = cli_error(cli, SD_EXIT_USAGE, "%s: empty, or not a shakedown trace", path);
	if (rc)
		goto out;

	/* The dump. */
	size_t cur = 0, nrec = 0;
	sd_trec r;
	uint32_t baud = 0;
	int net = 0;
	if (!cli->json && !quiet)
		fprintf(cli->out, "%strace of %s%s\n", cli_c(cli, "1"), target, cli_c0(cli));
	while (sd_transcript_next(&tr.t, &cur, &r)) {
		nrec++;
		if (r.kind == SD_TR_CFG)
			baud = r.cfg.baud;
		if (!cli->json && !quiet)
			dump_record(cli, &r);
	}
	net = strncmp(target, "tcp:", 4) == 0;
	if (tr.t.dropped)
		fprintf(cli->err, "shakedown replay: %zu records did not fit in memory; the diagnosis reads the first part\n",
			tr.t.dropped);

	/* The diagnosis of what came back. */
	size_t nrx = sd_transcript_collect(&tr.t, SD_TR_RX, 0, data, REPLAY_DATA / 2);
	size_t ntx = sd_transcript_collect(&tr.t, SD_TR_TX, 0, data + REPLAY_DATA / 2, REPLAY_DATA / 2);
	sd_report rep;
	sd_report_init(&rep, "replay", target);
	sd_classify_in ci = {
		.rx = data, .rx_len = nrx, .tx = ntx ? data + REPLAY_DATA / 2 : NULL, .tx_len = ntx,
		.host_baud = baud, .link_caps = net ? SD_LINK_NET : 0,
	};
	sd_diagnose_bytes(&ci, &rep.diag);
	rep.ok = sd_diag_find(&rep.diag, SD_CAUSE_OK) != NULL && rep.diag.f[0].cause == SD_CAUSE_OK;
	rep.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
	if (!cli->json && !quiet)
		fputc('\n', cli->out);
	cJSON *x = cli->json ? cJSON_CreateObject() : NULL;
	if (x)
		cJSON_AddNumberToObject(x, "records", (double)nrec);
	cli_print_report(cli, &rep, x);
out:
	if (tr.arena) {
		int trc = cli_trace_close(cli, &tr);
		if (!rc)
			rc = trc;
	}
	free(data);
	if (in != stdin)
		fclose(in);
	return rc;
}
