/*
 * shakedown — TLS: one probe as a sans-I/O engine. Sends one ClientHello,
 * reads until the parser says the answer is complete, the server closes or
 * goes quiet for `wait`, or the receive buffer is full. It never fails as an
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
		sd_engine_send(e, p->hello, p->hello_len, sd_deadline_in(e->clock, p->wait));
		return;
	case SD_EV_SENT:
		p->sent += (int)ev->n;
		if ((size_t)p->sent < p->hello_len) {
			sd_engine_send(e, p->hello + p->sent, p->hello_len - (size_t)p->sent,
				       sd_deadline_in(e->clock, p->wait));
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
			sd_engine_recv(e, p->rx + p->rx_len, p->rx_cap - p->rx_len, p->linger_until);
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
	sd_engine_recv(e, p->rx + p->rx_len, p->rx_cap - p->rx_len, sd_deadline_in(e->clock, p->wait));
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
