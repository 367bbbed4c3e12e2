/*
 * shakedown — client fit: from what the enumeration found (no new
 * connection), would this client get through, and if not, the exact
 * mismatch and the smallest change, in the words of that side's
 * configuration. Profiles are data (tls_clients.def), each with its source.
 */
#include "internal.h"
#include "proto/tls_wire.h"

typedef struct profile {
	const char *name, *source;
	unsigned    versions;
	const char *cipher_string, *suites, *suites13, *groups;
	int         level, sni;
	int         min_rsa, min_ec, min_dh;
	unsigned    hashes;
	const char *cert_source;
} profile;

static const profile profiles[] = {
#define CLIENT(n, src, v, cs, su, su13, gr, lvl, sni, rsa, ec, dh, hs, csrc) \
	{ n, src, v, cs, su, su13, gr, lvl, sni, rsa, ec, dh, hs, csrc },
#include "tls_clients.def"
#undef CLIENT
};

const char *sd_tls_client_profile_name(size_t i)
{
	return i < SDI_ARRAY_LEN(profiles) ? profiles[i].name : NULL;
}

/* ---- names ---------------------------------------------------------------- */

static int suite_by_openssl(const char *name, size_t n, uint16_t *id)
{
	for (size_t i = 0; i < sd_tls_suite_count(); i++) {
		const sd_tls_suite *s = sd_tls_suite_at(i);
		const char *on = s->openssl, *in = s->iana;
		if ((on && strlen(on) == n && memcmp(on, name, n) == 0) ||
		    (in && strlen(in) == n && memcmp(in, name, n) == 0)) {
			*id = s->id;
			return 0;
		}
	}
	return -1;
}

static int group_by_name(const char *name, size_t n, uint16_t *id)
{
	static const struct { const char *alias; uint16_t id; } aliases[] = {
		{ "P-256", 23 }, { "prime256v1", 23 }, { "P-384", 24 }, { "P-521", 25 },
		{ "X25519", 29 }, { "X448", 30 },
	};
	for (size_t i = 0; i < SDI_ARRAY_LEN(aliases); i++)
		if (strlen(aliases[i].alias) == n && memcmp(aliases[i].alias, name, n) == 0) {
			*id = aliases[i].id;
			return 0;
		}
	for (unsigned g = 1; g < 0x0200; g++) {
		const char *gn = sd_tls_group_name((uint16_t)g);
		if (gn && strlen(gn) == n && memcmp(gn, name, n) == 0) {
			*id = (uint16_t)g;
			return 0;
		}
	}
	return -1;
}

static const struct { const char *name; uint16_t id; } sigalgs[] = {
	{ "rsa_pkcs1_sha256", 0x0401 }, { "rsa_pkcs1_sha384", 0x0501 }, { "rsa_pkcs1_sha512", 0x0601 },
	{ "ecdsa_secp256r1_sha256", 0x0403 }, { "ecdsa_secp384r1_sha384", 0x0503 },
	{ "ecdsa_secp521r1_sha512", 0x0603 }, { "rsa_pss_rsae_sha256", 0x0804 },
	{ "rsa_pss_rsae_sha384", 0x0805 }, { "rsa_pss_rsae_sha512", 0x0806 }, { "ed25519", 0x0807 },
	{ "ed448", 0x0808 }, { "rsa_pss_pss_sha256", 0x0809 }, { "rsa_pss_pss_sha384", 0x080a },
	{ "rsa_pss_pss_sha512", 0x080b }, { "rsa_pkcs1_sha1", 0x0201 }, { "ecdsa_sha1", 0x0203 },
	/* OpenSSL's spellings */
	{ "RSA+SHA256", 0x0401 }, { "RSA+SHA384", 0x0501 }, { "RSA+SHA512", 0x0601 },
	{ "ECDSA+SHA256", 0x0403 }, { "ECDSA+SHA384", 0x0503 }, { "ECDSA+SHA512", 0x0603 },
	{ "RSA-PSS+SHA256", 0x0804 }, { "RSA-PSS+SHA384", 0x0805 }, { "RSA-PSS+SHA512", 0x0806 },
	{ "RSA+SHA1", 0x0201 }, { "ECDSA+SHA1", 0x0203 },
};

