/* SPDX-License-Identifier: MIT */
/* The CLI's commands. Each returns the process exit status (EXIT_*). */
#ifndef CMDBUS_CLI_COMMANDS_H
#define CMDBUS_CLI_COMMANDS_H

#include <stdbool.h>
#include <stdio.h>

#include "api.h"
#include "args.h"

int cmd_run(const struct cli_ctx *c, const struct cli_args *a);
int cmd_jobs(const struct cli_ctx *c, const struct cli_args *a);
int cmd_devices(const struct cli_ctx *c, const struct cli_args *a);
int cmd_output(const struct cli_ctx *c, const struct cli_args *a);

/* Prints a job's executions as a table (with their ids when with_id). */
void cmd_print_executions(const struct cmdbus_jnode *job, bool with_id);
/* Writes an output view's streams: stdout to stdout, stderr to stderr. */
void cmd_print_output(const struct cmdbus_jnode *view);
/* An execution's error code (its own, else its result's), or NULL;
 * borrowed from the view. */
const char *cmd_exec_reason(const struct cmdbus_jnode *ex);
/* One line to f naming the devices the job's target found offline or
 * unknown when it was created; nothing when there are none. */
void cmd_print_targets_note(const struct cmdbus_jnode *job, FILE *f);

/* One call; with --json the answer is printed as received. */
int cmd_get_and_print(const struct cli_ctx *c, const char *method,
		      const char *path, struct cmdbus_jsonv **doc);
/* Reports an id that cannot go in a URL; EXIT_USAGE. */
int cmd_bad_id(const char *id);

#endif
