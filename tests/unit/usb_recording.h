/* Test helper: read a published USB descriptor recording from
 * tests/data/usb/ into the tables the libusb link fills from the device
 * (sd_usb_if_desc, as src/link/usb.c's describe() copies them out of
 * libusb's parsed configuration: bInterfaceNumber, bAlternateSetting,
 * bInterfaceClass/SubClass, bEndpointAddress, bmAttributes,
 * wMaxPacketSize).
 *
 * Three published forms are understood, line by line:
 *   - `lsusb -v`        ("  idVendor           0x0e8d MediaTek Inc.")
 *   - pyusb's dump, as mtkclient prints it
 *                       ("     bInterfaceNumber   :    0x1",
 *                        "      ENDPOINT 0x81: Bulk IN ====")
 *   - a kernel log      ("New USB device found, idVendor=0e8d, idProduct=0003")
 * Lines starting with '#' are comments (the first one cites the source).
 * Parsing is bounded: at most REC_MAX_LINES lines of REC_LINE_MAX bytes,
 * REC_MAX_DEVS devices, REC_MAX_IFS interfaces, SD_USB_MAX_EPS endpoints
 * each; anything past a bound makes the load fail rather than be cut. */
#ifndef SD_TEST_USB_RECORDING_H
#define SD_TEST_USB_RECORDING_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/usbid.h"

#ifndef SD_TEST_DATA
#error "SD_TEST_DATA (the tests/data directory) must be defined by the build"
#endif

#define REC_MAX_LINES 400
#define REC_LINE_MAX  512
#define REC_MAX_DEVS  4
#define REC_MAX_IFS   8
#define REC_STR_MAX   64

typedef struct rec_dev {
	uint16_t vid, pid;
	int      mfr_index, product_index;  /* -1: not recorded; 0: the device has no such string */
	char     manufacturer[REC_STR_MAX]; /* as recorded: evidence, never an identity */
	char     product[REC_STR_MAX];
	int      tty_iface;                 /* kernel log: the interface cdc_acm made a ttyACM of, or -1 */
	char     tty[16];                   /* kernel log: that tty's name ("ttyACM0"), or "" */
	char     path[24];                  /* kernel log: the physical port ("3-5"), or "" */
	int      bus, addr;                 /* kernel log: bus and device number, or -1 */
} rec_dev;

typedef struct usb_rec {
	/* kernel log: "usb 3-5: new ... device number 24" precedes the
	 * device's "New USB device found" line */
	char           pending_path[24];
	int            pending_addr;
	rec_dev        dev[REC_MAX_DEVS];
	size_t         ndev;
	sd_usb_if_desc ifs[REC_MAX_IFS];
	uint8_t        ep_len[REC_MAX_IFS][SD_USB_MAX_EPS]; /* bLength as recorded, 0 = not recorded */
	size_t         nifs;
} usb_rec;

enum { REC_CTX_NONE, REC_CTX_DEV, REC_CTX_CFG, REC_CTX_IF, REC_CTX_EP, REC_CTX_OTHER };

static int rec_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The number after a field's name: "  :   0x1 OUT" or "   18"; -1 if none. */
static long rec_value(const char *s, const char **rest)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == ':')
		s++;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	char *end = NULL;
	unsigned long v = strtoul(s, &end, 0);
	if (end == s || v > 0xFFFFul)
		return -1;
	if (rest) {
		while (*end == ' ' || *end == '\t')
			end++;
		*rest = end;
	}
	return (long)v;
}

static void rec_copy_str(char *dst, const char *src)
{
	size_t n = strcspn(src, "\r\n");
	if (n >= REC_STR_MAX)
		n = REC_STR_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\t'))
		dst[--n] = '\0';
}

static rec_dev *rec_new_dev(usb_rec *r)
{
	if (r->ndev >= REC_MAX_DEVS)
		return NULL;
	rec_dev *d = &r->dev[r->ndev++];
	memset(d, 0, sizeof *d);
	d->mfr_index = d->product_index = d->tty_iface = -1;
	d->bus = d->addr = -1;
	if (r->pending_path[0]) {
		memcpy(d->path, r->pending_path, sizeof d->path);
		d->bus = atoi(d->path);
		d->addr = r->pending_addr;
		r->pending_path[0] = '\0';
	}
	return d;
}

/* A kernel log line; 0 when it was one, 1 when not, -1 on overflow. */
static int rec_kernel_line(usb_rec *r, const char *s)
{
	const char *p;
	unsigned a, b;
	rec_dev *d = r->ndev ? &r->dev[r->ndev - 1] : NULL;
	char path[24];
	if ((p = strstr(s, "usb ")) != NULL && strstr(s, ": new ") && strstr(s, "device number ") &&
	    sscanf(p, "usb %23[0-9.-]:", path) == 1) {
		snprintf(r->pending_path, sizeof r->pending_path, "%s", path);
		r->pending_addr = atoi(strstr(s, "device number ") + strlen("device number "));
		return 0;
	}
	if ((p = strstr(s, "idVendor=")) != NULL && sscanf(p, "idVendor=%x, idProduct=%x", &a, &b) == 2) {
		if (!(d = rec_new_dev(r)))
			return -1;
		d->vid = (uint16_t)a;
		d->pid = (uint16_t)b;
		return 0;
	}
	if (!d)
		return strstr(s, "usb ") || strstr(s, "cdc_acm") ? 0 : 1;
	if ((p = strstr(s, "New USB device strings: ")) != NULL &&
	    sscanf(p, "New USB device strings: Mfr=%u, Product=%u", &a, &b) == 2) {
		d->mfr_index = (int)a;
		d->product_index = (int)b;
	} else if ((p = strstr(s, ": Product: ")) != NULL) {
		rec_copy_str(d->product, p + strlen(": Product: "));
	} else if ((p = strstr(s, ": Manufacturer: ")) != NULL) {
		rec_copy_str(d->manufacturer, p + strlen(": Manufacturer: "));
	} else if (strstr(s, "cdc_acm ") && strstr(s, ": ttyACM") && (p = strstr(s, ":1.")) != NULL) {
		d->tty_iface = atoi(p + 3);
		sscanf(strstr(s, ": ttyACM") + 2, "%15[a-zA-Z0-9]", d->tty);
	}
	return 0;
}

