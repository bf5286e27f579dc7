/* SPDX-License-Identifier: MIT */
/* The read use cases of the REST API: jobs, executions, devices and
 * health, loaded through the store port and encoded as JSON. Every
 * function returns 0 with *out malloc'd (the caller frees it), or
 * -ERR_NOT_FOUND for an unknown or invalid id, or another negative code
 * when the store failed. */
#ifndef DISPATCHER_VIEWS_H
#define DISPATCHER_VIEWS_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

int views_job(struct core *c, const char *id, char **out, size_t *outlen);
int views_execution(struct core *c, const char *id, char **out, size_t *outlen);
/* views_execution() that also gives the state the view was made from:
 * a GET that may wait decides on the same read that would answer it, so
 * that the common case, a finished execution, costs one read. */
int views_execution_read(struct core *c, const char *id,
			 enum cmdbus_state *state, char **out, size_t *outlen);
int views_device(struct core *c, const char *id, char **out, size_t *outlen);
/* {"status":"ok"|"unavailable","database":bool,"broker":bool}; *healthy
 * tells whether both are up. */
/* One record encoded as its view (for lists and for callers that
 * already hold the record). */
int views_execution_encode(const struct exec_rec *e, char **out,
			   size_t *outlen);
int views_device_encode(const struct core *c, const struct device_rec *d,
			char **out, size_t *outlen);
/* Whether a job is finished, or an execution terminal (for requests
 * that wait); *exec_state gets the execution's state. 0, -ERR_NOT_FOUND
 * or a store failure. */
int views_job_done(struct core *c, const char *id, bool *done);
int views_execution_state(struct core *c, const char *id,
			  enum cmdbus_state *state);
int views_health(struct core *c, bool *healthy, char **out, size_t *outlen);

#endif
