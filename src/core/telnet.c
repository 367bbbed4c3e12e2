/*
 * shakedown — Telnet decoding (RFC 854) for the RFC 2217 link, sans I/O.
 *
 * One byte at a time through a five-state machine. Bounds: a
 * subnegotiation keeps at most SD_TELNET_SB_MAX bytes; a server that never
 * ends one (no IAC SE) runs into that bound and gets an error, so no input
 * can make the decoder grow or loop. Errors are sticky.
 */
#include "internal.h"

enum { ST_DATA = 0, ST_IAC, ST_OPT, ST_SB, ST_SB_IAC };

void sd_telnet_init(sd_telnet *t)
{
	if (t)
		memset(t, 0, sizeof *t);
}

static int tn_fail(sd_telnet *t, const char *why)
{
	t->err = SD_ERR_PROTO;
	sdi_fmt(t->why, sizeof t->why, "%s", why);
	return SD_ERR_PROTO;
}

int sd_telnet_feed(sd_telnet *t, const uint8_t *in, size_t n, uint8_t *out, size_t outcap,
		   size_t *outlen, sd_telnet_ev *ev)
{
	size_t o = 0, i = 0;
	if (outlen)
		*outlen = 0;
	if (!t || !ev || (n && !in) || (outcap && !out))
		return SD_ERR_ARG;
	memset(ev, 0, sizeof *ev);
	if (t->err)
		return t->err;
	for (; i < n; i++) {
		uint8_t b = in[i];
		switch (t->state) {
		case ST_DATA:
			if (b == SD_TN_IAC) {
				t->state = ST_IAC;
				break;
			}
			if (o >= outcap)
				goto out; /* b is not consumed */
			out[o++] = b;
			t->data_bytes++;
			break;
		case ST_IAC:
			if (b == SD_TN_IAC) { /* a doubled 0xFF: one data byte */
				if (o >= outcap)
					goto out; /* stay in ST_IAC: the pair completes next call */
				out[o++] = b;
				t->data_bytes++;
				t->state = ST_DATA;
			} else if (b >= SD_TN_WILL && b <= SD_TN_DONT) {
				t->cmd = b;
				t->state = ST_OPT;
			} else if (b == SD_TN_SB) {
				t->sb_len = 0;
				t->state = ST_SB;
			} else {
				/* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, a stray SE,
				 * or a byte below 0xF0 (not a command: RFC 854 has
				 * none; reported as one so it is not lost silently) */
				t->state = ST_DATA;
				t->commands++;
				ev->kind = SD_TN_EV_COMMAND;
				ev->cmd = b;
				i++;
				goto out;
			}
			break;
		case ST_OPT:
			t->state = ST_DATA;
			t->commands++;
			ev->kind = SD_TN_EV_OPTION;
			ev->cmd = t->cmd;
			ev->opt = b;
			i++;
			goto out;
		case ST_SB:
			if (b == SD_TN_IAC) {
				t->state = ST_SB_IAC;
				break;
			}
			if (t->sb_len >= SD_TELNET_SB_MAX)
				return tn_fail(t, "a subnegotiation runs past 64 bytes without IAC SE");
			t->sb[t->sb_len++] = b;
			break;
		case ST_SB_IAC:
			if (b == SD_TN_IAC) {
				if (t->sb_len >= SD_TELNET_SB_MAX)
					return tn_fail(t, "a subnegotiation runs past 64 bytes without IAC SE");
				t->sb[t->sb_len++] = b;
				t->state = ST_SB;
				break;
			}
			if (b != SD_TN_SE)
				return tn_fail(t, "IAC followed by a command inside a subnegotiation (no IAC SE)");
			if (t->sb_len == 0)
				return tn_fail(t, "a subnegotiation without an option byte");
			t->state = ST_DATA;
			t->commands++;
			ev->kind = SD_TN_EV_SUBNEG;
			ev->opt = t->sb[0];
			ev->data = t->sb + 1;
			ev->len = t->sb_len - 1;
			i++;
			goto out;
		default:
			return tn_fail(t, "decoder state corrupted");
		}
	}
out:
	if (outlen)
		*outlen = o;
	return (int)i;
}

size_t sd_telnet_escape(const uint8_t *in, size_t n, uint8_t *out, size_t outcap, size_t *used)
{
	size_t o = 0, i = 0;
	for (; i < n; i++) {
		size_t need = in[i] == SD_TN_IAC ? 2 : 1;
		if (o + need > outcap)
			break;
		out[o++] = in[i];
		if (need == 2)
			out[o++] = SD_TN_IAC;
	}
	if (used)
		*used = i;
	return o;
}

size_t sd_telnet_option(uint8_t *out, uint8_t cmd, uint8_t opt)
{
	out[0] = SD_TN_IAC;
	out[1] = cmd;
	out[2] = opt;
	return 3;
}

size_t sd_telnet_comport(uint8_t *out, size_t outcap, uint8_t code, const uint8_t *val, size_t vlen)
{
	if (!out || outcap < 6 + 2 * vlen || (vlen && !val))
		return 0;
	size_t o = 0;
	out[o++] = SD_TN_IAC;
	out[o++] = SD_TN_SB;
	out[o++] = SD_TN_OPT_COMPORT;
	out[o++] = code;
	if (code == SD_TN_IAC)
		out[o++] = SD_TN_IAC;
	size_t used;
	o += sd_telnet_escape(val, vlen, out + o, outcap - o - 2, &used);
	out[o++] = SD_TN_IAC;
	out[o++] = SD_TN_SE;
	return o;
}

const char *sd_telnet_comport_name(unsigned code)
{
	static const char *const names[] = {
		"SIGNATURE", "SET-BAUDRATE", "SET-DATASIZE", "SET-PARITY", "SET-STOPSIZE",
		"SET-CONTROL", "NOTIFY-LINESTATE", "NOTIFY-MODEMSTATE", "FLOWCONTROL-SUSPEND",
		"FLOWCONTROL-RESUME", "SET-LINESTATE-MASK", "SET-MODEMSTATE-MASK", "PURGE-DATA",
	};
	if (code >= SD_CPO_SERVER)
		code -= SD_CPO_SERVER;
	return code < SDI_ARRAY_LEN(names) ? names[code] : NULL;
}

int sd_telnet_looks_like(const uint8_t *b, size_t n)
{
	if (!b || n < 3 || b[0] != SD_TN_IAC)
		return 0;
	return (b[1] >= SD_TN_WILL && b[1] <= SD_TN_DONT) || b[1] == SD_TN_SB;
}
