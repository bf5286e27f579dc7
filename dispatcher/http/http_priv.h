/* SPDX-License-Identifier: MIT */
/* Private to the REST adapter: the server, one request's state, the
 * route table, and the functions its files share. http.c is the server
 * (authentication, routing, bodies, the loop), http_handlers.c the
 * resources, http_wait.c the requests that wait for a state change,
 * http_auth.c the tokens, http_audit.c the audit trail. */
#ifndef DISPATCHER_HTTP_PRIV_H
#define DISPATCHER_HTTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "common/buf.h"
#include "cmdbus/proto.h"
#include "http.h"

/* How often the clients of suspended requests are checked for a hang-up. */
#define HTTP_PEEK_MS 1000u
/* A suspended follower looks at its execution at least this often, so
 * that a lost wake-up only delays it. */
#define HTTP_FOLLOW_POLL_MS 1000u

enum route_id {
	R_HEALTH,
	R_METRICS,
	R_JOBS_CREATE,
	R_JOBS_LIST,
	R_JOB,
	R_JOB_CANCEL,
	R_EXEC,
	R_EXEC_CANCEL,
	R_EXEC_OUTPUT,
	R_DEVICES,
	R_DEVICE,
	R_DEVICE_EXECS,
	R_DEVICE_ACTION,
	R_TOKENS,
};

/* Limits of a request line, beyond MHD's own (CONN_MEMORY_LIMIT bounds
 * the headers as a whole). */
#define HTTP_MAX_URI 2048u /* path and query string, raw bytes */
#define HTTP_MAX_ARGS 64u  /* query parameters */

/* A path pattern is matched segment by segment; "*" matches one
 * non-empty segment, handed to the handler as a parameter. */
struct route {
	const char *method;
	const char *path;
	const char *name; /* the pattern as metrics and logs show it */
	bool body;	  /* reads a JSON body */
	enum route_id id;
	enum http_role role; /* the least role that may call it */
	/* Its handler only reads the store, so it may run inside the read
	 * snapshot of a pass (http_snapshot_begin); every other route ends
	 * the snapshot first. */
	bool reads_only;
};

struct http {
	struct loop *loop;
	struct core *core;
	struct MHD_Daemon *d;
	int epoll_fd;
	unsigned port;
	/* The accepted tokens (digests only); none: no authentication. */
	struct http_tokens tokens;
	int audit_fd; /* the audit file, or -1 */
	uint64_t max_wait_ms;
	size_t max_waiters;
	/* Suspended requests, oldest first. */
	struct request *waiters, *waiters_tail;
	size_t nwaiters;
	/* Followers of live output (http_follow.c): all of them, and those
	 * of them suspended now (also counted in nwaiters). */
	size_t nfollowers, nfollow_parked;
	uint64_t next_peek;  /* loop time of the next look at waiting clients */
	uint64_t kick_timer; /* a pending run after resumes, when kicked */
	bool kicked;
	bool stopping;
	/* The read snapshot of the store (http_config), and whether one is
	 * open now. */
	int (*snapshot_begin)(void *ud);
	void (*snapshot_end)(void *ud);
	void *snapshot_ud;
	bool snapshot_open;
};

/* One request's state between the handler's calls. */
struct request {
	struct MHD_Connection *conn;
	const struct route *route;
	/* Who asks: the token's name ("anonymous" with no authentication)
	 * and role, copied, since a reload may replace the table while the
	 * request waits. */
	char who[HTTP_TOKEN_NAME_MAX + 1];
	enum http_role role;
	/* The request line as received, before MHD decodes it: the path is
	 * judged on it (a percent-encoded slash must not pass for one). */
	bool uri_bad;  /* not a normalised path */
	bool uri_long; /* over HTTP_MAX_URI */
	bool judged;   /* its headers were judged (the first call) */
	char param[CMDBUS_NAME_BUF];  /* "" when the segment cannot be a name */
	char param2[CMDBUS_NAME_BUF]; /* the second "*", likewise */
	struct buf body;
	bool responded;
	/* A refusal decided from the headers alone. It is answered once the
	 * request is complete, so that the connection can be kept; when a
	 * body would follow it is answered at once, and MHD discards the
	 * body and closes the connection. */
	unsigned refuse_status;			  /* 0: none */
	const char *refuse_code, *refuse_message; /* static */
	char allow[128];
	/* Waiting (http_wait.c): set at the first call, kept across
	 * suspensions. */
	bool waiting;		       /* a deadline was set */
	bool suspended;		       /* in the waiters list now */
	bool gone;		       /* its client hung up */
	uint64_t deadline;	       /* loop time, ms */
	char wait_exec[CMDBUS_ID_BUF]; /* resume when this one ends */
	char wait_job[CMDBUS_ID_BUF];  /* or when this job may have */
	/* A job this request created in the pass's group commit: resumed
	 * when that commit is done (held or not), whatever the state. */
	bool wait_commit;
	unsigned created_status;    /* 201, or 200 for an idempotent repeat */
	const char *created_target; /* static: what the audit names */
	struct request *wprev, *wnext;
	struct follow *follow; /* a follow of live output, or NULL */
};

