/* SPDX-License-Identifier: MIT */
/* REST requests: the job request with its defaults and refusals, the
 * body of an action call, and the hash an idempotency key is bound to. */
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
#include "test_schema_files.h"

static int
decode(const char *s, struct cmdbus_job_request *r, struct cmdbus_diag *d)
{
	return cmdbus_job_request_decode(s, strlen(s), r, d);
}

static void
test_defaults(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_int_equal(
	    decode("{\"target\":{\"all\":true},\"action\":\"ping\"}", &r, &d),
	    0);
	assert_int_equal(r.target, CMDBUS_TARGET_ALL);
	assert_string_equal(r.action, "ping");
	assert_string_equal(r.args_json, "{}");
	assert_int_equal(r.timeout_ms, CMDBUS_DEFAULT_TIMEOUT_MS);
	assert_int_equal(r.ttl_ms, CMDBUS_DEFAULT_TTL_MS);
	assert_false(r.stream);
	assert_false(r.rollout.present);
	assert_string_equal(r.idempotency_key, "");
	cmdbus_job_request_fini(&r);
}

static void
test_full(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_int_equal(
	    decode("{\"target\":{\"devices\":[\"dev-1\",\"dev-2\"]},"
		   "\"action\":\"exec\",\"args\":{ \"argv\" : [\"ls\"] },"
		   "\"timeout_ms\":86400000,\"ttl_ms\":1000,\"stream\":true,"
		   "\"idempotency_key\":\" ~\",\"unknown\":[1]}",
		   &r, &d),
	    0);
	assert_int_equal(r.target, CMDBUS_TARGET_DEVICES);
	assert_int_equal(r.ndevices, 2);
	assert_string_equal(r.devices[1], "dev-2");
	assert_string_equal(r.args_json, "{\"argv\":[\"ls\"]}");
	assert_int_equal(r.timeout_ms, 86400000);
	assert_int_equal(r.ttl_ms, 1000);
	assert_true(r.stream);
	assert_string_equal(r.idempotency_key, " ~");
	cmdbus_job_request_fini(&r);

	assert_int_equal(
	    decode("{\"target\":{\"labels\":{\"site\":\"lab\",\"role\":"
		   "\"web\"}},\"action\":\"info\",\"rollout\":{"
		   "\"batch_size\":\"100%\",\"max_failures\":3,"
		   "\"offline\":\"fail\"}}",
		   &r, &d),
	    0);
	assert_int_equal(r.target, CMDBUS_TARGET_LABELS);
	assert_int_equal(r.nterms, 2);
	/* Sorted by key. */
	assert_string_equal(r.terms[0].key, "role");
	assert_int_equal(r.terms[0].op, CMDBUS_LABEL_EQ);
	assert_int_equal(r.terms[0].nvalues, 1);
	assert_string_equal(r.terms[0].values[0], "web");
	assert_string_equal(r.terms[1].key, "site");
	assert_string_equal(r.terms[1].values[0], "lab");
	assert_false(r.allow_unknown);
	assert_int_equal(r.rollout.canary, 0);
	assert_true(r.rollout.present);
	assert_true(r.rollout.batch_pct);
	assert_int_equal(r.rollout.batch_size, 100);
	assert_true(r.rollout.has_max_failures);
	assert_int_equal(r.rollout.max_failures, 3);
	assert_false(r.rollout.has_max_failure_pct);
	assert_int_equal(r.rollout.offline, CMDBUS_OFFLINE_FAIL);
	cmdbus_job_request_fini(&r);

	assert_int_equal(decode("{\"target\":{\"all\":true},\"action\":\"a\","
				"\"rollout\":{\"batch_size\":7,"
				"\"max_failure_pct\":0}}",
				&r, &d),
			 0);
	assert_false(r.rollout.batch_pct);
	assert_int_equal(r.rollout.batch_size, 7);
	assert_true(r.rollout.has_max_failure_pct);
	assert_int_equal(r.rollout.offline, CMDBUS_OFFLINE_WAIT);
	cmdbus_job_request_fini(&r);

	/* A rollout without a batch size is one batch of everything. */
	assert_int_equal(decode("{\"target\":{\"all\":true},\"action\":\"a\","
				"\"rollout\":{\"offline\":\"skip\"}}",
				&r, &d),
			 0);
	assert_true(r.rollout.batch_pct);
	assert_int_equal(r.rollout.batch_size, 100);
	assert_int_equal(r.rollout.offline, CMDBUS_OFFLINE_SKIP);
	cmdbus_job_request_fini(&r);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *body;
		const char *field;
	} cases[] = {
	    {"{\"target\":{\"all\":true}}", "action"},
	    {"{\"action\":\"a\"}", "target"},
	    {"{\"target\":[],\"action\":\"a\"}", "target"},
	    {"{\"target\":{\"devices\":\"d\"},\"action\":\"a\"}",
	     "target.devices"},
	    {"{\"target\":{\"devices\":[\"a\",1]},\"action\":\"a\"}",
	     "target.devices[1]"},
	    {"{\"target\":{\"devices\":[\"a\",\"a\\u0000\"]},"
	     "\"action\":\"a\"}",
	     "target.devices[1]"},
	    {"{\"target\":{\"labels\":[]},\"action\":\"a\"}", "target.labels"},
	    {"{\"target\":{\"labels\":{\"a b\":\"x\"}},\"action\":\"a\"}",
	     "target.labels"},
	    {"{\"target\":{\"labels\":{\"k\":1}},\"action\":\"a\"}",
	     "target.labels.k"},
	    {"{\"target\":{\"all\":1},\"action\":\"a\"}", "target.all"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"ttl_ms\":"
	     "604800001}",
	     "ttl_ms"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":1}",
	     "rollout"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"batch_size\":\"50\"}}",
	     "rollout.batch_size"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"batch_size\":\"05%\"}}",
	     "rollout.batch_size"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"batch_size\":true}}",
	     "rollout.batch_size"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"offline\":1}}",
	     "rollout.offline"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"max_failures\":-1}}",
	     "rollout.max_failures"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\","
	     "\"idempotency_key\":\"\"}",
	     "idempotency_key"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\","
	     "\"idempotency_key\":\"\xc3\xa9\"}",
	     "idempotency_key"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"args\":null}",
	     "args"},
	    {"\"x\"", ""},
	    {"{", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmdbus_job_request r;
		struct cmdbus_diag d;
		int rc = decode(cases[i].body, &r, &d);

		if (rc != -ERR_MALFORMED || strcmp(d.field, cases[i].field))
			fail_msg("case %zu: rc %d field '%s' (%s)", i, rc,
				 d.field, d.message);
		assert_string_equal(d.code, "malformed");
		cmdbus_job_request_fini(&r);
	}
}

