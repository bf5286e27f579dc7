/* SPDX-License-Identifier: MIT */
/* The action registry inside the core, through fake ports and a fake
 * clock: catalog actions and shell reach the spawn port with the argv,
 * working directory and limits they declare; bad arguments are refused
 * before anything runs; a catalog replaces the old one only as a whole;
 * the status lists what is accepted; a handler's return is its exit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "agent_fake_core.h"
#include "catalog.h"

/* A catalog action parsed from text, heap-allocated for the core. */
static struct catalog_action *
action(const char *name, const char *text)
{
	struct catalog_action *a = calloc(1, sizeof(*a));
	char err[256];

	assert_non_null(a);
	if (catalog_parse(name, "t.conf", text, strlen(text), a, err,
			  sizeof(err)) != 0)
		fail_msg("%s", err);
	return a;
}

static const char say_text[] = "argv echo\n"
			       "argv --n={n}\n"
			       "argv {msg}\n"
			       "param n int 1 3\n"
			       "param msg regex .*\n"
			       "default n 1\n"
			       "timeout 2s\n"
			       "max_output 1k\n"
			       "cwd /srv\n";

/* The registry's tests want shell, the run-as helper and their own
 * paths. */
static void
registry_config(struct core_config *cfg)
{
	cfg->labels = NULL;
	cfg->nlabels = 0;
	cfg->shell_enabled = true;
	cfg->runas_helper = "/usr/libexec/cmdbus/cmdbus-runas";
	cfg->exec_path = "/usr/bin:/bin";
	cfg->exec_cwd = "/var";
}

static int
setup(void **state)
{
	struct catalog_action *v[1];
	char err[160];

	tc_adjust = registry_config;
	tc_start(false, NULL, 0, 3600000);
	v[0] = action("say", say_text);
	assert_int_equal(core_set_catalog(T.core, v, 1, err, sizeof(err)), 0);
	return 0;
}

/* One run at a time, so that a second command waits in the queue. */
static int
setup_one_slot(void **state)
{
	tc_max_running = 1;
	return setup(state);
}

static int
teardown(void **state)
{
	tc_adjust = NULL;
	tc_max_running = 0;
	return tc_teardown(state);
}

/* A command to dev-1 with this timeout, valid for ten minutes. */
static void
send_cmd(const char *id, const char *action_name, const char *args,
	 uint64_t timeout_ms)
{
	deliver(command(id, "dev-1", NOW, NOW + 600000, timeout_ms, action_name,
			args));
}

/* Decodes the last message published. */
static void
last(struct cmdbus_msg *m)
{
	assert_true(T.npubs > 0);
	pub_decode(T.npubs - 1, m);
}

static void
expect_rejected(const char *code, const char *message_start)
{
	struct cmdbus_msg m;

	last(&m);
	assert_int_equal(m.type, CMDBUS_MSG_RESULT);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_REJECTED);
	assert_string_equal(m.u.result.error_code, code);
	if (strncmp(m.u.result.error_message, message_start,
		    strlen(message_start)) != 0)
		fail_msg("message '%s'", m.u.result.error_message);
	cmdbus_msg_fini(&m);
}

