/*
 * shakedown ports [--watch] — every serial port (transport, USB VID:PID,
 * manufacturer, product, serial number) and every USB device with a known
 * role (bridges, native USB boards, bootloaders in DFU or vendor mode,
 * MediaTek download modes), with whether a serial driver serves it. The
 * listing is the library's (sd_ports_list, ports.h), the naming table too
 * (sd_usb_id_lookup), and so is the --watch event logic (sd_watch_step);
 * this file parses options and prints.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_ports_usage[] =
	"usage: shakedown ports [--watch] [--interval MS]\n"
	"\n"
	"Lists every serial port (transport, USB VID:PID, manufacturer, product,\n"
	"serial number) and every USB device with a known role, with or without a\n"
	"port: USB-UART bridges (FTDI, CP210x, CH340/CH343/CH9102, PL2303), boards'\n"
	"native USB (Arduino, RP2040, Espressif USB-Serial/JTAG 303a:1001),\n"
	"bootloaders in DFU or vendor mode (STM32 DFU 0483:df11, RP2040 BOOTSEL,\n"
	"Espressif ROM USB, MediaTek BROM 0e8d:0003 / Preloader 0e8d:2000 / DA\n"
	"0e8d:2001), and whether a serial driver serves each (a BROM without a tty\n"
	"is reached as usb:VID:PID). USB devices without a port need libusb-1.0.\n"
	"\n"
	"  --watch         keep looking; report devices arriving and leaving, a\n"
	"                  device that keeps re-enumerating (a bootloop) and one that\n"
	"                  changes mode (BROM -> Preloader, application -> DFU); ends\n"
	"                  on Ctrl-C or --timeout SECS (no default limit: a watch\n"
	"                  runs until stopped; the plain list reads files only)\n"
	"  --interval MS   how often --watch looks (default 100)\n"
	"  global: --json (the list as one array; --watch: one object a line,\n"
	"          docs/report.md) --timeout SECS -v\n"
	"\n"
	"exit: 0 listed (even none), 2 usage, 3 the OS would not list serial ports\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s && s[0])
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* One row: a serial port (s, with its device d if any) or a device no
 * port serves (s NULL). */
static void row_json(cJSON *arr, const sd_serial_port *s, const sd_usb_device *d)
{
	cJSON *o = cJSON_CreateObject();
	uint16_t vid = s ? s->vid : d->vid, pid = s ? s->pid : d->pid;
	const sd_usb_id *id = vid ? sd_usb_id_lookup(vid, pid) : NULL;
	char vp[16], target[48];
	snprintf(vp, sizeof vp, "%04x:%04x", vid, pid);
	str_or_null(o, "port", s ? s->name : NULL);
	cJSON_AddStringToObject(o, "transport", sd_port_transport_name(s ? s->transport : SD_TRANSPORT_USB));
	str_or_null(o, "usb", vid ? vp : NULL);
	cJSON_AddStringToObject(o, "kind", sd_usb_kind_name(id ? id->kind : SD_USB_OTHER));
	cJSON_AddStringToObject(o, "name", id ? id->name : (s ? cli_esc(s->description) : ""));
	if (id && id->hint[0])
		cJSON_AddStringToObject(o, "hint", id->hint);
	str_or_null(o, "manufacturer", d && d->manufacturer[0] ? d->manufacturer : s ? s->manufacturer : NULL);
	str_or_null(o, "product", d && d->product[0] ? d->product : s ? s->product : NULL);
	str_or_null(o, "serial", d && d->serial[0] ? d->serial : s ? s->serial : NULL);
	int bus = d ? d->bus : s->bus, addr = d ? d->addr : s->addr;
	if (vid && bus >= 0 && addr >= 0) {
		cJSON_AddNumberToObject(o, "bus", bus);
		cJSON_AddNumberToObject(o, "address", addr);
	} else {
		cJSON_AddNullToObject(o, "bus");
		cJSON_AddNullToObject(o, "address");
	}
	str_or_null(o, "driver", d ? d->driver : NULL);
	if (s)
		cJSON_AddBoolToObject(o, "serial_driver", 1);
	else if (d->serial_driver < 0)
		cJSON_AddNullToObject(o, "serial_driver");
	else
		cJSON_AddBoolToObject(o, "serial_driver", d->serial_driver);
	if (!s) {
		snprintf(target, sizeof target, "usb:%04x:%04x@%u.%u", d->vid, d->pid, d->bus, d->addr);
		cJSON_AddStringToObject(o, "target", target);
	}
	cJSON_AddItemToArray(arr, o);
}

