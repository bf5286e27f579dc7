/* SPDX-License-Identifier: MIT */
/* The strict JSON parser and the canonical writer of the schema library:
 * every class of input RFC 8259 (or the contract) forbids, the depth
 * limit, large inputs, strings holding NUL, the writer's escapes and
 * number forms, and strict base64. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "json.h"

static int
parse_n(const char *s, size_t n, cJSON **out, struct json_err *e)
{
	return schema_json_parse(s, n, out, e);
}

static int
parse(const char *s, cJSON **out, struct json_err *e)
{
	return parse_n(s, strlen(s), out, e);
}

/* Parses, writes back, and compares with `want` (NULL: the input). */
static void
roundtrip(const char *in, const char *want)
{
	struct json_err e;
	cJSON *n = NULL;
	char *out = NULL;
	size_t len;

	assert_int_equal(parse(in, &n, &e), 0);
	assert_int_equal(schema_json_to_text(n, &out, &len), 0);
	assert_string_equal(out, want ? want : in);
	assert_int_equal(len, strlen(out));
	free(out);
	cJSON_Delete(n);
}

static void
test_accepts(void **state)
{
	(void)state;
	roundtrip("{}", NULL);
	roundtrip("[]", NULL);
	roundtrip(" \t\r\n{ \"a\" : [ 1 , true , false , null ] }\n ",
		  "{\"a\":[1,true,false,null]}");
	roundtrip("0", NULL);
	roundtrip("-0", NULL);
	/* Number literals are kept exactly as written. */
	roundtrip("[1.50,1E+3,-2.5e-3,1e-400]", NULL);
	roundtrip("\"\\/\"", "\"/\"");
	roundtrip("\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x82\xac\"", NULL);
	roundtrip("\"\\u00e9\\u20ac\\ud83d\\ude00\"",
		  "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	roundtrip("\"\\uDBFF\\uDFFF\"", "\"\xf4\x8f\xbf\xbf\"");
	roundtrip("{\"a\":{\"a\":{\"a\":1}},\"b\":{\"a\":2}}", NULL);
}

struct bad {
	const char *in;
	size_t len; /* 0: strlen */
	int rc;
};

