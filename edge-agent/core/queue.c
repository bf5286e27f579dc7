/* SPDX-License-Identifier: MIT */
/* The wait list in front of max_running: first in, first out, with the
 * exp checked again when a command leaves it, since it may have waited
 * past it. */
#include "core_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

void
run_plan_fini(struct run_plan *p)
{
	cmdbus_exec_args_fini(&p->x);
	free(p->cwd);
	memset(p, 0, sizeof(*p));
}

int
queue_push(struct core *c, const struct cmdbus_command *cmd, const char *sha,
	   struct run_plan *plan)
{
	struct queued *q = calloc(1, sizeof(*q)), **pp;

	if (!q)
		return -ENOMEM;
	q->cmd = *cmd;
	q->cmd.args_json = NULL;
	snprintf(q->sha, sizeof(q->sha), "%s", sha);
	q->plan = *plan;
	memset(plan, 0, sizeof(*plan));
	for (pp = &c->queue; *pp; pp = &(*pp)->next)
		;
	*pp = q;
	log_info("cmd.queued", "exec=%s device=%s running=%zu waiting=%zu",
		 cmd->id, c->device_id, core_running(c), queue_len(c));
	return 0;
}

static void
q_free(struct queued *q)
{
	run_plan_fini(&q->plan);
	free(q);
}

/* A result for a command that never ran: EXPIRED, CANCELED or LOST. */
static void
end_unrun(struct core *c, const struct queued *q, enum cmdbus_state state)
{
	struct run_end re;
	char *msg = NULL;
	size_t len = 0;

	memset(&re, 0, sizeof(re));
	re.state = state;
	re.clamped = q->plan.clamped;
	re.timeout_ms = q->plan.timeout_ms;
	if (state == CMDBUS_STATE_EXPIRED) {
		re.error_code = CMDBUS_E_EXPIRED;
		re.error_message = "exp passed while it waited to run";
	} else if (state == CMDBUS_STATE_LOST) {
		re.error_code = CMDBUS_E_INTERRUPTED;
		re.error_message = "the agent shut down before it could run";
	} else {
		re.has_streams = true; /* empty: nothing ran */
	}
	if (result_build(c, q->cmd.id, q->sha, &re, &msg, &len) == 0)
		core_finish(c, q->cmd.id, msg, len);
}

void
queue_pump(struct core *c)
{
	while (c->queue && !c->stopping && core_running(c) < c->max_running) {
		struct queued *q = c->queue;
		uint64_t now = clock_now_ms(c->clock);

		c->queue = q->next;
		if (now > q->cmd.exp && now - q->cmd.exp > c->clock_skew_ms) {
			log_info("cmd.expired_in_queue", "exec=%s device=%s",
				 q->cmd.id, c->device_id);
			end_unrun(c, q, CMDBUS_STATE_EXPIRED);
		} else {
			run_exec(c, &q->cmd, q->sha, &q->plan);
		}
		q_free(q);
	}
}

bool
queue_cancel(struct core *c, const char *id)
{
	for (struct queued **pp = &c->queue; *pp; pp = &(*pp)->next) {
		struct queued *q = *pp;
		if (strcmp(q->cmd.id, id) != 0)
			continue;
		*pp = q->next;
		log_info("cancel.queued", "exec=%s device=%s", id,
			 c->device_id);
		end_unrun(c, q, CMDBUS_STATE_CANCELED);
		q_free(q);
		return true;
	}
	return false;
}

void
queue_drain(struct core *c)
{
	while (c->queue) {
		struct queued *q = c->queue;
		c->queue = q->next;
		end_unrun(c, q, CMDBUS_STATE_LOST);
		q_free(q);
	}
}

size_t
queue_len(const struct core *c)
{
	size_t n = 0;

	for (const struct queued *q = c->queue; q; q = q->next)
		n++;
	return n;
}

void
queue_free(struct core *c)
{
	while (c->queue) {
		struct queued *q = c->queue;
		c->queue = q->next;
		q_free(q);
	}
}
