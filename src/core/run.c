/*
 * shakedown — the driver loop: moves bytes between a sans-I/O engine and a
 * link within deadlines (BearSSL's run_until, plus time).
 */
#include "internal.h"

void sd_engine_init(sd_engine *e, const sd_engine_ops *ops)
{
	memset(e, 0, sizeof *e);
	e->ops = ops;
	e->deadline = SD_FOREVER;
}

void sd_engine_step(sd_engine *e, const sd_event *ev)
{
	e->ops->step(e, ev);
}

void sd_engine_send(sd_engine *e, const uint8_t *buf, size_t len, sd_deadline dl)
{
	e->tx = buf;
	e->tx_len = len;
	e->deadline = dl;
	e->state = SD_ENG_SEND;
}

void sd_engine_recv(sd_engine *e, uint8_t *buf, size_t cap, sd_deadline dl)
{
	e->rx = buf;
	e->rx_cap = cap;
	e->deadline = dl;
	e->state = SD_ENG_RECV;
}

void sd_engine_ctrl(sd_engine *e, const sd_ctrl *c)
{
	e->ctrl = *c;
	e->state = SD_ENG_CTRL;
}

void sd_engine_done(sd_engine *e)
{
	e->err = SD_OK;
	e->state = SD_ENG_DONE;
}

void sd_engine_fail(sd_engine *e, int err)
{
	e->err = err < 0 ? err : SD_ERR_PROTO;
	e->state = SD_ENG_FAILED;
}

static int apply_ctrl(sd_link *l, const sd_ctrl *c, sd_deadline overall, size_t *n)
{
	int r;
	*n = 0;
	switch (c->op) {
	case SD_CTRL_LINES:
		return sd_link_set_lines(l, c->mask, c->level);
	case SD_CTRL_CFG:
		return sd_link_set_cfg(l, &c->cfg);
	case SD_CTRL_FLUSH:
		return sd_link_flush(l, c->dirs);
	case SD_CTRL_BREAK:
		return sd_link_break(l, c->duration);
	case SD_CTRL_WAIT:
		sd_link_sleep_until(l, sd_deadline_min(c->until, overall));
		return SD_OK;
	case SD_CTRL_DRAIN:
		r = sd_link_drain(l, c->duration, sd_deadline_min(c->until, overall));
		if (r < 0)
			return r;
		*n = (size_t)r;
		return SD_OK;
	case SD_CTRL_NOTE:
#ifndef SD_FREESTANDING
		if (l->tap && c->note)
			sd_transcript_note(l->tap, c->note);
#endif
		return SD_OK;
	default:
		return SD_ERR_ARG;
	}
}

/* An engine that asks only for control operations this many times in a row
 * without moving a byte is broken; stop it rather than spin. */
#define RUN_MAX_IDLE_STEPS 100000u

int sd_run(sd_engine *e, sd_link *l, sd_deadline overall)
{
	if (!e || !l || !e->ops || !e->ops->step)
		return SD_ERR_ARG;
	e->clock = l->clock;
	e->link_caps = l->caps;
	sd_event ev = { .type = SD_EV_START };
	e->ops->step(e, &ev);

	uint32_t idle = 0; /* unsigned may be 16 bits (AVR) */
	for (;;) {
		unsigned st = e->state;
		if (st & SD_ENG_DONE)
			return SD_OK;
		if (st & SD_ENG_FAILED)
			return e->err ? e->err : SD_ERR_PROTO;
		if (sd_deadline_passed(l->clock, overall)) {
			sd_engine_fail(e, SD_ERR_TIMEOUT);
			return SD_ERR_TIMEOUT;
		}
		memset(&ev, 0, sizeof ev);
		if (st & SD_ENG_CTRL) {
			if (++idle > RUN_MAX_IDLE_STEPS) {
				sd_engine_fail(e, SD_ERR_STATE);
				return SD_ERR_STATE;
			}
			ev.type = SD_EV_CTRL_DONE;
			ev.err = apply_ctrl(l, &e->ctrl, overall, &ev.n);
			if (ev.err == SD_ERR_CLOSED || ev.err == SD_ERR_IO)
				ev.type = SD_EV_LINK_ERROR;
		} else if (st & SD_ENG_SEND) {
			idle = 0;
			int n = sd_link_write(l, e->tx, e->tx_len,
					      sd_deadline_min(e->deadline, overall));
			if (n > 0) {
				ev.type = SD_EV_SENT;
				ev.n = (size_t)n;
			} else if (n == SD_ERR_TIMEOUT && overall < e->deadline) {
				break; /* the run's limit, not the engine's */
			} else {
				ev.type = n == SD_ERR_TIMEOUT ? SD_EV_TIMEOUT : SD_EV_LINK_ERROR;
				ev.err = n;
			}
		} else if (st & SD_ENG_RECV) {
			idle = 0;
			int n = sd_link_read(l, e->rx, e->rx_cap,
					     sd_deadline_min(e->deadline, overall));
			if (n > 0) {
				ev.type = SD_EV_RECEIVED;
				ev.n = (size_t)n;
			} else if (n == SD_ERR_TIMEOUT && overall < e->deadline) {
				break; /* the run's limit, not the engine's */
			} else {
				ev.type = n == SD_ERR_TIMEOUT ? SD_EV_TIMEOUT : SD_EV_LINK_ERROR;
				ev.err = n;
			}
		} else {
			sd_engine_fail(e, SD_ERR_STATE);
			return SD_ERR_STATE;
		}
		e->ops->step(e, &ev);
	}
	/* The overall deadline cut an engine's own wait short: the run timed
	 * out, whatever the engine would have made of its timeout. */
	sd_engine_fail(e, SD_ERR_TIMEOUT);
	return SD_ERR_TIMEOUT;
}
