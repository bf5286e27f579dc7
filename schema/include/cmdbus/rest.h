/* SPDX-License-Identifier: MIT */
/* Bodies of the dispatcher's REST API: the job request decoded strictly
 * (every refusal names its field), and the job, execution, device, health
 * and error views encoded. Schemas: schema/json/rest-*.schema.json. */
#ifndef CMDBUS_REST_H
#define CMDBUS_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/msg.h"
#include "cmdbus/proto.h"

#define CMDBUS_REST_MAX_BODY 1048576u  /* bytes; larger bodies get 413 */
#define CMDBUS_REST_MAX_DEVICES 10000u /* per job request */
#define CMDBUS_DEFAULT_TIMEOUT_MS 30000u
#define CMDBUS_DEFAULT_TTL_MS 3600000u
#define CMDBUS_MAX_TIMEOUT_MS 86400000u	   /* 1 day */
#define CMDBUS_MAX_TTL_MS (7u * 86400000u) /* 7 days */

enum cmdbus_target_kind {
	CMDBUS_TARGET_DEVICES,
	CMDBUS_TARGET_LABELS,
	CMDBUS_TARGET_ALL,
};

enum cmdbus_offline_policy {
	CMDBUS_OFFLINE_WAIT,
	CMDBUS_OFFLINE_SKIP,
	CMDBUS_OFFLINE_FAIL,
};

/* "wait", "skip", "fail"; NULL for a value out of range. */
const char *cmdbus_offline_policy_name(enum cmdbus_offline_policy p);

struct cmdbus_rollout {
	bool present;
	uint64_t batch_size; /* a count, or a percent when batch_pct */
	bool batch_pct;
	bool has_max_failures;
	uint64_t max_failures;
	bool has_max_failure_pct;
	uint64_t max_failure_pct; /* 0..100 */
	enum cmdbus_offline_policy offline;
	uint64_t canary; /* 0: none */
};

#define CMDBUS_SELECTOR_MAX_KEYS 16
#define CMDBUS_SELECTOR_MAX_VALUES 64

/* One term of a label selector: "k":"v" is EQ with one value,
 * "k":{"in":[...]} IN, "k":{"notin":[...]} NOTIN (true also when the
 * device lacks the label). */
enum cmdbus_label_op {
	CMDBUS_LABEL_EQ,
	CMDBUS_LABEL_IN,
	CMDBUS_LABEL_NOTIN,
};

struct cmdbus_label_term {
	char *key; /* owned */
	enum cmdbus_label_op op;
	char **values; /* owned array of owned strings; EQ: exactly 1 */
	size_t nvalues;
};

/* Whether a device's labels (a JSON object of strings, the text a store
 * keeps, as cmdbus_status_labels_encode writes it) satisfy every one of
 * the n terms. 0, -EINVAL when labels_json is not such an object,
 * -ENOMEM. */
int cmdbus_selector_match(const struct cmdbus_label_term *terms, size_t n,
			  const char *labels_json, bool *match);

/* POST /v1/jobs */
struct cmdbus_job_request {
	enum cmdbus_target_kind target;
	char (*devices)[CMDBUS_NAME_BUF]; /* owned; DEVICES: unique, >= 1 */
	size_t ndevices;
	bool allow_unknown; /* DEVICES: unknown ids are not refused */
	struct cmdbus_label_term *terms; /* owned; LABELS: 1..16, keys unique,
					    sorted by key */
	size_t nterms;
	char action[CMDBUS_NAME_BUF];
	char *args_json;     /* owned compact JSON object; "{}" by default */
	uint64_t timeout_ms; /* default CMDBUS_DEFAULT_TIMEOUT_MS */
	uint64_t ttl_ms;     /* default CMDBUS_DEFAULT_TTL_MS */
	bool stream;
	struct cmdbus_rollout rollout;
	char idempotency_key[129]; /* "" when absent; 1..128 printable ASCII */
};

/* Body over CMDBUS_REST_MAX_BODY: -ERR_TOO_LARGE; anything else wrong:
 * -ERR_MALFORMED with diag.field naming the field ("target.devices[3]").
 * Release with cmdbus_job_request_fini(), also after a failure. */
int cmdbus_job_request_decode(const char *body, size_t len,
			      struct cmdbus_job_request *out,
			      struct cmdbus_diag *diag);
void cmdbus_job_request_fini(struct cmdbus_job_request *r);

