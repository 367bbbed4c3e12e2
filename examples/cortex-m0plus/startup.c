/* Cortex-M0+ start-up for examples/cortex-m0plus: the vector table (the
 * core's 16 and the STM32G0's first 29 interrupts, USART2 = IRQ 28), .data
 * copied, .bss zeroed, then main. */
#include <stdint.h>
#include <string.h>

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);
void SysTick_Handler(void);
void USART2_IRQHandler(void);

void Default_Handler(void)
{
	for (;;)
		;
}

void Reset_Handler(void)
{
	memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
	memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
	main();
	for (;;)
		;
}

__attribute__((section(".vectors"), used))
static void (*const vectors[16 + 29])(void) = {
	(void (*)(void))(uintptr_t)&_estack,
	Reset_Handler,
	Default_Handler, /* NMI */
	Default_Handler, /* HardFault */
	[11] = Default_Handler, /* SVCall */
	[14] = Default_Handler, /* PendSV */
	[15] = SysTick_Handler,
	[16 + 28] = USART2_IRQHandler,
};
