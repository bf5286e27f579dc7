/* SPDX-License-Identifier: MIT */
/* Checkpoints of the write-ahead log by a thread of its own, on a
 * connection of its own: copying pages into the database file and
 * flushing it then never holds up the loop, whose connection does not
 * checkpoint (wal_autocheckpoint=0). A PASSIVE checkpoint takes no lock
 * that the writer waits for; the writer starts the log over once a
 * checkpoint has copied all of it. The hand-off is the stop flag alone. */
#include "store_priv.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

/* How often the log is checkpointed. */
#define CKPT_INTERVAL_MS 250
/* Frames (4 KiB each) past which a checkpoint makes the writer wait. */
#define CKPT_RESTART_FRAMES 65536

struct store_ckpt {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	char *path;
	unsigned long runs; /* checkpoints that copied something */
	int last_log;	    /* the log's frames at the last checkpoint */
};

static void
deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
ckpt_main(void *arg)
{
	struct store_ckpt *k = arg;
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(k->path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_error("store.checkpoint_open", "path=%s err=%s", k->path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 1000);
	/* A connection learns that the database is in WAL mode when it
	 * first reads it; until then a checkpoint does nothing. */
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) !=
	    SQLITE_OK)
		log_warn("store.checkpoint_wal", "path=%s err=%s", k->path,
			 sqlite3_errmsg(db));
	pthread_mutex_lock(&k->mu);
	while (!k->stop) {
		struct timespec ts;
		deadline_after(&ts, CKPT_INTERVAL_MS);
		while (!k->stop &&
		       pthread_cond_timedwait(&k->cv, &k->mu, &ts) != ETIMEDOUT)
			;
		if (k->stop)
			break;
		pthread_mutex_unlock(&k->mu);
		int log_frames = 0, copied = 0;
		/* A log that a writer never let start over has grown past
		 * reason: this once, the writer waits for it to be copied. */
		int mode = k->last_log > CKPT_RESTART_FRAMES
			       ? SQLITE_CHECKPOINT_RESTART
			       : SQLITE_CHECKPOINT_PASSIVE;
		int rc = sqlite3_wal_checkpoint_v2(db, "main", mode,
						   &log_frames, &copied);
		k->last_log = log_frames;
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			log_warn("store.checkpoint_failed", "err=%s",
				 sqlite3_errstr(rc));
		pthread_mutex_lock(&k->mu);
		if (rc == SQLITE_OK && copied > 0)
			k->runs++;
	}
	pthread_mutex_unlock(&k->mu);
	sqlite3_close(db);
	return NULL;
}

int
store_ckpt_start(struct store *s, const char *path)
{
	struct store_ckpt *k = calloc(1, sizeof *k);
	pthread_condattr_t ca;

	if (!k || !(k->path = strdup(path))) {
		free(k);
		return -ENOMEM;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&k->th, NULL, ckpt_main, k);
	if (rc != 0) {
		pthread_cond_destroy(&k->cv);
		pthread_mutex_destroy(&k->mu);
		free(k->path);
		free(k);
		return -rc;
	}
	s->ckpt = k;
	return 0;
}

void
store_ckpt_stop(struct store *s)
{
	struct store_ckpt *k = s->ckpt;
	if (!k)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = true;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k->path);
	free(k);
	s->ckpt = NULL;
}

unsigned long
store_checkpoints(const struct store *s)
{
	struct store_ckpt *k = s->ckpt;
	unsigned long n;
	if (!k)
		return 0;
	pthread_mutex_lock(&k->mu);
	n = k->runs;
	pthread_mutex_unlock(&k->mu);
	return n;
}
