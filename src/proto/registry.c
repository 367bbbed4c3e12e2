/*
 * shakedown — the protocol table: one row per protocol module, defined in
 * the module's own file (src/proto/<p>.c). `probe` and `explain` only walk
 * this table.
 */
#include "internal.h"

static const sd_proto *const protos[] = {
	&sdi_proto_stk500,
	&sdi_proto_stm32,
	&sdi_proto_mtk,
	&sdi_proto_esp,
	&sdi_proto_tls,
};

int sdi_say(char *out, size_t outlen, int likely, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sdi_vfmt(out, outlen, fmt, ap);
	va_end(ap);
	return likely;
}

int sdi_sent_is(const uint8_t *tx, size_t tx_len, const uint8_t *want, size_t n)
{
	return tx && tx_len >= n && memcmp(tx + tx_len - n, want, n) == 0;
}

size_t sd_proto_count(void)
{
	return SDI_ARRAY_LEN(protos);
}

const sd_proto *sd_proto_at(size_t i)
{
	return i < SDI_ARRAY_LEN(protos) ? protos[i] : NULL;
}

const sd_proto *sd_proto_find(const char *name)
{
	for (size_t i = 0; name && i < SDI_ARRAY_LEN(protos); i++)
		if (strcmp(protos[i]->name, name) == 0)
			return protos[i];
	return NULL;
}

int sd_proto_serves(const sd_proto *p, sd_proto_use use, char *why, size_t whylen)
{
	char dummy[1];
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof dummy;
	}
	why[0] = '\0';
	if (!p)
		return 0;
	switch (use) {
	case SD_PROTO_USE_SESSION:
		if (p->session)
			return 1;
		if (p->own_command)
			return sdi_say(why, whylen, 0, "has its own command: %s", p->own_command);
		return sdi_say(why, whylen, 0, "has no sync/info client yet%s%s%s",
			       p->explain ? " (shakedown explain --expect " : "", p->explain ? p->name : "",
			       p->explain ? " reads its bytes)" : "");
	case SD_PROTO_USE_POKE:
		if (p->own_command)
			return sdi_say(why, whylen, 0, "has its own command: %s", p->own_command);
		if (p->poke && p->poke_len && p->line.baud)
			return 1;
		return sdi_say(why, whylen, 0, "has no read-only first frame for probe to send yet%s%s%s",
			       p->explain ? " (shakedown explain --expect " : "", p->explain ? p->name : "",
			       p->explain ? " reads its bytes)" : "");
	case SD_PROTO_USE_EXPLAIN:
		if (p->explain)
			return 1;
		return sdi_say(why, whylen, 0, "has no reading of received bytes yet");
	default:
		return sdi_say(why, whylen, 0, "is not asked for that");
	}
}

size_t sd_proto_names_for(sd_proto_use use, char *out, size_t outlen)
{
	size_t k = 0;
	if (out && outlen)
		out[0] = '\0';
	for (size_t i = 0; i < SDI_ARRAY_LEN(protos); i++) {
		if (!sd_proto_serves(protos[i], use, NULL, 0))
			continue;
		if (out && outlen)
			sdi_append(out, outlen, "%s%s", k ? ", " : "", protos[i]->name);
		k++;
	}
	return k;
}

int sd_proto_find_for(const char *name, sd_proto_use use, const sd_proto **out, char *why,
		      size_t whylen)
{
	const sd_proto *p = sd_proto_find(name);
	char names[160], phrase[160];
	if (out)
		*out = p;
	if (!p) {
		sd_proto_names_for(use, names, sizeof names);
		sdi_fmt(why, whylen, "unknown protocol '%.40s' (%s)", name ? name : "", names);
		return SD_ERR_NOTFOUND;
	}
	if (!sd_proto_serves(p, use, phrase, sizeof phrase)) {
		sdi_fmt(why, whylen, "%s %s", p->name, phrase);
		return SD_ERR_UNSUPPORTED;
	}
	if (why && whylen)
		why[0] = '\0';
	return SD_OK;
}
