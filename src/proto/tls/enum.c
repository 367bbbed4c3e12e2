/*
 * shakedown — TLS: enumeration in the fewest handshakes.
 *
 * Per version (TLS 1.3 first, SSLv3 last):
 *  - suites: offer every suite of the registry not yet seen accepted; the
 *    server names one; drop it; repeat until the server refuses. N_v + 1
 *    probes, and the pick sequence is the server's order when it has one.
 *  - order: offer the accepted list reversed. A server that keeps its first
 *    pick has its own order; one that takes our first has client order.
 *  - groups: the same trick on supported_groups (TLS 1.3: an empty key_share
 *    makes the server name its group in a HelloRetryRequest; TLS <= 1.2:
 *    the named curve of the ServerKeyExchange, offering only ECDHE suites).
 *    The suite pass already names the first group, so G_v more probes.
 * No allocation: the state is the caller's sd_tls_enum.
 */
#include "internal.h"
#include "tls_internal.h"

enum { PH_SUITES = 0, PH_ORDER, PH_GROUPS, PH_NEXT };

static const uint16_t versions[SD_TLS_NVERSIONS] = {
	SD_TLS_TLS13, SD_TLS_TLS12, SD_TLS_TLS11, SD_TLS_TLS10, SD_TLS_SSL3,
};

static unsigned version_bit(uint16_t v)
{
	return 1u << (v - SD_TLS_SSL3);
}

void sd_tls_enum_init(sd_tls_enum *e, const sd_tls_enum_cfg *cfg)
{
	memset(e, 0, sizeof *e);
	if (cfg)
		e->cfg = *cfg;
	if (!e->cfg.versions)
		e->cfg.versions = 0x1f;
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
		e->v[i].version = versions[i];
	e->first_answer = -3;
}

const sd_tls_vresult *sd_tls_enum_result(const sd_tls_enum *e, uint16_t version)
{
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
		if (e->v[i].version == version)
			return &e->v[i];
	return NULL;
}

static int has(const uint16_t *l, size_t n, uint16_t x)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == x)
			return 1;
	return 0;
}

static int candidate_suite(uint16_t id, uint16_t version)
{
	if (id == TLS_SCSV_EMPTY_RENEGOTIATION_INFO || id == TLS_SCSV_FALLBACK)
		return 0;
	return version == SD_TLS_TLS13 ? sdi_tls_suite_is13(id) : !sdi_tls_suite_is13(id);
}

static int candidate_group(const sdi_tls_group *g, uint16_t version)
{
	return version == SD_TLS_TLS13 ? g->tls13 : g->ec12;
}

/* supported_groups for a suite probe: everything that fits the version. */
static void all_groups(sd_tls_enum *e, uint16_t version)
{
	e->ngoffer = 0;
	for (size_t i = 0; i < sdi_tls_ngroups && e->ngoffer < SD_TLS_MAX_GROUPS; i++) {
		const sdi_tls_group *g = &sdi_tls_groups[i];
		if (candidate_group(g, version) || (version != SD_TLS_TLS13 && g->id >= 0x0100 && g->id <= 0x0104))
			e->goffer[e->ngoffer++] = g->id;
	}
}

static void set_hello(sd_tls_enum *e, uint16_t version)
{
	memset(&e->hello, 0, sizeof e->hello);
	e->hello.version = version;
	e->hello.suites = e->offer;
	e->hello.nsuites = e->noffer;
	e->hello.groups = e->goffer;
	e->hello.ngroups = e->ngoffer;
	e->hello.shares = NULL; /* TLS 1.3: empty key_share, the server names its group */
	e->hello.nshares = 0;
	e->hello.sni = e->cfg.sni;
	e->hello.alpn = e->cfg.alpn;
	e->hello.pad_to = e->cfg.pad_to;
	e->hello.seed = e->cfg.seed + e->probes * 2654435761u + 1;
	e->want_flight = version != SD_TLS_TLS13;
	e->probes++;
}

static void next_version(sd_tls_enum *e)
{
	e->vi++;
	e->phase = PH_SUITES;
	e->chunk = 0;
}

/* A refusal that says "nothing shared" (or "not this version"), as opposed
 * to one that may be about the hello itself (its size, its length fields). */
static int clean_refusal(int out, uint8_t alert)
{
	if (out == SD_TLS_HELLO) /* another version */
		return 1;
	return out == SD_TLS_ALERT && (alert == 40 || alert == 70 || alert == 71);
}

