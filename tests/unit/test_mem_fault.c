/* The mem pair on a fake clock, and the fault link around it: deadlines
 * are met exactly on the fake clock, faults are reproducible by seed, and
 * a 1 MiB garbage flood before the expected bytes is survived within a
 * budget and reported when over it. */
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

static int setup(void **state)
{
	(void)state;
	sd_fake_clock_init(&fc, 1000);
	sd_mem_pair(&a, &b, &fc.base);
	return 0;
}

static void mem_moves_bytes_and_meets_deadlines_on_the_fake_clock(void **state)
{
	(void)state;
	uint8_t buf[16];
	assert_int_equal(sd_link_write(&a.base, (const uint8_t *)"ping", 4, SD_FOREVER), 4);
	assert_int_equal(sd_mem_pending(&b), 4);
	assert_int_equal(sd_link_read(&b.base, buf, sizeof buf, SD_FOREVER), 4);
	assert_memory_equal(buf, "ping", 4);
	/* nothing to read: the clock jumps exactly to the deadline */
	assert_int_equal(sd_link_read(&b.base, buf, sizeof buf, 1000 + SD_MS(250)), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(&fc.base), 1000 + SD_MS(250));
	/* no deadline and nothing to come: no hang */
	assert_int_equal(sd_link_read(&b.base, buf, sizeof buf, SD_FOREVER), SD_ERR_TIMEOUT);
}

static void mem_fills_up_and_carries_lines_and_settings(void **state)
{
	(void)state;
	static uint8_t big[SD_MEM_RING + 100];
	memset(big, 0x55, sizeof big);
	assert_int_equal(sd_link_write(&a.base, big, sizeof big, SD_FOREVER), SD_MEM_RING);
	assert_int_equal(sd_link_write(&a.base, big, 1, 5000), SD_ERR_TIMEOUT);
	assert_int_equal(sd_now(&fc.base), 5000);

	assert_int_equal(sd_link_set_lines(&a.base, SD_LINE_DTR | SD_LINE_RTS, SD_LINE_RTS), SD_OK);
	sd_line_cfg cfg = SD_LINE_CFG_8E1(57600);
	assert_int_equal(sd_link_set_cfg(&a.base, &cfg), SD_OK);
	unsigned ev = sd_mem_events(&b);
	assert_true(ev & SD_MEM_EV_LINES);
	assert_true(ev & SD_MEM_EV_CFG);
	assert_int_equal(b.lines_in, SD_LINE_RTS);
	assert_int_equal(b.cfg_in.parity, SD_PARITY_EVEN);
	assert_int_equal(sd_mem_events(&b), 0);
	unsigned lv;
	assert_int_equal(sd_link_get_lines(&b.base, &lv), SD_OK);
	assert_int_equal(lv, SD_LINE_CTS); /* the peer's RTS is our CTS */
}

static int pumped;
static sd_time pumped_until;
static int pump(void *ctx, sd_mem *end, sd_time until)
{
	(void)ctx;
	pumped++;
	pumped_until = until;
	/* the "device" answers only when asked to run up to 2 s */
	if (until >= 1000 + SD_S(2))
		return sd_link_write(&end->peer->base, (const uint8_t *)"ok", 2, until) < 0 ? SD_ERR_IO : SD_OK;
	return SD_OK;
}

static void mem_pump_runs_the_peer_until_the_deadline(void **state)
{
	(void)state;
	uint8_t buf[8];
	sd_mem_set_pump(&a, pump, NULL);
	pumped = 0;
	assert_int_equal(sd_link_read(&a.base, buf, sizeof buf, 1000 + SD_S(1)), SD_ERR_TIMEOUT);
	assert_int_equal(pumped, 1);
	assert_int_equal(pumped_until, 1000 + SD_S(1));
	assert_int_equal(sd_link_read(&a.base, buf, sizeof buf, 1000 + SD_S(2)), 2);
	assert_memory_equal(buf, "ok", 2);
}

static void closed_peer_gives_buffered_bytes_then_disconnected(void **state)
{
	(void)state;
	uint8_t buf[8];
	sd_link_write(&b.base, (const uint8_t *)"xy", 2, SD_FOREVER);
	sd_link_close(&b.base);
	assert_int_equal(sd_link_read(&a.base, buf, sizeof buf, SD_FOREVER), 2);
	assert_int_equal(sd_link_read(&a.base, buf, sizeof buf, SD_FOREVER), SD_ERR_CLOSED);
	assert_string_equal(sd_strerror(SD_ERR_CLOSED), "device disconnected");
	assert_int_equal(sd_link_write(&a.base, buf, 1, SD_FOREVER), SD_ERR_CLOSED);
}

