/* SPDX-License-Identifier: MIT */
/* Crash points: named places in a command's life where a test build of
 * the agent can be made to die (tests/faults, the crash-point tests), so
 * that recovery from a crash at exactly that place is tested. Built with
 * CMDBUS_CRASHPOINTS they call the core's crashpoint port; without it
 * they compile to nothing, so a release agent holds no trace of them. */
#ifndef CMDBUS_AGENT_CRASHPOINT_H
#define CMDBUS_AGENT_CRASHPOINT_H

/* The points, in the order a spawned run passes them. */
/* The command passed every check; nothing about it is durable yet. */
#define CRASHPOINT_RECEIVED "received"
/* Its RECEIVED record is durable; ACCEPTED not published, nothing run. */
#define CRASHPOINT_JOURNALED "journaled"
/* The process is spawned and its STARTED record written. */
#define CRASHPOINT_RUNNING "running"
/* Its FINISHED record is durable; the result is not published yet. */
#define CRASHPOINT_FINISHED "finished"

#ifdef CMDBUS_CRASHPOINTS
/* c is a struct core * (core_int.h). */
#define CRASHPOINT(c, point, id)                                               \
	do {                                                                   \
		if ((c)->ports.crashpoint)                                     \
			(c)->ports.crashpoint((c)->ports.ud, (point), (id));   \
	} while (0)
#else
#define CRASHPOINT(c, point, id)                                               \
	do {                                                                   \
	} while (0)
#endif

#endif
