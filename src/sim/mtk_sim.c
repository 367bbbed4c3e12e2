/*
 * shakedown — simulated MediaTek phone (kind "mtk") in one of its USB modes:
 *
 *   brom       BootROM download mode: handshake, then the read-only
 *              commands; GET_BL_VER is unknown to it, so it echoes 0xFE
 *   preloader  Preloader download mode: announces "READY", answers the same
 *              commands, GET_BL_VER with its version; leaves its download
 *              window (the port vanishes) after window_ms unless a
 *              handshake completed first
 *   da         a download agent already runs: it frames everything
 *              (XFlash magic EF EE EE FE) and knows no handshake
 *   echo       the port echoes every byte
 *   bootloop   prints its boot log and garbage, then drops off the bus,
 *              `cycles` times, `period_ms` apart (in-process: the link
 *              closes; on a pty the device then stays silent)
 *
 * Keys: mode, hwcode, config (target config bits), hwsub, hwver, swver,
 * blver (Preloader), bromver, window_ms, banner (text sent on arrival,
 * "none" for nothing), period_ms, cycles.
 * Behaviour as shared/protocols/mtk.md and mtkclient's reading of each
 * command; where no source says, the choice is written beside the code.
 */
#include "internal.h"
#include "proto/mtk_wire.h"

enum { M_BROM, M_PRELOADER, M_DA, M_ECHO, M_BOOTLOOP };
static const char *const mode_names[] = { "brom", "preloader", "da", "echo", "bootloop" };

typedef struct mtk_dev {
	sd_sim_device d;
	int           mode;
	uint16_t      hwcode, hwsub, hwver, swver;
	uint32_t      config;
	uint8_t       blver, bromver;
	sd_time       window, period;
	unsigned      cycles, boots;
	char          banner[SD_URI_VALLEN];
	/* state */
	unsigned      hs;        /* handshake bytes matched, 4 = command mode */
	int           hs_done;   /* a handshake completed (the window stays open) */
	sd_time       t0, next;
	uint8_t       rx[256];
	size_t        rx_len, rx_off;
	uint8_t       out[600];
	size_t        out_len, out_off;
	uint32_t      rng;
} mtk_dev;

static void put8(mtk_dev *m, uint8_t b)
{
	if (m->out_len < sizeof m->out)
		m->out[m->out_len++] = b;
}

static void put16(mtk_dev *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put32(mtk_dev *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

/* A deterministic ID derived from the hardware code (stands in for the
 * per-device fuses). */
static void put_id(mtk_dev *m, size_t len, uint8_t salt)
{
	uint32_t s = 0x9e3779b9u ^ ((uint32_t)m->hwcode << 8) ^ salt;
	put32(m, (uint32_t)len);
	for (size_t i = 0; i < len; i++)
		put8(m, (uint8_t)sdi_rand(&s));
}

static const char *cmd_name(uint8_t c)
{
	switch (c) {
	case MTK_CMD_GET_HW_CODE: return "GET_HW_CODE";
	case MTK_CMD_GET_HW_SW_VER: return "GET_HW_SW_VER";
	case MTK_CMD_GET_BL_VER: return "GET_BL_VER";
	case MTK_CMD_GET_VERSION: return "GET_VERSION";
	case MTK_CMD_GET_TARGET_CONFIG: return "GET_TARGET_CONFIG";
	case MTK_CMD_GET_ME_ID: return "GET_ME_ID";
	case MTK_CMD_GET_SOC_ID: return "GET_SOC_ID";
	case MTK_CMD_GET_PL_CAP: return "GET_PL_CAP";
	case MTK_CMD_READ16: return "READ16";
	case MTK_CMD_READ32: return "READ32";
	case MTK_CMD_WRITE16: return "WRITE16";
	case MTK_CMD_WRITE32: return "WRITE32";
	case MTK_CMD_JUMP_DA: return "JUMP_DA";
	case MTK_CMD_JUMP_BL: return "JUMP_BL";
	case MTK_CMD_SEND_DA: return "SEND_DA";
	case MTK_CMD_JUMP_DA64: return "JUMP_DA64";
	case MTK_CMD_SEND_CERT: return "SEND_CERT";
	case MTK_CMD_SEND_AUTH: return "SEND_AUTH";
	case MTK_CMD_SLA: return "SLA";
	case MTK_CMD_C8: return "CMD_C8";
	case MTK_CMD_ZEROIZATION: return "ZEROIZATION";
	default: return "unknown";
	}
}

static int id_allowed(const mtk_dev *m)
{
	return m->mode == M_BROM || m->blver >= MTK_PL_MIN_BLVER_ID;
}

/* One command byte in command mode: log it and queue the answer. */
static void command(mtk_dev *m, uint8_t c, sd_time now)
{
	int pl = m->mode == M_PRELOADER;
	if (c == MTK_HS0) {
		/* Not a command: a host starting over (a second tool, a retry).
		 * We answer as at the start; no source says what a real BROM
		 * does here. */
		sd_simlog_add(&m->d.log, now, c, "handshake", 0);
		put8(m, mtk_hs_answer(c));
		m->hs = 1;
		return;
	}
	sd_simlog_add(&m->d.log, now, c, cmd_name(c), mtk_cmd_destructive(c));
	switch (c) {
	case MTK_CMD_GET_HW_CODE:
		put8(m, c);
		put16(m, m->hwcode);
		put16(m, MTK_STATUS_OK);
		break;
	case MTK_CMD_GET_HW_SW_VER:
		put8(m, c);
		put16(m, m->hwsub);
		put16(m, m->hwver);
		put16(m, m->swver);
		put16(m, MTK_STATUS_OK);
		break;
	case MTK_CMD_GET_BL_VER:
		put8(m, pl ? m->blver : c);
		break;
	case MTK_CMD_GET_VERSION:
		if (pl)
			put8(m, c); /* unknown to the Preloader: echo, as BROM does with 0xFE */
		else
			put8(m, m->bromver);
		break;
	case MTK_CMD_GET_TARGET_CONFIG:
		put8(m, c);
		put32(m, m->config);
		put16(m, MTK_STATUS_OK);
		break;
	case MTK_CMD_GET_ME_ID:
	case MTK_CMD_GET_SOC_ID:
		put8(m, c);
		if (!id_allowed(m))
			break; /* an old Preloader: echo only (then the host times out) */
		put_id(m, c == MTK_CMD_GET_ME_ID ? 16 : 32, c);
		put8(m, 0); /* status, little-endian per mtkclient: 0 either way */
		put8(m, 0);
		break;
	case MTK_CMD_GET_PL_CAP:
		put8(m, c);
		if (!pl)
			break;
		put32(m, MTK_PLCAP_XFLASH | (id_allowed(m) ? MTK_PLCAP_MEID | MTK_PLCAP_SOCID : 0));
		put32(m, 0);
		break;
	default:
		/* Unknown, or one we do not model (writes, uploads, jumps):
		 * echo the byte, consume nothing more. */
		put8(m, c);
		break;
	}
}

/* Feed received bytes to the handshake / command parser. */
static void consume(mtk_dev *m, const uint8_t *b, size_t n, sd_time now)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = b[i];
		if (m->hs >= MTK_HS_LEN) {
			command(m, c, now);
			continue;
		}
		if (c == mtk_hs_byte(m->hs)) {
			put8(m, mtk_hs_answer(c));
			if (++m->hs == MTK_HS_LEN) {
				m->hs_done = 1;
				sd_simlog_add(&m->d.log, now, 0xA00A5005u, "handshake done", 0);
			}
		} else if (c == MTK_HS0) {
			put8(m, mtk_hs_answer(c)); /* starting over */
			m->hs = 1;
		} else {
			/* A wrong byte: silently back to the start (no source says
			 * the ROM answers it). */
			m->hs = 0;
		}
	}
}

static void da_reply(mtk_dev *m)
{
	/* A DA frames its replies; we answer unframed bytes with one SYNC
	 * packet (our model: what a host sees is the XFlash magic). */
	for (unsigned i = 0; i < MTK_DA_MAGIC_LEN; i++)
		put8(m, mtk_da_magic_byte(i));
	const uint32_t words[] = { 1, 4, MTK_DA_SYNC_SIGNAL };
	for (size_t w = 0; w < SDI_ARRAY_LEN(words); w++)
		for (unsigned k = 0; k < 4; k++)
			put8(m, (uint8_t)(words[w] >> (8 * k)));
}

static const char boot_log[] =
	"[PLFM] Init I2C: OK(0)\r\n"
	"[PLFM] Init PMIC: OK(0)\r\n"
	"[BLDR] Build Time: 20210511-101413\r\n"
	"[PART] blksz: 512B\r\n"
	"[RAM] DRAM calibration failed, rebooting...\r\n";

static void boot_burst(mtk_dev *m)
{
	m->out_len = m->out_off = 0;
	for (size_t i = 0; i + 1 < sizeof boot_log; i++)
		put8(m, (uint8_t)boot_log[i]);
	for (unsigned i = 0; i < 40; i++)
		put8(m, (uint8_t)sdi_rand(&m->rng));
	m->boots++;
}

/* Wait for bytes until the device's own next event (window end, next boot). */
static void listen(mtk_dev *m)
{
	sd_deadline dl = SD_FOREVER;
	if (m->mode == M_PRELOADER && !m->hs_done)
		dl = m->t0 + m->window;
	else if (m->mode == M_BOOTLOOP)
		dl = m->next;
	sd_engine_recv(&m->d.eng, m->rx, sizeof m->rx, dl);
}

static void flush_out(mtk_dev *m, sd_time now)
{
	if (m->out_off < m->out_len) {
		sd_engine_send(&m->d.eng, m->out + m->out_off, m->out_len - m->out_off, now + SD_S(1));
		return;
	}
	m->out_len = m->out_off = 0;
	listen(m);
}

static void mtk_step(sd_engine *e, const sd_event *ev)
{
	mtk_dev *m = (mtk_dev *)e;
	sd_time now = sd_now(e->clock);

	switch (ev->type) {
	case SD_EV_START:
		m->t0 = now;
		m->out_len = m->out_off = 0;
		if (m->mode == M_BOOTLOOP) {
			m->next = now + m->period;
			boot_burst(m);
		} else if (m->banner[0]) {
			for (size_t i = 0; m->banner[i]; i++)
				put8(m, (uint8_t)m->banner[i]);
		}
		flush_out(m, now);
		return;
	case SD_EV_RECEIVED:
		if (m->mode == M_ECHO) {
			sd_simlog_add(&m->d.log, now, ev->n ? m->rx[0] : 0, "bytes (echoed)", 0);
			m->out_len = m->out_off = 0;
			for (size_t i = 0; i < ev->n; i++)
				put8(m, m->rx[i]);
		} else if (m->mode == M_DA) {
			sd_simlog_add(&m->d.log, now, ev->n ? m->rx[0] : 0, "bytes (not a DA packet)", 0);
			m->out_len = m->out_off = 0;
			da_reply(m);
		} else if (m->mode == M_BOOTLOOP) {
			sd_simlog_add(&m->d.log, now, ev->n ? m->rx[0] : 0, "bytes (booting)", 0);
		} else {
			m->out_len = m->out_off = 0;
			consume(m, m->rx, ev->n, now);
		}
		flush_out(m, now);
		return;
	case SD_EV_SENT:
		m->out_off += ev->n;
		flush_out(m, now);
		return;
	case SD_EV_TIMEOUT:
		if (m->mode == M_PRELOADER && !m->hs_done) {
			/* The window closed: the Preloader boots on and its
			 * USB port goes away. */
			sd_simlog_add(&m->d.log, now, 0, "window closed", 0);
			sd_engine_fail(e, SD_ERR_CLOSED);
			return;
		}
		if (m->mode == M_BOOTLOOP) {
			if (m->boots >= m->cycles) {
				sd_simlog_add(&m->d.log, now, 0, "dropped off the bus", 0);
				sd_engine_fail(e, SD_ERR_CLOSED);
				return;
			}
			m->next = now + m->period;
			boot_burst(m);
			flush_out(m, now);
			return;
		}
		listen(m);
		return;
	default: /* lines, settings, control answers: a USB device ignores them */
		if (m->out_off < m->out_len)
			flush_out(m, now);
		else
			listen(m);
		return;
	}
}

static const sd_engine_ops mtk_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "mtk-sim",
	.step = mtk_step,
};

static int num(const char *k, const char *v, uint32_t max, uint32_t *out, char *why, size_t whylen)
{
	if (sd_parse_u32(v, 0, max, out) != SD_OK) {
		sdi_fmt(why, whylen, "sim mtk: bad %s '%s' (0 to 0x%x)", k, v, max);
		return SD_ERR_ARG;
	}
	return SD_OK;
}