static void
test_many_devices(void **state)
{
	size_t cap = (CMDBUS_REST_MAX_DEVICES + 2) * 16 + 64, n = 0;
	char *b = malloc(cap);
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_non_null(b);
	n += (size_t)snprintf(b + n, cap - n, "{\"target\":{\"devices\":[");
	for (unsigned i = 0; i < CMDBUS_REST_MAX_DEVICES; i++)
		n += (size_t)snprintf(b + n, cap - n, "%s\"d%u\"", i ? "," : "",
				      i);
	n += (size_t)snprintf(b + n, cap - n, "]},\"action\":\"a\"}");
	assert_int_equal(cmdbus_job_request_decode(b, n, &r, &d), 0);
	assert_int_equal(r.ndevices, CMDBUS_REST_MAX_DEVICES);
	assert_string_equal(r.devices[9999], "d9999");
	cmdbus_job_request_fini(&r);

	/* The last one repeats the first: the refusal names its index. */
	n -= strlen("]},\"action\":\"a\"}");
	n -= strlen(",\"d9999\"");
	n += (size_t)snprintf(b + n, cap - n, ",\"d0\"]},\"action\":\"a\"}");
	assert_int_equal(cmdbus_job_request_decode(b, n, &r, &d),
			 -ERR_MALFORMED);
	assert_string_equal(d.field, "target.devices[9999]");
	cmdbus_job_request_fini(&r);

	/* One device too many. */
	n -= strlen("]},\"action\":\"a\"}");
	n += (size_t)snprintf(b + n, cap - n, ",\"x\"]},\"action\":\"a\"}");
	assert_int_equal(cmdbus_job_request_decode(b, n, &r, &d),
			 -ERR_MALFORMED);
	assert_string_equal(d.field, "target.devices");
	cmdbus_job_request_fini(&r);
	free(b);
}

static void
test_too_large(void **state)
{
	size_t n = CMDBUS_REST_MAX_BODY + 1;
	char *b = malloc(n);
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	assert_non_null(b);
	memset(b, ' ', n);
	assert_int_equal(cmdbus_job_request_decode(b, n, &r, &d),
			 -ERR_TOO_LARGE);
	assert_string_equal(d.code, "too_large");
	cmdbus_job_request_fini(&r);
	free(b);
}

