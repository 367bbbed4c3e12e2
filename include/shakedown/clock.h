/*
 * shakedown — injectable monotonic clock and absolute deadlines.
 *
 * Time is a signed 64-bit count of microseconds on a monotonic scale
 * (sd_time). A deadline is an absolute sd_time on the same clock; loops and
 * retries never stretch it. SD_FOREVER means "no deadline".
 *
 * Links and the driver loop take their time from the clock they were given,
 * so tests run on a fake clock that only moves when told (sd_fake_clock), and
 * the in-process simulator runs on virtual time. Nothing in a test sleeps.
 */
#ifndef SHAKEDOWN_CLOCK_H
#define SHAKEDOWN_CLOCK_H

#include <stdint.h>
#include "shakedown/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SD_FREESTANDING) && defined(SD_TIME32)
/* A microcontroller build may take 32-bit time (64-bit arithmetic is most
 * of the code on an 8-bit core): µs from an origin the port's clock
 * chooses, so a port restarts its clock before a run (sd_run never lasts
 * near the 35 minutes 2^31 µs holds). docs/PORTING-links.md. */
typedef int32_t sd_time;
#define SD_FOREVER INT32_MAX
#else
typedef int64_t sd_time;      /* microseconds, monotonic */
#define SD_FOREVER INT64_MAX
#endif
typedef sd_time sd_deadline;  /* absolute; SD_FOREVER = none */

#define SD_MS(x) ((sd_time)(x) * 1000)
#define SD_S(x)  ((sd_time)(x) * 1000000)

typedef struct sd_clock sd_clock;
struct sd_clock {
	/* Current time. Must be monotonic (never decreases). */
	sd_time (*now)(const sd_clock *c);
	/* Optional: wait until t without busy-looping. Real clocks sleep; the fake
	 * clock jumps. NULL means the clock cannot wait (callers then poll a
	 * link until its deadline instead). */
	void (*sleep_until)(const sd_clock *c, sd_time t);
};

/* The process-wide real monotonic clock (CLOCK_MONOTONIC). Never NULL. */
SD_API const sd_clock *sd_clock_real(void);

/* A fake clock: starts at `start`, moves only through sd_fake_clock_set/
 * advance or sleep_until (which jumps to the target). Caller-allocated. */
typedef struct sd_fake_clock {
	sd_clock base;    /* first: pass &fc.base wherever a clock is wanted */
	sd_time  t;
} sd_fake_clock;

SD_API void sd_fake_clock_init(sd_fake_clock *fc, sd_time start);
SD_API void sd_fake_clock_advance(sd_fake_clock *fc, sd_time dt);
/* Moves to t if t is later than now; never backwards. */
SD_API void sd_fake_clock_set(sd_fake_clock *fc, sd_time t);

static inline sd_time sd_now(const sd_clock *c) { return c->now(c); }

/* now + us, saturating at SD_FOREVER; a negative us gives now. */
static inline sd_deadline sd_deadline_in(const sd_clock *c, sd_time us)
{
	sd_time n = c->now(c);
	if (us <= 0)
		return n;
	return (us >= SD_FOREVER - n) ? SD_FOREVER : n + us;
}

/* Microseconds left until dl (0 when passed; INT64_MAX for SD_FOREVER). */
static inline sd_time sd_deadline_left(const sd_clock *c, sd_deadline dl)
{
	if (dl == SD_FOREVER)
		return SD_FOREVER;
	sd_time n = c->now(c);
	return dl > n ? dl - n : 0;
}

static inline int sd_deadline_passed(const sd_clock *c, sd_deadline dl)
{
	return dl != SD_FOREVER && c->now(c) >= dl;
}

static inline sd_deadline sd_deadline_min(sd_deadline a, sd_deadline b)
{
	return a < b ? a : b;
}

#ifdef __cplusplus
}
#endif
#endif
