/*
 * libFuzzer target: the loopback comparator (the bytes a line returned,
 * against what was sent) and the --rates / --parity list parsers.
 * Input: byte 0 splits the rest; tx = the first part, rx = the remainder;
 * the whole input, NUL-terminated, also goes to both list parsers.
 * Checks the comparator's books balance and its counts stay in bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t cut = (size_t)data[0] * (size - 1) / 255u;
	const uint8_t *tx = data + 1, *rx = data + 1 + cut;
	size_t ntx = cut, nrx = size - 1 - cut;
	sd_loopback_pass p;
	memset(&p, 0, sizeof p);
	sd_loopback_compare(tx, ntx, rx, nrx, &p);
	if (p.sent != ntx || p.received != nrx)
		__builtin_trap();
	/* every sent byte is matched, changed or lost; every received one
	 * matched, changed or extra */
	if (p.matched + p.corrupted + p.lost != ntx || p.matched + p.corrupted + p.extra != nrx)
		__builtin_trap();
	if (p.bit_errors > 8u * (uint64_t)p.corrupted || p.bit_errors < p.corrupted)
		__builtin_trap();
	if (p.ber < 0.0 || p.ber > 1.0)
		__builtin_trap();

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	uint32_t rates[8];
	uint8_t pars[5];
	char why[128];
	int n = sd_loopback_parse_rates(s, rates, 8, why, sizeof why);
	if (n > 8 || (n < 0 && n != SD_ERR_ARG))
		__builtin_trap();
	for (int i = 0; i < n; i++)
		if (rates[i] < 50 || rates[i] > 20000000)
			__builtin_trap();
	n = sd_loopback_parse_parities(s, pars, 5, why, sizeof why);
	if (n > 5 || (n < 0 && n != SD_ERR_ARG))
		__builtin_trap();
	for (int i = 0; i < n; i++)
		if (pars[i] > SD_PARITY_SPACE)
			__builtin_trap();
	free(s);
	return 0;
}
