/*
 * shakedown — doctor: the host layer. Why a flashing tool fails on a port
 * when the board is fine: permissions, another process reading the bytes,
 * a UUCP lock file, ModemManager probing with AT commands, brltty taking a
 * CH340, the wrong (or no) kernel driver.
 *
 * Every check reads the filesystem under a root prefix ("/" by default; a
 * fixture tree or a chroot otherwise): ROOT/dev, ROOT/proc, ROOT/sys,
 * ROOT/run/udev/data, ROOT/run/lock, ROOT/var/lock, ROOT/etc/group,
 * ROOT/etc/passwd and the udev rules folders. Nothing is written. Only
 * where the root is "/" does the doctor also touch the live system: an
 * open() of the node (see SD_DOCTOR_NO_OPEN) and st_rdev comparisons of
 * /proc/PID/fd entries. docs/doctor.md says what each check reads and why.
 *
 * The calls allocate nothing the caller must free (results are fixed
 * arrays of bounded strings; scratch memory is freed before they return),
 * never print, never wait on a device, and keep no global state: they may
 * run in several threads at once. They read a changing system, so two runs
 * may differ.
 *
 * @since 0.1.0
 */
#ifndef SHAKEDOWN_DOCTOR_H
#define SHAKEDOWN_DOCTOR_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/diag.h"
#include "shakedown/uri.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Ordered by severity: the worst of a run is the maximum. */
typedef enum sd_check_status {
	SD_CHECK_PASS = 0,
	SD_CHECK_SKIP,      /* does not apply (a pty has no driver; sim: has no host) */
	SD_CHECK_WARN,      /* may bite; the run still passes */
	SD_CHECK_FAIL       /* will bite: the CLI exits 1 */
} sd_check_status;

/* "PASS", "SKIP", "WARN", "FAIL"; "?" outside the set. */
SD_API const char *sd_check_status_name(sd_check_status s);

#define SD_CHECK_ID_MAX      24
#define SD_DOCTOR_MAX_CHECKS 16
#define SD_DOCTOR_MAX_HOLDERS 8
#define SD_IDENT_MAX_GROUPS  64

/* One check's record. id is one of: "target", "node", "access", "holders",
 * "lock", "modem-manager", "brltty", "driver", "usb-access", "groups". */
typedef struct sd_check {
	char            id[SD_CHECK_ID_MAX];
	sd_check_status status;
	sd_cause        cause;                   /* meaning of a WARN/FAIL; SD_CAUSE_OK otherwise */
	char            summary[SD_SUMMARY_MAX]; /* one line */
	char            fix[SD_FIX_MAX];         /* the exact command(s); "" when nothing to do */
	char            detail[SD_DETAIL_MAX];   /* more evidence, lines separated by '\n' */
} sd_check;

/* A process that has the device open (a /proc/PID/fd entry points at it). */
typedef struct sd_holder {
	int32_t  pid;
	uint32_t uid;             /* its real uid (from /proc/PID/status) */
	char     comm[32];        /* /proc/PID/comm */
	char     cmdline[160];    /* /proc/PID/cmdline, NULs as spaces, truncated */
	char     what[96];        /* "GNU screen, a terminal session on the port" */
	int      benign;          /* `shakedown sim` serving this pty: expected, not a fault */
} sd_holder;

/* Whose permissions count: uid, primary gid, supplementary groups. */
typedef struct sd_ident {
	uint32_t uid, gid;
	uint32_t groups[SD_IDENT_MAX_GROUPS];
	size_t   ngroups;
} sd_ident;

#define SD_DOCTOR_NO_OPEN 0x1u  /* no open() attempt on the node (opening a tty
				 * raises DTR/RTS, which resets Arduino-style boards) */

typedef struct sd_doctor_opts {
	const char     *root;   /* NULL or "" = "/" */
	unsigned        flags;  /* SD_DOCTOR_* */
	const sd_ident *ident;  /* NULL: ROOT/proc/self/status (this process) */
} sd_doctor_opts;

