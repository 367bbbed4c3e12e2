/*
 * shakedown — the transcript as JSON lines (docs/transcript-format.md).
 * One object per line; format(parse(line)) == line for every line we write,
 * which is what makes `replay --trace` a byte-for-byte round trip.
 */
#include <stddef.h>
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

/* ---- run and outcome records ------------------------------------------ */

enum { F_STR, F_U32, F_BOOL, F_TIME, F_CAPS, F_USB };
#define SET_ALL     7u
#define SET_SESSION 1u /* sync, info: sd_proto_args */
#define SET_PROBE   2u /* probe: sd_probe_opts */

typedef struct run_field {
	const char *key;
	uint8_t     type, sets;
	size_t      off, size;
} run_field;

#define RF(k, ty, st, m) { k, ty, st, offsetof(sd_trace_run, m), sizeof(((sd_trace_run *)0)->m) }
/* In the order they are written. */
static const run_field run_fields[] = {
	RF("command", F_STR, SET_ALL, command),
	RF("protocol", F_STR, SET_ALL, protocol),
	RF("link", F_STR, SET_ALL, link),
	RF("caps", F_CAPS, SET_ALL, caps),
	RF("identify", F_BOOL, SET_SESSION, identify),
	RF("baud", F_U32, SET_SESSION | SET_PROBE, baud),
	RF("enter", F_STR, SET_SESSION, enter),
	RF("exit", F_STR, SET_SESSION, exit),
	RF("no_reset", F_BOOL, SET_SESSION | SET_PROBE, no_reset),
	RF("part", F_STR, SET_SESSION, part),
	RF("retries", F_U32, SET_SESSION, retries),
	RF("listen", F_TIME, SET_PROBE, listen),
	RF("expect", F_STR, SET_PROBE, expect),
	RF("no_poke", F_BOOL, SET_PROBE, no_poke),
	RF("all", F_BOOL, SET_PROBE, all),
	RF("budget", F_TIME, SET_SESSION | SET_PROBE, budget),
	RF("usb", F_USB, SET_ALL, usb_id), /* "303a:1001"; only when known */
};

static const char *const cap_names[] = {
	"bytes", "baud", "parity", "lines", "break", "framed", "net", "virtual", "remote",
};

static unsigned run_set(const char *command)
{
	if (strcmp(command, "sync") == 0 || strcmp(command, "info") == 0)
		return SET_SESSION;
	if (strcmp(command, "probe") == 0)
		return SET_PROBE;
	return 4u;
}

