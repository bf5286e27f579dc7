/* SPDX-License-Identifier: MIT */
/* The CLI's commands. Each returns the process exit status (EXIT_*). */
#ifndef CMDBUS_CLI_COMMANDS_H
#define CMDBUS_CLI_COMMANDS_H

#include <stdbool.h>

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

#endif
