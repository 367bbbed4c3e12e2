/* sd_loopback_run over in-process links on the fake or virtual clock:
 * a mem pair with a fault link that echoes (a jumper from TX to RX, DTR/RTS
 * mirrored back as DSR/CTS), the same with noise, sim: boards that echo,
 * stay silent or print text; and the stream comparator on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static sd_fake_clock fc;
static sd_mem a, b;
static sd_loopback_result res;
static sd_report rep;

/* The far end of the jumper: takes what we wrote out of the way, and
 * sends our DTR/RTS back (they arrive as DSR/CTS on a mem end). */
static int jumper_pump(void *ctx, sd_mem *end, sd_time until)
{
	(void)ctx;
	(void)until;
	sd_mem *far = end->peer;
	if (!far)
		return SD_OK;
	sd_link_flush(&far->base, SD_FLUSH_IN);
	sd_link_set_lines(&far->base, SD_LINE_DTR | SD_LINE_RTS, far->lines_in);
	return SD_OK;
}

static sd_link *jumper(double ber, double drop, uint32_t seed)
{
	sd_fake_clock_init(&fc, 1000);
	sd_mem_pair(&a, &b, &fc.base);
	sd_mem_set_pump(&a, jumper_pump, NULL);
	sd_fault_cfg cfg = { .echo = 1, .ber = ber, .drop = drop, .seed = seed };
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_fault(&a.base, &cfg, &l), SD_OK);
	sd_line_cfg c = SD_LINE_CFG_8N1(115200);
	assert_int_equal(sd_link_set_cfg(l, &c), SD_OK);
	return l;
}

static sd_link *sim(const char *target)
{
	sd_link *l = NULL;
	char why[200] = "";
	int r = sd_link_open(target, NULL, &l, why, sizeof why);
	if (r)
		fail_msg("%s: %s", target, why);
	return l;
}

static size_t count_status(sd_loopback_status s)
{
	size_t n = 0;
	for (size_t i = 0; i < res.npasses; i++)
		n += res.pass[i].status == s;
	return n;
}

static void clean_jumper_is_good_at_every_rate_and_parity(void **state)
{
	(void)state;
	sd_link *l = jumper(0, 0, 1);
	sd_report_init(&rep, "loopback", "jumper");
	assert_int_equal(sd_loopback_run(l, NULL, &res, &rep), SD_OK);
	assert_true(rep.ok);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_OK);
	assert_string_equal(rep.by.mode, "echo");
	assert_true(res.parity);
	assert_int_equal(res.nrefused, 0);
	assert_int_equal(res.npasses, 13 * 3);
	assert_int_equal(count_status(SD_LOOPBACK_GOOD), 13 * 3);
	assert_int_equal(res.bit_errors, 0);
	assert_int_equal(res.lost + res.extra + res.corrupted, 0);
	assert_true(res.sent >= 13 * 3 * SD_LOOPBACK_MIN_BYTES);
	assert_int_equal(res.matched, res.sent);
	/* the parity really changed between passes */
	assert_int_equal(res.pass[1].cfg.parity, SD_PARITY_EVEN);
	assert_int_equal(res.pass[2].cfg.parity, SD_PARITY_ODD);
	/* DTR came back on DSR and RTS on CTS; nothing drives DCD */
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_TESTED);
	assert_int_equal(res.lines_loop, SD_LOOPBACK_DTR_DSR | SD_LOOPBACK_RTS_CTS);
	/* the run kept to its budget, on the fake clock */
	assert_true(res.elapsed <= SD_LOOPBACK_BUDGET);
	/* the line settings are put back */
	assert_int_equal(l->cfg.baud, 115200);
	assert_int_equal(l->cfg.parity, SD_PARITY_NONE);
	assert_non_null(sd_report_fact_get(&rep, "modem_lines"));
	sd_link_close(l);
}