static cJSON *run_json(const sd_trec *r)
{
	sd_trace_run run;
	if (sd_trec_get_run(r, &run) != SD_OK)
		return NULL;
	cJSON *o = cJSON_CreateObject(), *x;
	unsigned set = run_set(run.command);
	for (size_t i = 0; o && i < SDI_ARRAY_LEN(run_fields); i++) {
		const run_field *f = &run_fields[i];
		const char *p = (const char *)&run + f->off;
		if (!(f->sets & set))
			continue;
		switch (f->type) {
		case F_STR:
			cJSON_AddStringToObject(o, f->key, p);
			break;
		case F_U32: {
			uint32_t u;
			memcpy(&u, p, sizeof u);
			cJSON_AddNumberToObject(o, f->key, u);
			break;
		}
		case F_BOOL: {
			int b;
			memcpy(&b, p, sizeof b);
			cJSON_AddBoolToObject(o, f->key, b != 0);
			break;
		}
		case F_TIME: {
			sd_time t;
			memcpy(&t, p, sizeof t);
			cJSON_AddNumberToObject(o, f->key, (double)t);
			break;
		}
		case F_USB: {
			uint32_t u;
			memcpy(&u, p, sizeof u);
			if (u) {
				char id[12];
				sdi_fmt(id, sizeof id, "%04x:%04x", (unsigned)(u >> 16), (unsigned)(u & 0xFFFFu));
				cJSON_AddStringToObject(o, f->key, id);
			}
			break;
		}
		case F_CAPS:
			x = cJSON_AddArrayToObject(o, f->key);
			for (unsigned b = 0; x && b < SDI_ARRAY_LEN(cap_names); b++)
				if (run.caps & (1u << b))
					cJSON_AddItemToArray(x, cJSON_CreateString(cap_names[b]));
			break;
		}
	}
	return o;
}

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s[0])
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *outcome_json(const sd_trec *r)
{
	sd_trace_outcome oc;
	if (sd_trec_get_outcome(r, &oc) != SD_OK)
		return NULL;
	cJSON *o = cJSON_CreateObject(), *x;
	if (!o)
		return NULL;
	cJSON_AddBoolToObject(o, "ok", oc.ok != 0);
	add_str_or_null(o, "cause", oc.cause);
	x = cJSON_AddObjectToObject(o, "answered_by");
	if (x) {
		add_str_or_null(x, "protocol", oc.protocol);
		add_str_or_null(x, "mode", oc.mode);
		add_str_or_null(x, "chip", oc.chip);
	}
	return o;
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
	case SD_TR_REOPEN:
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
	case SD_TR_RUN:
	case SD_TR_OUTCOME:
		x = r->kind == SD_TR_RUN ? run_json(r) : outcome_json(r);
		if (!x) {
			cJSON_Delete(o);
			return SD_ERR_ARG;
		}
		cJSON_AddItemToObject(o, name, x);
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

static int copy_str(const cJSON *v, char *dst, size_t cap)
{
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap)
		return -1;
	memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_time(const cJSON *v, sd_time *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15 ||
	    (double)(int64_t)v->valuedouble != v->valuedouble)
		return -1;
	*out = (sd_time)v->valuedouble;
	return 0;
}

static int parse_run(const cJSON *m, sd_trace_run *run, char *why, size_t whylen)
{
	memset(run, 0, sizeof *run);
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
	if (!cJSON_IsObject(m) || copy_str(cmd, run->command, sizeof run->command) || !run->command[0])
		return bad(why, whylen, "run needs an object with \"command\" (sync, info, probe, ...)");
	unsigned set = run_set(run->command);
	const cJSON *it;
	cJSON_ArrayForEach(it, m) {
		const run_field *f = NULL;
		for (size_t i = 0; i < SDI_ARRAY_LEN(run_fields); i++)
			if (strcmp(run_fields[i].key, it->string) == 0)
				f = &run_fields[i];
		if (!f || !(f->sets & set)) {
			sdi_fmt(why, whylen, "run: no member \"%.40s\" for %s", it->string, run->command);
			return SD_ERR_PROTO;
		}
		char *p = (char *)run + f->off;
		int e = 0;
		switch (f->type) {
		case F_STR:
			e = copy_str(it, p, f->size);
			break;
		case F_U32: {
			uint32_t u = 0;
			e = get_uint(it, 4294967295.0, &u);
			memcpy(p, &u, sizeof u);
			break;
		}
		case F_BOOL: {
			int b = cJSON_IsTrue(it);
			e = cJSON_IsBool(it) ? 0 : -1;
			memcpy(p, &b, sizeof b);
			break;
		}
		case F_TIME: {
			sd_time t = 0;
			e = get_time(it, &t);
			memcpy(p, &t, sizeof t);
			break;
		}
		case F_USB: {
			/* VVVV:PPPP, lower-case hex as written */
			uint32_t u = 0;
			const char *v = cJSON_IsString(it) ? it->valuestring : "";
			e = strlen(v) == 9 && v[4] == ':' ? 0 : -1;
			for (size_t q = 0; !e && q < 9; q++) {
				char h = v[q];
				int y = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : -1;
				if (q == 4)
					continue;
				if (y < 0)
					e = -1;
				else
					u = u << 4 | (uint32_t)y;
			}
			memcpy(p, &u, sizeof u);
			break;
		}
		case F_CAPS: {
			const cJSON *c;
			unsigned caps = 0, last = 0;
			e = cJSON_IsArray(it) ? 0 : -1;
			cJSON_ArrayForEach(c, it) {
				unsigned b = 0;
				while (b < SDI_ARRAY_LEN(cap_names) &&
				       !(cJSON_IsString(c) && strcmp(c->valuestring, cap_names[b]) == 0))
					b++;
				/* known names, in bit order, once */
				if (b == SDI_ARRAY_LEN(cap_names) || (1u << b) <= last)
					e = -1;
				else
					caps |= last = 1u << b;
			}
			memcpy(p, &caps, sizeof caps);
			break;
		}
		}
		if (e) {
			sdi_fmt(why, whylen, "run: bad value for \"%s\"", f->key);
			return SD_ERR_PROTO;
		}
	}
	return 0;
}

