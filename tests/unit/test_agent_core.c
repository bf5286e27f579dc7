/* SPDX-License-Identifier: MIT */
/* The agent core driven through fake ports and a fake clock: the checks of
 * the contract in their order with their codes, the runs and the results
 * they give, duplicates answered from memory, cancels, shutdown, status. */
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

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "agent_core.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "common/clock.h"
#include "common/log.h"

#define NOW 1800000000000ull
#define SKEW 60000ull
#define BOOT "01JBOOT0000000000000000000"
#define MAX_PUBS 64

struct pub {
	enum cmdbus_kind kind;
	char *msg;
	size_t len;
	bool retain;
};

struct tc {
	struct clock_fake clk;
	struct core *core;
	struct pub pubs[MAX_PUBS];
	size_t npubs;
	int spawn_calls;
	int spawn_rc;
	uint64_t last_token;
	uint64_t last_timeout;
	size_t last_max_output;
	char last_argv0[64];
	char last_env[8][128];
	size_t nenv;
	char last_stdin[64];
	bool last_has_stdin;
	int terminate_calls;
	uint64_t last_terminated;
	int handler_calls;
};

static struct tc T;

/* ---- fake ports ---- */

static int
fake_publish(void *ud, enum cmdbus_kind kind, const char *msg, size_t len,
	     bool retain)
{
	struct tc *t = ud;
	struct pub *p;

	assert_true(t->npubs < MAX_PUBS);
	p = &t->pubs[t->npubs++];
	p->kind = kind;
	p->msg = malloc(len + 1);
	assert_non_null(p->msg);
	memcpy(p->msg, msg, len);
	p->msg[len] = '\0';
	p->len = len;
	p->retain = retain;
	return 0;
}

static int
fake_spawn(void *ud, uint64_t token, const struct core_spawn *sp, long *pid)
{
	struct tc *t = ud;

	t->spawn_calls++;
	t->last_token = token;
	t->last_timeout = sp->timeout_ms;
	t->last_max_output = sp->max_output;
	snprintf(t->last_argv0, sizeof(t->last_argv0), "%s", sp->argv[0]);
	t->nenv = 0;
	for (char *const *e = sp->envp; *e && t->nenv < 8; e++)
		snprintf(t->last_env[t->nenv++], sizeof(t->last_env[0]), "%s",
			 *e);
	t->last_has_stdin = sp->has_stdin;
	snprintf(t->last_stdin, sizeof(t->last_stdin), "%.*s",
		 (int)sp->stdin_len,
		 sp->stdin_data ? (const char *)sp->stdin_data : "");
	if (t->spawn_rc)
		return t->spawn_rc;
	*pid = 4242;
	return 0;
}

static void
fake_terminate(void *ud, uint64_t token)
{
	struct tc *t = ud;

	t->terminate_calls++;
	t->last_terminated = token;
}

static int
fake_sysinfo(void *ud, struct cmdbus_info *info)
{
	memset(info, 0, sizeof(*info));
	info->os = "TestOS 1";
	info->kernel = "6.1.0";
	info->arch = "x86_64";
	info->hostname = "box";
	info->uptime_s = 99;
	info->load[0] = 0.5;
	info->load[1] = 0.25;
	info->load[2] = 0.125;
	info->mem_total_kb = 2048;
	info->mem_avail_kb = 1024;
	info->disk_total_kb = 4096;
	info->disk_avail_kb = 512;
	return 0;
}

static void
tc_clear_pubs(struct tc *t)
{
	for (size_t i = 0; i < t->npubs; i++)
		free(t->pubs[i].msg);
	t->npubs = 0;
}

