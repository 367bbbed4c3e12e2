/*
 * The bit-level UART model against frames computed by hand.
 *
 * Notation: a frame is start(0), data LSB first, [parity], stop(1). With
 * g = gcd(tx, rx), a transmitter bit lasts T = 2*rx/g units and the receiver
 * samples bit j of a frame starting at edge e at e + (2j+1)*tx/g.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "shakedown/shakedown.h"

static int rs(uint32_t txb, const char *txf, uint32_t rxb, const char *rxf,
	      const uint8_t *in, size_t n, uint8_t *out, uint8_t *fl, size_t max)
{
	/* "8N1" style frames */
	sd_line_cfg tx = { txb, (uint8_t)(txf[0] - '0'), 0, (uint8_t)(txf[2] - '0'), 0 };
	sd_line_cfg rx = { rxb, (uint8_t)(rxf[0] - '0'), 0, (uint8_t)(rxf[2] - '0'), 0 };
	const char *p = "NOEMS";
	tx.parity = (uint8_t)(strchr(p, txf[1]) - p);
	rx.parity = (uint8_t)(strchr(p, rxf[1]) - p);
	return sd_uart_resample(&tx, &rx, in, n, 0, out, fl, max);
}

static void same_rate_is_identity(void **state)
{
	(void)state;
	uint8_t in[256], out[300], fl[300];
	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	assert_int_equal(rs(115200, "8N1", 115200, "8N1", in, 256, out, fl, sizeof out), 256);
	assert_memory_equal(out, in, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(fl[i], 0);
	assert_int_equal(rs(9600, "8E1", 9600, "8E1", in, 256, out, fl, sizeof out), 256);
	assert_memory_equal(out, in, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal(fl[i], 0);
}

/* 0x68 at 9600 read at 115200: g = 9600, T = 24 units, half a receiver bit
 * = 1 unit, a whole receiver frame (start..stop sample) spans 19 units.
 * 0x68 LSB first = 0 0 0 1 0 1 1 0. Sender bits (units):
 *   start [0,24) b0 b1 b2 = 0 [24,96) b3 = 1 [96,120) b4 = 0 [120,144)
 *   b5 b6 = 1 [144,192) b7 = 0 [192,216) stop = 1 [216,240)
 * Falling edges at 0, 120, 192. Each frame's samples (e+1 .. e+19) all fall
 * inside one low bit: three frames of 0x00, each with a 0 stop bit (FE). */
static void h_at_9600_read_at_115200(void **state)
{
	(void)state;
	uint8_t out[8], fl[8];
	static const uint8_t h = 0x68;
	assert_int_equal(rs(9600, "8N1", 115200, "8N1", &h, 1, out, fl, sizeof out), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(out[i], 0x00);
		assert_int_equal(fl[i], SD_UART_FE);
	}
}

/* 0x55 (01010101: bits LSB first 1 0 1 0 1 0 1 0) at 4800 read at 9600:
 * g = 4800, T = 4 units, receiver samples at e + 1, 3, 5, ... (half = 1).
 * Sender: start [0,4) b0=1 [4,8) b1=0 [8,12) b2=1 [12,16) b3=0 [16,20)
 *   b4=1 [20,24) b5=0 [24,28) b6=1 [28,32) b7=0 [32,36) stop [36,40).
 * Edge at 0: samples at 1 (start 0), data at 3,5,7,9,11,13,15,17 read
 * 0,1,1,0,0,1,1,0 -> LSB first = 0x66; stop sample at 19 reads b3 = 0: FE.
 * Next edge strictly after 19: b4=1 -> b5=0 at 24: samples 25 (0), data at
 * 27,29,31,33,35,37,39,41 -> 0,1,1,0,0,1,1,1 (stop, then idle) = 0xE6; stop
 * at 43 = idle 1: no error. */
static void u_at_4800_read_at_9600(void **state)
{
	(void)state;
	uint8_t out[8], fl[8];
	static const uint8_t u = 0x55;
	assert_int_equal(rs(4800, "8N1", 9600, "8N1", &u, 1, out, fl, sizeof out), 2);
	assert_int_equal(out[0], 0x66);
	assert_int_equal(fl[0], SD_UART_FE);
	assert_int_equal(out[1], 0xE6);
	assert_int_equal(fl[1], 0);
}

/* A fast sender read slowly: 115200 read at 9600, g = 9600, T = 2 units,
 * half a receiver bit = 12 units, and the whole sent frame lasts 20 units.
 * 'A' 0x41 (LSB first 1 0 0 0 0 0 1 0): edge at 0, start sample at 12 =
 * sender bit 6 = data bit 5 = 0, a valid start; every later sample (36, 60,
 * ...) reads the idle line: 0xFF, stop at 228 idle: no error.
 * ' ' 0x20 (0 0 0 0 0 1 0 0): the sample at 12 reads data bit 5 = 1, so the
 * start bit was a glitch; the next edge (bit 6, at 14) samples at 26, on the
 * idle line: another glitch. Nothing at all. */
static void fast_sender_is_a_glitch(void **state)
{
	(void)state;
	uint8_t out[8], fl[8];
	static const uint8_t a = 0x41, sp = 0x20;
	assert_int_equal(rs(115200, "8N1", 9600, "8N1", &a, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0xFF);
	assert_int_equal(fl[0], 0);
	assert_int_equal(rs(115200, "8N1", 9600, "8N1", &sp, 1, out, fl, sizeof out), 0);
}

/* 0x00 twice at 115200, read at 57600: g = 57600, T = 2 units, half = 2.
 * Sender bits 0-8 low [0,18), stop [18,20), frame 2 low [20,38), stop
 * [38,40). Edge at 0; samples at 2 (start), data i at 6, 10, 14, 18, 22,
 * 26, 30, 34: unit 18 is the first stop bit (1), so data bit 3 = 1 and the
 * rest 0: 0x08; the stop sample at 38 hits the second stop bit: no error.
 * Two bytes sent, one received. */
static void two_zeros_at_double_speed(void **state)
{
	(void)state;
	uint8_t out[8], fl[8];
	static const uint8_t z[2] = { 0, 0 };
	assert_int_equal(rs(115200, "8N1", 57600, "8N1", z, 2, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0x08);
	assert_int_equal(fl[0], 0);
}

/* Parity: 0x01 sent 8E1 (one 1 bit: parity bit 1) read as 8O1 wants the
 * parity bit 0: a parity error, same data. */
static void even_read_as_odd_is_a_parity_error(void **state)
{
	(void)state;
	uint8_t out[4], fl[4];
	static const uint8_t b = 0x01;
	assert_int_equal(rs(9600, "8E1", 9600, "8O1", &b, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(fl[0], SD_UART_PE);
	static const uint8_t c = 0x03; /* two 1 bits: even parity bit 0, odd wants 1 */
	assert_int_equal(rs(9600, "8E1", 9600, "8O1", &c, 1, out, fl, sizeof out), 1);
	assert_int_equal(fl[0], SD_UART_PE);
	assert_int_equal(rs(9600, "8O1", 9600, "8O1", &c, 1, out, fl, sizeof out), 1);
	assert_int_equal(fl[0], 0);
}

/* 8E1 sent, 8N1 read (an adapter or driver that drops parity): the parity
 * bit lands where the receiver wants its stop bit. 0x01 has parity bit 1:
 * fine. 0x03 has parity bit 0: a framing error — the trap of STM32's 8E1
 * on a port that cannot carry parity. */
static void parity_bit_in_the_stop_position(void **state)
{
	(void)state;
	uint8_t out[4], fl[4];
	static const uint8_t b = 0x01, c = 0x03;
	assert_int_equal(rs(57600, "8E1", 57600, "8N1", &b, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0x01);
	assert_int_equal(fl[0], 0);
	assert_int_equal(rs(57600, "8E1", 57600, "8N1", &c, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0x03);
	assert_int_equal(fl[0], SD_UART_FE);
	/* the STM32 ACK 0x79 (five 1 bits: even parity bit 1) survives */
	static const uint8_t ack = 0x79;
	assert_int_equal(rs(57600, "8E1", 57600, "8N1", &ack, 1, out, fl, sizeof out), 1);
	assert_int_equal(fl[0], 0);
}

/* 7 data bits sent, 8 read: bit 7 is sampled on the stop bit (1). */
static void seven_bits_read_as_eight(void **state)
{
	(void)state;
	uint8_t out[4], fl[4];
	static const uint8_t b = 0x41;
	assert_int_equal(rs(9600, "7N1", 9600, "8N1", &b, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0xC1);
	assert_int_equal(fl[0], 0); /* the stop sample falls on idle */
}

/* A break (0x00 at a rate far slower) is one frame, then nothing until the
 * line rises and falls again. */
static void held_low_line_is_one_frame(void **state)
{
	(void)state;
	uint8_t out[8], fl[8];
	static const uint8_t z = 0x00;
	assert_int_equal(rs(300, "8N1", 115200, "8N1", &z, 1, out, fl, sizeof out), 1);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(fl[0], SD_UART_FE);
}

static void bad_formats_and_the_cut(void **state)
{
	(void)state;
	uint8_t out[2];
	sd_line_cfg ok = SD_LINE_CFG_8N1(9600), bad = ok;
	static const uint8_t b[4] = { 1, 2, 3, 4 };
	bad.baud = 0;
	assert_int_equal(sd_uart_resample(&bad, &ok, b, 1, 0, out, NULL, 2), SD_ERR_ARG);
	bad = ok;
	bad.data_bits = 9;
	assert_int_equal(sd_uart_resample(&ok, &bad, b, 1, 0, out, NULL, 2), SD_ERR_ARG);
	bad = ok;
	bad.stop_bits = 3;
	assert_int_equal(sd_uart_resample(&bad, &ok, b, 1, 0, out, NULL, 2), SD_ERR_ARG);
	/* more output than room: the count says so, the buffer holds the start */
	assert_int_equal(sd_uart_resample(&ok, &ok, b, 4, 0, out, NULL, 2), 4);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	const uint32_t *rates;
	size_t nr = sd_uart_common_rates(&rates);
	assert_true(nr > 20);
	for (size_t i = 1; i < nr; i++)
		assert_true(rates[i] > rates[i - 1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_rate_is_identity),
		cmocka_unit_test(h_at_9600_read_at_115200),
		cmocka_unit_test(u_at_4800_read_at_9600),
		cmocka_unit_test(fast_sender_is_a_glitch),
		cmocka_unit_test(two_zeros_at_double_speed),
		cmocka_unit_test(even_read_as_odd_is_a_parity_error),
		cmocka_unit_test(parity_bit_in_the_stop_position),
		cmocka_unit_test(seven_bits_read_as_eight),
		cmocka_unit_test(held_low_line_is_one_frame),
		cmocka_unit_test(bad_formats_and_the_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
