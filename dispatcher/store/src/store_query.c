/* SPDX-License-Identifier: MIT */
/* The read side of the REST lists and the job-level writes of the REST
 * API: pages of jobs and of one device's executions (newest first, by
 * id, with a keyset cursor), per-state counts, idempotency keys, and the
 * cancel mark of a job. */
#include "store_priv.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/err.h"

/* Binds the time range; an open upper end is the largest time. */
static void
bind_range(sqlite3_stmt *st, int i, const struct list_query *q)
{
	store_bind_u64(st, i, q->since);
	store_bind_u64(st, i + 1,
		       q->has_until ? q->until : (uint64_t)INT64_MAX);
}

int
store_job_list(void *ud, const struct list_query *q, struct job_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_JOB_LIST);
	void *v = NULL;

	memset(out, 0, sizeof *out);
	store_bind_text(st, 1, q->state);
	store_bind_text(st, 2, q->action);
	bind_range(st, 3, q);
	store_bind_text(st, 5, q->cursor);
	store_bind_u64(st, 6, q->limit);
	store_bind_text(st, 7, q->device);
	int rc = store_rows(s, st, "job_list", sizeof *out->v, store_job_row,
			    &v, &out->n);
	out->v = v;
	if (rc < 0)
		job_list_fini(out);
	return rc;
}

int
store_device_executions(void *ud, const struct list_query *q,
			struct exec_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_DEVICE_EXECS);
	void *v = NULL;

	memset(out, 0, sizeof *out);
	store_bind_text(st, 1, q->device ? q->device : "");
	store_bind_text(st, 2, q->state);
	store_bind_text(st, 3, q->action);
	bind_range(st, 4, q);
	store_bind_text(st, 6, q->cursor);
	store_bind_u64(st, 7, q->limit);
	int rc = store_rows(s, st, "device_executions", sizeof *out->v,
			    store_exec_row, &v, &out->n);
	out->v = v;
	if (rc < 0)
		exec_list_fini(out);
	return rc;
}

int
store_job_counts(void *ud, const char *job, uint64_t counts[CMDBUS_STATE_COUNT])
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_JOB_COUNTS);
	int src;

	memset(counts, 0, CMDBUS_STATE_COUNT * sizeof counts[0]);
	store_bind_text(st, 1, job);
	while ((src = sqlite3_step(st)) == SQLITE_ROW)
		counts[store_col_state(st, 0)] += store_col_u64(st, 1);
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_fail(s, "job_counts", src);
	return 0;
}

int
store_job_by_key(void *ud, const char *key, struct job_rec *out)
{
	return store_get(ud, S_JOB_BY_KEY, key, "job_by_key", store_job_row,
			 out, sizeof *out);
}

int
store_job_cancel(void *ud, const char *job, uint64_t at)
{
	struct store *s = ud;
	int rc = store_tx_begin(s, SYNC_FULL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_JOB_CANCEL);
	store_bind_text(st, 1, job);
	store_bind_u64(st, 2, at);
	rc = store_run(s, S_JOB_CANCEL, "job_cancel");
	if (rc == 0) {
		st = store_stmt(s, S_JOB_END_CANCELED);
		store_bind_text(st, 1, job);
		store_bind_u64(st, 2, at);
		rc = store_run(s, S_JOB_END_CANCELED, "job_end_canceled");
	}
	return store_tx_end(s, rc);
}

/* A read snapshot spans a run of REST reads (one pass of the HTTP
 * server): one read transaction, and its two file locks on the WAL
 * index, instead of one per statement. It is only begun when no
 * transaction is open, and holds no write lock, so the batch and every
 * writer are untouched; the caller ends it before anything writes.
 * BEGIN and COMMIT are run once per pass, not per request, so they are
 * not kept prepared. */
int
store_snapshot_begin(void *ud)
{
	struct store *s = ud;

	if (s->batch_open || !sqlite3_get_autocommit(s->db))
		return -EBUSY;
	int src = sqlite3_exec(s->db, "BEGIN DEFERRED", NULL, NULL, NULL);
	return src == SQLITE_OK ? 0 : store_fail(s, "snapshot_begin", src);
}

void
store_snapshot_end(void *ud)
{
	struct store *s = ud;

	/* SQLite may have ended it already (an I/O error rolls back); a
	 * batch is never ours to commit. */
	if (s->batch_open || sqlite3_get_autocommit(s->db))
		return;
	int src = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		(void)store_fail(s, "snapshot_end", src);
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
}
