/*
 * shakedown — the certificate of a TLS server, judged as a client would
 * judge it: one full handshake with OpenSSL 3's libssl over memory BIOs
 * (the bytes move over our tcp link, under one deadline, into the
 * transcript), then the chain verified with the same library the clients
 * use (curl, Python, s_client on this machine), so the first error we meet
 * is the one they print. Every error is collected, not only the first.
 *
 * libssl is loaded with dlopen at the first check, as crypto.c loads
 * libcrypto: most runs of the program never need it, and linking it costs
 * every run its start-up. The calls go through one table, built from the
 * headers' own declarations (__typeof__), so a wrong signature cannot creep
 * in.
 */
#include "internal.h"
#include "proto/tls_wire.h"

#ifdef SD_WITH_LIBCRYPTO
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>

#define SSL_FNS(X)                                                                     \
	X(OPENSSL_init_ssl) X(TLS_client_method) X(SSL_CTX_new) X(SSL_CTX_free)          \
	X(SSL_CTX_ctrl) X(SSL_CTX_set_verify) X(SSL_CTX_set_security_level)               \
	X(SSL_CTX_set_cipher_list) X(SSL_new) X(SSL_free) X(SSL_set_bio) X(SSL_ctrl)      \
	X(SSL_set_connect_state) X(SSL_do_handshake) X(SSL_get_error)                     \
	X(SSL_get_peer_cert_chain) X(SSL_version) X(SSL_get_current_cipher)              \
	X(SSL_CIPHER_get_name) X(BIO_new) X(BIO_free) X(BIO_s_mem) X(BIO_read) X(BIO_write)          \
	X(BIO_ctrl_pending) X(ERR_get_error) X(ERR_error_string_n) X(ERR_clear_error)    \
	X(OPENSSL_sk_num) X(OPENSSL_sk_value) X(X509_get_subject_name)                   \
	X(X509_get_issuer_name) X(X509_NAME_oneline) X(X509_get0_notBefore)              \
	X(X509_get0_notAfter) X(ASN1_TIME_to_tm) X(ASN1_TIME_diff) X(X509_check_host)    \
	X(X509_check_ip_asc) X(X509_check_issued) X(X509_check_ca) X(X509_get0_pubkey)   \
	X(EVP_PKEY_get_bits) X(EVP_PKEY_get_base_id) X(EVP_PKEY_get_security_bits)       \
	X(X509_get_signature_nid) X(OBJ_nid2ln) X(OBJ_nid2sn) X(X509_get_ext_d2i)        \
	X(GENERAL_NAMES_free) X(ASN1_STRING_get0_data) X(ASN1_STRING_length)             \
	X(X509_STORE_new) X(X509_STORE_free) X(X509_STORE_set_default_paths)             \
	X(X509_STORE_load_file) X(X509_STORE_CTX_new) X(X509_STORE_CTX_free)             \
	X(X509_STORE_CTX_init) X(X509_STORE_CTX_set_default) X(X509_STORE_CTX_get0_param) \
	X(X509_STORE_CTX_set_verify_cb) X(X509_STORE_CTX_get_error)                      \
	X(X509_STORE_CTX_get_error_depth) X(X509_STORE_CTX_get_ex_data)                  \
	X(X509_STORE_CTX_set_ex_data) X(X509_VERIFY_PARAM_set1_host)                     \
	X(X509_VERIFY_PARAM_set1_ip_asc) X(X509_VERIFY_PARAM_set_auth_level)             \
	X(X509_verify_cert) X(X509_verify_cert_error_string) X(SSL_CTX_get_ciphers)            \
	X(SSL_CIPHER_get_protocol_id) X(SSL_CTX_set_ciphersuites) X(SSL_CTX_set_client_cert_cb)    \
	X(SSL_read) X(SSL_get_ex_data) X(SSL_set_ex_data) X(d2i_OCSP_RESPONSE)                \
	X(OCSP_response_status) X(OCSP_response_get1_basic) X(OCSP_resp_count) X(OCSP_resp_get0) \
	X(OCSP_single_get0_status) X(OCSP_BASICRESP_free) X(OCSP_RESPONSE_free)       \
	X(OCSP_basic_verify) X(OCSP_resp_get0_signer) X(OCSP_SINGLERESP_get0_id)          \
	X(OCSP_id_get0_info) X(OCSP_check_validity) X(X509_get_serialNumber)             \
	X(ASN1_INTEGER_cmp) X(ERR_reason_error_string) X(ERR_get_error_all)              \
	X(X509_STORE_CTX_get1_chain) X(OPENSSL_sk_pop_free) X(X509_free)

static struct {
	int  ok;
	char why[160];
#define DECL(f) __typeof__(f) *f;
	SSL_FNS(DECL)
#undef DECL
} S;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		sdi_fmt(S.why, sizeof S.why, "cannot load libssl.so.3 (%s): install libssl3", dlerror());
		return;
	}
	/* dlsym on libssl's handle finds libcrypto's symbols too (its dependency) */
#define LOAD(f)                                                                 \
	*(void **)(&S.f) = dlsym(h, #f);                                        \
	if (!S.f) {                                                             \
		sdi_fmt(S.why, sizeof S.why, "libssl.so.3 lacks %s", #f);       \
		return;                                                         \
	}
	SSL_FNS(LOAD)
#undef LOAD
	/* no atexit cleanup, no openssl.cnf: we set the level ourselves */
	if (!S.OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL)) {
		sdi_fmt(S.why, sizeof S.why, "libssl.so.3 failed to initialise");
		return;
	}
	S.ok = 1;
}

static int is_ip_literal(const char *s)
{
	if (!s || !*s)
		return 0;
	if (strchr(s, ':'))
		return 1;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || *s == '.'))
			return 0;
	return 1;
}

static void name_of(X509_NAME *n, char *out, size_t len)
{
	char buf[512];
	if (!n || !S.X509_NAME_oneline(n, buf, (int)sizeof buf))
		buf[0] = '\0';
	sdi_fmt(out, len, "%s", buf);
}

