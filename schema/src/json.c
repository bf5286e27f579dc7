/* SPDX-License-Identifier: MIT */
/* The strict JSON parser. cJSON's own parser accepts duplicate keys,
 * leading zeros and lone surrogates and forgets how a number was written,
 * so this one checks RFC 8259 to the letter and only uses cJSON as the
 * tree it fills. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "json.h"

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	int depth;
	struct json_err *err;
};

static int
fail(struct parser *p, size_t at, int rc, const char *why)
{
	if (p->err) {
		p->err->offset = at;
		snprintf(p->err->reason, sizeof(p->err->reason), "%s", why);
	}
	return rc;
}

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		unsigned char c = p->s[p->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/* Length of the well-formed UTF-8 sequence at s (Unicode table 3-7), or 0
 * when it is not one: this refuses overlongs, encoded surrogates and
 * anything past U+10FFFF. */
static size_t
utf8_seq(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

size_t
schema_utf8_seq_len(const char *s, size_t avail)
{
	return utf8_seq((const unsigned char *)s, avail);
}

bool
schema_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool
schema_bytes_have_nul(const char *s, size_t len)
{
	return memchr(s, 0, len) != NULL;
}

static int
hex4(const unsigned char *s, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = s[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(unsigned char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | (cp >> 6));
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | (cp >> 12));
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | (cp >> 18));
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Parses the string starting at the opening quote into a malloc'd,
 * NUL-terminated buffer. Decoding never grows the text (an escape is at
 * least as long as what it stands for), so the buffer is sized from the
 * raw span found first. */
static int
parse_string(struct parser *p, char **out, size_t *outlen)
{
	size_t start = p->pos;
	size_t end = start + 1;
	unsigned char *o;
	size_t n = 0;

	/* Find the closing quote, stepping over escapes. */
	while (end < p->len && p->s[end] != '"') {
		if (p->s[end] == '\\')
			end++;
		end++;
	}
	if (end >= p->len)
		return fail(p, start, -ERR_SYNTAX, "unterminated string");

	o = malloc(end - start);
	if (!o)
		return -ENOMEM;
	p->pos = start + 1;
	while (p->pos < end) {
		unsigned char c = p->s[p->pos];
		if (c < 0x20) {
			free(o);
			return fail(p, p->pos, -ERR_SYNTAX,
				    "control character in string");
		}
		if (c >= 0x80) {
			size_t k = utf8_seq(p->s + p->pos, end - p->pos);
			if (k == 0) {
				free(o);
				return fail(p, p->pos, -ERR_SYNTAX,
					    "invalid UTF-8");
			}
			memcpy(o + n, p->s + p->pos, k);
			n += k;
			p->pos += k;
			continue;
		}
		if (c != '\\') {
			o[n++] = c;
			p->pos++;
			continue;
		}
		/* An escape; end - pos >= 2 here because the scan above
		 * stepped over the escaped byte. */
		size_t at = p->pos;
		unsigned char e = p->s[p->pos + 1];
		p->pos += 2;
		switch (e) {
		case '"':
		case '\\':
		case '/':
			o[n++] = e;
			continue;
		case 'b':
			o[n++] = '\b';
			continue;
		case 'f':
			o[n++] = '\f';
			continue;
		case 'n':
			o[n++] = '\n';
			continue;
		case 'r':
			o[n++] = '\r';
			continue;
		case 't':
			o[n++] = '\t';
			continue;
		case 'u':
			break;
		default:
			free(o);
			return fail(p, at, -ERR_SYNTAX, "invalid escape");
		}
		unsigned cp, lo;
		if (end - p->pos < 4 || hex4(p->s + p->pos, &cp) < 0) {
			free(o);
			return fail(p, at, -ERR_SYNTAX, "invalid \\u escape");
		}
		p->pos += 4;
		if (cp >= 0xdc00 && cp <= 0xdfff) {
			free(o);
			return fail(p, at, -ERR_SYNTAX, "lone low surrogate");
		}
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (end - p->pos < 6 || p->s[p->pos] != '\\' ||
			    p->s[p->pos + 1] != 'u' ||
			    hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xdc00 ||
			    lo > 0xdfff) {
				free(o);
				return fail(p, at, -ERR_SYNTAX,
					    "lone high surrogate");
			}
			p->pos += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		n += put_utf8(o + n, cp);
	}
	o[n] = '\0';
	p->pos = end + 1;
	*out = (char *)o;
	*outlen = n;
	return 0;
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
parse_number(struct parser *p, cJSON **out)
{
	size_t start = p->pos;
	size_t i = start;
	char *lit;
	double d;
	cJSON *n;

	if (i < p->len && p->s[i] == '-')
		i++;
	if (i >= p->len || !is_digit(p->s[i]))
		return fail(p, start, -ERR_SYNTAX, "invalid number");
	if (p->s[i] == '0') {
		i++;
		if (i < p->len && is_digit(p->s[i]))
			return fail(p, start, -ERR_SYNTAX, "leading zero");
	} else {
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	if (i < p->len && p->s[i] == '.') {
		i++;
		if (i >= p->len || !is_digit(p->s[i]))
			return fail(p, start, -ERR_SYNTAX,
				    "digits expected after '.'");
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->s[i]))
			return fail(p, start, -ERR_SYNTAX,
				    "digits expected in exponent");
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}

	lit = malloc(i - start + 1);
	if (!lit)
		return -ENOMEM;
	memcpy(lit, p->s + start, i - start);
	lit[i - start] = '\0';
	errno = 0;
	d = strtod(lit, NULL);
	/* A literal too large for a double has no faithful value; refusing
	 * it keeps every number node finite. Underflow to 0 is harmless. */
	if (!isfinite(d)) {
		free(lit);
		return fail(p, start, -ERR_SYNTAX, "number out of range");
	}
	n = cJSON_CreateNumber(d);
	if (!n) {
		free(lit);
		return -ENOMEM;
	}
	n->valuestring = lit;
	p->pos = i;
	*out = n;
	return 0;
}

static int
parse_literal(struct parser *p, const char *word, int type, cJSON **out)
{
	size_t wl = strlen(word);
	cJSON *n;

	if (p->len - p->pos < wl || memcmp(p->s + p->pos, word, wl) != 0)
		return fail(p, p->pos, -ERR_SYNTAX, "invalid literal");
	if (type == cJSON_True)
		n = cJSON_CreateTrue();
	else if (type == cJSON_False)
		n = cJSON_CreateFalse();
	else
		n = cJSON_CreateNull();
	if (!n)
		return -ENOMEM;
	p->pos += wl;
	*out = n;
	return 0;
}

static int parse_value(struct parser *p, cJSON **out);

struct keyref {
	const char *key;
	size_t off;
};

static int
keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Duplicate keys are found by sorting the keys once the object is read:
 * O(n log n), where comparing each new key with all earlier ones would let
 * a message of many keys cost quadratic time. */
static int
check_duplicates(struct parser *p, const cJSON *obj, size_t nkeys,
		 const size_t *offs)
{
	struct keyref *k;
	const cJSON *c;
	size_t i = 0;
	int rc = 0;

	if (nkeys < 2)
		return 0;
	k = malloc(nkeys * sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (c = obj->child; c; c = c->next, i++) {
		k[i].key = c->string;
		k[i].off = offs[i];
	}
	qsort(k, nkeys, sizeof(*k), keyref_cmp);
	for (i = 1; i < nkeys; i++) {
		if (strcmp(k[i - 1].key, k[i].key) == 0) {
			rc = fail(p, k[i].off, -ERR_SYNTAX, "duplicate key");
			break;
		}
	}
	free(k);
	return rc;
}

static int
parse_object(struct parser *p, cJSON **out)
{
	cJSON *obj = cJSON_CreateObject();
	size_t *offs = NULL, nkeys = 0, cap = 0;
	int rc;

	if (!obj)
		return -ENOMEM;
	p->pos++; /* '{' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		*out = obj;
		return 0;
	}
	for (;;) {
		char *key;
		size_t klen, koff;
		cJSON *val = NULL;

		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			rc =
			    fail(p, p->pos, -ERR_SYNTAX, "object key expected");
			goto err;
		}
		koff = p->pos;
		rc = parse_string(p, &key, &klen);
		if (rc < 0)
			goto err;
		/* A key with NUL could not be told apart from its prefix by
		 * the C-string lookups of the DOM, so it is refused. */
		if (strlen(key) != klen) {
			free(key);
			rc = fail(p, koff, -ERR_SYNTAX, "NUL in object key");
			goto err;
		}
		skip_ws(p);
		if (p->pos >= p->len || p->s[p->pos] != ':') {
			free(key);
			rc = fail(p, p->pos, -ERR_SYNTAX, "':' expected");
			goto err;
		}
		p->pos++;
		rc = parse_value(p, &val);
		if (rc < 0) {
			free(key);
			goto err;
		}
		if (nkeys == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			size_t *no = realloc(offs, ncap * sizeof(*no));
			if (!no) {
				free(key);
				cJSON_Delete(val);
				rc = -ENOMEM;
				goto err;
			}
			offs = no;
			cap = ncap;
		}
		offs[nkeys++] = koff;
		val->string = key;
		cJSON_AddItemToArray(obj, val);
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, -ERR_SYNTAX, "',' or '}' expected");
		goto err;
	}
	rc = check_duplicates(p, obj, nkeys, offs);
	if (rc < 0)
		goto err;
	free(offs);
	*out = obj;
	return 0;
err:
	free(offs);
	cJSON_Delete(obj);
	return rc;
}

