/* SPDX-License-Identifier: MIT */
/* The checks of the contract in their order, with their codes: device,
 * clock, action, arguments, signature; what is dropped unanswered; a
 * configuration the core refuses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "agent_fake_core.h"
#include "test_keys.h"

static void
ping_succeeds(void **state)
{
	struct cmdbus_msg m;
	char sha[CMDBUS_SHA256_HEX + 1];
	const char *p = simple("01JEXEC0000000000000000001", "ping", "{}");

	tc_start(false, NULL, 0, 3600000);
	cmdbus_sha256_hex(p, strlen(p), sha);
	deliver(p);
	assert_int_equal(T.npubs, 2);
	assert_int_equal(T.pubs[0].kind, CMDBUS_KIND_RESULT);
	assert_false(T.pubs[0].retain);

	pub_decode(0, &m);
	assert_int_equal(m.type, CMDBUS_MSG_REPORT);
	assert_int_equal(m.u.report.state, CMDBUS_STATE_ACCEPTED);
	assert_string_equal(m.u.report.cmd_sha256, sha);
	assert_string_equal(m.u.report.boot_id, BOOT);
	cmdbus_msg_fini(&m);

	pub_decode(1, &m);
	assert_int_equal(m.type, CMDBUS_MSG_RESULT);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_true(m.u.result.has_exit_code);
	assert_int_equal(m.u.result.exit_code, 0);
	assert_true(m.u.result.has_streams);
	assert_int_equal(m.u.result.out.kept.len, 4);
	assert_memory_equal(m.u.result.out.kept.data, "pong", 4);
	assert_int_equal(m.u.result.out.bytes, 4);
	assert_int_equal(m.u.result.err.kept.len, 0);
	assert_string_equal(m.u.result.cmd_sha256, sha);
	assert_string_equal(m.u.result.id, "01JEXEC0000000000000000001");
	assert_string_equal(m.u.result.device, "dev-1");
	assert_false(m.u.result.has_clamped_timeout_ms);
	cmdbus_msg_fini(&m);
}

static void
info_reports_system(void **state)
{
	struct cmdbus_msg m;

	tc_start(false, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000002", "info", "{}"));
	assert_int_equal(T.npubs, 2);
	pub_decode(1, &m);
	assert_int_equal(m.u.result.state, CMDBUS_STATE_SUCCEEDED);
	assert_non_null(
	    strstr(m.u.result.out.kept.data, "\"os\":\"TestOS 1\""));
	assert_non_null(
	    strstr(m.u.result.out.kept.data, "\"mem_total_kb\":2048"));
	assert_non_null(strstr(m.u.result.out.kept.data, "\"load\":[0.5,"));
	cmdbus_msg_fini(&m);
}

static void
wrong_device_comes_before_clock(void **state)
{
	/* Both misaddressed and long expired: the device check comes
	 * first, and it is answered every time (never remembered). */
	const char *p =
	    command("01JEXEC0000000000000000003", "dev-2", NOW - 7200000,
		    NOW - 3600000, 1000, "ping", "{}");
	char copy[8192];

	tc_start(false, NULL, 0, 3600000);
	snprintf(copy, sizeof(copy), "%s", p);
	deliver(copy);
	deliver(copy);
	assert_int_equal(T.npubs, 2);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_WRONG_DEVICE);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_WRONG_DEVICE);
}

static void
topic_device_must_match(void **state)
{
	tc_start(false, NULL, 0, 3600000);
	deliver_on("dev-2", simple("01JEXEC0000000000000000004", "ping", "{}"),
		   NULL);
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_WRONG_DEVICE);
}

