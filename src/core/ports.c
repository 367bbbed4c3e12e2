/*
 * shakedown — the pure half of `shakedown ports`: join serial ports to USB
 * devices, name them from the USB id table, keep the devices worth
 * listing, and turn the result into the snapshot ports --watch compares.
 * No OS here (src/env/ports.c asks the OS); tests feed recorded data.
 */
#include "internal.h"

const char *sd_port_transport_name(int transport)
{
	switch (transport) {
	case SD_TRANSPORT_NATIVE: return "native";
	case SD_TRANSPORT_USB: return "usb";
	case SD_TRANSPORT_BLUETOOTH: return "bluetooth";
	default: return "unknown";
	}
}

/* The serial port that serves device d, or NULL: by bus and address where
 * the port knows them; else by VID:PID when exactly one port and exactly
 * one device have it (a platform that gives no address). */
static const sd_serial_port *port_of(const sd_ports *p, const sd_usb_device *d)
{
	const sd_serial_port *by_id = NULL;
	size_t ids = 0, devs = 0;
	for (size_t i = 0; i < p->nserial; i++) {
		const sd_serial_port *s = &p->serial[i];
		if (s->transport != SD_TRANSPORT_USB)
			continue;
		if (s->bus >= 0 && s->addr >= 0) {
			if (s->bus == d->bus && s->addr == d->addr)
				return s;
			continue;
		}
		if (s->vid == d->vid && s->pid == d->pid) {
			by_id = s;
			ids++;
		}
	}
	for (size_t i = 0; i < p->nusb; i++)
		devs += p->usb[i].vid == d->vid && p->usb[i].pid == d->pid;
	return ids == 1 && devs == 1 ? by_id : NULL;
}

static void fill(char *dst, size_t n, const char *src)
{
	if (!dst[0] && src[0])
		sdi_fmt(dst, n, "%s", src);
}

static int usb_before(const sd_usb_device *a, const sd_usb_device *b)
{
	return a->bus != b->bus ? a->bus < b->bus : a->addr < b->addr;
}

static int port_before(const sd_serial_port *a, const sd_serial_port *b)
{
	return strncmp(a->name, b->name, sizeof a->name) < 0;
}

void sd_ports_resolve(sd_ports *p)
{
	if (!p)
		return;
	p->nserial = SDI_MIN(p->nserial, (size_t)SD_PORTS_MAX);
	p->nusb = SDI_MIN(p->nusb, (size_t)SD_PORTS_MAX);
	/* stable order: ports by name, devices by bus and address (insertion
	 * sorts: at most SD_PORTS_MAX each) */
	for (size_t i = 1; i < p->nserial; i++)
		for (size_t j = i; j > 0 && port_before(&p->serial[j], &p->serial[j - 1]); j--) {
			sd_serial_port t = p->serial[j];
			p->serial[j] = p->serial[j - 1];
			p->serial[j - 1] = t;
		}
	size_t kept = 0;
	for (size_t i = 0; i < p->nusb; i++) {
		sd_usb_device *d = &p->usb[i];
		const sd_serial_port *s = port_of(p, d);
		d->id = d->vid ? sd_usb_id_lookup(d->vid, d->pid) : NULL;
		d->tty[0] = '\0';
		if (s) {
			d->serial_driver = 1;
			sdi_fmt(d->tty, sizeof d->tty, "%s", s->name);
			fill(d->manufacturer, sizeof d->manufacturer, s->manufacturer);
			fill(d->product, sizeof d->product, s->product);
			fill(d->serial, sizeof d->serial, s->serial);
		} else {
			/* no port: none serves it, if the port list is whole */
			d->serial_driver = p->serial_err == SD_OK ? 0 : -1;
		}
		/* a hub, a keyboard, a camera: no role here, no port */
		if (!d->id && !s)
			continue;
		if (kept != i)
			p->usb[kept] = *d;
		kept++;
	}
	p->nusb = kept;
	for (size_t i = 1; i < p->nusb; i++)
		for (size_t j = i; j > 0 && usb_before(&p->usb[j], &p->usb[j - 1]); j--) {
			sd_usb_device t = p->usb[j];
			p->usb[j] = p->usb[j - 1];
			p->usb[j - 1] = t;
		}
}

size_t sd_ports_snapshot(const sd_ports *p, sd_port_seen *out, size_t cap)
{
	size_t n = 0;
	if (!p || !out)
		return 0;
	for (size_t i = 0; i < SDI_MIN(p->nserial, (size_t)SD_PORTS_MAX) && n < cap; i++) {
		const sd_serial_port *s = &p->serial[i];
		sd_port_seen *o = &out[n++];
		memset(o, 0, sizeof *o);
		sdi_fmt(o->name, sizeof o->name, "%s", s->name);
		o->vid = s->vid;
		o->pid = s->pid;
		if (s->bus > 0 && s->bus <= 255 && s->addr > 0 && s->addr <= 255) {
			o->bus = (uint8_t)s->bus;
			o->addr = (uint8_t)s->addr;
		}
	}
	for (size_t i = 0; i < SDI_MIN(p->nusb, (size_t)SD_PORTS_MAX) && n < cap; i++) {
		const sd_usb_device *d = &p->usb[i];
		if (d->tty[0])
			continue; /* seen through its port */
		sd_port_seen *o = &out[n++];
		memset(o, 0, sizeof *o);
		sdi_fmt(o->name, sizeof o->name, "usb:%04x:%04x@%u.%u", d->vid, d->pid, d->bus, d->addr);
		o->vid = d->vid;
		o->pid = d->pid;
		o->bus = d->bus;
		o->addr = d->addr;
	}
	return n;
}
