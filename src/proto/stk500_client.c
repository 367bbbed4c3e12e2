/*
 * shakedown — the compact STK500v1 client (client.h): sync and read-only
 * identify in a few hundred bytes, for a microcontroller as much as the
 * host. Same wire facts and timing as the host session (stk500_wire.h);
 * none of its evidence buffers or sentences.
 *
 * One explicit state machine (AVR061 and optiboot.c for the loader's side):
 *   CFG       line settings 8N1 at cfg.baud (when asked)
 *   RESET0..2 DTR/RTS deasserted STK_PULSE_HIGH, asserted STK_PULSE_LOW,
 *             released: the falling edge resets the target through its
 *             capacitor, as avrdude 8.x pulses it
 *   FIRST     STK_SYNC_FIRST before the first frame after a reset
 *   SYNC      GET_SYNC (30 20), each waiting STK_SYNC_GAP for 14 10
 *             through any junk (sd_expect), until STK_SYNC_SPAN has passed
 *   DRAIN     the answers to the frames still in flight are read and
 *             dropped until the line is quiet, so replies stay paired
 *   ID        GET_PARAMETER 81/82 (14 v 10) and READ_SIGN (14 s1 s2 s3 10),
 *             each asked until `agree` readings in a row are equal
 */
#include "internal.h"
#include "stk500_wire.h"

#define ID_READS  8u  /* readings of one field at most */
#define SYNC_MAX  40u /* GET_SYNC frames at most (the span ends them first) */

enum {
	C_CFG, C_RESET0, C_RESET_HIGH, C_RESET1, C_RESET_LOW, C_RESET2, C_FIRST,
	C_SYNC_SEND, C_SYNC_WAIT, C_DRAIN, C_ID_SEND, C_ID_WAIT, C_ID_DRAIN
};
enum { IT_MAJOR, IT_MINOR, IT_SIG, IT_END };

static const uint8_t sync_frame[] = { STK_GET_SYNC, STK_CRC_EOP };
static const uint8_t p_sync[] = { STK_RESP_INSYNC, STK_RESP_OK };
static const uint8_t p_val[] = { STK_RESP_INSYNC, 0, 0, 0, STK_RESP_OK };
static const uint8_t m_val1[] = { 0xff, 0x00, 0xff };
static const uint8_t m_val3[] = { 0xff, 0x00, 0x00, 0x00, 0xff };
static const uint8_t p_one[] = { STK_RESP_INSYNC, 0, STK_RESP_OK };
static const sd_pattern pat_sync = { p_sync, NULL, 2 };
static const sd_pattern pat_val1 = { p_one, m_val1, 3 };
static const sd_pattern pat_val3 = { p_val, m_val3, 5 };

/* The reply wait after `slow` timeouts: 100, 200, 400 ms. A drain as long
 * follows each timeout, so the loader hears a byte at most 800 ms apart
 * (its watchdog fires after 1 s without one: STK_BOOT_WINDOW). */
#define SLOW_MAX 2u
static sd_time reply_wait(const sd_stk500_client *c)
{
	return STK_REPLY_TIMEOUT << c->slow;
}

static int is_text(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n';
}

static void ctrl(sd_stk500_client *c, int op, unsigned level, sd_time until)
{
	sd_ctrl k;
	memset(&k, 0, sizeof k);
	k.op = op;
	k.mask = c->cfg.reset_mask;
	k.level = level;
	k.until = until;
	if (op == SD_CTRL_CFG)
		k.cfg = (sd_line_cfg){ c->cfg.baud, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE };
	if (op == SD_CTRL_DRAIN) /* quiet for a frame gap, or after a timeout the wait */
		k.duration = c->st == C_ID_DRAIN ? reply_wait(c) : STK_SYNC_GAP;
	sd_engine_ctrl(&c->eng, &k);
}

static void fail(sd_stk500_client *c, int err, uint8_t cause)
{
	c->cause = cause;
	sd_engine_fail(&c->eng, err);
}

/* Why no sync: nothing at all, only our own frames back (TX looped to
 * RX), mostly text in lines (an application), or bytes we cannot name here
 * (the host's probe names them: another loader, a wrong rate...). */
static void fail_nosync(sd_stk500_client *c)
{
	if (c->rx_bytes == 0)
		fail(c, SD_ERR_TIMEOUT, SD_CAUSE_SILENT);
	else if (c->echo_bytes == c->rx_bytes)
		fail(c, SD_ERR_PROTO, SD_CAUSE_ECHO);
	else if (c->eol && c->text_bytes >= c->rx_bytes - c->rx_bytes / 4u) /* 3/4 text */
		fail(c, SD_ERR_PROTO, SD_CAUSE_APP_RUNNING);
	else
		fail(c, SD_ERR_PROTO, SD_CAUSE_UNKNOWN);
}

