/*
 * shakedown — probe: the layers walked in the order a careful engineer
 * would, over any link.
 *
 *   1. listen at the port's settings; bytes that do not decode are heard
 *      again at the common rates (the rate scan);
 *   2. on a serial line, the protocols' read-only first frames without a
 *      reset, in their safe order (sd_proto.poke_order): every row on a
 *      silent line, only the rows that claim the bytes on a talking one. A
 *      confident answer is confirmed by the protocol's own sync;
 *   3. then each row that resets the target by itself (SD_PROTO_RESETS:
 *      avrdude's DTR/RTS pulse), one reset per attempt, with its own
 *      deadline; stop at the first confirmed answer unless opts->all;
 *   4. rank: what answered and what it means for the user's tool, or the
 *      most likely cause with the evidence, the protocols' own readings of
 *      their attempts folded in.
 * Network ports get no pokes and no resets, and no advice for boards.
 */
#include <stdlib.h>
#include "internal.h"

#define PROBE_RX_CAP     (64u * 1024u)
#define PROBE_POKE_WAIT  SD_MS(150)   /* answer window of a first frame */
#define PROBE_BOOT_MORE  SD_MS(1500)  /* after a boot log: does it boot again? */
#define PROBE_NET_WAIT   SD_S(1)      /* the same across a network */
#define PROBE_SCAN_SLICE SD_MS(250)   /* listening at one rate of the scan */
#define PROBE_SESSION    SD_S(3)      /* one protocol's sync with its resets */
#define PROBE_MAX_TRIED  8

/* The rates a rate scan tries, the ESP8266 ROM's 74880 among them. */
static const uint32_t scan_rates[] = { 115200, 74880, 9600, 57600, 19200, 38400, 230400, 460800, 921600 };

typedef struct tried {
	sd_seq          enter;
	const sd_proto *p;
	void           *ctx;   /* p->ctx_size bytes; the sub-report points into it */
	sd_report       rep;
	int             err;
} tried;

struct sd_probe {
	uint8_t  rx[PROBE_RX_CAP];     /* everything heard, in order */
	size_t   used;
	uint8_t  sent[1024];           /* every first frame sent */
	uint8_t  built[512];           /* a first frame built at run time */
	size_t   sent_len;
	uint8_t  scan[4096];           /* what the rate scan heard at its best rate */
	size_t   scan_len;
	uint32_t scan_baud;
	tried    t[PROBE_MAX_TRIED];
	size_t   nt;
};

sd_probe *sd_probe_new(void)
{
	return calloc(1, sizeof(sd_probe));
}

void sd_probe_free(sd_probe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nt; i++)
		free(p->t[i].ctx);
	free(p);
}

static void reset_probe(sd_probe *p)
{
	for (size_t i = 0; i < p->nt; i++)
		free(p->t[i].ctx);
	p->nt = 0;
	p->used = p->sent_len = p->scan_len = 0;
	p->scan_baud = 0;
}

/* A protocol's frame format (parity, data and stop bits) at the link's
 * current rate, where the link can set it. */
static void use_frame(sd_link *l, const sd_proto *pr)
{
	if (!(l->caps & SD_LINK_BAUD) || !l->cfg.baud)
		return;
	sd_line_cfg cfg = pr->line;
	cfg.baud = l->cfg.baud;
	if (!(l->caps & SD_LINK_PARITY))
		cfg.parity = SD_PARITY_NONE; /* a pty: 8N1 is all it carries */
	if (memcmp(&cfg, &l->cfg, sizeof cfg) != 0)
		sd_link_set_cfg(l, &cfg);
}

/* The rows in poke order (stable on table order). */
static size_t rows_in_order(const sd_proto **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < sd_proto_count() && n < max; i++) {
		const sd_proto *pr = sd_proto_at(i);
		size_t k = n++;
		while (k && out[k - 1]->poke_order > pr->poke_order) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = pr;
	}
	return n;
}

static size_t text_of(const uint8_t *b, size_t n)
{
	return sdi_text_count(b, n);
}

/* ---- 1b. the rate scan -------------------------------------------------- */

/* Bytes that do not decode: hear them again at each common rate and keep
 * the rate at which they are text. Restores the link's settings. */
