/* SPDX-License-Identifier: MIT */
/* Tests of the strict number, duration, size and boolean parsers: good
 * values, every kind of junk, bounds and overflow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/parse.h"

static void
test_u64_good(void **state)
{
	uint64_t v = 99;

	(void)state;
	assert_int_equal(parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_u64("007", 0, 100, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_u64("18446744073709551615", 0, UINT64_MAX, &v),
			 0);
	assert_true(v == UINT64_MAX);
}

static void
test_u64_junk(void **state)
{
	static const char *const junk[] = {
	    "",	   " 1",  "1 ",	 "+1",	"-1", "-0",  "1a",    "a1", "0x10",
	    "1.0", "1e3", "\t1", "1\n", " ",  "--1", "1,000", "١",
	};
	uint64_t v = 1234;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(parse_u64(junk[i], 0, UINT64_MAX, &v),
				 -EINVAL);
		assert_int_equal(v, 1234); /* untouched on failure */
	}
	assert_int_equal(parse_u64(NULL, 0, 1, &v), -EINVAL);
}

static void
test_u64_bounds_overflow(void **state)
{
	uint64_t v = 5;

	(void)state;
	assert_int_equal(parse_u64("9", 10, 20, &v), -ERANGE);
	assert_int_equal(parse_u64("21", 10, 20, &v), -ERANGE);
	assert_int_equal(parse_u64("10", 10, 20, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_u64("20", 10, 20, &v), 0);
	assert_int_equal(v, 20);
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
			 -ERANGE);
	assert_int_equal(
	    parse_u64("99999999999999999999999999", 0, UINT64_MAX, &v),
	    -ERANGE);
	/* Junk after a huge number is still junk. */
	assert_int_equal(
	    parse_u64("99999999999999999999999999x", 0, UINT64_MAX, &v),
	    -EINVAL);
	assert_int_equal(v, 20);
}

static void
test_i64(void **state)
{
	int64_t v = 0;

	(void)state;
	assert_int_equal(parse_i64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(parse_i64("7", -10, 10, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(parse_i64("-0", -10, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(
	    parse_i64("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MIN);
	assert_int_equal(
	    parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(
	    parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, &v),
	    -ERANGE);
	assert_int_equal(
	    parse_i64("-9223372036854775809", INT64_MIN, INT64_MAX, &v),
	    -ERANGE);
	assert_int_equal(parse_i64("-11", -10, 10, &v), -ERANGE);
	assert_int_equal(parse_i64("11", -10, 10, &v), -ERANGE);
	assert_int_equal(parse_i64("+1", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64("-", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64("--1", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64(" -1", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64("- 1", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64("", -10, 10, &v), -EINVAL);
	assert_int_equal(parse_i64("1x", -10, 10, &v), -EINVAL);
}

static void
test_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
	    {"0", 0},	       {"0s", 0},	 {"250ms", 250},
	    {"30s", 30000},    {"5m", 300000},	 {"2h", 7200000},
	    {"7d", 604800000}, {"1000ms", 1000},
	};
	static const char *const junk[] = {
	    "",	    "10",   "s",   "-1s",   "+1s", " 1s",  "1s ",  "1 s", "1S",
	    "1sec", "1.5s", "1hm", "1h30m", "ms",  "1mss", "1d\n", "0x",
	};
	uint64_t v = 77;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(
		    parse_duration_ms(good[i].s, 0, UINT64_MAX, &v), 0);
		assert_true(v == good[i].ms);
	}
	v = 77;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		assert_int_equal(parse_duration_ms(junk[i], 0, UINT64_MAX, &v),
				 -EINVAL);
	}
	assert_int_equal(v, 77);
	assert_int_equal(parse_duration_ms("999ms", 1000, 60000, &v), -ERANGE);
	assert_int_equal(parse_duration_ms("2m", 1000, 60000, &v), -ERANGE);
	assert_int_equal(parse_duration_ms("1m", 1000, 60000, &v), 0);
	assert_int_equal(v, 60000);
	/* The multiplication overflows although the digits fit. */
	assert_int_equal(
	    parse_duration_ms("18446744073709551615d", 0, UINT64_MAX, &v),
	    -ERANGE);
	assert_int_equal(parse_duration_ms("213503982335d", 0, UINT64_MAX, &v),
			 -ERANGE);
	assert_int_equal(parse_duration_ms("213503982334d", 0, UINT64_MAX, &v),
			 0);
	assert_true(v == 213503982334ULL * 86400000ULL);
	assert_int_equal(
	    parse_duration_ms("99999999999999999999s", 0, UINT64_MAX, &v),
	    -ERANGE);
	assert_int_equal(
	    parse_duration_ms("99999999999999999999q", 0, UINT64_MAX, &v),
	    -EINVAL);
}

static void
test_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
	    {"0", 0},
	    {"512", 512},
	    {"64k", 65536},
	    {"64K", 65536},
	    {"64KiB", 65536},
	    {"16M", 16777216},
	    {"16MiB", 16777216},
	    {"1G", 1073741824},
	    {"1GiB", 1073741824},
	    {"2T", 2199023255552ULL},
	};
	static const char *const junk[] = {
	    "",	  "k",	  "64 k", "64kb", "64KB", "64kib", "-1",
	    "+1", "1.5M", " 1",	  "1 ",	  "64Ki", "64iB",  "1P",
	};
	uint64_t v = 3;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_size(good[i].s, 0, UINT64_MAX, &v), 0);
		assert_true(v == good[i].v);
	}
	v = 3;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(parse_size(junk[i], 0, UINT64_MAX, &v),
				 -EINVAL);
	assert_int_equal(v, 3);
	assert_int_equal(parse_size("1025", 0, 1024, &v), -ERANGE);
	assert_int_equal(parse_size("2k", 0, 1024, &v), -ERANGE);
	assert_int_equal(parse_size("1k", 0, 1024, &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(parse_size("16777216T", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_size("16777215T", 0, UINT64_MAX, &v), 0);
}

static void
test_bool(void **state)
{
	static const char *const t[] = {"true", "yes", "on", "1"};
	static const char *const f[] = {"false", "no", "off", "0"};
	static const char *const junk[] = {
	    "",	     "True",  "TRUE", "y",  "n",     "2",
	    " true", "true ", "onn",  "-1", "truex",
	};
	bool b;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		b = false;
		assert_int_equal(parse_bool(t[i], &b), 0);
		assert_true(b);
		b = true;
		assert_int_equal(parse_bool(f[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		b = true;
		assert_int_equal(parse_bool(junk[i], &b), -EINVAL);
		assert_true(b);
	}
	assert_int_equal(parse_bool(NULL, &b), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64_good),
	    cmocka_unit_test(test_u64_junk),
	    cmocka_unit_test(test_u64_bounds_overflow),
	    cmocka_unit_test(test_i64),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
