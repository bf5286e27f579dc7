/* SPDX-License-Identifier: MIT */
/* The resources of the REST API: query parameters checked (a bad one is
 * a 400 naming it), the core's use cases called, and their answers sent.
 * A handler that waits is called again when its request is resumed, and
 * then looks at the state afresh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

#include "common/err.h"
#include "common/log.h"
#include "common/parse.h"
#include "cmdbus/jsonv.h"
#include "cmdbus/rest.h"
#include "cancel.h"
#include "jobs.h"
#include "metrics.h"
#include "output.h"
#include "query.h"
#include "views.h"
#include "window.h"

/* A refusal of a query parameter: 400 naming it. */
static enum MHD_Result
bad_param(struct http *h, struct request *rq, const char *name,
	  const char *message)
{
	return http_reply_error(h, rq, MHD_HTTP_BAD_REQUEST, "malformed",
				message, name);
}

static const char *
arg(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

/* An integer parameter within [min, max]; absent: def. */
static int
arg_u64(struct request *rq, const char *name, uint64_t min, uint64_t max,
	uint64_t def, uint64_t *out)
{
	const char *v = arg(rq, name);
	*out = def;
	if (!v)
		return 0;
	return parse_u64(v, min, max, out) < 0 ? -ERR_MALFORMED : 0;
}

/* ?wait=SECONDS, capped at the server's maximum. */
static int
arg_wait(struct http *h, struct request *rq, uint64_t *wait_ms)
{
	uint64_t s = 0;
	if (arg_u64(rq, "wait", 0, CMDBUS_MAX_INT, 0, &s) < 0)
		return -ERR_MALFORMED;
	*wait_ms = s > h->max_wait_ms / 1000 ? h->max_wait_ms : s * 1000;
	return 0;
}

/* Sets the deadline at the first call; true while there is time left. */
static bool
wait_more(struct http *h, struct request *rq, uint64_t wait_ms)
{
	uint64_t now = loop_now_ms(h->loop);

	if (!rq->waiting) {
		rq->waiting = true;
		rq->deadline = now + wait_ms;
	}
	return !h->stopping && !rq->gone && wait_ms > 0 && now < rq->deadline;
}

/* The filters and page of a list; *bad names a refused parameter. */
static int
list_args(struct request *rq, bool jobs, struct list_query *q, const char **bad,
	  const char **why)
{
	uint64_t limit = 0;
	const char *v;

	memset(q, 0, sizeof *q);
	*why = NULL;
	if (arg_u64(rq, "limit", 1, QUERY_MAX_LIMIT, QUERY_DEFAULT_LIMIT,
		    &limit) < 0) {
		*bad = "limit";
		*why = "limit is an integer in 1..500";
		return -ERR_MALFORMED;
	}
	q->limit = (size_t)limit;
	if ((v = arg(rq, "cursor")) && !cmdbus_valid_id(v)) {
		*bad = "cursor";
		*why = "cursor is not one this server gave";
		return -ERR_MALFORMED;
	}
	q->cursor = v;
	if ((v = arg(rq, "state"))) {
		enum cmdbus_job_state js;
		enum cmdbus_state es;
		if (jobs ? cmdbus_job_state_parse(v, &js) < 0
			 : cmdbus_state_parse(v, &es) < 0 ||
			       es == CMDBUS_STATE_ACCEPTED) {
			*bad = "state";
			*why = jobs ? "state is RUNNING, COMPLETED, CANCELED "
				      "or ABORTED"
				    : "state is an execution state";
			return -ERR_MALFORMED;
		}
		q->state = v;
	}
	if (jobs && (v = arg(rq, "device"))) {
		if (!cmdbus_valid_device_id(v)) {
			*bad = "device";
			*why = "device is not a device id";
			return -ERR_MALFORMED;
		}
		q->device = v;
	}
	if ((v = arg(rq, "action")) && !cmdbus_valid_action(v)) {
		*bad = "action";
		*why = "action is not an action name";
		return -ERR_MALFORMED;
	}
	q->action = v;
	if (arg_u64(rq, "since", 0, CMDBUS_MAX_INT, 0, &q->since) < 0) {
		*bad = "since";
		*why = "since is a time in ms since the epoch";
		return -ERR_MALFORMED;
	}
	q->has_until = arg(rq, "until") != NULL;
	if (arg_u64(rq, "until", 0, CMDBUS_MAX_INT, 0, &q->until) < 0 ||
	    (q->has_until && q->until < q->since)) {
		*bad = "until";
		*why = "until is a time in ms since the epoch, not before "
		       "since";
		return -ERR_MALFORMED;
	}
	return 0;
}

/* ---- the audit ---- */

/* Audits a change to a job: its action and the number of executions it
 * has come from the job's record (the resolution it keeps). */
static void
audit_job(struct http *h, struct request *rq, const char *event,
	  const char *job_id, const char *target, unsigned status)
{
	struct job_rec job;
	struct audit_rec a = {
	    .event = event, .job = job_id, .target = target, .status = status};

	memset(&job, 0, sizeof job);
	if (h->core->store.job_get(h->core->store.ud, job_id, &job) == 0) {
		a.action = job.action;
		struct cmdbus_jsonv *doc = NULL;
		int64_t n = 0;
		if (job.targets_json &&
		    cmdbus_jsonv_parse(job.targets_json,
				       strlen(job.targets_json), &doc, NULL,
				       0) == 0 &&
		    cmdbus_jnode_int(
			cmdbus_jnode_get(cmdbus_jsonv_root(doc), "matched"),
			&n) == 0 &&
		    n > 0)
			a.ndevices = (size_t)n;
		cmdbus_jsonv_free(doc);
	}
	http_audit(h, rq, &a);
	job_rec_fini(&job);
}

static const char *
target_name(enum cmdbus_target_kind k)
{
	return k == CMDBUS_TARGET_DEVICES  ? "devices"
	       : k == CMDBUS_TARGET_LABELS ? "labels"
					   : "all";
}

/* A new job's answer waits for the pass's group commit at most this
 * long; the commit comes at the end of the same loop pass. */
#define COMMIT_WAIT_MS 60000

/* Suspends a request until the group commit of the job it created. */
static enum MHD_Result
wait_commit(struct http *h, struct request *rq)
{
	if (!rq->waiting) {
		rq->waiting = true;
		rq->deadline = loop_now_ms(h->loop) + COMMIT_WAIT_MS;
	}
	http_wait_commit(h, rq);
	return MHD_YES;
}

/* What a creator answers when its job is not there after the commit:
 * the store's error (507 when the disk is full), else 503. */
static int
commit_failure(struct http *h, const char *job)
{
	int rc = window_job_failed(h->core, job);
	return rc < 0 ? rc : -ERR_UNAVAILABLE;
}

/* POST /v1/jobs: the job joins the pass's group commit, and the answer
 * (201 with its view, or 200 for an idempotent repeat) goes after that
 * commit; a job whose commit failed does not exist: 503. */
static enum MHD_Result
job_create(struct http *h, struct request *rq)
{
	struct cmdbus_diag diag;
	char *out = NULL;
	size_t outlen = 0;
	int rc;

	memset(&diag, 0, sizeof diag);
	if (!rq->wait_job[0]) {
		struct cmdbus_job_request req;
		bool existed = false;
		rc = cmdbus_job_request_decode(rq->body.data ? rq->body.data
							     : "",
					       rq->body.len, &req, &diag);
		if (rc == 0)
			rc = jobs_submit_grouped(h->core, &req, rq->wait_job,
						 &existed, &diag);
		rq->created_status = existed ? MHD_HTTP_OK : MHD_HTTP_CREATED;
		rq->created_target = target_name(req.target);
		cmdbus_job_request_fini(&req);
		if (rc < 0) {
			rq->wait_job[0] = '\0';
			if (rc == -ERR_MALFORMED || rc == -ERR_CONFLICT)
				log_info("http.job_refused",
					 "who=%s field=%s message=%s", rq->who,
					 diag.field[0] ? diag.field : "-",
					 diag.message);
			return http_reply_rc(h, rq, rc, &diag);
		}
		if (window_job_pending(h->core, rq->wait_job))
			return wait_commit(h, rq);
	}
	rc = views_job(h->core, rq->wait_job, &out, &outlen);
	if (rc == -ERR_NOT_FOUND)
		rc = commit_failure(h, rq->wait_job);
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	audit_job(h, rq, "job.create", rq->wait_job, rq->created_target,
		  rq->created_status);
	return http_reply(h, rq, rq->created_status, out, outlen, NULL, NULL);
}

/* GET /v1/tokens: names and roles, never digests. */
static int
tokens_list(struct http *h, char **out, size_t *outlen)
{
	struct cmdbus_jsonw *w = cmdbus_jsonw_new();
	if (!w)
		return -ENOMEM;
	cmdbus_jsonw_obj_begin(w, NULL);
	cmdbus_jsonw_arr_begin(w, "tokens");
	for (size_t i = 0; i < h->tokens.n; i++) {
		cmdbus_jsonw_obj_begin(w, NULL);
		cmdbus_jsonw_str(w, "name", h->tokens.v[i].name);
		cmdbus_jsonw_str(w, "role",
				 http_role_name(h->tokens.v[i].role));
		cmdbus_jsonw_obj_end(w);
	}
	cmdbus_jsonw_arr_end(w);
	cmdbus_jsonw_obj_end(w);
	int rc = cmdbus_jsonw_finish(w, out, outlen);
	cmdbus_jsonw_free(w);
	return rc;
}

/* ---- GET /v1/devices ---- */

struct label_args {
	struct cmdbus_label v[QUERY_MAX_LABELS];
	char buf[QUERY_MAX_LABELS][2][CMDBUS_NAME_BUF];
	size_t n;
	bool bad;
};

static enum MHD_Result
on_label(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct label_args *la = cls;
	(void)kind;
	if (strcmp(key, "label") != 0)
		return MHD_YES;
	const char *colon = value ? strchr(value, ':') : NULL;
	size_t kl = colon ? (size_t)(colon - value) : 0;
	if (!colon || la->n == QUERY_MAX_LABELS || kl > CMDBUS_NAME_MAX ||
	    strlen(colon + 1) > CMDBUS_NAME_MAX) {
		la->bad = true;
		return MHD_NO;
	}
	memcpy(la->buf[la->n][0], value, kl);
	la->buf[la->n][0][kl] = '\0';
	snprintf(la->buf[la->n][1], CMDBUS_NAME_BUF, "%s", colon + 1);
	if (!cmdbus_valid_label(la->buf[la->n][0]) ||
	    !cmdbus_valid_label(la->buf[la->n][1])) {
		la->bad = true;
		return MHD_NO;
	}
	for (size_t i = 0; i < la->n; i++)
		if (strcmp(la->buf[i][0], la->buf[la->n][0]) == 0) {
			la->bad = true; /* a key twice matches nothing */
			return MHD_NO;
		}
	la->v[la->n].key = la->buf[la->n][0];
	la->v[la->n].value = la->buf[la->n][1];
	la->n++;
	return MHD_YES;
}

static enum MHD_Result
devices_list(struct http *h, struct request *rq, char **out, size_t *len)
{
	struct label_args la;
	struct device_query q;
	uint64_t limit;
	const char *v;

	memset(&la, 0, sizeof la);
	memset(&q, 0, sizeof q);
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, on_label,
				  &la);
	if (la.bad)
		return bad_param(h, rq, "label",
				 "label is KEY:VALUE (each 1..64 of "
				 "[A-Za-z0-9_.-]), each key once, at most 16");
	if (arg_u64(rq, "limit", 1, QUERY_MAX_LIMIT, QUERY_DEFAULT_LIMIT,
		    &limit) < 0)
		return bad_param(h, rq, "limit",
				 "limit is an integer in 1..500");
	q.limit = (size_t)limit;
	if ((v = arg(rq, "cursor")) && !cmdbus_valid_device_id(v))
		return bad_param(h, rq, "cursor",
				 "cursor is not one this server gave");
	q.cursor = v;
	q.online = -1;
	if ((v = arg(rq, "online"))) {
		if (strcmp(v, "true") == 0)
			q.online = 1;
		else if (strcmp(v, "false") == 0)
			q.online = 0;
		else
			return bad_param(h, rq, "online",
					 "online is true or false");
	}
	q.labels = la.v;
	q.nlabels = la.n;
	int rc = query_devices(h->core, &q, out, len);
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	return http_reply(h, rq, MHD_HTTP_OK, *out, *len, NULL, NULL);
}

