/* SPDX-License-Identifier: MIT */
/* cmdbus-runas UID GID -- PROGRAM [ARG]...: the agent's run-as helper.
 * posix_spawn cannot change a child's ids, so a catalog action that names
 * a user is spawned through this program, which drops its supplementary
 * groups, sets the group and then the user, checks that root cannot be
 * regained, and executes the action's argv with the environment it got. */
#define _GNU_SOURCE

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"

#define EXIT_HELPER 127 /* like a shell's "command not found" */

static void
die(const char *what, int err)
{
	fprintf(stderr, "cmdbus-runas: %s: %s\n", what, strerror(err));
	exit(EXIT_HELPER);
}

int
main(int argc, char **argv)
{
	uint64_t uid, gid;
	gid_t g;

	if (argc < 5 || strcmp(argv[3], "--") != 0 ||
	    parse_u64(argv[1], 0, (uid_t)-2, &uid) != 0 ||
	    parse_u64(argv[2], 0, (gid_t)-2, &gid) != 0) {
		fprintf(stderr, "usage: cmdbus-runas UID GID -- PROGRAM "
				"[ARG]...\n");
		return EXIT_HELPER;
	}
	g = (gid_t)gid;
	/* Groups first: once the user is set, they can no longer change. */
	if (setgroups(1, &g) != 0)
		die("setgroups", errno);
	if (setresgid(g, g, g) != 0)
		die("setresgid", errno);
	if (setresuid((uid_t)uid, (uid_t)uid, (uid_t)uid) != 0)
		die("setresuid", errno);
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		die("dropping root", EPERM);
	/* The agent has looked PROGRAM up already when it has no '/'; the
	 * PATH of the environment it passed finds it the same way. */
	execvp(argv[4], argv + 4);
	die(argv[4], errno);
	return EXIT_HELPER;
}
