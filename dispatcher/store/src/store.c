/* SPDX-License-Identifier: MIT */
/* SQLite implementation of the store port, in the manner of Mosquitto's
 * persist-sqlite plugin: WAL, foreign keys, migrations by user_version,
 * and every statement prepared once at open and bound, never built from
 * data. This file opens, migrates and closes; store_exec.c and
 * store_devices.c hold the queries. */
#include "store_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/rest.h"

#define BUSY_TIMEOUT_MS 5000

/* Schema version 1. States are stored by name, so that the database
 * reads well with the sqlite3 shell and survives a reordered enum. */
static const char schema_v1[] =
    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " action TEXT NOT NULL,"
    " args TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " timeout_ms INTEGER NOT NULL,"
    " ttl_ms INTEGER NOT NULL,"
    " stream INTEGER NOT NULL,"
    " idempotency_key TEXT"
    ") STRICT;"
    "CREATE INDEX jobs_created ON jobs(created_at);"
    "CREATE INDEX jobs_state ON jobs(state, created_at);"
    "CREATE TABLE executions ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " job TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " device TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " published_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " exp_at INTEGER NOT NULL,"
    " iat INTEGER NOT NULL DEFAULT 0,"
    " command TEXT,"
    " cmd_sha256 TEXT,"
    " boot_id TEXT,"
    " result TEXT,"
    " error_code TEXT,"
    " error_message TEXT,"
    " late_results INTEGER NOT NULL DEFAULT 0"
    ") STRICT;"
    "CREATE INDEX executions_job ON executions(job, id);"
    "CREATE INDEX executions_device ON executions(device, created_at);"
    "CREATE INDEX executions_state ON executions(state, created_at);"
    "CREATE TABLE devices ("
    " id TEXT PRIMARY KEY NOT NULL,"
    " online INTEGER NOT NULL,"
    " boot_id TEXT NOT NULL,"
    " agent TEXT NOT NULL DEFAULT '',"
    " last_seen INTEGER NOT NULL,"
    " status_at INTEGER NOT NULL DEFAULT 0,"
    " labels TEXT NOT NULL DEFAULT '{}',"
    " actions TEXT NOT NULL DEFAULT '[]',"
    " health TEXT,"
    " status TEXT"
    ") STRICT;";

/* Version 2: the REST side. An idempotency key is unique and keeps the
 * hash of the request it came with; a canceled job remembers it, so that
 * it ends CANCELED; lists walk jobs and a device's executions newest
 * first by id (ULIDs sort by time). */
static const char schema_v2[] =
    "ALTER TABLE jobs ADD COLUMN request_sha256 TEXT;"
    "ALTER TABLE jobs ADD COLUMN canceled_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX jobs_idempotency ON jobs(idempotency_key)"
    " WHERE idempotency_key IS NOT NULL;"
    "CREATE INDEX executions_device_id ON executions(device, id);";

#define UNFINISHED "('QUEUED','PUBLISHED','DELIVERED','RUNNING')"

/* Version 3: "does this job still have unfinished executions", asked at
 * every execution's end (job completion, a job cancel ending), probes
 * (job, state) directly; with executions_job alone it read every
 * execution row of the job, so a job on N devices cost O(N^2) to finish.
 * It also covers the per-job counts of the job view. */
static const char schema_v3[] =
    "CREATE INDEX executions_job_state ON executions(job, state);";

/* Version 4: live output chunks, in order by (exec, stream, seq), the
 * key that also makes a duplicate chunk a no-op; they go with their
 * execution when retention removes it. stream is 0 stdout, 1 stderr. */
static const char schema_v4[] =
    "CREATE TABLE output_chunks ("
    " exec TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,"
    " stream INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " PRIMARY KEY (exec, stream, seq)"
    ") STRICT, WITHOUT ROWID;";

/* Version 5: fleet targeting and rollouts. A job keeps the resolution of
 * its target and its rollout's resolved figures (ro_batch 0: none), and
 * an aborted rollout its reason; an execution is held until its rollout
 * releases it, numbered in release order. Existing rows are released.
 * The rollout's counts probe (job, held, state), and its next held
 * executions come in id order straight from that index. */
