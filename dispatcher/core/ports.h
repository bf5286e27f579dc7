/* SPDX-License-Identifier: MIT */
/* The dispatcher core's view of the outside world: the records it keeps,
 * and the two ports through which it reaches them, a store (the database,
 * source of truth) and a bus (the MQTT broker). The adapters implement
 * the ports; unit tests implement them with fakes. */
#ifndef DISPATCHER_PORTS_H
#define DISPATCHER_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"
#include "cmdbus/rest.h"

/* A job's rollout as stored: the request's figures resolved against the
 * number of executions when the job was created. */
struct job_rollout {
	uint64_t batch; /* released and unfinished at most; 0: no rollout */
	bool has_max_failures;
	uint64_t max_failures; /* more than this aborts */
	enum cmdbus_offline_policy offline;
	uint64_t canary; /* 0: none */
};

#define JOB_ABORT_REASON_BUF 160

/* One job as stored. */
struct job_rec {
	char id[CMDBUS_ID_BUF];
	char action[CMDBUS_NAME_BUF];
	char *args_json; /* owned compact JSON object */
	enum cmdbus_job_state state;
	uint64_t created_at, finished_at; /* finished_at 0: not yet */
	uint64_t timeout_ms, ttl_ms;	  /* ttl_ms already capped */
	bool stream;
	char idempotency_key[129]; /* "" when none */
	/* Hex SHA-256 of the canonical request, compared when the same
	 * idempotency key comes again; "" when none. */
	char request_sha256[CMDBUS_SHA256_HEX + 1];
	uint64_t canceled_at; /* 0: never canceled */
	char *targets_json;   /* owned resolution object text, or NULL */
	struct job_rollout ro;
	uint64_t aborted_at; /* 0: its rollout was never aborted */
	char abort_reason[JOB_ABORT_REASON_BUF]; /* "" when not aborted */
};

struct job_list {
	struct job_rec *v; /* owned array */
	size_t n;
};

/* A page of a list, newest first: at most `limit` records created in
 * [since, until] (no upper bound unless has_until) whose id sorts before
 * `cursor` (NULL: from the newest), with the optional filters. */
struct list_query {
	const char *device; /* executions of (jobs with one on) this device */
	const char *state;  /* a state's name, or NULL: any */
	const char *action; /* or NULL: any */
	uint64_t since, until;
	bool has_until;
	const char *cursor;
	size_t limit;
};

/* One execution (a job on one device) as stored. */
struct exec_rec {
	char id[CMDBUS_ID_BUF];
	char job[CMDBUS_ID_BUF];
	char device[CMDBUS_NAME_BUF];
	char action[CMDBUS_NAME_BUF]; /* the job's, for views */
	enum cmdbus_state state;
	uint64_t created_at, updated_at;
	uint64_t published_at, finished_at; /* 0: not yet */
	uint64_t exp_at; /* job creation + TTL: the command's exp */
	char *command;	 /* owned payload text; NULL until first publish */
	char cmd_sha256[CMDBUS_SHA256_HEX + 1]; /* of command; "" until then */
	uint64_t iat; /* when command was built; set by outbox_prepare for
			 job_create, which stores command with it */
	char boot_id[CMDBUS_ID_BUF]; /* of the agent run that answered, "" */
	char *result;		     /* owned result payload text, or NULL */
	char error_code[32];	     /* "" when none */
	char *error_message;	     /* owned, or NULL */
	uint64_t late_results;	     /* results refused after terminal */
	/* Rollouts: held executions wait QUEUED, never published, until
	 * their rollout releases them; release_seq numbers the released ones
	 * of a job from 1 in the order they were released (0: not yet). */
	bool held;
	uint64_t release_seq;
};

struct exec_list {
	struct exec_rec *v; /* owned array */
	size_t n;
};

/* One device's presence, from its retained status messages. */
struct device_rec {
	char id[CMDBUS_NAME_BUF];
	bool online;
	char boot_id[CMDBUS_ID_BUF];
	char agent[64];
	uint64_t last_seen; /* dispatcher time of the last status */
	uint64_t status_at; /* the agent's `at` of the last online status */
	char *labels_json;  /* owned JSON object text; "{}" when none */
	char *actions_json; /* owned JSON array text; "[]" when none */
	char *health_json;  /* owned JSON object text, or NULL */
	char *status;	    /* owned: the last status payload as received */
};

struct device_list {
	struct device_rec *v; /* owned array */
	size_t n;
};

struct name_list {
	char (*v)[CMDBUS_NAME_BUF]; /* owned array */
	size_t n;
};

/* What a rollout's decisions rest on, counted over one job. */
struct rollout_counts {
	uint64_t released;     /* ever released */
	uint64_t in_progress;  /* released and unfinished */
	uint64_t waiting;      /* held and still QUEUED */
	uint64_t failures;     /* as docs/protocol.md defines them */
	uint64_t canary_ended; /* of release_seq 1..canary: terminal */
	uint64_t canary_ok;    /* of those: SUCCEEDED */
};

