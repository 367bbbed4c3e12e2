/*
 * shakedown — sd_probe_many: the probe pipeline over many targets at once
 * (probe --targets). Each job owns its link, probe and report; results
 * reach the caller's callback one at a time, in the order they finish.
 */
#include <stdlib.h>
#include "internal.h"

typedef struct many {
	const sd_target          *t;
	const sd_probe_many_opts *o;
} many;

static sd_cause open_cause(int err)
{
	switch (err) {
	case SD_ERR_ACCESS:
		return SD_CAUSE_PERMISSION;
	case SD_ERR_BUSY:
		return SD_CAUSE_PORT_BUSY;
	case SD_ERR_CLOSED:
		return SD_CAUSE_DISCONNECTED;
	case SD_ERR_PROTO:
	case SD_ERR_NACK:
		return SD_CAUSE_WRONG_PROTOCOL;
	default:
		return SD_CAUSE_NO_DEVICE;
	}
}

/* The device node behind a target, for the host checks of a silent port. */
static const char *node_of(const char *target, char *buf, size_t len)
{
	const char *s = target;
	if (strncmp(s, "serial:", 7) == 0)
		s += 7;
	if (s[0] != '/')
		return NULL;
	size_t n = strcspn(s, "?");
	if (n >= len)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

static void one(void *ctx, size_t i)
{
	many *m = ctx;
	const sd_target *t = &m->t[i];
	const sd_clock *clk = sd_clock_real();
	sd_time t0 = sd_now(clk);
	sd_report *r = malloc(sizeof *r);
	sd_probe *p = sd_probe_new();
	int err;
	if (!r || !p) {
		err = SD_ERR_NOMEM;
		if (r)
			sd_report_init(r, "probe", t->uri);
		goto done;
	}
	sd_report_init(r, "probe", t->uri);
	sd_probe_opts po = m->o->probe;
	char node[256];
	po.port_path = node_of(t->uri, node, sizeof node);
	sd_link_opts lo = { .clock = NULL, .cfg = SD_LINE_CFG_8N1(po.baud), .open_by = SD_FOREVER };
	sd_link *l = NULL;
	char why[256] = "";
	err = sd_link_open(t->uri, &lo, &l, why, sizeof why);
	if (err < 0) {
		sd_finding *f = sd_diag_add(&r->diag, err == SD_ERR_ARG ? SD_CAUSE_UNKNOWN : open_cause(err), 1.0f);
		if (f)
			sd_finding_summary(f, "cannot open %s: %s", t->uri, why[0] ? why : sd_strerror(err));
	} else {
		err = sd_probe_run(p, l, &po, r);
		sd_link_close(l);
	}
done:
	if (r) {
		r->elapsed_ms = (sd_now(clk) - t0) / 1000;
		sd_diag_sort(&r->diag);
	}
	if (m->o->done && r) {
		sdi_pool_lock();
		m->o->done(m->o->ctx, t, i, err, r);
		sdi_pool_unlock();
	}
	free(r);
	sd_probe_free(p);
}

int sd_probe_many(const sd_target *t, size_t n, const sd_probe_many_opts *o)
{
	if ((n && !t) || !o)
		return SD_ERR_ARG;
	unsigned jobs = o->jobs ? o->jobs : 8;
	if (jobs > SD_PROBE_JOBS_MAX)
		return SD_ERR_ARG;
	if (o->probe.expect && !sd_proto_find(o->probe.expect))
		return SD_ERR_ARG;
	many m = { .t = t, .o = o };
	return sdi_pool_run(jobs, n, one, &m);
}
