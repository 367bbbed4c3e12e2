/* The Espressif module: SLIP framing, the client session against the
 * simulated ESP in process (virtual time), every simulator mode to its
 * first-ranked verdict, the reset circuit's timing race, and the read-only
 * rule: every session checks the device logged nothing destructive and
 * that only SYNC, GET_SECURITY_INFO and READ_REG reached it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "../../src/proto/esp_wire.h"

typedef struct run {
	sd_report r;
	int       err;
	char      log[4096]; /* the commands the device received, one per line */
	unsigned  syncs;
} run;

static run *session_args(const char *uri, int identify, const char *enter, int no_reset)
{
	static run R;
	static _Alignas(16) unsigned char ctx[1 << 16];
	memset(&R, 0, sizeof R);
	sd_link *l = NULL;
	char why[200] = "";
	if (sd_link_open(uri, NULL, &l, why, sizeof why))
		fail_msg("%s: %s", uri, why);
	const sd_proto *p = sd_proto_find("esp");
	assert_non_null(p);
	assert_non_null(p->session);
	assert_true(p->ctx_size <= sizeof ctx);
	sd_seq en;
	sd_proto_args a = { .identify = identify, .no_reset = no_reset };
	if (enter) {
		assert_int_equal(sd_seq_parse(enter, strlen(enter), &en, why, sizeof why), SD_OK);
		a.enter = &en;
	}
	memset(ctx, 0, sizeof ctx);
	sd_report_init(&R.r, identify ? "info" : "sync", uri);
	R.err = p->session(ctx, l, &a, &R.r);
	sd_diag_sort(&R.r.diag);
	sd_sim_device *d = sd_sim_device_of(l);
	assert_non_null(d);
	for (size_t i = 0; i < d->log.n; i++) {
		const char *nm = d->log.e[i].name;
		if (strncmp(nm, "boot", 4) == 0 || strncmp(nm, "EN ", 3) == 0)
			continue;
		R.syncs += strcmp(nm, "sync") == 0;
		if (strcmp(nm, "sync") == 0 && strstr(R.log, "sync\n"))
			continue; /* one line for all SYNCs */
		size_t k = strlen(R.log);
		snprintf(R.log + k, sizeof R.log - k, "%s\n", nm);
	}
	/* the read-only rule, for every session of this file */
	assert_int_equal(d->log.destructive, 0);
	for (size_t i = 0; i < d->log.n; i++)
		assert_false(esp_cmd_destructive((uint8_t)d->log.e[i].code) &&
			     strncmp(d->log.e[i].name, "boot", 4) != 0 && strncmp(d->log.e[i].name, "EN", 2) != 0);
	sd_link_close(l);
	return &R;
}

static run *session(const char *uri, int identify)
{
	return session_args(uri, identify, NULL, 0);
}

static const char *fact(const run *R, const char *k)
{
	const char *v = sd_report_fact_get(&R->r, k);
	return v ? v : "";
}

static const char *top(const run *R)
{
	return R->r.diag.n ? sd_cause_name(R->r.diag.f[0].cause) : "";
}

static int has(const run *R, const char *cause)
{
	for (size_t i = 0; i < R->r.diag.n; i++)
		if (strcmp(sd_cause_name(R->r.diag.f[i].cause), cause) == 0)
			return 1;
	return 0;
}

/* ---- SLIP ---------------------------------------------------------------- */

static void slip_escapes_and_round_trips(void **state)
{
	(void)state;
	const uint8_t in[] = { 0x01, 0xC0, 0xDB, 0x02 };
	const uint8_t want[] = { 0xC0, 0x01, 0xDB, 0xDC, 0xDB, 0xDD, 0x02, 0xC0 };
	uint8_t w[16], back[8];
	size_t n = esp_slip_encode(in, sizeof in, w, sizeof w);
	assert_int_equal(n, sizeof want);
	assert_memory_equal(w, want, sizeof want);
	assert_int_equal(esp_slip_encode(in, sizeof in, w, 7), 0); /* does not fit: nothing */
	esp_slip s;
	esp_slip_reset(&s);
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k = esp_slip_feed(&s, back, sizeof back, w[i]);
	assert_int_equal(k, ESP_SLIP_FRAME);
	assert_int_equal(s.n, sizeof in);
	assert_memory_equal(back, in, sizeof in);
}

