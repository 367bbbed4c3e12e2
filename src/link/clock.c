/* shakedown — the real monotonic clock (POSIX). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <time.h>
#include "internal.h"

static sd_time real_now(const sd_clock *c)
{
	(void)c;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (sd_time)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void real_sleep_until(const sd_clock *c, sd_time t)
{
	(void)c;
	if (t == SD_FOREVER)
		return; /* never sleep forever on a caller's behalf */
	struct timespec ts = { .tv_sec = t / 1000000, .tv_nsec = (long)(t % 1000000) * 1000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static const sd_clock real_clock = {
	.now = real_now,
	.sleep_until = real_sleep_until,
};

const sd_clock *sd_clock_real(void)
{
	return &real_clock;
}
