/* SPDX-License-Identifier: MIT */
/* The file side of the crash points (core/crashpoint.h), compiled into
 * test builds only: a harness arms one crash by writing a point's name
 * into the file CMDBUS_CRASHPOINT_FILE names. */
#ifndef CMDBUS_AGENT_CRASHPOINT_FILE_H
#define CMDBUS_AGENT_CRASHPOINT_FILE_H

/* The environment variable that names the arming file. */
#define CRASHPOINT_ENV "CMDBUS_CRASHPOINT_FILE"

/* Reached point `point` of execution `id`: when the file at `path` holds
 * exactly that name (one trailing newline allowed) and this process is
 * the one that removes it, logs crashpoint.hit and dies by SIGKILL;
 * otherwise returns having changed nothing. One arming is one crash,
 * even when several agents share the file. */
void crashpoint_check(const char *path, const char *point, const char *id);

#endif
