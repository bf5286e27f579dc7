/* SPDX-License-Identifier: MIT */
/* Runs that do not end on their own: cancels of running, finished and
 * not yet arrived commands, the wait list in front of max_running, and
 * the shutdown that interrupts what runs and what waits. */
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
cancel_running_and_finished(void **state)
{
	struct cmdbus_msg m;
	size_t before;

	tc_start(true, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000039", "exec",
		       "{\"argv\":[\"sleep\",\"60\"]}"));
	assert_int_equal(T.npubs, 2);
	deliver(cancel("01JEXEC0000000000000000039"));
	deliver(cancel("01JEXEC0000000000000000039")); /* idempotent */
	assert_int_equal(T.terminate_calls, 1);
	assert_int_equal(T.last_terminated, T.last_token);
	assert_int_equal(T.npubs, 2);

	exit_last(15);
	assert_int_equal(T.npubs, 3);
	pub_decode(2, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_CANCELED);
	assert_int_equal(m.u.result.signal, 15);
	assert_true(m.u.result.has_streams);
	cmdbus_msg_fini(&m);

	/* A cancel of a finished run gets its stored result again. */
	deliver(cancel("01JEXEC0000000000000000039"));
	assert_int_equal(T.npubs, 4);
	assert_memory_equal(T.pubs[2].msg, T.pubs[3].msg, T.pubs[2].len);

	/* Unknown id: a tombstone, unanswered; the command that comes
	 * later is CANCELED without running, and so is its re-send. */
	before = T.npubs;
	deliver(cancel("01JEXEC0000000000000000040"));
	assert_int_equal(T.npubs, before);
	deliver(simple("01JEXEC0000000000000000040", "exec",
		       "{\"argv\":[\"true\"]}"));
	assert_int_equal(T.npubs, before + 1);
	assert_int_equal(T.spawn_calls, 1);
	pub_decode(before, &m);
	assert_int_equal(m.type, CMDBUS_MSG_RESULT);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_CANCELED);
	assert_true(m.u.result.has_streams);
	assert_false(m.u.result.has_started_at);
	cmdbus_msg_fini(&m);
	deliver(simple("01JEXEC0000000000000000040", "exec",
		       "{\"argv\":[\"true\"]}"));
	assert_int_equal(T.npubs, before + 2);
	assert_int_equal(T.spawn_calls, 1);
	assert_memory_equal(T.pubs[before].msg, T.pubs[before + 1].msg,
			    T.pubs[before].len);
}

static void
queue_waits_for_a_free_slot(void **state)
{
	struct cmdbus_msg m;
	size_t n;

	tc_max_running = 1;
	tc_start(true, NULL, 0, 3600000);
	tc_max_running = 0;
	deliver(simple("01JEXEC0000000000000000051", "exec",
		       "{\"argv\":[\"sleep\",\"1\"]}"));
	assert_int_equal(T.spawn_calls, 1);
	/* Three more wait, each ACCEPTED and nothing else. */
	deliver(simple("01JEXEC0000000000000000052", "exec",
		       "{\"argv\":[\"true\"]}"));
	deliver(command("01JEXEC0000000000000000053", "dev-1", NOW, NOW + 1000,
			30000, "exec", "{\"argv\":[\"true\"]}"));
	deliver(simple("01JEXEC0000000000000000054", "exec",
		       "{\"argv\":[\"true\"]}"));
	assert_int_equal(T.spawn_calls, 1);
	assert_int_equal(T.npubs, 2 + 3);
	expect_report(2, CMDBUS_STATE_ACCEPTED);
	expect_report(4, CMDBUS_STATE_ACCEPTED);
	/* ping runs inline, whatever the queue. */
	deliver(simple("01JEXEC0000000000000000055", "ping", "{}"));
	assert_int_equal(T.npubs, 7);

	/* A queued one canceled: CANCELED at once, never run. */
	deliver(cancel("01JEXEC0000000000000000052"));
	assert_int_equal(T.npubs, 8);
	pub_decode(7, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_CANCELED);
	assert_false(m.u.result.has_started_at);
	cmdbus_msg_fini(&m);

	/* The first ends after the next one's exp: that one is EXPIRED
	 * when it leaves the queue, the last one runs. */
	clock_fake_advance(&T.clk, 1000 + SKEW + 1);
	n = T.npubs;
	exit_last(0);
	assert_int_equal(T.spawn_calls, 2);
	pub_decode(n, &m); /* the first one's result */
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	cmdbus_msg_fini(&m);
	expect_error(n + 1, CMDBUS_STATE_EXPIRED, "expired");
	expect_report(n + 2, CMDBUS_STATE_RUNNING);
	pub_decode(n + 2, &m);
	assert_string_equal(m.u.report.id, "01JEXEC0000000000000000054");
	cmdbus_msg_fini(&m);

	/* At shutdown, what still waits ends LOST/interrupted. */
	deliver(simple("01JEXEC0000000000000000056", "exec",
		       "{\"argv\":[\"true\"]}"));
	n = T.npubs;
	core_shutdown(T.core);
	expect_error(n, CMDBUS_STATE_LOST, "interrupted");
	assert_int_equal(T.spawn_calls, 2);
}

static void
shutdown_interrupts_runs(void **state)
{
	tc_start(true, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000041", "exec",
		       "{\"argv\":[\"sleep\",\"60\"]}"));
	core_shutdown(T.core);
	assert_int_equal(T.terminate_calls, 1);
	exit_last(15);
	expect_error(T.npubs - 1, CMDBUS_STATE_LOST, CMDBUS_E_INTERRUPTED);
	/* New work is refused as retryable while stopping; duplicates are
	 * still answered from memory. */
	deliver(simple("01JEXEC0000000000000000042", "ping", "{}"));
	expect_error(T.npubs - 1, CMDBUS_STATE_REJECTED,
		     CMDBUS_E_JOURNAL_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(cancel_running_and_finished, tc_teardown),
	    cmocka_unit_test_teardown(queue_waits_for_a_free_slot, tc_teardown),
	    cmocka_unit_test_teardown(shutdown_interrupts_runs, tc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
