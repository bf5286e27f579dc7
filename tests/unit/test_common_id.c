/* SPDX-License-Identifier: MIT */
/* Tests of ULID generation: the alphabet and length, the time part, order
 * and uniqueness within one millisecond, order across milliseconds and
 * when the clock steps back, and the random source. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/id.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static uint64_t
decode_time(const char *id)
{
	uint64_t ms = 0;

	for (int i = 0; i < 10; i++) {
		const char *p = strchr(alphabet, id[i]);

		assert_non_null(p);
		ms = ms * 32 + (uint64_t)(p - alphabet);
	}
	return ms;
}

static void
assert_ulid(const char *id)
{
	assert_int_equal(strlen(id), ID_ULID_LEN);
	for (int i = 0; i < ID_ULID_LEN; i++)
		assert_non_null(memchr(alphabet, id[i], 32));
	/* 128 bits in 130: the first digit holds only three bits. */
	assert_true(id[0] <= '7');
}

static void
test_format_and_time(void **state)
{
	static const uint64_t times[] = {
	    0,
	    1,
	    1763704560123ULL,
	    (1ULL << 48) - 1,
	};
	struct id_gen g;
	char id[ID_ULID_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		id_gen_init(&g);
		memset(id, '!', sizeof(id));
		assert_int_equal(id_gen_next(&g, times[i], id), 0);
		assert_ulid(id);
		assert_true(decode_time(id) == times[i]);
	}
	/* The known encoding of a time from the ULID specification. */
	id_gen_init(&g);
	assert_int_equal(id_gen_next(&g, 1469918176385ULL, id), 0);
	assert_memory_equal(id, "01ARYZ6S41", 10);
	/* Past 48 bits there is no ULID. */
	id_gen_init(&g);
	assert_int_equal(id_gen_next(&g, 1ULL << 48, id), -ERANGE);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
test_same_ms_increasing(void **state)
{
	enum { N = 10000 };
	char(*ids)[ID_ULID_LEN + 1] = malloc(N * sizeof(*ids));
	struct id_gen g;

	(void)state;
	assert_non_null(ids);
	id_gen_init(&g);
	for (int i = 0; i < N; i++) {
		assert_int_equal(id_gen_next(&g, 1763704560123ULL, ids[i]), 0);
		assert_ulid(ids[i]);
		assert_true(decode_time(ids[i]) == 1763704560123ULL);
		if (i > 0)
			assert_true(strcmp(ids[i - 1], ids[i]) < 0);
	}
	/* Strictly increasing implies unique; sort and check anyway. */
	qsort(ids, N, sizeof(*ids), cmp_str);
	for (int i = 1; i < N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) != 0);
	free(ids);
}

static void
test_across_ms_and_backwards(void **state)
{
	struct id_gen g;
	char a[ID_ULID_LEN + 1], b[ID_ULID_LEN + 1], c[ID_ULID_LEN + 1];
	char d[ID_ULID_LEN + 1];

	(void)state;
	id_gen_init(&g);
	assert_int_equal(id_gen_next(&g, 5000, a), 0);
	assert_int_equal(id_gen_next(&g, 5001, b), 0);
	assert_true(strcmp(a, b) < 0);
	assert_true(decode_time(b) == 5001);
	/* The clock steps back: the last time is kept so order holds. */
	assert_int_equal(id_gen_next(&g, 4000, c), 0);
	assert_true(strcmp(b, c) < 0);
	assert_true(decode_time(c) == 5001);
	assert_int_equal(id_gen_next(&g, 9000, d), 0);
	assert_true(strcmp(c, d) < 0);
	assert_true(decode_time(d) == 9000);
}

static void
test_random_part_wraps(void **state)
{
	struct id_gen g;
	char a[ID_ULID_LEN + 1], b[ID_ULID_LEN + 1];

	(void)state;
	id_gen_init(&g);
	assert_int_equal(id_gen_next(&g, 7000, a), 0);
	/* Bring the random part to one below its maximum: the next id
	 * reaches it, and the one after moves to the next millisecond
	 * rather than wrap around and repeat. */
	memset(g.last_rand, 0xff, sizeof(g.last_rand));
	g.last_rand[9] = 0xfe;
	assert_int_equal(id_gen_next(&g, 7000, a), 0);
	assert_string_equal(a + 10, "ZZZZZZZZZZZZZZZZ");
	assert_int_equal(id_gen_next(&g, 7000, b), 0);
	assert_true(strcmp(a, b) < 0);
	assert_true(decode_time(b) == 7001);
}

static void
test_random_bytes(void **state)
{
	unsigned char x[1000], y[1000];
	unsigned char zero[1000] = {0};

	(void)state;
	memset(x, 0, sizeof(x));
	memset(y, 0, sizeof(y));
	assert_int_equal(id_random_bytes(x, sizeof(x)), 0);
	assert_int_equal(id_random_bytes(y, sizeof(y)), 0);
	assert_memory_not_equal(x, zero, sizeof(x));
	assert_memory_not_equal(x, y, sizeof(x));
	assert_int_equal(id_random_bytes(x, 0), 0);
}

static void
test_two_generators_differ(void **state)
{
	struct id_gen g1, g2;
	char a[ID_ULID_LEN + 1], b[ID_ULID_LEN + 1];

	(void)state;
	id_gen_init(&g1);
	id_gen_init(&g2);
	assert_int_equal(id_gen_next(&g1, 1000, a), 0);
	assert_int_equal(id_gen_next(&g2, 1000, b), 0);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_and_time),
	    cmocka_unit_test(test_same_ms_increasing),
	    cmocka_unit_test(test_across_ms_and_backwards),
	    cmocka_unit_test(test_random_part_wraps),
	    cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_two_generators_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
