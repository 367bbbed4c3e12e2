/*
 * shakedown — simulated devices.
 *
 * A simulated device is a device-role engine (engine.h) plus a mode, its
 * own line settings and a command log. It runs
 *   - in-process behind `sim:PROTO?key=value&...` targets: the host side is
 *     a fault link over a mem pair, and the device is stepped on virtual time
 *     whenever the host would block, so a simulated second costs microseconds;
 *   - on a pty via `shakedown sim PROTO [key=value ...]`, on the real clock,
 *     for external tools (avrdude, stm32flash, your own).
 * Common keys: mode, text, baud (the device's rate), noise (bit-error rate),
 * seed, and the fault keys flood, flood_after, flood_kind, drop, dup,
 * delay_ms, echo, disconnect_after.
 *
 * Every command a device receives goes into its log, with a flag for the
 * destructive ones (write, erase, go/jump, protect), so tests can assert
 * that a probe sent none.
 */
#ifndef SHAKEDOWN_SIM_H
#define SHAKEDOWN_SIM_H

#include <stddef.h>
#include <stdint.h>
#include "shakedown/export.h"
#include "shakedown/clock.h"
#include "shakedown/engine.h"
#include "shakedown/link.h"
#include "shakedown/uri.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SD_SIMLOG_MAX 256

typedef struct sd_simlog_entry {
	sd_time  t;              /* device clock, µs */
	uint32_t code;           /* protocol opcode */
	uint8_t  destructive;
	char     name[24];
} sd_simlog_entry;

typedef struct sd_simlog {
	sd_simlog_entry e[SD_SIMLOG_MAX];
	size_t          n;       /* stored */
	size_t          total;   /* seen, including those past SD_SIMLOG_MAX */
	size_t          destructive; /* destructive commands seen */
	/* Optional: called for every entry as it is added (e.g. to log it). */
	void          (*notify)(void *ctx, const sd_simlog_entry *e);
	void           *notify_ctx;
} sd_simlog;

SD_API void sd_simlog_add(sd_simlog *log, sd_time t, uint32_t code,
			  const char *name, int destructive);

/* Base of every simulated device; a device struct embeds it first. */
typedef struct sd_sim_device {
	sd_engine   eng;         /* device role */
	sd_simlog   log;
	sd_line_cfg cfg;         /* the device's own line settings */
	char        mode[24];
	uint16_t    usb_vid, usb_pid; /* the USB identity its port claims (sim: links); 0:0 none */
	/* Set by a device whose port leaves the bus (a USB device that
	 * re-enumerates as it resets): the port is gone until this time on the
	 * link clock. In process (sd_sim_open) the host's link then fails with
	 * SD_ERR_CLOSED, and sd_link_reopen succeeds only from then on. 0 = on
	 * the bus; the host takes the value (and clears it). */
	sd_time     gone_until;
} sd_sim_device;

typedef struct sd_sim_kind {
	const char *name;        /* "app", "stm32", ... */
	const char *title;
	const char *modes;       /* "app|silent|echo|bootloop" */
	size_t      size;        /* sizeof the device struct */
	/* Initialise d (size bytes, zeroed) from options; SD_ERR_ARG + why on a
	 * bad or unknown key. Keys common to all (noise, seed, fault keys) are
	 * the host's and are not passed here. */
	int (*init)(sd_sim_device *d, const sd_kv *opts, size_t nopts,
		    char *why, size_t whylen);
} sd_sim_kind;

SD_API size_t sd_sim_count(void);
SD_API const sd_sim_kind *sd_sim_at(size_t i);
SD_API const sd_sim_kind *sd_sim_find(const char *name);
/* The device kind called `name`: SD_OK and *out. Otherwise SD_ERR_NOTFOUND
 * and one line in why: for a name of the protocol table that has no
 * simulated device, that it has none yet (and, for tls, its own command);
 * for any other name, the kinds there are. why is always NUL-terminated
 * (whylen > 0). @since 0.1 */
SD_API int sd_sim_find_for(const char *name, const sd_sim_kind **out, char *why, size_t whylen);

/* Open an in-process simulated device; *out is the host-side link (caps
 * include SD_LINK_VIRTUAL; its clock is the device's virtual clock). */
SD_API int sd_sim_open(const char *proto, const sd_kv *opts, size_t nopts,
		       sd_link **out, char *why, size_t whylen);
/* Split options into the host's fault keys (noise, seed, flood, flood_after,
 * flood_kind, drop, dup, delay_ms, echo, disconnect_after -> fc) and the
 * device's own (copied to dev, at most SD_URI_MAXQ). SD_ERR_ARG + why on a
 * bad value. */
SD_API int sd_sim_fault_keys(const sd_kv *opts, size_t nopts, sd_fault_cfg *fc,
			     sd_kv *dev, size_t *ndev, char *why, size_t whylen);
/* The device behind a link from sd_sim_open (NULL for any other link). */
SD_API sd_sim_device *sd_sim_device_of(sd_link *l);

/* Serve a device on a link (e.g. a pty master) on that link's clock until
 * *stop becomes non-zero. Returns SD_OK, or the link error that ended it. */
SD_API int sd_sim_serve(sd_sim_device *d, sd_link *l, volatile int *stop);

#ifdef __cplusplus
}
#endif
#endif
