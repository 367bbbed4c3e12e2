/*
 * shakedown — STARTTLS: the plaintext dialog that comes before the
 * ClientHello on SMTP, IMAP, POP3, FTP, PostgreSQL, XMPP, LDAP and MySQL
 * ports, and the
 * server's own words when it refuses (a "421 Too many connections" is a
 * finding of its own, never "STARTTLS failed").
 *
 * The reply parser is pure and bounded (fuzz/fuzz_starttls.c); the dialog
 * drives it over a link, every read before one deadline. Sources: RFC 5321
 * 4.2 (SMTP replies), RFC 3207 (SMTP STARTTLS), RFC 3501 6.2.1 and 7.1
 * (IMAP), RFC 2449 and RFC 2595 4 (POP3 CAPA/STLS), RFC 959 4.2 and
 * RFC 4217 4 (FTP AUTH TLS), PostgreSQL 53.2.10 (SSLRequest), RFC 6120
 * 4.2, 4.9 and 5.4 (XMPP stream, stream errors, STARTTLS), RFC 4511 4.1,
 * 4.12, 4.14 and Appendix A (LDAP messages, ExtendedResponse, StartTLS,
 * result codes) with X.690 8.1 (BER), the MySQL client/server protocol
 * (Protocol::HandshakeV10, ERR_Packet, Protocol::SSLRequest).
 */
#include <stdlib.h>
#include "internal.h"

#define STARTTLS_LINE_MAX 1000u  /* RFC 5321 4.5.3.1.5: a reply line is at most 512; be lenient */

#define LDAP_MSG_MAX      4096u  /* an ExtendedResponse with a diagnosticMessage; far more is no answer to us */
#define MYSQL_GREETING_MAX 1024u /* HandshakeV10 is ~80 bytes; an ERR packet's message ~512 */
#define MYSQL_CLIENT_SSL  0x0800u /* capability flag CLIENT_SSL */

static const char *const names[SD_STARTTLS_COUNT] = {
	"none", "smtp", "imap", "pop3", "ftp", "postgres", "xmpp", "xmpp-server", "ldap", "mysql",
};

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
	case 5222:
		return SD_STARTTLS_XMPP;
	case 5269:
		return SD_STARTTLS_XMPP_SERVER;
	case 389:
		return SD_STARTTLS_LDAP;
	case 3306:
		return SD_STARTTLS_MYSQL;
	default:
		return SD_STARTTLS_NONE;
	}
}

/* TLS-on-connect twins: RFC 8314 7.3 (465 submissions, 993, 995), RFC 4217
 * (990 ftps, historic but met), XEP-0368 (5223 xmpps-client, 5270
 * xmpps-server), RFC 4513 3 / IANA (636 ldaps). PostgreSQL and MySQL have
 * none: TLS is only ever negotiated inside their protocols. */
static const unsigned tls_ports[SD_STARTTLS_COUNT] = {
	[SD_STARTTLS_SMTP] = 465, [SD_STARTTLS_IMAP] = 993, [SD_STARTTLS_POP3] = 995,
	[SD_STARTTLS_FTP] = 990, [SD_STARTTLS_XMPP] = 5223, [SD_STARTTLS_XMPP_SERVER] = 5270,
	[SD_STARTTLS_LDAP] = 636,
};

/* the usual STARTTLS port of a protocol (the first sd_starttls_for_port names) */
static unsigned stls_port(int proto)
{
	static const unsigned usual[SD_STARTTLS_COUNT] = {
		[SD_STARTTLS_SMTP] = 587, [SD_STARTTLS_IMAP] = 143, [SD_STARTTLS_POP3] = 110,
		[SD_STARTTLS_FTP] = 21, [SD_STARTTLS_POSTGRES] = 5432, [SD_STARTTLS_XMPP] = 5222,
		[SD_STARTTLS_XMPP_SERVER] = 5269, [SD_STARTTLS_LDAP] = 389, [SD_STARTTLS_MYSQL] = 3306,
	};
	return proto > 0 && proto < SD_STARTTLS_COUNT ? usual[proto] : 0;
}

unsigned sd_starttls_tls_port(int proto)
{
	return proto > 0 && proto < SD_STARTTLS_COUNT ? tls_ports[proto] : 0;
}