static void
test_rejects(void **state)
{
	static const struct bad cases[] = {
	    {"", 0, -ERR_SYNTAX},
	    {"   ", 0, -ERR_SYNTAX},
	    {"{", 0, -ERR_SYNTAX},
	    {"[1,]", 0, -ERR_SYNTAX},
	    {"[,1]", 0, -ERR_SYNTAX},
	    {"{\"a\":1,}", 0, -ERR_SYNTAX},
	    {"{\"a\" 1}", 0, -ERR_SYNTAX},
	    {"{a:1}", 0, -ERR_SYNTAX},
	    {"{'a':1}", 0, -ERR_SYNTAX},
	    {"tru", 0, -ERR_SYNTAX},
	    {"nul", 0, -ERR_SYNTAX},
	    {"True", 0, -ERR_SYNTAX},
	    /* numbers */
	    {"01", 0, -ERR_SYNTAX},
	    {"-01", 0, -ERR_SYNTAX},
	    {"00", 0, -ERR_SYNTAX},
	    {"+1", 0, -ERR_SYNTAX},
	    {"1.", 0, -ERR_SYNTAX},
	    {".5", 0, -ERR_SYNTAX},
	    {"1e", 0, -ERR_SYNTAX},
	    {"1e+", 0, -ERR_SYNTAX},
	    {"-", 0, -ERR_SYNTAX},
	    {"0x10", 0, -ERR_SYNTAX},
	    {"NaN", 0, -ERR_SYNTAX},
	    {"Infinity", 0, -ERR_SYNTAX},
	    {"-Infinity", 0, -ERR_SYNTAX},
	    {"1e999", 0, -ERR_SYNTAX},
	    /* strings */
	    {"\"abc", 0, -ERR_SYNTAX},
	    {"\"abc\\\"", 0, -ERR_SYNTAX},
	    {"\"a\tb\"", 0, -ERR_SYNTAX},
	    {"\"a\nb\"", 0, -ERR_SYNTAX},
	    {"\"a\x01\"", 0, -ERR_SYNTAX},
	    {"\"a\0b\"", 5, -ERR_SYNTAX},
	    {"\"\\x\"", 0, -ERR_SYNTAX},
	    {"\"\\u12G4\"", 0, -ERR_SYNTAX},
	    {"\"\\u12\"", 0, -ERR_SYNTAX},
	    {"\"\\U00e9\"", 0, -ERR_SYNTAX},
	    /* surrogates */
	    {"\"\\ud800\"", 0, -ERR_SYNTAX},
	    {"\"\\udc00\"", 0, -ERR_SYNTAX},
	    {"\"\\ud800\\u0041\"", 0, -ERR_SYNTAX},
	    {"\"\\ud800\\ud800\"", 0, -ERR_SYNTAX},
	    {"\"\\ud800x\"", 0, -ERR_SYNTAX},
	    {"\"\\udc00\\ud800\"", 0, -ERR_SYNTAX},
	    /* UTF-8 */
	    {"\"\xc0\xaf\"", 0, -ERR_SYNTAX},	  /* overlong '/' */
	    {"\"\xe0\x80\xaf\"", 0, -ERR_SYNTAX}, /* overlong, 3 bytes */
	    {"\"\xf0\x80\x80\xaf\"", 0, -ERR_SYNTAX},
	    {"\"\xed\xa0\x80\"", 0, -ERR_SYNTAX},     /* encoded surrogate */
	    {"\"\xf4\x90\x80\x80\"", 0, -ERR_SYNTAX}, /* > U+10FFFF */
	    {"\"\xf5\x80\x80\x80\"", 0, -ERR_SYNTAX},
	    {"\"\xe2\x82\"", 0, -ERR_SYNTAX}, /* truncated */
	    {"\"\x80\"", 0, -ERR_SYNTAX},     /* lone continuation */
	    {"\"\xff\"", 0, -ERR_SYNTAX},
	    {"\xef\xbb\xbf{}", 0, -ERR_SYNTAX}, /* BOM */
	    {"[\"a\"]\xc3\xa9", 0, -ERR_SYNTAX},
	    /* duplicate keys, decoded before comparing */
	    {"{\"a\":1,\"a\":2}", 0, -ERR_SYNTAX},
	    {"{\"a\":1,\"\\u0061\":2}", 0, -ERR_SYNTAX},
	    {"{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", 0, -ERR_SYNTAX},
	    {"[{\"a\":1},{\"a\":1,\"a\":1}]", 0, -ERR_SYNTAX},
	    {"{\"a\\u0000\":1}", 0, -ERR_SYNTAX},
	    /* trailing garbage */
	    {"{} x", 0, -ERR_SYNTAX},
	    {"{}{}", 0, -ERR_SYNTAX},
	    {"[1] 2", 0, -ERR_SYNTAX},
	    {"1 2", 0, -ERR_SYNTAX},
	    {"{}\0", 3, -ERR_SYNTAX},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_err e = {0, ""};
		cJSON *n = NULL;
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		int rc = parse_n(cases[i].in, len, &n, &e);

		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): rc %d", i, cases[i].in, rc);
		assert_null(n);
		assert_true(e.reason[0] != '\0');
		assert_true(e.offset <= len);
	}
}

static void
test_error_offsets(void **state)
{
	struct json_err e;
	cJSON *n = NULL;

	(void)state;
	assert_int_equal(parse("{\"a\":1,\"b\":2,\"a\":3}", &n, &e),
			 -ERR_SYNTAX);
	assert_int_equal(e.offset, 13); /* the second "a" */
	assert_string_equal(e.reason, "duplicate key");
	assert_int_equal(parse("[1, 02]", &n, &e), -ERR_SYNTAX);
	assert_int_equal(e.offset, 4);
	assert_string_equal(e.reason, "leading zero");
	assert_int_equal(parse("{}  x", &n, &e), -ERR_SYNTAX);
	assert_int_equal(e.offset, 4);
	assert_int_equal(parse("\"ab\\ud800\"", &n, &e), -ERR_SYNTAX);
	assert_int_equal(e.offset, 3);
	assert_int_equal(parse("\"ab\xff\"", &n, &e), -ERR_SYNTAX);
	assert_int_equal(e.offset, 3);
}

