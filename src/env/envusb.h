/*
 * shakedown — host checks: sysfs records of USB devices and ttys (usb.c).
 */
#ifndef SHAKEDOWN_ENVUSB_H
#define SHAKEDOWN_ENVUSB_H

#include <stdio.h>
#include "env/env.h"

#define SDI_USB_MAX_IFS 8

typedef struct sdi_usbif {
	int  number;          /* bInterfaceNumber, -1 unknown */
	char driver[32];      /* "" when none is bound */
	char tty[32];         /* the tty the kernel made of it, or "" */
} sdi_usbif;

typedef struct sdi_usbinfo {
	char      name[32];   /* sysfs name: "1-2" */
	uint16_t  vid, pid;
	uint32_t  busnum, devnum;
	sdi_usbif ifs[SDI_USB_MAX_IFS];
	size_t    nifs;
	char      tty[32];    /* the first tty child */
} sdi_usbinfo;

typedef struct sdi_ttyinfo {
	int         in_sysfs, has_devnum, has_device, has_usb;
	uint32_t    major, minor;
	char        driver[32];      /* of the tty's device (port) */
	char        usb_driver[32];  /* of the USB interface above it */
	sdi_usbinfo usb;
} sdi_ttyinfo;

/* ROOT/sys/bus/usb/devices/NAME; 0, or -1 when it is not a USB device. */
int sdi_env_usb_read(const char *root, const char *name, sdi_usbinfo *u);
/* The first device with vid:pid (and bus.addr when has_addr); 0 or -1. */
int sdi_env_usb_find(const char *root, uint16_t vid, uint16_t pid, int has_addr, uint32_t bus,
		     uint32_t addr, sdi_usbinfo *u);
/* Every USB device but the root hubs, at most cap; the count. */
size_t sdi_env_usb_list(const char *root, sdi_usbinfo *out, size_t cap);
/* ROOT/sys/class/tty/TTY; 0, or -1 when the kernel has no such tty. */
int sdi_env_tty_sysfs(const char *root, const char *tty, sdi_ttyinfo *t);

#endif
