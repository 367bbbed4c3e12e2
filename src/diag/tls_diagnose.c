/*
 * shakedown — the diagnosis of one TLS target (sd_tls_diagnose): the scan
 * (tls_scan.c) with its lanes in threads, then the certificate check
 * (tls_cert.c), then the report. What `shakedown tls HOST` prints; an
 * embedding program gets the same answer from this one call.
 */
#include <pthread.h>
#include <stdlib.h>
#include "internal.h"
#include "proto/tls_wire.h"

static void *crypto_prepare(void *arg)
{
	sd_tls_crypto_prepare();
	return arg;
}

static void *scan_worker(void *arg)
{
	sd_tls_scan_work(arg);
	return NULL;
}

/* The lanes in up to cfg.parallel threads (or here, one after another). */
static void run_lanes(sd_tls_scan *sc, unsigned parallel)
{
	/* TLS 1.3's second probe may read the server's group list, which takes
	 * libcrypto (~2 ms of CPU): when the first probe found TLS 1.3, load it
	 * in a thread of its own while the probes run. Only after the lanes
	 * have started: dlopen holds the loader's lock, which thread creation
	 * needs too (the lanes would start 1 ms late). */
	size_t nthreads = sd_tls_scan_workers(sc);
	pthread_t th[32], prep;
	size_t started = 0;
	int preparing = 0;
	if (nthreads && parallel > 1) {
		for (size_t i = 0; i < nthreads && i < SDI_ARRAY_LEN(th); i++)
			if (pthread_create(&th[i], NULL, scan_worker, sc) == 0)
				started++;
		preparing = started && sd_tls_scan_wants_crypto(sc) &&
			    pthread_create(&prep, NULL, crypto_prepare, NULL) == 0;
	}
	if (nthreads && started == 0)
		sd_tls_scan_work(sc);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (preparing)
		pthread_join(prep, NULL);
}

typedef struct cert_job {
	sd_tls_scan           *sc;
	const sd_tls_diag_cfg *cfg;
	pthread_t              th;
	int                    rc;
	char                   why[200];
} cert_job;

static void *cert_read(void *arg)
{
	cert_job *j = arg;
	j->rc = sdi_tls_cert_read(j->sc, j->cfg, 0, j->why, sizeof j->why);
	return NULL;
}

static int is_name(const char *s)
{
	return s && *s && !strchr(s, ':') && strspn(s, "0123456789.") != strlen(s);
}

/* The scan sent a server name; this client sends none. One hello of its
 * own (its suites and groups at the version it would get) without SNI, on
 * one connection: 1 when the server answers unrecognized_name (112), with
 * what happened in said. */
