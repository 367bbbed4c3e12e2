/*
 * The TLS prober without a network: hellos checked byte by byte, the parser
 * on hand-made server flights (good, split, hostile), and the enumerator
 * against an in-test server model whose configuration we know, counting
 * connections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "script_link.h"
#include "../data/tls13_ee_vector.h"

static uint8_t buf[SD_TLS_HELLO_MAX];
static uint8_t hs[SD_TLS_RX_CAP];

static uint32_t sdi_test_rand(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static unsigned u16(const uint8_t *p) { return ((unsigned)p[0] << 8) | p[1]; }
static size_t u24(const uint8_t *p) { return ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2]; }

/* ---- a minimal ClientHello reader, for the tests only ------------------ */

typedef struct ch {
	unsigned legacy, version;  /* version: supported_versions if present */
	uint16_t suites[600];
	size_t   nsuites;
	uint16_t groups[64];
	size_t   ngroups;
	int      has_sni, has_sv, nshares;
	uint16_t share0;           /* the group of the first key share */
	char     sni[256];
	size_t   ext_total;
} ch;

static void read_hello(const uint8_t *b, size_t n, ch *c)
{
	memset(c, 0, sizeof *c);
	assert_true(n > 5 + 4 + 2 + 32 + 1);
	assert_int_equal(b[0], 22);
	assert_int_equal(u16(b + 3), n - 5);
	assert_int_equal(b[5], 1);
	assert_int_equal(u24(b + 6), n - 9);
	size_t i = 9;
	c->legacy = c->version = u16(b + i);
	i += 2 + 32;
	i += 1 + b[i];
	size_t cs = u16(b + i);
	i += 2;
	for (size_t k = 0; k < cs / 2; k++)
		c->suites[c->nsuites++] = (uint16_t)u16(b + i + 2 * k);
	i += cs;
	i += 1 + b[i];
	if (i == n)
		return;
	size_t el = u16(b + i);
	i += 2;
	assert_int_equal(i + el, n);
	c->ext_total = el;
	while (i < n) {
		unsigned t = u16(b + i);
		size_t l = u16(b + i + 2);
		const uint8_t *x = b + i + 4;
		assert_true(i + 4 + l <= n);
		if (t == 0x0000) {
			c->has_sni = 1;
			memcpy(c->sni, x + 5, u16(x + 3));
		} else if (t == 0x000a) {
			for (size_t k = 0; k < u16(x) / 2; k++)
				c->groups[c->ngroups++] = (uint16_t)u16(x + 2 + 2 * k);
		} else if (t == 0x002b) {
			c->has_sv = 1;
			c->version = u16(x + 1);
		} else if (t == 0x0033) {
			size_t kl = u16(x), j = 2;
			assert_int_equal(kl + 2, l);
			while (j < l) {
				if (c->nshares == 0)
					c->share0 = (uint16_t)u16(x + j);
				j += 4 + u16(x + j + 2);
				c->nshares++;
			}
			assert_int_equal(j, l);
		}
		i += 4 + l;
	}
}

static void hello_layouts(void **state)
{
	(void)state;
	static const uint16_t suites[] = { 0xc030, 0x002f, 0x1234 /* unassigned: sent anyway */ };
	static const uint16_t groups[] = { 0x001d, 0x0017 };
	sd_tls_hello_cfg c = { .version = SD_TLS_TLS12, .suites = suites, .nsuites = 3,
			       .groups = groups, .ngroups = 2, .sni = "example.org", .alpn = "h2,http/1.1" };
	int n = sd_tls_hello_build(&c, buf, sizeof buf);
	assert_true(n > 0);
	ch h;
	read_hello(buf, (size_t)n, &h);
	assert_int_equal(u16(buf + 1), 0x0301);
	assert_int_equal(h.legacy, 0x0303);
	assert_int_equal(h.nsuites, 3);
	assert_int_equal(h.suites[2], 0x1234);
	assert_int_equal(h.ngroups, 2);
	assert_true(h.has_sni);
	assert_string_equal(h.sni, "example.org");
	assert_false(h.has_sv);

	/* no SNI for an IP literal (RFC 6066 3) */
	c.sni = "127.0.0.1";
	n = sd_tls_hello_build(&c, buf, sizeof buf);
	read_hello(buf, (size_t)n, &h);
	assert_false(h.has_sni);

	/* TLS 1.3: legacy 0x0303, supported_versions 0x0304, shares as asked */
	static const uint16_t s13[] = { 0x1301, 0x1302 };
	static const uint16_t sh[] = { 0x001d, 0x0017, 0x0018, 0x0019, 0x001e, 0x0100 };
	sd_tls_hello_cfg c13 = { .version = SD_TLS_TLS13, .suites = s13, .nsuites = 2, .groups = sh,
				 .ngroups = 6, .shares = sh, .nshares = 6 };
	n = sd_tls_hello_build(&c13, buf, sizeof buf);
	assert_true(n > 0);
	read_hello(buf, (size_t)n, &h);
	assert_int_equal(h.legacy, 0x0303);
	assert_int_equal(h.version, 0x0304);
	assert_int_equal(h.nshares, 6);
	/* the P-256 share is the generator, uncompressed */
	const uint8_t *p = memchr(buf + 40, 0x04, (size_t)n - 40);
	assert_non_null(p);
	/* an empty key_share list is valid and asks for a HelloRetryRequest */
	c13.nshares = 0;
	n = sd_tls_hello_build(&c13, buf, sizeof buf);
	read_hello(buf, (size_t)n, &h);
	assert_int_equal(h.nshares, 0);
	/* a share for a group we cannot encode is refused, not faked */
	static const uint16_t mlkem[] = { 0x11ec };
	c13.shares = mlkem;
	c13.nshares = 1;
	assert_int_equal(sd_tls_hello_build(&c13, buf, sizeof buf), SD_ERR_ARG);

	/* SSLv3: record 3.0, no extensions at all */
	sd_tls_hello_cfg c3 = { .version = SD_TLS_SSL3, .suites = suites, .nsuites = 2, .groups = groups, .ngroups = 2 };
	n = sd_tls_hello_build(&c3, buf, sizeof buf);
	read_hello(buf, (size_t)n, &h);
	assert_int_equal(u16(buf + 1), 0x0300);
	assert_int_equal(h.legacy, 0x0300);
	assert_int_equal(h.ext_total, 0);

	/* bounds: no suites, bad version, a buffer too small, a hello over 2^14 */
	c.nsuites = 0;
	assert_int_equal(sd_tls_hello_build(&c, buf, sizeof buf), SD_ERR_ARG);
	c.nsuites = 3;
	c.version = 0x0305;
	assert_int_equal(sd_tls_hello_build(&c, buf, sizeof buf), SD_ERR_ARG);
	c.version = SD_TLS_TLS12;
	assert_int_equal(sd_tls_hello_build(&c, buf, 40), SD_ERR_OVERFLOW);
	static uint16_t many[9000];
	for (size_t i = 0; i < 9000; i++)
		many[i] = (uint16_t)i;
	c.suites = many;
	c.nsuites = 9000;
	assert_int_equal(sd_tls_hello_build(&c, buf, sizeof buf), SD_ERR_OVERFLOW);
}

