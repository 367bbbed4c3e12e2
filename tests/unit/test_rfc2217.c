/*
 * The rfc2217 link (src/link/rfc2217.c) against scripted access servers on
 * loopback, one forked child per case: a well-behaved server (settings,
 * lines, purge and break acknowledged, data echoed with 0xFF doubled), and
 * the failures a user meets: a raw port, a port that closes at once (in
 * use), a plain Telnet port refusing COM-PORT-OPTION, a substituted rate,
 * line changes never acknowledged (ser2net on a pty), an endless
 * subnegotiation. Each failure is a named error, never a silent setting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "shakedown/shakedown.h"

enum {
	SRV_GOOD = 0, SRV_RAW, SRV_CLOSE, SRV_NO_COMPORT, SRV_BAUD_9600, SRV_NO_LINE_ACKS,
	SRV_ENDLESS_SB, SRV_SILENT, SRV_SLOW_LINES, SRV_BREAK_QUIRK
};

static const uint8_t greeting[] = { 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x01, 0xFF, 0xFE, 0x01,
				    0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFD, 0x2C };

static void put(int fd, const void *b, size_t n)
{
	if (write(fd, b, n) != (ssize_t)n)
		_exit(3);
}

static void serve(int fd, int mode)
{
	if (mode == SRV_CLOSE)
		return;
	if (mode == SRV_RAW) {
		put(fd, "boot: hello\r\n", 13);
		sleep(2);
		return;
	}
	if (mode == SRV_SILENT) {
		sleep(2);
		return;
	}
	if (mode == SRV_NO_COMPORT) {
		static const uint8_t g[] = { 0xFF, 0xFD, 0x00, 0xFF, 0xFB, 0x00, 0xFF, 0xFE, 0x2C };
		put(fd, g, sizeof g);
		sleep(2); /* a plain Telnet server: no COM-PORT answers */
		return;
	} else {
		put(fd, greeting, sizeof greeting);
	}
	if (mode == SRV_ENDLESS_SB) {
		uint8_t sb[200];
		memset(sb, 'x', sizeof sb);
		sb[0] = 0xFF, sb[1] = 0xFA, sb[2] = 0x2C, sb[3] = 0x6B;
		put(fd, sb, sizeof sb);
	}
	/* NOTIFY-MODEMSTATE: CTS and DSR */
	static const uint8_t ms[] = { 0xFF, 0xFA, 0x2C, 0x6B, 0x30, 0xFF, 0xF0 };
	put(fd, ms, sizeof ms);
	sd_telnet t;
	sd_telnet_init(&t);
	uint8_t in[512], data[512];
	for (;;) {
		ssize_t n = read(fd, in, sizeof in);
		if (n <= 0)
			return;
		size_t at = 0;
		while (at < (size_t)n) {
			size_t got = 0;
			sd_telnet_ev ev;
			int r = sd_telnet_feed(&t, in + at, (size_t)n - at, data, sizeof data, &got, &ev);
			if (r < 0)
				return;
			at += (size_t)r;
			if (got) { /* echo the data, escaped again */
				uint8_t esc[1024];
				size_t used;
				put(fd, esc, sd_telnet_escape(data, got, esc, sizeof esc, &used));
			}
			if (ev.kind != SD_TN_EV_SUBNEG || ev.opt != SD_TN_OPT_COMPORT || ev.len == 0)
				continue;
			uint8_t code = ev.data[0];
			uint8_t val[8];
			size_t vl = ev.len - 1 < sizeof val ? ev.len - 1 : sizeof val;
			memcpy(val, ev.data + 1, vl);
			if (code == SD_CPO_SET_CONTROL && vl == 1 && val[0] >= 8 && val[0] <= 12 &&
			    mode == SRV_NO_LINE_ACKS)
				continue; /* ser2net on a pty */
			if (code == SD_CPO_SET_CONTROL && vl == 1 && val[0] >= 8 && val[0] <= 12 &&
			    mode == SRV_SLOW_LINES)
				usleep(30000); /* a slow network: each line change 30 ms late */
			if (code == SD_CPO_SET_CONTROL && vl == 1 && val[0] == SD_CPO_CTL_BREAK_OFF &&
			    mode == SRV_BREAK_QUIRK)
				val[0] = SD_CPO_CTL_BREAK_ON; /* ser2net 4.3.11 on a pty, seen here */
			if (code == SD_CPO_SET_BAUDRATE && mode == SRV_BAUD_9600) {
				val[0] = 0, val[1] = 0, val[2] = 0x25, val[3] = 0x80;
			}
			if (code == SD_CPO_SIGNATURE) {
				memcpy(val, "scripted", 8);
				vl = 8;
			}
			uint8_t b[32];
			put(fd, b, sd_telnet_comport(b, sizeof b, (uint8_t)(code + SD_CPO_SERVER), val, vl));
		}
	}
}

