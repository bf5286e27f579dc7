/* SPDX-License-Identifier: MIT */
/* The agent's core: every decision about a command, from the checks of
 * the contract to the result it gets, with no I/O of its own. It reaches
 * the outside through `struct core_ports` (publish, spawn, terminate,
 * sysinfo) and a `struct clock`, which tests replace with fakes. */
#ifndef CMDBUS_AGENT_CORE_H
#define CMDBUS_AGENT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/action.h"
#include "cmdbus/agent.h"
#include "cmdbus/envelope.h"
#include "cmdbus/msg.h"
#include "cmdbus/proto.h"
#include "common/clock.h"

#include "journal.h"
#include "output.h"

/* Ids are remembered until exp + clock skew + this margin. */
#define CORE_KEEP_MARGIN_MS (10u * 60 * 1000)

struct core;

/* What the core asks the exec adapter to start. Everything is borrowed for
 * the duration of the spawn call. */
struct core_spawn {
	const char *id;		 /* execution id, for logs */
	char *const *argv;	 /* NULL-terminated, argc >= 1 */
	char *const *envp;	 /* NULL-terminated, complete environment */
	const char *search_path; /* where argv[0] without '/' is looked up */
	const char *cwd;
	const void *stdin_data; /* with has_stdin; else stdin is /dev/null */
	size_t stdin_len;
	bool has_stdin;
	size_t max_output;   /* bytes kept per stream */
	bool stream;	     /* hand bytes read to core_on_output() too */
	uint64_t timeout_ms; /* counted from the spawn */
};

/* How a spawned run ended, handed back through core_on_exit(). */
struct core_exit {
	int wait_status;	  /* as waitpid(2) gives it */
	bool timed_out;		  /* the adapter killed it at timeout_ms */
	const struct output *out; /* borrowed for the call */
	const struct output *err;
};

struct core_ports {
	/* Publishes a finished envelope on this device's topic of `kind`
	 * (result or status) at QoS 1. 0 or a negative code. */
	int (*publish)(void *ud, enum cmdbus_kind kind, const char *msg,
		       size_t len, bool retain);
	/* Starts a process; the run is known by `token` from then on, and
	 * its end comes through core_on_exit(). 0 and *pid, or -errno when
	 * nothing started (then core_on_exit() is never called). */
	int (*spawn)(void *ud, uint64_t token, const struct core_spawn *sp,
		     long *pid);
	/* SIGTERM to the run's process group, SIGKILL after the grace. */
	void (*terminate)(void *ud, uint64_t token);
	/* Fills the `info` document; strings stay valid until the next
	 * call. 0 or a negative code. */
	int (*sysinfo)(void *ud, struct cmdbus_info *info);
	/* The start time of process pid (/proc/PID/stat field 22), so a
	 * later process cannot be mistaken for it. 0 or a negative code.
	 * May be NULL. */
	int (*proc_start)(void *ud, long pid, uint64_t *start);
	/* SIGKILL to the process group pgid left by an earlier agent, only
	 * when its leader pgid still has start time `start`. May be NULL. */
	void (*kill_stale)(void *ud, long pgid, uint64_t start);
#ifdef CMDBUS_CRASHPOINTS
	/* Test builds only (crashpoint.h): the crash point `point` of
	 * execution `id` is reached; the port may kill the process there.
	 * May be NULL. */
	void (*crashpoint)(void *ud, const char *point, const char *id);
#endif
	void *ud;
};

