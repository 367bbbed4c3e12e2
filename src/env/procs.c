/*
 * shakedown — host checks: who has the port open. One pass over ROOT/proc:
 * each numeric entry's comm names the daemons (ModemManager, brltty, gpsd),
 * and its fd/ symlinks say which files it holds. Bounds: at most
 * SCAN_MAX_PROCS processes and SCAN_MAX_FDS descriptors each are looked at;
 * folders we may not read (other users' processes, without root) are
 * counted, never guessed.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "env/env.h"

#define SCAN_MAX_PROCS 100000u
#define SCAN_MAX_FDS   65536u

static int32_t pid_of(const char *name)
{
	long v = 0;
	if (!name[0])
		return -1;
	for (const char *s = name; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 0x7FFFFFF)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v > 0 ? (int32_t)v : -1;
}

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* What a program is, by its comm (exact) or argv[0]'s last component. */
static const struct {
	const char *name;
	const char *what;
} known[] = {
	{ "screen", "GNU screen, a terminal session on the port" },
	{ "SCREEN", "GNU screen, a terminal session on the port" },
	{ "minicom", "minicom, a serial terminal" },
	{ "picocom", "picocom, a serial terminal" },
	{ "tio", "tio, a serial terminal" },
	{ "microcom", "microcom, a serial terminal" },
	{ "cu", "cu, a serial terminal" },
	{ "putty", "PuTTY, a serial terminal" },
	{ "gtkterm", "GtkTerm, a serial terminal" },
	{ "cutecom", "CuteCom, a serial terminal" },
	{ "moserial", "moserial, a serial terminal" },
	{ "cat", "cat, reading the port" },
	{ "tail", "tail, reading the port" },
	{ "dd", "dd, reading or writing the port" },
	{ "ModemManager", "ModemManager, probing the port with AT commands" },
	{ "gpsd", "gpsd, reading the port as a GPS receiver" },
	{ "brltty", "brltty, the braille display daemon" },
	{ "serial-monitor", "the Arduino IDE's serial monitor" },
	{ "serial-discovery", "the Arduino IDE's port discovery" },
	{ "arduino-cli", "arduino-cli (a monitor or an upload)" },
	{ "avrdude", "avrdude, another flashing run" },
	{ "stm32flash", "stm32flash, another flashing run" },
	{ "esptool", "esptool, another flashing run" },
	{ "openocd", "OpenOCD" },
	{ "ser2net", "ser2net, sharing the port over the network" },
	{ "socat", "socat, relaying the port" },
};

void sdi_env_name_process(const char *comm, const uint8_t *cmd, size_t ncmd, sd_holder *h)
{
	char line[512], arg0[128];
	sdi_env_cmdline(cmd, ncmd, line, sizeof line);
	sdi_env_cmdline_arg(cmd, ncmd, 0, arg0, sizeof arg0);
	const char *base0 = sdi_env_base(arg0);
	h->benign = 0;
	h->what[0] = '\0';
	for (size_t i = 0; i < SDI_ARRAY_LEN(known); i++)
		if (strcmp(comm, known[i].name) == 0 || strcmp(base0, known[i].name) == 0) {
			sdi_fmt(h->what, sizeof h->what, "%s", known[i].what);
			return;
		}
	if (strcmp(comm, "shakedown") == 0 || strcmp(base0, "shakedown") == 0) {
		/* `shakedown sim` keeps its pty's slave open itself, so clients
		 * may come and go: that fd is the device side, not a thief */
		char a[32];
		for (size_t i = 1; i < 8 && sdi_env_cmdline_arg(cmd, ncmd, i, a, sizeof a); i++)
			if (strcmp(a, "sim") == 0) {
				h->benign = 1;
				sdi_fmt(h->what, sizeof h->what, "shakedown sim, serving this pty (the device side)");
				return;
			}
		sdi_fmt(h->what, sizeof h->what, "another shakedown run");
		return;
	}
	if (strncmp(comm, "python", 6) == 0 || strncmp(base0, "python", 6) == 0) {
		if (contains(line, "esptool"))
			sdi_fmt(h->what, sizeof h->what, "esptool (Python), another flashing run");
		else if (contains(line, "miniterm"))
			sdi_fmt(h->what, sizeof h->what, "pyserial's miniterm, a serial terminal");
		else if (contains(line, "platformio") || contains(line, "pio "))
			sdi_fmt(h->what, sizeof h->what, "PlatformIO (device monitor or upload)");
		else if (contains(line, "mtk"))
			sdi_fmt(h->what, sizeof h->what, "mtkclient (Python), another MediaTek session");
		else
			sdi_fmt(h->what, sizeof h->what, "a Python program (pyserial)");
		return;
	}
	if (strcmp(comm, "java") == 0 || strcmp(base0, "java") == 0) {
		if (contains(line, "rduino") || contains(line, "processing"))
			sdi_fmt(h->what, sizeof h->what, "the Arduino IDE (Java): its serial monitor or board list");
		else
			sdi_fmt(h->what, sizeof h->what, "a Java program (an IDE's serial monitor?)");
		return;
	}
	if (contains(comm, "code") || contains(comm, "electron") || strcmp(comm, "node") == 0) {
		sdi_fmt(h->what, sizeof h->what, "an editor's serial monitor (VS Code, Arduino IDE 2, node)");
		return;
	}
	sdi_fmt(h->what, sizeof h->what, "a process named %s", comm[0] ? comm : "?");
}

