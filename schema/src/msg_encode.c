/* SPDX-License-Identifier: MIT */
/* The canonical payload encoder: fields in the contract's order, no
 * spaces, integers as digits, stream bytes as text when they are UTF-8
 * without NUL and as base64 otherwise. What it writes is decoded again
 * before it is handed out, so the encoder can never emit a payload the
 * decoder (ours or a peer's) would refuse. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cmdbus/msg.h"
#include "common/err.h"
#include "msg_priv.h"

/* Writes the comma (unless the object just opened) and "key":. */
static void
key(struct sbuf *b, const char *k)
{
	if (b->d && b->len && b->d[b->len - 1] != '{')
		schema_sbuf_putc(b, ',');
	schema_json_write_string(b, k, strlen(k));
	schema_sbuf_putc(b, ':');
}

static void
kstr(struct sbuf *b, const char *k, const char *v)
{
	key(b, k);
	schema_json_write_string(b, v, strlen(v));
}

static void
ku64(struct sbuf *b, const char *k, uint64_t v)
{
	char tmp[24];

	key(b, k);
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	schema_sbuf_puts(b, tmp);
}

static void
kbool(struct sbuf *b, const char *k, bool v)
{
	key(b, k);
	schema_sbuf_puts(b, v ? "true" : "false");
}

/* NAME as text, or NAME_b64 when the bytes are not UTF-8 without NUL. */
static void
kbytes(struct sbuf *b, const char *name, const struct cmdbus_bytes *by)
{
	const char *p = by->data ? by->data : "";
	size_t n = by->data ? by->len : 0;
	char k[32];

	if (schema_utf8_valid(p, n) && !schema_bytes_have_nul(p, n)) {
		key(b, name);
		schema_json_write_string(b, p, n);
		return;
	}
	snprintf(k, sizeof(k), "%s_b64", name);
	key(b, k);
	schema_sbuf_putc(b, '"');
	schema_b64_encode(b, p, n);
	schema_sbuf_putc(b, '"');
}

static int
enc_args(struct sbuf *b, const char *args_json)
{
	struct json_err je;
	cJSON *args = NULL;
	int rc;

	if (!args_json)
		args_json = "{}";
	rc = schema_json_parse(args_json, strlen(args_json), &args, &je);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	if (!cJSON_IsObject(args)) {
		cJSON_Delete(args);
		return -EINVAL;
	}
	key(b, "args");
	rc = schema_json_write(args, b);
	cJSON_Delete(args);
	return rc;
}

static int
enc_command(struct sbuf *b, const struct cmdbus_command *c)
{
	int rc;

	kstr(b, "id", c->id);
	if (c->job[0])
		kstr(b, "job", c->job);
	kstr(b, "device", c->device);
	ku64(b, "iat", c->iat);
	ku64(b, "exp", c->exp);
	ku64(b, "timeout_ms", c->timeout_ms);
	kstr(b, "action", c->action);
	rc = enc_args(b, c->args_json);
	if (rc < 0)
		return rc;
	ku64(b, "max_output", c->max_output);
	kbool(b, "idempotent", c->idempotent);
	kbool(b, "stream", c->stream);
	return 0;
}

static int
enc_cancel(struct sbuf *b, const struct cmdbus_cancel *c)
{
	kstr(b, "id", c->id);
	kstr(b, "device", c->device);
	ku64(b, "iat", c->iat);
	ku64(b, "exp", c->exp);
	return 0;
}

static int
enc_report(struct sbuf *b, const struct cmdbus_report *r)
{
	const char *st = cmdbus_state_name(r->state);

	if (!st)
		return -EINVAL;
	kstr(b, "id", r->id);
	kstr(b, "device", r->device);
	kstr(b, "boot_id", r->boot_id);
	kstr(b, "state", st);
	ku64(b, "at", r->at);
	if (r->has_pid)
		ku64(b, "pid", r->pid);
	if (r->cmd_sha256[0])
		kstr(b, "cmd_sha256", r->cmd_sha256);
	return 0;
}

static int
enc_output(struct sbuf *b, const struct cmdbus_output *o)
{
	kstr(b, "id", o->id);
	kstr(b, "device", o->device);
	kstr(b, "stream", o->is_stderr ? "stderr" : "stdout");
	ku64(b, "seq", o->seq);
	kbytes(b, "data", &o->data);
	return 0;
}

static int
enc_result(struct sbuf *b, const struct cmdbus_result *r)
{
	const char *st = cmdbus_state_name(r->state);

	if (!st)
		return -EINVAL;
	kstr(b, "id", r->id);
	kstr(b, "device", r->device);
	kstr(b, "boot_id", r->boot_id);
	kstr(b, "state", st);
	if (r->cmd_sha256[0])
		kstr(b, "cmd_sha256", r->cmd_sha256);
	if (r->has_exit_code)
		ku64(b, "exit_code", r->exit_code);
	if (r->has_signal)
		ku64(b, "signal", r->signal);
	if (r->has_streams) {
		kbytes(b, "stdout", &r->out.kept);
		kbytes(b, "stderr", &r->err.kept);
		kbool(b, "stdout_truncated", r->out.truncated);
		kbool(b, "stderr_truncated", r->err.truncated);
		ku64(b, "stdout_bytes", r->out.bytes);
		ku64(b, "stderr_bytes", r->err.bytes);
	}
	if (r->has_started_at)
		ku64(b, "started_at", r->started_at);
	ku64(b, "finished_at", r->finished_at);
	if (r->has_error) {
		const char *m = r->error_message ? r->error_message : "";

		key(b, "error");
		schema_sbuf_putc(b, '{');
		kstr(b, "code", r->error_code);
		key(b, "message");
		/* A message is for humans and may come from anywhere (errno
		 * text, a path): it is made valid rather than refused, so
		 * that an agent can always answer. */
		schema_json_write_string_lossy(b, m, strlen(m));
		schema_sbuf_putc(b, '}');
	}
	if (r->has_clamped_timeout_ms)
		ku64(b, "clamped_timeout_ms", r->clamped_timeout_ms);
	return 0;
}

