/*
 * shakedown — MediaTek BootROM / Preloader: the client engine and its
 * reading of unexpected bytes.
 *
 * The session is one sans-I/O engine in two phases:
 *
 *  1. Handshake (shared/protocols/mtk.md "Start handshake"): A0 0A 50 05,
 *     one byte at a time, each answered by its complement. Unlike mtkclient
 *     we do not expect each read to hold exactly the answer: bytes that do
 *     not fit ("READY", a boot log) are junk; we wait until the line is
 *     quiet and start again from A0, so a device that talks first is not
 *     flooded. Our own byte coming back is an echo (a finding), not a retry
 *     reason. The XFlash magic in the junk means a DA already runs.
 *  2. Identification, read-only: GET_HW_CODE and GET_BL_VER (BROM echoes
 *     0xFE, the Preloader answers its version: how the two are told apart);
 *     with `info` also GET_HW_SW_VER, GET_TARGET_CONFIG, GET_VERSION (BROM)
 *     and GET_ME_ID / GET_SOC_ID where the mode allows. Never a write.
 *
 * After sd_run the context holds what happened; mtk_report() turns it into
 * findings and facts. Evidence points into the context.
 */
#include "internal.h"
#include "mtk_wire.h"

static const uint8_t mtk_poke[] = { MTK_HS0 };

static int mtk_explain(const uint8_t *b, size_t n, const uint8_t *tx, size_t tx_len,
		       char *out, size_t outlen)
{
	int after = sdi_sent_is(tx, tx_len, mtk_poke, 1);
	if (n == 0)
		return sdi_say(out, outlen, 0, "mtk: no answer (expected 5F, the complement of A0)");
	if (b[0] == (uint8_t)~MTK_HS0)
		return sdi_say(out, outlen, after ? 95 : 45, "mtk: 0x5F = ~A0: a MediaTek BROM or Preloader answers the start handshake");
	if (b[0] == MTK_HS0 && after)
		return sdi_say(out, outlen, 10, "mtk: A0 came back unchanged: an echo, not the complement 5F ('Echo mismatch: got [160], expected 5f')");
	if (n >= 5 && memcmp(b, "READY", 5) == 0)
		return sdi_say(out, outlen, 60, "mtk: \"READY\": a MediaTek Preloader announcing its download window");
	if (n >= MTK_DA_MAGIC_LEN && b[0] == mtk_da_magic_byte(0) && b[1] == mtk_da_magic_byte(1) &&
	    b[2] == mtk_da_magic_byte(2) && b[3] == mtk_da_magic_byte(3))
		return sdi_say(out, outlen, 70, "mtk: EF EE EE FE is the XFlash packet magic: a MediaTek download agent (DA) is running");
	if (b[0] == MTK_PL_ACK || b[0] == MTK_PL_NACK || b[0] == MTK_PL_CONF || b[0] == MTK_PL_STOP)
		return sdi_say(out, outlen, 30, "mtk: 0x%02x is a Preloader single-byte response (%s)", b[0],
			   b[0] == MTK_PL_ACK ? "ACK" : b[0] == MTK_PL_NACK ? "NACK" : b[0] == MTK_PL_CONF ? "CONF" : "STOP");
	return sdi_say(out, outlen, 0, "mtk: 0x%02x is not a handshake reply (expected 5F to A0)", b[0]);
}

/* A Preloader's boot log: the phone booted on past BootROM. One log has
 * many tagged lines, so boots are counted by the first tag only. */
static unsigned mtk_diagnose(const sd_classify_in *in, sd_diag *d)
{
	const uint8_t *b = in->rx;
	size_t n = b ? in->rx_len : 0;
	if (n == 0 || sdi_text_count(b, n) * 10 < n * 5)
		return 0;
	if (!sdi_find(b, n, "[PLFM]") && !sdi_find(b, n, "[BLDR]") && !sdi_find(b, n, "Preloader") &&
	    !sdi_find(b, n, "[PART]"))
		return 0;
	size_t banners = sdi_count_of(b, n, "[PLFM] Init I2C");
	sd_finding *f = sd_diag_add(d, SD_CAUSE_BOOT_LOG, 0.88f);
	if (f) {
		sd_finding_summary(f, "a MediaTek Preloader log: the phone booted on past BootROM");
		sd_finding_fix(f, "power off, hold the volume key(s) while connecting to reach BootROM download mode");
		sd_finding_evidence(f, in->tx, in->tx_len, b, n);
	}
	if (banners >= 2 && (f = sd_diag_add(d, SD_CAUSE_BOOTLOOP, 0.94f))) {
		sd_finding_summary(f, "the device booted %zu times while we listened: it is in a boot loop", banners);
		sd_finding_evidence(f, in->tx, in->tx_len, b, n);
	}
	return SD_CLAIM_BOOTLOG;
}

/* ---- the client engine ------------------------------------------------ */

enum { ST_HS_WAIT = 1, ST_HS_QUIET, ST_CMD, ST_CMD_DRAIN };
enum { OUT_NONE = 0, OUT_OK, OUT_ECHO, OUT_SILENT, OUT_DA, OUT_JUNK, OUT_CLOSED, OUT_LINK, OUT_PROTO, OUT_HUNG };
enum { MODE_UNKNOWN = 0, MODE_BROM, MODE_PRELOADER };

/* The read-only queries, in the order sent. */
enum { Q_HW_CODE, Q_BL_VER, Q_HW_SW_VER, Q_TARGET_CONFIG, Q_BROM_VER, Q_ME_ID, Q_SOC_ID, Q_PL_CAP, Q_END };

typedef struct mtk_query {
	uint8_t     cmd;
	uint8_t     echo;    /* the device echoes the command byte first */
	uint8_t     fixed;   /* reply bytes after the echo; 0 = length-prefixed */
	const char *name;
} mtk_query;

