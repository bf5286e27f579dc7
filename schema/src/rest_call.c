/* SPDX-License-Identifier: MIT */
/* The body of POST /v1/devices/{id}/actions/{action}, decoded into the
 * one-device job request it stands for, and the canonical form of a job
 * request whose SHA-256 an idempotency key is bound to. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "common/err.h"
#include "decode.h"
#include "encode.h"

static int
decode_call(struct dec *d, const cJSON *root, void *out)
{
	struct cmdbus_job_request *r = out;
	const cJSON *args;
	int rc;

	if (!cJSON_IsObject(root))
		return schema_dec_fail(d, "", "the body is not a JSON object");
	if ((rc = schema_dec_object(d, root, "args", NULL, false, &args)) < 0)
		return rc;
	if (args)
		rc = schema_json_to_text(args, &r->args_json, NULL);
	else if (!(r->args_json = schema_dec_strdup("{}", 2)))
		rc = -ENOMEM;
	if (rc < 0)
		return rc;
	return schema_dec_u64(d, root, "timeout_ms", NULL, false, 1,
			      CMDBUS_MAX_TIMEOUT_MS, &r->timeout_ms, NULL);
}

int
cmdbus_action_call_decode(const char *body, size_t len, const char *device,
			  const char *action, struct cmdbus_job_request *out,
			  struct cmdbus_diag *diag)
{
	struct cmdbus_diag spare;
	struct dec d;

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_MALFORMED);
	if (!cmdbus_valid_device_id(device))
		return schema_dec_fail(&d, "device", "not a device id");
	if (!cmdbus_valid_action(action))
		return schema_dec_fail(&d, "action", "not an action name");
	out->devices = calloc(1, sizeof(*out->devices));
	if (!out->devices)
		return -ENOMEM;
	out->target = CMDBUS_TARGET_DEVICES;
	out->ndevices = 1;
	memcpy(out->devices[0], device, strlen(device) + 1);
	memcpy(out->action, action, strlen(action) + 1);
	out->timeout_ms = CMDBUS_DEFAULT_TIMEOUT_MS;
	out->ttl_ms = CMDBUS_DEFAULT_TTL_MS;
	/* No body is the same as {}. */
	if (len == 0) {
		out->args_json = schema_dec_strdup("{}", 2);
		return out->args_json ? 0 : -ENOMEM;
	}
	return schema_dec_document(&d, body, len, CMDBUS_REST_MAX_BODY,
				   decode_call, out);
}

static void
write_rollout(struct sbuf *b, const struct cmdbus_rollout *ro)
{
	static const char *const offline[] = {"wait", "skip", "fail"};

	schema_enc_key(b, "rollout");
	schema_sbuf_putc(b, '{');
	schema_enc_u64(b, "batch_size", ro->batch_size);
	schema_enc_bool(b, "batch_pct", ro->batch_pct);
	if (ro->has_max_failures)
		schema_enc_u64(b, "max_failures", ro->max_failures);
	if (ro->has_max_failure_pct)
		schema_enc_u64(b, "max_failure_pct", ro->max_failure_pct);
	schema_enc_str(b, "offline", offline[ro->offline]);
	schema_sbuf_putc(b, '}');
}

int
cmdbus_job_request_sha256(const struct cmdbus_job_request *r,
			  char hex[CMDBUS_SHA256_HEX + 1])
{
	struct sbuf b;
	char *text = NULL;
	size_t len = 0;
	int rc;

	/* Defaults are applied and the idempotency key itself is left out,
	 * so that two bodies that ask for the same thing hash the same. */
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_key(&b, "target");
	schema_sbuf_putc(&b, '{');
	switch (r->target) {
	case CMDBUS_TARGET_DEVICES:
		schema_enc_key(&b, "devices");
		schema_sbuf_putc(&b, '[');
		for (size_t i = 0; i < r->ndevices; i++) {
			if (i)
				schema_sbuf_putc(&b, ',');
			schema_json_write_string(&b, r->devices[i],
						 strlen(r->devices[i]));
		}
		schema_sbuf_putc(&b, ']');
		break;
	case CMDBUS_TARGET_LABELS:
		schema_enc_key(&b, "labels");
		schema_sbuf_putc(&b, '{');
		for (size_t i = 0; i < r->nlabels; i++)
			schema_enc_str(&b, r->labels[i].key,
				       r->labels[i].value);
		schema_sbuf_putc(&b, '}');
		break;
	case CMDBUS_TARGET_ALL:
		schema_enc_bool(&b, "all", true);
		break;
	}
	schema_sbuf_putc(&b, '}');
	schema_enc_str(&b, "action", r->action);
	schema_enc_key(&b, "args");
	schema_sbuf_puts(&b, r->args_json ? r->args_json : "{}");
	schema_enc_u64(&b, "timeout_ms", r->timeout_ms);
	schema_enc_u64(&b, "ttl_ms", r->ttl_ms);
	schema_enc_bool(&b, "stream", r->stream);
	if (r->rollout.present)
		write_rollout(&b, &r->rollout);
	schema_sbuf_putc(&b, '}');
	rc = schema_enc_finish(&b, 0, &text, &len);
	if (rc < 0)
		return rc;
	cmdbus_sha256_hex(text, len, hex);
	free(text);
	return 0;
}
