/* SPDX-License-Identifier: MIT */
/* The journal on a real file: created with its directory, read back
 * after a close, a torn tail cut from the file itself, and compaction
 * replacing the file so that later appends land in the new one. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "journal_file.h"

static char dir[256];

static int
setup(void **state)
{
	char base[] = "/tmp/cmdbus-jf-XXXXXX";

	assert_non_null(mkdtemp(base));
	/* A directory that does not exist yet: the adapter creates it. */
	snprintf(dir, sizeof(dir), "%s/state", base);
	return 0;
}

static int
teardown(void **state)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/journal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	unlink(path);
	rmdir(dir);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	return 0;
}

static void
open_journal(struct journal_file **f, struct journal *j, uint64_t compact_at)
{
	struct journal_io io;
	char err[160];

	assert_int_equal(journal_file_open(dir, f, &io, err, sizeof(err)), 0);
	assert_int_equal(journal_open(j, &io, compact_at), 0);
}

static off_t
file_size(void)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/journal", dir);
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void
survives_reopen_and_cuts_a_torn_tail(void **state)
{
	struct journal_file *f;
	struct journal j;
	struct stat st;
	char path[512], *msg = NULL;
	size_t len;
	off_t good;
	int fd;

	open_journal(&f, &j, 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(journal_finished(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA",
					  9000, "stored result", 13),
			 0);
	good = (off_t)j.size;
	journal_close(&j);
	journal_file_close(f);
	/* Grown ahead with zeros, which are no loss at the next open. */
	assert_true(file_size() > good);

	/* Half a record, as a crash during the write leaves it: over the
	 * zeros after the last record. */
	snprintf(path, sizeof(path), "%s/journal", dir);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "\x40\x00\x00\x00\x01\x02", 6, good), 6);
	close(fd);

	open_journal(&f, &j, 0);
	assert_int_equal(j.stats.dropped_tail, 6);
	assert_int_equal(file_size(), good);
	assert_int_equal(
	    journal_read_msg(&j, journal_find(&j, "01JAAAAAAAAAAAAAAAAAAAAAAA"),
			     &msg, &len),
	    0);
	assert_string_equal(msg, "stored result");
	free(msg);
	journal_close(&j);
	journal_file_close(f);
}

static void
compaction_replaces_the_file(void **state)
{
	struct journal_file *f;
	struct journal j;
	char id[32], path[512], *msg = NULL;
	size_t len;
	off_t before;

	open_journal(&f, &j, 1024);
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "01JID%021d", i);
		assert_int_equal(journal_finished(&j, id, i == 7 ? 90000 : 10,
						  "some result bytes", 17),
				 0);
	}
	before = file_size();
	assert_int_equal(journal_maintain(&j, 5000), 0);
	assert_int_equal(j.stats.compactions, 1);
	assert_true(file_size() < before / 4);
	snprintf(path, sizeof(path), "%s/journal.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	/* Appends go to the new file. */
	assert_int_equal(journal_finished(&j, "01JAFTERAFTERAFTERAFTER000",
					  90000, "after", 5),
			 0);
	journal_close(&j);
	journal_file_close(f);

	open_journal(&f, &j, 1024);
	assert_int_equal(j.n, 2);
	assert_int_equal(
	    journal_read_msg(&j, journal_find(&j, "01JID000000000000000000007"),
			     &msg, &len),
	    0);
	assert_string_equal(msg, "some result bytes");
	free(msg);
	assert_non_null(journal_find(&j, "01JAFTERAFTERAFTERAFTER000"));
	journal_close(&j);
	journal_file_close(f);
}

static void
relative_state_dir_is_refused(void **state)
{
	struct journal_file *f = NULL;
	struct journal_io io;
	char err[160];

	assert_int_equal(
	    journal_file_open("var/lib", &f, &io, err, sizeof(err)), -EINVAL);
	assert_null(f);
	assert_non_null(strstr(err, "absolute"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
		survives_reopen_and_cuts_a_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(compaction_replaces_the_file, setup,
					    teardown),
	    cmocka_unit_test(relative_state_dir_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
