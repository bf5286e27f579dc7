/* SPDX-License-Identifier: MIT */
/* The strict payload decoder: size, strict JSON, the `type`, then every
 * field of that type with its JSON type, range and pattern, and the rules
 * between fields. A refusal names the field as a JSON path and, when the
 * payload had a readable id, keeps that id so the agent can answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/action.h"
#include "cmdbus/msg.h"
#include "common/err.h"
#include "decode.h"
#include "msg_priv.h"

#define MAX_EXIT_CODE 255
#define MAX_SIGNAL 127

static bool
valid_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == CMDBUS_SHA256_HEX;
}

bool
schema_msg_valid_error_code(const char *s)
{
	size_t i;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= MSG_ERROR_CODE_MAX)
			return false;
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
			return false;
	}
	return true;
}

bool
schema_msg_valid_agent(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= MSG_AGENT_MAX)
			return false;
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	}
	return i >= 1;
}

static int
dec_times(struct dec *d, const cJSON *o, uint64_t *iat, uint64_t *exp)
{
	int rc;

	if ((rc = schema_dec_u64(d, o, "iat", NULL, true, 0, CMDBUS_MAX_INT,
				 iat, NULL)) < 0 ||
	    (rc = schema_dec_u64(d, o, "exp", NULL, true, 0, CMDBUS_MAX_INT,
				 exp, NULL)) < 0)
		return rc;
	if (*exp < *iat)
		return schema_dec_fail(d, "exp", "'exp' is before 'iat'");
	return 0;
}

/* id and device, which every message but status starts with. */
static int
dec_id_device(struct dec *d, const cJSON *o, char id[CMDBUS_ID_BUF],
	      char device[CMDBUS_NAME_BUF])
{
	int rc;

	if ((rc = schema_dec_name(d, o, "id", NULL, true, cmdbus_valid_id, id,
				  CMDBUS_ID_BUF, NULL)) < 0 ||
	    (rc = schema_dec_name(d, o, "device", NULL, true,
				  cmdbus_valid_device_id, device,
				  CMDBUS_NAME_BUF, NULL)) < 0)
		return rc;
	return 0;
}

static int
dec_command(struct dec *d, const cJSON *o, struct cmdbus_command *c)
{
	const cJSON *args;
	int rc;

	if ((rc = schema_dec_name(d, o, "id", NULL, true, cmdbus_valid_id,
				  c->id, sizeof(c->id), NULL)) < 0 ||
	    (rc = schema_dec_name(d, o, "job", NULL, false, cmdbus_valid_id,
				  c->job, sizeof(c->job), NULL)) < 0 ||
	    (rc = schema_dec_name(d, o, "device", NULL, true,
				  cmdbus_valid_device_id, c->device,
				  sizeof(c->device), NULL)) < 0 ||
	    (rc = dec_times(d, o, &c->iat, &c->exp)) < 0 ||
	    (rc = schema_dec_u64(d, o, "timeout_ms", NULL, true, 1,
				 CMDBUS_MAX_INT, &c->timeout_ms, NULL)) < 0 ||
	    (rc = schema_dec_name(d, o, "action", NULL, true,
				  cmdbus_valid_action, c->action,
				  sizeof(c->action), NULL)) < 0 ||
	    (rc = schema_dec_object(d, o, "args", NULL, true, &args)) < 0)
		return rc;
	c->max_output = CMDBUS_MAX_OUTPUT;
	if ((rc = schema_dec_u64(d, o, "max_output", NULL, false, 1,
				 CMDBUS_MAX_INT, &c->max_output, NULL)) < 0 ||
	    (rc = schema_dec_bool(d, o, "idempotent", NULL, false,
				  &c->idempotent, NULL)) < 0 ||
	    (rc = schema_dec_bool(d, o, "stream", NULL, false, &c->stream,
				  NULL)) < 0)
		return rc;
	return schema_json_to_text(args, &c->args_json, NULL);
}

static int
dec_cancel(struct dec *d, const cJSON *o, struct cmdbus_cancel *c)
{
	int rc;

	if ((rc = dec_id_device(d, o, c->id, c->device)) < 0)
		return rc;
	return dec_times(d, o, &c->iat, &c->exp);
}

