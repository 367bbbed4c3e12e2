/* `shakedown ports` without hardware: sd_ports_resolve joins ports to USB
 * devices and names them, sd_ports_snapshot feeds sd_watch_step. The
 * devices come from published recordings in tests/data/usb/ (kernel logs:
 * VID:PID, strings, bus, device number, which tty cdc_acm made); what a
 * recording does not show (the port list the OS would give for it, a hub
 * beside it) is built here and says so. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "usb_recording.h"
#include "internal.h" /* sdi_usb_sysfs_fill */

/* A recorded device as libusb and sysfs would report it. */
static sd_usb_device dev_of(const rec_dev *r)
{
	sd_usb_device d;
	memset(&d, 0, sizeof d);
	d.vid = r->vid;
	d.pid = r->pid;
	d.bus = (uint8_t)r->bus;
	d.addr = (uint8_t)r->addr;
	snprintf(d.path, sizeof d.path, "%s", r->path);
	snprintf(d.manufacturer, sizeof d.manufacturer, "%s", r->manufacturer);
	snprintf(d.product, sizeof d.product, "%s", r->product);
	d.serial_driver = -1;
	return d;
}

/* The port libserialport lists for the tty cdc_acm made of it. */
static sd_serial_port port_of(const rec_dev *r, int with_addr)
{
	sd_serial_port s;
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "/dev/%s", r->tty);
	s.transport = SD_TRANSPORT_USB;
	s.vid = r->vid;
	s.pid = r->pid;
	s.bus = with_addr ? r->bus : -1;
	s.addr = with_addr ? r->addr : -1;
	snprintf(s.product, sizeof s.product, "%s", r->product);
	return s;
}

static sd_usb_device hub(uint8_t bus)
{
	/* built, not recorded: the root hub every bus has (Linux 1d6b:0003) */
	sd_usb_device d;
	memset(&d, 0, sizeof d);
	d.vid = 0x1d6b;
	d.pid = 0x0003;
	d.bus = bus;
	d.addr = 1;
	d.serial_driver = -1;
	return d;
}

static void recording_gives_bus_address_and_tty(void **state)
{
	(void)state;
	usb_rec r;
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	assert_int_equal(r.ndev, 2);
	assert_string_equal(r.dev[0].path, "3-5");
	assert_int_equal(r.dev[0].bus, 3);
	assert_int_equal(r.dev[0].addr, 24);
	assert_string_equal(r.dev[0].tty, "ttyACM0");
	assert_string_equal(r.dev[1].path, "3-6");
	assert_int_equal(r.dev[1].addr, 18);
	assert_string_equal(r.dev[1].tty, "ttyACM0");
}

static void preloader_is_joined_to_its_port_and_the_hub_dropped(void **state)
{
	(void)state;
	usb_rec r;
	static sd_ports p;
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	memset(&p, 0, sizeof p);
	p.serial[0] = port_of(&r.dev[0], 1);
	memset(&p.serial[1], 0, sizeof p.serial[1]);
	snprintf(p.serial[1].name, sizeof p.serial[1].name, "/dev/ttyS0");
	p.serial[1].transport = SD_TRANSPORT_NATIVE;
	p.serial[1].bus = p.serial[1].addr = -1;
	p.nserial = 2;
	p.usb[0] = hub(3);
	p.usb[1] = dev_of(&r.dev[0]);
	p.usb[1].manufacturer[0] = '\0'; /* as when sysfs is not readable: the port's strings fill in */
	p.nusb = 2;
	sd_ports_resolve(&p);
	assert_int_equal(p.nusb, 1); /* the hub has no role and no port */
	const sd_usb_device *d = &p.usb[0];
	assert_int_equal(d->pid, 0x2000);
	assert_non_null(d->id);
	assert_int_equal(d->id->kind, SD_USB_MTK_PRELOADER);
	assert_int_equal(d->serial_driver, 1);
	assert_string_equal(d->tty, "/dev/ttyACM0");
	assert_string_equal(d->product, "MT65xx Preloader");
	/* ports sorted by name */
	assert_string_equal(p.serial[0].name, "/dev/ttyACM0");
	assert_string_equal(p.serial[1].name, "/dev/ttyS0");
	/* idempotent */
	sd_ports_resolve(&p);
	assert_int_equal(p.nusb, 1);
	assert_string_equal(p.usb[0].tty, "/dev/ttyACM0");

	/* the watch sees the ports, and the device through its port only */
	sd_port_seen seen[8];
	size_t n = sd_ports_snapshot(&p, seen, 8);
	assert_int_equal(n, 2);
	assert_string_equal(seen[0].name, "/dev/ttyACM0");
	assert_int_equal(seen[0].bus, 3);
	assert_int_equal(seen[0].addr, 24);
	assert_string_equal(seen[1].name, "/dev/ttyS0");
	assert_int_equal(seen[1].vid, 0);
}

