/* SPDX-License-Identifier: MIT */
/* Arguments of the built-in actions (exec, shell, catalog parameters),
 * each refusal a bad_args naming the parameter, and the info document. */
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

#include "cmdbus/action.h"
#include "common/err.h"

static void
test_exec_ok(void **state)
{
	struct cmdbus_exec_args a;
	struct cmdbus_diag d;

	(void)state;
	assert_int_equal(
	    cmdbus_exec_args_decode(
		"{\"argv\":[\"/bin/echo\",\"\",\"caf\xc3\xa9\"],"
		"\"stdin\":\"a\\u0000b\",\"env\":{\"LC_ALL\":\"C\","
		"\"_x9\":\"\"}}",
		&a, &d),
	    0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "/bin/echo");
	assert_string_equal(a.argv[1], "");
	assert_string_equal(a.argv[2], "caf\xc3\xa9");
	assert_null(a.argv[3]);
	assert_true(a.has_stdin);
	assert_int_equal(a.stdin_data.len, 3);
	assert_memory_equal(a.stdin_data.data, "a\0b", 3);
	assert_int_equal(a.nenv, 2);
	assert_string_equal(a.env[0].key, "LC_ALL");
	assert_string_equal(a.env[0].value, "C");
	assert_string_equal(a.env[1].key, "_x9");
	cmdbus_exec_args_fini(&a);
	cmdbus_exec_args_fini(&a); /* safe twice */

	assert_int_equal(
	    cmdbus_exec_args_decode("{\"argv\":[\"true\"]}", &a, &d), 0);
	assert_int_equal(a.argc, 1);
	assert_false(a.has_stdin);
	assert_int_equal(a.nenv, 0);
	assert_null(a.env);
	cmdbus_exec_args_fini(&a);
	/* An empty stdin is still a stdin. */
	assert_int_equal(cmdbus_exec_args_decode(
			     "{\"argv\":[\"cat\"],\"stdin\":\"\"}", &a, &d),
			 0);
	assert_true(a.has_stdin);
	assert_int_equal(a.stdin_data.len, 0);
	cmdbus_exec_args_fini(&a);
}

static char *
many(const char *head, const char *item, int n, const char *tail)
{
	size_t cap = strlen(head) + strlen(tail) + (size_t)n * 32 + 1, len;
	char *s = malloc(cap);

	assert_non_null(s);
	len = (size_t)snprintf(s, cap, "%s", head);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, i ? ",%s" : "%s",
					item);
	snprintf(s + len, cap - len, "%s", tail);
	return s;
}

static void
test_exec_refusals(void **state)
{
	static const struct {
		const char *args;
		const char *field;
	} cases[] = {
	    {"{}", "argv"},
	    {"{\"argv\":\"ls\"}", "argv"},
	    {"{\"argv\":[]}", "argv"},
	    {"{\"argv\":[\"\"]}", "argv[0]"},
	    {"{\"argv\":[\"ls\",1]}", "argv[1]"},
	    {"{\"argv\":[\"ls\",\"-l\",\"a\\u0000b\"]}", "argv[2]"},
	    {"{\"argv\":[null]}", "argv[0]"},
	    {"{\"argv\":[\"ls\"],\"foo\":1}", "foo"},
	    {"{\"argv\":[\"ls\"],\"cwd\":\"/\"}", "cwd"},
	    {"{\"argv\":[\"ls\"],\"stdin\":1}", "stdin"},
	    {"{\"argv\":[\"ls\"],\"env\":[]}", "env"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"1A\":\"x\"}}", "env"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"A-B\":\"x\"}}", "env"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"A=B\":\"x\"}}", "env"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"\":\"x\"}}", "env"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"A\":1}}", "env.A"},
	    {"{\"argv\":[\"ls\"],\"env\":{\"A\":\"x\\u0000\"}}", "env.A"},
	    {"[\"ls\"]", ""},
	    {"{\"argv\":[\"ls\"]", ""},
	    {"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cmdbus_exec_args a;
		struct cmdbus_diag d;
		int rc = cmdbus_exec_args_decode(cases[i].args, &a, &d);

		if (rc != -ERR_MALFORMED || strcmp(d.field, cases[i].field) ||
		    strcmp(d.code, "bad_args"))
			fail_msg("case %zu: rc %d code %s field '%s'", i, rc,
				 d.code, d.field);
		cmdbus_exec_args_fini(&a);
	}
	/* Limits: 256 argv entries and 64 variables, not one more. */
	{
		struct cmdbus_exec_args a;
		struct cmdbus_diag d;
		char *s =
		    many("{\"argv\":[", "\"x\"", CMDBUS_EXEC_MAX_ARGV, "]}");
		assert_int_equal(cmdbus_exec_args_decode(s, &a, &d), 0);
		assert_int_equal(a.argc, CMDBUS_EXEC_MAX_ARGV);
		cmdbus_exec_args_fini(&a);
		free(s);
		s = many("{\"argv\":[", "\"x\"", CMDBUS_EXEC_MAX_ARGV + 1,
			 "]}");
		assert_int_equal(cmdbus_exec_args_decode(s, &a, &d),
				 -ERR_MALFORMED);
		assert_string_equal(d.field, "argv");
		cmdbus_exec_args_fini(&a);
		free(s);
	}
	{
		struct cmdbus_exec_args a;
		struct cmdbus_diag d;
		char body[8192];
		size_t n = (size_t)snprintf(body, sizeof(body),
					    "{\"argv\":[\"x\"],\"env\":{");
		for (int i = 0; i <= CMDBUS_EXEC_MAX_ENV; i++)
			n += (size_t)snprintf(body + n, sizeof(body) - n,
					      "%s\"V%d\":\"v\"", i ? "," : "",
					      i);
		snprintf(body + n, sizeof(body) - n, "}}");
		assert_int_equal(cmdbus_exec_args_decode(body, &a, &d),
				 -ERR_MALFORMED);
		assert_string_equal(d.field, "env");
		cmdbus_exec_args_fini(&a);
		/* Drop the last variable: exactly the limit. */
		*strrchr(body, ',') = '\0';
		n = strlen(body);
		snprintf(body + n, sizeof(body) - n, "}}");
		assert_int_equal(cmdbus_exec_args_decode(body, &a, &d), 0);
		assert_int_equal(a.nenv, CMDBUS_EXEC_MAX_ENV);
		cmdbus_exec_args_fini(&a);
	}
}

static void
test_shell(void **state)
{
	static const struct {
		const char *args;
		const char *field;
	} bad[] = {
	    {"{}", "script"},
	    {"{\"script\":\"\"}", "script"},
	    {"{\"script\":1}", "script"},
	    {"{\"script\":\"a\\u0000b\"}", "script"},
	    {"{\"script\":\"ls\",\"argv\":[]}", "argv"},
	    {"[]", ""},
	};
	struct cmdbus_diag d;
	char *script = NULL;

	(void)state;
	assert_int_equal(
	    cmdbus_shell_args_decode(
		"{\"script\":\"echo \\\"$HOME\\\" | wc -c\"}", &script, &d),
	    0);
	assert_string_equal(script, "echo \"$HOME\" | wc -c");
	free(script);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		script = NULL;
		if (cmdbus_shell_args_decode(bad[i].args, &script, &d) !=
			-ERR_MALFORMED ||
		    strcmp(d.field, bad[i].field) || strcmp(d.code, "bad_args"))
			fail_msg("case %zu: field '%s'", i, d.field);
		assert_null(script);
	}
}

