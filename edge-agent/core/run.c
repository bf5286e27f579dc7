/* SPDX-License-Identifier: MIT */
/* Runs of accepted commands: built-ins and firmware handlers inline, exec
 * through the spawn port, and the result each one ends with, journaled
 * before it is published. */
#include "core_int.h"
#include "crashpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

static struct run *
run_find(struct core *c, uint64_t token)
{
	for (struct run *r = c->runs; r; r = r->next)
		if (r->token == token)
			return r;
	return NULL;
}

struct run *
run_find_id(struct core *c, const char *id)
{
	for (struct run *r = c->runs; r; r = r->next)
		if (strcmp(r->id, id) == 0)
			return r;
	return NULL;
}

static void
run_remove(struct core *c, struct run *dead)
{
	for (struct run **pp = &c->runs; *pp; pp = &(*pp)->next) {
		if (*pp == dead) {
			*pp = dead->next;
			live_fini(&dead->live[0]);
			live_fini(&dead->live[1]);
			free(dead);
			return;
		}
	}
}

/* The result envelope of a run, logged. */
static int
result_msg(struct core *c, const char *id, const char *sha,
	   const struct run_end *re, char **msg, size_t *len)
{
	int rc = result_build(c, id, sha, re, msg, len);

	if (rc) {
		log_error("agent.encode_failed", "exec=%s error=\"%s\"", id,
			  err_str(rc));
		return rc;
	}
	log_info("exec.finished",
		 "exec=%s device=%s state=%s exit_code=%" PRId64
		 " signal=%" PRId64 " stdout_bytes=%" PRIu64
		 " stderr_bytes=%" PRIu64,
		 id, c->device_id, cmdbus_state_name(re->state),
		 re->has_exit_code ? (int64_t)re->exit_code : -1,
		 re->has_signal ? (int64_t)re->signal : -1,
		 re->out ? re->out->total : 0, re->err ? re->err->total : 0);
	return 0;
}

/* Publishes a run's result and remembers it. */
static void
finish(struct core *c, const char *id, const char *sha,
       const struct run_end *re)
{
	char *msg = NULL;
	size_t len = 0;

	if (result_msg(c, id, sha, re, &msg, &len) == 0)
		core_finish(c, id, msg, len);
}

int
send_report(struct core *c, const char *id, const char *sha,
	    enum cmdbus_state state, long pid)
{
	char *msg = NULL;
	size_t len = 0;
	int rc = report_build(c, id, sha, state, pid, &msg, &len);

	if (rc) {
		log_error("agent.encode_failed", "exec=%s error=\"%s\"", id,
			  err_str(rc));
		return rc;
	}
	core_answer(c, id, msg, len);
	return 0;
}

