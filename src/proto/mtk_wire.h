/*
 * MediaTek BootROM / Preloader download protocol: wire facts only.
 * No vendor specification exists. Sources: shared/protocols/mtk.md (public
 * tools' behaviour and their users' logs) and, as public facts where the
 * sheet is silent, mtkclient's Library/mtk_preloader.py (bkerler/mtkclient):
 * reply sizes per command, the GET_BL_VER test, ME/SoC ID framing.
 * docs/protocols/mtk.md records what we took from where.
 */
#ifndef SD_MTK_WIRE_H
#define SD_MTK_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/engine.h"
#include "shakedown/diag.h"

/* Start handshake: each byte is answered by its bitwise complement. */
#define MTK_HS0 0xA0 /* -> 0x5F */
#define MTK_HS1 0x0A /* -> 0xF5 */
#define MTK_HS2 0x50 /* -> 0xAF */
#define MTK_HS3 0x05 /* -> 0xFA */
#define MTK_HS_LEN 4

static inline uint8_t mtk_hs_byte(unsigned i)
{
	return i == 0 ? MTK_HS0 : i == 1 ? MTK_HS1 : i == 2 ? MTK_HS2 : MTK_HS3;
}

static inline uint8_t mtk_hs_answer(uint8_t b) { return (uint8_t)~b; }

/* Read-only commands. After the command byte the device echoes it (except
 * GET_BL_VER and GET_VERSION, which answer one byte instead); then:      */
#define MTK_CMD_GET_HW_CODE       0xFD /* u16 hw code, u16 status (mtkclient: "hwver") */
#define MTK_CMD_GET_HW_SW_VER     0xFC /* u16 hw subcode, hw ver, sw ver, status */
#define MTK_CMD_GET_BL_VER        0xFE /* 1 byte: BROM echoes 0xFE; the Preloader answers its version */
#define MTK_CMD_GET_VERSION       0xFF /* 1 byte: BROM version (no echo) */
#define MTK_CMD_GET_TARGET_CONFIG 0xD8 /* u32 config, u16 status */
#define MTK_CMD_GET_ME_ID         0xE1 /* u32 length, ID, u16 status (little-endian in mtkclient) */
#define MTK_CMD_GET_SOC_ID        0xE7 /* u32 length, ID, u16 status */
#define MTK_CMD_GET_PL_CAP        0xFB /* Preloader: u32 cap0, u32 cap1 */

#define MTK_HW_CODE_REPLY   4u
#define MTK_HW_SW_VER_REPLY 8u
#define MTK_TARGET_CFG_REPLY 6u
#define MTK_PL_CAP_REPLY    8u
#define MTK_ID_MAX          64u /* longest ME/SoC ID we accept (real: 16 and 32) */

/* A Preloader answers GET_ME_ID / GET_SOC_ID only from this version on
 * (mtkclient's get_meid: "blver > 2"); BROM answers them where the chip has them. */
#define MTK_PL_MIN_BLVER_ID 3u

/* Status words: 0x0000 success; above 0x00FF an error. */
#define MTK_STATUS_OK       0x0000u
#define MTK_STATUS_IS_ERR(s) ((s) > 0x00FFu)

/* Target configuration bits (GET_TARGET_CONFIG). */
#define MTK_CFG_SBC      0x01u /* Secure Boot */
#define MTK_CFG_SLA      0x02u /* Serial Link Authentication */
#define MTK_CFG_DAA      0x04u /* Download Agent Authentication */
#define MTK_CFG_EPP      0x08u /* EPP param at 0x600 */
#define MTK_CFG_CERT     0x10u /* root certificate required */
#define MTK_CFG_MEMREAD  0x20u /* memory read needs auth */
#define MTK_CFG_MEMWRITE 0x40u /* memory write needs auth */
#define MTK_CFG_C8       0x80u /* command 0xC8 blocked */

/* Preloader capability bits (GET_PL_CAP cap0). */
#define MTK_PLCAP_XFLASH 0x1u
#define MTK_PLCAP_MEID   0x2u
#define MTK_PLCAP_SOCID  0x4u

/* Not read-only: never sent by probe/sync/info. The simulator flags them. */
#define MTK_CMD_READ16       0xD0 /* memory reads: harmless, but we need none */
#define MTK_CMD_READ32       0xD1
#define MTK_CMD_WRITE16      0xD2
#define MTK_CMD_WRITE32      0xD4
#define MTK_CMD_JUMP_DA      0xD5
#define MTK_CMD_JUMP_BL      0xD6
#define MTK_CMD_SEND_DA      0xD7
#define MTK_CMD_JUMP_DA64    0xDE
#define MTK_CMD_SEND_CERT    0xE0
#define MTK_CMD_SEND_AUTH    0xE2
#define MTK_CMD_SLA          0xE3
#define MTK_CMD_C8           0xC8
#define MTK_CMD_ZEROIZATION  0xF0

