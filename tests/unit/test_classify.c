/* The classifier's ranking on the cases users meet (through the diagnosis
 * layer, which asks the protocols too), its bounds, and a core that knows no
 * protocol. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static sd_diag d;

static sd_cause top(const void *rx, size_t n, const void *tx, size_t txn, unsigned caps,
		    const char *expect, uint32_t baud)
{
	sd_classify_in in = { .rx = rx, .rx_len = n, .tx = tx, .tx_len = txn, .link_caps = caps,
			      .expect = expect, .host_baud = baud, .listen_ms = 1000 };
	sd_diag_init(&d);
	assert_true(sd_diagnose_bytes(&in, &d) > 0);
	for (size_t i = 1; i < d.n; i++)
		assert_true(d.f[i - 1].confidence >= d.f[i].confidence);
	return d.f[0].cause;
}

static int has(sd_cause c)
{
	return sd_diag_find(&d, c) != NULL;
}

#define S(s) s, sizeof(s) - 1

static void application_text(void **state)
{
	(void)state;
	assert_int_equal(top(S("hello world\r\n"), NULL, 0, 0, NULL, 115200), SD_CAUSE_APP_RUNNING);
	assert_non_null(strstr(d.f[0].summary, "hello world"));
	assert_int_equal(d.f[0].rcvd_len, 13);
	/* avrdude's resp=0x68, host rate unknown as in `explain 0x68` */
	assert_int_equal(top("h", 1, NULL, 0, 0, NULL, 0), SD_CAUSE_APP_RUNNING);
	assert_non_null(strstr(d.f[0].summary, "start of text"));
	assert_true(has(SD_CAUSE_BAUD_MISMATCH));
	/* the Nano "Raw readin..." of arduino/Arduino#7264 */
	assert_int_equal(top(S("Raw reading: 512\r\n"), "\x30\x20", 2, 0, "stk500", 115200),
			 SD_CAUSE_APP_RUNNING);
}

static void echo_silence_idle(void **state)
{
	(void)state;
	assert_int_equal(top("\x30\x20", 2, "\x30\x20", 2, 0, "stk500", 115200), SD_CAUSE_ECHO);
	assert_false(has(SD_CAUSE_APP_RUNNING));
	assert_int_equal(top("\xa0", 1, "\xa0", 1, 0, "mtk", 115200), SD_CAUSE_ECHO);
	assert_int_equal(top(NULL, 0, "\x7f", 1, 0, "stm32", 115200), SD_CAUSE_SILENT);
	assert_non_null(strstr(d.f[0].summary, "after we sent 1 byte"));
	assert_int_equal(top("\0\0\0\0", 4, NULL, 0, 0, NULL, 115200), SD_CAUSE_IDLE_LINE);
	assert_int_equal(top("\xff\xff", 2, NULL, 0, 0, NULL, 115200), SD_CAUSE_IDLE_LINE);
}

static void network_answers(void **state)
{
	(void)state;
	assert_int_equal(top(S("HTTP/1.1 400 Bad Request\r\n"), NULL, 0, SD_LINK_NET, "tls", 0),
			 SD_CAUSE_PLAINTEXT_SERVICE);
	assert_non_null(strstr(d.f[0].summary, "HTTP"));
	assert_non_null(strstr(d.f[0].fix, "http://"));
	assert_int_equal(top(S("220 mail ESMTP\r\n"), NULL, 0, SD_LINK_NET, "tls", 0), SD_CAUSE_PLAINTEXT_SERVICE);
	assert_non_null(strstr(d.f[0].fix, "starttls smtp"));
	assert_int_equal(top(S("SSH-2.0-OpenSSH_9.2\r\n"), NULL, 0, SD_LINK_NET, NULL, 0), SD_CAUSE_PLAINTEXT_SERVICE);
	assert_int_equal(top("\x15\x03\x03\x00\x02\x02\x28", 7, NULL, 0, 0, NULL, 115200), SD_CAUSE_TLS_ALERT);
	assert_non_null(strstr(d.f[0].summary, "handshake_failure"));
	/* a TLS server answering a TLS client is no failure */
	top("\x16\x03\x03\x00\x31\x02", 6, NULL, 0, SD_LINK_NET, "tls", 0);
	assert_false(has(SD_CAUSE_TLS_ALERT));
	assert_true(has(SD_CAUSE_OK));
}

