/* SPDX-License-Identifier: MIT */
/* Read-only access to a JSON document and a small streaming writer, for
 * programs outside the schema library (the cmdbus CLI) that must read the
 * REST API's answers and build request bodies without seeing cJSON. */
#ifndef CMDBUS_JSONV_H
#define CMDBUS_JSONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed document; nodes inside it are borrowed and live as long as it. */
struct cmdbus_jsonv;
/* One value inside a document (never allocated on its own). */
struct cmdbus_jnode;

enum cmdbus_jtype {
	CMDBUS_JMISSING, /* a NULL node: absent member or index */
	CMDBUS_JNULL,
	CMDBUS_JBOOL,
	CMDBUS_JNUMBER,
	CMDBUS_JSTRING,
	CMDBUS_JARRAY,
	CMDBUS_JOBJECT,
};

/* Parses exactly one JSON value strictly (RFC 8259, no duplicate keys).
 * 0 with *out the caller's to cmdbus_jsonv_free(); -ERR_SYNTAX or
 * -ERR_TOO_DEEP with a reason in err (when errlen > 0); -ENOMEM. */
int cmdbus_jsonv_parse(const char *s, size_t len, struct cmdbus_jsonv **out,
		       char *err, size_t errlen);
void cmdbus_jsonv_free(struct cmdbus_jsonv *doc); /* NULL: no-op */
/* The top-level value; borrowed from doc. */
const struct cmdbus_jnode *cmdbus_jsonv_root(const struct cmdbus_jsonv *doc);

/* Every accessor accepts NULL and then answers "missing". */
enum cmdbus_jtype cmdbus_jnode_type(const struct cmdbus_jnode *n);
/* The member named key of an object, or NULL. */
const struct cmdbus_jnode *cmdbus_jnode_get(const struct cmdbus_jnode *n,
					    const char *key);
/* Element count of an array or member count of an object; 0 otherwise. */
size_t cmdbus_jnode_len(const struct cmdbus_jnode *n);
/* The i-th element of an array (or member of an object), or NULL. */
const struct cmdbus_jnode *cmdbus_jnode_at(const struct cmdbus_jnode *n,
					   size_t i);
/* The name of an object member reached with cmdbus_jnode_at, or NULL. */
const char *cmdbus_jnode_key(const struct cmdbus_jnode *n);
/* The bytes of a string (NUL-terminated; *len, when not NULL, is the byte
 * length, which may be shorter than strlen if it holds NUL), or NULL. */
const char *cmdbus_jnode_str(const struct cmdbus_jnode *n, size_t *len);
/* An integer literal (optional minus, digits only) within int64_t.
 * 0 or -ERR_MALFORMED. */
int cmdbus_jnode_int(const struct cmdbus_jnode *n, int64_t *out);
/* Any finite number. 0 or -ERR_MALFORMED. */
int cmdbus_jnode_number(const struct cmdbus_jnode *n, double *out);
/* true or false. 0 or -ERR_MALFORMED. */
int cmdbus_jnode_bool(const struct cmdbus_jnode *n, bool *out);

/* A compact JSON writer: containers nest up to 32 deep; inside an object
 * every value takes a key, inside an array (or at the top) key is NULL.
 * Misuse and allocation failures stick and are returned by _finish. */
struct cmdbus_jsonw;
struct cmdbus_jsonw *cmdbus_jsonw_new(void);	/* NULL on ENOMEM */
void cmdbus_jsonw_free(struct cmdbus_jsonw *w); /* NULL: no-op */
void cmdbus_jsonw_obj_begin(struct cmdbus_jsonw *w, const char *key);
void cmdbus_jsonw_obj_end(struct cmdbus_jsonw *w);
void cmdbus_jsonw_arr_begin(struct cmdbus_jsonw *w, const char *key);
void cmdbus_jsonw_arr_end(struct cmdbus_jsonw *w);
/* A string value; invalid UTF-8 is an error (-EINVAL at _finish). */
void cmdbus_jsonw_str(struct cmdbus_jsonw *w, const char *key, const char *v);
void cmdbus_jsonw_u64(struct cmdbus_jsonw *w, const char *key, uint64_t v);
void cmdbus_jsonw_bool(struct cmdbus_jsonw *w, const char *key, bool v);
/* The text (caller frees) once every container is closed. 0, -EINVAL
 * (misuse, open containers, bad UTF-8), -ENOMEM. w stays to be freed. */
int cmdbus_jsonw_finish(struct cmdbus_jsonw *w, char **out, size_t *outlen);

#endif
