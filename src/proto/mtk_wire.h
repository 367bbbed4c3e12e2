/*
 * MediaTek BootROM / Preloader download protocol: wire facts only.
 * No vendor specification exists; source: shared/protocols/mtk.md (public
 * tools' behaviour and their users' logs).
 */
#ifndef SD_MTK_WIRE_H
#define SD_MTK_WIRE_H

/* Start handshake: each byte is answered by its bitwise complement. */
#define MTK_HS0 0xA0 /* -> 0x5F */
#define MTK_HS1 0x0A /* -> 0xF5 */
#define MTK_HS2 0x50 /* -> 0xAF */
#define MTK_HS3 0x05 /* -> 0xFA */

/* Read-only commands */
#define MTK_CMD_GET_HW_CODE      0xFD
#define MTK_CMD_GET_HW_SW_VER    0xFC
#define MTK_CMD_GET_BL_VER       0xFE /* BROM echoes it; the Preloader answers a version */
#define MTK_CMD_GET_VERSION      0xFF
#define MTK_CMD_GET_TARGET_CONFIG 0xD8
#define MTK_CMD_GET_ME_ID        0xE1
#define MTK_CMD_GET_SOC_ID       0xE7
#define MTK_CMD_GET_PL_CAP       0xFB

/* Preloader single-byte responses */
#define MTK_PL_ACK  0x5A
#define MTK_PL_NACK 0xA5
#define MTK_PL_CONF 0x69
#define MTK_PL_STOP 0x96

#define MTK_USB_VID 0x0E8D
#define MTK_PID_BROM      0x0003
#define MTK_PID_PRELOADER 0x2000
#define MTK_PID_DA        0x2001

#endif