static int
dec_state(struct dec *d, const cJSON *o, enum cmdbus_state *st)
{
	char name[16];
	int rc;

	rc = schema_dec_name(d, o, "state", NULL, true, NULL, name,
			     sizeof(name), NULL);
	if (rc == -ERR_MALFORMED && strcmp(d->diag->field, "state") == 0 &&
	    schema_json_str(schema_json_get(o, "state"), NULL))
		return schema_dec_fail(d, "state", "unknown state");
	if (rc < 0)
		return rc;
	if (cmdbus_state_parse(name, st) < 0)
		return schema_dec_fail(d, "state", "unknown state '%s'", name);
	return 0;
}

/* What reports and results start with: which execution, on which
 * device and agent run, in which state. */
static int
dec_answer_head(struct dec *d, const cJSON *o, char id[CMDBUS_ID_BUF],
		char device[CMDBUS_NAME_BUF], char boot_id[CMDBUS_ID_BUF],
		enum cmdbus_state *st)
{
	int rc;

	if ((rc = dec_id_device(d, o, id, device)) < 0 ||
	    (rc = schema_dec_name(d, o, "boot_id", NULL, true, cmdbus_valid_id,
				  boot_id, CMDBUS_ID_BUF, NULL)) < 0)
		return rc;
	return dec_state(d, o, st);
}

static int
dec_report(struct dec *d, const cJSON *o, struct cmdbus_report *r)
{
	int rc;

	rc = dec_answer_head(d, o, r->id, r->device, r->boot_id, &r->state);
	if (rc < 0)
		return rc;
	if (r->state != CMDBUS_STATE_ACCEPTED &&
	    r->state != CMDBUS_STATE_RUNNING)
		return schema_dec_fail(
		    d, "state", "a report's state is ACCEPTED or RUNNING");
	if ((rc = schema_dec_u64(d, o, "at", NULL, true, 0, CMDBUS_MAX_INT,
				 &r->at, NULL)) < 0 ||
	    (rc = schema_dec_u64(d, o, "pid", NULL,
				 r->state == CMDBUS_STATE_RUNNING, 1,
				 CMDBUS_MAX_INT, &r->pid, &r->has_pid)) < 0 ||
	    (rc = schema_dec_name(d, o, "cmd_sha256", NULL, false,
				  valid_sha256_hex, r->cmd_sha256,
				  sizeof(r->cmd_sha256), NULL)) < 0)
		return rc;
	return 0;
}

/* Exactly one of KEY (text) and KEY_b64 (base64), into bytes of at most
 * max raw bytes. */
static int
dec_bytes(struct dec *d, const cJSON *o, const char *key, size_t max,
	  struct cmdbus_bytes *b)
{
	char bkey[32];
	const cJSON *t, *e;
	const char *s;
	size_t len;
	int rc;

	snprintf(bkey, sizeof(bkey), "%s_b64", key);
	t = schema_json_get(o, key);
	e = schema_json_get(o, bkey);
	if (t && e)
		return schema_dec_fail(d, bkey, "'%s' and '%s' are exclusive",
				       key, bkey);
	if (!t && !e)
		return schema_dec_fail(
		    d, key, "one of '%s' and '%s' is required", key, bkey);
	if (t) {
		rc = schema_dec_text(d, o, key, NULL, true, true, &b->data,
				     &b->len);
		if (rc < 0)
			return rc;
		if (b->len > max)
			return schema_dec_fail(d, key, "'%s' is over %zu bytes",
					       key, max);
		return 0;
	}
	s = schema_json_str(e, &len);
	if (!s)
		return schema_dec_fail(d, bkey, "'%s' must be a string", bkey);
	if (schema_b64_decoded_max(len) > max + 2)
		return schema_dec_fail(d, bkey, "'%s' is over %zu bytes", bkey,
				       max);
	rc = schema_b64_decode(s, len, &b->data, &b->len);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return schema_dec_fail(d, bkey, "'%s' is not strict base64",
				       bkey);
	if (b->len > max)
		return schema_dec_fail(d, bkey, "'%s' is over %zu bytes", bkey,
				       max);
	return 0;
}

