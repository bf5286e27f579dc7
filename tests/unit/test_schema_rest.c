/* SPDX-License-Identifier: MIT */
/* REST bodies: the job request with its defaults and refusals, and the
 * job, execution, device, health and error views, compared byte for byte
 * with the golden vectors under tests/vectors/rest/valid. */
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

#include "cmdbus/rest.h"
#include "common/err.h"
#include "test_schema_files.h"

#define ID "01JD3QX4Z5W8K2N7R9T1V3B6YC"
#define ID2 "01JD3QX4Z5W8K2N7R9T1V3B6YD"
#define JOB "01JD3QWZ8M2P4R6T8V0X2Z4B6D"
#define IAT 1763700000000ull
#define EXP 1763786400000ull
#define BOOT "01JD3PA7C9E1G3J5K7M9N1Q3S5"

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
	assert_int_equal(r.nlabels, 2);
	assert_string_equal(r.labels[1].key, "role");
	assert_string_equal(r.labels[1].value, "web");
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

static struct cmdbus_execution_view
exec_ok(void)
{
	struct cmdbus_execution_view v = {0};

	v.id = ID;
	v.job = JOB;
	v.device = "dev-1";
	v.action = "exec";
	v.state = CMDBUS_STATE_SUCCEEDED;
	v.created_at = IAT - 100;
	v.updated_at = IAT + 9;
	v.published_at = IAT;
	v.finished_at = IAT + 9;
	return v;
}

static struct cmdbus_execution_view
exec_expired(const char *message)
{
	struct cmdbus_execution_view v = {0};

	v.id = ID2;
	v.job = JOB;
	v.device = "dev-2";
	v.action = "exec";
	v.state = CMDBUS_STATE_EXPIRED;
	v.created_at = IAT - 100;
	v.updated_at = EXP;
	v.finished_at = EXP;
	v.error_code = "expired";
	v.error_message = message;
	return v;
}

static void
test_execution_view(void **state)
{
	struct cmdbus_execution_view v = exec_ok();
	char *out = NULL, *want, *vec_result, *start, *end;
	size_t len;

	(void)state;
	/* Take the result payload from the vector so both are the same. */
	want = test_vector_read("rest/valid/execution-view.json", NULL);
	start = strstr(want, "\"result\":") + strlen("\"result\":");
	end = want + strlen(want) - 1; /* the view's closing brace */
	vec_result = malloc((size_t)(end - start) + 1);
	assert_non_null(vec_result);
	memcpy(vec_result, start, (size_t)(end - start));
	vec_result[end - start] = '\0';
	v.result_json = vec_result;
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);

	/* A result with spaces is embedded canonically. */
	v.result_json = "{ \"a\" : [ 1 ] }";
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), 0);
	assert_non_null(strstr(out, "\"result\":{\"a\":[1]}}"));
	free(out);
	v.result_json = "{\"a\":1,\"a\":2}";
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), -EINVAL);
	v.result_json = "[]";
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), -EINVAL);
	v.result_json = NULL;
	v.id = NULL;
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), -EINVAL);

	v = exec_expired("never delivered before exp");
	v.late_results = 1;
	want = test_vector_read("rest/valid/execution-view-expired.json", NULL);
	assert_int_equal(cmdbus_execution_view_encode(&v, &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);
	free(vec_result);
}

static void
test_job_view(void **state)
{
	struct cmdbus_execution_view ex[2];
	struct cmdbus_job_view j = {0};
	char *want = test_vector_read("rest/valid/job-view.json", NULL),
	     *vec_result;
	char *out = NULL, *start, *end;
	size_t len;

	(void)state;
	start = strstr(want, "\"result\":") + strlen("\"result\":");
	end = strstr(start, "},{\"id\"");
	assert_non_null(end);
	vec_result = malloc((size_t)(end - start) + 1);
	assert_non_null(vec_result);
	memcpy(vec_result, start, (size_t)(end - start));
	vec_result[end - start] = '\0';
	ex[0] = exec_ok();
	ex[0].result_json = vec_result;
	ex[1] = exec_expired("never delivered");
	j.id = JOB;
	j.action = "exec";
	j.args_json = "{\"argv\":[\"uname\",\"-a\"]}";
	j.state = CMDBUS_JOB_COMPLETED;
	j.created_at = IAT - 100;
	j.finished_at = EXP;
	j.timeout_ms = 30000;
	j.ttl_ms = 86400000;
	j.counts[CMDBUS_STATE_SUCCEEDED] = 1;
	j.counts[CMDBUS_STATE_EXPIRED] = 1;
	j.executions = ex;
	j.nexecutions = 2;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_string_equal(out, want);
	free(out);

	/* Running, nothing finished, no executions yet. */
	memset(j.counts, 0, sizeof(j.counts));
	j.counts[CMDBUS_STATE_QUEUED] = 3;
	j.state = CMDBUS_JOB_RUNNING;
	j.finished_at = 0;
	j.nexecutions = 0;
	j.args_json = NULL;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_string_equal(
	    out, "{\"id\":\"" JOB "\",\"state\":\"RUNNING\",\"action\":"
		 "\"exec\",\"args\":{},\"timeout_ms\":30000,\"ttl_ms\":"
		 "86400000,\"stream\":false,\"created_at\":1763699999900,"
		 "\"counts\":{\"QUEUED\":3},\"executions\":[]}");
	free(out);
	j.args_json = "[1]";
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.args_json = "{}";
	j.state = (enum cmdbus_job_state)9;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	free(vec_result);
	free(want);
}

