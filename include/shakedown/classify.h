/*
 * shakedown — the protocol-free byte classifier: names what a stream of
 * received bytes most likely is, with ranked causes and the evidence that
 * would confirm each: silence, echo, application text, generic boot logs
 * (U-Boot, Linux), idle/break line, baud mismatch, plaintext banners on a
 * network port. It knows no protocol: the diagnosis layer
 * (shakedown/diagnose.h) asks the protocol modules first and passes what
 * they claimed in `claims`. Pure computation: no I/O, no allocation.
 */
#ifndef SHAKEDOWN_CLASSIFY_H
#define SHAKEDOWN_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What the protocols claimed of a stream (sd_proto's diagnose hook). */
#define SD_CLAIM_FRAMED  0x01u /* a protocol's frames: text and baud-rate
				* readings do not apply */
#define SD_CLAIM_BOOTLOG 0x02u /* a boot log: printable, but not an application */

typedef struct sd_classify_in {
	const uint8_t *rx;          /* what came back (may be NULL if rx_len 0) */
	size_t         rx_len;
	const uint8_t *tx;          /* what we sent, if anything */
	size_t         tx_len;
	const char    *expect;      /* protocol registry name we expected, or NULL */
	uint32_t       host_baud;   /* the host's rate; 0 = unknown or not a UART */
	unsigned       link_caps;   /* SD_LINK_* of the link (SD_LINK_NET: a TCP port) */
	int64_t        listen_ms;   /* how long we listened (for "silent for N ms") */
	unsigned       claims;      /* SD_CLAIM_* (proto.h) the protocols made of rx */
} sd_classify_in;

/* Add ranked findings about in to d (which the caller initialised). Returns
 * how many were added. Never fails; silence is a finding too. */
SD_API size_t sd_classify(const sd_classify_in *in, sd_diag *d);

typedef struct sd_baud_guess {
	uint32_t device_baud;       /* the rate the device probably sent at */
	uint32_t host_baud;         /* the rate the bytes were read at */
	uint8_t  sent[8];           /* a likely sent sequence that gives them */
	uint8_t  sent_len;
	float    score;             /* 0..1: share of received bytes explained */
} sd_baud_guess;

/* Which (device, host) rate pairs turn likely sent bytes (printable text,
 * 0x00/0xFF, protocol bytes) into rx. host_baud 0 = try every common rate.
 * Best first; returns the count (at most max). */
SD_API size_t sd_baud_guess_pairs(const uint8_t *rx, size_t n, uint32_t host_baud,
				  sd_baud_guess *out, size_t max);

#ifdef __cplusplus
}
#endif
#endif
