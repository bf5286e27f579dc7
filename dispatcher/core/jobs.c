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
#include "views.h"

static void
diag_set(struct cmdbus_diag *d, const char *field, const char *message)
{
	d->code = CMDBUS_E_MALFORMED;
	snprintf(d->field, sizeof d->field, "%s", field);
	snprintf(d->message, sizeof d->message, "%s", message);
}

/* The device ids a request's target names, in a stable order. */
static int
resolve_target(struct core *c, const struct cmdbus_job_request *req,
	       struct name_list *out)
{
	switch (req->target) {
	case CMDBUS_TARGET_DEVICES:
		out->v = calloc(req->ndevices, sizeof *out->v);
		if (!out->v)
			return -ENOMEM;
		memcpy(out->v, req->devices, req->ndevices * sizeof *out->v);
		out->n = req->ndevices;
		return 0;
	case CMDBUS_TARGET_LABELS: {
		/* The store matches this canonical form of the labels. */
		char *filter = NULL;
		int rc = cmdbus_status_labels_encode(req->labels, req->nlabels,
						     &filter, NULL);
		if (rc == 0)
			rc = c->store.devices_match(c->store.ud, filter, out);
		free(filter);
		return rc;
	}
	case CMDBUS_TARGET_ALL:
		return c->store.devices_match(c->store.ud, NULL, out);
	}
	return -EINVAL;
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

int
jobs_submit(struct core *c, const struct cmdbus_job_request *req,
	    char job_id[CMDBUS_ID_BUF], bool *existed, struct cmdbus_diag *diag)
{
	struct name_list targets = {0};
	struct exec_rec *execs = NULL;
	struct job_rec job;
	uint64_t now;
	int rc;

	memset(&job, 0, sizeof job);
	*existed = false;
	if (req->rollout.present) {
		diag_set(diag, "rollout", "rollout: not supported yet");
		return -ERR_MALFORMED;
	}
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
	rc = resolve_target(c, req, &targets);
	if (rc < 0)
		goto out;
	if (targets.n == 0) {
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

	execs = calloc(targets.n, sizeof *execs);
	if (!execs) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < targets.n; i++) {
		struct exec_rec *e = &execs[i];
		rc = id_gen_next(&c->ids, now, e->id);
		if (rc < 0)
			goto out;
		memcpy(e->job, job.id, sizeof e->job);
		memcpy(e->device, targets.v[i], sizeof e->device);
		memcpy(e->action, job.action, sizeof e->action);
		e->state = CMDBUS_STATE_QUEUED;
		e->created_at = e->updated_at = now;
		e->exp_at = now + job.ttl_ms;
	}

	rc = c->store.job_create(c->store.ud, &job, execs, targets.n);
	if (rc < 0) {
		c->stats.store_errors++;
		log_error("job.store_failed", "job=%s devices=%zu rc=%s",
			  job.id, targets.n, err_str(rc));
		goto out;
	}
	c->stats.jobs_created++;
	log_info("job.created", "job=%s action=%s devices=%zu ttl_ms=%llu",
		 job.id, job.action, targets.n, (unsigned long long)job.ttl_ms);

	/* Committed: from here on the job exists whatever happens. */
	(void)outbox_publish(c, execs, targets.n, &job);
	memcpy(job_id, job.id, CMDBUS_ID_BUF);

out:
	if (execs) {
		for (size_t i = 0; i < targets.n; i++)
			exec_rec_fini(&execs[i]);
		free(execs);
	}
	name_list_fini(&targets);
	return rc;
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
