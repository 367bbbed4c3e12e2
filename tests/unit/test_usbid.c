/* USB identities and the ports --watch event logic, without hardware:
 * snapshots in, events out. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

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

/* A CDC-ACM layout (communication interface 0 with an interrupt IN,
 * data interface 1 with bulk IN/OUT), as cdc_acm binds the BROM and
 * Preloader; not a byte-for-byte recording of a phone. */
static const sd_usb_if_desc cdc_acm[] = {
	{ .number = 0, .alt = 0, .cls = 0x02, .subcls = 0x02, .nep = 1,
	  .ep = { { 0x83, 0x03, 64 } } },
	{ .number = 1, .alt = 0, .cls = 0x0A, .subcls = 0x00, .nep = 2,
	  .ep = { { 0x81, 0x02, 512 }, { 0x01, 0x02, 512 } } },
};

static void bulk_pipe_is_chosen_from_descriptors(void **state)
{
	(void)state;
	sd_usb_pipe p;
	assert_int_equal(sd_usb_pick_bulk(cdc_acm, 2, -1, &p), SD_OK);
	assert_int_equal(p.iface, 1);
	assert_int_equal(p.ep_in, 0x81);
	assert_int_equal(p.ep_out, 0x01);
	assert_int_equal(p.maxpkt, 512);
	assert_int_equal(p.comm_iface, 0);
	/* asking for the interrupt-only interface finds nothing */
	assert_int_equal(sd_usb_pick_bulk(cdc_acm, 2, 0, &p), SD_ERR_NOTFOUND);
	assert_int_equal(sd_usb_pick_bulk(cdc_acm, 1, -1, &p), SD_ERR_NOTFOUND);

	/* a vendor-specific interface (a libusb filter's view), an alternate
	 * setting to skip, and the bulk pair in an odd order */
	static const sd_usb_if_desc vendor[] = {
		{ .number = 0, .alt = 1, .cls = 0xFF, .nep = 2, .ep = { { 0x82, 0x02, 64 }, { 0x02, 0x02, 64 } } },
		{ .number = 0, .alt = 0, .cls = 0xFF, .nep = 3,
		  .ep = { { 0x04, 0x02, 64 }, { 0x85, 0x03, 8 }, { 0x86, 0x02, 64 } } },
	};
	assert_int_equal(sd_usb_pick_bulk(vendor, 2, -1, &p), SD_OK);
	assert_int_equal(p.iface, 0);
	assert_int_equal(p.ep_in, 0x86);
	assert_int_equal(p.ep_out, 0x04);
	assert_int_equal(p.comm_iface, -1);
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
		cmocka_unit_test(brom_hands_over_to_preloader),
		cmocka_unit_test(arriving_and_leaving_repeatedly_is_a_bootloop),
		cmocka_unit_test(slow_reconnects_are_not_a_loop),
		cmocka_unit_test(more_ports_than_fit_are_cut_not_overrun),
		cmocka_unit_test(usb_targets_parse_or_say_why),
		cmocka_unit_test(bulk_pipe_is_chosen_from_descriptors),
		cmocka_unit_test(usb_link_says_no_such_device_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
