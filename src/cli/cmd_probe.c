/*
 * shakedown probe TARGET — what is on the other end and why a handshake
 * fails. The pipeline is the library's (sd_probe_run, src/diag/probe.c):
 * this file parses options, opens the target and the trace, and prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "cmd_probe_targets.h"

const char cmd_probe_usage[] =
	"usage: shakedown probe [options] TARGET\n"
	"       shakedown probe [options] --targets FILE [--jobs N]\n"
	"\n"
	"Works out what is on the other end and why a handshake fails: listens\n"
	"(and, if the bytes do not decode, listens again at the common rates),\n"
	"sends each protocol's read-only first frame in a safe order, then lets\n"
	"each protocol that resets its target (DTR/RTS, as avrdude does) try its\n"
	"own sync, one reset per attempt; stops at the first confirmed answer and\n"
	"prints what answered and what that means for your tool, or the ranked\n"
	"causes with the evidence. Sends nothing that writes, erases or jumps.\n"
	"\n"
	"TARGET: /dev/ttyUSB0, serial:/dev/ttyACM0?baud=57600, tcp://host:port,\n"
	"        rfc2217://host:port[?ign_set_control&timeout=MS] (a remote port:\n"
	"        ser2net, labgrid), sim:stk500 (see shakedown sim --list)\n"
	"\n"
	"options:\n"
	"  --baud N        the host's baud rate (default: the port's, or 115200)\n"
	"  --listen MS     listen this long before anything is sent (default 300)\n"
	"  --expect PROTO  the protocol you expect ({protos:poke}): only its\n"
	"                  attempts, and a wrong-protocol finding when another\n"
	"                  one answers\n"
	"  --no-poke       only listen, send nothing at all\n"
	"  --no-reset      never touch DTR/RTS\n"
	"  --all           try every protocol, even after one answered\n"
	"  --targets FILE  probe every target of FILE, one a line, or a labgrid\n"
	"                  environment/exporter YAML (NetworkSerialPort,\n"
	"                  RawSerialPort); verdicts print as they finish (--json:\n"
	"                  one report a line), then a summary table (--json: on\n"
	"                  stderr); exit 0 only when every target answered\n"
	"  --jobs N        targets probed at once with --targets (default 8, 1-256)\n"
	"  global: --json --trace FILE --timeout SECS (default 6) -v\n"
	"\n"
	"exit: 0 a bootloader answered, 1 none did (diagnosis printed),\n"
	"      2 usage, 3 cannot open the target\n";

#define PROBE_TRACE_CAP (2u * 1024u * 1024u)

/* The device node behind a target, for the host checks; NULL for
 * sim:, tcp:, usb: targets. */
static const char *node_of(const char *target, char *buf, size_t len)
{
	const char *s = target;
	if (strncmp(s, "serial:", 7) == 0)
		s += 7;
	if (s[0] != '/')
		return NULL;
	size_t n = strcspn(s, "?");
	if (n >= len)
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

int cmd_probe(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baud", required_argument, NULL, 'b' },
		{ "listen", required_argument, NULL, 'l' },
		{ "expect", required_argument, NULL, 'e' },
		{ "no-poke", no_argument, NULL, 'n' },
		{ "no-reset", no_argument, NULL, 'r' },
		{ "all", no_argument, NULL, 'a' },
		{ "targets", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	sd_probe_opts po = { 0 };
	const char *targets = NULL;
	uint32_t jobs = 0;
	uint32_t v;
	int c;

	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (sd_parse_u32(optarg, 50, 20000000, &po.baud) != SD_OK)
				return cli_usage_error(cli, "--baud needs a rate between 50 and 20000000, not '%s'", optarg);
			break;
		case 'l':
			if (sd_parse_u32(optarg, 0, 600000, &v) != SD_OK)
				return cli_usage_error(cli, "--listen needs milliseconds (0 to 600000), not '%s'", optarg);
			po.listen = v ? SD_MS(v) : 1; /* 0: barely listen at all */
			break;
		case 'e':
			po.expect = optarg;
			if (cli_proto_pick(cli, optarg, SD_PROTO_USE_POKE, "--expect", NULL))
				return SD_EXIT_USAGE;
			break;
		case 'n':
			po.no_poke = 1;
			break;
		case 'r':
			po.no_reset = 1;
			break;
		case 'a':
			po.all = 1;
			break;
		case 't':
			targets = optarg;
			break;
		case 'j':
			if (sd_parse_u32(optarg, 1, SD_PROBE_JOBS_MAX, &jobs) != SD_OK)
				return cli_usage_error(cli, "--jobs needs a count from 1 to %u, not '%s'", SD_PROBE_JOBS_MAX, optarg);
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (cli->timeout_s > 0)
		po.budget = (sd_time)(cli->timeout_s * 1e6);
	if (targets) {
		if (optind < argc)
			return cli_usage_error(cli, "--targets FILE or one TARGET, not both ('%s')", argv[optind]);
		if (cli->trace)
			return cli_usage_error(cli, "--trace records one target: not with --targets");
		return cli_probe_targets(cli, targets, jobs, &po);
	}
	if (jobs)
		return cli_usage_error(cli, "--jobs goes with --targets FILE");
	if (optind >= argc)
		return cli_usage_error(cli, "which target? (e.g. /dev/ttyUSB0 or 'sim:stk500')");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra)", argv[optind + 1]);
	const char *target = argv[optind];
	char node[256];
	po.port_path = node_of(target, node, sizeof node);

	sd_time t0 = sd_now(sd_clock_real());
	char why[256] = "";
	sd_link *link = NULL;
	sd_link_opts lo = { .clock = NULL, .cfg = SD_LINE_CFG_8N1(po.baud), .open_by = SD_FOREVER };
	int err = sd_link_open(target, &lo, &link, why, sizeof why);
	if (err < 0)
		return cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);

	cli_trace tr;
	int rc = cli_trace_open(cli, &tr, link->clock, target, PROBE_TRACE_CAP);
	if (rc) {
		sd_link_close(link);
		return rc;
	}
	/* what was run, for replay to run again */
	sd_trace_run run = { .command = "probe", .baud = po.baud, .listen = po.listen,
			     .no_poke = po.no_poke, .no_reset = po.no_reset, .all = po.all,
			     .budget = po.budget };
	snprintf(run.link, sizeof run.link, "%s", sd_link_name(link));
	snprintf(run.expect, sizeof run.expect, "%s", po.expect ? po.expect : "");
	run.caps = link->caps;
	run.usb_id = (uint32_t)link->usb_vid << 16 | link->usb_pid;
	cli_trace_run(&tr, &run);
	sd_link_tap(link, &tr.t, target);

	sd_probe *p = sd_probe_new();
	sd_report *r = malloc(sizeof *r);
	if (!p || !r) {
		rc = cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	} else {
		sd_report_init(r, "probe", target);
		err = sd_probe_run(p, link, &po, r);
		r->elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
		rc = err == SD_ERR_ARG ? cli_error(cli, SD_EXIT_INTERNAL, "probe: %s", sd_strerror(err))
				       : cli_print_report(cli, r, NULL);
	}
	sd_link_close(link); /* records CLOSE into the trace: close the trace after */
	if (r)
		cli_trace_outcome(&tr, r);
	int trc = cli_trace_close(cli, &tr);
	free(r);
	sd_probe_free(p);
	return trc ? trc : rc;
}
