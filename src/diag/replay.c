/*
 * shakedown — replay: the recorded command run again over a replay link
 * (include/shakedown/replay.h), or, when it cannot run again, the bytes
 * received classified as `replay` always did.
 */
#include <stdlib.h>
#include "internal.h"

/* Bytes of each direction the classifier fallback reads. */
#define REPLAY_CLASSIFY_MAX (2u << 20)
/* A real-time trace's rx chunk still arrives this long after a read's
 * deadline (the recording stamped it when the read returned). */
#define REPLAY_SLACK SD_MS(20)

struct sd_replay {
	void    *ctx;     /* the session's context: the report's evidence */
	uint8_t *rx, *tx; /* the fallback's evidence */
	sd_probe *probe;  /* a re-run probe: its report's evidence */
	sd_seq   enter, exit;
};

sd_replay *sd_replay_new(void)
{
	return calloc(1, sizeof(sd_replay));
}

void sd_replay_free(sd_replay *rp)
{
	if (!rp)
		return;
	sd_probe_free(rp->probe);
	free(rp->ctx);
	free(rp->rx);
	free(rp->tx);
	free(rp);
}

/* The trace as `replay` read it before run records: what came back,
 * diagnosed (sd_diagnose_bytes), with what was sent and the last host rate. */
static int classify(sd_replay *rp, const sd_transcript *t, sd_report *r)
{
	size_t cur = 0;
	sd_trec x;
	uint32_t baud = 0;
	unsigned caps = 0;
	while (sd_transcript_next(t, &cur, &x)) {
		if (x.kind == SD_TR_CFG)
			baud = x.cfg.baud;
		else if (x.kind == SD_TR_OPEN && x.len >= 4 && memcmp(x.data, "tcp:", 4) == 0)
			caps |= SD_LINK_NET;
	}
	if (!rp->rx)
		rp->rx = malloc(REPLAY_CLASSIFY_MAX);
	if (!rp->tx)
		rp->tx = malloc(REPLAY_CLASSIFY_MAX);
	if (!rp->rx || !rp->tx)
		return SD_ERR_NOMEM;
	size_t nrx = sd_transcript_collect(t, SD_TR_RX, 0, rp->rx, REPLAY_CLASSIFY_MAX);
	size_t ntx = sd_transcript_collect(t, SD_TR_TX, 0, rp->tx, REPLAY_CLASSIFY_MAX);
	sd_classify_in ci = {
		.rx = rp->rx, .rx_len = nrx, .tx = ntx ? rp->tx : NULL, .tx_len = ntx,
		.host_baud = baud, .link_caps = caps,
	};
	sd_diagnose_bytes(&ci, &r->diag);
	r->ok = r->diag.n && r->diag.f[0].cause == SD_CAUSE_OK;
	return SD_OK;
}

/* The probe pipeline over the replay link, with the recorded options. */
static int replay_probe(sd_replay *rp, sd_link *l, const sd_trace_run *run, sd_report *r)
{
	/* no port_path: the host checks read this machine, not the recorded one */
	sd_probe_opts o = {
		.baud = run->baud, .listen = run->listen,
		.expect = run->expect[0] ? run->expect : NULL,
		.no_poke = run->no_poke, .no_reset = run->no_reset, .all = run->all,
		.budget = run->budget,
	};
	sd_probe *p = sd_probe_new();
	if (!p)
		return SD_ERR_NOMEM;
	rp->probe = p;
	return sd_probe_run(p, l, &o, r);
}

static int same_outcome(const sd_trace_outcome *a, const sd_trace_outcome *b)
{
	return !a->ok == !b->ok && strcmp(a->cause, b->cause) == 0 &&
	       strcmp(a->protocol, b->protocol) == 0 && strcmp(a->mode, b->mode) == 0 &&
	       strcmp(a->chip, b->chip) == 0;
}

static int fallback(sd_replay *rp, const sd_transcript *t, sd_report *r, sd_replay_result *res,
		    const char *why)
{
	sdi_fmt(res->why, sizeof res->why, "%s", why);
	res->rerun = 0;
	int e = classify(rp, t, r);
	sd_trace_outcome_of(r, &res->replayed);
	return e;
}

