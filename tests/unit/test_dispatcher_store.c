/* SPDX-License-Identifier: MIT */
/* The SQLite store against real databases (a temp file, or :memory:):
 * migration from empty, round trips of every record, compare-and-set
 * that never leaves a terminal state, job completion in the same
 * transaction, label matching, data kept across a reopen, and an older
 * database migrated. SQLite is reached directly only to make a database
 * as an older release left it and to ask how the new schema is used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/err.h"
#include "common/log.h"
#include "store.h"
#include "test_store_tmp.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
	struct store_port p;
};

static void
open_store(struct fx *f)
{
	char err[256] = "";
	int rc = store_open(f->path, &f->s, err, sizeof err);
	if (rc != 0)
		fail_msg("store_open: %s", err);
	store_port(f->s, &f->p);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	log_set_sink(store_tmp_quiet, NULL);
	store_tmp_make("store", f->dir, sizeof f->dir, f->path, sizeof f->path);
	open_store(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	store_tmp_remove(f->dir);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

static void
make_job(struct fx *f, const char *job, size_t n, const char *const *ids,
	 const char *const *devices)
{
	struct job_rec j;
	struct exec_rec e[4];

	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "%s", job);
	snprintf(j.action, sizeof j.action, "exec");
	j.args_json = strdup("{\"argv\":[\"uname\",\"-a\"]}");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = 1000;
	j.timeout_ms = 30000;
	j.ttl_ms = 60000;
	j.stream = true;
	/* Keys are unique: one per job. */
	snprintf(j.idempotency_key, sizeof j.idempotency_key, "key-%s", job);
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < n; i++) {
		snprintf(e[i].id, sizeof e[i].id, "%s", ids[i]);
		snprintf(e[i].device, sizeof e[i].device, "%s", devices[i]);
		e[i].state = CMDBUS_STATE_QUEUED;
		e[i].created_at = e[i].updated_at = 1000;
		e[i].exp_at = 61000;
	}
	assert_int_equal(f->p.job_create(f->p.ud, &j, e, n), 0);
	job_rec_fini(&j);
}

#define JOB "01JOB0000000000000000000AA"
#define EX1 "01EXE0000000000000000000A1"
#define EX2 "01EXE0000000000000000000A2"

static void
two_execs(struct fx *f)
{
	static const char *const ids[] = {EX1, EX2};
	static const char *const devs[] = {"dev-1", "dev-2"};
	make_job(f, JOB, 2, ids, devs);
}

