/* SPDX-License-Identifier: MIT */
/* The output keeper (first half and last half, exact bytes, total count)
 * and the seen-table (eviction order, running entries kept, byte budget). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"
#include "seen.h"

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

static void
seen_evicts_oldest_finished(void **state)
{
	struct seen s;
	struct seen_entry *a, *b, *c, *d;

	assert_int_equal(seen_init(&s, 3, 1 << 20), 0);
	a = seen_add(&s, "id-aaaaaaaa");
	b = seen_add(&s, "id-bbbbbbbb");
	c = seen_add(&s, "id-cccccccc");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	/* Full of running entries: nothing may be evicted. */
	assert_null(seen_add(&s, "id-dddddddd"));
	assert_int_equal(seen_set(&s, b, "B", 1, true), 0);
	assert_int_equal(seen_set(&s, a, "A", 1, true), 0);
	/* a was added first: it goes first, running c stays. */
	d = seen_add(&s, "id-dddddddd");
	assert_ptr_equal(d, a);
	assert_null(seen_find(&s, "id-aaaaaaaa"));
	assert_non_null(seen_find(&s, "id-bbbbbbbb"));
	assert_non_null(seen_find(&s, "id-cccccccc"));
	assert_int_equal(seen_find(&s, "id-dddddddd")->state, SEEN_ACTIVE);
	assert_int_equal(seen_count(&s, SEEN_DONE), 1);
	seen_fini(&s);
}

static void
seen_budget_forgets_old_results(void **state)
{
	struct seen s;
	struct seen_entry *a, *b;

	assert_int_equal(seen_init(&s, 8, 10), 0);
	a = seen_add(&s, "id-aaaaaaaa");
	assert_int_equal(seen_set(&s, a, "123456", 6, true), 0);
	b = seen_add(&s, "id-bbbbbbbb");
	assert_int_equal(seen_set(&s, b, "abcdef", 6, true), 0);
	/* Over budget: the older stored answer goes, the id stays known so
	 * it still never runs twice. */
	assert_int_equal(a->state, SEEN_FORGOTTEN);
	assert_null(a->msg);
	assert_ptr_equal(seen_find(&s, "id-aaaaaaaa"), a);
	assert_string_equal(b->msg, "abcdef");
	assert_int_equal(s.bytes, 6);
	seen_fini(&s);
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
	    cmocka_unit_test(seen_evicts_oldest_finished),
	    cmocka_unit_test(seen_budget_forgets_old_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
