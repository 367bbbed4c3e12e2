/*
 * shakedown — target URIs and key=value options, parsed without allocation.
 *
 *   /dev/ttyUSB0             scheme "" (a path), path "/dev/ttyUSB0"
 *   serial:/dev/ttyACM0?baud=115200&parity=even
 *   tcp://host:port          scheme "tcp", host, port
 *   sim:stm32?mode=app&noise=1e-4&seed=7
 *   null:
 * Query values are percent-decoded ('+' stays '+'). Every field is bounded;
 * anything longer is an error, never a silent cut. A key given twice
 * ("text=a&text=b") is an error, and so is "serial:" without a path.
 */
#ifndef SHAKEDOWN_URI_H
#define SHAKEDOWN_URI_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_URI_MAXQ   16
#define SD_URI_KEYLEN 32
#define SD_URI_VALLEN 256
#define SD_URI_PATHLEN 256

typedef struct sd_kv {
	char key[SD_URI_KEYLEN];
	char val[SD_URI_VALLEN];
} sd_kv;

typedef struct sd_uri {
	char   scheme[16];              /* "" for a bare path */
	char   path[SD_URI_PATHLEN];    /* device path, or PROTO for sim: */
	char   host[256];               /* tcp:// */
	char   port[8];
	sd_kv  q[SD_URI_MAXQ];
	size_t nq;
} sd_uri;

/* Returns SD_OK, or SD_ERR_ARG with a one-line reason in why. */
SD_API int sd_uri_parse(const char *s, sd_uri *u, char *why, size_t whylen);
/* Value of key, or NULL. */
SD_API const char *sd_kv_get(const sd_kv *kv, size_t n, const char *key);
/* Parse "k=v&k=v" into kv (at most max); returns the count or SD_ERR_ARG. */
SD_API int sd_kv_parse(const char *s, sd_kv *kv, size_t max, char *why, size_t whylen);

/* Strict number parsing for options: the whole string must be a number in
 * range. Return SD_OK or SD_ERR_ARG. */
SD_API int sd_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
SD_API int sd_parse_double(const char *s, double min, double max, double *out);
/* "20ms", "1.5s", "300us", "250" (ms) into µs. */
SD_API int sd_parse_duration(const char *s, int64_t *us);

#ifdef __cplusplus
}
#endif
#endif
