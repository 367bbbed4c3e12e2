/*
 * shakedown — loopback: test an adapter and its cable with TX tied to RX.
 *
 * With a jumper from TX to RX on the adapter, every byte sent must come
 * back unchanged. sd_loopback_run() measures that at each rate the adapter
 * accepts and with each parity the link carries:
 *
 *   1. for every (rate, parity) pass: set the line, drain what the line
 *      says on its own, then send seeded pseudo-random blocks (xorshift32)
 *      and read them back with deadlines; each block's first byte goes
 *      alone, so its round-trip time is measured on the link's clock;
 *   2. compare the sent and received streams with resync: a byte lost or
 *      added shifts the alignment once, it does not make every later byte
 *      wrong; aligned bytes that differ count their bit errors (popcount of
 *      the XOR), so the bit error rate is errors / bits compared;
 *   3. where the link has modem lines, whether DTR comes back on DSR/DCD
 *      and RTS on CTS (only when TX is looped: toggling the lines would
 *      reset an attached board);
 *   4. findings: adapter and cable good (SD_CAUSE_OK), bit errors or lost
 *      bytes at some rates (SD_CAUSE_NOISE), nothing came back: not looped
 *      (SD_CAUSE_SILENT), clean at one rate only: a device that echoes
 *      (SD_CAUSE_ECHO), bytes that are not ours: a device answered
 *      (SD_CAUSE_APP_RUNNING when it prints text, else SD_CAUSE_UNKNOWN),
 *      the link failed (SD_CAUSE_DISCONNECTED).
 *
 * The whole run keeps to a time budget (default SD_LOOPBACK_BUDGET): the
 * bytes per pass are chosen from it and the rate, and passes that no longer
 * fit are reported as not tested. Where the link runs on virtual time (a
 * sim: target) or on a fake clock, no real time passes.
 */
#ifndef SHAKEDOWN_LOOPBACK_H
#define SHAKEDOWN_LOOPBACK_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/line.h"
#include "shakedown/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_link sd_link;

/* The rates tried when the caller gives none, lowest first; those the link
 * refuses (sd_link_set_cfg fails) are skipped and listed in the result. */
#define SD_LOOPBACK_RATES \
	9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600, \
	1000000, 1500000, 2000000, 3000000

#define SD_LOOPBACK_BUDGET    SD_S(6) /* whole run, default */
#define SD_LOOPBACK_BYTES     1024u   /* most bytes per pass, default */
#define SD_LOOPBACK_MAX_BYTES 65536u  /* bound on opts.bytes */
#define SD_LOOPBACK_MIN_BYTES 32u     /* fewest bytes a pass sends */
#define SD_LOOPBACK_MAX_RATES 32u     /* bound on opts.nrates */
#define SD_LOOPBACK_MAX_PASSES 160u   /* rates x parities */
#define SD_LOOPBACK_EVIDENCE  48u     /* bytes of evidence kept per side */

typedef struct sd_loopback_opts {
	const uint32_t *rates;     /* NULL or nrates 0: SD_LOOPBACK_RATES */
	size_t          nrates;    /* <= SD_LOOPBACK_MAX_RATES */
	const uint8_t  *parities;  /* sd_parity values; NULL: none, even, odd */
	size_t          nparities; /* <= 5 */
	size_t          bytes;     /* most bytes per pass; 0 = SD_LOOPBACK_BYTES */
	uint32_t        seed;      /* pattern seed; pass i uses seed + i */
	sd_time         budget;    /* whole run; 0 = SD_LOOPBACK_BUDGET */
	int             no_lines;  /* never touch DTR/RTS */
} sd_loopback_opts;

/* What one pass saw. */
typedef enum sd_loopback_status {
	SD_LOOPBACK_UNTESTED = 0, /* not run (time budget used up) */
	SD_LOOPBACK_GOOD,         /* every byte came back unchanged, nothing extra */
	SD_LOOPBACK_ERRORS,       /* came back with bit errors or extra bytes */
	SD_LOOPBACK_PARTIAL,      /* bytes lost, nothing extra, few changed (<= lost / 10) */
	SD_LOOPBACK_NONE,         /* nothing came back */
	SD_LOOPBACK_FOREIGN       /* bytes came back, but mostly not ours */
} sd_loopback_status;

