/*
 * shakedown — probe: what is on the other end of a link, and why a
 * handshake fails. The whole pipeline behind `shakedown probe`, as one call:
 *
 *   1. listen at the link's settings (and, when what it hears does not
 *      decode, at the common rates), keeping every byte;
 *   2. on a serial line, each protocol of the table in a safe order: its
 *      read-only first frame, then its own entry (DTR/RTS reset) and sync,
 *      one reset per attempt, stopping at the first confirmed answer;
 *      on a network port, the client-speaks-first probes (a TLS hello);
 *   3. rank: what answered and what that means for the user's tool, or
 *      the most likely cause with its evidence and fix.
 *
 * Read-only: it sends only handshake frames (sync, get-version style
 * requests) and line changes; never a write, erase or jump.
 */
#ifndef SHAKEDOWN_PROBE_H
#define SHAKEDOWN_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_link sd_link;

typedef struct sd_probe_opts {
	uint32_t    baud;       /* host rate to listen at first; 0 = the link's (or 115200) */
	sd_time     listen;     /* first listen; 0 = default (SD_PROBE_LISTEN) */
	const char *expect;     /* registry name of the protocol the user expects, or NULL */
	int         no_poke;    /* only listen: send nothing at all */
	int         no_reset;   /* never touch DTR/RTS */
	int         all;        /* try every protocol, even after one answered */
	sd_time     budget;     /* overall; 0 = default (SD_PROBE_BUDGET) */
	const char *port_path;  /* device node for host checks when silent; NULL = none */
} sd_probe_opts;

#define SD_PROBE_LISTEN SD_MS(300)
#define SD_PROBE_BUDGET SD_S(6)

/* Buffers the report's evidence points into: keep it until the report is
 * printed. */
typedef struct sd_probe sd_probe;

SD_API sd_probe *sd_probe_new(void);
SD_API void sd_probe_free(sd_probe *p);

/* Run the pipeline over an open link and fill r (sd_report_init'ed by the
 * caller: command "probe"). Returns SD_OK when something answered a
 * handshake (r->ok = 1), SD_ERR_PROTO when not (the diagnosis says why),
 * or the sd_err of a link that failed (the diagnosis says so too). */
SD_API int sd_probe_run(sd_probe *p, sd_link *l, const sd_probe_opts *o, sd_report *r);

#ifdef __cplusplus
}
#endif
#endif
