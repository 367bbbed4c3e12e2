/* USB identities and the ports --watch event logic, without hardware:
 * snapshots in, events out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "usb_recording.h"

static void names_mediatek_modes_bridges_and_boards(void **state)
{
	(void)state;
	assert_int_equal(sd_usb_id_lookup(0x0E8D, 0x0003)->kind, SD_USB_MTK_BROM);
	assert_int_equal(sd_usb_id_lookup(0x0E8D, 0x2000)->kind, SD_USB_MTK_PRELOADER);
	assert_int_equal(sd_usb_id_lookup(0x0E8D, 0x2001)->kind, SD_USB_MTK_DA);
	/* any other MediaTek PID: booted further, not a download mode */
	assert_int_equal(sd_usb_id_lookup(0x0E8D, 0x2006)->kind, SD_USB_MTK_OTHER);
	assert_string_equal(sd_usb_kind_name(SD_USB_MTK_BROM), "mtk-brom");
	assert_non_null(strstr(sd_usb_id_lookup(0x1A86, 0x7523)->name, "CH340"));
	assert_non_null(strstr(sd_usb_id_lookup(0x10C4, 0xEA60)->name, "CP210"));
	assert_non_null(strstr(sd_usb_id_lookup(0x0403, 0x6001)->name, "FTDI"));
	assert_int_equal(sd_usb_id_lookup(0x0483, 0xDF11)->kind, SD_USB_BOOTLOADER);
	assert_non_null(strstr(sd_usb_id_lookup(0x303A, 0x1001)->name, "USB-JTAG"));
	assert_int_equal(sd_usb_id_lookup(0x2341, 0x0043)->kind, SD_USB_BOARD);
	assert_null(sd_usb_id_lookup(0x1234, 0x5678));
	assert_null(sd_usb_id_lookup(0x1A86, 0x0001)); /* WCH, but not a known bridge */
}

static void the_table_covers_the_roles_ports_names(void **state)
{
	(void)state;
	static const struct { uint16_t vid, pid; sd_usb_kind kind; const char *word; } want[] = {
		{ 0x0403, 0x6001, SD_USB_BRIDGE, "FTDI" },
		{ 0x0403, 0x6015, SD_USB_BRIDGE, "FTDI" },
		{ 0x10C4, 0xEA60, SD_USB_BRIDGE, "CP2102C" }, /* CP2102C keeps CP210x's default PID */
		{ 0x1A86, 0x7523, SD_USB_BRIDGE, "CH340" },
		{ 0x1A86, 0x55D4, SD_USB_BRIDGE, "CH9102" },
		{ 0x1A86, 0x55D3, SD_USB_BRIDGE, "CH343" },
		{ 0x067B, 0x2303, SD_USB_BRIDGE, "PL2303" },
		{ 0x067B, 0x23A3, SD_USB_BRIDGE, "PL2303" },
		{ 0x2341, 0x0043, SD_USB_BOARD, "Arduino" },
		{ 0x2341, 0x8036, SD_USB_BOARD, "Leonardo" },
		{ 0x2341, 0x0036, SD_USB_BOOTLOADER, "Caterina" },
		{ 0x2E8A, 0x000A, SD_USB_BOARD, "RP2040" },
		{ 0x2E8A, 0x0003, SD_USB_BOOTLOADER, "BOOTSEL" },
		{ 0x303A, 0x1001, SD_USB_BOARD, "USB-JTAG" },
		{ 0x303A, 0x0002, SD_USB_BOOTLOADER, "ESP32-S2 ROM" },
		{ 0x303A, 0x0009, SD_USB_BOOTLOADER, "ESP32-S3 ROM" }, /* PID = IMAGE_CHIP_ID (esptool uses_usb_otg) */
		{ 0x303A, 0x0012, SD_USB_BOOTLOADER, "ESP32-P4 ROM" },
		{ 0x10C4, 0xEA64, SD_USB_BRIDGE, "CP2102C" },         /* esptool's hardware-flow-control list */
		{ 0x0483, 0xDF11, SD_USB_BOOTLOADER, "DFU" },
		{ 0x0483, 0x5740, SD_USB_BOARD, "STM32" },
		{ 0x0E8D, 0x0003, SD_USB_MTK_BROM, "BootROM" },
		{ 0x0E8D, 0x2000, SD_USB_MTK_PRELOADER, "Preloader" },
		{ 0x0E8D, 0x2001, SD_USB_MTK_DA, "download agent" },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const sd_usb_id *id = sd_usb_id_lookup(want[i].vid, want[i].pid);
		if (!id || id->kind != want[i].kind || !strstr(id->name, want[i].word))
			fail_msg("%04x:%04x: %s (%s), wanted %s with '%s'", want[i].vid, want[i].pid,
				 id ? id->name : "unknown", id ? sd_usb_kind_name(id->kind) : "-",
				 sd_usb_kind_name(want[i].kind), want[i].word);
	}
}

