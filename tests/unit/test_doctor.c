/* shakedown doctor on fixture trees (tests/data/env/<case>, built by
 * make-fixtures.sh): each case is copied to a temporary root, where the
 * device nodes git cannot hold are made with mknod (as root; the tests
 * that need a node skip otherwise). Plus the parsers of host text. */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"
#include "env/env.h"

static char root[256];

static void mkroot(const char *fixture)
{
	snprintf(root, sizeof root, "/tmp/sd_doctor_XXXXXX");
	assert_non_null(mkdtemp(root));
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "cp -a '%s/env/%s/.' '%s/' && mkdir -p '%s/dev/bus/usb/001'", SD_TEST_DATA,
		 fixture, root, root);
	assert_int_equal(system(cmd), 0);
}

static int teardown(void **state)
{
	(void)state;
	if (root[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
		root[0] = '\0';
	}
	return 0;
}

/* A character node under the root; 0 when we may not make one (not root). */
static int mknode(const char *rel, unsigned mode, unsigned gid, unsigned maj, unsigned min)
{
	char p[512];
	snprintf(p, sizeof p, "%s%s", root, rel);
	if (geteuid() != 0)
		return 0;
	assert_int_equal(mknod(p, S_IFCHR | mode, makedev(maj, min)), 0);
	assert_int_equal(chmod(p, mode), 0);
	assert_int_equal(chown(p, 0, gid), 0);
	return 1;
}

#define NEED_NODE(...) do { if (!mknode(__VA_ARGS__)) { skip(); } } while (0)

static const sd_ident ada_dialout = { .uid = 1000, .gid = 1000, .groups = { 20, 1000 }, .ngroups = 2 };
static const sd_ident ada_alone = { .uid = 1000, .gid = 1000, .groups = { 1000 }, .ngroups = 1 };

static const sd_check *run_check(const char *target, const sd_ident *id, sd_doctor *d, int want_rc,
				 const char *check)
{
	sd_doctor_opts o = { .root = root, .ident = id };
	char why[256];
	assert_int_equal(sd_doctor_run(target, &o, d, why, sizeof why), want_rc);
	const sd_check *k = sd_doctor_check(d, check);
	if (!k)
		fail_msg("no check '%s'", check);
	return k;
}

static sd_doctor dr;

/* ---- parsers ------------------------------------------------------------------ */

static void parses_lock_files(void **state)
{
	(void)state;
	const char *hdb = "      4242\n", *named = "4242 minicom ada\n";
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)hdb, strlen(hdb)), 4242);
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)named, strlen(named)), 4242);
	int32_t bin = 777;
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)&bin, 4), 777);
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)"junk\n", 5), -1);
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)"42x", 3), -1);
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)"99999999999\n", 12), -1);
	assert_int_equal(sdi_env_lock_pid((const uint8_t *)"", 0), -1);
}

