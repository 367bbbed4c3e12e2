/*
 * bench/link_rtt: round trip of one byte through a pty pair with an echoing
 * peer, through shakedown's links (tty link on the host side, pty link on
 * the device side), next to the same loop on raw file descriptors (poll,
 * read, write: what any tool would do by hand). Prints median and p99 of
 * both and the ratio. Reads block in poll() until data or deadline: a
 * sleep-polling link would show here as a median of milliseconds.
 *
 * usage: link_rtt [rounds]   (default 5000)
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "shakedown/shakedown.h"

static int cmp_time(const void *a, const void *b)
{
	sd_time x = *(const sd_time *)a, y = *(const sd_time *)b;
	return (x > y) - (x < y);
}

static void stats(const char *what, sd_time *t, size_t n, sd_time *median)
{
	qsort(t, n, sizeof *t, cmp_time);
	*median = t[n / 2];
	printf("%-28s median %6.1f us   p99 %7.1f us   max %8.1f us\n", what,
	       (double)t[n / 2], (double)t[n * 99 / 100], (double)t[n - 1]);
}

/* The echoing peer: the device side of the pty, served by our own link. */
static pid_t start_echo(sd_link *dev)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	uint8_t b[256];
	for (;;) {
		int n = sd_link_read(dev, b, sizeof b, SD_FOREVER);
		if (n < 0)
			_exit(0);
		if (sd_link_write_all(dev, b, (size_t)n, sd_deadline_in(dev->clock, SD_S(1))) < 0)
			_exit(0);
	}
}

static int raw_open(const char *path)
{
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct termios t;
	tcgetattr(fd, &t);
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	return fd;
}

static int raw_roundtrip(int fd, uint8_t v)
{
	if (write(fd, &v, 1) != 1)
		return -1;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 1000) != 1)
		return -1;
	uint8_t got;
	return read(fd, &got, 1) == 1 && got == v ? 0 : -1;
}

int main(int argc, char **argv)
{
	size_t rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 5000;
	if (rounds < 100 || rounds > 1000000) {
		fprintf(stderr, "link_rtt: rounds from 100 to 1000000\n");
		return 2;
	}
	const sd_clock *c = sd_clock_real();
	sd_link *dev = NULL, *host = NULL;
	char path[128], why[160];
	if (sd_link_open_pty(NULL, &dev, path, sizeof path, why, sizeof why) != SD_OK) {
		fprintf(stderr, "link_rtt: %s\n", why);
		return 3;
	}
	pid_t echo = start_echo(dev);
	sd_line_cfg cfg = SD_LINE_CFG_8N1(115200);
	if (sd_link_open_tty(path, &cfg, NULL, &host, why, sizeof why) != SD_OK) {
		fprintf(stderr, "link_rtt: %s\n", why);
		kill(echo, SIGTERM);
		return 3;
	}
	sd_time *ours = calloc(rounds, sizeof *ours), *raw = calloc(rounds, sizeof *raw);
	if (!ours || !raw)
		return 4;
	int rc = 0;
	for (size_t i = 0; i < rounds && rc == 0; i++) {
		uint8_t v = (uint8_t)i, got = 0;
		size_t n;
		sd_time t0 = sd_now(c);
		sd_deadline dl = t0 + SD_S(1);
		if (sd_link_write_all(host, &v, 1, dl) != SD_OK ||
		    sd_link_read_exact(host, &got, 1, dl, &n) != SD_OK || got != v)
			rc = 1;
		ours[i] = sd_now(c) - t0;
	}
	sd_link_close(host);
	int fd = raw_open(path);
	for (size_t i = 0; i < rounds && rc == 0 && fd >= 0; i++) {
		sd_time t0 = sd_now(c);
		if (raw_roundtrip(fd, (uint8_t)i) < 0)
			rc = 1;
		raw[i] = sd_now(c) - t0;
	}
	if (fd < 0 || rc) {
		fprintf(stderr, "link_rtt: a round trip failed\n");
		rc = 1;
	} else {
		sd_time m_ours, m_raw;
		printf("one-byte round trip through a pty pair, %zu rounds\n", rounds);
		stats("shakedown links (tty<->pty)", ours, rounds, &m_ours);
		stats("raw poll/read/write", raw, rounds, &m_raw);
		printf("ratio shakedown/raw (median): %.2f\n", (double)m_ours / (double)(m_raw ? m_raw : 1));
		printf("median under 200 us: %s\n", m_ours < 200 ? "yes" : "NO");
		rc = m_ours < 200 ? 0 : 1;
	}
	if (fd >= 0)
		close(fd);
	kill(echo, SIGTERM);
	waitpid(echo, NULL, 0);
	sd_link_close(dev);
	free(ours);
	free(raw);
	return rc;
}
