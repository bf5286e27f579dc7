/* SPDX-License-Identifier: MIT */
/* Member writers for the encoders: one place that decides how a key, a
 * string, a number and embedded stored JSON are laid out, so that every
 * encoder's output is canonical in the same way. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"

void
schema_enc_key(struct sbuf *b, const char *k)
{
	if (b->d && b->len && b->d[b->len - 1] != '{')
		schema_sbuf_putc(b, ',');
	schema_json_write_string(b, k, strlen(k));
	schema_sbuf_putc(b, ':');
}

void
schema_enc_str(struct sbuf *b, const char *k, const char *v)
{
	schema_enc_key(b, k);
	schema_json_write_string(b, v, strlen(v));
}

void
schema_enc_text(struct sbuf *b, const char *k, const char *v)
{
	schema_enc_key(b, k);
	schema_json_write_string_lossy(b, v ? v : "", v ? strlen(v) : 0);
}

void
schema_enc_u64(struct sbuf *b, const char *k, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	/* Digits by hand: these are most of a view's members, and snprintf
	 * costs more than the rest of their encoding. */
	schema_enc_key(b, k);
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	schema_sbuf_put(b, tmp + i, sizeof(tmp) - i);
}

void
schema_enc_bool(struct sbuf *b, const char *k, bool v)
{
	schema_enc_key(b, k);
	schema_sbuf_puts(b, v ? "true" : "false");
}

void
schema_enc_error(struct sbuf *b, const char *code, const char *message)
{
	schema_enc_key(b, "error");
	schema_sbuf_putc(b, '{');
	schema_enc_text(b, "code", code);
	schema_enc_text(b, "message", message);
	schema_sbuf_putc(b, '}');
}

int
schema_enc_json(struct sbuf *b, const char *k, const char *text, int type)
{
	struct json_err je;
	cJSON *n = NULL;
	int rc;

	size_t len = strlen(text);
	/* Stored JSON is written canonically, so it is usually copied as it
	 * is: the bytes that parsing and writing it again would give. */
	if (((type == cJSON_Object && text[0] == '{') ||
	     (type == cJSON_Array && text[0] == '[')) &&
	    schema_json_canonical(text, len)) {
		schema_enc_key(b, k);
		schema_sbuf_put(b, text, len);
		return b->err;
	}
	rc = schema_json_parse(text, len, &n, &je);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return -EINVAL;
	if ((n->type & 0xff) != type) {
		cJSON_Delete(n);
		return -EINVAL;
	}
	schema_enc_key(b, k);
	rc = schema_json_write(n, b);
	cJSON_Delete(n);
	return rc;
}

int
schema_enc_finish(struct sbuf *b, int rc, char **out, size_t *outlen)
{
	if (rc == 0)
		rc = b->err;
	if (rc < 0) {
		schema_sbuf_fini(b);
		return rc;
	}
	return schema_sbuf_steal(b, out, outlen);
}

void
schema_enc_bytes(struct sbuf *b, const char *name,
		 const struct cmdbus_bytes *by)
{
	const char *p = by->data ? by->data : "";
	size_t n = by->data ? by->len : 0;
	char k[32];

	if (schema_utf8_valid(p, n) && !schema_bytes_have_nul(p, n)) {
		schema_enc_key(b, name);
		schema_json_write_string(b, p, n);
		return;
	}
	snprintf(k, sizeof(k), "%s_b64", name);
	schema_enc_key(b, k);
	schema_sbuf_putc(b, '"');
	schema_b64_encode(b, p, n);
	schema_sbuf_putc(b, '"');
}