typedef struct sd_loopback_pass {
	sd_line_cfg cfg;          /* rate and frame (baud 0: the link's own) */
	sd_loopback_status status;
	size_t   sent;            /* bytes written */
	size_t   received;        /* bytes read back (all of them) */
	size_t   matched;         /* aligned and equal */
	size_t   corrupted;       /* aligned but different */
	size_t   lost;            /* sent, never came back */
	size_t   extra;           /* came back, not sent (includes unsolicited) */
	size_t   unsolicited;     /* arrived while we sent nothing (drains) */
	size_t   text;            /* received bytes that are printable text */
	uint64_t bit_errors;      /* popcount of XOR over corrupted bytes */
	double   ber;             /* bit_errors / (8 * (matched + corrupted)); 0 if none */
	size_t   rtt_samples;
	sd_time  rtt_median;      /* first-byte round trip, µs; -1 without samples */
	sd_time  rtt_worst;
	sd_time  elapsed;         /* the pass, on the link's clock */
} sd_loopback_pass;

/* Modem-line loops seen (sd_loopback_result.lines_loop). */
#define SD_LOOPBACK_DTR_DSR 0x1u
#define SD_LOOPBACK_DTR_DCD 0x2u
#define SD_LOOPBACK_RTS_CTS 0x4u

typedef enum sd_loopback_lines {
	SD_LOOPBACK_LINES_TESTED = 0,  /* lines_loop says which loop */
	SD_LOOPBACK_LINES_UNSUPPORTED, /* the link has no modem lines (pty, tcp) */
	SD_LOOPBACK_LINES_SKIPPED,     /* not looped, or opts.no_lines */
	SD_LOOPBACK_LINES_FAILED       /* setting or reading them failed */
} sd_loopback_lines;

typedef struct sd_loopback_result {
	sd_loopback_pass pass[SD_LOOPBACK_MAX_PASSES];
	size_t   npasses;
	uint32_t refused[SD_LOOPBACK_MAX_RATES]; /* rates the link did not accept */
	size_t   nrefused;
	int      parity;          /* 1: parity was tested; 0: the link carries none */
	int      varied_rate;     /* 1: the link sets rates (SD_LINK_BAUD) */
	sd_loopback_lines lines;
	unsigned lines_loop;      /* SD_LOOPBACK_DTR_DSR | ... */
	/* totals over the passes run */
	size_t   sent, received, matched, corrupted, lost, extra;
	uint64_t bit_errors;
	double   ber;
	sd_time  rtt_median, rtt_worst; /* over all samples; -1 without */
	sd_time  elapsed;
	/* evidence the findings point into: the first bytes of the worst pass */
	uint8_t  ev_sent[SD_LOOPBACK_EVIDENCE], ev_rcvd[SD_LOOPBACK_EVIDENCE];
	size_t   ev_sent_len, ev_rcvd_len;
} sd_loopback_result;

/* Run the self-test over an open link and fill res and r (r sd_report_init'ed
 * by the caller, command "loopback"; its findings point into res, so keep
 * res until the report is printed). o may be NULL (defaults). The link's
 * line settings are put back as they were, and DTR/RTS, when the modem
 * lines were tested, to the levels last set through the link (l->lines:
 * deasserted if never set).
 * Returns SD_OK when the loop is good at every pass (r->ok = 1), SD_ERR_PROTO
 * when not (the findings say why), SD_ERR_ARG for bad options, SD_ERR_NOMEM,
 * or the sd_err of a link that failed (a finding says so too). */
SD_API int sd_loopback_run(sd_link *l, const sd_loopback_opts *o,
			   sd_loopback_result *res, sd_report *r);

/* Compare what was sent with what came back, with resync: fills p's sent,
 * received, matched, corrupted, lost, extra, bit_errors and ber (the other
 * members are left alone). A mismatch is a corrupted byte when the bytes
 * after it line up again, else the smallest shift (up to 16 bytes lost or
 * added) after which they do; bytes that line up nowhere count as
 * corrupted. Any bytes are fine (this reads what the line returned);
 * time is linear in ntx + nrx. */
SD_API void sd_loopback_compare(const uint8_t *tx, size_t ntx, const uint8_t *rx,
				size_t nrx, sd_loopback_pass *p);

/* "good", "errors", "partial", "none", "foreign", "untested". */
SD_API const char *sd_loopback_status_name(sd_loopback_status s);

/* Parse a comma-separated list of rates ("9600,115200") into out (at most
 * cap). Returns the count, or SD_ERR_ARG with a one-line cause in why. */
SD_API int sd_loopback_parse_rates(const char *s, uint32_t *out, size_t cap,
				   char *why, size_t whylen);
/* Parse a comma-separated list of parities ("none,even,odd,mark,space";
 * n, e, o, m, s too) into out (sd_parity values, at most cap). */
SD_API int sd_loopback_parse_parities(const char *s, uint8_t *out, size_t cap,
				      char *why, size_t whylen);

#ifdef __cplusplus
}
#endif
#endif
