/*
 * shakedown — something on the path that drops, stalls or answers hellos:
 * one small hello (the baseline) and variants that change one thing each
 * (SNI, ALPN, size over 512 bytes, two records, TLS 1.3), one connection
 * each; a difference in fate names what the box keys on, with the outcomes
 * side by side. Run by sd_tls_diagnose when a scan met resets, silence, a
 * size limit or nothing but refusals.
 */
#include <stdlib.h>
#include "internal.h"
#include "proto/tls_wire.h"

/* the baseline's suites: what every current client offers (TLS 1.2) */
static const uint16_t base_suites[] = { 0xC02F, 0xC02B, 0xC030, 0xC02C, 0xCCA8, 0xCCA9, 0x009C, 0x002F };
static const uint16_t base_groups[] = { 29, 23 };
static const uint16_t suites13[] = { 0x1301, 0x1302, 0x1303 };
static const uint16_t share13[] = { 29 };

typedef struct bufs {
	uint8_t hello[SD_TLS_HELLO_MAX + 16];
	uint8_t rx[SD_TLS_RX_CAP];
	uint8_t hs[SD_TLS_RX_CAP];
} bufs;

static int outcome_of(const sd_tls_probe *p, const char *why, sd_tls_variant *v)
{
	v->rx_len = p->rx_len;
	switch (p->srv.answer) {
	case SD_TLS_HELLO:
	case SD_TLS_HRR:
		return SD_TLS_VAR_PASS;
	case SD_TLS_ALERT:
		v->alert = p->srv.alert_desc;
		return SD_TLS_VAR_ALERT;
	case SD_TLS_NOT_TLS:
	case SD_TLS_MALFORMED:
		return SD_TLS_VAR_OTHER;
	default:
		break;
	}
	if (p->rx_len)
		return SD_TLS_VAR_OTHER;
	if (p->closed)
		return why && strstr(why, "reset") ? SD_TLS_VAR_RESET : SD_TLS_VAR_CLOSED;
	return SD_TLS_VAR_SILENT;
}

static void run_one(const sd_tls_variants_cfg *c, bufs *b, size_t len, sd_tls_variant *v)
{
	const sd_clock *clk = c->clock ? c->clock : sd_clock_real();
	uint32_t wait = c->wait_ms ? c->wait_ms : TLS_PROBE_WAIT_MS;
	sd_time t0 = sd_now(clk);
	sd_link *l = NULL;
	char why[160] = "";
	v->hello_len = len;
	int err = sd_link_open_tcp(c->host, c->port, clk, sd_deadline_in(clk, SD_MS(TLS_CONNECT_MS)), &l, why, sizeof why);
	if (err < 0) {
		v->outcome = SD_TLS_VAR_NOCONN;
		return;
	}
	if (c->starttls) {
		sd_starttls_result st;
		sd_starttls_cfg sc = { .proto = c->starttls, .domain = c->sni ? c->sni : c->host };
		if (sd_starttls_run_cfg(l, &sc, sd_deadline_in(clk, SD_MS(wait)), &st) < 0) {
			v->outcome = SD_TLS_VAR_NOCONN;
			sd_link_close(l);
			return;
		}
	}
	sd_tls_probe p;
	sd_tls_probe_init(&p, b->hello, len, 0, SD_MS(wait), b->rx, sizeof b->rx, b->hs, sizeof b->hs);
	int rrc = sd_run(&p.base, l, sd_deadline_in(clk, SD_MS(wait) + SD_MS(100)));
	sd_tls_probe_finish(&p, rrc, clk);
	v->outcome = outcome_of(&p, l->why, v);
	v->ms = (uint32_t)((sd_now(clk) - t0) / 1000);
	sd_link_close(l);
}

/* the record split in two: the handshake message's bytes over two records */
static size_t fragment(uint8_t *rec, size_t len, size_t cap)
{
	if (len < 10 || len + 5 > cap)
		return len;
	size_t body = len - 5, first = body / 2, second = body - first;
	memmove(rec + 5 + first + 5, rec + 5 + first, second);
	rec[3] = (uint8_t)(first >> 8);
	rec[4] = (uint8_t)first;
	uint8_t *h2 = rec + 5 + first;
	h2[0] = rec[0];
	h2[1] = rec[1];
	h2[2] = rec[2];
	h2[3] = (uint8_t)(second >> 8);
	h2[4] = (uint8_t)second;
	return len + 5;
}