static void parses_udev_data_and_status(void **state)
{
	(void)state;
	const char *u = "I:1\nE:ID_MM_CANDIDATE=1\nE:ID_MM_DEVICE_IGNORE=1\nG:systemd";
	char v[16];
	assert_int_equal(sdi_env_udev_get(u, strlen(u), "ID_MM_DEVICE_IGNORE", v, sizeof v), 1);
	assert_string_equal(v, "1");
	assert_int_equal(sdi_env_udev_get(u, strlen(u), "ID_MM", v, sizeof v), 0); /* a prefix is no key */
	assert_int_equal(sdi_env_udev_get(u, 20, "ID_MM_DEVICE_IGNORE", v, sizeof v), 0); /* bounded */

	const char *st = "Name:\tx\nUid:\t1000\t1001\t1000\t1000\nGid:\t20\t21\t20\t20\nGroups:\t4 20 46 \n";
	sd_ident id;
	assert_int_equal(sdi_env_status_ident(st, strlen(st), &id), 0);
	assert_int_equal(id.uid, 1001); /* effective */
	assert_int_equal(id.gid, 21);
	assert_int_equal(id.ngroups, 3);
	assert_int_equal(id.groups[2], 46);
	assert_int_equal(sdi_env_status_uid(st, strlen(st)), 1000); /* real */
	assert_int_equal(sdi_env_status_ident("Name:\tx\n", 8, &id), -1);

	const uint8_t cmd[] = "python3\0-m\0serial.tools.miniterm\0/dev/ttyUSB0\0";
	char line[64], a[16];
	sdi_env_cmdline(cmd, sizeof cmd - 1, line, sizeof line);
	assert_string_equal(line, "python3 -m serial.tools.miniterm /dev/ttyUSB0");
	assert_int_equal(sdi_env_cmdline_arg(cmd, sizeof cmd - 1, 1, a, sizeof a), 1);
	assert_string_equal(a, "-m");
	assert_int_equal(sdi_env_cmdline_arg(cmd, sizeof cmd - 1, 4, a, sizeof a), 0);
	sd_holder h;
	sdi_env_name_process("python3", cmd, sizeof cmd - 1, &h);
	assert_non_null(strstr(h.what, "miniterm"));
	const uint8_t sim[] = "/usr/bin/shakedown\0sim\0app\0";
	sdi_env_name_process("shakedown", sim, sizeof sim - 1, &h);
	assert_true(h.benign);

	uint32_t maj, min;
	assert_int_equal(sdi_env_devnum("188:3\n", 6, &maj, &min), 0);
	assert_int_equal(maj, 188);
	assert_int_equal(min, 3);
	assert_int_equal(sdi_env_devnum("188", 3, &maj, &min), -1);
}

static void parses_group_passwd_and_rules(void **state)
{
	(void)state;
	const char *g = "root:x:0:\ndialout:x:20:bob,ada\nplugdev:x:46:\n";
	uint32_t gid;
	char name[16];
	assert_int_equal(sdi_env_group_gid(g, strlen(g), "dialout", &gid), 1);
	assert_int_equal(gid, 20);
	assert_int_equal(sdi_env_group_gid(g, strlen(g), "dial", &gid), 0);
	assert_int_equal(sdi_env_group_name(g, strlen(g), 46, name, sizeof name), 1);
	assert_string_equal(name, "plugdev");
	assert_int_equal(sdi_env_group_lists(g, strlen(g), "dialout", "ada"), 1);
	assert_int_equal(sdi_env_group_lists(g, strlen(g), "dialout", "ad"), 0);
	assert_int_equal(sdi_env_group_lists(g, strlen(g), "plugdev", "ada"), 0);
	const char *pw = "root:x:0:0::/root:/bin/sh\nada:x:1000:1000::/home/ada:/bin/bash\n";
	assert_int_equal(sdi_env_passwd_name(pw, strlen(pw), 1000, name, sizeof name), 1);
	assert_string_equal(name, "ada");

	const char *r = "# ENV{PRODUCT}==\"403/6001/*\"\nENV{PRODUCT}==\"1A86/7523/*\", GOTO=\"x\"\n";
	assert_int_equal(sdi_env_rules_claim(r, strlen(r), 0x1a86, 0x7523), 1);
	assert_int_equal(sdi_env_rules_claim(r, strlen(r), 0x0403, 0x6001), 0); /* a comment */
	assert_int_equal(sdi_env_rules_claim(r, strlen(r), 0x1a86, 0x752), 0);
}

static void permission_bits(void **state)
{
	(void)state;
	sd_ident root_id = { 0 };
	/* owner-only 0600 root node */
	assert_int_equal(sdi_env_may_open(0600, 0, 0, &ada_dialout), 0);
	assert_int_equal(sdi_env_may_open(0600, 0, 0, &root_id), 1);
	/* 0660 dialout node, with and without membership */
	assert_int_equal(sdi_env_may_open(0660, 0, 20, &ada_dialout), 1);
	assert_int_equal(sdi_env_may_open(0660, 0, 20, &ada_alone), 0);
	/* read-only group bits are not enough */
	assert_int_equal(sdi_env_may_open(0640, 0, 20, &ada_dialout), 0);
	/* the owner class applies first, even when the group would allow */
	assert_int_equal(sdi_env_may_open(0060, 1000, 20, &ada_dialout), 0);
	assert_int_equal(sdi_env_may_open(0666, 0, 0, &ada_alone), 1);
}

/* ---- permission on a node ------------------------------------------------------- */