static sd_port_seen P(const char *name, uint16_t vid, uint16_t pid)
{
	sd_port_seen p;
	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "%s", name);
	p.vid = vid;
	p.pid = pid;
	return p;
}

static size_t step(sd_watch *w, double s, const sd_port_seen *ports, size_t n, sd_watch_event *ev)
{
	return sd_watch_step(w, (sd_time)(s * 1e6), ports, n, ev, 16);
}

static size_t count(const sd_watch_event *ev, size_t n, int type)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += ev[i].type == type;
	return k;
}

static void brom_hands_over_to_preloader(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_port_seen s0[] = { P("/dev/ttyS0", 0, 0) };
	sd_port_seen brom[] = { P("/dev/ttyS0", 0, 0), P("/dev/ttyACM0", 0x0E8D, 0x0003) };
	sd_port_seen pl[] = { P("/dev/ttyS0", 0, 0), P("/dev/ttyACM0", 0x0E8D, 0x2000) };
	sd_watch_init(&w);
	assert_int_equal(step(&w, 0, s0, 1, ev), 0); /* the baseline says nothing */
	assert_int_equal(step(&w, 1, brom, 2, ev), 1);
	assert_int_equal(ev[0].type, SD_WATCH_ARRIVED);
	assert_int_equal(ev[0].port.pid, 0x0003);
	assert_int_equal(step(&w, 1.1, brom, 2, ev), 0);
	assert_int_equal(step(&w, 3, s0, 1, ev), 1);
	assert_int_equal(ev[0].type, SD_WATCH_LEFT);
	size_t n = step(&w, 3.4, pl, 2, ev);
	assert_int_equal(count(ev, n, SD_WATCH_ARRIVED), 1);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 1);
	assert_int_equal(count(ev, n, SD_WATCH_BOOTLOOP), 0);
	for (size_t i = 0; i < n; i++)
		if (ev[i].type == SD_WATCH_HANDOVER) {
			assert_int_equal(ev[i].from_pid, 0x0003);
			assert_int_equal(ev[i].port.pid, 0x2000);
		}
	/* a PID change in one step (no gap seen) is a hand-over too */
	sd_port_seen booted[] = { P("/dev/ttyS0", 0, 0), P("/dev/ttyACM1", 0x0E8D, 0x2006) };
	n = step(&w, 6, booted, 2, ev);
	assert_int_equal(count(ev, n, SD_WATCH_LEFT), 1);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 1);
	/* BROM -> Preloader -> booted: three arrivals, three identities: no loop */
	assert_int_equal(count(ev, n, SD_WATCH_BOOTLOOP), 0);
}

static void arriving_and_leaving_repeatedly_is_a_bootloop(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_port_seen none[1];
	sd_port_seen pl[] = { P("/dev/ttyACM0", 0x0E8D, 0x2000) };
	size_t loops = 0, n;
	sd_watch_init(&w);
	step(&w, 0, none, 0, ev);
	for (int i = 0; i < 5; i++) {
		n = step(&w, 1 + i * 4, pl, 1, ev);
		loops += count(ev, n, SD_WATCH_BOOTLOOP);
		if (i == 2) {
			assert_int_equal(count(ev, n, SD_WATCH_BOOTLOOP), 1);
			for (size_t k = 0; k < n; k++)
				if (ev[k].type == SD_WATCH_BOOTLOOP)
					assert_int_equal(ev[k].count, 3);
		}
		n = step(&w, 3 + i * 4, none, 0, ev);
		assert_int_equal(count(ev, n, SD_WATCH_LEFT), 1);
	}
	assert_int_equal(loops, 1); /* said once per run of arrivals */
}

