/*
 * shakedown — serial line settings and modem lines, as plain data.
 *
 * Shared by links (which apply them), the transcript (which records every
 * change) and simulators (which read what the host asked for, to model a
 * parity or baud-rate mismatch bit by bit).
 */
#ifndef SHAKEDOWN_LINE_H
#define SHAKEDOWN_LINE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_parity {
	SD_PARITY_NONE = 0,
	SD_PARITY_ODD,
	SD_PARITY_EVEN,
	SD_PARITY_MARK,
	SD_PARITY_SPACE
} sd_parity;

typedef enum sd_flow {
	SD_FLOW_NONE = 0,
	SD_FLOW_RTSCTS,
	SD_FLOW_XONXOFF
} sd_flow;

/* UART frame format and rate. baud 0 means "leave as it is". */
typedef struct sd_line_cfg {
	uint32_t  baud;
	uint8_t   data_bits;   /* 5..8 */
	uint8_t   parity;      /* sd_parity */
	uint8_t   stop_bits;   /* 1 or 2 */
	uint8_t   flow;        /* sd_flow */
} sd_line_cfg;

#define SD_LINE_CFG_8N1(b) ((sd_line_cfg){ (b), 8, SD_PARITY_NONE, 1, SD_FLOW_NONE })
#define SD_LINE_CFG_8E1(b) ((sd_line_cfg){ (b), 8, SD_PARITY_EVEN, 1, SD_FLOW_NONE })

/* Modem control outputs (host → device), as software asserts them.
 * "Asserted" is the logical state the OS reports (TIOCM_DTR set); on most
 * USB-UART adapters an asserted line is 0 V at the pin. */
#define SD_LINE_DTR 0x01u
#define SD_LINE_RTS 0x02u
/* Modem status inputs (device → host), read-only. */
#define SD_LINE_CTS 0x10u
#define SD_LINE_DSR 0x20u
#define SD_LINE_DCD 0x40u
#define SD_LINE_RI  0x80u

/* "8N1", "8E1" ...; buf gets at most 4 bytes + NUL. Returns buf. */
static inline const char *sd_line_cfg_frame(const sd_line_cfg *c, char buf[8])
{
	static const char p[] = "NOEMS";
	buf[0] = (char)('0' + (c->data_bits % 10));
	buf[1] = p[c->parity < 5 ? c->parity : 0];
	buf[2] = (char)('0' + (c->stop_bits % 10));
	buf[3] = '\0';
	return buf;
}

#ifdef __cplusplus
}
#endif
#endif
