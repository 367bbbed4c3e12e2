/*
 * shakedown — Espressif ROM loader (ESP8266 and the ESP32 family): the client
 * session (reset, listen, SLIP SYNC, read-only identification) and the
 * protocol's reading of unexpected bytes (the ROM boot banner).
 *
 * Facts: src/proto/esp_wire.h (sources named there) and
 * /work/shared/protocols/esp.md.
 */
#include "internal.h"
#include "esp_wire.h"

/* ====================================================================== *
 * The ROM's boot banner, decoded from its own words (esp.md 8.2: decide
 * download mode from the bracketed name, use the bits only to name the pin).
 * ====================================================================== */

typedef struct esp_banner {
	int      seen;          /* an Espressif ROM line was found */
	int      esp8266;       /* "rst cause:" / "boot mode:(" form */
	char     rom[24];       /* "esp32c3" from "ESP-ROM:esp32c3-...", "esp32" for "ets Jun  8 2016" */
	unsigned boot;          /* boot:0xNN, or the ESP8266's first boot-mode digit */
	int      have_boot;
	int      download;      /* DOWNLOAD(...) or "waiting for download" */
	int      waiting;       /* "waiting for download" / "wait uart0 download" */
	int      usb_only;      /* (USB_BOOT) / "wait usb download" */
	int      spi_only;      /* (SPI_DOWNLOAD_BOOT) / "wait spi download": not this UART either */
	unsigned header;        /* the last "invalid header: 0xNNNNNNNN" value */
	unsigned resets;        /* rst: lines (or rst cause:) */
	int      brownout;      /* BROWN_OUT reset reason, or the IDF's "Brownout detector" */
	int      watchdog;      /* a WDT reset reason */
	int      invalid_header;/* "invalid header: 0x" (no bootloader in flash) */
	int      flash_err;     /* "flash read err" */
	int      app;           /* second-stage / application output after the ROM */
	unsigned rst;           /* the last rst:0xNN */
} esp_banner;

static unsigned hexnum(const uint8_t *p, const uint8_t *end, int *ok)
{
	unsigned v = 0;
	int d = 0;
	for (; p < end && d < 8; p++, d++) {
		int x = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
			: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
		if (x < 0)
			break;
		v = v * 16 + (unsigned)x;
	}
	*ok = d > 0;
	return v;
}

/* The last occurrence of s in b[0..n), or NULL. */
static const uint8_t *find_last(const uint8_t *b, size_t n, const char *s)
{
	const uint8_t *p = NULL, *q = b;
	for (;;) {
		const uint8_t *h = sdi_find(q, n - (size_t)(q - b), s);
		if (!h)
			return p;
		p = h;
		q = h + 1;
	}
}

static void banner_read(const uint8_t *b, size_t n, esp_banner *o)
{
	memset(o, 0, sizeof *o);
	if (!b || !n)
		return;
	const uint8_t *end = b + n, *p;
	int ok;
	if ((p = sdi_find(b, n, "ESP-ROM:")) != NULL) {
		size_t k = 0;
		for (p += 8; p < end && k + 1 < sizeof o->rom && *p != '-' && *p > ' '; p++)
			o->rom[k++] = (char)*p;
		o->rom[k] = '\0';
		o->seen = 1;
	} else if (sdi_find(b, n, "ets Jun  8 2016") || sdi_find(b, n, "ets Jun 8 2016") ||
		   sdi_find(b, n, "ets Jul 29 2019")) {
		/* the ESP32 ROM (Jun 8 2016) and its ECO3 revision (Jul 29 2019),
		 * both quoted in user logs (esp-idf#10834, arduino-esp32#577) */
		sdi_fmt(o->rom, sizeof o->rom, "esp32");
		o->seen = 1;
	} else if ((p = sdi_find(b, n, "Build:")) != NULL) {
		/* the ESP-ROM line was cut off (or not pasted): the ROM's build
		 * date, printed under it, names the chip as well. Spaces are
		 * collapsed: a forum page shows "Feb  7" as "Feb 7". */
		static const struct { const char *date, *rom; } builds[] = {
			{ "Oct 25 2019", "esp32s2" }, /* ESP-ROM:esp32s2-rc4-20191025 */
			{ "Feb 7 2021", "esp32c3" },  /* ESP-ROM:esp32c3-api1-20210207 */
			{ "Mar 27 2021", "esp32s3" }, /* ESP-ROM:esp32s3-20210327 */
			{ "Sep 19 2022", "esp32c6" }, /* ESP-ROM:esp32c6-20220919 */
		};
		char date[16];
		size_t k = 0;
		for (p += 6; p < end && k + 1 < sizeof date && *p != '\r' && *p != '\n'; p++)
			if (*p != ' ' || (k > 0 && date[k - 1] != ' '))
				date[k++] = (char)*p;
		date[k] = '\0';
		for (size_t i = 0; i < sizeof builds / sizeof builds[0]; i++)
			if (strncmp(date, builds[i].date, strlen(builds[i].date)) == 0)
				sdi_fmt(o->rom, sizeof o->rom, "%s", builds[i].rom);
	}
	/* no ROM line pasted: words only the ESP32's own ROM prints (esp.md 8.1;
	 * esp-idf components/soc/esp32/include/soc/boot_mode.h) */
	if (!o->rom[0] && (sdi_find(b, n, "DOWNLOAD_BOOT(UART0/UART1/SDIO") || sdi_find(b, n, "configsip: ")))
		sdi_fmt(o->rom, sizeof o->rom, "esp32");
	/* the last boot decides (a loop prints several) */
	if ((p = find_last(b, n, "boot:0x")) != NULL) {
		o->boot = hexnum(p + 7, end, &ok);
		o->have_boot = ok;
		o->seen = 1;
		const uint8_t *eol = p;
		while (eol < end && *eol != '\n')
			eol++;
		size_t ln = (size_t)(eol - p);
		o->download = sdi_find(p, ln, "DOWNLOAD") != NULL;
		o->usb_only = sdi_find(p, ln, "USB_BOOT") != NULL;
		o->spi_only = sdi_find(p, ln, "SPI_DOWNLOAD") != NULL;
		const uint8_t *nx = eol < end ? eol + 1 : eol;
		size_t rest = (size_t)(end - nx);
		if (rest >= 9 && memcmp(nx, "Saved PC:", 9) == 0) {
			/* newer ROMs print the PC before the reset between the two
			 * (esp-idf#11348, esptool-js#150) */
			while (nx < end && *nx != '\n')
				nx++;
			nx = nx < end ? nx + 1 : nx;
			rest = (size_t)(end - nx);
		}
		if (rest >= 4 && memcmp(nx, "wait", 4) == 0) {
			o->download = 1;
			if (sdi_find(nx, SDI_MIN(rest, (size_t)24), "usb"))
				o->usb_only = 1;
			else if (sdi_find(nx, SDI_MIN(rest, (size_t)24), "spi"))
				o->spi_only = 1;
			else
				o->waiting = 1;
		}
	}
	o->resets = (unsigned)sdi_count_of(b, n, "rst:0x");
	if ((p = find_last(b, n, "rst:0x")) != NULL)
		o->rst = hexnum(p + 6, end, &ok);
	if (sdi_find(b, n, "rst cause:") && (p = find_last(b, n, "boot mode:(")) != NULL) {
		o->esp8266 = 1;
		o->seen = 1;
		sdi_fmt(o->rom, sizeof o->rom, "esp8266");
		o->resets = (unsigned)sdi_count_of(b, n, "rst cause:");
		p += 11;
		o->have_boot = p < end && *p >= '0' && *p <= '9';
		o->boot = o->have_boot ? (unsigned)(*p - '0') : 0;
		o->download = o->have_boot && (o->boot & 7) == 1;
		o->waiting = o->download;
		if ((p = find_last(b, n, "rst cause:")) != NULL && p + 10 < end && p[10] >= '0' && p[10] <= '9')
			o->rst = (unsigned)(p[10] - '0');
		o->watchdog = o->rst == 4;
	}
	o->brownout = sdi_find(b, n, "BROWN") != NULL || sdi_find(b, n, "Brownout detector") != NULL;
	if (!o->esp8266)
		o->watchdog = sdi_find(b, n, "WDT") != NULL;
	if ((p = find_last(b, n, "invalid header: 0x")) != NULL) {
		o->invalid_header = 1;
		o->header = hexnum(p + 18, end, &ok);
	}
	o->flash_err = sdi_find(b, n, "flash read err") != NULL;
	o->app = sdi_find(b, n, "\x1b[0;3") != NULL || sdi_find(b, n, "I (") != NULL ||
		 sdi_find(b, n, "entry 0x") != NULL;
}

/* The strapping pin that selects download mode, from the ROM's name. */
static const char *boot_pin(const esp_banner *o)
{
	const char *r = o->rom;
	if (strncmp(r, "esp32c2", 7) == 0 || strncmp(r, "esp32c3", 7) == 0 ||
	    strncmp(r, "esp32c6", 7) == 0 || strncmp(r, "esp32c61", 8) == 0 ||
	    strcmp(r, "esp32h2") == 0 || strncmp(r, "esp32h2", 7) == 0)
		return "GPIO9";
	if (strncmp(r, "esp32p4", 7) == 0)
		return "GPIO35";
	if (strncmp(r, "esp32c5", 7) == 0)
		return "GPIO28";
	if (strncmp(r, "esp32h4", 7) == 0 || strncmp(r, "esp32h21", 8) == 0)
		return "GPIO14";
	return "GPIO0";
}

/* The second strap that must be high with the boot pin low (esp.md 1). */
static const char *second_pin(const esp_banner *o)
{
	const char *pin = boot_pin(o);
	if (strcmp(pin, "GPIO9") == 0)
		return "GPIO8";
	if (strcmp(pin, "GPIO35") == 0)
		return "GPIO36";
	if (strcmp(pin, "GPIO28") == 0)
		return "GPIO27";
	if (strcmp(pin, "GPIO14") == 0)
		return "GPIO13";
	return NULL;
}

static const char *chip_word(const esp_banner *o)
{
	return o->esp8266 ? "ESP8266" : o->rom[0] ? o->rom : "ESP";
}

static sd_finding *add(sd_diag *d, sd_cause c, float conf, const sd_classify_in *in)
{
	sd_finding *f = sd_diag_add(d, c, conf);
	if (f && in)
		sd_finding_evidence(f, in->tx, in->tx_len, in->rx, in->rx_len);
	return f;
}

