/*
 * examples/cortex-m0plus: an STM32G0 (any Cortex-M0+ with a UART) that syncs
 * with another chip's bootloader over USART2 and reads what it is: the
 * STM32 system-memory loader (-DEX_STM32, 8E1: a gateway updating its radio
 * module's STM32) or optiboot (default). The same engine code as the host's
 * shakedown. Built by scripts/mcu.sh (cmake --preset cortex-m0plus).
 * The outcome is left in `ex_result_v` (for a debugger).
 */
#include "shakedown/client.h"
#include "shakedown/diag.h"
#include "shakedown/error.h"
#include "uart_link.h"

typedef struct ex_result {
	uint8_t  done, cause, have;
	int8_t   err;
	uint8_t  id[3];
	uint8_t  ver[2];
	uint32_t ms;
} ex_result;

volatile ex_result ex_result_v;
static sd_link link;

#ifdef EX_BASELINE
/* Without the engine: the link alone, for scripts/mcu.sh's subtraction. */
int main(void)
{
	ex_uart_link_open(&link, 115200);
	for (;;) {
		uint8_t b = 0;
		sd_deadline dl = link.clock->now(link.clock) + SD_MS(100);
		if (link.ops->read(&link, &b, 1, dl) == 1)
			link.ops->write(&link, &b, 1, dl);
		else
			link.ops->set_lines(&link, SD_LINE_DTR, 0);
		link.ops->flush(&link, SD_FLUSH_IN);
		link.clock->sleep_until(link.clock, dl);
		ex_clock_restart();
		ex_result_v.done = b;
	}
}
#else
#ifdef EX_STM32
static sd_stm32_client client;
#else
static sd_stk500_client client;
#endif

int main(void)
{
	ex_uart_link_open(&link, 115200);
#ifdef EX_STM32
	sd_stm32_cfg cfg = { 115200, 1, 0 };
	sd_stm32_client_init(&client, &cfg);
#else
	sd_stk500_cfg cfg = { 115200, SD_LINE_DTR, 1, 0 };
	sd_stk500_client_init(&client, &cfg);
#endif
	uint32_t t0 = ex_millis();
	ex_clock_restart();
	int r = sd_run(&client.eng, &link, sd_deadline_in(link.clock, SD_S(5)));
	ex_result_v.ms = ex_millis() - t0;
	ex_result_v.err = (int8_t)r;
	ex_result_v.cause = client.cause;
	ex_result_v.have = client.have;
#ifdef EX_STM32
	ex_result_v.id[0] = (uint8_t)(client.pid >> 8);
	ex_result_v.id[1] = (uint8_t)client.pid;
	ex_result_v.id[2] = client.version;
#else
	for (unsigned i = 0; i < 3; i++)
		ex_result_v.id[i] = client.sig[i];
	ex_result_v.ver[0] = client.major;
	ex_result_v.ver[1] = client.minor;
#endif
	ex_result_v.done = 1;
	for (;;)
		__asm__ volatile ("wfi");
}
#endif
