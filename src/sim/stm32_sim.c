/*
 * shakedown — a simulated STM32 (kind "stm32"): the system-memory USART
 * bootloader of AN3155 on an in-memory flash image, or the board's
 * application, or a dead, echoing, read-protected, glitching board.
 *
 * Every command stm32flash uses is implemented: Get, Get Version, Get ID,
 * Read Memory, Write Memory, Erase (0x43, bootloader 2.x) or Extended Erase
 * (0x44, 3.x) with mass erase, Go, Write Protect/Unprotect and Readout
 * Protect/Unprotect with the system reset that follows them. Every command is
 * logged, the destructive ones flagged (stm32_cmd_destructive).
 *
 * Wiring modelled (the common DIY one, AN2606 entry): RTS drives BOOT0 and
 * DTR drives NRST, both through the adapter's active-low outputs, so an
 * asserted line is a low pin. NRST held low halts the chip; its rising edge
 * boots the loader if BOOT0 is high, the application if not.
 * wired=0: a board without that wiring: DTR/RTS reach neither pin.
 *
 * Parity: the loader runs 8E1. When the host's settings are known (SD_EV_CFG,
 * in-process only) every received byte is re-read through the UART model
 * as the loader's 8E1 receiver would see it; a frame with a parity or
 * framing error spoils the command it belongs to, which the loader NACKs.
 * 0x7F, 0x01 0xFE and 0x02 0xFD have odd weight, so an 8N1 host gets through
 * autobaud, Get Version and Get ID but not Get (0x00 0xFF) or Read (0x11):
 * the signature the client reads as a parity mismatch. Mode 8n1 ignores
 * parity (a clone, or a USART set up without it); drop_parity=1 models an
 * adapter that accepts 8E1 but sends 8N1. Bytes to the host are not
 * distorted: an 8N1 reader takes the parity bit for the stop bit and reads
 * the right value (at worst with a framing flag the host does not see).
 * preamble=N: N bytes of text reach the host before the first ACK after a
 * boot (an application's output still draining from the adapter): the pty
 * form of the host-side flood= of in-process targets.
 * hang_after=N: the loader answers N frames (the 0x7F, each command, each
 * address or length frame), then nothing until the next reset: a device
 * that stops answering mid-session.
 * Memory: flash_kb (1..128) KiB at 0x08000000 in 1 KiB pages, 4 KiB of SRAM
 * at 0x20000000 and 16 option bytes at 0x1FFFF800, all inside the struct.
 */
#include "internal.h"
#include "proto/stm32_wire.h"

#define FLASH_MAX   (128u * 1024u)
#define PAGE_SIZE   1024u
#define RAM_SIZE    4096u
#define OPT_BASE    0x1FFFF800u
#define OPT_SIZE    16u
#define OUT_CAP     1024u
#define OUT_ROOM    300u   /* the most one received byte can produce (a Read) */

enum { M_LOADER, M_APP, M_SILENT, M_ECHO, M_RDP, M_GLITCH, M_8N1, M_NACK };
static const char *const mode_names[] = {
	"bootloader", "app", "silent", "echo", "rdp", "glitch", "8n1", "nack"
};

/* Where the chip is. */
enum { RUN_HALT, RUN_LOADER, RUN_APP };

/* Loader parser states */
enum { ST_AUTOBAUD, ST_OP, ST_COMP, ST_ADDR, ST_LEN, ST_WDATA, ST_ERASE, ST_EXT, ST_WP };

typedef struct stm32_dev {
	sd_sim_device d;
	int           mode;
	uint16_t      pid;
	uint8_t       blver;
	uint32_t      flash_size;
	uint32_t      max_baud;     /* 0 = any rate autobauds */
	int           drop_parity;
	uint32_t      preamble;     /* text bytes sent before the first ACK after a boot */
	uint32_t      pre_left;
	uint32_t      hang_after;   /* frames answered before the loader stops (0 = never) */
	int           unwired;      /* wired=0: DTR/RTS reach neither BOOT0 nor NRST */
	uint32_t      frames;
	int           hang_logged;
	int           pre_pending, pre_sending;
	/* chip state */
	int           run;
	int           rdp;
	int           boot0_high, nrst_high;
	sd_line_cfg   host;         /* the host's settings, when known */
	int           host_known;
	/* loader parser */
	int           st;
	uint8_t       op;
	int           spoiled;      /* a byte of this command had a frame error */
	uint32_t      addr;
	uint8_t       arg[600];
	size_t        argn, need;
	/* I/O */
	uint8_t       rx[256];
	size_t        rx_off, rx_len;
	uint8_t       out[OUT_CAP];
	size_t        out_len, out_off;
	/* application */
	uint8_t       text[SD_URI_VALLEN];
	size_t        text_len;
	sd_time       period, next;
	/* memory */
	uint8_t       opt[OPT_SIZE];
	uint8_t       ram[RAM_SIZE];
	uint8_t       flash[FLASH_MAX];
} stm32_dev;

