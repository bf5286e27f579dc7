/* SPDX-License-Identifier: MIT */
/* The canonical JSON writer: compact, keys in insertion order, the short
 * escapes and \u00XX for other control bytes, everything else raw, and
 * numbers exactly as they were read (or as integers, or as the shortest
 * double that reads back the same). Its output is what "canonical" means
 * in the codec. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
schema_sbuf_init(struct sbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
schema_sbuf_fini(struct sbuf *b)
{
	free(b->d);
	memset(b, 0, sizeof(*b));
}

void
schema_sbuf_put(struct sbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->cap - b->len <= n) {
		size_t ncap = b->cap ? b->cap : 256;
		char *nd;

		while (ncap - b->len <= n) {
			if (ncap > SIZE_MAX / 2) {
				b->err = -ENOMEM;
				return;
			}
			ncap *= 2;
		}
		nd = realloc(b->d, ncap);
		if (!nd) {
			b->err = -ENOMEM;
			return;
		}
		b->d = nd;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
}

void
schema_sbuf_puts(struct sbuf *b, const char *s)
{
	schema_sbuf_put(b, s, strlen(s));
}

void
schema_sbuf_putc(struct sbuf *b, char c)
{
	schema_sbuf_put(b, &c, 1);
}

int
schema_sbuf_steal(struct sbuf *b, char **out, size_t *outlen)
{
	int rc = b->err;

	if (!rc && !b->d) {
		schema_sbuf_put(b, "", 0);
		rc = b->err;
	}
	if (rc) {
		schema_sbuf_fini(b);
		return rc;
	}
	*out = b->d;
	if (outlen)
		*outlen = b->len;
	memset(b, 0, sizeof(*b));
	return 0;
}

void
schema_json_write_string(struct sbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	schema_sbuf_putc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[6];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		schema_sbuf_put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			schema_sbuf_put(b, u, 6);
			continue;
		}
		schema_sbuf_puts(b, esc);
	}
	schema_sbuf_put(b, s + run, len - run);
	schema_sbuf_putc(b, '"');
}

void
schema_json_write_string_lossy(struct sbuf *b, const char *s, size_t len)
{
	struct sbuf t;
	size_t i = 0;

	if (schema_utf8_valid(s, len)) {
		schema_json_write_string(b, s, len);
		return;
	}
	schema_sbuf_init(&t);
	while (i < len) {
		size_t k = schema_utf8_seq_len(s + i, len - i);
		if (k) {
			schema_sbuf_put(&t, s + i, k);
			i += k;
		} else {
			schema_sbuf_puts(&t, "\xef\xbf\xbd");
			i++;
		}
	}
	if (t.err)
		b->err = t.err;
	else
		schema_json_write_string(b, t.d ? t.d : "", t.len);
	schema_sbuf_fini(&t);
}

/* The shortest "%.*g" form that reads back as the same double. */
void
schema_json_write_double(struct sbuf *b, double d)
{
	char tmp[40];

	if (d == floor(d) && fabs(d) < 9007199254740992.0) {
		int64_t i = (int64_t)d;
		snprintf(tmp, sizeof(tmp), "%" PRId64, i);
		schema_sbuf_puts(b, tmp);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	schema_sbuf_puts(b, tmp);
}

int
schema_json_write(const cJSON *n, struct sbuf *b)
{
	const cJSON *c;
	size_t len;
	const char *s;
	int rc;

	switch (n->type & 0xff) {
	case cJSON_NULL:
		schema_sbuf_puts(b, "null");
		break;
	case cJSON_True:
		schema_sbuf_puts(b, "true");
		break;
	case cJSON_False:
		schema_sbuf_puts(b, "false");
		break;
	case cJSON_Number:
		if (n->valuestring) {
			schema_sbuf_puts(b, n->valuestring);
			break;
		}
		if (!isfinite(n->valuedouble))
			return -EINVAL;
		schema_json_write_double(b, n->valuedouble);
		break;
	case cJSON_String:
		s = schema_json_str(n, &len);
		if (!s)
			return -EINVAL;
		schema_json_write_string(b, s, len);
		break;
	case cJSON_Array:
		schema_sbuf_putc(b, '[');
		for (c = n->child; c; c = c->next) {
			if (c != n->child)
				schema_sbuf_putc(b, ',');
			rc = schema_json_write(c, b);
			if (rc < 0)
				return rc;
		}
		schema_sbuf_putc(b, ']');
		break;
	case cJSON_Object:
		schema_sbuf_putc(b, '{');
		for (c = n->child; c; c = c->next) {
			if (!c->string)
				return -EINVAL;
			if (c != n->child)
				schema_sbuf_putc(b, ',');
			schema_json_write_string(b, c->string,
						 strlen(c->string));
			schema_sbuf_putc(b, ':');
			rc = schema_json_write(c, b);
			if (rc < 0)
				return rc;
		}
		schema_sbuf_putc(b, '}');
		break;
	default:
		return -EINVAL;
	}
	return b->err;
}

int
schema_json_to_text(const cJSON *n, char **out, size_t *outlen)
{
	struct sbuf b;
	int rc;

	schema_sbuf_init(&b);
	rc = schema_json_write(n, &b);
	if (rc < 0) {
		schema_sbuf_fini(&b);
		return rc;
	}
	return schema_sbuf_steal(&b, out, outlen);
}

cJSON *
schema_json_new_str(const char *s, size_t len)
{
	cJSON *n;
	char *d;

	if (len > (size_t)INT32_MAX)
		return NULL;
	d = malloc(len + 1);
	if (!d)
		return NULL;
	n = cJSON_CreateNull();
	if (!n) {
		free(d);
		return NULL;
	}
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	n->type = cJSON_String;
	n->valuestring = d;
	n->valueint = (int)len;
	return n;
}

cJSON *
schema_json_new_u64(uint64_t v)
{
	char tmp[24];
	cJSON *n;
	char *lit;

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	lit = strdup(tmp);
	if (!lit)
		return NULL;
	n = cJSON_CreateNumber((double)v);
	if (!n) {
		free(lit);
		return NULL;
	}
	n->valuestring = lit;
	return n;
}

cJSON *
schema_json_new_double(double v)
{
	return cJSON_CreateNumber(v);
}

int
schema_json_add(cJSON *obj, const char *key, cJSON *item)
{
	char *k;

	if (!item)
		return -ENOMEM;
	k = strdup(key);
	if (!k) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	item->string = k;
	cJSON_AddItemToArray(obj, item);
	return 0;
}
