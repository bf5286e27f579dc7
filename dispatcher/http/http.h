/* SPDX-License-Identifier: MIT */
/* The dispatcher's REST API over libmicrohttpd, run by the common event
 * loop (no thread of its own): routing, bearer-token authentication,
 * request bodies with a size cap, and JSON error bodies. */
#ifndef DISPATCHER_HTTP_H
#define DISPATCHER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/loop.h"
#include "core.h"

/* What a token may do; each role includes the ones below it. */
enum http_role {
	HTTP_ROLE_NONE = 0, /* /healthz only */
	HTTP_ROLE_READ,	    /* every GET */
	HTTP_ROLE_OPERATE,  /* also jobs, cancels and action calls */
	HTTP_ROLE_ADMIN,    /* also the admin routes (/v1/tokens) */
};

#define HTTP_TOKEN_NAME_MAX 64
#define HTTP_TOKENS_MAX 1024

/* One accepted token: its name (for logs and the audit), its role and
 * the lower-case hex SHA-256 of the token itself. */
struct http_token {
	char name[HTTP_TOKEN_NAME_MAX + 1];
	enum http_role role;
	char sha256[64 + 1];
};

/* A token table (the api_tokens_file); zero-initialised is empty. */
struct http_tokens {
	struct http_token *v;
	size_t n;
};

/* Adds one token. name: 1..64 of [A-Za-z0-9_.-], unique; sha256: 64 hex
 * digits (either case), unique. 0, or -ERR_CONFIG with a sentence in
 * err, or -ENOMEM. */
int http_tokens_add(struct http_tokens *t, const char *name,
		    enum http_role role, const char *sha256, char *err,
		    size_t errlen);
/* Adds the tokens of a token file's text: one "NAME ROLE SHA256HEX" a
 * line, blank lines and lines starting with '#' skipped. Strict: any
 * other line is -ERR_CONFIG with "path:line: reason" in err (what was
 * added before it stays; the caller drops the table). */
int http_tokens_parse(struct http_tokens *t, const char *text, size_t len,
		      const char *path, char *err, size_t errlen);
void http_tokens_fini(struct http_tokens *t);
/* "read", "operate", "admin" (or "none"): static. */
const char *http_role_name(enum http_role r);
/* 0 with *out, or -ERR_CONFIG for another word. */
int http_role_parse(const char *s, enum http_role *out);

struct http_config {
	const char *bind;  /* listen address (IPv4 or IPv6 literal, or name) */
	unsigned port;	   /* 0: any free port (tests) */
	const char *token; /* bearer token, or NULL (kept only hashed) */
	/* More accepted tokens as lower-case hex SHA-256 digests. The token
	 * and these have the admin role. With no token at all (none here
	 * nor in the table) there is no authentication. */
	const char *const *token_sha256;
	size_t ntoken_sha256;
	const struct http_tokens *tokens; /* named tokens, or NULL; copied */
	/* TLS: both PEM texts, or neither (plain HTTP). Copied. */
	const char *tls_cert_pem, *tls_key_pem;
	const char *audit_log; /* JSON-lines audit file, or NULL: none */
	uint64_t max_wait_ms;  /* cap of ?wait and action calls; 0: 60 s */
	size_t max_waiters;    /* suspended requests at most; 0: 128 */
	/* Optional: a read snapshot of the store for the read-only requests
	 * of one pass (store_snapshot_begin/end), so that they share one
	 * read transaction. Begun at the first such request of a pass and
	 * ended before any other request and when the pass is over. */
	int (*snapshot_begin)(void *ud);
	void (*snapshot_end)(void *ud);
	void *snapshot_ud;
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
/* Replaces the accepted tokens (SIGHUP), as in http_config; table may
 * be NULL. 0, or -EINVAL for a digest that is not 64 hex digits or a
 * token twice (nothing changes), or -ENOMEM. */
int http_set_tokens(struct http *h, const char *token,
		    const char *const *token_sha256, size_t n,
		    const struct http_tokens *table);
/* Whether this libmicrohttpd serves HTTPS. */
bool http_tls_supported(void);
/* The port actually bound. */
unsigned http_port(const struct http *h);

#endif