static void rate_scan(sd_probe *p, sd_link *l, sd_deadline overall)
{
	sd_line_cfg was = l->cfg;
	uint32_t order[SDI_ARRAY_LEN(scan_rates) + 1];
	size_t n = 0;
	sd_baud_guess g[1];
	if (sd_baud_guess_pairs(p->rx, p->used, was.baud, g, 1) && g[0].device_baud != was.baud)
		order[n++] = g[0].device_baud;
	for (size_t i = 0; i < SDI_ARRAY_LEN(scan_rates); i++)
		if (scan_rates[i] != was.baud && (n == 0 || scan_rates[i] != order[0]))
			order[n++] = scan_rates[i];

	for (size_t i = 0; i < n && sd_now(l->clock) < overall; i++) {
		sd_line_cfg cfg = was;
		cfg.baud = order[i];
		if (sd_link_set_cfg(l, &cfg) != SD_OK)
			continue;
		sd_link_flush(l, SD_FLUSH_IN);
		uint8_t buf[sizeof p->scan];
		sd_listen L;
		sd_listen_init(&L, buf, sizeof buf, PROBE_SCAN_SLICE, NULL, 0, 0);
		L.enough = 256;
		if (sd_run(&L.eng, l, overall) != SD_OK)
			break;
		if (L.len >= 4 && text_of(buf, L.len) * 10 >= L.len * 9) {
			memcpy(p->scan, buf, L.len);
			p->scan_len = L.len;
			p->scan_baud = order[i];
			break;
		}
	}
	sd_link_set_cfg(l, &was);
	sd_link_flush(l, SD_FLUSH_IN);
}

/* ---- 2, 3. the protocols' own attempts -------------------------------- */

static tried *run_session(sd_probe *p, const sd_proto *pr, sd_link *l, const sd_probe_opts *o,
			  sd_deadline overall, int no_reset)
{
	if (!pr->session || p->nt >= PROBE_MAX_TRIED)
		return NULL;
	sd_time left = overall - sd_now(l->clock);
	if (left <= SD_MS(20))
		return NULL;
	tried *t = &p->t[p->nt];
	memset(t, 0, sizeof *t);
	t->ctx = calloc(1, pr->ctx_size ? pr->ctx_size : 1);
	if (!t->ctx)
		return NULL;
	p->nt++;
	t->p = pr;
	sd_report_init(&t->rep, "sync", NULL);
	sd_proto_args a = {
		.identify = 1, /* read-only: what answered, not only that it did */
		.no_reset = no_reset || o->no_reset,
		.budget = SDI_MIN(left, PROBE_SESSION),
	};
	if (!a.no_reset && pr->probe_enter &&
	    sd_seq_parse(pr->probe_enter, strlen(pr->probe_enter), &t->enter, NULL, 0) == SD_OK)
		a.enter = &t->enter;
	use_frame(l, pr);
	t->err = pr->session(t->ctx, l, &a, &t->rep);
	sd_diag_sort(&t->rep.diag);
	return t;
}

/* A session that identified what is there: its own loader (ok), another
 * loader it knows (STK500v2, AVR109, urboot), or its protocol in another
 * state (a MediaTek DA, a protected STM32), each named with confidence. */
static int identified(const tried *t)
{
	const sd_diag *d = &t->rep.diag;
	if (!d->n || d->f[0].confidence < 0.85f || !t->rep.by.protocol[0])
		return 0;
	switch (d->f[0].cause) {
	case SD_CAUSE_WRONG_PROTOCOL:
	case SD_CAUSE_DA_MODE:
	case SD_CAUSE_PRELOADER_NOT_BROM:
	case SD_CAUSE_READ_PROTECTED:
		return 1;
	default:
		return 0;
	}
}

static int answered(const tried *t)
{
	return t && (t->rep.ok || identified(t));
}

/* ---- 4. the report ------------------------------------------------------- */

static void copy_facts(sd_report *r, const sd_report *from)
{
	for (size_t i = 0; i < from->nfacts; i++)
		sd_report_fact(r, from->facts[i].key, "%s", from->facts[i].value);
}