static int
dec_output(struct dec *d, const cJSON *o, struct cmdbus_output *m)
{
	char stream[8];
	int rc;

	if ((rc = dec_id_device(d, o, m->id, m->device)) < 0)
		return rc;
	rc = schema_dec_name(d, o, "stream", NULL, true, NULL, stream,
			     sizeof(stream), NULL);
	if (rc == -ERR_MALFORMED &&
	    schema_json_str(schema_json_get(o, "stream"), NULL))
		return schema_dec_fail(d, "stream",
				       "'stream' is \"stdout\" or \"stderr\"");
	if (rc < 0)
		return rc;
	if (strcmp(stream, "stderr") == 0)
		m->is_stderr = true;
	else if (strcmp(stream, "stdout") != 0)
		return schema_dec_fail(d, "stream",
				       "'stream' is \"stdout\" or \"stderr\"");
	if ((rc = schema_dec_u64(d, o, "seq", NULL, true, 0, CMDBUS_MAX_INT,
				 &m->seq, NULL)) < 0)
		return rc;
	return dec_bytes(d, o, "data", CMDBUS_MAX_CHUNK, &m->data);
}

static bool
is_run_state(enum cmdbus_state s)
{
	return s == CMDBUS_STATE_SUCCEEDED || s == CMDBUS_STATE_FAILED ||
	       s == CMDBUS_STATE_TIMED_OUT || s == CMDBUS_STATE_CANCELED;
}

static const char *const stream_fields[] = {
    "stdout",		"stdout_b64",	    "stderr",	    "stderr_b64",
    "stdout_truncated", "stderr_truncated", "stdout_bytes", "stderr_bytes",
};

static int
dec_stream(struct dec *d, const cJSON *o, const char *name,
	   struct cmdbus_stream *s)
{
	char k[32];
	int rc;

	rc = dec_bytes(d, o, name, CMDBUS_MAX_OUTPUT, &s->kept);
	if (rc < 0)
		return rc;
	snprintf(k, sizeof(k), "%s_truncated", name);
	rc = schema_dec_bool(d, o, k, NULL, true, &s->truncated, NULL);
	if (rc < 0)
		return rc;
	snprintf(k, sizeof(k), "%s_bytes", name);
	rc = schema_dec_u64(d, o, k, NULL, true, 0, CMDBUS_MAX_INT, &s->bytes,
			    NULL);
	if (rc < 0)
		return rc;
	if (s->bytes < s->kept.len)
		return schema_dec_fail(d, k, "'%s' is less than the bytes kept",
				       k);
	return 0;
}

static int
dec_error(struct dec *d, const cJSON *o, bool required, struct cmdbus_result *r)
{
	const cJSON *e;
	int rc;

	rc = schema_dec_object(d, o, "error", NULL, required, &e);
	if (rc < 0 || !e)
		return rc;
	if ((rc = schema_dec_name(d, e, "code", "error.code", true,
				  schema_msg_valid_error_code, r->error_code,
				  sizeof(r->error_code), NULL)) < 0 ||
	    (rc = schema_dec_text(d, e, "message", "error.message", true, false,
				  &r->error_message, NULL)) < 0)
		return rc;
	r->has_error = true;
	return 0;
}