static void time_of(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	if (!t || !S.ASN1_TIME_to_tm(t, &tm)) {
		sdi_fmt(out, len, "?");
		return;
	}
	sdi_fmt(out, len, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* whole days from now to t (rounded toward zero) */
static long days_to(const ASN1_TIME *t)
{
	int days = 0, secs = 0;
	if (!t || !S.ASN1_TIME_diff(&days, &secs, NULL, t))
		return 0;
	return days;
}

static void san_of(X509 *x, char *out, size_t len)
{
	out[0] = '\0';
	GENERAL_NAMES *g = S.X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (!g)
		return;
	int n = S.OPENSSL_sk_num((const OPENSSL_STACK *)g);
	for (int i = 0; i < n; i++) {
		const GENERAL_NAME *gn = S.OPENSSL_sk_value((const OPENSSL_STACK *)g, i);
		if (gn->type == GEN_DNS) {
			const unsigned char *d = S.ASN1_STRING_get0_data(gn->d.dNSName);
			int dl = S.ASN1_STRING_length(gn->d.dNSName);
			char host[256];
			size_t k = 0;
			for (int j = 0; j < dl && k + 1 < sizeof host; j++)
				host[k++] = sdi_is_text(d[j]) ? (char)d[j] : '?';
			host[k] = '\0';
			sdi_append(out, len, "%sDNS:%s", out[0] ? ", " : "", host);
		} else if (gn->type == GEN_IPADD) {
			const unsigned char *d = S.ASN1_STRING_get0_data(gn->d.iPAddress);
			int dl = S.ASN1_STRING_length(gn->d.iPAddress);
			if (dl == 4)
				sdi_append(out, len, "%sIP:%u.%u.%u.%u", out[0] ? ", " : "", d[0], d[1], d[2], d[3]);
			else
				sdi_append(out, len, "%sIP:(%d bytes)", out[0] ? ", " : "", dl);
		}
	}
	S.GENERAL_NAMES_free(g);
}

/* every verification error, in the order OpenSSL meets them; go on after each */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if (ok)
		return 1;
	sd_tls_cert *c = S.X509_STORE_CTX_get_ex_data(ctx, 0);
	int e = S.X509_STORE_CTX_get_error(ctx);
	int depth = S.X509_STORE_CTX_get_error_depth(ctx);
	for (size_t i = 0; c && i < c->nerr; i++)
		if (c->err[i] == e && c->err_depth[i] == depth)
			return 1;
	if (c && c->nerr < SD_TLS_CERT_ERRS) {
		c->err[c->nerr] = e;
		c->err_depth[c->nerr] = depth;
		sdi_fmt(c->err_text[c->nerr], sizeof c->err_text[0], "%s", S.X509_verify_cert_error_string(e));
		c->nerr++;
	}
	return 1;
}

/* the trust store a client of this check would use: ca_file, or the system's */
static X509_STORE *trust_store(const sd_tls_cert_cfg *cfg, sd_tls_cert *c)
{
	X509_STORE *st = S.X509_STORE_new();
	if (!st)
		return NULL;
	if (cfg->ca_file) {
		if (!S.X509_STORE_load_file(st, cfg->ca_file))
			sdi_fmt(c->trust, sizeof c->trust, "(unreadable: %s)", cfg->ca_file);
	} else {
		S.X509_STORE_set_default_paths(st);
	}
	return st;
}

static void verify_chain(const sd_tls_cert_cfg *cfg, STACK_OF(X509) *chain, sd_tls_cert *c)
{
	X509 *leaf = S.OPENSSL_sk_value((const OPENSSL_STACK *)chain, 0);
	X509_STORE *st = trust_store(cfg, c);
	X509_STORE_CTX *ctx = S.X509_STORE_CTX_new();
	if (!st || !ctx)
		goto out;
	if (!S.X509_STORE_CTX_init(ctx, st, leaf, chain))
		goto out;
	S.X509_STORE_CTX_set_default(ctx, "ssl_server");
	X509_VERIFY_PARAM *vp = S.X509_STORE_CTX_get0_param(ctx);
	if (is_ip_literal(c->name))
		S.X509_VERIFY_PARAM_set1_ip_asc(vp, c->name);
	else
		S.X509_VERIFY_PARAM_set1_host(vp, c->name, 0);
	S.X509_VERIFY_PARAM_set_auth_level(vp, c->level);
	S.X509_STORE_CTX_set_ex_data(ctx, 0, c);
	S.X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	(void)S.X509_verify_cert(ctx);
out:
	if (ctx)
		S.X509_STORE_CTX_free(ctx);
	if (st)
		S.X509_STORE_free(st);
}

static void read_chain(const sd_tls_cert_cfg *cfg, SSL *ssl, sd_tls_cert *c)
{
	STACK_OF(X509) *chain = S.SSL_get_peer_cert_chain(ssl);
	int n = chain ? S.OPENSSL_sk_num((const OPENSSL_STACK *)chain) : 0;
	if (n <= 0)
		return;
	c->got = 1;
	c->nchain = (size_t)n;
	X509 *x = S.OPENSSL_sk_value((const OPENSSL_STACK *)chain, 0);
	X509 *top = S.OPENSSL_sk_value((const OPENSSL_STACK *)chain, n - 1);
	name_of(S.X509_get_subject_name(x), c->subject, sizeof c->subject);
	name_of(S.X509_get_issuer_name(x), c->issuer, sizeof c->issuer);
	name_of(S.X509_get_subject_name(top), c->top_subject, sizeof c->top_subject);
	name_of(S.X509_get_issuer_name(top), c->top_issuer, sizeof c->top_issuer);
	c->top_is_ca = S.X509_check_ca(top) != 0;
	time_of(S.X509_get0_notBefore(x), c->not_before, sizeof c->not_before);
	time_of(S.X509_get0_notAfter(x), c->not_after, sizeof c->not_after);
	c->days_left = days_to(S.X509_get0_notAfter(x));
	c->days_to_start = days_to(S.X509_get0_notBefore(x));
	san_of(x, c->san, sizeof c->san);
	EVP_PKEY *pk = S.X509_get0_pubkey(x);
	if (pk) {
		int id = S.EVP_PKEY_get_base_id(pk);
		const char *sn = S.OBJ_nid2sn(id);
		sdi_fmt(c->key, sizeof c->key, "%s", id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC"
			: sn ? sn : "?");
		c->key_bits = S.EVP_PKEY_get_bits(pk);
		c->key_security_bits = S.EVP_PKEY_get_security_bits(pk);
	}
	const char *sig = S.OBJ_nid2ln(S.X509_get_signature_nid(x));
	sdi_fmt(c->sigalg, sizeof c->sigalg, "%s", sig ? sig : "?");
	c->self_signed = S.X509_check_issued(x, x) == X509_V_OK;
	c->is_ca = S.X509_check_ca(x) != 0;
	c->name_ok = is_ip_literal(c->name) ? S.X509_check_ip_asc(x, c->name, 0) == 1
					    : S.X509_check_host(x, c->name, 0, 0, NULL) == 1;
	verify_chain(cfg, chain, c);
}

/* The server asks for a client certificate: note it, send none. */
static int client_cert_cb(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	(void)x509;
	(void)pkey;
	sd_tls_cert *c = S.SSL_get_ex_data(ssl, 0);
	if (c)
		c->client_cert_asked = 1;
	return 0;
}

/* OpenSSL's words for a failed OCSP check: the OCSP library's own reason
 * ("signature failure", "certificate verify error") with its data
 * ("Verify error:self-signed certificate"), and the first reason queued
 * when it came from below ("invalid padding" from RSA). */
static void ocsp_reason(char *out, size_t len)
{
	char first[80] = "", ocsp[120] = "";
	const char *data = NULL;
	int flags = 0;
	unsigned long e;
	while ((e = S.ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		const char *r = S.ERR_reason_error_string(e);
		if (!first[0] && ERR_GET_LIB(e) != ERR_LIB_OCSP)
			sdi_fmt(first, sizeof first, "%s", r ? r : "?");
		if (ERR_GET_LIB(e) == ERR_LIB_OCSP) {
			sdi_fmt(ocsp, sizeof ocsp, "%s", r ? r : "?");
			if (data && *data && (flags & ERR_TXT_STRING))
				sdi_append(ocsp, sizeof ocsp, " (%s)", data);
		}
	}
	if (ocsp[0] && first[0])
		sdi_fmt(out, len, "%s: %s", ocsp, first);
	else
		sdi_fmt(out, len, "%s", ocsp[0] ? ocsp : first[0] ? first : "OpenSSL gave no reason");
}

/* builds the chain whatever it meets (the errors are verify_chain's to report) */
static int keep_going(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

static void hex_of(const ASN1_INTEGER *a, char *out, size_t len)
{
	out[0] = '\0';
	const unsigned char *d = a ? S.ASN1_STRING_get0_data(a) : NULL;
	int n = a ? S.ASN1_STRING_length(a) : 0;
	for (int i = 0; d && i < n && i < 20; i++)
		sdi_append(out, len, "%02X", d[i]);
	if (n > 20)
		sdi_append(out, len, "...");
}

/* The staple's signature (RFC 6960 3.2: signed by the certificate's issuer
 * or by a responder it authorised, over the response, for this very
 * certificate), checked as a client that verifies staples does: against
 * the chain the server sent and the trust store of the check. */
static void check_ocsp_sig(const sd_tls_cert_cfg *cfg, SSL *ssl, OCSP_BASICRESP *bs, OCSP_SINGLERESP *one,
			   sd_tls_cert *c)
{
	STACK_OF(X509) *chain = S.SSL_get_peer_cert_chain(ssl);
	X509 *leaf = chain && S.OPENSSL_sk_num((const OPENSSL_STACK *)chain) > 0
		     ? S.OPENSSL_sk_value((const OPENSSL_STACK *)chain, 0) : NULL;
	X509 *signer = NULL;
	S.ERR_clear_error();
	if (S.OCSP_resp_get0_signer(bs, &signer, chain) == 1 && signer)
		name_of(S.X509_get_subject_name(signer), c->ocsp_signer, sizeof c->ocsp_signer);
	X509_STORE *st = trust_store(cfg, c);
	if (!st) {
		c->ocsp_sig = SD_TLS_OCSP_SIG_INVALID;
		sdi_fmt(c->ocsp_sig_error, sizeof c->ocsp_sig_error, "no memory for a trust store");
		return;
	}
	/* A CA signs its own answers without including its certificate: the
	 * signer is then the leaf's issuer, which the server may not send (a
	 * root). Look for it, as a client does, in the chain built up to the
	 * trust store; those certificates stay untrusted to OCSP_basic_verify
	 * (no OCSP_TRUSTOTHER), the signer's own chain is verified anew. */
	STACK_OF(X509) *built = NULL;
	X509_STORE_CTX *vx = S.X509_STORE_CTX_new();
	if (vx && leaf && S.X509_STORE_CTX_init(vx, st, leaf, chain)) {
		S.X509_STORE_CTX_set_verify_cb(vx, keep_going);
		(void)S.X509_verify_cert(vx);
		built = S.X509_STORE_CTX_get1_chain(vx);
	}
	if (vx)
		S.X509_STORE_CTX_free(vx);
	S.ERR_clear_error();
	if (!c->ocsp_signer[0] && S.OCSP_resp_get0_signer(bs, &signer, built) == 1 && signer)
		name_of(S.X509_get_subject_name(signer), c->ocsp_signer, sizeof c->ocsp_signer);
	S.ERR_clear_error();
	int v = S.OCSP_basic_verify(bs, built ? built : chain, st, 0);
	if (built)
		S.OPENSSL_sk_pop_free((OPENSSL_STACK *)built, (void (*)(void *))S.X509_free);
	if (v == 1) {
		c->ocsp_sig = SD_TLS_OCSP_SIG_VALID;
		S.ERR_clear_error();
	} else {
		c->ocsp_sig = SD_TLS_OCSP_SIG_INVALID;
		ocsp_reason(c->ocsp_sig_error, sizeof c->ocsp_sig_error);
	}
	S.X509_STORE_free(st);
	/* a valid signature over a response about another certificate proves
	 * nothing about this one: the serial must be the server's */
	ASN1_INTEGER *serial = NULL;
	const OCSP_CERTID *id = S.OCSP_SINGLERESP_get0_id(one);
	if (c->ocsp_sig == SD_TLS_OCSP_SIG_VALID && leaf && id &&
	    S.OCSP_id_get0_info(NULL, NULL, NULL, &serial, (OCSP_CERTID *)(uintptr_t)id) == 1 && serial &&
	    S.ASN1_INTEGER_cmp(serial, S.X509_get_serialNumber(leaf)) != 0) {
		char a[48], b[48];
		hex_of(serial, a, sizeof a);
		hex_of(S.X509_get_serialNumber(leaf), b, sizeof b);
		c->ocsp_sig = SD_TLS_OCSP_SIG_INVALID;
		sdi_fmt(c->ocsp_sig_error, sizeof c->ocsp_sig_error,
			"the response is about serial %s, not the server's certificate (serial %s)", a, b);
	}
}

/* A stapled OCSP response (RFC 6066 8): its status for the first
 * certificate, in words, and whether its signature holds. */
static void read_ocsp(const sd_tls_cert_cfg *cfg, SSL *ssl, sd_tls_cert *c)
{
	const unsigned char *resp = NULL;
	long len = S.SSL_ctrl(ssl, SSL_CTRL_GET_TLSEXT_STATUS_REQ_OCSP_RESP, 0, (void *)&resp);
	if (len <= 0 || !resp) {
		sdi_fmt(c->ocsp, sizeof c->ocsp, "not stapled");
		return;
	}
	c->ocsp_stapled = 1;
	const unsigned char *p = resp;
	OCSP_RESPONSE *r = S.d2i_OCSP_RESPONSE(NULL, &p, len);
	if (!r) {
		sdi_fmt(c->ocsp, sizeof c->ocsp, "stapled, %ld bytes that are no OCSP response", len);
		return;
	}
	int st = S.OCSP_response_status(r);
	OCSP_BASICRESP *bs = st == OCSP_RESPONSE_STATUS_SUCCESSFUL ? S.OCSP_response_get1_basic(r) : NULL;
	OCSP_SINGLERESP *one = bs && S.OCSP_resp_count(bs) > 0 ? S.OCSP_resp_get0(bs, 0) : NULL;
	if (!one) {
		sdi_fmt(c->ocsp, sizeof c->ocsp, "stapled, response status %d without a certificate status", st);
	} else {
		int reason = 0;
		ASN1_GENERALIZEDTIME *rev = NULL, *thisu = NULL, *nextu = NULL;
		int cs = S.OCSP_single_get0_status(one, &reason, &rev, &thisu, &nextu);
		char t1[32] = "?", t2[32] = "none";
		time_of(thisu, t1, sizeof t1);
		if (nextu)
			time_of(nextu, t2, sizeof t2);
		check_ocsp_sig(cfg, ssl, bs, one, c);
		/* RFC 6960 4.2.2.1: 5 minutes of clock skew, as openssl ocsp allows */
		c->ocsp_stale = thisu && !S.OCSP_check_validity(thisu, nextu, 300, -1);
		S.ERR_clear_error();
		/* what an unverified response says is no fact */
		c->ocsp_revoked = cs == V_OCSP_CERTSTATUS_REVOKED && c->ocsp_sig == SD_TLS_OCSP_SIG_VALID;
		sdi_fmt(c->ocsp, sizeof c->ocsp, "stapled: %s (this update %s, next update %s%s; signature %s)",
			cs == V_OCSP_CERTSTATUS_GOOD ? "good" : cs == V_OCSP_CERTSTATUS_REVOKED ? "REVOKED" : "unknown", t1, t2,
			c->ocsp_stale ? ", STALE" : "",
			c->ocsp_sig == SD_TLS_OCSP_SIG_VALID ? "valid" : "INVALID, so unverified");
	}
	if (bs)
		S.OCSP_BASICRESP_free(bs);
	S.OCSP_RESPONSE_free(r);
}

/* Move what OpenSSL wrote to the link. */
static int flush_out(BIO *wb, sd_link *l, sd_deadline dl)
{
	uint8_t buf[4096];
	while (S.BIO_ctrl_pending(wb) > 0) {
		int n = S.BIO_read(wb, buf, (int)sizeof buf);
		if (n <= 0)
			break;
		int rc = sd_link_write_all(l, buf, (size_t)n, dl);
		if (rc < 0)
			return rc;
	}
	return SD_OK;
}

static void ssl_reason(char *out, size_t len)
{
	unsigned long e, last = 0;
	while ((e = S.ERR_get_error()) != 0)
		last = e;
	if (!last)
		return;
	char buf[256];
	S.ERR_error_string_n(last, buf, sizeof buf);
	/* "error:0A000102:SSL routines::unsupported protocol": keep the reason */
	const char *r = strrchr(buf, ':');
	sdi_fmt(out, len, "%s", r && r[1] ? r + 1 : buf);
}

int sd_tls_cert_check(const sd_tls_cert_cfg *cfg, sd_tls_cert *c, char *why, size_t whylen)
{
	if (!cfg || !c || !cfg->host || !cfg->port ||
	    (cfg->version && (cfg->version < SD_TLS_TLS10 || cfg->version > SD_TLS_TLS13)))
		return SD_ERR_ARG;
	memset(c, 0, sizeof *c);
	pthread_once(&load_once, load);
	if (!S.ok) {
		if (why && whylen)
			sdi_fmt(why, whylen, "%s", S.why);
		return SD_ERR_UNSUPPORTED;
	}
	const sd_clock *clk = cfg->clock ? cfg->clock : sd_clock_real();
	c->level = cfg->level < 0 ? 2 : cfg->level > 5 ? 5 : cfg->level;
	const char *name = cfg->name ? cfg->name : cfg->sni ? cfg->sni : cfg->host;
	sdi_fmt(c->name, sizeof c->name, "%s", name);
	sdi_fmt(c->trust, sizeof c->trust, "%s", cfg->ca_file ? cfg->ca_file : "the system's trust store");
	sd_deadline dl = sd_deadline_in(clk, SD_MS(cfg->wait_ms ? cfg->wait_ms : 5000u));
	sd_link *l = NULL;
	int rc = sd_link_open_tcp(cfg->host, cfg->port, clk, dl, &l, why, whylen);
	if (rc < 0)
		return rc;
	if (cfg->tap)
		sd_link_tap(l, cfg->tap, cfg->tap_name);
	if (cfg->starttls) {
		sd_starttls_result st;
		sd_starttls_cfg sc = { .proto = cfg->starttls, .domain = cfg->sni ? cfg->sni : cfg->host };
		rc = sd_starttls_run_cfg(l, &sc, dl, &st);
		if (rc < 0) {
			sdi_fmt(c->handshake_error, sizeof c->handshake_error, "the %s dialog before STARTTLS failed: %s",
				sd_starttls_name(cfg->starttls), st.last.line[0] ? st.last.line : sd_strerror(rc));
			sd_link_close(l);
			return SD_OK;
		}
	}
	S.ERR_clear_error();
	SSL_CTX *ctx = S.SSL_CTX_new(S.TLS_client_method());
	SSL *ssl = ctx ? S.SSL_new(ctx) : NULL;
	BIO *rb = ssl ? S.BIO_new(S.BIO_s_mem()) : NULL;
	BIO *wb = rb ? S.BIO_new(S.BIO_s_mem()) : NULL;
	if (!wb) {
		if (rb)
			S.BIO_free(rb);
		rc = SD_ERR_NOMEM;
		goto out;
	}
	/* everything this OpenSSL can speak at this version: the chain must come */
	S.SSL_CTX_set_security_level(ctx, 0);
	S.SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0");
	S.SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	S.SSL_CTX_set_client_cert_cb(ctx, client_cert_cb);
	S.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, cfg->version ? cfg->version : SD_TLS_TLS10, NULL);
	S.SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MAX_PROTO_VERSION, cfg->version ? cfg->version : SD_TLS_TLS13, NULL);
	S.SSL_set_bio(ssl, rb, wb); /* ssl owns both now; we keep using them */
	if (cfg->sni && *cfg->sni && !is_ip_literal(cfg->sni))
		S.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, (void *)cfg->sni);
	S.SSL_set_connect_state(ssl);
	S.SSL_set_ex_data(ssl, 0, c);
	S.SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_STATUS_REQ_TYPE, TLSEXT_STATUSTYPE_ocsp, NULL);
	uint8_t buf[4096];
	for (int rounds = 0; rounds < 256; rounds++) { /* a handshake is a few flights */
		int r = S.SSL_do_handshake(ssl);
		int frc = flush_out(wb, l, dl);
		if (r == 1)
			break;
		int e = S.SSL_get_error(ssl, r);
		if (e != SSL_ERROR_WANT_READ) {
			ssl_reason(c->handshake_error, sizeof c->handshake_error);
			if (!c->handshake_error[0])
				sdi_fmt(c->handshake_error, sizeof c->handshake_error, "OpenSSL error %d", e);
			break;
		}
		if (frc < 0) {
			sdi_fmt(c->handshake_error, sizeof c->handshake_error, "%s", sd_link_why(l, frc));
			break;
		}
		int n = sd_link_read(l, buf, sizeof buf, dl);
		if (n < 0) {
			sdi_fmt(c->handshake_error, sizeof c->handshake_error, "%s", sd_link_why(l, n));
			break;
		}
		S.BIO_write(rb, buf, n);
	}
	/* TLS 1.3: a server that wants a client certificate says so only after
	 * our Finished (alert certificate_required): read its next record */
	if (c->client_cert_asked && !c->handshake_error[0]) {
		for (int rounds = 0; rounds < 16; rounds++) {
			int r = S.SSL_read(ssl, buf, (int)sizeof buf);
			if (r > 0)
				break; /* data: it took the handshake without one */
			int e = S.SSL_get_error(ssl, r);
			if (e != SSL_ERROR_WANT_READ) {
				ssl_reason(c->handshake_error, sizeof c->handshake_error);
				break;
			}
			if (flush_out(wb, l, dl) < 0)
				break;
			int n = sd_link_read(l, buf, sizeof buf, sd_deadline_min(dl, sd_deadline_in(clk, SD_MS(1000))));
			if (n < 0)
				break; /* quiet or closed: no verdict from it */
			S.BIO_write(rb, buf, n);
		}
	}
	c->client_cert_refused = c->client_cert_asked && c->handshake_error[0] != '\0';
	c->version = (uint16_t)S.SSL_version(ssl);
	const SSL_CIPHER *ci = S.SSL_get_current_cipher(ssl);
	sdi_fmt(c->suite, sizeof c->suite, "%s", ci ? S.SSL_CIPHER_get_name(ci) : "");
	read_chain(cfg, ssl, c);
	if (c->got)
		read_ocsp(cfg, ssl, c);
	S.ERR_clear_error();
	rc = SD_OK;