static int
parse_array(struct parser *p, cJSON **out)
{
	cJSON *arr = cJSON_CreateArray();
	int rc;

	if (!arr)
		return -ENOMEM;
	p->pos++; /* '[' */
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		*out = arr;
		return 0;
	}
	for (;;) {
		cJSON *val = NULL;

		rc = parse_value(p, &val);
		if (rc < 0)
			goto err;
		cJSON_AddItemToArray(arr, val);
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			break;
		}
		rc = fail(p, p->pos, -ERR_SYNTAX, "',' or ']' expected");
		goto err;
	}
	*out = arr;
	return 0;
err:
	cJSON_Delete(arr);
	return rc;
}

static int
parse_value(struct parser *p, cJSON **out)
{
	unsigned char c;
	int rc;

	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, p->pos, -ERR_SYNTAX, "value expected");
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		if (p->depth >= CMDBUS_MAX_DEPTH)
			return fail(p, p->pos, -ERR_TOO_DEEP,
				    "nested too deeply");
		p->depth++;
		rc = c == '{' ? parse_object(p, out) : parse_array(p, out);
		p->depth--;
		return rc;
	case '"': {
		char *s;
		size_t n;
		cJSON *node;

		rc = parse_string(p, &s, &n);
		if (rc < 0)
			return rc;
		node = cJSON_CreateNull();
		if (!node) {
			free(s);
			return -ENOMEM;
		}
		node->type = cJSON_String;
		node->valuestring = s;
		node->valueint = (int)n;
		*out = node;
		return 0;
	}
	case 't':
		return parse_literal(p, "true", cJSON_True, out);
	case 'f':
		return parse_literal(p, "false", cJSON_False, out);
	case 'n':
		return parse_literal(p, "null", cJSON_NULL, out);
	default:
		if (c == '-' || is_digit(c))
			return parse_number(p, out);
		return fail(p, p->pos, -ERR_SYNTAX, "value expected");
	}
}

