/*
 * The link of uart_link.h on the STM32G0 (RM0444): USART2 with two rings,
 * SysTick at 1 kHz, PA4 as the reset line. Registers by address: no vendor
 * headers needed. What a port provides is in docs/PORTING-links.md.
 */
#include "uart_link.h"
#include "shakedown/error.h"

#define REG(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define RCC_IOPENR   REG(0x40021034u)
#define RCC_APBENR1  REG(0x4002103Cu)
#define GPIOA_MODER  REG(0x50000000u)
#define GPIOA_OTYPER REG(0x50000004u)
#define GPIOA_AFRL   REG(0x50000020u)
#define GPIOA_BSRR   REG(0x50000018u)
#define U2_CR1       REG(0x40004400u)
#define U2_CR2       REG(0x40004404u)
#define U2_BRR       REG(0x4000440Cu)
#define U2_ISR       REG(0x4000441Cu)
#define U2_ICR       REG(0x40004420u)
#define U2_RDR       REG(0x40004424u)
#define U2_TDR       REG(0x40004428u)
#define NVIC_ISER    REG(0xE000E100u)
#define SYST_CSR     REG(0xE000E010u)
#define SYST_RVR     REG(0xE000E014u)
#define SYST_CVR     REG(0xE000E018u)

#define CR1_UE     (1u << 0)
#define CR1_RE     (1u << 2)
#define CR1_TE     (1u << 3)
#define CR1_RXNEIE (1u << 5)
#define CR1_TXEIE  (1u << 7)
#define CR1_PS     (1u << 9)
#define CR1_PCE    (1u << 10)
#define CR1_M0     (1u << 12)
#define ISR_PE     (1u << 0)
#define ISR_FE     (1u << 1)
#define ISR_ORE    (1u << 3)
#define ISR_RXNE   (1u << 5)
#define ISR_TXE    (1u << 7)

#define CLOCK_HZ 16000000u
#define RX_RING 64u
#define TX_RING 32u

void SysTick_Handler(void);
void USART2_IRQHandler(void);

static volatile uint8_t rx_buf[RX_RING], tx_buf[TX_RING];
static volatile uint32_t rx_head, rx_tail, tx_head, tx_tail;
static volatile uint32_t ms;
static uint32_t epoch;

void SysTick_Handler(void)
{
	ms++;
}

void USART2_IRQHandler(void)
{
	uint32_t isr = U2_ISR;
	if (isr & ISR_RXNE) {
		uint8_t b = (uint8_t)U2_RDR;
		uint32_t next = (rx_head + 1u) % RX_RING;
		if (!(isr & (ISR_PE | ISR_FE)) && next != rx_tail) {
			rx_buf[rx_head] = b;
			rx_head = next;
		}
	}
	if (isr & (ISR_ORE | ISR_PE | ISR_FE))
		U2_ICR = ISR_ORE | ISR_PE | ISR_FE;
	if ((U2_CR1 & CR1_TXEIE) && (isr & ISR_TXE)) {
		if (tx_tail == tx_head) {
			U2_CR1 &= ~CR1_TXEIE;
		} else {
			U2_TDR = tx_buf[tx_tail];
			tx_tail = (tx_tail + 1u) % TX_RING;
		}
	}
}

uint32_t ex_millis(void)
{
	return ms; /* a 32-bit load is atomic on the M0+ */
}

void ex_clock_restart(void)
{
	epoch = ms;
}

static sd_time tick_now(const sd_clock *c)
{
	(void)c;
	return (sd_time)((ms - epoch) * 1000u);
}

static void tick_sleep_until(const sd_clock *c, sd_time t)
{
	while (tick_now(c) < t)
		__asm__ volatile ("wfi");
}

static const sd_clock tick_clock = { tick_now, tick_sleep_until };