/* Walk a ':' or ',' separated list: each item to fn; -1 at the first it refuses. */
static int each_item(const char *list, int (*fn)(void *, const char *, size_t), void *ctx)
{
	const char *p = list;
	while (p && *p) {
		size_t n = strcspn(p, ":,");
		if (n && fn(ctx, p, n) < 0)
			return -1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

typedef struct acc {
	uint16_t *out;
	size_t    max, *n;
	uint16_t *out13;
	size_t    max13, *n13;
	char      bad[64];
} acc;

static int add_suite(void *vctx, const char *name, size_t n)
{
	acc *a = vctx;
	uint16_t id;
	if (suite_by_openssl(name, n, &id) < 0) {
		sdi_fmt(a->bad, sizeof a->bad, "%.*s", (int)SDI_MIN(n, 60u), name);
		return -1;
	}
	if (id >> 8 == 0x13 && a->out13) {
		if (*a->n13 < a->max13)
			a->out13[(*a->n13)++] = id;
	} else if (*a->n < a->max) {
		a->out[(*a->n)++] = id;
	}
	return 0;
}

static int add_group(void *vctx, const char *name, size_t n)
{
	acc *a = vctx;
	uint16_t id;
	if (group_by_name(name, n, &id) < 0) {
		sdi_fmt(a->bad, sizeof a->bad, "%.*s", (int)SDI_MIN(n, 60u), name);
		return -1;
	}
	if (*a->n < a->max)
		a->out[(*a->n)++] = id;
	return 0;
}

static int add_sigalg(void *vctx, const char *name, size_t n)
{
	acc *a = vctx;
	for (size_t i = 0; i < SDI_ARRAY_LEN(sigalgs); i++)
		if (strlen(sigalgs[i].name) == n && memcmp(sigalgs[i].name, name, n) == 0) {
			if (*a->n < a->max)
				a->out[(*a->n)++] = sigalgs[i].id;
			return 0;
		}
	sdi_fmt(a->bad, sizeof a->bad, "%.*s", (int)SDI_MIN(n, 60u), name);
	return -1;
}

static int version_bit(const char *v, size_t n)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "ssl3", 0 }, { "1.0", 1 }, { "1.1", 2 }, { "1.2", 3 }, { "1.3", 4 },
		{ "tls1.0", 1 }, { "tls1.1", 2 }, { "tls1.2", 3 }, { "tls1.3", 4 },
	};
	for (size_t i = 0; i < SDI_ARRAY_LEN(names); i++)
		if (strlen(names[i].name) == n && memcmp(names[i].name, v, n) == 0)
			return (int)names[i].bit;
	return -1;
}

static int add_version(void *vctx, const char *name, size_t n)
{
	unsigned *mask = vctx;
	int b = version_bit(name, n);
	if (b < 0)
		return -1;
	*mask |= 1u << b;
	return 0;
}

int sd_tls_client_set(sd_tls_client *c, const char *what, const char *value, char *why, size_t whylen)
{
	if (!c || !what || !value)
		return SD_ERR_ARG;
	if (strlen(value) > 2000) {
		sdi_fmt(why, whylen, "--client-%s is too long", what);
		return SD_ERR_ARG;
	}
	acc a = { 0 };
	if (strcmp(what, "versions") == 0) {
		unsigned mask = 0;
		if (each_item(value, add_version, &mask) < 0 || !mask) {
			sdi_fmt(why, whylen, "--client-versions takes ssl3,1.0,1.1,1.2,1.3, not '%.60s'", value);
			return SD_ERR_ARG;
		}
		c->versions = mask;
	} else if (strcmp(what, "ciphers") == 0) {
		size_t n = 0, n13 = 0;
		uint16_t s[SD_TLS_MAX_OFFER], s13[8];
		a = (acc){ .out = s, .max = SDI_ARRAY_LEN(s), .n = &n, .out13 = s13, .max13 = 8, .n13 = &n13 };
		if (each_item(value, add_suite, &a) < 0) {
			/* not a plain list of names: OpenSSL's cipher-string language */
			n = n13 = 0;
			int rc = sdi_tls_expand_ciphers(value, s, SDI_ARRAY_LEN(s), &n, why, whylen);
			if (rc < 0)
				return rc;
		}
		if (n) {
			memcpy(c->suites, s, n * sizeof s[0]);
			c->nsuites = n;
		}
		if (n13) {
			memcpy(c->suites13, s13, n13 * sizeof s13[0]);
			c->nsuites13 = n13;
		}
		sdi_fmt(c->cipher_words, sizeof c->cipher_words, "%s", value);
	} else if (strcmp(what, "groups") == 0) {
		size_t n = 0;
		a = (acc){ .out = c->groups, .max = SD_TLS_MAX_GROUPS, .n = &n };
		if (each_item(value, add_group, &a) < 0 || !n) {
			sdi_fmt(why, whylen, "--client-groups: unknown group '%s' (x25519, P-256 or secp256r1, ffdhe2048 ...)",
				a.bad);
			return SD_ERR_ARG;
		}
		c->ngroups = n;
	} else if (strcmp(what, "sigalgs") == 0) {
		size_t n = 0;
		a = (acc){ .out = c->sigalgs, .max = SDI_ARRAY_LEN(c->sigalgs), .n = &n };
		if (each_item(value, add_sigalg, &a) < 0 || !n) {
			sdi_fmt(why, whylen, "--client-sigalgs: unknown signature scheme '%s' (rsa_pss_rsae_sha256, ecdsa_secp256r1_sha256, RSA+SHA256 ...)",
				a.bad);
			return SD_ERR_ARG;
		}
		c->nsigalgs = n;
	} else {
		sdi_fmt(why, whylen, "no client setting '%s'", what);
		return SD_ERR_ARG;
	}
	return SD_OK;
}

