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

/* One job as stored. */
struct job_rec {
	char id[CMDBUS_ID_BUF];
	char action[CMDBUS_NAME_BUF];
	char *args_json; /* owned compact JSON object */
	enum cmdbus_job_state state;
	uint64_t created_at, finished_at; /* finished_at 0: not yet */
	uint64_t timeout_ms, ttl_ms;	  /* ttl_ms already capped */
	bool stream;
	char idempotency_key[129]; /* "" when none; stored, not enforced */
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
	char boot_id[CMDBUS_ID_BUF]; /* of the agent run that answered, "" */
	char *result;		     /* owned result payload text, or NULL */
	char error_code[32];	     /* "" when none */
	char *error_message;	     /* owned, or NULL */
	uint64_t late_results;	     /* results refused after terminal */
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
	bool published;	     /* it went out: published_at becomes `at` when it
				is still 0 (a report may beat the PUBACK) */
	const char *boot_id; /* or NULL: unchanged */
	const char *result;  /* result payload, or NULL: unchanged */
	const char *error_code;	   /* or NULL: unchanged */
	const char *error_message; /* or NULL: unchanged */
	/* With a terminal `to`: in the same transaction, mark the job
	 * COMPLETED at `at` when none of its executions is left
	 * unfinished. */
	bool complete_job;
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
void exec_rec_fini(struct exec_rec *e);
void exec_list_fini(struct exec_list *l);
void device_rec_fini(struct device_rec *d);
void device_list_fini(struct device_list *l);
void name_list_fini(struct name_list *l);

#endif
