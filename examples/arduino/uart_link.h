/*
 * A shakedown link on the ATmega328P's USART0, for examples/arduino: an
 * interrupt-driven receive ring (USART_RX_vect), an interrupt-driven
 * transmit ring (USART_UDRE_vect), a millisecond tick on Timer0 (the
 * link's clock), and one GPIO (PB1, Arduino D9) wired to the other board's
 * RESET as the link's DTR line. docs/PORTING-links.md walks through it.
 */
#ifndef EX_UART_LINK_H
#define EX_UART_LINK_H

#include "shakedown/link.h"

/* Start the tick and the UART at baud 8N1, interrupts on. */
void ex_uart_link_open(sd_link *l, uint32_t baud);
/* Milliseconds since ex_uart_link_open. */
uint32_t ex_millis(void);
/* Restart the link clock's origin (before each sd_run: 32-bit time). */
void ex_clock_restart(void);

#endif
