/* SPDX-License-Identifier: MIT */
/* The check pipeline of the contract ("Checks before execution"), in its
 * order and failing closed: size, envelope, signature, payload schema,
 * device, seen-table, clock, action, arguments; then ACCEPTED and the run
 * (run.c). Every answer is remembered so a duplicate is answered from
 * memory and never runs twice in this process. */
#include "core_int.h"

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
	int rc;

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
	c->max_timeout_ms =
	    cfg->max_timeout_ms ? cfg->max_timeout_ms : CMDBUS_MAX_INT;
	c->clock_skew_ms = cfg->clock_skew_ms;
	c->trusted = cfg->trusted;
	c->ntrusted = cfg->ntrusted;
	c->clock = cfg->clock;
	c->ports = *ports;
	c->next_token = 1;
	rc = 0;
	if (!c->device_id || !c->prefix || !c->boot_id || !c->exec_path ||
	    !c->exec_cwd)
		rc = -ENOMEM;
	if (rc == 0)
		rc = copy_labels(c, cfg, err, errlen);
	if (rc == 0)
		rc = registry_init(c);
	if (rc == 0)
		rc = seen_init(
		    &c->seen, cfg->seen_cap ? cfg->seen_cap : CORE_SEEN_CAP,
		    cfg->seen_budget ? cfg->seen_budget : CORE_SEEN_BUDGET);
	if (rc) {
		if (rc == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		core_free(c);
		return rc;
	}
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
		free(r);
	}
	seen_fini(&c->seen);
	registry_fini(c);
	free_labels(c);
	free(c->device_id);
	free(c->prefix);
	free(c->boot_id);
	free(c->exec_path);
	free(c->exec_cwd);
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

/* Stores an answer in the seen-table (when e is given) and publishes it. */
void
core_answer(struct core *c, struct seen_entry *e, const char *id, char *msg,
	    size_t len, bool done)
{
	if (e && seen_set(&c->seen, e, msg, len, done) != 0)
		log_error("agent.nomem", "exec=%s what=seen", id);
	core_publish(c, id, msg, len);
	free(msg);
}

/* A REJECTED or EXPIRED answer; remembered when e is given. */
static void
reject(struct core *c, struct seen_entry *e, const char *id, const char *sha,
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
		if (e)
			e->state = SEEN_FORGOTTEN;
		return;
	}
	core_answer(c, e, id, msg, len, true);
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

/* Whether an undecodable payload names itself a cancel: such a message
 * must never be answered, since an answer would read as the result of the
 * execution it names. A plain scan, tolerant of whitespace. */
static bool
looks_like_cancel(const char *p, size_t len)
{
	static const char key[] = "\"type\"";
	const char *end = p + len;

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
		if ((size_t)(end - q) >= 8 && memcmp(q, "\"cancel\"", 8) == 0)
			return true;
	}
	return false;
}

/* ---- commands ---- */

static void
handle_command(struct core *c, const struct cmdbus_command *cmd,
	       const char *topic_device, const char *sha)
{
	const struct action *a;
	struct seen_entry *e;
	struct cmdbus_exec_args x;
	uint64_t now, timeout_ms;
	size_t max_output;
	bool clamped = false;

	if (strcmp(cmd->device, c->device_id) != 0 ||
	    strcmp(topic_device, c->device_id) != 0) {
		char text[200];
		snprintf(text, sizeof(text),
			 "addressed to '%s' on the topic of '%s', this is '%s'",
			 cmd->device, topic_device, c->device_id);
		reject(c, NULL, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_WRONG_DEVICE, text);
		return;
	}

	e = seen_find(&c->seen, cmd->id);
	if (e) {
		c->stats.duplicates++;
		if (e->msg) {
			log_info("cmd.duplicate", "exec=%s device=%s state=%s",
				 cmd->id, c->device_id,
				 e->state == SEEN_DONE ? "done" : "running");
			core_publish(c, cmd->id, e->msg, e->len);
		} else {
			log_warn("cmd.duplicate_forgotten",
				 "exec=%s device=%s reason=\"stored answer "
				 "dropped; not run again\"",
				 cmd->id, c->device_id);
		}
		return;
	}
	if (c->stopping) {
		reject(c, NULL, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_JOURNAL_UNAVAILABLE,
		       "the agent is shutting down; retry later");
		return;
	}
	e = seen_add(&c->seen, cmd->id);
	if (!e) {
		reject(c, NULL, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_JOURNAL_UNAVAILABLE,
		       "too many executions in progress; retry later");
		return;
	}

	now = clock_now_ms(c->clock);
	if (cmd->exp < now && now - cmd->exp > c->clock_skew_ms) {
		reject(c, e, cmd->id, sha, CMDBUS_STATE_EXPIRED,
		       CMDBUS_E_EXPIRED, "exp has passed");
		return;
	}
	if (cmd->iat > now && cmd->iat - now > c->clock_skew_ms) {
		reject(c, e, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_NOT_YET_VALID, "iat is in the future");
		return;
	}

	a = registry_find(c, cmd->action);
	if (!a) {
		reject(c, e, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_UNKNOWN_ACTION, "no such action");
		return;
	}
	if (a->kind == ACT_SHELL || (a->kind == ACT_EXEC && !c->exec_enabled)) {
		reject(c, e, cmd->id, sha, CMDBUS_STATE_REJECTED,
		       CMDBUS_E_ACTION_DISABLED,
		       "action is disabled on this agent");
		return;
	}

	memset(&x, 0, sizeof(x));
	if (a->kind == ACT_EXEC) {
		struct cmdbus_diag d;
		memset(&d, 0, sizeof(d));
		if (cmdbus_exec_args_decode(cmd->args_json, &x, &d) != 0) {
			char text[300];
			args_diag_text(d.field, d.message, text, sizeof(text));
			cmdbus_exec_args_fini(&x);
			reject(c, e, cmd->id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_BAD_ARGS, text);
			return;
		}
	} else if (a->kind == ACT_HANDLER) {
		char field[96], why[160], text[300];
		if (registry_check_args(a, cmd->args_json, field, sizeof(field),
					why, sizeof(why)) != 0) {
			args_diag_text(field, why, text, sizeof(text));
			reject(c, e, cmd->id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_BAD_ARGS, text);
			return;
		}
	}

	timeout_ms = cmd->timeout_ms;
	if (timeout_ms > c->max_timeout_ms) {
		timeout_ms = c->max_timeout_ms;
		clamped = true;
	}
	max_output = cmd->max_output > CMDBUS_MAX_OUTPUT
			 ? CMDBUS_MAX_OUTPUT
			 : (size_t)cmd->max_output;
	if (max_output < 1)
		max_output = 1;

	log_info("cmd.accepted", "exec=%s job=%s device=%s action=%s", cmd->id,
		 cmd->job, c->device_id, cmd->action);
	if (send_report(c, e, cmd->id, sha, CMDBUS_STATE_ACCEPTED, -1) != 0) {
		cmdbus_exec_args_fini(&x);
		e->state = SEEN_FORGOTTEN;
		return;
	}
	if (a->kind == ACT_EXEC)
		run_exec(c, cmd, &x, sha, clamped, timeout_ms, max_output);
	else
		run_builtin(c, cmd, a, sha, clamped, timeout_ms, max_output);
	cmdbus_exec_args_fini(&x);
}