/* A live output chunk as stored. */
struct chunk_rec {
	uint64_t seq;
	struct cmdbus_bytes data; /* owned */
};

struct chunk_list {
	struct chunk_rec *v; /* owned array */
	size_t n;
};

/* What is kept of live output per execution and stream, at most: the
 * protocol's cap on max_output. */
#define STORE_OUTPUT_CAP 65536u

/* A command payload to store for an execution at its first publish. */
struct exec_command {
	const char *id;
	const char *payload; /* the exact bytes that will be published */
	const char *sha256;  /* hex SHA-256 of payload */
	uint64_t iat;
};

/* A compare-and-set state change of one execution: applied only when the
 * stored state is still `from`. */
struct exec_change {
	const char *id;
	enum cmdbus_state from, to;
	uint64_t at;	     /* becomes updated_at; finished_at when `to` is
				terminal */
	bool published;	     /* it went out: published_at becomes
				published_at below (or `at` when that is 0)
				when it is still 0 (a report may beat the
				PUBACK) */
	uint64_t published_at;
	const char *boot_id; /* or NULL: unchanged */
	const char *result;  /* result payload, or NULL: unchanged */
	const char *error_code;	   /* or NULL: unchanged */
	const char *error_message; /* or NULL: unchanged */
	/* With a terminal `to`: in the same transaction, mark the job
	 * COMPLETED at `at` when none of its executions is left
	 * unfinished. */
	bool complete_job;
};

#define STORE_JOB_STATES 4 /* RUNNING COMPLETED CANCELED ABORTED */

/* What the metrics show of the database. */
struct store_counts {
	uint64_t execs[CMDBUS_STATE_COUNT]; /* by state */
	uint64_t jobs[STORE_JOB_STATES];    /* by enum cmdbus_job_state */
	uint64_t devices, devices_online;
	uint64_t devices_stale; /* online, last_seen before the cutoff */
	uint64_t inflight;	/* unfinished with a command sent */
	uint64_t waiting;	/* QUEUED, never sent */
};

/* The store port. Every function returns 0 or a negative code:
 * -ERR_NOT_FOUND for a missing record, -ERR_CONFLICT when a
 * compare-and-set found another state, -ENOSPC when storage is full,
 * -ERR_UNAVAILABLE when the database cannot be used. Records filled by
 * the store are the caller's to release (exec_rec_fini, ...). */
struct store_port {
	void *ud;
	/* Stores a job and all its executions in one durable transaction:
	 * when this returns 0 they are committed. */
	int (*job_create)(void *ud, const struct job_rec *job,
			  const struct exec_rec *execs, size_t n);
	int (*job_get)(void *ud, const char *id, struct job_rec *out);
	/* A job's executions, oldest first. */
	int (*job_executions)(void *ud, const char *job, struct exec_list *out);
	int (*exec_get)(void *ud, const char *id, struct exec_rec *out);
	/* The same without the command payload (left NULL), for views.
	 * Optional (NULL: exec_get). */
	int (*exec_view_get)(void *ud, const char *id, struct exec_rec *out);
	/* Every execution not in a terminal state, oldest first. */
	int (*exec_unfinished)(void *ud, struct exec_list *out);
	/* Stores first-publish payloads, all or none, durably; -ERR_CONFLICT
	 * when one of them already has a payload. */
	int (*exec_set_commands)(void *ud, const struct exec_command *cmds,
				 size_t n);
	int (*exec_change)(void *ud, const struct exec_change *chg);
	/* Counts one refused result (late or duplicate) on an execution. */
	int (*exec_late_result)(void *ud, const char *id, uint64_t at);
	/* Inserts or replaces a device's presence. */
	int (*device_put)(void *ud, const struct device_rec *d);
	int (*device_get)(void *ud, const char *id, struct device_rec *out);
	/* All known devices, by id. */
	int (*device_list)(void *ud, struct device_list *out);
	/* Ids of known devices, by id: all of them when labels_json is
	 * NULL, else those carrying every label of that JSON object. */
	int (*devices_match)(void *ud, const char *labels_json,
			     struct name_list *out);
	/* 0 when the database can be written to. */
	int (*check)(void *ud);

