/*
 * shakedown — the program: global options, the command table, dispatch.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"

static int cmd_help(sd_cli *cli, int argc, char **argv);
static const char cmd_help_usage[] =
	"usage: shakedown help [COMMAND]\n"
	"\n"
	"Prints the main usage (the global options and every command), or the\n"
	"--help text of COMMAND. Exit 0; 2 for a command shakedown does not have.\n";

const sd_cmd sd_commands[] = {
	{ "probe",   "work out what is on the other end and why a handshake fails", cmd_probe_usage, cmd_probe },
	{ "sync",    "run one protocol's handshake robustly and report", cmd_sync_usage, cmd_sync },
	{ "info",    "handshake plus read-only identification (chip, version, flags)", cmd_info_usage, cmd_info },
	{ "tls",     "name what answers a TLS port; list versions, suites, order, groups", cmd_tls_usage, cmd_tls },
	{ "explain", "say what received bytes most likely are, in every protocol we know", cmd_explain_usage, cmd_explain },
	{ "replay",  "print a saved transcript, run what it recorded again, compare the verdicts", cmd_replay_usage, cmd_replay },
	{ "sim",     "serve a simulated device on a pty for other tools", cmd_sim_usage, cmd_sim },
	{ "loopback", "test an adapter and cable with TX tied to RX: errors per baud rate", cmd_loopback_usage, cmd_loopback },
	{ "ports",   "list serial ports and USB devices by role: bridges, boards, bootloader modes", cmd_ports_usage, cmd_ports },
	{ "doctor",  "check the host side of a port: permissions, holders, ModemManager, brltty, drivers", cmd_doctor_usage, cmd_doctor },
	{ "help",    "the main usage, or one command's --help text", cmd_help_usage, cmd_help },
};
const size_t sd_ncommands = sizeof sd_commands / sizeof sd_commands[0];

static const char main_usage[] =
	"usage: shakedown [global options] COMMAND [args]\n"
	"\n"
	"Makes handshakes succeed and, when they fail, says exactly why.\n"
	"\n"
	"global options (anywhere on the line):\n"
	"  --json            print the result as JSON (docs/report.md)\n"
	"  --trace FILE      save every byte and line event as JSON lines\n"
	"  --timeout SECS    overall time limit (every command has a default; its\n"
	"                    --help says which; sim and ports --watch run until stopped)\n"
	"  -v, --verbose     say more (repeatable)\n"
	"  --no-color        no colour even on a terminal (NO_COLOR is honoured too)\n"
	"  --version         print the version\n"
	"  -h, --help        this text; `shakedown COMMAND --help` for a command\n"
	"\n"
	"exit codes: 0 ok, 1 handshake failed (diagnosis printed), 2 usage,\n"
	"            3 cannot open target / host error, 4 internal error\n"
	"\n"
	"commands:\n";

static void print_main_usage(FILE *f)
{
	fputs(main_usage, f);
	for (size_t i = 0; i < sd_ncommands; i++)
		fprintf(f, "  %-9s %s\n", sd_commands[i].name, sd_commands[i].summary);
	fputs("\nThe default target when no hardware is attached: shakedown probe 'sim:app?text=hello'\n", f);
}

/* Both reporters print one line: whatever an argument, a file or a device
 * put into the message is escaped for the terminal (cli_esc) here, in the
 * one place every error passes through. */
__attribute__((format(printf, 2, 0)))
static void vreport(sd_cli *cli, const char *fmt, va_list ap)
{
	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	fprintf(cli->err, "shakedown%s%s: ", cli->cmd ? " " : "", cli->cmd ? cli->cmd : "");
	cli_fput_esc(cli->err, msg, strlen(msg));
	fputc('\n', cli->err);
}

int cli_usage_error(sd_cli *cli, const char *fmt, ...)
{
	/* One line: the cause, then where to read more. */
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(cli->err, "shakedown%s%s: %s (see 'shakedown %s%s--help')\n",
		cli->cmd ? " " : "", cli->cmd ? cli->cmd : "", cli_esc(msg),
		cli->cmd ? cli->cmd : "", cli->cmd ? " " : "");
	return SD_EXIT_USAGE;
}

int cli_error(sd_cli *cli, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(cli, fmt, ap);
	va_end(ap);
	return code;
}

int cli_exit_for_err(int err)
{
	switch (err) {
	case SD_OK:
		return SD_EXIT_OK;
	case SD_ERR_ARG:
		return SD_EXIT_USAGE;
	case SD_ERR_NOTFOUND:
	case SD_ERR_ACCESS:
	case SD_ERR_BUSY:
	case SD_ERR_IO:
	case SD_ERR_UNSUPPORTED:
		return SD_EXIT_OPEN;
	case SD_ERR_NOMEM:
	case SD_ERR_STATE:
		return SD_EXIT_INTERNAL;
	default:
		return SD_EXIT_FAIL;
	}
}

