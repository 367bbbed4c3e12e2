/*
 * shakedown — usb: a device's bulk endpoints through libusb-1.0, for a
 * MediaTek BROM/Preloader that no CDC driver serves (a libusb/UsbDk filter
 * on Windows, an unbound interface on Linux): usb:0e8d:0003[@BUS.ADDR].
 *
 * The interface is chosen by sd_usb_pick_bulk from the active
 * configuration; a kernel driver bound to it is detached only with
 * ?detach=1 (and reattached on close). Built only with SD_WITH_LIBUSB; the
 * bytes above it are the same as over a ttyACM, so protocol engines are
 * tested through `mem`/`sim:` links, not here.
 */
#include <stdlib.h>
#include "internal.h"

#ifdef SD_WITH_LIBUSB
#include <dlfcn.h>
#include <libusb.h>

/* libusb is loaded when a usb: target is first opened, not at start-up:
 * it and libudev cost every run of the program about 0.2 ms of dynamic
 * loading, and most runs never touch USB. Headers come from pkg-config as
 * usual; the calls below go through this table. */
static struct {
	int done, ok;
	int (*init)(libusb_context **);
	void (*exit)(libusb_context *);
	const char *(*strerror)(int);
	ssize_t (*get_device_list)(libusb_context *, libusb_device ***);
	void (*free_device_list)(libusb_device **, int);
	int (*get_device_descriptor)(libusb_device *, struct libusb_device_descriptor *);
	int (*get_active_config_descriptor)(libusb_device *, struct libusb_config_descriptor **);
	void (*free_config_descriptor)(struct libusb_config_descriptor *);
	uint8_t (*get_bus_number)(libusb_device *);
	uint8_t (*get_device_address)(libusb_device *);
	int (*open)(libusb_device *, libusb_device_handle **);
	void (*close)(libusb_device_handle *);
	int (*kernel_driver_active)(libusb_device_handle *, int);
	int (*detach_kernel_driver)(libusb_device_handle *, int);
	int (*attach_kernel_driver)(libusb_device_handle *, int);
	int (*claim_interface)(libusb_device_handle *, int);
	int (*release_interface)(libusb_device_handle *, int);
	int (*bulk_transfer)(libusb_device_handle *, unsigned char, unsigned char *, int, int *,
			     unsigned int);
	int (*control_transfer)(libusb_device_handle *, uint8_t, uint8_t, uint16_t, uint16_t,
				unsigned char *, uint16_t, unsigned int);
	int (*get_port_numbers)(libusb_device *, uint8_t *, int);
	int (*get_string_descriptor_ascii)(libusb_device_handle *, uint8_t, unsigned char *, int);
} U;

