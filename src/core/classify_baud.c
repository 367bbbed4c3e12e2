/*
 * shakedown — guessing a baud-rate mismatch: which (device, host) rate pairs
 * turn bytes a device probably sent into the bytes received, through the
 * bit-level UART model. Likely sent bytes: printable ASCII, CR, LF, 0x00,
 * 0xFF and the protocols' own answers.
 */
#include <stdatomic.h>
#include "internal.h"

static const uint8_t extra_bytes[] = { '\r', '\n', 0x00, 0xFF, 0x14, 0x10, 0x79, 0x1F, 0x5F, 0xC0 };

static size_t likely_bytes(uint8_t *out)
{
	size_t n = 0;
	for (unsigned c = 0x20; c < 0x7f; c++)
		out[n++] = (uint8_t)c;
	memcpy(out + n, extra_bytes, sizeof extra_bytes);
	return n + sizeof extra_bytes;
}

/* For one rate pair: which byte values a lone likely byte can turn into
 * (bitmap), and for each value the first sent byte that makes it. */
typedef struct pair_image {
	uint8_t  seen[32];
	uint8_t  from[256];
	unsigned distinct;
} pair_image;

static void image_of(uint32_t dev, uint32_t host, pair_image *im)
{
	uint8_t cand[128];
	size_t nc = likely_bytes(cand);
	sd_line_cfg tx = SD_LINE_CFG_8N1(dev), rx = SD_LINE_CFG_8N1(host);
	memset(im, 0, sizeof *im);
	for (size_t i = 0; i < nc; i++) {
		uint8_t out[16];
		int k = sd_uart_resample(&tx, &rx, &cand[i], 1, 0, out, NULL, sizeof out);
		for (int j = 0; j < k && j < (int)sizeof out; j++) {
			uint8_t v = out[j];
			if (!(im->seen[v >> 3] & (1u << (v & 7)))) {
				im->seen[v >> 3] |= (uint8_t)(1u << (v & 7));
				im->from[v] = cand[i];
				im->distinct++;
			}
		}
	}
}

static int has(const pair_image *im, uint8_t v)
{
	return (im->seen[v >> 3] >> (v & 7)) & 1;
}

/* Rates users actually set (tool defaults, ESP's 74880 boot rate): a
 * mismatch between two of them is far more likely than between odd ones. */
static int popular(uint32_t r)
{
	switch (r) {
	case 9600: case 19200: case 38400: case 57600: case 74880:
	case 115200: case 230400: case 460800: case 921600:
		return 1;
	default:
		return 0;
	}
}

/* Larger steps between rates are less common in the field: prefer the
 * pair whose ratio is smaller when scores tie. */
static double ratio(uint32_t a, uint32_t b)
{
	return a > b ? (double)a / b : (double)b / a;
}

/* a ranks before b: higher score, then the smaller step between rates */
static int better(const sd_baud_guess *a, const sd_baud_guess *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	return ratio(a->device_baud, a->host_baud) < ratio(b->device_baud, b->host_baud);
}

static void insert(sd_baud_guess *out, size_t max, size_t *n, const sd_baud_guess *g)
{
	size_t i;
	if (*n < max) {
		i = (*n)++;
	} else {
		if (max == 0 || !better(g, &out[max - 1]))
			return;
		i = max - 1;
	}
	while (i > 0 && better(g, &out[i - 1])) {
		out[i] = out[i - 1];
		i--;
	}
	out[i] = *g;
}

#define BAUD_ANALYSE_MAX 4096u

/* The images depend only on the rate pair, so each is computed once (about
 * a hundred one-byte runs of the UART model) and kept: 26 x 26 slots of
 * 292 bytes. A slot is claimed by one thread (0 -> 1), filled, then
 * published (2) with release order; a thread that finds the slot being
 * filled computes its own copy on the stack, so no reader ever sees a
 * half-written image. */
#define PAIR_RATES_MAX 32u

static pair_image pair_table[PAIR_RATES_MAX][PAIR_RATES_MAX];
static atomic_uchar pair_state[PAIR_RATES_MAX][PAIR_RATES_MAX];

static const pair_image *image_for(size_t d, size_t h, const uint32_t *rates, pair_image *tmp)
{
	if (d >= PAIR_RATES_MAX || h >= PAIR_RATES_MAX) {
		image_of(rates[d], rates[h], tmp);
		return tmp;
	}
	atomic_uchar *st = &pair_state[d][h];
	if (atomic_load_explicit(st, memory_order_acquire) == 2)
		return &pair_table[d][h];
	unsigned char want = 0;
	if (atomic_compare_exchange_strong_explicit(st, &want, 1, memory_order_acq_rel,
						    memory_order_acquire)) {
		image_of(rates[d], rates[h], &pair_table[d][h]);
		atomic_store_explicit(st, 2, memory_order_release);
		return &pair_table[d][h];
	}
	if (want == 2)
		return &pair_table[d][h];
	image_of(rates[d], rates[h], tmp); /* another thread is filling it */
	return tmp;
}

size_t sd_baud_guess_pairs(const uint8_t *rx, size_t n, uint32_t host_baud,
			   sd_baud_guess *out, size_t max)
{
	const uint32_t *rates;
	size_t nr = sd_uart_common_rates(&rates), found = 0;
	if (!rx || n == 0 || !out || max == 0)
		return 0;
	n = SDI_MIN(n, (size_t)BAUD_ANALYSE_MAX);
	/* Every score below depends on the bytes only through how often each
	 * value occurs: count once, then each pair costs the distinct values,
	 * not the length. */
	uint32_t count[256] = { 0 };
	uint8_t vals[256];
	size_t nv = 0;
	for (size_t i = 0; i < n; i++)
		if (count[rx[i]]++ == 0)
			vals[nv++] = rx[i];
	for (size_t h = 0; h < nr; h++) {
		if (host_baud && rates[h] != host_baud)
			continue;
		for (size_t d = 0; d < nr; d++) {
			if (d == h)
				continue;
			pair_image tmp;
			const pair_image *im = image_for(d, h, rates, &tmp);
			size_t hit = 0, same = 0;
			for (size_t k = 0; k < nv; k++) {
				uint8_t v = vals[k];
				if (has(im, v)) {
					hit += count[v];
					if (im->from[v] == v)
						same += count[v];
				}
			}
			/* A pair that reads the bytes as they were sent explains
			 * nothing: the rates are too close to tell apart. */
			if (hit == 0 || same == hit)
				continue;
			/* Coverage, discounted by how much this pair could explain
			 * anyway: a pair that maps likely bytes onto most of the
			 * 256 values explains nothing in particular. */
			double cover = (double)hit / (double)n;
			double specific = 1.0 - (double)im->distinct / 256.0;
			sd_baud_guess g = { .device_baud = rates[d], .host_baud = rates[h] };
			double weight = (popular(rates[d]) ? 1.0 : 0.7) * (popular(rates[h]) ? 1.0 : 0.7);
			g.score = (float)(cover * specific * weight);
			/* Stop early: a guess that would not make the list needs
			 * no sent bytes. */
			if (found == max && !better(&g, &out[max - 1]))
				continue;
			for (size_t i = 0; i < n && g.sent_len < sizeof g.sent; i++)
				if (has(im, rx[i]))
					g.sent[g.sent_len++] = im->from[rx[i]];
			insert(out, max, &found, &g);
		}
	}
	return found;
}
