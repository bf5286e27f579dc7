/* SPDX-License-Identifier: MIT */
/* Command publishing. The payload is stored before it is published, with
 * a durable commit, so that a re-publish after a crash sends the very
 * bytes the agent may already hold, and results can be matched by the
 * payload's SHA-256. */
#include "outbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/msg.h"
#include "cmdbus/topic.h"
#include "hearing.h"
#include "lifecycle.h"
#include "progress.h"
#include "window.h"

/* The MQTT message expiry of a command sent again after its exp. */
#define OUTBOX_LATE_EXPIRY_S 60

/* Loads the job of an execution, keeping the last one: executions come
 * grouped by job. */
struct job_cache {
	struct job_rec job;
	bool have;
};

static const struct job_rec *
job_for(struct core *c, struct job_cache *jc, const struct job_rec *hint,
	const char *job_id)
{
	if (hint && strcmp(hint->id, job_id) == 0)
		return hint;
	if (jc->have && strcmp(jc->job.id, job_id) == 0)
		return &jc->job;
	if (jc->have) {
		job_rec_fini(&jc->job);
		jc->have = false;
	}
	memset(&jc->job, 0, sizeof jc->job);
	int rc = c->store.job_get(c->store.ud, job_id, &jc->job);
	if (rc < 0) {
		log_error("outbox.job_missing", "job=%s rc=%s", job_id,
			  err_str(rc));
		return NULL;
	}
	jc->have = true;
	return &jc->job;
}

/* Builds the command payload of one execution into e->command. */
static int
build_command(struct core *c, struct exec_rec *e, const struct job_rec *job,
	      uint64_t now)
{
	struct cmdbus_msg m;
	char *out = NULL;
	size_t outlen = 0;

	memset(&m, 0, sizeof m);
	m.type = CMDBUS_MSG_COMMAND;
	struct cmdbus_command *cmd = &m.u.command;
	memcpy(cmd->id, e->id, sizeof cmd->id);
	memcpy(cmd->job, e->job, sizeof cmd->job);
	memcpy(cmd->device, e->device, sizeof cmd->device);
	cmd->iat = now;
	cmd->exp = e->exp_at;
	cmd->timeout_ms = job->timeout_ms;
	memcpy(cmd->action, job->action, sizeof cmd->action);
	cmd->args_json = job->args_json; /* borrowed; not finalised below */
	cmd->max_output = CMDBUS_MAX_OUTPUT;
	cmd->idempotent = false;
	cmd->stream = job->stream;

	int rc = cmdbus_msg_encode(&m, &out, &outlen);
	if (rc < 0)
		return rc;
	e->command = out;
	cmdbus_sha256_hex(out, outlen, e->cmd_sha256);
	return 0;
}

/* Declares an execution that was never sent EXPIRED: it can no longer
 * run, and nobody else will ever answer for it. */
static void
expire_unsent(struct core *c, struct exec_rec *e, uint64_t now)
{
	struct exec_change chg = {
	    .id = e->id,
	    .from = e->state,
	    .to = CMDBUS_STATE_EXPIRED,
	    .at = now,
	    .error_code = CMDBUS_E_EXPIRED,
	    .error_message = "not published before exp",
	    .complete_job = true,
	};
	int rc = c->store.exec_change(c->store.ud, &chg);
	if (rc < 0) {
		if (rc != -ERR_CONFLICT)
			c->stats.store_errors++;
		log_warn("exec.expire_failed", "exec=%s job=%s rc=%s", e->id,
			 e->job, err_str(rc));
		return;
	}
	window_note(c, e, CMDBUS_STATE_EXPIRED);
	e->state = CMDBUS_STATE_EXPIRED;
	c->stats.expired++;
	log_info("exec.expired", "exec=%s job=%s device=%s reason=unsent",
		 e->id, e->job, e->device);
}

static void
remember_mid(struct core *c, int mid, const char *exec_id)
{
	if (!c->pending) {
		c->pending = calloc(CORE_MID_SLOTS, sizeof *c->pending);
		if (!c->pending)
			return; /* then the PUBACK is not tracked; the agent's
				   reports still move the execution on */
	}
	size_t slot = (size_t)mid % CORE_MID_SLOTS;
	free(c->pending[slot]);
	c->pending[slot] = strdup(exec_id);
}

