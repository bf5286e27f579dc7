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
	S_SYNC_FULL,
	S_SYNC_NORMAL,
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
	S_COUNT
};

enum sync_level { SYNC_UNSET, SYNC_FULL, SYNC_NORMAL };

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	enum sync_level sync;
};

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

#endif
