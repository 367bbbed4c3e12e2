/*
 * shakedown CLI — rendering: reports as text or JSON, hex dumps, colour.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cJSON.h>
#include "cli.h"

const char *cli_c(const sd_cli *cli, const char *code)
{
	static char buf[4][16];
	static int slot;
	if (!cli->color)
		return "";
	char *b = buf[slot++ & 3];
	snprintf(b, sizeof buf[0], "\033[%sm", code);
	return b;
}

const char *cli_c0(const sd_cli *cli)
{
	return cli->color ? "\033[0m" : "";
}

void cli_hexdump(FILE *f, const uint8_t *b, size_t n, const char *indent)
{
	for (size_t off = 0; off < n; off += 16) {
		size_t k = n - off < 16 ? n - off : 16;
		fprintf(f, "%s%04zx  ", indent, off);
		for (size_t i = 0; i < 16; i++) {
			if (i < k)
				fprintf(f, "%02x ", b[off + i]);
			else
				fputs("   ", f);
			if (i == 7)
				fputc(' ', f);
		}
		fputs(" |", f);
		for (size_t i = 0; i < k; i++)
			fputc(isprint(b[off + i]) ? b[off + i] : '.', f);
		fputs("|\n", f);
	}
}

/* Evidence on one line: hex (up to 24 bytes) and the printable text. */
static void evidence_line(FILE *f, const char *label, const uint8_t *b, size_t n)
{
	if (!b || n == 0)
		return;
	size_t show = n < 24 ? n : 24;
	fprintf(f, "     %s:", label);
	for (size_t i = 0; i < show; i++)
		fprintf(f, " %02x", b[i]);
	if (show < n)
		fprintf(f, " ... (%zu bytes)", n);
	size_t text = 0;
	for (size_t i = 0; i < n; i++)
		text += (isprint(b[i]) || b[i] == '\r' || b[i] == '\n' || b[i] == '\t');
	if (text * 10 >= n * 7) {
		fputs("  \"", f);
		for (size_t i = 0; i < n && i < 60; i++) {
			if (b[i] == '\r')
				fputs("\\r", f);
			else if (b[i] == '\n')
				fputs("\\n", f);
			else if (b[i] == '\t')
				fputs("\\t", f);
			else
				fputc(isprint(b[i]) ? b[i] : '.', f);
		}
		fputs(n > 60 ? "...\"" : "\"", f);
	}
	fputc('\n', f);
}

static int print_json(sd_cli *cli, const sd_report *r, void *extra)
{
	char *s = sd_report_json(r, extra, isatty(fileno(cli->out)) ? SD_JSON_PRETTY : 0);
	if (!s)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory while writing JSON");
	fputs(s, cli->out);
	fputc('\n', cli->out);
	sd_free(s);
	return r->ok ? SD_EXIT_OK : SD_EXIT_FAIL;
}

int cli_print_report(sd_cli *cli, const sd_report *r, void *extra)
{
	if (cli->json)
		return print_json(cli, r, extra);
	if (extra)
		cJSON_Delete((cJSON *)extra); /* text mode prints its extras itself */

	FILE *f = cli->out;
	fprintf(f, "%s%s %s%s: %s%s%s (%lld ms)\n", cli_c(cli, "1"), r->command,
		r->target ? r->target : "", cli_c0(cli),
		cli_c(cli, r->ok ? "32" : "31"), r->ok ? "ok" : "handshake failed", cli_c0(cli),
		(long long)r->elapsed_ms);
	if (r->by.protocol[0] || r->by.mode[0] || r->by.chip[0]) {
		fprintf(f, "  answered by:");
		if (r->by.protocol[0])
			fprintf(f, " %s", r->by.protocol);
		if (r->by.mode[0])
			fprintf(f, "%s mode %s", r->by.protocol[0] ? "," : "", r->by.mode);
		if (r->by.chip[0])
			fprintf(f, ", chip %s", r->by.chip);
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->nfacts; i++)
		fprintf(f, "  %-20s %s\n", r->facts[i].key, r->facts[i].value);
	for (size_t i = 0; i < r->diag.n; i++) {
		const sd_finding *x = &r->diag.f[i];
		const char *col = x->cause == SD_CAUSE_OK ? "32" : (i == 0 ? "33" : "2");
		const char *layer = sd_layer_name(x->layer);
		fprintf(f, "\n%2zu. %s%s%s%s%s%s %d%%\n", i + 1, cli_c(cli, col),
			sd_cause_name(x->cause), cli_c0(cli), layer[0] ? " [" : "", layer,
			layer[0] ? "]" : "", (int)(x->confidence * 100.0f + 0.5f));
		fprintf(f, "     %s\n", x->summary);
		evidence_line(f, "sent", x->sent, x->sent_len);
		evidence_line(f, "received", x->rcvd, x->rcvd_len);
		if (x->detail[0]) {
			const char *p = x->detail;
			while (*p) {
				const char *nl = strchr(p, '\n');
				int len = nl ? (int)(nl - p) : (int)strlen(p);
				fprintf(f, "     - %.*s\n", len, p);
				p += len + (nl ? 1 : 0);
			}
		}
		if (x->fix[0] && !(x->cause == SD_CAUSE_OK && strcmp(x->fix, sd_cause_fix(SD_CAUSE_OK)) == 0))
			fprintf(f, "     %s%s%s %s\n", cli_c(cli, "1"), x->cause == SD_CAUSE_OK ? "next:" : "fix:",
				cli_c0(cli), x->fix);
	}
	if (r->diag.n == 0)
		fputs("  no findings\n", f);
	return r->ok ? SD_EXIT_OK : SD_EXIT_FAIL;
}

static sd_cause cause_for_open_error(int err)
{
	switch (err) {
	case SD_ERR_ACCESS:
		return SD_CAUSE_PERMISSION;
	case SD_ERR_BUSY:
		return SD_CAUSE_PORT_BUSY;
	case SD_ERR_CLOSED:
		return SD_CAUSE_DISCONNECTED;
	default:
		return SD_CAUSE_NO_DEVICE;
	}
}

/* A target that cannot be opened still gets a report in --json mode, so a
 * script reads the cause the same way as any other. */
int cli_open_failed(sd_cli *cli, const char *target, int err, const char *why, sd_time t0)
{
	if (err == SD_ERR_ARG)
		return cli_usage_error(cli, "%s", why);
	if (cli->json) {
		sd_report r;
		sd_report_init(&r, cli->cmd, target);
		sd_finding *f = sd_diag_add(&r.diag, cause_for_open_error(err), 1.0f);
		if (f)
			sd_finding_summary(f, "cannot open %s: %s", target, why);
		r.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
		cli_print_report(cli, &r, NULL);
	}
	return cli_error(cli, SD_EXIT_OPEN, "cannot open %s: %s", target, why);
}

