/* SPDX-License-Identifier: MIT */
/* Ingest of agent messages. The checks, in order: size, topic, envelope,
 * signature (for a device with a registered key), payload schema, type
 * allowed on the topic's kind, then for reports and
 * results: the execution exists and was sent, topic device == payload
 * device == the execution's device, and cmd_sha256 (when present) is the
 * SHA-256 of the payload that was sent. Only then does the state machine
 * decide, and a terminal state never changes. */
#include "ingest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "cmdbus/rest.h"
#include "cmdbus/topic.h"
#include "devkeys.h"
#include "hearing.h"
#include "lifecycle.h"
#include "progress.h"
#include "window.h"

#define CAS_TRIES 3 /* a compare-and-set lost is retried on fresh state */

static void
drop(struct core *c, uint64_t *counter, const char *reason, const char *topic,
     const char *exec, const char *detail)
{
	(*counter)++;
	c->stats.dropped++;
	log_warn("ingest.drop", "reason=%s topic=%s exec=%s detail=%s", reason,
		 topic, exec && exec[0] ? exec : "-",
		 detail && detail[0] ? detail : "-");
}

static void
store_failed(struct core *c, const char *what, const char *id, int rc)
{
	c->stats.store_errors++;
	log_error("ingest.store_failed", "what=%s exec=%s rc=%s", what, id,
		  err_str(rc));
}

/* Loads the execution a report or result names and checks that it is
 * this device's and this command's. 0, or 1 when there is nothing to do:
 * the message was dropped, or the store failed (counted and logged). */
static int
load_checked(struct core *c, const char *topic, const char *topic_device,
	     const char *id, const char *device, const char *sha,
	     struct exec_rec *e)
{
	memset(e, 0, sizeof *e);
	int rc = c->store.exec_get(c->store.ud, id, e);
	if (rc == -ERR_NOT_FOUND) {
		drop(c, &c->stats.drop_unknown, "unknown_execution", topic, id,
		     NULL);
		return 1;
	}
	if (rc < 0) {
		store_failed(c, "load", id, rc);
		return 1;
	}
	if (strcmp(device, topic_device) != 0 ||
	    strcmp(e->device, device) != 0) {
		drop(c, &c->stats.drop_device, "wrong_device", topic, id,
		     e->device);
		exec_rec_fini(e);
		return 1;
	}
	/* Never sent: no genuine agent can answer for it. */
	if (!e->cmd_sha256[0]) {
		drop(c, &c->stats.drop_unknown, "never_sent", topic, id, NULL);
		exec_rec_fini(e);
		return 1;
	}
	if (sha[0] && strcmp(sha, e->cmd_sha256) != 0) {
		drop(c, &c->stats.drop_sha, "cmd_sha256_mismatch", topic, id,
		     sha);
		exec_rec_fini(e);
		return 1;
	}
	return 0;
}

/* Applies a change to a loaded execution, which it then releases; `event`
 * is logged on success, `what` names a store failure. Returns true when
 * another change won the compare-and-set, to be retried on fresh state. */
static bool
apply_change(struct core *c, struct exec_rec *e, const struct exec_change *chg,
	     const char *event, const char *what)
{
	int rc = c->store.exec_change(c->store.ud, chg);

	if (rc == 0) {
		window_note(c, e, chg->to);
		if (cmdbus_state_is_terminal(chg->to))
			c->stats.results++;
		log_info(event, "exec=%s job=%s device=%s state=%s", e->id,
			 e->job, e->device, cmdbus_state_name(chg->to));
	} else if (rc != -ERR_CONFLICT)
		store_failed(c, what, e->id, rc);
	exec_rec_fini(e);
	return rc == -ERR_CONFLICT;
}

