/* SPDX-License-Identifier: MIT */
/* Canceling executions and jobs (POST .../cancel). An execution never
 * published becomes CANCELED at once; one that went out gets a `cancel`
 * message and stays in its state until its agent answers. Canceling a
 * finished execution changes nothing and is not an error. */
#ifndef DISPATCHER_CANCEL_H
#define DISPATCHER_CANCEL_H

#include <stddef.h>

#include "core.h"

/* Cancels one execution. 0 with *out its view after the cancel
 * (malloc'd, the caller frees it); -ERR_NOT_FOUND; -ERR_UNAVAILABLE when
 * a cancel had to be sent and the broker is not connected; another
 * negative code when the store failed. */
int cancel_execution(struct core *c, const char *id, char **out,
		     size_t *outlen);

/* Cancels one loaded execution, e->state updated: one never published
 * becomes CANCELED with this error code and message (joining the group
 * commit when one is open), one that went out is sent a `cancel`. A
 * terminal one is left alone. 0 or a negative code. */
int cancel_exec(struct core *c, struct exec_rec *e, uint64_t now,
		const char *code, const char *message);
/* Cancels every unfinished execution of a job and marks the job, which
 * ends CANCELED once all its executions are terminal. 0 with *out the
 * job's view; -ERR_CONFLICT when the job is already finished (nothing is
 * changed); the same errors otherwise. */
int cancel_job(struct core *c, const char *id, char **out, size_t *outlen);

#endif
