/*
 * A wolfSSL client with the library's defaults, for tests/peers/tls_libclients.sh:
 * a WOLFSSL_CTX from wolfSSLv23_client_method() and nothing else changed,
 * except SNI (wolfSSL_UseSNI) when a name is given and verification
 * against CAFILE when one is given. Prints "OK VERSION SUITE" or
 * "FAIL CODE WORDS"; exit 0 / 1, 3 when the connection cannot be made.
 * Built by the test with the system's libwolfssl (pkg-config wolfssl).
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: wolfssl_client HOST PORT SNI|- [CAFILE]\n");
		return 2;
	}
	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0)
		return 3;
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
		return 3;
	freeaddrinfo(ai);
	wolfSSL_Init();
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (!ctx)
		return 3;
	if (argc > 4) {
		if (wolfSSL_CTX_load_verify_locations(ctx, argv[4], NULL) != WOLFSSL_SUCCESS)
			return 3;
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	} else {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	}
	WOLFSSL *ssl = wolfSSL_new(ctx);
	if (!ssl)
		return 3;
	if (strcmp(argv[3], "-") != 0)
		wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, argv[3], (unsigned short)strlen(argv[3]));
	wolfSSL_set_fd(ssl, fd);
	int rc = 0;
	if (wolfSSL_connect(ssl) != WOLFSSL_SUCCESS) {
		char words[WOLFSSL_MAX_ERROR_SZ];
		int e = wolfSSL_get_error(ssl, 0);
		printf("FAIL %d %s\n", e, wolfSSL_ERR_error_string((unsigned long)e, words));
		rc = 1;
	} else {
		const char *curve = wolfSSL_get_curve_name(ssl);
		printf("OK %s %s %s\n", wolfSSL_get_version(ssl), wolfSSL_get_cipher_name(ssl), curve ? curve : "-");
	}
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(ctx);
	close(fd);
	wolfSSL_Cleanup();
	return rc;
}
