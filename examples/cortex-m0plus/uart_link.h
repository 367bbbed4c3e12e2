/*
 * A shakedown link on an STM32G0's USART2 (PA2 TX, PA3 RX), for
 * examples/cortex-m0plus: an interrupt-driven receive ring and transmit
 * ring, a millisecond SysTick (the link's clock, HSI16 at 16 MHz), and PA4
 * (open drain) wired to the other chip's reset as the link's DTR line.
 */
#ifndef EX_UART_LINK_H
#define EX_UART_LINK_H

#include "shakedown/link.h"

void ex_uart_link_open(sd_link *l, uint32_t baud);
uint32_t ex_millis(void);
void ex_clock_restart(void);

#endif
