/*
 * shakedown — TLS: enumeration in the fewest handshakes.
 *
 * Per version (TLS 1.3 first, SSLv3 last):
 *  - suites: offer every suite of the registry not yet seen accepted; the
 *    server names one; drop it; repeat until the server refuses. N_v + 1
 *    probes, and the pick sequence is the server's order when it has one.
 *  - order: offer the accepted list reversed. A server that keeps its first
 *    pick has its own order; one that takes our first has client order.
 *  - groups, folded into those probes: every answer names a group (TLS 1.3:
 *    an empty key_share makes the server name it in a HelloRetryRequest;
 *    TLS <= 1.2: the named curve of the ServerKeyExchange of an ECDHE pick).
 *    TLS 1.3 suite and order probes offer only the groups not found yet, so
 *    each accepted probe names a new one (the suite choice of TLS 1.3 does
 *    not depend on the group). A refusal then may mean "no suite left" or
 *    "no group left": the next probe (order or group probe, which offer
 *    known suites) tells which. TLS <= 1.2 probes keep every group, because
 *    a server without a shared curve skips its ECDHE suites and the pick
 *    order would lie; they only put the groups not found yet first, which a
 *    server that takes the client's curve order answers with a new one.
 *  - groups left over: offer the accepted (ECDHE) suites with only the
 *    groups not found yet, until the server refuses.
 * Versions below TLS 1.2 are walked down from the highest asked for: a
 * server answers a TLS 1.1 hello with the highest version it has up to 1.1
 * (RFC 5246 E.1), so protocol_version to the first TLS 1.1 (or 1.0) probe
 * means that TLS 1.0 and SSLv3 are off too, with no connection of their
 * own. TLS 1.2 and 1.3 are always probed: they run in lanes of their own.
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
	e->job = -1;
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

static size_t index_of(uint16_t version)
{
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
		if (versions[i] == version)
			return i;
	return SD_TLS_NVERSIONS;
}

void sd_tls_enum_init_job(sd_tls_enum *e, const sd_tls_enum_cfg *cfg, const sd_tls_vresult *known, int job)
{
	sd_tls_enum_cfg c = cfg ? *cfg : (sd_tls_enum_cfg){ 0 };
	size_t vi = index_of(known->version);
	c.versions = vi < SD_TLS_NVERSIONS ? version_bit(known->version) : 0x1fu;
	c.no_order = job != SD_TLS_JOB_ORDER;
	c.no_group_pass = job == SD_TLS_JOB_SUITES;
	if (job == SD_TLS_JOB_ORDER)
		c.no_groups = 1;
	sd_tls_enum_init(e, &c);
	e->job = job;
	e->first_answer = SD_TLS_HELLO; /* the scan's first answer is another's */
	if (vi >= SD_TLS_NVERSIONS) {
		e->stop = 1;
		return;
	}
	sd_tls_vresult *v = &e->v[vi];
	v->supported = known->supported;
	v->probed = 1;
	v->nsuites = SDI_MIN(known->nsuites, (size_t)SD_TLS_MAX_ACCEPT);
	memcpy(v->suites, known->suites, v->nsuites * sizeof v->suites[0]);
	v->ngroups = SDI_MIN(known->ngroups, (size_t)SD_TLS_MAX_GROUPS);
	memcpy(v->groups, known->groups, v->ngroups * sizeof v->groups[0]);
	v->list_tried = known->list_tried;
	e->vi = vi;
	e->phase = job == SD_TLS_JOB_ORDER ? PH_ORDER : job == SD_TLS_JOB_GROUPS ? PH_GROUPS : PH_SUITES;
}

int sd_tls_enum_searching(const sd_tls_enum *e, uint16_t version)
{
	return !e->stop && e->vi < SD_TLS_NVERSIONS && e->v[e->vi].version == version &&
	       e->phase == PH_SUITES && !e->v[e->vi].chunked;
}

/* Where a suite stands in the order we offer them: the ECDHE ones first,
 * then the others, each in the registry's order (see PH_SUITES). */
static size_t suite_rank(uint16_t id)
{
	for (size_t i = 0; i < sdi_tls_nsuites; i++)
		if (sdi_tls_suites[i].id == id)
			return (sdi_tls_suite_is_ecdhe(id) ? 0 : sdi_tls_nsuites) + i;
	return 2 * sdi_tls_nsuites;
}

static size_t group_rank(uint16_t id)
{
	for (size_t i = 0; i < sdi_tls_ngroups; i++)
		if (sdi_tls_groups[i].id == id)
			return i;
	return sdi_tls_ngroups;
}