static void slip_names_junk_bad_escapes_and_overflow(void **state)
{
	(void)state;
	uint8_t buf[4];
	esp_slip s;
	esp_slip_reset(&s);
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 'e'), ESP_SLIP_JUNK);
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 0xC0), ESP_SLIP_MORE);
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 0xC0), ESP_SLIP_MORE); /* C0 C0 */
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 0xDB), ESP_SLIP_MORE);
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 0x41), ESP_SLIP_BADESC);
	esp_slip_reset(&s);
	esp_slip_feed(&s, buf, sizeof buf, 0xC0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, (uint8_t)i), ESP_SLIP_MORE);
	assert_true(s.n <= sizeof buf);
	assert_int_equal(esp_slip_feed(&s, buf, sizeof buf, 0xC0), ESP_SLIP_LONG);
}

static void sync_request_is_the_documented_frame(void **state)
{
	(void)state;
	uint8_t d[ESP_SYNC_DATA_LEN] = { 0x07, 0x07, 0x12, 0x20 }, w[64];
	memset(d + 4, 0x55, sizeof d - 4);
	size_t n = esp_request(ESP_CMD_SYNC, d, sizeof d, w, sizeof w);
	assert_int_equal(n, 46);
	const uint8_t head[] = { 0xC0, 0x00, 0x08, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x07, 0x12, 0x20, 0x55 };
	assert_memory_equal(w, head, sizeof head);
	assert_int_equal(w[45], 0xC0);
	/* READ_REG of the magic register: esp.md 5 */
	uint8_t a[4];
	esp_put32(a, ESP_REG_CHIP_MAGIC);
	const uint8_t rr[] = { 0xC0, 0x00, 0x0A, 0x04, 0x00, 0, 0, 0, 0, 0x00, 0x10, 0x00, 0x40, 0xC0 };
	assert_int_equal(esp_request(ESP_CMD_READ_REG, a, 4, w, sizeof w), sizeof rr);
	assert_memory_equal(w, rr, sizeof rr);
}

/* ---- identification, per family ------------------------------------------ */

static void esp32_rom_identifies_read_only(void **state)
{
	(void)state;
	run *R = session("sim:esp", 1);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.protocol, "esp");
	assert_string_equal(R->r.by.mode, "rom-loader");
	assert_string_equal(R->r.by.chip, "ESP32");
	assert_string_equal(fact(R, "sync_replies"), "8 of 8");
	assert_string_equal(fact(R, "loader"), "ROM (ESP32 family: 4 status bytes)");
	assert_string_equal(fact(R, "chip_magic"), "0x00f01d83");
	assert_string_equal(fact(R, "mac"), "24:0a:c4:12:34:56");
	assert_string_equal(fact(R, "revision"), "v3.0");
	assert_non_null(strstr(fact(R, "reset"), "unix-tight, delay 50 ms (attempt 1)"));
	assert_non_null(strstr(fact(R, "boot_log"), "DOWNLOAD_BOOT"));
	assert_string_equal(fact(R, "unverified"), "");
	assert_int_equal(R->r.diag.n, 0);
	/* the ESP32 ROM does not know GET_SECURITY_INFO and its banner says
	 * ESP32 ("ets Jun  8 2016"): only SYNC and READ_REG were sent */
	/* each register twice: the magic, two MAC words, three revision words */
	assert_string_equal(R->log, "sync\nread-reg\nread-reg\nread-reg\nread-reg\nread-reg\nread-reg\n"
			    "read-reg\nread-reg\nread-reg\nread-reg\nread-reg\nread-reg\n");
}

static void esp32s3_by_security_info(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32s3&mac=de:ad:be:ef:00:01", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP32-S3");
	assert_string_equal(fact(R, "chip_id"), "9");
	assert_string_equal(fact(R, "secure_download_mode"), "off");
	assert_string_equal(fact(R, "mac"), "de:ad:be:ef:00:01");
	assert_string_equal(fact(R, "revision"), "v0.2");
	assert_non_null(strstr(R->log, "get-security-info\nget-security-info\n"));
}

static void esp32c3_and_esp8266(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32c3", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP32-C3");
	assert_string_equal(fact(R, "chip_id"), "5");
	assert_string_equal(fact(R, "revision"), "v0.4");
	R = session("sim:esp?chip=esp8266", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP8266");
	assert_string_equal(fact(R, "loader"), "ROM (ESP8266: 2 status bytes)");
	assert_string_equal(fact(R, "mac"), "18:fe:34:12:34:56");
	assert_null(strstr(R->log, "get-security-info"));
}

static void sync_alone_sends_only_sync(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32s3", 0);
	assert_true(R->r.ok);
	assert_string_equal(R->log, "sync\n");
	assert_int_equal(R->syncs, 1);
	assert_string_equal(R->r.by.chip, "");
}

