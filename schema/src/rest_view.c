/* SPDX-License-Identifier: MIT */
/* The views of the dispatcher's REST API: jobs (with their rollout and
 * the stored resolution of their target), executions, devices, health
 * and errors, encoded canonically. Their strings come from the
 * dispatcher's database, so they are written lossily rather than trusted
 * to be UTF-8, and stored JSON is parsed again before it is embedded. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "encode.h"
#include "msg_priv.h"

static int
write_execution(struct sbuf *b, const struct cmdbus_execution_view *v)
{
	const char *st = cmdbus_state_name(v->state);
	int rc;

	if (!st || !v->id || !v->job || !v->device || !v->action)
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	schema_enc_text(b, "id", v->id);
	schema_enc_text(b, "job", v->job);
	schema_enc_text(b, "device", v->device);
	schema_enc_text(b, "action", v->action);
	schema_enc_text(b, "state", st);
	schema_enc_u64(b, "created_at", v->created_at);
	schema_enc_u64(b, "updated_at", v->updated_at);
	if (v->published_at)
		schema_enc_u64(b, "published_at", v->published_at);
	if (v->finished_at)
		schema_enc_u64(b, "finished_at", v->finished_at);
	if (v->error_code)
		schema_enc_error(b, v->error_code, v->error_message);
	if (v->late_results)
		schema_enc_u64(b, "late_results", v->late_results);
	if (v->result_json) {
		rc = schema_enc_json(b, "result", v->result_json, cJSON_Object);
		if (rc < 0)
			return rc;
	}
	schema_sbuf_putc(b, '}');
	return b->err;
}

int
cmdbus_execution_view_encode(const struct cmdbus_execution_view *v, char **out,
			     size_t *outlen)
{
	struct sbuf b;

	if (!v)
		return -EINVAL;
	schema_sbuf_init(&b);
	return schema_enc_finish(&b, write_execution(&b, v), out, outlen);
}

/* A comparison of reason counts by code, for the duplicate check. */
static int
cmp_reason(const void *a, const void *b)
{
	const struct cmdbus_reason_count *const *x = a, *const *y = b;

	return strcmp((*x)->code, (*y)->code);
}

/* "reasons":{code:n,...} in the order given, codes with n 0 left out like
 * the states of "counts", the member left out when nothing is left. A
 * code must be an error code and appear once: an object with a repeated
 * key is malformed JSON. */
static int
write_reasons(struct sbuf *b, const struct cmdbus_reason_count *r, size_t n)
{
	const struct cmdbus_reason_count **s;
	bool any = false;
	int rc = 0;

	if (n == 0)
		return 0;
	if (!r)
		return -EINVAL;
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n && rc == 0; i++) {
		s[i] = &r[i];
		if (!r[i].code || !schema_msg_valid_error_code(r[i].code))
			rc = -EINVAL;
		any |= r[i].n > 0;
	}
	if (rc == 0) {
		qsort(s, n, sizeof(*s), cmp_reason);
		for (size_t i = 1; i < n && rc == 0; i++)
			if (strcmp(s[i - 1]->code, s[i]->code) == 0)
				rc = -EINVAL;
	}
	free(s);
	if (rc < 0 || !any)
		return rc;
	schema_enc_key(b, "reasons");
	schema_sbuf_putc(b, '{');
	for (size_t i = 0; i < n; i++)
		if (r[i].n)
			schema_enc_u64(b, r[i].code, r[i].n);
	schema_sbuf_putc(b, '}');
	return b->err;
}

static const char *const rollout_phases[] = {"canary", "rolling", "done",
					     "aborted"};

/* "rollout":{...} as docs/protocol.md lists it. */
static int
write_rollout(struct sbuf *b, const struct cmdbus_rollout_view *ro)
{
	const char *offline = cmdbus_offline_policy_name(ro->offline);
	bool phase_ok = false;

	for (size_t i = 0; ro->phase && i < sizeof(rollout_phases) /
						sizeof(rollout_phases[0]);
	     i++)
		phase_ok |= strcmp(ro->phase, rollout_phases[i]) == 0;
	if (!offline || !phase_ok || ro->batch_size == 0)
		return -EINVAL;
	schema_enc_key(b, "rollout");
	schema_sbuf_putc(b, '{');
	schema_enc_u64(b, "batch_size", ro->batch_size);
	if (ro->has_max_failures)
		schema_enc_u64(b, "max_failures", ro->max_failures);
	schema_enc_str(b, "offline", offline);
	schema_enc_u64(b, "canary", ro->canary);
	schema_enc_str(b, "phase", ro->phase);
	schema_enc_u64(b, "released", ro->released);
	schema_enc_u64(b, "in_progress", ro->in_progress);
	schema_enc_u64(b, "waiting", ro->waiting);
	schema_enc_u64(b, "failures", ro->failures);
	schema_enc_u64(b, "batch", ro->batch);
	schema_sbuf_putc(b, '}');
	return b->err;
}

