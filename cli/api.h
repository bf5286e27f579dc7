/* SPDX-License-Identifier: MIT */
/* One REST call as the commands need it: the request, the answer parsed,
 * and every failure turned into one clear line on stderr with the exit
 * status it stands for. */
#ifndef CMDBUS_CLI_API_H
#define CMDBUS_CLI_API_H

#include <stdbool.h>
#include <stdint.h>

#include "cmdbus/jsonv.h"
#include "http.h"

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct cli_ctx {
	const char *url, *token;
	bool json; /* --json: print the server's JSON */
	bool tty;  /* stdout is a terminal: progress and live redraws */
	bool utf8; /* the locale's character set is UTF-8 */
};

/* Makes the call and parses a 2xx answer into *doc (the caller's to
 * cmdbus_jsonv_free), keeping the raw text in *raw when raw is not NULL
 * (caller frees). EXIT_OK; EXIT_USAGE for no connection; EXIT_FAILED for
 * an error answer or a body that is not JSON, each reported on stderr. */
int api_call(const struct cli_ctx *c, const char *method, const char *path,
	     const char *body, struct cmdbus_jsonv **doc, char **raw);

/* Helpers over a parsed view. */
const char *api_str(const struct cmdbus_jnode *n, const char *key);
uint64_t api_u64(const struct cmdbus_jnode *n, const char *key);
/* An id usable in a URL path: 1..128 of [A-Za-z0-9._:-]. */
bool api_id_ok(const char *id);

#endif
