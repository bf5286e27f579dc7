/* SPDX-License-Identifier: MIT */
/* Which of the store's commits reach the disk: a shim VFS over SQLite's
 * default one counts the syncs of the write-ahead log, so that a job, a
 * first payload and an execution's end are seen flushed before the
 * commit returns, and a group commit of progress only is seen not to
 * cost a flush; and the database file is flushed (checkpointed) by the
 * store's own thread, never in a commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "common/log.h"
#include "store.h"
#include "test_store_tmp.h"

/* ---- the counting VFS ---- */

static sqlite3_vfs *base_vfs;
static unsigned wal_syncs;  /* of any thread */
static unsigned main_syncs; /* of the database file, by the test */
static pthread_t test_thread;

struct cfile {
	sqlite3_file file;
	sqlite3_file *real; /* the base VFS's file, allocated after us */
	int is_wal, is_main;
};

#define REAL(f) (((struct cfile *)(f))->real)

static int
c_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}
static int
c_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int
c_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
	return REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int
c_truncate(sqlite3_file *f, sqlite3_int64 n)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int
c_sync(sqlite3_file *f, int flags)
{
	/* Only the test's thread counts: the checkpoint thread's syncs
	 * would race with the counters. */
	if (pthread_equal(pthread_self(), test_thread)) {
		if (((struct cfile *)f)->is_wal)
			wal_syncs++;
		if (((struct cfile *)f)->is_main)
			main_syncs++;
	}
	return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int
c_size(sqlite3_file *f, sqlite3_int64 *n)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int
c_lock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int
c_unlock(sqlite3_file *f, int l)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int
c_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}
static int
c_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}
static int
c_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int
c_devchar(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int
c_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int
c_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void
c_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int
c_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods cmethods = {
    .iVersion = 2,
    .xClose = c_close,
    .xRead = c_read,
    .xWrite = c_write,
    .xTruncate = c_truncate,
    .xSync = c_sync,
    .xFileSize = c_size,
    .xLock = c_lock,
    .xUnlock = c_unlock,
    .xCheckReservedLock = c_reserved,
    .xFileControl = c_fcntl,
    .xSectorSize = c_sector,
    .xDeviceCharacteristics = c_devchar,
    .xShmMap = c_shm_map,
    .xShmLock = c_shm_lock,
    .xShmBarrier = c_shm_barrier,
    .xShmUnmap = c_shm_unmap,
};

static int
c_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
       int *out_flags)
{
	struct cfile *cf = (struct cfile *)f;
	(void)vfs;
	cf->real = (sqlite3_file *)(cf + 1);
	cf->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	cf->is_main = (flags & SQLITE_OPEN_MAIN_DB) != 0;
	int rc = base_vfs->xOpen(base_vfs, name, cf->real, flags, out_flags);
	/* xClose is called even when xOpen fails, but only with methods. */
	f->pMethods = cf->real->pMethods ? &cmethods : NULL;
	return rc;
}

static sqlite3_vfs counting_vfs;

static void
vfs_install(void)
{
	test_thread = pthread_self();
	if (base_vfs)
		return;
	base_vfs = sqlite3_vfs_find(NULL);
	counting_vfs = *base_vfs;
	counting_vfs.zName = "cmdbus-count";
	counting_vfs.szOsFile = (int)sizeof(struct cfile) + base_vfs->szOsFile;
	counting_vfs.xOpen = c_open;
	assert_int_equal(sqlite3_vfs_register(&counting_vfs, 1), SQLITE_OK);
}

/* ---- fixture ---- */

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
	struct store_port p;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	char err[256] = "";

	vfs_install();
	log_set_sink(store_tmp_quiet, NULL);
	store_tmp_make("sync", f->dir, sizeof f->dir, f->path, sizeof f->path);
	if (store_open(f->path, &f->s, err, sizeof err) != 0)
		fail_msg("store_open: %s", err);
	store_port(f->s, &f->p);
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

#define JOB "01JOB0000000000000000000AA"
#define EX1 "01EXE0000000000000000000A1"
#define EX2 "01EXE0000000000000000000A2"

/* A job on two devices, the first execution with its payload built. */
static void
make_job(struct fx *f)
{
	static char payload[] = "{\"type\":\"command\"}";
	struct job_rec j;
	struct exec_rec e[2];

	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "%s", JOB);
	snprintf(j.action, sizeof j.action, "ping");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = 1000;
	j.timeout_ms = 30000;
	j.ttl_ms = 60000;
	memset(e, 0, sizeof e);
	for (size_t i = 0; i < 2; i++) {
		snprintf(e[i].id, sizeof e[i].id, "%s", i ? EX2 : EX1);
		snprintf(e[i].device, sizeof e[i].device, "dev-%zu", i + 1);
		e[i].state = CMDBUS_STATE_QUEUED;
		e[i].created_at = e[i].updated_at = 1000;
		e[i].exp_at = 61000;
	}
	e[0].command = payload; /* borrowed: job_create copies */
	snprintf(e[0].cmd_sha256, sizeof e[0].cmd_sha256, "%064d", 7);
	e[0].iat = 1000;
	assert_int_equal(f->p.job_create(f->p.ud, &j, e, 2), 0);
}

static int
change(struct fx *f, const char *id, enum cmdbus_state from,
       enum cmdbus_state to, uint64_t at)
{
	struct exec_change c = {.id = id,
				.from = from,
				.to = to,
				.at = at,
				.published = true,
				.complete_job = true};
	return f->p.exec_change(f->p.ud, &c);
}

