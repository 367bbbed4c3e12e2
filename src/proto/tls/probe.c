/*
 * shakedown — TLS: one probe as a sans-I/O engine. Sends one ClientHello,
 * reads until the parser says the answer is complete, the server closes,
 * `wait` has passed since the start (one absolute deadline: bytes that
 * trickle in never move it), or the receive buffer is full. It never fails as an
 * engine: how the probe ended (closed, reset, timed out) is its result.
 */
#include "internal.h"
#include "tls_internal.h"

static void probe_parse(sd_tls_probe *p)
{
	sd_tls_parse(p->rx, p->rx_len, p->want_flight, p->hs, p->hs_cap, &p->srv);
}

/* The end of the probe: with SD_TLS_FLIGHT_EE, read the server's groups
 * (the parse is done: its scratch is free for the transcript). */
static void probe_done(sd_engine *e, sd_tls_probe *p)
{
	if (p->want_flight == SD_TLS_FLIGHT_EE && p->srv.answer == SD_TLS_HELLO &&
	    p->srv.version == SD_TLS_TLS13 && (p->srv.got & SD_TLS_GOT_CCS))
		p->listed_rc = sd_tls13_listed_groups(p->hello, p->hello_len, p->rx, p->rx_len, p->hs,
						      p->hs_cap, p->listed, SD_TLS_MAX_GROUPS, &p->nlisted);
	p->ended = sd_now(e->clock);
	sd_engine_done(e);
}

/* Enough of a non-TLS answer to name it: a line of text, or 64 bytes. */
static int banner_whole(const sd_tls_probe *p)
{
	int text = 1; /* a line of text; MySQL's binary greeting has a 0x0a in its 5th byte */
	for (size_t i = 0; i < p->rx_len && text; i++)
		text = sdi_is_text(p->rx[i]);
	return p->rx_len >= TLS_BANNER_MIN || p->rx_len >= p->rx_cap || (text && p->rx[p->rx_len - 1] == '\n');
}

static void probe_step(sd_engine *e, const sd_event *ev)
{
	sd_tls_probe *p = (sd_tls_probe *)e;
	switch (ev->type) {
	case SD_EV_START:
		p->sent = 0;
		p->started = sd_now(e->clock);
		p->until = sd_deadline_in(e->clock, p->wait);
		sd_engine_send(e, p->hello, p->hello_len, p->until);
		return;
	case SD_EV_SENT:
		p->sent += (int)ev->n;
		if ((size_t)p->sent < p->hello_len) {
			sd_engine_send(e, p->hello + p->sent, p->hello_len - (size_t)p->sent, p->until);
			return;
		}
		break;
	case SD_EV_RECEIVED:
		p->rx_len += ev->n;
		probe_parse(p);
		if (p->srv.answer == SD_TLS_NOT_TLS && !banner_whole(p)) {
			/* not TLS: read a little more of the banner for the classifier
			 * (a server may write it in pieces), but not for long */
			if (!p->lingering) {
				p->lingering = 1;
				p->linger_until = sd_deadline_in(e->clock, SD_MS(TLS_BANNER_LINGER_MS));
			}
			sd_engine_recv(e, p->rx + p->rx_len, p->rx_cap - p->rx_len,
				       sd_deadline_min(p->linger_until, p->until));
			return;
		}
		if (p->srv.complete || p->rx_len >= p->rx_cap) {
			probe_done(e, p);
			return;
		}
		break;
	case SD_EV_TIMEOUT:
		if (p->lingering) { /* the banner's end: not a timeout of the probe */
			probe_done(e, p);
			return;
		}
		p->timed_out = 1;
		probe_parse(p);
		probe_done(e, p);
		return;
	case SD_EV_LINK_ERROR:
	default:
		p->closed = 1;
		p->link_err = ev->err;
		probe_parse(p);
		probe_done(e, p);
		return;
	}
	sd_engine_recv(e, p->rx + p->rx_len, p->rx_cap - p->rx_len, p->until);
}

static const sd_engine_ops probe_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "tls-probe",
	.step = probe_step,
};

void sd_tls_probe_init(sd_tls_probe *p, const uint8_t *hello, size_t hello_len, int want_flight,
		       sd_time wait, uint8_t *rx, size_t rx_cap, uint8_t *hs, size_t hs_cap)
{
	memset(p, 0, sizeof *p);
	sd_engine_init(&p->base, &probe_ops);
	p->hello = hello;
	p->hello_len = hello_len;
	p->want_flight = want_flight;
	p->wait = wait ? wait : SD_MS(TLS_PROBE_WAIT_MS);
	p->rx = rx;
	p->rx_cap = rx_cap;
	p->hs = hs;
	p->hs_cap = hs_cap;
}

void sd_tls_probe_finish(sd_tls_probe *p, int run_rc, const sd_clock *clock)
{
	if (!p || p->ended)
		return;
	if (clock)
		p->ended = sd_now(clock);
	if (run_rc == SD_ERR_TIMEOUT) {
		p->timed_out = 1;
		p->cut = 1;
		probe_parse(p);
	}
}

uint32_t sd_tls_probe_ms(const sd_tls_probe *p)
{
	if (!p || !p->ended || p->ended < p->started)
		return 0;
	return (uint32_t)SDI_MIN((p->ended - p->started) / 1000, (sd_time)UINT32_MAX);
}

int sd_tls_names_check(const char *sni, const char *alpn, char *why, size_t whylen)
{
	if (why && whylen)
		why[0] = '\0';
	if (sni) {
		size_t n = strlen(sni);
		if (n == 0 || n > 255) {
			sdi_fmt(why, whylen, "--sni takes a name of 1 to 255 bytes, not %zu", n);
			return SD_ERR_ARG;
		}
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)sni[i] <= 0x20 || (unsigned char)sni[i] == 0x7f) {
				sdi_fmt(why, whylen, "--sni: a control character or blank at byte %zu", i + 1);
				return SD_ERR_ARG;
			}
	}
	if (alpn) {
		size_t n = strlen(alpn);
		if (n == 0 || n > SD_TLS_ALPN_MAX) {
			sdi_fmt(why, whylen, "--alpn takes a list of 1 to %u bytes, not %zu", SD_TLS_ALPN_MAX, n);
			return SD_ERR_ARG;
		}
		for (const char *q = alpn;;) {
			const char *c = strchr(q, ',');
			size_t k = c ? (size_t)(c - q) : strlen(q);
			if (k == 0) {
				sdi_fmt(why, whylen, "--alpn: an empty protocol name at byte %zu (e.g. h2,http/1.1)",
					(size_t)(q - alpn) + 1);
				return SD_ERR_ARG;
			}
			if (k > 255) {
				sdi_fmt(why, whylen, "--alpn: a protocol name of %zu bytes (at most 255)", k);
				return SD_ERR_ARG;
			}
			if (!c)
				break;
			q = c + 1;
		}
	}
	return SD_OK;
}
