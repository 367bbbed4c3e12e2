/*
 * shakedown — simulated Arduino board with an STK500v1 loader (kind
 * "stk500"), byte for byte as optiboot.c behaves:
 *
 * - Reset: a falling edge on the DTR (or RTS) pin reaches /RESET through the
 *   auto-reset capacitor; in the OS's logical view that is the line going
 *   from deasserted to asserted. The loader starts STK_START_DELAY later.
 *   A power-on start (the simulation starting) runs the application, as
 *   optiboot does when MCUSR lacks EXTRF.
 * - The loader reads commands one byte at a time (optiboot's getch); every
 *   byte received without a framing error resets its 1 s watchdog. A byte
 *   with a framing error is still used as a command byte, but does not reset
 *   the watchdog. When the watchdog fires, the application starts.
 * - Where CRC_EOP (0x20) is due and another byte comes, the loader sets the
 *   watchdog to 16 ms and spins without answering: the application starts
 *   16 ms later. 'Q' answers, then does the same.
 * - Unknown opcodes are treated as commands without arguments (14 10).
 * - GET_PARAMETER 0x81/0x82 answer the version, any other parameter 0x03;
 *   UNIVERSAL answers 14 00 10; READ_SIGN answers the compile-time
 *   signature. PROG_PAGE / READ_PAGE work on flash, or on EEPROM with
 *   memtype 'E' when eeprom=1 (optiboot's SUPPORT_EEPROM build; Debian's 4.4
 *   source ignores the memtype and always uses flash: eeprom=0).
 *   version=4.x takes only the low length byte (0 = 256), as 4.4 does; 8.x
 *   takes both.
 *
 * The host's line settings arrive as SD_EV_CFG: when its rate differs from
 * the board's, what the host sends is resampled bit by bit (uart.h), so the
 * loader sees the bytes and framing errors a real UART would.
 *
 * On a link without modem lines (a pty) there is no way to reset the board,
 * so the board starts in its loader and goes back to it whenever the loader
 * would have started the application: as if every exit were followed by an
 * auto-reset. That is what lets avrdude, which cannot pulse DTR on a pty,
 * talk to it at any time.
 *
 * Modes: bootloader (optiboot at baud=, default 115200), app (no loader
 * answers: the application prints text), old (the loader at 57600),
 * stk500v2 (a Mega2560-style STK500v2 loader), caterina (an AVR109 loader as
 * after the 1200-baud touch), silent, echo (TX looped to RX), noreset (an
 * optiboot board without the auto-reset capacitor: DTR does nothing),
 * urboot (urboot v8.0's urprotocol, as avrdude -c urclock expects it).
 *
 * urboot (facts and sources in stk500_wire.h and docs/protocols/stk500.md):
 * every answer is framed by the pair INSYNC' OK' that encodes the MCU id
 * (avrdude.conf mcuid) and the features of urboot's default build (it can
 * read flash; no chip erase, no NOR-style writes); the opcodes 00..03 read
 * and write EEPROM and flash by byte address; anything else is answered
 * like GET_SYNC once its 20 arrives. A wrong end byte spins until the
 * 500 ms watchdog fires. EEPROM access exists with eeprom=1 (default);
 * without it an EEPROM opcode hangs until the watchdog, as urboot does.
 * The top six bytes of flash hold urboot's table (384-byte loader, v8.0,
 * EEPROM and urprotocol capability), which avrdude -c urclock reads; the
 * loader's own pages ignore writes (urboot protects itself).
 */
#include "internal.h"
#include "proto/stk500_wire.h"

enum { M_BOOT, M_APP, M_OLD, M_V2, M_CATERINA, M_SILENT, M_ECHO, M_NORESET, M_URBOOT };
static const char *const mode_names[] = {
	"bootloader", "app", "old", "stk500v2", "caterina", "silent", "echo", "noreset", "urboot"
};

enum { PH_APP, PH_START, PH_LOADER, PH_DYING };

#define SIM_FLASH_MAX  (32u * 1024u)
#define SIM_EEPROM_MAX 1024u
#define SIM_INQ        512u
#define SIM_OUT        1024u

typedef struct stk_dev {
	sd_sim_device d;
	int           mode;
	int           phase;
	sd_time       wake;           /* start delay end / watchdog / next text */
	uint8_t       sig[3];
	uint8_t       major, minor;
	int           eeprom_ok;
	sd_line_cfg   host;           /* what the host set (SD_EV_CFG) */
	int           host_known;
	unsigned      lines;          /* last DTR/RTS levels seen */
	unsigned      reset_mask;     /* which lines reach /RESET */
	int           has_lines;      /* the link carries modem lines */
	/* application */
	uint8_t       text[SD_URI_VALLEN];
	size_t        text_len;
	sd_time       period;
	/* loader parser (optiboot's getch sequence) */
	int           cmd;            /* opcode being parsed, -1 = none */
	unsigned      need;           /* argument bytes still to read */
	unsigned      got;
	uint8_t       args[8];
	unsigned      len;            /* PROG_PAGE / READ_PAGE length */
	uint8_t       memtype;
	uint32_t      addr;           /* byte address */
	uint8_t       page[256];
	unsigned      page_n;
	/* streaming a READ_PAGE answer */
	unsigned      rd_left;
	uint8_t       rd_mem;
	/* v2 / caterina */
	uint8_t       v2[16];
	size_t        v2_n;
	/* bytes in and out */
	uint8_t       rx[256];
	uint8_t       inq[SIM_INQ];
	uint8_t       inq_fe[SIM_INQ];
	size_t        inq_n;
	uint8_t       out[SIM_OUT];
	size_t        out_len, out_off;
	/* memories */
	uint8_t       flash[SIM_FLASH_MAX];
	uint8_t       eeprom[SIM_EEPROM_MAX];
	uint32_t      flash_size, eeprom_size;
	unsigned      resets, loader_runs;
	int           wdrf;           /* MCUSR.WDRF beside EXTRF at the next start */
	/* the answer frame: 14 10, or urboot's pair */
	uint8_t       r_insync, r_ok;
	unsigned      ur_addr_bytes, ur_len_bytes;
	uint32_t      ur_start;       /* first byte of urboot's own pages */
	int           ur_compat;      /* urboot <= 7.7 without URPROTOCOL: STK500v1 */
} stk_dev;

static int has_loader(const stk_dev *s)
{
	return s->mode == M_BOOT || s->mode == M_OLD || s->mode == M_NORESET ||
	       s->mode == M_V2 || s->mode == M_CATERINA || s->mode == M_URBOOT;
}

/* The loader's watchdog: optiboot 1 s, urboot 500 ms. */
static sd_time window(const stk_dev *s)
{
	return s->mode == M_URBOOT ? UR_BOOT_WINDOW : STK_BOOT_WINDOW;
}

static void put(stk_dev *s, uint8_t b)
{
	if (s->out_len < SIM_OUT)
		s->out[s->out_len++] = b;
}

static const char *cmd_name(int c)
{
	switch (c) {
	case STK_GET_SYNC: return "GET_SYNC";
	case STK_GET_SIGN_ON: return "GET_SIGN_ON";
	case STK_SET_PARAMETER: return "SET_PARAMETER";
	case STK_GET_PARAMETER: return "GET_PARAMETER";
	case STK_SET_DEVICE: return "SET_DEVICE";
	case STK_SET_DEVICE_EXT: return "SET_DEVICE_EXT";
	case STK_ENTER_PROGMODE: return "ENTER_PROGMODE";
	case STK_LEAVE_PROGMODE: return "LEAVE_PROGMODE";
	case STK_CHIP_ERASE: return "CHIP_ERASE";
	case STK_LOAD_ADDRESS: return "LOAD_ADDRESS";
	case STK_UNIVERSAL: return "UNIVERSAL";
	case STK_PROG_PAGE: return "PROG_PAGE";
	case STK_READ_PAGE: return "READ_PAGE";
	case STK_READ_SIGN: return "READ_SIGN";
	case STK_PROG_FLASH: return "PROG_FLASH";
	case STK_PROG_DATA: return "PROG_DATA";
	case STK_PROG_FUSE: return "PROG_FUSE";
	case STK_PROG_LOCK: return "PROG_LOCK";
	case STK_PROG_FUSE_EXT: return "PROG_FUSE_EXT";
	default: return "other";
	}
}

static const char *ur_cmd_name(int c)
{
	switch (c) {
	case UR_PROG_PAGE_EE: return "UR_PROG_PAGE_EE";
	case UR_READ_PAGE_EE: return "UR_READ_PAGE_EE";
	case UR_PROG_PAGE_FL: return "UR_PROG_PAGE_FL";
	case UR_READ_PAGE_FL: return "UR_READ_PAGE_FL";
	default: return cmd_name(c);
	}
}

/* Commands that write, erase or leave the loader (the probe must send none). */
static int destructive(int c)
{
	return c == STK_PROG_PAGE || c == STK_CHIP_ERASE || c == STK_UNIVERSAL ||
	       c == STK_LEAVE_PROGMODE || c == STK_PROG_FLASH || c == STK_PROG_DATA ||
	       c == STK_PROG_FUSE || c == STK_PROG_LOCK || c == STK_PROG_FUSE_EXT;
}

/* ---- phases -------------------------------------------------------- */

static void run_app(stk_dev *s, sd_time now)
{
	s->phase = PH_APP;
	s->cmd = -1;
	s->rd_left = 0;
	s->inq_n = 0;
	s->v2_n = 0;
	s->wake = now; /* the sketch prints at once, then every period */
}

