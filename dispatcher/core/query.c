/* SPDX-License-Identifier: MIT */
/* The REST lists. A page asks the store for one record more than its
 * limit: when that record exists there is a next page, and its cursor is
 * the id of the last record shown (ids sort by creation time, so the
 * cursor is stable while new records arrive). */
#include "query.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cmdbus/rest.h"
#include "views.h"

/* Items of a page, encoded one by one. */
struct items {
	char **v;
	size_t *len;
	size_t n;
};

static int
items_alloc(struct items *it, size_t n)
{
	memset(it, 0, sizeof *it);
	if (n == 0)
		return 0;
	it->v = calloc(n, sizeof *it->v);
	it->len = calloc(n, sizeof *it->len);
	return it->v && it->len ? 0 : -ENOMEM;
}

static void
items_free(struct items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i]);
	free(it->v);
	free(it->len);
	memset(it, 0, sizeof *it);
}

int
query_jobs(struct core *c, const struct list_query *q, char **out,
	   size_t *outlen)
{
	struct list_query qq = *q;
	struct job_list l = {0};
	struct items it;
	int rc;

	*out = NULL;
	if (!c->store.job_list || !c->store.job_counts)
		return -ERR_UNAVAILABLE;
	qq.limit = q->limit + 1;
	rc = c->store.job_list(c->store.ud, &qq, &l);
	if (rc < 0)
		return rc;
	size_t shown = l.n > q->limit ? q->limit : l.n;
	rc = items_alloc(&it, shown);
	for (size_t i = 0; rc == 0 && i < shown; i++) {
		const struct job_rec *j = &l.v[i];
		struct cmdbus_job_view v;

		memset(&v, 0, sizeof v);
		rc = c->store.job_counts(c->store.ud, j->id, v.counts);
		if (rc < 0)
			break;
		v.id = j->id;
		v.action = j->action;
		v.args_json = j->args_json;
		v.state = j->state;
		v.created_at = j->created_at;
		v.finished_at = j->finished_at;
		v.timeout_ms = j->timeout_ms;
		v.ttl_ms = j->ttl_ms;
		v.stream = j->stream;
		v.abort_reason = j->abort_reason[0] ? j->abort_reason : NULL;
		v.summary = true;
		rc = cmdbus_job_view_encode(&v, &it.v[i], &it.len[i]);
		if (rc == 0)
			it.n++;
	}
	if (rc == 0)
		rc = cmdbus_page_encode(
		    "jobs", it.v, it.len, it.n,
		    l.n > q->limit ? l.v[shown - 1].id : NULL, out, outlen);
	items_free(&it);
	job_list_fini(&l);
	return rc;
}

/* 0 when the device has a status or any execution, else -ERR_NOT_FOUND. */
static int
device_known(struct core *c, const char *id)
{
	struct device_rec d;
	struct exec_list any = {0};
	struct list_query q = {.device = id, .limit = 1};

	memset(&d, 0, sizeof d);
	int rc = c->store.device_get(c->store.ud, id, &d);
	device_rec_fini(&d);
	if (rc != -ERR_NOT_FOUND)
		return rc;
	rc = c->store.exec_list(c->store.ud, &q, &any);
	if (rc == 0 && any.n == 0)
		rc = -ERR_NOT_FOUND;
	exec_list_fini(&any);
	return rc;
}

int
query_device_executions(struct core *c, const struct list_query *q, char **out,
			size_t *outlen)
{
	struct list_query qq = *q;
	struct exec_list l = {0};
	struct items it;
	int rc;

	*out = NULL;
	if (!c->store.exec_list)
		return -ERR_UNAVAILABLE;
	if (!q->device || !cmdbus_valid_device_id(q->device))
		return -ERR_NOT_FOUND;
	qq.limit = q->limit + 1;
	rc = c->store.exec_list(c->store.ud, &qq, &l);
	if (rc < 0)
		return rc;
	/* A device that never reported and was never targeted is unknown;
	 * one with executions is known even before its first status. */
	if (l.n == 0 && !q->cursor) {
		rc = device_known(c, q->device);
		if (rc < 0) {
			exec_list_fini(&l);
			return rc;
		}
	}
	size_t shown = l.n > q->limit ? q->limit : l.n;
	rc = items_alloc(&it, shown);
	for (size_t i = 0; rc == 0 && i < shown; i++) {
		rc = views_execution_encode(&l.v[i], &it.v[i], &it.len[i]);
		if (rc == 0)
			it.n++;
	}
	if (rc == 0)
		rc = cmdbus_page_encode(
		    "executions", it.v, it.len, it.n,
		    l.n > q->limit ? l.v[shown - 1].id : NULL, out, outlen);
	items_free(&it);
	exec_list_fini(&l);
	return rc;
}

/* Whether a sorted list of names holds `id`. */
static bool
names_have(const struct name_list *l, const char *id)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(l->v[mid], id);
		if (cmp == 0)
			return true;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

int
query_devices(struct core *c, const struct device_query *q, char **out,
	      size_t *outlen)
{
	struct device_list l = {0};
	struct name_list match = {0};
	struct items it;
	size_t shown = 0, last = 0;
	const char *next = NULL;
	int rc;

	*out = NULL;
	memset(&it, 0, sizeof it);
	/* The registry is small next to the job tables (one row per
	 * device), so the page is cut here; a label filter is matched by
	 * the store, which knows how labels are kept. */
	rc = c->store.device_list(c->store.ud, &l);
	if (rc == 0 && q->nlabels > 0) {
		char *filter = NULL;
		rc = cmdbus_status_labels_encode(q->labels, q->nlabels, &filter,
						 NULL);
		if (rc == 0)
			rc =
			    c->store.devices_match(c->store.ud, filter, &match);
		free(filter);
	}
	if (rc == 0)
		rc = items_alloc(&it, q->limit);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		const struct device_rec *d = &l.v[i];
		if (q->cursor && strcmp(d->id, q->cursor) <= 0)
			continue;
		if (q->online >= 0 && d->online != (q->online == 1))
			continue;
		if (q->nlabels > 0 && !names_have(&match, d->id))
			continue;
		if (shown == q->limit) {
			/* One more matches: the cursor is the last id shown. */
			next = shown ? l.v[last].id : NULL;
			break;
		}
		rc = views_device_encode(c, d, &it.v[shown], &it.len[shown]);
		if (rc == 0) {
			it.n = ++shown;
			last = i;
		}
	}
	if (rc == 0)
		rc = cmdbus_page_encode("devices", it.v, it.len, it.n, next,
					out, outlen);
	items_free(&it);
	name_list_fini(&match);
	device_list_fini(&l);
	return rc;
}
