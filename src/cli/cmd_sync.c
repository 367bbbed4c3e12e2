/*
 * shakedown sync PROTO TARGET — one protocol's handshake, run robustly
 * (entry sequence, resync, retries), with a diagnosis when it fails.
 *
 * `info` is the same session plus the read-only identification, so both
 * commands share cli_session() here. The protocol module does the work
 * (sd_proto.session); this file parses options, opens the target, owns the
 * memory and prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

const char cmd_sync_usage[] =
	"usage: shakedown sync [options] PROTO TARGET\n"
	"\n"
	"Runs one protocol's handshake robustly: entry sequence (DTR/RTS), resync\n"
	"through junk, fresh retries; prints what answered, or why nothing did.\n"
	"Read-only: sends nothing that writes, erases or jumps.\n"
	"\n"
	"PROTO:  {protos:session} (shakedown sync --list says why not the others)\n"
	"TARGET: /dev/ttyUSB0, serial:/dev/ttyACM0?baud=57600, tcp://host:port,\n"
	"        sim:stm32?mode=app (a simulated device; see shakedown sim --list)\n"
	"\n"
	"options:\n"
	"  --baud N        line rate (default: the protocol's, with its fallbacks)\n"
	"  --enter SEQ     entry sequence in physical pin levels, e.g.\n"
	"                  'boot0=rts:high,nrst=dtr:pulse-low:20ms,50ms'\n"
	"  --exit SEQ      sequence to run afterwards (e.g. reset into the application)\n"
	"  --no-reset      do not touch DTR/RTS\n"
	"  --part NAME     the part you expect (a different one is reported)\n"
	"  --retries N     fresh attempts after the first (default: the protocol's)\n"
	"  --list          the protocols with a client, and why not the others\n"
	"  global: --json --trace FILE --timeout SECS -v\n"
	"\n"
	"time: the whole session, retries included, ends by --timeout SECS, by\n"
	"default the protocol's own limit (stm32 10 s, stk500 30 s, mtk 4 s, esp 15 s)\n"
	"\n"
	"exit: 0 in sync, 1 not (diagnosis printed), 2 usage, 3 cannot open the target\n";

void cli_session_run(sd_trace_run *run, const char *cmd, const char *proto, const sd_link *l,
		     const sd_proto_args *a, const char *enter, const char *exit_text)
{
	memset(run, 0, sizeof *run);
	snprintf(run->command, sizeof run->command, "%s", cmd);
	snprintf(run->protocol, sizeof run->protocol, "%s", proto);
	snprintf(run->link, sizeof run->link, "%s", sd_link_name(l));
	run->caps = l->caps;
	run->usb_id = (uint32_t)l->usb_vid << 16 | l->usb_pid;
	run->identify = a->identify;
	run->baud = a->baud;
	snprintf(run->enter, sizeof run->enter, "%s", enter);
	snprintf(run->exit, sizeof run->exit, "%s", exit_text);
	run->no_reset = a->no_reset;
	snprintf(run->part, sizeof run->part, "%s", a->part ? a->part : "");
	run->retries = a->retries;
	run->budget = a->budget;
}

int cli_session(sd_cli *cli, int argc, char **argv, int identify)
{
	static const struct option opts[] = {
		{ "baud", required_argument, NULL, 'b' },
		{ "enter", required_argument, NULL, 'e' },
		{ "exit", required_argument, NULL, 'x' },
		{ "no-reset", no_argument, NULL, 'n' },
		{ "part", required_argument, NULL, 'p' },
		{ "retries", required_argument, NULL, 'r' },
		{ "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	sd_proto_args a = { .identify = identify };
	sd_seq enter, leave;
	const char *enter_text = "", *exit_text = "";
	char why[256] = "";
	int c;

	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (sd_parse_u32(optarg, 50, 20000000, &a.baud) != SD_OK)
				return cli_usage_error(cli, "--baud needs a rate between 50 and 20000000, not '%s'", optarg);
			break;
		case 'e':
		case 'x':
			if (sd_seq_parse(optarg, strlen(optarg), c == 'e' ? &enter : &leave, why, sizeof why) != SD_OK)
				return cli_usage_error(cli, "--%s: %s", c == 'e' ? "enter" : "exit", why);
			if (strlen(optarg) >= SD_TRACE_SEQ_MAX)
				return cli_usage_error(cli, "--%s: a sequence of %d characters at most",
						       c == 'e' ? "enter" : "exit", SD_TRACE_SEQ_MAX - 1);
			if (c == 'e') {
				a.enter = &enter;
				enter_text = optarg;
			} else {
				a.exit = &leave;
				exit_text = optarg;
			}
			break;
		case 'n':
			a.no_reset = 1;
			break;
		case 'p':
			if (strlen(optarg) >= sizeof ((sd_trace_run *)0)->part)
				return cli_usage_error(cli, "--part: a name of 63 characters at most");
			a.part = optarg;
			break;
		case 'r':
			if (sd_parse_u32(optarg, 0, 100, &a.retries) != SD_OK)
				return cli_usage_error(cli, "--retries needs a count from 0 to 100, not '%s'", optarg);
			break;
		case 'l':
			return cli_proto_list(cli, SD_PROTO_USE_SESSION);
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (a.no_reset && a.enter)
		return cli_usage_error(cli, "--no-reset and --enter contradict each other");
	if (optind >= argc)
		return cli_usage_error(cli, "which protocol? (e.g. stm32; shakedown %s --list)", cli->cmd);
	const sd_proto *p = NULL;
	int bad = cli_proto_pick(cli, argv[optind], SD_PROTO_USE_SESSION, NULL, &p);
	if (bad)
		return bad;
	if (optind + 1 >= argc)
		return cli_usage_error(cli, "which target? (e.g. /dev/ttyUSB0 or 'sim:%s')", p->name);
	if (optind + 2 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra)", argv[optind + 2]);
	const char *target = argv[optind + 1];
	if (cli->timeout_s > 0)
		a.budget = (sd_time)(cli->timeout_s * 1e6);

	sd_time t0 = sd_now(sd_clock_real());
	sd_link *link = NULL;
	sd_line_cfg cfg = p->line;
	if (a.baud)
		cfg.baud = a.baud;
	sd_link_opts lo = { .clock = NULL, .cfg = cfg, .open_by = SD_FOREVER };
	int err = sd_link_open(target, &lo, &link, why, sizeof why);
	if (err < 0)
		return cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);

	cli_trace tr;
	/* Nothing reads the records back here: they only go to --trace. */
	int rc = cli_trace_open(cli, &tr, link->clock, target, 0);
	if (rc) {
		sd_link_close(link);
		return rc;
	}
	sd_trace_run run;
	cli_session_run(&run, cli->cmd, p->name, link, &a, enter_text, exit_text);
	cli_trace_run(&tr, &run);
	sd_link_tap(link, &tr.t, target);

	void *ctx = calloc(1, p->ctx_size ? p->ctx_size : 1);
	sd_report *r = malloc(sizeof *r);
	if (!ctx || !r) {
		free(ctx);
		free(r);
		cli_trace_close(cli, &tr);
		sd_link_close(link);
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	}
	sd_report_init(r, cli->cmd, target);
	err = p->session(ctx, link, &a, r);
	if (err == SD_ERR_ARG)
		rc = cli_usage_error(cli, "%s", r->diag.n ? r->diag.f[0].summary : sd_strerror(err));
	else {
		if (!r->by.protocol[0] && r->ok)
			snprintf(r->by.protocol, sizeof r->by.protocol, "%s", p->name);
		r->elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
		sd_remote_report(link, r); /* rfc2217://: what the network did */
		sd_diag_sort(&r->diag);
		rc = cli_print_report(cli, r, NULL);
	}
	sd_link_close(link); /* records CLOSE into the trace: close the trace after */
	if (err != SD_ERR_ARG)
		cli_trace_outcome(&tr, r);
	int trc = cli_trace_close(cli, &tr);
	free(r);
	free(ctx);
	return trc ? trc : rc;
}

int cmd_sync(sd_cli *cli, int argc, char **argv)
{
	return cli_session(cli, argc, argv, 0);
}