out:
	if (ssl)
		S.SSL_free(ssl); /* frees rb and wb */
	if (ctx)
		S.SSL_CTX_free(ctx);
	sd_link_close(l);
	return rc;
}

/* An OpenSSL cipher string as this libssl expands it (security level 0:
 * the level is judged apart): the TLS <= 1.2 suites in order. */
int sdi_tls_expand_ciphers(const char *list, uint16_t *out, size_t max, size_t *n, char *why, size_t whylen)
{
	*n = 0;
	pthread_once(&load_once, load);
	if (!S.ok) {
		sdi_fmt(why, whylen, "%s", S.why);
		return SD_ERR_UNSUPPORTED;
	}
	SSL_CTX *ctx = S.SSL_CTX_new(S.TLS_client_method());
	if (!ctx)
		return SD_ERR_NOMEM;
	S.SSL_CTX_set_security_level(ctx, 0);
	int rc = SD_OK;
	if (!S.SSL_CTX_set_cipher_list(ctx, list)) {
		sdi_fmt(why, whylen, "OpenSSL takes no suite from '%.60s'", list);
		rc = SD_ERR_ARG;
	} else {
		STACK_OF(SSL_CIPHER) *sk = S.SSL_CTX_get_ciphers(ctx);
		int k = sk ? S.OPENSSL_sk_num((const OPENSSL_STACK *)sk) : 0;
		for (int i = 0; i < k && *n < max; i++) {
			const SSL_CIPHER *ci = S.OPENSSL_sk_value((const OPENSSL_STACK *)sk, i);
			uint16_t id = S.SSL_CIPHER_get_protocol_id(ci);
			if (id >> 8 != 0x13) /* the TLS 1.3 suites ride along; they are set apart */
				out[(*n)++] = id;
		}
	}
	S.ERR_clear_error();
	S.SSL_CTX_free(ctx);
	return rc;
}

