/*
 * shakedown doctor [TARGET] — the host layer: permissions, processes that
 * hold the port, lock files, ModemManager, brltty, kernel drivers. The
 * checks are the library's (sd_doctor_run, include/shakedown/doctor.h);
 * this file parses options and prints.
 */
#include <getopt.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_doctor_usage[] =
	"usage: shakedown doctor [options] [TARGET]\n"
	"\n"
	"Checks the host side of a port: the device node, whether you may open it,\n"
	"which processes hold it open (screen, minicom, a serial monitor, ModemManager,\n"
	"gpsd, brltty ...), UUCP lock files, ModemManager probing it with AT commands,\n"
	"brltty taking CH340 adapters, and the kernel driver bound. Each check prints\n"
	"PASS, WARN, FAIL or SKIP with a one-line summary, and the exact fix under\n"
	"failures. Without TARGET: the system-wide checks (groups, ModemManager, brltty).\n"
	"\n"
	"TARGET: /dev/ttyUSB0, ttyACM0, serial:/dev/ttyACM0?baud=115200, usb:VID:PID[@BUS.ADDR]\n"
	"        (sim: and tcp:// targets have no host side: one SKIP line, exit 0)\n"
	"\n"
	"options:\n"
	"  --no-open      do not open() the node (opening a tty raises DTR/RTS, which\n"
	"                 resets Arduino-style boards)\n"
	"  --root DIR     read /proc, /sys, /dev, /run, /etc under DIR instead of /\n"
	"                 (a chroot, a container's root, a test fixture); implies --no-open\n"
	"  global: --json\n"
	"\n"
	"time: no --timeout needed: doctor reads files (each with a size cap) and\n"
	"opens the node without waiting (O_NONBLOCK); it never reads the port\n"
	"\n"
	"exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage,\n"
	"            3 the target does not exist\n"
	"\n"
	"examples:\n"
	"  shakedown doctor /dev/ttyUSB0\n"
	"  shakedown doctor usb:0e8d:0003\n"
	"  shakedown doctor --json\n";

