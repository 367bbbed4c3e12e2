/*
 * shakedown tls HOST[:PORT] — what answers on the port, and which versions,
 * suites (with the server's order) and groups it accepts, in the fewest
 * handshakes. The library's enumerator (sd_tls_enum) says which hello to
 * send; this file opens one TCP connection per hello, runs the probe
 * engine over it, and prints.
 */
#include <getopt.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"
#include "proto/tls_wire.h" /* alert names, timeouts: facts only */

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define SDI_MAXT(a, b) ((a) > (b) ? (a) : (b))

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	if (n + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

const char cmd_tls_usage[] =
	"usage: shakedown tls [options] HOST[:PORT]\n"
	"       shakedown tls [options] --targets FILE   (or - for stdin)\n"
	"\n"
	"Names what answers on the port (TLS, or a plaintext service such as HTTP,\n"
	"SMTP, SSH, IMAP, POP3, Redis, MySQL, PostgreSQL; a reset or silence), then\n"
	"lists the TLS versions, cipher suites (IANA and OpenSSL names, in the\n"
	"server's order when it has one) and groups it accepts, with raw\n"
	"ClientHellos: N + V connections for N suites over V versions (fewer when\n"
	"TLS 1.1 is refused: that rules out 1.0 and SSLv3), one more per\n"
	"version for the order; the groups come with those answers, plus about one\n"
	"connection per group beyond them (TLS 1.3: none when the server lists its\n"
	"groups in its EncryptedExtensions, as OpenSSL does). No handshake is ever\n"
	"finished.\n"
	"\n"
	"PORT defaults to 443. IPv6: [::1]:443.\n"
	"\n"
	"options:\n"
	"  --sni NAME        server name to send (default: HOST unless an IP address)\n"
	"  --alpn LIST       ALPN protocols to offer, e.g. h2,http/1.1 (default none)\n"
	"  --pad BYTES       pad every ClientHello record to BYTES (size tests; default:\n"
	"                    only hellos of 256-511 bytes are padded, RFC 7685)\n"
	"  --versions LIST   versions to probe, e.g. 1.2,1.3 (ssl3,1.0,1.1,1.2,1.3; default all)\n"
	"  --no-groups       skip the group passes\n"
	"  --no-order        skip the order probes\n"
	"  --wait MS         the time one probe (one hello, its answer) may take, from\n"
	"                    the hello on; bytes that trickle in do not extend it\n"
	"                    (default 3000)\n"
	"  --delay MS        pause between two connections of one target (default 0)\n"
	"  --rate N          at most N connections per second per target (sets --delay)\n"
	"  --targets FILE    one HOST[:PORT] a line (- = stdin); one JSON report a line out,\n"
	"                    in the order they finish\n"
	"  --jobs N          --targets: targets probed at once (default 16, at most 64)\n"
	"  --per-host N      connections at once to one host (default 4): one target's\n"
	"                    versions are probed in parallel up to N; with --targets,\n"
	"                    each target probes one version at a time and at most N\n"
	"                    targets on the same host run at once\n"
	"  global: --json --trace FILE (every connection's bytes; versions then run\n"
	"          one at a time) --timeout SECS (the whole run of one target;\n"
	"          default 60: a run it cuts short is reported incomplete, exit 1) -v\n"
	"\n"
	"exit: 0 a TLS server answered, accepted at least one version and kept to\n"
	"      the protocol, 1 it did not, broke the record layer, stalled or the run\n"
	"      was cut short (diagnosis printed), 2 usage, 3 cannot connect or read\n"
	"      --targets\n";

#define TLS_FIRST_KEEP 4096u

typedef struct tls_opts {
	const char *sni;
	const char *alpn;
	uint32_t    pad_to;
	unsigned    versions;
	int         no_groups, no_order;
	uint32_t    wait_ms, delay_ms;
	uint32_t    jobs, per_host;  /* --targets: concurrent targets, in total and per host */
	uint32_t    parallel;        /* versions probed at once for one target */
} tls_opts;

/* One enumeration lane: an enumerator and its buffers. Versions are probed
 * in parallel lanes (at most --per-host at once), one connection per lane
 * at a time. */
typedef struct lane {
	sd_tls_enum  e;
	uint8_t      hello[SD_TLS_HELLO_MAX];
	uint8_t      rx[SD_TLS_RX_CAP];
	uint8_t      hs[SD_TLS_RX_CAP];
	sd_tls_probe p;
	int          hello_len;
	int          err;        /* a hello that could not be built (our bug) */
} lane;

typedef struct tls_run {
	lane            *lanes[SD_TLS_NVERSIONS]; /* [0] is the main lane */
	size_t           nlanes, next_lane;
	pthread_mutex_t  mu;     /* next_lane, pacing, counters */
	sd_time          next_at; /* --delay: the next connection not before */
	uint8_t          first_tx[SD_TLS_HELLO_MAX];
	size_t           first_tx_len;
	uint8_t          first_rx[TLS_FIRST_KEEP];
	size_t           first_rx_len;
	unsigned         conns;
	unsigned         resets;
	int              cut;     /* the overall deadline ended the run before the enumeration did */
	sd_time          t0;      /* the run's start: -v prints each probe's span from it */
	sd_deadline      overall;
	const tls_opts  *o;
	sd_cli          *cli;
	cli_trace       *trace;   /* --trace: every connection's bytes (lanes run one at a time then) */
	char             host[256], port[16], target[300];
} tls_run;

/* HOST[:PORT], [V6]:PORT or a bare IPv6 address. */
static int split_target(const char *s, char *host, size_t hl, char *port, size_t pl)
{
	const char *colon = NULL;
	size_t n;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -1;
		n = (size_t)(end - s - 1);
		if (n == 0 || n >= hl)
			return -1;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		snprintf(port, pl, "%s", end[1] ? end + 2 : "443");
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* bare IPv6 */
		n = colon ? (size_t)(colon - s) : strlen(s);
		if (n == 0 || n >= hl)
			return -1;
		memcpy(host, s, n);
		host[n] = '\0';
		snprintf(port, pl, "%s", colon ? colon + 1 : "443");
	}
	uint32_t p;
	if (sd_parse_u32(port, 1, 65535, &p) != SD_OK)
		return -1;
	return 0;
}

