/*
 * shakedown — target URIs and key=value options, without allocation.
 * Every field has a fixed bound; input longer than a bound is an error with
 * a reason, never a silent cut.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include "internal.h"

static int fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(why, whylen, fmt, ap);
	va_end(ap);
	return SD_ERR_ARG;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Copy s[0..n) into dst (cap bytes), percent-decoding if asked. Rejects
 * control characters (after decoding too: "%00" is refused). */
static int copy_field(char *dst, size_t cap, const char *s, size_t n, int decode,
		      const char *what, char *why, size_t whylen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (decode && c == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1;
			int l = i + 2 < n ? hexval(s[i + 2]) : -1;
			if (h < 0 || l < 0)
				return fail(why, whylen, "bad %%-escape in %s", what);
			c = (unsigned char)(h * 16 + l);
			i += 2;
		}
		/* Raw control characters are refused everywhere; a decoded
		 * value may carry tab, CR and LF (text for a simulator). */
		int ws_ok = decode && s[i] != (char)c && (c == '\t' || c == '\r' || c == '\n');
		if ((c < 0x20 || c == 0x7f) && !ws_ok)
			return fail(why, whylen, "control character in %s", what);
		if (o + 1 >= cap)
			return fail(why, whylen, "%s is too long", what);
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return SD_OK;
}

int sd_kv_parse(const char *s, sd_kv *kv, size_t max, char *why, size_t whylen)
{
	size_t n = 0;
	if (!s || !kv)
		return SD_ERR_ARG;
	while (*s) {
		const char *end = strchr(s, '&');
		size_t len = end ? (size_t)(end - s) : strlen(s);
		if (len == 0) { /* tolerate "a=1&&b=2" and a trailing '&' */
			s += end ? 1 : 0;
			if (!end)
				break;
			continue;
		}
		if (n >= max)
			return fail(why, whylen, "too many options (at most %s)", "16");
		const char *eq = memchr(s, '=', len);
		size_t klen = eq ? (size_t)(eq - s) : len;
		if (klen == 0)
			return fail(why, whylen, "an option without a name%s", "");
		int r = copy_field(kv[n].key, sizeof kv[n].key, s, klen, 1, "an option name", why, whylen);
		if (r)
			return r;
		if (eq)
			r = copy_field(kv[n].val, sizeof kv[n].val, eq + 1, len - klen - 1, 1,
				       "an option value", why, whylen);
		else
			kv[n].val[0] = '\0';
		if (r)
			return r;
		/* A key given twice has no right reading (the first? the
		 * last?): refuse it rather than pick one silently. */
		for (size_t k = 0; k < n; k++)
			if (strcmp(kv[k].key, kv[n].key) == 0)
				return fail(why, whylen, "option '%s' is given twice", kv[n].key);
		n++;
		if (!end)
			break;
		s = end + 1;
	}
	return (int)n;
}

const char *sd_kv_get(const sd_kv *kv, size_t n, const char *key)
{
	for (size_t i = 0; kv && key && i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return kv[i].val;
	return NULL;
}

/* "host:port", "[v6]:port" */
static int parse_hostport(const char *s, size_t n, sd_uri *u, char *why, size_t whylen)
{
	const char *end = s + n, *host = s, *colon = NULL;
	size_t hlen;
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return fail(why, whylen, "missing ']' in %s", "the host");
		if (rb + 1 >= end || rb[1] != ':')
			return fail(why, whylen, "no port after the host (tcp://host:port)%s", "");
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		for (const char *p = s; p < end; p++)
			if (*p == ':')
				colon = p; /* the last one: the port follows it */
		if (!colon)
			return fail(why, whylen, "no port (tcp://host:port)%s", "");
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0)
		return fail(why, whylen, "no host (tcp://host:port)%s", "");
	int r = copy_field(u->host, sizeof u->host, host, hlen, 0, "the host", why, whylen);
	if (!r)
		r = copy_field(u->port, sizeof u->port, colon + 1, (size_t)(end - colon - 1), 0,
			       "the port", why, whylen);
	if (r)
		return r;
	if (sd_parse_u32(u->port, 1, 65535, NULL) != SD_OK)
		return fail(why, whylen, "bad port '%s' (1 to 65535)", u->port);
	return SD_OK;
}