static void
test_error_body(void **state)
{
	char *want = test_vector_read("rest/valid/error-body.json", NULL),
	     *out = NULL;
	size_t len;

	(void)state;
	assert_int_equal(cmdbus_error_body_encode(
			     "malformed", "device 'dev-1' is listed twice",
			     "target.devices[2]", &out, &len),
			 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	assert_int_equal(cmdbus_error_body_encode("not_found", "no \"job\"\n",
						  "", &out, &len),
			 0);
	assert_string_equal(out, "{\"error\":{\"code\":\"not_found\","
				 "\"message\":\"no \\\"job\\\"\\n\"}}");
	free(out);
	assert_int_equal(
	    cmdbus_error_body_encode("internal", NULL, NULL, &out, &len), 0);
	assert_string_equal(
	    out, "{\"error\":{\"code\":\"internal\",\"message\":\"\"}}");
	free(out);
	assert_int_equal(cmdbus_error_body_encode(NULL, "m", NULL, &out, &len),
			 -EINVAL);
	free(want);
}

/* A device as the dispatcher keeps it: the parts of its last online
 * status as JSON text. */
struct stored_device {
	struct cmdbus_msg m;
	char *labels, *actions, *health;
};

static void
store_status(struct stored_device *sd, const char *vector)
{
	char *p = test_vector_read(vector, NULL);
	struct cmdbus_status *st = &sd->m.u.status;

	assert_int_equal(cmdbus_msg_decode(p, strlen(p), &sd->m, NULL), 0);
	assert_int_equal(sd->m.type, CMDBUS_MSG_STATUS);
	free(p);
	assert_int_equal(cmdbus_status_labels_encode(st->labels, st->nlabels,
						     &sd->labels, NULL),
			 0);
	assert_int_equal(cmdbus_status_actions_encode(st->actions, st->nactions,
						      &sd->actions, NULL),
			 0);
	assert_int_equal(
	    cmdbus_status_health_encode(&st->health, &sd->health, NULL), 0);
}

static void
stored_device_fini(struct stored_device *sd)
{
	cmdbus_msg_fini(&sd->m);
	free(sd->labels);
	free(sd->actions);
	free(sd->health);
}

static void
test_device_view(void **state)
{
	struct stored_device sd;
	struct cmdbus_device_view v[2];
	char *want, *out = NULL;
	size_t len;

	(void)state;
	store_status(&sd, "payload/valid/status-online.json");
	assert_string_equal(sd.labels, "{\"site\":\"sz\",\"role\":\"web\"}");
	memset(v, 0, sizeof(v));
	v[0].id = "dev-1";
	v[0].online = true;
	v[0].last_seen = IAT + 40;
	v[0].boot_id = sd.m.u.status.boot_id;
	v[0].agent = sd.m.u.status.agent;
	v[0].labels_json = sd.labels;
	v[0].actions_json = sd.actions;
	v[0].health_json = sd.health;
	want = test_vector_read("rest/valid/device-view.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&v[0], &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);

	/* Seen only through its will: no agent, no labels, no actions. */
	v[1].id = "dev-2";
	v[1].last_seen = EXP;
	v[1].boot_id = BOOT;
	v[1].agent = "";
	want =
	    test_vector_read("rest/valid/device-view-never-online.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);

	/* Online but silent for three heartbeats: "stale":true. */
	struct cmdbus_device_view st = {.id = "dev-1",
					.online = true,
					.stale = true,
					.last_seen = IAT + 40,
					.boot_id = BOOT};
	want = test_vector_read("rest/valid/device-view-stale.json", NULL);
	assert_int_equal(cmdbus_device_view_encode(&st, &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);

	want = test_vector_read("rest/valid/devices-view.json", NULL);
	assert_int_equal(cmdbus_device_list_encode(v, 2, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
	assert_int_equal(cmdbus_device_list_encode(NULL, 0, &out, &len), 0);
	assert_string_equal(out, "{\"devices\":[]}");
	free(out);

	/* Stored text is embedded canonically, and only of the right
	 * kind. */
	v[1].labels_json = "{ \"site\" : \"lab\" }";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), 0);
	assert_non_null(strstr(out, ",\"labels\":{\"site\":\"lab\"},"));
	free(out);
	v[1].labels_json = "[]";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].labels_json = "{\"a\":\"b\",\"a\":\"c\"}";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].labels_json = NULL;
	v[1].actions_json = "{}";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	v[1].actions_json = NULL;
	v[1].health_json = "[1]";
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	/* One bad entry fails the whole list. */
	out = NULL;
	assert_int_equal(cmdbus_device_list_encode(v, 2, &out, &len), -EINVAL);
	assert_null(out);
	v[1].health_json = NULL;
	v[1].boot_id = NULL;
	assert_int_equal(cmdbus_device_view_encode(&v[1], &out, &len), -EINVAL);
	stored_device_fini(&sd);
}

static void
test_status_parts(void **state)
{
	char site[] = "site", lab[] = "lab", rack[] = "rack.no", b4[] = "4-b";
	char spaced[] = "a b", service[] = "service", empty[] = "";
	char pattern[] = "^(nginx|sshd)$";
	struct cmdbus_label l[2] = {{site, lab}, {rack, b4}};
	struct cmdbus_param p[1] = {{service, pattern}};
	struct cmdbus_action_desc a[2] = {
	    {.name = "ping"}, {.name = "restart", .params = p, .nparams = 1}};
	struct cmdbus_health h = {1, 1.5, 2, 3};
	char *out = NULL;

	(void)state;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL), 0);
	assert_string_equal(out, "{\"site\":\"lab\",\"rack.no\":\"4-b\"}");
	free(out);
	assert_int_equal(cmdbus_status_labels_encode(NULL, 0, &out, NULL), 0);
	assert_string_equal(out, "{}");
	free(out);
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL), 0);
	assert_string_equal(out,
			    "[{\"name\":\"ping\"},{\"name\":\"restart\","
			    "\"params\":{\"service\":\"^(nginx|sshd)$\"}}]");
	free(out);
	assert_int_equal(cmdbus_status_actions_encode(NULL, 0, &out, NULL), 0);
	assert_string_equal(out, "[]");
	free(out);
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), 0);
	assert_string_equal(out, "{\"uptime_s\":1,\"load1\":1.5,"
				 "\"mem_avail_kb\":2,\"disk_avail_kb\":3}");
	free(out);

	/* What breaks the contract is refused, never written. */
	out = NULL;
	assert_int_equal(cmdbus_status_labels_encode(NULL, 1, &out, NULL),
			 -EINVAL);
	l[1].value = spaced;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL),
			 -EINVAL);
	l[1].value = NULL;
	assert_int_equal(cmdbus_status_labels_encode(l, 2, &out, NULL),
			 -EINVAL);
	snprintf(a[0].name, sizeof(a[0].name), "Ping");
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	snprintf(a[0].name, sizeof(a[0].name), "ping");
	p[0].pattern = empty;
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	a[1].params = NULL;
	assert_int_equal(cmdbus_status_actions_encode(a, 2, &out, NULL),
			 -EINVAL);
	h.load1 = -0.5;
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), -EINVAL);
	h.load1 = NAN;
	assert_int_equal(cmdbus_status_health_encode(&h, &out, NULL), -EINVAL);
	assert_int_equal(cmdbus_status_health_encode(NULL, &out, NULL),
			 -EINVAL);
	assert_null(out);
}

