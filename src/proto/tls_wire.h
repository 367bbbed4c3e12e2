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
