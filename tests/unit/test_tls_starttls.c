/* src/diag/tls_starttls.c: the XMPP, LDAP and MySQL reply parsers (whole,
 * partial, refusals, bytes that are no such reply), the dialogs against a
 * scripted server on a mem link pair (it checks what we send, byte for
 * byte), the port tables, and the TLS-on-connect advice. The SMTP/IMAP/
 * POP3/FTP/PostgreSQL parsers: test_tls_diagnose.c; real servers:
 * tests/peers/tls_starttls.sh, tls_slapd.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include "internal.h"
#include "shakedown/tls.h"

static sd_starttls_reply r;

static int parse(int proto, int step, const void *b, size_t n)
{
	return sd_starttls_reply_parse(proto, step, b, n, &r);
}
#define P(proto, step, str) parse(proto, step, str, sizeof str - 1)

static const char xmpp_hdr[] =
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
	"id='abc' from='example.org' version='1.0' xml:lang='en'>";

static void xmpp_replies(void **state)
{
	(void)state;
	char buf[1024];
	/* features with STARTTLS (required), split across reads */
	snprintf(buf, sizeof buf, "%s<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
		 "</starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
		 "</mechanisms></stream:features>", xmpp_hdr);
	size_t n = strlen(buf);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, n), 1);
	assert_true(r.ok && r.offered);
	assert_int_equal(r.used, n);
	assert_string_equal(r.line, "<stream:features> starttls (required), mechanisms");
	for (size_t k = 0; k < n; k++) /* every shorter prefix wants more bytes */
		assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, k), 0);
	/* features without it */
	snprintf(buf, sizeof buf, "%s\n<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
		 "<mechanism>SCRAM-SHA-1</mechanism></mechanisms><register xmlns='http://jabber.org/features/iq-register'/>"
		 "</stream:features>", xmpp_hdr);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, strlen(buf)), 1);
	assert_true(r.ok);
	assert_false(r.offered);
	assert_string_equal(r.line, "<stream:features> mechanisms, register");
	/* a starttls of another namespace is no STARTTLS */
	snprintf(buf, sizeof buf, "%s<stream:features><starttls xmlns='urn:example'/></stream:features>", xmpp_hdr);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, strlen(buf)), 1);
	assert_false(r.offered);
	/* a stream error at the header: condition and text quoted */
	snprintf(buf, sizeof buf, "%s<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		 "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>This server does not serve 127.0.0.1</text>"
		 "</stream:error></stream:stream>", xmpp_hdr);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, strlen(buf)), 1);
	assert_false(r.ok);
	assert_string_equal(r.line, "<stream:error> host-unknown: This server does not serve 127.0.0.1");
	/* an empty <text/> and white space after it quote no markup */
	snprintf(buf, sizeof buf, "%s<stream:error><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'></text>\n "
		 "<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\n</stream:error>", xmpp_hdr);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, strlen(buf)), 1);
	assert_string_equal(r.line, "<stream:error> policy-violation");
	/* the upgrade's answers */
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_UPGRADE, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"), 1);
	assert_true(r.ok);
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_UPGRADE, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'"), 0);
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_UPGRADE, "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>"), 1);
	assert_false(r.ok);
	assert_string_equal(r.line, "<failure/>");
	/* not XMPP */
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, "220 mx ESMTP\r\n"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, "<html><body>"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, "\x15\x03\x03\x00\x02\x02\x46"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_UPGRADE, "<message/>"), SD_ERR_PROTO);
	/* a tag that never ends is bounded */
	static char longtag[1400];
	memset(longtag, 'a', sizeof longtag - 1);
	memcpy(longtag, "<stream:stream ", 15);
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, longtag, strlen(longtag)), SD_ERR_PROTO);
	/* a '>' inside a quoted attribute does not end the tag */
	snprintf(buf, sizeof buf, "<stream:stream id='a>b'><stream:features/>");
	assert_int_equal(parse(SD_STARTTLS_XMPP, SD_STARTTLS_STEP_CAPA, buf, strlen(buf)), 1);
	assert_true(r.ok);
	assert_false(r.offered);
}

