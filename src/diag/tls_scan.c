/*
 * shakedown — the TLS scan of one target (what `shakedown tls HOST` runs):
 * the first connection alone says what answers the port; then every
 * version in its own lane (TLS 1.1 and older share one: see lane_bits), one
 * connection per lane at a time, the lanes taken by as many workers as the
 * caller starts (sd_tls_scan_work is safe to call from several threads at
 * once: the state they share is atomic); then the findings.
 *
 * Bounds: every probe has one absolute deadline (cfg.wait_ms), connecting
 * TLS_CONNECT_MS, the whole scan cfg.budget (TLS_OVERALL_S by default). A
 * scan that the budget ends before its enumeration is done says so.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "internal.h"
#include "proto/tls_wire.h"

#define TLS_FIRST_KEEP 4096u

/* One enumeration lane: an enumerator and its buffers. */
typedef struct lane {
	sd_tls_enum  e;
	uint8_t      hello[SD_TLS_HELLO_MAX];
	uint8_t      rx[SD_TLS_RX_CAP];
	uint8_t      hs[SD_TLS_RX_CAP];
	sd_tls_probe p;
	int          hello_len;
	int          err;        /* a hello that could not be built (our bug) */
	int          state;      /* LANE_*, under the scan's lock */
	uint16_t     version;    /* a job's version (e.job >= 0) */
	unsigned     turn;       /* when a worker last took it */
} lane;

enum { LANE_READY = 0, LANE_RUNNING, LANE_DONE };

/* Lanes at most: the versions, and the jobs that split a version's search
 * (its groups, its order, the parts of a client-order suite search). */
#define TLS_MAX_LANES 24u
/* Parts of one version's suite search (TLS <= 1.2, client order; TLS 1.3
 * has 5 suites to search) and of its group search (TLS <= 1.2): each part
 * ends with a refusal of its own, a connection more, and the scan keeps
 * to N + 2V connections (N suites, V versions). */
#define TLS_SUITE_PARTS 2u
#define TLS_GROUP_PARTS 2u
#define TLS_KEEP_ENDS 256u /* probe ends kept to measure the chain */

struct sd_tls_scan {
	sd_tls_scan_cfg  cfg;
	sd_tls_enum_cfg  ec;
	const sd_clock  *clk;
	lane            *lanes[TLS_MAX_LANES]; /* [0] is the main lane */
	size_t           nlanes;
	pthread_mutex_t  mu;      /* the lanes' states, jobs and enumerators */
	pthread_cond_t   cv;      /* a lane became ready, or the last one ended */
	int              splitting; /* lanes may hand work to new ones */
	unsigned         group_gap; /* versions whose group lanes could not all start */
	size_t           running;
	unsigned         turns;
	sd_time          ends[TLS_KEEP_ENDS]; /* finished probes: when, and */
	unsigned         end_depth[TLS_KEEP_ENDS]; /* their place in the longest chain */
	size_t           nends;
	unsigned         chain;   /* the longest chain of probes, one after another */
	_Atomic sd_time  next_at; /* --delay: the next connection not before */
	uint8_t          first_tx[SD_TLS_HELLO_MAX];
	size_t           first_tx_len;
	uint8_t          first_rx[TLS_FIRST_KEEP];
	size_t           first_rx_len;
	atomic_uint      conns;
	atomic_uint      resets;
	atomic_int       cut;     /* the overall deadline ended the run before the enumeration did */
	int              go_on;   /* the first connection found something to enumerate */
	int              wants_crypto; /* TLS 1.3 answered: its group list takes libcrypto */
	int              folded;
	sd_time          t0;      /* the run's start: on_probe gets each probe's span from it */
	sd_deadline      overall;
	const char      *service; /* what sd_tls_scan_report named */
	sd_tls_cert      cert;    /* sd_tls_diagnose's certificate check */
	int              has_cert;
	sd_tls_policy_result policy; /* and its policy verdict */
	int              has_policy;
	sd_starttls_result st;     /* the first STARTTLS dialog that failed */
	atomic_int       st_failed; /* 1: on the first connection, 2: on a later one */
	atomic_flag      st_taken;  /* who writes st */
	char             host[256], port[16];
};

/* The versions of the lane that probes `version`: TLS 1.3 and 1.2 one each;
 * the older ones together, walked down from the highest (see enum.c: a
 * protocol_version there spares the lower ones their connections). */
#define OLD_BITS 0x07u /* SSLv3, TLS 1.0, TLS 1.1 */
static unsigned lane_bits(unsigned asked, uint16_t version)
{
	unsigned bit = 1u << (version - SD_TLS_SSL3);
	return bit & OLD_BITS ? asked & OLD_BITS : bit;
}

/* Whether the enumeration of a lane had more hellos to send (asked on a
 * copy: sd_tls_enum_next moves on). */
static int more_to_do(const lane *L)
{
	sd_tls_enum rest = L->e;
	return sd_tls_enum_next(&rest);
}

static lane *lane_new(sd_tls_scan *r)
{
	if (r->nlanes >= TLS_MAX_LANES)
		return NULL;
	lane *L = calloc(1, sizeof *L);
	if (L)
		r->lanes[r->nlanes++] = L;
	return L;
}

/* A main lane for these versions (the first answer was lane 0's). */
static lane *version_lane(sd_tls_scan *r, unsigned versions, uint32_t seed)
{
	lane *L = lane_new(r);
	if (!L)
		return NULL;
	sd_tls_enum_cfg c = r->ec;
	c.versions = versions;
	c.seed = seed;
	sd_tls_enum_init(&L->e, &c);
	L->e.first_answer = SD_TLS_HELLO;
	return L;
}