static void hello_padding(void **state)
{
	(void)state;
	/* 256..511-byte hellos are padded past 511 (RFC 7685, the F5 bug) */
	uint16_t s[120];
	for (size_t i = 0; i < 120; i++)
		s[i] = (uint16_t)(0xc000 + i);
	sd_tls_hello_cfg c = { .version = SD_TLS_TLS12, .suites = s, .nsuites = 120 };
	int n = sd_tls_hello_build(&c, buf, sizeof buf);
	assert_true(n >= 512);
	c.pad_to = 1400;
	n = sd_tls_hello_build(&c, buf, sizeof buf);
	assert_int_equal(n, 1400);
	ch h;
	read_hello(buf, (size_t)n, &h);
}

static void names(void **state)
{
	(void)state;
	assert_true(sd_tls_suite_count() > 330);
	const sd_tls_suite *s = sd_tls_suite_find(0xc030);
	assert_non_null(s);
	assert_string_equal(s->iana, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384");
	assert_string_equal(s->openssl, "ECDHE-RSA-AES256-GCM-SHA384");
	assert_null(sd_tls_suite_find(0x0a0a)); /* GREASE */
	for (size_t i = 1; i < sd_tls_suite_count(); i++)
		assert_true(sd_tls_suite_at(i - 1)->id < sd_tls_suite_at(i)->id);
	assert_string_equal(sd_tls_group_name(0x001d), "x25519");
	assert_string_equal(sd_tls_version_name(SD_TLS_TLS13), "TLSv1.3");
}

/* ---- server flights ----------------------------------------------------- */

typedef struct wr {
	uint8_t b[8192];
	size_t  n;
} wr;

static void w8(wr *w, unsigned v) { w->b[w->n++] = (uint8_t)v; }
static void w16(wr *w, unsigned v) { w8(w, v >> 8); w8(w, v & 0xff); }
static void w24(wr *w, size_t v) { w8(w, (unsigned)(v >> 16)); w16(w, (unsigned)(v & 0xffff)); }

static const uint8_t HRR[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* A ServerHello handshake message (no record header). */
static void server_hello(wr *w, unsigned version, unsigned suite, unsigned group, int hrr)
{
	int v13 = version == 0x0304;
	w8(w, 2);
	size_t at = w->n;
	w24(w, 0);
	w16(w, v13 ? 0x0303 : version);
	for (int i = 0; i < 32; i++)
		w8(w, hrr ? HRR[i] : (unsigned)i);
	w8(w, 0);
	w16(w, suite);
	w8(w, 0);
	if (v13) {
		w16(w, hrr ? 12 : 6 + 4 + 28);
		w16(w, 0x002b);
		w16(w, 2);
		w16(w, 0x0304);
		w16(w, 0x0033);
		if (hrr) {
			w16(w, 2);
			w16(w, group);
		} else {
			w16(w, 28);
			w16(w, group);
			w16(w, 24);
			for (int i = 0; i < 24; i++)
				w8(w, 0x55);
		}
	}
	size_t len = w->n - at - 3;
	w->b[at] = (uint8_t)(len >> 16);
	w->b[at + 1] = (uint8_t)(len >> 8);
	w->b[at + 2] = (uint8_t)len;
}

static void record(wr *out, unsigned type, const uint8_t *p, size_t n)
{
	w8(out, type);
	w16(out, 0x0303);
	w16(out, (unsigned)n);
	memcpy(out->b + out->n, p, n);
	out->n += n;
}

static void parse_tls12_flight(void **state)
{
	(void)state;
	wr m = { .n = 0 }, r = { .n = 0 };
	server_hello(&m, 0x0303, 0xc02f, 0, 0);
	/* Certificate: two certs of 300 and 200 bytes */
	w8(&m, 11);
	w24(&m, 3 + 3 + 300 + 3 + 200);
	w24(&m, 3 + 300 + 3 + 200);
	w24(&m, 300);
	for (int i = 0; i < 300; i++)
		w8(&m, 0x30);
	w24(&m, 200);
	for (int i = 0; i < 200; i++)
		w8(&m, 0x30);
	/* ServerKeyExchange: named_curve secp384r1 */
	w8(&m, 12);
	w24(&m, 4 + 4);
	w8(&m, 3);
	w16(&m, 0x0018);
	w8(&m, 4);
	w8(&m, 0); w8(&m, 0); w8(&m, 0); w8(&m, 0);
	w8(&m, 14);
	w24(&m, 0);
	/* split across two records, mid-certificate */
	record(&r, 22, m.b, 100);
	record(&r, 22, m.b + 100, m.n - 100);

	sd_tls_server s;
	/* byte by byte: MORE until the ServerHelloDone */
	for (size_t k = 1; k < r.n; k++) {
		sd_tls_parse(r.b, k, 1, hs, sizeof hs, &s);
		assert_false(s.complete);
		assert_true(s.answer == SD_TLS_MORE || s.answer == SD_TLS_HELLO);
	}
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_HELLO);
	assert_true(s.complete);
	assert_int_equal(s.version, 0x0303);
	assert_int_equal(s.suite, 0xc02f);
	assert_int_equal(s.group, 0x0018);
	assert_int_equal(s.ncerts, 2);
	assert_int_equal(s.cert0_len, 300);
	assert_int_equal(s.got & (SD_TLS_GOT_CERT | SD_TLS_GOT_SKE | SD_TLS_GOT_DONE),
			 SD_TLS_GOT_CERT | SD_TLS_GOT_SKE | SD_TLS_GOT_DONE);
	/* without want_flight the ServerHello is enough */
	sd_tls_parse(r.b, 5 + 100, 0, hs, sizeof hs, &s);
	assert_true(s.complete);
	/* wanting the curve: complete at the ServerKeyExchange, without the
	 * ServerHelloDone (here in a record of its own, not arrived yet) */
	{
		static wr r2;
		r2.n = 0;
		record(&r2, 22, m.b, m.n - 4);
		record(&r2, 22, m.b + m.n - 4, 4);
		sd_tls_parse(r2.b, r2.n - 9, SD_TLS_FLIGHT_ALL, hs, sizeof hs, &s);
		assert_false(s.complete);
		sd_tls_parse(r2.b, r2.n - 9, SD_TLS_FLIGHT_CURVE, hs, sizeof hs, &s);
		assert_true(s.complete);
		assert_int_equal(s.group, 0x0018);
		assert_false(s.got & SD_TLS_GOT_DONE);
	}
	/* a scratch buffer smaller than the chain: what we know, marked CUT */
	sd_tls_parse(r.b, r.n, 1, hs, 200, &s);
	assert_int_equal(s.answer, SD_TLS_HELLO);
	assert_true(s.complete);
	assert_true(s.got & SD_TLS_CUT);
}

static void parse_tls13_and_alerts(void **state)
{
	(void)state;
	wr m = { .n = 0 }, r = { .n = 0 };
	server_hello(&m, 0x0304, 0x1302, 0x0017, 1);
	record(&r, 22, m.b, m.n);
	sd_tls_server s;
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_HRR);
	assert_int_equal(s.version, 0x0304);
	assert_int_equal(s.suite, 0x1302);
	assert_int_equal(s.group, 0x0017);

	m.n = r.n = 0;
	server_hello(&m, 0x0304, 0x1301, 0x001d, 0);
	record(&r, 22, m.b, m.n);
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_HELLO);
	assert_int_equal(s.version, 0x0304);
	assert_int_equal(s.group, 0x001d);
	assert_true(s.complete);

	/* a warning unrecognized_name, then the ServerHello: a hello, not a refusal */
	static const uint8_t warn[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x70 };
	wr w2 = { .n = 0 };
	memcpy(w2.b, warn, sizeof warn);
	w2.n = sizeof warn;
	memcpy(w2.b + w2.n, r.b, r.n);
	w2.n += r.n;
	assert_int_equal(sd_tls_parse(w2.b, w2.n, 1, hs, sizeof hs, &s), SD_TLS_HELLO);
	assert_true(s.alert_seen);
	assert_int_equal(s.alert_desc, 112);
	assert_int_equal(sd_tls_parse(w2.b, sizeof warn, 1, hs, sizeof hs, &s), SD_TLS_MORE);

	static const uint8_t alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	assert_int_equal(sd_tls_parse(alert, sizeof alert, 1, hs, sizeof hs, &s), SD_TLS_ALERT);
	assert_int_equal(s.alert_desc, 40);
	assert_int_equal(s.alert_level, 2);
	assert_int_equal(sd_tls_parse(alert, 6, 1, hs, sizeof hs, &s), SD_TLS_MORE);

	static const char http[] = "HTTP/1.1 400 Bad Request\r\n";
	assert_int_equal(sd_tls_parse((const uint8_t *)http, sizeof http - 1, 1, hs, sizeof hs, &s),
			 SD_TLS_NOT_TLS);
	assert_int_equal(sd_tls_parse((const uint8_t *)"220 ", 4, 1, hs, sizeof hs, &s), SD_TLS_NOT_TLS);
	assert_int_equal(sd_tls_parse((const uint8_t *)"\x16", 1, 1, hs, sizeof hs, &s), SD_TLS_MORE);
}

