/*
 * shakedown — loopback: the adapter self-test behind `shakedown loopback`
 * (include/shakedown/loopback.h has the method).
 *
 * Bounds: a pass sends at most SD_LOOPBACK_MAX_BYTES and keeps at most
 * 2x that plus RX_SLACK received bytes; every read has a deadline inside
 * the pass's share of the budget and the overall deadline; the comparator
 * looks at most 2 * MAX_SHIFT windows of WIN bytes per mismatch.
 */
#include <stdlib.h>
#include "internal.h"

#define BLOCK        128u          /* bytes per block; its first goes alone */
#define RX_SLACK     1024u
#define WIN          8u            /* bytes that must line up after a mismatch */
#define MAX_SHIFT    16u           /* bytes lost or added that resync finds */
#define DRAIN_QUIET  SD_MS(15)     /* before a pass: what the line says alone */
#define DRAIN_MAX    SD_MS(100)
#define TAIL_QUIET   SD_MS(30)     /* after a pass: stragglers (USB latency timers) */
#define TAIL_MAX     SD_MS(150)
#define FIRST_WAIT   SD_MS(150)    /* a block's first byte, beyond its wire time */
#define BLOCK_WAIT   SD_MS(100)    /* the rest of a block, beyond its wire time */
#define SETTLE       SD_MS(20)     /* modem lines, after a change */
#define RESERVE      SD_MS(200)    /* of the budget: modem lines, restoring */
#define MIN_SHARE    SD_MS(30)     /* a pass gets at least this, or is not run */
#define RTT_MAX      4096u         /* samples kept for the overall median */

static const uint32_t default_rates[] = { SD_LOOPBACK_RATES };
static const uint8_t default_parities[] = { SD_PARITY_NONE, SD_PARITY_EVEN, SD_PARITY_ODD };

const char *sd_loopback_status_name(sd_loopback_status s)
{
	static const char *const names[] = { "untested", "good", "errors", "partial", "none", "foreign" };
	return (unsigned)s < SDI_ARRAY_LEN(names) ? names[s] : "untested";
}

/* ---- comparing the streams -------------------------------------------- */

static unsigned popcount8(uint8_t v)
{
	unsigned n = 0;
	for (; v; v &= (uint8_t)(v - 1))
		n++;
	return n;
}

/* Do tx[i..] and rx[j..] line up? Strictly (loose = 0): the next 4 bytes
 * are equal, or the first is and 3 in 4 of the next WIN are (a bit error
 * inside the window does not hide the alignment). Loosely: the next 2 are equal, for a second
 * loss or addition close behind the first. Fewer than need bytes to
 * compare: no, unless a stream ends there. */
static int lines_up(const uint8_t *tx, size_t ntx, size_t i, const uint8_t *rx, size_t nrx,
		    size_t j, size_t need, int loose)
{
	if (i > ntx || j > nrx)
		return 0;
	size_t n = SDI_MIN((size_t)WIN, SDI_MIN(ntx - i, nrx - j));
	if (n == 0)
		return i == ntx && j == nrx; /* both streams end here */
	if (n < need && i + n < ntx && j + n < nrx)
		return 0; /* short, and not for want of bytes */
	size_t head = SDI_MIN(n, (size_t)(loose ? 2 : 4)), eq = 0;
	while (eq < head && tx[i + eq] == rx[j + eq])
		eq++;
	if (eq == head)
		return 1;
	if (loose || eq == 0)
		return 0; /* an alignment starts with an equal byte */
	eq = 0;
	for (size_t k = 0; k < n; k++)
		eq += tx[i + k] == rx[j + k];
	return eq >= n - n / 4;
}

void sd_loopback_compare(const uint8_t *tx, size_t ntx, const uint8_t *rx, size_t nrx,
			 sd_loopback_pass *p)
{
	if (!p)
		return;
	if (!tx)
		ntx = 0;
	if (!rx)
		nrx = 0;
	size_t i = 0, j = 0, matched = 0, corrupted = 0, lost = 0, extra = 0;
	uint64_t bits = 0;
	while (i < ntx && j < nrx) {
		if (tx[i] == rx[j]) {
			matched++;
			i++;
			j++;
			continue;
		}
		/* The bytes after this one line up: a corrupted byte. At the
		 * very end of both streams, too. */
		int shifted = 0;
		if (!lines_up(tx, ntx, i + 1, rx, nrx, j + 1, 4, 0)) {
			/* Else the smallest shift after which they line up,
			 * strictly first. */
			for (int loose = 0; loose < 2 && !shifted; loose++) {
				for (size_t s = 1; s <= MAX_SHIFT && !shifted; s++) {
					if (i + s < ntx && lines_up(tx, ntx, i + s, rx, nrx, j, 2, loose)) {
						lost += s;
						i += s;
						shifted = 1;
					} else if (j + s < nrx && lines_up(tx, ntx, i, rx, nrx, j + s, 2, loose)) {
						extra += s;
						j += s;
						shifted = 1;
					}
				}
			}
		}
		if (!shifted) {
			corrupted++;
			bits += popcount8((uint8_t)(tx[i] ^ rx[j]));
			i++;
			j++;
		}
	}
	lost += ntx - i;
	extra += nrx - j;
	p->sent = ntx;
	p->received = nrx;
	p->matched = matched;
	p->corrupted = corrupted;
	p->lost = lost;
	p->extra = extra;
	p->bit_errors = bits;
	p->ber = (matched + corrupted) ? (double)bits / (8.0 * (double)(matched + corrupted)) : 0.0;
}

