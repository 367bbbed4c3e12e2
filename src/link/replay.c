/*
 * shakedown — replay: a recorded transcript served back to an engine, so a
 * trace can be run again without the device (`shakedown replay FILE`).
 *
 * The link walks the transcript's records in order with one cursor. What
 * the host did (tx, cfg, lines, flush, break) is compared with the next
 * record and consumed; what the device did (rx) is served to reads, each
 * chunk only once the host has done everything the recording had it do
 * before, and a recorded link error is returned to whichever call meets
 * it. Time is a fake clock that jumps to each chunk's recorded time; a read
 * with nothing to serve (the next record is the host's, or the trace ended)
 * times out at its deadline, the clock moving there.
 *
 * Bounds: one allocation at open, none per byte; every call consumes a
 * record, or returns at once (a timeout moves the clock to the deadline),
 * so a run over the link ends within the records of the trace plus the
 * engine's own deadlines. Nothing blocks.
 */
#include <stdlib.h>
#include "internal.h"

typedef struct replay_link {
	sd_link              base;   /* first: the wrappers hold this */
	sd_fake_clock        clock;
	const sd_transcript *t;
	size_t               cur;    /* arena offset of the record after rec */
	sd_trec              rec;    /* the record under the cursor, if have */
	int                  have;
	size_t               idx;    /* index of rec */
	size_t               loaded; /* records loaded so far */
	uint32_t             off;    /* bytes of rec already served or matched */
	sd_time              slack;
	sd_replay_stats      st;
} replay_link;

static replay_link *rl(sd_link *l)
{
	return (replay_link *)(void *)l;
}

static int is_meta(int kind)
{
	return kind == SD_TR_NOTE || kind == SD_TR_OPEN || kind == SD_TR_CLOSE ||
	       kind == SD_TR_RUN || kind == SD_TR_OUTCOME;
}

/* The next record that is I/O (not a note, open, close, run, outcome), or
 * NULL at the end of the trace. */
static const sd_trec *next_io(replay_link *r)
{
	for (;;) {
		if (!r->have) {
			if (!sd_transcript_next(r->t, &r->cur, &r->rec))
				return NULL;
			r->have = 1;
			r->off = 0;
			r->idx = r->loaded++;
		}
		if (!is_meta(r->rec.kind) && !((r->rec.kind == SD_TR_RX || r->rec.kind == SD_TR_TX) &&
					       r->rec.len == 0))
			return &r->rec;
		r->have = 0;
	}
}

static void consume(replay_link *r)
{
	r->have = 0;
	r->st.used = r->loaded;
}

/* The host did something the recording did not do here. */
static void diverge(replay_link *r)
{
	r->st.divergences++;
	if (r->st.first_divergence < 0)
		r->st.first_divergence = r->have ? (long)r->idx : (long)r->loaded;
}

static void jump(replay_link *r, sd_time t)
{
	sd_fake_clock_set(&r->clock, t);
}

/* A recorded link error under the cursor: the call that meets it fails
 * with it, at its time. Returns 0 when the next record is something else. */
static int recorded_error(replay_link *r)
{
	const sd_trec *x = next_io(r);
	if (!x || x->kind != SD_TR_ERROR)
		return 0;
	int err = -(int)x->a;
	if (err >= 0 || err <= -SD_ERR_COUNT)
		err = SD_ERR_IO;
	jump(r, x->t);
	consume(r);
	return sdi_link_fail(&r->base, err, "the recording ends the link here: %s", sd_strerror(err));
}

static int timeout_at(replay_link *r, sd_deadline dl)
{
	if (dl != SD_FOREVER)
		jump(r, dl);
	return SD_ERR_TIMEOUT;
}

static int rp_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	replay_link *r = rl(l);
	int e = recorded_error(r);
	if (e)
		return e;
	const sd_trec *x = next_io(r);
	if (!x || x->kind != SD_TR_RX)
		return timeout_at(r, dl);
	/* Not yet arrived by the reader's deadline: it times out, as the
	 * recorded run's would have (up to the slack of a real-time trace). */
	if (dl != SD_FOREVER && x->t > dl && x->t - dl > r->slack)
		return timeout_at(r, dl);
	jump(r, x->t);
	size_t n = SDI_MIN(len, (size_t)(x->len - r->off));
	memcpy(buf, x->data + r->off, n);
	r->off += (uint32_t)n;
	r->st.rx_bytes += n;
	if (r->off == x->len)
		consume(r);
	return (int)n;
}

static int rp_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	replay_link *r = rl(l);
	(void)dl;
	int e = recorded_error(r);
	if (e)
		return e;
	int differs = 0; /* one divergence per write, however many bytes */
	for (size_t i = 0; i < len; i++) {
		const sd_trec *x = next_io(r);
		if (!x || x->kind != SD_TR_TX) {
			/* more than the recording wrote here */
			r->st.tx_diff += len - i;
			if (!differs++)
				diverge(r);
			break;
		}
		if (x->data[r->off] != buf[i]) {
			r->st.tx_diff++;
			if (!differs++)
				diverge(r);
		}
		if (++r->off == x->len)
			consume(r);
	}
	r->st.tx_bytes += len;
	return (int)len;
}

/* A host action other than bytes: the next record must be the same kind
 * with the same value; otherwise it is a divergence, and a record of
 * another kind stays for whatever matches it. */
static int host_action(replay_link *r, int kind, int same_fn(const sd_trec *, const void *),
		       const void *arg)
{
	int e = recorded_error(r);
	if (e)
		return e;
	const sd_trec *x = next_io(r);
	if (!x || x->kind != kind) {
		diverge(r);
		return SD_OK;
	}
	if (!same_fn(x, arg))
		diverge(r);
	consume(r);
	return SD_OK;
}