static void owner_only_root_node(void **state)
{
	(void)state;
	mkroot("ftdi");
	NEED_NODE("/dev/ttyUSB0", 0600, 0, 188, 0);
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_PERMISSION);
	assert_non_null(strstr(k->summary, "only root may open /dev/ttyUSB0 (crw------- root:root)"));
	assert_non_null(strstr(k->fix, "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"0403\", ATTRS{idProduct}==\"6001\", "
				       "MODE=\"0660\", GROUP=\"dialout\""));
	assert_int_equal(sd_doctor_worst(&dr), SD_CHECK_FAIL);
	/* root may */
	sd_ident r = { 0 };
	k = run_check("/dev/ttyUSB0", &r, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_PASS);
}

static void dialout_node_with_and_without_membership(void **state)
{
	(void)state;
	mkroot("ftdi");
	NEED_NODE("/dev/ttyUSB0", 0660, 20, 188, 0);
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_PASS);
	k = run_check("/dev/ttyUSB0", &ada_alone, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_PERMISSION);
	assert_string_equal(k->fix, "sudo usermod -aG dialout $USER, then log out and back in");
	/* no ident given: the fixture's proc/self/status (groups 20 46 1000) */
	k = run_check("/dev/ttyUSB0", NULL, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_PASS);
	assert_non_null(strstr(k->summary, "ada may open"));
	/* the healthy FTDI: nothing fails */
	assert_int_equal(sd_doctor_worst(&dr), SD_CHECK_PASS);
	sd_diag dg;
	sd_diag_init(&dg);
	assert_int_equal(sd_doctor_diag(&dr, &dg), 0);
	assert_int_equal(sd_doctor_port_findings(root, "/dev/ttyUSB0", &dg), 0);
}

static void listed_in_group_but_not_in_session(void **state)
{
	(void)state;
	mkroot("ftdi");
	NEED_NODE("/dev/ttyUSB0", 0660, 46, 188, 0); /* plugdev lists ada in /etc/group */
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_OK, "access");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_string_equal(k->fix, "log out and back in (or: newgrp plugdev)");
}

static void missing_node(void **state)
{
	(void)state;
	mkroot("ftdi");
	const sd_check *k = run_check("/dev/ttyUSB1", &ada_dialout, &dr, SD_ERR_NOTFOUND, "node");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_NO_DEVICE);
	assert_false(dr.present);
	assert_non_null(strstr(k->detail, "serial ports present: /dev/ttyUSB0"));
	assert_null(sd_doctor_check(&dr, "access"));
	/* ttyUSB0 is in sysfs, but /dev has no node (never made here) */
	k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_ERR_NOTFOUND, "node");
	assert_non_null(strstr(k->detail, "udev did not make one"));
}

static void regular_file_is_not_a_node(void **state)
{
	(void)state;
	mkroot("ftdi");
	char p[512];
	snprintf(p, sizeof p, "%s/dev/ttyUSB0", root);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs("AT\r\n", f);
	fclose(f);
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_ERR_NOTFOUND, "node");
	assert_non_null(strstr(k->summary, "is a regular file"));
	assert_string_equal(k->fix, "sudo rm /dev/ttyUSB0, then unplug and replug the device");
}

static void follows_by_id_links(void **state)
{
	(void)state;
	mkroot("ftdi");
	NEED_NODE("/dev/ttyUSB0", 0660, 20, 188, 0);
	char p[300];
	snprintf(p, sizeof p, "%s/dev/serial/by-id", root);
	char cmd[800];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && ln -s ../../ttyUSB0 '%s/usb-FTDI_FT232R-if00-port0'", p, p);
	assert_int_equal(system(cmd), 0);
	const sd_check *k = run_check("serial:/dev/serial/by-id/usb-FTDI_FT232R-if00-port0?baud=115200",
				      &ada_dialout, &dr, SD_OK, "node");
	assert_int_equal(k->status, SD_CHECK_PASS);
	assert_string_equal(dr.dev_path, "/dev/ttyUSB0");
	assert_string_equal(dr.tty, "ttyUSB0");
}

/* ---- holders and locks ----------------------------------------------------------- */