static void
tc_start(bool exec_enabled, const struct cmdbus_key *const *trusted,
	 size_t ntrusted, uint64_t max_timeout_ms)
{
	static const char *const labels[] = {"site=lab", "role=web"};
	struct core_config cfg;
	struct core_ports ports;
	char err[160];

	memset(&T, 0, sizeof(T));
	clock_fake_init(&T.clk, NOW);
	memset(&cfg, 0, sizeof(cfg));
	cfg.device_id = "dev-1";
	cfg.prefix = "cmdbus/v1";
	cfg.boot_id = BOOT;
	cfg.labels = labels;
	cfg.nlabels = 2;
	cfg.exec_enabled = exec_enabled;
	cfg.exec_path = "/opt/bin:/usr/bin";
	cfg.exec_cwd = "/";
	cfg.max_timeout_ms = max_timeout_ms;
	cfg.clock_skew_ms = SKEW;
	cfg.trusted = trusted;
	cfg.ntrusted = ntrusted;
	cfg.clock = &T.clk.clock;
	memset(&ports, 0, sizeof(ports));
	ports.publish = fake_publish;
	ports.spawn = fake_spawn;
	ports.terminate = fake_terminate;
	ports.sysinfo = fake_sysinfo;
	ports.ud = &T;
	assert_int_equal(core_new(&cfg, &ports, &T.core, err, sizeof(err)), 0);
}

static int
teardown(void **state)
{
	core_free(T.core);
	T.core = NULL;
	tc_clear_pubs(&T);
	return 0;
}

/* ---- building and reading messages ---- */

static char payload_buf[8192];

static const char *
command(const char *id, const char *device, uint64_t iat, uint64_t exp,
	uint64_t timeout_ms, const char *action, const char *args)
{
	snprintf(payload_buf, sizeof(payload_buf),
		 "{\"type\":\"command\",\"id\":\"%s\",\"device\":\"%s\","
		 "\"iat\":%llu,\"exp\":%llu,\"timeout_ms\":%llu,"
		 "\"action\":\"%s\",\"args\":%s}",
		 id, device, (unsigned long long)iat, (unsigned long long)exp,
		 (unsigned long long)timeout_ms, action, args);
	return payload_buf;
}

static const char *
simple(const char *id, const char *action, const char *args)
{
	return command(id, "dev-1", NOW, NOW + 3600000, 30000, action, args);
}

static const char *
cancel(const char *id)
{
	snprintf(payload_buf, sizeof(payload_buf),
		 "{\"type\":\"cancel\",\"id\":\"%s\",\"device\":\"dev-1\","
		 "\"iat\":%llu,\"exp\":%llu}",
		 id, (unsigned long long)NOW,
		 (unsigned long long)(NOW + 60000));
	return payload_buf;
}

static void
deliver_on(const char *topic_device, const char *payload,
	   const struct cmdbus_key *key)
{
	char topic[128], *env = NULL;
	size_t len = 0;

	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_CMD, payload,
					      strlen(payload), key, &env, &len),
			 0);
	snprintf(topic, sizeof(topic), "cmdbus/v1/%s/cmd", topic_device);
	core_on_message(T.core, topic, env, len);
	free(env);
}

static void
deliver(const char *payload)
{
	deliver_on("dev-1", payload, NULL);
}

/* Decodes published message i; release with cmdbus_msg_fini(). */
static void
pub_decode(size_t i, struct cmdbus_msg *m)
{
	struct cmdbus_envelope env;
	struct cmdbus_diag d;

	assert_true(i < T.npubs);
	memset(&d, 0, sizeof(d));
	assert_int_equal(cmdbus_envelope_unwrap(T.pubs[i].kind, T.pubs[i].msg,
						T.pubs[i].len, NULL, 0, &env,
						&d),
			 0);
	assert_int_equal(cmdbus_msg_decode(env.payload, env.payload_len, m, &d),
			 0);
	cmdbus_envelope_fini(&env);
}

/* Asserts that message i is a result in `state` with error `code`. */
static void
expect_error(size_t i, enum cmdbus_state state, const char *code)
{
	struct cmdbus_msg m;

	pub_decode(i, &m);
	assert_int_equal(m.type, CMDBUS_MSG_RESULT);
	assert_int_equal(m.u.result.state, state);
	assert_true(m.u.result.has_error);
	assert_string_equal(m.u.result.error_code, code);
	assert_false(m.u.result.has_streams);
	assert_string_equal(m.u.result.device, "dev-1");
	assert_string_equal(m.u.result.boot_id, BOOT);
	cmdbus_msg_fini(&m);
}

static void
expect_report(size_t i, enum cmdbus_state state)
{
	struct cmdbus_msg m;

	pub_decode(i, &m);
	assert_int_equal(m.type, CMDBUS_MSG_REPORT);
	assert_int_equal(m.u.report.state, state);
	cmdbus_msg_fini(&m);
}

