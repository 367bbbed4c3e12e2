/*
 * libFuzzer target: the transcript reader (`shakedown replay FILE`): every
 * line of the input through sd_trace_parse; whatever parses must format
 * again without error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[65536];
	static char line[SD_TRACE_LINE_MAX(65536)];
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sd_trec r;
		char target[256], why[160];
		if (sd_trace_parse(p, len, &r, payload, sizeof payload, target, sizeof target,
				   why, sizeof why) == 1) {
			if (sd_trace_format(&r, line, sizeof line) < 0)
				__builtin_trap();
		}
		p += len + (nl ? 1 : 0);
	}
	return 0;
}
