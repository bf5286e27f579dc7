/* SPDX-License-Identifier: MIT */
/* REST over libmicrohttpd in external-epoll mode: the daemon's epoll
 * descriptor is watched on the common loop and MHD_run() is called when it
 * is readable or when MHD's own timeout comes due. Each request is
 * authenticated, routed by a table and given its body (capped) here, then
 * answered by http_handlers.c; a request that waits for a state change is
 * suspended (http_wait.c), never blocking the loop. */
#include "http_priv.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/parse.h"
#include "cmdbus/msg.h"
#include "cmdbus/rest.h"
#include "metrics.h"

#define CONN_MEMORY_LIMIT (64u * 1024u) /* per connection: headers, I/O */
#define CONN_LIMIT 256u
#define CONN_PER_IP_LIMIT 64u
#define CONN_TIMEOUT_S 30u

#define RD HTTP_ROLE_READ
#define OP HTTP_ROLE_OPERATE
/* The last field: the handler only reads the store (see reads_only). */
static const struct route routes[] = {
    {"GET", "/healthz", "/healthz", false, R_HEALTH, HTTP_ROLE_NONE, false},
    {"GET", "/metrics", "/metrics", false, R_METRICS, RD, false},
    {"POST", "/v1/jobs", "/v1/jobs", true, R_JOBS_CREATE, OP, false},
    {"GET", "/v1/jobs", "/v1/jobs", false, R_JOBS_LIST, RD, true},
    {"GET", "/v1/jobs/*", "/v1/jobs/{id}", false, R_JOB, RD, true},
    {"POST", "/v1/jobs/*/cancel", "/v1/jobs/{id}/cancel", false, R_JOB_CANCEL,
     OP, false},
    {"GET", "/v1/executions/*", "/v1/executions/{id}", false, R_EXEC, RD, true},
    {"POST", "/v1/executions/*/cancel", "/v1/executions/{id}/cancel", false,
     R_EXEC_CANCEL, OP, false},
    {"GET", "/v1/executions/*/output", "/v1/executions/{id}/output", false,
     R_EXEC_OUTPUT, RD, true},
    {"GET", "/v1/devices", "/v1/devices", false, R_DEVICES, RD, true},
    {"GET", "/v1/devices/*", "/v1/devices/{id}", false, R_DEVICE, RD, true},
    {"GET", "/v1/devices/*/executions", "/v1/devices/{id}/executions", false,
     R_DEVICE_EXECS, RD, true},
    {"POST", "/v1/devices/*/actions/*", "/v1/devices/{id}/actions/{action}",
     true, R_DEVICE_ACTION, OP, false},
    {"GET", "/v1/tokens", "/v1/tokens", false, R_TOKENS, HTTP_ROLE_ADMIN,
     false},
};
#undef RD
#undef OP
#define NROUTES (sizeof routes / sizeof routes[0])

/* ---- responses ---- */