/* The verdicts a banner supports (esp.md 12). Returns how many it added. */
static unsigned banner_verdicts(const esp_banner *o, const sd_classify_in *in, sd_diag *d)
{
	sd_finding *f;
	unsigned k = 0;
	const char *pin = boot_pin(o);
	if (!o->seen)
		return 0;
	f = add(d, SD_CAUSE_BOOT_LOG, 0.6f, in);
	if (f) {
		k++;
		if (o->esp8266)
			sd_finding_summary(f, "an ESP8266 ROM boot log (boot mode %u: %s)", o->boot,
					   o->download ? "UART download: the loader is waiting" : "flash boot");
		else
			sd_finding_summary(f, "an Espressif ROM boot log (%s, boot:0x%x: %s)", chip_word(o), o->boot,
					   o->usb_only ? "USB-only download: the loader listens on USB, not on this UART"
					   : o->spi_only ? "SPI download: the loader listens on SPI, not on this UART"
					   : o->download ? "download mode: the serial loader is waiting"
					   : "flash boot, not the serial loader");
	}
	if (o->brownout) {
		f = add(d, SD_CAUSE_BROWNOUT, 0.95f, in);
		if (f) {
			k++;
			sd_finding_summary(f, "the %s resets on brown-out: its supply sags below the detector's threshold", chip_word(o));
			sd_finding_fix(f, "power the board from a supply or USB port that gives 500 mA; a short, thick cable; "
				       "a bulk capacitor near the module; nothing else drawing from the 3.3 V rail");
		}
	}
	if (o->usb_only) {
		f = add(d, SD_CAUSE_WRONG_BOOT_MODE, 0.93f, in);
		if (f) {
			k++;
			sd_finding_summary(f, "the %s waits for a download on USB only (%s low at reset with %s also low): "
					   "this UART will not answer", chip_word(o), pin, second_pin(o) ? second_pin(o) : "the second strap");
			sd_finding_fix(f, "keep %s high (its pull-up) while %s is low at reset, or connect to the chip's own USB port",
				       second_pin(o) ? second_pin(o) : "the second strap pin", pin);
		}
	} else if (o->spi_only) {
		/* SPI_DOWNLOAD_BOOT: a download mode, but over SPI (esptool#774:
		 * "wait spi download", then "No serial data received"). Later
		 * chips: boot bit 0x04 is the second strap (esp.md 8.2). */
		f = add(d, SD_CAUSE_WRONG_BOOT_MODE, 0.93f, in);
		if (f) {
			k++;
			if (second_pin(o) && !(o->boot & 0x04))
				sd_finding_summary(f, "the %s waits for a download over SPI (boot:0x%x, %s read low at reset): "
						   "this UART will not answer", chip_word(o), o->boot, second_pin(o));
			else
				sd_finding_summary(f, "the %s waits for a download over SPI (boot:0x%x): this UART will not answer",
						   chip_word(o), o->boot);
			sd_finding_fix(f, "keep %s high while %s is low at reset: UART download prints DOWNLOAD(...) "
				       "and \"waiting for download\"", second_pin(o) ? second_pin(o) : "the second strap pin", pin);
		}
	} else if (o->have_boot && !o->download && !o->brownout) {
		f = add(d, SD_CAUSE_WRONG_BOOT_MODE, 0.92f, in);
		if (f) {
			k++;
			if (o->esp8266)
				sd_finding_summary(f, "the ESP8266 booted from flash (boot mode %u), not into UART download", o->boot);
			else if (strcmp(o->rom, "esp32") == 0 && (o->boot & 0x1F) < 0x10 && (o->boot & 0x08))
				sd_finding_summary(f, "the ESP32 saw GPIO0 low but GPIO2 high at reset (boot:0x%x): not download mode", o->boot);
			else
				sd_finding_summary(f, "the %s booted from flash (boot:0x%x): %s was high at reset, not the download mode",
						   chip_word(o), o->boot, pin);
			sd_finding_fix(f, "hold %s low while the chip leaves reset (BOOT button, or DTR/RTS auto-reset with a "
				       "1-10 uF capacitor on EN)%s", pin,
				       strcmp(pin, "GPIO0") == 0 && !o->esp8266 ? "; GPIO2 must be low or floating" : "");
		}
	}
	if (o->invalid_header) {
		/* the value is the word the ROM read where the bootloader's
		 * header belongs: all ones is erased flash; anything else is an
		 * image the ROM does not accept (wrong offset or chip, or flash
		 * encryption that does not match, esp-idf#10948) */
		int erased = o->header == 0xFFFFFFFFu;
		f = add(d, o->resets >= 2 ? SD_CAUSE_BOOTLOOP : SD_CAUSE_BOOT_LOG, o->resets >= 2 ? 0.94f : 0.9f, in);
		if (f) {
			k++;
			sd_finding_summary(f, "the ROM finds %s (invalid header: 0x%08x%s)",
					   erased ? "no bootloader in flash: it is erased" : "no valid bootloader image in flash",
					   o->header, o->resets >= 2 ? ", and resets over and over" : "");
			sd_finding_fix(f, "%s; to reach the loader hold %s low at reset",
				       erased ? "flash a bootloader (erased flash boots nothing)"
				       : "re-flash the bootloader at the chip's offset, built for this chip (and with the flash "
					 "encryption setting the chip has)", pin);
		}
	} else if (o->resets >= 2 && !o->brownout) {
		f = add(d, SD_CAUSE_BOOTLOOP, 0.94f, in);
		if (f) {
			k++;
			sd_finding_summary(f, "the %s booted %u times while we listened: a boot loop%s", chip_word(o), o->resets,
					   o->watchdog ? " (watchdog resets)" : "");
			sd_finding_fix(f, "hold %s low at reset to reach the loader; then re-flash the firmware", pin);
		}
	}
	if (o->waiting && o->download && !o->usb_only && !o->spi_only) {
		/* an answer to SYNC would have made this a success: the session
		 * refines it into tx-path-dead when it sent SYNCs */
		f = add(d, SD_CAUSE_BOOT_LOG, 0.5f, in);
		if (f) {
			k++;
			if (o->esp8266)
				sd_finding_summary(f, "the ESP8266 ROM loader is waiting for a download on this UART (boot mode %u)",
						   o->boot);
			else
				sd_finding_summary(f, "the %s ROM loader is waiting for a download on this UART (boot:0x%x)",
						   chip_word(o), o->boot);
		}
	}
	return k;
}

static int esp_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	(void)tx;
	(void)tx_len;
	if (n == 0)
		return sdi_say(out, outlen, 0, "esp: no answer (expected a SLIP frame C0 01 ... C0)");
	if (b[0] == ESP_SLIP_END && n >= 2 && b[1] == ESP_DIR_RESPONSE)
		return sdi_say(out, outlen, 90, "esp: C0 01 = a SLIP response frame: the Espressif ROM loader answers");
	if (b[0] == ESP_SLIP_END && n >= 2 && b[1] == ESP_DIR_REQUEST)
		return sdi_say(out, outlen, 30, "esp: C0 00 = a SLIP request frame: our own SYNC coming back (an echo)?");
	if (b[0] == ESP_SLIP_END)
		return sdi_say(out, outlen, 40, "esp: 0xC0 = SLIP frame delimiter");
	esp_banner o;
	banner_read(b, n, &o);
	if (o.seen && (o.have_boot || o.esp8266))
		return sdi_say(out, outlen, 70, "esp: an Espressif ROM boot log (%s, %s): the chip, not its loader, is talking",
			       chip_word(&o), o.usb_only ? "USB-only download" : o.spi_only ? "SPI download" : o.download ? "download mode" : "flash boot");
	return sdi_say(out, outlen, 0, "esp: 0x%02x does not start a SLIP frame (expected C0)", b[0]);
}

/* The ROM's boot banner: which mode the straps chose, loops, power. */
static unsigned esp_diagnose(const sd_classify_in *in, sd_diag *d)
{
	const uint8_t *b = in->rx;
	size_t n = b ? in->rx_len : 0;
	if (n == 0 || sdi_text_count(b, n) * 10 < n * 5)
		return 0;
	esp_banner o;
	banner_read(b, n, &o);
	if (!o.seen || (!o.have_boot && !o.esp8266))
		return 0;
	banner_verdicts(&o, in, d);
	return SD_CLAIM_BOOTLOG;
}

/* ====================================================================== *
 * The client: small sans-I/O exchanges (the core's sdi_xact, as STM32's):
 * control steps (lines, pauses, flush), a frame, then the bytes that come
 * back fed to a parser until it is satisfied or a wait ends.
 * ====================================================================== */

/* ---- the session's context (caller-allocated, ctx_size) ---------------- */

#define BANNER_CAP 2048u
#define JUNK_CAP   1024u
#define FRAME_CAP  128u
#define READS      6u      /* reads of one field, at most, for need() alike */

enum { STRAT_NONE, STRAT_TIGHT, STRAT_CLASSIC, STRAT_USBJTAG, STRAT_CUSTOM };
static const char *const strat_names[] = { "none", "unix-tight", "classic", "usb-jtag", "custom (--enter)" };

