/* Client fit (sd_tls_client_*): every profile loads; the decision on
 * hand-made enumerations names the exact mismatch and a fix. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "shakedown/tls.h"

static sd_tls_enum E;

static void server(unsigned versions, uint16_t v, const uint16_t *suites, size_t n, const uint16_t *groups, size_t ng)
{
	sd_tls_enum_cfg ec = { .versions = versions };
	sd_tls_enum_init(&E, &ec);
	sd_tls_vresult *r = (sd_tls_vresult *)sd_tls_enum_result(&E, v);
	r->probed = r->supported = 1;
	memcpy(r->suites, suites, n * sizeof *suites);
	r->nsuites = n;
	r->order = SD_TLS_ORDER_CLIENT;
	if (ng) {
		memcpy(r->groups, groups, ng * sizeof *groups);
		r->ngroups = ng;
		r->groups_done = 1;
	}
}

static int load(const char *name, sd_tls_client *c)
{
	char why[300];
	int rc = sd_tls_client_profile(name, c, why, sizeof why);
	if (rc == SD_ERR_UNSUPPORTED)
		return -1; /* no libssl.so.3 to expand OpenSSL's DEFAULT */
	if (rc != SD_OK)
		fprintf(stderr, "%s: %s\n", name, why);
	assert_int_equal(rc, SD_OK);
	return 0;
}

