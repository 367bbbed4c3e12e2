/*
 * shakedown — USB identities: what a VID:PID is (MediaTek BROM / Preloader /
 * DA, USB-UART bridges, STM32 DFU, ESP USB-JTAG ...), and the event logic
 * of `shakedown ports --watch` as a pure function over port snapshots, so
 * both are testable without hardware.
 */
#ifndef SHAKEDOWN_USBID_H
#define SHAKEDOWN_USBID_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/uri.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sd_usb_kind {
	SD_USB_OTHER = 0,
	SD_USB_BRIDGE,         /* USB-UART bridge (CH340, CP210x, FTDI, PL2303) */
	SD_USB_MTK_BROM,       /* MediaTek BootROM download mode */
	SD_USB_MTK_PRELOADER,  /* MediaTek Preloader download mode */
	SD_USB_MTK_DA,         /* MediaTek download agent running */
	SD_USB_MTK_OTHER,      /* a MediaTek phone booted further (not a download mode) */
	SD_USB_BOOTLOADER,     /* another chip's bootloader in DFU or vendor mode (STM32 DFU, RP2040
	                        * BOOTSEL, Espressif ROM over USB-OTG, Arduino Caterina) */
	SD_USB_BOARD           /* a board's own (native) USB serial (Arduino, RP2040, ESP USB-Serial/JTAG,
	                        * ST-LINK VCP) */
} sd_usb_kind;

typedef struct sd_usb_id {
	uint16_t    vid, pid;
	uint16_t    pid_mask;  /* 0xFFFF exact; 0 = any PID of this vendor */
	sd_usb_kind kind;
	const char *name;      /* "MediaTek BootROM (BROM) download mode" */
	const char *hint;      /* what it means for the user, or "" */
} sd_usb_id;

/* The best match (exact PID before vendor-wide), or NULL. The entries are
 * read-only and live as long as the program. */
SD_API const sd_usb_id *sd_usb_id_lookup(uint16_t vid, uint16_t pid);
SD_API const char *sd_usb_kind_name(sd_usb_kind k); /* "mtk-brom", "bridge" ... */
/* "hand-over" or "mode change" as users say it: a sentence for a
 * SD_WATCH_HANDOVER from (vid, from_pid) to (vid, pid); never NULL. */
SD_API const char *sd_usb_mode_change_text(uint16_t vid, uint16_t from_pid, uint16_t pid);
/* The name of a watch event type: "arrived", "left", "bootloop",
 * "mode-change"; "?" for another value. */
SD_API const char *sd_watch_ev_name(int type);

/* ---- ports --watch: events from successive snapshots ---------------- */

#define SD_WATCH_NAME_MAX  64
#define SD_WATCH_MAX_PORTS 32
#define SD_WATCH_MAX_KEYS  16
/* A device that arrives this many times within SD_WATCH_LOOP_WINDOW loops. */
#define SD_WATCH_LOOP_ARRIVALS 3
#define SD_WATCH_LOOP_WINDOW   SD_S(60)
/* A device leaving and one of the same vendor arriving in another known
 * mode (BROM -> Preloader, application -> DFU) within this time: a mode
 * change (a hand-over). */
#define SD_WATCH_HANDOVER_TIME SD_S(5)

typedef struct sd_port_seen {
	char     name[SD_WATCH_NAME_MAX];  /* "/dev/ttyACM0", or "usb:0e8d:0003@3.18" for a device no port serves */
	uint16_t vid, pid;                 /* 0 when not USB */
	uint8_t  bus, addr;                /* USB bus and address, 0 when unknown: a device that
	                                    * re-enumerates gets a new address even when its port
	                                    * keeps its name, so this tells the two looks apart */
} sd_port_seen;

typedef enum sd_watch_ev {
	SD_WATCH_ARRIVED = 1,
	SD_WATCH_LEFT,
	SD_WATCH_BOOTLOOP,   /* arrived and left repeatedly: `count` arrivals */
	SD_WATCH_HANDOVER    /* changed mode: a device of the vendor left as from_pid (one known
	                      * role) and came back as port.pid (another): BROM -> Preloader,
	                      * Preloader -> booted, application -> DFU or bootloader and back */
} sd_watch_ev;

typedef struct sd_watch_event {
	int          type;          /* sd_watch_ev */
	sd_time      t;
	sd_port_seen port;
	uint16_t     from_pid;      /* HANDOVER: the PID that left */
	unsigned     count;         /* BOOTLOOP: arrivals within the window */
} sd_watch_event;

typedef struct sd_watch_key {
	uint32_t key;               /* vid << 16 | pid; vid << 16 | 0xFFFF: a MediaTek phone, any mode */
	unsigned arrivals;
	sd_time  first, left_at;
	uint16_t left_pid;
	int      looped;            /* BOOTLOOP reported for this run of arrivals */
} sd_watch_key;

typedef struct sd_watch {
	sd_port_seen prev[SD_WATCH_MAX_PORTS];
	size_t       nprev;
	int          started;
	sd_watch_key keys[SD_WATCH_MAX_KEYS];
	size_t       nkeys;
} sd_watch;

SD_API void sd_watch_init(sd_watch *w);
/* Feed the ports present at time t (the first call only sets the baseline:
 * no ARRIVED events for what was already there). Writes at most cap events;
 * returns how many. */
SD_API size_t sd_watch_step(sd_watch *w, sd_time t, const sd_port_seen *now, size_t n,
			    sd_watch_event *out, size_t cap);

/* ---- usb:VID:PID[@BUS.ADDR]?detach=1&iface=N targets (libusb link) --- */

typedef struct sd_usb_target {
	uint16_t vid, pid;
	int      has_addr;          /* @BUS.ADDR given */
	uint8_t  bus, addr;
	int      detach;            /* detach a bound kernel driver (only when asked) */
	int      iface;             /* -1 = the first interface with bulk IN and OUT */
} sd_usb_target;

/* path is what follows "usb:" (e.g. "0e8d:0003@1.7"); q the query keys. */
SD_API int sd_usb_target_parse(const char *path, const sd_kv *q, size_t nq, sd_usb_target *t,
			       char *why, size_t whylen);

/* Descriptors, as far as choosing the bulk pipe needs them. */
#define SD_USB_MAX_EPS 8
typedef struct sd_usb_ep_desc {
	uint8_t  addr;              /* bit 7 = IN */
	uint8_t  attr;              /* bits 0-1: 2 = bulk */
	uint16_t maxpkt;
} sd_usb_ep_desc;

typedef struct sd_usb_if_desc {
	uint8_t        number, alt, cls, subcls;
	uint8_t        nep;
	sd_usb_ep_desc ep[SD_USB_MAX_EPS];
} sd_usb_if_desc;

typedef struct sd_usb_pipe {
	uint8_t  iface, ep_in, ep_out;
	uint16_t maxpkt;
	int      comm_iface;        /* the CDC communication interface, or -1 */
} sd_usb_pipe;

/* Choose the data pipe: the wanted interface (want >= 0), else a CDC data
 * interface (class 0x0A) with bulk IN and OUT, else any interface with
 * both. Alternate settings other than 0 are ignored. SD_ERR_NOTFOUND when
 * none fits. */
SD_API int sd_usb_pick_bulk(const sd_usb_if_desc *ifs, size_t n, int want, sd_usb_pipe *p);

#ifdef __cplusplus
}
#endif
#endif
