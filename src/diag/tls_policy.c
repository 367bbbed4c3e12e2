/*
 * shakedown — TLS policy for CI (`shakedown tls --expect RULES`): a small
 * rule language (tls.h lists it), judged against the enumeration and the
 * certificate that sd_tls_diagnose found. The parser reads text a user (or
 * a file in a repository) wrote: bounded, no allocation, every rejection
 * names the rule (fuzz/fuzz_tls_policy.c).
 */
#include <limits.h>
#include "internal.h"

static int version_of(const char *v, size_t n, uint16_t *out)
{
	static const struct { const char *name; uint16_t v; } names[] = {
		{ "ssl3", SD_TLS_SSL3 }, { "1.0", SD_TLS_TLS10 }, { "1.1", SD_TLS_TLS11 },
		{ "1.2", SD_TLS_TLS12 }, { "1.3", SD_TLS_TLS13 }, { "tls1.0", SD_TLS_TLS10 },
		{ "tls1.1", SD_TLS_TLS11 }, { "tls1.2", SD_TLS_TLS12 }, { "tls1.3", SD_TLS_TLS13 },
	};
	for (size_t i = 0; i < SDI_ARRAY_LEN(names); i++)
		if (strlen(names[i].name) == n && memcmp(names[i].name, v, n) == 0) {
			*out = names[i].v;
			return 0;
		}
	return -1;
}

/* a decimal number lo..hi filling v[0..n) */
static int number_of(const char *v, size_t n, long lo, long hi, int *out)
{
	long x = 0;
	if (n == 0 || n > 6)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	if (x < lo || x > hi)
		return -1;
	*out = (int)x;
	return 0;
}

static int starts(const char *t, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(t, prefix, k) == 0;
}

static int is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';';
}

#define RULES_LIST "min=V, tls13, no-cbc, no-rsa-kx, pfs, no-weak, order=server, cert-valid, cert-days>=N, key-bits>=N"