static int parse_versions(const char *s, unsigned *mask)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "ssl3", 0 }, { "sslv3", 0 }, { "1.0", 1 }, { "1.1", 2 }, { "1.2", 3 }, { "1.3", 4 },
		{ "tls1.0", 1 }, { "tls1.1", 2 }, { "tls1.2", 3 }, { "tls1.3", 4 },
	};
	char buf[128];
	*mask = 0;
	snprintf(buf, sizeof buf, "%s", s);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		size_t i;
		for (i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strcasecmp(tok, names[i].name) == 0)
				break;
		if (i == sizeof names / sizeof names[0])
			return -1;
		*mask |= 1u << names[i].bit;
	}
	return *mask ? 0 : -1;
}

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

/* One probe of a lane: the enumerator's next hello over a new connection.
 * Returns 1 when a probe ran, 0 when the lane is finished, or the open
 * error of the connection (why filled in). */
static int lane_step(tls_run *r, lane *L, char *why, size_t whylen)
{
	const sd_clock *clk = sd_clock_real();
	if (sd_deadline_passed(clk, r->overall)) {
		if (more_to_do(L)) {
			pthread_mutex_lock(&r->mu);
			r->cut = 1;
			pthread_mutex_unlock(&r->mu);
		}
		return 0;
	}
	if (!sd_tls_enum_next(&L->e))
		return 0;
	L->hello_len = sd_tls_hello_build(&L->e.hello, L->hello, sizeof L->hello);
	if (L->hello_len < 0) {
		L->err = L->hello_len;
		return 0;
	}
	if (r->o->delay_ms) { /* pace all lanes together */
		pthread_mutex_lock(&r->mu);
		sd_time t = SDI_MAXT(sd_now(clk), r->next_at);
		r->next_at = t + SD_MS(r->o->delay_ms);
		pthread_mutex_unlock(&r->mu);
		clk->sleep_until(clk, t);
	}
	sd_time began = sd_now(clk);
	sd_link *link = NULL;
	sd_deadline dl = sd_deadline_min(sd_deadline_in(clk, SD_MS(TLS_CONNECT_MS)), r->overall);
	int err = sd_link_open_tcp(r->host, r->port, clk, dl, &link, why, whylen);
	sd_tls_probe *p = &L->p;
	sd_tls_probe_init(p, L->hello, (size_t)L->hello_len, L->e.want_flight, SD_MS(r->o->wait_ms),
			  L->rx, sizeof L->rx, L->hs, sizeof L->hs);
	if (err < 0) {
		p->closed = 1; /* a refused connection mid-run counts as a closed probe */
		p->link_err = err;
	} else {
		pthread_mutex_lock(&r->mu);
		r->conns++;
		pthread_mutex_unlock(&r->mu);
		if (r->trace)
			sd_link_tap(link, &r->trace->t, r->target);
		int rrc = sd_run(&p->base, link, r->overall);
		sd_tls_probe_finish(p, rrc, clk);
		pthread_mutex_lock(&r->mu);
		if (p->closed && strstr(link->why, "reset"))
			r->resets++;
		pthread_mutex_unlock(&r->mu);
		sd_link_close(link);
	}
	sd_tls_enum_feed(&L->e, p);
	if (p->cut && more_to_do(L)) {
		pthread_mutex_lock(&r->mu);
		r->cut = 1;
		pthread_mutex_unlock(&r->mu);
	}
	if (r->cli->verbose)
		fprintf(r->cli->err, "probe: %s answer %d suite 0x%04x group 0x%04x%s%s (%.2f..%.2f ms)\n",
			sd_tls_version_name(L->e.hello.version), p->srv.answer, p->srv.suite, p->srv.group,
			p->closed ? " closed" : "", p->timed_out ? " timeout" : "",
			(double)(began - r->t0) / 1000.0, (double)(sd_now(clk) - r->t0) / 1000.0);
	return err < 0 ? err : 1;
}

