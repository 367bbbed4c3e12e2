/*
 * shakedown — pty: the device side of a pseudo-terminal, for `shakedown sim`.
 * The link keeps a slave descriptor open itself, so clients may open and
 * close the slave as they like without the master seeing a hang-up (EIO).
 * Output nobody reads fills the tty buffer; writes then time out at their
 * deadline and the caller drops the bytes, as a UART with nobody listening.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>
#include "internal.h"

typedef struct pty_link {
	sd_link base;
	int     master, slave;
	int     drained; /* the last read emptied the kernel buffer */
	int     lines_fd; /* FIFO carrying the host's DTR/RTS, or -1 */
	unsigned lines_in;
} pty_link;

static pty_link *pty_of(sd_link *l)
{
	return (pty_link *)(void *)l;
}

static int pty_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_read(l, pty_of(l)->master, buf, len, dl, 0, &pty_of(l)->drained);
}

static int pty_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_write(l, pty_of(l)->master, buf, len, dl, 0);
}

static int pty_flush(sd_link *l, unsigned dirs)
{
	int q = (dirs & SD_FLUSH_IN) && (dirs & SD_FLUSH_OUT) ? TCIOFLUSH
		: (dirs & SD_FLUSH_IN) ? TCIFLUSH : TCOFLUSH;
	if (tcflush(pty_of(l)->master, q) != 0)
		return sdi_fd_errno(l, errno, "tcflush");
	return SD_OK;
}

/* The host's DTR/RTS from the lines FIFO (one byte per change: bit 0 DTR,
 * bit 1 RTS), read without blocking, and one change a call: a reset pulse
 * shorter than the caller's poll (STK500's is 1 ms) is two calls, not
 * lost between them, as an auto-reset capacitor does not lose it. */
static int pty_get_lines(sd_link *l, unsigned *level)
{
	pty_link *p = pty_of(l);
	if (p->lines_fd < 0)
		return SD_ERR_UNSUPPORTED;
	for (;;) {
		uint8_t b;
		ssize_t n = read(p->lines_fd, &b, 1);
		if (n == 1) {
			unsigned v = b & (SD_LINE_DTR | SD_LINE_RTS);
			if (v == p->lines_in)
				continue; /* no change */
			p->lines_in = v;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break; /* EAGAIN: nothing new */
	}
	*level = p->lines_in;
	return SD_OK;
}

static void pty_close(sd_link *l)
{
	pty_link *p = pty_of(l);
	if (p->lines_fd >= 0)
		close(p->lines_fd);
	close(p->slave);
	close(p->master);
	free(p);
}

static const sd_link_ops sd_link_pty_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "pty",
	.caps = SD_LINK_BYTES,
	.read = pty_read,
	.write = pty_write,
	.flush = pty_flush,
	.get_lines = pty_get_lines,
	.close = pty_close,
};

int sd_link_pty_lines(sd_link *l, const char *fifo, char *why, size_t whylen)
{
	if (!l || !fifo || l->ops != &sd_link_pty_ops)
		return SD_ERR_ARG;
	pty_link *p = pty_of(l);
	/* O_RDWR: the FIFO never reports end-of-file when a writer leaves */
	int fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		sdi_fmt(why, whylen, "cannot open the lines FIFO %s: %s", fifo, strerror(errno));
		return SD_ERR_NOTFOUND;
	}
	if (p->lines_fd >= 0)
		close(p->lines_fd);
	p->lines_fd = fd;
	l->caps |= SD_LINK_LINES;
	return SD_OK;
}

int sd_link_open_pty(const sd_clock *clock, sd_link **out, char *slave, size_t slavelen,
		     char *why, size_t whylen)
{
	if (!out || !slave || slavelen == 0)
		return SD_ERR_ARG;
	*out = NULL;
	pty_link *p = calloc(1, sizeof *p);
	if (!p)
		return SD_ERR_NOMEM;
	sd_link_init(&p->base, &sd_link_pty_ops, clock);
	p->slave = -1;
	p->lines_fd = -1;
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *step = "posix_openpt";
	char name[128];
	if (p->master < 0)
		goto fail;
	step = "grantpt";
	if (grantpt(p->master) != 0)
		goto fail;
	step = "unlockpt";
	if (unlockpt(p->master) != 0)
		goto fail;
	step = "ptsname";
	if (ptsname_r(p->master, name, sizeof name) != 0)
		goto fail;
	step = "open slave";
	p->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0)
		goto fail;
	/* Raw on the slave side, so a client that does not set it up gets
	 * the bytes untouched; then non-blocking on the master for poll(). */
	sd_line_cfg raw = SD_LINE_CFG_8N1(0);
	if (sdi_tty_apply(&p->base, p->slave, &raw) != SD_OK)
		goto fail;
	step = "fcntl";
	int fl = fcntl(p->master, F_GETFL);
	if (fl < 0 || fcntl(p->master, F_SETFL, fl | O_NONBLOCK) != 0)
		goto fail;
	sdi_fmt(slave, slavelen, "%s", name);
	*out = &p->base;
	return SD_OK;
fail:
	sdi_fmt(why, whylen, "cannot create a pty (%s): %s", step, strerror(errno));
	if (p->slave >= 0)
		close(p->slave);
	if (p->master >= 0)
		close(p->master);
	free(p);
	return SD_ERR_IO;
}
