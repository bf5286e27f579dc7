/* SPDX-License-Identifier: MIT */
/* The cmdbus command line: targets, rollout flags, operands, exec's argv
 * after `--`, and every usage error the CLI answers with exit status 2. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])) - 1)

static int
parse(int argc, const char *const *argv, struct cli_args *a)
{
	char err[256];

	return cli_args_parse(argc, argv, a, err, sizeof(err));
}

static void
test_run(void **state)
{
	const char *v[] = {"cmdbus",
			   "--url",
			   "http://h:1",
			   "run",
			   "-t",
			   "a,b",
			   "-t",
			   "c",
			   "--batch",
			   "10%",
			   "--max-failures=2",
			   "--timeout",
			   "5s",
			   "--ttl=1h",
			   "--stream",
			   "--json",
			   "ping",
			   "k=v",
			   "x=1=2",
			   NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a), 0);
	assert_int_equal(a.cmd, CLI_RUN);
	assert_string_equal(a.url, "http://h:1");
	assert_int_equal(a.target, CLI_TARGET_DEVICES);
	assert_int_equal(a.ndevices, 2);
	assert_string_equal(a.devices[0], "a,b");
	assert_string_equal(a.batch, "10%");
	assert_string_equal(a.max_failures, "2");
	assert_int_equal(a.timeout_ms, 5000);
	assert_int_equal(a.ttl_ms, 3600000);
	assert_true(a.stream);
	assert_true(a.json);
	assert_true(a.wait);
	assert_string_equal(a.action, "ping");
	assert_int_equal(a.nparams, 2);
	assert_string_equal(a.params[1], "x=1=2");
}

static void
test_labels_and_wait(void **state)
{
	const char *v[] = {
	    "cmdbus",		"run",		"-l",	"site=sz",
	    "--label=role=web", "--wait=false", "info", NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a), 0);
	assert_int_equal(a.target, CLI_TARGET_LABELS);
	assert_int_equal(a.nlabels, 2);
	assert_string_equal(a.labels[1], "role=web");
	assert_false(a.wait);
}

static void
test_exec(void **state)
{
	const char *v[] = {"cmdbus", "exec", "--all",	"--follow", "--",
			   "sh",     "-c",   "echo hi", NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a), 0);
	assert_int_equal(a.cmd, CLI_EXEC);
	assert_string_equal(a.action, "exec");
	assert_int_equal(a.target, CLI_TARGET_ALL);
	assert_true(a.follow);
	/* Flags after `--` belong to the command. */
	assert_int_equal(a.nparams, 3);
	assert_string_equal(a.params[1], "-c");
}

static void
test_queries(void **state)
{
	const char *v1[] = {"cmdbus", "jobs", NULL};
	const char *v2[] = {"cmdbus", "jobs", "show", "J1", "--json", NULL};
	const char *v3[] = {"cmdbus", "devices", "show", "d1", NULL};
	const char *v4[] = {"cmdbus", "output", "E1", "--follow", NULL};
	const char *v5[] = {"cmdbus", "--version", NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(ARGC(v1), v1, &a), 0);
	assert_string_equal(a.sub, "ls");
	assert_int_equal(parse(ARGC(v2), v2, &a), 0);
	assert_string_equal(a.id, "J1");
	assert_true(a.json);
	assert_int_equal(parse(ARGC(v3), v3, &a), 0);
	assert_int_equal(a.cmd, CLI_DEVICES);
	assert_int_equal(parse(ARGC(v4), v4, &a), 0);
	assert_true(a.follow);
	assert_string_equal(a.id, "E1");
	assert_int_equal(parse(ARGC(v5), v5, &a), 0);
	assert_int_equal(a.cmd, CLI_VERSION);
}

