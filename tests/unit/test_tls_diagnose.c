/* sd_tls_diagnose as an embedding program calls it: against a loopback
 * listener played by a thread of the test (what it answers is scripted),
 * and its argument checks. The real TLS servers are in tests/cli/tls_cert.sh
 * and tests/peers/tls_*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <stdio.h>
#include <cmocka.h>
#include <pthread.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "shakedown/shakedown.h"
#include "shakedown/tls.h"

typedef struct peer {
	int         lfd;
	char        port[16];
	const char *reply;   /* written after the first bytes came in */
	int         conns;
} peer;

static void *serve(void *arg)
{
	peer *p = arg;
	for (;;) {
		int c = accept(p->lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		p->conns++;
		char buf[4096];
		if (read(c, buf, sizeof buf) > 0 && p->reply)
			(void)!write(c, p->reply, strlen(p->reply));
		close(c);
	}
}

static void peer_start(peer *p, pthread_t *th)
{
	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(p->lfd, 16), 0);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&a, &al), 0);
	snprintf(p->port, sizeof p->port, "%u", ntohs(a.sin_port));
	assert_int_equal(pthread_create(th, NULL, serve, p), 0);
}

static void peer_stop(peer *p, pthread_t th)
{
	shutdown(p->lfd, SHUT_RDWR);
	close(p->lfd);
	pthread_join(th, NULL);
}

static void diagnose_names_http(void **state)
{
	(void)state;
	peer p = { .reply = "HTTP/1.0 400 Bad Request\r\nServer: test\r\n\r\n" };
	pthread_t th;
	peer_start(&p, &th);
	sd_tls_diag_cfg c = { .scan = { .host = "127.0.0.1", .port = p.port, .wait_ms = 2000, .parallel = 4 } };
	sd_report rep;
	sd_report_init(&rep, "tls", "127.0.0.1");
	sd_tls_scan *sc = NULL;
	char why[200];
	assert_int_equal(sd_tls_diagnose(&c, &rep, &sc, why, sizeof why), SD_OK);
	assert_non_null(sc);
	assert_string_equal(sd_tls_scan_service(sc), "http");
	assert_string_equal(rep.by.mode, "http");
	assert_false(rep.ok);
	assert_int_equal(sd_tls_scan_connections(sc), 1); /* one connection said it all */
	assert_true(rep.diag.n > 0);
	sd_tls_scan_close(sc);
	peer_stop(&p, th);
}

static void diagnose_unreachable_and_args(void **state)
{
	(void)state;
	sd_report rep;
	sd_report_init(&rep, "tls", "x");
	sd_tls_scan *sc = (sd_tls_scan *)&rep; /* must be reset */
	char why[200];
	assert_int_equal(sd_tls_diagnose(NULL, &rep, &sc, why, sizeof why), SD_ERR_ARG);
	sd_tls_diag_cfg c = { .scan = { .host = NULL, .port = "443" } };
	assert_int_equal(sd_tls_diagnose(&c, &rep, &sc, why, sizeof why), SD_ERR_ARG);
	assert_null(sc);
	/* a port nobody listens on: the link error, with a reason */
	peer p = { 0 };
	pthread_t th;
	peer_start(&p, &th);
	peer_stop(&p, th); /* now closed */
	c.scan.host = "127.0.0.1";
	c.scan.port = p.port;
	int err = sd_tls_diagnose(&c, &rep, &sc, why, sizeof why);
	assert_true(err < 0);
	assert_true(why[0] != '\0');
	sd_tls_scan_close(sc);
}

/* the certificate check against a port that is no TLS: no chain, and
 * OpenSSL's reason (what s_client would say), never a made-up certificate */