/* A job of one version's search on a lane of its own (lock held). */
static lane *spawn_job(sd_tls_scan *r, const sd_tls_vresult *known, int job, unsigned part, unsigned parts)
{
	lane *L = lane_new(r);
	if (!L)
		return NULL;
	sd_tls_enum_cfg c = r->ec;
	c.seed = r->ec.seed + (uint32_t)r->nlanes * 7919u;
	if (job == SD_TLS_JOB_SUITES) {
		c.parts = parts;
		c.part = part;
	} else if (job == SD_TLS_JOB_GROUPS) {
		c.gparts = parts;
		c.gpart = part;
	}
	sd_tls_enum_init_job(&L->e, &c, known, job);
	L->version = known->version;
	pthread_cond_broadcast(&r->cv);
	return L;
}

static int has_job(const sd_tls_scan *r, uint16_t version, int job)
{
	for (size_t k = 0; k < r->nlanes; k++)
		if (r->lanes[k]->e.job == job && r->lanes[k]->version == version)
			return 1;
	return 0;
}

/* The main lane that searches the suites of a version. */
static lane *owner_of(sd_tls_scan *r, uint16_t version)
{
	unsigned bit = 1u << (version - SD_TLS_SSL3);
	for (size_t k = 0; k < r->nlanes; k++)
		if (r->lanes[k]->e.job < 0 && (r->lanes[k]->e.cfg.versions & bit))
			return r->lanes[k];
	return NULL;
}

/* After a probe of lane L on `version` (lock held): hand what can run on
 * a connection of its own to new lanes, so that the probes in a row stay
 * few (issue: at 100 ms a round trip, each one in a row costs 0.1-0.2 s):
 *  - a lane of several versions (TLS 1.1 and older) whose version was just
 *    accepted gives the lower ones a lane of their own (a refusal would
 *    have spared them their connections: see lane_bits);
 *  - the first group a version names starts its group search (two parts
 *    for TLS <= 1.2; TLS 1.3's next suite probe asks for the server's list
 *    first, and only a server that gives none gets a group lane);
 *  - the second suite starts the order probe, beside the suite search;
 *  - an order probe that finds the client's order splits the rest of the
 *    suite search (TLS <= 1.2) in two: the order in which such a server picks is ours,
 *    so nothing is lost by searching in parallel. A server with its own
 *    order keeps one search: its picks, one after another, are its order. */
static void split(sd_tls_scan *r, lane *L, uint16_t version)
{
	if (!r->splitting || r->cfg.parallel <= 1)
		return;
	const sd_tls_vresult *v = sd_tls_enum_result(&L->e, version);
	unsigned bit = 1u << (version - SD_TLS_SSL3);
	if (L->e.job < 0) {
		unsigned lower = L->e.cfg.versions & (bit - 1u);
		if (v->supported && lower && version_lane(r, lower, r->ec.seed + (uint32_t)r->nlanes * 7919u)) {
			L->e.cfg.versions &= ~lower;
			pthread_cond_broadcast(&r->cv);
		}
	}
	if (L->e.job == SD_TLS_JOB_SUITES || L->e.job < 0) {
		/* TLS 1.3: the next suite probe asks for the server's group list
		 * (OpenSSL sends it), and stops folding the group search in; only
		 * a server that did not list them gets a group lane */
		int list_first = version == SD_TLS_TLS13 && !v->list_tried;
		if (version == SD_TLS_TLS13 && v->ngroups > 0)
			L->e.cfg.no_group_pass = 1;
		unsigned gparts = version == SD_TLS_TLS13 ? 1u : TLS_GROUP_PARTS;
		if (!r->ec.no_groups && v->supported && v->ngroups > 0 && !v->groups_done && !v->chunked &&
		    !list_first && !has_job(r, version, SD_TLS_JOB_GROUPS) && r->nlanes + gparts <= TLS_MAX_LANES)
			for (unsigned q = 0; q < gparts; q++) /* all parts or none: no group left unsearched */
				if (!spawn_job(r, v, SD_TLS_JOB_GROUPS, q, gparts))
					r->group_gap |= bit; /* out of memory: the main lane searches them all */
		/* the suite probes keep naming groups (shared with the group
		 * lanes, see share_groups) and leave the rest to those lanes */
		if (has_job(r, version, SD_TLS_JOB_GROUPS) && !(r->group_gap & bit))
			L->e.cfg.no_group_pass = 1;
	}
	if (L->e.job < 0 && !r->ec.no_order && v->nsuites >= 2 && !v->chunked && !L->e.cfg.no_order &&
	    sd_tls_enum_searching(&L->e, version) && !has_job(r, version, SD_TLS_JOB_ORDER)) {
		if (spawn_job(r, v, SD_TLS_JOB_ORDER, 0, 1))
			L->e.cfg.no_order = 1;
	}
	if (L->e.job == SD_TLS_JOB_ORDER && v->order == SD_TLS_ORDER_CLIENT) {
		lane *O = owner_of(r, version);
		unsigned parts = SDI_MIN(r->cfg.parallel, TLS_SUITE_PARTS);
		if (O && version != SD_TLS_TLS13 && O->e.cfg.parts <= 1 && parts > 1 &&
		    r->nlanes + parts - 1 <= TLS_MAX_LANES && sd_tls_enum_searching(&O->e, version)) {
			const sd_tls_vresult *ov = sd_tls_enum_result(&O->e, version);
			int all = 1;
			for (unsigned q = 1; q < parts; q++)
				all &= spawn_job(r, ov, SD_TLS_JOB_SUITES, q, parts) != NULL;
			if (all) { /* else the owner searches on in full: found twice is still a set */
				O->e.cfg.parts = parts;
				O->e.cfg.part = 0;
			}
		}
	}
}