int sd_tls_client_profile(const char *name, sd_tls_client *c, char *why, size_t whylen)
{
	if (!name || !c)
		return SD_ERR_ARG;
	const profile *p = NULL;
	for (size_t i = 0; i < SDI_ARRAY_LEN(profiles) && !p; i++)
		if (strcmp(profiles[i].name, name) == 0)
			p = &profiles[i];
	if (!p) {
		char names[200] = "";
		for (size_t i = 0; i < SDI_ARRAY_LEN(profiles); i++)
			sdi_append(names, sizeof names, "%s%s", i ? ", " : "", profiles[i].name);
		sdi_fmt(why, whylen, "no client profile '%.40s' (profiles: %s)", name, names);
		return SD_ERR_ARG;
	}
	memset(c, 0, sizeof *c);
	sdi_fmt(c->name, sizeof c->name, "%s", p->name);
	sdi_fmt(c->source, sizeof c->source, "%s", p->source);
	c->versions = p->versions;
	c->level = p->level;
	c->sni = p->sni;
	c->min_rsa_bits = p->min_rsa;
	c->min_ec_bits = p->min_ec;
	c->min_dh_bits = p->min_dh;
	c->refused_hashes = p->hashes;
	sdi_fmt(c->cert_source, sizeof c->cert_source, "%s", p->cert_source);
	acc a = { 0 };
	size_t n = 0, n13 = 0;
	if (p->cipher_string) {
		int rc = sdi_tls_expand_ciphers(p->cipher_string, c->suites, SD_TLS_MAX_OFFER, &n, why, whylen);
		if (rc < 0)
			return rc;
		sdi_fmt(c->cipher_words, sizeof c->cipher_words, "%s", p->cipher_string);
	} else {
		a = (acc){ .out = c->suites, .max = SD_TLS_MAX_OFFER, .n = &n };
		if (each_item(p->suites, add_suite, &a) < 0) {
			sdi_fmt(why, whylen, "profile %s: unknown suite %s", p->name, a.bad);
			return SD_ERR_PROTO;
		}
	}
	c->nsuites = n;
	a = (acc){ .out = c->suites13, .max = 8, .n = &n13 };
	if (each_item(p->suites13, add_suite, &a) < 0) {
		sdi_fmt(why, whylen, "profile %s: unknown suite %s", p->name, a.bad);
		return SD_ERR_PROTO;
	}
	c->nsuites13 = n13;
	n = 0;
	a = (acc){ .out = c->groups, .max = SD_TLS_MAX_GROUPS, .n = &n };
	if (each_item(p->groups, add_group, &a) < 0) {
		sdi_fmt(why, whylen, "profile %s: unknown group %s", p->name, a.bad);
		return SD_ERR_PROTO;
	}
	c->ngroups = n;
	return SD_OK;
}


/* ---- the fit -------------------------------------------------------------- */

static int has(const uint16_t *l, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == x)
			return 1;
	return 0;
}

static const char *iana(uint16_t id)
{
	const sd_tls_suite *s = sd_tls_suite_find(id);
	return s ? s->iana : "?";
}

static const char *osl(uint16_t id)
{
	const sd_tls_suite *s = sd_tls_suite_find(id);
	return s && s->openssl ? s->openssl : s ? s->iana : "?";
}

static int needs_group(uint16_t suite, uint16_t version)
{
	return version == SD_TLS_TLS13 || strncmp(iana(suite), "TLS_ECDHE_", 10) == 0;
}

static int signs_kx(uint16_t suite)
{
	const char *n = iana(suite);
	return strncmp(n, "TLS_ECDHE_", 10) == 0 || strncmp(n, "TLS_DHE_", 8) == 0;
}

/* the suite's authentication fits the certificate's key */
static int auth_fits(uint16_t suite, const sd_tls_cert *cert)
{
	if (!cert || !cert->got)
		return 1;
	const char *n = iana(suite);
	if (strstr(n, "_ECDSA_"))
		return strcmp(cert->key, "EC") == 0;
	if (strstr(n, "_RSA_") || strncmp(n, "TLS_RSA_", 8) == 0)
		return strcmp(cert->key, "RSA") == 0;
	return 1;
}

static const char *ossl_group(uint16_t g)
{
	switch (g) {
	case 23: return "prime256v1";
	case 24: return "secp384r1";
	case 25: return "secp521r1";
	case 29: return "X25519";
	case 30: return "X448";
	default: return sd_tls_group_name(g) ? sd_tls_group_name(g) : "?";
	}
}

static const char *nginx_version(uint16_t v)
{
	switch (v) {
	case SD_TLS_TLS10: return "TLSv1";
	case SD_TLS_TLS11: return "TLSv1.1";
	case SD_TLS_TLS12: return "TLSv1.2";
	case SD_TLS_TLS13: return "TLSv1.3";
	default: return "SSLv3";
	}
}