static void stub_is_told_from_rom(void **state)
{
	(void)state;
	run *R = session("sim:esp?stub=1", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.mode, "stub");
	assert_non_null(strstr(fact(R, "loader"), "stub"));
	assert_string_equal(R->r.by.chip, "ESP32");
}

static void one_sync_reply_is_counted(void **state)
{
	(void)state;
	run *R = session("sim:esp?replies=1", 0);
	assert_true(R->r.ok);
	assert_non_null(strstr(fact(R, "sync_replies"), "1 of 8"));
	assert_true(has(R, "noise"));
}

static void secure_download_mode_reads_nothing(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32s3&mode=sdm", 1);
	assert_true(R->r.ok);
	assert_string_equal(top(R), "read-protected");
	assert_non_null(strstr(fact(R, "secure_download_mode"), "on"));
	assert_null(strstr(R->log, "read-reg"));
	assert_string_equal(fact(R, "mac"), "");
}

/* ---- verdicts ------------------------------------------------------------ */

static void verdicts_first_ranked(void **state)
{
	(void)state;
	static const struct { const char *uri, *cause, *mode; } cells[] = {
		{ "sim:esp?mode=app&wired=en", "wrong-boot-mode", "flash-boot" },
		{ "sim:esp?chip=esp32c3&mode=app&wired=en", "wrong-boot-mode", "flash-boot" },
		{ "sim:esp?chip=esp32s3&mode=app&wired=en", "wrong-boot-mode", "flash-boot" },
		{ "sim:esp?chip=esp32c3&mode=usb", "wrong-boot-mode", "usb-download" },
		{ "sim:esp?mode=brownout", "brownout", "brownout" },
		{ "sim:esp?chip=esp32s3&mode=brownout", "brownout", "brownout" },
		{ "sim:esp?mode=silent", "silent", "" },
		{ "sim:esp?mode=echo", "echo", "" },
		{ "sim:esp?stuck=0x01", "stuck-bit", "rom-loader" },
		{ "sim:esp?mode=app&wired=0", "app-running", "" },
		{ "sim:esp?chip=esp8266&telnet=1", "telnet-framing", "rom-loader" },
		{ "sim:esp?chip=esp8266&mode=app&wired=en", "wrong-boot-mode", "flash-boot" },
	};
	for (size_t i = 0; i < sizeof cells / sizeof cells[0]; i++) {
		run *R = session(cells[i].uri, 1);
		if (strcmp(top(R), cells[i].cause) != 0 || strcmp(R->r.by.mode, cells[i].mode) != 0)
			fail_msg("%s: first %s (mode '%s'), want %s ('%s')", cells[i].uri, top(R), R->r.by.mode,
				 cells[i].cause, cells[i].mode);
		assert_false(R->r.ok);
	}
}

static void strap_pin_is_named_per_family(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32c3&mode=app&wired=en", 0);
	assert_non_null(strstr(R->r.diag.f[0].summary, "GPIO9"));
	assert_non_null(strstr(R->r.diag.f[0].fix, "GPIO9"));
	R = session("sim:esp?mode=app&wired=en", 0);
	assert_non_null(strstr(R->r.diag.f[0].fix, "GPIO0"));
	R = session("sim:esp?chip=esp32c3&mode=usb", 0);
	assert_non_null(strstr(R->r.diag.f[0].summary, "USB only"));
	assert_non_null(strstr(R->r.diag.f[0].fix, "GPIO8"));
}

static void erased_flash_is_a_boot_loop(void **state)
{
	(void)state;
	run *R = session("sim:esp?mode=bootloop&wired=en", 0);
	assert_true(has(R, "bootloop"));
	assert_true(has(R, "wrong-boot-mode"));
	/* a bootloop board with working auto-reset still reaches the loader */
	R = session("sim:esp?mode=bootloop", 0);
	assert_true(R->r.ok);
}

/* ---- banners quoted by users (tests/cli/esp_banners/ has the threads) ----- */

static sd_diag banner_d;

static const sd_finding *banner_top(const char *text)
{
	sd_classify_in in = { .rx = (const uint8_t *)text, .rx_len = strlen(text), .expect = "esp",
			      .listen_ms = 1000 };
	sd_diag_init(&banner_d);
	assert_true(sd_diagnose_bytes(&in, &banner_d) > 0);
	return &banner_d.f[0];
}

static int banner_says(const char *word)
{
	for (size_t i = 0; i < banner_d.n; i++)
		if (strstr(banner_d.f[i].summary, word) || strstr(banner_d.f[i].fix, word))
			return 1;
	return 0;
}

