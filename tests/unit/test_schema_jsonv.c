/* SPDX-License-Identifier: MIT */
/* The public read-only JSON view and the small writer of libcmdbus-schema:
 * strict parsing, member and index access, typed getters, and writer
 * misuse caught at finish. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/jsonv.h"
#include "common/err.h"

static struct cmdbus_jsonv *
parse_ok(const char *s)
{
	struct cmdbus_jsonv *doc = NULL;
	char err[128];

	assert_int_equal(
	    cmdbus_jsonv_parse(s, strlen(s), &doc, err, sizeof(err)), 0);
	assert_non_null(doc);
	return doc;
}

static void
test_access(void **state)
{
	struct cmdbus_jsonv *doc = parse_ok(
	    "{\"id\":\"J1\",\"n\":-42,\"f\":1.5,\"ok\":true,\"z\":null,"
	    "\"a\":[1,\"x\",{\"k\":\"v\"}]}");
	const struct cmdbus_jnode *r = cmdbus_jsonv_root(doc), *a;
	int64_t i = 0;
	double d = 0;
	bool b = false;
	size_t len = 0;

	(void)state;
	assert_int_equal(cmdbus_jnode_type(r), CMDBUS_JOBJECT);
	assert_int_equal(cmdbus_jnode_len(r), 6);
	assert_string_equal(cmdbus_jnode_str(cmdbus_jnode_get(r, "id"), &len),
			    "J1");
	assert_int_equal(len, 2);
	assert_int_equal(cmdbus_jnode_int(cmdbus_jnode_get(r, "n"), &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(cmdbus_jnode_int(cmdbus_jnode_get(r, "f"), &i),
			 -ERR_MALFORMED);
	assert_int_equal(cmdbus_jnode_number(cmdbus_jnode_get(r, "f"), &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(cmdbus_jnode_bool(cmdbus_jnode_get(r, "ok"), &b), 0);
	assert_true(b);
	assert_int_equal(cmdbus_jnode_type(cmdbus_jnode_get(r, "z")),
			 CMDBUS_JNULL);
	assert_int_equal(cmdbus_jnode_type(cmdbus_jnode_get(r, "nope")),
			 CMDBUS_JMISSING);
	a = cmdbus_jnode_get(r, "a");
	assert_int_equal(cmdbus_jnode_type(a), CMDBUS_JARRAY);
	assert_int_equal(cmdbus_jnode_len(a), 3);
	assert_int_equal(cmdbus_jnode_type(cmdbus_jnode_at(a, 1)),
			 CMDBUS_JSTRING);
	assert_null(cmdbus_jnode_at(a, 3));
	assert_string_equal(
	    cmdbus_jnode_str(cmdbus_jnode_get(cmdbus_jnode_at(a, 2), "k"),
			     NULL),
	    "v");
	assert_string_equal(cmdbus_jnode_key(cmdbus_jnode_at(r, 0)), "id");
	/* Wrong types and NULL handles answer "missing", never crash. */
	assert_null(cmdbus_jnode_str(cmdbus_jnode_get(r, "n"), NULL));
	assert_null(cmdbus_jnode_get(a, "k"));
	assert_int_equal(cmdbus_jnode_len(NULL), 0);
	assert_int_equal(cmdbus_jnode_bool(NULL, &b), -ERR_MALFORMED);
	cmdbus_jsonv_free(doc);
	cmdbus_jsonv_free(NULL);
}

static void
test_strict(void **state)
{
	static const char *const bad[] = {
	    "{\"a\":1,\"a\":2}", "{\"a\":1,}", "[1] x", "", "{'a':1}", "[01]",
	};
	struct cmdbus_jsonv *doc = NULL;
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(cmdbus_jsonv_parse(bad[i], strlen(bad[i]),
						    &doc, err, sizeof(err)),
				 -ERR_SYNTAX);
		assert_null(doc);
		assert_true(err[0] != '\0');
	}
}

static void
test_writer(void **state)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	char *out = NULL;
	size_t len = 0;

	(void)state;
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_obj_begin(w, "target");
	cmdbus_jsonw_arr_begin(w, "devices");
	cmdbus_jsonw_str(w, NULL, "d1");
	cmdbus_jsonw_str(w, NULL, "d\"2\n");
	cmdbus_jsonw_arr_end(w);
	cmdbus_jsonw_obj_end(w);
	cmdbus_jsonw_u64(w, "timeout_ms", 5000);
	cmdbus_jsonw_bool(w, "stream", false);
	cmdbus_jsonw_obj_end(w);
	assert_int_equal(cmdbus_jsonw_finish(w, &out, &len), 0);
	assert_string_equal(out, "{\"target\":{\"devices\":[\"d1\",\"d\\\"2\\n"
				 "\"]},\"timeout_ms\":5000,\"stream\":false}");
	assert_int_equal(len, strlen(out));
	free(out);
	cmdbus_jsonw_free(w);
}

static void
test_writer_misuse(void **state)
{
	struct cmdbus_jsonw *w;
	char *out = NULL;

	(void)state;
	/* A value without a key inside an object. */
	w = cmdbus_jsonw_new();
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_str(w, NULL, "x");
	cmdbus_jsonw_obj_end(w);
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), -EINVAL);
	assert_null(out);
	cmdbus_jsonw_free(w);
	/* An unclosed container. */
	w = cmdbus_jsonw_new();
	cmdbus_jsonw_arr_begin(w, NULL);
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), -EINVAL);
	cmdbus_jsonw_free(w);
	/* Mismatched close, and invalid UTF-8. */
	w = cmdbus_jsonw_new();
	cmdbus_jsonw_arr_begin(w, NULL);
	cmdbus_jsonw_obj_end(w);
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), -EINVAL);
	cmdbus_jsonw_free(w);
	w = cmdbus_jsonw_new();
	cmdbus_jsonw_str(w, NULL, "\xff");
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), -EINVAL);
	cmdbus_jsonw_free(w);
	/* Nothing written. */
	w = cmdbus_jsonw_new();
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), -EINVAL);
	cmdbus_jsonw_free(w);
	cmdbus_jsonw_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_access),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_writer),
	    cmocka_unit_test(test_writer_misuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
