/*
 * shakedown — Arduino STK500v1 / optiboot: the client engine, the session
 * (sync, identify, diagnose) and its reading of unexpected bytes.
 *
 * One attempt is one sans-I/O engine run (sd_run): set the rate, listen
 * (what does the board say before we touch it?), pulse the reset lines while
 * still listening, then send GET_SYNC frames paced inside the loader's boot
 * window, and with `identify` read the version and the signature. The
 * session runs attempts (rates, retries) and reads the evidence of all of
 * them: text before and after the pulse, echo, framing-error bytes, other
 * loaders' first bytes, a port that cannot drive DTR.
 *
 * Read-only: GET_SYNC, GET_PARAMETER, READ_SIGN, an STK500v2 SIGN_ON,
 * AVR109 'S' and urboot's flash read of its own 6-byte table only. Never
 * LEAVE_PROGMODE ('Q'): it starts the application.
 */
#include "internal.h"
#include "stk500_wire.h"

static const uint8_t stk_poke[] = { STK_GET_SYNC, STK_CRC_EOP };

static int stk500_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
			  char *out, size_t outlen)
{
	int after_sync = sdi_sent_is(tx, tx_len, stk_poke, 2);
	if (n == 0)
		return sdi_say(out, outlen, 0, "stk500: no answer (expected 14 10, INSYNC OK, to GET_SYNC 30 20)");
	if (n >= 2 && b[0] == STK_RESP_INSYNC && b[1] == STK_RESP_OK)
		return sdi_say(out, outlen, after_sync ? 97 : 85,
			   "stk500: 14 10 = INSYNC, OK: an STK500v1 loader (optiboot) is in sync");
	if (n >= 2 && after_sync) {
		/* urboot's urprotocol: a fixed pair that encodes the MCU id and
		 * its features (avrdude urclock.c, urboot.c) */
		long info = ur_info(b[0], b[1]);
		const stk_part *p = info >= 0 ? stk_part_by_mcuid((unsigned)(info % UB_N_MCU)) : NULL;
		if (p)
			return sdi_say(out, outlen, 55,
				   "stk500: %02x %02x may be urboot's urprotocol sync pair: MCU id %ld = %s (avrdude -c urclock; -c arduino fails with resp=0x%02x)",
				   b[0], b[1], info % (long)UB_N_MCU, p->name, b[0]);
	}
	switch (b[0]) {
	case STK_RESP_INSYNC:
		return sdi_say(out, outlen, 60, "stk500: 0x14 = INSYNC; OK (0x10) should follow");
	case STK_RESP_NOSYNC:
		return sdi_say(out, outlen, after_sync ? 75 : 40,
			   "stk500: 0x15 = NOSYNC: a loader saw a frame not ended by 0x20 (a real STK500 or a non-optiboot loader)");
	case STK_RESP_FAILED:
	case STK_RESP_UNKNOWN:
	case STK_RESP_NODEVICE:
		return sdi_say(out, outlen, after_sync ? 60 : 30, "stk500: 0x%02x = %s", b[0],
			   b[0] == STK_RESP_FAILED ? "FAILED" : b[0] == STK_RESP_UNKNOWN ? "UNKNOWN command" : "NODEVICE");
	case STK2_MESSAGE_START:
		return sdi_say(out, outlen, after_sync ? 70 : 35,
			   "stk500: 0x1B = STK500v2 MESSAGE_START: a Mega2560-style loader (avrdude -c wiring)");
	case AVR109_UNKNOWN:
		return sdi_say(out, outlen, after_sync ? 60 : 20,
			   "stk500: '?' = AVR109/Caterina's unknown-command reply (Leonardo/Micro: avrdude -c avr109, after the 1200-baud touch)");
	default:
		return sdi_say(out, outlen, 0,
			   "stk500: 0x%02x is not an STK500 reply (expected 14 10, INSYNC OK, to GET_SYNC 30 20)", b[0]);
	}
}


/* ---- one attempt: the engine --------------------------------------- */

#define EV_BEFORE   512u   /* bytes kept from before the reset edge */
#define EV_AFTER    2048u  /* bytes kept from after it */
#define EV_BURSTS   32u    /* text bursts timed on each side */
#define BURST_GAP   SD_MS(5)
#define SETTLE      SD_MS(30)
#define V2_WAIT     SD_MS(100)
#define MAX_ATTEMPTS 8u

/* Reading a field: until two readings agree, at most this many; and at
 * most this many malformed answers (each drained before the next try) in
 * one attempt. No checksum protects an STK500v1 answer. */
#define ID_READS    6u
#define ID_BAD_MAX  6u
/* The per-reply deadline adapts to the round trip measured in sync, up to
 * this: optiboot's watchdog (1 s, reset by each byte it receives) must not
 * fire while we wait. */
#define REPLY_MAX   SD_MS(800)
/* avrdude (ser_posix.c) drains for 250 ms after its first GET_SYNCs: a
 * slower round trip leaves their answers to be read as later replies.
 * Measured: avrdude 7.x -c arduino works against a 200 ms link, fails at
 * 300 ms (bench/robustness_stk500.sh). */
#define AVRDUDE_DRAIN SD_MS(250)

enum {
	S_CFG, S_FLUSH, S_LISTEN, S_SEQ, S_SYNC_SEND, S_SYNC_WAIT, S_SETTLE,
	S_RTT_SEND, S_RTT_WAIT, S_DRAIN,
	S_ID_SEND, S_ID_WAIT, S_V2_SEND, S_V2_WAIT, S_109_SEND, S_109_WAIT,
	S_UR_SEND, S_UR_WAIT, S_EXIT, S_NOTE, S_END
};

typedef struct stk_try {
	uint32_t baud;
	int      lines_err;       /* result of the first DTR/RTS change */
	int      pulsed;          /* a reset edge was sent */
	sd_time  t0, t_edge, t_sync_end, t_sync;
	sd_time  t_last_tx;       /* the last frame we sent went out */
	uint8_t  before[EV_BEFORE];
	size_t   before_n, before_total;
	uint8_t  after[EV_AFTER];
	size_t   after_n, after_total;
	sd_time  burst_before[EV_BURSTS], burst_after[EV_BURSTS];
	size_t   nb_before, nb_after;
	sd_time  last_rx;
	unsigned frames;          /* GET_SYNC frames sent */
	unsigned answered;        /* frames with some reply in their gap */
	uint8_t  reply[2];        /* the last 2-byte per-frame reply */
	unsigned same_pairs;      /* frames answered with that same 2-byte pair */
	size_t   frame_start;     /* after_n when the current frame went out */
	int      in_sync;
	sd_time  t_first_tx;      /* the first GET_SYNC went out */
	unsigned pairs;           /* 14 10 pairs received while syncing and draining */
	int      counting;        /* count them (before identify) */
	sd_time  rtt;             /* one GET_SYNC's round trip after the drain, 0 = none */
	int      rtt_first;       /* ... or of the first, the only frame sent */
	sd_time  reply_to;        /* the per-reply deadline derived from it */
	unsigned cmds_ok;         /* well-framed answers after sync (the RTT probe included) */
	int      hung;            /* in sync, then a command got no byte at all */
	uint8_t  hung_cmd;
	sd_time  hung_wait;       /* how long we waited for that answer */
	unsigned bad;             /* malformed answers drained and asked again */
	int      prev;            /* last byte after the edge, -1 none */
	int      insync_ok;       /* 14 10 seen after a frame went out */
	size_t   qmarks, others;  /* '?' vs other bytes after the edge, while syncing */
	int      is109;           /* only '?' came back to our GET_SYNCs */
	/* identify */
	int      got_major, got_minor, got_sig;
	uint8_t  major, minor, sig[3];
	unsigned reads_major, reads_minor, reads_sig, reads_top, reads_ur; /* readings taken */
	/* the version left unconfirmed: its readings differed, or it was
	 * optiboot's answer to a parameter it does not know (03) on a line
	 * that had shown errors */
	int      ver_unconf;
	uint8_t  ver_item;        /* IT_MAJOR or IT_MINOR */
	uint8_t  ver_reads[ID_READS];
	unsigned ver_n;
	int      id_bad;          /* a malformed answer while identifying */
	uint8_t  id_bad_cmd;
	/* other loaders */
	int      v2_sent;
	uint8_t  v2[32];
	size_t   v2_n;
	int      avr109_sent;
	uint8_t  id109[16];
	size_t   id109_n;
	/* urboot: its flash table read back after a decodable sync pair */
	int      ur_sent, ur_got;
	uint8_t  ur_tab[UR_TABLE_LEN];
	uint8_t  ur_last[UR_TABLE_LEN];
	unsigned ur_reads;
	/* the same 6 top bytes, read by STK500v1 READ_PAGE after identify
	 * (an urboot in STK500v1 compatibility mode keeps its table there) */
	int      top_got;
	uint8_t  top[UR_TABLE_LEN];
} stk_try;