static void
catalog_runs_its_argv(void **state)
{
	struct core_exit ex;
	struct output out, err;
	struct cmdbus_msg m;

	send_cmd("01JCAT00000000000000000001", "say",
		 "{\"msg\":\"a b; $(c)\",\"n\":\"3\"}", 30000);
	assert_int_equal(T.spawn_calls, 1);
	assert_int_equal(T.argc, 3);
	assert_string_equal(T.argv[0], "echo");
	assert_string_equal(T.argv[1], "--n=3");
	assert_string_equal(T.argv[2], "a b; $(c)");
	assert_string_equal(T.cwd, "/srv");
	assert_int_equal(T.last_timeout, 2000); /* the action's own limit */
	assert_int_equal(T.last_max_output, 1024);

	output_init(&out, 1024);
	output_init(&err, 1024);
	memset(&ex, 0, sizeof(ex));
	ex.wait_status = 0;
	ex.out = &out;
	ex.err = &err;
	core_on_exit(T.core, T.last_token, &ex);
	last(&m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_true(m.u.result.has_clamped_timeout_ms);
	assert_int_equal(m.u.result.clamped_timeout_ms, 2000);
	cmdbus_msg_fini(&m);
	output_fini(&out);
	output_fini(&err);
}

static void
catalog_bad_args(void **state)
{
	send_cmd("01JCAT00000000000000000002", "say",
		 "{\"msg\":\"x\",\"n\":\"4\"}", 30000);
	expect_rejected("bad_args", "args.n: value is not an integer in 1..3");
	send_cmd("01JCAT00000000000000000003", "say", "{\"n\":\"1\"}", 30000);
	expect_rejected("bad_args", "args.msg: required parameter");
	send_cmd("01JCAT00000000000000000004", "say",
		 "{\"msg\":\"x\",\"shell\":\"1\"}", 30000);
	expect_rejected("bad_args", "args.shell: unknown parameter");
	send_cmd("01JCAT00000000000000000005", "say", "{\"msg\":[1]}", 30000);
	expect_rejected("bad_args", "args.msg");
	assert_int_equal(T.spawn_calls, 0);
}

static void
shell_and_runas(void **state)
{
	struct catalog_action *v[2];
	char err[160];

	send_cmd("01JCAT00000000000000000006", "shell",
		 "{\"script\":\"echo $HOME | wc -c\"}", 5000);
	assert_int_equal(T.spawn_calls, 1);
	assert_int_equal(T.argc, 3);
	assert_string_equal(T.argv[0], "/bin/sh");
	assert_string_equal(T.argv[1], "-c");
	assert_string_equal(T.argv[2], "echo $HOME | wc -c");
	assert_string_equal(T.cwd, "/var");
	assert_int_equal(T.last_timeout, 5000);

	v[0] = action("who", "argv id\nargv -un\nuser nobody\n");
	/* The loader fills the ids from the system. */
	v[0]->run_as = true;
	v[0]->uid = 65534;
	v[0]->gid = 65533;
	v[1] = action("say", say_text);
	assert_int_equal(core_set_catalog(T.core, v, 2, err, sizeof(err)), 0);
	send_cmd("01JCAT00000000000000000007", "who", "{}", 5000);
	assert_int_equal(T.spawn_calls, 2);
	assert_int_equal(T.argc, 6);
	assert_string_equal(T.argv[0], "/usr/libexec/cmdbus/cmdbus-runas");
	assert_string_equal(T.argv[1], "65534");
	assert_string_equal(T.argv[2], "65533");
	assert_string_equal(T.argv[3], "--");
	assert_string_equal(T.argv[4], "id");
	assert_string_equal(T.argv[5], "-un");
}

static void
catalog_replaced_whole(void **state)
{
	struct catalog_action *v[2];
	char err[160];
	char *msg = NULL;
	size_t len = 0;

	/* A name taken by a built-in: refused, the old catalog stays. */
	v[0] = action("late", "argv true\n");
	v[1] = action("ping", "argv true\n");
	assert_int_equal(core_set_catalog(T.core, v, 2, err, sizeof(err)),
			 -EEXIST);
	assert_non_null(strstr(err, "'ping'"));
	for (size_t i = 0; i < 2; i++) {
		catalog_action_fini(v[i]);
		free(v[i]);
	}
	send_cmd("01JCAT00000000000000000008", "late", "{}", 5000);
	expect_rejected("unknown_action", "");

	/* A good one replaces: `say` is gone, `late` is there. */
	v[0] = action("late", "argv true\n");
	assert_int_equal(core_set_catalog(T.core, v, 1, err, sizeof(err)), 0);
	send_cmd("01JCAT00000000000000000009", "say", "{\"msg\":\"x\"}", 5000);
	expect_rejected("unknown_action", "");
	send_cmd("01JCAT0000000000000000000A", "late", "{}", 5000);
	assert_int_equal(T.spawn_calls, 1);
	assert_string_equal(T.argv[0], "true");

	assert_int_equal(core_status(T.core, true, &msg, &len), 0);
	assert_non_null(strstr(msg, "{\\\"name\\\":\\\"late\\\""));
	assert_non_null(strstr(msg, "{\\\"name\\\":\\\"shell\\\"}"));
	assert_null(strstr(msg, "\\\"say\\\""));
	assert_null(strstr(msg, "\\\"exec\\\""));
	free(msg);
}

static void
status_shows_rules(void **state)
{
	char *msg = NULL;
	size_t len = 0;

	assert_int_equal(core_status(T.core, true, &msg, &len), 0);
	assert_non_null(strstr(msg, "{\\\"name\\\":\\\"say\\\",\\\"params\\\":"
				    "{\\\"n\\\":\\\"^[0-9]{1,19}$\\\","
				    "\\\"msg\\\":\\\"^(.*)$\\\"}}"));
	free(msg);
}

static int
three(const char *args, struct cmdbus_agent_reply *r, void *ud)
{
	char v[8];

	assert_int_equal(cmdbus_agent_arg(args, "k", v, sizeof(v)), 0);
	assert_string_equal(v, "on");
	assert_int_equal(cmdbus_agent_arg(args, "nope", v, sizeof(v)), -ENOENT);
	assert_int_equal(cmdbus_agent_arg(args, "k", v, 2), -ENOSPC);
	cmdbus_agent_reply_stdout(r, "hi", 2);
	return 3;
}

static void
handler_returns_its_exit(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"k", "on|off", false}, {NULL, NULL, false}};
	struct cmdbus_msg m;
	char err[160];

	assert_int_equal(core_register(T.core, "h.three", three, params, NULL,
				       err, sizeof(err)),
			 0);
	send_cmd("01JCAT0000000000000000000B", "h.three", "{\"k\":\"on\"}",
		 5000);
	last(&m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_exit_code);
	assert_int_equal(m.u.result.exit_code, 3);
	assert_false(m.u.result.has_error);
	cmdbus_msg_fini(&m);
}