static int sigalg_fits(const sd_tls_client *c, const sd_tls_cert *cert, uint16_t version)
{
	if (!c->nsigalgs || !cert || !cert->got)
		return 1;
	for (size_t i = 0; i < c->nsigalgs; i++) {
		uint16_t s = c->sigalgs[i];
		int rsa_pkcs1 = (s & 0xff) == 0x01, ecdsa = (s & 0xff) == 0x03;
		int pss_rsae = s >= 0x0804 && s <= 0x0806;
		if (strcmp(cert->key, "RSA") == 0 && (pss_rsae || (rsa_pkcs1 && version < SD_TLS_TLS13)))
			return 1;
		if (strcmp(cert->key, "EC") == 0 && ecdsa)
			return 1;
		if (strcmp(cert->key, "ED25519") == 0 && s == 0x0807)
			return 1;
	}
	return 0;
}

/* ---- the certificate by the client's own policy ------------------------ */

/* X509_V_ERR_EE_KEY_TOO_SMALL, _CA_KEY_TOO_SMALL, _CA_MD_TOO_WEAK: the
 * errors that depend on the level the chain was checked at */
static int level_error(int e)
{
	return e == 66 || e == 67 || e == 68;
}

/* The hash of a signature algorithm by OpenSSL's long name
 * ("sha1WithRSAEncryption", "ecdsa-with-SHA1", "md5WithRSAEncryption"). */
static unsigned sig_hash(const char *sigalg)
{
	char low[64];
	size_t i;
	for (i = 0; sigalg[i] && i + 1 < sizeof low; i++)
		low[i] = (char)(sigalg[i] >= 'A' && sigalg[i] <= 'Z' ? sigalg[i] - 'A' + 'a' : sigalg[i]);
	low[i] = '\0';
	if (strstr(low, "md2"))
		return SD_TLS_HASH_MD2;
	if (strstr(low, "md5"))
		return SD_TLS_HASH_MD5;
	if (strstr(low, "sha1"))
		return SD_TLS_HASH_SHA1;
	return 0;
}

static const char *hash_name(unsigned h)
{
	return h == SD_TLS_HASH_MD2 ? "MD2" : h == SD_TLS_HASH_MD5 ? "MD5" : "SHA-1";
}

/* "RSA >= 2048 bits, EC >= 224 bits, MD2/MD5/SHA-1 signatures refused" */
static void policy_words(const sd_tls_client *c, char *out, size_t len)
{
	out[0] = '\0';
	if (c->min_rsa_bits)
		sdi_append(out, len, "RSA >= %d", c->min_rsa_bits);
	if (c->min_ec_bits)
		sdi_append(out, len, "%sEC >= %d", out[0] ? ", " : "", c->min_ec_bits);
	if (c->refused_hashes) {
		sdi_append(out, len, "%sno ", out[0] ? ", " : "");
		const char *sep = "";
		static const unsigned hs[] = { SD_TLS_HASH_MD2, SD_TLS_HASH_MD5, SD_TLS_HASH_SHA1 };
		for (size_t i = 0; i < SDI_ARRAY_LEN(hs); i++)
			if (c->refused_hashes & hs[i]) {
				sdi_append(out, len, "%s%s", sep, hash_name(hs[i]));
				sep = "/";
			}
		if (c->refused_hashes & SD_TLS_HASH_SHA1_PUBLIC)
			sdi_append(out, len, "%sSHA-1 under a public root", sep);
		sdi_append(out, len, " signatures");
	}
	if (!out[0])
		sdi_fmt(out, len, "no key size or signature rule");
}

/* The RSA minimum of an OpenSSL security level (SSL_CTX_set_security_level(3)). */
static int level_rsa(int level)
{
	static const int bits[] = { 0, 1024, 2048, 3072, 7680, 15360 };
	return level >= 0 && level <= 5 ? bits[level] : 2048;
}

/* Would c accept the chain? Errors of dates, name and trust stop every
 * client; the key size and the signature hash are judged from the
 * certificate's own fields by c's rules, not by the level of the check. */
