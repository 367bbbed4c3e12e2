/*
 * shakedown — rfc2217: a serial port on another machine, reached through a
 * Telnet session with the Com Port Control option (RFC 2217; ser2net's
 * telnet(rfc2217) accepter, pyserial's PortManager, esp_rfc2217_server).
 *
 * The Telnet stream is decoded by the sans-I/O sd_telnet (src/core/telnet.c);
 * this file moves bytes, answers negotiations and waits for the server's
 * acknowledgements with deadlines. Bounds: decoded data waits in a fixed
 * buffer (what does not fit while an answer is awaited is dropped and
 * noted), queued output in another; every wait ends at an absolute deadline.
 *
 * Facts used (docs/remote.md): ser2net 4 starts the negotiation itself
 * (WILL/DO SGA, WILL ECHO, DONT ECHO, DO/WILL BINARY, DO COM-PORT) and answers
 * our WILL COM-PORT; on a pty it never acknowledges DTR/RTS changes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

#define RFC_LISTEN_FIRST SD_MS(700)   /* the server's negotiation must start by then */
#define RFC_ACK_WAIT     SD_MS(1500)  /* default wait for one exchange's answers */
#define RFC_DATA_CAP     (64u * 1024u)
#define RFC_OUT_CAP      (16u * 1024u)

typedef struct rfc_link {
	sd_link   base;
	int       fd;
	sd_telnet tn;
	uint8_t   raw[4096];            /* received, not yet decoded */
	size_t    raw_off, raw_len;
	uint8_t   data[RFC_DATA_CAP];   /* decoded data for the reader */
	size_t    data_off, data_len;
	uint64_t  dropped;
	uint8_t   outq[RFC_OUT_CAP];    /* escaped bytes not yet on the socket */
	size_t    out_off, out_len;
	/* negotiation: what we said (loop avoidance, RFC 854) and what they did */
	uint8_t   said[4][32];          /* [WILL, WONT, DO, DONT] bitmaps */
	int       they_will_bin, they_do_bin, comport_ok, comport_refused, bin_refused;
	int       telnet_seen;
	/* answers: the latest value per server code 100..112, with its time */
	uint8_t   ans[13][8];
	size_t    ans_len[13];
	unsigned  ans_gen[13];          /* bumped on every answer of that code */
	sd_time   ans_t[13];
	sd_time   ack_wait;
	sd_remote_ctl *other_ctl;       /* a flow/break SET-CONTROL being awaited */
	int       other_got;            /* another value answered meanwhile, or -1 */
	char      early[4][128];        /* notes from before a transcript was attached */
	size_t    nearly;
	sd_remote_info info;
} rfc_link;

static rfc_link *rfc_of(sd_link *l)
{
	return (rfc_link *)(void *)l;
}

