/*
 * shakedown — STM32 system bootloader (AN3155): the client engine and its reading of unexpected bytes.
 */
#include "internal.h"
#include "stm32_wire.h"

static const uint8_t stm32_poke[] = { STM32_INIT };

static int stm32_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			 char *out, size_t outlen)
{
	int after_init = sdi_sent_is(tx, tx_len, stm32_poke, 1);
	if (n == 0)
		return sdi_say(out, outlen, 0, "stm32: no answer (expected 79 ACK to 7F)");
	if (b[0] == STM32_ACK)
		return sdi_say(out, outlen, after_init ? 96 : 55, "stm32: 0x79 = ACK: the STM32 system bootloader is synchronised");
	if (n >= 2 && b[0] == 0x00 && b[1] == STM32_ACK)
		return sdi_say(out, outlen, after_init ? 92 : 50,
			   "stm32: 00 79 = ACK after a 0x00 reset glitch: the loader is synchronised");
	if (b[0] == STM32_NACK)
		return sdi_say(out, outlen, after_init ? 85 : 40,
			   "stm32: 0x1F = NACK: to 7F it means an earlier 7F already synchronised the loader");
	if (b[0] == STM32_BUSY)
		return sdi_say(out, outlen, 40, "stm32: 0x76 = BUSY (no-stretch commands)");
	return sdi_say(out, outlen, 0, "stm32: 0x%02x is not an STM32 bootloader reply (expected 79 ACK or 1F NACK to 7F)",
		   b[0]);
}


/* ====================================================================== *
 * The client: sync and read-only identification (AN3155), as small
 * sans-I/O exchanges driven by sd_run, strung together by the session.
 *
 * An exchange (xact) applies a few control steps (lines, pauses, settings,
 * a flush), writes a frame, then feeds what comes back to a parser until
 * the parser is satisfied, the first byte is late (`wait`), the next byte
 * is late (`more`) or a hard cap passes. It never sends anything else: a
 * retry is a new exchange decided by the session.
 * ====================================================================== */

enum { XR_DONE = 1, XR_TIMEOUT, XR_BAD, XR_LINK };

typedef int (*xact_feed)(void *arg, const uint8_t *b, size_t n); /* 1 done, 0 more, <0 bad */

#define XACT_MAXCTRL (SD_SEQ_MAX + 4)

typedef struct xact {
	sd_engine      eng;
	sd_ctrl        ctrl[XACT_MAXCTRL]; /* WAIT .duration and DRAIN .until are relative
					      here, made absolute when served */
	size_t         nctrl, ci;
	const uint8_t *tx;
	size_t         txn, txoff;
	xact_feed      feed;
	void          *arg;
	sd_time        wait, more, cap;
	sd_deadline    end;
	int            got_any, result, err, lines_err;
	uint8_t        buf[256];
} xact;

static void x_recv(xact *x, sd_deadline dl)
{
	sd_engine_recv(&x->eng, x->buf, sizeof x->buf, sd_deadline_min(dl, x->end));
}

static void x_finish(xact *x, int result)
{
	x->result = result;
	sd_engine_done(&x->eng);
}

static void x_next(xact *x)
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
		x_finish(x, XR_DONE);
		return;
	}
	x->end = now + x->cap;
	x_recv(x, now + x->wait);
}

static void x_step(sd_engine *e, const sd_event *ev)
{
	xact *x = (xact *)e;
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
		x_next(x);
		return;
	case SD_EV_RECEIVED: {
		x->got_any = 1;
		int r = x->feed(x->arg, x->buf, ev->n);
		if (r > 0)
			x_finish(x, XR_DONE);
		else if (r < 0)
			x_finish(x, XR_BAD);
		else
			x_recv(x, sd_now(e->clock) + x->more);
		return;
	}
	case SD_EV_TIMEOUT:
		x_finish(x, XR_TIMEOUT);
		return;
	case SD_EV_LINK_ERROR:
	default:
		x->err = ev->err ? ev->err : SD_ERR_STATE;
		x_finish(x, XR_LINK);
		return;
	}
}

static const sd_engine_ops xact_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stm32",
	.step = x_step,
};

/* ---- the session's context (caller-allocated, ctx_size) ---------------- */

#define EVID_CAP 1024u
#define REPLY_CAP (STM32_MAX_BLOCK + 8u)

typedef struct reply {
	uint8_t  b[REPLY_CAP];
	size_t   n;
	size_t   fixed;    /* bytes after the ACK, or 0 when the first says N-1 */
	int      counted;  /* first byte after the ACK is N-1 (N+1 bytes follow) */
	int      tail_ack; /* a final ACK closes the reply */
	int      ack_only; /* only an ACK/NACK is expected */
} reply;