static void
on_report(struct core *c, const char *topic, const char *topic_device,
	  const struct cmdbus_report *r)
{
	enum cmdbus_state next = lifecycle_from_report(r->state);

	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct exec_rec e;
		if (load_checked(c, topic, topic_device, r->id, r->device,
				 r->cmd_sha256, &e) != 0)
			return;
		enum cmdbus_state stored = e.state;
		progress_view(c, &e);
		enum lc_verdict v = lifecycle_decide(e.state, next);
		if (v != LC_APPLY) {
			c->stats.duplicates++;
			log_debug("exec.report_ignored",
				  "exec=%s device=%s state=%s reported=%s",
				  e.id, e.device, cmdbus_state_name(e.state),
				  cmdbus_state_name(r->state));
			exec_rec_fini(&e);
			return;
		}
		uint64_t now = clock_now_ms(c->clock);
		/* Kept for the pass's end: the result often comes in the
		 * same pass and is written with it. */
		if (progress_note(c, &e, stored, next, now, true, r->boot_id) ==
		    0) {
			window_note(c, &e, next);
			log_info("exec.report",
				 "exec=%s job=%s device=%s state=%s", e.id,
				 e.job, e.device, cmdbus_state_name(next));
			exec_rec_fini(&e);
			return;
		}
		struct exec_change chg = {
		    .id = e.id,
		    .from = stored,
		    .to = next,
		    .at = now,
		    .published = true,
		    .published_at = e.published_at,
		    .boot_id = r->boot_id,
		};
		if (!apply_change(c, &e, &chg, "exec.report", "report"))
			return;
	}
}

/* An agent that cannot write its journal runs nothing and answers
 * REJECTED/journal_unavailable, which the contract makes retryable: not
 * an end. */
static bool
refused_for_now(const struct cmdbus_result *r)
{
	return r->state == CMDBUS_STATE_REJECTED && r->has_error &&
	       strcmp(r->error_code, CMDBUS_E_JOURNAL_UNAVAILABLE) == 0;
}

static void
on_result(struct core *c, const char *topic, const char *topic_device,
	  const struct cmdbus_result *r, const char *payload)
{
	for (int tries = 0; tries < CAS_TRIES; tries++) {
		struct exec_rec e;
		if (load_checked(c, topic, topic_device, r->id, r->device,
				 r->cmd_sha256, &e) != 0)
			return;
		enum cmdbus_state stored = e.state;
		progress_view(c, &e);
		uint64_t now = clock_now_ms(c->clock);
		if (refused_for_now(r) && !cmdbus_state_is_terminal(e.state)) {
			/* Nothing ran and nothing was kept: the command goes
			 * again on its retry timer, until the agent can keep
			 * it or exp passes (then the agent says EXPIRED). */
			c->stats.refusals++;
			log_warn("exec.refused_for_now",
				 "exec=%s job=%s device=%s error=%s", e.id,
				 e.job, e.device, r->error_code);
			exec_rec_fini(&e);
			return;
		}
		enum lc_verdict v = lifecycle_decide(e.state, r->state);
		if (v == LC_LATE) {
			c->stats.late_results++;
			log_info("exec.late_result",
				 "exec=%s job=%s device=%s state=%s got=%s",
				 e.id, e.job, e.device,
				 cmdbus_state_name(e.state),
				 cmdbus_state_name(r->state));
			int rc =
			    c->store.exec_late_result(c->store.ud, e.id, now);
			if (rc < 0)
				store_failed(c, "late_result", e.id, rc);
			exec_rec_fini(&e);
			return;
		}
		if (v != LC_APPLY) {
			/* Cannot happen for a terminal state against a
			 * non-terminal one; kept for safety. */
			exec_rec_fini(&e);
			return;
		}
		/* Written from the stored state, with the pass's progress
		 * folded in: one write for the whole way. */
		struct exec_change chg = {
		    .id = e.id,
		    .from = stored,
		    .to = r->state,
		    .at = now,
		    .published = true,
		    .published_at = e.published_at,
		    .boot_id = r->boot_id,
		    .result = payload,
		    .error_code = r->has_error ? r->error_code : NULL,
		    .error_message = r->has_error && r->error_message
					 ? r->error_message
					 : NULL,
		    .complete_job = true,
		};
		char id[CMDBUS_ID_BUF];
		memcpy(id, e.id, sizeof id);
		if (!apply_change(c, &e, &chg, "exec.finished", "result")) {
			progress_drop(c, id);
			return;
		}
	}
}

/* A live output chunk: kept (a duplicate seq once) for the output view
 * and its followers, who are woken after the commit. Chunks are never
 * required: the result carries the output whatever happens here. */
