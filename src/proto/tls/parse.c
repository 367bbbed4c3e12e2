/*
 * shakedown — TLS: reading what a server sent back to a ClientHello.
 *
 * Stateless and bounded: the caller hands in everything received so far;
 * records are walked from the first byte, handshake payloads are appended
 * to a caller scratch buffer (messages may span records, RFC 5246 6.2.1)
 * and read from there. Every length is checked against what is present
 * before use; a lie in a length field is MALFORMED with the rule named,
 * never a read past the end.
 */
#include "internal.h"
#include "tls_internal.h"

static int malformed(sd_tls_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int malformed(sd_tls_server *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	s->answer = SD_TLS_MALFORMED;
	s->complete = 1;
	return s->answer;
}

/* ServerHello body (RFC 8446 4.1.3 / RFC 5246 7.4.1.3). */
static int server_hello(sd_tls_server *s, const uint8_t *b, size_t n)
{
	rd r = { b, n, 0, 0 };
	unsigned ver = g16(&r);
	if (r.n < 2 + 32 + 1)
		return malformed(s, "ServerHello of %zu bytes: shorter than version + random + session id", n);
	int hrr = tls_is_hrr_random(b + 2);
	skip(&r, 32);
	unsigned sid = g8(&r);
	if (sid > 32)
		return malformed(s, "ServerHello session id of %u bytes (at most 32)", sid);
	skip(&r, sid);
	unsigned suite = g16(&r);
	unsigned comp = g8(&r);
	if (r.bad)
		return malformed(s, "ServerHello ends inside its fixed fields");
	s->version = (uint16_t)ver;
	s->suite = (uint16_t)suite;
	s->compression = (uint8_t)comp;
	if (r.i < r.n) { /* extensions */
		size_t elen = g16(&r);
		if (r.bad || elen > r.n - r.i)
			return malformed(s, "ServerHello extensions length %zu runs past the message", elen);
		size_t end = r.i + elen;
		while (r.i < end) {
			unsigned type = g16(&r);
			size_t len = g16(&r);
			if (r.bad || len > end - r.i)
				return malformed(s, "ServerHello extension 0x%04x length %zu runs past the list", type, len);
			rd x = { b + r.i, len, 0, 0 };
			if (type == TLS_EXT_SUPPORTED_VERSIONS) {
				unsigned v = g16(&x);
				if (x.bad || len != 2)
					return malformed(s, "supported_versions in a ServerHello must be 2 bytes, not %zu", len);
				s->version = (uint16_t)v;
			} else if (type == TLS_EXT_KEY_SHARE) {
				unsigned g = g16(&x);
				if (x.bad)
					return malformed(s, "key_share of %zu bytes has no group", len);
				s->group = (uint16_t)g;
			}
			skip(&r, len);
		}
	}
	s->answer = hrr ? SD_TLS_HRR : SD_TLS_HELLO;
	if (hrr && s->version != SD_TLS_TLS13)
		return malformed(s, "a HelloRetryRequest without supported_versions 0x0304");
	return s->answer;
}

/* Certificate (TLS <= 1.2, RFC 5246 7.4.2): a 3-byte list of 3-byte DERs. */
static int certificate(sd_tls_server *s, const uint8_t *b, size_t n)
{
	rd r = { b, n, 0, 0 };
	size_t list = g24(&r);
	if (r.bad || list != n - 3)
		return malformed(s, "Certificate list length %zu does not match its message (%zu)", list, n);
	while (r.i < r.n) {
		size_t k = g24(&r);
		if (r.bad || k > r.n - r.i)
			return malformed(s, "certificate %zu of length %zu runs past the list", s->ncerts + 1, k);
		if (s->ncerts == 0)
			s->cert0_len = k;
		s->ncerts++;
		skip(&r, k);
	}
	s->got |= SD_TLS_GOT_CERT;
	return s->answer;
}

/* ServerKeyExchange: only the ECDHE prefix is read (RFC 8422 5.4). */
static void server_key_exchange(sd_tls_server *s, const uint8_t *b, size_t n)
{
	s->got |= SD_TLS_GOT_SKE;
	if (n >= 3 && b[0] == TLS_EC_NAMED_CURVE && sdi_tls_suite_is_ecdhe(s->suite))
		s->group = (uint16_t)((b[1] << 8) | b[2]);
}

/* What may follow a ServerHello inside the handshake stream (RFC 5246
 * 7.4, RFC 6066 8, RFC 8446 4): anything else there is garbage. */
static int follows_hello(unsigned mt)
{
	return mt == 4 || mt == TLS_HS_ENCRYPTED_EXTENSIONS || mt == TLS_HS_CERTIFICATE ||
	       mt == TLS_HS_SERVER_KEY_EXCHANGE || mt == TLS_HS_CERTIFICATE_REQUEST ||
	       mt == TLS_HS_SERVER_HELLO_DONE || mt == 20 || mt == 22 || mt == 23;
}

/* The bytes after the record where the answer was complete, as far as they
 * have arrived: the start of another record, or garbage (RFC 5246 6.2.1:
 * every byte of the connection is in a record). 1 and why when garbage. */
static int junk_after(sd_tls_server *s, const uint8_t *b, size_t n, size_t pos)
{
	if (pos >= n)
		return 0;
	const uint8_t *r = b + pos;
	size_t k = n - pos;
	size_t len = k >= 5 ? ((size_t)r[3] << 8) | r[4] : 0;
	if (r[0] < TLS_CT_CHANGE_CIPHER_SPEC || r[0] > TLS_CT_HEARTBEAT || (k >= 2 && r[1] != 3) ||
	    (k >= 5 && (len > TLS_RECORD_MAX || (len == 0 && r[0] != TLS_CT_APPLICATION_DATA)))) {
		malformed(s, "%zu byte%s after the ServerHello %s no TLS record (starting %02x)", k,
			  k == 1 ? "" : "s", k == 1 ? "is" : "are", r[0]);
		return 1;
	}
	return 0;
}

int sd_tls_parse(const uint8_t *b, size_t n, int want_flight, uint8_t *hs, size_t hscap,
		 sd_tls_server *s)
{
	if (!s)
		return SD_TLS_MORE;
	memset(s, 0, sizeof *s);
	if (!b || n == 0)
		return SD_TLS_MORE;

	/* The first byte(s): a TLS record, or something else entirely. */
	if (b[0] < TLS_CT_CHANGE_CIPHER_SPEC || b[0] > TLS_CT_HEARTBEAT || (n >= 2 && b[1] != 3) ||
	    (n >= 3 && b[2] > 4)) {
		s->answer = SD_TLS_NOT_TLS;
		s->complete = 1;
		return s->answer;
	}
	size_t pos = 0, hsn = 0, hsread = 0;
	int hello_seen = 0;
	while (pos + 5 <= n && !s->complete) {
		unsigned type = b[pos];
		unsigned rv = ((unsigned)b[pos + 1] << 8) | b[pos + 2];
		size_t len = ((size_t)b[pos + 3] << 8) | b[pos + 4];
		if (pos == 0)
			s->record_version = (uint16_t)rv;
		if (type < TLS_CT_CHANGE_CIPHER_SPEC || type > TLS_CT_HEARTBEAT || (rv >> 8) != 3)
			return malformed(s, "record at byte %zu: type %u version 0x%04x is not TLS", pos, type, rv);
		if (len > TLS_RECORD_MAX)
			return malformed(s, "record at byte %zu claims %zu bytes (limit 2^14+2048)", pos, len);
		if (len == 0 && type != TLS_CT_APPLICATION_DATA)
			return malformed(s, "empty record of type %u at byte %zu", type, pos);
		if (len > n - pos - 5)
			break; /* the rest of this record has not arrived */
		const uint8_t *p = b + pos + 5;
		pos += 5 + len;
		s->used = pos;

		if (type == TLS_CT_ALERT) {
			if (len < 2)
				return malformed(s, "alert record of %zu byte (needs 2)", len);
			if (!s->alert_seen) {
				s->alert_seen = 1;
				s->alert_level = p[0];
				s->alert_desc = p[1];
			}
			/* a warning before the hello (unrecognized_name, RFC 6066 3)
			 * does not end the handshake: read on */
			if (!hello_seen && p[0] == TLS_ALERT_WARNING && p[1] != 0)
				continue;
			if (!hello_seen)
				s->answer = SD_TLS_ALERT;
			s->complete = 1;
			break;
		}
		if (type != TLS_CT_HANDSHAKE) {
			if (!hello_seen)
				return malformed(s, "a record of type %u before any ServerHello", type);
			s->got |= SD_TLS_GOT_CCS; /* TLS 1.3 compat CCS or encrypted flight */
			if (want_flight == SD_TLS_FLIGHT_EE && type == TLS_CT_CHANGE_CIPHER_SPEC)
				continue;
			s->complete = 1;
			break;
		}
		/* append to the reassembly buffer, bounded */
		size_t take = hs ? SDI_MIN(len, hscap - hsn) : 0;
		if (take)
			memcpy(hs + hsn, p, take);
		hsn += take;
		if (take < len)
			s->got |= SD_TLS_CUT;

		/* read the whole messages now present */
		while (hsn - hsread >= 4 && !s->complete) {
			const uint8_t *m = hs + hsread;
			unsigned mt = m[0];
			size_t ml = ((size_t)m[1] << 16) | ((size_t)m[2] << 8) | m[3];
			if (ml > hsn - hsread - 4) {
				if ((s->got & SD_TLS_CUT) && hello_seen) {
					s->complete = 1; /* a chain bigger than the scratch: keep what we know */
					break;
				}
				if (ml > 4 + 65536u * 4u)
					return malformed(s, "handshake message type %u claims %zu bytes", mt, ml);
				break;
			}
			hsread += 4 + ml;
			if (!hello_seen) {
				if (mt != TLS_HS_SERVER_HELLO)
					return malformed(s, "the first handshake message is type %u, not ServerHello (2)", mt);
				hello_seen = 1;
				if (server_hello(s, m + 4, ml) == SD_TLS_MALFORMED)
					return s->answer;
				if (want_flight == SD_TLS_FLIGHT_EE && s->answer == SD_TLS_HELLO &&
				    s->version == SD_TLS_TLS13)
					continue; /* on to the first encrypted record */
				if (s->answer == SD_TLS_HRR || s->version >= SD_TLS_TLS13 || !want_flight ||
				    (want_flight == SD_TLS_FLIGHT_CURVE && !sdi_tls_suite_is_ecdhe(s->suite))) {
					s->complete = 1;
					/* what came with it in the same record must be
					 * handshake messages too */
					if (hsn > hsread && !follows_hello(hs[hsread]))
						return malformed(s, "byte %02x after the ServerHello in its record is no handshake message",
								 hs[hsread]);
				}
				continue;
			}
			switch (mt) {
			case TLS_HS_CERTIFICATE:
				if (certificate(s, m + 4, ml) == SD_TLS_MALFORMED)
					return s->answer;
				break;
			case TLS_HS_SERVER_KEY_EXCHANGE:
				server_key_exchange(s, m + 4, ml);
				if (want_flight == SD_TLS_FLIGHT_CURVE)
					s->complete = 1; /* the curve is all we wanted */
				break;
			case TLS_HS_SERVER_HELLO_DONE:
				s->got |= SD_TLS_GOT_DONE;
				s->complete = 1;
				break;
			default:
				break;
			}
		}
		if ((s->got & SD_TLS_CUT) && hello_seen)
			s->complete = 1;
		else if ((s->got & SD_TLS_CUT) && !hello_seen)
			return malformed(s, "a ServerHello bigger than %zu bytes", hscap);
	}
	if (hello_seen && (s->answer == SD_TLS_HELLO || s->answer == SD_TLS_HRR) && junk_after(s, b, n, pos))
		return s->answer;
	return s->answer;
}
