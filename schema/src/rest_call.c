/* SPDX-License-Identifier: MIT */
/* The body of POST /v1/devices/{id}/actions/{action}, decoded into the
 * one-device job request it stands for, and the canonical form of a job
 * request whose SHA-256 an idempotency key is bound to: defaults applied,
 * object members sorted by key. */
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

static int
cmp_member(const void *a, const void *b)
{
	const cJSON *const *x = a, *const *y = b;

	/* Keys never hold NUL and are unique in a strictly parsed object,
	 * so byte order is a total order (UTF-8 byte order is code point
	 * order). */
	return strcmp((*x)->string, (*y)->string);
}

/* Writes n as the canonical writer would, but with the members of every
 * object, at any depth, in byte order of their keys: JSON gives member
 * order no meaning, so {"a":1,"b":2} and {"b":2,"a":1} must hash the
 * same. Arrays keep their order, which does mean something (argv). The
 * tree comes from the strict parser, whose depth bound bounds the
 * recursion. 0, -EINVAL, -ENOMEM. */
static int
write_sorted(struct sbuf *b, const cJSON *n)
{
	const cJSON **m, *c;
	size_t count = 0, i = 0;
	int rc = 0;

	if (cJSON_IsArray(n)) {
		schema_sbuf_putc(b, '[');
		for (c = n->child; c && rc == 0; c = c->next) {
			if (c != n->child)
				schema_sbuf_putc(b, ',');
			rc = write_sorted(b, c);
		}
		schema_sbuf_putc(b, ']');
		return rc < 0 ? rc : b->err;
	}
	if (!cJSON_IsObject(n))
		return schema_json_write(n, b);
	for (c = n->child; c; c = c->next)
		count++;
	if (count == 0) {
		schema_sbuf_puts(b, "{}");
		return b->err;
	}
	m = calloc(count, sizeof(*m));
	if (!m)
		return -ENOMEM;
	for (c = n->child; c; c = c->next) {
		if (!c->string) {
			free(m);
			return -EINVAL;
		}
		m[i++] = c;
	}
	qsort(m, count, sizeof(*m), cmp_member);
	schema_sbuf_putc(b, '{');
	for (i = 0; i < count && rc == 0; i++) {
		if (i)
			schema_sbuf_putc(b, ',');
		schema_json_write_string(b, m[i]->string, strlen(m[i]->string));
		schema_sbuf_putc(b, ':');
		rc = write_sorted(b, m[i]);
	}
	schema_sbuf_putc(b, '}');
	free(m);
	return rc < 0 ? rc : b->err;
}

/* The args text, parsed strictly and written with sorted keys. A decoded
 * request's args always parse; text that does not (a request filled in
 * by hand) is written as it is: not being JSON, it cannot collide with
 * any sorted form. 0 or -ENOMEM (a parsed tree never gives -EINVAL). */
static int
write_args_sorted(struct sbuf *b, const char *args_json)
{
	const char *text = args_json ? args_json : "{}";
	struct json_err jerr;
	cJSON *root = NULL;
	int rc;

	rc = schema_json_parse(text, strlen(text), &root, &jerr);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		schema_sbuf_puts(b, text);
		return b->err;
	}
	rc = write_sorted(b, root);
	cJSON_Delete(root);
	return rc;
}

