/*
 * shakedown — targets files for probe --targets: one target a line, or a
 * labgrid environment / exporter YAML file (read with libyaml's document
 * loader: the file is bounded by SD_TARGETS_FILE_MAX, so is the tree).
 *
 * labgrid facts (labgrid/resource/serialport.py, doc/configuration.rst):
 * NetworkSerialPort {host, port, speed = 115200, protocol = "rfc2217" | "raw"};
 * RawSerialPort {port: a device path, speed = 115200}. Environment files
 * list resources under targets: NAME: resources: (a mapping by class, or a
 * list of one-key mappings); exporter files put them under a group, keyed by
 * class or by a name with `cls:`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"
#ifdef SD_WITH_YAML
#include <yaml.h>
#endif

typedef struct tlist {
	sd_target *t;
	size_t     n, cap;
	char      *why;
	size_t     whylen;
} tlist;

static sd_target *push(tlist *L)
{
	if (L->n >= SD_TARGETS_MAX)
		return NULL;
	if (L->n == L->cap) {
		size_t cap = L->cap ? L->cap * 2 : 16;
		sd_target *nt = realloc(L->t, cap * sizeof *nt);
		if (!nt)
			return NULL;
		L->t = nt;
		L->cap = cap;
	}
	sd_target *t = &L->t[L->n++];
	memset(t, 0, sizeof *t);
	return t;
}

static int full(tlist *L)
{
	if (L->n >= SD_TARGETS_MAX) {
		sdi_fmt(L->why, L->whylen, "more than %u targets", SD_TARGETS_MAX);
		return SD_ERR_OVERFLOW;
	}
	return SD_ERR_NOMEM;
}

/* Is this a YAML file? A non-comment line ending in ':' or holding ': '. */
static int looks_yaml(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		size_t a = i, b = e;
		while (a < b && (s[a] == ' ' || s[a] == '\t'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
			b--;
		if (a < b && s[a] != '#') {
			if (s[b - 1] == ':' || (b - a >= 3 && s[a] == '-' && s[a + 1] == '-' && s[a + 2] == '-') ||
			    (b - a >= 5 && memcmp(s + a, "%YAML", 5) == 0))
				return 1;
			for (size_t k = a; k + 1 < b; k++)
				if (s[k] == ':' && (s[k + 1] == ' ' || s[k + 1] == '\t'))
					return 1;
		}
		i = e + 1;
	}
	return 0;
}

static int parse_lines(const char *s, size_t len, tlist *L)
{
	unsigned line = 0;
	size_t i = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		line++;
		size_t a = i, b = e;
		while (a < b && (s[a] == ' ' || s[a] == '\t'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
			b--;
		i = e + 1;
		if (a == b || s[a] == '#')
			continue;
		for (size_t k = a; k < b; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f) {
				sdi_fmt(L->why, L->whylen, "line %u: a control character in the target", line);
				return SD_ERR_ARG;
			}
		sd_target *t = push(L);
		if (!t)
			return full(L);
		if (b - a >= sizeof t->uri) {
			sdi_fmt(L->why, L->whylen, "line %u: the target is too long (at most %zu characters)", line,
				sizeof t->uri - 1);
			return SD_ERR_ARG;
		}
		memcpy(t->uri, s + a, b - a);
		t->uri[b - a] = '\0';
		t->line = line;
	}
	return SD_OK;
}

#ifdef SD_WITH_YAML
static const char *scalar(yaml_document_t *d, yaml_node_t *n)
{
	(void)d;
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in a mapping node, or NULL. */
static yaml_node_t *get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(d, yaml_document_get_node(d, p->key));
		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(d, p->value);
	}
	return NULL;
}

/* A plain host or path: no spaces, controls, '?', '#' or '&' (they would
 * change the URI's meaning). */
static int plain(const char *s, size_t max)
{
	if (!s || !s[0] || strlen(s) >= max)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#' || *p == '&')
			return 0;
	return 1;
}

static int add_resource(yaml_document_t *d, yaml_node_t *r, const char *cls, const char *name, tlist *L)
{
	unsigned line = (unsigned)r->start_mark.line + 1;
	const char *speed = scalar(d, get(d, r, "speed"));
	uint32_t baud = 115200;
	if (speed && sd_parse_u32(speed, 50, 20000000, &baud) != SD_OK) {
		sdi_fmt(L->why, L->whylen, "line %u: %s speed '%.32s' is not a baud rate", line, cls, speed);
		return SD_ERR_ARG;
	}
	const char *nm = scalar(d, get(d, r, "name"));
	if (nm)
		name = nm;
	sd_target *t = push(L);
	if (!t)
		return full(L);
	t->line = line;
	sdi_fmt(t->name, sizeof t->name, "%s", name ? name : "");
	if (strcmp(cls, "NetworkSerialPort") == 0) {
		const char *host = scalar(d, get(d, r, "host"));
		const char *port = scalar(d, get(d, r, "port"));
		const char *proto = scalar(d, get(d, r, "protocol"));
		if (!plain(host, 256) || !port || sd_parse_u32(port, 1, 65535, NULL) != SD_OK) {
			sdi_fmt(L->why, L->whylen, "line %u: NetworkSerialPort needs host and port (1 to 65535)", line);
			return SD_ERR_ARG;
		}
		int raw = proto && strcmp(proto, "raw") == 0;
		if (proto && !raw && strcmp(proto, "rfc2217") != 0) {
			sdi_fmt(L->why, L->whylen, "line %u: NetworkSerialPort protocol '%.32s' (rfc2217 or raw)", line, proto);
			return SD_ERR_ARG;
		}
		int v6 = strchr(host, ':') != NULL;
		if (raw) /* a raw TCP port carries no settings */
			sdi_fmt(t->uri, sizeof t->uri, "tcp://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
		else
			sdi_fmt(t->uri, sizeof t->uri, "rfc2217://%s%s%s:%s?baud=%lu", v6 ? "[" : "", host,
				v6 ? "]" : "", port, (unsigned long)baud);
	} else {
		const char *path = scalar(d, get(d, r, "port"));
		if (!plain(path, 256)) {
			sdi_fmt(L->why, L->whylen, "line %u: RawSerialPort needs port (a device path)", line);
			return SD_ERR_ARG;
		}
		sdi_fmt(t->uri, sizeof t->uri, "serial:%s?baud=%lu", path, (unsigned long)baud);
	}
	return SD_OK;
}

static int is_cls(const char *k)
{
	return k && (strcmp(k, "NetworkSerialPort") == 0 || strcmp(k, "RawSerialPort") == 0);
}

/* Depth-first over the tree, iteratively bounded by the node count (aliases
 * may point back: each node is visited once). */
static int walk(yaml_document_t *d, tlist *L)
{
	size_t nn = (size_t)(d->nodes.top - d->nodes.start);
	if (nn == 0)
		return SD_OK;
	uint8_t *seen = calloc(nn + 1, 1);
	/* stack of (node index, the key it was under, the key above that) */
	typedef struct frame { int node; const char *key, *parent; } frame;
	frame *st = calloc(nn + 1, sizeof *st);
	if (!seen || !st) {
		free(seen);
		free(st);
		return SD_ERR_NOMEM;
	}
	size_t sp = 0;
	int r = SD_OK;
	st[sp++] = (frame){ 1, NULL, NULL };
	while (sp && r == SD_OK) {
		frame f = st[--sp];
		if (f.node < 1 || (size_t)f.node > nn || seen[f.node])
			continue;
		seen[f.node] = 1;
		yaml_node_t *n = yaml_document_get_node(d, f.node);
		if (!n)
			continue;
		if (n->type == YAML_MAPPING_NODE) {
			const char *cls = scalar(d, get(d, n, "cls"));
			if (is_cls(cls)) { /* exporter: NAME: {cls: NetworkSerialPort, ...} */
				char name[64];
				sdi_fmt(name, sizeof name, "%s%s%s", f.parent ? f.parent : "", f.parent ? "/" : "",
					f.key ? f.key : "");
				r = add_resource(d, n, cls, name, L);
				continue;
			}
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top && r == SD_OK; p++) {
				const char *k = scalar(d, yaml_document_get_node(d, p->key));
				yaml_node_t *v = yaml_document_get_node(d, p->value);
				if (is_cls(k) && v && v->type == YAML_MAPPING_NODE) {
					/* environment files: targets: NAME: resources: CLASS */
					const char *owner = f.key && strcmp(f.key, "resources") == 0 ? f.parent : f.key;
					r = add_resource(d, v, k, owner, L);
					continue;
				}
				if (sp < nn)
					st[sp++] = (frame){ p->value, k ? k : f.key, k ? f.key : f.parent };
			}
		} else if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++)
				if (sp < nn)
					st[sp++] = (frame){ *it, f.key, f.parent };
		}
	}
	free(seen);
	free(st);
	/* the stack pops last-first: put the targets back in file order */
	for (size_t i = 1; i < L->n; i++) {
		sd_target tmp = L->t[i];
		size_t k = i;
		while (k && L->t[k - 1].line > tmp.line) {
			L->t[k] = L->t[k - 1];
			k--;
		}
		L->t[k] = tmp;
	}
	return r;
}