/* RFC 4511 ExtendedResponse: 30 LEN 02 01 ID 78 LEN 0a 01 RC 04 00 04 LEN MSG */
static size_t ldap_resp(uint8_t *b, int id, int rc, const char *msg)
{
	size_t m = strlen(msg), op = 3 + 2 + 2 + m;
	b[0] = 0x30;
	b[1] = (uint8_t)(3 + 2 + op);
	b[2] = 0x02, b[3] = 0x01, b[4] = (uint8_t)id;
	b[5] = 0x78, b[6] = (uint8_t)op;
	b[7] = 0x0a, b[8] = 0x01, b[9] = (uint8_t)rc;
	b[10] = 0x04, b[11] = 0x00;
	b[12] = 0x04, b[13] = (uint8_t)m;
	memcpy(b + 14, msg, m);
	return 14 + m;
}

static void ldap_replies(void **state)
{
	(void)state;
	uint8_t b[256];
	size_t n = ldap_resp(b, 1, 0, "");
	assert_int_equal(parse(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, b, n), 1);
	assert_true(r.ok);
	assert_int_equal(r.used, n);
	assert_string_equal(r.line, "resultCode 0 (success)");
	for (size_t k = 0; k < n; k++)
		assert_int_equal(parse(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, b, k), 0);
	n = ldap_resp(b, 1, 52, "Could not initialize TLS");
	assert_int_equal(parse(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, b, n), 1);
	assert_false(r.ok);
	assert_int_equal(r.code, 52);
	assert_string_equal(r.line, "resultCode 52 (unavailable): Could not initialize TLS");
	n = ldap_resp(b, 0, 2, "bad\nbytes\x01");
	assert_int_equal(parse(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, b, n), 1);
	assert_false(r.ok);
	assert_string_equal(r.line, "unsolicited notice (messageID 0): resultCode 2 (protocolError): bad.bytes.");
	/* a long-form length (81 LEN) is read */
	uint8_t lf[300];
	size_t m = ldap_resp(b, 1, 53, "x");
	lf[0] = 0x30, lf[1] = 0x81, lf[2] = (uint8_t)(m - 2);
	memcpy(lf + 3, b + 2, m - 2);
	assert_int_equal(parse(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, lf, m + 1), 1);
	assert_int_equal(r.code, 53);
	/* what is no ExtendedResponse */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x30\x80"), SD_ERR_PROTO);     /* indefinite */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x30\x85\x01"), SD_ERR_PROTO); /* 5 length bytes */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x30\x84\x7f\xff\xff\xff"), SD_ERR_PROTO); /* too long */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x30\x05\x02\x01\x01\x61\x00"), SD_ERR_PROTO); /* bind response */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x30\x07\x02\x01\x01\x78\x02\x0a\x05"), SD_ERR_PROTO); /* overrun */
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "\x15\x03\x01\x00\x02\x02\x46"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_LDAP, SD_STARTTLS_STEP_UPGRADE, "HTTP/1.0 400"), SD_ERR_PROTO);
}

/* MySQL packets: 3-byte length, sequence, payload */
static size_t mysql_pkt(uint8_t *b, const uint8_t *payload, size_t n)
{
	b[0] = (uint8_t)n, b[1] = (uint8_t)(n >> 8), b[2] = 0, b[3] = 0;
	memcpy(b + 4, payload, n);
	return n + 4;
}

static size_t mysql_greeting(uint8_t *b, const char *version, unsigned caps)
{
	uint8_t p[128];
	size_t k = 0, v = strlen(version);
	p[k++] = 10;
	memcpy(p + k, version, v + 1);
	k += v + 1;
	memset(p + k, 0x41, 4 + 8); /* connection id, scramble */
	k += 12;
	p[k++] = 0;
	p[k++] = (uint8_t)caps, p[k++] = (uint8_t)(caps >> 8);
	p[k++] = 33, p[k++] = 2, p[k++] = 0; /* charset, status */
	memset(p + k, 0, 13);
	k += 13;
	return mysql_pkt(b, p, k);
}

