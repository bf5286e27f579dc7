/* SPDX-License-Identifier: MIT */
/* The simulated device's side of the contract, through libcmdbus-schema
 * only: the status, reports and results it sends (each wrapped in an
 * unsigned envelope) and the commands and cancels it reads. */
#ifndef LG_PROTO_H
#define LG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/proto.h"

struct lg_agents_opts;

enum proto_kind { PROTO_COMMAND, PROTO_CANCEL };

/* What a device needs of a message on its cmd topic. */
struct proto_in {
	enum proto_kind kind;
	char id[CMDBUS_ID_BUF];
	char action[CMDBUS_NAME_BUF];
	uint64_t iat, exp;
	char sha[CMDBUS_SHA256_HEX + 1]; /* of the payload bytes */
};

/* Unwraps and decodes one message for `device`. 0 when it is a command
 * or cancel addressed to it; -1 when it must be dropped unanswered
 * (malformed, another device, a type not allowed on cmd). */
int proto_decode(const char *device, const void *msg, size_t len,
		 struct proto_in *in);

/* The envelope text of a status (online with the options' labels and the
 * actions ping and exec, or the bare offline form). Caller frees *out.
 * 0 or a negative code. */
int proto_status(const char *device, const char *boot_id, bool online,
		 const struct lg_agents_opts *o, char **out, size_t *len);

/* A report (ACCEPTED, or RUNNING with pid). Same returns. */
int proto_report(const char *device, const char *boot_id, const char *id,
		 const char *sha, enum cmdbus_state st, uint64_t pid,
		 char **out, size_t *len);

/* A result. For a run (SUCCEEDED, CANCELED) both streams are present,
 * stdout = `out_text`, and started_at when `started` is not 0; with
 * `error_code` the result carries that error and no streams. */
int proto_result(const char *device, const char *boot_id, const char *id,
		 const char *sha, enum cmdbus_state st, const char *out_text,
		 uint64_t started, uint64_t finished, const char *error_code,
		 char **out, size_t *len);

#endif