static void
test_action_call(void **state)
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;
	char *body = test_vector_read("rest/valid/action-call.json", NULL);

	(void)state;
	assert_int_equal(cmdbus_action_call_decode(body, strlen(body), "dev-1",
						   "exec", &r, &d),
			 0);
	assert_int_equal(r.target, CMDBUS_TARGET_DEVICES);
	assert_int_equal(r.ndevices, 1);
	assert_string_equal(r.devices[0], "dev-1");
	assert_string_equal(r.action, "exec");
	assert_string_equal(r.args_json, "{\"argv\":[\"uname\",\"-a\"]}");
	assert_int_equal(r.timeout_ms, 5000);
	assert_int_equal(r.ttl_ms, CMDBUS_DEFAULT_TTL_MS);
	cmdbus_job_request_fini(&r);
	free(body);

	/* No body is {}. */
	assert_int_equal(
	    cmdbus_action_call_decode("", 0, "dev-1", "ping", &r, &d), 0);
	assert_string_equal(r.args_json, "{}");
	assert_int_equal(r.timeout_ms, CMDBUS_DEFAULT_TIMEOUT_MS);
	cmdbus_job_request_fini(&r);

	/* The golden refusals, which the JSON Schema refuses too. */
	static const struct {
		const char *vector, *field;
	} golden[] = {
	    {"rest/invalid/action-call-args-not-object.json", "args"},
	    {"rest/invalid/action-call-timeout-zero.json", "timeout_ms"},
	    {"rest/invalid/action-call-timeout-too-big.json", "timeout_ms"},
	};
	for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
		char *v = test_vector_read(golden[i].vector, NULL);
		assert_int_equal(cmdbus_action_call_decode(
				     v, strlen(v), "dev-1", "ping", &r, &d),
				 -ERR_MALFORMED);
		assert_string_equal(d.field, golden[i].field);
		cmdbus_job_request_fini(&r);
		free(v);
	}

	static const struct {
		const char *body, *device, *action, *field;
	} bad[] = {
	    {"{\"args\":[]}", "dev-1", "ping", "args"},
	    {"{\"timeout_ms\":0}", "dev-1", "ping", "timeout_ms"},
	    {"{\"timeout_ms\":1.5}", "dev-1", "ping", "timeout_ms"},
	    {"[]", "dev-1", "ping", ""},
	    {"{}", "a+b", "ping", "device"},
	    {"{}", "dev-1", "Ping", "action"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(cmdbus_action_call_decode(
				     bad[i].body, strlen(bad[i].body),
				     bad[i].device, bad[i].action, &r, &d),
				 -ERR_MALFORMED);
		assert_string_equal(d.field, bad[i].field);
		cmdbus_job_request_fini(&r);
	}
}

static void
sha_of(const char *body, char hex[CMDBUS_SHA256_HEX + 1])
{
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	assert_int_equal(decode(body, &r, &d), 0);
	assert_int_equal(cmdbus_job_request_sha256(&r, hex), 0);
	cmdbus_job_request_fini(&r);
}

static void
test_request_sha(void **state)
{
	char a[CMDBUS_SHA256_HEX + 1], b[CMDBUS_SHA256_HEX + 1];

	(void)state;
	/* Defaults applied, the key and spacing left out. */
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"ping\","
	       "\"idempotency_key\":\"k1\"}",
	       a);
	sha_of("{ \"idempotency_key\":\"k2\", \"action\":\"ping\", "
	       "\"timeout_ms\":30000, \"target\":{\"devices\":[\"d1\"]}, "
	       "\"args\":{}}",
	       b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"ping\","
	       "\"timeout_ms\":30001}",
	       b);
	assert_string_not_equal(a, b);
	sha_of("{\"target\":{\"devices\":[\"d2\"]},\"action\":\"ping\"}", b);
	assert_string_not_equal(a, b);
	sha_of("{\"target\":{\"labels\":{\"d1\":\"x\"}},\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"ping\","
	       "\"args\":{\"x\":1}}",
	       b);
	assert_string_not_equal(a, b);
}

/* Member order means nothing in JSON: the same request with the keys of
 * args (at any depth) and of target.labels in another order hashes the
 * same; another value, or arrays in another order, do not. */