static void slow_reconnects_are_not_a_loop(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_port_seen none[1];
	sd_port_seen ch340[] = { P("/dev/ttyUSB0", 0x1A86, 0x7523) };
	size_t loops = 0;
	sd_watch_init(&w);
	step(&w, 0, none, 0, ev);
	for (int i = 0; i < 6; i++) {
		size_t n = step(&w, 1 + i * 40, ch340, 1, ev);
		loops += count(ev, n, SD_WATCH_BOOTLOOP);
		step(&w, 2 + i * 40, none, 0, ev);
	}
	assert_int_equal(loops, 0);
}

static void an_application_jumping_to_dfu_is_a_mode_change(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_fake_clock fc;
	sd_port_seen app[] = { P("/dev/ttyACM0", 0x0483, 0x5740) };
	sd_port_seen dfu[] = { P("usb:0483:df11@1.9", 0x0483, 0xDF11) };
	sd_port_seen none[1];
	sd_fake_clock_init(&fc, 0);
	sd_watch_init(&w);
	sd_watch_step(&w, sd_now(&fc.base), app, 1, ev, 16);
	sd_fake_clock_advance(&fc, SD_MS(100));
	assert_int_equal(sd_watch_step(&w, sd_now(&fc.base), none, 0, ev, 16), 1);
	sd_fake_clock_advance(&fc, SD_MS(900));
	size_t n = sd_watch_step(&w, sd_now(&fc.base), dfu, 1, ev, 16);
	assert_int_equal(count(ev, n, SD_WATCH_ARRIVED), 1);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 1);
	assert_int_equal(ev[n - 1].from_pid, 0x5740);
	assert_int_equal(ev[n - 1].port.pid, 0xDF11);
	assert_non_null(strstr(sd_usb_mode_change_text(0x0483, 0x5740, 0xDF11), "bootloader"));
	/* and back to the application after the download: a mode change too */
	sd_fake_clock_advance(&fc, SD_S(2));
	n = sd_watch_step(&w, sd_now(&fc.base), app, 1, ev, 16);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 1);
	assert_non_null(strstr(sd_usb_mode_change_text(0x0483, 0xDF11, 0x5740), "application"));
	/* a mode change long after the departure is only an arrival */
	sd_fake_clock_advance(&fc, SD_S(1));
	sd_watch_step(&w, sd_now(&fc.base), none, 0, ev, 16);
	sd_fake_clock_advance(&fc, SD_WATCH_HANDOVER_TIME + SD_S(1));
	n = sd_watch_step(&w, sd_now(&fc.base), dfu, 1, ev, 16);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 0);
}

static void two_bridges_of_a_vendor_swapped_are_no_mode_change(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_port_seen ft232r[] = { P("/dev/ttyUSB0", 0x0403, 0x6001) };
	sd_port_seen ftx[] = { P("/dev/ttyUSB0", 0x0403, 0x6015) };
	sd_watch_init(&w);
	step(&w, 0, ft232r, 1, ev);
	size_t n = step(&w, 1, ftx, 1, ev); /* swapped between two looks */
	assert_int_equal(count(ev, n, SD_WATCH_LEFT), 1);
	assert_int_equal(count(ev, n, SD_WATCH_ARRIVED), 1);
	assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 0);
}

