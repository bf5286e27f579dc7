/* SPDX-License-Identifier: MIT */
/* The check pipeline of the contract ("Checks before execution"), in its
 * order and failing closed: size, envelope, signature, payload schema,
 * device, journal, clock, action, arguments; then RECEIVED in the journal,
 * ACCEPTED and the run (run.c). Every answer past the signature check is
 * journaled so a duplicate is answered from the journal and never runs
 * twice, across restarts too. */
#include "core_int.h"
#include "crashpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/topic.h"
#include "common/err.h"
#include "common/log.h"

static void
free_labels(struct core *c)
{
	for (size_t i = 0; i < c->nlabels; i++) {
		free(c->label_keys[i]);
		free(c->label_values[i]);
	}
	free(c->label_keys);
	free(c->label_values);
	c->label_keys = c->label_values = NULL;
	c->nlabels = 0;
}

static int
copy_labels(struct core *c, const struct core_config *cfg, char *err,
	    size_t errlen)
{
	if (cfg->nlabels == 0)
		return 0;
	c->label_keys = calloc(cfg->nlabels, sizeof(char *));
	c->label_values = calloc(cfg->nlabels, sizeof(char *));
	if (!c->label_keys || !c->label_values)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nlabels; i++) {
		const char *kv = cfg->labels[i];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv) {
			snprintf(err, errlen, "label '%s' is not key=value",
				 kv);
			return -EINVAL;
		}
		c->label_keys[i] = strndup(kv, (size_t)(eq - kv));
		c->label_values[i] = strdup(eq + 1);
		c->nlabels = i + 1;
		if (!c->label_keys[i] || !c->label_values[i])
			return -ENOMEM;
		if (!cmdbus_valid_label(c->label_keys[i]) ||
		    !cmdbus_valid_label(c->label_values[i])) {
			snprintf(err, errlen,
				 "label '%s': key and value must be 1..64 "
				 "bytes of [A-Za-z0-9_.-]",
				 kv);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(c->label_keys[j], c->label_keys[i]) == 0) {
				snprintf(err, errlen, "label '%s' given twice",
					 c->label_keys[i]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int
core_new(const struct core_config *cfg, const struct core_ports *ports,
	 struct core **out, char *err, size_t errlen)
{
	struct core *c;
	int rc = 0;

	*out = NULL;
	if (!cfg->device_id || !cmdbus_valid_device_id(cfg->device_id)) {
		snprintf(err, errlen, "device id '%s' is invalid",
			 cfg->device_id ? cfg->device_id : "");
		return -EINVAL;
	}
	if (!cfg->prefix || !cmdbus_prefix_valid(cfg->prefix)) {
		snprintf(err, errlen, "topic prefix '%s' is invalid",
			 cfg->prefix ? cfg->prefix : "");
		return -EINVAL;
	}
	if (!cfg->boot_id || !cmdbus_valid_id(cfg->boot_id) || !cfg->clock) {
		snprintf(err, errlen, "boot id or clock missing");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->device_id = strdup(cfg->device_id);
	c->prefix = strdup(cfg->prefix);
	c->boot_id = strdup(cfg->boot_id);
	c->exec_path =
	    strdup(cfg->exec_path ? cfg->exec_path : "/usr/bin:/bin");
	c->exec_cwd = strdup(cfg->exec_cwd ? cfg->exec_cwd : "/");
	c->exec_enabled = cfg->exec_enabled;
	c->shell_enabled = cfg->shell_enabled;
	if (cfg->runas_helper && !(c->runas_helper = strdup(cfg->runas_helper)))
		rc = -ENOMEM;
	c->max_timeout_ms =
	    cfg->max_timeout_ms ? cfg->max_timeout_ms : CMDBUS_MAX_INT;
	c->clock_skew_ms = cfg->clock_skew_ms;
	c->trusted = cfg->trusted;
	c->ntrusted = cfg->ntrusted;
	c->sign_key = cfg->sign_key;
	c->clock = cfg->clock;
	c->ports = *ports;
	c->next_token = 1;
	c->max_running = cfg->max_running ? cfg->max_running : 4;
	if (!c->device_id || !c->prefix || !c->boot_id || !c->exec_path ||
	    !c->exec_cwd)
		rc = -ENOMEM;
	if (rc == 0)
		rc = copy_labels(c, cfg, err, errlen);
	if (rc == 0)
		rc = registry_init(c);
	if (rc == 0) {
		rc = journal_open(&c->journal, cfg->journal,
				  cfg->journal_compact_at);
		if (rc && rc != -ENOMEM)
			snprintf(err, errlen, "journal: %s", err_str(rc));
	}
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		core_free(c);
		return rc;
	}
	kill_leftovers(c);
	*out = c;
	return 0;
}

void
core_free(struct core *c)
{
	if (!c)
		return;
	while (c->runs) {
		struct run *r = c->runs;
		c->runs = r->next;
		live_fini(&r->live[0]);
		live_fini(&r->live[1]);
		free(r);
	}
	queue_free(c);
	journal_close(&c->journal);
	registry_fini(c);
	free_labels(c);
	free(c->device_id);
	free(c->prefix);
	free(c->boot_id);
	free(c->exec_path);
	free(c->exec_cwd);
	free(c->runas_helper);
	free(c);
}

int
core_register(struct core *c, const char *name, cmdbus_agent_handler_fn *fn,
	      const struct cmdbus_agent_param *params, void *ud, char *err,
	      size_t errlen)
{
	return registry_add(c, name, fn, params, ud, err, errlen);
}

size_t
core_running(const struct core *c)
{
	size_t n = 0;

	for (const struct run *r = c->runs; r; r = r->next)
		n++;
	return n;
}

const struct core_stats *
core_get_stats(const struct core *c)
{
	return &c->stats;
}

/* ---- answering ---- */

void
core_publish(struct core *c, const char *id, const char *msg, size_t len)
{
	int rc =
	    c->ports.publish(c->ports.ud, CMDBUS_KIND_RESULT, msg, len, false);
	if (rc) {
		c->stats.publish_failed++;
		log_warn("agent.publish_failed", "exec=%s error=\"%s\"", id,
			 err_str(rc));
	}
}

void
core_answer(struct core *c, const char *id, char *msg, size_t len)
{
	core_publish(c, id, msg, len);
	free(msg);
}

void
core_finish(struct core *c, const char *id, char *msg, size_t len)
{
	struct journal_entry *e = journal_find(&c->journal, id);
	uint64_t keep = e ? e->keep_until : keep_until(c, 0);
	int rc = journal_finished(&c->journal, id, keep, msg, len);

	if (rc == 0) {
		CRASHPOINT(c, CRASHPOINT_FINISHED, id);
		core_publish(c, id, msg, len);
	} else {
		log_error(
		    "result.pending",
		    "exec=%s error=\"%s\" reason=\"the result is published "
		    "once the journal holds it\"",
		    id, err_str(rc));
	}
	free(msg);
}

/* A REJECTED or EXPIRED answer: journaled (until `keep`) when keep is
 * not 0, and then published only once durable; when the journal cannot
 * take it the answer is journal_unavailable instead, never journaled. */
static void
reject(struct core *c, uint64_t keep, const char *id, const char *sha,
       enum cmdbus_state state, const char *code, const char *message)
{
	struct run_end re;
	char *msg = NULL;
	size_t len = 0;
	int rc;

	memset(&re, 0, sizeof(re));
	re.state = state;
	re.error_code = code;
	re.error_message = message;
	c->stats.rejected++;
	log_info("cmd.rejected",
		 "exec=%s device=%s state=%s code=%s reason=\"%s\"", id,
		 c->device_id, cmdbus_state_name(state), code, message);
	rc = result_build(c, id, sha, &re, &msg, &len);
	if (rc) {
		log_error("agent.encode_failed", "exec=%s error=\"%s\"", id,
			  err_str(rc));
		return;
	}
	if (keep == 0) {
		core_answer(c, id, msg, len);
		return;
	}
	rc = journal_finished(&c->journal, id, keep, msg, len);
	free(msg);
	if (rc == 0) {
		/* Published from the journal's copy: byte for byte what a
		 * re-send will get. */
		struct journal_entry *e = journal_find(&c->journal, id);
		if (e && journal_read_msg(&c->journal, e, &msg, &len) == 0)
			core_answer(c, id, msg, len);
		return;
	}
	/* Not remembered: a pending copy must not be published later. */
	{
		struct journal_entry *e = journal_find(&c->journal, id);
		if (e)
			journal_drop_pending(&c->journal, e);
	}
	reject(c, 0, id, sha, CMDBUS_STATE_REJECTED,
	       CMDBUS_E_JOURNAL_UNAVAILABLE,
	       "the journal cannot be written; retry later");
}

static void
drop(struct core *c, const char *reason, const char *detail)
{
	c->stats.dropped++;
	log_warn("cmd.dropped", "device=%s reason=%s detail=\"%s\"",
		 c->device_id, reason, detail ? detail : "");
}

static void
diag_text(const struct cmdbus_diag *d, char *out, size_t outlen)
{
	if (d->field[0])
		snprintf(out, outlen, "%s: %s", d->field, d->message);
	else
		snprintf(out, outlen, "%s", d->message);
}

/* The same for a refusal of `args`, whose decoders name fields relative
 * to the args object: the message names them from the payload's root. */
static void
args_diag_text(const char *field, const char *message, char *out, size_t outlen)
{
	if (!field[0])
		snprintf(out, outlen, "args: %s", message);
	else if (strncmp(field, "args.", 5) == 0)
		snprintf(out, outlen, "%s: %s", field, message);
	else
		snprintf(out, outlen, "args.%s: %s", field, message);
}

/* Whether an undecodable payload names itself of type `type` (quoted,
 * e.g. "\"cancel\""). A plain scan, tolerant of whitespace. */
static bool
names_type(const char *p, size_t len, const char *type)
{
	static const char key[] = "\"type\"";
	const char *end = p + len;
	size_t tlen = strlen(type);

	for (const char *s = p; s + sizeof(key) - 1 <= end; s++) {
		const char *q;
		if (memcmp(s, key, sizeof(key) - 1) != 0)
			continue;
		q = s + sizeof(key) - 1;
		while (q < end &&
		       (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
			q++;
		if (q >= end || *q != ':')
			continue;
		q++;
		while (q < end &&
		       (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
			q++;
		if ((size_t)(end - q) >= tlen && memcmp(q, type, tlen) == 0)
			return true;
	}
	return false;
}

/* A cancel must never be answered, since an answer would read as the
 * result of the execution it names; a type not allowed on the cmd topic
 * (what agents publish) is dropped without answer, as the contract says,
 * even when the rest of it does not decode. */
static const char *
undecodable_drop_reason(const char *p, size_t len)
{
	static const char *const others[] = {"\"result\"", "\"report\"",
					     "\"status\"", "\"output\""};
	if (names_type(p, len, "\"cancel\""))
		return "cancel_malformed";
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (names_type(p, len, others[i]))
			return "type_not_allowed";
	return NULL;
}

/* ---- commands ---- */

/* A command the journal could not take: refused, never run. */
static void
refuse_unjournaled(struct core *c, const char *id, const char *sha)
{
	reject(c, 0, id, sha, CMDBUS_STATE_REJECTED,
	       CMDBUS_E_JOURNAL_UNAVAILABLE,
	       "the journal cannot be written; retry later");
}

static void
report_accepted(struct core *c, const char *id, const char *sha)
{
	if (send_report(c, id, sha, CMDBUS_STATE_ACCEPTED, -1) != 0)
		log_warn("report.failed", "exec=%s state=ACCEPTED", id);
}

/* ping and info change nothing outside the agent, so running them before
 * the journal holds RECEIVED cannot be seen: RECEIVED and the result go
 * to the journal in one write and one sync, and only then are ACCEPTED
 * and the result published. A crash before the sync leaves nothing
 * published, and a re-send is answered as if it came first. */
static bool
pure_action(const struct action *a)
{
	return a->kind == ACT_PING || a->kind == ACT_INFO;
}

static void
run_pure(struct core *c, const struct cmdbus_command *cmd,
	 const struct action *a, const char *sha, const struct run_plan *p,
	 uint64_t keep, const char *payload, size_t plen)
{
	char *msg = NULL;
	size_t len = 0;

	if (run_inline(c, cmd, a, sha, p, &msg, &len) != 0)
		return; /* nothing journaled or sent: a re-send comes again */
	if (journal_ran(&c->journal, cmd->id, sha, cmd->exp, keep,
			cmd->idempotent, cmd->idempotent ? payload : NULL,
			cmd->idempotent ? plen : 0, msg, len) != 0) {
		free(msg);
		refuse_unjournaled(c, cmd->id, sha);
		return;
	}
	report_accepted(c, cmd->id, sha);
	core_answer(c, cmd->id, msg, len);
}

static void
handle_command(struct core *c, const struct cmdbus_command *cmd,
	       const char *topic_device, const char *sha, const char *payload,
	       size_t plen, bool rerun)
{
	const struct action *a;
	uint64_t keep;
	struct run_plan plan;
	uint64_t now;

	if (strcmp(cmd->device, c->device_id) != 0 ||
	    strcmp(topic_device, c->device_id) != 0) {
		char text[200];
		snprintf(text, sizeof(text),
			 "addressed to '%s' on the topic of '%s', this is '%s'",
			 cmd->device, topic_device, c->device_id);
		reject(c, 0, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_WRONG_DEVICE, text);
		return;
	}

	/* Known ids are answered from the journal, whatever the clock. */
	if (!rerun && replay_known(c, cmd, sha))
		return;
	if (c->stopping) {
		reject(c, 0, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_JOURNAL_UNAVAILABLE,
		       "the agent is shutting down; retry later");
		return;
	}

	now = clock_now_ms(c->clock);
	keep = keep_until(c, cmd->exp);
	if (cmd->exp < now && now - cmd->exp > c->clock_skew_ms) {
		reject(c, keep, cmd->id, sha, CMDBUS_STATE_EXPIRED,
		       CMDBUS_E_EXPIRED, "exp has passed");
		return;
	}
	if (cmd->iat > now && cmd->iat - now > c->clock_skew_ms) {
		reject(c, keep, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_NOT_YET_VALID, "iat is in the future");
		return;
	}

	a = registry_find(c, cmd->action);
	if (!a) {
		reject(c, keep, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_UNKNOWN_ACTION, "no such action");
		return;
	}
	if (!registry_enabled(c, a)) {
		reject(c, keep, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_ACTION_DISABLED,
		       "action is disabled on this agent");
		return;
	}

	memset(&plan, 0, sizeof(plan));
	plan.timeout_ms = cmd->timeout_ms;
	if (plan.timeout_ms > c->max_timeout_ms) {
		plan.timeout_ms = c->max_timeout_ms;
		plan.clamped = true;
	}
	plan.max_output = cmd->max_output > CMDBUS_MAX_OUTPUT
			      ? CMDBUS_MAX_OUTPUT
			      : (size_t)cmd->max_output;
	if (plan.max_output < 1)
		plan.max_output = 1;
	{
		/* exec, shell and catalog actions get their argv, cwd and
		 * limits here, once; handlers have their parameters
		 * checked. */
		char field[96], why[600], text[800];
		if (registry_prepare(c, a, cmd->args_json, &plan, field,
				     sizeof(field), why, sizeof(why)) != 0) {
			run_plan_fini(&plan);
			args_diag_text(field, why, text, sizeof(text));
			reject(c, keep, cmd->id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_BAD_ARGS, text);
			return;
		}
	}

	log_info("cmd.accepted", "exec=%s job=%s device=%s action=%s", cmd->id,
		 cmd->job, c->device_id, cmd->action);
	if (pure_action(a)) {
		run_pure(c, cmd, a, sha, &plan, keep, payload, plen);
		run_plan_fini(&plan);
		return;
	}
	/* RECEIVED is durable before anything runs or is acknowledged; an
	 * idempotent command keeps its payload, to run again after a
	 * restart. */
	CRASHPOINT(c, CRASHPOINT_RECEIVED, cmd->id);
	if (journal_received(&c->journal, cmd->id, sha, cmd->exp, keep,
			     cmd->idempotent, cmd->idempotent ? payload : NULL,
			     cmd->idempotent ? plen : 0) != 0) {
		run_plan_fini(&plan);
		refuse_unjournaled(c, cmd->id, sha);
		return;
	}
	CRASHPOINT(c, CRASHPOINT_JOURNALED, cmd->id);
	report_accepted(c, cmd->id, sha);
	if (registry_spawns(a) && core_running(c) >= c->max_running &&
	    queue_push(c, cmd, sha, &plan) == 0)
		; /* waits for a free slot, already ACCEPTED */
	else if (registry_spawns(a))
		run_exec(c, cmd, sha, &plan);
	else
		run_builtin(c, cmd, a, sha, &plan);
	run_plan_fini(&plan);
}

void
core_rerun(struct core *c, const struct cmdbus_command *cmd, const char *sha,
	   const char *payload, size_t plen)
{
	handle_command(c, cmd, c->device_id, sha, payload, plen, true);
}

static void
handle_cancel(struct core *c, const struct cmdbus_cancel *k,
	      const char *topic_device)
{
	struct journal_entry *e;
	uint64_t now = clock_now_ms(c->clock);
	struct run *r;
	char *msg;
	size_t len;

	/* An invalid, expired or misaddressed cancel is never answered: an
	 * answer would read as the result of the execution it names. */
	if (strcmp(k->device, c->device_id) != 0 ||
	    strcmp(topic_device, c->device_id) != 0) {
		drop(c, "cancel_wrong_device", k->id);
		return;
	}
	if ((k->exp < now && now - k->exp > c->clock_skew_ms) ||
	    (k->iat > now && k->iat - now > c->clock_skew_ms)) {
		drop(c, "cancel_out_of_time", k->id);
		return;
	}
	e = journal_find(&c->journal, k->id);
	if (!e) {
		/* The command may still be on its way: a tombstone answers
		 * it CANCELED when it comes, until the cancel's exp. */
		int rc = journal_tombstone(&c->journal, k->id,
					   keep_until(c, k->exp));
		log_info("cancel.unknown", "exec=%s device=%s action=%s", k->id,
			 c->device_id, rc == 0 ? "tombstone" : "ignored");
		return;
	}
	if (e->state == JREC_FINISHED) {
		log_info("cancel.finished", "exec=%s device=%s action=resend",
			 k->id, c->device_id);
		if (journal_read_msg(&c->journal, e, &msg, &len) == 0)
			core_answer(c, k->id, msg, len);
		return;
	}
	r = run_find_id(c, k->id);
	if (!r && queue_cancel(c, k->id))
		return;
	if (!r) {
		log_info("cancel.ignored", "exec=%s device=%s", k->id,
			 c->device_id);
		return;
	}
	if (!r->canceled) {
		r->canceled = true;
		log_info("cancel.running", "exec=%s device=%s pid=%ld", k->id,
			 c->device_id, r->pid);
		c->ports.terminate(c->ports.ud, r->token);
	}
}

/* A message whose signature does not verify (unsigned, unknown alg or
 * kid, bad signature, or one made for another topic kind). Its payload
 * is not trusted: only its id is read (by the envelope parser, after the
 * verification failed) to answer REJECTED/bad_signature, never
 * journaled, so a forger cannot pre-empt a genuine command's id; a
 * cancel is never answered. The answer's cmd_sha256 is the hash of the
 * refused payload, so it cannot pass for the genuine command's result
 * unless the payload is the genuine one. */
static void
refuse_signature(struct core *c, const void *data, size_t len,
		 const struct cmdbus_diag *diag)
{
	char sha[CMDBUS_SHA256_HEX + 1];
	struct cmdbus_envelope env;
	struct cmdbus_diag d2;

	c->stats.bad_signature++;
	/* The payload again, without verification, only to hash it and to
	 * tell a cancel (which is never answered) from a command. */
	memset(&d2, 0, sizeof(d2));
	if (cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, data, len, NULL, 0, &env,
				   &d2) != 0) {
		drop(c, "bad_signature", diag->message);
		return;
	}
	cmdbus_sha256_hex(env.payload, env.payload_len, sha);
	const char *why = undecodable_drop_reason(env.payload, env.payload_len);
	if (why && strcmp(why, "cancel_malformed") == 0)
		drop(c, "cancel_bad_signature", diag->id);
	else if (why)
		drop(c, "bad_signature", "type not allowed on cmd");
	else if (diag->id[0] && cmdbus_valid_id(diag->id))
		reject(c, 0, diag->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_BAD_SIGNATURE, diag->message);
	else
		drop(c, "bad_signature", "no id");
	cmdbus_envelope_fini(&env);
}

void
core_on_message(struct core *c, const char *topic, const void *data, size_t len)
{
	char tdev[CMDBUS_NAME_BUF], sha[CMDBUS_SHA256_HEX + 1];
	struct cmdbus_envelope env;
	struct cmdbus_diag diag;
	struct cmdbus_msg m;
	enum cmdbus_kind kind;
	int rc;

	c->stats.received++;
	if (len > CMDBUS_MAX_MESSAGE) {
		char n[32];
		snprintf(n, sizeof(n), "%zu bytes", len);
		drop(c, "too_large", n);
		return;
	}
	if (!topic || cmdbus_topic_parse(topic, c->prefix, tdev, &kind) != 0 ||
	    kind != CMDBUS_KIND_CMD) {
		drop(c, "topic", topic);
		return;
	}

	memset(&diag, 0, sizeof(diag));
	memset(&env, 0, sizeof(env));
	if (c->ntrusted == 0 && !c->warned_unsigned) {
		c->warned_unsigned = true;
		log_warn("agent.unsigned",
			 "device=%s reason=\"no trusted_key configured: "
			 "signatures are not checked\"",
			 c->device_id);
	}
	/* The envelope and, with trusted keys, its signature are judged
	 * before anything of the payload is parsed. */
	rc = cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, data, len, c->trusted,
				    c->ntrusted, &env, &diag);
	if (rc == -ERR_BAD_SIGNATURE) {
		refuse_signature(c, data, len, &diag);
		return;
	}
	if (rc) {
		drop(c, "envelope", diag.message);
		return;
	}
	cmdbus_sha256_hex(env.payload, env.payload_len, sha);

	memset(&m, 0, sizeof(m));
	memset(&diag, 0, sizeof(diag));
	rc = cmdbus_msg_decode(env.payload, env.payload_len, &m, &diag);
	if (rc == 0 && !cmdbus_msg_allowed_on(m.type, CMDBUS_KIND_CMD)) {
		drop(c, "type_not_allowed", cmdbus_msg_type_name(m.type));
	} else if (rc != 0) {
		char text[300];
		diag_text(&diag, text, sizeof(text));
		const char *why =
		    undecodable_drop_reason(env.payload, env.payload_len);
		if (why)
			drop(c, why, text);
		else if (diag.id[0] && cmdbus_valid_id(diag.id))
			reject(c, 0, diag.id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_MALFORMED, text);
		else
			drop(c, "malformed", text);
	} else if (m.type == CMDBUS_MSG_CANCEL) {
		handle_cancel(c, &m.u.cancel, tdev);
	} else {
		handle_command(c, &m.u.command, tdev, sha, env.payload,
			       env.payload_len, false);
	}
	if (rc == 0)
		cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
}