static int
dec_result(struct dec *d, const cJSON *o, struct cmdbus_result *r)
{
	bool run;
	int rc;

	rc = dec_answer_head(d, o, r->id, r->device, r->boot_id, &r->state);
	if (rc < 0)
		return rc;
	if (!cmdbus_state_is_terminal(r->state))
		return schema_dec_fail(d, "state",
				       "a result's state is terminal");
	run = is_run_state(r->state);
	if ((rc = schema_dec_name(d, o, "cmd_sha256", NULL, false,
				  valid_sha256_hex, r->cmd_sha256,
				  sizeof(r->cmd_sha256), NULL)) < 0 ||
	    (rc = schema_dec_u64(d, o, "exit_code", NULL, false, 0,
				 MAX_EXIT_CODE, &r->exit_code,
				 &r->has_exit_code)) < 0 ||
	    (rc = schema_dec_u64(d, o, "signal", NULL, false, 1, MAX_SIGNAL,
				 &r->signal, &r->has_signal)) < 0)
		return rc;
	if (r->has_exit_code && r->has_signal)
		return schema_dec_fail(
		    d, "signal", "'exit_code' and 'signal' are exclusive");
	if (!run && (r->has_exit_code || r->has_signal))
		return schema_dec_fail(d,
				       r->has_signal ? "signal" : "exit_code",
				       "a %s result describes no process exit",
				       cmdbus_state_name(r->state));
	if (r->state == CMDBUS_STATE_SUCCEEDED &&
	    (r->has_signal || (r->has_exit_code && r->exit_code != 0)))
		return schema_dec_fail(d,
				       r->has_signal ? "signal" : "exit_code",
				       "SUCCEEDED means exit code 0");
	if (run) {
		if ((rc = dec_stream(d, o, "stdout", &r->out)) < 0 ||
		    (rc = dec_stream(d, o, "stderr", &r->err)) < 0)
			return rc;
		r->has_streams = true;
	} else {
		for (size_t i = 0;
		     i < sizeof(stream_fields) / sizeof(stream_fields[0]); i++)
			if (schema_json_get(o, stream_fields[i]))
				return schema_dec_fail(
				    d, stream_fields[i],
				    "a %s result carries no streams",
				    cmdbus_state_name(r->state));
	}
	if ((rc = schema_dec_u64(d, o, "started_at", NULL, false, 0,
				 CMDBUS_MAX_INT, &r->started_at,
				 &r->has_started_at)) < 0 ||
	    (rc = schema_dec_u64(d, o, "finished_at", NULL, true, 0,
				 CMDBUS_MAX_INT, &r->finished_at, NULL)) < 0 ||
	    (rc = dec_error(d, o, !run, r)) < 0 ||
	    (rc = schema_dec_u64(d, o, "clamped_timeout_ms", NULL, false, 1,
				 CMDBUS_MAX_INT, &r->clamped_timeout_ms,
				 &r->has_clamped_timeout_ms)) < 0)
		return rc;
	return 0;
}

bool
schema_msg_valid_pattern(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= MSG_PATTERN_MAX && schema_utf8_valid(s, n);
}

static int
dec_labels(struct dec *d, const cJSON *o, struct cmdbus_status *st)
{
	const cJSON *l;
	int rc;

	rc = schema_dec_object(d, o, "labels", NULL, false, &l);
	if (rc < 0 || !l)
		return rc;
	return schema_dec_string_map(d, l, "labels", &schema_dec_label_rule,
				     &st->labels, &st->nlabels);
}

#define STR_(x) #x
#define STR(x) STR_(x)

static const struct dec_map_rule param_rule = {
    .valid_key = cmdbus_valid_label,
    .bad_key = "a parameter name is 1..64 bytes of [A-Za-z0-9_.-]",
    .valid_value = schema_msg_valid_pattern,
    .bad_value =
	"a parameter pattern is a string of 1.." STR(MSG_PATTERN_MAX) " bytes",
};

static int
dec_params(struct dec *d, const cJSON *a, const char *prefix,
	   struct cmdbus_action_desc *ad)
{
	struct cmdbus_label *l;
	const cJSON *p;
	char path[96];
	size_t n;
	int rc;

	schema_dec_path(path, sizeof(path), prefix, "params");
	rc = schema_dec_object(d, a, "params", path, false, &p);
	if (rc < 0 || !p)
		return rc;
	rc = schema_dec_string_map(d, p, path, &param_rule, &l, &n);
	if (rc < 0 || n == 0)
		return rc;
	ad->params = calloc(n, sizeof(*ad->params));
	if (!ad->params) {
		cmdbus_labels_free(l, n);
		return -ENOMEM;
	}
	/* The pairs change hands: a parameter is a name and a pattern. */
	for (size_t i = 0; i < n; i++) {
		ad->params[i].name = l[i].key;
		ad->params[i].pattern = l[i].value;
	}
	ad->nparams = n;
	free(l);
	return 0;
}

