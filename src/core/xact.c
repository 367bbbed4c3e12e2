/*
 * One exchange (src/internal.h, sdi_xact): control steps, a frame, then the
 * bytes that come back fed to a parser until it is satisfied or a wait
 * ends. The sessions that are strings of small exchanges (STM32, ESP) are
 * built on it; it knows no protocol.
 */
#include "internal.h"

static void x_recv(sdi_xact *x, sd_deadline dl)
{
	sd_engine_recv(&x->eng, x->buf, sizeof x->buf, sd_deadline_min(dl, x->end));
}

static void x_finish(sdi_xact *x, int result)
{
	x->result = result;
	sd_engine_done(&x->eng);
}

static void x_next(sdi_xact *x)
{
	sd_engine *e = &x->eng;
	sd_time now = sd_now(e->clock);
	if (x->ci < x->nctrl) {
		sd_ctrl c = x->ctrl[x->ci++];
		if (c.op == SD_CTRL_WAIT || c.op == SD_CTRL_DRAIN)
			c.until = now + (c.op == SD_CTRL_WAIT ? c.duration : c.until);
		sd_engine_ctrl(e, &c);
		return;
	}
	if (x->txoff < x->txn) {
		sd_engine_send(e, x->tx + x->txoff, x->txn - x->txoff, now + SD_S(1));
		return;
	}
	if (!x->feed) {
		x_finish(x, SDI_XR_DONE);
		return;
	}
	x->end = now + x->cap;
	x_recv(x, now + x->wait);
}

static void x_step(sd_engine *e, const sd_event *ev)
{
	sdi_xact *x = (sdi_xact *)e;
	switch (ev->type) {
	case SD_EV_START:
		x_next(x);
		return;
	case SD_EV_CTRL_DONE:
		if (x->ci && x->ctrl[x->ci - 1].op == SD_CTRL_LINES && ev->err)
			x->lines_err = ev->err;
		x_next(x);
		return;
	case SD_EV_SENT:
		x->txoff += ev->n;
		if (x->txoff >= x->txn)
			x->t_sent = sd_now(e->clock);
		x_next(x);
		return;
	case SD_EV_RECEIVED: {
		if (!x->got_any)
			x->t_first = sd_now(e->clock);
		x->got_any = 1;
		int r = x->feed(x->arg, x->buf, ev->n);
		if (r > 0) {
			x->t_done = sd_now(e->clock);
			x_finish(x, SDI_XR_DONE);
		} else if (r < 0)
			x_finish(x, SDI_XR_BAD);
		else
			x_recv(x, sd_now(e->clock) + x->more);
		return;
	}
	case SD_EV_TIMEOUT:
		x_finish(x, SDI_XR_TIMEOUT);
		return;
	case SD_EV_LINK_ERROR:
	default:
		x->err = ev->err ? ev->err : SD_ERR_STATE;
		x->err_in_ctrl = (e->state & SD_ENG_CTRL) != 0;
		x_finish(x, SDI_XR_LINK);
		return;
	}
}

static const sd_engine_ops xact_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "xact",
	.step = x_step,
};

int sdi_xact_run(sdi_xact *x, sd_link *l, sd_deadline overall, const sd_ctrl *ctrl, size_t nctrl,
		 const uint8_t *tx, size_t txn, sdi_xact_feed feed, void *arg, sd_time wait, sd_time more,
		 sd_time cap)
{
	sd_engine_init(&x->eng, &xact_ops);
	x->nctrl = SDI_MIN(nctrl, (size_t)SDI_XACT_MAXCTRL);
	if (x->nctrl)
		memcpy(x->ctrl, ctrl, x->nctrl * sizeof *ctrl);
	x->ci = 0;
	x->tx = tx;
	x->txn = tx ? txn : 0;
	x->txoff = 0;
	x->feed = feed;
	x->arg = arg;
	x->wait = wait;
	x->more = more;
	x->cap = cap;
	x->end = SD_FOREVER;
	x->got_any = x->result = x->err = x->lines_err = x->err_in_ctrl = x->out_of_time = 0;
	x->t_sent = x->t_first = x->t_done = 0;
	int e = sd_run(&x->eng, l, overall);
	if (e == SD_ERR_TIMEOUT && !x->result) {
		x->out_of_time = 1; /* the whole budget ran out */
		return SDI_XR_TIMEOUT;
	}
	if (e < 0 && !x->result) {
		x->err = e;
		return SDI_XR_LINK;
	}
	return x->result;
}
