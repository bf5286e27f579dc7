/* SPDX-License-Identifier: MIT */
/* The canonical-text check behind the views' copy of stored JSON: text
 * it accepts must be exactly what the strict parser and the writer give
 * back, so that copying it changes no byte of any answer. Checked on
 * chosen cases and on many mutations of real payloads. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "json.h"

/* Whether parsing and writing s[0..n) gives s back (false when the
 * parser refuses it). */
static bool
roundtrips(const char *s, size_t n)
{
	struct json_err e;
	cJSON *tree = NULL;
	char *out = NULL;
	size_t len = 0;
	bool same;

	if (schema_json_parse(s, n, &tree, &e) < 0)
		return false;
	assert_int_equal(schema_json_to_text(tree, &out, &len), 0);
	same = len == n && memcmp(out, s, n) == 0;
	free(out);
	cJSON_Delete(tree);
	return same;
}

/* The property: accepted means it round-trips. */
static void
check_sound(const char *s, size_t n)
{
	if (schema_json_canonical(s, n) && !roundtrips(s, n))
		fail_msg("accepted but not canonical: '%.*s'", (int)n, s);
}

static const char *const canonical[] = {
    "{}",
    "[]",
    "{\"a\":1}",
    "[1,-0,0.5,-12.25,true,false,null,\"\"]",
    "{\"a\":{\"b\":[{\"c\":\"d\"}]},\"e\":"
    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
    "{\"s\":\"tab\\there\\nnl\\r\\b\\f \\\" \\\\ / \\u0000\\u001b\x7f\"}",
    "{\"k\\u0001\":1}",
    "{\"\":0}",
    "{\"type\":\"result\",\"id\":\"01KAKX5Q2M7H3ZP9D4V6N8R0TB\",\"device\":"
    "\"lg-00042\",\"state\":\"SUCCEEDED\",\"exit_code\":0,\"stdout\":"
    "\"pong\",\"stderr\":\"\",\"stdout_truncated\":false,"
    "\"started_at\":1763700000001,\"finished_at\":1763700000002}",
};

/* Valid JSON that is not in canonical form, and text the parser refuses:
 * never accepted. */
static const char *const not_canonical[] = {
    "",
    " {}",
    "{} ",
    "{ }",
    "{\"a\": 1}",
    "{\"a\":1 }",
    "[1, 2]",
    "{\"a\":\"\\/\"}",
    "{\"a\":\"\\u0041\"}",
    "{\"a\":\"\\u000a\"}",
    "{\"a\":\"\\u001B\"}",
    "{\"a\":\"\\u007f\"}",
    "{\"a\":\"\\u00e9\"}",
    "{\"a\":\"\\ud83d\\ude00\"}",
    "{\"a\":1e3}",
    "{\"a\":1E3}",
    "{\"a\":\"\x01\"}",
    "{\"a\":\"\xc0\xaf\"}",
    "{\"a\":\"\xed\xa0\x80\"}",
    "{\"a\":1,\"a\":2}",
    "{\"k\\u0000\":1}",
    "{\"a\":01}",
    "{\"a\":1.}",
    "{\"a\":-}",
    "{\"a\":+1}",
    "{\"a\":tru}",
    "{\"a\":1,}",
    "[1,]",
    "{\"a\"}",
    "{\"a\":1",
    "\"x",
    "{}{}",
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
		const char *s = canonical[i];
		if (!schema_json_canonical(s, strlen(s)))
			fail_msg("refused canonical '%s'", s);
		if (!roundtrips(s, strlen(s)))
			fail_msg("case is not canonical: '%s'", s);
	}
	for (size_t i = 0; i < sizeof not_canonical / sizeof not_canonical[0];
	     i++) {
		const char *s = not_canonical[i];
		if (schema_json_canonical(s, strlen(s)))
			fail_msg("accepted '%s'", s);
	}
	/* The NUL inside a value string is canonical; inside a key it is
	 * refused by the parser. */
	static const char nul_val[] = "{\"a\":\"x\\u0000y\"}";
	assert_true(schema_json_canonical(nul_val, sizeof nul_val - 1));
	assert_true(roundtrips(nul_val, sizeof nul_val - 1));
}

/* Depth: the parser's limit, and no further. */
static void
test_depth(void **state)
{
	char deep[2 * CMDBUS_MAX_DEPTH + 3];
	size_t n;

	(void)state;
	for (size_t d = CMDBUS_MAX_DEPTH; d <= CMDBUS_MAX_DEPTH + 1; d++) {
		n = 0;
		for (size_t i = 0; i < d; i++)
			deep[n++] = '[';
		for (size_t i = 0; i < d; i++)
			deep[n++] = ']';
		assert_int_equal(schema_json_canonical(deep, n),
				 d <= CMDBUS_MAX_DEPTH);
		check_sound(deep, n);
	}
}

/* Objects with more keys than the check compares go the slow way. */
static void
test_many_keys(void **state)
{
	char s[1024];
	size_t n = 0;

	(void)state;
	s[n++] = '{';
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s\"k%d\":%d",
				      i ? "," : "", i, i);
	s[n++] = '}';
	assert_false(schema_json_canonical(s, n));
	assert_true(roundtrips(s, n));
}

/* A small deterministic generator (xorshift), so that a failure can be
 * run again. */
static uint32_t
next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Mutations of canonical texts: bytes replaced by ones that matter to
 * JSON, inserted or deleted. Every one the check accepts must round-trip
 * exactly. */
static void
test_mutations(void **state)
{
	static const char alphabet[] = "{}[],:\"\\/ 0123456789.-+eEuabfnrt"
				       "\x01\x1f\x7f\x80\xc3\xa9\xed\xf0";
	uint32_t x = 2463534242u;
	size_t accepted = 0;

	(void)state;
	for (size_t c = 0; c < sizeof canonical / sizeof canonical[0]; c++) {
		const char *seed = canonical[c];
		size_t len = strlen(seed);
		for (int round = 0; round < 4000; round++) {
			char m[512];
			size_t n = len;
			memcpy(m, seed, len);
			int edits = 1 + (int)(next(&x) % 3);
			for (int e = 0; e < edits && n > 0; e++) {
				size_t at = next(&x) % n;
				char b =
				    alphabet[next(&x) % (sizeof alphabet - 1)];
				switch (next(&x) % 3) {
				case 0:
					m[at] = b;
					break;
				case 1:
					if (n + 1 < sizeof m) {
						memmove(m + at + 1, m + at,
							n - at);
						m[at] = b;
						n++;
					}
					break;
				default:
					memmove(m + at, m + at + 1, n - at - 1);
					n--;
					break;
				}
			}
			check_sound(m, n);
			accepted += schema_json_canonical(m, n);
		}
	}
	/* The property would hold for a check that accepts nothing. */
	assert_true(accepted > 100);
}

/* The encoder copies canonical stored JSON and still refuses what the
 * parser refuses, or JSON of the wrong type. */
static void
test_enc_json(void **state)
{
	struct sbuf b;

	(void)state;
	for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
		schema_sbuf_init(&b);
		schema_sbuf_putc(&b, '{');
		int type = canonical[i][0] == '{' ? cJSON_Object : cJSON_Array;
		assert_int_equal(schema_enc_json(&b, "v", canonical[i], type),
				 0);
		schema_sbuf_putc(&b, '}');
		char want[600];
		snprintf(want, sizeof want, "{\"v\":%s}", canonical[i]);
		assert_string_equal(b.d, want);
		schema_sbuf_fini(&b);
	}
	schema_sbuf_init(&b);
	assert_int_equal(schema_enc_json(&b, "v", "[1]", cJSON_Object),
			 -EINVAL);
	assert_int_equal(
	    schema_enc_json(&b, "v", "{\"a\":1,\"a\":1}", cJSON_Object),
	    -EINVAL);
	/* Not canonical but valid: parsed and written canonically. */
	assert_int_equal(
	    schema_enc_json(&b, "v", "{ \"a\" : [ 1 , 2 ] }", cJSON_Object), 0);
	assert_string_equal(b.d, "\"v\":{\"a\":[1,2]}");
	schema_sbuf_fini(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),     cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_many_keys), cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_enc_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
