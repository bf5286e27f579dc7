/* SPDX-License-Identifier: MIT */
/* The -l selector terms of the CLI: each form Kubernetes operators write,
 * with and without spaces, read back as the target.labels JSON the REST
 * API takes, and every malformed term refused with the term quoted. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/jsonv.h"
#include "selector.h"

/* The selector of n texts as the JSON member the request carries. */
static char *
labels_json(const char *const *texts, size_t n)
{
	struct sel_selector s;
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	char err[256] = "", *out = NULL;

	assert_non_null(w);
	assert_int_equal(sel_parse(texts, n, &s, err, sizeof(err)), 0);
	cmdbus_jsonw_obj_begin(w, NULL);
	sel_write(&s, w);
	cmdbus_jsonw_obj_end(w);
	assert_int_equal(cmdbus_jsonw_finish(w, &out, NULL), 0);
	cmdbus_jsonw_free(w);
	sel_fini(&s);
	return out;
}

static void
expect(const char *text, const char *json)
{
	const char *texts[] = {text};
	char *out = labels_json(texts, 1);

	assert_string_equal(out, json);
	free(out);
}

static void
test_forms(void **state)
{
	(void)state;
	expect("env=prod", "{\"labels\":{\"env\":\"prod\"}}");
	expect("env==prod", "{\"labels\":{\"env\":\"prod\"}}");
	expect(" env = prod ", "{\"labels\":{\"env\":\"prod\"}}");
	expect("env!=prod", "{\"labels\":{\"env\":{\"notin\":[\"prod\"]}}}");
	expect("env != prod", "{\"labels\":{\"env\":{\"notin\":[\"prod\"]}}}");
	expect("env in (prod, staging)",
	       "{\"labels\":{\"env\":{\"in\":[\"prod\",\"staging\"]}}}");
	expect("env in(prod,staging)",
	       "{\"labels\":{\"env\":{\"in\":[\"prod\",\"staging\"]}}}");
	expect("env\tin ( prod )",
	       "{\"labels\":{\"env\":{\"in\":[\"prod\"]}}}");
	expect("zone notin (a,b)",
	       "{\"labels\":{\"zone\":{\"notin\":[\"a\",\"b\"]}}}");
	/* A key may be called like an operator word. */
	expect("in in (notin)", "{\"labels\":{\"in\":{\"in\":[\"notin\"]}}}");
	expect("v.1_x-y=A.b_C-9", "{\"labels\":{\"v.1_x-y\":\"A.b_C-9\"}}");
}

static void
test_several_terms(void **state)
{
	const char *texts[] = {"role=web", "env in (prod,staging), zone!=z1",
			       "tier notin (db)"};
	char *out = labels_json(texts, 3);

	(void)state;
	/* In the order given; the server keeps no order of its own. */
	assert_string_equal(out, "{\"labels\":{\"role\":\"web\",\"env\":{"
				 "\"in\":[\"prod\",\"staging\"]},\"zone\":{"
				 "\"notin\":[\"z1\"]},\"tier\":{\"notin\":["
				 "\"db\"]}}}");
	free(out);
}

/* The text is refused and err holds every one of the needles. */
static void
refuse(const char *const *texts, size_t n, const char *needle,
       const char *needle2)
{
	struct sel_selector s;
	char err[256] = "";

	assert_int_equal(sel_parse(texts, n, &s, err, sizeof(err)), -EINVAL);
	sel_fini(&s);
	if (strstr(err, needle) == NULL)
		fail_msg("'%s' lacks '%s'", err, needle);
	if (needle2 != NULL && strstr(err, needle2) == NULL)
		fail_msg("'%s' lacks '%s'", err, needle2);
}

static void
refuse1(const char *text, const char *needle)
{
	const char *texts[] = {text};

	refuse(texts, 1, "malformed label selector term", needle);
}

static void
test_malformed(void **state)
{
	(void)state;
	refuse1("", "''");
	refuse1("env", "'env'");
	refuse1("env=", "'env='");
	refuse1("=prod", "'=prod'");
	refuse1("env in prod", "'env in prod'");
	refuse1("env in ()", "'env in ()'");
	refuse1("env in (a,)", "'env in (a,)'");
	refuse1("env in (a b)", "'env in (a b)'");
	refuse1("env in (a,b", "'env in (a,b'");
	refuse1("env has (a)", "unknown operator");
	refuse1("env=a b", "'env=a b'");
	refuse1("env=a!", "'env=a!'");
	refuse1("env=a,", "'env=a,'");
	refuse1("e nv=a", "'e nv=a'");
	refuse1("env in (a,a)", "value 'a' listed twice");
	refuse1("env=a/b", "value 'a/b'");
	refuse1("k\xc3\xa9y=a", "key");
	/* The term at fault is quoted, not the whole text. */
	refuse1("role=web, env in prod", "'env in prod'");
}

static void
test_key_twice(void **state)
{
	const char *t1[] = {"env=prod", "role=web", "env in (a,b)"};
	const char *t2[] = {"env=prod, env!=x"};

	(void)state;
	refuse(t1, 3, "'env'", "twice");
	refuse(t2, 1, "'env'", "twice");
}

static void
test_bounds(void **state)
{
	char many[64 * 4 + 32], *p = many;
	const char *texts[17];
	char keys[17][8];

	(void)state;
	/* 64 values are allowed, 65 are not. */
	p += snprintf(p, sizeof(many), "k in (");
	for (int i = 0; i < 64; i++)
		p += snprintf(p, sizeof(many) - (size_t)(p - many), "%s%d",
			      i > 0 ? "," : "", i);
	snprintf(p, sizeof(many) - (size_t)(p - many), ")");
	texts[0] = many;
	free(labels_json(texts, 1));
	snprintf(p, sizeof(many) - (size_t)(p - many), ",64)");
	refuse1(many, "more than 64 values");
	/* 16 keys are allowed, 17 are not. */
	for (int i = 0; i < 17; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d=v", i);
		texts[i] = keys[i];
	}
	free(labels_json(texts, 16));
	refuse(texts, 17, "at most 16 keys", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_several_terms),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_key_twice),
	    cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