static void screen_holds_the_port(void **state)
{
	(void)state;
	mkroot("screen");
	NEED_NODE("/dev/ttyUSB0", 0660, 20, 188, 0);
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_OK, "holders");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_PORT_BUSY);
	assert_non_null(strstr(k->summary, "process 4242 (screen) has /dev/ttyUSB0 open"));
	assert_non_null(strstr(k->fix, "kill 4242"));
	assert_int_equal(dr.nholders, 1);
	assert_string_equal(dr.holders[0].cmdline, "screen /dev/ttyUSB0 115200");
	assert_non_null(strstr(dr.holders[0].what, "GNU screen"));

	sd_report r;
	sd_report_init(&r, "doctor", "/dev/ttyUSB0");
	assert_int_equal(sd_doctor_diag(&dr, &r.diag), 1);
	assert_int_equal(r.diag.f[0].cause, SD_CAUSE_PORT_BUSY);

	/* the probe's cheap call finds the same */
	sd_diag d;
	sd_diag_init(&d);
	assert_int_equal(sd_doctor_port_findings(root, "/dev/ttyUSB0", &d), 1);
	assert_int_equal(d.f[0].cause, SD_CAUSE_PORT_BUSY);
	assert_non_null(strstr(d.f[0].summary, "process 4242 (screen) has /dev/ttyUSB0 open: GNU screen"));
	assert_non_null(strstr(d.f[0].summary, "it reads the bytes the bootloader sends"));
	assert_non_null(strstr(d.f[0].fix, "kill 4242"));
}

static void stale_lock_file(void **state)
{
	(void)state;
	mkroot("lock-stale");
	NEED_NODE("/dev/ttyUSB0", 0660, 20, 188, 0);
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_OK, "lock");
	assert_int_equal(k->status, SD_CHECK_WARN);
	assert_non_null(strstr(k->summary, "PID 9999 no longer runs"));
	assert_string_equal(k->fix, "sudo rm /run/lock/LCK..ttyUSB0");
	assert_int_equal(sd_doctor_worst(&dr), SD_CHECK_WARN);
}

static void live_lock_file(void **state)
{
	(void)state;
	mkroot("lock-live");
	NEED_NODE("/dev/ttyUSB0", 0660, 20, 188, 0);
	/* /var/lock -> /run/lock, as on current systems: one lock, not two */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/var' && ln -s ../run/lock '%s/var/lock'", root, root);
	assert_int_equal(system(cmd), 0);
	const sd_check *k = run_check("ttyUSB0", &ada_dialout, &dr, SD_OK, "lock");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_PORT_BUSY);
	assert_non_null(strstr(k->summary, "process 4242 (minicom) has locked the port"));
	assert_string_equal(k->fix, "kill 4242 (its lock goes with it)");
	size_t locks = 0;
	for (size_t i = 0; i < dr.nchecks; i++)
		locks += strcmp(dr.checks[i].id, "lock") == 0;
	assert_int_equal(locks, 1);
	sd_diag d;
	sd_diag_init(&d);
	assert_int_equal(sd_doctor_port_findings(root, "/dev/ttyUSB0", &d), 1);
	assert_non_null(strstr(d.f[0].summary, "minicom"));
}

/* ---- ModemManager and brltty -------------------------------------------------------- */

static void modem_manager_without_ignore(void **state)
{
	(void)state;
	mkroot("mm");
	NEED_NODE("/dev/ttyACM0", 0660, 20, 166, 0);
	const sd_check *k = run_check("/dev/ttyACM0", &ada_dialout, &dr, SD_OK, "modem-manager");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_MODEM_MANAGER);
	assert_non_null(strstr(k->summary, "PID 812"));
	assert_non_null(strstr(k->fix, "ATTRS{idVendor}==\"2341\", ATTRS{idProduct}==\"8036\", "
				       "ENV{ID_MM_DEVICE_IGNORE}=\"1\""));
	assert_non_null(strstr(k->detail, "sudo systemctl stop ModemManager"));
	sd_diag d;
	sd_diag_init(&d);
	assert_int_equal(sd_doctor_port_findings(root, "/dev/ttyACM0", &d), 1);
	assert_int_equal(d.f[0].cause, SD_CAUSE_MODEM_MANAGER);
	/* without a target: a warning about the daemon */
	k = run_check(NULL, &ada_dialout, &dr, SD_OK, "modem-manager");
	assert_int_equal(k->status, SD_CHECK_WARN);
}

