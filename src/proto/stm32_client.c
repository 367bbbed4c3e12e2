/*
 * shakedown — the compact STM32 loader client (client.h): the 0x7F sync and
 * the read-only Get and Get ID (AN3155 sections 2, 3.1, 3.3), in a few
 * hundred bytes, for a microcontroller as much as the host. Same wire facts
 * and timeouts as the host session (stm32_wire.h); none of its evidence
 * buffers or sentences. The chip must already be in its loader (BOOT0 high
 * through a reset): the entry wiring is the board's, not the protocol's.
 *
 *   CFG    8E1 at cfg.baud (when asked): the loader's frame (AN3155 sec. 2)
 *   INIT   0x7F, then ACK 0x79 through any junk; NACK 0x1F means a loader
 *          that had its 0x7F already (synced by an earlier run): in sync.
 *          At most two 0x7F, each waiting STM32_T_INIT_ACK
 *   CMD    Get (00 FF: ACK N version cmds[N] ACK) then Get ID (02 FD: ACK
 *          01 pid_hi pid_lo ACK), each asked until `agree` answers in a
 *          row are equal; a malformed answer is drained (the line quiet for
 *          STM32_T_QUIET) and the command asked again, so replies stay paired
 */
#include "internal.h"
#include "stm32_wire.h"

#define INIT_TRIES 2u
#define CMD_READS  8u  /* answers to one command at most */

enum { C_CFG, C_INIT_SEND, C_INIT_WAIT, C_CLOSE_SEND, C_CLOSE_WAIT, C_CMD_SEND, C_CMD_WAIT, C_DRAIN };
enum { IT_GET, IT_GET_ID, IT_END };

static const uint8_t init_byte[] = { STM32_INIT };
static const uint8_t close_byte[] = { STM32_INIT ^ 0xffu };

static int is_text(uint8_t b)
{
	return (b >= 0x20 && b < 0x7f) || b == '\t' || b == '\r' || b == '\n';
}

static void fail(sd_stm32_client *c, int err, uint8_t cause)
{
	c->cause = cause;
	sd_engine_fail(&c->eng, err);
}

static void fail_nosync(sd_stm32_client *c)
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

static void go(sd_stm32_client *c, uint8_t st)
{
	sd_engine *e = &c->eng;
	sd_time now = sd_now(e->clock);
	sd_ctrl k;
	c->st = st;
	switch (st) {
	case C_CFG:
		if (!c->cfg.baud) {
			go(c, C_INIT_SEND);
			return;
		}
		memset(&k, 0, sizeof k);
		k.op = SD_CTRL_CFG;
		k.cfg = (sd_line_cfg){ c->cfg.baud, 8, SD_PARITY_EVEN, 1, SD_FLOW_NONE };
		sd_engine_ctrl(e, &k);
		return;
	case C_INIT_SEND:
		if (!c->tries++)
			c->t0 = now;
		sd_engine_send(e, init_byte, 1, now + STM32_T_INIT_ACK);
		return;
	case C_CLOSE_SEND: /* 0x80, then (silence) 0x7F: see on_bytes */
		sd_engine_send(e, c->tries++ == INIT_TRIES ? close_byte : init_byte, 1, now + c->wait);
		return;
	case C_CMD_SEND:
		c->tx[0] = c->item == IT_GET ? STM32_CMD_GET : STM32_CMD_GET_ID;
		c->tx[1] = (uint8_t)(c->tx[0] ^ 0xffu);
		c->n = 0;
		c->want = 2; /* ACK and N; then N is known */
		sd_engine_send(e, c->tx, 2, now + c->wait);
		return;
	case C_DRAIN:
		memset(&k, 0, sizeof k);
		k.op = SD_CTRL_DRAIN;
		/* quiet for STM32_T_QUIET; after a timeout for the whole wait,
		 * so a late answer is not read as the next one's */
		k.duration = c->timed_out ? c->wait : STM32_T_QUIET;
		k.until = now + STM32_T_DRAIN_MAX + k.duration;
		c->timed_out = 0;
		sd_engine_ctrl(e, &k);
		return;
	default:
		return;
	}
}

static void again(sd_stm32_client *c)
{
	if (++c->reads >= CMD_READS)
		fail(c, SD_ERR_PROTO, SD_CAUSE_NOISE);
	else
		go(c, C_DRAIN);
}

/* A whole, well-framed answer: confirm it or ask again. */
static void reading(sd_stm32_client *c)
{
	c->reads++;
	if (c->same && memcmp(c->cur, c->ans + 2, 2) == 0) {
		c->same++;
	} else {
		memcpy(c->cur, c->ans + 2, 2);
		c->same = 1;
	}
	if (c->same < c->cfg.agree) {
		if (c->reads >= CMD_READS)
			fail(c, SD_ERR_PROTO, SD_CAUSE_NOISE);
		else
			go(c, C_CMD_SEND);
		return;
	}
	if (c->item == IT_GET) {
		c->version = c->cur[0];
		c->have |= SD_STM32_HAVE_VERSION;
	} else {
		c->pid = (uint16_t)((unsigned)c->cur[0] << 8 | c->cur[1]);
		c->have |= SD_STM32_HAVE_PID;
	}
	c->item++;
	c->reads = 0;
	c->same = 0;
	if (c->item == IT_END || !c->cfg.identify) {
		c->cause = SD_CAUSE_OK;
		sd_engine_done(&c->eng);
		return;
	}
	go(c, C_CMD_SEND);
}

