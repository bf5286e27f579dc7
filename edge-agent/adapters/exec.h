/* SPDX-License-Identifier: MIT */
/* The process adapter: starts a command with posix_spawn (never a shell)
 * in its own process group, feeds its stdin, reads stdout and stderr
 * through non-blocking pipes on the event loop, enforces the timeout
 * (SIGTERM to the group, SIGKILL after the grace) and reports the end
 * once the leader is reaped and the pipes are drained. */
#ifndef CMDBUS_AGENT_EXEC_H
#define CMDBUS_AGENT_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_core.h"
#include "common/loop.h"

/* How long the pipes may stay open after the leader exited. */
#define EXEC_DRAIN_MS 2000

struct exec;

/* Called once per started run, from the loop, when it has ended. `ex` and
 * what it points to are borrowed for the call. */
typedef void exec_done_fn(void *ud, uint64_t token, const struct core_exit *ex);

/* Takes over SIGCHLD on the loop and ignores SIGPIPE in the process
 * (children get default dispositions back). 0 and *out, or -errno. */
int exec_new(struct loop *l, uint64_t kill_grace_ms, exec_done_fn *done,
	     void *ud, struct exec **out);
/* Kills (SIGKILL) and reaps whatever still runs, without calling `done`.
 * NULL is a no-op. */
void exec_free(struct exec *ex);

/* Resolves argv[0] (on sp->search_path unless it holds a '/') and starts
 * it. 0 and *pid; or -errno with nothing started: -ENOENT when argv[0]
 * is not found, else what posix_spawn or pipe2 said. */
int exec_spawn(struct exec *ex, uint64_t token, const struct core_spawn *sp,
	       long *pid);

/* SIGTERM to the run's group, SIGKILL after the grace; no-op for an
 * unknown token or a run already being killed. */
void exec_terminate(struct exec *ex, uint64_t token);

/* Bytes read from a run spawned with `stream`, borrowed for the call. */
typedef void exec_output_fn(void *ud, uint64_t token, bool is_err,
			    const void *p, size_t n);
/* Sets the callback for streaming runs (same ud as `done`). */
void exec_set_output(struct exec *ex, exec_output_fn *fn);

/* Runs started and not yet reported. */
size_t exec_active(const struct exec *ex);

/* The start time of process pid, in clock ticks since boot (field 22 of
 * /proc/PID/stat). 0 and *start, or -errno. */
int exec_proc_start(long pid, uint64_t *start);

/* SIGKILL to process group pgid, only when process pgid exists and still
 * has start time `start` (else the id now belongs to someone else).
 * 0, -ESRCH when it is gone or another process, or -errno. */
int exec_kill_stale(long pgid, uint64_t start);

#endif
