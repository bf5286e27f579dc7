/* SPDX-License-Identifier: MIT */
/* The canonical payload encoder: fields in the contract's order, no
 * spaces, integers as digits, stream bytes as text when they are UTF-8
 * without NUL and as base64 otherwise. What it writes is decoded again
 * before it is handed out, so the encoder can never emit a payload the
 * decoder (ours or a peer's) would refuse. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cmdbus/msg.h"
#include "common/err.h"
#include "encode.h"
#include "msg_priv.h"

static int
enc_command(struct sbuf *b, const struct cmdbus_command *c)
{
	int rc;

	schema_enc_str(b, "id", c->id);
	if (c->job[0])
		schema_enc_str(b, "job", c->job);
	schema_enc_str(b, "device", c->device);
	schema_enc_u64(b, "iat", c->iat);
	schema_enc_u64(b, "exp", c->exp);
	schema_enc_u64(b, "timeout_ms", c->timeout_ms);
	schema_enc_str(b, "action", c->action);
	rc = schema_enc_json(b, "args", c->args_json ? c->args_json : "{}",
			     cJSON_Object);
	if (rc < 0)
		return rc;
	schema_enc_u64(b, "max_output", c->max_output);
	schema_enc_bool(b, "idempotent", c->idempotent);
	schema_enc_bool(b, "stream", c->stream);
	return 0;
}

static int
enc_cancel(struct sbuf *b, const struct cmdbus_cancel *c)
{
	schema_enc_str(b, "id", c->id);
	schema_enc_str(b, "device", c->device);
	schema_enc_u64(b, "iat", c->iat);
	schema_enc_u64(b, "exp", c->exp);
	return 0;
}

/* What reports and results start with. */
static int
enc_answer_head(struct sbuf *b, const char *id, const char *device,
		const char *boot_id, enum cmdbus_state state)
{
	const char *st = cmdbus_state_name(state);

	if (!st)
		return -EINVAL;
	schema_enc_str(b, "id", id);
	schema_enc_str(b, "device", device);
	schema_enc_str(b, "boot_id", boot_id);
	schema_enc_str(b, "state", st);
	return 0;
}

static int
enc_report(struct sbuf *b, const struct cmdbus_report *r)
{
	int rc = enc_answer_head(b, r->id, r->device, r->boot_id, r->state);

	if (rc < 0)
		return rc;
	schema_enc_u64(b, "at", r->at);
	if (r->has_pid)
		schema_enc_u64(b, "pid", r->pid);
	if (r->cmd_sha256[0])
		schema_enc_str(b, "cmd_sha256", r->cmd_sha256);
	return 0;
}

static int
enc_output(struct sbuf *b, const struct cmdbus_output *o)
{
	schema_enc_str(b, "id", o->id);
	schema_enc_str(b, "device", o->device);
	schema_enc_str(b, "stream", o->is_stderr ? "stderr" : "stdout");
	schema_enc_u64(b, "seq", o->seq);
	schema_enc_bytes(b, "data", &o->data);
	return 0;
}

static int
enc_result(struct sbuf *b, const struct cmdbus_result *r)
{
	int rc = enc_answer_head(b, r->id, r->device, r->boot_id, r->state);

	if (rc < 0)
		return rc;
	if (r->cmd_sha256[0])
		schema_enc_str(b, "cmd_sha256", r->cmd_sha256);
	if (r->has_exit_code)
		schema_enc_u64(b, "exit_code", r->exit_code);
	if (r->has_signal)
		schema_enc_u64(b, "signal", r->signal);
	if (r->has_streams) {
		schema_enc_bytes(b, "stdout", &r->out.kept);
		schema_enc_bytes(b, "stderr", &r->err.kept);
		schema_enc_bool(b, "stdout_truncated", r->out.truncated);
		schema_enc_bool(b, "stderr_truncated", r->err.truncated);
		schema_enc_u64(b, "stdout_bytes", r->out.bytes);
		schema_enc_u64(b, "stderr_bytes", r->err.bytes);
	}
	if (r->has_started_at)
		schema_enc_u64(b, "started_at", r->started_at);
	schema_enc_u64(b, "finished_at", r->finished_at);
	if (r->has_error)
		schema_enc_error(b, r->error_code, r->error_message);
	if (r->has_clamped_timeout_ms)
		schema_enc_u64(b, "clamped_timeout_ms", r->clamped_timeout_ms);
	return 0;
}