/* A listening socket on 127.0.0.1 and a child serving one connection. */
static pid_t start(int mode, char *target, size_t len, const char *query)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(ls >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(ls, 1), 0);
	socklen_t al = sizeof a;
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	snprintf(target, len, "rfc2217://127.0.0.1:%u%s", ntohs(a.sin_port), query);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = accept(ls, NULL, NULL);
		if (fd >= 0)
			serve(fd, mode);
		_exit(0);
	}
	close(ls);
	return pid;
}

static void stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int open_t(const char *target, sd_link **l, char *why, size_t wl)
{
	sd_link_opts o = { .clock = NULL, .cfg = SD_LINE_CFG_8N1(115200), .open_by = SD_FOREVER };
	return sd_link_open(target, &o, l, why, wl);
}

static void good_server(void **state)
{
	(void)state;
	char target[96], why[256] = "";
	pid_t pid = start(SRV_GOOD, target, sizeof target, "?timeout=500");
	sd_link *l = NULL;
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	assert_string_equal(sd_link_name(l), "rfc2217");
	assert_true(l->caps & SD_LINK_LINES);
	assert_true(l->caps & SD_LINK_REMOTE);
	assert_false(l->caps & SD_LINK_NET); /* a serial port, not a service */
	/* data with 0xFF both ways */
	static const uint8_t msg[] = { 0x30, 0xFF, 0x20, 0xFF, 0xFF, 0x00 };
	sd_deadline dl = sd_deadline_in(l->clock, SD_S(2));
	assert_int_equal(sd_link_write_all(l, msg, sizeof msg, dl), SD_OK);
	uint8_t back[sizeof msg];
	size_t got = 0;
	assert_int_equal(sd_link_read_exact(l, back, sizeof back, dl, &got), SD_OK);
	assert_memory_equal(back, msg, sizeof msg);
	/* settings, lines (both asked at once), break, purge: acknowledged */
	sd_line_cfg c = SD_LINE_CFG_8E1(57600);
	assert_int_equal(sd_link_set_cfg(l, &c), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, SD_LINE_DTR), SD_OK);
	assert_int_equal(sd_link_break(l, SD_MS(1)), SD_OK);
	assert_int_equal(sd_link_flush(l, SD_FLUSH_IN), SD_OK);
	unsigned lv = 0;
	assert_int_equal(sd_link_get_lines(l, &lv), SD_OK);
	assert_true(lv & SD_LINE_CTS);
	assert_true(lv & SD_LINE_DSR);
	assert_true(lv & SD_LINE_DTR);
	assert_false(lv & SD_LINE_RTS);
	sd_remote_info ri;
	assert_int_equal(sd_link_remote_info(l, &ri), SD_OK);
	assert_string_equal(ri.signature, "scripted");
	assert_int_equal(ri.lines_sent, 2);
	assert_int_equal(ri.lines_acked, 2);
	assert_int_equal(ri.lines_unacked, 0);
	assert_int_equal(ri.nctl, 2);
	assert_int_equal(ri.ctl[0].value, SD_CPO_CTL_DTR_ON);
	assert_int_equal(ri.ctl[1].value, SD_CPO_CTL_RTS_OFF);
	assert_true(ri.ctl[1].ack >= ri.ctl[1].sent);
	assert_true(ri.have_modemstate);
	sd_link_close(l);
	stop(pid);
	/* not an rfc2217 link */
	assert_int_equal(sd_link_remote_info(NULL, &ri), SD_ERR_ARG);
}

static void expect_open_error(int mode, const char *query, int err, const char *words)
{
	char target[96], why[320] = "";
	pid_t pid = start(mode, target, sizeof target, query);
	sd_link *l = NULL;
	int r = open_t(target, &l, why, sizeof why);
	if (r != err || !strstr(why, words))
		print_error("mode %d: got %s \"%s\", want %s \"%s\"\n", mode, sd_errname(r), why, sd_errname(err), words);
	assert_int_equal(r, err);
	assert_non_null(strstr(why, words));
	assert_null(l);
	stop(pid);
}

static void failures_are_named(void **state)
{
	(void)state;
	expect_open_error(SRV_RAW, "", SD_ERR_PROTO, "raw TCP port");
	expect_open_error(SRV_CLOSE, "", SD_ERR_BUSY, "in use by another client");
	expect_open_error(SRV_NO_COMPORT, "", SD_ERR_NACK, "refuses COM-PORT-OPTION");
	expect_open_error(SRV_BAUD_9600, "?timeout=300", SD_ERR_NACK, "it uses 9600");
	expect_open_error(SRV_ENDLESS_SB, "", SD_ERR_PROTO, "64 bytes");
	expect_open_error(SRV_SILENT, "", SD_ERR_PROTO, "no Telnet negotiation");
	expect_open_error(SRV_GOOD, "?bogus=1", SD_ERR_ARG, "ign_set_control");
}