static int cert_fits(const sd_tls_client *c, const sd_tls_cert *cert, uint16_t best, uint16_t pick, sd_tls_fit *f)
{
	char rule[160];
	policy_words(c, rule, sizeof rule);
	for (size_t i = 0; i < cert->nerr; i++) {
		if (level_error(cert->err[i]))
			continue;
		f->cause = SD_CAUSE_CERT_UNTRUSTED;
		sdi_fmt(f->why, sizeof f->why, "it gets through %s with %s, then refuses the certificate: %s",
			sd_tls_version_name(best), osl(pick), cert->err_text[i]);
		sdi_fmt(f->fix, sizeof f->fix, "see the certificate finding ranked above");
		sdi_fmt(f->client_says, sizeof f->client_says, "certificate verify failed: %s", cert->err_text[i]);
		sdi_fmt(f->cert, sizeof f->cert, "X509 error %d at depth %d: %s (every verifying client)", cert->err[i],
			cert->err_depth[i], cert->err_text[i]);
		return 0;
	}
	int rsa = strcmp(cert->key, "RSA") == 0 || strcmp(cert->key, "DSA") == 0;
	int ec = strcmp(cert->key, "EC") == 0;
	unsigned h = sig_hash(cert->sigalg);
	/* verified against the system's store (tls_cert.c's words), not a --ca file */
	int public_root = strcmp(cert->trust, "the system's trust store") == 0;
	unsigned refused = c->refused_hashes;
	if ((refused & SD_TLS_HASH_SHA1_PUBLIC) && public_root)
		refused |= SD_TLS_HASH_SHA1;
	char fields[120];
	sdi_fmt(fields, sizeof fields, "%s-%d key, %s signature", cert->key, cert->key_bits, cert->sigalg);
	int err = 0;
	char what[120] = "";
	if ((rsa && c->min_rsa_bits && cert->key_bits < c->min_rsa_bits) ||
	    (ec && c->min_ec_bits && cert->key_bits < c->min_ec_bits)) {
		err = 66; /* EE certificate key too weak */
		sdi_fmt(what, sizeof what, "its %s-%d key is below the %d bits it requires", cert->key, cert->key_bits,
			rsa ? c->min_rsa_bits : c->min_ec_bits);
	} else if (h & refused) {
		err = 68; /* CA signature digest algorithm too weak */
		sdi_fmt(what, sizeof what, "it is signed with %s (%s), which it refuses%s", hash_name(h), cert->sigalg,
			(c->refused_hashes & SD_TLS_HASH_SHA1_PUBLIC) && h == SD_TLS_HASH_SHA1 ? " under a public root" : "");
	}
	if (err) {
		f->cause = SD_CAUSE_CERT_WEAK;
		sdi_fmt(f->why, sizeof f->why, "it gets through %s with %s, then refuses the certificate: %s",
			sd_tls_version_name(best), osl(pick), what);
		if (err == 66)
			sdi_fmt(f->cert, sizeof f->cert, "refuses the %s-%d key (rule: %s)", cert->key, cert->key_bits, rule);
		else
			sdi_fmt(f->cert, sizeof f->cert, "refuses the %s signature (rule: %s)", cert->sigalg, rule);
		if (c->level >= 0) {
			int lower = err == 66 ? (cert->key_bits >= 1024 ? 1 : 0) : 0;
			sdi_fmt(f->client_says, sizeof f->client_says, "certificate verify failed: %s",
				err == 66 ? "EE certificate key too weak" : "CA signature digest algorithm too weak");
			sdi_fmt(f->fix, sizeof f->fix, "server: reissue with an RSA-2048 or ECDSA P-256 key and SHA-256 (openssl req -newkey rsa:2048 -sha256); or client: openssl s_client -cipher 'DEFAULT:@SECLEVEL=%d' / curl --ciphers 'DEFAULT:@SECLEVEL=%d'",
				lower, lower);
		} else {
			sdi_fmt(f->fix, sizeof f->fix, "server: reissue with an RSA-2048 or ECDSA P-256 key and SHA-256 (openssl req -newkey rsa:2048 -sha256)%s",
				strcmp(c->name, "java8") == 0 ? "; or client: drop the rule from jdk.certpath.disabledAlgorithms in java.security" : "");
		}
		return 0;
	}
	/* a CA certificate below the level of the check: its fields were not
	 * read, so a client with a stricter or equal rule fails, another is
	 * not judged on it */
	for (size_t i = 0; i < cert->nerr; i++) {
		if (cert->err_depth[i] == 0)
			continue;
		int as_strict = c->min_rsa_bits >= level_rsa(cert->level) &&
				(cert->level < 1 || (c->refused_hashes & SD_TLS_HASH_SHA1));
		if (as_strict) {
			f->cause = SD_CAUSE_CERT_WEAK;
			sdi_fmt(f->why, sizeof f->why, "it gets through %s with %s, then refuses the certificate at depth %d: %s",
				sd_tls_version_name(best), osl(pick), cert->err_depth[i], cert->err_text[i]);
			sdi_fmt(f->cert, sizeof f->cert, "refuses the certificate at depth %d (%s at OpenSSL level %d; rule: %s)",
				cert->err_depth[i], cert->err_text[i], cert->level, rule);
			sdi_fmt(f->fix, sizeof f->fix, "see the certificate finding ranked above");
			if (c->level >= 0)
				sdi_fmt(f->client_says, sizeof f->client_says, "certificate verify failed: %s", cert->err_text[i]);
			return 0;
		}
		sdi_fmt(f->cert, sizeof f->cert, "accepts the %s (rule: %s); not judged: the certificate at depth %d is below OpenSSL level %d (%s), its fields not read",
			fields, rule, cert->err_depth[i], cert->level, cert->err_text[i]);
		return 1;
	}
	sdi_fmt(f->cert, sizeof f->cert, "accepts the %s (rule: %s)", fields, rule);
	return 1;
}


/* ---- nothing accepted: the refusals name the mismatch ------------------- */

static int is_name(const char *s)
{
	if (!s || !*s || strchr(s, ':'))
		return 0;
	return strspn(s, "0123456789.") != strlen(s);
}