static void real_banners_name_chip_pin_and_mode(void **state)
{
	(void)state;
	/* no ESP-ROM line (a forum post): the build date names the C3, so the
	 * pin is GPIO9 with GPIO8, not GPIO0 (esp32.io t=40168) */
	const sd_finding *f = banner_top("Build:Feb 7 2021\r\nrst:0x1 (POWERON),boot:0x0 (USB_BOOT)\r\nwait usb download\r\n");
	assert_string_equal(sd_cause_name(f->cause), "wrong-boot-mode");
	assert_non_null(strstr(f->summary, "esp32c3"));
	assert_non_null(strstr(f->summary, "GPIO9"));
	assert_non_null(strstr(f->fix, "GPIO8"));
	assert_false(banner_says("GPIO0"));
	/* SPI_DOWNLOAD_BOOT is not the UART loader (esptool#774) */
	f = banner_top("ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
		       "rst:0x1 (POWERON),boot:0x1 (SPI_DOWNLOAD_BOOT)\r\nwait spi download\r\n");
	assert_string_equal(sd_cause_name(f->cause), "wrong-boot-mode");
	assert_non_null(strstr(f->summary, "SPI"));
	assert_false(banner_says("waiting for a download on this UART"));
	/* "Saved PC:" between the boot line and "waiting for download" */
	f = banner_top("ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n"
		       "rst:0x15 (USB_UART_CHIP_RESET),boot:0x4 (DOWNLOAD(USB/UART0/1))\r\n"
		       "Saved PC:0x400462dc\r\nwaiting for download\r\n");
	assert_string_equal(sd_cause_name(f->cause), "boot-log");
	assert_non_null(strstr(f->summary, "esp32c3 ROM loader is waiting"));
	/* the ESP32 ECO3 ROM's date; the header value is the one printed */
	f = banner_top("ets Jul 29 2019 12:21:46\r\n\r\nrst:0x10 (RTCWDT_RTC_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
		       "invalid header: 0x88a0f530\r\ninvalid header: 0x88a0f530\r\n");
	assert_string_equal(sd_cause_name(f->cause), "wrong-boot-mode");
	assert_non_null(strstr(f->summary, "esp32"));
	assert_true(banner_says("0x88a0f530"));
	assert_false(banner_says("0xffffffff"));
	assert_false(banner_says("erased"));
	/* erased flash in a loop: the loop first, erased named */
	f = banner_top("rst:0x10 (RTCWDT_RTC_RESET),boot:0x1f (SPI_FAST_FLASH_BOOT)\r\ninvalid header: 0xffffffff\r\n"
		       "ets Jul 29 2019 12:21:46\r\n\r\nrst:0x10 (RTCWDT_RTC_RESET),boot:0x1f (SPI_FAST_FLASH_BOOT)\r\n"
		       "invalid header: 0xffffffff\r\n");
	assert_string_equal(sd_cause_name(f->cause), "bootloop");
	assert_non_null(strstr(f->summary, "erased (invalid header: 0xffffffff"));
}

static void esp8266_log_is_read_at_74880(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp8266&mode=app&wired=en", 0);
	assert_non_null(strstr(fact(R, "log_baud"), "74880"));
	assert_non_null(strstr(fact(R, "boot_log"), "boot mode:(3,6)"));
}

static void no_reset_hears_the_application(void **state)
{
	(void)state;
	run *R = session_args("sim:esp?mode=app", 0, NULL, 1);
	assert_false(R->r.ok);
	assert_string_equal(fact(R, "reset"), "");
	assert_string_equal(top(R), "wrong-boot-mode");
}

/* The classic sequence leaves a window with both lines asserted: EN is
 * already released while IO0 is still high. A driver that spaces line
 * writes by more than the EN capacitor's delay loses the race; the tight
 * variant changes both at once and wins (esp.md 9). */
static void classic_reset_races_the_en_capacitor(void **state)
{
	(void)state;
	const char *classic = "dtr:high,rts:low,100ms,dtr:low,rts:high,50ms,dtr:high";
	run *R = session_args("sim:esp?mode=app&lag_ms=20&en_rc_ms=10", 0, classic, 0);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "wrong-boot-mode");
	R = session_args("sim:esp?mode=app&lag_ms=5&en_rc_ms=10", 0, classic, 0);
	assert_true(R->r.ok);
	R = session("sim:esp?mode=app&lag_ms=20&en_rc_ms=10", 0);
	assert_true(R->r.ok);
	assert_non_null(strstr(fact(R, "reset"), "unix-tight"));
}

