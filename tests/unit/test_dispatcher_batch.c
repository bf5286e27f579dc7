/* SPDX-License-Identifier: MIT */
/* The SQLite store's group commit and housekeeping against a real
 * database file: writes of a batch are invisible to another connection
 * until its end, a failed write undoes only itself, a write of its own
 * (job creation) commits the open batch first; retention deletes old
 * finished rows in bounded batches; counts and a device's unfinished
 * executions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/log.h"
#include "store.h"
#include "test_store_tmp.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *s, *reader;
	struct store_port p, r;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256] = "";

	log_set_sink(store_tmp_quiet, NULL);
	store_tmp_make("batch", f->dir, sizeof f->dir, f->path, sizeof f->path);
	if (store_open(f->path, &f->s, err, sizeof err) != 0 ||
	    store_open(f->path, &f->reader, err, sizeof err) != 0)
		fail_msg("store_open: %s", err);
	store_port(f->s, &f->p);
	store_port(f->reader, &f->r);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	store_close(f->s);
	store_close(f->reader);
	store_tmp_remove(f->dir);
	free(f);
	log_set_sink(NULL, NULL);
	return 0;
}

/* A job created at `at` with one execution per id, on `device`. */
static void
make_job(struct store_port *p, const char *job, uint64_t at, size_t n,
	 const char *const *ids, const char *device)
{
	struct job_rec j;
	struct exec_rec e[8];

	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "%s", job);
	snprintf(j.action, sizeof j.action, "ping");
	j.args_json = strdup("{}");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = at;
	j.timeout_ms = 1000;
	j.ttl_ms = 60000;
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < n; i++) {
		snprintf(e[i].id, sizeof e[i].id, "%s", ids[i]);
		snprintf(e[i].job, sizeof e[i].job, "%s", job);
		snprintf(e[i].device, sizeof e[i].device, "%s", device);
		e[i].state = CMDBUS_STATE_QUEUED;
		e[i].created_at = e[i].updated_at = at + i;
		e[i].exp_at = at + 60000;
	}
	assert_int_equal(p->job_create(p->ud, &j, e, n), 0);
	job_rec_fini(&j);
}

static enum cmdbus_state
state_of(struct store_port *p, const char *id)
{
	struct exec_rec e;
	assert_int_equal(p->exec_get(p->ud, id, &e), 0);
	enum cmdbus_state s = e.state;
	exec_rec_fini(&e);
	return s;
}

static int
change(struct store_port *p, const char *id, enum cmdbus_state from,
       enum cmdbus_state to, uint64_t at)
{
	struct exec_change c = {.id = id,
				.from = from,
				.to = to,
				.at = at,
				.published = true,
				.complete_job = true};
	return p->exec_change(p->ud, &c);
}

static void
test_batch_commits_once(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {"exec-aaaa1", "exec-aaaa2", "exec-aaaa3"};
	bool committed = false;
	uint64_t us = 0;

	make_job(&f->p, "job-aaaa1", 1000, 3, ids, "dev-1");
	assert_int_equal(f->p.batch(f->p.ud, true), 0);
	assert_int_equal(change(&f->p, ids[0], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_PUBLISHED, 2000),
			 0);
	/* A compare-and-set that misses undoes only itself. */
	assert_int_equal(change(&f->p, ids[1], CMDBUS_STATE_RUNNING,
				CMDBUS_STATE_SUCCEEDED, 2000),
			 -ERR_CONFLICT);
	assert_int_equal(change(&f->p, ids[2], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_FAILED, 2000),
			 0);
	assert_int_equal(f->p.exec_late_result(f->p.ud, ids[2], 2001), 0);
	/* The change is visible to its own connection, not yet to
	 * another. */
	assert_int_equal(state_of(&f->p, ids[0]), CMDBUS_STATE_PUBLISHED);
	assert_int_equal(state_of(&f->r, ids[0]), CMDBUS_STATE_QUEUED);
	/* The health check holds while the batch has the write lock. */
	assert_int_equal(f->p.check(f->p.ud), 0);
	assert_int_equal(f->p.batch(f->p.ud, false), 0);
	assert_int_equal(f->p.batch_end(f->p.ud, &committed, &us), 0);
	assert_true(committed);
	assert_int_equal(state_of(&f->r, ids[0]), CMDBUS_STATE_PUBLISHED);
	assert_int_equal(state_of(&f->r, ids[1]), CMDBUS_STATE_QUEUED);
	assert_int_equal(state_of(&f->r, ids[2]), CMDBUS_STATE_FAILED);
	/* Nothing left: the next end commits nothing. */
	assert_int_equal(f->p.batch_end(f->p.ud, &committed, &us), 0);
	assert_false(committed);
}