/* What a job view adds after "counts": the detail of a single job
 * ("reasons", "targets", "rollout"), left out of a list item, then
 * "abort_reason", which a list item keeps so that a list shows why a
 * job was aborted. */
static int
write_job_detail(struct sbuf *b, const struct cmdbus_job_view *v)
{
	int rc;

	if (!v->summary) {
		if ((rc = write_reasons(b, v->reasons, v->nreasons)) < 0)
			return rc;
		if (v->targets_json &&
		    (rc = schema_enc_json(b, "targets", v->targets_json,
					  cJSON_Object)) < 0)
			return rc;
		if (v->rollout.present &&
		    (rc = write_rollout(b, &v->rollout)) < 0)
			return rc;
	}
	if (v->abort_reason)
		schema_enc_text(b, "abort_reason", v->abort_reason);
	return b->err;
}

static int
write_job(struct sbuf *b, const struct cmdbus_job_view *v)
{
	const char *st = cmdbus_job_state_name(v->state);
	int rc;

	if (!st || !v->id || !v->action || (v->nexecutions && !v->executions))
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	schema_enc_text(b, "id", v->id);
	schema_enc_text(b, "state", st);
	schema_enc_text(b, "action", v->action);
	rc = schema_enc_json(b, "args", v->args_json ? v->args_json : "{}",
			     cJSON_Object);
	if (rc < 0)
		return rc;
	schema_enc_u64(b, "timeout_ms", v->timeout_ms);
	schema_enc_u64(b, "ttl_ms", v->ttl_ms);
	schema_enc_bool(b, "stream", v->stream);
	schema_enc_u64(b, "created_at", v->created_at);
	if (v->finished_at)
		schema_enc_u64(b, "finished_at", v->finished_at);
	schema_enc_key(b, "counts");
	schema_sbuf_putc(b, '{');
	for (unsigned i = 0; i < CMDBUS_STATE_COUNT; i++)
		if (v->counts[i])
			schema_enc_u64(b,
				       cmdbus_state_name((enum cmdbus_state)i),
				       v->counts[i]);
	schema_sbuf_putc(b, '}');
	if ((rc = write_job_detail(b, v)) < 0)
		return rc;
	if (v->summary) {
		schema_sbuf_putc(b, '}');
		return b->err;
	}
	schema_enc_key(b, "executions");
	schema_sbuf_putc(b, '[');
	for (size_t i = 0; i < v->nexecutions; i++) {
		if (i)
			schema_sbuf_putc(b, ',');
		rc = write_execution(b, &v->executions[i]);
		if (rc < 0)
			return rc;
	}
	schema_sbuf_putc(b, ']');
	schema_sbuf_putc(b, '}');
	return b->err;
}

int
cmdbus_job_view_encode(const struct cmdbus_job_view *v, char **out,
		       size_t *outlen)
{
	struct sbuf b;

	if (!v)
		return -EINVAL;
	schema_sbuf_init(&b);
	return schema_enc_finish(&b, write_job(&b, v), out, outlen);
}

static int
cmp_id(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;

	return strcmp(*x, *y);
}

/* ,"KEY":[ids...] sorted by id, whatever order the caller resolved them
 * in, so that a client can compare lists. Every id must be a device id,
 * so that the stored text passes the view's check and the JSON Schema
 * when it is shown. */
static int
write_id_list(struct sbuf *b, const char *k, const char (*ids)[CMDBUS_NAME_BUF],
	      size_t n)
{
	const char **s = NULL;

	if (n && !ids)
		return -EINVAL;
	if (n && !(s = calloc(n, sizeof(*s))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!cmdbus_valid_device_id(ids[i])) {
			free(s);
			return -EINVAL;
		}
		s[i] = ids[i];
	}
	if (n)
		qsort(s, n, sizeof(*s), cmp_id);
	schema_enc_key(b, k);
	schema_sbuf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			schema_sbuf_putc(b, ',');
		schema_json_write_string(b, s[i], strlen(s[i]));
	}
	schema_sbuf_putc(b, ']');
	free(s);
	return b->err;
}

