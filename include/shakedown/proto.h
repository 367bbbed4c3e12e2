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

#ifdef __cplusplus
extern "C" {
#endif

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
} sd_proto;

SD_API size_t sd_proto_count(void);
SD_API const sd_proto *sd_proto_at(size_t i);
SD_API const sd_proto *sd_proto_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif
