/*
 * shakedown — sd_link_open: a target URI to a link.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "internal.h"

int sdi_line_cfg_from_kv(const sd_kv *kv, size_t n, sd_line_cfg *cfg, char *why, size_t whylen)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = kv[i].key, *v = kv[i].val;
		uint32_t u;
		if (strcmp(k, "baud") == 0) {
			if (sd_parse_u32(v, 50, 20000000, &u) != SD_OK)
				goto bad;
			cfg->baud = u;
		} else if (strcmp(k, "data") == 0) {
			if (sd_parse_u32(v, 5, 8, &u) != SD_OK)
				goto bad;
			cfg->data_bits = (uint8_t)u;
		} else if (strcmp(k, "stop") == 0) {
			if (sd_parse_u32(v, 1, 2, &u) != SD_OK)
				goto bad;
			cfg->stop_bits = (uint8_t)u;
		} else if (strcmp(k, "parity") == 0) {
			static const char *const names[] = { "none", "odd", "even", "mark", "space" };
			size_t p = 0;
			while (p < 5 && strcmp(v, names[p]) != 0)
				p++;
			if (p == 5)
				goto bad;
			cfg->parity = (uint8_t)p;
		} else if (strcmp(k, "flow") == 0) {
			if (strcmp(v, "none") == 0) cfg->flow = SD_FLOW_NONE;
			else if (strcmp(v, "rtscts") == 0) cfg->flow = SD_FLOW_RTSCTS;
			else if (strcmp(v, "xonxoff") == 0) cfg->flow = SD_FLOW_XONXOFF;
			else
				goto bad;
		} else {
			sdi_fmt(why, whylen, "unknown serial option '%s' (baud, data, parity, stop, flow)", k);
			return SD_ERR_ARG;
		}
		continue;
bad:
		sdi_fmt(why, whylen, "bad value '%s' for %s", v, k);
		return SD_ERR_ARG;
	}
	return SD_OK;
}

/* Unix98 pty slaves (major 136..143) have no modem lines: libserialport
 * refuses them, the plain tty link serves them. */
static int is_pty(const char *path)
{
	struct stat st;
	if (strncmp(path, "/dev/pts/", 9) == 0)
		return 1;
	if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	return major(st.st_rdev) >= 136 && major(st.st_rdev) <= 143;
}

int sd_link_open(const char *target, const sd_link_opts *opts, sd_link **out,
		 char *why, size_t whylen)
{
	static const sd_link_opts defaults = { .clock = NULL, .open_by = SD_FOREVER };
	char scratch[8];
	if (!why) {
		why = scratch;
		whylen = sizeof scratch;
	}
	if (!out)
		return SD_ERR_ARG;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	sd_uri *u = calloc(1, sizeof *u); /* 9 KiB: not on a small stack */
	if (!u)
		return SD_ERR_NOMEM;
	int r = sd_uri_parse(target, u, why, whylen);
	if (r)
		goto done;

	const sd_clock *clock = opts->clock ? opts->clock : sd_clock_real();
	sd_line_cfg cfg = opts->cfg;
	if (!cfg.baud)
		cfg.baud = 115200;
	if (!cfg.data_bits)
		cfg.data_bits = 8;
	if (!cfg.stop_bits)
		cfg.stop_bits = 1;

	if (strcmp(u->scheme, "sim") == 0) {
		r = sd_sim_open(u->path, u->q, u->nq, out, why, whylen);
		if (!r && opts->cfg.baud) {
			r = sd_link_set_cfg(*out, &cfg);
			if (r) {
				sd_link_close(*out);
				*out = NULL;
			}
		}
	} else if (strcmp(u->scheme, "tcp") == 0) {
		if (u->nq) {
			sdi_fmt(why, whylen, "tcp targets take no options ('%s')", u->q[0].key);
			r = SD_ERR_ARG;
			goto done;
		}
		sd_deadline dl = opts->open_by != SD_FOREVER ? opts->open_by
							       : sd_deadline_in(clock, SD_S(5));
		r = sd_link_open_tcp(u->host, u->port, clock, dl, out, why, whylen);
	} else if (strcmp(u->scheme, "rfc2217") == 0) {
		sd_deadline dl = opts->open_by != SD_FOREVER ? opts->open_by
							       : sd_deadline_in(clock, SD_S(5));
		r = sdi_link_open_rfc2217(u->host, u->port, u->q, u->nq, &cfg, clock, dl, out, why, whylen);
	} else if (strcmp(u->scheme, "usb") == 0) {
		r = sdi_link_open_usb(u->path, u->q, u->nq, clock, out, why, whylen);
	} else if (strcmp(u->scheme, "null") == 0) {
		r = sd_link_open_null(clock, out);
	} else if (u->scheme[0] == '\0' || strcmp(u->scheme, "serial") == 0) {
		r = sdi_line_cfg_from_kv(u->q, u->nq, &cfg, why, whylen);
		if (r)
			goto done;
		if (is_pty(u->path))
			r = sd_link_open_tty(u->path, &cfg, clock, out, why, whylen);
		else
			r = sd_link_open_serial(u->path, &cfg, clock, out, why, whylen);
	} else {
		sdi_fmt(why, whylen, "unknown target scheme '%s:' (try /dev/ttyUSB0, tcp://host:port, rfc2217://host:port, sim:app)",
			u->scheme);
		r = SD_ERR_ARG;
	}
done:
	free(u);
	return r;
}
