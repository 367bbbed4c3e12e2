/*
 * shakedown — sd_ports_list: what the OS says is plugged in. Serial ports
 * through libserialport; USB devices through libusb (loaded on first use by
 * src/link/usb.c: sdi_usb_enumerate); on Linux, strings and the bound
 * driver from sysfs, which any user may read, where libusb could read the
 * strings only of devices the user may open. The joining and naming is
 * sd_ports_resolve (src/core/ports.c).
 */
#include <dirent.h>
#include <stdio.h>
#include <unistd.h>
#include <libserialport.h>
#include "internal.h"

#define SYSFS_USB "/sys/bus/usb/devices"

static void copy(char *dst, size_t n, const char *src)
{
	sdi_fmt(dst, n, "%s", src ? src : "");
}

static int list_serial(sd_ports *p)
{
	struct sp_port **ports = NULL;
	if (sp_list_ports(&ports) != SP_OK) {
		sdi_fmt(p->serial_why, sizeof p->serial_why, "the OS would not list serial ports");
		return SD_ERR_IO;
	}
	for (size_t i = 0; ports[i]; i++) {
		if (p->nserial >= SD_PORTS_MAX) {
			p->cut++;
			continue;
		}
		sd_serial_port *s = &p->serial[p->nserial++];
		memset(s, 0, sizeof *s);
		s->bus = s->addr = -1;
		copy(s->name, sizeof s->name, sp_get_port_name(ports[i]));
		copy(s->description, sizeof s->description, sp_get_port_description(ports[i]));
		switch (sp_get_port_transport(ports[i])) {
		case SP_TRANSPORT_NATIVE:
			s->transport = SD_TRANSPORT_NATIVE;
			break;
		case SP_TRANSPORT_USB:
			s->transport = SD_TRANSPORT_USB;
			break;
		case SP_TRANSPORT_BLUETOOTH:
			s->transport = SD_TRANSPORT_BLUETOOTH;
			break;
		default:
			s->transport = SD_TRANSPORT_UNKNOWN;
			break;
		}
		if (s->transport != SD_TRANSPORT_USB)
			continue;
		int vid = 0, pid = 0, bus = -1, addr = -1;
		if (sp_get_port_usb_vid_pid(ports[i], &vid, &pid) == SP_OK) {
			s->vid = (uint16_t)vid;
			s->pid = (uint16_t)pid;
		}
		if (sp_get_port_usb_bus_address(ports[i], &bus, &addr) == SP_OK) {
			s->bus = bus;
			s->addr = addr;
		}
		copy(s->manufacturer, sizeof s->manufacturer, sp_get_port_usb_manufacturer(ports[i]));
		copy(s->product, sizeof s->product, sp_get_port_usb_product(ports[i]));
		copy(s->serial, sizeof s->serial, sp_get_port_usb_serial(ports[i]));
	}
	sp_free_port_list(ports);
	return SD_OK;
}

/* One line of a sysfs attribute, without its newline; "" if absent. */
static void sysfs_line(const char *dir, const char *attr, char *out, size_t outlen)
{
	char path[256];
	out[0] = '\0';
	sdi_fmt(path, sizeof path, "%s/%s", dir, attr);
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)outlen, f))
		out[strcspn(out, "\r\n")] = '\0';
	else
		out[0] = '\0';
	fclose(f);
}

int sdi_usb_sysfs_fill(const char *root, sd_usb_device *d)
{
	char dir[192], link[256];
	if (!d->path[0] || strchr(d->path, '/') || d->path[0] == '.')
		return 0;
	sdi_fmt(dir, sizeof dir, "%s/%s", root, d->path);
	if (access(dir, R_OK) != 0)
		return 0;
	if (!d->manufacturer[0])
		sysfs_line(dir, "manufacturer", d->manufacturer, sizeof d->manufacturer);
	if (!d->product[0])
		sysfs_line(dir, "product", d->product, sizeof d->product);
	if (!d->serial[0])
		sysfs_line(dir, "serial", d->serial, sizeof d->serial);
	DIR *dp = opendir(dir);
	if (!dp)
		return 1;
	size_t plen = strlen(d->path);
	struct dirent *e;
	while ((e = readdir(dp)) != NULL && !d->driver[0]) {
		if (strncmp(e->d_name, d->path, plen) != 0 || e->d_name[plen] != ':')
			continue;
		char path[300];
		sdi_fmt(path, sizeof path, "%s/%s/driver", dir, e->d_name);
		ssize_t n = readlink(path, link, sizeof link - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		const char *base = strrchr(link, '/');
		sdi_fmt(d->driver, sizeof d->driver, "%s", base ? base + 1 : link);
	}
	closedir(dp);
	return 1;
}

int sd_ports_list(sd_ports *p)
{
	if (!p)
		return SD_ERR_ARG;
	memset(p, 0, sizeof *p);
	p->serial_err = list_serial(p);
	int want_strings = 1;
#ifdef __linux__
	want_strings = access(SYSFS_USB, R_OK) != 0; /* sysfs has them for every user */
#endif
	p->usb_err = sdi_usb_enumerate(p->usb, SD_PORTS_MAX, &p->nusb, &p->cut, want_strings, p->usb_why,
				       sizeof p->usb_why);
#ifdef __linux__
	for (size_t i = 0; i < p->nusb; i++)
		sdi_usb_sysfs_fill(SYSFS_USB, &p->usb[i]);
#endif
	sd_ports_resolve(p);
	return p->serial_err;
}