static int same_cfg(const sd_trec *x, const void *arg)
{
	const sd_line_cfg *c = arg;
	return x->cfg.baud == c->baud && x->cfg.data_bits == c->data_bits &&
	       x->cfg.parity == c->parity && x->cfg.stop_bits == c->stop_bits &&
	       x->cfg.flow == c->flow;
}

static int same_a_b(const sd_trec *x, const void *arg)
{
	const uint32_t *ab = arg;
	return x->a == ab[0] && x->b == ab[1];
}

static int same_a(const sd_trec *x, const void *arg)
{
	return x->a == *(const uint32_t *)arg;
}

/* What the recorded link could not do fails here as it failed there (not
 * recorded: the wrappers record only what was done). The caps say which:
 * a tcp link has no settings and no flush, a pty slave no modem lines. */
static int rp_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	if (!(l->caps & SD_LINK_BAUD))
		return SD_ERR_UNSUPPORTED;
	return host_action(rl(l), SD_TR_CFG, same_cfg, cfg);
}

static int rp_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	/* the record holds the mask and the levels after the change */
	if (!(l->caps & SD_LINK_LINES))
		return SD_ERR_UNSUPPORTED;
	uint32_t ab[2] = { mask, (l->lines & ~mask) | (level & mask) };
	return host_action(rl(l), SD_TR_LINES, same_a_b, ab);
}

static int rp_get_lines(sd_link *l, unsigned *level)
{
	if (!(l->caps & SD_LINK_LINES))
		return SD_ERR_UNSUPPORTED;
	*level = l->lines;
	return SD_OK;
}

static int rp_flush(sd_link *l, unsigned dirs)
{
	uint32_t a = dirs;
	if (l->caps & SD_LINK_NET)
		return SD_ERR_UNSUPPORTED;
	return host_action(rl(l), SD_TR_FLUSH, same_a, &a);
}

static int rp_break(sd_link *l, sd_time d)
{
	if (!(l->caps & SD_LINK_BREAK))
		return SD_ERR_UNSUPPORTED;
	uint32_t a = (uint32_t)SDI_MIN(d, (sd_time)UINT32_MAX);
	return host_action(rl(l), SD_TR_BREAK, same_a, &a);
}

/* A reopen meets the recorded `reopen` (a divergence, and a port that
 * does not come back, where the recording has none); a failed one was
 * recorded with its error after it, which it returns again. */
static int rp_reopen(sd_link *l, sd_deadline dl)
{
	replay_link *r = rl(l);
	(void)dl;
	const sd_trec *x = next_io(r);
	if (!x || x->kind != SD_TR_REOPEN) {
		diverge(r);
		return sdi_link_fail(l, SD_ERR_NOTFOUND, "the recording does not open the port again here");
	}
	jump(r, x->t);
	consume(r);
	x = next_io(r);
	if (x && x->kind == SD_TR_ERROR)
		return recorded_error(r);
	return SD_OK;
}

static void rp_close(sd_link *l)
{
	free(rl(l));
}

static const sd_link_ops sd_link_replay_ops = {
	.version = SD_LINK_OPS_V2,
	.name = "replay",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES | SD_LINK_BREAK |
		SD_LINK_FRAMED | SD_LINK_NET | SD_LINK_VIRTUAL,
	.read = rp_read,
	.write = rp_write,
	.flush = rp_flush,
	.set_cfg = rp_set_cfg,
	.set_lines = rp_set_lines,
	.get_lines = rp_get_lines,
	.send_break = rp_break,
	.close = rp_close,
	.reopen = rp_reopen,
};

int sd_link_open_replay(const sd_transcript *t, const sd_replay_opts *o, sd_link **out)
{
	if (!out)
		return SD_ERR_ARG;
	*out = NULL;
	if (!t)
		return SD_ERR_ARG;
	replay_link *r = calloc(1, sizeof *r);
	if (!r)
		return SD_ERR_NOMEM;
	sd_fake_clock_init(&r->clock, 0);
	sd_link_init(&r->base, &sd_link_replay_ops, &r->clock.base);
	r->t = t;
	r->slack = o && o->slack > 0 ? o->slack : 0;
	r->st.first_divergence = -1;
	r->st.first_unread = -1;
	r->st.records = t->nrec;
	unsigned caps = o && o->caps ? o->caps : SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY |
						 SD_LINK_LINES | SD_LINK_BREAK;
	r->base.caps = (caps & sd_link_replay_ops.caps) | SD_LINK_VIRTUAL;
	if (o) {
		r->base.cfg = o->cfg;
		r->base.usb_vid = o->usb_vid;
		r->base.usb_pid = o->usb_pid;
	}
	*out = &r->base;
	return SD_OK;
}

int sd_link_replay_stats(const sd_link *l, sd_replay_stats *st)
{
	if (!l || !st || l->ops != &sd_link_replay_ops)
		return SD_ERR_ARG;
	const replay_link *r = (const replay_link *)(const void *)l;
	*st = r->st;
	/* What the run never reached: I/O records from the cursor on (one
	 * served or matched in part counts as unread). */
	st->unread = 0;
	st->first_unread = -1;
	size_t cur = r->cur, idx = r->loaded;
	sd_trec x;
	if (r->have && !is_meta(r->rec.kind)) {
		st->unread++;
		st->first_unread = (long)r->idx;
	}
	while (sd_transcript_next(r->t, &cur, &x)) {
		if (!is_meta(x.kind) && !((x.kind == SD_TR_RX || x.kind == SD_TR_TX) && x.len == 0)) {
			if (st->first_unread < 0)
				st->first_unread = (long)idx;
			st->unread++;
		}
		idx++;
	}
	return SD_OK;
}
