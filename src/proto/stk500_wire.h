/*
 * STK500v1 as spoken by Arduino bootloaders (optiboot): wire facts only.
 * Source: Atmel AVR061 "STK500 Communication Protocol" (names kept:
 * Cmnd_STK_GET_SYNC -> STK_GET_SYNC ...); behaviour from optiboot.c and
 * avrdude stk500.c as summarised in shared/protocols/avr-stm32.md section 1.
 */
#ifndef SD_STK500_WIRE_H
#define SD_STK500_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Framing: host sends opcode [args] STK_CRC_EOP; device answers
 * STK_RESP_INSYNC [data] STK_RESP_OK. */
#define STK_CRC_EOP          0x20 /* Sync_CRC_EOP */
#define STK_RESP_OK          0x10
#define STK_RESP_FAILED      0x11
#define STK_RESP_UNKNOWN     0x12
#define STK_RESP_NODEVICE    0x13
#define STK_RESP_INSYNC      0x14
#define STK_RESP_NOSYNC      0x15

#define STK_GET_SYNC         0x30
#define STK_GET_SIGN_ON      0x31
#define STK_SET_PARAMETER    0x40
#define STK_GET_PARAMETER    0x41
#define STK_SET_DEVICE       0x42
#define STK_SET_DEVICE_EXT   0x45
#define STK_ENTER_PROGMODE   0x50
#define STK_LEAVE_PROGMODE   0x51
#define STK_CHIP_ERASE       0x52
#define STK_LOAD_ADDRESS     0x55
#define STK_UNIVERSAL        0x56
#define STK_PROG_PAGE        0x64
#define STK_READ_PAGE        0x74
#define STK_READ_SIGN        0x75

#define STK_PARM_HW_VER      0x80
#define STK_PARM_SW_MAJOR    0x81
#define STK_PARM_SW_MINOR    0x82

/* Other AVR loaders, told apart by their first bytes */
#define STK2_MESSAGE_START   0x1B /* STK500v2 (Mega2560 "wiring") */
#define AVR109_UNKNOWN       0x3F /* '?': AVR109 / Caterina (Leonardo, Micro) */

/* Opcodes optiboot folds into its "answer 14 10" default branch; named for
 * the command log (AVR061 section 5). */
#define STK_CHECK_AUTOINC    0x53
#define STK_PROG_FLASH       0x60
#define STK_PROG_DATA        0x61
#define STK_PROG_FUSE        0x62
#define STK_PROG_LOCK        0x63
#define STK_PROG_FUSE_EXT    0x65
#define STK_READ_FLASH       0x70
#define STK_READ_DATA        0x71
#define STK_READ_FUSE        0x72
#define STK_READ_LOCK        0x73
#define STK_READ_OSCCAL      0x76
#define STK_READ_FUSE_EXT    0x77
#define STK_READ_OSCCAL_EXT  0x78

/* GET_PARAMETER answer optiboot gives for any parameter but 0x81/0x82. */
#define STK_OPTIBOOT_OTHER_PARM 0x03
/* PROG_PAGE / READ_PAGE memory types */
#define STK_MEM_FLASH        'F'
#define STK_MEM_EEPROM       'E'
/* Argument bytes before the CRC_EOP (optiboot's getNch counts). */
#define STK_SET_DEVICE_ARGS      20
#define STK_SET_DEVICE_EXT_ARGS  5

/* STK500v2 (AVR068): MESSAGE_START seq size_hi size_lo TOKEN body xor. */
#define STK2_TOKEN           0x0E
#define STK2_CMD_SIGN_ON     0x01
#define STK2_STATUS_CMD_OK   0x00
/* AVR109 (Caterina): 'S' returns the 7-character programmer id. */
#define AVR109_PROG_ID       'S'