static void
on_output(struct core *c, const char *topic, const char *topic_device,
	  const struct cmdbus_output *o)
{
	struct exec_rec e;
	bool stored = false;

	if (load_checked(c, topic, topic_device, o->id, o->device, "", &e) != 0)
		return;
	c->stats.outputs++;
	if (c->store.output_put) {
		int rc =
		    c->store.output_put(c->store.ud, e.id, o->is_stderr, o->seq,
					o->data.data, o->data.len, &stored);
		if (rc < 0)
			store_failed(c, "output", e.id, rc);
		else if (!stored)
			c->stats.output_dropped++;
	}
	log_debug("exec.output", "exec=%s device=%s stream=%s seq=%llu kept=%d",
		  e.id, e.device, o->is_stderr ? "stderr" : "stdout",
		  (unsigned long long)o->seq, stored);
	if (stored)
		window_output(c, &e);
	exec_rec_fini(&e);
}

/* The parts of a status that devices show, as the JSON text stored with
 * them. */
static int
presence_json(const struct cmdbus_status *s, struct device_rec *d)
{
	int rc;

	if ((rc = cmdbus_status_labels_encode(s->labels, s->nlabels,
					      &d->labels_json, NULL)) < 0 ||
	    (rc = cmdbus_status_actions_encode(s->actions, s->nactions,
					       &d->actions_json, NULL)) < 0)
		return rc;
	if (s->has_health)
		return cmdbus_status_health_encode(&s->health, &d->health_json,
						   NULL);
	return 0;
}

static void
on_status(struct core *c, const struct cmdbus_status *s, const char *payload)
{
	struct device_rec old, d;
	uint64_t now = clock_now_ms(c->clock);

	memset(&old, 0, sizeof old);
	memset(&d, 0, sizeof d);
	int rc = c->store.device_get(c->store.ud, s->device, &old);
	if (rc < 0 && rc != -ERR_NOT_FOUND) {
		store_failed(c, "device_load", s->device, rc);
		return;
	}
	bool known = rc == 0;

	if (!s->online) {
		/* A will or a clean shutdown of an older run must not mark
		 * a device offline that has come back since. */
		if (known && strcmp(old.boot_id, s->boot_id) != 0) {
			c->stats.stale_status++;
			log_info("device.stale_offline",
				 "device=%s boot_id=%s current=%s", s->device,
				 s->boot_id, old.boot_id);
			device_rec_fini(&old);
			return;
		}
		bool was_online = known && old.online;
		if (known) {
			d = old; /* takes the strings */
			memset(&old, 0, sizeof old);
		} else {
			memcpy(d.id, s->device, sizeof d.id);
			memcpy(d.boot_id, s->boot_id, sizeof d.boot_id);
		}
		d.online = false;
		d.last_seen = now;
		free(d.status);
		d.status = strdup(payload);
		rc = d.status ? c->store.device_put(c->store.ud, &d) : -ENOMEM;
		if (rc < 0)
			store_failed(c, "device", s->device, rc);
		else if (!known || was_online)
			log_info("device.offline", "device=%s boot_id=%s",
				 s->device, s->boot_id);
		device_rec_fini(&d);
		device_rec_fini(&old);
		return;
	}

	/* An online status older than the one held, from the same run, is
	 * a delayed duplicate. */
	if (known && strcmp(old.boot_id, s->boot_id) == 0 &&
	    s->at < old.status_at) {
		c->stats.stale_status++;
		log_debug("device.stale_online", "device=%s at=%llu", s->device,
			  (unsigned long long)s->at);
		device_rec_fini(&old);
		return;
	}
	memcpy(d.id, s->device, sizeof d.id);
	d.online = true;
	memcpy(d.boot_id, s->boot_id, sizeof d.boot_id);
	memcpy(d.agent, s->agent, sizeof d.agent);
	d.last_seen = now;
	d.status_at = s->at;
	rc = presence_json(s, &d);
	if (rc == 0 && !(d.status = strdup(payload)))
		rc = -ENOMEM;
	if (rc == 0)
		rc = c->store.device_put(c->store.ud, &d);
	if (rc < 0) {
		store_failed(c, "device", s->device, rc);
	} else if (!known || !old.online ||
		   strcmp(old.boot_id, s->boot_id) != 0) {
		log_info("device.online", "device=%s boot_id=%s agent=%s",
			 s->device, s->boot_id, s->agent);
		/* Back online: what it missed goes again now rather than at
		 * the next retry. Under a new boot, runs of the old one get
		 * lost_grace to be answered from the agent's journal. */
		window_device(c, s->device, true);
		hearing_device_up(c, s->device, now);
		if (known && strcmp(old.boot_id, s->boot_id) != 0)
			window_watch_boot(c, s->device, s->boot_id,
					  now + c->cfg.lost_grace_ms);
	} else {
		log_debug("device.heartbeat", "device=%s", s->device);
	}
	device_rec_fini(&d);
	device_rec_fini(&old);
}