static void mysql_replies(void **state)
{
	(void)state;
	uint8_t b[600];
	size_t n = mysql_greeting(b, "8.0.36", 0xffff);
	assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, n), 1);
	assert_true(r.ok && r.offered);
	assert_int_equal(r.used, n);
	assert_string_equal(r.line, "server version 8.0.36");
	for (size_t k = 0; k < n; k++)
		assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, k), 0);
	n = mysql_greeting(b, "5.5.5-10.11.6-MariaDB", 0xf7ff);
	assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, n), 1);
	assert_true(r.ok);
	assert_false(r.offered);
	assert_string_equal(r.line, "server version 5.5.5-10.11.6-MariaDB, capabilities 0xf7ff without CLIENT_SSL (0x0800)");
	/* ERR packets: with and without a SQLSTATE */
	static const char host[] = "\xff\x6a\x04Host '10.0.0.7' is not allowed to connect to this MySQL server";
	n = mysql_pkt(b, (const uint8_t *)host, sizeof host - 1);
	assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, n), 1);
	assert_false(r.ok);
	assert_int_equal(r.code, 1130);
	assert_string_equal(r.line, "ERROR 1130: Host '10.0.0.7' is not allowed to connect to this MySQL server");
	static const char many[] = "\xff\x10\x04#08004Too many connections";
	n = mysql_pkt(b, (const uint8_t *)many, sizeof many - 1);
	assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, n), 1);
	assert_int_equal(r.code, 1040);
	assert_string_equal(r.line, "ERROR 1040 (08004): Too many connections");
	/* a length byte in the TLS record range is still MySQL (0x17 = 23) */
	static const char e23[] = "\xff\x10\x04Too many connections";
	n = mysql_pkt(b, (const uint8_t *)e23, sizeof e23 - 1);
	assert_int_equal(b[0], 0x17);
	assert_int_equal(parse(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, b, n), 1);
	/* not MySQL */
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "\x15\x03\x03\x00\x02\x02\x46"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "220 mx ESMTP\r\n"), SD_ERR_PROTO); /* seq 'm' */
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "\x05\x00\x00\x00\x0a" "8.0"), 0);
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "\x05\x00\x00\x00\x0a" "8.0.3"), SD_ERR_PROTO); /* no NUL */
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "\x06\x00\x00\x00\x0a" "8.0\0\0"), SD_ERR_PROTO); /* short */
	assert_int_equal(P(SD_STARTTLS_MYSQL, SD_STARTTLS_STEP_GREETING, "\x00\x10\x00\x00"), SD_ERR_PROTO); /* 4096 */
}

static void names_and_ports(void **state)
{
	(void)state;
	assert_int_equal(sd_starttls_from_name("xmpp"), SD_STARTTLS_XMPP);
	assert_int_equal(sd_starttls_from_name("xmpp-server"), SD_STARTTLS_XMPP_SERVER);
	assert_int_equal(sd_starttls_from_name("ldap"), SD_STARTTLS_LDAP);
	assert_int_equal(sd_starttls_from_name("mysql"), SD_STARTTLS_MYSQL);
	assert_string_equal(sd_starttls_name(SD_STARTTLS_MYSQL), "mysql");
	assert_int_equal(sd_starttls_for_port(5222), SD_STARTTLS_XMPP);
	assert_int_equal(sd_starttls_for_port(5269), SD_STARTTLS_XMPP_SERVER);
	assert_int_equal(sd_starttls_for_port(389), SD_STARTTLS_LDAP);
	assert_int_equal(sd_starttls_for_port(3306), SD_STARTTLS_MYSQL);
	assert_int_equal(sd_starttls_for_port(636), SD_STARTTLS_NONE);
	assert_int_equal(sd_starttls_for_port(5223), SD_STARTTLS_NONE);
	assert_int_equal(sd_starttls_for_tls_port(636), SD_STARTTLS_LDAP);
	assert_int_equal(sd_starttls_for_tls_port(5223), SD_STARTTLS_XMPP);
	assert_int_equal(sd_starttls_for_tls_port(465), SD_STARTTLS_SMTP);
	assert_int_equal(sd_starttls_for_tls_port(443), SD_STARTTLS_NONE);
	assert_int_equal(sd_starttls_tls_port(SD_STARTTLS_MYSQL), 0);
	assert_int_equal(sd_starttls_tls_port(SD_STARTTLS_IMAP), 993);
}