/* ---- option lists ------------------------------------------------------ */

int sd_loopback_parse_rates(const char *s, uint32_t *out, size_t cap, char *why, size_t whylen)
{
	if (!s || !out)
		return SD_ERR_ARG;
	size_t n = 0;
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char item[16];
		uint32_t v;
		if (len == 0 || len >= sizeof item) {
			sdi_fmt(why, whylen, "bad rate list '%s' (e.g. 9600,115200)", s);
			return SD_ERR_ARG;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		if (sd_parse_u32(item, 50, 20000000, &v) != SD_OK) {
			sdi_fmt(why, whylen, "bad rate '%s' (50 to 20000000 baud)", item);
			return SD_ERR_ARG;
		}
		if (n >= cap) {
			sdi_fmt(why, whylen, "too many rates (at most %zu)", cap);
			return SD_ERR_ARG;
		}
		out[n++] = v;
		if (!e)
			break;
		p = e + 1;
	}
	return (int)n;
}

int sd_loopback_parse_parities(const char *s, uint8_t *out, size_t cap, char *why, size_t whylen)
{
	static const struct { const char *name; uint8_t par; } names[] = {
		{ "none", SD_PARITY_NONE }, { "n", SD_PARITY_NONE },
		{ "even", SD_PARITY_EVEN }, { "e", SD_PARITY_EVEN },
		{ "odd", SD_PARITY_ODD }, { "o", SD_PARITY_ODD },
		{ "mark", SD_PARITY_MARK }, { "m", SD_PARITY_MARK },
		{ "space", SD_PARITY_SPACE }, { "s", SD_PARITY_SPACE },
	};
	if (!s || !out)
		return SD_ERR_ARG;
	size_t n = 0;
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p), k;
		for (k = 0; k < SDI_ARRAY_LEN(names); k++)
			if (strlen(names[k].name) == len && strncmp(names[k].name, p, len) == 0)
				break;
		if (k == SDI_ARRAY_LEN(names)) {
			sdi_fmt(why, whylen, "bad parity '%.*s' (none, even, odd, mark, space)",
				(int)SDI_MIN(len, (size_t)20), p);
			return SD_ERR_ARG;
		}
		if (n >= cap) {
			sdi_fmt(why, whylen, "too many parities (at most %zu)", cap);
			return SD_ERR_ARG;
		}
		out[n++] = names[k].par;
		if (!e)
			break;
		p = e + 1;
	}
	return (int)n;
}

/* ---- one pass ---------------------------------------------------------- */

typedef struct run_ctx {
	sd_link   *l;
	const sd_clock *clock;
	sd_deadline overall;
	uint8_t   *tx, *rx;
	size_t     txcap, rxcap;
	sd_time   *rtt;           /* this pass's samples */
	size_t     rttcap;
	sd_time   *all_rtt;       /* every sample, for the overall median */
	size_t     nall;
	int        err;           /* a fatal link error, once seen */
	uint8_t    unsol[SD_LOOPBACK_EVIDENCE];
	size_t     nunsol;
} run_ctx;

static int fatal(int r)
{
	return r == SD_ERR_CLOSED || r == SD_ERR_IO;
}

/* Microseconds one byte takes on the wire at this frame (115200 8N1 when
 * the rate is not known). */
static double byte_us(const sd_line_cfg *c)
{
	double baud = c->baud ? (double)c->baud : 115200.0;
	unsigned bits = 1u + (c->data_bits ? c->data_bits : 8u) + (c->parity ? 1u : 0u) +
			(c->stop_bits ? c->stop_bits : 1u);
	return (double)bits * 1e6 / baud;
}

static sd_time wire_time(const sd_line_cfg *c, size_t n)
{
	return (sd_time)(byte_us(c) * (double)n) + 1;
}

static size_t count_text(const uint8_t *b, size_t n)
{
	size_t t = 0;
	for (size_t i = 0; i < n; i++)
		t += sdi_is_text(b[i]);
	return t;
}

/* Read until `quiet` passes with no byte, or dl. Bytes go to the stream
 * (rx, when stream) or are counted as unsolicited. */
static void drain(run_ctx *c, sd_loopback_pass *p, size_t *nrx, int stream, sd_time quiet,
		  sd_deadline dl)
{
	uint8_t tmp[256];
	for (;;) {
		sd_deadline q = sd_deadline_min(sd_deadline_in(c->clock, quiet), dl);
		uint8_t *dst = tmp;
		size_t cap = sizeof tmp;
		if (stream) {
			if (*nrx >= c->rxcap)
				stream = 0; /* full: count the rest as unsolicited */
			else {
				dst = c->rx + *nrx;
				cap = c->rxcap - *nrx;
			}
		}
		int r = sd_link_read(c->l, dst, cap, q);
		if (r < 0) {
			if (fatal(r))
				c->err = r;
			return;
		}
		if (stream) {
			*nrx += (size_t)r;
		} else {
			p->unsolicited += (size_t)r;
			p->text += count_text(tmp, (size_t)r);
			size_t k = SDI_MIN((size_t)r, sizeof c->unsol - c->nunsol);
			memcpy(c->unsol + c->nunsol, tmp, k);
			c->nunsol += k;
		}
		if (sd_deadline_passed(c->clock, dl))
			return;
	}
}