static void ingest_one(struct core *c, const char *topic, const void *payload,
		       size_t len);

void
ingest_message(struct core *c, const char *topic, const void *payload,
	       size_t len)
{
	hearing_heard(c, clock_now_ms(c->clock), false);
	/* Everything a message writes joins the pass's group commit. */
	window_join(c);
	ingest_one(c, topic, payload, len);
	window_leave(c);
}

static void
ingest_one(struct core *c, const char *topic, const void *payload, size_t len)
{
	char device[CMDBUS_NAME_BUF];
	enum cmdbus_kind kind;
	struct cmdbus_envelope env;
	struct cmdbus_diag diag;
	struct cmdbus_msg m;
	const struct cmdbus_key *keys[DEVKEYS_PER_DEVICE];
	size_t nkeys;
	int rc;

	c->stats.received++;
	if (len > CMDBUS_MAX_MESSAGE) {
		drop(c, &c->stats.drop_too_large, "too_large", topic, NULL,
		     NULL);
		return;
	}
	if (cmdbus_topic_parse(topic, c->cfg.prefix, device, &kind) < 0 ||
	    kind == CMDBUS_KIND_CMD) {
		drop(c, &c->stats.drop_topic, "topic", topic, NULL, NULL);
		return;
	}
	if (len == 0) {
		/* A retained status being cleared: nothing to record. */
		c->stats.dropped++;
		c->stats.drop_envelope++;
		log_debug("ingest.empty", "topic=%s", topic);
		return;
	}
	memset(&diag, 0, sizeof diag);
	memset(&env, 0, sizeof env);
	/* A device with a registered key has everything on its topics
	 * verified before the payload is parsed: a message the device did
	 * not sign is dropped whoever published it. */
	nkeys =
	    devkeys_find(c->cfg.device_keys, device, keys, DEVKEYS_PER_DEVICE);
	if (nkeys == 0 && c->cfg.require_device_signatures) {
		drop(c, &c->stats.drop_signature, "signature", topic, NULL,
		     "no key registered for this device");
		return;
	}
	rc = cmdbus_envelope_unwrap(kind, payload, len, keys, nkeys, &env,
				    &diag);
	if (rc == -ERR_BAD_SIGNATURE) {
		drop(c, &c->stats.drop_signature, "signature", topic, diag.id,
		     diag.field[0] ? diag.field : diag.message);
		return;
	}
	if (rc < 0) {
		drop(c, &c->stats.drop_envelope, "envelope", topic, NULL,
		     diag.message);
		return;
	}
	memset(&diag, 0, sizeof diag);
	memset(&m, 0, sizeof m);
	if (cmdbus_msg_decode(env.payload, env.payload_len, &m, &diag) < 0) {
		drop(c, &c->stats.drop_payload, "payload", topic, diag.id,
		     diag.field[0] ? diag.field : diag.message);
		cmdbus_envelope_fini(&env);
		return;
	}
	if (!cmdbus_msg_allowed_on(m.type, kind)) {
		drop(c, &c->stats.drop_type, "type_not_allowed", topic, NULL,
		     cmdbus_msg_type_name(m.type));
		goto out;
	}

	switch (m.type) {
	case CMDBUS_MSG_REPORT:
		on_report(c, topic, device, &m.u.report);
		break;
	case CMDBUS_MSG_RESULT:
		on_result(c, topic, device, &m.u.result, env.payload);
		break;
	case CMDBUS_MSG_OUTPUT:
		on_output(c, topic, device, &m.u.output);
		break;
	case CMDBUS_MSG_STATUS:
		if (strcmp(m.u.status.device, device) != 0) {
			drop(c, &c->stats.drop_device, "wrong_device", topic,
			     NULL, m.u.status.device);
			break;
		}
		on_status(c, &m.u.status, env.payload);
		break;
	default:
		drop(c, &c->stats.drop_type, "type_not_allowed", topic, NULL,
		     cmdbus_msg_type_name(m.type));
		break;
	}
out:
	cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
}
