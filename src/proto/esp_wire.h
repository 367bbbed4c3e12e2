/*
 * Espressif ROM serial loader (ESP8266 and the ESP32 family): wire facts only,
 * shared by the client (src/proto/esp.c) and the simulator (src/sim/esp_sim.c).
 *
 * Sources (read, not copied): espressif/esptool master bb72741
 * (esptool/loader.py, esptool/targets/<chip>.py for esp8266, esp32, esp32s3, esp32c3,
 * docs/en/advanced-topics/serial-protocol.rst), v5.3.1 esptool/reset.py for
 * the reset sequences; /work/shared/protocols/esp.md collects them.
 */
#ifndef SD_ESP_WIRE_H
#define SD_ESP_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/clock.h"

/* ---- SLIP (RFC 1055 as serial-protocol.rst "Low Level Protocol") ------- */
#define ESP_SLIP_END     0xC0
#define ESP_SLIP_ESC     0xDB
#define ESP_SLIP_ESC_END 0xDC
#define ESP_SLIP_ESC_ESC 0xDD

/* ---- packet header (serial-protocol.rst "Command Packet") -------------- */
#define ESP_DIR_REQUEST  0x00
#define ESP_DIR_RESPONSE 0x01
#define ESP_HDR_LEN      8u    /* dir, op, size (u16 LE), checksum/value (u32 LE) */

/* ---- opcodes (esptool ESPLoader.ESP_CMDS) ----------------------------- */
#define ESP_CMD_FLASH_BEGIN       0x02
#define ESP_CMD_FLASH_DATA        0x03
#define ESP_CMD_FLASH_END         0x04
#define ESP_CMD_MEM_BEGIN         0x05
#define ESP_CMD_MEM_END           0x06
#define ESP_CMD_MEM_DATA          0x07
#define ESP_CMD_SYNC              0x08
#define ESP_CMD_WRITE_REG         0x09
#define ESP_CMD_READ_REG          0x0A
#define ESP_CMD_SPI_SET_PARAMS    0x0B
#define ESP_CMD_SPI_ATTACH        0x0D
#define ESP_CMD_READ_FLASH_SLOW   0x0E
#define ESP_CMD_CHANGE_BAUDRATE   0x0F
#define ESP_CMD_FLASH_DEFL_BEGIN  0x10
#define ESP_CMD_FLASH_DEFL_DATA   0x11
#define ESP_CMD_FLASH_DEFL_END    0x12
#define ESP_CMD_SPI_FLASH_MD5     0x13
#define ESP_CMD_GET_SECURITY_INFO 0x14
#define ESP_CMD_ERASE_FLASH       0xD0  /* stub only */
#define ESP_CMD_ERASE_REGION      0xD1  /* stub only */
#define ESP_CMD_READ_FLASH        0xD2  /* stub only */
#define ESP_CMD_RUN_USER_CODE     0xD3  /* stub only */

/* Writes, erases, RAM downloads and jumps: what a read-only session never
 * sends (a simulator flags them in its log). */
static inline int esp_cmd_destructive(uint8_t op)
{
	switch (op) {
	case ESP_CMD_FLASH_BEGIN: case ESP_CMD_FLASH_DATA: case ESP_CMD_FLASH_END:
	case ESP_CMD_MEM_BEGIN: case ESP_CMD_MEM_END: case ESP_CMD_MEM_DATA:
	case ESP_CMD_WRITE_REG: case ESP_CMD_FLASH_DEFL_BEGIN: case ESP_CMD_FLASH_DEFL_DATA:
	case ESP_CMD_FLASH_DEFL_END: case ESP_CMD_ERASE_FLASH: case ESP_CMD_ERASE_REGION:
	case ESP_CMD_RUN_USER_CODE:
		return 1;
	default:
		return 0;
	}
}

/* SYNC's data: 07 07 12 20 then 32 x 55 (ESPLoader.sync). */
#define ESP_SYNC_DATA_LEN 36u
#define ESP_SYNC_REPLIES  8u   /* the ROM answers one SYNC eight times */

/* Status bytes closing a response's data (serial-protocol.rst "Status
 * Bytes"): ESP8266 ROM 2, ESP32-family ROM 4, flasher stub 2. */