int sd_starttls_for_tls_port(unsigned port)
{
	for (int i = 1; i < SD_STARTTLS_COUNT && port; i++)
		if (tls_ports[i] == port)
			return i;
	return SD_STARTTLS_NONE;
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

/* The line that starts at `at`, with its '\n': 1 (its length in *len), 0
 * when it has not ended yet, SD_ERR_PROTO when it is longer than any reply
 * line may be. */
static int next_line(const uint8_t *b, size_t n, size_t at, size_t *len)
{
	const uint8_t *nl = memchr(b + at, '\n', n - at);
	*len = nl ? (size_t)(nl - (b + at)) + 1 : n - at;
	if (*len > STARTTLS_LINE_MAX)
		return SD_ERR_PROTO;
	return nl != NULL;
}

/* SMTP and FTP: "250-a\r\n250 b\r\n" (RFC 5321 4.2.1; FTP's "220-" lines
 * may be followed by free text until "220 "). */
static int parse_coded(int step, const uint8_t *b, size_t n, sd_starttls_reply *out, int ftp)
{
	size_t at = 0;
	int first = -1;
	while (at < n) {
		size_t len;
		int k = next_line(b, n, at, &len);
		if (k <= 0)
			return k;
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
		size_t len;
		int k = next_line(b, n, at, &len);
		if (k <= 0)
			return k;
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
	size_t len;
	int k = next_line(b, n, 0, &len);
	if (k < 0)
		return k;
	if (n >= 1 && b[0] != '+' && b[0] != '-')
		return SD_ERR_PROTO;
	if (!k)
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
		size_t l2;
		k = next_line(b, n, at, &l2);
		if (k <= 0)
			return k;
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

/* append b[0..n) to out, printable, as keep_line does */
static void add_text(char *out, size_t cap, const uint8_t *b, size_t n)
{
	size_t k = strlen(out);
	for (size_t i = 0; i < n && k + 1 < cap; i++)
		out[k++] = sdi_is_text(b[i]) && b[i] != '\r' && b[i] != '\n' ? (char)b[i] : '.';
	out[k] = '\0';
}

/* ---- XMPP ------------------------------------------------------------------ */

/* One tag of the server's stream, read whole: its local name (after the
 * namespace prefix), its attributes, whether it closes (</x>) or is empty
 * (<x/>). A tag scanner, not an XML parser: what we need is the few names
 * RFC 6120 gives, never a document. */
typedef struct xtag {
	const uint8_t *name, *attrs;
	size_t         nlen, alen;
	int            close, empty, other; /* other: <?xml ...?>, <!-- -->, <!DOCTYPE> */
} xtag;

/* The tag at b[0] == '<': its length to its '>' (outside quotes), or 0 when
 * the '>' has not come yet. */
static size_t xml_tag(const uint8_t *b, size_t n, xtag *t)
{
	uint8_t q = 0;
	size_t end = 0;
	for (size_t i = 1; i < n; i++) {
		if (q) {
			if (b[i] == q)
				q = 0;
		} else if (b[i] == '"' || b[i] == '\'') {
			q = b[i];
		} else if (b[i] == '>') {
			end = i;
			break;
		}
	}
	if (!end)
		return 0;
	memset(t, 0, sizeof *t);
	size_t i = 1;
	if (b[1] == '?' || b[1] == '!') {
		t->other = 1;
		return end + 1;
	}
	if (b[1] == '/') {
		t->close = 1;
		i = 2;
	}
	size_t s = i;
	while (i < end && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' && b[i] != '/')
		i++;
	t->name = b + s;
	t->nlen = i - s;
	const uint8_t *colon = t->nlen ? memchr(t->name, ':', t->nlen) : NULL;
	while (colon) { /* the local name: after the last ':' */
		t->nlen -= (size_t)(colon + 1 - t->name);
		t->name = colon + 1;
		colon = t->nlen ? memchr(t->name, ':', t->nlen) : NULL;
	}
	t->attrs = b + i;
	t->alen = end - i;
	t->empty = end > 1 && b[end - 1] == '/';
	return end + 1;
}

static int xname(const xtag *t, const char *w)
{
	return t->nlen == strlen(w) && memcmp(t->name, w, t->nlen) == 0;
}

static int xattr_has(const xtag *t, const char *w)
{
	return t->alen && sdi_find(t->attrs, t->alen, w) != NULL;
}

/* The server's side of the stream (RFC 6120 4.2): at STEP_CAPA its
 * <stream:stream> header, then <stream:features> (complete at its end;
 * offered when a <starttls> of urn:ietf:params:xml:ns:xmpp-tls is in it);
 * at STEP_UPGRADE <proceed/> (ok) or <failure/>. A <stream:error> (4.9) or
 * the stream's end, at any step, completes the reply as a refusal, its
 * condition and text quoted. */
static int parse_xmpp(int step, const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	size_t at = 0;
	int depth = 0, seen_stream = 0, in_features = 0, in_starttls = 0, in_error = 0, in_failure = 0, nfeat = 0;
	int in_text = 0;
	const uint8_t *text = NULL;
	size_t text_len = 0;
	char cond[64] = "";
	if (step == SD_STARTTLS_STEP_GREETING)
		step = SD_STARTTLS_STEP_CAPA; /* the client speaks first: no greeting of its own */
	while (at < n) {
		if (b[at] != '<') {
			const uint8_t *lt = memchr(b + at, '<', n - at);
			size_t end = lt ? (size_t)(lt - b) : n;
			if (!in_error && !in_failure && depth == 0) /* between elements, only white space */
				for (size_t i = at; i < end; i++)
					if (b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n')
						return SD_ERR_PROTO;
			if (in_text)
				text_len = end - (size_t)(text - b);
			if (!lt)
				return 0;
			at = end;
			continue;
		}
		xtag t;
		size_t tl = xml_tag(b + at, n - at, &t);
		if ((tl ? tl : n - at) > STARTTLS_LINE_MAX)
			return SD_ERR_PROTO; /* no tag of these replies is that long, whole or not */
		if (!tl)
			return 0;
		at += tl;
		in_text = 0; /* the <text> element's content ends at the next tag */
		if (t.other)
			continue;
		if (!t.nlen)
			return SD_ERR_PROTO;
		if (!seen_stream && step == SD_STARTTLS_STEP_CAPA) {
			if (t.close || !xname(&t, "stream"))
				return SD_ERR_PROTO; /* XML, but no XMPP stream */
			seen_stream = 1;
			continue;
		}
		if (xname(&t, "stream") && t.close) { /* </stream:stream>: the server ends it */
			out->complete = 1;
			out->used = at;
			if (!out->line[0])
				sdi_fmt(out->line, sizeof out->line, "</stream:stream> (the server closed the stream)");
			return 1;
		}
		if (in_error) {
			if (xname(&t, "error") && t.close) {
				out->complete = 1;
				out->used = at;
				sdi_fmt(out->line, sizeof out->line, "<stream:error> %s", cond[0] ? cond : "(no condition)");
				if (text && text_len) {
					sdi_append(out->line, sizeof out->line, ": ");
					add_text(out->line, sizeof out->line, text, text_len);
				}
				return 1;
			}
			if (!t.close && xname(&t, "text") && !t.empty) {
				text = b + at;
				text_len = 0;
				in_text = 1;
			} else if (!t.close && !xname(&t, "text") && !cond[0]) {
				cond[0] = '\0';
				add_text(cond, sizeof cond, t.name, t.nlen);
			}
			continue;
		}
		if (xname(&t, "error") && !t.close && depth == 0) {
			if (t.empty) {
				out->complete = 1;
				out->used = at;
				sdi_fmt(out->line, sizeof out->line, "<stream:error/>");
				return 1;
			}
			in_error = 1;
			continue;
		}
		if (step == SD_STARTTLS_STEP_CAPA) {
			if (xname(&t, "features") && depth == 0 && !t.close) {
				sdi_fmt(out->line, sizeof out->line, "<stream:features>");
				if (t.empty) {
					out->complete = out->ok = 1;
					out->used = at;
					return 1;
				}
				in_features = 1;
				depth = 1;
				continue;
			}
			if (!in_features)
				return SD_ERR_PROTO; /* no other element comes before the features */
			if (t.close) {
				if (--depth == 0) { /* </stream:features> */
					out->complete = out->ok = 1;
					out->used = at;
					return 1;
				}
				if (depth == 1)
					in_starttls = 0;
				continue;
			}
			if (depth == 1) {
				if (xname(&t, "starttls") && xattr_has(&t, "urn:ietf:params:xml:ns:xmpp-tls")) {
					out->offered = 1;
					in_starttls = !t.empty;
				}
				sdi_append(out->line, sizeof out->line, nfeat++ ? ", " : " ");
				add_text(out->line, sizeof out->line, t.name, t.nlen);
			} else if (in_starttls && depth == 2 && xname(&t, "required")) {
				sdi_append(out->line, sizeof out->line, " (required)");
			}
			if (!t.empty)
				depth++;
			if (depth > 16)
				return SD_ERR_PROTO;
			continue;
		}
		/* STEP_UPGRADE: RFC 6120 5.4.2.3 (proceed) and 5.4.2.2 (failure) */
		if (in_failure) {
			if (xname(&t, "failure") && t.close) {
				out->complete = 1;
				out->used = at;
				return 1;
			}
			continue;
		}
		if (xname(&t, "proceed") && !t.close) {
			out->complete = out->ok = 1;
			out->used = at;
			sdi_fmt(out->line, sizeof out->line, "<proceed/>");
			return 1;
		}
		if (xname(&t, "failure") && !t.close) {
			sdi_fmt(out->line, sizeof out->line, "<failure/>");
			if (t.empty) {
				out->complete = 1;
				out->used = at;
				return 1;
			}
			in_failure = 1;
			continue;
		}
		return SD_ERR_PROTO;
	}
	return 0;
}

/* ---- LDAP ------------------------------------------------------------------ */

/* A BER header (X.690 8.1.2-8.1.3): one low-number tag byte (all of LDAP's
 * are), a definite length of at most 4 bytes (RFC 4511 5.1 forbids the
 * indefinite form). Returns the header's size, 0 when more bytes are
 * needed, -1 for what no LDAP encoding is. */
static int ber_head(const uint8_t *b, size_t n, uint8_t *tag, size_t *len)
{
	if (n < 2)
		return 0;
	if ((b[0] & 0x1f) == 0x1f)
		return -1;
	*tag = b[0];
	if (b[1] < 0x80) {
		*len = b[1];
		return 2;
	}
	size_t k = b[1] & 0x7fu;
	if (k == 0 || k > 4)
		return -1;
	if (n < 2 + k)
		return 0;
	size_t v = 0;
	for (size_t i = 0; i < k; i++)
		v = v << 8 | b[2 + i];
	*len = v;
	return (int)(2 + k);
}

/* One element inside a whole message: tag must be want; its content. */
static int ber_take(const uint8_t **p, size_t *left, uint8_t want, const uint8_t **v, size_t *vlen)
{
	uint8_t tag;
	size_t len;
	int h = ber_head(*p, *left, &tag, &len);
	if (h <= 0 || tag != want || len > *left - (size_t)h)
		return -1;
	*v = *p + h;
	*vlen = len;
	*p += (size_t)h + len;
	*left -= (size_t)h + len;
	return 0;
}

static int ber_int(const uint8_t *v, size_t n, long *out)
{
	if (n < 1 || n > 4)
		return -1;
	long x = (v[0] & 0x80) ? -1 : 0;
	for (size_t i = 0; i < n; i++)
		x = (long)((unsigned long)x << 8) | v[i];
	*out = x;
	return 0;
}

/* RFC 4511 Appendix A.1, the codes a StartTLS answer may carry */
static const char *ldap_result_name(long c)
{
	switch (c) {
	case 0: return "success";
	case 1: return "operationsError";
	case 2: return "protocolError";
	case 3: return "timeLimitExceeded";
	case 8: return "strongerAuthRequired";
	case 11: return "adminLimitExceeded";
	case 12: return "unavailableCriticalExtension";
	case 13: return "confidentialityRequired";
	case 50: return "insufficientAccessRights";
	case 51: return "busy";
	case 52: return "unavailable";
	case 53: return "unwillingToPerform";
	case 80: return "other";
	default: return "?";
	}
}

/* The ExtendedResponse to our StartTLS request (RFC 4511 4.12, 4.14.2):
 * LDAPMessage { messageID, [APPLICATION 24] { resultCode, matchedDN,
 * diagnosticMessage, ... } }; messageID 0 is an unsolicited notification
 * (4.4.1: Notice of Disconnection), a refusal too. */
static int parse_ldap(const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	uint8_t tag;
	size_t len;
	int h = ber_head(b, n, &tag, &len);
	if (h < 0 || (n >= 1 && b[0] != 0x30))
		return SD_ERR_PROTO;
	if (h == 0)
		return 0;
	if (len > LDAP_MSG_MAX)
		return SD_ERR_PROTO;
	if (n - (size_t)h < len)
		return 0;
	const uint8_t *p = b + h, *v;
	size_t left = len, vlen;
	long id, rc;
	if (ber_take(&p, &left, 0x02, &v, &vlen) < 0 || ber_int(v, vlen, &id) < 0)
		return SD_ERR_PROTO;
	const uint8_t *op;
	size_t oplen;
	if (ber_take(&p, &left, 0x78, &op, &oplen) < 0)
		return SD_ERR_PROTO; /* another operation than an ExtendedResponse */
	const uint8_t *dn, *msg;
	size_t dnlen, msglen;
	if (ber_take(&op, &oplen, 0x0a, &v, &vlen) < 0 || ber_int(v, vlen, &rc) < 0 ||
	    ber_take(&op, &oplen, 0x04, &dn, &dnlen) < 0 || ber_take(&op, &oplen, 0x04, &msg, &msglen) < 0)
		return SD_ERR_PROTO;
	out->complete = 1;
	out->used = (size_t)h + len;
	out->code = (int)(rc < 0 ? -1 : rc > 0xffff ? 0xffff : rc);
	out->ok = rc == 0 && id != 0;
	sdi_fmt(out->line, sizeof out->line, "%sresultCode %ld (%s)", id == 0 ? "unsolicited notice (messageID 0): " : "",
		rc, ldap_result_name(rc));
	if (msglen) {
		sdi_append(out->line, sizeof out->line, ": ");
		add_text(out->line, sizeof out->line, msg, msglen);
	}
	return 1;
}

/* ---- MySQL ----------------------------------------------------------------- */

/* The server's first packet (3-byte length, sequence 0): Protocol::
 * HandshakeV10 (protocol 10, the version string, connection id, 8 bytes of
 * scramble, a filler, the low 16 capability bits: CLIENT_SSL is 0x0800), or
 * an ERR_Packet (0xff, a 2-byte error code, optionally '#' and a SQLSTATE,
 * the message: "Host '...' is not allowed to connect", "Too many
 * connections"). ok: a greeting; offered: CLIENT_SSL; line: what to quote. */
static int parse_mysql(const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	if (n >= 4 && b[3] != 0)
		return SD_ERR_PROTO; /* not the first packet */
	if (n < 4)
		return 0;
	size_t len = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16;
	if (len == 0 || len > MYSQL_GREETING_MAX)
		return SD_ERR_PROTO;
	if (n - 4 < len)
		return 0;
	const uint8_t *p = b + 4;
	if (p[0] == 0xff) {
		if (len < 3)
			return SD_ERR_PROTO;
		out->code = p[1] | p[2] << 8;
		size_t at = 3;
		sdi_fmt(out->line, sizeof out->line, "ERROR %d", out->code);
		if (len >= 9 && p[3] == '#') {
			sdi_append(out->line, sizeof out->line, " (");
			add_text(out->line, sizeof out->line, p + 4, 5);
			sdi_append(out->line, sizeof out->line, ")");
			at = 9;
		}
		sdi_append(out->line, sizeof out->line, ": ");
		add_text(out->line, sizeof out->line, p + at, len - at);
	} else if (p[0] == 10) {
		const uint8_t *nul = memchr(p + 1, 0, len - 1);
		if (!nul)
			return SD_ERR_PROTO;
		size_t vlen = (size_t)(nul - (p + 1)), caps_at = 1 + vlen + 1 + 4 + 8 + 1;
		if (caps_at + 2 > len)
			return SD_ERR_PROTO;
		unsigned caps = p[caps_at] | (unsigned)p[caps_at + 1] << 8;
		out->ok = 1;
		out->offered = (caps & MYSQL_CLIENT_SSL) != 0;
		sdi_fmt(out->line, sizeof out->line, "server version ");
		add_text(out->line, sizeof out->line, p + 1, SDI_MIN(vlen, (size_t)80));
		if (!out->offered)
			sdi_append(out->line, sizeof out->line, ", capabilities 0x%04x without CLIENT_SSL (0x0800)", caps);
	} else if (p[0] == 9) { /* Protocol::HandshakeV9: servers before 3.21, no TLS */
		out->ok = 1;
		sdi_fmt(out->line, sizeof out->line, "a protocol 9 greeting (MySQL before 3.21): no TLS at all");
	} else {
		return SD_ERR_PROTO;
	}
	out->complete = 1;
	out->used = 4 + len;
	return 1;
}

int sd_starttls_reply_parse(int proto, int step, const uint8_t *b, size_t n, sd_starttls_reply *out)
{
	if (!out || (!b && n))
		return SD_ERR_ARG;
	memset(out, 0, sizeof *out);
	if (n == 0)
		return 0;
	if (b[0] >= 0x14 && b[0] <= 0x18 && proto != SD_STARTTLS_POSTGRES &&
	    (proto != SD_STARTTLS_MYSQL || (n >= 2 && b[1] == 3)))
		return SD_ERR_PROTO; /* a TLS record: the port speaks TLS at once
					(MySQL's first byte is a length: its version byte tells) */
	switch (proto) {
	case SD_STARTTLS_SMTP:
		return parse_coded(step, b, n, out, 0);
	case SD_STARTTLS_FTP:
		return parse_coded(step, b, n, out, 1);
	case SD_STARTTLS_IMAP:
		return parse_imap(step, b, n, out);
	case SD_STARTTLS_POP3:
		return parse_pop3(step, b, n, out);
	case SD_STARTTLS_XMPP:
	case SD_STARTTLS_XMPP_SERVER:
		return parse_xmpp(step, b, n, out);
	case SD_STARTTLS_LDAP:
		return parse_ldap(b, n, out);
	case SD_STARTTLS_MYSQL:
		return parse_mysql(b, n, out);
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

/* RFC 6120 4.7.2 and 4.8: the initiating entity names the domain it wants
 * served; jabber:server for server-to-server streams (5269). */
static int xmpp_header(char *out, size_t cap, int proto, const char *domain)
{
	if (domain) {
		size_t k = strlen(domain);
		if (k == 0 || k > 255)
			return SD_ERR_ARG;
		for (size_t i = 0; i < k; i++) {
			char c = domain[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']'))
				return SD_ERR_ARG; /* nothing that could end the attribute */
		}
	}
	sdi_fmt(out, cap, "<?xml version='1.0'?><stream:stream%s%s%s version='1.0' xmlns='jabber:%s' "
		"xmlns:stream='http://etherx.jabber.org/streams'>",
		domain ? " to='" : "", domain ? domain : "", domain ? "'" : "",
		proto == SD_STARTTLS_XMPP_SERVER ? "server" : "client");
	return SD_OK;
}

/* The plaintext dialog when the client speaks first, or the server's one
 * packet says it all (XMPP, LDAP, MySQL). */
static int run_more(sd_link *l, const sd_starttls_cfg *cfg, sd_deadline dl, sd_starttls_result *res)
{
	int proto = cfg->proto, rc;
	if (proto == SD_STARTTLS_LDAP) {
		/* RFC 4511 4.14.1: LDAPMessage { messageID 1, [APPLICATION 23]
		 * { requestName [0] "1.3.6.1.4.1.1466.20037" } } */
		static const uint8_t start_tls[31] = {
			0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16,
			'1', '.', '3', '.', '6', '.', '1', '.', '4', '.', '1', '.',
			'1', '4', '6', '6', '.', '2', '0', '0', '3', '7',
		};
		rc = step(l, proto, SD_STARTTLS_STEP_UPGRADE, start_tls, sizeof start_tls, dl, res);
		if (rc < 0)
			return rc;
		if (!res->last.ok) {
			/* 4.12: an unknown request name gets protocolError */
			res->not_offered = res->last.code == 2;
			return SD_ERR_NACK;
		}
		res->ok = 1;
		return SD_OK;
	}
	if (proto == SD_STARTTLS_MYSQL) {
		rc = step(l, proto, SD_STARTTLS_STEP_GREETING, NULL, 0, dl, res);
		if (rc < 0)
			return rc;
		if (!res->last.ok)
			return SD_ERR_NACK; /* an ERR packet: quoted */
		if (!res->last.offered) {
			res->not_offered = 1;
			return SD_ERR_NACK;
		}
		/* Protocol::SSLRequest: 32 bytes, sequence 1: capabilities
		 * (CLIENT_LONG_PASSWORD, _LONG_FLAG, _PROTOCOL_41, _SSL,
		 * _TRANSACTIONS, _SECURE_CONNECTION, _MULTI_RESULTS, _PLUGIN_AUTH),
		 * max packet 16 MiB, charset 33 (utf8_general_ci), 23 zero bytes.
		 * The server answers with nothing: TLS starts. */
		static const uint8_t ssl_request[4 + 32] = {
			32, 0, 0, 1,
			0x05, 0xaa, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x01, 33,
		};
		res->step = SD_STARTTLS_STEP_UPGRADE;
		rc = sd_link_write_all(l, ssl_request, sizeof ssl_request, dl);
		if (rc < 0)
			return res->link_err = rc;
		res->ok = 1;
		return SD_OK;
	}
	/* XMPP: our stream header; the server's, and its features */
	char hdr[420];
	const char *domain = cfg->domain ? cfg->domain : sdi_tcp_host(l);
	rc = xmpp_header(hdr, sizeof hdr, proto, domain);
	if (rc < 0)
		return rc;
	rc = step(l, proto, SD_STARTTLS_STEP_CAPA, (const uint8_t *)hdr, strlen(hdr), dl, res);
	if (rc < 0)
		return rc;
	if (!res->last.ok) { /* a stream error at the header: the server's greeting refuses */
		res->step = SD_STARTTLS_STEP_GREETING;
		return SD_ERR_NACK;
	}
	if (!res->last.offered) {
		res->not_offered = 1;
		return SD_ERR_NACK;
	}
	static const char starttls[] = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
	rc = step(l, proto, SD_STARTTLS_STEP_UPGRADE, (const uint8_t *)starttls, sizeof starttls - 1, dl, res);
	if (rc < 0)
		return rc;
	if (!res->last.ok)
		return SD_ERR_NACK;
	res->ok = 1;
	return SD_OK;
}

int sd_starttls_run(sd_link *l, int proto, sd_deadline dl, sd_starttls_result *res)
{
	sd_starttls_cfg c = { .proto = proto };
	return sd_starttls_run_cfg(l, &c, dl, res);
}

int sd_starttls_run_cfg(sd_link *l, const sd_starttls_cfg *cfg, sd_deadline dl, sd_starttls_result *res)
{
	if (!l || !cfg || !res || cfg->proto <= SD_STARTTLS_NONE || cfg->proto >= SD_STARTTLS_COUNT)
		return SD_ERR_ARG;
	int proto = cfg->proto;
	memset(res, 0, sizeof *res);
	static const uint8_t pg_ssl_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
	int rc;
	if (proto >= SD_STARTTLS_XMPP)
		return run_more(l, cfg, dl, res);
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

/* ---- TLS on connect vs STARTTLS -------------------------------------------- */

/* The fix in the words of the servers of XMPP, LDAP and MySQL (the scan's
 * findings name Postfix and Dovecot). */
static int own_words(sd_report *rep, int proto, const sd_starttls_result *st)
{
	if (proto < SD_STARTTLS_XMPP)
		return 0;
	sd_finding *f = sd_diag_find(&rep->diag, SD_CAUSE_STARTTLS_NOT_OFFERED);
	if (f && st->not_offered) {
		if (proto == SD_STARTTLS_LDAP)
			sd_finding_fix(f, "the server has no StartTLS operation: configure TLS on it (OpenLDAP: olcTLSCertificateFile "
				       "and olcTLSCertificateKeyFile in cn=config), or use LDAPS on 636");
		else if (proto == SD_STARTTLS_MYSQL)
			sd_finding_fix(f, "enable TLS on the server (MySQL/MariaDB: ssl_cert and ssl_key in [mysqld]; "
				       "require_secure_transport to insist); MySQL has no TLS-on-connect port");
		else
			sd_finding_fix(f, "give the server a certificate for its domain (Prosody: certificates; ejabberd: certfiles, "
				       "starttls_required), or use the direct-TLS port %u", sd_starttls_tls_port(proto));
		return 1;
	}
	f = sd_diag_find(&rep->diag, SD_CAUSE_STARTTLS_REFUSED);
	if (!f || st->link_err || !st->last.complete)
		return 0;
	if (proto == SD_STARTTLS_MYSQL && st->last.code == 1040)
		sd_finding_fix(f, "the server is at max_connections: wait and retry, slow down (--per-host 1, --rate), or raise max_connections");
	else if (proto == SD_STARTTLS_MYSQL && st->last.code == 1130)
		sd_finding_fix(f, "no account may connect from this address: connect from a host the grants allow, "
			       "or add one (CREATE USER 'name'@'this-host')");
	else if (proto == SD_STARTTLS_MYSQL && st->last.code == 1129)
		sd_finding_fix(f, "the server blocked this host after max_connect_errors failed connections: FLUSH HOSTS "
			       "(mysqladmin flush-hosts), and raise max_connect_errors");
	else if (proto == SD_STARTTLS_LDAP && st->last.code == 52)
		sd_finding_fix(f, "the server cannot start TLS (unavailable): its certificate or key is missing or unreadable "
			       "(OpenLDAP: olcTLSCertificateFile, olcTLSCertificateKeyFile; its log says which)");
	else if ((proto == SD_STARTTLS_XMPP || proto == SD_STARTTLS_XMPP_SERVER) && strstr(st->last.line, "host-unknown"))
		sd_finding_fix(f, "the server does not serve the domain named in the stream header (to=, the HOST probed): "
			       "probe it by the XMPP domain's name");
	else
		return 0;
	return 1;
}

/* After the scan's findings: say which port and which mode when the two
 * were confused (the STARTTLS dialog met TLS, or a usual STARTTLS port was
 * probed without it and did not answer TLS). Returns 1 when it said so. */
int sdi_starttls_advise(sd_report *rep, int proto, const char *port, const char *service,
			const sd_starttls_result *st)
{
	unsigned p = port ? (unsigned)strtoul(port, NULL, 10) : 0;
	if (proto > SD_STARTTLS_NONE && proto < SD_STARTTLS_COUNT && st) {
		unsigned tp = sd_starttls_tls_port(proto);
		int tls_record = st->rx_len >= 2 && st->rx[0] >= 0x14 && st->rx[0] <= 0x18 && st->rx[1] == 3;
		int on_tls_port = tp && p == tp;
		/* XMPP and LDAP speak first: a TLS server closes on those bytes */
		int closed_at_once = (proto == SD_STARTTLS_XMPP || proto == SD_STARTTLS_XMPP_SERVER ||
				      proto == SD_STARTTLS_LDAP) && st->link_err == SD_ERR_CLOSED && st->rx_len == 0 &&
				     st->step == (proto == SD_STARTTLS_LDAP ? SD_STARTTLS_STEP_UPGRADE : SD_STARTTLS_STEP_CAPA);
		if (!tls_record && !on_tls_port && !closed_at_once)
			return own_words(rep, proto, st);
		if (closed_at_once && !tls_record && !on_tls_port) {
			sd_finding *f = sd_diag_find(&rep->diag, SD_CAUSE_STARTTLS_REFUSED);
			if (!f)
				return 0;
			sd_finding_fix(f, "the server closed on our first %s bytes without a word, as a TLS-on-connect port does "
				       "(%s: %u): probe it with --starttls none; %s's STARTTLS port is %u",
				       sd_starttls_name(proto), sd_starttls_name(proto), tp, sd_starttls_name(proto),
				       stls_port(proto));
			return 1;
		}
		sd_finding *f = sd_diag_find(&rep->diag, SD_CAUSE_WRONG_PROTOCOL);
		if (!f)
			f = sd_diag_find(&rep->diag, SD_CAUSE_STARTTLS_NOT_OFFERED);
		if (!f)
			f = sd_diag_find(&rep->diag, SD_CAUSE_STARTTLS_REFUSED);
		if (!f)
			return 0;
		if (tp)
			sd_finding_fix(f, "%s%s: this port speaks TLS at once, so probe it with --starttls none; "
				       "%s's STARTTLS port is %u, its TLS-on-connect port %u",
				       on_tls_port ? "port " : "a TLS record came back", on_tls_port ? port : "",
				       sd_starttls_name(proto), (unsigned)stls_port(proto), tp);
		else
			sd_finding_fix(f, "a TLS record came back: this port speaks TLS at once, so probe it with --starttls none; "
				       "%s negotiates TLS inside its protocol on port %u", sd_starttls_name(proto),
				       (unsigned)stls_port(proto));
		return 1;
	}
	int usual = sd_starttls_for_port(p);
	if (proto != SD_STARTTLS_NONE || usual == SD_STARTTLS_NONE || !service || strcmp(service, "tls") == 0)
		return 0;
	if (strcmp(service, "closed") != 0 && strcmp(service, "reset") != 0 && strcmp(service, "silent") != 0)
		return 0; /* a plaintext banner: the classifier named it already */
	sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_PLAINTEXT_SERVICE, 0.7f);
	if (!f)
		return 0;
	sd_finding_summary(f, "port %u is %s's STARTTLS port, probed here without --starttls: the server %s our ClientHello",
			   p, sd_starttls_name(usual),
			   strcmp(service, "silent") == 0 ? "said nothing to" : strcmp(service, "reset") == 0 ? "reset on" : "closed on");
	if (sd_starttls_tls_port(usual))
		sd_finding_fix(f, "probe it with --starttls %s (the default on port %u), or TLS on connect on port %u",
			       sd_starttls_name(usual), p, sd_starttls_tls_port(usual));
	else
		sd_finding_fix(f, "probe it with --starttls %s (the default on port %u)", sd_starttls_name(usual), p);
	sd_diag_sort(&rep->diag);
	return 1;
}
