/* SPDX-License-Identifier: MIT */
/* Field readers for the decoders: one place that decides what a missing
 * member, a wrong JSON type or a value out of range looks like in a diag,
 * so that every refusal names its field the same way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/action.h"
#include "common/err.h"
#include "decode.h"

void
schema_dec_init(struct dec *d, struct cmdbus_diag *diag,
		struct cmdbus_diag *spare, const char *code)
{
	d->diag = diag ? diag : spare;
	d->code = code;
	memset(d->diag, 0, sizeof(*d->diag));
	d->diag->code = "";
}

int
schema_dec_fail(struct dec *d, const char *field, const char *fmt, ...)
{
	va_list ap;

	d->diag->code = d->code;
	snprintf(d->diag->field, sizeof(d->diag->field), "%s",
		 field ? field : "");
	va_start(ap, fmt);
	vsnprintf(d->diag->message, sizeof(d->diag->message), fmt, ap);
	va_end(ap);
	return -ERR_MALFORMED;
}

int
schema_dec_parse(struct dec *d, const char *s, size_t len, size_t max,
		 cJSON **root)
{
	struct json_err je = {0, ""};
	int rc;

	if (len > max) {
		d->diag->code = CMDBUS_E_TOO_LARGE;
		snprintf(d->diag->message, sizeof(d->diag->message),
			 "%zu bytes is over the limit of %zu", len, max);
		return -ERR_TOO_LARGE;
	}
	rc = schema_json_parse(s ? s : "", s ? len : 0, root, &je);
	if (rc == -ENOMEM) {
		snprintf(d->diag->message, sizeof(d->diag->message),
			 "out of memory");
		return rc;
	}
	if (rc < 0)
		return schema_dec_fail(d, "", "invalid JSON at byte %zu: %s",
				       je.offset, je.reason);
	return 0;
}

int
schema_dec_document(struct dec *d, const char *s, size_t len, size_t max,
		    schema_dec_tree_fn *tree, void *out)
{
	cJSON *root = NULL;
	int rc;

	rc = schema_dec_parse(d, s, len, max, &root);
	if (rc < 0)
		return rc;
	rc = tree(d, root, out);
	cJSON_Delete(root);
	if (rc == -ENOMEM)
		snprintf(d->diag->message, sizeof(d->diag->message),
			 "out of memory");
	return rc;
}

void
schema_dec_path(char *out, size_t outlen, const char *prefix, const char *key)
{
	if (prefix && *prefix)
		snprintf(out, outlen, "%s.%s", prefix, key);
	else
		snprintf(out, outlen, "%s", key);
}

void
schema_dec_path_idx(char *out, size_t outlen, const char *prefix, size_t i)
{
	snprintf(out, outlen, "%s[%zu]", prefix ? prefix : "", i);
}

static const char *
type_word(const cJSON *n)
{
	switch (n->type & 0xff) {
	case cJSON_Object:
		return "an object";
	case cJSON_Array:
		return "an array";
	case cJSON_String:
		return "a string";
	case cJSON_Number:
		return "a number";
	case cJSON_True:
	case cJSON_False:
		return "a boolean";
	case cJSON_NULL:
		return "null";
	}
	return "invalid";
}

/* Looks the member up; 1 when present, 0 when absent and optional, or a
 * refusal when absent and required. */
static int
member(struct dec *d, const cJSON *obj, const char *key, const char *path,
       bool required, const cJSON **out)
{
	*out = schema_json_get(obj, key);
	if (*out)
		return 1;
	if (required)
		return schema_dec_fail(d, path ? path : key,
				       "required field '%s' is missing",
				       path ? path : key);
	return 0;
}

char *
schema_dec_strdup(const char *s, size_t len)
{
	char *o = malloc(len + 1);

	if (!o)
		return NULL;
	if (len)
		memcpy(o, s, len);
	o[len] = '\0';
	return o;
}

int
schema_dec_name(struct dec *d, const cJSON *obj, const char *key,
		const char *path, bool required, bool (*valid)(const char *),
		char *buf, size_t bufsz, bool *present)
{
	const char *f = path ? path : key;
	const cJSON *n;
	const char *s;
	size_t len;
	int rc;

	if (present)
		*present = false;
	rc = member(d, obj, key, path, required, &n);
	if (rc <= 0)
		return rc;
	s = schema_json_str(n, &len);
	if (!s)
		return schema_dec_fail(d, f, "'%s' must be a string, not %s", f,
				       type_word(n));
	if (schema_bytes_have_nul(s, len))
		return schema_dec_fail(d, f, "'%s' must not contain NUL", f);
	if (len >= bufsz || (valid && !valid(s)))
		return schema_dec_fail(d, f, "'%s' is not a valid value", f);
	memcpy(buf, s, len + 1);
	if (present)
		*present = true;
	return 0;
}