/* A port that enumerates as 303a:1001 is the chip's own USB-Serial/JTAG:
 * its DTR/RTS are requests to the chip's USB peripheral (sim wired=usbjtag
 * models it), so the session uses esptool's USBJTAGSerialReset there and
 * only there, says so, and --enter still overrides. The identity is the
 * link's (libserialport's on a real port; the simulator claims one). */
static void usb_jtag_reset_is_chosen_by_port_identity(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32c3&wired=usbjtag&mode=app", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP32-C3");
	assert_string_equal(fact(R, "reset"), "usb-jtag (attempt 1): this one worked");
	assert_non_null(strstr(fact(R, "reset_why"), "303a:1001"));
	/* the same chip, its port's identity unknown: the transistor-pair
	 * sequences release the reset with DTR asserted or after (0,0): the
	 * chip boots from flash every time */
	R = session("sim:esp?chip=esp32c3&wired=usbjtag&mode=app&usbid=none", 0);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "wrong-boot-mode");
	assert_non_null(strstr(fact(R, "reset_why"), "no USB identity"));
	assert_null(strstr(fact(R, "reset"), "usb-jtag"));
	/* a bridge's identity: esptool's order, named */
	R = session("sim:esp?usbid=10c4:ea60", 0);
	assert_true(R->r.ok);
	assert_non_null(strstr(fact(R, "reset"), "unix-tight"));
	assert_non_null(strstr(fact(R, "reset_why"), "10c4:ea60"));
	/* --enter overrides the identity: classic on USB-JTAG boots flash;
	 * esptool's USB-JTAG steps spelled as --enter reach the loader */
	const char *classic = "dtr:high,rts:low,100ms,dtr:low,rts:high,50ms,dtr:high";
	R = session_args("sim:esp?chip=esp32c3&wired=usbjtag&mode=app", 0, classic, 0);
	assert_false(R->r.ok);
	assert_non_null(strstr(fact(R, "reset"), "custom"));
	const char *jtag = "rts:high,dtr:high,100ms,dtr:low,rts:high,100ms,rts:low,dtr:high,rts:low,100ms,dtr:high,rts:high";
	R = session_args("sim:esp?chip=esp32c3&wired=usbjtag&mode=app", 0, jtag, 0);
	assert_true(R->r.ok);
	assert_non_null(strstr(fact(R, "reset"), "custom"));
	/* --no-reset: no reset at all, the application is heard */
	R = session_args("sim:esp?chip=esp32c3&wired=usbjtag&mode=app", 0, NULL, 1);
	assert_false(R->r.ok);
	assert_string_equal(fact(R, "reset"), "");
}

/* "opened again N ms later, try K of 3" -> N (and K in *try_k) */
static long reopened_after(const run *R, unsigned *try_k)
{
	long ms = -1;
	const char *v = strstr(fact(R, "reenumerated"), "opened again ");
	if (!v || sscanf(v, "opened again %ld ms later, try %u of 3", &ms, try_k) != 2)
		return -1;
	return ms;
}

/* A chip on its own USB-Serial/JTAG leaves the USB bus as it resets, and
 * its port vanishes for a while (sim vanish_ms). The session does what
 * esptool's ResetStrategy.__call__ does: close, wait 0.5 s on the link
 * clock, open the same port again and run the whole reset again, three
 * tries in all, and says so with the time it measured; a port that does
 * not come back within the tries is "disconnected", with the tries. */