static int
cmp_term_ptr(const void *a, const void *b)
{
	const struct cmdbus_label_term *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

/* One term as it was written: an EQ term as its plain string, so that a
 * selector of plain strings hashes as it did before terms existed; a set
 * as {"in"|"notin":[...]} with its values in the order given. */
static int
write_term(struct sbuf *b, const struct cmdbus_label_term *t)
{
	if (!t->key || (t->nvalues && !t->values))
		return -EINVAL;
	if (t->op == CMDBUS_LABEL_EQ) {
		if (t->nvalues != 1 || !t->values[0])
			return -EINVAL;
		schema_enc_str(b, t->key, t->values[0]);
		return b->err;
	}
	if (t->op != CMDBUS_LABEL_IN && t->op != CMDBUS_LABEL_NOTIN)
		return -EINVAL;
	schema_enc_key(b, t->key);
	schema_sbuf_putc(b, '{');
	schema_enc_key(b, t->op == CMDBUS_LABEL_IN ? "in" : "notin");
	schema_sbuf_putc(b, '[');
	for (size_t i = 0; i < t->nvalues; i++) {
		if (!t->values[i])
			return -EINVAL;
		if (i)
			schema_sbuf_putc(b, ',');
		schema_json_write_string(b, t->values[i], strlen(t->values[i]));
	}
	schema_sbuf_puts(b, "]}");
	return b->err;
}

/* target.labels with its keys sorted, like any other object. A decoded
 * request's terms are sorted already; one filled in by hand may not be. */
static int
write_terms_sorted(struct sbuf *b, const struct cmdbus_label_term *terms,
		   size_t n)
{
	const struct cmdbus_label_term **t = NULL;
	int rc = 0;

	if (n && !terms)
		return -EINVAL;
	if (n) {
		t = calloc(n, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			t[i] = &terms[i];
			if (!t[i]->key) {
				free(t);
				return -EINVAL;
			}
		}
		qsort(t, n, sizeof(*t), cmp_term_ptr);
	}
	schema_enc_key(b, "labels");
	schema_sbuf_putc(b, '{');
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = write_term(b, t[i]);
	schema_sbuf_putc(b, '}');
	free(t);
	return rc < 0 ? rc : b->err;
}

static int
write_rollout(struct sbuf *b, const struct cmdbus_rollout *ro)
{
	const char *offline = cmdbus_offline_policy_name(ro->offline);

	if (!offline)
		return -EINVAL;
	schema_enc_key(b, "rollout");
	schema_sbuf_putc(b, '{');
	schema_enc_u64(b, "batch_size", ro->batch_size);
	schema_enc_bool(b, "batch_pct", ro->batch_pct);
	if (ro->has_max_failures)
		schema_enc_u64(b, "max_failures", ro->max_failures);
	if (ro->has_max_failure_pct)
		schema_enc_u64(b, "max_failure_pct", ro->max_failure_pct);
	schema_enc_str(b, "offline", offline);
	/* Written only when used, so that the hash of a rollout without a
	 * canary is the one it had before canaries existed. */
	if (ro->canary)
		schema_enc_u64(b, "canary", ro->canary);
	schema_sbuf_putc(b, '}');
	return b->err;
}

int
cmdbus_job_request_sha256(const struct cmdbus_job_request *r,
			  char hex[CMDBUS_SHA256_HEX + 1])
{
	struct sbuf b;
	char *text = NULL;
	size_t len = 0;
	int rc = 0;

	/* Defaults are applied, the idempotency key itself is left out and
	 * object members are sorted by key, so that two bodies that ask for
	 * the same thing hash the same. */
	schema_sbuf_init(&b);
	schema_sbuf_putc(&b, '{');
	schema_enc_key(&b, "target");
	schema_sbuf_putc(&b, '{');
	switch (r->target) {
	case CMDBUS_TARGET_DEVICES:
		/* Only when true, and first, as sorted keys would have it:
		 * the hash of a list without the flag stays what it was. */
		if (r->allow_unknown)
			schema_enc_bool(&b, "allow_unknown", true);
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
		rc = write_terms_sorted(&b, r->terms, r->nterms);
		break;
	case CMDBUS_TARGET_ALL:
		schema_enc_bool(&b, "all", true);
		break;
	}
	schema_sbuf_putc(&b, '}');
	schema_enc_str(&b, "action", r->action);
	schema_enc_key(&b, "args");
	if (rc == 0)
		rc = write_args_sorted(&b, r->args_json);
	schema_enc_u64(&b, "timeout_ms", r->timeout_ms);
	schema_enc_u64(&b, "ttl_ms", r->ttl_ms);
	schema_enc_bool(&b, "stream", r->stream);
	if (rc == 0 && r->rollout.present)
		rc = write_rollout(&b, &r->rollout);
	schema_sbuf_putc(&b, '}');
	rc = schema_enc_finish(&b, rc, &text, &len);
	if (rc < 0)
		return rc;
	cmdbus_sha256_hex(text, len, hex);
	free(text);
	return 0;
}