static void profiles_load(void **state)
{
	(void)state;
	static sd_tls_client c;
	size_t i;
	for (i = 0; sd_tls_client_profile_name(i); i++) {
		if (load(sd_tls_client_profile_name(i), &c) < 0)
			skip();
		assert_true(c.source[0] != '\0');
		assert_true(c.versions != 0);
		assert_true(c.nsuites > 0);
	}
	assert_true(i >= 4);
	char why[300];
	assert_int_equal(sd_tls_client_profile("netscape", &c, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "java8"));
	/* the default: OpenSSL's DEFAULT expanded here, TLS 1.0-1.3, x25519 first */
	assert_int_equal(load("default", &c), 0);
	assert_int_equal(c.groups[0], 29);
	assert_int_equal(c.level, 2);
	/* changes */
	assert_int_equal(sd_tls_client_set(&c, "versions", "1.2,1.3", why, sizeof why), SD_OK);
	assert_int_equal(c.versions, 0x18u);
	assert_int_equal(sd_tls_client_set(&c, "groups", "P-256:secp384r1", why, sizeof why), SD_OK);
	assert_int_equal(c.ngroups, 2);
	assert_int_equal(c.groups[0], 23);
	assert_int_equal(sd_tls_client_set(&c, "ciphers", "AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256", why, sizeof why), SD_OK);
	assert_int_equal(c.nsuites, 1);
	assert_int_equal(c.suites[0], 0x009C);
	assert_int_equal(c.nsuites13, 1);
	assert_int_equal(sd_tls_client_set(&c, "ciphers", "ECDHE+AESGCM:!ECDSA", why, sizeof why), SD_OK);
	assert_true(c.nsuites >= 2);
	assert_int_equal(sd_tls_client_set(&c, "ciphers", "NOSUCHCIPHER", why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_client_set(&c, "groups", "P-999", why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "P-999"));
	assert_int_equal(sd_tls_client_set(&c, "sigalgs", "rsa_pss_rsae_sha256:ECDSA+SHA256", why, sizeof why), SD_OK);
	assert_int_equal(c.nsigalgs, 2);
	assert_int_equal(sd_tls_client_set(&c, "versions", "1.4", why, sizeof why), SD_ERR_ARG);
}

static void fits(void **state)
{
	(void)state;
	static sd_tls_client c;
	sd_tls_fit f;
	if (load("default", &c) < 0)
		skip();
	/* TLS 1.0/1.1 only, an ECDHE suite first: the MD5+SHA-1 signature */
	static const uint16_t legacy[] = { 0xC013, 0x0035, 0x002F };
	server(0x06, SD_TLS_TLS11, legacy, 3, NULL, 0);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SIGALG_REFUSED);
	assert_string_equal(f.client_says, "legacy sigalg disallowed or unsupported");
	assert_non_null(strstr(f.fix, "@SECLEVEL=0"));
	/* the same at level 0 gets through */
	load("openssl-level0", &c);
	assert_true(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.version, SD_TLS_TLS11);
	assert_int_equal(f.suite, 0xC013);
	/* TLS 1.3 only against Java 8: no common version */
	static const uint16_t t13[] = { 0x1301 };
	static const uint16_t x25519[] = { 29 };
	server(0x10, SD_TLS_TLS13, t13, 1, x25519, 1);
	load("java8", &c);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_VERSION_MISMATCH);
	assert_non_null(strstr(f.why, "TLSv1.2"));
	assert_non_null(strstr(f.fix, "TLSv1.2"));
	/* TLS 1.3 with x25519 only against a client of P-256: no common group */
	load("default", &c);
	char why[200];
	assert_int_equal(sd_tls_client_set(&c, "groups", "P-256", why, sizeof why), SD_OK);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_NO_SHARED_GROUP);
	assert_non_null(strstr(f.fix, "ssl_ecdh_curve"));
	/* TLS 1.2 with ChaCha20 only against Java 8: no common suite */
	static const uint16_t chacha[] = { 0xCCA8 };
	server(0x08, SD_TLS_TLS12, chacha, 1, NULL, 0);
	load("java8", &c);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_NO_SHARED_CIPHER);
	assert_non_null(strstr(f.fix, "ssl_ciphers"));
	/* SNI required: a client without SNI cannot pass */
	static const uint16_t rsa[] = { 0x002F };
	server(0x02, SD_TLS_TLS10, rsa, 1, NULL, 0);
	load("tls10-embedded", &c);
	assert_true(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_false(sd_tls_client_fit(&c, &E, NULL, 1, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SNI_REQUIRED);
}

/* a chain as sd_tls_cert_check leaves it after a check at OpenSSL level 2 */
static void chain(sd_tls_cert *ct, const char *key, int bits, const char *sigalg, const char *trust)
{
	memset(ct, 0, sizeof *ct);
	ct->got = 1;
	ct->nchain = 1;
	snprintf(ct->key, sizeof ct->key, "%s", key);
	ct->key_bits = bits;
	snprintf(ct->sigalg, sizeof ct->sigalg, "%s", sigalg);
	snprintf(ct->trust, sizeof ct->trust, "%s", trust);
	ct->level = 2;
	int weak_key = strcmp(key, "RSA") == 0 && bits < 2048;
	if (weak_key || strstr(sigalg, "sha1") || strstr(sigalg, "SHA1")) {
		ct->err[0] = weak_key ? 66 : 68;
		snprintf(ct->err_text[0], sizeof ct->err_text[0], "%s",
			 weak_key ? "EE certificate key too weak" : "CA signature digest algorithm too weak");
		ct->nerr = 1;
	}
}

static void cert_policy(void **state)
{
	(void)state;
	static sd_tls_client c;
	static sd_tls_cert ct;
	sd_tls_fit f;
	if (load("default", &c) < 0)
		skip();
	static const uint16_t t12[] = { 0xC02F };
	static const uint16_t p256[] = { 23 };
	server(0x08, SD_TLS_TLS12, t12, 1, p256, 1);
	/* every profile states its policy and its source */
	for (size_t i = 0; sd_tls_client_profile_name(i); i++) {
		load(sd_tls_client_profile_name(i), &c);
		assert_true(strlen(c.cert_source) > 40);
		assert_true(strlen(c.cert_source) < sizeof c.cert_source - 1); /* not cut */
		assert_true(strlen(c.source) < sizeof c.source - 1);
	}
	/* RSA-1024 under a private CA: OpenSSL 3 at level 2 refuses it; level 1,
	 * java8 (RSA keySize < 1024), openssl-1.0.2 take it */
	chain(&ct, "RSA", 1024, "sha256WithRSAEncryption", "ca.pem");
	load("default", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_CERT_WEAK);
	assert_non_null(strstr(f.why, "RSA-1024 key is below the 2048 bits"));
	assert_non_null(strstr(f.cert, "refuses the RSA-1024 key (rule: RSA >= 2048"));
	assert_string_equal(f.client_says, "certificate verify failed: EE certificate key too weak");
	assert_non_null(strstr(f.fix, "@SECLEVEL=1"));
	static const char *const take[] = { "openssl-level1", "openssl-level0", "java8", "openssl-1.0.2" };
	for (size_t i = 0; i < 4; i++) {
		load(take[i], &c);
		assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
		assert_non_null(strstr(f.cert, "accepts the RSA-1024 key"));
	}
	load("browser", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_CERT_WEAK);
	assert_string_equal(f.client_says, ""); /* not OpenSSL: its words unknown */
	/* RSA-512: java8 refuses it too */
	chain(&ct, "RSA", 512, "sha256WithRSAEncryption", "ca.pem");
	load("java8", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.why, "below the 1024 bits"));
	assert_non_null(strstr(f.fix, "jdk.certpath.disabledAlgorithms"));
	/* SHA-1: refused from OpenSSL 3 level 1 (63 bits), taken at 0 and by 1.0.2;
	 * Java 8 refuses it only under a public root */
	chain(&ct, "RSA", 2048, "sha1WithRSAEncryption", "ca.pem");
	load("openssl-level1", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.why, "signed with SHA-1 (sha1WithRSAEncryption)"));
	assert_string_equal(f.client_says, "certificate verify failed: CA signature digest algorithm too weak");
	assert_non_null(strstr(f.fix, "@SECLEVEL=0"));
	load("openssl-1.0.2", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	load("java8", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	snprintf(ct.trust, sizeof ct.trust, "the system's trust store");
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.why, "under a public root"));
	/* MD5: java8 refuses it anywhere, openssl-1.0.2 takes it */
	chain(&ct, "RSA", 2048, "md5WithRSAEncryption", "ca.pem");
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	load("openssl-1.0.2", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	/* an expired chain stops every client, whatever its key rules */
	chain(&ct, "RSA", 1024, "sha1WithRSAEncryption", "ca.pem");
	ct.err[1] = 10;
	snprintf(ct.err_text[1], sizeof ct.err_text[1], "certificate has expired");
	ct.nerr = 2;
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_CERT_UNTRUSTED);
	assert_non_null(strstr(f.why, "certificate has expired"));
	/* a CA below the check's level: a client as strict fails; a laxer one
	 * is not judged on it, and says so */
	chain(&ct, "EC", 256, "ecdsa-with-SHA256", "ca.pem");
	ct.err[0] = 67;
	ct.err_depth[0] = 1;
	snprintf(ct.err_text[0], sizeof ct.err_text[0], "CA certificate key too weak");
	ct.nerr = 1;
	load("default", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.why, "at depth 1"));
	load("openssl-1.0.2", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.cert, "not judged"));
	/* a sound chain: every profile takes it, and says by which rule */
	chain(&ct, "EC", 256, "ecdsa-with-SHA256", "ca.pem");
	load("default", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_non_null(strstr(f.cert, "accepts the EC-256 key, ecdsa-with-SHA256 signature (rule: RSA >= 2048, EC >= 224, no MD2/MD5/SHA-1 signatures)"));
}

