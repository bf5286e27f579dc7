/* SPDX-License-Identifier: MIT */
/* Builds the agent's answers: reports, and results whose streams keep
 * their first and last halves, shrunk further in the middle when the
 * whole envelope would not fit the message limit. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/err.h"

void
result_from_wait(int st, struct run_end *re)
{
	bool decide = re->state == CMDBUS_STATE_COUNT;

	if (WIFEXITED(st)) {
		re->has_exit_code = true;
		re->exit_code = (uint64_t)WEXITSTATUS(st);
		if (decide)
			re->state = re->exit_code == 0 ? CMDBUS_STATE_SUCCEEDED
						       : CMDBUS_STATE_FAILED;
	} else if (WIFSIGNALED(st)) {
		re->has_signal = true;
		re->signal = (uint64_t)WTERMSIG(st);
		if (decide)
			re->state = CMDBUS_STATE_FAILED;
	} else if (decide) {
		re->state = CMDBUS_STATE_FAILED;
	}
}

static int
stream_fill(struct cmdbus_stream *s, const struct output *o)
{
	if (o)
		return output_take(o, s);
	s->kept.data = calloc(1, 1);
	s->kept.len = 0;
	s->truncated = false;
	s->bytes = 0;
	return s->kept.data ? 0 : -ENOMEM;
}

static int
encode_wrapped(const struct core *c, const struct cmdbus_msg *m,
	       enum cmdbus_kind kind, char **msg, size_t *len)
{
	char *payload = NULL;
	size_t plen = 0;
	int rc = cmdbus_msg_encode(m, &payload, &plen);

	if (rc)
		return rc;
	rc = cmdbus_envelope_wrap(kind, payload, plen, c->sign_key, msg, len);
	free(payload);
	return rc;
}

int
result_build(const struct core *c, const char *id, const char *sha,
	     const struct run_end *re, char **msg, size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_result *r = &m.u.result;
	int rc = 0;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_RESULT;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device, sizeof(r->device), "%s", c->device_id);
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", c->boot_id);
	snprintf(r->cmd_sha256, sizeof(r->cmd_sha256), "%s", sha);
	r->state = re->state;
	r->has_exit_code = re->has_exit_code;
	r->exit_code = re->exit_code;
	r->has_signal = re->has_signal;
	r->signal = re->signal;
	r->has_started_at = re->has_started_at;
	r->started_at = re->started_at;
	r->finished_at = clock_now_ms(c->clock);
	if (r->has_started_at && r->finished_at < r->started_at)
		r->finished_at = r->started_at;
	r->has_clamped_timeout_ms = re->clamped;
	r->clamped_timeout_ms = re->timeout_ms;
	if (re->error_code) {
		r->has_error = true;
		snprintf(r->error_code, sizeof(r->error_code), "%s",
			 re->error_code);
		r->error_message =
		    strdup(re->error_message ? re->error_message : "");
		if (!r->error_message)
			rc = -ENOMEM;
	}
	if (rc == 0 && re->has_streams) {
		r->has_streams = true;
		rc = stream_fill(&r->out, re->out);
		if (rc == 0)
			rc = stream_fill(&r->err, re->err);
	}
	/* Text escaping can grow a stream up to six times over, and the
	 * envelope escapes the payload once more: shrink the kept middle
	 * until the message fits, as the contract asks. */
	for (int tries = 0; rc == 0; tries++) {
		rc = encode_wrapped(c, &m, CMDBUS_KIND_RESULT, msg, len);
		if (rc != -ERR_TOO_LARGE || !r->has_streams || tries > 64)
			break;
		if (r->out.kept.len == 0 && r->err.kept.len == 0)
			break;
		output_stream_shrink(&r->out, r->out.kept.len * 3 / 4);
		output_stream_shrink(&r->err, r->err.kept.len * 3 / 4);
		rc = 0;
	}
	cmdbus_msg_fini(&m);
	return rc;
}

int
report_build(const struct core *c, const char *id, const char *sha,
	     enum cmdbus_state state, long pid, char **msg, size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_report *r = &m.u.report;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_REPORT;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device, sizeof(r->device), "%s", c->device_id);
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", c->boot_id);
	snprintf(r->cmd_sha256, sizeof(r->cmd_sha256), "%s", sha);
	r->state = state;
	r->at = clock_now_ms(c->clock);
	if (pid >= 0) {
		r->has_pid = true;
		r->pid = (uint64_t)pid;
	}
	return encode_wrapped(c, &m, CMDBUS_KIND_RESULT, msg, len);
}