static void row_text(sd_cli *cli, const sd_serial_port *s, const sd_usb_device *d)
{
	FILE *f = cli->out;
	uint16_t vid = s ? s->vid : d->vid, pid = s ? s->pid : d->pid;
	const sd_usb_id *id = vid ? sd_usb_id_lookup(vid, pid) : NULL;
	char vp[16] = "-";
	if (vid)
		snprintf(vp, sizeof vp, "%04x:%04x", vid, pid);
	fprintf(f, "%-16s %-9s %-10s %-14s %s\n", s ? cli_esc(s->name) : "(no port)",
		sd_port_transport_name(s ? s->transport : SD_TRANSPORT_USB), vp,
		sd_usb_kind_name(id ? id->kind : SD_USB_OTHER), id ? id->name : (s ? cli_esc(s->description) : ""));
	const char *mfr = d && d->manufacturer[0] ? d->manufacturer : s ? s->manufacturer : "";
	const char *prod = d && d->product[0] ? d->product : s ? s->product : "";
	const char *ser = d && d->serial[0] ? d->serial : s ? s->serial : "";
	if (mfr[0] || prod[0] || ser[0])
		fprintf(f, "%17s%s%s%s%s%s%s\n", "", mfr[0] ? "manufacturer: " : "", cli_esc(mfr),
			prod[0] ? (mfr[0] ? "  product: " : "product: ") : "", cli_esc(prod),
			ser[0] ? (mfr[0] || prod[0] ? "  serial: " : "serial: ") : "", cli_esc(ser));
	if (!s && d->serial_driver == 0)
		fprintf(f, "%17sno serial driver bound%s%s%s; as a target: usb:%04x:%04x@%u.%u\n", "",
			d->driver[0] ? " (its driver: " : "", cli_esc(d->driver), d->driver[0] ? ")" : "", d->vid, d->pid,
			d->bus, d->addr);
	else if (!s && d->serial_driver < 0)
		fprintf(f, "%17sserial driver unknown (the port list failed); as a target: usb:%04x:%04x@%u.%u\n", "",
			d->vid, d->pid, d->bus, d->addr);
	if (id && id->hint[0])
		fprintf(f, "%17s%s\n", "", id->hint);
}

/* The device behind serial port s, if listed. */
static const sd_usb_device *device_of(const sd_ports *p, const sd_serial_port *s)
{
	for (size_t i = 0; i < p->nusb; i++)
		if (p->usb[i].tty[0] && strcmp(p->usb[i].tty, s->name) == 0)
			return &p->usb[i];
	return NULL;
}

static int list(sd_cli *cli)
{
	static sd_ports p;
	int err = sd_ports_list(&p);
	if (err != SD_OK)
		return cli_error(cli, SD_EXIT_OPEN, "cannot list serial ports: %s", p.serial_why);
	cJSON *arr = cli->json ? cJSON_CreateArray() : NULL;
	if (cli->json && !arr)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	size_t rows = 0;
	for (size_t i = 0; i < p.nserial; i++, rows++)
		if (arr)
			row_json(arr, &p.serial[i], device_of(&p, &p.serial[i]));
		else
			row_text(cli, &p.serial[i], device_of(&p, &p.serial[i]));
	for (size_t i = 0; i < p.nusb; i++) {
		if (p.usb[i].tty[0])
			continue;
		rows++;
		if (arr)
			row_json(arr, NULL, &p.usb[i]);
		else
			row_text(cli, NULL, &p.usb[i]);
	}
	if (!arr && rows == 0)
		fprintf(cli->out, "no serial ports%s (a phone in BROM shows as 0e8d:0003 once connected)\n",
			p.usb_err == SD_OK ? " and no USB device with a known role" : "");
	if (arr) {
		char *s = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		if (!s)
			return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		cli_put_json(cli->out, s);
		fputc('\n', cli->out);
		cJSON_free(s);
	}
	/* on stderr: the list on stdout stays what it says */
	if (p.usb_err != SD_OK)
		fprintf(cli->err, "shakedown ports: USB devices without a serial port are not listed: %s\n",
			cli_esc(p.usb_why));
	if (p.cut)
		fprintf(cli->err, "shakedown ports: %zu more not listed (at most %d of each)\n", p.cut, SD_PORTS_MAX);
	return SD_EXIT_OK;
}