/* Queues a response whose body (malloc'd) it takes over. */
enum MHD_Result
http_reply(struct http *h, struct request *rq, unsigned status, char *body,
	   size_t len, const char *content_type, const char *location)
{
	static char fallback[] =
	    "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
	    "memory\"}}";
	struct MHD_Response *resp;

	if (body)
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(
		    sizeof fallback - 1, fallback, MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				content_type ? content_type
					     : "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	if (rq->allow[0] && status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
	if (location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
					location);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	if (status == MHD_HTTP_TOO_MANY_REQUESTS)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	enum MHD_Result r = MHD_queue_response(rq->conn, status, resp);
	MHD_destroy_response(resp);
	rq->responded = true;
	/* By pattern, never by raw path, so that the series stay few. */
	metrics_http_request(h->core, rq->route ? rq->route->name : "unmatched",
			     status);
	return r;
}

enum MHD_Result
http_reply_error(struct http *h, struct request *rq, unsigned status,
		 const char *code, const char *message, const char *field)
{
	char *body = NULL;
	size_t len = 0;

	if (cmdbus_error_body_encode(code, message, field, &body, &len) < 0)
		body = NULL;
	return http_reply(h, rq, status, body, len, NULL, NULL);
}

enum MHD_Result
http_reply_rc(struct http *h, struct request *rq, int rc,
	      const struct cmdbus_diag *diag)
{
	switch (rc) {
	case -ERR_NOT_FOUND:
		return http_reply_error(h, rq, MHD_HTTP_NOT_FOUND, "not_found",
					"no such resource", NULL);
	case -ERR_MALFORMED:
		return http_reply_error(
		    h, rq, MHD_HTTP_BAD_REQUEST, "malformed",
		    diag && diag->message[0] ? diag->message
					     : "malformed request",
		    diag ? diag->field : NULL);
	case -ERR_CONFLICT:
		return http_reply_error(h, rq, MHD_HTTP_CONFLICT, "conflict",
					diag && diag->message[0] ? diag->message
								 : "conflict",
					diag ? diag->field : NULL);
	case -ERR_TOO_LARGE:
		return http_reply_error(h, rq, MHD_HTTP_CONTENT_TOO_LARGE,
					"too_large", "request body too large",
					NULL);
	case -ENOSPC:
		return http_reply_error(h, rq, MHD_HTTP_INSUFFICIENT_STORAGE,
					"unavailable", "storage full", NULL);
	case -ERR_UNAVAILABLE:
		return http_reply_error(h, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
					"unavailable",
					"database or broker unavailable", NULL);
	default:
		log_error("http.internal", "rc=%s", err_str(rc));
		return http_reply_error(h, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
					"internal", "internal error", NULL);
	}
}

/* ---- checks ---- */

/* "application/json", with or without parameters such as charset. */
static bool
is_json(struct MHD_Connection *conn)
{
	static const char want[] = "application/json";
	const char *ct = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, sizeof want - 1) != 0)
		return false;
	ct += sizeof want - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/* ---- routing ---- */

/* Matches a path against a pattern; the "*" segments are copied to
 * params[0] and params[1] (left "" when too long to be a name). */
static bool
path_match(const char *pattern, const char *path,
	   char params[2][CMDBUS_NAME_BUF])
{
	unsigned k = 0;

	params[0][0] = params[1][0] = '\0';
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");
			if (n == 0 || k >= 2)
				return false;
			if (n < CMDBUS_NAME_BUF) {
				memcpy(params[k], path, n);
				params[k][n] = '\0';
			}
			k++;
			path += n;
			pattern++;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	return *pattern == '\0' && *path == '\0';
}

/* Finds the route; on a path known under other methods only, *allow gets
 * the Allow header's value. */
const struct route *
http_route_find(const char *method, const char *path, struct request *rq,
		bool *path_known)
{
	const struct route *found = NULL;
	bool head = strcmp(method, "HEAD") == 0;

	*path_known = false;
	rq->allow[0] = '\0';
	for (size_t i = 0; i < NROUTES && !found; i++) {
		char p[2][CMDBUS_NAME_BUF];
		if (!path_match(routes[i].path, path, p))
			continue;
		*path_known = true;
		if (strcmp(routes[i].method, method) == 0 ||
		    (head && strcmp(routes[i].method, "GET") == 0)) {
			found = &routes[i];
			memcpy(rq->param, p[0], sizeof rq->param);
			memcpy(rq->param2, p[1], sizeof rq->param2);
		}
	}
	if (found || !*path_known)
		return found;
	/* Only a 405 needs the methods the path has. */
	for (size_t i = 0; i < NROUTES; i++) {
		char p[2][CMDBUS_NAME_BUF];
		if (!path_match(routes[i].path, path, p))
			continue;
		size_t used = strlen(rq->allow);
		snprintf(rq->allow + used, sizeof rq->allow - used, "%s%s%s",
			 used ? ", " : "", routes[i].method,
			 strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
	}
	return found;
}

static void
refuse(struct request *rq, unsigned status, const char *code,
       const char *message)
{
	rq->refuse_status = status;
	rq->refuse_code = code;
	rq->refuse_message = message;
}

static enum MHD_Result
reply_refusal(struct http *h, struct request *rq)
{
	return http_reply_error(h, rq, rq->refuse_status, rq->refuse_code,
				rq->refuse_message, NULL);
}

/* Whether a body follows the headers. */
static bool
has_body(struct MHD_Connection *conn)
{
	uint64_t n = 0;
	const char *cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && (parse_u64(cl, 0, UINT64_MAX, &n) < 0 || n > 0);
}

/* Whether a raw request target is a normalised path, judged before MHD
 * decodes it: only the bytes names are made of, no empty, "." or ".."
 * segment, no percent-encoding (no name needs it, and "%2F" must not
 * pass for a separator), no trailing slash. The query string is MHD's
 * to split and is bounded by its length and count. */
/* A byte names may hold: [A-Za-z0-9_.-]. (strspn with that set costs
 * more than the rest of the check.) */
static bool
name_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

bool
http_uri_normal(const char *uri)
{
	size_t n = strcspn(uri, "?#");

	if (uri[n] == '#' || n == 0 || uri[0] != '/')
		return false;
	if (n == 1) /* "/" itself is a path, matching nothing */
		return true;
	for (size_t i = 0; i < n;) {
		/* At a '/': the segment after it. */
		const char *seg = uri + i + 1;
		size_t len = 0;
		while (name_byte(seg[len]))
			len++;
		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		i += 1 + len;
		if (i < n && uri[i] != '/')
			return false;
	}
	return true;
}

/* MHD's first sight of a request: the raw target, before any decoding.
 * Its return value becomes the request's state. */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request *rq = calloc(1, sizeof *rq);

	(void)cls;
	if (!rq)
		return NULL;
	rq->conn = conn;
	buf_init(&rq->body, CMDBUS_REST_MAX_BODY);
	rq->uri_long = strlen(uri) > HTTP_MAX_URI;
	rq->uri_bad = !rq->uri_long && !http_uri_normal(uri);
	return rq;
}

