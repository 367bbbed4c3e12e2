/*
 * shakedown — the report as JSON: the contract of docs/report.md.
 * Built with cJSON; the only allocating part of the library besides links.
 */
#include <stdlib.h>
#include <cJSON.h>
#include "internal.h"

#define EVIDENCE_MAX 4096u /* bytes of evidence per member before cutting */

static void add_hex(cJSON *o, const char *name, const uint8_t *b, size_t n, const char *cut_flag)
{
	static const char hx[] = "0123456789abcdef";
	size_t k = SDI_MIN(n, (size_t)EVIDENCE_MAX);
	char *s = malloc(2 * k + 1);
	if (!s)
		return;
	for (size_t i = 0; i < k; i++) {
		s[2 * i] = hx[b[i] >> 4];
		s[2 * i + 1] = hx[b[i] & 15];
	}
	s[2 * k] = '\0';
	cJSON_AddStringToObject(o, name, s);
	free(s);
	if (k < n)
		cJSON_AddTrueToObject(o, cut_flag);
}

/* The printable text of the bytes (\r \n \t kept, others as '.'), when
 * most of them are text. */
static void add_text(cJSON *o, const uint8_t *b, size_t n)
{
	size_t k = SDI_MIN(n, (size_t)EVIDENCE_MAX), text = 0;
	for (size_t i = 0; i < k; i++)
		text += sdi_is_text(b[i]);
	if (k == 0 || text * 10 < k * 7)
		return;
	char *s = malloc(k + 1);
	if (!s)
		return;
	for (size_t i = 0; i < k; i++)
		s[i] = sdi_is_text(b[i]) ? (char)b[i] : '.';
	s[k] = '\0';
	cJSON_AddStringToObject(o, "text", s);
	free(s);
}

static void add_str_or_null(cJSON *o, const char *name, const char *v)
{
	if (v && v[0])
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

static cJSON *finding_json(const sd_finding *f, int rank)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "rank", rank);
	cJSON_AddStringToObject(o, "layer", sd_layer_name(f->layer));
	cJSON_AddStringToObject(o, "cause", sd_cause_name(f->cause));
	cJSON_AddNumberToObject(o, "confidence", (double)(int)(f->confidence * 100.0f + 0.5f) / 100.0);
	cJSON_AddStringToObject(o, "summary", f->summary);
	cJSON *ev = cJSON_AddObjectToObject(o, "evidence");
	if (f->sent_len)
		add_hex(ev, "sent", f->sent, f->sent_len, "sent_truncated");
	add_hex(ev, "received", f->rcvd, f->rcvd_len, "received_truncated");
	add_text(ev, f->rcvd, f->rcvd_len);
	cJSON_AddStringToObject(o, "fix", f->fix);
	if (f->detail[0]) {
		cJSON *d = cJSON_AddArrayToObject(o, "detail");
		const char *p = f->detail;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			char line[SD_DETAIL_MAX];
			memcpy(line, p, len);
			line[len] = '\0';
			cJSON_AddItemToArray(d, cJSON_CreateString(line));
			p += len + (nl ? 1 : 0);
		}
	}
	return o;
}

char *sd_report_json(const sd_report *r, void *extra, unsigned flags)
{
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		cJSON_Delete((cJSON *)extra);
		return NULL;
	}
	add_str_or_null(o, "target", r->target);
	cJSON_AddStringToObject(o, "command", r->command ? r->command : "");
	cJSON_AddBoolToObject(o, "ok", r->ok);
	cJSON *by = cJSON_AddObjectToObject(o, "answered_by");
	add_str_or_null(by, "protocol", r->by.protocol);
	add_str_or_null(by, "mode", r->by.mode);
	add_str_or_null(by, "chip", r->by.chip);
	cJSON *fs = cJSON_AddArrayToObject(o, "findings");
	for (size_t i = 0; i < r->diag.n; i++)
		cJSON_AddItemToArray(fs, finding_json(&r->diag.f[i], (int)i + 1));
	if (r->nfacts) {
		cJSON *info = cJSON_AddObjectToObject(o, "info");
		for (size_t i = 0; i < r->nfacts; i++)
			cJSON_AddStringToObject(info, r->facts[i].key, r->facts[i].value);
	}
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)r->elapsed_ms);
	if (extra) {
		cJSON *x = (cJSON *)extra;
		while (x->child) {
			cJSON *item = cJSON_DetachItemViaPointer(x, x->child);
			cJSON_DeleteItemFromObject(o, item->string); /* extra wins */
			cJSON_AddItemToObject(o, item->string, item);
		}
		cJSON_Delete(x);
	}
	char *s = (flags & SD_JSON_PRETTY) ? cJSON_Print(o) : cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

void sd_free(void *p)
{
	free(p);
}