static void boot_logs(void **state)
{
	(void)state;
	static const char esp32[] = "ets Jun  8 2016 00:22:57\r\n\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
	assert_int_equal(top(S(esp32), NULL, 0, 0, "esp", 115200), SD_CAUSE_WRONG_BOOT_MODE);
	assert_true(has(SD_CAUSE_BOOT_LOG));
	assert_non_null(strstr(d.f[0].fix, "GPIO0"));
	static const char dl[] = "rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\nwaiting for download\r\n";
	assert_int_equal(top(S(dl), NULL, 0, 0, "esp", 115200), SD_CAUSE_BOOT_LOG);
	assert_false(has(SD_CAUSE_WRONG_BOOT_MODE));
	static const char loop[] = "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\npanic\r\n"
				   "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\npanic\r\n"
				   "rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\npanic\r\n";
	assert_int_equal(top(S(loop), NULL, 0, 0, NULL, 115200), SD_CAUSE_BOOTLOOP);
	assert_non_null(strstr(d.f[0].summary, "3 times"));
	static const char e8266[] = " ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n";
	assert_int_equal(top(S(e8266), NULL, 0, 0, NULL, 74880), SD_CAUSE_WRONG_BOOT_MODE);
	assert_int_equal(top(S("U-Boot 2021.01 (Jan 01 2021)\r\nDRAM: 512 MiB\r\n"), NULL, 0, 0, NULL, 115200),
			 SD_CAUSE_BOOT_LOG);
	assert_int_equal(top(S("[PLFM] Init I2C: OK(0)\r\n[BLDR] Loading...\r\n"), NULL, 0, 0, "mtk", 921600),
			 SD_CAUSE_BOOT_LOG);
}

static void baud_mismatch_from_the_uart_model(void **state)
{
	(void)state;
	static const uint8_t text[] = "hello world\r\n";
	uint8_t rx[256];
	sd_line_cfg dev = SD_LINE_CFG_8N1(9600), host = SD_LINE_CFG_8N1(115200);
	size_t n = 0;
	for (int i = 0; i < 3; i++)
		n += (size_t)sd_uart_resample(&dev, &host, text, sizeof text - 1, 0, rx + n, NULL, sizeof rx - n);
	assert_int_equal(top(rx, n, NULL, 0, 0, NULL, 115200), SD_CAUSE_BAUD_MISMATCH);
	assert_non_null(strstr(d.f[0].summary, "9600"));
	/* a faster device read slowly: 115200 text read at 57600 */
	sd_line_cfg fast = SD_LINE_CFG_8N1(115200), slow = SD_LINE_CFG_8N1(57600);
	n = 0;
	for (int i = 0; i < 8; i++)
		n += (size_t)sd_uart_resample(&fast, &slow, text, sizeof text - 1, 0, rx + n, NULL, sizeof rx - n);
	top(rx, n, NULL, 0, 0, NULL, 57600);
	assert_true(has(SD_CAUSE_BAUD_MISMATCH));
	sd_baud_guess g[4];
	size_t ng = sd_baud_guess_pairs(rx, n, 57600, g, 4);
	assert_true(ng > 0);
	int named = 0;
	for (size_t i = 0; i < ng; i++)
		named |= g[i].device_baud == 115200;
	assert_true(named);
}

