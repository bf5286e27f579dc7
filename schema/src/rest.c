/* SPDX-License-Identifier: MIT */
/* REST bodies of the dispatcher: the job request decoded strictly, each
 * refusal naming its field, and the job, execution and error views
 * encoded canonically. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/rest.h"
#include "common/err.h"
#include "decode.h"

#define IDEMPOTENCY_KEY_MAX 128

struct devref {
	const char *name;
	size_t idx;
};

static int
devref_cmp(const void *a, const void *b)
{
	const struct devref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The index of the first entry that repeats an earlier one, or n. Sorting
 * keeps a 10,000-device request from costing 50 million comparisons. */
static size_t
first_duplicate(char (*devs)[CMDBUS_NAME_BUF], size_t n, int *err)
{
	struct devref *r;
	size_t dup = n;

	*err = 0;
	if (n < 2)
		return n;
	r = malloc(n * sizeof(*r));
	if (!r) {
		*err = -ENOMEM;
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		r[i].name = devs[i];
		r[i].idx = i;
	}
	qsort(r, n, sizeof(*r), devref_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(r[i - 1].name, r[i].name) == 0 && r[i].idx < dup)
			dup = r[i].idx;
	free(r);
	return dup;
}

static int
dec_devices(struct dec *d, const cJSON *a, struct cmdbus_job_request *r)
{
	const cJSON *c;
	size_t n = 0, dup;
	int rc;

	if (!cJSON_IsArray(a))
		return schema_dec_fail(d, "target.devices",
				       "'target.devices' must be an array");
	for (c = a->child; c; c = c->next)
		n++;
	if (n == 0 || n > CMDBUS_REST_MAX_DEVICES)
		return schema_dec_fail(d, "target.devices",
				       "'target.devices' lists 1..%u devices",
				       CMDBUS_REST_MAX_DEVICES);
	r->devices = calloc(n, sizeof(*r->devices));
	if (!r->devices)
		return -ENOMEM;
	for (c = a->child; c; c = c->next) {
		char path[96];
		size_t len;
		const char *s = schema_json_str(c, &len);

		schema_dec_path_idx(path, sizeof(path), "target.devices",
				    r->ndevices);
		if (!s || len >= CMDBUS_NAME_BUF ||
		    schema_bytes_have_nul(s, len) || !cmdbus_valid_device_id(s))
			return schema_dec_fail(
			    d, path, "'%s' is not a valid device id", path);
		memcpy(r->devices[r->ndevices++], s, len + 1);
	}
	dup = first_duplicate(r->devices, n, &rc);
	if (rc < 0)
		return rc;
	if (dup < n) {
		char path[96];
		schema_dec_path_idx(path, sizeof(path), "target.devices", dup);
		return schema_dec_fail(d, path, "device '%s' is listed twice",
				       r->devices[dup]);
	}
	return 0;
}

static int
dec_target_labels(struct dec *d, const cJSON *o, struct cmdbus_job_request *r)
{
	const cJSON *c;
	size_t n = 0;

	if (!cJSON_IsObject(o))
		return schema_dec_fail(d, "target.labels",
				       "'target.labels' must be an object");
	for (c = o->child; c; c = c->next)
		n++;
	if (n == 0)
		return schema_dec_fail(
		    d, "target.labels",
		    "'target.labels' needs at least one label");
	r->labels = calloc(n, sizeof(*r->labels));
	if (!r->labels)
		return -ENOMEM;
	for (c = o->child; c; c = c->next) {
		struct cmdbus_label *l = &r->labels[r->nlabels];
		char path[96];
		size_t len;
		const char *v;

		if (!cmdbus_valid_label(c->string))
			return schema_dec_fail(d, "target.labels",
					       "a label key is 1..64 bytes of "
					       "[A-Za-z0-9_.-]");
		schema_dec_path(path, sizeof(path), "target.labels", c->string);
		v = schema_json_str(c, &len);
		if (!v || schema_bytes_have_nul(v, len) ||
		    !cmdbus_valid_label(v))
			return schema_dec_fail(
			    d, path,
			    "a label value is a string of 1..64 "
			    "bytes of [A-Za-z0-9_.-]");
		l->key = schema_dec_strdup(c->string, strlen(c->string));
		l->value = schema_dec_strdup(v, len);
		r->nlabels++;
		if (!l->key || !l->value)
			return -ENOMEM;
	}
	return 0;
}

