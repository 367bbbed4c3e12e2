/*
 * shakedown explain BYTES — what received bytes most likely are: as ASCII,
 * as a baud-rate mismatch, as TLS, in every protocol we know; ranked causes.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_explain_usage[] =
	"usage: shakedown explain [options] BYTES...\n"
	"\n"
	"Says what bytes a tool received most likely are: ASCII text from a running\n"
	"application, a boot log, an echo of what was sent, a baud-rate mismatch\n"
	"(which rate pairs turn likely bytes into these), a TLS record, a plaintext\n"
	"banner, and what each protocol shakedown knows makes of them.\n"
	"\n"
	"BYTES: 0x68, 68, 68656c6c6f, or several: 68 65 6c 6c 6f (at most 4096\n"
	"bytes, and as many for --sent; more is a usage error, exit 2).\n"
	"Bounded: it reads no port and finishes in well under a second.\n"
	"\n"
	"options:\n"
	"  --text STRING   the bytes as text (C escapes \\r \\n \\t \\xNN)\n"
	"  --sent HEX      what the host sent before (for echo and protocol readings)\n"
	"  --expect PROTO  the protocol the tool expected ({protos:explain})\n"
	"  --baud N        the host's baud rate (narrows the mismatch guesses)\n"
	"  --net           the bytes came from a TCP port\n"
	"  global: --json\n"
	"\n"
	"examples:\n"
	"  shakedown explain 0x68                  avrdude's 'resp=0x68'\n"
	"  shakedown explain --sent 30 30          echo of GET_SYNC\n"
	"  shakedown explain --net 48 54 54 50     'HTTP' on a TLS port\n";

#define EXPLAIN_MAX 4096u

/* Append the bytes of one hex token ("0x68", "68", "68656c") to buf.
 * Returns 0, -1 for a token that is not hex, -2 when buf is full. */
static int parse_hex_token(const char *tok, uint8_t *buf, size_t *n, size_t cap)
{
	const char *p = tok;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	size_t len = strlen(p);
	if (len == 0 || len % 2)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		if (!isxdigit((unsigned char)p[i]) || !isxdigit((unsigned char)p[i + 1]))
			return -1;
		if (*n >= cap)
			return -2;
		char h[3] = { p[i], p[i + 1], 0 };
		buf[(*n)++] = (uint8_t)strtoul(h, NULL, 16);
	}
	return 0;
}

/* C escapes into out; -1 for a bad escape, -2 when out is full. */
static int unescape(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	*n = 0;
	for (size_t i = 0; s[i]; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '\\' && s[i + 1]) {
			char k = s[++i];
			if (k == 'r') c = '\r';
			else if (k == 'n') c = '\n';
			else if (k == 't') c = '\t';
			else if (k == '\\') c = '\\';
			else if (k == 'x' && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
				char h[3] = { s[i + 1], s[i + 2], 0 };
				c = (uint8_t)strtoul(h, NULL, 16);
				i += 2;
			} else
				return -1;
		}
		if (*n >= cap)
			return -2;
		out[(*n)++] = c;
	}
	return 0;
}

static void print_text(sd_cli *cli, const uint8_t *b, size_t n, const sd_meaning *m, size_t nm,
		       const sd_baud_guess *g, size_t ng)
{
	FILE *f = cli->out;
	fprintf(f, "%sbytes%s (%zu):\n", cli_c(cli, "1"), cli_c0(cli), n);
	cli_hexdump(f, b, n < 256 ? n : 256, "  ");
	fprintf(f, "\n%smeanings%s:\n", cli_c(cli, "1"), cli_c0(cli));
	for (size_t i = 0; i < nm; i++)
		fprintf(f, "  %-7s %s\n", m[i].proto, cli_esc(strchr(m[i].text, ':') && strncmp(m[i].text, m[i].proto, strlen(m[i].proto)) == 0
			? strchr(m[i].text, ':') + 2 : m[i].text));
	if (ng) {
		fprintf(f, "\n%sbaud-rate mismatches that give these bytes%s:\n", cli_c(cli, "1"), cli_c0(cli));
		for (size_t i = 0; i < ng; i++) {
			fprintf(f, "  device %7u baud, host %7u baud: sent", g[i].device_baud, g[i].host_baud);
			for (size_t k = 0; k < g[i].sent_len; k++)
				fprintf(f, " %02x", g[i].sent[k]);
			fputs(" (", f);
			for (size_t k = 0; k < g[i].sent_len; k++)
				fputc(isprint(g[i].sent[k]) ? g[i].sent[k] : '.', f);
			fprintf(f, ")  score %.2f\n", (double)g[i].score);
		}
	}
	fputc('\n', f);
}

