/*
 * libFuzzer target: target URIs, key=value options and the strict number
 * and duration parsers that read command-line arguments.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char why[256];
	sd_uri u;
	sd_uri_parse(s, &u, why, sizeof why);
	sd_kv kv[SD_URI_MAXQ];
	sd_kv_parse(s, kv, SD_URI_MAXQ, why, sizeof why);
	uint32_t v;
	sd_parse_u32(s, 0, UINT32_MAX, &v);
	double d;
	sd_parse_double(s, -1e9, 1e9, &d);
	int64_t us;
	sd_parse_duration(s, &us);
	free(s);
	return 0;
}