static int parse_outcome(const cJSON *m, sd_trace_outcome *oc, char *why, size_t whylen)
{
	memset(oc, 0, sizeof *oc);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(m, "ok");
	const cJSON *cause = cJSON_GetObjectItemCaseSensitive(m, "cause");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(m, "answered_by");
	const char *const keys[] = { "protocol", "mode", "chip" };
	char *const dst[] = { oc->protocol, oc->mode, oc->chip };
	const size_t cap[] = { sizeof oc->protocol, sizeof oc->mode, sizeof oc->chip };
	if (!cJSON_IsObject(m) || cJSON_GetArraySize(m) != 3 || !cJSON_IsBool(ok) ||
	    !(cJSON_IsNull(cause) || copy_str(cause, oc->cause, sizeof oc->cause) == 0) ||
	    !cJSON_IsObject(by) || cJSON_GetArraySize(by) != 3)
		goto no;
	for (int i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(by, keys[i]);
		if (!(cJSON_IsNull(v) || copy_str(v, dst[i], cap[i]) == 0))
			goto no;
	}
	/* "" is written as null: an empty string would not come back the same */
	if ((cJSON_IsString(cause) && !oc->cause[0]) || (!cJSON_IsNull(cause) && !cJSON_IsString(cause)))
		goto no;
	for (int i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(by, keys[i]);
		if (cJSON_IsString(v) && !dst[i][0])
			goto no;
	}
	oc->ok = cJSON_IsTrue(ok);
	return 0;
no:
	return bad(why, whylen, "outcome needs {\"ok\":bool,\"cause\":\"...\"|null,"
		   "\"answered_by\":{\"protocol\":..,\"mode\":..,\"chip\":..}}");
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
	case SD_TR_OPEN:
	case SD_TR_REOPEN: {
		if (!cJSON_IsString(m)) {
			bad(why, whylen, "note/open/reopen must be a string");
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
	case SD_TR_RUN:
	case SD_TR_OUTCOME: {
		size_t need = out->kind == SD_TR_RUN ? sizeof(sd_trace_run) : sizeof(sd_trace_outcome);
		if (need > datacap || !data) {
			bad(why, whylen, "record larger than the buffer");
			rc = SD_ERR_NOMEM;
			goto done;
		}
		sd_trace_run run;
		sd_trace_outcome oc;
		int e = out->kind == SD_TR_RUN ? parse_run(m, &run, why, whylen)
			: parse_outcome(m, &oc, why, whylen);
		if (e)
			goto done;
		memcpy(data, out->kind == SD_TR_RUN ? (const void *)&run : (const void *)&oc, need);
		out->len = (uint32_t)need;
		out->data = data;
		break;
	}
	}
	rc = 1;
done:
	cJSON_Delete(o);
	return rc;
}

void sd_trace_outcome_of(const sd_report *r, sd_trace_outcome *out)
{
	memset(out, 0, sizeof *out);
	if (!r)
		return;
	out->ok = r->ok != 0;
	if (r->diag.n)
		sdi_fmt(out->cause, sizeof out->cause, "%s", sd_cause_name(r->diag.f[0].cause));
	sdi_fmt(out->protocol, sizeof out->protocol, "%s", r->by.protocol);
	sdi_fmt(out->mode, sizeof out->mode, "%s", r->by.mode);
	sdi_fmt(out->chip, sizeof out->chip, "%s", r->by.chip);
}
