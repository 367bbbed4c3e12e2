/*
 * shakedown tls HOST[:PORT] — what answers on the port, and which versions,
 * suites (with the server's order) and groups it accepts, in the fewest
 * handshakes. The library's scan (sd_tls_scan_*, src/diag/tls_scan.c) runs
 * the connections and makes the findings; this file parses the options,
 * starts the scan's worker threads and prints. --targets: cmd_tls_targets.c.
 */
#include <errno.h>
#include <getopt.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"
#include "cmd_tls.h"


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
	"  --ca FILE         trust the CAs of this PEM file (default: the system's store)\n"
	"  --name HOST       the name the client checks the certificate against\n"
	"                    (default: --sni, else HOST)\n"
	"  --no-cert         skip the certificate check (one full handshake, OpenSSL 3)\n"
	"  --client PROFILE  judge whether this client gets through (default: default =\n"
	"                    the local OpenSSL 3 at level 2; openssl-level1, openssl-level0,\n"
	"                    openssl-1.0.2, java8, tls10-embedded, python, curl,\n"
	"                    browser, mbedtls, mbedtls-2.28, wolfssl; docs/tls-clients.md);\n"
	"                    --no-client judges none\n"
	"  --client-versions, --client-ciphers (OpenSSL syntax), --client-groups,\n"
	"  --client-sigalgs  change one part of that client\n"
	"  --starttls PROTO  smtp, submission, imap, pop3, ftp, postgres, xmpp,\n"
	"                    xmpp-server, ldap, mysql: the plaintext dialog first\n"
	"                    (automatic on 25, 587, 143, 110, 21, 5432, 5222, 5269,\n"
	"                    389, 3306; none turns it off); a refusal quotes the\n"
	"                    server; XMPP's stream names --sni, else HOST (to=)\n"
	"  --expect RULES    policy for CI, e.g. 'min=1.2,no-cbc,cert-days>=14' (or @FILE):\n"
	"                    min=V tls13 no-cbc no-rsa-kx pfs no-weak order=server\n"
	"                    cert-valid cert-days>=N key-bits>=N; a deviation is exit 1\n"
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


/* HOST[:PORT], [V6]:PORT or a bare IPv6 address. */
int cli_tls_split_target(const char *s, char *host, size_t hl, char *port, size_t pl)
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

/* -v: each probe's answer and its span */
static void on_probe(void *ctx, uint16_t version, const sd_tls_probe *p, sd_time began, sd_time ended)
{
	sd_cli *cli = ctx;
	if (cli->verbose)
		fprintf(cli->err, "probe: %s answer %d suite 0x%04x group 0x%04x%s%s (%.2f..%.2f ms)\n",
			sd_tls_version_name(version), p->srv.answer, p->srv.suite, p->srv.group,
			p->closed ? " closed" : "", p->timed_out ? " timeout" : "",
			(double)began / 1000.0, (double)ended / 1000.0);
}

/* Probe one target (the library's scan, sd_tls_scan_*); prints its report.
 * Returns the exit code. */
#define TLS_TRACE_CAP (8u * 1024u * 1024u)

int cli_tls_one(sd_cli *cli, const char *target, const tls_opts *o)
{
	const sd_clock *clk = sd_clock_real();
	sd_time t0 = sd_now(clk);
	int rc = SD_EXIT_OK;
	cli_trace tr;
	int tracing = 0;
	sd_tls_scan *sc = NULL;
	char host[256], port[16];
	if (cli_tls_split_target(target, host, sizeof host, port, sizeof port) < 0)
		return cli_usage_error(cli, "'%s' is not HOST[:PORT] (port 1-65535)", target);
	sd_tls_scan_cfg cfg = {
		.host = host, .port = port, .wait_ms = o->wait_ms, .delay_ms = o->delay_ms,
		.parallel = o->parallel, .clock = clk, .on_probe = on_probe, .ctx = cli,
		.budget = cli->timeout_s > 0 ? (sd_time)(cli->timeout_s * 1e6) : 0,
		.budget_given = cli->timeout_s > 0,
		.starttls = o->starttls >= 0 ? o->starttls : sd_starttls_for_port((unsigned)atoi(port)),
		.enm = { .sni = o->sni ? o->sni : host, .versions = o->versions ? o->versions : 0x1fu,
			 .no_groups = o->no_groups, .no_order = o->no_order, .seed = (uint32_t)t0,
			 .alpn = o->alpn, .pad_to = o->pad_to },
	};
	if (cli->trace) { /* one transcript, written in order: one lane at a time */
		cfg.parallel = 1;
		rc = cli_trace_open(cli, &tr, clk, target, TLS_TRACE_CAP);
		if (rc)
			return rc;
		tracing = 1;
		cfg.tap = &tr.t;
		cfg.tap_name = target;
		sd_trace_run run = { .command = "tls", .protocol = "tls", .link = "tcp",
				     .caps = SD_LINK_BYTES | SD_LINK_NET };
		cli_trace_run(&tr, &run);
	}
	sd_tls_diag_cfg dc = { .scan = cfg, .ca_file = o->ca_file, .name = o->name, .no_cert = o->no_cert,
			       .expect = o->expect_text ? &o->expect : NULL,
			       .client = o->no_client ? NULL : &o->client };
	sd_report rep;
	sd_report_init(&rep, cli->cmd, target);
	char why[256] = "";
	int err = sd_tls_diagnose(&dc, &rep, &sc, why, sizeof why);
	if (err == SD_ERR_ARG || err == SD_ERR_NOMEM) {
		rc = cli_error(cli, err == SD_ERR_NOMEM ? SD_EXIT_INTERNAL : SD_EXIT_USAGE, "%s: %s", target,
			       sd_strerror(err));
		goto out;
	}
	if (err == SD_ERR_PROTO) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "%s", why);
		goto out;
	}
	if (err < 0) {
		rc = cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);
		goto out;
	}
	const char *service = sd_tls_scan_service(sc);
	rep.elapsed_ms = (sd_now(clk) - t0) / 1000;
	if (!cli->json && strcmp(service, "tls") == 0)
		cli_tls_print_table(cli, sc, service);
	else if (!cli->json)
		fprintf(cli->out, "service: %s   connections: %u\n", service, sd_tls_scan_connections(sc));
	rc = cli_print_report(cli, &rep, cli_tls_extra_json(sc, service));
	if (tracing)
		cli_trace_outcome(&tr, &rep);