static sd_time now_of(stm32_dev *s)
{
	return sd_now(s->d.eng.clock);
}

static void put(stm32_dev *s, uint8_t b)
{
	if (s->out_len < OUT_CAP)
		s->out[s->out_len++] = b;
}

static void put_n(stm32_dev *s, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(s, b[i]);
}

static void log_cmd(stm32_dev *s, uint8_t op, const char *name)
{
	sd_simlog_add(&s->d.log, now_of(s), op, name, stm32_cmd_destructive(op));
}

static const char *cmd_name(uint8_t op)
{
	switch (op) {
	case STM32_CMD_GET: return "get";
	case STM32_CMD_GET_VERSION: return "get-version";
	case STM32_CMD_GET_ID: return "get-id";
	case STM32_CMD_READ_MEMORY: return "read-memory";
	case STM32_CMD_GO: return "go";
	case STM32_CMD_WRITE_MEMORY: return "write-memory";
	case STM32_CMD_ERASE: return "erase";
	case STM32_CMD_EXT_ERASE: return "extended-erase";
	case STM32_CMD_WRITE_PROTECT: return "write-protect";
	case STM32_CMD_WRITE_UNPROT: return "write-unprotect";
	case STM32_CMD_READOUT_PROT: return "readout-protect";
	case STM32_CMD_READOUT_UNPROT: return "readout-unprotect";
	default: return "unknown";
	}
}

/* The command list of Get: v2.x lists Erase, v3.x Extended Erase. */
static size_t cmd_list(const stm32_dev *s, uint8_t out[16])
{
	static const uint8_t head[] = { 0x00, 0x01, 0x02, 0x11, 0x21, 0x31 };
	static const uint8_t tail[] = { 0x63, 0x73, 0x82, 0x92 };
	size_t n = 0;
	memcpy(out, head, sizeof head);
	n += sizeof head;
	out[n++] = s->blver >= 0x30 ? STM32_CMD_EXT_ERASE : STM32_CMD_ERASE;
	memcpy(out + n, tail, sizeof tail);
	return n + sizeof tail;
}

static int supported(const stm32_dev *s, uint8_t op)
{
	uint8_t list[16];
	size_t n = cmd_list(s, list);
	for (size_t i = 0; i < n; i++)
		if (list[i] == op)
			return 1;
	return 0;
}

/* Memory behind [addr, addr+len): a pointer into the image, or NULL when the
 * range is not mapped in one region. */
static uint8_t *mem_at(stm32_dev *s, uint32_t addr, size_t len, int writable)
{
	if (addr >= STM32_FLASH_BASE && addr - STM32_FLASH_BASE <= s->flash_size &&
	    len <= s->flash_size - (addr - STM32_FLASH_BASE))
		return s->flash + (addr - STM32_FLASH_BASE);
	if (addr >= STM32_SRAM_BASE && addr - STM32_SRAM_BASE <= RAM_SIZE &&
	    len <= RAM_SIZE - (addr - STM32_SRAM_BASE))
		return s->ram + (addr - STM32_SRAM_BASE);
	if (!writable && addr >= OPT_BASE && addr - OPT_BASE <= OPT_SIZE &&
	    len <= OPT_SIZE - (addr - OPT_BASE))
		return s->opt + (addr - OPT_BASE);
	return NULL;
}

static void erase_all(stm32_dev *s)
{
	memset(s->flash, 0xFF, s->flash_size);
}

static void erase_page(stm32_dev *s, uint32_t page)
{
	if ((uint64_t)(page + 1) * PAGE_SIZE <= s->flash_size)
		memset(s->flash + (size_t)page * PAGE_SIZE, 0xFF, PAGE_SIZE);
}

