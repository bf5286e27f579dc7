/* SPDX-License-Identifier: MIT */
/* A growable byte buffer with a hard cap, always NUL-terminated so that
 * text can be read from it directly. */
#ifndef CMDBUS_COMMON_BUF_H
#define CMDBUS_COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes held, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* hard cap on len */
};

/* Caller-allocated; `max` is the most bytes it may ever hold. */
void buf_init(struct buf *b, size_t max);
/* Frees the storage; the buffer may be initialised again. */
void buf_fini(struct buf *b);
/* Empties the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/* Appends all of p[0..n) or nothing: -ENOBUFS past the cap, -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands the storage to the caller (free() it) and empties the buffer. The
 * result is NUL-terminated, never NULL (an empty string when nothing was
 * appended), or NULL on allocation failure. `len` may be NULL. */
char *buf_steal(struct buf *b, size_t *len);

#endif
