/*
 * shakedown — the listen engine (listen.h): listen, then at most one poke
 * and its answer. Phases are explicit; every wait has a deadline.
 */
#include "internal.h"

enum { PH_LISTEN, PH_POKE, PH_ANSWER, PH_DONE };

static sd_time now_of(const sd_listen *L)
{
	return sd_now(L->eng.clock);
}

static void want_bytes(sd_listen *L)
{
	/* Keep reading into the tail of buf; once it is full, read into a
	 * scratch area that only counts (bytes are still in the transcript). */
	if (L->len < L->cap)
		sd_engine_recv(&L->eng, L->buf + L->len, L->cap - L->len, L->phase_end);
	else
		sd_engine_recv(&L->eng, L->scratch, sizeof L->scratch, L->phase_end);
}

static void start_answer(sd_listen *L)
{
	L->phase = PH_ANSWER;
	L->phase_end = sd_deadline_in(L->eng.clock, L->answer);
	want_bytes(L);
}

static void after_listen(sd_listen *L)
{
	/* Something already talks: a poke would only add our bytes to its
	 * stream, and could knock a live bootloader out of its state. */
	if (!L->poke || L->poke_len == 0 || L->len > 0) {
		L->phase = PH_DONE;
		sd_engine_done(&L->eng);
		return;
	}
	L->phase = PH_POKE;
	L->before_poke = L->len;
	sd_engine_send(&L->eng, L->poke, L->poke_len, sd_deadline_in(L->eng.clock, SD_MS(500)));
}

static void listen_step(sd_engine *e, const sd_event *ev)
{
	sd_listen *L = (sd_listen *)e;

	switch (ev->type) {
	case SD_EV_START:
		L->started = now_of(L);
		L->phase = PH_LISTEN;
		L->phase_end = sd_deadline_in(e->clock, L->window);
		want_bytes(L);
		return;
	case SD_EV_RECEIVED: {
		sd_time t = now_of(L);
		if (L->first_rx < 0)
			L->first_rx = t;
		L->last_rx = t;
		if (L->len < L->cap)
			L->len += ev->n;
		else
			L->lost += ev->n;
		if (L->phase == PH_LISTEN && L->len >= L->enough) {
			after_listen(L);
			return;
		}
		if (L->phase == PH_ANSWER) {
			/* An answer has begun: wait only for its end. */
			sd_deadline q = sd_deadline_in(e->clock, L->quiet);
			L->phase_end = sd_deadline_min(q, L->phase_end);
		}
		want_bytes(L);
		return;
	}
	case SD_EV_SENT:
		if (L->phase == PH_POKE) {
			L->poked = 1;
			start_answer(L);
		}
		return;
	case SD_EV_TIMEOUT:
		if (L->phase == PH_LISTEN)
			after_listen(L);
		else if (L->phase == PH_POKE) /* the poke could not be written */
			sd_engine_fail(e, SD_ERR_TIMEOUT);
		else {
			L->phase = PH_DONE;
			sd_engine_done(e);
		}
		return;
	case SD_EV_LINK_ERROR:
		sd_engine_fail(e, ev->err);
		return;
	default:
		sd_engine_fail(e, SD_ERR_STATE);
		return;
	}
}

static const sd_engine_ops listen_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "listen",
	.step = listen_step,
};

void sd_listen_init(sd_listen *L, uint8_t *buf, size_t cap, sd_time window,
		    const uint8_t *poke, size_t poke_len, sd_time answer)
{
	memset(L, 0, sizeof *L);
	sd_engine_init(&L->eng, &listen_ops);
	L->buf = buf;
	L->cap = buf ? cap : 0;
	L->enough = L->cap ? SDI_MIN(L->cap, (size_t)512) : 1;
	L->window = window;
	L->poke = poke;
	L->poke_len = poke ? poke_len : 0;
	L->answer = answer;
	L->quiet = SD_MS(50);
	L->first_rx = L->last_rx = -1;
}