/* ---- fault ---- */

static sd_link *wrap(const sd_fault_cfg *cfg)
{
	sd_link *f = NULL;
	assert_int_equal(sd_link_open_fault(&a.base, cfg, &f), SD_OK);
	return f;
}

static void fault_zero_is_transparent_and_echo_loops_back(void **state)
{
	(void)state;
	sd_fault_cfg cfg = { .seed = 1 };
	sd_link *f = wrap(&cfg);
	uint8_t buf[8];
	sd_link_write(&b.base, (const uint8_t *)"abc", 3, SD_FOREVER);
	assert_int_equal(sd_link_read(f, buf, sizeof buf, SD_FOREVER), 3);
	assert_memory_equal(buf, "abc", 3);
	sd_link_close(f);

	setup(NULL);
	cfg.echo = 1;
	f = wrap(&cfg);
	assert_int_equal(sd_link_write(f, (const uint8_t *)"\x30\x20", 2, SD_FOREVER), 2);
	assert_int_equal(sd_link_read(f, buf, sizeof buf, SD_FOREVER), 2);
	assert_memory_equal(buf, "\x30\x20", 2);
	assert_int_equal(sd_mem_pending(&b), 2); /* and it still reached the device */
	sd_link_close(f);
}

static size_t bit_errors(uint32_t seed, double ber, size_t n)
{
	setup(NULL);
	sd_fault_cfg cfg = { .seed = seed, .ber = ber };
	sd_link *f = wrap(&cfg);
	uint8_t chunk[1024], got[1024];
	memset(chunk, 0xA5, sizeof chunk);
	size_t flips = 0;
	for (size_t done = 0; done < n; done += sizeof chunk) {
		sd_link_write(&b.base, chunk, sizeof chunk, SD_FOREVER);
		size_t have = 0;
		assert_int_equal(sd_link_read_exact(f, got, sizeof got, SD_FOREVER, &have), SD_OK);
		for (size_t i = 0; i < sizeof got; i++)
			flips += (size_t)__builtin_popcount((unsigned)(got[i] ^ 0xA5));
	}
	sd_link_close(f);
	return flips;
}

static void fault_ber_is_statistical_and_reproducible(void **state)
{
	(void)state;
	/* 1 MiB = 8,388,608 bits at 1e-3: mean 8389, sd ~92; allow 6 sd */
	size_t e1 = bit_errors(42, 1e-3, 1u << 20);
	assert_in_range(e1, 8389 - 560, 8389 + 560);
	assert_int_equal(bit_errors(42, 1e-3, 1u << 20), e1);
	assert_int_not_equal(bit_errors(43, 1e-3, 1u << 20), e1);
	assert_int_equal(bit_errors(42, 0.0, 1u << 16), 0);
}

static void fault_drops_duplicates_and_disconnects(void **state)
{
	(void)state;
	sd_fault_cfg cfg = { .seed = 7, .drop = 0.5 };
	sd_link *f = wrap(&cfg);
	static uint8_t src[4096], got[8192];
	memset(src, 'x', sizeof src);
	sd_link_write(&b.base, src, sizeof src, SD_FOREVER);
	size_t total = 0;
	int n;
	while ((n = sd_link_read(f, got, sizeof got, 2000000)) > 0)
		total += (size_t)n;
	assert_in_range(total, 2048 - 250, 2048 + 250);
	sd_link_close(f);

	setup(NULL);
	cfg = (sd_fault_cfg){ .seed = 7, .dup = 1.0 };
	f = wrap(&cfg);
	sd_link_write(&b.base, (const uint8_t *)"ab", 2, SD_FOREVER);
	assert_int_equal(sd_link_read(f, got, sizeof got, SD_FOREVER), 4);
	assert_memory_equal(got, "aabb", 4);
	sd_link_close(f);

	setup(NULL);
	cfg = (sd_fault_cfg){ .disconnect_after = 5 };
	f = wrap(&cfg);
	sd_link_write(&b.base, (const uint8_t *)"hello world", 11, SD_FOREVER);
	size_t have = 0;
	assert_int_equal(sd_link_read_exact(f, got, 11, SD_FOREVER, &have), SD_ERR_CLOSED);
	assert_int_equal(have, 5);
	assert_non_null(strstr(sd_link_why(f, SD_ERR_CLOSED), "after 5 bytes"));
	assert_int_equal(sd_link_write(f, got, 1, SD_FOREVER), SD_ERR_CLOSED); /* sticky */
	sd_link_close(f);
}