static void start_app(stm32_dev *s)
{
	s->run = RUN_APP;
	s->next = now_of(s);
}

/* A system reset (NRST released, or the loader's own after a protection
 * command): BOOT0 decides what runs. */
static void boot(stm32_dev *s)
{
	s->rx_off = s->rx_len = 0;
	s->frames = 0;
	s->hang_logged = 0;
	s->st = ST_AUTOBAUD;
	s->pre_pending = 1;
	if (s->boot0_high)
		s->run = RUN_LOADER;
	else
		start_app(s);
}

static void ack(stm32_dev *s)
{
	put(s, STM32_ACK);
}

static void nack(stm32_dev *s)
{
	put(s, STM32_NACK);
	s->st = ST_OP;
}

/* Has a frame error: what the loader's 8E1 receiver reads differs. */
static int frame_error(stm32_dev *s, uint8_t b)
{
	if (!s->host_known || s->mode == M_8N1 || !s->host.baud)
		return 0;
	sd_line_cfg h = s->host;
	if (s->drop_parity)
		h.parity = SD_PARITY_NONE;
	if (!h.data_bits)
		h.data_bits = 8;
	if (!h.stop_bits)
		h.stop_bits = 1;
	sd_line_cfg dev = SD_LINE_CFG_8E1(h.baud);
	if (h.data_bits == 8 && h.parity == SD_PARITY_EVEN)
		return 0;
	uint8_t o[4], f[4] = { 0 };
	int k = sd_uart_resample(&h, &dev, &b, 1, 0, o, f, sizeof o);
	return k != 1 || f[0] != 0 || o[0] != b;
}

static void dispatch(stm32_dev *s)
{
	uint8_t op = s->op;
	log_cmd(s, op, cmd_name(op));
	if (s->mode == M_NACK || !supported(s, op) ||
	    (s->rdp && op != STM32_CMD_GET && op != STM32_CMD_GET_VERSION &&
	     op != STM32_CMD_GET_ID && op != STM32_CMD_READOUT_UNPROT)) {
		nack(s);
		return;
	}
	s->argn = 0;
	s->st = ST_OP;
	switch (op) {
	case STM32_CMD_GET: {
		uint8_t list[16];
		size_t n = cmd_list(s, list);
		ack(s);
		put(s, (uint8_t)n); /* N = bytes that follow - 1: the version + n opcodes */
		put(s, s->blver);
		put_n(s, list, n);
		ack(s);
		return;
	}
	case STM32_CMD_GET_VERSION:
		ack(s);
		put(s, s->blver);
		put(s, 0x00);
		put(s, 0x00);
		ack(s);
		return;
	case STM32_CMD_GET_ID:
		ack(s);
		put(s, 0x01);
		put(s, (uint8_t)(s->pid >> 8));
		put(s, (uint8_t)s->pid);
		ack(s);
		return;
	case STM32_CMD_READ_MEMORY:
	case STM32_CMD_GO:
	case STM32_CMD_WRITE_MEMORY:
		ack(s);
		s->st = ST_ADDR;
		s->need = 5;
		return;
	case STM32_CMD_ERASE:
		ack(s);
		s->st = ST_ERASE;
		s->need = 1;
		return;
	case STM32_CMD_EXT_ERASE:
		ack(s);
		s->st = ST_EXT;
		s->need = 2;
		return;
	case STM32_CMD_WRITE_PROTECT:
		ack(s);
		s->st = ST_WP;
		s->need = 1;
		return;
	case STM32_CMD_WRITE_UNPROT:
		ack(s);
		ack(s);
		boot(s);
		return;
	case STM32_CMD_READOUT_PROT:
		ack(s);
		ack(s);
		s->rdp = 1;
		s->opt[0] = 0x00;
		boot(s);
		return;
	case STM32_CMD_READOUT_UNPROT:
		ack(s);
		erase_all(s);
		s->rdp = 0;
		s->opt[0] = 0xA5;
		ack(s);
		boot(s);
		return;
	default:
		nack(s);
		return;
	}
}