static void
handle_cancel(struct core *c, const struct cmdbus_cancel *k,
	      const char *topic_device)
{
	struct seen_entry *e;
	uint64_t now = clock_now_ms(c->clock);
	struct run *r;

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
	e = seen_find(&c->seen, k->id);
	if (!e) {
		/* Tombstones for unknown ids need the journal: a later
		 * milestone. */
		log_info("cancel.unknown", "exec=%s device=%s action=ignored",
			 k->id, c->device_id);
		return;
	}
	if (e->state == SEEN_DONE) {
		log_info("cancel.finished", "exec=%s device=%s action=resend",
			 k->id, c->device_id);
		core_publish(c, k->id, e->msg, e->len);
		return;
	}
	r = run_find_id(c, k->id);
	if (e->state != SEEN_ACTIVE || !r) {
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

void
core_on_message(struct core *c, const char *topic, const void *data, size_t len)
{
	char tdev[CMDBUS_NAME_BUF], sha[CMDBUS_SHA256_HEX + 1];
	struct cmdbus_envelope env;
	struct cmdbus_diag diag;
	struct cmdbus_msg m;
	enum cmdbus_kind kind;
	bool sig_ok = true;
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
	rc = cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, data, len, NULL, 0, &env,
				    &diag);
	if (rc) {
		drop(c, "envelope", diag.message);
		return;
	}
	cmdbus_sha256_hex(env.payload, env.payload_len, sha);
	if (c->ntrusted > 0) {
		sig_ok = cmdbus_verify(&env, CMDBUS_KIND_CMD, c->trusted,
				       c->ntrusted) == 0;
	} else if (!c->warned_unsigned) {
		c->warned_unsigned = true;
		log_warn("agent.unsigned",
			 "device=%s reason=\"no trusted_key configured: "
			 "signatures are not checked\"",
			 c->device_id);
	}

	memset(&m, 0, sizeof(m));
	memset(&diag, 0, sizeof(diag));
	rc = cmdbus_msg_decode(env.payload, env.payload_len, &m, &diag);
	if (rc == 0 && !cmdbus_msg_allowed_on(m.type, CMDBUS_KIND_CMD)) {
		drop(c, "type_not_allowed", cmdbus_msg_type_name(m.type));
	} else if (!sig_ok) {
		const char *id = rc == 0 ? m.u.command.id : diag.id;
		if ((rc == 0 && m.type == CMDBUS_MSG_CANCEL) ||
		    (rc != 0 &&
		     looks_like_cancel(env.payload, env.payload_len)))
			drop(c, "cancel_bad_signature", id);
		else if (id[0] && cmdbus_valid_id(id))
			reject(c, NULL, id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_BAD_SIGNATURE,
			       "unsigned, unknown key or bad signature");
		else
			drop(c, "bad_signature", "no id");
	} else if (rc != 0) {
		char text[300];
		diag_text(&diag, text, sizeof(text));
		if (looks_like_cancel(env.payload, env.payload_len))
			drop(c, "cancel_malformed", text);
		else if (diag.id[0] && cmdbus_valid_id(diag.id))
			reject(c, NULL, diag.id, sha, CMDBUS_STATE_REJECTED,
			       CMDBUS_E_MALFORMED, text);
		else
			drop(c, "malformed", text);
	} else if (m.type == CMDBUS_MSG_CANCEL) {
		handle_cancel(c, &m.u.cancel, tdev);
	} else {
		handle_command(c, &m.u.command, tdev, sha);
	}
	if (rc == 0)
		cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
}