static long read_at(const char *root, char *buf, size_t cap, const char *file, int32_t pid)
{
	char path[SDI_ENV_PATH_MAX];
	if (sdi_env_path(path, sizeof path, root, "/proc/%d/%s", (int)pid, file) != 0)
		return -1;
	return sdi_env_read(path, buf, cap);
}

int sdi_env_pid_alive(const char *root, int32_t pid, char *comm, size_t commlen)
{
	char path[SDI_ENV_PATH_MAX];
	struct stat st;
	if (pid <= 0 || sdi_env_path(path, sizeof path, root, "/proc/%d", (int)pid) != 0 ||
	    stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (comm && commlen) {
		long n = read_at(root, comm, commlen, "comm", pid);
		while (n > 0 && (comm[n - 1] == '\n' || comm[n - 1] == ' '))
			comm[--n] = '\0';
		if (n < 0)
			comm[0] = '\0';
	}
	return 1;
}

/* Whether one of pid's fds is the device. -1: the folder is unreadable. */
static int holds_dev(const char *root, int32_t pid, const char *dev_path, uint64_t rdev, int live)
{
	char dir[SDI_ENV_PATH_MAX], fdp[SDI_ENV_PATH_MAX + 300], link[SDI_ENV_PATH_MAX];
	if (sdi_env_path(dir, sizeof dir, root, "/proc/%d/fd", (int)pid) != 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int found = 0, unreadable = 0;
	unsigned n = 0;
	struct dirent *e;
	while (!found && (e = readdir(d)) && n++ < SCAN_MAX_FDS) {
		if (pid_of(e->d_name) < 0 && strcmp(e->d_name, "0") != 0)
			continue;
		sdi_fmt(fdp, sizeof fdp, "%s/%s", dir, e->d_name);
		if (sdi_env_readlink(fdp, link, sizeof link) < 0) {
			unreadable = 1;
			continue;
		}
		if (dev_path && strcmp(link, dev_path) == 0) {
			found = 1;
		} else if (live && rdev && strncmp(link, "/dev/", 5) == 0) {
			/* another mount namespace, or a node by another name: the
			 * device number decides (stat follows the magic link; only
			 * under /dev/, so a hung FUSE mount cannot stall the walk) */
			struct stat st;
			if (stat(fdp, &st) == 0 && S_ISCHR(st.st_mode) && (uint64_t)st.st_rdev == rdev)
				found = 1;
		}
	}
	closedir(d);
	return found ? 1 : (unreadable ? -1 : 0);
}

void sdi_env_scan_procs(const char *root, const char *dev_path, uint64_t rdev, int32_t self,
			sdi_procs *p)
{
	memset(p, 0, sizeof *p);
	int live = sdi_env_root_is_live(root);
	char dir[SDI_ENV_PATH_MAX];
	if (sdi_env_path(dir, sizeof dir, root, "/proc") != 0)
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) && p->nprocs < SCAN_MAX_PROCS) {
		int32_t pid = pid_of(e->d_name);
		if (pid <= 0 || pid == self)
			continue;
		p->nprocs++;
		char comm[32];
		long n = read_at(root, comm, sizeof comm, "comm", pid);
		if (n < 0)
			continue; /* gone since readdir */
		while (n > 0 && (comm[n - 1] == '\n' || comm[n - 1] == ' '))
			comm[--n] = '\0';
		if (strcmp(comm, "ModemManager") == 0 && !p->mm_pid)
			p->mm_pid = pid;
		else if (strcmp(comm, "brltty") == 0 && !p->brltty_pid)
			p->brltty_pid = pid;
		else if (strcmp(comm, "gpsd") == 0 && !p->gpsd_pid)
			p->gpsd_pid = pid;
		if (!dev_path && !rdev)
			continue;
		int h = holds_dev(root, pid, dev_path, rdev, live);
		if (h < 0)
			p->unreadable++;
		if (h <= 0)
			continue;
		if (p->nholders >= SD_DOCTOR_MAX_HOLDERS) {
			p->more_holders++;
			continue;
		}
		sd_holder *x = &p->holders[p->nholders++];
		memset(x, 0, sizeof *x);
		x->pid = pid;
		sdi_fmt(x->comm, sizeof x->comm, "%s", comm);
		uint8_t cmd[1024];
		long c = read_at(root, (char *)cmd, sizeof cmd, "cmdline", pid);
		size_t nc = c > 0 ? (size_t)c : 0;
		sdi_env_cmdline(cmd, nc, x->cmdline, sizeof x->cmdline);
		sdi_env_name_process(comm, cmd, nc, x);
		char st[2048];
		long s = read_at(root, st, sizeof st, "status", pid);
		long uid = s > 0 ? sdi_env_status_uid(st, (size_t)s) : -1;
		x->uid = uid >= 0 ? (uint32_t)uid : 0;
	}
	closedir(d);
}
