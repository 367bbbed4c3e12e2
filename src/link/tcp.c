/*
 * shakedown — tcp: a raw TCP stream (ser2net raw, ESP-link, a TLS or
 * plaintext service). Connect is non-blocking and bounded by the deadline,
 * trying each address getaddrinfo gives.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include "internal.h"

typedef struct tcp_link {
	sd_link base;
	int     fd;
	int     drained; /* the last read emptied the kernel buffer */
	char    host[256]; /* as opened (XMPP's STARTTLS names it) */
} tcp_link;

static tcp_link *tcp_of(sd_link *l)
{
	return (tcp_link *)(void *)l;
}

static int tcp_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_read(l, tcp_of(l)->fd, buf, len, dl, 1, &tcp_of(l)->drained);
}

static int tcp_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	return sdi_fd_write(l, tcp_of(l)->fd, buf, len, dl, 1);
}

static void tcp_close(sd_link *l)
{
	close(tcp_of(l)->fd);
	free(l);
}

static const sd_link_ops sd_link_tcp_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "tcp",
	.caps = SD_LINK_BYTES | SD_LINK_NET,
	.read = tcp_read,
	.write = tcp_write,
	.close = tcp_close,
};

/* One address: 0 and a connected fd, or an errno. */
static int try_connect(sd_link *l, const struct addrinfo *ai, sd_deadline dl, int *fdp)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return e;
	}
	int r = sdi_fd_wait(l, fd, POLLOUT, dl);
	if (r == SD_ERR_TIMEOUT) {
		close(fd);
		return ETIMEDOUT;
	}
	int soerr = 0;
	socklen_t sl = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
		soerr = errno;
	if (r != SD_OK && !soerr)
		soerr = ECONNREFUSED;
	if (soerr) {
		close(fd);
		return soerr;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	*fdp = fd;
	return 0;
}

int sdi_tcp_connect(sd_link *l, const char *host, const char *port, sd_deadline dl, int *fdp,
		    char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	*fdp = -1;
	int gr = getaddrinfo(host, port, &hints, &res);
	if (gr != 0) {
		sdi_fmt(why, whylen, "unknown host %s (%s)", host, gai_strerror(gr));
		return SD_ERR_NOTFOUND;
	}
	int err = 0;
	for (struct addrinfo *ai = res; ai && *fdp < 0; ai = ai->ai_next) {
		err = try_connect(l, ai, dl, fdp);
		if (err == ETIMEDOUT)
			break; /* the deadline is spent */
	}
	freeaddrinfo(res);
	if (*fdp >= 0)
		return SD_OK;
	sdi_fmt(why, whylen, "%s", /* the caller names the target */
		err == ECONNREFUSED ? "connection refused (nothing listens on that port)"
		: err == ETIMEDOUT ? "no answer before the deadline (a filter drops the connection?)"
		: strerror(err));
	return err == ECONNREFUSED ? SD_ERR_NOTFOUND
		: err == ETIMEDOUT ? SD_ERR_TIMEOUT
		: (err == EACCES || err == EPERM) ? SD_ERR_ACCESS : SD_ERR_IO;
}

int sd_link_open_tcp(const char *host, const char *port, const sd_clock *clock,
		     sd_deadline dl, sd_link **out, char *why, size_t whylen)
{
	if (!host || !port || !out)
		return SD_ERR_ARG;
	*out = NULL;
	tcp_link *t = calloc(1, sizeof *t);
	if (!t)
		return SD_ERR_NOMEM;
	sd_link_init(&t->base, &sd_link_tcp_ops, clock);
	int r = sdi_tcp_connect(&t->base, host, port, dl, &t->fd, why, whylen);
	if (r) {
		free(t);
		return r;
	}
	snprintf(t->host, sizeof t->host, "%s", host);
	*out = &t->base;
	return SD_OK;
}

const char *sdi_tcp_host(const sd_link *l)
{
	return l && l->ops == &sd_link_tcp_ops ? ((const tcp_link *)(const void *)l)->host : NULL;
}