static void note(rfc_link *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(rfc_link *r, const char *fmt, ...)
{
	/* Server-side events are no host action and no data byte: the
	 * wrappers cannot see them, so the backend notes them itself. Those
	 * of the opening (the signature, the first modem state) wait for the
	 * transcript the caller attaches after opening. */
	char buf[160];
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (!r->base.tap) {
		if (r->nearly < SDI_ARRAY_LEN(r->early))
			sdi_fmt(r->early[r->nearly++], sizeof r->early[0], "%s", buf);
		return;
	}
	sd_transcript_note(r->base.tap, buf);
}

static void early_notes(rfc_link *r)
{
	if (!r->base.tap || !r->nearly)
		return;
	for (size_t i = 0; i < r->nearly; i++)
		sd_transcript_note(r->base.tap, r->early[i]);
	r->nearly = 0;
}

/* ---- output --------------------------------------------------------------- */

static int flush_out(rfc_link *r, sd_deadline dl)
{
	while (r->out_len) {
		int n = sdi_fd_write(&r->base, r->fd, r->outq + r->out_off, r->out_len, dl, 1);
		if (n < 0)
			return n;
		r->out_off += (size_t)n;
		r->out_len -= (size_t)n;
	}
	r->out_off = 0;
	return SD_OK;
}

static int queue(rfc_link *r, const uint8_t *b, size_t n)
{
	if (r->out_off + r->out_len + n > sizeof r->outq) {
		memmove(r->outq, r->outq + r->out_off, r->out_len);
		r->out_off = 0;
	}
	if (r->out_len + n > sizeof r->outq)
		return sdi_link_fail(&r->base, SD_ERR_TIMEOUT, "the server does not take our bytes (output queue full)");
	memcpy(r->outq + r->out_off + r->out_len, b, n);
	r->out_len += n;
	return SD_OK;
}

static void say(rfc_link *r, uint8_t cmd, uint8_t opt)
{
	unsigned k = cmd - SD_TN_WILL; /* WILL 0, WONT 1, DO 2, DONT 3 */
	if (k > 3 || (r->said[k][opt / 8] & (1u << (opt % 8))))
		return; /* said already: no answer to an answer (RFC 854 loops) */
	/* saying WILL clears a WONT said before and the reverse */
	r->said[k][opt / 8] |= (uint8_t)(1u << (opt % 8));
	r->said[k ^ 1][opt / 8] &= (uint8_t)~(1u << (opt % 8));
	uint8_t b[3];
	queue(r, b, sd_telnet_option(b, cmd, opt));
}

static int comport(rfc_link *r, uint8_t code, const uint8_t *val, size_t vlen)
{
	uint8_t b[6 + 2 * 8];
	size_t n = sd_telnet_comport(b, sizeof b, code, val, vlen);
	return n ? queue(r, b, n) : SD_ERR_ARG;
}

/* ---- input ---------------------------------------------------------------- */

static const char *modem_bits(uint8_t v, char *buf, size_t len)
{
	static const char *const names[8] = { "dCTS", "dDSR", "RI-trail", "dCD", "CTS", "DSR", "RI", "CD" };
	buf[0] = '\0';
	for (int i = 7; i >= 0; i--)
		if (v & (1u << i))
			sdi_append(buf, len, "%s%s", buf[0] ? " " : "", names[i]);
	return buf[0] ? buf : "none";
}

static const char *line_bits(uint8_t v, char *buf, size_t len)
{
	static const char *const names[8] = { "data-ready", "overrun", "parity-error", "framing-error",
					      "break", "thr-empty", "tsr-empty", "timeout" };
	buf[0] = '\0';
	for (int i = 7; i >= 0; i--)
		if (v & (1u << i))
			sdi_append(buf, len, "%s%s", buf[0] ? " " : "", names[i]);
	return buf[0] ? buf : "none";
}

static void on_option(rfc_link *r, uint8_t cmd, uint8_t opt)
{
	int ours = opt == SD_TN_OPT_BINARY || opt == SD_TN_OPT_SGA || opt == SD_TN_OPT_COMPORT;
	r->telnet_seen = 1;
	switch (cmd) {
	case SD_TN_WILL:
		if (opt == SD_TN_OPT_BINARY)
			r->they_will_bin = 1;
		say(r, ours ? SD_TN_DO : SD_TN_DONT, opt);
		break;
	case SD_TN_WONT:
		if (opt == SD_TN_OPT_BINARY) {
			r->they_will_bin = 0;
			r->bin_refused = 1;
		}
		say(r, SD_TN_DONT, opt);
		break;
	case SD_TN_DO:
		if (opt == SD_TN_OPT_BINARY)
			r->they_do_bin = 1;
		if (opt == SD_TN_OPT_COMPORT)
			r->comport_ok = 1;
		say(r, ours ? SD_TN_WILL : SD_TN_WONT, opt);
		break;
	case SD_TN_DONT:
		if (opt == SD_TN_OPT_BINARY) {
			r->they_do_bin = 0;
			r->bin_refused = 1;
		}
		if (opt == SD_TN_OPT_COMPORT && !r->comport_ok)
			r->comport_refused = 1;
		say(r, SD_TN_WONT, opt);
		break;
	default:
		break;
	}
}

static void on_comport(rfc_link *r, const uint8_t *d, size_t n)
{
	char bits[96];
	if (n == 0)
		return;
	unsigned code = d[0];
	const uint8_t *v = d + 1;
	size_t vl = n - 1;
	r->comport_ok = 1; /* any COM-PORT subnegotiation: the server speaks it */
	if (code < SD_CPO_SERVER || code > SD_CPO_SERVER + SD_CPO_PURGE_DATA) {
		note(r, "rfc2217: the server sent COM-PORT code %u (%zu bytes), not a server code", code, vl);
		return;
	}
	unsigned k = code - SD_CPO_SERVER;
	sd_time now = sd_now(r->base.clock);
	switch (k) {
	case SD_CPO_NOTIFY_MODEMSTATE:
		if (vl >= 1) {
			r->info.have_modemstate = 1;
			r->info.modemstate = v[0];
			r->info.notifications++;
			note(r, "rfc2217: NOTIFY-MODEMSTATE 0x%02x (%s)", v[0], modem_bits(v[0], bits, sizeof bits));
		}
		break;
	case SD_CPO_NOTIFY_LINESTATE:
		if (vl >= 1) {
			r->info.have_linestate = 1;
			r->info.linestate = v[0];
			r->info.notifications++;
			note(r, "rfc2217: NOTIFY-LINESTATE 0x%02x (%s)", v[0], line_bits(v[0], bits, sizeof bits));
		}
		break;
	case SD_CPO_SIGNATURE: {
		size_t m = SDI_MIN(vl, sizeof r->info.signature - 1);
		for (size_t i = 0; i < m; i++)
			r->info.signature[i] = v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
		r->info.signature[m] = '\0';
		note(r, "rfc2217: server signature \"%s\"", r->info.signature);
		break;
	}
	case SD_CPO_FLOW_SUSPEND:
	case SD_CPO_FLOW_RESUME:
		note(r, "rfc2217: the server asks us to %s sending", k == SD_CPO_FLOW_SUSPEND ? "stop" : "resume");
		break;
	case SD_CPO_SET_CONTROL:
		/* several may be outstanding: match by value, the flow/break
		 * request awaited first, then the oldest unanswered line change */
		if (vl >= 1 && r->other_ctl && !r->other_ctl->ack && r->other_ctl->value == v[0]) {
			r->other_ctl->ack = now;
			r->other_ctl->acked = 1;
		} else if (vl >= 1) {
			int matched = 0;
			for (size_t i = 0; i < SDI_MIN(r->info.nctl, (size_t)SD_REMOTE_MAX_CTL) && !matched; i++) {
				size_t at = (r->info.nctl - SDI_MIN(r->info.nctl, (size_t)SD_REMOTE_MAX_CTL) + i) % SD_REMOTE_MAX_CTL;
				sd_remote_ctl *c = &r->info.ctl[at];
				if (!c->ack && c->value == v[0]) {
					c->ack = now;
					c->acked = 1;
					matched = 1;
				}
			}
			/* no line change asked for that value: the answer to the
			 * flow/break request, with another value (ser2net 4.3.11
			 * answers BREAK OFF with 5, docs/remote.md) */
			if (!matched && r->other_ctl && !r->other_ctl->ack)
				r->other_got = v[0];
		}
		break;
	default:
		break;
	}
	memcpy(r->ans[k], v, SDI_MIN(vl, sizeof r->ans[k]));
	r->ans_len[k] = SDI_MIN(vl, sizeof r->ans[k]);
	r->ans_gen[k]++;
	r->ans_t[k] = now;
}

/* Decode what was received into the data buffer, handling every event. */
static int decode(rfc_link *r)
{
	while (r->raw_len) {
		if (r->data_off && r->data_off + r->data_len >= sizeof r->data) {
			memmove(r->data, r->data + r->data_off, r->data_len);
			r->data_off = 0;
		}
		size_t room = sizeof r->data - r->data_off - r->data_len;
		uint8_t sink[256];
		uint8_t *dst = r->data + r->data_off + r->data_len;
		if (room == 0) { /* nobody reads while we wait for an answer */
			dst = sink;
			room = sizeof sink;
		}
		size_t got = 0;
		sd_telnet_ev ev;
		int used = sd_telnet_feed(&r->tn, r->raw + r->raw_off, r->raw_len, dst, room, &got, &ev);
		if (used < 0)
			return sdi_link_fail(&r->base, SD_ERR_PROTO, "the server's Telnet stream is malformed: %s", r->tn.why);
		r->raw_off += (size_t)used;
		r->raw_len -= (size_t)used;
		if (dst == sink) {
			if (got && !r->dropped)
				note(r, "rfc2217: data buffer full while waiting for the server: bytes dropped");
			r->dropped += got;
		} else {
			r->data_len += got;
		}
		if (ev.kind == SD_TN_EV_OPTION)
			on_option(r, ev.cmd, ev.opt);
		else if (ev.kind == SD_TN_EV_SUBNEG && ev.opt == SD_TN_OPT_COMPORT)
			on_comport(r, ev.data, ev.len);
		else if (ev.kind == SD_TN_EV_SUBNEG)
			note(r, "rfc2217: subnegotiation of option %u ignored", ev.opt);
	}
	r->raw_off = 0;
	return SD_OK;
}

/* One receive (waiting until dl), decoded. SD_OK, SD_ERR_TIMEOUT, or a
 * failure. Queued answers go out first. */
static int pump(rfc_link *r, sd_deadline dl)
{
	early_notes(r);
	int e = flush_out(r, dl);
	if (e)
		return e;
	int n = sdi_fd_read(&r->base, r->fd, r->raw, sizeof r->raw, dl, 1, NULL);
	if (n < 0)
		return n;
	r->raw_off = 0;
	r->raw_len = (size_t)n;
	e = decode(r);
	if (e)
		return e;
	return flush_out(r, dl);
}

/* ---- waiting for answers ------------------------------------------------------ */

typedef struct want {
	unsigned code;      /* client code whose answer is awaited */
	unsigned gen;       /* answers seen before the request */
	uint8_t  val[4];
	size_t   len;
} want;

static int answered(const rfc_link *r, const want *w)
{
	return r->ans_gen[w->code] != w->gen;
}

/* Wait for every answer in w[0..n); then compare the values. */
static int await_answers(rfc_link *r, want *w, size_t n, sd_deadline dl, const char *what)
{
	for (;;) {
		size_t have = 0;
		for (size_t i = 0; i < n; i++)
			have += answered(r, &w[i]);
		if (have == n)
			break;
		int e = pump(r, dl);
		if (e == SD_ERR_TIMEOUT) {
			for (size_t i = 0; i < n; i++)
				if (!answered(r, &w[i]))
					return sdi_link_fail(&r->base, SD_ERR_TIMEOUT,
							     "the remote port server did not acknowledge %s (%s) within %lld ms",
							     sd_telnet_comport_name(w[i].code), what,
							     (long long)(r->ack_wait / 1000));
		}
		if (e && e != SD_ERR_TIMEOUT)
			return e;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *a = r->ans[w[i].code];
		if (r->ans_len[w[i].code] != w[i].len || memcmp(a, w[i].val, w[i].len) != 0) {
			uint32_t got = 0, asked = 0;
			for (size_t k = 0; k < r->ans_len[w[i].code] && k < 4; k++)
				got = got << 8 | a[k];
			for (size_t k = 0; k < w[i].len; k++)
				asked = asked << 8 | w[i].val[k];
			note(r, "rfc2217: %s answered %lu, asked %lu", sd_telnet_comport_name(w[i].code),
			     (unsigned long)got, (unsigned long)asked);
			return sdi_link_fail(&r->base, SD_ERR_NACK,
					     "the remote port server refused %s %lu: it uses %lu (%s)",
					     sd_telnet_comport_name(w[i].code), (unsigned long)asked,
					     (unsigned long)got, what);
		}
	}
	return SD_OK;
}

static void ask(rfc_link *r, want *w, unsigned code, const uint8_t *val, size_t len)
{
	w->code = code;
	w->gen = r->ans_gen[code];
	memcpy(w->val, val, len);
	w->len = len;
	comport(r, (uint8_t)code, val, len);
}

/* ---- the link ops ------------------------------------------------------------------ */

static int rfc_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	rfc_link *r = rfc_of(l);
	for (;;) {
		if (r->data_len) {
			size_t n = SDI_MIN(len, r->data_len);
			memcpy(buf, r->data + r->data_off, n);
			r->data_off += n;
			r->data_len -= n;
			if (!r->data_len)
				r->data_off = 0;
			return (int)n;
		}
		int e = pump(r, dl);
		if (e)
			return e;
	}
}

