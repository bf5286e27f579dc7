/* SPDX-License-Identifier: MIT */
/* The POST /v1/jobs body the CLI sends: targets, run's key=value
 * arguments, exec's argv, timeouts and the rollout as the REST API takes
 * them, read back with the schema library's view. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"
#include "body.h"
#include "cmdbus/jsonv.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])) - 1)

static char *
body_of(int argc, const char *const *argv)
{
	struct cli_args a;
	char err[256], *out = NULL;

	assert_int_equal(cli_args_parse(argc, argv, &a, err, sizeof(err)), 0);
	assert_int_equal(body_job_request(&a, &out, err, sizeof(err)), 0);
	return out;
}

static void
test_run_devices(void **state)
{
	const char *v[] = {"cmdbus",   "run",	    "-t",  "a,b",     "-t",
			   "c",	       "--timeout", "5s",  "--ttl",   "2m",
			   "--stream", "ping",	    "k=v", "url=x=y", NULL};
	char *body = body_of(ARGC(v), v);

	(void)state;
	assert_string_equal(body,
			    "{\"target\":{\"devices\":[\"a\",\"b\",\"c\"]},"
			    "\"action\":\"ping\",\"args\":{\"k\":\"v\","
			    "\"url\":\"x=y\"},\"timeout_ms\":5000,"
			    "\"ttl_ms\":120000,\"stream\":true}");
	free(body);
}

static void
test_labels_rollout(void **state)
{
	const char *v[] = {"cmdbus",  "run",	 "-l",	"role=web",	  "-l",
			   "site=sz", "--batch", "10%", "--max-failures", "2",
			   "info",    NULL};
	const char *v2[] = {"cmdbus",	      "run", "--all", "--batch", "3",
			    "--max-failures", "25%", "info",  NULL};
	struct cmdbus_jsonv *doc = NULL;
	const struct cmdbus_jnode *r, *ro;
	char *body = body_of(ARGC(v), v);
	int64_t n = 0;

	(void)state;
	assert_int_equal(cmdbus_jsonv_parse(body, strlen(body), &doc, NULL, 0),
			 0);
	r = cmdbus_jsonv_root(doc);
	assert_string_equal(
	    cmdbus_jnode_str(
		cmdbus_jnode_get(
		    cmdbus_jnode_get(cmdbus_jnode_get(r, "target"), "labels"),
		    "site"),
		NULL),
	    "sz");
	ro = cmdbus_jnode_get(r, "rollout");
	assert_string_equal(
	    cmdbus_jnode_str(cmdbus_jnode_get(ro, "batch_size"), NULL), "10%");
	assert_int_equal(
	    cmdbus_jnode_int(cmdbus_jnode_get(ro, "max_failures"), &n), 0);
	assert_int_equal(n, 2);
	cmdbus_jsonv_free(doc);
	free(body);

	body = body_of(ARGC(v2), v2);
	assert_string_equal(body, "{\"target\":{\"all\":true},\"action\":"
				  "\"info\",\"args\":{},\"rollout\":{"
				  "\"batch_size\":3,\"max_failure_pct\":25}}");
	free(body);
}

static void
test_exec(void **state)
{
	const char *v[] = {"cmdbus", "exec", "-t",	    "d1", "--",
			   "sh",     "-c",   "echo \"hi\"", NULL};
	char *body = body_of(ARGC(v), v);

	(void)state;
	assert_string_equal(body, "{\"target\":{\"devices\":[\"d1\"]},"
				  "\"action\":\"exec\",\"args\":{\"argv\":["
				  "\"sh\",\"-c\",\"echo \\\"hi\\\"\"]}}");
	free(body);
}

/* Compares a body with the expected JSON written with ' for ", for
 * legibility. */
static void
assert_body(const char *body, const char *want)
{
	char *w = strdup(want);

	assert_non_null(w);
	for (char *p = w; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	assert_string_equal(body, w);
	free(w);
}

static void
test_selector_terms(void **state)
{
	const char *v[] = {
	    "cmdbus",  "run",	   "-l", "env in (prod, staging)",
	    "--label", "tier!=db", "-l", "zone notin (a,b),role=web",
	    "ping",    NULL};
	char *body = body_of(ARGC(v), v);

	(void)state;
	assert_body(body, "{'target':{'labels':{'env':{'in':['prod',"
			  "'staging']},'tier':{'notin':['db']},'zone':{"
			  "'notin':['a','b']},'role':'web'}},'action':"
			  "'ping','args':{}}");
	free(body);
}

static void
test_rollout_flags(void **state)
{
	const char *v[] = {"cmdbus", "run",	  "--all", "--canary",
			   "2",	     "--offline", "skip",  "--batch",
			   "5",	     "info",	  NULL};
	const char *v2[] = {"cmdbus", "exec", "--offline=fail", "--all", "--",
			    "true",   NULL};
	const char *v3[] = {"cmdbus",	  "run",  "--all",
			    "--canary=1", "ping", NULL};
	char *body = body_of(ARGC(v), v);

	(void)state;
	assert_body(body, "{'target':{'all':true},'action':'info','args':{},"
			  "'rollout':{'batch_size':5,'offline':'skip',"
			  "'canary':2}}");
	free(body);
	/* Any one rollout flag makes a rollout object. */
	body = body_of(ARGC(v2), v2);
	assert_body(body, "{'target':{'all':true},'action':'exec','args':{"
			  "'argv':['true']},'rollout':{'offline':'fail'}}");
	free(body);
	body = body_of(ARGC(v3), v3);
	assert_body(body, "{'target':{'all':true},'action':'ping','args':{},"
			  "'rollout':{'canary':1}}");
	free(body);
}

static void
test_allow_unknown(void **state)
{
	const char *v[] = {"cmdbus",	      "run",  "-t", "a,b",
			   "--allow-unknown", "ping", NULL};
	char *body = body_of(ARGC(v), v);

	(void)state;
	assert_body(body, "{'target':{'devices':['a','b'],'allow_unknown':"
			  "true},'action':'ping','args':{}}");
	free(body);
}

static void
test_refusals(void **state)
{
	const char *v[] = {"cmdbus", "run", "-t", "a,,b", "ping", NULL};
	const char *v2[] = {"cmdbus", "run", "--all", "ping", "k=\xff", NULL};
	struct cli_args a;
	char err[256], *out = NULL;

	(void)state;
	assert_int_equal(cli_args_parse(ARGC(v), v, &a, err, sizeof(err)), 0);
	assert_int_equal(body_job_request(&a, &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
	assert_non_null(strstr(err, "empty device id"));
	assert_int_equal(cli_args_parse(ARGC(v2), v2, &a, err, sizeof(err)), 0);
	assert_int_equal(body_job_request(&a, &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_devices),
	    cmocka_unit_test(test_labels_rollout),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_selector_terms),
	    cmocka_unit_test(test_rollout_flags),
	    cmocka_unit_test(test_allow_unknown),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
