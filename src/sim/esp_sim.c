/*
 * shakedown — a simulated Espressif chip (kind "esp"): the ROM serial loader
 * of an ESP8266, ESP32, ESP32-S3 or ESP32-C3 behind the usual auto-reset
 * circuit, its boot banners, its application, and the ways boards fail.
 * wired=usbjtag is a chip on its own USB-Serial/JTAG port (303a:1001,
 * which the port claims unless usbid= says otherwise): DTR/RTS reach the
 * chip's USB peripheral, see apply_usbjtag. wired=cp2102c is the usual
 * circuit behind a SiLabs CP2102C (10c4:ea64, which the port claims unless
 * usbid= says otherwise), whose hardware flow control cannot be turned off:
 * it asserts RTS whenever the board sends while DTR is released (esptool
 * PR #1157), which pulls EN low and resets the chip, see flow_reset.
 *
 * Keys: chip=esp32|esp32s3|esp32c3|esp8266, mode=download|app|bootloop|
 * brownout|usb|sdm|silent|echo|rx-dead, text= (the application's line), wired=1|0|en|usbjtag|cp2102c
 * (the DTR/RTS circuit: both lines, none, RTS to EN only), en_rc_ms (the EN
 * capacitor: time from EN released to the chip sampling its straps),
 * lag_ms (each separate line change reaches the board this much after the
 * previous one: a slow driver, a VM, a network port), replies (SYNC replies,
 * default 8), stub=1 (a flasher stub left running), stuck=0xMM (every byte
 * sent has these bits stuck high), telnet=1 (every 0xFF sent doubled, as a
 * Telnet / RFC 2217 server escapes it, read raw), mac=aa:bb:cc:dd:ee:ff,
 * vanish_ms (wired=usbjtag: the first reset takes the port off the USB bus
 * for this long, as a chip that re-enumerates; in process only).
 *
 * The reset circuit (esptool boot-mode-selection.rst "Automatic
 * Bootloader"): an asserted line is a low pin; EN is low only with RTS
 * asserted and DTR not, the boot pin low only with DTR asserted and RTS not.
 * EN released starts the chip en_rc later; it samples the boot pin then.
 * Modes say what the board does with its boot pin: download, usb and sdm
 * hold it low (a button held; usb: GPIO8 low too), app and bootloop leave it
 * to DTR (an application or erased flash when it is high), brownout resets
 * on power whatever the pins; rx-dead is download mode on a board whose
 * RX hears nothing (a broken host TX -> U0RXD wire): it prints its banner
 * and never receives a byte. On a pty nothing carries DTR/RTS: the device
 * boots once at start in its mode.
 *
 * Every command is logged, the destructive ones (esp_cmd_destructive)
 * flagged and refused (a read-only simulator: status 1, error 0x05).
 */
#include "internal.h"
#include "proto/esp_wire.h"

enum { C_ESP8266, C_ESP32, C_ESP32S3, C_ESP32C3 };
static const char *const chip_names[] = { "esp8266", "esp32", "esp32s3", "esp32c3" };

enum { M_DOWNLOAD, M_APP, M_BOOTLOOP, M_BROWNOUT, M_USB, M_SDM, M_SILENT, M_ECHO, M_RXDEAD };
static const char *const mode_names[] = {
	"download", "app", "bootloop", "brownout", "usb", "sdm", "silent", "echo", "rx-dead"
};

enum { RUN_OFF, RUN_LOADER, RUN_APP, RUN_LOOP, RUN_BROWN, RUN_QUIET };
enum { W_NONE, W_FULL, W_EN, W_USBJTAG, W_CP2102C };

#define OUT_CAP   4096u
#define FRAME_MAX 1100u   /* larger requests (flash blocks) are dropped */
#define QMAX      16u