static const mtk_query queries[Q_END] = {
	[Q_HW_CODE]       = { MTK_CMD_GET_HW_CODE, 1, MTK_HW_CODE_REPLY, "GET_HW_CODE" },
	[Q_BL_VER]        = { MTK_CMD_GET_BL_VER, 0, 1, "GET_BL_VER" },
	[Q_HW_SW_VER]     = { MTK_CMD_GET_HW_SW_VER, 1, MTK_HW_SW_VER_REPLY, "GET_HW_SW_VER" },
	[Q_TARGET_CONFIG] = { MTK_CMD_GET_TARGET_CONFIG, 1, MTK_TARGET_CFG_REPLY, "GET_TARGET_CONFIG" },
	[Q_BROM_VER]      = { MTK_CMD_GET_VERSION, 0, 1, "GET_VERSION" },
	[Q_ME_ID]         = { MTK_CMD_GET_ME_ID, 1, 0, "GET_ME_ID" },
	[Q_SOC_ID]        = { MTK_CMD_GET_SOC_ID, 1, 0, "GET_SOC_ID" },
	[Q_PL_CAP]        = { MTK_CMD_GET_PL_CAP, 1, MTK_PL_CAP_REPLY, "GET_PL_CAP" },
};

#define REP_SIG 16u       /* bytes of junk that, seen again, mean the device repeats itself */
#define REP_MIN_DIST 64u  /* ... at least this far apart: a boot log, not a line */

typedef struct mtk_client {
	sd_engine  e;
	int        identify;
	unsigned   max_sends;
	int        state, outcome, err;
	/* handshake */
	unsigned   hs;           /* handshake bytes answered */
	unsigned   hs_best;      /* most bytes ever answered in one go */
	int        awaiting;     /* the answer to mtk_hs_byte(hs) is due */
	unsigned   a0_sent, echoes, timeouts, restarts;
	unsigned   round_trips;
	/* latency: an A0 that timed out may still be answered; that 5F must
	 * not pass for the answer to a later byte */
	unsigned   late_a0;      /* A0s sent whose 5F has not come */
	sd_time    t_a0;         /* the oldest of them went out */
	sd_time    rtt;          /* measured on the handshake (upper bound), 0 none */
	sd_time    wait;         /* the per-reply wait derived from it */
	unsigned   answered;     /* replies that fitted, handshake bytes included */
	unsigned   bad;          /* malformed replies asked again */
	uint8_t    readings[MTK_READS][4 + MTK_ID_MAX + 2]; /* this field's readings so far */
	size_t     last_len;
	unsigned   reads;
	int        noisy;        /* a malformed reply or two readings that differed, this session */
	uint8_t    hung_cmd;
	uint8_t    tx[1];
	uint8_t    sent[16];     /* the first bytes sent, as evidence */
	size_t     nsent;
	uint8_t    rx[256];
	/* junk: everything that did not fit */
	size_t     junk_total, junk_text;
	uint8_t    junk[256];
	size_t     kept;
	uint8_t    echo_byte;
	unsigned   rep_match, repeats, ready_match, da_match;
	int        rep_burst;    /* the candidate repeat began a burst */
	size_t     rep_pos;      /* junk offset where the opening bytes last began */
	sd_time    t_junk;       /* when the last junk byte came */
	int        saw_ready, saw_da;
	/* identification */
	unsigned   q, lenphase;
	uint8_t    resp[1 + 4 + MTK_ID_MAX + 2];
	size_t     need, got;
	sd_deadline cmd_dl;
	int        mode;
	int        have[Q_END];
	/* each field's accepted reading and how many readings agreed on it:
	 * a field that two readings settled before the line showed noise is
	 * read again at the end (recheck) until three agree */
	uint8_t    acc[Q_END][4 + MTK_ID_MAX + 2];
	uint8_t    acc_len[Q_END], conf[Q_END];
	int        recheck;
	uint16_t   hwcode, hwsub, hwver, swver;
	uint8_t    blver, bromver;
	uint32_t   config, plcap;
	uint8_t    meid[MTK_ID_MAX], socid[MTK_ID_MAX];
	size_t     meid_len, socid_len;
	int        stopped_q;    /* query that ended identification early, or -1 */
	char       stop_why[64];
	uint8_t    stop_rcvd[8];
	size_t     stop_rcvd_len;
	sd_time    t_start, t_hs;
} mtk_client;

static void finish(mtk_client *c, int outcome, int err)
{
	c->outcome = outcome;
	c->err = err;
	if (err)
		sd_engine_fail(&c->e, err);
	else
		sd_engine_done(&c->e);
}

static void note_sent(mtk_client *c, uint8_t b)
{
	if (c->nsent < sizeof c->sent)
		c->sent[c->nsent++] = b;
}

static void send_hs(mtk_client *c)
{
	sd_time now = sd_now(c->e.clock);
	c->tx[0] = mtk_hs_byte(c->hs);
	if (c->hs == 0) {
		c->a0_sent++;
		if (!c->late_a0)
			c->t_a0 = now;
	}
	note_sent(c, c->tx[0]);
	c->round_trips++;
	c->awaiting = 1;
	c->state = ST_HS_WAIT;
	sd_engine_send(&c->e, c->tx, 1, now + MTK_T_CMD);
}

/* Try again from A0, unless we have sent it often enough. */
static void restart(mtk_client *c)
{
	c->hs = 0;
	c->awaiting = 0;
	if (c->a0_sent >= c->max_sends) {
		/* answered part of the handshake, then nothing at all */
		c->hung_cmd = c->tx[0];
		finish(c, c->junk_total ? OUT_JUNK : c->answered ? OUT_HUNG : OUT_SILENT, SD_ERR_TIMEOUT);
		return;
	}
	c->restarts++;
	send_hs(c);
}

