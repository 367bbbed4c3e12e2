/*
 * STK500v1 as spoken by Arduino bootloaders (optiboot): wire facts only.
 * Source: Atmel AVR061 "STK500 Communication Protocol" (names kept:
 * Cmnd_STK_GET_SYNC -> STK_GET_SYNC ...); behaviour from optiboot.c and
 * avrdude stk500.c as summarised in shared/protocols/avr-stm32.md section 1.
 */
#ifndef SD_STK500_WIRE_H
#define SD_STK500_WIRE_H

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

#endif