static void usb_jtag_port_that_vanishes_is_opened_again(void **state)
{
	(void)state;
	unsigned k = 0;
	run *R = session("sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=300", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP32-C3");
	long ms = reopened_after(R, &k);
	assert_true(ms >= 300 && ms <= 1000); /* not back before it was, within two reopens */
	assert_int_equal(k, 2);
	assert_non_null(strstr(R->log, "usb: port gone\nusb: port reopened\n"));
	assert_string_equal(fact(R, "vanished"), "");
	/* gone longer than the first wait: the third try finds it */
	R = session("sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=700", 1);
	assert_true(R->r.ok);
	ms = reopened_after(R, &k);
	assert_true(ms >= 700 && ms <= 1000);
	assert_int_equal(k, 3);
	/* longer than three tries cover: disconnected, the tries stated */
	R = session("sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=3000", 1);
	assert_false(R->r.ok);
	assert_int_equal(R->err, SD_ERR_CLOSED);
	assert_string_equal(top(R), "disconnected");
	assert_non_null(strstr(R->r.diag.f[0].summary, "did not come back: 3 tries"));
	assert_non_null(strstr(fact(R, "vanished"), "not back: 3 tries in 1000 ms"));
	assert_string_equal(fact(R, "reenumerated"), "");
	assert_null(strstr(R->log, "reopened"));
	assert_int_equal(R->syncs, 0);
	/* vanish_ms=0: today's run, nothing reopened */
	R = session("sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=0", 1);
	assert_true(R->r.ok);
	assert_string_equal(fact(R, "reenumerated"), "");
	assert_string_equal(fact(R, "reset"), "usb-jtag (attempt 1): this one worked");
	assert_null(strstr(R->log, "usb:"));
	/* a port disconnected for good (the fault layer's disconnect) is not
	 * brought back by reopening */
	sd_link *l = NULL;
	char why[200];
	assert_int_equal(sd_link_open("sim:esp?disconnect_after=1", NULL, &l, why, sizeof why), SD_OK);
	uint8_t b[4] = { 0 };
	int e = SD_OK;
	for (int i = 0; i < 8 && e != SD_ERR_CLOSED; i++) {
		e = sd_link_write(l, b, 2, SD_FOREVER);
		if (e > 0)
			e = sd_link_read(l, b, 4, sd_deadline_in(l->clock, SD_MS(10)));
	}
	assert_int_equal(e, SD_ERR_CLOSED);
	assert_int_equal(sd_link_reopen(l, SD_FOREVER), SD_ERR_NOTFOUND);
	assert_int_equal(sd_link_write(l, b, 1, SD_FOREVER), SD_ERR_CLOSED);
	sd_link_close(l);
}

/* The simulated port itself: gone from the reset on (every call fails as
 * on a vanished tty), not there to open before vanish_ms, a fresh port
 * after with nothing of the old one in flight. */
static void sim_port_vanishes_and_reopens_on_the_link_clock(void **state)
{
	(void)state;
	sd_link *l = NULL;
	char why[200];
	assert_int_equal(sd_link_open("sim:esp?chip=esp32c3&wired=usbjtag&vanish_ms=300", NULL, &l, why,
				      sizeof why), SD_OK);
	uint8_t b[64];
	sd_link_drain(l, SD_MS(50), sd_deadline_in(l->clock, SD_MS(500))); /* the power-on log */
	/* RTS alone: the chip's USB peripheral resets it, and leaves the bus */
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, SD_LINE_RTS), SD_OK);
	sd_time gone_at = sd_now(l->clock);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, 0), SD_ERR_CLOSED);
	assert_non_null(strstr(sd_link_why(l, SD_ERR_CLOSED), "left the USB bus"));
	assert_int_equal(sd_link_read(l, b, 1, SD_FOREVER), SD_ERR_CLOSED);
	sd_link_sleep_until(l, gone_at + SD_MS(299));
	assert_int_equal(sd_link_reopen(l, SD_FOREVER), SD_ERR_NOTFOUND);
	assert_non_null(strstr(sd_link_why(l, SD_ERR_NOTFOUND), "no such device"));
	assert_int_equal(sd_link_write(l, b, 1, SD_FOREVER), SD_ERR_CLOSED); /* still dead */
	sd_link_sleep_until(l, gone_at + SD_MS(300));
	assert_int_equal(sd_link_reopen(l, SD_FOREVER), SD_OK);
	/* the chip booted while the port was away, its log heard by nobody;
	 * the host's RTS, applied again on the new port, holds it in reset */
	assert_int_equal(l->lines, SD_LINE_RTS);
	assert_int_equal(sd_link_read(l, b, sizeof b, sd_deadline_in(l->clock, SD_MS(100))), SD_ERR_TIMEOUT);
	/* released: it boots (download mode, held by the board), and the
	 * port works: a SYNC is answered */
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, 0), SD_OK);
	assert_true(sd_link_drain(l, SD_MS(50), sd_deadline_in(l->clock, SD_MS(500))) > 0);
	uint8_t d[ESP_SYNC_DATA_LEN] = { 0x07, 0x07, 0x12, 0x20 };
	memset(d + 4, 0x55, sizeof d - 4);
	uint8_t req[2 * (ESP_HDR_LEN + ESP_SYNC_DATA_LEN) + 2];
	size_t n = esp_request(ESP_CMD_SYNC, d, sizeof d, req, sizeof req);
	assert_int_equal(sd_link_write_all(l, req, n, SD_FOREVER), SD_OK);
	assert_true(sd_link_read(l, b, sizeof b, sd_deadline_in(l->clock, SD_MS(100))) > 0);
	assert_int_equal(b[0], 0xC0);
	sd_link_close(l);
}

