/* SPDX-License-Identifier: MIT */
/* Fleet targeting in the job request: label selector terms, allow_unknown
 * and the rollout's canary decoded with every refusal naming its field,
 * and cmdbus_selector_match against a device's stored labels. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cmdbus/rest.h"
#include "common/err.h"

static int
decode(const char *s, struct cmdbus_job_request *r, struct cmdbus_diag *d)
{
	return cmdbus_job_request_decode(s, strlen(s), r, d);
}

/* A job request with the given target and rollout members. */
static void
body(char *buf, size_t n, const char *target, const char *rollout)
{
	snprintf(buf, n, "{\"target\":%s,\"action\":\"ping\"%s%s}", target,
		 rollout ? ",\"rollout\":" : "", rollout ? rollout : "");
}

static void
test_terms(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_int_equal(
	    decode("{\"target\":{\"labels\":{\"zone\":{\"notin\":[\"b\","
		   "\"a\"]},\"env\":\"prod\",\"role\":{\"in\":[\"web\","
		   "\"db\",\"cache\"]}}},\"action\":\"ping\"}",
		   &r, &d),
	    0);
	assert_int_equal(r.target, CMDBUS_TARGET_LABELS);
	assert_int_equal(r.nterms, 3);
	/* Sorted by key; values in the order given. */
	assert_string_equal(r.terms[0].key, "env");
	assert_int_equal(r.terms[0].op, CMDBUS_LABEL_EQ);
	assert_int_equal(r.terms[0].nvalues, 1);
	assert_string_equal(r.terms[0].values[0], "prod");
	assert_string_equal(r.terms[1].key, "role");
	assert_int_equal(r.terms[1].op, CMDBUS_LABEL_IN);
	assert_int_equal(r.terms[1].nvalues, 3);
	assert_string_equal(r.terms[1].values[0], "web");
	assert_string_equal(r.terms[1].values[2], "cache");
	assert_string_equal(r.terms[2].key, "zone");
	assert_int_equal(r.terms[2].op, CMDBUS_LABEL_NOTIN);
	assert_int_equal(r.terms[2].nvalues, 2);
	assert_string_equal(r.terms[2].values[0], "b");
	assert_string_equal(r.terms[2].values[1], "a");
	assert_false(r.allow_unknown);
	cmdbus_job_request_fini(&r);
	assert_null(r.terms);
	assert_int_equal(r.nterms, 0);
}

