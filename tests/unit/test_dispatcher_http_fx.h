/* SPDX-License-Identifier: MIT */
/* The fixture of the REST adapter's tests: libmicrohttpd on a loopback
 * port on the common loop, the core with the real SQLite store (in
 * memory) and a fake bus, and a client thread that sends one raw
 * HTTP/1.1 request while the test thread runs the loop. */
#ifndef TEST_DISPATCHER_HTTP_FX_H
#define TEST_DISPATCHER_HTTP_FX_H

#include <stddef.h>

#include "common/loop.h"
#include "core.h"
#include "http.h"
#include "store.h"
#include "test_dispatcher_fakes.h"

#define TOKEN "t0ken-for-tests"
#define AUTH "Authorization: Bearer " TOKEN "\r\n"

struct fx {
	struct loop *loop;
	struct store *store;
	struct fake_bus bus;
	struct core core;
	struct http *http;
	int pipe[2]; /* the client thread says it is done */
};

struct call {
	unsigned port;
	const char *req;
	int done_fd;
	char resp[65536];
	size_t len;
};

/* Sends one raw request and returns the status; *body points into the
 * call's buffer. */
unsigned fx_call(struct fx *f, struct call *c, const char *req,
		 const char **body);
/* POSTs a body to /v1/jobs with the token and the given Content-Type. */
unsigned fx_post(struct fx *f, struct call *c, const char *ctype,
		 const char *json, const char **body);
/* GETs a path with the token. */
unsigned fx_get(struct fx *f, struct call *c, const char *path,
		const char **body);
/* cmocka setup and teardown: a server whose only token is TOKEN. */
int fx_setup(void **state);
int fx_teardown(void **state);

#endif
