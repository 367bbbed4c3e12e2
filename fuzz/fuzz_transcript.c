/*
 * libFuzzer target: the transcript reader (`shakedown replay FILE`): every
 * line of the input through sd_trace_parse; whatever parses must format
 * again without error, and the formatted line must be a fixed point
 * (format(parse(l)) == l for every l we write; run and outcome records too).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[65536];
	static char line[SD_TRACE_LINE_MAX(65536)], again[SD_TRACE_LINE_MAX(65536)];
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sd_trec r;
		char target[256], why[160];
		if (sd_trace_parse(p, len, &r, payload, sizeof payload, target, sizeof target,
				   why, sizeof why) == 1) {
			int n = sd_trace_format(&r, line, sizeof line);
			if (n < 0)
				__builtin_trap();
			if (sd_trace_parse(line, (size_t)n, &r, payload, sizeof payload, target,
					   sizeof target, why, sizeof why) != 1 ||
			    sd_trace_format(&r, again, sizeof again) != n || memcmp(line, again, (size_t)n) != 0)
				__builtin_trap();
		}
		p += len + (nl ? 1 : 0);
	}
	return 0;
}
