/* SPDX-License-Identifier: MIT */
/* REST views: the job and execution views, pages, the output view, the
 * health and error bodies, compared byte for byte with the golden vectors
 * under tests/vectors/rest/valid. */
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

#define ID "01JD3QX4Z5W8K2N7R9T1V3B6YC"
#define ID2 "01JD3QX4Z5W8K2N7R9T1V3B6YD"
#define JOB "01JD3QWZ8M2P4R6T8V0X2Z4B6D"
#define IAT 1763700000000ull
#define EXP 1763786400000ull
#define BOOT "01JD3PA7C9E1G3J5K7M9N1Q3S5"

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

/* The job aborted by its canary in job-view-rollout.json. */
static struct cmdbus_job_view
job_aborted(void)
{
	static const struct cmdbus_reason_count reasons[] = {
	    {"rollout_aborted", 2}};
	struct cmdbus_job_view j;

	memset(&j, 0, sizeof j);
	j.id = JOB;
	j.action = "exec";
	j.args_json = "{\"argv\":[\"uname\",\"-a\"]}";
	j.state = CMDBUS_JOB_ABORTED;
	j.created_at = IAT - 100;
	j.finished_at = EXP;
	j.timeout_ms = 30000;
	j.ttl_ms = 86400000;
	j.counts[CMDBUS_STATE_SUCCEEDED] = 1;
	j.counts[CMDBUS_STATE_FAILED] = 1;
	j.counts[CMDBUS_STATE_CANCELED] = 2;
	j.reasons = reasons;
	j.nreasons = 1;
	j.targets_json = "{\"matched\":4,\"offline\":[\"dev-3\"],"
			 "\"unknown\":[]}";
	j.rollout.present = true;
	j.rollout.batch_size = 2;
	j.rollout.has_max_failures = true;
	j.rollout.max_failures = 1;
	j.rollout.offline = CMDBUS_OFFLINE_SKIP;
	j.rollout.canary = 2;
	j.rollout.phase = "aborted";
	j.rollout.released = 2;
	j.rollout.failures = 1;
	j.abort_reason =
	    "canary failed: 1 of 2 canary executions did not succeed";
	return j;
}

static void
test_job_view_detail(void **state)
{
	static const char three[4][CMDBUS_NAME_BUF] = {"dev-3"};
	static const char nine[1][CMDBUS_NAME_BUF] = {"dev-9"};
	static const struct cmdbus_reason_count zero[] = {{"offline", 0}},
						two[] = {
						    {"offline", 2},
						    {"rollout_aborted", 5}};
	struct cmdbus_job_view j = job_aborted();
	char *want = test_vector_read("rest/valid/job-view-rollout.json", NULL);
	char *out = NULL, *targets = NULL;
	size_t len, tlen;

	(void)state;
	/* The stored resolution, made by cmdbus_targets_encode. */
	assert_int_equal(
	    cmdbus_targets_encode(4, three, 1, NULL, 0, &targets, &tlen), 0);
	assert_string_equal(targets, j.targets_json);
	assert_int_equal(tlen, strlen(targets));
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	free(want);
	free(targets);

	/* Unknown devices, an unlimited rollout, no reasons, not aborted. */
	j = job_aborted();
	j.action = "ping";
	j.args_json = "{}";
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = IAT;
	j.finished_at = 0;
	j.ttl_ms = 3600000;
	memset(j.counts, 0, sizeof j.counts);
	j.counts[CMDBUS_STATE_QUEUED] = 2;
	j.nreasons = 0;
	assert_int_equal(
	    cmdbus_targets_encode(2, NULL, 0, nine, 1, &targets, &tlen), 0);
	/* Stored text is written canonically. */
	j.targets_json = " { \"matched\" : 2 , \"offline\" : [ ] , "
			 "\"unknown\" : [ \"dev-9\" ] } ";
	j.rollout.has_max_failures = false;
	j.rollout.offline = CMDBUS_OFFLINE_WAIT;
	j.rollout.canary = 0;
	j.rollout.phase = "done";
	j.rollout.released = 2;
	j.rollout.in_progress = 2;
	j.rollout.failures = 0;
	j.rollout.batch = 1;
	j.abort_reason = NULL;
	want =
	    test_vector_read("rest/valid/job-view-targets-unknown.json", NULL);
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_string_equal(out, want);
	assert_non_null(strstr(out, targets));
	free(out);
	free(want);
	free(targets);

	/* Reasons in the order given, zero counts left out, and the member
	 * left out when nothing is left. */
	j = job_aborted();
	j.reasons = two;
	j.nreasons = 2;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_non_null(strstr(out,
			       "\"counts\":{\"SUCCEEDED\":1,\"FAILED\":"
			       "1,\"CANCELED\":2},\"reasons\":{\"offline\":"
			       "2,\"rollout_aborted\":5},\"targets\":"));
	free(out);
	j.reasons = zero;
	j.nreasons = 1;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_null(strstr(out, "reasons"));
	free(out);

	/* Without the new members the view is what it was. */
	j = job_aborted();
	j.nreasons = 0;
	j.targets_json = NULL;
	j.rollout.present = false;
	j.abort_reason = NULL;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), 0);
	assert_non_null(strstr(out, "\"counts\":{\"SUCCEEDED\":1,\"FAILED\":"
				    "1,\"CANCELED\":2},\"executions\":[]}"));
	free(out);
}

