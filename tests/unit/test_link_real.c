/* Real links: a pty pair and TCP loopback on the real clock. Deadlines are
 * met, not early and not more than 10 ms late; a closed peer is "device
 * disconnected"; and the opener's errors are one clear line. */
#define _GNU_SOURCE /* posix_openpt, ptsname_r, mkdtemp */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

#define LATE_MAX SD_MS(10)

/* Never early; late by at most LATE_MAX in the median of 7 waits (one wait
 * stretched by a loaded CI machine's scheduler is not the link's doing; a
 * link that sleep-polls is late every time). */
static void assert_deadline_met(sd_link *l)
{
	uint8_t b;
	const sd_clock *c = sd_clock_real();
	sd_time late[7];
	for (int i = 0; i < 7; i++) {
		sd_time t0 = sd_now(c);
		sd_deadline dl = t0 + SD_MS(50);
		assert_int_equal(sd_link_read(l, &b, 1, dl), SD_ERR_TIMEOUT);
		sd_time t1 = sd_now(c);
		assert_true(t1 >= dl);
		late[i] = t1 - dl;
	}
	for (int i = 1; i < 7; i++) /* insertion sort */
		for (int j = i; j > 0 && late[j - 1] > late[j]; j--) {
			sd_time t = late[j];
			late[j] = late[j - 1];
			late[j - 1] = t;
		}
	assert_true(late[3] <= LATE_MAX);
}

static void pty_pair_moves_bytes_meets_deadlines_and_reports_hangup(void **state)
{
	(void)state;
	sd_link *dev = NULL, *cli = NULL;
	char path[128], why[160];
	assert_int_equal(sd_link_open_pty(NULL, &dev, path, sizeof path, why, sizeof why), SD_OK);
	sd_line_cfg cfg = SD_LINE_CFG_8N1(115200);
	assert_int_equal(sd_link_open_tty(path, &cfg, NULL, &cli, why, sizeof why), SD_OK);
	assert_false(cli->caps & SD_LINK_LINES); /* a pty has no modem lines */
	assert_int_equal(sd_link_set_lines(cli, SD_LINE_DTR, SD_LINE_DTR), SD_ERR_UNSUPPORTED);

	uint8_t buf[64];
	size_t got;
	sd_deadline dl = sd_deadline_in(sd_clock_real(), SD_S(2));
	assert_int_equal(sd_link_write_all(cli, (const uint8_t *)"\x7f\x30\x20", 3, dl), SD_OK);
	assert_int_equal(sd_link_read_exact(dev, buf, 3, dl, &got), SD_OK);
	assert_memory_equal(buf, "\x7f\x30\x20", 3);
	/* all 256 byte values pass unchanged (raw mode both sides) */
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_int_equal(sd_link_write_all(dev, all, sizeof all, dl), SD_OK);
	uint8_t back[256];
	assert_int_equal(sd_link_read_exact(cli, back, sizeof back, dl, &got), SD_OK);
	assert_memory_equal(back, all, sizeof all);

	assert_deadline_met(cli);
	assert_deadline_met(dev);

	/* a parity request on a pty is dropped by the kernel: we notice */
	sd_line_cfg even = SD_LINE_CFG_8E1(115200);
	assert_int_equal(sd_link_set_cfg(cli, &even), SD_OK);
	assert_false(cli->caps & SD_LINK_PARITY);

	sd_link_close(dev); /* the device side vanishes */
	assert_int_equal(sd_link_read(cli, buf, 1, sd_deadline_in(sd_clock_real(), SD_S(1))), SD_ERR_CLOSED);
	assert_string_equal(sd_strerror(SD_ERR_CLOSED), "device disconnected");
	assert_int_equal(sd_link_write(cli, buf, 1, SD_FOREVER), SD_ERR_CLOSED); /* sticky */
	sd_link_close(cli);
}

static int listener(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof a;
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*port = ntohs(a.sin_port);
	return s;
}