#define ESP_STATUS_ROM8266 2u
#define ESP_STATUS_ROM32   4u
#define ESP_STATUS_STUB    2u
/* ROM error byte (second status byte) for an unknown or forbidden command */
#define ESP_ROM_ERR_INVALID_MSG 0x05

/* GET_SECURITY_INFO data (esptool get_security_info): flags u32, crypt
 * count u8, 7 key purposes, chip_id u32, api version u32; the ESP32-S2
 * sends only the first 12. Flag bit 2: Secure Download Mode. */
#define ESP_SECINFO_LEN       20u
#define ESP_SECINFO_SHORT_LEN 12u
#define ESP_SECFLAG_SECURE_DOWNLOAD 0x04u

/* ---- registers read for identification (all read-only) ---------------- */
#define ESP_REG_CHIP_MAGIC      0x40001000u  /* CHIP_DETECT_MAGIC_REG_ADDR */
/* ESP8266 OTP (esp8266.py ESP_OTP_MAC0/1/3) */
#define ESP8266_OTP_MAC0        0x3FF00050u
#define ESP8266_OTP_MAC1        0x3FF00054u
#define ESP8266_OTP_MAC3        0x3FF0005Cu
/* ESP32 efuse words (esp32.py EFUSE_RD_REG_BASE, read_efuse(n) = base + 4n;
 * MAC in words 1 and 2; revision bits in words 3 and 5 and APB_CTL_DATE) */
#define ESP32_EFUSE_RD_BASE     0x3FF5A000u
#define ESP32_APB_CTL_DATE      (0x3FF66000u + 0x7Cu)
/* ESP32-S3 / ESP32-C3: MAC_EFUSE_REG = EFUSE_BASE + 0x44 (= BLOCK1), two
 * words; revision in BLOCK1 words 3 and 5 (esp32s3.py, esp32c3.py) */
#define ESP32S3_EFUSE_BASE      0x60007000u
#define ESP32C3_EFUSE_BASE      0x60008800u
#define ESP_EFUSE_BLOCK1_OFF    0x44u
#define ESP_EFUSE_BLOCK2_OFF    0x5Cu

/* ---- the chips (esptool targets/<chip>.py IMAGE_CHIP_ID, MAGIC_VALUE) ------- */
typedef struct esp_chip_fact {
	const char *name;
	int         chip_id;       /* GET_SECURITY_INFO chip_id; -1 = none */
	uint32_t    magic[4];      /* values at ESP_REG_CHIP_MAGIC; 0 ends */
	const char *boot_pin;      /* the strap that selects download mode */
} esp_chip_fact;

static const esp_chip_fact esp_chips[] = {
	{ "ESP8266", -1, { 0xFFF0C101u }, "GPIO0" },
	{ "ESP32", 0, { 0x00F01D83u }, "GPIO0" },
	{ "ESP32-S2", 2, { 0x000007C6u }, "GPIO0" },
	{ "ESP32-S3", 9, { 0x00000009u }, "GPIO0" },
	{ "ESP32-C3", 5, { 0x6921506Fu, 0x1B31506Fu, 0x4881606Fu, 0x4361606Fu }, "GPIO9" },
	{ "ESP32-C2", 12, { 0x6F51306Fu, 0x7C41A06Fu, 0x0C21E06Fu }, "GPIO9" },
	{ "ESP32-C6", 13, { 0x2CE0806Fu }, "GPIO9" },
	{ "ESP32-H2", 16, { 0xD7B73E80u }, "GPIO9" },
	{ "ESP32-P4", 18, { 0 }, "GPIO35" },
	{ "ESP32-C61", 20, { 0x33F0206Fu, 0x2421606Fu, 0x7211606Fu }, "GPIO9" },
	{ "ESP32-C5", 23, { 0x1101406Fu, 0x5FD1406Fu }, "GPIO28" },
	{ "ESP32-H21", 25, { 0 }, "GPIO14" },
	{ "ESP32-H4", 28, { 0 }, "GPIO14" },
};