static int cmp_time(const void *a, const void *b)
{
	sd_time x = *(const sd_time *)a, y = *(const sd_time *)b;
	return (x > y) - (x < y);
}

static sd_time median(sd_time *v, size_t n)
{
	if (n == 0)
		return -1;
	qsort(v, n, sizeof *v, cmp_time);
	return v[n / 2];
}

/* Read into the stream until it holds `want` bytes, or dl, or (gap > 0)
 * the line has been quiet for gap. Returns the time of the first byte that
 * arrived, or -1. */
static sd_time read_until(run_ctx *c, size_t *nrx, size_t want, sd_deadline dl, sd_time gap)
{
	sd_time first = -1;
	while (*nrx < want && *nrx < c->rxcap) {
		sd_deadline q = gap > 0 ? sd_deadline_min(sd_deadline_in(c->clock, gap), dl) : dl;
		int r = sd_link_read(c->l, c->rx + *nrx, c->rxcap - *nrx, q);
		if (r < 0) {
			if (fatal(r))
				c->err = r;
			break;
		}
		if (first < 0)
			first = sd_now(c->clock);
		*nrx += (size_t)r;
	}
	return first;
}

static void pattern(uint8_t *b, size_t n, uint32_t seed)
{
	uint32_t s = sdi_seed(seed);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(sdi_rand(&s) >> 11);
}

static void run_pass(run_ctx *c, sd_loopback_pass *p, size_t maxbytes, uint32_t seed,
		     sd_deadline pass_dl)
{
	sd_time t0 = sd_now(c->clock);
	size_t nrx = 0, sent = 0, nrtt = 0;
	c->nunsol = 0;

	/* 1. What does the line say while we are quiet? */
	sd_link_flush(c->l, SD_FLUSH_IN);
	drain(c, p, &nrx, 0, DRAIN_QUIET, sd_deadline_min(sd_deadline_in(c->clock, DRAIN_MAX), c->overall));
	if (c->err)
		return;

	/* 2. How many bytes fit: about half the pass's share on the wire. */
	sd_time share = pass_dl - sd_now(c->clock);
	double fit = share > 0 ? (double)share * 0.5 / byte_us(&p->cfg) : 0.0;
	size_t nbytes = fit >= (double)maxbytes ? maxbytes : (size_t)fit;
	if (nbytes < SD_LOOPBACK_MIN_BYTES)
		nbytes = SDI_MIN((size_t)SD_LOOPBACK_MIN_BYTES, maxbytes);
	pattern(c->tx, nbytes, seed);

	/* 3. Blocks: the first byte alone (its round trip), then the rest. */
	for (size_t off = 0; off < nbytes && !c->err; off += BLOCK) {
		if (off > 0 && sd_deadline_passed(c->clock, pass_dl))
			break;
		size_t len = SDI_MIN((size_t)BLOCK, nbytes - off);
		sd_time tw = sd_now(c->clock);
		sd_deadline wdl = sd_deadline_min(tw + wire_time(&p->cfg, len) * 2 + SD_MS(500), c->overall);
		int r = sd_link_write_all(c->l, c->tx + off, 1, wdl);
		if (r < 0) {
			if (fatal(r))
				c->err = r;
			break;
		}
		sent += 1;
		sd_deadline fdl = sd_deadline_min(sd_now(c->clock) + FIRST_WAIT + 2 * wire_time(&p->cfg, 1),
						  c->overall);
		sd_time first = read_until(c, &nrx, nrx + 1, fdl, 0);
		if (c->err)
			break;
		if (first >= 0 && nrtt < c->rttcap)
			c->rtt[nrtt++] = first - tw;
		if (nrx == 0 && off == 0) {
			/* Not a byte back, the line having had the whole first-byte
			 * wait: nothing is looped here; do not spend the pass. */
			break;
		}
		if (len > 1) {
			r = sd_link_write_all(c->l, c->tx + off + 1, len - 1, wdl);
			if (r < 0) {
				if (fatal(r))
					c->err = r;
				break;
			}
			sent += len - 1;
		}
		sd_deadline bdl = sd_deadline_min(sd_now(c->clock) + BLOCK_WAIT + wire_time(&p->cfg, len) * 3 / 2,
						  c->overall);
		/* A block short of bytes (some were lost) ends at a quiet gap,
		 * not at its deadline: bytes in flight come at least every
		 * latency-timer tick (16 ms on an FTDI) or every few byte times. */
		read_until(c, &nrx, off + len, bdl, TAIL_QUIET + 4 * wire_time(&p->cfg, 1));
	}
	/* 4. Stragglers. */
	if (!c->err && sent > 0)
		drain(c, p, &nrx, 1, TAIL_QUIET, sd_deadline_min(sd_deadline_in(c->clock, TAIL_MAX), c->overall));

	sd_loopback_compare(c->tx, sent, c->rx, nrx, p);
	p->text += count_text(c->rx, nrx);
	p->rtt_samples = nrtt;
	for (size_t i = 0; i < nrtt && c->nall < RTT_MAX; i++)
		c->all_rtt[c->nall++] = c->rtt[i];
	sd_time worst = -1;
	for (size_t i = 0; i < nrtt; i++)
		worst = SDI_MAX(worst, c->rtt[i]);
	p->rtt_worst = worst;
	p->rtt_median = median(c->rtt, nrtt);
	p->elapsed = sd_now(c->clock) - t0;

	size_t in = p->received + p->unsolicited;
	if (in == 0)
		p->status = SD_LOOPBACK_NONE;
	else if (p->matched * 4 < in && p->matched * 4 < p->sent)
		p->status = SD_LOOPBACK_FOREIGN;
	else if (!p->corrupted && !p->extra && !p->lost)
		p->status = SD_LOOPBACK_GOOD;
	else if (!p->extra && p->corrupted * 10 <= p->lost)
		/* Losses, and at most a few changed bytes: two losses a byte
		 * apart read as one loss and one changed byte. */
		p->status = SD_LOOPBACK_PARTIAL;
	else
		p->status = SD_LOOPBACK_ERRORS;
}

