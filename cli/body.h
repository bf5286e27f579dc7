/* SPDX-License-Identifier: MIT */
/* The POST /v1/jobs body of `cmdbus run` and `cmdbus exec`. */
#ifndef CMDBUS_CLI_BODY_H
#define CMDBUS_CLI_BODY_H

#include <stddef.h>

#include "args.h"

/* 0 with *out the caller's to free; -EINVAL with a reason in err (a
 * device list with an empty item, a malformed selector term, text that
 * is not UTF-8); -ENOMEM. */
int body_job_request(const struct cli_args *a, char **out, char *err,
		     size_t errlen);

#endif
