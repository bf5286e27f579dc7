/* SPDX-License-Identifier: MIT */
/* Requests that wait for a state change (?wait, ?follow, action calls)
 * without a thread each: the connection is suspended in libmicrohttpd and
 * kept on a list; the core's change notifications and the deadlines,
 * checked before every loop pass, resume it, and its handler runs again
 * and looks at the state afresh. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "http_priv.h"

#include "common/log.h"
#include "common/loop.h"

static void
unlink_waiter(struct http *h, struct request *rq)
{
	if (rq->wprev)
		rq->wprev->wnext = rq->wnext;
	else
		h->waiters = rq->wnext;
	if (rq->wnext)
		rq->wnext->wprev = rq->wprev;
	else
		h->waiters_tail = rq->wprev;
	rq->wprev = rq->wnext = NULL;
	rq->suspended = false;
	h->nwaiters--;
	if (rq->follow)
		h->nfollow_parked--;
}

/* Runs MHD on the next loop pass. A resumed connection is served only by
 * MHD_run(), and in external epoll mode nothing on the descriptor says
 * so; a zero timer makes the loop pass at once, whichever callback the
 * resume came from (MHD must not be run from inside its own). */
static void
on_kick(struct loop *l, uint64_t id, void *ud)
{
	struct http *h = ud;

	(void)l;
	(void)id;
	h->kicked = false;
	MHD_run(h->d);
	http_snapshot_end(h);
}

static void
kick(struct http *h)
{
	uint64_t id = 0;

	if (h->kicked)
		return;
	if (loop_add_timer(h->loop, 0, 0, on_kick, h, &id) == 0) {
		h->kick_timer = id;
		h->kicked = true;
	}
}

static void
resume(struct http *h, struct request *rq)
{
	unlink_waiter(h, rq);
	log_debug("http.resume", "exec=%s job=%s waiters=%zu",
		  rq->wait_exec[0] ? rq->wait_exec : "-",
		  rq->wait_job[0] ? rq->wait_job : "-", h->nwaiters);
	MHD_resume_connection(rq->conn);
	kick(h);
}

size_t
http_wait_load(const struct http *h)
{
	return h->nwaiters - h->nfollow_parked + h->nfollowers;
}

static void
link_waiter(struct http *h, struct request *rq)
{
	rq->wprev = h->waiters_tail;
	rq->wnext = NULL;
	if (h->waiters_tail)
		h->waiters_tail->wnext = rq;
	else
		h->waiters = rq;
	h->waiters_tail = rq;
	h->nwaiters++;
	if (rq->follow)
		h->nfollow_parked++;
	rq->suspended = true;
}

void
http_wait_park(struct http *h, struct request *rq)
{
	link_waiter(h, rq);
	MHD_suspend_connection(rq->conn);
}

void
http_wait_commit(struct http *h, struct request *rq)
{
	rq->wait_commit = true;
	http_wait_park(h, rq);
	/* The commit comes at the loop's next prepare; this may be a pass
	 * whose prepare has run (MHD is also run from one), so the loop must
	 * not sleep before it. */
	kick(h);
}

enum MHD_Result
http_wait_suspend(struct http *h, struct request *rq)
{
	if (http_wait_load(h) >= h->max_waiters) {
		log_warn("http.too_many_waiters", "waiters=%zu", h->nwaiters);
		return http_reply_error(h, rq, MHD_HTTP_TOO_MANY_REQUESTS,
					"too_many_requests",
					"too many requests are waiting; "
					"retry without wait or later",
					NULL);
	}
	link_waiter(h, rq);
	log_debug("http.suspend", "exec=%s job=%s waiters=%zu",
		  rq->wait_exec[0] ? rq->wait_exec : "-",
		  rq->wait_job[0] ? rq->wait_job : "-", h->nwaiters);
	MHD_suspend_connection(rq->conn);
	return MHD_YES;
}

void
http_wait_forget(struct http *h, struct request *rq)
{
	if (rq->suspended)
		unlink_waiter(h, rq);
}

/* Whether the client of a suspended request has gone: libmicrohttpd
 * does not watch a suspended connection, so its socket is peeked at. An
 * orderly close reads 0; pipelined bytes mean it is still there. */
static bool
client_gone(struct request *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;

	if (!ci)
		return false;
	ssize_t n = recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		return true;
	return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
	       errno != EINTR;
}

uint64_t
http_wait_expire(struct http *h, uint64_t now, bool all)
{
	uint64_t next = UINT64_MAX;
	struct request *rq = h->waiters, *nx;
	bool check = all || now >= h->next_peek;

	if (check)
		h->next_peek = now + HTTP_PEEK_MS;
	for (; rq; rq = nx) {
		nx = rq->wnext;
		if (all || rq->deadline <= now) {
			resume(h, rq);
		} else if (check && client_gone(rq)) {
			/* Resumed, its answer fails to send and MHD closes
			 * the connection, which frees the request. */
			log_debug("http.waiter_gone", "waiters=%zu",
				  h->nwaiters);
			rq->gone = true;
			resume(h, rq);
		} else if (rq->deadline - now < next) {
			next = rq->deadline - now;
		}
	}
	/* While anyone waits, look at the clients again soon. */
	if (h->waiters && h->next_peek - now < next)
		next = h->next_peek - now;
	return next;
}

void
http_wait_observer(void *ud, const char *exec_id, const char *job_id,
		   enum cmdbus_state state)
{
	struct http *h = ud;
	struct request *rq, *nx;
	bool terminal = cmdbus_state_is_terminal(state);

	/* A job is finished only when its last execution ends; its waiters
	 * are woken at each end and look again. Followers of live output
	 * are woken by any change, new output included. */
	for (rq = h->waiters; rq; rq = nx) {
		nx = rq->wnext;
		/* A creator waits for its job's commit, told as the job
		 * alone, whatever came of it. */
		if (rq->wait_commit) {
			if (!exec_id && job_id &&
			    strcmp(rq->wait_job, job_id) == 0) {
				rq->wait_commit = false;
				resume(h, rq);
			}
			continue;
		}
		if (rq->follow) {
			if (exec_id && strcmp(rq->wait_exec, exec_id) == 0)
				resume(h, rq);
			continue;
		}
		if (!terminal)
			continue;
		if ((exec_id && rq->wait_exec[0] &&
		     strcmp(rq->wait_exec, exec_id) == 0) ||
		    (job_id && rq->wait_job[0] &&
		     strcmp(rq->wait_job, job_id) == 0))
			resume(h, rq);
	}
}
