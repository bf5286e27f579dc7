/* SPDX-License-Identifier: MIT */
/* Cancels. The database only records what is true: an execution that
 * never left is CANCELED by a compare-and-set here; one that may be at
 * its agent is CANCELED only when the agent says so (it may also finish
 * first), so here it is only told, with a signed `cancel` message on
 * its cmd topic. */
#include "cancel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/msg.h"
#include "cmdbus/topic.h"
#include "views.h"
#include "window.h"

/* A cancel stays valid at least this long, so that its tombstone at the
 * agent outlives a command still on its way. */
#define CANCEL_MIN_LIFE_MS 60000u

static int
send_cancel(struct core *c, const struct exec_rec *e, uint64_t now)
{
	struct cmdbus_msg m;
	char topic[512];
	char *payload = NULL, *env = NULL;
	size_t plen = 0, envlen = 0;
	int mid = 0, rc;

	if (!c->bus.is_connected(c->bus.ud))
		return -ERR_UNAVAILABLE;
	memset(&m, 0, sizeof m);
	m.type = CMDBUS_MSG_CANCEL;
	memcpy(m.u.cancel.id, e->id, sizeof m.u.cancel.id);
	memcpy(m.u.cancel.device, e->device, sizeof m.u.cancel.device);
	m.u.cancel.iat = now;
	m.u.cancel.exp = e->exp_at > now + CANCEL_MIN_LIFE_MS
			     ? e->exp_at
			     : now + CANCEL_MIN_LIFE_MS;
	rc = cmdbus_topic_build(topic, sizeof topic, c->cfg.prefix, e->device,
				CMDBUS_KIND_CMD);
	if (rc == 0)
		rc = cmdbus_msg_encode(&m, &payload, &plen);
	/* Signed like commands: an agent that trusts keys refuses
	 * anything else. */
	if (rc == 0)
		rc = cmdbus_envelope_wrap(CMDBUS_KIND_CMD, payload, plen,
					  c->cfg.sign_key, &env, &envlen);
	if (rc == 0) {
		uint64_t life_s = (m.u.cancel.exp - now + 999) / 1000;
		rc = c->bus.publish(
		    c->bus.ud, topic, env, envlen, 1,
		    life_s > UINT32_MAX ? UINT32_MAX : (uint32_t)life_s, &mid);
	}
	free(payload);
	free(env);
	if (rc < 0)
		log_warn("exec.cancel_send_failed", "exec=%s device=%s rc=%s",
			 e->id, e->device, err_str(rc));
	else
		log_info("exec.cancel_sent", "exec=%s job=%s device=%s", e->id,
			 e->job, e->device);
	return rc;
}

int
cancel_exec(struct core *c, struct exec_rec *e, uint64_t now, const char *code,
	    const char *message)
{
	if (cmdbus_state_is_terminal(e->state))
		return 0;
	if (e->state == CMDBUS_STATE_QUEUED && !e->command) {
		struct exec_change chg = {
		    .id = e->id,
		    .from = CMDBUS_STATE_QUEUED,
		    .to = CMDBUS_STATE_CANCELED,
		    .at = now,
		    .error_code = code,
		    .error_message = message,
		    .complete_job = true,
		};
		int rc = c->store.exec_change(c->store.ud, &chg);
		if (rc == 0) {
			/* Told after the commit when it joined one. */
			window_note(c, e, CMDBUS_STATE_CANCELED);
			e->state = CMDBUS_STATE_CANCELED;
			log_info("exec.canceled",
				 "exec=%s job=%s device=%s reason=%s", e->id,
				 e->job, e->device, code);
			return 0;
		}
		if (rc != -ERR_CONFLICT)
			return rc;
		/* It moved on meanwhile: reload, and tell the agent when it
		 * is still unfinished. */
		struct exec_rec fresh;
		memset(&fresh, 0, sizeof fresh);
		rc = c->store.exec_get(c->store.ud, e->id, &fresh);
		if (rc < 0)
			return rc;
		bool done = cmdbus_state_is_terminal(fresh.state);
		exec_rec_fini(&fresh);
		if (done)
			return 0;
	}
	return send_cancel(c, e, now);
}

static int
cancel_one(struct core *c, struct exec_rec *e, uint64_t now)
{
	return cancel_exec(c, e, now, "canceled",
			   "canceled before it was published");
}

int
cancel_execution(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct exec_rec e;
	int rc;

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	memset(&e, 0, sizeof e);
	rc = c->store.exec_get(c->store.ud, id, &e);
	if (rc < 0)
		return rc;
	rc = cancel_one(c, &e, clock_now_ms(c->clock));
	exec_rec_fini(&e);
	if (rc < 0)
		return rc;
	return views_execution(c, id, out, outlen);
}

int
cancel_job(struct core *c, const char *id, char **out, size_t *outlen)
{
	struct job_rec job;
	struct exec_list l = {0};
	uint64_t now = clock_now_ms(c->clock);
	int rc, first_err = 0;

	*out = NULL;
	if (!cmdbus_valid_id(id))
		return -ERR_NOT_FOUND;
	if (!c->store.job_cancel)
		return -ERR_UNAVAILABLE;
	memset(&job, 0, sizeof job);
	rc = c->store.job_get(c->store.ud, id, &job);
	if (rc < 0)
		return rc;
	bool running = job.state == CMDBUS_JOB_RUNNING;
	job_rec_fini(&job);
	/* A finished job has nothing left to cancel: say so rather than
	 * answer as if the cancel had done something. */
	if (!running)
		return -ERR_CONFLICT;
	/* The mark first, so that whichever execution ends last ends the
	 * job CANCELED. */
	rc = c->store.job_cancel(c->store.ud, id, now);
	if (rc == 0)
		rc = c->store.job_executions(c->store.ud, id, &l);
	if (rc < 0)
		return rc;
	log_info("job.cancel", "job=%s executions=%zu", id, l.n);
	for (size_t i = 0; i < l.n; i++) {
		rc = cancel_one(c, &l.v[i], now);
		/* Every execution is tried; the first failure is told. */
		if (rc < 0 && first_err == 0)
			first_err = rc;
	}
	exec_list_fini(&l);
	if (first_err < 0)
		return first_err;
	return views_job(c, id, out, outlen);
}