static void junk_byte(mtk_client *c, uint8_t b)
{
	static const char ready[] = "READY";
	if (c->kept < sizeof c->junk)
		c->junk[c->kept++] = b;
	if (sdi_is_text(b))
		c->junk_text++;
	/* The same opening bytes again, starting a new burst after a pause,
	 * a log's length after the last time: the device starts over (a
	 * reboot). A line printed periodically or one continuous flood of
	 * repeating text is not that. */
	sd_time now = sd_now(c->e.clock);
	int burst = c->junk_total == 0 || now - c->t_junk >= MTK_T_QUIET;
	c->t_junk = now;
	if (c->junk_total >= REP_SIG && c->kept >= REP_SIG) {
		if (c->rep_match > 0 && b == c->junk[c->rep_match]) {
			if (++c->rep_match == REP_SIG) {
				size_t start = c->junk_total + 1 - REP_SIG;
				if (c->rep_burst && start - c->rep_pos >= REP_MIN_DIST)
					c->repeats++;
				c->rep_pos = start; /* distance to the previous time */
				c->rep_match = 0;
			}
		} else if (b == c->junk[0]) {
			c->rep_match = 1;
			c->rep_burst = burst;
		} else {
			c->rep_match = 0;
		}
	}
	c->junk_total++;
	if (b == (uint8_t)ready[c->ready_match]) {
		if (++c->ready_match == sizeof ready - 1) {
			c->saw_ready = 1;
			c->ready_match = 0;
		}
	} else {
		c->ready_match = b == 'R' ? 1 : 0;
	}
	if (b == mtk_da_magic_byte(c->da_match)) {
		if (++c->da_match == MTK_DA_MAGIC_LEN)
			c->saw_da = 1;
	} else {
		c->da_match = b == mtk_da_magic_byte(0) ? 1 : 0;
	}
}

static void start_query(mtk_client *c);

static void hs_received(mtk_client *c, size_t n)
{
	sd_time now = sd_now(c->e.clock);
	for (size_t i = 0; i < n; i++) {
		uint8_t b = c->rx[i];
		/* The answer counts even after junk (a Preloader's "READY",
		 * then its 5F): only bytes after it make us settle first. */
		if (c->late_a0 && b == mtk_hs_answer(MTK_HS0) && (c->hs > 0 || !c->awaiting)) {
			c->late_a0--; /* the answer to an A0 that had timed out */
			continue;
		}
		if (c->awaiting && b == mtk_hs_answer(mtk_hs_byte(c->hs))) {
			if (c->hs == 0) {
				/* the round trip, from the oldest A0 still out: an
				 * upper bound, and the wait for every later reply */
				sd_time rt = now - c->t_a0;
				if (rt > c->rtt)
					c->rtt = rt;
				c->wait = SDI_MIN(SDI_MAX((sd_time)MTK_T_HS_ANSWER, 2 * c->rtt + SD_MS(50)),
						  (sd_time)MTK_T_WAIT_MAX);
				c->t_a0 = now;
			}
			c->answered++;
			c->awaiting = 0;
			c->hs++;
			if (c->hs > c->hs_best)
				c->hs_best = c->hs;
			if (i + 1 < n) {
				for (size_t k = i + 1; k < n; k++) /* the device talks over us */
					junk_byte(c, c->rx[k]);
				c->hs = 0;
				break;
			}
			if (c->hs == MTK_HS_LEN) {
				c->t_hs = now;
				c->q = Q_HW_CODE;
				start_query(c);
				return;
			}
			send_hs(c);
			return;
		}
		if (c->awaiting && n == 1 && b == mtk_hs_byte(c->hs)) {
			/* our own byte back, alone (the same value inside a
			 * burst of garbage is garbage) */
			c->echo_byte = b;
			if (++c->echoes >= 2) {
				finish(c, OUT_ECHO, SD_ERR_PROTO);
				return;
			}
			if (c->hs == 0) {
				send_hs(c); /* one echo: ask once more before calling it one */
				return;
			}
			continue;
		}
		junk_byte(c, b);
	}
	if (c->saw_da) {
		finish(c, OUT_DA, SD_ERR_PROTO);
		return;
	}
	if (c->junk_total > MTK_JUNK_BUDGET) {
		finish(c, OUT_JUNK, SD_ERR_PROTO);
		return;
	}
	/* Junk: wait until the line is quiet (an answer may still come),
	 * then start again from A0. */
	c->state = ST_HS_QUIET;
	/* on a slow link, quiet for longer than the round trip: the answers
	 * to what we sent are still on their way */
	sd_engine_recv(&c->e, c->rx, sizeof c->rx, now + SDI_MAX((sd_time)MTK_T_QUIET, c->rtt + SD_MS(30)));
}

/* ---- identification ---- */

static uint16_t be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static int query_wanted(const mtk_client *c, unsigned q)
{
	switch (q) {
	case Q_HW_CODE:
	case Q_BL_VER:
		return 1; /* also for sync: the mode is the diagnosis */
	case Q_BROM_VER:
		return c->identify && c->mode == MODE_BROM;
	case Q_PL_CAP: /* last: a Preloader without it costs nothing else */
		return c->identify && c->mode == MODE_PRELOADER;
	case Q_ME_ID:
	case Q_SOC_ID:
		return c->identify && (c->mode == MODE_BROM || c->blver >= MTK_PL_MIN_BLVER_ID);
	default:
		return c->identify;
	}
}

/* Field q was settled by two readings only. */
static int two_only(const mtk_client *c, unsigned q)
{
	return c->have[q] && c->conf[q] < 3;
}

/* Field q may be printed as known: three readings agreed, or two on a
 * line that never showed an error. */
static int sure(const mtk_client *c, unsigned q)
{
	return c->have[q] && (c->conf[q] >= 3 || !(c->noisy || c->bad));
}

/* Every field asked: done, or first read again each field that two
 * readings settled before the line showed noise (two copies spoiled alike
 * are likely enough at BER 1e-2: measured, 4 wrong answers in 14,400
 * runs), until three agree. */
