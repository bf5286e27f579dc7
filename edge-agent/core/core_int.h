/* SPDX-License-Identifier: MIT */
/* The core's insides, shared by its files: the core itself, the action
 * registry, runs in progress and the result builder. */
#ifndef CMDBUS_AGENT_CORE_INT_H
#define CMDBUS_AGENT_CORE_INT_H

#include <regex.h>

#include "agent_core.h"
#include "catalog.h"
#include "journal.h"
#include "queue.h"
#include "stream.h"

enum action_kind {
	ACT_PING,
	ACT_INFO,
	ACT_EXEC,
	ACT_SHELL, /* offered only with shell_enabled */
	ACT_HANDLER,
	ACT_CATALOG, /* declared in the catalog; reloaded on SIGHUP */
};

struct action {
	char name[CMDBUS_NAME_BUF];
	enum action_kind kind;
	cmdbus_agent_handler_fn *fn;
	void *ud;
	struct cmdbus_param *params; /* owned; NULL: args unchecked */
	regex_t *re;		     /* owned, one per param */
	bool *optional;		     /* owned, one per param (handlers) */
	size_t nparams;
	bool has_params;
	struct catalog_action *cat; /* owned; ACT_CATALOG only */
};

/* A spawned run, from spawn until its result is published. */
struct run {
	struct run *next;
	uint64_t token;
	char id[CMDBUS_ID_BUF];
	char action[CMDBUS_NAME_BUF];
	char sha[CMDBUS_SHA256_HEX + 1];
	long pid;
	uint64_t started_at;
	bool clamped;
	uint64_t timeout_ms;
	bool canceled; /* a cancel asked for it */
	bool stream;   /* live output chunks asked for */
	size_t max_output;
	struct live live[2]; /* stdout, stderr */
	bool interrupted;    /* the agent is shutting down */
};

struct core {
	char *device_id, *prefix, *boot_id, *exec_path, *exec_cwd;
	char **label_keys, **label_values;
	size_t nlabels;
	bool exec_enabled;
	bool shell_enabled;
	char *runas_helper; /* NULL: catalog actions with a user refused */
	uint64_t max_timeout_ms, clock_skew_ms;
	const struct cmdbus_key *const *trusted;
	size_t ntrusted;
	const struct cmdbus_key *sign_key; /* NULL: publishes unsigned */
	const struct clock *clock;
	struct core_ports ports;

	struct action *actions;
	size_t nactions;
	struct journal journal; /* every id seen, on disk */
	bool recovered;		/* unfinished old runs resolved */
	struct queued *queue;	/* accepted, waiting for a free slot */
	size_t max_running;	/* processes at once */
	struct run *runs;
	uint64_t next_token;
	bool stopping;
	bool warned_unsigned;
	struct core_stats stats;
};

/* What a handler fills (the public struct cmdbus_agent_reply). */
struct cmdbus_agent_reply {
	int exit_code;
	struct output out, err;
	char *error; /* owned; set: the run FAILED */
	bool nomem;
};

/* registry.c */
int registry_init(struct core *c);
void registry_fini(struct core *c);
const struct action *registry_find(const struct core *c, const char *name);
int registry_add(struct core *c, const char *name, cmdbus_agent_handler_fn *fn,
		 const struct cmdbus_agent_param *params, void *ud, char *err,
		 size_t errlen);
/* Checks args of a handler with params. 0, or -ERR_MALFORMED with the
 * parameter in field and a sentence in msg. */
int registry_check_args(const struct action *a, const char *args_json,
			char *field, size_t fieldlen, char *msg, size_t msglen);
/* Whether the agent accepts action a (exec and shell by configuration). */
bool registry_enabled(const struct core *c, const struct action *a);
/* Whether a runs as a process (exec, shell, catalog) rather than inline. */
bool registry_spawns(const struct action *a);
/* For an action that spawns: checks args and fills p->x with the argv,
 * stdin and env of the run and p->cwd with its working directory. For a
 * handler: checks args. Either way the action's own limits are applied
 * to the p->timeout_ms and p->max_output the caller set: a catalog
 * action's timeout lowers timeout_ms (setting clamped), its output cap
 * max_output. 0, or -ERR_MALFORMED with the parameter in field and a
 * sentence in msg, or -ENOMEM; release p with run_plan_fini() either
 * way. */
