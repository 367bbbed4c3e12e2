/*
 * The Telnet decoder and the RFC 2217 builders (src/core/telnet.c): what
 * ser2net 4.3.11 sent on connect (docs/remote.md section 3) decodes into its
 * seven negotiations, doubled 0xFF is one data byte even split across calls,
 * and a malformed or endless subnegotiation is a clean, sticky error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

/* Feed everything with an output window of `room`; collect data and events. */
typedef struct collected {
	uint8_t data[512];
	size_t  n;
	sd_telnet_ev ev[32];
	uint8_t sb[32][SD_TELNET_SB_MAX];
	size_t  nev;
	int     err;
} collected;

static void feed_all(sd_telnet *t, const uint8_t *in, size_t n, size_t room, collected *c)
{
	size_t at = 0;
	while (at < n) {
		size_t got = 0;
		sd_telnet_ev ev;
		int r = sd_telnet_feed(t, in + at, n - at, c->data + c->n, room, &got, &ev);
		if (r < 0) {
			c->err = r;
			return;
		}
		c->n += got;
		at += (size_t)r;
		if (ev.kind != SD_TN_EV_NONE && c->nev < 32) {
			if (ev.kind == SD_TN_EV_SUBNEG) {
				memcpy(c->sb[c->nev], ev.data, ev.len);
				ev.data = c->sb[c->nev];
			}
			c->ev[c->nev++] = ev;
		}
	}
}

