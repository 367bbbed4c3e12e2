/*
 * shakedown — compact protocol clients: the handshake alone, for a
 * microcontroller that talks to another chip's bootloader (an ATmega
 * updating a board's optiboot, an STM32 gateway updating its radio's STM32).
 *
 * Each client is a sans-I/O engine (engine.h) run by sd_run over any link:
 * on the host a serial port or sim:, on a microcontroller a link written on
 * its UART (docs/PORTING-links.md). They hold no text: the outcome is the
 * engine's sd_err, a cause code (sd_cause, diag.h) and the confirmed fields.
 * No malloc, no stdio, no floating point; the context is caller-allocated
 * and holds no pointer into itself except the engine's I/O buffers, so it
 * needs no buffer of its own. The host's `shakedown sync|info` sessions
 * (src/proto/stk500.c, stm32.c) keep the evidence and the diagnosis; these
 * clients do the same handshake with the same wire facts (stk500_wire.h,
 * stm32_wire.h) in a few hundred bytes of RAM.
 *
 * Read-only: GET_SYNC, GET_PARAMETER and READ_SIGN for STK500; 0x7F, Get and
 * Get ID for the STM32 loader.
 *
 * A field is reported only when `agree` readings in a row were equal (no
 * checksum protects an STK500v1 answer; the STM32 loader's are framed by
 * ACKs only): the `have` bits say which fields were confirmed.
 * @since 0.2
 */
#ifndef SHAKEDOWN_CLIENT_H
#define SHAKEDOWN_CLIENT_H

#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- STK500v1 (optiboot, Arduino) ------------------------------------- */

typedef struct sd_stk500_cfg {
	uint32_t baud;       /* set the link to baud 8N1 first; 0 = leave it */
	uint8_t  reset_mask; /* SD_LINE_DTR/RTS pulsed (deasserted, asserted 1 ms,
				released) to reset the target; 0 = no reset (the
				target was reset otherwise, or is powering up) */
	uint8_t  identify;   /* after sync, read the version and the signature */
	uint8_t  agree;      /* equal readings that confirm a field; 0 = 3 */
} sd_stk500_cfg;

#define SD_STK500_HAVE_SYNC    0x01u /* 14 10 answered a GET_SYNC */
#define SD_STK500_HAVE_VERSION 0x02u /* major.minor confirmed */
#define SD_STK500_HAVE_SIG     0x04u /* signature confirmed */

typedef struct sd_stk500_client {
	sd_engine     eng;      /* first: pass &c.eng to sd_run */
	sd_stk500_cfg cfg;
	uint8_t       st, item, reads, same, frames;
	uint8_t       slow;     /* reply timeouts so far (the wait doubles, to 400 ms) */
	uint8_t       tx[3];
	uint8_t       rx[8];
	uint8_t       cur[3];   /* the reading in hand */
	sd_expect     x;
	sd_time       t_end;    /* the GET_SYNC frames stop here */
	uint16_t      rx_bytes, text_bytes, echo_bytes; /* seen before sync: the cause */
	uint8_t       eol;      /* a line end among them */
	/* results */
	uint8_t       have;     /* SD_STK500_HAVE_* */
	uint8_t       major, minor;
	uint8_t       sig[3];
	uint8_t       cause;    /* sd_cause: OK, SILENT, ECHO, APP_RUNNING (mostly text,
				   in lines), STOPPED_ANSWERING (in sync, then no
				   answer, or the run's deadline came first), NOISE
				   (answers that never agreed), DISCONNECTED,
				   UNKNOWN (bytes it does not name) */
} sd_stk500_client;

/* Set up c (cfg NULL = no baud change, no reset, identify, agree 3).
 * Then sd_run(&c->eng, link, deadline). */
SD_API void sd_stk500_client_init(sd_stk500_client *c, const sd_stk500_cfg *cfg);

/* ---- STM32 system-memory USART loader (AN3155) ------------------------- */

typedef struct sd_stm32_cfg {
	uint32_t baud;       /* set the link to baud 8E1 first; 0 = leave it */
	uint8_t  identify;   /* after the 0x7F sync: Get (version) and Get ID */
	uint8_t  agree;      /* equal answers that confirm a field; 0 = 2 */
} sd_stm32_cfg;

#define SD_STM32_HAVE_SYNC    0x01u /* ACK (or NACK: already synced) to 0x7F */
#define SD_STM32_HAVE_VERSION 0x02u /* the bootloader version, from Get */
#define SD_STM32_HAVE_PID     0x04u /* the product id, from Get ID */

typedef struct sd_stm32_client {
	sd_engine     eng;      /* first */
	sd_stm32_cfg  cfg;
	uint8_t       st, item, reads, same, tries;
	uint8_t       timed_out; /* the drain waits the whole wait */
	uint8_t       tx[2];
	sd_time       t0;       /* the first 0x7F went out */
	sd_time       wait;     /* for an answer: twice the sync's round trip, 0.5 to 2 s */
	uint8_t       rx[8];
	uint8_t       n, want;  /* bytes of the current answer, its length */
	uint8_t       ans[4];   /* ACK, N, first value bytes: what is compared */
	uint8_t       cur[2];   /* the reading in hand */
	uint16_t      rx_bytes, text_bytes, echo_bytes; /* seen before sync: the cause */
	uint8_t       eol;
	/* results */
	uint8_t       have;     /* SD_STM32_HAVE_* */
	uint8_t       version;  /* 0x31 = 3.1 (Get's first byte) */
	uint16_t      pid;      /* 0x0413 = STM32F405/407... */
	uint8_t       cause;    /* sd_cause: as the STK500 client's */
} sd_stm32_client;

SD_API void sd_stm32_client_init(sd_stm32_client *c, const sd_stm32_cfg *cfg);

#ifdef __cplusplus
}
#endif
#endif
