/*
 * shakedown — TLS: names (suites, groups, versions) and the raw ClientHello
 * builder. Layouts: RFC 8446 4.1.2 and 4.2, RFC 5246 7.4.1.2, RFC 6101 5.6.1.2.
 * Everything is written into the caller's buffer through a bounded cursor:
 * a list that does not fit fails the build, it never writes past cap.
 */
#include "internal.h"
#include "tls_internal.h"

/* ---- names ------------------------------------------------------------- */

size_t sd_tls_suite_count(void)
{
	return sdi_tls_nsuites;
}

const sd_tls_suite *sd_tls_suite_at(size_t i)
{
	return i < sdi_tls_nsuites ? &sdi_tls_suites[i] : NULL;
}

const sd_tls_suite *sd_tls_suite_find(uint16_t id)
{
	size_t lo = 0, hi = sdi_tls_nsuites; /* the table is sorted by code point */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (sdi_tls_suites[mid].id == id)
			return &sdi_tls_suites[mid];
		if (sdi_tls_suites[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int sdi_tls_suite_is13(uint16_t id)
{
	return (id >= 0x1301 && id <= 0x13ff) || id == 0x00c6 || id == 0x00c7;
}

int sdi_tls_suite_is_ecdhe(uint16_t id)
{
	const sd_tls_suite *s = sd_tls_suite_find(id);
	return s && strncmp(s->iana, "TLS_ECDHE_", 10) == 0;
}

/* IANA TLS Supported Groups, in the order we offer them. Share lengths:
 * RFC 7748 (X25519 32, X448 56), RFC 8446 4.2.8.2 (uncompressed NIST points
 * 65/97/133), RFC 7919 (FFDHE: the prime's length). */
const sdi_tls_group sdi_tls_groups[] = {
	{ 0x001d, "x25519", 32, 1, 1 },
	{ 0x0017, "secp256r1", 65, 1, 1 },
	{ 0x001e, "x448", 56, 1, 1 },
	{ 0x0019, "secp521r1", 133, 1, 1 },
	{ 0x0018, "secp384r1", 97, 1, 1 },
	{ 0x11ec, "X25519MLKEM768", 0, 1, 0 },
	{ 0x11eb, "SecP256r1MLKEM768", 0, 1, 0 },
	{ 0x11ed, "SecP384r1MLKEM1024", 0, 1, 0 },
	{ 0x0200, "MLKEM512", 0, 1, 0 },
	{ 0x0201, "MLKEM768", 0, 1, 0 },
	{ 0x0202, "MLKEM1024", 0, 1, 0 },
	{ 0x001f, "brainpoolP256r1tls13", 0, 1, 0 },
	{ 0x0020, "brainpoolP384r1tls13", 0, 1, 0 },
	{ 0x0021, "brainpoolP512r1tls13", 0, 1, 0 },
	{ 0x0029, "curveSM2", 0, 1, 0 },
	{ 0x0100, "ffdhe2048", 256, 1, 0 },
	{ 0x0101, "ffdhe3072", 384, 1, 0 },
	{ 0x0102, "ffdhe4096", 512, 1, 0 },
	{ 0x0103, "ffdhe6144", 768, 1, 0 },
	{ 0x0104, "ffdhe8192", 1024, 1, 0 },
	{ 0x001a, "brainpoolP256r1", 0, 0, 1 },
	{ 0x001b, "brainpoolP384r1", 0, 0, 1 },
	{ 0x001c, "brainpoolP512r1", 0, 0, 1 },
	{ 0x0016, "secp256k1", 0, 0, 1 },
	{ 0x0015, "secp224r1", 0, 0, 1 },
	{ 0x0014, "secp224k1", 0, 0, 1 },
	{ 0x0013, "secp192r1", 0, 0, 1 },
	{ 0x0012, "secp192k1", 0, 0, 1 },
	{ 0x0011, "secp160r2", 0, 0, 1 },
	{ 0x0010, "secp160r1", 0, 0, 1 },
	{ 0x000f, "secp160k1", 0, 0, 1 },
	{ 0x000e, "sect571r1", 0, 0, 1 },
	{ 0x000d, "sect571k1", 0, 0, 1 },
	{ 0x000c, "sect409r1", 0, 0, 1 },
	{ 0x000b, "sect409k1", 0, 0, 1 },
	{ 0x000a, "sect283r1", 0, 0, 1 },
	{ 0x0009, "sect283k1", 0, 0, 1 },
	{ 0x0008, "sect239k1", 0, 0, 1 },
	{ 0x0007, "sect233r1", 0, 0, 1 },
	{ 0x0006, "sect233k1", 0, 0, 1 },
	{ 0x0005, "sect193r2", 0, 0, 1 },
	{ 0x0004, "sect193r1", 0, 0, 1 },
	{ 0x0003, "sect163r2", 0, 0, 1 },
	{ 0x0002, "sect163r1", 0, 0, 1 },
	{ 0x0001, "sect163k1", 0, 0, 1 },
};
const size_t sdi_tls_ngroups = SDI_ARRAY_LEN(sdi_tls_groups);

const sdi_tls_group *sdi_tls_group_find(uint16_t id)
{
	for (size_t i = 0; i < sdi_tls_ngroups; i++)
		if (sdi_tls_groups[i].id == id)
			return &sdi_tls_groups[i];
	return NULL;
}

const char *sd_tls_group_name(uint16_t group)
{
	const sdi_tls_group *g = sdi_tls_group_find(group);
	return g ? g->name : NULL;
}

const char *sd_tls_version_name(uint16_t v)
{
	return tls_version_name(v);
}

/* ---- the builder ------------------------------------------------------- */

typedef struct cur {
	uint8_t *b;
	size_t   cap, n;
	int      err;
} cur;

static void put8(cur *c, unsigned v)
{
	if (c->n + 1 > c->cap) {
		c->err = SD_ERR_OVERFLOW;
		return;
	}
	c->b[c->n++] = (uint8_t)v;
}

static void put16(cur *c, unsigned v)
{
	put8(c, v >> 8);
	put8(c, v & 0xff);
}

static void putn(cur *c, const void *p, size_t n)
{
	if (c->err || n > c->cap - c->n) {
		c->err = SD_ERR_OVERFLOW;
		return;
	}
	memcpy(c->b + c->n, p, n);
	c->n += n;
}

/* Open a length field of `bytes` bytes; close() fills it in. */
static size_t open_len(cur *c, int bytes)
{
	size_t at = c->n;
	for (int i = 0; i < bytes; i++)
		put8(c, 0);
	return at;
}

static void close_len(cur *c, size_t at, int bytes)
{
	if (c->err)
		return;
	size_t len = c->n - at - (size_t)bytes;
	if (len >> (8 * bytes)) {
		c->err = SD_ERR_OVERFLOW;
		return;
	}
	for (int i = 0; i < bytes; i++)
		c->b[at + (size_t)i] = (uint8_t)(len >> (8 * (bytes - 1 - i)));
}

static void put_random(cur *c, size_t n, uint32_t *seed)
{
	for (size_t i = 0; i < n; i++)
		put8(c, sdi_rand(seed) & 0xff);
}

/* Generators of the NIST curves (SEC 2 2.4.2, 2.5.1, 2.6.1), uncompressed:
 * valid points, which is all a server checks before its ServerHello. */
static const uint8_t P256_G[65] = {
	0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
	0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
	0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
	0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
	0xf5,
};
static const uint8_t P384_G[97] = {
	0x04, 0xaa, 0x87, 0xca, 0x22, 0xbe, 0x8b, 0x05, 0x37, 0x8e, 0xb1, 0xc7, 0x1e, 0xf3, 0x20, 0xad,
	0x74, 0x6e, 0x1d, 0x3b, 0x62, 0x8b, 0xa7, 0x9b, 0x98, 0x59, 0xf7, 0x41, 0xe0, 0x82, 0x54, 0x2a,
	0x38, 0x55, 0x02, 0xf2, 0x5d, 0xbf, 0x55, 0x29, 0x6c, 0x3a, 0x54, 0x5e, 0x38, 0x72, 0x76, 0x0a,
	0xb7, 0x36, 0x17, 0xde, 0x4a, 0x96, 0x26, 0x2c, 0x6f, 0x5d, 0x9e, 0x98, 0xbf, 0x92, 0x92, 0xdc,
	0x29, 0xf8, 0xf4, 0x1d, 0xbd, 0x28, 0x9a, 0x14, 0x7c, 0xe9, 0xda, 0x31, 0x13, 0xb5, 0xf0, 0xb8,
	0xc0, 0x0a, 0x60, 0xb1, 0xce, 0x1d, 0x7e, 0x81, 0x9d, 0x7a, 0x43, 0x1d, 0x7c, 0x90, 0xea, 0x0e,
	0x5f,
};
static const uint8_t P521_G[133] = {
	0x04, 0x00, 0xc6, 0x85, 0x8e, 0x06, 0xb7, 0x04, 0x04, 0xe9, 0xcd, 0x9e, 0x3e, 0xcb, 0x66, 0x23,
	0x95, 0xb4, 0x42, 0x9c, 0x64, 0x81, 0x39, 0x05, 0x3f, 0xb5, 0x21, 0xf8, 0x28, 0xaf, 0x60, 0x6b,
	0x4d, 0x3d, 0xba, 0xa1, 0x4b, 0x5e, 0x77, 0xef, 0xe7, 0x59, 0x28, 0xfe, 0x1d, 0xc1, 0x27, 0xa2,
	0xff, 0xa8, 0xde, 0x33, 0x48, 0xb3, 0xc1, 0x85, 0x6a, 0x42, 0x9b, 0xf9, 0x7e, 0x7e, 0x31, 0xc2,
	0xe5, 0xbd, 0x66, 0x01, 0x18, 0x39, 0x29, 0x6a, 0x78, 0x9a, 0x3b, 0xc0, 0x04, 0x5c, 0x8a, 0x5f,
	0xb4, 0x2c, 0x7d, 0x1b, 0xd9, 0x98, 0xf5, 0x44, 0x49, 0x57, 0x9b, 0x44, 0x68, 0x17, 0xaf, 0xbd,
	0x17, 0x27, 0x3e, 0x66, 0x2c, 0x97, 0xee, 0x72, 0x99, 0x5e, 0xf4, 0x26, 0x40, 0xc5, 0x50, 0xb9,
	0x01, 0x3f, 0xad, 0x07, 0x61, 0x35, 0x3c, 0x70, 0x86, 0xa2, 0x72, 0xc2, 0x40, 0x88, 0xbe, 0x94,
	0x76, 0x9f, 0xd1, 0x66, 0x50,
};

const uint8_t *sdi_tls_generator(uint16_t group, size_t *len)
{
	switch (group) {
	case 0x0017: *len = sizeof P256_G; return P256_G;
	case 0x0018: *len = sizeof P384_G; return P384_G;
	case 0x0019: *len = sizeof P521_G; return P521_G;
	default: *len = 0; return NULL;
	}
}

static int put_share(cur *c, uint16_t group, uint32_t *seed)
{
	const sdi_tls_group *g = sdi_tls_group_find(group);
	if (!g || !g->share_len)
		return SD_ERR_ARG;
	put16(c, group);
	put16(c, g->share_len);
	switch (group) {
	case 0x0017: putn(c, P256_G, sizeof P256_G); break;
	case 0x0018: putn(c, P384_G, sizeof P384_G); break;
	case 0x0019: putn(c, P521_G, sizeof P521_G); break;
	case 0x001d:
	case 0x001e: put_random(c, g->share_len, seed); break;
	default: /* FFDHE: y = 2, big-endian in the prime's length (RFC 7919 5.1) */
		for (size_t i = 0; i + 1 < g->share_len; i++)
			put8(c, 0);
		put8(c, 2);
		break;
	}
	return SD_OK;
}

/* A broad signature_algorithms list (IANA TLS SignatureScheme): modern first,
 * then the legacy PKCS#1 / SHA-1 / DSA pairs old servers need. */
static const uint16_t default_sigalgs[] = {
	0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0804, 0x0805, 0x0806, 0x0809, 0x080a, 0x080b,
	0x0401, 0x0501, 0x0601, 0x0303, 0x0301, 0x0302, 0x0203, 0x0201, 0x0202, 0x0402, 0x0502, 0x0602,
};

int sd_tls_hello_build(const sd_tls_hello_cfg *cfg, uint8_t *buf, size_t cap)
{
	if (!cfg || !buf || !cfg->suites || cfg->nsuites == 0 ||
	    cfg->version < SD_TLS_SSL3 || cfg->version > SD_TLS_TLS13)
		return SD_ERR_ARG;
	if (cfg->nsuites > 32767)
		return SD_ERR_OVERFLOW;
	uint32_t seed = cfg->seed ? cfg->seed : 0x5eed1234u;
	int tls13 = cfg->version == SD_TLS_TLS13;
	int ext = cfg->version >= SD_TLS_TLS10;
	cur c = { buf, SDI_MIN(cap, (size_t)SD_TLS_HELLO_MAX), 0, 0 };

	/* record header: SSLv3 says 3.0; everything else 3.1, which the
	 * oldest servers accept (RFC 8446 5.1 allows 0x0301 for the hello) */
	put8(&c, TLS_CT_HANDSHAKE);
	put16(&c, cfg->version == SD_TLS_SSL3 ? SD_TLS_SSL3 : SD_TLS_TLS10);
	size_t rec = open_len(&c, 2);
	put8(&c, TLS_HS_CLIENT_HELLO);
	size_t hs = open_len(&c, 3);
	put16(&c, tls13 ? SD_TLS_TLS12 : cfg->version); /* legacy_version */
	put_random(&c, 32, &seed);
	if (tls13) { /* a legacy session id, as middlebox-compatible clients send */
		put8(&c, 32);
		put_random(&c, 32, &seed);
	} else {
		put8(&c, 0);
	}
	size_t cs = open_len(&c, 2);
	for (size_t i = 0; i < cfg->nsuites; i++)
		put16(&c, cfg->suites[i]);
	close_len(&c, cs, 2);
	put8(&c, 1); /* compression methods: null only */
	put8(&c, 0);

	if (ext) {
		size_t exts = open_len(&c, 2);
		size_t at;
		if (tls_sni_is_name(cfg->sni)) {
			size_t hn = strlen(cfg->sni);
			if (hn > 255)
				return SD_ERR_ARG;
			put16(&c, TLS_EXT_SERVER_NAME);
			at = open_len(&c, 2);
			put16(&c, (unsigned)hn + 3);
			put8(&c, 0); /* host_name */
			put16(&c, (unsigned)hn);
			putn(&c, cfg->sni, hn);
			close_len(&c, at, 2);
		}
		if (cfg->groups && cfg->ngroups) {
			put16(&c, TLS_EXT_SUPPORTED_GROUPS);
			at = open_len(&c, 2);
			size_t gl = open_len(&c, 2);
			for (size_t i = 0; i < cfg->ngroups; i++)
				put16(&c, cfg->groups[i]);
			close_len(&c, gl, 2);
			close_len(&c, at, 2);
			if (!tls13) { /* RFC 8422 5.1.2: uncompressed only */
				put16(&c, TLS_EXT_EC_POINT_FORMATS);
				put16(&c, 2);
				put8(&c, 1);
				put8(&c, 0);
			}
		}
		if (cfg->version >= SD_TLS_TLS12) {
			const uint16_t *sa = cfg->sigalgs ? cfg->sigalgs : default_sigalgs;
			size_t nsa = cfg->sigalgs ? cfg->nsigalgs : SDI_ARRAY_LEN(default_sigalgs);
			put16(&c, TLS_EXT_SIGNATURE_ALGORITHMS);
			at = open_len(&c, 2);
			size_t sl = open_len(&c, 2);
			for (size_t i = 0; i < nsa; i++)
				put16(&c, sa[i]);
			close_len(&c, sl, 2);
			close_len(&c, at, 2);
		}
		if (cfg->alpn && cfg->alpn[0]) {
			put16(&c, TLS_EXT_ALPN);
			at = open_len(&c, 2);
			size_t pl = open_len(&c, 2);
			const char *p = cfg->alpn;
			while (*p) {
				const char *e = strchr(p, ',');
				size_t k = e ? (size_t)(e - p) : strlen(p);
				if (k == 0 || k > 255)
					return SD_ERR_ARG;
				put8(&c, (unsigned)k);
				putn(&c, p, k);
				p += k + (e ? 1 : 0);
			}
			close_len(&c, pl, 2);
			close_len(&c, at, 2);
		}
		put16(&c, TLS_EXT_EXTENDED_MASTER_SECRET);
		put16(&c, 0);
		if (tls13) {
			put16(&c, TLS_EXT_SUPPORTED_VERSIONS);
			put16(&c, 3);
			put8(&c, 2);
			put16(&c, SD_TLS_TLS13);
			put16(&c, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
			put16(&c, 2);
			put8(&c, 1);
			put8(&c, 1); /* psk_dhe_ke */
			put16(&c, TLS_EXT_KEY_SHARE);
			at = open_len(&c, 2);
			size_t kl = open_len(&c, 2);
			for (size_t i = 0; i < cfg->nshares; i++)
				if (put_share(&c, cfg->shares[i], &seed) < 0)
					return SD_ERR_ARG;
			close_len(&c, kl, 2);
			close_len(&c, at, 2);
		} else {
			put16(&c, TLS_EXT_RENEGOTIATION_INFO);
			put16(&c, 1);
			put8(&c, 0);
		}
		/* padding (RFC 7685): a record of 256..511 bytes hangs some F5
		 * boxes; pad_to asks for a size on purpose (middlebox tests) */
		size_t want = cfg->pad_to;
		if (!want && c.n >= 256 && c.n < 512)
			want = 517;
		if (want > c.n) {
			size_t body = want - c.n >= 4 ? want - c.n - 4 : 0;
			put16(&c, TLS_EXT_PADDING);
			put16(&c, (unsigned)body);
			for (size_t i = 0; i < body && !c.err; i++)
				put8(&c, 0);
		}
		close_len(&c, exts, 2);
	}
	close_len(&c, hs, 3);
	close_len(&c, rec, 2);
	if (c.err)
		return c.err;
	if (c.n - 5 > 16384)
		return SD_ERR_OVERFLOW;
	return (int)c.n;
}
