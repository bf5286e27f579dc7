/* SPDX-License-Identifier: MIT */
/* Rollout decisions. A rollout is advanced only from what the database
 * says (its counts, its held executions, its abort mark), after the
 * commit that changed them, so a decision never rests on a state that a
 * failed commit undid, and a restart loses nothing but the list of
 * running rollouts, which is read again. */
#include "rollout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cancel.h"
#include "common/err.h"
#include "common/log.h"
#include "outbox.h"
#include "window.h"

/* Decisions per rollout and pass at most: each round releases what the
 * batch allows; another is needed only when offline targets were passed
 * over on the way. */
#define ROUNDS_MAX 8
/* Held executions read per round when offline ones may be skipped. */
#define NEXT_MAX 1024

struct ro_slot {
	char id[CMDBUS_ID_BUF];
	bool due;
	/* The abort was carried out by this process: the cancels went. */
	bool abort_done;
};

struct rollouts {
	struct ro_slot *v;
	size_t n, cap;
	bool loaded; /* the running rollouts were read from the database */
	bool due;    /* some slot is due */
};

void
rollout_resolve(const struct cmdbus_rollout *req, uint64_t total,
		struct job_rollout *out)
{
	memset(out, 0, sizeof *out);
	if (!req->present)
		return;
	if (req->batch_pct)
		out->batch = (total * req->batch_size + 99) / 100;
	else
		out->batch = req->batch_size;
	if (out->batch == 0)
		out->batch = 1;
	if (req->has_max_failures) {
		out->has_max_failures = true;
		out->max_failures = req->max_failures;
	} else if (req->has_max_failure_pct) {
		out->has_max_failures = true;
		out->max_failures = total * req->max_failure_pct / 100;
	}
	out->offline = req->offline;
	out->canary = req->canary;
}

static struct rollouts *
set_get(struct core *c)
{
	if (!c->rollouts)
		c->rollouts = calloc(1, sizeof *c->rollouts);
	return c->rollouts;
}

static struct ro_slot *
slot_find(struct rollouts *r, const char *job)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].id, job) == 0)
			return &r->v[i];
	return NULL;
}

static struct ro_slot *
slot_add(struct rollouts *r, const char *job)
{
	struct ro_slot *s = slot_find(r, job);
	if (s)
		return s;
	if (strlen(job) >= sizeof s->id)
		return NULL;
	if (r->n == r->cap) {
		size_t ncap = r->cap ? r->cap * 2 : 8;
		struct ro_slot *nv = realloc(r->v, ncap * sizeof *nv);
		if (!nv)
			return NULL; /* the sweep's reload finds it later */
		r->v = nv;
		r->cap = ncap;
	}
	s = &r->v[r->n++];
	memset(s, 0, sizeof *s);
	memcpy(s->id, job, strlen(job) + 1);
	return s;
}

static void
slot_drop(struct rollouts *r, struct ro_slot *s)
{
	*s = r->v[--r->n];
}

void
rollout_track(struct core *c, const char *job)
{
	struct rollouts *r = set_get(c);
	struct ro_slot *s = r ? slot_add(r, job) : NULL;
	if (s) {
		s->due = true;
		r->due = true;
	}
}

void
rollout_touch(struct core *c, const char *job)
{
	struct rollouts *r = c->rollouts;
	struct ro_slot *s = r && job && job[0] ? slot_find(r, job) : NULL;
	if (s) {
		s->due = true;
		r->due = true;
	}
}

/* Reads the running rollouts: those of an earlier run of the dispatcher,
 * or any that a failed allocation left out. */
static void
load(struct core *c, struct rollouts *r)
{
	struct name_list l = {0};
	if (!c->store.rollout_jobs)
		return;
	int rc = c->store.rollout_jobs(c->store.ud, &l);
	if (rc < 0) {
		log_warn("rollout.load_failed", "rc=%s", err_str(rc));
		return;
	}
	for (size_t i = 0; i < l.n; i++)
		(void)slot_add(r, l.v[i]);
	if (!r->loaded && l.n > 0)
		log_info("rollout.resume", "rollouts=%zu", l.n);
	r->loaded = true;
	name_list_fini(&l);
}

void
rollout_touch_all(struct core *c)
{
	struct rollouts *r = set_get(c);
	if (!r)
		return;
	if (!r->loaded)
		load(c, r);
	for (size_t i = 0; i < r->n; i++)
		r->v[i].due = true;
	if (r->n > 0)
		r->due = true;
}

bool
rollout_pending(const struct core *c)
{
	return c->rollouts && c->rollouts->due;
}

/* The canary has ended: its N executions were released and are over,
 * or everything was released and is over before there were N. */