static void tcp_loopback_round_trip_deadlines_and_close(void **state)
{
	(void)state;
	uint16_t port;
	int ls = listener(&port);
	char ps[8], why[160];
	snprintf(ps, sizeof ps, "%u", port);
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_tcp("127.0.0.1", ps, NULL, sd_deadline_in(sd_clock_real(), SD_S(2)),
					  &l, why, sizeof why), SD_OK);
	assert_true(l->caps & SD_LINK_NET);
	int peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);

	assert_int_equal(write(peer, "220 smtp\r\n", 10), 10);
	uint8_t buf[32];
	size_t got;
	assert_int_equal(sd_link_read_exact(l, buf, 10, sd_deadline_in(sd_clock_real(), SD_S(2)), &got), SD_OK);
	assert_memory_equal(buf, "220 smtp\r\n", 10);
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"QUIT\r\n", 6, SD_FOREVER), SD_OK);
	assert_int_equal(read(peer, buf, sizeof buf), 6);

	assert_deadline_met(l);

	close(peer);
	assert_int_equal(sd_link_read(l, buf, 1, sd_deadline_in(sd_clock_real(), SD_S(1))), SD_ERR_CLOSED);
	sd_link_close(l);

	/* nothing listens any more: refused, said plainly */
	close(ls);
	assert_int_equal(sd_link_open_tcp("127.0.0.1", ps, NULL, sd_deadline_in(sd_clock_real(), SD_S(2)),
					  &l, why, sizeof why), SD_ERR_NOTFOUND);
	assert_non_null(strstr(why, "connection refused"));
	assert_null(l);
}

static void opener_errors_are_one_clear_line(void **state)
{
	(void)state;
	sd_link *l = (sd_link *)0x1;
	char why[200];
	assert_int_equal(sd_link_open("/dev/ttyNOPE42", NULL, &l, why, sizeof why), SD_ERR_NOTFOUND);
	assert_null(l);
	assert_non_null(strstr(why, "/dev/ttyNOPE42"));
	assert_null(strchr(why, '\n'));
	assert_int_equal(sd_link_open("gopher://x", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "gopher"));
	assert_int_equal(sd_link_open("serial:/dev/null?baud=fast", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "baud"));
	assert_int_equal(sd_link_open("tcp://localhost", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_link_open("tcp://no-such-host.invalid:1", NULL, &l, why, sizeof why), SD_ERR_NOTFOUND);
	assert_non_null(strstr(why, "unknown host"));
	assert_int_equal(sd_link_open("sim:app?txet=hi", NULL, &l, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "txet"));
	assert_int_equal(sd_link_open("null:", NULL, &l, why, sizeof why), SD_OK);
	uint8_t b;
	assert_int_equal(sd_link_write(l, (const uint8_t *)"x", 1, SD_FOREVER), 1);
	assert_int_equal(sd_link_read(l, &b, 1, sd_deadline_in(l->clock, SD_MS(5))), SD_ERR_TIMEOUT);
	sd_link_close(l);
}

/* A pty master standing for a USB device; its slave's path in name. */
static int new_device(char *name, size_t cap)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_int_equal(ptsname_r(m, name, cap), 0);
	return m;
}

/* The device end reads n bytes within 2 s. */
/* The lines FIFO of a simulator's pty: a pulse written faster than the
 * device polls (assert, release within 1 ms) is seen as two changes, one a
 * call; a byte that repeats the state is no change. */
static void pty_lines_fifo_keeps_every_change(void **state)
{
	(void)state;
	char fifo[] = "/tmp/sd-lines-XXXXXX", path[64], why[200];
	int tmp = mkstemp(fifo);
	assert_true(tmp >= 0);
	close(tmp);
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	sd_link *dev = NULL;
	assert_int_equal(sd_link_open_pty(NULL, &dev, path, sizeof path, why, sizeof why), SD_OK);
	assert_int_equal(sd_link_pty_lines(dev, fifo, why, sizeof why), SD_OK);
	int w = open(fifo, O_WRONLY | O_NONBLOCK);
	assert_true(w >= 0);
	unsigned v = 9;
	assert_int_equal(sd_link_get_lines(dev, &v), SD_OK);
	assert_int_equal(v, 0);
	const uint8_t pulse[] = { 0x00, 0x03, 0x03, 0x00 }; /* a repeat, then an assert and a release */
	assert_int_equal(write(w, pulse, sizeof pulse), (ssize_t)sizeof pulse);
	assert_int_equal(sd_link_get_lines(dev, &v), SD_OK);
	assert_int_equal(v, SD_LINE_DTR | SD_LINE_RTS);
	assert_int_equal(sd_link_get_lines(dev, &v), SD_OK);
	assert_int_equal(v, 0);
	assert_int_equal(sd_link_get_lines(dev, &v), SD_OK); /* nothing new */
	assert_int_equal(v, 0);
	close(w);
	sd_link_close(dev);
	unlink(fifo);
}

static void device_reads(int m, const char *want, size_t n)
{
	char buf[64];
	size_t got = 0;
	while (got < n) {
		struct pollfd p = { .fd = m, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 2000), 1);
		ssize_t k = read(m, buf + got, n - got);
		assert_true(k > 0);
		got += (size_t)k;
	}
	assert_memory_equal(buf, want, n);
}

