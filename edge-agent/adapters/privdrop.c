/* SPDX-License-Identifier: MIT */
/* Dropping privileges for good: groups before the user (after setuid they
 * can no longer change), all three ids of each, and a check that root
 * cannot come back. */
#define _GNU_SOURCE

#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
privdrop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "user '%s' does not exist", user);
		return errno ? -errno : -ENOENT;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (group) {
		struct group *gr;

		errno = 0;
		gr = getgrnam(group);
		if (!gr) {
			snprintf(err, errlen, "group '%s' does not exist",
				 group);
			return errno ? -errno : -ENOENT;
		}
		gid = gr->gr_gid;
	}
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		int rc = -errno;
		snprintf(err, errlen, "cannot become %s:%u: %s", user,
			 (unsigned)gid, strerror(-rc));
		return rc;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after the drop");
		return -EPERM;
	}
	return 0;
}