/* ---- urboot's urprotocol (avrdude -c urclock) -----------------------
 * Verified against avrdude's src/urclock.c and urclock_private.h (the
 * protocol description at the top of urclock.c, urclock_getsync()) and
 * urboot's src/urboot.c v8.0 (stefanrueger/urboot); see
 * docs/protocols/stk500.md "urboot".
 * - urboot answers every command, GET_SYNC 30 20 included, with a fixed
 *   pair INSYNC' ... OK' instead of 14 ... 10. The pair carries a 16-bit
 *   "bootinfo" = features * 2040 + mcuid: INSYNC' = bootinfo / 255,
 *   OK' = bootinfo % 255, plus one when that is >= INSYNC' (so the two
 *   always differ); a pair that would be 14 10 is sent as ff fe.
 * - urboot v8.0 always speaks urprotocol; urboot up to 7.7 did only when
 *   built with URPROTOCOL=1 (the "_ur" builds), else it answers 14 10 and
 *   looks like optiboot on the wire.
 * - Paged access has its own opcodes: opcode, byte address little-endian
 *   (2 bytes, 3 when flash > 64 KiB), length (1 byte, 0 = 256, when the
 *   flash page is <= 256 bytes, else 2 bytes big-endian), [data], 20.
 *   No READ_SIGN: the MCU id in the sync pair stands for the signature.
 * - Any other opcode is treated like GET_SYNC: the next byte must be 20.
 *   A wrong end-of-parameter byte ends in a watchdog reset. */
#define UR_PROG_PAGE_EE      0x00
#define UR_READ_PAGE_EE      0x01
#define UR_PROG_PAGE_FL      0x02
#define UR_READ_PAGE_FL      0x03
#define UR_PAGE_ERASE        0x04
#define UB_N_MCU             2040u
#define UB_READ_FLASH        4u   /* can read flash */
#define UB_FLASH_LL_NOR      8u   /* page writes AND into flash (no erase) */
#define UB_CHIP_ERASE        16u  /* implements CHIP_ERASE itself */
/* Top six bytes of flash in urboot >= 7.5 (urclock_private.h): pages the
 * loader occupies, vector number, rjmp to pgm_write_page or ret (9508),
 * capability byte, version (major << 3 | minor: 0100 = v8.0). */
#define UR_CAP_EEPROM        0x40
#define UR_CAP_URPROTOCOL    0x20
#define UR_CAP_PROTECTME     0x02
#define UR_TABLE_LEN         6u

/* The sync pair for a bootinfo (< 255 * 256 - 1). */
static inline void ur_pair(unsigned info, uint8_t *insync, uint8_t *ok)
{
	unsigned a = info / 255u, b = info % 255u;
	if (b >= a)
		b++;
	if (a == STK_RESP_INSYNC && b == STK_RESP_OK)
		a = 0xff, b = 0xfe;
	*insync = (uint8_t)a;
	*ok = (uint8_t)b;
}

/* The bootinfo a sync pair carries, as avrdude's urclock_getsync() reads
 * it; -1 for 14 10 (plain STK500v1) and for equal bytes (not urprotocol). */
static inline long ur_info(uint8_t insync, uint8_t ok)
{
	unsigned a = insync, b = ok;
	if (a == b || (a == STK_RESP_INSYNC && b == STK_RESP_OK))
		return -1;
	if (a == 0xff && b == 0xfe)
		a = STK_RESP_INSYNC, b = STK_RESP_OK;
	else if (b > a)
		b--;
	return (long)(a * 255u + b);
}

/* ---- timing, one block (optiboot.c; avrdude arduino.c / ser_posix.c) --- */
/* optiboot arms its watchdog with 1 s (WDTO_1S: 128K cycles of the 128 kHz
 * WDT oscillator) and resets it on every byte received without a framing
 * error; it expires into the application. */
#define STK_BOOT_WINDOW      SD_MS(1000)
/* A wrong CRC_EOP (or 'Q') sets the watchdog to 16 ms and spins. */
#define STK_WDT_FATAL        SD_MS(16)
/* urboot's default watchdog timeout (WDTO 500MS in urboot.c): reset by
 * every byte received; it ends the loader as optiboot's 1 s does. */
#define UR_BOOT_WINDOW       SD_MS(500)
/* Start-up from the reset edge to the loader's first UART read, about the
 * Uno's fuse setting (SUT: 16K CK + 65 ms); the simulator uses it. */
