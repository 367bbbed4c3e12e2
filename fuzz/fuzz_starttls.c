/*
 * libFuzzer target: STARTTLS replies (SMTP, IMAP, POP3, FTP, PostgreSQL,
 * XMPP, LDAP, MySQL) as a server sends them. The first byte picks the
 * protocol and the step;
 * the rest is the server's bytes, fed whole and then grown a byte at a time
 * (as reads deliver them): a reply that completes never claims more bytes
 * than it was given, and a longer input never un-completes it.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int proto = 1 + data[0] % (SD_STARTTLS_COUNT - 1);
	int step = (data[0] >> 4) % 3;
	const uint8_t *b = data + 1;
	size_t n = size - 1;
	sd_starttls_reply r;
	int done_at = -1;
	for (size_t k = 0; k <= n && k <= 4096; k++) {
		int rc = sd_starttls_reply_parse(proto, step, b, k, &r);
		if (rc == 1) {
			if (r.used > k || r.used == 0 || strlen(r.line) >= sizeof r.line)
				__builtin_trap();
			if (done_at < 0)
				done_at = (int)k;
		} else if (done_at >= 0) {
			__builtin_trap(); /* more bytes un-completed a whole reply */
		} else if (rc < 0) {
			break;
		}
	}
	(void)sd_starttls_reply_parse(proto, step, b, n, &r);
	return 0;
}
