/* SPDX-License-Identifier: MIT */
/* Job creation and command publishing, driven with a fake store, a fake
 * bus and a fake clock: targets, TTL cap, payloads built at first publish
 * and re-published byte for byte, MQTT 5 expiry, PUBACKs, a broker or
 * database that is down, and signed commands. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "core.h"
#include "jobs.h"
#include "test_dispatcher_fakes.h"
#include "window.h"
#include "test_schema_files.h"

#define T0 1763700000000ull
/* A ping to dev-1, known or not. */
#define PING_DEV1                                                              \
	"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"        \
	"\"action\":\"ping\"}"
#define DAY 86400000ull

struct fx {
	struct clock_fake clk;
	struct fake_store fs;
	struct fake_bus bus;
	struct core core;
	struct cmdbus_key *key;
};

static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

static struct fx *
fx_new(uint64_t session_expiry_ms, struct cmdbus_key *key)
{
	struct fx *f = calloc(1, sizeof *f);
	struct store_port sp;
	struct bus_port bp;
	static const char *const web_sz[] = {"site=sz", "role=web"};
	static const char *const db_sz[] = {"site=sz", "role=db"};
	static const char *const web_lab[] = {"site=lab", "role=web"};

	assert_non_null(f);
	log_set_sink(quiet, NULL);
	clock_fake_init(&f->clk, T0);
	fake_store_init(&f->fs);
	fake_bus_init(&f->bus);
	fake_store_port(&f->fs, &sp);
	fake_bus_port(&f->bus, &bp);
	f->key = key;
	struct core_config cc = {
	    .prefix = "cmdbus/v1",
	    .session_expiry_ms = session_expiry_ms,
	    .sign_key = key,
	};
	assert_int_equal(core_init(&f->core, &cc, &f->clk.clock, &sp, &bp), 0);
	fake_store_add_device(&f->fs, "dev-1", web_sz, 2);
	fake_store_add_device(&f->fs, "dev-2", db_sz, 2);
	fake_store_add_device(&f->fs, "dev-3", web_lab, 2);
	return f;
}

static int
setup(void **state)
{
	*state = fx_new(7 * DAY, NULL);
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	core_fini(&f->core);
	fake_store_fini(&f->fs);
	fake_bus_fini(&f->bus);
	cmdbus_key_free(f->key);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

static int
create(struct fx *f, const char *body, struct cmdbus_diag *diag)
{
	char *view = NULL;
	size_t len = 0;
	struct cmdbus_diag d;
	int rc = jobs_create(&f->core, body, strlen(body), &view, &len,
			     diag ? diag : &d);
	if (rc == 0) {
		assert_non_null(view);
		assert_int_equal(strlen(view), len);
		assert_non_null(strstr(view, "\"executions\":["));
	} else {
		assert_null(view);
	}
	free(view);
	return rc;
}

/* Unwraps and decodes a published command; returns its payload text
 * (malloc'd) and fills m. */
static char *
decode_cmd(const struct fake_msg *msg, struct cmdbus_msg *m,
	   const struct cmdbus_key *trusted)
{
	struct cmdbus_envelope env;
	struct cmdbus_diag diag;
	const struct cmdbus_key *keys[1] = {trusted};

	memset(&env, 0, sizeof env);
	assert_int_equal(cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg->payload,
						msg->len, keys, trusted ? 1 : 0,
						&env, &diag),
			 0);
	memset(m, 0, sizeof *m);
	assert_int_equal(
	    cmdbus_msg_decode(env.payload, env.payload_len, m, &diag), 0);
	assert_int_equal(m->type, CMDBUS_MSG_COMMAND);
	char *payload = strdup(env.payload);
	cmdbus_envelope_fini(&env);
	return payload;
}

