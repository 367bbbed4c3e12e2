/*
 * Fuzz target: the TLS 1.3 EncryptedExtensions reader (src/proto/tls/ee.c).
 * The input is, at once, a decrypted EncryptedExtensions message for the
 * parser, the server's bytes after our recorded ClientHello for the whole
 * reader (record walk, ServerHello, key schedule, AEAD open), and the same
 * bytes for sd_tls_parse reading on to the first encrypted record. The
 * seed is a real exchange with openssl s_server (tests/data).
 */
#include <stdint.h>
#include <stdlib.h>
#include "shakedown/shakedown.h"
#include "../tests/data/tls13_ee_vector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hs[SD_TLS_RX_CAP];
	uint16_t g[SD_TLS_MAX_GROUPS];
	size_t n = 99;
	int rc = sd_tls13_ee_groups(data, size, g, SD_TLS_MAX_GROUPS, &n);
	if (rc > 1 || n > SD_TLS_MAX_GROUPS || (rc != 1 && n != 0))
		abort();
	rc = sd_tls13_listed_groups(tls13_vec_hello, sizeof tls13_vec_hello, data, size, hs, sizeof hs,
				    g, SD_TLS_MAX_GROUPS, &n);
	if (rc > 1 || n > SD_TLS_MAX_GROUPS || (rc != 1 && n != 0))
		abort();
	sd_tls_server s;
	sd_tls_parse(data, size, SD_TLS_FLIGHT_EE, hs, sizeof hs, &s);
	if (s.used > size)
		abort();
	return 0;
}
