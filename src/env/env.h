/*
 * shakedown — host checks (src/env): the private parts shared by the files
 * of this room, the unit tests and fuzz/fuzz_env.c.
 *
 * Host paths ("/dev/ttyUSB0", "/proc/4242/fd/3") are what the machine calls
 * a file; every access goes to ROOT + host path. Parsers take bytes and a
 * length (no NUL needed) and never read past it.
 */
#ifndef SHAKEDOWN_ENV_H
#define SHAKEDOWN_ENV_H

#include "internal.h"
#include "shakedown/doctor.h"

#define SDI_ENV_PATH_MAX 512

/* ---- parse.c: text from outside (pure, fuzzed) ---------------------- */

/* The PID of a UUCP lock file: HDB ASCII ("      4242\n", maybe followed
 * by a name) or the old 4-byte binary int. -1 when neither. */
int sdi_env_lock_pid(const uint8_t *b, size_t n);
/* The value of udev property key in a /run/udev/data file ("E:KEY=VALUE"
 * lines) copied into val; 1 when present, 0 when not. */
int sdi_env_udev_get(const char *text, size_t n, const char *key, char *val, size_t vallen);
/* Uid:/Gid:/Groups: of a /proc/PID/status (effective ids); 0, or -1 when
 * Uid or Gid is missing. */
int sdi_env_status_ident(const char *text, size_t n, sd_ident *id);
/* The real uid of a /proc/PID/status, or -1. */
long sdi_env_status_uid(const char *text, size_t n);
/* A NUL-separated /proc/PID/cmdline as one printable line; returns strlen. */
size_t sdi_env_cmdline(const uint8_t *raw, size_t n, char *out, size_t outlen);
/* argv[i] of a raw cmdline into out; 1 when it exists. */
int sdi_env_cmdline_arg(const uint8_t *raw, size_t n, size_t i, char *out, size_t outlen);
/* /etc/group: gid of a group name (1 found), name of a gid, whether user is
 * listed as a member of group name. */
int sdi_env_group_gid(const char *text, size_t n, const char *name, uint32_t *gid);
int sdi_env_group_name(const char *text, size_t n, uint32_t gid, char *name, size_t namelen);
int sdi_env_group_lists(const char *text, size_t n, const char *group, const char *user);
/* /etc/passwd: the name of uid (1 found). */
int sdi_env_passwd_name(const char *text, size_t n, uint32_t uid, char *name, size_t namelen);
/* A udev rules text matches the USB product "vid/pid/" (udev's PRODUCT
 * form, lower-case hex without leading zeros) in a line that is not a
 * comment: brltty's 85-brltty.rules claims adapters this way. */
int sdi_env_rules_claim(const char *text, size_t n, uint16_t vid, uint16_t pid);
/* "188:0" into major, minor; 0, or -1. */
int sdi_env_devnum(const char *text, size_t n, uint32_t *major, uint32_t *minor);

/* Whether id may open a node of this mode/owner/group for read and
 * write (POSIX bits only; uid 0 may). 1 yes, 0 no. */
int sdi_env_may_open(uint32_t mode, uint32_t owner, uint32_t group, const sd_ident *id);
int sdi_env_ident_in(const sd_ident *id, uint32_t gid);

/* ---- fs.c: files under a root ---------------------------------------- */

/* ROOT + host path into out; 0, or -1 when it does not fit. */
int sdi_env_path(char *out, size_t len, const char *root, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Read at most cap-1 bytes of a regular file (never a device or FIFO),
 * NUL-terminated; the length, or -1. */
long sdi_env_read(const char *path, char *buf, size_t cap);
/* readlink into out (NUL-terminated); the length, or -1. */
long sdi_env_readlink(const char *path, char *out, size_t len);
/* Follow the symlinks of host path `in` inside root (at most 8), cleaning
 * "." and ".." lexically; out is the host path. 0, or -1. */
int sdi_env_resolve(const char *root, const char *in, char *out, size_t len);
/* The last component of a path (a pointer into it). */
const char *sdi_env_base(const char *path);
int sdi_env_root_is_live(const char *root);

/* ---- procs.c: one pass over ROOT/proc -------------------------------- */

typedef struct sdi_procs {
	int32_t   mm_pid;        /* ModemManager, or 0 */
	int32_t   brltty_pid;
	int32_t   gpsd_pid;
	sd_holder holders[SD_DOCTOR_MAX_HOLDERS];
	size_t    nholders;
	size_t    more_holders;  /* holders past the array */
	unsigned  unreadable;    /* fd folders we could not read */
	unsigned  nprocs;
} sdi_procs;

/* Walk ROOT/proc: note the daemons, and the processes with an fd on
 * dev_path (NULL: none wanted) or, where root is live and rdev is not 0,
 * on a character device with that st_rdev. self (0: none) is skipped. */
void sdi_env_scan_procs(const char *root, const char *dev_path, uint64_t rdev, int32_t self,
			sdi_procs *p);
/* Name what a process is from its comm and raw cmdline; sets h->what and
 * h->benign. */
void sdi_env_name_process(const char *comm, const uint8_t *cmd, size_t ncmd, sd_holder *h);
/* Whether ROOT/proc/PID exists; comm copied when given. */
int sdi_env_pid_alive(const char *root, int32_t pid, char *comm, size_t commlen);

#endif
