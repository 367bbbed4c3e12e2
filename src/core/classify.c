/*
 * shakedown — the protocol-free byte classifier: what a stream of received
 * bytes most likely is, as ranked findings with the evidence that would
 * confirm each. It knows no protocol: the protocols' own readings (boot
 * logs, alerts, frames) come from the diagnosis layer (src/diag/bytes.c),
 * which tells it what they claimed (in->claims). Pure computation on a
 * bounded prefix: no I/O, no allocation.
 */
#include "internal.h"

#define CLASSIFY_MAX (64u * 1024u) /* bytes analysed */

typedef struct stats {
	size_t n, text, zero, ff, slow; /* slow: bytes a slower sender leaves */
} stats;

static void count(const uint8_t *b, size_t n, stats *s)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		uint8_t v = b[i];
		s->text += sdi_is_text(v);
		s->zero += v == 0x00;
		s->ff += v == 0xff;
		/* a frame read too early ends in the sender's long bits: high
		 * ones then zeros (0x80, 0xC0, ... 0xFE), or all zeros */
		s->slow += v == 0x00 || v == 0x80 || v == 0xc0 || v == 0xe0 || v == 0xf0 ||
			   v == 0xf8 || v == 0xfc || v == 0xfe;
	}
}

/* Quote up to 40 printable characters of b for a summary. */
static void quote(char *q, size_t qlen, const uint8_t *b, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 4 < qlen && o < 40; i++) {
		uint8_t c = b[i];
		if (c == '\r' || c == '\n') {
			if (o && q[o - 1] != ' ')
				q[o++] = ' ';
			continue;
		}
		q[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	}
	while (o && q[o - 1] == ' ')
		o--;
	if (n > 40 && o + 4 < qlen) {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o] = '\0';
}

const uint8_t *sdi_find(const uint8_t *b, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; k && i + k <= n; i++)
		if (memcmp(b + i, s, k) == 0)
			return b + i;
	return NULL;
}

size_t sdi_count_of(const uint8_t *b, size_t n, const char *s)
{
	size_t c = 0, k = strlen(s);
	for (const uint8_t *p = b; (p = sdi_find(p, n - (size_t)(p - b), s)); p += k)
		c++;
	return c;
}

size_t sdi_text_count(const uint8_t *b, size_t n)
{
	size_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += sdi_is_text(b[i]);
	return t;
}

static sd_finding *add(sd_diag *d, sd_cause c, float conf, const sd_classify_in *in,
		       const uint8_t *ev, size_t evn)
{
	sd_finding *f = sd_diag_add(d, c, conf);
	if (f)
		sd_finding_evidence(f, in->tx, in->tx_len, ev, evn);
	return f;
}

/* ---- boot logs ------------------------------------------------------------ */

static size_t boot_logs(const sd_classify_in *in, const uint8_t *b, size_t n, sd_diag *d)
{
	size_t banners = 0;
	sd_finding *f;

	if (sdi_find(b, n, "U-Boot ")) {
		banners = sdi_count_of(b, n, "U-Boot ");
		f = add(d, SD_CAUSE_BOOT_LOG, 0.88f, in, b, n);
		if (f) {
			sd_finding_summary(f, "a U-Boot boot log: the board boots Linux, no ROM loader answers");
			sd_finding_fix(f, "stop autoboot at the U-Boot prompt, or enter the SoC's recovery/download mode with its boot pins");
		}
	} else if (sdi_find(b, n, "Linux version") || sdi_find(b, n, "Booting Linux") || sdi_find(b, n, "[    0.000000]")) {
		banners = sdi_count_of(b, n, "Linux version");
		f = add(d, SD_CAUSE_BOOT_LOG, 0.88f, in, b, n);
		if (f) {
			sd_finding_summary(f, "a Linux kernel log: the board boots its operating system");
			sd_finding_fix(f, "enter the SoC's download/recovery mode (boot pins or button) before the handshake");
		}
	}
	if (banners >= 2) {
		f = add(d, SD_CAUSE_BOOTLOOP, 0.94f, in, b, n);
		if (f)
			sd_finding_summary(f, "the device booted %zu times while we listened: it is in a boot loop", banners);
	}
	return banners;
}