int sd_uri_parse(const char *s, sd_uri *u, char *why, size_t whylen)
{
	if (!s || !u)
		return SD_ERR_ARG;
	memset(u, 0, sizeof *u);
	if (!s[0])
		return fail(why, whylen, "empty target%s", "");
	if (strlen(s) > 4096)
		return fail(why, whylen, "target is too long%s", "");

	/* A scheme is letters before ':'; "C:" style drive letters and bare
	 * paths have none. */
	size_t i = 0;
	while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
	       (i > 0 && s[i] >= '0' && s[i] <= '9'))
		i++;
	const char *rest = s;
	if (i >= 2 && s[i] == ':') {
		if (i >= sizeof u->scheme)
			return fail(why, whylen, "unknown target scheme%s", "");
		for (size_t k = 0; k < i; k++)
			u->scheme[k] = (char)(s[k] | 0x20);
		rest = s + i + 1;
	}

	const char *q = strchr(rest, '?');
	size_t mainlen = q ? (size_t)(q - rest) : strlen(rest);
	int r;
	if (strcmp(u->scheme, "tcp") == 0 || strcmp(u->scheme, "rfc2217") == 0) {
		if (strncmp(rest, "//", 2) != 0)
			return fail(why, whylen, "write %s://host:port", u->scheme);
		r = parse_hostport(rest + 2, mainlen - 2, u, why, whylen);
	} else {
		if (rest[0] == '/' && rest[1] == '/' && u->scheme[0]) {
			rest += 2; /* sim://stm32 reads as sim:stm32 */
			mainlen -= 2;
		}
		r = copy_field(u->path, sizeof u->path, rest, mainlen, 0, "the path", why, whylen);
		if (!r && !u->scheme[0] && !u->path[0])
			r = fail(why, whylen, "empty target%s", "");
		else if (!r && strcmp(u->scheme, "serial") == 0 && !u->path[0])
			r = fail(why, whylen, "serial: needs a device path (serial:/dev/ttyUSB0)%s", "");
	}
	if (r)
		return r;
	if (q) {
		int n = sd_kv_parse(q + 1, u->q, SD_URI_MAXQ, why, whylen);
		if (n < 0)
			return n;
		u->nq = (size_t)n;
	}
	return SD_OK;
}

int sd_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return SD_ERR_ARG;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return SD_ERR_ARG;
	if (out)
		*out = (uint32_t)v;
	return SD_OK;
}

int sd_parse_double(const char *s, double min, double max, double *out)
{
	if (!s || !*s || *s == ' ')
		return SD_ERR_ARG;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || v != v || isinf(v) || v < min || v > max)
		return SD_ERR_ARG;
	if (out)
		*out = v;
	return SD_OK;
}

int sd_parse_duration(const char *s, int64_t *us)
{
	if (!s || !*s)
		return SD_ERR_ARG;
	char num[32];
	size_t n = 0;
	while (s[n] && ((s[n] >= '0' && s[n] <= '9') || s[n] == '.'))
		n++;
	if (n == 0 || n >= sizeof num)
		return SD_ERR_ARG;
	memcpy(num, s, n);
	num[n] = '\0';
	double v;
	if (sd_parse_double(num, 0, 1e12, &v) != SD_OK)
		return SD_ERR_ARG;
	const char *unit = s + n;
	double scale;
	if (!*unit || strcmp(unit, "ms") == 0)
		scale = 1e3;
	else if (strcmp(unit, "s") == 0)
		scale = 1e6;
	else if (strcmp(unit, "us") == 0)
		scale = 1;
	else
		return SD_ERR_ARG;
	v *= scale;
	if (v > 8.64e13) /* a day is plenty for any wait */
		return SD_ERR_ARG;
	if (us)
		*us = (int64_t)v;
	return SD_OK;
}
