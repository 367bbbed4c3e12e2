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


/* ---- a whole lab at once: probe --targets --------------------------------
 *
 * A targets file is either one target a line ("#" comments and blank lines
 * skipped, spaces trimmed), or a labgrid environment or exporter YAML file,
 * from which every NetworkSerialPort (host, port, speed, protocol rfc2217 or
 * raw) becomes rfc2217://host:port?baud=speed or tcp://host:port, and every
 * RawSerialPort (port, speed) serial:PATH?baud=speed; a resource is found as
 * a key named after its class or as a mapping with `cls:` naming it, at any
 * depth. A file is YAML when a non-comment line ends with ':' or holds ': '.
 * Bounds: SD_TARGETS_MAX targets, SD_TARGETS_FILE_MAX bytes; more is an
 * error, never a silent cut. */
#define SD_TARGETS_MAX      4096u
#define SD_TARGETS_FILE_MAX (1u << 20)

typedef struct sd_target {
	char     uri[320];   /* what sd_link_open takes */
	char     name[64];   /* labgrid: target/group and resource name; lines: "" */
	unsigned line;       /* 1-based line in the file it came from */
} sd_target;

/* Parse text[0..len) (not NUL-terminated). On SD_OK *out (free with free())
 * holds *n targets (n may be 0 for a YAML file without serial ports).
 * SD_ERR_ARG and a one-line reason (with the line) for bad input,
 * SD_ERR_OVERFLOW past the bounds, SD_ERR_UNSUPPORTED for YAML in a build
 * without libyaml. */
SD_API int sd_targets_parse(const char *text, size_t len, sd_target **out, size_t *n,
			    char *why, size_t whylen);
/* The same from a file. SD_ERR_NOTFOUND / SD_ERR_ACCESS when unreadable. */
SD_API int sd_targets_load(const char *path, sd_target **out, size_t *n, char *why, size_t whylen);

/* Called once per target as it finishes, in finish order, never two at
 * once (the caller may print without a lock). r is the target's report
 * (command "probe"): a target that could not be opened has one finding
 * naming why (port-busy, permission, wrong-protocol, no-device ...).
 * err: sd_probe_run's result, or the open error. r is valid only during
 * the call. */
typedef void (*sd_probe_done_fn)(void *ctx, const sd_target *t, size_t index, int err,
				 const sd_report *r);

typedef struct sd_probe_many_opts {
	unsigned         jobs;   /* targets in flight at once; 0 = 8; at most SD_PROBE_JOBS_MAX */
	sd_probe_opts    probe;  /* for every target (port_path is set per target) */
	sd_probe_done_fn done;
	void            *ctx;
} sd_probe_many_opts;

#define SD_PROBE_JOBS_MAX 256u

/* Probe every target, at most o->jobs at once (threads), each with its own
 * link, probe and report. Returns SD_OK when all were probed (whatever the
 * verdicts), SD_ERR_ARG, or SD_ERR_NOMEM / SD_ERR_IO when workers could not
 * be started (nothing was probed then). Blocks until all are done. */
SD_API int sd_probe_many(const sd_target *t, size_t n, const sd_probe_many_opts *o);

#ifdef __cplusplus
}
#endif
#endif
