/* SPDX-License-Identifier: MIT */
/* A minimal JSON text writer for the few documents the dispatcher builds
 * itself (device views, health, label filters) from values it has
 * already validated. The first error sticks and is read at the end, so
 * callers write a whole document without checking every call. */
#ifndef DISPATCHER_JSONW_H
#define DISPATCHER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct jsonw {
	struct buf *b; /* borrowed */
	int err;       /* first error: -ENOMEM or -ENOBUFS */
};

void jsonw_init(struct jsonw *w, struct buf *b);
/* Raw text, e.g. punctuation or a stored JSON document. */
void jsonw_raw(struct jsonw *w, const char *s);
/* A JSON string of the NUL-terminated UTF-8 text s, escaped. */
void jsonw_str(struct jsonw *w, const char *s);
/* `"key":` */
void jsonw_key(struct jsonw *w, const char *key);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_bool(struct jsonw *w, bool v);
/* The shortest decimal form that reads back as v; non-finite as null. */
void jsonw_double(struct jsonw *w, double v);

#endif
