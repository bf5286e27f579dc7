/* SPDX-License-Identifier: MIT */
/* The public read-only view over the strict parser's tree and a small
 * streaming writer, so that programs read and build JSON through the
 * schema library alone. A node handle is the cJSON node itself, cast to
 * an opaque type. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/jsonv.h"
#include "common/err.h"
#include "common/parse.h"
#include "json.h"

#define JSONW_MAX_DEPTH 32

struct cmdbus_jsonv {
	cJSON *root;
};

static const cJSON *
node(const struct cmdbus_jnode *n)
{
	return (const cJSON *)(const void *)n;
}

static const struct cmdbus_jnode *
handle(const cJSON *c)
{
	return (const struct cmdbus_jnode *)(const void *)c;
}

int
cmdbus_jsonv_parse(const char *s, size_t len, struct cmdbus_jsonv **out,
		   char *err, size_t errlen)
{
	struct json_err je = {0};
	struct cmdbus_jsonv *doc;
	cJSON *root = NULL;
	int rc;

	*out = NULL;
	rc = schema_json_parse(s, len, &root, &je);
	if (rc < 0) {
		if (errlen > 0)
			snprintf(err, errlen, "at byte %zu: %s", je.offset,
				 rc == -ENOMEM ? "out of memory" : je.reason);
		return rc;
	}
	doc = malloc(sizeof(*doc));
	if (doc == NULL) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	doc->root = root;
	*out = doc;
	return 0;
}

void
cmdbus_jsonv_free(struct cmdbus_jsonv *doc)
{
	if (doc == NULL)
		return;
	cJSON_Delete(doc->root);
	free(doc);
}

const struct cmdbus_jnode *
cmdbus_jsonv_root(const struct cmdbus_jsonv *doc)
{
	return doc == NULL ? NULL : handle(doc->root);
}

enum cmdbus_jtype
cmdbus_jnode_type(const struct cmdbus_jnode *n)
{
	const cJSON *c = node(n);

	if (c == NULL)
		return CMDBUS_JMISSING;
	if (cJSON_IsNull(c))
		return CMDBUS_JNULL;
	if (cJSON_IsBool(c))
		return CMDBUS_JBOOL;
	if (cJSON_IsNumber(c))
		return CMDBUS_JNUMBER;
	if (cJSON_IsString(c))
		return CMDBUS_JSTRING;
	if (cJSON_IsArray(c))
		return CMDBUS_JARRAY;
	if (cJSON_IsObject(c))
		return CMDBUS_JOBJECT;
	return CMDBUS_JMISSING;
}

const struct cmdbus_jnode *
cmdbus_jnode_get(const struct cmdbus_jnode *n, const char *key)
{
	const cJSON *c = node(n);

	if (c == NULL || !cJSON_IsObject(c) || key == NULL)
		return NULL;
	return handle(schema_json_get(c, key));
}

size_t
cmdbus_jnode_len(const struct cmdbus_jnode *n)
{
	const cJSON *c = node(n);
	size_t k = 0;

	if (c == NULL || !(cJSON_IsArray(c) || cJSON_IsObject(c)))
		return 0;
	for (c = c->child; c != NULL; c = c->next)
		k++;
	return k;
}

const struct cmdbus_jnode *
cmdbus_jnode_at(const struct cmdbus_jnode *n, size_t i)
{
	const cJSON *c = node(n);

	if (c == NULL || !(cJSON_IsArray(c) || cJSON_IsObject(c)))
		return NULL;
	for (c = c->child; c != NULL && i > 0; c = c->next)
		i--;
	return handle(c);
}

const char *
cmdbus_jnode_key(const struct cmdbus_jnode *n)
{
	const cJSON *c = node(n);

	return c == NULL ? NULL : c->string;
}

const char *
cmdbus_jnode_str(const struct cmdbus_jnode *n, size_t *len)
{
	return schema_json_str(node(n), len);
}

int
cmdbus_jnode_int(const struct cmdbus_jnode *n, int64_t *out)
{
	const cJSON *c = node(n);

	if (c == NULL || !cJSON_IsNumber(c) || c->valuestring == NULL)
		return -ERR_MALFORMED;
	/* The literal as it was read: 1.0 and 1e3 are not integers here. */
	if (strpbrk(c->valuestring, ".eE+") != NULL)
		return -ERR_MALFORMED;
	if (parse_i64(c->valuestring, INT64_MIN, INT64_MAX, out) < 0)
		return -ERR_MALFORMED;
	return 0;
}

int
cmdbus_jnode_number(const struct cmdbus_jnode *n, double *out)
{
	const cJSON *c = node(n);

	if (c == NULL || !cJSON_IsNumber(c))
		return -ERR_MALFORMED;
	return schema_json_double(c, out) < 0 ? -ERR_MALFORMED : 0;
}