static enum MHD_Result
count_arg(void *cls, enum MHD_ValueKind kind, const char *key,
	  const char *value)
{
	size_t *n = cls;
	(void)kind;
	(void)key;
	(void)value;
	(*n)++;
	return MHD_YES;
}

/* Judges a request from its headers: authentication first, so that
 * unknown paths tell an unauthenticated caller nothing either; then the
 * path's form, the route and method, the role; then, for a body, its
 * type and declared size. */
static void
judge(struct http *h, struct MHD_Connection *conn, struct request *rq,
      const char *url, const char *method)
{
	bool known = false;
	const struct route *r = http_route_find(method, url, rq, &known);
	const struct http_token *tok = NULL;

	memcpy(rq->who, "anonymous", sizeof "anonymous");
	rq->role = HTTP_ROLE_ADMIN;
	if (h->tokens.n > 0) {
		tok = http_auth_find(
		    &h->tokens,
		    MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						MHD_HTTP_HEADER_AUTHORIZATION));
		rq->role = tok ? tok->role : HTTP_ROLE_NONE;
		if (tok)
			memcpy(rq->who, tok->name, sizeof rq->who);
	}
	if (!tok && h->tokens.n > 0 && strcmp(url, "/healthz") != 0) {
		/* Counted under its route when it has one. */
		rq->route = r;
		refuse(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		       "missing or wrong bearer token");
		return;
	}
	size_t nargs = 0;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, count_arg,
				  &nargs);
	if (rq->uri_long || nargs > HTTP_MAX_ARGS) {
		refuse(rq, MHD_HTTP_URI_TOO_LONG, "too_large",
		       "request target over 2048 bytes or 64 parameters");
		return;
	}
	if (rq->uri_bad) {
		refuse(rq, MHD_HTTP_BAD_REQUEST, "malformed",
		       "the path is not in normal form (no empty, . or .. "
		       "segment, no percent-encoding, no trailing slash)");
		return;
	}
	rq->route = r;
	if (rq->route && rq->role < rq->route->role) {
		refuse(rq, MHD_HTTP_FORBIDDEN, "forbidden",
		       rq->route->role == HTTP_ROLE_ADMIN
			   ? "this needs a token with the admin role"
			   : "this needs a token with the operate or admin "
			     "role");
		return;
	}
	if (!rq->route) {
		if (known)
			refuse(rq, MHD_HTTP_METHOD_NOT_ALLOWED,
			       "method_not_allowed",
			       "method not allowed on this path");
		else
			refuse(rq, MHD_HTTP_NOT_FOUND, "not_found",
			       "no such resource");
		return;
	}
	rq->allow[0] = '\0';
	if (!rq->route->body || !has_body(conn))
		return;
	if (!is_json(conn)) {
		refuse(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		       "unsupported_media_type",
		       "Content-Type must be application/json");
		return;
	}
	const char *cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t n = 0;
	if (cl && parse_u64(cl, 0, UINT64_MAX, &n) == 0 &&
	    n > CMDBUS_REST_MAX_BODY)
		refuse(rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
		       "request body too large");
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
	   const char *method, const char *version, const char *upload_data,
	   size_t *upload_data_size, void **con_cls)
{
	struct http *h = cls;
	struct request *rq = *con_cls;

	(void)version;
	if (!rq)
		return MHD_NO; /* on_uri could not allocate it */
	if (!rq->judged) {
		rq->judged = true;
		log_debug("http.request", "method=%s path=%s", method, url);
		judge(h, conn, rq, url, method);
		if (rq->refuse_status && has_body(conn))
			return reply_refusal(h, rq);
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (rq->responded || rq->refuse_status || !rq->route->body)
			return MHD_YES; /* not ours to read */
		if (buf_append(&rq->body, upload_data, n) < 0)
			/* A response queued now makes MHD discard the rest
			 * of the upload. */
			return http_reply_error(
			    h, rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			    "request body too large", NULL);
		return MHD_YES;
	}
	if (rq->responded)
		return MHD_YES;
	if (rq->refuse_status)
		return reply_refusal(h, rq);
	/* Also the call after a suspended request is resumed. */
	return http_dispatch(h, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	struct request *rq = *con_cls;

	(void)conn;
	(void)toe;
	if (!rq)
		return;
	http_wait_forget(h, rq);
	http_follow_free(h, rq);
	buf_fini(&rq->body);
	free(rq);
	*con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_warn("http.mhd", "msg=%s", line);
}

/* ---- the loop ---- */

static void
on_epoll(struct loop *l, int fd, unsigned events, void *ud)
{
	struct http *h = ud;

	(void)l;
	(void)fd;
	(void)events;
	MHD_run(h->d);
	http_snapshot_end(h);
}

/* MHD says how long it may wait; 0 means it has work now (a timed-out
 * connection, or data it has read but not yet processed), which no
 * descriptor would announce, so it runs here. */
static uint64_t
on_prepare(struct loop *l, void *ud)
{
	struct http *h = ud;
	MHD_UNSIGNED_LONG_LONG t = 0;

	/* Requests whose wait is over are resumed first, so that the runs
	 * below answer them. */
	uint64_t next = http_wait_expire(h, loop_now_ms(l), false);
	for (int i = 0; i < 8; i++) {
		if (MHD_get_timeout(h->d, &t) != MHD_YES)
			return next;
		if (t > 0)
			return (uint64_t)t < next ? (uint64_t)t : next;
		MHD_run(h->d);
		http_snapshot_end(h);
	}
	return 0;
}

void
http_snapshot_begin(struct http *h)
{
	if (!h->snapshot_open && h->snapshot_begin)
		h->snapshot_open = h->snapshot_begin(h->snapshot_ud) == 0;
}

void
http_snapshot_end(struct http *h)
{
	if (h->snapshot_open) {
		h->snapshot_end(h->snapshot_ud);
		h->snapshot_open = false;
	}
}

int
http_set_tokens(struct http *h, const char *token,
		const char *const *token_sha256, size_t n,
		const struct http_tokens *table)
{
	struct http_tokens t;
	int rc = http_auth_build(token, token_sha256, n, table, &t);
	if (rc < 0)
		return rc;
	http_tokens_fini(&h->tokens);
	h->tokens = t;
	return 0;
}

bool
http_tls_supported(void)
{
	return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}

int
http_new(struct loop *l, const struct http_config *cfg, struct core *core,
	 struct http **out, char *err, size_t errlen)
{
	struct addrinfo hints, *ai = NULL;
	char portstr[8];
	int rc;

	*out = NULL;
	struct http *h = calloc(1, sizeof *h);
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->loop = l;
	h->core = core;
	h->epoll_fd = -1;
	h->max_wait_ms =
	    cfg->max_wait_ms ? cfg->max_wait_ms : HTTP_DEFAULT_MAX_WAIT_MS;
	h->max_waiters =
	    cfg->max_waiters ? cfg->max_waiters : HTTP_DEFAULT_MAX_WAITERS;
	h->audit_fd = -1;
	if (cfg->snapshot_begin && cfg->snapshot_end) {
		h->snapshot_begin = cfg->snapshot_begin;
		h->snapshot_end = cfg->snapshot_end;
		h->snapshot_ud = cfg->snapshot_ud;
	}
	rc = http_auth_build(cfg->token, cfg->token_sha256, cfg->ntoken_sha256,
			     cfg->tokens, &h->tokens);
	if (rc < 0) {
		snprintf(err, errlen,
			 "api tokens: a digest that is not 64 hex digits, or "
			 "a token or name twice");
		free(h);
		return rc;
	}
	if ((cfg->tls_cert_pem != NULL) != (cfg->tls_key_pem != NULL)) {
		snprintf(err, errlen, "TLS needs both a certificate and a key");
		http_tokens_fini(&h->tokens);
		free(h);
		return -EINVAL;
	}
	if (cfg->tls_cert_pem && !http_tls_supported()) {
		snprintf(err, errlen,
			 "this libmicrohttpd has no TLS support: serve on "
			 "loopback behind a reverse proxy instead");
		http_tokens_fini(&h->tokens);
		free(h);
		return -ENOTSUP;
	}
	rc = http_audit_open(h, cfg->audit_log, err, errlen);
	if (rc < 0) {
		http_tokens_fini(&h->tokens);
		free(h);
		return rc;
	}

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof portstr, "%u", cfg->port);
	rc = getaddrinfo(cfg->bind, portstr, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "http_bind %s: %s", cfg->bind,
			 gai_strerror(rc));
		http_audit_close(h);
		http_tokens_fini(&h->tokens);
		free(h);
		return -EINVAL;
	}
	/* Suspend/resume lets a request wait for a state change without a
	 * thread; its inter-thread channel wakes the epoll descriptor. */
	unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cfg->tls_cert_pem)
		flags |= MHD_USE_TLS;
	/* The TLS options are passed only with TLS: an MHD_OPTION_ARRAY
	 * whose first entry is END adds nothing. */
	struct MHD_OptionItem tls[] = {
	    {cfg->tls_cert_pem ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0,
	     (void *)(uintptr_t)cfg->tls_cert_pem},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)cfg->tls_key_pem},
	    {MHD_OPTION_END, 0, NULL},
	};
	h->d = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, h,
	    /* The logger first, so that MHD logs nothing on its own. */
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_SOCK_ADDR,
	    ai->ai_addr, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CONN_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    h, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s port %u%s",
			 cfg->bind, cfg->port,
			 cfg->tls_cert_pem ? " (or the TLS certificate and "
					     "key are not usable)"
					   : "");
		http_audit_close(h);
		http_tokens_fini(&h->tokens);
		free(h);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (info)
		h->epoll_fd = info->epoll_fd;
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : cfg->port;
	if (h->epoll_fd < 0) {
		snprintf(err, errlen, "libmicrohttpd has no epoll descriptor");
		http_free(h);
		return -EINVAL;
	}
	rc = loop_add_fd(l, h->epoll_fd, LOOP_READ, on_epoll, h);
	if (rc == 0)
		rc = loop_add_prepare(l, on_prepare, h);
	if (rc < 0) {
		snprintf(err, errlen, "event loop: %s", err_str(rc));
		http_free(h);
		return rc;
	}
	core_set_observer(core, http_wait_observer, h);
	log_info("http.listening",
		 "bind=%s port=%u tls=%s auth=%s tokens=%zu audit=%s",
		 cfg->bind, h->port, cfg->tls_cert_pem ? "yes" : "no",
		 h->tokens.n ? "bearer" : "none", h->tokens.n,
		 cfg->audit_log ? cfg->audit_log : "-");
	*out = h;
	return 0;
}

void
http_free(struct http *h)
{
	if (!h)
		return;
	if (h->core->observer_ud == h)
		core_set_observer(h->core, NULL, NULL);
	/* Waiting requests are answered (503) before the daemon stops:
	 * MHD must not be stopped with suspended connections. */
	h->stopping = true;
	if (h->d && h->nwaiters) {
		(void)http_wait_expire(h, 0, true);
		for (int i = 0; i < 4; i++) {
			MHD_run(h->d);
			http_snapshot_end(h);
		}
	}
	if (h->kicked)
		(void)loop_del_timer(h->loop, h->kick_timer);
	if (h->epoll_fd >= 0)
		loop_del_fd(h->loop, h->epoll_fd);
	(void)loop_del_prepare(h->loop, on_prepare, h);
	if (h->d)
		MHD_stop_daemon(h->d);
	http_audit_close(h);
	http_tokens_fini(&h->tokens);
	free(h);
}

unsigned
http_port(const struct http *h)
{
	return h->port;
}