static void
test_migration_from_empty(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char wal[160];

	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(f->p.check(f->p.ud), 0);
	/* WAL: the -wal file exists beside the database after a write. */
	two_execs(f);
	snprintf(wal, sizeof wal, "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
}

static void
test_memory_database(void **state)
{
	struct store *s = NULL;
	struct store_port p;
	struct exec_list l = {0};
	char err[256];

	(void)state;
	log_set_sink(store_tmp_quiet, NULL);
	assert_int_equal(store_open(":memory:", &s, err, sizeof err), 0);
	store_port(s, &p);
	assert_int_equal(store_schema_version(s), STORE_SCHEMA_VERSION);
	assert_int_equal(p.exec_unfinished(p.ud, &l), 0);
	assert_int_equal(l.n, 0);
	store_close(s);
	log_set_sink(NULL, NULL);
}

static void
test_job_round_trip(void **state)
{
	struct fx *f = *state;
	struct job_rec j;
	struct exec_list l = {0};

	two_execs(f);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_string_equal(j.id, JOB);
	assert_string_equal(j.action, "exec");
	assert_string_equal(j.args_json, "{\"argv\":[\"uname\",\"-a\"]}");
	assert_int_equal(j.state, CMDBUS_JOB_RUNNING);
	assert_int_equal(j.created_at, 1000);
	assert_int_equal(j.finished_at, 0);
	assert_int_equal(j.timeout_ms, 30000);
	assert_int_equal(j.ttl_ms, 60000);
	assert_true(j.stream);
	assert_string_equal(j.idempotency_key, "key-" JOB);
	job_rec_fini(&j);

	assert_int_equal(f->p.job_executions(f->p.ud, JOB, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, EX1);
	assert_string_equal(l.v[0].job, JOB);
	assert_string_equal(l.v[0].device, "dev-1");
	assert_string_equal(l.v[0].action, "exec");
	assert_int_equal(l.v[0].state, CMDBUS_STATE_QUEUED);
	assert_int_equal(l.v[0].exp_at, 61000);
	assert_null(l.v[0].command);
	assert_null(l.v[0].result);
	assert_string_equal(l.v[0].cmd_sha256, "");
	assert_string_equal(l.v[1].id, EX2);
	exec_list_fini(&l);

	assert_int_equal(
	    f->p.job_get(f->p.ud, "01NOPE00000000000000000000", &j),
	    -ERR_NOT_FOUND);
	struct exec_rec e;
	assert_int_equal(
	    f->p.exec_get(f->p.ud, "01NOPE00000000000000000000", &e),
	    -ERR_NOT_FOUND);
	/* The same job id twice is refused, and nothing of it is kept. */
	static const char *const ids[] = {"01EXE0000000000000000000A9"};
	static const char *const devs[] = {"dev-9"};
	struct job_rec j2;
	memset(&j2, 0, sizeof j2);
	snprintf(j2.id, sizeof j2.id, JOB);
	snprintf(j2.action, sizeof j2.action, "ping");
	struct exec_rec e2;
	memset(&e2, 0, sizeof e2);
	snprintf(e2.id, sizeof e2.id, "%s", ids[0]);
	snprintf(e2.device, sizeof e2.device, "%s", devs[0]);
	assert_int_equal(f->p.job_create(f->p.ud, &j2, &e2, 1), -ERR_CONFLICT);
	assert_int_equal(f->p.exec_get(f->p.ud, ids[0], &e), -ERR_NOT_FOUND);
}

static void
test_commands_stored_once(void **state)
{
	struct fx *f = *state;
	struct exec_rec e;
	struct exec_command c[2] = {
	    {.id = EX1, .payload = "{\"a\":1}", .sha256 = "aa", .iat = 5},
	    {.id = EX2, .payload = "{\"b\":2}", .sha256 = "bb", .iat = 5},
	};

	two_execs(f);
	assert_int_equal(f->p.exec_set_commands(f->p.ud, c, 1), 0);
	/* All or none: EX1 already has one, so EX2 is not set either. */
	assert_int_equal(f->p.exec_set_commands(f->p.ud, c, 2), -ERR_CONFLICT);
	assert_int_equal(f->p.exec_get(f->p.ud, EX2, &e), 0);
	assert_null(e.command);
	exec_rec_fini(&e);
	assert_int_equal(f->p.exec_set_commands(f->p.ud, &c[1], 1), 0);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_string_equal(e.command, "{\"a\":1}");
	assert_string_equal(e.cmd_sha256, "aa");
	exec_rec_fini(&e);
}

static void
test_cas_and_terminal(void **state)
{
	struct fx *f = *state;
	struct exec_rec e;
	struct job_rec j;

	two_execs(f);
	struct exec_change chg = {.id = EX1,
				  .from = CMDBUS_STATE_PUBLISHED,
				  .to = CMDBUS_STATE_RUNNING,
				  .at = 2000,
				  .published = true};
	/* Wrong expected state. */
	assert_int_equal(f->p.exec_change(f->p.ud, &chg), -ERR_CONFLICT);
	chg.from = CMDBUS_STATE_QUEUED;
	chg.boot_id = "BOOT0000001";
	assert_int_equal(f->p.exec_change(f->p.ud, &chg), 0);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_int_equal(e.state, CMDBUS_STATE_RUNNING);
	assert_int_equal(e.updated_at, 2000);
	assert_int_equal(e.published_at, 2000);
	assert_int_equal(e.finished_at, 0);
	assert_string_equal(e.boot_id, "BOOT0000001");
	exec_rec_fini(&e);

	struct exec_change fin = {.id = EX1,
				  .from = CMDBUS_STATE_RUNNING,
				  .to = CMDBUS_STATE_FAILED,
				  .at = 3000,
				  .published = true,
				  .result = "{\"type\":\"result\"}",
				  .error_code = "spawn_failed",
				  .error_message = "not found",
				  .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &fin), 0);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_int_equal(e.state, CMDBUS_STATE_FAILED);
	assert_int_equal(e.finished_at, 3000);
	assert_int_equal(e.published_at, 2000); /* kept */
	assert_string_equal(e.result, "{\"type\":\"result\"}");
	assert_string_equal(e.error_code, "spawn_failed");
	assert_string_equal(e.error_message, "not found");
	exec_rec_fini(&e);
	/* EX2 is unfinished: the job runs on. */
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_RUNNING);
	job_rec_fini(&j);

	/* Out of a terminal state: refused, even when `from` is right. */
	struct exec_change back = {.id = EX1,
				   .from = CMDBUS_STATE_FAILED,
				   .to = CMDBUS_STATE_SUCCEEDED,
				   .at = 4000};
	assert_int_equal(f->p.exec_change(f->p.ud, &back), -ERR_CONFLICT);
	back.to = CMDBUS_STATE_RUNNING;
	assert_int_equal(f->p.exec_change(f->p.ud, &back), -ERR_CONFLICT);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_int_equal(e.state, CMDBUS_STATE_FAILED);
	assert_int_equal(e.updated_at, 3000);
	exec_rec_fini(&e);

	struct exec_change missing = {.id = "01NOPE00000000000000000000",
				      .from = CMDBUS_STATE_QUEUED,
				      .to = CMDBUS_STATE_PUBLISHED};
	assert_int_equal(f->p.exec_change(f->p.ud, &missing), -ERR_NOT_FOUND);

	/* The last one finishing completes the job, in the same step. */
	struct exec_change exp = {.id = EX2,
				  .from = CMDBUS_STATE_QUEUED,
				  .to = CMDBUS_STATE_EXPIRED,
				  .at = 5000,
				  .error_code = "expired",
				  .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &exp), 0);
	assert_int_equal(f->p.exec_get(f->p.ud, EX2, &e), 0);
	assert_int_equal(e.published_at, 0); /* never sent */
	exec_rec_fini(&e);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_COMPLETED);
	assert_int_equal(j.finished_at, 5000);
	job_rec_fini(&j);

	assert_int_equal(f->p.exec_late_result(f->p.ud, EX1, 6000), 0);
	assert_int_equal(f->p.exec_late_result(f->p.ud, EX1, 6000), 0);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_int_equal(e.late_results, 2);
	assert_int_equal(e.state, CMDBUS_STATE_FAILED);
	exec_rec_fini(&e);
}