/* A pool thread: runs lanes to their end, taking the next one not started. */
static void *lane_worker(void *arg)
{
	tls_run *r = arg;
	for (;;) {
		pthread_mutex_lock(&r->mu);
		size_t i = r->next_lane < r->nlanes ? r->next_lane++ : r->nlanes;
		pthread_mutex_unlock(&r->mu);
		if (i >= r->nlanes)
			return NULL;
		char why[256];
		while (lane_step(r, r->lanes[i], why, sizeof why) != 0)
			;
	}
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

static const char *order_name(int order)
{
	return order == SD_TLS_ORDER_SERVER ? "server" : order == SD_TLS_ORDER_CLIENT ? "client" : NULL;
}

/* Which deadline ended something: the run's (--timeout, or its default)
 * or one probe's (--wait). */
static const char *deadline_name(const sd_cli *cli, int cut)
{
	if (!cut)
		return "--wait";
	return cli->timeout_s > 0 ? "--timeout" : "the default overall deadline (--timeout 60)";
}
_Static_assert(TLS_OVERALL_S == 60, "deadline_name() and the usage text name the default");

/* Record-layer and handshake rules the server broke, one finding with a
 * detail line per version. Returns 1 when there was any. */
static int add_violations(tls_run *r, sd_report *rep)
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
static int add_timeouts(tls_run *r, sd_report *rep, sd_cli *cli, sd_time t0)
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
					   deadline_name(cli, v->stall_cut), v->stall_ms);
			sd_finding_fix(f, "a server (or a box on the way) that drips or stalls its handshake: check its load and what sits in front of it");
			sd_finding_evidence(f, r->first_tx, r->first_tx_len, r->first_rx, r->first_rx_len);
		}
	}
	if (r->cut) {
		sd_finding *g = sd_diag_add(&rep->diag, SD_CAUSE_TLS_TIMEOUT, 0.8f);
		if (g && g != f)
			sd_finding_summary(g, "%s ended the run after %u ms, before the enumeration was done: what is listed is incomplete",
					   deadline_name(cli, 1), (unsigned)((sd_now(sd_clock_real()) - t0) / 1000));
		else if (g)
			sd_finding_detail(g, "%s ended the run before the enumeration was done: what is listed is incomplete",
					  deadline_name(cli, 1));
		if (g && !f)
			sd_finding_fix(g, "give it more time (--timeout SECS), or fewer versions (--versions), --no-groups, --no-order");
		f = g ? g : f;
	}
	return f != NULL;
}

