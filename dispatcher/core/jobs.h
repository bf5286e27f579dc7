/* SPDX-License-Identifier: MIT */
/* Creating jobs: validate the request, resolve its target to devices,
 * store the job and its executions in one durable transaction, then
 * publish the commands. */
#ifndef DISPATCHER_JOBS_H
#define DISPATCHER_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdbus/proto.h"
#include "core.h"

/* Creates a job from a POST /v1/jobs body. On success the job is
 * committed and *view (malloc'd, the caller frees it) is its JSON view
 * with the executions. Errors: -ERR_MALFORMED or -ERR_TOO_LARGE with
 * diag naming the field (400/413); -ENOSPC, -ERR_UNAVAILABLE or another
 * negative code when the store failed (nothing was created then). */
int jobs_create(struct core *c, const char *body, size_t len, char **view,
		size_t *viewlen, struct cmdbus_diag *diag);
/* The same; *existed tells that an idempotency key gave back an earlier
 * job instead of a new one. */
int jobs_create_idem(struct core *c, const char *body, size_t len, char **view,
		     size_t *viewlen, bool *existed, struct cmdbus_diag *diag);

/* Creates a job from a decoded request; *job_id gets its id. With an
 * idempotency key already used for the same request, nothing is created:
 * *existed is true and *job_id is the earlier job; with another request
 * it is -ERR_CONFLICT naming idempotency_key. Other errors as above. */
int jobs_submit(struct core *c, const struct cmdbus_job_request *req,
		char job_id[CMDBUS_ID_BUF], bool *existed,
		struct cmdbus_diag *diag);

/* Like jobs_submit, but the new job joins the loop pass's group commit
 * (when the store has one and the job has at most 64 executions; a
 * larger one commits on its own) and its commands go out after that
 * commit:
 * window_job_pending(c, *job_id) is then true until the commit, and the
 * creator is told of its end through the core's observer (window.h).
 * Nothing may be answered for the job before. */
int jobs_submit_grouped(struct core *c, const struct cmdbus_job_request *req,
			char job_id[CMDBUS_ID_BUF], bool *existed,
			struct cmdbus_diag *diag);

#endif
