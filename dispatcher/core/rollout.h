/* SPDX-License-Identifier: MIT */
/* Rollouts: a job's executions released a batch at a time, an optional
 * canary first, offline targets handled by policy, and an abort when
 * failures pass the threshold. Every decision is made from the database
 * (counts, held executions, the abort mark), so a restarted dispatcher
 * carries on where it was; the core keeps only the ids of the running
 * rollouts and which of them have news. */
#ifndef DISPATCHER_ROLLOUT_H
#define DISPATCHER_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdbus/rest.h"
#include "core.h"

/* The figures a job keeps: the request's rollout resolved against the
 * number of its executions (docs/protocol.md, Rollouts). */
void rollout_resolve(const struct cmdbus_rollout *req, uint64_t total,
		     struct job_rollout *out);

/* A new rollout job: tracked from now on, and due for a decision. */
void rollout_track(struct core *c, const char *job);
/* Something changed for a job (one of its executions ended, or was
 * canceled): when it is a tracked rollout, it is due for a decision. */
void rollout_touch(struct core *c, const char *job);
/* Every rollout is due (a device came online, the sweep, a reconnect);
 * the first call loads the running rollouts from the database. */
void rollout_touch_all(struct core *c);
/* Whether some rollout is due. */
bool rollout_pending(const struct core *c);
/* Decides every due rollout: aborts it when its failures say so,
 * releases what its batch allows, ends its job when nothing is left. Run
 * by core_flush after the pass's commit, within a group commit of its
 * own. */
void rollout_run(struct core *c);

/* The rollout part of a job view; v->present false for a job without
 * one. The phase string is static. */
int rollout_view(struct core *c, const struct job_rec *j,
		 struct cmdbus_rollout_view *v);

void rollout_fini(struct core *c);

#endif
