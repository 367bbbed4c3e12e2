/*
 * shakedown — sans-I/O protocol engines and the driver loop.
 *
 * An engine is a state machine that never touches the OS. It says what it
 * wants through fields of its sd_engine base, and the driver (sd_run) moves
 * the bytes over a link and calls step() with what happened:
 *
 *   state & SD_ENG_CTRL    apply e->ctrl (lines, line settings, flush, break,
 *                          a pause until ctrl.until), then step(CTRL_DONE)
 *   state & SD_ENG_SEND    write e->tx[0..tx_len) by e->deadline, then
 *                          step(SENT, n) with the count written
 *   state & SD_ENG_RECV    read into e->rx[0..rx_cap) until e->deadline, then
 *                          step(RECEIVED, n) or step(TIMEOUT)
 *   state & SD_ENG_DONE    finished; e->err is SD_OK
 *   state & SD_ENG_FAILED  finished; e->err says what failed (sd_err)
 *
 * CTRL is served before SEND, SEND before RECV. A link error is reported
 * with step(LINK_ERROR, err) and the engine decides what follows (usually
 * FAILED). Engines read time only through e->clock, which the driver sets.
 * Simulated devices are engines too, in the device role: they also receive
 * SD_EV_LINES / SD_EV_CFG when the host changes modem lines or settings.
 */
#ifndef SHAKEDOWN_ENGINE_H
#define SHAKEDOWN_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_ENG_SEND   0x01u
#define SD_ENG_RECV   0x02u
#define SD_ENG_CTRL   0x04u
#define SD_ENG_DONE   0x08u
#define SD_ENG_FAILED 0x10u

typedef enum sd_ctrl_op {
	SD_CTRL_LINES = 1, /* set modem lines: mask, level */
	SD_CTRL_CFG,       /* apply cfg */
	SD_CTRL_FLUSH,     /* discard buffers: dirs */
	SD_CTRL_BREAK,     /* send a break of `duration` µs */
	SD_CTRL_WAIT,      /* pause until `until` (absolute), reading nothing */
	SD_CTRL_DRAIN,     /* read and discard until quiet for `duration` or `until` */
	SD_CTRL_NOTE       /* write `note` into the transcript */
} sd_ctrl_op;

typedef struct sd_ctrl {
	int          op;       /* sd_ctrl_op */
	unsigned     mask, level;
	sd_line_cfg  cfg;
	unsigned     dirs;
	sd_time      duration;
	sd_time      until;
	const char  *note;
} sd_ctrl;

typedef enum sd_event_type {
	SD_EV_START = 1,   /* first call, before anything moved */
	SD_EV_SENT,        /* n bytes of tx were written */
	SD_EV_RECEIVED,    /* n bytes were stored at rx */
	SD_EV_TIMEOUT,     /* the deadline passed with nothing received */
	SD_EV_CTRL_DONE,   /* ctrl applied; err = its result (may be UNSUPPORTED) */
	SD_EV_LINK_ERROR,  /* the link failed: err */
	SD_EV_LINES,       /* device role: host set modem lines to `lines` */
	SD_EV_CFG          /* device role: host applied `cfg` */
} sd_event_type;

typedef struct sd_event {
	int          type;   /* sd_event_type */
	size_t       n;
	int          err;
	unsigned     lines;
	sd_line_cfg  cfg;
} sd_event;

typedef struct sd_engine sd_engine;

#define SD_ENGINE_OPS_V1 1u

typedef struct sd_engine_ops {
	unsigned    version;  /* SD_ENGINE_OPS_V1 */
	const char *name;     /* "app-sim", "stk500", "listen" ... */
	/* Advance the state machine by one event; must leave e->state set. */
	void (*step)(sd_engine *e, const sd_event *ev);
} sd_engine_ops;

struct sd_engine {
	const sd_engine_ops *ops;
	const sd_clock      *clock;     /* set by the driver before START */
	unsigned             link_caps; /* set by the driver: SD_LINK_* of the link */
	/* What the engine wants; set in step(). */
	unsigned             state;     /* SD_ENG_* */
	const uint8_t       *tx;
	size_t               tx_len;
	uint8_t             *rx;
	size_t               rx_cap;
	sd_deadline          deadline;  /* RECV and SEND: until when */
	sd_ctrl              ctrl;
	int                  err;       /* with SD_ENG_FAILED */
};

/* Initialise the base; state is 0 until START. */
SD_API void sd_engine_init(sd_engine *e, const sd_engine_ops *ops);
SD_API void sd_engine_step(sd_engine *e, const sd_event *ev);
/* Helpers for engines, setting state and fields in one call. */
SD_API void sd_engine_send(sd_engine *e, const uint8_t *buf, size_t len, sd_deadline dl);
SD_API void sd_engine_recv(sd_engine *e, uint8_t *buf, size_t cap, sd_deadline dl);
SD_API void sd_engine_ctrl(sd_engine *e, const sd_ctrl *c);
SD_API void sd_engine_done(sd_engine *e);
SD_API void sd_engine_fail(sd_engine *e, int err);

typedef struct sd_link sd_link;

/* Drive e over l until it is DONE or FAILED, or `overall` passes (then the
 * engine gets TIMEOUT events until it gives up; the driver stops it with
 * SD_ERR_TIMEOUT if it keeps waiting). Returns SD_OK or the engine's err. */
SD_API int sd_run(sd_engine *e, sd_link *l, sd_deadline overall);

/* ---- Expect: wait for any of several patterns, resyncing through junk ---
 *
 * The robust form of "read one byte and compare": feed it every byte
 * received; it reports the first pattern that matches, counts (and keeps the
 * start of) everything it had to skip, and gives up when the skipped bytes
 * exceed the garbage budget. Patterns are at most SD_EXPECT_MAXPAT bytes;
 * a mask byte 0x00 makes that position a wildcard. */

/* A freestanding build may set it lower (the window is held twice per
 * sd_expect; the MCU builds use 8). */
#ifndef SD_EXPECT_MAXPAT
#define SD_EXPECT_MAXPAT 32u
#endif

typedef struct sd_pattern {
	const uint8_t *bytes;
	const uint8_t *mask;   /* NULL = exact match */
	uint8_t        len;
} sd_pattern;

typedef struct sd_expect {
	const sd_pattern *pats;
	size_t            npats;
	size_t            budget;     /* garbage bytes tolerated */
	size_t            garbage;    /* garbage bytes skipped so far */
	uint8_t           win[SD_EXPECT_MAXPAT];
	size_t            wlen;
	uint8_t          *keep;       /* optional: first skipped bytes, as evidence */
	size_t            keep_cap, kept;
	int               matched;    /* pattern index once matched, else -1 */
	uint8_t           tail[SD_EXPECT_MAXPAT]; /* the matched bytes */
} sd_expect;

SD_API void sd_expect_init(sd_expect *x, const sd_pattern *pats, size_t npats,
			   size_t budget, uint8_t *keep, size_t keep_cap);
/* Feed bytes. Returns 1 when a pattern matched (x->matched; *used = bytes
 * consumed up to and including the match), 0 when more bytes are needed
 * (*used = len), or SD_ERR_OVERFLOW when the garbage budget is exceeded. */
SD_API int sd_expect_feed(sd_expect *x, const uint8_t *buf, size_t len, size_t *used);
/* Bytes held in the window that are neither garbage yet nor a match. */
static inline size_t sd_expect_pending(const sd_expect *x) { return x->wlen; }

#ifdef __cplusplus
}
#endif
#endif