typedef struct esp_ctx {
	sdi_xact      x;
	sd_link      *l;
	const sd_proto_args *a;
	sd_report    *r;
	sd_deadline   overall;
	int           out_of_time;
	/* what came back */
	esp_slip      dec;
	uint8_t       frame[FRAME_CAP];
	uint8_t       banner[BANNER_CAP]; /* every non-SLIP byte since the reset */
	size_t        banner_n;
	uint8_t       junk[JUNK_CAP];     /* bytes outside frames after a SYNC */
	size_t        junk_n;
	size_t        frames_bad;         /* bad escapes, overlong frames */
	size_t        sync_rx;            /* bytes received while SYNCs of this attempt were answered */
	size_t        sync_text;          /* ... of them, text outside any frame, kept with the boot log */
	int           sync_only_log;      /* they were all the boot log, late (a slow link): no answer */
	unsigned      telnet_ff;          /* frames that fit once FF FF is read as FF */
	/* the exchange under way */
	uint8_t       want_op;
	unsigned      want_n, got_n, echoes, stale, zero_values;
	uint8_t       resp[FRAME_CAP];    /* the first matching response */
	size_t        resp_n;
	/* each matching reply's value and size field, for a vote: the first
	 * reply may be the one noise spoiled (SYNC answers 8 times) */
	uint32_t      got_value[2 * ESP_SYNC_REPLIES];
	uint16_t      got_len[2 * ESP_SYNC_REPLIES];
	int           banner_done;
	/* the request on the wire */
	uint8_t       req[2 * (ESP_HDR_LEN + 64) + 2];
	size_t        req_n;
	/* sync */
	unsigned      sync_replies;       /* replies to the SYNC that synced */
	unsigned      sync_alike;         /* of them, alike the most common (value and length) */
	uint32_t      sync_value;
	unsigned      status_len;
	int           stub;
	int           strat;
	int           flowctl;            /* the port's adapter has RTS flow control on: flow_control() */
	sd_time       delay;
	unsigned      attempts, syncs_sent, attempt_syncs;
	int           lines_failed;
	/* a port that vanished during a reset (esptool's reopen, come_back) */
	unsigned      vanishes;           /* resets that met a vanished port */
	sd_time       vanished_at;        /* link clock, when the first call failed */
	unsigned      reset_tries;        /* tries of that reset, the first included */
	int           vanish_gone;        /* ... and it never came back */
	char          vanish_why[SD_FACT_VALUE_MAX / 2];
	sd_time       listened;
	esp_banner    ban;                /* of the last attempt */
	uint8_t       ban_keep[BANNER_CAP]; /* the banner of the attempt reported */
	size_t        ban_keep_n;
	/* identify */
	int           have_sec, sec_short, sec_unsupported, sdm, read_refused;
	unsigned      line_errors;        /* reads that differed, garbled frames, lost SYNC replies */
	unsigned      silent_run;         /* commands in a row without an answer */
	int           hung;               /* the loader stopped answering mid-session */
	sd_time       rtt;                /* SYNC sent to its first reply */
	sd_time       rtt_lo;             /* overlap: the last SYNC before the first reply, to it */
	int           overlap;            /* replies to a SYNC came after the next one was sent */
	int           slow;               /* a reply was seen to come later than its wait */
	int           late_sync;          /* SYNC replies came only in the listen after the SYNCs */
	sd_time       late_after;         /* the last SYNC to the first of them */
	int           misaligned;         /* a fence failed: a reply may pass for a later request's */
	unsigned      id_replies;         /* answers to identification commands (not SYNC) */
	sd_time       sync_hist[8];       /* send times of the last 8 SYNCs (all attempts) */
	unsigned      overlap_first;      /* the SYNC (1-based) the first replies answered */
	unsigned      sync_total, sync_sent_attempt; /* SYNC replies and SYNCs of the attempt that synced */
	uint8_t       sec[ESP_SECINFO_LEN];
	int           sec_verified;
	const esp_chip_fact *chip;
	uint32_t      magic;
	int           magic_verified, have_magic;
	char          ukeys[SD_FACT_VALUE_MAX], vkeys[SD_FACT_VALUE_MAX];
	uint8_t       ev_sent[64];
	size_t        ev_sent_n;
} esp_ctx;

static int run_x(esp_ctx *c, const sd_ctrl *ctrl, size_t nctrl, const uint8_t *tx, size_t txn,
		 sdi_xact_feed feed, sd_time wait, sd_time more, sd_time cap)
{
	int xr = sdi_xact_run(&c->x, c->l, c->overall, ctrl, nctrl, tx, txn, feed, c, wait, more, cap);
	if (c->x.out_of_time)
		c->out_of_time = 1;
	return xr;
}

static void keep_junk(esp_ctx *c, uint8_t b)
{
	if (c->junk_n < sizeof c->junk)
		c->junk[c->junk_n++] = b;
}

/* One complete frame from the device. */
static void on_frame(esp_ctx *c)
{
	esp_resp rp;
	if (c->dec.n >= 2 && c->frame[0] == ESP_DIR_REQUEST && c->frame[1] == c->want_op) {
		c->echoes++; /* our own request back: an echo */
		return;
	}
	if (!esp_parse_resp(c->frame, c->dec.n, &rp)) {
		/* 0xFF doubled (FF FF) makes it fit: a Telnet / RFC 2217 server's
		 * IAC escaping reached us raw (esp.md 5: the ESP8266 magic) */
		uint8_t un[FRAME_CAP];
		size_t k = 0, pairs = 0;
		for (size_t i = 0; i < c->dec.n; i++) {
			un[k++] = c->frame[i];
			if (c->frame[i] == 0xFF && i + 1 < c->dec.n && c->frame[i + 1] == 0xFF) {
				i++;
				pairs++;
			}
		}
		if (pairs && esp_parse_resp(un, k, &rp))
			c->telnet_ff++;
		c->frames_bad++;
		return;
	}
	if (rp.op != c->want_op) {
		c->stale++; /* a late reply to an earlier request (extra SYNC replies) */
		return;
	}
	if (c->got_n == 0) {
		memcpy(c->resp, c->frame, c->dec.n);
		c->resp_n = c->dec.n;
	}
	if (c->got_n < SDI_ARRAY_LEN(c->got_value)) {
		c->got_value[c->got_n] = rp.value;
		c->got_len[c->got_n] = (uint16_t)rp.len;
	}
	if (rp.value == 0)
		c->zero_values++;
	c->got_n++;
}

static int frames_feed(void *arg, const uint8_t *b, size_t n)
{
	esp_ctx *c = arg;
	if (c->want_op == ESP_CMD_SYNC)
		c->sync_rx += n;
	for (size_t i = 0; i < n; i++) {
		int k = esp_slip_feed(&c->dec, c->frame, sizeof c->frame, b[i]);
		if (k == ESP_SLIP_JUNK)
			keep_junk(c, b[i]);
		else if (k == ESP_SLIP_FRAME)
			on_frame(c);
		else if (k != ESP_SLIP_MORE)
			c->frames_bad++;
	}
	return c->want_n && c->got_n >= c->want_n;
}

/* The boot log: keep everything; done once the ROM says it waits. */
static int banner_feed(void *arg, const uint8_t *b, size_t n)
{
	esp_ctx *c = arg;
	size_t k = SDI_MIN(n, sizeof c->banner - c->banner_n);
	memcpy(c->banner + c->banner_n, b, k);
	c->banner_n += k;
	if (c->banner_n >= sizeof c->banner)
		return 1;
	/* "waiting for download\r\n" or "wait usb download\r\n" ends the ROM's
	 * words: nothing more will come until a SYNC */
	return sdi_find(c->banner, c->banner_n, " download\r\n") != NULL ||
	       sdi_find(c->banner, c->banner_n, " download\n") != NULL;
}

/* ---- reset strategies (v5.3.1 reset.py, esp.md 9) ----------------------
 * SD_LINE_* levels are logical (asserted); an asserted line is a low pin.
 * Boards: RTS drives EN, DTR drives the boot pin, through two transistors
 * so that both asserted or both released leave EN and the pin high. */

static size_t lines(sd_ctrl *o, size_t n, unsigned mask, unsigned level)
{
	o[n] = (sd_ctrl){ .op = SD_CTRL_LINES, .mask = mask, .level = level };
	return n + 1;
}

static size_t pause(sd_ctrl *o, size_t n, sd_time t)
{
	o[n] = (sd_ctrl){ .op = SD_CTRL_WAIT, .duration = t };
	return n + 1;
}

/* A USB-UART whose hardware flow control is always on, the SiLabs
 * CP2102C (10c4:ea64; esptool loader.py HARDWARE_FLOW_CONTROL_VID_PIDS,
 * commit 9ea2c5c, PR #1157): it asserts RTS while the board sends with DTR
 * released, which pulls EN low. esptool's resets then leave DTR asserted
 * at the end (IO0 stays low; with both lines asserted EN stays high). */
static int flow_control(const sd_link *l)
{
	return l->usb_vid == ESP_CP2102C_VID && l->usb_pid == ESP_CP2102C_PID;
}

static size_t strat_ctrls(const esp_ctx *c, int strat, sd_time delay, sd_ctrl *o)
{
	const unsigned D = SD_LINE_DTR, R = SD_LINE_RTS, B = SD_LINE_DTR | SD_LINE_RTS;
	size_t n = 0;
	/* Before a reset, what waits is older than the boot we cause; without
	 * one it is all we will hear of the last boot (esptool reads it too). */
	if (strat != STRAT_NONE || c->attempts)
		o[n++] = (sd_ctrl){ .op = SD_CTRL_FLUSH, .dirs = SD_FLUSH_IN };
	switch (strat) {
	case STRAT_CLASSIC:
		/* DTR off (IO0 high); RTS on (EN low); 100 ms; DTR on (IO0 low);
		 * RTS off (EN rises: the chip samples IO0); delay; DTR off. Between
		 * the two writes both lines are asserted: EN is already released. */
		n = lines(o, n, D, 0);
		n = lines(o, n, R, R);
		n = pause(o, n, ESP_T_RESET_HOLD);
		n = lines(o, n, D, D);
		n = lines(o, n, R, 0);
		n = pause(o, n, delay);
		if (!c->flowctl) /* see flow_control() */
			n = lines(o, n, D, 0);
		break;
	case STRAT_TIGHT:
		/* both lines in one write per step: no window with EN released */
		n = lines(o, n, B, 0);
		n = lines(o, n, B, B);
		n = lines(o, n, B, R);
		n = pause(o, n, ESP_T_RESET_HOLD);
		n = lines(o, n, B, D);
		n = pause(o, n, delay);
		if (!c->flowctl)
			n = lines(o, n, B, 0);
		break;
	case STRAT_USBJTAG:
		n = lines(o, n, R, 0);
		n = lines(o, n, D, 0);
		n = pause(o, n, SD_MS(100));
		n = lines(o, n, D, D);
		n = lines(o, n, R, 0);
		n = pause(o, n, SD_MS(100));
		n = lines(o, n, R, R);
		n = lines(o, n, D, 0);
		n = lines(o, n, R, R);
		n = pause(o, n, SD_MS(100));
		n = lines(o, n, D, 0);
		n = lines(o, n, R, 0);
		break;
	case STRAT_CUSTOM:
		for (size_t i = 0; c->a->enter && i < c->a->enter->n && n + 1 < SDI_XACT_MAXCTRL; i++) {
			const sd_seq_step *st = &c->a->enter->step[i];
			if (st->kind == SD_SEQ_LINES)
				n = lines(o, n, st->mask, st->level);
			else
				n = pause(o, n, st->wait);
		}
		break;
	default:
		break;
	}
	return n;
}

/* ---- SYNC ---------------------------------------------------------------- */

static void begin(esp_ctx *c, uint8_t op, unsigned want)
{
	c->want_op = op;
	c->want_n = want;
	c->got_n = c->echoes = c->stale = c->zero_values = 0;
	c->resp_n = 0;
	esp_slip_reset(&c->dec);
}

static int send_sync(esp_ctx *c)
{
	uint8_t d[ESP_SYNC_DATA_LEN] = { 0x07, 0x07, 0x12, 0x20 };
	memset(d + 4, 0x55, sizeof d - 4);
	c->req_n = esp_request(ESP_CMD_SYNC, d, sizeof d, c->req, sizeof c->req);
	begin(c, ESP_CMD_SYNC, ESP_SYNC_REPLIES);
	c->syncs_sent++;
	c->attempt_syncs++;
	size_t k = SDI_MIN(c->req_n, sizeof c->ev_sent);
	memcpy(c->ev_sent, c->req, k);
	c->ev_sent_n = k;
	int xr = run_x(c, NULL, 0, c->req, c->req_n, frames_feed, ESP_T_SYNC_FIRST, ESP_T_SYNC_MORE,
		       ESP_T_SYNC_FIRST + ESP_SYNC_REPLIES * ESP_T_SYNC_MORE);
	c->sync_hist[(c->syncs_sent - 1) % 8] = c->x.t_sent;
	return xr;
}

