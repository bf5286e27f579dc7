/* SPDX-License-Identifier: MIT */
/* Tests of the capped buffer: growth, the hard cap with no partial
 * append, printf, reset and steal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void
test_append_grows(void **state)
{
	struct buf b;
	char expect[1001];

	(void)state;
	buf_init(&b, 4096);
	assert_null(b.data);
	for (int i = 0; i < 1000; i++) {
		char c = (char)('a' + i % 26);

		assert_int_equal(buf_append(&b, &c, 1), 0);
		expect[i] = c;
	}
	expect[1000] = '\0';
	assert_int_equal(b.len, 1000);
	assert_true(b.cap > b.len);
	assert_string_equal(b.data, expect);
	buf_fini(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void
test_cap_no_partial(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_append_str(&b, "hello"), 0);
	/* Six more would make eleven: nothing of it may land. */
	assert_int_equal(buf_append_str(&b, "world!"), -ENOBUFS);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "hello");
	assert_int_equal(buf_printf(&b, "%s", "123456"), -ENOBUFS);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "hello");
	/* Exactly to the cap is fine. */
	assert_int_equal(buf_append_str(&b, "world"), 0);
	assert_int_equal(b.len, 10);
	assert_string_equal(b.data, "helloworld");
	assert_int_equal(buf_append(&b, "x", 1), -ENOBUFS);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_string_equal(b.data, "helloworld");
	buf_fini(&b);
}

static void
test_printf(void **state)
{
	struct buf b;
	char big[300];

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_printf(&b, "a=%d ", 1), 0);
	/* Longer than the first allocation: the retry path. */
	assert_int_equal(buf_printf(&b, "b=%s", big), 0);
	assert_int_equal(b.len, 4 + 2 + 299);
	assert_memory_equal(b.data, "a=1 b=zzz", 9);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);
	buf_fini(&b);

	/* A printf over the cap after a retry leaves the old text intact. */
	buf_init(&b, 100);
	assert_int_equal(buf_printf(&b, "%s", "keep"), 0);
	assert_int_equal(buf_printf(&b, "%s", big), -ENOBUFS);
	assert_string_equal(b.data, "keep");
	assert_int_equal(b.len, 4);
	buf_fini(&b);
}

static void
test_reset_steal(void **state)
{
	struct buf b;
	size_t len = 99;
	char *s;

	(void)state;
	buf_init(&b, 64);
	s = buf_steal(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	assert_int_equal(buf_append_str(&b, "abc"), 0);
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(buf_append_str(&b, "xyz"), 0);
	s = buf_steal(&b, &len);
	assert_string_equal(s, "xyz");
	assert_int_equal(len, 3);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);
	/* Usable again after a steal, with its cap kept. */
	assert_int_equal(buf_append_str(&b, "again"), 0);
	assert_string_equal(b.data, "again");
	s = buf_steal(&b, NULL);
	assert_string_equal(s, "again");
	free(s);
	buf_fini(&b);
}

static void
test_binary(void **state)
{
	struct buf b;
	const char bin[] = {'a', '\0', 'b'};

	(void)state;
	buf_init(&b, 16);
	assert_int_equal(buf_append(&b, bin, 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, bin, 3);
	assert_int_equal(b.data[3], '\0');
	buf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_append_grows),
	    cmocka_unit_test(test_cap_no_partial),
	    cmocka_unit_test(test_printf),
	    cmocka_unit_test(test_reset_steal),
	    cmocka_unit_test(test_binary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