static void modem_manager_told_to_ignore(void **state)
{
	(void)state;
	mkroot("mm-ignored");
	NEED_NODE("/dev/ttyACM0", 0660, 20, 166, 0);
	const sd_check *k = run_check("/dev/ttyACM0", &ada_dialout, &dr, SD_OK, "modem-manager");
	assert_int_equal(k->status, SD_CHECK_PASS);
	assert_non_null(strstr(k->summary, "ID_MM_DEVICE_IGNORE=1"));
	assert_int_equal(sd_doctor_worst(&dr), SD_CHECK_PASS);
}

static void brltty_takes_a_ch340(void **state)
{
	(void)state;
	mkroot("brltty");
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_ERR_NOTFOUND, "brltty");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_non_null(strstr(k->summary, "1a86:7523"));
	assert_string_equal(k->fix, "sudo apt remove brltty (then replug)");
	k = run_check(NULL, &ada_dialout, &dr, SD_OK, "brltty");
	assert_int_equal(k->status, SD_CHECK_WARN);
	/* the usb: view names brltty's claim and brltty itself as the holder */
	NEED_NODE("/dev/bus/usb/001/005", 0664, 0, 189, 4);
	k = run_check("usb:1a86:7523", &ada_dialout, &dr, SD_OK, "holders");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_non_null(strstr(k->summary, "process 901 (brltty)"));
	assert_non_null(strstr(k->fix, "sudo systemctl stop brltty"));
	k = sd_doctor_check(&dr, "driver");
	assert_non_null(strstr(k->summary, "through usbfs"));
	/* masked rule: brltty's rule no longer counts */
	char cmd[800];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s/etc/udev/rules.d' && ln -s /dev/null '%s/etc/udev/rules.d/85-brltty.rules'",
		 root, root);
	assert_int_equal(system(cmd), 0);
	k = run_check(NULL, &ada_dialout, &dr, SD_OK, "brltty");
	assert_int_equal(k->status, SD_CHECK_PASS);
}

/* ---- drivers ---------------------------------------------------------------------------- */

static void ftdi_sio_bound(void **state)
{
	(void)state;
	mkroot("ftdi");
	const sd_check *k = run_check("/dev/ttyUSB0", &ada_dialout, &dr, SD_ERR_NOTFOUND, "driver");
	assert_int_equal(k->status, SD_CHECK_PASS);
	assert_non_null(strstr(k->summary, "ftdi_sio drives ttyUSB0 on USB 0403:6001"));
	assert_string_equal(dr.usb_driver, "ftdi_sio");
	assert_string_equal(dr.driver, "ftdi_sio");
	assert_int_equal(dr.vid, 0x0403);
	assert_int_equal(dr.major, 188);
	/* as usb:, the tty driver is in libusb's way */
	k = run_check("usb:0403:6001", &ada_dialout, &dr, SD_OK, "driver");
	assert_int_equal(k->status, SD_CHECK_WARN);
	assert_string_equal(k->fix, "use /dev/ttyUSB0 as the target, or usb:0403:6001?detach=1");
	k = run_check("usb:0403:6001?detach=1", &ada_dialout, &dr, SD_OK, "driver");
	assert_int_equal(k->status, SD_CHECK_PASS);
}

static void no_driver_bound(void **state)
{
	(void)state;
	mkroot("nodriver");
	const sd_check *k = run_check("usb:1a86:7523", &ada_dialout, &dr, SD_OK, "driver");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_int_equal(k->cause, SD_CAUSE_DRIVER);
	assert_non_null(strstr(k->fix, "sudo modprobe ch341"));
	/* MediaTek BROM without a driver: what libusb wants */
	k = run_check("usb:0e8d:0003", &ada_dialout, &dr, SD_OK, "driver");
	assert_int_equal(k->status, SD_CHECK_PASS);
	/* its usbfs node: 0664 root:root refuses a user */
	NEED_NODE("/dev/bus/usb/001/009", 0664, 0, 189, 8);
	k = run_check("usb:0e8d:0003", &ada_dialout, &dr, SD_OK, "usb-access");
	assert_int_equal(k->status, SD_CHECK_FAIL);
	assert_non_null(strstr(k->fix, "ATTRS{idVendor}==\"0e8d\", ATTRS{idProduct}==\"0003\""));
	/* an absent device, by address */
	k = run_check("usb:0e8d:0003@2.9", &ada_dialout, &dr, SD_ERR_NOTFOUND, "node");
	assert_int_equal(k->cause, SD_CAUSE_NO_DEVICE);
}

