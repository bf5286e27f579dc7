/* SPDX-License-Identifier: MIT */
/* REST over libmicrohttpd in external-epoll mode: the daemon's epoll
 * descriptor is watched on the common loop and MHD_run() is called when it
 * is readable or when MHD's own timeout comes due. Each request is routed
 * by a table, authenticated, given its body (capped), and answered by a
 * use case of the core, synchronously: nothing here waits. */
#include "http.h"

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

#include "common/buf.h"
#include "common/err.h"
#include "common/log.h"
#include "common/parse.h"
#include "cmdbus/msg.h"
#include "cmdbus/rest.h"
#include "jobs.h"
#include "views.h"

#define CONN_MEMORY_LIMIT (64u * 1024u) /* per connection: headers, I/O */
#define CONN_LIMIT 256u
#define CONN_PER_IP_LIMIT 64u
#define CONN_TIMEOUT_S 30u

enum route_id { R_HEALTH, R_JOBS_CREATE, R_JOB, R_EXEC, R_DEVICES, R_DEVICE };

/* A path pattern is matched segment by segment; "*" matches one
 * non-empty segment, handed to the handler as its parameter. */
struct route {
	const char *method;
	const char *path;
	bool body; /* reads a JSON body */
	enum route_id id;
};

static const struct route routes[] = {
    {"GET", "/healthz", false, R_HEALTH},
    {"POST", "/v1/jobs", true, R_JOBS_CREATE},
    {"GET", "/v1/jobs/*", false, R_JOB},
    {"GET", "/v1/executions/*", false, R_EXEC},
    {"GET", "/v1/devices", false, R_DEVICES},
    {"GET", "/v1/devices/*", false, R_DEVICE},
};
#define NROUTES (sizeof routes / sizeof routes[0])

struct http {
	struct loop *loop;
	struct core *core;
	struct MHD_Daemon *d;
	int epoll_fd;
	unsigned port;
	char token_sha[CMDBUS_SHA256_HEX + 1]; /* "" when no token */
};

/* One request's state between the handler's calls. */
struct request {
	const struct route *route;
	char param[CMDBUS_ID_BUF]; /* "" when the segment cannot be an id */
	struct buf body;
	bool responded;
	/* A refusal decided from the headers alone. It is answered once the
	 * request is complete, so that the connection can be kept; when a
	 * body would follow it is answered at once, and MHD discards the
	 * body and closes the connection. */
	unsigned refuse_status;			  /* 0: none */
	const char *refuse_code, *refuse_message; /* static */
	char allow[128];
};

/* ---- responses ---- */

/* Queues a response whose JSON body (malloc'd) it takes over. */
static enum MHD_Result
reply(struct MHD_Connection *conn, struct request *rq, unsigned status,
      char *body, size_t len, const char *allow)
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
				"application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	if (rq)
		rq->responded = true;
	return r;
}

static enum MHD_Result
reply_error(struct MHD_Connection *conn, struct request *rq, unsigned status,
	    const char *code, const char *message, const char *field,
	    const char *allow)
{
	char *body = NULL;
	size_t len = 0;

	if (cmdbus_error_body_encode(code, message, field, &body, &len) < 0)
		body = NULL;
	return reply(conn, rq, status, body, len, allow);
}

/* Answers a failed use case by its return code. */
static enum MHD_Result
reply_rc(struct MHD_Connection *conn, struct request *rq, int rc,
	 const struct cmdbus_diag *diag)
{
	switch (rc) {
	case -ERR_NOT_FOUND:
		return reply_error(conn, rq, MHD_HTTP_NOT_FOUND, "not_found",
				   "no such resource", NULL, NULL);
	case -ERR_MALFORMED:
		return reply_error(conn, rq, MHD_HTTP_BAD_REQUEST, "malformed",
				   diag && diag->message[0]
				       ? diag->message
				       : "malformed request",
				   diag ? diag->field : NULL, NULL);
	case -ERR_TOO_LARGE:
		return reply_error(conn, rq, MHD_HTTP_CONTENT_TOO_LARGE,
				   "too_large", "request body too large", NULL,
				   NULL);
	case -ENOSPC:
		return reply_error(conn, rq, MHD_HTTP_INSUFFICIENT_STORAGE,
				   "unavailable", "storage full", NULL, NULL);
	case -ERR_UNAVAILABLE:
		return reply_error(conn, rq, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "unavailable", "database unavailable", NULL,
				   NULL);
	default:
		log_error("http.internal", "rc=%s", err_str(rc));
		return reply_error(conn, rq, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "internal", "internal error", NULL, NULL);
	}
}