static char *
nest(int depth, char open, char close)
{
	char *s = malloc((size_t)depth * 2 + 1);

	assert_non_null(s);
	memset(s, open, (size_t)depth);
	memset(s + depth, close, (size_t)depth);
	s[depth * 2] = '\0';
	return s;
}

/* {"a":{"a":...1...}} with `depth` objects. */
static char *
nest_obj(int depth)
{
	struct sbuf b;
	char *s = NULL;

	schema_sbuf_init(&b);
	for (int i = 0; i < depth; i++)
		schema_sbuf_puts(&b, "{\"a\":");
	schema_sbuf_putc(&b, '1');
	for (int i = 0; i < depth; i++)
		schema_sbuf_putc(&b, '}');
	assert_int_equal(schema_sbuf_steal(&b, &s, NULL), 0);
	return s;
}

static void
test_depth(void **state)
{
	struct json_err e;
	cJSON *n = NULL;
	char *s;

	(void)state;
	s = nest(CMDBUS_MAX_DEPTH, '[', ']');
	assert_int_equal(parse(s, &n, &e), 0);
	cJSON_Delete(n);
	free(s);
	s = nest(CMDBUS_MAX_DEPTH + 1, '[', ']');
	assert_int_equal(parse(s, &n, &e), -ERR_TOO_DEEP);
	assert_int_equal(e.offset, CMDBUS_MAX_DEPTH);
	free(s);
	/* Objects count the same way. */
	s = nest_obj(CMDBUS_MAX_DEPTH);
	assert_int_equal(parse(s, &n, &e), 0);
	cJSON_Delete(n);
	free(s);
	s = nest_obj(CMDBUS_MAX_DEPTH + 1);
	assert_int_equal(parse(s, &n, &e), -ERR_TOO_DEEP);
	free(s);
	/* A very deep document is refused without deep recursion. */
	s = nest(100000, '[', ']');
	assert_int_equal(parse(s, &n, &e), -ERR_TOO_DEEP);
	free(s);
}

static void
test_big(void **state)
{
	struct json_err e;
	cJSON *n = NULL;
	size_t big = 1u << 20, len;
	char *s = malloc(big + 3), *out = NULL;
	const char *v;

	(void)state;
	/* A 1 MiB string. */
	assert_non_null(s);
	s[0] = '"';
	memset(s + 1, 'x', big);
	s[big + 1] = '"';
	s[big + 2] = '\0';
	assert_int_equal(parse(s, &n, &e), 0);
	v = schema_json_str(n, &len);
	assert_non_null(v);
	assert_int_equal(len, big);
	cJSON_Delete(n);
	free(s);

	/* 50,000 keys, then the same with one duplicate at the end. */
	{
		size_t cap = 50000 * 16 + 64;
		struct sbuf b;
		schema_sbuf_init(&b);
		schema_sbuf_putc(&b, '{');
		for (int i = 0; i < 50000; i++) {
			char k[32];
			snprintf(k, sizeof(k), "%s\"k%d\":%d", i ? "," : "", i,
				 i);
			schema_sbuf_puts(&b, k);
		}
		schema_sbuf_putc(&b, '}');
		assert_true(b.len < cap);
		assert_int_equal(parse_n(b.d, b.len, &n, &e), 0);
		assert_int_equal(cJSON_GetArraySize(n), 50000);
		assert_int_equal(schema_json_to_text(n, &out, &len), 0);
		assert_int_equal(len, b.len);
		assert_memory_equal(out, b.d, len);
		free(out);
		cJSON_Delete(n);
		b.len--;
		schema_sbuf_puts(&b, ",\"k777\":0}");
		assert_int_equal(parse_n(b.d, b.len, &n, &e), -ERR_SYNTAX);
		assert_string_equal(e.reason, "duplicate key");
		assert_int_equal(e.offset, b.len - 9);
		schema_sbuf_fini(&b);
	}
}