/* POST /v1/devices/{id}/actions/{action}: the body {"args":{...},
 * "timeout_ms":N} (both optional; an empty body is {}) decoded into the
 * job request it stands for, a job on that one device. Same returns as
 * cmdbus_job_request_decode; an invalid device or action in the path is
 * refused naming "device" or "action". */
int cmdbus_action_call_decode(const char *body, size_t len, const char *device,
			      const char *action,
			      struct cmdbus_job_request *out,
			      struct cmdbus_diag *diag);

/* The lower-case hex SHA-256 of the request's canonical form (defaults
 * applied, the idempotency key left out, object members sorted by key at
 * every depth so that member order does not matter; arrays keep their
 * order), which an idempotency key is bound to. 0, -EINVAL (a request
 * not made by the decoder whose terms or rollout are out of range) or
 * -ENOMEM. */
int cmdbus_job_request_sha256(const struct cmdbus_job_request *r,
			      char hex[CMDBUS_SHA256_HEX + 1]);

/* A job's own state. */
enum cmdbus_job_state {
	CMDBUS_JOB_RUNNING,
	CMDBUS_JOB_COMPLETED,
	CMDBUS_JOB_CANCELED,
	CMDBUS_JOB_ABORTED,
};
const char *cmdbus_job_state_name(enum cmdbus_job_state s); /* static */
int cmdbus_job_state_parse(const char *s, enum cmdbus_job_state *out);

/* One execution as the API shows it. Strings are borrowed from the caller
 * for the duration of the encode call. */
struct cmdbus_execution_view {
	const char *id, *job, *device, *action;
	enum cmdbus_state state;
	uint64_t created_at, updated_at;
	uint64_t published_at, finished_at; /* 0: not yet */
	const char *error_code; /* dispatcher-made terminal states; or NULL */
	const char *error_message; /* or NULL */
	/* The stored result payload (JSON text as the agent sent it), shown
	 * as "result"; NULL when there is none yet. */
	const char *result_json;
	uint64_t late_results; /* results that arrived after terminal */
};

/* A rollout as the job view shows it (see docs/protocol.md). */
struct cmdbus_rollout_view {
	bool present;
	uint64_t batch_size;
	bool has_max_failures;
	uint64_t max_failures;
	enum cmdbus_offline_policy offline;
	uint64_t canary;
	const char *phase; /* "canary", "rolling", "done", "aborted" */
	uint64_t released, in_progress, waiting, failures, batch;
};

/* Terminal executions with one error code. */
struct cmdbus_reason_count {
	const char *code;
	uint64_t n;
};

struct cmdbus_job_view {
	const char *id, *action;
	const char *args_json; /* compact JSON object */
	enum cmdbus_job_state state;
	uint64_t created_at, finished_at; /* finished_at 0: not yet */
	uint64_t timeout_ms, ttl_ms;
	bool stream;
	uint64_t counts[CMDBUS_STATE_COUNT]; /* executions per state */
	const struct cmdbus_execution_view *executions;
	size_t nexecutions;
	/* "reasons": by code, in the order given; left out when none. */
	const struct cmdbus_reason_count *reasons;
	size_t nreasons;
	/* "targets": the stored resolution, JSON object text as
	 * cmdbus_targets_encode wrote it; NULL: left out. */
	const char *targets_json;
	struct cmdbus_rollout_view rollout; /* left out unless present */
	const char *abort_reason;	    /* NULL: left out */
	/* A list item: "executions", "reasons", "targets" and "rollout" are
	 * left out (the counts and abort_reason stay). */
	bool summary;
};

/* The resolution of a job's target, {"matched":N,"offline":[...],
 * "unknown":[...]}, each list sorted by id whatever the order given.
 * 0, -EINVAL, -ENOMEM. */
int cmdbus_targets_encode(uint64_t matched,
			  const char (*offline)[CMDBUS_NAME_BUF],
			  size_t noffline,
			  const char (*unknown)[CMDBUS_NAME_BUF],
			  size_t nunknown, char **out, size_t *outlen);

/* Canonical JSON for the views; *out is malloc'd, the caller frees it.
 * 0, -EINVAL (a view that breaks the contract), -ENOMEM. */
int cmdbus_job_view_encode(const struct cmdbus_job_view *v, char **out,
			   size_t *outlen);
int cmdbus_execution_view_encode(const struct cmdbus_execution_view *v,
				 char **out, size_t *outlen);

/* One device as the API shows it: presence from its retained status.
 * Strings are borrowed for the duration of the encode call. The parts of
 * its last online status are embedded as the JSON text a store keeps
 * (made by the cmdbus_status_*_encode functions below), each checked
 * and written canonically, as result_json is in an execution. */
