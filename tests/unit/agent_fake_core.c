/* SPDX-License-Identifier: MIT */
/* The fake ports behind agent_fake_core.h: they record what the core
 * publishes and asks for, so that tests assert on it without a broker or
 * a process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fake_core.h"

struct tc T;
size_t tc_max_running;
void (*tc_adjust)(struct core_config *cfg);

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
	for (t->argc = 0; sp->argv[t->argc] && t->argc < 12; t->argc++)
		snprintf(t->argv[t->argc], sizeof(t->argv[0]), "%s",
			 sp->argv[t->argc]);
	snprintf(t->cwd, sizeof(t->cwd), "%s", sp->cwd);
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

/* ---- the core under test ---- */

void
tc_clear_pubs(struct tc *t)
{
	for (size_t i = 0; i < t->npubs; i++)
		free(t->pubs[i].msg);
	t->npubs = 0;
}

void
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
	cfg.max_running = tc_max_running;
	if (tc_adjust)
		tc_adjust(&cfg);
	memset(&ports, 0, sizeof(ports));
	ports.publish = fake_publish;
	ports.spawn = fake_spawn;
	ports.terminate = fake_terminate;
	ports.sysinfo = fake_sysinfo;
	ports.ud = &T;
	assert_int_equal(core_new(&cfg, &ports, &T.core, err, sizeof(err)), 0);
}

int
tc_teardown(void **state)
{
	core_free(T.core);
	T.core = NULL;
	tc_clear_pubs(&T);
	return 0;
}

/* ---- building and reading messages ---- */

static char payload_buf[8192];

const char *
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

const char *
simple(const char *id, const char *action, const char *args)
{
	return command(id, "dev-1", NOW, NOW + 3600000, 30000, action, args);
}

const char *
cancel(const char *id)
{
	snprintf(payload_buf, sizeof(payload_buf),
		 "{\"type\":\"cancel\",\"id\":\"%s\",\"device\":\"dev-1\","
		 "\"iat\":%llu,\"exp\":%llu}",
		 id, (unsigned long long)NOW,
		 (unsigned long long)(NOW + 60000));
	return payload_buf;
}

void
core_deliver(struct core *c, const char *topic_device, const char *payload,
	     const struct cmdbus_key *key)
{
	char topic[128], *env = NULL;
	size_t len = 0;

	assert_int_equal(cmdbus_envelope_wrap(CMDBUS_KIND_CMD, payload,
					      strlen(payload), key, &env, &len),
			 0);
	snprintf(topic, sizeof(topic), "cmdbus/v1/%s/cmd", topic_device);
	core_on_message(c, topic, env, len);
	free(env);
}

void
deliver_on(const char *topic_device, const char *payload,
	   const struct cmdbus_key *key)
{
	core_deliver(T.core, topic_device, payload, key);
}

void
deliver(const char *payload)
{
	deliver_on("dev-1", payload, NULL);
}

void
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

void
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

void
expect_report(size_t i, enum cmdbus_state state)
{
	struct cmdbus_msg m;

	pub_decode(i, &m);
	assert_int_equal(m.type, CMDBUS_MSG_REPORT);
	assert_int_equal(m.u.report.state, state);
	cmdbus_msg_fini(&m);
}

char *
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

void
core_exit_empty(struct core *c, uint64_t token, int wait_status)
{
	struct output empty;
	struct core_exit ex;

	output_init(&empty, 16);
	memset(&ex, 0, sizeof(ex));
	ex.wait_status = wait_status;
	ex.out = ex.err = &empty;
	core_on_exit(c, token, &ex);
	output_fini(&empty);
}

void
exit_last(int wait_status)
{
	core_exit_empty(T.core, T.last_token, wait_status);
}

int
count_handler(const char *args, struct cmdbus_agent_reply *r, void *ud)
{
	int *calls = ud;

	(*calls)++;
	cmdbus_agent_reply_stdout(r, "restarted ", 10);
	cmdbus_agent_reply_stdout(r, args, strlen(args));
	return 0;
}