#define STK_START_DELAY      SD_MS(65)
/* The client's reset pulse: pins high (lines deasserted) long enough for the
 * reset capacitor to recharge, then low for STK_PULSE_LOW (the falling edge
 * resets through the 100 nF), then released (a board wired directly to DTR
 * must not be held in reset: avrdude 8.x does the same). */
#define STK_PULSE_HIGH       SD_MS(50)
#define STK_PULSE_LOW        SD_MS(1)
/* GET_SYNC pacing inside one boot window: the first frame STK_SYNC_FIRST
 * after the pulse, then one frame per STK_SYNC_GAP (each waits that long
 * for its answer), until STK_SYNC_SPAN after the reset edge: well inside
 * the loader's 1 s window, even for a loader that starts late. */
#define STK_SYNC_GAP         SD_MS(25)
#define STK_SYNC_FIRST       SD_MS(20)
#define STK_SYNC_SPAN        SD_MS(500)
/* Reply deadline once in sync (USB adapters add up to 16 ms latency). */
#define STK_REPLY_TIMEOUT    SD_MS(100)
/* How long the client listens before the pulse (app text, noise). */
#define STK_LISTEN_BEFORE    SD_MS(200)

/* ---- frame builders and checkers ------------------------------------- */
#include <stddef.h>
#include <stdint.h>

/* An STK500v2 frame: writes 6 + body_len bytes (body_len <= 250) to out. */
static inline size_t stk2_frame(uint8_t seq, const uint8_t *body, size_t body_len, uint8_t *out)
{
	uint8_t x = 0;
	out[0] = STK2_MESSAGE_START;
	out[1] = seq;
	out[2] = (uint8_t)(body_len >> 8);
	out[3] = (uint8_t)body_len;
	out[4] = STK2_TOKEN;
	for (size_t i = 0; i < body_len; i++)
		out[5 + i] = body[i];
	for (size_t i = 0; i < 5 + body_len; i++)
		x ^= out[i];
	out[5 + body_len] = x;
	return 6 + body_len;
}

/* A known AVR part: signature, names, memory sizes (from avrdude.conf). */
typedef struct stk_part {
	uint8_t     sig[3];
	const char *name;     /* "ATmega328P" */
	const char *id;       /* avrdude -p id: "m328p" */
	uint32_t    flash;    /* bytes */
	uint16_t    eeprom;   /* bytes */
	uint16_t    page;     /* flash page, bytes */
	uint16_t    mcuid;    /* avrdude.conf "mcuid": urboot's MCU id */
} stk_part;

