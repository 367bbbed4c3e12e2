/*
 * shakedown — poll()-based reads and writes on a file descriptor with an
 * absolute deadline, shared by the tty, pty, tcp and serial links. Reads
 * block in poll() until data or the deadline: no sleep-polling.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

/* Milliseconds to give poll() for an absolute deadline; rounds up, so a
 * wait never ends before the deadline (the caller loops until it passes). */
static int poll_ms(sd_link *l, sd_deadline dl)
{
	sd_time left = sd_deadline_left(l->clock, dl);
	if (left == SD_FOREVER)
		return -1;
	if (left > (sd_time)INT32_MAX * 1000)
		return INT32_MAX;
	return (int)((left + 999) / 1000);
}

int sdi_fd_errno(sd_link *l, int err, const char *what)
{
	switch (err) {
	case EIO:
	case ENXIO:
	case ENODEV:
	case EPIPE:
	case ECONNRESET:
	case ESHUTDOWN:
		return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (%s: %s)", what, strerror(err));
	case EACCES:
	case EPERM:
		return sdi_link_fail(l, SD_ERR_ACCESS, "%s: %s", what, strerror(err));
	case EBUSY:
		return sdi_link_fail(l, SD_ERR_BUSY, "%s: %s", what, strerror(err));
	default:
		l->os_errno = err;
		return sdi_link_fail(l, SD_ERR_IO, "%s: %s", what, strerror(err));
	}
}

int sdi_fd_wait(sd_link *l, int fd, short events, sd_deadline dl)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, poll_ms(l, dl));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return sdi_fd_errno(l, errno, "poll");
		}
		if (r == 0) {
			if (dl != SD_FOREVER && !sd_deadline_passed(l->clock, dl))
				continue; /* poll() rounds; wait out the rest */
			return SD_ERR_TIMEOUT;
		}
		if (p.revents & events)
			return SD_OK;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (hang-up)");
	}
}

int sdi_fd_read(sd_link *l, int fd, uint8_t *buf, size_t len, sd_deadline dl, int sock,
		int *drained)
{
	/* After a short read the kernel held nothing more: the next bytes
	 * (the answer to what was just sent, as a rule) are still on their way,
	 * so wait for them before reading rather than first meet EAGAIN. One
	 * system call less per request and reply. */
	if (drained && *drained) {
		int r = sdi_fd_wait(l, fd, POLLIN, dl);
		if (r)
			return r;
	}
	for (;;) {
		ssize_t n = sock ? recv(fd, buf, len, MSG_DONTWAIT) : read(fd, buf, len);
		if (n > 0) {
			if (drained)
				*drained = (size_t)n < len;
			return (int)n;
		}
		if (n == 0)
			return sdi_link_fail(l, SD_ERR_CLOSED, "device disconnected (end of stream)");
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return sdi_fd_errno(l, errno, "read");
		int r = sdi_fd_wait(l, fd, POLLIN, dl);
		if (r)
			return r;
	}
}

int sdi_fd_write(sd_link *l, int fd, const uint8_t *buf, size_t len, sd_deadline dl, int sock)
{
	for (;;) {
		ssize_t n = sock ? send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) : write(fd, buf, len);
		if (n > 0)
			return (int)n;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return sdi_fd_errno(l, errno, "write");
		int r = sdi_fd_wait(l, fd, POLLOUT, dl);
		if (r)
			return r;
	}
}
