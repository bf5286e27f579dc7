/* SPDX-License-Identifier: MIT */
/* The arguments and outputs of the built-in actions: `exec` and `shell`
 * arguments decoded strictly (a refusal names the parameter, for
 * bad_args), catalog parameters read as flat strings, and the `info`
 * document encoded. */
#ifndef CMDBUS_ACTION_H
#define CMDBUS_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmdbus/msg.h"
#include "cmdbus/proto.h"

#define CMDBUS_EXEC_MAX_ARGV 256
#define CMDBUS_EXEC_MAX_ENV 64

/* args of `exec`: {"argv":[...], "stdin":"...", "env":{"K":"V"}}. */
struct cmdbus_exec_args {
	char **argv;  /* owned, NULL-terminated, argc >= 1, no NUL inside */
	size_t argc;
	struct cmdbus_bytes stdin_data; /* owned; has_stdin tells presence */
	bool has_stdin;
	struct cmdbus_label *env; /* owned; keys ^[A-Za-z_][A-Za-z0-9_]*$ */
	size_t nenv;
};

/* 0, or -ERR_MALFORMED with diag (code "bad_args", field "argv[1]" ...).
 * Release with cmdbus_exec_args_fini(), also after a failure. */
int cmdbus_exec_args_decode(const char *args_json,
			    struct cmdbus_exec_args *out,
			    struct cmdbus_diag *diag);
void cmdbus_exec_args_fini(struct cmdbus_exec_args *a);

/* args of `shell`: {"script":"..."}; *script is malloc'd. Same returns. */
int cmdbus_shell_args_decode(const char *args_json, char **script,
			     struct cmdbus_diag *diag);

/* args of a catalog action: an object whose values are all strings, read
 * as name/value pairs (owned; release with cmdbus_labels_free()). */
int cmdbus_flat_args_decode(const char *args_json, struct cmdbus_label **out,
			    size_t *n, struct cmdbus_diag *diag);
void cmdbus_labels_free(struct cmdbus_label *l, size_t n);

/* The `info` action's document. */
struct cmdbus_info {
	const char *os, *kernel, *arch, *hostname; /* borrowed */
	uint64_t uptime_s;
	double load[3];
	uint64_t mem_total_kb, mem_avail_kb, disk_total_kb, disk_avail_kb;
};
/* *out malloc'd compact JSON. 0 or -ENOMEM. */
int cmdbus_info_encode(const struct cmdbus_info *info, char **out,
		       size_t *outlen);

#endif
