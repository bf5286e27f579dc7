/* SPDX-License-Identifier: MIT */
/* What targeting and rollouts ask of the database: the registry's ids,
 * presence and labels for resolving a selector, and per job the counts a
 * rollout decides on, its next held executions, their release, the abort
 * mark and the job's end. The counts probe executions_job_held, so each
 * decision reads the job's unfinished and failed rows, not all of them. */
#include "store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static int
brief_row(sqlite3_stmt *st, void *out)
{
	struct device_rec *d = out;
	int rc = 0;

	memset(d, 0, sizeof *d);
	store_col_copy(st, 0, d->id, sizeof d->id);
	d->online = sqlite3_column_int(st, 1) != 0;
	d->labels_json = store_col_dup(st, 2, &rc);
	return rc;
}

int
store_devices_brief(void *ud, struct device_list *out)
{
	struct store *s = ud;
	void *v = NULL;
	int rc = store_rows(s, store_stmt(s, S_DEVICES_BRIEF), "devices_brief",
			    sizeof *out->v, brief_row, &v, &out->n);

	out->v = v;
	if (rc < 0)
		device_list_fini(out);
	return rc;
}

/* Runs a bound statement that answers one row of at most two counts. */
static int
count_row(struct store *s, enum stmt_id id, const char *op, uint64_t *a,
	  uint64_t *b)
{
	sqlite3_stmt *st = s->st[id];
	int src = sqlite3_step(st);
	int rc = 0;

	if (src == SQLITE_ROW) {
		*a = store_col_u64(st, 0);
		if (b)
			*b = store_col_u64(st, 1);
	} else {
		rc = store_fail(s, op, src);
	}
	sqlite3_reset(st);
	return rc;
}

int
store_rollout_counts(void *ud, const char *job, uint64_t canary,
		     bool offline_fails, struct rollout_counts *out)
{
	struct store *s = ud;
	sqlite3_stmt *st;
	int rc;

	memset(out, 0, sizeof *out);
	st = store_stmt(s, S_RO_RELEASED);
	store_bind_text(st, 1, job);
	rc = count_row(s, S_RO_RELEASED, "rollout_released", &out->released,
		       &out->in_progress);
	if (rc == 0) {
		st = store_stmt(s, S_RO_WAITING);
		store_bind_text(st, 1, job);
		rc = count_row(s, S_RO_WAITING, "rollout_waiting",
			       &out->waiting, NULL);
	}
	if (rc == 0) {
		st = store_stmt(s, S_RO_FAILURES);
		store_bind_text(st, 1, job);
		sqlite3_bind_int(st, 2, offline_fails ? 1 : 0);
		rc = count_row(s, S_RO_FAILURES, "rollout_failures",
			       &out->failures, NULL);
	}
	if (rc == 0 && canary > 0) {
		st = store_stmt(s, S_RO_CANARY);
		store_bind_text(st, 1, job);
		store_bind_u64(st, 2, canary);
		rc = count_row(s, S_RO_CANARY, "rollout_canary",
			       &out->canary_ended, &out->canary_ok);
	}
	return rc;
}

int
store_rollout_next(void *ud, const char *job, size_t limit, bool online_only,
		   struct exec_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_RO_NEXT);

	store_bind_text(st, 1, job);
	store_bind_u64(st, 2, limit);
	sqlite3_bind_int(st, 3, online_only ? 1 : 0);
	return store_exec_rows(s, st, "rollout_next", out);
}

int
store_exec_release(void *ud, const struct exec_rec *execs, size_t n,
		   uint64_t first_seq)
{
	struct store *s = ud;
	/* A release lost to a power cut is decided again at start: the
	 * executions are still held then, and nothing was published, since
	 * a command's payload is stored with a durable commit that commits
	 * this one first. */
	int rc = store_tx_join(s, SYNC_NORMAL);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_stmt *st = store_stmt(s, S_RO_RELEASE);
		store_bind_text(st, 1, execs[i].id);
		store_bind_u64(st, 2, first_seq + i);
		rc = store_run(s, S_RO_RELEASE, "exec_release");
		if (rc == 0 && sqlite3_changes(s->db) != 1)
			rc = -ERR_CONFLICT; /* no longer held and QUEUED */
	}
	return store_tx_leave(s, rc);
}

int
store_job_abort(void *ud, const char *job, uint64_t at, const char *reason)
{
	struct store *s = ud;
	int rc = store_tx_begin(s, SYNC_FULL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_JOB_ABORT);
	store_bind_text(st, 1, job);
	store_bind_u64(st, 2, at);
	store_bind_text(st, 3, reason);
	rc = store_run(s, S_JOB_ABORT, "job_abort");
	if (rc == 0 && sqlite3_changes(s->db) != 1)
		rc = -ERR_CONFLICT;
	return store_tx_end(s, rc);
}

int
store_job_finish(void *ud, const char *job, uint64_t at, bool *ended)
{
	struct store *s = ud;
	*ended = false;
	int rc = store_tx_join(s, SYNC_FULL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_JOB_FINISH);
	store_bind_text(st, 1, job);
	store_bind_u64(st, 2, at);
	rc = store_run(s, S_JOB_FINISH, "job_finish");
	if (rc == 0)
		*ended = sqlite3_changes(s->db) == 1;
	return store_tx_leave(s, rc);
}

int
store_rollout_jobs(void *ud, struct name_list *out)
{
	struct store *s = ud;
	void *v = NULL;
	int rc = store_rows(s, store_stmt(s, S_RO_JOBS), "rollout_jobs",
			    sizeof *out->v, store_name_row, &v, &out->n);

	out->v = v;
	if (rc < 0)
		name_list_fini(out);
	return rc;
}
