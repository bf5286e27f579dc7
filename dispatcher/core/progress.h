/* SPDX-License-Identifier: MIT */
/* Progress coalescing. While a loop pass's group commit is open, an
 * execution's progress (PUBLISHED, DELIVERED, RUNNING) is kept in memory
 * and written once: at the end of the pass, or not at all when its end
 * comes in the same pass and is written with it. A report and a result
 * that arrive together then cost one write instead of three. Whoever
 * decides on an execution in the pass reads it through progress_view. */
#ifndef DISPATCHER_PROGRESS_H
#define DISPATCHER_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"

/* Shows e (just read from the store, whose state is e->state) with the
 * pass's pending progress: state, published_at and boot_id. A pending
 * change the stored state has overtaken is dropped. */
void progress_view(struct core *c, struct exec_rec *e);

/* Keeps the change of e (seen through progress_view; `stored` is the
 * state the store holds) to `to`, a non-terminal state, at `at`;
 * `published` says it went out (published_at becomes `at` unless set),
 * boot_id (or NULL) is the agent run that reported it. 0 when kept for
 * the pass's end; negative when the pass has no group commit (or memory
 * ran out): the caller writes the change itself. */
int progress_note(struct core *c, const struct exec_rec *e,
		  enum cmdbus_state stored, enum cmdbus_state to, uint64_t at,
		  bool published, const char *boot_id);

/* The broker acknowledged the command of `id`, which the store holds as
 * QUEUED unless a pending change says more: PUBLISHED at `at`. Same
 * return as progress_note. */
int progress_published(struct core *c, const char *id, uint64_t at);

/* Forgets the pending progress of `id` (its end was written). */
void progress_drop(struct core *c, const char *id);

/* Writes every pending change into the group commit (each from the state
 * the store held, so a change someone else made first wins) and forgets
 * them. Before the pass's commit, and before the sweep reads. */
void progress_flush(struct core *c);

void progress_fini(struct core *c);

#endif