static void protocols_speak_for_themselves(void **state)
{
	(void)state;
	top("\x14\x10", 2, "\x30\x20", 2, 0, "stk500", 115200);
	assert_int_equal(d.f[0].cause, SD_CAUSE_OK);
	assert_int_equal(top("\x14\x10", 2, "\x7f", 1, 0, "stm32", 115200), SD_CAUSE_WRONG_PROTOCOL);
	assert_non_null(strstr(d.f[0].summary, "STK500"));
	top("\x79", 1, "\x7f", 1, 0, "stm32", 115200);
	assert_int_equal(d.f[0].cause, SD_CAUSE_OK);
	top("\x5f", 1, "\xa0", 1, 0, "mtk", 115200);
	assert_int_equal(d.f[0].cause, SD_CAUSE_OK);
}

static void meanings_cover_every_protocol(void **state)
{
	(void)state;
	sd_meaning m[16];
	size_t n = sd_explain_meanings((const uint8_t *)"h", 1, m, 16);
	assert_int_equal(n, 1 + sd_proto_count());
	assert_string_equal(m[0].proto, "ascii");
	assert_non_null(strstr(m[0].text, "'h'"));
	int tls = 0;
	for (size_t i = 1; i < n; i++)
		if (strcmp(m[i].proto, "tls") == 0)
			tls = strstr(m[i].text, "plaintext reply on a TLS port") != NULL;
	assert_true(tls);
	assert_int_equal(sd_explain_meanings(NULL, 0, m, 16), 0);
}

static void bounded_on_a_big_random_flood(void **state)
{
	(void)state;
	static uint8_t big[256 * 1024];
	uint32_t s = 1;
	for (size_t i = 0; i < sizeof big; i++) {
		s = s * 1103515245u + 12345u;
		big[i] = (uint8_t)(s >> 16);
	}
	sd_time t0 = sd_now(sd_clock_real());
	sd_classify_in in = { .rx = big, .rx_len = sizeof big, .host_baud = 115200 };
	sd_diag_init(&d);
	sd_diagnose_bytes(&in, &d);
	assert_true(d.n >= 1 && d.n <= SD_DIAG_MAX);
	assert_true(sd_now(sd_clock_real()) - t0 < SD_S(2));
}

/* The core classifier alone names no protocol: a TLS alert and an ESP boot
 * log are only bytes to it; the protocols' hooks name them. */
static void core_knows_no_protocol(void **state)
{
	(void)state;
	static const char alert[] = "\x15\x03\x03\x00\x02\x02\x28";
	static const char esp32[] = "rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n";
	sd_classify_in in = { .rx = (const uint8_t *)alert, .rx_len = 7, .host_baud = 115200 };
	sd_diag_init(&d);
	sd_classify(&in, &d);
	assert_false(has(SD_CAUSE_TLS_ALERT));
	assert_false(has(SD_CAUSE_OK));
	sd_diag_init(&d);
	sd_diagnose_bytes(&in, &d);
	assert_true(has(SD_CAUSE_TLS_ALERT));
	/* claimed as TLS frames: no baud-rate reading of them */
	assert_false(has(SD_CAUSE_BAUD_MISMATCH));

	in.rx = (const uint8_t *)esp32;
	in.rx_len = sizeof esp32 - 1;
	sd_diag_init(&d);
	sd_classify(&in, &d);
	assert_false(has(SD_CAUSE_WRONG_BOOT_MODE));
	assert_int_equal(d.f[0].cause, SD_CAUSE_APP_RUNNING);
	sd_diag_init(&d);
	sd_diagnose_bytes(&in, &d);
	assert_int_equal(d.f[0].cause, SD_CAUSE_WRONG_BOOT_MODE);
	/* a boot log is text, but not an application: ranked below */
	assert_true(sd_diag_find(&d, SD_CAUSE_APP_RUNNING)->confidence < 0.6f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(application_text),
		cmocka_unit_test(echo_silence_idle),
		cmocka_unit_test(network_answers),
		cmocka_unit_test(boot_logs),
		cmocka_unit_test(core_knows_no_protocol),
		cmocka_unit_test(baud_mismatch_from_the_uart_model),
		cmocka_unit_test(protocols_speak_for_themselves),
		cmocka_unit_test(meanings_cover_every_protocol),
		cmocka_unit_test(bounded_on_a_big_random_flood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
