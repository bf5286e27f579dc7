/* SPDX-License-Identifier: MIT */
/* Commands accepted while `max_running` processes already run: they wait
 * here, in arrival order, already acknowledged (ACCEPTED), and start when
 * a run ends, unless their exp passed meanwhile (EXPIRED) or a cancel
 * took them out (CANCELED, never run). */
#ifndef CMDBUS_AGENT_QUEUE_H
#define CMDBUS_AGENT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/action.h"
#include "cmdbus/msg.h"

struct core;

/* Everything a run needs, fixed when its command is accepted: a catalog
 * reload (SIGHUP) between acceptance and spawn must not give a queued
 * command another action's cwd, environment or limits. */
struct run_plan {
	struct cmdbus_exec_args x; /* argv (run-as helper first), env, stdin */
	char *cwd;		   /* owned; NULL for inline runs */
	bool clamped;		   /* timeout_ms was lowered */
	uint64_t timeout_ms;
	size_t max_output; /* bytes kept per stream */
};

/* Releases what p owns and zeroes it; a zeroed plan is a no-op. */
void run_plan_fini(struct run_plan *p);

/* One waiting command: what run_exec() needs, owned. */
struct queued {
	struct queued *next;
	struct cmdbus_command cmd; /* args_json is NULL */
	char sha[CMDBUS_SHA256_HEX + 1];
	struct run_plan plan;
};

/* Queues cmd, taking over *plan (left zeroed). 0 or -ENOMEM (then *plan
 * is still the caller's). */
int queue_push(struct core *c, const struct cmdbus_command *cmd,
	       const char *sha, struct run_plan *plan);
/* Starts waiting commands while fewer than max_running run. */
void queue_pump(struct core *c);
/* Takes id out of the queue, answering it CANCELED: true when it was
 * there. */
bool queue_cancel(struct core *c, const char *id);
/* Answers every waiting command LOST/interrupted (the agent stops). */
void queue_drain(struct core *c);
size_t queue_len(const struct core *c);
void queue_free(struct core *c);

#endif