static void
test_flat(void **state)
{
	struct cmdbus_label *l = NULL;
	struct cmdbus_diag d;
	size_t n = 9;

	(void)state;
	assert_int_equal(cmdbus_flat_args_decode("{\"service\":\"nginx\","
						 "\"mode\":\"\"}",
						 &l, &n, &d),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].key, "service");
	assert_string_equal(l[0].value, "nginx");
	assert_string_equal(l[1].value, "");
	cmdbus_labels_free(l, n);
	assert_int_equal(cmdbus_flat_args_decode("{}", &l, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_null(l);
	cmdbus_labels_free(NULL, 0);
	assert_int_equal(
	    cmdbus_flat_args_decode("{\"a\":\"x\",\"n\":1}", &l, &n, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.code, "bad_args");
	assert_string_equal(d.field, "n");
	assert_null(l);
	assert_int_equal(n, 0);
	assert_int_equal(cmdbus_flat_args_decode("{\"a\":{}}", &l, &n, &d),
			 -ERR_MALFORMED);
	assert_string_equal(d.field, "a");
	assert_int_equal(cmdbus_flat_args_decode("{\"\":\"x\"}", &l, &n, &d),
			 -ERR_MALFORMED);
	assert_int_equal(
	    cmdbus_flat_args_decode("{\"a\":\"\\u0000\"}", &l, &n, &d),
	    -ERR_MALFORMED);
	assert_string_equal(d.field, "a");
}

static void
test_info(void **state)
{
	struct cmdbus_info in = {
	    .os = "Debian GNU/Linux 12 (bookworm)",
	    .kernel = "6.1.0-13-amd64",
	    .arch = "x86_64",
	    .hostname = "dev-1",
	    .uptime_s = 86400,
	    .load = {0.25, 1, 0.1},
	    .mem_total_kb = 4000000,
	    .mem_avail_kb = 2000000,
	    .disk_total_kb = 30000000,
	    .disk_avail_kb = 20000000,
	};
	char *out = NULL;
	size_t len;

	(void)state;
	assert_int_equal(cmdbus_info_encode(&in, &out, &len), 0);
	assert_string_equal(
	    out, "{\"os\":\"Debian GNU/Linux 12 (bookworm)\",\"kernel\":"
		 "\"6.1.0-13-amd64\",\"arch\":\"x86_64\",\"hostname\":"
		 "\"dev-1\",\"uptime_s\":86400,\"load\":[0.25,1,0.1],"
		 "\"mem_total_kb\":4000000,\"mem_avail_kb\":2000000,"
		 "\"disk_total_kb\":30000000,\"disk_avail_kb\":20000000}");
	assert_int_equal(len, strlen(out));
	free(out);
	/* Whatever the system says, the document stays valid JSON. */
	in.os = NULL;
	in.hostname = "h\xff\"x";
	in.load[0] = NAN;
	in.load[1] = -1;
	assert_int_equal(cmdbus_info_encode(&in, &out, &len), 0);
	assert_non_null(strstr(out, "\"os\":\"\""));
	assert_non_null(strstr(out, "\"hostname\":\"h\xef\xbf\xbd\\\"x\""));
	assert_non_null(strstr(out, "\"load\":[0,0,0.1]"));
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exec_ok),
	    cmocka_unit_test(test_exec_refusals),
	    cmocka_unit_test(test_shell),
	    cmocka_unit_test(test_flat),
	    cmocka_unit_test(test_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