int sd_tls_enum_next(sd_tls_enum *e)
{
	while (!e->stop && e->vi < SD_TLS_NVERSIONS) {
		sd_tls_vresult *v = &e->v[e->vi];
		uint16_t ver = v->version;
		if (!(e->cfg.versions & version_bit(ver))) {
			next_version(e);
			continue;
		}
		switch (e->phase) {
		case PH_SUITES:
			e->noffer = 0;
			for (size_t i = 0, k = 0; i < sdi_tls_nsuites && e->noffer < SD_TLS_MAX_OFFER - 1; i++) {
				uint16_t id = sdi_tls_suites[i].id;
				if (!candidate_suite(id, ver))
					continue;
				/* chunked: only the candidates of chunk e->chunk */
				int in_chunk = !v->chunked || k / SD_TLS_CHUNK == e->chunk;
				k++;
				if (in_chunk && !has(v->suites, v->nsuites, id))
					e->offer[e->noffer++] = id;
			}
			if (v->chunked && e->noffer == 0 && e->chunk * SD_TLS_CHUNK < sdi_tls_nsuites) {
				e->chunk++; /* this chunk is used up: the next one */
				continue;
			}
			if (e->noffer == 0 || v->nsuites >= SD_TLS_MAX_ACCEPT) {
				e->phase = PH_ORDER;
				continue;
			}
			if (ver == SD_TLS_SSL3) /* no extensions: signal renegotiation by SCSV */
				e->offer[e->noffer++] = TLS_SCSV_EMPTY_RENEGOTIATION_INFO;
			all_groups(e, ver);
			set_hello(e, ver);
			v->probed = 1;
			return 1;
		case PH_ORDER:
			if (e->cfg.no_order || v->nsuites < 2) {
				e->phase = PH_GROUPS;
				continue;
			}
			e->noffer = 0;
			for (size_t i = v->nsuites; i-- > 0;)
				e->offer[e->noffer++] = v->suites[i];
			all_groups(e, ver);
			set_hello(e, ver);
			return 1;
		case PH_GROUPS:
			if (e->cfg.no_groups || !v->supported || v->groups_done) {
				next_version(e);
				continue;
			}
			e->noffer = 0;
			for (size_t i = 0; i < v->nsuites; i++)
				if (ver == SD_TLS_TLS13 || sdi_tls_suite_is_ecdhe(v->suites[i]))
					e->offer[e->noffer++] = v->suites[i];
			e->ngoffer = 0;
			for (size_t i = 0; i < sdi_tls_ngroups && e->ngoffer < SD_TLS_MAX_GROUPS; i++) {
				const sdi_tls_group *g = &sdi_tls_groups[i];
				if (candidate_group(g, ver) && !has(v->groups, v->ngroups, g->id))
					e->goffer[e->ngoffer++] = g->id;
			}
			if (e->noffer == 0 || e->ngoffer == 0 || v->ngroups >= SD_TLS_MAX_GROUPS) {
				v->groups_done = e->noffer != 0;
				next_version(e);
				continue;
			}
			set_hello(e, ver);
			return 1;
		default:
			next_version(e);
			continue;
		}
	}
	return 0;
}

static int outcome(const sd_tls_probe *p)
{
	if (p->srv.answer != SD_TLS_MORE)
		return p->srv.answer;
	if (p->closed)
		return -1;
	return -2;
}

void sd_tls_enum_feed(sd_tls_enum *e, const sd_tls_probe *p)
{
	if (e->vi >= SD_TLS_NVERSIONS)
		return;
	sd_tls_vresult *v = &e->v[e->vi];
	const sd_tls_server *s = &p->srv;
	int out = outcome(p);
	if (e->first_answer == -3) {
		e->first_answer = out;
		if (out == SD_TLS_NOT_TLS)
			e->stop = 1; /* a plaintext service: one connection says it all */
	}
	/* accepted: a ServerHello (or HRR) for this version naming a suite we offered */
	int acc = (out == SD_TLS_HELLO || out == SD_TLS_HRR) && s->version == v->version &&
		  has(e->offer, e->noffer, s->suite) && s->suite != TLS_SCSV_EMPTY_RENEGOTIATION_INFO;
	int group_ok = s->group && has(e->goffer, e->ngoffer, s->group);

	switch (e->phase) {
	case PH_SUITES:
		if (acc && !has(v->suites, v->nsuites, s->suite) && v->nsuites < SD_TLS_MAX_ACCEPT) {
			v->supported = 1;
			v->suites[v->nsuites++] = s->suite;
			if (group_ok && v->ngroups == 0)
				v->groups[v->ngroups++] = s->group;
		} else {
			v->refusal = acc ? SD_TLS_HELLO : out;
			v->refusal_alert = s->alert_seen ? s->alert_desc : 0;
			if (!v->chunked && !e->cfg.no_chunks && e->noffer > SD_TLS_CHUNK &&
			    !clean_refusal(out, v->refusal_alert)) {
				/* maybe the size of the hello: go on in chunks */
				v->chunked = 1;
				v->big_refusal = v->refusal;
				v->big_alert = v->refusal_alert;
				v->big_nsuites = e->noffer;
				e->chunk = 0;
			} else if (v->chunked && (e->chunk + 1) * SD_TLS_CHUNK < sdi_tls_nsuites) {
				e->chunk++; /* nothing (more) in this chunk: the next */
			} else {
				e->phase = PH_ORDER;
			}
		}
		break;
	case PH_ORDER:
		if (acc)
			v->order = s->suite == v->suites[0] ? SD_TLS_ORDER_SERVER
				 : s->suite == e->offer[0] ? SD_TLS_ORDER_CLIENT : SD_TLS_ORDER_SERVER;
		e->phase = PH_GROUPS;
		break;
	case PH_GROUPS:
		if (acc && group_ok && !has(v->groups, v->ngroups, s->group) && v->ngroups < SD_TLS_MAX_GROUPS) {
			v->groups[v->ngroups++] = s->group;
		} else {
			v->groups_done = 1;
			next_version(e);
		}
		break;
	default:
		break;
	}
}