typedef struct esp_dev {
	sd_sim_device d;
	int           chip, mode, wired;
	sd_time       en_rc, lag;
	unsigned      replies;
	int           stub;
	uint8_t       stuck;
	int           telnet;          /* every 0xFF sent twice (a Telnet server's IAC escape) */
	uint8_t       mac[6];
	/* the reset circuit */
	unsigned      lines;           /* as the board sees them */
	int           en_low;
	int           jtag_flag;       /* USB-Serial/JTAG: download requested (DTR alone asserted) */
	int           jtag_boot_dl;    /* ... as latched when the chip left its reset */
	sd_time       vanish;          /* USB-Serial/JTAG: the first reset takes the port off the bus this long */
	int           vanished;
	int           flow_reset;      /* CP2102C: what is being sent asserted RTS */
	sd_time       boot_at;         /* 0: no boot pending */
	struct { sd_time t; unsigned lines; } q[QMAX];
	size_t        qn;
	sd_time       last_te;
	/* what runs */
	int           run;
	int           usb_boot;
	unsigned      boots;
	sd_time       next;            /* the next periodic output */
	unsigned      loop_lines;
	sd_line_cfg   host;
	int           host_known;
	uint32_t      last_value;      /* leftover "value" field (esp.md 13) */
	/* I/O */
	esp_slip      dec;
	uint8_t       frame[FRAME_MAX];
	uint8_t       rx[256];
	size_t        rx_off, rx_len;
	uint8_t       out[OUT_CAP];
	size_t        out_len, out_off;
	uint8_t       text[SD_URI_VALLEN];
	size_t        text_len;
} esp_dev;

static sd_time now_of(esp_dev *s)
{
	return sd_now(s->d.eng.clock);
}

static void put(esp_dev *s, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n && s->out_len < OUT_CAP; i++) {
		s->out[s->out_len++] = (uint8_t)(b[i] | s->stuck);
		if (s->telnet && b[i] == 0xFF && s->out_len < OUT_CAP)
			s->out[s->out_len++] = 0xFF;
	}
}

static void puts_(esp_dev *s, const char *t)
{
	put(s, t, strlen(t));
}

/* ESP8266 ROM text goes out at 74880 baud: a host at another rate reads
 * what its UART makes of it (in process, where the host's rate is known). */
static void put_log(esp_dev *s, const char *t)
{
	if (s->chip == C_ESP8266 && s->host_known && s->host.baud && s->host.baud != ESP8266_BAUD_LOG) {
		sd_line_cfg tx = SD_LINE_CFG_8N1(ESP8266_BAUD_LOG), rx = s->host;
		uint8_t o[512];
		size_t n = SDI_MIN(strlen(t), (size_t)300);
		int k = sd_uart_resample(&tx, &rx, (const uint8_t *)t, n, 0, o, NULL, sizeof o);
		if (k > 0)
			put(s, o, SDI_MIN((size_t)k, sizeof o));
		return;
	}
	puts_(s, t);
}

/* ---- banners (esp.md 8; real logs quoted in esptool issues) ------------- */

static void banner(esp_dev *s, int download, unsigned rst)
{
	char line[160];
	s->boots++;
	switch (s->chip) {
	case C_ESP8266:
		sdi_fmt(line, sizeof line, "\r\n ets Jan  8 2013,rst cause:%u, boot mode:(%u,6)\r\n\r\n",
			rst == 0xF ? 2u : rst == 0x10 ? 4u : rst, download ? 1u : 3u);
		put_log(s, line);
		if (!download && s->run == RUN_LOOP)
			put_log(s, "load 0x40100000, len 0, room 16 \r\nflash read err, 0\r\n");
		return;
	case C_ESP32:
		puts_(s, "ets Jun  8 2016 00:22:57\r\n\r\n");
		sdi_fmt(line, sizeof line, "rst:0x%x (%s),boot:0x%x (%s)\r\n", rst,
			rst == 1 ? "POWERON_RESET" : rst == 0xF ? "RTCWDT_BROWN_OUT_RESET" : "RTCWDT_RTC_RESET",
			download ? 0x3u : 0x13u,
			download ? "DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2)" : "SPI_FAST_FLASH_BOOT");
		puts_(s, line);
		break;
	case C_ESP32S3:
		puts_(s, "ESP-ROM:esp32s3-20210327\r\nBuild:Mar 27 2021\r\n");
		sdi_fmt(line, sizeof line, "rst:0x%x (%s),boot:0x%x (%s)\r\n", rst,
			rst == 1 ? "POWERON" : rst == 0xF ? "BROWN_OUT_RST" : rst == 0x15 ? "USB_UART_CHIP_RESET" : "RTCWDT_RTC_RST",
			download ? 0x0u : 0x8u, download ? "DOWNLOAD(USB/UART0)" : "SPI_FAST_FLASH_BOOT");
		puts_(s, line);
		break;
	default: /* C3 */
		puts_(s, "ESP-ROM:esp32c3-api1-20210207\r\nBuild:Feb  7 2021\r\n");
		sdi_fmt(line, sizeof line, "rst:0x%x (%s),boot:0x%x (%s)\r\n", rst,
			rst == 1 ? "POWERON" : rst == 0xF ? "BROWN_OUT_RST" : rst == 0x15 ? "USB_UART_CHIP_RESET" : "RTCWDT_RTC_RST",
			s->usb_boot ? 0x3u : download ? 0x7u : 0xDu,
			s->usb_boot ? "USB_BOOT" : download ? "DOWNLOAD(USB/UART0/1)" : "SPI_FAST_FLASH_BOOT");
		puts_(s, line);
		break;
	}
	if (s->usb_boot) {
		puts_(s, "wait usb download\r\n");
		return;
	}
	if (download) {
		puts_(s, "waiting for download\r\n");
		return;
	}
	if (s->run == RUN_BROWN)
		return;
	puts_(s, s->chip == C_ESP32 ? "configsip: 0, SPIWP:0xee\r\n" : "SPIWP:0xee\r\n");
	puts_(s, "mode:DIO, clock div:2\r\n");
	if (s->run == RUN_LOOP) {
		puts_(s, "invalid header: 0xffffffff\r\ninvalid header: 0xffffffff\r\ninvalid header: 0xffffffff\r\n");
		return;
	}
	puts_(s, "load:0x3fce3808,len:0x44c\r\nentry 0x403c9880\r\n");
	puts_(s, "\x1b[0;32mI (27) boot: ESP-IDF v5.1.2 2nd stage bootloader\x1b[0m\r\n");
	puts_(s, "\x1b[0;32mI (245) main_task: Calling app_main()\x1b[0m\r\n");
}

