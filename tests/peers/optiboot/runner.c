/*
 * Runs a real AVR firmware (optiboot for the ATmega328P) in simavr with
 * UART0 bridged to a pty, paced to the wall clock, for tests/peers/
 * optiboot_simavr.sh. Prints the pty's path alone on the first line, then
 * runs until SIGTERM/SIGINT or until the firmware crashes.
 *
 * The three traps of shared/protocols/avr-stm32.md section 7, handled here:
 * - the firmware comes from the ELF (every section), not the first .hex chunk;
 * - simavr powers up without a reset flag, so optiboot would jump straight to
 *   the (empty) application: set EXTRF in MCUSR, as the auto-reset pulse does;
 * - pace the cycles against the wall clock, or the 1 s watchdog window is
 *   gone (or takes minutes) in real time.
 * usage: runner FIRMWARE.elf [bootstart-byte-address, default 0x7e00]
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <simavr/sim_avr.h>
#include <simavr/sim_elf.h>
#include <simavr/sim_io.h>
#include <simavr/sim_regbit.h>
#include <simavr/avr_uart.h>

static volatile sig_atomic_t stop;
static int master = -1;
static int xon = 1;

static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static void uart_out(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)param;
	uint8_t b = (uint8_t)value;
	if (write(master, &b, 1) < 0 && errno != EAGAIN)
		stop = 1;
}

static void uart_xon(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value, (void)param;
	xon = 1;
}

static void uart_xoff(struct avr_irq_t *irq, uint32_t value, void *param)
{
	(void)irq, (void)value, (void)param;
	xon = 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FIRMWARE.elf [bootstart]\n", argv[0]);
		return 2;
	}
	elf_firmware_t f;
	memset(&f, 0, sizeof f);
	/* simavr reports on stdout while loading: the first line is the pty's */
	int out = dup(1);
	dup2(2, 1);
	int rd = elf_read_firmware(argv[1], &f);
	fflush(stdout);
	dup2(out, 1);
	close(out);
	if (rd != 0) {
		fprintf(stderr, "runner: cannot read %s\n", argv[1]);
		return 1;
	}
	strcpy(f.mmcu, "atmega328p");
	f.frequency = 16000000;
	uint32_t boot = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 0) : 0x7e00u;
	if (f.flashbase == 0)
		f.flashbase = boot; /* simavr 1.6 loads .text at 0 whatever its address */
	avr_t *avr = avr_make_mcu_by_name(f.mmcu);
	if (!avr || avr_init(avr) != 0)
		return 1;
	avr_load_firmware(avr, &f);
	avr->reset_pc = boot; /* BOOTRST fuse: reset into the boot section */
	avr->pc = boot;
	avr_regbit_setto(avr, avr->reset_flags.extrf, 1);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master))
		return 1;
	const char *slave = ptsname(master);
	int sfd = open(slave, O_RDWR | O_NOCTTY); /* keep the slave open: no HUP between clients */
	struct termios t;
	if (sfd >= 0 && tcgetattr(sfd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(sfd, TCSANOW, &t);
	}
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

	uint32_t flags = 0;
	avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
	flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
	avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT), uart_out, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XON), uart_xon, NULL);
	avr_irq_register_notify(avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUT_XOFF), uart_xoff, NULL);
	avr_irq_t *in = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_INPUT);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("%s\n", slave);
	fflush(stdout);

	/* RUNNER_HOLD=1: power the board up only when the host's first byte
	 * is waiting (as an auto-reset on open does), and feed it after 10 ms
	 * of simulated time: a client that takes longer to start than
	 * optiboot's 1 s window (a Python on a loaded machine) still meets the
	 * loader */
	double feed_after = 0.0;
	if (getenv("RUNNER_HOLD")) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		while (!stop && poll(&pfd, 1, 100) == 0)
			;
		feed_after = 0.01;
	}
	double t0 = now_s();
	avr_cycle_count_t c0 = avr->cycle;
	unsigned n = 0;
	while (!stop) {
		int st = avr_run(avr);
		if (st == cpu_Done || st == cpu_Crashed) {
			fprintf(stderr, "runner: the firmware stopped (state %d)\n", st);
			break;
		}
		if (++n < 256)
			continue;
		n = 0;
		/* one byte at a time, while the UART's input FIFO has room */
		if (xon && (double)(avr->cycle - c0) / (double)avr->frequency >= feed_after) {
			uint8_t b;
			if (read(master, &b, 1) == 1)
				avr_raise_irq(in, b);
		}
		double sim = (double)(avr->cycle - c0) / (double)avr->frequency;
		double ahead = sim - (now_s() - t0);
		if (ahead > 0.002)
			usleep((useconds_t)(ahead * 1e6));
	}
	close(master);
	if (sfd >= 0)
		close(sfd);
	return 0;
}