/* The arguments of the current command are complete in arg[0..argn). */
static void args_done(stm32_dev *s)
{
	uint8_t *a = s->arg;
	size_t n = s->argn;
	s->argn = 0;
	switch (s->st) {
	case ST_ADDR: {
		if (stm32_xor(a, 4) != a[4]) {
			nack(s);
			return;
		}
		s->addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
		if (!mem_at(s, s->addr, 1, s->op != STM32_CMD_READ_MEMORY)) {
			nack(s);
			return;
		}
		ack(s);
		if (s->op == STM32_CMD_GO) {
			start_app(s);
			return;
		}
		s->st = s->op == STM32_CMD_READ_MEMORY ? ST_LEN : ST_WDATA;
		s->need = s->op == STM32_CMD_READ_MEMORY ? 2 : 1;
		return;
	}
	case ST_LEN: {
		const uint8_t *src = mem_at(s, s->addr, (size_t)a[0] + 1, 0);
		if (stm32_comp(a[0]) != a[1] || !src) {
			nack(s);
			return;
		}
		ack(s);
		put_n(s, src, (size_t)a[0] + 1);
		s->st = ST_OP;
		return;
	}
	case ST_WDATA:
		if (n == 1) { /* N-1 read: now the data and the checksum */
			s->need = (size_t)a[0] + 3; /* N-1, N bytes, checksum */
			s->argn = 1;
			return;
		} else {
			size_t len = (size_t)a[0] + 1;
			uint8_t *dst = mem_at(s, s->addr, len, 1);
			if (stm32_xor(a, len + 1) != a[len + 1] || !dst) {
				nack(s);
				return;
			}
			memcpy(dst, a + 1, len);
			ack(s);
			s->st = ST_OP;
			return;
		}
	case ST_ERASE:
		if (n == 1) {
			/* FF: global erase, then its checksum 00; else N+1 pages + XOR */
			s->need = a[0] == STM32_ERASE_GLOBAL ? 2 : (size_t)a[0] + 3;
			s->argn = 1;
			return;
		}
		if (a[0] == STM32_ERASE_GLOBAL) {
			if (a[1] != 0x00) {
				nack(s);
				return;
			}
			sd_simlog_add(&s->d.log, now_of(s), 0xFF, "  global erase", 0);
			erase_all(s);
		} else {
			sd_simlog_add(&s->d.log, now_of(s), (uint32_t)a[0] + 1, "  page erase", 0);
			if (stm32_xor(a, n - 1) != a[n - 1]) {
				nack(s);
				return;
			}
			for (size_t i = 1; i + 1 < n; i++)
				erase_page(s, a[i]);
		}
		ack(s);
		s->st = ST_OP;
		return;
	case ST_EXT: {
		unsigned cnt = (unsigned)a[0] << 8 | a[1];
		if (n == 2) {
			if (cnt >= 0xFFF0u) {
				s->need = 3;
			} else {
				/* Bounded by the largest image: pages past this one's end
				 * are accepted and ignored (hosts size by the PID). */
				if ((size_t)cnt + 1 > FLASH_MAX / PAGE_SIZE) {
					nack(s);
					return;
				}
				s->need = 2u * ((size_t)cnt + 1) + 3;
			}
			s->argn = 2;
			return;
		}
		if (stm32_xor(a, n - 1) != a[n - 1]) {
			nack(s);
			return;
		}
		if (cnt == STM32_EXT_ERASE_MASS || cnt == STM32_EXT_ERASE_BANK1 ||
		    cnt == STM32_EXT_ERASE_BANK2) {
			sd_simlog_add(&s->d.log, now_of(s), cnt, cnt == STM32_EXT_ERASE_MASS ? "  mass erase" : "  bank erase", 0);
			erase_all(s);
		} else if (cnt >= 0xFFF0u) {
			nack(s);
			return;
		} else {
			sd_simlog_add(&s->d.log, now_of(s), cnt + 1, "  page erase", 0);
			for (size_t i = 2; i + 2 < n; i += 2)
				erase_page(s, (uint32_t)a[i] << 8 | a[i + 1]);
		}
		ack(s);
		s->st = ST_OP;
		return;
	}
	case ST_WP:
		if (n == 1) {
			s->need = (size_t)a[0] + 3;
			s->argn = 1;
			return;
		}
		if (stm32_xor(a, n - 1) != a[n - 1]) {
			nack(s);
			return;
		}
		ack(s);
		boot(s);
		return;
	default:
		s->st = ST_OP;
		return;
	}
}

