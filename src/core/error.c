/* shakedown — the error table: one row per class, names and sentences. */
#include "internal.h"

static const struct {
	int         code;
	const char *name;
	const char *sentence;
} err_table[] = {
	{ SD_OK,              "SD_OK",              "success" },
	{ SD_ERR_ARG,         "SD_ERR_ARG",         "invalid argument" },
	{ SD_ERR_IO,          "SD_ERR_IO",          "input/output error" },
	{ SD_ERR_TIMEOUT,     "SD_ERR_TIMEOUT",     "deadline passed" },
	{ SD_ERR_CLOSED,      "SD_ERR_CLOSED",      "device disconnected" },
	{ SD_ERR_ACCESS,      "SD_ERR_ACCESS",      "permission denied" },
	{ SD_ERR_BUSY,        "SD_ERR_BUSY",        "in use by another program" },
	{ SD_ERR_NOMEM,       "SD_ERR_NOMEM",       "out of memory" },
	{ SD_ERR_UNSUPPORTED, "SD_ERR_UNSUPPORTED", "not supported by this link" },
	{ SD_ERR_PROTO,       "SD_ERR_PROTO",       "unexpected bytes from the peer" },
	{ SD_ERR_NACK,        "SD_ERR_NACK",        "refused by the peer" },
	{ SD_ERR_STATE,       "SD_ERR_STATE",       "not valid in this state" },
	{ SD_ERR_NOTFOUND,    "SD_ERR_NOTFOUND",    "no such device" },
	{ SD_ERR_OVERFLOW,    "SD_ERR_OVERFLOW",    "budget exceeded" },
};

_Static_assert(SDI_ARRAY_LEN(err_table) == SD_ERR_COUNT,
	       "error table must list every sd_err");

static int err_index(int err)
{
	/* The codes are 0, -1, ..., -(COUNT-1): the table is in that order. */
	if (err > 0 || err <= -SD_ERR_COUNT)
		return -1;
	return -err;
}

const char *sd_errname(int err)
{
	int i = err_index(err);
	return i < 0 ? "SD_ERR_UNKNOWN" : err_table[i].name;
}

const char *sd_strerror(int err)
{
	int i = err_index(err);
	return i < 0 ? "unknown error" : err_table[i].sentence;
}