typedef enum sd_doctor_kind {
	SD_DOCTOR_SYSTEM = 0,   /* no target: the system-wide checks */
	SD_DOCTOR_TTY,          /* a device node: /dev/ttyUSB0, serial:/dev/ttyACM0?... */
	SD_DOCTOR_USB,          /* usb:VID:PID[@BUS.ADDR] */
	SD_DOCTOR_NOT_HOST      /* sim:, tcp:, rfc2217:, null: (one SKIP check) */
} sd_doctor_kind;

/* A run's result. Strings are "" when unknown. */
typedef struct sd_doctor {
	sd_doctor_kind kind;
	int       present;                    /* the node / USB device exists */
	char      dev_path[SD_URI_PATHLEN];   /* the node, symlinks followed, as the host names it */
	char      tty[32];                    /* "ttyUSB0" */
	uint32_t  major, minor;               /* of the node; 0:0 when unknown */
	int       has_usb;                    /* vid, pid, busnum, devnum are known */
	uint16_t  vid, pid;
	uint32_t  busnum, devnum;
	char      usb_dev[32];                /* sysfs name of the USB device, "1-2" */
	char      usb_name[96];               /* from sd_usb_id_lookup, or "" */
	char      driver[32];                 /* the tty's driver: "ch341-uart", "cdc_acm" */
	char      usb_driver[32];             /* the USB interface's driver: "ch341", "usbfs" */
	sd_holder holders[SD_DOCTOR_MAX_HOLDERS];
	size_t    nholders;
	unsigned  unreadable;                 /* processes whose fds we could not read */
	sd_check  checks[SD_DOCTOR_MAX_CHECKS];
	size_t    nchecks;
} sd_doctor;

/* Run the checks for target (NULL or "" = the system-wide checks only):
 * `/dev/ttyUSB0`, `ttyUSB0`, `serial:/dev/ttyACM0?baud=...`,
 * `usb:VID:PID[@BUS.ADDR]`; for sim:/tcp:/rfc2217:/null: one SKIP record
 * says the host checks do not apply. o may be NULL (defaults).
 * Returns SD_OK when the checks ran (whatever they found); SD_ERR_ARG for a
 * target that does not parse (why says why; d holds no checks);
 * SD_ERR_NOTFOUND when the device does not exist: d is filled all the same
 * (the "node" check says so, and e.g. "brltty" may say why) and why holds
 * the node check's summary; SD_ERR_NOMEM when scratch memory ran out.
 * why may be NULL when whylen is 0. d must not be NULL (SD_ERR_ARG). */
SD_API int sd_doctor_run(const char *target, const sd_doctor_opts *o, sd_doctor *d,
			 char *why, size_t whylen);

/* The worst status of d's checks (PASS for none). */
SD_API sd_check_status sd_doctor_worst(const sd_doctor *d);
/* The check with this id, or NULL. */
SD_API const sd_check *sd_doctor_check(const sd_doctor *d, const char *id);

/* Add a finding to diag for every WARN/FAIL check with a cause (FAIL at
 * confidence 0.9, WARN 0.5; two checks of one cause share a finding, the
 * second's summary becomes a detail line). Returns how many checks were
 * added (0 when diag is full or nothing is wrong). Use it with an
 * sd_report's diag (command "doctor"). */
SD_API size_t sd_doctor_diag(const sd_doctor *d, sd_diag *diag);

/* The cheap per-port checks, for a pipeline whose line stayed silent:
 * processes holding dev_path open (this process excluded), a UUCP lock
 * file, the node's permissions against this process's identity (no open()
 * attempt: the caller may hold the port), and ModemManager probing it.
 * root as in sd_doctor_opts (NULL = "/"). Adds findings such as
 *   port-busy 0.9 "process 4242 (screen) has /dev/ttyUSB0 open: GNU screen,
 *   a terminal session on the port; it reads the bytes the bootloader sends"
 *   fix "kill 4242"
 * and returns how many it added (0: the host looks clean for this port).
 * Cost: one pass over /proc/ and its fd folders, a few stat()s; no device
 * is opened. */
SD_API size_t sd_doctor_port_findings(const char *root, const char *dev_path, sd_diag *d);

#ifdef __cplusplus
}
#endif
#endif
