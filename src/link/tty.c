/*
 * shakedown — tty: a terminal device through plain termios. Serves pty
 * slaves (which libserialport refuses: they have no modem lines) and is the
 * termios half shared with the pty master.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "internal.h"

typedef struct tty_link {
	sd_link base;
	int     fd;      /* -1 after a reopen that failed */
	int     drained; /* the last read emptied the kernel buffer */
	char   *path;    /* as opened (a /dev/serial/by-id link follows the device) */
} tty_link;

static const struct { uint32_t baud; speed_t code; } speeds[] = {
	{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 }, { 150, B150 },
	{ 200, B200 }, { 300, B300 }, { 600, B600 }, { 1200, B1200 }, { 1800, B1800 },
	{ 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 },
	{ 38400, B38400 }, { 57600, B57600 }, { 115200, B115200 }, { 230400, B230400 },
	{ 460800, B460800 }, { 500000, B500000 }, { 576000, B576000 }, { 921600, B921600 },
	{ 1000000, B1000000 }, { 1152000, B1152000 }, { 1500000, B1500000 },
	{ 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
	{ 3500000, B3500000 }, { 4000000, B4000000 },
};

int sdi_tty_apply(sd_link *l, int fd, const sd_line_cfg *cfg)
{
	struct termios t;
	if (tcgetattr(fd, &t) != 0)
		return sdi_fd_errno(l, errno, "tcgetattr");
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfg->baud) {
		size_t i = 0;
		while (i < SDI_ARRAY_LEN(speeds) && speeds[i].baud != cfg->baud)
			i++;
		if (i == SDI_ARRAY_LEN(speeds))
			return sdi_link_fail(l, SD_ERR_UNSUPPORTED,
					     "%u baud is not a standard rate for this tty", cfg->baud);
		cfsetispeed(&t, speeds[i].code);
		cfsetospeed(&t, speeds[i].code);
	}
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS | CMSPAR);
	static const tcflag_t sizes[] = { CS5, CS6, CS7, CS8 };
	unsigned db = cfg->data_bits ? cfg->data_bits : 8;
	t.c_cflag |= sizes[(db < 5 || db > 8 ? 8 : db) - 5];
	switch (cfg->parity) {
	case SD_PARITY_ODD:   t.c_cflag |= PARENB | PARODD; break;
	case SD_PARITY_EVEN:  t.c_cflag |= PARENB; break;
	case SD_PARITY_MARK:  t.c_cflag |= PARENB | PARODD | CMSPAR; break;
	case SD_PARITY_SPACE: t.c_cflag |= PARENB | CMSPAR; break;
	default: break;
	}
	if (cfg->stop_bits == 2)
		t.c_cflag |= CSTOPB;
	if (cfg->flow == SD_FLOW_RTSCTS)
		t.c_cflag |= CRTSCTS;
	else if (cfg->flow == SD_FLOW_XONXOFF)
		t.c_iflag |= IXON | IXOFF;
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		/* A pty cannot hold PARENB, and glibc reports the dropped flag as
		 * EINVAL: carry on without parity and say so through the caps, so
		 * a protocol that wants 8E1 can warn and continue at 8N1. */
		if (errno != EINVAL || !(t.c_cflag & PARENB))
			return sdi_fd_errno(l, errno, "tcsetattr");
		t.c_cflag &= ~(tcflag_t)(PARENB | PARODD | CMSPAR);
		if (tcsetattr(fd, TCSANOW, &t) != 0)
			return sdi_fd_errno(l, errno, "tcsetattr");
		l->caps &= ~SD_LINK_PARITY;
		return SD_OK;
	}
	/* A Linux pty keeps CS8 and drops PARENB without a word: read back. */
	struct termios back;
	if (tcgetattr(fd, &back) == 0 && cfg->parity != SD_PARITY_NONE && !(back.c_cflag & PARENB))
		l->caps &= ~SD_LINK_PARITY;
	return SD_OK;
}

static tty_link *tty_of(sd_link *l)
{
	return (tty_link *)(void *)l;
}

static int tty_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_read(l, tty_of(l)->fd, buf, len, dl, 0, &tty_of(l)->drained);
}

static int tty_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_write(l, tty_of(l)->fd, buf, len, dl, 0);
}

static int tty_flush(sd_link *l, unsigned dirs)
{
	int q = (dirs & SD_FLUSH_IN) && (dirs & SD_FLUSH_OUT) ? TCIOFLUSH
		: (dirs & SD_FLUSH_IN) ? TCIFLUSH : TCOFLUSH;
	if (tcflush(tty_of(l)->fd, q) != 0)
		return sdi_fd_errno(l, errno, "tcflush");
	return SD_OK;
}

static int tty_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	return sdi_tty_apply(l, tty_of(l)->fd, cfg);
}