typedef struct stk_eng {
	sd_engine     eng;
	stk_try      *t;
	const sd_seq *seq;        /* NULL = no reset */
	const sd_seq *exit;
	int           identify;
	int           exit_only;  /* run only the exit sequence */
	sd_time       not_before; /* no reset edge before this (a watchdog to wait out) */
	int           st;
	size_t        i;          /* seq step / identify command */
	sd_time       until;
	uint8_t       tx[16];
	size_t        tx_len;
	uint8_t       rx[256];
	uint8_t       ans[8];
	size_t        ans_n, ans_want;
	/* identify: the field being read, its reading in hand */
	unsigned      item;
	unsigned      sub;        /* the top read: 0 LOAD_ADDRESS, 1 READ_PAGE */
	unsigned      reads;
	int           have_last;
	uint8_t       last[UR_TABLE_LEN];
	uint8_t       readings[ID_READS][UR_TABLE_LEN]; /* this field's readings so far */
	int           noisy;      /* two readings differed in this attempt */
	int           after_drain; /* S_DRAIN goes on to this state */
} stk_eng;

static const uint8_t sync_frame[] = { STK_GET_SYNC, STK_CRC_EOP };

/* The fields identify reads, each until two readings agree (no checksum
 * protects an STK500v1 answer, so a bit error can make a well-framed wrong
 * version or signature): the frame and the data bytes between 14 and 10. */
enum { IT_MAJOR, IT_MINOR, IT_SIG, IT_TOP, IT_END };
static const struct { uint8_t f[3]; uint8_t len; uint8_t data; } id_cmds[] = {
	[IT_MAJOR] = { { STK_GET_PARAMETER, STK_PARM_SW_MAJOR, STK_CRC_EOP }, 3, 1 },
	[IT_MINOR] = { { STK_GET_PARAMETER, STK_PARM_SW_MINOR, STK_CRC_EOP }, 3, 1 },
	[IT_SIG]   = { { STK_READ_SIGN, STK_CRC_EOP, 0 }, 2, 3 },
};

static void keep(stk_try *t, const uint8_t *b, size_t n, sd_time now)
{
	int after = t->pulsed || t->t_edge;
	if (now - t->last_rx > BURST_GAP || (!t->before_total && !t->after_total)) {
		if (after && t->nb_after < EV_BURSTS)
			t->burst_after[t->nb_after++] = now;
		else if (!after && t->nb_before < EV_BURSTS)
			t->burst_before[t->nb_before++] = now;
	}
	t->last_rx = now;
	if (after) {
		for (size_t i = 0; i < n; i++) {
			if (t->frames && t->prev == STK_RESP_INSYNC && b[i] == STK_RESP_OK) {
				t->insync_ok = 1;
				if (t->counting)
					t->pairs++;
			}
			t->prev = b[i];
			if (t->avr109_sent || t->v2_sent)
				continue; /* answers to our other probes */
			if (b[i] == AVR109_UNKNOWN)
				t->qmarks++;
			else
				t->others++;
		}
		size_t k = SDI_MIN(n, EV_AFTER - t->after_n);
		memcpy(t->after + t->after_n, b, k);
		t->after_n += k;
		t->after_total += n;
	} else {
		size_t k = SDI_MIN(n, EV_BEFORE - t->before_n);
		memcpy(t->before + t->before_n, b, k);
		t->before_n += k;
		t->before_total += n;
	}
}

static int has_pair(const uint8_t *b, size_t n, uint8_t x, uint8_t y)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (b[i] == x && b[i + 1] == y)
			return 1;
	return 0;
}


/* Only AVR109 '?' answers so far (at least two: one per byte we sent). */
static int avr109(const stk_try *t)
{
	return t->is109 || (t->qmarks >= 2 && t->others == 0);
}

/* The sync pair decodes to a part in our table (urboot's urprotocol). */
static const stk_part *ur_part(const stk_try *t)
{
	long info = ur_info(t->reply[0], t->reply[1]);
	return info >= 0 ? stk_part_by_mcuid((unsigned)(info % UB_N_MCU)) : NULL;
}

static unsigned ur_features(const stk_try *t)
{
	long info = ur_info(t->reply[0], t->reply[1]);
	return info >= 0 ? (unsigned)(info / UB_N_MCU) : 0u;
}

/* Each GET_SYNC answered by the same decodable pair, and the part known:
 * worth reading urboot's table (read-only) to confirm. */
static int ur_candidate(const stk_try *t)
{
	return t->same_pairs >= 3 && ur_part(t) && (ur_features(t) & UB_READ_FLASH);
}

static void go(stk_eng *c, int st);