static void
test_unfinished_list(void **state)
{
	struct fx *f = *state;
	struct exec_list l = {0};
	static const char *const ids[] = {"01EXE0000000000000000000B1"};
	static const char *const devs[] = {"dev-3"};

	two_execs(f);
	make_job(f, "01JOB0000000000000000000BB", 1, ids, devs);
	struct exec_change fin = {.id = EX1,
				  .from = CMDBUS_STATE_QUEUED,
				  .to = CMDBUS_STATE_SUCCEEDED,
				  .at = 3000};
	assert_int_equal(f->p.exec_change(f->p.ud, &fin), 0);
	assert_int_equal(f->p.exec_unfinished(f->p.ud, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, EX2);
	assert_string_equal(l.v[1].id, ids[0]);
	exec_list_fini(&l);
}

static void
put_device(struct fx *f, const char *id, bool online, const char *labels)
{
	struct device_rec d;

	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", id);
	d.online = online;
	snprintf(d.boot_id, sizeof d.boot_id, "BOOT-%s", id);
	snprintf(d.agent, sizeof d.agent, "cmdbus-agent/0.1.0");
	d.last_seen = 77;
	d.status_at = 66;
	d.labels_json = strdup(labels);
	d.actions_json = strdup("[{\"name\":\"ping\"}]");
	d.health_json = online ? strdup("{\"uptime_s\":1}") : NULL;
	d.status = strdup("{\"type\":\"status\"}");
	assert_int_equal(f->p.device_put(f->p.ud, &d), 0);
	device_rec_fini(&d);
}

/* The rollout's queries against real SQLite: counts, the next held
 * executions (online ones only when asked), release numbering, the abort
 * mark, and a rollout job ended by its rollout, not by its last
 * execution. */
static void
test_rollout_queries(void **state)
{
	struct fx *f = *state;
	struct job_rec j;
	struct exec_rec e[3];
	struct rollout_counts k;
	struct exec_list l = {0};
	struct name_list names = {0};
	bool ended = true;
	static const char *const ids[] = {EX1, EX2,
					  "01EXE0000000000000000000A3"};

	put_device(f, "dev-1", false, "{}");
	put_device(f, "dev-2", true, "{}");
	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "%s", JOB);
	snprintf(j.action, sizeof j.action, "ping");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = 1000;
	j.timeout_ms = 30000;
	j.ttl_ms = 60000;
	char targets[] = "{\"matched\":3,\"offline\":[\"dev-1\"],"
			 "\"unknown\":[\"dev-3\"]}";
	char offline_msg[] = "offline at creation";
	j.targets_json = targets;
	j.ro = (struct job_rollout){.batch = 1,
				    .has_max_failures = true,
				    .max_failures = 0,
				    .offline = CMDBUS_OFFLINE_FAIL,
				    .canary = 1};
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < 3; i++) {
		snprintf(e[i].id, sizeof e[i].id, "%s", ids[i]);
		snprintf(e[i].device, sizeof e[i].device, "dev-%zu", i + 1);
		e[i].state = CMDBUS_STATE_QUEUED;
		e[i].created_at = e[i].updated_at = 1000;
		e[i].exp_at = 61000;
		e[i].held = true;
	}
	/* dev-3 was never seen: ended at creation under "fail". */
	e[2].state = CMDBUS_STATE_EXPIRED;
	e[2].finished_at = 1000;
	snprintf(e[2].error_code, sizeof e[2].error_code, "offline");
	e[2].error_message = offline_msg;
	assert_int_equal(f->p.job_create(f->p.ud, &j, e, 3), 0);

	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.ro.batch, 1);
	assert_true(j.ro.has_max_failures);
	assert_int_equal(j.ro.offline, CMDBUS_OFFLINE_FAIL);
	assert_int_equal(j.ro.canary, 1);
	assert_non_null(strstr(j.targets_json, "dev-3"));
	job_rec_fini(&j);
	assert_int_equal(f->p.rollout_jobs(f->p.ud, &names), 0);
	assert_int_equal(names.n, 1);
	name_list_fini(&names);

	assert_int_equal(f->p.rollout_counts(f->p.ud, JOB, 1, true, &k), 0);
	assert_int_equal(k.waiting, 2);
	assert_int_equal(k.released, 0);
	assert_int_equal(k.failures, 1); /* offline counts under "fail" */
	assert_int_equal(f->p.rollout_counts(f->p.ud, JOB, 1, false, &k), 0);
	assert_int_equal(k.failures, 0);

	/* Online only: dev-2; otherwise both, in order. */
	assert_int_equal(f->p.rollout_next(f->p.ud, JOB, 10, true, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, EX2);
	assert_true(l.v[0].held);
	assert_int_equal(f->p.exec_release(f->p.ud, l.v, 1, 1), 0);
	assert_int_equal(f->p.exec_release(f->p.ud, l.v, 1, 1), -ERR_CONFLICT);
	exec_list_fini(&l);
	assert_int_equal(f->p.rollout_next(f->p.ud, JOB, 10, false, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, EX1);
	exec_list_fini(&l);
	/* A held execution never reaches its device's window. */
	assert_int_equal(f->p.exec_device_unfinished(f->p.ud, "dev-1", 10, &l),
			 0);
	assert_int_equal(l.n, 0);
	exec_list_fini(&l);

	struct exec_change ok = {.id = EX2,
				 .from = CMDBUS_STATE_QUEUED,
				 .to = CMDBUS_STATE_SUCCEEDED,
				 .at = 2000,
				 .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &ok), 0);
	assert_int_equal(f->p.rollout_counts(f->p.ud, JOB, 1, false, &k), 0);
	assert_int_equal(k.released, 1);
	assert_int_equal(k.in_progress, 0);
	assert_int_equal(k.canary_ended, 1);
	assert_int_equal(k.canary_ok, 1);

	/* The abort is recorded once; the last execution then ends the
	 * job ABORTED. */
	assert_int_equal(f->p.job_abort(f->p.ud, JOB, 3000, "why"), 0);
	assert_int_equal(f->p.job_abort(f->p.ud, JOB, 3001, "again"),
			 -ERR_CONFLICT);
	assert_int_equal(f->p.job_finish(f->p.ud, JOB, 3000, &ended), 0);
	assert_false(ended); /* EX1 is still QUEUED */
	struct exec_change cancel = {.id = EX1,
				     .from = CMDBUS_STATE_QUEUED,
				     .to = CMDBUS_STATE_CANCELED,
				     .at = 4000,
				     .error_code = "rollout_aborted",
				     .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &cancel), 0);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_ABORTED);
	assert_string_equal(j.abort_reason, "why");
	assert_int_equal(j.finished_at, 4000);
	job_rec_fini(&j);
	assert_int_equal(f->p.rollout_jobs(f->p.ud, &names), 0);
	assert_int_equal(names.n, 0);
	name_list_fini(&names);
}