static int
dec_target(struct dec *d, const cJSON *root, struct cmdbus_job_request *r)
{
	const cJSON *t, *dv, *lb, *all;
	int forms;
	int rc;

	rc = schema_dec_object(d, root, "target", NULL, true, &t);
	if (rc < 0)
		return rc;
	dv = schema_json_get(t, "devices");
	lb = schema_json_get(t, "labels");
	all = schema_json_get(t, "all");
	forms = !!dv + !!lb + !!all;
	if (forms != 1)
		return schema_dec_fail(
		    d, "target",
		    "'target' holds exactly one of 'devices', "
		    "'labels' and 'all'");
	if (dv) {
		r->target = CMDBUS_TARGET_DEVICES;
		return dec_devices(d, dv, r);
	}
	if (lb) {
		r->target = CMDBUS_TARGET_LABELS;
		return dec_target_labels(d, lb, r);
	}
	if (!cJSON_IsTrue(all))
		return schema_dec_fail(d, "target.all",
				       "'target.all' must be true");
	r->target = CMDBUS_TARGET_ALL;
	return 0;
}

/* "N%" with N in 1..100, no leading zero. */
static bool
parse_pct(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len < 2 || len > 4 || s[len - 1] != '%' || s[0] == '0')
		return false;
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v < 1 || v > 100)
		return false;
	*out = v;
	return true;
}

static int
dec_rollout(struct dec *d, const cJSON *root, struct cmdbus_rollout *ro)
{
	const cJSON *o, *bs, *of;
	int rc;

	rc = schema_dec_object(d, root, "rollout", NULL, false, &o);
	if (rc < 0 || !o)
		return rc;
	ro->present = true;
	/* Without a batch size the whole target is one batch. */
	ro->batch_size = 100;
	ro->batch_pct = true;
	bs = schema_json_get(o, "batch_size");
	if (bs && cJSON_IsString(bs)) {
		size_t len;
		const char *s = schema_json_str(bs, &len);
		if (!parse_pct(s, len, &ro->batch_size))
			return schema_dec_fail(
			    d, "rollout.batch_size",
			    "'rollout.batch_size' is a count or "
			    "\"N%%\" with N in 1..100");
	} else if (bs) {
		rc = schema_dec_u64(d, o, "batch_size", "rollout.batch_size",
				    true, 1, CMDBUS_MAX_INT, &ro->batch_size,
				    NULL);
		if (rc < 0)
			return rc;
		ro->batch_pct = false;
	}
	if ((rc = schema_dec_u64(d, o, "max_failures", "rollout.max_failures",
				 false, 0, CMDBUS_MAX_INT, &ro->max_failures,
				 &ro->has_max_failures)) < 0 ||
	    (rc = schema_dec_u64(
		 d, o, "max_failure_pct", "rollout.max_failure_pct", false, 0,
		 100, &ro->max_failure_pct, &ro->has_max_failure_pct)) < 0)
		return rc;
	if (ro->has_max_failures && ro->has_max_failure_pct)
		return schema_dec_fail(
		    d, "rollout.max_failure_pct",
		    "'max_failures' and 'max_failure_pct' are "
		    "exclusive");
	of = schema_json_get(o, "offline");
	ro->offline = CMDBUS_OFFLINE_WAIT;
	if (of) {
		size_t len = 0;
		const char *s = schema_json_str(of, &len);

		if (s && len == 4 && memcmp(s, "wait", 4) == 0)
			ro->offline = CMDBUS_OFFLINE_WAIT;
		else if (s && len == 4 && memcmp(s, "skip", 4) == 0)
			ro->offline = CMDBUS_OFFLINE_SKIP;
		else if (s && len == 4 && memcmp(s, "fail", 4) == 0)
			ro->offline = CMDBUS_OFFLINE_FAIL;
		else
			return schema_dec_fail(d, "rollout.offline",
					       "'rollout.offline' is \"wait\", "
					       "\"skip\" or \"fail\"");
	}
	return 0;
}