/* ---- checks ---- */

/* Compares digests of the two tokens, in time that depends on neither
 * token's contents nor length. */
static bool
authorized(const struct http *h, struct MHD_Connection *conn)
{
	const char *auth;
	char sha[CMDBUS_SHA256_HEX + 1];
	unsigned char diff = 0;

	if (!h->token_sha[0])
		return true;
	auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	auth += 7;
	while (*auth == ' ')
		auth++;
	size_t len = strlen(auth);
	while (len > 0 && auth[len - 1] == ' ')
		len--;
	cmdbus_sha256_hex(auth, len, sha);
	for (size_t i = 0; i < CMDBUS_SHA256_HEX; i++)
		diff |= (unsigned char)(sha[i] ^ h->token_sha[i]);
	return diff == 0;
}

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

/* Matches a path against a pattern; a "*" segment is copied to param
 * (left "" when too long to be an id). */
static bool
path_match(const char *pattern, const char *path, char *param, size_t plen)
{
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");
			if (n == 0)
				return false;
			if (n < plen) {
				memcpy(param, path, n);
				param[n] = '\0';
			} else {
				param[0] = '\0';
			}
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
static const struct route *
route_find(const char *method, const char *path, char *param, size_t plen,
	   char *allow, size_t alen, bool *path_known)
{
	const struct route *found = NULL;
	bool head = strcmp(method, "HEAD") == 0;

	*path_known = false;
	allow[0] = '\0';
	for (size_t i = 0; i < NROUTES; i++) {
		char p[CMDBUS_ID_BUF];
		if (!path_match(routes[i].path, path, p, sizeof p))
			continue;
		*path_known = true;
		size_t used = strlen(allow);
		snprintf(allow + used, alen - used, "%s%s%s", used ? ", " : "",
			 routes[i].method,
			 strcmp(routes[i].method, "GET") == 0 ? ", HEAD" : "");
		if (!found &&
		    (strcmp(routes[i].method, method) == 0 ||
		     (head && strcmp(routes[i].method, "GET") == 0))) {
			found = &routes[i];
			snprintf(param, plen, "%s", p);
		}
	}
	return found;
}

/* ---- handlers ---- */

static enum MHD_Result
dispatch(struct http *h, struct MHD_Connection *conn, struct request *rq)
{
	struct cmdbus_diag diag;
	char *out = NULL;
	size_t outlen = 0;
	unsigned status = MHD_HTTP_OK;
	int rc;

	memset(&diag, 0, sizeof diag);
	switch (rq->route->id) {
	case R_HEALTH: {
		bool healthy = false;
		rc = views_health(h->core, &healthy, &out, &outlen);
		if (rc == 0 && !healthy)
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
		break;
	}
	case R_JOBS_CREATE:
		rc = jobs_create(h->core, rq->body.data ? rq->body.data : "",
				 rq->body.len, &out, &outlen, &diag);
		status = MHD_HTTP_CREATED;
		if (rc == -ERR_MALFORMED)
			log_info("http.job_refused", "field=%s message=%s",
				 diag.field[0] ? diag.field : "-",
				 diag.message);
		break;
	case R_JOB:
		rc = views_job(h->core, rq->param, &out, &outlen);
		break;
	case R_EXEC:
		rc = views_execution(h->core, rq->param, &out, &outlen);
		break;
	case R_DEVICES:
		rc = views_devices(h->core, &out, &outlen);
		break;
	case R_DEVICE:
		rc = views_device(h->core, rq->param, &out, &outlen);
		break;
	default:
		rc = -ERR_NOT_FOUND;
		break;
	}
	if (rc < 0)
		return reply_rc(conn, rq, rc, &diag);
	return reply(conn, rq, status, out, outlen, NULL);
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
reply_refusal(struct MHD_Connection *conn, struct request *rq)
{
	return reply_error(conn, rq, rq->refuse_status, rq->refuse_code,
			   rq->refuse_message, NULL,
			   rq->allow[0] ? rq->allow : NULL);
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

/* Judges a request from its headers: authentication first, so that
 * unknown paths tell an unauthenticated caller nothing either; then the
 * route and method; then, for a body, its type and declared size. */
static void
judge(struct http *h, struct MHD_Connection *conn, struct request *rq,
      const char *url, const char *method)
{
	bool known = false;

	if (strcmp(url, "/healthz") != 0 && !authorized(h, conn)) {
		refuse(rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
		       "missing or wrong bearer token");
		return;
	}
	rq->route = route_find(method, url, rq->param, sizeof rq->param,
			       rq->allow, sizeof rq->allow, &known);
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
	if (!rq->route->body)
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
	if (!rq) {
		rq = calloc(1, sizeof *rq);
		if (!rq)
			return MHD_NO;
		buf_init(&rq->body, CMDBUS_REST_MAX_BODY);
		*con_cls = rq;
		log_debug("http.request", "method=%s path=%s", method, url);
		judge(h, conn, rq, url, method);
		if (rq->refuse_status && has_body(conn))
			return reply_refusal(conn, rq);
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
			return reply_error(
			    conn, rq, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			    "request body too large", NULL, NULL);
		return MHD_YES;
	}
	if (rq->responded)
		return MHD_YES;
	if (rq->refuse_status)
		return reply_refusal(conn, rq);
	return dispatch(h, conn, rq);
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	     enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!rq)
		return;
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
}

/* MHD says how long it may wait; 0 means it has work now (a timed-out
 * connection, or data it has read but not yet processed), which no
 * descriptor would announce, so it runs here. */
static uint64_t
on_prepare(struct loop *l, void *ud)
{
	struct http *h = ud;
	MHD_UNSIGNED_LONG_LONG t = 0;

	(void)l;
	for (int i = 0; i < 8; i++) {
		if (MHD_get_timeout(h->d, &t) != MHD_YES)
			return UINT64_MAX;
		if (t > 0)
			return (uint64_t)t;
		MHD_run(h->d);
	}
	return 0;
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
	if (cfg->token && cfg->token[0])
		cmdbus_sha256_hex(cfg->token, strlen(cfg->token), h->token_sha);

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof portstr, "%u", cfg->port);
	rc = getaddrinfo(cfg->bind, portstr, &hints, &ai);
	if (rc != 0 || !ai) {
		snprintf(err, errlen, "http_bind %s: %s", cfg->bind,
			 gai_strerror(rc));
		free(h);
		return -EINVAL;
	}
	unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->d = MHD_start_daemon(
	    flags, (uint16_t)cfg->port, NULL, NULL, on_request, h,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_SOCK_ADDR,
	    ai->ai_addr, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	    (size_t)CONN_MEMORY_LIMIT, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)CONN_PER_IP_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
	    h, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!h->d) {
		snprintf(err, errlen, "cannot listen on %s port %u", cfg->bind,
			 cfg->port);
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
	log_info("http.listening", "bind=%s port=%u auth=%s", cfg->bind,
		 h->port, h->token_sha[0] ? "bearer" : "none");
	*out = h;
	return 0;
}

void
http_free(struct http *h)
{
	if (!h)
		return;
	if (h->epoll_fd >= 0)
		loop_del_fd(h->loop, h->epoll_fd);
	(void)loop_del_prepare(h->loop, on_prepare, h);
	if (h->d)
		MHD_stop_daemon(h->d);
	free(h);
}

unsigned
http_port(const struct http *h)
{
	return h->port;
}