/* Latency is a delay line: each chunk arrives `delay` after it was read
 * from the device, in order, and the caller's deadline is kept; a device
 * that hangs sends nothing after hang_after bytes of the session (bytes
 * before our first write do not count). */
static void fault_delay_line_and_hang(void **state)
{
	(void)state;
	sd_fault_cfg cfg = { .delay = SD_MS(50) };
	sd_link *f = wrap(&cfg);
	uint8_t got[16];
	sd_time t0 = sd_now(&fc.base);
	sd_link_write(&b.base, (const uint8_t *)"ab", 2, SD_FOREVER);
	assert_int_equal(sd_link_read(f, got, sizeof got, t0 + SD_MS(10)), SD_ERR_TIMEOUT);
	assert_true(sd_now(&fc.base) == t0 + SD_MS(10)); /* the caller's deadline, not the line's */
	sd_link_write(&b.base, (const uint8_t *)"c", 1, SD_FOREVER);
	assert_int_equal(sd_link_read(f, got, sizeof got, t0 + SD_MS(200)), 2);
	assert_memory_equal(got, "ab", 2);
	assert_true(sd_now(&fc.base) == t0 + SD_MS(50));
	assert_int_equal(sd_link_read(f, got, sizeof got, t0 + SD_MS(200)), 1);
	assert_memory_equal(got, "c", 1);
	assert_true(sd_now(&fc.base) <= t0 + SD_MS(60));
	sd_link_close(f);

	setup(NULL);
	cfg = (sd_fault_cfg){ .hang_after = 3 };
	f = wrap(&cfg);
	sd_link_write(&b.base, (const uint8_t *)"boot", 4, SD_FOREVER);
	assert_int_equal(sd_link_read(f, got, sizeof got, SD_MS(1)), 4); /* before the session */
	assert_int_equal(sd_link_write(f, (const uint8_t *)"?", 1, SD_FOREVER), 1);
	sd_link_write(&b.base, (const uint8_t *)"hello", 5, SD_FOREVER);
	size_t have = 0;
	assert_int_equal(sd_link_read_exact(f, got, 5, sd_now(&fc.base) + SD_MS(100), &have), SD_ERR_TIMEOUT);
	assert_int_equal(have, 3);
	assert_memory_equal(got, "hel", 3);
	sd_link_write(&b.base, (const uint8_t *)"more", 4, SD_FOREVER);
	assert_int_equal(sd_link_read(f, got, sizeof got, sd_now(&fc.base) + SD_MS(100)), SD_ERR_TIMEOUT);
	sd_link_close(f);
}

static void fault_resamples_a_device_at_another_rate(void **state)
{
	(void)state;
	sd_fault_cfg cfg = { .device = SD_LINE_CFG_8N1(9600) };
	sd_link *f = wrap(&cfg);
	sd_line_cfg host = SD_LINE_CFG_8N1(115200);
	assert_int_equal(sd_link_set_cfg(f, &host), SD_OK);
	static const uint8_t text[] = "hello world\r\n";
	uint8_t want[128], got[128];
	sd_line_cfg dev = SD_LINE_CFG_8N1(9600);
	int nw = sd_uart_resample(&dev, &host, text, sizeof text - 1, 0, want, NULL, sizeof want);
	assert_true(nw > 0);
	sd_link_write(&b.base, text, sizeof text - 1, SD_FOREVER);
	size_t have = 0;
	assert_int_equal(sd_link_read_exact(f, got, (size_t)nw, SD_FOREVER, &have), SD_OK);
	assert_memory_equal(got, want, (size_t)nw);
	/* and at the device's own rate, the text itself */
	assert_int_equal(sd_link_set_cfg(f, &dev), SD_OK);
	sd_link_write(&b.base, text, sizeof text - 1, SD_FOREVER);
	assert_int_equal(sd_link_read_exact(f, got, sizeof text - 1, SD_FOREVER, &have), SD_OK);
	assert_memory_equal(got, text, sizeof text - 1);
	sd_link_close(f);
}

/* The acceptance case: 1 MiB of garbage before the expected pattern. The
 * flood is text (an application or boot log babbling): a random flood of
 * 1 MiB holds 14 10 about sixteen times by chance, and a resync would then
 * rightly stop at the first one. */
