/* SPDX-License-Identifier: MIT */
/* The system clocks, a fake clock for tests, and ISO-8601 formatting of
 * wall-clock milliseconds. */
#include <stdio.h>
#include <time.h>

#include "common/clock.h"

static uint64_t
timespec_ms(clockid_t id)
{
	struct timespec ts;

	/* Both clocks exist on every Linux; a failure here is a broken
	 * system, and 0 is the least harmful answer. */
	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
system_now_ms(void *ud)
{
	(void)ud;
	return timespec_ms(CLOCK_REALTIME);
}

static uint64_t
system_mono_ms(void *ud)
{
	(void)ud;
	return timespec_ms(CLOCK_MONOTONIC);
}

const struct clock clock_system = {
    .now_ms = system_now_ms,
    .mono_ms = system_mono_ms,
    .ud = NULL,
};

static uint64_t
fake_now_ms(void *ud)
{
	const struct clock_fake *f = ud;

	return f->now;
}

static uint64_t
fake_mono_ms(void *ud)
{
	const struct clock_fake *f = ud;

	return f->mono;
}

void
clock_fake_init(struct clock_fake *f, uint64_t now_ms)
{
	f->clock.now_ms = fake_now_ms;
	f->clock.mono_ms = fake_mono_ms;
	f->clock.ud = f;
	f->now = now_ms;
	/* Not zero, so that code treating 0 as "never" is caught by tests. */
	f->mono = 1000000;
}

void
clock_fake_advance(struct clock_fake *f, uint64_t ms)
{
	f->now += ms;
	f->mono += ms;
}

char *
clock_format_iso(uint64_t ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (outlen == 0)
		return out;
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, outlen, "%s", "0000-00-00T00:00:00.000Z");
		return out;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
	return out;
}
