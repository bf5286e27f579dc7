/* SPDX-License-Identifier: MIT */
/* Firmware handlers inside the core: their parameters checked, their
 * failures, a finished duplicate answered from memory, a result kept
 * under the message limit, and the status that lists them. */
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
handler_params_are_checked(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"service", "nginx|sshd", false},
	    {NULL, NULL, false},
	};
	struct cmdbus_msg m;
	char err[160], *msg;

	tc_start(false, NULL, 0, 3600000);
	assert_int_equal(core_register(T.core, "restart", count_handler, params,
				       &T.handler_calls, err, sizeof(err)),
			 0);
	/* A pattern matches the whole value, not a part of it. */
	deliver(simple("01JEXEC0000000000000000017", "restart",
		       "{\"service\":\"nginx2\"}"));
	deliver(simple("01JEXEC0000000000000000018", "restart",
		       "{\"unit\":\"nginx\"}"));
	deliver(simple("01JEXEC0000000000000000019", "restart",
		       "{\"service\":\"sshd\"}"));
	assert_int_equal(T.handler_calls, 1);
	assert_int_equal(T.npubs, 4);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_ARGS);
	msg = error_message(0);
	assert_non_null(strstr(msg, "args.service"));
	free(msg);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_ARGS);
	msg = error_message(1);
	assert_non_null(strstr(msg, "args.unit"));
	free(msg);
	pub_decode(3, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_string_equal(m.u.result.out.kept.data,
			    "restarted {\"service\":\"sshd\"}");
	cmdbus_msg_fini(&m);
}

static int
failing_handler(const char *args, struct cmdbus_agent_reply *r, void *ud)
{
	if (strstr(args, "exit"))
		return cmdbus_agent_reply_exit_code(r, 2);
	cmdbus_agent_reply_stderr(r, "no disk", 7);
	cmdbus_agent_reply_error(r, "flash write failed");
	return -1;
}

static void
handler_failures(void **state)
{
	struct cmdbus_msg m;
	char err[160];

	tc_start(false, NULL, 0, 3600000);
	assert_int_equal(core_register(T.core, "flash", failing_handler, NULL,
				       NULL, err, sizeof(err)),
			 0);
	assert_int_equal(core_register(T.core, "flash", failing_handler, NULL,
				       NULL, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(core_register(T.core, "ping", failing_handler, NULL,
				       NULL, err, sizeof(err)),
			 -EEXIST);
	assert_int_equal(core_register(T.core, "Bad Name", failing_handler,
				       NULL, NULL, err, sizeof(err)),
			 -EINVAL);
	deliver(simple("01JEXEC0000000000000000020", "flash", "{}"));
	deliver(
	    simple("01JEXEC0000000000000000021", "flash", "{\"exit\":true}"));
	assert_int_equal(T.npubs, 4);
	pub_decode(1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_error);
	assert_string_equal(m.u.result.error_code, "handler_failed");
	assert_string_equal(m.u.result.error_message, "flash write failed");
	assert_true(m.u.result.has_streams);
	assert_string_equal(m.u.result.err.kept.data, "no disk");
	cmdbus_msg_fini(&m);
	pub_decode(3, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_FAILED);
	assert_true(m.u.result.has_exit_code);
	assert_int_equal(m.u.result.exit_code, 2);
	assert_false(m.u.result.has_error);
	cmdbus_msg_fini(&m);
}

static void
duplicate_finished_is_answered_from_memory(void **state)
{
	char copy[8192], err[160];

	tc_start(false, NULL, 0, 3600000);
	assert_int_equal(core_register(T.core, "count", count_handler, NULL,
				       &T.handler_calls, err, sizeof(err)),
			 0);
	snprintf(copy, sizeof(copy), "%s",
		 simple("01JEXEC0000000000000000022", "count", "{}"));
	deliver(copy);
	clock_fake_advance(&T.clk, 5000);
	deliver(copy);
	assert_int_equal(T.handler_calls, 1);
	assert_int_equal(T.npubs, 3);
	/* The stored result again, byte for byte: no new ACCEPTED, no new
	 * finished_at. */
	assert_int_equal(T.pubs[1].len, T.pubs[2].len);
	assert_memory_equal(T.pubs[1].msg, T.pubs[2].msg, T.pubs[1].len);
	assert_int_equal(core_get_stats(T.core)->duplicates, 1);
}

static void
status_online_and_offline(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"service", "^(nginx|sshd)$", false},
	    {NULL, NULL, false},
	};
	struct cmdbus_envelope env;
	struct cmdbus_diag d;
	struct cmdbus_msg m;
	char *msg, err[160];
	size_t len;

	tc_start(true, NULL, 0, 3600000);
	assert_int_equal(core_register(T.core, "restart", count_handler, params,
				       NULL, err, sizeof(err)),
			 0);
	assert_int_equal(core_status(T.core, true, &msg, &len), 0);
	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_STATUS, msg, len,
						NULL, 0, &env, &d),
			 0);
	assert_int_equal(
	    cmdbus_msg_decode(env.payload, env.payload_len, &m, &d), 0);
	assert_true(m.u.status.online);
	assert_string_equal(m.u.status.agent, "cmdbus-agent/0.1.0");
	assert_int_equal(m.u.status.at, NOW);
	assert_int_equal(m.u.status.nlabels, 2);
	assert_string_equal(m.u.status.labels[0].key, "site");
	assert_string_equal(m.u.status.labels[0].value, "lab");
	assert_int_equal(m.u.status.nactions, 4);
	assert_string_equal(m.u.status.actions[0].name, "ping");
	assert_string_equal(m.u.status.actions[1].name, "info");
	assert_string_equal(m.u.status.actions[2].name, "exec");
	assert_string_equal(m.u.status.actions[3].name, "restart");
	assert_int_equal(m.u.status.actions[3].nparams, 1);
	assert_string_equal(m.u.status.actions[3].params[0].name, "service");
	assert_true(m.u.status.has_health);
	assert_int_equal(m.u.status.health.mem_avail_kb, 1024);
	assert_int_equal(m.u.status.health.disk_avail_kb, 512);
	assert_int_equal(m.u.status.health.uptime_s, 99);
	cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
	free(msg);

	assert_int_equal(core_status(T.core, false, &msg, &len), 0);
	assert_non_null(strstr(msg, "\\\"online\\\":false"));
	assert_null(strstr(msg, "labels"));
	assert_non_null(strstr(msg, BOOT));
	free(msg);
}

