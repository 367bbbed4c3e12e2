/*
 * shakedown — doctor: the host checks of a port, a USB device, or the
 * system, as records (PASS/WARN/FAIL/SKIP, summary, fix) and as findings
 * for a diagnosis. What each check reads and why: docs/doctor.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "env/envusb.h"

#define GROUP_FILE_MAX (64u * 1024u)
#define RULES_FILE_MAX (256u * 1024u)

typedef struct ctx {
	const char *root;
	int         live;
	unsigned    flags;
	sd_ident    id;
	char        user[64];       /* name of id.uid, or the number */
	char       *group;          /* ROOT/etc/group (heap), may be NULL */
	size_t      ngroup;
	char        serial_group[16]; /* "dialout" or "uucp": the distribution's */
	sdi_procs   procs;
	sdi_ttyinfo tty;
	int         have_tty;
	struct stat node;
	int         node_ok;        /* node exists and is a character device */
} ctx;

const char *sd_check_status_name(sd_check_status s)
{
	switch (s) {
	case SD_CHECK_PASS: return "PASS";
	case SD_CHECK_SKIP: return "SKIP";
	case SD_CHECK_WARN: return "WARN";
	case SD_CHECK_FAIL: return "FAIL";
	}
	return "?";
}

__attribute__((format(printf, 5, 6)))
static sd_check *add(sd_doctor *d, const char *id, sd_check_status s, sd_cause c, const char *fmt, ...)
{
	/* a run adds at most 7 checks; were the table full, the last record
	 * would be overwritten rather than memory outside it */
	sd_check *k = d->nchecks < SD_DOCTOR_MAX_CHECKS ? &d->checks[d->nchecks++]
							: &d->checks[SD_DOCTOR_MAX_CHECKS - 1];
	memset(k, 0, sizeof *k);
	sdi_fmt(k->id, sizeof k->id, "%s", id);
	k->status = s;
	k->cause = (s == SD_CHECK_WARN || s == SD_CHECK_FAIL) ? c : SD_CAUSE_OK;
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(k->summary, sizeof k->summary, fmt, ap);
	va_end(ap);
	return k;
}

