/*
 * shakedown sim PROTO [key=value ...] — a simulated device on a pty, for
 * other tools (avrdude, stm32flash, your own). Prints the pty's path alone
 * on the first line, then serves until SIGINT or SIGTERM.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

const char cmd_sim_usage[] =
	"usage: shakedown sim PROTO [key=value ...]\n"
	"       shakedown sim --list\n"
	"\n"
	"PROTO: {sims} (shakedown sim --list)\n"
	"\n"
	"Serves a simulated device on a pseudo-terminal. The first line of output\n"
	"is the pty's path (give it to your tool); the device serves until\n"
	"interrupted (Ctrl-C, SIGTERM): a server has no default time limit;\n"
	"--timeout SECS stops it after SECS (exit 0).\n"
	"Options are the keys of a sim: target, as key=value, --key value or\n"
	"--key=value: mode, text, baud, and the fault keys noise (bit-error rate),\n"
	"seed, flood, flood_after, flood_kind, drop, dup, delay_ms, echo,\n"
	"disconnect_after, hang_after_bytes (a device that stops answering after\n"
	"that many bytes). A Linux pty carries no parity and no modem lines;\n"
	"lines=FIFO gives it DTR/RTS: one byte per change written into FIFO\n"
	"(bit 0 DTR, bit 1 RTS), e.g. by an RFC 2217 server in front of the pty.\n"
	"With -v every command the device receives is logged on standard error.\n"
	"global: --timeout SECS -v\n"
	"\n"
	"examples:\n"
	"  shakedown sim app text='hello world\\r\\n'\n"
	"  shakedown sim app mode=echo\n";

static volatile int stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* key=value, --key value, --key=value into kv */
static int collect(sd_cli *cli, int argc, char **argv, int i, sd_kv *kv, size_t *n)
{
	for (; i < argc; i++) {
		const char *a = argv[i], *eq;
		char key[SD_URI_KEYLEN];
		const char *val;
		if (strncmp(a, "--", 2) == 0) {
			a += 2;
			eq = strchr(a, '=');
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else
				return cli_usage_error(cli, "--%s needs a value", a);
		} else {
			eq = strchr(a, '=');
			if (!eq)
				return cli_usage_error(cli, "'%s' is not key=value", a);
			val = eq + 1;
		}
		size_t klen = eq ? (size_t)(eq - a) : strlen(a);
		if (klen == 0 || klen >= sizeof key)
			return cli_usage_error(cli, "bad option name in '%s'", argv[i]);
		if (strlen(val) >= SD_URI_VALLEN)
			return cli_usage_error(cli, "the value of %.*s is too long", (int)klen, a);
		if (*n >= SD_URI_MAXQ)
			return cli_usage_error(cli, "too many options (at most %d)", SD_URI_MAXQ);
		memcpy(key, a, klen);
		key[klen] = '\0';
		if (sd_kv_get(kv, *n, key))
			return cli_usage_error(cli, "option '%s' is given twice", key);
		snprintf(kv[*n].key, sizeof kv[*n].key, "%s", key);
		snprintf(kv[*n].val, sizeof kv[*n].val, "%s", val);
		(*n)++;
	}
	return 0;
}

static void log_entry(void *ctx, const sd_simlog_entry *e)
{
	sd_cli *cli = ctx;
	fprintf(cli->err, "sim: +%lld.%06lld cmd 0x%02x %s%s\n", (long long)(e->t / 1000000),
		(long long)(e->t % 1000000), e->code, e->name, e->destructive ? " (destructive)" : "");
}

int cmd_sim(sd_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < sd_sim_count(); i++) {
			const sd_sim_kind *k = sd_sim_at(i);
			fprintf(cli->out, "%-8s %s\n         modes: %s\n", k->name, k->title, k->modes);
		}
		/* the protocols without a device, and why */
		for (size_t i = 0, others = 0; i < sd_proto_count(); i++) {
			char why[256];
			if (sd_sim_find_for(sd_proto_at(i)->name, NULL, why, sizeof why) == SD_OK)
				continue;
			if (!others++)
				fprintf(cli->out, "not here:\n");
			fprintf(cli->out, "  %s\n", why);
		}
		return SD_EXIT_OK;
	}
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage_error(cli, "which device? (shakedown sim --list)");
	const sd_sim_kind *kind = NULL;
	char why[256] = "";
	if (sd_sim_find_for(argv[1], &kind, why, sizeof why) != SD_OK)
		return cli_usage_error(cli, "%s", why);

	static sd_kv kv[SD_URI_MAXQ], dev[SD_URI_MAXQ];
	size_t nkv = 0, ndev = 0;
	int rc = collect(cli, argc, argv, 2, kv, &nkv);
	if (rc)
		return rc;
	/* lines=FIFO is the pty's, not the device's */
	char lines_fifo[SD_URI_VALLEN] = "";
	for (size_t i = 0; i < nkv; i++)
		if (strcmp(kv[i].key, "lines") == 0) {
			snprintf(lines_fifo, sizeof lines_fifo, "%s", kv[i].val);
			kv[i] = kv[--nkv];
			break;
		}
	sd_fault_cfg fc;
	if (sd_sim_fault_keys(kv, nkv, &fc, dev, &ndev, why, sizeof why) != SD_OK)
		return cli_usage_error(cli, "%s", why);
	sd_sim_device *d = calloc(1, kind->size);
	if (!d)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	if (kind->init(d, dev, ndev, why, sizeof why) != SD_OK) {
		free(d);
		return cli_usage_error(cli, "%s", why);
	}

	char path[128];
	sd_link *pty = NULL, *link = NULL;
	int err = sd_link_open_pty(NULL, &pty, path, sizeof path, why, sizeof why);
	if (err < 0) {
		free(d);
		return cli_error(cli, SD_EXIT_OPEN, "%s", why);
	}
	if (lines_fifo[0] && sd_link_pty_lines(pty, lines_fifo, why, sizeof why) != SD_OK) {
		sd_link_close(pty);
		free(d);
		return cli_error(cli, SD_EXIT_OPEN, "%s", why);
	}
	/* Faults other than the device's own rate wrap the pty; a pty carries
	 * no rate, so a rate mismatch cannot be modelled here. */
	err = sd_link_open_fault(pty, &fc, &link);
	if (err < 0) {
		sd_link_close(pty);
		free(d);
		return cli_error(cli, SD_EXIT_INTERNAL, "cannot set up faults: %s", sd_strerror(err));
	}
	fprintf(cli->out, "%s\n", path);
	fflush(cli->out);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cli->timeout_s > 0) {
		/* --timeout: serve SECS, then stop as on SIGTERM */
		sigaction(SIGALRM, &sa, NULL);
		struct itimerval it = { { 0, 0 }, { 0, 0 } };
		it.it_value.tv_sec = (time_t)cli->timeout_s;
		it.it_value.tv_usec = (suseconds_t)((cli->timeout_s - (double)it.it_value.tv_sec) * 1e6);
		if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
			it.it_value.tv_usec = 1;
		setitimer(ITIMER_REAL, &it, NULL);
	}

	if (cli->verbose) {
		d->log.notify = log_entry;
		d->log.notify_ctx = cli;
	}
	err = sd_sim_serve(d, link, &stop);
	sd_link_close(link);
	free(d);
	if (err < 0)
		return cli_error(cli, SD_EXIT_OPEN, "the pty failed: %s", sd_strerror(err));
	return SD_EXIT_OK;
}