/* ---- the dialogs against a scripted server on a mem pair --------------- */

typedef struct script {
	const char *expect[3];   /* what the client must send at each turn */
	const uint8_t *reply[3]; /* what the server answers then (NULL = nothing) */
	size_t      reply_len[3];
	size_t      turn;
	const uint8_t *greet;    /* sent before anything (a server that speaks first) */
	size_t      greet_len;
	char        got[1024];   /* everything the client sent */
	size_t      got_len;
} script;

static sd_mem cli, srv;
static sd_fake_clock fc;

static int serve(void *ctx, sd_mem *end, sd_time until)
{
	script *s = ctx;
	(void)end;
	(void)until;
	if (s->greet) {
		sd_link_write_all(&srv.base, s->greet, s->greet_len, SD_FOREVER);
		s->greet = NULL;
		return SD_OK;
	}
	size_t pend = sd_mem_pending(&srv);
	if (!pend || s->turn >= 3 || !s->expect[s->turn])
		return SD_OK;
	uint8_t buf[512];
	int n = sd_link_read(&srv.base, buf, SDI_MIN(pend, sizeof buf), SD_FOREVER);
	if (n <= 0)
		return SD_OK;
	memcpy(s->got + s->got_len, buf, (size_t)n);
	s->got_len += (size_t)n;
	size_t want = strlen(s->expect[s->turn]);
	if (s->got_len >= want) {
		if (s->reply[s->turn])
			sd_link_write_all(&srv.base, s->reply[s->turn], s->reply_len[s->turn], SD_FOREVER);
		s->turn++;
		s->got_len = 0;
	}
	return SD_OK;
}

static int run(script *s, int proto, const char *domain, sd_starttls_result *res)
{
	sd_fake_clock_init(&fc, 1000);
	memset(&cli, 0, sizeof cli);
	memset(&srv, 0, sizeof srv);
	sd_mem_pair(&cli, &srv, &fc.base);
	sd_mem_set_pump(&cli, serve, s);
	sd_starttls_cfg c = { .proto = proto, .domain = domain };
	return sd_starttls_run_cfg(&cli.base, &c, sd_deadline_in(&fc.base, SD_S(5)), res);
}