static void
test_request_sha_key_order(void **state)
{
	static const char canon[] =
	    "{\"target\":{\"devices\":[\"d1\"]},\"action\":\"exec\","
	    "\"args\":{\"a\":{\"c\":3,\"d\":2},\"b\":1},\"timeout_ms\":30000,"
	    "\"ttl_ms\":3600000,\"stream\":false}";
	char a[CMDBUS_SHA256_HEX + 1], b[CMDBUS_SHA256_HEX + 1];

	(void)state;
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"exec\","
	       "\"args\":{\"argv\":[\"ls\",\"-l\"],\"env\":{\"A\":\"1\","
	       "\"B\":\"2\"},\"stdin\":\"x\"},\"idempotency_key\":\"k\"}",
	       a);
	sha_of("{\"idempotency_key\":\"k\",\"args\":{\"stdin\":\"x\","
	       "\"env\":{\"B\":\"2\",\"A\":\"1\"},\"argv\":[\"ls\",\"-l\"]},"
	       "\"action\":\"exec\",\"target\":{\"devices\":[\"d1\"]}}",
	       b);
	assert_string_equal(a, b);
	/* A nested value changed. */
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"exec\","
	       "\"args\":{\"stdin\":\"x\",\"env\":{\"B\":\"2\",\"A\":\"3\"},"
	       "\"argv\":[\"ls\",\"-l\"]}}",
	       b);
	assert_string_not_equal(a, b);
	/* Arrays keep their order: argv means something in its order. */
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"exec\","
	       "\"args\":{\"stdin\":\"x\",\"env\":{\"B\":\"2\",\"A\":\"1\"},"
	       "\"argv\":[\"-l\",\"ls\"]}}",
	       b);
	assert_string_not_equal(a, b);
	/* Objects inside arrays are sorted too. */
	sha_of("{\"target\":{\"all\":true},\"action\":\"a\","
	       "\"args\":{\"l\":[{\"x\":1,\"y\":[true,null,1.5]}]}}",
	       a);
	sha_of("{\"target\":{\"all\":true},\"action\":\"a\","
	       "\"args\":{\"l\":[{\"y\":[true,null,1.5],\"x\":1}]}}",
	       b);
	assert_string_equal(a, b);

	/* Label targets: the same labels in another order. */
	sha_of("{\"target\":{\"labels\":{\"site\":\"lab\",\"role\":\"web\"}},"
	       "\"action\":\"ping\"}",
	       a);
	sha_of("{\"target\":{\"labels\":{\"role\":\"web\",\"site\":\"lab\"}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_equal(a, b);
	sha_of("{\"target\":{\"labels\":{\"role\":\"web\",\"site\":\"sz\"}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);

	/* The canonical form spelled out: keys sorted at every depth,
	 * defaults applied. For args already in key order it is the text
	 * hashed before keys were sorted, so stored hashes still match. */
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"exec\","
	       "\"args\":{\"b\":1,\"a\":{\"d\":2,\"c\":3}}}",
	       a);
	cmdbus_sha256_hex(canon, strlen(canon), b);
	assert_string_equal(a, b);
}

/* Hashes pinned before selector terms, allow_unknown and canary existed:
 * a request that uses none of them must keep the hash it had, or a
 * client retrying with its idempotency key across an upgrade would get
 * a conflict for the same request. */
static void
test_request_sha_pinned(void **state)
{
	static const struct {
		const char *body, *hex;
	} pinned[] = {
	    {"{\"target\":{\"devices\":[\"d1\",\"d2\"]},\"action\":\"exec\","
	     "\"args\":{\"argv\":[\"ls\"]}}",
	     "7263ac81da53d0c947fc2874f9d4b4b713b32dd1c9d1f8617433c40c5ec290d"
	     "c"},
	    {"{\"target\":{\"labels\":{\"site\":\"lab\",\"role\":\"web\"}},"
	     "\"action\":\"ping\"}",
	     "82892651f2425996decfce31410ff01ca56ba0d31b350a5d98c3b723aa206d2"
	     "a"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"batch_size\":\"25%\",\"max_failures\":2,\"offline\":"
	     "\"skip\"}}",
	     "a26230ad17c912fcba91ad94df9dea6f6ebc54744e5ae48008d63b8eadd570f"
	     "b"},
	    /* The new members at their defaults change nothing. */
	    {"{\"target\":{\"devices\":[\"d1\",\"d2\"],\"allow_unknown\":"
	     "false},\"action\":\"exec\",\"args\":{\"argv\":[\"ls\"]}}",
	     "7263ac81da53d0c947fc2874f9d4b4b713b32dd1c9d1f8617433c40c5ec290d"
	     "c"},
	    {"{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	     "\"canary\":0,\"batch_size\":\"25%\",\"max_failures\":2,"
	     "\"offline\":\"skip\"}}",
	     "a26230ad17c912fcba91ad94df9dea6f6ebc54744e5ae48008d63b8eadd570f"
	     "b"},
	};
	char hex[CMDBUS_SHA256_HEX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof pinned / sizeof pinned[0]; i++) {
		sha_of(pinned[i].body, hex);
		if (strcmp(hex, pinned[i].hex) != 0)
			fail_msg("case %zu: %s", i, hex);
	}
}