static void brom_without_a_serial_driver_still_shows(void **state)
{
	(void)state;
	usb_rec r;
	static sd_ports p;
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	/* The recorded BROM (no strings at all), as a host where cdc_acm did
	 * not take it (Windows without the MediaTek driver, cdc_acm not
	 * loaded): the device is there, the port list is complete and has no
	 * port for it. */
	memset(&p, 0, sizeof p);
	p.usb[0] = dev_of(&r.dev[1]);
	p.usb[1] = hub(3);
	p.nusb = 2;
	sd_ports_resolve(&p);
	assert_int_equal(p.nusb, 1);
	const sd_usb_device *d = &p.usb[0];
	assert_int_equal(d->id->kind, SD_USB_MTK_BROM);
	assert_int_equal(d->serial_driver, 0);
	assert_string_equal(d->tty, "");
	assert_string_equal(d->product, ""); /* the BROM has no strings: VID:PID names it */
	sd_port_seen seen[4];
	assert_int_equal(sd_ports_snapshot(&p, seen, 4), 1);
	assert_string_equal(seen[0].name, "usb:0e8d:0003@3.18");
	assert_int_equal(seen[0].addr, 18);

	/* the same, but the port list failed: unknown, not "none" */
	p.serial_err = SD_ERR_IO;
	sd_ports_resolve(&p);
	assert_int_equal(p.usb[0].serial_driver, -1);

	/* and with cdc_acm's tty, as recorded: served */
	p.serial_err = SD_OK;
	p.serial[0] = port_of(&r.dev[1], 1);
	p.nserial = 1;
	sd_ports_resolve(&p);
	assert_int_equal(p.usb[0].serial_driver, 1);
	assert_string_equal(p.usb[0].tty, "/dev/ttyACM0");
	assert_int_equal(sd_ports_snapshot(&p, seen, 4), 1); /* the port, not the device twice */
	assert_string_equal(seen[0].name, "/dev/ttyACM0");
}

static void without_addresses_a_unique_vid_pid_joins(void **state)
{
	(void)state;
	usb_rec r;
	static sd_ports p;
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	memset(&p, 0, sizeof p);
	p.serial[0] = port_of(&r.dev[0], 0); /* a platform that gives no bus/address */
	p.nserial = 1;
	p.usb[0] = dev_of(&r.dev[0]);
	p.nusb = 1;
	sd_ports_resolve(&p);
	assert_string_equal(p.usb[0].tty, "/dev/ttyACM0");
	/* two devices with that VID:PID: which one is it? Neither, honestly. */
	p.usb[1] = dev_of(&r.dev[0]);
	p.usb[1].addr = 25;
	p.nusb = 2;
	sd_ports_resolve(&p);
	assert_int_equal(p.nusb, 2);
	assert_string_equal(p.usb[0].tty, "");
	assert_string_equal(p.usb[1].tty, "");
	assert_int_equal(p.usb[0].serial_driver, 0);
}

static void more_than_fit_are_cut_not_overrun(void **state)
{
	(void)state;
	static sd_ports p;
	memset(&p, 0, sizeof p);
	p.nusb = SD_PORTS_MAX + 5; /* a caller's bad count */
	for (size_t i = 0; i < SD_PORTS_MAX; i++) {
		p.usb[i] = hub(1);
		p.usb[i].vid = 0x0403;
		p.usb[i].pid = 0x6001;
		p.usb[i].addr = (uint8_t)(SD_PORTS_MAX - i);
	}
	sd_ports_resolve(&p);
	assert_int_equal(p.nusb, SD_PORTS_MAX);
	assert_int_equal(p.usb[0].addr, 1); /* sorted by address */
	sd_port_seen seen[4];
	assert_int_equal(sd_ports_snapshot(&p, seen, 4), 4);
	assert_string_equal(sd_port_transport_name(SD_TRANSPORT_USB), "usb");
	assert_string_equal(sd_port_transport_name(99), "unknown");
}

/* BROM (no tty) -> Preloader (cdc_acm's ttyACM0), as recorded, through
 * sd_ports_resolve and sd_ports_snapshot into the watch, on a fake clock. */
