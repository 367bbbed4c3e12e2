/*
 * shakedown — what is plugged in: every serial port (with its transport and,
 * for USB, VID:PID, manufacturer, product and serial number) and every USB
 * device with a known role (a USB-UART bridge, a board's native USB serial,
 * a chip's bootloader in DFU or vendor mode, a MediaTek download mode),
 * with whether a serial driver serves it. This is what `shakedown ports`
 * prints and what `ports --watch` feeds to sd_watch_step (usbid.h).
 *
 * sd_ports_list() asks the OS (libserialport for ports; libusb, loaded on
 * first use, for USB devices; on Linux sysfs for strings and the bound
 * driver). sd_ports_resolve() is the pure part: it joins ports to devices,
 * names them from the table (sd_usb_id_lookup) and decides which devices
 * are worth listing, so it is tested on recorded data without hardware.
 */
#ifndef SHAKEDOWN_PORTS_H
#define SHAKEDOWN_PORTS_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/usbid.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_PORTS_MAX 32   /* ports, and USB devices, kept (more are cut, and counted) */
#define SD_PORTS_STR 64   /* USB strings and names, NUL-terminated, cut to fit */

typedef enum sd_port_transport {
	SD_TRANSPORT_UNKNOWN = 0,
	SD_TRANSPORT_NATIVE,      /* a UART of the machine itself (ttyS0, COM1) */
	SD_TRANSPORT_USB,
	SD_TRANSPORT_BLUETOOTH
} sd_port_transport;

typedef struct sd_serial_port {
	char     name[SD_PORTS_STR];       /* "/dev/ttyACM0", "COM3" */
	char     description[96];          /* the OS's description, or "" */
	int      transport;                /* sd_port_transport */
	uint16_t vid, pid;                 /* USB only, else 0 */
	int      bus, addr;                /* USB bus and address, -1 when unknown */
	char     manufacturer[SD_PORTS_STR], product[SD_PORTS_STR], serial[SD_PORTS_STR];
} sd_serial_port;

typedef struct sd_usb_device {
	uint16_t         vid, pid;
	uint8_t          bus, addr;
	char             path[24];         /* physical port, sysfs style "3-5" or "1-2.4"; "" unknown */
	char             manufacturer[SD_PORTS_STR], product[SD_PORTS_STR], serial[SD_PORTS_STR];
	char             driver[32];       /* kernel driver on its interfaces ("cdc_acm"); "" none or unknown */
	int              serial_driver;    /* 1 a serial port serves it, 0 none does, -1 unknown */
	char             tty[SD_PORTS_STR];/* that serial port's name, or "" */
	const sd_usb_id *id;               /* the table's naming (sd_usb_id_lookup), NULL unknown */
} sd_usb_device;

typedef struct sd_ports {
	sd_serial_port serial[SD_PORTS_MAX];
	size_t         nserial;
	sd_usb_device  usb[SD_PORTS_MAX];
	size_t         nusb;
	size_t         cut;                /* ports or devices past SD_PORTS_MAX, not kept */
	/* Each half may be missing; the other is still good. SD_OK, or the
	 * sd_err and one line saying why (libusb absent, no USB access ...). */
	int            serial_err, usb_err;
	char           serial_why[128], usb_why[160];
} sd_ports;

/* Fill p from the OS (see above), then sd_ports_resolve(p). Allocates
 * nothing that outlives the call. Returns SD_OK when at least the serial
 * ports could be listed, else p->serial_err. The USB half needs libusb-1.0
 * at run time (a build with SD_WITH_LIBUSB); without it usb_err is
 * SD_ERR_UNSUPPORTED and USB devices show only through their ports.
 * @since 0.1 */
SD_API int sd_ports_list(sd_ports *p);

/* Pure: join each USB device to its serial port (by bus and address, else
 * by a VID:PID only one port has), name devices from the table, set
 * serial_driver (1 joined; 0 when the port list is complete and none
 * matched; -1 when it is not), and keep only the devices with a known role
 * or a serial port, in bus/address order. Idempotent. @since 0.1 */
SD_API void sd_ports_resolve(sd_ports *p);

/* What `ports --watch` compares from one look to the next: every serial
 * port, then every kept USB device that no serial port serves (named
 * "usb:VVVV:PPPP@BUS.ADDR"). Writes at most cap; returns how many.
 * @since 0.1 */
SD_API size_t sd_ports_snapshot(const sd_ports *p, sd_port_seen *out, size_t cap);

/* "native", "usb", "bluetooth", "unknown" */
SD_API const char *sd_port_transport_name(int transport);

#ifdef __cplusplus
}
#endif
#endif