static void noisy_jumper_counts_errors_near_the_injected_ber(void **state)
{
	(void)state;
	sd_link *l = jumper(1e-3, 0, 7);
	static const uint32_t rates[] = { 115200 };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .bytes = 65536, .budget = SD_S(60) };
	sd_report_init(&rep, "loopback", "jumper");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_PROTO);
	assert_false(rep.ok);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_NOISE);
	assert_int_equal(count_status(SD_LOOPBACK_ERRORS), res.npasses);
	assert_int_equal(res.sent, 3 * 65536); /* none, even, odd */
	/* 3 x 65536 x 8 bits at 1e-3: about 1573, sigma about 40 */
	assert_true(res.ber > 0.85e-3 && res.ber < 1.15e-3);
	assert_int_equal(res.lost, 0);
	assert_int_equal(res.extra, 0);
	assert_non_null(strstr(rep.diag.f[0].summary, "bit errors at every rate"));
	assert_non_null(strstr(rep.diag.f[0].fix, "cable or adapter bad"));
	sd_link_close(l);
}

static void sim_echo_board_is_a_good_loop_at_its_rate(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=echo");
	static const uint32_t rates[] = { 115200 };
	static const uint8_t none[] = { SD_PARITY_NONE };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .parities = none, .nparities = 1,
			       .bytes = 4096 };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_OK);
	assert_int_equal(res.npasses, 1);
	assert_int_equal(res.pass[0].status, SD_LOOPBACK_GOOD);
	assert_int_equal(res.pass[0].sent, 4096);
	assert_int_equal(res.pass[0].matched, 4096);
	assert_true(res.pass[0].rtt_samples >= 4096 / 128);
	assert_true(res.rtt_median >= 0);
	sd_link_close(l);
}

static void a_device_echoing_at_one_rate_is_not_a_jumper(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=echo"); /* echoes at its 115200 only */
	static const uint32_t rates[] = { 19200, 57600, 115200, 460800 };
	sd_loopback_opts o = { .rates = rates, .nrates = 4 };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_PROTO);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_ECHO);
	assert_non_null(strstr(rep.diag.f[0].summary, "only at 115200 baud"));
	assert_non_null(strstr(rep.diag.f[0].fix, "put a jumper from TX to RX"));
	assert_string_equal(rep.by.mode, "echo");
	assert_int_equal(res.pass[6].cfg.baud, 115200);
	assert_int_equal(res.pass[6].status, SD_LOOPBACK_GOOD);
	assert_true(count_status(SD_LOOPBACK_FOREIGN) >= 3);
	/* a device: its DTR/RTS (a reset) are left alone */
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_SKIPPED);
	const sd_simlog *log = &sd_sim_device_of(l)->log;
	for (size_t i = 0; i < log->n; i++)
		assert_null(strstr(log->e[i].name, "reset"));
	sd_link_close(l);
}

static void sim_echo_with_noise_counts_errors_within_tolerance(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=echo&noise=1e-3&seed=7");
	static const uint32_t rates[] = { 115200 };
	static const uint8_t none[] = { SD_PARITY_NONE };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .parities = none, .nparities = 1,
			       .bytes = 65536, .budget = SD_S(60) };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_PROTO);
	assert_int_equal(res.pass[0].status, SD_LOOPBACK_ERRORS);
	/* 65536 x 8 bits at 1e-3: about 524, sigma about 23 */
	assert_true(res.pass[0].bit_errors > 440 && res.pass[0].bit_errors < 610);
	assert_int_equal(res.pass[0].lost, 0);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_NOISE);
	sd_link_close(l);
}

static void lost_bytes_resync_instead_of_counting_every_later_byte(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=echo&drop=0.01&seed=3");
	static const uint32_t rates[] = { 115200 };
	static const uint8_t none[] = { SD_PARITY_NONE };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .parities = none, .nparities = 1,
			       .bytes = 16384, .budget = SD_S(60) };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_PROTO);
	const sd_loopback_pass *p = &res.pass[0];
	assert_int_equal(p->status, SD_LOOPBACK_PARTIAL);
	/* about 164 lost; the rest is not counted wrong (two losses a byte
	 * apart may read as a loss and a changed byte: a handful at most) */
	assert_true(p->lost > 110 && p->lost < 230);
	assert_true(p->corrupted <= 4);
	assert_int_equal(p->extra, 0);
	assert_int_equal(p->matched + p->lost + p->corrupted, p->sent);
	assert_true(p->matched >= p->sent - 240);
	assert_non_null(strstr(rep.diag.f[0].summary, "partial echo"));
	sd_link_close(l);
}

