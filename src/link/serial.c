/*
 * shakedown — serial: a real serial port through libserialport (USB-UART
 * adapters, CDC-ACM, on-board UARTs). Reads and writes block in poll() on
 * the port's descriptor until data or the deadline. A second user is kept
 * out with an advisory lock, as stm32flash does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include <libserialport.h>
#include "internal.h"

typedef struct serial_link {
	sd_link            base;
	struct sp_port    *port;
	int                fd;
	int                drained; /* the last read emptied the kernel buffer */
	char              *path;    /* as opened, for reopen */
} serial_link;

static serial_link *ser_of(sd_link *l)
{
	return (serial_link *)(void *)l;
}

/* libserialport keeps the errno of its last failing call. */
static int sp_fail(sd_link *l, enum sp_return r, const char *what)
{
	if (r == SP_ERR_FAIL)
		return sdi_fd_errno(l, sp_last_error_code(), what);
	if (r == SP_ERR_SUPP)
		return sdi_link_fail(l, SD_ERR_UNSUPPORTED, "%s: not supported by this port", what);
	if (r == SP_ERR_ARG)
		return sdi_link_fail(l, SD_ERR_ARG, "%s: invalid setting", what);
	return sdi_link_fail(l, SD_ERR_NOMEM, "%s: out of memory", what);
}

static int ser_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_read(l, ser_of(l)->fd, buf, len, dl, 0, &ser_of(l)->drained);
}

static int ser_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_write(l, ser_of(l)->fd, buf, len, dl, 0);
}

static int ser_flush(sd_link *l, unsigned dirs)
{
	int b = ((dirs & SD_FLUSH_IN) ? SP_BUF_INPUT : 0) | ((dirs & SD_FLUSH_OUT) ? SP_BUF_OUTPUT : 0);
	enum sp_return r = sp_flush(ser_of(l)->port, (enum sp_buffer)b);
	return r == SP_OK ? SD_OK : sp_fail(l, r, "flush");
}

static int ser_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	struct sp_port *p = ser_of(l)->port;
	static const enum sp_parity par[] = { SP_PARITY_NONE, SP_PARITY_ODD, SP_PARITY_EVEN,
					      SP_PARITY_MARK, SP_PARITY_SPACE };
	enum sp_return r = SP_OK;
	const char *what = "set baud rate";
	if (cfg->baud)
		r = sp_set_baudrate(p, (int)cfg->baud);
	if (r == SP_OK && cfg->data_bits) {
		what = "set data bits";
		r = sp_set_bits(p, cfg->data_bits);
	}
	if (r == SP_OK) {
		what = "set parity";
		r = sp_set_parity(p, par[cfg->parity <= SD_PARITY_SPACE ? cfg->parity : 0]);
	}
	if (r == SP_OK && cfg->stop_bits) {
		what = "set stop bits";
		r = sp_set_stopbits(p, cfg->stop_bits);
	}
	if (r == SP_OK) {
		what = "set flow control";
		r = sp_set_flowcontrol(p, cfg->flow == SD_FLOW_RTSCTS ? SP_FLOWCONTROL_RTSCTS
				       : cfg->flow == SD_FLOW_XONXOFF ? SP_FLOWCONTROL_XONXOFF
				       : SP_FLOWCONTROL_NONE);
	}
	return r == SP_OK ? SD_OK : sp_fail(l, r, what);
}

static int ser_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	struct sp_port *p = ser_of(l)->port;
	enum sp_return r = SP_OK;
	if (mask & SD_LINE_DTR)
		r = sp_set_dtr(p, (level & SD_LINE_DTR) ? SP_DTR_ON : SP_DTR_OFF);
	if (r == SP_OK && (mask & SD_LINE_RTS))
		r = sp_set_rts(p, (level & SD_LINE_RTS) ? SP_RTS_ON : SP_RTS_OFF);
	return r == SP_OK ? SD_OK : sp_fail(l, r, "set DTR/RTS");
}

static int ser_get_lines(sd_link *l, unsigned *level)
{
	enum sp_signal s;
	enum sp_return r = sp_get_signals(ser_of(l)->port, &s);
	if (r != SP_OK)
		return sp_fail(l, r, "read modem lines");
	*level = ((s & SP_SIG_CTS) ? SD_LINE_CTS : 0) | ((s & SP_SIG_DSR) ? SD_LINE_DSR : 0) |
		 ((s & SP_SIG_DCD) ? SD_LINE_DCD : 0) | ((s & SP_SIG_RI) ? SD_LINE_RI : 0);
	return SD_OK;
}

static int ser_break(sd_link *l, sd_time d)
{
	struct sp_port *p = ser_of(l)->port;
	enum sp_return r = sp_start_break(p);
	if (r != SP_OK)
		return sp_fail(l, r, "start break");
	sd_link_sleep_until(l, sd_deadline_in(l->clock, d));
	r = sp_end_break(p);
	return r == SP_OK ? SD_OK : sp_fail(l, r, "end break");
}