struct core_config {
	const char *device_id;
	const char *prefix;
	const char *boot_id;
	const char *const *labels; /* "key=value" */
	size_t nlabels;
	bool exec_enabled;
	bool shell_enabled;
	const char *runas_helper; /* NULL: no catalog action may set user */
	const char *exec_path;
	const char *exec_cwd;
	uint64_t max_timeout_ms;
	uint64_t clock_skew_ms;
	/* Borrowed; must outlive the core. */
	const struct cmdbus_key *const *trusted;
	size_t ntrusted;
	/* Borrowed private key that signs what the agent publishes
	 * (results, reports, output, status); NULL: unsigned. */
	const struct cmdbus_key *sign_key;
	const struct clock *clock;
	/* The journal's file (copied; its ud must outlive the core); NULL
	 * keeps the journal in memory, for tests and embedders without
	 * storage. */
	const struct journal_io *journal;
	uint64_t journal_compact_at; /* bytes; 0: 1 MiB */
	size_t max_running;	     /* spawned runs at once; 0: 4 */
};

/* Counters, for logs and tests. */
struct core_stats {
	uint64_t received;	/* messages handed to the core */
	uint64_t dropped;	/* dropped without answer */
	uint64_t rejected;	/* answered REJECTED or EXPIRED */
	uint64_t bad_signature; /* refused for their signature */
	uint64_t duplicates;	/* answered from the journal */
	uint64_t runs;		/* runs started (inline or spawned) */
	uint64_t publish_failed;
};

/* 0 and *out (free with core_free()), or -EINVAL / -ENOMEM / a journal
 * error with a sentence in err. Strings of cfg are copied. The journal
 * is read, and process groups left running by an earlier agent are
 * killed. */
int core_new(const struct core_config *cfg, const struct core_ports *ports,
	     struct core **out, char *err, size_t errlen);
void core_free(struct core *c);

/* Adds a firmware handler (see cmdbus_agent_register()). 0, -EINVAL,
 * -EEXIST, -ENOMEM; a sentence in err. */
int core_register(struct core *c, const char *name, cmdbus_agent_handler_fn *fn,
		  const struct cmdbus_agent_param *params, void *ud, char *err,
		  size_t errlen);

/* Replaces the catalog actions by v[0..n) (each malloc'd, see
 * catalog.h), taking ownership only on success; a command already
 * accepted, running or queued, keeps the argv, environment, cwd and
 * limits it was given. 0, or a negative code with a sentence in err and
 * the old catalog kept. */
struct catalog_action;
int core_set_catalog(struct core *c, struct catalog_action **v, size_t n,
		     char *err, size_t errlen);

/* One MQTT message received on `topic`. Runs the checks of the contract
 * in order and answers, runs or drops it. */
void core_on_message(struct core *c, const char *topic, const void *data,
		     size_t len);

/* The broker connection is up: runs of an earlier process that never
 * finished are answered LOST/interrupted now (or run again when they are
 * idempotent and still valid). */
void core_on_connect(struct core *c);

/* Housekeeping, about once a second: results whose journal write failed
 * are written again (and published once durable), old ids forgotten, the
 * journal compacted. */
void core_tick(struct core *c);

/* Whether core_tick() has work beyond the heartbeat's: runs or queued
 * commands (live output) or results waiting for the journal. */
bool core_busy(const struct core *c);

/* The journal, for its counters. */
const struct journal_stats *core_journal_stats(const struct core *c);

/* Bytes read from a streaming run's stdout or stderr (borrowed). */
void core_on_output(struct core *c, uint64_t token, bool is_err, const void *p,
		    size_t n);

/* A spawned run has ended (leader reaped, pipes drained). */
void core_on_exit(struct core *c, uint64_t token, const struct core_exit *ex);

/* The status envelope, online (with labels, actions, health) or offline.
 * 0 and *msg (malloc'd, the caller's), or a negative code. */
int core_status(struct core *c, bool online, char **msg, size_t *len);

/* Stops taking commands (each new one is answered journal_unavailable)
 * and answers the queued ones LOST/interrupted; runs go on. */
void core_quiesce(struct core *c);

/* Stops taking commands and terminates every run; each still gets its
 * result (LOST/interrupted unless it timed out or was canceled first). */
void core_shutdown(struct core *c);

/* Runs spawned and not yet ended. */
size_t core_running(const struct core *c);

const struct core_stats *core_get_stats(const struct core *c);

#endif
