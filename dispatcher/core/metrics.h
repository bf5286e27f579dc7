/* SPDX-License-Identifier: MIT */
/* Metrics of the dispatcher: counters kept by the core, gauges read from
 * the store when scraped, a histogram of database commit latency and REST
 * requests by route and status, rendered in the Prometheus text
 * exposition format (version 0.0.4). */
#ifndef DISPATCHER_METRICS_H
#define DISPATCHER_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct core;

/* Upper bounds (seconds) of the commit latency histogram's buckets;
 * +Inf is implied. */
#define METRICS_COMMIT_BUCKETS 12

/* Counts one REST request: `route` is the route's pattern (for example
 * "/v1/jobs/{id}", never the raw path, so that the number of series stays
 * bounded), `status` the HTTP status sent. Never fails: when memory runs
 * out the request is not counted. */
void metrics_http_request(struct core *c, const char *route, unsigned status);

/* Records how long one durable database commit took, in microseconds. */
void metrics_commit_latency(struct core *c, uint64_t us);

/* Renders every metric as Prometheus text. 0 with *out malloc'd (the
 * caller frees it) and *len its length, or a negative code (-ENOMEM).
 * Gauges that come from the store are left out when it cannot be read,
 * and cmdbus_store_up says so. */
int metrics_render(struct core *c, char **out, size_t *len);

/* Releases what the metrics hold in the core (called by core_fini). */
void metrics_fini(struct core *c);

#endif
