/* SPDX-License-Identifier: MIT */
/* An injectable clock: code that needs the time takes a `struct clock`, so
 * tests move time forward instead of sleeping. */
#ifndef CMDBUS_COMMON_CLOCK_H
#define CMDBUS_COMMON_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct clock {
	/* Wall time, milliseconds since the Unix epoch, UTC. */
	uint64_t (*now_ms)(void *ud);
	/* Monotonic milliseconds, for timeouts and intervals. */
	uint64_t (*mono_ms)(void *ud);
	void *ud;
};

/* The real clocks (CLOCK_REALTIME and CLOCK_MONOTONIC). */
extern const struct clock clock_system;

static inline uint64_t
clock_now_ms(const struct clock *c)
{
	return c->now_ms(c->ud);
}

static inline uint64_t
clock_mono_ms(const struct clock *c)
{
	return c->mono_ms(c->ud);
}

/* A clock for tests that only moves when told to. */
struct clock_fake {
	struct clock clock; /* pass &fake.clock */
	uint64_t now;
	uint64_t mono;
};
void clock_fake_init(struct clock_fake *f, uint64_t now_ms);
void clock_fake_advance(struct clock_fake *f, uint64_t ms);

/* Formats `ms` since the epoch as "2026-11-21T05:56:00.123Z" into out
 * (at least 25 bytes). Returns out. */
char *clock_format_iso(uint64_t ms, char *out, size_t outlen);

#endif