static int hello_without_sni(const sd_tls_diag_cfg *cfg, const sd_tls_client *c, const sd_tls_fit *fit,
			     char *said, size_t len)
{
	typedef struct { uint8_t hello[SD_TLS_HELLO_MAX + 16], rx[SD_TLS_RX_CAP], hs[SD_TLS_RX_CAP]; } bufs;
	int t13 = fit->version == SD_TLS_TLS13;
	uint16_t share = fit->group ? fit->group : c->ngroups ? c->groups[0] : 0;
	sd_tls_hello_cfg h = {
		.version = fit->version, .suites = t13 ? c->suites13 : c->suites,
		.nsuites = t13 ? c->nsuites13 : c->nsuites, .groups = c->ngroups ? c->groups : NULL,
		.ngroups = c->ngroups, .shares = t13 && share ? &share : NULL, .nshares = t13 && share ? 1 : 0,
		.sigalgs = c->nsigalgs ? c->sigalgs : NULL, .nsigalgs = c->nsigalgs, .seed = cfg->scan.enm.seed,
	};
	bufs *b = malloc(sizeof *b);
	if (!b)
		return 0;
	int n = sd_tls_hello_build(&h, b->hello, SD_TLS_HELLO_MAX);
	int got = 0;
	const sd_clock *clk = cfg->scan.clock ? cfg->scan.clock : sd_clock_real();
	uint32_t wait = cfg->scan.wait_ms ? cfg->scan.wait_ms : TLS_PROBE_WAIT_MS;
	sd_link *l = NULL;
	char why[160] = "";
	if (n <= 0 || sd_link_open_tcp(cfg->scan.host, cfg->scan.port, clk, sd_deadline_in(clk, SD_MS(TLS_CONNECT_MS)),
				       &l, why, sizeof why) < 0)
		goto out;
	sd_starttls_result st;
	sd_starttls_cfg stc = { .proto = cfg->scan.starttls, .domain = cfg->scan.enm.sni };
	if (cfg->scan.starttls && sd_starttls_run_cfg(l, &stc, sd_deadline_in(clk, SD_MS(wait)), &st) < 0)
		goto out;
	sd_tls_probe p;
	sd_tls_probe_init(&p, b->hello, (size_t)n, 0, SD_MS(wait), b->rx, sizeof b->rx, b->hs, sizeof b->hs);
	int rrc = sd_run(&p.base, l, sd_deadline_in(clk, SD_MS(wait) + SD_MS(100)));
	sd_tls_probe_finish(&p, rrc, clk);
	char what[48];
	const char *an = tls_alert_name(p.srv.alert_desc);
	if (p.srv.answer == SD_TLS_ALERT)
		sdi_fmt(what, sizeof what, "alert %s (%u)", an ? an : "unassigned", p.srv.alert_desc);
	else
		sdi_fmt(what, sizeof what, "%s", p.srv.answer == SD_TLS_HELLO || p.srv.answer == SD_TLS_HRR ? "a ServerHello"
					  : p.closed ? "the connection closed" : "no answer");
	sdi_fmt(said, len, "%s's own %s hello (%zu suites) without SNI got %s, in %u ms", c->name,
		sd_tls_version_name(fit->version), h.nsuites, what, sd_tls_probe_ms(&p));
	got = p.srv.answer == SD_TLS_ALERT && p.srv.alert_desc == TLS_ALERT_UNRECOGNIZED_NAME;
out:
	if (l)
		sd_link_close(l);
	free(b);
	return got;
}

/* Would cfg.client get through? The verdict as a fact; when not, a
 * finding of the mismatch, or a line of the finding that tells it already
 * (a certificate refusal is told by the cert- findings). Also when the
 * enumeration found nothing accepted: the fit names the mismatch from the
 * refusals (tls_client.c). */