static void silent_board_is_not_looped(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=silent");
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, NULL, &res, &rep), SD_ERR_PROTO);
	assert_false(rep.ok);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_SILENT);
	assert_non_null(strstr(rep.diag.f[0].summary, "TX is not looped to RX"));
	assert_non_null(strstr(rep.diag.f[0].fix, "put a jumper from TX to RX"));
	assert_non_null(strstr(rep.diag.f[0].fix, "shakedown probe"));
	/* two silent passes are enough; the rest is not spent */
	assert_int_equal(count_status(SD_LOOPBACK_NONE), 2);
	assert_int_equal(count_status(SD_LOOPBACK_UNTESTED), res.npasses - 2);
	/* no loop: the lines of a board that may be attached are left alone */
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_SKIPPED);
	assert_int_equal(sd_sim_device_of(l)->log.total, 2); /* two first bytes, no resets */
	sd_link_close(l);
}

static void a_board_printing_text_is_not_ours(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?period_ms=5");
	static const uint32_t rates[] = { 115200 };
	sd_loopback_opts o = { .rates = rates, .nrates = 1 };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_PROTO);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_APP_RUNNING);
	assert_non_null(strstr(rep.diag.f[0].summary, "not ours"));
	assert_non_null(strstr(rep.diag.f[0].fix, "shakedown probe"));
	assert_true(count_status(SD_LOOPBACK_FOREIGN) >= 1);
	assert_true(rep.diag.f[0].rcvd_len > 0);
	assert_memory_equal(rep.diag.f[0].rcvd, "hello", 5);
	assert_string_equal(rep.by.mode, "application");
	/* not a loop: DTR/RTS (a board's reset) are left alone */
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_SKIPPED);
	const sd_simlog *log = &sd_sim_device_of(l)->log;
	for (size_t i = 0; i < log->n; i++)
		assert_null(strstr(log->e[i].name, "reset"));
	sd_link_close(l);
}

static void a_link_without_rates_gets_one_pass_and_no_lines(void **state)
{
	(void)state;
	sd_fake_clock_init(&fc, 0);
	sd_link *l = NULL;
	assert_int_equal(sd_link_open_null(&fc.base, &l), SD_OK);
	sd_report_init(&rep, "loopback", "null:");
	assert_int_equal(sd_loopback_run(l, NULL, &res, &rep), SD_ERR_PROTO);
	assert_int_equal(res.npasses, 1);
	assert_false(res.varied_rate);
	assert_int_equal(res.pass[0].status, SD_LOOPBACK_NONE);
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_UNSUPPORTED);
	assert_string_equal(sd_report_fact_get(&rep, "modem_lines"),
			    "cannot test modem lines on this link (it has none: a pty, a network port)");
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_SILENT);
	sd_link_close(l);
}

static void no_lines_leaves_dtr_rts_alone(void **state)
{
	(void)state;
	sd_link *l = jumper(0, 0, 1);
	static const uint32_t rates[] = { 9600 };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .no_lines = 1 };
	sd_report_init(&rep, "loopback", "jumper");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_OK);
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_SKIPPED);
	assert_int_equal(res.lines_loop, 0);
	assert_int_equal(b.lines_in, 0); /* the far end never saw DTR or RTS */
	sd_link_close(l);
}

static void a_link_that_vanishes_is_reported_disconnected(void **state)
{
	(void)state;
	sd_link *l = sim("sim:app?mode=echo&disconnect_after=3000");
	static const uint32_t rates[] = { 115200 };
	sd_loopback_opts o = { .rates = rates, .nrates = 1, .bytes = 4096 };
	sd_report_init(&rep, "loopback", "sim");
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_CLOSED);
	assert_false(rep.ok);
	assert_int_equal(rep.diag.f[0].cause, SD_CAUSE_DISCONNECTED);
	assert_non_null(strstr(rep.diag.f[0].summary, "disconnected"));
	sd_link_close(l);
}

/* ---- a picky adapter: refuses some rates, drops parity like a pty ---- */