static void dialogs(void **state)
{
	(void)state;
	static sd_starttls_result res;
	char feats[600];
	snprintf(feats, sizeof feats, "%s<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>", xmpp_hdr);
	static const char proceed[] = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
	static const char hdr_sent[] = "<?xml version='1.0'?><stream:stream to='chat.example.org' version='1.0' "
				       "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
	static const char tls_sent[] = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
	script x = {
		.expect = { hdr_sent, tls_sent },
		.reply = { (const uint8_t *)feats, (const uint8_t *)proceed },
		.reply_len = { strlen(feats), sizeof proceed - 1 },
	};
	assert_int_equal(run(&x, SD_STARTTLS_XMPP, "chat.example.org", &res), SD_OK);
	assert_true(res.ok);
	assert_int_equal(x.turn, 2);
	/* a to= that could break out of the attribute is refused, nothing sent */
	script bad = { .expect = { hdr_sent } };
	assert_int_equal(run(&bad, SD_STARTTLS_XMPP, "a'b", &res), SD_ERR_ARG);
	/* XMPP without STARTTLS in the features: not offered, quoted */
	char nofeat[600];
	snprintf(nofeat, sizeof nofeat, "%s<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>", xmpp_hdr);
	static const char hdr_srv[] = "<?xml version='1.0'?><stream:stream to='peer.example' version='1.0' "
				      "xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>";
	script y = { .expect = { hdr_srv }, .reply = { (const uint8_t *)nofeat }, .reply_len = { strlen(nofeat) } };
	assert_int_equal(run(&y, SD_STARTTLS_XMPP_SERVER, "peer.example", &res), SD_ERR_NACK);
	assert_true(res.not_offered);
	assert_string_equal(res.last.line, "<stream:features> bind");
	/* XMPP <failure/> */
	static const char failure[] = "<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>";
	script z = {
		.expect = { hdr_sent, tls_sent },
		.reply = { (const uint8_t *)feats, (const uint8_t *)failure },
		.reply_len = { strlen(feats), sizeof failure - 1 },
	};
	assert_int_equal(run(&z, SD_STARTTLS_XMPP, "chat.example.org", &res), SD_ERR_NACK);
	assert_false(res.not_offered);
	assert_int_equal(res.step, SD_STARTTLS_STEP_UPGRADE);
	assert_string_equal(res.last.line, "<failure/>");

	/* LDAP: the exact ExtendedRequest (RFC 4511 4.14.1; as openssl s_client sends it) */
	static const char ldap_req[] = "\x30\x1d\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037";
	uint8_t ok[64], unav[128];
	script l = { .expect = { ldap_req }, .reply = { ok }, .reply_len = { ldap_resp(ok, 1, 0, "") } };
	assert_int_equal(run(&l, SD_STARTTLS_LDAP, NULL, &res), SD_OK);
	assert_true(res.ok);
	script l2 = { .expect = { ldap_req }, .reply = { unav }, .reply_len = { ldap_resp(unav, 1, 2, "unsupported extended operation") } };
	assert_int_equal(run(&l2, SD_STARTTLS_LDAP, NULL, &res), SD_ERR_NACK);
	assert_true(res.not_offered);
	assert_string_equal(res.last.line, "resultCode 2 (protocolError): unsupported extended operation");

	/* MySQL: greeting with CLIENT_SSL, then our 36-byte SSLRequest, no answer */
	uint8_t g[128];
	size_t gn = mysql_greeting(g, "8.0.36", 0xffff);
	script m = { .greet = g, .greet_len = gn };
	assert_int_equal(run(&m, SD_STARTTLS_MYSQL, NULL, &res), SD_OK);
	assert_true(res.ok);
	uint8_t sent[64];
	assert_int_equal(sd_mem_pending(&srv), 36);
	assert_int_equal(sd_link_read(&srv.base, sent, sizeof sent, SD_FOREVER), 36);
	assert_memory_equal(sent, "\x20\x00\x00\x01", 4);  /* 32 bytes, sequence 1 */
	assert_true(sent[5] & 0x08);                        /* CLIENT_SSL */
	assert_true(sent[5] & 0x02);                        /* CLIENT_PROTOCOL_41 */
	/* MySQL without CLIENT_SSL: nothing sent, the version quoted */
	gn = mysql_greeting(g, "5.7.44", 0xf7ff);
	script m2 = { .greet = g, .greet_len = gn };
	assert_int_equal(run(&m2, SD_STARTTLS_MYSQL, NULL, &res), SD_ERR_NACK);
	assert_true(res.not_offered);
	assert_int_equal(sd_mem_pending(&srv), 0);
	assert_non_null(strstr(res.last.line, "5.7.44"));
	/* a server that says nothing: the deadline, as a timeout */
	script quiet = { 0 };
	assert_int_equal(run(&quiet, SD_STARTTLS_MYSQL, NULL, &res), SD_ERR_TIMEOUT);
	assert_int_equal(res.link_err, SD_ERR_TIMEOUT);
}

/* ---- TLS on connect vs STARTTLS ------------------------------------------ */