static cJSON *extra_json(const uint8_t *b, size_t n, const sd_meaning *m, size_t nm,
			 const sd_baud_guess *g, size_t ng)
{
	cJSON *x = cJSON_CreateObject();
	char *hex = malloc(2 * n + 1), *asc = malloc(n + 1);
	if (!x || !hex || !asc) {
		free(hex);
		free(asc);
		cJSON_Delete(x);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
		asc[i] = isprint(b[i]) ? (char)b[i] : '.';
	}
	hex[2 * n] = asc[n] = '\0';
	cJSON_AddStringToObject(x, "bytes", hex);
	cJSON_AddStringToObject(x, "ascii", asc);
	free(hex);
	free(asc);
	cJSON *ms = cJSON_AddArrayToObject(x, "meanings");
	for (size_t i = 0; i < nm; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "proto", m[i].proto);
		cJSON_AddStringToObject(o, "text", m[i].text);
		cJSON_AddItemToArray(ms, o);
	}
	cJSON *bp = cJSON_AddArrayToObject(x, "baud_pairs");
	for (size_t i = 0; i < ng; i++) {
		cJSON *o = cJSON_CreateObject();
		char s[2 * sizeof g[i].sent + 1] = "";
		for (size_t k = 0; k < g[i].sent_len; k++)
			snprintf(s + 2 * k, 3, "%02x", g[i].sent[k]);
		cJSON_AddNumberToObject(o, "device_baud", g[i].device_baud);
		cJSON_AddNumberToObject(o, "host_baud", g[i].host_baud);
		cJSON_AddStringToObject(o, "sent", s);
		cJSON_AddNumberToObject(o, "score", (double)(int)(g[i].score * 100.0f + 0.5f) / 100.0);
		cJSON_AddItemToArray(bp, o);
	}
	return x;
}

int cmd_explain(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "text", required_argument, NULL, 't' },
		{ "sent", required_argument, NULL, 's' },
		{ "expect", required_argument, NULL, 'e' },
		{ "baud", required_argument, NULL, 'b' },
		{ "net", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static uint8_t rx[EXPLAIN_MAX], tx[EXPLAIN_MAX];
	size_t nrx = 0, ntx = 0;
	uint32_t baud = 0;
	const char *expect = NULL, *text = NULL;
	int net = 0, c;

	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			text = optarg;
			break;
		case 's': {
			/* --sent takes one or more hex tokens: "30 20" or "3020" */
			char *dup = strdup(optarg);
			if (!dup)
				return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
			for (char *tok = strtok(dup, " ,"); tok; tok = strtok(NULL, " ,")) {
				int pr = parse_hex_token(tok, tx, &ntx, sizeof tx);
				if (pr != 0) {
					int rc = pr == -2
						 ? cli_usage_error(cli, "--sent: more than %u bytes (the most explain reads)", EXPLAIN_MAX)
						 : cli_usage_error(cli, "--sent: '%s' is not hex bytes", cli_esc(tok));
					free(dup);
					return rc;
				}
			}
			free(dup);
			break;
		}
		case 'e':
			expect = optarg;
			if (cli_proto_pick(cli, expect, SD_PROTO_USE_EXPLAIN, "--expect", NULL))
				return SD_EXIT_USAGE;
			break;
		case 'b':
			if (sd_parse_u32(optarg, 50, 20000000, &baud) != SD_OK)
				return cli_usage_error(cli, "--baud needs a rate between 50 and 20000000, not '%s'", optarg);
			break;
		case 'n':
			net = 1;
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (text) {
		if (optind < argc)
			return cli_usage_error(cli, "give the bytes either as --text or as hex, not both");
		int ur = unescape(text, rx, sizeof rx, &nrx);
		if (ur == -2)
			return cli_usage_error(cli, "--text: more than %u bytes (the most explain reads)", EXPLAIN_MAX);
		if (ur != 0)
			return cli_usage_error(cli, "--text: bad escape (write \\r \\n \\t \\\\ or \\xNN)");
	}
	for (int i = optind; i < argc; i++) {
		int pr = parse_hex_token(argv[i], rx, &nrx, sizeof rx);
		if (pr == -2)
			return cli_usage_error(cli, "more than %u bytes (the most explain reads)", EXPLAIN_MAX);
		if (pr != 0)
			return cli_usage_error(cli, "'%s' is not a hex byte (write 0x68, 68 or 68656c)", cli_esc(argv[i]));
	}
	if (nrx == 0)
		return cli_usage_error(cli, "which bytes? (e.g. shakedown explain 0x68)");

	sd_time t0 = sd_now(sd_clock_real());
	sd_report r;
	sd_report_init(&r, "explain", "bytes");
	sd_classify_in in = {
		.rx = rx, .rx_len = nrx, .tx = ntx ? tx : NULL, .tx_len = ntx, .expect = expect,
		.host_baud = baud, .link_caps = net ? SD_LINK_NET : 0,
	};
	sd_diagnose_bytes(&in, &r.diag);
	if (net && !(rx[0] >= 20 && rx[0] <= 24)) {
		/* On a TLS port, any non-record first byte is a plaintext reply. */
		sd_finding *f = sd_diag_find(&r.diag, SD_CAUSE_PLAINTEXT_SERVICE);
		if (!f && (f = sd_diag_add(&r.diag, SD_CAUSE_PLAINTEXT_SERVICE, 0.6f))) {
			sd_finding_summary(f, "0x%02x is not a TLS content type (20-24): a plaintext reply on a TLS port", rx[0]);
			sd_finding_evidence(f, in.tx, ntx, rx, nrx);
		}
		sd_diag_sort(&r.diag);
	}
	sd_meaning m[16];
	size_t nm = sd_explain_meanings(rx, nrx, m, 16);
	sd_baud_guess g[6];
	size_t ng = sd_baud_guess_pairs(rx, nrx, baud, g, 6);
	r.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
	/* Explaining worked, whatever the bytes mean. */
	r.ok = 1;

	if (cli->json) {
		cJSON *x = extra_json(rx, nrx, m, nm, g, ng);
		cli_print_report(cli, &r, x);
		return SD_EXIT_OK;
	}
	print_text(cli, rx, nrx, m, nm, g, ng);
	cli_print_report(cli, &r, NULL);
	return SD_EXIT_OK;
}
