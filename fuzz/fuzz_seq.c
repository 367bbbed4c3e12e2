/*
 * libFuzzer target: entry/exit sequences (--enter, --exit), an argument
 * parser: bounded steps, no partial result on error.
 */
#include <stddef.h>
#include <stdint.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sd_seq s;
	char why[128];
	int r = sd_seq_parse((const char *)data, size, &s, why, sizeof why);
	if (r != SD_OK && s.n != 0)
		__builtin_trap(); /* a failed parse leaves nothing behind */
	if (s.n > SD_SEQ_MAX)
		__builtin_trap();
	(void)sd_seq_duration(&s);
	return 0;
}
