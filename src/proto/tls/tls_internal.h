/* TLS prober internals shared by the files of src/proto/tls/. */
#ifndef SD_TLS_INTERNAL_H
#define SD_TLS_INTERNAL_H
#include "shakedown/tls.h"
#include "../tls_wire.h"

extern const sd_tls_suite sdi_tls_suites[];
extern const size_t sdi_tls_nsuites;

/* The groups we know, in the order we offer them (IANA TLS Supported Groups). */
typedef struct sdi_tls_group {
	uint16_t    id;
	const char *name;
	uint16_t    share_len; /* key_share length; 0 = we cannot build one */
	uint8_t     tls13;     /* usable in TLS 1.3 */
	uint8_t     ec12;      /* an ECDHE curve for TLS <= 1.2 */
} sdi_tls_group;

extern const sdi_tls_group sdi_tls_groups[];
extern const size_t sdi_tls_ngroups;
const sdi_tls_group *sdi_tls_group_find(uint16_t id);
/* A TLS 1.3-only suite (RFC 8446 B.4, RFC 8998). */
int sdi_tls_suite_is13(uint16_t id);
/* An ECDHE key exchange (for the TLS <= 1.2 group pass). */
int sdi_tls_suite_is_ecdhe(uint16_t id);

#endif