typedef struct picky { sd_link base; sd_link *in; } picky;
static sd_link *in_of(sd_link *l) { return ((picky *)(void *)l)->in; }
static int pk_read(sd_link *l, uint8_t *b_, size_t n, sd_deadline dl) { return sd_link_read(in_of(l), b_, n, dl); }
static int pk_write(sd_link *l, const uint8_t *b_, size_t n, sd_deadline dl) { return sd_link_write(in_of(l), b_, n, dl); }
static int pk_flush(sd_link *l, unsigned d) { return sd_link_flush(in_of(l), d); }
static int pk_cfg(sd_link *l, const sd_line_cfg *c)
{
	if (c->baud == 74880 || c->baud > 1000000)
		return SD_ERR_UNSUPPORTED;
	if (c->parity != SD_PARITY_NONE)
		l->caps &= ~SD_LINK_PARITY; /* took it, dropped it */
	return sd_link_set_cfg(in_of(l), c);
}
static void pk_close(sd_link *l) { sd_link_close(in_of(l)); }
static const sd_link_ops picky_ops = {
	.version = SD_LINK_OPS_V1, .name = "picky",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY,
	.read = pk_read, .write = pk_write, .flush = pk_flush, .set_cfg = pk_cfg, .close = pk_close,
};

static void rates_the_adapter_refuses_are_skipped_and_named(void **state)
{
	(void)state;
	static picky pk;
	sd_link *j = jumper(0, 0, 1);
	sd_link_init(&pk.base, &picky_ops, j->clock);
	pk.in = j;
	sd_report_init(&rep, "loopback", "picky");
	assert_int_equal(sd_loopback_run(&pk.base, NULL, &res, &rep), SD_OK);
	assert_int_equal(res.nrefused, 4);
	assert_int_equal(res.refused[0], 74880);
	assert_int_equal(res.refused[1], 1500000);
	assert_false(res.parity);
	assert_int_equal(res.npasses, 9);
	assert_int_equal(count_status(SD_LOOPBACK_GOOD), 9);
	for (size_t i = 0; i < res.npasses; i++)
		assert_int_equal(res.pass[i].cfg.parity, SD_PARITY_NONE);
	assert_int_equal(res.lines, SD_LOOPBACK_LINES_UNSUPPORTED);
	const char *d = rep.diag.f[0].detail;
	assert_non_null(strstr(d, "rates the adapter does not take: 74880, 1500000, 2000000, 3000000"));
	assert_non_null(strstr(d, "no parity"));
	sd_link_close(&pk.base);
}

static void a_short_budget_is_kept_and_the_rest_not_tested(void **state)
{
	(void)state;
	sd_link *l = jumper(0, 0, 1);
	sd_loopback_opts o = { .budget = SD_MS(800) };
	sd_report_init(&rep, "loopback", "jumper");
	sd_time t0 = sd_now(l->clock);
	sd_loopback_run(l, &o, &res, &rep);
	assert_true(sd_now(l->clock) - t0 <= SD_MS(800));
	assert_true(count_status(SD_LOOPBACK_UNTESTED) > 0);
	assert_true(count_status(SD_LOOPBACK_GOOD) > 0);
	assert_non_null(strstr(rep.diag.f[0].detail, "not tested"));
	sd_link_close(l);
}

/* ---- the comparator ---- */

static uint8_t tx[600], rx[700];

static void fill(void)
{
	uint32_t s = 12345;
	for (size_t i = 0; i < sizeof tx; i++) {
		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		tx[i] = (uint8_t)s;
	}
}

static void compare_identical_lost_extra_and_flipped(void **state)
{
	(void)state;
	sd_loopback_pass p;
	fill();
	memset(&p, 0, sizeof p);
	sd_loopback_compare(tx, 600, tx, 600, &p);
	assert_int_equal(p.matched, 600);
	assert_int_equal(p.corrupted + p.lost + p.extra, 0);

	/* byte 100 lost, and bytes 300..302 */
	size_t n = 0;
	for (size_t i = 0; i < 600; i++)
		if (i != 100 && (i < 300 || i > 302))
			rx[n++] = tx[i];
	sd_loopback_compare(tx, 600, rx, n, &p);
	assert_int_equal(p.lost, 4);
	assert_int_equal(p.matched, 596);
	assert_int_equal(p.corrupted, 0);
	assert_int_equal(p.extra, 0);

	/* an extra byte at 50, one bit flipped at 200, two at 400 */
	n = 0;
	for (size_t i = 0; i < 600; i++) {
		if (i == 50)
			rx[n++] = 0x55;
		rx[n++] = tx[i] ^ (i == 200 ? 0x10 : i == 400 ? 0x81 : 0);
	}
	sd_loopback_compare(tx, 600, rx, n, &p);
	assert_int_equal(p.extra, 1);
	assert_int_equal(p.corrupted, 2);
	assert_int_equal(p.bit_errors, 3);
	assert_int_equal(p.matched, 598);
	assert_true(p.ber > 0.0);

	/* the last byte wrong, and the stream cut short */
	memcpy(rx, tx, 600);
	rx[599] ^= 0x01;
	sd_loopback_compare(tx, 600, rx, 600, &p);
	assert_int_equal(p.corrupted, 1);
	assert_int_equal(p.bit_errors, 1);
	sd_loopback_compare(tx, 600, rx, 10, &p);
	assert_int_equal(p.matched, 10);
	assert_int_equal(p.lost, 590);
	sd_loopback_compare(tx, 600, NULL, 0, &p);
	assert_int_equal(p.lost, 600);
	assert_int_equal(p.received, 0);
}