static void reset_board(stk_dev *s, sd_time now, int external)
{
	s->resets++;
	s->out_len = s->out_off = 0;
	s->inq_n = 0;
	s->rd_left = 0;
	s->cmd = -1;
	s->v2_n = 0;
	if (!external) {
		run_app(s, now);
		return;
	}
	/* A reset while the loader's watchdog is armed (it still waits, or is
	 * dying): optiboot 8 then sees WDRF beside EXTRF and starts the
	 * application once (avrdude #994; 4.4 checks EXTRF only). */
	if (s->mode == M_BOOT && s->major >= 5 && (s->phase == PH_LOADER || s->phase == PH_DYING))
		s->wdrf = 1;
	s->phase = PH_START; /* start-up time, then the loader or the app */
	s->wake = now + STK_START_DELAY;
}

/* The loader would start the application now (watchdog). */
static void loader_exit(stk_dev *s, sd_time now)
{
	if (!s->has_lines) {
		/* A pty: no reset is possible, so behave as if one followed. */
		s->phase = PH_LOADER;
		s->cmd = -1;
		s->rd_left = 0;
		s->wake = now + window(s);
		s->loader_runs++;
		return;
	}
	run_app(s, now);
}

/* optiboot shortens its watchdog to 16 ms; urboot's default build just
 * spins until its 500 ms watchdog, last reset by the byte just read. */
static void die(stk_dev *s, sd_time now)
{
	s->phase = PH_DYING;
	s->wake = now + (s->mode == M_URBOOT ? UR_BOOT_WINDOW : STK_WDT_FATAL);
	s->inq_n = 0;
}

/* ---- optiboot's command loop, one received byte at a time ----------- */

static void mem_put(stk_dev *s, uint8_t memtype, uint32_t a, uint8_t v)
{
	if (memtype == STK_MEM_EEPROM && s->eeprom_ok)
		s->eeprom[a % s->eeprom_size] = v;
	else
		s->flash[a % s->flash_size] = v;
}

static uint8_t mem_get(const stk_dev *s, uint8_t memtype, uint32_t a)
{
	if (memtype == STK_MEM_EEPROM && s->eeprom_ok)
		return s->eeprom[a % s->eeprom_size];
	return s->flash[a % s->flash_size];
}

/* Bytes of header each opcode reads before its CRC_EOP. */
static unsigned args_of(int c)
{
	switch (c) {
	case STK_GET_PARAMETER: return 1;
	case STK_SET_DEVICE: return STK_SET_DEVICE_ARGS;
	case STK_SET_DEVICE_EXT: return STK_SET_DEVICE_EXT_ARGS;
	case STK_LOAD_ADDRESS: return 2;
	case STK_UNIVERSAL: return 4;
	case STK_PROG_PAGE: return 3;
	case STK_READ_PAGE: return 3;
	default: return 0;
	}
}

static unsigned page_len(const stk_dev *s)
{
	if (s->major >= 5) {
		unsigned n = ((unsigned)s->args[0] << 8) | s->args[1];
		return n; /* 0 would read nothing more */
	}
	return s->args[1] ? s->args[1] : 256u; /* 4.4: uint8_t length, do-while */
}

/* The byte that must be CRC_EOP arrived: answer the command. */
static void complete(stk_dev *s, sd_time now)
{
	int c = s->cmd;
	s->cmd = -1;
	put(s, s->r_insync);
	switch (c) {
	case STK_GET_PARAMETER:
		put(s, s->args[0] == STK_PARM_SW_MINOR ? s->minor :
		       s->args[0] == STK_PARM_SW_MAJOR ? s->major : STK_OPTIBOOT_OTHER_PARM);
		break;
	case STK_LOAD_ADDRESS:
		s->addr = (uint32_t)(s->args[0] | (s->args[1] << 8)) * 2u;
		break;
	case STK_UNIVERSAL:
		put(s, 0x00);
		break;
	case STK_PROG_PAGE:
		for (unsigned i = 0; i < s->page_n; i++)
			mem_put(s, s->memtype, s->addr + i, s->page[i]);
		if (s->memtype == STK_MEM_EEPROM && s->eeprom_ok)
			s->addr += s->page_n; /* optiboot 8 advances in EEPROM */
		break;
	case STK_READ_PAGE:
		s->rd_left = s->len;
		s->rd_mem = s->memtype;
		return; /* data and OK follow as the output drains */
	case STK_READ_SIGN:
		put(s, s->sig[0]);
		put(s, s->sig[1]);
		put(s, s->sig[2]);
		break;
	case STK_LEAVE_PROGMODE:
		/* 'Q': watchdog to 16 ms, answer, then the application. */
		put(s, STK_RESP_OK);
		s->phase = PH_DYING;
		s->wake = now + STK_WDT_FATAL;
		s->inq_n = 0;
		return;
	default:
		break;
	}
	put(s, s->r_ok);
}