/* The chip leaves reset: the boot pin decides. */
static void boot(esp_dev *s, int boot_low, unsigned rst)
{
	s->boot_at = 0;
	s->rx_off = s->rx_len = 0;
	esp_slip_reset(&s->dec);
	s->usb_boot = 0;
	s->loop_lines = 0;
	s->next = now_of(s) + SD_MS(300);
	sd_simlog_add(&s->d.log, now_of(s), rst, boot_low ? "boot: pin low" : "boot: pin high", 0);
	switch (s->mode) {
	case M_SILENT:
	case M_ECHO:
		s->run = RUN_QUIET;
		return;
	case M_BROWNOUT:
		s->run = RUN_BROWN;
		banner(s, 0, s->boots ? 0xF : rst);
		return;
	case M_USB:
		if (s->chip == C_ESP32C3) {
			s->usb_boot = 1;
			s->run = RUN_QUIET;
			banner(s, 1, rst);
			return;
		}
		break;
	default:
		break;
	}
	if (boot_low) {
		s->run = RUN_LOADER;
		banner(s, 1, rst);
		return;
	}
	s->run = s->mode == M_BOOTLOOP ? RUN_LOOP : RUN_APP;
	banner(s, 0, rst);
}

/* ---- the reset circuit ------------------------------------------------- */

static int pinned_low(const esp_dev *s)
{
	return s->mode == M_DOWNLOAD || s->mode == M_USB || s->mode == M_SDM || s->mode == M_RXDEAD;
}

static int boot_pin_low(const esp_dev *s)
{
	int dtr = (s->lines & SD_LINE_DTR) != 0, rts = (s->lines & SD_LINE_RTS) != 0;
	return pinned_low(s) || ((s->wired == W_FULL || s->wired == W_CP2102C) && dtr && !rts) ||
	       (s->wired == W_USBJTAG && s->jtag_boot_dl);
}

/* The chip's own USB-Serial/JTAG peripheral (303a:1001) reads DTR/RTS as
 * requests, not through the EN/IO0 transistor pair: RTS alone holds the
 * chip in reset; DTR alone requests download mode, and both released
 * withdraws the request; the chip boots with the request it had when it
 * left reset. Hence esptool's USBJTAGSerialReset passes from (DTR,RTS) =
 * (1,0) to (0,1) through (1,1), "instead of (0,0)" (v5.3.1 reset.py),
 * and the two-transistor sequences, which release the reset with DTR
 * asserted or after (0,0), boot from flash. */