static const char schema_v5[] =
    "ALTER TABLE jobs ADD COLUMN targets TEXT;"
    "ALTER TABLE jobs ADD COLUMN ro_batch INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN ro_max_failures INTEGER;"
    "ALTER TABLE jobs ADD COLUMN ro_offline TEXT NOT NULL DEFAULT 'wait';"
    "ALTER TABLE jobs ADD COLUMN ro_canary INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN aborted_at INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE jobs ADD COLUMN abort_reason TEXT;"
    "ALTER TABLE executions ADD COLUMN held INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE executions ADD COLUMN release_seq INTEGER NOT NULL"
    " DEFAULT 0;"
    "CREATE INDEX executions_job_held ON executions(job, held, state, id);"
    "CREATE INDEX jobs_rollout ON jobs(state, ro_batch);";

/* Version 6: a device's next unfinished, released executions (the
 * outbox's window refill after every result) come from a partial index
 * holding only those: through executions_device the query read every
 * execution the device ever had, so each command cost O(history). */
static const char schema_v6[] =
    "CREATE INDEX executions_device_open ON executions(device, created_at,"
    " id) WHERE state IN " UNFINISHED " AND held = 0;";

/* Migrations in order: migrations[i] takes version i to i+1. */
static const char *const migrations[] = {schema_v1, schema_v2, schema_v3,
					 schema_v4, schema_v5, schema_v6};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])