static void end_queries(mtk_client *c)
{
	unsigned q = 0;
	while (q < Q_END && !two_only(c, q))
		q++;
	if (c->recheck || !(c->noisy || c->bad) || q == Q_END) {
		finish(c, OUT_OK, SD_OK);
		return;
	}
	c->recheck = 1;
	c->q = q;
	c->reads = 0;
	start_query(c);
}

static void stop_ident(mtk_client *c, const char *why)
{
	if (c->recheck && c->q < Q_END && c->q > Q_BL_VER && c->have[c->q]) {
		/* its third reading never agreed: no longer a claim; the
		 * other fields are still rechecked */
		c->have[c->q] = 0;
		c->q++;
		c->reads = 0;
		start_query(c);
		return;
	}
	if (c->recheck && c->q <= Q_BL_VER)
		c->mode = 0; /* the identity did not hold: nothing is printed as known */
	c->stopped_q = (int)c->q;
	sdi_fmt(c->stop_why, sizeof c->stop_why, "%s", why);
	c->stop_rcvd_len = SDI_MIN(c->got, sizeof c->stop_rcvd);
	memcpy(c->stop_rcvd, c->resp, c->stop_rcvd_len);
	/* Without the hardware code and the mode nothing is identified. */
	if (c->q <= Q_BL_VER) {
		finish(c, OUT_PROTO, SD_ERR_PROTO);
		return;
	}
	c->q = Q_END;
	end_queries(c);
}

static void start_query(mtk_client *c)
{
	while (c->q < Q_END && (!query_wanted(c, c->q) || (c->recheck && !two_only(c, c->q))))
		c->q++;
	if (c->q >= Q_END) {
		end_queries(c);
		return;
	}
	if (c->recheck && c->reads == 0) {
		/* the two readings that settled it count: one more must agree */
		memcpy(c->readings[0], c->acc[c->q], c->acc_len[c->q]);
		memcpy(c->readings[1], c->acc[c->q], c->acc_len[c->q]);
		c->reads = 2;
		c->last_len = c->acc_len[c->q];
	}
	const mtk_query *x = &queries[c->q];
	sd_time now = sd_now(c->e.clock);
	c->state = ST_CMD;
	c->tx[0] = x->cmd;
	note_sent(c, x->cmd);
	c->round_trips++;
	c->got = 0;
	c->lenphase = 0;
	c->need = x->echo + (x->fixed ? x->fixed : 4u);
	c->cmd_dl = now + SDI_MAX((sd_time)MTK_T_CMD, c->wait);
	sd_engine_send(&c->e, c->tx, 1, c->cmd_dl);
}

static void want_more(mtk_client *c)
{
	sd_engine_recv(&c->e, c->resp + c->got, c->need - c->got, c->cmd_dl);
}

/* A malformed reply: drain until quiet, then ask again (bounded). */
static void ask_again(mtk_client *c, const char *why)
{
	if (++c->bad > MTK_BAD_MAX) {
		stop_ident(c, why);
		return;
	}
	c->state = ST_CMD_DRAIN;
	sd_engine_recv(&c->e, c->rx, sizeof c->rx,
		       sd_now(c->e.clock) + SDI_MAX((sd_time)MTK_T_QUIET, c->rtt + SD_MS(30)));
}

static void query_done(mtk_client *c)
{
	const mtk_query *x = &queries[c->q];
	const uint8_t *p = c->resp + x->echo;
	if (x->echo && c->resp[0] != x->cmd) {
		ask_again(c, "the echo of the command was wrong");
		return;
	}
	if (!x->fixed && c->lenphase == 0) {
		uint32_t len = be32(p);
		if (len == 0 || len > MTK_ID_MAX) {
			ask_again(c, "the ID length is out of range");
			return;
		}
		c->lenphase = 1;
		c->need = x->echo + 4u + len + 2u;
		want_more(c);
		return;
	}
	c->answered++;
	/* No checksum protects these replies: read until two agree. */
	{
		size_t len = c->need - x->echo;
		unsigned same = 1;
		if (c->reads && c->last_len != len)
			c->reads = 0; /* another length: start over */
		for (unsigned i = 0; i < c->reads; i++)
			same += memcmp(c->readings[i], p, len) == 0;
		/* Two equal readings confirm a field on a clean line. Once the
		 * session has seen noise (a malformed reply, two readings that
		 * differed) two are not proof enough (the same bit flipped in
		 * both is about 2 in 1000 per field at BER 1e-2): three must
		 * agree, of at most MTK_READS. */
		if (c->reads && same == 1)
			c->noisy = 1;
		if (same < (c->noisy || c->bad ? 3u : 2u)) {
			if (c->reads >= MTK_READS) {
				stop_ident(c, "the readings never agreed");
				return;
			}
			memcpy(c->readings[c->reads++], p, len);
			c->last_len = len;
			start_query(c);
			return;
		}
		c->reads = 0;
		c->conf[c->q] = (uint8_t)SDI_MIN(same, 255u);
		memcpy(c->acc[c->q], p, len);
		c->acc_len[c->q] = (uint8_t)len;
	}
	switch (c->q) {
	case Q_HW_CODE:
		c->hwcode = be16(p);
		break;
	case Q_BL_VER:
		if (p[0] == MTK_CMD_GET_BL_VER) {
			c->mode = MODE_BROM;
		} else {
			c->mode = MODE_PRELOADER;
			c->blver = p[0];
		}
		break;
	case Q_HW_SW_VER:
		c->hwsub = be16(p);
		c->hwver = be16(p + 2);
		c->swver = be16(p + 4);
		break;
	case Q_TARGET_CONFIG:
		c->config = be32(p);
		break;
	case Q_BROM_VER:
		c->bromver = p[0];
		break;
	case Q_PL_CAP:
		c->plcap = be32(p);
		break;
	case Q_ME_ID:
	case Q_SOC_ID: {
		size_t len = c->need - x->echo - 4u - 2u;
		memcpy(c->q == Q_ME_ID ? c->meid : c->socid, p + 4, len);
		*(c->q == Q_ME_ID ? &c->meid_len : &c->socid_len) = len;
		break;
	}
	default:
		break;
	}
	c->have[c->q] = 1;
	c->q++;
	start_query(c);
}