static int
noisy_handler(const char *args, struct cmdbus_agent_reply *r, void *ud)
{
	static char chunk[65536];

	/* Control bytes escape to six characters and again in the
	 * envelope: the whole result would be far over the limit. */
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(1 + i % 7);
	cmdbus_agent_reply_stdout(r, chunk, sizeof(chunk));
	cmdbus_agent_reply_stdout(r, chunk, sizeof(chunk));
	cmdbus_agent_reply_stderr(r, chunk, sizeof(chunk));
	return 0;
}

static void
result_is_kept_under_the_limit(void **state)
{
	struct cmdbus_msg m;
	char err[160];
	size_t k, first, last;

	tc_start(false, NULL, 0, 3600000);
	assert_int_equal(core_register(T.core, "noisy", noisy_handler, NULL,
				       NULL, err, sizeof(err)),
			 0);
	deliver(simple("01JEXEC0000000000000000043", "noisy", "{}"));
	assert_int_equal(T.npubs, 2);
	assert_true(T.pubs[1].len <= CMDBUS_MAX_MESSAGE);
	pub_decode(1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_true(m.u.result.out.truncated);
	assert_true(m.u.result.err.truncated);
	assert_int_equal(m.u.result.out.bytes, 131072);
	assert_int_equal(m.u.result.err.bytes, 65536);
	k = m.u.result.out.kept.len;
	assert_true(k > 0 && k < 65536);
	/* Still the first and last bytes the command wrote. */
	first = k / 2;
	last = k - first;
	for (size_t i = 0; i < first; i++)
		assert_int_equal(m.u.result.out.kept.data[i], 1 + i % 7);
	for (size_t i = 0; i < last; i++) {
		size_t src = 131072 - last + i;
		assert_int_equal(m.u.result.out.kept.data[first + i],
				 1 + (src % 65536) % 7);
	}
	cmdbus_msg_fini(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(handler_params_are_checked, tc_teardown),
	    cmocka_unit_test_teardown(handler_failures, tc_teardown),
	    cmocka_unit_test_teardown(
		duplicate_finished_is_answered_from_memory, tc_teardown),
	    cmocka_unit_test_teardown(status_online_and_offline, tc_teardown),
	    cmocka_unit_test_teardown(result_is_kept_under_the_limit,
				      tc_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
