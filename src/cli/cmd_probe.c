/*
 * shakedown probe TARGET — listen, try the safe first frame of a handshake
 * if the line is silent, classify what came back, report a diagnosis.
 *
 * Read-only by construction: it sends only the protocols' read-only first
 * frames from the protocol table (GET_SYNC, 0x7F, 0xA0 ...), one each, in
 * table order, only when nothing talked first and only while nothing
 * answers.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

const char cmd_probe_usage[] =
	"usage: shakedown probe [options] TARGET\n"
	"\n"
	"Works out what is on the other end and why a handshake fails: listens,\n"
	"tries one safe (read-only) first frame if the line is silent, classifies\n"
	"what came back and prints a diagnosis. Sends nothing that writes, erases\n"
	"or jumps.\n"
	"\n"
	"TARGET: /dev/ttyUSB0, serial:/dev/ttyACM0?baud=57600, tcp://host:port,\n"
	"        sim:app?text=hello (a simulated board; see shakedown sim --list)\n"
	"\n"
	"options:\n"
	"  --baud N        the host's baud rate (default 115200)\n"
	"  --listen MS     listen this long before anything is sent (default 1000)\n"
	"  --expect PROTO  the protocol you expect (stk500, stm32, mtk, esp, tls)\n"
	"  --no-poke       only listen, send nothing at all\n"
	"  global: --json --trace FILE --timeout SECS -v\n"
	"\n"
	"exit: 0 a bootloader answered, 1 it did not (diagnosis printed),\n"
	"      2 usage, 3 cannot open the target\n";

#define PROBE_RX_CAP (64u * 1024u)
#define PROBE_TRACE_CAP (2u * 1024u * 1024u)

/* The next protocol after `after` (NULL: the first) whose read-only first
 * frame can be sent on this link. */
static const sd_proto *next_poke(const sd_proto *after, unsigned caps)
{
	if (caps & SD_LINK_NET)
		return NULL; /* network services: listen for a banner (TLS has its own command) */
	size_t i = 0;
	if (after)
		while (i < sd_proto_count() && sd_proto_at(i) != after)
			i++;
	for (i = after ? i + 1 : 0; i < sd_proto_count(); i++) {
		const sd_proto *p = sd_proto_at(i);
		if (p->poke && p->poke_len && p->line.baud)
			return p;
	}
	return NULL;
}

/* A protocol's frame format (parity, data and stop bits) at the link's
 * current rate, where the link can set it. */
static void use_frame(sd_link *link, const sd_proto *p)
{
	if (!(link->caps & SD_LINK_BAUD) || !link->cfg.baud)
		return;
	sd_line_cfg cfg = p->line;
	cfg.baud = link->cfg.baud;
	if (memcmp(&cfg, &link->cfg, sizeof cfg) != 0)
		sd_link_set_cfg(link, &cfg);
}

static void fill_answered_by(sd_report *r, const sd_proto *poked, int likely)
{
	if (poked && likely >= 80) {
		snprintf(r->by.protocol, sizeof r->by.protocol, "%s", poked->name);
		snprintf(r->by.mode, sizeof r->by.mode, "bootloader");
		return;
	}
	if (r->diag.n == 0)
		return;
	switch (r->diag.f[0].cause) {
	case SD_CAUSE_APP_RUNNING:
		snprintf(r->by.mode, sizeof r->by.mode, "application");
		break;
	case SD_CAUSE_BOOT_LOG:
	case SD_CAUSE_WRONG_BOOT_MODE:
	case SD_CAUSE_BOOTLOOP:
		snprintf(r->by.mode, sizeof r->by.mode, "boot-log");
		break;
	case SD_CAUSE_ECHO:
		snprintf(r->by.mode, sizeof r->by.mode, "echo");
		break;
	default:
		break;
	}
}