static bool
valid_idem_key(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return i >= 1 && i <= IDEMPOTENCY_KEY_MAX;
}

static int
decode_request(struct dec *d, const cJSON *root, struct cmdbus_job_request *r)
{
	const cJSON *args;
	int rc;

	if (!cJSON_IsObject(root))
		return schema_dec_fail(d, "", "the body is not a JSON object");
	if ((rc = dec_target(d, root, r)) < 0 ||
	    (rc = schema_dec_name(d, root, "action", NULL, true,
				  cmdbus_valid_action, r->action,
				  sizeof(r->action), NULL)) < 0 ||
	    (rc = schema_dec_object(d, root, "args", NULL, false, &args)) < 0)
		return rc;
	if (args) {
		rc = schema_json_to_text(args, &r->args_json, NULL);
		if (rc < 0)
			return rc;
	} else {
		r->args_json = schema_dec_strdup("{}", 2);
		if (!r->args_json)
			return -ENOMEM;
	}
	r->timeout_ms = CMDBUS_DEFAULT_TIMEOUT_MS;
	r->ttl_ms = CMDBUS_DEFAULT_TTL_MS;
	if ((rc = schema_dec_u64(d, root, "timeout_ms", NULL, false, 1,
				 CMDBUS_MAX_TIMEOUT_MS, &r->timeout_ms, NULL)) <
		0 ||
	    (rc = schema_dec_u64(d, root, "ttl_ms", NULL, false, 1000,
				 CMDBUS_MAX_TTL_MS, &r->ttl_ms, NULL)) < 0 ||
	    (rc = schema_dec_bool(d, root, "stream", NULL, false, &r->stream,
				  NULL)) < 0 ||
	    (rc = dec_rollout(d, root, &r->rollout)) < 0 ||
	    (rc = schema_dec_name(d, root, "idempotency_key", NULL, false,
				  valid_idem_key, r->idempotency_key,
				  sizeof(r->idempotency_key), NULL)) < 0)
		return rc;
	return 0;
}

int
cmdbus_job_request_decode(const char *body, size_t len,
			  struct cmdbus_job_request *out,
			  struct cmdbus_diag *diag)
{
	struct cmdbus_diag spare;
	struct dec d;
	cJSON *root = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_MALFORMED);
	rc = schema_dec_parse(&d, body, len, CMDBUS_REST_MAX_BODY, &root);
	if (rc < 0)
		return rc;
	rc = decode_request(&d, root, out);
	cJSON_Delete(root);
	if (rc == -ENOMEM)
		snprintf(d.diag->message, sizeof(d.diag->message),
			 "out of memory");
	return rc;
}

void
cmdbus_job_request_fini(struct cmdbus_job_request *r)
{
	if (!r)
		return;
	free(r->devices);
	for (size_t i = 0; i < r->nlabels; i++) {
		free(r->labels[i].key);
		free(r->labels[i].value);
	}
	free(r->labels);
	free(r->args_json);
	memset(r, 0, sizeof(*r));
}

static const char *const job_states[] = {"RUNNING", "COMPLETED", "CANCELED",
					 "ABORTED"};

const char *
cmdbus_job_state_name(enum cmdbus_job_state s)
{
	if ((unsigned)s >= sizeof(job_states) / sizeof(job_states[0]))
		return NULL;
	return job_states[s];
}

int
cmdbus_job_state_parse(const char *s, enum cmdbus_job_state *out)
{
	if (!s)
		return -ERR_MALFORMED;
	for (unsigned i = 0; i < sizeof(job_states) / sizeof(job_states[0]);
	     i++) {
		if (strcmp(s, job_states[i]) == 0) {
			*out = (enum cmdbus_job_state)i;
			return 0;
		}
	}
	return -ERR_MALFORMED;
}

/* View encoding: strings come from the dispatcher's database, so they are
 * written lossily rather than trusted to be UTF-8. */
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
	schema_json_write_string_lossy(b, v, strlen(v));
}