static void client_fit(sd_tls_scan *sc, const sd_tls_diag_cfg *cfg, const sd_tls_client *c, sd_report *rep)
{
	/* a server that broke the protocol, stalled, or a run cut short: what
	 * it accepts is not known well enough to judge a client */
	const sd_tls_enum *e = sd_tls_scan_enum(sc);
	int any = 0;
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
		any |= e->v[i].supported;
	if (!sd_tls_scan_complete(sc) || sd_diag_find(&rep->diag, SD_CAUSE_TLS_PROTOCOL_VIOLATION) ||
	    sd_diag_find(&rep->diag, SD_CAUSE_TLS_TIMEOUT))
		return;
	sd_tls_fit fit;
	int sni_required = sd_diag_find(&rep->diag, SD_CAUSE_TLS_SNI_REQUIRED) != NULL;
	int ok = sd_tls_client_fit(c, e, sd_tls_scan_cert(sc), sni_required, &fit);
	/* probed with a name, judged for a client that sends none: whether the
	 * server needs one is not in the enumeration; one hello tells */
	char probe[200] = "";
	if (any && !sni_required && !c->sni && is_name(e->cfg.sni) && fit.version &&
	    hello_without_sni(cfg, c, &fit, probe, sizeof probe))
		ok = sd_tls_client_fit(c, e, sd_tls_scan_cert(sc), 1, &fit);
	if (probe[0])
		sd_report_fact(rep, "client_sni_probe", "%s", probe);
	if (ok) {
		const sd_tls_suite *su = sd_tls_suite_find(fit.suite);
		const char *gn = fit.group ? sd_tls_group_name(fit.group) : NULL;
		sd_report_fact(rep, "client", "%s: gets through with %s, %s%s%s", c->name, sd_tls_version_name(fit.version),
			       su ? su->iana : "?", gn ? ", " : "", gn ? gn : "");
		if (fit.cert[0]) {
			sd_report_fact(rep, "client_cert_fit", "%s %s", c->name, fit.cert);
			/* a certificate below the level of the check that this client takes */
			sd_finding *w = sd_diag_find(&rep->diag, SD_CAUSE_CERT_WEAK);
			if (w)
				sd_finding_detail(w, "client %s gets through: it %s", c->name, fit.cert);
		}
		return;
	}
	sd_report_fact(rep, "client", "%s: fails: %s", c->name, fit.why);
	if (fit.cert[0])
		sd_report_fact(rep, "client_cert_fit", "%s %s", c->name, fit.cert);
	rep->ok = 0;
	sd_diag_drop(&rep->diag, SD_CAUSE_OK);
	if (fit.cause == SD_CAUSE_CERT_UNTRUSTED || fit.cause == SD_CAUSE_TLS_CLIENT_CERT_REQUIRED)
		return; /* told by the certificate findings already there */
	/* a certificate refusal, an SNI refusal, or nothing accepted at all:
	 * a finding of that cause may be there already (the scan's, or the
	 * certificate's), and the client's verdict is one more line of it
	 * (its quotes are there already); a mismatch between what the server
	 * accepts and what this client offers is a finding of its own */
	sd_finding *told = !any || fit.cause == SD_CAUSE_CERT_WEAK || fit.cause == SD_CAUSE_TLS_SNI_REQUIRED
				   ? sd_diag_find(&rep->diag, (sd_cause)fit.cause) : NULL;
	if (told) {
		if (fit.cause == SD_CAUSE_CERT_WEAK)
			sd_finding_detail(told, "client %s %s", c->name, fit.cert);
		else
			sd_finding_detail(told, "the judged client, %s, fails on this (info.client)", c->name);
		return;
	}
	/* nothing accepted and no refusal that names a mismatch: the
	 * findings of the scan and the variants say what is known */
	if (!any && fit.cause != SD_CAUSE_TLS_SNI_REQUIRED && fit.cause != SD_CAUSE_TLS_NO_SHARED_CIPHER &&
	    fit.cause != SD_CAUSE_TLS_VERSION_MISMATCH)
		return;
	sd_finding *f = sd_diag_add(&rep->diag, (sd_cause)fit.cause, 0.93f);
	if (!f)
		return;
	sd_finding_summary(f, "client %s: %s", c->name, fit.why);
	sd_finding_fix(f, "%s", fit.fix);
	if (probe[0])
		sd_finding_detail(f, "%s", probe);
	if (fit.client_says[0])
		sd_finding_detail(f, "%s says: %s", c->name, fit.client_says);
	/* the source in full is in the profile (docs/tls-clients.md); a detail holds
	 * SD_DETAIL_MAX bytes in all */
	if (strlen(c->source) > 240)
		sd_finding_detail(f, "profile %s: %.200s ... (docs/tls-clients.md)", c->name, c->source);
	else
		sd_finding_detail(f, "profile %s: %s", c->name, c->source);
	if (fit.cert[0])
		sd_finding_detail(f, "client %s %s", c->name, fit.cert);
	sd_diag_sort(&rep->diag);
}

