/*
 * shakedown — the bit-level UART model (uart.h).
 *
 * Time is counted in units of 1/(2*lcm(tx, rx)) s, so with g = gcd(tx, rx):
 * a transmitter bit lasts 2*rx/g units, a receiver bit 2*tx/g units, and
 * half a receiver bit tx/g units — all exact integers, so every frame can be
 * computed by hand and tests can check it bit by bit.
 *
 * The receiver: a frame starts at a falling edge (line 1 then 0); the start
 * bit is checked at its middle (a 1 there was a glitch: no frame); each data
 * bit, the parity bit and the first stop bit are sampled once at their
 * middles; a 0 stop bit is a framing error. After the stop sample the
 * receiver waits for the next falling edge strictly after it, so a line held
 * low does not produce frames until it rises and falls again. (UARTs differ
 * in this detail; the edge rule is the common one and it is documented.)
 */
#include "internal.h"

typedef struct wave {
	const uint8_t *in;
	size_t         n;
	unsigned       data, par, stop, idle, flen; /* bits per frame: 1+data+par+stop+idle */
	uint8_t        parity;
	int64_t        tbit;                        /* transmitter bit, in units */
} wave;

static unsigned parity_bit(uint8_t v, unsigned data, uint8_t parity)
{
	unsigned ones = 0;
	for (unsigned i = 0; i < data; i++)
		ones += (v >> i) & 1u;
	switch (parity) {
	case SD_PARITY_EVEN: return ones & 1u;
	case SD_PARITY_ODD:  return (ones & 1u) ^ 1u;
	case SD_PARITY_MARK: return 1;
	default:             return 0;
	}
}

/* Line level of transmitter bit number k (k < 0 or past the end: idle 1). */
static unsigned bit_at(const wave *w, int64_t k)
{
	if (k < 0 || (uint64_t)k >= (uint64_t)w->n * w->flen)
		return 1;
	size_t f = (size_t)(k / w->flen);
	unsigned pos = (unsigned)(k % w->flen);
	if (pos == 0)
		return 0;
	if (pos <= w->data)
		return (w->in[f] >> (pos - 1)) & 1u;
	if (w->par && pos == w->data + 1)
		return parity_bit(w->in[f], w->data, w->parity);
	return 1; /* stop bits and idle */
}

static unsigned level(const wave *w, int64_t t)
{
	return bit_at(w, t / w->tbit);
}

static int cfg_ok(const sd_line_cfg *c)
{
	return c && c->baud > 0 && c->baud <= 20000000u && c->data_bits >= 5 &&
	       c->data_bits <= 8 && (c->stop_bits == 1 || c->stop_bits == 2) &&
	       c->parity <= SD_PARITY_SPACE;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;
		a = b;
		b = r;
	}
	return a;
}

#define UART_MAX_IN (1u << 24)
#define UART_MAX_IDLE 64u

int sd_uart_resample(const sd_line_cfg *tx, const sd_line_cfg *rx,
		     const uint8_t *in, size_t n, unsigned idle_bits,
		     uint8_t *out, uint8_t *flags, size_t max)
{
	if (!cfg_ok(tx) || !cfg_ok(rx) || (n && !in) || (max && !out) ||
	    n > UART_MAX_IN || idle_bits > UART_MAX_IDLE)
		return SD_ERR_ARG;

	uint64_t g = gcd64(tx->baud, rx->baud);
	wave w = {
		.in = in, .n = n, .data = tx->data_bits,
		.par = tx->parity != SD_PARITY_NONE, .stop = tx->stop_bits,
		.idle = idle_bits, .parity = tx->parity,
		.tbit = (int64_t)(2 * rx->baud / g),
	};
	w.flen = 1 + w.data + w.par + w.stop + w.idle;
	const int64_t half = (int64_t)(tx->baud / g); /* half a receiver bit */
	const unsigned rdata = rx->data_bits, rpar = rx->parity != SD_PARITY_NONE;
	const int64_t end_bit = (int64_t)n * w.flen;

	size_t produced = 0;
	int64_t t = -1; /* receiver is idle, looking for an edge after t */
	for (;;) {
		/* Next falling edge strictly after t: a transmitter bit boundary
		 * k*tbit > t with bit k-1 high and bit k low. */
		int64_t k = t < 0 ? 0 : t / w.tbit + 1;
		while (k < end_bit && !(bit_at(&w, k - 1) == 1 && bit_at(&w, k) == 0))
			k++;
		if (k >= end_bit)
			break;
		int64_t e = k * w.tbit;
		if (level(&w, e + half) != 0) { /* start bit gone at its middle: a glitch */
			t = e + half;
			continue;
		}
		uint8_t v = 0, fl = 0;
		for (unsigned i = 0; i < rdata; i++) {
			unsigned b = level(&w, e + (2 * (int64_t)(i + 1) + 1) * half);
			v |= (uint8_t)(b << i);
		}
		unsigned slot = 1 + rdata;
		if (rpar) {
			unsigned p = level(&w, e + (2 * (int64_t)slot + 1) * half);
			if (p != parity_bit(v, rdata, rx->parity))
				fl |= SD_UART_PE;
			slot++;
		}
		t = e + (2 * (int64_t)slot + 1) * half; /* the (first) stop bit */
		if (level(&w, t) == 0)
			fl |= SD_UART_FE;
		if (produced < max) {
			out[produced] = v;
			if (flags)
				flags[produced] = fl;
		}
		produced++;
	}
	return produced > (size_t)INT32_MAX ? INT32_MAX : (int)produced;
}

static const uint32_t common_rates[] = {
	300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 28800, 38400, 57600, 74880,
	76800, 115200, 128000, 153600, 230400, 250000, 256000, 460800, 500000, 576000,
	921600, 1000000, 1500000, 2000000,
};

size_t sd_uart_common_rates(const uint32_t **rates)
{
	if (rates)
		*rates = common_rates;
	return SDI_ARRAY_LEN(common_rates);
}