static void mtk_step(sd_engine *e, const sd_event *ev)
{
	mtk_client *c = (mtk_client *)e;
	sd_time now = sd_now(e->clock);

	switch (ev->type) {
	case SD_EV_START:
		c->t_start = now;
		send_hs(c);
		return;
	case SD_EV_SENT:
		if (c->state == ST_CMD) {
			want_more(c);
			return;
		}
		sd_engine_recv(e, c->rx, sizeof c->rx, now + c->wait);
		return;
	case SD_EV_RECEIVED:
		if (c->state == ST_CMD_DRAIN) {
			sd_engine_recv(e, c->rx, sizeof c->rx, now + SDI_MAX((sd_time)MTK_T_QUIET, c->rtt + SD_MS(30)));
			return;
		}
		if (c->state == ST_CMD) {
			if (c->got == 0 && c->late_a0 && c->resp[0] == mtk_hs_answer(MTK_HS0)) {
				/* a late answer to an earlier A0 */
				c->late_a0--;
				memmove(c->resp, c->resp + 1, ev->n - 1);
				if (ev->n == 1) {
					want_more(c);
					return;
				}
				c->got += ev->n - 1;
				if (c->got < c->need)
					want_more(c);
				else
					query_done(c);
				return;
			}
			c->got += ev->n;
			if (c->got < c->need)
				want_more(c);
			else
				query_done(c);
			return;
		}
		hs_received(c, ev->n);
		return;
	case SD_EV_TIMEOUT:
		if (c->state == ST_CMD) {
			if (c->got == 0) {
				/* not a byte in several round trips: it stopped */
				c->hung_cmd = queries[c->q].cmd;
				c->stopped_q = (int)c->q;
				sdi_fmt(c->stop_why, sizeof c->stop_why, "no reply");
				finish(c, OUT_HUNG, SD_ERR_TIMEOUT);
				return;
			}
			ask_again(c, "the reply stopped short");
			return;
		}
		if (c->state == ST_CMD_DRAIN) {
			start_query(c); /* drained: ask again */
			return;
		}
		if (c->state == ST_HS_WAIT) {
			c->timeouts++;
			/* its answer may yet come, late: counted, not junk */
			if (c->awaiting && c->hs == 0 && c->late_a0 < 64)
				c->late_a0++;
		}
		restart(c); /* silence after junk, or no answer: from A0 again */
		return;
	case SD_EV_LINK_ERROR:
		finish(c, ev->err == SD_ERR_CLOSED ? OUT_CLOSED : OUT_LINK, ev->err ? ev->err : SD_ERR_IO);
		return;
	default: /* CTRL_DONE: we ask for none */
		restart(c);
		return;
	}
}

static const sd_engine_ops mtk_client_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "mtk",
	.step = mtk_step,
};

size_t sdi_mtk_client_size(void)
{
	return sizeof(mtk_client);
}

sd_engine *sdi_mtk_client_init(void *ctx, int identify, unsigned retries)
{
	mtk_client *c = ctx;
	memset(c, 0, sizeof *c);
	sd_engine_init(&c->e, &mtk_client_ops);
	c->identify = identify;
	c->max_sends = retries ? SDI_MIN(retries + 1u, 100u) * 5u : MTK_HS_MAX_SENDS;
	c->wait = MTK_T_HS_ANSWER;
	c->stopped_q = -1;
	return &c->e;
}

/* ---- the report ---- */

static void hex(char *out, size_t outlen, const uint8_t *b, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		sdi_append(out, outlen, "%02X", b[i]);
}

/* The first junk bytes as text, for a summary (non-text as '.'). */
static void junk_text(const mtk_client *c, char *out, size_t outlen, size_t max)
{
	size_t n = SDI_MIN(c->kept, max), k = 0;
	for (size_t i = 0; i < n && k + 1 < outlen; i++) {
		uint8_t b = c->junk[i];
		out[k++] = (b >= 0x20 && b < 0x7f) ? (char)b : '.';
	}
	out[k] = '\0';
}

static void flag_fact(sd_report *r, const char *key, int on, const char *if_on, const char *if_off)
{
	sd_report_fact(r, key, "%s: %s", on ? "on" : "off", on ? if_on : if_off);
}

#define UNSURE " (unverified: two readings agreed, then the line showed errors)"

