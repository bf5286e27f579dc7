/* SPDX-License-Identifier: MIT */
/* The journal file under the state directory. The file is grown ahead of
 * the records with zeros, JF_GROW bytes at a time, and records are written
 * over them: an fdatasync then has only data to write, not the inode of a
 * file whose size changed, which halves the I/O of most syncs. Every
 * durability point is an fdatasync (or fsync of the directory after a
 * rename), and any failure is returned, never retried here: the journal
 * decides. */
#include "journal_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How far ahead of the records the file is grown with zeros. */
#define JF_GROW (64u * 1024)

struct journal_file {
	char path[4096];
	char tmp[4096];
	char dir[4096];
	int fd;
	uint64_t end;	/* where the next record goes */
	uint64_t alloc; /* the file's size: zeros from end to here */
};

static int
write_at(int fd, const void *p, size_t n, uint64_t off)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = pwrite(fd, c, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int
jf_load(void *ud, char **buf, size_t *len)
{
	struct journal_file *f = ud;
	struct stat st;
	size_t got = 0;
	char *b;

	if (fstat(f->fd, &st) != 0)
		return -errno;
	/* The journal cuts what follows its last good record. */
	f->end = f->alloc = (uint64_t)st.st_size;
	b = malloc((size_t)st.st_size + 1);
	if (!b)
		return -ENOMEM;
	while (got < (size_t)st.st_size) {
		ssize_t n =
		    pread(f->fd, b + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			free(b);
			return rc;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	return 0;
}

static int
jf_append(void *ud, const void *p, size_t n)
{
	struct journal_file *f = ud;
	uint64_t grow;
	char *zeros;
	int rc;

	rc = write_at(f->fd, p, n, f->end);
	if (rc)
		return rc;
	f->end += n;
	if (f->end <= f->alloc)
		return 0;
	/* Past the zeros: room for the next records, made durable by the
	 * same sync as this one. */
	grow = (f->end / JF_GROW + 1) * JF_GROW;
	zeros = calloc(1, (size_t)(grow - f->end));
	rc = zeros ? write_at(f->fd, zeros, (size_t)(grow - f->end), f->end)
		   : -ENOMEM;
	free(zeros);
	/* Best effort: the record is written, and a disk too full for the
	 * room (some zeros may have made it) only means the next record
	 * grows the file again. */
	f->alloc = rc ? f->end : grow;
	return 0;
}

static int
jf_sync(void *ud)
{
	struct journal_file *f = ud;

	return fdatasync(f->fd) == 0 ? 0 : -errno;
}

static int
jf_truncate(void *ud, uint64_t size)
{
	struct journal_file *f = ud;

	if (ftruncate(f->fd, (off_t)size) != 0)
		return -errno;
	f->end = f->alloc = size;
	return fdatasync(f->fd) == 0 ? 0 : -errno;
}

static int
jf_read_at(void *ud, uint64_t off, void *p, size_t n)
{
	struct journal_file *f = ud;
	char *c = p;

	while (n > 0) {
		ssize_t r = pread(f->fd, c, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		c += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
jf_replace(void *ud, const void *p, size_t n)
{
	struct journal_file *f = ud;
	const char *c = p;
	size_t len = n;
	int fd, nfd, rc = 0;

	fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (n > 0 && rc == 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = w < 0 ? -errno : -EIO;
		else {
			c += w;
			n -= (size_t)w;
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(f->tmp, f->path) != 0)
		rc = -errno;
	if (rc) {
		unlink(f->tmp);
		return rc;
	}
	/* The rename is durable only once the directory is. */
	rc = sync_dir(f->dir);
	nfd = open(f->path, O_RDWR | O_CLOEXEC);
	if (nfd < 0)
		return -errno;
	close(f->fd);
	f->fd = nfd;
	f->end = f->alloc = len;
	return rc;
}

int
journal_file_open(const char *dir, struct journal_file **out,
		  struct journal_io *io, char *err, size_t errlen)
{
	struct journal_file *f;
	int rc;

	*out = NULL;
	if (!dir || dir[0] != '/') {
		snprintf(err, errlen, "state_dir must be an absolute path");
		return -EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	f->fd = -1;
	if ((size_t)snprintf(f->path, sizeof(f->path), "%s/journal", dir) >=
		sizeof(f->path) ||
	    (size_t)snprintf(f->tmp, sizeof(f->tmp), "%s/journal.tmp", dir) >=
		sizeof(f->tmp)) {
		free(f);
		snprintf(err, errlen, "state_dir is too long");
		return -ENAMETOOLONG;
	}
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		free(f);
		return rc;
	}
	f->fd = open(f->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", f->path, strerror(errno));
		free(f);
		return rc;
	}
	memset(io, 0, sizeof(*io));
	io->load = jf_load;
	io->append = jf_append;
	io->sync = jf_sync;
	io->truncate = jf_truncate;
	io->read_at = jf_read_at;
	io->replace = jf_replace;
	io->zero_tail = true;
	io->ud = f;
	*out = f;
	return 0;
}

void
journal_file_close(struct journal_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}
