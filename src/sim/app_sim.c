/*
 * shakedown — the generic simulated board (kind "app"): a board whose
 * application runs and prints text, or that is silent, echoes, or bootloops.
 * It is the board behind most "not in sync: resp=0x68" reports: 0x68 is the
 * 'h' of "hello", printed because the bootloader was never entered.
 *
 * A DTR or RTS change is a reset: the application starts over.
 */
#include "internal.h"

enum { APP_TEXT, APP_SILENT, APP_ECHO, APP_BOOTLOOP };

typedef struct app_dev {
	sd_sim_device d;
	int           mode;
	uint8_t       text[SD_URI_VALLEN];
	size_t        text_len;
	sd_time       period, first;
	sd_time       next;           /* when to print next */
	uint8_t       rx[256];
	uint8_t       out[512];
	size_t        out_len, out_off;
	uint32_t      rng;
	unsigned      boots;
} app_dev;

/* ESP32 ROM boot banner: what a board in flash-boot mode prints after reset. */
static const char boot_banner[] =
	"ets Jun  8 2016 00:22:57\r\n\r\n"
	"rst:0xc (SW_CPU_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n"
	"configsip: 0, SPIWP:0xee\r\n"
	"mode:DIO, clock div:2\r\n"
	"load:0x3fff0030,len:1184\r\n"
	"entry 0x400805f0\r\n"
	"Guru Meditation Error: Core  0 panic'ed (LoadProhibited)\r\n";

static void schedule(app_dev *a)
{
	sd_engine_recv(&a->d.eng, a->rx, sizeof a->rx, a->mode == APP_TEXT || a->mode == APP_BOOTLOOP
			       ? a->next : SD_FOREVER);
}

static void prepare_output(app_dev *a)
{
	a->out_off = 0;
	if (a->mode == APP_TEXT) {
		memcpy(a->out, a->text, a->text_len);
		a->out_len = a->text_len;
		return;
	}
	/* bootloop: the banner, then the garbage of a crashing CPU */
	size_t n = sizeof boot_banner - 1;
	memcpy(a->out, boot_banner, n);
	for (size_t i = 0; i < 48 && n < sizeof a->out; i++)
		a->out[n++] = (uint8_t)sdi_rand(&a->rng);
	a->out_len = n;
	a->boots++;
}

static void app_step(sd_engine *e, const sd_event *ev)
{
	app_dev *a = (app_dev *)e;
	sd_time now = sd_now(e->clock);

	switch (ev->type) {
	case SD_EV_START:
		a->next = now + a->first;
		schedule(a);
		return;
	case SD_EV_LINES:
		sd_simlog_add(&a->d.log, now, ev->lines, "reset (DTR/RTS)", 0);
		a->next = now + a->first;
		a->out_len = a->out_off = 0;
		schedule(a);
		return;
	case SD_EV_CFG:
		schedule(a);
		return;
	case SD_EV_RECEIVED:
		sd_simlog_add(&a->d.log, now, ev->n ? a->rx[0] : 0, "bytes", 0);
		if (a->mode == APP_ECHO) {
			memcpy(a->out, a->rx, ev->n);
			a->out_len = ev->n;
			a->out_off = 0;
			sd_engine_send(e, a->out, a->out_len, now + SD_S(1));
			return;
		}
		schedule(a);
		return;
	case SD_EV_TIMEOUT:
		if (a->mode == APP_TEXT || a->mode == APP_BOOTLOOP) {
			prepare_output(a);
			sd_engine_send(e, a->out, a->out_len, now + SD_S(1));
			return;
		}
		schedule(a);
		return;
	case SD_EV_SENT:
		a->out_off += ev->n;
		if (a->out_off < a->out_len) {
			sd_engine_send(e, a->out + a->out_off, a->out_len - a->out_off, now + SD_S(1));
			return;
		}
		if (a->mode == APP_TEXT || a->mode == APP_BOOTLOOP) {
			a->next += a->period;
			if (a->next <= now) /* catch up after a long gap, as a FIFO would drop */
				a->next = now + a->period;
		}
		schedule(a);
		return;
	default: /* a link error or a control answer: keep running */
		schedule(a);
		return;
	}
}

static const sd_engine_ops app_ops = {
	.version = SD_ENGINE_OPS_V1,
	.name = "app-sim",
	.step = app_step,
};


static int app_init(sd_sim_device *dev, const sd_kv *kv, size_t n, char *why, size_t whylen)
{
	app_dev *a = (app_dev *)dev;
	static const char hello[] = "hello world\r\n";
	sd_engine_init(&a->d.eng, &app_ops);
	a->mode = APP_TEXT;
	memcpy(a->text, hello, sizeof hello - 1);
	a->text_len = sizeof hello - 1;
	a->period = SD_MS(100);
	a->first = 0;
	a->rng = 0x5eed;
	a->d.cfg = SD_LINE_CFG_8N1(115200);

	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u;
		if (strcmp(k, "mode") == 0) {
			if (strcmp(v, "app") == 0) a->mode = APP_TEXT;
			else if (strcmp(v, "silent") == 0) a->mode = APP_SILENT;
			else if (strcmp(v, "echo") == 0) a->mode = APP_ECHO;
			else if (strcmp(v, "bootloop") == 0) a->mode = APP_BOOTLOOP;
			else {
				sdi_fmt(why, whylen, "sim app: unknown mode '%s' (modes: app, silent, echo, bootloop)", v);
				return SD_ERR_ARG;
			}
		} else if (strcmp(k, "text") == 0) {
			int len = sdi_sim_unescape(v, a->text, sizeof a->text);
			if (len <= 0) {
				sdi_fmt(why, whylen, "sim app: bad text '%s' (C escapes \\r \\n \\t \\xNN; not empty)", v);
				return SD_ERR_ARG;
			}
			a->text_len = (size_t)len;
		} else if (strcmp(k, "baud") == 0) {
			if (sd_parse_u32(v, 50, 20000000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim app: bad baud '%s' (50 to 20000000)", v);
				return SD_ERR_ARG;
			}
			a->d.cfg.baud = u;
		} else if (strcmp(k, "period_ms") == 0 || strcmp(k, "first_ms") == 0) {
			if (sd_parse_u32(v, k[0] == 'p' ? 1 : 0, 3600000, &u) != SD_OK) {
				sdi_fmt(why, whylen, "sim app: bad %s '%s' (milliseconds)", k, v);
				return SD_ERR_ARG;
			}
			if (k[0] == 'p')
				a->period = SD_MS(u);
			else
				a->first = SD_MS(u);
		} else {
			sdi_fmt(why, whylen, "sim app: unknown key '%s' (keys: mode, text, baud, period_ms, first_ms)", k);
			return SD_ERR_ARG;
		}
	}
	const char *names[] = { "app", "silent", "echo", "bootloop" };
	sdi_fmt(a->d.mode, sizeof a->d.mode, "%s", names[a->mode]);
	return SD_OK;
}

const sd_sim_kind sdi_sim_app = {
	.name = "app",
	.title = "a board running its application (prints text), or silent, echoing, bootlooping",
	.modes = "app|silent|echo|bootloop",
	.size = sizeof(app_dev),
	.init = app_init,
};
