/* SPDX-License-Identifier: MIT */
/* Dropping root after start: the program opens what needs root (state
 * directory, journal, log), then becomes an unprivileged user for good. */
#ifndef CMDBUS_AGENT_PRIVDROP_H
#define CMDBUS_AGENT_PRIVDROP_H

#include <stddef.h>

/* Becomes `user` (a name or a number) with `group` (NULL: the user's
 * primary group) and no supplementary groups, real, effective and saved
 * ids alike, then checks that root cannot be regained. 0, or -errno with
 * a sentence in err (unknown user or group, not root, a failed call). */
int privdrop(const char *user, const char *group, char *err, size_t errlen);

#endif