static void ser2net_greeting(void **state)
{
	(void)state;
	static const uint8_t hello[] = { 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x01, 0xFF, 0xFE,
					 0x01, 0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x2C };
	sd_telnet t;
	sd_telnet_init(&t);
	collected c = { .n = 0 };
	feed_all(&t, hello, sizeof hello, 64, &c);
	assert_int_equal(c.err, 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(c.nev, 7);
	assert_int_equal(c.ev[0].kind, SD_TN_EV_OPTION);
	assert_int_equal(c.ev[0].cmd, SD_TN_WILL);
	assert_int_equal(c.ev[0].opt, SD_TN_OPT_SGA);
	assert_int_equal(c.ev[6].cmd, SD_TN_DO);
	assert_int_equal(c.ev[6].opt, SD_TN_OPT_COMPORT);
	assert_true(sd_telnet_looks_like(hello, sizeof hello));
	static const uint8_t text[] = "hello";
	assert_false(sd_telnet_looks_like(text, 5));
}

static void data_and_notifications(void **state)
{
	(void)state;
	/* a READ_REG reply whose 0xFF ser2net doubled, then NOTIFY-MODEMSTATE
	 * and the signature, then more data */
	static const uint8_t in[] = { 0xC0, 0xF0, 0xFF, 0xFF, 0x00, 0xFF, 0xFA, 0x2C, 0x6B, 0x30, 0xFF, 0xF0,
				      0xFF, 0xFA, 0x2C, 0x64, 's', '2', 'n', 0xFF, 0xF0, 0xC0 };
	for (size_t room = 1; room <= 8; room++) {
		sd_telnet t;
		sd_telnet_init(&t);
		collected c = { .n = 0 };
		feed_all(&t, in, sizeof in, room, &c);
		assert_int_equal(c.err, 0);
		static const uint8_t want[] = { 0xC0, 0xF0, 0xFF, 0x00, 0xC0 };
		assert_int_equal(c.n, sizeof want);
		assert_memory_equal(c.data, want, sizeof want);
		assert_int_equal(c.nev, 2);
		assert_int_equal(c.ev[0].kind, SD_TN_EV_SUBNEG);
		assert_int_equal(c.ev[0].opt, SD_TN_OPT_COMPORT);
		assert_int_equal(c.ev[0].len, 2);
		assert_int_equal(c.ev[0].data[0], SD_CPO_SERVER + SD_CPO_NOTIFY_MODEMSTATE);
		assert_int_equal(c.ev[0].data[1], 0x30);
		assert_int_equal(c.ev[1].len, 4);
		assert_memory_equal(c.ev[1].data + 1, "s2n", 3);
		assert_string_equal(sd_telnet_comport_name(c.ev[0].data[0]), "NOTIFY-MODEMSTATE");
	}
}

static void bad_subnegotiations_fail_cleanly(void **state)
{
	(void)state;
	uint8_t endless[300];
	memset(endless, 'A', sizeof endless);
	endless[0] = 0xFF;
	endless[1] = 0xFA;
	endless[2] = 0x2C;
	sd_telnet t;
	sd_telnet_init(&t);
	collected c = { .n = 0 };
	feed_all(&t, endless, sizeof endless, 64, &c);
	assert_int_equal(c.err, SD_ERR_PROTO);
	assert_non_null(strstr(t.why, "64 bytes"));
	/* sticky: more input is refused without being read */
	size_t got = 5;
	sd_telnet_ev ev;
	assert_int_equal(sd_telnet_feed(&t, (const uint8_t *)"ok", 2, c.data, 8, &got, &ev), SD_ERR_PROTO);
	assert_int_equal(got, 0);

	static const uint8_t bad_iac[] = { 0xFF, 0xFA, 0x2C, 0x6B, 0x00, 0xFF, 'x' };
	sd_telnet_init(&t);
	memset(&c, 0, sizeof c);
	feed_all(&t, bad_iac, sizeof bad_iac, 64, &c);
	assert_int_equal(c.err, SD_ERR_PROTO);
	assert_non_null(strstr(t.why, "inside a subnegotiation"));

	static const uint8_t empty[] = { 0xFF, 0xFA, 0xFF, 0xF0 };
	sd_telnet_init(&t);
	memset(&c, 0, sizeof c);
	feed_all(&t, empty, sizeof empty, 64, &c);
	assert_int_equal(c.err, SD_ERR_PROTO);
	assert_non_null(strstr(t.why, "without an option"));
}

static void builders(void **state)
{
	(void)state;
	uint8_t b[32];
	/* SET-BAUDRATE 0x00FF00FF: both 0xFF doubled inside the value */
	static const uint8_t v[] = { 0x00, 0xFF, 0x00, 0xFF };
	size_t n = sd_telnet_comport(b, sizeof b, SD_CPO_SET_BAUDRATE, v, 4);
	static const uint8_t want[] = { 0xFF, 0xFA, 0x2C, 0x01, 0x00, 0xFF, 0xFF, 0x00, 0xFF, 0xFF, 0xFF, 0xF0 };
	assert_int_equal(n, sizeof want);
	assert_memory_equal(b, want, n);
	assert_int_equal(sd_telnet_comport(b, 8, SD_CPO_SET_BAUDRATE, v, 4), 0); /* does not fit */
	/* and it decodes back to the value */
	sd_telnet t;
	sd_telnet_init(&t);
	collected c = { .n = 0 };
	feed_all(&t, b, sizeof want, 16, &c);
	assert_int_equal(c.nev, 1);
	assert_int_equal(c.ev[0].len, 5);
	assert_memory_equal(c.ev[0].data + 1, v, 4);

	uint8_t e[8];
	size_t used = 0;
	static const uint8_t raw[] = { 1, 0xFF, 2, 0xFF };
	assert_int_equal(sd_telnet_escape(raw, 4, e, sizeof e, &used), 6);
	assert_int_equal(used, 4);
	assert_int_equal(sd_telnet_escape(raw, 4, e, 3, &used), 3); /* 1, FF FF: then 2 has no room */
	assert_int_equal(used, 2);
	assert_int_equal(sd_telnet_option(e, SD_TN_WILL, SD_TN_OPT_COMPORT), 3);
	assert_int_equal(e[2], 44);
	assert_null(sd_telnet_comport_name(13));
	assert_string_equal(sd_telnet_comport_name(112), "PURGE-DATA");
}

/* ser2net's greeting read raw: explain names Telnet, and on a network
 * link the diagnosis says to use rfc2217:// (first, above the baud-rate
 * reading of the same bytes). */
static void raw_reading_of_a_telnet_port(void **state)
{
	(void)state;
	static const uint8_t hello[] = { 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x01, 0xFF, 0xFE,
					 0x01, 0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x2C };
	sd_meaning m[16];
	size_t n = sd_explain_meanings(hello, sizeof hello, m, 16);
	int found = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(m[i].proto, "telnet") == 0 && strstr(m[i].text, "rfc2217://") &&
		    strstr(m[i].text, "COM-PORT-OPTION"))
			found = 1;
	assert_true(found);
	sd_diag d;
	sd_diag_init(&d);
	sd_classify_in in = { .rx = hello, .rx_len = sizeof hello, .link_caps = SD_LINK_NET | SD_LINK_BYTES };
	sd_diagnose_bytes(&in, &d);
	assert_true(d.n > 0);
	assert_int_equal(d.f[0].cause, SD_CAUSE_WRONG_PROTOCOL);
	assert_non_null(strstr(d.f[0].summary, "use rfc2217://"));
	/* on a serial line the same bytes are not called a Telnet port */
	sd_diag_init(&d);
	in.link_caps = SD_LINK_BYTES | SD_LINK_BAUD;
	sd_diagnose_bytes(&in, &d);
	assert_true(d.n == 0 || !strstr(d.f[0].summary, "rfc2217://"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ser2net_greeting),
		cmocka_unit_test(data_and_notifications),
		cmocka_unit_test(bad_subnegotiations_fail_cleanly),
		cmocka_unit_test(builders),
		cmocka_unit_test(raw_reading_of_a_telnet_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
