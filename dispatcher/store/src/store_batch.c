/* SPDX-License-Identifier: MIT */
/* Group commit of the writes that come from the broker side, and the
 * store's housekeeping queries: a device's unfinished executions,
 * retention in small batches and the counts the metrics show. */
#include "store_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/rest.h"

enum join_kind {
	JOIN_NONE,
	JOIN_AUTOCOMMIT,
	JOIN_OWN_TX,
	JOIN_SAVEPOINT,
	JOIN_BARE
};

static uint64_t
mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* SQLite may roll a whole transaction back by itself (SQLITE_FULL,
 * SQLITE_IOERR, ...); the batch is then gone and says so at its end. */
static bool
batch_alive(struct store *s)
{
	if (s->batch_open && sqlite3_get_autocommit(s->db)) {
		s->batch_open = false;
		s->batch_lost = true;
		if (s->batch_rc == 0)
			s->batch_rc = -ERR_UNAVAILABLE;
	}
	return s->batch_open;
}

/* Makes what is committed durable: the write-ahead log is flushed, as
 * synchronous=FULL does at a commit. */
static int
wal_sync(struct store *s)
{
	sqlite3_file *f = NULL;
	int rc = sqlite3_file_control(s->db, "main",
				      SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc != SQLITE_OK)
		return store_fail(s, "wal_sync", rc);
	if (!f || !f->pMethods)
		return 0; /* no log: an in-memory database */
	rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
	return rc == SQLITE_OK ? 0 : store_fail(s, "wal_sync", rc);
}

/* Commits the open batch, durably when one of its writes asked for it.
 * A batch begins at synchronous=NORMAL (SQLite refuses to change the
 * level inside a transaction), and one that carries a job, a payload or
 * an execution's end has its log flushed right after the commit, before
 * anyone is told. A batch of progress only (PUBLISHED, DELIVERED,
 * RUNNING, presence, output) is not flushed: log frames become durable
 * in order, so the next flush carries it along, and a power cut can
 * only lose a tail of progress, which the re-publish after a restart
 * gets back from the agent. */
static int
batch_commit(struct store *s)
{
	bool full = s->batch_full;
	s->batch_full = false;
	int rc = store_tx_commit(s);
	if (rc == 0 && full)
		rc = wal_sync(s);
	return rc;
}

int
store_batch_flush(struct store *s)
{
	if (!batch_alive(s))
		return 0;
	s->batch_open = false;
	int rc = batch_commit(s);
	if (rc < 0) {
		store_tx_rollback(s);
		s->batch_lost = true;
		s->batch_rc = rc;
	}
	return rc;
}

/* Opens the batch transaction unless it is open; marks it durable. */
static int
batch_open(struct store *s, enum sync_level level)
{
	int rc;

	if (!batch_alive(s)) {
		if ((rc = store_set_sync(s, SYNC_NORMAL)) < 0)
			return rc;
		store_stmt(s, S_BEGIN);
		if ((rc = store_run(s, S_BEGIN, "batch_begin")) < 0)
			return rc;
		s->batch_open = true;
		s->batch_full = false;
	}
	if (level == SYNC_FULL)
		s->batch_full = true;
	return 0;
}

int
store_tx_join_one(struct store *s, enum sync_level level)
{
	if (!s->batch_on)
		return store_tx_join(s, level);
	/* A statement that fails undoes its own changes and no more, so a
	 * single statement needs no savepoint of its own. */
	int rc = batch_open(s, level);
	s->join_kind = rc == 0 ? JOIN_BARE : JOIN_NONE;
	return rc;
}

int
store_tx_join(struct store *s, enum sync_level level)
{
	int rc;

	if (!s->batch_on) {
		if (level == SYNC_NORMAL) {
			/* One statement: atomic on its own. */
			if ((rc = store_batch_flush(s)) < 0 ||
			    (rc = store_set_sync(s, SYNC_NORMAL)) < 0)
				return rc;
			s->join_kind = JOIN_AUTOCOMMIT;
			return 0;
		}
		rc = store_tx_begin(s, level);
		s->join_kind = rc == 0 ? JOIN_OWN_TX : JOIN_NONE;
		return rc;
	}
	if ((rc = batch_open(s, level)) < 0)
		return rc;
	store_stmt(s, S_SAVEPOINT);
	rc = store_run(s, S_SAVEPOINT, "savepoint");
	s->join_kind = rc == 0 ? JOIN_SAVEPOINT : JOIN_NONE;
	return rc;
}