static void advice(void **state)
{
	(void)state;
	static sd_report rep;
	static sd_starttls_result st;
	/* --starttls ldap on 636: the fix names LDAPS and 389 */
	sd_report_init(&rep, "tls", "127.0.0.1:636");
	sd_finding *f = sd_diag_add(&rep.diag, SD_CAUSE_STARTTLS_REFUSED, 0.8f);
	sd_finding_fix(f, "generic");
	memset(&st, 0, sizeof st);
	st.link_err = SD_ERR_CLOSED;
	assert_int_equal(sdi_starttls_advise(&rep, SD_STARTTLS_LDAP, "636", "ldap", &st), 1);
	assert_non_null(strstr(rep.diag.f[0].fix, "--starttls none"));
	assert_non_null(strstr(rep.diag.f[0].fix, "STARTTLS port is 389, its TLS-on-connect port 636"));
	/* --starttls xmpp met a TLS record on another port: said too */
	sd_report_init(&rep, "tls", "127.0.0.1:15223");
	f = sd_diag_add(&rep.diag, SD_CAUSE_WRONG_PROTOCOL, 0.8f);
	memcpy(st.rx, "\x15\x03\x03\x00\x02\x02\x46", 7);
	st.rx_len = 7;
	assert_int_equal(sdi_starttls_advise(&rep, SD_STARTTLS_XMPP, "15223", "unknown", &st), 1);
	assert_non_null(strstr(rep.diag.f[0].fix, "a TLS record came back"));
	assert_non_null(strstr(rep.diag.f[0].fix, "5223"));
	/* a refusal in the protocol's own words on its own port: left alone */
	sd_report_init(&rep, "tls", "127.0.0.1:389");
	f = sd_diag_add(&rep.diag, SD_CAUSE_STARTTLS_REFUSED, 0.8f);
	sd_finding_fix(f, "generic");
	memset(&st, 0, sizeof st);
	assert_int_equal(sdi_starttls_advise(&rep, SD_STARTTLS_LDAP, "389", "ldap", &st), 0);
	assert_string_equal(rep.diag.f[0].fix, "generic");
	/* --starttls none on 389, and the server closed: probe it with ldap */
	sd_report_init(&rep, "tls", "127.0.0.1:389");
	assert_int_equal(sdi_starttls_advise(&rep, SD_STARTTLS_NONE, "389", "closed", NULL), 1);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_PLAINTEXT_SERVICE);
	assert_non_null(strstr(rep.diag.f[0].fix, "--starttls ldap"));
	assert_non_null(strstr(rep.diag.f[0].fix, "636"));
	/* a TLS server on 389: nothing to say */
	sd_report_init(&rep, "tls", "127.0.0.1:389");
	assert_int_equal(sdi_starttls_advise(&rep, SD_STARTTLS_NONE, "389", "tls", NULL), 0);
	assert_int_equal(rep.diag.n, 0);
}

/* what answers a ClientHello on a STARTTLS port: named, with the option */
static void classify_banners(void **state)
{
	(void)state;
	static sd_diag d;
	/* RFC 4511 4.4.1 Notice of Disconnection, as Active Directory sends it */
	static const uint8_t notice[] = "\x30\x84\x00\x00\x00\x34\x02\x01\x00\x78\x84\x00\x00\x00\x2b\x0a\x01\x02"
					"\x04\x00\x04\x00\x8a\x16" "1.3.6.1.4.1.1466.20036";
	sd_classify_in in = { .rx = notice, .rx_len = sizeof notice - 1, .expect = "tls", .link_caps = SD_LINK_NET | SD_LINK_BYTES };
	memset(&d, 0, sizeof d);
	sd_classify(&in, &d);
	sd_finding *f = sd_diag_find(&d, SD_CAUSE_PLAINTEXT_SERVICE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "LDAP"));
	assert_non_null(strstr(f->fix, "--starttls ldap"));
	static const char xmpp[] = "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
				   "<stream:error><not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
	in.rx = (const uint8_t *)xmpp;
	in.rx_len = sizeof xmpp - 1;
	memset(&d, 0, sizeof d);
	sd_classify(&in, &d);
	f = sd_diag_find(&d, SD_CAUSE_PLAINTEXT_SERVICE);
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "XMPP"));
	assert_non_null(strstr(f->fix, "5223"));
	/* an XHTML page is not XMPP */
	static const char xhtml[] = "<?xml version='1.0'?><html><body>hi</body></html>";
	in.rx = (const uint8_t *)xhtml;
	in.rx_len = sizeof xhtml - 1;
	memset(&d, 0, sizeof d);
	sd_classify(&in, &d);
	f = sd_diag_find(&d, SD_CAUSE_PLAINTEXT_SERVICE);
	assert_true(!f || !strstr(f->summary, "XMPP"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(xmpp_replies),
		cmocka_unit_test(ldap_replies),
		cmocka_unit_test(mysql_replies),
		cmocka_unit_test(names_and_ports),
		cmocka_unit_test(dialogs),
		cmocka_unit_test(advice),
		cmocka_unit_test(classify_banners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