static void compare_foreign_bytes_match_little(void **state)
{
	(void)state;
	sd_loopback_pass p;
	fill();
	memset(&p, 0, sizeof p);
	for (size_t i = 0; i < 700; i++)
		rx[i] = (uint8_t)"hello world\r\n"[i % 13];
	sd_loopback_compare(tx, 600, rx, 700, &p);
	assert_true(p.matched * 4 < 700);
	assert_int_equal(p.sent, 600);
	assert_int_equal(p.received, 700);
	assert_int_equal(p.matched + p.corrupted + p.lost, 600);
	assert_int_equal(p.matched + p.corrupted + p.extra, 700);
}

static void bad_options_and_lists(void **state)
{
	(void)state;
	uint32_t rates[4];
	uint8_t pars[5];
	char why[120];
	assert_int_equal(sd_loopback_parse_rates("9600,115200", rates, 4, why, sizeof why), 2);
	assert_int_equal(rates[1], 115200);
	assert_int_equal(sd_loopback_parse_rates("9600,,115200", rates, 4, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_loopback_parse_rates("fast", rates, 4, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "fast"));
	assert_int_equal(sd_loopback_parse_rates("1,2,3,4,5", rates, 4, why, sizeof why), SD_ERR_ARG);
	assert_int_equal(sd_loopback_parse_parities("none,e,odd", pars, 5, why, sizeof why), 3);
	assert_int_equal(pars[1], SD_PARITY_EVEN);
	assert_int_equal(sd_loopback_parse_parities("evens", pars, 5, why, sizeof why), SD_ERR_ARG);
	assert_non_null(strstr(why, "evens"));

	sd_link *l = jumper(0, 0, 1);
	sd_report_init(&rep, "loopback", "jumper");
	sd_loopback_opts o = { .bytes = SD_LOOPBACK_MAX_BYTES + 1 };
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_ARG);
	o = (sd_loopback_opts){ .rates = NULL, .nrates = 3 };
	assert_int_equal(sd_loopback_run(l, &o, &res, &rep), SD_ERR_ARG);
	assert_int_equal(sd_loopback_run(NULL, NULL, &res, &rep), SD_ERR_ARG);
	assert_int_equal(rep.diag.n, 0);
	assert_string_equal(sd_loopback_status_name(SD_LOOPBACK_FOREIGN), "foreign");
	sd_link_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_jumper_is_good_at_every_rate_and_parity),
		cmocka_unit_test(noisy_jumper_counts_errors_near_the_injected_ber),
		cmocka_unit_test(sim_echo_board_is_a_good_loop_at_its_rate),
		cmocka_unit_test(a_device_echoing_at_one_rate_is_not_a_jumper),
		cmocka_unit_test(sim_echo_with_noise_counts_errors_within_tolerance),
		cmocka_unit_test(lost_bytes_resync_instead_of_counting_every_later_byte),
		cmocka_unit_test(silent_board_is_not_looped),
		cmocka_unit_test(a_board_printing_text_is_not_ours),
		cmocka_unit_test(a_link_without_rates_gets_one_pass_and_no_lines),
		cmocka_unit_test(no_lines_leaves_dtr_rts_alone),
		cmocka_unit_test(a_link_that_vanishes_is_reported_disconnected),
		cmocka_unit_test(rates_the_adapter_refuses_are_skipped_and_named),
		cmocka_unit_test(a_short_budget_is_kept_and_the_rest_not_tested),
		cmocka_unit_test(compare_identical_lost_extra_and_flipped),
		cmocka_unit_test(compare_foreign_bytes_match_little),
		cmocka_unit_test(bad_options_and_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
