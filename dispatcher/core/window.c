/* SPDX-License-Identifier: MIT */
/* One durable transaction per loop pass for everything the broker side
 * and the sweep write (a commit per result would cap throughput at the
 * disk's flush rate), with the observer told only after that commit, so
 * that nobody reads back a state that a failed commit undid. */
#include "window.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "metrics.h"
#include "outbox.h"
#include "progress.h"
#include "rollout.h"

struct core_note {
	char exec[CMDBUS_ID_BUF];
	char job[CMDBUS_ID_BUF];
	enum cmdbus_state state;
};

struct core_dev {
	char id[CMDBUS_NAME_BUF];
	bool republish;
};

struct core_watch {
	char device[CMDBUS_NAME_BUF];
	char boot_id[CMDBUS_ID_BUF];
	uint64_t deadline;
};

struct core_created {
	char job[CMDBUS_ID_BUF];
	struct exec_rec *execs; /* owned */
	size_t n;
};

/* Creations whose commit failed, newest last, for their creators to
 * answer with the store's error (they are told just after the commit). */
#define FAILED_SLOTS 64

struct core_failed {
	char job[CMDBUS_ID_BUF];
	int rc;
};

struct core_batch {
	bool joined;
	struct core_created *created;
	size_t ncreated, capcreated;
	struct core_failed failed[FAILED_SLOTS];
	size_t nfailed; /* written so far; slot = n % FAILED_SLOTS */
	struct core_note *notes;
	size_t nnotes, capnotes;
	struct core_dev *devs;
	size_t ndevs, capdevs;
	struct core_watch *watch;
	size_t nwatch, capwatch;
};

/* Makes room for one more element; false when memory ran out. */
static bool
grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv = realloc(*v, ncap * size);
	if (!nv)
		return false;
	*v = nv;
	*cap = ncap;
	return true;
}

static struct core_batch *
batch_get(struct core *c)
{
	if (!c->batch)
		c->batch = calloc(1, sizeof *c->batch);
	return c->batch;
}

static void
copy_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

bool
window_join(struct core *c)
{
	struct core_batch *b = batch_get(c);
	if (!b || !c->store.batch || !c->store.batch_end)
		return false;
	if (c->store.batch(c->store.ud, true) == 0)
		b->joined = true;
	return b->joined;
}

int
window_job_created(struct core *c, const char *job, struct exec_rec *execs,
		   size_t n)
{
	struct core_batch *b = c->batch;
	if (!b || !b->joined)
		return -ERR_UNAVAILABLE;
	if (!grow((void **)&b->created, &b->capcreated, b->ncreated,
		  sizeof *b->created))
		return -ENOMEM;
	struct core_created *cr = &b->created[b->ncreated++];
	copy_str(cr->job, sizeof cr->job, job);
	cr->execs = execs;
	cr->n = n;
	return 0;
}

bool
window_job_pending(const struct core *c, const char *job)
{
	const struct core_batch *b = c->batch;
	for (size_t i = 0; b && i < b->ncreated; i++)
		if (strcmp(b->created[i].job, job) == 0)
			return true;
	return false;
}

int
window_job_failed(const struct core *c, const char *job)
{
	const struct core_batch *b = c->batch;
	if (!b)
		return 0;
	size_t n = b->nfailed < FAILED_SLOTS ? b->nfailed : FAILED_SLOTS;
	for (size_t i = 0; i < n; i++)
		if (strcmp(b->failed[i].job, job) == 0)
			return b->failed[i].rc;
	return 0;
}

static void
created_free(struct core_created *cr)
{
	for (size_t i = 0; i < cr->n; i++)
		exec_rec_fini(&cr->execs[i]);
	free(cr->execs);
	cr->execs = NULL;
	cr->n = 0;
}

/* After the commit (rc: its outcome): the new jobs' commands go out,
 * then their creators are told. */