/* A write of its own never leaves the batch uncommitted behind it, and
 * a change made while the batch is off is its own transaction. */
static void
test_own_write_flushes_batch(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {"exec-bbbb1"};
	const char *ids2[] = {"exec-bbbb2"};
	bool committed = true;
	uint64_t us = 0;

	make_job(&f->p, "job-bbbb1", 1000, 1, ids, "dev-1");
	assert_int_equal(f->p.batch(f->p.ud, true), 0);
	assert_int_equal(change(&f->p, ids[0], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_PUBLISHED, 2000),
			 0);
	assert_int_equal(f->p.batch(f->p.ud, false), 0);
	assert_int_equal(state_of(&f->r, ids[0]), CMDBUS_STATE_QUEUED);
	make_job(&f->p, "job-bbbb2", 1000, 1, ids2, "dev-1");
	assert_int_equal(state_of(&f->r, ids[0]), CMDBUS_STATE_PUBLISHED);
	assert_int_equal(state_of(&f->r, ids2[0]), CMDBUS_STATE_QUEUED);
	assert_int_equal(change(&f->p, ids2[0], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_PUBLISHED, 2000),
			 0);
	assert_int_equal(state_of(&f->r, ids2[0]), CMDBUS_STATE_PUBLISHED);
	assert_int_equal(f->p.batch_end(f->p.ud, &committed, &us), 0);
	assert_false(committed);
}

static void
test_prune_and_counts(void **state)
{
	struct fx *f = *state;
	const char *old[] = {"exec-old01", "exec-old02", "exec-old03"};
	const char *young[] = {"exec-new01"};
	uint64_t ne = 0, nj = 0;
	struct store_counts sc;

	make_job(&f->p, "job-old001", 1000, 3, old, "dev-1");
	make_job(&f->p, "job-new001", 900000, 1, young, "dev-1");
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(change(&f->p, old[i], CMDBUS_STATE_QUEUED,
					CMDBUS_STATE_SUCCEEDED, 5000),
				 0);
	assert_int_equal(change(&f->p, young[0], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_SUCCEEDED, 900001),
			 0);

	assert_int_equal(f->p.counts(f->p.ud, 0, &sc), 0);
	assert_int_equal(sc.execs[CMDBUS_STATE_SUCCEEDED], 4);
	assert_int_equal(sc.jobs[CMDBUS_JOB_COMPLETED], 2);

	/* Bounded: two per call; the job goes once none is left. */
	assert_int_equal(f->p.prune(f->p.ud, 100000, 2, &ne, &nj), 0);
	assert_int_equal(ne, 2);
	assert_int_equal(nj, 0);
	assert_int_equal(f->p.prune(f->p.ud, 100000, 2, &ne, &nj), 0);
	assert_int_equal(ne, 1);
	assert_int_equal(nj, 1);
	assert_int_equal(f->p.prune(f->p.ud, 100000, 2, &ne, &nj), 0);
	assert_int_equal(ne + nj, 0);
	struct job_rec j;
	assert_int_equal(f->p.job_get(f->p.ud, "job-old001", &j),
			 -ERR_NOT_FOUND);
	assert_int_equal(f->p.job_get(f->p.ud, "job-new001", &j), 0);
	job_rec_fini(&j);
	assert_int_equal(state_of(&f->p, young[0]), CMDBUS_STATE_SUCCEEDED);
}

static void
test_device_unfinished(void **state)
{
	struct fx *f = *state;
	const char *ids[] = {"exec-d0001", "exec-d0002", "exec-d0003",
			     "exec-d0004"};
	const char *other[] = {"exec-e0001"};
	struct exec_list l = {0};
	struct store_counts sc;

	make_job(&f->p, "job-d00001", 1000, 4, ids, "dev-1");
	make_job(&f->p, "job-e00001", 1000, 1, other, "dev-2");
	assert_int_equal(change(&f->p, ids[0], CMDBUS_STATE_QUEUED,
				CMDBUS_STATE_SUCCEEDED, 2000),
			 0);
	struct exec_command cmd = {
	    .id = ids[1], .payload = "{}", .sha256 = "00", .iat = 2000};
	assert_int_equal(f->p.exec_set_commands(f->p.ud, &cmd, 1), 0);
	assert_int_equal(f->p.exec_device_unfinished(f->p.ud, "dev-1", 2, &l),
			 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].id, ids[1]);
	assert_string_equal(l.v[1].id, ids[2]);
	exec_list_fini(&l);
	assert_int_equal(f->p.counts(f->p.ud, 0, &sc), 0);
	assert_int_equal(sc.inflight, 1);
	assert_int_equal(sc.waiting, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_batch_commits_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_own_write_flushes_batch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_and_counts, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_device_unfinished, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