static void loader_byte(stk_dev *s, uint8_t b, int fe, sd_time now)
{
	if (!fe)
		s->wake = now + window(s); /* watchdogReset() in getch() */
	if (s->cmd < 0) {
		s->cmd = b;
		s->need = args_of(b);
		s->got = 0;
		s->page_n = 0;
		sd_simlog_add(&s->d.log, now, b, cmd_name(b), destructive(b));
		return;
	}
	if (s->got < s->need) {
		if (s->got < sizeof s->args)
			s->args[s->got] = b;
		s->got++;
		if (s->got == 3 && (s->cmd == STK_PROG_PAGE || s->cmd == STK_READ_PAGE)) {
			s->len = page_len(s);
			s->memtype = s->args[2];
			if (s->cmd == STK_PROG_PAGE && s->len > 0)
				s->need += s->len; /* the page data follow */
		}
		if (s->cmd == STK_PROG_PAGE && s->got > 3 && s->page_n < sizeof s->page)
			s->page[s->page_n++] = b;
		return;
	}
	if (b != STK_CRC_EOP) {
		/* verifySpace(): watchdog to 16 ms, spin, no answer. */
		sd_simlog_add(&s->d.log, now, b, "bad CRC_EOP: dies", 0);
		die(s, now);
		return;
	}
	complete(s, now);
}

/* ---- urboot's command loop (urboot.c v8.0 main loop) --------------- */

static unsigned ur_args(const stk_dev *s, int c)
{
	return c <= UR_READ_PAGE_FL ? s->ur_addr_bytes + s->ur_len_bytes : 0;
}

static void ur_complete(stk_dev *s)
{
	int c = s->cmd;
	s->cmd = -1;
	put(s, s->r_insync);
	switch (c) {
	case UR_READ_PAGE_FL:
	case UR_READ_PAGE_EE:
		s->rd_left = s->len;
		s->rd_mem = c == UR_READ_PAGE_EE ? STK_MEM_EEPROM : STK_MEM_FLASH;
		return; /* data and OK' follow as the output drains */
	case UR_PROG_PAGE_FL:
		for (unsigned i = 0; i < s->page_n; i++)
			if ((s->addr + i) % s->flash_size < s->ur_start) /* it protects itself */
				mem_put(s, STK_MEM_FLASH, s->addr + i, s->page[i]);
		break;
	case UR_PROG_PAGE_EE:
		for (unsigned i = 0; i < s->page_n; i++)
			mem_put(s, STK_MEM_EEPROM, s->addr + i, s->page[i]);
		break;
	default:
		break; /* GET_SYNC and everything else: the pair only */
	}
	put(s, s->r_ok);
}

static void ur_byte(stk_dev *s, uint8_t b, sd_time now)
{
	s->wake = now + UR_BOOT_WINDOW; /* wdr in getch(), frame error or not */
	if (s->cmd < 0) {
		s->cmd = b;
		s->need = ur_args(s, b);
		s->got = 0;
		s->page_n = 0;
		sd_simlog_add(&s->d.log, now, b, ur_cmd_name(b),
			      b == UR_PROG_PAGE_EE || b == UR_PROG_PAGE_FL || destructive(b));
		if ((b == UR_READ_PAGE_EE || b == UR_PROG_PAGE_EE) && !s->eeprom_ok) {
			/* a build without EEPROM support spins on the opcode
			 * itself, reading nothing more, until the watchdog */
			sd_simlog_add(&s->d.log, now, b, "no EEPROM support: hangs", 0);
			s->cmd = -1;
			die(s, now);
		}
		return;
	}
	if (s->got < s->need) {
		unsigned hdr = s->ur_addr_bytes + s->ur_len_bytes;
		if (s->got < sizeof s->args)
			s->args[s->got] = b;
		s->got++;
		if (s->got == hdr) {
			s->addr = s->args[0] | ((uint32_t)s->args[1] << 8);
			if (s->ur_addr_bytes == 3)
				s->addr |= (uint32_t)s->args[2] << 16;
			const uint8_t *l = s->args + s->ur_addr_bytes;
			s->len = s->ur_len_bytes == 1 ? (l[0] ? l[0] : 256u) : (((unsigned)l[0] << 8) | l[1]);
			if (s->ur_len_bytes == 2 && !s->len)
				s->len = 65536u;
			if (s->cmd == UR_PROG_PAGE_FL || s->cmd == UR_PROG_PAGE_EE)
				s->need += s->len;
		} else if (s->got > hdr && s->page_n < sizeof s->page) {
			s->page[s->page_n++] = b;
		}
		return;
	}
	if (b != STK_CRC_EOP) {
		sd_simlog_add(&s->d.log, now, b, "bad end byte: watchdog reset", 0);
		die(s, now);
		return;
	}
	ur_complete(s);
}

