/* SPDX-License-Identifier: MIT */
/* The payload messages of the contract as plain C structs, with a strict
 * decoder (types, sizes, names, required fields, the rules between fields)
 * and a canonical encoder: fields in the contract's order, no spaces,
 * integers as digits. Decoding a canonical payload and encoding it again
 * gives the same bytes. Unknown fields are accepted and dropped.
 *
 * Ownership: decode fills a caller-allocated struct whose pointers it
 * owns; free them with cmdbus_msg_fini(). Encode returns a malloc'd,
 * NUL-terminated string that is the caller's to free. */
#ifndef CMDBUS_MSG_H
#define CMDBUS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"

enum cmdbus_msg_type {
	CMDBUS_MSG_COMMAND,
	CMDBUS_MSG_CANCEL,
	CMDBUS_MSG_REPORT,
	CMDBUS_MSG_OUTPUT,
	CMDBUS_MSG_RESULT,
	CMDBUS_MSG_STATUS,
};
/* "command", ... static. */
const char *cmdbus_msg_type_name(enum cmdbus_msg_type t);
/* Whether a message of type t may travel on a topic of kind k. */
bool cmdbus_msg_allowed_on(enum cmdbus_msg_type t, enum cmdbus_kind k);

struct cmdbus_command {
	char id[CMDBUS_ID_BUF];
	char job[CMDBUS_ID_BUF]; /* "" when absent */
	char device[CMDBUS_NAME_BUF];
	uint64_t iat, exp, timeout_ms;
	char action[CMDBUS_NAME_BUF];
	char *args_json;     /* the `args` object as compact JSON; owned */
	uint64_t max_output; /* default 65536 */
	bool idempotent;     /* default false */
	bool stream;         /* default false */
};

struct cmdbus_cancel {
	char id[CMDBUS_ID_BUF];
	char device[CMDBUS_NAME_BUF];
	uint64_t iat, exp;
};

struct cmdbus_report {
	char id[CMDBUS_ID_BUF];
	char device[CMDBUS_NAME_BUF];
	char boot_id[CMDBUS_ID_BUF];
	enum cmdbus_state state; /* ACCEPTED or RUNNING */
	uint64_t at;
	bool has_pid;
	uint64_t pid;            /* required with RUNNING */
	char cmd_sha256[CMDBUS_SHA256_HEX + 1];
};

/* Bytes of a stream. Text goes on the wire as a JSON string when it is
 * valid UTF-8 without NUL, else as base64 in the *_b64 field. */
struct cmdbus_bytes {
	char *data; /* owned; NUL-terminated for convenience */
	size_t len;
};

struct cmdbus_output {
	char id[CMDBUS_ID_BUF];
	char device[CMDBUS_NAME_BUF];
	bool is_stderr; /* "stream": "stdout" or "stderr" */
	uint64_t seq;
	struct cmdbus_bytes data; /* at most CMDBUS_MAX_CHUNK bytes */
};

struct cmdbus_stream {
	struct cmdbus_bytes kept; /* the bytes kept, at most max_output */
	bool truncated;
	uint64_t bytes;           /* total bytes read from the stream */
};

struct cmdbus_result {
	char id[CMDBUS_ID_BUF];
	char device[CMDBUS_NAME_BUF];
	char boot_id[CMDBUS_ID_BUF];
	enum cmdbus_state state; /* terminal */
	char cmd_sha256[CMDBUS_SHA256_HEX + 1]; /* "" when absent */
	bool has_exit_code;
	uint64_t exit_code;
	bool has_signal;
	uint64_t signal;
	/* Runs (SUCCEEDED FAILED TIMED_OUT CANCELED) carry both streams;
	 * REJECTED EXPIRED LOST carry none and an error. */
	bool has_streams;
	struct cmdbus_stream out, err;
	bool has_started_at;
	uint64_t started_at;
	uint64_t finished_at;
	bool has_error;
	char error_code[32];
	char *error_message; /* owned; may be NULL when has_error is false */
	bool has_clamped_timeout_ms; /* the agent clamped timeout_ms */
	uint64_t clamped_timeout_ms;
};

struct cmdbus_label {
	char *key;   /* owned */
	char *value; /* owned */
};

struct cmdbus_param {
	char *name;    /* owned */
	char *pattern; /* owned; a whole-value pattern (POSIX ERE / PCRE) */
};

struct cmdbus_action_desc {
	char name[CMDBUS_NAME_BUF];
	struct cmdbus_param *params; /* owned array */
	size_t nparams;
};

struct cmdbus_health {
	uint64_t uptime_s;
	double load1;
	uint64_t mem_avail_kb;
	uint64_t disk_avail_kb;
};

struct cmdbus_status {
	char device[CMDBUS_NAME_BUF];
	bool online;
	char boot_id[CMDBUS_ID_BUF];
	/* The rest only when online. */
	char agent[64];           /* "cmdbus-agent/0.1.0" */
	uint64_t at;
	struct cmdbus_label *labels; /* owned array */
	size_t nlabels;
	struct cmdbus_action_desc *actions; /* owned array */
	size_t nactions;
	bool has_health;
	struct cmdbus_health health;
};

struct cmdbus_msg {
	enum cmdbus_msg_type type;
	union {
		struct cmdbus_command command;
		struct cmdbus_cancel cancel;
		struct cmdbus_report report;
		struct cmdbus_output output;
		struct cmdbus_result result;
		struct cmdbus_status status;
	} u;
};

/* Decodes one payload (the JSON text carried in the envelope). Input over
 * CMDBUS_MAX_MESSAGE is refused before parsing. 0; -ERR_TOO_LARGE,
 * -ERR_MALFORMED or -ENOMEM with `diag` filled (diag may be NULL). On
 * failure nothing is left to free in `out`. */
int cmdbus_msg_decode(const char *payload, size_t len, struct cmdbus_msg *out,
		      struct cmdbus_diag *diag);

/* Encodes canonically. 0; -EINVAL when the struct breaks the contract
 * (an invalid name, a missing required value); -ENOMEM. */
int cmdbus_msg_encode(const struct cmdbus_msg *m, char **out, size_t *outlen);

/* Frees what a decode (or the caller) put in the struct's pointers. */
void cmdbus_msg_fini(struct cmdbus_msg *m);

/* Lower-case hex SHA-256 of bytes, into out[65]. */
void cmdbus_sha256_hex(const void *data, size_t len,
		       char out[CMDBUS_SHA256_HEX + 1]);

#endif