/* How bad a pass is, for choosing the evidence. */
static int severity(sd_loopback_status s)
{
	switch (s) {
	case SD_LOOPBACK_FOREIGN: return 4;
	case SD_LOOPBACK_ERRORS:  return 3;
	case SD_LOOPBACK_PARTIAL: return 2;
	case SD_LOOPBACK_NONE:    return 1;
	default:                  return 0;
	}
}

/* ---- modem lines ------------------------------------------------------- */

static int settle_lines(run_ctx *c, unsigned *lv)
{
	uint8_t tmp[64];
	/* A read, not a sleep: an in-process peer runs while we wait, and
	 * a stray byte on a real line is taken out of the way. */
	sd_deadline dl = sd_deadline_min(sd_deadline_in(c->clock, SETTLE), c->overall + RESERVE);
	while (!sd_deadline_passed(c->clock, dl)) {
		int r = sd_link_read(c->l, tmp, sizeof tmp, dl);
		if (r == SD_ERR_TIMEOUT)
			break;
		if (r < 0)
			return r;
	}
	return sd_link_get_lines(c->l, lv);
}

static void test_lines(run_ctx *c, sd_loopback_result *res, unsigned saved)
{
	sd_link *l = c->l;
	unsigned lv;
	if (!(l->caps & SD_LINK_LINES) || sd_link_get_lines(l, &lv) == SD_ERR_UNSUPPORTED) {
		res->lines = SD_LOOPBACK_LINES_UNSUPPORTED;
		return;
	}
	static const struct { unsigned out, in, flag; } pairs[] = {
		{ SD_LINE_DTR, SD_LINE_DSR, SD_LOOPBACK_DTR_DSR },
		{ SD_LINE_DTR, SD_LINE_DCD, SD_LOOPBACK_DTR_DCD },
		{ SD_LINE_RTS, SD_LINE_CTS, SD_LOOPBACK_RTS_CTS },
	};
	static const unsigned outs[] = { SD_LINE_DTR, SD_LINE_RTS };
	res->lines = SD_LOOPBACK_LINES_TESTED;
	for (size_t k = 0; k < SDI_ARRAY_LEN(outs); k++) {
		unsigned on = 0, off = 0;
		int r = sd_link_set_lines(l, outs[k], outs[k]);
		if (r == SD_OK)
			r = settle_lines(c, &on);
		if (r == SD_OK)
			r = sd_link_set_lines(l, outs[k], 0);
		if (r == SD_OK)
			r = settle_lines(c, &off);
		if (r == SD_ERR_UNSUPPORTED) {
			res->lines = SD_LOOPBACK_LINES_UNSUPPORTED;
			break;
		}
		if (r < 0) {
			if (fatal(r))
				c->err = r;
			res->lines = SD_LOOPBACK_LINES_FAILED;
			break;
		}
		for (size_t i = 0; i < SDI_ARRAY_LEN(pairs); i++)
			if (pairs[i].out == outs[k] && (on & pairs[i].in) && !(off & pairs[i].in))
				res->lines_loop |= pairs[i].flag;
	}
	if (!c->err)
		sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, saved);
}

/* ---- findings ---------------------------------------------------------- */

static void pass_name(const sd_loopback_pass *p, char *buf, size_t len)
{
	char fr[8];
	if (p->cfg.baud)
		sdi_fmt(buf, len, "%u %s", p->cfg.baud, sd_line_cfg_frame(&p->cfg, fr));
	else
		sdi_fmt(buf, len, "the link's rate");
}

/* "9600 8N1, 921600 8E1" of the passes with status in mask (1u << status). */
static void list_passes(const sd_loopback_result *res, unsigned mask, char *buf, size_t len)
{
	buf[0] = '\0';
	size_t shown = 0, more = 0;
	for (size_t i = 0; i < res->npasses; i++) {
		if (!(mask & (1u << res->pass[i].status)))
			continue;
		if (shown >= 8) {
			more++;
			continue;
		}
		char nm[40];
		pass_name(&res->pass[i], nm, sizeof nm);
		sdi_append(buf, len, "%s%s", shown ? ", " : "", nm);
		shown++;
	}
	if (more)
		sdi_append(buf, len, " and %zu more", more);
}

static void lines_detail(const sd_loopback_result *res, char *buf, size_t len)
{
	switch (res->lines) {
	case SD_LOOPBACK_LINES_UNSUPPORTED:
		sdi_fmt(buf, len, "cannot test modem lines on this link (it has none: a pty, a network port)");
		break;
	case SD_LOOPBACK_LINES_SKIPPED:
		sdi_fmt(buf, len, "modem lines not tested");
		break;
	case SD_LOOPBACK_LINES_FAILED:
		sdi_fmt(buf, len, "modem lines: setting or reading them failed");
		break;
	default:
		sdi_fmt(buf, len, "modem lines: DTR->DSR %s, DTR->DCD %s, RTS->CTS %s%s",
			(res->lines_loop & SD_LOOPBACK_DTR_DSR) ? "looped" : "no",
			(res->lines_loop & SD_LOOPBACK_DTR_DCD) ? "looped" : "no",
			(res->lines_loop & SD_LOOPBACK_RTS_CTS) ? "looped" : "no",
			res->lines_loop ? "" : " (jumper DTR to DSR/DCD and RTS to CTS to test them)");
		break;
	}
}

static void add_common_detail(sd_finding *f, const sd_loopback_result *res)
{
	char buf[SD_DETAIL_MAX];
	if (!f)
		return;
	if (res->nrefused) {
		buf[0] = '\0';
		for (size_t i = 0; i < res->nrefused; i++)
			sdi_append(buf, sizeof buf, "%s%u", i ? ", " : "", res->refused[i]);
		sd_finding_detail(f, "rates the adapter does not take: %s", buf);
	}
	if (!res->varied_rate)
		sd_finding_detail(f, "this link has no rate to set: one pass at its own");
	else if (!res->parity)
		sd_finding_detail(f, "this link carries no parity (a pty): 8N1 only");
	list_passes(res, 1u << SD_LOOPBACK_UNTESTED, buf, sizeof buf);
	if (buf[0])
		sd_finding_detail(f, "not tested (time budget, or nothing came back at the first rates): %s", buf);
}

static void bad_pass_details(sd_finding *f, const sd_loopback_result *res)
{
	size_t shown = 0;
	for (size_t i = 0; i < res->npasses && f; i++) {
		const sd_loopback_pass *p = &res->pass[i];
		if (p->status == SD_LOOPBACK_GOOD || p->status == SD_LOOPBACK_UNTESTED)
			continue;
		if (++shown > 4)
			break;
		char nm[40];
		pass_name(p, nm, sizeof nm);
		if (p->status == SD_LOOPBACK_NONE)
			sd_finding_detail(f, "%s: none of %zu bytes came back", nm, p->sent);
		else
			sd_finding_detail(f, "%s: %zu of %zu changed (%llu bit errors), %zu lost, %zu extra",
					  nm, p->corrupted, p->sent, (unsigned long long)p->bit_errors,
					  p->lost, p->extra);
	}
}

/* The passes with status in mask, or "every pass" when that is all of
 * those tested. */
static void which(const sd_loopback_result *res, unsigned mask, size_t tested, char *buf, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < res->npasses; i++)
		k += (mask & (1u << res->pass[i].status)) != 0;
	if (k == tested && tested > 1)
		sdi_fmt(buf, len, "every rate tested (%zu passes)", tested);
	else
		list_passes(res, mask, buf, len);
}

/* Clean at one rate only, garbage at some others (nothing at the rest):
 * a jumper echoes at any rate (TX and RX share the adapter's clock), a
 * device only at its own. Returns that rate, or 0. */
static uint32_t echo_rate(const sd_loopback_result *res)
{
	uint32_t only = 0;
	int foreign = 0;
	for (size_t i = 0; i < res->npasses; i++) {
		const sd_loopback_pass *p = &res->pass[i];
		if (p->status == SD_LOOPBACK_GOOD) {
			if (!p->cfg.baud || (only && only != p->cfg.baud))
				return 0;
			only = p->cfg.baud;
		} else if (p->status == SD_LOOPBACK_ERRORS || p->status == SD_LOOPBACK_PARTIAL) {
			return 0;
		} else if (p->status == SD_LOOPBACK_FOREIGN) {
			foreign = 1;
		}
	}
	return foreign ? only : 0;
}

static int judge(const sd_loopback_result *res, sd_report *r, int err, sd_link *l)
{
	size_t n[6] = { 0 };
	for (size_t i = 0; i < res->npasses; i++)
		n[res->pass[i].status]++;
	size_t tested = res->npasses - n[SD_LOOPBACK_UNTESTED];
	char list[SD_DETAIL_MAX];
	sd_finding *f;

	if (err) {
		f = sd_diag_add(&r->diag, SD_CAUSE_DISCONNECTED, 0.95f);
		if (f) {
			sd_finding_summary(f, "the link failed during the loopback test: %s", sd_link_why(l, err));
			add_common_detail(f, res);
		}
		return err;
	}
	if (tested == 0) {
		f = sd_diag_add(&r->diag, SD_CAUSE_UNKNOWN, 0.5f);
		if (f) {
			sd_finding_summary(f, "no pass could run: the adapter took none of the rates, or the time budget is too short");
			sd_finding_fix(f, "give rates the adapter takes (--rates) or more time (--timeout)");
			add_common_detail(f, res);
		}
		return SD_ERR_PROTO;
	}
	if (n[SD_LOOPBACK_GOOD] == tested) {
		f = sd_diag_add(&r->diag, SD_CAUSE_OK, 0.95f);
		if (f) {
			list_passes(res, 1u << SD_LOOPBACK_GOOD, list, sizeof list);
			sd_finding_summary(f, "adapter and cable good: TX is looped to RX and all %zu bytes came back "
					   "unchanged (%zu pass%s)", res->sent, tested, tested == 1 ? "" : "es");
			sd_finding_detail(f, "clean at %s", list);
			add_common_detail(f, res);
			sd_finding_evidence(f, res->ev_sent, res->ev_sent_len, res->ev_rcvd, res->ev_rcvd_len);
		}
		sdi_fmt(r->by.mode, sizeof r->by.mode, "echo");
		r->ok = 1;
		return SD_OK;
	}
	if (n[SD_LOOPBACK_NONE] == tested) {
		f = sd_diag_add(&r->diag, SD_CAUSE_SILENT, 0.9f);
		if (f) {
			list_passes(res, 1u << SD_LOOPBACK_NONE, list, sizeof list);
			sd_finding_summary(f, "nothing came back at %s: TX is not looped to RX", list);
			sd_finding_fix(f, "put a jumper from TX to RX; or a device is attached: run shakedown probe");
			add_common_detail(f, res);
			sd_finding_evidence(f, res->ev_sent, res->ev_sent_len, NULL, 0);
		}
		return SD_ERR_PROTO;
	}
	if (n[SD_LOOPBACK_FOREIGN] && !n[SD_LOOPBACK_GOOD]) {
		/* Text at any pass: a device that prints (at the other rates
		 * its text reads as garbage). */
		size_t in = 0, ours = 0;
		int is_text = 0;
		for (size_t i = 0; i < res->npasses; i++) {
			const sd_loopback_pass *p = &res->pass[i];
			size_t pin = p->received + p->unsolicited;
			in += pin;
			ours += p->matched;
			if (p->status == SD_LOOPBACK_FOREIGN && pin && p->text * 10 >= pin * 7)
				is_text = 1;
		}
		f = sd_diag_add(&r->diag, is_text ? SD_CAUSE_APP_RUNNING : SD_CAUSE_UNKNOWN, 0.85f);
		if (f) {
			sd_finding_summary(f, "bytes came back that are not ours (%zu bytes, %zu of them ours%s): "
					   "a device answered, this is not a loop", in, ours,
					   is_text ? "; it prints text" : "");
			sd_finding_fix(f, "to test the adapter, disconnect the device and put a jumper from TX to RX; "
				       "to see what the device is, run shakedown probe");
			if (is_text)
				sdi_fmt(r->by.mode, sizeof r->by.mode, "application");
			add_common_detail(f, res);
			bad_pass_details(f, res);
			sd_finding_evidence(f, res->ev_sent, res->ev_sent_len, res->ev_rcvd, res->ev_rcvd_len);
		}
		return SD_ERR_PROTO;
	}

	uint32_t only = echo_rate(res);
	if (only) {
		f = sd_diag_add(&r->diag, SD_CAUSE_ECHO, 0.8f);
		if (f) {
			sd_finding_summary(f, "our bytes come back unchanged only at %u baud, garbled or not at all at "
					   "the other rates: a device echoes at %u baud (a jumper echoes at every rate)",
					   only, only);
			sd_finding_fix(f, "a device with echo on (a terminal, a modem, a one-wire bus) is attached: to test "
				       "the adapter, put a jumper from TX to RX instead; to see what it is, run shakedown probe");
			add_common_detail(f, res);
			bad_pass_details(f, res);
			sd_finding_evidence(f, res->ev_sent, res->ev_sent_len, res->ev_rcvd, res->ev_rcvd_len);
		}
		sdi_fmt(r->by.mode, sizeof r->by.mode, "echo");
		return SD_ERR_PROTO;
	}

	/* Some passes bad: which, and how. */
	f = sd_diag_add(&r->diag, SD_CAUSE_NOISE, 0.9f);
	if (!f)
		return SD_ERR_PROTO;
	sdi_fmt(r->by.mode, sizeof r->by.mode, "echo");
	if (n[SD_LOOPBACK_ERRORS] || n[SD_LOOPBACK_FOREIGN]) {
		uint64_t bits = 0;
		size_t cmp = 0;
		for (size_t i = 0; i < res->npasses; i++) {
			const sd_loopback_pass *p = &res->pass[i];
			if (p->status == SD_LOOPBACK_ERRORS || p->status == SD_LOOPBACK_FOREIGN) {
				bits += p->bit_errors;
				cmp += p->matched + p->corrupted;
			}
		}
		which(res, (1u << SD_LOOPBACK_ERRORS) | (1u << SD_LOOPBACK_FOREIGN), tested, list, sizeof list);
		sd_finding_summary(f, "bit errors at %s: BER %.1e there (%llu bit errors in %zu bytes)", list,
				   cmp ? (double)bits / (8.0 * (double)cmp) : 0.0, (unsigned long long)bits, cmp);
		sd_finding_fix(f, "cable or adapter bad, or a rate the adapter cannot make exactly: try a shorter "
			       "cable or another adapter, or stay below the failing rates");
	} else if (n[SD_LOOPBACK_PARTIAL]) {
		size_t lost = 0, sent = 0;
		for (size_t i = 0; i < res->npasses; i++) {
			if (res->pass[i].status == SD_LOOPBACK_PARTIAL) {
				lost += res->pass[i].lost;
				sent += res->pass[i].sent;
			}
		}
		which(res, 1u << SD_LOOPBACK_PARTIAL, tested, list, sizeof list);
		sd_finding_summary(f, "partial echo at %s: %zu of %zu bytes were lost", list, lost, sent);
		sd_finding_fix(f, "a loose jumper or contact, or the adapter or driver overruns at these rates: "
			       "check the jumper and cable, or stay below the failing rates");
	} else {
		list_passes(res, 1u << SD_LOOPBACK_NONE, list, sizeof list);
		sd_finding_summary(f, "nothing came back at %s, though the loop works at other rates", list);
		sd_finding_fix(f, "the adapter takes these rates but does not make them: stay below them");
	}
	list_passes(res, 1u << SD_LOOPBACK_GOOD, list, sizeof list);
	if (list[0])
		sd_finding_detail(f, "clean at %s", list);
	add_common_detail(f, res);
	bad_pass_details(f, res);
	sd_finding_evidence(f, res->ev_sent, res->ev_sent_len, res->ev_rcvd, res->ev_rcvd_len);
	return SD_ERR_PROTO;
}

/* ---- the run ------------------------------------------------------------ */

static int check_opts(const sd_loopback_opts *o)
{
	if (o->nrates > SD_LOOPBACK_MAX_RATES || (o->nrates && !o->rates))
		return SD_ERR_ARG;
	if (o->nparities > 5 || (o->nparities && !o->parities))
		return SD_ERR_ARG;
	for (size_t i = 0; i < o->nparities; i++)
		if (o->parities[i] > SD_PARITY_SPACE)
			return SD_ERR_ARG;
	for (size_t i = 0; i < o->nrates; i++)
		if (o->rates[i] < 50 || o->rates[i] > 20000000)
			return SD_ERR_ARG;
	if (o->bytes > SD_LOOPBACK_MAX_BYTES || o->budget < 0)
		return SD_ERR_ARG;
	return SD_OK;
}

static sd_line_cfg frame_at(const sd_line_cfg *base, uint32_t baud, uint8_t parity)
{
	sd_line_cfg c = *base;
	c.baud = baud;
	if (!c.data_bits)
		c.data_bits = 8;
	if (!c.stop_bits)
		c.stop_bits = 1;
	c.parity = parity;
	c.flow = SD_FLOW_NONE;
	return c;
}

/* The passes to run: the rates the link takes x the parities it carries. */
static int plan(run_ctx *c, const sd_loopback_opts *o, sd_loopback_result *res)
{
	sd_link *l = c->l;
	const uint32_t *rates = o->nrates ? o->rates : default_rates;
	size_t nrates = o->nrates ? o->nrates : SDI_ARRAY_LEN(default_rates);
	const uint8_t *pars = o->nparities ? o->parities : default_parities;
	size_t npars = o->nparities ? o->nparities : SDI_ARRAY_LEN(default_parities);
	sd_line_cfg base = l->cfg;
	uint32_t ok_rates[SD_LOOPBACK_MAX_RATES];
	size_t nok = 0;

	res->varied_rate = (l->caps & SD_LINK_BAUD) != 0;
	if (!res->varied_rate) {
		res->pass[0].cfg = base;
		res->npasses = 1;
		return SD_OK;
	}
	for (size_t i = 0; i < nrates && nok < SD_LOOPBACK_MAX_RATES; i++) {
		sd_line_cfg t = frame_at(&base, rates[i], SD_PARITY_NONE);
		int r = sd_link_set_cfg(l, &t);
		if (fatal(r))
			return r;
		if (r == SD_OK)
			ok_rates[nok++] = rates[i];
		else if (res->nrefused < SD_LOOPBACK_MAX_RATES)
			res->refused[res->nrefused++] = rates[i];
	}
	/* Does the link carry parity? A pty takes the setting and drops it
	 * (the tty link then clears SD_LINK_PARITY). */
	res->parity = 0;
	if (nok && (l->caps & SD_LINK_PARITY)) {
		sd_line_cfg t = frame_at(&base, ok_rates[0], SD_PARITY_EVEN);
		int r = sd_link_set_cfg(l, &t);
		if (fatal(r))
			return r;
		res->parity = r == SD_OK && (l->caps & SD_LINK_PARITY);
	}
	for (size_t i = 0; i < nok; i++) {
		int none_done = 0;
		for (size_t k = 0; k < npars && res->npasses < SD_LOOPBACK_MAX_PASSES; k++) {
			uint8_t par = res->parity ? pars[k] : SD_PARITY_NONE;
			if (par == SD_PARITY_NONE) {
				if (none_done)
					continue;
				none_done = 1;
			}
			res->pass[res->npasses++].cfg = frame_at(&base, ok_rates[i], par);
		}
	}
	return SD_OK;
}

int sd_loopback_run(sd_link *l, const sd_loopback_opts *o, sd_loopback_result *res, sd_report *r)
{
	static const sd_loopback_opts defaults = { 0 };
	if (!l || !res || !r)
		return SD_ERR_ARG;
	if (!o)
		o = &defaults;
	memset(res, 0, sizeof *res);
	res->rtt_median = res->rtt_worst = -1;
	res->lines = SD_LOOPBACK_LINES_SKIPPED;
	if (check_opts(o) != SD_OK)
		return SD_ERR_ARG;

	size_t maxbytes = o->bytes ? o->bytes : SD_LOOPBACK_BYTES;
	run_ctx c = { .l = l, .clock = l->clock };
	sd_time t0 = sd_now(c.clock);
	c.overall = sd_deadline_in(c.clock, (o->budget ? o->budget : SD_LOOPBACK_BUDGET) - RESERVE);
	c.txcap = maxbytes;
	c.rxcap = 2 * maxbytes + RX_SLACK;
	c.rttcap = maxbytes / BLOCK + 2;
	c.tx = malloc(c.txcap);
	c.rx = malloc(c.rxcap);
	c.rtt = malloc(c.rttcap * sizeof *c.rtt);
	c.all_rtt = malloc(RTT_MAX * sizeof *c.all_rtt);
	int err = SD_OK;
	if (!c.tx || !c.rx || !c.rtt || !c.all_rtt) {
		err = SD_ERR_NOMEM;
		goto out;
	}

	sd_line_cfg saved_cfg = l->cfg;
	unsigned saved_lines = l->lines;
	int worst = -1, silent_run = 0, looped = 0;
	err = plan(&c, o, res);
	if (err)
		goto judge;

	for (size_t i = 0; i < res->npasses; i++) {
		sd_loopback_pass *p = &res->pass[i];
		sd_time left = c.overall - sd_now(c.clock);
		sd_time share = SDI_MAX(left / (sd_time)(res->npasses - i), MIN_SHARE);
		/* Two passes in a row with nothing back, and nothing ever back:
		 * no loop here; the other rates would only cost time. */
		if (left < MIN_SHARE || (silent_run >= 2 && !looped))
			break;
		if (res->varied_rate) {
			int rr = sd_link_set_cfg(l, &p->cfg);
			if (rr) {
				if (fatal(rr)) {
					err = rr;
					break;
				}
				continue; /* stays untested */
			}
		}
		run_pass(&c, p, maxbytes, o->seed + (uint32_t)i, sd_now(c.clock) + share);
		if (c.err) {
			err = c.err;
			break;
		}
		silent_run = p->status == SD_LOOPBACK_NONE ? silent_run + 1 : 0;
		/* Our bytes came back, give or take errors: a loop, not a
		 * device that happens to send a few bytes we also sent. */
		looped |= p->status == SD_LOOPBACK_GOOD || p->status == SD_LOOPBACK_ERRORS ||
			  p->status == SD_LOOPBACK_PARTIAL;
		if (severity(p->status) > worst) {
			worst = severity(p->status);
			res->ev_sent_len = SDI_MIN(p->sent, sizeof res->ev_sent);
			memcpy(res->ev_sent, c.tx, res->ev_sent_len);
			const uint8_t *rb = p->received ? c.rx : c.unsol;
			size_t rn = p->received ? p->received : c.nunsol;
			res->ev_rcvd_len = SDI_MIN(rn, sizeof res->ev_rcvd);
			memcpy(res->ev_rcvd, rb, res->ev_rcvd_len);
		}
		res->sent += p->sent;
		res->received += p->received;
		res->matched += p->matched;
		res->corrupted += p->corrupted;
		res->lost += p->lost;
		res->extra += p->extra;
		res->bit_errors += p->bit_errors;
	}
	if (res->matched + res->corrupted)
		res->ber = (double)res->bit_errors / (8.0 * (double)(res->matched + res->corrupted));
	if (c.nall) {
		for (size_t i = 0; i < c.nall; i++)
			res->rtt_worst = SDI_MAX(res->rtt_worst, c.all_rtt[i]);
		res->rtt_median = median(c.all_rtt, c.nall);
	}

	/* Modem lines: only on a loop (on a device they would reset it). */
	if (!err && looped && !o->no_lines && !echo_rate(res)) {
		test_lines(&c, res, saved_lines);
		err = c.err;
	} else if (!err && !(l->caps & SD_LINK_LINES)) {
		res->lines = SD_LOOPBACK_LINES_UNSUPPORTED;
	}
	if (!err && res->varied_rate && saved_cfg.baud)
		sd_link_set_cfg(l, &saved_cfg);

judge:
	res->elapsed = sd_now(c.clock) - t0;
	r->elapsed_ms = res->elapsed / 1000;
	err = judge(res, r, fatal(err) ? err : SD_OK, l);
	sd_report_fact(r, "passes", "%zu", res->npasses);
	sd_report_fact(r, "bytes_sent", "%zu", res->sent);
	sd_report_fact(r, "bit_errors", "%llu", (unsigned long long)res->bit_errors);
	sd_report_fact(r, "ber", "%.2e", res->ber);
	if (res->rtt_median >= 0) {
		sd_report_fact(r, "rtt_median_ms", "%.3f", (double)res->rtt_median / 1000.0);
		sd_report_fact(r, "rtt_worst_ms", "%.3f", (double)res->rtt_worst / 1000.0);
	}
	{
		char buf[SD_DETAIL_MAX];
		lines_detail(res, buf, sizeof buf);
		sd_report_fact(r, "modem_lines", "%s", buf);
	}
	sd_diag_sort(&r->diag);
out:
	free(c.tx);
	free(c.rx);
	free(c.rtt);
	free(c.all_rtt);
	return err;
}