/* What a confirmed answer means for the user's tool. */
static void report_answer(sd_report *r, const tried *t, const sd_probe_opts *o)
{
	const sd_diag *sd = &t->rep.diag;
	int own = t->rep.ok;  /* the row's own loader, in sync */
	int wrong = o->expect && strcmp(o->expect, t->p->name) != 0;
	r->by = t->rep.by;
	if (!r->by.protocol[0])
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "%s", t->p->name);
	copy_facts(r, &t->rep);
	/* another loader that a known tool takes is an answer too; a DA or a
	 * protected chip is a diagnosis */
	r->ok = !wrong && (own || (sd->n && sd->f[0].cause == SD_CAUSE_WRONG_PROTOCOL));
	sd_cause c = own ? (wrong ? SD_CAUSE_WRONG_PROTOCOL : SD_CAUSE_OK) : sd->f[0].cause;
	const sd_finding *top = NULL;
	for (size_t i = 0; i < sd->n && !top; i++)
		if (sd->f[i].cause == (own ? SD_CAUSE_OK : c))
			top = &sd->f[i];
	sd_finding *f = sd_diag_add(&r->diag, c, 0.97f);
	if (!f)
		return;
	if (own)
		sd_finding_summary(f, "%s: %s", t->p->title, top ? top->summary : "in sync");
	else
		sd_finding_summary(f, "%s", top ? top->summary : "another loader answered");
	if (r->by.mode[0])
		sd_finding_detail(f, "mode: %s%s%s", r->by.mode, r->by.chip[0] ? ", chip: " : "", r->by.chip);
	if (top) {
		sd_finding_evidence(f, top->sent, top->sent_len, top->rcvd, top->rcvd_len);
		if (top->detail[0])
			sd_finding_detail(f, "%s", top->detail);
		if (top->fix[0])
			sd_finding_fix(f, "%s", top->fix);
	}
	/* the peer tool's command line, where the session names one */
	const char *tool = sd_report_fact_get(&t->rep, "avrdude");
	if (!tool)
		tool = sd_report_fact_get(&t->rep, "stm32flash");
	if (own && tool)
		sd_finding_fix(f, "%s will work", tool);
	else if (own && !top)
		sd_finding_fix(f, "shakedown info %s PORT reads its identity (read-only)", t->p->name);
	if (wrong)
		sd_finding_detail(f, "you expected %s", o->expect);
	/* the rest of what the session found (another rate, protection),
	 * ranked below the answer */
	for (size_t i = 0; i < sd->n; i++) {
		const sd_finding *s = &sd->f[i];
		if (s == top || s->cause == c)
			continue;
		sd_finding *g = sd_diag_add(&r->diag, s->cause, SDI_MIN(s->confidence, 0.9f));
		if (g) {
			float conf = g->confidence;
			*g = *s;
			g->confidence = conf;
		}
	}
}

/* A failed session's reading, folded into the ranking: a cause the bytes
 * already showed gets the protocol's words as detail (with its fix: it
 * saw the reset), a confident new cause joins below with the protocol
 * named, and a guess stays a detail of the first finding. A session that
 * heard nothing says nothing against bytes that others heard. r->diag is
 * sorted. */
static void fold_session(sd_report *r, const tried *t, int heard_any)
{
	for (size_t i = 0; i < t->rep.diag.n; i++) {
		const sd_finding *s = &t->rep.diag.f[i];
		if (s->cause == SD_CAUSE_SILENT && heard_any)
			continue;
		sd_finding *f = sd_diag_find(&r->diag, s->cause);
		if (f) {
			sd_finding_detail(f, "%s: %s", t->p->name, s->summary);
			if (s->fix[0] && s->cause != SD_CAUSE_SILENT)
				sd_finding_detail(f, "%s's fix: %s", t->p->name, s->fix);
			continue;
		}
		if (s->confidence < 0.6f) {
			/* a guess: worth a line only when nothing is sure */
			if (r->diag.n && r->diag.f[0].confidence < 0.8f)
				sd_finding_detail(&r->diag.f[0], "%s also saw: %s", t->p->name, s->summary);
			continue;
		}
		f = sd_diag_add(&r->diag, s->cause, s->confidence * 0.9f);
		if (!f)
			return;
		sd_finding_summary(f, "%s: %s", t->p->name, s->summary);
		if (s->fix[0])
			sd_finding_fix(f, "%s", s->fix);
		if (s->detail[0])
			sd_finding_detail(f, "%s", s->detail);
		sd_finding_evidence(f, s->sent, s->sent_len, s->rcvd, s->rcvd_len);
	}
}