/* A SiLabs CP2102C (10c4:ea64) keeps hardware flow control on: it asserts
 * RTS while the board sends with DTR released, which resets the chip (sim
 * wired=cp2102c). esptool's resets then end with DTR still asserted; the
 * session does the same, chosen by the port's identity, and says so.
 * Without the identity the usual ending releases DTR and the chip resets
 * at its first words: no chip is confirmed, and nothing is claimed. */
static void cp2102c_keeps_dtr_asserted(void **state)
{
	(void)state;
	run *R = session("sim:esp?chip=esp32s3&wired=cp2102c", 1);
	assert_true(R->r.ok);
	assert_string_equal(R->r.by.chip, "ESP32-S3");
	assert_non_null(strstr(fact(R, "reset_why"), "10c4:ea64"));
	assert_non_null(strstr(fact(R, "reset_why"), "DTR stays asserted"));
	R = session("sim:esp?chip=esp32s3&wired=cp2102c&usbid=none", 1);
	assert_false(R->r.ok);
	assert_string_not_equal(R->r.by.chip, "ESP32-S3");
	/* the same board behind another bridge resets as usual */
	R = session("sim:esp?chip=esp32s3&usbid=10c4:ea60", 0);
	assert_true(R->r.ok);
	assert_null(strstr(fact(R, "reset_why"), "CP2102C"));
}

static void tx_path_dead_when_waiting_but_deaf(void **state)
{
	(void)state;
	/* a loader that prints "waiting for download" and answers no SYNC */
	run *R = session("sim:esp?replies=0", 0);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "tx-path-dead");
	assert_string_equal(R->r.by.mode, "rom-loader");
	/* a board whose RX hears nothing: it never logged a SYNC, and the
	 * verdict is the same (the transcript cannot tell the two apart) */
	R = session("sim:esp?mode=rx-dead", 0);
	assert_false(R->r.ok);
	assert_string_equal(top(R), "tx-path-dead");
	assert_int_equal(R->syncs, 0);
	assert_non_null(strstr(R->r.diag.f[0].summary, "not one byte came back"));
	assert_non_null(strstr(R->r.diag.f[0].fix, "U0RXD"));
	R = session("sim:esp?chip=esp32c3&mode=rx-dead", 1);
	assert_string_equal(top(R), "tx-path-dead");
	assert_non_null(strstr(R->r.diag.f[0].summary, "esp32c3"));
	/* without a reset (a pty, --no-reset) the banner waiting on the port
	 * is enough */
	R = session_args("sim:esp?chip=esp8266&mode=rx-dead", 0, NULL, 1);
	assert_string_equal(top(R), "tx-path-dead");
}

/* Replies later than a SYNC's 100 ms wait: the client has sent the next
 * SYNC when they come. They are counted against the SYNCs sent (in order),
 * read off the line before any other command, and reported; the values
 * read afterwards are the right ones and verified. */
static void overlapping_syncs_are_counted_and_drained(void **state)
{
	(void)state;
	run *R = session("sim:esp?delay_ms=250", 1);
	assert_int_equal(R->err, SD_OK);
	assert_true(R->r.ok);
	assert_string_equal(top(R), "overlapping-syncs");
	assert_non_null(strstr(fact(R, "sync_overlap"), "3 SYNCs sent before the first reply (3 since the reset), 24 replies"));
	assert_non_null(strstr(fact(R, "round_trip"), "(SYNC 1 sent"));
	assert_non_null(strstr(R->r.diag.f[0].summary, "the replies to SYNC 1 were read"));
	assert_string_equal(R->r.by.chip, "ESP32");
	assert_string_equal(fact(R, "mac"), "24:0a:c4:12:34:56");
	assert_string_equal(fact(R, "unverified"), "");
	assert_int_equal(R->syncs, 3);
	/* the delay line is one way: at least 250 ms, read at most one SYNC
	 * spacing (150 ms) later */
	long long ms = atoll(fact(R, "round_trip"));
	assert_true(ms >= 250 && ms <= 250 + 160);
	/* in time (80 ms < the 100 ms wait), or no delay: no overlap */
	R = session("sim:esp?delay_ms=80", 1);
	assert_true(R->r.ok);
	assert_int_equal(R->r.diag.n, 0);
	assert_string_equal(fact(R, "sync_overlap"), "");
}

/* READ_REG's answer carries no address: on a link slower than a whole
 * attempt (replies of one attempt's SYNCs arrive after the next reset), a
 * late answer would pass for the next register's. Fenced with SYNC, no
 * value read that way is printed as verified unless it is the true one,
 * and the delays where identification cannot finish end in exit 1. */
