/*
 * libFuzzer target: the TLS policy rules (shakedown tls --expect RULES or
 * @FILE), text a user or a repository wrote. The input is copied into a
 * NUL-terminated buffer, as the command line hands it over; then the policy,
 * if it parses, is judged against an empty enumeration and no certificate.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[SD_TLS_POLICY_TEXT_MAX + 64];
	size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, n);
	text[n] = '\0';
	sd_tls_policy p;
	char why[300];
	int r = sd_tls_policy_parse(text, &p, why, sizeof why);
	if (r != SD_OK && r != SD_ERR_ARG)
		__builtin_trap();
	if (r == SD_OK && (p.nrules == 0 || p.nrules > 10 || p.cert_days > 36500))
		__builtin_trap();
	if (r == SD_OK) {
		static sd_tls_enum e;
		sd_tls_enum_cfg ec = { .versions = 0x1f };
		sd_tls_enum_init(&e, &ec);
		sd_tls_policy_result res;
		size_t dev = sd_tls_policy_check(&p, &e, NULL, &res);
		if (dev != res.n + res.more || res.n > SD_TLS_POLICY_DEV_MAX)
			__builtin_trap();
		sd_report rep;
		sd_report_init(&rep, "tls", "fuzz");
		sd_tls_policy_report(&res, &rep);
	}
	return 0;
}