/* One byte into the loader. */
static void loader_byte(stm32_dev *s, uint8_t b)
{
	/* hang_after=N: N frames answered (the 0x7F, a command, an address...),
	 * then nothing at all, until the next reset */
	if (s->hang_after && s->frames >= s->hang_after) {
		if (!s->hang_logged) /* once: a test can tell it was reached */
			sd_simlog_add(&s->d.log, now_of(s), 0, "hang: stops answering", 0);
		s->hang_logged = 1;
		return;
	}
	int bad = frame_error(s, b);
	switch (s->st) {
	case ST_AUTOBAUD:
		/* Autobaud measures the bit time of 0x7F; anything else, or a
		 * rate the USART cannot reach, leaves it waiting. */
		if (b != STM32_INIT)
			return;
		if (s->max_baud && s->host_known && s->host.baud > s->max_baud)
			return;
		sd_simlog_add(&s->d.log, now_of(s), STM32_INIT, "init (autobaud)", 0);
		if (s->pre_pending) {
			s->pre_left = s->preamble;
			s->pre_pending = 0;
		}
		if (s->mode == M_GLITCH)
			put(s, 0x00);
		ack(s);
		s->st = ST_OP;
		s->frames++;
		return;
	case ST_OP:
		s->op = b;
		s->spoiled = bad;
		s->st = ST_COMP;
		return;
	case ST_COMP:
		s->frames++;
		if (bad || s->spoiled || b != stm32_comp(s->op)) {
			sd_simlog_add(&s->d.log, now_of(s), s->op, bad || s->spoiled ? "frame error" : "bad complement", 0);
			nack(s);
			return;
		}
		dispatch(s);
		return;
	default:
		if (s->argn == 0)
			s->spoiled = 0;
		if (s->argn < sizeof s->arg)
			s->arg[s->argn++] = b;
		s->spoiled |= bad;
		if (s->argn < s->need)
			return;
		s->frames++;
		if (s->spoiled) {
			nack(s);
			return;
		}
		args_done(s);
		return;
	}
}

/* ---- the engine ------------------------------------------------------- */

static void listen_(stm32_dev *s)
{
	sd_deadline dl = SD_FOREVER;
	if (s->run == RUN_APP && s->mode != M_SILENT && s->mode != M_ECHO)
		dl = s->next;
	sd_engine_recv(&s->d.eng, s->rx, sizeof s->rx, dl);
}

/* What an application printed just before the reset, still draining from
 * the adapter when the loader answers (the preamble= key). */
static const char lorem[] =
	"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor\r\n";

static void flush_out(stm32_dev *s)
{
	if (s->pre_left) {
		size_t off = (size_t)(s->preamble - s->pre_left) % (sizeof lorem - 1);
		size_t k = SDI_MIN((size_t)s->pre_left, sizeof lorem - 1 - off);
		s->pre_sending = 1;
		sd_engine_send(&s->d.eng, (const uint8_t *)lorem + off, k, now_of(s) + SD_S(1));
		return;
	}
	if (s->out_off < s->out_len) {
		sd_engine_send(&s->d.eng, s->out + s->out_off, s->out_len - s->out_off,
			       now_of(s) + SD_S(1));
		return;
	}
	s->out_len = s->out_off = 0;
	listen_(s);
}

/* Work through received bytes while there is room for what they produce. */
static void process(stm32_dev *s)
{
	while (s->rx_off < s->rx_len && s->out_len + OUT_ROOM <= OUT_CAP) {
		uint8_t b = s->rx[s->rx_off++];
		if (s->mode == M_SILENT || s->run == RUN_HALT)
			continue;
		if (s->mode == M_ECHO) {
			put(s, b);
			continue;
		}
		if (s->run == RUN_LOADER)
			loader_byte(s, b);
		/* the application ignores what it is sent */
	}
	if (s->rx_off >= s->rx_len)
		s->rx_off = s->rx_len = 0;
	flush_out(s);
}