static int parse_yaml(const char *s, size_t len, tlist *L)
{
	yaml_parser_t p;
	yaml_document_t d;
	if (!yaml_parser_initialize(&p))
		return SD_ERR_NOMEM;
	yaml_parser_set_input_string(&p, (const unsigned char *)s, len);
	int r = SD_OK;
	int docs = 0;
	for (;;) {
		if (!yaml_parser_load(&p, &d)) {
			sdi_fmt(L->why, L->whylen, "line %zu: bad YAML: %s", p.problem_mark.line + 1,
				p.problem ? p.problem : "parse error");
			r = SD_ERR_ARG;
			break;
		}
		yaml_node_t *root = yaml_document_get_root_node(&d);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&d);
			break;
		}
		r = walk(&d, L);
		yaml_document_delete(&d);
		if (r || ++docs >= 64)
			break;
	}
	yaml_parser_delete(&p);
	return r;
}
#endif

int sd_targets_parse(const char *text, size_t len, sd_target **out, size_t *n, char *why, size_t whylen)
{
	char scratch[8];
	if (!why) {
		why = scratch;
		whylen = sizeof scratch;
	}
	why[0] = '\0';
	if (!out || !n || (len && !text))
		return SD_ERR_ARG;
	*out = NULL;
	*n = 0;
	if (len > SD_TARGETS_FILE_MAX) {
		sdi_fmt(why, whylen, "the targets file is larger than %u bytes", SD_TARGETS_FILE_MAX);
		return SD_ERR_OVERFLOW;
	}
	if (memchr(text, '\0', len)) {
		sdi_fmt(why, whylen, "the targets file holds a NUL byte: not text");
		return SD_ERR_ARG;
	}
	tlist L = { .why = why, .whylen = whylen };
	int r;
	if (looks_yaml(text, len)) {
#ifdef SD_WITH_YAML
		r = parse_yaml(text, len, &L);
#else
		sdi_fmt(why, whylen, "a YAML targets file needs a build with libyaml (yaml-0.1)");
		r = SD_ERR_UNSUPPORTED;
#endif
	} else {
		r = parse_lines(text, len, &L);
	}
	if (r) {
		if (!why[0])
			sdi_fmt(why, whylen, "%s", sd_strerror(r));
		free(L.t);
		return r;
	}
	*out = L.t;
	*n = L.n;
	return SD_OK;
}

int sd_targets_load(const char *path, sd_target **out, size_t *n, char *why, size_t whylen)
{
	if (!path || !out || !n)
		return SD_ERR_ARG;
	*out = NULL;
	*n = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		sdi_fmt(why, whylen, "cannot read %s: %s", path, strerror(e));
		return e == EACCES || e == EPERM ? SD_ERR_ACCESS : SD_ERR_NOTFOUND;
	}
	char *buf = malloc(SD_TARGETS_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return SD_ERR_NOMEM;
	}
	size_t len = fread(buf, 1, SD_TARGETS_FILE_MAX + 1, f);
	int rerr = ferror(f);
	fclose(f);
	int r;
	if (rerr) {
		sdi_fmt(why, whylen, "cannot read %s", path);
		r = SD_ERR_IO;
	} else {
		r = sd_targets_parse(buf, len, out, n, why, whylen);
	}
	free(buf);
	return r;
}