/* Fill the output with READ_PAGE data as room allows. */
static void stream(stk_dev *s)
{
	while (s->rd_left && s->out_len < SIM_OUT) {
		put(s, mem_get(s, s->rd_mem, s->addr));
		s->addr++;
		s->rd_left--;
		if (!s->rd_left)
			put(s, s->r_ok);
	}
}

/* ---- the other loaders --------------------------------------------- */

/* STK500v2: answer a SIGN_ON frame, ignore anything else (no reply to
 * bytes outside a frame, as the Mega2560 loader does). */
static void v2_byte(stk_dev *s, uint8_t b, int fe, sd_time now)
{
	if (!fe)
		s->wake = now + STK_BOOT_WINDOW;
	if (s->v2_n == 0 && b != STK2_MESSAGE_START)
		return;
	if (s->v2_n < sizeof s->v2)
		s->v2[s->v2_n++] = b;
	if (s->v2_n < 5)
		return;
	size_t body = ((size_t)s->v2[2] << 8) | s->v2[3];
	if (s->v2[4] != STK2_TOKEN || body == 0 || body > sizeof s->v2 - 6) {
		s->v2_n = 0;
		return;
	}
	if (s->v2_n < 6 + body)
		return;
	uint8_t x = 0;
	for (size_t i = 0; i < 6 + body; i++)
		x ^= s->v2[i];
	uint8_t cmd = s->v2[5], seq = s->v2[1];
	s->v2_n = 0;
	if (x != 0)
		return;
	sd_simlog_add(&s->d.log, now, cmd, cmd == STK2_CMD_SIGN_ON ? "v2 SIGN_ON" : "v2 command", 0);
	if (cmd == STK2_CMD_SIGN_ON) {
		static const uint8_t sign[] = { STK2_CMD_SIGN_ON, STK2_STATUS_CMD_OK, 8,
						'A', 'V', 'R', 'I', 'S', 'P', '_', '2' };
		uint8_t f[6 + sizeof sign];
		size_t n = stk2_frame(seq, sign, sizeof sign, f);
		for (size_t i = 0; i < n; i++)
			put(s, f[i]);
	}
}

/* AVR109 (Caterina): 'S' names the loader, 'V' its version, 's' the
 * signature (last byte first), anything else '?'. */
static void avr109_byte(stk_dev *s, uint8_t b, sd_time now)
{
	s->wake = now + SD_S(8); /* Caterina waits 8 s after the touch */
	sd_simlog_add(&s->d.log, now, b, "avr109", 0);
	switch (b) {
	case 'S':
		for (const char *p = "CATERIN"; *p; p++)
			put(s, (uint8_t)*p);
		break;
	case 'V':
		put(s, '1');
		put(s, '0');
		break;
	case 's':
		put(s, s->sig[2]);
		put(s, s->sig[1]);
		put(s, s->sig[0]);
		break;
	default:
		put(s, AVR109_UNKNOWN);
		break;
	}
}

/* ---- the engine ----------------------------------------------------- */

static void crunch(stk_dev *s, sd_time now)
{
	size_t i = 0;
	for (; i < s->inq_n && s->phase == PH_LOADER && !s->rd_left; i++) {
		if (s->mode == M_V2)
			v2_byte(s, s->inq[i], s->inq_fe[i], now);
		else if (s->mode == M_CATERINA)
			avr109_byte(s, s->inq[i], now);
		else if (s->mode == M_URBOOT && !s->ur_compat)
			ur_byte(s, s->inq[i], now);
		else
			loader_byte(s, s->inq[i], s->inq_fe[i], now);
	}
	if (s->phase != PH_LOADER)
		i = s->inq_n; /* a dying or restarted board has no use for them */
	memmove(s->inq, s->inq + i, s->inq_n - i);
	memmove(s->inq_fe, s->inq_fe + i, s->inq_n - i);
	s->inq_n -= i;
	stream(s);
}

static void take(stk_dev *s, const uint8_t *b, size_t n, sd_time now)
{
	uint8_t rs[SIM_INQ], fl[SIM_INQ];
	const uint8_t *p = b;
	const uint8_t *f = NULL;
	if (s->host_known && s->host.baud && s->d.cfg.baud &&
	    (s->host.baud != s->d.cfg.baud || s->host.parity != s->d.cfg.parity)) {
		sd_line_cfg tx = s->host, rxc = s->d.cfg;
		if (!tx.data_bits) tx.data_bits = 8;
		if (!tx.stop_bits) tx.stop_bits = 1;
		int k = sd_uart_resample(&tx, &rxc, b, n, 0, rs, fl, sizeof rs);
		if (k < 0)
			k = 0;
		n = SDI_MIN((size_t)k, sizeof rs);
		p = rs;
		f = fl;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->inq_n >= SIM_INQ)
			break; /* overrun: the rest is lost */
		s->inq[s->inq_n] = p[i];
		s->inq_fe[s->inq_n] = (uint8_t)(f ? (f[i] & SD_UART_FE) != 0 : 0);
		s->inq_n++;
	}
	(void)now;
}