/* nothing accepted: each version's last refusal, as the enumeration keeps it */
static void refused(uint16_t v, uint8_t alert)
{
	sd_tls_vresult *r = (sd_tls_vresult *)sd_tls_enum_result(&E, v);
	r->probed = 1;
	r->supported = 0;
	r->refusal = SD_TLS_ALERT;
	r->refusal_alert = alert;
}

static void nothing_accepted(void **state)
{
	(void)state;
	static sd_tls_client c;
	sd_tls_fit f;
	if (load("default", &c) < 0)
		skip();
	/* nginx ssl_reject_handshake probed by address: unrecognized_name for
	 * TLS 1.3 and 1.2, protocol_version for 1.1 and 1.0 */
	sd_tls_enum_cfg ec = { .versions = 0x1e, .sni = "127.0.0.1" };
	sd_tls_enum_init(&E, &ec);
	refused(SD_TLS_TLS13, 112);
	refused(SD_TLS_TLS12, 112);
	refused(SD_TLS_TLS11, 70);
	refused(SD_TLS_TLS10, 70);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 1, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SNI_REQUIRED);
	assert_non_null(strstr(f.why, "by address it sends no server name, and the server refuses TLSv1.3, TLSv1.2"));
	assert_non_null(strstr(f.fix, "-servername"));
	/* the same, without being told: the alerts say it */
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SNI_REQUIRED);
	/* a client that never sends SNI: the server side must change */
	load("tls10-embedded", &c);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 1, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SNI_REQUIRED);
	assert_non_null(strstr(f.fix, "ssl_reject_handshake"));
	/* probed by a name the server does not know */
	ec.sni = "other.example";
	sd_tls_enum_init(&E, &ec);
	refused(SD_TLS_TLS13, 112);
	refused(SD_TLS_TLS12, 112);
	load("java8", &c);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 1, &f));
	assert_non_null(strstr(f.why, "does not know the name other.example"));
	/* every suite of the registry refused at TLS 1.2 */
	ec.sni = NULL;
	sd_tls_enum_init(&E, &ec);
	refused(SD_TLS_TLS13, 70);
	refused(SD_TLS_TLS12, 40);
	refused(SD_TLS_TLS11, 70);
	refused(SD_TLS_TLS10, 70);
	load("default", &c);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_NO_SHARED_CIPHER);
	assert_non_null(strstr(f.why, "refuses TLSv1.2 with handshake_failure"));
	/* only protocol_version: no common version, the client's named */
	refused(SD_TLS_TLS12, 70);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_VERSION_MISMATCH);
	assert_non_null(strstr(f.why, "it offers TLSv1.3, TLSv1.2, TLSv1.1, TLSv1.0"));
	/* only TLS 1.0 probed (--versions 1.0), refused: the client's other
	 * versions not probed, so not judged, and said so */
	ec.versions = 0x02;
	sd_tls_enum_init(&E, &ec);
	refused(SD_TLS_TLS10, 70);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_UNKNOWN);
	assert_non_null(strstr(f.why, "not judged"));
	assert_non_null(strstr(f.why, "TLSv1.3, TLSv1.2, TLSv1.1, which it offers, were not probed"));
	/* every hello closed: no mismatch named, and none invented */
	ec.versions = 0x1e;
	sd_tls_enum_init(&E, &ec);
	for (uint16_t v = SD_TLS_TLS10; v <= SD_TLS_TLS13; v++) {
		refused(v, 0);
		((sd_tls_vresult *)sd_tls_enum_result(&E, v))->refusal = -1;
	}
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_MIDDLEBOX_RESET);
	assert_non_null(strstr(f.why, "no hello at TLSv1.3, TLSv1.2, TLSv1.1, TLSv1.0 got an answer"));
}