static void apply_usbjtag(esp_dev *s, int dtr, int rts, sd_time t)
{
	int en_low = rts && !dtr;
	if (en_low && !s->en_low) {
		sd_simlog_add(&s->d.log, t, s->lines, "EN low (USB-JTAG reset)", 0);
		s->run = RUN_OFF;
		s->boot_at = 0;
		s->out_len = s->out_off = 0;
		if (s->vanish && !s->vanished) {
			/* vanish_ms: the reset takes the USB device off the bus
			 * (the port vanishes, esptool's retry is for this). The
			 * host's requests go with it, as if both lines were
			 * released: the chip leaves reset with the request it
			 * had, its boot log heard by nobody. Once per run: the
			 * reset the host runs again keeps the port. */
			s->vanished = 1;
			s->d.gone_until = t + s->vanish;
			sd_simlog_add(&s->d.log, t, 0, "usb: port gone", 0);
			s->qn = 0;
			s->lines = 0;
			s->en_low = 1;
			apply_usbjtag(s, 0, 0, t);
			return;
		}
	} else if (!en_low && s->en_low) {
		s->jtag_boot_dl = s->jtag_flag;
		s->boot_at = t + s->en_rc;
	}
	s->en_low = en_low;
	if (dtr && !rts)
		s->jtag_flag = 1;
	else if (!dtr && !rts)
		s->jtag_flag = 0;
}

static void apply_lines(esp_dev *s, unsigned lines, sd_time t)
{
	s->lines = lines;
	if (s->wired == W_NONE)
		return;
	int dtr = (lines & SD_LINE_DTR) != 0, rts = (lines & SD_LINE_RTS) != 0;
	if (s->wired == W_USBJTAG) {
		apply_usbjtag(s, dtr, rts, t);
		return;
	}
	int en_low = s->wired == W_EN ? rts : (rts && !dtr);
	if (en_low && !s->en_low) {
		sd_simlog_add(&s->d.log, t, lines, "EN low (reset)", 0);
		s->run = RUN_OFF;
		s->boot_at = 0;
		s->out_len = s->out_off = 0;
	} else if (!en_low && s->en_low) {
		s->boot_at = t + s->en_rc;
	}
	s->en_low = en_low;
}

/* Line changes that have reached the board by now; a boot that is due. */
static void settle(esp_dev *s)
{
	sd_time now = now_of(s);
	for (;;) {
		sd_time tq = s->qn ? s->q[0].t : SD_FOREVER;
		sd_time tb = s->boot_at ? s->boot_at : SD_FOREVER;
		if (tq <= tb && tq <= now) {
			unsigned l = s->q[0].lines;
			memmove(s->q, s->q + 1, (s->qn - 1) * sizeof s->q[0]);
			s->qn--;
			apply_lines(s, l, tq);
		} else if (tb < tq && tb <= now) {
			/* a reset through the chip's USB-Serial/JTAG is reported as
			 * such (C3 logs: rst:0x15 (USB_UART_CHIP_RESET), esp.md 8.1) */
			boot(s, boot_pin_low(s), s->wired == W_USBJTAG ? 0x15u : 1u);
		} else {
			return;
		}
	}
}

static void lines_event(esp_dev *s, unsigned lines)
{
	sd_time now = now_of(s), te = now;
	if (s->lag && s->last_te && s->last_te + s->lag > te)
		te = s->last_te + s->lag;
	s->last_te = te;
	if (s->qn < QMAX) {
		s->q[s->qn].t = te;
		s->q[s->qn].lines = lines;
		s->qn++;
	}
	settle(s);
}

/* ---- the loader -------------------------------------------------------- */

static unsigned status_len(const esp_dev *s)
{
	return s->stub || s->chip == C_ESP8266 ? 2u : 4u;
}

static void reply(esp_dev *s, uint8_t op, uint32_t value, const uint8_t *data, size_t n, int fail, uint8_t err)
{
	uint8_t pkt[ESP_HDR_LEN + 32], wire[2 * sizeof pkt + 2];
	unsigned sl = status_len(s);
	if (n > 24)
		n = 24;
	pkt[0] = ESP_DIR_RESPONSE;
	pkt[1] = op;
	pkt[2] = (uint8_t)(n + sl);
	pkt[3] = 0;
	esp_put32(pkt + 4, value);
	if (n)
		memcpy(pkt + 8, data, n);
	memset(pkt + 8 + n, 0, sl);
	if (fail) {
		pkt[8 + n] = s->stub ? err : 1;
		pkt[9 + n] = s->stub ? 0 : err;
	}
	size_t k = esp_slip_encode(pkt, 8 + n + sl, wire, sizeof wire);
	put(s, wire, k);
}