static int usb_rec_load_path(const char *path, usb_rec *r)
{
	char line[REC_LINE_MAX];
	memset(r, 0, sizeof *r);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int ctx = REC_CTX_NONE, ok = 0, lines = 0;
	sd_usb_if_desc *itf = NULL;
	sd_usb_ep_desc *ep = NULL;
	uint8_t *eplen = NULL;
	while (fgets(line, sizeof line, f)) {
		if (++lines > REC_MAX_LINES || !strchr(line, '\n'))
			goto out; /* too long a file or line: refuse, do not cut */
		const char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '#' || *s == '\n' || *s == '\r')
			continue;
		if (*s == '[') { /* a kernel log */
			if (rec_kernel_line(r, s) < 0)
				goto out;
			continue;
		}
		/* headers */
		if (rec_starts(s, "Bus ") || rec_starts(s, "DEVICE ID ")) {
			if (!rec_new_dev(r))
				goto out;
			ctx = *s == 'D' ? REC_CTX_DEV : REC_CTX_NONE; /* pyusb's fields follow at once */
			continue;
		}
		if (rec_starts(s, "Device Descriptor:")) {
			if (!r->ndev && !rec_new_dev(r))
				goto out;
			ctx = REC_CTX_DEV;
			continue;
		}
		if (rec_starts(s, "Configuration Descriptor:") || rec_starts(s, "CONFIGURATION ")) {
			ctx = REC_CTX_CFG;
			continue;
		}
		if (rec_starts(s, "Interface Descriptor:") || rec_starts(s, "INTERFACE ")) {
			if (r->nifs >= REC_MAX_IFS)
				goto out;
			itf = &r->ifs[r->nifs++];
			if (rec_starts(s, "INTERFACE ")) /* pyusb names the number in its header */
				itf->number = (uint8_t)strtoul(s + strlen("INTERFACE "), NULL, 10);
			ep = NULL;
			ctx = REC_CTX_IF;
			continue;
		}
		if (rec_starts(s, "Endpoint Descriptor:") || rec_starts(s, "ENDPOINT ")) {
			if (!itf || itf->nep >= SD_USB_MAX_EPS)
				goto out;
			eplen = &r->ep_len[itf - r->ifs][itf->nep];
			ep = &itf->ep[itf->nep++];
			if (rec_starts(s, "ENDPOINT ")) { /* pyusb: "ENDPOINT 0x81: Bulk IN" */
				ep->addr = (uint8_t)strtoul(s + strlen("ENDPOINT "), NULL, 16);
				ep->attr = strstr(s, "Bulk") ? 2 : strstr(s, "Interrupt") ? 3 : strstr(s, "Isochronous") ? 1 : 0;
			}
			ctx = REC_CTX_EP;
			continue;
		}
		if (s[strcspn(s, "\r\n") - 1] == ':') {
			ctx = REC_CTX_OTHER; /* "CDC Union:", "Interface Association:" ... */
			continue;
		}
		size_t klen = strcspn(s, " \t:\r\n");
		/* fields */
		char key[32];
		if (klen == 0 || klen >= sizeof key)
			continue;
		memcpy(key, s, klen);
		key[klen] = '\0';
		const char *rest = NULL;
		long v = rec_value(s + klen, &rest);
		if (v < 0)
			continue;
		rec_dev *d = r->ndev ? &r->dev[r->ndev - 1] : NULL;
		if (ctx == REC_CTX_DEV && d) {
			if (!strcmp(key, "idVendor"))
				d->vid = (uint16_t)v;
			else if (!strcmp(key, "idProduct"))
				d->pid = (uint16_t)v;
			else if (!strcmp(key, "iManufacturer")) {
				d->mfr_index = (int)v;
				rec_copy_str(d->manufacturer, rest);
			} else if (!strcmp(key, "iProduct")) {
				d->product_index = (int)v;
				rec_copy_str(d->product, rest);
			}
		} else if (ctx == REC_CTX_IF && itf) {
			if (!strcmp(key, "bInterfaceNumber"))
				itf->number = (uint8_t)v;
			else if (!strcmp(key, "bAlternateSetting"))
				itf->alt = (uint8_t)v;
			else if (!strcmp(key, "bInterfaceClass"))
				itf->cls = (uint8_t)v;
			else if (!strcmp(key, "bInterfaceSubClass"))
				itf->subcls = (uint8_t)v;
		} else if (ctx == REC_CTX_EP && ep) {
			if (!strcmp(key, "bLength"))
				*eplen = (uint8_t)v;
			else if (!strcmp(key, "bEndpointAddress"))
				ep->addr = (uint8_t)v;
			else if (!strcmp(key, "bmAttributes"))
				ep->attr = (uint8_t)v;
			else if (!strcmp(key, "wMaxPacketSize"))
				ep->maxpkt = (uint16_t)v;
		}
	}
	ok = !ferror(f);
out:
	fclose(f);
	return ok ? 0 : -1;
}

/* A recording in tests/data/usb/ by file name. */
static int usb_rec_load(const char *name, usb_rec *r)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/usb/%s", SD_TEST_DATA, name);
	return usb_rec_load_path(path, r);
}

#endif