static void
test_nul_strings(void **state)
{
	struct json_err e;
	cJSON *n = NULL;
	const char *v;
	char *out = NULL;
	size_t len;

	(void)state;
	assert_int_equal(parse("\"a\\u0000b\"", &n, &e), 0);
	v = schema_json_str(n, &len);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "a\0b", 3);
	assert_int_equal(schema_json_to_text(n, &out, &len), 0);
	assert_string_equal(out, "\"a\\u0000b\"");
	free(out);
	cJSON_Delete(n);
	/* Only NUL: length 1, not mistaken for the empty string. */
	assert_int_equal(parse("\"\\u0000\"", &n, &e), 0);
	v = schema_json_str(n, &len);
	assert_int_equal(len, 1);
	cJSON_Delete(n);
	assert_int_equal(parse("\"\"", &n, &e), 0);
	v = schema_json_str(n, &len);
	assert_int_equal(len, 0);
	assert_string_equal(v, "");
	cJSON_Delete(n);
}

static void
test_writer_escapes(void **state)
{
	char in[64];
	struct sbuf b;
	size_t n = 0;

	(void)state;
	for (int c = 1; c < 0x20; c++)
		in[n++] = (char)c;
	memcpy(in + n, "\"\\/\x7f\xc3\xa9", 6);
	n += 6;
	in[n++] = '\0';
	schema_sbuf_init(&b);
	schema_json_write_string(&b, in, n);
	assert_int_equal(b.err, 0);
	assert_string_equal(
	    b.d, "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b"
		 "\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012"
		 "\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a"
		 "\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\x7f\xc3\xa9"
		 "\\u0000\"");
	schema_sbuf_fini(&b);

	/* Invalid UTF-8 becomes U+FFFD in the lossy writer only. */
	schema_sbuf_init(&b);
	schema_json_write_string_lossy(&b, "a\xff\xc3", 3);
	assert_string_equal(b.d, "\"a\xef\xbf\xbd\xef\xbf\xbd\"");
	schema_sbuf_fini(&b);
}

static void
write_num(double d, const char *want)
{
	cJSON *n = schema_json_new_double(d);
	char *out = NULL;

	assert_int_equal(schema_json_to_text(n, &out, NULL), 0);
	assert_string_equal(out, want);
	free(out);
	cJSON_Delete(n);
}

static void
test_writer_numbers(void **state)
{
	cJSON *n;
	char *out = NULL;

	(void)state;
	write_num(0, "0");
	write_num(2.0, "2");
	write_num(-7, "-7");
	write_num(0.1, "0.1");
	write_num(0.25, "0.25");
	write_num(1.0 / 3, "0.3333333333333333");
	write_num(1e-7, "1e-07");
	write_num(1e300, "1e+300");
	write_num(9007199254740993.0, "9007199254740992");

	n = schema_json_new_u64(CMDBUS_MAX_INT);
	assert_int_equal(schema_json_to_text(n, &out, NULL), 0);
	assert_string_equal(out, "9007199254740991");
	free(out);
	cJSON_Delete(n);

	n = schema_json_new_double(NAN);
	assert_int_equal(schema_json_to_text(n, &out, NULL), -EINVAL);
	cJSON_Delete(n);
	n = schema_json_new_double(INFINITY);
	assert_int_equal(schema_json_to_text(n, &out, NULL), -EINVAL);
	cJSON_Delete(n);
}