static int mtk_init(sd_sim_device *dev, const sd_kv *kv, size_t n, char *why, size_t whylen)
{
	mtk_dev *m = (mtk_dev *)dev;
	int banner_set = 0;
	sd_engine_init(&m->d.eng, &mtk_ops);
	m->mode = M_BROM;
	m->hwcode = 0x0707;
	m->hwsub = 0x8A00;
	m->hwver = 0xCA00;
	m->swver = 0x0000;
	m->config = 0;
	m->blver = 3;
	m->bromver = 5;
	m->window = SD_MS(MTK_PL_WINDOW_MS);
	m->period = SD_MS(700);
	m->cycles = 3;
	m->rng = 0x6d746b;
	m->d.cfg = SD_LINE_CFG_8N1(115200);

	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u = 0;
		int r = SD_OK;
		if (strcmp(k, "mode") == 0) {
			size_t j;
			for (j = 0; j < SDI_ARRAY_LEN(mode_names); j++)
				if (strcmp(v, mode_names[j]) == 0)
					break;
			if (j == SDI_ARRAY_LEN(mode_names)) {
				sdi_fmt(why, whylen, "sim mtk: unknown mode '%s' (modes: brom, preloader, da, echo, bootloop)", v);
				return SD_ERR_ARG;
			}
			m->mode = (int)j;
		} else if (strcmp(k, "hwcode") == 0) {
			r = num(k, v, 0xFFFF, &u, why, whylen);
			m->hwcode = (uint16_t)u;
		} else if (strcmp(k, "hwsub") == 0) {
			r = num(k, v, 0xFFFF, &u, why, whylen);
			m->hwsub = (uint16_t)u;
		} else if (strcmp(k, "hwver") == 0) {
			r = num(k, v, 0xFFFF, &u, why, whylen);
			m->hwver = (uint16_t)u;
		} else if (strcmp(k, "swver") == 0) {
			r = num(k, v, 0xFFFF, &u, why, whylen);
			m->swver = (uint16_t)u;
		} else if (strcmp(k, "config") == 0) {
			r = num(k, v, 0xFFFFFFFFu, &u, why, whylen);
			m->config = u;
		} else if (strcmp(k, "blver") == 0) {
			r = num(k, v, 0xFF, &u, why, whylen);
			if (r == SD_OK && u == MTK_CMD_GET_BL_VER) {
				sdi_fmt(why, whylen, "sim mtk: blver 0xfe would read as BROM");
				return SD_ERR_ARG;
			}
			m->blver = (uint8_t)u;
		} else if (strcmp(k, "bromver") == 0) {
			r = num(k, v, 0xFF, &u, why, whylen);
			m->bromver = (uint8_t)u;
		} else if (strcmp(k, "window_ms") == 0 || strcmp(k, "period_ms") == 0) {
			r = num(k, v, 3600000, &u, why, whylen);
			if (r == SD_OK && u == 0) {
				sdi_fmt(why, whylen, "sim mtk: %s must be at least 1", k);
				return SD_ERR_ARG;
			}
			if (k[0] == 'w')
				m->window = SD_MS(u);
			else
				m->period = SD_MS(u);
		} else if (strcmp(k, "cycles") == 0) {
			r = num(k, v, 1000, &u, why, whylen);
			m->cycles = u ? u : 1;
		} else if (strcmp(k, "banner") == 0) {
			sdi_fmt(m->banner, sizeof m->banner, "%s", strcmp(v, "none") == 0 ? "" : v);
			banner_set = 1;
		} else {
			sdi_fmt(why, whylen, "sim mtk: unknown key '%s' (keys: mode, hwcode, config, hwsub, hwver, "
				"swver, blver, bromver, window_ms, banner, period_ms, cycles)", k);
			return SD_ERR_ARG;
		}
		if (r)
			return r;
	}
	if (!banner_set && m->mode == M_PRELOADER)
		sdi_fmt(m->banner, sizeof m->banner, "READY");
	sdi_fmt(m->d.mode, sizeof m->d.mode, "%s", mode_names[m->mode]);
	return SD_OK;
}

const sd_sim_kind sdi_sim_mtk = {
	.name = "mtk",
	.title = "a MediaTek phone in BROM, Preloader or DA mode, echoing, or bootlooping",
	.modes = "brom|preloader|da|echo|bootloop",
	.size = sizeof(mtk_dev),
	.init = mtk_init,
};
