/* SPDX-License-Identifier: MIT */
/* Job creation. The job and every execution are committed before the
 * caller answers 201; publishing comes after and may fail without losing
 * anything, since unfinished executions are published again on every
 * (re)connect. */
#include "jobs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/rest.h"
#include "outbox.h"
#include "rollout.h"
#include "views.h"
#include "window.h"

static void
diag_set(struct cmdbus_diag *d, const char *field, const char *message)
{
	d->code = CMDBUS_E_MALFORMED;
	snprintf(d->field, sizeof d->field, "%s", field);
	snprintf(d->message, sizeof d->message, "%s", message);
}

/* What a target resolved to: the devices in execution order, which of
 * them are offline (or never seen), and the lists the job view shows. */
struct resolution {
	struct name_list targets;
	bool *offline; /* per target */
	struct name_list offline_ids, unknown_ids;
};

static void
resolution_fini(struct resolution *r)
{
	name_list_fini(&r->targets);
	name_list_fini(&r->offline_ids);
	name_list_fini(&r->unknown_ids);
	free(r->offline);
	memset(r, 0, sizeof *r);
}

/* Makes room for n names in each list. */
static int
resolution_alloc(struct resolution *r, size_t n)
{
	size_t cap = n ? n : 1;
	r->targets.v = calloc(cap, sizeof *r->targets.v);
	r->offline_ids.v = calloc(cap, sizeof *r->offline_ids.v);
	r->unknown_ids.v = calloc(cap, sizeof *r->unknown_ids.v);
	r->offline = calloc(cap, sizeof *r->offline);
	if (!r->targets.v || !r->offline_ids.v || !r->unknown_ids.v ||
	    !r->offline)
		return -ENOMEM;
	return 0;
}

static void
name_push(struct name_list *l, const char *id)
{
	snprintf(l->v[l->n++], sizeof l->v[0], "%s", id);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A 400 naming the listed devices the registry does not know. */
static void
diag_unknown(struct cmdbus_diag *d, const struct name_list *u)
{
	size_t off = 0, shown = u->n < 20 ? u->n : 20;
	char msg[sizeof d->message];

	off += (size_t)snprintf(msg, sizeof msg,
				"unknown device%s: ", u->n == 1 ? "" : "s");
	for (size_t i = 0; i < shown && off < sizeof msg; i++)
		off += (size_t)snprintf(msg + off, sizeof msg - off, "%s%s",
					i ? ", " : "", u->v[i]);
	if (u->n > shown && off < sizeof msg)
		(void)snprintf(msg + off, sizeof msg - off, " and %zu more",
			       u->n - shown);
	if (off < sizeof msg && u->n == shown)
		(void)snprintf(msg + off, sizeof msg - off,
			       " (set target.allow_unknown to queue for them)");
	diag_set(d, "target.devices", msg);
}

static int
resolve_devices(struct core *c, const struct cmdbus_job_request *req,
		struct resolution *r, struct cmdbus_diag *diag)
{
	int rc = resolution_alloc(r, req->ndevices);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < req->ndevices; i++) {
		struct device_rec d;
		memset(&d, 0, sizeof d);
		rc = c->store.device_get(c->store.ud, req->devices[i], &d);
		if (rc == -ERR_NOT_FOUND) {
			name_push(&r->unknown_ids, req->devices[i]);
			r->offline[r->targets.n] = true;
		} else if (rc < 0) {
			return rc;
		} else {
			if (!d.online) {
				name_push(&r->offline_ids, d.id);
				r->offline[r->targets.n] = true;
			}
			device_rec_fini(&d);
		}
		name_push(&r->targets, req->devices[i]);
	}
	/* The view lists them by id, whatever the order of the request. */
	qsort(r->offline_ids.v, r->offline_ids.n, sizeof r->offline_ids.v[0],
	      name_cmp);
	qsort(r->unknown_ids.v, r->unknown_ids.n, sizeof r->unknown_ids.v[0],
	      name_cmp);
	if (r->unknown_ids.n > 0 && !req->allow_unknown) {
		diag_unknown(diag, &r->unknown_ids);
		return -ERR_MALFORMED;
	}
	return 0;
}

/* A selector or every device, against the registry, by id. */
static int
resolve_registry(struct core *c, const struct cmdbus_job_request *req,
		 struct resolution *r)
{
	struct device_list all = {0};
	int rc;