static void report_ident(const mtk_client *c, sd_report *r, const mtk_chip *chip)
{
	char buf[2 * MTK_ID_MAX + 1];
	/* A session cut short on a noisy line may hold fields two readings
	 * settled: printed, but as what they are. Rechecked ones are sure. */
	const char *u_mode = sure(c, Q_BL_VER) ? "" : UNSURE, *u_hw = sure(c, Q_HW_CODE) ? "" : UNSURE;
	if (c->mode) /* unknown until GET_BL_VER read the same twice */
		sd_report_fact(r, "mode", "%s%s", c->mode == MODE_BROM ? "BootROM (BROM) download mode" :
			       "Preloader download mode", u_mode);
	sd_report_fact(r, "hw_code", "0x%04X%s", c->hwcode, u_hw);
	if (chip && (chip->flags & MTK_CHIP_PATCHED) && !*u_hw)
		sd_report_fact(r, "brom_patched", "yes: this chip's BROM exploits are closed; it needs its Preloader and a signed DA loader");
	if (c->mode == MODE_PRELOADER)
		sd_report_fact(r, "bl_version", "%u%s", c->blver, u_mode);
	if (c->have[Q_HW_SW_VER]) {
		const char *u = sure(c, Q_HW_SW_VER) ? "" : UNSURE;
		sd_report_fact(r, "hw_subcode", "0x%04X%s", c->hwsub, u);
		sd_report_fact(r, "hw_version", "0x%04X%s", c->hwver, u);
		sd_report_fact(r, "sw_version", "0x%04X%s", c->swver, u);
	}
	if (c->have[Q_BROM_VER])
		sd_report_fact(r, "brom_version", "0x%02X%s", c->bromver, sure(c, Q_BROM_VER) ? "" : UNSURE);
	if (c->have[Q_TARGET_CONFIG] && !sure(c, Q_TARGET_CONFIG)) {
		sd_report_fact(r, "target_config", "0x%08X%s", c->config, UNSURE);
	} else if (c->have[Q_TARGET_CONFIG]) {
		uint32_t f = c->config;
		sd_report_fact(r, "target_config", "0x%08X", f);
		flag_fact(r, "secure_boot", f & MTK_CFG_SBC,
			  "only signed images boot (SBC): flashing unsigned images bricks the boot",
			  "unsigned images boot");
		flag_fact(r, "sla", f & MTK_CFG_SLA,
			  "a stock DA needs an auth file (Serial Link Authentication)",
			  "no serial-link authentication");
		flag_fact(r, "daa", f & MTK_CFG_DAA,
			  "only a DA signed for this model is accepted (Download Agent Authentication)",
			  "any DA for this chip is accepted");
		if (f & (MTK_CFG_CERT | MTK_CFG_MEMREAD | MTK_CFG_MEMWRITE))
			sd_report_fact(r, "auth_required", "%s%s%s",
				       f & MTK_CFG_CERT ? "root certificate; " : "",
				       f & MTK_CFG_MEMREAD ? "memory read; " : "",
				       f & MTK_CFG_MEMWRITE ? "memory write" : "");
	}
	if (c->have[Q_PL_CAP])
		sd_report_fact(r, "pl_caps", "0x%08X (%s%s%s)%s", c->plcap,
			       c->plcap & MTK_PLCAP_XFLASH ? "XFlash DA " : "",
			       c->plcap & MTK_PLCAP_MEID ? "ME-ID " : "",
			       c->plcap & MTK_PLCAP_SOCID ? "SoC-ID" : "", sure(c, Q_PL_CAP) ? "" : UNSURE);
	if (c->have[Q_ME_ID]) {
		hex(buf, sizeof buf, c->meid, c->meid_len);
		sd_report_fact(r, "me_id", "%s%s", buf, sure(c, Q_ME_ID) ? "" : UNSURE);
	}
	if (c->have[Q_SOC_ID]) {
		hex(buf, sizeof buf, c->socid, c->socid_len);
		sd_report_fact(r, "soc_id", "%s%s", buf, sure(c, Q_SOC_ID) ? "" : UNSURE);
	}
	if (c->identify && c->mode == MODE_PRELOADER && c->blver < MTK_PL_MIN_BLVER_ID)
		sd_report_fact(r, "me_id", "not available: this Preloader (version %u) has no GET_ME_ID", c->blver);
	if (c->stopped_q >= 0)
		sd_report_fact(r, "stopped_at", "%s: %s", queries[c->stopped_q].name, c->stop_why);
	/* every value above came the same in two readings (three once the
	 * line showed errors; no checksum protects a BROM reply); what did
	 * not is not printed, what two settled before errors showed is
	 * listed unverified */
	char v[200] = "", u[200] = "";
	if (c->mode)
		sdi_append(sure(c, Q_BL_VER) ? v : u, sizeof v, " mode");
	sdi_append(*u_hw ? u : v, sizeof v, " hw_code");
	if (c->mode == MODE_PRELOADER)
		sdi_append(*u_mode ? u : v, sizeof v, " bl_version");
	if (c->have[Q_HW_SW_VER])
		sdi_append(sure(c, Q_HW_SW_VER) ? v : u, sizeof v, " hw_subcode hw_version sw_version");
	if (c->have[Q_BROM_VER])
		sdi_append(sure(c, Q_BROM_VER) ? v : u, sizeof v, " brom_version");
	if (c->have[Q_TARGET_CONFIG] && sure(c, Q_TARGET_CONFIG))
		sdi_append(v, sizeof v, " target_config secure_boot sla daa%s",
			   c->config & (MTK_CFG_CERT | MTK_CFG_MEMREAD | MTK_CFG_MEMWRITE) ? " auth_required" : "");
	else if (c->have[Q_TARGET_CONFIG])
		sdi_append(u, sizeof u, " target_config");
	if (c->have[Q_PL_CAP])
		sdi_append(sure(c, Q_PL_CAP) ? v : u, sizeof v, " pl_caps");
	if (c->have[Q_ME_ID])
		sdi_append(sure(c, Q_ME_ID) ? v : u, sizeof v, " me_id");
	if (c->have[Q_SOC_ID])
		sdi_append(sure(c, Q_SOC_ID) ? v : u, sizeof v, " soc_id");
	if (v[0])
		sd_report_fact(r, "verified", "%s", v + 1);
	if (u[0])
		sd_report_fact(r, "unverified", "%s", u + 1);
	if (c->bad)
		sd_report_fact(r, "reread", "%u malformed repl%s drained and asked again", c->bad, c->bad == 1 ? "y" : "ies");
}