static size_t look(sd_watch *w, sd_fake_clock *fc, sd_ports *p, sd_watch_event *ev)
{
	sd_port_seen seen[SD_WATCH_MAX_PORTS];
	sd_ports_resolve(p);
	size_t n = sd_ports_snapshot(p, seen, SD_WATCH_MAX_PORTS);
	return sd_watch_step(w, sd_now(&fc->base), seen, n, ev, 16);
}

static void brom_without_tty_hands_over_to_preloader(void **state)
{
	(void)state;
	usb_rec r;
	static sd_ports p;
	sd_watch w;
	sd_watch_event ev[16];
	sd_fake_clock fc;
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	sd_fake_clock_init(&fc, SD_S(100));
	sd_watch_init(&w);
	memset(&p, 0, sizeof p);
	assert_int_equal(look(&w, &fc, &p, ev), 0);
	sd_fake_clock_advance(&fc, SD_MS(100));
	p.usb[0] = dev_of(&r.dev[1]); /* BROM, no port */
	p.nusb = 1;
	size_t n = look(&w, &fc, &p, ev);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].type, SD_WATCH_ARRIVED);
	assert_string_equal(ev[0].port.name, "usb:0e8d:0003@3.18");
	sd_fake_clock_advance(&fc, SD_MS(1500)); /* BROM's window closes */
	memset(&p, 0, sizeof p);
	p.usb[0] = dev_of(&r.dev[0]);
	p.serial[0] = port_of(&r.dev[0], 1);
	p.nusb = p.nserial = 1;
	n = look(&w, &fc, &p, ev);
	assert_int_equal(n, 3); /* left, arrived, mode change */
	assert_int_equal(ev[0].type, SD_WATCH_LEFT);
	assert_int_equal(ev[1].type, SD_WATCH_ARRIVED);
	assert_string_equal(ev[1].port.name, "/dev/ttyACM0");
	assert_int_equal(ev[2].type, SD_WATCH_HANDOVER);
	assert_int_equal(ev[2].from_pid, 0x0003);
	assert_int_equal(ev[2].port.pid, 0x2000);
	assert_non_null(strstr(sd_usb_mode_change_text(0x0E8D, ev[2].from_pid, ev[2].port.pid), "Preloader"));
	assert_string_equal(sd_watch_ev_name(ev[2].type), "mode-change");
}

static void sysfs_gives_strings_and_the_bound_driver(void **state)
{
	(void)state;
	usb_rec r;
	const char *root = SD_TEST_DATA "/usb/sysfs-libreecho-108";
	assert_int_equal(usb_rec_load("mtk-brom-and-preloader-libreecho-108.dmesg", &r), 0);
	/* the Preloader: strings from sysfs; cdc_acm failed on 1.0, took 1.1 */
	sd_usb_device d = dev_of(&r.dev[0]);
	d.manufacturer[0] = d.product[0] = '\0';
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 1);
	assert_string_equal(d.manufacturer, "MediaTek");
	assert_string_equal(d.product, "MT65xx Preloader");
	assert_string_equal(d.serial, ""); /* SerialNumber=0: none */
	assert_string_equal(d.driver, "cdc_acm");
	/* strings already known are kept */
	snprintf(d.product, sizeof d.product, "from libusb");
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 1);
	assert_string_equal(d.product, "from libusb");
	/* the BROM: no strings, cdc_acm on 1.0 */
	d = dev_of(&r.dev[1]);
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 1);
	assert_string_equal(d.manufacturer, "");
	assert_string_equal(d.driver, "cdc_acm");
	/* unknown to sysfs, no path, or a path that would leave root: untouched */
	snprintf(d.path, sizeof d.path, "3-7");
	d.driver[0] = '\0';
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 0);
	assert_string_equal(d.driver, "");
	d.path[0] = '\0';
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 0);
	snprintf(d.path, sizeof d.path, "../usb");
	assert_int_equal(sdi_usb_sysfs_fill(root, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recording_gives_bus_address_and_tty),
		cmocka_unit_test(preloader_is_joined_to_its_port_and_the_hub_dropped),
		cmocka_unit_test(brom_without_a_serial_driver_still_shows),
		cmocka_unit_test(without_addresses_a_unique_vid_pid_joins),
		cmocka_unit_test(more_than_fit_are_cut_not_overrun),
		cmocka_unit_test(brom_without_tty_hands_over_to_preloader),
		cmocka_unit_test(sysfs_gives_strings_and_the_bound_driver),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