static int
dec_actions(struct dec *d, const cJSON *o, struct cmdbus_status *st)
{
	const cJSON *a = schema_json_get(o, "actions"), *c;
	size_t n, dup;
	char path[96];
	int rc;

	if (!a)
		return 0;
	if (!cJSON_IsArray(a))
		return schema_dec_fail(d, "actions",
				       "'actions' must be an array");
	n = schema_dec_count(a);
	if (n == 0)
		return 0;
	st->actions = calloc(n, sizeof(*st->actions));
	if (!st->actions)
		return -ENOMEM;
	for (c = a->child; c; c = c->next) {
		struct cmdbus_action_desc *ad = &st->actions[st->nactions];
		char npath[96];

		schema_dec_path_idx(path, sizeof(path), "actions",
				    st->nactions);
		if (!cJSON_IsObject(c))
			return schema_dec_fail(d, path,
					       "'%s' must be an object", path);
		schema_dec_path(npath, sizeof(npath), path, "name");
		rc = schema_dec_name(d, c, "name", npath, true,
				     cmdbus_valid_action, ad->name,
				     sizeof(ad->name), NULL);
		if (rc < 0)
			return rc;
		st->nactions++;
		rc = dec_params(d, c, path, ad);
		if (rc < 0)
			return rc;
	}
	/* Each action once. */
	rc = schema_dec_first_duplicate(st->actions[0].name, st->nactions,
					sizeof(*st->actions), &dup);
	if (rc < 0 || dup == st->nactions)
		return rc;
	snprintf(path, sizeof(path), "actions[%zu].name", dup);
	return schema_dec_fail(d, path, "action '%s' is listed twice",
			       st->actions[dup].name);
}

static int
dec_health(struct dec *d, const cJSON *o, struct cmdbus_status *st)
{
	const cJSON *h, *l;
	struct cmdbus_health *hp = &st->health;
	int rc;

	rc = schema_dec_object(d, o, "health", NULL, false, &h);
	if (rc < 0 || !h)
		return rc;
	if ((rc = schema_dec_u64(d, h, "uptime_s", "health.uptime_s", true, 0,
				 CMDBUS_MAX_INT, &hp->uptime_s, NULL)) < 0)
		return rc;
	l = schema_json_get(h, "load1");
	if (!l)
		return schema_dec_fail(
		    d, "health.load1",
		    "required field 'health.load1' is missing");
	if (schema_json_double(l, &hp->load1) < 0 || hp->load1 < 0)
		return schema_dec_fail(d, "health.load1",
				       "'health.load1' must be a number >= 0");
	if ((rc = schema_dec_u64(d, h, "mem_avail_kb", "health.mem_avail_kb",
				 true, 0, CMDBUS_MAX_INT, &hp->mem_avail_kb,
				 NULL)) < 0 ||
	    (rc = schema_dec_u64(d, h, "disk_avail_kb", "health.disk_avail_kb",
				 true, 0, CMDBUS_MAX_INT, &hp->disk_avail_kb,
				 NULL)) < 0)
		return rc;
	st->has_health = true;
	return 0;
}

static int
dec_status(struct dec *d, const cJSON *o, struct cmdbus_status *st)
{
	int rc;

	if ((rc = schema_dec_name(d, o, "device", NULL, true,
				  cmdbus_valid_device_id, st->device,
				  sizeof(st->device), NULL)) < 0 ||
	    (rc = schema_dec_bool(d, o, "online", NULL, true, &st->online,
				  NULL)) < 0 ||
	    (rc = schema_dec_name(d, o, "boot_id", NULL, true, cmdbus_valid_id,
				  st->boot_id, sizeof(st->boot_id), NULL)) < 0)
		return rc;
	/* An offline status is the will: nothing else is read from it. */
	if (!st->online)
		return 0;
	if ((rc = schema_dec_name(d, o, "agent", NULL, true,
				  schema_msg_valid_agent, st->agent,
				  sizeof(st->agent), NULL)) < 0 ||
	    (rc = schema_dec_u64(d, o, "at", NULL, true, 0, CMDBUS_MAX_INT,
				 &st->at, NULL)) < 0 ||
	    (rc = dec_labels(d, o, st)) < 0 ||
	    (rc = dec_actions(d, o, st)) < 0 || (rc = dec_health(d, o, st)) < 0)
		return rc;
	return 0;
}

