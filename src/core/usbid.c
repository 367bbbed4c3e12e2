/*
 * shakedown — USB identities and the ports --watch event logic.
 * Sources: MediaTek PIDs from shared/protocols/mtk.md and mtkclient's
 * mtkclient/config/usb_ids.py (0x6000, 0x201D, 0x20FF, 0x3000 as Preloader;
 * LG 1004:6000 and OPPO 22D9:0006 Preloaders); bridges and boards from their
 * vendors' well-known IDs (also listed in mtkclient's usb_ids.py for CH34x,
 * CP2102 and FTDI), checked against the id tables of the Linux drivers that
 * serve them: drivers/usb/serial/cp210x.c (10c4:ea60 is the default of
 * CP2102, CP2102N, CP2104 and CP2102C alike; ea70 CP2105, ea71 CP2108;
 * 10c4:ea64 is named "SiLabs CP2102C" by esptool v5.3.1 loader.py
 * HARDWARE_FLOW_CONTROL_VID_PIDS, reset differently: its hardware flow
 * control is always on),
 * drivers/usb/serial/pl2303.h (067b:2303 and the PL2303G family 23a3..23f3),
 * drivers/usb/serial/ch341.c (1a86:7523, 7522, 5523), drivers/usb/class/
 * cdc-acm.c (CH343 1a86:55d3 and CH9102 1a86:55d4 are plain CDC-ACM),
 * drivers/usb/serial/ftdi_sio_ids.h. Boards and bootloaders: esptool's
 * loader.py (ESPRESSIF_VID 0x303A, USB_JTAG_SERIAL_PID 0x1001; uses_usb_otg:
 * the ROM's USB-OTG CDC download mode has the chip's IMAGE_CHIP_ID as PID,
 * 0x0002 ESP32-S2, 0x0009 ESP32-S3, 0x0012 ESP32-P4), Raspberry Pi's pico-bootrom
 * (2e8a:0003 BOOTSEL) and pico-sdk's stdio_usb (2e8a:000a), MicroPython's
 * rp2 port (2e8a:0005), the Arduino AVR core's boards.txt (Leonardo and
 * Micro: 0x0036/0x0037 the Caterina bootloader, 0x8036/0x8037 the sketch),
 * ST's AN2606 (0483:df11 the system bootloader's DFU).
 */
#include "internal.h"
#include "shakedown/usbid.h"

#define EXACT 0xFFFFu
#define ANY   0x0000u