static inline int mtk_cmd_destructive(uint8_t c)
{
	return c == MTK_CMD_WRITE16 || c == MTK_CMD_WRITE32 || c == MTK_CMD_JUMP_DA ||
	       c == MTK_CMD_JUMP_BL || c == MTK_CMD_SEND_DA || c == MTK_CMD_JUMP_DA64 ||
	       c == MTK_CMD_SEND_CERT || c == MTK_CMD_SEND_AUTH || c == MTK_CMD_SLA ||
	       c == MTK_CMD_C8 || c == MTK_CMD_ZEROIZATION;
}

/* Preloader single-byte responses */
#define MTK_PL_ACK  0x5A
#define MTK_PL_NACK 0xA5
#define MTK_PL_CONF 0x69
#define MTK_PL_STOP 0x96

/* A running download agent (XFlash / "V5" protocol) frames everything:
 * u32 magic 0xFEEEEEEF, u32 data type (1 = protocol), u32 length, payload,
 * all little-endian (mtkclient DAXFlash.Cmd.MAGIC). Seeing the magic on
 * the wire means a DA, not BROM or Preloader, is talking. */
#define MTK_DA_MAGIC_LEN 4
static inline uint8_t mtk_da_magic_byte(unsigned i)
{
	return i == 0 ? 0xEF : i == 3 ? 0xFE : 0xEE;
}
#define MTK_DA_SYNC_SIGNAL 0x434E5953u /* "SYNC" */

/* USB identities (VID 0x0E8D) */
#define MTK_USB_VID 0x0E8D
#define MTK_PID_BROM      0x0003
#define MTK_PID_PRELOADER 0x2000
#define MTK_PID_DA        0x2001

/* Timeouts, in one block (µs). USB CDC answers within a millisecond; the
 * slack is for busy hosts and UART-attached boards. */
#define MTK_T_HS_ANSWER   200000 /* one handshake byte's answer */
#define MTK_T_QUIET        30000 /* junk arriving: wait this quiet before restarting */
#define MTK_T_CMD         500000 /* one command's reply */
#define MTK_T_BUDGET     8000000 /* whole session: the handshake keeps the Preloader's window open;
				   identify reads each field twice, 200 ms of latency included */
#define MTK_T_WAIT_MAX   1000000 /* the per-reply wait adapts to the round trip, up to this */
/* mtkclient's serial handshake reads each complement with a 20 ms timeout
 * and restarts from A0 on a late one (Port.run_serial_handshake, "Do not
 * wait 1 sec, bootloader is only active for 0.3 sec"): a slower round
 * trip defeats it. */
#define MTK_CLIENT_HS_WAIT 20000
#define MTK_READS              6 /* a field is read until two readings agree (three once two differed), at most this often */
#define MTK_BAD_MAX            6 /* malformed replies asked again in one session */
#define MTK_HS_MAX_SENDS      20 /* 0xA0 sent at most this often without progress */
#define MTK_JUNK_BUDGET    65536 /* junk bytes read before we give up */
#define MTK_PL_WINDOW_MS    3000 /* simulated Preloader: download window */

/* ---- chips: hardware code -> the names users know (mtk_chips.c) ---- */
#define MTK_CHIP_PATCHED 0x1u /* BROM exploit path closed: needs Preloader + signed DA (V6 chips) */

typedef struct mtk_chip {
	uint16_t    hwcode;
	unsigned    flags;
	const char *name;   /* "MT6768/MT6769 (Helio P65/G85)" */
} mtk_chip;

/* NULL when the code is not in the table. */
const mtk_chip *sdi_mtk_chip(uint16_t hwcode);
size_t sdi_mtk_chip_count(void);
const mtk_chip *sdi_mtk_chip_at(size_t i);

/* ---- the client engine, for tests and the fuzzer (mtk.c) ---- */
size_t sdi_mtk_client_size(void);
/* Set up the client in ctx (sdi_mtk_client_size() bytes); returns its engine. */
sd_engine *sdi_mtk_client_init(void *ctx, int identify, unsigned retries);
/* After the engine stopped: findings, facts and answered_by into r. */
void sdi_mtk_client_report(const void *ctx, sd_report *r);

#endif
