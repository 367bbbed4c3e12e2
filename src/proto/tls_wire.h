/*
 * TLS record layer and alerts: wire facts only.
 * Sources: RFC 8446 (TLS 1.3) sections 5.1 and 6, RFC 5246 (TLS 1.2)
 * section 7.2, RFC 6520 (heartbeat), IANA TLS Alerts registry.
 */
#ifndef SD_TLS_WIRE_H
#define SD_TLS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define TLS_CT_CHANGE_CIPHER_SPEC 20
#define TLS_CT_ALERT              21
#define TLS_CT_HANDSHAKE          22
#define TLS_CT_APPLICATION_DATA   23
#define TLS_CT_HEARTBEAT          24

#define TLS_V_SSL3  0x0300
#define TLS_V_TLS10 0x0301
#define TLS_V_TLS11 0x0302
#define TLS_V_TLS12 0x0303
#define TLS_V_TLS13 0x0304

#define TLS_ALERT_WARNING 1
#define TLS_ALERT_FATAL   2
#define TLS_ALERT_UNRECOGNIZED_NAME 112u /* RFC 6066 3: no server of that name (or none given) */

/* A host name that goes into the SNI extension (an IP literal does not,
 * RFC 6066 3): letters in it, no ':' (the rule sd_tls_hello_build follows). */
static inline int tls_sni_is_name(const char *s)
{
	int alpha = 0;
	if (!s || !*s)
		return 0;
	for (const char *p = s; *p; p++) {
		if (*p == ':')
			return 0;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-')
			alpha = 1;
	}
	return alpha;
}


/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
#define TLS_HS_CLIENT_HELLO        1
#define TLS_HS_SERVER_HELLO        2
#define TLS_HS_ENCRYPTED_EXTENSIONS 8 /* RFC 8446 4.3.1 */
#define TLS_HS_CERTIFICATE        11
#define TLS_HS_SERVER_KEY_EXCHANGE 12
#define TLS_HS_CERTIFICATE_REQUEST 13
#define TLS_HS_SERVER_HELLO_DONE  14

/* Extension types (IANA TLS ExtensionType Values). */
#define TLS_EXT_SERVER_NAME            0x0000 /* RFC 6066 */
#define TLS_EXT_SUPPORTED_GROUPS       0x000a /* RFC 8422, 7919 */
#define TLS_EXT_EC_POINT_FORMATS       0x000b /* RFC 8422 */
#define TLS_EXT_SIGNATURE_ALGORITHMS   0x000d /* RFC 8446 4.2.3 */
#define TLS_EXT_ALPN                   0x0010 /* RFC 7301 */
#define TLS_EXT_PADDING                0x0015 /* RFC 7685 */
#define TLS_EXT_EXTENDED_MASTER_SECRET 0x0017 /* RFC 7627 */
#define TLS_EXT_SUPPORTED_VERSIONS     0x002b /* RFC 8446 4.2.1 */
#define TLS_EXT_PSK_KEY_EXCHANGE_MODES 0x002d /* RFC 8446 4.2.9 */
#define TLS_EXT_KEY_SHARE              0x0033 /* RFC 8446 4.2.8 */
#define TLS_EXT_RENEGOTIATION_INFO     0xff01 /* RFC 5746 */

/* Signalling suite values: never "accepted" suites. */
#define TLS_SCSV_EMPTY_RENEGOTIATION_INFO 0x00ff /* RFC 5746 */
#define TLS_SCSV_FALLBACK                 0x5600 /* RFC 7507: never offer it when probing */

/* ECCurveType named_curve (RFC 8422 5.4). */
#define TLS_EC_NAMED_CURVE 3

/* The HelloRetryRequest random: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3). */
static inline int tls_is_hrr_random(const uint8_t *r)
{
	static const uint8_t hrr[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	};
	for (size_t i = 0; i < sizeof hrr; i++)
		if (r[i] != hrr[i])
			return 0;
	return 1;
}

/* Limits and timeouts of the prober, in one block. */
#define TLS_RECORD_MAX      (16384u + 2048u) /* RFC 5246 6.2.3: ciphertext limit */
#define TLS_PROBE_WAIT_MS   3000u  /* a server thinks at most this long before it answers */
#define TLS_CONNECT_MS      3000u
#define TLS_OVERALL_S       60u    /* `tls`: the whole run, when no --timeout says otherwise */
#define TLS_BANNER_MIN      64u    /* bytes of a non-TLS answer worth waiting for */
#define TLS_BANNER_LINGER_MS 100u  /* and for at most this long */

/* Alert description names (IANA registry), or NULL if unassigned. */
static inline const char *tls_alert_name(uint8_t d)
{
	switch (d) {
	case 0: return "close_notify";
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 21: return "decryption_failed";
	case 22: return "record_overflow";
	case 30: return "decompression_failure";
	case 40: return "handshake_failure";
	case 41: return "no_certificate";
	case 42: return "bad_certificate";
	case 43: return "unsupported_certificate";
	case 44: return "certificate_revoked";
	case 45: return "certificate_expired";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 49: return "access_denied";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 60: return "export_restriction";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 86: return "inappropriate_fallback";
	case 90: return "user_canceled";
	case 100: return "no_renegotiation";
	case 109: return "missing_extension";
	case 110: return "unsupported_extension";
	case 111: return "certificate_unobtainable";
	case 112: return "unrecognized_name";
	case 113: return "bad_certificate_status_response";
	case 114: return "bad_certificate_hash_value";
	case 115: return "unknown_psk_identity";
	case 116: return "certificate_required";
	case 120: return "no_application_protocol";
	default: return NULL;
	}
}

static inline const char *tls_version_name(unsigned v)
{
	switch (v) {
	case TLS_V_SSL3: return "SSLv3";
	case TLS_V_TLS10: return "TLSv1.0";
	case TLS_V_TLS11: return "TLSv1.1";
	case TLS_V_TLS12: return "TLSv1.2";
	case TLS_V_TLS13: return "TLSv1.3";
	default: return NULL;
	}
}

/* A plausible record header: content type, version 3.x, length <= 2^14+2048. */
static inline int tls_is_record(const uint8_t *b, size_t n)
{
	if (n < 3 || b[0] < TLS_CT_CHANGE_CIPHER_SPEC || b[0] > TLS_CT_HEARTBEAT || b[1] != 3 || b[2] > 4)
		return 0;
	if (n >= 5 && (((unsigned)b[3] << 8) | b[4]) > 16384 + 2048)
		return 0;
	return 1;
}

#endif