static int efuse(const esp_dev *s, uint32_t a, uint32_t *v)
{
	const uint8_t *m = s->mac;
	uint32_t lo = (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5];
	uint32_t hi = (uint32_t)m[0] << 8 | m[1];
	switch (s->chip) {
	case C_ESP32:
		if (a == ESP32_EFUSE_RD_BASE + 4) { *v = lo; return 1; }
		if (a == ESP32_EFUSE_RD_BASE + 8) { *v = hi | 0x9A000000u; return 1; } /* CRC byte on top */
		if (a == ESP32_EFUSE_RD_BASE + 12) { *v = 1u << 15; return 1; }      /* rev bit 0 */
		if (a == ESP32_EFUSE_RD_BASE + 20) { *v = 1u << 20; return 1; }      /* rev bit 1 */
		if (a == ESP32_APB_CTL_DATE) { *v = 1u << 31; return 1; }            /* v3.0 */
		return 0;
	case C_ESP32S3:
	case C_ESP32C3: {
		uint32_t b1 = (s->chip == C_ESP32S3 ? ESP32S3_EFUSE_BASE : ESP32C3_EFUSE_BASE) + ESP_EFUSE_BLOCK1_OFF;
		if (a == b1) { *v = lo; return 1; }
		if (a == b1 + 4) { *v = hi; return 1; }
		if (a == b1 + 12) { *v = (s->chip == C_ESP32S3 ? 2u : 4u) << 18; return 1; } /* minor 2 (S3) / 4 (C3) */
		if (a == b1 + 20) { *v = (s->chip == C_ESP32S3 ? 0u : 0u) << 24; return 1; }
		return 0;
	}
	default:
		/* ESP8266: OUI 18:fe:34 (code 0), the NIC bytes in MAC1 and MAC0 */
		if (a == ESP8266_OTP_MAC0) { *v = (uint32_t)m[5] << 24; return 1; }
		if (a == ESP8266_OTP_MAC1) { *v = (uint32_t)m[3] << 8 | m[4]; return 1; }
		if (a == ESP8266_OTP_MAC3) { *v = 0; return 1; }
		return 0;
	}
}

static uint32_t magic(const esp_dev *s)
{
	switch (s->chip) {
	case C_ESP8266: return 0xFFF0C101u;
	case C_ESP32: return 0x00F01D83u;
	case C_ESP32S3: return 0x00000009u;
	default: return 0x1B31506Fu;
	}
}

static const char *cmd_name(uint8_t op)
{
	switch (op) {
	case ESP_CMD_SYNC: return "sync";
	case ESP_CMD_READ_REG: return "read-reg";
	case ESP_CMD_GET_SECURITY_INFO: return "get-security-info";
	case ESP_CMD_WRITE_REG: return "write-reg";
	case ESP_CMD_FLASH_BEGIN: return "flash-begin";
	case ESP_CMD_FLASH_DATA: return "flash-data";
	case ESP_CMD_FLASH_END: return "flash-end";
	case ESP_CMD_MEM_BEGIN: return "mem-begin";
	case ESP_CMD_MEM_DATA: return "mem-data";
	case ESP_CMD_MEM_END: return "mem-end";
	case ESP_CMD_SPI_ATTACH: return "spi-attach";
	case ESP_CMD_SPI_SET_PARAMS: return "spi-set-params";
	case ESP_CMD_CHANGE_BAUDRATE: return "change-baudrate";
	case ESP_CMD_SPI_FLASH_MD5: return "spi-flash-md5";
	default: return "other";
	}
}

