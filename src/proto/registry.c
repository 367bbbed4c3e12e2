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
