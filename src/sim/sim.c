/*
 * shakedown — the table of simulated device kinds, the command log, and
 * sd_sim_serve: a device engine served over a real link (a pty master) on
 * that link's clock.
 */
#include "internal.h"

static const sd_sim_kind *const kinds[] = {
	&sdi_sim_app,
	&sdi_sim_stm32,
	&sdi_sim_stk500,
	&sdi_sim_mtk,
	&sdi_sim_esp,
};

size_t sd_sim_count(void)
{
	return SDI_ARRAY_LEN(kinds);
}

const sd_sim_kind *sd_sim_at(size_t i)
{
	return i < SDI_ARRAY_LEN(kinds) ? kinds[i] : NULL;
}

const sd_sim_kind *sd_sim_find(const char *name)
{
	for (size_t i = 0; name && i < SDI_ARRAY_LEN(kinds); i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return kinds[i];
	return NULL;
}

int sd_sim_find_for(const char *name, const sd_sim_kind **out, char *why, size_t whylen)
{
	const sd_sim_kind *k = sd_sim_find(name);
	if (out)
		*out = k;
	if (why && whylen)
		why[0] = '\0';
	if (k)
		return SD_OK;
	const sd_proto *p = sd_proto_find(name);
	if (p && p->own_command) {
		sdi_fmt(why, whylen, "%s has no simulated device; it has its own command: %s", p->name,
			p->own_command);
		return SD_ERR_NOTFOUND;
	}
	if (p) {
		sdi_fmt(why, whylen, "%s has no simulated device yet", p->name);
		return SD_ERR_NOTFOUND;
	}
	sdi_fmt(why, whylen, "no simulated device '%.40s' (", name ? name : "");
	for (size_t i = 0; i < SDI_ARRAY_LEN(kinds); i++)
		sdi_append(why, whylen, "%s%s", i ? ", " : "", kinds[i]->name);
	sdi_append(why, whylen, ")");
	return SD_ERR_NOTFOUND;
}

void sd_simlog_add(sd_simlog *log, sd_time t, uint32_t code, const char *name, int destructive)
{
	sd_simlog_entry tmp, *e = log->n < SD_SIMLOG_MAX ? &log->e[log->n++] : &tmp;
	log->total++;
	if (destructive)
		log->destructive++;
	e->t = t;
	e->code = code;
	e->destructive = destructive ? 1 : 0;
	sdi_fmt(e->name, sizeof e->name, "%s", name ? name : "");
	if (log->notify)
		log->notify(log->notify_ctx, e);
}

/* How often the serve loop looks at *stop, at the longest. */
#define SERVE_TICK SD_MS(100)
/* ... and at the host's modem lines, on a link that reports them
 * (a pty with a lines FIFO): a reset pulse is tens of ms long. */
#define SERVE_LINES_TICK SD_MS(2)

int sd_sim_serve(sd_sim_device *d, sd_link *l, volatile int *stop)
{
	if (!d || !l || !stop)
		return SD_ERR_ARG;
	sd_engine *e = &d->eng;
	e->clock = l->clock;
	e->link_caps = l->caps;
	sd_event ev = { .type = SD_EV_START };
	e->ops->step(e, &ev);
	int watch = (l->caps & SD_LINK_LINES) != 0;
	unsigned lines = 0;
	if (watch && sd_link_get_lines(l, &lines) != SD_OK)
		watch = 0;

	while (!*stop) {
		unsigned st = e->state;
		sd_time now = sd_now(l->clock);
		sd_deadline tick = now + SERVE_TICK;
		memset(&ev, 0, sizeof ev);
		unsigned lv;
		if (watch && sd_link_get_lines(l, &lv) == SD_OK &&
		    (lv & (SD_LINE_DTR | SD_LINE_RTS)) != lines) {
			lines = lv & (SD_LINE_DTR | SD_LINE_RTS);
			ev.type = SD_EV_LINES;
			ev.lines = lines;
			e->ops->step(e, &ev);
			continue;
		}
		if (st & (SD_ENG_DONE | SD_ENG_FAILED)) {
			/* A device that stopped (a loader that jumped away) stays
			 * silent until the server is stopped. */
			uint8_t sink[64];
			int r = sd_link_read(l, sink, sizeof sink, tick);
			if (r < 0 && r != SD_ERR_TIMEOUT)
				return r;
			continue;
		}
		if (st & SD_ENG_CTRL) {
			ev.type = SD_EV_CTRL_DONE;
			if (e->ctrl.op == SD_CTRL_WAIT) {
				if (watch)
					tick = now + SERVE_LINES_TICK;
				if (e->ctrl.until > tick) {
					sd_link_sleep_until(l, tick);
					continue;
				}
				sd_link_sleep_until(l, e->ctrl.until);
			}
		} else if (st & SD_ENG_SEND) {
			int n = sd_link_write(l, e->tx, e->tx_len, sd_deadline_min(e->deadline, tick));
			if (n == SD_ERR_TIMEOUT) {
				/* Nobody drains the line: drop, as a UART with nobody
				 * listening would, rather than stall the device. */
				ev.type = SD_EV_SENT;
				ev.n = e->tx_len;
			} else if (n < 0) {
				return n;
			} else {
				ev.type = SD_EV_SENT;
				ev.n = (size_t)n;
			}
		} else if (st & SD_ENG_RECV) {
			sd_deadline dl = sd_deadline_min(e->deadline, watch ? now + SERVE_LINES_TICK : tick);
			int n = sd_link_read(l, e->rx, e->rx_cap, dl);
			if (n == SD_ERR_TIMEOUT) {
				if (dl < e->deadline)
					continue; /* our tick, not the device's timer */
				ev.type = SD_EV_TIMEOUT;
			} else if (n < 0) {
				return n;
			} else {
				ev.type = SD_EV_RECEIVED;
				ev.n = (size_t)n;
			}
		} else {
			return SD_ERR_STATE;
		}
		e->ops->step(e, &ev);
	}
	return SD_OK;
}

/* The `text=` value of a simulated device: \r \n \t \\ \0 and \xHH escapes
 * (percent-decoding already happened in the URI parser). Bounded by cap. */
int sdi_sim_unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; s[i]; i++) {
		uint8_t c = (uint8_t)s[i];
		if (c == '\\' && s[i + 1]) {
			char k = s[++i];
			if (k == 'r') c = '\r';
			else if (k == 'n') c = '\n';
			else if (k == 't') c = '\t';
			else if (k == '\\') c = '\\';
			else if (k == '0') c = 0;
			else if (k == 'x') {
				unsigned v = 0, d = 0;
				while (d < 2 && s[i + 1]) {
					char h = s[i + 1];
					int x = (h >= '0' && h <= '9') ? h - '0' :
						(h >= 'a' && h <= 'f') ? h - 'a' + 10 :
						(h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
					if (x < 0)
						break;
					v = v * 16 + (unsigned)x;
					i++;
					d++;
				}
				if (d == 0)
					return -1;
				c = (uint8_t)v;
			} else
				return -1;
		}
		if (n >= cap)
			return -1;
		out[n++] = c;
	}
	return (int)n;
}
