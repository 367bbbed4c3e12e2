/*
 * An Mbed TLS client with the library's defaults, for
 * tests/peers/tls_libclients.sh: mbedtls_ssl_config_defaults(client, stream,
 * MBEDTLS_SSL_PRESET_DEFAULT) and nothing else changed, except the host
 * name (mbedtls_ssl_set_hostname, which also sends SNI) when one is given
 * and verification against CAFILE when one is given. Prints "OK VERSION
 * SUITE" or "FAIL -0xCODE WORDS (verify FLAGS)"; exit 0 / 1, 3 when the
 * connection cannot be made. Built by the test with the system's libmbedtls.
 */
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: mbedtls_client HOST PORT NAME|- [CAFILE]\n");
		return 2;
	}
	mbedtls_net_context net;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_net_init(&net);
	mbedtls_ssl_init(&ssl);
	mbedtls_ssl_config_init(&conf);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_x509_crt_init(&ca);
	int rc = 3;
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
	    mbedtls_net_connect(&net, argv[1], argv[2], MBEDTLS_NET_PROTO_TCP) != 0 ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		goto out;
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
	if (argc > 4) {
		if (mbedtls_x509_crt_parse_file(&ca, argv[4]) != 0)
			goto out;
		mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	} else {
		mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
	}
	if (mbedtls_ssl_setup(&ssl, &conf) != 0)
		goto out;
	if (strcmp(argv[3], "-") != 0 && mbedtls_ssl_set_hostname(&ssl, argv[3]) != 0)
		goto out;
	mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
	int r;
	while ((r = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
		;
	if (r != 0) {
		char words[160];
		mbedtls_strerror(r, words, sizeof words);
		printf("FAIL -0x%04x %s (verify 0x%x)\n", (unsigned)-r, words, (unsigned)mbedtls_ssl_get_verify_result(&ssl));
		rc = 1;
	} else {
		printf("OK %s %s\n", mbedtls_ssl_get_version(&ssl), mbedtls_ssl_get_ciphersuite(&ssl));
		rc = 0;
	}
out:
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	mbedtls_x509_crt_free(&ca);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	mbedtls_net_free(&net);
	return rc;
}