_Static_assert(NMIGRATIONS == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* How a job ends once its last execution has: an aborted rollout wins
 * over a cancel that came after it, and either over completion. */
#define JOB_END_STATE                                                          \
	"CASE WHEN aborted_at > 0 THEN 'ABORTED' WHEN canceled_at > 0"         \
	" THEN 'CANCELED' ELSE 'COMPLETED' END"
/* Failures of a rollout: these states, EXPIRED only when not for being
 * offline unless ?2 says that counts too. */
#define FAILED_STATES "('FAILED','TIMED_OUT','REJECTED','LOST','EXPIRED')"
#define EXEC_COLUMNS                                                           \
	"SELECT e.id, e.job, e.device, j.action, e.state, e.created_at,"       \
	" e.updated_at, e.published_at, e.finished_at, e.exp_at, e.command,"   \
	" e.cmd_sha256, e.boot_id, e.result, e.error_code, e.error_message,"   \
	" e.late_results, e.held, e.release_seq"                               \
	" FROM executions e JOIN jobs j ON j.id = e.job "
/* The same columns but the command payload, which no view shows. */
#define EXEC_VIEW_COLUMNS                                                      \
	"SELECT e.id, e.job, e.device, j.action, e.state, e.created_at,"       \
	" e.updated_at, e.published_at, e.finished_at, e.exp_at, NULL,"        \
	" e.cmd_sha256, e.boot_id, e.result, e.error_code, e.error_message,"   \
	" e.late_results, e.held, e.release_seq"                               \
	" FROM executions e JOIN jobs j ON j.id = e.job "
#define JOB_COLUMNS                                                            \
	"SELECT id, action, args, state, created_at, finished_at,"             \
	" timeout_ms, ttl_ms, stream, idempotency_key, request_sha256,"        \
	" canceled_at, targets, ro_batch, ro_max_failures, ro_offline,"        \
	" ro_canary, aborted_at, abort_reason FROM jobs "
#define DEVICE_COLUMNS                                                         \
	"SELECT id, online, boot_id, agent, last_seen, status_at, labels,"     \
	" actions, health, status FROM devices "

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT w",
    [S_RELEASE] = "RELEASE w",
    [S_ROLLBACK_TO] = "ROLLBACK TO w",
    [S_EXEC_DEVICE_UNFINISHED] =
	EXEC_COLUMNS "WHERE e.device = ?1 AND e.state IN " UNFINISHED
		     " AND e.held = 0 ORDER BY e.created_at, e.id LIMIT ?2",
    /* The same rows through the same partial index, only counted. */
    [S_EXEC_DEVICE_INFLIGHT] =
	"SELECT count(*) FROM executions WHERE device = ?1 AND state "
	"IN " UNFINISHED " AND held = 0 AND command IS NOT NULL",
    /* Retention walks executions_state (state, created_at) and
     * jobs_created, so that each batch reads only what it deletes. */
    [S_PRUNE_EXECS] =
	"DELETE FROM executions WHERE id IN (SELECT id FROM executions"
	" WHERE state IN ('SUCCEEDED','FAILED','TIMED_OUT','CANCELED',"
	"'REJECTED','EXPIRED','LOST') AND created_at < ?1 LIMIT ?2)",
    [S_PRUNE_JOBS] =
	"DELETE FROM jobs WHERE id IN (SELECT j.id FROM jobs j"
	" WHERE j.created_at < ?1 AND j.state <> 'RUNNING' AND NOT EXISTS"
	" (SELECT 1 FROM executions e WHERE e.job = j.id) LIMIT ?2)",
    [S_COUNT_EXECS] = "SELECT state, count(*), sum(command IS NOT NULL)"
		      " FROM executions GROUP BY state",
    [S_COUNT_JOBS] = "SELECT state, count(*) FROM jobs GROUP BY state",
    [S_COUNT_DEVICES] = "SELECT count(*), coalesce(sum(online), 0),"
			" coalesce(sum(online AND last_seen < ?1), 0)"
			" FROM devices",
    [S_JOB_INSERT] =
	"INSERT INTO jobs (id, action, args, state, created_at,"
	" finished_at, timeout_ms, ttl_ms, stream, idempotency_key,"
	" request_sha256, targets, ro_batch, ro_max_failures, ro_offline,"
	" ro_canary)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14, ?15, ?16)",
    [S_EXEC_INSERT] =
	"INSERT INTO executions (id, job, device, state, created_at,"
	" updated_at, exp_at, finished_at, error_code, error_message, held,"
	" command, cmd_sha256, iat)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14)",
    [S_JOB_GET] = JOB_COLUMNS "WHERE id = ?1",
    [S_JOB_EXECS] = EXEC_COLUMNS "WHERE e.job = ?1 ORDER BY e.id",
    [S_EXEC_GET] = EXEC_COLUMNS "WHERE e.id = ?1",
    [S_EXEC_VIEW] = EXEC_VIEW_COLUMNS "WHERE e.id = ?1",
    [S_EXEC_UNFINISHED] =
	EXEC_COLUMNS "WHERE e.state IN " UNFINISHED " ORDER BY e.job, e.id",
    [S_EXEC_SET_COMMAND] =
	"UPDATE executions SET command = ?2, cmd_sha256 = ?3, iat = ?4"
	" WHERE id = ?1 AND command IS NULL",
    /* Hot statements probe one state at a time: an IN list of more than
     * two values makes SQLite build a temporary b-tree at each run. The
     * state machine's rule that a terminal state never changes is kept
     * by store_exec_change, which refuses a terminal `from`. */
    [S_EXEC_CHANGE] =
	"UPDATE executions SET state = ?3, updated_at = ?4,"
	" published_at = CASE WHEN published_at = 0 THEN ?5"
	" ELSE published_at END,"
	" finished_at = CASE WHEN ?6 THEN ?4 ELSE finished_at END,"
	" boot_id = COALESCE(?7, boot_id),"
	" result = COALESCE(?8, result),"
	" error_code = COALESCE(?9, error_code),"
	" error_message = COALESCE(?10, error_message)"
	" WHERE id = ?1 AND state = ?2",
    [S_EXEC_STATE] = "SELECT state FROM executions WHERE id = ?1",
    [S_JOB_COMPLETE] =
	"UPDATE jobs SET state = " JOB_END_STATE ", finished_at = ?2"
	" WHERE id = (SELECT job FROM executions WHERE id = ?1)"
	" AND state = 'RUNNING'"
	" AND (ro_batch = 0 OR canceled_at > 0 OR aborted_at > 0)"
	" AND NOT EXISTS (SELECT 1 FROM executions x WHERE x.job = jobs.id"
	" AND x.state = 'QUEUED') AND NOT EXISTS (SELECT 1 FROM executions x"
	" WHERE x.job = jobs.id AND x.state = 'PUBLISHED') AND NOT EXISTS"
	" (SELECT 1 FROM executions x WHERE x.job = jobs.id"
	" AND x.state = 'DELIVERED') AND NOT EXISTS (SELECT 1 FROM"
	" executions x WHERE x.job = jobs.id AND x.state = 'RUNNING')",
    [S_EXEC_LATE] = "UPDATE executions SET late_results = late_results + 1"
		    " WHERE id = ?1",
    [S_DEVICE_PUT] =
	"INSERT INTO devices (id, online, boot_id, agent, last_seen,"
	" status_at, labels, actions, health, status)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
	" ON CONFLICT (id) DO UPDATE SET online = excluded.online,"
	" boot_id = excluded.boot_id, agent = excluded.agent,"
	" last_seen = excluded.last_seen,"
	" status_at = excluded.status_at, labels = excluded.labels,"
	" actions = excluded.actions, health = excluded.health,"
	" status = excluded.status",
    [S_DEVICE_GET] = DEVICE_COLUMNS "WHERE id = ?1",
    [S_DEVICE_LIST] = DEVICE_COLUMNS "ORDER BY id",
    [S_DEVICES_ALL] = "SELECT id FROM devices ORDER BY id",
    /* Devices carrying every label of the filter object ?1. */
    [S_DEVICES_MATCH] = "SELECT d.id FROM devices d WHERE NOT EXISTS ("
			" SELECT 1 FROM json_each(?1) r WHERE NOT EXISTS ("
			"  SELECT 1 FROM json_each(d.labels) l"
			"  WHERE l.key = r.key AND l.value = r.value))"
			" ORDER BY d.id",
    /* Lists (store_query.c): optional filters are bound as NULL. */
    [S_JOB_LIST] =
	JOB_COLUMNS "WHERE (?1 IS NULL OR state = ?1)"
		    " AND (?2 IS NULL OR action = ?2)"
		    " AND created_at >= ?3 AND created_at <= ?4"
		    " AND (?5 IS NULL OR id < ?5)"
		    " AND (?7 IS NULL OR EXISTS (SELECT 1 FROM executions x"
		    " WHERE x.job = jobs.id AND x.device = ?7))"
		    " ORDER BY id DESC LIMIT ?6",
    [S_DEVICE_EXECS] =
	EXEC_COLUMNS "WHERE e.device = ?1"
		     " AND (?2 IS NULL OR e.state = ?2)"
		     " AND (?3 IS NULL OR j.action = ?3)"
		     " AND e.created_at >= ?4 AND e.created_at <= ?5"
		     " AND (?6 IS NULL OR e.id < ?6)"
		     " ORDER BY e.id DESC LIMIT ?7",
    [S_JOB_COUNTS] = "SELECT state, count(*) FROM executions WHERE job = ?1"
		     " GROUP BY state",
    [S_JOB_BY_KEY] = JOB_COLUMNS "WHERE idempotency_key = ?1",
    [S_JOB_CANCEL] = "UPDATE jobs SET canceled_at = ?2 WHERE id = ?1"
		     " AND canceled_at = 0",
    [S_JOB_END_CANCELED] =
	"UPDATE jobs SET state = 'CANCELED', finished_at = ?2"
	" WHERE id = ?1 AND state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM"
	" executions x WHERE x.job = jobs.id AND x.state IN " UNFINISHED ")",
    /* Rollouts (store_rollout.c). */
    [S_DEVICES_BRIEF] = "SELECT id, online, labels FROM devices ORDER BY id",
    [S_RO_RELEASED] = "SELECT count(*), coalesce(sum(state IN " UNFINISHED
		      "), 0) FROM executions WHERE job = ?1 AND held = 0",
    [S_RO_WAITING] = "SELECT count(*) FROM executions WHERE job = ?1"
		     " AND held = 1 AND state = 'QUEUED'",
    [S_RO_FAILURES] =
	"SELECT count(*) FROM executions WHERE job = ?1 AND held IN (0, 1)"
	" AND state IN " FAILED_STATES " AND (state <> 'EXPIRED' OR ?2 OR"
	" coalesce(error_code, '') <> 'offline')",
    [S_RO_CANARY] = "SELECT coalesce(sum(state NOT IN " UNFINISHED "), 0),"
		    " coalesce(sum(state = 'SUCCEEDED'), 0) FROM executions"
		    " WHERE job = ?1 AND held = 0 AND release_seq BETWEEN 1"
		    " AND ?2",
    [S_RO_NEXT] = EXEC_COLUMNS "WHERE e.job = ?1 AND e.held = 1"
			       " AND e.state = 'QUEUED' AND (NOT ?3 OR"
			       " EXISTS (SELECT 1 FROM devices d WHERE"
			       " d.id = e.device AND d.online = 1))"
			       " ORDER BY e.id LIMIT ?2",
    [S_RO_RELEASE] = "UPDATE executions SET held = 0, release_seq = ?2"
		     " WHERE id = ?1 AND held = 1 AND state = 'QUEUED'",
    [S_JOB_ABORT] = "UPDATE jobs SET aborted_at = ?2, abort_reason = ?3"
		    " WHERE id = ?1 AND aborted_at = 0",
    [S_JOB_FINISH] =
	"UPDATE jobs SET state = " JOB_END_STATE ", finished_at = ?2"
	" WHERE id = ?1 AND state = 'RUNNING' AND NOT EXISTS (SELECT 1 FROM"
	" executions x WHERE x.job = jobs.id AND x.state IN " UNFINISHED ")",
    [S_RO_JOBS] = "SELECT id FROM jobs WHERE state = 'RUNNING'"
		  " AND ro_batch > 0 ORDER BY id",
    /* The cap is checked in the same statement, so a stream never holds
     * more than ?5 bytes whatever order its chunks come in. */
    [S_OUTPUT_PUT] =
	"INSERT OR IGNORE INTO output_chunks (exec, stream, seq, data)"
	" SELECT ?1, ?2, ?3, ?4 WHERE (SELECT coalesce(sum(length(data)), 0)"
	" FROM output_chunks WHERE exec = ?1 AND stream = ?2)"
	" + length(?4) <= ?5",
    [S_OUTPUT_GET] = "SELECT seq, data FROM output_chunks WHERE exec = ?1"
		     " AND stream = ?2 AND seq >= ?3 ORDER BY seq",
};