#else /* !SD_WITH_LIBCRYPTO */

int sdi_tls_expand_ciphers(const char *list, uint16_t *out, size_t max, size_t *n, char *why, size_t whylen)
{
	(void)list;
	(void)out;
	(void)max;
	*n = 0;
	sdi_fmt(why, whylen, "built without OpenSSL (SD_WITH_LIBCRYPTO=OFF)");
	return SD_ERR_UNSUPPORTED;
}

int sd_tls_cert_check(const sd_tls_cert_cfg *cfg, sd_tls_cert *c, char *why, size_t whylen)
{
	(void)cfg;
	(void)c;
	if (why && whylen)
		sdi_fmt(why, whylen, "built without OpenSSL (SD_WITH_LIBCRYPTO=OFF)");
	return SD_ERR_UNSUPPORTED;
}

#endif

/* ---- the findings ------------------------------------------------------- */

/* X509_V_ERR_* codes, spelled here so that this part builds without OpenSSL */
enum {
	V_UNABLE_TO_GET_ISSUER = 2, V_NOT_YET_VALID = 9, V_EXPIRED = 10, V_SELF_SIGNED = 18,
	V_SELF_SIGNED_IN_CHAIN = 19, V_NO_LOCAL_ISSUER = 20, V_UNABLE_TO_VERIFY_LEAF = 21,
	V_HOSTNAME = 62, V_IP = 64, V_EE_KEY_SMALL = 66, V_CA_KEY_SMALL = 67, V_CA_MD_WEAK = 68,
};

