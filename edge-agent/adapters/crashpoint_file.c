/* SPDX-License-Identifier: MIT */
/* Crash points of test builds: at a named point the agent reads the
 * arming file, and when it names this point removes it and kills itself
 * with SIGKILL, the way a power cut or the OOM killer would end it: no
 * handler, no flush, nothing after the point happens. */
#include "crashpoint_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

void
crashpoint_check(const char *path, const char *point, const char *id)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* not armed */
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return;
	if (buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	if (strcmp(buf, point) != 0)
		return;
	/* Whoever removes the file crashes: one arming, one crash. */
	if (unlink(path) != 0)
		return;
	log_warn("crashpoint.hit", "point=%s exec=%s", point, id);
	raise(SIGKILL);
}