/* Maps an SQLite result code to the project's codes. */
static int
store_map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_CONSTRAINT:
		return -ERR_CONFLICT;
	case SQLITE_TOOBIG:
		return -ERR_TOO_LARGE;
	default:
		/* BUSY, LOCKED, READONLY, IOERR, CORRUPT, CANTOPEN, ... */
		return -ERR_UNAVAILABLE;
	}
}

int
store_fail(struct store *s, const char *op, int rc)
{
	log_error("store.error", "op=%s rc=%d msg=%s", op, rc,
		  sqlite3_errmsg(s->db));
	return store_map_rc(rc);
}

/* Resets a statement for its next use and drops its bindings, so that no
 * borrowed text outlives the call. */
sqlite3_stmt *
store_stmt(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->st[id];
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int
store_bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
	/* Every stored integer is a time, a count or a duration within
	 * 2^53, far inside int64. */
	return sqlite3_bind_int64(st, i, (sqlite3_int64)v);
}

/* Runs a statement that returns no rows. */
int
store_run(struct store *s, enum stmt_id id, const char *op)
{
	int rc = sqlite3_step(s->st[id]);
	sqlite3_reset(s->st[id]);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_fail(s, op, rc);
	return 0;
}

/* Job creation, first-publish payloads and state changes are committed
 * with synchronous=FULL: a 201 or a published command must survive a
 * power cut. Presence and late-result counters use NORMAL (still
 * atomic and crash-safe in WAL mode; only the last transactions may be
 * lost on power loss), since presence is re-sent with every heartbeat
 * and retained by the broker, and a lost counter changes no state. */
