/*
 * shakedown — TLS: the few primitives that reading a TLS 1.3
 * EncryptedExtensions takes (SHA-256/384, HMAC, AES-GCM and
 * ChaCha20-Poly1305), from OpenSSL's libcrypto.
 *
 * libcrypto is loaded with dlopen the first time a TLS 1.3 probe needs it,
 * not at start-up: linking it costs every run of the program about 0.5 ms
 * of dynamic loading (measured: a no-op linked with -lcrypto starts in
 * 1.16 ms, without it in 0.58 ms), and most runs never read an encrypted
 * record. Headers come from pkg-config as usual; the calls go through this
 * table. Thread-safe: the TLS lanes run in threads.
 */
#include "internal.h"
#include "tls_internal.h"

#ifdef SD_WITH_LIBCRYPTO
#include <dlfcn.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

static struct {
	int ok;
	char why[160];
	int (*init)(uint64_t, const OPENSSL_INIT_SETTINGS *);
	int (*digest)(const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *);
	const EVP_MD *(*sha256)(void);
	const EVP_MD *(*sha384)(void);
	unsigned char *(*hmac)(const EVP_MD *, const void *, int, const unsigned char *, size_t,
			       unsigned char *, unsigned int *);
	EVP_CIPHER_CTX *(*ctx_new)(void);
	void (*ctx_free)(EVP_CIPHER_CTX *);
	int (*ctx_ctrl)(EVP_CIPHER_CTX *, int, int, void *);
	int (*dec_init)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *,
			const unsigned char *);
	int (*dec_update)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int);
	int (*dec_final)(EVP_CIPHER_CTX *, unsigned char *, int *);
	const EVP_CIPHER *(*aes128gcm)(void);
	const EVP_CIPHER *(*aes256gcm)(void);
	const EVP_CIPHER *(*chacha)(void);
} C;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		sdi_fmt(C.why, sizeof C.why, "cannot load libcrypto.so.3 (%s): install libssl3", dlerror());
		return;
	}
	/* POSIX: a function pointer converts from dlsym's void * this way */
#define LOAD(f, name)                                                      \
	do {                                                               \
		*(void **)(&C.f) = dlsym(h, name);                         \
		if (!C.f) {                                                \
			sdi_fmt(C.why, sizeof C.why, "libcrypto.so.3 lacks %s", name); \
			dlclose(h);                                        \
			return;                                            \
		}                                                          \
	} while (0)
	/* First of all: no atexit cleanup (freeing every provider table at
	 * exit cost each run ~2 ms, longer than the whole use), and no
	 * openssl.cnf (nothing in it concerns a hash and an AEAD open). */
	LOAD(init, "OPENSSL_init_crypto");
	if (!C.init(OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_LOAD_CONFIG, NULL)) {
		sdi_fmt(C.why, sizeof C.why, "libcrypto.so.3 failed to initialise");
		return; /* stays loaded: it may have registered state */
	}
	LOAD(digest, "EVP_Digest"); LOAD(sha256, "EVP_sha256"); LOAD(sha384, "EVP_sha384");
	LOAD(hmac, "HMAC"); LOAD(ctx_new, "EVP_CIPHER_CTX_new"); LOAD(ctx_free, "EVP_CIPHER_CTX_free");
	LOAD(ctx_ctrl, "EVP_CIPHER_CTX_ctrl"); LOAD(dec_init, "EVP_DecryptInit_ex");
	LOAD(dec_update, "EVP_DecryptUpdate"); LOAD(dec_final, "EVP_DecryptFinal_ex");
	LOAD(aes128gcm, "EVP_aes_128_gcm"); LOAD(aes256gcm, "EVP_aes_256_gcm");
	LOAD(chacha, "EVP_chacha20_poly1305");
#undef LOAD
	C.ok = 1;
}

/* The first calls into libcrypto 3 cost about 1 ms more (library
 * initialisation, provider fetches): made once, here, so that a caller can
 * pay for them in a thread while its first probes run. */
