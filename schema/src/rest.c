/* SPDX-License-Identifier: MIT */
/* The job request of the dispatcher's REST API (POST /v1/jobs) decoded
 * strictly, each refusal naming its field (label selector terms
 * included), and the names of job states and offline policies. The views
 * the API answers with are in rest_view.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/action.h"
#include "cmdbus/rest.h"
#include "common/err.h"
#include "decode.h"

#define IDEMPOTENCY_KEY_MAX 128
/* The largest canary: a first batch, not a rollout of its own. */
#define ROLLOUT_MAX_CANARY 10000u

static int
dec_devices(struct dec *d, const cJSON *a, struct cmdbus_job_request *r)
{
	const cJSON *c;
	size_t n, dup;
	int rc;

	if (!cJSON_IsArray(a))
		return schema_dec_fail(d, "target.devices",
				       "'target.devices' must be an array");
	n = schema_dec_count(a);
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
	/* Sorting keeps a 10,000-device request from costing 50 million
	 * comparisons. */
	rc =
	    schema_dec_first_duplicate(r->devices[0], n, CMDBUS_NAME_BUF, &dup);
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

static void
terms_free(struct cmdbus_label_term *t, size_t n)
{
	if (!t)
		return;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < t[i].nvalues; j++)
			free(t[i].values[j]);
		free(t[i].values);
		free(t[i].key);
	}
	free(t);
}

/* One label value of a term at `path`, copied into t->values. */
static int
dec_term_value(struct dec *d, const cJSON *v, const char *path,
	       struct cmdbus_label_term *t)
{
	size_t len;
	const char *s = schema_json_str(v, &len);

	if (!s || schema_bytes_have_nul(s, len) || !cmdbus_valid_label(s))
		return schema_dec_fail(d, path,
				       "'%s': a label value is a string of "
				       "1..64 bytes of [A-Za-z0-9_.-]",
				       path);
	t->values[t->nvalues] = schema_dec_strdup(s, len);
	if (!t->values[t->nvalues])
		return -ENOMEM;
	t->nvalues++;
	return 0;
}

/* {"in":[...]} or {"notin":[...]}: exactly one member, 1..64 distinct
 * label values. `path` is the term's own ("target.labels.env"). */
static int
dec_term_set(struct dec *d, const cJSON *o, const char *path,
	     struct cmdbus_label_term *t)
{
	const cJSON *m = o->child, *c;
	char apath[96];
	size_t n, i = 0;

	if (schema_dec_count(o) != 1 ||
	    (strcmp(m->string, "in") != 0 && strcmp(m->string, "notin") != 0))
		return schema_dec_fail(
		    d, path,
		    "'%s' is a label value, {\"in\":[...]} or "
		    "{\"notin\":[...]}",
		    path);
	t->op = m->string[0] == 'i' ? CMDBUS_LABEL_IN : CMDBUS_LABEL_NOTIN;
	schema_dec_path(apath, sizeof(apath), path, m->string);
	n = schema_dec_count(m);
	if (!cJSON_IsArray(m) || n == 0 || n > CMDBUS_SELECTOR_MAX_VALUES)
		return schema_dec_fail(d, apath,
				       "'%s' must be an array of 1..%u label "
				       "values",
				       apath,
				       (unsigned)CMDBUS_SELECTOR_MAX_VALUES);
	t->values = calloc(n, sizeof(*t->values));
	if (!t->values)
		return -ENOMEM;
	for (c = m->child; c; c = c->next, i++) {
		char vpath[96];
		int rc;

		schema_dec_path_idx(vpath, sizeof(vpath), apath, i);
		if ((rc = dec_term_value(d, c, vpath, t)) < 0)
			return rc;
		/* At most 64 values: a quadratic check costs nothing. */
		for (size_t j = 0; j + 1 < t->nvalues; j++)
			if (strcmp(t->values[j], t->values[t->nvalues - 1]) ==
			    0)
				return schema_dec_fail(d, vpath,
						       "'%s' repeats '%s'",
						       vpath, t->values[j]);
	}
	return 0;
}