static void ser_detach(serial_link *s);

static void ser_close(sd_link *l)
{
	serial_link *s = ser_of(l);
	ser_detach(s);
	free(s->path);
	free(s);
}

static int ser_reopen(sd_link *l, sd_deadline dl);

static const sd_link_ops sd_link_serial_ops = {
	.version = SD_LINK_OPS_V2,
	.name = "serial",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES | SD_LINK_BREAK,
	.read = ser_read,
	.write = ser_write,
	.flush = ser_flush,
	.set_cfg = ser_set_cfg,
	.set_lines = ser_set_lines,
	.get_lines = ser_get_lines,
	.send_break = ser_break,
	.close = ser_close,
	.reopen = ser_reopen,
};

/* Open path into s (port and fd): what opening and reopening share.
 * SD_OK, or an sd_err with why. */
static int ser_attach(serial_link *s, const char *path, char *why, size_t whylen)
{
	if (access(path, F_OK) != 0) {
		sdi_fmt(why, whylen, "%s: no such device (is it plugged in? see shakedown ports)", path);
		return SD_ERR_NOTFOUND;
	}
	enum sp_return sr = sp_get_port_by_name(path, &s->port);
	if (sr == SP_OK)
		sr = sp_open(s->port, SP_MODE_READ_WRITE);
	if (sr != SP_OK) {
		int e = sr == SP_ERR_FAIL ? sp_last_error_code() : 0;
		int r = e == EACCES || e == EPERM ? SD_ERR_ACCESS
			: e == EBUSY ? SD_ERR_BUSY
			: e == ENOENT || e == ENODEV || e == ENXIO ? SD_ERR_NOTFOUND
			: e == ENOTTY || e == EINVAL ? SD_ERR_UNSUPPORTED : SD_ERR_IO;
		sdi_fmt(why, whylen, "%s: %s%s", path, e ? strerror(e) : "libserialport cannot open it",
			r == SD_ERR_ACCESS ? " (add yourself to the dialout group and log in again)" : "");
		return r;
	}
	if (sp_get_port_handle(s->port, &s->fd) != SP_OK) {
		sdi_fmt(why, whylen, "%s: no file descriptor", path);
		return SD_ERR_IO;
	}
	/* Every read and write waits in poll() with a deadline, never in read(). */
	int fl = fcntl(s->fd, F_GETFL);
	if (fl < 0 || fcntl(s->fd, F_SETFL, fl | O_NONBLOCK) != 0) {
		sdi_fmt(why, whylen, "%s: cannot make it non-blocking", path);
		return SD_ERR_IO;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
		sdi_fmt(why, whylen, "%s: in use by another program (it holds a lock)", path);
		return SD_ERR_BUSY;
	}
	return SD_OK;
}

static void ser_detach(serial_link *s)
{
	if (s->port) {
		sp_close(s->port);
		sp_free_port(s->port);
	}
	s->port = NULL;
	s->fd = -1;
	s->drained = 0;
}

/* esptool's way back from a port that vanished mid-reset (reset.py
 * ResetStrategy.__call__): close it, look the name up and open it again. */
static int ser_reopen(sd_link *l, sd_deadline dl)
{
	serial_link *s = ser_of(l);
	(void)dl; /* libserialport opens without waiting */
	ser_detach(s);
	char why[sizeof l->why];
	int r = ser_attach(s, s->path, why, sizeof why);
	if (r) {
		ser_detach(s);
		return sdi_link_fail(l, r, "%s", why);
	}
	return SD_OK;
}

int sd_link_open_serial(const char *path, const sd_line_cfg *cfg, const sd_clock *clock,
			sd_link **out, char *why, size_t whylen)
{
	if (!path || !out)
		return SD_ERR_ARG;
	*out = NULL;
	serial_link *s = calloc(1, sizeof *s);
	if (!s)
		return SD_ERR_NOMEM;
	sd_link_init(&s->base, &sd_link_serial_ops, clock);
	s->fd = -1;
	int r = ser_attach(s, path, why, whylen);
	if (r)
		goto fail;
	if (cfg && (r = ser_set_cfg(&s->base, cfg)) != SD_OK) {
		sdi_fmt(why, whylen, "%s: %s", path, s->base.why);
		goto fail;
	}
	if (cfg)
		s->base.cfg = *cfg;
	/* the USB identity, where there is one: ESP picks its reset by it */
	int vid = 0, pid = 0;
	if (sp_get_port_transport(s->port) == SP_TRANSPORT_USB &&
	    sp_get_port_usb_vid_pid(s->port, &vid, &pid) == SP_OK) {
		s->base.usb_vid = (uint16_t)vid;
		s->base.usb_pid = (uint16_t)pid;
	}
	s->path = strdup(path);
	if (!s->path) {
		r = SD_ERR_NOMEM;
		goto fail;
	}
	*out = &s->base;
	return SD_OK;
fail:
	ser_detach(s);
	free(s);
	return r;
}
