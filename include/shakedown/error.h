/*
 * shakedown — error classes.
 *
 * Every API call that can fail returns an int: 0 (SD_OK) on success, a
 * positive byte count where a count makes sense, or one of the negative
 * classes below. The classes say *what* failed; *why* a handshake failed is
 * the richer sd_finding record of diag.h.
 *
 * Names and sentences come from one table (src/core/error.c); docs/errors.md
 * is generated from it.
 */
#ifndef SHAKEDOWN_ERROR_H
#define SHAKEDOWN_ERROR_H

#include "shakedown/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_err {
	SD_OK              =   0,
	SD_ERR_ARG         =  -1, /* caller bug: bad argument */
	SD_ERR_IO          =  -2, /* OS call failed; errno kept in the link */
	SD_ERR_TIMEOUT     =  -3, /* deadline passed */
	SD_ERR_CLOSED      =  -4, /* device disconnected: EOF, HUP, EIO, ENODEV */
	SD_ERR_ACCESS      =  -5, /* permission denied */
	SD_ERR_BUSY        =  -6, /* resource held by someone else */
	SD_ERR_NOMEM       =  -7, /* out of memory or buffer too small */
	SD_ERR_UNSUPPORTED =  -8, /* the link or build cannot do this */
	SD_ERR_PROTO       =  -9, /* the peer's bytes do not fit the protocol */
	SD_ERR_NACK        = -10, /* the peer understood and refused */
	SD_ERR_STATE       = -11, /* call not valid in this state */
	SD_ERR_NOTFOUND    = -12, /* no such device, host or file */
	SD_ERR_OVERFLOW    = -13  /* a bounded budget (garbage, length) ran out */
} sd_err;

/* How many classes there are, SD_OK included. */
#define SD_ERR_COUNT 14

/* "SD_ERR_TIMEOUT"; "SD_ERR_UNKNOWN" for a value outside the set. Never NULL. */
SD_API const char *sd_errname(int err);
/* One sentence, lower case, no final period ("deadline passed"). Never NULL. */
SD_API const char *sd_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
