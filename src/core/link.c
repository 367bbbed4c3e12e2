/*
 * shakedown — the link wrappers: the one choke point through which every
 * byte and line event passes, where errors become sticky and the transcript
 * is written. Backends never write the transcript themselves.
 */
#include "internal.h"

void sd_link_init(sd_link *l, const sd_link_ops *ops, const sd_clock *clock)
{
	l->ops = ops;
#ifdef SD_FREESTANDING
	l->clock = clock; /* a port always has its own tick */
#else
	l->clock = clock ? clock : sd_clock_real();
	l->tap = NULL;
#endif
	l->caps = ops->caps;
	l->usb_vid = l->usb_pid = 0;
	l->sticky = SD_OK;
	l->os_errno = 0;
	memset(&l->cfg, 0, sizeof l->cfg);
	l->lines = 0;
#ifndef SD_FREESTANDING
	l->why[0] = '\0';
#endif
}

#ifndef SD_FREESTANDING
int sdi_link_fail(sd_link *l, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(l->why, sizeof l->why, fmt, ap);
	va_end(ap);
	return err;
}

void sd_link_tap(sd_link *l, sd_transcript *t, const char *target)
{
	if (!l)
		return;
	l->tap = t;
	if (t && target)
		sd_transcript_bytes(t, SD_TR_OPEN, (const uint8_t *)target, strlen(target));
}
#endif

/* The transcript choke point; nothing to record in a freestanding build. */
#ifdef SD_FREESTANDING
#define TAP(l, call) ((void)0)
#else
#define TAP(l, call) do { if ((l)->tap) call; } while (0)
#endif

static int is_fatal(int err)
{
	return err == SD_ERR_CLOSED || err == SD_ERR_IO;
}

/* Every failure of the medium goes through here: fatal ones stick. */
static int link_error(sd_link *l, int err)
{
	if (is_fatal(err)) {
		l->sticky = err;
		TAP(l, sd_transcript_error(l->tap, err));
	}
	return err;
}

int sd_link_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	if (!l || !buf || len == 0)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (len > SD_LINK_MAX_IO)
		len = SD_LINK_MAX_IO;
	int n = l->ops->read(l, buf, len, dl);
	if (n < 0)
		return link_error(l, n);
	if (n == 0 || (size_t)n > len) /* contract breach by a backend */
		return link_error(l, SD_ERR_IO);
	TAP(l, sd_transcript_bytes(l->tap, SD_TR_RX, buf, (size_t)n));
	return n;
}

int sd_link_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	if (!l || !buf || len == 0)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (len > SD_LINK_MAX_IO)
		len = SD_LINK_MAX_IO;
	int n = l->ops->write(l, buf, len, dl);
	if (n < 0)
		return link_error(l, n);
	if (n == 0 || (size_t)n > len)
		return link_error(l, SD_ERR_IO);
	TAP(l, sd_transcript_bytes(l->tap, SD_TR_TX, buf, (size_t)n));
	return n;
}

int sd_link_read_exact(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl, size_t *got)
{
	size_t have = 0;
	int r = SD_OK;
	while (have < len) {
		r = sd_link_read(l, buf + have, len - have, dl);
		if (r < 0)
			break;
		have += (size_t)r;
		r = SD_OK;
	}
	if (got)
		*got = have;
	return r;
}

int sd_link_write_all(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	size_t done = 0;
	while (done < len) {
		int r = sd_link_write(l, buf + done, len - done, dl);
		if (r < 0)
			return r;
		done += (size_t)r;
	}
	return SD_OK;
}

int sd_link_drain(sd_link *l, sd_time quiet, sd_deadline dl)
{
	uint8_t buf[SDI_DRAIN_BUF];
	int total = 0;
	for (;;) {
		sd_deadline q = sd_deadline_min(sd_deadline_in(l->clock, quiet), dl);
		int r = sd_link_read(l, buf, sizeof buf, q);
		if (r == SD_ERR_TIMEOUT)
			return total;
		if (r < 0)
			return r;
		total += r;
		if (total > SDI_DRAIN_MAX || sd_deadline_passed(l->clock, dl))
			return total;
	}
}

int sd_link_flush(sd_link *l, unsigned dirs)
{
	if (!l)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (!l->ops->flush)
		return SD_ERR_UNSUPPORTED;
	int r = l->ops->flush(l, dirs);
	if (r < 0)
		return link_error(l, r);
#ifndef SD_FREESTANDING
	if (l->tap) {
		sd_trec rec = { .kind = SD_TR_FLUSH, .a = dirs };
		sd_transcript_add(l->tap, &rec);
	}
#endif
	return SD_OK;
}

int sd_link_set_cfg(sd_link *l, const sd_line_cfg *cfg)
{
	if (!l || !cfg)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (!l->ops->set_cfg)
		return SD_ERR_UNSUPPORTED;
	int r = l->ops->set_cfg(l, cfg);
	if (r < 0)
		return link_error(l, r);
	l->cfg = *cfg;
	TAP(l, sd_transcript_cfg(l->tap, cfg));
	return SD_OK;
}

int sd_link_set_lines(sd_link *l, unsigned mask, unsigned level)
{
	if (!l)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (!l->ops->set_lines)
		return SD_ERR_UNSUPPORTED;
	mask &= SD_LINE_DTR | SD_LINE_RTS;
	int r = l->ops->set_lines(l, mask, level);
	if (r < 0)
		return link_error(l, r);
	l->lines = (l->lines & ~mask) | (level & mask);
	TAP(l, sd_transcript_lines(l->tap, mask, l->lines));
	return SD_OK;
}

int sd_link_get_lines(sd_link *l, unsigned *level)
{
	if (!l || !level)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (!l->ops->get_lines)
		return SD_ERR_UNSUPPORTED;
	int r = l->ops->get_lines(l, level);
	return r < 0 ? link_error(l, r) : SD_OK;
}

int sd_link_break(sd_link *l, sd_time duration)
{
	if (!l || duration < 0)
		return SD_ERR_ARG;
	if (l->sticky)
		return l->sticky;
	if (!l->ops->send_break)
		return SD_ERR_UNSUPPORTED;
	int r = l->ops->send_break(l, duration);
	if (r < 0)
		return link_error(l, r);
#ifndef SD_FREESTANDING
	if (l->tap) {
		sd_trec rec = { .kind = SD_TR_BREAK, .a = (uint32_t)SDI_MIN(duration, (sd_time)UINT32_MAX) };
		sd_transcript_add(l->tap, &rec);
	}
#endif
	return SD_OK;
}

void sd_link_sleep_until(sd_link *l, sd_time t)
{
	if (l && l->clock->sleep_until)
		l->clock->sleep_until(l->clock, t);
}

void sd_link_clear_error(sd_link *l)
{
	if (l) {
		l->sticky = SD_OK;
		l->os_errno = 0;
#ifndef SD_FREESTANDING
		l->why[0] = '\0';
#endif
	}
}

/* The medium again, as it was: the settings and the line levels the host
 * last set (a new handle starts from the OS's defaults). A link without
 * modem lines learnt so (caps) and is not asked. */
static int reapply(sd_link *l)
{
	sd_line_cfg cfg = l->cfg;
	int r = SD_OK;
	if (cfg.baud && l->ops->set_cfg)
		r = sd_link_set_cfg(l, &cfg);
	if ((r == SD_OK || r == SD_ERR_UNSUPPORTED) && (l->caps & SD_LINK_LINES) && l->ops->set_lines)
		r = sd_link_set_lines(l, SD_LINE_DTR | SD_LINE_RTS, l->lines);
	return r == SD_ERR_UNSUPPORTED ? SD_OK : r;
}

int sd_link_can_reopen(const sd_link *l)
{
	return l && l->ops->version >= SD_LINK_OPS_V2 && l->ops->reopen;
}

int sd_link_reopen(sd_link *l, sd_deadline dl)
{
	if (!l)
		return SD_ERR_ARG;
	if (!sd_link_can_reopen(l))
		return SD_ERR_UNSUPPORTED;
#ifndef SD_FREESTANDING
	if (l->tap) {
		const char *was = l->sticky ? sd_link_why(l, l->sticky) : "";
		sd_transcript_bytes(l->tap, SD_TR_REOPEN, (const uint8_t *)was, strlen(was));
	}
#endif
	int r = l->ops->reopen(l, dl);
	if (r < 0) {
		/* not sticky: the link stays dead with the error it had */
		TAP(l, sd_transcript_error(l->tap, r));
		return r;
	}
	sd_link_clear_error(l);
	return reapply(l);
}

void sd_link_close(sd_link *l)
{
	if (!l)
		return;
#ifndef SD_FREESTANDING
	if (l->tap) {
		sd_trec rec = { .kind = SD_TR_CLOSE };
		sd_transcript_add(l->tap, &rec);
	}
#endif
	if (l->ops->close)
		l->ops->close(l);
}

#ifndef SD_FREESTANDING
const char *sd_link_name(const sd_link *l)
{
	return l && l->ops ? l->ops->name : "none";
}

const char *sd_link_why(const sd_link *l, int err)
{
	if (l && l->why[0])
		return l->why;
	return sd_strerror(err);
}
#endif /* SD_FREESTANDING */