int cmd_probe(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "baud", required_argument, NULL, 'b' },
		{ "listen", required_argument, NULL, 'l' },
		{ "expect", required_argument, NULL, 'e' },
		{ "no-poke", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t baud = 0, listen_ms = 1000;
	const char *expect = NULL;
	int no_poke = 0, c;

	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (sd_parse_u32(optarg, 50, 20000000, &baud) != SD_OK)
				return cli_usage_error(cli, "--baud needs a rate between 50 and 20000000, not '%s'", optarg);
			break;
		case 'l':
			if (sd_parse_u32(optarg, 0, 600000, &listen_ms) != SD_OK)
				return cli_usage_error(cli, "--listen needs milliseconds (0 to 600000), not '%s'", optarg);
			break;
		case 'e':
			expect = optarg;
			if (!sd_proto_find(expect))
				return cli_usage_error(cli, "unknown protocol '%s' for --expect", expect);
			break;
		case 'n':
			no_poke = 1;
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, "which target? (e.g. /dev/ttyUSB0 or 'sim:app?text=hello')");
	if (optind + 1 < argc)
		return cli_usage_error(cli, "one target at a time ('%s' is extra)", argv[optind + 1]);
	const char *target = argv[optind];

	sd_time t0 = sd_now(sd_clock_real());
	char why[256] = "";
	sd_link *link = NULL;
	sd_link_opts lo = { .clock = NULL, .cfg = SD_LINE_CFG_8N1(baud), .open_by = SD_FOREVER };
	int err = sd_link_open(target, &lo, &link, why, sizeof why);
	if (err < 0)
		return cli_open_failed(cli, target, err, why[0] ? why : sd_strerror(err), t0);

	cli_trace tr;
	int rc = cli_trace_open(cli, &tr, link->clock, target, PROBE_TRACE_CAP);
	if (rc) {
		sd_link_close(link);
		return rc;
	}
	sd_trace_run run = { .command = "probe", .baud = baud, .listen = SD_MS(listen_ms),
			     .no_poke = no_poke,
			     .budget = cli->timeout_s > 0 ? (sd_time)(cli->timeout_s * 1e6) : 0 };
	snprintf(run.link, sizeof run.link, "%s", sd_link_name(link));
	snprintf(run.expect, sizeof run.expect, "%s", expect ? expect : "");
	run.caps = link->caps;
	cli_trace_run(&tr, &run);
	sd_link_tap(link, &tr.t, target);
	if (baud && (link->caps & SD_LINK_BAUD)) {
		sd_line_cfg cfg = link->cfg;
		cfg.baud = baud;
		if (!cfg.data_bits)
			cfg = SD_LINE_CFG_8N1(baud);
		sd_link_set_cfg(link, &cfg);
	}

	uint8_t *rx = malloc(PROBE_RX_CAP);
	if (!rx) {
		cli_trace_close(cli, &tr);
		sd_link_close(link);
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	}
	sd_time budget = cli->timeout_s > 0 ? (sd_time)(cli->timeout_s * 1e6) : SD_S(10);
	sd_deadline overall = sd_deadline_in(link->clock, budget);

	/* 1. Listen: what does the line say on its own? */
	sd_listen L;
	sd_listen_init(&L, rx, PROBE_RX_CAP, SD_MS(listen_ms), NULL, 0, 0);
	err = sd_run(&L.eng, link, overall);
	size_t used = L.len, heard = L.len;
	int64_t listened_ms = (int64_t)listen_ms;

	/* 2. Poke: the protocols' read-only first frames, one each, while nothing
	 * answers. On a silent line every row in table order; on a talking line
	 * only the rows that claim what it says (a Preloader's "READY"), since a
	 * poke would only add our bytes to an application's text. */
	const sd_proto *cand[16];
	size_t ncand = 0;
	if (!no_poke && err == SD_OK) {
		if (expect)
			cand[ncand++] = sd_proto_find(expect);
		for (const sd_proto *p = next_poke(NULL, link->caps); p && !expect && ncand < 16;
		     p = next_poke(p, link->caps)) {
			char why_not[200];
			if (heard == 0 || (p->explain && p->explain(rx, heard, NULL, 0, why_not,
								    sizeof why_not) >= 50))
				cand[ncand++] = p;
		}
	}
	uint8_t sent_all[128];
	size_t sent_all_len = 0, answer_at = used;
	const sd_proto *poke = NULL;
	int likely = 0;
	char meaning[200] = "";
	for (size_t i = 0; i < ncand && err == SD_OK && sd_now(link->clock) < overall; i++) {
		const sd_proto *p = cand[i];
		if (!p->poke || sent_all_len + p->poke_len > sizeof sent_all)
			continue;
		use_frame(link, p);
		sd_listen_init(&L, rx + used, PROBE_RX_CAP - used, 0, p->poke, p->poke_len, SD_MS(500));
		err = sd_run(&L.eng, link, overall);
		if (!L.poked)
			break;
		memcpy(sent_all + sent_all_len, p->poke, p->poke_len);
		sent_all_len += p->poke_len;
		listened_ms += 500;
		poke = p;
		answer_at = used;
		used += L.len;
		if (L.len == 0)
			continue;
		if (p->explain)
			likely = p->explain(rx + answer_at, L.len, p->poke, p->poke_len, meaning, sizeof meaning);
		break; /* bytes came back: they are the evidence, whatever they mean */
	}

	sd_report r;
	sd_report_init(&r, "probe", target);
	const uint8_t *sent = sent_all_len ? sent_all : NULL;
	size_t sent_len = sent_all_len;
	if (err == SD_ERR_CLOSED || err == SD_ERR_IO) {
		sd_finding *f = sd_diag_add(&r.diag, SD_CAUSE_DISCONNECTED, 0.95f);
		if (f) {
			sd_finding_summary(f, "the device disconnected after %zu bytes: %s",
					   used, sd_link_why(link, err));
			sd_finding_evidence(f, sent, sent_len, rx, used);
		}
	}
	if (poke && likely >= 80) {
		sd_finding *f = sd_diag_add(&r.diag, SD_CAUSE_OK, likely / 100.0f);
		if (f) {
			sd_finding_summary(f, "%s answered: %s", poke->title, meaning);
			sd_finding_evidence(f, poke->poke, poke->poke_len, rx + answer_at, used - answer_at);
			if (heard)
				sd_finding_detail(f, "the line spoke first (%zu bytes); this protocol claimed them", heard);
		}
		r.ok = 1;
	} else {
		sd_classify_in in = {
			.rx = rx, .rx_len = used, .tx = sent, .tx_len = sent_len,
			.expect = expect,
			.host_baud = (link->caps & SD_LINK_BAUD) ? link->cfg.baud : 0,
			.link_caps = link->caps,
			.listen_ms = listened_ms,
		};
		sd_classify(&in, &r.diag);
	}
	sd_diag_sort(&r.diag);
	fill_answered_by(&r, poke, likely);
	r.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;

	rc = cli_print_report(cli, &r, NULL);
	sd_link_close(link); /* records CLOSE into the trace: close the trace after */
	cli_trace_outcome(&tr, &r);
	int trc = cli_trace_close(cli, &tr);
	free(rx);
	return trc ? trc : rc;
}