void sd_tls_enum_merge(sd_tls_vresult *into, const sd_tls_enum *side)
{
	const sd_tls_vresult *v = sd_tls_enum_result(side, into->version);
	if (!v || !(side->cfg.versions & version_bit(into->version)))
		return;
	into->probed |= v->probed;
	into->supported |= v->supported;
	for (size_t i = 0; i < v->nsuites && into->nsuites < SD_TLS_MAX_ACCEPT; i++)
		if (!has(into->suites, into->nsuites, v->suites[i]))
			into->suites[into->nsuites++] = v->suites[i];
	if (v->groups_listed) { /* the server's own list, in its order */
		into->ngroups = v->ngroups;
		memcpy(into->groups, v->groups, v->ngroups * sizeof v->groups[0]);
		into->groups_listed = 1;
	} else if (!into->groups_listed) {
		for (size_t i = 0; i < v->ngroups && into->ngroups < SD_TLS_MAX_GROUPS; i++)
			if (!has(into->groups, into->ngroups, v->groups[i]))
				into->groups[into->ngroups++] = v->groups[i];
	}
	if (side->job == SD_TLS_JOB_ORDER && v->order_done) {
		into->order = v->order;
		into->order_done = 1;
	}
	if (v->violations && !into->violations)
		memcpy(into->violation, v->violation, sizeof into->violation);
	into->violations += v->violations;
	if (v->stall_bytes && !into->stall_bytes) {
		into->stall_bytes = v->stall_bytes;
		into->stall_ms = v->stall_ms;
		into->stall_cut = v->stall_cut;
	}
	if (!into->groups_listed) /* found by parts side by side: in the order we offer them */
		for (size_t i = 1; i < into->ngroups; i++)
			for (size_t j = i; j > 0 && group_rank(into->groups[j]) < group_rank(into->groups[j - 1]); j--) {
				uint16_t t = into->groups[j];
				into->groups[j] = into->groups[j - 1];
				into->groups[j - 1] = t;
			}
	if (into->order == SD_TLS_ORDER_CLIENT) /* insertion sort by our offer order */
		for (size_t i = 1; i < into->nsuites; i++)
			for (size_t j = i; j > 0 && suite_rank(into->suites[j]) < suite_rank(into->suites[j - 1]); j--) {
				uint16_t t = into->suites[j];
				into->suites[j] = into->suites[j - 1];
				into->suites[j - 1] = t;
			}
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

/* Append the candidate groups of the version not found yet; returns how many. */
static size_t groups_left(sd_tls_enum *e, const sd_tls_vresult *v)
{
	size_t n = 0;
	for (size_t i = 0; i < sdi_tls_ngroups && e->ngoffer < SD_TLS_MAX_GROUPS; i++) {
		const sdi_tls_group *g = &sdi_tls_groups[i];
		if (candidate_group(g, v->version) && !has(v->groups, v->ngroups, g->id)) {
			e->goffer[e->ngoffer++] = g->id;
			n++;
		}
	}
	return n;
}

/* supported_groups for a suite or order probe, with the group search folded
 * in (see the top of the file). Sets e->greduced when the list holds only
 * groups not found yet. */
static void probe_groups(sd_tls_enum *e, const sd_tls_vresult *v)
{
	e->greduced = 0;
	if (e->cfg.no_group_pass && v->version == SD_TLS_TLS13) {
		/* the group search runs elsewhere: every group, so that a
		 * refusal means "no suite left" (the list may still be asked
		 * for, see ask_for_list) */
		all_groups(e, v->version);
		return;
	}
	if (e->cfg.no_groups || v->groups_done || v->ngroups == 0 || v->ngroups >= SD_TLS_MAX_GROUPS) {
		all_groups(e, v->version);
		return;
	}
	e->ngoffer = 0;
	if (v->version == SD_TLS_TLS13) {
		if (groups_left(e, v)) {
			e->greduced = 1;
			return;
		}
		all_groups(e, v->version);
		return;
	}
	/* TLS <= 1.2: the ones not found first, then the found ones, then the
	 * FFDHE groups (RFC 7919) that all_groups offers for DHE suites */
	groups_left(e, v);
	for (size_t i = 0; i < v->ngroups && e->ngoffer < SD_TLS_MAX_GROUPS; i++)
		e->goffer[e->ngoffer++] = v->groups[i];
	for (uint16_t id = 0x0100; id <= 0x0104 && e->ngoffer < SD_TLS_MAX_GROUPS; id++)
		e->goffer[e->ngoffer++] = id;
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
	e->share = 0;
	e->hello.sni = e->cfg.sni;
	e->hello.alpn = e->cfg.alpn;
	e->hello.pad_to = e->cfg.pad_to;
	e->hello.seed = e->cfg.seed + e->probes * 2654435761u + 1;
	/* TLS <= 1.2: read on to the ServerKeyExchange only while its curve can
	 * still tell us something; never wait for the rest of the flight */
	e->want_flight = version == SD_TLS_TLS13 || e->cfg.no_groups || e->v[e->vi].groups_done
			 ? 0 : SD_TLS_FLIGHT_CURVE;
	e->probes++;
}

/* TLS 1.3, the second suite probe: a real key share instead of an empty
 * list, for a NIST curve the server has not named yet (its first group
 * came in the HelloRetryRequest of the first probe). A server that takes
 * the share lets us read its EncryptedExtensions (ee.c), where OpenSSL
 * lists every group it has, in its order: one connection instead of one
 * per group. A server that has not the curve answers with a
 * HelloRetryRequest as before, naming a new group all the same. */
static void ask_for_list(sd_tls_enum *e, sd_tls_vresult *v)
{
	static const uint16_t nist[] = { 0x0017, 0x0018, 0x0019 };
	if (v->version != SD_TLS_TLS13 || e->cfg.no_groups || v->groups_done || v->list_tried ||
	    v->ngroups == 0 || v->chunked)
		return;
	for (size_t i = 0; i < sizeof nist / sizeof nist[0] && !e->share; i++)
		if (!has(v->groups, v->ngroups, nist[i]) && has(e->goffer, e->ngoffer, nist[i]))
			e->share = nist[i];
	if (!e->share)
		return;
	v->list_tried = 1;
	e->hello.shares = &e->share;
	e->hello.nshares = 1;
	e->want_flight = SD_TLS_FLIGHT_EE;
}

/* The server's list, when the probe brought one that agrees with what the
 * probes found so far: the groups are done. */
static void take_list(sd_tls_vresult *v, const sd_tls_probe *p)
{
	for (size_t i = 0; i < v->ngroups; i++)
		if (!has(p->listed, p->nlisted, v->groups[i]))
			return; /* a group it named but does not list: trust the probes */
	if (!has(p->listed, p->nlisted, p->srv.group))
		return;
	v->ngroups = SDI_MIN(p->nlisted, (size_t)SD_TLS_MAX_GROUPS);
	memcpy(v->groups, p->listed, v->ngroups * sizeof v->groups[0]);
	v->groups_listed = 1;
	v->groups_done = 1;
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
		if (!(e->cfg.versions & version_bit(ver)) || v->implied_by) {
			next_version(e);
			continue;
		}
		switch (e->phase) {
		case PH_SUITES:
			e->noffer = 0;
			/* in our offer order (suite_rank): the ECDHE suites first, so
			 * that a server that takes the client's order names a curve
			 * early, and its group search can start beside the suite one */
			for (size_t j = 0, k = 0; j < 2 * sdi_tls_nsuites && e->noffer < SD_TLS_MAX_OFFER - 1; j++) {
				size_t i = j % sdi_tls_nsuites;
				uint16_t id = sdi_tls_suites[i].id;
				if (!candidate_suite(id, ver) || (j < sdi_tls_nsuites) != !!sdi_tls_suite_is_ecdhe(id))
					continue;
				/* chunked: only the candidates of chunk e->chunk;
				 * split: only those of our part */
				int in_chunk = !v->chunked || k / SD_TLS_CHUNK == e->chunk;
				int in_part = e->cfg.parts <= 1 || k % e->cfg.parts == e->cfg.part;
				k++;
				if (in_chunk && in_part && !has(v->suites, v->nsuites, id))
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
			probe_groups(e, v);
			set_hello(e, ver);
			ask_for_list(e, v);
			v->probed = 1;
			return 1;
		case PH_ORDER:
			if (e->cfg.no_order || v->nsuites < 2 || v->order_done) {
				e->phase = PH_GROUPS;
				continue;
			}
			e->noffer = 0;
			for (size_t i = v->nsuites; i-- > 0;)
				e->offer[e->noffer++] = v->suites[i];
			probe_groups(e, v);
			if (ver != SD_TLS_TLS13 && !e->cfg.no_groups && !v->groups_done &&
			    !sdi_tls_suite_is_ecdhe(e->offer[0])) {
				/* a client-order server takes our first suite: make it
				 * an ECDHE one (not the server's first), so that its
				 * answer names a curve too; the verdict only compares
				 * the pick with offer[0] and suites[0] */
				for (size_t i = 1; i + 1 < e->noffer; i++)
					if (sdi_tls_suite_is_ecdhe(e->offer[i])) {
						uint16_t t = e->offer[0];
						e->offer[0] = e->offer[i];
						e->offer[i] = t;
						break;
					}
			}
			if (ver != SD_TLS_TLS13 && e->greduced == 0 && !e->cfg.no_groups && !v->groups_done &&
			    v->ngroups > 0 && sdi_tls_suite_is_ecdhe(e->offer[0]) &&
			    sdi_tls_suite_is_ecdhe(v->suites[0])) {
				/* both possible answers are ECDHE suites: offer only the
				 * curves not found yet. A server that has one of them
				 * answers as it would with all (and names a new curve);
				 * one that has none cannot take either and picks another
				 * suite or refuses: then the curves are done and the order
				 * probe runs again with every curve */
				e->ngoffer = 0;
				if (groups_left(e, v)) {
					for (uint16_t id = 0x0100; id <= 0x0104 && e->ngoffer < SD_TLS_MAX_GROUPS; id++)
						e->goffer[e->ngoffer++] = id;
					e->greduced = 1;
				} else {
					probe_groups(e, v);
				}
			}
			set_hello(e, ver);
			return 1;
		case PH_GROUPS:
			/* a part of a suite search leaves the groups to its main lane */
			if (e->cfg.no_groups || !v->supported || v->groups_done || e->cfg.no_group_pass) {
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
				if (candidate_group(g, ver) && !has(v->groups, v->ngroups, g->id) &&
				    (e->cfg.gparts <= 1 || i % e->cfg.gparts == e->cfg.gpart))
					e->goffer[e->ngoffer++] = g->id;
			}
			if (e->noffer == 0 || e->ngoffer == 0 || v->ngroups >= SD_TLS_MAX_GROUPS) {
				v->groups_done = e->noffer != 0;
				if (v->suites_pending) { /* no group was left: the suites were not done */
					v->suites_pending = 0;
					e->phase = PH_SUITES;
					continue;
				}
				next_version(e);
				continue;
			}
			set_hello(e, ver);
			e->greduced = 1;
			if (e->job == SD_TLS_JOB_GROUPS)
				ask_for_list(e, v); /* TLS 1.3: the server's list, in one probe */
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

/* protocol_version to the first hello of v: the lower versions of this
 * enumeration are refused as well (see the top of the file). */
static void imply_refusals(sd_tls_enum *e, const sd_tls_vresult *v)
{
	for (size_t i = e->vi + 1; i < SD_TLS_NVERSIONS; i++) {
		sd_tls_vresult *w = &e->v[i];
		if (!(e->cfg.versions & version_bit(w->version)) || w->probed)
			continue;
		w->implied_by = v->version;
		w->refusal = SD_TLS_ALERT;
		w->refusal_alert = 70;
	}
}

/* The rule this answer breaks, if any, written into why: a malformed
 * answer (parse.c says which rule), a suite the hello did not offer, one
 * that must never be negotiated, or a buffer full of records that never
 * made an answer. 1 when broken. */
static int broken(const sd_tls_enum *e, const sd_tls_vresult *v, const sd_tls_probe *p, char *why, size_t n)
{
	const sd_tls_server *s = &p->srv;
	if (s->answer == SD_TLS_MALFORMED) {
		sdi_fmt(why, n, "%s", s->why[0] ? s->why : "records that break the rules");
		return 1;
	}
	if (s->answer == SD_TLS_MORE && p->rx_len >= p->rx_cap && p->rx_cap) {
		sdi_fmt(why, n, "%zu bytes of records without a ServerHello or an alert", p->rx_len);
		return 1;
	}
	if ((s->answer != SD_TLS_HELLO && s->answer != SD_TLS_HRR) || s->version != v->version)
		return 0;
	if (s->suite == 0x0000) {
		sdi_fmt(why, n, "it chose TLS_NULL_WITH_NULL_NULL (0x0000), which must never be negotiated (RFC 5246 A.5)");
		return 1;
	}
	if (s->suite == TLS_SCSV_EMPTY_RENEGOTIATION_INFO || s->suite == TLS_SCSV_FALLBACK) {
		sdi_fmt(why, n, "it chose 0x%04x, a signalling value and no suite (RFC 5746, RFC 7507)", s->suite);
		return 1;
	}
	if (!has(e->offer, e->noffer, s->suite)) {
		sdi_fmt(why, n, "it chose suite 0x%04x, which the hello did not offer (RFC 5246 7.4.1.3)", s->suite);
		return 1;
	}
	return 0;
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
		e->first_ms = sd_tls_probe_ms(p);
		e->first_cut = p->cut;
		if (out == SD_TLS_NOT_TLS)
			e->stop = 1; /* a plaintext service: one connection says it all */
	}
	/* part of an answer, then a deadline: a server that drips or stalls
	 * would cost every further probe its whole wait; one says it all */
	if (p->timed_out && p->rx_len > 0 && s->answer == SD_TLS_MORE) {
		if (!v->stall_bytes) {
			v->stall_bytes = p->rx_len;
			v->stall_ms = sd_tls_probe_ms(p);
			v->stall_cut = p->cut;
		}
		v->refusal = -2;
		e->stop = 1;
		return;
	}
	char why[sizeof v->violation];
	if (broken(e, v, p, why, sizeof why)) {
		/* what such a server accepts cannot be trusted: this version ends */
		if (!v->violations++)
			sdi_fmt(v->violation, sizeof v->violation, "%s", why);
		v->refusal = SD_TLS_MALFORMED;
		v->refusal_alert = 0;
		v->suites_pending = 0;
		next_version(e);
		return;
	}
	/* accepted: a ServerHello (or HRR) for this version naming a suite we offered */
	int acc = (out == SD_TLS_HELLO || out == SD_TLS_HRR) && s->version == v->version &&
		  has(e->offer, e->noffer, s->suite) && s->suite != TLS_SCSV_EMPTY_RENEGOTIATION_INFO;
	int group_ok = s->group && has(e->goffer, e->ngoffer, s->group);
	if (acc && e->share && s->group == e->share && p->listed_rc == 1 && !e->cfg.no_groups)
		take_list(v, p);

	/* a group not found before (with greduced every named group is new) */
	int new_group = acc && group_ok && !has(v->groups, v->ngroups, s->group) &&
			v->ngroups < SD_TLS_MAX_GROUPS && !e->cfg.no_groups;
	if (new_group)
		v->groups[v->ngroups++] = s->group;

	switch (e->phase) {
	case PH_SUITES:
		if (!acc && v->nsuites == 0 && !v->chunked && out == SD_TLS_ALERT && s->alert_seen &&
		    s->alert_desc == 70 && (v->version == SD_TLS_TLS11 || v->version == SD_TLS_TLS10))
			imply_refusals(e, v);
		if (acc && !has(v->suites, v->nsuites, s->suite) && v->nsuites < SD_TLS_MAX_ACCEPT) {
			v->supported = 1;
			v->suites[v->nsuites++] = s->suite;
			if (e->greduced && !new_group) /* TLS 1.3 answered without a new group */
				v->groups_done = 1;
		} else {
			v->refusal = acc ? SD_TLS_HELLO : out;
			v->refusal_alert = s->alert_seen ? s->alert_desc : 0;
			if (e->greduced && !acc) {
				/* no suite left, or no group left: the next probe,
				 * which offers suites known to work, tells */
				v->suites_pending = 1;
				e->phase = PH_ORDER;
			} else if (!v->chunked && !e->cfg.no_chunks && e->noffer > SD_TLS_CHUNK &&
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
		if (acc) {
			v->order = s->suite == v->suites[0] ? SD_TLS_ORDER_SERVER
				 : s->suite == e->offer[0] ? SD_TLS_ORDER_CLIENT : SD_TLS_ORDER_SERVER;
			v->order_done = 1;
		}
		if (e->greduced && !new_group) {
			/* known suites with only the groups not found yet, and no new
			 * group named: none is left. A pending suite refusal was about
			 * the groups, so the suite pass goes on (with every group). The
			 * verdict, if any, came from a hello the server could not fully
			 * answer: the order probe runs again with every group. */
			v->groups_done = 1;
			v->order = SD_TLS_ORDER_NONE;
			v->order_done = 0;
			if (v->suites_pending) {
				v->suites_pending = 0;
				e->phase = PH_SUITES;
			} /* else stay: the order probe again, with every group, if it had no answer */
			break;
		}
		v->order_done = 1; /* answered, or refused with every group: no verdict */
		v->suites_pending = 0; /* a new group: the pending refusal meant "no suite left" */
		e->phase = PH_GROUPS;
		break;
	case PH_GROUPS:
		if (new_group) {
			v->suites_pending = 0;
			break;
		}
		v->groups_done = 1;
		if (v->suites_pending) {
			v->suites_pending = 0;
			e->phase = PH_SUITES;
		} else {
			next_version(e);
		}
		break;
	default:
		break;
	}
}