static const sd_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < sd_ncommands; i++)
		if (strcmp(sd_commands[i].name, name) == 0)
			return &sd_commands[i];
	return NULL;
}

/* "unknown command 'x' (commands: probe, sync, ...)": the names come from
 * the table, so a row added there is named here too. */
static int unknown_command(sd_cli *cli, const char *name)
{
	char list[512] = "";
	size_t n = 0;
	for (size_t i = 0; i < sd_ncommands && n < sizeof list; i++) {
		int w = snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", sd_commands[i].name);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return cli_usage_error(cli, "unknown command '%.64s' (commands: %s)", name, list);
}

/* shakedown help [COMMAND]: what --help prints, on stdout, exit 0. */
static int cmd_help(sd_cli *cli, int argc, char **argv)
{
	if (argc > 2)
		return cli_usage_error(cli, "one command at a time ('%s' is extra)", argv[2]);
	if (argc < 2) {
		print_main_usage(cli->out);
		return SD_EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_usage_error(cli, "unknown option '%s'", argv[1]);
	const sd_cmd *c = find_cmd(argv[1]);
	if (!c) {
		cli->cmd = NULL; /* the hint is the main --help */
		return unknown_command(cli, argv[1]);
	}
	cli_usage_print(cli->out, c->usage);
	return SD_EXIT_OK;
}

/* Takes the value of an option given as "--opt VALUE" or "--opt=VALUE".
 * Returns 1 (and advances *i) when argv[*i] is that option. */
static int opt_value(char **argv, int argc, int *i, const char *name, const char **val,
		     int *missing)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != '\0')
		return 0;
	if (*i + 1 >= argc) {
		*missing = 1;
		return 1;
	}
	*val = argv[++*i];
	return 1;
}

int main(int argc, char **argv)
{
	sd_cli cli = { .out = stdout, .err = stderr };
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	cli.color = isatty(STDOUT_FILENO) && !(nc && nc[0]) && !(term && strcmp(term, "dumb") == 0);

	/* Pull the global options out, wherever they are; keep the rest in
	 * order for the command. After "--" nothing is an option. */
	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	if (!rest) {
		fputs("shakedown: out of memory\n", stderr);
		return SD_EXIT_INTERNAL;
	}
	int nrest = 0, help = 0, version = 0, dashdash = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;
		int missing = 0;
		if (dashdash || a[0] != '-' || a[1] == '\0') {
			rest[nrest++] = argv[i];
			continue;
		}
		if (strcmp(a, "--") == 0) {
			dashdash = 1;
			rest[nrest++] = argv[i];
		} else if (strcmp(a, "--json") == 0) {
			cli.json = 1;
		} else if (strcmp(a, "--verbose") == 0) {
			cli.verbose++;
		} else if (a[1] == 'v' && strspn(a + 1, "v") == strlen(a + 1)) {
			cli.verbose += (int)strlen(a + 1); /* -v, -vv, -vvv ... */
		} else if (strcmp(a, "--no-color") == 0) {
			cli.color = 0;
		} else if (strcmp(a, "--version") == 0) {
			version = 1;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = 1;
		} else if (opt_value(argv, argc, &i, "--trace", &val, &missing)) {
			if (missing || !val[0]) {
				free(rest);
				return cli_usage_error(&cli, "--trace needs a file name");
			}
			cli.trace = val;
		} else if (opt_value(argv, argc, &i, "--timeout", &val, &missing)) {
			double s;
			if (missing || sd_parse_double(val, 0.001, 86400.0, &s) != SD_OK) {
				free(rest);
				return cli_usage_error(&cli, "--timeout needs seconds between 0.001 and 86400, not '%s'",
						       missing ? "" : val);
			}
			cli.timeout_s = s;
		} else {
			rest[nrest++] = argv[i]; /* the command's own option */
		}
	}
	rest[nrest] = NULL;

	int rc;
	const sd_cmd *cmd = NULL;
	if (version) {
		printf("shakedown %s\n", sd_version());
		rc = SD_EXIT_OK;
	} else if (nrest == 0 || rest[0][0] == '-') {
		if (help) {
			print_main_usage(stdout);
			rc = SD_EXIT_OK;
		} else if (nrest == 0) {
			print_main_usage(stderr);
			rc = SD_EXIT_USAGE;
		} else {
			rc = cli_usage_error(&cli, "unknown option '%s'", rest[0]);
		}
	} else if (!(cmd = find_cmd(rest[0]))) {
		rc = unknown_command(&cli, rest[0]);
	} else {
		cli.cmd = cmd->name;
		if (help) {
			cli_usage_print(stdout, cmd->usage);
			rc = SD_EXIT_OK;
		} else {
			rc = cmd->run(&cli, nrest, rest);
		}
	}
	if (fflush(stdout) != 0 && rc == SD_EXIT_OK)
		rc = SD_EXIT_OPEN;
	free(rest);
	return rc;
}