/* ---- waiting reads ---- */

static enum MHD_Result
job_get(struct http *h, struct request *rq)
{
	uint64_t wait_ms = 0;
	bool done = false;
	char *out = NULL;
	size_t len = 0;

	if (arg_wait(h, rq, &wait_ms) < 0)
		return bad_param(h, rq, "wait", "wait is a number of seconds");
	int rc = views_job_done(h->core, rq->param, &done);
	if (rc == 0 && !done && wait_more(h, rq, wait_ms)) {
		memcpy(rq->wait_job, rq->param, sizeof rq->wait_job);
		return http_wait_suspend(h, rq);
	}
	if (rc == 0)
		rc = views_job(h->core, rq->param, &out, &len);
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	return http_reply(h, rq, MHD_HTTP_OK, out, len, NULL, NULL);
}

static enum MHD_Result
exec_get(struct http *h, struct request *rq, bool output)
{
	uint64_t wait_ms = 0;
	enum cmdbus_state st = CMDBUS_STATE_QUEUED;
	char *out = NULL;
	size_t len = 0;

	if (output) {
		const char *f = arg(rq, "follow");
		if (f && strcmp(f, "0") != 0 && strcmp(f, "1") != 0)
			return bad_param(h, rq, "follow", "follow is 0 or 1");
		if (f && f[0] == '1' && http_follow_wanted(rq))
			return http_follow_start(h, rq);
		/* Otherwise the JSON view, once the execution is terminal
		 * or max_wait has passed. */
		wait_ms = f && f[0] == '1' ? h->max_wait_ms : 0;
	} else if (arg_wait(h, rq, &wait_ms) < 0) {
		return bad_param(h, rq, "wait", "wait is a number of seconds");
	}
	/* The view is read with its state: one read answers a finished
	 * execution, the usual case; one that waits reads again when it is
	 * resumed. */
	int rc =
	    output ? views_execution_state(h->core, rq->param, &st)
		   : views_execution_read(h->core, rq->param, &st, &out, &len);
	if (rc == 0 && !cmdbus_state_is_terminal(st) &&
	    wait_more(h, rq, wait_ms)) {
		free(out);
		memcpy(rq->wait_exec, rq->param, sizeof rq->wait_exec);
		return http_wait_suspend(h, rq);
	}
	if (rc == 0 && output)
		rc = output_view(h->core, rq->param, &out, &len);
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	return http_reply(h, rq, MHD_HTTP_OK, out, len, NULL, NULL);
}