/* the library defaults, as their sources and a measured ClientHello say */
static void library_profiles(void **state)
{
	(void)state;
	static sd_tls_client c;
	sd_tls_fit f;
	if (load("mbedtls", &c) < 0)
		skip();
	/* Mbed TLS 3.6: TLS 1.2 and 1.3, ChaCha20 first in both lists */
	assert_int_equal(c.versions, 0x18u);
	assert_int_equal(c.nsuites13, 5);
	assert_int_equal(c.suites13[0], 0x1303);
	assert_int_equal(c.suites[0], 0xCCA8);
	assert_int_equal(c.nsuites, 110);
	assert_int_equal(c.groups[0], 29);
	assert_int_equal(c.min_rsa_bits, 2048);
	assert_true(c.sni);
	load("wolfssl", &c);
	/* wolfSSL 5.5.4 (Debian 12): TLS 1.1-1.3, secp521r1 first, no SNI by default */
	assert_int_equal(c.versions, 0x1cu);
	assert_int_equal(c.nsuites13, 7);
	assert_int_equal(c.suites13[0], 0x1301);
	assert_int_equal(c.suites[0], 0xC02C);
	assert_int_equal(c.nsuites, 50);
	assert_int_equal(c.groups[0], 25);
	assert_false(c.sni);
	assert_int_equal(c.min_rsa_bits, 1024);
	/* a TLS 1.2 server of ECDHE-RSA AES-GCM: both get through; an
	 * RSA-1024 certificate: mbedtls refuses it (its x509 default profile),
	 * wolfssl takes it; a SHA-1 one likewise */
	static const uint16_t t12[] = { 0xC02F };
	static const uint16_t p256[] = { 23 };
	server(0x08, SD_TLS_TLS12, t12, 1, p256, 1);
	static sd_tls_cert ct;
	chain(&ct, "RSA", 1024, "sha256WithRSAEncryption", "ca.pem");
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_int_equal(f.suite, 0xC02F);
	load("mbedtls", &c);
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_CERT_WEAK);
	chain(&ct, "RSA", 2048, "sha1WithRSAEncryption", "ca.pem");
	assert_false(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	load("wolfssl", &c);
	assert_true(sd_tls_client_fit(&c, &E, &ct, 0, &f));
	/* a TLS 1.0-only server: mbedtls has no common version, wolfssl neither */
	static const uint16_t legacy[] = { 0x002F };
	server(0x02, SD_TLS_TLS10, legacy, 1, NULL, 0);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_VERSION_MISMATCH);
	/* Mbed TLS 2.28 (Debian 12): TLS 1.0-1.2, no TLS 1.3, secp521r1 first;
	 * its x509 default profile refuses SHA-1 and RSA under 2048 as 3.6's */
	sd_tls_client m;
	load("mbedtls-2.28", &m);
	assert_int_equal(m.versions, 0x0eu);
	assert_int_equal(m.nsuites13, 0);
	assert_int_equal(m.nsuites, 79);
	assert_int_equal(m.suites[0], 0xCCA8);
	assert_int_equal(m.groups[0], 25);
	assert_true(sd_tls_client_fit(&m, &E, NULL, 0, &f));
	assert_int_equal(f.version, SD_TLS_TLS10);
	chain(&ct, "RSA", 2048, "sha1WithRSAEncryption", "ca.pem");
	server(0x08, SD_TLS_TLS12, t12, 1, p256, 1);
	assert_false(sd_tls_client_fit(&m, &E, &ct, 0, &f));
	assert_int_equal(f.cause, SD_CAUSE_CERT_WEAK);
	/* an SNI-requiring server: wolfssl's default sends none */
	server(0x08, SD_TLS_TLS12, t12, 1, p256, 1);
	assert_false(sd_tls_client_fit(&c, &E, NULL, 1, &f));
	assert_int_equal(f.cause, SD_CAUSE_TLS_SNI_REQUIRED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(profiles_load),
		cmocka_unit_test(fits),
		cmocka_unit_test(cert_policy),
		cmocka_unit_test(nothing_accepted),
		cmocka_unit_test(library_profiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