/* In sync after SYNC number t+1 of this attempt: collect what the earlier
 * ones may still bring before any other command goes out. The ROM answers
 * every SYNC it hears eight times and in order, so when the replies come
 * during SYNC k>1 and the count then grows past eight, they are the late
 * answers of the earlier SYNCs (a slow link: a USB latency timer, a VM, a
 * network port), not k's: the round trip is measured from the SYNC they
 * answer, the outstanding ones are read off the line (never taken for a
 * later command's), and the overlap is reported. */
static void settle_syncs(esp_ctx *c, unsigned t)
{
	sd_time first = c->x.t_first;
	unsigned prior = c->syncs_sent - 1; /* SYNCs before the one answered, every attempt */
	if (prior == 0) {
		/* the first SYNC ever: nothing earlier can still answer */
		sd_ctrl dr = { .op = SD_CTRL_DRAIN, .duration = SD_MS(60), .until = SD_MS(300) };
		run_x(c, &dr, 1, NULL, 0, NULL, 0, 0, 0);
		return;
	}
	/* every SYNC sent so far may still be answered: wait for all of it;
	 * a quiet gap of one SYNC spacing (plus margin) ends the wait */
	sd_time spacing = ESP_T_SYNC_FIRST + ESP_T_SYNC_GAP;
	/* the widest gap between this attempt's SYNCs: a window stretched by
	 * bytes that came in it spaces the replies as much */
	for (unsigned j = 1; j < SDI_MIN(c->attempt_syncs, 8u); j++) {
		sd_time d = c->sync_hist[(c->syncs_sent - j) % 8] - c->sync_hist[(c->syncs_sent - j - 1) % 8];
		if (d > spacing && d < SD_S(1))
			spacing = d;
	}
	sd_time quiet = spacing + SD_MS(60);
	unsigned owed = SDI_MIN(prior + 1, 8u);
	c->want_n = owed * ESP_SYNC_REPLIES;
	if (c->got_n < c->want_n)
		run_x(c, NULL, 0, NULL, 0, frames_feed, quiet, quiet, (sd_time)owed * quiet + SD_MS(300));
	unsigned answered = (c->got_n + ESP_SYNC_REPLIES - 1) / ESP_SYNC_REPLIES;
	answered = SDI_MIN(answered, owed);
	c->sync_total = c->got_n;
	c->sync_sent_attempt = t + 1;
	/* one SYNC's worth: the one just sent answered in time (the earlier
	 * ones were not heard: the chip was booting, or elsewhere) */
	if (answered < 2)
		return;
	/* in order: the first batch answers SYNC number syncs_sent - answered
	 * + 1 (of every attempt); its send time is kept */
	unsigned k = c->syncs_sent - answered; /* 0-based */
	c->overlap = c->slow = 1;
	c->overlap_first = k + 1 > c->syncs_sent - c->attempt_syncs ? k + 1 - (c->syncs_sent - c->attempt_syncs) : 0;
	sd_time at = c->sync_hist[k % 8];
	c->rtt = first > at ? first - at : 0;
	/* what is sure: the first reply came this long after the last SYNC
	 * sent before it (a reset's flush may have dropped replies, so the
	 * SYNC it answers is not known across a reset) */
	sd_time last = 0;
	for (unsigned j = 0; j < SDI_MIN(c->syncs_sent, 8u); j++) {
		sd_time h = c->sync_hist[(c->syncs_sent - 1 - j) % 8];
		if (h <= first && h > last)
			last = h;
	}
	c->rtt_lo = first > last && last ? first - last : 0;
}

/* SYNC replies came, during SYNC number t+1 of this attempt (or after
 * it): what they say, and the late ones read off. Returns 1. */
static int in_sync(esp_ctx *c, unsigned t)
{
	c->sync_replies = SDI_MIN(c->got_n, ESP_SYNC_REPLIES);
	c->rtt = c->x.t_first > c->x.t_sent ? c->x.t_first - c->x.t_sent : 0;
	/* the value and layout most replies agree on: two copies spoiled
	 * alike are not rare at BER 1e-2 (measured: 6 of 150 seeds), and the
	 * first reply may be one of them */
	unsigned n = SDI_MIN(c->got_n, (unsigned)SDI_ARRAY_LEN(c->got_value)), best = 0;
	c->sync_alike = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		for (unsigned j = 0; j < n; j++)
			k += c->got_value[j] == c->got_value[i] && c->got_len[j] == c->got_len[i];
		if (k > c->sync_alike)
			c->sync_alike = k, best = i;
	}
	c->sync_value = c->got_value[best];
	c->stub = c->zero_values == c->got_n;
	c->status_len = c->got_len[best] == 4 ? ESP_STATUS_ROM32 : 2;
	settle_syncs(c, t);
	return 1;
}

/* A reset that failed because the port went away: the chip's own USB
 * device (303a:1001) leaves the bus and re-enumerates as it resets, and
 * every call on the old handle fails (EIO). esptool (reset.py
 * ResetStrategy.__call__) then closes the port, sleeps 0.5 s, opens the
 * same path again and runs the whole reset again, three tries in all; an
 * open that fails is a try spent. 1: the port is open again, run the reset
 * again; 0: it is not (no tries left, or this link cannot reopen: the
 * error stands as it did). Durations are the link clock's. */
static int come_back(esp_ctx *c)
{
	sd_link *l = c->l;
	if (!sd_link_can_reopen(l))
		return 0; /* tcp, rfc2217, a wrapped link: no path to open again */
	sd_time now = sd_now(l->clock);
	if (c->reset_tries == 0) {
		c->vanishes++;
		c->reset_tries = 1;
		c->vanished_at = now;
		sdi_fmt(c->vanish_why, sizeof c->vanish_why, "%s", sd_link_why(l, c->x.err));
	}
	while (c->reset_tries < ESP_RESET_TRIES) {
		sd_time wake = sd_now(l->clock) + ESP_T_REOPEN;
		if (wake >= c->overall) {
			c->out_of_time = 1;
			break;
		}
		sd_link_sleep_until(l, wake);
		c->reset_tries++;
		int r = sd_link_reopen(l, c->overall);
		now = sd_now(l->clock);
		if (r == SD_OK) {
			if (c->vanishes == 1)
				sd_report_fact(c->r, "reenumerated", "the port vanished during the reset (%s); opened "
					       "again %lld ms later, try %u of %u (esptool: reopen after %lld ms, reset "
					       "again)", c->vanish_why, (long long)((now - c->vanished_at) / 1000),
					       c->reset_tries, ESP_RESET_TRIES, (long long)(ESP_T_REOPEN / 1000));
			return 1;
		}
		if (r != SD_ERR_NOTFOUND && r != SD_ERR_CLOSED && r != SD_ERR_IO)
			break; /* not a device on its way back (access, busy): say so as it is */
	}
	c->vanish_gone = 1;
	sd_report_fact(c->r, "vanished", "the port vanished during the reset (%s), not back: %u tries "
		       "in %lld ms; the last open: %s", c->vanish_why, c->reset_tries,
		       (long long)((now - c->vanished_at) / 1000), sd_link_why(l, SD_ERR_NOTFOUND));
	return 0;
}

/* One attempt: reset (or not), listen, up to ESP_SYNC_TRIES SYNCs. 1 in
 * sync, 0 not, <0 a link error. */
static int attempt(esp_ctx *c, int strat, sd_time delay)
{
	sd_ctrl ctrl[SDI_XACT_MAXCTRL];
	size_t nctrl = strat_ctrls(c, strat, delay, ctrl);
	c->banner_n = 0;
	c->junk_n = 0;
	c->sync_rx = c->sync_text = 0;
	c->sync_only_log = 0;
	c->attempt_syncs = 0;
	c->strat = strat;
	c->delay = delay;
	c->attempts++;
	sd_time t0 = sd_now(c->l->clock);
	/* listen from the reset on: the boot log is the best evidence there is */
	int xr;
	c->reset_tries = 0;
	for (;;) {
		xr = run_x(c, ctrl, nctrl, NULL, 0, banner_feed, ESP_T_BANNER, ESP_T_BANNER_GAP, ESP_T_BANNER_CAP);
		/* the port went away during the reset itself (esptool retries
		 * only there; a port lost while listening is lost) */
		if (xr != SDI_XR_LINK || strat == STRAT_NONE || c->x.err != SD_ERR_CLOSED || !c->x.err_in_ctrl ||
		    !come_back(c))
			break;
		c->banner_n = 0;
		t0 = sd_now(c->l->clock);
	}
	if (c->x.lines_err && strat != STRAT_NONE)
		c->lines_failed = 1;
	if (xr == SDI_XR_LINK)
		return c->x.err ? c->x.err : SD_ERR_IO;
	c->listened = sd_now(c->l->clock) - t0;
	/* SYNC replies in the listen after a reset answer the last attempt's
	 * SYNCs: the link is slower than a whole attempt */
	if (c->syncs_sent && sdi_find(c->banner, c->banner_n, "\xC0\x01\x08"))
		c->slow = 1;
	banner_read(c->banner, c->banner_n, &c->ban);
	memcpy(c->ban_keep, c->banner, c->banner_n);
	c->ban_keep_n = c->banner_n;
	/* a chip that booted elsewhere after our reset: one SYNC for the
	 * record, then the next strategy (its timing may differ) */
	int hopeless = c->ban.seen && c->ban.have_boot && (!c->ban.download || c->ban.usb_only || c->ban.spi_only);
	unsigned tries = hopeless ? 1 : ESP_SYNC_TRIES;
	unsigned t = 0;
	int log_before = c->ban.seen;
	size_t bad_before = c->frames_bad;
	for (; t < tries && !c->out_of_time; t++) {
		xr = send_sync(c);
		if (xr == SDI_XR_LINK)
			return c->x.err ? c->x.err : SD_ERR_IO;
		if (c->got_n > 0)
			return in_sync(c, t);
		/* text after a SYNC (an application, a boot log): part of the story */
		for (size_t i = 0; i < c->junk_n && c->banner_n < sizeof c->banner; i++, c->sync_text++)
			c->banner[c->banner_n++] = c->junk[i];
		c->junk_n = 0; /* taken: the next SYNC's text is its own (a log kept twice counted two boots) */
		memcpy(c->ban_keep, c->banner, c->banner_n); /* a late boot log is reported too */
		c->ban_keep_n = c->banner_n;
		if (c->echoes)
			break; /* our own frame came back: retrying changes nothing */
		sd_ctrl w[2] = { { .op = SD_CTRL_WAIT, .duration = ESP_T_SYNC_GAP },
				 { .op = SD_CTRL_FLUSH, .dirs = SD_FLUSH_IN } };
		run_x(c, w, 2, NULL, 0, NULL, 0, 0, 0);
	}
	/* the boot log as it stands now: it may have come during the SYNCs
	 * (a slow link delays it too) */
	banner_read(c->banner, c->banner_n, &c->ban);
	/* the bytes after our SYNCs were the boot log itself, come late (no
	 * log before them, nothing in a frame, all kept as text): no answer */
	c->sync_only_log = !log_before && c->ban.seen && c->sync_rx && c->sync_rx == c->sync_text &&
			   c->frames_bad == bad_before;
	/* A loader that said it waits for a download and has sent nothing
	 * since our SYNCs: its replies may only be late (a slow link, a loaded
	 * host). Its TX path is called dead only of a silence that lasted:
	 * listen once more, sending nothing, and take late replies as sync. */
	if (!c->out_of_time && !c->echoes && c->ban.download && c->ban.waiting && c->attempt_syncs &&
	    (c->sync_rx == 0 || c->sync_only_log)) {
		begin(c, ESP_CMD_SYNC, ESP_SYNC_REPLIES);
		xr = run_x(c, NULL, 0, NULL, 0, frames_feed, ESP_T_LATE, ESP_T_SYNC_MORE,
			   ESP_T_LATE + ESP_SYNC_REPLIES * ESP_T_SYNC_MORE);
		if (xr == SDI_XR_LINK)
			return c->x.err ? c->x.err : SD_ERR_IO;
		if (c->got_n > 0) {
			sd_time first = c->x.t_first, last = c->sync_hist[(c->syncs_sent - 1) % 8];
			c->slow = 1;
			in_sync(c, t ? t - 1 : 0);
			if (first > last) /* at least this late after the last SYNC */
				c->rtt = SDI_MAX(c->rtt, first - last);
			c->late_sync = 1;
			c->late_after = first > last ? first - last : 0;
			return 1;
		}
	}
	memcpy(c->ban_keep, c->banner, c->banner_n);
	c->ban_keep_n = c->banner_n;
	return 0;
}