static int
enc_status(struct sbuf *b, const struct cmdbus_status *s)
{
	kstr(b, "device", s->device);
	kbool(b, "online", s->online);
	kstr(b, "boot_id", s->boot_id);
	if (!s->online)
		return 0;
	kstr(b, "agent", s->agent);
	ku64(b, "at", s->at);
	if (s->nlabels && !s->labels)
		return -EINVAL;
	key(b, "labels");
	schema_sbuf_putc(b, '{');
	for (size_t i = 0; i < s->nlabels; i++) {
		if (!s->labels[i].key || !s->labels[i].value)
			return -EINVAL;
		kstr(b, s->labels[i].key, s->labels[i].value);
	}
	schema_sbuf_putc(b, '}');
	if (s->nactions && !s->actions)
		return -EINVAL;
	key(b, "actions");
	schema_sbuf_putc(b, '[');
	for (size_t i = 0; i < s->nactions; i++) {
		const struct cmdbus_action_desc *a = &s->actions[i];

		if (i)
			schema_sbuf_putc(b, ',');
		schema_sbuf_putc(b, '{');
		kstr(b, "name", a->name);
		if (a->nparams) {
			if (!a->params)
				return -EINVAL;
			key(b, "params");
			schema_sbuf_putc(b, '{');
			for (size_t j = 0; j < a->nparams; j++) {
				if (!a->params[j].name || !a->params[j].pattern)
					return -EINVAL;
				kstr(b, a->params[j].name,
				     a->params[j].pattern);
			}
			schema_sbuf_putc(b, '}');
		}
		schema_sbuf_putc(b, '}');
	}
	schema_sbuf_putc(b, ']');
	if (s->has_health) {
		key(b, "health");
		schema_sbuf_putc(b, '{');
		ku64(b, "uptime_s", s->health.uptime_s);
		key(b, "load1");
		schema_json_write_double(b, s->health.load1);
		ku64(b, "mem_avail_kb", s->health.mem_avail_kb);
		ku64(b, "disk_avail_kb", s->health.disk_avail_kb);
		schema_sbuf_putc(b, '}');
	}
	return 0;
}

/* Decodes what was written: any contract rule the struct broke shows up
 * as a refusal here. */
static int
self_check(const char *text, size_t len)
{
	struct cmdbus_diag diag;
	struct cmdbus_msg m;
	struct json_err je;
	struct dec d;
	cJSON *root = NULL;
	int rc;

	rc = schema_json_parse(text, len, &root, &je);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	schema_dec_init(&d, &diag, NULL, CMDBUS_E_MALFORMED);
	rc = schema_msg_decode_tree(&d, root, &m);
	cJSON_Delete(root);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	cmdbus_msg_fini(&m);
	return 0;
}

int
cmdbus_msg_encode(const struct cmdbus_msg *m, char **out, size_t *outlen)
{
	const char *type = m ? cmdbus_msg_type_name(m->type) : NULL;
	struct sbuf b;
	size_t len;
	int rc = -EINVAL;

	if (!type)
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	kstr(&b, "type", type);
	switch (m->type) {
	case CMDBUS_MSG_COMMAND:
		rc = enc_command(&b, &m->u.command);
		break;
	case CMDBUS_MSG_CANCEL:
		rc = enc_cancel(&b, &m->u.cancel);
		break;
	case CMDBUS_MSG_REPORT:
		rc = enc_report(&b, &m->u.report);
		break;
	case CMDBUS_MSG_OUTPUT:
		rc = enc_output(&b, &m->u.output);
		break;
	case CMDBUS_MSG_RESULT:
		rc = enc_result(&b, &m->u.result);
		break;
	case CMDBUS_MSG_STATUS:
		rc = enc_status(&b, &m->u.status);
		break;
	}
	schema_sbuf_putc(&b, '}');
	if (rc == 0)
		rc = b.err;
	if (rc < 0) {
		schema_sbuf_fini(&b);
		return rc;
	}
	rc = self_check(b.d, b.len);
	if (rc < 0) {
		schema_sbuf_fini(&b);
		return rc;
	}
	rc = schema_sbuf_steal(&b, out, &len);
	if (rc == 0 && outlen)
		*outlen = len;
	return rc;
}

void
cmdbus_sha256_hex(const void *data, size_t len, char out[CMDBUS_SHA256_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32) {
		/* Only an OpenSSL without SHA-256 gets here; an empty
		 * string never matches a real hash. */
		out[0] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[CMDBUS_SHA256_HEX] = '\0';
}