static void lines_changed(stm32_dev *s, unsigned lines)
{
	int boot0 = !(lines & SD_LINE_RTS), nrst = !(lines & SD_LINE_DTR);
	s->boot0_high = boot0;
	if (s->nrst_high && !nrst) {
		sd_simlog_add(&s->d.log, now_of(s), lines, "reset (NRST low)", 0);
		s->run = RUN_HALT;
		s->out_len = s->out_off = 0;
	} else if (!s->nrst_high && nrst) {
		sd_simlog_add(&s->d.log, now_of(s), lines, boot0 ? "boot loader (BOOT0=1)" : "boot app (BOOT0=0)", 0);
		boot(s);
	}
	s->nrst_high = nrst;
}

static void stm32_step(sd_engine *e, const sd_event *ev)
{
	stm32_dev *s = (stm32_dev *)e;
	switch (ev->type) {
	case SD_EV_START:
		s->next = now_of(s);
		listen_(s);
		return;
	case SD_EV_LINES:
		if (!s->unwired) /* wired=0: a board without the DIY entry wiring */
			lines_changed(s, ev->lines);
		break;
	case SD_EV_CFG:
		s->host = ev->cfg;
		s->host_known = 1;
		break;
	case SD_EV_RECEIVED:
		s->rx_len = ev->n;
		s->rx_off = 0;
		if (s->run == RUN_APP && s->mode != M_ECHO && s->mode != M_SILENT && ev->n)
			sd_simlog_add(&s->d.log, now_of(s), s->rx[0], "bytes (app ignores)", 0);
		process(s);
		return;
	case SD_EV_SENT:
		if (s->pre_sending) {
			s->pre_sending = 0;
			s->pre_left -= (uint32_t)SDI_MIN((size_t)s->pre_left, ev->n);
			flush_out(s);
			return;
		}
		s->out_off += ev->n;
		if (s->out_off < s->out_len) {
			flush_out(s);
			return;
		}
		s->out_len = s->out_off = 0;
		process(s); /* input held back for lack of room */
		return;
	case SD_EV_TIMEOUT:
		if (s->run == RUN_APP && s->mode != M_SILENT && s->mode != M_ECHO) {
			s->out_len = s->out_off = 0;
			put_n(s, s->text, s->text_len);
			s->next += s->period;
			if (s->next <= now_of(s))
				s->next = now_of(s) + s->period;
			flush_out(s);
			return;
		}
		break;
	default:
		break;
	}
	/* Keep whatever was in flight going. */
	if (s->out_off < s->out_len)
		flush_out(s);
	else
		listen_(s);
}

static const sd_engine_ops stm32_sim_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stm32-sim",
	.step = stm32_step,
};