static void
expiry_honours_skew(void **state)
{
	tc_start(false, NULL, 0, 3600000);
	/* exp + skew is exactly now: still valid. */
	deliver(command("01JEXEC0000000000000000005", "dev-1", NOW - 120000,
			NOW - SKEW, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);
	tc_clear_pubs(&T);
	/* One millisecond later it is expired. */
	deliver(command("01JEXEC0000000000000000006", "dev-1", NOW - 120000,
			NOW - SKEW - 1, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_EXPIRED, CMDBUS_E_EXPIRED);
}

static void
not_yet_valid_honours_skew(void **state)
{
	tc_start(false, NULL, 0, 3600000);
	deliver(command("01JEXEC0000000000000000007", "dev-1", NOW + SKEW,
			NOW + 3600000, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);
	tc_clear_pubs(&T);
	deliver(command("01JEXEC0000000000000000008", "dev-1", NOW + SKEW + 1,
			NOW + 3600000, 1000, "ping", "{}"));
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_NOT_YET_VALID);
}

static void
rejection_is_remembered(void **state)
{
	char copy[8192];

	tc_start(false, NULL, 0, 3600000);
	snprintf(copy, sizeof(copy), "%s",
		 command("01JEXEC0000000000000000009", "dev-1", NOW + SKEW + 1,
			 NOW + 3600000, 1000, "ping", "{}"));
	deliver(copy);
	/* Later the command would be valid, but its id was answered: the
	 * same answer comes back, byte for byte, and nothing runs. */
	clock_fake_advance(&T.clk, 2 * SKEW);
	deliver(copy);
	assert_int_equal(T.npubs, 2);
	assert_int_equal(T.pubs[0].len, T.pubs[1].len);
	assert_memory_equal(T.pubs[0].msg, T.pubs[1].msg, T.pubs[0].len);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_NOT_YET_VALID);
}

static void
unknown_and_disabled_actions(void **state)
{
	tc_start(false, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000010", "reboot", "{}"));
	deliver(simple("01JEXEC0000000000000000011", "exec",
		       "{\"argv\":[\"true\"]}"));
	deliver(simple("01JEXEC0000000000000000012", "shell",
		       "{\"script\":\"true\"}"));
	assert_int_equal(T.npubs, 3);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_UNKNOWN_ACTION);
	expect_error(1, CMDBUS_STATE_REJECTED, CMDBUS_E_ACTION_DISABLED);
	expect_error(2, CMDBUS_STATE_REJECTED, CMDBUS_E_ACTION_DISABLED);
	assert_int_equal(T.spawn_calls, 0);
}

static void
clock_comes_before_action(void **state)
{
	tc_start(false, NULL, 0, 3600000);
	deliver(command("01JEXEC0000000000000000013", "dev-1", NOW - 7200000,
			NOW - 3600000, 1000, "reboot", "{}"));
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_EXPIRED, CMDBUS_E_EXPIRED);
}

static void
exec_bad_args_name_the_parameter(void **state)
{
	char *msg;

	tc_start(true, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000014", "exec",
		       "{\"argv\":[\"ls\",7]}"));
	deliver(simple("01JEXEC0000000000000000015", "exec",
		       "{\"argv\":[\"ls\"],\"color\":true}"));
	deliver(simple("01JEXEC0000000000000000016", "exec", "{}"));
	assert_int_equal(T.npubs, 3);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_ARGS);
	msg = error_message(0);
	assert_non_null(strstr(msg, "args.argv[1]"));
	free(msg);
	msg = error_message(1);
	assert_non_null(strstr(msg, "color"));
	free(msg);
	msg = error_message(2);
	assert_non_null(strstr(msg, "argv"));
	free(msg);
	assert_int_equal(T.spawn_calls, 0);
}

static void
drops_without_answer(void **state)
{
	static char big[CMDBUS_MAX_MESSAGE + 2];
	const char *bad_env = "{\"v\":2,\"alg\":\"none\",\"payload\":\"{}\"}";

	tc_start(false, NULL, 0, 3600000);
	memset(big, ' ', sizeof(big) - 1);
	core_on_message(T.core, "cmdbus/v1/dev-1/cmd", big, sizeof(big) - 1);
	core_on_message(T.core, "cmdbus/v1/dev-1/cmd", bad_env,
			strlen(bad_env));
	core_on_message(T.core, "other/dev-1/cmd", "{}", 2);
	/* A result is not allowed on the cmd topic. */
	deliver("{\"type\":\"output\",\"id\":\"01JEXEC0000000000000000031\","
		"\"device\":\"dev-1\",\"stream\":\"stdout\",\"seq\":0,"
		"\"data\":\"x\"}");
	/* A malformed cancel is never answered, even with a valid id. */
	deliver("{\"type\":\"cancel\",\"id\":\"01JEXEC0000000000000000032\","
		"\"device\":\"dev-1\",\"iat\":\"soon\",\"exp\":1}");
	/* Malformed without a readable id. */
	deliver("{\"type\":\"command\",\"id\":\"x\"}");
	/* A malformed result, with a readable id: its type is not allowed
	 * on the cmd topic, so it is dropped, never answered. */
	deliver("{\"type\":\"result\",\"id\":\"01JEXEC0000000000000000034\","
		"\"device\":\"dev-1\",\"state\":\"SUCCEEDED\"}");
	assert_int_equal(T.npubs, 0);
	assert_int_equal(core_get_stats(T.core)->dropped, 7);
}

static void
malformed_with_id_is_rejected(void **state)
{
	char *msg;

	tc_start(false, NULL, 0, 3600000);
	deliver("{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000033\","
		"\"device\":\"dev-1\",\"iat\":1,\"exp\":2,\"timeout_ms\":0,"
		"\"action\":\"ping\",\"args\":{}}");
	assert_int_equal(T.npubs, 1);
	expect_error(0, CMDBUS_STATE_REJECTED, CMDBUS_E_MALFORMED);
	msg = error_message(0);
	assert_non_null(strstr(msg, "timeout_ms"));
	free(msg);
}