/* Signatures, sizes and mcuid as listed in avrdude 7.1's /etc/avrdude.conf. */
static const stk_part stk_parts[] = {
	{ { 0x1e, 0x95, 0x0f }, "ATmega328P", "m328p", 32768, 1024, 128, 119 },
	{ { 0x1e, 0x95, 0x14 }, "ATmega328", "m328", 32768, 1024, 128, 118 },
	{ { 0x1e, 0x95, 0x16 }, "ATmega328PB", "m328pb", 32768, 1024, 128, 120 },
	{ { 0x1e, 0x94, 0x06 }, "ATmega168", "m168", 16384, 512, 128, 99 },
	{ { 0x1e, 0x94, 0x0b }, "ATmega168P", "m168p", 16384, 512, 128, 101 },
	{ { 0x1e, 0x94, 0x15 }, "ATmega168PB", "m168pb", 16384, 512, 128, 103 },
	{ { 0x1e, 0x93, 0x07 }, "ATmega8", "m8", 8192, 512, 64, 45 },
	{ { 0x1e, 0x93, 0x0a }, "ATmega88", "m88", 8192, 512, 64, 79 },
	{ { 0x1e, 0x93, 0x0f }, "ATmega88P", "m88p", 8192, 512, 64, 81 },
	{ { 0x1e, 0x92, 0x05 }, "ATmega48", "m48", 4096, 256, 64, 67 },
	{ { 0x1e, 0x92, 0x0a }, "ATmega48P", "m48p", 4096, 256, 64, 69 },
	{ { 0x1e, 0x94, 0x03 }, "ATmega16", "m16", 16384, 512, 128, 49 },
	{ { 0x1e, 0x95, 0x02 }, "ATmega32", "m32", 32768, 1024, 128, 58 },
	{ { 0x1e, 0x94, 0x0a }, "ATmega164P", "m164p", 16384, 512, 128, 93 },
	{ { 0x1e, 0x95, 0x08 }, "ATmega324P", "m324p", 32768, 1024, 128, 111 },
	{ { 0x1e, 0x96, 0x09 }, "ATmega644", "m644", 65536, 2048, 256, 127 },
	{ { 0x1e, 0x96, 0x0a }, "ATmega644P", "m644p", 65536, 2048, 256, 129 },
	{ { 0x1e, 0x97, 0x06 }, "ATmega1284", "m1284", 131072, 4096, 256, 140 },
	{ { 0x1e, 0x97, 0x05 }, "ATmega1284P", "m1284p", 131072, 4096, 256, 141 },
	{ { 0x1e, 0x97, 0x03 }, "ATmega1280", "m1280", 131072, 4096, 256, 138 },
	{ { 0x1e, 0x98, 0x01 }, "ATmega2560", "m2560", 262144, 4096, 256, 143 },
	{ { 0x1e, 0x95, 0x87 }, "ATmega32U4", "m32u4", 32768, 1024, 128, 65 },
	{ { 0x1e, 0x94, 0x89 }, "ATmega16U2", "m16u2", 16384, 512, 128, 56 },
	{ { 0x1e, 0x93, 0x89 }, "ATmega8U2", "m8u2", 8192, 512, 128, 48 },
	{ { 0x1e, 0x90, 0x07 }, "ATtiny13", "t13", 1024, 64, 32, 10 },
	{ { 0x1e, 0x91, 0x08 }, "ATtiny25", "t25", 2048, 128, 32, 16 },
	{ { 0x1e, 0x92, 0x06 }, "ATtiny45", "t45", 4096, 256, 64, 22 },
	{ { 0x1e, 0x93, 0x0b }, "ATtiny85", "t85", 8192, 512, 64, 26 },
	{ { 0x1e, 0x91, 0x0b }, "ATtiny24", "t24", 2048, 128, 32, 14 },
	{ { 0x1e, 0x92, 0x07 }, "ATtiny44", "t44", 4096, 256, 64, 20 },
	{ { 0x1e, 0x93, 0x0c }, "ATtiny84", "t84", 8192, 512, 64, 24 },
	{ { 0x1e, 0x93, 0x15 }, "ATtiny841", "t841", 8192, 512, 16, 37 },
	{ { 0x1e, 0x91, 0x0a }, "ATtiny2313", "t2313", 2048, 128, 32, 42 },
	{ { 0x1e, 0x92, 0x0d }, "ATtiny4313", "t4313", 4096, 256, 64, 44 },
	{ { 0x1e, 0x94, 0x12 }, "ATtiny1634", "t1634", 16384, 256, 32, 40 },
};

static inline const stk_part *stk_part_by_sig(const uint8_t sig[3])
{
	for (size_t i = 0; i < sizeof stk_parts / sizeof stk_parts[0]; i++)
		if (stk_parts[i].sig[0] == sig[0] && stk_parts[i].sig[1] == sig[1] &&
		    stk_parts[i].sig[2] == sig[2])
			return &stk_parts[i];
	return NULL;
}

static inline const stk_part *stk_part_by_mcuid(unsigned id)
{
	for (size_t i = 0; i < sizeof stk_parts / sizeof stk_parts[0]; i++)
		if (stk_parts[i].mcuid == id)
			return &stk_parts[i];
	return NULL;
}

/* By name ("ATmega328P", case-insensitive) or avrdude id ("m328p"). */
static inline const stk_part *stk_part_by_name(const char *s)
{
	for (size_t i = 0; s && i < sizeof stk_parts / sizeof stk_parts[0]; i++) {
		const char *a = stk_parts[i].name, *b = s;
		while (*a && *b && ((*a | 0x20) == (*b | 0x20)))
			a++, b++;
		if (!*a && !*b)
			return &stk_parts[i];
		a = stk_parts[i].id, b = s;
		while (*a && *b && ((*a | 0x20) == (*b | 0x20)))
			a++, b++;
		if (!*a && !*b)
			return &stk_parts[i];
	}
	return NULL;
}

#endif