static void
test_create_devices_publishes_each(void **state)
{
	struct fx *f = *state;
	struct cmdbus_msg m;

	assert_int_equal(
	    create(f,
		   "{\"target\":{\"devices\":[\"dev-1\",\"dev-9\"],\"allow_"
		   "unknown\":true},"
		   "\"action\":\"exec\",\"args\":{\"argv\":[\"uname\"]},"
		   "\"timeout_ms\":5000,\"ttl_ms\":60000}",
		   NULL),
	    0);
	assert_int_equal(f->fs.njobs, 1);
	assert_int_equal(f->fs.nexecs, 2);
	assert_int_equal(f->bus.n, 2);
	assert_int_equal(f->core.stats.jobs_created, 1);

	const struct job_rec *j = &f->fs.jobs[0];
	assert_int_equal(j->state, CMDBUS_JOB_RUNNING);
	assert_int_equal(j->ttl_ms, 60000);
	for (size_t i = 0; i < 2; i++) {
		const struct exec_rec *e = &f->fs.execs[i];
		const struct fake_msg *msg = &f->bus.msgs[i];
		char topic[128];

		/* Device names need not be known for an explicit list. */
		snprintf(topic, sizeof topic, "cmdbus/v1/%s/cmd", e->device);
		assert_string_equal(msg->topic, topic);
		assert_int_equal(msg->qos, 1);
		assert_int_equal(msg->expiry_s, 60);
		assert_int_equal(e->state, CMDBUS_STATE_QUEUED);
		assert_int_equal(e->exp_at, T0 + 60000);

		char *payload = decode_cmd(msg, &m, NULL);
		const struct cmdbus_command *c = &m.u.command;
		assert_string_equal(c->id, e->id);
		assert_string_equal(c->job, j->id);
		assert_string_equal(c->device, e->device);
		assert_int_equal(c->iat, T0);
		assert_int_equal(c->exp, T0 + 60000);
		assert_int_equal(c->timeout_ms, 5000);
		assert_string_equal(c->action, "exec");
		assert_string_equal(c->args_json, "{\"argv\":[\"uname\"]}");
		/* Stored: the exact bytes and their digest. */
		assert_string_equal(e->command, payload);
		char sha[CMDBUS_SHA256_HEX + 1];
		cmdbus_sha256_hex(payload, strlen(payload), sha);
		assert_string_equal(e->cmd_sha256, sha);
		free(payload);
		cmdbus_msg_fini(&m);
	}
	assert_string_equal(f->fs.execs[0].device, "dev-1");
	assert_string_equal(f->fs.execs[1].device, "dev-9");
}

static void
test_expiry_rounds_up_and_is_never_zero(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(
		f,
		"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
		"\"action\":\"ping\",\"ttl_ms\":1500}",
		NULL),
	    0);
	assert_int_equal(f->bus.msgs[0].expiry_s, 2);
	/* 1 ms left: still 1 s, never 0. */
	clock_fake_advance(&f->clk, 1499);
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 2);
	assert_int_equal(f->bus.msgs[1].expiry_s, 1);
	/* Past exp: sent again all the same, the same bytes, for its agent
	 * to answer from its journal (or with EXPIRED); the message lives
	 * a minute. */
	clock_fake_advance(&f->clk, 1);
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 3);
	assert_string_equal(f->bus.msgs[2].payload, f->bus.msgs[0].payload);
	assert_int_equal(f->bus.msgs[2].expiry_s, 60);
	/* It was sent, so the agent may hold it: not declared EXPIRED. */
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_QUEUED);
}

static void
test_ttl_capped_at_session_expiry(void **state)
{
	struct fx *f = fx_new(60000, NULL);
	struct cmdbus_msg m;

	(void)state;
	assert_int_equal(
	    create(
		f,
		"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
		"\"action\":\"ping\",\"ttl_ms\":3600000}",
		NULL),
	    0);
	assert_int_equal(f->fs.jobs[0].ttl_ms, 60000);
	assert_int_equal(f->fs.execs[0].exp_at, T0 + 60000);
	assert_int_equal(f->bus.msgs[0].expiry_s, 60);
	free(decode_cmd(&f->bus.msgs[0], &m, NULL));
	assert_int_equal(m.u.command.exp, T0 + 60000);
	cmdbus_msg_fini(&m);
	void *p = f;
	teardown(&p);
}

static void
test_targets_by_labels_and_all(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f,
				"{\"target\":{\"labels\":{\"role\":\"web\"}},"
				"\"action\":\"ping\"}",
				NULL),
			 0);
	assert_int_equal(f->fs.nexecs, 2);
	assert_string_equal(f->fs.execs[0].device, "dev-1");
	assert_string_equal(f->fs.execs[1].device, "dev-3");

	assert_int_equal(create(f,
				"{\"target\":{\"labels\":{\"role\":\"web\","
				"\"site\":\"lab\"}},\"action\":\"ping\"}",
				NULL),
			 0);
	assert_int_equal(f->fs.nexecs, 3);
	assert_string_equal(f->fs.execs[2].device, "dev-3");

	assert_int_equal(
	    create(f, "{\"target\":{\"all\":true},\"action\":\"info\"}", NULL),
	    0);
	assert_int_equal(f->fs.nexecs, 6);
	assert_int_equal(f->bus.n, 6);
}