typedef struct stm32_ctx {
	xact          x;
	sd_link      *l;
	const sd_proto_args *a;
	sd_report    *r;
	sd_deadline   overall;
	sd_line_cfg   cfg;
	/* sync */
	sd_expect     ex;
	uint8_t       junk[EVID_CAP];    /* what came instead of an ACK: evidence */
	size_t        junk_n;
	uint8_t       sent[8];
	size_t        sent_n;
	int           sync_by;          /* STM32_ACK or STM32_NACK */
	sd_time       listened;
	/* commands */
	uint8_t       frame[8];
	reply         rp;
	unsigned      corrected, retried;
	/* what we learned */
	uint8_t       blver, opt[2];
	int           have_get, have_gv, have_id, have_read;
	uint8_t       cmds[STM32_GET_MAX];
	size_t        ncmds;
	uint16_t      pid;
	uint8_t       flash[STM32_MAX_BLOCK];
	int           read_nack;
	/* parity evidence */
	uint8_t       nacked[2];
	int           get_nacked, gv_after_nack;
} stm32_ctx;

static const uint8_t ev_nack[] = { STM32_NACK };
static const uint8_t ev_read[] = { STM32_CMD_READ_MEMORY, 0xEE };

static const sd_pattern init_pats[] = {
	{ (const uint8_t[]){ STM32_ACK }, NULL, 1 },
	{ (const uint8_t[]){ STM32_NACK }, NULL, 1 },
};

static int bits(uint8_t v)
{
	int n = 0;
	for (; v; v &= (uint8_t)(v - 1))
		n++;
	return n;
}

/* ACK / NACK through at most one flipped bit (they differ in four): the
 * nearest code word, as a receiver with a noisy line should read them. */
static int decode_ack(stm32_ctx *c, uint8_t b)
{
	if (b == STM32_ACK || b == STM32_NACK)
		return b;
	if (bits((uint8_t)(b ^ STM32_ACK)) == 1) {
		c->corrected++;
		return STM32_ACK;
	}
	if (bits((uint8_t)(b ^ STM32_NACK)) == 1) {
		c->corrected++;
		return STM32_NACK;
	}
	return -1;
}

static int run_x(stm32_ctx *c, const sd_ctrl *ctrl, size_t nctrl, const uint8_t *tx, size_t txn,
		 xact_feed feed, sd_time wait, sd_time more, sd_time cap)
{
	xact *x = &c->x;
	sd_engine_init(&x->eng, &xact_ops);
	x->nctrl = SDI_MIN(nctrl, (size_t)XACT_MAXCTRL);
	if (x->nctrl)
		memcpy(x->ctrl, ctrl, x->nctrl * sizeof *ctrl);
	x->ci = 0;
	x->tx = tx;
	x->txn = tx ? txn : 0;
	x->txoff = 0;
	x->feed = feed;
	x->arg = c;
	x->wait = wait;
	x->more = more;
	x->cap = cap;
	x->end = SD_FOREVER;
	x->got_any = x->result = x->err = x->lines_err = 0;
	int e = sd_run(&x->eng, c->l, c->overall);
	if (e == SD_ERR_TIMEOUT && !x->result)
		return XR_TIMEOUT; /* the whole budget ran out */
	if (e < 0 && !x->result) {
		x->err = e;
		return XR_LINK;
	}
	return x->result;
}

/* Discard what the device is still saying, until it has been quiet. */
static int drain(stm32_ctx *c)
{
	sd_ctrl d = { .op = SD_CTRL_DRAIN, .duration = STM32_T_QUIET, .until = STM32_T_DRAIN_MAX };
	return run_x(c, &d, 1, NULL, 0, NULL, 0, 0, 0);
}

/* ---- sync ---------------------------------------------------------------- */

static int init_feed(void *arg, const uint8_t *b, size_t n)
{
	stm32_ctx *c = arg;
	size_t used = 0;
	int r = sd_expect_feed(&c->ex, b, n, &used);
	c->junk_n = c->ex.kept;
	if (r == 1) {
		c->sync_by = c->ex.tail[0];
		return 1;
	}
	return r < 0 ? -1 : 0;
}

/* Keep what arrives after a failed sync as evidence, up to EVID_CAP. */
static int evid_feed(void *arg, const uint8_t *b, size_t n)
{
	stm32_ctx *c = arg;
	size_t k = SDI_MIN(n, sizeof c->junk - c->junk_n);
	memcpy(c->junk + c->junk_n, b, k);
	c->junk_n += k;
	return c->junk_n >= sizeof c->junk ? 1 : 0;
}

/* Controls for an entry sequence (or the exit one), then settle + flush. */
static size_t seq_ctrls(const sd_seq *q, sd_ctrl *out, size_t max, int settle)
{
	size_t n = 0;
	for (size_t i = 0; q && i < q->n && n < max; i++) {
		const sd_seq_step *st = &q->step[i];
		sd_ctrl k = { 0 };
		if (st->kind == SD_SEQ_LINES) {
			k.op = SD_CTRL_LINES;
			k.mask = st->mask;
			k.level = st->level;
		} else {
			k.op = SD_CTRL_WAIT;
			k.duration = st->wait;
		}
		out[n++] = k;
	}
	if (settle && n + 2 <= max) {
		out[n++] = (sd_ctrl){ .op = SD_CTRL_WAIT, .duration = STM32_T_SETTLE };
		out[n++] = (sd_ctrl){ .op = SD_CTRL_FLUSH, .dirs = SD_FLUSH_IN };
	}
	return n;
}