static char *
error_message(size_t i)
{
	struct cmdbus_msg m;
	char *s;

	pub_decode(i, &m);
	assert_true(m.u.result.has_error);
	s = strdup(m.u.result.error_message);
	cmdbus_msg_fini(&m);
	return s;
}

/* ---- tests ---- */

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

static int
count_handler(const char *args, struct cmdbus_agent_reply *r, void *ud)
{
	int *calls = ud;

	(*calls)++;
	cmdbus_agent_reply_stdout(r, "restarted ", 10);
	cmdbus_agent_reply_stdout(r, args, strlen(args));
	return 0;
}

static void
handler_params_are_checked(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"service", "nginx|sshd"},
	    {NULL, NULL},
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
	assert_string_equal(T.last_argv0, "env");
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
	struct output empty;
	struct core_exit ex;
	struct cmdbus_msg m;

	tc_start(true, NULL, 0, 10000);
	deliver(command("01JEXEC0000000000000000030", "dev-1", NOW, NOW + 60000,
			50000, "exec", "{\"argv\":[\"true\"]}"));
	assert_int_equal(T.last_timeout, 10000);
	output_init(&empty, 16);
	memset(&ex, 0, sizeof(ex));
	ex.out = ex.err = &empty;
	core_on_exit(T.core, T.last_token, &ex);
	pub_decode(T.npubs - 1, &m);
	assert_true(m.u.result.has_clamped_timeout_ms);
	assert_int_equal(m.u.result.clamped_timeout_ms, 10000);
	cmdbus_msg_fini(&m);
	output_fini(&empty);
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
	assert_int_equal(T.npubs, 0);
	assert_int_equal(core_get_stats(T.core)->dropped, 6);
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

static struct cmdbus_key *
make_key(const char *kid, bool private_part, EVP_PKEY *pk)
{
	BIO *bio = BIO_new(BIO_s_mem());
	struct cmdbus_key *k = NULL;
	char *pem;
	long n;

	assert_non_null(bio);
	if (private_part)
		assert_int_equal(PEM_write_bio_PrivateKey(bio, pk, NULL, NULL,
							  0, NULL, NULL),
				 1);
	else
		assert_int_equal(PEM_write_bio_PUBKEY(bio, pk), 1);
	n = BIO_get_mem_data(bio, &pem);
	assert_int_equal(cmdbus_key_from_pem(pem, (size_t)n, kid, &k), 0);
	BIO_free(bio);
	return k;
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
	priv1 = make_key("disp-a", true, pk1);
	pub1 = make_key("disp-a", false, pk1);
	priv2 = make_key("disp-b", true, pk2);
	imposter = make_key("disp-a", true, pk2); /* right kid, wrong key */
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

	teardown(state);
	cmdbus_key_free(priv1);
	cmdbus_key_free(pub1);
	cmdbus_key_free(priv2);
	cmdbus_key_free(imposter);
	EVP_PKEY_free(pk1);
	EVP_PKEY_free(pk2);
}

static void
cancel_running_and_finished(void **state)
{
	struct output empty;
	struct core_exit ex;
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

	output_init(&empty, 16);
	memset(&ex, 0, sizeof(ex));
	ex.wait_status = 15;
	ex.out = ex.err = &empty;
	core_on_exit(T.core, T.last_token, &ex);
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

	/* Unknown id: logged and ignored (no tombstone before the
	 * journal). */
	before = T.npubs;
	deliver(cancel("01JEXEC0000000000000000040"));
	assert_int_equal(T.npubs, before);
	deliver(simple("01JEXEC0000000000000000040", "ping", "{}"));
	expect_report(before, CMDBUS_STATE_ACCEPTED);
	output_fini(&empty);
}

