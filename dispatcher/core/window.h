/* SPDX-License-Identifier: MIT */
/* The core's side of a loop pass: writes from the broker side and the
 * sweep join one group commit; the state changes they make are told to
 * the observer only after that commit; devices whose window freed or that
 * came online are served after it too. */
#ifndef DISPATCHER_WINDOW_H
#define DISPATCHER_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* Writes from here on join the pass's group commit (until leave);
 * false when they cannot (the store has no group commit, or memory ran
 * out), and then each write commits on its own. */
bool window_join(struct core *c);
void window_leave(struct core *c);
/* Whether the pass's group commit was joined (and will be committed at
 * the pass's end). */
bool window_joined(const struct core *c);
/* A job whose creation joined the group commit: after the commit its n
 * executions (taken over; those with a payload built are published) go
 * out, and its creator is told through the observer with the job's id, no
 * execution and state QUEUED, whether the commit held or not (then the
 * job does not exist). Negative when it could not be noted: the caller
 * then commits at once (core_flush) and publishes itself. */
int window_job_created(struct core *c, const char *job, struct exec_rec *execs,
		       size_t n);
/* Whether the job's creation waits for the pass's commit. */
bool window_job_pending(const struct core *c, const char *job);
/* The store's error when the commit of a recent creation failed (the
 * last 64 are remembered), else 0. */
int window_job_failed(const struct core *c, const char *job);
/* An applied change of execution e to `to`: told after the commit. A
 * terminal one also frees a place in its device's window. */
void window_note(struct core *c, const struct exec_rec *e,
		 enum cmdbus_state to);
/* A job ended by a write of this pass (its rollout finished it): its
 * waiters are told after the commit. */
void window_job_ended(struct core *c, const char *job);
/* New live output of e was stored: its followers are told after the
 * commit, with e's state. */
void window_output(struct core *c, const struct exec_rec *e);
/* After the commit: publish the device's waiting executions into its
 * window, and when `republish`, send its unfinished ones again (it came
 * online). */
void window_device(struct core *c, const char *device, bool republish);
/* A device came back under a new boot: runs of an older boot that have
 * no answer by `deadline` are LOST (the sweep decides). */
void window_watch_boot(struct core *c, const char *device, const char *boot_id,
		       uint64_t deadline);
/* The watch of a device whose deadline has passed, or NULL; the sweep
 * takes it with window_watch_done. */
const char *window_watch_due(struct core *c, const char *device, uint64_t now);
void window_watch_done(struct core *c, uint64_t now);
void window_fini(struct core *c);

#endif
