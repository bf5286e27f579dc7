/* SPDX-License-Identifier: MIT */
/* Live output of one execution: GET /v1/executions/{id}/output?follow=1,
 * read as Server-Sent Events while it runs (output chunks written as they
 * come, until the end event), or as one output view from a server that
 * answers once. */
#ifndef CMDBUS_CLI_FOLLOW_H
#define CMDBUS_CLI_FOLLOW_H

#include "api.h"

/* Writes stdout chunks to stdout and stderr chunks to stderr; with
 * c->json, each event's data line (or the view) as received. EXIT_OK
 * once the execution ended, else as api_call. */
int follow_output(const struct cli_ctx *c, const char *exec_id);

#endif
