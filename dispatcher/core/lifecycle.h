/* SPDX-License-Identifier: MIT */
/* The execution state machine: states are ranked, an execution only moves
 * up in rank, a terminal state never changes, and a job is finished when
 * all its executions are. Pure functions, no I/O. */
#ifndef DISPATCHER_LIFECYCLE_H
#define DISPATCHER_LIFECYCLE_H

#include <stdint.h>

#include "cmdbus/proto.h"
#include "cmdbus/rest.h"

enum lc_verdict {
	LC_APPLY, /* move to the new state */
	LC_SAME,  /* already there: a duplicate, nothing changes */
	LC_STALE, /* older news than the current state: nothing changes */
	LC_LATE,  /* a result for a finished execution: counted only */
};

/* The rank of a state as the dispatcher orders them: QUEUED < PUBLISHED
 * < DELIVERED (= a report ACCEPTED) < RUNNING < every terminal state. */
int lifecycle_rank(enum cmdbus_state s);

/* What the dispatcher shows for a report's state: ACCEPTED becomes
 * DELIVERED; RUNNING stays. */
enum cmdbus_state lifecycle_from_report(enum cmdbus_state reported);

/* Decides what news of state `next` (a PUBACK, a report or a result)
 * does to an execution now in state `cur`. */
enum lc_verdict lifecycle_decide(enum cmdbus_state cur, enum cmdbus_state next);

/* A job's state from the number of its executions in each state:
 * RUNNING while any is unfinished, then COMPLETED. */
enum cmdbus_job_state
lifecycle_job_state(const uint64_t counts[CMDBUS_STATE_COUNT]);

#endif