int
schema_json_parse(const char *s, size_t len, cJSON **out, struct json_err *err)
{
	struct parser p = {(const unsigned char *)s, len, 0, 0, err};
	cJSON *root = NULL;
	int rc;

	/* The decoded length of a string node lives in an int. */
	if (len > (size_t)INT32_MAX)
		return fail(&p, 0, -ERR_SYNTAX, "document too large");
	rc = parse_value(&p, &root);
	if (rc < 0)
		return rc;
	skip_ws(&p);
	if (p.pos != p.len) {
		cJSON_Delete(root);
		return fail(&p, p.pos, -ERR_SYNTAX,
			    "unexpected characters after the value");
	}
	*out = root;
	return 0;
}

const cJSON *
schema_json_get(const cJSON *obj, const char *key)
{
	const cJSON *c;

	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	for (c = obj->child; c; c = c->next)
		if (c->string && strcmp(c->string, key) == 0)
			return c;
	return NULL;
}

const char *
schema_json_str(const cJSON *n, size_t *len)
{
	if (!n || !cJSON_IsString(n) || !n->valuestring)
		return NULL;
	if (len) {
		/* Nodes built with cJSON_CreateString() carry no length. */
		*len = n->valueint > 0 ? (size_t)n->valueint
				       : strlen(n->valuestring);
	}
	return n->valuestring;
}

int
schema_json_u64(const cJSON *n, uint64_t *out)
{
	const char *s;
	uint64_t v = 0;

	if (!n || !cJSON_IsNumber(n) || !n->valuestring)
		return -ERR_MALFORMED;
	s = n->valuestring;
	if (!*s)
		return -ERR_MALFORMED;
	for (; *s; s++) {
		if (!is_digit((unsigned char)*s))
			return -ERR_MALFORMED;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > CMDBUS_MAX_INT)
			return -ERR_MALFORMED;
	}
	*out = v;
	return 0;
}

int
schema_json_double(const cJSON *n, double *out)
{
	if (!n || !cJSON_IsNumber(n) || !isfinite(n->valuedouble))
		return -ERR_MALFORMED;
	*out = n->valuedouble;
	return 0;
}
