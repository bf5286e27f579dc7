/* SPDX-License-Identifier: MIT */
/* Read use cases: records loaded through the store port, turned into the
 * schema library's view structs and encoded by it. */
#include "views.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cmdbus/rest.h"
#include "rollout.h"

static void
exec_view_fill(struct cmdbus_execution_view *v, const struct exec_rec *e)
{
	memset(v, 0, sizeof *v);
	v->id = e->id;
	v->job = e->job;
	v->device = e->device;
	v->action = e->action;
	v->state = e->state;
	v->created_at = e->created_at;
	v->updated_at = e->updated_at;
	v->published_at = e->published_at;
	v->finished_at = e->finished_at;
	v->error_code = e->error_code[0] ? e->error_code : NULL;
	v->error_message = e->error_code[0] ? e->error_message : NULL;
	v->result_json = e->result;
	v->late_results = e->late_results;
}

/* Terminal executions counted by error code, codes in first-seen order;
 * the codes are borrowed from l. */
static int
count_reasons(const struct exec_list *l, struct cmdbus_reason_count **out,
	      size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct exec_rec *e = &l->v[i];
		if (!cmdbus_state_is_terminal(e->state) || !e->error_code[0])
			continue;
		size_t k = 0;
		while (k < *n && strcmp((*out)[k].code, e->error_code) != 0)
			k++;
		if (k == *n) {
			if (!*out) {
				*out = calloc(l->n, sizeof **out);
				if (!*out)
					return -ENOMEM;
			}
			(*out)[k].code = e->error_code;
			(*n)++;
		}
		(*out)[k].n++;
	}
	return 0;
}

int
views_job(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct cmdbus_reason_count *reasons = NULL;
	struct job_rec job;
	struct exec_list l = {0};
	struct cmdbus_execution_view *ev = NULL;
	struct cmdbus_job_view v;
	int rc;

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&job, 0, sizeof job);
	rc = c->store.job_get(c->store.ud, id, &job);
	if (rc < 0)
		return rc;
	rc = c->store.job_executions(c->store.ud, id, &l);
	if (rc < 0)
		goto out;

	memset(&v, 0, sizeof v);
	if (l.n > 0) {
		ev = calloc(l.n, sizeof *ev);
		if (!ev) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		exec_view_fill(&ev[i], &l.v[i]);
		v.counts[l.v[i].state]++;
	}
	v.id = job.id;
	v.action = job.action;
	v.args_json = job.args_json;
	v.state = job.state;
	v.created_at = job.created_at;
	v.finished_at = job.finished_at;
	v.timeout_ms = job.timeout_ms;
	v.ttl_ms = job.ttl_ms;
	v.stream = job.stream;
	v.executions = ev;
	v.nexecutions = l.n;
	v.targets_json = job.targets_json;
	v.abort_reason = job.abort_reason[0] ? job.abort_reason : NULL;
	rc = count_reasons(&l, &reasons, &v.nreasons);
	v.reasons = reasons;
	if (rc == 0)
		rc = rollout_view(c, &job, &v.rollout);
	if (rc == 0)
		rc = cmdbus_job_view_encode(&v, out, outlen);
out:
	free(reasons);
	free(ev);
	exec_list_fini(&l);
	job_rec_fini(&job);
	return rc;
}

int
views_execution_encode(const struct exec_rec *e, char **out, size_t *outlen)
{
	struct cmdbus_execution_view v;

	exec_view_fill(&v, e);
	return cmdbus_execution_view_encode(&v, out, outlen);
}

int
views_execution(struct core *c, const char *id, char **out, size_t *outlen)
{
	enum cmdbus_state state;

	return views_execution_read(c, id, &state, out, outlen);
}

int
views_execution_read(struct core *c, const char *id, enum cmdbus_state *state,
		     char **out, size_t *outlen)
{
	struct exec_rec e;
	struct cmdbus_execution_view v;

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	int rc = c->store.exec_view_get
		     ? c->store.exec_view_get(c->store.ud, id, &e)
		     : c->store.exec_get(c->store.ud, id, &e);
	if (rc < 0)
		return rc;
	*state = e.state;
	exec_view_fill(&v, &e);
	rc = cmdbus_execution_view_encode(&v, out, outlen);
	exec_rec_fini(&e);
	return rc;
}

static void
device_view_fill(const struct core *c, struct cmdbus_device_view *v,
		 const struct device_rec *d)
{
	memset(v, 0, sizeof *v);
	v->id = d->id;
	v->boot_id = d->boot_id;
	v->online = d->online;
	v->last_seen = d->last_seen;
	v->agent = d->agent;
	v->labels_json = d->labels_json;
	v->actions_json = d->actions_json;
	v->health_json = d->health_json;
	v->stale = core_device_stale(c, d);
}

int
views_device_encode(const struct core *c, const struct device_rec *d,
		    char **out, size_t *outlen)
{
	struct cmdbus_device_view v;

	device_view_fill(c, &v, d);
	return cmdbus_device_view_encode(&v, out, outlen);
}

int
views_device(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct device_rec d;
	struct cmdbus_device_view v;

	*out = NULL;
	if (!cmdbus_valid_device_id(id))
		return -ERR_NOT_FOUND;
	memset(&d, 0, sizeof d);
	int rc = c->store.device_get(c->store.ud, id, &d);
	if (rc < 0)
		return rc;
	device_view_fill(c, &v, &d);
	rc = cmdbus_device_view_encode(&v, out, outlen);
	device_rec_fini(&d);
	return rc;
}

int
views_job_done(struct core *c, const char *id, bool *done)
{
	struct job_rec job;

	*done = false;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&job, 0, sizeof job);
	int rc = c->store.job_get(c->store.ud, id, &job);
	if (rc == 0)
		*done = job.state != CMDBUS_JOB_RUNNING;
	job_rec_fini(&job);
	return rc;
}

int
views_execution_state(struct core *c, const char *id, enum cmdbus_state *state)
{
	struct exec_rec e;

	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	int rc = c->store.exec_get(c->store.ud, id, &e);
	if (rc == 0)
		*state = e.state;
	exec_rec_fini(&e);
	return rc;
}

int
views_health(struct core *c, bool *healthy, char **out, size_t *outlen)
{
	bool db = c->store.check(c->store.ud) == 0;
	bool broker = c->bus.is_connected(c->bus.ud);

	*out = NULL;
	*healthy = db && broker;
	return cmdbus_healthz_encode(db, broker, out, outlen);
}
