/* SPDX-License-Identifier: MIT */
/* The REST lists: pages of jobs, of one device's executions and of
 * devices, newest first (devices by id), with filters and an opaque
 * cursor. Every function returns 0 with *out malloc'd (the caller frees
 * it), or a negative code: -ERR_NOT_FOUND for an unknown device,
 * -ERR_UNAVAILABLE and the like when the store failed. */
#ifndef DISPATCHER_QUERY_H
#define DISPATCHER_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core.h"

#define QUERY_DEFAULT_LIMIT 50u
#define QUERY_MAX_LIMIT 500u
#define QUERY_MAX_LABELS 16u

/* {"jobs":[job summaries],"next_cursor":...}; with q->device, only the
 * jobs with an execution on that device. */
int query_jobs(struct core *c, const struct list_query *q, char **out,
	       size_t *outlen);
/* {"executions":[...],"next_cursor":...} of device q->device. */
int query_device_executions(struct core *c, const struct list_query *q,
			    char **out, size_t *outlen);

/* The filters of the device list. */
struct device_query {
	const struct cmdbus_label *labels; /* every one must match */
	size_t nlabels;
	int online;	    /* -1: any, 0: offline only, 1: online only */
	const char *cursor; /* the last id of the previous page, or NULL */
	size_t limit;
};

/* {"devices":[...],"next_cursor":...}, by id. */
int query_devices(struct core *c, const struct device_query *q, char **out,
		  size_t *outlen);

#endif