struct cmdbus_device_view {
	const char *id, *boot_id;
	bool online;
	bool stale; /* online, but no status for three heartbeats: written
		       as "stale":true, left out when false */
	uint64_t last_seen;	  /* dispatcher time of the last status */
	const char *agent;	  /* NULL or "": never seen online; left out */
	const char *labels_json;  /* an object; NULL: {} */
	const char *actions_json; /* an array; NULL: [] */
	const char *health_json;  /* an object, or NULL: left out */
};

/* GET /v1/devices/{id}, and the list GET /v1/devices: {"devices":[...]}
 * in the order given. Same returns as the views above. */
int cmdbus_device_view_encode(const struct cmdbus_device_view *v, char **out,
			      size_t *outlen);
int cmdbus_device_list_encode(const struct cmdbus_device_view *v, size_t n,
			      char **out, size_t *outlen);

/* The parts of a status that a device view shows, as canonical JSON text
 * for a store to keep: labels {"k":"v",...} (also the form a label
 * filter is written in), actions [{"name":...,"params":{...}},...] and
 * health {...}. Values are taken as decoded (keys unique); 0, -EINVAL
 * (a value that breaks the contract), -ENOMEM. */
int cmdbus_status_labels_encode(const struct cmdbus_label *l, size_t n,
				char **out, size_t *outlen);
int cmdbus_status_actions_encode(const struct cmdbus_action_desc *a, size_t n,
				 char **out, size_t *outlen);
int cmdbus_status_health_encode(const struct cmdbus_health *h, char **out,
				size_t *outlen);

/* GET /healthz: {"status":"ok","database":true,"broker":true}, with
 * "unavailable" as the status when either is false. 0 or -ENOMEM. */
int cmdbus_healthz_encode(bool database, bool broker, char **out,
			  size_t *outlen);

/* GET /v1/executions/{id}/output: {"id","state","final","source":
 * "result","stdout"|"stdout_b64","stderr"|"stderr_b64",
 * "stdout_truncated","stderr_truncated","stdout_bytes","stderr_bytes"}
 * from the stored result payload (NULL, or one without streams: empty
 * streams). 0, -EINVAL, -ENOMEM. */
int cmdbus_output_view_encode(const char *id, enum cmdbus_state state,
			      const char *result_json, char **out,
			      size_t *outlen);
/* The same view before there is a result: "source":"chunks", the live
 * chunks stored so far joined per stream (sout, serr), *_truncated
 * false and *_bytes their lengths. 0, -EINVAL, -ENOMEM. */
int cmdbus_output_chunks_view_encode(const char *id, enum cmdbus_state state,
				     const struct cmdbus_bytes *sout,
				     const struct cmdbus_bytes *serr,
				     char **out, size_t *outlen);

/* ?follow=1 is a Server-Sent Events stream. One chunk as an event:
 * "event: output\ndata: {"stream","seq","data"|"data_b64"}\n\n".
 * 0, -ENOMEM. */
int cmdbus_output_event_encode(bool is_stderr, uint64_t seq, const void *data,
			       size_t len, char **out, size_t *outlen);
/* The streams of a stored result as output events (stdout then stderr,
 * seq 0, empty streams left out), for a follow of an execution that
 * sent no chunks; *out is "" when there is nothing. 0, -ENOMEM. */
int cmdbus_output_result_events_encode(const char *result_json, char **out,
				       size_t *outlen);
/* The last event: "event: end\ndata: {"id","state"[,"exit_code"]}\n\n",
 * the exit code taken from the stored result when it has one. 0,
 * -EINVAL, -ENOMEM. */
int cmdbus_output_end_event_encode(const char *id, enum cmdbus_state state,
				   const char *result_json, char **out,
				   size_t *outlen);

/* A page of a list: {"<key>":[item,...],"next_cursor":"..."|null}.
 * items[i] are views made by the encoders above (canonical JSON text,
 * written as they are); next_cursor NULL: this is the last page. 0,
 * -EINVAL, -ENOMEM. */
int cmdbus_page_encode(const char *key, char *const *items, const size_t *lens,
		       size_t n, const char *next_cursor, char **out,
		       size_t *outlen);

/* {"error":{"code":...,"message":...,"field":...}}; field may be NULL or
 * "" and is then left out. */
int cmdbus_error_body_encode(const char *code, const char *message,
			     const char *field, char **out, size_t *outlen);

#endif
