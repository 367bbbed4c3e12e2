/*
 * shakedown — the transcript as JSON lines (docs/transcript-format.md).
 * One object per line; format(parse(line)) == line for every line we write,
 * which is what makes `replay --trace` a byte-for-byte round trip.
 */
#include <stdlib.h>
#include <cJSON.h>
#include "internal.h"

#define TRACE_LINE_LIMIT (4u << 20) /* longest line we parse */

static const char *const flush_names[] = { "none", "in", "out", "both" };

static int emit(cJSON *o, char *buf, size_t len)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	cJSON_Delete(o);
	if (!s)
		return SD_ERR_NOMEM;
	size_t n = strlen(s);
	if (n + 2 > len) {
		free(s);
		return SD_ERR_NOMEM;
	}
	memcpy(buf, s, n);
	buf[n++] = '\n';
	buf[n] = '\0';
	free(s);
	return (int)n;
}

int sd_trace_header(const char *target, char *buf, size_t len)
{
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return SD_ERR_NOMEM;
	cJSON_AddNumberToObject(o, "shakedown_trace", 1);
	cJSON_AddStringToObject(o, "target", target ? target : "");
	cJSON_AddStringToObject(o, "version", SD_VERSION_STRING);
	return emit(o, buf, len);
}

static char *to_hex(const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = hx[b[i] >> 4];
		s[2 * i + 1] = hx[b[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

/* Text payloads (notes, targets) as a NUL-terminated copy. */
static char *to_text(const uint8_t *b, size_t n)
{
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, b, n);
	s[n] = '\0';
	return s;
}

int sd_trace_format(const sd_trec *r, char *buf, size_t len)
{
	if (!r || !buf || r->kind == 0 || r->kind > SD_TR_KIND_MAX || (r->len && !r->data))
		return SD_ERR_ARG;
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return SD_ERR_NOMEM;
	cJSON_AddNumberToObject(o, "t", (double)r->t);
	const char *name = sd_trec_kind_name(r->kind);
	char *s = NULL, frame[8];
	cJSON *x;
	switch (r->kind) {
	case SD_TR_TX:
	case SD_TR_RX:
		s = to_hex(r->data, r->len);
		if (!s)
			goto nomem;
		cJSON_AddStringToObject(o, name, s);
		break;
	case SD_TR_NOTE:
	case SD_TR_OPEN:
		s = to_text(r->data, r->len);
		if (!s)
			goto nomem;
		cJSON_AddStringToObject(o, name, s);
		break;
	case SD_TR_LINES:
		x = cJSON_AddObjectToObject(o, name);
		cJSON_AddBoolToObject(x, "dtr", (r->b & SD_LINE_DTR) != 0);
		cJSON_AddBoolToObject(x, "rts", (r->b & SD_LINE_RTS) != 0);
		x = cJSON_AddArrayToObject(o, "changed");
		if (r->a & SD_LINE_DTR)
			cJSON_AddItemToArray(x, cJSON_CreateString("dtr"));
		if (r->a & SD_LINE_RTS)
			cJSON_AddItemToArray(x, cJSON_CreateString("rts"));
		break;
	case SD_TR_CFG:
		x = cJSON_AddObjectToObject(o, name);
		cJSON_AddNumberToObject(x, "baud", r->cfg.baud);
		cJSON_AddStringToObject(x, "frame", sd_line_cfg_frame(&r->cfg, frame));
		cJSON_AddStringToObject(x, "flow", r->cfg.flow == SD_FLOW_RTSCTS ? "rtscts"
					: r->cfg.flow == SD_FLOW_XONXOFF ? "xonxoff" : "none");
		break;
	case SD_TR_BREAK:
		cJSON_AddNumberToObject(o, name, r->a);
		break;
	case SD_TR_FLUSH:
		cJSON_AddStringToObject(o, name, flush_names[r->a & 3u]);
		break;
	case SD_TR_ERROR:
		cJSON_AddStringToObject(o, name, sd_errname(-(int)r->a));
		break;
	case SD_TR_CLOSE:
		cJSON_AddTrueToObject(o, name);
		break;
	}
	free(s);
	return emit(o, buf, len);
nomem:
	cJSON_Delete(o);
	return SD_ERR_NOMEM;
}

/* ---- parsing ------------------------------------------------------------ */

static int bad(char *why, size_t whylen, const char *what)
{
	sdi_fmt(why, whylen, "%s", what);
	return SD_ERR_PROTO;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int parse_frame(const char *f, sd_line_cfg *c)
{
	static const char par[] = "NOEMS";
	if (strlen(f) != 3 || f[0] < '5' || f[0] > '8' || (f[2] != '1' && f[2] != '2'))
		return -1;
	const char *p = strchr(par, f[1]);
	if (!p || !f[1])
		return -1;
	c->data_bits = (uint8_t)(f[0] - '0');
	c->parity = (uint8_t)(p - par);
	c->stop_bits = (uint8_t)(f[2] - '0');
	return 0;
}

static int get_uint(const cJSON *v, double max, uint32_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
	    (double)(uint32_t)v->valuedouble != v->valuedouble)
		return -1;
	*out = (uint32_t)v->valuedouble;
	return 0;
}

int sd_trace_parse(const char *line, size_t len, sd_trec *out, uint8_t *data, size_t datacap,
		   char *target, size_t targetcap, char *why, size_t whylen)
{
	if (!line || !out)
		return SD_ERR_ARG;
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len == 0)
		return bad(why, whylen, "empty line");
	if (len > TRACE_LINE_LIMIT)
		return bad(why, whylen, "line too long");
	cJSON *o = cJSON_ParseWithLength(line, len);
	if (!o)
		return bad(why, whylen, "not JSON");
	int rc = SD_ERR_PROTO;
	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(o)) {
		bad(why, whylen, "not a JSON object");
		goto done;
	}
	const cJSON *hdr = cJSON_GetObjectItemCaseSensitive(o, "shakedown_trace");
	if (hdr) {
		const cJSON *tg = cJSON_GetObjectItemCaseSensitive(o, "target");
		if (!cJSON_IsNumber(hdr) || hdr->valuedouble != 1) {
			bad(why, whylen, "unknown trace format version");
			goto done;
		}
		if (target && targetcap)
			sdi_fmt(target, targetcap, "%s", cJSON_IsString(tg) ? tg->valuestring : "");
		rc = 0;
		goto done;
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t");
	if (!cJSON_IsNumber(t) || t->valuedouble < 0 || t->valuedouble > 9.0e15 ||
	    (double)(int64_t)t->valuedouble != t->valuedouble) {
		bad(why, whylen, "\"t\" must be a whole number of microseconds >= 0");
		goto done;
	}
	out->t = (sd_time)t->valuedouble;

	/* exactly one kind member (plus "changed" for lines) */
	const cJSON *m = NULL, *it;
	int kinds = 0;
	cJSON_ArrayForEach(it, o) {
		if (strcmp(it->string, "t") == 0 || strcmp(it->string, "changed") == 0)
			continue;
		int k = sd_trec_kind_from_name(it->string);
		if (!k) {
			sdi_fmt(why, whylen, "unknown member \"%.40s\"", it->string);
			goto done;
		}
		out->kind = (uint8_t)k;
		m = it;
		kinds++;
	}
	if (kinds != 1) {
		bad(why, whylen, kinds ? "more than one record kind on a line" : "no record kind (tx, rx, lines, ...)");
		goto done;
	}
	const cJSON *changed = cJSON_GetObjectItemCaseSensitive(o, "changed");
	if (changed && out->kind != SD_TR_LINES) {
		bad(why, whylen, "\"changed\" belongs to lines records");
		goto done;
	}

	switch (out->kind) {
	case SD_TR_TX:
	case SD_TR_RX: {
		if (!cJSON_IsString(m)) {
			bad(why, whylen, "tx/rx must be a hex string");
			goto done;
		}
		size_t n = strlen(m->valuestring);
		if (n % 2) {
			bad(why, whylen, "odd number of hex digits");
			goto done;
		}
		if (n / 2 > datacap || (n && !data)) {
			sdi_fmt(why, whylen, "record of %zu bytes is larger than the buffer", n / 2);
			rc = SD_ERR_NOMEM;
			goto done;
		}
		for (size_t i = 0; i < n / 2; i++) {
			int h = hexval(m->valuestring[2 * i]), l = hexval(m->valuestring[2 * i + 1]);
			if (h < 0 || l < 0) {
				bad(why, whylen, "bad hex digit (lower case 0-9a-f)");
				goto done;
			}
			data[i] = (uint8_t)(h * 16 + l);
		}
		out->len = (uint32_t)(n / 2);
		out->data = data;
		break;
	}
	case SD_TR_NOTE:
	case SD_TR_OPEN: {
		if (!cJSON_IsString(m)) {
			bad(why, whylen, "note/open must be a string");
			goto done;
		}
		size_t n = strlen(m->valuestring);
		if (n > datacap || (n && !data)) {
			rc = SD_ERR_NOMEM;
			bad(why, whylen, "text larger than the buffer");
			rc = SD_ERR_NOMEM;
			goto done;
		}
		memcpy(data, m->valuestring, n);
		out->len = (uint32_t)n;
		out->data = n ? data : NULL;
		break;
	}
	case SD_TR_LINES: {
		const cJSON *dtr = cJSON_GetObjectItemCaseSensitive(m, "dtr");
		const cJSON *rts = cJSON_GetObjectItemCaseSensitive(m, "rts");
		if (!cJSON_IsObject(m) || !cJSON_IsBool(dtr) || !cJSON_IsBool(rts) ||
		    cJSON_GetArraySize(m) != 2 || !cJSON_IsArray(changed)) {
			bad(why, whylen, "lines needs {\"dtr\":bool,\"rts\":bool} and \"changed\":[...]");
			goto done;
		}
		out->b = (cJSON_IsTrue(dtr) ? SD_LINE_DTR : 0) | (cJSON_IsTrue(rts) ? SD_LINE_RTS : 0);
		unsigned last = 0;
		cJSON_ArrayForEach(it, changed) {
			unsigned bit = cJSON_IsString(it) && strcmp(it->valuestring, "dtr") == 0 ? SD_LINE_DTR
				: cJSON_IsString(it) && strcmp(it->valuestring, "rts") == 0 ? SD_LINE_RTS : 0;
			if (!bit || bit <= last) { /* known names, in order, once */
				bad(why, whylen, "\"changed\" lists \"dtr\" and/or \"rts\", in that order");
				goto done;
			}
			out->a |= bit;
			last = bit;
		}
		break;
	}
	case SD_TR_CFG: {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "baud");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "frame");
		const cJSON *fl = cJSON_GetObjectItemCaseSensitive(m, "flow");
		uint32_t baud;
		if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) != 3 || get_uint(b, 4e9, &baud) ||
		    !cJSON_IsString(f) || parse_frame(f->valuestring, &out->cfg) || !cJSON_IsString(fl)) {
			bad(why, whylen, "cfg needs {\"baud\":N,\"frame\":\"8N1\",\"flow\":\"none\"}");
			goto done;
		}
		out->cfg.baud = baud;
		if (strcmp(fl->valuestring, "none") == 0)
			out->cfg.flow = SD_FLOW_NONE;
		else if (strcmp(fl->valuestring, "rtscts") == 0)
			out->cfg.flow = SD_FLOW_RTSCTS;
		else if (strcmp(fl->valuestring, "xonxoff") == 0)
			out->cfg.flow = SD_FLOW_XONXOFF;
		else {
			bad(why, whylen, "flow is none, rtscts or xonxoff");
			goto done;
		}
		break;
	}
	case SD_TR_BREAK:
		if (get_uint(m, 4294967295.0, &out->a)) {
			bad(why, whylen, "break is a duration in microseconds");
			goto done;
		}
		break;
	case SD_TR_FLUSH: {
		unsigned k = 0;
		while (k < 4 && !(cJSON_IsString(m) && strcmp(m->valuestring, flush_names[k]) == 0))
			k++;
		if (k == 4) {
			bad(why, whylen, "flush is none, in, out or both");
			goto done;
		}
		out->a = k;
		break;
	}
	case SD_TR_ERROR: {
		int e = 0;
		while (e > -SD_ERR_COUNT && !(cJSON_IsString(m) && strcmp(m->valuestring, sd_errname(e)) == 0))
			e--;
		if (e <= -SD_ERR_COUNT) {
			bad(why, whylen, "error names an sd_err (SD_ERR_CLOSED ...)");
			goto done;
		}
		out->a = (uint32_t)(-e);
		break;
	}
	case SD_TR_CLOSE:
		if (!cJSON_IsTrue(m)) {
			bad(why, whylen, "close is true");
			goto done;
		}
		break;
	}
	rc = 1;
done:
	cJSON_Delete(o);
	return rc;
}