int
schema_msg_write_labels(struct sbuf *b, const struct cmdbus_label *l, size_t n)
{
	if (n && !l)
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	for (size_t i = 0; i < n; i++) {
		if (!l[i].key || !l[i].value || !cmdbus_valid_label(l[i].key) ||
		    !cmdbus_valid_label(l[i].value))
			return -EINVAL;
		schema_enc_str(b, l[i].key, l[i].value);
	}
	schema_sbuf_putc(b, '}');
	return 0;
}

static int
write_params(struct sbuf *b, const struct cmdbus_action_desc *a)
{
	if (!a->params)
		return -EINVAL;
	schema_enc_key(b, "params");
	schema_sbuf_putc(b, '{');
	for (size_t j = 0; j < a->nparams; j++) {
		const struct cmdbus_param *p = &a->params[j];

		if (!p->name || !p->pattern || !cmdbus_valid_label(p->name) ||
		    !schema_msg_valid_pattern(p->pattern))
			return -EINVAL;
		schema_enc_str(b, p->name, p->pattern);
	}
	schema_sbuf_putc(b, '}');
	return 0;
}

int
schema_msg_write_actions(struct sbuf *b, const struct cmdbus_action_desc *a,
			 size_t n)
{
	int rc;

	if (n && !a)
		return -EINVAL;
	schema_sbuf_putc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (!cmdbus_valid_action(a[i].name))
			return -EINVAL;
		if (i)
			schema_sbuf_putc(b, ',');
		schema_sbuf_putc(b, '{');
		schema_enc_str(b, "name", a[i].name);
		if (a[i].nparams && (rc = write_params(b, &a[i])) < 0)
			return rc;
		schema_sbuf_putc(b, '}');
	}
	schema_sbuf_putc(b, ']');
	return 0;
}

int
schema_msg_write_health(struct sbuf *b, const struct cmdbus_health *h)
{
	if (!h || !isfinite(h->load1) || h->load1 < 0)
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	schema_enc_u64(b, "uptime_s", h->uptime_s);
	schema_enc_key(b, "load1");
	schema_json_write_double(b, h->load1);
	schema_enc_u64(b, "mem_avail_kb", h->mem_avail_kb);
	schema_enc_u64(b, "disk_avail_kb", h->disk_avail_kb);
	schema_sbuf_putc(b, '}');
	return 0;
}

static int
enc_status(struct sbuf *b, const struct cmdbus_status *s)
{
	int rc;

	schema_enc_str(b, "device", s->device);
	schema_enc_bool(b, "online", s->online);
	schema_enc_str(b, "boot_id", s->boot_id);
	if (!s->online)
		return 0;
	schema_enc_str(b, "agent", s->agent);
	schema_enc_u64(b, "at", s->at);
	schema_enc_key(b, "labels");
	rc = schema_msg_write_labels(b, s->labels, s->nlabels);
	if (rc < 0)
		return rc;
	schema_enc_key(b, "actions");
	rc = schema_msg_write_actions(b, s->actions, s->nactions);
	if (rc < 0 || !s->has_health)
		return rc;
	schema_enc_key(b, "health");
	return schema_msg_write_health(b, &s->health);
}

/* Decodes what was written: any contract rule the struct broke shows up
 * as a refusal here. */
static int
self_check(const char *text, size_t len)
{
	struct cmdbus_diag diag;
	struct cmdbus_msg m;
	struct dec d;
	int rc;

	schema_dec_init(&d, &diag, NULL, CMDBUS_E_MALFORMED);
	/* No size limit: that is the sender's to apply to the envelope. */
	rc = schema_dec_document(&d, text, len, SIZE_MAX,
				 schema_msg_decode_tree, &m);
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
	int rc = -EINVAL;

	if (!type)
		return -EINVAL;
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_str(&b, "type", type);
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
	if (rc == 0)
		rc = self_check(b.d, b.len);
	return schema_enc_finish(&b, rc, out, outlen);
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