	if (!c->store.devices_brief)
		return -ERR_UNAVAILABLE;
	rc = c->store.devices_brief(c->store.ud, &all);
	if (rc == 0)
		rc = resolution_alloc(r, all.n);
	for (size_t i = 0; rc == 0 && i < all.n; i++) {
		const struct device_rec *d = &all.v[i];
		bool match = true;
		if (req->target == CMDBUS_TARGET_LABELS) {
			rc = cmdbus_selector_match(req->terms, req->nterms,
						   d->labels_json, &match);
			if (rc == -EINVAL) {
				/* Never written by this store: skip it
				 * rather than fail every job. */
				log_warn("job.bad_labels", "device=%s", d->id);
				match = false;
				rc = 0;
			}
		}
		if (rc < 0 || !match)
			continue;
		if (!d->online) {
			name_push(&r->offline_ids, d->id);
			r->offline[r->targets.n] = true;
		}
		name_push(&r->targets, d->id);
	}
	device_list_fini(&all);
	return rc;
}

static int
resolve_target(struct core *c, const struct cmdbus_job_request *req,
	       struct resolution *r, struct cmdbus_diag *diag)
{
	if (req->target == CMDBUS_TARGET_DEVICES)
		return resolve_devices(c, req, r, diag);
	return resolve_registry(c, req, r);
}

/* An earlier job under the same idempotency key: 0 with its id when the
 * request is the same, -ERR_CONFLICT when it differs, -ERR_NOT_FOUND
 * when the key is new. */
static int
idem_lookup(struct core *c, const struct cmdbus_job_request *req,
	    const char *sha, char job_id[CMDBUS_ID_BUF],
	    struct cmdbus_diag *diag)
{
	struct job_rec prev;

	memset(&prev, 0, sizeof prev);
	int rc = c->store.job_by_key(c->store.ud, req->idempotency_key, &prev);
	if (rc < 0)
		return rc;
	if (strcmp(prev.request_sha256, sha) == 0) {
		memcpy(job_id, prev.id, CMDBUS_ID_BUF);
	} else {
		diag_set(diag, "idempotency_key",
			 "idempotency_key was used with another request");
		rc = -ERR_CONFLICT;
	}
	job_rec_fini(&prev);
	return rc;
}

/* Fills the executions of a new job; with a rollout they are held, and
 * those of offline targets end at once when its policy skips or fails
 * them. */
static int
make_executions(struct core *c, const struct job_rec *job,
		const struct resolution *r, uint64_t now,
		struct exec_rec *execs)
{
	bool rollout = job->ro.batch > 0;
	bool end_offline = rollout && job->ro.offline != CMDBUS_OFFLINE_WAIT;

	for (size_t i = 0; i < r->targets.n; i++) {
		struct exec_rec *e = &execs[i];
		int rc = id_gen_next(&c->ids, now, e->id);
		if (rc < 0)
			return rc;
		memcpy(e->job, job->id, sizeof e->job);
		memcpy(e->device, r->targets.v[i], sizeof e->device);
		memcpy(e->action, job->action, sizeof e->action);
		e->state = CMDBUS_STATE_QUEUED;
		e->created_at = e->updated_at = now;
		e->exp_at = now + job->ttl_ms;
		e->held = rollout;
		if (end_offline && r->offline[i]) {
			e->state = CMDBUS_STATE_EXPIRED;
			e->finished_at = now;
			memcpy(e->error_code, CORE_E_OFFLINE,
			       sizeof CORE_E_OFFLINE);
			e->error_message =
			    strdup("the device was offline when the job was "
				   "created");
			if (!e->error_message)
				return -ENOMEM;
		}
	}
	return 0;
}

/* Executions of a job that may join the pass's group commit at most. */
#define JOBS_GROUP_MAX 64

