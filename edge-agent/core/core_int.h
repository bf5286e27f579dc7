/* SPDX-License-Identifier: MIT */
/* The core's insides, shared by its files: the core itself, the action
 * registry, runs in progress and the result builder. */
#ifndef CMDBUS_AGENT_CORE_INT_H
#define CMDBUS_AGENT_CORE_INT_H

#include <regex.h>

#include "agent_core.h"
#include "seen.h"

enum action_kind {
	ACT_PING,
	ACT_INFO,
	ACT_EXEC,
	ACT_SHELL, /* known to the contract, not offered by this agent */
	ACT_HANDLER,
};

struct action {
	char name[CMDBUS_NAME_BUF];
	enum action_kind kind;
	cmdbus_agent_handler_fn *fn;
	void *ud;
	struct cmdbus_param *params; /* owned; NULL: args unchecked */
	regex_t *re;		     /* owned, one per param */
	size_t nparams;
	bool has_params;
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
	bool canceled;	  /* a cancel asked for it */
	bool interrupted; /* the agent is shutting down */
};

struct core {
	char *device_id, *prefix, *boot_id, *exec_path, *exec_cwd;
	char **label_keys, **label_values;
	size_t nlabels;
	bool exec_enabled;
	uint64_t max_timeout_ms, clock_skew_ms;
	const struct cmdbus_key *const *trusted;
	size_t ntrusted;
	const struct clock *clock;
	struct core_ports ports;

	struct action *actions;
	size_t nactions;
	struct seen seen;
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

/* core.c: publishing answers. core_answer() stores msg in e (when given;
 * DONE when `done`), publishes it and frees it. */
void core_publish(struct core *c, const char *id, const char *msg, size_t len);
void core_answer(struct core *c, struct seen_entry *e, const char *id,
		 char *msg, size_t len, bool done);

/* run.c: the runs of accepted commands. */
struct run *run_find_id(struct core *c, const char *id);
/* A report for id, stored in e as its latest answer and published. */
int send_report(struct core *c, struct seen_entry *e, const char *id,
		const char *sha, enum cmdbus_state state, long pid);
/* Runs a built-in or a handler inline and publishes its result. */
void run_builtin(struct core *c, const struct cmdbus_command *cmd,
		 const struct action *a, const char *sha, bool clamped,
		 uint64_t timeout_ms, size_t max_output);
/* Spawns an exec and publishes RUNNING, or its spawn_failed result. */
void run_exec(struct core *c, const struct cmdbus_command *cmd,
	      struct cmdbus_exec_args *x, const char *sha, bool clamped,
	      uint64_t timeout_ms, size_t max_output);

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
