/* SPDX-License-Identifier: MIT */
/* The store's jobs and executions: creation in one durable transaction,
 * reads, first-publish payloads, and compare-and-set state changes that
 * never leave a terminal state. */
#include "store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cmdbus/rest.h"

/* ---- jobs ---- */

int
store_job_create(void *ud, const struct job_rec *job,
		 const struct exec_rec *execs, size_t n)
{
	struct store *s = ud;
	sqlite3_stmt *st;
	/* Its own transaction, or a savepoint in the group commit. */
	int rc = store_tx_join(s, SYNC_FULL);
	if (rc < 0)
		return rc;

	st = store_stmt(s, S_JOB_INSERT);
	store_bind_text(st, 1, job->id);
	store_bind_text(st, 2, job->action);
	store_bind_text(st, 3, job->args_json ? job->args_json : "{}");
	store_bind_text(st, 4, cmdbus_job_state_name(job->state));
	store_bind_u64(st, 5, job->created_at);
	store_bind_u64(st, 6, job->finished_at);
	store_bind_u64(st, 7, job->timeout_ms);
	store_bind_u64(st, 8, job->ttl_ms);
	sqlite3_bind_int(st, 9, job->stream ? 1 : 0);
	store_bind_text(st, 10,
			job->idempotency_key[0] ? job->idempotency_key : NULL);
	store_bind_text(st, 11,
			job->request_sha256[0] ? job->request_sha256 : NULL);
	store_bind_text(st, 12, job->targets_json);
	store_bind_u64(st, 13, job->ro.batch);
	if (job->ro.has_max_failures)
		store_bind_u64(st, 14, job->ro.max_failures);
	else
		sqlite3_bind_null(st, 14);
	store_bind_text(st, 15, cmdbus_offline_policy_name(job->ro.offline));
	store_bind_u64(st, 16, job->ro.canary);
	rc = store_run(s, S_JOB_INSERT, "job_insert");

	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct exec_rec *e = &execs[i];
		st = store_stmt(s, S_EXEC_INSERT);
		store_bind_text(st, 1, e->id);
		store_bind_text(st, 2, job->id);
		store_bind_text(st, 3, e->device);
		store_bind_text(st, 4, cmdbus_state_name(e->state));
		store_bind_u64(st, 5, e->created_at);
		store_bind_u64(st, 6, e->updated_at);
		store_bind_u64(st, 7, e->exp_at);
		store_bind_u64(st, 8, e->finished_at);
		store_bind_text(st, 9, e->error_code[0] ? e->error_code : NULL);
		store_bind_text(st, 10,
				e->error_code[0] ? e->error_message : NULL);
		sqlite3_bind_int(st, 11, e->held ? 1 : 0);
		/* A first payload built for the job's own commit. */
		store_bind_text(st, 12, e->command);
		store_bind_text(st, 13, e->command ? e->cmd_sha256 : NULL);
		store_bind_u64(st, 14, e->command ? e->iat : 0);
		rc = store_run(s, S_EXEC_INSERT, "exec_insert");
	}
	return store_tx_leave(s, rc);
}