static void go(sd_stk500_client *c, uint8_t st)
{
	sd_engine *e = &c->eng;
	sd_time now = sd_now(e->clock);
	c->st = st;
	switch (st) {
	case C_CFG:
		if (c->cfg.baud) {
			ctrl(c, SD_CTRL_CFG, 0, 0);
			return;
		}
		go(c, C_RESET0);
		return;
	case C_RESET0:
		if (!c->cfg.reset_mask) {
			go(c, C_SYNC_SEND);
			return;
		}
		ctrl(c, SD_CTRL_LINES, 0, 0);
		return;
	case C_RESET_HIGH:
		ctrl(c, SD_CTRL_WAIT, 0, now + STK_PULSE_HIGH);
		return;
	case C_RESET1:
		ctrl(c, SD_CTRL_LINES, c->cfg.reset_mask, 0);
		return;
	case C_RESET_LOW:
		ctrl(c, SD_CTRL_WAIT, 0, now + STK_PULSE_LOW);
		return;
	case C_RESET2:
		ctrl(c, SD_CTRL_LINES, 0, 0);
		return;
	case C_FIRST:
		c->t_end = 0; /* the span starts at the reset edge, set below */
		ctrl(c, SD_CTRL_WAIT, 0, now + STK_SYNC_FIRST);
		return;
	case C_SYNC_SEND:
		if (!c->t_end)
			c->t_end = now + STK_SYNC_SPAN;
		c->frames++;
		sd_engine_send(e, sync_frame, sizeof sync_frame, now + STK_SYNC_GAP);
		return;
	case C_DRAIN:
	case C_ID_DRAIN:
		ctrl(c, SD_CTRL_DRAIN, 0, now + STK_SYNC_SPAN + reply_wait(c));
		return;
	case C_ID_SEND:
		if (c->item == IT_SIG) {
			c->tx[0] = STK_READ_SIGN;
			c->tx[1] = STK_CRC_EOP;
			sd_expect_init(&c->x, &pat_val3, 1, 16, NULL, 0);
		} else {
			c->tx[0] = STK_GET_PARAMETER;
			c->tx[1] = c->item == IT_MAJOR ? STK_PARM_SW_MAJOR : STK_PARM_SW_MINOR;
			c->tx[2] = STK_CRC_EOP;
			sd_expect_init(&c->x, &pat_val1, 1, 16, NULL, 0);
		}
		sd_engine_send(e, c->tx, c->item == IT_SIG ? 2 : 3, now + reply_wait(c));
		return;
	default:
		return;
	}
}

/* A well-framed answer to the field being read: confirm it or ask again. */
static void reading(sd_stk500_client *c)
{
	uint8_t n = c->item == IT_SIG ? 3 : 1;
	c->reads++;
	if (c->same && memcmp(c->cur, c->x.tail + 1, n) == 0) {
		c->same++;
	} else {
		memcpy(c->cur, c->x.tail + 1, n);
		c->same = 1;
	}
	if (c->same < c->cfg.agree) {
		if (c->reads >= ID_READS) {
			fail(c, SD_ERR_PROTO, SD_CAUSE_NOISE);
			return;
		}
		go(c, C_ID_SEND);
		return;
	}
	if (c->item == IT_MAJOR) {
		c->major = c->cur[0];
	} else if (c->item == IT_MINOR) {
		c->minor = c->cur[0];
		c->have |= SD_STK500_HAVE_VERSION;
	} else {
		memcpy(c->sig, c->cur, 3);
		c->have |= SD_STK500_HAVE_SIG;
	}
	c->item++;
	c->reads = 0;
	c->same = 0;
	if (c->item == IT_END) {
		c->cause = SD_CAUSE_OK;
		sd_engine_done(&c->eng);
		return;
	}
	go(c, C_ID_SEND);
}