int
schema_msg_decode_tree(struct dec *d, const cJSON *root, void *msg)
{
	struct cmdbus_msg *out = msg;
	const cJSON *idn;
	char type[16];
	unsigned t;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(root))
		return schema_dec_fail(d, "",
				       "the payload is not a JSON object");
	idn = schema_json_get(root, "id");
	if (idn) {
		size_t len;
		const char *s = schema_json_str(idn, &len);
		if (s && len < sizeof(d->diag->id) &&
		    !schema_bytes_have_nul(s, len) && cmdbus_valid_id(s))
			memcpy(d->diag->id, s, len + 1);
	}
	rc = schema_dec_name(d, root, "type", NULL, true, NULL, type,
			     sizeof(type), NULL);
	if (rc == -ERR_MALFORMED &&
	    schema_json_str(schema_json_get(root, "type"), NULL))
		return schema_dec_fail(d, "type", "unknown message type");
	if (rc < 0)
		return rc;
	for (t = 0; t <= CMDBUS_MSG_STATUS; t++)
		if (strcmp(type, cmdbus_msg_type_name(t)) == 0)
			break;
	if (t > CMDBUS_MSG_STATUS)
		return schema_dec_fail(d, "type", "unknown message type '%s'",
				       type);
	out->type = (enum cmdbus_msg_type)t;
	switch (out->type) {
	case CMDBUS_MSG_COMMAND:
		rc = dec_command(d, root, &out->u.command);
		break;
	case CMDBUS_MSG_CANCEL:
		rc = dec_cancel(d, root, &out->u.cancel);
		break;
	case CMDBUS_MSG_REPORT:
		rc = dec_report(d, root, &out->u.report);
		break;
	case CMDBUS_MSG_OUTPUT:
		rc = dec_output(d, root, &out->u.output);
		break;
	case CMDBUS_MSG_RESULT:
		rc = dec_result(d, root, &out->u.result);
		break;
	case CMDBUS_MSG_STATUS:
		rc = dec_status(d, root, &out->u.status);
		break;
	}
	if (rc < 0)
		cmdbus_msg_fini(out);
	return rc;
}

int
cmdbus_msg_decode(const char *payload, size_t len, struct cmdbus_msg *out,
		  struct cmdbus_diag *diag)
{
	struct cmdbus_diag spare;
	struct dec d;

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_MALFORMED);
	return schema_dec_document(&d, payload, len, CMDBUS_MAX_MESSAGE,
				   schema_msg_decode_tree, out);
}

static void
free_stream(struct cmdbus_stream *s)
{
	free(s->kept.data);
	s->kept.data = NULL;
}

void
cmdbus_msg_fini(struct cmdbus_msg *m)
{
	if (!m)
		return;
	switch (m->type) {
	case CMDBUS_MSG_COMMAND:
		free(m->u.command.args_json);
		m->u.command.args_json = NULL;
		break;
	case CMDBUS_MSG_CANCEL:
	case CMDBUS_MSG_REPORT:
		break;
	case CMDBUS_MSG_OUTPUT:
		free(m->u.output.data.data);
		m->u.output.data.data = NULL;
		break;
	case CMDBUS_MSG_RESULT:
		free_stream(&m->u.result.out);
		free_stream(&m->u.result.err);
		free(m->u.result.error_message);
		m->u.result.error_message = NULL;
		break;
	case CMDBUS_MSG_STATUS: {
		struct cmdbus_status *s = &m->u.status;
		for (size_t i = 0; i < s->nlabels; i++) {
			free(s->labels[i].key);
			free(s->labels[i].value);
		}
		free(s->labels);
		s->labels = NULL;
		s->nlabels = 0;
		for (size_t i = 0; i < s->nactions; i++) {
			for (size_t j = 0; j < s->actions[i].nparams; j++) {
				free(s->actions[i].params[j].name);
				free(s->actions[i].params[j].pattern);
			}
			free(s->actions[i].params);
		}
		free(s->actions);
		s->actions = NULL;
		s->nactions = 0;
		break;
	}
	}
}
