/*
 * Espressif ROM serial loader: wire facts only.
 * Source: Espressif "Serial Protocol" documentation (esptool): SLIP framing
 * (RFC 1055) around command and response packets.
 */
#ifndef SD_ESP_WIRE_H
#define SD_ESP_WIRE_H

#define ESP_SLIP_END     0xC0
#define ESP_SLIP_ESC     0xDB
#define ESP_SLIP_ESC_END 0xDC
#define ESP_SLIP_ESC_ESC 0xDD

#define ESP_DIR_REQUEST  0x00
#define ESP_DIR_RESPONSE 0x01

#define ESP_CMD_SYNC     0x08
#define ESP_CMD_READ_REG 0x0A

#endif
