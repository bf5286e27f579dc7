/* SPDX-License-Identifier: MIT */
/* Catalog actions: parsing good and bad files (every complaint with
 * file:line), the parameter rules (regex, enum, integer range, unknown
 * and missing parameters, defaults) and the substitution of values into
 * argv elements, where shell syntax stays literal. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "catalog.h"
#include "common/err.h"

static const char good_text[] = "# restart a service\n"
				"argv /usr/bin/systemctl\n"
				"argv restart\n"
				"argv {service}.service\n"
				"argv --lines={lines}\n"
				"argv {note}\n"
				"param service enum nginx sshd php7.4-fpm\n"
				"param lines int 1 1000\n"
				"param note regex [^/]*\n"
				"default lines 100\n"
				"default note none\n"
				"timeout 30s\n"
				"max_output 4k\n"
				"cwd /tmp\n"
				"env TZ\n"
				"env HOME\n";

static void
parse_good(struct catalog_action *a)
{
	char err[256] = "";
	int rc =
	    catalog_parse("svc.restart", "/etc/c/svc.restart.conf", good_text,
			  strlen(good_text), a, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
}

static void
good_file(void **state)
{
	struct catalog_action a;

	parse_good(&a);
	assert_string_equal(a.name, "svc.restart");
	assert_int_equal(a.argc, 5);
	assert_string_equal(a.argv[2], "{service}.service");
	assert_null(a.argv[5]);
	assert_int_equal(a.nparams, 3);
	assert_string_equal(a.params[0].name, "service");
	assert_int_equal(a.params[0].rule, CAT_ENUM);
	assert_string_equal(a.params[0].pattern, "^(nginx|sshd|php7\\.4-fpm)$");
	assert_null(a.params[0].def);
	assert_int_equal(a.params[1].rule, CAT_INT);
	assert_string_equal(a.params[1].pattern, "^[0-9]{1,19}$");
	assert_string_equal(a.params[1].def, "100");
	assert_int_equal(a.params[2].rule, CAT_REGEX);
	assert_string_equal(a.params[2].pattern, "^([^/]*)$");
	assert_int_equal(a.timeout_ms, 30000);
	assert_int_equal(a.max_output, 4096);
	assert_string_equal(a.cwd, "/tmp");
	assert_int_equal(a.nenv_names, 2);
	assert_string_equal(a.env_names[1], "HOME");
	assert_null(a.user);
	catalog_action_fini(&a);
}

static void
patterns(void **state)
{
	static const char text[] = "argv /bin/echo\n"
				   "argv {a}{b}{c}\n"
				   "param a regex ^[a-z]+$\n"
				   "param b int -5 5\n"
				   "param c regex x|y\n";
	struct catalog_action a;
	char err[256];

	assert_int_equal(catalog_parse("p", "p.conf", text, strlen(text), &a,
				       err, sizeof(err)),
			 0);
	/* ^ and $ are implied and the rest grouped, so an alternation
	 * still has to match the whole value. */
	assert_string_equal(a.params[0].pattern, "^([a-z]+)$");
	assert_string_equal(a.params[1].pattern, "^-?[0-9]{1,19}$");
	assert_string_equal(a.params[2].pattern, "^(x|y)$");
	catalog_action_fini(&a);
}