/* Before a lane's next hello (lock held): the groups the other lanes of
 * its version found, so that no probe asks for one found already. */
static void share_groups(sd_tls_scan *r, lane *L)
{
	if (L->e.vi >= SD_TLS_NVERSIONS || L->e.cfg.no_groups)
		return;
	sd_tls_vresult *v = &L->e.v[L->e.vi];
	for (size_t k = 0; k < r->nlanes; k++) {
		const lane *M = r->lanes[k];
		if (M == L || M->e.cfg.no_groups || !(M->e.cfg.versions & (1u << (v->version - SD_TLS_SSL3))))
			continue;
		const sd_tls_vresult *w = sd_tls_enum_result(&M->e, v->version);
		for (size_t i = 0; i < w->ngroups && v->ngroups < SD_TLS_MAX_GROUPS; i++) {
			size_t j = 0;
			while (j < v->ngroups && v->groups[j] != w->groups[i])
				j++;
			if (j == v->ngroups)
				v->groups[v->ngroups++] = w->groups[i];
		}
	}
}

/* Where a probe that ran from began to ended stands in the longest chain
 * of probes one after another (lock held). */
static void chain_add(sd_tls_scan *r, sd_time began, sd_time ended)
{
	unsigned d = 1;
	for (size_t i = 0; i < r->nends; i++)
		if (r->ends[i] <= began && r->end_depth[i] + 1 > d)
			d = r->end_depth[i] + 1;
	if (r->nends < TLS_KEEP_ENDS) {
		r->ends[r->nends] = ended;
		r->end_depth[r->nends++] = d;
	}
	if (d > r->chain)
		r->chain = d;
}

/* One probe of a lane: the enumerator's next hello over a new connection.
 * Returns 1 when a probe ran, 0 when the lane is finished, or the open
 * error of the connection (why filled in). */
static int lane_step(sd_tls_scan *r, lane *L, char *why, size_t whylen)
{
	const sd_clock *clk = r->clk;
	if (sd_deadline_passed(clk, r->overall)) {
		pthread_mutex_lock(&r->mu);
		if (more_to_do(L))
			atomic_store(&r->cut, 1);
		pthread_mutex_unlock(&r->mu);
		return 0;
	}
	pthread_mutex_lock(&r->mu);
	if (r->splitting)
		share_groups(r, L);
	int next = sd_tls_enum_next(&L->e);
	if (next) {
		L->hello_len = sd_tls_hello_build(&L->e.hello, L->hello, sizeof L->hello);
		if (L->hello_len < 0)
			L->err = L->hello_len;
	}
	pthread_mutex_unlock(&r->mu);
	if (!next || L->err)
		return 0;
	if (r->cfg.delay_ms) { /* pace all lanes together */
		sd_time t, want;
		t = atomic_load(&r->next_at);
		do
			want = SDI_MAX(sd_now(clk), t);
		while (!atomic_compare_exchange_weak(&r->next_at, &t, want + SD_MS(r->cfg.delay_ms)));
		clk->sleep_until(clk, want);
	}
	sd_time began = sd_now(clk);
	sd_link *link = NULL;
	sd_deadline dl = sd_deadline_min(sd_deadline_in(clk, SD_MS(TLS_CONNECT_MS)), r->overall);
	int err = sd_link_open_tcp(r->host, r->port, clk, dl, &link, why, whylen);
	sd_tls_probe *p = &L->p;
	sd_tls_probe_init(p, L->hello, (size_t)L->hello_len, L->e.want_flight, SD_MS(r->cfg.wait_ms),
			  L->rx, sizeof L->rx, L->hs, sizeof L->hs);
	if (err >= 0 && r->cfg.starttls) {
		/* the plaintext dialog first; a server that refuses it (421 too
		 * many connections, 454) ends this lane: its words are kept */
		sd_starttls_result st;
		sd_starttls_cfg stc = { .proto = r->cfg.starttls, .domain = r->cfg.enm.sni }; /* XMPP: to= */
		int src = sd_starttls_run_cfg(link, &stc, sd_deadline_min(sd_deadline_in(clk, SD_MS(r->cfg.wait_ms)), r->overall), &st);
		if (src < 0) {
			atomic_fetch_add(&r->conns, 1);
			if (!atomic_flag_test_and_set(&r->st_taken)) {
				r->st = st;
				atomic_store(&r->st_failed, L == r->lanes[0] && L->e.probes == 1 ? 1 : 2);
			}
			pthread_mutex_lock(&r->mu);
			if (!(L == r->lanes[0] && L->e.probes == 1) && more_to_do(L))
				atomic_store(&r->cut, 1);
			pthread_mutex_unlock(&r->mu);
			sd_link_close(link);
			return 0;
		}
	}
	if (err < 0) {
		p->closed = 1; /* a refused connection mid-run counts as a closed probe */
		p->link_err = err;
	} else {
		atomic_fetch_add(&r->conns, 1);
		if (r->cfg.tap)
			sd_link_tap(link, r->cfg.tap, r->cfg.tap_name);
		int rrc = sd_run(&p->base, link, r->overall);
		sd_tls_probe_finish(p, rrc, clk);
		if (p->closed && strstr(link->why, "reset"))
			atomic_fetch_add(&r->resets, 1);
		sd_link_close(link);
	}
	pthread_mutex_lock(&r->mu);
	uint16_t version = L->e.hello.version;
	sd_tls_enum_feed(&L->e, p);
	if (p->cut && more_to_do(L))
		atomic_store(&r->cut, 1);
	chain_add(r, began, sd_now(clk));
	split(r, L, version);
	pthread_mutex_unlock(&r->mu);
	if (r->cfg.on_probe)
		r->cfg.on_probe(r->cfg.ctx, L->e.hello.version, p, began - r->t0, sd_now(clk) - r->t0);
	return err < 0 ? err : 1;
}