static void
test_allow_unknown_and_canary(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_int_equal(
	    decode("{\"target\":{\"devices\":[\"d1\"],\"allow_unknown\":true},"
		   "\"action\":\"ping\",\"rollout\":{\"canary\":10000}}",
		   &r, &d),
	    0);
	assert_int_equal(r.target, CMDBUS_TARGET_DEVICES);
	assert_true(r.allow_unknown);
	assert_true(r.rollout.present);
	assert_int_equal(r.rollout.canary, 10000);
	cmdbus_job_request_fini(&r);

	assert_int_equal(
	    decode("{\"target\":{\"allow_unknown\":false,\"devices\":[\"d1\"]},"
		   "\"action\":\"ping\",\"rollout\":{\"canary\":0}}",
		   &r, &d),
	    0);
	assert_false(r.allow_unknown);
	assert_int_equal(r.rollout.canary, 0);
	cmdbus_job_request_fini(&r);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *target, *rollout, *field;
	} cases[] = {
	    /* Terms. */
	    {"{\"labels\":{\"env\":1}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":null}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":[\"a\"]}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":\"\"}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":\"a b\"}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":\"a\\u0000\"}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":{}}}", NULL, "target.labels.env"},
	    {"{\"labels\":{\"env\":{\"eq\":[\"a\"]}}}", NULL,
	     "target.labels.env"},
	    {"{\"labels\":{\"env\":{\"IN\":[\"a\"]}}}", NULL,
	     "target.labels.env"},
	    {"{\"labels\":{\"env\":{\"in\":[\"a\"],\"notin\":[\"b\"]}}}", NULL,
	     "target.labels.env"},
	    {"{\"labels\":{\"env\":{\"in\":[\"a\"],\"x\":1}}}", NULL,
	     "target.labels.env"},
	    {"{\"labels\":{\"env\":{\"in\":[]}}}", NULL,
	     "target.labels.env.in"},
	    {"{\"labels\":{\"env\":{\"in\":\"a\"}}}", NULL,
	     "target.labels.env.in"},
	    {"{\"labels\":{\"env\":{\"notin\":{}}}}", NULL,
	     "target.labels.env.notin"},
	    {"{\"labels\":{\"env\":{\"in\":[\"a\",\"b\",\"\"]}}}", NULL,
	     "target.labels.env.in[2]"},
	    {"{\"labels\":{\"env\":{\"in\":[\"a\",\"b\",1]}}}", NULL,
	     "target.labels.env.in[2]"},
	    {"{\"labels\":{\"env\":{\"notin\":[\"a\",\"b/c\"]}}}", NULL,
	     "target.labels.env.notin[1]"},
	    {"{\"labels\":{\"env\":{\"in\":[\"a\",\"b\",\"a\"]}}}", NULL,
	     "target.labels.env.in[2]"},
	    {"{\"labels\":{\"ok\":\"x\",\"e v\":\"x\"}}", NULL,
	     "target.labels"},
	    {"{\"labels\":{}}", NULL, "target.labels"},
	    {"{\"labels\":\"env=prod\"}", NULL, "target.labels"},
	    /* The first bad term in document order is named. */
	    {"{\"labels\":{\"b\":1,\"a\":1}}", NULL, "target.labels.b"},
	    /* allow_unknown. */
	    {"{\"devices\":[\"d1\"],\"allow_unknown\":1}", NULL,
	     "target.allow_unknown"},
	    {"{\"devices\":[\"d1\"],\"allow_unknown\":\"true\"}", NULL,
	     "target.allow_unknown"},
	    {"{\"all\":true,\"allow_unknown\":true}", NULL,
	     "target.allow_unknown"},
	    {"{\"labels\":{\"a\":\"b\"},\"allow_unknown\":false}", NULL,
	     "target.allow_unknown"},
	    {"{\"allow_unknown\":true}", NULL, "target"},
	    /* canary. */
	    {"{\"all\":true}", "{\"canary\":10001}", "rollout.canary"},
	    {"{\"all\":true}", "{\"canary\":-1}", "rollout.canary"},
	    {"{\"all\":true}", "{\"canary\":1.5}", "rollout.canary"},
	    {"{\"all\":true}", "{\"canary\":1e1}", "rollout.canary"},
	    {"{\"all\":true}", "{\"canary\":\"2\"}", "rollout.canary"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmdbus_job_request r;
		struct cmdbus_diag d;
		char b[512];
		int rc;

		body(b, sizeof b, cases[i].target, cases[i].rollout);
		rc = decode(b, &r, &d);
		if (rc != -ERR_MALFORMED || strcmp(d.field, cases[i].field))
			fail_msg("case %zu: rc %d field '%s' (%s)", i, rc,
				 d.field, d.message);
		assert_string_equal(d.code, "malformed");
		/* The message names the field too. */
		if (cases[i].field[0] && !strstr(d.message, cases[i].field) &&
		    strcmp(cases[i].field, "target.labels") &&
		    strcmp(cases[i].field, "target"))
			fail_msg("case %zu: message '%s'", i, d.message);
		cmdbus_job_request_fini(&r);
	}
}

/* 16 keys and 64 values are the most a selector holds. */
static void
test_limits(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	char labels[2048], b[4096];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(labels + n, sizeof labels - n, "{\"labels\":{");
	for (unsigned i = 0; i < CMDBUS_SELECTOR_MAX_KEYS; i++)
		n += (size_t)snprintf(labels + n, sizeof labels - n,
				      "%s\"k%02u\":\"v\"", i ? "," : "", i);
	snprintf(labels + n, sizeof labels - n, "}}");
	body(b, sizeof b, labels, NULL);
	assert_int_equal(decode(b, &r, &d), 0);
	assert_int_equal(r.nterms, CMDBUS_SELECTOR_MAX_KEYS);
	cmdbus_job_request_fini(&r);
	snprintf(labels + n, sizeof labels - n, ",\"k99\":\"v\"}}");
	body(b, sizeof b, labels, NULL);
	assert_int_equal(decode(b, &r, &d), -ERR_MALFORMED);
	assert_string_equal(d.field, "target.labels");
	cmdbus_job_request_fini(&r);

	n = 0;
	n += (size_t)snprintf(labels + n, sizeof labels - n,
			      "{\"labels\":{\"k\":{\"in\":[");
	for (unsigned i = 0; i < CMDBUS_SELECTOR_MAX_VALUES; i++)
		n += (size_t)snprintf(labels + n, sizeof labels - n,
				      "%s\"v%02u\"", i ? "," : "", i);
	snprintf(labels + n, sizeof labels - n, "]}}}");
	body(b, sizeof b, labels, NULL);
	assert_int_equal(decode(b, &r, &d), 0);
	assert_int_equal(r.terms[0].nvalues, CMDBUS_SELECTOR_MAX_VALUES);
	assert_string_equal(r.terms[0].values[63], "v63");
	cmdbus_job_request_fini(&r);
	snprintf(labels + n, sizeof labels - n, ",\"v99\"]}}}");
	body(b, sizeof b, labels, NULL);
	assert_int_equal(decode(b, &r, &d), -ERR_MALFORMED);
	assert_string_equal(d.field, "target.labels.k.in");
	cmdbus_job_request_fini(&r);
}

static void
test_offline_policy_name(void **state)
{
	(void)state;
	assert_string_equal(cmdbus_offline_policy_name(CMDBUS_OFFLINE_WAIT),
			    "wait");
	assert_string_equal(cmdbus_offline_policy_name(CMDBUS_OFFLINE_SKIP),
			    "skip");
	assert_string_equal(cmdbus_offline_policy_name(CMDBUS_OFFLINE_FAIL),
			    "fail");
	assert_null(cmdbus_offline_policy_name((enum cmdbus_offline_policy)3));
	assert_null(
	    cmdbus_offline_policy_name((enum cmdbus_offline_policy) - 1));
}

/* Decodes a selector from its JSON text and matches it. */
static int
match(const char *selector, const char *labels, bool *m)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	char t[512], b[1024];
	int rc;

	snprintf(t, sizeof t, "{\"labels\":%s}", selector);
	body(b, sizeof b, t, NULL);
	if (decode(b, &r, &d) != 0)
		fail_msg("selector %s: %s", selector, d.message);
	rc = cmdbus_selector_match(r.terms, r.nterms, labels, m);
	cmdbus_job_request_fini(&r);
	return rc;
}

static void
test_selector_match(void **state)
{
	static const struct {
		const char *selector, *labels;
		bool want;
	} cases[] = {
	    /* EQ. */
	    {"{\"env\":\"prod\"}", "{\"env\":\"prod\"}", true},
	    {"{\"env\":\"prod\"}", "{\"env\":\"prod\",\"role\":\"web\"}", true},
	    {"{\"env\":\"prod\"}", "{\"env\":\"dev\"}", false},
	    {"{\"env\":\"prod\"}", "{\"env\":\"prod2\"}", false},
	    {"{\"env\":\"prod\"}", "{\"role\":\"prod\"}", false},
	    {"{\"env\":\"prod\"}", "{}", false},
	    /* IN. */
	    {"{\"env\":{\"in\":[\"dev\",\"prod\"]}}", "{\"env\":\"prod\"}",
	     true},
	    {"{\"env\":{\"in\":[\"dev\",\"prod\"]}}", "{\"env\":\"dev\"}",
	     true},
	    {"{\"env\":{\"in\":[\"dev\",\"prod\"]}}", "{\"env\":\"qa\"}",
	     false},
	    {"{\"env\":{\"in\":[\"dev\",\"prod\"]}}", "{\"site\":\"dev\"}",
	     false},
	    /* NOTIN: true also without the label. */
	    {"{\"env\":{\"notin\":[\"prod\"]}}", "{\"env\":\"dev\"}", true},
	    {"{\"env\":{\"notin\":[\"prod\"]}}", "{\"env\":\"prod\"}", false},
	    {"{\"env\":{\"notin\":[\"prod\",\"qa\"]}}", "{\"env\":\"qa\"}",
	     false},
	    {"{\"env\":{\"notin\":[\"prod\"]}}", "{}", true},
	    {"{\"env\":{\"notin\":[\"prod\"]}}", "{\"site\":\"sz\"}", true},
	    /* Several terms: every one must hold. */
	    {"{\"env\":\"prod\",\"role\":{\"in\":[\"web\",\"db\"]},"
	     "\"zone\":{\"notin\":[\"b\"]}}",
	     "{\"env\":\"prod\",\"role\":\"db\",\"zone\":\"a\"}", true},
	    {"{\"env\":\"prod\",\"role\":{\"in\":[\"web\",\"db\"]},"
	     "\"zone\":{\"notin\":[\"b\"]}}",
	     "{\"env\":\"prod\",\"role\":\"db\"}", true},
	    {"{\"env\":\"prod\",\"role\":{\"in\":[\"web\",\"db\"]},"
	     "\"zone\":{\"notin\":[\"b\"]}}",
	     "{\"env\":\"prod\",\"role\":\"db\",\"zone\":\"b\"}", false},
	    {"{\"env\":\"prod\",\"role\":{\"in\":[\"web\",\"db\"]}}",
	     "{\"env\":\"prod\",\"role\":\"cache\"}", false},
	    {"{\"env\":\"prod\",\"role\":{\"in\":[\"web\",\"db\"]}}",
	     "{\"env\":\"dev\",\"role\":\"web\"}", false},
	    /* Stored text with spaces and another member order. */
	    {"{\"a\":\"1\",\"b\":\"2\"}", " { \"b\" : \"2\" , \"a\" : \"1\" } ",
	     true},
	    /* A value with NUL in stored text is another value. */
	    {"{\"env\":\"prod\"}", "{\"env\":\"prod\\u0000x\"}", false},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		bool m = !cases[i].want;
		int rc = match(cases[i].selector, cases[i].labels, &m);

		if (rc != 0 || m != cases[i].want)
			fail_msg("case %zu: rc %d match %d", i, rc, (int)m);
	}
}

