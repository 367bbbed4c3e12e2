/*
 * shakedown — the diagnosis layer's reading of bytes: the protocol modules'
 * own findings (their boot logs, alerts, frames) and then the core's
 * protocol-free classifier, ranked together. This is what `explain`,
 * `replay` and `probe` use; sd_classify() alone knows no protocol.
 */
#ifndef SHAKEDOWN_DIAGNOSE_H
#define SHAKEDOWN_DIAGNOSE_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/diag.h"
#include "shakedown/classify.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Add ranked findings about in->rx to d: each protocol's diagnose hook,
 * the core classifier (told what the protocols claimed), then each
 * protocol's explain hook (a confident reading is an answer: `ok`, or
 * `wrong-protocol` when in->expect names another). Returns how many
 * findings were added. Never fails; silence is a finding too. */
SD_API size_t sd_diagnose_bytes(const sd_classify_in *in, sd_diag *d);

/* ---- explain: the long form used by `shakedown explain` ---------------- */

typedef struct sd_meaning {
	const char *proto;          /* registry name, or "ascii" */
	char        text[200];
} sd_meaning;

/* What the bytes mean in each known protocol (and as ASCII); returns the
 * number of entries written (at most max). */
SD_API size_t sd_explain_meanings(const uint8_t *b, size_t n,
				  sd_meaning *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