/* The findings: what answered, and if TLS, what it accepts or why nothing. */
static const char *diagnose(tls_run *r, sd_report *rep)
{
	const sd_tls_enum *e = &r->lanes[0]->e;
	sd_finding *f;
	int fa = e->first_answer;
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
					   e->first_ms, deadline_name(r->cli, e->first_cut));
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
			append(list, sizeof list, "%s%s (%zu suite%s)", list[0] ? ", " : "",
				       sd_tls_version_name(v->version), v->nsuites, v->nsuites == 1 ? "" : "s");
		}
	}
	int tls_seen = fa == SD_TLS_HELLO || fa == SD_TLS_HRR || fa == SD_TLS_ALERT || fa == SD_TLS_MALFORMED || any;
	int broke = add_violations(r, rep);
	int late = add_timeouts(r, rep, r->cli, r->t0);
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
	/* TLS, but nothing accepted: say why from the alerts. */
	unsigned pv = 0, hf = 0;
	uint8_t other = 0;
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &e->v[i];
		if (!v->probed && !v->implied_by)
			continue;
		if (v->refusal_alert == 70 || v->refusal == SD_TLS_HELLO)
			pv++;
		else if (v->refusal_alert == 40 || v->refusal_alert == 71)
			hf++;
		else if (v->refusal_alert)
			other = v->refusal_alert;
	}
	f = NULL;
	if (hf) {
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

static cJSON *extra_json(const tls_run *r, const char *service)
{
	cJSON *x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "service", service);
	cJSON *vs = cJSON_AddObjectToObject(x, "versions");
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &r->lanes[0]->e.v[i];
		if (!v->supported)
			continue;
		cJSON *o = cJSON_AddObjectToObject(vs, sd_tls_version_name(v->version));
		cJSON *s = cJSON_AddArrayToObject(o, "suites");
		for (size_t k = 0; k < v->nsuites; k++) {
			char hex[8];
			snprintf(hex, sizeof hex, "0x%04X", v->suites[k]);
			cJSON_AddItemToArray(s, cJSON_CreateString(hex));
		}
		const char *on = order_name(v->order);
		if (on)
			cJSON_AddStringToObject(o, "order", on);
		else
			cJSON_AddNullToObject(o, "order");
		cJSON_AddStringToObject(o, "groups_from", v->groups_listed ? "server-list" : "probes");
		cJSON *g = cJSON_AddArrayToObject(o, "groups");
		for (size_t k = 0; k < v->ngroups; k++) {
			const char *gn = sd_tls_group_name(v->groups[k]);
			char hex[8];
			snprintf(hex, sizeof hex, "0x%04X", v->groups[k]);
			cJSON_AddItemToArray(g, cJSON_CreateString(gn ? gn : hex));
		}
	}
	/* versions whose answers broke the protocol: the rule, in words */
	cJSON *broken = cJSON_AddObjectToObject(x, "violations");
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &r->lanes[0]->e.v[i];
		if (v->violations)
			cJSON_AddStringToObject(broken, sd_tls_version_name(v->version), v->violation);
	}
	cJSON_AddBoolToObject(x, "complete", !r->cut);
	cJSON_AddNumberToObject(x, "connections", r->conns);
	return x;
}

static void print_table(sd_cli *cli, const tls_run *r, const char *service)
{
	FILE *f = cli->out;
	fprintf(f, "service: %s   connections: %u\n", service, r->conns);
	for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
		const sd_tls_vresult *v = &r->lanes[0]->e.v[i];
		if (!v->probed && !v->implied_by)
			continue;
		if (v->implied_by) {
			fprintf(f, "%-8s not offered (%s was refused with protocol_version)\n",
				sd_tls_version_name(v->version), sd_tls_version_name(v->implied_by));
			continue;
		}
		if (v->violations && !v->supported) {
			fprintf(f, "%-8s unknown: the server broke the protocol (see below)\n", sd_tls_version_name(v->version));
			continue;
		}
		if (v->stall_bytes && !v->supported) {
			fprintf(f, "%-8s unknown: no complete answer in time (see below)\n", sd_tls_version_name(v->version));
			continue;
		}
		if (!v->supported) {
			fprintf(f, "%-8s not offered\n", sd_tls_version_name(v->version));
			continue;
		}
		const char *on = order_name(v->order);
		fprintf(f, "%s%-8s%s %zu suite%s, order: %s\n", cli_c(cli, "1"), sd_tls_version_name(v->version),
			cli_c0(cli), v->nsuites, v->nsuites == 1 ? "" : "s",
			on ? on : "n/a (one suite)");
		for (size_t k = 0; k < v->nsuites; k++) {
			const sd_tls_suite *s = sd_tls_suite_find(v->suites[k]);
			fprintf(f, "  0x%04X  %-45s %s\n", v->suites[k], s ? s->iana : "(unassigned)",
				s && s->openssl ? s->openssl : "-");
		}
		if (v->ngroups) {
			fprintf(f, "  groups%s:", v->groups_listed ? " (the server's list, in its order)" : "");
			for (size_t k = 0; k < v->ngroups; k++) {
				const char *gn = sd_tls_group_name(v->groups[k]);
				if (gn)
					fprintf(f, " %s", gn);
				else
					fprintf(f, " 0x%04X", v->groups[k]);
			}
			fputc('\n', f);
		}
	}
}