/* ---- plaintext services on a network port ------------------------------- */

static int banner(const sd_classify_in *in, const uint8_t *b, size_t n, sd_diag *d)
{
	struct svc { const char *prefix, *name, *fix; };
	static const struct svc svcs[] = {
		{ "HTTP/", "HTTP", "this port speaks plain HTTP: use http://, or the TLS port (443)" },
		{ "SSH-", "SSH", "this port speaks SSH, not TLS: use an SSH client" },
		{ "220", "an SMTP or FTP greeting", "SMTP: use --starttls smtp, or the implicit-TLS port 465; FTP: use --starttls ftp" },
		{ "* OK", "IMAP", "IMAP: use --starttls imap, or the implicit-TLS port 993" },
		{ "+OK", "POP3", "POP3: use --starttls pop3, or the implicit-TLS port 995" },
		{ "-ERR", "Redis (or a POP3 error)", "Redis speaks plaintext here: connect without TLS, or enable its TLS port" },
		{ "-NOAUTH", "Redis", "Redis speaks plaintext here: connect without TLS, or enable its TLS port" },
		{ "+PONG", "Redis", "Redis speaks plaintext here: connect without TLS, or enable its TLS port" },
		{ "RFB ", "VNC", "this port speaks VNC (RFB)" },
		/* an HTML page with no status line: an HTTP/0.9-style error
		 * page, as Python's http.server sends to bytes it cannot parse */
		{ "<!DOCTYPE", "HTTP (an HTML page without a status line)", "this port speaks plain HTTP: use http://, or the TLS port (443)" },
		{ "<!doctype", "HTTP (an HTML page without a status line)", "this port speaks plain HTTP: use http://, or the TLS port (443)" },
		{ "<html", "HTTP (an HTML page without a status line)", "this port speaks plain HTTP: use http://, or the TLS port (443)" },
		{ "<HTML", "HTTP (an HTML page without a status line)", "this port speaks plain HTTP: use http://, or the TLS port (443)" },
	};
	const char *name = NULL, *fix = NULL;
	for (size_t i = 0; i < SDI_ARRAY_LEN(svcs) && !name; i++) {
		size_t k = strlen(svcs[i].prefix);
		if (n >= k && memcmp(b, svcs[i].prefix, k) == 0) {
			name = svcs[i].name;
			fix = svcs[i].fix;
		}
	}
	if (!name && n >= 9 && b[3] == 0x04 && b[4] == 0x00 && b[0] == 0x00 && b[5] == 0 && b[6] == 0 &&
	    b[7] == 0 && b[8] == 0) {
		name = "HTTP/2 (a SETTINGS frame, cleartext h2c)";
		fix = "this port speaks cleartext HTTP/2: use http:// with prior knowledge, or the TLS port";
	}
	if (!name && n >= 6 && b[3] == 0x00 && b[4] == 0x0a && b[5] >= '0' && b[5] <= '9') {
		/* 3-byte length, sequence 0, protocol 10, a version string */
		name = "a MySQL server greeting";
		fix = "MySQL negotiates TLS inside its own protocol: probe it with --starttls mysql (clients: --ssl-mode)";
	}
	if (!name && ((n >= 8 && memcmp(b, "<stream:", 8) == 0) ||
		      (n >= 5 && memcmp(b, "<?xml", 5) == 0 && sdi_find(b, n, "<stream:stream")))) {
		/* RFC 6120 4.9.1.3: a stream error (not-well-formed) to our hello */
		name = "an XMPP stream";
		fix = "XMPP: use --starttls xmpp (5222; xmpp-server on 5269), or the direct-TLS port 5223";
	}
	if (!name && n >= 2 && b[0] == 0x30 && sdi_find(b, n, "1.3.6.1.4.1.1466.20036")) {
		/* RFC 4511 4.4.1: LDAP's Notice of Disconnection */
		name = "an LDAP notice of disconnection";
		fix = "LDAP: use --starttls ldap (389), or LDAPS on port 636";
	}
	if (!name && n >= 1 && (b[0] == 'E' || b[0] == 'N') && n >= 5 && b[1] == 0 && b[2] == 0) {
		name = "a PostgreSQL reply";
		fix = "PostgreSQL negotiates TLS after an SSLRequest: use sslmode=require, not raw TLS";
	}
	if (!name)
		return 0;
	sd_finding *f = add(d, SD_CAUSE_PLAINTEXT_SERVICE, 0.93f, in, b, n);
	if (f) {
		char q[64];
		quote(q, sizeof q, b, n);
		sd_finding_summary(f, "a plaintext service answers: %s (\"%s\")", name, q);
		sd_finding_fix(f, "%s", fix);
	}
	return 1;
}