int
cmdbus_jnode_bool(const struct cmdbus_jnode *n, bool *out)
{
	const cJSON *c = node(n);

	if (c == NULL || !cJSON_IsBool(c))
		return -ERR_MALFORMED;
	*out = cJSON_IsTrue(c);
	return 0;
}

struct cmdbus_jsonw {
	struct sbuf b;
	int depth;
	bool obj[JSONW_MAX_DEPTH];   /* container kind per level */
	bool first[JSONW_MAX_DEPTH]; /* nothing written yet at this level */
	bool done;		     /* a complete top-level value */
	int err;
};

struct cmdbus_jsonw *
cmdbus_jsonw_new(void)
{
	struct cmdbus_jsonw *w = calloc(1, sizeof(*w));

	if (w != NULL)
		schema_sbuf_init(&w->b);
	return w;
}

void
cmdbus_jsonw_free(struct cmdbus_jsonw *w)
{
	if (w == NULL)
		return;
	schema_sbuf_fini(&w->b);
	free(w);
}

/* Writes the separator and key a value needs where it stands, or records
 * misuse: a key is required in an object and refused elsewhere. */
static bool
jsonw_value(struct cmdbus_jsonw *w, const char *key)
{
	if (w->err != 0)
		return false;
	if (w->depth == 0) {
		if (key != NULL || w->done) {
			w->err = -EINVAL;
			return false;
		}
		return true;
	}
	if (w->obj[w->depth - 1] != (key != NULL)) {
		w->err = -EINVAL;
		return false;
	}
	if (!w->first[w->depth - 1])
		schema_sbuf_putc(&w->b, ',');
	w->first[w->depth - 1] = false;
	if (key != NULL) {
		if (!schema_utf8_valid(key, strlen(key))) {
			w->err = -EINVAL;
			return false;
		}
		schema_json_write_string(&w->b, key, strlen(key));
		schema_sbuf_putc(&w->b, ':');
	}
	return true;
}

static void
jsonw_scalar_done(struct cmdbus_jsonw *w)
{
	if (w->depth == 0)
		w->done = true;
}

static void
jsonw_open(struct cmdbus_jsonw *w, const char *key, bool obj)
{
	if (!jsonw_value(w, key))
		return;
	if (w->depth == JSONW_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	schema_sbuf_putc(&w->b, obj ? '{' : '[');
	w->obj[w->depth] = obj;
	w->first[w->depth] = true;
	w->depth++;
}

static void
jsonw_close(struct cmdbus_jsonw *w, bool obj)
{
	if (w->err != 0)
		return;
	if (w->depth == 0 || w->obj[w->depth - 1] != obj) {
		w->err = -EINVAL;
		return;
	}
	schema_sbuf_putc(&w->b, obj ? '}' : ']');
	w->depth--;
	jsonw_scalar_done(w);
}

void
cmdbus_jsonw_obj_begin(struct cmdbus_jsonw *w, const char *key)
{
	jsonw_open(w, key, true);
}

void
cmdbus_jsonw_obj_end(struct cmdbus_jsonw *w)
{
	jsonw_close(w, true);
}

void
cmdbus_jsonw_arr_begin(struct cmdbus_jsonw *w, const char *key)
{
	jsonw_open(w, key, false);
}

void
cmdbus_jsonw_arr_end(struct cmdbus_jsonw *w)
{
	jsonw_close(w, false);
}

void
cmdbus_jsonw_str(struct cmdbus_jsonw *w, const char *key, const char *v)
{
	size_t len = v == NULL ? 0 : strlen(v);

	if (v != NULL && !schema_utf8_valid(v, len)) {
		if (w->err == 0)
			w->err = -EINVAL;
		return;
	}
	if (!jsonw_value(w, key))
		return;
	schema_json_write_string(&w->b, v == NULL ? "" : v, len);
	jsonw_scalar_done(w);
}

void
cmdbus_jsonw_u64(struct cmdbus_jsonw *w, const char *key, uint64_t v)
{
	char num[24];

	if (!jsonw_value(w, key))
		return;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	schema_sbuf_puts(&w->b, num);
	jsonw_scalar_done(w);
}

void
cmdbus_jsonw_bool(struct cmdbus_jsonw *w, const char *key, bool v)
{
	if (!jsonw_value(w, key))
		return;
	schema_sbuf_puts(&w->b, v ? "true" : "false");
	jsonw_scalar_done(w);
}

int
cmdbus_jsonw_finish(struct cmdbus_jsonw *w, char **out, size_t *outlen)
{
	*out = NULL;
	if (w->err != 0)
		return w->err;
	if (w->depth != 0 || !w->done)
		return -EINVAL;
	if (w->b.err != 0)
		return w->b.err;
	return schema_sbuf_steal(&w->b, out, outlen);
}