int sd_tls_policy_parse(const char *s, sd_tls_policy *p, char *why, size_t whylen)
{
	if (!s || !p)
		return SD_ERR_ARG;
	memset(p, 0, sizeof *p);
	p->cert_days = -1;
	size_t len = strnlen(s, SD_TLS_POLICY_TEXT_MAX + 1);
	if (len > SD_TLS_POLICY_TEXT_MAX) {
		if (why && whylen)
			sdi_fmt(why, whylen, "the policy is longer than %u bytes", SD_TLS_POLICY_TEXT_MAX);
		return SD_ERR_ARG;
	}
	unsigned seen = 0;
	size_t i = 0;
	while (i < len) {
		if (is_sep(s[i])) {
			i++;
			continue;
		}
		if (s[i] == '#') { /* a comment, to the end of the line */
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		size_t b = i;
		while (i < len && !is_sep(s[i]) && s[i] != '#')
			i++;
		const char *t = s + b;
		size_t n = i - b;
		unsigned bit = 0;
		int bad = 0;
		if (starts(t, n, "min=")) {
			bit = 1u << 0;
			bad = version_of(t + 4, n - 4, &p->min_version) < 0;
		} else if (n == 5 && memcmp(t, "tls13", 5) == 0) {
			bit = 1u << 1;
			p->tls13 = 1;
		} else if (n == 6 && memcmp(t, "no-cbc", 6) == 0) {
			bit = 1u << 2;
			p->no_cbc = 1;
		} else if (n == 9 && memcmp(t, "no-rsa-kx", 9) == 0) {
			bit = 1u << 3;
			p->no_rsa_kx = 1;
		} else if (n == 3 && memcmp(t, "pfs", 3) == 0) {
			bit = 1u << 4;
			p->pfs = 1;
		} else if (n == 7 && memcmp(t, "no-weak", 7) == 0) {
			bit = 1u << 5;
			p->no_weak = 1;
		} else if (n == 12 && memcmp(t, "order=server", 12) == 0) {
			bit = 1u << 6;
			p->order_server = 1;
		} else if (n == 10 && memcmp(t, "cert-valid", 10) == 0) {
			bit = 1u << 7;
			p->cert_valid = 1;
		} else if (starts(t, n, "cert-days>=")) {
			bit = 1u << 8;
			bad = number_of(t + 11, n - 11, 0, 36500, &p->cert_days) < 0;
		} else if (starts(t, n, "key-bits>=")) {
			bit = 1u << 9;
			bad = number_of(t + 10, n - 10, 1, 65536, &p->key_bits) < 0;
		} else {
			if (why && whylen)
				sdi_fmt(why, whylen, "unknown policy rule '%.*s' (rules: " RULES_LIST ")",
					(int)SDI_MIN(n, 40u), t);
			return SD_ERR_ARG;
		}
		if (bad) {
			if (why && whylen)
				sdi_fmt(why, whylen, "bad value in policy rule '%.*s' (V: ssl3 1.0 1.1 1.2 1.3; N: a whole number, days 0-36500, bits 1-65536)",
					(int)SDI_MIN(n, 40u), t);
			return SD_ERR_ARG;
		}
		seen |= bit;
	}
	for (unsigned b = seen; b; b &= b - 1)
		p->nrules++;
	if (!p->nrules) {
		if (why && whylen)
			sdi_fmt(why, whylen, "the policy has no rule (rules: " RULES_LIST ")");
		return SD_ERR_ARG;
	}
	return SD_OK;
}

/* ---- judging ------------------------------------------------------------ */

static void deviate(sd_tls_policy_result *r, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void deviate(sd_tls_policy_result *r, const char *rule, const char *fmt, ...)
{
	if (r->n >= SD_TLS_POLICY_DEV_MAX) {
		r->more++;
		return;
	}
	sd_tls_deviation *d = &r->d[r->n++];
	sdi_fmt(d->rule, sizeof d->rule, "%s", rule);
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(d->found, sizeof d->found, fmt, ap);
	va_end(ap);
}

static const char *iana_of(uint16_t id)
{
	const sd_tls_suite *s = sd_tls_suite_find(id);
	return s ? s->iana : "";
}

static int is_cbc(uint16_t id, uint16_t version)
{
	return version != SD_TLS_TLS13 && strstr(iana_of(id), "_CBC_") != NULL;
}

static int is_rsa_kx(uint16_t id, uint16_t version)
{
	return version != SD_TLS_TLS13 && strncmp(iana_of(id), "TLS_RSA_", 8) == 0;
}

static int has_fs(uint16_t id, uint16_t version)
{
	const char *n = iana_of(id);
	return version == SD_TLS_TLS13 || strncmp(n, "TLS_ECDHE_", 10) == 0 || strncmp(n, "TLS_DHE_", 8) == 0;
}

static int is_weak(uint16_t id, uint16_t version)
{
	static const char *const words[] = { "_NULL_", "_WITH_NULL", "EXPORT", "_anon_", "_RC4_", "_DES_", "_DES40_",
					      "3DES", "_IDEA_", "_RC2_" };
	const char *n = iana_of(id);
	if (version == SD_TLS_TLS13)
		return 0;
	for (size_t i = 0; i < SDI_ARRAY_LEN(words); i++)
		if (strstr(n, words[i]))
			return 1;
	return 0;
}

/* One deviation per version for a suite rule: the count and the first few names. */
static void suite_rule(sd_tls_policy_result *r, const sd_tls_enum *e, const char *rule,
		       int (*bad)(uint16_t, uint16_t), int want_bad)
{
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->supported)
			continue;
		size_t k = 0;
		char names[140] = "";
		for (size_t j = 0; j < v->nsuites; j++) {
			if ((bad(v->suites[j], v->version) != 0) != want_bad)
				continue;
			if (k++ < 2)
				sdi_append(names, sizeof names, "%s%s", k > 1 ? ", " : "", iana_of(v->suites[j]));
		}
		if (k)
			deviate(r, rule, "%s accepts %zu such suite%s: %s%s", sd_tls_version_name(v->version), k,
				k == 1 ? "" : "s", names, k > 2 ? " ..." : "");
	}
}