int sdi_usb_load(char *why, size_t whylen)
{
	if (U.done)
		goto out;
	U.done = 1;
	void *h = dlopen("libusb-1.0.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		sdi_fmt(why, whylen, "usb: cannot load libusb-1.0 (%s): install libusb-1.0-0", dlerror());
		return SD_ERR_UNSUPPORTED;
	}
	/* POSIX: a function pointer converts from dlsym's void * this way */
#define LOAD(f)                                                            \
	do {                                                               \
		*(void **)(&U.f) = dlsym(h, "libusb_" #f);                 \
		if (!U.f)                                                  \
			goto missing;                                      \
	} while (0)
	LOAD(init); LOAD(exit); LOAD(strerror); LOAD(get_device_list); LOAD(free_device_list);
	LOAD(get_device_descriptor); LOAD(get_active_config_descriptor);
	LOAD(free_config_descriptor); LOAD(get_bus_number); LOAD(get_device_address);
	LOAD(open); LOAD(close); LOAD(kernel_driver_active); LOAD(detach_kernel_driver);
	LOAD(attach_kernel_driver); LOAD(claim_interface); LOAD(release_interface);
	LOAD(bulk_transfer); LOAD(control_transfer); LOAD(get_port_numbers);
	LOAD(get_string_descriptor_ascii);
#undef LOAD
	U.ok = 1;
	return SD_OK;
missing:
	dlclose(h);
out:
	if (U.ok)
		return SD_OK;
	sdi_fmt(why, whylen, "usb: the libusb-1.0 found lacks functions shakedown needs (too old?)");
	return SD_ERR_UNSUPPORTED;
}

#define libusb_init                         U.init
#define libusb_exit                         U.exit
#define libusb_strerror                     U.strerror
#define libusb_get_device_list              U.get_device_list
#define libusb_free_device_list             U.free_device_list
#define libusb_get_device_descriptor        U.get_device_descriptor
#define libusb_get_active_config_descriptor U.get_active_config_descriptor
#define libusb_free_config_descriptor       U.free_config_descriptor
#define libusb_get_bus_number               U.get_bus_number
#define libusb_get_device_address           U.get_device_address
#define libusb_open                         U.open
#define libusb_close                        U.close
#define libusb_kernel_driver_active         U.kernel_driver_active
#define libusb_detach_kernel_driver         U.detach_kernel_driver
#define libusb_attach_kernel_driver         U.attach_kernel_driver
#define libusb_claim_interface              U.claim_interface
#define libusb_release_interface            U.release_interface
#define libusb_bulk_transfer                U.bulk_transfer
#define libusb_control_transfer             U.control_transfer
#define libusb_get_port_numbers             U.get_port_numbers
#define libusb_get_string_descriptor_ascii  U.get_string_descriptor_ascii

#define USB_RBUF 16384u

typedef struct usb_link {
	sd_link               base;
	libusb_context       *ctx;
	libusb_device_handle *h;
	sd_usb_pipe           pipe;
	int                   claimed, detached;
	uint8_t               rbuf[USB_RBUF]; /* a bulk read takes whole packets */
	size_t                roff, rlen;
} usb_link;

static int map_err(sd_link *l, int e, const char *what)
{
	switch (e) {
	case LIBUSB_ERROR_TIMEOUT:
		return SD_ERR_TIMEOUT;
	case LIBUSB_ERROR_NO_DEVICE:
		return sdi_link_fail(l, SD_ERR_CLOSED, "%s: the device disconnected", what);
	case LIBUSB_ERROR_ACCESS:
		return sdi_link_fail(l, SD_ERR_ACCESS, "%s: permission denied (udev rule for the device?)", what);
	case LIBUSB_ERROR_BUSY:
		return sdi_link_fail(l, SD_ERR_BUSY, "%s: the interface is held by another program or driver", what);
	case LIBUSB_ERROR_NO_MEM:
		return SD_ERR_NOMEM;
	case LIBUSB_ERROR_NOT_FOUND:
		return sdi_link_fail(l, SD_ERR_NOTFOUND, "%s: %s", what, libusb_strerror(e));
	default:
		return sdi_link_fail(l, SD_ERR_IO, "%s: %s", what, libusb_strerror(e));
	}
}

static unsigned ms_until(const sd_clock *c, sd_deadline dl)
{
	if (dl == SD_FOREVER)
		return 0; /* libusb: no timeout */
	sd_time left = sd_deadline_left(c, dl);
	unsigned ms = (unsigned)SDI_MIN(left / 1000, (sd_time)3600000);
	return ms ? ms : 1;
}

static int usb_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	usb_link *u = (usb_link *)l;
	if (u->roff == u->rlen) {
		int got = 0;
		int r = libusb_bulk_transfer(u->h, u->pipe.ep_in, u->rbuf, (int)sizeof u->rbuf, &got,
					     ms_until(l->clock, dl));
		if (got <= 0)
			return r ? map_err(l, r, "usb read") : SD_ERR_TIMEOUT;
		u->roff = 0;
		u->rlen = (size_t)got;
	}
	size_t n = SDI_MIN(len, u->rlen - u->roff);
	memcpy(buf, u->rbuf + u->roff, n);
	u->roff += n;
	return (int)n;
}

static int usb_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	usb_link *u = (usb_link *)l;
	int got = 0;
	int r = libusb_bulk_transfer(u->h, u->pipe.ep_out, (unsigned char *)(uintptr_t)buf, (int)len, &got,
				     ms_until(l->clock, dl));
	if (got > 0)
		return got;
	return r ? map_err(l, r, "usb write") : SD_ERR_TIMEOUT;
}

static int usb_flush(sd_link *l, unsigned dirs)
{
	usb_link *u = (usb_link *)l;
	if (dirs & SD_FLUSH_IN)
		u->roff = u->rlen = 0;
	return SD_OK;
}

static void usb_close(sd_link *l)
{
	usb_link *u = (usb_link *)l;
	if (u->h) {
		if (u->claimed)
			libusb_release_interface(u->h, u->pipe.iface);
		if (u->detached)
			libusb_attach_kernel_driver(u->h, u->pipe.iface);
		libusb_close(u->h);
	}
	if (u->ctx)
		libusb_exit(u->ctx);
	free(u);
}

static const sd_link_ops sd_link_usb_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "usb",
	.caps = SD_LINK_BYTES | SD_LINK_FRAMED,
	.read = usb_read,
	.write = usb_write,
	.flush = usb_flush,
	.close = usb_close,
};