static void
signatures_when_keys_are_trusted(void **state)
{
	EVP_PKEY *pk1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *pk2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct cmdbus_key *priv1, *pub1, *priv2, *imposter;
	const struct cmdbus_key *trusted[1];

	assert_non_null(pk1);
	assert_non_null(pk2);
	priv1 = test_key_from_pkey("disp-a", true, pk1);
	pub1 = test_key_from_pkey("disp-a", false, pk1);
	priv2 = test_key_from_pkey("disp-b", true, pk2);
	imposter =
	    test_key_from_pkey("disp-a", true, pk2); /* right kid, wrong key */
	trusted[0] = pub1;
	tc_start(false, trusted, 1, 3600000);

	deliver_on("dev-1", simple("01JEXEC0000000000000000034", "ping", "{}"),
		   priv1);
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);
	tc_clear_pubs(&T);

	deliver(simple("01JEXEC0000000000000000035", "ping", "{}"));
	deliver_on("dev-1", simple("01JEXEC0000000000000000036", "ping", "{}"),
		   priv2);
	deliver_on("dev-1", simple("01JEXEC0000000000000000037", "ping", "{}"),
		   imposter);
	/* Bad signature and misaddressed: the signature check comes
	 * first. */
	deliver_on("dev-1",
		   command("01JEXEC0000000000000000038", "dev-9", NOW,
			   NOW + 1000, 1000, "ping", "{}"),
		   imposter);
	assert_int_equal(T.npubs, 4);
	for (size_t i = 0; i < 4; i++)
		expect_error(i, CMDBUS_STATE_REJECTED, CMDBUS_E_BAD_SIGNATURE);
	/* Not remembered: the genuine command with that id still runs. */
	tc_clear_pubs(&T);
	deliver_on("dev-1", simple("01JEXEC0000000000000000035", "ping", "{}"),
		   priv1);
	assert_int_equal(T.npubs, 2);
	expect_report(0, CMDBUS_STATE_ACCEPTED);

	/* A forged cancel is dropped, not answered. */
	tc_clear_pubs(&T);
	deliver(cancel("01JEXEC0000000000000000035"));
	assert_int_equal(T.npubs, 0);

	tc_teardown(state);
	cmdbus_key_free(priv1);
	cmdbus_key_free(pub1);
	cmdbus_key_free(priv2);
	cmdbus_key_free(imposter);
	EVP_PKEY_free(pk1);
	EVP_PKEY_free(pk2);
}

static void
bad_config_is_refused(void **state)
{
	struct core_config cfg;
	struct core_ports ports;
	struct core *c = NULL;
	struct clock_fake clk;
	char err[160];
	static const char *const bad_labels[] = {"site"};

	clock_fake_init(&clk, NOW);
	memset(&cfg, 0, sizeof(cfg));
	memset(&ports, 0, sizeof(ports));
	cfg.device_id = "dev/1";
	cfg.prefix = "cmdbus/v1";
	cfg.boot_id = BOOT;
	cfg.clock = &clk.clock;
	assert_int_equal(core_new(&cfg, &ports, &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	cfg.device_id = "dev-1";
	cfg.prefix = "cmdbus/+";
	assert_int_equal(core_new(&cfg, &ports, &c, err, sizeof(err)), -EINVAL);
	cfg.prefix = "cmdbus/v1";
	cfg.labels = bad_labels;
	cfg.nlabels = 1;
	assert_int_equal(core_new(&cfg, &ports, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "site"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(ping_succeeds, tc_teardown),
	    cmocka_unit_test_teardown(info_reports_system, tc_teardown),
	    cmocka_unit_test_teardown(wrong_device_comes_before_clock,
				      tc_teardown),
	    cmocka_unit_test_teardown(topic_device_must_match, tc_teardown),
	    cmocka_unit_test_teardown(expiry_honours_skew, tc_teardown),
	    cmocka_unit_test_teardown(not_yet_valid_honours_skew, tc_teardown),
	    cmocka_unit_test_teardown(rejection_is_remembered, tc_teardown),
	    cmocka_unit_test_teardown(unknown_and_disabled_actions,
				      tc_teardown),
	    cmocka_unit_test_teardown(clock_comes_before_action, tc_teardown),
	    cmocka_unit_test_teardown(exec_bad_args_name_the_parameter,
				      tc_teardown),
	    cmocka_unit_test_teardown(drops_without_answer, tc_teardown),
	    cmocka_unit_test_teardown(malformed_with_id_is_rejected,
				      tc_teardown),
	    cmocka_unit_test(signatures_when_keys_are_trusted),
	    cmocka_unit_test(bad_config_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
