/*
 * Fuzz target: arbitrary server bytes into the TLS record / ServerHello /
 * Certificate / ServerKeyExchange parser, whole and as a stream arriving in
 * pieces, with scratch buffers of every size, and on into the enumerator.
 * The input's length picks the scratch size and the piece length, so the
 * seeds are plain captures of what real servers sent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"

/* The enumerator's next few hellos, each answered with the input. */
static void answer_probes(sd_tls_enum *e, int n, const uint8_t *data, size_t size, uint8_t *hs, size_t hscap)
{
	static sd_tls_probe p;
	for (int i = 0; i < n && sd_tls_enum_next(e); i++) {
		uint8_t hello[SD_TLS_HELLO_MAX];
		if (sd_tls_hello_build(&e->hello, hello, sizeof hello) <= 0)
			abort();
		memset(&p, 0, sizeof p);
		sd_tls_parse(data, size, e->want_flight, hs, hscap, &p.srv);
		p.closed = !p.srv.complete;
		sd_tls_enum_feed(e, &p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t hs[SD_TLS_RX_CAP];
	static sd_tls_enum e;
	size_t hscap = 1 + size * 97u % sizeof hs;
	size_t step = 1 + size % 61u;

	sd_tls_server s;
	for (int flight = 0; flight < 2; flight++) {
		sd_tls_parse(data, size, flight, hs, sizeof hs, &s);
		if (s.used > size || s.answer < SD_TLS_MORE || s.answer > SD_TLS_MALFORMED)
			abort();
		sd_tls_parse(data, size, flight, hs, hscap, &s);
		if (s.used > size)
			abort();
	}
	/* as a stream: each prefix once decided stays decided the same way */
	int decided = -1;
	for (size_t n = 0; n <= size; n += step) {
		sd_tls_parse(data, n, 1, hs, sizeof hs, &s);
		if (s.complete && decided < 0)
			decided = s.answer;
	}
	/* and as the answer to each of the enumerator's first probes */
	sd_tls_enum_cfg cfg = { .sni = "fuzz.example" };
	sd_tls_enum_init(&e, &cfg);
	answer_probes(&e, 8, data, size, hs, hscap);
	/* and to the side enumerators a parallel scan splits a version's
	 * search into (order, groups, parts of the suites), merged back: sets
	 * without duplicates, within their bounds */
	static sd_tls_enum side;
	for (int job = SD_TLS_JOB_SUITES; job <= SD_TLS_JOB_GROUPS; job++) {
		const sd_tls_vresult *known = sd_tls_enum_result(&e, size % 2 ? SD_TLS_TLS12 : SD_TLS_TLS13);
		sd_tls_vresult into = *known;
		sd_tls_enum_cfg c = cfg;
		c.parts = c.gparts = 2;
		c.part = c.gpart = (unsigned)(size % 3 == 0);
		sd_tls_enum_init_job(&side, &c, known, job);
		answer_probes(&side, 4, data, size, hs, hscap);
		sd_tls_enum_merge(&into, &side);
		if (into.nsuites > SD_TLS_MAX_ACCEPT || into.ngroups > SD_TLS_MAX_GROUPS || into.order < 0 ||
		    into.order > SD_TLS_ORDER_CLIENT)
			abort();
		for (size_t i = 0; i < into.nsuites; i++)
			for (size_t j = i + 1; j < into.nsuites; j++)
				if (into.suites[i] == into.suites[j])
					abort();
		for (size_t i = 0; i < into.ngroups; i++)
			for (size_t j = i + 1; j < into.ngroups; j++)
				if (into.groups[i] == into.groups[j])
					abort();
	}
	return 0;
}
