/*
 * shakedown — host checks: what sysfs says about a tty and its USB device:
 * the tty's driver, the USB interface's driver, VID:PID, bus and address,
 * and USB devices by id. Only reads ROOT/sys; sysfs symlinks are relative,
 * so realpath() stays inside a fixture tree.
 */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "env/envusb.h"

static int hex16(const char *s, uint16_t *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, 16);
	if (end == s || x > 0xFFFF)
		return -1;
	*v = (uint16_t)x;
	return 0;
}

static int dec32(const char *s, uint32_t *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, 10);
	if (end == s || x > 0xFFFFFFFFul)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int attr(const char *dir, const char *name, char *buf, size_t cap)
{
	char p[SDI_ENV_PATH_MAX + 64];
	sdi_fmt(p, sizeof p, "%s/%s", dir, name);
	long n = sdi_env_read(p, buf, cap);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

static void driver_of(const char *dir, char *out, size_t len)
{
	char p[SDI_ENV_PATH_MAX + 16], link[SDI_ENV_PATH_MAX];
	sdi_fmt(p, sizeof p, "%s/driver", dir);
	out[0] = '\0';
	if (sdi_env_readlink(p, link, sizeof link) > 0)
		sdi_fmt(out, len, "%s", sdi_env_base(link));
}

static int exists(const char *dir, const char *name)
{
	char p[SDI_ENV_PATH_MAX + 64];
	struct stat st;
	sdi_fmt(p, sizeof p, "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* A tty child of an interface folder: "ttyUSB0" directly (usb-serial) or
 * under "tty/" (cdc_acm). */
static void tty_child(const char *ifdir, char *out, size_t len)
{
	const char *subs[] = { "", "/tty" };
	out[0] = '\0';
	for (size_t s = 0; s < 2 && !out[0]; s++) {
		char p[SDI_ENV_PATH_MAX + 8];
		sdi_fmt(p, sizeof p, "%s%s", ifdir, subs[s]);
		DIR *d = opendir(p);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (strncmp(e->d_name, "tty", 3) == 0 && e->d_name[3]) {
				sdi_fmt(out, len, "%s", e->d_name);
				break;
			}
		if (d)
			closedir(d);
	}
}

int sdi_env_usb_read(const char *root, const char *name, sdi_usbinfo *u)
{
	char dir[SDI_ENV_PATH_MAX], buf[32];
	memset(u, 0, sizeof *u);
	if (strchr(name, ':') || sdi_env_path(dir, sizeof dir, root, "/sys/bus/usb/devices/%s", name) != 0)
		return -1;
	if (attr(dir, "idVendor", buf, sizeof buf) || hex16(buf, &u->vid) ||
	    attr(dir, "idProduct", buf, sizeof buf) || hex16(buf, &u->pid))
		return -1;
	sdi_fmt(u->name, sizeof u->name, "%s", name);
	if (!attr(dir, "busnum", buf, sizeof buf))
		dec32(buf, &u->busnum);
	if (!attr(dir, "devnum", buf, sizeof buf))
		dec32(buf, &u->devnum);
	/* interfaces are NAME:CONFIG.IFACE next to it */
	char bus[SDI_ENV_PATH_MAX];
	if (sdi_env_path(bus, sizeof bus, root, "/sys/bus/usb/devices") != 0)
		return 0;
	DIR *d = opendir(bus);
	struct dirent *e;
	size_t nl = strlen(name);
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, name, nl) != 0 || e->d_name[nl] != ':' || u->nifs >= SDI_USB_MAX_IFS)
			continue;
		char ifdir[SDI_ENV_PATH_MAX + 300];
		sdi_fmt(ifdir, sizeof ifdir, "%s/%s", bus, e->d_name);
		sdi_usbif *f = &u->ifs[u->nifs++];
		f->number = -1;
		if (!attr(ifdir, "bInterfaceNumber", buf, sizeof buf)) {
			uint16_t v;
			if (!hex16(buf, &v))
				f->number = v;
		}
		driver_of(ifdir, f->driver, sizeof f->driver);
		tty_child(ifdir, f->tty, sizeof f->tty);
		if (f->tty[0] && !u->tty[0])
			sdi_fmt(u->tty, sizeof u->tty, "%s", f->tty);
	}
	if (d)
		closedir(d);
	return 0;
}

int sdi_env_usb_find(const char *root, uint16_t vid, uint16_t pid, int has_addr, uint32_t bus,
		     uint32_t addr, sdi_usbinfo *u)
{
	char dir[SDI_ENV_PATH_MAX];
	if (sdi_env_path(dir, sizeof dir, root, "/sys/bus/usb/devices") != 0)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	struct dirent *e;
	int found = -1;
	while (found && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strchr(e->d_name, ':'))
			continue;
		if (sdi_env_usb_read(root, e->d_name, u) != 0)
			continue;
		if (u->vid == vid && u->pid == pid &&
		    (!has_addr || (u->busnum == bus && u->devnum == addr)))
			found = 0;
	}
	closedir(d);
	if (found)
		memset(u, 0, sizeof *u);
	return found;
}

size_t sdi_env_usb_list(const char *root, sdi_usbinfo *out, size_t cap)
{
	char dir[SDI_ENV_PATH_MAX];
	size_t n = 0;
	if (sdi_env_path(dir, sizeof dir, root, "/sys/bus/usb/devices") != 0)
		return 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && n < cap && (e = readdir(d))) {
		if (e->d_name[0] == '.' || strchr(e->d_name, ':') || strncmp(e->d_name, "usb", 3) == 0)
			continue;
		if (sdi_env_usb_read(root, e->d_name, &out[n]) == 0)
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

int sdi_env_tty_sysfs(const char *root, const char *tty, sdi_ttyinfo *t)
{
	char p[SDI_ENV_PATH_MAX], buf[32];
	memset(t, 0, sizeof *t);
	if (sdi_env_path(p, sizeof p, root, "/sys/class/tty/%s", tty) != 0)
		return -1;
	struct stat st;
	if (stat(p, &st) != 0)
		return -1;
	t->in_sysfs = 1;
	if (!attr(p, "dev", buf, sizeof buf) && !sdi_env_devnum(buf, strlen(buf), &t->major, &t->minor))
		t->has_devnum = 1;
	char devlink[SDI_ENV_PATH_MAX + 16], dev[PATH_MAX], sys[PATH_MAX], sysp[SDI_ENV_PATH_MAX];
	sdi_fmt(devlink, sizeof devlink, "%s/device", p);
	if (sdi_env_path(sysp, sizeof sysp, root, "/sys") != 0 || !realpath(sysp, sys) ||
	    !realpath(devlink, dev))
		return 0; /* a virtual tty: no hardware behind it */
	t->has_device = 1;
	driver_of(dev, t->driver, sizeof t->driver);
	/* up from the port: the USB interface (bInterfaceNumber), then the
	 * USB device (idVendor); never above ROOT/sys */
	size_t sl = strlen(sys);
	char cur[PATH_MAX];
	sdi_fmt(cur, sizeof cur, "%s", dev);
	while (strlen(cur) > sl && strncmp(cur, sys, sl) == 0) {
		if (!t->usb_driver[0] && exists(cur, "bInterfaceNumber"))
			driver_of(cur, t->usb_driver, sizeof t->usb_driver);
		if (exists(cur, "idVendor")) {
			t->has_usb = !sdi_env_usb_read(root, sdi_env_base(cur), &t->usb);
			break;
		}
		char *slash = strrchr(cur, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	return 0;
}
