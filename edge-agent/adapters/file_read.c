/* SPDX-License-Identifier: MIT */
/* Bounded whole-file reads for the agent's configuration and catalog: the
 * size is checked before anything is allocated, and a read cut short by
 * a signal is resumed. */
#include "file_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int
file_read_whole(const char *path, size_t max, bool regular_only, char **out,
		size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd =
	    open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NOFOLLOW : 0));

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || (regular_only && !S_ISREG(st.st_mode))) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}
