/*
 * shakedown — transcript storage: records packed into a caller's arena,
 * each a fixed header followed by its payload, 8-byte aligned. The sink
 * (a --trace writer) sees every record, stored or not.
 */
#include "internal.h"

typedef struct rec_hdr {
	int64_t     t;
	uint32_t    a, b, len;
	sd_line_cfg cfg;
	uint8_t     kind;
} rec_hdr;

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

static const char *const kind_names[] = {
	NULL, "tx", "rx", "lines", "cfg", "break", "flush", "error", "note", "open", "close",
	"run", "outcome", "reopen",
};
_Static_assert(SDI_ARRAY_LEN(kind_names) == SD_TR_KIND_MAX + 1,
	       "a name for every transcript record kind");

const char *sd_trec_kind_name(int kind)
{
	return (kind > 0 && kind <= SD_TR_KIND_MAX) ? kind_names[kind] : NULL;
}

int sd_trec_kind_from_name(const char *name)
{
	for (int k = 1; name && k <= SD_TR_KIND_MAX; k++)
		if (strcmp(kind_names[k], name) == 0)
			return k;
	return 0;
}

void sd_transcript_init(sd_transcript *t, const sd_clock *clock, void *arena, size_t cap)
{
	memset(t, 0, sizeof *t);
	t->clock = clock ? clock : sd_clock_real();
	t->t0 = sd_now(t->clock);
	t->arena = arena;
	t->cap = arena ? cap : 0;
}

void sd_transcript_set_sink(sd_transcript *t, sd_transcript_sink sink, void *ctx)
{
	t->sink = sink;
	t->sink_ctx = ctx;
}

void sd_transcript_add_at(sd_transcript *t, const sd_trec *rec)
{
	if (!t || !rec || rec->kind == 0 || rec->kind > SD_TR_KIND_MAX)
		return;
	if (rec->t > t->last)
		t->last = rec->t;
	if (rec->kind == SD_TR_RX)
		t->rx_bytes += rec->len;
	else if (rec->kind == SD_TR_TX)
		t->tx_bytes += rec->len;
	if (t->sink)
		t->sink(t->sink_ctx, rec);

	size_t need = ALIGN8(sizeof(rec_hdr) + rec->len);
	if (!t->arena || need > t->cap - t->used) {
		t->dropped++;
		return;
	}
	rec_hdr h = {
		.t = rec->t, .a = rec->a, .b = rec->b, .len = rec->len,
		.cfg = rec->cfg, .kind = rec->kind,
	};
	memcpy(t->arena + t->used, &h, sizeof h);
	if (rec->len)
		memcpy(t->arena + t->used + sizeof h, rec->data, rec->len);
	t->used += need;
	t->nrec++;
}

void sd_transcript_add(sd_transcript *t, const sd_trec *rec)
{
	if (!t || !rec)
		return;
	sd_trec r = *rec;
	r.t = sd_now(t->clock) - t->t0;
	sd_transcript_add_at(t, &r);
}

void sd_transcript_bytes(sd_transcript *t, int kind, const uint8_t *data, size_t len)
{
	if (!t || (len && !data) || len > UINT32_MAX)
		return;
	sd_trec r = { .kind = (uint8_t)kind, .len = (uint32_t)len, .data = data };
	sd_transcript_add(t, &r);
}

void sd_transcript_lines(sd_transcript *t, unsigned mask, unsigned level)
{
	sd_trec r = { .kind = SD_TR_LINES, .a = mask, .b = level };
	sd_transcript_add(t, &r);
}

void sd_transcript_cfg(sd_transcript *t, const sd_line_cfg *cfg)
{
	sd_trec r = { .kind = SD_TR_CFG, .cfg = *cfg };
	sd_transcript_add(t, &r);
}

void sd_transcript_note(sd_transcript *t, const char *text)
{
	if (text)
		sd_transcript_bytes(t, SD_TR_NOTE, (const uint8_t *)text, strlen(text));
}

void sd_transcript_error(sd_transcript *t, int err)
{
	sd_trec r = { .kind = SD_TR_ERROR, .a = (uint32_t)(-err) };
	sd_transcript_add(t, &r);
}

void sd_transcript_run(sd_transcript *t, const sd_trace_run *run)
{
	if (!t || !run)
		return;
	sd_trec r = { .kind = SD_TR_RUN, .len = sizeof *run, .data = (const uint8_t *)run };
	sd_transcript_add(t, &r);
}

void sd_transcript_outcome(sd_transcript *t, const sd_trace_outcome *o)
{
	if (!t || !o)
		return;
	sd_trec r = { .t = t->last, .kind = SD_TR_OUTCOME, .len = sizeof *o, .data = (const uint8_t *)o };
	sd_transcript_add_at(t, &r);
}

int sd_trec_get_run(const sd_trec *r, sd_trace_run *out)
{
	if (!r || !out || r->kind != SD_TR_RUN || r->len != sizeof *out || !r->data)
		return SD_ERR_ARG;
	memcpy(out, r->data, sizeof *out);
	/* the payload may come from a file: every string ends inside its field */
	out->command[sizeof out->command - 1] = '\0';
	out->protocol[sizeof out->protocol - 1] = '\0';
	out->link[sizeof out->link - 1] = '\0';
	out->enter[sizeof out->enter - 1] = '\0';
	out->exit[sizeof out->exit - 1] = '\0';
	out->part[sizeof out->part - 1] = '\0';
	out->expect[sizeof out->expect - 1] = '\0';
	return SD_OK;
}

int sd_trec_get_outcome(const sd_trec *r, sd_trace_outcome *out)
{
	if (!r || !out || r->kind != SD_TR_OUTCOME || r->len != sizeof *out || !r->data)
		return SD_ERR_ARG;
	memcpy(out, r->data, sizeof *out);
	out->cause[sizeof out->cause - 1] = '\0';
	out->protocol[sizeof out->protocol - 1] = '\0';
	out->mode[sizeof out->mode - 1] = '\0';
	out->chip[sizeof out->chip - 1] = '\0';
	return SD_OK;
}

int sd_transcript_next(const sd_transcript *t, size_t *cursor, sd_trec *out)
{
	if (!t || !cursor || !out || *cursor >= t->used)
		return 0;
	rec_hdr h;
	memcpy(&h, t->arena + *cursor, sizeof h);
	out->t = h.t;
	out->kind = h.kind;
	out->a = h.a;
	out->b = h.b;
	out->cfg = h.cfg;
	out->len = h.len;
	out->data = h.len ? t->arena + *cursor + sizeof h : NULL;
	*cursor += ALIGN8(sizeof h + h.len);
	return 1;
}

size_t sd_transcript_collect(const sd_transcript *t, int kind, size_t from,
			     uint8_t *out, size_t max)
{
	size_t cur = 0, idx = 0, n = 0;
	sd_trec r;
	while (n < max && sd_transcript_next(t, &cur, &r)) {
		if (idx++ < from || r.kind != kind)
			continue;
		size_t k = SDI_MIN((size_t)r.len, max - n);
		if (k) /* an empty record ("rx":"") has no data pointer */
			memcpy(out + n, r.data, k);
		n += k;
	}
	return n;
}