/* Each bad file and the exact complaint, file:line first. */
static void
bad_files(void **state)
{
	static const struct {
		const char *name, *text, *err;
	} cases[] = {
	    {"a", "argv /bin/true\nbogus 1\n", "a.conf:2: unknown option"},
	    {"a", "argv /bin/true\ntimeout forever\n", "a.conf:2: "},
	    {"a", "# nothing\n", "a.conf:1: no 'argv' line"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x glob *\n",
	     "a.conf:3: param 'x': unknown type 'glob'"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x regex (\n",
	     "a.conf:3: param 'x': regular expression '(' does not compile"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x regex /a**\n",
	     "a.conf:3: param 'x': regular expression '/a**' stacks"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x regex a{2}+\n",
	     "a.conf:3: param 'x': regular expression 'a{2}+' stacks"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x int 9 1\n",
	     "a.conf:3: param 'x': 'int MIN MAX'"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x int 1 two\n",
	     "a.conf:3: param 'x': 'int MIN MAX'"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x enum a b;c\n",
	     "a.conf:3: param 'x': enum value 'b;c'"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x enum\n",
	     "a.conf:3: param 'x' enum needs its rule"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x\n",
	     "a.conf:3: param 'x' needs a type"},
	    {"a", "argv /bin/echo\n\nargv -n={y}\nparam x int 1 2\n",
	     "a.conf:3: '{y}' in argv is no {param}"},
	    {"a", "argv /bin/echo\nargv {x\nparam x int 1 2\n",
	     "a.conf:2: '{x' in argv is no {param}"},
	    {"a", "argv /bin/echo\nargv a}b\n", "a.conf:2: '}' in argv"},
	    {"a", "argv /bin/echo\nparam x int 1 2\n",
	     "a.conf:2: param 'x' is not used in argv"},
	    {"a",
	     "argv /bin/echo\nargv {x}\nparam x int 1 2\nparam x int 1 3\n",
	     "a.conf:4: param 'x' declared twice"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x int 1 2\ndefault y 1\n",
	     "a.conf:4: default for 'y', which is no param"},
	    {"a", "argv /bin/echo\nargv {x}\nparam x int 1 2\ndefault x 3\n",
	     "a.conf:4: default of 'x' is not an integer in 1..2"},
	    {"a", "argv /bin/echo\ncwd tmp\n",
	     "a.conf:2: 'tmp' is not an "
	     "absolute path"},
	    {"a", "argv /bin/echo\nenv LD-PRELOAD\n",
	     "a.conf:2: 'LD-PRELOAD' is not an environment variable"},
	    {"a", "argv /bin/echo\ntimeout 1s\ntimeout 2s\n",
	     "a.conf:3: option 'timeout' given twice"},
	    {"a", "argv /bin/echo\nmax_output 1M\n", "a.conf:2: "},
	    {"a", "argv /bin/echo\ngroup adm\n", "a.conf:2: 'group' needs"},
	    {"a", "argv /bin/echo\nuser a;b\n",
	     "a.conf:2: 'a;b' is not a user"},
	    {"Bad", "argv /bin/echo\n", "Bad.conf: 'Bad' is not an action"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct catalog_action a;
		char err[256] = "", path[32];
		size_t want_loc;
		int rc;

		snprintf(path, sizeof(path), "%s.conf", cases[i].name);
		rc = catalog_parse(cases[i].name, path, cases[i].text,
				   strlen(cases[i].text), &a, err, sizeof(err));
		/* "file:line: " must lead; the reason may follow the
		 * option's name. */
		want_loc = strcspn(cases[i].err, " ");
		if (rc != -ERR_CONFIG ||
		    strncmp(err, cases[i].err, want_loc) != 0 ||
		    !strstr(err, cases[i].err + want_loc + 1))
			fail_msg("case %zu: rc=%d err='%s', want '%s'", i, rc,
				 err, cases[i].err);
	}
}

/* Prepares args against the good action; returns rc, fills field. */
static int
prep(const struct catalog_action *a, const char *args,
     struct cmdbus_exec_args *x, char *field, char *msg)
{
	return catalog_prepare(a, args, x, field, 96, msg, 600);
}

static void
validation(void **state)
{
	static const struct {
		const char *args, *field, *msg;
	} bad[] = {
	    {"{\"service\":\"apache\"}", "args.service",
	     "value is not a "
	     "value matching"},
	    {"{\"service\":\"nginx;reboot\"}", "args.service", "value is not"},
	    {"{\"service\":\"php7x4-fpm\"}", "args.service", "value is not"},
	    {"{\"service\":\"nginx\",\"lines\":\"0\"}", "args.lines",
	     "value is not an integer in 1..1000"},
	    {"{\"service\":\"nginx\",\"lines\":\"1001\"}", "args.lines",
	     "value is not an integer"},
	    {"{\"service\":\"nginx\",\"lines\":\"12a\"}", "args.lines",
	     "value is not an integer"},
	    {"{\"service\":\"nginx\",\"lines\":\"+5\"}", "args.lines",
	     "value is not an integer"},
	    {"{\"service\":\"nginx\",\"note\":\"a/b\"}", "args.note",
	     "value is not a value matching ^([^/]*)$"},
	    {"{\"service\":\"nginx\",\"force\":\"1\"}", "args.force",
	     "unknown parameter"},
	    {"{}", "args.service", "required parameter is missing"},
	    {"{\"lines\":\"5\"}", "args.service", "required parameter"},
	    {"{\"service\":5}", "service", ""},
	    {"[]", "", ""},
	};
	struct catalog_action a;
	struct cmdbus_exec_args x;
	char field[96], msg[600];

	parse_good(&a);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = prep(&a, bad[i].args, &x, field, msg);
		if (rc != -ERR_MALFORMED || strcmp(field, bad[i].field) != 0 ||
		    strncmp(msg, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu: rc=%d field='%s' msg='%s'", i, rc,
				 field, msg);
		assert_null(x.argv);
	}
	/* Defaults fill what is left out. */
	assert_int_equal(prep(&a, "{\"service\":\"sshd\"}", &x, field, msg), 0);
	assert_int_equal(x.argc, 5);
	assert_string_equal(x.argv[0], "/usr/bin/systemctl");
	assert_string_equal(x.argv[2], "sshd.service");
	assert_string_equal(x.argv[3], "--lines=100");
	assert_string_equal(x.argv[4], "none");
	assert_null(x.argv[5]);
	cmdbus_exec_args_fini(&x);
	assert_int_equal(prep(&a,
			      "{\"service\":\"php7.4-fpm\",\"lines\":\"1000\","
			      "\"note\":\"\"}",
			      &x, field, msg),
			 0);
	assert_string_equal(x.argv[2], "php7.4-fpm.service");
	assert_string_equal(x.argv[3], "--lines=1000");
	assert_string_equal(x.argv[4], "");
	cmdbus_exec_args_fini(&x);
	catalog_action_fini(&a);
}

/* Shell syntax in a value is data: each value lands in one element. */
static void
substitution(void **state)
{
	static const char text[] = "argv /bin/echo\n"
				   "argv {msg}\n"
				   "argv pre-{msg}-post\n"
				   "argv {{literal}} {msg}{msg}\n"
				   "param msg regex .*\n";
	static const char *const values[] = {
	    "two words",   "\"quoted\" 'single'",	   "$(reboot)",
	    "a; rm -rf /", "`id` | cat > /tmp/x && {msg}", "*",
	    "\\n\\t",
	};
	struct catalog_action a;
	struct cmdbus_exec_args x;
	char err[256], field[96], msg[600];

	assert_int_equal(catalog_parse("say", "say.conf", text, strlen(text),
				       &a, err, sizeof(err)),
			 0);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char args[256], want[256];
		/* The JSON string of the value: escape " and \. */
		size_t n = 0;
		n +=
		    (size_t)snprintf(args + n, sizeof(args) - n, "{\"msg\":\"");
		for (const char *p = values[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				args[n++] = '\\';
			args[n++] = *p;
		}
		snprintf(args + n, sizeof(args) - n, "\"}");
		assert_int_equal(prep(&a, args, &x, field, msg), 0);
		assert_int_equal(x.argc, 4);
		assert_string_equal(x.argv[1], values[i]);
		snprintf(want, sizeof(want), "pre-%s-post", values[i]);
		assert_string_equal(x.argv[2], want);
		snprintf(want, sizeof(want), "{literal} %s%s", values[i],
			 values[i]);
		assert_string_equal(x.argv[3], want);
		assert_null(x.argv[4]);
		cmdbus_exec_args_fini(&x);
	}
	catalog_action_fini(&a);
}

static void
substitute_direct(void **state)
{
	const char *names[] = {"a", "bb"}, *vals[] = {"1", "{a}"};
	char *out = NULL, bad[16];

	assert_int_equal(catalog_substitute("{a}-{bb}", names, vals, 2, &out,
					    bad, sizeof(bad)),
			 0);
	/* A value is never expanded again. */
	assert_string_equal(out, "1-{a}");
	free(out);
	assert_int_equal(
	    catalog_substitute("{{}}", names, vals, 2, &out, bad, sizeof(bad)),
	    0);
	assert_string_equal(out, "{}");
	free(out);
	assert_int_equal(
	    catalog_substitute("{c}", names, vals, 2, &out, bad, sizeof(bad)),
	    -EINVAL);
	assert_string_equal(bad, "{c}");
	assert_null(out);
}

static void
environment_passed(void **state)
{
	struct catalog_action a;
	struct cmdbus_exec_args x;
	char field[96], msg[600];

	parse_good(&a);
	/* The loader resolves names to pairs; prepare copies them. */
	a.env = calloc(1, sizeof(*a.env));
	assert_non_null(a.env);
	a.env[0].key = strdup("TZ");
	a.env[0].value = strdup("UTC");
	a.nenv = 1;
	assert_int_equal(prep(&a, "{\"service\":\"nginx\"}", &x, field, msg),
			 0);
	assert_int_equal(x.nenv, 1);
	assert_string_equal(x.env[0].key, "TZ");
	assert_string_equal(x.env[0].value, "UTC");
	cmdbus_exec_args_fini(&x);
	catalog_action_fini(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_file),
	    cmocka_unit_test(patterns),
	    cmocka_unit_test(bad_files),
	    cmocka_unit_test(validation),
	    cmocka_unit_test(substitution),
	    cmocka_unit_test(substitute_direct),
	    cmocka_unit_test(environment_passed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