static void slow_link_never_verifies_a_wrong_value(void **state)
{
	(void)state;
	static const unsigned delays[] = { 300, 500, 700, 800, 1000, 1200, 1500, 2000 };
	unsigned named = 0;
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		char uri[64];
		snprintf(uri, sizeof uri, "sim:esp?delay_ms=%u", delays[i]);
		run *R = session(uri, 1);
		const char *mac = fact(R, "mac"), *magic = fact(R, "chip_magic"), *rev = fact(R, "revision");
		if (*mac && !strstr(mac, "unverified"))
			assert_string_equal(mac, "24:0a:c4:12:34:56");
		if (*magic && !strstr(magic, "unverified"))
			assert_string_equal(magic, "0x00f01d83");
		if (*rev && !strstr(rev, "unverified"))
			assert_string_equal(rev, "v3.0");
		if (R->r.ok) {
			assert_string_equal(R->r.by.chip, "ESP32");
			named++;
		}
	}
	printf("# slow link: identified (exit 0) at %u of %zu delays\n", named, sizeof delays / sizeof delays[0]);
	assert_true(named >= 4);
}

/* The golden rule under noise: a value printed as verified is the true
 * one; a wrong value may appear only marked unverified (40 seeded runs at
 * two bit-error rates, both directions). */
static void noise_never_verifies_a_wrong_value(void **state)
{
	(void)state;
	const char *rates[] = { "1e-3", "1e-2" };
	unsigned named = 0, runs = 0;
	for (size_t r = 0; r < 2; r++) {
		for (unsigned seed = 1; seed <= 20; seed++) {
			char uri[120];
			snprintf(uri, sizeof uri, "sim:esp?noise=%s&seed=%u", rates[r], seed);
			run *R = session(uri, 1);
			runs++;
			const char *mac = fact(R, "mac"), *magic = fact(R, "chip_magic"), *rev = fact(R, "revision");
			if (*mac && !strstr(mac, "unverified"))
				assert_string_equal(mac, "24:0a:c4:12:34:56");
			if (*magic && !strstr(magic, "unverified"))
				assert_string_equal(magic, "0x00f01d83");
			if (*rev && !strstr(rev, "unverified"))
				assert_string_equal(rev, "v3.0");
			if (R->r.by.chip[0]) {
				assert_string_equal(R->r.by.chip, "ESP32");
				named++;
			}
			if (*fact(R, "unverified"))
				assert_true(has(R, "noise"));
		}
	}
	printf("# noise: chip named (verified) in %u of %u runs\n", named, runs);
	assert_true(named >= runs / 2);
}

static void session_costs_no_real_time(void **state)
{
	(void)state;
	sd_time t0 = sd_now(sd_clock_real());
	run *R = session("sim:esp?mode=silent", 1);
	assert_false(R->r.ok);
	assert_true(sd_now(sd_clock_real()) - t0 < SD_MS(500));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(slip_escapes_and_round_trips),
		cmocka_unit_test(slip_names_junk_bad_escapes_and_overflow),
		cmocka_unit_test(sync_request_is_the_documented_frame),
		cmocka_unit_test(esp32_rom_identifies_read_only),
		cmocka_unit_test(esp32s3_by_security_info),
		cmocka_unit_test(esp32c3_and_esp8266),
		cmocka_unit_test(sync_alone_sends_only_sync),
		cmocka_unit_test(stub_is_told_from_rom),
		cmocka_unit_test(one_sync_reply_is_counted),
		cmocka_unit_test(secure_download_mode_reads_nothing),
		cmocka_unit_test(verdicts_first_ranked),
		cmocka_unit_test(strap_pin_is_named_per_family),
		cmocka_unit_test(erased_flash_is_a_boot_loop),
		cmocka_unit_test(real_banners_name_chip_pin_and_mode),
		cmocka_unit_test(esp8266_log_is_read_at_74880),
		cmocka_unit_test(no_reset_hears_the_application),
		cmocka_unit_test(classic_reset_races_the_en_capacitor),
		cmocka_unit_test(usb_jtag_reset_is_chosen_by_port_identity),
		cmocka_unit_test(usb_jtag_port_that_vanishes_is_opened_again),
		cmocka_unit_test(sim_port_vanishes_and_reopens_on_the_link_clock),
		cmocka_unit_test(cp2102c_keeps_dtr_asserted),
		cmocka_unit_test(tx_path_dead_when_waiting_but_deaf),
		cmocka_unit_test(overlapping_syncs_are_counted_and_drained),
		cmocka_unit_test(slow_link_never_verifies_a_wrong_value),
		cmocka_unit_test(noise_never_verifies_a_wrong_value),
		cmocka_unit_test(session_costs_no_real_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