int
run_inline(struct core *c, const struct cmdbus_command *cmd,
	   const struct action *a, const char *sha, const struct run_plan *p,
	   char **msg, size_t *len)
{
	struct cmdbus_agent_reply reply;
	struct run_end re;
	char *doc = NULL;
	size_t doclen = 0;
	int rc = 0;

	memset(&reply, 0, sizeof(reply));
	output_init(&reply.out, p->max_output);
	output_init(&reply.err, p->max_output);
	memset(&re, 0, sizeof(re));
	re.has_started_at = true;
	re.started_at = clock_now_ms(c->clock);
	re.clamped = p->clamped;
	re.timeout_ms = p->timeout_ms;
	c->stats.runs++;

	switch (a->kind) {
	case ACT_PING:
		rc = output_append(&reply.out, "pong", 4);
		break;
	case ACT_INFO: {
		struct cmdbus_info info;
		memset(&info, 0, sizeof(info));
		rc = c->ports.sysinfo(c->ports.ud, &info);
		if (rc == 0)
			rc = cmdbus_info_encode(&info, &doc, &doclen);
		if (rc == 0)
			rc = output_append(&reply.out, doc, doclen);
		if (rc)
			cmdbus_agent_reply_error(
			    &reply, "system information unavailable");
		rc = 0;
		break;
	}
	case ACT_HANDLER:
		rc = a->fn(cmd->args_json, &reply, a->ud);
		if ((rc < 0 || rc > 255) && !reply.error) {
			char text[64];
			snprintf(text, sizeof(text), "handler returned %d", rc);
			cmdbus_agent_reply_error(&reply, text);
		} else if (rc > 0) {
			/* The handler's return is its exit status. */
			reply.exit_code = rc;
		}
		rc = 0;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	if (rc || reply.nomem)
		cmdbus_agent_reply_error(&reply, "out of memory");

	re.has_streams = true;
	re.out = &reply.out;
	re.err = &reply.err;
	re.has_exit_code = true;
	re.exit_code = (uint64_t)reply.exit_code;
	if (reply.error) {
		re.state = CMDBUS_STATE_FAILED;
		re.error_code = CMDBUS_E_HANDLER_FAILED;
		re.error_message = reply.error;
		if (reply.exit_code == 0)
			re.has_exit_code = false;
	} else {
		re.state = reply.exit_code == 0 ? CMDBUS_STATE_SUCCEEDED
						: CMDBUS_STATE_FAILED;
	}
	rc = result_msg(c, cmd->id, sha, &re, msg, len);
	free(doc);
	free(reply.error);
	output_fini(&reply.out);
	output_fini(&reply.err);
	return rc;
}

void
run_builtin(struct core *c, const struct cmdbus_command *cmd,
	    const struct action *a, const char *sha, const struct run_plan *p)
{
	char *msg = NULL;
	size_t len = 0;

	if (run_inline(c, cmd, a, sha, p, &msg, &len) == 0)
		core_finish(c, cmd->id, msg, len);
}

/* The child's environment: PATH and LANG, then args.env merged over them. */
static char **
build_env(const struct core *c, const struct cmdbus_exec_args *x)
{
	size_t cap = 2 + x->nenv, n = 0;
	char **env = calloc(cap + 1, sizeof(char *));
	const char *keys[2] = {"PATH", "LANG"};
	const char *vals[2] = {c->exec_path, "C.UTF-8"};

	if (!env)
		return NULL;
	for (size_t i = 0; i < 2 + x->nenv; i++) {
		const char *k = i < 2 ? keys[i] : x->env[i - 2].key;
		const char *v = i < 2 ? vals[i] : x->env[i - 2].value;
		size_t klen = strlen(k), sz = klen + strlen(v) + 2;
		char *kv = malloc(sz);
		size_t slot = n;

		if (!kv)
			goto fail;
		snprintf(kv, sz, "%s=%s", k, v);
		for (size_t j = 0; j < n; j++) {
			if (strncmp(env[j], kv, klen + 1) == 0) {
				slot = j;
				break;
			}
		}
		if (slot == n)
			n++;
		else
			free(env[slot]);
		env[slot] = kv;
	}
	return env;
fail:
	for (size_t j = 0; j < n; j++)
		free(env[j]);
	free(env);
	return NULL;
}

static void
free_env(char **env)
{
	if (!env)
		return;
	for (char **p = env; *p; p++)
		free(*p);
	free(env);
}

void
run_exec(struct core *c, const struct cmdbus_command *cmd, const char *sha,
	 const struct run_plan *p)
{
	const struct cmdbus_exec_args *x = &p->x;
	struct core_spawn sp;
	struct run *r = calloc(1, sizeof(*r));
	char **env = build_env(c, x);
	long pid = -1;
	int rc;

	if (!r || !env) {
		struct run_end re;
		memset(&re, 0, sizeof(re));
		re.state = CMDBUS_STATE_FAILED;
		re.has_streams = true;
		re.error_code = CMDBUS_E_SPAWN_FAILED;
		re.error_message = "out of memory";
		free(r);
		free_env(env);
		finish(c, cmd->id, sha, &re);
		return;
	}
	r->token = c->next_token++;
	snprintf(r->id, sizeof(r->id), "%s", cmd->id);
	snprintf(r->action, sizeof(r->action), "%s", cmd->action);
	snprintf(r->sha, sizeof(r->sha), "%s", sha);
	r->clamped = p->clamped;
	r->timeout_ms = p->timeout_ms;
	r->stream = cmd->stream;
	r->max_output = p->max_output;
	r->started_at = clock_now_ms(c->clock);

	memset(&sp, 0, sizeof(sp));
	sp.id = cmd->id;
	sp.argv = x->argv;
	sp.envp = env;
	sp.search_path = c->exec_path;
	sp.cwd = p->cwd ? p->cwd : c->exec_cwd;
	sp.has_stdin = x->has_stdin;
	sp.stdin_data = x->stdin_data.data;
	sp.stdin_len = x->stdin_data.len;
	sp.max_output = p->max_output;
	sp.stream = cmd->stream;
	sp.timeout_ms = p->timeout_ms;
	c->stats.runs++;
	rc = c->ports.spawn(c->ports.ud, r->token, &sp, &pid);
	free_env(env);
	if (rc) {
		struct run_end re;
		char text[160];

		snprintf(text, sizeof(text), "%s: %s", x->argv[0], err_str(rc));
		log_warn("exec.spawn_failed",
			 "exec=%s device=%s argv0=%s error=\"%s\"", cmd->id,
			 c->device_id, x->argv[0], err_str(rc));
		memset(&re, 0, sizeof(re));
		re.state = CMDBUS_STATE_FAILED;
		re.has_streams = true;
		re.error_code = CMDBUS_E_SPAWN_FAILED;
		re.error_message = text;
		re.clamped = p->clamped;
		re.timeout_ms = p->timeout_ms;
		free(r);
		finish(c, cmd->id, sha, &re);
		return;
	}
	r->pid = pid;
	r->next = c->runs;
	c->runs = r;
	log_info("exec.running",
		 "exec=%s device=%s action=%s pid=%ld argv0=%s "
		 "timeout_ms=%" PRIu64,
		 cmd->id, c->device_id, cmd->action, pid, x->argv[0],
		 p->timeout_ms);
	/* STARTED with the leader's start time, so that an agent restarted
	 * after a crash kills this group only if it is still this process.
	 * Exactly-once does not hang on it (RECEIVED is durable already). */
	{
		uint64_t start = 0;
		if (c->ports.proc_start &&
		    c->ports.proc_start(c->ports.ud, pid, &start) != 0)
			start = 0;
		if (journal_started(&c->journal, cmd->id, pid, start) != 0)
			log_warn("journal.started_failed",
				 "exec=%s pid=%ld reason=\"a crash now would "
				 "leave its group running\"",
				 cmd->id, pid);
	}
	CRASHPOINT(c, CRASHPOINT_RUNNING, cmd->id);
	send_report(c, cmd->id, sha, CMDBUS_STATE_RUNNING, pid);
}

void
core_on_exit(struct core *c, uint64_t token, const struct core_exit *ex)
{
	struct run *r = run_find(c, token);
	struct run_end re;

	if (!r) {
		log_warn("exec.unknown_exit", "token=%" PRIu64, token);
		return;
	}
	memset(&re, 0, sizeof(re));
	re.has_started_at = true;
	re.started_at = r->started_at;
	re.clamped = r->clamped;
	re.timeout_ms = r->timeout_ms;
	if (ex->timed_out)
		re.state = CMDBUS_STATE_TIMED_OUT;
	else if (r->canceled)
		re.state = CMDBUS_STATE_CANCELED;
	else
		re.state = CMDBUS_STATE_COUNT;
	if (r->interrupted && re.state == CMDBUS_STATE_COUNT) {
		/* Cut short by the agent's own shutdown: the run did not end
		 * on its own terms, so it is reported as lost. */
		re.state = CMDBUS_STATE_LOST;
		re.has_started_at = false;
		re.error_code = CMDBUS_E_INTERRUPTED;
		re.error_message = "the agent shut down during the run";
	} else {
		re.has_streams = true;
		re.out = ex->out;
		re.err = ex->err;
		result_from_wait(ex->wait_status, &re);
	}
	/* Chunks still held go before the result that ends them. */
	stream_flush(c, r, true);
	finish(c, r->id, r->sha, &re);
	run_remove(c, r);
	queue_pump(c);
}

void
core_quiesce(struct core *c)
{
	c->stopping = true;
	queue_drain(c);
}

void
core_shutdown(struct core *c)
{
	core_quiesce(c);
	for (struct run *r = c->runs; r; r = r->next) {
		if (r->interrupted)
			continue;
		r->interrupted = true;
		log_info("exec.interrupt", "exec=%s device=%s pid=%ld", r->id,
			 c->device_id, r->pid);
		c->ports.terminate(c->ports.ud, r->token);
	}
}
