/* SPDX-License-Identifier: MIT */
/* Small files read whole and bounded (catalog files, the MQTT password,
 * trusted keys), so that a file grown by mistake cannot make the agent
 * allocate without bound. */
#ifndef CMDBUS_AGENT_FILE_READ_H
#define CMDBUS_AGENT_FILE_READ_H

#include <stdbool.h>
#include <stddef.h>

/* Reads path whole into *out (malloc'd, NUL-terminated, the caller's)
 * and its length into *len (when given). With `regular_only`, a symbolic
 * link or anything but a regular file is refused. 0; -EFBIG past `max`
 * bytes; -EINVAL (not a regular file); -ENOMEM; -errno of open(2). */
int file_read_whole(const char *path, size_t max, bool regular_only, char **out,
		    size_t *len);

#endif