static void warm(void)
{
	uint8_t out[48], key[32] = { 0 }, nonce[12] = { 0 }, ct[17] = { 0 };
	sdi_tls_hash(32, key, sizeof key, out);
	sdi_tls_hmac(48, key, sizeof key, key, sizeof key, out);
	for (uint16_t suite = 0x1301; suite <= 0x1303; suite++)
		sdi_tls_aead_open(suite, key, nonce, key, 5, ct, sizeof ct, out); /* a wrong tag: fine */
}

static void load_and_warm(void)
{
	load();
	if (C.ok)
		warm();
}

int sdi_tls_crypto_load(char *why, size_t whylen)
{
	pthread_once(&load_once, load_and_warm);
	if (!C.ok) {
		sdi_fmt(why, whylen, "%s", C.why);
		return SD_ERR_UNSUPPORTED;
	}
	return SD_OK;
}

static const EVP_MD *md(size_t hlen)
{
	return hlen == 48 ? C.sha384() : C.sha256();
}

int sdi_tls_hash(size_t hlen, const uint8_t *d, size_t n, uint8_t *out)
{
	unsigned int len = 0;
	if (!C.ok || !C.digest(d, n, out, &len, md(hlen), NULL) || len != hlen)
		return SD_ERR_UNSUPPORTED;
	return SD_OK;
}

int sdi_tls_hmac(size_t hlen, const uint8_t *key, size_t keylen, const uint8_t *d, size_t n, uint8_t *out)
{
	unsigned int len = 0;
	if (!C.ok || keylen > 1024 || !C.hmac(md(hlen), key, (int)keylen, d, n, out, &len) || len != hlen)
		return SD_ERR_UNSUPPORTED;
	return SD_OK;
}

int sdi_tls_aead_open(uint16_t suite, const uint8_t *key, const uint8_t nonce[12], const uint8_t *aad,
		      size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (!C.ok || ctlen < 16 || ctlen - 16 > INT32_MAX || aadlen > 64)
		return SD_ERR_ARG;
	const EVP_CIPHER *ci = suite == 0x1301 ? C.aes128gcm() : suite == 0x1302 ? C.aes256gcm()
			     : suite == 0x1303 ? C.chacha() : NULL;
	if (!ci)
		return SD_ERR_UNSUPPORTED;
	EVP_CIPHER_CTX *x = C.ctx_new();
	if (!x)
		return SD_ERR_NOMEM;
	uint8_t tag[16];
	memcpy(tag, ct + ctlen - 16, 16);
	int n = 0, m = 0;
	int ok = C.dec_init(x, ci, NULL, NULL, NULL) && C.ctx_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) &&
		 C.dec_init(x, NULL, NULL, key, nonce) && C.dec_update(x, NULL, &n, aad, (int)aadlen) &&
		 C.dec_update(x, out, &n, ct, (int)(ctlen - 16)) &&
		 C.ctx_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, tag) && C.dec_final(x, out + n, &m) > 0;
	C.ctx_free(x);
	return ok ? n + m : SD_ERR_PROTO;
}

#else /* built without libcrypto: no TLS 1.3 record is ever read */

int sdi_tls_crypto_load(char *why, size_t whylen)
{
	sdi_fmt(why, whylen, "built without libcrypto");
	return SD_ERR_UNSUPPORTED;
}

int sdi_tls_hash(size_t hlen, const uint8_t *d, size_t n, uint8_t *out)
{
	(void)hlen, (void)d, (void)n, (void)out;
	return SD_ERR_UNSUPPORTED;
}

int sdi_tls_hmac(size_t hlen, const uint8_t *key, size_t keylen, const uint8_t *d, size_t n, uint8_t *out)
{
	(void)hlen, (void)key, (void)keylen, (void)d, (void)n, (void)out;
	return SD_ERR_UNSUPPORTED;
}

int sdi_tls_aead_open(uint16_t suite, const uint8_t *key, const uint8_t nonce[12], const uint8_t *aad,
		      size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	(void)suite, (void)key, (void)nonce, (void)aad, (void)aadlen, (void)ct, (void)ctlen, (void)out;
	return SD_ERR_UNSUPPORTED;
}
#endif

int sd_tls_crypto_prepare(void)
{
	char why[160];
	return sdi_tls_crypto_load(why, sizeof why);
}