static const char *service_of(const uint8_t *b, size_t n)
{
	static const struct { const char *prefix, *name; } svcs[] = {
		{ "HTTP/", "http" }, { "SSH-", "ssh" }, { "* OK", "imap" }, { "+OK", "pop3" },
		{ "-ERR", "redis" }, { "-NOAUTH", "redis" }, { "+PONG", "redis" }, { "RFB ", "vnc" },
	};
	for (size_t i = 0; i < sizeof svcs / sizeof svcs[0]; i++) {
		size_t k = strlen(svcs[i].prefix);
		if (n >= k && memcmp(b, svcs[i].prefix, k) == 0)
			return svcs[i].name;
	}
	static const char *const html[] = { "<!doctype html", "<html", "<head", "<body", "<!--" };
	for (size_t i = 0; i < SDI_ARRAY_LEN(html); i++) {
		size_t k = strlen(html[i]), j = 0;
		while (j < k && j < n && (b[j] >= 'A' && b[j] <= 'Z' ? b[j] + 32 : b[j]) == html[i][j])
			j++;
		if (j == k)
			return "http"; /* an HTTP/0.9-style answer: the page alone (python3 -m http.server) */
	}
	if (n >= 3 && memcmp(b, "220", 3) == 0) {
		for (size_t i = 0; i + 3 <= n && i < 200; i++)
			if (memcmp(b + i, "FTP", 3) == 0 || memcmp(b + i, "ftp", 3) == 0)
				return "ftp";
		return "smtp";
	}
	if (n >= 9 && b[3] == 0x04 && b[0] == 0 && b[4] == 0)
		return "http2";
	if (n >= 6 && b[3] == 0x00 && b[4] == 0x0a)
		return "mysql";
	if (n >= 5 && (b[0] == 'E' || b[0] == 'N') && b[1] == 0 && b[2] == 0)
		return "postgresql";
	return "unknown";
}


/* Which deadline ended something: the run's (--timeout, or its default)
 * or one probe's (--wait). */
static const char *deadline_name(const sd_tls_scan *r, int cut)
{
	if (!cut)
		return "--wait";
	return r->cfg.budget_given ? "--timeout" : "the default overall deadline (--timeout 60)";
}
_Static_assert(TLS_OVERALL_S == 60, "deadline_name() and the usage text name the default");

/* Record-layer and handshake rules the server broke, one finding with a
 * detail line per version. Returns 1 when there was any. */
static int add_violations(sd_tls_scan *r, sd_report *rep)
{
	const sd_tls_enum *e = &r->lanes[0]->e;
	sd_finding *f = NULL;
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->violations)
			continue;
		if (!f) {
			f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_PROTOCOL_VIOLATION, 0.9f);
			if (!f)
				return 1;
			sd_finding_summary(f, "the server breaks the TLS protocol (%s): %s",
					   sd_tls_version_name(v->version), v->violation);
			sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
		}
		sd_finding_detail(f, "%s: %s", sd_tls_version_name(v->version), v->violation);
	}
	return f != NULL;
}

/* A probe that had part of an answer when a deadline ended it, and a run
 * that the overall deadline ended early. Returns 1 when there was any. */
static int add_timeouts(sd_tls_scan *r, sd_report *rep)
{
	const sd_tls_enum *e = &r->lanes[0]->e;
	sd_finding *f = NULL;
	for (size_t i = 0; i < SD_TLS_NVERSIONS && !f; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->stall_bytes)
			continue;
		f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_TIMEOUT, 0.85f);
		if (f) {
			sd_finding_summary(f, "%s: the server sent %zu byte%s of an answer, then no complete one: %s stopped the probe after %u ms",
					   sd_tls_version_name(v->version), v->stall_bytes, v->stall_bytes == 1 ? "" : "s",
					   deadline_name(r, v->stall_cut), v->stall_ms);
			sd_finding_fix(f, "a server (or a box on the way) that drips or stalls its handshake: check its load and what sits in front of it");
			sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
		}
	}
	if (r->cut) {
		sd_finding *g = sd_diag_add(&rep->diag, SD_CAUSE_TLS_TIMEOUT, 0.8f);
		if (g && g != f)
			sd_finding_summary(g, "%s ended the run after %u ms, before the enumeration was done: what is listed is incomplete",
					   deadline_name(r, 1), (unsigned)((sd_now(r->clk) - r->t0) / 1000));
		else if (g)
			sd_finding_detail(g, "%s ended the run before the enumeration was done: what is listed is incomplete",
					  deadline_name(r, 1));
		if (g && !f)
			sd_finding_fix(g, "give it more time (--timeout SECS), or fewer versions (--versions), --no-groups, --no-order");
		f = g ? g : f;
	}
	return f != NULL;
}