int
store_set_sync(struct store *s, enum sync_level level)
{
	if (s->sync == level)
		return 0;
	/* Not a prepared statement: SQLite applies PRAGMA synchronous when
	 * it compiles the statement, not when it steps it, so a statement
	 * prepared once would set the level at open (the last one prepared
	 * winning) and never again. */
	int rc = level == SYNC_FULL
		     ? sqlite3_exec(s->db, "PRAGMA synchronous=FULL", NULL,
				    NULL, NULL)
		     : sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL,
				    NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, "synchronous", rc);
	s->sync = level;
	return 0;
}

int
store_tx_begin(struct store *s, enum sync_level level)
{
	/* A write of its own is never made durable by someone else's
	 * commit, nor theirs by its own: the open batch goes first. */
	int rc = store_batch_flush(s);
	if (rc < 0)
		return rc;
	rc = store_set_sync(s, level);
	if (rc < 0)
		return rc;
	store_stmt(s, S_BEGIN);
	return store_run(s, S_BEGIN, "begin");
}

int
store_tx_commit(struct store *s)
{
	store_stmt(s, S_COMMIT);
	return store_run(s, S_COMMIT, "commit");
}

void
store_tx_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return; /* SQLite already rolled back (e.g. on SQLITE_FULL) */
	store_stmt(s, S_ROLLBACK);
	(void)store_run(s, S_ROLLBACK, "rollback");
}

