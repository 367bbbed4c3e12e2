/*
 * shakedown — entry and exit sequences: DTR/RTS levels and pauses, written
 * as physical pin levels so an adapter's inversion is explicit.
 *
 *   SEQ   := STEP ("," STEP)*
 *   STEP  := [LABEL "="] LINE ":" LEVEL [":" TIME]  |  TIME
 *   LINE  := "dtr" | "rts"
 *   LEVEL := "high" | "low" | "pulse-high" | "pulse-low"
 *   TIME  := N "ms" | N "us" | N "s"           (a pause; N decimal)
 *   LABEL := the pin it drives, for the reader ("boot0", "nrst", "reset")
 *
 * e.g. "boot0=rts:high,nrst=dtr:pulse-low:20ms,50ms": RTS pin high (BOOT0
 * high), DTR pin low for 20 ms then high (a reset pulse), then wait 50 ms.
 *
 * "high" means the pin's voltage. USB-UART adapters drive a pin LOW when
 * the OS asserts the line, so "high" becomes "deasserted" on the wire
 * (SD_LINE_* levels are the OS's logical view). A pulse without TIME lasts
 * SD_SEQ_PULSE_DEFAULT. Parsing is bounded: at most SD_SEQ_MAX steps after
 * expansion (a pulse is three), lengths and times checked.
 */
#ifndef SHAKEDOWN_SEQ_H
#define SHAKEDOWN_SEQ_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_SEQ_MAX           32
#define SD_SEQ_PULSE_DEFAULT SD_MS(100)
#define SD_SEQ_TIME_MAX      SD_S(10)   /* one pause at most */

typedef enum sd_seq_kind {
	SD_SEQ_LINES = 1, /* set `mask` lines to logical `level` (SD_LINE_*) */
	SD_SEQ_WAIT       /* pause for `wait` µs */
} sd_seq_kind;

typedef struct sd_seq_step {
	uint8_t  kind;    /* sd_seq_kind */
	uint8_t  mask;    /* SD_LINE_DTR | SD_LINE_RTS */
	uint8_t  level;   /* logical (asserted) bits within mask */
	sd_time  wait;
} sd_seq_step;

typedef struct sd_seq {
	sd_seq_step step[SD_SEQ_MAX];
	size_t      n;
} sd_seq;

/* Parse text (NUL-terminated, or len bytes) into s. Returns SD_OK, or
 * SD_ERR_ARG with a one-line reason in why. An empty text is an empty
 * sequence. */
SD_API int sd_seq_parse(const char *text, size_t len, sd_seq *s, char *why, size_t whylen);
/* The whole duration of the pauses in s, µs. */
SD_API sd_time sd_seq_duration(const sd_seq *s);

#ifdef __cplusplus
}
#endif
#endif
