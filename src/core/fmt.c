/* shakedown — bounded string formatting used across the library. */
#include <stdio.h>
#include "internal.h"

void sdi_vfmt(char *buf, size_t len, const char *fmt, va_list ap)
{
	if (!buf || len == 0)
		return;
	int n = vsnprintf(buf, len, fmt, ap);
	if (n < 0)
		buf[0] = '\0';
}

void sdi_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(buf, len, fmt, ap);
	va_end(ap);
}

void sdi_append(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || len == 0)
		return;
	size_t used = strnlen(buf, len);
	if (used >= len - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(buf + used, len - used, fmt, ap);
	va_end(ap);
}

const char *sd_version(void)
{
	return SD_VERSION_STRING;
}