static int u_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	size_t n = 0;
	for (;;) {
		while (n < len && rx_tail != rx_head) {
			buf[n++] = rx_buf[rx_tail];
			rx_tail = (rx_tail + 1u) % RX_RING;
		}
		if (n)
			return (int)n;
		if (sd_deadline_passed(l->clock, dl))
			return SD_ERR_TIMEOUT;
		__asm__ volatile ("wfi");
	}
}

static int u_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	size_t n = 0;
	for (;;) {
		while (n < len && (tx_head + 1u) % TX_RING != tx_tail) {
			tx_buf[tx_head] = buf[n++];
			tx_head = (tx_head + 1u) % TX_RING;
		}
		if (n) {
			U2_CR1 |= CR1_TXEIE;
			return (int)n;
		}
		if (sd_deadline_passed(l->clock, dl))
			return SD_ERR_TIMEOUT;
		__asm__ volatile ("wfi");
	}
}

static int u_flush(sd_link *l, unsigned dirs)
{
	(void)l;
	if (dirs & SD_FLUSH_IN)
		rx_tail = rx_head;
	if (dirs & SD_FLUSH_OUT)
		tx_head = tx_tail;
	return SD_OK;
}

static int u_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	(void)l;
	if (cfg->data_bits != 8 || cfg->stop_bits < 1 || cfg->stop_bits > 2 ||
	    (cfg->parity != SD_PARITY_NONE && cfg->parity != SD_PARITY_EVEN &&
	     cfg->parity != SD_PARITY_ODD) || cfg->flow != SD_FLOW_NONE)
		return SD_ERR_UNSUPPORTED;
	uint32_t cr1 = CR1_RE | CR1_TE | CR1_RXNEIE;
	if (cfg->parity != SD_PARITY_NONE)
		cr1 |= CR1_PCE | CR1_M0 | (cfg->parity == SD_PARITY_ODD ? CR1_PS : 0u); /* 8 data + parity */
	U2_CR1 = 0; /* the frame format changes only with UE clear */
	if (cfg->baud)
		U2_BRR = (CLOCK_HZ + cfg->baud / 2u) / cfg->baud;
	U2_CR2 = cfg->stop_bits == 2 ? (2u << 12) : 0u;
	U2_CR1 = cr1 | CR1_UE;
	return SD_OK;
}

static int u_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	(void)l;
	if (mask & SD_LINE_DTR) /* asserted: PA4 low (open drain) */
		GPIOA_BSRR = (level & SD_LINE_DTR) ? (1u << (16 + 4)) : (1u << 4);
	return SD_OK;
}

static const sd_link_ops uart_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "usart2",
	.caps = SD_LINK_BYTES | SD_LINK_BAUD | SD_LINK_PARITY | SD_LINK_LINES,
	.read = u_read,
	.write = u_write,
	.flush = u_flush,
	.set_cfg = u_set_cfg,
	.set_lines = u_set_lines,
};

void ex_uart_link_open(sd_link *l, uint32_t baud)
{
	RCC_IOPENR |= 1u;          /* GPIOA */
	RCC_APBENR1 |= 1u << 17;   /* USART2 */
	GPIOA_BSRR = 1u << 4;      /* PA4 released (high) */
	GPIOA_OTYPER |= 1u << 4;   /* open drain */
	GPIOA_MODER = (GPIOA_MODER & ~(0xffu << 4)) | (2u << 4) | (2u << 6) | (1u << 8);
	GPIOA_AFRL = (GPIOA_AFRL & ~0xff00u) | (1u << 8) | (1u << 12); /* AF1: USART2 */
	SYST_RVR = CLOCK_HZ / 1000u - 1u;
	SYST_CVR = 0;
	SYST_CSR = 7u;             /* processor clock, interrupt, enable */
	sd_link_init(l, &uart_ops, &tick_clock);
	sd_line_cfg cfg = { baud, 8, SD_PARITY_NONE, 1, SD_FLOW_NONE };
	u_set_cfg(l, &cfg);
	l->cfg = cfg;
	NVIC_ISER = 1u << 28;      /* USART2 */
}
