/*
 * shakedown — the diagnosis layer's reading of received bytes: each
 * protocol module's own findings first (its boot logs, alerts, frames),
 * then the core's protocol-free classifier, told what the protocols
 * claimed, then each protocol's one-line reading as an answer. This is the
 * one place that asks both the core and the protocol table.
 */
#include "internal.h"

size_t sd_diagnose_bytes(const sd_classify_in *in, sd_diag *d)
{
	if (!in || !d)
		return 0;
	size_t before = d->n;
	sd_classify_in c = *in;
	size_t n = in->rx ? in->rx_len : 0;

	for (size_t i = 0; n && i < sd_proto_count(); i++) {
		const sd_proto *p = sd_proto_at(i);
		if (p->diagnose)
			c.claims |= p->diagnose(in, d);
	}
	sd_classify(&c, d);

	/* A network port that opens with Telnet negotiation (IAC WILL/DO ...,
	 * RFC 854) is a Telnet or RFC 2217 accepter (ser2net's telnet(rfc2217)):
	 * read raw, its negotiation looks like data and ours never happens. */
	if ((in->link_caps & SD_LINK_NET) && sd_telnet_looks_like(in->rx, n)) {
		size_t k = 0;
		int comport = 0;
		while (k + 2 < n && in->rx[k] == SD_TN_IAC && in->rx[k + 1] >= SD_TN_WILL) {
			comport |= in->rx[k + 2] == SD_TN_OPT_COMPORT;
			k += 3;
		}
		sd_finding *f = sd_diag_add(d, SD_CAUSE_WRONG_PROTOCOL, 0.97f);
		if (f) {
			sd_finding_summary(f, "this port speaks Telnet%s: use rfc2217://HOST:PORT, not tcp://",
					   comport ? "/RFC 2217 (it offers COM-PORT-OPTION)" : " (perhaps RFC 2217)");
			sd_finding_detail(f, "it opened with %zu bytes of Telnet negotiation (IAC WILL/DO ...), which a raw client reads as data",
					  k);
			sd_finding_fix(f, "shakedown probe rfc2217://HOST:PORT (ser2net: that is its telnet(rfc2217) accepter; a raw one is 'accepter: tcp,PORT')");
			sd_finding_evidence(f, in->tx, in->tx_len, in->rx, n);
		}
	}

	/* Each protocol's reading: a confident one is an answer. */
	int echo = sd_diag_find(d, SD_CAUSE_ECHO) != NULL;
	for (size_t i = 0; n && i < sd_proto_count(); i++) {
		const sd_proto *p = sd_proto_at(i);
		char line[200];
		if (!p->explain)
			continue;
		int likely = p->explain(in->rx, n, in->tx, in->tx_len, line, sizeof line);
		if (likely < 80)
			continue;
		sd_finding *f;
		if (in->expect && strcmp(in->expect, p->name) != 0) {
			f = sd_diag_add(d, SD_CAUSE_WRONG_PROTOCOL, likely / 100.0f * 0.9f);
			if (f) {
				sd_finding_summary(f, "%s answered, not %s: %s", p->title, in->expect, line);
				sd_finding_fix(f, "use a tool for %s (shakedown info %s)", p->title, p->name);
			}
		} else if (!echo) {
			f = sd_diag_add(d, SD_CAUSE_OK, likely / 100.0f * 0.9f);
			if (f)
				sd_finding_summary(f, "%s", line);
		} else {
			continue;
		}
		if (f)
			sd_finding_evidence(f, in->tx, in->tx_len, in->rx, n);
	}
	sd_diag_sort(d);
	return d->n - before;
}

/* ---- explain: the long form ------------------------------------------------ */

size_t sd_explain_meanings(const uint8_t *b, size_t n, sd_meaning *out, size_t max)
{
	size_t k = 0;
	if (!b || n == 0 || !out || max == 0)
		return 0;
	/* as ASCII */
	out[k].proto = "ascii";
	if (n == 1) {
		uint8_t c = b[0];
		if (c >= 0x20 && c < 0x7f)
			sdi_fmt(out[k].text, sizeof out[k].text, "0x%02x is ASCII '%c'%s", c, c,
				(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? ": a letter, likely the start of text" : "");
		else if (c == '\r' || c == '\n')
			sdi_fmt(out[k].text, sizeof out[k].text, "0x%02x is ASCII %s: the end of a line of text", c,
				c == '\r' ? "CR" : "LF");
		else
			sdi_fmt(out[k].text, sizeof out[k].text, "0x%02x is not printable ASCII", c);
	} else {
		char q[48];
		size_t o = 0, text = sdi_text_count(b, n);
		for (size_t i = 0; i < n && o < 40; i++) {
			if (b[i] == '\r' || b[i] == '\n') {
				if (o && q[o - 1] != ' ')
					q[o++] = ' ';
				continue;
			}
			q[o++] = (b[i] >= 0x20 && b[i] < 0x7f) ? (char)b[i] : '.';
		}
		while (o && q[o - 1] == ' ')
			o--;
		q[o] = '\0';
		sdi_fmt(out[k].text, sizeof out[k].text, "%zu of %zu bytes are printable text%s%s%s%s", text, n,
			text ? " (\"" : "", text ? q : "", text && n > 40 ? "..." : "", text ? "\")" : "");
	}
	k++;
	/* each protocol's reading (TLS's includes "not a TLS record") */
	for (size_t i = 0; i < sd_proto_count() && k < max; i++) {
		const sd_proto *p = sd_proto_at(i);
		if (!p->explain)
			continue;
		out[k].proto = p->name;
		p->explain(b, n, NULL, 0, out[k].text, sizeof out[k].text);
		k++;
	}
	/* Telnet (RFC 854): a remote port's accepter opens with IAC WILL/DO */
	if (k < max && sd_telnet_looks_like(b, n)) {
		out[k].proto = "telnet";
		size_t i = 0, opts = 0;
		int comport = 0;
		while (i + 2 < n && b[i] == SD_TN_IAC && b[i + 1] >= SD_TN_WILL) {
			comport |= b[i + 2] == SD_TN_OPT_COMPORT;
			opts++;
			i += 3;
		}
		sdi_fmt(out[k].text, sizeof out[k].text,
			"Telnet negotiation (IAC %s %u%s, %zu option%s): a Telnet%s accepter read raw; use rfc2217://HOST:PORT",
			b[1] == SD_TN_WILL ? "WILL" : b[1] == SD_TN_WONT ? "WONT" : b[1] == SD_TN_DO ? "DO" :
			b[1] == SD_TN_DONT ? "DONT" : "SB", b[2], b[2] == SD_TN_OPT_COMPORT ? " COM-PORT" : "",
			opts, opts == 1 ? "" : "s", comport ? "/RFC 2217 (COM-PORT-OPTION offered)" : "");
		k++;
	}
	return k;
}