static void
ku64(struct sbuf *b, const char *k, uint64_t v)
{
	char tmp[24];

	key(b, k);
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	schema_sbuf_puts(b, tmp);
}

/* Embeds stored JSON text (args, a result payload) after checking it. */
static int
kjson(struct sbuf *b, const char *k, const char *text, bool want_object)
{
	struct json_err je;
	cJSON *n = NULL;
	int rc;

	rc = schema_json_parse(text, strlen(text), &n, &je);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	if (want_object && !cJSON_IsObject(n)) {
		cJSON_Delete(n);
		return -EINVAL;
	}
	key(b, k);
	rc = schema_json_write(n, b);
	cJSON_Delete(n);
	return rc;
}

static int
write_execution(struct sbuf *b, const struct cmdbus_execution_view *v)
{
	const char *st = cmdbus_state_name(v->state);
	int rc;

	if (!st || !v->id || !v->job || !v->device || !v->action)
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	kstr(b, "id", v->id);
	kstr(b, "job", v->job);
	kstr(b, "device", v->device);
	kstr(b, "action", v->action);
	kstr(b, "state", st);
	ku64(b, "created_at", v->created_at);
	ku64(b, "updated_at", v->updated_at);
	if (v->published_at)
		ku64(b, "published_at", v->published_at);
	if (v->finished_at)
		ku64(b, "finished_at", v->finished_at);
	if (v->error_code) {
		key(b, "error");
		schema_sbuf_putc(b, '{');
		kstr(b, "code", v->error_code);
		kstr(b, "message", v->error_message ? v->error_message : "");
		schema_sbuf_putc(b, '}');
	}
	if (v->late_results)
		ku64(b, "late_results", v->late_results);
	if (v->result_json) {
		rc = kjson(b, "result", v->result_json, true);
		if (rc < 0)
			return rc;
	}
	schema_sbuf_putc(b, '}');
	return b->err;
}

static int
finish(struct sbuf *b, int rc, char **out, size_t *outlen)
{
	size_t len;

	if (rc == 0)
		rc = b->err;
	if (rc < 0) {
		schema_sbuf_fini(b);
		return rc;
	}
	rc = schema_sbuf_steal(b, out, &len);
	if (rc == 0 && outlen)
		*outlen = len;
	return rc;
}

int
cmdbus_execution_view_encode(const struct cmdbus_execution_view *v, char **out,
			     size_t *outlen)
{
	struct sbuf b;

	if (!v)
		return -EINVAL;
	schema_sbuf_init(&b);
	return finish(&b, write_execution(&b, v), out, outlen);
}

static int
write_job(struct sbuf *b, const struct cmdbus_job_view *v)
{
	const char *st = cmdbus_job_state_name(v->state);
	int rc;

	if (!st || !v->id || !v->action || (v->nexecutions && !v->executions))
		return -EINVAL;
	schema_sbuf_putc(b, '{');
	kstr(b, "id", v->id);
	kstr(b, "state", st);
	kstr(b, "action", v->action);
	rc = kjson(b, "args", v->args_json ? v->args_json : "{}", true);
	if (rc < 0)
		return rc;
	ku64(b, "timeout_ms", v->timeout_ms);
	ku64(b, "ttl_ms", v->ttl_ms);
	key(b, "stream");
	schema_sbuf_puts(b, v->stream ? "true" : "false");
	ku64(b, "created_at", v->created_at);
	if (v->finished_at)
		ku64(b, "finished_at", v->finished_at);
	key(b, "counts");
	schema_sbuf_putc(b, '{');
	for (unsigned i = 0; i < CMDBUS_STATE_COUNT; i++)
		if (v->counts[i])
			ku64(b, cmdbus_state_name((enum cmdbus_state)i),
			     v->counts[i]);
	schema_sbuf_putc(b, '}');
	key(b, "executions");
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
	return finish(&b, write_job(&b, v), out, outlen);
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
	kstr(&b, "code", code);
	kstr(&b, "message", message ? message : "");
	if (field && *field)
		kstr(&b, "field", field);
	schema_sbuf_puts(&b, "}}");
	return finish(&b, 0, out, outlen);
}