static void a_reboot_between_two_looks_is_seen_by_its_new_address(void **state)
{
	(void)state;
	sd_watch w;
	sd_watch_event ev[16];
	sd_fake_clock fc;
	/* An ESP32-C3 crashing and resetting: its USB-Serial/JTAG leaves and
	 * returns within one look, as the same /dev/ttyACM0; only the USB
	 * address the host gave it moves on. Before the address was part of
	 * what the watch compares, this loop was invisible. */
	sd_port_seen s;
	sd_fake_clock_init(&fc, 0);
	sd_watch_init(&w);
	s = P("/dev/ttyACM0", 0x303A, 0x1001);
	s.bus = 1;
	s.addr = 10;
	sd_watch_step(&w, sd_now(&fc.base), &s, 1, ev, 16);
	size_t loops = 0, arrivals = 0;
	for (int i = 1; i <= 4; i++) {
		sd_fake_clock_advance(&fc, SD_S(2));
		s.addr = (uint8_t)(10 + i);
		size_t n = sd_watch_step(&w, sd_now(&fc.base), &s, 1, ev, 16);
		assert_int_equal(count(ev, n, SD_WATCH_LEFT), 1);
		arrivals += count(ev, n, SD_WATCH_ARRIVED);
		loops += count(ev, n, SD_WATCH_BOOTLOOP);
		if (i == 3)
			assert_int_equal(count(ev, n, SD_WATCH_BOOTLOOP), 1);
		assert_int_equal(count(ev, n, SD_WATCH_HANDOVER), 0); /* same PID: no mode change */
	}
	assert_int_equal(arrivals, 4);
	assert_int_equal(loops, 1);
	/* the same look again (same address): nothing */
	sd_fake_clock_advance(&fc, SD_MS(100));
	assert_int_equal(sd_watch_step(&w, sd_now(&fc.base), &s, 1, ev, 16), 0);
	assert_string_equal(sd_watch_ev_name(SD_WATCH_BOOTLOOP), "bootloop");
	assert_string_equal(sd_watch_ev_name(0), "?");
}

static void more_ports_than_fit_are_cut_not_overrun(void **state)
{
	(void)state;
	static sd_watch w;
	sd_watch_event ev[4];
	static sd_port_seen many[SD_WATCH_MAX_PORTS + 8];
	for (size_t i = 0; i < (sizeof many / sizeof many[0]); i++) {
		char name[32];
		snprintf(name, sizeof name, "/dev/ttyUSB%zu", i);
		many[i] = P(name, 0x0403, 0x6001);
	}
	sd_watch_init(&w);
	step(&w, 0, many, 0, ev);
	size_t n = sd_watch_step(&w, SD_S(1), many, (sizeof many / sizeof many[0]), ev, 4);
	assert_int_equal(n, 4); /* capped at the caller's room */
	assert_int_equal(w.nprev, SD_WATCH_MAX_PORTS);
}

