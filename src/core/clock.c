/* shakedown — the fake clock (the real one lives in src/link/clock.c). */
#include "internal.h"

static sd_time fake_now(const sd_clock *c)
{
	return ((const sd_fake_clock *)(const void *)c)->t;
}

static void fake_sleep_until(const sd_clock *c, sd_time t)
{
	/* The fake clock is logically mutable state behind a const view: the
	 * same object the test owns. Jumping forward is how "waiting" works. */
	sd_fake_clock *fc = (sd_fake_clock *)(uintptr_t)(const void *)c;
	if (t > fc->t)
		fc->t = t;
}

void sd_fake_clock_init(sd_fake_clock *fc, sd_time start)
{
	fc->base.now = fake_now;
	fc->base.sleep_until = fake_sleep_until;
	fc->t = start;
}

void sd_fake_clock_advance(sd_fake_clock *fc, sd_time dt)
{
	if (dt > 0)
		fc->t = (dt >= SD_FOREVER - fc->t) ? SD_FOREVER : fc->t + dt;
}

void sd_fake_clock_set(sd_fake_clock *fc, sd_time t)
{
	if (t > fc->t)
		fc->t = t;
}