static sd_cause cause_of(int err, const sd_tls_cert *c)
{
	switch (err) {
	case V_EXPIRED:
		return SD_CAUSE_CERT_EXPIRED;
	case V_NOT_YET_VALID:
		return SD_CAUSE_CERT_NOT_YET_VALID;
	case V_HOSTNAME:
	case V_IP:
		return SD_CAUSE_CERT_HOSTNAME;
	case V_EE_KEY_SMALL:
	case V_CA_KEY_SMALL:
	case V_CA_MD_WEAK:
		return SD_CAUSE_CERT_WEAK;
	case V_UNABLE_TO_GET_ISSUER:
	case V_NO_LOCAL_ISSUER:
	case V_UNABLE_TO_VERIFY_LEAF:
		/* only the server's own certificate came, and it is no CA:
		 * what is missing sits between it and a root */
		return c->nchain == 1 && !c->is_ca && !c->self_signed ? SD_CAUSE_CERT_INCOMPLETE_CHAIN
								      : SD_CAUSE_CERT_UNTRUSTED;
	default:
		return SD_CAUSE_CERT_UNTRUSTED;
	}
}

static unsigned level_bits(int level)
{
	static const unsigned bits[] = { 0, 80, 112, 128, 192, 256 };
	return level >= 0 && level <= 5 ? bits[level] : 112;
}

