/* SPDX-License-Identifier: MIT */
/* Temporary database directories for the store tests (test_store_tmp.h). */
#include "test_store_tmp.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

void
store_tmp_make(const char *tag, char *dir, size_t dirlen, char *path,
	       size_t pathlen)
{
	snprintf(dir, dirlen, "/tmp/cmdbus-%s-XXXXXX", tag);
	assert_non_null(mkdtemp(dir));
	snprintf(path, pathlen, "%s/d.db", dir);
}

void
store_tmp_remove(const char *dir)
{
	static const char *const files[] = {"d.db", "d.db-wal", "d.db-shm"};
	char p[256];

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

void
store_tmp_quiet(enum log_level level, const char *line, void *ud)
{
	(void)level;
	(void)line;
	(void)ud;
}