static void targets_without_a_host_side(void **state)
{
	(void)state;
	char why[128];
	assert_int_equal(sd_doctor_run("sim:app?text=hi", NULL, &dr, why, sizeof why), SD_OK);
	assert_int_equal(dr.kind, SD_DOCTOR_NOT_HOST);
	assert_int_equal(dr.nchecks, 1);
	assert_int_equal(dr.checks[0].status, SD_CHECK_SKIP);
	assert_int_equal(sd_doctor_run("tcp://localhost:1", NULL, &dr, why, sizeof why), SD_OK);
	assert_int_equal(sd_doctor_worst(&dr), SD_CHECK_SKIP);
	assert_int_equal(sd_doctor_run("usb:nothex", NULL, &dr, why, sizeof why), SD_ERR_ARG);
	assert_true(why[0] != '\0');
	assert_string_equal(sd_check_status_name(SD_CHECK_WARN), "WARN");
}

/* ---- the live system: a pty of our own ------------------------------------------------ */

static void port_findings_on_a_live_pty(void **state)
{
	(void)state;
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	char slave[64];
	assert_int_equal(ptsname_r(m, slave, sizeof slave), 0);
	int s = open(slave, O_RDWR | O_NOCTTY);
	assert_true(s >= 0);
	/* our own fd does not count: the probe holds the port it asks about */
	sd_diag d;
	sd_diag_init(&d);
	assert_int_equal(sd_doctor_port_findings(NULL, slave, &d), 0);

	int ready[2], go[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* holds the pty until the parent closes the go pipe */
		int fd = open(slave, O_RDONLY | O_NOCTTY);
		char c = fd >= 0 ? 'y' : 'n';
		close(go[1]);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		while (read(go[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(ready[1]);
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	size_t n = sd_doctor_port_findings("/", slave, &d);
	close(go[1]);
	int st;
	waitpid(child, &st, 0);
	close(ready[0]);
	close(s);
	close(m);
	assert_int_equal(n, 1);
	char want[64];
	snprintf(want, sizeof want, "process %d (", (int)child);
	assert_non_null(strstr(d.f[0].summary, want));
	assert_int_equal(d.f[0].cause, SD_CAUSE_PORT_BUSY);
	snprintf(want, sizeof want, "kill %d", (int)child);
	assert_non_null(strstr(d.f[0].fix, want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_lock_files),
		cmocka_unit_test(parses_udev_data_and_status),
		cmocka_unit_test(parses_group_passwd_and_rules),
		cmocka_unit_test(permission_bits),
		cmocka_unit_test_teardown(owner_only_root_node, teardown),
		cmocka_unit_test_teardown(dialout_node_with_and_without_membership, teardown),
		cmocka_unit_test_teardown(listed_in_group_but_not_in_session, teardown),
		cmocka_unit_test_teardown(missing_node, teardown),
		cmocka_unit_test_teardown(regular_file_is_not_a_node, teardown),
		cmocka_unit_test_teardown(follows_by_id_links, teardown),
		cmocka_unit_test_teardown(screen_holds_the_port, teardown),
		cmocka_unit_test_teardown(stale_lock_file, teardown),
		cmocka_unit_test_teardown(live_lock_file, teardown),
		cmocka_unit_test_teardown(modem_manager_without_ignore, teardown),
		cmocka_unit_test_teardown(modem_manager_told_to_ignore, teardown),
		cmocka_unit_test_teardown(brltty_takes_a_ch340, teardown),
		cmocka_unit_test_teardown(ftdi_sio_bound, teardown),
		cmocka_unit_test_teardown(no_driver_bound, teardown),
		cmocka_unit_test(targets_without_a_host_side),
		cmocka_unit_test(port_findings_on_a_live_pty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
