/* SPDX-License-Identifier: MIT */
/* Member writers shared by the message, REST and action encoders: each
 * writes one `"key":value` of the object being written, with the comma
 * before it unless the object has just opened, so that every encoder
 * lays out its fields the same way. Failures stick in the sbuf. */
#ifndef CMDBUS_SCHEMA_ENCODE_H
#define CMDBUS_SCHEMA_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/msg.h"
#include "json.h"

/* The comma (unless the object just opened) and "key":. */
void schema_enc_key(struct sbuf *b, const char *k);
/* A string member written exactly: for values the caller has checked. */
void schema_enc_str(struct sbuf *b, const char *k, const char *v);
/* A string member from an untrusted source (a database, the host):
 * invalid UTF-8 is replaced rather than refused; NULL is "". */
void schema_enc_text(struct sbuf *b, const char *k, const char *v);
void schema_enc_u64(struct sbuf *b, const char *k, uint64_t v);
void schema_enc_bool(struct sbuf *b, const char *k, bool v);
/* Bytes as the member `k` when they are UTF-8 without NUL, else as
 * `k_b64` in base64: text stays readable and any bytes still travel. */
void schema_enc_bytes(struct sbuf *b, const char *k,
		      const struct cmdbus_bytes *by);
/* "error":{"code":...,"message":...} (NULL message: ""). Both are
 * written as text: a message is for humans and may come from anywhere
 * (errno text, a path, a database), so it is made valid rather than
 * refused, and a peer can always be answered. */
void schema_enc_error(struct sbuf *b, const char *code, const char *message);
/* Embeds stored JSON text (args, a result payload) after parsing it
 * strictly; it is written canonically. `type` is the cJSON type it must
 * have (cJSON_Object, cJSON_Array). 0, -EINVAL (not JSON, or not of that
 * type), -ENOMEM. */
int schema_enc_json(struct sbuf *b, const char *k, const char *text, int type);

/* Ends an encode: with rc 0 and no sticky error, hands the text to the
 * caller (*out malloc'd, *outlen when outlen is not NULL); otherwise
 * frees the buffer and returns the error. */
int schema_enc_finish(struct sbuf *b, int rc, char **out, size_t *outlen);

#endif
