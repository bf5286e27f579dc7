/* SPDX-License-Identifier: MIT */
/* Field readers shared by the message, envelope, REST and action decoders:
 * each reads one member of an object, checks its JSON type and range and,
 * on refusal, fills the diag with the field's JSON path and a sentence. */
#ifndef CMDBUS_SCHEMA_DECODE_H
#define CMDBUS_SCHEMA_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/msg.h"
#include "cmdbus/proto.h"
#include "json.h"

struct dec {
	struct cmdbus_diag *diag;
	const char *code; /* the diag code of refusals: malformed, bad_args */
};

/* Starts a decode: clears the diag (a local one when diag is NULL). */
void schema_dec_init(struct dec *d, struct cmdbus_diag *diag,
		     struct cmdbus_diag *spare, const char *code);

/* Fills the diag and returns -ERR_MALFORMED. */
int schema_dec_fail(struct dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Parses text strictly into a tree, refusing oversized input first.
 * Fills the diag on failure (field ""). */
int schema_dec_parse(struct dec *d, const char *s, size_t len, size_t max,
		     cJSON **root);

/* Decodes one document from a parsed tree into out; fills the diag on a
 * refusal. */
typedef int schema_dec_tree_fn(struct dec *d, const cJSON *root, void *out);

/* The whole of a decode after schema_dec_init: parses s strictly (sizes
 * over max refused first), runs `tree` on it and frees the tree. On
 * -ENOMEM the diag says so. */
int schema_dec_document(struct dec *d, const char *s, size_t len, size_t max,
			schema_dec_tree_fn *tree, void *out);

/* Builds "prefix.key" or "prefix[i]" into out[96]. */
void schema_dec_path(char *out, size_t outlen, const char *prefix,
		     const char *key);
void schema_dec_path_idx(char *out, size_t outlen, const char *prefix,
			 size_t i);

/* A string member without NUL that passes `valid` (NULL: any), copied into
 * buf[bufsz]. `present` may be NULL; a missing required member fails. */
int schema_dec_name(struct dec *d, const cJSON *obj, const char *key,
		    const char *path, bool required,
		    bool (*valid)(const char *), char *buf, size_t bufsz,
		    bool *present);
/* An integer member within [min, max]. */
int schema_dec_u64(struct dec *d, const cJSON *obj, const char *key,
		   const char *path, bool required, uint64_t min, uint64_t max,
		   uint64_t *out, bool *present);
int schema_dec_bool(struct dec *d, const cJSON *obj, const char *key,
		    const char *path, bool required, bool *out, bool *present);
/* A string member copied to a malloc'd buffer; NUL allowed only with
 * allow_nul. *out stays NULL when absent. */
int schema_dec_text(struct dec *d, const cJSON *obj, const char *key,
		    const char *path, bool required, bool allow_nul, char **out,
		    size_t *len);
/* Copies a string node's bytes to a malloc'd NUL-terminated buffer. */
char *schema_dec_strdup(const char *s, size_t len);

/* A member that is an object (or absent when not required). */
int schema_dec_object(struct dec *d, const cJSON *obj, const char *key,
		      const char *path, bool required, const cJSON **out);

/* The members of an object or the elements of an array. */
size_t schema_dec_count(const cJSON *n);

/* What a string map (an object whose members are all strings) accepts. */
struct dec_map_rule {
	bool (*valid_key)(const char *k);
	const char *bad_key; /* the refusal of a key, a sentence */
	/* NULL: any string without NUL. */
	bool (*valid_value)(const char *v);
	/* The refusal of a value; NULL: "'PATH.KEY' must be a string
	 * without NUL". */
	const char *bad_value;
};
/* Labels: keys and values of 1..64 bytes of [A-Za-z0-9_.-]. */
extern const struct dec_map_rule schema_dec_label_rule;

/* Reads the object at `path` ("" for the root) as key/value pairs in
 * document order: *out malloc'd (NULL when empty), released with
 * cmdbus_labels_free(). A refused key names the object, a refused value
 * names its member. On failure *out is NULL and nothing is left to
 * free. */
int schema_dec_string_map(struct dec *d, const cJSON *obj, const char *path,
			  const struct dec_map_rule *rule,
			  struct cmdbus_label **out, size_t *n);

/* n NUL-terminated names, the first at `names` and each `stride` bytes
 * after the one before (an array of char[N], or a name member of an
 * array of structs). *dup becomes the index of the first name that
 * repeats an earlier one, or n. 0 or -ENOMEM. Sorting keeps a list of
 * thousands from costing a quadratic number of comparisons. */
int schema_dec_first_duplicate(const char *names, size_t n, size_t stride,
			       size_t *dup);

#endif