static int
send_one(struct core *c, const struct exec_rec *e, uint64_t now)
{
	char topic[512];
	char *env = NULL;
	size_t envlen = 0;
	int mid = 0;

	int rc = cmdbus_topic_build(topic, sizeof topic, c->cfg.prefix,
				    e->device, CMDBUS_KIND_CMD);
	if (rc < 0)
		return rc;
	/* Signing is deterministic (Ed25519), so the envelope of the same
	 * payload is the same bytes as long as the key is. */
	rc = cmdbus_envelope_wrap(CMDBUS_KIND_CMD, e->command,
				  strlen(e->command), c->cfg.sign_key, &env,
				  &envlen);
	if (rc < 0)
		return rc;
	/* Remaining TTL in seconds, rounded up, never 0. Past exp only a
	 * command already sent goes again, for its agent to answer from
	 * its journal (or with EXPIRED, if it never had it): it lives as
	 * long as a late answer is still awaited. */
	uint64_t expiry = e->exp_at > now ? (e->exp_at - now + 999) / 1000
					  : OUTBOX_LATE_EXPIRY_S;
	if (expiry > UINT32_MAX)
		expiry = UINT32_MAX;
	rc = c->bus.publish(c->bus.ud, topic, env, envlen, 1, (uint32_t)expiry,
			    &mid);
	free(env);
	if (rc < 0)
		return rc;
	hearing_sent(c, now);
	remember_mid(c, mid, e->id);
	return 0;
}

/* What one call knows of each device it sends to: how many sent and
 * unfinished executions it has, and its current boot. */
struct dev_slot {
	char id[CMDBUS_NAME_BUF];
	size_t inflight;
	char boot_id[CMDBUS_ID_BUF];
};

struct dev_cache {
	struct dev_slot *v;
	size_t n, cap;
};

/* The slot of a device, read from the store at its first use; its boot
 * is read only when `boot` (a re-send needs it, a first send not). */
static struct dev_slot *
dev_for(struct core *c, struct dev_cache *dc, const char *device, bool boot)
{
	for (size_t i = 0; i < dc->n; i++)
		if (strcmp(dc->v[i].id, device) == 0)
			return &dc->v[i];
	if (dc->n == dc->cap) {
		size_t ncap = dc->cap ? dc->cap * 2 : 8;
		struct dev_slot *nv = realloc(dc->v, ncap * sizeof *nv);
		if (!nv)
			return NULL;
		dc->v = nv;
		dc->cap = ncap;
	}
	struct dev_slot *d = &dc->v[dc->n++];
	memset(d, 0, sizeof *d);
	memcpy(d->id, device, sizeof d->id);
	struct device_rec dr;
	memset(&dr, 0, sizeof dr);
	if (boot && c->store.device_get &&
	    c->store.device_get(c->store.ud, device, &dr) == 0) {
		memcpy(d->boot_id, dr.boot_id, sizeof d->boot_id);
		device_rec_fini(&dr);
	}
	uint64_t inflight = 0;
	if (c->store.exec_device_inflight) {
		if (c->store.exec_device_inflight(c->store.ud, device,
						  &inflight) == 0)
			d->inflight = (size_t)inflight;
		return d;
	}
	/* The sent ones are the oldest (waiting ones go out in order), so
	 * the first `window` unfinished hold all of them that count. */
	struct exec_list l = {0};
	if (c->store.exec_device_unfinished &&
	    c->store.exec_device_unfinished(
		c->store.ud, device, (size_t)c->cfg.outbox_window, &l) == 0) {
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].command)
				d->inflight++;
		exec_list_fini(&l);
	}
	return d;
}

/* Whether a sent execution goes again: not when the agent accepted it
 * under a boot that is no longer the device's. */
static bool
resend_ok(const struct exec_rec *e, const struct dev_slot *d)
{
	if (e->state != CMDBUS_STATE_DELIVERED &&
	    e->state != CMDBUS_STATE_RUNNING)
		return true;
	return !d || !e->boot_id[0] || !d->boot_id[0] ||
	       strcmp(e->boot_id, d->boot_id) == 0;
}

int
outbox_publish(struct core *c, struct exec_rec *execs, size_t n,
	       const struct job_rec *job)
{
	return outbox_send(c, execs, n, job, true);
}

/* Decides what goes out of execs: go[i] for each that is sent now,
 * fresh[i] for those whose payload was built here (into e->command; the
 * caller stores it before anything is sent). cmds gets the fresh ones;
 * returns how many. Executions not stored yet (`stored` false) are not
 * expired here: the sweep does that once they are. */
