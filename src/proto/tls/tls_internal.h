/* TLS prober internals shared by the files of src/proto/tls/. */
#ifndef SD_TLS_INTERNAL_H
#define SD_TLS_INTERNAL_H
#include "shakedown/tls.h"
#include "../tls_wire.h"

extern const sd_tls_suite sdi_tls_suites[];
extern const size_t sdi_tls_nsuites;

/* The groups we know, in the order we offer them (IANA TLS Supported Groups). */
typedef struct sdi_tls_group {
	uint16_t    id;
	const char *name;
	uint16_t    share_len; /* key_share length; 0 = we cannot build one */
	uint8_t     tls13;     /* usable in TLS 1.3 */
	uint8_t     ec12;      /* an ECDHE curve for TLS <= 1.2 */
} sdi_tls_group;

extern const sdi_tls_group sdi_tls_groups[];
extern const size_t sdi_tls_ngroups;
const sdi_tls_group *sdi_tls_group_find(uint16_t id);
/* A TLS 1.3-only suite (RFC 8446 B.4, RFC 8998). */
int sdi_tls_suite_is13(uint16_t id);
/* An ECDHE key exchange (for the TLS <= 1.2 group pass). */
int sdi_tls_suite_is_ecdhe(uint16_t id);

/* The uncompressed base point of P-256/384/521: the key share whose private
 * key is 1 (NULL for other groups). */
const uint8_t *sdi_tls_generator(uint16_t group, size_t *len);

/* libcrypto, loaded at first use (crypto.c). hlen 32 = SHA-256, 48 = SHA-384. */
int sdi_tls_crypto_load(char *why, size_t whylen);
int sdi_tls_hash(size_t hlen, const uint8_t *d, size_t n, uint8_t *out);
int sdi_tls_hmac(size_t hlen, const uint8_t *key, size_t keylen, const uint8_t *d, size_t n, uint8_t *out);
/* Open an AEAD record of a TLS 1.3 suite (0x1301-0x1303): the plaintext
 * length (out holds ctlen - 16 bytes), or SD_ERR_PROTO when the tag is wrong. */
int sdi_tls_aead_open(uint16_t suite, const uint8_t *key, const uint8_t nonce[12], const uint8_t *aad,
		      size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out);

/* A bounded reader over server bytes (parse.c, ee.c): every get checks what
 * is left; a short read sets `bad` and yields zeros, never a read past n. */
typedef struct rd {
	const uint8_t *b;
	size_t         n, i;
	int            bad;
} rd;

static inline unsigned g8(rd *r)
{
	if (r->i >= r->n) {
		r->bad = 1;
		return 0;
	}
	return r->b[r->i++];
}

static inline unsigned g16(rd *r)
{
	unsigned hi = g8(r);
	return (hi << 8) | g8(r);
}

static inline unsigned g24(rd *r)
{
	unsigned hi = g16(r);
	return (hi << 8) | g8(r);
}

/* k bytes from r, or NULL (and r->bad, r at its end) when fewer are left */
static inline const uint8_t *take(rd *r, size_t k)
{
	if (r->bad || k > r->n - r->i) {
		r->bad = 1;
		r->i = r->n;
		return NULL;
	}
	const uint8_t *p = r->b + r->i;
	r->i += k;
	return p;
}

static inline void skip(rd *r, size_t k)
{
	(void)take(r, k);
}

#endif
