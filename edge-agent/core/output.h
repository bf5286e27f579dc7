/* SPDX-License-Identifier: MIT */
/* What the agent keeps of one output stream: at most `max` bytes, the
 * first half and the last half, with the total count of bytes seen. A
 * command is never stopped for writing more; the middle is dropped. */
#ifndef CMDBUS_AGENT_OUTPUT_H
#define CMDBUS_AGENT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/msg.h"

struct output {
	size_t max;	 /* bytes kept at most */
	char *head;	 /* the first head_cap bytes seen */
	size_t head_cap; /* max / 2 */
	size_t head_len;
	char *tail;	 /* ring of the last tail_cap bytes */
	size_t tail_cap; /* max - head_cap */
	size_t tail_len; /* bytes held in the ring */
	size_t tail_pos; /* where the next byte goes in the ring */
	uint64_t total;	 /* every byte ever appended */
};

/* Caller-allocated; max >= 1. Nothing is allocated until bytes arrive. */
void output_init(struct output *o, size_t max);
void output_fini(struct output *o);
/* Takes n bytes. 0 or -ENOMEM (the count still grows: what was seen is
 * reported even if it could not be kept). */
int output_append(struct output *o, const void *p, size_t n);
/* Whether bytes were dropped from the middle. */
bool output_truncated(const struct output *o);
/* Copies the kept bytes, in order, into s->kept (malloc'd, NUL-terminated,
 * the caller's: free with free()) and sets s->truncated and s->bytes.
 * 0 or -ENOMEM. */
int output_take(const struct output *o, struct cmdbus_stream *s);

/* Shrinks a stream in place to at most `keep` bytes: its first keep/2 and
 * last keep - keep/2 bytes; marks it truncated when bytes go. */
void output_stream_shrink(struct cmdbus_stream *s, size_t keep);

#endif