static size_t
outbox_build(struct core *c, struct exec_rec *execs, size_t n,
	     const struct job_rec *job, bool resend, bool stored, uint64_t now,
	     bool *go, bool *fresh, struct exec_command *cmds)
{
	struct job_cache jc = {.have = false};
	struct dev_cache dc = {0};
	size_t ncmds = 0;

	for (size_t i = 0; i < n; i++) {
		struct exec_rec *e = &execs[i];
		/* Held ones wait for their rollout (which may never release
		 * them); they expire by the sweep, not here. */
		if (cmdbus_state_is_terminal(e->state) || e->held)
			continue;
		if (e->exp_at <= now && !e->command) {
			/* Past exp and never sent: it cannot run any more. */
			if (stored)
				expire_unsent(c, e, now);
			continue;
		}
		/* Past exp but sent: it goes again like any unfinished one.
		 * Its agent may have run it and its answer been lost (a
		 * broker that lost its sessions); the agent answers an id
		 * from its journal before it looks at exp. */
		struct dev_slot *d = c->cfg.outbox_window
					 ? dev_for(c, &dc, e->device, resend)
					 : NULL;
		if (e->command) {
			go[i] = resend && resend_ok(e, d);
			continue;
		}
		if (d && d->inflight >= c->cfg.outbox_window)
			continue; /* waits QUEUED for a place */
		const struct job_rec *j = job_for(c, &jc, job, e->job);
		if (!j)
			continue;
		int rc = build_command(c, e, j, now);
		if (rc < 0) {
			log_error("outbox.encode_failed",
				  "exec=%s job=%s rc=%s", e->id, e->job,
				  err_str(rc));
			continue;
		}
		fresh[i] = go[i] = true;
		e->iat = now;
		if (d)
			d->inflight++;
		cmds[ncmds++] = (struct exec_command){
		    .id = e->id,
		    .payload = e->command,
		    .sha256 = e->cmd_sha256,
		    .iat = now,
		};
	}
	if (jc.have)
		job_rec_fini(&jc.job);
	free(dc.v);
	return ncmds;
}

/* Hands what go[] says to the bus; returns how many went. */
static int
outbox_emit(struct core *c, struct exec_rec *execs, size_t n, const bool *go,
	    const bool *fresh, uint64_t now)
{
	int sent = 0;

	for (size_t i = 0; i < n; i++) {
		struct exec_rec *e = &execs[i];
		if (!go[i] || !e->command ||
		    cmdbus_state_is_terminal(e->state) ||
		    (fresh[i] && e->exp_at <= now))
			continue;
		int prc = send_one(c, e, now);
		if (prc < 0) {
			c->stats.publish_errors++;
			log_warn("exec.publish_failed",
				 "exec=%s job=%s device=%s rc=%s", e->id,
				 e->job, e->device, err_str(prc));
			continue;
		}
		c->stats.published++;
		if (!fresh[i])
			c->stats.retries++;
		sent++;
		log_debug("exec.publish", "exec=%s job=%s device=%s state=%s",
			  e->id, e->job, e->device,
			  cmdbus_state_name(e->state));
	}
	return sent;
}

int
outbox_send(struct core *c, struct exec_rec *execs, size_t n,
	    const struct job_rec *job, bool resend)
{
	if (n == 0 || !c->bus.is_connected(c->bus.ud))
		return 0;

	uint64_t now = clock_now_ms(c->clock);
	struct exec_command *cmds = calloc(n, sizeof *cmds);
	bool *fresh = calloc(n, sizeof *fresh);
	bool *go = calloc(n, sizeof *go);

	if (!cmds || !fresh || !go) {
		free(cmds);
		free(fresh);
		free(go);
		return -ENOMEM;
	}
	size_t ncmds =
	    outbox_build(c, execs, n, job, resend, true, now, go, fresh, cmds);

	int rc = 0;
	if (ncmds > 0) {
		rc = c->store.exec_set_commands(c->store.ud, cmds, ncmds);
		if (rc < 0) {
			/* Not stored, so not sent: a payload must never go
			 * out that a re-publish could not repeat. They go at
			 * the next (re)connect. */
			c->stats.store_errors++;
			log_error("outbox.store_failed", "commands=%zu rc=%s",
				  ncmds, err_str(rc));
			for (size_t i = 0; i < n; i++) {
				if (!fresh[i])
					continue;
				free(execs[i].command);
				execs[i].command = NULL;
				execs[i].cmd_sha256[0] = '\0';
				go[i] = false;
			}
		}
	}
	free(cmds);
	int sent = outbox_emit(c, execs, n, go, fresh, now);
	free(fresh);
	free(go);
	return rc < 0 ? rc : sent;
}

