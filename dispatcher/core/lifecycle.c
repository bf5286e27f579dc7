/* SPDX-License-Identifier: MIT */
/* The execution state machine. Ordering of MQTT messages is never relied
 * on: a report that arrives after the result, or a PUBACK after the
 * agent's first report, ranks lower and changes nothing. */
#include "lifecycle.h"

#include <stdbool.h>

int
lifecycle_rank(enum cmdbus_state s)
{
	switch (s) {
	case CMDBUS_STATE_QUEUED:
		return 0;
	case CMDBUS_STATE_PUBLISHED:
		return 1;
	case CMDBUS_STATE_DELIVERED:
	case CMDBUS_STATE_ACCEPTED:
		return 2;
	case CMDBUS_STATE_RUNNING:
		return 3;
	default:
		/* Every terminal state ranks the same: the first one wins. */
		return 4;
	}
}

enum cmdbus_state
lifecycle_from_report(enum cmdbus_state reported)
{
	return reported == CMDBUS_STATE_ACCEPTED ? CMDBUS_STATE_DELIVERED
						 : reported;
}

enum lc_verdict
lifecycle_decide(enum cmdbus_state cur, enum cmdbus_state next)
{
	next = lifecycle_from_report(next);
	if (cmdbus_state_is_terminal(cur)) {
		if (cmdbus_state_is_terminal(next))
			return LC_LATE;
		return LC_STALE;
	}
	int rc = lifecycle_rank(cur), rn = lifecycle_rank(next);
	if (rn > rc)
		return LC_APPLY;
	if (rn == rc)
		return LC_SAME;
	return LC_STALE;
}

enum cmdbus_job_state
lifecycle_job_state(const uint64_t counts[CMDBUS_STATE_COUNT])
{
	for (int s = 0; s < CMDBUS_STATE_COUNT; s++) {
		if (counts[s] > 0 &&
		    !cmdbus_state_is_terminal((enum cmdbus_state)s))
			return CMDBUS_JOB_RUNNING;
	}
	return CMDBUS_JOB_COMPLETED;
}