int
store_tx_leave(struct store *s, int rc)
{
	enum join_kind k = (enum join_kind)s->join_kind;

	s->join_kind = JOIN_NONE;
	switch (k) {
	case JOIN_OWN_TX:
		return store_tx_end(s, rc);
	case JOIN_BARE:
		if (!batch_alive(s)) {
			s->batch_rc = rc < 0 ? rc : s->batch_rc;
			return rc < 0 ? rc : s->batch_rc;
		}
		return rc;
	case JOIN_SAVEPOINT: {
		if (!batch_alive(s)) {
			/* Rolled back with everything before it. */
			s->batch_rc = rc < 0 ? rc : s->batch_rc;
			return rc < 0 ? rc : s->batch_rc;
		}
		if (rc < 0) {
			/* Only this write is undone; the others stay. */
			store_stmt(s, S_ROLLBACK_TO);
			(void)store_run(s, S_ROLLBACK_TO, "rollback_to");
		}
		store_stmt(s, S_RELEASE);
		int rrc = store_run(s, S_RELEASE, "release");
		return rc < 0 ? rc : rrc;
	}
	default:
		return rc;
	}
}

int
store_batch(void *ud, bool on)
{
	struct store *s = ud;
	s->batch_on = on;
	return 0;
}

int
store_batch_end(void *ud, bool *committed, uint64_t *commit_us)
{
	struct store *s = ud;
	int rc = 0;

	*committed = false;
	*commit_us = 0;
	s->batch_on = false;
	if (batch_alive(s)) {
		uint64_t t0 = mono_us();
		s->batch_open = false;
		rc = batch_commit(s);
		*commit_us = mono_us() - t0;
		if (rc < 0)
			store_tx_rollback(s);
		else
			*committed = true;
	}
	if (rc == 0 && s->batch_lost)
		rc = s->batch_rc < 0 ? s->batch_rc : -ERR_UNAVAILABLE;
	s->batch_lost = false;
	s->batch_rc = 0;
	return rc;
}

int
store_exec_device_inflight(void *ud, const char *device, uint64_t *n)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_EXEC_DEVICE_INFLIGHT);

	store_bind_text(st, 1, device);
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : store_fail(s, "exec_device_inflight", rc);
}

int
store_exec_device_unfinished(void *ud, const char *device, size_t limit,
			     struct exec_list *out)
{
	struct store *s = ud;
	sqlite3_stmt *st = store_stmt(s, S_EXEC_DEVICE_UNFINISHED);
	void *v = NULL;

	store_bind_text(st, 1, device);
	store_bind_u64(st, 2, limit);
	int rc = store_rows(s, st, "exec_device_unfinished", sizeof *out->v,
			    store_exec_row, &v, &out->n);
	out->v = v;
	if (rc < 0)
		exec_list_fini(out);
	return rc;
}

static int
prune_one(struct store *s, enum stmt_id id, uint64_t before, size_t limit,
	  uint64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, id);
	store_bind_u64(st, 1, before);
	store_bind_u64(st, 2, limit);
	int rc = store_run(s, id, "prune");
	*n = rc == 0 ? (uint64_t)sqlite3_changes(s->db) : 0;
	return rc;
}

int
store_prune(void *ud, uint64_t before, size_t limit, uint64_t *execs,
	    uint64_t *jobs)
{
	struct store *s = ud;

	*execs = *jobs = 0;
	/* Losing a deletion to a power cut only defers it. */
	int rc = store_tx_begin(s, SYNC_NORMAL);
	if (rc < 0)
		return rc;
	rc = prune_one(s, S_PRUNE_EXECS, before, limit, execs);
	if (rc == 0)
		rc = prune_one(s, S_PRUNE_JOBS, before, limit, jobs);
	return store_tx_end(s, rc);
}

int
store_counts(void *ud, uint64_t stale_before, struct store_counts *out)
{
	struct store *s = ud;
	sqlite3_stmt *st;
	int src;

	memset(out, 0, sizeof *out);
	st = store_stmt(s, S_COUNT_EXECS);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		enum cmdbus_state state;
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (!t || cmdbus_state_parse((const char *)t, &state) < 0)
			continue;
		uint64_t n = store_col_u64(st, 1);
		uint64_t sent = store_col_u64(st, 2);
		out->execs[state] = n;
		if (!cmdbus_state_is_terminal(state)) {
			out->inflight += sent;
			if (state == CMDBUS_STATE_QUEUED)
				out->waiting += n - sent;
		}
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_fail(s, "count_execs", src);

	st = store_stmt(s, S_COUNT_JOBS);
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		enum cmdbus_job_state js;
		const unsigned char *t = sqlite3_column_text(st, 0);
		if (t && cmdbus_job_state_parse((const char *)t, &js) == 0 &&
		    (int)js < STORE_JOB_STATES)
			out->jobs[js] = store_col_u64(st, 1);
	}
	sqlite3_reset(st);
	if (src != SQLITE_DONE)
		return store_fail(s, "count_jobs", src);

	st = store_stmt(s, S_COUNT_DEVICES);
	store_bind_u64(st, 1, stale_before);
	src = sqlite3_step(st);
	if (src == SQLITE_ROW) {
		out->devices = store_col_u64(st, 0);
		out->devices_online = store_col_u64(st, 1);
		out->devices_stale = store_col_u64(st, 2);
	}
	sqlite3_reset(st);
	if (src != SQLITE_ROW)
		return store_fail(s, "count_devices", src);
	return 0;
}