static void on_bytes(sd_stm32_client *c, size_t n)
{
	sd_engine *e = &c->eng;
	if (c->st == C_INIT_WAIT) {
		for (size_t i = 0; i < n; i++) {
			uint8_t b = c->rx[i];
			if (b == STM32_ACK || b == STM32_NACK) {
				/* bytes after it: none expected; the drain drops them.
				 * The round trip, from the first 0x7F (the answer may
				 * be the first's, late), sets every later wait */
				sd_time rtt = sd_now(e->clock) - c->t0;
				c->wait = rtt * 2 < STM32_T_ACK ? STM32_T_ACK :
					  rtt * 2 > STM32_RTT_MAX * 2 ? STM32_RTT_MAX * 2 : rtt * 2;
				c->have |= SD_STM32_HAVE_SYNC;
				/* provisional, for a run its overall deadline ends */
				c->cause = SD_CAUSE_STOPPED_ANSWERING;
				if (!c->cfg.identify) {
					c->cause = SD_CAUSE_OK;
					sd_engine_done(e);
					return;
				}
				/* After a second 0x7F, a loader that answered the
				 * first holds the second as an opcode and would take
				 * our next opcode as its complement: close the pair
				 * with 0x80 (it NACKs 7F 80). One that synced on the
				 * second holds 0x80 as an opcode and stays silent:
				 * 0x7F, its complement, makes it NACK. Either way it
				 * is back at its prompt (the host session's
				 * close_pair, src/proto/stm32.c). */
				go(c, c->tries > 1 ? C_CLOSE_SEND : C_DRAIN);
				return;
			}
			if (c->rx_bytes >= 0x8000u) /* a ratio is all the counts are for */
				continue;
			c->rx_bytes++;
			c->text_bytes += is_text(b);
			c->echo_bytes += b == STM32_INIT;
			c->eol |= b == '\r' || b == '\n';
		}
		return; /* still waiting, same deadline */
	}
	if (c->st == C_CLOSE_WAIT) { /* any answer: the pair is closed */
		c->timed_out = 1; /* drain the full wait: the NACK may have company */
		go(c, C_DRAIN);
		return;
	}
	/* C_CMD_WAIT: ACK, N, then N+1 value bytes and the closing ACK */
	for (size_t i = 0; i < n; i++) {
		uint8_t b = c->rx[i];
		if (c->n >= c->want) { /* bytes after the answer: not paired */
			again(c);
			return;
		}
		if (c->n < sizeof c->ans)
			c->ans[c->n] = b;
		c->n++;
		if (c->n == 1 && b != STM32_ACK) {
			again(c);
			return;
		}
		if (c->n == 2) {
			/* Get ID has N = 1 (two PID bytes); Get lists at most
			 * STM32_GET_MAX commands */
			if ((c->item == IT_GET_ID && b != 1) || b >= STM32_GET_MAX) {
				again(c);
				return;
			}
			c->want = (uint8_t)(b + 4u);
		}
		if (c->n == c->want && b != STM32_ACK) {
			again(c);
			return;
		}
	}
	if (c->n == c->want) {
		reading(c);
		return;
	}
	e->deadline = sd_now(e->clock) + c->wait; /* the next byte */
}

static void stm32_client_step(sd_engine *e, const sd_event *ev)
{
	sd_stm32_client *c = (sd_stm32_client *)(void *)e;
	switch (ev->type) {
	case SD_EV_START:
		go(c, C_CFG);
		return;
	case SD_EV_LINK_ERROR:
		fail(c, ev->err, ev->err == SD_ERR_CLOSED ? SD_CAUSE_DISCONNECTED : SD_CAUSE_UNKNOWN);
		return;
	case SD_EV_CTRL_DONE:
		if (c->st == C_CFG)
			go(c, C_INIT_SEND);
		else
			go(c, C_CMD_SEND); /* after a drain */
		return;
	case SD_EV_SENT:
		if (ev->n < e->tx_len) {
			e->tx += ev->n;
			e->tx_len -= ev->n;
			return;
		}
		c->st = (uint8_t)(c->st + 1); /* C_*_SEND -> C_*_WAIT */
		sd_engine_recv(e, c->rx, sizeof c->rx, e->deadline);
		return;
	case SD_EV_RECEIVED:
		on_bytes(c, ev->n);
		return;
	case SD_EV_TIMEOUT:
		if (c->st == C_INIT_SEND || c->st == C_INIT_WAIT) {
			if (c->tries < INIT_TRIES)
				go(c, C_INIT_SEND);
			else
				fail_nosync(c);
			return;
		}
		if (c->st == C_CLOSE_SEND || c->st == C_CLOSE_WAIT) {
			if (c->tries <= INIT_TRIES + 1)
				go(c, C_CLOSE_SEND); /* 0x80 met silence: 0x7F */
			else
				fail(c, SD_ERR_TIMEOUT, SD_CAUSE_STOPPED_ANSWERING);
			return;
		}
		/* in sync, and an answer stopped short or never came: drain
		 * for the whole wait before asking again */
		if (++c->reads >= CMD_READS) {
			fail(c, SD_ERR_TIMEOUT, SD_CAUSE_STOPPED_ANSWERING);
			return;
		}
		c->timed_out = 1;
		go(c, C_DRAIN);
		return;
	default:
		return;
	}
}

static const sd_engine_ops stm32_client_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stm32-client",
	.step = stm32_client_step,
};

void sd_stm32_client_init(sd_stm32_client *c, const sd_stm32_cfg *cfg)
{
	memset(c, 0, sizeof *c);
	sd_engine_init(&c->eng, &stm32_client_ops);
	if (cfg)
		c->cfg = *cfg;
	else
		c->cfg.identify = 1;
	if (!c->cfg.agree)
		c->cfg.agree = 2;
	c->cause = SD_CAUSE_UNKNOWN;
	c->wait = STM32_T_ACK;
}
