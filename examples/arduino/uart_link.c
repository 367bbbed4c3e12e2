/*
 * The link of uart_link.h: USART0 with two rings, Timer0 at 1 kHz, PB1 as
 * the reset line. Plain avr-libc, no Arduino core.
 *
 * What the engines need from a port (docs/PORTING-links.md):
 *   read   >= 1 byte or SD_ERR_TIMEOUT at the absolute deadline, never 0
 *   write  >= 1 byte into the transmit ring, or SD_ERR_TIMEOUT
 *   clock  a monotonic now() in µs; here 1 ms steps from the tick, from
 *          an origin restarted before each run (32-bit time, SD_TIME32)
 * set_cfg (rate, parity) and set_lines (the reset pin) make the STM32
 * loader's 8E1 and a reset pulse possible; flush empties the rings.
 */
#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <util/atomic.h>
#include "uart_link.h"
#include "shakedown/error.h"

#ifndef F_CPU
#define F_CPU 16000000UL
#endif
#define RX_RING 32u /* powers of two: the index wraps with a mask */
#define TX_RING 16u

static volatile uint8_t rx_buf[RX_RING], tx_buf[TX_RING];
static volatile uint8_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint32_t ms;

ISR(TIMER0_COMPA_vect)
{
	ms++;
}

ISR(USART_RX_vect)
{
	uint8_t st = UCSR0A, b = UDR0;
	uint8_t next = (uint8_t)((rx_head + 1u) & (RX_RING - 1u));
	/* A byte with a framing or parity error is dropped here, as a host
	 * UART driver drops it; a full ring drops the newest byte. */
	if (!(st & (_BV(FE0) | _BV(UPE0))) && next != rx_tail) {
		rx_buf[rx_head] = b;
		rx_head = next;
	}
}

ISR(USART_UDRE_vect)
{
	if (tx_tail == tx_head) {
		UCSR0B &= (uint8_t)~_BV(UDRIE0);
		return;
	}
	UDR0 = tx_buf[tx_tail];
	tx_tail = (uint8_t)((tx_tail + 1u) & (TX_RING - 1u));
}

uint32_t ex_millis(void)
{
	uint32_t v;
	ATOMIC_BLOCK(ATOMIC_RESTORESTATE) { v = ms; }
	return v;
}

static uint32_t epoch; /* ms at the clock's origin */

void ex_clock_restart(void)
{
	epoch = ex_millis();
}

/* µs since the origin; with SD_TIME32 good for 35 minutes from a restart */
static sd_time tick_now(const sd_clock *c)
{
	(void)c;
	return (sd_time)((ex_millis() - epoch) * 1000u);
}

/* Idle until an interrupt (a byte, the tick): nothing busy-loops long. */
static void nap(void)
{
	set_sleep_mode(SLEEP_MODE_IDLE);
	sleep_mode();
}

static void tick_sleep_until(const sd_clock *c, sd_time t)
{
	while (tick_now(c) < t)
		nap();
}

static const sd_clock tick_clock = { tick_now, tick_sleep_until };

static int u_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	size_t n = 0;
	for (;;) {
		while (n < len && rx_tail != rx_head) {
			buf[n++] = rx_buf[rx_tail];
			rx_tail = (uint8_t)((rx_tail + 1u) & (RX_RING - 1u));
		}
		if (n)
			return (int)n;
		if (sd_deadline_passed(l->clock, dl))
			return SD_ERR_TIMEOUT;
		nap();
	}
}

static int u_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	size_t n = 0;
	for (;;) {
		while (n < len) {
			uint8_t next = (uint8_t)((tx_head + 1u) & (TX_RING - 1u));
			if (next == tx_tail)
				break;
			tx_buf[tx_head] = buf[n++];
			tx_head = next;
		}
		if (n) {
			UCSR0B |= _BV(UDRIE0);
			return (int)n;
		}
		if (sd_deadline_passed(l->clock, dl))
			return SD_ERR_TIMEOUT;
		nap();
	}
}

static int u_flush(sd_link *l, unsigned dirs)
{
	(void)l;
	ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
		if (dirs & SD_FLUSH_IN)
			rx_tail = rx_head;
		if (dirs & SD_FLUSH_OUT)
			tx_head = tx_tail;
	}
	return SD_OK;
}

static int u_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	(void)l;
	if (cfg->data_bits != 8 || cfg->stop_bits < 1 || cfg->stop_bits > 2 ||
	    (cfg->parity != SD_PARITY_NONE && cfg->parity != SD_PARITY_EVEN &&
	     cfg->parity != SD_PARITY_ODD) || cfg->flow != SD_FLOW_NONE)
		return SD_ERR_UNSUPPORTED;
	if (cfg->baud) {
		/* double speed: UBRR = F_CPU / (8 baud) - 1, rounded; 115200
		 * at 16 MHz is 16 (2.1 % fast, as every Uno runs it) */
		uint32_t ubrr = (F_CPU / 4u / cfg->baud - 1u) / 2u;
		if (ubrr > 4095u)
			return SD_ERR_UNSUPPORTED;
		UBRR0 = (uint16_t)ubrr;
	}
	uint8_t c = _BV(UCSZ01) | _BV(UCSZ00);
	if (cfg->parity == SD_PARITY_EVEN)
		c |= _BV(UPM01);
	else if (cfg->parity == SD_PARITY_ODD)
		c |= _BV(UPM01) | _BV(UPM00);
	if (cfg->stop_bits == 2)
		c |= _BV(USBS0);
	UCSR0C = c;
	return SD_OK;
}

/* DTR asserted = the other board's RESET held low (open drain: the pin
 * drives low, or floats on the board's pull-up). */
static int u_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	(void)l;
	if (mask & SD_LINE_DTR) {
		if (level & SD_LINE_DTR) {
			PORTB &= (uint8_t)~_BV(PB1);
			DDRB |= _BV(PB1);
		} else {
			DDRB &= (uint8_t)~_BV(PB1);
		}
	}
	return SD_OK;
}

static const sd_link_ops uart_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "uart0",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES,
	.read = u_read,
	.write = u_write,
	.flush = u_flush,
	.set_cfg = u_set_cfg,
	.set_lines = u_set_lines,
};

void ex_uart_link_open(sd_link *l, uint32_t baud)
{
	/* Timer0, CTC, /64: 16 MHz / 64 / 250 = 1 kHz */
	TCCR0A = _BV(WGM01);
	TCCR0B = _BV(CS01) | _BV(CS00);
	OCR0A = (uint8_t)(F_CPU / 64u / 1000u - 1u);
	TIMSK0 = _BV(OCIE0A);
	UCSR0A = _BV(U2X0);
	sd_link_init(l, &uart_ops, &tick_clock);
	sd_line_cfg cfg = { baud, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE };
	u_set_cfg(l, &cfg);
	l->cfg = cfg;
	UCSR0B = _BV(RXEN0) | _BV(TXEN0) | _BV(RXCIE0);
	sei();
}