int
cmdbus_targets_encode(uint64_t matched, const char (*offline)[CMDBUS_NAME_BUF],
		      size_t noffline, const char (*unknown)[CMDBUS_NAME_BUF],
		      size_t nunknown, char **out, size_t *outlen)
{
	struct sbuf b;
	int rc;

	if (matched > CMDBUS_MAX_INT)
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_u64(&b, "matched", matched);
	if ((rc = write_id_list(&b, "offline", offline, noffline)) == 0)
		rc = write_id_list(&b, "unknown", unknown, nunknown);
	schema_sbuf_putc(&b, '}');
	return schema_enc_finish(&b, rc, out, outlen);
}

static int
write_device(struct sbuf *b, const struct cmdbus_device_view *v)
{
	const char *labels = v->labels_json ? v->labels_json : "{}";
	const char *actions = v->actions_json ? v->actions_json : "[]";
	int rc;

	if (!v->id || !v->boot_id)
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	schema_enc_text(b, "id", v->id);
	schema_enc_bool(b, "online", v->online);
	if (v->stale)
		schema_enc_bool(b, "stale", true);
	schema_enc_u64(b, "last_seen", v->last_seen);
	schema_enc_text(b, "boot_id", v->boot_id);
	if (v->agent && v->agent[0])
		schema_enc_text(b, "agent", v->agent);
	if ((rc = schema_enc_json(b, "labels", labels, cJSON_Object)) < 0 ||
	    (rc = schema_enc_json(b, "actions", actions, cJSON_Array)) < 0)
		return rc;
	if (v->health_json && (rc = schema_enc_json(b, "health", v->health_json,
						    cJSON_Object)) < 0)
		return rc;
	schema_sbuf_putc(b, '}');
	return b->err;
}

int
cmdbus_device_view_encode(const struct cmdbus_device_view *v, char **out,
			  size_t *outlen)
{
	struct sbuf b;

	if (!v)
		return -EINVAL;
	schema_sbuf_init(&b);
	return schema_enc_finish(&b, write_device(&b, v), out, outlen);
}

int
cmdbus_device_list_encode(const struct cmdbus_device_view *v, size_t n,
			  char **out, size_t *outlen)
{
	struct sbuf b;
	int rc = 0;

	if (n && !v)
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_key(&b, "devices");
	schema_sbuf_putc(&b, '[');
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (i)
			schema_sbuf_putc(&b, ',');
		rc = write_device(&b, &v[i]);
	}
	schema_sbuf_puts(&b, "]}");
	return schema_enc_finish(&b, rc, out, outlen);
}

int
cmdbus_status_labels_encode(const struct cmdbus_label *l, size_t n, char **out,
			    size_t *outlen)
{
	struct sbuf b;

	schema_sbuf_init(&b);
	return schema_enc_finish(&b, schema_msg_write_labels(&b, l, n), out,
				 outlen);
}

int
cmdbus_status_actions_encode(const struct cmdbus_action_desc *a, size_t n,
			     char **out, size_t *outlen)
{
	struct sbuf b;

	schema_sbuf_init(&b);
	return schema_enc_finish(&b, schema_msg_write_actions(&b, a, n), out,
				 outlen);
}

int
cmdbus_status_health_encode(const struct cmdbus_health *h, char **out,
			    size_t *outlen)
{
	struct sbuf b;

	schema_sbuf_init(&b);
	return schema_enc_finish(&b, schema_msg_write_health(&b, h), out,
				 outlen);
}

int
cmdbus_healthz_encode(bool database, bool broker, char **out, size_t *outlen)
{
	struct sbuf b;

	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_str(&b, "status", database && broker ? "ok" : "unavailable");
	schema_enc_bool(&b, "database", database);
	schema_enc_bool(&b, "broker", broker);
	schema_sbuf_putc(&b, '}');
	return schema_enc_finish(&b, 0, out, outlen);
}

int
cmdbus_error_body_encode(const char *code, const char *message,
			 const char *field, char **out, size_t *outlen)
{
	struct sbuf b;

	if (!code || !*code)
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_puts(&b, "{\"error\":{");
	schema_enc_text(&b, "code", code);
	schema_enc_text(&b, "message", message);
	if (field && *field)
		schema_enc_text(&b, "field", field);
	schema_sbuf_puts(&b, "}}");
	return schema_enc_finish(&b, 0, out, outlen);
}
