/*
 * bench/mcu-size.sh's point of comparison: the client firmware authors
 * write by hand today, written here for the bench (not copied) after the
 * pattern of franck102/SerialUploader's Stk500Client.cpp (an Arduino sketch
 * that uploads to another board's optiboot; its getByte/readData/execute):
 * send a frame, wait for each byte with one timeout, compare, no resync
 * through junk, no confirmation of a value, no cause. -DHR_STM32: the same
 * for the STM32 loader (0x7F -> 0x79, then Get ID), as stm32flash's
 * serial exchange does it. It runs over the same UART link and tick as the
 * examples, so the subtraction of the same baseline measures the client.
 */
#include <stdint.h>
#include "shakedown/error.h"
#include "uart_link.h"

/* as large as the baseline's result record (ex_result_v), so the RAM
 * difference is the client's own */
#ifdef __AVR__
volatile uint8_t hr_result[11];
#else
volatile uint8_t hr_result[16];
#endif
static sd_link link;

/* One byte within ms milliseconds, or -1. */
static int get_byte(uint16_t ms)
{
	uint8_t b;
	sd_deadline dl = link.clock->now(link.clock) + SD_MS(ms);
	return link.ops->read(&link, &b, 1, dl) == 1 ? b : -1;
}

static void put(const uint8_t *b, uint8_t n)
{
	while (n) {
		int k = link.ops->write(&link, b, n, SD_FOREVER);
		if (k > 0) {
			b += k;
			n = (uint8_t)(n - k);
		}
	}
}

#ifdef HR_STM32
int main(void)
{
	static const uint8_t init[] = { 0x7f }, get_id[] = { 0x02, 0xfd };
	ex_uart_link_open(&link, 115200);
	ex_clock_restart();
	uint8_t ok = 0;
	for (uint8_t i = 0; i < 2 && !ok; i++) {
		put(init, 1);
		int b = get_byte(500);
		ok = b == 0x79 || b == 0x1f;
	}
	if (ok) {
		put(get_id, 2);
		if (get_byte(500) == 0x79 && get_byte(500) == 1) {
			hr_result[1] = (uint8_t)get_byte(500);
			hr_result[2] = (uint8_t)get_byte(500);
			ok = get_byte(500) == 0x79;
		}
	}
	hr_result[0] = ok ? 1 : 2;
	for (;;)
		;
}
#else
int main(void)
{
	static const uint8_t sync[] = { 0x30, 0x20 }, sign[] = { 0x75, 0x20 };
	ex_uart_link_open(&link, 115200);
	ex_clock_restart();
	link.ops->set_lines(&link, SD_LINE_DTR, SD_LINE_DTR); /* reset pulse */
	link.clock->sleep_until(link.clock, link.clock->now(link.clock) + SD_MS(1));
	link.ops->set_lines(&link, SD_LINE_DTR, 0);
	uint8_t ok = 0;
	for (uint8_t i = 0; i < 10 && !ok; i++) {
		put(sync, 2);
		ok = get_byte(50) == 0x14 && get_byte(50) == 0x10;
	}
	if (ok) {
		put(sign, 2);
		ok = get_byte(100) == 0x14;
		for (uint8_t i = 0; ok && i < 3; i++) {
			int b = get_byte(100);
			ok = b >= 0;
			hr_result[1 + i] = (uint8_t)b;
		}
		ok = ok && get_byte(100) == 0x10;
	}
	hr_result[0] = ok ? 1 : 2;
	for (;;)
		;
}
#endif