static void *crypto_prepare(void *arg)
{
	sd_tls_crypto_prepare();
	return arg;
}

/* Probe one target; prints its report. Returns the exit code. */
#define TLS_TRACE_CAP (8u * 1024u * 1024u)

static int tls_one(sd_cli *cli, const char *target, const tls_opts *opts)
{
	const sd_clock *clk = sd_clock_real();
	sd_time t0 = sd_now(clk);
	int rc = SD_EXIT_OK;
	tls_opts oo = *opts;
	const tls_opts *o = &oo;
	cli_trace tr;
	int tracing = 0;
	tls_run *r = calloc(1, sizeof *r);
	if (!r)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	pthread_mutex_init(&r->mu, NULL);
	if (cli->trace) { /* one transcript, written in order: one lane at a time */
		oo.parallel = 1;
		rc = cli_trace_open(cli, &tr, clk, target, TLS_TRACE_CAP);
		if (rc) {
			pthread_mutex_destroy(&r->mu);
			free(r);
			return rc;
		}
		tracing = 1;
		r->trace = &tr;
		sd_trace_run run = { .command = "tls", .protocol = "tls", .link = "tcp",
				     .caps = SD_LINK_BYTES | SD_LINK_NET };
		cli_trace_run(&tr, &run);
	}
	r->o = o;
	r->cli = cli;
	r->t0 = t0;
	r->overall = sd_deadline_in(clk, cli->timeout_s > 0 ? (sd_time)(cli->timeout_s * 1e6) : SD_MS(TLS_OVERALL_S * 1000u));
	if (split_target(target, r->host, sizeof r->host, r->port, sizeof r->port) < 0) {
		rc = cli_usage_error(cli, "'%s' is not HOST[:PORT] (port 1-65535)", target);
		goto out;
	}
	snprintf(r->target, sizeof r->target, "%s", target);
	sd_tls_enum_cfg ec = {
		.sni = o->sni ? o->sni : r->host, .versions = o->versions ? o->versions : 0x1fu,
		.no_groups = o->no_groups, .no_order = o->no_order, .seed = (uint32_t)t0,
		.alpn = o->alpn, .pad_to = o->pad_to,
	};
	lane *L0 = r->lanes[0] = calloc(1, sizeof *L0);
	if (!L0) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	r->nlanes = 1;
	sd_tls_enum_init(&L0->e, &ec);

	/* The first connection alone: it says what answers the port. */
	char why[256] = "";
	int err = lane_step(r, L0, why, sizeof why);
	if (err < 0) {
		rc = cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);
		goto out;
	}
	r->first_tx_len = (size_t)(L0->hello_len > 0 ? L0->hello_len : 0);
	memcpy(r->first_tx, L0->hello, r->first_tx_len);
	r->first_rx_len = MIN(L0->p.rx_len, sizeof r->first_rx);
	memcpy(r->first_rx, L0->rx, r->first_rx_len);
	int go_on = err > 0 && !L0->e.stop && !(L0->e.first_answer == -2 && L0->p.rx_len == 0);
	/* a first hello cut off without a byte: big hellos are not the
	 * problem there, so no chunked retries that would only repeat it */
	if (L0->e.first_answer < 0)
		ec.no_chunks = L0->e.cfg.no_chunks = 1;

	/* Then every version in its own lane (TLS 1.1 and older share one, see
	 * lane_bits), up to `parallel` at once. The main lane keeps the
	 * version it started with. */
	unsigned first_bit = lane_bits(ec.versions, L0->e.hello.version), taken = first_bit;
	pthread_t prep;
	int preparing = 0;
	if (go_on && o->parallel > 1) {
		for (size_t i = 0; i < SD_TLS_NVERSIONS; i++) {
			unsigned bit = 1u << (L0->e.v[i].version - SD_TLS_SSL3);
			if (!(ec.versions & bit) || (bit & taken))
				continue;
			taken |= lane_bits(ec.versions, L0->e.v[i].version);
			lane *L = calloc(1, sizeof *L);
			if (!L)
				break;
			sd_tls_enum_cfg one = ec;
			one.versions = lane_bits(ec.versions, L0->e.v[i].version);
			one.seed = ec.seed + (uint32_t)i * 7919u;
			sd_tls_enum_init(&L->e, &one);
			r->lanes[r->nlanes++] = L;
		}
		L0->e.cfg.versions = first_bit;
		size_t nthreads = MIN((size_t)o->parallel, r->nlanes);
		pthread_t th[SD_TLS_NVERSIONS];
		size_t started = 0;
		for (size_t i = 0; i < nthreads; i++)
			if (pthread_create(&th[i], NULL, lane_worker, r) == 0)
				started++;
		/* TLS 1.3's second probe may read the server's group list, which
		 * takes libcrypto (~2 ms of CPU): when the first probe found TLS
		 * 1.3, load it in a thread of its own while the probes run. Only
		 * now: dlopen holds the loader's lock, which thread creation
		 * needs too (the lanes would start 1 ms late). */
		const sd_tls_vresult *v13 = sd_tls_enum_result(&L0->e, SD_TLS_TLS13);
		preparing = started && v13->supported && !v13->groups_done && !o->no_groups &&
			    pthread_create(&prep, NULL, crypto_prepare, NULL) == 0;
		if (started == 0)
			lane_worker(r);
		for (size_t i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		/* fold the lanes' versions into the main lane's result */
		for (size_t k = 1; k < r->nlanes; k++)
			for (size_t i = 0; i < SD_TLS_NVERSIONS; i++)
				if (r->lanes[k]->e.cfg.versions & (1u << (r->lanes[k]->e.v[i].version - SD_TLS_SSL3)))
					L0->e.v[i] = r->lanes[k]->e.v[i];
		L0->e.cfg.versions = ec.versions;
	} else if (go_on) {
		while (lane_step(r, L0, why, sizeof why) != 0)
			;
	}
	if (preparing)
		pthread_join(prep, NULL);
	for (size_t k = 0; k < r->nlanes; k++)
		if (r->lanes[k]->err) {
			rc = cli_error(cli, SD_EXIT_INTERNAL, "building a hello failed: %s", sd_strerror(r->lanes[k]->err));
			goto out;
		}

	sd_report rep;
	sd_report_init(&rep, cli->cmd, target);
	const char *service = diagnose(r, &rep);
	snprintf(rep.by.protocol, sizeof rep.by.protocol, "%s", strcmp(service, "tls") == 0 ? "tls" : "");
	snprintf(rep.by.mode, sizeof rep.by.mode, "%s", service);
	rep.elapsed_ms = (sd_now(clk) - t0) / 1000;
	if (!cli->json && strcmp(service, "tls") == 0)
		print_table(cli, r, service);
	else if (!cli->json)
		fprintf(cli->out, "service: %s   connections: %u\n", service, r->conns);
	rc = cli_print_report(cli, &rep, extra_json(r, service));
	if (tracing)
		cli_trace_outcome(&tr, &rep);
out:
	if (tracing) {
		int trc = cli_trace_close(cli, &tr);
		if (trc && rc == SD_EXIT_OK)
			rc = trc;
	}
	for (size_t k = 0; k < r->nlanes; k++)
		free(r->lanes[k]);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return rc;
}

