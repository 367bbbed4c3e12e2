/*
 * shakedown ports [--watch] — serial ports with their USB identity, naming
 * MediaTek BROM / Preloader / DA by PID, the common USB-UART bridges and
 * boards (the table is the library's: sd_usb_id_lookup). --watch reports
 * arrivals, departures, bootloops and BROM -> Preloader hand-overs (the
 * event logic is the library's too: sd_watch_step).
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libserialport.h>
#include <cJSON.h>
#include "cli.h"
#include "commands.h"

const char cmd_ports_usage[] =
	"usage: shakedown ports [--watch] [--interval MS]\n"
	"\n"
	"Lists serial ports with their USB VID:PID and what that identity is:\n"
	"MediaTek BootROM (0e8d:0003), Preloader (0e8d:2000), DA (0e8d:2001),\n"
	"CH340/CP210x/FTDI/PL2303 bridges, STM32 DFU, Espressif USB-JTAG, Arduino.\n"
	"\n"
	"  --watch         keep looking; report ports arriving and leaving, a device\n"
	"                  that arrives and leaves repeatedly (a bootloop) and a\n"
	"                  MediaTek BROM -> Preloader hand-over; ends on Ctrl-C or\n"
	"                  --timeout SECS\n"
	"  --interval MS   how often --watch looks (default 100)\n"
	"  global: --json --timeout SECS\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The ports now, as the watch logic sees them; returns the count or -1. */
static int snapshot(sd_port_seen *out, size_t cap, char descr[][96])
{
	struct sp_port **ports = NULL;
	if (sp_list_ports(&ports) != SP_OK)
		return -1;
	size_t n = 0;
	for (size_t i = 0; ports[i] && n < cap; i++) {
		sd_port_seen *p = &out[n];
		memset(p, 0, sizeof *p);
		snprintf(p->name, sizeof p->name, "%s", sp_get_port_name(ports[i]));
		int vid = 0, pid = 0;
		if (sp_get_port_transport(ports[i]) == SP_TRANSPORT_USB &&
		    sp_get_port_usb_vid_pid(ports[i], &vid, &pid) == SP_OK) {
			p->vid = (uint16_t)vid;
			p->pid = (uint16_t)pid;
		}
		if (descr) {
			const char *d = sp_get_port_description(ports[i]);
			snprintf(descr[n], sizeof descr[n], "%s", d ? d : "");
		}
		n++;
	}
	sp_free_port_list(ports);
	return (int)n;
}

static void print_port(sd_cli *cli, const sd_port_seen *p, const char *descr, cJSON *arr)
{
	const sd_usb_id *id = p->vid ? sd_usb_id_lookup(p->vid, p->pid) : NULL;
	if (arr) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "port", p->name);
		if (p->vid) {
			char vp[16];
			snprintf(vp, sizeof vp, "%04x:%04x", p->vid, p->pid);
			cJSON_AddStringToObject(o, "usb", vp);
		} else {
			cJSON_AddNullToObject(o, "usb");
		}
		cJSON_AddStringToObject(o, "kind", sd_usb_kind_name(id ? id->kind : SD_USB_OTHER));
		cJSON_AddStringToObject(o, "name", id ? id->name : (descr ? descr : ""));
		if (id && id->hint[0])
			cJSON_AddStringToObject(o, "hint", id->hint);
		cJSON_AddItemToArray(arr, o);
		return;
	}
	char vp[16] = "-";
	if (p->vid)
		snprintf(vp, sizeof vp, "%04x:%04x", p->vid, p->pid);
	fprintf(cli->out, "%-16s %-10s %-14s %s\n", p->name, vp,
		sd_usb_kind_name(id ? id->kind : SD_USB_OTHER), id ? id->name : (descr ? descr : ""));
	if (id && id->hint[0])
		fprintf(cli->out, "%-16s %-10s %-14s %s\n", "", "", "", id->hint);
}

static void print_event(sd_cli *cli, const sd_watch_event *e, sd_time t0)
{
	const sd_usb_id *id = e->port.vid ? sd_usb_id_lookup(e->port.vid, e->port.pid) : NULL;
	const char *name = id ? id->name : "";
	double s = (double)(e->t - t0) / 1e6;
	switch (e->type) {
	case SD_WATCH_ARRIVED:
		fprintf(cli->out, "+%8.3f s  arrived   %s %04x:%04x %s\n", s, e->port.name, e->port.vid, e->port.pid, name);
		break;
	case SD_WATCH_LEFT:
		fprintf(cli->out, "+%8.3f s  left      %s %04x:%04x %s\n", s, e->port.name, e->port.vid, e->port.pid, name);
		break;
	case SD_WATCH_HANDOVER:
		fprintf(cli->out, "+%8.3f s  hand-over %04x:%04x -> %04x:%04x: %s\n", s, e->port.vid, e->from_pid,
			e->port.vid, e->port.pid,
			id && id->kind == SD_USB_MTK_PRELOADER
				? "BROM gave way to the Preloader (BROM saw no handshake in time)"
				: "the Preloader's window closed and the phone booted on");
		break;
	case SD_WATCH_BOOTLOOP:
		fprintf(cli->out, "+%8.3f s  bootloop  %s %04x:%04x arrived %u times within %d s: the device reboots "
			"in a loop (bootloop)\n", s, e->port.name, e->port.vid, e->port.pid, e->count,
			(int)(SD_WATCH_LOOP_WINDOW / 1000000));
		break;
	default:
		break;
	}
	fflush(cli->out);
}

static int watch(sd_cli *cli, unsigned interval_ms)
{
	static sd_watch w;
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
	fprintf(cli->out, "watching serial ports (Ctrl-C to stop)\n");
	fflush(cli->out);
	while (!stop) {
		sd_time t = sd_now(clk);
		int n = snapshot(now, SD_WATCH_MAX_PORTS, NULL);
		if (n < 0)
			return cli_error(cli, SD_EXIT_OPEN, "cannot list serial ports");
		size_t ne = sd_watch_step(&w, t, now, (size_t)n, ev, sizeof ev / sizeof ev[0]);
		for (size_t i = 0; i < ne; i++)
			print_event(cli, &ev[i], t0);
		if (t >= end)
			break;
		clk->sleep_until(clk, t + (sd_time)interval_ms * 1000);
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
	if (do_watch)
		return watch(cli, interval);

	static sd_port_seen now[SD_WATCH_MAX_PORTS];
	static char descr[SD_WATCH_MAX_PORTS][96];
	int n = snapshot(now, SD_WATCH_MAX_PORTS, descr);
	if (n < 0)
		return cli_error(cli, SD_EXIT_OPEN, "cannot list serial ports");
	cJSON *arr = cli->json ? cJSON_CreateArray() : NULL;
	if (cli->json && !arr)
		return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
	if (!cli->json && n == 0)
		fprintf(cli->out, "no serial ports (a phone in BROM shows as 0e8d:0003 once connected)\n");
	for (int i = 0; i < n; i++)
		print_port(cli, &now[i], descr[i], arr);
	if (arr) {
		char *s = cJSON_PrintUnformatted(arr);
		cJSON_Delete(arr);
		if (!s)
			return cli_error(cli, SD_EXIT_INTERNAL, "out of memory");
		fprintf(cli->out, "%s\n", s);
		cJSON_free(s);
	}
	return SD_EXIT_OK;
}