static void
test_integers(void **state)
{
	static const struct {
		const char *lit;
		int rc;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"42", 0, 42},
	    {"9007199254740991", 0, 9007199254740991ull},
	    {"9007199254740992", -ERR_MALFORMED, 0},
	    {"99999999999999999999999", -ERR_MALFORMED, 0},
	    {"-1", -ERR_MALFORMED, 0},
	    {"-0", -ERR_MALFORMED, 0},
	    {"1.0", -ERR_MALFORMED, 0},
	    {"1e3", -ERR_MALFORMED, 0},
	    {"10E0", -ERR_MALFORMED, 0},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_err e;
		cJSON *n = NULL;
		uint64_t v = 7;

		assert_int_equal(parse(cases[i].lit, &n, &e), 0);
		assert_int_equal(schema_json_u64(n, &v), cases[i].rc);
		if (cases[i].rc == 0)
			assert_int_equal(v, cases[i].v);
		cJSON_Delete(n);
	}
	/* Not a number at all. */
	{
		struct json_err e;
		cJSON *n = NULL;
		uint64_t v;
		double d;

		assert_int_equal(parse("\"1\"", &n, &e), 0);
		assert_int_equal(schema_json_u64(n, &v), -ERR_MALFORMED);
		assert_int_equal(schema_json_double(n, &d), -ERR_MALFORMED);
		cJSON_Delete(n);
	}
}

static void
test_accessors(void **state)
{
	struct json_err e;
	cJSON *n = NULL;

	(void)state;
	assert_int_equal(parse("{\"ab\":1,\"a\":\"x\"}", &n, &e), 0);
	assert_non_null(schema_json_get(n, "a"));
	assert_true(cJSON_IsString(schema_json_get(n, "a")));
	assert_null(schema_json_get(n, "b"));
	assert_null(schema_json_get(schema_json_get(n, "a"), "a"));
	assert_null(schema_json_str(schema_json_get(n, "ab"), NULL));
	cJSON_Delete(n);
}

static void
b64_ok(const char *raw, size_t n, const char *enc)
{
	struct sbuf b;
	char *dec = NULL;
	size_t dl;

	schema_sbuf_init(&b);
	schema_b64_encode(&b, raw, n);
	assert_string_equal(b.d ? b.d : "", enc);
	schema_sbuf_fini(&b);
	assert_int_equal(schema_b64_decode(enc, strlen(enc), &dec, &dl), 0);
	assert_int_equal(dl, n);
	assert_memory_equal(dec, raw, n);
	free(dec);
}

static void
test_base64(void **state)
{
	static const char *const bad[] = {
	    "A",    "AA",   "AAA",  "AA=",   "A===", "====", "AA==AA==",
	    "AB==", "AAB=", "AA A", "AA\nA", "AA-_", "AA=A", "=AAA",
	};
	(void)state;
	b64_ok("", 0, "");
	b64_ok("f", 1, "Zg==");
	b64_ok("fo", 2, "Zm8=");
	b64_ok("foo", 3, "Zm9v");
	b64_ok("foob", 4, "Zm9vYg==");
	b64_ok("fooba", 5, "Zm9vYmE=");
	b64_ok("foobar", 6, "Zm9vYmFy");
	b64_ok("\0\xff\xfe", 3, "AP/+");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *dec = NULL;
		size_t dl;
		if (schema_b64_decode(bad[i], strlen(bad[i]), &dec, &dl) !=
		    -ERR_MALFORMED)
			fail_msg("accepted '%s'", bad[i]);
		assert_null(dec);
	}
}

static void
test_utf8(void **state)
{
	(void)state;
	assert_true(schema_utf8_valid("", 0));
	assert_true(schema_utf8_valid("a\0b", 3));
	assert_true(schema_utf8_valid("\xf4\x8f\xbf\xbf", 4));
	assert_true(schema_utf8_valid("\xef\xbf\xbf", 3));
	assert_false(schema_utf8_valid("\xf4\x90\x80\x80", 4));
	assert_false(schema_utf8_valid("\xed\xbf\xbf", 3));
	assert_false(schema_utf8_valid("\xc1\xbf", 2));
	assert_false(schema_utf8_valid("\xe0\x9f\xbf", 3));
	assert_false(schema_utf8_valid("\xc3", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_error_offsets),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_big),
	    cmocka_unit_test(test_nul_strings),
	    cmocka_unit_test(test_writer_escapes),
	    cmocka_unit_test(test_writer_numbers),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_accessors),
	    cmocka_unit_test(test_base64),
	    cmocka_unit_test(test_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
