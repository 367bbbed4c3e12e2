/*
 * examples/arduino: an ATmega328P (an Uno, a Nano) that syncs with another
 * board's bootloader over its UART and reads what it is, with the same
 * engine code the host's shakedown runs. Plain avr-libc, no Arduino IDE:
 *   bash scripts/mcu.sh        (or cmake --preset avr && cmake --build ...)
 *
 * Wiring: our TX (D1) to the other board's RX, our RX (D0) to its TX, GND
 * to GND, our D9 to its RESET (the link's DTR line: low = reset). Build
 * with -DEX_STM32 for an STM32's system-memory loader (8E1, BOOT0 held
 * high on that board) instead of optiboot.
 *
 * The outcome is left in `ex_result` (read by tests/peers/mcu_simavr.sh
 * from the simulated RAM) and shown on the LED (D13): on = confirmed, a
 * blink count = the sd_cause otherwise.
 */
#include <avr/io.h>
#include <avr/sleep.h>
#include "shakedown/client.h"
#include "shakedown/diag.h"
#include "shakedown/error.h"
#include "uart_link.h"

typedef struct ex_result {
	uint8_t done;    /* 1 when the run ended */
	int8_t  err;     /* sd_err */
	uint8_t cause;   /* sd_cause */
	uint8_t have;    /* SD_STK500_HAVE_* / SD_STM32_HAVE_* */
	uint8_t id[3];   /* STK500: signature; STM32: pid hi, lo, version */
	uint8_t ver[2];  /* STK500: major, minor */
	uint16_t ms;     /* how long it took */
} ex_result;

volatile ex_result ex_result_v;

static sd_link link;
#if defined(EX_BASELINE)
#elif defined(EX_STM32)
static sd_stm32_client client;
#else
static sd_stk500_client client;
#endif

static void led(uint8_t on)
{
	DDRB |= _BV(PB5);
	if (on)
		PORTB |= _BV(PB5);
	else
		PORTB &= (uint8_t)~_BV(PB5);
}

#ifdef EX_BASELINE
/* The same program without the engine: the UART link, the tick and the
 * LED alone, driven straight through the link's ops. scripts/mcu.sh
 * subtracts its size from the full program's to measure the engine
 * layer (core + client) in the linked image. */
int main(void)
{
	ex_uart_link_open(&link, 115200);
	for (;;) {
		uint8_t b;
		sd_deadline dl = link.clock->now(link.clock) + SD_MS(100);
		if (link.ops->read(&link, &b, 1, dl) == 1)
			link.ops->write(&link, &b, 1, dl);
		else
			link.ops->set_lines(&link, SD_LINE_DTR, 0);
		link.ops->flush(&link, SD_FLUSH_IN);
		link.clock->sleep_until(link.clock, dl);
		ex_clock_restart();
		led(b & 1);
		ex_result_v.done = b;
	}
}
#else
int main(void)
{
	uint32_t t0;
#ifdef EX_STM32
	ex_uart_link_open(&link, 115200);
	sd_stm32_cfg cfg = { 115200, 1, 0 };
	sd_stm32_client_init(&client, &cfg);
#else
	ex_uart_link_open(&link, 115200);
	sd_stk500_cfg cfg = { 115200, SD_LINE_DTR, 1, 0 };
	sd_stk500_client_init(&client, &cfg);
#endif
	t0 = ex_millis();
	ex_clock_restart();
	int r = sd_run(&client.eng, &link, sd_deadline_in(link.clock, SD_S(5)));
	ex_result_v.ms = (uint16_t)(ex_millis() - t0);
	ex_result_v.err = (int8_t)r;
	ex_result_v.cause = client.cause;
	ex_result_v.have = client.have;
#ifdef EX_STM32
	ex_result_v.id[0] = (uint8_t)(client.pid >> 8);
	ex_result_v.id[1] = (uint8_t)client.pid;
	ex_result_v.id[2] = client.version;
#else
	for (uint8_t i = 0; i < 3; i++)
		ex_result_v.id[i] = client.sig[i];
	ex_result_v.ver[0] = client.major;
	ex_result_v.ver[1] = client.minor;
#endif
	ex_result_v.done = 1;
	if (r == SD_OK) {
		led(1);
		for (;;)
			sleep_mode();
	}
	for (;;) { /* blink the cause */
		for (uint8_t i = 0; i < client.cause; i++) {
			led(1);
			uint32_t t = ex_millis();
			while (ex_millis() - t < 200)
				;
			led(0);
			t = ex_millis();
			while (ex_millis() - t < 200)
				;
		}
		uint32_t t = ex_millis();
		while (ex_millis() - t < 1500)
			;
	}
}
#endif /* EX_BASELINE */