static bool
canary_over(const struct job_rec *j, const struct rollout_counts *k)
{
	if (j->ro.canary == 0)
		return true;
	if (k->released >= j->ro.canary)
		return k->canary_ended >= j->ro.canary;
	return k->waiting == 0 && k->canary_ended >= k->released;
}

/* Why the rollout must stop now, into buf; false when it goes on. */
static bool
abort_reason(const struct job_rec *j, const struct rollout_counts *k, char *buf,
	     size_t len)
{
	if (j->ro.has_max_failures && k->failures > j->ro.max_failures) {
		snprintf(buf, len,
			 "max_failures exceeded: %" PRIu64
			 " failures, at most %" PRIu64 " allowed",
			 k->failures, j->ro.max_failures);
		return true;
	}
	if (j->ro.canary > 0 && canary_over(j, k) &&
	    k->canary_ok < k->canary_ended) {
		snprintf(buf, len,
			 "canary failed: %" PRIu64 " of %" PRIu64
			 " canary executions did not succeed",
			 k->canary_ended - k->canary_ok, k->canary_ended);
		return true;
	}
	return false;
}

/* How many more executions may be released now. */
static uint64_t
room(const struct job_rec *j, const struct rollout_counts *k)
{
	if (!canary_over(j, k))
		return k->released < j->ro.canary ? j->ro.canary - k->released
						  : 0;
	return k->in_progress < j->ro.batch ? j->ro.batch - k->in_progress : 0;
}

static void
expire_offline(struct core *c, struct exec_rec *e, uint64_t now)
{
	struct exec_change chg = {
	    .id = e->id,
	    .from = CMDBUS_STATE_QUEUED,
	    .to = CMDBUS_STATE_EXPIRED,
	    .at = now,
	    .error_code = CORE_E_OFFLINE,
	    .error_message = "the device was offline when its turn came",
	};
	int rc = c->store.exec_change(c->store.ud, &chg);
	if (rc < 0) {
		if (rc != -ERR_CONFLICT)
			c->stats.store_errors++;
		return;
	}
	window_note(c, e, CMDBUS_STATE_EXPIRED);
	e->state = CMDBUS_STATE_EXPIRED;
	log_info("exec.offline", "exec=%s job=%s device=%s", e->id, e->job,
		 e->device);
}

/* Carries out an abort: what was never released, or released and never
 * published, is CANCELED; what went out is sent a cancel. False when
 * some of it failed (the broker away, a store error): it is tried again
 * at the next decision. */
static bool
abort_rest(struct core *c, const struct job_rec *j, uint64_t now)
{
	struct exec_list l = {0};
	size_t held = 0, sent = 0;
	bool ok = true;

	int rc = c->store.job_executions(c->store.ud, j->id, &l);
	if (rc < 0) {
		log_error("rollout.abort_failed", "job=%s rc=%s", j->id,
			  err_str(rc));
		return false;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct exec_rec *e = &l.v[i];
		if (cmdbus_state_is_terminal(e->state))
			continue;
		if (e->held)
			held++;
		else if (e->command)
			sent++;
		if (cancel_exec(c, e, now, CORE_E_ROLLOUT_ABORTED,
				e->held ? "the rollout was aborted before "
					  "this execution was released"
					: "the rollout was aborted") < 0)
			ok = false;
	}
	log_info("rollout.aborted",
		 "job=%s canceled=%zu cancel_sent=%zu complete=%d", j->id, held,
		 sent, ok);
	exec_list_fini(&l);
	return ok;
}

/* Releases up to `limit` held executions (online ones first when the
 * policy waits; offline ones met on the way are ended by the policy).
 * Returns true when an offline one was ended, so that the counts must be
 * read again. */
static bool
release(struct core *c, const struct job_rec *j, uint64_t limit,
	uint64_t released, uint64_t now)
{
	bool wait = j->ro.offline == CMDBUS_OFFLINE_WAIT;
	struct exec_list l = {0};
	bool ended = false;
	size_t n = 0;

	int rc = c->store.rollout_next(
	    c->store.ud, j->id, wait ? (size_t)limit : NEXT_MAX, wait, &l);
	if (rc < 0) {
		log_error("rollout.next_failed", "job=%s rc=%s", j->id,
			  err_str(rc));
		return false;
	}
	/* Compacted to the front: the ones to release, in order. */
	for (size_t i = 0; i < l.n && n < limit; i++) {
		struct exec_rec *e = &l.v[i];
		if (!wait && !core_device_online(c, e->device)) {
			expire_offline(c, e, now);
			ended = true;
			continue;
		}
		if (i != n) {
			struct exec_rec tmp = l.v[n];
			l.v[n] = l.v[i];
			l.v[i] = tmp;
		}
		n++;
	}
	if (n > 0) {
		rc = c->store.exec_release(c->store.ud, l.v, n, released + 1);
		if (rc < 0) {
			c->stats.store_errors++;
			log_error("rollout.release_failed", "job=%s rc=%s",
				  j->id, err_str(rc));
			n = 0;
		}
	}
	if (n > 0) {
		for (size_t i = 0; i < n; i++) {
			l.v[i].held = false;
			l.v[i].release_seq = released + 1 + i;
		}
		log_info("rollout.release", "job=%s released=%zu from=%" PRIu64,
			 j->id, n, released + 1);
		(void)outbox_send(c, l.v, n, j, false);
	}
	exec_list_fini(&l);
	return ended;
}