static void
test_devices(void **state)
{
	struct fx *f = *state;
	struct device_rec d;
	struct device_list l = {0};
	struct name_list n = {0};

	put_device(f, "b-2", true, "{\"site\":\"sz\",\"role\":\"web\"}");
	put_device(f, "a-1", true,
		   "{\"site\":\"sz\",\"role\":\"db\",\"rack.no\":\"4-b\"}");
	put_device(f, "c-3", false, "{\"site\":\"lab\",\"role\":\"web\"}");
	/* Replacing keeps one row. */
	put_device(f, "c-3", true, "{\"site\":\"lab\",\"role\":\"web\"}");

	assert_int_equal(f->p.device_get(f->p.ud, "c-3", &d), 0);
	assert_true(d.online);
	assert_string_equal(d.boot_id, "BOOT-c-3");
	assert_string_equal(d.agent, "cmdbus-agent/0.1.0");
	assert_int_equal(d.last_seen, 77);
	assert_int_equal(d.status_at, 66);
	assert_string_equal(d.labels_json,
			    "{\"site\":\"lab\",\"role\":\"web\"}");
	assert_string_equal(d.actions_json, "[{\"name\":\"ping\"}]");
	assert_string_equal(d.health_json, "{\"uptime_s\":1}");
	assert_string_equal(d.status, "{\"type\":\"status\"}");
	device_rec_fini(&d);
	assert_int_equal(f->p.device_get(f->p.ud, "zz", &d), -ERR_NOT_FOUND);

	assert_int_equal(f->p.device_list(f->p.ud, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].id, "a-1");
	assert_string_equal(l.v[2].id, "c-3");
	device_list_fini(&l);

	assert_int_equal(f->p.devices_match(f->p.ud, NULL, &n), 0);
	assert_int_equal(n.n, 3);
	name_list_fini(&n);
	assert_int_equal(f->p.devices_match(f->p.ud, "{\"role\":\"web\"}", &n),
			 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.v[0], "b-2");
	assert_string_equal(n.v[1], "c-3");
	name_list_fini(&n);
	assert_int_equal(f->p.devices_match(
			     f->p.ud, "{\"role\":\"web\",\"site\":\"sz\"}", &n),
			 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.v[0], "b-2");
	name_list_fini(&n);
	/* Keys with dots and dashes are plain keys, not JSON paths. */
	assert_int_equal(
	    f->p.devices_match(f->p.ud, "{\"rack.no\":\"4-b\"}", &n), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.v[0], "a-1");
	name_list_fini(&n);
	assert_int_equal(f->p.devices_match(f->p.ud, "{\"role\":\"none\"}", &n),
			 0);
	assert_int_equal(n.n, 0);
	name_list_fini(&n);
}