static inline const esp_chip_fact *esp_chip_by_id(uint32_t id)
{
	for (size_t i = 0; i < sizeof esp_chips / sizeof esp_chips[0]; i++)
		if (esp_chips[i].chip_id >= 0 && (uint32_t)esp_chips[i].chip_id == id)
			return &esp_chips[i];
	return NULL;
}

static inline const esp_chip_fact *esp_chip_by_magic(uint32_t v)
{
	for (size_t i = 0; i < sizeof esp_chips / sizeof esp_chips[0]; i++)
		for (size_t k = 0; k < 4 && esp_chips[i].magic[k]; k++)
			if (esp_chips[i].magic[k] == v)
				return &esp_chips[i];
	return NULL;
}

/* ---- USB identity (esptool loader.py ESPRESSIF_VID, USB_JTAG_SERIAL_PID):
 * a port that enumerates as 303a:1001 is the chip's own USB-Serial/JTAG
 * peripheral; esptool resets it with USBJTAGSerialReset only. */
#define ESP_USB_VID              0x303Au
#define ESP_USB_JTAG_SERIAL_PID  0x1001u
/* a USB-UART whose RTS flow control is always on (esptool loader.py
 * HARDWARE_FLOW_CONTROL_VID_PIDS): the SiLabs CP2102C */
#define ESP_CP2102C_VID          0x10C4u
#define ESP_CP2102C_PID          0xEA64u

/* ---- timeouts (one block; esptool loader.py values where it has them) -- */
#define ESP_T_SYNC_FIRST  SD_MS(100)  /* SYNC_TIMEOUT: the first reply */
#define ESP_T_SYNC_MORE   SD_MS(100)  /* the other seven follow back to back */
#define ESP_T_CMD         SD_MS(300)  /* a read-only command's reply (esptool: 3 s default) */
#define ESP_T_SYNC_GAP    SD_MS(50)   /* pause between SYNC tries */
#define ESP_SYNC_TRIES    5u          /* SYNCs per reset (esptool: 5) */
#define ESP_T_LATE        SD_S(1)     /* a loader waiting for download and silent to every
					 SYNC: listened to this much longer before its TX
					 path is called dead (a slow link, a loaded host) */
#define ESP_T_RESET_HOLD  SD_MS(100)  /* EN held low (reset.py) */
#define ESP_T_DELAY_SHORT SD_MS(50)   /* DEFAULT_RESET_DELAY */
#define ESP_T_DELAY_LONG  SD_MS(550)  /* the alternate, 0.05 + 0.5 */
#define ESP_T_BANNER      SD_MS(400)  /* first byte of a boot log after a reset */
#define ESP_T_BANNER_GAP  SD_MS(120)  /* quiet that ends the boot log */
#define ESP_T_BANNER_CAP  SD_MS(1500) /* listening, at most */
#define ESP_T_DRAIN       SD_MS(200)  /* after an unknown command (esptool master) */
#define ESP_T_BUDGET      SD_S(15)
/* esptool reset.py ResetStrategy.__call__ (d49837e, "Apply reconnections
 * to the whole reset sequence"): a port that fails during a reset (an
 * OSError other than ENOTTY/EINVAL) is closed, opened again 0.5 s later and
 * the whole reset run again; three tries in all. */
#define ESP_RESET_TRIES   3u
#define ESP_T_REOPEN      SD_MS(500)
#define ESP_BAUD_ROM      115200u
#define ESP8266_BAUD_LOG  74880u      /* ESP8266 ROM log, 26 MHz crystal */

/* ---- SLIP codec --------------------------------------------------------
 * Encoding: C0, payload with C0 -> DB DC and DB -> DB DD, C0. Returns the
 * wire length, or 0 when it would not fit in cap (nothing useful written). */
static inline size_t esp_slip_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
	size_t k = 0;
	if (cap < 2)
		return 0;
	out[k++] = ESP_SLIP_END;
	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];
		if (b == ESP_SLIP_END || b == ESP_SLIP_ESC) {
			if (k + 2 >= cap)
				return 0;
			out[k++] = ESP_SLIP_ESC;
			out[k++] = b == ESP_SLIP_END ? ESP_SLIP_ESC_END : ESP_SLIP_ESC_ESC;
		} else {
			if (k + 1 >= cap)
				return 0;
			out[k++] = b;
		}
	}
	out[k++] = ESP_SLIP_END;
	return k;
}