static void
shutdown_interrupts_runs(void **state)
{
	struct output empty;
	struct core_exit ex;

	tc_start(true, NULL, 0, 3600000);
	deliver(simple("01JEXEC0000000000000000041", "exec",
		       "{\"argv\":[\"sleep\",\"60\"]}"));
	core_shutdown(T.core);
	assert_int_equal(T.terminate_calls, 1);
	output_init(&empty, 16);
	memset(&ex, 0, sizeof(ex));
	ex.wait_status = 15;
	ex.out = ex.err = &empty;
	core_on_exit(T.core, T.last_token, &ex);
	expect_error(T.npubs - 1, CMDBUS_STATE_LOST, CMDBUS_E_INTERRUPTED);
	/* New work is refused as retryable while stopping; duplicates are
	 * still answered from memory. */
	deliver(simple("01JEXEC0000000000000000042", "ping", "{}"));
	expect_error(T.npubs - 1, CMDBUS_STATE_REJECTED,
		     CMDBUS_E_JOURNAL_UNAVAILABLE);
	output_fini(&empty);
}

static void
status_online_and_offline(void **state)
{
	static const struct cmdbus_agent_param params[] = {
	    {"service", "^(nginx|sshd)$"},
	    {NULL, NULL},
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

static void
max_output_is_honoured(void **state)
{
	tc_start(true, NULL, 0, 3600000);
	snprintf(payload_buf, sizeof(payload_buf),
		 "{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000044\","
		 "\"device\":\"dev-1\",\"iat\":%llu,\"exp\":%llu,"
		 "\"timeout_ms\":1000,\"action\":\"exec\","
		 "\"args\":{\"argv\":[\"yes\"]},\"max_output\":100}",
		 (unsigned long long)NOW, (unsigned long long)NOW + 1000);
	deliver(payload_buf);
	assert_int_equal(T.last_max_output, 100);
	snprintf(payload_buf, sizeof(payload_buf),
		 "{\"type\":\"command\",\"id\":\"01JEXEC0000000000000000045\","
		 "\"device\":\"dev-1\",\"iat\":%llu,\"exp\":%llu,"
		 "\"timeout_ms\":1000,\"action\":\"exec\","
		 "\"args\":{\"argv\":[\"yes\"]},\"max_output\":10000000}",
		 (unsigned long long)NOW, (unsigned long long)NOW + 1000);
	deliver(payload_buf);
	assert_int_equal(T.last_max_output, 65536);
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
	    cmocka_unit_test_teardown(ping_succeeds, teardown),
	    cmocka_unit_test_teardown(info_reports_system, teardown),
	    cmocka_unit_test_teardown(wrong_device_comes_before_clock,
				      teardown),
	    cmocka_unit_test_teardown(topic_device_must_match, teardown),
	    cmocka_unit_test_teardown(expiry_honours_skew, teardown),
	    cmocka_unit_test_teardown(not_yet_valid_honours_skew, teardown),
	    cmocka_unit_test_teardown(rejection_is_remembered, teardown),
	    cmocka_unit_test_teardown(unknown_and_disabled_actions, teardown),
	    cmocka_unit_test_teardown(clock_comes_before_action, teardown),
	    cmocka_unit_test_teardown(exec_bad_args_name_the_parameter,
				      teardown),
	    cmocka_unit_test_teardown(handler_params_are_checked, teardown),
	    cmocka_unit_test_teardown(handler_failures, teardown),
	    cmocka_unit_test_teardown(
		duplicate_finished_is_answered_from_memory, teardown),
	    cmocka_unit_test_teardown(duplicate_running_gets_latest_report,
				      teardown),
	    cmocka_unit_test_teardown(exec_spawn_request, teardown),
	    cmocka_unit_test_teardown(exec_results_from_wait_status, teardown),
	    cmocka_unit_test_teardown(spawn_failure, teardown),
	    cmocka_unit_test_teardown(timeout_is_clamped, teardown),
	    cmocka_unit_test_teardown(drops_without_answer, teardown),
	    cmocka_unit_test_teardown(malformed_with_id_is_rejected, teardown),
	    cmocka_unit_test(signatures_when_keys_are_trusted),
	    cmocka_unit_test_teardown(cancel_running_and_finished, teardown),
	    cmocka_unit_test_teardown(shutdown_interrupts_runs, teardown),
	    cmocka_unit_test_teardown(status_online_and_offline, teardown),
	    cmocka_unit_test_teardown(result_is_kept_under_the_limit, teardown),
	    cmocka_unit_test_teardown(max_output_is_honoured, teardown),
	    cmocka_unit_test(bad_config_is_refused),
	};

	log_init("test_agent_core", LOG_LVL_ERROR, false);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