int
schema_dec_u64(struct dec *d, const cJSON *obj, const char *key,
	       const char *path, bool required, uint64_t min, uint64_t max,
	       uint64_t *out, bool *present)
{
	const char *f = path ? path : key;
	const cJSON *n;
	uint64_t v;
	int rc;

	if (present)
		*present = false;
	rc = member(d, obj, key, path, required, &n);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsNumber(n))
		return schema_dec_fail(d, f, "'%s' must be an integer, not %s",
				       f, type_word(n));
	if (schema_json_u64(n, &v) < 0)
		return schema_dec_fail(
		    d, f,
		    "'%s' must be an integer of digits only, at "
		    "most 2^53-1",
		    f);
	if (v < min || v > max)
		return schema_dec_fail(
		    d, f, "'%s' is out of range [%llu, %llu]", f,
		    (unsigned long long)min, (unsigned long long)max);
	*out = v;
	if (present)
		*present = true;
	return 0;
}

int
schema_dec_bool(struct dec *d, const cJSON *obj, const char *key,
		const char *path, bool required, bool *out, bool *present)
{
	const char *f = path ? path : key;
	const cJSON *n;
	int rc;

	if (present)
		*present = false;
	rc = member(d, obj, key, path, required, &n);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsBool(n))
		return schema_dec_fail(d, f, "'%s' must be a boolean, not %s",
				       f, type_word(n));
	*out = cJSON_IsTrue(n);
	if (present)
		*present = true;
	return 0;
}

int
schema_dec_text(struct dec *d, const cJSON *obj, const char *key,
		const char *path, bool required, bool allow_nul, char **out,
		size_t *len)
{
	const char *f = path ? path : key;
	const cJSON *n;
	const char *s;
	size_t l;
	int rc;

	rc = member(d, obj, key, path, required, &n);
	if (rc <= 0)
		return rc;
	s = schema_json_str(n, &l);
	if (!s)
		return schema_dec_fail(d, f, "'%s' must be a string, not %s", f,
				       type_word(n));
	if (!allow_nul && schema_bytes_have_nul(s, l))
		return schema_dec_fail(d, f, "'%s' must not contain NUL", f);
	*out = schema_dec_strdup(s, l);
	if (!*out)
		return -ENOMEM;
	if (len)
		*len = l;
	return 0;
}

int
schema_dec_object(struct dec *d, const cJSON *obj, const char *key,
		  const char *path, bool required, const cJSON **out)
{
	const char *f = path ? path : key;
	const cJSON *n;
	int rc;

	*out = NULL;
	rc = member(d, obj, key, path, required, &n);
	if (rc <= 0)
		return rc;
	if (!cJSON_IsObject(n))
		return schema_dec_fail(d, f, "'%s' must be an object, not %s",
				       f, type_word(n));
	*out = n;
	return 0;
}

size_t
schema_dec_count(const cJSON *n)
{
	size_t k = 0;

	for (const cJSON *c = n ? n->child : NULL; c; c = c->next)
		k++;
	return k;
}

const struct dec_map_rule schema_dec_label_rule = {
    .valid_key = cmdbus_valid_label,
    .bad_key = "a label key is 1..64 bytes of [A-Za-z0-9_.-]",
    .valid_value = cmdbus_valid_label,
    .bad_value = "a label value is a string of 1..64 bytes of "
		 "[A-Za-z0-9_.-]",
};

int
schema_dec_string_map(struct dec *d, const cJSON *obj, const char *path,
		      const struct dec_map_rule *rule,
		      struct cmdbus_label **out, size_t *n)
{
	size_t cnt = schema_dec_count(obj), got = 0;
	struct cmdbus_label *l = NULL;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (cnt == 0)
		return 0;
	l = calloc(cnt, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (const cJSON *c = obj->child; c; c = c->next) {
		char mpath[96];
		size_t len;
		const char *v;

		if (!rule->valid_key(c->string)) {
			rc = schema_dec_fail(d, path, "%s", rule->bad_key);
			break;
		}
		schema_dec_path(mpath, sizeof(mpath), path, c->string);
		v = schema_json_str(c, &len);
		if (!v || schema_bytes_have_nul(v, len) ||
		    (rule->valid_value && !rule->valid_value(v))) {
			if (rule->bad_value)
				rc = schema_dec_fail(d, mpath, "%s",
						     rule->bad_value);
			else
				rc = schema_dec_fail(
				    d, mpath,
				    "'%s' must be a string without NUL", mpath);
			break;
		}
		l[got].key = schema_dec_strdup(c->string, strlen(c->string));
		l[got].value = schema_dec_strdup(v, len);
		got++;
		if (!l[got - 1].key || !l[got - 1].value) {
			rc = -ENOMEM;
			break;
		}
	}
	if (rc < 0) {
		cmdbus_labels_free(l, got);
		return rc;
	}
	*out = l;
	*n = got;
	return 0;
}

struct nameref {
	const char *name;
	size_t idx;
};

static int
nameref_cmp(const void *a, const void *b)
{
	const struct nameref *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

int
schema_dec_first_duplicate(const char *names, size_t n, size_t stride,
			   size_t *dup)
{
	struct nameref *r;

	*dup = n;
	if (n < 2)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		r[i].name = names + i * stride;
		r[i].idx = i;
	}
	qsort(r, n, sizeof(*r), nameref_cmp);
	/* Equal names sort by index, so each later one of a run is a
	 * repeat; the smallest such index is the first repeat. */
	for (size_t i = 1; i < n; i++)
		if (strcmp(r[i - 1].name, r[i].name) == 0 && r[i].idx < *dup)
			*dup = r[i].idx;
	free(r);
	return 0;
}