static void
test_new_flags(void **state)
{
	const char *v1[] = {"cmdbus",
			    "run",
			    "-t",
			    "a",
			    "--allow-unknown",
			    "--canary",
			    "3",
			    "--offline=wait",
			    "ping",
			    NULL};
	const char *v2[] = {"cmdbus",  "jobs",		 "ls",
			    "--state", "running",	 "--limit",
			    "120",     "--page-size=20", NULL};
	const char *v3[] = {"cmdbus", "devices", "--limit=0", NULL};
	const char *v4[] = {"cmdbus", "run",  "--all", "--batch",
			    "2",      "ping", NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(parse(ARGC(v1), v1, &a), 0);
	assert_true(a.allow_unknown);
	assert_true(a.has_canary);
	assert_int_equal(a.canary, 3);
	assert_string_equal(a.offline, "wait");
	assert_true(cli_args_rollout(&a));
	assert_int_equal(parse(ARGC(v2), v2, &a), 0);
	assert_string_equal(a.state, "running");
	assert_true(a.has_limit);
	assert_int_equal(a.limit, 120);
	assert_int_equal(a.page_size, 20);
	assert_int_equal(parse(ARGC(v3), v3, &a), 0);
	assert_string_equal(a.sub, "ls");
	assert_true(a.has_limit);
	assert_int_equal(a.limit, 0);
	assert_int_equal(parse(ARGC(v4), v4, &a), 0);
	assert_true(cli_args_rollout(&a));
	assert_int_equal(parse(ARGC(v3), v3, &a), 0);
	assert_false(cli_args_rollout(&a));
}

/* The reason names what is wrong: the key given twice, the term. */
static void
test_selector_errors(void **state)
{
	const char *v1[] = {"cmdbus", "run",	"-l",	"env=a",
			    "-l",     "env!=b", "ping", NULL};
	const char *v2[] = {"cmdbus", "run", "-l", "env in prod", "ping", NULL};
	struct cli_args a;
	char err[256];

	(void)state;
	assert_int_equal(cli_args_parse(ARGC(v1), v1, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'env' is given twice"));
	assert_int_equal(cli_args_parse(ARGC(v2), v2, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'env in prod'"));
}

static void
test_usage_errors(void **state)
{
	static const char *const cases[][8] = {
	    {"cmdbus", NULL},
	    {"cmdbus", "frobnicate", NULL},
	    {"cmdbus", "run", "ping", NULL},	/* no target */
	    {"cmdbus", "run", "-t", "a", NULL}, /* no action */
	    {"cmdbus", "run", "-t", "a", "-l", "k=v", "ping", NULL},
	    {"cmdbus", "run", "--all", "--bogus", "ping", NULL},
	    {"cmdbus", "run", "--all", "--batch", "0", "ping", NULL},
	    {"cmdbus", "run", "--all", "--batch", "101%", "ping", NULL},
	    {"cmdbus", "run", "--all", "--timeout", "soon", "ping", NULL},
	    {"cmdbus", "run", "--all", "--wait=maybe", "ping", NULL},
	    {"cmdbus", "run", "--all", "ping", "novalue", NULL},
	    {"cmdbus", "run", "-l", "novalue", "ping", NULL},
	    {"cmdbus", "run", "-l", "k in (a", "ping", NULL},
	    {"cmdbus", "run", "-l", "", "ping", NULL},
	    {"cmdbus", "run", "-l", "k=a", "--allow-unknown", "ping", NULL},
	    {"cmdbus", "run", "--all", "--allow-unknown", "ping", NULL},
	    {"cmdbus", "run", "--all", "--canary", "-1", "ping", NULL},
	    {"cmdbus", "run", "--all", "--canary", "x", "ping", NULL},
	    {"cmdbus", "run", "--all", "--offline", "later", "ping", NULL},
	    {"cmdbus", "run", "--all", "ping", "--offline", NULL},
	    {"cmdbus", "jobs", "ls", "--limit", "-3", NULL},
	    {"cmdbus", "jobs", "ls", "--state", "a b", NULL},
	    {"cmdbus", "jobs", "show", "J1", "--limit", "3", NULL},
	    {"cmdbus", "devices", "ls", "--state", "RUNNING", NULL},
	    {"cmdbus", "devices", "ls", "--page-size", "501", NULL},
	    {"cmdbus", "jobs", "ls", "--page-size", "0", NULL},
	    {"cmdbus", "exec", "--all", NULL}, /* no argv */
	    {"cmdbus", "jobs", "show", NULL},
	    {"cmdbus", "jobs", "rm", "J1", NULL},
	    {"cmdbus", "devices", "cancel", "d1", NULL},
	    {"cmdbus", "output", NULL},
	    {"cmdbus", "--url", NULL},
	};
	struct cli_args a;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v[8];
		int n = 0;

		while (cases[i][n] != NULL) {
			v[n] = cases[i][n];
			n++;
		}
		v[n] = NULL;
		err[0] = '\0';
		assert_int_equal(cli_args_parse(n, v, &a, err, sizeof(err)),
				 -EINVAL);
		assert_true(err[0] != '\0');
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run),
	    cmocka_unit_test(test_labels_and_wait),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_queries),
	    cmocka_unit_test(test_new_flags),
	    cmocka_unit_test(test_selector_errors),
	    cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