static void
test_selector_bad(void **state)
{
	static const char *const bad_labels[] = {
	    "",
	    "[]",
	    "\"env\"",
	    "{\"env\":1}",
	    "{\"env\":\"prod\",\"x\":null}",
	    "{\"env\":{\"in\":[\"prod\"]}}",
	    "{\"env\":\"prod\",\"env\":\"dev\"}",
	    "{\"env\":\"prod\"",
	    "{\"env\":\"prod\"} x",
	};
	char key[] = "env", prod[] = "prod", dev[] = "dev";
	char *vals[] = {prod, dev};
	struct cmdbus_label_term t = {key, CMDBUS_LABEL_EQ, vals, 1};
	bool m = true;

	(void)state;
	for (size_t i = 0; i < sizeof bad_labels / sizeof bad_labels[0]; i++) {
		m = true;
		if (cmdbus_selector_match(&t, 1, bad_labels[i], &m) != -EINVAL)
			fail_msg("case %zu accepted", i);
		assert_false(m);
	}
	/* Even when no term looks at the labels. */
	assert_int_equal(cmdbus_selector_match(NULL, 0, "{\"a\":1}", &m),
			 -EINVAL);
	assert_int_equal(cmdbus_selector_match(&t, 1, NULL, &m), -EINVAL);
	assert_int_equal(cmdbus_selector_match(NULL, 1, "{}", &m), -EINVAL);
	assert_int_equal(cmdbus_selector_match(&t, 1, "{}", NULL), -EINVAL);
	/* No terms: every device. */
	assert_int_equal(cmdbus_selector_match(NULL, 0, "{}", &m), 0);
	assert_true(m);

	/* Terms that break the decoder's rules. */
	t.nvalues = 2;
	assert_int_equal(cmdbus_selector_match(&t, 1, "{\"env\":\"prod\"}", &m),
			 -EINVAL);
	t.op = CMDBUS_LABEL_IN;
	assert_int_equal(cmdbus_selector_match(&t, 1, "{\"env\":\"dev\"}", &m),
			 0);
	assert_true(m);
	t.nvalues = 0;
	assert_int_equal(cmdbus_selector_match(&t, 1, "{\"env\":\"dev\"}", &m),
			 -EINVAL);
	t.nvalues = 1;
	t.op = (enum cmdbus_label_op)7;
	assert_int_equal(cmdbus_selector_match(&t, 1, "{\"env\":\"dev\"}", &m),
			 -EINVAL);
	t.op = CMDBUS_LABEL_EQ;
	t.key = NULL;
	assert_int_equal(cmdbus_selector_match(&t, 1, "{\"env\":\"dev\"}", &m),
			 -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_terms),
	    cmocka_unit_test(test_allow_unknown_and_canary),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_offline_policy_name),
	    cmocka_unit_test(test_selector_match),
	    cmocka_unit_test(test_selector_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
