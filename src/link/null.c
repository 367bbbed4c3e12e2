/* shakedown — null: writes vanish, reads wait out their deadline. */
#include <stdlib.h>
#include "internal.h"

static int null_read(sd_link *l, uint8_t *buf, size_t len, sd_deadline dl)
{
	(void)buf;
	(void)len;
	if (dl != SD_FOREVER)
		sd_link_sleep_until(l, dl);
	else
		return sdi_link_fail(l, SD_ERR_TIMEOUT, "null: nothing will ever arrive");
	return SD_ERR_TIMEOUT;
}

static int null_write(sd_link *l, const uint8_t *buf, size_t len, sd_deadline dl)
{
	(void)l;
	(void)buf;
	(void)dl;
	return (int)len;
}

static void null_close(sd_link *l)
{
	free(l);
}

static const sd_link_ops sd_link_null_ops = {
	.version = SD_LINK_OPS_V1,
	.name = "null",
	.caps = SD_LINK_BYTES,
	.read = null_read,
	.write = null_write,
	.close = null_close,
};

int sd_link_open_null(const sd_clock *clock, sd_link **out)
{
	if (!out)
		return SD_ERR_ARG;
	sd_link *l = calloc(1, sizeof *l);
	if (!l)
		return SD_ERR_NOMEM;
	sd_link_init(l, &sd_link_null_ops, clock);
	*out = l;
	return SD_OK;
}
