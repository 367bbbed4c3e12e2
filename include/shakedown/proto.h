/*
 * shakedown — the protocol table.
 *
 * Every protocol module is one row: its name, the line settings to try, a
 * safe (read-only) first frame, and a hook that reads unexpected bytes the
 * protocol's way. `probe` and `explain` only ever walk this table; adding a
 * protocol never touches the CLI or the core. Engines join the row as each
 * protocol module lands.
 */
#ifndef SHAKEDOWN_PROTO_H
#define SHAKEDOWN_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/line.h"
#include "shakedown/clock.h"
#include "shakedown/diag.h"
#include "shakedown/seq.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_link sd_link;

/* What the user asked of `shakedown sync|info PROTO TARGET`. */
typedef struct sd_proto_args {
	int          identify;   /* 0 = sync only, 1 = sync + read-only identify */
	uint32_t     baud;       /* 0 = the protocol's default (and its fallbacks) */
	const sd_seq *enter;     /* entry sequence, NULL = the protocol's default */
	const sd_seq *exit;      /* run after the session, NULL = none */
	int          no_reset;   /* do not touch DTR/RTS at all */
	const char  *part;       /* expected part/chip name, NULL = any */
	unsigned     retries;    /* fresh attempts after the first, 0 = default */
	sd_time      budget;     /* overall time, 0 = the protocol's default */
} sd_proto_args;

typedef struct sd_classify_in sd_classify_in;

/* Row flags. */
#define SD_PROTO_RESETS  0x01u /* its session resets the target into its loader
				* by itself (DTR/RTS), so probe runs it after the pokes */
#define SD_PROTO_NET     0x02u /* a network protocol: probe pokes it on network
				* ports (and only there) */

typedef struct sd_proto {
	const char   *name;         /* "stk500", "stm32", "mtk", "esp", "tls" */
	const char   *title;        /* "Arduino STK500v1 / optiboot" */
	sd_line_cfg   line;         /* first settings to try (baud 0: not a UART) */
	const uint8_t *poke;        /* the first frame of its handshake (read-only) */
	size_t        poke_len;
	const char   *expects;      /* what a live peer answers to poke, in words */
	/* The protocol's reading of bytes received (after `tx` was sent, if
	 * any): writes one line to out. Returns a 0..100 likelihood that these
	 * bytes come from this protocol's peer (0 = they mean nothing here). */
	int (*explain)(const uint8_t *rx, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen);
	/* sync / info over an open link: run the handshake (and, with
	 * a->identify, the read-only identification), fill r (ok, by, facts,
	 * findings) and return SD_OK or the sd_err that ended it. ctx is
	 * ctx_size bytes, zeroed, owned by the caller; r's evidence may point
	 * into it, so it must outlive r. NULL while the module has no client. */
	size_t        ctx_size;
	int (*session)(void *ctx, sd_link *l, const sd_proto_args *a, sd_report *r);
	/* The protocol's findings about a received stream (its boot logs, its
	 * alerts): adds to d, returns SD_CLAIM_* flags. NULL = none. The
	 * diagnosis layer calls it before the core's protocol-free classifier,
	 * which it tells what the protocols claimed. */
	unsigned (*diagnose)(const sd_classify_in *in, sd_diag *d);
	/* probe's poke order, low first: a poke that cannot upset another
	 * protocol's loader goes first (the STM32 loader takes 0x7F only as
	 * the first byte after reset; optiboot dies on any bad frame but is
	 * reset before its own attempt). */
	unsigned      poke_order;
	unsigned      flags;        /* SD_PROTO_* */
	/* A first frame built at run time (a TLS ClientHello), used instead of
	 * poke: writes at most cap bytes, returns the length (0 = none). */
	size_t (*poke_build)(uint8_t *buf, size_t cap);
	/* With SD_PROTO_RESETS: the entry sequence probe gives the session (an
	 * --enter string, seq.h), for the wiring most boards of this kind
	 * have; NULL = the session's own default reset. */
	const char   *probe_enter;
	/* Set when another command serves this protocol instead of sync, info
	 * and probe: "shakedown tls HOST[:PORT]". NULL for the rest. */
	const char   *own_command;
} sd_proto;

SD_API size_t sd_proto_count(void);
SD_API const sd_proto *sd_proto_at(size_t i);
SD_API const sd_proto *sd_proto_find(const char *name);

/* What a command asks of a row; each command that takes a protocol name
 * offers and accepts exactly the rows that serve its use. */
typedef enum sd_proto_use {
	SD_PROTO_USE_SESSION = 1, /* sync, info: a client (row.session) */
	SD_PROTO_USE_POKE,        /* probe --expect: a read-only first frame on a line (row.poke, row.line.baud) */
	SD_PROTO_USE_EXPLAIN      /* explain --expect: a reading of bytes (row.explain) */
} sd_proto_use;

/* 1 when row p serves `use`. Otherwise 0 and, when why is not NULL, one
 * phrase that says why not and what to use instead, to follow the name:
 * "has its own command: shakedown tls HOST[:PORT]", "has no sync/info
 * client yet (shakedown explain --expect esp reads its bytes)". p NULL or
 * an unknown use: 0. @since 0.1 */
SD_API int sd_proto_serves(const sd_proto *p, sd_proto_use use, char *why, size_t whylen);

/* The row called `name`, if it serves `use`: SD_OK and *out. An unknown
 * name: SD_ERR_NOTFOUND, and why names the rows that serve ("unknown
 * protocol 'x' (stk500, stm32, mtk)"). A row that does not serve:
 * SD_ERR_UNSUPPORTED, *out still set, and why is "NAME " + the phrase of
 * sd_proto_serves. why is always NUL-terminated (whylen > 0). @since 0.1 */
SD_API int sd_proto_find_for(const char *name, sd_proto_use use, const sd_proto **out,
			     char *why, size_t whylen);

/* The names of the rows that serve `use`, joined by ", " into out
 * (always NUL-terminated; cut, never overrun). Returns how many rows serve. */
SD_API size_t sd_proto_names_for(sd_proto_use use, char *out, size_t outlen);

#ifdef __cplusplus
}
#endif
#endif
