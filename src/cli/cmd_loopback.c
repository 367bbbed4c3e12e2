/*
 * shakedown loopback TARGET — the adapter self-test with TX tied to RX:
 * a table of what came back at each rate and parity, then the verdict.
 * The work is sd_loopback_run() (include/shakedown/loopback.h).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_loopback_usage[] =
	"usage: shakedown loopback [options] TARGET\n"
	"\n"
	"Tests a serial adapter and its cable: put a jumper from TX to RX, then\n"
	"this sends pseudo-random bytes at each rate the adapter takes and with\n"
	"each parity the link carries, reads them back and counts what was lost,\n"
	"added or changed (bit errors, BER) and the first-byte round trip. Where\n"
	"the port has modem lines it also checks DTR->DSR/DCD and RTS->CTS.\n"
	"It tells a bad cable or adapter from a bad device.\n"
	"\n"
	"options:\n"
	"  --rates LIST    rates to test, e.g. 9600,115200 (default: 9600 to 3000000)\n"
	"  --parity LIST   none,even,odd,mark,space (default: none,even,odd where\n"
	"                  the link carries parity)\n"
	"  --bytes N       most bytes per rate and parity (default 1024, at most 65536)\n"
	"  --seed N        seed of the byte pattern (default 0)\n"
	"  --no-lines      do not touch DTR/RTS\n"
	"  global: --json --trace FILE --timeout SECS (default 6) -v\n"
	"\n"
	"exit: 0 the loop is good, 1 it is not (diagnosis printed),\n"
	"      2 usage, 3 cannot open the target\n";

static void ms(char *buf, size_t len, sd_time us)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", (double)us / 1000.0);
}

static void print_table(sd_cli *cli, const sd_loopback_result *res)
{
	FILE *f = cli->out;
	fprintf(f, "%-8s %-5s %6s %6s %6s %6s %7s %8s %8s %15s  %s\n", "rate", "frame", "sent", "back",
		"lost", "extra", "changed", "bit err", "BER", "rtt med/max ms", "result");
	for (size_t i = 0; i < res->npasses; i++) {
		const sd_loopback_pass *p = &res->pass[i];
		char rate[16], fr[8], ber[16], rtt[32], a[16], b[16];
		if (p->cfg.baud)
			snprintf(rate, sizeof rate, "%u", p->cfg.baud);
		else
			snprintf(rate, sizeof rate, "(link)");
		sd_line_cfg_frame(&p->cfg, fr);
		if (p->status == SD_LOOPBACK_UNTESTED) {
			fprintf(f, "%-8s %-5s %s\n", rate, fr, "not tested");
			continue;
		}
		snprintf(ber, sizeof ber, p->bit_errors ? "%.1e" : "0", p->ber);
		ms(a, sizeof a, p->rtt_median);
		ms(b, sizeof b, p->rtt_worst);
		snprintf(rtt, sizeof rtt, "%s/%s", a, b);
		const char *st = sd_loopback_status_name(p->status);
		fprintf(f, "%-8s %-5s %6zu %6zu %6zu %6zu %7zu %8llu %8s %15s  %s%s%s\n", rate, fr, p->sent,
			p->received, p->lost, p->extra, p->corrupted, (unsigned long long)p->bit_errors, ber,
			rtt, cli_c(cli, p->status == SD_LOOPBACK_GOOD ? "32" : "31"), st, cli_c0(cli));
	}
	fputc('\n', f);
}

static cJSON *extra_json(const sd_loopback_result *res)
{
	cJSON *x = cJSON_CreateObject();
	cJSON *lb = cJSON_AddObjectToObject(x, "loopback");
	cJSON *ps = cJSON_AddArrayToObject(lb, "passes");
	for (size_t i = 0; i < res->npasses; i++) {
		const sd_loopback_pass *p = &res->pass[i];
		char fr[8];
		cJSON *o = cJSON_CreateObject();
		if (p->cfg.baud)
			cJSON_AddNumberToObject(o, "baud", p->cfg.baud);
		else
			cJSON_AddNullToObject(o, "baud");
		cJSON_AddStringToObject(o, "frame", sd_line_cfg_frame(&p->cfg, fr));
		cJSON_AddStringToObject(o, "result", sd_loopback_status_name(p->status));
		cJSON_AddNumberToObject(o, "sent", (double)p->sent);
		cJSON_AddNumberToObject(o, "received", (double)p->received);
		cJSON_AddNumberToObject(o, "matched", (double)p->matched);
		cJSON_AddNumberToObject(o, "changed", (double)p->corrupted);
		cJSON_AddNumberToObject(o, "lost", (double)p->lost);
		cJSON_AddNumberToObject(o, "extra", (double)p->extra);
		cJSON_AddNumberToObject(o, "unsolicited", (double)p->unsolicited);
		cJSON_AddNumberToObject(o, "bit_errors", (double)p->bit_errors);
		cJSON_AddNumberToObject(o, "ber", p->ber);
		if (p->rtt_median >= 0) {
			cJSON_AddNumberToObject(o, "rtt_median_us", (double)p->rtt_median);
			cJSON_AddNumberToObject(o, "rtt_worst_us", (double)p->rtt_worst);
		} else {
			cJSON_AddNullToObject(o, "rtt_median_us");
			cJSON_AddNullToObject(o, "rtt_worst_us");
		}
		cJSON_AddNumberToObject(o, "elapsed_us", (double)p->elapsed);
		cJSON_AddItemToArray(ps, o);
	}
	cJSON *ref = cJSON_AddArrayToObject(lb, "refused_rates");
	for (size_t i = 0; i < res->nrefused; i++)
		cJSON_AddItemToArray(ref, cJSON_CreateNumber(res->refused[i]));
	cJSON_AddBoolToObject(lb, "parity_tested", res->parity);
	cJSON_AddNumberToObject(lb, "sent", (double)res->sent);
	cJSON_AddNumberToObject(lb, "received", (double)res->received);
	cJSON_AddNumberToObject(lb, "bit_errors", (double)res->bit_errors);
	cJSON_AddNumberToObject(lb, "ber", res->ber);
	if (res->rtt_median >= 0) {
		cJSON_AddNumberToObject(lb, "rtt_median_us", (double)res->rtt_median);
		cJSON_AddNumberToObject(lb, "rtt_worst_us", (double)res->rtt_worst);
	} else {
		cJSON_AddNullToObject(lb, "rtt_median_us");
		cJSON_AddNullToObject(lb, "rtt_worst_us");
	}
	cJSON *ml = cJSON_AddObjectToObject(lb, "modem_lines");
	static const char *const how[] = { "tested", "unsupported", "skipped", "failed" };
	cJSON_AddStringToObject(ml, "test", how[res->lines]);
	if (res->lines == SD_LOOPBACK_LINES_TESTED) {
		cJSON_AddBoolToObject(ml, "dtr_dsr", (res->lines_loop & SD_LOOPBACK_DTR_DSR) != 0);
		cJSON_AddBoolToObject(ml, "dtr_dcd", (res->lines_loop & SD_LOOPBACK_DTR_DCD) != 0);
		cJSON_AddBoolToObject(ml, "rts_cts", (res->lines_loop & SD_LOOPBACK_RTS_CTS) != 0);
	}
	return x;
}

int cmd_loopback(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rates", required_argument, NULL, 'r' },
		{ "parity", required_argument, NULL, 'p' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "seed", required_argument, NULL, 's' },
		{ "no-lines", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static uint32_t rates[SD_LOOPBACK_MAX_RATES];
	static uint8_t pars[5];
	sd_loopback_opts o = { 0 };
	char why[256] = "";
	uint32_t u;
	int c, n;

	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if ((n = sd_loopback_parse_rates(optarg, rates, SD_LOOPBACK_MAX_RATES, why, sizeof why)) < 0)
				return cli_usage_error(cli, "--rates: %s", why);
			o.rates = rates;
			o.nrates = (size_t)n;
			break;
		case 'p':
			if ((n = sd_loopback_parse_parities(optarg, pars, 5, why, sizeof why)) < 0)
				return cli_usage_error(cli, "--parity: %s", why);
			o.parities = pars;
			o.nparities = (size_t)n;
			break;
		case 'b':
			if (sd_parse_u32(optarg, SD_LOOPBACK_MIN_BYTES, SD_LOOPBACK_MAX_BYTES, &u) != SD_OK)
				return cli_usage_error(cli, "--bytes needs a count from %u to %u, not '%s'",
						       SD_LOOPBACK_MIN_BYTES, SD_LOOPBACK_MAX_BYTES, optarg);
			o.bytes = u;
			break;
		case 's':
			if (sd_parse_u32(optarg, 0, UINT32_MAX, &u) != SD_OK)
				return cli_usage_error(cli, "--seed needs a number from 0 to 4294967295, not '%s'", optarg);
			o.seed = u;
			break;
		case 'n':
			o.no_lines = 1;
			break;
		default:
			if (optopt && optopt != '?')
				return cli_usage_error(cli, "%s needs a value", argv[optind - 1]);
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, "which target? (e.g. /dev/ttyUSB0 with a jumper from TX to RX)");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra)", argv[optind + 1]);
	const char *target = argv[optind];
	o.budget = cli->timeout_s > 0 ? (sd_time)(cli->timeout_s * 1e6) : 0;

	sd_time t0 = sd_now(sd_clock_real());
	sd_link *link = NULL;
	sd_link_opts lo = { .clock = NULL, .cfg = SD_LINE_CFG_8N1(0), .open_by = SD_FOREVER };
	int err = sd_link_open(target, &lo, &link, why, sizeof why);
	if (err < 0)
		return cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);

	cli_trace tr;
	int rc = cli_trace_open(cli, &tr, link->clock, target, 0);
	if (rc) {
		sd_link_close(link);
		return rc;
	}
	if (cli->trace)
		sd_link_tap(link, &tr.t, target);

	sd_loopback_result *res = malloc(sizeof *res);
	if (!res) {
		sd_link_close(link);
		cli_trace_close(cli, &tr);
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	}
	sd_report r;
	sd_report_init(&r, "loopback", target);
	err = sd_loopback_run(link, &o, res, &r);
	if (err == SD_ERR_NOMEM || err == SD_ERR_ARG) {
		free(res);
		sd_link_close(link);
		cli_trace_close(cli, &tr);
		return cli_error(cli, err == SD_ERR_ARG ? SD_EXIT_USAGE : SD_EXIT_INTERNAL, "%s", sd_strerror(err));
	}
	if (!(link->caps & SD_LINK_VIRTUAL))
		r.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;

	if (cli->json) {
		rc = cli_print_report(cli, &r, extra_json(res));
	} else {
		print_table(cli, res);
		rc = cli_print_report(cli, &r, NULL);
	}
	sd_link_close(link); /* records CLOSE into the trace: close the trace after */
	int trc = cli_trace_close(cli, &tr);
	free(res);
	return trc ? trc : rc;
}
