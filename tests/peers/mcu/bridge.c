/*
 * One ATmega328P in simavr (the host-role firmware, our examples/arduino
 * program) with UART0 bridged to an existing tty: a pty served by
 * `shakedown sim PROTO`, the project's device simulator. No wall-clock
 * pacing: after the firmware sends a frame (then 2 simulated ms without a
 * byte), the simulation waits (wall time, up to 200 ms) for the peer's
 * answer before it goes on, so a
 * loaded machine delays the run but does not make the firmware's
 * deadlines pass early. A pty has no parity: the frame settings the
 * firmware asks for (8E1 for the STM32 loader) are not carried.
 *
 * Runs until the firmware's result record at RESULT (a data address) has
 * its first byte set; prints it in hex. Exit 1 when SECONDS simulated pass
 * first or the firmware crashes.
 * usage: bridge HOST.elf TTY RESULT_ADDR RESULT_LEN [SECONDS]
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>
#include <simavr/avr_uart.h>

static int fd = -1;
static int xon = 1;
static int sent; /* the firmware sent a byte since the last wait */
static avr_t *avr;
static avr_cycle_count_t sent_at; /* when, in cycles */

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)param;
	uint8_t b = (uint8_t)value;
	if (write(fd, &b, 1) == 1) {
		sent = 1;
		sent_at = avr->cycle;
	}
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value, (void)param;
	xon = 1;
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value, (void)param;
	xon = 0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s HOST.elf TTY RESULT_ADDR RESULT_LEN [SECONDS]\n", argv[0]);
		return 2;
	}
	unsigned addr = (unsigned)strtoul(argv[3], NULL, 0) & 0xffffu;
	unsigned len = (unsigned)strtoul(argv[4], NULL, 0);
	double limit = argc > 5 ? atof(argv[5]) : 10.0;
	elf_firmware_t f;
	memset(&f, 0, sizeof f);
	int out = dup(1);
	dup2(2, 1);
	int rd = elf_read_firmware(argv[1], &f);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	if (rd != 0)
		return 2;
	strcpy(f.mmcu, "atmega328p");
	f.frequency = 16000000;
	avr = avr_make_mcu_by_name(f.mmcu);
	if (!avr || avr_init(avr) != 0)
		return 2;
	avr_load_firmware(avr, &f);
	if (len == 0 || addr + len > avr->ramend + 1u)
		return 2;

	fd = open(argv[2], O_RDWR | O_NOCTTY | O_NONBLOCK);
	struct termios t;
	if (fd < 0 || tcgetattr(fd, &t) != 0) {
		fprintf(stderr, "bridge: cannot open %s\n", argv[2]);
		return 2;
	}
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);

	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, NULL);
	avr_irq_t *in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);

	avr_cycle_count_t end = (avr_cycle_count_t)(limit * 16e6);
	unsigned n = 0;
	for (;;) {
		int st = avr_run(avr);
		if (st == cpu_Done || st == cpu_Crashed) {
			fprintf(stderr, "bridge: the firmware stopped (state %d)\n", st);
			return 1;
		}
		if (++n < 64)
			continue;
		n = 0;
		/* the frame sent (2 simulated ms without a byte more): give the
		 * peer its chance to answer, in wall time */
		if (sent && avr->cycle - sent_at > 32000u) {
			struct pollfd p = { fd, POLLIN, 0 };
			poll(&p, 1, 200);
			sent = 0;
		}
		if (xon) {
			uint8_t b;
			if (read(fd, &b, 1) == 1)
				avr_raise_irq(in, b);
		}
		if (avr->data[addr]) {
			printf("result");
			for (unsigned i = 0; i < len; i++)
				printf(" %02x", avr->data[addr + i]);
			printf("\nsimulated_ms %.1f\n", (double)avr->cycle / 16e3);
			return 0;
		}
		if (avr->cycle > end) {
			fprintf(stderr, "bridge: no result after %.1f simulated seconds\n", limit);
			return 1;
		}
	}
}
