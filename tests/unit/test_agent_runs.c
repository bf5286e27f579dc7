/* SPDX-License-Identifier: MIT */
/* Spawned runs through the fake spawn port: what the exec adapter is
 * asked for, the result each wait status gives, a failed spawn, the
 * clamped timeout and output cap, a duplicate of a running command. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fake_core.h"

static void
duplicate_running_gets_latest_report(void **state)
{
	char copy[8192];

	tc_start(true, NULL, 0, 3600000);
	snprintf(copy, sizeof(copy), "%s",
		 simple("01JEXEC0000000000000000023", "exec",
			"{\"argv\":[\"sleep\",\"5\"]}"));
	deliver(copy);
	assert_int_equal(T.spawn_calls, 1);
	assert_int_equal(T.npubs, 2);
	expect_report(1, CMDBUS_STATE_RUNNING);
	deliver(copy);
	assert_int_equal(T.spawn_calls, 1);
	assert_int_equal(T.npubs, 3);
	assert_memory_equal(T.pubs[1].msg, T.pubs[2].msg, T.pubs[1].len);
	assert_int_equal(core_running(T.core), 1);
}

static void
exec_spawn_request(void **state)
{
	tc_start(true, NULL, 0, 3600000);
	deliver(command("01JEXEC0000000000000000024", "dev-1", NOW, NOW + 60000,
			5000, "exec",
			"{\"argv\":[\"env\"],\"stdin\":\"in put\","
			"\"env\":{\"LANG\":\"de_DE.UTF-8\",\"FOO\":\"bar\"}}"));
	assert_int_equal(T.spawn_calls, 1);
	assert_string_equal(T.argv[0], "env");
	assert_int_equal(T.last_timeout, 5000);
	assert_int_equal(T.last_max_output, 65536);
	assert_true(T.last_has_stdin);
	assert_string_equal(T.last_stdin, "in put");
	/* PATH is the configured one; LANG is overridden by args.env. */
	assert_int_equal(T.nenv, 3);
	assert_string_equal(T.last_env[0], "PATH=/opt/bin:/usr/bin");
	assert_string_equal(T.last_env[1], "LANG=de_DE.UTF-8");
	assert_string_equal(T.last_env[2], "FOO=bar");
}