static int rfc_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	rfc_link *r = rfc_of(l);
	early_notes(r);
	uint8_t esc[2048];
	size_t used = 0;
	size_t n = sd_telnet_escape(buf, SDI_MIN(len, sizeof esc / 2), esc, sizeof esc, &used);
	int e = queue(r, esc, n);
	if (e)
		return e;
	e = flush_out(r, dl);
	/* queued bytes go out with the next call: only a failure is an error */
	if (e && e != SD_ERR_TIMEOUT)
		return e;
	return (int)used;
}

/* A flow-control or break SET-CONTROL: sent, and its own answer (matched by
 * value, so a late answer to a line change is not taken for it) awaited. */
static int control(rfc_link *r, uint8_t value, const char *what)
{
	sd_remote_ctl c = { .value = value, .sent = sd_now(r->base.clock) };
	int e = comport(r, SD_CPO_SET_CONTROL, &value, 1);
	if (e)
		return e;
	r->other_ctl = &c;
	r->other_got = -1;
	sd_deadline dl = sd_deadline_in(r->base.clock, r->ack_wait);
	while (!c.acked) {
		if (r->other_got >= 0) {
			note(r, "rfc2217: SET-CONTROL %u (%s) answered %d", (unsigned)value, what, r->other_got);
			e = sdi_link_fail(&r->base, SD_ERR_NACK, "the remote port server answered SET-CONTROL %u (%s) with %d",
					  (unsigned)value, what, r->other_got);
			break;
		}
		e = pump(r, dl);
		if (e == SD_ERR_TIMEOUT)
			e = sdi_link_fail(&r->base, SD_ERR_TIMEOUT,
					  "the remote port server did not acknowledge SET-CONTROL %u (%s) within %lld ms",
					  (unsigned)value, what, (long long)(r->ack_wait / 1000));
		if (e)
			break;
	}
	r->other_ctl = NULL;
	return e;
}

static int set_cfg_now(rfc_link *r, const sd_line_cfg *c)
{
	uint8_t baud[4] = { (uint8_t)(c->baud >> 24), (uint8_t)(c->baud >> 16), (uint8_t)(c->baud >> 8),
			    (uint8_t)c->baud };
	static const uint8_t parity_val[] = { 1, 2, 3, 4, 5 }; /* none odd even mark space */
	uint8_t ds = c->data_bits ? c->data_bits : 8;
	uint8_t par = parity_val[c->parity < 5 ? c->parity : 0];
	uint8_t st = c->stop_bits == 2 ? 2 : 1;
	uint8_t fl = c->flow == SD_FLOW_RTSCTS ? SD_CPO_CTL_FLOW_HW
		     : c->flow == SD_FLOW_XONXOFF ? SD_CPO_CTL_FLOW_XONXOFF : SD_CPO_CTL_FLOW_NONE;
	want w[5];
	size_t n = 0;
	sd_time t0 = sd_now(r->base.clock);
	/* RFC 2217's order: rate, data size, parity, stop size; all sent
	 * back to back, then one wait for all answers */
	if (c->baud)
		ask(r, &w[n++], SD_CPO_SET_BAUDRATE, baud, 4);
	ask(r, &w[n++], SD_CPO_SET_DATASIZE, &ds, 1);
	ask(r, &w[n++], SD_CPO_SET_PARITY, &par, 1);
	ask(r, &w[n++], SD_CPO_SET_STOPSIZE, &st, 1);
	char what[64];
	char fr[8];
	sdi_fmt(what, sizeof what, "%lu %s", (unsigned long)c->baud, sd_line_cfg_frame(c, fr));
	int e = await_answers(r, w, n, sd_deadline_in(r->base.clock, r->ack_wait), what);
	if (e)
		return e;
	/* flow control is a SET-CONTROL: its own exchange */
	e = control(r, fl, "flow control");
	r->info.cfg_rtt = sd_now(r->base.clock) - t0;
	if (!e)
		note(r, "rfc2217: %s acknowledged in %.1f ms", what, (double)r->info.cfg_rtt / 1000.0);
	return e;
}

static int rfc_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	return set_cfg_now(rfc_of(l), cfg);
}

static sd_remote_ctl *ctl_push(rfc_link *r, uint8_t value)
{
	sd_remote_ctl *c = &r->info.ctl[r->info.nctl % SD_REMOTE_MAX_CTL];
	r->info.nctl++;
	memset(c, 0, sizeof *c);
	c->value = value;
	c->sent = sd_now(r->base.clock);
	return c;
}

static int rfc_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	rfc_link *r = rfc_of(l);
	if (r->info.lines_dead)
		return sdi_link_fail(l, SD_ERR_UNSUPPORTED,
				     "the remote port server does not pass DTR/RTS on (an earlier change was never acknowledged)");
	uint8_t vals[2];
	size_t n = 0;
	/* No SET-CONTROL sets both lines at once (RFC 2217): two messages,
	 * back to back, then one wait for both answers. */
	if (mask & SD_LINE_DTR)
		vals[n++] = (level & SD_LINE_DTR) ? SD_CPO_CTL_DTR_ON : SD_CPO_CTL_DTR_OFF;
	if (mask & SD_LINE_RTS)
		vals[n++] = (level & SD_LINE_RTS) ? SD_CPO_CTL_RTS_ON : SD_CPO_CTL_RTS_OFF;
	sd_remote_ctl *c[2] = { NULL, NULL };
	for (size_t i = 0; i < n; i++) {
		c[i] = ctl_push(r, vals[i]);
		int e = comport(r, SD_CPO_SET_CONTROL, &vals[i], 1);
		if (e)
			return e;
	}
	r->info.lines_sent += (unsigned)n;
	sd_deadline dl = sd_deadline_in(l->clock, r->ack_wait);
	int e = flush_out(r, dl);
	if (e)
		return e;
	if (r->info.ign_set_control) {
		/* labgrid's way: no wait. What came back already counts. */
		while (pump(r, sd_now(l->clock)) == SD_OK)
			;
		for (size_t i = 0; i < n; i++)
			if (c[i]->acked)
				r->info.lines_acked++;
			else
				r->info.lines_unacked++;
		return SD_OK;
	}
	for (;;) {
		int done = 1;
		for (size_t i = 0; i < n; i++)
			done &= c[i]->acked;
		if (done)
			break;
		e = pump(r, dl);
		if (e == SD_ERR_TIMEOUT) {
			r->info.lines_unacked++;
			r->info.lines_dead = 1;
			l->caps &= ~(unsigned)SD_LINK_LINES;
			note(r, "rfc2217: SET-CONTROL %u not acknowledged within %lld ms: the server does not drive the modem lines",
			     (unsigned)vals[0], (long long)(r->ack_wait / 1000));
			return sdi_link_fail(l, SD_ERR_UNSUPPORTED,
					     "the remote port server did not acknowledge a DTR/RTS change within %lld ms: it cannot drive the modem lines of that device (ser2net on a pty never does); add ?ign_set_control to send them anyway",
					     (long long)(r->ack_wait / 1000));
		}
		if (e)
			return e;
	}
	for (size_t i = 0; i < n; i++) {
		r->info.lines_acked++;
		r->info.line_rtt_max = SDI_MAX(r->info.line_rtt_max, c[i]->ack - c[i]->sent);
	}
	if (n == 2) {
		sd_time gap = c[1]->ack > c[0]->ack ? c[1]->ack - c[0]->ack : c[0]->ack - c[1]->ack;
		r->info.pair_gap_max = SDI_MAX(r->info.pair_gap_max, gap);
	}
	note(r, "rfc2217: line change acknowledged in %.1f ms", (double)(c[n - 1]->ack - c[0]->sent) / 1000.0);
	return SD_OK;
}

static int rfc_get_lines(sd_link *l, unsigned *level)
{
	rfc_link *r = rfc_of(l);
	while (pump(r, sd_now(l->clock)) == SD_OK)
		;
	if (!r->info.have_modemstate)
		return sdi_link_fail(l, SD_ERR_UNSUPPORTED, "the remote port server sent no NOTIFY-MODEMSTATE");
	uint8_t m = r->info.modemstate;
	*level = (l->lines & (SD_LINE_DTR | SD_LINE_RTS)) | ((m & 0x10) ? SD_LINE_CTS : 0) |
		 ((m & 0x20) ? SD_LINE_DSR : 0) | ((m & 0x40) ? SD_LINE_RI : 0) | ((m & 0x80) ? SD_LINE_DCD : 0);
	return SD_OK;
}

static int rfc_break(sd_link *l, sd_time duration)
{
	rfc_link *r = rfc_of(l);
	int e = control(r, SD_CPO_CTL_BREAK_ON, "break on");
	if (e)
		return e;
	sd_link_sleep_until(l, sd_now(l->clock) + duration);
	return control(r, SD_CPO_CTL_BREAK_OFF, "break off");
}

static int rfc_flush(sd_link *l, unsigned dirs)
{
	rfc_link *r = rfc_of(l);
	uint8_t v = (dirs & SD_FLUSH_IN) && (dirs & SD_FLUSH_OUT) ? SD_CPO_PURGE_BOTH
		    : (dirs & SD_FLUSH_IN) ? SD_CPO_PURGE_RX : SD_CPO_PURGE_TX;
	want w;
	ask(r, &w, SD_CPO_PURGE_DATA, &v, 1);
	int e = await_answers(r, &w, 1, sd_deadline_in(l->clock, r->ack_wait), "purge");
	/* what arrived before the answer was in the server's buffer or on
	 * the way: it is what the purge meant */
	if (dirs & SD_FLUSH_IN) {
		r->data_off = r->data_len = 0;
	}
	return e;
}

static void rfc_close(sd_link *l)
{
	rfc_link *r = rfc_of(l);
	close(r->fd);
	free(r);
}

static const sd_link_ops sd_link_rfc2217_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "rfc2217",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES | SD_LINK_BREAK | SD_LINK_REMOTE,
	.read = rfc_read,
	.write = rfc_write,
	.flush = rfc_flush,
	.set_cfg = rfc_set_cfg,
	.set_lines = rfc_set_lines,
	.get_lines = rfc_get_lines,
	.send_break = rfc_break,
	.close = rfc_close,
};

int sd_link_remote_info(const sd_link *l, sd_remote_info *out)
{
	if (!l || !out || l->ops != &sd_link_rfc2217_ops)
		return SD_ERR_ARG;
	*out = ((const rfc_link *)(const void *)l)->info;
	return SD_OK;
}

/* The server hung up during the negotiation: a port with its one client
 * already (ser2net sends "Port already in use" and closes). */
static int closed_at_once(rfc_link *r, char *why, size_t whylen)
{
	char said[64] = "";
	size_t o = 0;
	for (size_t i = 0; i < r->data_len && o + 1 < sizeof said; i++) {
		uint8_t b = r->data[r->data_off + i];
		if (b >= 0x20 && b < 0x7f)
			said[o++] = (char)b;
	}
	said[o] = '\0';
	if (said[0])
		sdi_fmt(why, whylen, "the server said \"%s\" and closed the connection: the port is in use by another client (ser2net serves one at a time unless max-connections is raised)",
			said);
	else
		sdi_fmt(why, whylen, "the server closed the connection at once: the port is in use by another client (ser2net serves one at a time unless max-connections is raised), or it refuses this host");
	return SD_ERR_BUSY;
}