static void
created_done(struct core *c, struct core_batch *b, int rc)
{
	/* Taken off the batch first: telling may create more jobs. */
	struct core_created *v = b->created;
	size_t n = b->ncreated;
	b->created = NULL;
	b->ncreated = b->capcreated = 0;
	for (size_t i = 0; i < n; i++) {
		/* A write of its own may have committed the batch before
		 * the one that failed: such a job exists and goes out. */
		bool ok = rc == 0;
		struct job_rec j;
		memset(&j, 0, sizeof j);
		if (!ok && c->store.job_get(c->store.ud, v[i].job, &j) == 0) {
			ok = true;
			job_rec_fini(&j);
		}
		if (ok) {
			(void)outbox_publish_prepared(c, v[i].execs, v[i].n);
		} else {
			struct core_failed *f =
			    &b->failed[b->nfailed++ % FAILED_SLOTS];
			copy_str(f->job, sizeof f->job, v[i].job);
			f->rc = rc;
		}
		core_notify_change(c, NULL, v[i].job, CMDBUS_STATE_QUEUED);
		created_free(&v[i]);
	}
	free(v);
}

bool
window_joined(const struct core *c)
{
	return c->batch && c->batch->joined;
}

void
window_leave(struct core *c)
{
	if (c->store.batch && c->batch && c->batch->joined)
		(void)c->store.batch(c->store.ud, false);
}

void
window_note(struct core *c, const struct exec_rec *e, enum cmdbus_state to)
{
	struct core_batch *b = batch_get(c);

	if (cmdbus_state_is_terminal(to)) {
		window_device(c, e->device, false);
		/* A rollout decides after the commit, on the news. */
		rollout_touch(c, e->job);
	}
	/* Without group commit the change is committed already. */
	if (!b || !b->joined ||
	    !grow((void **)&b->notes, &b->capnotes, b->nnotes,
		  sizeof *b->notes)) {
		core_notify_change(c, e->id, e->job[0] ? e->job : NULL, to);
		return;
	}
	struct core_note *n = &b->notes[b->nnotes++];
	copy_str(n->exec, sizeof n->exec, e->id);
	copy_str(n->job, sizeof n->job, e->job);
	n->state = to;
}

void
window_job_ended(struct core *c, const char *job)
{
	struct core_batch *b = batch_get(c);

	/* The note of a job has no execution: "" is told as NULL, with a
	 * terminal state, which is what wakes a job's waiters. */
	if (!b || !b->joined ||
	    !grow((void **)&b->notes, &b->capnotes, b->nnotes,
		  sizeof *b->notes)) {
		core_notify_change(c, NULL, job, CMDBUS_STATE_SUCCEEDED);
		return;
	}
	struct core_note *n = &b->notes[b->nnotes++];
	n->exec[0] = '\0';
	copy_str(n->job, sizeof n->job, job);
	n->state = CMDBUS_STATE_SUCCEEDED;
}

void
window_output(struct core *c, const struct exec_rec *e)
{
	struct core_batch *b = batch_get(c);

	if (!b || !b->joined) {
		core_notify_change(c, e->id, e->job[0] ? e->job : NULL,
				   e->state);
		return;
	}
	/* One note per execution and pass is enough to wake its readers. */
	for (size_t i = 0; i < b->nnotes; i++)
		if (strcmp(b->notes[i].exec, e->id) == 0)
			return;
	if (!grow((void **)&b->notes, &b->capnotes, b->nnotes,
		  sizeof *b->notes)) {
		core_notify_change(c, e->id, e->job[0] ? e->job : NULL,
				   e->state);
		return;
	}
	struct core_note *n = &b->notes[b->nnotes++];
	copy_str(n->exec, sizeof n->exec, e->id);
	copy_str(n->job, sizeof n->job, e->job);
	n->state = e->state;
}

void
window_device(struct core *c, const char *device, bool republish)
{
	struct core_batch *b = batch_get(c);
	if (!b)
		return;
	/* A device came online: a rollout waiting for it may go on. */
	if (republish)
		rollout_touch_all(c);
	for (size_t i = 0; i < b->ndevs; i++) {
		if (strcmp(b->devs[i].id, device) == 0) {
			b->devs[i].republish |= republish;
			return;
		}
	}
	if (!grow((void **)&b->devs, &b->capdevs, b->ndevs, sizeof *b->devs))
		return; /* the retry timer still gets there */
	struct core_dev *d = &b->devs[b->ndevs++];
	copy_str(d->id, sizeof d->id, device);
	d->republish = republish;
}