static void
exec_results_from_wait_status(void **state)
{
	struct output out, err;
	struct core_exit ex;
	struct cmdbus_msg m;
	uint64_t tok;

	tc_start(true, NULL, 0, 3600000);
	output_init(&out, 65536);
	output_init(&err, 65536);
	output_append(&out, "hello\n", 6);
	output_append(&err, "warn\n", 5);

	deliver(simple("01JEXEC0000000000000000025", "exec",
		       "{\"argv\":[\"false\"]}"));
	tok = T.last_token;
	clock_fake_advance(&T.clk, 1500);
	memset(&ex, 0, sizeof(ex));
	ex.wait_status = 3 << 8; /* exited with 3 */
	ex.out = &out;
	ex.err = &err;
	core_on_exit(T.core, tok, &ex);
	assert_int_equal(T.npubs, 3);
	pub_decode(2, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_exit_code);
	assert_int_equal(m.u.result.exit_code, 3);
	assert_false(m.u.result.has_signal);
	assert_string_equal(m.u.result.out.kept.data, "hello\n");
	assert_string_equal(m.u.result.err.kept.data, "warn\n");
	assert_true(m.u.result.has_started_at);
	assert_int_equal(m.u.result.started_at, NOW);
	assert_int_equal(m.u.result.finished_at, NOW + 1500);
	cmdbus_msg_fini(&m);
	assert_int_equal(core_running(T.core), 0);

	/* Killed by a signal: FAILED with `signal`, no exit code. */
	deliver(simple("01JEXEC0000000000000000026", "exec",
		       "{\"argv\":[\"yes\"]}"));
	ex.wait_status = 9; /* WTERMSIG 9 */
	core_on_exit(T.core, T.last_token, &ex);
	pub_decode(T.npubs - 1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_signal);
	assert_int_equal(m.u.result.signal, 9);
	assert_false(m.u.result.has_exit_code);
	cmdbus_msg_fini(&m);

	/* Exit 0 after the timeout killed it: TIMED_OUT with the signal. */
	deliver(simple("01JEXEC0000000000000000027", "exec",
		       "{\"argv\":[\"sleep\",\"9\"]}"));
	ex.wait_status = 15;
	ex.timed_out = true;
	core_on_exit(T.core, T.last_token, &ex);
	pub_decode(T.npubs - 1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_TIMED_OUT);
	assert_int_equal(m.u.result.signal, 15);
	assert_true(m.u.result.has_streams);
	cmdbus_msg_fini(&m);

	/* Success. */
	deliver(simple("01JEXEC0000000000000000028", "exec",
		       "{\"argv\":[\"true\"]}"));
	ex.wait_status = 0;
	ex.timed_out = false;
	core_on_exit(T.core, T.last_token, &ex);
	pub_decode(T.npubs - 1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_int_equal(m.u.result.exit_code, 0);
	cmdbus_msg_fini(&m);

	/* An unknown token changes nothing. */
	{
		size_t before = T.npubs;
		core_on_exit(T.core, 99999, &ex);
		assert_int_equal(T.npubs, before);
	}
	output_fini(&out);
	output_fini(&err);
}

static void
spawn_failure(void **state)
{
	struct cmdbus_msg m;

	tc_start(true, NULL, 0, 3600000);
	T.spawn_rc = -ENOENT;
	deliver(simple("01JEXEC0000000000000000029", "exec",
		       "{\"argv\":[\"no-such-tool\"]}"));
	/* ACCEPTED, then FAILED/spawn_failed; no RUNNING. */
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);
	pub_decode(1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_error);
	assert_string_equal(m.u.result.error_code, CMDBUS_E_SPAWN_FAILED);
	assert_true(m.u.result.has_streams);
	assert_int_equal(m.u.result.out.kept.len, 0);
	assert_int_equal(m.u.result.err.kept.len, 0);
	assert_false(m.u.result.has_started_at);
	cmdbus_msg_fini(&m);
	assert_int_equal(core_running(T.core), 0);
}

static void
timeout_is_clamped(void **state)
{
	struct cmdbus_msg m;

	tc_start(true, NULL, 0, 10000);
	deliver(command("01JEXEC0000000000000000030", "dev-1", NOW, NOW + 60000,
			50000, "exec", "{\"argv\":[\"true\"]}"));
	assert_int_equal(T.last_timeout, 10000);
	exit_last(0);
	pub_decode(T.npubs - 1, &m);
	assert_true(m.u.result.has_clamped_timeout_ms);
	assert_int_equal(m.u.result.clamped_timeout_ms, 10000);
	cmdbus_msg_fini(&m);
}

static void
max_output_is_honoured(void **state)
{
	char p[512];

	tc_start(true, NULL, 0, 3600000);
	snprintf(p, sizeof(p),
		 "{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000044\","
		 "\"device\":\"dev-1\",\"iat\":%llu,\"exp\":%llu,"
		 "\"timeout_ms\":1000,\"action\":\"exec\","
		 "\"args\":{\"argv\":[\"yes\"]},\"max_output\":100}",
		 (unsigned long long)NOW, (unsigned long long)NOW + 1000);
	deliver(p);
	assert_int_equal(T.last_max_output, 100);
	snprintf(p, sizeof(p),
		 "{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000045\","
		 "\"device\":\"dev-1\",\"iat\":%llu,\"exp\":%llu,"
		 "\"timeout_ms\":1000,\"action\":\"exec\","
		 "\"args\":{\"argv\":[\"yes\"]},\"max_output\":10000000}",
		 (unsigned long long)NOW, (unsigned long long)NOW + 1000);
	deliver(p);
	assert_int_equal(T.last_max_output, 65536);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(duplicate_running_gets_latest_report,
				      tc_teardown),
	    cmocka_unit_test_teardown(exec_spawn_request, tc_teardown),
	    cmocka_unit_test_teardown(exec_results_from_wait_status,
				      tc_teardown),
	    cmocka_unit_test_teardown(spawn_failure, tc_teardown),
	    cmocka_unit_test_teardown(timeout_is_clamped, tc_teardown),
	    cmocka_unit_test_teardown(max_output_is_honoured, tc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