static void usb_targets_parse_or_say_why(void **state)
{
	(void)state;
	sd_usb_target t;
	char why[200] = "";
	sd_kv q[2];
	assert_int_equal(sd_usb_target_parse("0e8d:0003", NULL, 0, &t, why, sizeof why), SD_OK);
	assert_int_equal(t.vid, 0x0E8D);
	assert_int_equal(t.pid, 0x0003);
	assert_false(t.has_addr);
	assert_false(t.detach); /* never unless asked */
	assert_int_equal(t.iface, -1);
	snprintf(q[0].key, sizeof q[0].key, "detach");
	snprintf(q[0].val, sizeof q[0].val, "1");
	snprintf(q[1].key, sizeof q[1].key, "iface");
	snprintf(q[1].val, sizeof q[1].val, "1");
	assert_int_equal(sd_usb_target_parse("0E8D:2000@3.17", q, 2, &t, why, sizeof why), SD_OK);
	assert_int_equal(t.pid, 0x2000);
	assert_true(t.has_addr);
	assert_int_equal(t.bus, 3);
	assert_int_equal(t.addr, 17);
	assert_true(t.detach);
	assert_int_equal(t.iface, 1);
	assert_int_equal(sd_usb_target_parse("0e8d", NULL, 0, &t, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "usb:VID:PID"));
	assert_int_equal(sd_usb_target_parse("0e8d:00003", NULL, 0, &t, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_usb_target_parse("0e8g:0003", NULL, 0, &t, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_usb_target_parse("0e8d:0003@1", NULL, 0, &t, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_usb_target_parse("0e8d:0003@1.300", NULL, 0, &t, why, sizeof why), SD_ERR_ARG);
	snprintf(q[0].val, sizeof q[0].val, "yes");
	assert_int_equal(sd_usb_target_parse("0e8d:0003", q, 1, &t, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "detach"));
}

/* ---- the libusb link's pipe choice, on published recordings ----------
 * Each file in tests/data/usb/ is a descriptor dump or kernel log users
 * posted (its first line cites where); usb_recording.h turns it into the
 * table src/link/usb.c fills from libusb, and sd_usb_pick_bulk chooses
 * from that table as it does for a real device. No BROM (0e8d:0003) or DA
 * (0e8d:2001) descriptor dump was found published: the BROM is covered by
 * a kernel log only (which interface cdc_acm took, which strings it has). */

static void recorded_preloader_pipe_is_the_cdc_data_interface(void **state)
{
	(void)state;
	usb_rec r;
	sd_usb_pipe p;
	/* bkerler/mtkclient#53: comm interface 0 (interrupt IN 0x83), then
	 * data interface 1 (bulk OUT 0x01, bulk IN 0x81) */
	assert_int_equal(usb_rec_load("mtk-preloader-mtkclient-53.lsusb", &r), 0);
	assert_int_equal(r.nifs, 2);
	assert_int_equal(r.ifs[0].number, 0);
	assert_int_equal(r.ifs[0].cls, 0x02);
	assert_int_equal(r.ifs[0].subcls, 0x02);
	assert_int_equal(r.ifs[0].nep, 1);
	assert_int_equal(r.ifs[0].ep[0].addr, 0x83);
	assert_int_equal(r.ifs[0].ep[0].attr, 0x03);
	assert_int_equal(r.ifs[0].ep[0].maxpkt, 64);
	assert_int_equal(r.ifs[1].number, 1);
	assert_int_equal(r.ifs[1].cls, 0x0A);
	assert_int_equal(r.ifs[1].nep, 2);

	assert_int_equal(sd_usb_pick_bulk(r.ifs, r.nifs, -1, &p), SD_OK);
	assert_int_equal(p.iface, 1);       /* not 0: mtkclient's auto-pick chose the comm interface (PR #264) */
	assert_int_equal(p.ep_in, 0x81);
	assert_int_equal(p.ep_out, 0x01);
	assert_int_equal(p.comm_iface, 0);  /* DTR/RTS go to interface 0 */
	/* iface= as asked: 1 works, 0 (interrupt only) has no bulk pair */
	assert_int_equal(sd_usb_pick_bulk(r.ifs, r.nifs, 1, &p), SD_OK);
	assert_int_equal(p.iface, 1);
	assert_int_equal(sd_usb_pick_bulk(r.ifs, r.nifs, 0, &p), SD_ERR_NOTFOUND);
	/* the comm interface alone is no pipe */
	assert_int_equal(sd_usb_pick_bulk(r.ifs, 1, -1, &p), SD_ERR_NOTFOUND);
}

static void recorded_preloader_with_the_data_interface_first(void **state)
{
	(void)state;
	usb_rec r;
	sd_usb_pipe p;
	/* bkerler/mtkclient#345 (MT6789): data interface 1 listed first,
	 * endpoint descriptors of bLength 8 (libusb and Linux read the first 7
	 * bytes and skip the rest); the comm interface is past the recording */
	assert_int_equal(usb_rec_load("mtk-preloader-mt6789-mtkclient-345.lsusb", &r), 0);
	assert_int_equal(r.nifs, 1);
	assert_int_equal(r.ifs[0].number, 1);
	assert_int_equal(r.ifs[0].cls, 0x0A);
	assert_int_equal(r.ifs[0].nep, 2);
	assert_int_equal(r.ep_len[0][0], 8);
	assert_int_equal(r.ep_len[0][1], 8);
	assert_int_equal(r.ifs[0].ep[0].maxpkt, 512);
	assert_int_equal(sd_usb_pick_bulk(r.ifs, r.nifs, -1, &p), SD_OK);
	assert_int_equal(p.iface, 1);
	assert_int_equal(p.ep_in, 0x81);  /* OUT comes first in this device's list */
	assert_int_equal(p.ep_out, 0x01);
	assert_int_equal(p.comm_iface, -1);

	/* Assembled from the two recordings (this whole layout was not itself
	 * published): #345's data interface ahead of #53's comm interface, the
	 * order #345's 70-byte total suggests, gives the same pipe and still
	 * finds the comm interface for DTR/RTS. */
	usb_rec a;
	assert_int_equal(usb_rec_load("mtk-preloader-mtkclient-53.lsusb", &a), 0);
	sd_usb_if_desc data_first[2] = { r.ifs[0], a.ifs[0] };
	assert_int_equal(sd_usb_pick_bulk(data_first, 2, -1, &p), SD_OK);
	assert_int_equal(p.iface, 1);
	assert_int_equal(p.comm_iface, 0);
	assert_int_equal(p.ep_in, 0x81);
	assert_int_equal(p.ep_out, 0x01);
}

static void synthetic_vendor_interface_and_alternate_setting(void **state)
{
	(void)state;
	sd_usb_pipe p;
	/* NOT a recording: a vendor-specific interface (what a libusb/WinUSB
	 * filter shows), an alternate setting to skip, and the bulk pair in an
	 * odd order, to pin the fallbacks of sd_usb_pick_bulk */
	static const sd_usb_if_desc vendor[] = {
		{ .number = 0, .alt = 1, .cls = 0xFF, .nep = 2, .ep = { { 0x82, 0x02, 64 }, { 0x02, 0x02, 64 } } },
		{ .number = 0, .alt = 0, .cls = 0xFF, .nep = 3,
		  .ep = { { 0x04, 0x02, 64 }, { 0x85, 0x03, 8 }, { 0x86, 0x02, 64 } } },
	};
	assert_int_equal(sd_usb_pick_bulk(vendor, 2, -1, &p), SD_OK);
	assert_int_equal(p.iface, 0);
	assert_int_equal(p.ep_in, 0x86);
	assert_int_equal(p.ep_out, 0x04);
	assert_int_equal(p.maxpkt, 64);
	assert_int_equal(p.comm_iface, -1);
}

static void recorded_devices_are_named_by_vid_pid_not_strings(void **state)
{
	(void)state;
	usb_rec r;
	/* linux-usb list, 2019: `lsusb -v -d 0e8d:2000` of a Preloader */
	assert_int_equal(usb_rec_load("mtk-preloader-2000-linux-usb-2019.lsusb", &r), 0);
	assert_int_equal(r.ndev, 1);
	assert_int_equal(r.dev[0].vid, 0x0E8D);
	assert_int_equal(r.dev[0].pid, 0x2000);
	assert_string_equal(r.dev[0].manufacturer, "MediaTek");
	assert_string_equal(r.dev[0].product, "MT65xx Preloader");
	const sd_usb_id *id = sd_usb_id_lookup(r.dev[0].vid, r.dev[0].pid);
	assert_non_null(id);
	assert_int_equal(id->kind, SD_USB_MTK_PRELOADER);
	assert_non_null(strstr(id->name, "Preloader"));

	/* aslater3/LibreEcho#108: the same MT8516 board as Preloader, then as
	 * BROM. The BROM has no strings at all (Mfr=0, Product=0): VID:PID is
	 * the only thing to name it by. */
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	assert_int_equal(r.ndev, 2);
	assert_int_equal(r.dev[0].pid, 0x2000);
	assert_int_equal(r.dev[0].mfr_index, 1);
	assert_string_equal(r.dev[0].product, "MT65xx Preloader");
	assert_int_equal(r.dev[0].tty_iface, 1); /* cdc_acm failed on 1.0 and took 1.1 */
	assert_int_equal(sd_usb_id_lookup(r.dev[0].vid, r.dev[0].pid)->kind, SD_USB_MTK_PRELOADER);
	assert_int_equal(r.dev[1].vid, 0x0E8D);
	assert_int_equal(r.dev[1].pid, 0x0003);
	assert_int_equal(r.dev[1].mfr_index, 0);
	assert_int_equal(r.dev[1].product_index, 0);
	assert_string_equal(r.dev[1].product, "");
	assert_int_equal(r.dev[1].tty_iface, 0);
	id = sd_usb_id_lookup(r.dev[1].vid, r.dev[1].pid);
	assert_non_null(id);
	assert_int_equal(id->kind, SD_USB_MTK_BROM);
	assert_string_equal(sd_usb_kind_name(id->kind), "mtk-brom");
}

/* Write lines to a scratch file for the loader's bounds. */
static void scratch(const char *path, const char *line, int times)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < times; i++)
		fputs(line, f);
	fclose(f);
}

static void recordings_load_bounded(void **state)
{
	(void)state;
	usb_rec r;
	char path[] = "/tmp/sd_usbrec_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(usb_rec_load("no-such-recording.lsusb", &r), -1);
	/* more interfaces than the table holds: refused, not cut */
	scratch(path, "    Interface Descriptor:\n", REC_MAX_IFS + 1);
	assert_int_equal(usb_rec_load_path(path, &r), -1);
	scratch(path, "    Interface Descriptor:\n", REC_MAX_IFS);
	assert_int_equal(usb_rec_load_path(path, &r), 0);
	assert_int_equal(r.nifs, REC_MAX_IFS);
	/* an endpoint with no interface, too many lines, a line past the buffer */
	scratch(path, "      Endpoint Descriptor:\n", 1);
	assert_int_equal(usb_rec_load_path(path, &r), -1);
	scratch(path, "# comment\n", REC_MAX_LINES + 1);
	assert_int_equal(usb_rec_load_path(path, &r), -1);
	char longline[REC_LINE_MAX + 8];
	memset(longline, 'x', sizeof longline - 2);
	longline[sizeof longline - 2] = '\n';
	longline[sizeof longline - 1] = '\0';
	scratch(path, longline, 1);
	assert_int_equal(usb_rec_load_path(path, &r), -1);
	unlink(path);
}

static void usb_link_says_no_such_device_cleanly(void **state)
{
	(void)state;
	sd_link *l = NULL;
	char why[200] = "";
	/* nobody has a phone with this made-up PID attached */
	int r = sd_link_open("usb:0e8d:7f7f", NULL, &l, why, sizeof why);
	assert_null(l);
	assert_true(r == SD_ERR_NOTFOUND || r == SD_ERR_UNSUPPORTED || r == SD_ERR_IO);
	assert_true(why[0] != '\0');
	if (r == SD_ERR_NOTFOUND)
		assert_non_null(strstr(why, "0e8d:7f7f"));
	assert_int_equal(sd_link_open("usb:zz", NULL, &l, why, sizeof why), SD_ERR_ARG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_mediatek_modes_bridges_and_boards),
		cmocka_unit_test(the_table_covers_the_roles_ports_names),
		cmocka_unit_test(an_application_jumping_to_dfu_is_a_mode_change),
		cmocka_unit_test(two_bridges_of_a_vendor_swapped_are_no_mode_change),
		cmocka_unit_test(a_reboot_between_two_looks_is_seen_by_its_new_address),
		cmocka_unit_test(brom_hands_over_to_preloader),
		cmocka_unit_test(arriving_and_leaving_repeatedly_is_a_bootloop),
		cmocka_unit_test(slow_reconnects_are_not_a_loop),
		cmocka_unit_test(more_ports_than_fit_are_cut_not_overrun),
		cmocka_unit_test(usb_targets_parse_or_say_why),
		cmocka_unit_test(recorded_preloader_pipe_is_the_cdc_data_interface),
		cmocka_unit_test(recorded_preloader_with_the_data_interface_first),
		cmocka_unit_test(synthetic_vendor_interface_and_alternate_setting),
		cmocka_unit_test(recorded_devices_are_named_by_vid_pid_not_strings),
		cmocka_unit_test(recordings_load_bounded),
		cmocka_unit_test(usb_link_says_no_such_device_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