/* The STARTTLS dialog failed: the server's own words. Returns the service. */
static const char *starttls_failed(sd_tls_scan *r, sd_report *rep)
{
	const sd_starttls_result *st = &r->st;
	const char *proto = sd_starttls_name(r->cfg.starttls);
	sd_finding *f;
	if (st->link_err == SD_ERR_TIMEOUT && st->rx_len == 0 && st->step == SD_STARTTLS_STEP_GREETING) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_STARTTLS_NOT_OFFERED, 0.8f);
		if (f) {
			sd_finding_summary(f, "no %s greeting within --wait %u ms: the server waits for the client, as a TLS-on-connect port does (465 smtps, 993 imaps, 995 pop3s)",
					   proto, r->cfg.wait_ms);
			sd_finding_fix(f, "probe it without --starttls (use --starttls none on a usual STARTTLS port); for STARTTLS use the plaintext port (587/25 smtp, 143 imap, 110 pop3)");
		}
		return "silent";
	}
	if (st->link_err) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_STARTTLS_REFUSED, 0.8f);
		if (f) {
			sd_finding_summary(f, "the %s dialog before STARTTLS ended: %s%s%s", proto, sd_strerror(st->link_err),
					   st->last.line[0] ? "; its last words: " : "", st->last.line);
			sd_finding_evidence(f, NULL, 0, st->rx, st->rx_len);
		}
		return proto;
	}
	if (!st->last.complete) { /* bytes that are no reply of that protocol */
		f = sd_diag_add(&rep->diag, SD_CAUSE_WRONG_PROTOCOL, 0.8f);
		if (f) {
			sd_finding_summary(f, "the server's answer is no %s reply%s%s", proto,
					   st->rx_len && st->rx[0] >= 0x14 && st->rx[0] <= 0x18 ? " (a TLS record: TLS at once, drop --starttls)" : "",
					   "");
			sd_finding_fix(f, "check the port and --starttls (smtp, imap, pop3, ftp, postgres), or none for TLS on connect");
			sd_finding_evidence(f, NULL, 0, st->rx, st->rx_len);
		}
		return "unknown";
	}
	if (st->not_offered) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_STARTTLS_NOT_OFFERED, 0.9f);
		if (f) {
			sd_finding_summary(f, "the %s server does not offer STARTTLS; it answered: %s", proto, st->last.line);
			sd_finding_fix(f, "enable STARTTLS on the server (postfix smtpd_tls_security_level = may; dovecot ssl = yes), or use its TLS-on-connect port");
			sd_finding_evidence(f, NULL, 0, st->rx, st->rx_len);
		}
		return proto;
	}
	f = sd_diag_add(&rep->diag, SD_CAUSE_STARTTLS_REFUSED, 0.9f);
	if (f) {
		const char *when = st->step == SD_STARTTLS_STEP_GREETING ? "greets with a refusal"
				   : st->step == SD_STARTTLS_STEP_CAPA ? "refuses the capability question" : "refuses STARTTLS";
		sd_finding_summary(f, "the %s server %s: %s", proto, when, st->last.line);
		if (st->last.code == 421)
			sd_finding_fix(f, "the server sheds connections (421): wait and retry, slow down (--rate), or raise its limit (postfix smtpd_client_connection_count_limit)");
		else if (st->last.code == 454)
			sd_finding_fix(f, "TLS is not available on the server (454): its certificate or key cannot be read; check its log (postfix smtpd_tls_cert_file, smtpd_tls_key_file)");
		else
			sd_finding_fix(f, "read the server's reply above; it names the reason");
		sd_finding_evidence(f, NULL, 0, st->rx, st->rx_len);
	}
	return proto;
}