void
window_watch_boot(struct core *c, const char *device, const char *boot_id,
		  uint64_t deadline)
{
	struct core_batch *b = batch_get(c);
	if (!b)
		return;
	struct core_watch *w = NULL;
	for (size_t i = 0; i < b->nwatch; i++)
		if (strcmp(b->watch[i].device, device) == 0)
			w = &b->watch[i];
	if (!w) {
		if (!grow((void **)&b->watch, &b->capwatch, b->nwatch,
			  sizeof *b->watch))
			return;
		w = &b->watch[b->nwatch++];
	}
	copy_str(w->device, sizeof w->device, device);
	copy_str(w->boot_id, sizeof w->boot_id, boot_id);
	w->deadline = deadline;
}

const char *
window_watch_due(struct core *c, const char *device, uint64_t now)
{
	if (!c->batch)
		return NULL;
	for (size_t i = 0; i < c->batch->nwatch; i++) {
		struct core_watch *w = &c->batch->watch[i];
		if (w->deadline <= now && strcmp(w->device, device) == 0)
			return w->boot_id;
	}
	return NULL;
}

void
window_watch_done(struct core *c, uint64_t now)
{
	struct core_batch *b = c->batch;
	size_t j = 0;
	if (!b)
		return;
	for (size_t i = 0; i < b->nwatch; i++)
		if (b->watch[i].deadline > now)
			b->watch[j++] = b->watch[i];
	b->nwatch = j;
}

/* One round of core_flush: commit, tell, serve the devices. */
static void
flush_round(struct core *c)
{
	struct core_batch *b;
	int rc = 0;

	/* The pass's pending progress goes into its commit. */
	progress_flush(c);
	if (!(b = c->batch))
		return;
	if (b->joined) {
		bool committed = false;
		uint64_t us = 0;
		rc = c->store.batch_end(c->store.ud, &committed, &us);
		b->joined = false;
		if (committed)
			metrics_commit_latency(c, us);
		if (rc < 0) {
			/* Undone: the agents answer again when their
			 * commands are re-published, so nothing is lost
			 * for good. */
			c->stats.store_errors++;
			log_error("core.commit_failed",
				  "changes=%zu jobs=%zu rc=%s", b->nnotes,
				  b->ncreated, err_str(rc));
			b->nnotes = 0;
		}
	}
	if (b->ncreated > 0)
		created_done(c, b, rc);
	for (size_t i = 0; i < b->nnotes; i++)
		core_notify_change(
		    c, b->notes[i].exec[0] ? b->notes[i].exec : NULL,
		    b->notes[i].job[0] ? b->notes[i].job : NULL,
		    b->notes[i].state);
	b->nnotes = 0;
	/* Served one at a time from a copy: publishing may add devices. */
	while (b->ndevs > 0) {
		struct core_dev d = b->devs[--b->ndevs];
		outbox_device(c, d.id, d.republish);
	}
}

/* Rounds of rollout decisions per pass at most; what is still due then
 * waits for the next pass. */
#define FLUSH_ROUNDS 4

void
core_flush(struct core *c)
{
	flush_round(c);
	/* Rollouts decide on what was just committed, in a group commit of
	 * their own; what they end may make another rollout due. */
	for (int i = 0; i < FLUSH_ROUNDS && rollout_pending(c); i++) {
		window_join(c);
		rollout_run(c);
		window_leave(c);
		flush_round(c);
	}
}

void
window_fini(struct core *c)
{
	if (!c->batch)
		return;
	for (size_t i = 0; i < c->batch->ncreated; i++)
		created_free(&c->batch->created[i]);
	free(c->batch->created);
	free(c->batch->notes);
	free(c->batch->devs);
	free(c->batch->watch);
	free(c->batch);
	c->batch = NULL;
}