/* A USB device that re-enumerates: the node its path names goes away (the
 * master closes: EIO on the slave) and a new node takes the name, as udev
 * re-points /dev/serial/by-id/... . sd_link_reopen fails while the name
 * leads nowhere, then follows it to the new device, in raw mode again (the
 * settings re-applied: a fresh pty slave is canonical, and "hi" without a
 * newline would never arrive), and the transcript says so. */
static void tty_reopen_follows_the_path_to_a_new_device(void **state)
{
	(void)state;
	char dir[] = "/tmp/sd-reopen-XXXXXX", byid[64], tmp[80], pts[128], why[200];
	assert_non_null(mkdtemp(dir));
	snprintf(byid, sizeof byid, "%s/usb-Espressif_USB_JTAG", dir);
	snprintf(tmp, sizeof tmp, "%s.new", byid);
	int m1 = new_device(pts, sizeof pts);
	assert_int_equal(symlink(pts, byid), 0);

	static _Alignas(8) unsigned char arena[1 << 14];
	sd_transcript tr;
	sd_transcript_init(&tr, NULL, arena, sizeof arena);
	sd_line_cfg cfg = SD_LINE_CFG_8N1(115200);
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_tty(byid, &cfg, NULL, &l, why, sizeof why), SD_OK);
	sd_link_tap(l, &tr, byid);
	sd_deadline dl = sd_deadline_in(sd_clock_real(), SD_S(2));
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"ab", 2, dl), SD_OK);
	device_reads(m1, "ab", 2);

	/* the device leaves the bus */
	close(m1);
	uint8_t b[8];
	assert_int_equal(sd_link_read(l, b, 1, sd_deadline_in(sd_clock_real(), SD_S(1))), SD_ERR_CLOSED);
	assert_int_equal(sd_link_write(l, (const uint8_t *)"x", 1, dl), SD_ERR_CLOSED);
	/* not back yet: the name leads nowhere; the link stays dead */
	assert_int_equal(unlink(byid), 0);
	assert_int_equal(sd_link_reopen(l, dl), SD_ERR_NOTFOUND);
	assert_non_null(strstr(sd_link_why(l, SD_ERR_NOTFOUND), byid));
	assert_int_equal(sd_link_write(l, (const uint8_t *)"x", 1, dl), SD_ERR_CLOSED);

	/* back, as a new node under the same name */
	int m2 = new_device(pts, sizeof pts);
	assert_int_equal(symlink(pts, tmp), 0);
	assert_int_equal(rename(tmp, byid), 0);
	assert_int_equal(sd_link_reopen(l, dl), SD_OK);
	assert_int_equal(l->cfg.baud, 115200u);
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"hi", 2, dl), SD_OK);
	device_reads(m2, "hi", 2);
	assert_int_equal(write(m2, "ok", 2), 2);
	size_t got;
	assert_int_equal(sd_link_read_exact(l, b, 2, dl, &got), SD_OK);
	assert_memory_equal(b, "ok", 2);

	/* the transcript: an error, a reopen that failed (its error after it),
	 * a reopen that worked, the settings applied again */
	int kinds[64], n = 0;
	size_t cur = 0;
	sd_trec rec;
	while (n < 64 && sd_transcript_next(&tr, &cur, &rec))
		kinds[n++] = rec.kind;
	int seq[] = { SD_TR_ERROR, SD_TR_REOPEN, SD_TR_ERROR, SD_TR_REOPEN, SD_TR_CFG, SD_TR_TX }, k = 0;
	for (int i = 0; i < n && k < 6; i++)
		if (kinds[i] == seq[k])
			k++;
	assert_int_equal(k, 6);

	sd_link_close(l);
	close(m2);
	unlink(byid);
	rmdir(dir);

	/* a link with no path to open again says so */
	sd_link *dev = NULL;
	assert_int_equal(sd_link_open_pty(NULL, &dev, pts, sizeof pts, why, sizeof why), SD_OK);
	assert_int_equal(sd_link_reopen(dev, dl), SD_ERR_UNSUPPORTED);
	sd_link_close(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pty_pair_moves_bytes_meets_deadlines_and_reports_hangup),
		cmocka_unit_test(tcp_loopback_round_trip_deadlines_and_close),
		cmocka_unit_test(opener_errors_are_one_clear_line),
		cmocka_unit_test(tty_reopen_follows_the_path_to_a_new_device),
		cmocka_unit_test(pty_lines_fifo_keeps_every_change),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