/* The findings: what answered, and if TLS, what it accepts or why nothing. */
static const char *diagnose(sd_tls_scan *r, sd_report *rep)
{
	const sd_tls_enum *e = &r->lanes[0]->e;
	sd_finding *f;
	int fa = e->first_answer;
	if (atomic_load(&r->st_failed) == 1) {
		const char *svc = starttls_failed(r, rep);
		sd_diag_sort(&rep->diag);
		return svc;
	}
	if (fa == SD_TLS_NOT_TLS) {
		sd_classify_in in = {
			.rx = r->first_rx, .rx_len = r->first_rx_len, .tx = r->first_tx,
			.tx_len = r->first_tx_len, .expect = "tls", .link_caps = SD_LINK_NET | SD_LINK_BYTES,
		};
		sd_diagnose_bytes(&in, &rep->diag);
		const char *svc = service_of(r->first_rx, r->first_rx_len);
		if (!sd_diag_find(&rep->diag, SD_CAUSE_PLAINTEXT_SERVICE)) {
			f = sd_diag_add(&rep->diag, SD_CAUSE_PLAINTEXT_SERVICE, 0.8f);
			if (f) {
				sd_finding_summary(f, "no TLS on this port: the first byte 0x%02x is no TLS record type (20-24)",
						   r->first_rx[0]);
				sd_finding_fix(f, "find out which service listens here; the TLS port is elsewhere");
				sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
			}
		}
		sd_diag_sort(&rep->diag);
		return svc;
	}
	if (fa == -2 && r->first_rx_len == 0) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_SILENT, 0.85f);
		if (f) {
			sd_finding_summary(f, "nothing came back in %u ms after our ClientHello (%s ended the wait)",
					   e->first_ms, deadline_name(r, e->first_cut));
			sd_finding_fix(f, "a service that waits for its own protocol, or a filter that holds the connection: check the port");
			sd_finding_evidence(f, r->first_tx, r->first_tx_len, NULL, 0);
		}
		return "silent";
	}
	int any = 0;
	size_t nv = 0;
	char list[160] = "";
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (v->supported) {
			any = 1;
			nv++;
			sdi_append(list, sizeof list, "%s%s (%zu suite%s)", list[0] ? ", " : "",
				       sd_tls_version_name(v->version), v->nsuites, v->nsuites == 1 ? "" : "s");
		}
	}
	int tls_seen = fa == SD_TLS_HELLO || fa == SD_TLS_HRR || fa == SD_TLS_ALERT || fa == SD_TLS_MALFORMED || any;
	int broke = add_violations(r, rep);
	int late = add_timeouts(r, rep);
	if (atomic_load(&r->st_failed) == 2) { /* refused on a later connection: what is listed is incomplete */
		f = sd_diag_add(&rep->diag, SD_CAUSE_STARTTLS_REFUSED, 0.9f);
		if (f) {
			sd_finding_summary(f, "the %s server refused a later connection's dialog: %s; the enumeration is incomplete",
					   sd_starttls_name(r->cfg.starttls), r->st.last.line[0] ? r->st.last.line : sd_strerror(r->st.link_err));
			sd_finding_fix(f, "a server that sheds connections (421): slow down (--rate N, --per-host 1) or raise its limit");
			sd_finding_evidence(f, NULL, 0, r->st.rx, r->st.rx_len);
		}
		late = 1;
	}
	if (!tls_seen && (broke || late)) {
		sd_diag_sort(&rep->diag);
		return r->first_rx_len && r->first_rx[0] >= TLS_CT_CHANGE_CIPHER_SPEC &&
		       r->first_rx[0] <= TLS_CT_HEARTBEAT ? "tls" : "unknown";
	}
	if (!tls_seen) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_MIDDLEBOX_RESET, 0.75f);
		if (f && r->first_rx_len)
			sd_finding_summary(f, "the connection was %s after %zu byte%s of an answer to our ClientHello, with no TLS alert",
					   r->resets ? "reset" : "closed", r->first_rx_len, r->first_rx_len == 1 ? "" : "s");
		else if (f)
			sd_finding_summary(f, "every connection was %s right after our ClientHello, without a byte or a TLS alert",
					   r->resets ? "reset" : "closed");
		if (f) {
			sd_finding_fix(f, "a filter (IPS, firewall) or a service that is not TLS drops the hello; try from another network, or check the service");
			sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
		}
		return r->resets ? "reset" : "closed";
	}
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->chunked || !v->supported)
			continue;
		f = sd_diag_add(&rep->diag, SD_CAUSE_MIDDLEBOX_SIZE, 0.7f);
		if (f) {
			const char *an = v->big_alert ? tls_alert_name(v->big_alert) : NULL;
			sd_finding_summary(f, "%s: a hello offering %zu suites was %s%s, hellos of %u suites went through",
					   sd_tls_version_name(v->version), v->big_nsuites,
					   v->big_refusal == -1 ? "cut off" : v->big_refusal == -2 ? "met with silence"
					   : "refused with ", v->big_refusal >= 0 ? (an ? an : "a malformed answer") : "",
					   SD_TLS_CHUNK);
			sd_finding_fix(f, "the server or a box on the way cannot take large ClientHellos: keep client hellos small (fewer suites), or fix the box");
		}
	}
	if (any) {
		/* never ok with a broken record layer, a stalled probe or a cut run */
		rep->ok = !broke && !late;
		f = rep->ok ? sd_diag_add(&rep->diag, SD_CAUSE_OK, 0.95f) : NULL;
		if (f)
			sd_finding_summary(f, "a TLS server answers: %s", list);
		/* only versions today's clients refuse by default (RFC 8996) */
		const sd_tls_vresult *v12 = sd_tls_enum_result(e, SD_TLS_TLS12);
		const sd_tls_vresult *v13 = sd_tls_enum_result(e, SD_TLS_TLS13);
		if (v12->probed && v13->probed && !v12->supported && !v13->supported) {
			f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_VERSION_MISMATCH, 0.6f);
			if (f) {
				sd_finding_summary(f, "the server speaks only versions older than TLS 1.2, which current clients refuse (RFC 8996; OpenSSL 3 at security level 1 and up)");
				sd_finding_fix(f, "enable TLS 1.2 or 1.3 on the server; until then a client must allow the old version and lower its security level (OpenSSL: @SECLEVEL=0) to connect");
			}
		}
		return "tls";
	}
	/* TLS, but nothing accepted: say why from the alerts. A name the
	 * server does not know (unrecognized_name) comes first: the other
	 * versions' routine refusals (protocol_version) only follow from it. */
	unsigned pv = 0, hf = 0, un = 0;
	uint8_t other = 0;
	char unv[64] = "";
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->probed && !v->implied_by)
			continue;
		if (v->refusal_alert == TLS_ALERT_UNRECOGNIZED_NAME || v->big_alert == TLS_ALERT_UNRECOGNIZED_NAME) {
			un++;
			sdi_append(unv, sizeof unv, "%s%s", unv[0] ? ", " : "", sd_tls_version_name(v->version));
		} else if (v->refusal_alert == 70 || v->refusal == SD_TLS_HELLO)
			pv++;
		else if (v->refusal_alert == 40 || v->refusal_alert == 71)
			hf++;
		else if (v->refusal_alert)
			other = v->refusal_alert;
	}
	f = NULL;
	if (un) {
		int named = r->ec.sni && *r->ec.sni && tls_sni_is_name(r->ec.sni);
		f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_SNI_REQUIRED, 0.9f);
		if (f && named)
			sd_finding_summary(f, "the server does not know the name %s: it answers %s with the alert unrecognized_name (112)",
					   r->ec.sni, unv);
		else if (f)
			sd_finding_summary(f, "the server requires a server name (SNI), and we probed by address without one: it answers %s with the alert unrecognized_name (112)",
					   unv);
		if (f && named)
			sd_finding_fix(f, "use a name the server is configured for (nginx server_name; shakedown tls --sni NAME, openssl s_client -servername NAME)");
		if (f) {
			sd_finding_detail(f, "curl fails: curl: (35) error:0A000458:SSL routines::tlsv1 unrecognized name (after its OpenSSL version)");
			sd_finding_detail(f, "openssl s_client says: tlsv1 unrecognized name ... SSL alert number 112");
			if (pv)
				sd_finding_detail(f, "%u other version%s refused with protocol_version: a server with no name configured for the default server refuses those too",
						  pv, pv == 1 ? "" : "s");
		}
	} else if (hf) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_NO_SHARED_CIPHER, 0.8f);
		if (f)
			sd_finding_summary(f, "a TLS server answers but refuses every suite of the IANA registry we offered (handshake_failure)");
	} else if (pv) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_VERSION_MISMATCH, 0.8f);
		if (f)
			sd_finding_summary(f, "a TLS server answers but accepts none of the versions probed (protocol_version)");
	} else if (other) { /* only an alert that was sent is named */
		f = sd_diag_add(&rep->diag, SD_CAUSE_TLS_ALERT, 0.7f);
		if (f) {
			const char *an = tls_alert_name(other);
			if (an)
				sd_finding_summary(f, "a TLS server answers every hello with an alert (%s)", an);
			else
				sd_finding_summary(f, "a TLS server answers every hello with an alert (unassigned code %u)", other);
		}
	} else if (!broke && !late) {
		f = sd_diag_add(&rep->diag, SD_CAUSE_MIDDLEBOX_RESET, 0.6f);
		if (f)
			sd_finding_summary(f, "a TLS server answered, but then %s every hello without a ServerHello or an alert",
					   r->resets ? "reset" : "closed or sat on");
	}
	if (f)
		sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
	sd_diag_sort(&rep->diag);
	return "tls";
}


