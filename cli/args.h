/* SPDX-License-Identifier: MIT */
/* The cmdbus command line: flags, the command and its operands parsed into
 * one struct, and the URL and token resolved from flags, the environment
 * or ~/.config/cmdbus/config. No I/O beyond reading that file. */
#ifndef CMDBUS_CLI_ARGS_H
#define CMDBUS_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_LIST 256 /* -t and -l flags, run parameters, exec argv */

enum cli_cmd {
	CLI_NONE,
	CLI_HELP,
	CLI_VERSION,
	CLI_RUN,
	CLI_EXEC,
	CLI_JOBS,
	CLI_DEVICES,
	CLI_OUTPUT,
};

enum cli_target {
	CLI_TARGET_NONE,
	CLI_TARGET_DEVICES,
	CLI_TARGET_LABELS,
	CLI_TARGET_ALL
};

/* Every string is borrowed from argv. */
struct cli_args {
	const char *url, *token; /* from --url / --token, or NULL */
	bool json;
	enum cli_cmd cmd;
	const char *sub; /* jobs/devices: "ls" (default), "show", "cancel" */
	const char *id;	 /* jobs show/cancel, devices show, output */
	enum cli_target target;
	const char *devices[CLI_MAX_LIST]; /* -t values, comma lists */
	size_t ndevices;
	const char *labels[CLI_MAX_LIST]; /* -l selector terms (selector.h) */
	size_t nlabels;
	bool allow_unknown;	  /* --allow-unknown, only with -t */
	const char *batch;	  /* "N" or "N%", or NULL */
	const char *max_failures; /* "N" or "N%", or NULL */
	bool has_canary;	  /* --canary N */
	uint64_t canary;
	const char *offline;	     /* "wait", "skip", "fail", or NULL */
	uint64_t timeout_ms, ttl_ms; /* 0: the server's default */
	bool stream, wait, follow;
	const char *action;		  /* run: ACTION; exec: "exec" */
	const char *params[CLI_MAX_LIST]; /* run: key=value; exec: argv */
	size_t nparams;
	/* jobs ls / devices ls */
	bool has_limit; /* --limit N; 0 means all */
	uint64_t limit;
	uint64_t page_size; /* --page-size N (1..500); 0: the largest */
	const char *state;  /* jobs ls --state S, or NULL */
};

/* Whether a run or exec asks for a rollout (any of its flags). */
bool cli_args_rollout(const struct cli_args *a);

/* Parses argv[1..argc). 0, or -EINVAL with a one-line reason in err (a
 * usage error: exit status 2). */
int cli_args_parse(int argc, const char *const *argv, struct cli_args *a,
		   char *err, size_t errlen);

/* The URL and token in use; owned, released with cli_config_fini. */
struct cli_config {
	char *url;
	char *token;
};

/* Resolves each of url and token from the flag, else the environment
 * value, else the config file at path (a missing file is no error; NULL
 * path: none). 0; -ERR_CONFIG with a reason in err (a bad file, or no
 * URL anywhere); -ENOMEM. */
int cli_config_resolve(const char *flag_url, const char *flag_token,
		       const char *env_url, const char *env_token,
		       const char *path, struct cli_config *out, char *err,
		       size_t errlen);
void cli_config_fini(struct cli_config *c);

#endif
