/*
 * shakedown — replay: run a recorded command again over its own transcript
 * and say whether the verdict it re-derives agrees with the recorded one
 * (`shakedown replay FILE`, docs/transcript-format.md).
 *
 * A transcript that starts with a run record (sync, info, probe) is served
 * back through a replay link (sd_link_open_replay) to the same code that
 * made it: the protocol table's session for sync/info, the probe pipeline
 * for probe. A transcript without one (written before run records existed),
 * or of a command that cannot run again, falls back to classifying the
 * bytes received, and the result says so.
 */
#ifndef SHAKEDOWN_REPLAY_H
#define SHAKEDOWN_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/diag.h"
#include "shakedown/link.h"
#include "shakedown/transcript.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_replay_result {
	int              rerun;         /* 1 the recorded command ran again; 0 classified */
	char             why[160];      /* rerun 0: why not (no run record, ...) */
	int              have_run;      /* the trace has a run record: run */
	sd_trace_run     run;
	int              have_outcome;  /* the trace has an outcome record: recorded */
	sd_trace_outcome recorded;
	sd_trace_outcome replayed;      /* of the report */
	int              agrees;        /* 1 yes, 0 no, -1 nothing to compare with */
	long             diverged_at;   /* first diverging record (index), -1 none */
	sd_replay_stats  st;            /* of the replay link (rerun 1) */
	int              err;           /* what the re-run returned (sd_err) */
} sd_replay_result;

/* Owns the memory the report's evidence points into: keep it until the
 * report is printed. */
typedef struct sd_replay sd_replay;

SD_API sd_replay *sd_replay_new(void);
SD_API void sd_replay_free(sd_replay *rp);

/* Re-run (or classify) the transcript t (records in file order; with
 * t->dropped > 0 the trace is incomplete and is only classified) into r,
 * which the caller sd_report_init'ed (command "replay"). Agreement: the
 * same ok, first cause and answered_by as the outcome record, no host
 * action unlike the recording, and every recorded I/O record reached.
 * Returns SD_OK, or SD_ERR_NOMEM / SD_ERR_ARG. */
SD_API int sd_replay_run(sd_replay *rp, const sd_transcript *t, sd_report *r,
			 sd_replay_result *res);

#ifdef __cplusplus
}
#endif
#endif
