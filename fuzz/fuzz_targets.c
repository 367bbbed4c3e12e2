/*
 * libFuzzer target: targets files for probe --targets (lines, or labgrid
 * YAML through libyaml). Bounded: every target's URI is NUL-terminated
 * within its field, the count within SD_TARGETS_MAX, no partial result on
 * error.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_target *t = NULL;
	size_t n = 0;
	char why[160];
	int r = sd_targets_parse((const char *)data, size, &t, &n, why, sizeof why);
	if (r != SD_OK && (t || n))
		__builtin_trap();
	if (n > SD_TARGETS_MAX)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		if (!memchr(t[i].uri, '\0', sizeof t[i].uri) || !memchr(t[i].name, '\0', sizeof t[i].name))
			__builtin_trap();
		sd_uri u;
		(void)sd_uri_parse(t[i].uri, &u, why, sizeof why);
	}
	free(t);
	return 0;
}