/* POST /v1/devices/{id}/actions/{action}: a one-device job, created at
 * the first call; the answer waits for its execution to end. */
static enum MHD_Result
action_call(struct http *h, struct request *rq)
{
	enum cmdbus_state st = CMDBUS_STATE_QUEUED;
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (!rq->wait_exec[0]) {
		struct cmdbus_job_request req;
		struct cmdbus_diag diag;
		struct exec_list l = {0};
		char job[CMDBUS_ID_BUF];
		bool existed = false;

		memset(&diag, 0, sizeof diag);
		rc = cmdbus_action_call_decode(
		    rq->body.data ? rq->body.data : "", rq->body.len, rq->param,
		    rq->param2, &req, &diag);
		/* An action call names its one device itself: it waits for
		 * a device not seen yet rather than refusing it. */
		req.allow_unknown = true;
		if (rc == 0)
			rc = jobs_submit_grouped(h->core, &req, job, &existed,
						 &diag);
		cmdbus_job_request_fini(&req);
		if (rc == 0)
			rc = h->core->store.job_executions(h->core->store.ud,
							   job, &l);
		if (rc == 0 && l.n != 1)
			rc = -ERR_UNAVAILABLE;
		if (rc == 0)
			memcpy(rq->wait_exec, l.v[0].id, sizeof rq->wait_exec);
		exec_list_fini(&l);
		if (rc < 0)
			return http_reply_rc(h, rq, rc, &diag);
		/* Audited when it is created: the answer may come much
		 * later, or never if the client hangs up. */
		struct audit_rec a = {.event = "action.call",
				      .job = job,
				      .exec = rq->wait_exec,
				      .action = rq->param2,
				      .target = "device",
				      .ndevices = 1,
				      .device = rq->param,
				      .status = existed ? MHD_HTTP_OK
							: MHD_HTTP_CREATED};
		http_audit(h, rq, &a);
		(void)wait_more(h, rq, h->max_wait_ms);
		if (window_job_pending(h->core, job)) {
			memcpy(rq->wait_job, job, sizeof rq->wait_job);
			return wait_commit(h, rq);
		}
	}
	rc = views_execution_read(h->core, rq->wait_exec, &st, &out, &len);
	/* Created by this call, gone: the commit of its job failed. */
	if (rc == -ERR_NOT_FOUND && rq->wait_job[0])
		rc = commit_failure(h, rq->wait_job);
	if (rc == 0 && !cmdbus_state_is_terminal(st) &&
	    wait_more(h, rq, h->max_wait_ms)) {
		free(out);
		return http_wait_suspend(h, rq);
	}
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	if (cmdbus_state_is_terminal(st))
		return http_reply(h, rq, MHD_HTTP_OK, out, len, NULL, NULL);
	char loc[96];
	snprintf(loc, sizeof loc, "/v1/executions/%s", rq->wait_exec);
	return http_reply(h, rq, MHD_HTTP_ACCEPTED, out, len, NULL, loc);
}

