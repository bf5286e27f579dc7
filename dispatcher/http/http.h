/* SPDX-License-Identifier: MIT */
/* The dispatcher's REST API over libmicrohttpd, run by the common event
 * loop (no thread of its own): routing, bearer-token authentication,
 * request bodies with a size cap, and JSON error bodies. */
#ifndef DISPATCHER_HTTP_H
#define DISPATCHER_HTTP_H

#include <stddef.h>

#include "common/loop.h"
#include "core.h"

struct http_config {
	const char *bind;  /* listen address (IPv4 or IPv6 literal, or name) */
	unsigned port;	   /* 0: any free port (tests) */
	const char *token; /* bearer token, or NULL: no authentication */
};

struct http;

/* Binds and starts serving on the loop. The token is copied; the core
 * and loop are borrowed. 0, or a negative code with a sentence in err. */
int http_new(struct loop *l, const struct http_config *cfg, struct core *core,
	     struct http **out, char *err, size_t errlen);
/* Closes every connection and the listening socket. Call after the loop
 * has stopped running for good. NULL is a no-op. */
void http_free(struct http *h);
/* The port actually bound. */
unsigned http_port(const struct http *h);

#endif