/* --targets: one target a line; each runs in a child process with its
 * output on a pipe, so reports come out as whole JSON lines, in the order
 * they finish. At most `jobs` targets run at once, and at most `per_host`
 * of them against the same host (each target uses one connection at a time). */
typedef struct job {
	pid_t  pid;
	int    fd;
	size_t target;
	char  *out;
	size_t len, cap;
} job;

static int host_running(const job *jobs, size_t njobs, char **targets, const char *host)
{
	int n = 0;
	for (size_t i = 0; i < njobs; i++) {
		char h[256], p[16];
		if (jobs[i].pid > 0 && split_target(targets[jobs[i].target], h, sizeof h, p, sizeof p) == 0 &&
		    strcmp(h, host) == 0)
			n++;
	}
	return n;
}

/* --targets bounds: a line holds one HOST[:PORT] (and a comment) */
#define TLS_TARGETS_LINE_MAX 511u
#define TLS_TARGETS_MAX      100000u

static int tls_targets(sd_cli *cli, const char *file, const tls_opts *o)
{
	FILE *in = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	if (!in)
		return cli_error(cli, SD_EXIT_OPEN, "cannot read --targets %s: %s", file, strerror(errno));
	struct stat fst;
	if (fstat(fileno(in), &fst) == 0 && S_ISDIR(fst.st_mode)) {
		fclose(in);
		return cli_usage_error(cli, "--targets %s is a directory; it takes a file of HOST[:PORT] lines", file);
	}
	char line[TLS_TARGETS_LINE_MAX + 2], **targets = NULL;
	size_t nt = 0, cap = 0, lineno = 0;
	int worst = SD_EXIT_OK;
	while (fgets(line, sizeof line, in)) {
		lineno++;
		size_t ll = strlen(line);
		if (ll == sizeof line - 1 && line[ll - 1] != '\n') {
			worst = cli_usage_error(cli, "--targets %s: line %zu is longer than %u bytes", file, lineno,
						TLS_TARGETS_LINE_MAX);
			goto out;
		}
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		s[strcspn(s, " \t\r\n#")] = '\0';
		if (!*s)
			continue;
		if (nt >= TLS_TARGETS_MAX) {
			worst = cli_usage_error(cli, "--targets %s: more than %u targets; split the file", file,
						TLS_TARGETS_MAX);
			goto out;
		}
		if (nt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **t = realloc(targets, ncap * sizeof *t);
			if (!t) {
				worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
				goto out;
			}
			targets = t;
			cap = ncap;
		}
		if (!(targets[nt] = strdup(s))) {
			worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
			goto out;
		}
		nt++;
	}
	if (ferror(in)) {
		worst = cli_error(cli, SD_EXIT_OPEN, "cannot read --targets %s: %s", file, strerror(errno));
		goto out;
	}
	if (nt == 0) {
		worst = cli_usage_error(cli, "--targets %s holds no HOST[:PORT] line", file);
		goto out;
	}
	cli->json = 1;
	fflush(cli->out);
	fflush(cli->err);
	size_t njobs = o->jobs, next = 0, running = 0;
	job *jobs = calloc(njobs, sizeof *jobs);
	char *started = calloc(nt ? nt : 1, 1);
	if (!jobs || !started) {
		free(jobs);
		free(started);
		worst = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		goto out;
	}
	while (next < nt || running) {
		/* start what the limits allow, in file order where possible */
		for (size_t t = next; t < nt && running < njobs; t++) {
			char h[256], p[16];
			if (started[t])
				continue;
			if (split_target(targets[t], h, sizeof h, p, sizeof p) == 0 &&
			    host_running(jobs, njobs, targets, h) >= (int)o->per_host)
				continue;
			size_t slot = 0;
			while (jobs[slot].pid > 0)
				slot++;
			int fds[2];
			if (pipe(fds) < 0)
				break;
			pid_t pid = fork();
			if (pid < 0) {
				close(fds[0]);
				close(fds[1]);
				break;
			}
			if (pid == 0) {
				close(fds[0]);
				FILE *f = fdopen(fds[1], "w");
				if (!f)
					_exit(SD_EXIT_INTERNAL);
				cli->out = f;
				int rc = tls_one(cli, targets[t], o);
				fflush(f);
				fflush(cli->err);
				_exit(rc);
			}
			close(fds[1]);
			jobs[slot] = (job){ .pid = pid, .fd = fds[0], .target = t };
			started[t] = 1;
			running++;
		}
		while (next < nt && started[next])
			next++;
		/* collect output; a child whose pipe closed is reaped and printed */
		struct pollfd pf[64];
		size_t map[64], np = 0;
		for (size_t i = 0; i < njobs && np < 64; i++)
			if (jobs[i].pid > 0) {
				pf[np] = (struct pollfd){ .fd = jobs[i].fd, .events = POLLIN };
				map[np++] = i;
			}
		if (np == 0)
			break;
		if (poll(pf, np, -1) < 0 && errno != EINTR)
			break;
		for (size_t k = 0; k < np; k++) {
			if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			job *j = &jobs[map[k]];
			if (j->len + 4096 > j->cap) {
				size_t ncap = j->cap ? j->cap * 2 : 8192;
				char *nb = realloc(j->out, ncap);
				if (!nb)
					continue;
				j->out = nb;
				j->cap = ncap;
			}
			ssize_t r = read(j->fd, j->out + j->len, j->cap - j->len);
			if (r > 0) {
				j->len += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EINTR)
				continue;
			int st = 0;
			close(j->fd);
			waitpid(j->pid, &st, 0);
			if (j->len)
				fwrite(j->out, 1, j->len, cli->out);
			fflush(cli->out);
			int rc = WIFEXITED(st) ? WEXITSTATUS(st) : SD_EXIT_INTERNAL;
			if (rc > worst)
				worst = rc;
			free(j->out);
			*j = (job){ .pid = 0 };
			running--;
		}
	}
	free(jobs);
	free(started);
out:
	for (size_t i = 0; i < nt; i++)
		free(targets[i]);
	free(targets);
	if (in != stdin)
		fclose(in);
	return worst;
}

