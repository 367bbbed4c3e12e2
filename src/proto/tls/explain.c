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
		static _Thread_local uint8_t hs[4096]; /* bounded; one per thread (probe --targets runs probes at once) */
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

/* A TLS record where something else was expected: a TLS endpoint is on
 * this line or port. To a TLS client it is no failure, only framing. */
static unsigned tls_diagnose(const sd_classify_in *in, sd_diag *d)
{
	const uint8_t *b = in->rx;
	size_t n = b ? in->rx_len : 0;
	if (!tls_is_record(b, n))
		return 0;
	if (in->expect && strcmp(in->expect, "tls") == 0)
		return SD_CLAIM_FRAMED;
	sd_finding *f = sd_diag_add(d, SD_CAUSE_TLS_ALERT, 0.86f);
	if (!f)
		return SD_CLAIM_FRAMED;
	sd_finding_evidence(f, in->tx, in->tx_len, b, n);
	if (b[0] == TLS_CT_ALERT && n >= 7) {
		const char *an = tls_alert_name(b[6]);
		sd_finding_summary(f, "a TLS peer answered with an alert: %s (%u)", an ? an : "unassigned", b[6]);
	} else {
		sd_finding_summary(f, "a TLS peer answered (a record of content type %u)", b[0]);
	}
	sd_finding_fix(f, (in->link_caps & SD_LINK_NET) ? "this port speaks TLS: use a TLS client (shakedown tls)"
							 : "a TLS endpoint is on this line: use a TLS client, not a bootloader tool");
	return SD_CLAIM_FRAMED;
}

/* probe's first frame on a network port: one TLS 1.2 hello with the suites
 * and groups most servers take, no SNI (probe knows no host name). */
static size_t tls_poke_build(uint8_t *buf, size_t cap)
{
	static const uint16_t suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
					   0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
	static const uint16_t groups[] = { 0x001d, 0x0017, 0x0018 };
	sd_tls_hello_cfg c = { .version = SD_TLS_TLS12, .suites = suites, .nsuites = SDI_ARRAY_LEN(suites),
			       .groups = groups, .ngroups = SDI_ARRAY_LEN(groups), .seed = 0x5d5d };
	int n = sd_tls_hello_build(&c, buf, cap);
	return n > 0 ? (size_t)n : 0;
}

const sd_proto sdi_proto_tls = {
	.name = "tls",
	.title = "TLS",
	.expects = "a handshake record 16 03 0x (ServerHello) to a ClientHello",
	.explain = tls_explain,
	.diagnose = tls_diagnose,
	.poke_order = 90,
	.flags = SD_PROTO_NET,
	.poke_build = tls_poke_build,
	.own_command = "shakedown tls HOST[:PORT]",
};