static void request(esp_dev *s)
{
	const uint8_t *f = s->frame;
	size_t n = s->dec.n;
	if (n < ESP_HDR_LEN || f[0] != ESP_DIR_REQUEST)
		return;
	uint8_t op = f[1];
	size_t len = esp_u16(f + 2);
	const uint8_t *d = f + ESP_HDR_LEN;
	sd_simlog_add(&s->d.log, now_of(s), op, cmd_name(op), esp_cmd_destructive(op));
	if (len != n - ESP_HDR_LEN) {
		reply(s, op, s->last_value, NULL, 0, 1, ESP_ROM_ERR_INVALID_MSG);
		return;
	}
	uint32_t v;
	switch (op) {
	case ESP_CMD_SYNC: {
		static const uint8_t head[4] = { 0x07, 0x07, 0x12, 0x20 };
		if (len != ESP_SYNC_DATA_LEN || memcmp(d, head, 4) != 0)
			return; /* the ROM ignores a malformed SYNC */
		uint32_t val = s->stub ? 0 : 0x20120707u;
		for (unsigned i = 0; i < s->replies; i++)
			reply(s, op, val, NULL, 0, 0, 0);
		return;
	}
	case ESP_CMD_READ_REG:
		if (len != 4 || s->mode == M_SDM) {
			reply(s, op, s->last_value, NULL, 0, 1, ESP_ROM_ERR_INVALID_MSG);
			return;
		}
		v = 0;
		if (esp_u32(d) == ESP_REG_CHIP_MAGIC)
			v = magic(s);
		else
			efuse(s, esp_u32(d), &v);
		s->last_value = v;
		reply(s, op, v, NULL, 0, 0, 0);
		return;
	case ESP_CMD_GET_SECURITY_INFO:
		if (s->chip == C_ESP8266 || s->chip == C_ESP32) {
			reply(s, op, s->last_value, NULL, 0, 1, ESP_ROM_ERR_INVALID_MSG);
			return;
		} else {
			uint8_t si[ESP_SECINFO_LEN] = { 0 };
			esp_put32(si, s->mode == M_SDM ? ESP_SECFLAG_SECURE_DOWNLOAD : 0);
			esp_put32(si + 12, s->chip == C_ESP32S3 ? 9u : 5u);
			reply(s, op, s->last_value, si, sizeof si, 0, 0);
		}
		return;
	default:
		/* read-only simulator: everything else is refused */
		reply(s, op, s->last_value, NULL, 0, 1, ESP_ROM_ERR_INVALID_MSG);
		return;
	}
}

static void loader_byte(esp_dev *s, uint8_t b)
{
	int k = esp_slip_feed(&s->dec, s->frame, sizeof s->frame, b);
	if (k == ESP_SLIP_FRAME)
		request(s);
}

/* ---- the engine ---------------------------------------------------------- */

static sd_time next_due(esp_dev *s)
{
	sd_time t = SD_FOREVER;
	if (s->qn)
		t = s->q[0].t;
	if (s->boot_at && s->boot_at < t)
		t = s->boot_at;
	if ((s->run == RUN_APP || s->run == RUN_LOOP || s->run == RUN_BROWN) && s->next < t)
		t = s->next;
	return t;
}

static void flush_out(esp_dev *s)
{
	if (s->out_off < s->out_len) {
		/* a CP2102C asserts RTS while the board sends with DTR released:
		 * EN low once these bytes are out */
		if (s->wired == W_CP2102C && !(s->lines & SD_LINE_DTR) && !s->en_low)
			s->flow_reset = 1;
		sd_engine_send(&s->d.eng, s->out + s->out_off, s->out_len - s->out_off, now_of(s) + SD_S(1));
		return;
	}
	s->out_len = s->out_off = 0;
	sd_engine_recv(&s->d.eng, s->rx, sizeof s->rx, next_due(s));
}

static void process(esp_dev *s)
{
	while (s->rx_off < s->rx_len && s->out_len + 400 <= OUT_CAP) {
		uint8_t b = s->rx[s->rx_off++];
		if (s->mode == M_ECHO) {
			put(s, &b, 1);
			continue;
		}
		if (s->mode == M_RXDEAD)
			continue; /* its RX pin hears nothing: not even logged */
		if (s->run == RUN_LOADER)
			loader_byte(s, b);
	}
	if (s->rx_off >= s->rx_len)
		s->rx_off = s->rx_len = 0;
	flush_out(s);
}

/* Periodic output: the application's line, the loops' next boot. */
static void tick(esp_dev *s)
{
	sd_time now = now_of(s);
	if (s->next > now)
		return;
	switch (s->run) {
	case RUN_APP:
		put(s, s->text, s->text_len);
		s->next = now + SD_MS(500);
		return;
	case RUN_LOOP:
		if (++s->loop_lines < 3) {
			puts_(s, s->chip == C_ESP8266 ? "" : "invalid header: 0xffffffff\r\n");
			s->next = now + SD_MS(100);
			return;
		}
		boot(s, 0, 0x10);
		return;
	case RUN_BROWN:
		if (s->chip != C_ESP8266)
			puts_(s, "\r\nBrownout detector was triggered\r\n\r\n");
		boot(s, 0, 0xF);
		s->next = now + SD_MS(250);
		return;
	default:
		s->next = SD_FOREVER;
		return;
	}
}

