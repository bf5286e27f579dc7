/* SPDX-License-Identifier: MIT */
/* A database file of its own for a store test: a fresh directory under
 * /tmp, and its removal with the WAL files SQLite leaves beside it. */
#ifndef TEST_STORE_TMP_H
#define TEST_STORE_TMP_H

#include <stddef.h>

#include "common/log.h"

/* Makes /tmp/cmdbus-TAG-XXXXXX into dir and puts dir/d.db into path. */
void store_tmp_make(const char *tag, char *dir, size_t dirlen, char *path,
		    size_t pathlen);
/* Removes d.db, its -wal and -shm, and the directory. */
void store_tmp_remove(const char *dir);
/* A log sink that drops everything. */
void store_tmp_quiet(enum log_level level, const char *line, void *ud);

#endif
