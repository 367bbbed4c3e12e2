/*
 * shakedown — a bit-level UART model.
 *
 * What a receiver set to one line format reads when a transmitter sends
 * bytes in another: the waveform of the sent frames (start bit 0, data bits
 * LSB first, optional parity, stop bits 1, idle 1) is sampled the way a UART
 * receiver does it: a frame starts at a falling (1 -> 0) edge, each bit is
 * sampled once at its middle, a 0 where the stop bit should be is a framing
 * error, and a wrong parity bit a parity error. After a frame the receiver
 * waits for the next falling edge (a line still held low does not start a
 * new frame). Times are exact integers (units of 1/(2*lcm(rates)) s), so the
 * result is reproducible and tests can hand-compute frames.
 *
 * Used by the fault link (a simulated device at another rate) and by the
 * classifier (which rate pairs turn likely bytes into the bytes received).
 */
#ifndef SHAKEDOWN_UART_H
#define SHAKEDOWN_UART_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/line.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_UART_FE 0x01u /* framing error: stop bit read as 0 */
#define SD_UART_PE 0x02u /* parity error */

/* Resample n bytes sent with `tx` (back to back, with idle_bits idle bit
 * times of the sender between frames) as read with `rx`. The line is idle
 * before and after. Writes at most max bytes to out (and their SD_UART_*
 * flags to flags, if not NULL). Returns the number of bytes the receiver
 * produced (which may exceed max: the rest is cut), or SD_ERR_ARG for a bad
 * format (data bits outside 5..8, stop bits not 1 or 2, baud 0). */
SD_API int sd_uart_resample(const sd_line_cfg *tx, const sd_line_cfg *rx,
			    const uint8_t *in, size_t n, unsigned idle_bits,
			    uint8_t *out, uint8_t *flags, size_t max);

/* The rates tried when guessing a mismatch, ascending; returns the count. */
SD_API size_t sd_uart_common_rates(const uint32_t **rates);

#ifdef __cplusplus
}
#endif
#endif