/* Issuer names that say an inspecting proxy or antivirus made the chain. */
static const char *interceptor(const sd_tls_cert *c)
{
	static const char *const words[] = {
		"Fortinet", "FortiGate", "Zscaler", "Palo Alto", "Sophos", "Kaspersky", "Avast", "AVG ",
		"ESET", "Bitdefender", "Blue Coat", "BlueCoat", "Netskope", "Cisco Umbrella", "mitmproxy",
		"Charles Proxy", "Fiddler", "DO_NOT_TRUST", "PortSwigger", "Untangle", "Forcepoint",
		"Barracuda", "McAfee", "Check Point", "WatchGuard", "SonicWall", "Menlo Security",
		"Cloudflare Gateway", "Securly", "Lightspeed", "GoGuardian", "Smoothwall", "iboss",
	};
	const char *names[] = { c->issuer, c->top_subject, c->top_issuer };
	for (size_t k = 0; k < SDI_ARRAY_LEN(names); k++)
		for (size_t i = 0; i < SDI_ARRAY_LEN(words); i++)
			if (strstr(names[k], words[i]))
				return words[i];
	return NULL;
}

/* What the clients on this machine print for a verification error: they
 * use this OpenSSL, so they meet the errors in the same order and stop at
 * the first. The words are OpenSSL's (X509_verify_cert_error_string);
 * the frames are curl's, Python's and s_client's, as recorded in
 * tests/cli/tls_cert.sh. */
static void quote_clients(sd_finding *f, const sd_tls_cert *c, size_t i)
{
	if (c->err[i] == V_HOSTNAME || c->err[i] == V_IP) {
		sd_finding_detail(f, "curl fails: curl: (60) SSL: no alternative certificate subject name matches target host name '%s'",
				  c->name);
		sd_finding_detail(f, "Python ssl fails: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s mismatch, certificate is not valid for '%s'.",
				  c->err[i] == V_IP ? "IP address" : "Hostname", c->name);
	} else {
		sd_finding_detail(f, "curl fails: curl: (60) SSL certificate problem: %s", c->err_text[i]);
		sd_finding_detail(f, "Python ssl fails: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: %s",
				  c->err_text[i]);
	}
	sd_finding_detail(f, "openssl s_client says: verify error:num=%d:%s", c->err[i], c->err_text[i]);
}