/* The active configuration's interfaces, for sd_usb_pick_bulk. */
static size_t describe(libusb_device *dev, sd_usb_if_desc *out, size_t cap)
{
	struct libusb_config_descriptor *cfg = NULL;
	size_t n = 0;
	if (libusb_get_active_config_descriptor(dev, &cfg) != 0 || !cfg)
		return 0;
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		for (int a = 0; a < itf->num_altsetting && n < cap; a++) {
			const struct libusb_interface_descriptor *d = &itf->altsetting[a];
			sd_usb_if_desc *o = &out[n++];
			memset(o, 0, sizeof *o);
			o->number = d->bInterfaceNumber;
			o->alt = d->bAlternateSetting;
			o->cls = d->bInterfaceClass;
			o->subcls = d->bInterfaceSubClass;
			for (int e = 0; e < d->bNumEndpoints && o->nep < SD_USB_MAX_EPS; e++) {
				o->ep[o->nep].addr = d->endpoint[e].bEndpointAddress;
				o->ep[o->nep].attr = d->endpoint[e].bmAttributes;
				o->ep[o->nep].maxpkt = d->endpoint[e].wMaxPacketSize;
				o->nep++;
			}
		}
	}
	libusb_free_config_descriptor(cfg);
	return n;
}

int sdi_link_open_usb(const char *path, const sd_kv *q, size_t nq, const sd_clock *clock,
		      sd_link **out, char *why, size_t whylen)
{
	sd_usb_target t;
	int r = sd_usb_target_parse(path, q, nq, &t, why, whylen);
	if (r)
		return r;
	r = sdi_usb_load(why, whylen);
	if (r)
		return r;
	usb_link *u = calloc(1, sizeof *u);
	if (!u)
		return SD_ERR_NOMEM;
	sd_link_init(&u->base, &sd_link_usb_ops, clock);
	libusb_device **list = NULL;
	libusb_device *found = NULL;
	if (libusb_init(&u->ctx) != 0) {
		u->ctx = NULL;
		sdi_fmt(why, whylen, "libusb cannot start (no USB access on this host?)");
		r = SD_ERR_IO;
		goto fail;
	}
	ssize_t n = libusb_get_device_list(u->ctx, &list);
	for (ssize_t i = 0; i < n && !found; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) != 0 || dd.idVendor != t.vid || dd.idProduct != t.pid)
			continue;
		if (t.has_addr && (libusb_get_bus_number(list[i]) != t.bus ||
				   libusb_get_device_address(list[i]) != t.addr))
			continue;
		found = list[i];
	}
	if (!found) {
		const sd_usb_id *id = sd_usb_id_lookup(t.vid, t.pid);
		sdi_fmt(why, whylen, "no USB device %04x:%04x connected", t.vid, t.pid);
		if (id)
			sdi_append(why, whylen, " (%s)", id->name);
		if (t.vid == 0x0E8D)
			sdi_append(why, whylen, "; shakedown ports --watch shows the phone arrive");
		r = SD_ERR_NOTFOUND;
		goto fail;
	}
	r = libusb_open(found, &u->h);
	if (r) {
		u->h = NULL;
		r = map_err(&u->base, r, "usb open");
		sdi_fmt(why, whylen, "%s", u->base.why);
		goto fail;
	}
	sd_usb_if_desc ifs[16];
	size_t nifs = describe(found, ifs, SDI_ARRAY_LEN(ifs));
	if (sd_usb_pick_bulk(ifs, nifs, t.iface, &u->pipe) != SD_OK) {
		sdi_fmt(why, whylen, "%04x:%04x has no interface with bulk IN and OUT endpoints%s", t.vid, t.pid,
			t.iface >= 0 ? " at the iface= asked for" : "");
		r = SD_ERR_NOTFOUND;
		goto fail;
	}
	if (libusb_kernel_driver_active(u->h, u->pipe.iface) == 1) {
		if (!t.detach) {
			sdi_fmt(why, whylen, "a kernel driver (cdc_acm?) serves interface %u: use its /dev/ttyACM port, "
				"or add ?detach=1 to take it over", u->pipe.iface);
			r = SD_ERR_BUSY;
			goto fail;
		}
		r = libusb_detach_kernel_driver(u->h, u->pipe.iface);
		if (r) {
			r = map_err(&u->base, r, "detaching the kernel driver");
			sdi_fmt(why, whylen, "%s", u->base.why);
			goto fail;
		}
		u->detached = 1;
	}
	r = libusb_claim_interface(u->h, u->pipe.iface);
	if (r) {
		r = map_err(&u->base, r, "claiming the interface");
		sdi_fmt(why, whylen, "%s", u->base.why);
		goto fail;
	}
	u->claimed = 1;
	/* CDC SET_CONTROL_LINE_STATE (DTR|RTS): some ROMs wait for it;
	 * best effort, as tools that speak to these devices do. */
	if (u->pipe.comm_iface >= 0)
		libusb_control_transfer(u->h, 0x21, 0x22, 0x03, (uint16_t)u->pipe.comm_iface, NULL, 0, 200);
	libusb_free_device_list(list, 1);
	*out = &u->base;
	return SD_OK;