/* The new members count only when used, and then they count. */
static void
test_request_sha_targeting(void **state)
{
	char a[CMDBUS_SHA256_HEX + 1], b[CMDBUS_SHA256_HEX + 1];
	struct cmdbus_job_request r;
	struct cmdbus_diag d;

	(void)state;
	sha_of("{\"target\":{\"devices\":[\"d1\"]},\"action\":\"ping\"}", a);
	sha_of("{\"target\":{\"devices\":[\"d1\"],\"allow_unknown\":true},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);

	sha_of("{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{}}",
	       a);
	sha_of("{\"target\":{\"all\":true},\"action\":\"a\",\"rollout\":{"
	       "\"canary\":2}}",
	       b);
	assert_string_not_equal(a, b);

	/* Labels in another member order hash the same, terms included. */
	sha_of("{\"target\":{\"labels\":{\"env\":\"prod\",\"role\":{\"in\":"
	       "[\"web\",\"db\"]},\"zone\":{\"notin\":[\"b\"]}}},"
	       "\"action\":\"ping\"}",
	       a);
	sha_of("{\"target\":{\"labels\":{\"zone\":{\"notin\":[\"b\"]},"
	       "\"role\":{\"in\":[\"web\",\"db\"]},\"env\":\"prod\"}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_equal(a, b);
	/* Values keep the order given. */
	sha_of("{\"target\":{\"labels\":{\"env\":\"prod\",\"role\":{\"in\":"
	       "[\"db\",\"web\"]},\"zone\":{\"notin\":[\"b\"]}}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);
	/* in and notin differ; "v" and {"in":["v"]} are written apart. */
	sha_of("{\"target\":{\"labels\":{\"env\":{\"in\":[\"prod\"]}}},"
	       "\"action\":\"ping\"}",
	       a);
	sha_of("{\"target\":{\"labels\":{\"env\":{\"notin\":[\"prod\"]}}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);
	sha_of("{\"target\":{\"labels\":{\"env\":\"prod\"}},"
	       "\"action\":\"ping\"}",
	       b);
	assert_string_not_equal(a, b);

	/* The canonical form spelled out. */
	sha_of("{\"target\":{\"labels\":{\"role\":{\"notin\":[\"x\",\"a\"]},"
	       "\"env\":\"prod\"}},\"action\":\"ping\",\"rollout\":{"
	       "\"canary\":1,\"batch_size\":2}}",
	       a);
	{
		static const char canon[] =
		    "{\"target\":{\"labels\":{\"env\":\"prod\",\"role\":{"
		    "\"notin\":[\"x\",\"a\"]}}},\"action\":\"ping\",\"args\":{}"
		    ","
		    "\"timeout_ms\":30000,\"ttl_ms\":3600000,\"stream\":false,"
		    "\"rollout\":{\"batch_size\":2,\"batch_pct\":false,"
		    "\"offline\":\"wait\",\"canary\":1}}";
		cmdbus_sha256_hex(canon, strlen(canon), b);
	}
	assert_string_equal(a, b);
	sha_of("{\"target\":{\"devices\":[\"d1\"],\"allow_unknown\":true},"
	       "\"action\":\"ping\"}",
	       a);
	{
		static const char canon[] =
		    "{\"target\":{\"allow_unknown\":true,\"devices\":[\"d1\"]},"
		    "\"action\":\"ping\",\"args\":{},\"timeout_ms\":30000,"
		    "\"ttl_ms\":3600000,\"stream\":false}";
		cmdbus_sha256_hex(canon, strlen(canon), b);
	}
	assert_string_equal(a, b);

	/* A request filled in by hand with a broken term is refused. */
	assert_int_equal(decode("{\"target\":{\"labels\":{\"env\":\"prod\"}},"
				"\"action\":\"ping\"}",
				&r, &d),
			 0);
	r.terms[0].op = (enum cmdbus_label_op)9;
	assert_int_equal(cmdbus_job_request_sha256(&r, a), -EINVAL);
	r.terms[0].op = CMDBUS_LABEL_EQ;
	r.rollout.present = true;
	r.rollout.offline = (enum cmdbus_offline_policy)5;
	assert_int_equal(cmdbus_job_request_sha256(&r, a), -EINVAL);
	cmdbus_job_request_fini(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_many_devices),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_action_call),
	    cmocka_unit_test(test_request_sha),
	    cmocka_unit_test(test_request_sha_key_order),
	    cmocka_unit_test(test_request_sha_pinned),
	    cmocka_unit_test(test_request_sha_targeting),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