static int
cmp_term(const void *a, const void *b)
{
	const struct cmdbus_label_term *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* target.labels: key -> "v" | {"in":[...]} | {"notin":[...]}. Keys are
 * unique already (the strict parser refuses duplicate members); the
 * terms are sorted by key so that every consumer sees one order. */
static int
dec_target_labels(struct dec *d, const cJSON *o, struct cmdbus_job_request *r)
{
	size_t n;

	if (!cJSON_IsObject(o))
		return schema_dec_fail(d, "target.labels",
				       "'target.labels' must be an object");
	n = schema_dec_count(o);
	if (n == 0 || n > CMDBUS_SELECTOR_MAX_KEYS)
		return schema_dec_fail(d, "target.labels",
				       "'target.labels' holds 1..%u labels",
				       (unsigned)CMDBUS_SELECTOR_MAX_KEYS);
	r->terms = calloc(n, sizeof(*r->terms));
	if (!r->terms)
		return -ENOMEM;
	for (const cJSON *c = o->child; c; c = c->next) {
		struct cmdbus_label_term *t = &r->terms[r->nterms];
		char path[96];
		int rc;

		if (!cmdbus_valid_label(c->string))
			return schema_dec_fail(d, "target.labels", "%s",
					       schema_dec_label_rule.bad_key);
		schema_dec_path(path, sizeof(path), "target.labels", c->string);
		t->key = schema_dec_strdup(c->string, strlen(c->string));
		if (!t->key)
			return -ENOMEM;
		r->nterms++;
		if (cJSON_IsString(c)) {
			t->op = CMDBUS_LABEL_EQ;
			t->values = calloc(1, sizeof(*t->values));
			if (!t->values)
				return -ENOMEM;
			rc = dec_term_value(d, c, path, t);
		} else if (cJSON_IsObject(c)) {
			rc = dec_term_set(d, c, path, t);
		} else {
			rc = schema_dec_fail(
			    d, path,
			    "'%s' is a label value, {\"in\":[...]} or "
			    "{\"notin\":[...]}",
			    path);
		}
		if (rc < 0)
			return rc;
	}
	qsort(r->terms, r->nterms, sizeof(*r->terms), cmp_term);
	return 0;
}

static int
dec_target(struct dec *d, const cJSON *root, struct cmdbus_job_request *r)
{
	const cJSON *t, *dv, *lb, *all;
	bool has_unknown;
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
	if ((rc = schema_dec_bool(d, t, "allow_unknown", "target.allow_unknown",
				  false, &r->allow_unknown, &has_unknown)) < 0)
		return rc;
	/* Only a list names devices that may be unknown; elsewhere the flag
	 * would mean nothing, and a client that sends it is mistaken. */
	if (has_unknown && !dv)
		return schema_dec_fail(d, "target.allow_unknown",
				       "'target.allow_unknown' goes only with "
				       "'target.devices'");
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
	return schema_dec_u64(d, o, "canary", "rollout.canary", false, 0,
			      ROLLOUT_MAX_CANARY, &ro->canary, NULL);
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
decode_request(struct dec *d, const cJSON *root, void *out)
{
	struct cmdbus_job_request *r = out;
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

	memset(out, 0, sizeof(*out));
	schema_dec_init(&d, diag, &spare, CMDBUS_E_MALFORMED);
	return schema_dec_document(&d, body, len, CMDBUS_REST_MAX_BODY,
				   decode_request, out);
}

void
cmdbus_job_request_fini(struct cmdbus_job_request *r)
{
	if (!r)
		return;
	free(r->devices);
	terms_free(r->terms, r->nterms);
	free(r->args_json);
	memset(r, 0, sizeof(*r));
}

static const char *const offline_policies[] = {"wait", "skip", "fail"};

const char *
cmdbus_offline_policy_name(enum cmdbus_offline_policy p)
{
	if ((unsigned)p >=
	    sizeof(offline_policies) / sizeof(offline_policies[0]))
		return NULL;
	return offline_policies[p];
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