	/* Delivery and housekeeping (dispatcher/core/sweep.c). Each may be
	 * NULL in a store that does not offer it; the core then goes
	 * without (no group commit, no window, ...). */
	/* Group commit: while batch is on, state changes, late-result
	 * counts and presence join one transaction opened at the first of
	 * them, until batch_end commits it (*committed says whether there
	 * was anything to commit, *commit_us how long the commit took). Any
	 * other write commits the open batch first, so that it is never made
	 * durable by someone else's commit. */
	int (*batch)(void *ud, bool on); /* joining allowed while on */
	int (*batch_end)(void *ud, bool *committed, uint64_t *commit_us);
	/* A device's unfinished executions, oldest first, at most limit. */
	int (*exec_device_unfinished)(void *ud, const char *device,
				      size_t limit, struct exec_list *out);
	/* How many of those were sent (have a payload): the device's place
	 * in its window. Optional (NULL: counted from the list above). */
	int (*exec_device_inflight)(void *ud, const char *device,
				    uint64_t *n);
	/* Removes at most `limit` finished executions created before
	 * `before`, then at most `limit` finished jobs created before it
	 * that have no execution left; says how many of each went. */
	int (*prune)(void *ud, uint64_t before, size_t limit, uint64_t *execs,
		     uint64_t *jobs);
	/* Counts for the metrics; devices whose last status is older than
	 * stale_before count as stale. */
	int (*counts)(void *ud, uint64_t stale_before,
		      struct store_counts *out);

	/* The read side of the REST lists (store_query.c). A page of jobs
	 * or of one device's executions, as list_query says. */
	int (*job_list)(void *ud, const struct list_query *q,
			struct job_list *out);
	int (*exec_list)(void *ud, const struct list_query *q,
			 struct exec_list *out);
	/* How many executions of a job are in each state. */
	int (*job_counts)(void *ud, const char *job,
			  uint64_t counts[CMDBUS_STATE_COUNT]);
	/* The job created with this idempotency key; -ERR_NOT_FOUND. */
	int (*job_by_key)(void *ud, const char *key, struct job_rec *out);
	/* Records that a job was canceled (it then ends CANCELED rather
	 * than COMPLETED); when none of its executions is unfinished it
	 * ends at once. */
	int (*job_cancel)(void *ud, const char *job, uint64_t at);

	/* Live output (store_output.c); both may be NULL: chunks are then
	 * not kept. Stores one chunk of an execution's stream, joining the
	 * group commit; *stored is false when that seq is there already or
	 * the chunk would take the stream past STORE_OUTPUT_CAP bytes.
	 * Chunks go with their execution. */
	int (*output_put)(void *ud, const char *exec, bool is_stderr,
			  uint64_t seq, const void *data, size_t len,
			  bool *stored);
	/* The chunks of one stream with seq >= from, by seq. */
	int (*output_get)(void *ud, const char *exec, bool is_stderr,
			  uint64_t from, struct chunk_list *out);

	/* Targeting and rollouts (store_rollout.c). Every known device with
	 * only id, online and labels_json filled, by id. */
	int (*devices_brief)(void *ud, struct device_list *out);
	/* The counts of one job's rollout; EXPIRED/offline executions are
	 * failures when offline_fails. */
	int (*rollout_counts)(void *ud, const char *job, uint64_t canary,
			      bool offline_fails, struct rollout_counts *out);
	/* At most `limit` held QUEUED executions of a job in the job's
	 * order; with online_only, only those whose device is online. */
	int (*rollout_next)(void *ud, const char *job, size_t limit,
			    bool online_only, struct exec_list *out);
	/* Releases held executions, numbering them from first_seq in the
	 * order given; joins the group commit. */
	int (*exec_release)(void *ud, const struct exec_rec *execs, size_t n,
			    uint64_t first_seq);
	/* Records that a job's rollout was aborted, durably; -ERR_CONFLICT
	 * when it was aborted already. */
	int (*job_abort)(void *ud, const char *job, uint64_t at,
			 const char *reason);
	/* Ends a running job whose executions are all terminal: ABORTED,
	 * CANCELED or COMPLETED as its marks say; *ended says whether it
	 * did. */
	int (*job_finish)(void *ud, const char *job, uint64_t at, bool *ended);
	/* Ids of the running jobs that have a rollout. */
	int (*rollout_jobs)(void *ud, struct name_list *out);
};

/* The bus port. */
struct bus_port {
	void *ud;
	/* Queues one message. expiry_s is the MQTT 5 Message Expiry
	 * Interval (ignored with MQTT 3.1.1); 0 never reaches here. The
	 * message id goes to *mid; it comes back in core_bus_published().
	 * 0, or -ERR_UNAVAILABLE when not connected, another negative
	 * code on failure. */
	int (*publish)(void *ud, const char *topic, const void *payload,
		       size_t len, int qos, uint32_t expiry_s, int *mid);
	bool (*is_connected)(void *ud);
};

void job_rec_fini(struct job_rec *j);
void job_list_fini(struct job_list *l);
void exec_rec_fini(struct exec_rec *e);
void exec_list_fini(struct exec_list *l);
void device_rec_fini(struct device_rec *d);
void device_list_fini(struct device_list *l);
void name_list_fini(struct name_list *l);
void chunk_list_fini(struct chunk_list *l);

#endif