static cJSON *extra_json(const sd_doctor *d)
{
	cJSON *x = cJSON_CreateObject();
	if (!x)
		return NULL;
	cJSON *cs = cJSON_AddArrayToObject(x, "checks");
	for (size_t i = 0; i < d->nchecks; i++) {
		const sd_check *k = &d->checks[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", k->id);
		cJSON_AddStringToObject(o, "status", sd_check_status_name(k->status));
		if (k->cause != SD_CAUSE_OK)
			cJSON_AddStringToObject(o, "cause", sd_cause_name(k->cause));
		else
			cJSON_AddNullToObject(o, "cause");
		cJSON_AddStringToObject(o, "summary", k->summary);
		if (k->fix[0])
			cJSON_AddStringToObject(o, "fix", k->fix);
		if (k->detail[0]) {
			cJSON *dl = cJSON_AddArrayToObject(o, "detail");
			const char *p = k->detail;
			while (*p) {
				const char *nl = strchr(p, '\n');
				size_t len = nl ? (size_t)(nl - p) : strlen(p);
				char line[SD_DETAIL_MAX];
				snprintf(line, sizeof line, "%.*s", (int)len, p);
				cJSON_AddItemToArray(dl, cJSON_CreateString(line));
				p += len + (nl ? 1 : 0);
			}
		}
		cJSON_AddItemToArray(cs, o);
	}
	if (d->kind == SD_DOCTOR_TTY || d->kind == SD_DOCTOR_USB) {
		cJSON *dev = cJSON_AddObjectToObject(x, "device");
		cJSON_AddStringToObject(dev, "path", d->dev_path);
		cJSON_AddBoolToObject(dev, "present", d->present);
		if (d->tty[0])
			cJSON_AddStringToObject(dev, "tty", d->tty);
		if (d->major || d->minor) {
			char mm[24];
			snprintf(mm, sizeof mm, "%u:%u", d->major, d->minor);
			cJSON_AddStringToObject(dev, "devnum", mm);
		}
		if (d->has_usb) {
			char vp[16];
			snprintf(vp, sizeof vp, "%04x:%04x", d->vid, d->pid);
			cJSON_AddStringToObject(dev, "usb", vp);
			if (d->usb_name[0])
				cJSON_AddStringToObject(dev, "usb_name", d->usb_name);
		}
		if (d->driver[0])
			cJSON_AddStringToObject(dev, "driver", d->driver);
		if (d->usb_driver[0])
			cJSON_AddStringToObject(dev, "usb_driver", d->usb_driver);
		cJSON *hs = cJSON_AddArrayToObject(x, "holders");
		for (size_t i = 0; i < d->nholders; i++) {
			const sd_holder *h = &d->holders[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddNumberToObject(o, "pid", h->pid);
			cJSON_AddNumberToObject(o, "uid", h->uid);
			cJSON_AddStringToObject(o, "comm", h->comm);
			cJSON_AddStringToObject(o, "cmdline", h->cmdline);
			cJSON_AddStringToObject(o, "what", h->what);
			cJSON_AddBoolToObject(o, "benign", h->benign);
			cJSON_AddItemToArray(hs, o);
		}
	}
	return x;
}

static void print_text(sd_cli *cli, const char *target, const sd_doctor *d)
{
	FILE *f = cli->out;
	static const char *const col[] = { "32", "2", "33", "31" };
	fprintf(f, "%sdoctor %s%s\n", cli_c(cli, "1"), target ? cli_esc(target) : "(system)", cli_c0(cli));
	for (size_t i = 0; i < d->nchecks; i++) {
		const sd_check *k = &d->checks[i];
		fprintf(f, "%s%s%s %-13s %s\n", cli_c(cli, col[k->status & 3]), sd_check_status_name(k->status),
			cli_c0(cli), k->id, cli_esc(k->summary));
		if (cli->verbose || k->status == SD_CHECK_FAIL || k->status == SD_CHECK_WARN) {
			const char *p = k->detail;
			while (*p) {
				const char *nl = strchr(p, '\n');
				int len = nl ? (int)(nl - p) : (int)strlen(p);
				fprintf(f, "     %-13s - ", "");
				cli_fput_esc(f, p, (size_t)len);
				fputc('\n', f);
				p += len + (nl ? 1 : 0);
			}
		}
		if (k->fix[0] && (k->status == SD_CHECK_FAIL || k->status == SD_CHECK_WARN))
			fprintf(f, "     %-13s %sfix:%s %s\n", "", cli_c(cli, "1"), cli_c0(cli), cli_esc(k->fix));
	}
}

int cmd_doctor(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "no-open", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	sd_doctor_opts o = { 0 };
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (!optarg[0])
				return cli_usage_error(cli, "--root needs a folder");
			o.root = optarg;
			break;
		case 'n':
			o.flags |= SD_DOCTOR_NO_OPEN;
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "one target at a time (got '%s' and '%s')", argv[optind], argv[optind + 1]);
	const char *target = optind < argc ? argv[optind] : NULL;

	sd_time t0 = sd_now(sd_clock_real());
	static sd_doctor d;
	char why[256];
	int r = sd_doctor_run(target, &o, &d, why, sizeof why);
	if (r == SD_ERR_ARG)
		return cli_usage_error(cli, "%s", why);
	if (r != SD_OK && r != SD_ERR_NOTFOUND)
		return cli_error(cli, cli_exit_for_err(r), "%s", sd_strerror(r));

	sd_check_status worst = sd_doctor_worst(&d);
	int rc = r == SD_ERR_NOTFOUND ? SD_EXIT_OPEN : worst == SD_CHECK_FAIL ? SD_EXIT_FAIL : SD_EXIT_OK;
	if (cli->json) {
		sd_report rep;
		sd_report_init(&rep, "doctor", target ? target : "");
		rep.ok = rc == SD_EXIT_OK;
		sd_doctor_diag(&d, &rep.diag);
		rep.elapsed_ms = (sd_now(sd_clock_real()) - t0) / 1000;
		cli_print_report(cli, &rep, extra_json(&d));
	} else {
		print_text(cli, target, &d);
	}
	if (r == SD_ERR_NOTFOUND)
		return cli_error(cli, SD_EXIT_OPEN, "%s", why);
	return rc;
}