static int tty_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	int bits = 0, fd = tty_of(l)->fd;
	if (ioctl(fd, TIOCMGET, &bits) != 0) {
		if (errno == ENOTTY || errno == EINVAL) {
			l->caps &= ~SD_LINK_LINES;
			return sdi_link_fail(l, SD_ERR_UNSUPPORTED, "this port has no modem lines (DTR/RTS)");
		}
		return sdi_fd_errno(l, errno, "TIOCMGET");
	}
	if (mask & SD_LINE_DTR)
		bits = (level & SD_LINE_DTR) ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
	if (mask & SD_LINE_RTS)
		bits = (level & SD_LINE_RTS) ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
	if (ioctl(fd, TIOCMSET, &bits) != 0)
		return sdi_fd_errno(l, errno, "TIOCMSET");
	return SD_OK;
}

static int tty_get_lines(sd_link *l, unsigned *level)
{
	int bits = 0;
	if (ioctl(tty_of(l)->fd, TIOCMGET, &bits) != 0) {
		if (errno == ENOTTY || errno == EINVAL) {
			l->caps &= ~SD_LINK_LINES;
			return sdi_link_fail(l, SD_ERR_UNSUPPORTED, "this port has no modem lines (CTS/DSR/DCD)");
		}
		return sdi_fd_errno(l, errno, "TIOCMGET");
	}
	*level = ((bits & TIOCM_CTS) ? SD_LINE_CTS : 0) | ((bits & TIOCM_DSR) ? SD_LINE_DSR : 0) |
		 ((bits & TIOCM_CAR) ? SD_LINE_DCD : 0) | ((bits & TIOCM_RNG) ? SD_LINE_RI : 0);
	return SD_OK;
}

static void tty_close(sd_link *l)
{
	tty_link *t = tty_of(l);
	if (t->fd >= 0)
		close(t->fd);
	free(t->path);
	free(l);
}

static int tty_open_fd(sd_link *l, const char *path, int *fd)
{
	*fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (*fd >= 0)
		return SD_OK;
	int e = errno;
	int r = (e == ENOENT || e == ENXIO || e == ENODEV) ? SD_ERR_NOTFOUND : sdi_fd_errno(l, e, "open");
	return sdi_link_fail(l, r, "%s: %s%s", path, strerror(e),
			     (e == EACCES || e == EPERM) ? " (add yourself to the dialout group)" : "");
}

/* The same path again: a USB device that re-enumerated is a new node
 * (ttyACM0 may come back as ttyACM1; a by-id link follows it). */
static int tty_reopen(sd_link *l, sd_deadline dl)
{
	tty_link *t = tty_of(l);
	(void)dl; /* open() of a tty does not wait (O_NONBLOCK) */
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->drained = 0;
	int fd, r = tty_open_fd(l, t->path, &fd);
	if (r)
		return r;
	if (!isatty(fd)) {
		close(fd);
		return sdi_link_fail(l, SD_ERR_UNSUPPORTED, "%s: not a terminal device", t->path);
	}
	t->fd = fd;
	return SD_OK;
}

static const sd_link_ops sd_link_tty_ops = {
	.version = SD_LINK_OPS_V2,
	.name = "tty",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES,
	.read = tty_read,
	.write = tty_write,
	.flush = tty_flush,
	.set_cfg = tty_set_cfg,
	.set_lines = tty_set_lines,
	.get_lines = tty_get_lines,
	.close = tty_close,
	.reopen = tty_reopen,
};

int sd_link_open_tty(const char *path, const sd_line_cfg *cfg, const sd_clock *clock,
		     sd_link **out, char *why, size_t whylen)
{
	if (!path || !out)
		return SD_ERR_ARG;
	*out = NULL;
	tty_link *t = calloc(1, sizeof *t);
	if (!t)
		return SD_ERR_NOMEM;
	sd_link_init(&t->base, &sd_link_tty_ops, clock);
	int r = tty_open_fd(&t->base, path, &t->fd);
	if (r) {
		sdi_fmt(why, whylen, "%s", t->base.why);
		free(t);
		return r;
	}
	if (!isatty(t->fd)) {
		sdi_fmt(why, whylen, "%s: not a terminal device", path);
		close(t->fd);
		free(t);
		return SD_ERR_UNSUPPORTED;
	}
	/* A pty has no modem lines: find out now rather than mid-handshake. */
	int bits;
	if (ioctl(t->fd, TIOCMGET, &bits) != 0)
		t->base.caps &= ~SD_LINK_LINES;
	/* Nor a parity bit: a pty drops PARENB without a word. Ask once, so
	 * the caps are true from the start (and so in a trace's run record). */
	struct termios was, par, back;
	if (tcgetattr(t->fd, &was) == 0) {
		par = was;
		par.c_cflag |= PARENB;
		if (tcsetattr(t->fd, TCSANOW, &par) != 0 ||
		    (tcgetattr(t->fd, &back) == 0 && !(back.c_cflag & PARENB)))
			t->base.caps &= ~SD_LINK_PARITY;
		tcsetattr(t->fd, TCSANOW, &was);
	}
	if (cfg && (r = sdi_tty_apply(&t->base, t->fd, cfg)) != SD_OK) {
		sdi_fmt(why, whylen, "%s: %s", path, t->base.why);
		close(t->fd);
		free(t);
		return r;
	}
	if (cfg)
		t->base.cfg = *cfg;
	t->path = strdup(path);
	if (!t->path) {
		close(t->fd);
		free(t);
		return SD_ERR_NOMEM;
	}
	*out = &t->base;
	return SD_OK;
}