static void print_event(sd_cli *cli, const sd_watch_event *e, sd_time t0)
{
	const sd_usb_id *id = e->port.vid ? sd_usb_id_lookup(e->port.vid, e->port.pid) : NULL;
	const char *name = id ? id->name : "";
	double s = (double)(e->t - t0) / 1e6;
	char vp[16] = "-", from[16] = "";
	if (e->port.vid)
		snprintf(vp, sizeof vp, "%04x:%04x", e->port.vid, e->port.pid);
	if (e->type == SD_WATCH_HANDOVER)
		snprintf(from, sizeof from, "%04x:%04x", e->port.vid, e->from_pid);
	const char *text = e->type == SD_WATCH_HANDOVER
		? sd_usb_mode_change_text(e->port.vid, e->from_pid, e->port.pid) : "";
	if (cli->json) {
		cJSON *o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddStringToObject(o, "event", sd_watch_ev_name(e->type));
		cJSON_AddNumberToObject(o, "t_ms", (double)((e->t - t0) / 1000));
		cJSON_AddStringToObject(o, "port", e->port.name);
		str_or_null(o, "usb", e->port.vid ? vp : NULL);
		cJSON_AddStringToObject(o, "kind", sd_usb_kind_name(id ? id->kind : SD_USB_OTHER));
		cJSON_AddStringToObject(o, "name", name);
		if (e->type == SD_WATCH_HANDOVER) {
			cJSON_AddStringToObject(o, "from_usb", from);
			cJSON_AddStringToObject(o, "text", text);
		}
		if (e->type == SD_WATCH_BOOTLOOP) {
			cJSON_AddNumberToObject(o, "count", e->count);
			cJSON_AddNumberToObject(o, "window_s", (double)(SD_WATCH_LOOP_WINDOW / 1000000));
		}
		char *j = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (j) {
			cli_put_json(cli->out, j);
			fputc('\n', cli->out);
		}
		cJSON_free(j);
	} else if (e->type == SD_WATCH_HANDOVER) {
		fprintf(cli->out, "+%8.3f s  mode      %s -> %s %s: %s\n", s, from, vp, cli_esc(e->port.name), text);
	} else if (e->type == SD_WATCH_BOOTLOOP) {
		fprintf(cli->out, "+%8.3f s  bootloop  %s %s arrived %u times within %d s: the device reboots "
			"in a loop\n", s, cli_esc(e->port.name), vp, e->count, (int)(SD_WATCH_LOOP_WINDOW / 1000000));
	} else {
		fprintf(cli->out, "+%8.3f s  %-9s %s %s %s\n", s, sd_watch_ev_name(e->type), cli_esc(e->port.name), vp, name);
	}
	fflush(cli->out);
}

static int watch(sd_cli *cli, unsigned interval_ms)
{
	static sd_watch w;
	static sd_ports p;
	static sd_port_seen now[SD_WATCH_MAX_PORTS];
	sd_watch_event ev[16];
	const sd_clock *clk = sd_clock_real();
	sd_time t0 = sd_now(clk);
	sd_time end = cli->timeout_s > 0 ? t0 + (sd_time)(cli->timeout_s * 1e6) : SD_FOREVER;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sd_watch_init(&w);
	int said_usb = 0;
	if (!cli->json) {
		fprintf(cli->out, "watching serial ports and USB devices (Ctrl-C to stop)\n");
		fflush(cli->out);
	}
	while (!stop) {
		sd_time t = sd_now(clk);
		if (sd_ports_list(&p) != SD_OK)
			return cli_error(cli, SD_EXIT_OPEN, "cannot list serial ports: %s", p.serial_why);
		if (p.usb_err != SD_OK && !said_usb++)
			fprintf(cli->err, "shakedown ports: watching serial ports only: %s\n", cli_esc(p.usb_why));
		size_t n = sd_ports_snapshot(&p, now, SD_WATCH_MAX_PORTS);
		size_t ne = sd_watch_step(&w, t, now, n, ev, sizeof ev / sizeof ev[0]);
		for (size_t i = 0; i < ne; i++)
			print_event(cli, &ev[i], t0);
		if (t >= end)
			break;
		sd_time next = t + (sd_time)interval_ms * 1000;
		clk->sleep_until(clk, next < end ? next : end);
	}
	return SD_EXIT_OK;
}

int cmd_ports(sd_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "watch", no_argument, NULL, 'w' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	int c, do_watch = 0;
	uint32_t interval = 100;
	opterr = 0;
	optind = 0; /* glibc: a full restart, options may follow operands */
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			do_watch = 1;
			break;
		case 'i':
			if (sd_parse_u32(optarg, 10, 10000, &interval) != SD_OK)
				return cli_usage_error(cli, "--interval needs 10 to 10000 ms, not '%s'", optarg);
			break;
		default:
			return cli_usage_error(cli, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(cli, "ports takes no arguments ('%s')", argv[optind]);
	return do_watch ? watch(cli, interval) : list(cli);
}
