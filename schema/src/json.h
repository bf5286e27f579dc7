/* SPDX-License-Identifier: MIT */
/* Strict JSON (RFC 8259) for the codec: a parser that refuses what cJSON
 * would let through and builds a cJSON tree used as a plain DOM, the
 * canonical compact writer, and typed accessors. Private to the schema
 * library; nothing outside schema/src sees a cJSON pointer. Internal
 * functions of the library carry the schema_ prefix so that they cannot
 * collide with a program's own names at link time. */
#ifndef CMDBUS_SCHEMA_JSON_H
#define CMDBUS_SCHEMA_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cmdbus/proto.h"

/* Where and why a parse failed. */
struct json_err {
	size_t offset;	 /* byte offset into the input */
	char reason[96]; /* a sentence fragment, e.g. "duplicate key" */
};

/* Parses exactly one JSON value from s[0..len) (whitespace around it is
 * allowed, nothing else). Number nodes keep their literal in valuestring;
 * string nodes keep their decoded byte length in valueint (they may hold
 * NUL). Object keys may not contain NUL. 0 with *out the caller's to
 * cJSON_Delete(); -ERR_SYNTAX or -ERR_TOO_DEEP with err filled; -ENOMEM. */
int schema_json_parse(const char *s, size_t len, cJSON **out,
		      struct json_err *err);

/* A growable output buffer for the writer and the encoders. */
struct sbuf {
	char *d;
	size_t len, cap;
	int err; /* first failure (-ENOMEM), sticky */
};
void schema_sbuf_init(struct sbuf *b);
void schema_sbuf_fini(struct sbuf *b);
void schema_sbuf_put(struct sbuf *b, const void *p, size_t n);
void schema_sbuf_puts(struct sbuf *b, const char *s);
void schema_sbuf_putc(struct sbuf *b, char c);
/* Hands the NUL-terminated text to the caller (free()) and resets b; 0 or
 * the sticky error, in which case nothing is handed over. */
int schema_sbuf_steal(struct sbuf *b, char **out, size_t *outlen);

/* Whether s[0..len) is one JSON value that schema_json_parse() accepts
 * and schema_json_write() would write back as the same bytes. "false"
 * may also mean "not sure" (an exponent, a long number, many keys): the
 * caller then parses and writes. See json_canon.c. */
bool schema_json_canonical(const char *s, size_t len);

/* Canonical compact text of a tree (see json_write.c). 0, -EINVAL (a
 * non-finite number, an invalid node), -ENOMEM. */
int schema_json_write(const cJSON *n, struct sbuf *b);
int schema_json_to_text(const cJSON *n, char **out, size_t *outlen);
/* Writes s[0..len) as a JSON string with the canonical escapes. */
void schema_json_write_string(struct sbuf *b, const char *s, size_t len);
/* A finite double: an integer when it is one, else the shortest "%.17g"
 * form that reads back the same. */
void schema_json_write_double(struct sbuf *b, double d);

/* Node builders whose nodes the writer prints exactly. NULL on ENOMEM. */
cJSON *schema_json_new_str(const char *s, size_t len);
cJSON *schema_json_new_u64(uint64_t v);
cJSON *schema_json_new_double(double v);
/* Adds item under key (copied) and takes it; on failure deletes item.
 * 0 or -ENOMEM. Safe to call with item NULL (then -ENOMEM). */
int schema_json_add(cJSON *obj, const char *key, cJSON *item);

/* Accessors. schema_json_get: the member named key (exact bytes) or NULL. */
const cJSON *schema_json_get(const cJSON *obj, const char *key);
/* The bytes of a string node and their length; NULL for other nodes. */
const char *schema_json_str(const cJSON *n, size_t *len);
/* An integer literal (digits only, no sign, fraction or exponent) within
 * 0..CMDBUS_MAX_INT. 0 or -ERR_MALFORMED. */
int schema_json_u64(const cJSON *n, uint64_t *out);
/* A finite number of any form. */
int schema_json_double(const cJSON *n, double *out);

/* UTF-8 helpers. */
bool schema_utf8_valid(const char *s, size_t len);
/* Length of the well-formed sequence at s[0..avail), 0 when invalid. */
size_t schema_utf8_seq_len(const char *s, size_t avail);
bool schema_bytes_have_nul(const char *s, size_t len);
/* Appends s with invalid sequences replaced by U+FFFD, as a JSON string. */
void schema_json_write_string_lossy(struct sbuf *b, const char *s, size_t len);

/* Strict RFC 4648 base64 (standard alphabet, padding, no whitespace,
 * zero pad bits). Decode: 0 with *out malloc'd (NUL-terminated) or
 * -ERR_MALFORMED, -ENOMEM. */
int schema_b64_decode(const char *s, size_t len, char **out, size_t *outlen);
void schema_b64_encode(struct sbuf *b, const void *p, size_t n);
size_t schema_b64_decoded_max(size_t enclen);

#endif