/* ---- the table ---- */

enum MHD_Result
http_dispatch(struct http *h, struct request *rq)
{
	struct cmdbus_diag diag;
	struct list_query q;
	const char *bad = NULL, *why = NULL;
	char *out = NULL;
	size_t outlen = 0;
	unsigned status = MHD_HTTP_OK;
	const char *ctype = NULL;
	int rc;

	memset(&diag, 0, sizeof diag);
	/* The reads of a pass share one read transaction; anything else
	 * (a write, the write-lock probe of /healthz) runs after it ends. */
	if (rq->route->reads_only)
		http_snapshot_begin(h);
	else
		http_snapshot_end(h);
	switch (rq->route->id) {
	case R_HEALTH: {
		bool healthy = false;
		rc = views_health(h->core, &healthy, &out, &outlen);
		if (rc == 0 && !healthy)
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
		break;
	}
	case R_METRICS:
		rc = metrics_render(h->core, &out, &outlen);
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		break;
	case R_JOBS_CREATE:
		return job_create(h, rq);
	case R_JOBS_LIST:
		if (list_args(rq, true, &q, &bad, &why) < 0)
			return bad_param(h, rq, bad, why);
		rc = query_jobs(h->core, &q, &out, &outlen);
		break;
	case R_JOB:
		return job_get(h, rq);
	case R_JOB_CANCEL:
		rc = cancel_job(h->core, rq->param, &out, &outlen);
		if (rc == -ERR_CONFLICT)
			return http_reply_error(
			    h, rq, MHD_HTTP_CONFLICT, "conflict",
			    "the job is finished: there is nothing to cancel",
			    NULL);
		if (rc == 0)
			audit_job(h, rq, "job.cancel", rq->param, NULL,
				  MHD_HTTP_OK);
		break;
	case R_EXEC:
		return exec_get(h, rq, false);
	case R_EXEC_CANCEL:
		rc = cancel_execution(h->core, rq->param, &out, &outlen);
		if (rc == 0) {
			struct exec_rec e;
			memset(&e, 0, sizeof e);
			struct audit_rec a = {.event = "exec.cancel",
					      .exec = rq->param,
					      .target = "device",
					      .ndevices = 1,
					      .status = MHD_HTTP_OK};
			if (h->core->store.exec_get(h->core->store.ud,
						    rq->param, &e) == 0) {
				a.job = e.job;
				a.action = e.action;
				a.device = e.device;
			}
			http_audit(h, rq, &a);
			exec_rec_fini(&e);
		}
		break;
	case R_EXEC_OUTPUT:
		return exec_get(h, rq, true);
	case R_DEVICES:
		return devices_list(h, rq, &out, &outlen);
	case R_DEVICE:
		rc = views_device(h->core, rq->param, &out, &outlen);
		break;
	case R_DEVICE_EXECS:
		if (list_args(rq, false, &q, &bad, &why) < 0)
			return bad_param(h, rq, bad, why);
		q.device = rq->param;
		rc = query_device_executions(h->core, &q, &out, &outlen);
		break;
	case R_DEVICE_ACTION:
		return action_call(h, rq);
	case R_TOKENS:
		rc = tokens_list(h, &out, &outlen);
		break;
	default:
		rc = -ERR_NOT_FOUND;
		break;
	}
	if (rc < 0)
		return http_reply_rc(h, rq, rc, &diag);
	return http_reply(h, rq, status, out, outlen, ctype, NULL);
}
