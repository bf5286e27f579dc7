/* SPDX-License-Identifier: MIT */
/* The output of an execution as the REST API shows it: the stored
 * result's streams, or before there is one the live chunks stored so far;
 * and the events of a follow, made a batch at a time as chunks are
 * committed. */
#ifndef DISPATCHER_OUTPUT_H
#define DISPATCHER_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"

/* GET /v1/executions/{id}/output: 0 with *out malloc'd (the caller's),
 * -ERR_NOT_FOUND for an unknown or invalid id, or a store failure. */
int output_view(struct core *c, const char *id, char **out, size_t *outlen);

/* Where one follower is: the next seq it waits for, per stream. */
struct output_cursor {
	uint64_t next[2]; /* [0] stdout, [1] stderr */
	bool sent_any;	  /* an output event went out */
};

/* The events of a follow that are due now, appended as Server-Sent
 * Events text to *out (malloc'd, "" when none): the chunks after the
 * cursor that follow it without a gap; when the execution is terminal
 * also every chunk left, the result's streams if no chunk was ever sent,
 * and the end event, and *end becomes true. 0, -ERR_NOT_FOUND, a store
 * failure, -ENOMEM. */
int output_follow(struct core *c, const char *id, struct output_cursor *cur,
		  bool *end, char **out, size_t *outlen);

#endif