int
store_tx_end(struct store *s, int rc)
{
	if (rc == 0)
		rc = store_tx_commit(s);
	if (rc < 0)
		store_tx_rollback(s);
	return rc;
}

int
store_get(struct store *s, enum stmt_id id_stmt, const char *id, const char *op,
	  store_row_fn *row, void *out, size_t size)
{
	sqlite3_stmt *st = store_stmt(s, id_stmt);
	int rc, src;

	memset(out, 0, size);
	store_bind_text(st, 1, id);
	src = sqlite3_step(st);

	if (src == SQLITE_ROW)
		rc = row(st, out);
	else if (src == SQLITE_DONE)
		rc = -ERR_NOT_FOUND;
	else
		rc = store_fail(s, op, src);
	sqlite3_reset(st);
	return rc;
}

int
store_rows(struct store *s, sqlite3_stmt *st, const char *op, size_t size,
	   store_row_fn *row, void **v, size_t *n)
{
	char *arr = NULL;
	size_t cap = 0;
	int rc = 0, src;

	*n = 0;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *na = realloc(arr, ncap * size);
			if (!na) {
				rc = -ENOMEM;
				break;
			}
			arr = na;
			cap = ncap;
		}
		rc = row(st, arr + *n * size);
		if (rc < 0)
			break;
		(*n)++;
	}
	if (rc == 0 && src != SQLITE_DONE)
		rc = store_fail(s, op, src);
	sqlite3_reset(st);
	*v = arr;
	return rc;
}

void
store_col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	/* What snprintf("%s") would give, without its cost: most of a row's
	 * columns come through here on every read. */
	size_t n = t ? strnlen((const char *)t, outlen - 1) : 0;
	memcpy(out, t ? (const char *)t : "", n);
	out[n] = '\0';
}

/* A malloc'd copy of a text column, or NULL for SQL NULL. *rc becomes
 * -ENOMEM when the copy fails. */
char *
store_col_dup(sqlite3_stmt *st, int i, int *rc)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t)
		return NULL;
	char *d = strdup((const char *)t);
	if (!d)
		*rc = -ENOMEM;
	return d;
}

uint64_t
store_col_u64(sqlite3_stmt *st, int i)
{
	sqlite3_int64 v = sqlite3_column_int64(st, i);
	return v < 0 ? 0 : (uint64_t)v;
}

enum cmdbus_state
store_col_state(sqlite3_stmt *st, int i)
{
	enum cmdbus_state state = CMDBUS_STATE_QUEUED;
	const unsigned char *t = sqlite3_column_text(st, i);
	if (!t || cmdbus_state_parse((const char *)t, &state) < 0)
		log_error("store.bad_state", "state=%s",
			  t ? (const char *)t : "NULL");
	return state;
}
/* Writable: taking the write lock and letting it go proves the file is
 * there, writable and not wedged by another process. */
static int
check(void *ud)
{
	struct store *s = ud;
	if (s->batch_open && !sqlite3_get_autocommit(s->db))
		return 0; /* the open batch already holds the write lock */
	store_stmt(s, S_BEGIN);
	int rc = store_run(s, S_BEGIN, "check");
	if (rc < 0)
		return rc;
	store_tx_rollback(s);
	return 0;
}

void
store_port(struct store *s, struct store_port *out)
{
	*out = (struct store_port){
	    .ud = s,
	    .job_create = store_job_create,
	    .job_get = store_job_get,
	    .job_executions = store_job_executions,
	    .exec_get = store_exec_get,
	    .exec_unfinished = store_exec_unfinished,
	    .exec_set_commands = store_exec_set_commands,
	    .exec_change = store_exec_change,
	    .exec_late_result = store_exec_late_result,
	    .device_put = store_device_put,
	    .device_get = store_device_get,
	    .device_list = store_device_list,
	    .devices_match = store_devices_match,
	    .check = check,
	    .batch = store_batch,
	    .batch_end = store_batch_end,
	    .exec_device_unfinished = store_exec_device_unfinished,
	    .exec_device_inflight = store_exec_device_inflight,
	    .exec_view_get = store_exec_view_get,
	    .prune = store_prune,
	    .counts = store_counts,
	    .job_list = store_job_list,
	    .exec_list = store_device_executions,
	    .job_counts = store_job_counts,
	    .job_by_key = store_job_by_key,
	    .job_cancel = store_job_cancel,
	    .output_put = store_output_put,
	    .output_get = store_output_get,
	    .devices_brief = store_devices_brief,
	    .rollout_counts = store_rollout_counts,
	    .rollout_next = store_rollout_next,
	    .exec_release = store_exec_release,
	    .job_abort = store_job_abort,
	    .job_finish = store_job_finish,
	    .rollout_jobs = store_rollout_jobs,
	};
}