static void
test_empty_target_is_400_naming_target(void **state)
{
	struct fx *f = *state;
	struct cmdbus_diag diag;

	assert_int_equal(create(f,
				"{\"target\":{\"labels\":{\"role\":\"none\"}},"
				"\"action\":\"ping\"}",
				&diag),
			 -ERR_MALFORMED);
	assert_string_equal(diag.field, "target");
	assert_string_equal(diag.code, "malformed");
	assert_int_equal(f->fs.njobs, 0);
	assert_int_equal(f->bus.n, 0);
}

static void
test_malformed_body_names_field(void **state)
{
	struct fx *f = *state;
	struct cmdbus_diag diag;

	assert_int_equal(create(f, "{\"target\":{\"all\":true}}", &diag),
			 -ERR_MALFORMED);
	assert_string_equal(diag.field, "action");
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"ok\",\"b/"
				"d\"],\"allow_unknown\":true},"
				"\"action\":\"ping\"}",
				&diag),
			 -ERR_MALFORMED);
	assert_string_equal(diag.field, "target.devices[1]");
	assert_int_equal(create(f, "{not json", &diag), -ERR_MALFORMED);
	assert_int_equal(f->fs.njobs, 0);
}

static void
test_idempotency_key_stored(void **state)
{
	struct fx *f = *state;

	assert_int_equal(
	    create(
		f,
		"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
		"\"action\":\"ping\","
		"\"idempotency_key\":\"abc-1\"}",
		NULL),
	    0);
	assert_string_equal(f->fs.jobs[0].idempotency_key, "abc-1");
}

static void
test_store_failure_creates_nothing(void **state)
{
	struct fx *f = *state;

	f->fs.fail_job_create = -ENOSPC;
	assert_int_equal(create(f, PING_DEV1, NULL), -ENOSPC);
	assert_int_equal(f->fs.njobs, 0);
	assert_int_equal(f->bus.n, 0);
	assert_int_equal(f->core.stats.store_errors, 1);
}

static void
test_bus_down_then_connect_publishes(void **state)
{
	struct fx *f = *state;
	struct cmdbus_msg m;

	f->bus.connected = false;
	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"dev-1\",\"dev-2\"]"
				",\"allow_unknown\":true},"
				"\"action\":\"ping\"}",
				NULL),
			 0);
	assert_int_equal(f->bus.n, 0);
	/* Stored, not yet built: iat is the moment of first publish. */
	assert_null(f->fs.execs[0].command);
	assert_string_equal(f->fs.execs[0].cmd_sha256, "");

	clock_fake_advance(&f->clk, 5000);
	f->bus.connected = true;
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 2);
	char *payload = decode_cmd(&f->bus.msgs[0], &m, NULL);
	assert_int_equal(m.u.command.iat, T0 + 5000);
	assert_int_equal(m.u.command.exp, T0 + 3600000);
	assert_int_equal(f->bus.msgs[0].expiry_s, 3595);
	assert_string_equal(f->fs.execs[0].command, payload);
	free(payload);
	cmdbus_msg_fini(&m);
}

static void
test_republish_sends_same_bytes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	assert_int_equal(f->bus.n, 1);
	char *first = strdup(f->bus.msgs[0].payload);
	char *stored = strdup(f->fs.execs[0].command);

	clock_fake_advance(&f->clk, 60000);
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 2);
	assert_string_equal(f->bus.msgs[1].payload, first);
	assert_string_equal(f->fs.execs[0].command, stored);
	/* Only the remaining TTL shrinks. */
	assert_int_equal(f->bus.msgs[1].expiry_s, 3540);

	/* Finished executions are not published again. */
	f->fs.execs[0].state = CMDBUS_STATE_SUCCEEDED;
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 2);
	free(first);
	free(stored);
}

static void
test_puback_marks_published(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f,
				"{\"target\":{\"devices\":[\"dev-1\",\"dev-2\"]"
				",\"allow_unknown\":true},"
				"\"action\":\"ping\"}",
				NULL),
			 0);
	clock_fake_advance(&f->clk, 7);
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_PUBLISHED);
	assert_int_equal(f->fs.execs[0].published_at, T0 + 7);
	/* Refused by the broker: stays QUEUED for the next connect. */
	core_bus_published(&f->core, f->bus.msgs[1].mid, false);
	assert_int_equal(f->fs.execs[1].state, CMDBUS_STATE_QUEUED);
	assert_int_equal(f->fs.execs[1].published_at, 0);
	/* A second or unknown PUBACK changes nothing. */
	unsigned changes = f->fs.exec_changes;
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	core_bus_published(&f->core, 4242, true);
	assert_int_equal(f->fs.exec_changes, changes);
}