/* ---- read-only commands ------------------------------------------------- */

enum { CR_OK = 1, CR_FAIL, CR_SILENT, CR_LINK };

static int drain(esp_ctx *c);
static void fence(esp_ctx *c);

/* Send op with data; wait for its reply. CR_OK: c->resp holds it and its
 * status says success; CR_FAIL: the loader refused (err in *err). */
static int command(esp_ctx *c, uint8_t op, const uint8_t *data, size_t n, esp_resp *out, unsigned *err)
{
	c->req_n = esp_request(op, data, n, c->req, sizeof c->req);
	begin(c, op, 1);
	c->junk_n = 0;
	/* the round trip measured at sync widens the wait (a USB latency
	 * timer, a VM, a network port), bounded */
	sd_time extra = 2 * SDI_MIN(c->rtt, (sd_time)SD_S(1));
	int xr = run_x(c, NULL, 0, c->req, c->req_n, frames_feed, ESP_T_CMD + extra, ESP_T_CMD,
		       2 * ESP_T_CMD + extra);
	if (xr == SDI_XR_LINK || c->out_of_time)
		return CR_LINK;
	if (!c->got_n) {
		/* nothing, three times in a row, from a loader at its prompt:
		 * noise garbles bytes, it does not remove every one */
		if (c->x.got_any)
			c->silent_run = 0; /* bytes came, garbled: not silence */
		else if (++c->silent_run >= 3)
			c->hung = 1;
		/* a late answer must not pass for the next one's: READ_REG's
		 * carries no address. On a link seen to be slow, fence; else
		 * drain, and a frame caught there shows the link is slow */
		sd_time sent = c->x.t_sent;
		if (!c->slow) {
			sd_time late = 0;
			if (drain(c) && c->x.t_first > sent)
				late = c->x.t_first - sent;
			if (late) {
				c->slow = 1;
				c->rtt = SDI_MAX(c->rtt, late);
			}
		}
		if (c->slow && !c->hung)
			fence(c);
		return c->hung ? CR_LINK : CR_SILENT;
	}
	c->silent_run = 0;
	if (op != ESP_CMD_SYNC)
		c->id_replies++;
	/* resp holds a frame that parsed when it came: a failure here is
	 * the "no room for a status" answer all the same */
	if (!esp_parse_resp(c->resp, c->resp_n, out) || out->len < c->status_len) {
		*err = 0x100;
		return CR_FAIL;
	}
	const uint8_t *st = out->data + out->len - c->status_len;
	if (st[0] != 0) {
		/* ROM: status 1 then the error; stub: the error first (esp.md 13) */
		*err = c->stub ? st[0] : st[1];
		return CR_FAIL;
	}
	return CR_OK;
}

/* Read and drop what comes until a quiet gap; the quiet covers the
 * measured round trip. Returns the response frames caught. */
static int drain(esp_ctx *c)
{
	sd_time rt = SDI_MIN(c->rtt, (sd_time)SD_S(1));
	sd_time quiet = SD_MS(60) + rt;
	begin(c, 0xFF, 0); /* no opcode is awaited: every frame is stale */
	run_x(c, NULL, 0, NULL, 0, frames_feed, quiet, quiet, ESP_T_DRAIN + 2 * rt);
	return (int)(c->stale + c->got_n);
}

/* After a request left unanswered on a slow link its answer may still
 * come, and would pass for the next request's. A SYNC is the fence: the
 * ROM answers in order, so once a SYNC reply is read every earlier request
 * has had its answer or never will. A SYNC reply is the fence's (and not
 * a late one of the sync phase) once an identification command has been
 * answered: those came after every earlier SYNC's. Before that, only one
 * request kind has been sent, which nothing can be confused with. Up to
 * three SYNCs; none answered: values read from here on are unverified. */
static void fence(esp_ctx *c)
{
	uint8_t d[ESP_SYNC_DATA_LEN] = { 0x07, 0x07, 0x12, 0x20 };
	memset(d + 4, 0x55, sizeof d - 4);
	c->req_n = esp_request(ESP_CMD_SYNC, d, sizeof d, c->req, sizeof c->req);
	sd_time sent0 = 0;
	for (unsigned i = 0; i < 3 && !c->out_of_time; i++) {
		begin(c, ESP_CMD_SYNC, 1);
		sd_time extra = 2 * SDI_MIN(c->rtt, (sd_time)SD_S(1));
		int xr = run_x(c, NULL, 0, c->req, c->req_n, frames_feed, ESP_T_CMD + extra, ESP_T_SYNC_MORE,
			       ESP_T_CMD + extra + ESP_SYNC_REPLIES * ESP_T_SYNC_MORE);
		if (xr == SDI_XR_LINK)
			return;
		if (i == 0)
			sent0 = c->x.t_sent;
		if (c->got_n) {
			if (!c->id_replies)
				return;
			if (i > 0 && c->x.t_first > sent0)
				c->rtt = SDI_MAX(c->rtt, c->x.t_first - sent0); /* it answers the first: in order */
			drain(c); /* the fence's other replies */
			return;
		}
	}
	if (c->id_replies)
		c->misaligned = 1;
}

/* How many answers alike make a value verified: two on a line that has
 * shown no error; three once it has (two copies corrupted the same way are
 * likely enough on a bad line: measured at BER 1e-2, a wrong chip magic
 * agreed twice in one run of six). */
static unsigned need(const esp_ctx *c)
{
	return c->line_errors || c->frames_bad || c->sync_replies < ESP_SYNC_REPLIES ? 3u : 2u;
}

/* READ_REG, up to READS times until need() outcomes agree (a value, or a
 * refusal: a status byte is as unprotected as the value). 1 verified, 0
 * read but no two values agreed (v = the last value), -1 refused (twice
 * alike), -2 silent/link or nothing usable. */
static int read_reg(esp_ctx *c, uint32_t addr, uint32_t *v)
{
	uint8_t a[4];
	uint64_t got[READS];
	unsigned k = 0;
	int have_value = 0;
	esp_put32(a, addr);
	for (unsigned t = 0; t < READS + 1 && k < READS; t++) {
		esp_resp rp;
		unsigned err = 0;
		int cr = command(c, ESP_CMD_READ_REG, a, 4, &rp, &err);
		if (cr == CR_LINK)
			return -2;
		if (cr == CR_SILENT)
			continue;
		uint64_t o = cr == CR_FAIL ? (1ull << 32) | err : rp.value;
		if (cr == CR_OK) {
			*v = rp.value;
			have_value = 1;
		}
		unsigned alike = 1;
		for (unsigned j = 0; j < k; j++)
			alike += got[j] == o;
		if (alike == 1 && k)
			c->line_errors++;
		got[k++] = o;
		if (c->misaligned)
			break; /* an answer may be another request's: no agreement counts */
		if (alike >= need(c)) {
			if (o >> 32) {
				c->read_refused = 1;
				return -1;
			}
			*v = (uint32_t)o;
			return 1;
		}
	}
	return have_value ? 0 : -2;
}