static sd_time clamp_t(sd_time v, sd_time lo, sd_time hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* An upper bound of the round trip, from the sync: the first frame out to
 * the first INSYNC OK back (the loader may have missed the first frames). */
static sd_time rtt_bound(const stk_try *t)
{
	return t->t_sync > t->t_first_tx && t->t_first_tx ? t->t_sync - t->t_first_tx : 0;
}

/* A quiet longer than the round trip: nothing is in flight any more. */
static sd_time drain_quiet(const stk_try *t)
{
	return clamp_t((t->rtt ? t->rtt : rtt_bound(t)) + SD_MS(30), SETTLE, SD_MS(500));
}

/* Send from a *_SEND state; its SENT event moves on to the *_WAIT state. */
static void send(stk_eng *c, const uint8_t *b, size_t n)
{
	memcpy(c->tx, b, n);
	c->tx_len = n;
	sd_engine_send(&c->eng, c->tx, n, sd_deadline_in(c->eng.clock, SD_MS(500)));
}

static void ctrl_lines(stk_eng *c, unsigned mask, unsigned level)
{
	sd_ctrl k = { .op = SD_CTRL_LINES, .mask = mask, .level = level };
	sd_engine_ctrl(&c->eng, &k);
}

/* The sync window ends: what else could be listening? */
static void after_sync(stk_eng *c)
{
	stk_try *t = c->t;
	if (t->in_sync) {
		go(c, c->identify ? S_SETTLE : S_EXIT);
		return;
	}
	if (avr109(t) && !t->avr109_sent) {
		t->is109 = 1;
		go(c, S_109_SEND);
		return;
	}
	if (ur_candidate(t) && !t->ur_sent) {
		go(c, S_UR_SEND);
		return;
	}
	/* Silence after our frames: an STK500v2 loader ignores bytes outside
	 * its framing; ask it to sign on (read-only). Sent only when nothing
	 * answered, so no optiboot is listening at this rate to be upset. */
	if (t->after_total == 0 && !t->v2_sent) {
		go(c, S_V2_SEND);
		return;
	}
	go(c, S_EXIT);
}

static void id_start(stk_eng *c, sd_time rtt)
{
	stk_try *t = c->t;
	t->counting = 0;
	t->cmds_ok++;
	t->rtt = rtt;
	t->reply_to = clamp_t(2 * t->rtt + SD_MS(50), STK_REPLY_TIMEOUT, REPLY_MAX);
	c->item = IT_MAJOR, c->sub = 0, c->reads = 0, c->have_last = 0, c->noisy = 0;
	go(c, S_ID_SEND);
}

/* Every GET_SYNC answered. When the first was the only one sent, its
 * answer is the only reply in flight and its round trip is the link's (an
 * upper bound: it may include the loader's start), so no other GET_SYNC is
 * needed to time it: each frame is one more chance for a noisy line to
 * kill optiboot. Otherwise one GET_SYNC alone on the drained line. */
static void rtt_or_probe(stk_eng *c)
{
	stk_try *t = c->t;
	if (t->frames == 1 && t->pairs == 1 && t->t_sync > t->t_last_tx) {
		t->rtt_first = 1;
		id_start(c, t->t_sync - t->t_last_tx);
		return;
	}
	go(c, S_RTT_SEND);
}

static void go(stk_eng *c, int st)
{
	stk_try *t = c->t;
	sd_engine *e = &c->eng;
	sd_time now = sd_now(e->clock);
	c->st = st;
	switch (st) {
	case S_CFG: {
		sd_ctrl k = { .op = SD_CTRL_CFG, .cfg = SD_LINE_CFG_8N1(t->baud) };
		sd_engine_ctrl(e, &k);
		return;
	}
	case S_FLUSH: {
		sd_ctrl k = { .op = SD_CTRL_FLUSH, .dirs = SD_FLUSH_IN };
		sd_engine_ctrl(e, &k);
		return;
	}
	case S_LISTEN:
		c->until = SDI_MAX(now + STK_LISTEN_BEFORE, c->not_before);
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_SEQ:
		while (c->seq && c->i < c->seq->n) {
			const sd_seq_step *sp = &c->seq->step[c->i];
			if (sp->kind == SD_SEQ_LINES) {
				if (t->lines_err) { /* cannot drive the lines: skip */
					c->i++;
					continue;
				}
				/* A line newly asserted drives its pin low: the reset edge. */
				if ((sp->level & sp->mask) && !t->pulsed) {
					t->pulsed = 1;
					t->t_edge = now;
				}
				ctrl_lines(c, sp->mask, sp->level);
				return;
			}
			/* A pause: keep listening through it. */
			c->until = now + sp->wait;
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		if (!t->t_edge)
			t->t_edge = now;
		t->t_sync_end = now + STK_SYNC_SPAN;
		t->counting = 1;
		/* The loader needs its start-up time; a frame it misses is lost
		 * whole, while half a frame would kill it. */
		c->until = now + STK_SYNC_FIRST;
		c->st = S_SYNC_WAIT;
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_SYNC_SEND:
		/* One frame at a time, each given its own gap to be answered:
		 * optiboot dies on a frame it reads mid-way, so never spray. */
		t->frames++;
		if (!t->t_first_tx)
			t->t_first_tx = now;
		t->frame_start = t->after_n;
		send(c, sync_frame, sizeof sync_frame);
		return;
	case S_SYNC_WAIT:
		c->until = SDI_MIN(now + STK_SYNC_GAP, t->t_sync_end);
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_SETTLE:
		/* Late answers to earlier frames must not pass for the next
		 * one's (a slow link answers several frames late): wait until
		 * each frame is answered or the line has been quiet longer
		 * than the round trip seen in sync, as avrdude drains. */
		if (t->pairs >= t->frames) {
			rtt_or_probe(c);
			return;
		}
		c->until = SDI_MIN(now + drain_quiet(t), t->t_last_tx + REPLY_MAX);
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_RTT_SEND:
		/* One GET_SYNC alone on a drained line: its round trip is the
		 * link's, and sets the deadline of every answer that follows. */
		c->ans_n = 0;
		c->ans_want = 2;
		send(c, sync_frame, sizeof sync_frame);
		return;
	case S_RTT_WAIT:
		c->until = now + clamp_t(rtt_bound(t) + SD_MS(100), STK_REPLY_TIMEOUT, REPLY_MAX);
		sd_engine_recv(e, c->ans + c->ans_n, c->ans_want - c->ans_n, c->until);
		return;
	case S_DRAIN:
		/* after a malformed answer: until nothing is in flight */
		c->until = SDI_MIN(now + drain_quiet(t), t->t_last_tx + REPLY_MAX);
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_ID_SEND: {
		uint8_t f[5];
		size_t n = 0;
		if (c->item == IT_TOP) {
			/* Read-only: LOAD_ADDRESS, READ_PAGE of the top 6 bytes of
			 * flash, where urboot keeps its version table (as avrdude
			 * -c urclock reads it in compatibility mode). Word address:
			 * only parts up to 128 KiB, the others need an extended
			 * address (UNIVERSAL), which we do not send. */
			const stk_part *p = t->got_sig ? stk_part_by_sig(t->sig) : NULL;
			/* Only when the loader's version answer is 7.x: an urboot
			 * in compatibility mode is 7.7 or older and answers its
			 * own version (7/7 from urboot 7.7 in simavr), so any
			 * other answer is not urboot's, and six more frames are
			 * six more chances for a noisy line to kill optiboot
			 * (a bad byte where it expects 20 ends in its watchdog). */
			if (!p || p->flash > 131072u || !t->got_major || t->major != 7u) {
				c->item = IT_END;
			} else {
				uint32_t w = (p->flash - UR_TABLE_LEN) / 2u;
				if (c->sub == 0) {
					f[n++] = STK_LOAD_ADDRESS, f[n++] = (uint8_t)w, f[n++] = (uint8_t)(w >> 8);
					c->ans_want = 2;
				} else {
					f[n++] = STK_READ_PAGE, f[n++] = 0, f[n++] = UR_TABLE_LEN, f[n++] = STK_MEM_FLASH;
					c->ans_want = 2u + UR_TABLE_LEN;
				}
				f[n++] = STK_CRC_EOP;
			}
		} else if (c->item < IT_TOP) {
			memcpy(f, id_cmds[c->item].f, id_cmds[c->item].len);
			n = id_cmds[c->item].len;
			c->ans_want = 2u + id_cmds[c->item].data;
		}
		if (c->item >= IT_END || t->id_bad) {
			c->i = 0;
			go(c, S_EXIT);
			return;
		}
		c->ans_n = 0;
		send(c, f, n);
		return;
	}
	case S_ID_WAIT:
		c->until = now + t->reply_to;
		sd_engine_recv(e, c->ans + c->ans_n, c->ans_want - c->ans_n, c->until);
		return;
	case S_V2_SEND: {
		static const uint8_t body[] = { STK2_CMD_SIGN_ON };
		uint8_t f[8];
		size_t n = stk2_frame(1, body, sizeof body, f);
		t->v2_sent = 1;
		send(c, f, n);
		c->until = 0;
		return;
	}
	case S_V2_WAIT:
		if (!c->until)
			c->until = now + V2_WAIT;
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_109_SEND: {
		static const uint8_t q[] = { AVR109_PROG_ID };
		t->avr109_sent = 1;
		c->until = 0;
		send(c, q, 1);
		return;
	}
	case S_109_WAIT:
		if (!c->until)
			c->until = now + V2_WAIT;
		sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
		return;
	case S_UR_SEND: {
		/* UR_READ_PAGE_FL of the top 6 bytes: byte address little-endian
		 * (3 bytes above 64 KiB of flash), length 1 byte (page <= 256)
		 * or 2 big-endian, then 20: what avrdude -c urclock reads first. */
		const stk_part *p = ur_part(t);
		uint32_t a6 = p->flash - UR_TABLE_LEN;
		uint8_t f[8];
		size_t n = 0;
		f[n++] = UR_READ_PAGE_FL;
		f[n++] = (uint8_t)a6;
		f[n++] = (uint8_t)(a6 >> 8);
		if (p->flash > 65536u)
			f[n++] = (uint8_t)(a6 >> 16);
		if (p->page > 256u)
			f[n++] = 0;
		f[n++] = UR_TABLE_LEN;
		f[n++] = STK_CRC_EOP;
		t->ur_sent = 1;
		c->ans_n = 0;
		c->ans_want = 2u + UR_TABLE_LEN;
		send(c, f, n);
		return;
	}
	case S_UR_WAIT:
		c->until = now + STK_REPLY_TIMEOUT;
		sd_engine_recv(e, c->ans + c->ans_n, c->ans_want - c->ans_n, c->until);
		return;
	case S_EXIT:
		while (c->exit && c->i < c->exit->n) {
			const sd_seq_step *sp = &c->exit->step[c->i];
			if (sp->kind == SD_SEQ_LINES && !t->lines_err) {
				ctrl_lines(c, sp->mask, sp->level);
				return;
			}
			if (sp->kind == SD_SEQ_WAIT) {
				c->until = now + sp->wait;
				sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
				return;
			}
			c->i++;
		}
		sd_engine_done(e);
		c->st = S_END;
		return;
	default:
		sd_engine_done(e);
		return;
	}
}

static void on_bytes(stk_eng *c, const uint8_t *b, size_t n, sd_time now)
{
	stk_try *t = c->t;
	switch (c->st) {
	case S_V2_WAIT: {
		size_t k = SDI_MIN(n, sizeof t->v2 - t->v2_n);
		memcpy(t->v2 + t->v2_n, b, k);
		t->v2_n += k;
		break;
	}
	case S_109_WAIT: {
		size_t k = SDI_MIN(n, sizeof t->id109 - t->id109_n);
		memcpy(t->id109 + t->id109_n, b, k);
		t->id109_n += k;
		break;
	}
	default:
		break;
	}
	keep(t, b, n, now);
}

/* Keep the bytes of an answer of ans_want bytes; 1 while more are due
 * (the next read is asked for), 0 once it is whole or the wait ended. */
static int more_answer(stk_eng *c, sd_engine *e, const sd_event *ev, sd_time now)
{
	if (ev->type != SD_EV_RECEIVED)
		return 0;
	keep(c->t, c->ans + c->ans_n, ev->n, now);
	c->ans_n += ev->n;
	if (c->ans_n >= c->ans_want)
		return 0;
	sd_engine_recv(e, c->ans + c->ans_n, c->ans_want - c->ans_n, c->until);
	return 1;
}

static void stk_step(sd_engine *e, const sd_event *ev)
{
	stk_eng *c = (stk_eng *)e;
	stk_try *t = c->t;
	sd_time now = sd_now(e->clock);

	if (ev->type == SD_EV_START) {
		t->t0 = now;
		go(c, S_CFG);
		return;
	}
	if (ev->type == SD_EV_LINK_ERROR) {
		sd_engine_fail(e, ev->err);
		return;
	}
	switch (c->st) {
	case S_CFG:
		go(c, S_FLUSH);
		return;
	case S_FLUSH:
		c->i = 0;
		go(c, c->exit_only ? S_EXIT : S_LISTEN);
		return;
	case S_LISTEN:
		if (ev->type == SD_EV_RECEIVED) {
			keep(t, c->rx, ev->n, now);
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		c->i = 0;
		go(c, S_SEQ);
		return;
	case S_SEQ:
		if (ev->type == SD_EV_CTRL_DONE) {
			c->i++;
			if (ev->err) {
				t->pulsed = 0, t->t_edge = 0; /* no edge reached the board */
				if (!t->lines_err) {
					/* Say so in the transcript, where the reader of a
					 * trace looks for the reset. */
					sd_ctrl k = { .op = SD_CTRL_NOTE,
						      .note = "stk500: this port cannot drive DTR/RTS: no auto-reset is possible" };
					t->lines_err = ev->err;
					c->st = S_NOTE;
					sd_engine_ctrl(e, &k);
					return;
				}
			}
			go(c, S_SEQ);
			return;
		}
		if (ev->type == SD_EV_RECEIVED) {
			keep(t, c->rx, ev->n, now);
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		c->i++; /* the pause is over */
		go(c, S_SEQ);
		return;
	case S_SYNC_WAIT:
		if (ev->type == SD_EV_RECEIVED) {
			on_bytes(c, c->rx, ev->n, now);
			if (t->insync_ok) {
				t->in_sync = 1;
				t->t_sync = now;
				after_sync(c);
				return;
			}
			if (avr109(t)) {
				after_sync(c);
				return;
			}
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		/* the frame's gap is over: what did it bring? */
		if (t->frames) {
			size_t got = t->after_n - t->frame_start;
			if (got)
				t->answered++;
			if (got == 2) {
				const uint8_t *p = t->after + t->frame_start;
				if (t->same_pairs && p[0] == t->reply[0] && p[1] == t->reply[1])
					t->same_pairs++;
				else
					t->same_pairs = 1;
				t->reply[0] = p[0], t->reply[1] = p[1];
			}
		}
		if (now >= t->t_sync_end || ur_candidate(t)) {
			after_sync(c);
			return;
		}
		go(c, S_SYNC_SEND);
		return;
	case S_SETTLE:
	case S_DRAIN:
		if (ev->type == SD_EV_RECEIVED) {
			keep(t, c->rx, ev->n, now);
			if (c->st == S_SETTLE && t->pairs >= t->frames) {
				rtt_or_probe(c);
				return;
			}
			c->until = SDI_MIN(now + drain_quiet(t), t->t_last_tx + REPLY_MAX);
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		go(c, c->st == S_SETTLE ? S_RTT_SEND : c->after_drain);
		return;
	case S_RTT_WAIT:
		if (more_answer(c, e, ev, now))
			return;
		t->counting = 0;
		if (c->ans_n == 0) {
			t->hung = 1;
			t->hung_cmd = STK_GET_SYNC;
			t->hung_wait = c->until - t->t_last_tx;
			c->i = 0;
			go(c, S_EXIT);
			return;
		}
		if (c->ans_n == 2 && c->ans[0] == STK_RESP_INSYNC && c->ans[1] == STK_RESP_OK) {
			id_start(c, now - t->t_last_tx);
			return;
		}
		/* out of step still: drain and time another */
		if (++t->bad > ID_BAD_MAX) {
			t->id_bad = 1;
			t->id_bad_cmd = STK_GET_SYNC;
			c->i = 0;
			go(c, S_EXIT);
			return;
		}
		c->after_drain = S_RTT_SEND;
		go(c, S_DRAIN);
		return;
	case S_SYNC_SEND:
	case S_RTT_SEND:
	case S_ID_SEND:
	case S_V2_SEND:
	case S_109_SEND:
	case S_UR_SEND:
		if (ev->type == SD_EV_SENT && ev->n < c->tx_len) {
			memmove(c->tx, c->tx + ev->n, c->tx_len - ev->n);
			c->tx_len -= ev->n;
			sd_engine_send(e, c->tx, c->tx_len, sd_deadline_in(e->clock, SD_MS(500)));
			return;
		}
		if (ev->type != SD_EV_SENT) {
			sd_engine_fail(e, SD_ERR_TIMEOUT);
			return;
		}
		t->t_last_tx = now;
		go(c, c->st == S_SYNC_SEND ? S_SYNC_WAIT : c->st == S_ID_SEND ? S_ID_WAIT :
		      c->st == S_RTT_SEND ? S_RTT_WAIT :
		      c->st == S_V2_SEND ? S_V2_WAIT : c->st == S_UR_SEND ? S_UR_WAIT : S_109_WAIT);
		return;
	case S_ID_WAIT:
		if (more_answer(c, e, ev, now))
			return;
		if (c->ans_n == 0) {
			/* not one byte in several round trips: it stopped */
			t->hung = 1;
			t->hung_cmd = c->tx[0];
			t->hung_wait = t->reply_to;
			c->i = 0;
			go(c, S_EXIT);
			return;
		}
		if (c->ans_n != c->ans_want || c->ans[0] != STK_RESP_INSYNC ||
		    c->ans[c->ans_want - 1] != STK_RESP_OK) {
			/* out of frame: drain, then ask again (the loader is
			 * fine: it is our side that read a bad byte) */
			t->id_bad_cmd = c->tx[0];
			if (++t->bad > ID_BAD_MAX) {
				if (c->item < IT_TOP)
					t->id_bad = 1, t->got_sig = 0;
				c->item = IT_END;
			}
			c->sub = 0;
			c->after_drain = S_ID_SEND;
			go(c, S_DRAIN);
			return;
		}
		t->cmds_ok++;
		if (c->item == IT_TOP && c->sub == 0) {
			c->sub = 1;
			go(c, S_ID_SEND);
			return;
		}
		{
			size_t len = c->ans_want - 2u;
			const uint8_t *d = c->ans + 1;
			unsigned *reads = c->item == IT_MAJOR ? &t->reads_major : c->item == IT_MINOR ? &t->reads_minor :
					  c->item == IT_SIG ? &t->reads_sig : &t->reads_top;
			(*reads)++;
			c->sub = 0;
			/* Three equal readings confirm a field, of at most
			 * ID_READS. Two were not proof enough: the same bit
			 * flipped in both readings of a 3-byte answer happened
			 * once in 720 runs at BER 1e-2 even on a line that had
			 * shown no other error (the fault matrix, 60 seeds).
			 * One exception: the signature, read after the
			 * version's six readings all agreed and nothing was
			 * malformed, is confirmed by two when it names a part
			 * in the table (a same-bit double flip that lands on
			 * another known part is rarer still). Every frame
			 * costs: a bad byte where optiboot expects 20 ends in
			 * its watchdog, and a line without DTR cannot reset it. */
			unsigned same = 1;
			for (unsigned k = 0; k < c->reads; k++)
				same += memcmp(c->readings[k], d, len) == 0;
			if (c->reads && same == 1)
				c->noisy = 1;
			unsigned need = c->item == IT_SIG && !c->noisy && !t->bad && stk_part_by_sig(d) ? 2u : 3u;
			/* The version: a flipped parameter byte makes optiboot
			 * answer 03 (its answer to any parameter it does not
			 * know), the same wrong value each time, so readings
			 * that differ cannot be outvoted: a majority of 03s
			 * once named 8.3 as 3.3 (pty, BER 1e-2). So the
			 * version is confirmed by three equal readings (an 03
			 * after malformed answers by four: all four parameter
			 * bytes flipped is about 4e-5 at BER 1e-2); at the
			 * first reading that differs it is left unverified and
			 * identify goes on to the signature (the identity that
			 * matters) at once: every further frame is one more
			 * chance for the noisy line to kill optiboot. */
			if (c->item <= IT_MINOR && d[0] == STK_OPTIBOOT_OTHER_PARM && t->bad)
				need = 4u;
			if (c->item <= IT_MINOR && c->reads && same <= c->reads) {
				t->ver_unconf = 1, t->ver_item = (uint8_t)c->item, t->ver_n = 0;
				for (unsigned k = 0; k < c->reads && t->ver_n < ID_READS; k++)
					t->ver_reads[t->ver_n++] = c->readings[k][0];
				if (t->ver_n < ID_READS)
					t->ver_reads[t->ver_n++] = d[0];
				t->got_major = t->got_minor = 0;
				c->noisy = 1;
				c->item = IT_SIG;
				c->reads = 0, c->have_last = 0;
				go(c, S_ID_SEND);
				return;
			}
			if (same < need) {
				memcpy(c->readings[c->reads], d, len);
				c->have_last = 1;
				if (++c->reads >= ID_READS) {
					if (c->item < IT_TOP)
						t->id_bad = 1, t->id_bad_cmd = c->tx[0], t->got_sig = 0;
					c->item = IT_END;
				}
				go(c, S_ID_SEND);
				return;
			}
			/* two readings agree */
			switch (c->item) {
			case IT_MAJOR: t->major = d[0], t->got_major = 1; break;
			case IT_MINOR: t->minor = d[0], t->got_minor = 1; break;
			case IT_SIG:   memcpy(t->sig, d, 3), t->got_sig = 1; break;
			default:       memcpy(t->top, d, UR_TABLE_LEN), t->top_got = 1; break;
			}
			c->item++;
			c->reads = 0, c->have_last = 0;
		}
		go(c, S_ID_SEND);
		return;
	case S_UR_WAIT:
		if (more_answer(c, e, ev, now))
			return;
		if (c->ans_n == c->ans_want && c->ans[0] == t->reply[0] &&
		    c->ans[c->ans_want - 1] == t->reply[1]) {
			/* no checksum here either: until two readings agree */
			if (t->ur_reads && memcmp(t->ur_last, c->ans + 1, UR_TABLE_LEN) == 0) {
				memcpy(t->ur_tab, c->ans + 1, UR_TABLE_LEN);
				t->ur_got = 1;
			} else if (++t->ur_reads < ID_READS) {
				memcpy(t->ur_last, c->ans + 1, UR_TABLE_LEN);
				go(c, S_UR_SEND);
				return;
			}
		}
		c->i = 0;
		go(c, S_EXIT);
		return;
	case S_V2_WAIT:
	case S_109_WAIT:
		if (ev->type == SD_EV_RECEIVED) {
			on_bytes(c, c->rx, ev->n, now);
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		c->i = 0;
		go(c, S_EXIT);
		return;
	case S_NOTE:
		go(c, S_SEQ);
		return;
	case S_EXIT:
		if (ev->type == SD_EV_RECEIVED) {
			keep(t, c->rx, ev->n, now);
			sd_engine_recv(e, c->rx, sizeof c->rx, c->until);
			return;
		}
		c->i++;
		go(c, S_EXIT);
		return;
	default:
		sd_engine_done(e);
		return;
	}
}

static const sd_engine_ops stk_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stk500",
	.step = stk_step,
};

/* Initialise an attempt's engine; exposed to the fuzzer through the session. */
static void stk_eng_init(stk_eng *c, stk_try *t, uint32_t baud, const sd_seq *seq,
			 const sd_seq *exit, int identify)
{
	sd_engine_init(&c->eng, &stk_ops);
	memset(t, 0, sizeof *t);
	t->baud = baud;
	t->prev = -1;
	c->t = t;
	c->seq = seq;
	c->exit = exit;
	c->identify = identify;
	c->st = S_CFG;
}

/* ---- the session: attempts, then what they tell ---------------------- */

typedef struct stk_ctx {
	stk_eng  eng;
	stk_try  tries[MAX_ATTEMPTS];
	size_t   ntries;
	stk_try  exit_try;
	sd_seq   pulse;
} stk_ctx;

/* avrdude's arduino reset in physical terms: pins high (lines released)
 * while the capacitor recharges, low (the edge resets), high again. */
static void default_pulse(sd_seq *s)
{
	const unsigned both = SD_LINE_DTR | SD_LINE_RTS;
	memset(s, 0, sizeof *s);
	s->step[0] = (sd_seq_step){ .kind = SD_SEQ_LINES, .mask = both, .level = 0 };
	s->step[1] = (sd_seq_step){ .kind = SD_SEQ_WAIT, .wait = STK_PULSE_HIGH };
	s->step[2] = (sd_seq_step){ .kind = SD_SEQ_LINES, .mask = both, .level = both };
	s->step[3] = (sd_seq_step){ .kind = SD_SEQ_WAIT, .wait = STK_PULSE_LOW };
	s->step[4] = (sd_seq_step){ .kind = SD_SEQ_LINES, .mask = both, .level = 0 };
	s->n = 5;
}

/* Did the application's text stop or restart around the reset edge?
 * 1 yes (a reset reached the chip), 0 it went on on its old schedule,
 * -1 cannot tell (too little text). */
static int text_restarted(const stk_try *t)
{
	if (t->nb_before < 2 || t->nb_after < 1)
		return -1;
	sd_time first = t->burst_before[0], last = t->burst_before[t->nb_before - 1];
	sd_time period = (last - first) / (sd_time)(t->nb_before - 1);
	if (period < SD_MS(2))
		return -1; /* a continuous stream: no schedule to compare */
	sd_time a = t->burst_after[0];
	if (a - t->t_edge > period + period / 2)
		return 1; /* a silence longer than the text's own rhythm */
	sd_time pe = (a - last) % period;
	sd_time err = SDI_MIN(pe, period - pe);
	/* USB adapters deliver in frames of 1 to 16 ms: below that, a shift
	 * cannot be told from jitter. */
	return err > SDI_MAX(period / 10, SD_MS(3)) ? 1 : 0;
}

/* Mostly printable text after the edge (an application), not our echo. */
static int app_text_after(const stk_try *t)
{
	size_t text = 0;
	for (size_t i = 0; i < t->after_n; i++)
		text += sdi_is_text(t->after[i]) ? 1u : 0u;
	return t->after_n >= 4 && text * 10 >= t->after_n * 9 &&
	       !has_pair(t->after, t->after_n, STK_GET_SYNC, STK_CRC_EOP);
}

static int is_echo(const stk_try *t)
{
	return has_pair(t->after, t->after_n, STK_GET_SYNC, STK_CRC_EOP);
}

static int v2_signed_on(const stk_try *t)
{
	return t->v2_n >= 8 && t->v2[0] == STK2_MESSAGE_START && t->v2[4] == STK2_TOKEN &&
	       t->v2[5] == STK2_CMD_SIGN_ON && t->v2[6] == STK2_STATUS_CMD_OK;
}


/* The same two bytes answered to each GET_SYNC, and they decode as
 * urboot's urprotocol pair (stk500_wire.h): urboot answers INSYNC' OK'
 * that carry its MCU id and features, never 14 10. The pair may well be
 * printable (20 78, " x", for the default ATmega328P build), so printable
 * pairs count when they decode to a known part; an unknown id only when
 * the pair is neither text nor our echo. */
static int urboot_like(const stk_try *t)
{
	if (t->same_pairs < 2 || ur_info(t->reply[0], t->reply[1]) < 0)
		return 0;
	if (t->ur_got || ur_part(t))
		return 1;
	return !(t->reply[0] == STK_GET_SYNC && t->reply[1] == STK_CRC_EOP) &&
	       !(sdi_is_text(t->reply[0]) && sdi_is_text(t->reply[1]));
}

/* The table urboot keeps in its top six bytes (urclock_private.h): the
 * version byte is major << 3 | minor, 072 (7.2) and up. */
static int ur_table_ok(const stk_try *t)
{
	return t->ur_got && t->ur_tab[5] >= 072 && t->ur_tab[5] != 0xff;
}

static void report_urboot(const stk_try *t, sd_report *r)
{
	const stk_part *p = ur_part(t);
	unsigned feat = ur_features(t);
	long id = ur_info(t->reply[0], t->reply[1]) % (long)UB_N_MCU;
	int tab = ur_table_ok(t);
	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "urprotocol");
	sdi_fmt(r->by.mode, sizeof r->by.mode, "urboot");
	sd_report_fact(r, "urboot_pair", "%02x %02x", t->reply[0], t->reply[1]);
	sd_report_fact(r, "urboot_mcuid", "%ld", id);
	char fs[64] = "";
	if (feat & UB_READ_FLASH)
		sdi_append(fs, sizeof fs, "%sread-flash", fs[0] ? " " : "");
	if (feat & UB_FLASH_LL_NOR)
		sdi_append(fs, sizeof fs, "%snor-writes", fs[0] ? " " : "");
	if (feat & UB_CHIP_ERASE)
		sdi_append(fs, sizeof fs, "%schip-erase", fs[0] ? " " : "");
	if (feat & ~(UB_READ_FLASH | UB_FLASH_LL_NOR | UB_CHIP_ERASE))
		sdi_append(fs, sizeof fs, "%sreserved-bits", fs[0] ? " " : "");
	sd_report_fact(r, "urboot_features", "%s", fs[0] ? fs : "none");
	if (p) {
		sdi_fmt(r->by.chip, sizeof r->by.chip, "%s", p->name);
		sd_report_fact(r, "part", "%s (avrdude -p %s, from the MCU id in the sync pair)", p->name, p->id);
		sd_report_fact(r, "signature", "%02x %02x %02x", p->sig[0], p->sig[1], p->sig[2]);
		sd_report_fact(r, "flash_size", "%lu", (unsigned long)p->flash);
	}
	if (tab) {
		const uint8_t *u = t->ur_tab;
		sdi_fmt(r->by.mode, sizeof r->by.mode, "urboot %u.%u", u[5] >> 3, u[5] & 7u);
		sd_report_fact(r, "bootloader", "%s", r->by.mode);
		sd_report_fact(r, "bootloader_version", "%u.%u", u[5] >> 3, u[5] & 7u);
		if (u[5] >= 075 && p)
			sd_report_fact(r, "bootloader_size", "%u", (unsigned)u[0] * p->page);
		sd_report_fact(r, "urboot_capabilities", "%02x%s%s%s", u[4], u[4] & UR_CAP_EEPROM ? " eeprom" : "",
			       u[4] & UR_CAP_URPROTOCOL ? " urprotocol" : "", u[4] & UR_CAP_PROTECTME ? " protectme" : "");
	}
	/* the pair came the same to at least two GET_SYNCs; the table was
	 * read until two readings agreed */
	sd_report_fact(r, "verified", "urboot_pair urboot_mcuid urboot_features%s%s",
		       p ? " part signature flash_size" : "",
		       tab ? " bootloader bootloader_version urboot_capabilities" : "");
}

/* Nothing but our own frames came back after the edge. */
static int only_echo(const stk_try *t)
{
	for (size_t i = 0; i + 1 < t->after_n; i += 2)
		if (t->after[i] != STK_GET_SYNC || t->after[i + 1] != STK_CRC_EOP)
			return 0;
	return t->after_n >= 2 && t->before_total == 0;
}

static void rates_tried(const stk_ctx *x, char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < x->ntries; i++) {
		int dup = 0;
		for (size_t j = 0; j < i; j++)
			dup |= x->tries[j].baud == x->tries[i].baud;
		if (!dup)
			sdi_append(buf, len, "%s%lu", buf[0] ? ", " : "", (unsigned long)x->tries[i].baud);
	}
}

/* The command byte that went unanswered, as evidence. */
static const uint8_t *c_last_cmd(const stk_try *t)
{
	return &t->hung_cmd;
}

static void report_success(stk_ctx *x, const stk_try *t, const sd_proto_args *a, sd_report *r,
			   sd_time first_baud)
{
	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "stk500");
	sdi_fmt(r->by.mode, sizeof r->by.mode, "bootloader");
	sd_report_fact(r, "baud", "%lu", (unsigned long)t->baud);
	/* from the reset edge (or, without one, the end of the entry sequence) */
	sd_report_fact(r, "sync_ms", "%lld", (long long)((t->t_sync - t->t_edge) / 1000));
	sd_report_fact(r, "attempts", "%zu", x->ntries);
	r->ok = 1;
	sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_OK, 1.0f);
	const stk_part *p = NULL;
	if (t->got_major && t->got_minor) {
		sd_report_fact(r, "bootloader_version", "%u.%u", t->major, t->minor);
		/* optiboot answers its own version (4.4 on the Uno, 8.x); the old
		 * ATmegaBOOT answers 1.16 (ATmegaBOOT_168.c SW_MAJOR/SW_MINOR). */
		sdi_fmt(r->by.mode, sizeof r->by.mode, "%s %u.%u",
			t->major >= 4 ? "optiboot" : t->major == 1 ? "ATmegaBOOT" : "stk500v1 loader",
			t->major, t->minor);
		sd_report_fact(r, "bootloader", "%s", r->by.mode);
	}
	if (t->ver_unconf) {
		char rd[3 * ID_READS + 1] = "";
		for (unsigned k = 0; k < t->ver_n; k++)
			sdi_append(rd, sizeof rd, k ? " %02x" : "%02x", t->ver_reads[k]);
		sd_report_fact(r, "bootloader_version",
			       "unknown (unverified: the %s version's readings did not agree: %s; no checksum protects "
			       "them, and a flipped parameter byte makes optiboot answer %02x every time)",
			       t->ver_item == IT_MAJOR ? "major" : "minor", rd, STK_OPTIBOOT_OTHER_PARM);
		sd_report_fact(r, "unverified", "bootloader_version");
	}
	/* urboot's table (urclock_private.h): version byte 072 (7.2) to 0147,
	 * below it an rjmp (0xCxxx) or ret (9508); optiboot keeps its two
	 * version bytes there instead. */
	int urboot = t->top_got && t->top[5] >= 072 && t->top[5] <= 0147 &&
		     ((t->top[3] & 0xf0) == 0xc0 || (t->top[2] == 0x08 && t->top[3] == 0x95));
	if (urboot) {
		sdi_fmt(r->by.mode, sizeof r->by.mode, "urboot %u.%u", t->top[5] >> 3, t->top[5] & 7u);
		sd_report_fact(r, "bootloader", "%s (STK500v1 compatibility mode)", r->by.mode);
		sd_report_fact(r, "bootloader_version", "%u.%u", t->top[5] >> 3, t->top[5] & 7u);
		sd_report_fact(r, "urboot_capabilities", "%02x%s%s%s", t->top[4], t->top[4] & UR_CAP_EEPROM ? " eeprom" : "",
			       t->top[4] & UR_CAP_URPROTOCOL ? " urprotocol" : "", t->top[4] & UR_CAP_PROTECTME ? " protectme" : "");
	}
	if (t->got_sig) {
		p = stk_part_by_sig(t->sig);
		sd_report_fact(r, "signature", "%02x %02x %02x", t->sig[0], t->sig[1], t->sig[2]);
		if (p) {
			sdi_fmt(r->by.chip, sizeof r->by.chip, "%s", p->name);
			sd_report_fact(r, "part", "%s (avrdude -p %s)", p->name, p->id);
			sd_report_fact(r, "flash_size", "%lu", (unsigned long)p->flash);
			sd_report_fact(r, "eeprom_size", "%u", p->eeprom);
		} else {
			sd_report_fact(r, "part", "unknown signature (not in shakedown's table)");
		}
	}
	sd_report_fact(r, "avrdude", "avrdude -c %s -p %s -b %lu -P PORT", urboot ? "arduino (or -c urclock)" : "arduino",
		       p ? p->id : "PART", (unsigned long)t->baud);
	if (f) {
		sd_finding_summary(f, "in sync at %lu baud%s%s%s", (unsigned long)t->baud,
				   p ? ": " : "", p ? p->name : "", t->got_major ? " with an STK500v1 loader" : "");
		sd_finding_evidence(f, sync_frame, sizeof sync_frame, t->after, t->after_n);
	}
	if (t->rtt) {
		/* the link's own round trip, timed on one GET_SYNC after the drain */
		long long ms = (long long)(t->rtt / 1000);
		sd_report_fact(r, "round_trip", "%lld.%lld ms (GET_SYNC to INSYNC OK, %s)", ms,
			       (long long)(t->rtt % 1000 / 100),
			       t->rtt_first ? "the first, the only frame in flight" : "after the drain");
		if (f && t->rtt > AVRDUDE_DRAIN)
			sd_finding_detail(f, "the round trip is %lld ms: above avrdude's 250 ms drain, avrdude -c arduino reads the "
					  "answers to its first GET_SYNCs as later replies and fails (\"protocol expects OK byte 0x10 "
					  "but got 0x14\", \"unknown response\"); shakedown waits up to %lld ms per reply",
					  ms, (long long)(t->reply_to / 1000));
		else if (f && t->rtt > SD_MS(40))
			sd_finding_detail(f, "the round trip is %lld ms (a USB latency timer, a VM or a network link); "
					  "avrdude's defaults still cope up to 250 ms", ms);
	}
	{
		/* device data confirmed by equal readings (three; two for a
		 * known signature on a clean line: nothing in STK500v1
		 * carries a checksum); baud, sync_ms and
		 * round_trip are our own measurements */
		char v[160] = "";
		if (t->got_major && t->got_minor)
			sdi_append(v, sizeof v, "bootloader_version bootloader ");
		if (urboot)
			sdi_append(v, sizeof v, "urboot_capabilities ");
		if (t->got_sig)
			sdi_append(v, sizeof v, "signature part%s ", p ? " flash_size eeprom_size" : "");
		if (v[0]) {
			v[strlen(v) - 1] = '\0';
			sd_report_fact(r, "verified", "%s", v);
		}
		if (t->bad)
			sd_report_fact(r, "reread", "%u malformed answer(s) drained and asked again", t->bad);
	}
	if (t->hung) {
		r->ok = 0;
		sd_finding *g = sd_diag_add(&r->diag, SD_CAUSE_STOPPED_ANSWERING, 0.9f);
		if (g) {
			sd_finding_summary(g, "the loader stopped answering after %u command(s): in sync at %lu baud, then no byte "
					   "in %lld ms to command 0x%02x", t->cmds_ok + 1u, (unsigned long)t->baud,
					   (long long)(t->hung_wait / 1000), t->hung_cmd);
			sd_finding_fix(g, "reset the board and retry; a loader that stops at the same command is crashing there "
				       "(a watchdog firing, a brown-out) or the adapter lost the line");
			if (t->rtt)
				sd_finding_detail(g, "the round trip measured after sync was %lld.%lld ms",
						  (long long)(t->rtt / 1000), (long long)(t->rtt % 1000 / 100));
			sd_finding_evidence(g, c_last_cmd(t), 1, t->after, t->after_n);
		}
	} else if (a->identify && !t->got_sig) {
		r->ok = 0;
		sd_finding *g = sd_diag_add(&r->diag, t->bad > ID_BAD_MAX ? SD_CAUSE_NOISE : SD_CAUSE_UNKNOWN, 0.8f);
		if (g) {
			if (t->bad > ID_BAD_MAX)
				sd_finding_summary(g, "in sync at %lu baud, but %u answers came back out of frame (last to command 0x%02x): "
						   "bytes are corrupted on the line", (unsigned long)t->baud, t->bad, t->id_bad_cmd);
			else
				sd_finding_summary(g, "in sync, but the answers to command 0x%02x differed between %u readings",
						   t->id_bad_cmd, ID_READS);
			sd_finding_fix(g, "noise on the line or a loader that is not optiboot: run again, check the cable");
		}
	}
	if (t->baud != first_baud && !a->baud) {
		sd_finding *g = sd_diag_add(&r->diag, SD_CAUSE_BOOTLOADER_OTHER_RATE, 0.5f);
		if (g) {
			sd_finding_summary(g, "the loader answered at %lu, not at %lld: %s", (unsigned long)t->baud,
					   (long long)first_baud,
					   t->baud == 57600 ? "the old (ATmegaBOOT) bootloader of Nano/Duemilanove/Pro Mini boards"
							    : "a loader built for a slower clock or rate");
			sd_finding_fix(g, "use -b %lu (Arduino IDE: the board's \"Old Bootloader\" variant)", (unsigned long)t->baud);
		}
	}
	if (a->part && t->got_sig) {
		const stk_part *want = stk_part_by_name(a->part);
		if (!want) {
			sd_report_fact(r, "part_check", "'%s' is not in shakedown's part table", a->part);
		} else if (memcmp(want->sig, t->sig, 3) != 0) {
			r->ok = 0;
			sd_finding *g = sd_diag_add(&r->diag, SD_CAUSE_PART_MISMATCH, 0.95f);
			if (g) {
				sd_finding_summary(g, "the signature %02x %02x %02x is %s, not %s (%02x %02x %02x)",
						   t->sig[0], t->sig[1], t->sig[2], p ? p->name : "an unknown part",
						   want->name, want->sig[0], want->sig[1], want->sig[2]);
				sd_finding_fix(g, "%s%s%s", p ? "use -p " : "check the board: optiboot's signature is compiled in, so a loader built for another chip also shows this",
					       p ? p->id : "", p ? " (optiboot answers the signature it was built for)" : "");
			}
		}
	}
	if (!r->ok && f) {
		/* in sync, but what follows is the verdict: never an ok */
		sd_report_fact(r, "sync", "in sync at %lu baud (GET_SYNC answered 14 10)", (unsigned long)t->baud);
		sd_diag_drop(&r->diag, SD_CAUSE_OK);
	}
}

static void diagnose(stk_ctx *x, const sd_proto_args *a, sd_report *r, sd_link *l)
{
	const stk_try *t0 = &x->tries[0];
	char rates[64];
	rates_tried(x, rates, sizeof rates);
	int lines_missing = !a->no_reset && t0->lines_err != 0;
	if (lines_missing)
		sd_report_fact(r, "reset", "not possible: this port cannot drive DTR/RTS (%s)", sd_strerror(t0->lines_err));
	else
		sd_report_fact(r, "reset", "%s", a->no_reset ? "none (--no-reset)" : "DTR/RTS pulse before each attempt");
	sd_report_fact(r, "rates_tried", "%s", rates);
	sd_report_fact(r, "attempts", "%zu", x->ntries);

	/* Other loaders first: they are positive identifications. */
	for (size_t i = 0; i < x->ntries; i++) {
		const stk_try *t = &x->tries[i];
		sd_finding *f = NULL;
		if (v2_signed_on(t)) {
			sdi_fmt(r->by.protocol, sizeof r->by.protocol, "stk500v2");
			sdi_fmt(r->by.mode, sizeof r->by.mode, "bootloader");
			f = sd_diag_add(&r->diag, SD_CAUSE_WRONG_PROTOCOL, 0.95f);
			if (f) {
				sd_finding_summary(f, "an STK500v2 loader signed on at %lu (Mega2560-style, 0x1B framing), not STK500v1",
						   (unsigned long)t->baud);
				sd_finding_fix(f, "use avrdude -c wiring (or -c stk500v2) -b %lu", (unsigned long)t->baud);
				sd_finding_evidence(f, NULL, 0, t->v2, t->v2_n);
			}
		} else if (avr109(t)) {
			sdi_fmt(r->by.protocol, sizeof r->by.protocol, "avr109");
			sdi_fmt(r->by.mode, sizeof r->by.mode, "bootloader");
			f = sd_diag_add(&r->diag, SD_CAUSE_WRONG_PROTOCOL, 0.9f);
			if (f) {
				sd_finding_summary(f, "an AVR109 loader answered '?' to each byte%s%.*s%s (Caterina: Leonardo, Micro, 32U4 boards)",
						   t->id109_n ? " and calls itself \"" : "", (int)t->id109_n,
						   (const char *)t->id109, t->id109_n ? "\"" : "");
				sd_finding_fix(f, "use avrdude -c avr109 on the port that appears after the 1200-baud touch (open and close the port at 1200 baud)");
				sd_finding_evidence(f, sync_frame, sizeof sync_frame, t->after, t->after_n);
			}
		} else if (urboot_like(t)) {
			/* 0.95 with urboot's own table read back; 0.8 when only the
			 * pair decodes to a known part; 0.5 for an unknown MCU id. */
			const stk_part *p = ur_part(t);
			int tab = ur_table_ok(t);
			report_urboot(t, r);
			f = sd_diag_add(&r->diag, SD_CAUSE_WRONG_PROTOCOL, tab ? 0.95f : p ? 0.8f : 0.5f);
			if (f) {
				if (tab)
					sd_finding_summary(f, "urboot %u.%u (urprotocol) for the %s answered at %lu: its sync pair %02x %02x encodes the MCU, not STK500v1's 14 10",
							   t->ur_tab[5] >> 3, t->ur_tab[5] & 7u, p->name, (unsigned long)t->baud,
							   t->reply[0], t->reply[1]);
				else if (p)
					sd_finding_summary(f, "each GET_SYNC got %02x %02x, urboot's urprotocol sync pair for the %s (MCU id %u), not STK500v1's 14 10",
							   t->reply[0], t->reply[1], p->name, p->mcuid);
				else
					sd_finding_summary(f, "each GET_SYNC got the same two bytes %02x %02x, not 14 10: urboot's urprotocol answers so (MCU id %ld, not in shakedown's table), or a loader at another rate",
							   t->reply[0], t->reply[1], ur_info(t->reply[0], t->reply[1]) % (long)UB_N_MCU);
				sd_finding_fix(f, "use avrdude -c urclock -p %s -b %lu", p ? p->id : "PART", (unsigned long)t->baud);
				sd_finding_detail(f, "avrdude -c arduino fails against it with \"not in sync: resp=0x%02x\": it wants 0x14 as the first byte of every answer",
						  t->reply[0]);
				if (tab)
					sd_finding_detail(f, "read back (read-only) urboot's table in the top 6 bytes of flash: %02x %02x %02x %02x %02x %02x",
							  t->ur_tab[0], t->ur_tab[1], t->ur_tab[2], t->ur_tab[3], t->ur_tab[4], t->ur_tab[5]);
				sd_finding_evidence(f, sync_frame, sizeof sync_frame, t->after, t->after_n);
			}
		}
		if (f)
			return;
	}

	/* What the bytes are, by the classifier, for the first attempt (the
	 * rate most boards use), or the first one that heard anything. */
	const stk_try *t = t0;
	for (size_t i = 0; i < x->ntries && !t->after_total && !t->before_total; i++)
		t = &x->tries[i];
	const uint8_t *rx = t->after_n ? t->after : t->before;
	size_t rxn = t->after_n ? t->after_n : t->before_n;
	sd_classify_in in = {
		.rx = rx, .rx_len = rxn, .tx = sync_frame, .tx_len = sizeof sync_frame,
		.expect = "stk500", .host_baud = t->baud, .link_caps = l->caps,
		.listen_ms = (sd_now(l->clock) - x->tries[0].t0) / 1000,
	};
	sd_classify(&in, &r->diag);

	sd_finding *f;
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_SILENT)) != NULL) {
		sd_finding_summary(f, "nothing at all came back at %s baud, not even to an STK500v2 sign-on%s",
				   rates, lines_missing ? ", and this port cannot pulse DTR/RTS" : "");
		sd_finding_fix(f, "%s", lines_missing
			       ? "press the board's reset button just as shakedown starts; check TX/RX crossed, power, the port"
			       : "check power, that TX/RX are crossed, the port; a board that answers nothing after a reset has no loader at these rates or is not reset");
		if (!lines_missing && !a->no_reset)
			sd_finding_detail(f, "%s", "no application text either, before or after the reset: the line itself is quiet");
	}
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_ECHO)) != NULL || is_echo(t)) {
		if (!f)
			f = sd_diag_add(&r->diag, SD_CAUSE_ECHO, 0.93f);
		if (f) {
			sd_finding_summary(f, "our GET_SYNC 30 20 came back unchanged (avrdude would say resp=0x30): TX is looped to RX");
			sd_finding_evidence(f, sync_frame, sizeof sync_frame, t->after, t->after_n);
		}
		/* Our own "0 " is printable, but it is not an application's. */
		if (only_echo(t))
			sd_diag_drop(&r->diag, SD_CAUSE_APP_RUNNING);
	}
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_APP_RUNNING)) != NULL) {
		int rs = text_restarted(t);
		uint8_t b0 = rxn ? rx[0] : 0;
		if (lines_missing) {
			sd_finding_summary(f, "the application runs (avrdude: resp=0x%02x), and this port cannot pulse DTR/RTS to reset it into the loader", b0);
			sd_finding_fix(f, "press reset by hand just as shakedown starts (the loader listens about 1 s), or use an adapter with DTR wired to the reset capacitor");
		} else if (a->no_reset) {
			sd_finding_summary(f, "the application runs (avrdude: resp=0x%02x); with --no-reset nothing started the loader", b0);
			sd_finding_fix(f, "drop --no-reset, or press reset by hand just before the run");
		} else if (rs == 1) {
			sd_finding_summary(f, "the application runs: the reset works (its text restarted at the pulse) but no loader answered at %s baud", rates);
			sd_finding_fix(f, "the loader is missing or at another rate: try --baud 57600/9600 (old bootloaders), or burn a bootloader with an ISP programmer");
			sd_finding_detail(f, "text bursts every %lld ms before the reset edge; the first after it came %lld ms after the edge, off that rhythm",
					  (long long)((t->burst_before[t->nb_before - 1] - t->burst_before[0]) /
						      (sd_time)(t->nb_before - 1) / 1000),
					  (long long)((t->burst_after[0] - t->t_edge) / 1000));
		} else if (rs == 0) {
			sd_finding_summary(f, "the application runs and its text never stopped around the reset pulse: the reset does not reach the chip");
			sd_finding_fix(f, "no auto-reset wiring: add 100 nF from the adapter's DTR to RESET (10 k pull-up), or press reset by hand as shakedown starts");
			sd_finding_detail(f, "the text kept its rhythm through the DTR/RTS pulse (a reset would have restarted it)");
		} else {
			sd_finding_summary(f, "the application runs (avrdude: resp=0x%02x); no loader answered at %s baud", b0, rates);
		}
	}
	if ((f = sd_diag_find(&r->diag, SD_CAUSE_BAUD_MISMATCH)) != NULL && !a->baud)
		sd_finding_detail(f, "shakedown tried %s baud with a fresh reset each", rates);
	if (!a->no_reset && !lines_missing && r->diag.n && x->ntries > 1)
		sd_finding_detail(&r->diag.f[0], "%s", "each attempt was a fresh reset and one clean sync: optiboot leaves on the first bad frame");
}