size_t sd_tls_policy_check(const sd_tls_policy *p, const sd_tls_enum *e, const sd_tls_cert *c,
			   sd_tls_policy_result *r)
{
	if (!r)
		return 0;
	memset(r, 0, sizeof *r);
	if (!p || !e)
		return 0;
	if (p->min_version) {
		char rule[24];
		sdi_fmt(rule, sizeof rule, "min=%s", p->min_version == SD_TLS_SSL3 ? "ssl3"
			: p->min_version == SD_TLS_TLS10 ? "1.0" : p->min_version == SD_TLS_TLS11 ? "1.1"
			: p->min_version == SD_TLS_TLS12 ? "1.2" : "1.3");
		for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
			const sd_tls_vresult *v = &e->v[i];
			if (v->supported && v->version < p->min_version)
				deviate(r, rule, "%s is accepted (%zu suite%s)", sd_tls_version_name(v->version),
					v->nsuites, v->nsuites == 1 ? "" : "s");
			else if (!v->probed && !v->implied_by && v->version < p->min_version)
				deviate(r, rule, "%s was not probed (--versions): not shown to be off",
					sd_tls_version_name(v->version));
		}
	}
	if (p->tls13) {
		const sd_tls_vresult *v = sd_tls_enum_result(e, SD_TLS_TLS13);
		if (!v || !v->supported)
			deviate(r, "tls13", "TLS 1.3 is %s", v && v->probed ? "not accepted" : "not probed");
	}
	if (p->no_cbc)
		suite_rule(r, e, "no-cbc", is_cbc, 1);
	if (p->no_rsa_kx)
		suite_rule(r, e, "no-rsa-kx", is_rsa_kx, 1);
	if (p->pfs)
		suite_rule(r, e, "pfs", has_fs, 0);
	if (p->no_weak)
		suite_rule(r, e, "no-weak", is_weak, 1);
	if (p->order_server)
		for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
			const sd_tls_vresult *v = &e->v[i];
			if (v->supported && v->nsuites >= 2 && v->order != SD_TLS_ORDER_SERVER)
				deviate(r, "order=server", "%s follows the client's order", sd_tls_version_name(v->version));
		}
	int have_cert = c && c->got;
	const char *nocert = !c ? "no certificate was read (--no-cert, or it could not be)"
			     : c->handshake_error[0] ? c->handshake_error : "no certificate came";
	if (p->cert_valid) {
		if (!have_cert)
			deviate(r, "cert-valid", "%s", nocert);
		else if (c->nerr)
			deviate(r, "cert-valid", "%s (X509 error %d, for %s)", c->err_text[0], c->err[0], c->name);
	}
	if (p->cert_days >= 0) {
		char rule[24];
		sdi_fmt(rule, sizeof rule, "cert-days>=%d", p->cert_days);
		if (!have_cert)
			deviate(r, rule, "%s", nocert);
		else if (c->days_left < p->cert_days)
			deviate(r, rule, "the certificate %s %ld day%s (notAfter %s)",
				c->days_left < 0 ? "expired" : "has", c->days_left < 0 ? -c->days_left : c->days_left,
				(c->days_left == 1 || c->days_left == -1) ? "" : "s",
				c->not_after);
	}
	if (p->key_bits) {
		char rule[24];
		sdi_fmt(rule, sizeof rule, "key-bits>=%d", p->key_bits);
		if (!have_cert)
			deviate(r, rule, "%s", nocert);
		else if (c->key_bits < p->key_bits)
			deviate(r, rule, "the certificate's key is %s %d bits", c->key, c->key_bits);
	}
	return r->n + r->more;
}

void sd_tls_policy_report(const sd_tls_policy_result *res, sd_report *rep)
{
	if (!res || !rep || res->n + res->more == 0)
		return;
	rep->ok = 0;
	sd_diag_drop(&rep->diag, SD_CAUSE_OK); /* first: dropping moves the findings after it */
	sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_POLICY_DEVIATION, 0.97f);
	if (!f)
		return;
	size_t total = res->n + res->more;
	sd_finding_summary(f, "%zu deviation%s from the expected policy; first: %s: %s", total, total == 1 ? "" : "s",
			   res->d[0].rule, res->d[0].found);
	static const struct { const char *rule, *fix; } fixes[] = {
		{ "min=", "turn the old versions off: nginx ssl_protocols TLSv1.2 TLSv1.3; Apache SSLProtocol -all +TLSv1.2 +TLSv1.3; openssl.cnf MinProtocol = TLSv1.2" },
		{ "tls13", "turn TLS 1.3 on: nginx ssl_protocols TLSv1.2 TLSv1.3; (OpenSSL 1.1.1 or newer on the server)" },
		{ "no-cbc", "drop the CBC suites: nginx ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM;" },
		{ "no-rsa-kx", "drop static RSA key exchange: nginx ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM;" },
		{ "pfs", "keep only (EC)DHE suites: nginx ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM;" },
		{ "no-weak", "drop the weak suites: nginx ssl_ciphers HIGH:!aNULL:!eNULL:!RC4:!3DES:!DES:!EXPORT;" },
		{ "order=server", "nginx ssl_prefer_server_ciphers on; Apache SSLHonorCipherOrder on" },
		{ "cert-", "renew or reissue the certificate (certbot renew; RSA 2048+ or ECDSA P-256) and reload the server" },
		{ "key-bits", "reissue the certificate with a bigger key (openssl req -newkey rsa:2048, or ec P-256)" },
	};
	for (size_t i = 0; i < SDI_ARRAY_LEN(fixes); i++)
		if (strncmp(res->d[0].rule, fixes[i].rule, strlen(fixes[i].rule)) == 0) {
			sd_finding_fix(f, "%s", fixes[i].fix);
			break;
		}
	for (size_t i = 0; i < res->n; i++)
		sd_finding_detail(f, "%s: %s", res->d[i].rule, res->d[i].found);
	if (res->more)
		sd_finding_detail(f, "(%zu more)", res->more);
	sd_diag_sort(&rep->diag);
}