int sd_tls_diagnose(const sd_tls_diag_cfg *cfg, sd_report *rep, sd_tls_scan **out, char *why, size_t whylen)
{
	if (!cfg || !rep || !out)
		return SD_ERR_ARG;
	*out = NULL;
	if (why && whylen)
		why[0] = '\0';
	sd_tls_scan *sc = NULL;
	int err = sd_tls_scan_open(&sc, &cfg->scan);
	if (err < 0)
		return err;
	*out = sc;
	/* The first connection alone: it says what answers the port. */
	err = sd_tls_scan_first(sc, why, whylen);
	if (err < 0)
		return err;
	/* The certificate: one full handshake at the highest version both
	 * speak (OpenSSL negotiates it), in a thread of its own beside the
	 * lanes when connections may run in parallel (it would otherwise add
	 * its round trips to the run); after them when not. */
	cert_job cj = { .sc = sc, .cfg = cfg };
	int cert_thread = err == 1 && !cfg->no_cert && cfg->scan.parallel > 1 && !cfg->scan.tap &&
			  pthread_create(&cj.th, NULL, cert_read, &cj) == 0;
	run_lanes(sc, cfg->scan.parallel);
	if (cert_thread)
		pthread_join(cj.th, NULL);
	err = sd_tls_scan_finish(sc);
	if (err < 0) {
		if (why && whylen)
			sdi_fmt(why, whylen, "building a hello failed: %s", sd_strerror(err));
		return SD_ERR_PROTO;
	}
	const char *service = sd_tls_scan_report(sc, rep);
	if (cfg->scan.starttls)
		sd_report_fact(rep, "starttls", "%s", sd_starttls_name(cfg->scan.starttls));
	int advised = sdi_starttls_advise(rep, cfg->scan.starttls, cfg->scan.port, service, sd_tls_scan_starttls(sc));
	sdi_fmt(rep->by.protocol, sizeof rep->by.protocol, "%s", strcmp(service, "tls") == 0 ? "tls" : "");
	sdi_fmt(rep->by.mode, sizeof rep->by.mode, "%s", service);
	if (strcmp(service, "tls") == 0 && !cfg->no_cert) {
		if (!cert_thread && sdi_tls_best_version(sc))
			cj.rc = sdi_tls_cert_read(sc, cfg, sdi_tls_best_version(sc), cj.why, sizeof cj.why);
		sdi_tls_cert_findings(sc, cj.rc, cj.why, rep);
	}
	/* resets, silence, a size limit, or nothing but refusals: the same
	 * small hello and its variants tell what a box on the path keys on */
	const sd_tls_enum *e = sd_tls_scan_enum(sc);
	int any = 0;
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
		any |= e->v[i].supported;
	int odd = strcmp(service, "reset") == 0 || strcmp(service, "closed") == 0 ||
		  (strcmp(service, "silent") == 0 && !sd_tls_scan_starttls(sc)) ||
		  sd_diag_find(&rep->diag, SD_CAUSE_MIDDLEBOX_SIZE) || sd_diag_find(&rep->diag, SD_CAUSE_MIDDLEBOX_RESET) ||
		  (strcmp(service, "tls") == 0 && !any && !sd_diag_find(&rep->diag, SD_CAUSE_TLS_SNI_REQUIRED) &&
		   !sd_diag_find(&rep->diag, SD_CAUSE_TLS_PROTOCOL_VIOLATION));
	/* a server that drips its answer or breaks the rules is the server,
	 * and a run already cut short has no time left */
	if (sd_diag_find(&rep->diag, SD_CAUSE_TLS_TIMEOUT) || sd_diag_find(&rep->diag, SD_CAUSE_TLS_PROTOCOL_VIOLATION))
		odd = 0;
	if (odd && !cfg->no_variants && !(advised && !cfg->scan.starttls)) {
		sd_tls_variant v[SD_TLS_VARIANTS_MAX];
		sd_tls_variants_cfg vc = {
			.host = cfg->scan.host, .port = cfg->scan.port, .sni = cfg->scan.enm.sni,
			.wait_ms = cfg->scan.wait_ms, .clock = cfg->scan.clock, .starttls = cfg->scan.starttls,
			.seed = cfg->scan.enm.seed,
		};
		size_t nv = sd_tls_variants_run(&vc, v, SD_TLS_VARIANTS_MAX);
		sd_tls_variants_report(v, nv, rep);
	}
	if (strcmp(service, "tls") == 0 && cfg->client)
		client_fit(sc, cfg, cfg->client, rep);
	if (strcmp(service, "tls") == 0 && cfg->expect) {
		sd_tls_policy_result *pr = sdi_tls_scan_policy_slot(sc);
		sd_tls_policy_check(cfg->expect, sd_tls_scan_enum(sc), sd_tls_scan_cert(sc), pr);
		sd_tls_policy_report(pr, rep);
	}
	return SD_OK;
}