static void
test_puback_after_report_changes_nothing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	f->fs.execs[0].state = CMDBUS_STATE_RUNNING;
	core_bus_published(&f->core, f->bus.msgs[0].mid, true);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_RUNNING);
}

static void
test_first_payload_stored_with_the_job(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	/* One commit: the job's, with the payload in it, before the
	 * publish (the re-publish test checks the bytes are the same). */
	assert_int_equal(f->fs.set_commands_calls, 0);
	assert_non_null(f->fs.execs[0].command);
	assert_non_null(strstr(f->fs.execs[0].command, f->fs.execs[0].id));
	assert_int_equal(strlen(f->fs.execs[0].cmd_sha256), 64);
	assert_int_equal(f->fs.execs[0].iat, T0);
	assert_int_equal(f->bus.n, 1);
}

/* What the core told its observer. */
struct told {
	char job[CMDBUS_ID_BUF];
	bool exec;
	enum cmdbus_state state;
	unsigned n;
};

static void
on_told(void *ud, const char *exec_id, const char *job_id,
	enum cmdbus_state state)
{
	struct told *t = ud;
	t->n++;
	t->exec = exec_id != NULL;
	snprintf(t->job, sizeof t->job, "%s", job_id ? job_id : "");
	t->state = state;
}

static int
submit_grouped(struct fx *f, const char *body, char id[CMDBUS_ID_BUF])
{
	struct cmdbus_job_request req;
	struct cmdbus_diag d;
	bool existed = false;

	int rc = cmdbus_job_request_decode(body, strlen(body), &req, &d);
	if (rc == 0)
		rc = jobs_submit_grouped(&f->core, &req, id, &existed, &d);
	cmdbus_job_request_fini(&req);
	return rc;
}

static void
test_grouped_jobs_one_commit_then_publish(void **state)
{
	struct fx *f = *state;
	struct told t = {.n = 0};
	char a[CMDBUS_ID_BUF], b[CMDBUS_ID_BUF];
	const char *body =
	    "{\"target\":{\"devices\":[\"dev-1\"]},\"action\":\"ping\"}";

	f->fs.group_commit = true;
	core_set_observer(&f->core, on_told, &t);
	assert_int_equal(submit_grouped(f, body, a), 0);
	assert_int_equal(submit_grouped(f, body, b), 0);
	/* Stored with their payloads, but nothing goes out and nobody is
	 * told before the pass's commit. */
	assert_true(window_job_pending(&f->core, a));
	assert_true(window_job_pending(&f->core, b));
	assert_int_equal(f->fs.njobs, 2);
	assert_non_null(f->fs.execs[0].command);
	assert_int_equal(f->bus.n, 0);
	assert_int_equal(t.n, 0);

	core_flush(&f->core);
	assert_int_equal(f->fs.batch_ends, 1);
	assert_int_equal(f->bus.n, 2);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.job, b);
	assert_false(t.exec);
	assert_int_equal(t.state, CMDBUS_STATE_QUEUED);
	assert_false(window_job_pending(&f->core, a));
	assert_false(window_job_pending(&f->core, b));
	assert_int_equal(window_job_failed(&f->core, a), 0);
}

/* With group commit on and the observer on t: one job to dev-1, id a. */
static void
grouped_one(struct fx *f, struct told *t, char a[CMDBUS_ID_BUF])
{
	f->fs.group_commit = true;
	core_set_observer(&f->core, on_told, t);
	assert_int_equal(submit_grouped(f,
					"{\"target\":{\"devices\":[\"dev-1\"]},"
					"\"action\":\"ping\"}",
					a),
			 0);
}

static void
test_grouped_job_commit_failure_sends_nothing(void **state)
{
	struct fx *f = *state;
	struct told t = {.n = 0};
	char a[CMDBUS_ID_BUF];

	grouped_one(f, &t, a);
	f->fs.fail_batch_end = -ERR_UNAVAILABLE;
	core_flush(&f->core);
	/* Its creator is told (and finds no job); nothing was published. */
	assert_int_equal(f->fs.njobs, 0);
	assert_int_equal(f->bus.n, 0);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.job, a);
	assert_false(window_job_pending(&f->core, a));
	/* Its creator answers with the store's error. */
	assert_int_equal(window_job_failed(&f->core, a), -ERR_UNAVAILABLE);
}