static void lines_never_acknowledged(void **state)
{
	(void)state;
	char target[96], why[256] = "";
	pid_t pid = start(SRV_NO_LINE_ACKS, target, sizeof target, "?timeout=150");
	sd_link *l = NULL;
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, SD_LINE_DTR), SD_ERR_UNSUPPORTED);
	assert_non_null(strstr(sd_link_why(l, SD_ERR_UNSUPPORTED), "cannot drive the modem lines"));
	assert_false(l->caps & SD_LINK_LINES);
	/* the next change fails at once, without another wait */
	sd_time t0 = sd_now(l->clock);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_RTS, 0), SD_ERR_UNSUPPORTED);
	assert_true(sd_now(l->clock) - t0 < SD_MS(50));
	/* the link still carries data */
	sd_deadline dl = sd_deadline_in(l->clock, SD_S(2));
	assert_int_equal(sd_link_write_all(l, (const uint8_t *)"ab", 2, dl), SD_OK);
	uint8_t b[2];
	assert_int_equal(sd_link_read_exact(l, b, 2, dl, NULL), SD_OK);
	sd_remote_info ri;
	assert_int_equal(sd_link_remote_info(l, &ri), SD_OK);
	assert_true(ri.lines_dead);
	assert_int_equal(ri.lines_unacked, 1);
	sd_link_close(l);
	stop(pid);

	/* ?ign_set_control: sent without waiting, counted as unacknowledged */
	pid = start(SRV_NO_LINE_ACKS, target, sizeof target, "?ign_set_control&timeout=150");
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, 0), SD_OK);
	assert_true(l->caps & SD_LINK_LINES);
	assert_int_equal(sd_link_remote_info(l, &ri), SD_OK);
	assert_true(ri.ign_set_control);
	assert_int_equal(ri.lines_sent, 2);
	assert_int_equal(ri.lines_unacked, 2);
	sd_link_close(l);
	stop(pid);
}

static void break_answered_otherwise(void **state)
{
	(void)state;
	char target[96], why[256] = "";
	pid_t pid = start(SRV_BREAK_QUIRK, target, sizeof target, "?timeout=500");
	sd_link *l = NULL;
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	sd_time t0 = sd_now(l->clock);
	assert_int_equal(sd_link_break(l, SD_MS(1)), SD_ERR_NACK);
	assert_true(sd_now(l->clock) - t0 < SD_MS(400)); /* named at once, not a timeout */
	assert_non_null(strstr(sd_link_why(l, SD_ERR_NACK), "SET-CONTROL 6 (break off) with 5"));
	/* the link goes on */
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, SD_LINE_DTR), SD_OK);
	sd_link_close(l);
	stop(pid);
}

static void stretched_reset_is_measured(void **state)
{
	(void)state;
	char target[96], why[256] = "";
	pid_t pid = start(SRV_SLOW_LINES, target, sizeof target, "?timeout=500");
	sd_link *l = NULL;
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	/* DTR and RTS asked together: the second answer comes 30 ms after
	 * the first (the server handles them one by one) */
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, SD_LINE_DTR), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, 0), SD_OK);
	sd_remote_info ri;
	assert_int_equal(sd_link_remote_info(l, &ri), SD_OK);
	assert_true(ri.pair_gap_max >= SD_MS(25));
	assert_true(ri.line_rtt_max >= SD_MS(55));
	sd_report *r = calloc(1, sizeof *r);
	assert_non_null(r);
	sd_report_init(r, "probe", target);
	assert_int_equal(sd_remote_report(l, r), 1);
	assert_int_equal(r->diag.f[0].cause, SD_CAUSE_REMOTE_RESET_SLOW);
	assert_non_null(strstr(r->diag.f[0].summary, "ms apart"));
	assert_non_null(sd_report_fact_get(r, "remote_line_ack"));
	free(r);
	sd_link_close(l);
	stop(pid);

	/* the server that never answers line changes: remote-no-lines */
	pid = start(SRV_NO_LINE_ACKS, target, sizeof target, "?timeout=100");
	assert_int_equal(open_t(target, &l, why, sizeof why), SD_OK);
	assert_int_equal(sd_link_set_lines(l, SD_LINE_DTR, SD_LINE_DTR), SD_ERR_UNSUPPORTED);
	r = calloc(1, sizeof *r);
	assert_non_null(r);
	sd_report_init(r, "probe", target);
	assert_int_equal(sd_remote_report(l, r), 1);
	assert_int_equal(r->diag.f[0].cause, SD_CAUSE_REMOTE_NO_LINES);
	assert_true(r->diag.f[0].confidence > 0.9f);
	assert_string_equal(sd_report_fact_get(r, "remote_server"), "scripted");
	free(r);
	sd_link_close(l);
	stop(pid);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_server),
		cmocka_unit_test(failures_are_named),
		cmocka_unit_test(lines_never_acknowledged),
		cmocka_unit_test(stretched_reset_is_measured),
		cmocka_unit_test(break_answered_otherwise),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