/* One decision for one rollout; false when it is no longer tracked. */
static bool
advance(struct core *c, struct ro_slot *s)
{
	struct job_rec j;
	struct rollout_counts k;
	uint64_t now = clock_now_ms(c->clock);
	bool keep = true;

	memset(&j, 0, sizeof j);
	int rc = c->store.job_get(c->store.ud, s->id, &j);
	if (rc < 0)
		return rc != -ERR_NOT_FOUND;
	if (j.state != CMDBUS_JOB_RUNNING || j.ro.batch == 0) {
		job_rec_fini(&j);
		return false;
	}
	for (int round = 0; round < ROUNDS_MAX; round++) {
		rc = c->store.rollout_counts(
		    c->store.ud, j.id, j.ro.canary,
		    j.ro.offline == CMDBUS_OFFLINE_FAIL, &k);
		if (rc < 0)
			break;
		char why[JOB_ABORT_REASON_BUF];
		if (!j.aborted_at && !j.canceled_at &&
		    abort_reason(&j, &k, why, sizeof why)) {
			rc = c->store.job_abort(c->store.ud, j.id, now, why);
			if (rc < 0 && rc != -ERR_CONFLICT) {
				c->stats.store_errors++;
				break;
			}
			j.aborted_at = now;
			memcpy(j.abort_reason, why, sizeof j.abort_reason);
			log_warn("rollout.abort", "job=%s reason=\"%s\"", j.id,
				 why);
		}
		if (j.aborted_at) {
			/* After a restart, or when some could not go, the
			 * cancels go again: they are not stored. */
			if (!s->abort_done)
				s->abort_done = abort_rest(c, &j, now);
			break;
		}
		if (j.canceled_at)
			break; /* cancel_job ends every execution */
		uint64_t n = room(&j, &k);
		if (n == 0 || k.waiting == 0)
			break;
		if (!release(c, &j, n, k.released, now))
			break;
	}
	bool ended = false;
	if (c->store.job_finish(c->store.ud, j.id, now, &ended) == 0 && ended) {
		log_info("job.finished", "job=%s aborted=%d canceled=%d", j.id,
			 j.aborted_at > 0, j.canceled_at > 0);
		window_job_ended(c, j.id);
		keep = false;
	}
	job_rec_fini(&j);
	return keep;
}

void
rollout_run(struct core *c)
{
	struct rollouts *r = c->rollouts;
	if (!r || !r->due)
		return;
	r->due = false;
	/* Advancing may touch other slots (its own ends, mostly): those
	 * become due for the next round of core_flush. */
	for (size_t i = 0; i < r->n;) {
		if (!r->v[i].due) {
			i++;
			continue;
		}
		r->v[i].due = false;
		if (advance(c, &r->v[i]))
			i++;
		else
			slot_drop(r, &r->v[i]);
	}
}

int
rollout_view(struct core *c, const struct job_rec *j,
	     struct cmdbus_rollout_view *v)
{
	struct rollout_counts k;

	memset(v, 0, sizeof *v);
	if (j->ro.batch == 0 || !c->store.rollout_counts)
		return 0;
	int rc =
	    c->store.rollout_counts(c->store.ud, j->id, j->ro.canary,
				    j->ro.offline == CMDBUS_OFFLINE_FAIL, &k);
	if (rc < 0)
		return rc;
	v->present = true;
	v->batch_size = j->ro.batch;
	v->has_max_failures = j->ro.has_max_failures;
	v->max_failures = j->ro.max_failures;
	v->offline = j->ro.offline;
	v->canary = j->ro.canary;
	v->released = k.released;
	v->in_progress = k.in_progress;
	v->waiting = k.waiting;
	v->failures = k.failures;
	if (j->aborted_at)
		v->phase = "aborted";
	else if (!canary_over(j, &k))
		v->phase = "canary";
	else if (k.waiting == 0)
		v->phase = "done";
	else
		v->phase = "rolling";
	if (k.released > j->ro.canary)
		v->batch =
		    (k.released - j->ro.canary + j->ro.batch - 1) / j->ro.batch;
	return 0;
}

void
rollout_fini(struct core *c)
{
	if (!c->rollouts)
		return;
	free(c->rollouts->v);
	free(c->rollouts);
	c->rollouts = NULL;
}