/* ---- the main walk --------------------------------------------------------- */

size_t sd_classify(const sd_classify_in *in, sd_diag *d)
{
	if (!in || !d)
		return 0;
	size_t before = d->n;
	const uint8_t *b = in->rx;
	size_t n = b ? SDI_MIN(in->rx_len, (size_t)CLASSIFY_MAX) : 0;
	int net = (in->link_caps & SD_LINK_NET) != 0;
	sd_finding *f;

	if (n == 0) {
		f = add(d, SD_CAUSE_SILENT, 0.9f, in, NULL, 0);
		if (f) {
			if (in->tx_len)
				sd_finding_summary(f, "nothing came back in %lld ms, not even after we sent %zu byte%s",
						   (long long)in->listen_ms, in->tx_len, in->tx_len == 1 ? "" : "s");
			else
				sd_finding_summary(f, "nothing came back in %lld ms of listening", (long long)in->listen_ms);
			if (net)
				sd_finding_fix(f, "the service waits for the client to speak first (HTTP, TLS), or a filter holds the connection");
		}
		return d->n - before;
	}

	stats s;
	count(b, n, &s);

	/* Our own bytes back. */
	int echo = 0;
	if (in->tx && in->tx_len && n >= in->tx_len) {
		size_t lim = SDI_MIN(n - in->tx_len, (size_t)64);
		for (size_t i = 0; i <= lim && !echo; i++)
			echo = memcmp(b + i, in->tx, in->tx_len) == 0;
	}
	if (echo) {
		f = add(d, SD_CAUSE_ECHO, 0.93f, in, b, n);
		if (f)
			sd_finding_summary(f, "the %zu byte%s we sent came back unchanged: TX is looped to RX",
					   in->tx_len, in->tx_len == 1 ? "" : "s");
	}
	int echo_only = echo && n == in->tx_len;

	/* A protocol's own frames (a TLS record): no text or rate reading. */
	int framed = (in->claims & SD_CLAIM_FRAMED) != 0;

	/* Boot logs, then plaintext banners on network ports. */
	size_t boots = s.text * 10 >= n * 5 ? boot_logs(in, b, n, d) : 0;
	if (in->claims & SD_CLAIM_BOOTLOG)
		boots++;
	int svc = net && !framed ? banner(in, b, n, d) : 0;

	/* Line held low or high. A held-low line (break, target in reset)
	 * reads as one 0x00 with a framing error, then nothing: a long run of
	 * zeros means falling edges keep coming, i.e. a slower sender. */
	int idle = 0;
	if (s.zero == n || s.ff == n) {
		idle = 1;
		float conf = s.ff == n ? 0.7f : n <= 4 ? 0.75f : 0.55f;
		f = add(d, SD_CAUSE_IDLE_LINE, conf, in, b, n);
		if (f) {
			if (s.ff == n)
				sd_finding_summary(f, "only 0xFF bytes: glitches on an idle or floating line (TX not connected, level shifter settling)");
			else
				sd_finding_summary(f, "only 0x00 bytes (%zu): a line held low (break, target held in reset) or a much slower sender", n);
		}
	}

	/* Printable text: the application runs. */
	int text = !echo_only && !svc && !framed && s.text * 10 >= n * 7;
	if (text) {
		char q[64];
		quote(q, sizeof q, b, n);
		float conf = boots ? 0.5f : n == 1 ? 0.55f : n < 4 ? 0.7f : 0.87f;
		if (net)
			conf -= 0.2f;
		if (net && n > 1) {
			/* a network port: a service that talks first, unless a
			 * serial port is bridged to it (ser2net raw) */
			char sq[64];
			quote(sq, sizeof sq, b, n);
			f = add(d, SD_CAUSE_PLAINTEXT_SERVICE, 0.75f, in, b, n);
			if (f) {
				sd_finding_summary(f, "a plaintext service talks first (\"%s\"): no TLS and no bootloader here", sq);
				sd_finding_fix(f, "find which service listens on this port (ss -ltnp on its host); the TLS port is elsewhere");
			}
		}
		f = add(d, SD_CAUSE_APP_RUNNING, conf, in, b, n);
		if (f && net)
			sd_finding_fix(f, "only if this port bridges a serial line (ser2net raw): its board runs its application; reset it into its bootloader");
		if (f) {
			if (n == 1)
				sd_finding_summary(f, "0x%02x is ASCII '%c': probably the start of text from running application firmware, not a bootloader",
						   b[0], b[0] >= 0x20 && b[0] < 0x7f ? b[0] : '.');
			else
				sd_finding_summary(f, "the device prints text (\"%s\"): its application runs, not the bootloader", q);
		}
	}

	/* A baud-rate mismatch: text bytes at the wrong rate. */
	if (!echo_only && !svc && !framed && (!text || n == 1)) {
		sd_baud_guess g[4];
		size_t ng = sd_baud_guess_pairs(b, n, in->host_baud, g, 4);
		int slow = s.slow * 10 >= n * 8;
		float conf = 0.0f;
		if (ng && g[0].score >= 0.5f)
			conf = 0.3f + 0.5f * g[0].score;
		else if (ng && g[0].score >= 0.2f && n >= 8)
			conf = 0.45f; /* non-text a rate pair explains: better than "noise" */
		if (slow && n >= 8)
			conf = SDI_MAX(conf, 0.8f);
		if (n == 1 && ng)
			conf = SDI_MIN(conf, 0.35f) + 0.05f;
		if (idle && n <= 4)
			conf = SDI_MIN(conf, 0.45f);
		if (conf > 0.0f && ng) {
			f = add(d, SD_CAUSE_BAUD_MISMATCH, conf, in, b, n);
			if (f) {
				sd_finding_summary(f, "these bytes are what a UART at %u baud reads from a device at %u baud",
						   g[0].host_baud, g[0].device_baud);
				sd_finding_fix(f, "set the host to the device's rate (try %u)", g[0].device_baud);
				for (size_t i = 0; i < ng; i++) {
					char sent[24] = "";
					for (size_t k = 0; k < g[i].sent_len && k < 6; k++)
						sdi_append(sent, sizeof sent, "%02x", g[i].sent[k]);
					sd_finding_detail(f, "device %u -> host %u: sent %s... reads as these bytes (score %.2f)",
							  g[i].device_baud, g[i].host_baud, sent, (double)g[i].score);
				}
				if (slow && g[0].device_baud < g[0].host_baud)
					sd_finding_detail(f, "many 0x00/0x80/0xC0.. bytes: the device talks slower than the host");
			}
		}
	}

	/* Nothing recognisable. */
	if (d->n == before) {
		f = add(d, s.text * 10 < n * 3 && n >= 16 ? SD_CAUSE_NOISE : SD_CAUSE_UNKNOWN, 0.4f, in, b, n);
		if (f && f->cause == SD_CAUSE_NOISE)
			sd_finding_summary(f, "%zu bytes of non-text that match no protocol: noise, or a rate far from any common one", n);
	}
	sd_diag_sort(d);
	return d->n - before;
}
