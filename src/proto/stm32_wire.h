/*
 * STM32 system-memory USART bootloader: wire facts only.
 * Source: ST AN3155 "USART protocol used in the STM32 bootloader"; entry
 * and autobaud from ST AN2606; see shared/protocols/avr-stm32.md section 2.
 */
#ifndef SD_STM32_WIRE_H
#define SD_STM32_WIRE_H

#define STM32_INIT   0x7F /* activation byte: the loader measures the baud rate on it */
#define STM32_ACK    0x79
#define STM32_NACK   0x1F
#define STM32_BUSY   0x76 /* no-stretch commands */

/* Commands: opcode then its complement (opcode ^ 0xFF) */
#define STM32_CMD_GET            0x00
#define STM32_CMD_GET_VERSION    0x01
#define STM32_CMD_GET_ID         0x02
#define STM32_CMD_READ_MEMORY    0x11
#define STM32_CMD_GO             0x21
#define STM32_CMD_WRITE_MEMORY   0x31
#define STM32_CMD_ERASE          0x43 /* bootloader < v3.0 */
#define STM32_CMD_EXT_ERASE      0x44 /* bootloader >= v3.0 */
#define STM32_CMD_WRITE_PROTECT  0x63
#define STM32_CMD_WRITE_UNPROT   0x73
#define STM32_CMD_READOUT_PROT   0x82
#define STM32_CMD_READOUT_UNPROT 0x92

#endif
