/* SPDX-License-Identifier: MIT */
/* The REST client: one blocking HTTP request to the dispatcher over
 * libcurl, which only http.c sees. */
#ifndef CMDBUS_CLI_HTTP_H
#define CMDBUS_CLI_HTTP_H

#include <stddef.h>

struct http_reply {
	long status;
	char *body; /* NUL-terminated, owned; free with http_reply_fini */
	size_t len;
	int streamed; /* the body went to a chunk callback */
};

/* Global setup and teardown of the HTTP library, once per program. */
int http_global_init(void);
void http_global_fini(void);

/* method "GET" or "POST"; path starts with "/"; body NULL for none (sent
 * as application/json otherwise); token NULL or "" for none. timeout_s 0:
 * no limit. 0 with *r filled (any status); -ECONNREFUSED, -EHOSTUNREACH,
 * -ETIMEDOUT or -EIO with a one-line reason in err when no answer came. */
int http_request(const char *base, const char *token, const char *method,
		 const char *path, const char *body, long timeout_s,
		 struct http_reply *r, char *err, size_t errlen);
void http_reply_fini(struct http_reply *r);

/* Called with each piece of a streamed answer as it arrives; a negative
 * return ends the transfer. */
typedef int http_chunk_fn(const char *p, size_t n, void *arg);

/* A GET whose 2xx answer of type text/event-stream is handed to on_chunk
 * as it arrives (r->streamed is then set and r->body stays empty); any
 * other answer is kept in *r as by http_request. No overall time limit.
 * Same returns as http_request. */
int http_stream(const char *base, const char *token, const char *path,
		http_chunk_fn *on_chunk, void *arg, struct http_reply *r,
		char *err, size_t errlen);

#endif