static void cert_check_without_tls(void **state)
{
	(void)state;
	sd_tls_cert c;
	char why[200];
	assert_int_equal(sd_tls_cert_check(NULL, &c, why, sizeof why), SD_ERR_ARG);
	sd_tls_cert_cfg cc = { .host = "127.0.0.1", .port = "1", .version = 0x0300 };
	assert_int_equal(sd_tls_cert_check(&cc, &c, why, sizeof why), SD_ERR_ARG); /* SSLv3: not with OpenSSL 3 */
	peer p = { .reply = "HTTP/1.0 400 Bad Request\r\n\r\n" };
	pthread_t th;
	peer_start(&p, &th);
	cc.port = p.port;
	cc.version = SD_TLS_TLS12;
	cc.wait_ms = 3000;
	int rc = sd_tls_cert_check(&cc, &c, why, sizeof why);
	if (rc == SD_ERR_UNSUPPORTED) { /* no libssl.so.3 on this machine */
		peer_stop(&p, th);
		skip();
	}
	assert_int_equal(rc, SD_OK);
	assert_int_equal(c.got, 0);
	assert_int_equal(c.nerr, 0);
	assert_true(strstr(c.handshake_error, "wrong version number") != NULL);
	peer_stop(&p, th);
}

/* the STARTTLS reply parser: whole replies, partial ones, refusals */
static void starttls_replies(void **state)
{
	(void)state;
	sd_starttls_reply r;
#define P(proto, step, str) sd_starttls_reply_parse(proto, step, (const uint8_t *)(str), strlen(str), &r)
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, "220 mx ESMTP\r\n"), 1);
	assert_true(r.ok);
	assert_int_equal(r.code, 220);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, "220 mx ES"), 0);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, "421 4.7.0 Too many connections\r\n"), 1);
	assert_false(r.ok);
	assert_string_equal(r.line, "421 4.7.0 Too many connections");
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_CAPA, "250-mx\r\n250-STARTTLS\r\n"), 0);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_CAPA, "250-mx\r\n250-STARTTLS\r\n250 8BITMIME\r\n"), 1);
	assert_true(r.ok && r.offered);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_CAPA, "250-mx\r\n250 AUTH PLAIN\r\n"), 1);
	assert_false(r.offered);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_UPGRADE, "454 4.7.0 TLS not available\r\n"), 1);
	assert_false(r.ok);
	assert_int_equal(r.code, 454);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, "\x16\x03\x01\x00\x02"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, "HTTP/1.1 400\r\n"), SD_ERR_PROTO);
	assert_int_equal(P(SD_STARTTLS_IMAP, SD_STARTTLS_STEP_CAPA, "* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK\r\n"), 1);
	assert_true(r.ok && r.offered);
	assert_int_equal(P(SD_STARTTLS_IMAP, SD_STARTTLS_STEP_UPGRADE, "a2 NO [UNAVAILABLE] no TLS\r\n"), 1);
	assert_false(r.ok);
	assert_int_equal(P(SD_STARTTLS_POP3, SD_STARTTLS_STEP_CAPA, "+OK\r\nUSER\r\nSTLS\r\n.\r\n"), 1);
	assert_true(r.offered);
	assert_int_equal(P(SD_STARTTLS_POP3, SD_STARTTLS_STEP_UPGRADE, "-ERR not now\r\n"), 1);
	assert_false(r.ok);
	assert_int_equal(P(SD_STARTTLS_FTP, SD_STARTTLS_STEP_GREETING, "220-hi\r\nsome text\r\n220 ready\r\n"), 1);
	assert_true(r.ok);
	assert_int_equal(P(SD_STARTTLS_POSTGRES, SD_STARTTLS_STEP_UPGRADE, "N"), 1);
	assert_false(r.ok);
	static char longline[1200];
	memset(longline, 'x', sizeof longline - 1);
	memcpy(longline, "220 ", 4);
	assert_int_equal(P(SD_STARTTLS_SMTP, SD_STARTTLS_STEP_GREETING, longline), SD_ERR_PROTO);
	assert_int_equal(sd_starttls_from_name("submission"), SD_STARTTLS_SMTP);
	assert_int_equal(sd_starttls_from_name("gopher"), -1);
	assert_int_equal(sd_starttls_for_port(587), SD_STARTTLS_SMTP);
	assert_int_equal(sd_starttls_for_port(993), SD_STARTTLS_NONE);
#undef P
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(diagnose_names_http),
		cmocka_unit_test(diagnose_unreachable_and_args),
		cmocka_unit_test(cert_check_without_tls),
		cmocka_unit_test(starttls_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