int registry_prepare(const struct core *c, const struct action *a,
		     const char *args_json, struct run_plan *p, char *field,
		     size_t fieldlen, char *msg, size_t msglen);
/* Replaces the catalog actions by v[0..n) (each heap-allocated), taking
 * ownership only on success. 0, or -EINVAL / -EEXIST / -ENOMEM with a
 * sentence in err, the old catalog kept. */
int registry_set_catalog(struct core *c, struct catalog_action **v, size_t n,
			 char *err, size_t errlen);

/* core.c: publishing answers. core_answer() publishes msg and frees it;
 * core_finish() first makes it the journaled result of id (published only
 * once durable; else kept for core_tick() to write again). */
void core_publish(struct core *c, const char *id, const char *msg, size_t len);
void core_answer(struct core *c, const char *id, char *msg, size_t len);
void core_finish(struct core *c, const char *id, char *msg, size_t len);

/* core.c: runs an idempotent command of an earlier process again, as a
 * new run (all checks but the journal's). */
void core_rerun(struct core *c, const struct cmdbus_command *cmd,
		const char *sha, const char *payload, size_t plen);

/* replay.c: what the journal already knows. */
/* When id is remembered: exp + clock skew + margin (at least now + it). */
uint64_t keep_until(const struct core *c, uint64_t exp);
/* A command whose id the journal knows is answered from it: true. */
bool replay_known(struct core *c, const struct cmdbus_command *cmd,
		  const char *sha);
/* Kills process groups an earlier agent left running. */
void kill_leftovers(struct core *c);

/* run.c: the runs of accepted commands. */
struct run *run_find_id(struct core *c, const char *id);
/* A report for id, published. */
int send_report(struct core *c, const char *id, const char *sha,
		enum cmdbus_state state, long pid);
/* Runs a built-in or a handler inline; its result envelope in *msg
 * (malloc'd). 0 or a negative code (logged). */
int run_inline(struct core *c, const struct cmdbus_command *cmd,
	       const struct action *a, const char *sha,
	       const struct run_plan *p, char **msg, size_t *len);
/* Runs a built-in or a handler inline and publishes its result. */
void run_builtin(struct core *c, const struct cmdbus_command *cmd,
		 const struct action *a, const char *sha,
		 const struct run_plan *p);
/* Spawns what plan p says and publishes RUNNING, or its spawn_failed
 * result. */
void run_exec(struct core *c, const struct cmdbus_command *cmd, const char *sha,
	      const struct run_plan *p);

/* How a run ended, as the result builder needs it. */
struct run_end {
	enum cmdbus_state state;
	bool has_exit_code;
	uint64_t exit_code;
	bool has_signal;
	uint64_t signal;
	bool has_streams;
	const struct output *out; /* NULL: empty stream */
	const struct output *err;
	bool has_started_at;
	uint64_t started_at;
	const char *error_code; /* NULL: none */
	const char *error_message;
	bool clamped;
	uint64_t timeout_ms;
};

/* result.c: the result envelope for execution `id`, kept under the
 * message limit by shrinking the streams' kept middle. 0 and *msg
 * (malloc'd), or a negative code. */
int result_build(const struct core *c, const char *id, const char *sha,
		 const struct run_end *re, char **msg, size_t *len);
/* A report envelope (ACCEPTED, or RUNNING with pid >= 0). */
int report_build(const struct core *c, const char *id, const char *sha,
		 enum cmdbus_state state, long pid, char **msg, size_t *len);
/* Maps a wait status to a run's end state: SUCCEEDED, FAILED, or the
 * given override (TIMED_OUT, CANCELED) with exit_code or signal. */
void result_from_wait(int wait_status, struct run_end *re);

#endif