static void
assert_say_as_accepted(const char *msg)
{
	assert_int_equal(T.argc, 3);
	assert_string_equal(T.argv[0], "echo");
	assert_string_equal(T.argv[1], "--n=1");
	assert_string_equal(T.argv[2], msg);
	assert_string_equal(T.cwd, "/srv");
	assert_int_equal(T.last_timeout, 2000);
	assert_int_equal(T.last_max_output, 1024);
}

/* A queued command runs as it was accepted: a reload that changes or
 * removes its action meanwhile changes nothing of the run. */
static void
reload_spares_queued_commands(void **state)
{
	struct catalog_action *v[1];
	char err[160];

	send_cmd("01JCAT0000000000000000000C", "say", "{\"msg\":\"a\"}", 30000);
	send_cmd("01JCAT0000000000000000000D", "say", "{\"msg\":\"b\"}", 30000);
	send_cmd("01JCAT0000000000000000000E", "say", "{\"msg\":\"c\"}", 30000);
	assert_int_equal(T.spawn_calls, 1);
	assert_say_as_accepted("a");

	v[0] = action("say", "argv printf\n"
			     "argv {msg}\n"
			     "param msg regex .*\n"
			     "timeout 1s\n"
			     "max_output 2k\n"
			     "cwd /tmp\n");
	assert_int_equal(core_set_catalog(T.core, v, 1, err, sizeof(err)), 0);
	exit_last(0);
	assert_int_equal(T.spawn_calls, 2);
	assert_say_as_accepted("b");

	v[0] = action("late", "argv true\n");
	assert_int_equal(core_set_catalog(T.core, v, 1, err, sizeof(err)), 0);
	exit_last(0);
	assert_int_equal(T.spawn_calls, 3);
	assert_say_as_accepted("c");
	exit_last(0);
}

/* A handler's parameters are required unless declared optional, and a
 * missing one is refused like a catalog action's. */
static void
handler_required_params(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"k", "on|off", false},
	    {"note", ".*", true},
	    {NULL, NULL, false},
	};
	struct cmdbus_msg m;
	char err[160];

	assert_int_equal(core_register(T.core, "h.three", three, params, NULL,
				       err, sizeof(err)),
			 0);
	send_cmd("01JCAT0000000000000000000F", "h.three", "{\"note\":\"x\"}",
		 5000);
	expect_rejected("bad_args", "args.k: required parameter is missing");
	send_cmd("01JCAT0000000000000000000G", "h.three", "{}", 5000);
	expect_rejected("bad_args", "args.k: required parameter is missing");
	/* An unknown key is named before a missing one. */
	send_cmd("01JCAT0000000000000000000H", "h.three", "{\"zz\":\"1\"}",
		 5000);
	expect_rejected("bad_args", "args.zz: unknown parameter");
	/* The optional one may be left out. */
	send_cmd("01JCAT0000000000000000000J", "h.three", "{\"k\":\"on\"}",
		 5000);
	last(&m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_int_equal(m.u.result.exit_code, 3);
	cmdbus_msg_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(catalog_runs_its_argv, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(catalog_bad_args, setup, teardown),
	    cmocka_unit_test_setup_teardown(shell_and_runas, setup, teardown),
	    cmocka_unit_test_setup_teardown(catalog_replaced_whole, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(status_shows_rules, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(handler_returns_its_exit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(reload_spares_queued_commands,
					    setup_one_slot, teardown),
	    cmocka_unit_test_setup_teardown(handler_required_params, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