int sd_tls_scan_open(sd_tls_scan **out, const sd_tls_scan_cfg *cfg)
{
	if (!out || !cfg || !cfg->host || !cfg->port)
		return SD_ERR_ARG;
	*out = NULL;
	if (strlen(cfg->host) >= sizeof ((sd_tls_scan *)0)->host || strlen(cfg->port) >= sizeof ((sd_tls_scan *)0)->port)
		return SD_ERR_ARG;
	sd_tls_scan *r = calloc(1, sizeof *r);
	if (!r)
		return SD_ERR_NOMEM;
	r->cfg = *cfg;
	r->clk = cfg->clock ? cfg->clock : sd_clock_real();
	if (!r->cfg.wait_ms)
		r->cfg.wait_ms = TLS_PROBE_WAIT_MS;
	if (!r->cfg.parallel)
		r->cfg.parallel = 1;
	r->t0 = sd_now(r->clk);
	r->overall = sd_deadline_in(r->clk, cfg->budget > 0 ? cfg->budget : SD_MS(TLS_OVERALL_S * 1000u));
	sdi_fmt(r->host, sizeof r->host, "%s", cfg->host);
	sdi_fmt(r->port, sizeof r->port, "%s", cfg->port);
	r->ec = cfg->enm;
	if (!r->ec.versions)
		r->ec.versions = 0x1fu;
	lane *L0 = r->lanes[0] = calloc(1, sizeof *L0);
	if (!L0) {
		free(r);
		return SD_ERR_NOMEM;
	}
	r->nlanes = 1;
	sd_tls_enum_init(&L0->e, &r->ec);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	*out = r;
	return SD_OK;
}

int sd_tls_scan_first(sd_tls_scan *r, char *why, size_t whylen)
{
	if (!r)
		return SD_ERR_ARG;
	lane *L0 = r->lanes[0];
	int err = lane_step(r, L0, why, whylen);
	if (err < 0)
		return err;
	if (atomic_load(&r->st_failed) == 1) /* the STARTTLS dialog said it all */
		return 0;
	r->first_tx_len = (size_t)(L0->hello_len > 0 ? L0->hello_len : 0);
	memcpy(r->first_tx, L0->hello, r->first_tx_len);
	r->first_rx_len = SDI_MIN(L0->p.rx_len, sizeof r->first_rx);
	memcpy(r->first_rx, L0->rx, r->first_rx_len);
	r->go_on = err > 0 && !L0->e.stop && !(L0->e.first_answer == -2 && L0->p.rx_len == 0);
	/* a first hello cut off without a byte: big hellos are not the
	 * problem there, so no chunked retries that would only repeat it */
	if (L0->e.first_answer < 0)
		r->ec.no_chunks = L0->e.cfg.no_chunks = 1;
	if (!r->go_on)
		return 0; /* nothing left for workers */
	/* Then every version in its own lane (TLS 1.1 and older share one, see
	 * lane_bits), up to `parallel` at once. The main lane keeps the
	 * version it started with. */
	if (r->cfg.parallel > 1) {
		unsigned first_bit = lane_bits(r->ec.versions, L0->e.hello.version), taken = first_bit;
		for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
			unsigned bit = 1u << (L0->e.v[i].version - SD_TLS_SSL3);
			if (!(r->ec.versions & bit) || (bit & taken))
				continue;
			taken |= lane_bits(r->ec.versions, L0->e.v[i].version);
			if (!version_lane(r, lane_bits(r->ec.versions, L0->e.v[i].version), r->ec.seed + (uint32_t)i * 7919u))
				break;
		}
		L0->e.cfg.versions = first_bit;
		const sd_tls_vresult *v13 = sd_tls_enum_result(&L0->e, SD_TLS_TLS13);
		r->wants_crypto = v13->supported && !v13->groups_done && !r->ec.no_groups;
		/* and what the first answer lets run beside them */
		pthread_mutex_lock(&r->mu);
		r->splitting = 1;
		split(r, L0, L0->e.hello.version);
		pthread_mutex_unlock(&r->mu);
	}
	return 1;
}