int sd_replay_run(sd_replay *rp, const sd_transcript *t, sd_report *r, sd_replay_result *res)
{
	if (!rp || !t || !r || !res)
		return SD_ERR_ARG;
	memset(res, 0, sizeof *res);
	res->agrees = -1;
	res->diverged_at = -1;

	size_t cur = 0;
	sd_trec x;
	while (sd_transcript_next(t, &cur, &x)) {
		if (x.kind == SD_TR_RUN && !res->have_run)
			res->have_run = sd_trec_get_run(&x, &res->run) == SD_OK;
		else if (x.kind == SD_TR_OUTCOME)
			res->have_outcome = sd_trec_get_outcome(&x, &res->recorded) == SD_OK;
	}
	const sd_trace_run *run = &res->run;
	if (!res->have_run)
		return fallback(rp, t, r, res, "no run record (a trace from before they were written): "
				"the bytes received are classified");
	if (t->dropped)
		return fallback(rp, t, r, res, "the trace did not fit in memory: the bytes received are classified");

	int session = strcmp(run->command, "sync") == 0 || strcmp(run->command, "info") == 0;
	int probe = strcmp(run->command, "probe") == 0;
	const sd_proto *p = session ? sd_proto_find(run->protocol) : NULL;
	char why[160];
	if (!session && !probe) {
		sdi_fmt(why, sizeof why, "a %s trace does not run again: the bytes received are classified",
			run->command);
		return fallback(rp, t, r, res, why);
	}
	if (session && (!p || !p->session)) {
		sdi_fmt(why, sizeof why, "no %s client in this build: the bytes received are classified",
			run->protocol);
		return fallback(rp, t, r, res, why);
	}
	sd_proto_args a = {
		.identify = run->identify, .baud = run->baud, .no_reset = run->no_reset,
		.part = run->part[0] ? run->part : NULL, .retries = run->retries, .budget = run->budget,
	};
	char sw[120];
	if (run->enter[0] && sd_seq_parse(run->enter, strlen(run->enter), &rp->enter, sw, sizeof sw) != SD_OK) {
		sdi_fmt(why, sizeof why, "the recorded entry sequence does not parse (%s)", sw);
		return fallback(rp, t, r, res, why);
	}
	if (run->exit[0] && sd_seq_parse(run->exit, strlen(run->exit), &rp->exit, sw, sizeof sw) != SD_OK) {
		sdi_fmt(why, sizeof why, "the recorded exit sequence does not parse (%s)", sw);
		return fallback(rp, t, r, res, why);
	}
	a.enter = run->enter[0] ? &rp->enter : NULL;
	a.exit = run->exit[0] ? &rp->exit : NULL;

	/* The link as the recorded run opened it: its capabilities, and the
	 * settings before the first cfg record (a sim: host port opens at
	 * 115200 8N1, a serial port at the protocol's). */
	sd_replay_opts o = { .caps = run->caps, .slack = (run->caps & SD_LINK_VIRTUAL) ? 0 : REPLAY_SLACK,
			     .usb_vid = (uint16_t)(run->usb_id >> 16), .usb_pid = (uint16_t)run->usb_id };
	if (strcmp(run->link, "sim") == 0)
		o.cfg = (sd_line_cfg)SD_LINE_CFG_8N1(115200);
	else if (p) {
		o.cfg = p->line;
		if (run->baud)
			o.cfg.baud = run->baud;
	} else /* probe opens at 8N1, its --baud or the port's */
		o.cfg = (sd_line_cfg)SD_LINE_CFG_8N1(run->baud ? run->baud : 115200);
	sd_link *l = NULL;
	int e = sd_link_open_replay(t, &o, &l);
	if (e)
		return e;
	if (session) {
		free(rp->ctx);
		rp->ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
		if (!rp->ctx) {
			sd_link_close(l);
			return SD_ERR_NOMEM;
		}
		res->err = p->session(rp->ctx, l, &a, r);
		/* as `sync`/`info` name what answered (cmd_sync.c) */
		if (!r->by.protocol[0] && r->ok)
			sdi_fmt(r->by.protocol, sizeof r->by.protocol, "%s", p->name);
	} else {
		res->err = replay_probe(rp, l, run, r);
	}
	sd_diag_sort(&r->diag);
	sd_link_replay_stats(l, &res->st);
	sd_link_close(l);
	res->rerun = 1;
	sd_trace_outcome_of(r, &res->replayed);
	res->diverged_at = res->st.first_divergence >= 0 ? res->st.first_divergence : res->st.first_unread;
	/* On virtual time a re-run is exact: every write and read must match.
	 * A real-time trace keeps the jitter of its machine (how many retries
	 * fit before a byte arrived), so there the verdict is what must agree;
	 * its divergences are still counted and reported. */
	int exact = (run->caps & SD_LINK_VIRTUAL) != 0;
	if (res->have_outcome)
		res->agrees = same_outcome(&res->recorded, &res->replayed) &&
			      (!exact || (res->st.divergences == 0 && res->st.unread == 0));
	return SD_OK;
}
