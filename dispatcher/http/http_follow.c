/* SPDX-License-Identifier: MIT */
/* GET /v1/executions/{id}/output?follow=1: a Server-Sent Events stream
 * with no thread of its own. The response's reader hands out the events
 * due now; with none it suspends the connection, which the core's
 * notification after a commit (or the poll deadline) resumes, and MHD
 * calls the reader again. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http_priv.h"

#include "common/log.h"
#include "common/loop.h"
#include "metrics.h"
#include "output.h"
#include "views.h"

/* Events are handed to MHD at most this many bytes at a time. */
#define FOLLOW_BLOCK 16384u

struct follow {
	struct http *h;
	struct request *rq;
	struct output_cursor cur;
	char *pend; /* events not yet handed out, owned */
	size_t len, off;
	bool ended; /* the end event is in pend (or out already) */
};

/* Refills the pending events; false when the stream must stop with an
 * error. */
static bool
refill(struct follow *f)
{
	struct http *h = f->h;

	free(f->pend);
	f->pend = NULL;
	f->len = f->off = 0;
	int rc = output_follow(h->core, f->rq->wait_exec, &f->cur, &f->ended,
			       &f->pend, &f->len);
	if (rc < 0) {
		log_warn("http.follow_failed", "exec=%s rc=%d",
			 f->rq->wait_exec, rc);
		return false;
	}
	return true;
}

static ssize_t
follow_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct follow *f = cls;
	struct http *h = f->h;

	(void)pos;
	if (f->off == f->len) {
		if (f->ended)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (f->rq->gone || h->stopping || !refill(f))
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (f->len == 0) {
			/* Nothing new: wait for a wake-up. 0 is allowed in
			 * external polling mode, and the reader is called
			 * again once the connection is resumed. */
			f->rq->deadline =
			    loop_now_ms(h->loop) + HTTP_FOLLOW_POLL_MS;
			http_wait_park(h, f->rq);
			return 0;
		}
	}
	size_t n = f->len - f->off;
	if (n > max)
		n = max;
	memcpy(buf, f->pend + f->off, n);
	f->off += n;
	return (ssize_t)n;
}

bool
http_follow_wanted(struct request *rq)
{
	/* EventSource and `curl -H 'Accept: text/event-stream'` ask for the
	 * stream; a plain JSON client keeps the one-answer follow. */
	const char *a = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_ACCEPT);
	return a && strstr(a, "text/event-stream") != NULL;
}

enum MHD_Result
http_follow_start(struct http *h, struct request *rq)
{
	enum cmdbus_state st;

	int rc = views_execution_state(h->core, rq->param, &st);
	if (rc < 0)
		return http_reply_rc(h, rq, rc, NULL);
	if (http_wait_load(h) >= h->max_waiters) {
		log_warn("http.too_many_waiters", "waiters=%zu", h->nwaiters);
		return http_reply_error(h, rq, MHD_HTTP_TOO_MANY_REQUESTS,
					"too_many_requests",
					"too many requests are waiting; "
					"retry without follow or later",
					NULL);
	}
	struct follow *f = calloc(1, sizeof *f);
	if (!f)
		return http_reply_rc(h, rq, -ENOMEM, NULL);
	f->h = h;
	f->rq = rq;
	/* A comment first, so that the headers go out at once even when
	 * there is no output yet. */
	f->pend = strdup(":\n\n");
	f->len = f->pend ? 3 : 0;
	memcpy(rq->wait_exec, rq->param, sizeof rq->wait_exec);
	struct MHD_Response *resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, FOLLOW_BLOCK, follow_read, f, NULL);
	if (!resp) {
		free(f->pend);
		free(f);
		return MHD_NO;
	}
	rq->follow = f;
	h->nfollowers++;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				"no-store");
	enum MHD_Result r = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	rq->responded = true;
	metrics_http_request(h->core, rq->route->name, MHD_HTTP_OK);
	log_debug("http.follow", "exec=%s followers=%zu", rq->wait_exec,
		  h->nfollowers);
	return r;
}

void
http_follow_free(struct http *h, struct request *rq)
{
	struct follow *f = rq->follow;

	if (!f)
		return;
	rq->follow = NULL;
	h->nfollowers--;
	free(f->pend);
	free(f);
}
