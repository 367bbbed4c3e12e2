/*
 * shakedown — diagnosis: why a handshake failed, layer by layer.
 *
 * A finding names a layer, a cause from the closed vocabulary below (one
 * table in src/core/diag.c; docs/causes.md lists it), the evidence (slices
 * of what was sent and received: pointers into the caller's buffers, which
 * must outlive the record), a fix and a confidence. An sd_diag holds the
 * findings of one run, ranked by confidence.
 */
#ifndef SHAKEDOWN_DIAG_H
#define SHAKEDOWN_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_layer {
	SD_LAYER_NONE = 0,
	SD_LAYER_PHYSICAL,   /* wires, levels, baud, parity, reset circuit */
	SD_LAYER_HOST,       /* OS, drivers, permissions, other processes */
	SD_LAYER_PROTOCOL,   /* the bytes: wrong mode, wrong protocol, state */
	SD_LAYER_SECURITY    /* TLS, certificates, read-out protection */
} sd_layer;

/* The closed vocabulary. Add codes here and in the table, never ad hoc. */
typedef enum sd_cause {
	SD_CAUSE_OK = 0,
	SD_CAUSE_SILENT,
	SD_CAUSE_IDLE_LINE,
	SD_CAUSE_ECHO,
	SD_CAUSE_APP_RUNNING,
	SD_CAUSE_BOOT_LOG,
	SD_CAUSE_WRONG_BOOT_MODE,
	SD_CAUSE_BAUD_MISMATCH,
	SD_CAUSE_PARITY_MISMATCH,
	SD_CAUSE_WRONG_PROTOCOL,
	SD_CAUSE_BOOTLOADER_OTHER_RATE,
	SD_CAUSE_READ_PROTECTED,
	SD_CAUSE_DISCONNECTED,
	SD_CAUSE_PORT_BUSY,
	SD_CAUSE_PERMISSION,
	SD_CAUSE_MODEM_MANAGER,
	SD_CAUSE_DRIVER,
	SD_CAUSE_PLAINTEXT_SERVICE,
	SD_CAUSE_TLS_VERSION_MISMATCH,
	SD_CAUSE_TLS_NO_SHARED_CIPHER,
	SD_CAUSE_TLS_NO_SHARED_GROUP,
	SD_CAUSE_TLS_SIGALG_REFUSED,
	SD_CAUSE_CERT_EXPIRED,
	SD_CAUSE_CERT_NOT_YET_VALID,
	SD_CAUSE_CERT_HOSTNAME,
	SD_CAUSE_CERT_UNTRUSTED,
	SD_CAUSE_CERT_INCOMPLETE_CHAIN,
	SD_CAUSE_CERT_WEAK,
	SD_CAUSE_TLS_INTERCEPTION,
	SD_CAUSE_MIDDLEBOX_RESET,
	SD_CAUSE_MIDDLEBOX_SIZE,
	SD_CAUSE_STARTTLS_REFUSED,
	SD_CAUSE_STARTTLS_NOT_OFFERED,
	SD_CAUSE_PRELOADER_NOT_BROM,
	SD_CAUSE_DA_MODE,
	SD_CAUSE_BOOTLOOP,
	SD_CAUSE_NOISE,          /* bit errors / garbage on an otherwise working line */
	SD_CAUSE_NO_DEVICE,      /* the port or host does not exist */
	SD_CAUSE_TLS_ALERT,      /* a TLS record or alert answered */
	SD_CAUSE_UNKNOWN,        /* bytes we cannot name */
	SD_CAUSE_PART_MISMATCH,  /* the chip's signature is not the part asked for */
	SD_CAUSE_TLS_PROTOCOL_VIOLATION, /* TLS records or a ServerHello that break the rules */
	SD_CAUSE_TLS_TIMEOUT,    /* a deadline ended a TLS answer or the enumeration early */
	SD_CAUSE_STOPPED_ANSWERING, /* answered, then went silent mid-session */
	SD_CAUSE_BROWNOUT,       /* resets on supply brown-out (ESP ROM log) */
	SD_CAUSE_TX_PATH_DEAD,   /* the loader waits, but our bytes never reach it */
	SD_CAUSE_STUCK_BIT,      /* every byte off by the same bit mask: a signal fault */
	SD_CAUSE_TELNET_FRAMING, /* a Telnet / RFC 2217 port read as raw: 0xFF doubled */
	SD_CAUSE_REMOTE_NO_LINES,   /* a remote port server does not pass DTR/RTS on */
	SD_CAUSE_REMOTE_RESET_SLOW, /* the network stretched a reset sequence */
	SD_CAUSE_TLS_SNI_REQUIRED, /* the server refuses a hello without a name it knows (alert 112) */
	SD_CAUSE_POLICY_DEVIATION, /* the server breaks a rule of the expected policy (tls --expect) */
	SD_CAUSE_TLS_CLIENT_CERT_REQUIRED, /* the server ends the handshake without a client certificate */
	/* esp2 (issue 13, part 2) */
	SD_CAUSE_OVERLAPPING_SYNCS, /* a SYNC's replies come after the next SYNC was sent: a slow link */
	/* starttls + OCSP (issue 12, part 2) */
	SD_CAUSE_OCSP_STAPLE_INVALID, /* the stapled OCSP response does not verify (signature, signer, certificate) */
	SD_CAUSE_COUNT
} sd_cause;