int
store_job_row(sqlite3_stmt *st, void *out)
{
	struct job_rec *j = out;
	int rc = 0;

	memset(j, 0, sizeof *j);
	store_col_copy(st, 0, j->id, sizeof j->id);
	store_col_copy(st, 1, j->action, sizeof j->action);
	j->args_json = store_col_dup(st, 2, &rc);
	const unsigned char *state = sqlite3_column_text(st, 3);
	if (!state ||
	    cmdbus_job_state_parse((const char *)state, &j->state) < 0)
		j->state = CMDBUS_JOB_RUNNING;
	j->created_at = store_col_u64(st, 4);
	j->finished_at = store_col_u64(st, 5);
	j->timeout_ms = store_col_u64(st, 6);
	j->ttl_ms = store_col_u64(st, 7);
	j->stream = sqlite3_column_int(st, 8) != 0;
	store_col_copy(st, 9, j->idempotency_key, sizeof j->idempotency_key);
	store_col_copy(st, 10, j->request_sha256, sizeof j->request_sha256);
	j->canceled_at = store_col_u64(st, 11);
	j->targets_json = store_col_dup(st, 12, &rc);
	j->ro.batch = store_col_u64(st, 13);
	j->ro.has_max_failures = sqlite3_column_type(st, 14) != SQLITE_NULL;
	j->ro.max_failures = store_col_u64(st, 14);
	const unsigned char *off = sqlite3_column_text(st, 15);
	j->ro.offline = CMDBUS_OFFLINE_WAIT;
	for (int p = CMDBUS_OFFLINE_WAIT; off && p <= CMDBUS_OFFLINE_FAIL; p++)
		if (strcmp((const char *)off,
			   cmdbus_offline_policy_name(
			       (enum cmdbus_offline_policy)p)) == 0)
			j->ro.offline = (enum cmdbus_offline_policy)p;
	j->ro.canary = store_col_u64(st, 16);
	j->aborted_at = store_col_u64(st, 17);
	store_col_copy(st, 18, j->abort_reason, sizeof j->abort_reason);
	if (rc < 0)
		job_rec_fini(j);
	return rc;
}

int
store_job_get(void *ud, const char *id, struct job_rec *out)
{
	return store_get(ud, S_JOB_GET, id, "job_get", store_job_row, out,
			 sizeof *out);
}

/* ---- executions ---- */

int
store_exec_row(sqlite3_stmt *st, void *out)
{
	struct exec_rec *e = out;
	int rc = 0;

	memset(e, 0, sizeof *e);
	store_col_copy(st, 0, e->id, sizeof e->id);
	store_col_copy(st, 1, e->job, sizeof e->job);
	store_col_copy(st, 2, e->device, sizeof e->device);
	store_col_copy(st, 3, e->action, sizeof e->action);
	e->state = store_col_state(st, 4);
	e->created_at = store_col_u64(st, 5);
	e->updated_at = store_col_u64(st, 6);
	e->published_at = store_col_u64(st, 7);
	e->finished_at = store_col_u64(st, 8);
	e->exp_at = store_col_u64(st, 9);
	e->command = store_col_dup(st, 10, &rc);
	store_col_copy(st, 11, e->cmd_sha256, sizeof e->cmd_sha256);
	store_col_copy(st, 12, e->boot_id, sizeof e->boot_id);
	e->result = store_col_dup(st, 13, &rc);
	store_col_copy(st, 14, e->error_code, sizeof e->error_code);
	e->error_message = store_col_dup(st, 15, &rc);
	e->late_results = store_col_u64(st, 16);
	e->held = sqlite3_column_int(st, 17) != 0;
	e->release_seq = store_col_u64(st, 18);
	if (rc < 0)
		exec_rec_fini(e);
	return rc;
}

/* Reads every row of a bound statement into a list. */
int
store_exec_rows(struct store *s, sqlite3_stmt *st, const char *op,
		struct exec_list *out)
{
	void *v = NULL;
	int rc =
	    store_rows(s, st, op, sizeof *out->v, store_exec_row, &v, &out->n);

	out->v = v;
	if (rc < 0)
		exec_list_fini(out);
	return rc;
}

int
store_job_executions(void *ud, const char *job, struct exec_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_JOB_EXECS);
	store_bind_text(st, 1, job);
	return store_exec_rows(s, st, "job_executions", out);
}

int
store_exec_unfinished(void *ud, struct exec_list *out)
{
	struct store *s = ud;
	return store_exec_rows(s, store_stmt(s, S_EXEC_UNFINISHED),
			       "exec_unfinished", out);
}

int
store_exec_get(void *ud, const char *id, struct exec_rec *out)
{
	return store_get(ud, S_EXEC_GET, id, "exec_get", store_exec_row, out,
			 sizeof *out);
}

int
store_exec_view_get(void *ud, const char *id, struct exec_rec *out)
{
	return store_get(ud, S_EXEC_VIEW, id, "exec_view_get", store_exec_row,
			 out, sizeof *out);
}

