/* SPDX-License-Identifier: MIT */
/* Read use cases. Job and execution views use the schema library's
 * encoders; device and health views are built here, from values that
 * were validated when they were stored. */
#include "views.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cmdbus/rest.h"
#include "jsonw.h"

#define VIEW_MAX (64u * 1024u * 1024u) /* bytes of one view, a sanity cap */

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

int
views_job(struct core *c, const char *id, char **out, size_t *outlen)
{
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
	rc = cmdbus_job_view_encode(&v, out, outlen);
out:
	free(ev);
	exec_list_fini(&l);
	job_rec_fini(&job);
	return rc;
}

int
views_execution(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct exec_rec e;
	struct cmdbus_execution_view v;

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	int rc = c->store.exec_get(c->store.ud, id, &e);
	if (rc < 0)
		return rc;
	exec_view_fill(&v, &e);
	rc = cmdbus_execution_view_encode(&v, out, outlen);
	exec_rec_fini(&e);
	return rc;
}

static void
device_write(struct jsonw *w, const struct device_rec *d)
{
	jsonw_raw(w, "{");
	jsonw_key(w, "id");
	jsonw_str(w, d->id);
	jsonw_raw(w, ",");
	jsonw_key(w, "online");
	jsonw_bool(w, d->online);
	jsonw_raw(w, ",");
	jsonw_key(w, "last_seen");
	jsonw_u64(w, d->last_seen);
	jsonw_raw(w, ",");
	jsonw_key(w, "boot_id");
	jsonw_str(w, d->boot_id);
	if (d->agent[0]) {
		jsonw_raw(w, ",");
		jsonw_key(w, "agent");
		jsonw_str(w, d->agent);
	}
	jsonw_raw(w, ",");
	jsonw_key(w, "labels");
	jsonw_raw(w, d->labels_json ? d->labels_json : "{}");
	jsonw_raw(w, ",");
	jsonw_key(w, "actions");
	jsonw_raw(w, d->actions_json ? d->actions_json : "[]");
	if (d->health_json) {
		jsonw_raw(w, ",");
		jsonw_key(w, "health");
		jsonw_raw(w, d->health_json);
	}
	jsonw_raw(w, "}");
}

static int
finish(struct buf *b, struct jsonw *w, char **out, size_t *outlen)
{
	if (w->err < 0) {
		buf_fini(b);
		return w->err;
	}
	*out = buf_steal(b, outlen);
	buf_fini(b);
	return *out ? 0 : -ENOMEM;
}

int
views_devices(struct core *c, char **out, size_t *outlen)
{
	struct device_list l = {0};
	struct buf b;
	struct jsonw w;

	*out = NULL;
	int rc = c->store.device_list(c->store.ud, &l);
	if (rc < 0)
		return rc;
	buf_init(&b, VIEW_MAX);
	jsonw_init(&w, &b);
	jsonw_raw(&w, "{\"devices\":[");
	for (size_t i = 0; i < l.n; i++) {
		if (i > 0)
			jsonw_raw(&w, ",");
		device_write(&w, &l.v[i]);
	}
	jsonw_raw(&w, "]}");
	device_list_fini(&l);
	return finish(&b, &w, out, outlen);
}

int
views_device(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct device_rec d;
	struct buf b;
	struct jsonw w;

	*out = NULL;
	if (!cmdbus_valid_device_id(id))
		return -ERR_NOT_FOUND;
	memset(&d, 0, sizeof d);
	int rc = c->store.device_get(c->store.ud, id, &d);
	if (rc < 0)
		return rc;
	buf_init(&b, VIEW_MAX);
	jsonw_init(&w, &b);
	device_write(&w, &d);
	device_rec_fini(&d);
	return finish(&b, &w, out, outlen);
}

int
views_health(struct core *c, bool *healthy, char **out, size_t *outlen)
{
	struct buf b;
	struct jsonw w;
	bool db = c->store.check(c->store.ud) == 0;
	bool broker = c->bus.is_connected(c->bus.ud);

	*healthy = db && broker;
	buf_init(&b, 256);
	jsonw_init(&w, &b);
	jsonw_raw(&w, "{");
	jsonw_key(&w, "status");
	jsonw_str(&w, *healthy ? "ok" : "unavailable");
	jsonw_raw(&w, ",");
	jsonw_key(&w, "database");
	jsonw_bool(&w, db);
	jsonw_raw(&w, ",");
	jsonw_key(&w, "broker");
	jsonw_bool(&w, broker);
	jsonw_raw(&w, "}");
	return finish(&b, &w, out, outlen);
}
