/*
 * libFuzzer target: every protocol module's reading of unexpected bytes
 * (the explain hooks of the protocol table: stk500, stm32, mtk, esp, tls),
 * with and without what was sent first. The hook is the only parser of
 * src/proto/esp.c, so this is the ESP module's fuzz target.
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
	size_t split = data[0] % 8u;
	data++;
	size--;
	if (split > size)
		split = size;
	for (size_t i = 0; i < sd_proto_count(); i++) {
		const sd_proto *p = sd_proto_at(i);
		char out[200];
		if (!p->explain)
			continue;
		int likely = p->explain(data + split, size - split, split ? data : NULL, split,
					out, sizeof out);
		if (likely < 0 || likely > 100 || strnlen(out, sizeof out) == sizeof out)
			__builtin_trap();
		if (p->poke) /* as probe calls it: after the protocol's own poke */
			p->explain(data, size, p->poke, p->poke_len, out, sizeof out);
	}
	return 0;
}