static void cert_finding(sd_report *rep, const sd_tls_cert *c, size_t i, float conf)
{
	sd_cause cause = cause_of(c->err[i], c);
	int again = sd_diag_find(&rep->diag, cause) != NULL;
	sd_finding *f = sd_diag_add(&rep->diag, cause, conf);
	if (!f)
		return;
	if (again) { /* a second error of the same kind: one more line */
		sd_finding_detail(f, "also at depth %d: %s (X509 error %d)", c->err_depth[i], c->err_text[i], c->err[i]);
		return;
	}
	unsigned need = level_bits(c->level);
	switch (cause) {
	case SD_CAUSE_CERT_EXPIRED:
		sd_finding_summary(f, "the certificate of %s expired %ld day%s ago (notAfter %s)", c->subject,
				   -c->days_left, c->days_left == -1 ? "" : "s", c->not_after);
		sd_finding_fix(f, "renew the certificate (certbot renew, or a new one from the CA) and reload the server; check that the server reads the renewed file");
		break;
	case SD_CAUSE_CERT_NOT_YET_VALID:
		sd_finding_summary(f, "the certificate of %s is valid only from %s, in %ld day%s (check the clocks)",
				   c->subject, c->not_before, c->days_to_start, c->days_to_start == 1 ? "" : "s");
		sd_finding_fix(f, "check the clocks of server and client (timedatectl); or reissue the certificate with a start date in the past");
		break;
	case SD_CAUSE_CERT_HOSTNAME:
		sd_finding_summary(f, "the certificate names %s, not %s (the name the client checks)",
				   c->san[0] ? c->san : c->subject, c->name);
		/* an address is matched against IP entries, not DNS ones */
		sd_finding_fix(f, "connect with a name the certificate lists, or reissue it with subjectAltName=%s:%s (openssl req -addext)",
			       strchr(c->name, ':') || strspn(c->name, "0123456789.") == strlen(c->name) ? "IP" : "DNS",
			       c->name);
		break;
	case SD_CAUSE_CERT_INCOMPLETE_CHAIN:
		sd_finding_summary(f, "the server sent only its own certificate (%s); its issuer %s is neither sent nor trusted: the intermediate is missing",
				   c->subject, c->issuer);
		sd_finding_detail(f, "trust: %s; if %s is a private CA rather than an intermediate, the client lacks it (--ca FILE)",
				  c->trust, c->issuer);
		sd_finding_fix(f, "send the chain: nginx ssl_certificate = the leaf followed by the intermediates (fullchain.pem); Apache SSLCertificateFile the same; openssl s_server -cert_chain FILE");
		break;
	case SD_CAUSE_CERT_WEAK:
		sd_finding_summary(f, "the certificate's %s-%d key (%d security bits) or %s signature is below OpenSSL security level %d (%u bits; SHA-1 and MD5 are refused from level 1 on)",
				   c->key, c->key_bits, c->key_security_bits, c->sigalg, c->level, need);
		sd_finding_fix(f, "reissue with an RSA-2048 or ECDSA P-256 key and SHA-256 (openssl req -newkey rsa:2048 -sha256); a client can only lower its level (OpenSSL @SECLEVEL=%d)",
			       c->level > 0 ? c->level - 1 : 0);
		break;
	default:
		if (c->err[i] == V_SELF_SIGNED)
			sd_finding_summary(f, "the certificate %s is self-signed: no client trusts it unless given it (%s does not hold it)",
					   c->subject, c->trust);
		else
			sd_finding_summary(f, "the chain the server sent ends at %s, issued by %s, which %s does not hold (%s)",
					   c->top_subject, c->top_issuer, c->trust, c->err_text[i]);
		sd_finding_fix(f, "use a certificate from a CA the clients trust, or give the client that CA (curl --cacert FILE, Python cafile= or SSL_CERT_FILE, shakedown tls --ca FILE)");
		break;
	}
	if (i == 0)
		quote_clients(f, c, i);
	else
		sd_finding_detail(f, "clients that verify stop at an earlier error (%s); this one is met after it", c->err_text[0]);
	sd_finding_detail(f, "X509 error %d at depth %d: %s", c->err[i], c->err_depth[i], c->err_text[i]);
}

int sdi_tls_cert_read(sd_tls_scan *sc, const sd_tls_diag_cfg *cfg, uint16_t version, char *why, size_t whylen)
{
	sd_tls_cert_cfg cc = {
		.host = cfg->scan.host, .port = cfg->scan.port, .sni = cfg->scan.enm.sni, .name = cfg->name,
		.ca_file = cfg->ca_file, .version = version, .level = -1, .clock = cfg->scan.clock,
		.tap = cfg->scan.tap, .tap_name = cfg->scan.tap_name, .starttls = cfg->scan.starttls,
	};
	return sd_tls_cert_check(&cc, sdi_tls_scan_cert_slot(sc), why, whylen);
}

/* The highest version the enumeration found (0 = none). */
uint16_t sdi_tls_best_version(const sd_tls_scan *sc)
{
	static const uint16_t order[] = { SD_TLS_TLS13, SD_TLS_TLS12, SD_TLS_TLS11, SD_TLS_TLS10 };
	const sd_tls_enum *e = sd_tls_scan_enum(sc);
	for (size_t i = 0; i < SDI_ARRAY_LEN(order); i++) {
		const sd_tls_vresult *v = sd_tls_enum_result(e, order[i]);
		if (v && v->supported)
			return order[i];
	}
	return 0;
}