static void esp_step(sd_engine *e, const sd_event *ev)
{
	esp_dev *s = (esp_dev *)e;
	switch (ev->type) {
	case SD_EV_START:
		/* power on: the straps as the board holds them, no line asserted */
		boot(s, pinned_low(s), 1);
		flush_out(s);
		return;
	case SD_EV_LINES:
		lines_event(s, ev->lines);
		break;
	case SD_EV_CFG:
		s->host = ev->cfg;
		s->host_known = 1;
		break;
	case SD_EV_RECEIVED:
		settle(s);
		s->rx_len = ev->n;
		s->rx_off = 0;
		process(s);
		return;
	case SD_EV_SENT:
		s->out_off += ev->n;
		if (s->flow_reset) {
			/* the adapter's RTS pulse: the chip resets, and boots again
			 * with the straps the host's lines give it */
			sd_time t = now_of(s);
			s->flow_reset = 0;
			sd_simlog_add(&s->d.log, t, s->lines, "EN low (the adapter's flow control asserted RTS)", 0);
			s->run = RUN_OFF;
			s->out_len = s->out_off = 0;
			s->boot_at = t + s->en_rc + SD_MS(1);
			process(s);
			return;
		}
		if (s->out_off < s->out_len) {
			flush_out(s);
			return;
		}
		s->out_len = s->out_off = 0;
		process(s);
		return;
	case SD_EV_TIMEOUT:
		settle(s);
		tick(s);
		break;
	default:
		break;
	}
	settle(s);
	flush_out(s);
}

static const sd_engine_ops esp_sim_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "esp-sim",
	.step = esp_step,
};

static int pick(const char *v, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return (int)i;
	return -1;
}

