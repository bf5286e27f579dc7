/* SPDX-License-Identifier: MIT */
/* Constants and names of the cmdbus wire contract, version 1
 * (shared/PROTOCOL.md): limits, states, error codes, and the checks on
 * device ids, execution ids and action names. */
#ifndef CMDBUS_PROTO_H
#define CMDBUS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDBUS_PROTO_VERSION 1
#define CMDBUS_DEFAULT_PREFIX "cmdbus/v1"
#define CMDBUS_MAX_MESSAGE 262144u  /* whole MQTT message, bytes */
#define CMDBUS_MAX_DEPTH 32         /* JSON nesting, objects and arrays */
#define CMDBUS_MAX_INT 9007199254740991ull /* 2^53 - 1 */
#define CMDBUS_MAX_OUTPUT 65536u    /* bytes kept per stream */
#define CMDBUS_MAX_CHUNK 16384u     /* raw bytes per output chunk */
#define CMDBUS_NAME_MAX 64          /* device id, action name */
#define CMDBUS_ID_MAX 64            /* job and execution ids */
#define CMDBUS_KID_MAX 64           /* key ids */
#define CMDBUS_SHA256_HEX 64
#define CMDBUS_ED25519_SIG 64

/* Sized buffers for names, each with room for the NUL. */
#define CMDBUS_NAME_BUF (CMDBUS_NAME_MAX + 1)
#define CMDBUS_ID_BUF (CMDBUS_ID_MAX + 1)

/* The kind of a topic; also the domain separator of signatures. */
enum cmdbus_kind {
	CMDBUS_KIND_CMD,
	CMDBUS_KIND_RESULT,
	CMDBUS_KIND_STATUS,
};
const char *cmdbus_kind_name(enum cmdbus_kind k); /* "cmd", ... static */

/* Every state an execution can be in, as reports, results and the
 * dispatcher name them. Declared in rank order: a consumer never moves an
 * execution to a state of lower rank, and never out of a terminal one. */
enum cmdbus_state {
	CMDBUS_STATE_QUEUED,
	CMDBUS_STATE_PUBLISHED,
	CMDBUS_STATE_DELIVERED, /* dispatcher's name for a report ACCEPTED */
	CMDBUS_STATE_ACCEPTED,  /* on the wire only, in report.state */
	CMDBUS_STATE_RUNNING,
	CMDBUS_STATE_SUCCEEDED, /* the first terminal state */
	CMDBUS_STATE_FAILED,
	CMDBUS_STATE_TIMED_OUT,
	CMDBUS_STATE_CANCELED,
	CMDBUS_STATE_REJECTED,
	CMDBUS_STATE_EXPIRED,
	CMDBUS_STATE_LOST,
	CMDBUS_STATE_COUNT
};
/* "QUEUED", ... static; NULL for an out-of-range value. */
const char *cmdbus_state_name(enum cmdbus_state s);
/* Exact, case-sensitive. 0 or -ERR_MALFORMED. */
int cmdbus_state_parse(const char *s, enum cmdbus_state *out);
bool cmdbus_state_is_terminal(enum cmdbus_state s);

/* The error codes carried in `error.code` of results and REST errors. */
#define CMDBUS_E_TOO_LARGE "too_large"
#define CMDBUS_E_MALFORMED "malformed"
#define CMDBUS_E_BAD_ARGS "bad_args"
#define CMDBUS_E_BAD_SIGNATURE "bad_signature"
#define CMDBUS_E_WRONG_DEVICE "wrong_device"
#define CMDBUS_E_UNKNOWN_ACTION "unknown_action"
#define CMDBUS_E_ACTION_DISABLED "action_disabled"
#define CMDBUS_E_NOT_YET_VALID "not_yet_valid"
#define CMDBUS_E_EXPIRED "expired"
#define CMDBUS_E_JOURNAL_UNAVAILABLE "journal_unavailable"
#define CMDBUS_E_INTERRUPTED "interrupted"
#define CMDBUS_E_SPAWN_FAILED "spawn_failed"
/* A firmware handler reported a failure. */
#define CMDBUS_E_HANDLER_FAILED "handler_failed"

/* Name checks, exactly the patterns of the contract. */
bool cmdbus_valid_device_id(const char *s); /* ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$ */
bool cmdbus_valid_id(const char *s);        /* ^[A-Za-z0-9_-]{8,64}$ */
bool cmdbus_valid_action(const char *s);    /* ^[a-z][a-z0-9_.-]{0,63}$ */
/* A label key or value: 1..64 bytes of [A-Za-z0-9_.-] (a project rule,
 * see docs/protocol.md). */
bool cmdbus_valid_label(const char *s);

/* What went wrong in a decode, for logs, rejections and REST 400s. */
struct cmdbus_diag {
	const char *code;  /* a CMDBUS_E_* string, static */
	char field[96];    /* JSON path of the offending field, e.g.
			      "argv[2]" (relative to args), or "" for the whole document */
	char message[160]; /* one sentence for a human */
	char id[CMDBUS_ID_BUF]; /* the message's id when one could be read
				   from it, else "" */
};

#endif