static void next_wait(stk_dev *s, sd_time now)
{
	sd_engine *e = &s->d.eng;
	if (s->out_off < s->out_len) {
		sd_engine_send(e, s->out + s->out_off, s->out_len - s->out_off, now + SD_S(1));
		return;
	}
	s->out_len = s->out_off = 0;
	sd_deadline dl = SD_FOREVER;
	if (s->phase == PH_START || s->phase == PH_DYING)
		dl = s->wake;
	else if (s->phase == PH_LOADER)
		dl = s->wake;
	else if (s->phase == PH_APP && (s->mode != M_SILENT && s->mode != M_ECHO) && s->text_len)
		dl = s->wake;
	sd_engine_recv(e, s->rx, sizeof s->rx, dl);
}

static void on_timer(stk_dev *s, sd_time now)
{
	switch (s->phase) {
	case PH_START:
		if (!has_loader(s)) {
			run_app(s, now);
			return;
		}
		if (s->wdrf) {
			s->wdrf = 0; /* optiboot 8 clears WDRF and starts the app */
			sd_simlog_add(&s->d.log, now, 0, "WDRF+EXTRF: app", 0);
			run_app(s, now);
			return;
		}
		s->phase = PH_LOADER;
		s->cmd = -1;
		s->wake = now + (s->mode == M_CATERINA ? SD_S(8) : window(s));
		s->loader_runs++;
		sd_simlog_add(&s->d.log, now, 0, "loader starts", 0);
		return;
	case PH_LOADER:
		sd_simlog_add(&s->d.log, now, 0, "watchdog: app starts", 0);
		loader_exit(s, now);
		return;
	case PH_DYING:
		sd_simlog_add(&s->d.log, now, 0, "watchdog reset: app", 0);
		loader_exit(s, now);
		return;
	case PH_APP:
		if (s->mode == M_SILENT || s->mode == M_ECHO || !s->text_len)
			return;
		s->out_len = s->out_off = 0;
		for (size_t i = 0; i < s->text_len; i++)
			put(s, s->text[i]);
		s->wake += s->period;
		if (s->wake <= now)
			s->wake = now + s->period;
		return;
	default:
		return;
	}
}

static void stk_step(sd_engine *e, const sd_event *ev)
{
	stk_dev *s = (stk_dev *)e;
	sd_time now = sd_now(e->clock);

	switch (ev->type) {
	case SD_EV_START:
		s->has_lines = (e->link_caps & SD_LINK_LINES) != 0;
		if (!s->has_lines && has_loader(s)) {
			/* a pty: start in the loader (see the top of this file) */
			s->phase = PH_LOADER;
			s->wake = now + window(s);
			s->loader_runs++;
		} else {
			run_app(s, now); /* power-on reset: optiboot starts the app */
		}
		break;
	case SD_EV_LINES: {
		/* A line going from deasserted to asserted drives its pin low:
		 * through the capacitor, a reset pulse. */
		unsigned rising = ev->lines & ~s->lines & s->reset_mask;
		s->lines = ev->lines;
		if (rising && s->mode != M_NORESET) {
			sd_simlog_add(&s->d.log, now, ev->lines, "reset (DTR/RTS edge)", 0);
			reset_board(s, now, 1);
		}
		break;
	}
	case SD_EV_CFG:
		s->host = ev->cfg;
		s->host_known = 1;
		break;
	case SD_EV_RECEIVED:
		if (s->mode == M_ECHO) {
			for (size_t i = 0; i < ev->n; i++)
				put(s, s->rx[i]);
			sd_simlog_add(&s->d.log, now, ev->n ? s->rx[0] : 0, "echo", 0);
			break;
		}
		if (s->phase != PH_LOADER) {
			sd_simlog_add(&s->d.log, now, ev->n ? s->rx[0] : 0,
				      s->phase == PH_APP ? "bytes to the app" : "bytes lost", 0);
			break;
		}
		take(s, s->rx, ev->n, now);
		crunch(s, now);
		break;
	case SD_EV_TIMEOUT:
		on_timer(s, now);
		break;
	case SD_EV_SENT:
		s->out_off += ev->n;
		if (s->out_off >= s->out_len) {
			s->out_len = s->out_off = 0;
			if (s->phase == PH_LOADER) {
				stream(s);
				if (!s->rd_left && s->inq_n)
					crunch(s, now);
			}
		}
		break;
	default:
		break;
	}
	next_wait(s, now);
}