/* The enumeration found no version accepted: read how the server refused
 * the versions this client offers (their last probe's alert), most
 * specific first: a server name it does not know (unrecognized_name),
 * then a suite refusal (handshake_failure, insufficient_security: every
 * suite of the registry was offered, so the client's fewer too), then
 * versions (protocol_version). */
static int fit_none(const sd_tls_client *c, const sd_tls_enum *e, int sni_required, sd_tls_fit *f)
{
	char un[64] = "", hf[64] = "", pv[64] = "", quiet[64] = "", unprobed[64] = "", cli[64] = "";
	uint8_t other = 0;
	static const uint16_t order[] = { SD_TLS_TLS13, SD_TLS_TLS12, SD_TLS_TLS11, SD_TLS_TLS10, SD_TLS_SSL3 };
	for (size_t i = 0; i < SDI_ARRAY_LEN(order); i++) {
		if (!((c->versions >> (order[i] - SD_TLS_SSL3)) & 1u))
			continue;
		const char *vn = sd_tls_version_name(order[i]);
		sdi_append(cli, sizeof cli, "%s%s", cli[0] ? ", " : "", vn);
		const sd_tls_vresult *v = sd_tls_enum_result(e, order[i]);
		char *to;
		if (!v || (!v->probed && !v->implied_by))
			to = unprobed;
		else if (v->refusal_alert == TLS_ALERT_UNRECOGNIZED_NAME || v->big_alert == TLS_ALERT_UNRECOGNIZED_NAME)
			to = un;
		else if (v->refusal_alert == 40 || v->refusal_alert == 71)
			to = hf;
		else if (v->refusal_alert == 70 || v->implied_by || v->refusal == SD_TLS_HELLO)
			to = pv;
		else if (v->refusal_alert) {
			other = v->refusal_alert;
			to = quiet;
		} else
			to = quiet;
		sdi_append(to, 64, "%s%s", to[0] ? ", " : "", vn);
	}
	const char *sni = e->cfg.sni;
	if (un[0] || (sni_required && !is_name(sni))) {
		f->cause = SD_CAUSE_TLS_SNI_REQUIRED;
		if (is_name(sni))
			sdi_fmt(f->why, sizeof f->why, "the server does not know the name %s: it refuses %s with unrecognized_name (112)",
				sni, un);
		else if (!c->sni)
			sdi_fmt(f->why, sizeof f->why, "it never sends a server name (SNI), and the server refuses %s without one (unrecognized_name)",
				un[0] ? un : "hellos");
		else
			sdi_fmt(f->why, sizeof f->why, "SNI required: by address it sends no server name, and the server refuses %s without one (unrecognized_name); what it accepts with a name was not seen",
				un[0] ? un : "hellos");
		if (c->sni)
			sdi_fmt(f->fix, sizeof f->fix, "client: connect by a name the server is configured for (curl https://NAME/ --resolve NAME:PORT:ADDR, openssl s_client -servername NAME; shakedown tls --sni NAME)");
		else
			sdi_fmt(f->fix, sizeof f->fix, "server: a default server with a certificate that answers hellos without a name (nginx: drop ssl_reject_handshake on, or listen ... default_server on the named one); the client cannot send SNI");
		sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'tlsv1 unrecognized name' (alert 112)");
		return 0;
	}
	if (hf[0]) {
		f->cause = SD_CAUSE_TLS_NO_SHARED_CIPHER;
		sdi_fmt(f->why, sizeof f->why, "no common suite: the server refuses %s with handshake_failure although every suite of the IANA registry was offered, so also the %zu this client has",
			hf, c->nsuites + c->nsuites13);
		sdi_fmt(f->fix, sizeof f->fix, "server: enable a suite current clients offer (nginx ssl_ciphers HIGH:!aNULL; ECDHE-RSA-AES128-GCM-SHA256 or ECDHE-ECDSA-AES128-GCM-SHA256), and check its certificate and key load");
		sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'sslv3 alert handshake failure' (alert 40)");
		return 0;
	}
	if (pv[0] && !quiet[0] && !unprobed[0]) {
		f->cause = SD_CAUSE_TLS_VERSION_MISMATCH;
		sdi_fmt(f->why, sizeof f->why, "no common version: it offers %s; the server refuses each with protocol_version and accepted no version probed",
			cli);
		sdi_fmt(f->fix, sizeof f->fix, "server: enable TLS 1.2 (nginx ssl_protocols TLSv1.2 TLSv1.3;); check which versions its library still builds");
		sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'unsupported protocol' or 'tlsv1 alert protocol version'");
		return 0;
	}
	/* closed, reset, silent or an unusual alert: the findings name the
	 * box or the server; the fit names what is known, no cause of its own */
	f->cause = unprobed[0] && !quiet[0] ? SD_CAUSE_UNKNOWN : other ? SD_CAUSE_TLS_ALERT : SD_CAUSE_MIDDLEBOX_RESET;
	if (unprobed[0] && !quiet[0])
		sdi_fmt(f->why, sizeof f->why, "not judged: the server accepted no version probed%s%s, and %s, which it offers, %s not probed",
			pv[0] ? " (protocol_version: " : "", pv[0] ? pv : "", unprobed, strchr(unprobed, ',') ? "were" : "was");
	else if (other)
		sdi_fmt(f->why, sizeof f->why, "the server answers %s with the alert %s: no handshake gets through",
			quiet, tls_alert_name(other) ? tls_alert_name(other) : "(unassigned)");
	else
		sdi_fmt(f->why, sizeof f->why, "no hello at %s got an answer (closed, reset or silence): no handshake gets through",
			quiet);
	sdi_fmt(f->fix, sizeof f->fix, "see the findings ranked above");
	return 0;
}