/* http.c: answers. reply() takes over body (malloc'd). */
enum MHD_Result http_reply(struct http *h, struct request *rq, unsigned status,
			   char *body, size_t len, const char *content_type,
			   const char *location);
enum MHD_Result http_reply_error(struct http *h, struct request *rq,
				 unsigned status, const char *code,
				 const char *message, const char *field);
/* Answers a failed use case by its return code. */
enum MHD_Result http_reply_rc(struct http *h, struct request *rq, int rc,
			      const struct cmdbus_diag *diag);

/* http.c: the route of METHOD and PATH (a HEAD finds the GET route), its
 * "*" segments in rq->param and rq->param2; NULL when none, with
 * *path_known telling whether other methods have the path and rq->allow
 * listing them. Pure: the libFuzzer target tests/fuzz/fuzz_route.c
 * drives it. */
const struct route *http_route_find(const char *method, const char *path,
				    struct request *rq, bool *path_known);

/* Whether a raw request target (path and query, as received) has its
 * path in normal form: only [A-Za-z0-9_.-] segments, none empty, "." or
 * "..", no percent-encoding, no trailing slash. Pure. */
bool http_uri_normal(const char *uri);

/* http_auth.c */
/* The accepted tokens: the legacy token and digests (admin) and the
 * table. 0, -EINVAL (a bad digest, a token or name twice), -ENOMEM. */
int http_auth_build(const char *token, const char *const *sha, size_t n,
		    const struct http_tokens *table, struct http_tokens *out);
/* The entry an Authorization header's bearer token matches, or NULL;
 * borrowed from t. A token matched once is remembered in t's cache and
 * compared there (in constant time, with every slot) before any digest
 * is computed. */
const struct http_token *http_auth_find(const struct http_tokens *t,
					const char *header);

/* http_audit.c: one record per change asked for (a job created, a job
 * or execution canceled, an action called), written to the audit file
 * (when there is one, flushed to disk before the answer) and logged as
 * an audit.* event at info level. */
struct audit_rec {
	const char *event;  /* "job.create", "job.cancel", "exec.cancel",
			       "action.call" */
	const char *job;    /* or NULL */
	const char *exec;   /* or NULL */
	const char *action; /* or NULL */
	const char *target; /* "devices", "labels", "all", "device" */
	size_t ndevices;    /* executions made, or the devices named */
	const char *device; /* the one device, when there is one */
	unsigned status;    /* the HTTP status answered */
};
int http_audit_open(struct http *h, const char *path, char *err, size_t errlen);
void http_audit_close(struct http *h);
/* Writes and logs a record for rq; a failed write is logged as an error
 * and does not change the answer (the change is already committed). */
void http_audit(struct http *h, struct request *rq, const struct audit_rec *a);

/* http_handlers.c: answers a complete request. */
enum MHD_Result http_dispatch(struct http *h, struct request *rq);

/* http.c: the store's read snapshot. Read-only routes begin it (once a
 * pass); every other route ends it before it runs, and so does the end
 * of each pass of MHD_run(), so that nothing writes, and the loop never
 * goes on, while it is open. */
void http_snapshot_begin(struct http *h);
void http_snapshot_end(struct http *h);

/* http_wait.c */
/* Suspends the request until wait_exec or wait_job changes or its
 * deadline passes; then its handler is called again. 429 when too many
 * wait already. */
enum MHD_Result http_wait_suspend(struct http *h, struct request *rq);
/* Suspends a request with no limit (a follower between events); its
 * response's reader is called again when it is resumed. */
void http_wait_park(struct http *h, struct request *rq);
/* Suspends a request until the group commit of the job it created (its
 * wait_job): resumed when the core tells of that job, whatever came of
 * the commit, or at its deadline. */
void http_wait_commit(struct http *h, struct request *rq);
/* How many requests wait or follow: what max_waiters bounds. */
size_t http_wait_load(const struct http *h);
/* Forgets a request that is closing (from MHD's completion callback). */
void http_wait_forget(struct http *h, struct request *rq);
/* Resumes the requests whose deadline has passed or whose client hung up
 * (all of them when the server stops); returns the ms until it should be
 * called again, or UINT64_MAX. */
uint64_t http_wait_expire(struct http *h, uint64_t now, bool all);
/* The core's observer: resumes the requests waiting on that change. */
void http_wait_observer(void *ud, const char *exec_id, const char *job_id,
			enum cmdbus_state state);

/* http_follow.c: GET /v1/executions/{id}/output?follow=1 as Server-Sent
 * Events, one event per chunk as it is committed and an end event. 429
 * when too many wait already. Wanted when the client accepts
 * text/event-stream. */
bool http_follow_wanted(struct request *rq);
enum MHD_Result http_follow_start(struct http *h, struct request *rq);
/* Frees a request's follow state (from MHD's completion callback). */
void http_follow_free(struct http *h, struct request *rq);

#endif
