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

/* Length of the valid UTF-8 sequence at s[0..n) that a terminal shows as
 * text (no C1 controls U+0080..U+009F, no overlong forms, no surrogates),
 * or 0. */
static size_t utf8_text(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return len;
}

size_t cli_esc_buf(char *dst, size_t cap, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;
	if (!cap)
		return 0;
	for (size_t i = 0; i < n;) {
		char tmp[5];
		size_t k;
		const char *put = (const char *)s + i;
		size_t adv = 1;
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			k = 1;
		} else if (s[i] >= 0x80 && (k = utf8_text(s + i, n - i)) > 0) {
			adv = k;
		} else {
			snprintf(tmp, sizeof tmp, "\\x%02x", s[i]);
			put = tmp;
			k = 4;
		}
		if (o + k >= cap)
			break;
		memcpy(dst + o, put, k);
		o += k;
		i += adv;
	}
	dst[o] = '\0';
	return o;
}

const char *cli_esc(const char *s)
{
	static char buf[8][1024];
	static unsigned slot;
	char *b = buf[slot++ & 7];
	if (!s)
		return "";
	cli_esc_buf(b, sizeof buf[0], s, strlen(s));
	return b;
}

void cli_fput_esc(FILE *f, const char *s, size_t n)
{
	char b[1024];
	for (size_t i = 0; i < n;) {
		/* whole characters per chunk: at most 4 bytes in, 4 out each */
		size_t take = n - i < 250 ? n - i : 250;
		for (int back = 0; back < 3 && take < n - i && take > 1 &&
				   ((unsigned char)s[i + take] & 0xc0) == 0x80; back++)
			take--; /* do not split a UTF-8 sequence */
		cli_esc_buf(b, sizeof b, s + i, take);
		fputs(b, f);
		i += take;
	}
}

void cli_put_json(FILE *f, const char *json)
{
	const unsigned char *s = (const unsigned char *)json;
	for (size_t i = 0; s[i];) {
		size_t k;
		if (s[i] < 0x7f) {
			fputc(s[i], f);
			i++;
		} else if (s[i] > 0x7f && (k = utf8_text(s + i, 4)) > 0) {
			fwrite(s + i, 1, k, f);
			i += k;
		} else if (s[i] == 0xc2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f) {
			fprintf(f, "\\u00%02x", s[i + 1]); /* a C1 control, as JSON spells it */
			i += 2;
		} else {
			fputs(s[i] == 0x7f ? "\\u007f" : "\\ufffd", f); /* DEL; not UTF-8 */
			i++;
		}
	}
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
	cli_put_json(cli->out, s);
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
	fprintf(f, "%s%s ", cli_c(cli, "1"), r->command);
	if (r->target)
		cli_fput_esc(f, r->target, strlen(r->target));
	fprintf(f, "%s: %s%s%s (%lld ms)\n", cli_c0(cli),
		cli_c(cli, r->ok ? "32" : "31"), r->ok ? "ok" : "handshake failed", cli_c0(cli),
		(long long)r->elapsed_ms);
	if (r->by.protocol[0] || r->by.mode[0] || r->by.chip[0]) {
		fprintf(f, "  answered by:");
		if (r->by.protocol[0])
			fprintf(f, " %s", cli_esc(r->by.protocol));
		if (r->by.mode[0])
			fprintf(f, "%s mode %s", r->by.protocol[0] ? "," : "", cli_esc(r->by.mode));
		if (r->by.chip[0])
			fprintf(f, ", chip %s", cli_esc(r->by.chip));
		fputc('\n', f);
	}
	for (size_t i = 0; i < r->nfacts; i++)
		fprintf(f, "  %-20s %s\n", cli_esc(r->facts[i].key), cli_esc(r->facts[i].value));
	for (size_t i = 0; i < r->diag.n; i++) {
		const sd_finding *x = &r->diag.f[i];
		const char *col = x->cause == SD_CAUSE_OK ? "32" : (i == 0 ? "33" : "2");
		const char *layer = sd_layer_name(x->layer);
		fprintf(f, "\n%2zu. %s%s%s%s%s%s %d%%\n", i + 1, cli_c(cli, col),
			sd_cause_name(x->cause), cli_c0(cli), layer[0] ? " [" : "", layer,
			layer[0] ? "]" : "", (int)(x->confidence * 100.0f + 0.5f));
		fputs("     ", f);
		cli_fput_esc(f, x->summary, strlen(x->summary));
		fputc('\n', f);
		evidence_line(f, "sent", x->sent, x->sent_len);
		evidence_line(f, "received", x->rcvd, x->rcvd_len);
		if (x->detail[0]) {
			const char *p = x->detail;
			while (*p) {
				const char *nl = strchr(p, '\n');
				int len = nl ? (int)(nl - p) : (int)strlen(p);
				fputs("     - ", f);
				cli_fput_esc(f, p, (size_t)len);
				fputc('\n', f);
				p += len + (nl ? 1 : 0);
			}
		}
		if (x->fix[0] && !(x->cause == SD_CAUSE_OK && strcmp(x->fix, sd_cause_fix(SD_CAUSE_OK)) == 0)) {
			fprintf(f, "     %s%s%s ", cli_c(cli, "1"), x->cause == SD_CAUSE_OK ? "next:" : "fix:",
				cli_c0(cli));
			cli_fput_esc(f, x->fix, strlen(x->fix));
			fputc('\n', f);
		}
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
	case SD_ERR_PROTO: /* an rfc2217:// port that speaks raw, or plain Telnet */
	case SD_ERR_NACK:
		return SD_CAUSE_WRONG_PROTOCOL;
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

