/* SPDX-License-Identifier: MIT */
/* Recognises text that is already canonical: what schema_json_parse()
 * accepts and schema_json_write() would give back byte for byte. Stored
 * JSON that the views embed (a result, a job's arguments) was written
 * canonically, so it can be copied as it is instead of being parsed into
 * a tree and written again. The check is conservative: anything it is
 * not sure of is "no", and the caller takes the parse-and-write path. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "json.h"

/* Keys compared for duplicates per object; an object with more goes the
 * slow way, whose check is not quadratic. */
#define CANON_MAX_KEYS 24
/* A number literal longer than this might not be finite as a double
 * (which the parser refuses); it goes the slow way. */
#define CANON_MAX_NUMBER 300

struct canon {
	const unsigned char *s;
	size_t len, pos;
	int depth;
};

static bool canon_value(struct canon *c);

static bool
is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

/* A string at c->pos (the opening quote) in canonical form: raw UTF-8,
 * the short escapes for the five control bytes that have one, \u00xx
 * (lower-case hex) for the other control bytes, \" and \\; nothing else
 * escaped. In a key, no \u0000 (the parser refuses NUL in keys). */
static bool
canon_string(struct canon *c, bool key)
{
	static const char hex[] = "0123456789abcdef";

	c->pos++;
	while (c->pos < c->len) {
		unsigned char ch = c->s[c->pos];
		if (ch == '"') {
			c->pos++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch >= 0x80) {
			size_t k = schema_utf8_seq_len(
			    (const char *)c->s + c->pos, c->len - c->pos);
			if (k == 0)
				return false;
			c->pos += k;
			continue;
		}
		if (ch != '\\') {
			c->pos++;
			continue;
		}
		if (c->len - c->pos < 2)
			return false;
		unsigned char e = c->s[c->pos + 1];
		if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' ||
		    e == 'r' || e == 't') {
			c->pos += 2;
			continue;
		}
		if (e != 'u' || c->len - c->pos < 6)
			return false;
		const unsigned char *u = c->s + c->pos + 2;
		if (u[0] != '0' || u[1] != '0' || (u[2] != '0' && u[2] != '1'))
			return false;
		unsigned v = (unsigned)(u[2] - '0') << 4;
		const char *d = memchr(hex, u[3], 16);
		if (!d)
			return false;
		v |= (unsigned)(d - hex);
		/* These have a short escape, which the writer uses. */
		if (v == '\b' || v == '\f' || v == '\n' || v == '\r' ||
		    v == '\t' || (key && v == 0))
			return false;
		c->pos += 6;
	}
	return false;
}

/* A number literal: the parser's grammar, written back as read. */
static bool
canon_number(struct canon *c)
{
	size_t start = c->pos, i = c->pos;

	if (i < c->len && c->s[i] == '-')
		i++;
	if (i >= c->len || !is_digit(c->s[i]))
		return false;
	if (c->s[i] == '0') {
		i++;
		if (i < c->len && is_digit(c->s[i]))
			return false;
	} else {
		while (i < c->len && is_digit(c->s[i]))
			i++;
	}
	if (i < c->len && c->s[i] == '.') {
		i++;
		if (i >= c->len || !is_digit(c->s[i]))
			return false;
		while (i < c->len && is_digit(c->s[i]))
			i++;
	}
	/* An exponent could overflow a double: the slow way decides. */
	if (i < c->len && (c->s[i] == 'e' || c->s[i] == 'E'))
		return false;
	if (i - start > CANON_MAX_NUMBER)
		return false;
	c->pos = i;
	return true;
}

static bool
canon_literal(struct canon *c, const char *word)
{
	size_t n = strlen(word);

	if (c->len - c->pos < n || memcmp(c->s + c->pos, word, n) != 0)
		return false;
	c->pos += n;
	return true;
}

static bool
canon_object(struct canon *c)
{
	/* The keys so far, as their canonical bytes: two keys with the same
	 * value have the same canonical bytes. */
	size_t key_at[CANON_MAX_KEYS], key_len[CANON_MAX_KEYS];
	size_t nkeys = 0;

	c->pos++;
	if (c->pos < c->len && c->s[c->pos] == '}') {
		c->pos++;
		return true;
	}
	for (;;) {
		if (c->pos >= c->len || c->s[c->pos] != '"' ||
		    nkeys == CANON_MAX_KEYS)
			return false;
		size_t at = c->pos;
		if (!canon_string(c, true))
			return false;
		size_t len = c->pos - at;
		for (size_t k = 0; k < nkeys; k++)
			if (key_len[k] == len &&
			    memcmp(c->s + key_at[k], c->s + at, len) == 0)
				return false;
		key_at[nkeys] = at;
		key_len[nkeys++] = len;
		if (c->pos >= c->len || c->s[c->pos] != ':')
			return false;
		c->pos++;
		if (!canon_value(c))
			return false;
		if (c->pos < c->len && c->s[c->pos] == ',') {
			c->pos++;
			continue;
		}
		if (c->pos < c->len && c->s[c->pos] == '}') {
			c->pos++;
			return true;
		}
		return false;
	}
}

static bool
canon_array(struct canon *c)
{
	c->pos++;
	if (c->pos < c->len && c->s[c->pos] == ']') {
		c->pos++;
		return true;
	}
	for (;;) {
		if (!canon_value(c))
			return false;
		if (c->pos < c->len && c->s[c->pos] == ',') {
			c->pos++;
			continue;
		}
		if (c->pos < c->len && c->s[c->pos] == ']') {
			c->pos++;
			return true;
		}
		return false;
	}
}

static bool
canon_value(struct canon *c)
{
	bool ok;

	if (c->pos >= c->len)
		return false;
	switch (c->s[c->pos]) {
	case '{':
	case '[':
		if (c->depth >= CMDBUS_MAX_DEPTH)
			return false;
		c->depth++;
		ok = c->s[c->pos] == '{' ? canon_object(c) : canon_array(c);
		c->depth--;
		return ok;
	case '"':
		return canon_string(c, false);
	case 't':
		return canon_literal(c, "true");
	case 'f':
		return canon_literal(c, "false");
	case 'n':
		return canon_literal(c, "null");
	default:
		return canon_number(c);
	}
}

bool
schema_json_canonical(const char *s, size_t len)
{
	struct canon c = {(const unsigned char *)s, len, 0, 0};

	if (len > (size_t)INT32_MAX)
		return false;
	return canon_value(&c) && c.pos == len;
}
