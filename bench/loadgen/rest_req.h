/* SPDX-License-Identifier: MIT */
/* The REST bodies the load generator sends and the little it reads from
 * the answers, through the schema library's JSON writer and reader. */
#ifndef LG_REST_REQ_H
#define LG_REST_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "cmdbus/proto.h"
#include "lg.h"

/* POST /v1/jobs for one device. Caller frees *out. 0 or negative. */
int req_job_body(const struct lg_rest_opts *o, const char *device, char **out);
/* The body of an action call. Same returns. */
int req_call_body(const struct lg_rest_opts *o, char **out);

enum req_job_state { REQ_JOB_RUNNING, REQ_JOB_OK, REQ_JOB_FAILED };

/* Reads a job view: its id (into id) and whether it is still running,
 * finished with every execution SUCCEEDED, or finished otherwise. 0, or
 * -1 when the text is not a job view. */
int req_job_read(const char *text, size_t len, char id[CMDBUS_ID_BUF],
		 enum req_job_state *st);

/* Whether an execution view says SUCCEEDED. */
bool req_exec_ok(const char *text, size_t len);

#endif
