/* SPDX-License-Identifier: MIT */
/* Private to the SQLite store: the connection with its prepared
 * statements, and the helpers and port functions its files share. */
#ifndef DISPATCHER_STORE_PRIV_H
#define DISPATCHER_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cmdbus/proto.h"
#include "store.h"

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_EXEC_DEVICE_UNFINISHED,
	S_EXEC_DEVICE_INFLIGHT,
	S_EXEC_VIEW,
	S_PRUNE_EXECS,
	S_PRUNE_JOBS,
	S_COUNT_EXECS,
	S_COUNT_JOBS,
	S_COUNT_DEVICES,
	S_JOB_INSERT,
	S_EXEC_INSERT,
	S_JOB_GET,
	S_JOB_EXECS,
	S_EXEC_GET,
	S_EXEC_UNFINISHED,
	S_EXEC_SET_COMMAND,
	S_EXEC_CHANGE,
	S_EXEC_STATE,
	S_JOB_COMPLETE,
	S_EXEC_LATE,
	S_DEVICE_PUT,
	S_DEVICE_GET,
	S_DEVICE_LIST,
	S_DEVICES_ALL,
	S_DEVICES_MATCH,
	S_JOB_LIST,
	S_DEVICE_EXECS,
	S_JOB_COUNTS,
	S_JOB_BY_KEY,
	S_JOB_CANCEL,
	S_JOB_END_CANCELED,
	S_OUTPUT_PUT,
	S_OUTPUT_GET,
	S_DEVICES_BRIEF,
	S_RO_RELEASED,
	S_RO_WAITING,
	S_RO_FAILURES,
	S_RO_CANARY,
	S_RO_NEXT,
	S_RO_RELEASE,
	S_JOB_ABORT,
	S_JOB_FINISH,
	S_RO_JOBS,
	S_COUNT
};

enum sync_level { SYNC_UNSET, SYNC_FULL, SYNC_NORMAL };

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	enum sync_level sync;
	/* Group commit (store_batch.c): joinable writes go into one open
	 * transaction while batch_on. */
	bool batch_on;	 /* the core allows joining now */
	bool batch_open; /* a batch transaction is open */
	bool batch_lost; /* SQLite rolled the open batch back on an error */
	bool batch_full; /* a write in the open batch needs a durable commit */
	struct store_ckpt *ckpt; /* store_checkpoint.c, or NULL */
	int batch_rc;	 /* the error that lost it */
	int join_kind;	 /* what store_tx_join began: enum in store_batch.c */
};

/* store_checkpoint.c: the thread that checkpoints the log of the
 * database at path, and its end (before the store's connection closes). */
int store_ckpt_start(struct store *s, const char *path);
void store_ckpt_stop(struct store *s);

/* Logs an SQLite failure of `op` and maps it to a project code. */
int store_fail(struct store *s, const char *op, int rc);
/* Resets a statement and drops its bindings, so that no borrowed text
 * outlives the call, and returns it for binding. */
sqlite3_stmt *store_stmt(struct store *s, enum stmt_id id);
int store_bind_text(sqlite3_stmt *st, int i, const char *v); /* NULL: NULL */
int store_bind_u64(sqlite3_stmt *st, int i, uint64_t v);
/* Steps a statement that returns no rows, then resets it. */
int store_run(struct store *s, enum stmt_id id, const char *op);
int store_set_sync(struct store *s, enum sync_level level);
int store_tx_begin(struct store *s, enum sync_level level);
int store_tx_commit(struct store *s);
void store_tx_rollback(struct store *s);
/* Ends a transaction: commits when rc is 0, rolls back otherwise (also
 * when the commit fails). Returns the outcome. */
int store_tx_end(struct store *s, int rc);
/* store_batch.c. A write that may join the group commit: inside the
 * open batch (opened here when needed) as a savepoint, or, when the
 * batch is off, a transaction of its own at `level`. */
int store_tx_join(struct store *s, enum sync_level level);
/* Like store_tx_join, for a write of one statement: inside the batch it
 * takes no savepoint. */
int store_tx_join_one(struct store *s, enum sync_level level);
/* Ends what store_tx_join began, like store_tx_end. */
int store_tx_leave(struct store *s, int rc);
/* Commits the open batch, if any, before a write of its own. */
int store_batch_flush(struct store *s);
int store_batch(void *ud, bool on);
int store_batch_end(void *ud, bool *committed, uint64_t *commit_us);
int store_exec_device_inflight(void *ud, const char *device, uint64_t *n);
int store_exec_view_get(void *ud, const char *id, struct exec_rec *out);
int store_exec_device_unfinished(void *ud, const char *device, size_t limit,
				 struct exec_list *out);