int sd_tls_client_fit(const sd_tls_client *c, const sd_tls_enum *e, const sd_tls_cert *cert,
		      int sni_required, sd_tls_fit *f)
{
	if (!f)
		return 0;
	memset(f, 0, sizeof *f);
	f->cause = SD_CAUSE_OK;
	if (!c || !e)
		return 0;
	/* 1. SNI */
	if (sni_required && !c->sni) {
		f->cause = SD_CAUSE_TLS_SNI_REQUIRED;
		sdi_fmt(f->why, sizeof f->why, "it sends no server name (SNI), and this server refuses a hello without one (unrecognized_name)");
		sdi_fmt(f->fix, sizeof f->fix, "server: give the default server a certificate and turn nginx ssl_reject_handshake off for it; the client cannot send SNI");
		return 0;
	}
	/* 2. a common version: the highest both have */
	static const uint16_t order[] = { SD_TLS_TLS13, SD_TLS_TLS12, SD_TLS_TLS11, SD_TLS_TLS10, SD_TLS_SSL3 };
	char srv[64] = "", cli[64] = "";
	uint16_t best = 0, srv_best = 0;
	for (size_t i = 0; i < SDI_ARRAY_LEN(order); i++) {
		const sd_tls_vresult *v = sd_tls_enum_result(e, order[i]);
		int s_has = v && v->supported, c_has = (c->versions >> (order[i] - SD_TLS_SSL3)) & 1u;
		if (s_has) {
			sdi_append(srv, sizeof srv, "%s%s", srv[0] ? ", " : "", sd_tls_version_name(order[i]));
			if (!srv_best)
				srv_best = order[i];
		}
		if (c_has)
			sdi_append(cli, sizeof cli, "%s%s", cli[0] ? ", " : "", sd_tls_version_name(order[i]));
		if (s_has && c_has && !best)
			best = order[i];
	}
	if (!srv_best)
		return fit_none(c, e, sni_required, f);
	if (!best) {
		uint16_t cbest = 0;
		for (size_t i = 0; i < SDI_ARRAY_LEN(order) && !cbest; i++)
			if ((c->versions >> (order[i] - SD_TLS_SSL3)) & 1u)
				cbest = order[i];
		f->cause = SD_CAUSE_TLS_VERSION_MISMATCH;
		sdi_fmt(f->why, sizeof f->why, "no common version: it offers %s; the server accepts %s",
			cli[0] ? cli : "none", srv[0] ? srv : "none");
		if (cbest > srv_best)
			sdi_fmt(f->fix, sizeof f->fix, "server: add %s, e.g. nginx ssl_protocols %s%s; (Apache SSLProtocol +%s)",
				sd_tls_version_name(cbest), srv_best ? nginx_version(srv_best) : "", srv_best ? " TLSv1.2 TLSv1.3" : "TLSv1.2 TLSv1.3",
				nginx_version(cbest));
		else
			sdi_fmt(f->fix, sizeof f->fix, "server: add %s (nginx ssl_protocols %s %s;), or move the client to a library that speaks %s",
				sd_tls_version_name(cbest), nginx_version(cbest), nginx_version(srv_best),
				sd_tls_version_name(srv_best));
		sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'unsupported protocol' or 'tlsv1 alert protocol version'");
		return 0;
	}
	f->version = best;
	const sd_tls_vresult *v = sd_tls_enum_result(e, best);
	/* 3. a common suite at that version, the one that would be picked */
	const uint16_t *cs = best == SD_TLS_TLS13 ? c->suites13 : c->suites;
	size_t ncs = best == SD_TLS_TLS13 ? c->nsuites13 : c->nsuites;
	uint16_t pick = 0;
	if (v->order == SD_TLS_ORDER_SERVER) {
		for (size_t i = 0; i < v->nsuites && !pick; i++)
			if (has(cs, ncs, v->suites[i]))
				pick = v->suites[i];
	} else {
		for (size_t i = 0; i < ncs && !pick; i++)
			if (has(v->suites, v->nsuites, cs[i]))
				pick = cs[i];
	}
	if (!pick) {
		uint16_t want = 0;
		for (size_t i = 0; i < ncs && !want; i++)
			if (auth_fits(cs[i], cert))
				want = cs[i];
		f->cause = SD_CAUSE_TLS_NO_SHARED_CIPHER;
		sdi_fmt(f->why, sizeof f->why, "no common suite in %s: it offers %zu, the server accepts %zu, none in both",
			sd_tls_version_name(best), ncs, v->nsuites);
		if (best == SD_TLS_TLS13)
			sdi_fmt(f->fix, sizeof f->fix, "server: allow %s (openssl.cnf Ciphersuites, nginx ssl_conf_command Ciphersuites %s;)",
				want ? iana(want) : "TLS_AES_128_GCM_SHA256", want ? iana(want) : "TLS_AES_128_GCM_SHA256");
		else
			sdi_fmt(f->fix, sizeof f->fix, "server: add %s to nginx ssl_ciphers; or client: openssl s_client -cipher '%s' / curl --ciphers %s",
				want ? osl(want) : "a suite the client has", v->nsuites ? osl(v->suites[0]) : "?",
				v->nsuites ? osl(v->suites[0]) : "?");
		sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'sslv3 alert handshake failure' (alert 40)");
		return 0;
	}
	f->suite = pick;
	/* 4. a group, when the suite needs one */
	if (needs_group(pick, best) && v->ngroups) {
		uint16_t g = 0;
		for (size_t i = 0; i < c->ngroups && !g; i++)
			if (has(v->groups, v->ngroups, c->groups[i]))
				g = c->groups[i];
		if (!g && v->groups_done) {
			f->cause = SD_CAUSE_TLS_NO_SHARED_GROUP;
			sdi_fmt(f->why, sizeof f->why, "no common group for %s in %s: the server takes %s..., it offers %s...",
				iana(pick), sd_tls_version_name(best), sd_tls_group_name(v->groups[0]) ? sd_tls_group_name(v->groups[0]) : "?",
				c->ngroups ? ossl_group(c->groups[0]) : "none");
			sdi_fmt(f->fix, sizeof f->fix, "server: nginx ssl_ecdh_curve %s:%s; or client: openssl s_client -groups %s / curl --curves %s",
				c->ngroups ? ossl_group(c->groups[0]) : "X25519", ossl_group(v->groups[0]),
				ossl_group(v->groups[0]), ossl_group(v->groups[0]));
			sdi_fmt(f->client_says, sizeof f->client_says, "OpenSSL clients: 'sslv3 alert handshake failure' (alert 40)");
			return 0;
		}
		f->group = g;
	}
	/* 5. the signature: TLS 1.0/1.1 sign (EC)DHE parameters with MD5+SHA-1,
	 * which OpenSSL 3 refuses from security level 1 */
	if (best <= SD_TLS_TLS11 && signs_kx(pick) && c->level >= 1) {
		f->cause = SD_CAUSE_TLS_SIGALG_REFUSED;
		sdi_fmt(f->why, sizeof f->why, "it would pick %s in %s, whose key exchange is signed with MD5+SHA-1: OpenSSL 3 refuses that at security level %d",
			osl(pick), sd_tls_version_name(best), c->level);
		sdi_fmt(f->fix, sizeof f->fix, "server: enable TLS 1.2 (nginx ssl_protocols TLSv1.2 TLSv1.3;); or client: openssl s_client -cipher 'DEFAULT:@SECLEVEL=0' / curl --ciphers 'DEFAULT:@SECLEVEL=0'");
		sdi_fmt(f->client_says, sizeof f->client_says, "legacy sigalg disallowed or unsupported");
		return 0;
	}
	if (best >= SD_TLS_TLS12 && !sigalg_fits(c, cert, best)) {
		f->cause = SD_CAUSE_TLS_SIGALG_REFUSED;
		sdi_fmt(f->why, sizeof f->why, "it allows no signature scheme the server's %s key can make in %s",
			cert->key, sd_tls_version_name(best));
		sdi_fmt(f->fix, sizeof f->fix, "client: allow %s (openssl s_client -sigalgs %s); or server: a certificate with a key the client signs with",
			strcmp(cert->key, "EC") == 0 ? "ECDSA+SHA256" : "RSA-PSS+SHA256",
			strcmp(cert->key, "EC") == 0 ? "ECDSA+SHA256" : "RSA-PSS+SHA256");
		return 0;
	}
	/* 6. a client certificate the server requires */
	if (cert && cert->client_cert_refused) {
		f->cause = SD_CAUSE_TLS_CLIENT_CERT_REQUIRED;
		sdi_fmt(f->why, sizeof f->why, "it gets through %s with %s, then the server requires a client certificate (%s)",
			sd_tls_version_name(best), osl(pick), cert->handshake_error);
		sdi_fmt(f->fix, sizeof f->fix, "give the client its certificate (curl --cert/--key, openssl s_client -cert/-key)");
		return 0;
	}
	/* 7. the certificate: what every verifying client meets, then the
	 * client's own key and digest rules */
	if (cert && cert->got && !cert_fits(c, cert, best, pick, f))
		return 0;
	f->ok = 1;
	return 1;
}
