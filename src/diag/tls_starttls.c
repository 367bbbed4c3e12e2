/*
 * shakedown — STARTTLS: the plaintext dialog that comes before the
 * ClientHello on SMTP, IMAP, POP3, FTP and PostgreSQL ports, and the
 * server's own words when it refuses (a "421 Too many connections" is a
 * finding of its own, never "STARTTLS failed").
 *
 * The reply parser is pure and bounded (fuzz/fuzz_starttls.c); the dialog
 * drives it over a link, every read before one deadline. Sources: RFC 5321
 * 4.2 (SMTP replies), RFC 3207 (SMTP STARTTLS), RFC 3501 6.2.1 and 7.1
 * (IMAP), RFC 2449 and RFC 2595 4 (POP3 CAPA/STLS), RFC 959 4.2 and
 * RFC 4217 4 (FTP AUTH TLS), PostgreSQL 53.2.10 (SSLRequest).
 */
#include "internal.h"

#define STARTTLS_LINE_MAX 1000u  /* RFC 5321 4.5.3.1.5: a reply line is at most 512; be lenient */

static const char *const names[SD_STARTTLS_COUNT] = { "none", "smtp", "imap", "pop3", "ftp", "postgres" };

int sd_starttls_from_name(const char *name)
{
	if (!name)
		return -1;
	if (strcmp(name, "submission") == 0)
		return SD_STARTTLS_SMTP;
	for (int i = 0; i < SD_STARTTLS_COUNT; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *sd_starttls_name(int proto)
{
	return proto >= 0 && proto < SD_STARTTLS_COUNT ? names[proto] : "?";
}

int sd_starttls_for_port(unsigned port)
{
	switch (port) {
	case 25:
	case 587:
		return SD_STARTTLS_SMTP;
	case 143:
		return SD_STARTTLS_IMAP;
	case 110:
		return SD_STARTTLS_POP3;
	case 21:
		return SD_STARTTLS_FTP;
	case 5432:
		return SD_STARTTLS_POSTGRES;
	default:
		return SD_STARTTLS_NONE;
	}
}

/* copy a line, printable, without its CR LF */
static void keep_line(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t k = 0;
	while (n && (b[n - 1] == '\n' || b[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = sdi_is_text(b[i]) && b[i] != '\r' && b[i] != '\n' ? (char)b[i] : '.';
	out[k] = '\0';
}

static int has_word(const uint8_t *b, size_t n, const char *w)
{
	size_t k = strlen(w);
	for (size_t i = 0; i + k <= n; i++) {
		size_t j = 0;
		while (j < k && (b[i + j] >= 'a' && b[i + j] <= 'z' ? b[i + j] - 32 : b[i + j]) == w[j])
			j++;
		if (j == k && (i == 0 || b[i - 1] == ' ' || b[i - 1] == '-' || b[i - 1] == '\n') &&
		    (i + k == n || b[i + k] == ' ' || b[i + k] == '\r' || b[i + k] == '\n'))
			return 1;
	}
	return 0;
}

static int digit3(const uint8_t *b)
{
	if (b[0] < '1' || b[0] > '5' || b[1] < '0' || b[1] > '9' || b[2] < '0' || b[2] > '9')
		return -1;
	return (b[0] - '0') * 100 + (b[1] - '0') * 10 + (b[2] - '0');
}

/* SMTP and FTP: "250-a\r\n250 b\r\n" (RFC 5321 4.2.1; FTP's "220-" lines
 * may be followed by free text until "220 "). */
static int parse_coded(int step, const uint8_t *b, size_t n, sd_starttls_reply *out, int ftp)
{
	size_t at = 0;
	int first = -1;
	while (at < n) {
		const uint8_t *nl = memchr(b + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (b + at)) + 1 : n - at;
		if (len > STARTTLS_LINE_MAX)
			return SD_ERR_PROTO;
		if (!nl)
			return 0; /* a line not finished yet */
		const uint8_t *ln = b + at;
		int code = len >= 4 ? digit3(ln) : -1;
		if (first < 0) {
			if (code < 0)
				return SD_ERR_PROTO;
			first = code;
		}
		if (step == SD_STARTTLS_STEP_CAPA && has_word(ln, len, "STARTTLS"))
			out->offered = 1;
		keep_line(out->line, sizeof out->line, ln, len);
		at += len;
		if (code == first && len >= 4 && ln[3] == ' ') { /* the last line */
			out->complete = 1;
			out->code = code;
			out->used = at;
			if (step == SD_STARTTLS_STEP_GREETING)
				out->ok = code == 220;
			else if (step == SD_STARTTLS_STEP_CAPA)
				out->ok = code == 250;
			else
				out->ok = ftp ? code == 234 : code == 220;
			return 1;
		}
		if (!ftp && !(code == first && len >= 4 && ln[3] == '-'))
			return SD_ERR_PROTO; /* SMTP: every line of a reply carries its code */
	}
	return 0;
}

/* IMAP: untagged "* ..." lines, then "aN OK|NO|BAD ..." (greeting: "* OK",
 * "* PREAUTH", "* BYE"). */
static int parse_imap(int step, const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	size_t at = 0;
	while (at < n) {
		const uint8_t *nl = memchr(b + at, '\n', n - at);
		size_t len = nl ? (size_t)(nl - (b + at)) + 1 : n - at;
		if (len > STARTTLS_LINE_MAX)
			return SD_ERR_PROTO;
		if (!nl)
			return 0;
		const uint8_t *ln = b + at;
		keep_line(out->line, sizeof out->line, ln, len);
		at += len;
		if (has_word(ln, len, "STARTTLS"))
			out->offered = 1;
		if (len >= 2 && ln[0] == '*' && ln[1] == ' ') {
			if (step == SD_STARTTLS_STEP_GREETING) {
				out->complete = 1;
				out->used = at;
				out->ok = len >= 5 && (memcmp(ln + 2, "OK", 2) == 0 || memcmp(ln + 2, "PR", 2) == 0);
				return 1;
			}
			continue;
		}
		if (len >= 3 && ln[0] == 'a' && ln[1] >= '0' && ln[1] <= '9' && step != SD_STARTTLS_STEP_GREETING) {
			const uint8_t *sp = memchr(ln, ' ', len);
			if (!sp)
				return SD_ERR_PROTO;
			size_t rest = len - (size_t)(sp + 1 - ln);
			out->complete = 1;
			out->used = at;
			out->ok = rest >= 2 && memcmp(sp + 1, "OK", 2) == 0;
			return 1;
		}
		return SD_ERR_PROTO;
	}
	return 0;
}

/* POP3: "+OK ..." / "-ERR ..."; CAPA's answer goes on to a "." line. */
static int parse_pop3(int step, const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	const uint8_t *nl = memchr(b, '\n', n);
	size_t len = nl ? (size_t)(nl - b) + 1 : n;
	if (len > STARTTLS_LINE_MAX)
		return SD_ERR_PROTO;
	if (n >= 1 && b[0] != '+' && b[0] != '-')
		return SD_ERR_PROTO;
	if (!nl)
		return 0;
	keep_line(out->line, sizeof out->line, b, len);
	int ok = len >= 3 && memcmp(b, "+OK", 3) == 0;
	if (step != SD_STARTTLS_STEP_CAPA || !ok) {
		out->complete = 1;
		out->used = len;
		out->ok = ok;
		return 1;
	}
	size_t at = len;
	while (at < n) {
		const uint8_t *e = memchr(b + at, '\n', n - at);
		size_t l2 = e ? (size_t)(e - (b + at)) + 1 : n - at;
		if (l2 > STARTTLS_LINE_MAX)
			return SD_ERR_PROTO;
		if (!e)
			return 0;
		if (has_word(b + at, l2, "STLS"))
			out->offered = 1;
		if (b[at] == '.' && (l2 == 2 || (l2 == 3 && b[at + 1] == '\r'))) {
			out->complete = 1;
			out->used = at + l2;
			out->ok = 1;
			return 1;
		}
		at += l2;
	}
	return 0;
}

int sd_starttls_reply_parse(int proto, int step, const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	if (!out || (!b && n))
		return SD_ERR_ARG;
	memset(out, 0, sizeof *out);
	if (n == 0)
		return 0;
	if (b[0] >= 0x14 && b[0] <= 0x18 && proto != SD_STARTTLS_POSTGRES)
		return SD_ERR_PROTO; /* a TLS record: the port speaks TLS at once */
	switch (proto) {
	case SD_STARTTLS_SMTP:
		return parse_coded(step, b, n, out, 0);
	case SD_STARTTLS_FTP:
		return parse_coded(step, b, n, out, 1);
	case SD_STARTTLS_IMAP:
		return parse_imap(step, b, n, out);
	case SD_STARTTLS_POP3:
		return parse_pop3(step, b, n, out);
	case SD_STARTTLS_POSTGRES:
		/* one byte: 'S' go on, 'N' no TLS here; 'E' an error message */
		out->complete = 1;
		out->used = 1;
		out->ok = b[0] == 'S';
		out->offered = b[0] == 'S';
		keep_line(out->line, sizeof out->line, b, b[0] == 'E' ? SDI_MIN(n, 120u) : 1);
		return b[0] == 'S' || b[0] == 'N' || b[0] == 'E' ? 1 : SD_ERR_PROTO;
	default:
		return SD_ERR_ARG;
	}
}

/* ---- the dialog ------------------------------------------------------------ */

/* Send cmd (may be NULL), then read one reply of that step into res. */
static int step(sd_link *l, int proto, int stp, const uint8_t *cmd, size_t cmdlen, sd_deadline dl,
		sd_starttls_result *res)
{
	res->step = stp;
	res->rx_len = 0;
	if (cmd) {
		int rc = sd_link_write_all(l, cmd, cmdlen, dl);
		if (rc < 0)
			return res->link_err = rc;
	}
	for (;;) {
		if (res->rx_len >= sizeof res->rx)
			return SD_ERR_PROTO; /* a reply longer than any of these has any need to be */
		int got = sd_link_read(l, res->rx + res->rx_len, sizeof res->rx - res->rx_len, dl);
		if (got < 0)
			return res->link_err = got;
		res->rx_len += (size_t)got;
		int pr = sd_starttls_reply_parse(proto, stp, res->rx, res->rx_len, &res->last);
		if (pr < 0)
			return pr;
		if (pr == 1)
			return SD_OK;
	}
}

int sd_starttls_run(sd_link *l, int proto, sd_deadline dl, sd_starttls_result *res)
{
	if (!l || !res || proto <= SD_STARTTLS_NONE || proto >= SD_STARTTLS_COUNT)
		return SD_ERR_ARG;
	memset(res, 0, sizeof *res);
	static const uint8_t pg_ssl_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	int rc;
	if (proto == SD_STARTTLS_POSTGRES) {
		rc = step(l, proto, SD_STARTTLS_STEP_UPGRADE, pg_ssl_request, sizeof pg_ssl_request, dl, res);
		if (rc < 0)
			return rc;
		res->not_offered = !res->last.ok;
		res->ok = res->last.ok;
		return res->ok ? SD_OK : SD_ERR_NACK;
	}
	rc = step(l, proto, SD_STARTTLS_STEP_GREETING, NULL, 0, dl, res);
	if (rc < 0)
		return rc;
	if (!res->last.ok)
		return SD_ERR_NACK; /* 421/554 at the greeting, "* BYE", "-ERR" */
	static const struct { const char *capa, *upgrade; } dialog[SD_STARTTLS_COUNT] = {
		[SD_STARTTLS_SMTP] = { "EHLO shakedown.invalid\r\n", "STARTTLS\r\n" },
		[SD_STARTTLS_IMAP] = { "a1 CAPABILITY\r\n", "a2 STARTTLS\r\n" },
		[SD_STARTTLS_POP3] = { "CAPA\r\n", "STLS\r\n" },
		[SD_STARTTLS_FTP] = { NULL, "AUTH TLS\r\n" },
	};
	if (dialog[proto].capa) {
		rc = step(l, proto, SD_STARTTLS_STEP_CAPA, (const uint8_t *)dialog[proto].capa,
			  strlen(dialog[proto].capa), dl, res);
		if (rc < 0)
			return rc;
		if (!res->last.offered) {
			res->not_offered = 1;
			return SD_ERR_NACK;
		}
	}
	rc = step(l, proto, SD_STARTTLS_STEP_UPGRADE, (const uint8_t *)dialog[proto].upgrade,
		  strlen(dialog[proto].upgrade), dl, res);
	if (rc < 0)
		return rc;
	if (!res->last.ok) {
		/* FTP 500/502: the command is unknown; elsewhere a refusal */
		res->not_offered = proto == SD_STARTTLS_FTP && (res->last.code == 500 || res->last.code == 502);
		return SD_ERR_NACK;
	}
	res->ok = 1;
	return SD_OK;
}