/* One entry attempt: sequence, 0x7F, and one more 0x7F only when the first
 * met silence (a loader already synchronised takes a 7F as an opcode and
 * NACKs the second as a bad complement; stm32flash does the same). */
static int sync_once(stm32_ctx *c, int use_seq)
{
	static const uint8_t init[] = { STM32_INIT };
	sd_ctrl ctrl[XACT_MAXCTRL];
	size_t nctrl = use_seq ? seq_ctrls(c->a->enter, ctrl, XACT_MAXCTRL, 1) : 0;
	sd_expect_init(&c->ex, init_pats, SDI_ARRAY_LEN(init_pats), STM32_INIT_JUNK, c->junk, sizeof c->junk);
	c->junk_n = 0;
	c->sync_by = 0;
	c->sent[0] = STM32_INIT;
	c->sent_n = 1;
	sd_time t0 = sd_now(c->l->clock);
	int xr = run_x(c, ctrl, nctrl, init, 1, init_feed, STM32_T_INIT_ACK, STM32_T_INIT_ACK,
		       STM32_T_INIT_WINDOW);
	if (xr == XR_TIMEOUT && !c->x.got_any && c->ex.wlen == 0) {
		c->sent[c->sent_n++] = STM32_INIT;
		xr = run_x(c, NULL, 0, init, 1, init_feed, STM32_T_INIT_ACK, STM32_T_INIT_ACK,
			   STM32_T_INIT_WINDOW);
	}
	/* One lone byte one bit away from ACK or NACK: a noisy answer to 0x7F
	 * (text has more than one byte; Get confirms either way). */
	if (xr == XR_TIMEOUT && c->junk_n == 1 && c->ex.wlen == 0) {
		int k = decode_ack(c, c->junk[0]);
		if (k > 0) {
			c->sync_by = k;
			c->junk_n = 0;
			xr = XR_DONE;
		}
	}
	/* bytes still in the matcher's window are evidence too */
	for (size_t i = 0; xr != XR_DONE && i < c->ex.wlen && c->junk_n < sizeof c->junk; i++)
		c->junk[c->junk_n++] = c->ex.win[i];
	c->listened = sd_now(c->l->clock) - t0;
	return xr;
}

/* ---- commands -------------------------------------------------------------- */

/* Complete? 1 yes, 0 more, -1 cannot be (bad). */
static int reply_feed(void *arg, const uint8_t *b, size_t n)
{
	stm32_ctx *c = arg;
	reply *rp = &c->rp;
	for (size_t i = 0; i < n; i++) {
		if (rp->n >= sizeof rp->b)
			return -1;
		rp->b[rp->n++] = b[i];
		if (rp->n == 1) {
			int k = decode_ack(c, rp->b[0]);
			if (k < 0)
				return -1;
			rp->b[0] = (uint8_t)k;
			if (k == STM32_NACK || rp->ack_only)
				return 1;
			continue;
		}
		size_t body = rp->counted ? (rp->n >= 2 ? (size_t)rp->b[1] + 2 : 0) : rp->fixed;
		if (rp->counted && rp->n < 2)
			continue;
		size_t total = 1 + body + (rp->tail_ack ? 1 : 0);
		if (total > sizeof rp->b)
			return -1;
		if (rp->n < total)
			continue;
		if (rp->tail_ack) {
			int k = decode_ack(c, rp->b[total - 1]);
			if (k != STM32_ACK)
				return -1;
			rp->b[total - 1] = STM32_ACK;
		}
		return i + 1 == n ? 1 : -1; /* bytes past the reply: not ours */
	}
	return 0;
}

enum { CR_OK = 1, CR_NACK, CR_BAD, CR_SILENT, CR_LINK };

/* One frame and its reply. */
static int exchange(stm32_ctx *c, const uint8_t *tx, size_t txn, size_t fixed, int counted,
		    int tail_ack, int ack_only)
{
	memset(&c->rp, 0, sizeof c->rp);
	c->rp.fixed = fixed;
	c->rp.counted = counted;
	c->rp.tail_ack = tail_ack;
	c->rp.ack_only = ack_only;
	/* A whole reply's time on the wire (11 bits a byte at 8E1), twice, on
	 * top of the fixed allowance: a 256-byte read at 1200 baud takes 2.3 s. */
	uint32_t baud = c->cfg.baud ? c->cfg.baud : 115200;
	sd_time wire = (sd_time)((uint64_t)(fixed + STM32_GET_MAX + 8) * 11u * 1000000u / baud);
	int xr = run_x(c, NULL, 0, tx, txn, reply_feed, STM32_T_ACK, STM32_T_REPLY, STM32_T_REPLY_MAX + 2 * wire);
	if (xr == XR_LINK)
		return CR_LINK;
	if (xr == XR_DONE)
		return c->rp.b[0] == STM32_NACK ? CR_NACK : CR_OK;
	if (xr == XR_TIMEOUT && c->rp.n == 0)
		return CR_SILENT;
	return CR_BAD;
}