static int stk500_session(void *ctxp, sd_link *l, const sd_proto_args *a, sd_report *r)
{
	stk_ctx *x = ctxp;
	static const uint32_t defaults[] = { 115200, 57600, 19200 };
	uint32_t rates[3];
	size_t nrates = 0;
	if (a->baud)
		rates[nrates++] = a->baud;
	else
		for (size_t i = 0; i < SDI_ARRAY_LEN(defaults); i++)
			rates[nrates++] = defaults[i];
	const sd_seq *seq = NULL;
	if (!a->no_reset) {
		if (a->enter) {
			seq = a->enter;
		} else {
			default_pulse(&x->pulse);
			seq = &x->pulse;
		}
	}
	/* Default: one retry after a near miss, three once the loader was
	 * in sync (it is there, and a frame spoiled on the way killed it:
	 * avrdude keeps asking too, ten GET_SYNCs, and gets through) */
	unsigned retries = a->retries ? a->retries : 1;
	unsigned in_sync_retries = a->retries ? a->retries : 3;
	sd_deadline overall = sd_deadline_in(l->clock, a->budget ? a->budget : SD_S(30));
	sdi_fmt(r->by.protocol, sizeof r->by.protocol, "%s", "");

	int err = SD_OK;
	const stk_try *win = NULL;
	sd_time next_not_before = 0;
	size_t ninety_four = 0; /* the attempt that retried after a #994 sign */
	for (size_t ri = 0; ri < nrates && !win && x->ntries < MAX_ATTEMPTS; ri++) {
		unsigned synced_here = 0;
		for (unsigned k = 0; k <= (synced_here ? in_sync_retries : retries) && x->ntries < MAX_ATTEMPTS; k++) {
			stk_try *t = &x->tries[x->ntries++];
			stk_eng_init(&x->eng, t, rates[ri], seq, NULL, a->identify);
			x->eng.not_before = next_not_before;
			next_not_before = 0;
			err = sd_run(&x->eng.eng, l, overall);
			if (err == SD_ERR_CLOSED || err == SD_ERR_IO || err == SD_ERR_TIMEOUT)
				break;
			if (t->in_sync && (!a->identify || t->got_sig)) {
				win = t;
				break;
			}
			/* A retry at this rate only after a near miss (a loader
			 * seemed to answer): noise, not a wrong rate. Each one is
			 * a fresh reset plus one clean attempt, because optiboot
			 * leaves on the first frame it reads wrong; and the reset
			 * waits until the loader's 1 s watchdog has surely fired,
			 * since optiboot 8 runs the application once when reset
			 * with its watchdog armed (avrdude #994). */
			synced_here |= t->in_sync;
			if (t->in_sync || (t->after_n && memchr(t->after, STK_RESP_INSYNC, t->after_n))) {
				next_not_before = t->t_last_tx + STK_BOOT_WINDOW + SD_MS(50);
				continue;
			}
			/* Silent before our reset, the application after it: a
			 * loader from a previous session was probably still
			 * waiting, and the reset ran the application instead
			 * (#994). The application runs now, so a second reset
			 * reaches the loader. Once, at the first rate. */
			if (ri == 0 && !ninety_four && k == 0 && seq && !t->lines_err &&
			    t->before_total == 0 && app_text_after(t)) {
				ninety_four = x->ntries;
				continue;
			}
			break;
		}
		if (err == SD_ERR_CLOSED || err == SD_ERR_IO || err == SD_ERR_TIMEOUT)
			break;
		const stk_try *t = &x->tries[x->ntries - 1];
		if (is_echo(t) || v2_signed_on(t) || avr109(t) || urboot_like(t))
			break; /* another rate would not change what answers */
		int synced = 0;
		for (size_t i = 0; i < x->ntries; i++)
			synced |= x->tries[i].in_sync;
		if (synced)
			break; /* the loader answered at this rate: its verdict stands */
	}
	if (win) {
		report_success(x, win, a, r, rates[0]);
		if (ninety_four && win == &x->tries[ninety_four]) {
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_APP_RUNNING, 0.4f);
			if (f) {
				sd_finding_summary(f, "the first reset ran the application although the board had been silent: "
						   "a loader from a previous run was probably still waiting");
				sd_finding_fix(f, "leave more than 1 s (optiboot's watchdog) between runs; optiboot 8 starts the application "
					       "once when reset with its watchdog armed (avrdude #994)");
				sd_finding_evidence(f, sync_frame, sizeof sync_frame, x->tries[0].after, x->tries[0].after_n);
			}
		}
	} else {
		const stk_try *t = NULL;
		for (size_t i = x->ntries; i-- > 0 && !t;)
			if (x->tries[i].in_sync)
				t = &x->tries[i];
		if (t)
			report_success(x, t, a, r, rates[0]);
		else
			diagnose(x, a, r, l);
	}
	if (a->exit && err != SD_ERR_CLOSED && err != SD_ERR_IO) {
		/* The exit sequence runs once, after everything (lines and
		 * pauses), in an attempt of its own that sends nothing. */
		stk_eng_init(&x->eng, &x->exit_try, x->tries[0].baud, NULL, a->exit, 0);
		x->eng.exit_only = 1;
		sd_run(&x->eng.eng, l, overall);
	}
	if (err == SD_ERR_CLOSED || err == SD_ERR_IO) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_DISCONNECTED, 0.95f);
		if (f)
			sd_finding_summary(f, "the port failed during the session: %s", sd_link_why(l, err));
		r->ok = 0;
		return err;
	}
	return r->ok ? SD_OK : SD_ERR_PROTO;
}

const sd_proto sdi_proto_stk500 = {
	.name = "stk500",
	.title = "Arduino STK500v1 / optiboot",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.poke = stk_poke,
	.poke_len = sizeof stk_poke,
	.expects = "14 10 (INSYNC, OK) to GET_SYNC 30 20",
	.explain = stk500_explain,
	.ctx_size = sizeof(stk_ctx),
	.session = stk500_session,
	.poke_order = 30, /* optiboot dies on a bad frame: it gets its own reset */
	.flags = SD_PROTO_RESETS,
};