static void
test_grouped_job_committed_before_a_failed_end_goes_out(void **state)
{
	struct fx *f = *state;
	struct told t = {.n = 0};
	char a[CMDBUS_ID_BUF];

	grouped_one(f, &t, a);
	/* A write of its own committed the batch with the job in it; what
	 * the batch took afterwards then failed to commit. */
	f->fs.batch_jobs = false;
	f->fs.fail_batch_end = -ERR_UNAVAILABLE;
	core_flush(&f->core);
	assert_int_equal(f->fs.njobs, 1);
	assert_int_equal(f->bus.n, 1);
	assert_int_equal(window_job_failed(&f->core, a), 0);
	assert_int_equal(t.n, 1);
}

static void
test_command_store_failure_sends_nothing(void **state)
{
	struct fx *f = *state;

	/* Created while the broker is away: no payload yet. */
	f->bus.connected = false;
	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	assert_null(f->fs.execs[0].command);
	f->bus.connected = true;
	f->fs.fail_set_commands = -ERR_UNAVAILABLE;
	core_bus_connected(&f->core);
	/* The job exists (committed), but no payload went out that a
	 * re-publish could not repeat. */
	assert_int_equal(f->fs.njobs, 1);
	assert_int_equal(f->bus.n, 0);
	assert_null(f->fs.execs[0].command);
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 1);
	assert_non_null(f->fs.execs[0].command);
}

static void
test_never_sent_past_exp_is_expired(void **state)
{
	struct fx *f = *state;

	f->bus.connected = false;
	assert_int_equal(
	    create(
		f,
		"{\"target\":{\"devices\":[\"dev-1\"],\"allow_unknown\":true},"
		"\"action\":\"ping\",\"ttl_ms\":1000}",
		NULL),
	    0);
	clock_fake_advance(&f->clk, 1000);
	f->bus.connected = true;
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 0);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_EXPIRED);
	assert_string_equal(f->fs.execs[0].error_code, "expired");
	assert_int_equal(f->fs.execs[0].published_at, 0);
	assert_int_equal(f->fs.jobs[0].state, CMDBUS_JOB_COMPLETED);
	assert_int_equal(f->fs.jobs[0].finished_at, T0 + 1000);
	assert_int_equal(f->core.stats.expired, 1);
}

static void
test_publish_error_counted(void **state)
{
	struct fx *f = *state;

	f->bus.fail = -EIO;
	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	assert_int_equal(f->core.stats.publish_errors, 1);
	assert_int_equal(f->fs.execs[0].state, CMDBUS_STATE_QUEUED);
	f->bus.fail = 0;
	core_bus_connected(&f->core);
	assert_int_equal(f->bus.n, 1);
}

static void
test_signed_commands_verify(void **state)
{
	size_t len = 0;
	struct cmdbus_key *priv = NULL, *pub = NULL;
	struct cmdbus_msg m;
	char *pem;

	(void)state;
	pem = test_vector_read("keys/test-2026a.key.pem", &len);
	assert_int_equal(cmdbus_key_from_pem(pem, len, "test-2026a", &priv), 0);
	free(pem);
	pem = test_vector_read("keys/test-2026a.pub.pem", &len);
	assert_int_equal(cmdbus_key_from_pem(pem, len, "test-2026a", &pub), 0);
	free(pem);

	struct fx *f = fx_new(7 * DAY, priv);
	assert_int_equal(create(f, PING_DEV1, NULL), 0);
	assert_non_null(strstr(f->bus.msgs[0].payload,
			       "\"alg\":\"ed25519\",\"kid\":\"test-2026a\""));
	free(decode_cmd(&f->bus.msgs[0], &m, pub));
	cmdbus_msg_fini(&m);
	/* Deterministic signature: a re-publish is the same bytes. */
	core_bus_connected(&f->core);
	assert_string_equal(f->bus.msgs[1].payload, f->bus.msgs[0].payload);
	cmdbus_key_free(pub);
	void *p = f;
	teardown(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_devices_publishes_each,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_expiry_rounds_up_and_is_never_zero, setup, teardown),
	    cmocka_unit_test(test_ttl_capped_at_session_expiry),
	    cmocka_unit_test_setup_teardown(test_targets_by_labels_and_all,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_empty_target_is_400_naming_target, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_body_names_field,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idempotency_key_stored, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_store_failure_creates_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_bus_down_then_connect_publishes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_republish_sends_same_bytes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_puback_marks_published, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_puback_after_report_changes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_first_payload_stored_with_the_job, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_grouped_jobs_one_commit_then_publish, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_grouped_job_commit_failure_sends_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_grouped_job_committed_before_a_failed_end_goes_out, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(
		test_command_store_failure_sends_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_sent_past_exp_is_expired,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_publish_error_counted, setup,
					    teardown),
	    cmocka_unit_test(test_signed_commands_verify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
