/*
 * shakedown — the transcript: every byte in and out, every line event.
 *
 * Links write into a transcript at one choke point (the sd_link_* wrappers
 * in src/core/link.c), so nothing a protocol engine does escapes it. Records
 * carry microsecond timestamps relative to the transcript's origin.
 *
 * Storage is a caller-provided arena (no malloc): records are packed into it
 * until it is full; later records are counted in `dropped` but still passed
 * to the sink, so a --trace file is complete even when the in-memory copy is
 * not. The sink runs synchronously inside the recording call and must not
 * call back into the link.
 */
#ifndef SHAKEDOWN_TRANSCRIPT_H
#define SHAKEDOWN_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_trec_kind {
	SD_TR_TX = 1,   /* bytes host → device; data/len */
	SD_TR_RX,       /* bytes device → host; data/len */
	SD_TR_LINES,    /* modem outputs set: a = mask changed, b = new levels */
	SD_TR_CFG,      /* line settings: cfg */
	SD_TR_BREAK,    /* break: a = duration in µs */
	SD_TR_FLUSH,    /* buffers discarded: a = directions (1 in, 2 out) */
	SD_TR_ERROR,    /* a link error: a = (uint32_t)-sd_err */
	SD_TR_NOTE,     /* free text from an engine or the CLI; data/len, no NUL */
	SD_TR_OPEN,     /* link opened; data/len = target text */
	SD_TR_CLOSE,    /* link closed */
	SD_TR_RUN,      /* what was run: data/len = one sd_trace_run (binary) */
	SD_TR_OUTCOME,  /* its verdict: data/len = one sd_trace_outcome (binary) */
	SD_TR_REOPEN    /* link closed and opened again (sd_link_reopen); data/len =
			   why it had failed, "" if it had not */
} sd_trec_kind;

#define SD_TR_KIND_MAX SD_TR_REOPEN

/* The command a transcript records (docs/transcript-format.md, "run"):
 * enough to run it again over a replay link (sd_link_open_replay) and
 * re-derive its verdict. Written right after the header, before the link's
 * first record. Strings are NUL-terminated ("" = not given). */
#define SD_TRACE_SEQ_MAX 512
typedef struct sd_trace_run {
	char     command[16];    /* "sync", "info", "probe", "tls", ... */
	char     protocol[24];   /* sync/info: the protocol table's name */
	char     link[16];       /* the link backend's name ("sim", "serial", "tcp") */
	unsigned caps;           /* its SD_LINK_* capabilities (link.h) */
	/* sync/info: sd_proto_args (proto.h); probe: the members of
	 * sd_probe_opts (probe.h) that shape the verdict */
	int      identify;
	uint32_t baud;
	char     enter[SD_TRACE_SEQ_MAX]; /* sequence text as given (seq.h) */
	char     exit[SD_TRACE_SEQ_MAX];
	int      no_reset;
	char     part[64];
	unsigned retries;
	sd_time  budget;         /* µs, 0 = default */
	sd_time  listen;         /* probe: µs, 0 = default */
	char     expect[24];     /* probe */
	int      no_poke, all;   /* probe */
	uint32_t usb_id;         /* the port's USB identity, vid << 16 | pid (sd_link usb_vid,
				    usb_pid); 0 = none. Written only when set ("usb") */
} sd_trace_run;

/* The verdict of the run (the last record of a transcript). */
typedef struct sd_trace_outcome {
	int  ok;
	char cause[32];          /* the first-ranked finding's cause, "" = none */
	char protocol[24];       /* answered_by, as in the report ("" = null) */
	char mode[24];
	char chip[64];
} sd_trace_outcome;

/* One record. `data` points into the arena (iteration) or the caller's
 * buffer (sink); it is valid only as long as that storage is. */
typedef struct sd_trec {
	sd_time        t;      /* µs since the transcript's origin */
	uint8_t        kind;   /* sd_trec_kind */
	uint32_t       a, b;
	sd_line_cfg    cfg;
	uint32_t       len;
	const uint8_t *data;
} sd_trec;

typedef void (*sd_transcript_sink)(void *ctx, const sd_trec *r);

typedef struct sd_transcript {
	const sd_clock    *clock;
	sd_time            t0;         /* origin: clock time at init */
	uint8_t           *arena;
	size_t             cap, used;
	size_t             nrec;       /* records stored */
	size_t             dropped;    /* records that did not fit */
	sd_time            last;       /* t of the latest record */
	uint64_t           tx_bytes, rx_bytes;
	sd_transcript_sink sink;
	void              *sink_ctx;
} sd_transcript;

/* arena may be NULL with cap 0 (sink only). The clock must outlive t. */
SD_API void sd_transcript_init(sd_transcript *t, const sd_clock *clock,
			       void *arena, size_t cap);
SD_API void sd_transcript_set_sink(sd_transcript *t, sd_transcript_sink sink,
				   void *ctx);

/* Append a record stamped with the clock's now (rec->t is ignored). Bytes
 * longer than the arena can hold are still given to the sink. */
SD_API void sd_transcript_add(sd_transcript *t, const sd_trec *rec);
/* Append a record as it is, t included (used by the trace reader). */
SD_API void sd_transcript_add_at(sd_transcript *t, const sd_trec *rec);

SD_API void sd_transcript_bytes(sd_transcript *t, int kind,
				const uint8_t *data, size_t len);
SD_API void sd_transcript_lines(sd_transcript *t, unsigned mask, unsigned level);
SD_API void sd_transcript_cfg(sd_transcript *t, const sd_line_cfg *cfg);
SD_API void sd_transcript_note(sd_transcript *t, const char *text);
SD_API void sd_transcript_error(sd_transcript *t, int err);

/* Record what is run (stamped now) and, at the end, its verdict (stamped
 * at the last record's time: the link and its clock may be gone by then).
 * The records carry copies of *run / *o. */
SD_API void sd_transcript_run(sd_transcript *t, const sd_trace_run *run);
SD_API void sd_transcript_outcome(sd_transcript *t, const sd_trace_outcome *o);
/* Copy the payload of a RUN / OUTCOME record out; SD_ERR_ARG for another
 * kind or a payload of the wrong size. */
SD_API int sd_trec_get_run(const sd_trec *r, sd_trace_run *out);
SD_API int sd_trec_get_outcome(const sd_trec *r, sd_trace_outcome *out);

/* Iterate stored records: start with *cursor = 0; returns 1 and fills *out
 * while records remain, then 0. */
SD_API int sd_transcript_next(const sd_transcript *t, size_t *cursor,
			      sd_trec *out);

/* Copy the concatenated payload of records of one kind (SD_TR_RX or
 * SD_TR_TX) stored after record index `from`, at most max bytes. Returns the
 * number copied. */
SD_API size_t sd_transcript_collect(const sd_transcript *t, int kind,
				    size_t from, uint8_t *out, size_t max);

/* "tx", "rx", "lines", "cfg", "break", "flush", "error", "note", "open",
 * "close", "run", "outcome"; NULL for an unknown kind. And the reverse (0 when unknown). */
SD_API const char *sd_trec_kind_name(int kind);
SD_API int sd_trec_kind_from_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif
