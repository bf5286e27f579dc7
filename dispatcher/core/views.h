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
/* {"devices":[...]} ordered by id. */
int views_devices(struct core *c, char **out, size_t *outlen);
int views_device(struct core *c, const char *id, char **out, size_t *outlen);
/* {"status":"ok"|"unavailable","database":bool,"broker":bool}; *healthy
 * tells whether both are up. */
int views_health(struct core *c, bool *healthy, char **out, size_t *outlen);

#endif