int store_prune(void *ud, uint64_t before, size_t limit, uint64_t *execs,
		uint64_t *jobs);
int store_counts(void *ud, uint64_t stale_before, struct store_counts *out);

/* Fills *out (a record) from the current row; on failure nothing is
 * left in it to release. */
typedef int store_row_fn(sqlite3_stmt *st, void *out);
/* Runs a statement whose ?1 is an id and reads the one row it gives into
 * out, a record of `size` bytes cleared first; -ERR_NOT_FOUND when there
 * is none. */
int store_get(struct store *s, enum stmt_id id_stmt, const char *id,
	      const char *op, store_row_fn *row, void *out, size_t size);
/* Steps a bound statement to its end, reading every row into a growing
 * array of records of `size` bytes: *v malloc'd (or NULL), *n of them.
 * Resets the statement. On failure the records read so far are still
 * in *v, for the caller to release with its list's fini. */
int store_rows(struct store *s, sqlite3_stmt *st, const char *op, size_t size,
	       store_row_fn *row, void **v, size_t *n);
void store_col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen);
/* A malloc'd copy of a text column, or NULL for SQL NULL; *rc becomes
 * -ENOMEM when the copy fails. */
char *store_col_dup(sqlite3_stmt *st, int i, int *rc);
uint64_t store_col_u64(sqlite3_stmt *st, int i);
enum cmdbus_state store_col_state(sqlite3_stmt *st, int i);

/* The store port's functions (ud is the struct store). store_exec.c: */
int store_job_create(void *ud, const struct job_rec *job,
		     const struct exec_rec *execs, size_t n);
int store_job_get(void *ud, const char *id, struct job_rec *out);
int store_job_executions(void *ud, const char *job, struct exec_list *out);
int store_exec_get(void *ud, const char *id, struct exec_rec *out);
int store_exec_unfinished(void *ud, struct exec_list *out);
int store_exec_set_commands(void *ud, const struct exec_command *cmds,
			    size_t n);
int store_exec_change(void *ud, const struct exec_change *chg);
int store_exec_late_result(void *ud, const char *id, uint64_t at);
/* store_devices.c: */
int store_device_put(void *ud, const struct device_rec *d);
int store_device_get(void *ud, const char *id, struct device_rec *out);
int store_device_list(void *ud, struct device_list *out);
int store_devices_match(void *ud, const char *labels_json,
			struct name_list *out);
/* store_exec.c, for store_query.c: */
store_row_fn store_job_row;
store_row_fn store_exec_row;
/* store_query.c: */
int store_job_list(void *ud, const struct list_query *q, struct job_list *out);
int store_device_executions(void *ud, const struct list_query *q,
			    struct exec_list *out);
int store_job_counts(void *ud, const char *job,
		     uint64_t counts[CMDBUS_STATE_COUNT]);
int store_job_by_key(void *ud, const char *key, struct job_rec *out);
/* store_rollout.c: */
int store_devices_brief(void *ud, struct device_list *out);
int store_rollout_counts(void *ud, const char *job, uint64_t canary,
			 bool offline_fails, struct rollout_counts *out);
int store_rollout_next(void *ud, const char *job, size_t limit,
		       bool online_only, struct exec_list *out);
int store_exec_release(void *ud, const struct exec_rec *execs, size_t n,
		       uint64_t first_seq);
int store_job_abort(void *ud, const char *job, uint64_t at, const char *reason);
int store_job_finish(void *ud, const char *job, uint64_t at, bool *ended);
int store_rollout_jobs(void *ud, struct name_list *out);
/* store_exec.c, for store_rollout.c: */
int store_exec_rows(struct store *s, sqlite3_stmt *st, const char *op,
		    struct exec_list *out);
/* store_devices.c, for store_rollout.c: */
store_row_fn store_name_row;
/* store_output.c: */
int store_output_put(void *ud, const char *exec, bool is_stderr, uint64_t seq,
		     const void *data, size_t len, bool *stored);
int store_output_get(void *ud, const char *exec, bool is_stderr, uint64_t from,
		     struct chunk_list *out);
int store_job_cancel(void *ud, const char *job, uint64_t at);

#endif