size_t sd_tls_variants_run(const sd_tls_variants_cfg *c, sd_tls_variant *out, size_t max)
{
	if (!c || !out || !c->host || !c->port)
		return 0;
	bufs *b = malloc(sizeof *b);
	if (!b)
		return 0;
	int named = c->sni && tls_sni_is_name(c->sni);
	size_t n = 0;
	for (int k = 0; k < (int)SD_TLS_VARIANTS_MAX && n < max; k++) {
		sd_tls_hello_cfg h = {
			.version = SD_TLS_TLS12, .suites = base_suites, .nsuites = SDI_ARRAY_LEN(base_suites),
			.groups = base_groups, .ngroups = SDI_ARRAY_LEN(base_groups), .sni = named ? c->sni : NULL,
			.seed = c->seed + (uint32_t)k,
		};
		sd_tls_variant *v = &out[n];
		memset(v, 0, sizeof *v);
		switch (k) {
		case 0:
			v->name = "baseline";
			v->what = "";
			break;
		case 1:
			if (!named)
				continue;
			h.sni = NULL;
			v->name = "without SNI";
			v->what = "carry the server name";
			break;
		case 2:
			h.alpn = "h2,http/1.1";
			v->name = "with ALPN";
			v->what = "offer ALPN h2,http/1.1";
			break;
		case 3:
			h.pad_to = 1400;
			v->name = "over 512 bytes";
			v->what = "are over 512 bytes";
			break;
		case 4:
			v->name = "in two records";
			v->what = "come in two records";
			break;
		default:
			h.version = SD_TLS_TLS13;
			h.suites = suites13;
			h.nsuites = SDI_ARRAY_LEN(suites13);
			h.shares = share13;
			h.nshares = 1;
			v->name = "TLS 1.3";
			v->what = "offer TLS 1.3";
			break;
		}
		int len = sd_tls_hello_build(&h, b->hello, SD_TLS_HELLO_MAX);
		if (len < 0)
			continue;
		size_t sent = (size_t)len;
		if (k == 4)
			sent = fragment(b->hello, sent, sizeof b->hello);
		run_one(c, b, sent, v);
		n++;
		/* a silent baseline: only a name can make a difference (a box
		 * that holds hellos for one SNI); anything else would only wait
		 * out the same silence again */
		if (k == 0 && v->outcome == SD_TLS_VAR_SILENT && !named)
			break;
		if (k == 1 && out[0].outcome == SD_TLS_VAR_SILENT)
			break;
	}
	free(b);
	return n;
}

static const char *outcome_words(const sd_tls_variant *v, char *buf, size_t len)
{
	switch (v->outcome) {
	case SD_TLS_VAR_PASS:
		return "a ServerHello";
	case SD_TLS_VAR_ALERT: {
		const char *an = tls_alert_name(v->alert);
		sdi_fmt(buf, len, "the alert %s (%u)", an ? an : "?", v->alert);
		return buf;
	}
	case SD_TLS_VAR_RESET:
		return "a reset";
	case SD_TLS_VAR_CLOSED:
		return "a close without a byte";
	case SD_TLS_VAR_SILENT:
		return "silence";
	case SD_TLS_VAR_NOCONN:
		return "no connection";
	default:
		sdi_fmt(buf, len, "%zu bytes that are no TLS answer", v->rx_len);
		return buf;
	}
}

size_t sd_tls_variants_report(const sd_tls_variant *v, size_t n, sd_report *rep)
{
	if (!v || n < 2 || !rep || v[0].outcome == SD_TLS_VAR_NOCONN)
		return 0;
	unsigned mine = 0; /* causes this comparison has written */
	size_t added = 0;
	char b0[64], b1[64];
	int base_pass = v[0].outcome == SD_TLS_VAR_PASS;
	for (size_t i = 1; i < n; i++) {
		int pass = v[i].outcome == SD_TLS_VAR_PASS;
		if (pass == base_pass || v[i].outcome == SD_TLS_VAR_NOCONN)
			continue;
		/* a server's own answers, not a filter: no TLS 1.3 (an alert), no
		 * ALPN in common (no_application_protocol) */
		if (base_pass && v[i].outcome == SD_TLS_VAR_ALERT &&
		    ((strcmp(v[i].name, "TLS 1.3") == 0 && v[i].alert == 70) || v[i].alert == 120))
			continue;
		sd_cause cause = strcmp(v[i].name, "over 512 bytes") == 0 ? SD_CAUSE_MIDDLEBOX_SIZE : SD_CAUSE_MIDDLEBOX_RESET;
		int again = (mine >> cause) & 1u;
		sd_finding *g = sd_diag_add(&rep->diag, cause, 0.92f);
		if (!g)
			continue;
		if (again) {
			if (base_pass)
				sd_finding_detail(g, "also: hellos that %s get %s", v[i].what, outcome_words(&v[i], b1, sizeof b1));
			else
				sd_finding_detail(g, "but hellos that %s get through (%s): the filter reads no further",
						  v[i].what, outcome_words(&v[i], b1, sizeof b1));
			continue;
		}
		if (base_pass)
			sd_finding_summary(g, "something on the path drops hellos that %s: %s (%zu bytes) gets %s, the same hello without that %s",
					   v[i].what, v[i].name, v[i].hello_len, outcome_words(&v[i], b1, sizeof b1),
					   outcome_words(&v[0], b0, sizeof b0));
		else
			sd_finding_summary(g, "something on the path drops hellos that %s: the hello with it gets %s, the same hello %s gets %s",
					   strcmp(v[i].name, "without SNI") == 0 ? "carry the server name" : "do not change",
					   outcome_words(&v[0], b0, sizeof b0), v[i].name, outcome_words(&v[i], b1, sizeof b1));
		sd_finding_fix(g, "find the filter between here and the server (firewall, IPS, proxy, load balancer) and its rule for hellos that %s; probe from another network to confirm",
			       v[i].what);
		for (size_t k = 0; k < n; k++)
			sd_finding_detail(g, "%-15s %5zu bytes: %s in %u ms", v[k].name, v[k].hello_len,
					  outcome_words(&v[k], b0, sizeof b0), v[k].ms);
		mine |= 1u << cause;
		added++;
	}
	if (added) {
		rep->ok = 0;
		sd_diag_drop(&rep->diag, SD_CAUSE_OK);
		sd_diag_sort(&rep->diag);
	}
	return added;
}