/* A read-only command (opcode + complement), retried on a garbled or lost
 * reply: the loader is back at its command prompt once it has answered, so
 * sending the same read-only command again is safe. */
static int command(stm32_ctx *c, uint8_t op, size_t fixed, int counted)
{
	int cr = CR_BAD;
	for (unsigned t = 0; t < STM32_CMD_TRIES; t++) {
		c->frame[0] = op;
		c->frame[1] = stm32_comp(op);
		cr = exchange(c, c->frame, 2, fixed, counted, 1, 0);
		if (cr == CR_OK || cr == CR_LINK)
			return cr;
		if (cr == CR_NACK && t >= 2)
			return cr; /* refused three times: the loader means it */
		c->retried++;
		if (cr == CR_BAD && drain(c) == XR_LINK)
			return CR_LINK;
	}
	return cr;
}

static int do_get(stm32_ctx *c)
{
	int cr = command(c, STM32_CMD_GET, 0, 1);
	if (cr != CR_OK)
		return cr;
	size_t n = (size_t)c->rp.b[1] + 1; /* version + opcodes */
	if (n < 2 || n - 1 > sizeof c->cmds)
		return CR_BAD;
	c->blver = c->rp.b[2];
	c->ncmds = n - 1;
	memcpy(c->cmds, c->rp.b + 3, c->ncmds);
	c->have_get = 1;
	return CR_OK;
}

/* Has this session seen any sign of a noisy line so far? */
static int noisy(const stm32_ctx *c)
{
	return c->corrected || c->retried || c->ex.garbage;
}

/* On a line that has shown errors, Get again until two answers are alike. */
static int confirm_get(stm32_ctx *c)
{
	uint8_t prev[STM32_GET_MAX + 1];
	size_t pn;
	for (unsigned t = 0; noisy(c) && t < STM32_AGREE_TRIES; t++) {
		prev[0] = c->blver;
		memcpy(prev + 1, c->cmds, c->ncmds);
		pn = c->ncmds;
		int cr = do_get(c);
		if (cr != CR_OK)
			return cr;
		if (pn == c->ncmds && prev[0] == c->blver && memcmp(prev + 1, c->cmds, pn) == 0)
			return CR_OK;
	}
	return noisy(c) ? CR_BAD : CR_OK;
}

static int has_cmd(const stm32_ctx *c, uint8_t op)
{
	for (size_t i = 0; i < c->ncmds; i++)
		if (c->cmds[i] == op)
			return 1;
	return 0;
}

/* Get, Get Version and Get ID carry no checksum. One flipped bit in a PID
 * names the wrong family (0x410 and 0x412/0x414/0x418 are one bit apart,
 * and noise does produce them), and nothing else would show it: Get ID is
 * always asked until two answers are alike. (Measured in process at BER
 * 1e-3: one read, taken when its length was 1, its PID 0x4xx and listed and
 * the line had shown no error, named the wrong family in 119 of 20000
 * seeded runs; two alike, in 3.) Get Version is taken at once when
 * the line has shown no error and its version byte is the one Get gave;
 * Get is asked again when the line has shown errors. Each exchange is a
 * round trip, which is what keeps `info` as quick as stm32flash's
 * identification on a clean line. */
static int do_gv(stm32_ctx *c)
{
	uint8_t seen[STM32_AGREE_TRIES][3];
	for (unsigned t = 0; t < STM32_AGREE_TRIES; t++) {
		int cr = command(c, STM32_CMD_GET_VERSION, 3, 0);
		if (cr != CR_OK)
			return cr;
		const uint8_t *v = c->rp.b + 1;
		int agree = t == 0 && !noisy(c) && c->have_get && v[0] == c->blver;
		for (unsigned k = 0; k < t && !agree; k++)
			agree = memcmp(seen[k], v, 3) == 0;
		if (agree) {
			c->blver = v[0];
			c->opt[0] = v[1];
			c->opt[1] = v[2];
			c->have_gv = 1;
			return CR_OK;
		}
		memcpy(seen[t], v, 3);
	}
	return CR_BAD;
}

static int do_id(stm32_ctx *c)
{
	uint16_t seen[STM32_AGREE_TRIES];
	for (unsigned t = 0; t < STM32_AGREE_TRIES; t++) {
		int cr = command(c, STM32_CMD_GET_ID, 0, 1);
		if (cr != CR_OK)
			return cr;
		uint16_t pid = c->rp.b[1] >= 1 ? (uint16_t)(c->rp.b[2] << 8 | c->rp.b[3]) : 0xFFFFu;
		/* always two alike (see above); three for a PID no part in the
		 * table has, which is more often noise than a new part (one run
		 * in 20000 at BER 1e-3 agreed twice on "0x2410") */
		unsigned alike = 1;
		for (unsigned k = 0; k < t; k++)
			alike += seen[k] == pid && pid != 0xFFFFu;
		if (alike >= (stm32_part_name(pid) ? 2u : 3u)) {
			c->pid = pid;
			c->have_id = 1;
			if (c->rp.b[1] > 1)
				sd_report_fact(c->r, "pid_extra_bytes", "%u (some loaders send more than two)",
					       (unsigned)c->rp.b[1] - 1);
			return CR_OK;
		}
		seen[t] = pid;
	}
	return CR_BAD;
}

/* Back at the command prompt after a broken multi-frame command: Get until
 * it answers whole (a loader waiting for address bytes takes 00 FF as some
 * of them and NACKs the frame, then answers the next Get). */
static int resync(stm32_ctx *c)
{
	for (unsigned t = 0; t < STM32_CMD_TRIES; t++) {
		c->frame[0] = STM32_CMD_GET;
		c->frame[1] = stm32_comp(STM32_CMD_GET);
		int cr = exchange(c, c->frame, 2, 0, 1, 1, 0);
		if (cr == CR_OK)
			return CR_OK;
		if (cr == CR_LINK || drain(c) == XR_LINK)
			return CR_LINK;
	}
	return CR_BAD;
}

/* Read Memory: 11 EE -> ACK (NACK: read-out protection), address -> ACK,
 * N-1 and its complement -> ACK and N bytes. */
static int do_read(stm32_ctx *c, uint32_t addr, size_t len)
{
	int cr = CR_BAD;
	unsigned nack_cmd = 0;
	for (unsigned t = 0; t < STM32_CMD_TRIES; t++) {
		c->frame[0] = STM32_CMD_READ_MEMORY;
		c->frame[1] = stm32_comp(STM32_CMD_READ_MEMORY);
		cr = exchange(c, c->frame, 2, 0, 0, 0, 1);
		if (cr == CR_NACK && ++nack_cmd >= 2) {
			/* Refused twice at the opcode: read-out protection (AN3155
			 * 3.4), not a frame spoilt on the way (that is NACKed once). */
			c->read_nack = 1;
			return cr;
		}
		if (cr == CR_OK) {
			stm32_addr_frame(addr, c->frame);
			cr = exchange(c, c->frame, 5, 0, 0, 0, 1);
		}
		if (cr == CR_OK) {
			c->frame[0] = (uint8_t)(len - 1);
			c->frame[1] = stm32_comp(c->frame[0]);
			cr = exchange(c, c->frame, 2, len, 0, 0, 0);
			if (cr == CR_OK) {
				memcpy(c->flash, c->rp.b + 1, len);
				c->have_read = 1;
				return CR_OK;
			}
		}
		if (cr == CR_LINK)
			return cr;
		c->retried++;
		/* After a NACK the loader is back at its prompt; after garbage or
		 * silence it may be mid-frame. */
		if (cr != CR_NACK && (drain(c) == XR_LINK || resync(c) == CR_LINK))
			return CR_LINK;
	}
	return cr == CR_NACK ? CR_BAD : cr;
}

/* ---- the report ------------------------------------------------------------- */

/* "00 50 ..." (without a printf call per byte: this runs in every info). */
static void hex(char *out, size_t outlen, const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	size_t k = 0;
	for (size_t i = 0; i < n && k + 3 + (i ? 1 : 0) <= outlen; i++) {
		if (i)
			out[k++] = ' ';
		out[k++] = hx[b[i] >> 4];
		out[k++] = hx[b[i] & 15];
	}
	if (outlen)
		out[k] = '\0';
}

static void facts(stm32_ctx *c, sd_report *r)
{
	char buf[SD_FACT_VALUE_MAX];
	if (c->have_get || c->have_gv)
		sd_report_fact(r, "bootloader_version", "%u.%u", c->blver >> 4, c->blver & 0xF);
	if (c->have_get) {
		hex(buf, sizeof buf, c->cmds, c->ncmds);
		sd_report_fact(r, "commands", "%s", buf);
		sd_report_fact(r, "erase_command", "%s",
			       has_cmd(c, STM32_CMD_EXT_ERASE) ? "0x44 Extended Erase (v3.x)" :
			       has_cmd(c, STM32_CMD_ERASE) ? "0x43 Erase (v2.x)" : "none listed");
	}
	if (c->have_gv)
		sd_report_fact(r, "option_bytes", "%02x %02x", c->opt[0], c->opt[1]);
	if (c->have_id) {
		const char *fam = stm32_part_name(c->pid);
		sd_report_fact(r, "pid", "0x%03x", c->pid);
		sd_report_fact(r, "family", "%s", fam ? fam : "unknown (not in the AN2606 table)");
		if (fam)
			sdi_fmt(r->by.chip, sizeof r->by.chip, "%s", fam);
		else
			sdi_fmt(r->by.chip, sizeof r->by.chip, "STM32 PID 0x%03x", c->pid);
	}
	if (c->have_read) {
		hex(buf, sizeof buf, c->flash, 32);
		sd_report_fact(r, "flash_first_bytes", "%s", buf);
		int erased = 1;
		for (size_t i = 0; i < sizeof c->flash; i++)
			erased &= c->flash[i] == 0xFF;
		uint32_t sp = (uint32_t)c->flash[0] | (uint32_t)c->flash[1] << 8 |
			      (uint32_t)c->flash[2] << 16 | (uint32_t)c->flash[3] << 24;
		uint32_t rv = (uint32_t)c->flash[4] | (uint32_t)c->flash[5] << 8 |
			      (uint32_t)c->flash[6] << 16 | (uint32_t)c->flash[7] << 24;
		if (erased)
			sd_report_fact(r, "flash", "erased (the first 256 bytes are FF)");
		else
			sd_report_fact(r, "flash", "programmed: initial SP 0x%08x, reset handler 0x%08x", sp, rv);
		sd_report_fact(r, "read_protection", "off (Read Memory allowed)");
	}
	if (c->read_nack)
		sd_report_fact(r, "read_protection", "active (Read Memory refused)");
	if (c->corrected || c->retried)
		sd_report_fact(r, "retries", "%u ACK byte%s read through a flipped bit, %u command%s retried",
			       c->corrected, c->corrected == 1 ? "" : "s", c->retried, c->retried == 1 ? "" : "s");
}