__attribute__((format(printf, 2, 3)))
static void detail(sd_check *k, const char *fmt, ...)
{
	char line[SD_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(line, sizeof line, fmt, ap);
	va_end(ap);
	sdi_append(k->detail, sizeof k->detail, "%s%s", k->detail[0] ? "\n" : "", line);
}

/* ---- identity ------------------------------------------------------------ */

static void ctx_init(ctx *c, const sd_doctor_opts *o)
{
	memset(c, 0, sizeof *c);
	c->root = o && o->root && o->root[0] ? o->root : "/";
	c->live = sdi_env_root_is_live(c->root);
	c->flags = o ? o->flags : 0;
	char path[SDI_ENV_PATH_MAX], buf[4096];
	if (o && o->ident) {
		c->id = *o->ident;
	} else {
		long n = sdi_env_path(path, sizeof path, c->root, "/proc/self/status") == 0
			? sdi_env_read(path, buf, sizeof buf) : -1;
		if (n < 0 || sdi_env_status_ident(buf, (size_t)n, &c->id) != 0) {
			/* no status file under the root (a chroot): this process's
			 * identity, never a guess of root */
			gid_t gs[SD_IDENT_MAX_GROUPS];
			int ng = getgroups(SD_IDENT_MAX_GROUPS, gs);
			c->id.uid = (uint32_t)geteuid();
			c->id.gid = (uint32_t)getegid();
			for (int i = 0; i < ng; i++)
				c->id.groups[c->id.ngroups++] = (uint32_t)gs[i];
		}
	}
	if (sdi_env_path(path, sizeof path, c->root, "/etc/group") == 0 && (c->group = malloc(GROUP_FILE_MAX))) {
		long n = sdi_env_read(path, c->group, GROUP_FILE_MAX);
		c->ngroup = n > 0 ? (size_t)n : 0;
	}
	uint32_t g;
	sdi_fmt(c->serial_group, sizeof c->serial_group, "dialout");
	if (!sdi_env_group_gid(c->group, c->ngroup, "dialout", &g) &&
	    sdi_env_group_gid(c->group, c->ngroup, "uucp", &g))
		sdi_fmt(c->serial_group, sizeof c->serial_group, "uucp"); /* Arch and friends */
	char *pw = malloc(GROUP_FILE_MAX);
	long n = pw && sdi_env_path(path, sizeof path, c->root, "/etc/passwd") == 0
		? sdi_env_read(path, pw, GROUP_FILE_MAX) : -1;
	if (n < 0 || !sdi_env_passwd_name(pw, (size_t)n, c->id.uid, c->user, sizeof c->user))
		sdi_fmt(c->user, sizeof c->user, "uid %u", c->id.uid);
	free(pw);
}

static void ctx_free(ctx *c)
{
	free(c->group);
	c->group = NULL;
}

static void group_name(const ctx *c, uint32_t gid, char *out, size_t len)
{
	if (!sdi_env_group_name(c->group, c->ngroup, gid, out, len))
		sdi_fmt(out, len, "%u", gid);
}

static void owner_name(const ctx *c, uint32_t uid, char *out, size_t len)
{
	char path[SDI_ENV_PATH_MAX];
	char *pw = malloc(GROUP_FILE_MAX);
	long n = pw && sdi_env_path(path, sizeof path, c->root, "/etc/passwd") == 0
		? sdi_env_read(path, pw, GROUP_FILE_MAX) : -1;
	if (n < 0 || !sdi_env_passwd_name(pw, (size_t)n, uid, out, len))
		sdi_fmt(out, len, "%u", uid);
	free(pw);
}

static void mode_string(mode_t m, char out[11])
{
	out[0] = S_ISCHR(m) ? 'c' : S_ISREG(m) ? '-' : S_ISDIR(m) ? 'd' : '?';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

/* ---- the device node ------------------------------------------------------ */

static int is_pts(const sd_doctor *d)
{
	return strncmp(d->dev_path, "/dev/pts/", 9) == 0 || (d->major >= 136 && d->major <= 143);
}

static void serial_ttys(const ctx *c, char *out, size_t len)
{
	/* what the kernel has instead: ttyUSB*, ttyACM* in sysfs */
	char dir[SDI_ENV_PATH_MAX];
	out[0] = '\0';
	if (sdi_env_path(dir, sizeof dir, c->root, "/sys/class/tty") != 0)
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (strncmp(e->d_name, "ttyUSB", 6) == 0 || strncmp(e->d_name, "ttyACM", 6) == 0)
			sdi_append(out, len, "%s/dev/%s", out[0] ? ", " : "", e->d_name);
	if (d)
		closedir(d);
}

static void check_node(ctx *c, sd_doctor *d)
{
	char path[SDI_ENV_PATH_MAX];
	struct stat *st = &c->node;
	if (sdi_env_path(path, sizeof path, c->root, "%s", d->dev_path) != 0 || stat(path, st) != 0) {
		sd_check *k = add(d, "node", SD_CHECK_FAIL, SD_CAUSE_NO_DEVICE, "%s does not exist", d->dev_path);
		if (c->have_tty)
			detail(k, "the kernel has %s (%u:%u) but /dev has no node for it: udev did not make one",
			       d->tty, d->major, d->minor);
		else
			detail(k, "the kernel has no %s: the device is unplugged, or no driver took it", d->tty);
		char others[200];
		serial_ttys(c, others, sizeof others);
		if (others[0])
			detail(k, "serial ports present: %s", others);
		sdi_fmt(k->fix, sizeof k->fix, "shakedown ports (lists the ports present); check the cable and replug");
		return;
	}
	char mode[11], own[64], grp[64];
	mode_string(st->st_mode, mode);
	owner_name(c, st->st_uid, own, sizeof own);
	group_name(c, st->st_gid, grp, sizeof grp);
	if (!S_ISCHR(st->st_mode)) {
		sd_check *k = add(d, "node", SD_CHECK_FAIL, SD_CAUSE_NO_DEVICE,
				  "%s is a %s (%s %s:%s), not a character device", d->dev_path,
				  S_ISREG(st->st_mode) ? "regular file" : S_ISDIR(st->st_mode) ? "folder" : "special file",
				  mode, own, grp);
		if (S_ISREG(st->st_mode))
			detail(k, "something wrote to %s while no device was there, and made a file", d->dev_path);
		sdi_fmt(k->fix, sizeof k->fix, "sudo rm %s, then unplug and replug the device", d->dev_path);
		return;
	}
	d->present = 1;
	c->node_ok = 1;
	if (c->live || !d->major) {
		d->major = major(st->st_rdev);
		d->minor = minor(st->st_rdev);
	}
	add(d, "node", SD_CHECK_PASS, SD_CAUSE_OK, "%s: %s %s:%s, device %u:%u%s", d->dev_path, mode, own, grp,
	    d->major, d->minor, is_pts(d) ? " (a pseudo-terminal)" : "");
}

static void udev_rule(const ctx *c, const sd_doctor *d, char *out, size_t len)
{
	if (d->has_usb)
		sdi_fmt(out, len, "SUBSYSTEM==\"tty\", ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", "
			"MODE=\"0660\", GROUP=\"%s\"", d->vid, d->pid, c->serial_group);
	else
		sdi_fmt(out, len, "KERNEL==\"%s\", MODE=\"0660\", GROUP=\"%s\"", d->tty, c->serial_group);
}

/* Whether this process may open the node; `tried` says an open() ran. */
static void check_access(ctx *c, sd_doctor *d, int try_open)
{
	if (!c->node_ok)
		return;
	const struct stat *st = &c->node;
	char mode[11], own[64], grp[64];
	mode_string(st->st_mode, mode);
	owner_name(c, st->st_uid, own, sizeof own);
	group_name(c, st->st_gid, grp, sizeof grp);
	int may = sdi_env_may_open((uint32_t)st->st_mode, (uint32_t)st->st_uid, (uint32_t)st->st_gid, &c->id);
	int err = 0;
	if (try_open && c->live && !(c->flags & SD_DOCTOR_NO_OPEN)) {
		/* O_NONBLOCK: never wait for carrier; closed at once */
		int fd = open(d->dev_path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else
			err = errno;
	}
	if (err == EBUSY) {
		sd_check *k = add(d, "access", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
				  "open(%s): device or resource busy: another program opened it exclusively (TIOCEXCL)",
				  d->dev_path);
		sdi_fmt(k->fix, sizeof k->fix, "close the program that holds it (see the holders check)");
		return;
	}
	if (err == ENXIO || err == ENODEV || err == EIO) {
		sd_check *k = add(d, "access", SD_CHECK_FAIL, SD_CAUSE_NO_DEVICE,
				  "open(%s): %s: the node exists but no device answers behind it", d->dev_path,
				  strerror(err));
		sdi_fmt(k->fix, sizeof k->fix, "unplug and replug the device; shakedown ports lists what is there");
		return;
	}
	if (may && !err) {
		add(d, "access", SD_CHECK_PASS, SD_CAUSE_OK, "%s may open %s (%s %s:%s)%s", c->user, d->dev_path,
		    mode, own, grp, try_open && c->live && !(c->flags & SD_DOCTOR_NO_OPEN) ? "; open() worked" : "");
		return;
	}
	sd_check *k;
	if (may) {
		/* the bits allow it, the kernel did not: an ACL or a security module */
		k = add(d, "access", SD_CHECK_FAIL, SD_CAUSE_PERMISSION,
			"open(%s): %s, although %s %s:%s would allow %s", d->dev_path, strerror(err), mode, own,
			grp, c->user);
		sdi_fmt(k->fix, sizeof k->fix, "getfacl %s; check AppArmor/SELinux denials (journalctl -k | grep -i denied)",
			d->dev_path);
		return;
	}
	int group_rw = (st->st_mode & 060) == 060 && st->st_gid != 0;
	if (group_rw) {
		int listed = sdi_env_group_lists(c->group, c->ngroup, grp, c->user);
		k = add(d, "access", SD_CHECK_FAIL, SD_CAUSE_PERMISSION,
			"%s may not open %s (%s %s:%s): %s", c->user, d->dev_path, mode, own, grp,
			listed ? "you are in its group in /etc/group, but this login session started before"
			       : "you are not in its group");
		if (listed)
			sdi_fmt(k->fix, sizeof k->fix, "log out and back in (or: newgrp %s)", grp);
		else
			sdi_fmt(k->fix, sizeof k->fix, "sudo usermod -aG %s $USER, then log out and back in", grp);
		return;
	}
	char rule[200];
	udev_rule(c, d, rule, sizeof rule);
	k = add(d, "access", SD_CHECK_FAIL, SD_CAUSE_PERMISSION,
		"only %s may open %s (%s %s:%s): no udev rule gives it a group", own, d->dev_path, mode, own, grp);
	sdi_fmt(k->fix, sizeof k->fix, "echo '%s' | sudo tee /etc/udev/rules.d/50-serial.rules && sudo udevadm trigger",
		rule);
	if (!sdi_env_ident_in(&c->id, 20) && !sdi_env_group_lists(c->group, c->ngroup, c->serial_group, c->user))
		detail(k, "and join the group: sudo usermod -aG %s $USER (then log in again)", c->serial_group);
	detail(k, "the rule: %s", rule);
}

/* ---- who holds it ---------------------------------------------------------- */

static void holder_fix(const ctx *c, const sd_holder *h, char *out, size_t len)
{
	const char *sudo = (c->id.uid != 0 && h->uid != c->id.uid) ? "sudo " : "";
	if (strcmp(h->comm, "ModemManager") == 0)
		sdi_fmt(out, len, "sudo systemctl stop ModemManager");
	else if (strcmp(h->comm, "brltty") == 0)
		sdi_fmt(out, len, "sudo systemctl stop brltty; for good: sudo apt remove brltty");
	else if (strcmp(h->comm, "gpsd") == 0)
		sdi_fmt(out, len, "sudo systemctl stop gpsd.socket gpsd");
	else if (strcmp(h->comm, "screen") == 0 || strcmp(h->comm, "SCREEN") == 0)
		sdi_fmt(out, len, "close that screen session (Ctrl-A k), or: %skill %d", sudo, (int)h->pid);
	else
		sdi_fmt(out, len, "%skill %d", sudo, (int)h->pid);
}

static void check_holders(ctx *c, sd_doctor *d)
{
	const sdi_procs *p = &c->procs;
	const sd_holder *first = NULL, *sim = NULL;
	size_t bad = 0;
	for (size_t i = 0; i < p->nholders; i++) {
		d->holders[d->nholders++] = p->holders[i];
		if (p->holders[i].benign) {
			sim = sim ? sim : &p->holders[i];
			continue;
		}
		bad++;
		first = first ? first : &p->holders[i];
	}
	d->unreadable = p->unreadable;
	sd_check *k;
	if (!first) {
		if (sim)
			k = add(d, "holders", SD_CHECK_PASS, SD_CAUSE_OK,
				"only shakedown sim (PID %d), which serves this pty, has %s open", (int)sim->pid,
				d->dev_path);
		else
			k = add(d, "holders", SD_CHECK_PASS, SD_CAUSE_OK, "no other process has %s open (%u processes looked at)",
				d->dev_path, p->nprocs);
	} else {
		k = add(d, "holders", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
			"process %d (%s) has %s open: %s; it reads the bytes the bootloader sends", (int)first->pid,
			first->comm, d->dev_path, first->what);
		holder_fix(c, first, k->fix, sizeof k->fix);
		for (size_t i = 0; i < p->nholders; i++) {
			const sd_holder *h = &p->holders[i];
			detail(k, "PID %d %s (uid %u): %s: %s", (int)h->pid, h->comm, h->uid, h->what, h->cmdline);
			if (h != first && !h->benign && bad > 1)
				sdi_append(k->fix, sizeof k->fix, "; %skill %d",
					   (c->id.uid != 0 && h->uid != c->id.uid) ? "sudo " : "", (int)h->pid);
		}
		if (p->more_holders)
			detail(k, "and %zu more", p->more_holders);
	}
	if (p->unreadable)
		detail(k, "%u processes' fd folders could not be read (%s)", p->unreadable,
		       c->id.uid ? "other users' processes: run as root to see them" : "other namespaces' processes");
}

static void check_lock(ctx *c, sd_doctor *d, int32_t self)
{
	static const char *const dirs[] = { "/run/lock", "/var/lock" };
	struct stat seen = { 0 };
	int nseen = 0;
	for (size_t i = 0; i < SDI_ARRAY_LEN(dirs); i++) {
		char host[SDI_ENV_PATH_MAX], path[SDI_ENV_PATH_MAX];
		struct stat st;
		/* the name after /dev/, '/' as '_' (lockdev's "LCK..pts_3") */
		char name[64];
		sdi_fmt(name, sizeof name, "%s", strncmp(d->dev_path, "/dev/", 5) == 0 ? d->dev_path + 5 : d->tty);
		for (char *q = name; *q; q++)
			if (*q == '/')
				*q = '_';
		sdi_fmt(host, sizeof host, "%s/LCK..%s", dirs[i], name);
		if (sdi_env_path(path, sizeof path, c->root, "%s", host) != 0 || stat(path, &st) != 0)
			continue;
		/* /var/lock is a link to /run/lock on current systems: one file */
		if (nseen && st.st_dev == seen.st_dev && st.st_ino == seen.st_ino)
			continue;
		seen = st;
		nseen++;
		char buf[128];
		long n = sdi_env_read(path, buf, sizeof buf);
		int pid = n > 0 ? sdi_env_lock_pid((const uint8_t *)buf, (size_t)n) : -1;
		char comm[32] = "";
		sd_check *k;
		if (pid <= 0) {
			k = add(d, "lock", SD_CHECK_WARN, SD_CAUSE_PORT_BUSY,
				"lock file %s holds no PID we can read: tools that honour UUCP locks may refuse the port",
				host);
			sdi_fmt(k->fix, sizeof k->fix, "sudo rm %s", host);
		} else if (pid == self) {
			add(d, "lock", SD_CHECK_PASS, SD_CAUSE_OK, "lock file %s is this process's own", host);
		} else if (sdi_env_pid_alive(c->root, pid, comm, sizeof comm)) {
			k = add(d, "lock", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
				"lock file %s: process %d (%s) has locked the port; minicom, cu and others refuse it",
				host, pid, comm[0] ? comm : "?");
			char stt[2048], path2[SDI_ENV_PATH_MAX];
			long sn = sdi_env_path(path2, sizeof path2, c->root, "/proc/%d/status", pid) == 0
				? sdi_env_read(path2, stt, sizeof stt) : -1;
			long owner = sn > 0 ? sdi_env_status_uid(stt, (size_t)sn) : -1;
			sdi_fmt(k->fix, sizeof k->fix, "%skill %d (its lock goes with it)",
				c->id.uid != 0 && owner != (long)c->id.uid ? "sudo " : "", pid);
		} else {
			k = add(d, "lock", SD_CHECK_WARN, SD_CAUSE_PORT_BUSY,
				"stale lock file %s: PID %d no longer runs, but minicom, cu and others refuse the port",
				host, pid);
			sdi_fmt(k->fix, sizeof k->fix, "sudo rm %s", host);
		}
	}
	if (!nseen)
		add(d, "lock", SD_CHECK_PASS, SD_CAUSE_OK, "no UUCP lock file for %s in /run/lock or /var/lock", d->tty);
}

/* ---- ModemManager ---------------------------------------------------------- */

static int udev_ignored(const ctx *c, const char *file, char *why, size_t whylen)
{
	static const char *const keys[] = { "ID_MM_DEVICE_IGNORE", "ID_MM_PORT_IGNORE", "ID_MM_TTY_BLACKLIST" };
	char path[SDI_ENV_PATH_MAX], buf[8192], v[16];
	long n = sdi_env_path(path, sizeof path, c->root, "/run/udev/data/%s", file) == 0
		? sdi_env_read(path, buf, sizeof buf) : -1;
	if (n < 0)
		return -1;
	for (size_t i = 0; i < SDI_ARRAY_LEN(keys); i++)
		if (sdi_env_udev_get(buf, (size_t)n, keys[i], v, sizeof v) && strcmp(v, "1") == 0) {
			sdi_fmt(why, whylen, "%s=1", keys[i]);
			return 1;
		}
	return 0;
}

static void mm_fix(const sd_doctor *d, sd_check *k)
{
	if (d->has_usb)
		sdi_fmt(k->fix, sizeof k->fix,
			"echo 'ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", ENV{ID_MM_DEVICE_IGNORE}=\"1\"' | "
			"sudo tee /etc/udev/rules.d/99-mm-ignore.rules && sudo udevadm trigger", d->vid, d->pid);
	else
		sdi_fmt(k->fix, sizeof k->fix, "sudo systemctl stop ModemManager");
	detail(k, "or stop it: sudo systemctl stop ModemManager (for good: sudo systemctl disable --now ModemManager)");
}

static void check_mm(ctx *c, sd_doctor *d)
{
	int pid = c->procs.mm_pid;
	if (!pid) {
		add(d, "modem-manager", SD_CHECK_PASS, SD_CAUSE_OK, "ModemManager is not running");
		return;
	}
	if (d->kind == SD_DOCTOR_SYSTEM || !d->present) {
		sd_check *k = add(d, "modem-manager", SD_CHECK_WARN, SD_CAUSE_MODEM_MANAGER,
				  "ModemManager runs (PID %d): it sends AT commands to new ttyACM ports, which knocks "
				  "bootloaders out of their window", pid);
		sdi_fmt(k->fix, sizeof k->fix, "sudo systemctl stop ModemManager, or per device an "
			"ID_MM_DEVICE_IGNORE udev rule (shakedown doctor /dev/ttyACM0 writes it)");
		return;
	}
	if (is_pts(d)) {
		add(d, "modem-manager", SD_CHECK_PASS, SD_CAUSE_OK, "ModemManager runs (PID %d) but leaves ptys alone", pid);
		return;
	}
	char why[48] = "", file[48];
	int ign = -1;
	if (d->major) {
		sdi_fmt(file, sizeof file, "c%u:%u", d->major, d->minor);
		ign = udev_ignored(c, file, why, sizeof why);
	}
	if (ign != 1 && d->usb_dev[0]) {
		sdi_fmt(file, sizeof file, "+usb:%s", d->usb_dev);
		int u = udev_ignored(c, file, why, sizeof why);
		ign = u >= 0 ? (ign == 1 ? 1 : u) : ign;
	}
	if (ign == 1) {
		add(d, "modem-manager", SD_CHECK_PASS, SD_CAUSE_OK, "ModemManager runs (PID %d) but %s keeps it off %s",
		    pid, why, d->tty);
		return;
	}
	const char *drv = d->usb_driver[0] ? d->usb_driver : d->driver;
	int probed = strncmp(d->tty, "ttyACM", 6) == 0 || strcmp(drv, "cdc_acm") == 0 ||
		strcmp(drv, "option") == 0 || strcmp(drv, "qcserial") == 0 || strcmp(drv, "sierra") == 0;
	sd_check *k;
	if (probed)
		k = add(d, "modem-manager", SD_CHECK_FAIL, SD_CAUSE_MODEM_MANAGER,
			"ModemManager (PID %d) probes %s with AT commands when it appears (no ID_MM_DEVICE_IGNORE): "
			"that knocks a bootloader out of its window", pid, d->tty[0] ? d->tty : d->dev_path);
	else
		k = add(d, "modem-manager", SD_CHECK_WARN, SD_CAUSE_MODEM_MANAGER,
			"ModemManager runs (PID %d); its default filter leaves %s ports alone, older versions "
			"probe every port", pid, drv[0] ? drv : "such");
	if (ign < 0)
		detail(k, "no udev database entry for %s (/run/udev/data)", d->tty);
	mm_fix(d, k);
}

/* ---- brltty ----------------------------------------------------------------- */

/* The active 85-brltty.rules (an /etc override first; masked = /dev/null
 * or empty). Heap text in *out, or NULL. */
static size_t brltty_rules(const ctx *c, char **out, char *where, size_t wlen)
{
	static const char *const paths[] = {
		"/etc/udev/rules.d/85-brltty.rules", "/usr/lib/udev/rules.d/85-brltty.rules",
		"/lib/udev/rules.d/85-brltty.rules",
	};
	*out = NULL;
	for (size_t i = 0; i < SDI_ARRAY_LEN(paths); i++) {
		char path[SDI_ENV_PATH_MAX], link[64];
		struct stat st;
		if (sdi_env_path(path, sizeof path, c->root, "%s", paths[i]) != 0 || lstat(path, &st) != 0)
			continue;
		if ((sdi_env_readlink(path, link, sizeof link) > 0 && strcmp(link, "/dev/null") == 0) ||
		    (S_ISREG(st.st_mode) && st.st_size == 0))
			return 0; /* masked */
		char *buf = malloc(RULES_FILE_MAX);
		long n = buf ? sdi_env_read(path, buf, RULES_FILE_MAX) : -1;
		if (n <= 0) {
			free(buf);
			continue;
		}
		sdi_fmt(where, wlen, "%s", paths[i]);
		*out = buf;
		return (size_t)n;
	}
	return 0;
}

static void brltty_fix(sd_check *k)
{
	sdi_fmt(k->fix, sizeof k->fix, "sudo apt remove brltty (then replug)");
	detail(k, "to keep brltty, mask its rule: sudo ln -s /dev/null /etc/udev/rules.d/85-brltty.rules && "
		  "sudo udevadm control --reload");
}

static void check_brltty(ctx *c, sd_doctor *d)
{
	char *rules, where[64] = "";
	size_t n = brltty_rules(c, &rules, where, sizeof where);
	int pid = c->procs.brltty_pid;
	if (!rules && !pid) {
		add(d, "brltty", SD_CHECK_PASS, SD_CAUSE_OK, "brltty is not installed (or its udev rule is masked)");
		return;
	}
	sd_check *k = NULL;
	/* The device at hand, or (its node gone) a claimed USB device that
	 * has no tty: brltty took it through usbfs and ttyUSB0 vanished. */
	sdi_usbinfo list[16];
	size_t nl = 0;
	if (d->has_usb) {
		if (rules && sdi_env_rules_claim(rules, n, d->vid, d->pid)) {
			k = add(d, "brltty", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
				"brltty's udev rule claims %04x:%04x (%s)%s: the port appears, then vanishes", d->vid,
				d->pid, d->usb_name[0] ? d->usb_name : "this device", pid ? " and brltty runs" : "");
			detail(k, "%s has ENV{PRODUCT}==\"%x/%x/*\"", where, d->vid, d->pid);
			brltty_fix(k);
		}
	} else if (d->kind != SD_DOCTOR_SYSTEM && !d->present && rules) {
		nl = sdi_env_usb_list(c->root, list, SDI_ARRAY_LEN(list));
		for (size_t i = 0; i < nl && !k; i++) {
			if (list[i].tty[0] || !sdi_env_rules_claim(rules, n, list[i].vid, list[i].pid))
				continue;
			const sd_usb_id *id = sd_usb_id_lookup(list[i].vid, list[i].pid);
			k = add(d, "brltty", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
				"brltty took %04x:%04x (%s) at USB %s%s: it has no tty, so %s is missing", list[i].vid,
				list[i].pid, id ? id->name : "a USB device", list[i].name,
				list[i].nifs && strcmp(list[i].ifs[0].driver, "usbfs") == 0 ? " through usbfs" : "",
				d->dev_path);
			detail(k, "%s has ENV{PRODUCT}==\"%x/%x/*\"", where, list[i].vid, list[i].pid);
			brltty_fix(k);
		}
	}
	if (!k && rules && sdi_env_rules_claim(rules, n, 0x1a86, 0x7523) && d->kind == SD_DOCTOR_SYSTEM) {
		k = add(d, "brltty", SD_CHECK_WARN, SD_CAUSE_PORT_BUSY,
			"brltty is installed and its udev rule claims CH340 adapters (1a86:7523): a CH340's ttyUSB0 "
			"appears, then vanishes");
		detail(k, "%s", where);
		brltty_fix(k);
	}
	if (!k) {
		if (d->has_usb)
			add(d, "brltty", SD_CHECK_PASS, SD_CAUSE_OK, "brltty %s, but its rule does not claim %04x:%04x",
			    pid ? "runs" : "is installed", d->vid, d->pid);
		else
			add(d, "brltty", SD_CHECK_PASS, SD_CAUSE_OK, "brltty %s; nothing here it claims",
			    pid ? "runs" : "is installed");
	}
	free(rules);
}

/* ---- drivers ------------------------------------------------------------------ */

static const char *expected_driver(uint16_t vid, uint16_t pid)
{
	if (vid == 0x1a86 && (pid == 0x7523 || pid == 0x5523 || pid == 0x7522))
		return "ch341";
	if (vid == 0x10c4 && (pid == 0xea60 || pid == 0xea70 || pid == 0xea71))
		return "cp210x";
	if (vid == 0x0403)
		return "ftdi_sio";
	if (vid == 0x067b)
		return "pl2303";
	return NULL;
}

static void set_usb(sd_doctor *d, const sdi_usbinfo *u)
{
	d->has_usb = 1;
	d->vid = u->vid;
	d->pid = u->pid;
	d->busnum = u->busnum;
	d->devnum = u->devnum;
	sdi_fmt(d->usb_dev, sizeof d->usb_dev, "%s", u->name);
	const sd_usb_id *id = sd_usb_id_lookup(u->vid, u->pid);
	sdi_fmt(d->usb_name, sizeof d->usb_name, "%s", id ? id->name : "");
}

static void check_driver_tty(ctx *c, sd_doctor *d)
{
	if (!c->have_tty) {
		if (is_pts(d))
			add(d, "driver", SD_CHECK_SKIP, SD_CAUSE_OK, "%s is a pseudo-terminal: no kernel serial driver",
			    d->dev_path);
		else
			add(d, "driver", SD_CHECK_SKIP, SD_CAUSE_OK, "the kernel has no %s: no driver to look at",
			    d->tty);
		return;
	}
	if (!c->tty.has_device) {
		add(d, "driver", SD_CHECK_SKIP, SD_CAUSE_OK, "%s is a virtual terminal: no hardware driver", d->tty);
		return;
	}
	const char *want = d->has_usb ? expected_driver(d->vid, d->pid) : NULL;
	const char *have = d->usb_driver[0] ? d->usb_driver : d->driver;
	char usb[160] = "";
	if (d->has_usb)
		sdi_fmt(usb, sizeof usb, " on USB %04x:%04x%s%s", d->vid, d->pid, d->usb_name[0] ? ", " : "",
			d->usb_name);
	if (want && strcmp(have, want) != 0) {
		sd_check *k = add(d, "driver", SD_CHECK_WARN, SD_CAUSE_DRIVER,
				  "%s drives %s%s; %s is the driver for it", have, d->tty, usb, want);
		if (strstr(have, "generic") || strcmp(have, "usbserial") == 0)
			detail(k, "the generic usbserial driver cannot set the baud rate");
		sdi_fmt(k->fix, sizeof k->fix, "sudo modprobe %s, then replug", want);
		return;
	}
	sd_check *k = add(d, "driver", SD_CHECK_PASS, SD_CAUSE_OK, "%s drives %s%s", have[0] ? have : "?", d->tty, usb);
	if (d->driver[0] && strcmp(d->driver, have) != 0)
		detail(k, "the port's driver: %s", d->driver);
}

static void check_driver_usb(ctx *c, sd_doctor *d, const sdi_usbinfo *u, const sd_usb_target *t)
{
	(void)c;
	const sd_usb_id *id = sd_usb_id_lookup(u->vid, u->pid);
	char list[SD_DETAIL_MAX] = "";
	const char *bound = NULL;
	int usbfs = -1;
	for (size_t i = 0; i < u->nifs; i++) {
		const sdi_usbif *f = &u->ifs[i];
		sdi_append(list, sizeof list, "%sinterface %d: %s%s%s", list[0] ? "; " : "", f->number,
			   f->driver[0] ? f->driver : "no driver", f->tty[0] ? " as " : "", f->tty);
		if (f->driver[0] && strcmp(f->driver, "usbfs") == 0 && usbfs < 0)
			usbfs = f->number;
		else if (f->driver[0] && !bound)
			bound = f->driver;
	}
	if (bound)
		sdi_fmt(d->usb_driver, sizeof d->usb_driver, "%s", bound);
	sd_check *k;
	if (usbfs >= 0) {
		k = add(d, "driver", SD_CHECK_FAIL, SD_CAUSE_PORT_BUSY,
			"a program claimed interface %d of %04x:%04x through usbfs (libusb): see the holders check",
			usbfs, u->vid, u->pid);
		sdi_fmt(k->fix, sizeof k->fix, "close that program (the holders check names it)");
	} else if (!bound && id && id->kind == SD_USB_BRIDGE) {
		const char *want = expected_driver(u->vid, u->pid);
		k = add(d, "driver", SD_CHECK_FAIL, SD_CAUSE_DRIVER,
			"no kernel driver is bound to %04x:%04x (%s): it has no tty", u->vid, u->pid, id->name);
		sdi_fmt(k->fix, sizeof k->fix, "sudo modprobe %s, then replug (lsmod | grep %s shows whether it loaded)",
			want ? want : "usbserial", want ? want : "usbserial");
	} else if (!bound) {
		k = add(d, "driver", SD_CHECK_PASS, SD_CAUSE_OK, "no kernel driver is bound to %04x:%04x%s%s: libusb may claim it",
			u->vid, u->pid, id ? ", " : "", id ? id->name : "");
	} else if (t->detach) {
		k = add(d, "driver", SD_CHECK_PASS, SD_CAUSE_OK, "%s holds %04x:%04x; detach=1 has libusb detach it",
			bound, u->vid, u->pid);
	} else {
		k = add(d, "driver", SD_CHECK_WARN, SD_CAUSE_DRIVER,
			"%s holds %04x:%04x%s%s: libusb must detach it first", bound, u->vid, u->pid,
			u->tty[0] ? ", as /dev/" : "", u->tty);
		if (u->tty[0])
			sdi_fmt(k->fix, sizeof k->fix, "use /dev/%s as the target, or usb:%04x:%04x?detach=1", u->tty,
				u->vid, u->pid);
		else
			sdi_fmt(k->fix, sizeof k->fix, "usb:%04x:%04x?detach=1", u->vid, u->pid);
	}
	detail(k, "%s", list);
}

static void check_usb_access(ctx *c, sd_doctor *d)
{
	char path[SDI_ENV_PATH_MAX];
	struct stat st;
	if (sdi_env_path(path, sizeof path, c->root, "%s", d->dev_path) != 0 || stat(path, &st) != 0) {
		sd_check *k = add(d, "usb-access", SD_CHECK_FAIL, SD_CAUSE_NO_DEVICE, "%s does not exist (no usbfs node)",
				  d->dev_path);
		sdi_fmt(k->fix, sizeof k->fix, "ls -l /dev/bus/usb/%03u/ (is /dev/bus/usb mounted in this container?)",
			d->busnum);
		return;
	}
	char mode[11], own[64], grp[64];
	mode_string(st.st_mode, mode);
	owner_name(c, st.st_uid, own, sizeof own);
	group_name(c, st.st_gid, grp, sizeof grp);
	int may = sdi_env_may_open((uint32_t)st.st_mode, (uint32_t)st.st_uid, (uint32_t)st.st_gid, &c->id);
	int err = 0;
	if (c->live && !(c->flags & SD_DOCTOR_NO_OPEN)) {
		int fd = open(d->dev_path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else
			err = errno;
	}
	if (may && !err) {
		add(d, "usb-access", SD_CHECK_PASS, SD_CAUSE_OK, "%s may open %s (%s %s:%s) for libusb", c->user,
		    d->dev_path, mode, own, grp);
		return;
	}
	sd_check *k = add(d, "usb-access", SD_CHECK_FAIL, SD_CAUSE_PERMISSION,
			  "%s may not open %s (%s %s:%s): libusb cannot claim %04x:%04x", c->user, d->dev_path,
			  mode, own, grp, d->vid, d->pid);
	sdi_fmt(k->fix, sizeof k->fix,
		"echo 'SUBSYSTEM==\"usb\", ATTRS{idVendor}==\"%04x\", ATTRS{idProduct}==\"%04x\", MODE=\"0660\", "
		"GROUP=\"plugdev\"' | sudo tee /etc/udev/rules.d/50-usb.rules && sudo udevadm trigger", d->vid, d->pid);
	uint32_t pg;
	if (sdi_env_group_gid(c->group, c->ngroup, "plugdev", &pg) && !sdi_env_ident_in(&c->id, pg))
		detail(k, "and join plugdev: sudo usermod -aG plugdev $USER (then log in again)");
}

/* ---- system ------------------------------------------------------------------- */

static void check_groups(ctx *c, sd_doctor *d)
{
	if (c->id.uid == 0) {
		add(d, "groups", SD_CHECK_PASS, SD_CAUSE_OK, "running as root: every port opens");
		return;
	}
	const char *g = c->serial_group;
	uint32_t gid;
	if (!sdi_env_group_gid(c->group, c->ngroup, g, &gid)) {
		add(d, "groups", SD_CHECK_SKIP, SD_CAUSE_OK, "no dialout or uucp group in /etc/group");
		return;
	}
	sd_check *k;
	if (sdi_env_ident_in(&c->id, gid)) {
		k = add(d, "groups", SD_CHECK_PASS, SD_CAUSE_OK, "%s is in %s (gid %u): serial ports of that group open",
			c->user, g, gid);
	} else if (sdi_env_group_lists(c->group, c->ngroup, g, c->user)) {
		k = add(d, "groups", SD_CHECK_WARN, SD_CAUSE_PERMISSION,
			"%s is in %s in /etc/group, but this login session started before", c->user, g);
		sdi_fmt(k->fix, sizeof k->fix, "log out and back in (or: newgrp %s)", g);
	} else {
		k = add(d, "groups", SD_CHECK_WARN, SD_CAUSE_PERMISSION,
			"%s is not in %s: serial ports (root:%s 0660) will refuse you", c->user, g, g);
		sdi_fmt(k->fix, sizeof k->fix, "sudo usermod -aG %s $USER, then log out and back in", g);
	}
	uint32_t pg;
	if (sdi_env_group_gid(c->group, c->ngroup, "plugdev", &pg) && !sdi_env_ident_in(&c->id, pg))
		detail(k, "not in plugdev: libusb (usb: targets) may need it: sudo usermod -aG plugdev $USER");
}

/* ---- the runs --------------------------------------------------------------------- */

static int run_tty(ctx *c, sd_doctor *d, const char *path)
{
	char host[SDI_ENV_PATH_MAX];
	if (path[0] == '/')
		sdi_fmt(host, sizeof host, "%s", path);
	else
		sdi_fmt(host, sizeof host, "/dev/%s", path);
	if (sdi_env_resolve(c->root, host, d->dev_path, sizeof d->dev_path) != 0)
		sdi_fmt(d->dev_path, sizeof d->dev_path, "%s", host);
	sdi_fmt(d->tty, sizeof d->tty, "%s", sdi_env_base(d->dev_path));
	if (sdi_env_tty_sysfs(c->root, d->tty, &c->tty) == 0) {
		c->have_tty = 1;
		if (c->tty.has_devnum) {
			d->major = c->tty.major;
			d->minor = c->tty.minor;
		}
		sdi_fmt(d->driver, sizeof d->driver, "%s", c->tty.driver);
		sdi_fmt(d->usb_driver, sizeof d->usb_driver, "%s", c->tty.usb_driver);
		if (c->tty.has_usb)
			set_usb(d, &c->tty.usb);
	}
	check_node(c, d);
	int32_t self = c->live ? (int32_t)getpid() : 0;
	uint64_t rdev = c->node_ok && c->live ? (uint64_t)c->node.st_rdev : 0;
	sdi_env_scan_procs(c->root, d->present ? d->dev_path : NULL, rdev, self, &c->procs);
	if (d->present) {
		check_access(c, d, 1);
		check_holders(c, d);
		check_lock(c, d, self);
	}
	check_mm(c, d);
	check_brltty(c, d);
	check_driver_tty(c, d);
	return d->present ? SD_OK : SD_ERR_NOTFOUND;
}

static int run_usb(ctx *c, sd_doctor *d, const sd_uri *u, char *why, size_t whylen)
{
	sd_usb_target t;
	int r = sd_usb_target_parse(u->path, u->q, u->nq, &t, why, whylen);
	if (r != SD_OK)
		return r;
	sdi_usbinfo info;
	if (sdi_env_usb_find(c->root, t.vid, t.pid, t.has_addr, t.bus, t.addr, &info) != 0) {
		d->vid = t.vid;
		d->pid = t.pid;
		const sd_usb_id *id = sd_usb_id_lookup(t.vid, t.pid);
		sd_check *k = add(d, "node", SD_CHECK_FAIL, SD_CAUSE_NO_DEVICE, "no USB device %04x:%04x%s%s is plugged in",
				  t.vid, t.pid, id ? " " : "", id ? id->name : "");
		if (id && id->hint[0])
			detail(k, "%s", id->hint);
		sdi_fmt(k->fix, sizeof k->fix, "shakedown ports (or lsusb) lists what is there");
		sdi_env_scan_procs(c->root, NULL, 0, 0, &c->procs);
		check_mm(c, d);
		check_brltty(c, d);
		return SD_ERR_NOTFOUND;
	}
	set_usb(d, &info);
	d->present = 1;
	sdi_fmt(d->dev_path, sizeof d->dev_path, "/dev/bus/usb/%03u/%03u", info.busnum, info.devnum);
	sdi_fmt(d->tty, sizeof d->tty, "%s", info.tty);
	add(d, "node", SD_CHECK_PASS, SD_CAUSE_OK, "USB %04x:%04x%s%s at bus %u address %u (%s)", info.vid, info.pid,
	    d->usb_name[0] ? " " : "", d->usb_name, info.busnum, info.devnum, d->dev_path);
	int32_t self = c->live ? (int32_t)getpid() : 0;
	sdi_env_scan_procs(c->root, d->dev_path, 0, self, &c->procs);
	check_usb_access(c, d);
	check_holders(c, d);
	check_driver_usb(c, d, &info, &t);
	if (info.tty[0]) {
		/* the ModemManager question is about the tty the kernel made */
		sdi_ttyinfo ti;
		if (sdi_env_tty_sysfs(c->root, info.tty, &ti) == 0 && ti.has_devnum) {
			d->major = ti.major;
			d->minor = ti.minor;
		}
		sdi_fmt(d->driver, sizeof d->driver, "%s", ti.driver);
	}
	check_mm(c, d);
	check_brltty(c, d);
	return SD_OK;
}

int sd_doctor_run(const char *target, const sd_doctor_opts *o, sd_doctor *d, char *why, size_t whylen)
{
	if (!d)
		return SD_ERR_ARG;
	memset(d, 0, sizeof *d);
	if (why && whylen)
		why[0] = '\0';
	sd_uri u;
	if (target && target[0]) {
		int r = sd_uri_parse(target, &u, why, whylen);
		if (r != SD_OK)
			return r;
		if (u.scheme[0] && strcmp(u.scheme, "serial") != 0 && strcmp(u.scheme, "usb") != 0) {
			d->kind = SD_DOCTOR_NOT_HOST;
			add(d, "target", SD_CHECK_SKIP, SD_CAUSE_OK,
			    "%s: targets are not host devices: the host checks do not apply", u.scheme);
			return SD_OK;
		}
	}
	ctx *c = malloc(sizeof *c);
	if (!c)
		return SD_ERR_NOMEM;
	ctx_init(c, o);
	int r = SD_OK;
	if (!target || !target[0]) {
		d->kind = SD_DOCTOR_SYSTEM;
		sdi_env_scan_procs(c->root, NULL, 0, 0, &c->procs);
		check_groups(c, d);
		check_mm(c, d);
		check_brltty(c, d);
	} else if (strcmp(u.scheme, "usb") == 0) {
		d->kind = SD_DOCTOR_USB;
		r = run_usb(c, d, &u, why, whylen);
	} else {
		d->kind = SD_DOCTOR_TTY;
		r = run_tty(c, d, u.path);
	}
	if (r == SD_ERR_NOTFOUND)
		sdi_fmt(why, whylen, "%s", d->checks[0].summary);
	ctx_free(c);
	free(c);
	return r;
}

sd_check_status sd_doctor_worst(const sd_doctor *d)
{
	sd_check_status w = SD_CHECK_PASS;
	for (size_t i = 0; d && i < d->nchecks; i++)
		if (d->checks[i].status > w)
			w = d->checks[i].status;
	return w;
}

const sd_check *sd_doctor_check(const sd_doctor *d, const char *id)
{
	for (size_t i = 0; d && id && i < d->nchecks; i++)
		if (strcmp(d->checks[i].id, id) == 0)
			return &d->checks[i];
	return NULL;
}

size_t sd_doctor_diag(const sd_doctor *d, sd_diag *diag)
{
	size_t added = 0;
	for (size_t i = 0; d && diag && i < d->nchecks; i++) {
		const sd_check *k = &d->checks[i];
		if ((k->status != SD_CHECK_WARN && k->status != SD_CHECK_FAIL) || k->cause == SD_CAUSE_OK)
			continue;
		int had = sd_diag_find(diag, k->cause) != NULL;
		sd_finding *f = sd_diag_add(diag, k->cause, k->status == SD_CHECK_FAIL ? 0.9f : 0.5f);
		if (!f)
			continue;
		if (had) {
			sd_finding_detail(f, "%s", k->summary);
			if (k->fix[0])
				sd_finding_detail(f, "fix: %s", k->fix);
		} else {
			sd_finding_summary(f, "%s", k->summary);
			if (k->fix[0])
				sd_finding_fix(f, "%s", k->fix);
			const char *p = k->detail;
			while (*p) {
				const char *nl = strchr(p, '\n');
				int len = nl ? (int)(nl - p) : (int)strlen(p);
				sd_finding_detail(f, "%.*s", len, p);
				p += len + (nl ? 1 : 0);
			}
		}
		added++;
	}
	sd_diag_sort(diag);
	return added;
}

size_t sd_doctor_port_findings(const char *root, const char *dev_path, sd_diag *diag)
{
	if (!dev_path || !dev_path[0] || !diag)
		return 0;
	sd_doctor_opts o = { .root = root, .flags = SD_DOCTOR_NO_OPEN };
	ctx *c = malloc(sizeof *c);
	sd_doctor *d = malloc(sizeof *d);
	size_t added = 0;
	if (!c || !d)
		goto out;
	memset(d, 0, sizeof *d);
	ctx_init(c, &o);
	d->kind = SD_DOCTOR_TTY;
	const char *p = dev_path;
	sd_uri u;
	char why[8];
	if (sd_uri_parse(dev_path, &u, why, sizeof why) == SD_OK && (!u.scheme[0] || strcmp(u.scheme, "serial") == 0))
		p = u.path;
	char host[SDI_ENV_PATH_MAX];
	sdi_fmt(host, sizeof host, "%s%s", p[0] == '/' ? "" : "/dev/", p);
	if (sdi_env_resolve(c->root, host, d->dev_path, sizeof d->dev_path) != 0)
		sdi_fmt(d->dev_path, sizeof d->dev_path, "%s", host);
	sdi_fmt(d->tty, sizeof d->tty, "%s", sdi_env_base(d->dev_path));
	char path[SDI_ENV_PATH_MAX];
	if (sdi_env_path(path, sizeof path, c->root, "%s", d->dev_path) == 0 && stat(path, &c->node) == 0 &&
	    S_ISCHR(c->node.st_mode)) {
		c->node_ok = 1;
		d->present = 1;
		d->major = major(c->node.st_rdev);
		d->minor = minor(c->node.st_rdev);
	}
	if (sdi_env_tty_sysfs(c->root, d->tty, &c->tty) == 0) {
		c->have_tty = 1;
		if (c->tty.has_devnum && (!c->live || !d->major)) {
			d->major = c->tty.major;
			d->minor = c->tty.minor;
		}
		sdi_fmt(d->driver, sizeof d->driver, "%s", c->tty.driver);
		sdi_fmt(d->usb_driver, sizeof d->usb_driver, "%s", c->tty.usb_driver);
		if (c->tty.has_usb)
			set_usb(d, &c->tty.usb);
	}
	int32_t self = c->live ? (int32_t)getpid() : 0;
	sdi_env_scan_procs(c->root, d->dev_path, c->node_ok && c->live ? (uint64_t)c->node.st_rdev : 0, self,
			   &c->procs);
	check_holders(c, d);
	check_lock(c, d, self);
	check_access(c, d, 0);
	check_mm(c, d);
	added = sd_doctor_diag(d, diag);
	ctx_free(c);
out:
	free(c);
	free(d);
	return added;
}