size_t sd_tls_scan_workers(const sd_tls_scan *r)
{
	if (!r || !r->go_on)
		return 0;
	/* lanes may split: as many as may run at once */
	return r->cfg.parallel > 1 ? SDI_MIN((size_t)r->cfg.parallel, (size_t)TLS_MAX_LANES) : 1;
}

int sd_tls_scan_wants_crypto(const sd_tls_scan *r)
{
	return r && r->wants_crypto; /* judged before the workers start */
}

/* The lane whose next probe a free worker runs (lock held): one probe at
 * a time, so that lanes born later get a connection soon; an order probe
 * first (one probe, and its answer may split a suite search), then the
 * suite searches (the longest chains), then the groups; among equals the
 * lane that has waited longest. */
static lane *next_lane(sd_tls_scan *r)
{
	lane *best = NULL;
	int best_rank = 0;
	for (size_t k = 0; k < r->nlanes; k++) {
		lane *L = r->lanes[k];
		if (L->state != LANE_READY)
			continue;
		int rank = L->e.job == SD_TLS_JOB_ORDER ? 0 : L->e.job == SD_TLS_JOB_GROUPS ? 2 : 1;
		if (!best || rank < best_rank || (rank == best_rank && L->turn < best->turn)) {
			best = L;
			best_rank = rank;
		}
	}
	if (best)
		best->turn = ++r->turns;
	return best;
}

void sd_tls_scan_work(sd_tls_scan *r)
{
	if (!r)
		return;
	if (!r->go_on)
		return;
	pthread_mutex_lock(&r->mu);
	for (;;) {
		lane *L = next_lane(r);
		if (!L) {
			if (!r->running)
				break; /* and no lane that may still split */
			pthread_cond_wait(&r->cv, &r->mu);
			continue;
		}
		L->state = LANE_RUNNING;
		r->running++;
		pthread_mutex_unlock(&r->mu);
		char why[256];
		int more = lane_step(r, L, why, sizeof why) != 0;
		pthread_mutex_lock(&r->mu);
		L->state = more ? LANE_READY : LANE_DONE;
		r->running--;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
}

int sd_tls_scan_finish(sd_tls_scan *r)
{
	if (!r)
		return SD_ERR_ARG;
	lane *L0 = r->lanes[0];
	if (!r->folded && r->nlanes > 1) {
		/* fold the lanes' versions into the main lane's result: each
		 * version's main lane, then the jobs that split its search */
		for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
			uint16_t ver = L0->e.v[i].version;
			lane *O = owner_of(r, ver);
			if (O && O != L0)
				L0->e.v[i] = O->e.v[i];
			int gjobs = 0, gdone = 1;
			for (size_t k = 1; k < r->nlanes; k++) {
				const lane *J = r->lanes[k];
				if (J->e.job < 0 || J->version != ver)
					continue;
				sd_tls_enum_merge(&L0->e.v[i], &J->e);
				if (J->e.job == SD_TLS_JOB_GROUPS) {
					gjobs++;
					gdone &= sd_tls_enum_result(&J->e, ver)->groups_done;
				}
			}
			unsigned bit = 1u << (ver - SD_TLS_SSL3);
			if (gjobs && !(r->group_gap & bit)) /* the parts of the group search: done when all are */
				L0->e.v[i].groups_done = gdone || L0->e.v[i].groups_listed;
		}
		L0->e.cfg.versions = r->ec.versions;
	}
	r->folded = 1;
	for (size_t k = 0; k < r->nlanes; k++)
		if (r->lanes[k]->err)
			return r->lanes[k]->err;
	return SD_OK;
}

const char *sd_tls_scan_report(sd_tls_scan *r, sd_report *rep)
{
	if (!r || !rep)
		return "unknown";
	sd_tls_scan_finish(r);
	r->service = diagnose(r, rep);
	return r->service;
}

const sd_tls_cert *sd_tls_scan_cert(const sd_tls_scan *r)
{
	return r && r->has_cert ? &r->cert : NULL;
}

sd_tls_cert *sdi_tls_scan_cert_slot(sd_tls_scan *r)
{
	r->has_cert = 1;
	return &r->cert;
}

const sd_starttls_result *sd_tls_scan_starttls(const sd_tls_scan *r)
{
	return r && atomic_load(&r->st_failed) ? &r->st : NULL;
}

const sd_tls_policy_result *sd_tls_scan_policy(const sd_tls_scan *r)
{
	return r && r->has_policy ? &r->policy : NULL;
}

sd_tls_policy_result *sdi_tls_scan_policy_slot(sd_tls_scan *r)
{
	r->has_policy = 1;
	return &r->policy;
}

const char *sd_tls_scan_service(const sd_tls_scan *r)
{
	return r && r->service ? r->service : "unknown";
}

const sd_tls_enum *sd_tls_scan_enum(const sd_tls_scan *r)
{
	return r ? &r->lanes[0]->e : NULL;
}

unsigned sd_tls_scan_connections(const sd_tls_scan *r)
{
	return r ? atomic_load(&r->conns) : 0;
}

unsigned sd_tls_scan_chain(const sd_tls_scan *r)
{
	return r ? r->chain : 0;
}

int sd_tls_scan_complete(const sd_tls_scan *r)
{
	return r ? !atomic_load(&r->cut) : 0;
}

void sd_tls_scan_close(sd_tls_scan *r)
{
	if (!r)
		return;
	for (size_t k = 0; k < r->nlanes; k++)
		free(r->lanes[k]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