int
store_exec_set_commands(void *ud, const struct exec_command *cmds, size_t n)
{
	struct store *s = ud;
	int rc = store_tx_begin(s, SYNC_FULL);
	if (rc < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_stmt *st = store_stmt(s, S_EXEC_SET_COMMAND);
		store_bind_text(st, 1, cmds[i].id);
		store_bind_text(st, 2, cmds[i].payload);
		store_bind_text(st, 3, cmds[i].sha256);
		store_bind_u64(st, 4, cmds[i].iat);
		rc = store_run(s, S_EXEC_SET_COMMAND, "exec_set_command");
		if (rc == 0 && sqlite3_changes(s->db) != 1)
			rc = -ERR_CONFLICT; /* already has one, or gone */
	}
	return store_tx_end(s, rc);
}

/* After a compare-and-set changed nothing: was the row missing, or in
 * another state? */
static int
store_cas_miss(struct store *s, const char *id)
{
	sqlite3_stmt *st = store_stmt(s, S_EXEC_STATE);
	store_bind_text(st, 1, id);
	int src = sqlite3_step(st);
	sqlite3_reset(st);
	if (src == SQLITE_ROW)
		return -ERR_CONFLICT;
	if (src == SQLITE_DONE)
		return -ERR_NOT_FOUND;
	return store_fail(s, "exec_state", src);
}

int
store_exec_change(void *ud, const struct exec_change *chg)
{
	struct store *s = ud;
	bool terminal = cmdbus_state_is_terminal(chg->to);

	/* A terminal state never changes. */
	if (cmdbus_state_is_terminal(chg->from))
		return store_cas_miss(s, chg->id);
	/* An end is durable before anyone is told of it; progress on the
	 * way there need not be (see batch_commit), and is one statement
	 * (an end also completes the job, in the same savepoint). */
	int rc = terminal && chg->complete_job
		     ? store_tx_join(s, SYNC_FULL)
		     : store_tx_join_one(s, terminal ? SYNC_FULL : SYNC_NORMAL);
	if (rc < 0)
		return rc;

	sqlite3_stmt *st = store_stmt(s, S_EXEC_CHANGE);
	store_bind_text(st, 1, chg->id);
	store_bind_text(st, 2, cmdbus_state_name(chg->from));
	store_bind_text(st, 3, cmdbus_state_name(chg->to));
	store_bind_u64(st, 4, chg->at);
	store_bind_u64(st, 5,
		       !chg->published	   ? 0
		       : chg->published_at ? chg->published_at
					   : chg->at);
	sqlite3_bind_int(st, 6, terminal ? 1 : 0);
	store_bind_text(st, 7, chg->boot_id);
	store_bind_text(st, 8, chg->result);
	store_bind_text(st, 9, chg->error_code);
	store_bind_text(st, 10, chg->error_message);
	rc = store_run(s, S_EXEC_CHANGE, "exec_change");
	if (rc == 0 && sqlite3_changes(s->db) != 1)
		rc = store_cas_miss(s, chg->id);
	if (rc == 0 && terminal && chg->complete_job) {
		st = store_stmt(s, S_JOB_COMPLETE);
		store_bind_text(st, 1, chg->id);
		store_bind_u64(st, 2, chg->at);
		rc = store_run(s, S_JOB_COMPLETE, "job_complete");
	}
	return store_tx_leave(s, rc);
}

int
store_exec_late_result(void *ud, const char *id, uint64_t at)
{
	struct store *s = ud;
	(void)at;
	int rc = store_tx_join_one(s, SYNC_NORMAL);
	if (rc < 0)
		return rc;
	sqlite3_stmt *st = store_stmt(s, S_EXEC_LATE);
	store_bind_text(st, 1, id);
	rc = store_run(s, S_EXEC_LATE, "exec_late");
	if (rc == 0 && sqlite3_changes(s->db) != 1)
		rc = -ERR_NOT_FOUND;
	return store_tx_leave(s, rc);
}