static const sd_engine_ops stk_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "stk500-sim",
	.step = stk_step,
};

/* ---- options -------------------------------------------------------- */

static int hexval(char d)
{
	return (d >= '0' && d <= '9') ? d - '0' : (d >= 'a' && d <= 'f') ? d - 'a' + 10 :
	       (d >= 'A' && d <= 'F') ? d - 'A' + 10 : -1;
}

static int hexsig(const char *v, uint8_t sig[3])
{
	unsigned n = 0, d = 0, cur = 0;
	for (const char *p = v; ; p++) {
		char c = *p;
		int x = hexval(c);
		if (x >= 0 && d < 2) {
			cur = cur * 16 + (unsigned)x;
			d++;
			continue;
		}
		if (x >= 0 || d == 0 || n >= 3)
			return -1;
		sig[n++] = (uint8_t)cur;
		cur = d = 0;
		if (!c)
			break;
		if (c != ' ' && c != ':' && c != '-' && c != ',')
			return -1;
	}
	return n == 3 ? 0 : -1;
}

static int stk_init(sd_sim_device *dev, const sd_kv *kv, size_t n, char *why, size_t whylen)
{
	stk_dev *s = (stk_dev *)dev;
	static const char hello[] = "hello world\r\n";
	sd_engine_init(&s->d.eng, &stk_ops);
	s->mode = M_BOOT;
	s->cmd = -1;
	s->sig[0] = 0x1e, s->sig[1] = 0x95, s->sig[2] = 0x0f;
	s->major = 8, s->minor = 3;
	s->eeprom_ok = 1;
	s->flash_size = SIM_FLASH_MAX;
	s->eeprom_size = SIM_EEPROM_MAX;
	memset(s->flash, 0xff, sizeof s->flash);
	memset(s->eeprom, 0xff, sizeof s->eeprom);
	memcpy(s->text, hello, sizeof hello - 1);
	s->text_len = sizeof hello - 1;
	s->period = SD_MS(100);
	s->reset_mask = SD_LINE_DTR | SD_LINE_RTS;
	uint32_t baud = 0;
	int version_set = 0;

	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u;
		if (strcmp(k, "mode") == 0) {
			size_t m;
			for (m = 0; m < SDI_ARRAY_LEN(mode_names); m++)
				if (strcmp(v, mode_names[m]) == 0)
					break;
			if (m == SDI_ARRAY_LEN(mode_names)) {
				sdi_fmt(why, whylen, "sim stk500: unknown mode '%s' (modes: bootloader, app, old, "
					"stk500v2, caterina, silent, echo, noreset, urboot)", v);
				return SD_ERR_ARG;
			}
			s->mode = (int)m;
		} else if (strcmp(k, "baud") == 0) {
			if (sd_parse_u32(v, 300, 2000000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stk500: bad baud '%s' (300 to 2000000)", v);
				return SD_ERR_ARG;
			}
			baud = u;
		} else if (strcmp(k, "text") == 0) {
			int len = sdi_sim_unescape(v, s->text, sizeof s->text);
			if (len < 0) {
				sdi_fmt(why, whylen, "sim stk500: bad text '%s' (C escapes \\r \\n \\t \\xNN)", v);
				return SD_ERR_ARG;
			}
			s->text_len = (size_t)len;
		} else if (strcmp(k, "period_ms") == 0) {
			if (sd_parse_u32(v, 1, 3600000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stk500: bad period_ms '%s'", v);
				return SD_ERR_ARG;
			}
			s->period = SD_MS(u);
		} else if (strcmp(k, "sig") == 0 || strcmp(k, "part") == 0) {
			const stk_part *p = k[0] == 'p' ? stk_part_by_name(v) : NULL;
			if (p)
				memcpy(s->sig, p->sig, 3);
			else if (k[0] == 'p' || hexsig(v, s->sig) != 0) {
				sdi_fmt(why, whylen, "sim stk500: bad %s '%s' (e.g. sig=1e950f or part=m328p)", k, v);
				return SD_ERR_ARG;
			}
		} else if (strcmp(k, "version") == 0) {
			unsigned ma = 0, mi = 0;
			const char *p = v;
			while (*p >= '0' && *p <= '9' && ma < 256) ma = ma * 10 + (unsigned)(*p++ - '0');
			if (*p == '.') {
				p++;
				while (*p >= '0' && *p <= '9' && mi < 256) mi = mi * 10 + (unsigned)(*p++ - '0');
			}
			if (*p || p == v || ma > 255 || mi > 255) {
				sdi_fmt(why, whylen, "sim stk500: bad version '%s' (e.g. 8.3 or 4.4)", v);
				return SD_ERR_ARG;
			}
			s->major = (uint8_t)ma;
			s->minor = (uint8_t)mi;
			version_set = 1;
		} else if (strcmp(k, "eeprom") == 0) {
			if (sd_parse_u32(v, 0, 1, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stk500: eeprom is 0 or 1, not '%s'", v);
				return SD_ERR_ARG;
			}
			s->eeprom_ok = (int)u;
		} else if (strcmp(k, "compat") == 0) {
			if (sd_parse_u32(v, 0, 1, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim stk500: compat is 0 or 1, not '%s'", v);
				return SD_ERR_ARG;
			}
			s->ur_compat = (int)u;
		} else if (strcmp(k, "reset") == 0) {
			if (strcmp(v, "dtr") == 0) s->reset_mask = SD_LINE_DTR;
			else if (strcmp(v, "rts") == 0) s->reset_mask = SD_LINE_RTS;
			else if (strcmp(v, "both") == 0) s->reset_mask = SD_LINE_DTR | SD_LINE_RTS;
			else {
				sdi_fmt(why, whylen, "sim stk500: reset is dtr, rts or both, not '%s'", v);
				return SD_ERR_ARG;
			}
		} else {
			sdi_fmt(why, whylen, "sim stk500: unknown key '%s' (keys: mode, baud, text, period_ms, "
				"sig, part, version, eeprom, reset, compat)", k);
			return SD_ERR_ARG;
		}
	}
	const stk_part *p = stk_part_by_sig(s->sig);
	if (p) {
		s->flash_size = SDI_MIN(p->flash, SIM_FLASH_MAX);
		s->eeprom_size = SDI_MIN((uint32_t)p->eeprom, SIM_EEPROM_MAX);
	}
	s->r_insync = STK_RESP_INSYNC;
	s->r_ok = STK_RESP_OK;
	if (s->mode == M_URBOOT) {
		/* urboot v8.0's default build for this part (see the top); with
		 * compat=1 an urboot <= 7.7 built without URPROTOCOL: it speaks
		 * STK500v1 (optiboot's answers here, GET_PARAMETER answering its
		 * version as urboot's RETSWVERS builds do) over the same table. */
		if (!version_set)
			s->major = s->ur_compat ? 7 : 8, s->minor = s->ur_compat ? 7 : 0;
		if (s->major > 31 || s->minor > 7 || s->major * 8u + s->minor < 072 ||
		    (s->ur_compat && s->major >= 8)) {
			sdi_fmt(why, whylen, "sim stk500: urboot version 7.2 to 31.7 (compat=1: up to 7.7), not %u.%u",
				s->major, s->minor);
			return SD_ERR_ARG;
		}
		const stk_part *q = p ? p : stk_part_by_sig((const uint8_t[]){ 0x1e, 0x95, 0x0f });
		uint32_t fs = s->flash_size, blsize = (384u + q->page - 1u) / q->page * q->page;
		ur_pair(UB_READ_FLASH * UB_N_MCU + q->mcuid, &s->r_insync, &s->r_ok);
		s->ur_addr_bytes = q->flash > 65536u ? 3u : 2u;
		s->ur_len_bytes = q->page > 256u ? 2u : 1u;
		s->ur_start = fs - blsize;
		s->flash[fs - 6] = (uint8_t)(blsize / q->page);
		s->flash[fs - 5] = 0;    /* not a vector bootloader */
		s->flash[fs - 4] = 0x08; /* ret: no pgm_write_page() */
		s->flash[fs - 3] = 0x95;
		s->flash[fs - 2] = (uint8_t)((s->ur_compat ? 0 : UR_CAP_URPROTOCOL) | UR_CAP_PROTECTME |
					     (s->eeprom_ok ? UR_CAP_EEPROM : 0));
		s->flash[fs - 1] = (uint8_t)(s->major << 3 | s->minor); /* 0100 = v8.0 */
		if (s->ur_compat)
			s->r_insync = STK_RESP_INSYNC, s->r_ok = STK_RESP_OK;
	}
	if (!baud)
		baud = s->mode == M_OLD ? 57600 : 115200;
	if (s->mode == M_OLD && !version_set)
		s->major = 1, s->minor = 16; /* ATmegaBOOT_168.c: SW_MAJOR 0x01, SW_MINOR 0x10 */
	s->d.cfg = SD_LINE_CFG_8N1(baud);
	sdi_fmt(s->d.mode, sizeof s->d.mode, "%s", mode_names[s->mode]);
	return SD_OK;
}

const sd_sim_kind sdi_sim_stk500 = {
	.name = "stk500",
	.title = "an Arduino board with optiboot (STK500v1), or another AVR loader, or none",
	.modes = "bootloader|app|old|stk500v2|caterina|silent|echo|noreset|urboot",
	.size = sizeof(stk_dev),
	.init = stk_init,
};
