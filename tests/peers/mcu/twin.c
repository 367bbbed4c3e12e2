/*
 * Two ATmega328Ps in one simavr process, UART0 to UART0 (TX to RX both
 * ways), run in lockstep on simulated cycles (no wall clock: deterministic
 * and as fast as the host allows): the host-role firmware (our
 * examples/arduino program) and the device-role firmware (the real
 * optiboot). The host's PB1 drives the device's RESET, as the example's
 * wiring says: DDRB1 set (the pin pulled low) resets the device into its
 * loader (with EXTRF, as the external reset pin sets it).
 *
 * Runs until the host firmware's result record at RESULT (a data address,
 * from avr-nm) has its first byte set, then prints the record's bytes in
 * hex, the simulated milliseconds and the host firmware's deepest stack
 * (RAMEND minus the lowest SP seen, interrupts included); exit 0. Exit 1 when the time limit
 * (simulated seconds) passes first or a firmware crashes.
 * usage: twin HOST.elf DEVICE.elf RESULT_ADDR RESULT_LEN [SECONDS] [BOOTSTART]
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>
#include <simavr/sim_regbit.h>
#include <simavr/avr_uart.h>

typedef struct side {
	avr_t   *avr;
	int      xon;          /* its UART input has room */
	uint8_t  q[256];       /* bytes on their way to it */
	unsigned head, n;
	avr_irq_t *in;
	struct side *peer;
} side;

static side host, dev;
static uint32_t bootstart = 0x7e00u;

static void to_peer(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq;
	side *s = ((side *)param)->peer;
	if (s->n < sizeof s->q) {
		s->q[(s->head + s->n) % sizeof s->q] = (uint8_t)value;
		s->n++;
	}
}

static void on_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value;
	((side *)param)->xon = 1;
}

static void on_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value;
	((side *)param)->xon = 0;
}

static avr_t *load(const char *path, int boot)
{
	elf_firmware_t f;
	memset(&f, 0, sizeof f);
	int out = dup(1);
	dup2(2, 1); /* simavr reports on stdout while loading */
	int rd = elf_read_firmware(path, &f);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	if (rd != 0) {
		fprintf(stderr, "twin: cannot read %s\n", path);
		return NULL;
	}
	strcpy(f.mmcu, "atmega328p");
	f.frequency = 16000000;
	if (boot && f.flashbase == 0)
		f.flashbase = bootstart; /* simavr 1.6 loads .text at 0 whatever its address */
	avr_t *avr = avr_make_mcu_by_name(f.mmcu);
	if (!avr || avr_init(avr) != 0)
		return NULL;
	avr_load_firmware(avr, &f);
	if (boot) {
		avr->reset_pc = bootstart; /* BOOTRST fuse */
		avr->pc = bootstart;
		avr_regbit_setto(avr, avr->reset_flags.extrf, 1);
	}
	return avr;
}

static void wire(side *s)
{
	uint32_t flags = 0;
	avr_ioctl(s->avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(s->avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(avr_io_getirq(s->avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), to_peer, s);
	avr_irq_register_notify(avr_io_getirq(s->avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), on_xon, s);
	avr_irq_register_notify(avr_io_getirq(s->avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), on_xoff, s);
	s->in = avr_io_getirq(s->avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);
	s->xon = 1;
}

static void deliver(side *s)
{
	if (s->n && s->xon) {
		avr_raise_irq(s->in, s->q[s->head]);
		s->head = (s->head + 1) % sizeof s->q;
		s->n--;
	}
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s HOST.elf DEVICE.elf RESULT_ADDR RESULT_LEN [SECONDS] [BOOTSTART]\n", argv[0]);
		return 2;
	}
	unsigned addr = (unsigned)strtoul(argv[3], NULL, 0) & 0xffffu; /* 0x800100 -> 0x100 */
	unsigned len = (unsigned)strtoul(argv[4], NULL, 0);
	double limit = argc > 5 ? atof(argv[5]) : 10.0;
	if (argc > 6)
		bootstart = (uint32_t)strtoul(argv[6], NULL, 0);
	host.avr = load(argv[1], 0);
	dev.avr = load(argv[2], 1);
	if (!host.avr || !dev.avr || len == 0 || addr + len > host.avr->ramend + 1u)
		return 2;
	host.peer = &dev;
	dev.peer = &host;
	wire(&host);
	wire(&dev);

	const unsigned ddrb = 0x24; /* DDRB's data address on the ATmega328P */
	int reset_held = 0;
	unsigned resets = 0;
	unsigned min_sp = 0xffffu; /* the host firmware's deepest stack */
	avr_cycle_count_t end = (avr_cycle_count_t)(limit * 16e6);
	for (;;) {
		side *s = host.avr->cycle <= dev.avr->cycle ? &host : &dev;
		int st = avr_run(s->avr);
		if (st == cpu_Done || st == cpu_Crashed) {
			fprintf(stderr, "twin: the %s firmware stopped (state %d)\n",
				s == &host ? "host" : "device", st);
			return 1;
		}
		deliver(&host);
		deliver(&dev);
		if (s == &host) {
			unsigned sp = host.avr->data[R_SPL] | (unsigned)host.avr->data[R_SPH] << 8;
			if (sp < min_sp)
				min_sp = sp;
		}
		/* the host's PB1 pulled low (DDRB1 set, PORTB1 clear): device RESET */
		int held = (host.avr->data[ddrb] & 0x02) != 0;
		if (held && !reset_held) {
			avr_reset(dev.avr);
			dev.avr->pc = bootstart;
			avr_regbit_setto(dev.avr, dev.avr->reset_flags.extrf, 1);
			dev.n = 0;
			resets++;
		}
		reset_held = held;
		if (host.avr->data[addr]) {
			printf("result");
			for (unsigned i = 0; i < len; i++)
				printf(" %02x", host.avr->data[addr + i]);
			printf("\nsimulated_ms %.1f\nresets %u\n", (double)host.avr->cycle / 16e3, resets);
			printf("stack_bytes %u\n", host.avr->ramend - min_sp);
			return 0;
		}
		if (host.avr->cycle > end) {
			fprintf(stderr, "twin: no result after %.1f simulated seconds\n", limit);
			return 1;
		}
	}
}