static int contains_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++) {
		size_t i = 0;
		while (i < n && hay[i] && (hay[i] | 0x20) == (needle[i] | 0x20))
			i++;
		if (i == n)
			return 1;
	}
	return n == 0;
}

/* The STM32 reading of a failed sync, on top of the generic classifier. */
static void diagnose_sync(stm32_ctx *c, sd_report *r)
{
	const sd_proto_args *a = c->a;
	sd_classify_in in = {
		.rx = c->junk, .rx_len = c->junk_n, .tx = c->sent, .tx_len = c->sent_n,
		.expect = "stm32", .host_baud = c->cfg.baud, .link_caps = c->l->caps,
		.listen_ms = c->listened / 1000,
	};
	sd_classify(&in, &r->diag);
	sd_finding *f;
	int acm = r->target && strstr(r->target, "ttyACM") != NULL;
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_APP_RUNNING)) != NULL) {
		sd_finding_summary(f, "the board runs its application, not the STM32 bootloader: it answered 0x7F with text");
		sd_finding_fix(f, "hold BOOT0 high while you reset the board (jumper, or --enter 'boot0=rts:high,nrst=dtr:pulse-low:20ms')");
		sd_finding_detail(f, "BOOT0 was low at the last reset, or the option bytes (nBOOT0/nBOOT_SEL) select flash");
		if (acm)
			sd_finding_detail(f, "on ttyACM this is a USB-CDC application of the board: the ROM loader on USB is DFU, not a serial port");
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "stm32");
		sdi_fmt(r->by.mode, sizeof r->by.mode, "application");
	}
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_SILENT)) != NULL) {
		sd_finding_summary(f, "nothing answered 0x7F (sent %zu time%s, %lld ms): no STM32 bootloader is listening",
				   c->sent_n, c->sent_n == 1 ? "" : "s", (long long)(c->listened / 1000));
		sd_finding_fix(f, "%s", a->enter ? "check the entry sequence's pins and levels (BOOT0 high during the NRST pulse), TX/RX crossed, power"
				    : "reset the board with BOOT0 high (or give --enter), check TX/RX are crossed, the USART pins the loader uses (AN2606: PA9/PA10 on most parts), and power");
		if (acm)
			sd_finding_detail(f, "ttyACM: a USB-CDC application, not the ROM loader (which has no CDC interface)");
		if (c->cfg.baud > 115200) {
			sd_finding *b = sd_diag_add(&r->diag, SD_CAUSE_BAUD_MISMATCH, 0.5f);
			if (b) {
				sd_finding_summary(b, "%u baud may be too fast for this family's loader to measure from 0x7F",
						   c->cfg.baud);
				sd_finding_fix(b, "try --baud 115200 or 57600 (AN2606 gives each family's range)");
			}
		}
	}
	if (r->diag.n == 0 && (f = sd_diag_add(&r->diag, SD_CAUSE_UNKNOWN, 0.5f)) != NULL)
		sd_finding_evidence(f, c->sent, c->sent_n, c->junk, c->junk_n);
}

/* Synchronised, but commands are refused. */
static void diagnose_nacks(stm32_ctx *c, sd_report *r)
{
	sd_finding *f;
	if (c->get_nacked && c->gv_after_nack) {
		/* 00 FF refused, 01 FE accepted: bytes of even weight lose their
		 * parity bit, bytes of odd weight pass as 8E1 by chance. */
		f = sd_diag_add(&r->diag, SD_CAUSE_PARITY_MISMATCH, 0.9f);
		if (f) {
			sd_finding_summary(f, "the loader refuses Get (00 FF) but accepts Get Version (01 FE): the host sends 8N1, the loader wants 8E1");
			sd_finding_fix(f, "%s", (c->l->caps & SD_LINK_PARITY) && c->cfg.parity == SD_PARITY_EVEN
				       ? "this adapter or driver drops the parity bit: use one that does 8E1 (FTDI, CP210x), or a newer driver"
				       : "use a port that carries parity (not a pty or a raw TCP bridge), or set the bridge to 8E1");
			sd_finding_evidence(f, c->nacked, 2, ev_nack, 1);
		}
		return;
	}
	f = sd_diag_add(&r->diag, SD_CAUSE_UNKNOWN, 0.7f);
	if (f) {
		sd_finding_summary(f, "the loader answered 0x7F but NACKs every command (a NACK storm)");
		sd_finding_fix(f, "reset the board into the loader again; if it persists, check parity (8E1) and that nothing else writes to the line");
		sd_finding_evidence(f, c->nacked, 2, ev_nack, 1);
	}
}

