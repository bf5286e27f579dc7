/* SPDX-License-Identifier: MIT */
/* The store's REST queries against SQLite in memory: pages of jobs and
 * of a device's executions (newest first, filters, keyset cursor),
 * per-state counts, idempotency keys (unique, with the request's hash)
 * and the cancel mark that ends a job CANCELED. */
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
#include "store.h"

struct fx {
	struct store *s;
	struct store_port p;
};

static void
quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256] = "";

	log_set_sink(quiet, NULL);
	assert_int_equal(store_open(":memory:", &f->s, err, sizeof err), 0);
	store_port(f->s, &f->p);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

/* Job "J0000000n" at time n with one execution "E0000000n" per device;
 * ids sort like their times, as ULIDs do. */
static void
job(struct fx *f, unsigned n, const char *action, const char *key,
    const char *const *devices, size_t ndev)
{
	static char args[] = "{}";
	struct job_rec j;
	struct exec_rec e[4];

	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "J%08u", n);
	snprintf(j.action, sizeof j.action, "%s", action);
	j.args_json = args; /* borrowed: never freed here */
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = n;
	j.timeout_ms = 1000;
	j.ttl_ms = 60000;
	if (key) {
		snprintf(j.idempotency_key, sizeof j.idempotency_key, "%s",
			 key);
		memset(j.request_sha256, 'a', CMDBUS_SHA256_HEX);
	}
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < ndev; i++) {
		snprintf(e[i].id, sizeof e[i].id, "E%08u%zu", n, i);
		snprintf(e[i].device, sizeof e[i].device, "%s", devices[i]);
		e[i].state = CMDBUS_STATE_QUEUED;
		e[i].created_at = e[i].updated_at = n;
		e[i].exp_at = n + 60000;
	}
	assert_int_equal(f->p.job_create(f->p.ud, &j, e, ndev), 0);
}