/* A list item keeps abort_reason and leaves the detail out. */
static void
test_job_summary_detail(void **state)
{
	struct cmdbus_job_view j = job_aborted();
	char *item = NULL, *out = NULL, *want;
	size_t ilen, len;

	(void)state;
	j.summary = true;
	j.abort_reason = "max_failures exceeded: 1 failures, at most 0 allowed";
	assert_int_equal(cmdbus_job_view_encode(&j, &item, &ilen), 0);
	assert_null(strstr(item, "reasons"));
	assert_null(strstr(item, "targets"));
	assert_null(strstr(item, "rollout"));
	assert_null(strstr(item, "executions"));
	assert_int_equal(
	    cmdbus_page_encode("jobs", &item, &ilen, 1, NULL, &out, &len), 0);
	want = test_vector_read("rest/valid/jobs-page-aborted.json", NULL);
	assert_string_equal(out, want);
	free(out);
	free(want);
	free(item);

	/* A broken detail is not looked at in a list item. */
	j.rollout.phase = "paused";
	j.targets_json = "[]";
	assert_int_equal(cmdbus_job_view_encode(&j, &item, &ilen), 0);
	free(item);
}

/* What breaks the contract is refused, never written. */
static void
test_job_view_detail_refusals(void **state)
{
	static const struct cmdbus_reason_count null_code[] = {{NULL, 1}},
						bad_code[] = {{"Offline", 1}},
						dup_code[] = {{"offline", 1},
							      {"expired", 1},
							      {"offline", 2}};
	struct cmdbus_job_view j;
	char *out = NULL;
	size_t len;

	(void)state;
	j = job_aborted();
	j.rollout.phase = "paused";
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.rollout.phase = NULL;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j = job_aborted();
	j.rollout.offline = (enum cmdbus_offline_policy)3;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j = job_aborted();
	j.rollout.batch_size = 0;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j = job_aborted();
	j.reasons = null_code;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.reasons = bad_code;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.reasons = dup_code;
	j.nreasons = 3;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.reasons = NULL;
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j = job_aborted();
	j.targets_json = "[]";
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.targets_json = "{\"matched\":1,\"matched\":2}";
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
	j.targets_json = "{";
	assert_int_equal(cmdbus_job_view_encode(&j, &out, &len), -EINVAL);
}

static void
test_targets_encode(void **state)
{
	static const char ids[3][CMDBUS_NAME_BUF] = {"a.b_c", "dev-1", "Z-9"};
	static const char bad[1][CMDBUS_NAME_BUF] = {"a/b"};
	char *out = NULL;
	size_t len;

	(void)state;
	assert_int_equal(cmdbus_targets_encode(0, NULL, 0, NULL, 0, &out, &len),
			 0);
	assert_string_equal(out,
			    "{\"matched\":0,\"offline\":[],\"unknown\":[]}");
	free(out);
	/* Each list sorted by id (byte order), whatever the order given. */
	assert_int_equal(
	    cmdbus_targets_encode(3, ids, 3, &ids[1], 2, &out, &len), 0);
	assert_string_equal(out, "{\"matched\":3,\"offline\":[\"Z-9\","
				 "\"a.b_c\",\"dev-1\"],\"unknown\":[\"Z-9\","
				 "\"dev-1\"]}");
	assert_int_equal(len, strlen(out));
	free(out);
	out = NULL;
	assert_int_equal(cmdbus_targets_encode(1, bad, 1, NULL, 0, &out, &len),
			 -EINVAL);
	assert_int_equal(cmdbus_targets_encode(1, NULL, 0, bad, 1, &out, &len),
			 -EINVAL);
	assert_int_equal(cmdbus_targets_encode(1, NULL, 1, NULL, 0, &out, &len),
			 -EINVAL);
	assert_int_equal(cmdbus_targets_encode(1, NULL, 0, NULL, 1, &out, &len),
			 -EINVAL);
	assert_int_equal(cmdbus_targets_encode(CMDBUS_MAX_INT + 1, NULL, 0,
					       NULL, 0, &out, &len),
			 -EINVAL);
	assert_null(out);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_execution_view),
	    cmocka_unit_test(test_job_view),
	    cmocka_unit_test(test_job_view_detail),
	    cmocka_unit_test(test_job_summary_detail),
	    cmocka_unit_test(test_job_view_detail_refusals),
	    cmocka_unit_test(test_targets_encode),
	    cmocka_unit_test(test_error_body),
	    cmocka_unit_test(test_healthz),
	    cmocka_unit_test(test_job_states),
	    cmocka_unit_test(test_pages),
	    cmocka_unit_test(test_output_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