static void vfact(esp_ctx *c, const char *key, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A field read from the chip: verified when two reads agreed, else printed
 * as unverified (nothing the ROM sends carries a checksum). */
static void vfact(esp_ctx *c, const char *key, int ok, const char *fmt, ...)
{
	char val[SD_FACT_VALUE_MAX];
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(val, sizeof val, fmt, ap);
	va_end(ap);
	char *list = ok ? c->vkeys : c->ukeys;
	size_t k = strlen(list);
	sdi_fmt(list + k, sizeof c->vkeys - k, "%s%s", k ? " " : "", key);
	if (ok)
		sd_report_fact(c->r, key, "%s", val);
	else
		sd_report_fact(c->r, key, "%s (unverified: the reads did not agree)", val);
}

/* GET_SECURITY_INFO until need() answers agree (at most READS); 1 answered,
 * 0 not supported, <0 silent/link. */
static int security_info(esp_ctx *c)
{
	uint8_t got[READS][ESP_SECINFO_LEN];
	size_t gn[READS];
	unsigned k = 0;
	int agreed = -1;
	for (unsigned t = 0; t < READS + 1 && k < READS && agreed < 0; t++) {
		esp_resp rp;
		unsigned err = 0;
		int cr = command(c, ESP_CMD_GET_SECURITY_INFO, NULL, 0, &rp, &err);
		if (cr == CR_LINK)
			return -2;
		if (cr == CR_SILENT) {
			/* an old ROM may say nothing useful: drain, go on by READ_REG */
			drain(c);
			if (k || t)
				continue;
			c->sec_unsupported = 1;
			return 0;
		}
		if (cr == CR_FAIL) {
			c->sec_unsupported = 1;
			drain(c); /* ROMs that do not know 0x14 may repeat the error */
			return 0;
		}
		size_t n = rp.len - c->status_len;
		if (n < ESP_SECINFO_SHORT_LEN)
			continue;
		n = SDI_MIN(n, (size_t)ESP_SECINFO_LEN);
		memcpy(got[k], rp.data, n);
		gn[k] = n;
		unsigned alike = 1;
		for (unsigned j = 0; j < k; j++)
			alike += gn[j] == n && memcmp(got[j], got[k], n) == 0;
		if (alike == 1 && k)
			c->line_errors++;
		if (alike >= need(c) && !c->misaligned)
			agreed = (int)k;
		k++;
		if (c->misaligned)
			break;
	}
	if (!k)
		return 0;
	unsigned at = agreed >= 0 ? (unsigned)agreed : k - 1;
	memcpy(c->sec, got[at], gn[at]);
	c->sec_verified = agreed >= 0;
	c->have_sec = 1;
	c->sec_short = gn[at] < ESP_SECINFO_LEN;
	c->sdm = (esp_u32(c->sec) & ESP_SECFLAG_SECURE_DOWNLOAD) != 0;
	return 1;
}

static void hexmac(char *out, size_t cap, const uint8_t m[6])
{
	sdi_fmt(out, cap, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* MAC and revision from efuse registers, for the chips whose layout the
 * wire header knows; every value read twice. */
static void efuse_facts(esp_ctx *c)
{
	const char *nm = c->chip ? c->chip->name : "";
	uint32_t w0, w1, w3;
	int ok0, ok1, ok3;
	uint8_t m[6];
	char s[32];
	if (strcmp(nm, "ESP32") == 0) {
		ok1 = read_reg(c, ESP32_EFUSE_RD_BASE + 4, &w0);
		ok0 = read_reg(c, ESP32_EFUSE_RD_BASE + 8, &w1);
		if (ok0 >= 0 && ok1 >= 0) {
			/* words 2 then 1, big-endian, without the first two (CRC) bytes */
			m[0] = (uint8_t)(w1 >> 8); m[1] = (uint8_t)w1;
			m[2] = (uint8_t)(w0 >> 24); m[3] = (uint8_t)(w0 >> 16); m[4] = (uint8_t)(w0 >> 8); m[5] = (uint8_t)w0;
			hexmac(s, sizeof s, m);
			vfact(c, "mac", ok0 == 1 && ok1 == 1, "%s", s);
		}
		uint32_t w5, date;
		ok3 = read_reg(c, ESP32_EFUSE_RD_BASE + 12, &w3);
		int ok5 = read_reg(c, ESP32_EFUSE_RD_BASE + 20, &w5);
		int okd = read_reg(c, ESP32_APB_CTL_DATE, &date);
		if (ok3 >= 0 && ok5 >= 0 && okd >= 0) {
			unsigned comb = ((date >> 31) & 1u) << 2 | ((w5 >> 20) & 1u) << 1 | ((w3 >> 15) & 1u);
			unsigned major = comb == 1 ? 1 : comb == 3 ? 2 : comb == 7 ? 3 : 0;
			vfact(c, "revision", ok3 == 1 && ok5 == 1 && okd == 1, "v%u.%u", major, (w5 >> 24) & 3u);
		}
	} else if (strcmp(nm, "ESP32-S3") == 0 || strcmp(nm, "ESP32-C3") == 0) {
		uint32_t base = nm[6] == 'S' ? ESP32S3_EFUSE_BASE : ESP32C3_EFUSE_BASE;
		uint32_t b1 = base + ESP_EFUSE_BLOCK1_OFF;
		ok0 = read_reg(c, b1, &w0);
		ok1 = read_reg(c, b1 + 4, &w1);
		if (ok0 >= 0 && ok1 >= 0) {
			m[0] = (uint8_t)(w1 >> 8); m[1] = (uint8_t)w1;
			m[2] = (uint8_t)(w0 >> 24); m[3] = (uint8_t)(w0 >> 16); m[4] = (uint8_t)(w0 >> 8); m[5] = (uint8_t)w0;
			hexmac(s, sizeof s, m);
			vfact(c, "mac", ok0 == 1 && ok1 == 1, "%s", s);
		}
		uint32_t w5;
		ok3 = read_reg(c, b1 + 12, &w3);
		int ok5 = read_reg(c, b1 + 20, &w5);
		if (ok3 >= 0 && ok5 >= 0) {
			unsigned minor = ((w5 >> 23) & 1u) << 3 | ((w3 >> 18) & 7u);
			unsigned major = (w5 >> 24) & 3u;
			int okv = ok3 == 1 && ok5 == 1;
			if (nm[6] == 'S' && (minor & 7u) == 0) {
				/* esp32s3.py is_eco0: block version 1.1 reuses the major field */
				uint32_t b2w4;
				int okb = read_reg(c, base + ESP_EFUSE_BLOCK2_OFF + 16, &b2w4);
				okv = okv && okb == 1;
				if (okb >= 0 && (b2w4 & 3u) == 1 && ((w3 >> 24) & 7u) == 1)
					major = minor = 0;
			}
			vfact(c, "revision", okv, "v%u.%u", major, minor);
		}
	} else if (strcmp(nm, "ESP8266") == 0) {
		uint32_t m3;
		ok0 = read_reg(c, ESP8266_OTP_MAC0, &w0);
		ok1 = read_reg(c, ESP8266_OTP_MAC1, &w1);
		ok3 = read_reg(c, ESP8266_OTP_MAC3, &m3);
		if (ok0 >= 0 && ok1 >= 0 && ok3 >= 0) {
			int known = 1;
			if (m3 != 0) {
				m[0] = (uint8_t)(m3 >> 16); m[1] = (uint8_t)(m3 >> 8); m[2] = (uint8_t)m3;
			} else if (((w1 >> 16) & 0xFF) == 0) {
				m[0] = 0x18; m[1] = 0xFE; m[2] = 0x34;
			} else if (((w1 >> 16) & 0xFF) == 1) {
				m[0] = 0xAC; m[1] = 0xD0; m[2] = 0x74;
			} else {
				known = 0;
			}
			m[3] = (uint8_t)(w1 >> 8); m[4] = (uint8_t)w1; m[5] = (uint8_t)(w0 >> 24);
			if (known) {
				hexmac(s, sizeof s, m);
				vfact(c, "mac", ok0 == 1 && ok1 == 1 && ok3 == 1, "%s", s);
			} else {
				sd_report_fact(c->r, "mac", "not read: unknown OUI code %u in OTP", (unsigned)((w1 >> 16) & 0xFF));
			}
		}
		sd_report_fact(c->r, "revision", "not read (the ESP8266 has no revision field esptool reads)");
	} else {
		sd_report_fact(c->r, "mac", "not read: shakedown knows this chip's efuse layout not yet");
	}
}

static int identify(esp_ctx *c)
{
	/* GET_SECURITY_INFO is unknown to the ESP8266 and ESP32 ROMs: skip it
	 * when the banner or the status layout already names them */
	int old = c->status_len == 2 && !c->stub;
	old |= strcmp(c->ban.rom, "esp32") == 0 || c->ban.esp8266;
	if (!old) {
		int s = security_info(c);
		if (s < -1 || c->hung)
			return CR_LINK;
	}
	if (c->have_sec && !c->sec_short) {
		uint32_t id = esp_u32(c->sec + 12);
		c->chip = esp_chip_by_id(id);
		vfact(c, "chip_id", c->sec_verified, "%u", (unsigned)id);
	}
	if (!c->chip) {
		uint32_t v = 0;
		int k = read_reg(c, ESP_REG_CHIP_MAGIC, &v);
		if (k == -2 && (c->out_of_time || c->hung || c->x.result == SDI_XR_LINK))
			return CR_LINK;
		if (k >= 0) {
			c->have_magic = 1;
			c->magic = v;
			c->magic_verified = k == 1;
			c->chip = esp_chip_by_magic(v);
			vfact(c, "chip_magic", k == 1, "0x%08x", (unsigned)v);
		}
	}
	if (c->chip && (c->have_sec ? c->sec_verified : c->magic_verified))
		sdi_fmt(c->r->by.chip, sizeof c->r->by.chip, "%s", c->chip->name);
	vfact(c, "chip", c->chip && (c->have_sec ? c->sec_verified : c->magic_verified), "%s",
	      c->chip ? c->chip->name : c->have_magic ? "unknown (magic value not in the table)" : "unknown");
	if (c->have_sec) {
		uint32_t fl = esp_u32(c->sec);
		vfact(c, "security_flags", c->sec_verified, "0x%08x%s%s%s", (unsigned)fl,
		      fl & 0x01u ? " secure-boot" : "", fl & ESP_SECFLAG_SECURE_DOWNLOAD ? " secure-download-mode" : "",
		      fl & 0x80u ? " jtag-disabled" : "");
		vfact(c, "flash_crypt_cnt", c->sec_verified, "%u", c->sec[4]);
	}
	sd_report_fact(c->r, "secure_download_mode", "%s", c->sdm ? "on: READ_REG and the flash reads are refused"
		       : c->read_refused ? "likely: READ_REG refused" : c->have_sec ? "off" : "off (READ_REG answered)");
	if (!c->sdm && !c->read_refused && c->chip && !c->hung)
		efuse_facts(c);
	return c->hung || c->out_of_time ? CR_LINK : CR_OK;
}

/* ---- diagnosis of a failed sync ----------------------------------------- */

/* Every byte of a would-be SYNC reply off by the same stuck bit mask: a
 * signal problem (a level, a pull, a wrong-voltage adapter), not noise.
 * Returns the mask (0 = not that). */
static unsigned stuck_mask(const uint8_t *b, size_t n, int *high)
{
	/* ESP32 ROM reply with wildcards at the value bytes, and ESP8266's */
	static const int r32[] = { 0xC0, 0x01, 0x08, 0x04, 0x00, -1, -1, -1, -1, 0, 0, 0, 0, 0xC0 };
	static const int r66[] = { 0xC0, 0x01, 0x08, 0x02, 0x00, -1, -1, -1, -1, 0, 0, 0xC0 };
	const int *pats[2] = { r32, r66 };
	size_t lens[2] = { 14, 12 };
	for (size_t at = 0; at + 12 <= n; at++) {
		for (int p = 0; p < 2; p++) {
			if (at + lens[p] > n)
				continue;
			for (int hi = 1; hi >= 0; hi--) {
				unsigned m = hi ? (unsigned)(b[at] & ~0xC0u) : (unsigned)(0xC0u & ~b[at]);
				if (!m || b[at] == 0xC0)
					continue;
				size_t i, changed = 0;
				for (i = 0; i < lens[p]; i++) {
					if (pats[p][i] < 0)
						continue;
					unsigned want = hi ? ((unsigned)pats[p][i] | m) : ((unsigned)pats[p][i] & ~m);
					if (b[at + i] != want)
						break;
					changed += want != (unsigned)pats[p][i];
				}
				if (i == lens[p] && changed >= 4) {
					*high = hi;
					return m;
				}
			}
		}
	}
	return 0;
}

static void diagnose_sync(esp_ctx *c)
{
	sd_report *r = c->r;
	sd_finding *f;
	const uint8_t *rx = c->ban_keep;
	size_t rxn = c->ban_keep_n;
	int hi = 0;
	unsigned m = stuck_mask(rx, rxn, &hi);
	if (m) {
		f = sd_diag_add(&r->diag, SD_CAUSE_STUCK_BIT, 0.93f);
		if (f) {
			sd_finding_summary(f, "the loader answers, but every byte arrives with bit mask 0x%02x stuck %s "
					   "(e.g. C0 read as %02X): a signal fault, not random noise", m, hi ? "high" : "low",
					   hi ? 0xC0u | m : 0xC0u & ~m);
			sd_finding_fix(f, "check the RX line's level and pull-ups, the adapter's I/O voltage (3.3 V), "
				       "ground between board and adapter, and a long or shared wire");
			sd_finding_evidence(f, c->ev_sent, c->ev_sent_n, rx, SDI_MIN(rxn, (size_t)64));
		}
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "esp");
		sdi_fmt(r->by.mode, sizeof r->by.mode, "rom-loader");
		return;
	}
	if (c->echoes) {
		f = sd_diag_add(&r->diag, SD_CAUSE_ECHO, 0.93f);
		if (f) {
			sd_finding_summary(f, "our own SYNC frame came back (C0 00 08 ...): the line echoes, no loader answers");
			sd_finding_fix(f, "RX tied to TX (a loopback, a one-wire or RS-485 adapter): wire the chip's TX to the adapter's RX");
			sd_finding_evidence(f, c->ev_sent, c->ev_sent_n, c->ev_sent, c->ev_sent_n);
		}
		return;
	}
	sd_classify_in in = {
		.rx = rx, .rx_len = rxn, .tx = c->ev_sent, .tx_len = c->ev_sent_n,
		.expect = "esp", .host_baud = ESP_BAUD_ROM, .link_caps = c->l->caps,
		.listen_ms = c->listened / 1000,
	};
	esp_banner *o = &c->ban;
	banner_read(rx, rxn, o);
	/* The board's TX reaches us (its banner says its loader waits on this
	 * UART) and not one byte came back after any SYNC of that attempt: our
	 * bytes do not reach its RX. esptool names it from the host's side
	 * ("The serial TX path seems to be down", loader.py _connect_attempt);
	 * from the board's side it is its RX path. Bytes after a SYNC that
	 * never made a reply are a different story (garbled answers: the board
	 * heard us), left to the readings below. */
	if (o->seen && o->download && o->waiting && !o->usb_only && !o->spi_only && c->syncs_sent && (c->sync_rx == 0 || c->sync_only_log) &&
	    c->attempt_syncs) {
		f = sd_diag_add(&r->diag, SD_CAUSE_TX_PATH_DEAD, 0.95f);
		if (f) {
			sd_finding_summary(f, "the %s printed \"waiting for download\" (its TX reaches us), but after %u SYNC%s "
					   "not one byte came back: our bytes do not reach its RX (esptool: \"The serial TX path "
					   "seems to be down\")", chip_word(o), c->attempt_syncs, c->attempt_syncs == 1 ? "" : "s");
			sd_finding_fix(f, "the host's TX to the board's RX (U0RXD): the wire, a level shifter in its way; the "
				       "USB-UART's TX pin; another device driving the board's RX (a second adapter, a debugger)");
			sd_finding_evidence(f, c->ev_sent, c->ev_sent_n, rx, rxn);
		}
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "esp");
		sdi_fmt(r->by.mode, sizeof r->by.mode, "rom-loader");
	}
	if (o->seen) {
		in.claims = SD_CLAIM_BOOTLOG; /* the core classifier is told: not an application */
		banner_verdicts(o, &in, &r->diag);
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "esp");
		if (!r->by.mode[0])
			sdi_fmt(r->by.mode, sizeof r->by.mode, "%s", o->usb_only ? "usb-download" : o->spi_only ? "spi-download" : o->download ? "rom-loader"
				: o->brownout ? "brownout" : "flash-boot");
	}
	/* the core's reading of what else came (app text, silence, baud) */
	sd_classify(&in, &r->diag);
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_APP_RUNNING)) != NULL && !o->seen) {
		sd_finding_summary(f, "an application is running and printing, not the ROM loader: it answered SYNC with text");
		sd_finding_fix(f, "reset into download mode: %s, or hold %s low and press EN/RESET",
			       (c->l->caps & SD_LINK_LINES) && !c->a->no_reset ? "the DTR/RTS reset did not reach the chip (no auto-reset circuit?)"
			       : "let shakedown reset it (drop --no-reset) on a port with DTR/RTS", "GPIO0 (GPIO9 on C2/C3/C6/H2)");
	}
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_SILENT)) != NULL) {
		sd_finding_summary(f, "nothing came back: no boot log after %u reset%s and no answer to %u SYNC%s",
				   c->strat == STRAT_NONE ? 0 : c->attempts, c->attempts == 1 ? "" : "s",
				   c->syncs_sent, c->syncs_sent == 1 ? "" : "s");
		/* a dead board TX -> host RX path looks exactly like this: with
		 * nothing back, no byte proves the board heard us (no verdict of
		 * its own can be drawn from the transcript) */
		sd_finding_fix(f, "check power, the port (is it the board's?), TX/RX crossed, the board's TX (U0TXD) to the "
			       "adapter's RX wire, a data (not charge-only) cable");
	}
}