static void report_scan(sd_report *r, const sd_probe *p, uint32_t host_baud)
{
	if (!p->scan_baud)
		return;
	char q[48];
	size_t o = 0;
	for (size_t i = 0; i < p->scan_len && o < 40; i++)
		if (p->scan[i] >= 0x20 && p->scan[i] < 0x7f)
			q[o++] = (char)p->scan[i];
		else if ((p->scan[i] == '\n' || p->scan[i] == '\r') && o && q[o - 1] != ' ')
			q[o++] = ' ';
	q[o] = '\0';
	sd_report_fact(r, "heard_at", "%lu", (unsigned long)p->scan_baud);
	sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_BAUD_MISMATCH, 0.9f);
	if (!f)
		return;
	sd_finding_summary(f, "the device talks at %lu baud, not %lu: there it prints \"%s\"",
			   (unsigned long)p->scan_baud, (unsigned long)host_baud, q);
	sd_finding_fix(f, "set the host to %lu baud (or the device's firmware to %lu)",
		       (unsigned long)p->scan_baud, (unsigned long)host_baud);
	sd_finding_detail(f, "heard again at %lu baud: %zu bytes, all text", (unsigned long)p->scan_baud,
			  p->scan_len);
}

static void answered_by_from_diag(sd_report *r)
{
	if (r->by.mode[0] || r->diag.n == 0)
		return;
	const char *m = NULL;
	switch (r->diag.f[0].cause) {
	case SD_CAUSE_APP_RUNNING: m = "application"; break;
	case SD_CAUSE_BOOT_LOG:
	case SD_CAUSE_WRONG_BOOT_MODE:
	case SD_CAUSE_BOOTLOOP: m = "boot-log"; break;
	case SD_CAUSE_ECHO: m = "echo"; break;
	case SD_CAUSE_PLAINTEXT_SERVICE: m = "service"; break;
	default: break;
	}
	if (m)
		sdi_fmt(r->by.mode, sizeof r->by.mode, "%s", m);
}

/* ---- the pipeline --------------------------------------------------------- */