/* One group commit of what `fn` writes; returns the WAL syncs it cost. */
static unsigned
batch_syncs(struct fx *f, void (*fn)(struct fx *))
{
	bool committed = false;
	uint64_t us = 0;
	unsigned before = wal_syncs;

	assert_int_equal(f->p.batch(f->p.ud, true), 0);
	fn(f);
	assert_int_equal(f->p.batch_end(f->p.ud, &committed, &us), 0);
	assert_true(committed);
	return wal_syncs - before;
}

static void
w_progress(struct fx *f)
{
	assert_int_equal(
	    change(f, EX1, CMDBUS_STATE_QUEUED, CMDBUS_STATE_PUBLISHED, 2000),
	    0);
	assert_int_equal(
	    change(f, EX1, CMDBUS_STATE_PUBLISHED, CMDBUS_STATE_RUNNING, 2001),
	    0);
}

static void
w_end(struct fx *f)
{
	assert_int_equal(
	    change(f, EX1, CMDBUS_STATE_RUNNING, CMDBUS_STATE_SUCCEEDED, 3000),
	    0);
}

static void
w_progress_and_end(struct fx *f)
{
	assert_int_equal(
	    change(f, EX2, CMDBUS_STATE_QUEUED, CMDBUS_STATE_RUNNING, 3001), 0);
	assert_int_equal(
	    change(f, EX2, CMDBUS_STATE_RUNNING, CMDBUS_STATE_FAILED, 3002), 0);
}

static void
w_presence(struct fx *f)
{
	struct device_rec d;

	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "dev-1");
	d.online = true;
	d.last_seen = d.status_at = 4000;
	assert_int_equal(f->p.device_put(f->p.ud, &d), 0);
}

static void
test_job_and_payload_one_flush(void **state)
{
	struct fx *f = *state;
	struct exec_rec e;
	unsigned before = wal_syncs;

	make_job(f);
	assert_int_equal(wal_syncs - before, 1);
	/* The payload came with the job, iat and digest included. */
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_string_equal(e.command, "{\"type\":\"command\"}");
	assert_int_equal(strlen(e.cmd_sha256), 64);
	exec_rec_fini(&e);
	assert_int_equal(f->p.exec_get(f->p.ud, EX2, &e), 0);
	assert_null(e.command);
	exec_rec_fini(&e);
}

static void
test_progress_batch_not_flushed(void **state)
{
	struct fx *f = *state;
	struct exec_rec e;

	make_job(f);
	assert_int_equal(batch_syncs(f, w_progress), 0);
	/* Committed all the same: another connection reads it. */
	assert_int_equal(f->p.exec_get(f->p.ud, EX1, &e), 0);
	assert_int_equal(e.state, CMDBUS_STATE_RUNNING);
	exec_rec_fini(&e);
}

static void
test_end_flushed_with_progress_before_it(void **state)
{
	struct fx *f = *state;
	struct job_rec j;

	make_job(f);
	assert_int_equal(batch_syncs(f, w_progress), 0);
	/* An end is durable before batch_end returns, and with it the
	 * progress committed before (the log is flushed in order). */
	assert_int_equal(batch_syncs(f, w_end), 1);
	/* A batch mixing both is flushed as a whole. */
	assert_int_equal(batch_syncs(f, w_progress_and_end), 1);
	assert_int_equal(f->p.job_get(f->p.ud, JOB, &j), 0);
	assert_int_equal(j.state, CMDBUS_JOB_COMPLETED);
	job_rec_fini(&j);
	/* A batch without an end after a durable one is again free. */
	assert_int_equal(batch_syncs(f, w_presence), 0);
}

/* A job of one execution with ids numbered i. */
static void
make_small_job(struct fx *f, unsigned i)
{
	struct job_rec j;
	struct exec_rec e;

	memset(&j, 0, sizeof j);
	memset(&e, 0, sizeof e);
	snprintf(j.id, sizeof j.id, "01JOB%021u", i);
	snprintf(j.action, sizeof j.action, "ping");
	j.state = CMDBUS_JOB_RUNNING;
	j.created_at = 1000 + i;
	j.ttl_ms = 60000;
	snprintf(e.id, sizeof e.id, "01EXE%021u", i);
	snprintf(e.device, sizeof e.device, "dev-%u", i % 50);
	e.state = CMDBUS_STATE_QUEUED;
	e.created_at = e.updated_at = 1000 + i;
	e.exp_at = 61000;
	assert_int_equal(f->p.job_create(f->p.ud, &j, &e, 1), 0);
}

static void
test_checkpoints_off_the_commits(void **state)
{
	struct fx *f = *state;
	unsigned before = main_syncs;

	/* Several times the log SQLite would checkpoint at by default
	 * (1 000 pages), each job a commit of its own. */
	for (unsigned i = 0; i < 400; i++)
		make_small_job(f, i);
	assert_int_equal(main_syncs, before);
	/* The store's thread copies the log into the database. */
	for (int tries = 0; tries < 200 && store_checkpoints(f->s) == 0;
	     tries++) {
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	assert_true(store_checkpoints(f->s) > 0);
	assert_int_equal(main_syncs, before);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_job_and_payload_one_flush),
	    T(test_progress_batch_not_flushed),
	    T(test_end_flushed_with_progress_before_it),
	    T(test_checkpoints_off_the_commits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