static int run_exit(stm32_ctx *c)
{
	sd_ctrl ctrl[XACT_MAXCTRL];
	size_t n = seq_ctrls(c->a->exit, ctrl, XACT_MAXCTRL, 0);
	if (!n)
		return SD_OK;
	if (!(c->l->caps & SD_LINK_LINES)) {
		sd_report_fact(c->r, "exit_sequence", "not run: the link has no DTR/RTS");
		return SD_OK;
	}
	int xr = run_x(c, ctrl, n, NULL, 0, NULL, 0, 0, 0);
	sd_report_fact(c->r, "exit_sequence", "%s", xr == XR_DONE && !c->x.lines_err ? "run" : "failed");
	return SD_OK;
}

static int stm32_session(void *ctxp, sd_link *l, const sd_proto_args *a, sd_report *r)
{
	stm32_ctx *c = ctxp;
	if (!c || !l || !a || !r)
		return SD_ERR_ARG;
	memset(c, 0, sizeof *c);
	c->l = l;
	c->a = a;
	c->r = r;
	c->overall = sd_deadline_in(l->clock, a->budget ? a->budget : STM32_T_BUDGET);

	/* Line: 8E1, or 8N1 with a warning where parity cannot be carried. */
	c->cfg = SD_LINE_CFG_8E1(a->baud ? a->baud : 115200);
	if (!(l->caps & SD_LINK_PARITY)) {
		c->cfg.parity = SD_PARITY_NONE;
		sd_report_fact(r, "warning", "this link cannot carry parity (a pty, a TCP bridge or a driver without it): "
			       "running 8N1; a real STM32 loader wants 8E1");
	}
	int e = sd_link_set_cfg(l, &c->cfg);
	if (e == SD_OK && !(l->caps & SD_LINK_PARITY) && c->cfg.parity != SD_PARITY_NONE) {
		c->cfg.parity = SD_PARITY_NONE; /* the tty dropped it when applied */
		sd_link_set_cfg(l, &c->cfg);
		sd_report_fact(r, "warning", "the port dropped parity when asked for 8E1: running 8N1; a real STM32 loader wants 8E1");
	}
	char fr[8];
	sd_report_fact(r, "line", "%u %s", c->cfg.baud, sd_line_cfg_frame(&c->cfg, fr));
	r->ok = 0;
	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "%s", "");

	int use_seq = a->enter && a->enter->n && !a->no_reset;
	if (use_seq && !(l->caps & SD_LINK_LINES)) {
		sd_report_fact(r, "entry_sequence", "not run: the link has no DTR/RTS (a pty or TCP); reset the board by hand");
		use_seq = 0;
	}
	/* A retry is a fresh entry attempt. Without an entry sequence nothing
	 * changes between attempts (the second 0x7F of sync_once already covers
	 * a loader that was mid-frame), so only an explicit --retries repeats. */
	unsigned attempts = 1 + (a->retries ? a->retries : use_seq ? STM32_ATTEMPTS - 1 : 0);
	int synced = 0, xr = 0, cr = 0;
	unsigned tries = 0;
	for (; tries < attempts && !synced; tries++) {
		xr = sync_once(c, use_seq);
		if (xr == XR_LINK)
			break;
		if (xr != XR_DONE)
			continue;
		/* ACK (or NACK = already synchronised): confirm with Get. A 'y'
		 * (0x79) inside application text does not survive this. */
		cr = do_get(c);
		if (cr == CR_OK) {
			synced = 1;
			break;
		}
		if (cr == CR_NACK) {
			c->get_nacked = 1;
			c->nacked[0] = STM32_CMD_GET;
			c->nacked[1] = stm32_comp(STM32_CMD_GET);
			int gv = command(c, STM32_CMD_GET_VERSION, 3, 0);
			c->gv_after_nack = gv == CR_OK;
			break;
		}
		if (cr == CR_LINK) {
			xr = XR_LINK;
			break;
		}
		/* Not a loader after all: keep what came as evidence. */
		size_t k = SDI_MIN(c->rp.n, sizeof c->junk - c->junk_n);
		memcpy(c->junk + c->junk_n, c->rp.b, k);
		c->junk_n += k;
		run_x(c, NULL, 0, NULL, 0, evid_feed, STM32_T_EVIDENCE, STM32_T_EVIDENCE, 2 * STM32_T_EVIDENCE);
		xr = XR_BAD;
	}
	if (tries + (unsigned)synced > 1)
		sd_report_fact(r, "attempts", "%u", tries + (unsigned)synced);

	if (xr == XR_LINK) {
		sd_finding *f = sd_diag_add(&r->diag, c->x.err == SD_ERR_CLOSED ? SD_CAUSE_DISCONNECTED : SD_CAUSE_UNKNOWN, 0.9f);
		if (f)
			sd_finding_summary(f, "the link failed: %s", sd_link_why(l, c->x.err));
		facts(c, r);
		run_exit(c);
		return c->x.err ? c->x.err : SD_ERR_IO;
	}
	if (!synced && c->get_nacked) {
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "stm32");
		sdi_fmt(r->by.mode, sizeof r->by.mode, "bootloader");
		diagnose_nacks(c, r);
		facts(c, r);
		run_exit(c);
		return SD_ERR_NACK;
	}
	if (!synced) {
		diagnose_sync(c, r);
		facts(c, r);
		run_exit(c);
		return SD_ERR_PROTO;
	}

	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "stm32");
	sdi_fmt(r->by.mode, sizeof r->by.mode, "bootloader");
	sd_report_fact(r, "synced_by", "%s", c->sync_by == STM32_NACK
		       ? "NACK to 0x7F: the loader was already synchronised (an earlier 0x7F set its rate)"
		       : "ACK to 0x7F");
	if (c->ex.garbage)
		sd_report_fact(r, "skipped_before_ack", "%zu byte%s", c->ex.garbage, c->ex.garbage == 1 ? "" : "s");
	/* stm32flash's own default frame is 8e1: name -m only when it differs */
	sd_report_fact(r, "stm32flash", "stm32flash -b %u%s PORT", c->cfg.baud,
		       c->cfg.parity == SD_PARITY_EVEN ? "" : c->cfg.parity == SD_PARITY_NONE ? " -m 8n1" : " -m 8o1");
	int err = SD_OK;
	r->ok = 1;
	if (a->identify) {
		cr = confirm_get(c);
		if (cr == CR_OK)
			cr = do_gv(c);
		if (cr == CR_OK)
			cr = do_id(c);
		if (cr == CR_OK && (!c->have_get || has_cmd(c, STM32_CMD_READ_MEMORY))) {
			int rr = do_read(c, STM32_FLASH_BASE, STM32_MAX_BLOCK);
			if (rr == CR_NACK) {
				sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_READ_PROTECTED, 0.95f);
				if (f) {
					sd_finding_summary(f, "read-out protection is active: the loader refuses Read Memory at 0x%08x",
							   STM32_FLASH_BASE);
					sd_finding_fix(f, "the firmware cannot be read back or verified; Readout Unprotect (stm32flash -k) "
						       "removes it and mass-erases the flash");
					sd_finding_detail(f, "a device state, not a link fault: Get, Get Version and Get ID still answer");
					sd_finding_evidence(f, ev_read, 2, ev_nack, 1);
				}
			} else if (rr == CR_LINK) {
				cr = CR_LINK;
			} else if (rr != CR_OK) {
				sd_report_fact(r, "flash_read", "failed: the reply to Read Memory was garbled %u times", STM32_CMD_TRIES);
			}
		}
		if (cr != CR_OK) {
			r->ok = 0;
			sd_finding *f = sd_diag_add(&r->diag, cr == CR_LINK && c->x.err == SD_ERR_CLOSED
						    ? SD_CAUSE_DISCONNECTED : cr == CR_NACK ? SD_CAUSE_UNKNOWN : SD_CAUSE_NOISE, 0.8f);
			if (f)
				sd_finding_summary(f, "synchronised, but identification failed (%s)",
						   cr == CR_NACK ? "a command was refused" : cr == CR_SILENT ? "the loader stopped answering"
						   : cr == CR_LINK ? sd_link_why(l, c->x.err) : "replies kept arriving garbled");
			err = cr == CR_LINK ? (c->x.err ? c->x.err : SD_ERR_IO) : SD_ERR_PROTO;
		}
		if (r->ok && a->part && r->by.chip[0] && !contains_ci(r->by.chip, a->part))
			sd_report_fact(r, "part_mismatch", "expected '%s', found %s", a->part, r->by.chip);
	}
	facts(c, r);
	run_exit(c);
	return err;
}

const sd_proto sdi_proto_stm32 = {
	.name = "stm32",
	.title = "STM32 system bootloader (AN3155)",
	.line = { 115200, 8, SD_PARITY_EVEN, 1, SD_FLOW_NONE },
	.poke = stm32_poke,
	.poke_len = sizeof stm32_poke,
	.expects = "79 (ACK) to 7F",
	.explain = stm32_explain,
	.ctx_size = sizeof(stm32_ctx),
	.session = stm32_session,
	.poke_order = 10, /* 0x7F is only valid as the first byte after reset */
	.flags = SD_PROTO_RESETS,
	/* the common DIY wiring (AN2606 entry): RTS drives BOOT0, DTR NRST */
	.probe_enter = "boot0=rts:high,nrst=dtr:pulse-low:20ms",
};