static int esp_init(sd_sim_device *dev, const sd_kv *kv, size_t n, char *why, size_t whylen)
{
	esp_dev *s = (esp_dev *)dev;
	static const char hello[] = "hello world\r\n";
	static const uint8_t mac[6] = { 0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56 };
	sd_engine_init(&s->d.eng, &esp_sim_ops);
	s->chip = C_ESP32;
	s->mode = M_DOWNLOAD;
	s->wired = W_FULL;
	s->en_rc = SD_MS(10);
	s->replies = ESP_SYNC_REPLIES;
	memcpy(s->mac, mac, sizeof mac);
	memcpy(s->text, hello, sizeof hello - 1);
	s->text_len = sizeof hello - 1;
	/* the loader measures the host's rate from SYNC: no rate of its own */
	s->d.cfg = SD_LINE_CFG_8N1(0);
	int usbid_set = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u;
		int m;
		if (strcmp(k, "mode") == 0) {
			if ((m = pick(v, mode_names, SDI_ARRAY_LEN(mode_names))) < 0) {
				sdi_fmt(why, whylen, "sim esp: unknown mode '%s' (modes: download, app, bootloop, brownout, usb, sdm, silent, echo, rx-dead)", v);
				return SD_ERR_ARG;
			}
			s->mode = m;
		} else if (strcmp(k, "chip") == 0) {
			if ((m = pick(v, chip_names, SDI_ARRAY_LEN(chip_names))) < 0) {
				sdi_fmt(why, whylen, "sim esp: unknown chip '%s' (esp32, esp32s3, esp32c3, esp8266)", v);
				return SD_ERR_ARG;
			}
			s->chip = m;
		} else if (strcmp(k, "wired") == 0) {
			if (strcmp(v, "1") == 0)
				s->wired = W_FULL;
			else if (strcmp(v, "0") == 0)
				s->wired = W_NONE;
			else if (strcmp(v, "en") == 0)
				s->wired = W_EN;
			else if (strcmp(v, "usbjtag") == 0)
				s->wired = W_USBJTAG;
			else if (strcmp(v, "cp2102c") == 0)
				s->wired = W_CP2102C;
			else {
				sdi_fmt(why, whylen, "sim esp: bad wired '%s' (1, 0, en, usbjtag or cp2102c)", v);
				return SD_ERR_ARG;
			}
		} else if (strcmp(k, "usbid") == 0) {
			/* the identity the port claims: VVVV:PPPP, or none */
			uint32_t id = 0;
			int good = strlen(v) == 9 && v[4] == ':';
			for (size_t q = 0; good && q < 9; q++) {
				char h = v[q];
				int y = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
					: (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
				if (q == 4)
					continue;
				if (y < 0)
					good = 0;
				else
					id = id << 4 | (uint32_t)y;
			}
			if (strcmp(v, "none") == 0) {
				s->d.usb_vid = s->d.usb_pid = 0;
				usbid_set = 1;
			} else if (good) {
				s->d.usb_vid = (uint16_t)(id >> 16);
				s->d.usb_pid = (uint16_t)id;
				usbid_set = 1;
			} else {
				sdi_fmt(why, whylen, "sim esp: bad usbid '%s' (VVVV:PPPP in hex, or none)", v);
				return SD_ERR_ARG;
			}
		} else if (strcmp(k, "en_rc_ms") == 0 || strcmp(k, "lag_ms") == 0) {
			if (sd_parse_u32(v, 0, 5000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim esp: bad %s '%s' (0 to 5000)", k, v);
				return SD_ERR_ARG;
			}
			if (k[0] == 'e')
				s->en_rc = SD_MS(u);
			else
				s->lag = SD_MS(u);
		} else if (strcmp(k, "vanish_ms") == 0) {
			if (sd_parse_u32(v, 0, 60000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim esp: bad vanish_ms '%s' (0 to 60000)", v);
				return SD_ERR_ARG;
			}
			s->vanish = SD_MS(u);
		} else if (strcmp(k, "replies") == 0) {
			if (sd_parse_u32(v, 0, 8, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim esp: bad replies '%s' (0 to 8)", v);
				return SD_ERR_ARG;
			}
			s->replies = u;
		} else if (strcmp(k, "telnet") == 0) {
			s->telnet = strcmp(v, "1") == 0;
		} else if (strcmp(k, "stub") == 0) {
			s->stub = strcmp(v, "1") == 0;
		} else if (strcmp(k, "stuck") == 0) {
			if (sd_parse_u32(v, 0, 0x3F, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim esp: bad stuck '%s' (a bit mask 0x01..0x3f)", v);
				return SD_ERR_ARG;
			}
			s->stuck = (uint8_t)u;
		} else if (strcmp(k, "mac") == 0) {
			uint8_t b[6];
			size_t j = 0, q = 0;
			for (; j < 6; j++) {
				unsigned x = 0;
				for (int d = 0; d < 2; d++, q++) {
					char h = v[q];
					int y = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
						: (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
					if (y < 0)
						break;
					x = x * 16 + (unsigned)y;
				}
				b[j] = (uint8_t)x;
				if (v[q] != (j == 5 ? '\0' : ':'))
					break;
				q++;
			}
			if (j != 6) {
				sdi_fmt(why, whylen, "sim esp: bad mac '%s' (aa:bb:cc:dd:ee:ff)", v);
				return SD_ERR_ARG;
			}
			memcpy(s->mac, b, 6);
		} else if (strcmp(k, "text") == 0) {
			int t = sdi_sim_unescape(v, s->text, sizeof s->text);
			if (t < 0) {
				sdi_fmt(why, whylen, "sim esp: bad text escape in '%s'", v);
				return SD_ERR_ARG;
			}
			s->text_len = (size_t)t;
		} else {
			sdi_fmt(why, whylen, "sim esp: unknown key '%s' (chip, mode, text, wired, usbid, en_rc_ms, lag_ms, vanish_ms, replies, stub, stuck, telnet, mac)", k);
			return SD_ERR_ARG;
		}
	}
	if (s->wired == W_USBJTAG && !usbid_set) {
		/* the chip is the USB device: Espressif's USB-Serial/JTAG */
		s->d.usb_vid = ESP_USB_VID;
		s->d.usb_pid = ESP_USB_JTAG_SERIAL_PID;
	}
	if (s->vanish && s->wired != W_USBJTAG) {
		sdi_fmt(why, whylen, "sim esp: vanish_ms needs wired=usbjtag (the port that leaves the bus is the chip's own)");
		return SD_ERR_ARG;
	}
	if (s->wired == W_CP2102C && !usbid_set) {
		s->d.usb_vid = ESP_CP2102C_VID;
		s->d.usb_pid = ESP_CP2102C_PID;
	}
	if (s->chip == C_ESP8266 && s->mac[0] == 0x24) {
		/* an Espressif OUI the ESP8266's OTP can encode (code 0) */
		s->mac[0] = 0x18;
		s->mac[1] = 0xfe;
		s->mac[2] = 0x34;
	}
	sdi_fmt(s->d.mode, sizeof s->d.mode, "%s", mode_names[s->mode]);
	return SD_OK;
}

const sd_sim_kind sdi_sim_esp = {
	.name = "esp",
	.title = "Espressif ROM loader (ESP8266, ESP32, ESP32-S3, ESP32-C3) behind a DTR/RTS reset circuit",
	.modes = "download|app|bootloop|brownout|usb|sdm|silent|echo|rx-dead",
	.size = sizeof(esp_dev),
	.init = esp_init,
};