out:
	if (tracing) {
		int trc = cli_trace_close(cli, &tr);
		if (trc && rc == SD_EXIT_OK)
			rc = trc;
	}
	sd_tls_scan_close(sc);
	return rc;
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
		{ "ca", required_argument, NULL, 'C' },
		{ "name", required_argument, NULL, 'N' },
		{ "no-cert", no_argument, NULL, 'n' },
		{ "expect", required_argument, NULL, 'e' },
		{ "client", required_argument, NULL, 'c' },
		{ "client-versions", required_argument, NULL, 1000 },
		{ "client-ciphers", required_argument, NULL, 1001 },
		{ "client-groups", required_argument, NULL, 1002 },
		{ "client-sigalgs", required_argument, NULL, 1003 },
		{ "no-client", no_argument, NULL, 1004 },
		{ "starttls", required_argument, NULL, 1005 },
		{ NULL, 0, NULL, 0 },
	};
	tls_opts o = { .wait_ms = 3000, .jobs = 16, .per_host = 4, .starttls = -1 };
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
		case 'C':
			o.ca_file = optarg;
			break;
		case 'N':
			o.name = optarg;
			break;
		case 'n':
			o.no_cert = 1;
			break;
		case 'e':
			o.expect_text = optarg;
			break;
		case 'c':
			o.client_name = optarg;
			break;
		case 1000: case 1001: case 1002: case 1003:
			o.client_set[c - 1000] = optarg;
			break;
		case 1004:
			o.no_client = 1;
			break;
		case 1005:
			if ((o.starttls = sd_starttls_from_name(optarg)) < 0)
				return cli_usage_error(cli, "--starttls takes smtp, submission, imap, pop3, ftp, postgres, xmpp, xmpp-server, ldap, mysql or none, not '%s'", optarg);
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	/* one target: its versions in parallel, up to --per-host connections;
	 * many targets: each target one connection at a time, so --per-host
	 * counts connections */
	o.parallel = targets ? 1 : o.per_host;
	char why[320];
	if (sd_tls_names_check(o.sni, o.alpn, why, sizeof why) != SD_OK)
		return cli_usage_error(cli, "%s", why);
	char policy_file[SD_TLS_POLICY_TEXT_MAX + 2];
	if (o.expect_text && o.expect_text[0] == '@') { /* --expect @FILE */
		FILE *pf = fopen(o.expect_text + 1, "r");
		if (!pf)
			return cli_error(cli, SD_EXIT_OPEN, "cannot read --expect %s: %s", o.expect_text + 1, strerror(errno));
		size_t got = fread(policy_file, 1, sizeof policy_file - 1, pf);
		fclose(pf);
		if (got > SD_TLS_POLICY_TEXT_MAX)
			return cli_usage_error(cli, "--expect %s is longer than %u bytes", o.expect_text + 1,
					       SD_TLS_POLICY_TEXT_MAX);
		if (memchr(policy_file, '\0', got))
			return cli_usage_error(cli, "--expect %s is not text", o.expect_text + 1);
		policy_file[got] = '\0';
		o.expect_text = policy_file;
	}
	if (o.expect_text && sd_tls_policy_parse(o.expect_text, &o.expect, why, sizeof why) != SD_OK)
		return cli_usage_error(cli, "--expect: %s", why);
	if (!o.no_client) { /* the client judged: a profile, then the --client-* changes */
		static const char *const parts[] = { "versions", "ciphers", "groups", "sigalgs" };
		int err = sd_tls_client_profile(o.client_name ? o.client_name : "default", &o.client, why, sizeof why);
		for (size_t i = 0; i < 4 && err == SD_OK; i++)
			if (o.client_set[i])
				err = sd_tls_client_set(&o.client, parts[i], o.client_set[i], why, sizeof why);
		if (err == SD_ERR_ARG)
			return cli_usage_error(cli, "%s", why);
		if (err < 0 && (o.client_name || o.client_set[1]))
			return cli_error(cli, SD_EXIT_INTERNAL, "%s", why);
		if (err < 0)
			o.no_client = 1; /* no libssl: judge no client rather than fail every run */
	}
	if (targets) {
		if (cli->trace)
			return cli_usage_error(cli, "--trace writes one target's transcript; not with --targets");
		if (optind < argc)
			return cli_usage_error(cli, "either --targets or one HOST[:PORT], not both");
		return cli_tls_targets(cli, targets, &o);
	}
	if (optind >= argc)
		return cli_usage_error(cli, "which host? (e.g. example.org or 127.0.0.1:8443)");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra); use --targets for many", argv[optind + 1]);
	return cli_tls_one(cli, argv[optind], &o);
}
