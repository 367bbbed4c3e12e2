/*
 * libFuzzer target: a trace run again (`shakedown replay FILE`): the lines
 * parsed as the CLI does, then sd_replay_run over the replay link, which
 * runs the recorded session on whatever the records say. A trace must never
 * hang (the replay link never blocks, every read has a deadline on its fake
 * clock) nor crash, and the result must be consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "shakedown/shakedown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(8) uint8_t arena[1 << 20];
	static uint8_t payload[65536];
	static sd_report rep;
	sd_fake_clock fc;
	sd_transcript t;
	sd_fake_clock_init(&fc, 0);
	sd_transcript_init(&t, &fc.base, arena, sizeof arena);
	const char *p = (const char *)data, *end = p + size;
	int header = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		sd_trec r;
		char target[256], why[160];
		int k = sd_trace_parse(p, len, &r, payload, sizeof payload, target, sizeof target,
				       why, sizeof why);
		if (k < 0)
			return 0; /* replay stops at the first malformed line */
		if (k == 0)
			header++;
		else if (header == 1)
			sd_transcript_add_at(&t, &r);
		p += len + (nl ? 1 : 0);
	}
	sd_replay *rp = sd_replay_new();
	if (!rp)
		return 0;
	sd_replay_result res;
	sd_report_init(&rep, "replay", "fuzz");
	if (sd_replay_run(rp, &t, &rep, &res) == SD_OK) {
		/* agreement on virtual time is exact; a real-time trace agrees
		 * on its verdict and may keep its machine's jitter */
		int exact = (res.run.caps & SD_LINK_VIRTUAL) != 0;
		if (res.agrees > 0 && (!res.rerun || (exact && (res.st.divergences || res.st.unread))))
			__builtin_trap();
		if (res.rerun && res.st.used > res.st.records)
			__builtin_trap();
	}
	sd_replay_free(rp);
	return 0;
}