static int flood_then_expect(size_t budget, size_t *garbage, size_t *kept)
{
	setup(NULL);
	sd_fault_cfg cfg = { .seed = 99, .flood_before = 1u << 20, .flood_kind = SD_FLOOD_TEXT };
	sd_link *f = wrap(&cfg);
	static const uint8_t ack[] = { 0x14, 0x10 };
	sd_link_write(&b.base, ack, 2, SD_FOREVER);
	static const sd_pattern pats[] = { { ack, NULL, 2 } };
	static uint8_t keep[256];
	sd_expect x;
	sd_expect_init(&x, pats, 1, budget, keep, sizeof keep);
	uint8_t buf[4096];
	int r = 0;
	while (r == 0) {
		int n = sd_link_read(f, buf, sizeof buf, sd_deadline_in(&fc.base, SD_S(1)));
		if (n < 0) {
			r = n;
			break;
		}
		size_t used;
		r = sd_expect_feed(&x, buf, (size_t)n, &used);
	}
	*garbage = x.garbage;
	*kept = x.kept;
	sd_link_close(f);
	return r;
}

static void flood_of_1mib_is_survived_within_budget_and_reported_over_it(void **state)
{
	(void)state;
	size_t garbage, kept;
	assert_int_equal(flood_then_expect(2u << 20, &garbage, &kept), 1);
	/* every flood byte was skipped as garbage, and only those */
	assert_int_equal(garbage, 1u << 20);
	assert_int_equal(kept, 256);
	assert_int_equal(flood_then_expect(64u << 10, &garbage, &kept), SD_ERR_OVERFLOW);
	assert_true(garbage > (64u << 10));
	assert_true(garbage < (64u << 10) + 4096);
}

static void expect_resyncs_across_reads_with_masks(void **state)
{
	(void)state;
	static const uint8_t p1[] = { 0x79 }, p2[] = { 0x14, 0x10 }, p3[] = { 0xC0, 0x01, 0x08 };
	static const uint8_t m3[] = { 0xff, 0xff, 0x00 };
	static const sd_pattern pats[] = { { p2, NULL, 2 }, { p3, m3, 3 }, { p1, NULL, 1 } };
	sd_expect x;
	uint8_t keep[8];
	size_t used;
	sd_expect_init(&x, pats, 3, 100, keep, sizeof keep);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"hi\x14", 3, &used), 0);
	assert_int_equal(x.garbage, 2);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"\x10rest", 5, &used), 1);
	assert_int_equal(x.matched, 0);
	assert_int_equal(used, 1); /* "rest" is the caller's */
	sd_expect_init(&x, pats, 3, 100, keep, sizeof keep);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"\xC0\x01\x99", 3, &used), 1);
	assert_int_equal(x.matched, 1); /* the wildcard took 0x99 */
	/* earliest completion wins: 0x79 alone, before a longer candidate */
	sd_expect_init(&x, pats, 3, 100, keep, sizeof keep);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"\x14\x79", 2, &used), 1);
	assert_int_equal(x.matched, 2);
	assert_int_equal(x.garbage, 1);
	/* the budget edge: exactly the budget is fine, one more is not */
	sd_expect_init(&x, pats, 3, 3, NULL, 0);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"abc", 3, &used), 0);
	assert_int_equal(sd_expect_feed(&x, (const uint8_t *)"d", 1, &used), SD_ERR_OVERFLOW);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(mem_moves_bytes_and_meets_deadlines_on_the_fake_clock, setup),
		cmocka_unit_test_setup(mem_fills_up_and_carries_lines_and_settings, setup),
		cmocka_unit_test_setup(mem_pump_runs_the_peer_until_the_deadline, setup),
		cmocka_unit_test_setup(closed_peer_gives_buffered_bytes_then_disconnected, setup),
		cmocka_unit_test_setup(fault_zero_is_transparent_and_echo_loops_back, setup),
		cmocka_unit_test_setup(fault_ber_is_statistical_and_reproducible, setup),
		cmocka_unit_test_setup(fault_drops_duplicates_and_disconnects, setup),
		cmocka_unit_test_setup(fault_delay_line_and_hang, setup),
		cmocka_unit_test_setup(fault_resamples_a_device_at_another_rate, setup),
		cmocka_unit_test(flood_of_1mib_is_survived_within_budget_and_reported_over_it),
		cmocka_unit_test(expect_resyncs_across_reads_with_masks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