static const sd_usb_id ids[] = {
	{ 0x0E8D, 0x0003, EXACT, SD_USB_MTK_BROM, "MediaTek BootROM (BROM) download mode",
	  "the mask ROM waits for the A0 0A 50 05 handshake: shakedown info mtk PORT" },
	{ 0x0E8D, 0x2000, EXACT, SD_USB_MTK_PRELOADER, "MediaTek Preloader (VCOM) download mode",
	  "stays only seconds; BROM needs the volume keys held while connecting" },
	{ 0x0E8D, 0x6000, EXACT, SD_USB_MTK_PRELOADER, "MediaTek Preloader download mode", "" },
	{ 0x0E8D, 0x201D, EXACT, SD_USB_MTK_PRELOADER, "MediaTek Preloader download mode", "" },
	{ 0x0E8D, 0x20FF, EXACT, SD_USB_MTK_PRELOADER, "MediaTek Preloader download mode", "" },
	{ 0x0E8D, 0x3000, EXACT, SD_USB_MTK_PRELOADER, "MediaTek Preloader download mode", "" },
	{ 0x0E8D, 0x2001, EXACT, SD_USB_MTK_DA, "MediaTek download agent (DA) running",
	  "a DA was loaded already: speak DA, or power-cycle for BROM/Preloader" },
	{ 0x0E8D, 0x0000, ANY, SD_USB_MTK_OTHER, "MediaTek phone (composite / META / ADB: not a download mode)",
	  "the phone booted past the Preloader: power off and reconnect (volume keys for BROM)" },
	{ 0x1004, 0x6000, EXACT, SD_USB_MTK_PRELOADER, "LG (MediaTek) Preloader download mode", "" },
	{ 0x22D9, 0x0006, EXACT, SD_USB_MTK_PRELOADER, "OPPO (MediaTek) Preloader download mode", "" },
	{ 0x1A86, 0x7523, EXACT, SD_USB_BRIDGE, "WCH CH340 USB-UART", "" },
	{ 0x1A86, 0x7522, EXACT, SD_USB_BRIDGE, "WCH CH340K USB-UART", "" },
	{ 0x1A86, 0x5523, EXACT, SD_USB_BRIDGE, "WCH CH341 USB-UART", "" },
	{ 0x1A86, 0x55D3, EXACT, SD_USB_BRIDGE, "WCH CH343 USB-UART (CDC-ACM: ttyACM)", "" },
	{ 0x1A86, 0x55D4, EXACT, SD_USB_BRIDGE, "WCH CH9102 USB-UART (CDC-ACM: ttyACM; many ESP32 boards)", "" },
	{ 0x10C4, 0xEA60, EXACT, SD_USB_BRIDGE, "Silicon Labs CP210x USB-UART (CP2102/CP2102N/CP2104/CP2102C)", "" },
	{ 0x10C4, 0xEA64, EXACT, SD_USB_BRIDGE, "Silicon Labs CP2102C USB-UART (hardware flow control always on)",
	  "RTS is tied to flow control: the classic DTR/RTS auto-reset differs (esptool has its own path)" },
	{ 0x10C4, 0xEA70, EXACT, SD_USB_BRIDGE, "Silicon Labs CP2105 dual USB-UART", "" },
	{ 0x10C4, 0xEA71, EXACT, SD_USB_BRIDGE, "Silicon Labs CP2108 quad USB-UART", "" },
	{ 0x0403, 0x6001, EXACT, SD_USB_BRIDGE, "FTDI FT232R USB-UART", "" },
	{ 0x0403, 0x6010, EXACT, SD_USB_BRIDGE, "FTDI FT2232 USB-UART", "" },
	{ 0x0403, 0x6011, EXACT, SD_USB_BRIDGE, "FTDI FT4232 USB-UART", "" },
	{ 0x0403, 0x6014, EXACT, SD_USB_BRIDGE, "FTDI FT232H USB-UART", "" },
	{ 0x0403, 0x6015, EXACT, SD_USB_BRIDGE, "FTDI FT-X USB-UART", "" },
	{ 0x067B, 0x2303, EXACT, SD_USB_BRIDGE, "Prolific PL2303 USB-UART", "" },
	{ 0x067B, 0x23A3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GC USB-UART", "" },
	{ 0x067B, 0x23B3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GB USB-UART", "" },
	{ 0x067B, 0x23C3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GT USB-UART", "" },
	{ 0x067B, 0x23D3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GL USB-UART", "" },
	{ 0x067B, 0x23E3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GE USB-UART", "" },
	{ 0x067B, 0x23F3, EXACT, SD_USB_BRIDGE, "Prolific PL2303GS USB-UART", "" },
	{ 0x0483, 0xDF11, EXACT, SD_USB_BOOTLOADER, "STM32 ROM bootloader in USB DFU mode",
	  "not a serial port: use dfu-util" },
	{ 0x0483, 0x5740, EXACT, SD_USB_BOARD, "STM32 USB virtual COM port (application)", "" },
	{ 0x0483, 0x374B, EXACT, SD_USB_BOARD, "ST-LINK/V2-1 virtual COM port", "" },
	{ 0x0483, 0x374E, EXACT, SD_USB_BOARD, "ST-LINK/V3 virtual COM port", "" },
	{ 0x303A, 0x1001, EXACT, SD_USB_BOARD, "Espressif USB-JTAG/serial (ESP32-C3/C5/C6/C61/H2/S3/P4: the chip itself, no bridge)",
	  "the chip's own USB (application or ROM download alike): the port vanishes and returns on every reset, "
	  "which does not re-sample the straps (esptool --before usb-reset)" },
	{ 0x303A, 0x0002, EXACT, SD_USB_BOOTLOADER, "Espressif ESP32-S2 ROM download mode over USB-OTG CDC",
	  "the ROM loader waits for esptool (no reset needed)" },
	{ 0x303A, 0x0009, EXACT, SD_USB_BOOTLOADER, "Espressif ESP32-S3 ROM download mode over USB-OTG CDC",
	  "the ROM loader waits for esptool (no reset needed)" },
	{ 0x303A, 0x0012, EXACT, SD_USB_BOOTLOADER, "Espressif ESP32-P4 ROM download mode over USB-OTG CDC",
	  "the ROM loader waits for esptool (no reset needed)" },
	{ 0x2E8A, 0x0003, EXACT, SD_USB_BOOTLOADER, "Raspberry Pi RP2040 BOOTSEL ROM (USB drive + PICOBOOT)",
	  "not a serial port: copy a .uf2 to its drive, or use picotool" },
	{ 0x2E8A, 0x000A, EXACT, SD_USB_BOARD, "Raspberry Pi RP2040 Pico SDK USB serial (stdio_usb)", "" },
	{ 0x2E8A, 0x0005, EXACT, SD_USB_BOARD, "Raspberry Pi RP2040 MicroPython USB serial", "" },
	{ 0x2341, 0x0036, EXACT, SD_USB_BOOTLOADER, "Arduino Leonardo bootloader (Caterina, AVR109)",
	  "stays 8 s after a reset or a 1200-baud touch: avrdude -c avr109 now" },
	{ 0x2341, 0x0037, EXACT, SD_USB_BOOTLOADER, "Arduino Micro bootloader (Caterina, AVR109)",
	  "stays 8 s after a reset or a 1200-baud touch: avrdude -c avr109 now" },
	{ 0x2341, 0x8036, EXACT, SD_USB_BOARD, "Arduino Leonardo (sketch, native USB serial)", "" },
	{ 0x2341, 0x8037, EXACT, SD_USB_BOARD, "Arduino Micro (sketch, native USB serial)", "" },
	{ 0x2341, 0x0000, ANY, SD_USB_BOARD, "Arduino board", "" },
	{ 0x2A03, 0x0000, ANY, SD_USB_BOARD, "Arduino board (arduino.org)", "" },
};

const sd_usb_id *sd_usb_id_lookup(uint16_t vid, uint16_t pid)
{
	const sd_usb_id *vendor = NULL;
	for (size_t i = 0; i < SDI_ARRAY_LEN(ids); i++) {
		if (ids[i].vid != vid)
			continue;
		if (ids[i].pid_mask == EXACT && ids[i].pid == pid)
			return &ids[i];
		if (ids[i].pid_mask == ANY && !vendor)
			vendor = &ids[i];
	}
	return vendor;
}

const char *sd_usb_kind_name(sd_usb_kind k)
{
	switch (k) {
	case SD_USB_BRIDGE: return "bridge";
	case SD_USB_MTK_BROM: return "mtk-brom";
	case SD_USB_MTK_PRELOADER: return "mtk-preloader";
	case SD_USB_MTK_DA: return "mtk-da";
	case SD_USB_MTK_OTHER: return "mtk-booted";
	case SD_USB_BOOTLOADER: return "bootloader";
	case SD_USB_BOARD: return "board";
	default: return "other";
	}
}

/* ---- watch ---- */

void sd_watch_init(sd_watch *w)
{
	memset(w, 0, sizeof *w);
}

static int same_port(const sd_port_seen *a, const sd_port_seen *b)
{
	return a->vid == b->vid && a->pid == b->pid && a->bus == b->bus && a->addr == b->addr &&
	       strncmp(a->name, b->name, sizeof a->name) == 0;
}

static int present(const sd_port_seen *set, size_t n, const sd_port_seen *p)
{
	for (size_t i = 0; i < n; i++)
		if (same_port(&set[i], p))
			return 1;
	return 0;
}

/* One device across its re-enumerations: a device that changes mode
 * changes PID (MediaTek BROM -> Preloader, an STM32 application -> DFU), so
 * for mode changes it is known by its vendor alone; a loop is the same
 * identity (VID:PID) coming back, so BROM -> Preloader -> booted is not one. */
static uint32_t phone_key(const sd_port_seen *p)
{
	return ((uint32_t)p->vid << 16) | 0xFFFFu;
}

static uint32_t loop_key(const sd_port_seen *p)
{
	return ((uint32_t)p->vid << 16) | p->pid;
}

static sd_watch_key *key_get(sd_watch *w, uint32_t key)
{
	for (size_t i = 0; i < w->nkeys; i++)
		if (w->keys[i].key == key)
			return &w->keys[i];
	if (w->nkeys == SD_WATCH_MAX_KEYS) {
		/* forget the oldest */
		memmove(&w->keys[0], &w->keys[1], (SD_WATCH_MAX_KEYS - 1) * sizeof w->keys[0]);
		w->nkeys--;
	}
	sd_watch_key *k = &w->keys[w->nkeys++];
	memset(k, 0, sizeof *k);
	k->key = key;
	k->left_at = -1;
	return k;
}

static void emit(sd_watch_event *out, size_t cap, size_t *n, int type, sd_time t,
		 const sd_port_seen *p, uint16_t from, unsigned count)
{
	if (*n >= cap)
		return;
	sd_watch_event *e = &out[(*n)++];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->t = t;
	e->port = *p;
	e->from_pid = from;
	e->count = count;
}

static sd_usb_kind kind_of(uint16_t vid, uint16_t pid)
{
	const sd_usb_id *id = vid ? sd_usb_id_lookup(vid, pid) : NULL;
	return id ? id->kind : SD_USB_OTHER;
}

size_t sd_watch_step(sd_watch *w, sd_time t, const sd_port_seen *now, size_t n,
		     sd_watch_event *out, size_t cap)
{
	size_t ne = 0;
	n = SDI_MIN(n, (size_t)SD_WATCH_MAX_PORTS);
	if (w->started) {
		for (size_t i = 0; i < w->nprev; i++) {
			const sd_port_seen *p = &w->prev[i];
			if (present(now, n, p))
				continue;
			emit(out, cap, &ne, SD_WATCH_LEFT, t, p, 0, 0);
			if (p->vid) {
				sd_watch_key *k = key_get(w, phone_key(p));
				k->left_at = t;
				k->left_pid = p->pid;
			}
		}
		for (size_t i = 0; i < n; i++) {
			const sd_port_seen *p = &now[i];
			if (present(w->prev, w->nprev, p))
				continue;
			emit(out, cap, &ne, SD_WATCH_ARRIVED, t, p, 0, 0);
			if (!p->vid)
				continue;
			sd_watch_key *k = key_get(w, phone_key(p));
			/* a mode change: the vendor's device left in one known
			 * role and came back in another (BROM gave way to the
			 * Preloader, the Preloader's window closed and the phone
			 * booted on, an application jumped to its DFU or
			 * bootloader). Two bridges of one vendor swapped are not
			 * one: their roles are the same. */
			sd_usb_kind was = kind_of(p->vid, k->left_pid), is = kind_of(p->vid, p->pid);
			if (k->left_at >= 0 && t - k->left_at <= SD_WATCH_HANDOVER_TIME && k->left_pid != p->pid &&
			    was != is && was != SD_USB_OTHER && is != SD_USB_OTHER) {
				emit(out, cap, &ne, SD_WATCH_HANDOVER, t, p, k->left_pid, 0);
				k->left_at = -1; /* one arrival answers one departure */
			}
			k = key_get(w, loop_key(p));
			if (k->arrivals == 0 || t - k->first > SD_WATCH_LOOP_WINDOW) {
				k->arrivals = 0;
				k->first = t;
				k->looped = 0;
			}
			k->arrivals++;
			if (k->arrivals >= SD_WATCH_LOOP_ARRIVALS && !k->looped) {
				emit(out, cap, &ne, SD_WATCH_BOOTLOOP, t, p, 0, k->arrivals);
				k->looped = 1;
			}
		}
	}
	memcpy(w->prev, now, n * sizeof *now);
	w->nprev = n;
	w->started = 1;
	return ne;
}

const char *sd_watch_ev_name(int type)
{
	switch (type) {
	case SD_WATCH_ARRIVED: return "arrived";
	case SD_WATCH_LEFT: return "left";
	case SD_WATCH_BOOTLOOP: return "bootloop";
	case SD_WATCH_HANDOVER: return "mode-change";
	default: return "?";
	}
}

const char *sd_usb_mode_change_text(uint16_t vid, uint16_t from_pid, uint16_t pid)
{
	sd_usb_kind was = kind_of(vid, from_pid), is = kind_of(vid, pid);
	if (was == SD_USB_MTK_BROM && is == SD_USB_MTK_PRELOADER)
		return "BROM gave way to the Preloader (BROM saw no handshake in time)";
	if (was == SD_USB_MTK_PRELOADER && is == SD_USB_MTK_OTHER)
		return "the Preloader's window closed and the phone booted on";
	if (is == SD_USB_MTK_DA)
		return "a download agent was loaded and runs";
	if (is == SD_USB_MTK_BROM)
		return "the phone came back in BROM download mode";
	if (is == SD_USB_MTK_PRELOADER)
		return "the phone came back in Preloader download mode";
	if (is == SD_USB_BOOTLOADER)
		return "the application handed over to its bootloader (DFU or vendor mode)";
	if (was == SD_USB_BOOTLOADER)
		return "the bootloader left and the application runs";
	return "the device came back in another mode";
}

/* ---- usb: targets and the bulk pipe ---- */

static int hex16(const char *s, size_t n, uint16_t *out)
{
	uint32_t v = 0;
	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 :
			(c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + (uint32_t)d;
	}
	*out = (uint16_t)v;
	return 0;
}

static int dec8(const char *s, size_t n, uint8_t *out)
{
	uint32_t v = 0;
	if (n == 0 || n > 3)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 255)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

int sd_usb_target_parse(const char *path, const sd_kv *q, size_t nq, sd_usb_target *t,
			char *why, size_t whylen)
{
	memset(t, 0, sizeof *t);
	t->iface = -1;
	const char *colon = path ? strchr(path, ':') : NULL;
	const char *at = path ? strchr(path, '@') : NULL;
	const char *end = at ? at : path + (path ? strlen(path) : 0);
	if (!colon || colon > end || hex16(path, (size_t)(colon - path), &t->vid) ||
	    hex16(colon + 1, (size_t)(end - colon - 1), &t->pid)) {
		sdi_fmt(why, whylen, "usb target '%s': want usb:VID:PID[@BUS.ADDR] in hex, e.g. usb:0e8d:0003",
			path ? path : "");
		return SD_ERR_ARG;
	}
	if (at) {
		const char *dot = strchr(at + 1, '.');
		if (!dot || dec8(at + 1, (size_t)(dot - at - 1), &t->bus) ||
		    dec8(dot + 1, strlen(dot + 1), &t->addr)) {
			sdi_fmt(why, whylen, "usb target '%s': @BUS.ADDR in decimal, e.g. @1.7 (lsusb: Bus 001 Device 007)", path);
			return SD_ERR_ARG;
		}
		t->has_addr = 1;
	}
	for (size_t i = 0; i < nq; i++) {
		uint32_t u;
		if (strcmp(q[i].key, "detach") == 0 && sd_parse_u32(q[i].val, 0, 1, &u) == SD_OK) {
			t->detach = (int)u;
		} else if (strcmp(q[i].key, "iface") == 0 && sd_parse_u32(q[i].val, 0, 255, &u) == SD_OK) {
			t->iface = (int)u;
		} else {
			sdi_fmt(why, whylen, "usb target: bad option '%s=%s' (detach=0|1, iface=N)", q[i].key, q[i].val);
			return SD_ERR_ARG;
		}
	}
	return SD_OK;
}

static int bulk_pair(const sd_usb_if_desc *d, sd_usb_pipe *p)
{
	int in = -1, out = -1;
	for (size_t e = 0; e < d->nep && e < SD_USB_MAX_EPS; e++) {
		if ((d->ep[e].attr & 3) != 2)
			continue;
		if (d->ep[e].addr & 0x80) {
			if (in < 0)
				in = (int)e;
		} else if (out < 0) {
			out = (int)e;
		}
	}
	if (in < 0 || out < 0)
		return 0;
	p->iface = d->number;
	p->ep_in = d->ep[in].addr;
	p->ep_out = d->ep[out].addr;
	p->maxpkt = d->ep[in].maxpkt ? d->ep[in].maxpkt : 64;
	return 1;
}

int sd_usb_pick_bulk(const sd_usb_if_desc *ifs, size_t n, int want, sd_usb_pipe *p)
{
	memset(p, 0, sizeof *p);
	p->comm_iface = -1;
	for (size_t i = 0; i < n; i++)
		if (ifs[i].alt == 0 && ifs[i].cls == 0x02 && p->comm_iface < 0)
			p->comm_iface = ifs[i].number;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < n; i++) {
			const sd_usb_if_desc *d = &ifs[i];
			if (d->alt != 0)
				continue;
			if (pass == 0 && (want < 0 || d->number != want))
				continue;
			if (pass == 1 && (want >= 0 || d->cls != 0x0A))
				continue;
			if (pass == 2 && want >= 0)
				continue;
			if (bulk_pair(d, p))
				return SD_OK;
		}
	}
	return SD_ERR_NOTFOUND;
}
