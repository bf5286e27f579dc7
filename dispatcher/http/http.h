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
	const char *token; /* bearer token, or NULL (kept only hashed) */
	/* More accepted tokens as lower-case hex SHA-256 digests. With no
	 * token at all there is no authentication. */
	const char *const *token_sha256;
	size_t ntoken_sha256;
	uint64_t max_wait_ms; /* cap of ?wait and action calls; 0: 60 s */
	size_t max_waiters;   /* suspended requests at most; 0: 128 */
};

#define HTTP_DEFAULT_MAX_WAIT_MS 60000u
#define HTTP_DEFAULT_MAX_WAITERS 128u

struct http;

/* Binds and starts serving on the loop, and becomes the core's observer
 * of state changes (to wake waiting requests). Tokens are copied as
 * digests; the core and loop are borrowed. 0, or a negative code with a
 * sentence in err. */
int http_new(struct loop *l, const struct http_config *cfg, struct core *core,
	     struct http **out, char *err, size_t errlen);
/* Closes every connection and the listening socket. Call after the loop
 * has stopped running for good. NULL is a no-op. */
void http_free(struct http *h);
/* Replaces the accepted tokens (SIGHUP), as in http_config. 0, or
 * -EINVAL for a digest that is not 64 hex digits (nothing changes), or
 * -ENOMEM. */
int http_set_tokens(struct http *h, const char *token,
		    const char *const *token_sha256, size_t n);
/* The port actually bound. */
unsigned http_port(const struct http *h);

#endif