int cmd_tls(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sni", required_argument, NULL, 's' },
		{ "alpn", required_argument, NULL, 'a' },
		{ "pad", required_argument, NULL, 'p' },
		{ "versions", required_argument, NULL, 'V' },
		{ "no-groups", no_argument, NULL, 'g' },
		{ "no-order", no_argument, NULL, 'o' },
		{ "wait", required_argument, NULL, 'w' },
		{ "delay", required_argument, NULL, 'd' },
		{ "targets", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "per-host", required_argument, NULL, 'H' },
		{ "rate", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	tls_opts o = { .wait_ms = 3000, .jobs = 16, .per_host = 4 };
	const char *targets = NULL;
	int c;
	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.sni = optarg;
			break;
		case 'a':
			o.alpn = optarg;
			break;
		case 'p':
			if (sd_parse_u32(optarg, 0, 16384, &o.pad_to) != SD_OK)
				return cli_usage_error(cli, "--pad needs a record size in bytes (0 to 16384), not '%s'", optarg);
			break;
		case 'V':
			if (parse_versions(optarg, &o.versions) < 0)
				return cli_usage_error(cli, "--versions takes ssl3,1.0,1.1,1.2,1.3, not '%s'", optarg);
			break;
		case 'g':
			o.no_groups = 1;
			break;
		case 'o':
			o.no_order = 1;
			break;
		case 'w':
			if (sd_parse_u32(optarg, 1, 600000, &o.wait_ms) != SD_OK)
				return cli_usage_error(cli, "--wait needs milliseconds (1 to 600000), not '%s'", optarg);
			break;
		case 'd':
			if (sd_parse_u32(optarg, 0, 600000, &o.delay_ms) != SD_OK)
				return cli_usage_error(cli, "--delay needs milliseconds (0 to 600000), not '%s'", optarg);
			break;
		case 't':
			targets = optarg;
			break;
		case 'j':
			if (sd_parse_u32(optarg, 1, 64, &o.jobs) != SD_OK)
				return cli_usage_error(cli, "--jobs needs 1 to 64, not '%s'", optarg);
			break;
		case 'H':
			if (sd_parse_u32(optarg, 1, 64, &o.per_host) != SD_OK)
				return cli_usage_error(cli, "--per-host needs 1 to 64, not '%s'", optarg);
			break;
		case 'r': {
			uint32_t rate;
			if (sd_parse_u32(optarg, 1, 100000, &rate) != SD_OK)
				return cli_usage_error(cli, "--rate needs connections per second (1 to 100000), not '%s'", optarg);
			o.delay_ms = 1000u / rate;
			break;
		}
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	/* one target: its versions in parallel, up to --per-host connections;
	 * many targets: each target one connection at a time, so --per-host
	 * counts connections */
	o.parallel = targets ? 1 : o.per_host;
	char why[160];
	if (sd_tls_names_check(o.sni, o.alpn, why, sizeof why) != SD_OK)
		return cli_usage_error(cli, "%s", why);
	if (targets) {
		if (cli->trace)
			return cli_usage_error(cli, "--trace writes one target's transcript; not with --targets");
		if (optind < argc)
			return cli_usage_error(cli, "either --targets or one HOST[:PORT], not both");
		return tls_targets(cli, targets, &o);
	}
	if (optind >= argc)
		return cli_usage_error(cli, "which host? (e.g. example.org or 127.0.0.1:8443)");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra); use --targets for many", argv[optind + 1]);
	return tls_one(cli, argv[optind], &o);
}
