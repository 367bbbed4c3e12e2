/*
 * shakedown — TLS 1.3: the server's own list of groups, from its
 * EncryptedExtensions (RFC 8446 4.2.7: a server may send supported_groups
 * there; OpenSSL sends its whole list, in its order, whenever the client's
 * key share is not its first choice).
 *
 * Reading it takes the handshake keys, and those take the shared secret. Our
 * key shares for P-256/384/521 are the curve's base point, whose private key
 * is 1, so the shared secret is the x coordinate of the server's own share:
 * no key pair and no ECDH, only the key schedule (RFC 8446 7.1) and one AEAD
 * open, with libcrypto's primitives. The handshake is abandoned right after;
 * nothing is ever sent under these keys, so their weakness costs nothing.
 *
 * Every length is checked before use; a server that lies gets SD_ERR_PROTO.
 */
#include "internal.h"
#include "tls_internal.h"

int sd_tls13_ee_groups(const uint8_t *m, size_t n, uint16_t *groups, size_t max, size_t *count)
{
	*count = 0;
	rd r = { m, n, 0, 0 };
	unsigned type = g8(&r);
	size_t len = (size_t)g8(&r) << 16;
	len |= g16(&r);
	if (r.bad || type != TLS_HS_ENCRYPTED_EXTENSIONS || len > n - 4)
		return SD_ERR_PROTO;
	rd e = { m + 4, len, 0, 0 };
	size_t elen = g16(&e);
	if (e.bad || elen != len - 2)
		return SD_ERR_PROTO;
	while (e.i < e.n) {
		unsigned et = g16(&e);
		size_t el = g16(&e);
		const uint8_t *x = take(&e, el);
		if (!x)
			return SD_ERR_PROTO;
		if (et != TLS_EXT_SUPPORTED_GROUPS)
			continue;
		rd l = { x, el, 0, 0 };
		size_t ll = g16(&l);
		if (l.bad || ll != el - 2 || ll % 2 || ll == 0)
			return SD_ERR_PROTO;
		while (l.i < l.n && *count < max)
			groups[(*count)++] = (uint16_t)g16(&l);
		return 1;
	}
	return 0;
}

/* Our ClientHello's share for `group` is the base point (private key 1). */
static int our_share_is_base(const uint8_t *ch, size_t n, uint16_t group)
{
	size_t glen;
	const uint8_t *gen = sdi_tls_generator(group, &glen);
	rd r = { ch, n, 0, 0 };
	take(&r, 4 + 2 + 32); /* header, legacy_version, random */
	take(&r, g8(&r));     /* session id */
	take(&r, g16(&r));    /* suites */
	take(&r, g8(&r));     /* compression */
	size_t elen = g16(&r);
	const uint8_t *ext = take(&r, elen);
	if (!gen || !ext)
		return 0;
	rd e = { ext, elen, 0, 0 };
	while (e.i < e.n && !e.bad) {
		unsigned et = g16(&e);
		size_t el = g16(&e);
		const uint8_t *x = take(&e, el);
		if (!x || et != TLS_EXT_KEY_SHARE)
			continue;
		rd k = { x, el, 0, 0 };
		take(&k, 2); /* the list's length */
		while (k.i < k.n && !k.bad) {
			unsigned g = g16(&k);
			size_t kl = g16(&k);
			const uint8_t *key = take(&k, kl);
			if (key && g == group)
				return kl == glen && memcmp(key, gen, glen) == 0;
		}
	}
	return 0;
}

/* HKDF-Expand-Label (RFC 8446 7.1) for out_len <= hlen: one HMAC block. */
static int expand_label(size_t hlen, const uint8_t *secret, const char *label, const uint8_t *ctx,
			size_t ctxlen, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 64 + 1], full[64];
	size_t ll = strlen(label), i = 0;
	if (ll > 32 || ctxlen > 64 || out_len > hlen)
		return SD_ERR_ARG;
	info[i++] = (uint8_t)(out_len >> 8);
	info[i++] = (uint8_t)out_len;
	info[i++] = (uint8_t)(6 + ll);
	memcpy(info + i, "tls13 ", 6);
	i += 6;
	memcpy(info + i, label, ll);
	i += ll;
	info[i++] = (uint8_t)ctxlen;
	if (ctxlen)
		memcpy(info + i, ctx, ctxlen);
	i += ctxlen;
	info[i++] = 1; /* T(1) = HMAC(PRK, info | 0x01) */
	int rc = sdi_tls_hmac(hlen, secret, hlen, info, i, full);
	if (rc == SD_OK)
		memcpy(out, full, out_len);
	return rc;
}