static void
test_job_pages(void **state)
{
	struct fx *f = *state;
	static const char *const d1[] = {"dev-1"};
	struct job_list l = {0};
	struct list_query q = {.limit = 2};

	for (unsigned n = 1; n <= 5; n++)
		job(f, n, n == 3 ? "info" : "ping", NULL, d1, 1);
	assert_int_equal(f->p.job_list(f->p.ud, &q, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "J00000005");
	assert_string_equal(l.v[1].id, "J00000004");
	job_list_fini(&l);
	q.cursor = "J00000004";
	assert_int_equal(f->p.job_list(f->p.ud, &q, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "J00000003");
	job_list_fini(&l);
	q.cursor = "J00000002";
	assert_int_equal(f->p.job_list(f->p.ud, &q, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "J00000001");
	job_list_fini(&l);

	struct list_query qa = {.limit = 10, .action = "info"};
	assert_int_equal(f->p.job_list(f->p.ud, &qa, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "J00000003");
	job_list_fini(&l);
	struct list_query qt = {
	    .limit = 10, .since = 2, .until = 4, .has_until = true};
	assert_int_equal(f->p.job_list(f->p.ud, &qt, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].id, "J00000004");
	assert_string_equal(l.v[2].id, "J00000002");
	job_list_fini(&l);
	static const char *const d2[] = {"dev-2"};
	job(f, 6, "ping", NULL, d2, 1);
	struct list_query qd = {.limit = 10, .device = "dev-2"};
	assert_int_equal(f->p.job_list(f->p.ud, &qd, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "J00000006");
	job_list_fini(&l);
	struct list_query qs = {.limit = 10, .state = "COMPLETED"};
	assert_int_equal(f->p.job_list(f->p.ud, &qs, &l), 0);
	assert_int_equal(l.n, 0);
	job_list_fini(&l);
}

static void
test_exec_pages_and_counts(void **state)
{
	struct fx *f = *state;
	static const char *const two[] = {"dev-1", "dev-2"};
	struct exec_list l = {0};
	uint64_t counts[CMDBUS_STATE_COUNT];

	job(f, 1, "ping", NULL, two, 2);
	job(f, 2, "info", NULL, two, 2);
	job(f, 3, "ping", NULL, two, 1);
	struct exec_change chg = {.id = "E000000010",
				  .from = CMDBUS_STATE_QUEUED,
				  .to = CMDBUS_STATE_SUCCEEDED,
				  .at = 9};
	assert_int_equal(f->p.exec_change(f->p.ud, &chg), 0);

	struct list_query q = {.device = "dev-1", .limit = 2};
	assert_int_equal(f->p.exec_list(f->p.ud, &q, &l), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, "E000000030");
	assert_string_equal(l.v[1].id, "E000000020");
	assert_string_equal(l.v[1].action, "info");
	exec_list_fini(&l);
	q.cursor = "E000000020";
	assert_int_equal(f->p.exec_list(f->p.ud, &q, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "E000000010");
	exec_list_fini(&l);
	struct list_query qs = {
	    .device = "dev-1", .limit = 9, .state = "SUCCEEDED"};
	assert_int_equal(f->p.exec_list(f->p.ud, &qs, &l), 0);
	assert_int_equal(l.n, 1);
	exec_list_fini(&l);
	struct list_query qa = {
	    .device = "dev-2", .limit = 9, .action = "ping"};
	assert_int_equal(f->p.exec_list(f->p.ud, &qa, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "E000000011");
	exec_list_fini(&l);

	assert_int_equal(f->p.job_counts(f->p.ud, "J00000001", counts), 0);
	assert_int_equal(counts[CMDBUS_STATE_SUCCEEDED], 1);
	assert_int_equal(counts[CMDBUS_STATE_QUEUED], 1);
	assert_int_equal(counts[CMDBUS_STATE_RUNNING], 0);
}

static void
test_idempotency_keys(void **state)
{
	struct fx *f = *state;
	static const char *const d1[] = {"dev-1"};
	struct job_rec j;
	struct job_rec dup;

	job(f, 1, "ping", "key-a", d1, 1);
	assert_int_equal(f->p.job_by_key(f->p.ud, "key-a", &j), 0);
	assert_string_equal(j.id, "J00000001");
	assert_int_equal(strlen(j.request_sha256), CMDBUS_SHA256_HEX);
	job_rec_fini(&j);
	assert_int_equal(f->p.job_by_key(f->p.ud, "key-b", &j), -ERR_NOT_FOUND);
	/* The key is unique, whatever the caller checked. */
	memset(&dup, 0, sizeof dup);
	snprintf(dup.id, sizeof dup.id, "J00000002");
	snprintf(dup.action, sizeof dup.action, "ping");
	snprintf(dup.idempotency_key, sizeof dup.idempotency_key, "key-a");
	dup.timeout_ms = dup.ttl_ms = 1000;
	assert_int_equal(f->p.job_create(f->p.ud, &dup, NULL, 0),
			 -ERR_CONFLICT);
	/* Jobs without a key are many. */
	job(f, 3, "ping", NULL, d1, 1);
	job(f, 4, "ping", NULL, d1, 1);
}

static void
test_cancel_mark(void **state)
{
	struct fx *f = *state;
	static const char *const two[] = {"dev-1", "dev-2"};
	struct job_rec j;

	job(f, 1, "ping", NULL, two, 2);
	assert_int_equal(f->p.job_cancel(f->p.ud, "J00000001", 5), 0);
	assert_int_equal(f->p.job_get(f->p.ud, "J00000001", &j), 0);
	assert_int_equal(j.canceled_at, 5);
	assert_int_equal(j.state, CMDBUS_JOB_RUNNING);
	job_rec_fini(&j);
	for (int i = 0; i < 2; i++) {
		struct exec_change chg = {.id = i ? "E000000011" : "E000000010",
					  .from = CMDBUS_STATE_QUEUED,
					  .to = CMDBUS_STATE_CANCELED,
					  .at = 6,
					  .complete_job = true};
		assert_int_equal(f->p.exec_change(f->p.ud, &chg), 0);
	}
	assert_int_equal(f->p.job_get(f->p.ud, "J00000001", &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_CANCELED);
	assert_int_equal(j.finished_at, 6);
	job_rec_fini(&j);

	/* A job with nothing left unfinished ends at the mark. */
	job(f, 2, "ping", NULL, two, 1);
	struct exec_change done = {.id = "E000000020",
				   .from = CMDBUS_STATE_QUEUED,
				   .to = CMDBUS_STATE_FAILED,
				   .at = 7};
	assert_int_equal(f->p.exec_change(f->p.ud, &done), 0);
	assert_int_equal(f->p.job_cancel(f->p.ud, "J00000002", 8), 0);
	assert_int_equal(f->p.job_get(f->p.ud, "J00000002", &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_CANCELED);
	job_rec_fini(&j);
	/* Without the mark a job completes. */
	job(f, 3, "ping", NULL, two, 1);
	struct exec_change fin = {.id = "E000000030",
				  .from = CMDBUS_STATE_QUEUED,
				  .to = CMDBUS_STATE_SUCCEEDED,
				  .at = 9,
				  .complete_job = true};
	assert_int_equal(f->p.exec_change(f->p.ud, &fin), 0);
	assert_int_equal(f->p.job_get(f->p.ud, "J00000003", &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_COMPLETED);
	job_rec_fini(&j);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_job_pages),
	    T(test_exec_pages_and_counts),
	    T(test_idempotency_keys),
	    T(test_cancel_mark),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