/* ---- open, migrate, close ---- */

static int
pragma_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_map_rc(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return store_map_rc(rc);
}

static bool
is_wal(struct store *s)
{
	sqlite3_stmt *st = NULL;
	bool wal = false;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);
		wal = m && strcmp((const char *)m, "wal") == 0;
	}
	sqlite3_finalize(st);
	return wal;
}

int
store_schema_version(struct store *s)
{
	int v = 0;
	int rc = pragma_int(s, "PRAGMA user_version", &v);
	return rc < 0 ? rc : v;
}

static int
migrate(struct store *s, char *err, size_t errlen)
{
	int version = store_schema_version(s);
	if (version < 0) {
		snprintf(err, errlen, "cannot read schema version: %s",
			 sqlite3_errmsg(s->db));
		return version;
	}
	if ((size_t)version > NMIGRATIONS) {
		snprintf(err, errlen,
			 "database schema version %d is newer than this "
			 "program's (%zu)",
			 version, NMIGRATIONS);
		return -ERR_UNAVAILABLE;
	}
	for (size_t v = (size_t)version; v < NMIGRATIONS; v++) {
		char sql[64];
		char *msg = NULL;
		/* user_version cannot be bound; it is our own integer. */
		snprintf(sql, sizeof sql, "PRAGMA user_version=%zu", v + 1);
		int rc =
		    sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, migrations[v], NULL, NULL,
					  &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "migration to version %zu: %s",
				 v + 1, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			if (!sqlite3_get_autocommit(s->db))
				sqlite3_exec(s->db, "ROLLBACK", NULL, NULL,
					     NULL);
			return store_map_rc(rc);
		}
		log_info("store.migrated", "version=%zu", v + 1);
	}
	return 0;
}

int
store_open(const char *path, struct store **out, char *err, size_t errlen)
{
	struct store *s = calloc(1, sizeof *s);
	char *msg = NULL;
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				 SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		rc = store_map_rc(rc);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	rc = sqlite3_exec(s->db,
			  "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
			  " PRAGMA synchronous=FULL;"
			  " PRAGMA temp_store=MEMORY;",
			  NULL, NULL, &msg);
	/* journal_mode answers with the mode in force: "wal", or "memory"
	 * for an in-memory database; anything else means no WAL here. */
	if (rc == SQLITE_OK && strcmp(path, ":memory:") != 0 && !is_wal(s)) {
		snprintf(err, errlen, "%s: cannot switch to WAL mode", path);
		rc = -ERR_UNAVAILABLE;
		goto fail;
	}
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path,
			 msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		rc = store_map_rc(rc);
		goto fail;
	}
	s->sync = SYNC_FULL;
	rc = migrate(s, err, errlen);
	if (rc < 0)
		goto fail;
	for (int i = 0; i < S_COUNT; i++) {
		int prc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					     SQLITE_PREPARE_PERSISTENT,
					     &s->st[i], NULL);
		if (prc != SQLITE_OK) {
			snprintf(err, errlen, "prepare: %s",
				 sqlite3_errmsg(s->db));
			rc = store_map_rc(prc);
			goto fail;
		}
	}
	/* Checkpoints leave this connection's commits for a thread of
	 * their own (store_checkpoint.c). */
	if (strcmp(path, ":memory:") != 0) {
		rc = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint=0", NULL,
				  NULL, NULL);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "%s: %s", path,
				 sqlite3_errmsg(s->db));
			rc = store_map_rc(rc);
			goto fail;
		}
		if ((rc = store_ckpt_start(s, path)) < 0) {
			snprintf(err, errlen, "checkpoint thread: %s",
				 err_str(rc));
			goto fail;
		}
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return rc < 0 ? rc : -ERR_UNAVAILABLE;
}

void
store_close(struct store *s)
{
	if (!s)
		return;
	store_ckpt_stop(s);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db)
		sqlite3_close(s->db);
	free(s);
}
