/*
 * shakedown — TLS: its reading of unexpected bytes (the prober lives in src/proto/tls/).
 */
#include "internal.h"
#include "tls_internal.h"

static int tls_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	(void)tx;
	(void)tx_len;
	if (n == 0)
		return sdi_say(out, outlen, 0, "tls: no answer (expected a handshake record 16 03 ..)");
	if (!tls_is_record(b, n)) {
		if (b[0] >= TLS_CT_CHANGE_CIPHER_SPEC && b[0] <= TLS_CT_HEARTBEAT)
			return sdi_say(out, outlen, 10, "tls: 0x%02x is a TLS content type, but no TLS version follows", b[0]);
		return sdi_say(out, outlen, 0,
			   "tls: 0x%02x is not a TLS content type (20-24): a plaintext reply on a TLS port", b[0]);
	}
	unsigned ver = ((unsigned)b[1] << 8) | b[2];
	const char *vn = tls_version_name(ver);
	if (b[0] == TLS_CT_ALERT && n >= 7) {
		const char *an = tls_alert_name(b[6]);
		return sdi_say(out, outlen, 92, "tls: an alert record (%s, %s): %s (%u)", vn ? vn : "?",
			   b[5] == TLS_ALERT_FATAL ? "fatal" : "warning", an ? an : "unassigned", b[6]);
	}
	if (b[0] == TLS_CT_HANDSHAKE) {
		/* read the ServerHello when it is all there: name what was chosen */
		static uint8_t hs[4096]; /* explain is single-threaded and bounded */
		sd_tls_server s;
		sd_tls_parse(b, n, 0, hs, sizeof hs, &s);
		if (s.answer == SD_TLS_HELLO || s.answer == SD_TLS_HRR) {
			const sd_tls_suite *su = sd_tls_suite_find(s.suite);
			const char *sv = tls_version_name(s.version);
			const char *gn = s.group ? sd_tls_group_name(s.group) : NULL;
			return sdi_say(out, outlen, 95, "tls: a %s choosing %s, %s (0x%04X)%s%s",
				       s.answer == SD_TLS_HRR ? "HelloRetryRequest" : "ServerHello",
				       sv ? sv : "an unknown version", su ? su->iana : "an unassigned suite", s.suite,
				       gn ? ", group " : "", gn ? gn : "");
		}
		if (s.answer == SD_TLS_MALFORMED)
			return sdi_say(out, outlen, 80, "tls: a handshake record (%s) that breaks the rules: %s",
				       vn ? vn : "?", s.why);
		return sdi_say(out, outlen, 95, "tls: a handshake record (%s): a TLS server answers", vn ? vn : "?");
	}
	return sdi_say(out, outlen, 70, "tls: a record of content type %u (%s)", b[0], vn ? vn : "?");
}

const sd_proto sdi_proto_tls = {
	.name = "tls",
	.title = "TLS",
	.expects = "a handshake record 16 03 0x (ServerHello) to a ClientHello",
	.explain = tls_explain,
	.own_command = "shakedown tls HOST[:PORT]",
};
