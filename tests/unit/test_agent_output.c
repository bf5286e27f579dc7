/* SPDX-License-Identifier: MIT */
/* The output keeper: first half and last half, exact bytes, total count,
 * and the shrinking that keeps a result under the message limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"

static void
take(const struct output *o, struct cmdbus_stream *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(output_take(o, s), 0);
}

static void
keeps_everything_under_max(void **state)
{
	struct output o;
	struct cmdbus_stream s;

	output_init(&o, 10);
	output_append(&o, "0123", 4);
	output_append(&o, "456789", 6);
	take(&o, &s);
	assert_int_equal(s.kept.len, 10);
	assert_memory_equal(s.kept.data, "0123456789", 10);
	assert_false(s.truncated);
	assert_int_equal(s.bytes, 10);
	free(s.kept.data);
	output_fini(&o);
}

static void
keeps_first_and_last_half(void **state)
{
	struct output o;
	struct cmdbus_stream s;
	const char *text = "0123456789ABCDEFGHIJ";

	/* Byte by byte, so the ring wraps many times. */
	output_init(&o, 10);
	for (size_t i = 0; i < 20; i++)
		output_append(&o, text + i, 1);
	take(&o, &s);
	assert_int_equal(s.kept.len, 10);
	assert_memory_equal(s.kept.data, "01234FGHIJ", 10);
	assert_true(s.truncated);
	assert_int_equal(s.bytes, 20);
	free(s.kept.data);
	output_fini(&o);

	/* One write larger than the whole keeper. */
	output_init(&o, 10);
	output_append(&o, text, 20);
	take(&o, &s);
	assert_memory_equal(s.kept.data, "01234FGHIJ", 10);
	free(s.kept.data);
	output_fini(&o);

	/* Odd max: the tail gets the extra byte. */
	output_init(&o, 7);
	output_append(&o, text, 13);
	output_append(&o, text + 13, 7);
	take(&o, &s);
	assert_int_equal(s.kept.len, 7);
	assert_memory_equal(s.kept.data, "012GHIJ", 7);
	free(s.kept.data);
	output_fini(&o);
}

static void
one_byte_over(void **state)
{
	struct output o;
	struct cmdbus_stream s;

	output_init(&o, 4);
	output_append(&o, "abcde", 5);
	take(&o, &s);
	assert_memory_equal(s.kept.data, "abde", 4);
	assert_true(s.truncated);
	assert_int_equal(s.bytes, 5);
	free(s.kept.data);
	output_fini(&o);
}

static void
large_stream_exact_bytes(void **state)
{
	enum { MAX = 65536, TOTAL = 200 * 1024 };
	struct output o;
	struct cmdbus_stream s;
	char *src = malloc(TOTAL);

	assert_non_null(src);
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (char)(i * 7 + i / 251);
	output_init(&o, MAX);
	for (size_t off = 0; off < TOTAL;) {
		size_t n = 1 + (off * 13) % 9000;
		if (n > TOTAL - off)
			n = TOTAL - off;
		output_append(&o, src + off, n);
		off += n;
	}
	take(&o, &s);
	assert_int_equal(s.kept.len, MAX);
	assert_int_equal(s.bytes, TOTAL);
	assert_true(s.truncated);
	assert_memory_equal(s.kept.data, src, MAX / 2);
	assert_memory_equal(s.kept.data + MAX / 2, src + TOTAL - MAX / 2,
			    MAX / 2);
	free(s.kept.data);
	output_fini(&o);
	free(src);
}

static void
empty_stream(void **state)
{
	struct output o;
	struct cmdbus_stream s;

	output_init(&o, 100);
	take(&o, &s);
	assert_int_equal(s.kept.len, 0);
	assert_string_equal(s.kept.data, "");
	assert_false(s.truncated);
	assert_int_equal(s.bytes, 0);
	free(s.kept.data);
	output_fini(&o);
}

static void
shrink_keeps_ends(void **state)
{
	struct cmdbus_stream s;

	memset(&s, 0, sizeof(s));
	s.kept.data = strdup("0123456789");
	s.kept.len = 10;
	output_stream_shrink(&s, 5);
	assert_int_equal(s.kept.len, 5);
	assert_string_equal(s.kept.data, "01789");
	assert_true(s.truncated);
	output_stream_shrink(&s, 9); /* never grows */
	assert_int_equal(s.kept.len, 5);
	free(s.kept.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keeps_everything_under_max),
	    cmocka_unit_test(keeps_first_and_last_half),
	    cmocka_unit_test(one_byte_over),
	    cmocka_unit_test(large_stream_exact_bytes),
	    cmocka_unit_test(empty_stream),
	    cmocka_unit_test(shrink_keeps_ends),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