static int
submit(struct core *c, const struct cmdbus_job_request *req, bool grouped,
       char job_id[CMDBUS_ID_BUF], bool *existed, struct cmdbus_diag *diag)
{
	struct resolution res;
	struct exec_rec *execs = NULL;
	struct job_rec job;
	size_t n = 0, prepared = 0;
	uint64_t now;
	int rc;

	memset(&job, 0, sizeof job);
	memset(&res, 0, sizeof res);
	*existed = false;
	if (req->idempotency_key[0] && c->store.job_by_key) {
		rc = cmdbus_job_request_sha256(req, job.request_sha256);
		if (rc < 0)
			return rc;
		rc = idem_lookup(c, req, job.request_sha256, job_id, diag);
		if (rc == 0) {
			*existed = true;
			log_info("job.idempotent_repeat", "job=%s", job_id);
			return 0;
		}
		if (rc != -ERR_NOT_FOUND)
			return rc;
	}
	rc = resolve_target(c, req, &res, diag);
	if (rc < 0)
		goto out;
	n = res.targets.n;
	if (n == 0) {
		diag_set(diag, "target", "no known device matches the target");
		rc = -ERR_MALFORMED;
		goto out;
	}

	now = clock_now_ms(c->clock);
	rc = id_gen_next(&c->ids, now, job.id);
	if (rc < 0)
		goto out;
	memcpy(job.action, req->action, sizeof job.action);
	job.args_json = req->args_json; /* borrowed from req */
	job.state = CMDBUS_JOB_RUNNING;
	job.created_at = now;
	job.timeout_ms = req->timeout_ms;
	/* A command must not outlive the agents' sessions at the broker,
	 * where it waits while its device is offline. */
	job.ttl_ms = req->ttl_ms < c->cfg.session_expiry_ms
			 ? req->ttl_ms
			 : c->cfg.session_expiry_ms;
	job.stream = req->stream;
	memcpy(job.idempotency_key, req->idempotency_key,
	       sizeof job.idempotency_key);
	rollout_resolve(&req->rollout, n, &job.ro);
	rc = cmdbus_targets_encode(
	    n, (const char(*)[CMDBUS_NAME_BUF])res.offline_ids.v,
	    res.offline_ids.n,
	    (const char(*)[CMDBUS_NAME_BUF])res.unknown_ids.v,
	    res.unknown_ids.n, &job.targets_json, NULL);
	if (rc < 0)
		goto out;

	execs = calloc(n, sizeof *execs);
	if (!execs) {
		rc = -ENOMEM;
		goto out;
	}
	rc = make_executions(c, &job, &res, now, execs);
	if (rc < 0)
		goto out;
	/* The first payloads go into the job's own commit. */
	if (job.ro.batch == 0)
		prepared = outbox_prepare(c, execs, n, &job, now);

	/* Grouped, the job joins the pass's group commit: one flush for
	 * every job created in the pass. A large job commits on its own: in
	 * the group commit it would take a savepoint, whose journal keeps in
	 * memory the old content of every page its rows touch. */
	grouped = grouped && n <= JOBS_GROUP_MAX && window_join(c);
	rc = c->store.job_create(c->store.ud, &job, execs, n);
	if (grouped)
		window_leave(c);
	if (rc < 0) {
		c->stats.store_errors++;
		log_error("job.store_failed", "job=%s devices=%zu rc=%s",
			  job.id, n, err_str(rc));
		goto out;
	}
	c->stats.jobs_created++;
	log_info("job.created",
		 "job=%s action=%s devices=%zu offline=%zu unknown=%zu "
		 "ttl_ms=%llu batch=%llu",
		 job.id, job.action, n, res.offline_ids.n, res.unknown_ids.n,
		 (unsigned long long)job.ttl_ms,
		 (unsigned long long)job.ro.batch);

	if (grouped) {
		if (job.ro.batch > 0)
			rollout_track(c, job.id);
		if (window_job_created(c, job.id, execs, n) == 0) {
			execs = NULL; /* the batch's now */
			memcpy(job_id, job.id, CMDBUS_ID_BUF);
			goto out;
		}
		/* Not noted: committed here and now instead. */
		core_flush(c);
		if (job.ro.batch == 0 && prepared > 0)
			(void)outbox_publish_prepared(c, execs, n);
		memcpy(job_id, job.id, CMDBUS_ID_BUF);
		goto out;
	}
	/* Committed: from here on the job exists whatever happens. */
	if (job.ro.batch > 0) {
		/* The first batch is released and committed before the
		 * answer, which then shows it. */
		rollout_track(c, job.id);
		core_flush(c);
	} else if (prepared > 0) {
		(void)outbox_publish_prepared(c, execs, n);
	}
	memcpy(job_id, job.id, CMDBUS_ID_BUF);

out:
	if (execs) {
		for (size_t i = 0; i < n; i++)
			exec_rec_fini(&execs[i]);
		free(execs);
	}
	job.args_json = NULL; /* req's */
	job_rec_fini(&job);
	resolution_fini(&res);
	return rc;
}

int
jobs_submit(struct core *c, const struct cmdbus_job_request *req,
	    char job_id[CMDBUS_ID_BUF], bool *existed, struct cmdbus_diag *diag)
{
	return submit(c, req, false, job_id, existed, diag);
}

int
jobs_submit_grouped(struct core *c, const struct cmdbus_job_request *req,
		    char job_id[CMDBUS_ID_BUF], bool *existed,
		    struct cmdbus_diag *diag)
{
	return submit(c, req, true, job_id, existed, diag);
}

int
jobs_create(struct core *c, const char *body, size_t len, char **view,
	    size_t *viewlen, struct cmdbus_diag *diag)
{
	bool existed;
	return jobs_create_idem(c, body, len, view, viewlen, &existed, diag);
}

int
jobs_create_idem(struct core *c, const char *body, size_t len, char **view,
		 size_t *viewlen, bool *existed, struct cmdbus_diag *diag)
{
	struct cmdbus_job_request req;
	char id[CMDBUS_ID_BUF];
	int rc;

	memset(diag, 0, sizeof *diag);
	*view = NULL;
	*existed = false;
	rc = cmdbus_job_request_decode(body, len, &req, diag);
	if (rc == 0)
		rc = jobs_submit(c, &req, id, existed, diag);
	if (rc == 0)
		rc = views_job(c, id, view, viewlen);
	cmdbus_job_request_fini(&req);
	return rc;
}
