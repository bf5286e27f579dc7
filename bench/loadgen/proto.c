/* SPDX-License-Identifier: MIT */
/* The messages of a simulated device, encoded and decoded by
 * libcmdbus-schema: this program writes no protocol JSON by hand. */
#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "common/clock.h"
#include "lg.h"

int
proto_decode(const char *device, const void *msg, size_t len,
	     struct proto_in *in)
{
	struct cmdbus_envelope env;
	struct cmdbus_msg m;
	int rc = -1;

	if (cmdbus_envelope_unwrap(CMDBUS_KIND_CMD, msg, len, NULL, 0, &env,
				   NULL) != 0)
		return -1;
	if (cmdbus_msg_decode(env.payload, env.payload_len, &m, NULL) != 0) {
		cmdbus_envelope_fini(&env);
		return -1;
	}
	memset(in, 0, sizeof(*in));
	if (m.type == CMDBUS_MSG_COMMAND &&
	    strcmp(m.u.command.device, device) == 0) {
		in->kind = PROTO_COMMAND;
		memcpy(in->id, m.u.command.id, sizeof(in->id));
		memcpy(in->action, m.u.command.action, sizeof(in->action));
		in->iat = m.u.command.iat;
		in->exp = m.u.command.exp;
		rc = 0;
	} else if (m.type == CMDBUS_MSG_CANCEL &&
		   strcmp(m.u.cancel.device, device) == 0) {
		in->kind = PROTO_CANCEL;
		memcpy(in->id, m.u.cancel.id, sizeof(in->id));
		in->iat = m.u.cancel.iat;
		in->exp = m.u.cancel.exp;
		rc = 0;
	}
	if (rc == 0)
		cmdbus_sha256_hex(env.payload, env.payload_len, in->sha);
	cmdbus_msg_fini(&m);
	cmdbus_envelope_fini(&env);
	return rc;
}

/* Encodes m (whose pointers the caller owns) and wraps it unsigned. */
static int
wrap(const struct cmdbus_msg *m, enum cmdbus_kind kind, char **out, size_t *len)
{
	char *payload = NULL;
	size_t plen = 0;
	int rc = cmdbus_msg_encode(m, &payload, &plen);

	if (rc)
		return rc;
	rc = cmdbus_envelope_wrap(kind, payload, plen, NULL, out, len);
	free(payload);
	return rc;
}

int
proto_status(const char *device, const char *boot_id, bool online,
	     const struct lg_agents_opts *o, char **out, size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_status *s = &m.u.status;
	struct cmdbus_label labels[LG_MAX_LABELS];
	struct cmdbus_action_desc acts[2];

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_STATUS;
	snprintf(s->device, sizeof(s->device), "%s", device);
	snprintf(s->boot_id, sizeof(s->boot_id), "%s", boot_id);
	s->online = online;
	if (online) {
		snprintf(s->agent, sizeof(s->agent), "cmdbus-loadgen/%s",
			 CMDBUS_VERSION);
		s->at = clock_now_ms(&clock_system);
		for (size_t i = 0; i < o->nlabels; i++) {
			labels[i].key = o->label_keys[i];
			labels[i].value = o->label_values[i];
		}
		s->labels = labels;
		s->nlabels = o->nlabels;
		memset(acts, 0, sizeof(acts));
		snprintf(acts[0].name, sizeof(acts[0].name), "ping");
		snprintf(acts[1].name, sizeof(acts[1].name), "exec");
		s->actions = acts;
		s->nactions = 2;
	}
	/* The arrays are the caller's (on the stack): no cmdbus_msg_fini. */
	return wrap(&m, CMDBUS_KIND_STATUS, out, len);
}

int
proto_report(const char *device, const char *boot_id, const char *id,
	     const char *sha, enum cmdbus_state st, uint64_t pid, char **out,
	     size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_report *r = &m.u.report;

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_REPORT;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device, sizeof(r->device), "%s", device);
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", boot_id);
	snprintf(r->cmd_sha256, sizeof(r->cmd_sha256), "%s", sha);
	r->state = st;
	r->at = clock_now_ms(&clock_system);
	if (st == CMDBUS_STATE_RUNNING) {
		r->has_pid = true;
		r->pid = pid;
	}
	return wrap(&m, CMDBUS_KIND_RESULT, out, len);
}

int
proto_result(const char *device, const char *boot_id, const char *id,
	     const char *sha, enum cmdbus_state st, const char *out_text,
	     uint64_t started, uint64_t finished, const char *error_code,
	     char **out, size_t *len)
{
	struct cmdbus_msg m;
	struct cmdbus_result *r = &m.u.result;
	char empty[1] = "";
	char outbuf[16], msgbuf[40];

	memset(&m, 0, sizeof(m));
	m.type = CMDBUS_MSG_RESULT;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->device, sizeof(r->device), "%s", device);
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", boot_id);
	snprintf(r->cmd_sha256, sizeof(r->cmd_sha256), "%s", sha);
	r->state = st;
	r->finished_at = finished;
	if (error_code) {
		r->has_error = true;
		snprintf(r->error_code, sizeof(r->error_code), "%s",
			 error_code);
		snprintf(msgbuf, sizeof(msgbuf), "%s", error_code);
		r->error_message = msgbuf;
	} else {
		snprintf(outbuf, sizeof(outbuf), "%s",
			 out_text ? out_text : "");
		r->has_streams = true;
		r->out.kept.data = outbuf;
		r->out.kept.len = strlen(outbuf);
		r->out.bytes = r->out.kept.len;
		r->err.kept.data = empty;
		r->err.kept.len = 0;
		if (st == CMDBUS_STATE_SUCCEEDED) {
			r->has_exit_code = true;
			r->exit_code = 0;
		}
		if (started) {
			r->has_started_at = true;
			r->started_at = started;
		}
	}
	return wrap(&m, CMDBUS_KIND_RESULT, out, len);
}