static void
test_reopen_keeps_data(void **state)
{
	struct fx *f = *state;
	struct exec_rec e;
	struct exec_command c = {
	    .id = EX1, .payload = "{\"p\":1}", .sha256 = "cc", .iat = 9};

	two_execs(f);
	assert_int_equal(f->p.exec_set_commands(f->p.ud, &c, 1), 0);
	put_device(f, "dev-1", true, "{}");
	store_close(f->s);
	f->s = NULL;
	open_store(f);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_string_equal(e.command, "{\"p\":1}");
	assert_string_equal(e.device, "dev-1");
	exec_rec_fini(&e);
	struct device_rec d;
	assert_int_equal(f->p.device_get(f->p.ud, "dev-1", &d), 0);
	device_rec_fini(&d);
}

/* Runs SQL on the database file outside the store; fails the test with
 * SQLite's message when it does not run. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	assert_int_equal(
	    sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_close(db);
}

/* The query plan of `sql` on the database file, one detail per line. */
static void
raw_plan(const char *path, const char *sql, char *out, size_t outlen)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char q[512];
	size_t n = 0;

	snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW && n < outlen) {
		const unsigned char *d = sqlite3_column_text(st, 3);
		int k = snprintf(out + n, outlen - n, "%s\n",
				 d ? (const char *)d : "");
		if (k < 0)
			break;
		n += (size_t)k;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The question asked at every execution's end: does its job still have
 * an unfinished execution? (The NOT EXISTS of job completion.) */
#define JOB_UNFINISHED_SQL                                                     \
	"SELECT 1 FROM executions x WHERE x.job = ?1 AND x.state IN"           \
	" ('QUEUED','PUBLISHED','DELIVERED','RUNNING')"

/* The outbox's window refill: a device's next released, unfinished
 * executions (the statement of store.c, without its columns). */
#define DEVICE_OPEN_SQL                                                        \
	"SELECT e.id FROM executions e WHERE e.device = ?1 AND e.state IN"     \
	" ('QUEUED','PUBLISHED','DELIVERED','RUNNING') AND e.held = 0"         \
	" ORDER BY e.created_at, e.id LIMIT ?2"

static void
test_migration_from_v2(void **state)
{
	struct fx *f = *state;
	struct exec_list l;
	struct job_rec j;
	char plan[1024];

	/* A version 2 database with a running job in it: versions 3 to 6
	 * only added executions_job_state, output_chunks, the rollout
	 * columns and indexes and executions_device_open, so dropping them
	 * gives exactly what a version 2 dispatcher left on disk. */
	two_execs(f);
	store_close(f->s);
	f->s = NULL;
	raw_exec(f->path, "DROP INDEX executions_device_open;"
			  "DROP INDEX executions_job_held;"
			  "DROP INDEX jobs_rollout;"
			  "ALTER TABLE jobs DROP COLUMN targets;"
			  "ALTER TABLE jobs DROP COLUMN ro_batch;"
			  "ALTER TABLE jobs DROP COLUMN ro_max_failures;"
			  "ALTER TABLE jobs DROP COLUMN ro_offline;"
			  "ALTER TABLE jobs DROP COLUMN ro_canary;"
			  "ALTER TABLE jobs DROP COLUMN aborted_at;"
			  "ALTER TABLE jobs DROP COLUMN abort_reason;"
			  "ALTER TABLE executions DROP COLUMN held;"
			  "ALTER TABLE executions DROP COLUMN release_seq;"
			  "DROP INDEX executions_job_state;"
			  "DROP TABLE output_chunks;"
			  "PRAGMA user_version=2;");
	raw_plan(f->path, JOB_UNFINISHED_SQL, plan, sizeof plan);
	assert_null(strstr(plan, "executions_job_state"));

	open_store(f);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	/* The completion check now probes (job, state) in the index alone. */
	raw_plan(f->path, JOB_UNFINISHED_SQL, plan, sizeof plan);
	if (!strstr(plan, "COVERING INDEX executions_job_state (job=? AND "
			  "state=?)"))
		fail_msg("plan: %s", plan);
	/* The window refill reads only the device's open executions, in
	 * order, without a sort. */
	raw_plan(f->path, DEVICE_OPEN_SQL, plan, sizeof plan);
	if (!strstr(plan, "INDEX executions_device_open (device=?)") ||
	    strstr(plan, "TEMP B-TREE"))
		fail_msg("plan: %s", plan);

	/* The data came through, and jobs still complete. */
	assert_int_equal(f->p.job_executions(f->p.ud, JOB, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[1].device, "dev-2");
	exec_list_fini(&l);
	struct exec_change done = {.id = EX1,
				   .from = CMDBUS_STATE_QUEUED,
				   .to = CMDBUS_STATE_EXPIRED,
				   .at = 5000,
				   .error_code = "expired",
				   .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &done), 0);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_RUNNING);
	job_rec_fini(&j);
	done.id = EX2;
	assert_int_equal(f->p.exec_change(f->p.ud, &done), 0);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_COMPLETED);
	job_rec_fini(&j);

	/* Reopening a current database migrates nothing more. */
	store_close(f->s);
	f->s = NULL;
	open_store(f);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
}

static void
test_open_failure_reports(void **state)
{
	struct store *s = NULL;
	char err[256] = "";

	(void)state;
	log_set_sink(store_tmp_quiet, NULL);
	assert_true(store_open("/nonexistent-dir/x/d.db", &s, err, sizeof err) <
		    0);
	assert_null(s);
	assert_non_null(strstr(err, "/nonexistent-dir/x/d.db"));
	log_set_sink(NULL, NULL);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_migration_from_empty),
	    cmocka_unit_test(test_memory_database),
	    T(test_job_round_trip),
	    T(test_commands_stored_once),
	    T(test_cas_and_terminal),
	    T(test_unfinished_list),
	    T(test_devices),
	    T(test_reopen_keeps_data),
	    T(test_migration_from_v2),
	    T(test_rollout_queries),
	    cmocka_unit_test(test_open_failure_reports),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