/* Decoding, one byte at a time, into a caller's buffer of cap bytes (the
 * struct holds no pointer, so it can be copied). */
enum {
	ESP_SLIP_MORE = 0,   /* byte taken, frame not complete */
	ESP_SLIP_FRAME = 1,  /* a frame of s->n bytes is complete in buf */
	ESP_SLIP_JUNK = 2,   /* byte outside any frame (esptool: "Invalid head of packet") */
	ESP_SLIP_BADESC = 3, /* DB followed by neither DC nor DD: frame dropped */
	ESP_SLIP_LONG = 4    /* frame longer than cap: dropped */
};

typedef struct esp_slip {
	size_t  n;        /* bytes of the frame so far */
	uint8_t in_frame; /* after an opening C0 */
	uint8_t esc;      /* after DB */
	uint8_t over;     /* the frame overflowed: skip to its end */
} esp_slip;

static inline void esp_slip_reset(esp_slip *s)
{
	s->n = 0;
	s->in_frame = s->esc = s->over = 0;
}

static inline int esp_slip_feed(esp_slip *s, uint8_t *buf, size_t cap, uint8_t b)
{
	if (!s->in_frame) {
		if (b == ESP_SLIP_END) {
			s->in_frame = 1;
			s->n = 0;
			s->esc = s->over = 0;
			return ESP_SLIP_MORE;
		}
		return ESP_SLIP_JUNK;
	}
	if (b == ESP_SLIP_END) {
		if (s->n == 0 && !s->over)
			return ESP_SLIP_MORE; /* C0 C0: end of one frame, start of the next */
		int over = s->over;
		s->in_frame = s->esc = s->over = 0;
		if (over) {
			s->n = 0;
			return ESP_SLIP_LONG;
		}
		return ESP_SLIP_FRAME;
	}
	if (s->esc) {
		s->esc = 0;
		if (b != ESP_SLIP_ESC_END && b != ESP_SLIP_ESC_ESC) {
			s->in_frame = 0;
			s->n = 0;
			s->over = 0;
			return ESP_SLIP_BADESC;
		}
		b = b == ESP_SLIP_ESC_END ? ESP_SLIP_END : ESP_SLIP_ESC;
	} else if (b == ESP_SLIP_ESC) {
		s->esc = 1;
		return ESP_SLIP_MORE;
	}
	if (s->over)
		return ESP_SLIP_MORE;
	if (s->n >= cap) {
		s->over = 1;
		return ESP_SLIP_MORE;
	}
	buf[s->n++] = b;
	return ESP_SLIP_MORE;
}

static inline uint16_t esp_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t esp_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void esp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A request packet (header + data), SLIP-encoded into out. Returns the wire
 * length or 0. The checksum field is 0: only *_DATA commands use it. */
static inline size_t esp_request(uint8_t op, const uint8_t *data, size_t n, uint8_t *out,
				 size_t cap)
{
	uint8_t pkt[8 + 64];
	if (n > 64)
		return 0;
	pkt[0] = ESP_DIR_REQUEST;
	pkt[1] = op;
	pkt[2] = (uint8_t)n;
	pkt[3] = (uint8_t)(n >> 8);
	esp_put32(pkt + 4, 0);
	for (size_t i = 0; i < n; i++)
		pkt[8 + i] = data[i];
	return esp_slip_encode(pkt, 8 + n, out, cap);
}

/* A decoded response: 1 when frame[0..n) is a response whose size field
 * matches its data (dir 01, op, size, value, data). */
typedef struct esp_resp {
	uint8_t        op;
	uint32_t       value;
	const uint8_t *data;
	size_t         len;
} esp_resp;

static inline int esp_parse_resp(const uint8_t *f, size_t n, esp_resp *r)
{
	if (n < ESP_HDR_LEN || f[0] != ESP_DIR_RESPONSE)
		return 0;
	size_t len = esp_u16(f + 2);
	if (len != n - ESP_HDR_LEN)
		return 0;
	r->op = f[1];
	r->value = esp_u32(f + 4);
	r->data = f + ESP_HDR_LEN;
	r->len = len;
	return 1;
}

#endif