size_t
outbox_prepare(struct core *c, struct exec_rec *execs, size_t n,
	       const struct job_rec *job, uint64_t now)
{
	if (n == 0 || !c->bus.is_connected(c->bus.ud))
		return 0;
	struct exec_command *cmds = calloc(n, sizeof *cmds);
	bool *fresh = calloc(n, sizeof *fresh);
	bool *go = calloc(n, sizeof *go);
	size_t ncmds = 0;
	/* Without memory nothing is built: they go out after the commit,
	 * through their devices' windows. */
	if (cmds && fresh && go)
		ncmds = outbox_build(c, execs, n, job, false, false, now, go,
				     fresh, cmds);
	free(cmds);
	free(fresh);
	free(go);
	return ncmds;
}

int
outbox_publish_prepared(struct core *c, struct exec_rec *execs, size_t n)
{
	if (n == 0 || !c->bus.is_connected(c->bus.ud))
		return 0;
	bool *go = calloc(n, sizeof *go);
	if (!go)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		go[i] =
		    execs[i].command && execs[i].state == CMDBUS_STATE_QUEUED;
	/* Fresh, all of them: this is their first publish. */
	int sent = outbox_emit(c, execs, n, go, go, clock_now_ms(c->clock));
	free(go);
	return sent;
}

void
outbox_device(struct core *c, const char *device, bool republish)
{
	struct exec_list l = {0};

	if (!c->store.exec_device_unfinished || !c->bus.is_connected(c->bus.ud))
		return;
	/* The sent ones and the next waiting ones: exactly enough to fill
	 * the window, since the sent ones are the oldest. */
	size_t limit =
	    c->cfg.outbox_window ? (size_t)c->cfg.outbox_window : 100000;
	int rc =
	    c->store.exec_device_unfinished(c->store.ud, device, limit, &l);
	if (rc < 0) {
		log_error("outbox.device_failed", "device=%s rc=%s", device,
			  err_str(rc));
		return;
	}
	int sent = outbox_send(c, l.v, l.n, NULL, republish);
	if (republish || sent > 0)
		log_info("outbox.device",
			 "device=%s unfinished=%zu sent=%d "
			 "republish=%d",
			 device, l.n, sent, republish);
	exec_list_fini(&l);
}

void
outbox_republish(struct core *c)
{
	struct exec_list l = {0};
	int rc = c->store.exec_unfinished(c->store.ud, &l);
	if (rc < 0) {
		log_error("outbox.republish_failed", "rc=%s", err_str(rc));
		return;
	}
	int sent = 0;
	if (l.n > 0)
		sent = outbox_publish(c, l.v, l.n, NULL);
	log_info("outbox.republish", "unfinished=%zu sent=%d", l.n, sent);
	exec_list_fini(&l);
}

void
outbox_acked(struct core *c, int mid, bool ok)
{
	if (!c->pending)
		return;
	size_t slot = (size_t)mid % CORE_MID_SLOTS;
	char *id = c->pending[slot];
	if (!id)
		return;
	c->pending[slot] = NULL;
	if (!ok) {
		/* Refused (e.g. not authorised): it stays QUEUED and goes
		 * again at the next (re)connect. */
		log_warn("exec.publish_refused", "exec=%s mid=%d", id, mid);
		free(id);
		return;
	}
	uint64_t now = clock_now_ms(c->clock);
	struct exec_change chg = {
	    .id = id,
	    .from = CMDBUS_STATE_QUEUED,
	    .to = CMDBUS_STATE_PUBLISHED,
	    .at = now,
	    .published = true,
	};
	/* Kept for the pass's end when it can be: a report on it may come
	 * in the same pass and be written with it. */
	int rc = progress_published(c, id, now);
	if (rc < 0) {
		window_join(c);
		rc = c->store.exec_change(c->store.ud, &chg);
		window_leave(c);
	}
	if (rc == 0) {
		struct exec_rec e;
		memset(&e, 0, sizeof e);
		memcpy(e.id, id, strnlen(id, sizeof e.id - 1));
		window_note(c, &e, CMDBUS_STATE_PUBLISHED);
		log_debug("exec.published", "exec=%s mid=%d", id, mid);
	} else if (rc != -ERR_CONFLICT && rc != -ERR_NOT_FOUND) {
		/* A conflict only means it moved on already (a report came
		 * first, or this was a re-publish). */
		c->stats.store_errors++;
		log_error("exec.store_failed", "exec=%s rc=%s", id,
			  err_str(rc));
	}
	free(id);
}