#ifndef SD_NO_TEXT /* the names, sentences and records that hold text: host only */
/* "app-running"; NULL outside the set. */
SD_API const char *sd_cause_name(sd_cause c);
/* -1 when the name is not in the vocabulary. */
SD_API int sd_cause_from_name(const char *name);
SD_API sd_layer sd_cause_layer(sd_cause c);
/* The default one-line summary and fix of a cause (never NULL). */
SD_API const char *sd_cause_summary(sd_cause c);
SD_API const char *sd_cause_fix(sd_cause c);
/* "physical", "host", "protocol", "security"; "" for NONE. */
SD_API const char *sd_layer_name(sd_layer l);

#define SD_SUMMARY_MAX 200
#define SD_FIX_MAX     240
#define SD_DETAIL_MAX  480
#define SD_DIAG_MAX    16

typedef struct sd_finding {
	sd_cause        cause;
	sd_layer        layer;
	float           confidence;          /* 0..1 */
	char            summary[SD_SUMMARY_MAX];
	char            fix[SD_FIX_MAX];
	char            detail[SD_DETAIL_MAX]; /* further evidence, lines separated by '\n' */
	const uint8_t  *sent;                /* evidence slices (borrowed) */
	size_t          sent_len;
	const uint8_t  *rcvd;
	size_t          rcvd_len;
} sd_finding;

typedef struct sd_diag {
	sd_finding f[SD_DIAG_MAX];
	size_t     n;
} sd_diag;

SD_API void sd_diag_init(sd_diag *d);
/* Add a finding with the cause's default layer, summary and fix. If the
 * cause is already present, the existing record is returned and its
 * confidence raised to the higher of the two. NULL when full. */
SD_API sd_finding *sd_diag_add(sd_diag *d, sd_cause c, float confidence);
SD_API sd_finding *sd_diag_find(sd_diag *d, sd_cause c);
/* Remove the finding with cause c, if any (order of the rest kept). */
SD_API void sd_diag_drop(sd_diag *d, sd_cause c);
/* Formatted setters (truncate safely). */
SD_API void sd_finding_summary(sd_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
SD_API void sd_finding_fix(sd_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends one line to detail. */
SD_API void sd_finding_detail(sd_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
SD_API void sd_finding_evidence(sd_finding *f, const uint8_t *sent, size_t sent_len,
				const uint8_t *rcvd, size_t rcvd_len);
/* Sort by confidence, highest first (stable). */
SD_API void sd_diag_sort(sd_diag *d);

/* What answered, for the report's "answered_by". Empty strings = unknown. */
typedef struct sd_answered_by {
	char protocol[24];
	char mode[24];
	char chip[64];
} sd_answered_by;

/* A fact a protocol module learned (bootloader version, signature, flags):
 * rendered under "info" in the JSON report, one line each in text. */
#define SD_FACT_KEY_MAX   32
#define SD_FACT_VALUE_MAX 200
#define SD_FACTS_MAX      40

typedef struct sd_fact {
	char key[SD_FACT_KEY_MAX];      /* "bootloader_version", "pid" ... */
	char value[SD_FACT_VALUE_MAX];
} sd_fact;

/* One run's result: the report contract of docs/report.md. */
typedef struct sd_report {
	const char    *target;
	const char    *command;
	int            ok;
	sd_answered_by by;
	sd_diag        diag;
	sd_fact        facts[SD_FACTS_MAX];
	size_t         nfacts;
	int64_t        elapsed_ms;
} sd_report;

SD_API void sd_report_init(sd_report *r, const char *command, const char *target);
/* Set a fact (replacing one with the same key); silently dropped when the
 * table is full. */
SD_API void sd_report_fact(sd_report *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The value of a fact, or NULL. */
SD_API const char *sd_report_fact_get(const sd_report *r, const char *key);

#endif /* SD_NO_TEXT */

#ifdef __cplusplus
}
#endif
#endif