static void add_silent(const mtk_client *c, sd_report *r)
{
	sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_SILENT, 0.6f);
	if (f) {
		sd_finding_summary(f, "no answer to A0 (%u tries, %u ms each): no MediaTek download mode is listening on this port",
				   c->a0_sent, (unsigned)(MTK_T_HS_ANSWER / 1000));
		sd_finding_fix(f, "the Preloader's window lasts seconds: start shakedown first, then connect the powered-off phone "
			       "(hold volume up/down while connecting for BROM)");
		sd_finding_evidence(f, c->sent, c->nsent, NULL, 0);
	}
	f = sd_diag_add(&r->diag, SD_CAUSE_DRIVER, 0.4f);
	if (f) {
		sd_finding_summary(f, "the port may not be the phone's download interface, or its driver is wrong");
		sd_finding_fix(f, "Linux: the phone must appear as ttyACM (cdc_acm, VID 0e8d; shakedown ports); Windows: install "
			       "the MediaTek PreLoader USB VCOM driver, or use a libusb filter and usb:0e8d:0003");
	}
	f = sd_diag_add(&r->diag, SD_CAUSE_MODEM_MANAGER, 0.3f);
	if (f) {
		sd_finding_summary(f, "ModemManager may have probed the new ttyACM with AT commands and eaten the short window");
		sd_finding_fix(f, "sudo systemctl stop ModemManager, or a udev rule ATTRS{idVendor}==\"0e8d\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"");
	}
}

static void add_junk(const mtk_client *c, sd_report *r, int closed)
{
	char txt[48];
	junk_text(c, txt, sizeof txt, 40);
	int text = c->junk_text * 2 >= c->junk_total;
	/* a boot log's worth of text and then the port gone: a reboot */
	if (c->repeats || (closed && text && c->junk_total >= REP_MIN_DIST)) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_BOOTLOOP, 0.8f);
		if (f) {
			sd_finding_summary(f, "the phone prints its boot log again and again%s: it reboots in a loop (\"%s\")",
					   closed ? " and drops off the bus" : "", txt);
			sd_finding_fix(f, "a bootloop happens after BROM: power off, hold volume up/down (or short the test point) "
				       "while connecting to catch BROM, then reflash the Preloader; a steady battery helps");
			sd_finding_evidence(f, c->sent, c->nsent, c->junk, c->kept);
			sd_finding_detail(f, "%zu bytes of junk, the opening bytes seen %u more time(s)", c->junk_total, c->repeats);
		}
		return;
	}
	sd_finding *f = sd_diag_add(&r->diag, text ? SD_CAUSE_BOOT_LOG : SD_CAUSE_UNKNOWN, 0.55f);
	if (f && c->saw_ready)
		sd_finding_detail(f, "a Preloader said READY but never answered A0: its download mode may be closed on this "
				  "firmware; try BROM (volume keys held while connecting, or the test point)");
	if (f) {
		sd_finding_summary(f, "the port carries %s, not the download handshake (\"%s\")",
				   text ? "text" : "bytes we cannot name", txt);
		sd_finding_fix(f, "this is not a download-mode port: power off and reconnect in BROM (volume keys) "
			       "or during the Preloader's window; check the port with shakedown ports");
		sd_finding_evidence(f, c->sent, c->nsent, c->junk, c->kept);
	}
}

