/*
 * shakedown — text formats: the JSON report contract and the transcript's
 * JSON-lines form (docs/report.md, docs/transcript-format.md).
 *
 * These functions use cJSON and so allocate; everything else in the library
 * stays allocation-free. Free returned strings with sd_free().
 */
#ifndef SHAKEDOWN_FMT_H
#define SHAKEDOWN_FMT_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/diag.h"
#include "shakedown/transcript.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_JSON_PRETTY 0x1u

/* The report as JSON text (the contract of docs/report.md). `extra` may
 * carry command-specific members (a cJSON object, ownership passes; NULL
 * for none): they are merged into the top level. NULL on allocation failure. */
SD_API char *sd_report_json(const sd_report *r, void *extra, unsigned flags);
SD_API void sd_free(void *p);

/* Transcript as JSON lines. The first line of a file is a header:
 *   {"shakedown_trace":1,"target":"...","version":"0.1.0"}
 * then one record per line, e.g.
 *   {"t":1234,"rx":"68656c6c6f"}
 * sd_trace_header / sd_trace_format write one line (with '\n') into buf and
 * return its length, or SD_ERR_NOMEM if buf is too small. */
SD_API int sd_trace_header(const char *target, char *buf, size_t len);
SD_API int sd_trace_format(const sd_trec *r, char *buf, size_t len);
/* Size of buf that always fits a record of `payload` bytes. */
#define SD_TRACE_LINE_MAX(payload) (160 + 2 * (size_t)(payload) + 2 * 64)

/* Parse one line (without or with its '\n'). Returns 1 with *out filled
 * (payload decoded into data[0..datacap), out->data points there), 0 for the
 * header line (target copied into target[0..targetcap) when given), or
 * SD_ERR_PROTO with a reason in why for anything malformed. Never allocates
 * beyond cJSON's own parse tree, which it frees. */
SD_API int sd_trace_parse(const char *line, size_t len, sd_trec *out,
			  uint8_t *data, size_t datacap,
			  char *target, size_t targetcap,
			  char *why, size_t whylen);

/* The verdict of a report as a transcript's outcome record: ok, the
 * first-ranked cause (sort the diagnosis first), answered_by. */
SD_API void sd_trace_outcome_of(const sd_report *r, sd_trace_outcome *out);

#ifdef __cplusplus
}
#endif
#endif
