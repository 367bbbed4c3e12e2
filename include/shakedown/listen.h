/*
 * shakedown — the listen engine: the first, protocol-free step of a probe.
 *
 * It listens for a window and keeps what arrives; then, if given a poke (the
 * first frame of a protocol's read-only handshake), sends it once and
 * listens for the answer. It never retries and never sends anything else,
 * so it is safe on any target. What it heard goes to the classifier.
 */
#ifndef SHAKEDOWN_LISTEN_H
#define SHAKEDOWN_LISTEN_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sd_listen {
	sd_engine      eng;
	uint8_t       *buf;         /* everything received (caller's buffer) */
	size_t         cap, len;
	size_t         lost;        /* bytes that did not fit in buf */
	size_t         enough;      /* stop listening early once this many arrived */
	sd_time        window;      /* how long to listen first */
	sd_time        quiet;       /* after the poke: stop once quiet this long */
	const uint8_t *poke;
	size_t         poke_len;
	sd_time        answer;      /* how long to wait for an answer to the poke */
	size_t         before_poke; /* buf[0..before_poke) arrived before the poke */
	int            poked;       /* the poke was sent */
	sd_time        started, first_rx, last_rx; /* clock times; -1 = never */
	/* internal */
	int            phase;
	sd_deadline    phase_end;
	uint8_t        scratch[64]; /* reads once buf is full: counted, not kept */
} sd_listen;

/* window: listen time before the poke; poke may be NULL (listen only);
 * answer: how long to wait for the poke's answer. */
SD_API void sd_listen_init(sd_listen *L, uint8_t *buf, size_t cap, sd_time window,
			   const uint8_t *poke, size_t poke_len, sd_time answer);

#ifdef __cplusplus
}
#endif
#endif