void sdi_tls_cert_findings(sd_tls_scan *sc, int rc, const char *why, sd_report *rep)
{
	const sd_tls_cert *c = sd_tls_scan_cert(sc);
	if (!c || !sdi_tls_best_version(sc))
		return;
	if (rc < 0) {
		sd_report_fact(rep, "cert", "not read: %s", why && why[0] ? why : sd_strerror(rc));
		return;
	}
	if (!c->got) {
		sd_report_fact(rep, "cert", "no certificate came: the handshake failed (%s)", c->handshake_error);
		return;
	}
	sd_report_fact(rep, "cert_handshake", "%s, %s", sd_tls_version_name(c->version), c->suite);
	sd_report_fact(rep, "cert_subject", "%s", c->subject);
	sd_report_fact(rep, "cert_issuer", "%s", c->issuer);
	sd_report_fact(rep, "cert_not_before", "%s", c->not_before);
	sd_report_fact(rep, "cert_not_after", "%s", c->not_after);
	sd_report_fact(rep, "cert_days_left", "%ld", c->days_left);
	sd_report_fact(rep, "cert_san", "%s", c->san[0] ? c->san : "(none)");
	sd_report_fact(rep, "cert_key", "%s %d bits", c->key, c->key_bits);
	sd_report_fact(rep, "cert_signature", "%s", c->sigalg);
	sd_report_fact(rep, "cert_chain", "%zu certificate%s sent, ending at %s issued by %s", c->nchain,
		       c->nchain == 1 ? "" : "s", c->top_subject, c->top_issuer);
	sd_report_fact(rep, "cert_checked_as", "name %s, trust %s, OpenSSL security level %d", c->name, c->trust,
		       c->level);
	sd_report_fact(rep, "cert_ocsp", "%s", c->ocsp);
	if (c->ocsp_sig == SD_TLS_OCSP_SIG_VALID)
		sd_report_fact(rep, "cert_ocsp_signature", "valid (signed by %s)", c->ocsp_signer);
	else if (c->ocsp_sig == SD_TLS_OCSP_SIG_INVALID)
		sd_report_fact(rep, "cert_ocsp_signature", "INVALID: %s%s%s%s", c->ocsp_sig_error,
			       c->ocsp_signer[0] ? " (its signer names itself " : "", c->ocsp_signer,
			       c->ocsp_signer[0] ? ")" : "");
	if (c->ocsp_sig == SD_TLS_OCSP_SIG_INVALID) {
		sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_OCSP_STAPLE_INVALID, 0.9f);
		if (f) {
			sd_finding_summary(f, "the server staples an OCSP response that does not verify: %s%s%s%s",
					   c->ocsp_sig_error, c->ocsp_signer[0] ? " (its signer names itself " : "",
					   c->ocsp_signer, c->ocsp_signer[0] ? ")" : "");
			sd_finding_detail(f, "the staple: %s", c->ocsp);
			sd_finding_detail(f, "checked with OCSP_basic_verify against the %zu certificate%s the server sent and %s",
					  c->nchain, c->nchain == 1 ? "" : "s", c->trust);
			sd_finding_fix(f, "staple the CA responder's own answer (nginx: ssl_stapling on, ssl_stapling_verify on, "
				       "ssl_trusted_certificate), not a file signed by another key");
		}
		rep->ok = 0;
		sd_diag_drop(&rep->diag, SD_CAUSE_OK);
	} else if (c->ocsp_stale) {
		sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_OCSP_STAPLE_INVALID, 0.8f);
		if (f) {
			sd_finding_summary(f, "the server staples an OCSP response that is out of date: %s", c->ocsp);
			sd_finding_fix(f, "the server must fetch fresh responses (nginx refreshes them itself with ssl_stapling on; "
				       "a file given by hand goes stale at its nextUpdate)");
		}
		rep->ok = 0;
		sd_diag_drop(&rep->diag, SD_CAUSE_OK);
	}
	if (c->ocsp_revoked) {
		sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_CERT_UNTRUSTED, 0.96f);
		if (f) {
			sd_finding_summary(f, "the server staples an OCSP response that says its certificate is revoked: %s", c->ocsp);
			sd_finding_fix(f, "replace the certificate: a revoked one is refused by every client that checks");
		}
		rep->ok = 0;
		sd_diag_drop(&rep->diag, SD_CAUSE_OK);
	}
	if (c->nerr)
		sd_report_fact(rep, "cert_verify", "%s (X509 error %d; %zu error%s in all)", c->err_text[0], c->err[0],
			       c->nerr, c->nerr == 1 ? "" : "s");
	else
		sd_report_fact(rep, "cert_verify", "ok");
	if (c->client_cert_refused) {
		sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_CLIENT_CERT_REQUIRED, 0.93f);
		if (f) {
			sd_finding_summary(f, "the server requires a client certificate: it asked for one (CertificateRequest) and ended the handshake without it (%s)",
					   c->handshake_error);
			sd_finding_fix(f, "give the client its certificate and key (curl --cert FILE --key FILE; openssl s_client -cert -key; Python load_cert_chain), or make it optional on the server (nginx ssl_verify_client optional)");
		}
		rep->ok = 0;
	} else if (c->client_cert_asked) {
		sd_report_fact(rep, "client_cert", "asked for, not required (the handshake went on without one)");
	}
	const char *icp = interceptor(c);
	if (icp) {
		sd_finding *f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_INTERCEPTION, 0.9f);
		if (f) {
			sd_finding_summary(f, "the chain was issued by %s (%s): an inspecting proxy or antivirus answers in the server's place",
					   c->top_issuer[0] ? c->top_issuer : c->issuer, icp);
			sd_finding_fix(f, "compare with the certificate seen from another network; add the proxy's CA to the client's store knowingly, or have the proxy bypass this host");
			sd_finding_detail(f, "certificate %s, issuer %s; chain ends at %s, issued by %s", c->subject,
					  c->issuer, c->top_subject, c->top_issuer);
		}
	}
	for (size_t i = 0; i < c->nerr; i++)
		cert_finding(rep, c, i, i == 0 ? 0.95f : 0.9f - 0.01f * (float)i);
	if (c->nerr || icp || c->client_cert_refused) {
		rep->ok = 0;
		sd_diag_drop(&rep->diag, SD_CAUSE_OK);
	}
	sd_diag_sort(&rep->diag);
}
