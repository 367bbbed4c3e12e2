/* sd_tls_policy_parse / _check / _report: the rule language and its
 * verdicts on hand-made enumerations and certificates. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "shakedown/tls.h"

static sd_tls_vresult *ver(sd_tls_enum *e, uint16_t v)
{
	return (sd_tls_vresult *)sd_tls_enum_result(e, v);
}

static void add(sd_tls_enum *e, uint16_t v, const uint16_t *suites, size_t n, int order)
{
	sd_tls_vresult *r = ver(e, v);
	r->probed = r->supported = 1;
	memcpy(r->suites, suites, n * sizeof *suites);
	r->nsuites = n;
	r->order = order;
}

static void parse_rules(void **state)
{
	(void)state;
	sd_tls_policy p;
	char why[300];
	assert_int_equal(sd_tls_policy_parse("min=1.2,no-cbc,cert-days>=14", &p, why, sizeof why), SD_OK);
	assert_int_equal(p.min_version, SD_TLS_TLS12);
	assert_true(p.no_cbc);
	assert_int_equal(p.cert_days, 14);
	assert_int_equal(p.nrules, 3);
	/* the file form: lines, comments, blanks; a rule twice counts once */
	assert_int_equal(sd_tls_policy_parse("# CI policy\nmin=1.3   # only 1.3\n\ntls13\r\npfs;no-weak\nkey-bits>=2048\nmin=1.3\n",
					     &p, why, sizeof why), SD_OK);
	assert_int_equal(p.min_version, SD_TLS_TLS13);
	assert_true(p.tls13 && p.pfs && p.no_weak);
	assert_int_equal(p.key_bits, 2048);
	assert_int_equal(p.nrules, 5);
	assert_int_equal(p.cert_days, -1);
	/* rejections name the rule */
	assert_int_equal(sd_tls_policy_parse("min=1.4", &p, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "min=1.4"));
	assert_int_equal(sd_tls_policy_parse("no-cbc,sslv2-off", &p, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "'sslv2-off'"));
	assert_int_equal(sd_tls_policy_parse("cert-days>=-1", &p, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_policy_parse("cert-days>=9999999", &p, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_policy_parse("cert-days>=", &p, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_policy_parse(" , # nothing\n", &p, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "no rule"));
	static char big[SD_TLS_POLICY_TEXT_MAX + 10];
	memset(big, ',', sizeof big - 1);
	assert_int_equal(sd_tls_policy_parse(big, &p, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_policy_parse(NULL, &p, why, sizeof why), SD_ERR_ARG);
}

static void judge_legacy_and_cert(void **state)
{
	(void)state;
	sd_tls_enum_cfg ec = { .versions = 0x1f };
	static sd_tls_enum e;
	sd_tls_enum_init(&e, &ec);
	static const uint16_t t10[] = { 0xC013, 0x0035, 0x002F }; /* ECDHE-RSA-AES128-SHA, AES256-SHA, AES128-SHA */
	static const uint16_t t12[] = { 0xC02F, 0x1301 };
	add(&e, SD_TLS_TLS10, t10, 3, SD_TLS_ORDER_CLIENT);
	add(&e, SD_TLS_TLS12, t12, 1, SD_TLS_ORDER_NONE);
	ver(&e, SD_TLS_TLS13)->probed = 1;
	ver(&e, SD_TLS_TLS11)->probed = 1;
	ver(&e, SD_TLS_SSL3)->implied_by = SD_TLS_TLS11;
	sd_tls_cert c;
	memset(&c, 0, sizeof c);
	c.got = 1;
	c.days_left = -3;
	snprintf(c.not_after, sizeof c.not_after, "2026-12-03 00:00:00 UTC");
	snprintf(c.key, sizeof c.key, "RSA");
	c.key_bits = 1024;
	c.nerr = 1;
	c.err[0] = 10;
	snprintf(c.err_text[0], sizeof c.err_text[0], "certificate has expired");
	snprintf(c.name, sizeof c.name, "localhost");
	sd_tls_policy p;
	char why[300];
	assert_int_equal(sd_tls_policy_parse("min=1.2,no-cbc,no-rsa-kx,pfs,tls13,order=server,cert-valid,cert-days>=14,key-bits>=2048",
					     &p, why, sizeof why), SD_OK);
	sd_tls_policy_result r;
	size_t n = sd_tls_policy_check(&p, &e, &c, &r);
	/* min: 1.0; no-cbc: 1.0 (3); no-rsa-kx: 1.0 (2); pfs: 1.0 (2); tls13; order: 1.0; cert-valid; days; bits */
	assert_int_equal(n, 9);
	assert_string_equal(r.d[0].rule, "min=1.2");
	assert_string_equal(r.d[0].found, "TLSv1.0 is accepted (3 suites)");
	int saw_days = 0, saw_cbc = 0;
	for (size_t i = 0; i < r.n; i++) {
		if (strcmp(r.d[i].rule, "cert-days>=14") == 0) {
			saw_days = 1;
			assert_non_null(strstr(r.d[i].found, "expired 3 days"));
		}
		if (strcmp(r.d[i].rule, "no-cbc") == 0) {
			saw_cbc = 1;
			assert_non_null(strstr(r.d[i].found, "3 such suites"));
		}
	}
	assert_true(saw_days && saw_cbc);
	sd_report rep;
	sd_report_init(&rep, "tls", "x");
	rep.ok = 1;
	sd_diag_add(&rep.diag, SD_CAUSE_OK, 0.95f);
	sd_tls_policy_report(&r, &rep);
	assert_false(rep.ok);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_POLICY_DEVIATION);
	assert_null(sd_diag_find(&rep.diag, SD_CAUSE_OK));
	printf("# %s\n", rep.diag.f[0].summary);
	assert_non_null(strstr(rep.diag.f[0].summary, "9 deviations"));
	assert_non_null(strstr(rep.diag.f[0].fix, "ssl_protocols TLSv1.2"));
	/* no certificate read: every cert rule deviates, saying why */
	assert_int_equal(sd_tls_policy_parse("cert-days>=1", &p, why, sizeof why), SD_OK);
	assert_int_equal(sd_tls_policy_check(&p, &e, NULL, &r), 1);
	assert_non_null(strstr(r.d[0].found, "no certificate was read"));
}

static void judge_met(void **state)
{
	(void)state;
	sd_tls_enum_cfg ec = { .versions = 0x1f };
	static sd_tls_enum e;
	sd_tls_enum_init(&e, &ec);
	static const uint16_t t13[] = { 0x1301, 0x1302 };
	static const uint16_t t12[] = { 0xC02F, 0xC030 };
	add(&e, SD_TLS_TLS13, t13, 2, SD_TLS_ORDER_SERVER);
	add(&e, SD_TLS_TLS12, t12, 2, SD_TLS_ORDER_SERVER);
	ver(&e, SD_TLS_TLS11)->probed = 1;
	ver(&e, SD_TLS_TLS10)->implied_by = SD_TLS_TLS11;
	ver(&e, SD_TLS_SSL3)->implied_by = SD_TLS_TLS11;
	sd_tls_cert c;
	memset(&c, 0, sizeof c);
	c.got = 1;
	c.days_left = 60;
	c.key_bits = 2048;
	sd_tls_policy p;
	char why[300];
	assert_int_equal(sd_tls_policy_parse("min=1.2 no-cbc no-rsa-kx pfs no-weak tls13 order=server cert-valid cert-days>=14 key-bits>=2048",
					     &p, why, sizeof why), SD_OK);
	sd_tls_policy_result r;
	assert_int_equal(sd_tls_policy_check(&p, &e, &c, &r), 0);
	sd_report rep;
	sd_report_init(&rep, "tls", "x");
	rep.ok = 1;
	sd_tls_policy_report(&r, &rep);
	assert_true(rep.ok);
	assert_int_equal(rep.diag.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_rules),
		cmocka_unit_test(judge_legacy_and_cert),
		cmocka_unit_test(judge_met),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
