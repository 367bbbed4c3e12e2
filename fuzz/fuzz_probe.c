/*
 * Fuzz target for the probe pipeline (src/diag/probe.c and every protocol
 * session and hook it calls): arbitrary device bytes, in timed chunks
 * (fuzz/chunk_link.h), answer whatever probe sends. Byte 0 picks the link
 * kind (serial or network) and the options (--no-reset, --all, --expect).
 * Bounded by the probe's own budget on the fake clock; the report's
 * evidence must stay readable until sd_probe_free.
 */
#include <stdlib.h>
#include "chunk_link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const expect[] = { NULL, "stk500", "stm32", "mtk" };
	static chunk_link cl;
	static sd_report rep;
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	chunk_link_init(&cl, (ctl & 1) ? &chunk_net_ops : &chunk_serial_ops, data + 1, size - 1);
	sd_probe_opts o = { .no_reset = (ctl >> 1) & 1, .all = (ctl >> 2) & 1,
			    .expect = expect[(ctl >> 3) & 3] };
	sd_probe *p = sd_probe_new();
	if (!p)
		return 0;
	sd_report_init(&rep, "probe", "fuzz");
	int err = sd_probe_run(p, &cl.base, &o, &rep);
	if ((err == SD_OK) != (rep.ok != 0) && err != SD_ERR_CLOSED && err != SD_ERR_IO)
		abort(); /* the verdict and the return must agree */
	if (rep.diag.n == 0)
		abort(); /* every probe says something */
	touch_evidence(&rep);
	sd_probe_free(p);
	return 0;
}