fail:
	if (list)
		libusb_free_device_list(list, 1);
	usb_close(&u->base);
	return r;
}

static void usb_string(libusb_device_handle *h, uint8_t index, char *out, size_t outlen)
{
	unsigned char buf[SD_PORTS_STR];
	if (!h || !index)
		return;
	int n = libusb_get_string_descriptor_ascii(h, index, buf, (int)sizeof buf - 1);
	if (n <= 0)
		return;
	buf[SDI_MIN((size_t)n, sizeof buf - 1)] = '\0';
	sdi_fmt(out, outlen, "%s", (const char *)buf);
}

int sdi_usb_enumerate(sd_usb_device *out, size_t cap, size_t *n, size_t *cut, int want_strings,
		      char *why, size_t whylen)
{
	*n = 0;
	int r = sdi_usb_load(why, whylen);
	if (r)
		return r;
	libusb_context *ctx = NULL;
	libusb_device **list = NULL;
	if (libusb_init(&ctx) != 0) {
		sdi_fmt(why, whylen, "libusb cannot start (no USB access on this host?)");
		return SD_ERR_IO;
	}
	ssize_t cnt = libusb_get_device_list(ctx, &list);
	if (cnt < 0) {
		sdi_fmt(why, whylen, "libusb cannot list devices: %s", libusb_strerror((int)cnt));
		libusb_exit(ctx);
		return SD_ERR_IO;
	}
	for (ssize_t i = 0; i < cnt; i++) {
		struct libusb_device_descriptor dd;
		if (libusb_get_device_descriptor(list[i], &dd) != 0)
			continue;
		if (*n >= cap) {
			if (cut)
				(*cut)++;
			continue;
		}
		sd_usb_device *d = &out[(*n)++];
		memset(d, 0, sizeof *d);
		d->vid = dd.idVendor;
		d->pid = dd.idProduct;
		d->bus = libusb_get_bus_number(list[i]);
		d->addr = libusb_get_device_address(list[i]);
		d->serial_driver = -1;
		uint8_t ports[8];
		int np = libusb_get_port_numbers(list[i], ports, (int)sizeof ports);
		if (np > 0) { /* sysfs style: BUS-P.P.P */
			sdi_fmt(d->path, sizeof d->path, "%u-%u", d->bus, ports[0]);
			for (int k = 1; k < np; k++)
				sdi_append(d->path, sizeof d->path, ".%u", ports[k]);
		}
		/* Opening needs write access to the device node, which users
		 * rarely have without a udev rule: best effort, strings only. */
		libusb_device_handle *h = NULL;
		if (want_strings && (dd.iManufacturer || dd.iProduct || dd.iSerialNumber) &&
		    libusb_open(list[i], &h) == 0) {
			usb_string(h, dd.iManufacturer, d->manufacturer, sizeof d->manufacturer);
			usb_string(h, dd.iProduct, d->product, sizeof d->product);
			usb_string(h, dd.iSerialNumber, d->serial, sizeof d->serial);
			libusb_close(h);
		}
	}
	libusb_free_device_list(list, 1);
	libusb_exit(ctx);
	return SD_OK;
}

#else /* !SD_WITH_LIBUSB */

int sdi_usb_load(char *why, size_t whylen)
{
	sdi_fmt(why, whylen, "built without libusb (cmake -DSD_WITH_LIBUSB=ON)");
	return SD_ERR_UNSUPPORTED;
}

int sdi_usb_enumerate(sd_usb_device *out, size_t cap, size_t *n, size_t *cut, int want_strings,
		      char *why, size_t whylen)
{
	(void)out;
	(void)cap;
	(void)cut;
	(void)want_strings;
	*n = 0;
	return sdi_usb_load(why, whylen);
}

int sdi_link_open_usb(const char *path, const sd_kv *q, size_t nq, const sd_clock *clock,
		      sd_link **out, char *why, size_t whylen)
{
	sd_usb_target t;
	(void)clock;
	*out = NULL;
	int r = sd_usb_target_parse(path, q, nq, &t, why, whylen);
	if (r)
		return r;
	sdi_fmt(why, whylen, "usb: targets need libusb: build with cmake -DSD_WITH_LIBUSB=ON");
	return SD_ERR_UNSUPPORTED;
}

#endif