int sd_tls13_listed_groups(const uint8_t *hello, size_t hello_len, const uint8_t *rx, size_t rx_len,
			   uint8_t *scratch, size_t scratch_cap, uint16_t *groups, size_t max, size_t *count)
{
	*count = 0;
	/* our ClientHello: one record, one message */
	if (!hello || hello_len < 9 || hello[0] != TLS_CT_HANDSHAKE)
		return SD_ERR_ARG;
	size_t chn = ((size_t)hello[3] << 8) | hello[4];
	if (chn > hello_len - 5)
		return SD_ERR_ARG;
	const uint8_t *ch = hello + 5;

	/* the ServerHello: whole in the first record */
	rd rec = { rx, rx_len, 0, 0 };
	const uint8_t *h = take(&rec, 5);
	if (!h || h[0] != TLS_CT_HANDSHAKE)
		return SD_ERR_PROTO;
	size_t rlen = ((size_t)h[3] << 8) | h[4];
	const uint8_t *shr = take(&rec, rlen);
	if (!shr || rlen < 4 || shr[0] != TLS_HS_SERVER_HELLO)
		return SD_ERR_PROTO;
	size_t shn = ((size_t)shr[1] << 16) | ((size_t)shr[2] << 8) | shr[3];
	if (shn > rlen - 4)
		return SD_ERR_PROTO; /* spread over records: not from a server we can read */
	rd s = { shr + 4, shn, 0, 0 };
	take(&s, 2 + 32);
	take(&s, g8(&s));
	uint16_t suite = (uint16_t)g16(&s);
	take(&s, 1);
	size_t elen = g16(&s);
	const uint8_t *ext = take(&s, elen);
	if (!ext)
		return SD_ERR_PROTO;
	uint16_t group = 0, version = 0;
	const uint8_t *pub = NULL;
	size_t publen = 0;
	rd e = { ext, elen, 0, 0 };
	while (e.i < e.n) {
		unsigned et = g16(&e);
		size_t el = g16(&e);
		const uint8_t *x = take(&e, el);
		if (!x)
			return SD_ERR_PROTO;
		rd k = { x, el, 0, 0 };
		if (et == TLS_EXT_SUPPORTED_VERSIONS) {
			version = (uint16_t)g16(&k);
		} else if (et == TLS_EXT_KEY_SHARE) {
			group = (uint16_t)g16(&k);
			publen = g16(&k);
			pub = take(&k, publen);
		}
	}
	size_t glen;
	if (version != SD_TLS_TLS13 || !pub || !sdi_tls_generator(group, &glen) || publen != glen ||
	    pub[0] != 4)
		return SD_ERR_PROTO;
	if (!our_share_is_base(ch, chn, group))
		return SD_ERR_ARG; /* a share we do not hold the key of */
	const uint8_t *shared = pub + 1; /* 1 * their point: its x coordinate */
	size_t sharedlen = (publen - 1) / 2;

	/* the first encrypted record (after an optional compatibility CCS) */
	const uint8_t *rh = NULL, *ct = NULL;
	size_t ctlen = 0;
	while (!rh) {
		const uint8_t *x = take(&rec, 5);
		if (!x)
			return SD_ERR_PROTO;
		size_t l = ((size_t)x[3] << 8) | x[4];
		const uint8_t *p = take(&rec, l);
		if (!p || l > TLS_RECORD_MAX)
			return SD_ERR_PROTO;
		if (x[0] == TLS_CT_CHANGE_CIPHER_SPEC)
			continue;
		if (x[0] != TLS_CT_APPLICATION_DATA || l < 17)
			return SD_ERR_PROTO;
		rh = x, ct = p, ctlen = l;
	}

	size_t hlen = suite == 0x1302 ? 48 : 32, keylen = suite == 0x1301 ? 16 : 32;
	if (suite < 0x1301 || suite > 0x1303)
		return SD_ERR_UNSUPPORTED; /* the CCM suites: no list, the probes go on */
	char why[160];
	int rc = sdi_tls_crypto_load(why, sizeof why);
	if (rc < 0)
		return rc;
	/* the key schedule, up to the server's handshake traffic keys */
	uint8_t zero[48] = { 0 }, early[48], empty_hash[48], derived[48], hs[48], th[48], shts[48];
	uint8_t key[32], iv[12];
	/* the transcript (both messages, headers included), then the plaintext,
	 * one after the other in the caller's scratch */
	if (!scratch || scratch_cap < chn + 4 + shn || scratch_cap < ctlen)
		return SD_ERR_NOMEM;
	memcpy(scratch, ch, chn);
	memcpy(scratch + chn, shr, 4 + shn);
	rc = sdi_tls_hash(hlen, scratch, chn + 4 + shn, th);
	if (rc == SD_OK)
		rc = sdi_tls_hmac(hlen, zero, hlen, zero, hlen, early);
	if (rc == SD_OK)
		rc = sdi_tls_hash(hlen, zero, 0, empty_hash);
	if (rc == SD_OK)
		rc = expand_label(hlen, early, "derived", empty_hash, hlen, derived, hlen);
	if (rc == SD_OK)
		rc = sdi_tls_hmac(hlen, derived, hlen, shared, sharedlen, hs);
	if (rc == SD_OK)
		rc = expand_label(hlen, hs, "s hs traffic", th, hlen, shts, hlen);
	if (rc == SD_OK)
		rc = expand_label(hlen, shts, "key", NULL, 0, key, keylen);
	if (rc == SD_OK)
		rc = expand_label(hlen, shts, "iv", NULL, 0, iv, sizeof iv);
	if (rc < 0)
		return rc;
	/* sequence number 0: the nonce is the iv itself */
	uint8_t *pt = scratch;
	int n = sdi_tls_aead_open(suite, key, iv, rh, 5, ct, ctlen, pt);
	if (n < 0)
		return n;
	/* TLSInnerPlaintext: content, the type, zero padding (RFC 8446 5.2) */
	while (n > 0 && pt[n - 1] == 0)
		n--;
	if (n < 1 || pt[n - 1] != TLS_CT_HANDSHAKE)
		return SD_ERR_PROTO;
	return sd_tls13_ee_groups(pt, (size_t)n - 1, groups, max, count);
}