static int stm32_init(sd_sim_device *dev, const sd_kv *kv, size_t n, char *why, size_t whylen)
{
	stm32_dev *s = (stm32_dev *)dev;
	static const char hello[] = "hello world\r\n";
	sd_engine_init(&s->d.eng, &stm32_sim_ops);
	s->mode = M_LOADER;
	s->pid = 0x410;
	s->blver = 0x31;
	s->flash_size = 64u * 1024u;
	s->period = SD_MS(100);
	memcpy(s->text, hello, sizeof hello - 1);
	s->text_len = sizeof hello - 1;
	/* The loader autobauds: the device has no rate of its own (baud 0 =
	 * the host's, so the fault link does not resample). */
	s->d.cfg = SD_LINE_CFG_8E1(0);

	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u;
		if (strcmp(k, "mode") == 0) {
			size_t m;
			for (m = 0; m < SDI_ARRAY_LEN(mode_names); m++)
				if (strcmp(v, mode_names[m]) == 0 ||
				    (m == M_LOADER && strcmp(v, "loader") == 0) ||
				    (m == M_APP && strcmp(v, "application") == 0))
					break;
			if (m == SDI_ARRAY_LEN(mode_names)) {
				sdi_fmt(why, whylen, "sim stm32: unknown mode '%s' (modes: bootloader, app, silent, echo, rdp, glitch, 8n1, nack)", v);
				return SD_ERR_ARG;
			}
			s->mode = (int)m;
		} else if (strcmp(k, "pid") == 0) {
			if (sd_parse_u32(v, 0, 0xFFFF, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad pid '%s' (e.g. 0x410)", v);
				return SD_ERR_ARG;
			}
			s->pid = (uint16_t)u;
		} else if (strcmp(k, "flash_kb") == 0) {
			if (sd_parse_u32(v, 1, FLASH_MAX / 1024u, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad flash_kb '%s' (1 to 128)", v);
				return SD_ERR_ARG;
			}
			s->flash_size = u * 1024u;
		} else if (strcmp(k, "blver") == 0) {
			unsigned maj, min;
			if (strlen(v) != 3 || v[1] != '.' || v[0] < '1' || v[0] > '9' || v[2] < '0' || v[2] > '9') {
				sdi_fmt(why, whylen, "sim stm32: bad blver '%s' (e.g. 2.2 or 3.1)", v);
				return SD_ERR_ARG;
			}
			maj = (unsigned)(v[0] - '0');
			min = (unsigned)(v[2] - '0');
			s->blver = (uint8_t)(maj << 4 | min);
		} else if (strcmp(k, "max_baud") == 0) {
			if (sd_parse_u32(v, 0, 20000000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad max_baud '%s'", v);
				return SD_ERR_ARG;
			}
			s->max_baud = u;
		} else if (strcmp(k, "drop_parity") == 0) {
			if (sd_parse_u32(v, 0, 1, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: drop_parity is 0 or 1, not '%s'", v);
				return SD_ERR_ARG;
			}
			s->drop_parity = (int)u;
		} else if (strcmp(k, "preamble") == 0) {
			if (sd_parse_u32(v, 0, 65536, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad preamble '%s' (0 to 65536 bytes)", v);
				return SD_ERR_ARG;
			}
			s->preamble = u;
		} else if (strcmp(k, "wired") == 0) {
			if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
				sdi_fmt(why, whylen, "sim stm32: bad wired '%s' (1: RTS drives BOOT0 and DTR NRST; 0: neither)", v);
				return SD_ERR_ARG;
			}
			s->unwired = v[0] == '0';
		} else if (strcmp(k, "hang_after") == 0) {
			if (sd_parse_u32(v, 1, 1000000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad hang_after '%s' (frames answered before it stops, 1 or more)", v);
				return SD_ERR_ARG;
			}
			s->hang_after = u;
		} else if (strcmp(k, "text") == 0) {
			int len = sdi_sim_unescape(v, s->text, sizeof s->text);
			if (len <= 0) {
				sdi_fmt(why, whylen, "sim stm32: bad text '%s' (C escapes \\r \\n \\t \\xNN; not empty)", v);
				return SD_ERR_ARG;
			}
			s->text_len = (size_t)len;
		} else if (strcmp(k, "period_ms") == 0) {
			if (sd_parse_u32(v, 1, 3600000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stm32: bad period_ms '%s'", v);
				return SD_ERR_ARG;
			}
			s->period = SD_MS(u);
		} else {
			sdi_fmt(why, whylen, "sim stm32: unknown key '%s' (keys: mode, pid, flash_kb, blver, max_baud, drop_parity, preamble, hang_after, wired, text, period_ms)", k);
			return SD_ERR_ARG;
		}
	}
	/* The image: an erased flash with a vector table (initial SP, reset
	 * handler) so a read shows something a real board would. */
	erase_all(s);
	static const uint8_t vectors[] = { 0x00, 0x50, 0x00, 0x20, 0x01, 0x01, 0x00, 0x08 };
	memcpy(s->flash, vectors, sizeof vectors);
	memset(s->opt, 0xFF, sizeof s->opt);
	s->opt[0] = 0xA5; /* RDP level 0 */
	s->opt[1] = 0x5A;
	if (s->mode == M_RDP) {
		s->rdp = 1;
		s->opt[0] = 0x00;
	}
	s->boot0_high = 1; /* lines deasserted: pins high */
	s->nrst_high = 1;
	s->st = ST_AUTOBAUD;
	s->pre_pending = 1;
	s->run = s->mode == M_APP ? RUN_APP : RUN_LOADER;
	sdi_fmt(s->d.mode, sizeof s->d.mode, "%s", mode_names[s->mode]);
	return SD_OK;
}

const sd_sim_kind sdi_sim_stm32 = {
	.name = "stm32",
	.title = "an STM32 with its system bootloader (AN3155), or running its application",
	.modes = "bootloader|app|silent|echo|rdp|glitch|8n1|nack",
	.size = sizeof(stm32_dev),
	.init = stm32_init,
};