static void parse_hostile(void **state)
{
	(void)state;
	sd_tls_server s;
	/* a record claiming 60000 bytes */
	static const uint8_t big[] = { 0x16, 0x03, 0x03, 0xea, 0x60, 0x02 };
	assert_int_equal(sd_tls_parse(big, sizeof big, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	assert_non_null(strstr(s.why, "claims"));
	/* a session id of 200 bytes */
	wr m = { .n = 0 }, r = { .n = 0 };
	server_hello(&m, 0x0303, 0xc02f, 0, 0);
	m.b[4 + 2 + 32] = 200;
	record(&r, 22, m.b, m.n);
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* an extension length running past the message */
	m.n = r.n = 0;
	server_hello(&m, 0x0304, 0x1301, 0x001d, 0);
	m.b[4 + 2 + 32 + 1 + 3] = 0xff;
	record(&r, 22, m.b, m.n);
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* a Certificate message whose list lies */
	m.n = r.n = 0;
	server_hello(&m, 0x0303, 0xc02f, 0, 0);
	w8(&m, 11);
	w24(&m, 6);
	w24(&m, 3);
	w24(&m, 900);
	record(&r, 22, m.b, m.n);
	assert_int_equal(sd_tls_parse(r.b, r.n, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* application data before any hello */
	static const uint8_t app[] = { 0x17, 0x03, 0x03, 0x00, 0x01, 0x00 };
	assert_int_equal(sd_tls_parse(app, sizeof app, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* the first handshake message is not a ServerHello */
	static const uint8_t notsh[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 0x0b, 0x00, 0x00, 0x00 };
	assert_int_equal(sd_tls_parse(notsh, sizeof notsh, 1, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* garbage after a ServerHello, in its own bytes or inside its record */
	m.n = r.n = 0;
	server_hello(&m, 0x0304, 0x1301, 0x001d, 0);
	record(&r, 22, m.b, m.n);
	static const uint8_t dead[] = { 0xde, 0xad, 0xbe, 0xef };
	memcpy(r.b + r.n, dead, sizeof dead);
	assert_int_equal(sd_tls_parse(r.b, r.n + sizeof dead, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	assert_non_null(strstr(s.why, "after the ServerHello"));
	assert_int_equal(s.suite, 0x1301); /* what it said is still there */
	assert_int_equal(sd_tls_parse(r.b, r.n + 1, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	assert_int_equal(sd_tls_parse(r.b, r.n, 0, hs, sizeof hs, &s), SD_TLS_HELLO); /* nothing after: fine */
	/* ... a record header that follows is fine, an empty handshake record is not */
	static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01 }, empty[] = { 0x16, 0x03, 0x03, 0x00, 0x00 };
	memcpy(r.b + r.n, ccs, sizeof ccs);
	assert_int_equal(sd_tls_parse(r.b, r.n + sizeof ccs, 0, hs, sizeof hs, &s), SD_TLS_HELLO);
	memcpy(r.b + r.n, empty, sizeof empty);
	assert_int_equal(sd_tls_parse(r.b, r.n + sizeof empty, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	m.n = r.n = 0;
	server_hello(&m, 0x0303, 0x009c, 0, 0);
	w8(&m, 0xab); /* no handshake type after a ServerHello */
	w24(&m, 0);
	record(&r, 22, m.b, m.n);
	assert_int_equal(sd_tls_parse(r.b, r.n, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* a 16 MiB handshake message; endless empty handshake records */
	static const uint8_t giant[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0xff, 0xff, 0xff };
	assert_int_equal(sd_tls_parse(giant, sizeof giant, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	assert_int_equal(sd_tls_parse(empty, sizeof empty, 0, hs, sizeof hs, &s), SD_TLS_MALFORMED);
	/* pseudo-random garbage never crashes and always decides or waits */
	uint32_t seed = 7;
	static uint8_t junk[600];
	for (int round = 0; round < 3000; round++) {
		size_t n = 1 + (sdi_test_rand(&seed) % sizeof junk);
		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)sdi_test_rand(&seed);
		junk[0] = (uint8_t)(20 + sdi_test_rand(&seed) % 5);
		junk[1] = 3;
		junk[2] = (uint8_t)(sdi_test_rand(&seed) % 5);
		sd_tls_parse(junk, n, round & 1, hs, 1 + sdi_test_rand(&seed) % 4096, &s);
		assert_true(s.answer >= SD_TLS_MORE && s.answer <= SD_TLS_MALFORMED);
		assert_true(s.used <= n);
	}
}

/* ---- the enumerator against a model server ----------------------------- */

typedef struct model {
	unsigned  versions;       /* bit per version as in sd_tls_enum_cfg */
	uint16_t  suites[5][16];  /* per version index (0 = SSLv3 .. 4 = TLS 1.3), in server order */
	size_t    nsuites[5];
	int       server_order;
	uint16_t  groups[12];     /* server order */
	size_t    ngroups;
	int       client_groups;  /* take the client's group order (TLS <= 1.2 curves) */
	size_t    max_suites;     /* > 0: hang up on hellos offering more suites */
} model;

static int in_list(const uint16_t *l, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == x)
			return 1;
	return 0;
}

static int is_ecdhe(uint16_t s)
{
	const sd_tls_suite *t = sd_tls_suite_find(s);
	return t && strncmp(t->iana, "TLS_ECDHE_", 10) == 0;
}

/* What the model server sends back to hello b[0..n). */
static void model_answer(const model *m, const uint8_t *b, size_t n, wr *out)
{
	ch h;
	static const uint8_t refuse_version[] = { 0x02, 70 }, refuse_suite[] = { 0x02, 40 };
	read_hello(b, n, &h);
	unsigned vi = h.version - 0x0300;
	out->n = 0;
	if (m->max_suites && h.nsuites > m->max_suites)
		return; /* a box that drops big hellos: nothing, then a close */
	/* below TLS 1.3 a server takes the highest version it has up to the
	 * client's (RFC 5246 E.1) */
	while (vi > 0 && vi < 4 && !(m->versions & (1u << vi)))
		vi--;
	if (vi > 4 || !(m->versions & (1u << vi))) {
		record(out, 21, refuse_version, 2);
		return;
	}
	/* the group the server would use */
	uint16_t group = 0;
	for (size_t i = 0; i < m->ngroups && !group; i++)
		if (in_list(h.groups, h.ngroups, m->groups[i]))
			group = m->groups[i];
	if (m->client_groups && vi < 4) {
		group = 0;
		for (size_t i = 0; i < h.ngroups && !group; i++)
			if (in_list(m->groups, m->ngroups, h.groups[i]))
				group = h.groups[i];
	}
	uint16_t pick = 0;
	const uint16_t *mine = m->suites[vi];
	if (m->server_order) {
		for (size_t i = 0; i < m->nsuites[vi] && !pick; i++)
			if (in_list(h.suites, h.nsuites, mine[i]) && (group || (vi < 4 && !is_ecdhe(mine[i]))))
				pick = mine[i];
	} else {
		for (size_t i = 0; i < h.nsuites && !pick; i++)
			if (in_list(mine, m->nsuites[vi], h.suites[i]) && (group || (vi < 4 && !is_ecdhe(h.suites[i]))))
				pick = h.suites[i];
	}
	if (!pick) {
		record(out, 21, refuse_suite, 2);
		return;
	}
	wr msg = { .n = 0 };
	if (vi == 4) {
		/* a share of a group it has is taken (and its encrypted flight
		 * follows: here bytes no key opens, so no group list); without
		 * one, a HelloRetryRequest names the group it wants */
		int take = h.nshares && in_list(m->groups, m->ngroups, h.share0);
		server_hello(&msg, 0x0304, pick, take ? h.share0 : group, !take);
		if (take) {
			static const uint8_t ccs[] = { 1 }, enc[40] = { 0x17 };
			record(out, 22, msg.b, msg.n);
			record(out, 20, ccs, sizeof ccs);
			record(out, 23, enc, sizeof enc);
			return;
		}
	} else {
		server_hello(&msg, (uint16_t)(0x0300 + vi), pick, 0, 0);
		if (is_ecdhe(pick)) {
			w8(&msg, 12);
			w24(&msg, 3);
			w8(&msg, 3);
			w16(&msg, group);
		}
		w8(&msg, 14);
		w24(&msg, 0);
	}
	record(out, 22, msg.b, msg.n);
}

static unsigned run_ready(const model *m, sd_tls_enum *e)
{
	static sd_tls_probe p;
	static wr ans;
	unsigned conns = 0;
	while (sd_tls_enum_next(e)) {
		int n = sd_tls_hello_build(&e->hello, buf, sizeof buf);
		assert_true(n > 0);
		model_answer(m, buf, (size_t)n, &ans);
		memset(&p, 0, sizeof p);
		sd_tls_parse(ans.b, ans.n, e->want_flight, hs, sizeof hs, &p.srv);
		p.closed = ans.n == 0;
		assert_true(p.srv.complete || p.closed);
		sd_tls_enum_feed(e, &p);
		conns++;
		assert_true(conns < 400);
	}
	return conns;
}

static unsigned run_model(const model *m, sd_tls_enum *e, const sd_tls_enum_cfg *cfg)
{
	sd_tls_enum_init(e, cfg);
	return run_ready(m, e);
}

/* The search of one version split as tls_scan.c splits it on parallel
 * connections (the rest of the suites in two parts, the order probe and
 * two parts of the group search beside them), each run to its end here,
 * then merged: the same suites, order and groups as one enumerator finds,
 * the client-order suites in our offer order (ECDHE first). */
static void split_search_merges_to_the_same(void **state)
{
	(void)state;
	model m = { .versions = 1u << 3, .server_order = 0,
		    .suites = { [3] = { 0x009e, 0xc02f, 0xcca8, 0x002f, 0xc030 } }, .nsuites = { [3] = 5 },
		    .groups = { 0x0018, 0x001d, 0x0017, 0x0019 }, .ngroups = 4 };
	static sd_tls_enum one, main_, part1, order, g0, g1;
	sd_tls_enum_cfg cfg = { .versions = 1u << 3 };
	run_model(&m, &one, &cfg);
	const sd_tls_vresult *w = sd_tls_enum_result(&one, SD_TLS_TLS12);
	assert_int_equal(w->nsuites, 5);
	assert_int_equal(w->order, SD_TLS_ORDER_CLIENT);

	/* the main enumerator's first two probes: two suites, one curve */
	static sd_tls_probe p;
	static wr ans;
	sd_tls_enum_init(&main_, &cfg);
	for (int i = 0; i < 2; i++) {
		assert_true(sd_tls_enum_next(&main_));
		int n = sd_tls_hello_build(&main_.hello, buf, sizeof buf);
		model_answer(&m, buf, (size_t)n, &ans);
		memset(&p, 0, sizeof p);
		sd_tls_parse(ans.b, ans.n, main_.want_flight, hs, sizeof hs, &p.srv);
		sd_tls_enum_feed(&main_, &p);
	}
	sd_tls_vresult known = *sd_tls_enum_result(&main_, SD_TLS_TLS12);
	assert_int_equal(known.nsuites, 2);
	assert_true(known.ngroups >= 1);
	assert_true(sd_tls_enum_searching(&main_, SD_TLS_TLS12));
	/* ECDHE first: a client-order server picked its ECDHE suites first */
	assert_int_equal(known.suites[0], 0xc02f);
	assert_int_equal(known.suites[1], 0xc030);

	sd_tls_enum_init_job(&order, &cfg, &known, SD_TLS_JOB_ORDER);
	assert_int_equal(run_ready(&m, &order), 1);
	assert_int_equal(sd_tls_enum_result(&order, SD_TLS_TLS12)->order, SD_TLS_ORDER_CLIENT);

	sd_tls_enum_cfg c = cfg;
	c.gparts = 2;
	c.gpart = 0;
	sd_tls_enum_init_job(&g0, &c, &known, SD_TLS_JOB_GROUPS);
	c.gpart = 1;
	sd_tls_enum_init_job(&g1, &c, &known, SD_TLS_JOB_GROUPS);
	run_ready(&m, &g0);
	run_ready(&m, &g1);

	main_.cfg.parts = 2;
	main_.cfg.part = 0;
	main_.cfg.no_order = 1;
	main_.cfg.no_group_pass = 1;
	c = cfg;
	c.parts = 2;
	c.part = 1;
	sd_tls_enum_init_job(&part1, &c, &known, SD_TLS_JOB_SUITES);
	run_ready(&m, &main_);
	run_ready(&m, &part1);

	sd_tls_vresult v = *sd_tls_enum_result(&main_, SD_TLS_TLS12);
	sd_tls_enum_merge(&v, &order);
	sd_tls_enum_merge(&v, &g0);
	sd_tls_enum_merge(&v, &g1);
	sd_tls_enum_merge(&v, &part1);
	assert_int_equal(v.nsuites, w->nsuites);
	for (size_t i = 0; i < v.nsuites; i++)
		assert_int_equal(v.suites[i], w->suites[i]); /* both in our offer order */
	assert_int_equal(v.order, SD_TLS_ORDER_CLIENT);
	assert_int_equal(v.ngroups, 4);
	for (size_t i = 0; i < w->ngroups; i++) {
		size_t j = 0;
		while (j < v.ngroups && v.groups[j] != w->groups[i])
			j++;
		assert_true(j < v.ngroups);
	}
	/* in our offer order: x25519, secp256r1, secp521r1, secp384r1 */
	assert_int_equal(v.groups[0], 0x001d);
	assert_int_equal(v.groups[3], 0x0018);
}

static void enumerate_server_order(void **state)
{
	(void)state;
	model m = { .versions = 1u << 3, .server_order = 1,
		    .suites = { [3] = { 0xc030, 0xc02f, 0x002f } }, .nsuites = { [3] = 3 },
		    .groups = { 0x0017, 0x001d }, .ngroups = 2 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { .sni = "localhost", .no_groups = 1 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v = sd_tls_enum_result(&e, SD_TLS_TLS12);
	assert_true(v->supported);
	assert_int_equal(v->nsuites, 3);
	assert_int_equal(v->suites[0], 0xc030);
	assert_int_equal(v->suites[1], 0xc02f);
	assert_int_equal(v->suites[2], 0x002f);
	assert_int_equal(v->order, SD_TLS_ORDER_SERVER);
	assert_false(sd_tls_enum_result(&e, SD_TLS_TLS13)->supported);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_TLS13)->refusal_alert, 70);
	/* N + 1 + one order probe, TLS 1.3 refused, TLS 1.1 refused with
	 * protocol_version (which rules out 1.0 and SSLv3 without a
	 * connection): 3 + 1 + 1 + 1 + 1 */
	assert_int_equal(conns, 7);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_TLS10)->implied_by, SD_TLS_TLS11);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_SSL3)->implied_by, SD_TLS_TLS11);
	assert_false(sd_tls_enum_result(&e, SD_TLS_TLS10)->probed);
	assert_true(conns <= 3 + 2 * 5);
}

static void enumerate_client_order_and_groups(void **state)
{
	(void)state;
	model m = { .versions = (1u << 3) | (1u << 4), .server_order = 0,
		    .suites = { [3] = { 0xcca8, 0xc02f, 0x009e }, [4] = { 0x1303, 0x1301 } },
		    .nsuites = { [3] = 3, [4] = 2 },
		    .groups = { 0x0018, 0x001d, 0x0100 }, .ngroups = 3 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { 0 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v12 = sd_tls_enum_result(&e, SD_TLS_TLS12);
	const sd_tls_vresult *v13 = sd_tls_enum_result(&e, SD_TLS_TLS13);
	assert_int_equal(v12->nsuites, 3);
	assert_int_equal(v12->order, SD_TLS_ORDER_CLIENT);
	assert_int_equal(v13->nsuites, 2);
	assert_int_equal(v13->order, SD_TLS_ORDER_CLIENT);
	/* TLS 1.3 names all three groups through HRRs, in the server's order */
	assert_int_equal(v13->ngroups, 3);
	assert_int_equal(v13->groups[0], 0x0018);
	assert_int_equal(v13->groups[2], 0x0100);
	/* TLS 1.2 sees only the ECDHE curves (ffdhe is no ECDHE curve) */
	assert_int_equal(v12->ngroups, 2);
	assert_int_equal(v12->groups[1], 0x001d);
	/* suites 5 + 2 refusals + 1 refusal for TLS 1.1 (and below), 2 order
	 * probes; groups folded: TLS 1.3 names one new group per accepted
	 * probe (the order probe names the third) and needs one refusal to
	 * end; TLS 1.2 (server's curve order) needs one more group probe and
	 * its refusal, less one since our offer order puts the ECDHE suites
	 * first (both of its ECDHE picks come before the DHE one and offer
	 * the curves not found yet first) */
	assert_int_equal(conns, 5 + 3 + 2 + 1 + 1);
}

/* TLS 1.3 with more groups than suites, and TLS 1.2 taking the client's
 * curve order: the suite and order probes find most groups. */
static void enumerate_groups_folded(void **state)
{
	(void)state;
	model m = { .versions = (1u << 3) | (1u << 4), .server_order = 1, .client_groups = 1,
		    .suites = { [3] = { 0xc02f, 0xc030, 0x009e, 0xcca8 }, [4] = { 0x1302, 0x1301 } },
		    .nsuites = { [3] = 4, [4] = 2 },
		    .groups = { 0x001d, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101 }, .ngroups = 6 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { 0 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v12 = sd_tls_enum_result(&e, SD_TLS_TLS12);
	const sd_tls_vresult *v13 = sd_tls_enum_result(&e, SD_TLS_TLS13);
	/* the suites and the server's order are those of the unfolded search */
	assert_int_equal(v13->nsuites, 2);
	assert_int_equal(v13->suites[0], 0x1302);
	assert_int_equal(v13->order, SD_TLS_ORDER_SERVER);
	assert_int_equal(v12->nsuites, 4);
	assert_int_equal(v12->suites[0], 0xc02f);
	assert_int_equal(v12->suites[1], 0xc030);
	assert_int_equal(v12->suites[2], 0x009e);
	assert_int_equal(v12->suites[3], 0xcca8);
	assert_int_equal(v12->order, SD_TLS_ORDER_SERVER);
	/* every group: six in TLS 1.3, the four ECDHE curves in TLS 1.2 */
	assert_int_equal(v13->ngroups, 6);
	assert_int_equal(v13->groups[0], 0x001d);
	assert_int_equal(v13->groups[5], 0x0101);
	assert_int_equal(v12->ngroups, 4);
	/* TLS 1.3: 6 accepted (2 suites, order, 3 group probes) + the
	 * ambiguous refusal + the final one = 8; TLS 1.2: 3 ECDHE picks and
	 * the order probe name 4 curves: 5 suite probes + order + 1 group
	 * probe that ends it; TLS 1.1 refused, which rules out the 2 below */
	assert_int_equal(conns, 8 + 7 + 1);
}

/* TLS 1.2 with the server's suite and curve order: the order probe offers
 * only the curves not found yet (both possible picks are ECDHE); with a
 * curve left it names it, without one it must not give a wrong verdict. */
static void enumerate_tls12_server_curves(void **state)
{
	(void)state;
	model m = { .versions = 1u << 3, .server_order = 1,
		    .suites = { [3] = { 0xc030, 0xc02f, 0x002f } }, .nsuites = { [3] = 3 },
		    .groups = { 0x001d, 0x0017, 0x001e }, .ngroups = 3 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { 0 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v = sd_tls_enum_result(&e, SD_TLS_TLS12);
	assert_int_equal(v->order, SD_TLS_ORDER_SERVER);
	assert_int_equal(v->nsuites, 3);
	assert_int_equal(v->ngroups, 3);
	assert_int_equal(v->groups[1], 0x0017);
	/* 4 suite probes, the order probe names the second curve, 1 group
	 * probe the third, 1 ends it; TLS 1.3 and 1.1 refused (1.1 rules out
	 * the 2 below) */
	assert_int_equal(conns, 4 + 1 + 2 + 2);

	model one = m;
	one.ngroups = 1;
	conns = run_model(&one, &e, &cfg);
	v = sd_tls_enum_result(&e, SD_TLS_TLS12);
	assert_int_equal(v->order, SD_TLS_ORDER_SERVER); /* not "client" from the 0x002f pick */
	assert_int_equal(v->ngroups, 1);
	assert_true(v->groups_done);
	/* 4 suite probes, the reduced order probe (no curve left: 0x002f),
	 * the order probe again; TLS 1.3 and 1.1 refused */
	assert_int_equal(conns, 4 + 2 + 2);
}

/* TLS 1.3 with fewer groups than suites: the refusal when the groups run
 * out must not end the suite search. */
static void enumerate_groups_run_out_first(void **state)
{
	(void)state;
	model m = { .versions = 1u << 4, .server_order = 1,
		    .suites = { [4] = { 0x1302, 0x1303, 0x1301 } }, .nsuites = { [4] = 3 },
		    .groups = { 0x0017 }, .ngroups = 1 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { 0 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v13 = sd_tls_enum_result(&e, SD_TLS_TLS13);
	assert_int_equal(v13->nsuites, 3);
	assert_int_equal(v13->suites[1], 0x1303);
	assert_int_equal(v13->suites[2], 0x1301);
	assert_int_equal(v13->order, SD_TLS_ORDER_SERVER);
	assert_int_equal(v13->ngroups, 1);
	assert_int_equal(v13->groups[0], 0x0017);
	/* s1; refused (no group left); order probe refused too (groups done,
	 * back to suites); s2, s3, end; order: 3 + 1 + 1 + 1 + 1 + 1, and
	 * TLS 1.2 and TLS 1.1 refused (1.0 and SSLv3 with it) */
	assert_true(sd_tls_enum_result(&e, SD_TLS_TLS12)->probed);
	assert_int_equal(conns, 7 + 2);
}

static void enumerate_tls10_only(void **state)
{
	(void)state;
	model m = { .versions = (1u << 1) | (1u << 2), .server_order = 0,
		    .suites = { [1] = { 0xc013, 0x0035, 0x002f }, [2] = { 0xc013, 0x0035, 0x002f } },
		    .nsuites = { [1] = 3, [2] = 3 }, .groups = { 0x001d }, .ngroups = 1 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { .no_groups = 1, .no_order = 1 };
	unsigned conns = run_model(&m, &e, &cfg);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_TLS10)->nsuites, 3);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_TLS11)->nsuites, 3);
	assert_false(sd_tls_enum_result(&e, SD_TLS_TLS12)->supported);
	assert_int_equal(conns, 6 + 5);
}

static void enumerate_sslv3_only(void **state)
{
	(void)state;
	/* no local library serves SSLv3 any more: the model does, with a
	 * suite OpenSSL 3 lacks (RC4) */
	model m = { .versions = 1u << 0, .server_order = 1,
		    .suites = { [0] = { 0x0005, 0x000a } }, .nsuites = { [0] = 2 } };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { 0 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v = sd_tls_enum_result(&e, SD_TLS_SSL3);
	assert_true(v->supported);
	assert_int_equal(v->nsuites, 2);
	assert_int_equal(v->suites[0], 0x0005);
	assert_int_equal(v->order, SD_TLS_ORDER_SERVER);
	assert_int_equal(v->ngroups, 0); /* no ECDHE suite: no group pass */
	assert_int_equal(conns, 2 + 5 + 1);
}

static void enumerate_through_a_size_limit(void **state)
{
	(void)state;
	/* suites spread over several chunks of the registry; big hellos dropped */
	model m = { .versions = 1u << 3, .server_order = 1,
		    .suites = { [3] = { 0xc030, 0x009e, 0x002f, 0xcca8 } }, .nsuites = { [3] = 4 },
		    .groups = { 0x001d }, .ngroups = 1, .max_suites = 128 };
	static sd_tls_enum e;
	sd_tls_enum_cfg cfg = { .versions = 1u << 3, .no_groups = 1 };
	unsigned conns = run_model(&m, &e, &cfg);
	const sd_tls_vresult *v = sd_tls_enum_result(&e, SD_TLS_TLS12);
	assert_true(v->chunked);
	assert_int_equal(v->big_refusal, -1);
	assert_int_equal(v->nsuites, 4);
	/* within a chunk the server's order shows; across chunks, chunk order
	 * (the ECDHE suites come first in our offer order: chunk 0) */
	assert_int_equal(v->suites[0], 0xc030);
	assert_int_equal(v->order, SD_TLS_ORDER_SERVER);
	/* 1 big + 4 picks + one refusal per chunk (6) + 1 order */
	assert_true(conns <= 1 + 4 + 6 + 1);
}

/* A suite nobody offered, TLS_NULL_WITH_NULL_NULL, a malformed answer: a
 * violation of its own, never an accepted suite, and the version ends. */
static void enum_violations(void **state)
{
	(void)state;
	static const uint16_t picks[] = { 0x0000, 0x00ff, 0xfefe };
	static sd_tls_enum e;
	static sd_tls_probe p;
	for (size_t k = 0; k <= sizeof picks / sizeof picks[0]; k++) {
		sd_tls_enum_cfg cfg = { .versions = 1u << 3, .no_groups = 1 };
		sd_tls_enum_init(&e, &cfg);
		assert_true(sd_tls_enum_next(&e));
		memset(&p, 0, sizeof p);
		if (k < sizeof picks / sizeof picks[0]) {
			p.srv.answer = SD_TLS_HELLO;
			p.srv.version = SD_TLS_TLS12;
			p.srv.suite = picks[k];
		} else {
			p.srv.answer = SD_TLS_MALFORMED;
			memcpy(p.srv.why, "record claims 60000 bytes", 26);
		}
		p.srv.complete = 1;
		sd_tls_enum_feed(&e, &p);
		const sd_tls_vresult *v = sd_tls_enum_result(&e, SD_TLS_TLS12);
		assert_int_equal(v->violations, 1);
		assert_false(v->supported);
		assert_int_equal(v->nsuites, 0);
		assert_true(v->violation[0] != '\0');
		assert_false(sd_tls_enum_next(&e)); /* TLS 1.2 was the only version: done */
	}
	/* a buffer full of records that never made an answer */
	sd_tls_enum_cfg cfg = { .versions = 1u << 3 };
	sd_tls_enum_init(&e, &cfg);
	assert_true(sd_tls_enum_next(&e));
	memset(&p, 0, sizeof p);
	p.rx_cap = p.rx_len = SD_TLS_RX_CAP;
	sd_tls_enum_feed(&e, &p);
	assert_int_equal(sd_tls_enum_result(&e, SD_TLS_TLS12)->violations, 1);
	/* the names a user asks for */
	char why[160];
	assert_int_equal(sd_tls_names_check("example.org", "h2,http/1.1", why, sizeof why), SD_OK);
	assert_int_equal(sd_tls_names_check(NULL, NULL, why, sizeof why), SD_OK);
	assert_int_equal(sd_tls_names_check(NULL, ",,,", why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_names_check(NULL, "h2,", why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_names_check("a b", NULL, why, sizeof why), SD_ERR_ARG);
	static char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	assert_int_equal(sd_tls_names_check(longname, NULL, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_tls_names_check(NULL, longname, why, sizeof why), SD_ERR_ARG);
}

/* ---- the probe engine over a scripted link on a fake clock ------------- */

static sd_tls_probe probe;
static uint8_t prx[SD_TLS_RX_CAP];

static void run_probe_script(const script_chunk *c, size_t n, int close_after, int want_flight)
{
	static script_link sl;
	static const uint16_t suites[] = { 0xc02f };
	sd_tls_hello_cfg hc = { .version = SD_TLS_TLS12, .suites = suites, .nsuites = 1 };
	int len = sd_tls_hello_build(&hc, buf, sizeof buf);
	assert_true(len > 0);
	script_link_init(&sl, c, n);
	sl.close_after = close_after;
	sd_tls_probe_init(&probe, buf, (size_t)len, want_flight, SD_MS(3000), prx, sizeof prx, hs, sizeof hs);
	assert_int_equal(sd_run(&probe.base, &sl.base, SD_FOREVER), SD_OK);
	/* the hello went out whole */
	assert_int_equal(sl.nwritten, (size_t)len);
	assert_memory_equal(sl.written, buf, (size_t)len);
}

static void probe_engine_deadlines(void **state)
{
	(void)state;
	/* silence: one wait, then timed out; the fake clock shows the deadline kept */
	run_probe_script(NULL, 0, 0, 1);
	assert_true(probe.timed_out);
	assert_int_equal(probe.srv.answer, SD_TLS_MORE);

	assert_int_equal(sd_tls_probe_ms(&probe), 3000);

	/* a ServerHello dribbled a byte every 20 ms: whole within the wait */
	wr m = { .n = 0 }, r = { .n = 0 };
	server_hello(&m, 0x0303, 0xc02f, 0, 0);
	record(&r, 22, m.b, m.n);
	assert_true(r.n * 20 < 3000);
	static script_chunk drip[128];
	for (size_t i = 0; i < r.n; i++)
		drip[i] = (script_chunk){ SD_MS(20) * (sd_time)(i + 1), r.b + i, 1 };
	run_probe_script(drip, r.n, 0, 0);
	assert_false(probe.timed_out);
	assert_int_equal(probe.srv.answer, SD_TLS_HELLO);
	assert_int_equal(probe.srv.suite, 0xc02f);

	/* ... and a byte every 100 ms: the bytes do not renew the wait; the
	 * probe ends 3000 ms after it began, with what came so far */
	for (size_t i = 0; i < r.n; i++)
		drip[i] = (script_chunk){ SD_MS(100) * (sd_time)(i + 1), r.b + i, 1 };
	run_probe_script(drip, r.n, 0, 0);
	assert_true(probe.timed_out);
	assert_int_equal(probe.srv.answer, SD_TLS_MORE);
	assert_int_equal(probe.rx_len, 30); /* bytes at 100 ... 3000 ms (one due at the deadline is read) */
	assert_int_equal(sd_tls_probe_ms(&probe), 3000);
	/* the enumerator names it a stall, with the measured time, and stops */
	static sd_tls_enum se;
	sd_tls_enum_cfg sc = { .versions = 1u << 3 };
	sd_tls_enum_init(&se, &sc);
	assert_true(sd_tls_enum_next(&se));
	sd_tls_enum_feed(&se, &probe);
	const sd_tls_vresult *sv = sd_tls_enum_result(&se, SD_TLS_TLS12);
	assert_int_equal(sv->stall_bytes, 30);
	assert_int_equal(sv->stall_ms, 3000);
	assert_false(sv->stall_cut);
	assert_int_equal(se.first_ms, 3000);
	assert_false(sd_tls_enum_next(&se));

	/* the same drip under an overall deadline of 1 s (--timeout 1): the
	 * run stops the probe; finish marks it cut, with 1000 ms measured */
	static script_link sl;
	script_link_init(&sl, drip, r.n);
	sd_tls_probe_init(&probe, buf, 0, 0, SD_MS(3000), prx, sizeof prx, hs, sizeof hs);
	static const uint16_t one[] = { 0xc02f };
	sd_tls_hello_cfg hc = { .version = SD_TLS_TLS12, .suites = one, .nsuites = 1 };
	int hl = sd_tls_hello_build(&hc, buf, sizeof buf);
	assert_true(hl > 0);
	probe.hello_len = (size_t)hl;
	int rrc = sd_run(&probe.base, &sl.base, SD_MS(1000));
	assert_int_equal(rrc, SD_ERR_TIMEOUT);
	sd_tls_probe_finish(&probe, rrc, sl.base.clock);
	assert_true(probe.cut);
	assert_true(probe.timed_out);
	assert_int_equal(sd_tls_probe_ms(&probe), 1000);
	assert_true(probe.rx_len >= 9 && probe.rx_len <= 10);
	sd_tls_enum_init(&se, &sc);
	assert_true(sd_tls_enum_next(&se));
	sd_tls_enum_feed(&se, &probe);
	assert_true(sd_tls_enum_result(&se, SD_TLS_TLS12)->stall_cut);
	assert_int_equal(se.first_ms, 1000);
	assert_true(se.first_cut);

	/* half a record, then the server hangs up */
	script_chunk half[] = { { SD_MS(1), r.b, r.n / 2 } };
	run_probe_script(half, 1, 1, 1);
	assert_true(probe.closed);
	assert_int_equal(probe.srv.answer, SD_TLS_MORE);

	/* a text banner: named at once, no lingering */
	static const uint8_t smtp[] = "220 mail ESMTP\r\n";
	script_chunk s1[] = { { SD_MS(1), smtp, sizeof smtp - 1 } };
	run_probe_script(s1, 1, 0, 1);
	assert_int_equal(probe.srv.answer, SD_TLS_NOT_TLS);
	assert_false(probe.timed_out);
	assert_int_equal(probe.rx_len, sizeof smtp - 1);

	/* a binary banner in two pieces 50 ms apart: both read (linger 100 ms) */
	static const uint8_t my1[] = { 0x4a, 0, 0, 0, 0x0a };
	static const uint8_t my2[] = { '8', '.', '0', 0, 1, 2, 3 };
	script_chunk s2[] = { { SD_MS(1), my1, 5 }, { SD_MS(51), my2, 7 } };
	run_probe_script(s2, 2, 0, 1);
	assert_int_equal(probe.rx_len, 12);
	assert_false(probe.timed_out);
	/* ... and 500 ms apart: the first piece is enough, no probe timeout */
	script_chunk s3[] = { { SD_MS(1), my1, 5 }, { SD_MS(501), my2, 7 } };
	run_probe_script(s3, 2, 0, 1);
	assert_int_equal(probe.rx_len, 5);
	assert_false(probe.timed_out);
	assert_int_equal(probe.srv.answer, SD_TLS_NOT_TLS);
}

/* ---- TLS 1.3: the server's group list from EncryptedExtensions ---------- */

static void ee_known_answer(void **state)
{
	(void)state;
	uint16_t g[SD_TLS_MAX_GROUPS];
	size_t n = 0;
	int rc = sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, tls13_vec_rx,
					sizeof tls13_vec_rx, hs, sizeof hs, g, SD_TLS_MAX_GROUPS, &n);
	if (rc == SD_ERR_UNSUPPORTED)
		skip(); /* built without libcrypto */
	assert_int_equal(rc, 1);
	assert_int_equal(n, 10);
	assert_memory_equal(g, tls13_vec_groups, sizeof tls13_vec_groups);
	/* a short caller array takes what fits */
	assert_int_equal(sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, tls13_vec_rx,
						sizeof tls13_vec_rx, hs, sizeof hs, g, 3, &n), 1);
	assert_int_equal(n, 3);

	/* the parser: reading on to the first encrypted record */
	sd_tls_server s;
	sd_tls_parse(tls13_vec_rx, sizeof tls13_vec_rx, SD_TLS_FLIGHT_EE, hs, sizeof hs, &s);
	assert_int_equal(s.answer, SD_TLS_HELLO);
	assert_true(s.complete);
	assert_int_equal(s.group, 0x0017);
	assert_int_equal(s.used, sizeof tls13_vec_rx);
	sd_tls_parse(tls13_vec_rx, sizeof tls13_vec_rx - 1, SD_TLS_FLIGHT_EE, hs, sizeof hs, &s);
	assert_false(s.complete); /* the encrypted record is not whole yet */
	sd_tls_parse(tls13_vec_rx, sizeof tls13_vec_rx - 1, 0, hs, sizeof hs, &s);
	assert_true(s.complete);  /* without FLIGHT_EE the ServerHello is enough */
}

static void ee_refuses_what_it_cannot_trust(void **state)
{
	(void)state;
	uint16_t g[SD_TLS_MAX_GROUPS];
	size_t n = 0;
	static uint8_t rx[sizeof tls13_vec_rx], hello[sizeof tls13_vec_hello];
	if (sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, tls13_vec_rx,
				   sizeof tls13_vec_rx, hs, sizeof hs, g, SD_TLS_MAX_GROUPS, &n) == SD_ERR_UNSUPPORTED)
		skip();
	/* every prefix: an error, never a list or a read past the end */
	for (size_t k = 0; k < sizeof tls13_vec_rx; k++) {
		uint8_t *cut = malloc(k ? k : 1); /* exactly k bytes, for ASan */
		assert_non_null(cut);
		memcpy(cut, tls13_vec_rx, k);
		assert_true(sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, cut, k, hs, sizeof hs,
						   g, SD_TLS_MAX_GROUPS, &n) < 0);
		assert_int_equal(n, 0);
		free(cut);
	}
	/* one bit flipped anywhere: the ServerHello (transcript), the record
	 * header (AAD), the ciphertext or the tag; refused, or (in a
	 * field the key schedule does not read) the same list */
	for (size_t k = 0; k < sizeof tls13_vec_rx; k++) {
		memcpy(rx, tls13_vec_rx, sizeof rx);
		rx[k] ^= 0x01;
		int rc = sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, rx, sizeof rx, hs, sizeof hs,
						g, SD_TLS_MAX_GROUPS, &n);
		assert_true(rc < 0 || (rc == 1 && n == 10 && memcmp(g, tls13_vec_groups, sizeof tls13_vec_groups) == 0));
		if (k >= sizeof tls13_vec_rx - 49) /* the encrypted record: always refused */
			assert_int_equal(rc, SD_ERR_PROTO);
	}
	/* scratch too small for the transcript: said so, nothing read */
	assert_int_equal(sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, tls13_vec_rx,
						sizeof tls13_vec_rx, hs, 600, g, SD_TLS_MAX_GROUPS, &n), SD_ERR_NOMEM);
	/* a hello whose P-256 share is not the base point: we hold no key */
	memcpy(hello, tls13_vec_hello, sizeof hello);
	for (size_t k = 0; k + 65 <= sizeof hello; k++)
		if (hello[k] == 0x04 && hello[k + 1] == 0x6b && hello[k + 2] == 0x17) {
			hello[k + 64] ^= 0x80;
			break;
		}
	assert_int_equal(sd_tls13_listed_groups(hello, sizeof hello, tls13_vec_rx, sizeof tls13_vec_rx, hs, sizeof hs,
						g, SD_TLS_MAX_GROUPS, &n), SD_ERR_ARG);
}

static void ee_parser_bounds(void **state)
{
	(void)state;
	uint16_t g[4];
	size_t n;
	static const uint8_t ok[] = { 8, 0, 0, 10, 0, 8, 0, 10, 0, 4, 0, 2, 0, 0x1d };
	assert_int_equal(sd_tls13_ee_groups(ok, sizeof ok, g, 4, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(g[0], 0x001d);
	/* no supported_groups: 0; an ALPN extension only */
	static const uint8_t alpn[] = { 8, 0, 0, 8, 0, 6, 0, 16, 0, 2, 0, 0 };
	assert_int_equal(sd_tls13_ee_groups(alpn, sizeof alpn, g, 4, &n), 0);
	assert_int_equal(n, 0);
	static const uint8_t empty[] = { 8, 0, 0, 2, 0, 0 };
	assert_int_equal(sd_tls13_ee_groups(empty, sizeof empty, g, 4, &n), 0);
	/* lies */
	const uint8_t *bad[] = {
		(const uint8_t[]){ 11, 0, 0, 2, 0, 0 },                      /* not EE */
		(const uint8_t[]){ 8, 0, 0, 9, 0, 0 },                       /* message longer than input */
		(const uint8_t[]){ 8, 0, 0, 2, 0, 4 },                       /* extensions longer than message */
		(const uint8_t[]){ 8, 0, 0, 6, 0, 4, 0, 10, 0, 9 },          /* extension longer than list */
		(const uint8_t[]){ 8, 0, 0, 9, 0, 7, 0, 10, 0, 3, 0, 1, 0 }, /* odd group list */
		(const uint8_t[]){ 8, 0, 0, 8, 0, 6, 0, 10, 0, 2, 0, 0 },    /* empty group list */
	};
	static const size_t badlen[] = { 6, 6, 6, 10, 13, 12 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(sd_tls13_ee_groups(bad[i], badlen[i], g, 4, &n), SD_ERR_PROTO);
		assert_int_equal(n, 0);
	}
	assert_int_equal(sd_tls13_ee_groups(ok, 3, g, 4, &n), SD_ERR_PROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hello_layouts),
		cmocka_unit_test(hello_padding),
		cmocka_unit_test(names),
		cmocka_unit_test(parse_tls12_flight),
		cmocka_unit_test(parse_tls13_and_alerts),
		cmocka_unit_test(parse_hostile),
		cmocka_unit_test(enumerate_server_order),
		cmocka_unit_test(enumerate_client_order_and_groups),
		cmocka_unit_test(enumerate_groups_folded),
		cmocka_unit_test(enumerate_groups_run_out_first),
		cmocka_unit_test(enumerate_tls12_server_curves),
		cmocka_unit_test(enumerate_tls10_only),
		cmocka_unit_test(enumerate_sslv3_only),
		cmocka_unit_test(enumerate_through_a_size_limit),
		cmocka_unit_test(probe_engine_deadlines),
		cmocka_unit_test(ee_known_answer),
		cmocka_unit_test(ee_refuses_what_it_cannot_trust),
		cmocka_unit_test(ee_parser_bounds),
		cmocka_unit_test(enum_violations),
		cmocka_unit_test(split_search_merges_to_the_same),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