/* Listen first, then negotiate BINARY both ways and COM-PORT-OPTION. */
static int negotiate(rfc_link *r, sd_deadline dl, char *why, size_t whylen)
{
	sd_deadline first = sd_deadline_min(dl, sd_deadline_in(r->base.clock, RFC_LISTEN_FIRST));
	while (!r->telnet_seen) {
		int e = pump(r, first);
		if (r->telnet_seen)
			break;
		if (e == SD_ERR_CLOSED)
			return closed_at_once(r, why, whylen);
		if (r->data_len) {
			sdi_fmt(why, whylen, "the server sent data, not a Telnet negotiation: a raw TCP port (use tcp://host:port); nothing was sent into it");
			return SD_ERR_PROTO;
		}
		if (e == SD_ERR_TIMEOUT) {
			sdi_fmt(why, whylen, "the server sent no Telnet negotiation within %lld ms: not an RFC 2217 port (a raw TCP port? then use tcp://; nothing was sent into it)",
				(long long)(RFC_LISTEN_FIRST / 1000));
			return SD_ERR_PROTO;
		}
		if (e == SD_ERR_CLOSED)
			return closed_at_once(r, why, whylen);
		if (e) {
			sdi_fmt(why, whylen, "%s", r->base.why);
			return e;
		}
	}
	/* our side: COM-PORT-OPTION as a client offers it (RFC 2217: the
	 * client says WILL, the access server DO), BINARY both ways */
	say(r, SD_TN_WILL, SD_TN_OPT_COMPORT);
	say(r, SD_TN_DO, SD_TN_OPT_BINARY);
	say(r, SD_TN_WILL, SD_TN_OPT_BINARY);
	while (!(r->comport_ok && r->they_will_bin && r->they_do_bin)) {
		if (r->comport_refused) {
			sdi_fmt(why, whylen, "the server refuses COM-PORT-OPTION: a plain Telnet port, without serial control (ser2net: accepter telnet(rfc2217),tcp,PORT)");
			return SD_ERR_NACK;
		}
		if (r->bin_refused) {
			sdi_fmt(why, whylen, "the server refuses Telnet BINARY mode: binary protocols would be mangled (CR NUL, 0xFF)");
			return SD_ERR_NACK;
		}
		int e = pump(r, dl);
		if (e == SD_ERR_TIMEOUT) {
			sdi_fmt(why, whylen, "the server did not complete the Telnet negotiation in time (COM-PORT-OPTION %s, BINARY %s/%s)",
				r->comport_ok ? "yes" : "no", r->they_will_bin ? "yes" : "no", r->they_do_bin ? "yes" : "no");
			return SD_ERR_TIMEOUT;
		}
		if (e == SD_ERR_CLOSED)
			return closed_at_once(r, why, whylen);
		if (e) {
			sdi_fmt(why, whylen, "%s", r->base.why);
			return e;
		}
	}
	/* the server's name, for the record; not awaited */
	comport(r, SD_CPO_SIGNATURE, NULL, 0);
	return SD_OK;
}

int sdi_link_open_rfc2217(const char *host, const char *port, const sd_kv *q, size_t nq,
			  const sd_line_cfg *cfg, const sd_clock *clock, sd_deadline dl,
			  sd_link **out, char *why, size_t whylen)
{
	if (!host || !port || !out || !cfg)
		return SD_ERR_ARG;
	*out = NULL;
	sd_line_cfg c = *cfg;
	int ign = 0;
	sd_time wait = RFC_ACK_WAIT;
	/* our own keys first; the rest are the serial line's */
	sd_kv line[SD_URI_MAXQ];
	size_t nl = 0;
	for (size_t i = 0; i < nq; i++) {
		if (strcmp(q[i].key, "ign_set_control") == 0) {
			if (q[i].val[0] && strcmp(q[i].val, "1") != 0 && strcmp(q[i].val, "0") != 0) {
				sdi_fmt(why, whylen, "ign_set_control takes no value (or 0/1), not '%s'", q[i].val);
				return SD_ERR_ARG;
			}
			ign = strcmp(q[i].val, "0") != 0;
		} else if (strcmp(q[i].key, "timeout") == 0) {
			uint32_t ms;
			if (sd_parse_u32(q[i].val, 10, 60000, &ms) != SD_OK) {
				sdi_fmt(why, whylen, "timeout is the wait for the server's answers in ms (10 to 60000), not '%s'", q[i].val);
				return SD_ERR_ARG;
			}
			wait = SD_MS(ms);
		} else {
			line[nl++] = q[i];
		}
	}
	int r0 = sdi_line_cfg_from_kv(line, nl, &c, why, whylen);
	if (r0) {
		if (strstr(why, "unknown serial option"))
			sdi_append(why, whylen, " or ign_set_control, timeout");
		return r0;
	}
	rfc_link *r = calloc(1, sizeof *r);
	if (!r)
		return SD_ERR_NOMEM;
	sd_link_init(&r->base, &sd_link_rfc2217_ops, clock);
	r->fd = -1;
	r->ack_wait = wait;
	r->info.ign_set_control = ign;
	sd_telnet_init(&r->tn);
	int e = sdi_tcp_connect(&r->base, host, port, dl, &r->fd, why, whylen);
	if (!e)
		e = negotiate(r, dl, why, whylen);
	if (!e) {
		e = set_cfg_now(r, &c);
		if (e == SD_ERR_CLOSED)
			e = closed_at_once(r, why, whylen);
		else if (e)
			sdi_fmt(why, whylen, "%s", r->base.why);
	}
	if (e) {
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return e;
	}
	r->base.cfg = c;
	r->base.why[0] = '\0';
	*out = &r->base;
	return SD_OK;
}