static void on_bytes(sd_stk500_client *c, size_t n)
{
	sd_engine *e = &c->eng;
	size_t used = 0;
	/* what came instead of an answer, counted for the cause (the counts
	 * stop at 32768 bytes: a ratio is all they are for) */
	for (size_t i = 0; i < n && c->rx_bytes < 0x8000u; i++) {
		uint8_t v = c->rx[i];
		c->rx_bytes++;
		c->text_bytes += is_text(v);
		c->echo_bytes += v == STK_GET_SYNC || v == STK_CRC_EOP;
		c->eol |= v == '\r' || v == '\n';
	}
	int r = sd_expect_feed(&c->x, c->rx, n, &used);
	if (c->st == C_SYNC_WAIT) {
		if (r == 1) {
			c->have |= SD_STK500_HAVE_SYNC;
			/* provisional, for a run its overall deadline ends */
			c->cause = SD_CAUSE_STOPPED_ANSWERING;
			go(c, C_DRAIN);
		} else if (r < 0) {
			sd_expect_init(&c->x, &pat_sync, 1, 64, NULL, 0);
		}
		/* else keep waiting for this frame's answer (same deadline) */
		if (r != 1)
			e->state = SD_ENG_RECV;
		return;
	}
	/* C_ID_WAIT: an answer with bytes after it, or junk, is not paired
	 * with our question: drain, then ask again */
	if (r == 1 && used == n) {
		reading(c);
	} else if (r != 0) {
		if (++c->reads >= ID_READS)
			fail(c, SD_ERR_PROTO, SD_CAUSE_NOISE);
		else
			go(c, C_ID_DRAIN);
	}
}

static void stk_client_step(sd_engine *e, const sd_event *ev)
{
	sd_stk500_client *c = (sd_stk500_client *)(void *)e;
	sd_time now;
	switch (ev->type) {
	case SD_EV_START:
		go(c, C_CFG);
		return;
	case SD_EV_LINK_ERROR:
		fail(c, ev->err, ev->err == SD_ERR_CLOSED ? SD_CAUSE_DISCONNECTED : SD_CAUSE_UNKNOWN);
		return;
	case SD_EV_CTRL_DONE:
		/* UNSUPPORTED (a link without lines or settings) goes on: the
		 * target may have been reset and set up otherwise */
		switch (c->st) {
		case C_CFG: go(c, C_RESET0); return;
		case C_RESET0: go(c, ev->err ? C_SYNC_SEND : C_RESET_HIGH); return;
		case C_RESET_HIGH: go(c, C_RESET1); return;
		case C_RESET1: go(c, C_RESET_LOW); return;
		case C_RESET_LOW: go(c, C_RESET2); return;
		case C_RESET2: go(c, C_FIRST); return;
		case C_FIRST:
			c->t_end = sd_now(e->clock) - STK_SYNC_FIRST + STK_SYNC_SPAN;
			go(c, C_SYNC_SEND);
			return;
		case C_DRAIN:
			if (!c->cfg.identify) {
				c->cause = SD_CAUSE_OK;
				sd_engine_done(e);
				return;
			}
			go(c, C_ID_SEND);
			return;
		case C_ID_DRAIN: go(c, C_ID_SEND); return;
		default: sd_engine_fail(e, SD_ERR_STATE); return;
		}
	case SD_EV_SENT:
		if (ev->n < e->tx_len) { /* the rest, by the same deadline */
			e->tx += ev->n;
			e->tx_len -= ev->n;
			return;
		}
		c->st = c->st == C_SYNC_SEND ? C_SYNC_WAIT : C_ID_WAIT;
		sd_engine_recv(e, c->rx, sizeof c->rx, e->deadline);
		return;
	case SD_EV_RECEIVED:
		on_bytes(c, ev->n);
		return;
	case SD_EV_TIMEOUT:
		now = sd_now(e->clock);
		if (c->st == C_SYNC_WAIT || c->st == C_SYNC_SEND) {
			if (now < c->t_end && c->frames < SYNC_MAX)
				go(c, C_SYNC_SEND);
			else
				fail_nosync(c);
			return;
		}
		/* in sync, and a question got no answer in time: a slow link
		 * or a device gone. Its answer may still come: wait longer, and
		 * drain until the line has been quiet that long before asking
		 * again, so no late answer is read as the next one's */
		if (++c->reads >= ID_READS) {
			fail(c, SD_ERR_TIMEOUT, SD_CAUSE_STOPPED_ANSWERING);
			return;
		}
		if (c->slow < SLOW_MAX)
			c->slow++;
		go(c, C_ID_DRAIN);
		return;
	default:
		return;
	}
}

static const sd_engine_ops stk_client_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stk500-client",
	.step = stk_client_step,
};

void sd_stk500_client_init(sd_stk500_client *c, const sd_stk500_cfg *cfg)
{
	memset(c, 0, sizeof *c);
	sd_engine_init(&c->eng, &stk_client_ops);
	if (cfg)
		c->cfg = *cfg;
	else
		c->cfg.identify = 1;
	if (!c->cfg.agree)
		c->cfg.agree = 3;
	c->cause = SD_CAUSE_UNKNOWN;
	sd_expect_init(&c->x, &pat_sync, 1, 64, NULL, 0);
}