static void
test_healthz(void **state)
{
	char *want, *out = NULL;
	size_t len;

	(void)state;
	want = test_vector_read("rest/valid/health-ok.json", NULL);
	assert_int_equal(cmdbus_healthz_encode(true, true, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
	want = test_vector_read("rest/valid/health-unavailable.json", NULL);
	assert_int_equal(cmdbus_healthz_encode(true, false, &out, &len), 0);
	assert_string_equal(out, want);
	free(out);
	free(want);
	assert_int_equal(cmdbus_healthz_encode(false, true, &out, &len), 0);
	assert_string_equal(out, "{\"status\":\"unavailable\",\"database\":"
				 "false,\"broker\":true}");
	free(out);
}

static void
test_job_states(void **state)
{
	enum cmdbus_job_state s;

	(void)state;
	assert_string_equal(cmdbus_job_state_name(CMDBUS_JOB_ABORTED),
			    "ABORTED");
	assert_int_equal(cmdbus_job_state_parse("COMPLETED", &s), 0);
	assert_int_equal(s, CMDBUS_JOB_COMPLETED);
	assert_int_equal(cmdbus_job_state_parse("completed", &s),
			 -ERR_MALFORMED);
	assert_null(cmdbus_job_state_name((enum cmdbus_job_state)4));
}

/* The result payload embedded in the execution-view vector. */
static char *
vector_result(void)
{
	char *v = test_vector_read("rest/valid/execution-view.json", NULL);
	char *start = strstr(v, "\"result\":") + strlen("\"result\":");
	size_t n = strlen(start) - 1; /* the view's closing brace */
	char *r = malloc(n + 1);

	assert_non_null(r);
	memcpy(r, start, n);
	r[n] = '\0';
	free(v);
	return r;
}

static void
test_pages(void **state)
{
	struct cmdbus_job_view v;
	char *item = NULL, *out = NULL, *want;
	size_t ilen = 0, len = 0;

	(void)state;
	memset(&v, 0, sizeof v);
	v.id = JOB;
	v.action = "exec";
	v.args_json = "{\"argv\":[\"uname\",\"-a\"]}";
	v.state = CMDBUS_JOB_COMPLETED;
	v.created_at = IAT - 100;
	v.finished_at = EXP;
	v.timeout_ms = 30000;
	v.ttl_ms = 86400000;
	v.counts[CMDBUS_STATE_SUCCEEDED] = 1;
	v.counts[CMDBUS_STATE_EXPIRED] = 1;
	v.summary = true;
	assert_int_equal(cmdbus_job_view_encode(&v, &item, &ilen), 0);
	assert_null(strstr(item, "executions"));
	assert_int_equal(
	    cmdbus_page_encode("jobs", &item, &ilen, 1, JOB, &out, &len), 0);
	want = test_vector_read("rest/valid/jobs-page.json", NULL);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
	free(item);

	assert_int_equal(
	    cmdbus_page_encode("jobs", NULL, NULL, 0, NULL, &out, &len), 0);
	want = test_vector_read("rest/valid/jobs-page-last.json", NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);

	/* Items are written as the encoders made them. */
	item = test_vector_read("rest/valid/execution-view.json", &ilen);
	while (ilen && item[ilen - 1] == '\n')
		item[--ilen] = '\0';
	assert_int_equal(
	    cmdbus_page_encode("executions", &item, &ilen, 1, NULL, &out, &len),
	    0);
	want = test_vector_read("rest/valid/executions-page.json", NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);
	free(item);
	assert_int_equal(
	    cmdbus_page_encode(NULL, NULL, NULL, 0, NULL, &out, &len), -EINVAL);
	assert_int_equal(
	    cmdbus_page_encode("jobs", NULL, NULL, 1, NULL, &out, &len),
	    -EINVAL);
}

static void
test_output_view(void **state)
{
	char *result = vector_result(), *out = NULL, *want;
	size_t len = 0;

	(void)state;
	assert_int_equal(cmdbus_output_view_encode(ID, CMDBUS_STATE_SUCCEEDED,
						   result, &out, &len),
			 0);
	want = test_vector_read("rest/valid/output-view.json", NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);
	free(result);

	/* No result yet: empty streams. */
	assert_int_equal(cmdbus_output_view_encode(ID2, CMDBUS_STATE_QUEUED,
						   NULL, &out, &len),
			 0);
	want = test_vector_read("rest/valid/output-view-queued.json", NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);

	/* Bytes that are not UTF-8 go as base64. */
	assert_int_equal(
	    cmdbus_output_view_encode(
		ID, CMDBUS_STATE_FAILED,
		"{\"type\":\"result\",\"id\":\"" ID "\",\"device\":\"dev-1\","
		"\"boot_id\":\"" BOOT "\",\"state\":\"FAILED\",\"exit_code\":1,"
		"\"stdout_b64\":\"/w==\",\"stderr\":\"\",\"stdout_truncated\":"
		"false,\"stderr_truncated\":false,\"stdout_bytes\":1,"
		"\"stderr_bytes\":0,\"started_at\":1,\"finished_at\":2}",
		&out, &len),
	    0);
	assert_non_null(strstr(out, "\"stdout_b64\":\"/w==\""));
	assert_non_null(strstr(out, "\"final\":true"));
	free(out);
	assert_int_equal(cmdbus_output_view_encode(NULL, CMDBUS_STATE_QUEUED,
						   NULL, &out, &len),
			 -EINVAL);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_many_devices),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_execution_view),
	    cmocka_unit_test(test_job_view),
	    cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_device_view),
	    cmocka_unit_test(test_status_parts),
	    cmocka_unit_test(test_healthz),
	    cmocka_unit_test(test_job_states),
	    cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_output_view),
	    cmocka_unit_test(test_action_call),
	    cmocka_unit_test(test_request_sha),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
