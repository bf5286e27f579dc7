/* SPDX-License-Identifier: MIT */
/* Tests of the clocks: the fake clock moves only when told, the system
 * clocks are sane, and ISO-8601 formatting is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/clock.h"

static void
test_fake(void **state)
{
	struct clock_fake f;
	const struct clock *c = &f.clock;
	uint64_t m0;

	(void)state;
	clock_fake_init(&f, 1763704560123ULL);
	assert_true(clock_now_ms(c) == 1763704560123ULL);
	m0 = clock_mono_ms(c);
	assert_true(clock_now_ms(c) == 1763704560123ULL);
	clock_fake_advance(&f, 1500);
	assert_true(clock_now_ms(c) == 1763704561623ULL);
	assert_true(clock_mono_ms(c) == m0 + 1500);
	/* Tests may also set the fields directly, e.g. to step wall time
	 * back while monotonic time goes on. */
	f.now -= 10000;
	clock_fake_advance(&f, 1);
	assert_true(clock_now_ms(c) == 1763704551624ULL);
	assert_true(clock_mono_ms(c) == m0 + 1501);
}

static void
test_system(void **state)
{
	uint64_t now = clock_now_ms(&clock_system);
	uint64_t m1 = clock_mono_ms(&clock_system);
	uint64_t m2 = clock_mono_ms(&clock_system);

	(void)state;
	/* After 2020-01-01 and before 2200-01-01. */
	assert_true(now > 1577836800000ULL);
	assert_true(now < 7258118400000ULL);
	assert_true(m2 >= m1);
}

static void
test_format_iso(void **state)
{
	char out[32];
	char small[10];

	(void)state;
	assert_ptr_equal(clock_format_iso(0, out, sizeof(out)), out);
	assert_string_equal(out, "1970-01-01T00:00:00.000Z");
	clock_format_iso(1763704560123ULL, out, sizeof(out));
	assert_string_equal(out, "2025-11-21T05:56:00.123Z");
	clock_format_iso(1795240560999ULL, out, 25);
	assert_string_equal(out, "2026-11-21T05:56:00.999Z");
	clock_format_iso(951782400001ULL, out, sizeof(out)); /* leap day */
	assert_string_equal(out, "2000-02-29T00:00:00.001Z");
	/* Too small a buffer is truncated, still terminated. */
	clock_format_iso(0, small, sizeof(small));
	assert_string_equal(small, "1970-01-0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fake),
	    cmocka_unit_test(test_system),
	    cmocka_unit_test(test_format_iso),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