static void mtk_report(const mtk_client *c, sd_report *r)
{
	const mtk_chip *chip = c->have[Q_HW_CODE] ? sdi_mtk_chip(c->hwcode) : NULL;
	/* "answered by mtk" only when something MediaTek answered */
	if (c->outcome == OUT_OK || c->outcome == OUT_DA || c->hs_best > 0)
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "mtk");
	sd_report_fact(r, "round_trips", "%u", c->round_trips);
	if (c->rtt)
		sd_report_fact(r, "round_trip", "%lld.%lld ms (A0 to its 5F, an upper bound)", (long long)(c->rtt / 1000),
			       (long long)(c->rtt % 1000 / 100));
	if (sure(c, Q_HW_CODE)) {
		if (chip)
			sdi_fmt(r->by.chip, sizeof r->by.chip, "%s", chip->name);
		else
			sdi_fmt(r->by.chip, sizeof r->by.chip, "unknown MediaTek (hw code 0x%04X)", c->hwcode);
	}
	if (c->mode && sure(c, Q_BL_VER))
		sdi_fmt(r->by.mode, sizeof r->by.mode, "%s", c->mode == MODE_BROM ? "brom" : "preloader");

	switch (c->outcome) {
	case OUT_OK: {
		r->ok = 1;
		report_ident(c, r, chip);
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_OK, 1.0f);
		if (f) {
			sd_finding_summary(f, "MediaTek %s answered: %s (hw code 0x%04X)",
					   c->mode == MODE_BROM ? "BootROM" : "Preloader", r->by.chip, c->hwcode);
			sd_finding_evidence(f, c->sent, c->nsent, NULL, 0);
			if (c->junk_total) {
				char txt[48];
				junk_text(c, txt, sizeof txt, 40);
				sd_finding_detail(f, "resynced through %zu byte(s) the device sent first: \"%s\"", c->junk_total, txt);
			}
			if (c->rtt > MTK_CLIENT_HS_WAIT)
				sd_finding_detail(f, "the round trip is %lld ms: mtkclient's serial handshake waits %d ms for each "
						  "answer and starts over from A0 when one is late, so it does not get through here; "
						  "shakedown waited up to %lld ms", (long long)(c->rtt / 1000),
						  (int)(MTK_CLIENT_HS_WAIT / 1000), (long long)(c->wait / 1000));
		}
		if (c->mode == MODE_PRELOADER) {
			f = sd_diag_add(&r->diag, SD_CAUSE_PRELOADER_NOT_BROM, 0.6f);
			if (f) {
				sd_finding_summary(f, "the phone is in Preloader mode, not BootROM: a tool that needs BROM "
						   "(exploits, mtkclient without a DA loader) fails here with \"Handshake failed\"");
				if (chip && (chip->flags & MTK_CHIP_PATCHED))
					sd_finding_fix(f, "%s has a patched BROM (\"Preloader only\"): stay in Preloader and use a "
						       "signed DA loader for this model", chip->name);
				else
					sd_finding_fix(f, "to reach BROM: power off, hold volume up+down (or your model's key) while "
						       "plugging in; if the keys do not work, short the test point to ground while connecting");
				sd_finding_detail(f, "the Preloader leaves its download window after a few seconds; the handshake keeps it");
			}
		}
		return;
	}
	case OUT_ECHO: {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_ECHO, 0.9f);
		if (f) {
			sd_finding_summary(f, "the port echoes: %02X came back as itself, not its complement %02X "
					   "(mtkclient: \"Echo mismatch: got [%u], expected %02x\")",
					   c->echo_byte, mtk_hs_answer(c->echo_byte), c->echo_byte, mtk_hs_answer(c->echo_byte));
			sd_finding_fix(f, "a loopback (TX tied to RX), a tty with echo on, or the wrong port (a modem or "
				       "ADB/META interface): find the phone's download port with shakedown ports");
			sd_finding_evidence(f, c->sent, c->nsent, &c->echo_byte, 1);
		}
		return;
	}
	case OUT_DA: {
		sdi_fmt(r->by.mode, sizeof r->by.mode, "da");
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_DA_MODE, 0.9f);
		if (f) {
			sd_finding_summary(f, "a download agent (DA) already runs: it answers in XFlash packets (magic EF EE EE FE), "
					   "the BROM/Preloader commands are gone");
			sd_finding_fix(f, "continue with the tool that loaded the DA, or power off (hold power ~10 s) and reconnect "
				       "for BROM/Preloader");
			sd_finding_evidence(f, c->sent, c->nsent, c->junk, c->kept);
		}
		return;
	}
	case OUT_CLOSED: {
		if (c->junk_total)
			add_junk(c, r, 1);
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_DISCONNECTED, 0.7f);
		if (f) {
			if (c->hs_best == MTK_HS_LEN)
				sd_finding_summary(f, "the port vanished during identification (after the handshake): the phone "
						   "reset, e.g. its watchdog, or the cable moved");
			else if (c->saw_ready)
				sd_finding_summary(f, "a Preloader said READY, then left before the handshake completed (%u of 4 "
						   "bytes answered): its download window closed", c->hs_best);
			else
				sd_finding_summary(f, "the port vanished mid-handshake (%u of 4 bytes answered): the Preloader's "
						   "window closed or the phone re-enumerated", c->hs_best);
			sd_finding_fix(f, "retry immediately after reconnecting: start shakedown first, then plug the phone in "
				       "(the Preloader waits only seconds)");
			sd_finding_evidence(f, c->sent, c->nsent, c->junk, c->kept);
		}
		return;
	}
	case OUT_JUNK:
		add_junk(c, r, 0);
		return;
	case OUT_HUNG: {
		if (c->have[Q_HW_CODE])
			report_ident(c, r, chip);
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_STOPPED_ANSWERING, 0.9f);
		if (f) {
			if (c->stopped_q >= 0)
				sd_finding_summary(f, "the MediaTek %s stopped answering after %u repl%s: no byte in %lld ms to %02X %s",
						   c->mode == MODE_BROM ? "BootROM" : c->mode == MODE_PRELOADER ? "Preloader" : "device",
						   c->answered, c->answered == 1 ? "y" : "ies",
						   (long long)(SDI_MAX((sd_time)MTK_T_CMD, c->wait) / 1000), c->hung_cmd,
						   queries[c->stopped_q].name);
			else
				sd_finding_summary(f, "the MediaTek device answered %u handshake byte(s), then stopped answering: "
						   "%u A0s in a row got no byte (%lld ms each)", c->answered, c->timeouts,
						   (long long)(c->wait / 1000));
			sd_finding_fix(f, "power-cycle the phone and reconnect in download mode; if it stops at the same command, "
				       "send the --trace file with a bug report");
			sd_finding_evidence(f, c->sent, c->nsent, NULL, 0);
		}
		return;
	}
	case OUT_PROTO: {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_UNKNOWN, 0.6f);
		if (f) {
			sd_finding_summary(f, "the handshake completed but %s got %s", queries[c->stopped_q < 0 ? 0 : c->stopped_q].name,
					   c->stop_why);
			sd_finding_fix(f, "power-cycle the phone and retry; if it repeats, send the --trace file with a bug report");
			sd_finding_evidence(f, c->sent, c->nsent, c->stop_rcvd, c->stop_rcvd_len);
		}
		return;
	}
	case OUT_LINK:
		sd_diag_add(&r->diag, SD_CAUSE_DRIVER, 0.5f);
		return;
	default: /* the run's own deadline: silent, or junk */
		if (c->junk_total)
			add_junk(c, r, 0);
		else
			add_silent(c, r);
		return;
	}
}

void sdi_mtk_client_report(const void *ctx, sd_report *r)
{
	mtk_report(ctx, r);
}

static int mtk_session(void *ctx, sd_link *l, const sd_proto_args *a, sd_report *r)
{
	sd_engine *e = sdi_mtk_client_init(ctx, a->identify, a->retries);
	sd_time budget = a->budget ? a->budget : MTK_T_BUDGET;
	int err = sd_run(e, l, sd_deadline_in(l->clock, budget));
	sdi_mtk_client_report(ctx, r);
	if (a->enter)
		sd_report_fact(r, "note", "--enter was not used: a MediaTek phone enters BROM by its keys or a test "
			       "point, not by DTR/RTS");
	return r->ok ? SD_OK : err;
}

const sd_proto sdi_proto_mtk = {
	.name = "mtk",
	.title = "MediaTek BootROM / Preloader",
	.line = { 115200, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE },
	.poke = mtk_poke,
	.poke_len = sizeof mtk_poke,
	.expects = "5F (the complement of A0) to A0",
	.explain = mtk_explain,
	.ctx_size = sizeof(mtk_client),
	.session = mtk_session,
	.diagnose = mtk_diagnose,
	.poke_order = 20, /* BROM restarts its handshake on any other byte */
};
