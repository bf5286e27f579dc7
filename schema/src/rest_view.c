/* SPDX-License-Identifier: MIT */
/* The views of the dispatcher's REST API: jobs, executions, devices,
 * health and errors, encoded canonically. Their strings come from the
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