/* ---- the session ---------------------------------------------------------- */

static int esp_session(void *ctxp, sd_link *l, const sd_proto_args *a, sd_report *r)
{
	esp_ctx *c = ctxp;
	if (!c || !l || !a || !r)
		return SD_ERR_ARG;
	memset(c, 0, sizeof *c);
	c->l = l;
	c->a = a;
	c->r = r;
	c->overall = sd_deadline_in(l->clock, a->budget ? a->budget : ESP_T_BUDGET);
	sd_line_cfg cfg = SD_LINE_CFG_8N1(a->baud ? a->baud : ESP_BAUD_ROM);
	sd_link_set_cfg(l, &cfg);
	char fr[8];
	sd_report_fact(r, "line", "%u %s", cfg.baud, sd_line_cfg_frame(&cfg, fr));
	r->ok = 0;

	/* the order esptool tries on a local port (esp.md 9): tight, classic,
	 * each with the short and the long delay */
	int can_reset = (l->caps & SD_LINK_LINES) && !a->no_reset;
	int plan[4];
	sd_time delays[4] = { ESP_T_DELAY_SHORT, ESP_T_DELAY_LONG, ESP_T_DELAY_SHORT, ESP_T_DELAY_LONG };
	size_t nplan = 0;
	if (!can_reset) {
		plan[nplan++] = STRAT_NONE;
		if (a->enter && a->enter->n && !a->no_reset)
			sd_report_fact(r, "reset", "not run: the link has no DTR/RTS (a pty or TCP); reset the board by hand");
	} else if (a->enter && a->enter->n) {
		plan[nplan++] = STRAT_CUSTOM;
		sd_report_fact(r, "reset_why", "--enter: your sequence, not esptool's");
	} else if (l->usb_vid == ESP_USB_VID && l->usb_pid == ESP_USB_JTAG_SERIAL_PID) {
		/* v5.3.1 loader.py _construct_reset_strategy_sequence: PID 0x1001
		 * gets USBJTAGSerialReset and nothing else */
		plan[nplan++] = STRAT_USBJTAG;
		plan[nplan++] = STRAT_USBJTAG;
		sd_report_fact(r, "reset_why", "the port is 303a:1001, the chip's own USB-Serial/JTAG: DTR/RTS are requests "
			       "to its USB peripheral, not the EN/IO0 transistor pair (esptool's USBJTAGSerialReset)");
	} else {
		c->flowctl = flow_control(l);
		if (c->flowctl)
			sd_report_fact(r, "reset_why", "the port is %04x:%04x, a SiLabs CP2102C whose hardware flow control "
				       "is always on: it asserts RTS (EN low) when the board sends with DTR released, so "
				       "DTR stays asserted after the reset (esptool's flow_control variant of unix-tight "
				       "and classic)", l->usb_vid, l->usb_pid);
		else if (l->usb_vid)
			sd_report_fact(r, "reset_why", "the port is %04x:%04x, a USB-UART bridge: esptool's order for a local "
				       "port (unix-tight, then classic)", l->usb_vid, l->usb_pid);
		else
			sd_report_fact(r, "reset_why", "no USB identity known for the port: esptool's order for a local port "
				       "(unix-tight, then classic)");
		plan[nplan++] = STRAT_TIGHT;
		plan[nplan++] = STRAT_TIGHT;
		plan[nplan++] = STRAT_CLASSIC;
		plan[nplan++] = STRAT_CLASSIC;
	}
	unsigned attempts = a->retries ? 1 + a->retries : (unsigned)nplan;
	int synced = 0, err = SD_OK;
	unsigned silent_runs = 0;
	for (unsigned i = 0; i < attempts && !synced && !c->out_of_time; i++) {
		int k = attempt(c, plan[i % nplan], delays[i % 4]);
		if (k < 0) {
			err = k;
			break;
		}
		synced = k == 1;
		if (c->lines_failed)
			break;
		/* nothing at all after two resets (no boot log, no reply, no
		 * byte): a third timing reaches nothing either; say so sooner */
		silent_runs = c->banner_n == 0 && !c->echoes ? silent_runs + 1 : 0;
		if (silent_runs >= 2 && !a->retries)
			break;
	}
	/* ESP8266: its ROM talks at 74880 (26 MHz crystal); read at 115200 the
	 * log is high-bit junk. No banner, but junk after a reset: listen again
	 * at 74880 (the loader measures the host's rate from SYNC, so SYNC
	 * works there too). */
	if (!synced && err == SD_OK && can_reset && !c->out_of_time && !c->ban.seen && !c->echoes &&
	    c->ban_keep_n >= 8 && sdi_text_count(c->ban_keep, SDI_MIN(c->ban_keep_n, (size_t)64)) * 10 <
	    SDI_MIN(c->ban_keep_n, (size_t)64) * 8 && !a->baud) {
		sd_line_cfg slow = SD_LINE_CFG_8N1(ESP8266_BAUD_LOG);
		if (sd_link_set_cfg(l, &slow) == SD_OK) {
			int k = attempt(c, plan[0], ESP_T_DELAY_SHORT);
			if (k < 0)
				err = k;
			synced = k == 1;
			if (c->ban.seen)
				sd_report_fact(r, "log_baud", "%u (the ROM's log was junk at %u: an ESP8266's 26 MHz crystal)",
					       ESP8266_BAUD_LOG, cfg.baud);
			if (!synced)
				sd_link_set_cfg(l, &cfg);
		}
	}
	if (c->lines_failed)
		sd_report_fact(r, "reset", "the port refused DTR/RTS: Chip was NOT reset; reset it by hand");
	if (err < 0) {
		sd_finding *f = sd_diag_add(&r->diag, err == SD_ERR_CLOSED ? SD_CAUSE_DISCONNECTED : SD_CAUSE_UNKNOWN, 0.9f);
		if (f && c->vanish_gone)
			sd_finding_summary(f, "the port vanished during the reset and did not come back: %u tries, "
					   "%lld ms apart, as esptool (%s)", c->reset_tries,
					   (long long)(ESP_T_REOPEN / 1000), c->vanish_why);
		else if (f)
			sd_finding_summary(f, "the link failed: %s", sd_link_why(l, err));
		return err;
	}
	if (c->strat != STRAT_NONE || c->attempts > 1) {
		if (c->strat == STRAT_NONE)
			sd_report_fact(r, "reset", "none (%u listens)", c->attempts);
		else if (c->strat == STRAT_USBJTAG || c->strat == STRAT_CUSTOM)
			sd_report_fact(r, "reset", "%s (attempt %u)%s", strat_names[c->strat], c->attempts,
				       synced ? ": this one worked" : ": none worked");
		else
			sd_report_fact(r, "reset", "%s, delay %lld ms (attempt %u)%s", strat_names[c->strat],
				       (long long)(c->delay / 1000), c->attempts, synced ? ": this one worked" : ": none worked");
	}
	if (c->ban_keep_n) {
		/* the last boot's line: the one the verdict reads */
		const uint8_t *p = find_last(c->ban_keep, c->ban_keep_n, "rst:");
		if (!p)
			p = find_last(c->ban_keep, c->ban_keep_n, "rst cause:");
		if (p) {
			char line[120];
			size_t k = 0;
			for (; p < c->ban_keep + c->ban_keep_n && *p != '\r' && *p != '\n' && k + 1 < sizeof line; p++)
				line[k++] = sdi_is_text(*p) ? (char)*p : '.';
			line[k] = '\0';
			sd_report_fact(r, "boot_log", "%s", line);
		}
	}
	if (!synced) {
		diagnose_sync(c);
		if (r->diag.n == 0) {
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_UNKNOWN, 0.5f);
			if (f)
				sd_finding_evidence(f, c->ev_sent, c->ev_sent_n, c->ban_keep, c->ban_keep_n);
		}
		return c->out_of_time ? SD_ERR_TIMEOUT : SD_ERR_PROTO;
	}
	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "esp");
	sdi_fmt(r->by.mode, sizeof r->by.mode, "%s", c->stub ? "stub" : "rom-loader");
	sd_report_fact(r, "sync_replies", "%u of %u%s", c->sync_replies, ESP_SYNC_REPLIES,
		       c->sync_replies < ESP_SYNC_REPLIES ? " (esptool waits for all eight: it would fail here)" : "");
	sd_report_fact(r, "loader", "%s", c->stub ? "flasher stub left running (SYNC value 0; the chip was not reset)"
		       : c->status_len == 4 ? "ROM (ESP32 family: 4 status bytes)" : "ROM (ESP8266: 2 status bytes)");
	sd_report_fact(r, "sync_value", "0x%08x%s", (unsigned)c->sync_value,
		       c->sync_alike >= need(c) ? "" : " (unverified: too few replies alike)");
	if (c->overlap) {
		/* measured: the SYNC times and the replies' arrival, in order */
		char which[40];
		if (c->overlap_first)
			sdi_fmt(which, sizeof which, "SYNC %u", c->overlap_first);
		else
			sdi_fmt(which, sizeof which, "a SYNC sent before this reset");
		/* the batches are paired in order with the latest SYNCs: if an
		 * earlier one went unheard the true round trip is longer; the
		 * reply may have waited to be read: it is shorter. Across a reset
		 * (whose flush drops replies) the pairing is a guess: only the
		 * lower bound is said. */
		if (c->overlap_first)
			sd_report_fact(r, "round_trip", "%lld ms (%s sent to its first reply read; replies paired in order "
				       "with the latest SYNCs)", (long long)(c->rtt / 1000), which);
		else if (c->rtt_lo >= SD_MS(1))
			sd_report_fact(r, "round_trip", "at least %lld ms (the last SYNC sent before the first reply, to it; "
				       "which SYNC it answers is not known: the reset in between flushed replies)",
				       (long long)(c->rtt_lo / 1000));
		else
			sd_report_fact(r, "round_trip", "not known: the replies answer a SYNC sent before a reset, whose flush "
				       "dropped replies, so which one is not known");
		sd_report_fact(r, "sync_overlap", "%u SYNCs sent before the first reply (%u since the reset), %u replies "
			       "read: all read off the line before any other command", c->syncs_sent, c->sync_sent_attempt,
			       c->sync_total);
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_OVERLAPPING_SYNCS, 0.7f);
		if (f) {
			if (c->overlap_first)
				sd_finding_summary(f, "the replies to %s were read %lld ms after it, with a later SYNC already out: "
						   "%u SYNCs, %u replies; a client that pairs them with the SYNC just sent is out of step",
						   which, (long long)(c->rtt / 1000), c->syncs_sent, c->sync_total);
			else
				sd_finding_summary(f, "SYNC replies came late, to a SYNC sent before a reset: %u SYNCs, %u replies; "
						   "a client that pairs them with the SYNC just sent is out of step",
						   c->syncs_sent, c->sync_total);
			sd_finding_detail(f, "esptool waits 100 ms for a SYNC's first reply, then flushes and sends the next: "
					  "the late replies reach its next commands as wrong-opcode packets it skips, and a flush "
					  "that cuts one mid-packet gives \"Invalid head of packet\" (esptool#570). shakedown read "
					  "every outstanding reply first and widened its command waits to the measured round trip");
		}
	}
	if (c->late_sync && !c->overlap) {
		/* every SYNC's replies came after its wait, into the pause that
		 * ends in a flush (as esptool's do): only the listen after the
		 * last SYNC heard them; measured from that SYNC */
		sd_report_fact(r, "round_trip", "at least %lld ms (the last SYNC to its first reply, read in the listen "
			       "after the SYNCs: no SYNC was answered within its %lld ms wait)",
			       (long long)(c->late_after / 1000), (long long)(ESP_T_SYNC_FIRST / 1000));
		sd_report_fact(r, "sync_late", "esptool waits the same %lld ms for a SYNC's first reply, then pauses %lld ms "
			       "and flushes before the next: on this link it reads replies only when they happen to land "
			       "in a wait", (long long)(ESP_T_SYNC_FIRST / 1000), (long long)(ESP_T_SYNC_GAP / 1000));
	}
	if (c->sync_replies < ESP_SYNC_REPLIES) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_NOISE, 0.4f);
		if (f) {
			sd_finding_summary(f, "SYNC was answered %u time%s, not eight: esptool waits for all eight and would fail",
					   c->sync_replies, c->sync_replies == 1 ? "" : "s");
			sd_finding_fix(f, "a bridge or firmware that answers once is not the ROM loader; on a lossy line check the wiring");
		}
	}
	r->ok = 1;
	if (a->identify) {
		c->overall = sd_deadline_in(l->clock, a->budget ? a->budget : ESP_T_BUDGET);
		int cr = identify(c);
		if (cr == CR_LINK) {
			r->ok = 0;
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_STOPPED_ANSWERING, 0.8f);
			if (f)
				sd_finding_summary(f, "in sync, then the loader stopped answering during identification");
			err = c->out_of_time ? SD_ERR_TIMEOUT : SD_ERR_PROTO;
		}
		if (c->telnet_ff) {
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_TELNET_FRAMING, 0.9f);
			if (f) {
				sd_finding_summary(f, "%u answer%s carried every 0xFF doubled (FF FF): the port is a Telnet / "
						   "RFC 2217 server read as raw TCP", c->telnet_ff, c->telnet_ff == 1 ? "" : "s");
				sd_finding_fix(f, "open it as rfc2217://HOST:PORT (esptool: rfc2217://), or set the server "
					       "(ser2net) to raw mode");
			}
			r->ok = 0;
			if (err == SD_OK)
				err = SD_ERR_PROTO;
		}
		if (c->sdm) {
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_READ_PROTECTED, 0.9f);
			if (f) {
				sd_finding_summary(f, "Secure Download Mode is on: the ROM refuses register and flash reads");
				sd_finding_fix(f, "a device state, not a link fault: only signed or encrypted flashing works (esptool --no-stub)");
			}
		}
		if (c->ukeys[0]) {
			sd_report_fact(r, "unverified", "%s", c->ukeys);
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_NOISE, 0.5f);
			if (f) {
				sd_finding_summary(f, "identified only in part: %s could not be confirmed (reads differed)", c->ukeys);
				sd_finding_detail(f, "the ROM's answers carry no checksum: a value is printed as verified only "
						  "when two reads agreed");
			}
		}
		if (c->vkeys[0])
			sd_report_fact(r, "verified", "%s", c->vkeys);
		/* an identity that never agreed is no identity (info exits 1) */
		if (!r->by.chip[0] && r->ok) {
			r->ok = 0;
			if (err == SD_OK)
				err = SD_ERR_PROTO;
		}
	}
	return err;
}

/* SYNC as probe's read-only first frame: the ROM answers it eight times
 * and changes nothing (esp.md 4). */
static const uint8_t esp_poke[] = {
	0xC0, 0x00, ESP_CMD_SYNC, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x07, 0x12, 0x20,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
	0xC0,
};

const sd_proto sdi_proto_esp = {
	.name = "esp",
	.title = "Espressif ROM loader (SLIP)",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.poke = esp_poke,
	.poke_len = sizeof esp_poke,
	.expects = "a SLIP response frame C0 01 08 ... C0 to SYNC",
	.explain = esp_explain,
	.diagnose = esp_diagnose,
	.ctx_size = sizeof(esp_ctx),
	.session = esp_session,
	.poke_order = 40,
	/* its session resets by DTR/RTS (tight, then classic) */
	.flags = SD_PROTO_RESETS,
};