int sd_probe_run(sd_probe *p, sd_link *l, const sd_probe_opts *o, sd_report *r)
{
	static const sd_probe_opts none;
	if (!p || !l || !r)
		return SD_ERR_ARG;
	if (!o)
		o = &none;
	reset_probe(p);
	const sd_clock *clk = l->clock;
	sd_time t0 = sd_now(clk);
	sd_deadline overall = sd_deadline_in(clk, o->budget > 0 ? o->budget : SD_PROBE_BUDGET);
	int net = (l->caps & SD_LINK_NET) != 0;
	const sd_proto *want = o->expect ? sd_proto_find(o->expect) : NULL;
	if (o->expect && !want)
		return SD_ERR_ARG;

	if (l->caps & SD_LINK_BAUD) {
		sd_line_cfg cfg = l->cfg;
		if (!cfg.data_bits)
			cfg = SD_LINE_CFG_8N1(115200);
		if (o->baud)
			cfg.baud = o->baud;
		if (memcmp(&cfg, &l->cfg, sizeof cfg) != 0)
			sd_link_set_cfg(l, &cfg);
	}
	uint32_t host_baud = (l->caps & SD_LINK_BAUD) ? l->cfg.baud : 0;

	/* 1. Listen: what does the line say on its own? */
	sd_listen L;
	sd_listen_init(&L, p->rx, PROBE_RX_CAP, o->listen > 0 ? o->listen : SD_PROBE_LISTEN, NULL, 0, 0);
	int err = sd_run(&L.eng, l, overall);
	p->used = L.len;
	size_t heard = L.len;
	sd_time listened = sd_now(clk) - t0;

	sd_diag first;
	sd_diag_init(&first);
	sd_classify_in in = { .rx = p->rx, .rx_len = heard, .expect = o->expect, .host_baud = host_baud,
			      .link_caps = l->caps, .listen_ms = listened / 1000 };
	if (heard)
		sd_diagnose_bytes(&in, &first);
	/* A boot log says the device just booted; whether it loops needs a
	 * longer look than the first listen. */
	if (err == SD_OK && sd_diag_find(&first, SD_CAUSE_BOOT_LOG) && !sd_diag_find(&first, SD_CAUSE_BOOTLOOP)) {
		sd_listen_init(&L, p->rx + p->used, PROBE_RX_CAP - p->used, PROBE_BOOT_MORE, NULL, 0, 0);
		L.enough = 16u * 1024u;
		err = sd_run(&L.eng, l, overall);
		p->used += L.len;
		heard = p->used;
		in.rx_len = heard;
		in.listen_ms = (sd_now(clk) - t0) / 1000;
		sd_diag_init(&first);
		sd_diagnose_bytes(&in, &first);
	}
	if (err == SD_OK && heard && (l->caps & SD_LINK_BAUD) && first.n &&
	    (first.f[0].cause == SD_CAUSE_BAUD_MISMATCH || first.f[0].cause == SD_CAUSE_NOISE ||
	     first.f[0].cause == SD_CAUSE_UNKNOWN))
		rate_scan(p, l, overall);

	/* 2. First frames, no reset, in the safe order. */
	const sd_proto *rows[16];
	size_t nrows = rows_in_order(rows, SDI_ARRAY_LEN(rows));
	tried *hit = NULL;
	int echo = 0;
	const sd_proto *net_answer = NULL;
	int net_likely = 0;
	char net_why[200] = "";
	for (size_t i = 0; !o->no_poke && !hit && err == SD_OK && i < nrows; i++) {
		const sd_proto *pr = rows[i];
		char why[200];
		const uint8_t *poke = pr->poke;
		size_t poke_len = pr->poke_len;
		if (pr->poke_build) {
			poke_len = pr->poke_build(p->built, sizeof p->built);
			poke = p->built;
		}
		if (!poke || !poke_len || (want && pr != want))
			continue;
		if (net ? !(pr->flags & SD_PROTO_NET) : (!pr->line.baud || (pr->flags & SD_PROTO_NET)))
			continue; /* boards' frames for boards, a ClientHello for ports */
		if (heard && !want && !(pr->explain && pr->explain(p->rx, heard, NULL, 0, why, sizeof why) >= 50))
			continue; /* a talking line: only the rows that claim its bytes */
		if (p->sent_len + poke_len > sizeof p->sent || sd_now(clk) >= overall)
			break;
		use_frame(l, pr);
		size_t at = p->used;
		sd_listen_init(&L, p->rx + at, PROBE_RX_CAP - at, 0, poke, poke_len, net ? PROBE_NET_WAIT : PROBE_POKE_WAIT);
		err = sd_run(&L.eng, l, overall);
		if (!L.poked)
			break;
		memcpy(p->sent + p->sent_len, poke, poke_len);
		p->sent_len += poke_len;
		p->used += L.len;
		const uint8_t *a = p->rx + at;
		size_t an = L.len;
		if (an == 0)
			continue;
		for (size_t k = 0; k + poke_len <= an && k < 64 && !echo; k++)
			echo = memcmp(a + k, poke, poke_len) == 0;
		if (echo)
			break; /* our own bytes: more first frames add only more of them */
		/* An answer some protocol claims is confirmed by that protocol's
		 * own sync, without a reset: the poking row first. */
		int claimed = 0;
		for (size_t k = 0; k < nrows && !hit; k++) {
			const sd_proto *q = k == 0 ? pr : rows[k] == pr ? rows[0] : rows[k];
			int mine = q == pr;
			int likely = q->explain ? q->explain(a, an, mine ? poke : NULL, mine ? poke_len : 0,
							     why, sizeof why) : 0;
			if (likely < (mine ? 80 : 60) || (want && q != want))
				continue;
			claimed = 1;
			if (mine && !q->session) {
				/* a protocol without a sync client (TLS): its reading
				 * of the answer is the verdict */
				net_answer = q;
				net_likely = likely;
				sdi_fmt(net_why, sizeof net_why, "%s", why);
				break;
			}
			tried *t = run_session(p, q, l, o, overall, 1);
			if (answered(t))
				hit = t;
		}
		/* claimed, or text (an application): the evidence is in; bytes
		 * nobody claims may be another frame format's garbling: go on */
		if (claimed || text_of(a, an) * 10 >= an * 7)
			break;
	}

	/* 3. The rows that reset the target into their loader themselves, in
	 * table order (the commonest boards first: each resets for itself, so
	 * no order can upset another's loader); the expected one always, with
	 * its own entry. */
	/* A row whose reading claims what the line said (an ESP boot log)
	 * goes first: the budget may not reach the last row of the table. */
	for (size_t j = 0; !net && !o->no_poke && !echo && err == SD_OK && (!hit || o->all) &&
			   j < 2 * sd_proto_count(); j++) {
		const sd_proto *pr = sd_proto_at(j % sd_proto_count());
		char cwhy[200];
		int claims = heard && pr->explain && pr->explain(p->rx, heard, NULL, 0, cwhy, sizeof cwhy) >= 50;
		if (claims != (j < sd_proto_count()))
			continue;
		if (want ? pr != want : !(pr->flags & SD_PROTO_RESETS))
			continue;
		if (!want && pr->probe_enter && !(l->caps & SD_LINK_LINES))
			continue; /* its entry needs modem lines; its first frame was sent */
		if (hit && hit->p == pr)
			continue;
		tried *t = run_session(p, pr, l, o, overall, 0);
		if (!hit && answered(t))
			hit = t;
	}

	/* 4. Rank. */
	r->ok = 0;
	if (net_answer && !hit) {
		sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_OK, net_likely / 100.0f);
		if (f) {
			sd_finding_summary(f, "%s answered: %s", net_answer->title, net_why);
			sd_finding_evidence(f, p->sent, p->sent_len, p->rx + heard, p->used - heard);
			sd_finding_fix(f, "shakedown %s HOST:PORT lists what it accepts", net_answer->name);
		}
		sdi_fmt(r->by.protocol, sizeof r->by.protocol, "%s", net_answer->name);
		r->ok = 1;
	} else if (hit) {
		report_answer(r, hit, o);
		if (heard)
			sd_finding_detail(&r->diag.f[0], "the line spoke first (%zu bytes) before the handshake", heard);
	} else {
		sd_classify_in all = in;
		all.rx_len = p->used;
		all.tx = p->sent_len ? p->sent : NULL;
		all.tx_len = p->sent_len;
		all.listen_ms = (sd_now(clk) - t0) / 1000;
		/* a service that answers and closes has said its piece; a device
		 * that vanishes, or a port that closes unasked, is a finding */
		if ((err == SD_ERR_CLOSED || err == SD_ERR_IO) && !(net && p->used)) {
			sd_finding *f = sd_diag_add(&r->diag, SD_CAUSE_DISCONNECTED, 0.95f);
			if (f) {
				sd_finding_summary(f, "the %s after %zu bytes: %s", net ? "connection closed" : "device disconnected",
						   p->used, sd_link_why(l, err));
				sd_finding_evidence(f, all.tx, all.tx_len, p->rx, p->used);
				if (net)
					sd_finding_fix(f, "the service closed on us: it refuses this client (an allow-list, a full server), or a filter resets the connection");
			}
		}
		sd_diagnose_bytes(&all, &r->diag);
		/* a byte that reads as a loader's ACK is no answer when that
		 * loader's own sync then failed: the sessions' verdicts stand */
		if (p->nt)
			sd_diag_drop(&r->diag, SD_CAUSE_OK);
		report_scan(r, p, host_baud);
		sd_diag_sort(&r->diag);
		for (size_t i = 0; i < p->nt; i++)
			fold_session(r, &p->t[i], p->used > 0);
	}
	/* The host: another process on the same port eats the bytes we wait
	 * for. It explains a line that stayed silent or came back garbled; on
	 * a line that answered coherently (our echo, text, a loader) it may be
	 * the device side itself (socat, ser2net), so it ranks below. */
	sd_diag_sort(&r->diag);
	sd_cause before = r->diag.n ? r->diag.f[0].cause : SD_CAUSE_SILENT;
	if (o->port_path && sd_doctor_port_findings(NULL, o->port_path, &r->diag)) {
		sd_finding *f = sd_diag_find(&r->diag, SD_CAUSE_PORT_BUSY);
		int eaten = !r->ok && (before == SD_CAUSE_SILENT || before == SD_CAUSE_NOISE ||
				       before == SD_CAUSE_UNKNOWN || before == SD_CAUSE_BAUD_MISMATCH);
		if (f && f->confidence >= 0.9f && eaten) {
			f->confidence = 0.96f;
			sd_finding_detail(f, "while probe listened, that process read the same port: what it read is missing here");
		} else if (f) {
			f->confidence = SDI_MIN(f->confidence, 0.8f);
			sd_finding_detail(f, "the line answered coherently: this may be the device side (a bridge such as socat or ser2net)");
		}
	}
	if (o->all)
		for (size_t i = 0; hit && i < p->nt; i++)
			if (&p->t[i] != hit && answered(&p->t[i]))
				sd_report_fact(r, "also_answered", "%s", p->t[i].p->name);
	sd_diag_sort(&r->diag);
	answered_by_from_diag(r);
	/* rfc2217://: lines that never arrived, a stretched reset (after the
	 * mode is read from the bytes' own first finding) */
	if (sd_remote_report(l, r))
		sd_diag_sort(&r->diag);
	if (err != SD_OK && err != SD_ERR_TIMEOUT && !hit)
		return err;
	return r->ok ? SD_OK : SD_ERR_PROTO;
}
