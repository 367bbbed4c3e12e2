/*
 * shakedown CLI — shared between main.c and the cmd_<name>.c files.
 * The CLI is the only place that prints and the only place (with links)
 * that allocates.
 */
#ifndef SHAKEDOWN_CLI_H
#define SHAKEDOWN_CLI_H

#include <stdio.h>
#include "shakedown/shakedown.h"

/* Exit codes (ARCHITECTURE.md; the man page documents them) */
#define SD_EXIT_OK       0 /* handshake ok / healthy */
#define SD_EXIT_FAIL     1 /* handshake failed: diagnosis printed */
#define SD_EXIT_USAGE    2 /* bad argument */
#define SD_EXIT_OPEN     3 /* cannot open target / host error */
#define SD_EXIT_INTERNAL 4 /* our bug */

/* Global options, parsed by main.c wherever they appear on the line. */
typedef struct sd_cli {
	int         json;        /* --json */
	const char *trace;       /* --trace FILE (NULL = none) */
	double      timeout_s;   /* --timeout SECONDS; 0 = the command's default */
	int         verbose;     /* -v, repeatable */
	int         color;       /* stdout is a terminal and NO_COLOR is unset */
	const char *cmd;         /* the command's name */
	FILE       *out, *err;
} sd_cli;

typedef struct sd_cmd {
	const char *name;
	const char *summary;     /* one line, for `shakedown --help` */
	const char *usage;       /* the whole `shakedown NAME --help` text */
	/* argv[0] is the command name; global options are already removed;
	 * `--help` never reaches here (main prints usage). Returns an exit code. */
	int (*run)(sd_cli *cli, int argc, char **argv);
} sd_cmd;

/* The command table (main.c) */
extern const sd_cmd sd_commands[];
extern const size_t sd_ncommands;

/* "shakedown CMD: <message>" + a hint line, on stderr; returns SD_EXIT_USAGE. */
int cli_usage_error(sd_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "shakedown CMD: <message>" on stderr; returns `code`. */
int cli_error(sd_cli *cli, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Map an open/link error to an exit code (3 for open failures, 1 otherwise). */
int cli_exit_for_err(int err);

/* ---- output.c ---------------------------------------------------------- */
/* Print a report as text (colour when cli->color) or JSON (cli->json; extra
 * as for sd_report_json). Returns SD_EXIT_OK if r->ok, else SD_EXIT_FAIL. */
int cli_print_report(sd_cli *cli, const sd_report *r, void *extra);
/* A target that cannot be opened: one line on stderr (and, with --json, a
 * report whose finding names the cause); returns 2 for a bad target, else 3. */
int cli_open_failed(sd_cli *cli, const char *target, int err, const char *why, sd_time t0);
/* A hex+ASCII dump of bytes, 16 a line, each line prefixed with `indent`. */
void cli_hexdump(FILE *f, const uint8_t *b, size_t n, const char *indent);
/* Terminal escaping of text that came from outside (arguments, target
 * names, files, device bytes): control bytes, ESC, DEL, C1 controls and
 * bytes that are not valid UTF-8 become \xNN; printable ASCII and valid
 * UTF-8 text stay as they are. The backslash is left alone, so escaping
 * twice changes nothing. */
/* Into dst (cap bytes, always terminated; cut at a whole escape when full);
 * returns the length written. */
size_t cli_esc_buf(char *dst, size_t cap, const char *s, size_t n);
/* For printf arguments: one of 8 rotating static buffers (up to 1023 bytes
 * of output); NULL gives "". */
const char *cli_esc(const char *s);
/* Escaped n bytes of s straight to f, any length. */
void cli_fput_esc(FILE *f, const char *s, size_t n);
/* JSON text (cJSON's, which escapes only C0 controls) to f with DEL and C1
 * controls as \u escapes and bytes that are not UTF-8 as \ufffd: still the
 * same JSON, and safe on a terminal. */
void cli_put_json(FILE *f, const char *json);
/* ANSI colour helpers: return "" when colour is off. */
const char *cli_c(const sd_cli *cli, const char *code); /* "1", "31", "32", "33", "2" ... */
const char *cli_c0(const sd_cli *cli);

/* ---- protos.c: protocol names as each command takes them -------------- */
/* A usage text with its placeholders filled from the tables:
 * {protos:session} {protos:poke} {protos:explain} (sd_proto_names_for)
 * and {sims} (the simulated device kinds). */
void cli_usage_print(FILE *f, const char *usage);
/* `--list`: the rows that serve `use` with their titles, then the others
 * with why not (text, or a JSON array with --json). Returns an exit code. */
int cli_proto_list(sd_cli *cli, sd_proto_use use);
/* The row called name for `use`, into *out; 0, or after a one-line cause
 * (prefixed by `what`, e.g. "--expect", when not NULL) SD_EXIT_USAGE. */
int cli_proto_pick(sd_cli *cli, const char *name, sd_proto_use use, const char *what,
		   const sd_proto **out);

/* ---- trace.c: --trace FILE ---------------------------------------------- */
typedef struct cli_trace {
	FILE          *f;
	sd_transcript  t;
	uint8_t       *arena;
	size_t         cap;
	char          *line;     /* formatting buffer */
	size_t         linecap;
	int            failed;   /* a write to the file failed */
} cli_trace;

/* Start a transcript on `clock` with an arena of `cap` bytes (0: none,
 * for a caller that reads nothing back), and a line buffer only if
 * cli->trace is set: then every record is also written to that file as JSON
 * lines (header first). Returns 0, or an exit code after printing why. */
int cli_trace_open(sd_cli *cli, cli_trace *tr, const sd_clock *clock,
		   const char *target, size_t cap);
/* The run record (right after the header) and the outcome record (last:
 * call after sd_link_close, before cli_trace_close). */
void cli_trace_run(cli_trace *tr, const sd_trace_run *run);
void cli_trace_outcome(cli_trace *tr, const sd_report *r);
/* Flush and close; returns 0, or SD_EXIT_OPEN if the file could not be
 * written completely. */
int cli_trace_close(sd_cli *cli, cli_trace *tr);

#endif
